/* Query-string parsing; see query.h. */
#include "api/query.h"
#include "util/text.h"

#include <limits.h>
#include <strings.h>
#include <string.h>

static char *decode(const char *s, size_t n, arena *a, size_t *outn)
{
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? text_hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? text_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return NULL;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    if (memchr(out, '\0', o) || !text_utf8_valid(out, o))
        return NULL;
    *outn = o;
    return out;
}

int query_parse(const char *q, size_t n, arena *a, qparam *out, size_t cap, const char **bad)
{
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && q[end] != '&')
            end++;
        if (end > i) {
            if (count == cap) {
                *bad = "too many query parameters";
                return -1;
            }
            const char *eq = memchr(q + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (q + i)) : end - i;
            size_t nn, vn = 0;
            char *name = decode(q + i, klen, a, &nn);
            char *value = eq ? decode(eq + 1, end - (size_t)(eq + 1 - q), a, &vn) : arena_strdup(a, "");
            if (!name || !value) {
                *bad = "malformed percent-encoding or invalid UTF-8 in the query string";
                return -1;
            }
            out[count].name = name;
            out[count].value = value;
            out[count].value_len = vn;
            count++;
        }
        i = end + 1;
    }
    return (int)count;
}

bool query_int(const char *s, size_t n, long long min, long long max, long long *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n || n - i > 19)
        return false;
    /* accumulate negatively: -9223372036854775808 fits, its positive does not */
    long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int d = s[i] - '0';
        if (v < (LLONG_MIN + d) / 10)
            return false;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == LLONG_MIN)
            return false;
        v = -v;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* strtobool's words; the index parity is the value. */
static const char *const bool_words[] = {"n", "y", "no", "yes", "f", "t", "false", "true", "off", "on", "0", "1"};

bool query_bool(const char *s, size_t n, bool *out)
{
    for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++) {
        if (strlen(bool_words[i]) == n && strncasecmp(bool_words[i], s, n) == 0) {
            *out = i % 2 == 1;
            return true;
        }
    }
    return false;
}

/*
 * The streaming JSON writer behind every response body. It appends straight
 * into a bounded buf, tracks commas and nesting itself, and goes sticky-bad
 * (jw_ok false) on the first misuse or when the buf's ceiling is hit, so
 * callers write a whole document and check once at the end.
 *
 * This writes every response, so appends are few: a value's comma goes out
 * with the value, a short string that needs no escaping goes out with its
 * quotes (and a key with its colon) in one append, and longer strings are
 * copied in runs of bytes that need no escaping (printable ASCII and
 * well-formed UTF-8 other than U+2028/U+2029). Ill-formed UTF-8 becomes
 * U+FFFD, one per maximal subpart (Unicode 15, section 3.9, "U+FFFD
 * Substitution of Maximal Subparts"), so the output is always valid UTF-8.
 *
 * Numbers: integers by hand; doubles with few decimals (2.5, 19.99) by an
 * exact fast path, the rest by the shortest of %.15g/%.16g/%.17g that reads
 * back. NaN and infinities, which JSON cannot hold, are null.
 */
#include "json/jw.h"
#include "util/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw *w, buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

bool jw_ok(const jw *w) { return !w->err; }

static void put(jw *w, const void *p, size_t n)
{
    if (!buf_append(w->out, p, n))
        w->err = true;
}

static bool level_is_obj(const jw *w) { return (w->in_obj >> (w->depth - 1)) & 1; }

/* Everything a value needs before its first byte: the key check in an
 * object, the one-value rule at the top, the comma in an array. Returns
 * how many comma bytes (0 or 1) the caller writes in front of the value,
 * or -1 (and the writer bad) when a value may not go here. The comma is
 * left to the caller so that it goes out in the same append as the value. */
static int value_start(jw *w)
{
    if (w->err)
        return -1;
    if (w->depth == 0) {
        if (w->done)
            goto bad;
        return 0;
    }
    if (level_is_obj(w)) {
        if (!w->after_key)
            goto bad;
        w->after_key = false;
        return 0;
    }
    int d = w->depth - 1;
    int comma = w->need_comma[d];
    w->need_comma[d] = true;
    return comma;
bad:
    w->err = true;
    return -1;
}

/* A value finished: at the top it completes the document. */
static void value_end(jw *w)
{
    if (w->depth == 0)
        w->done = true;
}

/* ---- containers ------------------------------------------------------ */

static void begin(jw *w, bool obj)
{
    int comma = value_start(w);
    if (comma < 0)
        return;
    if (w->depth >= RD_JW_MAX_DEPTH) {
        w->err = true;
        return;
    }
    int d = w->depth++;
    w->need_comma[d] = false;
    if (obj)
        w->in_obj |= (uint64_t)1 << d;
    else
        w->in_obj &= ~((uint64_t)1 << d);
    put(w, (obj ? ",{" : ",[") + 1 - comma, 1 + (size_t)comma);
}

static void end(jw *w, bool obj)
{
    if (w->err)
        return;
    if (w->depth == 0 || level_is_obj(w) != obj || w->after_key) {
        w->err = true;
        return;
    }
    w->depth--;
    put(w, obj ? "}" : "]", 1);
    value_end(w);
}

void jw_obj_begin(jw *w) { begin(w, true); }
void jw_obj_end(jw *w) { end(w, true); }
void jw_arr_begin(jw *w) { begin(w, false); }
void jw_arr_end(jw *w) { end(w, false); }

/* ---- strings --------------------------------------------------------- */

/* 1: the byte goes out as is. 0: a quote, a backslash, a control character
 * (escaped) or a byte >= 0x80 (checked as UTF-8). */
static const unsigned char plain[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x80 - 0xff: all 0 */
};

/* The end of the run at p that goes out unchanged: printable ASCII other
 * than '"' and '\', and well-formed multibyte sequences other than U+2028
 * and U+2029 (E2 80 A8/A9), which JavaScript cannot take raw. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
    for (;;) {
        while (p < end && plain[*p])
            p++;
        if (p == end || *p < 0x80)
            return p;
        size_t skip, len = text_utf8_seq(p, (size_t)(end - p), &skip);
        if (!len || (p[0] == 0xE2 && p[1] == 0x80 && (p[2] & 0xFE) == 0xA8))
            return p;
        p += len;
    }
}

static const char hex[] = "0123456789abcdef";

/* The escape for an ASCII byte that is not plain. */
static void put_escape(jw *w, unsigned char c)
{
    char e[6] = {'\\', 0};
    size_t n = 2;
    switch (c) {
    case '"': e[1] = '"'; break;
    case '\\': e[1] = '\\'; break;
    case '\b': e[1] = 'b'; break;
    case '\f': e[1] = 'f'; break;
    case '\n': e[1] = 'n'; break;
    case '\r': e[1] = 'r'; break;
    case '\t': e[1] = 't'; break;
    default:
        memcpy(e + 1, "u00", 3);
        e[4] = hex[c >> 4];
        e[5] = hex[c & 15];
        n = 6;
        break;
    }
    put(w, e, n);
}

/* Strings up to this long that need no escaping go out in one append,
 * with their comma, quotes and colon. */
#define SHORT_STR 240

/* comma: 0 or 1 comma bytes before the string; colon: a ':' after it. */
static void put_string(jw *w, int comma, const char *str, size_t n, bool colon)
{
    const unsigned char *p = (const unsigned char *)str, *end = p + n;
    const unsigned char *q = plain_run(p, end);
    if (q == end && n <= SHORT_STR) {
        char tmp[SHORT_STR + 4];
        size_t o = 0;
        if (comma)
            tmp[o++] = ',';
        tmp[o++] = '"';
        memcpy(tmp + o, str, n);
        o += n;
        tmp[o++] = '"';
        if (colon)
            tmp[o++] = ':';
        put(w, tmp, o);
        return;
    }
    put(w, &",\""[1 - comma], 1 + (size_t)comma);
    for (;;) {
        if (q > p)
            put(w, p, (size_t)(q - p));
        p = q;
        if (p == end)
            break;
        if (*p < 0x80) {
            put_escape(w, *p++);
        } else {
            size_t skip, len = text_utf8_seq(p, (size_t)(end - p), &skip);
            if (len) {
                put(w, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                p += len;
            } else {
                put(w, "\xEF\xBF\xBD", 3);
                p += skip;
            }
        }
        q = plain_run(p, end);
    }
    put(w, "\":", colon ? 2 : 1);
}

void jw_key(jw *w, const char *k, size_t n)
{
    if (w->err)
        return;
    if (w->depth == 0 || !level_is_obj(w) || w->after_key) {
        w->err = true;
        return;
    }
    int d = w->depth - 1;
    int comma = w->need_comma[d];
    w->need_comma[d] = true;
    put_string(w, comma, k, n, true);
    w->after_key = true;
}

void jw_keyz(jw *w, const char *k) { jw_key(w, k, strlen(k)); }

void jw_str(jw *w, const char *s, size_t n)
{
    int comma = value_start(w);
    if (comma < 0)
        return;
    put_string(w, comma, s, n, false);
    value_end(w);
}

void jw_strz(jw *w, const char *s) { jw_str(w, s, strlen(s)); }

/* ---- scalars --------------------------------------------------------- */

static void scalar(jw *w, const char *s, size_t n)
{
    int comma = value_start(w);
    if (comma < 0)
        return;
    if (comma && n < 32) {
        char tmp[33] = {','};
        memcpy(tmp + 1, s, n);
        put(w, tmp, n + 1);
    } else {
        if (comma)
            put(w, ",", 1);
        put(w, s, n);
    }
    value_end(w);
}

void jw_null(jw *w) { scalar(w, "null", 4); }

void jw_bool(jw *w, bool v) { scalar(w, v ? "true" : "false", v ? 4 : 5); }

/* The decimal digits of v with a '.' before the last `point` of them, at
 * least one digit before it. out holds 24 bytes; returns the length. */
static size_t put_decimal(char *out, int64_t v, int point)
{
    char rev[24];
    int nd = 0;
    /* Work in unsigned so INT64_MIN negates without overflow. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        rev[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (nd <= point)
        rev[nd++] = '0';
    size_t o = 0;
    if (v < 0)
        out[o++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        out[o++] = rev[i];
        if (i == point && point > 0)
            out[o++] = '.';
    }
    return o;
}

void jw_int(jw *w, int64_t v)
{
    char tmp[24];
    scalar(w, tmp, put_decimal(tmp, v, 0));
}

/*
 * Fast path for the usual case, a number with few decimals (2.5, 0.1,
 * 19.99): if v * 10^k is a whole number m below 10^15 for some k <= 9 and
 * m / 10^k is v again, then the decimal m * 10^-k reads back as v (m and
 * 10^k are exact doubles, and division and strtod both round correctly),
 * in at most 15 digits. Returns 0 when no such k exists.
 */
static size_t short_decimal(char *out, double v)
{
    static const double p10[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (v == 0)
        return 0; /* 0 and -0: %g */
    for (int k = 0; k < 10; k++) {
        double m = v * p10[k];
        if (fabs(m) >= 1e15)
            return 0;
        if (m != trunc(m) || m / p10[k] != v)
            continue;
        int64_t i = (int64_t)m;
        while (k > 0 && i % 10 == 0) { /* same value, fewer digits */
            i /= 10;
            k--;
        }
        return put_decimal(out, i, k);
    }
    return 0;
}

/* The shortest %g form (15, 16 or 17 significant digits) that reads back
 * as v; 17 always does. %g gives digits, '-', 'e', '+' and the locale's
 * decimal point, which is '.' because restd never calls setlocale. */
static size_t shortest(char *out, size_t cap, double v)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, cap, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}

void jw_num(jw *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    char tmp[32];
    size_t n = short_decimal(tmp, v);
    if (!n)
        n = shortest(tmp, sizeof tmp, v);
    scalar(w, tmp, n);
}

void jw_raw(jw *w, const char *json, size_t n)
{
    if (n == 0) { /* nothing is not a JSON value */
        w->err = true;
        return;
    }
    scalar(w, json, n);
}

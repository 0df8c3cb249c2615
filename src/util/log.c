/* logfmt logging to stderr; see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

log_level log_threshold = LOG_INFO;

static const char *const names[] = {
    [LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};
_Static_assert(sizeof names / sizeof names[0] == LOG__COUNT, "one name per level");

bool log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i < LOG__COUNT; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (log_level)i;
            return true;
        }
    }
    return false;
}

static size_t stamp(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(out + n, cap - n, ".%06ldZ", ts.tv_nsec / 1000);
    return n + (k > 0 ? (size_t)k : 0);
}

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(2, p, n);
        if (k <= 0)
            return; /* stderr gone: nothing to report to */
        p += k;
        n -= (size_t)k;
    }
}

/* Per-thread buffer of whole request lines. */
#define LOG_BUF 16384
static _Thread_local char tbuf[LOG_BUF];
static _Thread_local size_t tlen;

void log_flush(void)
{
    if (tlen) {
        write_all(tbuf, tlen);
        tlen = 0;
    }
}

void log_write(log_level lv, const char *fmt, ...)
{
    char line[2048];
    size_t n = stamp(line, sizeof line);
    int k = snprintf(line + n, sizeof line - n, " level=%s ", names[lv]);
    n += k > 0 ? (size_t)k : 0;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    n = k > 0 && (size_t)k < sizeof line - n ? n + (size_t)k : sizeof line - 2;
    line[n++] = '\n';
    log_flush(); /* keep this thread's lines in order */
    write_all(line, n);
}

/* Append s as a logfmt value: bare when it is plain, otherwise quoted
 * with quotes, backslashes and non-printable bytes escaped, so a hostile
 * path cannot forge a line or a key. */
static size_t put_value(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    bool plain = n > 0;
    for (size_t i = 0; i < n && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
    }
    if (plain && n < cap) {
        memcpy(out, s, n);
        return n;
    }
    if (cap < 3)
        return 0;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

void log_request(const char *method, size_t mlen, const char *path, size_t plen, int status,
                 long long us, size_t bytes)
{
    if (log_threshold < LOG_INFO)
        return;
    char line[1400];
    size_t n = stamp(line, sizeof line);
    n += (size_t)snprintf(line + n, sizeof line - n, " level=info msg=request method=");
    n += put_value(line + n, 32, method, mlen < 16 ? mlen : 16);
    memcpy(line + n, " path=", 6);
    n += 6;
    n += put_value(line + n, 1100, path, plen);
    int k = snprintf(line + n, sizeof line - n, " status=%d us=%lld bytes=%zu\n", status, us, bytes);
    n += k > 0 ? (size_t)k : 0;
    if (tlen + n > LOG_BUF)
        log_flush();
    memcpy(tbuf + tlen, line, n);
    tlen += n;
}

/*
 * Dates and datetimes between the wire (the app's date_style) and storage
 * (canonical ISO 8601 text in UTC that sorts as it reads). Parsers are
 * hand-written over (pointer, length) and check the calendar: years
 * 0001-9999, real month lengths with Gregorian leap years, hours 0-23,
 * minutes and seconds 0-59 (no leap seconds). Zone offsets are folded into
 * UTC, carrying into the day, month and year.
 */
#include "util/dt.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/* A broken-down UTC instant. */
typedef struct dtv {
    int y, mo, d, h, mi, s, us;
} dtv;

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int mo)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mo == 2 && is_leap(y) ? 29 : days[mo - 1];
}

/* n ASCII digits at s as a number; false if any is not a digit. */
static bool num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool date_ok(const dtv *t)
{
    return t->y >= 1 && t->y <= 9999 && t->mo >= 1 && t->mo <= 12 && t->d >= 1 &&
           t->d <= month_days(t->y, t->mo);
}

static bool time_ok(const dtv *t) { return t->h <= 23 && t->mi <= 59 && t->s <= 59; }

/* "YYYY-MM-DD" at s (10 bytes available). */
static bool iso_date(const char *s, dtv *t)
{
    return num(s, 4, &t->y) && s[4] == '-' && num(s + 5, 2, &t->mo) && s[7] == '-' &&
           num(s + 8, 2, &t->d) && date_ok(t);
}

/* "HH:MM:SS" at s (8 bytes available). */
static bool iso_time(const char *s, dtv *t)
{
    return num(s, 2, &t->h) && s[2] == ':' && num(s + 3, 2, &t->mi) && s[5] == ':' &&
           num(s + 6, 2, &t->s) && time_ok(t);
}

/* "yyyyMMdd" / "HHmmss" at s. */
static bool compact_date(const char *s, dtv *t)
{
    return num(s, 4, &t->y) && num(s + 4, 2, &t->mo) && num(s + 6, 2, &t->d) && date_ok(t);
}

static bool compact_time(const char *s, dtv *t)
{
    return num(s, 2, &t->h) && num(s + 2, 2, &t->mi) && num(s + 4, 2, &t->s) && time_ok(t);
}

/* Move t by minutes (|minutes| < one day), carrying into the date. */
static bool shift(dtv *t, int minutes)
{
    int m = t->h * 60 + t->mi - minutes;
    if (m < 0) {
        m += 1440;
        if (--t->d < 1) {
            if (--t->mo < 1) {
                t->mo = 12;
                t->y--;
            }
            t->d = month_days(t->y, t->mo); /* year 0 is caught below */
        }
    } else if (m >= 1440) {
        m -= 1440;
        if (++t->d > month_days(t->y, t->mo)) {
            t->d = 1;
            if (++t->mo > 12) {
                t->mo = 1;
                t->y++;
            }
        }
    }
    t->h = m / 60;
    t->mi = m % 60;
    return t->y >= 1 && t->y <= 9999;
}

/*
 * ISO 8601 "YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,9}][Z|z|+hh:mm|-hh:mm]": fraction
 * truncated to microseconds, no zone taken as UTC, offsets folded into UTC.
 */
static bool iso_datetime(const char *s, size_t n, dtv *t)
{
    if (n < 19 || !iso_date(s, t) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !iso_time(s + 11, t))
        return false;
    size_t i = 19;
    t->us = 0;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 9) {
            if (i - start < 6)
                t->us = t->us * 10 + (s[i] - '0');
            i++;
        }
        size_t k = i - start;
        if (k == 0)
            return false;
        for (; k < 6; k++)
            t->us *= 10;
    }
    if (i == n)
        return true;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
        return true;
    if ((s[i] == '+' || s[i] == '-') && i + 6 == n && s[i + 3] == ':') {
        int oh, om;
        if (!num(s + i + 1, 2, &oh) || !num(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        int off = oh * 60 + om;
        return shift(t, s[i] == '+' ? off : -off);
    }
    return false;
}

/* ---- output ------------------------------------------------------------ */

static char *put(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* "YYYY-MM-DD", no NUL. */
static char *put_date(char *p, const dtv *t)
{
    p = put(p, t->y, 4);
    *p++ = '-';
    p = put(p, t->mo, 2);
    *p++ = '-';
    return put(p, t->d, 2);
}

/* "HH:MM:SS", no NUL. */
static char *put_time(char *p, const dtv *t)
{
    p = put(p, t->h, 2);
    *p++ = ':';
    p = put(p, t->mi, 2);
    *p++ = ':';
    return put(p, t->s, 2);
}

/* The canonical datetime and its NUL: 28 bytes. */
static void put_canon(char *out, const dtv *t)
{
    char *p = put_date(out, t);
    *p++ = 'T';
    p = put_time(p, t);
    *p++ = '.';
    p = put(p, t->us, 6);
    *p++ = 'Z';
    *p = '\0';
}

/* ---- API ---------------------------------------------------------------- */

bool dt_parse_date(const char *s, size_t n, date_style ds, char *out)
{
    dtv t = {0};
    if (ds == DS_COMPACT) {
        if (n != 8 || !compact_date(s, &t))
            return false;
    } else if (n != DT_DATE_LEN || !iso_date(s, &t)) {
        return false;
    }
    *put_date(out, &t) = '\0';
    return true;
}

bool dt_parse_datetime(const char *s, size_t n, date_style ds, char *out)
{
    dtv t = {0};
    if (ds == DS_COMPACT) {
        if (n != 14 || !compact_date(s, &t) || !compact_time(s + 8, &t))
            return false;
    } else if (!iso_datetime(s, n, &t)) {
        return false;
    }
    put_canon(out, &t);
    return true;
}

size_t dt_format_date(const char *canon, size_t n, date_style ds, char *out)
{
    dtv t = {0};
    if (n != DT_DATE_LEN || !iso_date(canon, &t))
        return 0;
    if (ds == DS_COMPACT) {
        char *p = put(out, t.y, 4);
        p = put(p, t.mo, 2);
        p = put(p, t.d, 2);
        *p = '\0';
        return 8;
    }
    memcpy(out, canon, DT_DATE_LEN);
    out[DT_DATE_LEN] = '\0';
    return DT_DATE_LEN;
}

size_t dt_format_datetime(const char *canon, size_t n, date_style ds, char *out)
{
    dtv t = {0};
    if (n != DT_DATETIME_LEN || !iso_date(canon, &t) || canon[10] != 'T' || !iso_time(canon + 11, &t) ||
        canon[19] != '.' || !num(canon + 20, 6, &t.us) || canon[26] != 'Z')
        return 0;
    switch (ds) {
    case DS_COMPACT: {
        char *p = put(out, t.y, 4);
        p = put(p, t.mo, 2);
        p = put(p, t.d, 2);
        p = put(p, t.h, 2);
        p = put(p, t.mi, 2);
        p = put(p, t.s, 2);
        *p = '\0';
        return 14;
    }
    case DS_NAIVE:
        memcpy(out, canon, 19);
        out[19] = '\0';
        return 19;
    default:
        memcpy(out, canon, DT_DATETIME_LEN);
        out[DT_DATETIME_LEN] = '\0';
        return DT_DATETIME_LEN;
    }
}

static void from_epoch(time_t sec, int us, char *out)
{
    struct tm tm;
    gmtime_r(&sec, &tm);
    dtv t = {
        .y = tm.tm_year + 1900,
        .mo = tm.tm_mon + 1,
        .d = tm.tm_mday,
        .h = tm.tm_hour,
        .mi = tm.tm_min,
        .s = tm.tm_sec > 59 ? 59 : tm.tm_sec,
        .us = us,
    };
    put_canon(out, &t);
}

void dt_now(char *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    from_epoch(ts.tv_sec, (int)(ts.tv_nsec / 1000), out);
}

bool dt_add_seconds(const char *canon, long long secs, char *out)
{
    dtv t;
    if (strlen(canon) != DT_DATETIME_LEN || !iso_datetime(canon, DT_DATETIME_LEN, &t))
        return false;
    struct tm tm = {.tm_year = t.y - 1900, .tm_mon = t.mo - 1, .tm_mday = t.d,
                    .tm_hour = t.h, .tm_min = t.mi, .tm_sec = t.s};
    long long sec = (long long)timegm(&tm) + secs;
    /* stay inside years 0001-9999 */
    if (sec < -62135596800LL || sec > 253402300799LL)
        return false;
    from_epoch((time_t)sec, t.us, out);
    return true;
}

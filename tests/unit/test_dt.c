/* Unit tests for dates and datetimes (src/util/dt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/dt.h"

/* Parse s as a date in style ds; the canonical text, or NULL when rejected. */
static const char *pd(const char *s, date_style ds)
{
    static char out[DT_DATE_LEN + 1 + 8];
    memset(out, '#', sizeof out);
    if (!dt_parse_date(s, strlen(s), ds, out))
        return NULL;
    assert_int_equal(strlen(out), DT_DATE_LEN);
    return out;
}

static const char *pdt(const char *s, date_style ds)
{
    static char out[DT_DATETIME_LEN + 1 + 8];
    memset(out, '#', sizeof out);
    if (!dt_parse_datetime(s, strlen(s), ds, out))
        return NULL;
    assert_int_equal(strlen(out), DT_DATETIME_LEN);
    return out;
}

static const char *fd(const char *canon, date_style ds)
{
    static char out[32];
    size_t n = dt_format_date(canon, strlen(canon), ds, out);
    if (!n)
        return NULL;
    assert_int_equal(strlen(out), n);
    return out;
}

static const char *fdt(const char *canon, date_style ds)
{
    static char out[32];
    size_t n = dt_format_datetime(canon, strlen(canon), ds, out);
    if (!n)
        return NULL;
    assert_int_equal(strlen(out), n);
    return out;
}

#define EQ(got, want) assert_string_equal(got, want)

static void test_date_iso(void **state)
{
    for (date_style ds = DS_ISO8601; ds <= DS_NAIVE; ds++) {
        EQ(pd("2026-03-01", ds), "2026-03-01");
        EQ(pd("0001-01-01", ds), "0001-01-01");
        EQ(pd("9999-12-31", ds), "9999-12-31");
        assert_null(pd("0000-01-01", ds));
        assert_null(pd("2026-13-01", ds));
        assert_null(pd("2026-00-10", ds));
        assert_null(pd("2026-01-00", ds));
        assert_null(pd("2026-01-32", ds));
        assert_null(pd("2026-04-31", ds));
        assert_null(pd("2026-3-01", ds));
        assert_null(pd("2026-03-1", ds));
        assert_null(pd("2026/03/01", ds));
        assert_null(pd("20260301", ds));
        assert_null(pd("2026-03-01T00:00:00Z", ds));
        assert_null(pd("2026-03-01 ", ds));
        assert_null(pd(" 2026-03-01", ds));
        assert_null(pd("+2026-03-01", ds));
        assert_null(pd("2026-0a-01", ds));
        assert_null(pd("", ds));
        assert_null(pd("-001-01-01", ds));
    }
}

static void test_leap_years(void **state)
{
    EQ(pd("2024-02-29", DS_ISO8601), "2024-02-29");
    EQ(pd("2000-02-29", DS_ISO8601), "2000-02-29"); /* divisible by 400 */
    EQ(pd("0004-02-29", DS_ISO8601), "0004-02-29");
    assert_null(pd("1900-02-29", DS_ISO8601)); /* divisible by 100 */
    assert_null(pd("2023-02-29", DS_ISO8601));
    assert_null(pd("2024-02-30", DS_ISO8601));
    EQ(pd("20240229", DS_COMPACT), "2024-02-29");
    assert_null(pd("21000229", DS_COMPACT));
    EQ(pdt("2024-02-29T12:00:00Z", DS_ISO8601), "2024-02-29T12:00:00.000000Z");
    assert_null(pdt("2023-02-29T12:00:00Z", DS_ISO8601));
}

static void test_date_compact(void **state)
{
    EQ(pd("20260301", DS_COMPACT), "2026-03-01");
    EQ(pd("00010101", DS_COMPACT), "0001-01-01");
    assert_null(pd("2026-03-01", DS_COMPACT));
    assert_null(pd("2026031", DS_COMPACT));
    assert_null(pd("202603011", DS_COMPACT));
    assert_null(pd("20261301", DS_COMPACT));
    assert_null(pd("20260431", DS_COMPACT));
    assert_null(pd("00000101", DS_COMPACT));
    assert_null(pd("2026030x", DS_COMPACT));
}

static void test_datetime_iso(void **state)
{
    for (date_style ds = DS_ISO8601; ds <= DS_NAIVE; ds++) {
        EQ(pdt("2026-03-01T14:05:09Z", ds), "2026-03-01T14:05:09.000000Z");
        EQ(pdt("2026-03-01T14:05:09z", ds), "2026-03-01T14:05:09.000000Z");
        EQ(pdt("2026-03-01t14:05:09Z", ds), "2026-03-01T14:05:09.000000Z");
        EQ(pdt("2026-03-01 14:05:09", ds), "2026-03-01T14:05:09.000000Z"); /* naive = UTC */
        EQ(pdt("2026-03-01T14:05:09", ds), "2026-03-01T14:05:09.000000Z");
        EQ(pdt("2026-03-01T14:05:09.1Z", ds), "2026-03-01T14:05:09.100000Z");
        EQ(pdt("2026-03-01T14:05:09.123456Z", ds), "2026-03-01T14:05:09.123456Z");
        EQ(pdt("2026-03-01T14:05:09.123456789Z", ds), "2026-03-01T14:05:09.123456Z"); /* truncated */
        EQ(pdt("2026-03-01T14:05:09.999999999", ds), "2026-03-01T14:05:09.999999Z");
        EQ(pdt("2026-03-01T00:00:00+00:00", ds), "2026-03-01T00:00:00.000000Z");
        EQ(pdt("2026-03-01T00:00:00-00:00", ds), "2026-03-01T00:00:00.000000Z");
        EQ(pdt("2026-03-01T23:59:59.5Z", ds), "2026-03-01T23:59:59.500000Z");
        assert_null(pdt("2026-03-01T14:05:09.1234567890Z", ds)); /* 10 digits */
        assert_null(pdt("2026-03-01T14:05:09.Z", ds));
        assert_null(pdt("2026-03-01T14:05:09.", ds));
        assert_null(pdt("2026-03-01T24:00:00Z", ds));
        assert_null(pdt("2026-03-01T23:60:00Z", ds));
        assert_null(pdt("2026-03-01T23:59:60Z", ds)); /* no leap seconds */
        assert_null(pdt("2026-03-01T1:05:09Z", ds));
        assert_null(pdt("2026-03-01T14:05Z", ds));
        assert_null(pdt("2026-03-01T14:05:09ZZ", ds));
        assert_null(pdt("2026-03-01T14:05:09 Z", ds));
        assert_null(pdt("2026-03-01T14:05:09+0100", ds));
        assert_null(pdt("2026-03-01T14:05:09+01", ds));
        assert_null(pdt("2026-03-01T14:05:09+01:00Z", ds));
        assert_null(pdt("2026-03-01T14:05:09+24:00", ds));
        assert_null(pdt("2026-03-01T14:05:09+01:60", ds));
        assert_null(pdt("2026-03-01T14:05:09+0a:00", ds));
        assert_null(pdt("2026-03-01X14:05:09Z", ds));
        assert_null(pdt("2026-03-01", ds));
        assert_null(pdt("2026-02-30T00:00:00Z", ds));
        assert_null(pdt("20260301140509", ds));
        assert_null(pdt("", ds));
        assert_null(pdt("garbage garbage garbage", ds));
    }
}

static void test_offsets(void **state)
{
    EQ(pdt("2026-03-01T14:05:09+02:00", DS_ISO8601), "2026-03-01T12:05:09.000000Z");
    EQ(pdt("2026-03-01T14:05:09-05:30", DS_ISO8601), "2026-03-01T19:35:09.000000Z");
    EQ(pdt("2026-03-01T14:05:09.25+05:45", DS_ISO8601), "2026-03-01T08:20:09.250000Z");
    /* Backwards over a day, a month (leap and not), a year. */
    EQ(pdt("2026-03-10T01:00:00+02:00", DS_ISO8601), "2026-03-09T23:00:00.000000Z");
    EQ(pdt("2024-03-01T00:30:00+01:00", DS_ISO8601), "2024-02-29T23:30:00.000000Z");
    EQ(pdt("2023-03-01T00:30:00+01:00", DS_ISO8601), "2023-02-28T23:30:00.000000Z");
    EQ(pdt("2026-05-01T00:00:00+00:01", DS_ISO8601), "2026-04-30T23:59:00.000000Z");
    EQ(pdt("2026-01-01T00:00:00+14:00", DS_ISO8601), "2025-12-31T10:00:00.000000Z");
    /* Forwards over a day, a month, a year. */
    EQ(pdt("2026-03-09T23:00:00-02:00", DS_ISO8601), "2026-03-10T01:00:00.000000Z");
    EQ(pdt("2024-02-28T23:00:00-02:00", DS_ISO8601), "2024-02-29T01:00:00.000000Z");
    EQ(pdt("2024-02-29T23:00:00-02:00", DS_ISO8601), "2024-03-01T01:00:00.000000Z");
    EQ(pdt("2026-04-30T23:59:59-00:01", DS_ISO8601), "2026-05-01T00:00:59.000000Z");
    EQ(pdt("2025-12-31T23:00:00-12:00", DS_ISO8601), "2026-01-01T11:00:00.000000Z");
    EQ(pdt("2026-01-01T00:00:00-23:59", DS_NAIVE), "2026-01-01T23:59:00.000000Z");
    /* Off the ends of the calendar. */
    assert_null(pdt("0001-01-01T00:00:00+01:00", DS_ISO8601));
    EQ(pdt("0001-01-01T01:00:00+01:00", DS_ISO8601), "0001-01-01T00:00:00.000000Z");
    assert_null(pdt("9999-12-31T23:00:00-01:00", DS_ISO8601));
    EQ(pdt("9999-12-31T22:59:59-01:00", DS_ISO8601), "9999-12-31T23:59:59.000000Z");
}

static void test_datetime_compact(void **state)
{
    EQ(pdt("20260301140509", DS_COMPACT), "2026-03-01T14:05:09.000000Z");
    EQ(pdt("00010101000000", DS_COMPACT), "0001-01-01T00:00:00.000000Z");
    EQ(pdt("99991231235959", DS_COMPACT), "9999-12-31T23:59:59.000000Z");
    assert_null(pdt("2026-03-01T14:05:09Z", DS_COMPACT));
    assert_null(pdt("20260301", DS_COMPACT));
    assert_null(pdt("2026030114050", DS_COMPACT));
    assert_null(pdt("202603011405090", DS_COMPACT));
    assert_null(pdt("20260301240000", DS_COMPACT));
    assert_null(pdt("20260301236000", DS_COMPACT));
    assert_null(pdt("20260301235960", DS_COMPACT));
    assert_null(pdt("20260230000000", DS_COMPACT));
    assert_null(pdt("2026030114050Z", DS_COMPACT));
}

static void test_format(void **state)
{
    EQ(fd("2026-03-01", DS_ISO8601), "2026-03-01");
    EQ(fd("2026-03-01", DS_NAIVE), "2026-03-01");
    EQ(fd("2026-03-01", DS_COMPACT), "20260301");
    const char *c = "2026-03-01T14:05:09.123456Z";
    EQ(fdt(c, DS_ISO8601), c);
    EQ(fdt(c, DS_NAIVE), "2026-03-01T14:05:09");
    EQ(fdt(c, DS_COMPACT), "20260301140509");
    /* Not canonical: 0. */
    assert_null(fd("2026-3-01", DS_ISO8601));
    assert_null(fd("20260301", DS_COMPACT));
    assert_null(fd("2026-02-30", DS_ISO8601));
    assert_null(fd("", DS_ISO8601));
    assert_null(fdt("2026-03-01T14:05:09Z", DS_ISO8601));
    assert_null(fdt("2026-03-01T14:05:09.123456+00:00", DS_ISO8601));
    assert_null(fdt("2026-03-01 14:05:09.123456Z", DS_ISO8601));
    assert_null(fdt("2026-03-01T14:05:09.12345xZ", DS_ISO8601));
    assert_null(fdt("2026-03-01T25:05:09.123456Z", DS_NAIVE));
    assert_null(fdt("2026-03-01T14:05:09.123456z", DS_COMPACT));
    assert_null(fdt("2026-03-01", DS_ISO8601));
    /* Length is taken from n, not from a NUL. */
    char out[32];
    assert_int_equal(dt_format_date("2026-03-01XYZ", 10, DS_COMPACT, out), 8);
    EQ(out, "20260301");
    assert_int_equal(dt_format_date("2026-03-01", 9, DS_ISO8601, out), 0);
}

/* Wire -> canonical -> wire is the identity for each style's own output. */
static void test_round_trip(void **state)
{
    const char *canon[] = {"0001-01-01T00:00:00.000000Z", "2024-02-29T23:59:59.999999Z",
                           "9999-12-31T23:59:59.000000Z", "1970-01-01T00:00:00.000001Z"};
    for (size_t i = 0; i < sizeof canon / sizeof *canon; i++) {
        EQ(pdt(fdt(canon[i], DS_ISO8601), DS_ISO8601), canon[i]);
        char wire[32];
        strcpy(wire, fdt(canon[i], DS_COMPACT));
        const char *back = pdt(wire, DS_COMPACT);
        assert_memory_equal(back, canon[i], 19); /* compact drops the fraction */
        strcpy(wire, fdt(canon[i], DS_NAIVE));
        back = pdt(wire, DS_NAIVE);
        assert_memory_equal(back, canon[i], 19);
    }
    /* Every day of four years, in both date styles. */
    for (int y = 1999; y <= 2002; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 31; d++) {
                char iso[16], compact[16];
                snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, d);
                snprintf(compact, sizeof compact, "%04d%02d%02d", y, m, d);
                struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
                time_t t = timegm(&tm);
                struct tm back;
                gmtime_r(&t, &back);
                bool real = back.tm_mday == d;
                const char *got = pd(iso, DS_ISO8601);
                if (!real) {
                    assert_null(got);
                    assert_null(pd(compact, DS_COMPACT));
                    continue;
                }
                EQ(got, iso);
                EQ(pd(compact, DS_COMPACT), iso);
                EQ(fd(iso, DS_COMPACT), compact);
            }
        }
    }
}

/* Offsets agree with the C library on many instants. */
static void test_offsets_against_libc(void **state)
{
    unsigned seed = 7;
    for (int i = 0; i < 5000; i++) {
        seed = seed * 1103515245u + 12345u;
        time_t t = (time_t)(seed % 4000000000u); /* 1970 .. 2096 */
        seed = seed * 1103515245u + 12345u;
        int off = (int)(seed % (2 * 1440 - 1)) - 1439; /* minutes, -23:59 .. +23:59 */
        time_t local = t + (time_t)off * 60;
        struct tm lt, ut;
        gmtime_r(&local, &lt);
        gmtime_r(&t, &ut);
        char in[96], want[96];
        int a = off < 0 ? -off : off;
        snprintf(in, sizeof in, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", lt.tm_year + 1900, lt.tm_mon + 1,
                 lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec, off < 0 ? '-' : '+', a / 60, a % 60);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000000Z", ut.tm_year + 1900, ut.tm_mon + 1,
                 ut.tm_mday, ut.tm_hour, ut.tm_min, ut.tm_sec);
        const char *got = pdt(in, DS_ISO8601);
        if (!got)
            fail_msg("rejected %s", in);
        EQ(got, want);
    }
}

static void test_now(void **state)
{
    char out[DT_DATETIME_LEN + 1];
    dt_now(out);
    assert_int_equal(strlen(out), DT_DATETIME_LEN);
    char wire[32];
    assert_int_equal(dt_format_datetime(out, DT_DATETIME_LEN, DS_ISO8601, wire), DT_DATETIME_LEN);
    /* It is today, per the C library. */
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char year[16];
    snprintf(year, sizeof year, "%04d", tm.tm_year + 1900);
    assert_memory_equal(out, year, 4);
    /* And it moves forward. */
    char later[DT_DATETIME_LEN + 1];
    dt_now(later);
    assert_true(strcmp(later, out) >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_iso),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_date_compact),
        cmocka_unit_test(test_datetime_iso),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_datetime_compact),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_offsets_against_libc),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the query-string parser (api/query.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api/query.h"

static int parse(const char *q, qparam *out, size_t cap, const char **bad, arena *a)
{
    return query_parse(q, strlen(q), a, out, cap, bad);
}

static void decodes_pairs(void **state)
{
    arena *a = arena_new();
    qparam p[8];
    const char *bad = NULL;
    int n = parse("name=John%20Doe&ids=1,2,3&flag&x=a+b&&e=", p, 8, &bad, a);
    assert_int_equal(n, 5);
    assert_string_equal(p[0].name, "name");
    assert_string_equal(p[0].value, "John Doe");
    assert_int_equal(p[0].value_len, 8);
    assert_string_equal(p[1].value, "1,2,3");
    assert_string_equal(p[2].name, "flag");
    assert_string_equal(p[2].value, "");
    assert_string_equal(p[3].value, "a b");
    assert_string_equal(p[4].name, "e");
    assert_int_equal(p[4].value_len, 0);
    arena_free(a);
}

static void rejects_bad_escapes_and_utf8(void **state)
{
    arena *a = arena_new();
    qparam p[8];
    const char *bad = NULL;
    static const char *const cases[] = {"a=%", "a=%4", "a=%zz", "a=%00", "a=%ff", "a=%c0%80",
                                        "a=%ed%a0%80", "%=1"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bad = NULL;
        assert_int_equal(parse(cases[i], p, 8, &bad, a), -1);
        assert_non_null(bad);
    }
    assert_int_equal(parse("a=%C3%A9", p, 8, &bad, a), 1);
    assert_string_equal(p[0].value, "\xc3\xa9");
    arena_free(a);
}

static void caps_the_count(void **state)
{
    arena *a = arena_new();
    qparam p[2];
    const char *bad = NULL;
    assert_int_equal(parse("a=1&b=2", p, 2, &bad, a), 2);
    assert_int_equal(parse("a=1&b=2&c=3", p, 2, &bad, a), -1);
    assert_string_equal(bad, "too many query parameters");
    arena_free(a);
}

static void parses_integers_strictly(void **state)
{
    long long v = 0;
    assert_true(query_int("50", 2, 1, 1000, &v));
    assert_int_equal(v, 50);
    assert_true(query_int("-3", 2, -5, 5, &v));
    assert_int_equal(v, -3);
    assert_false(query_int("", 0, 0, 10, &v));
    assert_false(query_int("1001", 4, 1, 1000, &v));
    assert_false(query_int("0", 1, 1, 1000, &v));
    assert_false(query_int("5x", 2, 0, 10, &v));
    assert_false(query_int(" 5", 2, 0, 10, &v));
    assert_false(query_int("-", 1, -10, 10, &v));
    assert_false(query_int("99999999999999999999", 20, 0, 1LL << 62, &v));
}

static void parses_python_booleans(void **state)
{
    (void)state;
    static const char *const yes[] = {"y", "Y", "yes", "YES", "t", "T", "true", "True", "TRUE", "on", "On", "1"};
    static const char *const no[] = {"n", "N", "no", "No", "f", "F", "false", "False", "off", "OFF", "0"};
    static const char *const neither[] = {"", "2", "tru", "yess", "truee", "True ", " 1", "nope", "-1", "01"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        bool b = false;
        assert_true(query_bool(yes[i], strlen(yes[i]), &b));
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        bool b = true;
        assert_true(query_bool(no[i], strlen(no[i]), &b));
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof neither / sizeof neither[0]; i++) {
        bool b = true;
        if (query_bool(neither[i], strlen(neither[i]), &b))
            fail_msg("'%s' read as a boolean", neither[i]);
        assert_true(b); /* untouched */
    }
    /* the length decides, not a NUL: "true" inside "trueX" is not a word */
    bool b = false;
    assert_false(query_bool("trueX", 4 + 1, &b));
    assert_true(query_bool("trueX", 4, &b) && b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_pairs),
        cmocka_unit_test(rejects_bad_escapes_and_utf8),
        cmocka_unit_test(caps_the_count),
        cmocka_unit_test(parses_integers_strictly),
        cmocka_unit_test(parses_python_booleans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

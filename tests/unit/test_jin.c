/* Unit tests for request body parsing (src/json/jin.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "json/jin.h"
#include "rd_limits.h"

static int setup(void **state)
{
    *state = arena_new();
    return 0;
}

static int teardown(void **state)
{
    arena_free(*state);
    return 0;
}

/* Parse n bytes; on failure return the message, on success NULL (and the value in *out). */
static const char *parse_n(arena *a, const char *s, size_t n, json_t **out)
{
    const char *msg = NULL;
    json_t *v = jin_parse(s, n, a, &msg);
    if (out)
        *out = v;
    else
        json_decref(v);
    if (v)
        return NULL;
    assert_non_null(msg);
    return msg;
}

static const char *parse(arena *a, const char *s) { return parse_n(a, s, strlen(s), NULL); }

static void assert_fails_with(arena *a, const char *s, const char *want)
{
    const char *msg = parse(a, s);
    if (!msg)
        fail_msg("accepted: %s", s);
    if (!strstr(msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", s, msg, want);
}

static void test_valid(void **state)
{
    arena *a = *state;
    json_t *v;
    assert_null(parse_n(a, "{\"a\": [1, 2.5, \"x\", null, true], \"b\": {}}", 41, &v));
    assert_true(json_is_object(v));
    assert_int_equal(json_array_size(json_object_get(v, "a")), 5);
    json_decref(v);
    /* Any value at the top (JSON_DECODE_ANY); validate.c rejects non-objects. */
    assert_null(parse(a, "[]"));
    assert_null(parse(a, "42"));
    assert_null(parse(a, "\"s\""));
    assert_null(parse(a, "null"));
    assert_null(parse(a, " \n\t{} \r\n"));
    /* int64 bounds are fine. */
    assert_null(parse_n(a, "[-9223372036854775808, 9223372036854775807]", 43, &v));
    assert_true(json_integer_value(json_array_get(v, 0)) == INT64_MIN);
    assert_true(json_integer_value(json_array_get(v, 1)) == INT64_MAX);
    json_decref(v);
    /* Valid UTF-8, escaped surrogate pairs. */
    assert_null(parse(a, "\"caf\xC3\xA9 \\ud83d\\ude00\""));
    /* Brackets inside strings do not count as nesting. */
    char deep_str[200] = "\"";
    memset(deep_str + 1, '[', 100);
    strcpy(deep_str + 101, "\\\"{{{{\"");
    assert_null(parse(a, deep_str));
}

static void test_empty(void **state)
{
    arena *a = *state;
    assert_string_equal(parse_n(a, "", 0, NULL), "empty body");
    assert_fails_with(a, "   ", "line 1 column");
}

static void test_syntax_errors(void **state)
{
    arena *a = *state;
    assert_fails_with(a, "{\"a\":", "line 1 column 5: ");
    assert_fails_with(a, "[1,2", "line 1 column 4: ']' expected");
    assert_fails_with(a, "{\"a\" 1}", "line 1 column");
    assert_fails_with(a, "[1,]", "unexpected token");
    assert_fails_with(a, "tru", "invalid token");
    assert_fails_with(a, "{'a':1}", "line 1 column");
    assert_fails_with(a, "\"a\x01\"", "control character");
    assert_fails_with(a, "\"\\ud800\"", "invalid Unicode");
    assert_fails_with(a, "1e999", "real number overflow");
    assert_fails_with(a, "NaN", "invalid token");
    /* Trailing garbage. */
    assert_fails_with(a, "{} x", "line 1 column 4: end of file expected");
    assert_fails_with(a, "{}{}", "end of file expected");
    assert_fails_with(a, "{\"a\":1}\n\n  ]", "line 3 column 3: end of file expected");
    /* A raw NUL byte, inside and outside a string. */
    assert_non_null(parse_n(a, "{\"a\":\"x\0y\"}", 11, NULL));
    assert_non_null(parse_n(a, "{}\0", 3, NULL));
    assert_non_null(parse_n(a, "\0", 1, NULL));
}

static void test_duplicates(void **state)
{
    arena *a = *state;
    assert_fails_with(a, "{\"a\":1,\"a\":2}", "line 1 column 10: duplicate object key");
    assert_fails_with(a, "{\"x\":{\"b\":1,\"b\":1}}", "duplicate object key");
    /* Same key in sibling objects is fine. */
    assert_null(parse(a, "[{\"a\":1},{\"a\":2}]"));
}

static void test_nul_escape(void **state)
{
    arena *a = *state;
    const char *msg = parse(a, "{\"a\":\"x\\u0000y\"}");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "\\u0000 is not allowed"));
    assert_null(strstr(msg, "JSON_ALLOW_NUL")); /* no library internals */
    assert_fails_with(a, "{\"\\u0000\":1}", "NUL byte in object key");
}

static void test_invalid_utf8(void **state)
{
    arena *a = *state;
    assert_fails_with(a, "{\"a\":\"\xFF\"}", "unable to decode byte 0xff");
    assert_fails_with(a, "\"\xC0\x80\"", "line 1");
    assert_fails_with(a, "\"\xED\xA0\x80\"", "line 1");     /* surrogate */
    assert_fails_with(a, "\"\xF4\x90\x80\x80\"", "line 1"); /* > U+10FFFF */
    assert_fails_with(a, "\"\xE2\x82\"", "line 1");         /* truncated */
    assert_fails_with(a, "{\"\xFF\":1}", "line 1");         /* in a key */
}

static void test_big_integer(void **state)
{
    arena *a = *state;
    assert_fails_with(a, "9223372036854775808", "too big integer");
    assert_fails_with(a, "-9223372036854775809", "too big negative integer");
    assert_fails_with(a, "{\"n\": 99999999999999999999999}", "too big integer");
}

/* n nested arrays, optionally closed. */
static char *nested(size_t n, bool close, char open)
{
    char *s = malloc(2 * n + 1);
    memset(s, open, n);
    size_t len = n;
    if (close) {
        memset(s + n, open == '[' ? ']' : '}', n);
        len += n;
    }
    s[len] = '\0';
    return s;
}

static void test_depth(void **state)
{
    arena *a = *state;
    char *s = nested(RD_MAX_JSON_DEPTH, true, '[');
    assert_null(parse(a, s)); /* exactly the limit */
    free(s);

    s = nested(RD_MAX_JSON_DEPTH + 1, true, '[');
    assert_string_equal(parse(a, s), "nesting deeper than 32 levels");
    free(s);

    /* Objects count too. */
    char obj[1024] = "";
    for (int i = 0; i <= RD_MAX_JSON_DEPTH; i++)
        strcat(obj, "{\"a\":");
    strcat(obj, "1");
    for (int i = 0; i <= RD_MAX_JSON_DEPTH; i++)
        strcat(obj, "}");
    assert_string_equal(parse(a, obj), "nesting deeper than 32 levels");

    /* 10,000 levels, closed and unclosed, fail fast. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s = nested(10000, true, '[');
    assert_string_equal(parse(a, s), "nesting deeper than 32 levels");
    free(s);
    s = nested(10000, false, '{');
    assert_string_equal(parse(a, s), "nesting deeper than 32 levels");
    free(s);
    /* A million levels: still one linear pass, no recursion. */
    s = nested(1000000, false, '[');
    assert_string_equal(parse(a, s), "nesting deeper than 32 levels");
    free(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 1000);

    /* Escaped quotes inside strings do not confuse the prescan. */
    char esc[512] = "[\"\\\"[[[[\\\\\",";
    for (int i = 0; i < RD_MAX_JSON_DEPTH - 1; i++)
        strcat(esc, "[");
    for (int i = 0; i < RD_MAX_JSON_DEPTH; i++)
        strcat(esc, "]");
    assert_null(parse(a, esc));
    /* ... and a backslash before the closing quote is escaped itself. */
    assert_null(parse(a, "[\"\\\\\", [1]]"));

    /* Extra closers before deep nesting: jansson stops at the first. */
    s = malloc(20000);
    strcpy(s, "]");
    memset(s + 1, '[', 10000);
    s[10001] = '\0';
    const char *msg = parse(a, s);
    assert_non_null(msg);
    free(s);
}

/* Messages live in the arena: many failures, one arena, no leaks. */
static void test_many_failures(void **state)
{
    arena *a = *state;
    for (int i = 0; i < 1000; i++)
        assert_non_null(parse(a, "{\"a\":1,\"a\":2}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_integer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

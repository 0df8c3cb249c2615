/* Unit tests for the streaming JSON writer (src/json/jw.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "json/jw.h"

typedef struct fx {
    arena *a;
    buf b;
    jw w;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->a = arena_new();
    buf_init(&f->b, f->a, 1 << 20);
    jw_init(&f->w, &f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    arena_free(f->a);
    free(f);
    return 0;
}

/* The writer is ok and wrote exactly want. */
static void expect(fx *f, const char *want)
{
    assert_true(jw_ok(&f->w));
    assert_string_equal(buf_cstr(&f->b), want);
}

/* The output of one string value. */
static const char *str_out(fx *f, const char *s, size_t n)
{
    buf_reset(&f->b);
    jw_init(&f->w, &f->b);
    jw_str(&f->w, s, n);
    assert_true(jw_ok(&f->w));
    return buf_cstr(&f->b);
}

#define STR_IS(f, lit, want) assert_string_equal(str_out(f, lit, sizeof lit - 1), want)

/* The document parses back with jansson. */
static void assert_parses(const char *doc)
{
    json_error_t e;
    json_t *v = json_loads(doc, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("%s: %s", doc, e.text);
    json_decref(v);
}

static void test_structure(void **state)
{
    fx *f = *state;
    jw *w = &f->w;
    jw_obj_begin(w);
    jw_keyz(w, "a");
    jw_int(w, 1);
    jw_keyz(w, "b");
    jw_arr_begin(w);
    jw_null(w);
    jw_bool(w, true);
    jw_bool(w, false);
    jw_obj_begin(w);
    jw_obj_end(w);
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_strz(w, "x");
    jw_arr_end(w);
    jw_keyz(w, "c");
    jw_obj_begin(w);
    jw_keyz(w, "d");
    jw_raw(w, "{\"e\":[1,2]}", 11);
    jw_obj_end(w);
    jw_obj_end(w);
    expect(f, "{\"a\":1,\"b\":[null,true,false,{},[],\"x\"],\"c\":{\"d\":{\"e\":[1,2]}}}");
    assert_parses(buf_cstr(&f->b));
}

static void test_top_level_scalars(void **state)
{
    fx *f = *state;
    jw_strz(&f->w, "hi");
    expect(f, "\"hi\"");
    buf_reset(&f->b);
    jw_init(&f->w, &f->b);
    jw_null(&f->w);
    expect(f, "null");
}

static void test_escapes(void **state)
{
    fx *f = *state;
    STR_IS(f, "a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    STR_IS(f, "\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
    STR_IS(f, "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    STR_IS(f, "", "\"\"");
    /* An embedded NUL is a character like any other. */
    assert_string_equal(str_out(f, "a\0b", 3), "\"a\\u0000b\"");
    /* U+2028 and U+2029 are escaped, neighbours are not. */
    STR_IS(f, "x\xE2\x80\xA8y\xE2\x80\xA9z\xE2\x80\xAA", "\"x\\u2028y\\u2029z\xE2\x80\xAA\"");
}

static void test_valid_utf8_passes(void **state)
{
    fx *f = *state;
    STR_IS(f, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF \xED\x9F\xBF \xEE\x80\x80",
           "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF \xED\x9F\xBF \xEE\x80\x80\"");
}

#define FFFD "\xEF\xBF\xBD"

static void test_invalid_utf8(void **state)
{
    fx *f = *state;
    STR_IS(f, "a\x80z", "\"a" FFFD "z\"");             /* lone continuation */
    STR_IS(f, "\xC0\x80", "\"" FFFD FFFD "\"");        /* overlong NUL */
    STR_IS(f, "\xC1\xBF", "\"" FFFD FFFD "\"");        /* overlong */
    STR_IS(f, "\xE0\x80\xAF", "\"" FFFD FFFD FFFD "\""); /* overlong '/' */
    STR_IS(f, "\xF0\x8F\xBF\xBF", "\"" FFFD FFFD FFFD FFFD "\""); /* overlong */
    STR_IS(f, "\xED\xA0\x80", "\"" FFFD FFFD FFFD "\""); /* surrogate D800 */
    STR_IS(f, "\xED\xBF\xBF", "\"" FFFD FFFD FFFD "\""); /* surrogate DFFF */
    STR_IS(f, "\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
    STR_IS(f, "\xF5\x80", "\"" FFFD FFFD "\"");
    STR_IS(f, "\xFF\xFE", "\"" FFFD FFFD "\"");
    /* Truncated sequences: one U+FFFD for the maximal subpart. */
    STR_IS(f, "\xE2\x82", "\"" FFFD "\"");
    STR_IS(f, "\xE2\x82z", "\"" FFFD "z\"");
    STR_IS(f, "\xF0\x9F\x98", "\"" FFFD "\"");
    STR_IS(f, "\xF0\x9F\x98\"", "\"" FFFD "\\\"\"");
    STR_IS(f, "\xC3", "\"" FFFD "\"");
    STR_IS(f, "\xE2\x80", "\"" FFFD "\""); /* prefix of U+2028 at the end */
    /* Every byte value, alone and in pairs, yields valid JSON. */
    for (int c = 0; c < 256; c++) {
        for (int d = 0; d < 256; d += 17) {
            char in[3] = {(char)c, (char)d, 'x'};
            assert_parses(str_out(f, in, 3));
        }
    }
}

/* Random byte strings: the output always parses, and valid UTF-8 comes
 * back byte for byte (jansson's json_stringn judges validity). */
static void test_random_strings(void **state)
{
    fx *f = *state;
    static const unsigned char alphabet[] = {'a', '"', '\\', '\n', 0x01, 0x7f, 0x80, 0xA8, 0xA9, 0xBF,
                                             0xC2, 0xC3, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
    srand(7);
    for (int iter = 0; iter < 50000; iter++) {
        char in[16];
        size_t n = (size_t)(rand() % 16);
        for (size_t i = 0; i < n; i++)
            in[i] = (char)alphabet[rand() % sizeof alphabet];
        const char *out = str_out(f, in, n);
        json_error_t e;
        json_t *v = json_loads(out, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (!v)
            fail_msg("invalid output %s: %s", out, e.text);
        json_t *ref = json_stringn(in, n);
        if (ref) {
            assert_int_equal(json_string_length(v), n);
            assert_memory_equal(json_string_value(v), in, n);
        }
        json_decref(ref);
        json_decref(v);
    }
}

static void test_keys_escaped(void **state)
{
    fx *f = *state;
    jw_obj_begin(&f->w);
    jw_key(&f->w, "k\"\n\xFF", 4);
    jw_int(&f->w, 0);
    jw_key(&f->w, "abc", 2); /* n bytes only */
    jw_int(&f->w, 1);
    jw_obj_end(&f->w);
    expect(f, "{\"k\\\"\\n" FFFD "\":0,\"ab\":1}");
}

static const char *num_out(fx *f, double v)
{
    buf_reset(&f->b);
    jw_init(&f->w, &f->b);
    jw_num(&f->w, v);
    assert_true(jw_ok(&f->w));
    return buf_cstr(&f->b);
}

static void test_numbers(void **state)
{
    fx *f = *state;
    assert_string_equal(num_out(f, 0.1), "0.1");
    assert_string_equal(num_out(f, 0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(num_out(f, 1.5), "1.5");
    assert_string_equal(num_out(f, 100), "100");
    assert_string_equal(num_out(f, -2), "-2");
    assert_string_equal(num_out(f, 0), "0");
    assert_string_equal(num_out(f, -0.0), "-0");
    assert_string_equal(num_out(f, 1e21), "1e+21");
    assert_string_equal(num_out(f, 1e-7), "0.0000001");
    assert_string_equal(num_out(f, 5e-324), "4.94065645841247e-324");
    assert_string_equal(num_out(f, 1.7976931348623157e308), "1.7976931348623157e+308");
    assert_string_equal(num_out(f, NAN), "null");
    assert_string_equal(num_out(f, INFINITY), "null");
    assert_string_equal(num_out(f, -INFINITY), "null");
    /* Short decimals take the fast path; others fall back to %g. */
    assert_string_equal(num_out(f, 19.99), "19.99");
    assert_string_equal(num_out(f, -0.05), "-0.05");
    assert_string_equal(num_out(f, 123.456), "123.456");
    assert_string_equal(num_out(f, 1e-9), "0.000000001");
    assert_string_equal(num_out(f, 1.5e-10), "1.5e-10");
    assert_string_equal(num_out(f, 999999999999999.0), "999999999999999");
    assert_string_equal(num_out(f, 1e15), "1e+15");
    assert_string_equal(num_out(f, 123456789012345.6), "123456789012345.6");
    assert_string_equal(num_out(f, -9007199254740993.0), "-9007199254740992");
    /* Every cent from -1000.00 to 1000.00 reads back, in its short form. */
    for (int c = -100000; c <= 100000; c++) {
        double d = c / 100.0;
        char want[32];
        snprintf(want, sizeof want, "%.2f", d);
        size_t len = strlen(want);
        while (want[len - 1] == '0')
            want[--len] = '\0';
        if (want[len - 1] == '.')
            want[--len] = '\0';
        if (strcmp(want, "-0") == 0)
            strcpy(want, "0");
        assert_string_equal(num_out(f, d), want);
    }
    /* Random bit patterns: always valid JSON, always the same double back. */
    srand(42);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = 0;
        for (int k = 0; k < 4; k++)
            bits = bits << 16 | (uint64_t)(rand() & 0xffff);
        double d;
        memcpy(&d, &bits, sizeof d);
        const char *s = num_out(f, d);
        json_error_t e;
        json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
        if (!isfinite(d)) {
            assert_string_equal(s, "null");
        } else {
            assert_non_null(v);
            assert_true(strlen(s) <= 24);
            assert_true(strtod(s, NULL) == d);
        }
        json_decref(v);
    }
}

static void test_ints(void **state)
{
    fx *f = *state;
    jw_arr_begin(&f->w);
    jw_int(&f->w, 0);
    jw_int(&f->w, -1);
    jw_int(&f->w, 42);
    jw_int(&f->w, INT64_MAX);
    jw_int(&f->w, INT64_MIN);
    jw_arr_end(&f->w);
    expect(f, "[0,-1,42,9223372036854775807,-9223372036854775808]");
}

/* Each misuse makes the writer bad, and it stays bad. */
static void test_misuse(void **state)
{
    fx *f = *state;
    jw *w = &f->w;
    /* value without key inside an object */
    jw_obj_begin(w);
    jw_int(w, 1);
    assert_false(jw_ok(w));
    jw_obj_end(w);
    assert_false(jw_ok(w)); /* sticky */

#define AGAIN() (buf_reset(&f->b), jw_init(w, &f->b))
    AGAIN();
    jw_arr_begin(w);
    jw_keyz(w, "k"); /* key in an array */
    assert_false(jw_ok(w));

    AGAIN();
    jw_keyz(w, "k"); /* key at the top */
    assert_false(jw_ok(w));

    AGAIN();
    jw_obj_end(w); /* end without begin */
    assert_false(jw_ok(w));

    AGAIN();
    jw_arr_begin(w);
    jw_obj_end(w); /* mismatched end */
    assert_false(jw_ok(w));

    AGAIN();
    jw_obj_begin(w);
    jw_keyz(w, "a");
    jw_keyz(w, "b"); /* two keys */
    assert_false(jw_ok(w));

    AGAIN();
    jw_obj_begin(w);
    jw_keyz(w, "a");
    jw_obj_end(w); /* key without value */
    assert_false(jw_ok(w));

    AGAIN();
    jw_int(w, 1);
    jw_int(w, 2); /* two top-level values */
    assert_false(jw_ok(w));

    AGAIN();
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_arr_begin(w); /* a second document */
    assert_false(jw_ok(w));

    AGAIN();
    jw_arr_begin(w);
    jw_raw(w, "", 0); /* empty raw text is no value */
    assert_false(jw_ok(w));
#undef AGAIN
}

static void test_depth(void **state)
{
    fx *f = *state;
    jw *w = &f->w;
    for (int i = 0; i < RD_JW_MAX_DEPTH; i++)
        jw_arr_begin(w);
    assert_true(jw_ok(w));
    for (int i = 0; i < RD_JW_MAX_DEPTH; i++)
        jw_arr_end(w);
    assert_true(jw_ok(w));
    assert_int_equal(f->b.len, 2 * RD_JW_MAX_DEPTH);
    assert_parses(buf_cstr(&f->b));

    buf_reset(&f->b);
    jw_init(w, &f->b);
    for (int i = 0; i < RD_JW_MAX_DEPTH; i++) {
        jw_obj_begin(w);
        jw_keyz(w, "k");
    }
    assert_true(jw_ok(w));
    jw_arr_begin(w); /* level 65 */
    assert_false(jw_ok(w));
}

static void test_ceiling(void **state)
{
    fx *f = *state;
    buf small;
    buf_init(&small, NULL, 10);
    jw w;
    jw_init(&w, &small);
    jw_arr_begin(&w);
    jw_strz(&w, "abcd"); /* [ "abcd" = 7 bytes */
    assert_true(jw_ok(&w));
    jw_strz(&w, "efgh"); /* would pass 10 */
    assert_false(jw_ok(&w));
    jw_arr_end(&w);
    assert_false(jw_ok(&w));
    buf_fini(&small);

    /* Exactly at the ceiling is fine. */
    buf_init(&small, NULL, 8);
    jw_init(&w, &small);
    jw_arr_begin(&w);
    jw_strz(&w, "abcd");
    jw_arr_end(&w);
    assert_true(jw_ok(&w));
    assert_string_equal(buf_cstr(&small), "[\"abcd\"]");
    buf_fini(&small);
    (void)f;
}

/* Around the one-append size for plain strings, with commas and colons. */
static void test_string_sizes(void **state)
{
    fx *f = *state;
    char s[600];
    memset(s, 'x', sizeof s);
    s[5] = '\xC3'; /* a valid two-byte character keeps the run plain */
    s[6] = '\xA9';
    for (size_t n = 230; n < 260; n++) {
        buf_reset(&f->b);
        jw_init(&f->w, &f->b);
        jw_obj_begin(&f->w);
        jw_key(&f->w, s, n);
        jw_arr_begin(&f->w);
        jw_str(&f->w, s, n);
        jw_str(&f->w, s, n);
        jw_arr_end(&f->w);
        jw_key(&f->w, s + 300, n);
        jw_str(&f->w, s, n);
        jw_obj_end(&f->w);
        assert_true(jw_ok(&f->w));
        assert_int_equal(f->b.len, (n + 2) * 5 + 8); /* {k:[s,s],k:s} */
        assert_parses(buf_cstr(&f->b));
    }
}

static void test_long_string(void **state)
{
    fx *f = *state;
    size_t n = 100000;
    char *s = malloc(n);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(i % 7 == 0 ? '\n' : 'a' + i % 26);
    const char *out = str_out(f, s, n);
    json_error_t e;
    json_t *v = json_loads(out, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), s, n);
    json_decref(v);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_utf8_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_string, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

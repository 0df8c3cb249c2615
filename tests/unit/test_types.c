/* Unit tests for the field type descriptors (src/app/types.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "app/types.h"

typedef struct fx {
    arena *a;
    app_field f;
    sqlval v;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    x->a = arena_new();
    x->f.name = x->f.json_name = x->f.error_name = "f";
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    arena_free(x->a);
    free(x);
    return 0;
}

/* Check JSON text j (parsed here) for x->f as type t; the message or NULL. */
static const char *chk_ds(fx *x, field_type t, const char *j, date_style ds)
{
    json_error_t e;
    json_t *v = json_loads(j, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("test JSON '%s': %s", j, e.text);
    x->f.type = t;
    memset(&x->v, 0x5a, sizeof x->v);
    const char *why = type_desc_of(t)->check(&x->f, v, ds, x->a, &x->v);
    json_decref(v); /* the value must not be needed after check */
    return why;
}

static const char *chk(fx *x, field_type t, const char *j) { return chk_ds(x, t, j, DS_ISO8601); }

static void ok_text(fx *x, field_type t, const char *j, const char *want)
{
    const char *why = chk(x, t, j);
    if (why)
        fail_msg("%s rejected: %s", j, why);
    assert_int_equal(x->v.kind, SV_TEXT);
    assert_int_equal(x->v.n, strlen(want));
    assert_string_equal(x->v.s, want);
}

#define BAD(x, t, j, msg) assert_string_equal(chk(x, t, j), msg)

static void test_table(void **state)
{
    static const struct {
        field_type t;
        const char *sql;
    } want[] = {
        {FT_UUID, "TEXT"},     {FT_STRING, "TEXT"},   {FT_TEXT, "TEXT"},    {FT_INTEGER, "INTEGER"},
        {FT_NUMBER, "REAL"},   {FT_BOOLEAN, "INTEGER"}, {FT_DATE, "TEXT"},  {FT_DATETIME, "TEXT"},
        {FT_JSON, "TEXT"},     {FT_ENUM, "TEXT"},     {FT_REF, "TEXT"},     {FT_REF_LIST, NULL},
    };
    assert_int_equal(sizeof want / sizeof *want, FT__COUNT);
    for (size_t i = 0; i < FT__COUNT; i++) {
        const type_desc *d = type_desc_of(want[i].t);
        assert_non_null(d);
        assert_non_null(d->emit);
        if (want[i].sql) {
            assert_string_equal(d->sql_type, want[i].sql);
            assert_non_null(d->check);
        } else {
            assert_null(d->sql_type);
            assert_null(d->check);
        }
    }
    assert_null(type_desc_of(FT__COUNT));
    assert_null(type_desc_of((field_type)-1));
}

static void test_uuid(void **state)
{
    fx *x = *state;
    for (field_type t = FT_UUID; t <= FT_REF; t += FT_REF - FT_UUID) {
        ok_text(x, t, "\"0f8fad5b-d9cb-469f-a165-70867728950e\"", "0f8fad5b-d9cb-469f-a165-70867728950e");
        ok_text(x, t, "\"0F8FAD5B-D9CB-469F-A165-70867728950E\"", "0f8fad5b-d9cb-469f-a165-70867728950e");
        ok_text(x, t, "\"00000000-0000-0000-0000-000000000000\"", "00000000-0000-0000-0000-000000000000");
        BAD(x, t, "\"0f8fad5bd9cb469fa16570867728950e\"", "must be a UUID");
        BAD(x, t, "\"{0f8fad5b-d9cb-469f-a165-70867728950e}\"", "must be a UUID");
        BAD(x, t, "\"0f8fad5b-d9cb-469f-a165-70867728950\"", "must be a UUID");
        BAD(x, t, "\"0f8fad5b-d9cb-469f-a165-70867728950e0\"", "must be a UUID");
        BAD(x, t, "\"0f8fad5b-d9cb-469f-a165-70867728950g\"", "must be a UUID");
        BAD(x, t, "\"0f8fad5bd-9cb-469f-a165-70867728950e\"", "must be a UUID");
        BAD(x, t, "\"0f8fad5b-d9cb-469f-a165-7086772895\\u00e9\"", "must be a UUID");
        BAD(x, t, "\"0f8fad5b-d9cb-469f-a165-70867728950\\u0000\"", "must be a UUID");
        BAD(x, t, "\"\"", "must be a UUID");
        BAD(x, t, "42", "must be a UUID");
        BAD(x, t, "[]", "must be a UUID");
    }
    char out[40];
    assert_true(type_uuid_parse("ABCDEF01-2345-6789-abcd-ef0123456789", 36, out));
    assert_string_equal(out, "abcdef01-2345-6789-abcd-ef0123456789");
    assert_false(type_uuid_parse("ABCDEF01-2345-6789-abcd-ef0123456789", 35, out));
}

static void test_string(void **state)
{
    fx *x = *state;
    ok_text(x, FT_STRING, "\"hello\"", "hello");
    ok_text(x, FT_STRING, "\"\"", "");
    ok_text(x, FT_STRING, "\"caf\\u00e9 \\ud83d\\ude00\"", "caf\xC3\xA9 \xF0\x9F\x98\x80");
    BAD(x, FT_STRING, "1", "must be a string");
    BAD(x, FT_STRING, "true", "must be a string");
    BAD(x, FT_STRING, "[\"a\"]", "must be a string");
    BAD(x, FT_STRING, "{}", "must be a string");
    BAD(x, FT_STRING, "\"a\\u0000b\"", "must not contain NUL characters");

    /* Default limit 255, counted in characters, not bytes. */
    char j[2048];
    char *p = j;
    *p++ = '"';
    for (int i = 0; i < 255; i++)
        p += sprintf(p, "\\u00e9"); /* 2 bytes each in UTF-8 */
    strcpy(p, "\"");
    assert_null(chk(x, FT_STRING, j));
    assert_int_equal(x->v.n, 510);
    strcpy(p, "x\"");
    BAD(x, FT_STRING, j, "must be at most 255 characters");

    x->f.max_length = 3;
    assert_null(chk(x, FT_STRING, "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\""));
    BAD(x, FT_STRING, "\"abcd\"", "must be at most 3 characters");
    x->f.max_length = 1;
    BAD(x, FT_STRING, "\"ab\"", "must be at most 1 character");
    x->f.max_length = 1000;
    strcpy(p, "x\"");
    assert_null(chk(x, FT_STRING, j));
    x->f.max_length = 0;
}

static void test_pattern(void **state)
{
    fx *x = *state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^[A-Z]{3}-[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
    x->f.re = &re;
    x->f.pattern = "^[A-Z]{3}-[0-9]+$";
    ok_text(x, FT_STRING, "\"ABC-123\"", "ABC-123");
    BAD(x, FT_STRING, "\"abc-123\"", "does not match the required pattern");
    BAD(x, FT_STRING, "\"ABC-123 \"", "does not match the required pattern");
    BAD(x, FT_STRING, "7", "must be a string");
    /* Length is checked before the pattern. */
    x->f.max_length = 4;
    BAD(x, FT_STRING, "\"ABC-123\"", "must be at most 4 characters");
    x->f.max_length = 0;
    ok_text(x, FT_TEXT, "\"XYZ-9\"", "XYZ-9");
    BAD(x, FT_TEXT, "\"xyz\"", "does not match the required pattern");
    x->f.re = NULL;
    x->f.pattern = NULL;
    regfree(&re);
}

static void test_text(void **state)
{
    fx *x = *state;
    /* No limit unless one is set. */
    size_t n = 100000;
    char *j = malloc(n + 3);
    j[0] = '"';
    memset(j + 1, 'a', n);
    strcpy(j + 1 + n, "\"");
    assert_null(chk(x, FT_TEXT, j));
    assert_int_equal(x->v.n, n);
    x->f.max_length = 10;
    BAD(x, FT_TEXT, j, "must be at most 10 characters");
    ok_text(x, FT_TEXT, "\"0123456789\"", "0123456789");
    x->f.max_length = 0;
    free(j);
    BAD(x, FT_TEXT, "null", "must be a string"); /* callers handle null; check never accepts it */
    BAD(x, FT_TEXT, "1.5", "must be a string");
}

static void test_integer(void **state)
{
    fx *x = *state;
    assert_null(chk(x, FT_INTEGER, "42"));
    assert_int_equal(x->v.kind, SV_INT);
    assert_int_equal(x->v.i, 42);
    assert_null(chk(x, FT_INTEGER, "-9223372036854775808"));
    assert_true(x->v.i == INT64_MIN);
    assert_null(chk(x, FT_INTEGER, "9223372036854775807"));
    assert_true(x->v.i == INT64_MAX);
    BAD(x, FT_INTEGER, "1.5", "must be an integer");
    BAD(x, FT_INTEGER, "1.0", "must be an integer");
    BAD(x, FT_INTEGER, "1e2", "must be an integer");
    BAD(x, FT_INTEGER, "\"5\"", "must be an integer");
    BAD(x, FT_INTEGER, "true", "must be an integer");
    BAD(x, FT_INTEGER, "[1]", "must be an integer");

    x->f.has_min = x->f.has_max = true;
    x->f.min = 0;
    x->f.max = 100;
    assert_null(chk(x, FT_INTEGER, "0"));
    assert_null(chk(x, FT_INTEGER, "100"));
    BAD(x, FT_INTEGER, "-1", "must be at least 0");
    BAD(x, FT_INTEGER, "101", "must be at most 100");
    x->f.min = -2.5;
    BAD(x, FT_INTEGER, "-3", "must be at least -2.5");
    x->f.has_min = x->f.has_max = false;
}

static void test_number(void **state)
{
    fx *x = *state;
    assert_null(chk(x, FT_NUMBER, "1.5"));
    assert_int_equal(x->v.kind, SV_REAL);
    assert_true(x->v.d == 1.5);
    assert_null(chk(x, FT_NUMBER, "3"));
    assert_int_equal(x->v.kind, SV_REAL);
    assert_true(x->v.d == 3.0);
    assert_null(chk(x, FT_NUMBER, "-1e300"));
    BAD(x, FT_NUMBER, "\"1.5\"", "must be a number");
    BAD(x, FT_NUMBER, "false", "must be a number");
    BAD(x, FT_NUMBER, "{}", "must be a number");

    x->f.has_min = x->f.has_max = true;
    x->f.min = 0.25;
    x->f.max = 0.1 + 0.2;
    BAD(x, FT_NUMBER, "0.2", "must be at least 0.25");
    assert_null(chk(x, FT_NUMBER, "0.3"));
    BAD(x, FT_NUMBER, "0.4", "must be at most 0.30000000000000004");
    x->f.has_min = x->f.has_max = false;
}

static void test_boolean(void **state)
{
    fx *x = *state;
    assert_null(chk(x, FT_BOOLEAN, "true"));
    assert_int_equal(x->v.kind, SV_INT);
    assert_int_equal(x->v.i, 1);
    assert_null(chk(x, FT_BOOLEAN, "false"));
    assert_int_equal(x->v.i, 0);
    BAD(x, FT_BOOLEAN, "1", "must be true or false");
    BAD(x, FT_BOOLEAN, "0", "must be true or false");
    BAD(x, FT_BOOLEAN, "\"true\"", "must be true or false");
    BAD(x, FT_BOOLEAN, "[]", "must be true or false");
}

static void test_dates(void **state)
{
    fx *x = *state;
    assert_null(chk_ds(x, FT_DATE, "\"2024-02-29\"", DS_ISO8601));
    assert_string_equal(x->v.s, "2024-02-29");
    assert_null(chk_ds(x, FT_DATE, "\"2024-02-29\"", DS_NAIVE));
    assert_null(chk_ds(x, FT_DATE, "\"20240229\"", DS_COMPACT));
    assert_string_equal(x->v.s, "2024-02-29");
    assert_int_equal(x->v.n, 10);
    assert_string_equal(chk_ds(x, FT_DATE, "\"2023-02-29\"", DS_ISO8601), "must be a date (YYYY-MM-DD)");
    assert_string_equal(chk_ds(x, FT_DATE, "\"2024-02-29\"", DS_COMPACT), "must be a date (yyyyMMdd)");
    assert_string_equal(chk_ds(x, FT_DATE, "20240229", DS_COMPACT), "must be a date (yyyyMMdd)");
    assert_string_equal(chk_ds(x, FT_DATE, "\"20240229\"", DS_NAIVE), "must be a date (YYYY-MM-DD)");

    assert_null(chk_ds(x, FT_DATETIME, "\"2026-03-01T14:05:09+01:00\"", DS_ISO8601));
    assert_string_equal(x->v.s, "2026-03-01T13:05:09.000000Z");
    assert_int_equal(x->v.n, 27);
    assert_null(chk_ds(x, FT_DATETIME, "\"2026-03-01T14:05:09\"", DS_NAIVE));
    assert_string_equal(x->v.s, "2026-03-01T14:05:09.000000Z");
    assert_null(chk_ds(x, FT_DATETIME, "\"20260301140509\"", DS_COMPACT));
    assert_string_equal(x->v.s, "2026-03-01T14:05:09.000000Z");
    assert_string_equal(chk_ds(x, FT_DATETIME, "\"2026-03-01\"", DS_ISO8601),
                        "must be a date-time (YYYY-MM-DDTHH:MM:SSZ)");
    assert_string_equal(chk_ds(x, FT_DATETIME, "\"x\"", DS_NAIVE), "must be a date-time (YYYY-MM-DDTHH:MM:SS)");
    assert_string_equal(chk_ds(x, FT_DATETIME, "\"2026-03-01T14:05:09Z\"", DS_COMPACT),
                        "must be a date-time (yyyyMMddHHmmss)");
    assert_string_equal(chk_ds(x, FT_DATETIME, "12", DS_ISO8601), "must be a date-time (YYYY-MM-DDTHH:MM:SSZ)");
}

static void test_json(void **state)
{
    fx *x = *state;
    ok_text(x, FT_JSON, "{\"b\": 1, \"a\": [0.1, 1e300, -0.0, true, false, null, \"x\\n\"], \"c\": {}}",
            "{\"b\":1,\"a\":[0.1,1e+300,-0,true,false,null,\"x\\n\"],\"c\":{}}");
    ok_text(x, FT_JSON, "\"just a string\"", "\"just a string\"");
    ok_text(x, FT_JSON, "7", "7");
    ok_text(x, FT_JSON, "[]", "[]");
    ok_text(x, FT_JSON, "false", "false");
    ok_text(x, FT_JSON, "\"\\u2028\\u00e9\"", "\"\\u2028\xC3\xA9\"");
    /* NUL inside a string value (possible with JSON_ALLOW_NUL) is escaped. */
    ok_text(x, FT_JSON, "[\"a\\u0000b\"]", "[\"a\\u0000b\"]");
    /* What it writes parses back to an equal value. */
    const char *src = "{\"k\": [1, 2.5, {\"z\": \"\\ud83d\\ude00\"}], \"n\": -9223372036854775808}";
    assert_null(chk(x, FT_JSON, src));
    json_t *a = json_loads(src, 0, NULL), *b = json_loads(x->v.s, 0, NULL);
    assert_non_null(b);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    /* Deeper than the writer goes: refused, not crashed. */
    for (int levels = RD_JW_MAX_DEPTH; levels <= RD_JW_MAX_DEPTH + 1; levels++) {
        char deep[400];
        memset(deep, '[', (size_t)levels);
        memset(deep + levels, ']', (size_t)levels);
        deep[2 * levels] = '\0';
        if (levels <= RD_JW_MAX_DEPTH)
            ok_text(x, FT_JSON, deep, deep);
        else
            BAD(x, FT_JSON, deep, "is nested too deeply or too large");
    }
}

static void test_enum(void **state)
{
    fx *x = *state;
    static const char *const vals[] = {"open", "closed", "on hold"};
    x->f.enum_values = vals;
    x->f.n_enum = 3;
    ok_text(x, FT_ENUM, "\"open\"", "open");
    assert_ptr_equal(x->v.s, vals[0]); /* the model's copy */
    ok_text(x, FT_ENUM, "\"on hold\"", "on hold");
    BAD(x, FT_ENUM, "\"Open\"", "must be one of: open, closed, on hold");
    BAD(x, FT_ENUM, "\"ope\"", "must be one of: open, closed, on hold");
    BAD(x, FT_ENUM, "\"open\\u0000\"", "must be one of: open, closed, on hold");
    BAD(x, FT_ENUM, "\"\"", "must be one of: open, closed, on hold");
    BAD(x, FT_ENUM, "1", "must be one of: open, closed, on hold");

    /* A long list is cut, not unbounded. */
    static char names[200][16];
    static const char *many[200];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "value_%03d", i);
        many[i] = names[i];
    }
    x->f.enum_values = many;
    x->f.n_enum = 200;
    const char *msg = chk(x, FT_ENUM, "\"nope\"");
    assert_non_null(msg);
    assert_true(strlen(msg) <= 520);
    assert_non_null(strstr(msg, "must be one of: value_000, value_001, "));
    assert_string_equal(msg + strlen(msg) - 5, ", ...");
    ok_text(x, FT_ENUM, "\"value_199\"", "value_199");
    x->f.enum_values = NULL;
    x->f.n_enum = 0;
}

/* ---- bind and emit through a real STRICT table ------------------------- */

static void test_bind_emit(void **state)
{
    fx *x = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    static const field_type cols[] = {FT_UUID, FT_STRING, FT_TEXT, FT_INTEGER, FT_NUMBER, FT_BOOLEAN,
                                      FT_DATE, FT_DATETIME, FT_JSON, FT_ENUM, FT_REF};
    enum { NC = sizeof cols / sizeof *cols };
    buf sql;
    buf_init(&sql, x->a, 4096);
    buf_puts(&sql, "CREATE TABLE t (");
    for (int i = 0; i < NC; i++)
        buf_printf(&sql, "%sc%d %s", i ? ", " : "", i, type_desc_of(cols[i])->sql_type);
    buf_puts(&sql, ") STRICT");
    assert_int_equal(sqlite3_exec(db, buf_cstr(&sql), NULL, NULL, NULL), SQLITE_OK);

    static const char *const vals[] = {"open", "closed"};
    const char *in[NC] = {"\"0F8FAD5B-D9CB-469F-A165-70867728950E\"",
                          "\"caf\\u00e9 \\\"q\\\"\"",
                          "\"line\\nbreak\"",
                          "-9223372036854775808",
                          "0.1",
                          "true",
                          "\"2024-02-29\"",
                          "\"2026-03-01T23:30:00.5-01:00\"",
                          "{\"a\": [1, 0.1, null]}",
                          "\"closed\"",
                          "\"00000000-0000-0000-0000-0000000000AA\""};
    sqlval sv[NC];
    app_field fields[NC];
    for (int i = 0; i < NC; i++) {
        x->f.enum_values = vals;
        x->f.n_enum = 2;
        const char *why = chk(x, cols[i], in[i]);
        if (why)
            fail_msg("column %d: %s", i, why);
        sv[i] = x->v;
        fields[i] = x->f;
    }
    sqlite3_stmt *ins, *sel;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", -1, &ins, NULL),
                     SQLITE_OK);
    for (int i = 0; i < NC; i++)
        assert_int_equal(sqlval_bind(ins, i + 1, &sv[i]), SQLITE_OK);
    assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    /* A row of NULLs. */
    sqlite3_reset(ins);
    sqlval null = {.kind = SV_NULL};
    for (int i = 0; i < NC; i++)
        assert_int_equal(sqlval_bind(ins, i + 1, &null), SQLITE_OK);
    assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_finalize(ins);

    static const char *const want[DS__COUNT] = {
        [DS_ISO8601] = "[[\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"caf\xC3\xA9 \\\"q\\\"\",\"line\\nbreak\","
                       "-9223372036854775808,0.1,true,\"2024-02-29\",\"2026-03-02T00:30:00.500000Z\","
                       "{\"a\":[1,0.1,null]},\"closed\",\"00000000-0000-0000-0000-0000000000aa\"],"
                       "[null,null,null,null,null,null,null,null,null,null,null]]",
        [DS_NAIVE] = "[[\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"caf\xC3\xA9 \\\"q\\\"\",\"line\\nbreak\","
                     "-9223372036854775808,0.1,true,\"2024-02-29\",\"2026-03-02T00:30:00\","
                     "{\"a\":[1,0.1,null]},\"closed\",\"00000000-0000-0000-0000-0000000000aa\"],"
                     "[null,null,null,null,null,null,null,null,null,null,null]]",
        [DS_COMPACT] = "[[\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"caf\xC3\xA9 \\\"q\\\"\",\"line\\nbreak\","
                       "-9223372036854775808,0.1,true,\"20240229\",\"20260302003000\","
                       "{\"a\":[1,0.1,null]},\"closed\",\"00000000-0000-0000-0000-0000000000aa\"],"
                       "[null,null,null,null,null,null,null,null,null,null,null]]",
    };
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM t ORDER BY rowid", -1, &sel, NULL), SQLITE_OK);
    for (date_style ds = 0; ds < DS__COUNT; ds++) {
        buf out;
        buf_init(&out, x->a, 1 << 16);
        jw w;
        jw_init(&w, &out);
        jw_arr_begin(&w);
        while (sqlite3_step(sel) == SQLITE_ROW) {
            jw_arr_begin(&w);
            for (int i = 0; i < NC; i++)
                type_desc_of(cols[i])->emit(&fields[i], sel, i, ds, &w);
            jw_arr_end(&w);
        }
        jw_arr_end(&w);
        sqlite3_reset(sel);
        assert_true(jw_ok(&w));
        assert_string_equal(buf_cstr(&out), want[ds]);
    }
    sqlite3_finalize(sel);

    /* Stored values restd did not write: dates go out as stored. */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM t; INSERT INTO t (c6, c7) VALUES ('2024-2-1', 'yesterday')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT c6, c7 FROM t", -1, &sel, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(sel), SQLITE_ROW);
    buf out;
    buf_init(&out, x->a, 1024);
    jw w;
    jw_init(&w, &out);
    jw_arr_begin(&w);
    type_desc_of(FT_DATE)->emit(&fields[6], sel, 0, DS_COMPACT, &w);
    type_desc_of(FT_DATETIME)->emit(&fields[7], sel, 1, DS_COMPACT, &w);
    jw_arr_end(&w);
    assert_string_equal(buf_cstr(&out), "[\"2024-2-1\",\"yesterday\"]");
    sqlite3_finalize(sel);

    /* ref_list: the json_group_array column, and NULL as []. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT json_group_array(v) FROM (SELECT 'a' AS v UNION ALL "
                                        "SELECT 'b')), (SELECT json_group_array(1) WHERE 0), NULL",
                                        -1, &sel, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(sel), SQLITE_ROW);
    buf_init(&out, x->a, 1024);
    jw_init(&w, &out);
    jw_arr_begin(&w);
    for (int i = 0; i < 3; i++)
        type_desc_of(FT_REF_LIST)->emit(&x->f, sel, i, DS_ISO8601, &w);
    jw_arr_end(&w);
    assert_true(jw_ok(&w));
    assert_string_equal(buf_cstr(&out), "[[\"a\",\"b\"],[],[]]");
    sqlite3_finalize(sel);
    sqlite3_close(db);
    x->f.enum_values = NULL;
    x->f.n_enum = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test_setup_teardown(test_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boolean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_emit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

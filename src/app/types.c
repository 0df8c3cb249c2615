/*
 * The field type descriptors: for each field_type, its STRICT column type,
 * how a request value is checked and converted into a bindable sqlval, and
 * how a column is written back as JSON. Handlers and the store look a
 * descriptor up by type (type_desc_of) and never switch on the type.
 *
 * Checks return short English fragments that api/validate.c completes into
 * sentences ("The title field " + "must be a string" + "."). Fragments that
 * name a field's own bound are built in the request arena.
 */
#include "app/types.h"
#include "util/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rd_limits.h"
#include "util/dt.h"

/* Ceiling on the compact text of one json field: the body it came from is
 * smaller than this. */
#define JSON_FIELD_MAX RD_MAX_BODY_CEILING

/* Longest "must be one of: ..." list before it is cut with "...". */
#define ENUM_MSG_MAX 512

/* Default character limit of FT_STRING. */
#define STRING_DEFAULT_MAX 255

static void set_text(sqlval *out, arena *a, const char *s, size_t n)
{
    *out = (sqlval){.kind = SV_TEXT, .s = arena_strndup(a, s, n), .n = n};
}

/* A number for a message: integral values without a fraction, others in
 * the shortest %g form that reads back. */
static const char *num_text(arena *a, double d)
{
    if (d == floor(d) && fabs(d) < 1e15)
        return arena_printf(a, "%.0f", d);
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.17g", d);
    return arena_strdup(a, tmp);
}

/* Code points in n bytes of valid UTF-8. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* ---- uuid, ref ------------------------------------------------------- */


bool type_uuid_parse(const char *s, size_t n, char *out)
{
    static const char lower[] = "0123456789abcdef";
    if (n != TYPE_UUID_LEN)
        return false;
    for (size_t i = 0; i < TYPE_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            out[i] = '-';
            continue;
        }
        int h = text_hexval(s[i]);
        if (h < 0)
            return false;
        out[i] = lower[h];
    }
    out[TYPE_UUID_LEN] = '\0';
    return true;
}

static const char *check_uuid(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    if (!json_is_string(v))
        return "must be a UUID";
    char *id = arena_alloc(a, TYPE_UUID_LEN + 1);
    if (!type_uuid_parse(json_string_value(v), json_string_length(v), id))
        return "must be a UUID";
    *out = (sqlval){.kind = SV_TEXT, .s = id, .n = TYPE_UUID_LEN};
    return NULL;
}

/* ---- string, text, enum ---------------------------------------------- */

/* A JSON string without NUL (JSON "\u0000" cannot get here through jin,
 * but a query-string value can). */
static const char *string_of(const json_t *v, const char **s, size_t *n)
{
    if (!json_is_string(v))
        return "must be a string";
    *s = json_string_value(v);
    *n = json_string_length(v);
    if (memchr(*s, '\0', *n))
        return "must not contain NUL characters";
    return NULL;
}

/* max_length in characters; the byte count bounds the character count, so
 * most strings are never counted. */
static const char *check_length(int64_t max, const char *s, size_t n, arena *a)
{
    if (max <= 0 || n <= (uint64_t)max || utf8_chars(s, n) <= (uint64_t)max)
        return NULL;
    return arena_printf(a, "must be at most %lld character%s", (long long)max, max == 1 ? "" : "s");
}

static const char *check_string(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    const char *s, *why;
    size_t n;
    if ((why = string_of(v, &s, &n)))
        return why;
    if ((why = check_length(f->max_length ? f->max_length : STRING_DEFAULT_MAX, s, n, a)))
        return why;
    if (f->re && regexec(f->re, s, 0, NULL, 0) != 0)
        return "does not match the required pattern";
    set_text(out, a, s, n);
    return NULL;
}

static const char *check_text(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    const char *s, *why;
    size_t n;
    if ((why = string_of(v, &s, &n)))
        return why;
    if ((why = check_length(f->max_length, s, n, a)))
        return why;
    if (f->re && regexec(f->re, s, 0, NULL, 0) != 0)
        return "does not match the required pattern";
    set_text(out, a, s, n);
    return NULL;
}

static const char *enum_msg(const app_field *f, arena *a)
{
    buf b;
    buf_init(&b, a, ENUM_MSG_MAX + 8);
    buf_puts(&b, "must be one of: ");
    for (size_t i = 0; i < f->n_enum; i++) {
        size_t len = strlen(f->enum_values[i]);
        if (b.len + len + 2 > ENUM_MSG_MAX) {
            buf_puts(&b, i ? ", ..." : "...");
            break;
        }
        if (i)
            buf_puts(&b, ", ");
        buf_append(&b, f->enum_values[i], len);
    }
    return buf_cstr(&b);
}

static const char *check_enum(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    if (!json_is_string(v))
        return enum_msg(f, a);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < f->n_enum; i++) {
        if (strlen(f->enum_values[i]) == n && memcmp(f->enum_values[i], s, n) == 0) {
            /* The model's copy: no allocation, and it outlives the request. */
            *out = (sqlval){.kind = SV_TEXT, .s = f->enum_values[i], .n = n};
            return NULL;
        }
    }
    return enum_msg(f, a);
}

/* ---- numbers, boolean ------------------------------------------------ */

static const char *check_bounds(const app_field *f, double d, arena *a)
{
    if (f->has_min && d < f->min)
        return arena_printf(a, "must be at least %s", num_text(a, f->min));
    if (f->has_max && d > f->max)
        return arena_printf(a, "must be at most %s", num_text(a, f->max));
    return NULL;
}

static const char *check_integer(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    if (!json_is_integer(v))
        return "must be an integer";
    json_int_t i = json_integer_value(v);
    const char *why = check_bounds(f, (double)i, a);
    if (why)
        return why;
    *out = (sqlval){.kind = SV_INT, .i = i};
    return NULL;
}

static const char *check_number(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    if (!json_is_number(v))
        return "must be a number";
    double d = json_number_value(v);
    if (!isfinite(d))
        return "must be a finite number";
    const char *why = check_bounds(f, d, a);
    if (why)
        return why;
    *out = (sqlval){.kind = SV_REAL, .d = d};
    return NULL;
}

static const char *check_boolean(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    if (!json_is_boolean(v))
        return "must be true or false";
    *out = (sqlval){.kind = SV_INT, .i = json_is_true(v)};
    return NULL;
}

/* ---- date, datetime -------------------------------------------------- */

static const char *const date_msg[DS__COUNT] = {
    [DS_ISO8601] = "must be a date (YYYY-MM-DD)",
    [DS_NAIVE] = "must be a date (YYYY-MM-DD)",
    [DS_COMPACT] = "must be a date (yyyyMMdd)",
};

static const char *const datetime_msg[DS__COUNT] = {
    [DS_ISO8601] = "must be a date-time (YYYY-MM-DDTHH:MM:SSZ)",
    [DS_NAIVE] = "must be a date-time (YYYY-MM-DDTHH:MM:SS)",
    [DS_COMPACT] = "must be a date-time (yyyyMMddHHmmss)",
};

static const char *check_date(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    char tmp[DT_DATE_LEN + 1];
    if (!json_is_string(v) || !dt_parse_date(json_string_value(v), json_string_length(v), ds, tmp))
        return date_msg[ds];
    set_text(out, a, tmp, DT_DATE_LEN);
    return NULL;
}

static const char *check_datetime(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    char tmp[DT_DATETIME_LEN + 1];
    if (!json_is_string(v) || !dt_parse_datetime(json_string_value(v), json_string_length(v), ds, tmp))
        return datetime_msg[ds];
    set_text(out, a, tmp, DT_DATETIME_LEN);
    return NULL;
}

/* ---- json ------------------------------------------------------------ */

/*
 * v as compact JSON through the response writer rather than json_dumps, so
 * reals come back in their shortest form (0.1 stays 0.1; json_dumps writes
 * 0.10000000000000001) and strings get the writer's escaping. Object keys
 * keep their order. The writer stops at RD_JW_MAX_DEPTH levels and the
 * loops stop with it, so the recursion is bounded whatever v is; a body
 * from jin is shallower than that anyway.
 */
static void write_value(jw *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        jw_obj_begin(w);
        for (void *it = json_object_iter((json_t *)v); it && jw_ok(w);
             it = json_object_iter_next((json_t *)v, it)) {
            jw_key(w, json_object_iter_key(it), json_object_iter_key_len(it));
            write_value(w, json_object_iter_value(it));
        }
        jw_obj_end(w);
        break;
    }
    case JSON_ARRAY:
        jw_arr_begin(w);
        for (size_t i = 0; i < json_array_size(v) && jw_ok(w); i++)
            write_value(w, json_array_get(v, i));
        jw_arr_end(w);
        break;
    case JSON_STRING:
        jw_str(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jw_int(w, json_integer_value(v));
        break;
    case JSON_REAL:
        jw_num(w, json_real_value(v));
        break;
    case JSON_TRUE:
        jw_bool(w, true);
        break;
    case JSON_FALSE:
        jw_bool(w, false);
        break;
    default:
        jw_null(w);
        break;
    }
}

static const char *check_json(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out)
{
    buf b;
    buf_init(&b, a, JSON_FIELD_MAX);
    jw w;
    jw_init(&w, &b);
    write_value(&w, v);
    if (!jw_ok(&w))
        return "is nested too deeply or too large";
    *out = (sqlval){.kind = SV_TEXT, .s = b.data, .n = b.len};
    return NULL;
}

/* ---- emit ------------------------------------------------------------ */

static bool null_col(sqlite3_stmt *st, int col, jw *w)
{
    if (sqlite3_column_type(st, col) != SQLITE_NULL)
        return false;
    jw_null(w);
    return true;
}

static void emit_text(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    if (null_col(st, col, w))
        return;
    const char *s = (const char *)sqlite3_column_text(st, col);
    jw_str(w, s, (size_t)sqlite3_column_bytes(st, col));
}

static void emit_integer(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    if (!null_col(st, col, w))
        jw_int(w, sqlite3_column_int64(st, col));
}

static void emit_number(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    if (!null_col(st, col, w))
        jw_num(w, sqlite3_column_double(st, col));
}

static void emit_boolean(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    if (!null_col(st, col, w))
        jw_bool(w, sqlite3_column_int64(st, col) != 0);
}

/* A stored date in the wire style; text that is not canonical (written by
 * something other than restd) goes out as it is rather than being hidden. */
static void emit_stamp(sqlite3_stmt *st, int col, date_style ds, jw *w,
                       size_t (*format)(const char *, size_t, date_style, char *))
{
    if (null_col(st, col, w))
        return;
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char out[32];
    size_t len = format(s, n, ds, out);
    if (len)
        jw_str(w, out, len);
    else
        jw_str(w, s, n);
}

static void emit_date(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    emit_stamp(st, col, ds, w, dt_format_date);
}

static void emit_datetime(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    emit_stamp(st, col, ds, w, dt_format_datetime);
}

static void emit_json(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    if (null_col(st, col, w))
        return;
    const char *s = (const char *)sqlite3_column_text(st, col);
    jw_raw(w, s, (size_t)sqlite3_column_bytes(st, col));
}

/* The column is a json_group_array(...) subquery: "[]" when there are no
 * links, and NULL only if the query shape changes; that is [] too. */
static void emit_ref_list(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        jw_raw(w, "[]", 2);
        return;
    }
    const char *s = (const char *)sqlite3_column_text(st, col);
    jw_raw(w, s, (size_t)sqlite3_column_bytes(st, col));
}

/* ---- the table ------------------------------------------------------- */

static const type_desc descs[] = {
    [FT_UUID] = {"TEXT", check_uuid, emit_text},
    [FT_STRING] = {"TEXT", check_string, emit_text},
    [FT_TEXT] = {"TEXT", check_text, emit_text},
    [FT_INTEGER] = {"INTEGER", check_integer, emit_integer},
    [FT_NUMBER] = {"REAL", check_number, emit_number},
    [FT_BOOLEAN] = {"INTEGER", check_boolean, emit_boolean},
    [FT_DATE] = {"TEXT", check_date, emit_date},
    [FT_DATETIME] = {"TEXT", check_datetime, emit_datetime},
    [FT_JSON] = {"TEXT", check_json, emit_json},
    [FT_ENUM] = {"TEXT", check_enum, emit_text},
    [FT_REF] = {"TEXT", check_uuid, emit_text},
    [FT_REF_LIST] = {NULL, NULL, emit_ref_list},
};
_Static_assert(sizeof descs / sizeof descs[0] == FT__COUNT, "one descriptor per field_type");

const type_desc *type_desc_of(field_type t)
{
    return (unsigned)t < FT__COUNT ? &descs[t] : NULL;
}

int sqlval_bind(sqlite3_stmt *st, int idx, const sqlval *v)
{
    switch (v->kind) {
    case SV_INT:
        return sqlite3_bind_int64(st, idx, v->i);
    case SV_REAL:
        return sqlite3_bind_double(st, idx, v->d);
    case SV_TEXT:
        return sqlite3_bind_text64(st, idx, v->s, v->n, SQLITE_STATIC, SQLITE_UTF8);
    default:
        return sqlite3_bind_null(st, idx);
    }
}

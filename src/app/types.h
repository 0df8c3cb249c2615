/*
 * Field type descriptors: one table row per field_type says how a value of
 * that type is checked and converted from a request, bound to SQL, and
 * written back out. Handlers look up the descriptor instead of switching on
 * the type in every place (STYLE 9).
 */
#ifndef RESTD_TYPES_H
#define RESTD_TYPES_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "app/app.h"
#include "json/jw.h"
#include "util/mem.h"

/* A value ready to bind: what a request value becomes after checking. */
typedef enum sqlval_kind { SV_NULL, SV_INT, SV_REAL, SV_TEXT } sqlval_kind;
typedef struct sqlval {
    sqlval_kind kind;
    int64_t i;
    double d;
    const char *s; /* SV_TEXT: arena (or model) string, valid UTF-8, no NUL inside */
    size_t n;
} sqlval;

/*
 * check: convert the JSON value v (never JSON null: callers handle null) for
 * field f into *out, allocating from a. Returns NULL on success or an
 * English fragment on failure ("must be a string", "must be at most 80
 * characters"), static or allocated from a. Applies the type's own rules
 * and the field's constraints (max_length, min/max, pattern, enum). Date
 * formats follow ds. check is NULL for FT_REF_LIST: a list is not one
 * column value (api/validate.c checks each item with type_uuid_parse).
 * *out is written only on success; its text lives in a (or, for an enum,
 * in the model), never in v, so v may be freed right after.
 *
 * emit: write column col of the current row of st for field f to w, in the
 * wire format ds. Never fails for data that check produced. SQL NULL is
 * JSON null, except for FT_REF_LIST, whose NULL is [].
 */
typedef struct type_desc {
    const char *sql_type; /* STRICT column type; NULL for FT_REF_LIST (link table) */
    const char *(*check)(const app_field *f, const json_t *v, date_style ds, arena *a, sqlval *out);
    void (*emit)(const app_field *f, sqlite3_stmt *st, int col, date_style ds, jw *w);
} type_desc;

/* Static data; NULL only for a value outside field_type. */
const type_desc *type_desc_of(field_type t);

/* Bind v as parameter idx of st. Returns the sqlite3 result code. Text is
 * bound SQLITE_STATIC: v->s must outlive the statement's next step. */
int sqlval_bind(sqlite3_stmt *st, int idx, const sqlval *v);

/* A UUID in 8-4-4-4-12 hex form (any case, any version) into out as
 * lowercase (37 bytes with the NUL). False when s is not one. */
#define TYPE_UUID_LEN 36
bool type_uuid_parse(const char *s, size_t n, char *out);

#endif

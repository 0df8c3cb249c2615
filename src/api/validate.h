/*
 * Request bodies checked against a model. Every problem in the body is
 * collected (after SQLite's Parse context) and reported together as one
 * ValidationProblemDetails; nothing reaches SQL unless the whole body is
 * clean.
 */
#ifndef RESTD_VALIDATE_H
#define RESTD_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

#include "app/app.h"
#include "app/types.h"
#include "util/err.h"
#include "util/mem.h"

typedef enum val_mode {
    VAL_CREATE,  /* POST: required fields must be present; defaults fill the rest */
    VAL_REPLACE, /* PUT: like create; absent optional fields become default or null */
    VAL_PATCH,   /* PATCH: only the keys given are checked and set */
    VAL_MERGE,   /* PUT under `put: merge`: PATCH, and keys that are not fields, read-only
                    (and computed) fields and create_only fields are ignored */
    VAL_SERVER   /* a PATCH the server composes itself (an app route's step, such as adding
                    a person to a project's team): create_only fields may be set */
} val_mode;

/* One failing field. key is the error-document key: the field's error_name,
 * or the raw key for an unknown field, or "$" for the body as a whole. */
typedef struct verr {
    const char *key;
    const char *msg;
} verr;

typedef struct verrs {
    verr *items; /* arena array */
    size_t n, cap;
} verrs;

/* A list-of-references value. */
typedef struct reflist {
    const app_field *field;
    const char **ids; /* canonical lowercase uuids */
    size_t n;
    /* How a write applies the ids: 0 (what val_body gives) replaces the
     * list; REFLIST_ADD adds the ids not there yet, REFLIST_REMOVE takes
     * these out, each inside the write's transaction (app routes). */
    unsigned char op;
} reflist;

enum { REFLIST_REPLACE, REFLIST_ADD, REFLIST_REMOVE };

/* The columns a write sets, in model order. All arrays live in the arena. */
typedef struct rowvals {
    const app_field **fields;
    sqlval *vals;
    size_t n;
    reflist *lists;
    size_t n_lists;
} rowvals;

/*
 * Check body (any JSON value) against model m for mode. On success returns
 * RD_OK and fills *out. On failure returns RD_VALIDATION with every problem in
 * *errs (messages are English sentences naming the field by its error name,
 * e.g. "The name field is required."). Under conventions.ref_lists: lenient
 * a ref_list item may also be {"id": "<uuid>"}. Keys "id", "created_at" and
 * "updated_at" (in the payload key case) are server-maintained and ignored.
 * Unknown keys and values for read-only fields are errors (past the first
 * 32 unknown keys, one "$" entry counts the rest). Errors are appended to
 * *errs, whose arrays (and every key and message) live in a; *out is
 * written only on success and points into a (or the model), never into
 * body, so body may be freed right after.
 */
rd_err val_body(const app *app, const app_model *m, const json_t *body, val_mode mode, arena *a,
                rowvals *out, verrs *errs);

/* The first key of body (an object) in body order that is neither a field
 * of m nor a server-maintained key, copied into a; NULL when there is none
 * or body is not an object. For error styles that name one bad key (Zou). */
const char *val_unknown_key(const app *app, const app_model *m, const json_t *body, arena *a);

/* Append one error (used by handlers for checks outside the body). */
void verrs_add(verrs *e, arena *a, const char *key, const char *msg);

#endif

/*
 * App routes: routes outside the generic CRUD that an app selects by name
 * (`app: {routes: NAME}`), written in C under apps/NAME-of-the-app/ and
 * compiled into restd. A route set is a table of (method, path pattern,
 * handler); a pattern is an absolute path whose `<name>` segments capture
 * one path segment each. Matching runs before the generic router, and
 * among patterns that match, a static segment beats a capture at the
 * first position where they differ (as werkzeug ranks Zou's routes), so
 * `data/projects/open` wins over `data/projects/<id>`.
 *
 * Handlers build on the generic handlers exported here (lists with fixed
 * filter terms, get, create, delete, each able to render rows under another
 * type name), so they inherit the generic query language, validation,
 * error shapes and rights. Every function that answers ends the request in
 * exactly one response, as api_handle does.
 */
#ifndef RESTD_EXT_H
#define RESTD_EXT_H

#include <jansson.h>
#include <stdbool.h>

#include "http/rq.h"
#include "store/store.h"

/* Captures per pattern and segments per path an app route can have. */
#define EXT_MAX_SEGS 12

/* caps[i]: the i-th captured segment, NUL-terminated, in the request arena
 * (raw: not yet checked to be an id). */
typedef void (*ext_fn)(rq *r, const char *const *caps);

typedef struct ext_route {
    rq_method method; /* M_GET also answers HEAD */
    const char *path; /* "/api/data/projects/<id>/assets" */
    ext_fn fn;
    bool open; /* served without a signed-in caller (apps with auth) */
} ext_route;

/* A part of a set's table (one per source file of the set). */
typedef struct ext_table {
    const ext_route *routes;
    size_t n;
} ext_table;

typedef struct ext_set {
    const char *name;
    const ext_table *const *tables;
    size_t n_tables;
} ext_set;

/* The compiled-in route set called name; NULL when there is none. */
const ext_set *ext_set_by_name(const char *name);

/* If the request's path matches a route of the app's set, answer it (405
 * with Allow when only the method differs) and return true. */
bool ext_handle(rq *r);

/* ---- building blocks for handlers (api/ext_blocks.c) ---------------- */

/* The lowercase canonical form of a UUID capture, or NULL after answering
 * 400 "Malformed ID.". */
const char *ext_id(rq *r, const char *cap);
/* Whether row id of m exists; answers 404 (naming what) and returns false
 * when not. */
bool ext_exists(rq *r, const app_model *m, const char *id, const char *what);
/* GET list of m restricted by terms (arena, ANDed before the query
 * string's own filters), rows typed type_name (NULL: the model's). Checks
 * the caller's read right on m. */
void ext_list(rq *r, const app_model *m, const fterm *terms, size_t n, const char *type_name);
/* GET one row, typed type_name; 404 when absent. */
void ext_get(rq *r, const app_model *m, const char *id, const char *type_name);
/* The request body as a JSON object (caller decrefs), or NULL after
 * answering 415/400. */
json_t *ext_body(rq *r);
/* Create a row of m from body (borrowed; the caller has set every forced
 * value in it) and answer 201 with the row typed type_name. Checks the
 * caller's write right on m. */
void ext_create(rq *r, const app_model *m, json_t *body, const char *type_name);
/* Delete row id of m: 204, 404, or 400/409 while referenced. */
void ext_delete(rq *r, const app_model *m, const char *id);
/* Run w (a job the caller filled: STORE_MULTI with steps, or STORE_RUN)
 * on the writer thread, then call cb on this loop's thread; cb answers,
 * errors included (ext_error). */
void ext_submit(rq *r, store_write *w, void (*cb)(rq *r, store_write *w));
/* A term `field = text` in the request arena, for ext_list. */
fterm ext_eq(rq *r, const app_field *f, const char *text);
/* The same with several values (IN). */
fterm ext_in(rq *r, const app_field *f, const char *const *texts, size_t n);
/* Send a JSON body built in b with status. */
void ext_send(rq *r, int status, const buf *b);
/* A response buffer in the request arena. */
buf *ext_buf(rq *r);

/* Row id of m as a JSON object (caller decrefs), all fields; NULL when
 * absent or outside the caller's row scope (authz_scope_user), so a
 * handler treats a row the caller cannot read as missing. Answers
 * nothing. */
json_t *ext_row(rq *r, const app_model *m, const char *id);
/* GET one row that must also match terms (else 404 naming type_name), typed
 * type_name: a typed view's item route. Rights, row scope and field
 * subsets as the generic GET. */
void ext_get_where(rq *r, const app_model *m, const char *id, const fterm *terms, size_t n,
                   const char *type_name);
/* Remove query parameter name from r->query and return its decoded value
 * (NULL when absent): for parameters a route maps to its own terms. */
const char *ext_take_param(rq *r, const char *name);
/* The built-in id field, for terms on id. */
const app_field *ext_id_field(rq *r);

/* Merge body (borrowed) into row id of m, as PATCH does, and answer
 * status with the row (typed type_name; 204: no body). Rights and the
 * write scope as the generic PATCH (outside it: 404). */
void ext_update(rq *r, const app_model *m, const char *id, json_t *body, int status, const char *type_name);
/* Create a row of m from body (borrowed) without answering: then runs on
 * this loop's thread with the finished write (w->err, w->new_id, w->body)
 * and must answer. Rights are the caller's to check; the write scope
 * applies (a row the caller could not reach is refused). */
void ext_create_then(rq *r, const app_model *m, json_t *body, void (*then)(rq *r, store_write *w, void *ctx),
                     void *ctx);

/* One step of a STORE_MULTI job: a create or patch of m with body
 * (borrowed) validated as POST/PATCH would (NULL after answering 422), or a
 * delete (body NULL). Its row is rendered typed type_name with the
 * caller's fields, and the step carries the caller's write scope as the
 * generic writes do (clear w->scope_user for a write the server makes on
 * its own behalf after checking the caller may cause it). */
store_write *ext_step(rq *r, const app_model *m, store_op op, const char *id, const json_t *body,
                      const char *type_name);
/* Answer a failed write as the generic handlers do. */
void ext_error(rq *r, store_write *w);

/* The request body as any JSON value, read as the generic handlers read
 * it (caller decrefs), or NULL after answering 415/400. */
json_t *ext_json(rq *r);
/* Create a row of m from body (borrowed; any JSON value) with every check
 * of the generic POST (rights, Zou's unknown keys, validation, hidden
 * fields, lenient ref lists, scope). then NULL: answer as POST does (201,
 * Location); else then runs on this loop's thread with the finished write
 * (w->err, w->new_id, w->body) and must answer. */
void ext_post(rq *r, const app_model *m, json_t *body, void (*then)(rq *r, store_write *w, void *ctx), void *ctx);

/* The route sets compiled in (apps/<app>/). */
extern const ext_set ext_zou;

#endif

/*
 * Shared by the generic handlers (crud.c), the router (route.c), the
 * app-route matcher (ext.c) and building blocks (ext_blocks.c), and
 * nothing else. Every
 * handler runs on the request's loop thread and ends the request in
 * exactly one response, possibly later from a write callback.
 */
#ifndef RESTD_CRUD_INT_H
#define RESTD_CRUD_INT_H

#include <jansson.h>

#include "api/listq.h"
#include "api/validate.h"
#include "http/rq.h"
#include "store/store.h"

/* A response buffer in the request arena, bounded by RD_MAX_RESPONSE. */
buf *crud__new_body(rq *r);
void crud__send_json(rq *r, int status, const char *reason, const buf *b);
/* The lowercase canonical form of a UUID path segment (request arena), or
 * NULL when s is not one. */
const char *crud__canonical_id(rq *r, const char *s, size_t n);

/* Render row id of m, typed type_name (NULL: the model's), as the caller
 * may see it (row scope, role's fields, API version) into *out, a new
 * response buffer; answers nothing. */
rd_err crud__row(rq *r, const app_model *m, const char *id, const char *type_name, buf **out);

/* Parse the query string on top of lq (which may hold terms already; the
 * caller's role must be served the fields of those from index `from` on).
 * False after answering 400. */
bool crud__parse_list(rq *r, const app_model *m, listq *lq, size_t from);
/* Run a parsed list query and answer it in the app's paging shape. */
void crud__send_list(rq *r, const app_model *m, listq *lq);

/* The body as JSON (caller decrefs), or NULL after answering 415/400. */
json_t *crud__read_body(rq *r);
/* Body keys naming fields that do not exist in the requested version, into
 * errs. */
void crud__hidden_fields(rq *r, const app_model *m, const json_t *body, verrs *errs);
/* Fill in the caller, row scope and version's omitted fields, and run w on
 * the writer thread; crud__written answers. */
void crud__submit(rq *r, store_write *w);
/* The same, answering with cb instead. */
void crud__submit_then(rq *r, store_write *w, void (*cb)(rq *r, store_write *w));
/* The generic write of a parsed body (borrowed; it may be changed): the
 * Zou unknown-key refusal, merge's version filter, validation, then the
 * write with w->ctx = ctx, answered by cb. via/parent: for a create under
 * a parent, the reference field and the parent's id from the path. */
void crud__write_body(rq *r, const app_model *m, const char *id, store_op op, val_mode mode, json_t *body,
                      const app_field *via, const char *parent, void (*cb)(rq *r, store_write *w), void *ctx);
/* Run w on the writer thread, then cb on this loop's thread; answers 503
 * (or the store's refusal) when the queue does not take it. */
void crud__run(rq *r, store_write *w, void (*cb)(rq *r, store_write *w));
/* Validate body (borrowed) against m in mode into w->vals; check_version
 * also refuses fields the requested API version does not have. errs may
 * hold problems the caller found already (NULL: none). False after
 * answering 422 with every problem. */
bool crud__validate(rq *r, const app_model *m, const json_t *body, val_mode mode, bool check_version,
                    verrs *errs, store_write *w);
/* Answer a finished write as the generic handlers do. */
void crud__written(rq *r, store_write *w);

/* route.c: split "a/b/c" (n bytes, no leading slash: a leading '/' makes
 * an empty first segment) into at most cap segments of p; an empty last
 * segment (a trailing slash) is not counted. cap + 1 when there are more.
 * ext.c matches app routes with it too. */
size_t route__segments(const char *p, size_t n, const char **seg, size_t *len, size_t cap);

/* A term `f = text` (n == 1) or `f IN (texts)`, in the request arena
 * (texts borrowed). */
fterm crud__term_in(rq *r, const app_field *f, const char *const *texts, size_t n);

/* The handlers the route table points at; id is canonical (or NULL for a
 * collection). */
void crud__list(rq *r, const app_model *m, const char *id);
void crud__get(rq *r, const app_model *m, const char *id);
void crud__create(rq *r, const app_model *m, const char *id);
void crud__replace(rq *r, const app_model *m, const char *id);
void crud__patch(rq *r, const app_model *m, const char *id);
void crud__delete(rq *r, const app_model *m, const char *id);
void crud__filter_save(rq *r, const app_model *m, const char *id);
void crud__filter_get(rq *r, const app_model *m, const char *id);
/* {parent route}/{pid}/{route}: via is m's reference to the parent. */
void crud__nested_list(rq *r, const app_model *m, const app_field *via, const char *pid);
void crud__nested_create(rq *r, const app_model *m, const app_field *via, const char *pid);
/* GET {route}/{id}/history. */
void crud__history(rq *r, const app_model *m, const char *id);

#endif

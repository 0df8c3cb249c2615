/*
 * The API layer: routes a request to the health check or a generic model
 * handler, and renders errors in the app's chosen shape.
 */
#ifndef RESTD_API_H
#define RESTD_API_H

#include <jansson.h>

#include "api/validate.h"
#include "http/rq.h"

/* Handle one request; always ends in exactly one rq_respond (possibly
 * later, from a write callback). */
void api_handle(rq *r);

/* Render an error document for app's error style into out.
 * *ctype and *reason receive static or arena strings. detail and errs
 * may be NULL. */
void problem_render(const app *app, rd_err e, const char *detail, const verrs *errs, arena *a,
                    buf *out, const char **ctype, const char **reason);
/* Whether a Content-Type value (n bytes, not NUL-terminated) is
 * application/json or application/...+json, with any parameters. */
bool api_json_media_type(const char *ct, size_t n);

/* The body as one JSON object (a new reference: json_decref it), or NULL
 * after answering 415 (not JSON), 400 (malformed, duplicate keys, not an
 * object). An empty body is {} when empty_is_object, else malformed. */
json_t *api_json_object(rq *r, bool empty_is_object);

/* The status an error gets in app's error style: errors: zou answers
 * validation failures, conflicts, 406 and 415 with 400 (gazu takes any
 * status it does not know for success). */
int problem_status(const app *app, rd_err e);

/* The detail to send for a failed write (e, with conflict kind k and the
 * store's detail): detail itself, or in the Zou style Zou's message for
 * that kind of conflict. Arena string or static. */
const char *problem_write_detail(const app *app, rd_err e, store_conflict k, const char *detail, arena *a);

/* Render and send. */
void problem_send(rq *r, rd_err e, const char *detail, const verrs *errs);

#endif

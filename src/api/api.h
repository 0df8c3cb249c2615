/*
 * The API layer: routes a request to the health check or a generic model
 * handler, and renders errors in the app's chosen shape.
 */
#ifndef RESTD_API_H
#define RESTD_API_H

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

/* Render and send. */
void problem_send(rq *r, rd_err e, const char *detail, const verrs *errs);

#endif

/*
 * The request as the API layer sees it: method, path, query, body and a
 * way to answer, with no HTTP-library types. The HTTP adapter (server.c)
 * fills it and owns its lifetime. Everything here is valid until the
 * request ends; the arena `a` is the request's memory.
 *
 * Threading: an rq is used on its event loop's thread only; the one
 * exception is a store_write handed to the writer thread via rq_write,
 * whose callback comes back on the loop's thread.
 */
#ifndef RESTD_RQ_H
#define RESTD_RQ_H

#include <stdbool.h>
#include <stddef.h>

#include "app/app.h"
#include "auth/pwhash.h"
#include "store/store.h"
#include "util/err.h"
#include "util/mem.h"

typedef enum rq_method { M_GET, M_HEAD, M_POST, M_PUT, M_PATCH, M_DELETE, M_OPTIONS, M_OTHER } rq_method;

typedef struct rq {
    /* public, read-only */
    rq_method method;
    const char *path; /* normalized, no query string */
    size_t path_len;
    const char *query; /* after '?', NULL when none */
    size_t query_len;
    const char *body; /* NULL when none */
    size_t body_len;
    const char *content_type; /* NULL when absent */
    size_t content_type_len;
    const char *accept; /* NULL when absent */
    size_t accept_len;
    const char *api_version_hdr; /* X-Api-Version, NULL when absent */
    size_t api_version_hdr_len;
    int version; /* API version served; set by the API layer, echoed in X-Api-Version */
    const char *peer; /* client address ("127.0.0.1", "::1"), "" when unknown */
    const char *authorization; /* Authorization header, NULL when absent */
    size_t authorization_len;
    const struct authn *authn; /* keys and hashing pool; NULL when the app has no auth */
    struct mfa *mfa;           /* second factors, reset, mail (api/mfa.h); NULL when no auth */
    /* the signed-in caller, set by the API layer */
    const char *user_id;
    const char *user_role;
    const char *token_jti, *token_sid;
    long long token_exp;
    arena *a;
    const app *app;
    store *store;
    store_conn *conn; /* this thread's read connection */
} rq;

/* Add a response header (name lowercase). Call before rq_respond. */
void rq_header(rq *r, const char *name, const char *value);
/* Send the response; body may be NULL. The body must live in the request
 * arena (or be static). Call exactly once. */
void rq_respond(rq *r, int status, const char *reason, const char *ctype, const buf *body);
/* Hand w to the writer; cb runs on this loop thread after it committed (or
 * failed), unless the client went away first. w and everything it points to
 * must live in r->a. Returns RD_UNAVAILABLE when the writer is full. */
rd_err rq_write(rq *r, store_write *w, void (*cb)(rq *r, store_write *w));

/* A request header by its lower-case name: the first one's value (not
 * NUL-terminated, *len bytes, valid until the request ends), or NULL when
 * absent. For headers read on a few routes only; the hot ones are fields. */
const char *rq_req_header(const rq *r, const char *name, size_t *len);
/* Whether the request came over TLS to this process. */
bool rq_tls(const rq *r);

/* Hand j to the hashing pool; cb runs on this loop thread once it is done,
 * unless the client went away. j must live in r->a. RD_UNAVAILABLE when
 * the pool is full. */
rd_err rq_hash(rq *r, pwjob *j, void (*cb)(rq *r, pwjob *j));

#endif

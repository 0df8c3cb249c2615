/*
 * Authentication over HTTP for apps with an `auth:` section: the signing
 * key, hashing pool and sign-in throttle (one per process), finding out
 * who calls on every model route (the schemes of auth.schemes), and the
 * per-model read/write rights. The sign-in routes that issue tokens are
 * api/signin.h's. docs/auth.md describes the behaviour.
 */
#ifndef RESTD_AUTHN_H
#define RESTD_AUTHN_H

#include <stdbool.h>

#include "app/app.h"
#include "auth/pwhash.h"
#include "http/rq.h"

typedef struct authn authn;

/* Load (or create, 0600) DIR/jwt.key next to the database and start the
 * hashing pool. NULL with *msg (heap) on failure. */
authn *authn_new(const app *ap, const char *db_path, char **msg);
void authn_free(authn *a);
pwpool *authn_pool(const authn *a);

/* Find out who is calling, by the schemes the app lists (auth.schemes:
 * bearer, token, credentials, cookie). true: r->user_* are set, go on.
 * false: stop here; either the request was answered (401, 403, 429, 503),
 * or (credentials scheme) the check went to the hashing pool, and once it
 * succeeds the request is dispatched again through api_handle, where this
 * call finds r->user_id set and returns true at once. So a caller must
 * neither answer nor write anything before calling it. */
bool authn_require(rq *r);

/* Whether the signed-in caller may read (write == false) or write model m;
 * answers the app's denied status and returns false when not. */
bool authn_allowed(rq *r, const app_model *m, bool write);

#endif

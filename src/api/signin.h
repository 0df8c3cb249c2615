/*
 * The sign-in routes of apps with an `auth:` section: login, refresh,
 * logout, authenticated and change of password (auth.routes), in the
 * app's answer style (auth.style), plus the second-factor and reset routes
 * of api/mfa.h and the `auth.disabled_routes`. docs/auth.md describes the
 * routes and their answers.
 */
#ifndef RESTD_SIGNIN_H
#define RESTD_SIGNIN_H

#include <stdbool.h>

#include "http/rq.h"

/* If the path is one of the app's auth routes, handle it and return true. */
bool signin_route(rq *r);

/*
 * Start a new session for user_id with role, as a login does: a refresh
 * family stored (on the writer) and an access token signed. done(r,
 * access, refresh, ctx) runs on r's loop thread once with both tokens
 * (arena strings, valid until the request ends) and must answer. When the
 * writer is full or signing fails the request is answered (503, 500) and
 * done is not called. The caller has checked who user_id is.
 */
void signin_issue(rq *r, const char *user_id, const char *role,
                  void (*done)(rq *r, const char *access, const char *refresh, void *ctx), void *ctx);

#endif

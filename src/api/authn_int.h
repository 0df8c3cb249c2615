/*
 * Shared by the two halves of authentication and nothing else: authn.c
 * (who is calling: the schemes on every request, revocation memory) and
 * signin.c (the sign-in routes and their answer styles). Both count failed
 * sign-ins in one throttle, and both check a login's password the same
 * way. Everything here runs on the request's loop thread unless said.
 */
#ifndef RESTD_AUTHN_INT_H
#define RESTD_AUTHN_INT_H

#include "api/authn.h"
#include "api/throttle.h"
#include "auth/jwt.h"
#include "auth/secret.h"
#include "store/authdb.h"

/* Seconds of clock skew allowed when checking a token's times. */
#define AUTHN_LEEWAY 30
/* Longest Authorization header looked at: a token is ~400 bytes. */
#define AUTHN_MAX_HEADER 8192

struct authn {
    const app *ap;
    authjwt_keys *keys;
    pwpool *pool;
    throttle *thr; /* failed sign-ins, per login ("a:") and per address ("i:") */
};

extern const throttle_rule authn__account_rule;

typedef struct authn__session authn__session;

/* After a password check: ok when the account exists, has a password and
 * it matched (active or not: the caller decides what to tell). The
 * password copy is wiped already; a full or failed pool was answered 503
 * and this is not called. */
typedef void (*authn__checked)(rq *r, authn__session *s, bool ok);

/* What a request carries from one step of a sign-in, refresh or password
 * check to the next. In r's arena. */
struct authn__session {
    authdb_job job; /* first: a write's ctx doubles as the authdb_job */
    char jti[AUTHJWT_JTI_LEN + 1];
    char family[AUTHJWT_JTI_LEN + 1];
    const char *refresh; /* the new refresh token (text) */
    char refresh_hash[AUTHSECRET_HASH_LEN + 1];
    char presented_hash[AUTHSECRET_HASH_LEN + 1];
    auth_user user; /* user.id NULL: no such login */
    pwjob hash;
    char *password; /* arena copy, wiped once checked */
    size_t password_len;
    authn__checked checked;
    const char *account_key, *addr_key; /* throttle keys of a sign-in */
    /* signin_issue: who gets the tokens instead of a login answer */
    void (*issued)(rq *r, const char *access, const char *refresh, void *ctx);
    void *issued_ctx;
};

/* 401 with WWW-Authenticate: Bearer (bad_token: error="invalid_token"). */
void authn__unauthorized(rq *r, const char *detail, bool bad_token);
/* 429 with Retry-After: wait, as a problem document. */
void authn__too_many(rq *r, long wait);
/* Count a failed sign-in against s's login and address. */
void authn__count_failure(rq *r, const authn__session *s);

/*
 * The first step of a sign-in by login and password (login route,
 * credentials scheme): set s's throttle keys, refuse a locked login or
 * address (RD_TOO_MANY, *wait = seconds), and look the account up by its
 * login field, then auth.login_also (s->user; user.id NULL when none).
 * Another error is the lookup's: answer it.
 */
rd_err authn__find(rq *r, authn__session *s, const char *login, size_t len, long *wait);
/*
 * The second step: check the password against s->user's hash on the
 * hashing pool (an unknown login or an account without a password costs
 * the same work), then call done on the loop. RD_UNAVAILABLE when the
 * pool is full (answer 503; the copy is wiped).
 */
rd_err authn__check_password(rq *r, authn__session *s, const char *pw, size_t len, authn__checked done);

/* The session cookie's value (auth.cookie), or NULL: absent, or refused
 * (*refused: malformed, too large, named twice). */
const char *authn__cookie(rq *r, size_t *n, bool *refused);

#endif

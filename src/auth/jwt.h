/*
 * JSON Web Tokens: the one place restd issues and checks JWTs.
 *
 * Only HS256 with a server-held secret of 32 to 128 bytes is supported, and
 * the algorithm is pinned here, never taken from a token. authjwt_verify
 * runs, in order: a size cap, a strict split into three base64url parts,
 * the header (exactly {"alg":"HS256","typ":"JWT"}, duplicates and any other
 * parameter such as kid, jku, x5u, jwk or crit refused), the HMAC in
 * constant time, and only then the payload (duplicates refused) and every
 * claim: exp, nbf, iat, iss, aud, use, jti, sub. docs/auth.md explains each
 * check. Revocation (jti denylist, a per-user "tokens valid after" time) is
 * the caller's job, with the claims this returns.
 *
 * libjwt 1.10.2, Debian's, checks signatures only, takes the algorithm from
 * the token and accepts any token when given a NULL or empty key
 * (shared/reference/security-notes.md §2). This wrapper therefore does the
 * whole job itself on libsodium's HMAC-SHA256; see jwt.c for why libjwt is
 * not in the verify path. The unit tests use libjwt as an independent
 * implementation to check that both agree on valid tokens.
 *
 * Thread rules: an authjwt_keys is immutable after authjwt_keys_new, so any
 * number of threads may issue and verify with it at once. Each thread keeps
 * a small cache of the tokens it last verified in full (jwt.c); a hit skips
 * the HMAC and the JSON parse but redoes the expectation and clock checks,
 * so it changes a verify's cost, never its result.
 */
#ifndef RESTD_AUTH_JWT_H
#define RESTD_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/mem.h"

/* Bounds (to move to limits.h when auth is wired in). */

/* A whole token. Ours are about 350 bytes; 4 KiB leaves room for a long
 * subject and scope while a hostile token is refused before any decoding. */
#define AUTHJWT_MAX_TOKEN 4096
/* Secret length. 32 bytes is HS256's security level (RFC 7518 §3.2 asks
 * for a key at least as long as the hash); HMAC hashes keys over 64 bytes
 * down, so more than 128 buys nothing. */
#define AUTHJWT_MIN_KEY 32
#define AUTHJWT_MAX_KEY 128
/* Clock skew between nodes tolerated on exp/nbf/iat. More than five
 * minutes would hide a broken clock. */
#define AUTHJWT_MAX_LEEWAY 300
/* jti and sid: a UUID (36) fits; ids go into logs and SQL (bound). */
#define AUTHJWT_MAX_ID 64
/* iss and sub: a URL or a user id or an email address. */
#define AUTHJWT_MAX_NAME 255
/* scope: a space-separated list, as in OAuth 2. */
#define AUTHJWT_MAX_SCOPE 1024
/* Entries in an aud array. */
#define AUTHJWT_MAX_AUD 8

/* Results of authjwt_verify (and of authjwt_issue for its two failures).
 * Every non-OK value means "unauthenticated" (401); the name is for the
 * log line only and must not be sent to the client. */
#define AUTHJWT_ERRORS(X)                                                            \
    X(OK, "ok")                                                                      \
    X(TOO_LARGE, "too_large")               /* over AUTHJWT_MAX_TOKEN */             \
    X(MALFORMED, "malformed")               /* not 3 parts, bad base64url or JSON,   \
                                               duplicate keys, claim of wrong type */ \
    X(WRONG_ALG, "wrong_alg")               /* alg missing or not exactly HS256 */   \
    X(WRONG_TYP, "wrong_typ")               /* typ missing or not exactly JWT */     \
    X(FORBIDDEN_HEADER, "forbidden_header") /* kid, jku, x5u, jwk, crit, ... */      \
    X(BAD_SIGNATURE, "bad_signature")                                                \
    X(BAD_CLAIM, "bad_claim")               /* a required claim missing or invalid */ \
    X(EXPIRED, "expired")                                                            \
    X(NOT_YET_VALID, "not_yet_valid")       /* nbf or iat in the future */           \
    X(WRONG_ISSUER, "wrong_issuer")                                                  \
    X(WRONG_AUDIENCE, "wrong_audience")                                              \
    X(WRONG_USE, "wrong_use")               /* e.g. a refresh token as access */

typedef enum authjwt_err {
#define X(name, str) AUTHJWT_##name,
    AUTHJWT_ERRORS(X)
#undef X
        AUTHJWT__COUNT
} authjwt_err;

/* A short stable name for logs ("expired"); static storage. */
const char *authjwt_strerror(authjwt_err e);

/* What a token is for, in its "use" claim. Checked on every verify, so a
 * refresh token never passes where an access token is expected. */
#define AUTHJWT_USES(X)                                                              \
    X(ACCESS, "access")   /* bearer token for API calls */                           \
    X(REFRESH, "refresh") /* only at the refresh endpoint */                         \
    X(MFA, "mfa")         /* password checked, second factor still due */

typedef enum authjwt_use {
#define X(name, str) AUTHJWT_USE_##name,
    AUTHJWT_USES(X)
#undef X
        AUTHJWT_USE__COUNT
} authjwt_use;

typedef struct authjwt_keys authjwt_keys;

/*
 * Keys from a secret of len bytes (copied; the caller may wipe its copy).
 * Returns NULL when len is outside AUTHJWT_MIN_KEY..AUTHJWT_MAX_KEY or the
 * secret is NULL: a server must refuse to start rather than sign with a
 * weak or empty key. Free with authjwt_keys_free (which wipes the copy).
 */
authjwt_keys *authjwt_keys_new(const unsigned char *secret, size_t len);
void authjwt_keys_free(authjwt_keys *k);

typedef struct authjwt_claims {
    const char *iss;   /* required: who issued it (an app's URL or name) */
    const char *sub;   /* required: the user (or API client) id */
    const char *aud;   /* optional on issue (one audience). On verify: the
                          expected audience that matched, or NULL */
    const char *jti;   /* required: unique token id, see authjwt_jti_new */
    const char *sid;   /* optional: session / refresh-family id */
    const char *scope; /* optional: space-separated scopes or roles */
    authjwt_use use;
    long long iat; /* required: issued at, Unix seconds */
    long long nbf; /* optional: not before; 0 = absent */
    long long exp; /* required: expires at; must be > iat on issue */
} authjwt_claims;

/* Characters of a jti from authjwt_jti_new (a random UUIDv4). */
#define AUTHJWT_JTI_LEN 36

/* A fresh random jti (122 random bits) into out, NUL-terminated. */
void authjwt_jti_new(char out[AUTHJWT_JTI_LEN + 1]);

/*
 * Sign the claims c into a compact JWT: header {"alg":"HS256","typ":"JWT"},
 * payload with sorted keys, base64url without padding. *out (OUT) is a
 * NUL-terminated string in arena a, valid until arena_free.
 * AUTHJWT_BAD_CLAIM when a required claim is missing, a string is longer
 * than its bound or not UTF-8, an id has characters outside [A-Za-z0-9_-],
 * or exp <= iat; AUTHJWT_TOO_LARGE when the token would pass
 * AUTHJWT_MAX_TOKEN. On failure *out is NULL.
 */
authjwt_err authjwt_issue(const authjwt_keys *k, const authjwt_claims *c, arena *a, char **out);

typedef struct authjwt_expect {
    const char *iss; /* required: the token's iss must equal it */
    const char *aud; /* NULL: the token must have no aud; else aud (a string
                        or an array) must contain it */
    authjwt_use use; /* the token's use must equal it */
    int leeway;      /* seconds of clock skew allowed; clamped to
                        0..AUTHJWT_MAX_LEEWAY */
} authjwt_expect;

/*
 * Check token (len bytes, need not be NUL-terminated) against the keys and
 * e at time now. On AUTHJWT_OK, *out (OUT) holds the claims, strings in
 * arena a (valid until arena_free); on any other result *out is zeroed.
 * Not checked here, the caller's job: whether jti is revoked, whether the
 * user still exists and is enabled, whether iat is after the user's last
 * logout or password change.
 */
authjwt_err authjwt_verify(const authjwt_keys *k, const char *token, size_t len,
                           const authjwt_expect *e, time_t now, arena *a, authjwt_claims *out);

#endif

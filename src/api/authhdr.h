/*
 * Pure readers for the request headers authentication looks at besides a
 * bearer token: the Cookie header (the session cookie), iProva's
 * `credentials u:<login> pwd:<password>` Authorization value, and
 * X-Forwarded-Proto. Every one is hostile input: each reader is bounded,
 * copies nothing (results are slices of the input), needs no NUL
 * terminator and refuses rather than guesses. api/authn.c uses them;
 * tests/unit/test_authhdr.c and tests/fuzz/fuzz_authhdr.c exercise them.
 */
#ifndef RESTD_AUTHHDR_H
#define RESTD_AUTHHDR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum authhdr_result {
    AUTHHDR_ABSENT,  /* no pair with that name */
    AUTHHDR_FOUND,   /* *val / *vlen: the value, a slice of hdr (surrounding DQUOTEs dropped) */
    AUTHHDR_REFUSED, /* the header is over RD_MAX_COOKIE_HEADER bytes or RD_MAX_COOKIE_PAIRS
                        pairs, or the name is given twice (a sibling site may have planted
                        the second one, so neither is believed) */
} authhdr_result;

/* Find the cookie named name (exact, case-sensitive) in a Cookie header
 * (RFC 6265 §5.4: "name=value" pairs separated by ";" and optional
 * spaces); hdr is n bytes. A pair without '=' or with an empty name is
 * skipped. val and vlen are OUT, set only on AUTHHDR_FOUND. */
authhdr_result authhdr_cookie(const char *hdr, size_t n, const char *name, const char **val, size_t *vlen);

/* The parameters of `credentials u:<login> pwd:<password>` (what follows
 * the scheme name and its spaces): "u:" (any case), the login up to the
 * first " pwd:" (any case), then the password: every byte to the end, as
 * sent (so a password may hold spaces, even " pwd:"; a login cannot).
 * false unless the login is 1..max_login bytes without NUL and the
 * password 1..max_password bytes. OUT: the two slices of arg. */
bool authhdr_credentials(const char *arg, size_t n, size_t max_login, size_t max_password, const char **login,
                         size_t *login_len, const char **password, size_t *password_len);

/* Whether an X-Forwarded-Proto value says https: its first element (the
 * client's hop), trimmed, equal to "https" in any case. */
bool authhdr_forwarded_https(const char *v, size_t n);

#endif

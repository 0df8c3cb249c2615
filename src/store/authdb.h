/*
 * The authentication tables and every SQL statement on them: credentials
 * (password hashes), API keys, refresh-token families and revoked access
 * tokens. Secrets are never stored: passwords as argon2id strings, API keys
 * and refresh tokens as SHA-256 hex of their random text.
 *
 * Reads run on a store_conn (event loop). Writes are store_write jobs with
 * op STORE_RUN, run = one of the authdb_* functions below and ctx = an
 * authdb_job, so they commit durably with everything else.
 */
#ifndef RESTD_AUTHDB_H
#define RESTD_AUTHDB_H

#include <sqlite3.h>
#include <stdbool.h>

#include "app/app.h"
#include "store/store.h"

/* One identity as a login or a token check needs it. */
typedef struct auth_user {
    const char *id;
    const char *role;          /* "user" when the app has no role field */
    bool active;               /* the app's active field (true when none) and not disabled */
    const char *password_hash; /* NULL when no password is set */
} auth_user;

/* RD_NOT_FOUND when no such user (or key). Strings live in a. */
rd_err store_auth_user_by_login(store_conn *c, const app *ap, const char *login, arena *a, auth_user *out);
rd_err store_auth_user_by_key(store_conn *c, const app *ap, const char *key_hash, arena *a, auth_user *out);
/* The user with this id (a signed-in caller). */
rd_err store_auth_user_by_id(store_conn *c, const app *ap, const char *id, arena *a, auth_user *out);
/* A sign-in name: the login field first, then each of auth.login_also in
 * order (the earliest-created row with that value; "" never matches). */
rd_err store_auth_user_by_any_login(store_conn *c, const app *ap, const char *login, arena *a, auth_user *out);
/* The WHERE ... ORDER BY ... LIMIT 1 tail of that lookup over the users
 * table aliased t, the name bound as ?1: for every statement that finds
 * an account by a sign-in name (store/mfadb.c too). In a. */
const char *store_auth_login_match(const app *ap, arena *a);
/* Whether an access token id was revoked (logout, refresh reuse). */
rd_err store_auth_revoked(store_conn *c, const char *jti, bool *out);

/* Inputs and outputs of an auth write job. Times are UNIX seconds. */
typedef struct authdb_job {
    const app *ap;
    long long now;
    /* a session's new refresh token and access token (issue, rotate) */
    const char *user_id;
    const char *family;       /* NULL: a new family (login) */
    const char *refresh_hash; /* SHA-256 hex of the new refresh token */
    long long refresh_exp;
    const char *access_jti;
    long long access_exp;
    /* rotate: the token presented */
    const char *presented_hash;
    long long grace; /* app auth.refresh_grace */
    bool keep;       /* refresh without rotation (auth.refresh_rotate: false): the
                        token stays valid and the new access token joins its family */
    /* revoke: a family and/or an access token */
    const char *revoke_family;
    const char *revoke_jti;
    long long revoke_jti_exp;
    /* out (rotate): who the session belongs to now */
    auth_user user;
    /* CLI: password and API keys */
    const char *password_hash;
    bool disable;
    const char *key_id, *key_hash, *key_label;
} authdb_job;

/* store_write.run functions. Each sets w->err (RD_UNAUTHORIZED for a
 * refused token) and returns false to roll its job back. */
bool authdb_login(sqlite3 *db, store_write *w);      /* store a new family's first refresh token */
bool authdb_rotate(sqlite3 *db, store_write *w);     /* refresh: check, mark used, store the next */
bool authdb_revoke(sqlite3 *db, store_write *w);     /* logout: end a family, block an access jti */
bool authdb_set_password(sqlite3 *db, store_write *w);
/* set_password, and end every session of user_id other than `family` */
bool authdb_change_password(sqlite3 *db, store_write *w);
bool authdb_set_disabled(sqlite3 *db, store_write *w); /* also ends every family of the user */
bool authdb_key_create(sqlite3 *db, store_write *w);
bool authdb_key_revoke(sqlite3 *db, store_write *w);
/* End every session of a user (writer thread, inside a job): each refresh
 * family revoked, each live access token blocked. Set w->revokes. */
bool authdb_end_sessions(sqlite3 *db, const char *user_id, long long now);

/* One API key as `restd apikey list` shows it (never the key itself). */
typedef struct auth_key {
    const char *id;
    const char *label; /* "" when none */
    long long created_at;
    bool revoked;
    long long revoked_at; /* when revoked */
} auth_key;

/* The API keys of a user (active and revoked), oldest first, as an arena
 * array in *out with *n entries. */
rd_err store_auth_keys_list(store_conn *c, const char *user_id, arena *a, auth_key **out, size_t *n);

/* Schema: called by the migration when the app has auth. */
bool store__auth_schema(sqlite3 *db, const app *ap);

#endif

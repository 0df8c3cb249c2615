/* Authentication tables and their SQL; see authdb.h. */
#include "store/authdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"

/* ---- schema ----------------------------------------------------------- */

bool store__auth_schema(sqlite3 *db, const app *ap)
{
    const char *u = ap->auth->users->name;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS _restd_credentials ("
             "user_id TEXT PRIMARY KEY NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE,"
             " password_hash TEXT, disabled INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL) STRICT",
             u);
    if (store__exec(db, sql) != SQLITE_OK)
        return false;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS _restd_api_keys ("
             "id TEXT PRIMARY KEY NOT NULL,"
             " user_id TEXT NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE,"
             " key_hash TEXT NOT NULL UNIQUE, label TEXT, created_at INTEGER NOT NULL,"
             " revoked_at INTEGER) STRICT",
             u);
    if (store__exec(db, sql) != SQLITE_OK)
        return false;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS _restd_refresh ("
             "token_hash TEXT PRIMARY KEY NOT NULL, family TEXT NOT NULL,"
             " user_id TEXT NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE,"
             " access_jti TEXT NOT NULL, access_exp INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
             " used_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0) STRICT",
             u);
    return store__exec(db, sql) == SQLITE_OK &&
           store__exec(db, "CREATE INDEX IF NOT EXISTS _restd_refresh_family ON _restd_refresh(family)") ==
               SQLITE_OK &&
           store__exec(db, "CREATE INDEX IF NOT EXISTS _restd_refresh_user ON _restd_refresh(user_id)") ==
               SQLITE_OK &&
           store__exec(db, "CREATE TABLE IF NOT EXISTS _restd_revoked ("
                           "jti TEXT PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL) STRICT") == SQLITE_OK;
}

/* ---- reads ------------------------------------------------------------ */

/* SELECT id, role, active, password_hash, disabled of users by one column. */
static const char *user_sql(const app *ap, arena *a, const char *where)
{
    const app_auth *au = ap->auth;
    return arena_printf(a,
                        "SELECT t.\"id\", %s%s%s, %s%s%s, c.password_hash, coalesce(c.disabled, 0)"
                        " FROM \"%s\" AS t LEFT JOIN _restd_credentials AS c ON c.user_id = t.\"id\" %s",
                        au->role ? "t.\"" : "'", au->role ? au->role->name : "user", au->role ? "\"" : "'",
                        au->active ? "t.\"" : "", au->active ? au->active->name : "1", au->active ? "\"" : "",
                        au->users->name, where);
}

static rd_err read_user(sqlite3_stmt *st, arena *a, auth_user *out)
{
    int rc = sqlite3_step(st);
    rd_err e = rc == SQLITE_ROW ? RD_OK : rc == SQLITE_DONE ? RD_NOT_FOUND : RD_UNAVAILABLE;
    if (e == RD_OK) {
        const char *role = (const char *)sqlite3_column_text(st, 1);
        const char *hash = (const char *)sqlite3_column_text(st, 3);
        out->id = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
        out->role = arena_strdup(a, role ? role : "");
        out->active = sqlite3_column_int(st, 2) != 0 && sqlite3_column_int(st, 4) == 0;
        out->password_hash = hash ? arena_strdup(a, hash) : NULL;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

rd_err store_auth_user_by_login(store_conn *c, const app *ap, const char *login, arena *a, auth_user *out)
{
    const char *where = arena_printf(a, "WHERE t.\"%s\" = ?1", ap->auth->login->name);
    sqlite3_stmt *st = store__stmt(store__conn_cache(c), user_sql(ap, a, where));
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    return read_user(st, a, out);
}

rd_err store_auth_user_by_id(store_conn *c, const app *ap, const char *id, arena *a, auth_user *out)
{
    sqlite3_stmt *st = store__stmt(store__conn_cache(c), user_sql(ap, a, "WHERE t.\"id\" = ?1"));
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return read_user(st, a, out);
}

const char *store_auth_login_match(const app *ap, arena *a)
{
    const app_auth *au = ap->auth;
    if (!au->n_login_also)
        return arena_printf(a, "WHERE t.\"%s\" = ?1", au->login->name);
    buf where, order;
    buf_init(&where, a, 512);
    buf_init(&order, a, 512);
    buf_printf(&where, "WHERE t.\"%s\" = ?1 OR (?1 <> '' AND (", au->login->name);
    buf_printf(&order, " ORDER BY CASE WHEN t.\"%s\" = ?1 THEN 0", au->login->name);
    for (size_t i = 0; i < au->n_login_also; i++) {
        const char *f = au->login_also[i]->name;
        buf_printf(&where, "%st.\"%s\" = ?1", i ? " OR " : "", f);
        buf_printf(&order, " WHEN t.\"%s\" = ?1 THEN %zu", f, i + 1);
    }
    buf_printf(&order, " END, t.rowid LIMIT 1");
    return arena_printf(a, "%s))%s", buf_cstr(&where), buf_cstr(&order));
}

rd_err store_auth_user_by_any_login(store_conn *c, const app *ap, const char *login, arena *a, auth_user *out)
{
    sqlite3_stmt *st = store__stmt(store__conn_cache(c), user_sql(ap, a, store_auth_login_match(ap, a)));
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    return read_user(st, a, out);
}

rd_err store_auth_user_by_key(store_conn *c, const app *ap, const char *key_hash, arena *a, auth_user *out)
{
    const char *where = "WHERE t.\"id\" = (SELECT user_id FROM _restd_api_keys"
                        " WHERE key_hash = ?1 AND revoked_at IS NULL)";
    sqlite3_stmt *st = store__stmt(store__conn_cache(c), user_sql(ap, a, where));
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, key_hash, -1, SQLITE_STATIC);
    return read_user(st, a, out);
}

rd_err store_auth_revoked(store_conn *c, const char *jti, bool *out)
{
    /* every authenticated request asks: keep the statement pinned */
    sqlite3_stmt *st = store__stmt_pinned(store__conn_cache(c), "SELECT 1 FROM _restd_revoked WHERE jti = ?1");
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? RD_OK : RD_UNAVAILABLE;
}

/* ---- writes (writer thread) -------------------------------------------- */

/* Prepare, bind text/int arguments by a tiny format ("t" text, "i" int64,
 * "n" null), step once. Returns the sqlite3 code of the step. */
static int run1(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlite3_errcode(db);
    va_list ap;
    va_start(ap, fmt);
    for (int i = 1; fmt[i - 1]; i++) {
        switch (fmt[i - 1]) {
        case 't':
            sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
            break;
        case 'i':
            sqlite3_bind_int64(st, i, va_arg(ap, long long));
            break;
        default:
            sqlite3_bind_null(st, i);
        }
    }
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc;
}

static bool fail(store_write *w, rd_err e, const char *detail)
{
    w->err = e;
    w->detail = detail;
    return false;
}

static bool insert_refresh(sqlite3 *db, const authdb_job *j, const char *family)
{
    return run1(db,
                "INSERT INTO _restd_refresh (token_hash, family, user_id, access_jti, access_exp, expires_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                "ttttii", j->refresh_hash, family, j->user_id, j->access_jti, j->access_exp, j->refresh_exp) ==
           SQLITE_DONE;
}

bool authdb_login(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    /* old revocations and spent tokens are swept as logins come in */
    run1(db, "DELETE FROM _restd_revoked WHERE expires_at < ?1", "i", j->now);
    run1(db, "DELETE FROM _restd_refresh WHERE expires_at < ?1", "i", j->now);
    if (!insert_refresh(db, j, j->family))
        return fail(w, RD_INTERNAL, NULL);
    return true;
}

/* Block every access token of a family and end the family. */
static void end_family(sqlite3 *db, const char *family, long long now)
{
    run1(db,
         "INSERT OR IGNORE INTO _restd_revoked (jti, expires_at)"
         " SELECT access_jti, access_exp FROM _restd_refresh WHERE family = ?1 AND access_exp >= ?2",
         "ti", family, now);
    run1(db, "UPDATE _restd_refresh SET revoked = 1 WHERE family = ?1", "t", family);
}

bool authdb_rotate(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT family, user_id, access_exp, expires_at, used_at, revoked"
                           " FROM _restd_refresh WHERE token_hash = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(w, RD_INTERNAL, NULL);
    sqlite3_bind_text(st, 1, j->presented_hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fail(w, RD_UNAUTHORIZED, "the refresh token is not valid");
    }
    char *family = arena_strdup(w->a, (const char *)sqlite3_column_text(st, 0));
    char *user = arena_strdup(w->a, (const char *)sqlite3_column_text(st, 1));
    long long access_exp = sqlite3_column_int64(st, 2), expires = sqlite3_column_int64(st, 3);
    bool used = sqlite3_column_type(st, 4) != SQLITE_NULL, revoked = sqlite3_column_int(st, 5) != 0;
    sqlite3_finalize(st);
    if (used && !revoked) {
        /* A token already exchanged is back: someone holds a copy. End the
         * whole family, so neither the thief nor the owner can go on. This
         * job must commit for that to stick, so it "succeeds" and reports
         * the refusal through j->user.id = NULL. */
        log_warn("msg=\"refresh token reuse: family revoked\" family=%s", family);
        end_family(db, family, j->now);
        j->user.id = NULL;
        return true;
    }
    if (revoked || used)
        return fail(w, RD_UNAUTHORIZED, "the refresh token is not valid");
    if (j->now >= expires || (j->grace > 0 && j->now > access_exp + j->grace))
        return fail(w, RD_UNAUTHORIZED, "the refresh token has expired");
    /* the user as they are now: role changes and deactivation apply */
    const app_auth *au = j->ap->auth;
    const char *sql = arena_printf(
        w->a, "SELECT %s%s%s, %s%s%s, coalesce((SELECT disabled FROM _restd_credentials WHERE user_id = t.\"id\"), 0)"
              " FROM \"%s\" AS t WHERE t.\"id\" = ?1",
        au->role ? "t.\"" : "'", au->role ? au->role->name : "user", au->role ? "\"" : "'", au->active ? "t.\"" : "",
        au->active ? au->active->name : "1", au->active ? "\"" : "", au->users->name);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(w, RD_INTERNAL, NULL);
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    const char *role = found ? (const char *)sqlite3_column_text(st, 0) : NULL;
    j->user.role = arena_strdup(w->a, role ? role : "");
    j->user.active = found && sqlite3_column_int(st, 1) != 0 && sqlite3_column_int(st, 2) == 0;
    sqlite3_finalize(st);
    if (!j->user.active)
        return fail(w, RD_UNAUTHORIZED, "the refresh token is not valid");
    j->user.id = user;
    j->user_id = user;
    j->family = family;
    if (j->keep) {
        /* No rotation: the token stays as it is. The new access token is
         * recorded as a row of the family that no presented token can match
         * (its key is not a SHA-256 hex), already spent, so ending the
         * family (logout, reuse, disable) revokes it with the others. */
        const char *key = arena_printf(w->a, "jti:%s", j->access_jti);
        if (run1(db,
                 "INSERT INTO _restd_refresh (token_hash, family, user_id, access_jti, access_exp, expires_at,"
                 " used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                 "ttttii", key, family, user, j->access_jti, j->access_exp, j->now) != SQLITE_DONE)
            return fail(w, RD_INTERNAL, NULL);
        return true;
    }
    if (run1(db, "UPDATE _restd_refresh SET used_at = ?2 WHERE token_hash = ?1", "ti", j->presented_hash, j->now) !=
            SQLITE_DONE ||
        !insert_refresh(db, j, family))
        return fail(w, RD_INTERNAL, NULL);
    return true;
}

bool authdb_revoke(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    if (j->presented_hash) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT family FROM _restd_refresh WHERE token_hash = ?1", -1, &st, NULL) ==
            SQLITE_OK) {
            sqlite3_bind_text(st, 1, j->presented_hash, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                j->revoke_family = arena_strdup(w->a, (const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
    }
    if (j->revoke_family)
        end_family(db, j->revoke_family, j->now);
    if (j->revoke_jti &&
        run1(db, "INSERT OR IGNORE INTO _restd_revoked (jti, expires_at) VALUES (?1, ?2)", "ti", j->revoke_jti,
             j->revoke_jti_exp) != SQLITE_DONE)
        return fail(w, RD_INTERNAL, NULL);
    return true;
}

bool authdb_set_password(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    int rc = run1(db,
                  "INSERT INTO _restd_credentials (user_id, password_hash, updated_at) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT(user_id) DO UPDATE SET password_hash = excluded.password_hash,"
                  " updated_at = excluded.updated_at",
                  "tti", j->user_id, j->password_hash, j->now);
    return rc == SQLITE_DONE ? true : fail(w, RD_NOT_FOUND, "no such user");
}

bool authdb_change_password(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    if (!authdb_set_password(db, w))
        return false;
    /* the other sessions may have been opened with the old password */
    run1(db,
         "INSERT OR IGNORE INTO _restd_revoked (jti, expires_at)"
         " SELECT access_jti, access_exp FROM _restd_refresh WHERE user_id = ?1 AND family <> ?2"
         " AND access_exp >= ?3",
         "tti", j->user_id, j->family ? j->family : "", j->now);
    run1(db, "UPDATE _restd_refresh SET revoked = 1 WHERE user_id = ?1 AND family <> ?2", "tt", j->user_id,
         j->family ? j->family : "");
    return true;
}

bool authdb_set_disabled(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    int rc = run1(db,
                  "INSERT INTO _restd_credentials (user_id, disabled, updated_at) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT(user_id) DO UPDATE SET disabled = excluded.disabled, updated_at = excluded.updated_at",
                  "tii", j->user_id, (long long)j->disable, j->now);
    if (rc != SQLITE_DONE)
        return fail(w, RD_NOT_FOUND, "no such user");
    if (j->disable)
        authdb_end_sessions(db, j->user_id, j->now);
    return true;
}

bool authdb_end_sessions(sqlite3 *db, const char *user_id, long long now)
{
    return run1(db,
                "INSERT OR IGNORE INTO _restd_revoked (jti, expires_at)"
                " SELECT access_jti, access_exp FROM _restd_refresh WHERE user_id = ?1 AND access_exp >= ?2",
                "ti", user_id, now) == SQLITE_DONE &&
           run1(db, "UPDATE _restd_refresh SET revoked = 1 WHERE user_id = ?1", "t", user_id) == SQLITE_DONE;
}

bool authdb_key_create(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    int rc = run1(db,
                  "INSERT INTO _restd_api_keys (id, user_id, key_hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                  "tttti", j->key_id, j->user_id, j->key_hash, j->key_label ? j->key_label : "", j->now);
    return rc == SQLITE_DONE ? true : fail(w, RD_NOT_FOUND, "no such user");
}

bool authdb_key_revoke(sqlite3 *db, store_write *w)
{
    authdb_job *j = w->ctx;
    if (run1(db, "UPDATE _restd_api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", "ti", j->key_id,
             j->now) != SQLITE_DONE)
        return fail(w, RD_INTERNAL, NULL);
    return sqlite3_changes(db) ? true : fail(w, RD_NOT_FOUND, "no such API key");
}

/* ---- reads for the command line ----------------------------------------- */

rd_err store_auth_keys_list(store_conn *c, const char *user_id, arena *a, auth_key **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store__stmt(store__conn_cache(c),
                                   "SELECT id, coalesce(label, ''), created_at, revoked_at FROM _restd_api_keys"
                                   " WHERE user_id = ?1 ORDER BY created_at, id");
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    auth_key *items = NULL;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            auth_key *grown = arena_alloc(a, ncap * sizeof *grown);
            if (*n)
                memcpy(grown, items, *n * sizeof *grown);
            items = grown;
            cap = ncap;
        }
        auth_key *k = &items[(*n)++];
        k->id = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
        k->label = arena_strdup(a, (const char *)sqlite3_column_text(st, 1));
        k->created_at = sqlite3_column_int64(st, 2);
        k->revoked = sqlite3_column_type(st, 3) != SQLITE_NULL;
        k->revoked_at = k->revoked ? sqlite3_column_int64(st, 3) : 0;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = items;
    return rc == SQLITE_DONE ? RD_OK : RD_UNAVAILABLE;
}

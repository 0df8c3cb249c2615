/* Second-factor and password-reset tables and their SQL; see mfadb.h. */
#include "store/mfadb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth/secret.h"
#include "rd_limits.h"
#include "store/authdb.h"
#include "store/store_int.h"
#include "util/dt.h"
#include "util/log.h"

static const char *const kind_names[MFA__KINDS] = {[MFA_TOTP] = "totp", [MFA_EMAIL_OTP] = "email_otp"};
/* The enabled column of each kind. */
static const char *const kind_cols[MFA__KINDS] = {[MFA_TOTP] = "totp_enabled", [MFA_EMAIL_OTP] = "email_otp_enabled"};

/* ---- schema ----------------------------------------------------------- */

/* Databases made before restd had one TOTP store kept the enrolments of
 * `restd user totp` in _restd_totp. Carry them over (enabled, with their
 * counter, so a spent code stays spent) and drop that table, so no account
 * loses its second factor on upgrade. Runs inside the migration. */
static bool adopt_old_totp(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_restd_totp'", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return true;
    if (rc != SQLITE_ROW)
        return false;
    return store__exec(db, "INSERT INTO _restd_mfa (user_id, totp_secret, totp_enabled, totp_last, preferred,"
                           " updated_at) SELECT user_id, secret, 1, last_counter, 'totp', created_at FROM _restd_totp"
                           " WHERE true ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret,"
                           " totp_enabled = 1, totp_last = excluded.totp_last,"
                           " preferred = coalesce(_restd_mfa.preferred, 'totp');"
                           " DROP TABLE _restd_totp") == SQLITE_OK;
}

bool store__mfa_schema(sqlite3 *db, const app *ap)
{
    const char *u = ap->auth->users->name;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS _restd_mfa ("
             "user_id TEXT PRIMARY KEY NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE,"
             " totp_secret TEXT, totp_enabled INTEGER NOT NULL DEFAULT 0, totp_last INTEGER NOT NULL DEFAULT 0,"
             " email_otp_enabled INTEGER NOT NULL DEFAULT 0, email_code_hash TEXT, email_code_exp INTEGER,"
             " email_code_tries INTEGER NOT NULL DEFAULT 0, preferred TEXT, updated_at INTEGER NOT NULL) STRICT",
             u);
    if (store__exec(db, sql) != SQLITE_OK || !adopt_old_totp(db))
        return false;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS _restd_recovery ("
             "user_id TEXT NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE, code_hash TEXT NOT NULL,"
             " PRIMARY KEY (user_id, code_hash)) STRICT",
             u);
    if (store__exec(db, sql) != SQLITE_OK)
        return false;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS _restd_reset ("
             "user_id TEXT PRIMARY KEY NOT NULL REFERENCES \"%s\"(\"id\") ON DELETE CASCADE,"
             " token_hash TEXT NOT NULL, expires_at INTEGER NOT NULL) STRICT",
             u);
    return store__exec(db, sql) == SQLITE_OK;
}

/* ---- helpers ---------------------------------------------------------- */

void mfadb_code_hash(const char *user_id, const char *code, size_t len, char out[65])
{
    char tmp[256];
    int n = snprintf(tmp, sizeof tmp, "%s:%.*s", user_id, (int)(len > 64 ? 64 : len), code);
    authsecret_hash_token(tmp, n > 0 && (size_t)n < sizeof tmp ? (size_t)n : 0, out);
    memset(tmp, 0, sizeof tmp);
}

/* The account expression of the users model: id, login, active. */
static const char *user_sql(const app *ap, arena *a, const char *where)
{
    const app_auth *au = ap->auth;
    return arena_printf(a,
                        "SELECT t.\"id\", t.\"%s\", %s%s%s AND coalesce((SELECT disabled FROM _restd_credentials"
                        " WHERE user_id = t.\"id\"), 0) = 0 FROM \"%s\" AS t %s",
                        au->login->name, au->active ? "t.\"" : "", au->active ? au->active->name : "1",
                        au->active ? "\"" : "", au->users->name, where);
}

/* Prepare sql, bind text ('t'), int64 ('i') or null (any other) values
 * from fmt; the caller steps and finalizes. NULL on a prepare error. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("msg=\"mfa sql\" err=\"%s\"", sqlite3_errmsg(db));
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    for (int i = 1; fmt[i - 1]; i++) {
        if (fmt[i - 1] == 't')
            sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else if (fmt[i - 1] == 'i')
            sqlite3_bind_int64(st, i, va_arg(ap, long long));
        else
            sqlite3_bind_null(st, i);
    }
    va_end(ap);
    return st;
}

/* Run a statement without results; true when it completed. */
#define EXEC(db, sql, ...) exec_done(prep((db), (sql), __VA_ARGS__))
static bool exec_done(sqlite3_stmt *st)
{
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

static bool db_fail(store_write *w)
{
    w->err = RD_INTERNAL;
    return false;
}

/* Make sure the user has a _restd_mfa row. */
static bool ensure_row(sqlite3 *db, const char *user_id, long long now)
{
    return EXEC(db, "INSERT OR IGNORE INTO _restd_mfa (user_id, updated_at) VALUES (?1, ?2)", "ti", user_id, now);
}

/* The account a sign-in name finds (writer thread; the login field, then
 * auth.login_also, as the login route): its id and login-field value (the
 * address to mail) into the job; false when none or it is not active. */
static bool find_login(sqlite3 *db, store_write *w, mfadb_job *j)
{
    const char *sql = user_sql(j->ap, w->a, store_auth_login_match(j->ap, w->a));
    sqlite3_stmt *st = prep(db, sql, "t", j->login);
    bool found = false;
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 2)) {
        j->out_user = arena_strdup(w->a, (const char *)sqlite3_column_text(st, 0));
        j->out_login = arena_strdup(w->a, (const char *)sqlite3_column_text(st, 1));
        found = true;
    }
    sqlite3_finalize(st);
    return found;
}

/* ---- reads ------------------------------------------------------------ */

rd_err mfadb_get(store_conn *c, const app *ap, const char *user_id, arena *a, mfa_row *out)
{
    memset(out, 0, sizeof *out);
    const char *sql = arena_printf(a,
                                   "SELECT u.*, m.totp_secret, coalesce(m.totp_enabled, 0), coalesce(m.totp_last, 0),"
                                   " coalesce(m.email_otp_enabled, 0), m.preferred, m.email_code_hash, m.email_code_exp"
                                   " FROM (%s) AS u"
                                   " LEFT JOIN _restd_mfa AS m ON m.user_id = u.\"id\"",
                                   user_sql(ap, a, "WHERE t.\"id\" = ?1"));
    stmt_cache *sc = store__conn_cache(c);
    sqlite3_stmt *st = store__stmt(sc, sql);
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    rd_err e = rc == SQLITE_ROW ? RD_OK : rc == SQLITE_DONE ? RD_NOT_FOUND : RD_UNAVAILABLE;
    if (e == RD_OK) {
        const char *login = (const char *)sqlite3_column_text(st, 1);
        const char *secret = (const char *)sqlite3_column_text(st, 3);
        const char *pref = (const char *)sqlite3_column_text(st, 7);
        out->login = arena_strdup(a, login ? login : "");
        out->active = sqlite3_column_int(st, 2) != 0;
        out->totp_secret = secret ? arena_strdup(a, secret) : NULL;
        out->enabled[MFA_TOTP] = sqlite3_column_int(st, 4) != 0;
        out->totp_last = sqlite3_column_int64(st, 5);
        out->enabled[MFA_EMAIL_OTP] = sqlite3_column_int(st, 6) != 0;
        out->preferred = pref ? arena_strdup(a, pref) : NULL;
        const char *ch = (const char *)sqlite3_column_text(st, 8);
        out->code_hash = ch ? arena_strdup(a, ch) : NULL;
        out->code_exp = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (e != RD_OK)
        return e;
    st = store__stmt(sc, "SELECT code_hash FROM _restd_recovery WHERE user_id = ?1 ORDER BY rowid");
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n_recovery < TOTP_RECOVERY_MAX)
        out->recovery[out->n_recovery++] = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return RD_OK;
}

rd_err mfadb_reset_get(store_conn *c, const app *ap, const char *login, arena *a, const char **user_id,
                       const char **token_hash, long long *expires)
{
    /* the account the name finds, then its pending token (if any) */
    const char *sql = arena_printf(a,
                                   "SELECT r.user_id, r.token_hash, r.expires_at FROM _restd_reset AS r"
                                   " WHERE r.user_id = (SELECT t.\"id\" FROM \"%s\" AS t %s)",
                                   ap->auth->users->name, store_auth_login_match(ap, a));
    sqlite3_stmt *st = store__stmt(store__conn_cache(c), sql);
    if (!st)
        return RD_INTERNAL;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    rd_err e = rc == SQLITE_ROW ? RD_OK : rc == SQLITE_DONE ? RD_NOT_FOUND : RD_UNAVAILABLE;
    if (e == RD_OK) {
        *user_id = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
        *token_hash = arena_strdup(a, (const char *)sqlite3_column_text(st, 1));
        *expires = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

/* ---- writes (writer thread) ---------------------------------------------- */

/* The factor state of j->user_id inside the transaction. */
typedef struct wrow {
    bool found;
    char secret[TOTP_MAX_SECRET_B32 + 1];
    bool enabled[MFA__KINDS];
    long long totp_last;
    char code_hash[AUTHSECRET_HASH_LEN + 1];
    long long code_exp;
    int tries;
} wrow;

static bool read_wrow(sqlite3 *db, const char *user_id, wrow *r)
{
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st = prep(db,
                            "SELECT totp_secret, totp_enabled, totp_last, email_otp_enabled, email_code_hash,"
                            " email_code_exp, email_code_tries FROM _restd_mfa WHERE user_id = ?1",
                            "t", user_id);
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        const char *h = (const char *)sqlite3_column_text(st, 4);
        r->found = true;
        snprintf(r->secret, sizeof r->secret, "%s", s ? s : "");
        r->enabled[MFA_TOTP] = sqlite3_column_int(st, 1) != 0;
        r->totp_last = sqlite3_column_int64(st, 2);
        r->enabled[MFA_EMAIL_OTP] = sqlite3_column_int(st, 3) != 0;
        snprintf(r->code_hash, sizeof r->code_hash, "%s", h ? h : "");
        r->code_exp = sqlite3_column_int64(st, 5);
        r->tries = sqlite3_column_int(st, 6);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Check j->code against the row for j->kind and consume it: a TOTP code's
 * counter becomes the last one; a mailed code is cleared. A wrong mailed
 * code counts a try, and the last allowed try clears the code. */
static bool check_code(sqlite3 *db, mfadb_job *j, wrow *r, mfadb_result *res)
{
    *res = MFADB_WRONG;
    if (j->kind == MFA_TOTP) {
        uint64_t matched = 0;
        totp_result tr = totp_verify(r->secret, j->code, j->code_len, (time_t)j->now,
                                     (uint64_t)(r->totp_last < 0 ? 0 : r->totp_last), &matched);
        if (tr == TOTP_REPLAY) {
            log_warn("msg=\"totp code replayed\" user=%s", j->user_id);
            *res = MFADB_REPLAY;
        }
        if (tr != TOTP_OK)
            return true;
        *res = MFADB_OK;
        return EXEC(db, "UPDATE _restd_mfa SET totp_last = ?2, updated_at = ?3 WHERE user_id = ?1", "tii", j->user_id,
                    (long long)matched, j->now);
    }
    if (!r->code_hash[0] || j->now >= r->code_exp)
        return true;
    char h[AUTHSECRET_HASH_LEN + 1];
    mfadb_code_hash(j->user_id, j->code, j->code_len, h);
    if (j->code_len == RD_EMAIL_OTP_DIGITS && authsecret_equal(h, r->code_hash, AUTHSECRET_HASH_LEN)) {
        *res = MFADB_OK;
        return EXEC(db,
                    "UPDATE _restd_mfa SET email_code_hash = NULL, email_code_tries = 0, updated_at = ?2"
                    " WHERE user_id = ?1",
                    "ti", j->user_id, j->now);
    }
    return EXEC(db,
                "UPDATE _restd_mfa SET email_code_tries = email_code_tries + 1, email_code_hash = CASE WHEN"
                " email_code_tries + 1 >= ?2 THEN NULL ELSE email_code_hash END, updated_at = ?3 WHERE user_id = ?1",
                "tii", j->user_id, (long long)RD_EMAIL_OTP_TRIES, j->now);
}

/* Copy the factor state into the users model's mirror fields
 * (auth.totp_enabled_field and friends), when the app declares them, so
 * the served row tells what the account has; updated_at moves with it. */
static bool mirror(sqlite3 *db, store_write *w, const mfadb_job *j)
{
    const app_auth *au = j->ap->auth;
    if (!au->totp_enabled && !au->email_otp_enabled && !au->preferred_factor)
        return true;
    static const char *const src[] = {"coalesce((SELECT totp_enabled FROM _restd_mfa WHERE user_id = ?1), 0)",
                                      "coalesce((SELECT email_otp_enabled FROM _restd_mfa WHERE user_id = ?1), 0)",
                                      "(SELECT preferred FROM _restd_mfa WHERE user_id = ?1)"};
    const app_field *dst[] = {au->totp_enabled, au->email_otp_enabled, au->preferred_factor};
    buf sql;
    buf_init(&sql, w->a, 2048);
    buf_printf(&sql, "UPDATE \"%s\" SET ", au->users->name);
    for (size_t i = 0; i < 3; i++)
        if (dst[i])
            buf_printf(&sql, "\"%s\" = %s, ", dst[i]->name, src[i]);
    buf_puts(&sql, "\"updated_at\" = ?2 WHERE \"id\" = ?1");
    char now[DT_DATETIME_LEN + 1];
    dt_now(now);
    return EXEC(db, buf_cstr(&sql), "tt", j->user_id, now);
}

/* Read the account's row for a step that needs factor k on (need_on) or
 * off. False when the step ends here, with *ret what it returns: false
 * after a failed read, true with j->result set when the factor's state
 * refuses the step (MFADB_NOT_ON or MFADB_ALREADY). */
static bool read_gated(sqlite3 *db, store_write *w, mfa_kind k, bool need_on, wrow *r, bool *ret)
{
    mfadb_job *j = w->ctx;
    if (!read_wrow(db, j->user_id, r)) {
        *ret = db_fail(w);
        return false;
    }
    if (r->enabled[k] != need_on) {
        j->result = need_on ? MFADB_NOT_ON : MFADB_ALREADY;
        *ret = true;
        return false;
    }
    return true;
}

bool mfadb_totp_begin(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    wrow r;
    bool ret;
    if (!read_gated(db, w, MFA_TOTP, false, &r, &ret))
        return ret;
    if (!ensure_row(db, j->user_id, j->now) ||
        !EXEC(db, "UPDATE _restd_mfa SET totp_secret = ?2, totp_last = 0, updated_at = ?3 WHERE user_id = ?1", "tti",
              j->user_id, j->secret, j->now))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

bool mfadb_totp_set(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    if (!ensure_row(db, j->user_id, j->now) ||
        !EXEC(db,
              "UPDATE _restd_mfa SET totp_secret = ?2, totp_last = 0, totp_enabled = 1,"
              " preferred = coalesce(preferred, 'totp'), updated_at = ?3 WHERE user_id = ?1",
              "tti", j->user_id, j->secret, j->now) ||
        !mirror(db, w, j))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

static bool store_set(sqlite3 *db, const char *user_id, const char *const *hashes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!EXEC(db, "INSERT OR IGNORE INTO _restd_recovery (user_id, code_hash) VALUES (?1, ?2)", "tt", user_id,
                  hashes[i]))
            return false;
    return true;
}

static long long recovery_count(sqlite3 *db, const char *user_id)
{
    sqlite3_stmt *st = prep(db, "SELECT count(*) FROM _restd_recovery WHERE user_id = ?1", "t", user_id);
    long long n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

bool mfadb_enable(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    wrow r;
    bool ret;
    if (!read_gated(db, w, j->kind, false, &r, &ret))
        return ret;
    if (!r.found || (j->kind == MFA_TOTP && !r.secret[0])) {
        j->result = MFADB_NOT_ON;
        return true;
    }
    mfadb_result ok;
    if (!check_code(db, j, &r, &ok))
        return db_fail(w);
    if (ok != MFADB_OK) {
        j->result = MFADB_WRONG;
        return true;
    }
    long long have = recovery_count(db, j->user_id);
    if (have < 0)
        return db_fail(w);
    if (have == 0 && j->n_recovery) {
        if (!store_set(db, j->user_id, j->recovery_hashes, j->n_recovery))
            return db_fail(w);
        j->codes_stored = true;
    }
    const char *sql = arena_printf(w->a,
                                   "UPDATE _restd_mfa SET %s = 1, preferred = coalesce(preferred, ?2), updated_at = ?3"
                                   " WHERE user_id = ?1",
                                   kind_cols[j->kind]);
    if (!EXEC(db, sql, "tti", j->user_id, kind_names[j->kind], j->now) || !mirror(db, w, j))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

bool mfadb_disable(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    wrow r;
    bool ret;
    if (!read_gated(db, w, j->kind, true, &r, &ret))
        return ret;
    mfa_kind other = j->kind == MFA_TOTP ? MFA_EMAIL_OTP : MFA_TOTP;
    bool ok = j->kind == MFA_TOTP
                  ? EXEC(db,
                         "UPDATE _restd_mfa SET totp_enabled = 0, totp_secret = NULL, updated_at = ?2"
                         " WHERE user_id = ?1",
                         "ti", j->user_id, j->now)
                  : EXEC(db,
                         "UPDATE _restd_mfa SET email_otp_enabled = 0, email_code_hash = NULL, updated_at = ?2"
                         " WHERE user_id = ?1",
                         "ti", j->user_id, j->now);
    if (ok && !r.enabled[other]) /* no factor left: nothing to recover */
        ok = EXEC(db, "DELETE FROM _restd_recovery WHERE user_id = ?1", "t", j->user_id) &&
             EXEC(db, "UPDATE _restd_mfa SET preferred = NULL WHERE user_id = ?1", "t", j->user_id);
    else if (ok)
        ok = EXEC(db, "UPDATE _restd_mfa SET preferred = ?2 WHERE user_id = ?1 AND preferred = ?3", "ttt", j->user_id,
                  kind_names[other], kind_names[j->kind]);
    if (!ok || !mirror(db, w, j))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

bool mfadb_use(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    wrow r;
    bool ret;
    if (!read_gated(db, w, j->kind, true, &r, &ret))
        return ret;
    if (!check_code(db, j, &r, &j->result))
        return db_fail(w);
    return true;
}

bool mfadb_recovery_use(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    if (!EXEC(db, "DELETE FROM _restd_recovery WHERE user_id = ?1 AND code_hash = ?2", "tt", j->user_id,
              j->recovery_used))
        return db_fail(w);
    /* gone already: a concurrent request used the same code first */
    j->result = sqlite3_changes(db) == 1 ? MFADB_OK : MFADB_WRONG;
    return true;
}

bool mfadb_recovery_replace(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    if (!EXEC(db, "DELETE FROM _restd_recovery WHERE user_id = ?1", "t", j->user_id) ||
        !store_set(db, j->user_id, j->recovery_hashes, j->n_recovery))
        return db_fail(w);
    j->codes_stored = true;
    j->result = MFADB_OK;
    return true;
}

bool mfadb_email_code(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    j->result = MFADB_NO_USER;
    if (!j->user_id) {
        /* the public route: only an active account with e-mail codes on */
        if (!find_login(db, w, j))
            return true;
        wrow r;
        if (!read_wrow(db, j->out_user, &r))
            return db_fail(w);
        if (!r.enabled[MFA_EMAIL_OTP])
            return true;
        j->user_id = j->out_user;
    }
    char h[AUTHSECRET_HASH_LEN + 1];
    mfadb_code_hash(j->user_id, j->code, j->code_len, h);
    if (!ensure_row(db, j->user_id, j->now) ||
        !EXEC(db,
              "UPDATE _restd_mfa SET email_code_hash = ?2, email_code_exp = ?3, email_code_tries = 0,"
              " updated_at = ?4 WHERE user_id = ?1",
              "ttii", j->user_id, h, j->code_exp, j->now))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

bool mfadb_reset_request(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    j->result = MFADB_NO_USER;
    EXEC(db, "DELETE FROM _restd_reset WHERE expires_at <= ?1", "i", j->now); /* sweep */
    if (!find_login(db, w, j))
        return true;
    if (!EXEC(db,
              "INSERT INTO _restd_reset (user_id, token_hash, expires_at) VALUES (?1, ?2, ?3)"
              " ON CONFLICT(user_id) DO UPDATE SET token_hash = excluded.token_hash, expires_at = excluded.expires_at",
              "tti", j->out_user, j->token_hash, j->token_exp))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

bool mfadb_reset_apply(sqlite3 *db, store_write *w)
{
    mfadb_job *j = w->ctx;
    if (!EXEC(db, "DELETE FROM _restd_reset WHERE user_id = ?1 AND token_hash = ?2 AND expires_at > ?3", "tti",
              j->user_id, j->token_hash, j->now))
        return db_fail(w);
    if (sqlite3_changes(db) != 1) { /* used by a concurrent request, or just expired */
        j->result = MFADB_WRONG;
        return true;
    }
    /* the password as `restd user passwd` sets it, then every session ends */
    authdb_job aj = {.ap = j->ap, .now = j->now, .user_id = j->user_id, .password_hash = j->password_hash};
    store_write sub = {.op = STORE_RUN, .ctx = &aj, .a = w->a};
    if (!authdb_set_password(db, &sub) || !authdb_end_sessions(db, j->user_id, j->now))
        return db_fail(w);
    j->result = MFADB_OK;
    return true;
}

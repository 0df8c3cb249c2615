/*
 * Second factors and password reset over HTTP; see mfa.h and docs/auth.md.
 *
 * Each request is a short chain of steps, every one off the event loop
 * when it may take time: read the account's state (read connection), hash
 * on the pool (recovery codes, a new password), spend or store on the
 * writer thread (mfadb_* jobs), then answer, and queue a mail when one is
 * due. The state of the chain lives in one arena struct (`op`), whose first
 * member is the writer job's input so a store_write's ctx is the op.
 *
 * Password reset (reset.c) shares the chain and the helpers (mfa_int.h).
 *
 * Answers follow the app's error style: with `errors: zou` the bodies are
 * Zou's ({"error": true, "message": ..., "wrong_OTP": true}), elsewhere
 * RFC 9457 problem documents with the same message as detail.
 */
#include "api/mfa.h"
#include "api/mfa_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/query.h"
#include "api/signin.h"
#include "api/throttle.h"
#include "auth/secret.h"
#include "auth/totp.h"
#include "rd_limits.h"
#include "store/mfadb.h"
#include "util/log.h"
#include "json/jin.h"
#include "json/jw.h"

static const throttle_rule fail_rule = {
    .max_fails = RD_MFA_FAILS, .window_sec = RD_THROTTLE_WINDOW_SEC, .lock_sec = RD_MFA_LOCK_SEC};
/* Every mail counts as a "failure": past the limit the key is locked. */
static const throttle_rule mail_rule = {
    .max_fails = RD_MAIL_PER_ACCOUNT, .window_sec = RD_MAIL_LOCK_SEC, .lock_sec = RD_MAIL_LOCK_SEC};

mfa *mfa_new(const app *ap, mailer *mail)
{
    mfa *m = xcalloc(1, sizeof *m);
    m->ap = ap;
    m->mail = mail;
    m->thr = throttle_new(RD_THROTTLE_SLOTS);
    return m;
}

void mfa_free(mfa *m)
{
    if (!m)
        return;
    throttle_free(m->thr);
    free(m);
}

/* ---- the chain -------------------------------------------------------- */

mfa__op *mfa__op_new(rq *r, const char *user_id)
{
    mfa__op *o = arena_zalloc(r->a, sizeof *o);
    o->a = r->a;
    o->user_id = user_id;
    o->job.ap = r->app;
    o->job.now = (long long)time(NULL);
    o->job.user_id = user_id;
    o->recovery_idx = -1;
    return o;
}

/* Hand o's job to the writer; cb runs once it committed. */
rd_err mfa__submit(rq *r, mfa__op *o, bool (*run)(sqlite3 *, store_write *), void (*cb)(rq *, store_write *),
                   bool revokes)
{
    memset(&o->w, 0, sizeof o->w);
    o->w.op = STORE_RUN;
    o->w.run = run;
    o->w.ctx = o;
    o->w.a = r->a;
    o->w.revokes = revokes;
    return rq_write(r, &o->w, cb);
}

static mfa__op *op_of_pj(pwjob *j) { return (mfa__op *)((char *)j - offsetof(mfa__op, pj)); }

static void pool_back(rq *r, pwjob *j)
{
    mfa__op *o = op_of_pj(j);
    o->then(r, o);
}

/* Run work on the hashing pool, then `then` on the loop. */
rd_err mfa__on_pool(rq *r, mfa__op *o, void (*work)(pwjob *), mfa__step then)
{
    const char *pw = o->pj.password; /* the one input a caller may have set */
    size_t pl = o->pj.password_len;
    memset(&o->pj, 0, sizeof o->pj);
    o->pj.password = pw;
    o->pj.password_len = pl;
    o->pj.work = work;
    o->then = then;
    return rq_hash(r, &o->pj, pool_back);
}

static void gen_work(pwjob *j)
{
    mfa__op *o = op_of_pj(j);
    o->gen_ok = totp_recovery_new(TOTP_RECOVERY_MAX, o->a, o->plain, o->hashes);
}

static void match_work(pwjob *j)
{
    mfa__op *o = op_of_pj(j);
    o->recovery_idx =
        totp_recovery_match(o->codes.recovery_code, o->codes.recovery_code_len, o->row.recovery, o->row.n_recovery);
}

/* ---- answers ---------------------------------------------------------- */

static bool zou(const rq *r) { return r->app->errors == ES_ZOU; }

void mfa__send_body(rq *r, int status, const char *reason, buf *b)
{
    rq_header(r, "cache-control", "no-store");
    rq_respond(r, status, reason, "application/json", b);
}

jw *mfa__begin(rq *r, buf **b)
{
    *b = arena_alloc(r->a, sizeof **b);
    buf_init(*b, r->a, 16384);
    jw *w = arena_alloc(r->a, sizeof *w);
    jw_init(w, *b);
    jw_obj_begin(w);
    return w;
}

/* A refusal: Zou's {"error": true, "message": msg, flag: true} with the
 * status of e, or a problem document with msg as its detail. */
void mfa__refuse(rq *r, rd_err e, const char *msg, const char *flag)
{
    if (!zou(r)) {
        problem_send(r, e, msg, NULL);
        return;
    }
    buf *b;
    jw *w = mfa__begin(r, &b);
    jw_keyz(w, "error");
    jw_bool(w, true);
    jw_keyz(w, "message");
    jw_strz(w, msg);
    if (flag) {
        jw_keyz(w, flag);
        jw_bool(w, true);
    }
    jw_obj_end(w);
    const rd_err_info *info = rd_err_get(e);
    mfa__send_body(r, info->status, info->title, b);
}

void mfa__success(rq *r)
{
    buf *b;
    jw *w = mfa__begin(r, &b);
    jw_keyz(w, "success");
    jw_bool(w, true);
    jw_obj_end(w);
    mfa__send_body(r, 200, "OK", b);
}

void mfa__busy(rq *r) { problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL); }

static void locked(rq *r, long wait)
{
    rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait > 0 ? wait : 1));
    mfa__refuse(r, RD_TOO_MANY, "Too many failed attempts; try again later.", NULL);
}

/* After a store_write: true when it failed (and the answer is sent). */
bool mfa__write_failed(rq *r, store_write *w)
{
    if (w->err == RD_OK)
        return false;
    problem_send(r, w->err == RD_UNAVAILABLE ? RD_UNAVAILABLE : RD_INTERNAL, NULL, NULL);
    return true;
}

/* {"otp_recovery_codes": [...] or null}, and the tokens of a new session
 * when access is not NULL. */
static void send_codes(rq *r, mfa__op *o, bool stored, const char *access, const char *refresh)
{
    buf *b;
    jw *w = mfa__begin(r, &b);
    jw_keyz(w, "otp_recovery_codes");
    if (stored) {
        jw_arr_begin(w);
        for (size_t i = 0; i < TOTP_RECOVERY_MAX; i++)
            jw_strz(w, o->plain[i]);
        jw_arr_end(w);
    } else {
        jw_null(w); /* a set exists from another factor: it stays (Zou) */
    }
    if (access) {
        jw_keyz(w, "access_token");
        jw_strz(w, access);
        jw_keyz(w, "refresh_token");
        jw_strz(w, refresh);
    }
    jw_obj_end(w);
    mfa__send_body(r, 200, "OK", b);
}

/* ---- request bodies ---------------------------------------------------- */

/* Member key of body as an arena string: absent or null leaves *out NULL;
 * another type, or more than max bytes, answers 400 and returns false. */
bool mfa__body_str(rq *r, const json_t *body, const char *key, size_t max, const char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    const json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) > max) {
        mfa__refuse(r, RD_BAD_REQUEST, arena_printf(r->a, "'%s' must be a string of at most %zu characters", key, max),
                    NULL);
        return false;
    }
    *len = json_string_length(v);
    *out = arena_strndup(r->a, json_string_value(v), *len);
    return true;
}

/* The three second-factor members of a body. false after answering. */
static bool read_codes(rq *r, const json_t *body, mfa_codes *c)
{
    memset(c, 0, sizeof *c);
    return mfa__body_str(r, body, "totp", MFA_MAX_CODE, &c->totp, &c->totp_len) &&
           mfa__body_str(r, body, "email_otp", MFA_MAX_CODE, &c->email_otp, &c->email_otp_len) &&
           mfa__body_str(r, body, "recovery_code", MFA_MAX_CODE, &c->recovery_code, &c->recovery_code_len);
}

/* Read the signed-in caller's state into o->row; false after answering. */
static bool read_row(rq *r, mfa__op *o)
{
    rd_err e = mfadb_get(r->conn, r->app, o->user_id, r->a, &o->row);
    if (e == RD_OK && o->row.active)
        return true;
    if (e == RD_OK || e == RD_NOT_FOUND)
        problem_send(r, RD_UNAUTHORIZED, "the account is not active", NULL);
    else
        problem_send(r, e, NULL, NULL);
    return false;
}

/* ---- mail -------------------------------------------------------------- */

static const char *app_title(const app *ap) { return ap->title && *ap->title ? ap->title : ap->name; }

/* Queue a mail; a failure is logged, never shown (the answer must not
 * depend on it). */
void mfa__mail(rq *r, const char *to, const char *subject, const char *body)
{
    rd_err e = mail_send(r->mfa->mail, to, subject, body);
    if (e == RD_BAD_REQUEST)
        log_warn("msg=\"mail not queued\" reason=\"the account's login is not a plain mail address\"");
    else if (e != RD_OK)
        log_warn("msg=\"mail not queued\" reason=\"%s\"", r->mfa->mail ? "queue full" : "no SMTP configured");
}

/* Subjects are ASCII; a title with other characters is left out. */
const char *mfa__subject(rq *r, const char *what)
{
    const char *t = app_title(r->app);
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || p - t > 80)
            return what;
    return arena_printf(r->a, "%s: %s", t, what);
}

/* Whether another mail to key may go now; counts this one. */
static const throttle_rule public_rule = {
    .max_fails = RD_MAIL_PER_ADDR, .window_sec = RD_MAIL_LOCK_SEC, .lock_sec = RD_MAIL_LOCK_SEC};

bool mfa__public_allowed(rq *r)
{
    const char *key = arena_printf(r->a, "p:%s", r->peer ? r->peer : "");
    time_t now = time(NULL);
    long wait = throttle_wait(r->mfa->thr, key, strlen(key), now);
    if (!wait) { /* counted; the one that starts a lock still goes */
        throttle_fail(r->mfa->thr, key, strlen(key), &public_rule, now);
        return true;
    }
    rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
    mfa__refuse(r, RD_TOO_MANY, "Too many requests from this address; try again later.", NULL);
    return false;
}

bool mfa__mail_allowed(rq *r, const char *key)
{
    time_t now = time(NULL);
    if (throttle_wait(r->mfa->thr, key, strlen(key), now) > 0)
        return false;
    throttle_fail(r->mfa->thr, key, strlen(key), &mail_rule, now);
    return true;
}

static void mail_code(rq *r, const char *to, const char *code)
{
    mfa__mail(r, to, mfa__subject(r, "your sign-in code"),
              arena_printf(r->a,
                           "Your one-time sign-in code is:\n\n    %s\n\nIt works once, for %d minutes.\n"
                           "If you did not ask for it, someone may know your password: change it.\n",
                           code, RD_EMAIL_OTP_TTL / 60));
}

/* A new mailed code: RD_EMAIL_OTP_DIGITS uniform digits. */
static const char *new_code(rq *r)
{
    char *c = arena_alloc(r->a, RD_EMAIL_OTP_DIGITS + 1);
    for (int i = 0; i < RD_EMAIL_OTP_DIGITS; i++)
        c[i] = (char)('0' + randombytes_uniform(10));
    c[RD_EMAIL_OTP_DIGITS] = '\0';
    return c;
}

/* ---- mfa_check ----------------------------------------------------------- */

static const char *fail_key(rq *r, const char *user_id) { return arena_printf(r->a, "2:%s", user_id); }

static void check_end(rq *r, mfa__op *o, mfa_result res)
{
    const char *k = fail_key(r, o->user_id);
    if (res == MFA_PASSED)
        throttle_clear(r->mfa->thr, k, strlen(k));
    else if ((res == MFA_WRONG || res == MFA_REPLAYED) &&
             throttle_fail(r->mfa->thr, k, strlen(k), &fail_rule, time(NULL)))
        log_warn("msg=\"second factor locked\" user=%s", o->user_id);
    o->done(r, res, o->ctx);
}

static void code_used(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (w->err != RD_OK)
        check_end(r, o, w->err == RD_UNAVAILABLE ? MFA_BUSY : MFA_ERROR);
    else
        check_end(r, o,
                  o->job.result == MFADB_OK       ? MFA_PASSED
                  : o->job.result == MFADB_REPLAY ? MFA_REPLAYED
                                                  : MFA_WRONG);
}

static void recovery_matched(rq *r, mfa__op *o)
{
    if (o->recovery_idx < 0) {
        check_end(r, o, MFA_WRONG);
        return;
    }
    o->job.recovery_used = o->row.recovery[o->recovery_idx];
    if (mfa__submit(r, o, mfadb_recovery_use, code_used, false) != RD_OK)
        check_end(r, o, MFA_BUSY);
}

void mfa_check(rq *r, const char *user_id, const mfa_codes *codes, void (*done)(rq *r, mfa_result res, void *ctx),
               void *ctx)
{
    if (!r->mfa) { /* no state to count failures in: refuse rather than skip */
        done(r, MFA_ERROR, ctx);
        return;
    }
    mfa__op *o = mfa__op_new(r, user_id);
    o->done = done;
    o->ctx = ctx;
    o->codes = *codes;
    rd_err e = mfadb_get(r->conn, r->app, user_id, r->a, &o->row);
    if (e != RD_OK) {
        done(r, e == RD_UNAVAILABLE ? MFA_BUSY : MFA_ERROR, ctx);
        return;
    }
    const mfa_row *row = &o->row;
    if (!row->enabled[MFA_TOTP] && !row->enabled[MFA_EMAIL_OTP]) {
        done(r, MFA_NONE, ctx);
        return;
    }
    const char *k = fail_key(r, user_id);
    if (throttle_wait(r->mfa->thr, k, strlen(k), time(NULL)) > 0) {
        done(r, MFA_LOCKED, ctx);
        return;
    }
    if (codes->totp && row->enabled[MFA_TOTP]) {
        o->job.kind = MFA_TOTP;
        o->job.code = codes->totp;
        o->job.code_len = codes->totp_len;
    } else if (codes->email_otp && row->enabled[MFA_EMAIL_OTP]) {
        o->job.kind = MFA_EMAIL_OTP;
        o->job.code = codes->email_otp;
        o->job.code_len = codes->email_otp_len;
    } else if (codes->recovery_code) {
        if (row->n_recovery == 0) {
            check_end(r, o, MFA_WRONG);
            return;
        }
        if (mfa__on_pool(r, o, match_work, recovery_matched) != RD_OK)
            done(r, MFA_BUSY, ctx);
        return;
    } else {
        done(r, MFA_MISSING, ctx);
        return;
    }
    if (mfa__submit(r, o, mfadb_use, code_used, false) != RD_OK)
        done(r, MFA_BUSY, ctx);
}

/* Answers for a failed check outside the login: the route's refusal. */
static bool check_refused(rq *r, mfa_result res)
{
    switch (res) {
    case MFA_PASSED:
        return false;
    case MFA_LOCKED:
        locked(r, RD_MFA_LOCK_SEC);
        return true;
    case MFA_BUSY:
        mfa__busy(r);
        return true;
    case MFA_ERROR:
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return true;
    default: /* NONE is caught by the routes before the check */
        mfa__refuse(r, RD_BAD_REQUEST, "OTP verification failed.", "wrong_OTP");
        return true;
    }
}

/* ---- the login step -------------------------------------------------------- */

static void login_checked(rq *r, mfa_result res, void *ctx)
{
    mfa__op *o = ctx;
    if (res == MFA_PASSED || res == MFA_NONE) {
        o->login_next(r, o->login_ctx);
        return;
    }
    if (res == MFA_BUSY) {
        mfa__busy(r);
        return;
    }
    if (res == MFA_ERROR) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    if (!zou(r)) {
        if (res == MFA_LOCKED) {
            locked(r, RD_MFA_LOCK_SEC);
            return;
        }
        rq_header(r, "www-authenticate", "Bearer");
        problem_send(r, RD_UNAUTHORIZED,
                     res == MFA_MISSING ? "this account needs a second factor: totp, email_otp or recovery_code"
                                        : "the second factor is not valid",
                     NULL);
        return;
    }
    /* Zou's login answers (blueprints/auth/resources.py LoginResource) */
    buf *b;
    jw *w = mfa__begin(r, &b);
    jw_keyz(w, "error");
    jw_bool(w, true);
    jw_keyz(w, "login");
    jw_bool(w, false);
    if (res == MFA_MISSING) {
        const mfa_row *row = &o->row;
        jw_keyz(w, "missing_OTP");
        jw_bool(w, true);
        jw_keyz(w, "preferred_two_factor_authentication");
        if (row->preferred)
            jw_strz(w, row->preferred);
        else
            jw_null(w);
        jw_keyz(w, "two_factor_authentication_enabled");
        jw_arr_begin(w);
        jw_strz(w, "recovery_code");
        if (row->enabled[MFA_TOTP])
            jw_strz(w, "totp");
        if (row->enabled[MFA_EMAIL_OTP])
            jw_strz(w, "email_otp");
        jw_arr_end(w);
    } else {
        jw_keyz(w, res == MFA_LOCKED ? "too_many_failed_login_attemps" : "wrong_OTP");
        jw_bool(w, true);
    }
    jw_obj_end(w);
    mfa__send_body(r, 400, "Bad Request", b);
}

/* The state mfa_check read is needed for Zou's missing_OTP answer. */
static void login_row_checked(rq *r, mfa_result res, void *ctx)
{
    mfa__op *o = ctx;
    if (res == MFA_MISSING && mfadb_get(r->conn, r->app, o->user_id, r->a, &o->row) != RD_OK)
        res = MFA_ERROR;
    login_checked(r, res, ctx);
}

void mfa_login_step(rq *r, const char *user_id, void (*next)(rq *r, void *ctx), void *ctx)
{
    mfa__op *o = mfa__op_new(r, user_id);
    o->login_next = next;
    o->login_ctx = ctx;
    /* the login handler has read the body already; only the code members
     * are looked at here, and a malformed one counts as absent */
    const char *msg = NULL;
    json_t *body = r->body_len ? jin_parse(r->body, r->body_len, r->a, &msg) : NULL;
    if (json_is_object(body)) {
        static const char *const keys[] = {"totp", "email_otp", "recovery_code"};
        const char **vals[] = {&o->codes.totp, &o->codes.email_otp, &o->codes.recovery_code};
        size_t *lens[] = {&o->codes.totp_len, &o->codes.email_otp_len, &o->codes.recovery_code_len};
        for (size_t i = 0; i < 3; i++) {
            const json_t *v = json_object_get(body, keys[i]);
            if (json_is_string(v) && json_string_length(v) <= MFA_MAX_CODE) {
                *lens[i] = json_string_length(v);
                *vals[i] = arena_strndup(r->a, json_string_value(v), *lens[i]);
            } else if (v && !json_is_null(v)) {
                /* a number or an oversized string: a code that cannot match */
                *vals[i] = "";
            }
        }
    }
    json_decref(body);
    mfa_check(r, user_id, &o->codes, login_row_checked, o);
}

/* ---- TOTP: PUT (begin), POST (confirm), DELETE ----------------------------- */

static void totp_begun(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    if (o->job.result == MFADB_ALREADY) {
        mfa__refuse(r, RD_BAD_REQUEST, "TOTP already enabled.", NULL);
        return;
    }
    const char *uri = totp_uri(app_title(r->app), o->row.login, o->secret, r->a);
    if (!uri) {
        problem_send(r, RD_INTERNAL, "the account name is too long for a provisioning URI", NULL);
        return;
    }
    buf *b;
    jw *out = mfa__begin(r, &b);
    jw_keyz(out, "totp_provisionning_uri"); /* sic: Zou's spelling */
    jw_strz(out, uri);
    jw_keyz(out, "otp_secret");
    jw_strz(out, o->secret);
    jw_obj_end(out);
    mfa__send_body(r, 200, "OK", b);
}

static void totp_put(rq *r, mfa__op *o)
{
    if (o->row.enabled[MFA_TOTP]) {
        mfa__refuse(r, RD_BAD_REQUEST, "TOTP already enabled.", NULL);
        return;
    }
    char *s = arena_alloc(r->a, TOTP_SECRET_B32_LEN + 1);
    totp_secret_new(s);
    o->secret = s;
    o->job.secret = s;
    if (mfa__submit(r, o, mfadb_totp_begin, totp_begun, false) != RD_OK)
        mfa__busy(r);
}

static const char *const kind_label[MFA__KINDS] = {[MFA_TOTP] = "totp", [MFA_EMAIL_OTP] = "email_otp"};
static const char *const already_msg[MFA__KINDS] = {
    [MFA_TOTP] = "TOTP already enabled.", [MFA_EMAIL_OTP] = "OTP by email already enabled."};
static const char *const failed_msg[MFA__KINDS] = {
    [MFA_TOTP] = "TOTP verification failed.", [MFA_EMAIL_OTP] = "OTP by email verification failed."};
static const char *const not_on_msg[MFA__KINDS] = {
    [MFA_TOTP] = "TOTP not enabled.", [MFA_EMAIL_OTP] = "OTP by email not enabled."};

static void enabled_with_tokens(rq *r, const char *access, const char *refresh, void *ctx)
{
    mfa__op *o = ctx;
    send_codes(r, o, o->job.codes_stored, access, refresh);
}

static void enabled(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    switch (o->job.result) {
    case MFADB_OK:
        log_info("msg=\"second factor enabled\" user=%s factor=%s", o->user_id, kind_label[o->kind]);
        /* Zou answers a new session too (its tokens then lose the claim
         * that 2FA must be set up); restd issues one when it has a login */
        if (r->app->auth->login_path)
            signin_issue(r, o->user_id, r->user_role, enabled_with_tokens, o);
        else
            send_codes(r, o, o->job.codes_stored, NULL, NULL);
        return;
    case MFADB_ALREADY:
        mfa__refuse(r, RD_BAD_REQUEST, already_msg[o->kind], NULL);
        return;
    default: {
        const char *k = fail_key(r, o->user_id);
        throttle_fail(r->mfa->thr, k, strlen(k), &fail_rule, time(NULL));
        mfa__refuse(r, RD_BAD_REQUEST, failed_msg[o->kind], "wrong_OTP");
        return;
    }
    }
}

static void enable_commit(rq *r, mfa__op *o)
{
    if (o->then && !o->gen_ok) { /* the recovery set could not be hashed */
        mfa__busy(r);
        return;
    }
    if (o->gen_ok) {
        o->job.recovery_hashes = (const char *const *)o->hashes;
        o->job.n_recovery = TOTP_RECOVERY_MAX;
    }
    if (mfa__submit(r, o, mfadb_enable, enabled, false) != RD_OK)
        mfa__busy(r);
}

/* POST: confirm a factor with its first code. The code is checked here
 * first, so a wrong one costs no argon2 work; the writer checks it again
 * (and spends it) when it enables the factor. */
static void confirm(rq *r, mfa__op *o, const char *code, size_t len)
{
    const mfa_row *row = &o->row;
    if (row->enabled[o->kind]) {
        mfa__refuse(r, RD_BAD_REQUEST, already_msg[o->kind], NULL);
        return;
    }
    const char *k = fail_key(r, o->user_id);
    long wait = throttle_wait(r->mfa->thr, k, strlen(k), time(NULL));
    if (wait > 0) {
        locked(r, wait);
        return;
    }
    bool plausible;
    if (o->kind == MFA_TOTP) {
        uint64_t m = 0;
        plausible = row->totp_secret && totp_verify(row->totp_secret, code, len, (time_t)o->job.now,
                                                    (uint64_t)(row->totp_last < 0 ? 0 : row->totp_last), &m) == TOTP_OK;
    } else {
        char h[AUTHSECRET_HASH_LEN + 1];
        mfadb_code_hash(o->user_id, code, len, h);
        plausible = row->code_hash && o->job.now < row->code_exp && len == RD_EMAIL_OTP_DIGITS &&
                    strlen(row->code_hash) == AUTHSECRET_HASH_LEN &&
                    authsecret_equal(h, row->code_hash, AUTHSECRET_HASH_LEN);
    }
    o->job.kind = o->kind;
    o->job.code = code;
    o->job.code_len = len;
    if (!plausible || row->n_recovery > 0) {
        /* a wrong code still goes to the writer: it counts the try */
        enable_commit(r, o);
        return;
    }
    if (mfa__on_pool(r, o, gen_work, enable_commit) != RD_OK)
        mfa__busy(r);
}

/* DELETE: turn a factor off, given a valid second factor. */
static void disabled(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    if (o->job.result == MFADB_NOT_ON) {
        mfa__refuse(r, RD_BAD_REQUEST, not_on_msg[o->kind], NULL);
        return;
    }
    log_info("msg=\"second factor disabled\" user=%s factor=%s", o->user_id, kind_label[o->kind]);
    mfa__success(r);
}

static void disable_checked(rq *r, mfa_result res, void *ctx)
{
    mfa__op *o = ctx;
    if (check_refused(r, res))
        return;
    o->job.kind = o->kind;
    if (mfa__submit(r, o, mfadb_disable, disabled, false) != RD_OK)
        mfa__busy(r);
}

static void disable(rq *r, mfa__op *o, const mfa_codes *codes)
{
    if (!o->row.enabled[MFA_TOTP] && !o->row.enabled[MFA_EMAIL_OTP]) {
        mfa__refuse(r, RD_BAD_REQUEST, not_on_msg[o->kind], NULL);
        return;
    }
    o->codes = *codes;
    mfa_check(r, o->user_id, &o->codes, disable_checked, o);
}

/* ---- recovery codes: PUT ------------------------------------------------- */

static void replaced(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    log_info("msg=\"recovery codes replaced\" user=%s", o->user_id);
    send_codes(r, o, true, NULL, NULL);
}

static void recovery_generated(rq *r, mfa__op *o)
{
    if (!o->gen_ok) {
        mfa__busy(r);
        return;
    }
    o->job.recovery_hashes = (const char *const *)o->hashes;
    o->job.n_recovery = TOTP_RECOVERY_MAX;
    if (mfa__submit(r, o, mfadb_recovery_replace, replaced, false) != RD_OK)
        mfa__busy(r);
}

static void recovery_checked(rq *r, mfa_result res, void *ctx)
{
    mfa__op *o = ctx;
    if (check_refused(r, res))
        return;
    if (mfa__on_pool(r, o, gen_work, recovery_generated) != RD_OK)
        mfa__busy(r);
}

/* ---- e-mail codes: GET (public), PUT (start), POST, DELETE --------------- */

static void code_stored(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    if (o->job.result == MFADB_OK)
        mail_code(r, o->job.out_login ? o->job.out_login : o->row.login, o->mail_code);
    mfa__success(r);
}

/* Draw a fresh e-mail code and have the writer store it; code_stored
 * mails it once committed. */
static void store_new_code(rq *r, mfa__op *o)
{
    o->mail_code = new_code(r);
    o->job.code = o->mail_code;
    o->job.code_len = RD_EMAIL_OTP_DIGITS;
    o->job.code_exp = o->job.now + RD_EMAIL_OTP_TTL;
    if (mfa__submit(r, o, mfadb_email_code, code_stored, false) != RD_OK)
        mfa__busy(r);
}

static void email_put(rq *r, mfa__op *o)
{
    if (o->row.enabled[MFA_EMAIL_OTP]) {
        mfa__refuse(r, RD_BAD_REQUEST, "OTP by email already enabled.", NULL);
        return;
    }
    if (!r->mfa->mail) {
        problem_send(r, RD_UNAVAILABLE, "this server sends no mail (no SMTP configured)", NULL);
        return;
    }
    if (!mail_address_ok(o->row.login)) {
        mfa__refuse(r, RD_BAD_REQUEST, "The account's login is not a mail address.", NULL);
        return;
    }
    const char *k = arena_printf(r->a, "m:%s", o->user_id);
    if (!mfa__mail_allowed(r, k)) {
        locked(r, RD_MAIL_LOCK_SEC);
        return;
    }
    store_new_code(r, o);
}

/* The login named in a body or query, as the login route takes it. */
const char *mfa__login_key(rq *r) { return r->app->auth->login->json_name; }

static void h_email_get(rq *r)
{
    qparam ps[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int n = r->query ? query_parse(r->query, r->query_len, r->a, ps, RD_MAX_QUERY_PARAMS, &bad) : 0;
    if (n < 0) {
        mfa__refuse(r, RD_BAD_REQUEST, bad, NULL);
        return;
    }
    const char *login = NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(ps[i].name, mfa__login_key(r)) == 0 && ps[i].value_len && ps[i].value_len <= MFA_MAX_LOGIN)
            login = ps[i].value;
    if (!login) {
        mfa__refuse(r, RD_BAD_REQUEST, arena_printf(r->a, "the query needs '%s'", mfa__login_key(r)), NULL);
        return;
    }
    /* The same answer, and the same work on this side, whether or not the
     * account exists or has e-mail codes on: the writer decides. Each
     * request costs a commit, hence the cap per client address. */
    if (!mfa__public_allowed(r))
        return;
    if (!mfa__mail_allowed(r, arena_printf(r->a, "m:%s", login))) {
        mfa__success(r);
        return;
    }
    mfa__op *o = mfa__op_new(r, NULL);
    o->job.login = login;
    store_new_code(r, o);
}

/* ---- routing -------------------------------------------------------------- */

/* The signed-in routes share their start: token, account state, body. */
typedef void (*signed_fn)(rq *r, mfa__op *o, const json_t *body);

static void totp_post_fn(rq *r, mfa__op *o, const json_t *body)
{
    const char *code;
    size_t n;
    if (!mfa__body_str(r, body, "totp", MFA_MAX_CODE, &code, &n))
        return;
    if (!code) {
        mfa__refuse(r, RD_BAD_REQUEST, "a 'totp' code is needed", NULL);
        return;
    }
    o->kind = MFA_TOTP;
    confirm(r, o, code, n);
}

static void email_post_fn(rq *r, mfa__op *o, const json_t *body)
{
    const char *code;
    size_t n;
    if (!mfa__body_str(r, body, "email_otp", MFA_MAX_CODE, &code, &n))
        return;
    if (!code) {
        mfa__refuse(r, RD_BAD_REQUEST, "an 'email_otp' code is needed", NULL);
        return;
    }
    o->kind = MFA_EMAIL_OTP;
    confirm(r, o, code, n);
}

static void totp_put_fn(rq *r, mfa__op *o, const json_t *body) { totp_put(r, o); }
static void email_put_fn(rq *r, mfa__op *o, const json_t *body) { email_put(r, o); }

static void delete_fn(rq *r, mfa__op *o, const json_t *body, mfa_kind kind)
{
    mfa_codes c;
    if (!read_codes(r, body, &c))
        return;
    o->kind = kind;
    disable(r, o, &c);
}
static void totp_delete_fn(rq *r, mfa__op *o, const json_t *body) { delete_fn(r, o, body, MFA_TOTP); }
static void email_delete_fn(rq *r, mfa__op *o, const json_t *body) { delete_fn(r, o, body, MFA_EMAIL_OTP); }

static void recovery_put_fn(rq *r, mfa__op *o, const json_t *body)
{
    if (!o->row.enabled[MFA_TOTP] && !o->row.enabled[MFA_EMAIL_OTP]) {
        mfa__refuse(r, RD_BAD_REQUEST, "No two factor authentication enabled.", NULL);
        return;
    }
    mfa_codes c;
    if (!read_codes(r, body, &c))
        return;
    o->codes = c;
    mfa_check(r, o->user_id, &o->codes, recovery_checked, o);
}

static void run_signed(rq *r, signed_fn fn)
{
    if (!authn_require(r))
        return;
    json_t *body = api_json_object(r, true);
    if (!body)
        return;
    mfa__op *o = mfa__op_new(r, r->user_id);
    if (read_row(r, o))
        fn(r, o, body);
    json_decref(body);
}

/* Methods of one route: a public handler or a signed-in one per method. */
typedef struct method_row {
    rq_method m;
    void (*pub)(rq *r);
    signed_fn fn;
} method_row;

typedef struct route_row {
    size_t path; /* offset of the path in app_auth */
    const char *allow;
    method_row methods[4];
} route_row;

static const route_row routes[] = {
    {offsetof(app_auth, totp_path),
     "PUT, POST, DELETE",
     {{M_PUT, NULL, totp_put_fn}, {M_POST, NULL, totp_post_fn}, {M_DELETE, NULL, totp_delete_fn}}},
    {offsetof(app_auth, email_otp_path),
     "GET, PUT, POST, DELETE",
     {{M_GET, h_email_get, NULL},
      {M_PUT, NULL, email_put_fn},
      {M_POST, NULL, email_post_fn},
      {M_DELETE, NULL, email_delete_fn}}},
    {offsetof(app_auth, recovery_codes_path), "PUT", {{M_PUT, NULL, recovery_put_fn}}},
    {offsetof(app_auth, reset_password_path),
     "POST, PUT",
     {{M_POST, mfa__reset_post, NULL}, {M_PUT, mfa__reset_put, NULL}}},
};

bool mfa_route(rq *r)
{
    const app_auth *au = r->app->auth;
    if (!au || !r->mfa)
        return false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = *(const char *const *)((const char *)au + routes[i].path);
        if (!p || strlen(p) != r->path_len || memcmp(p, r->path, r->path_len) != 0)
            continue;
        for (size_t k = 0; k < 4; k++) {
            const method_row *mr = &routes[i].methods[k];
            if ((!mr->pub && !mr->fn) || mr->m != r->method)
                continue;
            if (mr->pub)
                mr->pub(r);
            else
                run_signed(r, mr->fn);
            return true;
        }
        rq_header(r, "allow", routes[i].allow);
        problem_send(r, RD_METHOD, arena_printf(r->a, "this route takes %s", routes[i].allow), NULL);
        return true;
    }
    return false;
}

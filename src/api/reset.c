/*
 * Password reset by a mailed token (the reset_password route; docs/auth.md,
 * "Password reset"). POST mails a token to an active account and answers
 * the same whatever the account; PUT checks the token (constant-time, on
 * its hash), hashes the new password on the pool, and the writer spends
 * the token, sets the password and ends the account's sessions in one
 * transaction. Shares the request chain of mfa.c (mfa_int.h).
 */
#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "api/mfa_int.h"
#include "auth/secret.h"
#include "rd_limits.h"
#include "util/log.h"

static const char RESET_ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static void reset_stored(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    if (o->job.result == MFADB_OK)
        mfa__mail(r, o->job.out_login, mfa__subject(r, "password reset"),
                  arena_printf(r->a,
                               "Someone (we hope you) asked to reset the password of your account.\n\n"
                               "Your reset token is:\n\n    %s\n\nIt works once, for %d hours. "
                               "If you did not ask for it, ignore this message: your password stays as it is.\n",
                               o->mail_code, RD_RESET_TTL / 3600));
    buf *b;
    jw *out = mfa__begin(r, &b);
    jw_keyz(out, "success");
    jw_strz(out, "Reset token sent");
    jw_obj_end(out);
    mfa__send_body(r, 200, "OK", b);
}

void mfa__reset_post(rq *r)
{
    json_t *body = api_json_object(r, true);
    if (!body)
        return;
    const char *login;
    size_t ll;
    bool ok = mfa__body_str(r, body, mfa__login_key(r), MFA_MAX_LOGIN, &login, &ll);
    json_decref(body);
    if (!ok)
        return;
    if (!login || !ll) {
        mfa__refuse(r, RD_BAD_REQUEST, arena_printf(r->a, "a reset needs '%s'", mfa__login_key(r)), NULL);
        return;
    }
    if (!mfa__public_allowed(r)) /* each request costs a commit */
        return;
    if (!mfa__mail_allowed(r, arena_printf(r->a, "m:%s", login))) {
        /* the same answer: a flood of requests mails no one */
        mfa__op *o = mfa__op_new(r, NULL);
        o->job.result = MFADB_NO_USER;
        o->w.ctx = o;
        reset_stored(r, &o->w);
        return;
    }
    mfa__op *o = mfa__op_new(r, NULL);
    char *tok = arena_alloc(r->a, RD_RESET_TOKEN_LEN + 1);
    for (int i = 0; i < RD_RESET_TOKEN_LEN; i++)
        tok[i] = RESET_ALPHABET[randombytes_uniform(sizeof RESET_ALPHABET - 1)];
    tok[RD_RESET_TOKEN_LEN] = '\0';
    char *h = arena_alloc(r->a, AUTHSECRET_HASH_LEN + 1);
    authsecret_hash_token(tok, RD_RESET_TOKEN_LEN, h);
    o->mail_code = tok;
    o->job.login = login;
    o->job.token_hash = h;
    o->job.token_exp = o->job.now + RD_RESET_TTL;
    if (mfa__submit(r, o, mfadb_reset_request, reset_stored, false) != RD_OK)
        mfa__busy(r);
}

static void reset_applied(rq *r, store_write *w)
{
    mfa__op *o = w->ctx;
    if (mfa__write_failed(r, w))
        return;
    if (o->job.result != MFADB_OK) {
        mfa__refuse(r, RD_BAD_REQUEST, "Wrong or expired token.", NULL);
        return;
    }
    log_info("msg=\"password reset\" user=%s", o->user_id);
    mfa__success(r);
}

static void reset_hashed(rq *r, mfa__op *o)
{
    sodium_memzero(o->password, o->password_len);
    if (o->pj.err != RD_OK || !o->pj.ok) {
        mfa__busy(r);
        return;
    }
    o->job.password_hash = arena_strdup(r->a, o->pj.new_hash);
    sodium_memzero(o->pj.new_hash, sizeof o->pj.new_hash);
    if (mfa__submit(r, o, mfadb_reset_apply, reset_applied, true) != RD_OK)
        mfa__busy(r);
}

/* Characters (UTF-8 code points) in s, as Zou counts a password's length. */
static size_t chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

void mfa__reset_put(rq *r)
{
    json_t *body = api_json_object(r, true);
    if (!body)
        return;
    const char *login, *token, *pw, *pw2;
    size_t ll, tl, pl, pl2;
    bool ok = mfa__body_str(r, body, mfa__login_key(r), MFA_MAX_LOGIN, &login, &ll) &&
              mfa__body_str(r, body, "token", MFA_MAX_TOKEN, &token, &tl) &&
              mfa__body_str(r, body, "password", PWHASH_MAX_PASSWORD, &pw, &pl) &&
              mfa__body_str(r, body, "password2", PWHASH_MAX_PASSWORD, &pw2, &pl2);
    json_decref(body);
    if (!ok)
        return;
    if (!login || !token || !pw || !pw2) {
        mfa__refuse(r, RD_BAD_REQUEST,
                    arena_printf(r->a, "a reset needs '%s', 'token', 'password' and 'password2'", mfa__login_key(r)),
                    NULL);
        return;
    }
    mfa__op *o = mfa__op_new(r, NULL);
    const char *uid = NULL, *stored = NULL;
    long long exp = 0;
    rd_err e = mfadb_reset_get(r->conn, r->app, login, r->a, &uid, &stored, &exp);
    if (e != RD_OK && e != RD_NOT_FOUND) {
        problem_send(r, e, NULL, NULL);
        return;
    }
    char h[AUTHSECRET_HASH_LEN + 1];
    authsecret_hash_token(token, tl, h);
    bool match = e == RD_OK && strlen(stored) == AUTHSECRET_HASH_LEN &&
                 authsecret_equal(h, stored, AUTHSECRET_HASH_LEN) && o->job.now < exp;
    if (!match) {
        mfa__refuse(r, RD_BAD_REQUEST, "Wrong or expired token.", NULL);
        return;
    }
    if (pl != pl2 || !authsecret_equal(pw, pw2, pl)) {
        mfa__refuse(r, RD_BAD_REQUEST, "Confirmation password doesn't match.", NULL);
        return;
    }
    if (chars(pw, pl) < RD_MIN_PASSWORD) {
        mfa__refuse(r, RD_BAD_REQUEST, "Password is too short.", NULL);
        return;
    }
    o->user_id = uid;
    o->job.user_id = uid;
    o->job.token_hash = arena_strdup(r->a, h);
    o->password = (char *)pw;
    o->password_len = pl;
    o->pj.password = pw;
    o->pj.password_len = pl;
    if (mfa__on_pool(r, o, pwjob_hash, reset_hashed) != RD_OK) {
        sodium_memzero(o->password, o->password_len);
        mfa__busy(r);
    }
}

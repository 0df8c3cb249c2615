/*
 * Shared by the files of the second-factor module (mfa.c: factors and the
 * login step; reset.c: password reset) and nothing else: the per-process
 * state, the request chain (`mfa__op`) and the answer, body and mail
 * helpers. Everything here runs on the request's loop thread unless said.
 */
#ifndef RESTD_MFA_INT_H
#define RESTD_MFA_INT_H

#include <jansson.h>

#include "api/mfa.h"
#include "api/throttle.h"
#include "store/mfadb.h"
#include "json/jw.h"

/* Longest code string looked at: a recovery code with separators is 20,
 * a TOTP or mailed code 6; anything longer is refused as malformed. */
#define MFA_MAX_CODE 64
/* Longest reset token looked at (ours are RD_RESET_TOKEN_LEN). */
#define MFA_MAX_TOKEN 256
/* Bytes of a login (as the login route). */
#define MFA_MAX_LOGIN 1024

struct mfa {
    const app *ap;
    mailer *mail;
    throttle *thr;
};

typedef struct mfa__op mfa__op;
typedef void (*mfa__step)(rq *r, mfa__op *o);

struct mfa__op {
    mfadb_job job; /* first: the store_write's ctx is the mfa__op */
    store_write w;
    pwjob pj;
    arena *a;
    const char *user_id;
    mfa_row row;
    mfa_codes codes;
    /* mfa_check */
    void (*done)(rq *r, mfa_result res, void *ctx);
    void *ctx;
    int recovery_idx;
    /* a new recovery set (TOTP_RECOVERY_MAX codes) */
    char *plain[TOTP_RECOVERY_MAX];
    char *hashes[TOTP_RECOVERY_MAX];
    bool gen_ok;
    mfa__step then; /* the step after a pool job */
    /* routes */
    mfa_kind kind;
    const char *secret;    /* TOTP PUT */
    const char *mail_code; /* a code or token to mail once stored */
    char *password;        /* reset PUT: arena copy, wiped once hashed */
    size_t password_len;
    void (*login_next)(rq *r, void *ctx); /* mfa_login_step */
    void *login_ctx;
};
_Static_assert(offsetof(mfa__op, job) == 0, "the store_write ctx doubles as the mfadb_job");

/* A zeroed op in r's arena for the account user_id (NULL: not known yet). */
mfa__op *mfa__op_new(rq *r, const char *user_id);
/* Hand o's job (run on the writer, ctx = o) over; cb runs once committed.
 * RD_UNAVAILABLE when the writer is full (answer 503). */
rd_err mfa__submit(rq *r, mfa__op *o, bool (*run)(sqlite3 *, store_write *), void (*cb)(rq *, store_write *),
                   bool revokes);
/* Run work on the hashing pool (o->pj; its password fields are kept),
 * then `then` on the loop. RD_UNAVAILABLE when the pool is full. */
rd_err mfa__on_pool(rq *r, mfa__op *o, void (*work)(pwjob *), mfa__step then);

/* Answers. refuse: Zou's {"error": true, "message": msg, flag: true} with
 * e's status under `errors: zou`, else a problem document with msg as
 * detail. success: {"success": true}. busy: 503. */
void mfa__refuse(rq *r, rd_err e, const char *msg, const char *flag);
void mfa__success(rq *r);
void mfa__busy(rq *r);
/* A JSON object answer: begin opens it in r's arena; send_body sends the
 * finished buffer with Cache-Control: no-store. */
jw *mfa__begin(rq *r, buf **b);
void mfa__send_body(rq *r, int status, const char *reason, buf *b);
/* After a store_write: true when it failed (and the answer is sent). */
bool mfa__write_failed(rq *r, store_write *w);

/* Member key as an arena string: absent or null leaves *out NULL; another
 * type or more than max bytes answers 400 and returns false. */
bool mfa__body_str(rq *r, const json_t *body, const char *key, size_t max, const char **out, size_t *len);
/* The body/query key naming an account: the login field's JSON name. */
const char *mfa__login_key(rq *r);

/* Queue a mail (failures logged, never shown); a subject prefixed with the
 * app's title when that is plain ASCII; whether another mail to key may go
 * now (counts this one: RD_MAIL_PER_ACCOUNT per RD_MAIL_LOCK_SEC). */
void mfa__mail(rq *r, const char *to, const char *subject, const char *body);
const char *mfa__subject(rq *r, const char *what);
bool mfa__mail_allowed(rq *r, const char *key);
/* The public routes that write (GET email_otp, POST reset_password): at
 * most RD_MAIL_PER_ADDR per client address per RD_MAIL_LOCK_SEC; false
 * after answering 429. */
bool mfa__public_allowed(rq *r);

/* reset.c: the reset_password route's POST and PUT. */
void mfa__reset_post(rq *r);
void mfa__reset_put(rq *r);

#endif

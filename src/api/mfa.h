/*
 * Second factors and password reset over HTTP, for apps whose `auth:`
 * section names the routes (auth.routes: totp, email_otp, recovery_codes,
 * reset_password): TOTP enrolment, e-mailed one-time codes, recovery
 * codes, the second step of a login, and password reset by a mailed
 * token. docs/auth.md describes the routes and their answers.
 *
 * Secrets live in restd's own tables (store/mfadb.h), never in the model.
 * Every code is spent by the writer thread inside a transaction, so none
 * works twice; argon2id work (recovery codes, the new password) runs on
 * the hashing pool; mail goes through auth/mail.h's queue. Nothing here
 * blocks an event loop.
 */
#ifndef RESTD_MFA_H
#define RESTD_MFA_H

#include <stdbool.h>
#include <stddef.h>

#include "app/app.h"
#include "auth/mail.h"
#include "http/rq.h"

typedef struct mfa mfa;

/* The per-process state: failure and mail throttles, and the mail sender
 * (borrowed, NULL when the server has no SMTP configured: mails are then
 * dropped with a warning and the routes that must mail answer 503). */
mfa *mfa_new(const app *ap, mailer *mail);
void mfa_free(mfa *m);

/* If the path is one of the app's second-factor or reset routes, handle
 * it (any method) and return true. */
bool mfa_route(rq *r);

/* The codes a request offers as its second factor; NULL when absent.
 * Borrowed; they must live until the check's callback ran. */
typedef struct mfa_codes {
    const char *totp;
    size_t totp_len;
    const char *email_otp;
    size_t email_otp_len;
    const char *recovery_code;
    size_t recovery_code_len;
} mfa_codes;

typedef enum mfa_result {
    MFA_PASSED,   /* a code matched; it is spent (a TOTP step, a mailed code, a recovery code) */
    MFA_NONE,     /* the account has no second factor enabled: nothing to check */
    MFA_MISSING,  /* it has one, and no code for an enabled factor was offered */
    MFA_WRONG,    /* the code is wrong or expired (counted as a failure) */
    MFA_REPLAYED, /* a TOTP code that was right but is spent already (counted, as MFA_WRONG) */
    MFA_LOCKED,   /* too many failures for this account lately: try again in a minute */
    MFA_BUSY,     /* the writer or the hashing pool is full: answer 503 */
    MFA_ERROR,    /* the account is gone or the database failed: answer 500 */
} mfa_result;

/*
 * Check the second factor of the account user_id with the codes offered:
 * TOTP when TOTP is on and a totp code is given, else the mailed code when
 * e-mail codes are on and one is given, else a recovery code. done(r,
 * result, ctx) runs on r's loop thread exactly once, possibly before
 * mfa_check returns, unless the client went away meanwhile. done answers
 * the request; mfa_check never does.
 *
 * For a caller that takes a code from elsewhere (iProva's
 * x-two-factor-code header): fill only .totp, and treat MFA_NONE as
 * "no second factor needed" and MFA_MISSING as "no code sent". Of two
 * requests with one TOTP code, one gets MFA_PASSED, the other
 * MFA_REPLAYED: the counter is checked and stored in one transaction.
 */
void mfa_check(rq *r, const char *user_id, const mfa_codes *codes,
               void (*done)(rq *r, mfa_result res, void *ctx), void *ctx);

/*
 * The second step of a password login (called by api/authn.c once the
 * password is verified and the account is active). Reads totp, email_otp
 * and recovery_code from the login body; when the account has no second
 * factor, or one of them passes, calls next(r, ctx); otherwise answers
 * (Zou's {"login": false, "missing_OTP" / "wrong_OTP": true} with
 * errors: zou, a 401 problem document elsewhere) and never calls next.
 */
void mfa_login_step(rq *r, const char *user_id, void (*next)(rq *r, void *ctx), void *ctx);

#endif

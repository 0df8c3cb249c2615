/*
 * Second factors and password reset in restd's own tables, and every SQL
 * statement on them (api/mfa.c is the only caller):
 *
 *   _restd_mfa       one row per user: the TOTP secret (pending until
 *                    confirmed, then enabled) and the counter of the last
 *                    code accepted; whether e-mail codes are on, the hash
 *                    of the code last mailed, its expiry and wrong tries;
 *                    the preferred factor.
 *   _restd_recovery  the user's recovery codes, argon2id hashes, one row
 *                    each, deleted when used.
 *   _restd_reset     one pending password-reset token per user: its
 *                    SHA-256 and expiry.
 *
 * Nothing here is in the served model. Reads run on a store_conn (event
 * loop); writes are store_write jobs (op STORE_RUN, ctx = an mfadb_job).
 * Every check that consumes something (a TOTP counter, a mailed code, a
 * recovery code, a reset token) runs on the writer thread inside its
 * transaction, so two requests carrying the same code cannot both win.
 */
#ifndef RESTD_MFADB_H
#define RESTD_MFADB_H

#include <sqlite3.h>
#include <stdbool.h>

#include "app/app.h"
#include "auth/totp.h"
#include "store/store.h"

/* The second factors. */
typedef enum mfa_kind { MFA_TOTP, MFA_EMAIL_OTP, MFA__KINDS } mfa_kind;

/* A user's second-factor state as read on the event loop. */
typedef struct mfa_row {
    const char *login;       /* the login field's value (the mail address when it is one) */
    bool active;             /* the app's active field and not disabled */
    const char *totp_secret; /* base32; NULL when none (pending or enabled) */
    bool enabled[MFA__KINDS];
    long long totp_last;   /* counter of the last TOTP code accepted */
    const char *preferred; /* "totp", "email_otp" or NULL */
    const char *code_hash; /* the mailed code's hash, NULL when none */
    long long code_exp;
    const char *recovery[TOTP_RECOVERY_MAX]; /* argon2id hashes */
    size_t n_recovery;
} mfa_row;

/* The user with this id (RD_NOT_FOUND when none). Strings live in a. */
rd_err mfadb_get(store_conn *c, const app *ap, const char *user_id, arena *a, mfa_row *out);

/* Outcome of a write job (mfadb_job.result). */
typedef enum mfadb_result {
    MFADB_OK,
    MFADB_WRONG,   /* code did not match, or expired */
    MFADB_REPLAY,  /* use: a TOTP code that was right but spent already */
    MFADB_ALREADY, /* the factor is enabled already */
    MFADB_NOT_ON,  /* the factor (or any factor) is not enabled / no pending secret */
    MFADB_NO_USER, /* no such active account (answers stay the same) */
} mfadb_result;

typedef struct mfadb_job {
    const app *ap;
    long long now;
    const char *user_id; /* the account, or NULL with login */
    const char *login;   /* look the account up by its login (public routes) */
    mfa_kind kind;
    const char *secret; /* totp_begin: the new pending secret */
    const char *code;   /* a TOTP or mailed code to check */
    size_t code_len;
    long long code_exp;                 /* email_code: expiry of the code (code, code_len) to store */
    const char *const *recovery_hashes; /* a new set (enable: stored only when none exists) */
    size_t n_recovery;
    const char *recovery_used; /* recovery_use: the hash to delete */
    const char *token_hash;    /* reset_request, reset_apply */
    long long token_exp;
    const char *password_hash; /* reset_apply */
    /* out */
    mfadb_result result;
    const char *out_user;  /* the account found by login */
    const char *out_login; /* its login (the address to mail) */
    bool codes_stored;     /* enable: the new recovery set was stored */
} mfadb_job;

/* The hash stored for a mailed code: SHA-256 hex of "user_id:code", so a
 * code is worth nothing for another account. out: 65 bytes. */
void mfadb_code_hash(const char *user_id, const char *code, size_t len, char out[65]);

/* store_write.run functions. Each returns false only on a database error
 * (w->err set); refusals commit (a wrong try is counted) and are reported
 * through job->result. */
bool mfadb_totp_begin(sqlite3 *db, store_write *w);       /* new pending secret unless enabled */
/* The CLI's enrolment (`restd user totp`): secret enabled at once, counter
 * 0, TOTP preferred unless another factor is; replaces any secret. */
bool mfadb_totp_set(sqlite3 *db, store_write *w);
bool mfadb_enable(sqlite3 *db, store_write *w);           /* check code, enable kind, store the set */
bool mfadb_disable(sqlite3 *db, store_write *w);          /* turn kind off; last factor: codes go too */
bool mfadb_use(sqlite3 *db, store_write *w);              /* check and consume a code of kind */
bool mfadb_recovery_use(sqlite3 *db, store_write *w);     /* delete recovery_used; WRONG if gone */
bool mfadb_recovery_replace(sqlite3 *db, store_write *w); /* the new set replaces the old */
bool mfadb_email_code(sqlite3 *db, store_write *w);       /* store a mailed code (by id, or by login when on) */
bool mfadb_reset_request(sqlite3 *db, store_write *w);    /* by login, active only: store a reset token */
bool mfadb_reset_apply(sqlite3 *db, store_write *w);      /* consume the token, set the password, end sessions */

/* The pending reset token of the account with this login: its user id,
 * hash and expiry. RD_NOT_FOUND when there is none. */
rd_err mfadb_reset_get(store_conn *c, const app *ap, const char *login, arena *a, const char **user_id,
                       const char **token_hash, long long *expires);

/* Schema: called by the migration when the app has auth. */
bool store__mfa_schema(sqlite3 *db, const app *ap);

#endif

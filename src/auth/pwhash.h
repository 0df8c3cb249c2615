/*
 * Password hashing: argon2id through libsodium, and a bounded thread pool
 * that runs the hashing off the event loops.
 *
 * Parameters: t=2 passes over m=19 MiB, one lane. This is OWASP's second
 * argon2id configuration (ASVS 5.0 appendix C lists the same); it takes
 * about 20 ms here, so two cores verify about 100 logins a second.
 * libsodium's "interactive" preset (64 MiB, ~80 ms) would quarter that for
 * little gain, and t=1/46 MiB costs more memory per concurrent hash. The
 * salt (16 bytes) and the parameters are stored in the PHC string
 * "$argon2id$v=19$m=19456,t=2,p=1$salt$hash", so raising them later only
 * needs pwhash_needs_rehash at the next successful login.
 *
 * Hashing is deliberately slow, so it never runs on an event loop: submit
 * a pwjob to a pwpool, whose threads run it and call back. The pool bounds
 * both CPU (threads) and memory (each running hash holds 19 MiB), and its
 * queue bounds waiting logins; when it is full pwpool_submit says so at
 * once and the caller answers 503 instead of queuing without end.
 */
#ifndef RESTD_AUTH_PWHASH_H
#define RESTD_AUTH_PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/workq.h"

#define PWHASH_OPSLIMIT 2
#define PWHASH_MEMLIMIT (19u * 1024 * 1024)
/* Room for a PHC string (libsodium's crypto_pwhash_STRBYTES). */
#define PWHASH_STRBYTES 128
/* Longest password hashed. ASVS asks that at least 64 characters be
 * allowed and none truncated; 1 KiB is far past any real passphrase and
 * keeps a hostile body from feeding megabytes to the hash. Longer
 * passwords are refused, never truncated. */
#define PWHASH_MAX_PASSWORD 1024
/* Bounds for pwpool_new. */
#define PWPOOL_MAX_THREADS 16
#define PWPOOL_MAX_QUEUE 4096

/*
 * Hash password (len bytes, any bytes) into out (OUT), a NUL-terminated
 * PHC string. Blocks for ~20 ms: call it on a pool thread. false when len
 * is over PWHASH_MAX_PASSWORD or argon2's 19 MiB cannot be allocated (the
 * caller answers 503); out is then an empty string.
 */
bool pwhash_hash(const char *password, size_t len, char out[PWHASH_STRBYTES]);

/*
 * Whether password matches hash (a NUL-terminated PHC string as made by
 * pwhash_hash). false for a mismatch, a password over the limit, or a hash
 * that is missing, not argon2id (nothing else is ever stored) or asks for
 * more than 256 MiB, 10 passes or 4 lanes (a tampered row); every false
 * costs the time of a real verify. Blocks like pwhash_hash.
 */
bool pwhash_verify(const char *hash, const char *password, size_t len);

/*
 * Spend the time of a pwhash_verify without any account: call it when the
 * user does not exist, so a login for an unknown name takes as long as one
 * for a known name with a wrong password (no user enumeration by timing).
 */
void pwhash_dummy_verify(const char *password, size_t len);

/* Whether hash was made with other parameters (or another algorithm) than
 * today's, so it should be replaced after the next successful verify. */
bool pwhash_needs_rehash(const char *hash);

/* ---- the pool --------------------------------------------------------- */

typedef struct pwpool pwpool;
typedef struct pwjob pwjob;

/*
 * A unit of work. The caller fills the inputs and submits it; a pool
 * thread runs work(j) and then done(j), both ON THE POOL THREAD. done must
 * only hand the job back to its owner (post it to an event loop, signal a
 * condition variable); it must not block or resubmit. Everything the job
 * points to must stay alive and untouched by others until done runs.
 * The job (or the password it points to) may hold a secret: the owner
 * wipes it (sodium_memzero) once done.
 */
struct pwjob {
    /* in */
    void (*work)(pwjob *j); /* required: pwjob_hash, pwjob_verify, pwjob_dummy, or the caller's */
    void (*done)(pwjob *j); /* required */
    const char *password;   /* borrowed */
    size_t password_len;
    const char *hash; /* pwjob_verify: the stored PHC string, borrowed */
    void *user;
    /* out */
    rd_err err;    /* RD_OK, or RD_UNAVAILABLE when hashing ran out of memory */
    bool ok;       /* pwjob_hash: hashed; pwjob_verify: the password matched */
    bool rehashed; /* pwjob_verify matched an outdated hash: new_hash holds its replacement */
    char new_hash[PWHASH_STRBYTES]; /* pwjob_hash; pwjob_verify when rehashed */
    /* private */
    workq_link link;
};

/* Standard work functions.
 * pwjob_hash: hash password into new_hash; ok true on success. ok false
 *   with err RD_OK: the password is over PWHASH_MAX_PASSWORD (a 422 for
 *   the caller); err RD_UNAVAILABLE: out of memory (503).
 * pwjob_verify: ok says whether password matches hash. A missing, foreign
 *   or tampered hash is a mismatch that costs as long as a real verify. On
 *   a match with outdated parameters it also hashes the password anew
 *   (rehashed, new_hash: store it).
 * pwjob_dummy: pwhash_dummy_verify; ok false. For unknown accounts.
 * A caller's own work function (recovery codes, say) may use the job's
 * user pointer; an arena it reaches belongs to the pool thread until done. */
void pwjob_hash(pwjob *j);
void pwjob_verify(pwjob *j);
void pwjob_dummy(pwjob *j);

/*
 * Start nthreads hashing threads (1..PWPOOL_MAX_THREADS) that accept up to
 * max_queue jobs (0..PWPOOL_MAX_QUEUE) waiting beyond the ones running. At
 * most nthreads hashes run at once, so memory stays under nthreads x 19 MiB.
 * NULL when the arguments are out of range or a thread cannot start.
 */
pwpool *pwpool_new(unsigned nthreads, unsigned max_queue);

/*
 * Queue j. Never blocks on hashing. RD_UNAVAILABLE (nothing queued, done
 * never called) when nthreads + max_queue jobs are already in the pool
 * (running or waiting) or the pool is being freed: answer 503 with
 * Retry-After.
 */
rd_err pwpool_submit(pwpool *p, pwjob *j);

/* Jobs in the pool now (running or waiting); for metrics and tests. */
unsigned pwpool_pending(pwpool *p);

/* Refuse new jobs, run every job already submitted (each done is called),
 * join the threads and free the pool. NULL is a no-op. */
void pwpool_free(pwpool *p);

#endif

/*
 * Second factor: RFC 6238 TOTP codes (through liboath) and single-use
 * recovery codes.
 *
 * TOTP: HMAC-SHA1, 6 digits, 30-second steps from the Unix epoch: what
 * every authenticator app assumes when the otpauth:// URI says nothing
 * else. A code is accepted for its own step and one step either side (a
 * phone's clock drifts, a user types slowly), and only once: totp_verify
 * returns the time-step counter the code matched, the caller stores it per
 * user, and a code whose counter is not newer than the stored one is
 * refused (ASVS 2.8.4 / 5.0 6.5.1). Within one step that also refuses the
 * same code twice; an observed code is therefore worthless once used.
 *
 * Recovery codes: 10 characters from an alphabet without look-alikes
 * (no 0/O, no 1/I), 50 bits each. That is under the 112 bits for which
 * ASVS allows a fast hash (5.0 6.5.2), so each is stored as an argon2id
 * hash (pwhash.h) like a password, and checking one costs up to one argon2
 * verify per stored code: run both functions on the pwpool.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef RESTD_AUTH_TOTP_H
#define RESTD_AUTH_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/pwhash.h"
#include "util/mem.h"

#define TOTP_DIGITS 6
#define TOTP_STEP 30
/* Steps accepted either side of now: ±30 s of clock drift. */
#define TOTP_WINDOW 1
/* Secret: 160 bits, the HMAC-SHA1 output size RFC 4226 §4 recommends. */
#define TOTP_SECRET_BYTES 20
/* ... which is exactly 32 base32 characters, no padding. */
#define TOTP_SECRET_B32_LEN 32
/* Longest base32 secret accepted (imported from elsewhere): 64 bytes. */
#define TOTP_MAX_SECRET_B32 103

/* Longest provisioning URI: a QR code holds about 2.9 KB at its lowest
 * error correction, and scanners struggle well before that. */
#define TOTP_MAX_URI 1024

/* A new random secret, base32 (RFC 4648, upper case, no padding), into out. */
void totp_secret_new(char out[TOTP_SECRET_B32_LEN + 1]);

/*
 * The otpauth:// URI an authenticator app scans (as a QR code):
 *   otpauth://totp/ISSUER:ACCOUNT?secret=S&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * issuer and account are percent-encoded (everything but RFC 3986
 * unreserved characters). issuer may be NULL or empty (then no prefix and no
 * parameter). NUL-terminated in arena a, valid until arena_free; NULL when
 * account or secret_b32 is NULL or the URI would pass TOTP_MAX_URI.
 */
char *totp_uri(const char *issuer, const char *account, const char *secret_b32, arena *a);

typedef enum totp_result {
    TOTP_OK,         /* *matched holds the counter to store as the new last one */
    TOTP_WRONG,      /* no match in the window, or the code is not 6 digits */
    TOTP_REPLAY,     /* the code matched but its counter is not newer than
                        last_counter: used before, or older than a used one.
                        *matched is set; log it (ASVS 2.8.5) */
    TOTP_BAD_SECRET, /* secret_b32 is not base32 of 16..64 bytes: fix the row */
} totp_result;

/*
 * Check code (code_len bytes; exactly 6 ASCII digits, nothing else) for
 * the secret at time now. last_counter is the counter of the last code the
 * user got accepted, 0 when none. *matched (OUT) gets the matched counter
 * on TOTP_OK and TOTP_REPLAY, and is untouched otherwise. The comparison
 * with each candidate code is constant-time.
 */
totp_result totp_verify(const char *secret_b32, const char *code, size_t code_len, time_t now,
                        uint64_t last_counter, uint64_t *matched);

/* The code for time now, into out (NUL-terminated). For tests and for
 * tools; the server itself never needs to make one. false on a bad secret. */
bool totp_generate(const char *secret_b32, time_t now, char out[TOTP_DIGITS + 1]);

/* ---- recovery codes --------------------------------------------------- */

#define TOTP_RECOVERY_LEN 10
/* Codes per set: 10 is the usual number shown; 16 caps the verify cost. */
#define TOTP_RECOVERY_MAX 16

/*
 * Make n codes (1..TOTP_RECOVERY_MAX). codes[i] (OUT): the plain code,
 * shown to the user once and never stored. hashes[i] (OUT): its argon2id
 * PHC string, the value to store. Both in arena a. Blocks about n x 20 ms.
 * false when n is out of range or hashing ran out of memory (503).
 */
bool totp_recovery_new(size_t n, arena *a, char **codes, char **hashes);

/*
 * Which of the n stored hashes the typed code matches: its index, or -1.
 * The input is normalised first: spaces and '-' dropped, lower case raised
 * (so "abcde-fghjk" works). The caller deletes (or marks used) the matched
 * hash in the same transaction as it accepts it: each code works once.
 * Blocks up to n x 20 ms.
 */
int totp_recovery_match(const char *input, size_t len, const char *const *hashes, size_t n);

#endif

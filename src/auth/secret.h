/*
 * Server secrets and random tokens.
 *
 * The JWT signing secret lives in one file, DIR/jwt.key: 64 random bytes,
 * mode 0600, created on first start and read on every later one. A key
 * that anyone but its owner could read is refused, not silently used.
 *
 * Reference tokens (refresh tokens, API keys, password-reset and e-mail
 * tokens) are random strings handed to the client once; only their SHA-256
 * is stored, so a database leak yields nothing that can be replayed. An
 * unsalted fast hash is right here and wrong for passwords: a token carries
 * 256 bits of entropy, so there is nothing to guess, and a deterministic
 * hash lets the server find the row by the hash of what it was sent.
 *
 * Thread rules: every function here may be called from any thread.
 */
#ifndef RESTD_AUTH_SECRET_H
#define RESTD_AUTH_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/mem.h"

/* Bytes of the signing secret: HMAC-SHA256's block size, twice the
 * minimum authjwt_keys_new accepts. */
#define AUTHSECRET_LEN 64
#define AUTHSECRET_FILE "jwt.key"

/*
 * Load DIR/jwt.key into out, or create it when absent: 64 bytes from the
 * CSPRNG written to a private temporary file (O_CREAT|O_EXCL, 0600),
 * fsync'd, then linked into place (so a concurrent start or a crash never
 * leaves a short key behind) and the directory fsync'd.
 * An existing file is refused unless it is a regular file (no symlink
 * followed), owned by the effective user, with no permission bits beyond
 * 0600, and exactly AUTHSECRET_LEN bytes long.
 * Returns RD_OK, or RD_INTERNAL with *msg (OUT) set to a heap string
 * (caller frees) saying what is wrong and how to fix it; out is then
 * zeroed. Meant for start-up: it blocks on the disk.
 */
rd_err authsecret_load_or_create(const char *dir, unsigned char out[AUTHSECRET_LEN], char **msg);

/* Compare n bytes in time that depends only on n. */
bool authsecret_equal(const void *a, const void *b, size_t n);

/* Compare two strings of possibly different lengths without revealing
 * where or whether their lengths differ: both are hashed first. */
bool authsecret_streq(const char *a, size_t alen, const char *b, size_t blen);

/* Bytes of randomness in a reference token. 32 bytes = 256 bits, over the
 * 128 bits ASVS 5.0 §7.2.3 asks for. */
#define AUTHSECRET_TOKEN_BYTES 32
/* Characters of such a token in base64url without padding. */
#define AUTHSECRET_TOKEN_LEN 43
/* Characters of a token hash: lower-case hex SHA-256. */
#define AUTHSECRET_HASH_LEN 64

/*
 * A random token of nbytes bytes (16..256; anything outside is clamped) as
 * base64url without padding, NUL-terminated in arena a (valid until
 * arena_free). Use AUTHSECRET_TOKEN_BYTES unless a format needs otherwise.
 */
char *authsecret_random_token(size_t nbytes, arena *a);

/* out (OUT): lower-case hex SHA-256 of the token's len bytes, NUL-terminated.
 * The value to store and to look a presented token up by. */
void authsecret_hash_token(const char *token, size_t len, char out[AUTHSECRET_HASH_LEN + 1]);

#endif

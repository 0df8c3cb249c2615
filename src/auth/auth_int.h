/*
 * Shared inside src/auth only; not part of any module's API.
 */
#ifndef RESTD_AUTH_INT_H
#define RESTD_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>

/* Initialise libsodium and liboath once per process (pthread_once). Every
 * auth entry point that needs randomness, hashing or liboath calls it
 * first; after the first call it costs one atomic load. Aborts when
 * libsodium cannot initialise (no usable CSPRNG): nothing in auth/ can work
 * safely without one. */
void auth__init(void);

/* Strict base64url without padding (RFC 4648 §5): alphabet A-Z a-z 0-9 -
 * _ only, no '=', no whitespace, the unused low bits of the last character
 * zero, so each byte string has exactly one accepted encoding. Returns the
 * decoded length, or -1 when the input is not strict base64url or the
 * output would not fit in cap bytes. A table decoder, about ten times
 * faster than libsodium's constant-time one: for public data such as JWT
 * parts, not for decoding secrets. */
long auth__b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* Characters base64url without padding needs for n bytes. */
static inline size_t auth__b64url_len(size_t n) { return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0); }

/* Encode n bytes into out (libsodium's constant-time encoder: fine for
 * secrets) (auth__b64url_len(n) + 1 bytes, NUL-terminated). */
void auth__b64url_encode(const unsigned char *in, size_t n, char *out);

/* pwhash.c's dummy hash, so a unit test can check it still has today's
 * parameters. */
const char *pwhash__dummy_hash(void);

/* Verifies the calling thread answered from jwt.c's cache, for tests. */
unsigned long authjwt__cache_hits(void);

#endif

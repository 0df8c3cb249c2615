/*
 * TOTP (RFC 6238 over liboath's HOTP) with replay refusal, the otpauth://
 * provisioning URI, and recovery codes. See totp.h.
 */
#include "auth/totp.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <string.h>

#include "auth/auth_int.h"

#define MIN_SECRET_BYTES 16 /* RFC 4226 §4 R6: at least 128 bits */
#define MAX_SECRET_BYTES 64

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void b32_encode(const unsigned char *in, size_t n, char *out)
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = B32[(acc >> bits) & 31];
        }
    }
    if (bits)
        out[o++] = B32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

/* RFC 4648 base32, upper or lower case, no padding, no spaces. Returns the
 * byte count or -1. */
static long b32_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        unsigned v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a';
        else if (ch >= '2' && ch <= '7')
            v = ch - '2' + 26;
        else
            return -1;
        acc = ((acc << 5) | v) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)o;
}

static bool secret_bytes(const char *b32, unsigned char *raw, size_t *n)
{
    size_t len = b32 ? strnlen(b32, TOTP_MAX_SECRET_B32 + 1) : 0;
    if (len > TOTP_MAX_SECRET_B32)
        return false;
    long got = b32_decode(b32, len, raw, MAX_SECRET_BYTES);
    if (got < MIN_SECRET_BYTES)
        return false;
    *n = (size_t)got;
    return true;
}

void totp_secret_new(char out[TOTP_SECRET_B32_LEN + 1])
{
    auth__init();
    unsigned char raw[TOTP_SECRET_BYTES];
    randombytes_buf(raw, sizeof raw);
    b32_encode(raw, sizeof raw, out);
    sodium_memzero(raw, sizeof raw);
}

/* ---- URI -------------------------------------------------------------- */

static bool put_enc(buf *b, const char *s)
{
    bool ok = true;
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '.' || ch == '_' || ch == '~') {
            ok = ok && buf_putc(b, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            ok = ok && buf_append(b, e, sizeof e);
        }
    }
    return ok;
}

char *totp_uri(const char *issuer, const char *account, const char *secret_b32, arena *a)
{
    if (!account || !secret_b32)
        return NULL;
    buf b;
    buf_init(&b, a, TOTP_MAX_URI);
    bool has_issuer = issuer && *issuer;
    bool ok = buf_puts(&b, "otpauth://totp/");
    if (has_issuer)
        ok = ok && put_enc(&b, issuer) && buf_putc(&b, ':');
    ok = ok && put_enc(&b, account) && buf_puts(&b, "?secret=") && put_enc(&b, secret_b32);
    if (has_issuer)
        ok = ok && buf_puts(&b, "&issuer=") && put_enc(&b, issuer);
    ok = ok && buf_printf(&b, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP);
    return ok ? (char *)buf_cstr(&b) : NULL;
}

/* ---- verify ----------------------------------------------------------- */

/* liboath calls this with each candidate code of the window; 0 means
 * "match". A constant-time compare: how many digits matched stays
 * unobservable. */
static int ct_cmp(void *handle, const char *candidate)
{
    return sodium_memcmp(handle, candidate, TOTP_DIGITS) == 0 ? 0 : 1;
}

static bool code_ok(const char *code, size_t len)
{
    if (!code || len != TOTP_DIGITS)
        return false;
    for (size_t i = 0; i < len; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    return true;
}

totp_result totp_verify(const char *secret_b32, const char *code, size_t code_len, time_t now,
                        uint64_t last_counter, uint64_t *matched)
{
    unsigned char raw[MAX_SECRET_BYTES];
    size_t n;
    if (!secret_bytes(secret_b32, raw, &n))
        return TOTP_BAD_SECRET;
    if (!code_ok(code, code_len) || now < (time_t)TOTP_STEP * TOTP_WINDOW) {
        sodium_memzero(raw, sizeof raw);
        return TOTP_WRONG;
    }
    auth__init();
    char want[TOTP_DIGITS + 1];
    memcpy(want, code, TOTP_DIGITS);
    want[TOTP_DIGITS] = '\0';
    int pos = 0;
    uint64_t counter = 0;
    int rc = oath_totp_validate3_callback((const char *)raw, n, now, TOTP_STEP, OATH_TOTP_DEFAULT_START_TIME,
                                          TOTP_DIGITS, TOTP_WINDOW, &pos, &counter, ct_cmp, want);
    sodium_memzero(raw, sizeof raw);
    if (rc < 0)
        return TOTP_WRONG; /* OATH_INVALID_OTP, or an internal error: fail closed */
    *matched = counter;
    return counter > last_counter ? TOTP_OK : TOTP_REPLAY;
}

bool totp_generate(const char *secret_b32, time_t now, char out[TOTP_DIGITS + 1])
{
    unsigned char raw[MAX_SECRET_BYTES];
    size_t n;
    out[0] = '\0';
    if (!secret_bytes(secret_b32, raw, &n))
        return false;
    auth__init();
    int rc = oath_totp_generate((const char *)raw, n, now, TOTP_STEP, OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS,
                                out);
    sodium_memzero(raw, sizeof raw);
    if (rc != OATH_OK)
        out[0] = '\0';
    return rc == OATH_OK;
}

/* ---- recovery codes --------------------------------------------------- */

/* 32 symbols (5 bits each), none that reads like another: no 0/O, 1/I. */
static const char RECOVERY_ALPHABET[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
_Static_assert(sizeof RECOVERY_ALPHABET - 1 == 32, "5 bits per character");

bool totp_recovery_new(size_t n, arena *a, char **codes, char **hashes)
{
    if (n < 1 || n > TOTP_RECOVERY_MAX)
        return false;
    auth__init();
    for (size_t i = 0; i < n; i++) {
        unsigned char r[TOTP_RECOVERY_LEN];
        randombytes_buf(r, sizeof r);
        char *c = arena_alloc(a, TOTP_RECOVERY_LEN + 1);
        for (size_t k = 0; k < TOTP_RECOVERY_LEN; k++)
            c[k] = RECOVERY_ALPHABET[r[k] & 31];
        c[TOTP_RECOVERY_LEN] = '\0';
        sodium_memzero(r, sizeof r);
        char *h = arena_alloc(a, PWHASH_STRBYTES);
        if (!pwhash_hash(c, TOTP_RECOVERY_LEN, h))
            return false;
        codes[i] = c;
        hashes[i] = h;
    }
    return true;
}

int totp_recovery_match(const char *input, size_t len, const char *const *hashes, size_t n)
{
    char norm[TOTP_RECOVERY_LEN];
    size_t k = 0;
    /* Twice the code's length covers any grouping with spaces and dashes;
     * longer input cannot be a code. */
    if (!input || len > 2 * TOTP_RECOVERY_LEN || n > TOTP_RECOVERY_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = input[i];
        if (ch == ' ' || ch == '-')
            continue;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (k == TOTP_RECOVERY_LEN || !memchr(RECOVERY_ALPHABET, ch, sizeof RECOVERY_ALPHABET - 1))
            return -1;
        norm[k++] = ch;
    }
    if (k != TOTP_RECOVERY_LEN)
        return -1;
    int found = -1;
    for (size_t i = 0; i < n && found < 0; i++)
        if (pwhash_verify(hashes[i], norm, TOTP_RECOVERY_LEN))
            found = (int)i;
    sodium_memzero(norm, sizeof norm);
    return found;
}

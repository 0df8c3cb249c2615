/*
 * The signing-secret file, constant-time comparisons, random reference
 * tokens and their hashes. Also the auth/ library initialisation and the
 * base64url codec the other auth modules share (auth_int.h).
 */
#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth_int.h"

/* Longest key-file path (Linux PATH_MAX; <limits.h> here would be restd's). */
#define PATH_CAP 4096

/* ---- shared inside auth/ ---------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libs(void)
{
    static const char msg[] = "restd: cannot initialise libsodium or liboath\n";
    if (sodium_init() < 0 || oath_init() != OATH_OK) {
        if (write(2, msg, sizeof msg - 1) < 0) {
            /* nothing left to report with */
        }
        abort();
    }
}

void auth__init(void) { pthread_once(&init_once, init_libs); }

/* 0..63 for the base64url alphabet, 0xff otherwise. */
static const unsigned char B64URL[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,  ['G'] = 6,  ['H'] = 7,
    ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11, ['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15,
    ['Q'] = 16, ['R'] = 17, ['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21, ['W'] = 22, ['X'] = 23,
    ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29, ['e'] = 30, ['f'] = 31,
    ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35, ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39,
    ['o'] = 40, ['p'] = 41, ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47,
    ['w'] = 48, ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53, ['2'] = 54, ['3'] = 55,
    ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59, ['8'] = 60, ['9'] = 61, ['-'] = 62, ['_'] = 63,
};

/* Designated initialisers leave the rest 0, which is also 'A': mark every
 * byte outside the alphabet here instead of listing 192 entries. */
static bool b64url_char(unsigned char ch, unsigned *v)
{
    if (B64URL[ch] == 0 && ch != 'A')
        return false;
    *v = B64URL[ch];
    return true;
}

long auth__b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len % 4 == 1 || len * 3 / 4 > cap)
        return -1;
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        if (!b64url_char((unsigned char)in[i], &v))
            return -1;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Left-over bits (2 or 4) must be zero: one encoding per byte string. */
    if (acc != 0)
        return -1;
    return (long)o;
}

void auth__b64url_encode(const unsigned char *in, size_t n, char *out)
{
    sodium_bin2base64(out, auth__b64url_len(n) + 1, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* ---- the key file ----------------------------------------------------- */

static rd_err fail(char **msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static rd_err fail(char **msg, const char *fmt, ...)
{
    char tmp[PATH_CAP + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    *msg = xstrdup(tmp);
    return RD_INTERNAL;
}

static rd_err load(int fd, const char *path, unsigned char out[AUTHSECRET_LEN], char **msg)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(msg, "cannot stat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(msg, "%s is not a regular file", path);
    if (st.st_uid != geteuid())
        return fail(msg, "%s belongs to another user; it must be owned by the user restd runs as", path);
    if ((st.st_mode & 07777 & ~(mode_t)0600) != 0) {
        return fail(msg, "%s has mode %04o; it holds the token signing key and must be 0600 (chmod 600 it)",
                    path, (unsigned)(st.st_mode & 07777));
    }
    if (st.st_size != AUTHSECRET_LEN)
        return fail(msg, "%s has %lld bytes; it must hold exactly %d (delete it to make a new key, which "
                         "logs everyone out)",
                    path, (long long)st.st_size, AUTHSECRET_LEN);
    size_t got = 0;
    while (got < AUTHSECRET_LEN) {
        ssize_t r = read(fd, out + got, AUTHSECRET_LEN - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            sodium_memzero(out, AUTHSECRET_LEN);
            return fail(msg, "cannot read %s: %s", path, r < 0 ? strerror(errno) : "short file");
        }
        got += (size_t)r;
    }
    return RD_OK;
}

static bool write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Make the key in a temporary file and link it into place. Returns RD_OK
 * with the key in out, RD_CONFLICT when another process created the file
 * first (the caller then loads that one), or RD_INTERNAL with *msg. */
static rd_err create(const char *dir, const char *path, unsigned char out[AUTHSECRET_LEN], char **msg)
{
    char tmp[PATH_CAP];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, AUTHSECRET_FILE) >= (int)sizeof tmp)
        return fail(msg, "path too long: %s", dir);
    /* mkostemp opens with O_CREAT|O_EXCL and mode 0600. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(msg, "cannot create a key file in %s: %s", dir, strerror(errno));
    randombytes_buf(out, AUTHSECRET_LEN);
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, out, AUTHSECRET_LEN) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    rd_err e = RD_OK;
    if (!ok) {
        e = fail(msg, "cannot write %s: %s", tmp, strerror(saved));
    } else if (link(tmp, path) != 0) {
        /* link(2) never replaces: EEXIST means a concurrent start won. */
        e = errno == EEXIST ? RD_CONFLICT : fail(msg, "cannot create %s: %s", path, strerror(errno));
    } else {
        unlink(tmp);
        if (!sync_dir(dir))
            e = fail(msg, "cannot sync directory %s: %s", dir, strerror(errno));
    }
    if (e != RD_OK) {
        unlink(tmp);
        sodium_memzero(out, AUTHSECRET_LEN);
    }
    return e;
}

rd_err authsecret_load_or_create(const char *dir, unsigned char out[AUTHSECRET_LEN], char **msg)
{
    auth__init();
    *msg = NULL;
    sodium_memzero(out, AUTHSECRET_LEN);
    char path[PATH_CAP];
    if (snprintf(path, sizeof path, "%s/%s", dir, AUTHSECRET_FILE) >= (int)sizeof path)
        return fail(msg, "path too long: %s", dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0) {
            rd_err e = load(fd, path, out, msg);
            close(fd);
            if (e != RD_OK)
                sodium_memzero(out, AUTHSECRET_LEN);
            return e;
        }
        if (errno == ELOOP)
            return fail(msg, "%s is a symbolic link; it must be a regular file", path);
        if (errno != ENOENT)
            return fail(msg, "cannot open %s: %s", path, strerror(errno));
        rd_err e = create(dir, path, out, msg);
        if (e != RD_CONFLICT)
            return e;
    }
    return fail(msg, "cannot create or read %s", path);
}

/* ---- comparisons and tokens ------------------------------------------- */

bool authsecret_equal(const void *a, const void *b, size_t n) { return sodium_memcmp(a, b, n) == 0; }

bool authsecret_streq(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char ha[crypto_hash_sha256_BYTES], hb[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(ha, (const unsigned char *)a, alen);
    crypto_hash_sha256(hb, (const unsigned char *)b, blen);
    /* Equal hashes of unequal lengths would be a SHA-256 collision; the
     * length test only runs after the constant-time compare. */
    return (crypto_verify_32(ha, hb) == 0) & (alen == blen);
}

char *authsecret_random_token(size_t nbytes, arena *a)
{
    auth__init();
    unsigned char raw[256];
    if (nbytes < 16)
        nbytes = 16;
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    randombytes_buf(raw, nbytes);
    char *out = arena_alloc(a, auth__b64url_len(nbytes) + 1);
    auth__b64url_encode(raw, nbytes, out);
    sodium_memzero(raw, nbytes);
    return out;
}

void authsecret_hash_token(const char *token, size_t len, char out[AUTHSECRET_HASH_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, len);
    sodium_bin2hex(out, AUTHSECRET_HASH_LEN + 1, h, sizeof h);
}

/*
 * JWT issue and verify (HS256 only). See jwt.h for the contract and
 * docs/auth.md for why each check exists.
 *
 * Why the HMAC is computed here with libsodium and not by libjwt's
 * jwt_decode: security-notes §2 lists what jwt_decode in libjwt 1.10.2 gets
 * wrong (algorithm from the token, NULL/empty key accepts everything,
 * duplicate JSON keys accepted, a strcmp signature compare fixed only by a
 * Debian backport). Even called after our own checks it would parse the
 * header and payload a second time with a different parser configuration
 * (duplicates allowed), so what it verified and what we read could differ.
 * Verifying ourselves means: the algorithm is fixed at compile time; the
 * key is whatever authjwt_keys_new accepted (never empty); the MAC covers
 * exactly the bytes whose payload we then parse once; the compare is
 * libsodium's crypto_verify_32, constant-time by construction rather than
 * by a distribution patch; and the hot path makes no allocations besides
 * jansson's. The precomputed HMAC state also saves two SHA-256 blocks per
 * token. libjwt remains a test oracle (tests/unit/test_jwt.c): tokens we
 * issue must pass its jwt_decode and tokens it signs must pass ours.
 */
#include "auth/jwt.h"

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "auth/auth_int.h"

struct authjwt_keys {
    /* HMAC-SHA256 state after absorbing the key: copied per token. Holds
     * key-derived material, so wiped on free. */
    crypto_auth_hmacsha256_state base;
    /* Random, never 0: ties verify-cache entries to these keys. */
    uint64_t id;
};

/* The only header we issue, and the only one the fast path accepts as is:
 * base64url of {"alg":"HS256","typ":"JWT"} (libjwt writes the same bytes).
 * Any other header is parsed and checked in full. */
static const char CANON_HEADER[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
#define CANON_HEADER_LEN (sizeof CANON_HEADER - 1)

/* Longest encoded header we decode: two short members need ~40 bytes. */
#define MAX_HEADER_B64 512
/* Latest accepted time claim: 9999-12-31T23:59:59Z. Keeps exp + leeway far
 * from overflow. */
#define MAX_TIME 253402300799LL
#define SIG_LEN crypto_auth_hmacsha256_BYTES
#define SIG_B64_LEN 43 /* auth__b64url_len(32) */

static const char *const err_names[] = {
#define X(name, str) [AUTHJWT_##name] = str,
    AUTHJWT_ERRORS(X)
#undef X
};
_Static_assert(sizeof err_names / sizeof err_names[0] == AUTHJWT__COUNT, "one name per code");

static const char *const use_names[] = {
#define X(name, str) [AUTHJWT_USE_##name] = str,
    AUTHJWT_USES(X)
#undef X
};
_Static_assert(sizeof use_names / sizeof use_names[0] == AUTHJWT_USE__COUNT, "one name per use");

const char *authjwt_strerror(authjwt_err e)
{
    return (unsigned)e < AUTHJWT__COUNT ? err_names[e] : "unknown";
}

authjwt_keys *authjwt_keys_new(const unsigned char *secret, size_t len)
{
    if (!secret || len < AUTHJWT_MIN_KEY || len > AUTHJWT_MAX_KEY)
        return NULL;
    auth__init();
    authjwt_keys *k = xmalloc(sizeof *k);
    crypto_auth_hmacsha256_init(&k->base, secret, len);
    do
        randombytes_buf(&k->id, sizeof k->id);
    while (k->id == 0);
    return k;
}

void authjwt_keys_free(authjwt_keys *k)
{
    if (!k)
        return;
    sodium_memzero(k, sizeof *k);
    free(k);
}

void authjwt_jti_new(char out[AUTHJWT_JTI_LEN + 1])
{
    auth__init();
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof r; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
}

static void mac(const authjwt_keys *k, const char *signing_input, size_t n, unsigned char out[SIG_LEN])
{
    crypto_auth_hmacsha256_state st = k->base;
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signing_input, n);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* ---- claim value rules, shared by issue and verify ------------------- */

/* jti and sid: 1..AUTHJWT_MAX_ID of [A-Za-z0-9_-] (a UUID, a base64url
 * token). Safe in a log line, a URL and a SQL bind. */
static bool id_ok(const char *s, size_t n)
{
    if (n == 0 || n > AUTHJWT_MAX_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* iss, sub, aud, scope: 1..max bytes, no ASCII control characters (they
 * would forge log lines). UTF-8 validity is jansson's job. */
static bool text_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

static bool time_ok(long long t) { return t >= 0 && t <= MAX_TIME; }

/* ---- issue ------------------------------------------------------------ */

static bool put_str(json_t *o, const char *key, const char *val)
{
    json_t *s = json_string(val); /* NULL when val is not UTF-8 */
    return s && json_object_set_new(o, key, s) == 0;
}

static authjwt_err issue_payload(const authjwt_claims *c, json_t *o)
{
    if (!c->iss || !text_ok(c->iss, strlen(c->iss), AUTHJWT_MAX_NAME) || !c->sub ||
        !text_ok(c->sub, strlen(c->sub), AUTHJWT_MAX_NAME) || !c->jti || !id_ok(c->jti, strlen(c->jti)))
        return AUTHJWT_BAD_CLAIM;
    if (c->aud && !text_ok(c->aud, strlen(c->aud), AUTHJWT_MAX_NAME))
        return AUTHJWT_BAD_CLAIM;
    if (c->sid && !id_ok(c->sid, strlen(c->sid)))
        return AUTHJWT_BAD_CLAIM;
    if (c->scope && !text_ok(c->scope, strlen(c->scope), AUTHJWT_MAX_SCOPE))
        return AUTHJWT_BAD_CLAIM;
    if ((unsigned)c->use >= AUTHJWT_USE__COUNT || !time_ok(c->iat) || !time_ok(c->exp) || c->exp <= c->iat ||
        !time_ok(c->nbf))
        return AUTHJWT_BAD_CLAIM;
    bool ok = put_str(o, "iss", c->iss) && put_str(o, "sub", c->sub) && put_str(o, "jti", c->jti) &&
              put_str(o, "use", use_names[c->use]) &&
              json_object_set_new(o, "iat", json_integer(c->iat)) == 0 &&
              json_object_set_new(o, "exp", json_integer(c->exp)) == 0;
    if (ok && c->aud)
        ok = put_str(o, "aud", c->aud);
    if (ok && c->sid)
        ok = put_str(o, "sid", c->sid);
    if (ok && c->scope)
        ok = put_str(o, "scope", c->scope);
    if (ok && c->nbf)
        ok = json_object_set_new(o, "nbf", json_integer(c->nbf)) == 0;
    return ok ? AUTHJWT_OK : AUTHJWT_BAD_CLAIM;
}

authjwt_err authjwt_issue(const authjwt_keys *k, const authjwt_claims *c, arena *a, char **out)
{
    *out = NULL;
    json_t *o = json_object();
    authjwt_err err = issue_payload(c, o);
    char *payload = NULL;
    if (err == AUTHJWT_OK) {
        payload = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (!payload)
            err = AUTHJWT_BAD_CLAIM; /* only on OOM inside jansson */
    }
    json_decref(o);
    if (err != AUTHJWT_OK)
        return err;

    size_t plen = strlen(payload);
    size_t p64 = auth__b64url_len(plen);
    size_t total = CANON_HEADER_LEN + 1 + p64 + 1 + SIG_B64_LEN;
    if (plen > AUTHJWT_MAX_TOKEN || total > AUTHJWT_MAX_TOKEN) {
        free(payload);
        return AUTHJWT_TOO_LARGE;
    }
    char *tok = arena_alloc(a, total + 1);
    memcpy(tok, CANON_HEADER, CANON_HEADER_LEN);
    tok[CANON_HEADER_LEN] = '.';
    auth__b64url_encode((const unsigned char *)payload, plen, tok + CANON_HEADER_LEN + 1);
    free(payload);
    size_t signing_len = CANON_HEADER_LEN + 1 + p64;
    unsigned char sig[SIG_LEN];
    mac(k, tok, signing_len, sig);
    tok[signing_len] = '.';
    auth__b64url_encode(sig, sizeof sig, tok + signing_len + 1);
    *out = tok;
    return AUTHJWT_OK;
}

/* ---- verify ----------------------------------------------------------- */

/* Decode one base64url part and parse it as a JSON object, duplicate keys
 * refused (jansson would otherwise keep the last: {"sub":"u1","sub":"admin"}
 * must not mean admin). NULL when any step fails. */
static json_t *part_json(const char *b64, size_t n)
{
    unsigned char raw[AUTHJWT_MAX_TOKEN / 4 * 3 + 3];
    long len = auth__b64url_decode(b64, n, raw, sizeof raw);
    if (len <= 0)
        return NULL;
    json_error_t jerr;
    json_t *v = json_loadb((const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static bool str_is(const json_t *v, const char *want)
{
    size_t n = strlen(want);
    return json_is_string(v) && json_string_length(v) == n && memcmp(json_string_value(v), want, n) == 0;
}

/* A header other than the canonical bytes: must still say exactly
 * alg=HS256 and typ=JWT and nothing else. kid/jku/x5u/jwk/x5c would ask us
 * to fetch or choose a key (the kid path-traversal and SQL-injection
 * classes); crit names extensions we do not implement, which RFC 7515
 * §4.1.11 says must be refused; the rest have no use here. */
static authjwt_err check_header(const char *b64, size_t n)
{
    if (n > MAX_HEADER_B64)
        return AUTHJWT_MALFORMED;
    json_t *h = part_json(b64, n);
    if (!h)
        return AUTHJWT_MALFORMED;
    authjwt_err err = AUTHJWT_OK;
    if (!str_is(json_object_get(h, "alg"), "HS256"))
        err = AUTHJWT_WRONG_ALG;
    else if (!str_is(json_object_get(h, "typ"), "JWT"))
        err = AUTHJWT_WRONG_TYP;
    else if (json_object_size(h) != 2)
        err = AUTHJWT_FORBIDDEN_HEADER;
    json_decref(h);
    return err;
}

/* A required or optional text claim. *s is NULL when absent. */
static bool get_text(json_t *p, const char *key, bool required, size_t max, bool id, arena *a,
                     const char **s)
{
    json_t *v = json_object_get(p, key);
    *s = NULL;
    if (!v)
        return !required;
    if (!json_is_string(v))
        return false;
    const char *val = json_string_value(v);
    size_t n = json_string_length(v);
    if (id ? !id_ok(val, n) : !text_ok(val, n, max))
        return false;
    *s = arena_strndup(a, val, n);
    return true;
}

static bool get_time(json_t *p, const char *key, bool required, long long *t)
{
    json_t *v = json_object_get(p, key);
    *t = 0;
    if (!v)
        return !required;
    /* An integer only: 1e10 and 1.5 are reals to jansson, "123" a string. */
    if (!json_is_integer(v))
        return false;
    *t = json_integer_value(v);
    return time_ok(*t);
}

static authjwt_err check_aud(json_t *p, const char *want)
{
    json_t *aud = json_object_get(p, "aud");
    if (!aud)
        return want ? AUTHJWT_WRONG_AUDIENCE : AUTHJWT_OK;
    if (json_is_string(aud)) {
        if (!text_ok(json_string_value(aud), json_string_length(aud), AUTHJWT_MAX_NAME))
            return AUTHJWT_BAD_CLAIM;
        return want && str_is(aud, want) ? AUTHJWT_OK : AUTHJWT_WRONG_AUDIENCE;
    }
    size_t n = json_array_size(aud);
    if (!json_is_array(aud) || n == 0 || n > AUTHJWT_MAX_AUD)
        return AUTHJWT_BAD_CLAIM;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(aud, i);
        if (!json_is_string(v) || !text_ok(json_string_value(v), json_string_length(v), AUTHJWT_MAX_NAME))
            return AUTHJWT_BAD_CLAIM;
        if (want && str_is(v, want))
            found = true;
    }
    return found ? AUTHJWT_OK : AUTHJWT_WRONG_AUDIENCE;
}

static authjwt_err check_times(const authjwt_claims *c, const authjwt_expect *e, long long now)
{
    long long leeway = e->leeway < 0 ? 0 : e->leeway > AUTHJWT_MAX_LEEWAY ? AUTHJWT_MAX_LEEWAY : e->leeway;
    /* RFC 7519 §4.1.4: valid only while now < exp. */
    if (now >= c->exp + leeway)
        return AUTHJWT_EXPIRED;
    if (c->nbf > now + leeway || c->iat > now + leeway)
        return AUTHJWT_NOT_YET_VALID;
    return AUTHJWT_OK;
}

static authjwt_err check_claims(json_t *p, const authjwt_expect *e, long long now, arena *a,
                                authjwt_claims *c)
{
    const char *use = NULL;
    if (!get_text(p, "iss", true, AUTHJWT_MAX_NAME, false, a, &c->iss) ||
        !get_text(p, "sub", true, AUTHJWT_MAX_NAME, false, a, &c->sub) ||
        !get_text(p, "jti", true, AUTHJWT_MAX_ID, true, a, &c->jti) ||
        !get_text(p, "sid", false, AUTHJWT_MAX_ID, true, a, &c->sid) ||
        !get_text(p, "scope", false, AUTHJWT_MAX_SCOPE, false, a, &c->scope) ||
        !get_text(p, "use", true, AUTHJWT_MAX_NAME, false, a, &use) || !get_time(p, "exp", true, &c->exp) ||
        !get_time(p, "iat", true, &c->iat) || !get_time(p, "nbf", false, &c->nbf) || c->exp <= c->iat)
        return AUTHJWT_BAD_CLAIM;

    if (!e->iss || strcmp(c->iss, e->iss) != 0)
        return AUTHJWT_WRONG_ISSUER;
    authjwt_err err = check_aud(p, e->aud);
    if (err != AUTHJWT_OK)
        return err;
    c->aud = e->aud ? arena_strdup(a, e->aud) : NULL;
    if ((unsigned)e->use >= AUTHJWT_USE__COUNT || strcmp(use, use_names[e->use]) != 0)
        return AUTHJWT_WRONG_USE;
    c->use = e->use;

    return check_times(c, e, now);
}

/* ---- per-thread cache of verified tokens ------------------------------ */

/*
 * A client sends the same access token with every request for its whole
 * life, and a full verify costs ~5 us here (jansson ~3, HMAC ~1.2), a large
 * share of a whole GET (~10-15 us). A hit costs ~0.06 us. So each thread remembers the last tokens it
 * verified in full, byte for byte, with their claims. A hit compares the
 * whole token in constant time, then redoes every check that depends on
 * the call rather than on the token's bytes: the expectation (iss, aud and
 * use must be the ones the entry was verified against, else it is a miss)
 * and the clock (exp, nbf, iat against now). Entries carry the id of the
 * keys that verified them, so other or rotated keys never hit. Only
 * successful verifies are stored. The cache is thread-local: no locks, and
 * nothing one thread stores is seen by another.
 */
#define CACHE_SLOTS 32     /* distinct live tokens per thread */
#define CACHE_TOKEN_MAX 640 /* longer tokens are not cached */
#define CACHE_STRS 640      /* room for a token's claim strings */

typedef struct slot {
    uint64_t keys_id; /* 0: empty */
    size_t tok_len;
    authjwt_claims c; /* strings point into strs */
    char tok[CACHE_TOKEN_MAX];
    char strs[CACHE_STRS];
} slot;

static _Thread_local slot cache[CACHE_SLOTS];
static _Thread_local unsigned long cache_hits;

unsigned long authjwt__cache_hits(void) { return cache_hits; }

static slot *cache_slot(const char *token, size_t len)
{
    /* FNV-1a over the signature's last characters: uniform enough. */
    uint32_t h = 2166136261u;
    for (size_t i = len > 16 ? len - 16 : 0; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 16777619u;
    return &cache[h % CACHE_SLOTS];
}

/* Constant-time equality of n bytes, eight at a time: no early exit, and
 * the volatile accumulator keeps the compiler from adding one. libsodium's
 * sodium_memcmp goes a byte at a time, which made it the largest cost of a
 * cache probe. */
static bool ct_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    volatile uint64_t d = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        d |= u ^ v;
    }
    for (; i < n; i++)
        d |= (uint64_t)(x[i] ^ y[i]);
    return d == 0;
}

static bool same_str(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* AUTHJWT__COUNT on a miss; otherwise the result, with *out filled on OK. */
static authjwt_err cache_get(const authjwt_keys *k, const char *token, size_t len, const authjwt_expect *e,
                             long long now, arena *a, authjwt_claims *out)
{
    slot *s = cache_slot(token, len);
    if (s->keys_id != k->id || s->tok_len != len || !ct_equal(s->tok, token, len) ||
        !same_str(s->c.iss, e->iss) || !same_str(s->c.aud, e->aud) || s->c.use != e->use)
        return AUTHJWT__COUNT;
    cache_hits++;
    authjwt_err err = check_times(&s->c, e, now);
    if (err != AUTHJWT_OK)
        return err;
    *out = s->c;
    out->iss = arena_strdup(a, s->c.iss);
    out->sub = arena_strdup(a, s->c.sub);
    out->jti = arena_strdup(a, s->c.jti);
    out->aud = s->c.aud ? arena_strdup(a, s->c.aud) : NULL;
    out->sid = s->c.sid ? arena_strdup(a, s->c.sid) : NULL;
    out->scope = s->c.scope ? arena_strdup(a, s->c.scope) : NULL;
    return AUTHJWT_OK;
}

/* Copy src into the slot's string area at *used; NULL stays NULL. */
static bool put_s(slot *s, size_t *used, const char *src, const char **dst)
{
    *dst = NULL;
    if (!src)
        return true;
    size_t n = strlen(src) + 1;
    if (n > CACHE_STRS - *used)
        return false;
    memcpy(s->strs + *used, src, n);
    *dst = s->strs + *used;
    *used += n;
    return true;
}

static void cache_put(const authjwt_keys *k, const char *token, size_t len, const authjwt_claims *c)
{
    if (len > CACHE_TOKEN_MAX)
        return;
    slot *s = cache_slot(token, len);
    s->keys_id = 0;
    s->c = *c;
    size_t used = 0;
    if (!put_s(s, &used, c->iss, &s->c.iss) || !put_s(s, &used, c->sub, &s->c.sub) ||
        !put_s(s, &used, c->aud, &s->c.aud) || !put_s(s, &used, c->jti, &s->c.jti) ||
        !put_s(s, &used, c->sid, &s->c.sid) || !put_s(s, &used, c->scope, &s->c.scope))
        return; /* left empty */
    memcpy(s->tok, token, len);
    s->tok_len = len;
    s->keys_id = k->id;
}

authjwt_err authjwt_verify(const authjwt_keys *k, const char *token, size_t len,
                           const authjwt_expect *e, time_t now, arena *a, authjwt_claims *out)
{
    memset(out, 0, sizeof *out);
    if (len > AUTHJWT_MAX_TOKEN)
        return AUTHJWT_TOO_LARGE;
    if (!token || !k)
        return AUTHJWT_MALFORMED;
    authjwt_err hit = cache_get(k, token, len, e, (long long)now, a, out);
    if (hit != AUTHJWT__COUNT)
        return hit;
    const char *end = token + len;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)))
        return AUTHJWT_MALFORMED; /* not exactly three parts (JWE has five) */
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1), slen = (size_t)(end - d2 - 1);
    if (hlen == 0 || plen == 0)
        return AUTHJWT_MALFORMED;

    /* 1. Header: fixed algorithm and type, nothing else. */
    if (hlen != CANON_HEADER_LEN || memcmp(token, CANON_HEADER, hlen) != 0) {
        authjwt_err err = check_header(token, hlen);
        if (err != AUTHJWT_OK)
            return err;
    }

    /* 2. Signature, before anything in the payload is read (ASVS 9.1.1).
     * A part of any other length (an HS512 or RS256 signature, an empty
     * one from alg=none) cannot be ours. */
    unsigned char sig[SIG_LEN], want[SIG_LEN];
    if (slen != SIG_B64_LEN || auth__b64url_decode(d2 + 1, slen, sig, sizeof sig) != SIG_LEN)
        return AUTHJWT_BAD_SIGNATURE;
    mac(k, token, (size_t)(d2 - token), want);
    if (crypto_verify_32(sig, want) != 0)
        return AUTHJWT_BAD_SIGNATURE;

    /* 3. Payload and claims. */
    json_t *p = part_json(d1 + 1, plen);
    if (!p)
        return AUTHJWT_MALFORMED;
    authjwt_err err = check_claims(p, e, (long long)now, a, out);
    json_decref(p);
    if (err != AUTHJWT_OK)
        memset(out, 0, sizeof *out);
    else
        cache_put(k, token, len, out);
    return err;
}

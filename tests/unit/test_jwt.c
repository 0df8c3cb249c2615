/*
 * Unit tests for the JWT wrapper (src/auth/jwt.c): a valid round trip,
 * agreement with libjwt on valid tokens, and a hostile-token suite after
 * shared/reference/security-notes.md §2. Hostile tokens are minted here by
 * hand (header and payload JSON, HMAC with libsodium) so each one differs
 * from a valid token in exactly the way the test names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jwt.h> /* libjwt, as an independent implementation */
#include <sodium.h>

#include "auth/auth_int.h"
#include "auth/jwt.h"

#define NOW 1700000000LL
#define ISS "https://restd.test"
#define JTI "0b6f4a0e-6f5c-4e1c-9b8a-3f1e2d4c5b6a"

static const unsigned char KEY[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
static authjwt_keys *K;
static arena *A;

static const authjwt_expect EXPECT = {.iss = ISS, .aud = "api", .use = AUTHJWT_USE_ACCESS, .leeway = 30};

static int setup(void **state)
{
    K = authjwt_keys_new(KEY, sizeof KEY);
    A = arena_new();
    return K && A ? 0 : -1;
}

static int teardown(void **state)
{
    authjwt_keys_free(K);
    arena_free(A);
    return 0;
}

/* ---- minting -------------------------------------------------------- */

static char *b64(const void *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = arena_alloc(A, cap);
    sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

/* h64.p64.HMAC-SHA256(key, "h64.p64"), the parts given already encoded. */
static char *sign_parts(const unsigned char *key, size_t klen, const char *h64, const char *p64)
{
    char *input = arena_printf(A, "%s.%s", h64, p64);
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)input, strlen(input));
    crypto_auth_hmacsha256_final(&st, mac);
    return arena_printf(A, "%s.%s", input, b64(mac, sizeof mac));
}

static char *mint_key(const unsigned char *key, size_t klen, const char *header, const char *payload)
{
    return sign_parts(key, klen, b64(header, strlen(header)), b64(payload, strlen(payload)));
}

static char *mint(const char *header, const char *payload) { return mint_key(KEY, sizeof KEY, header, payload); }

#define H_OK "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Payload fields as raw JSON text: NULL keeps the valid default, "-"
 * leaves the claim out. extra is appended as is (",\"k\":v"). */
typedef struct P {
    const char *iss, *sub, *aud, *jti, *use, *iat, *exp, *nbf, *extra;
} P;

static void field(buf *b, const char *key, const char *val, const char *dflt)
{
    if (val && strcmp(val, "-") == 0)
        return;
    buf_printf(b, "%s\"%s\":%s", b->len > 1 ? "," : "", key, val ? val : dflt);
}

static char *payload(P p)
{
    buf b;
    buf_init(&b, A, 1 << 20);
    buf_putc(&b, '{');
    field(&b, "iss", p.iss, "\"" ISS "\"");
    field(&b, "sub", p.sub, "\"u1\"");
    field(&b, "aud", p.aud, "\"api\"");
    field(&b, "jti", p.jti, "\"" JTI "\"");
    field(&b, "use", p.use, "\"access\"");
    field(&b, "iat", p.iat, "1700000000");
    field(&b, "exp", p.exp, "1700000900");
    if (p.nbf)
        field(&b, "nbf", p.nbf, NULL);
    if (p.extra)
        buf_puts(&b, p.extra);
    buf_putc(&b, '}');
    return (char *)buf_cstr(&b);
}

static authjwt_err verify_e(const char *tok, const authjwt_expect *e, long long now)
{
    authjwt_claims c;
    authjwt_err err = authjwt_verify(K, tok, strlen(tok), e, (time_t)now, A, &c);
    if (err != AUTHJWT_OK) {
        /* A failed verify hands back nothing. */
        assert_null(c.sub);
        assert_null(c.jti);
        assert_int_equal(c.exp, 0);
    }
    return err;
}

static authjwt_err V(const char *tok) { return verify_e(tok, &EXPECT, NOW); }

#define ERR(tok, want) assert_string_equal(authjwt_strerror(V(tok)), authjwt_strerror(want))

static authjwt_claims valid_claims(void)
{
    return (authjwt_claims){.iss = ISS, .sub = "u1", .aud = "api", .jti = JTI, .use = AUTHJWT_USE_ACCESS,
                            .iat = NOW, .exp = NOW + 900};
}

/* ---- keys and round trip -------------------------------------------- */

static void test_keys(void **state)
{
    assert_null(authjwt_keys_new(NULL, 64));
    assert_null(authjwt_keys_new(KEY, 0));
    assert_null(authjwt_keys_new((const unsigned char *)"", 0));
    assert_null(authjwt_keys_new(KEY, 31));
    unsigned char big[AUTHJWT_MAX_KEY + 1] = {0};
    assert_null(authjwt_keys_new(big, sizeof big));
    authjwt_keys *k = authjwt_keys_new(KEY, 32);
    assert_non_null(k);
    authjwt_keys_free(k);
    authjwt_keys_free(NULL);
}

static void test_round_trip(void **state)
{
    authjwt_claims in = valid_claims();
    in.sid = "fam_01";
    in.scope = "read write";
    char *tok;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
    assert_true(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
    assert_null(strchr(tok, '='));
    authjwt_claims c;
    assert_int_equal(authjwt_verify(K, tok, strlen(tok), &EXPECT, NOW, A, &c), AUTHJWT_OK);
    assert_string_equal(c.iss, ISS);
    assert_string_equal(c.sub, "u1");
    assert_string_equal(c.aud, "api");
    assert_string_equal(c.jti, JTI);
    assert_string_equal(c.sid, "fam_01");
    assert_string_equal(c.scope, "read write");
    assert_int_equal(c.use, AUTHJWT_USE_ACCESS);
    assert_int_equal(c.iat, NOW);
    assert_int_equal(c.exp, NOW + 900);
    assert_int_equal(c.nbf, 0);

    /* The length bounds the token: trailing bytes are not read. */
    char *padded = arena_printf(A, "%sGARBAGE", tok);
    assert_int_equal(authjwt_verify(K, padded, strlen(tok), &EXPECT, NOW, A, &c), AUTHJWT_OK);

    /* Another key: the signature does not match. */
    unsigned char other[32];
    memset(other, 7, sizeof other);
    authjwt_keys *k2 = authjwt_keys_new(other, sizeof other);
    assert_int_equal(authjwt_verify(k2, tok, strlen(tok), &EXPECT, NOW, A, &c), AUTHJWT_BAD_SIGNATURE);
    authjwt_keys_free(k2);

    /* Refresh tokens, no audience, nbf. */
    in = valid_claims();
    in.use = AUTHJWT_USE_REFRESH;
    in.aud = NULL;
    in.nbf = NOW;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
    authjwt_expect e = {.iss = ISS, .use = AUTHJWT_USE_REFRESH};
    assert_int_equal(authjwt_verify(K, tok, strlen(tok), &e, NOW, A, &c), AUTHJWT_OK);
    assert_int_equal(c.use, AUTHJWT_USE_REFRESH);
    assert_null(c.aud);
    assert_int_equal(c.nbf, NOW);
}

static void test_jti_new(void **state)
{
    char a[AUTHJWT_JTI_LEN + 1], b[AUTHJWT_JTI_LEN + 1];
    authjwt_jti_new(a);
    authjwt_jti_new(b);
    assert_int_equal(strlen(a), AUTHJWT_JTI_LEN);
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    authjwt_claims in = valid_claims();
    in.jti = a;
    char *tok;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
}

/* libjwt, configured safely (pinned key and length), agrees with us on
 * valid tokens both ways. */
static void test_libjwt_interop(void **state)
{
    authjwt_claims in = valid_claims();
    char *tok;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
    jwt_t *j = NULL;
    assert_int_equal(jwt_decode(&j, tok, KEY, sizeof KEY), 0);
    assert_int_equal(jwt_get_alg(j), JWT_ALG_HS256);
    assert_string_equal(jwt_get_grant(j, "sub"), "u1");
    assert_string_equal(jwt_get_grant(j, "use"), "access");
    assert_int_equal(jwt_get_grant_int(j, "exp"), NOW + 900);
    jwt_free(j);

    assert_int_equal(jwt_new(&j), 0);
    assert_int_equal(jwt_set_alg(j, JWT_ALG_HS256, KEY, sizeof KEY), 0);
    jwt_add_grant(j, "iss", ISS);
    jwt_add_grant(j, "sub", "u2");
    jwt_add_grant(j, "aud", "api");
    jwt_add_grant(j, "jti", JTI);
    jwt_add_grant(j, "use", "access");
    jwt_add_grant_int(j, "iat", NOW);
    jwt_add_grant_int(j, "exp", NOW + 60);
    char *theirs = jwt_encode_str(j);
    jwt_free(j);
    assert_non_null(theirs);
    authjwt_claims c;
    assert_int_equal(authjwt_verify(K, theirs, strlen(theirs), &EXPECT, NOW, A, &c), AUTHJWT_OK);
    assert_string_equal(c.sub, "u2");
    free(theirs);
}

static void test_issue_refuses(void **state)
{
    char *tok = (char *)"sentinel";
    authjwt_claims c = valid_claims();
    c.sub = NULL;
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    assert_null(tok);
    c = valid_claims();
    c.iss = "";
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    c = valid_claims();
    c.jti = "../etc/passwd";
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    c = valid_claims();
    c.sub = "u1\nlevel=admin";
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    c = valid_claims();
    c.sub = "\xff\xfe";
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    c = valid_claims();
    c.exp = c.iat;
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    c = valid_claims();
    c.use = AUTHJWT_USE__COUNT;
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    c = valid_claims();
    char *long_sub = arena_alloc(A, AUTHJWT_MAX_NAME + 2);
    memset(long_sub, 'x', AUTHJWT_MAX_NAME + 1);
    long_sub[AUTHJWT_MAX_NAME + 1] = '\0';
    c.sub = long_sub;
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_BAD_CLAIM);
    long_sub[AUTHJWT_MAX_NAME] = '\0';
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_OK);

    /* Every field at its bound and full of quotes (escaped to two bytes):
     * the token would pass the size cap. */
    char *quotes = arena_alloc(A, AUTHJWT_MAX_SCOPE + 1);
    memset(quotes, '"', AUTHJWT_MAX_SCOPE);
    quotes[AUTHJWT_MAX_SCOPE] = '\0';
    c = valid_claims();
    c.scope = quotes;
    c.iss = quotes + AUTHJWT_MAX_SCOPE - AUTHJWT_MAX_NAME;
    c.sub = c.iss;
    c.aud = c.iss;
    assert_int_equal(authjwt_issue(K, &c, A, &tok), AUTHJWT_TOO_LARGE);
    assert_null(tok);
}

/* ---- hostile tokens -------------------------------------------------- */

static void test_baseline_is_valid(void **state)
{
    /* The hand-minted baseline passes, so each test below fails for the
     * one reason it names. */
    ERR(mint(H_OK, payload((P){0})), AUTHJWT_OK);
    /* Member order and whitespace in the header are not significant. */
    ERR(mint(" { \"typ\" : \"JWT\" , \"alg\" : \"HS256\" } ", payload((P){0})), AUTHJWT_OK);
}

static void test_alg(void **state)
{
    const char *p = payload((P){0});
    /* alg none with an empty signature, in several spellings. */
    const char *none[] = {"none", "None", "NONE", "nOnE"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        const char *h = arena_printf(A, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", none[i]);
        ERR(arena_printf(A, "%s.%s.", b64(h, strlen(h)), b64(p, strlen(p))), AUTHJWT_WRONG_ALG);
        ERR(mint(h, p), AUTHJWT_WRONG_ALG);
    }
    /* Other algorithms, even with an HS256 signature by our key. */
    const char *algs[] = {"HS512", "HS384", "RS256", "ES256", "PS256", "EdDSA", "hs256", "HS256 ", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        ERR(mint(arena_printf(A, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i]), p), AUTHJWT_WRONG_ALG);
    ERR(mint("{\"typ\":\"JWT\"}", p), AUTHJWT_WRONG_ALG);
    ERR(mint("{\"alg\":null,\"typ\":\"JWT\"}", p), AUTHJWT_WRONG_ALG);
    ERR(mint("{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}", p), AUTHJWT_WRONG_ALG);

    /* A real HS512 token by our key. */
    const char *h = "{\"alg\":\"HS512\",\"typ\":\"JWT\"}";
    char *input = arena_printf(A, "%s.%s", b64(h, strlen(h)), b64(p, strlen(p)));
    unsigned char mac[64];
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, KEY, sizeof KEY);
    crypto_auth_hmacsha512_update(&st, (const unsigned char *)input, strlen(input));
    crypto_auth_hmacsha512_final(&st, mac);
    ERR(arena_printf(A, "%s.%s", input, b64(mac, sizeof mac)), AUTHJWT_WRONG_ALG);
    /* The same signature under our header: a 64-byte MAC is not ours. */
    char *hs = arena_printf(A, "%s.%s.%s", b64(H_OK, strlen(H_OK)), b64(p, strlen(p)), b64(mac, sizeof mac));
    ERR(hs, AUTHJWT_BAD_SIGNATURE);
}

static void test_rs_hs_confusion(void **state)
{
    /* HS256 keyed with an RSA public key's PEM text (the key confusion
     * libjwt 1.10 falls for when given a PEM): not our secret. */
    static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
                              "-----END PUBLIC KEY-----\n";
    ERR(mint_key((const unsigned char *)pem, strlen(pem), H_OK, payload((P){0})), AUTHJWT_BAD_SIGNATURE);
    /* Nor is an empty key. */
    ERR(mint_key((const unsigned char *)"", 0, H_OK, payload((P){0})), AUTHJWT_BAD_SIGNATURE);
}

static void test_typ(void **state)
{
    const char *p = payload((P){0});
    ERR(mint("{\"alg\":\"HS256\"}", p), AUTHJWT_WRONG_TYP);
    ERR(mint("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", p), AUTHJWT_WRONG_TYP);
    ERR(mint("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", p), AUTHJWT_WRONG_TYP);
    ERR(mint("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", p), AUTHJWT_WRONG_TYP);
    ERR(mint("{\"alg\":\"HS256\",\"typ\":1}", p), AUTHJWT_WRONG_TYP);
}

static void test_forbidden_headers(void **state)
{
    const char *p = payload((P){0});
    const char *extra[] = {
        "\"kid\":\"../../../../dev/null\"",
        "\"kid\":\"' UNION SELECT 'k'--\"",
        "\"kid\":\"1\"",
        "\"jku\":\"https://evil.example/jwks.json\"",
        "\"x5u\":\"https://evil.example/cert.pem\"",
        "\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        "\"x5c\":[\"MIIB\"]",
        "\"crit\":[\"exp\"]",
        "\"crit\":[]",
        "\"cty\":\"JWT\"",
        "\"b64\":false",
        "\"zip\":\"DEF\"",
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        ERR(mint(arena_printf(A, "{\"alg\":\"HS256\",\"typ\":\"JWT\",%s}", extra[i]), p), AUTHJWT_FORBIDDEN_HEADER);
}

static void test_duplicate_keys(void **state)
{
    const char *p = payload((P){0});
    /* libjwt and plain jansson keep the last alg. */
    ERR(mint("{\"alg\":\"none\",\"alg\":\"HS256\",\"typ\":\"JWT\"}", p), AUTHJWT_MALFORMED);
    ERR(mint("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", p), AUTHJWT_MALFORMED);
    /* {"sub":"u1","sub":"admin"} must not mean admin. */
    ERR(mint(H_OK, payload((P){.extra = ",\"sub\":\"admin\""})), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, payload((P){.extra = ",\"exp\":9999999999"})), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, payload((P){.extra = ",\"use\":\"access\""})), AUTHJWT_MALFORMED);
}

static void test_tampering(void **state)
{
    authjwt_claims in = valid_claims();
    char *tok;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
    ERR(tok, AUTHJWT_OK);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

    /* Swap in another payload, keep the signature. */
    const char *evil = payload((P){.sub = "\"admin\""});
    ERR(arena_printf(A, "%.*s.%s%s", (int)(d1 - tok), tok, b64(evil, strlen(evil)), d2), AUTHJWT_BAD_SIGNATURE);
    /* Signature: one character changed, cut short, dropped, padded. */
    char *t = arena_strdup(A, tok);
    size_t mid = (size_t)(d2 - tok) + 10;
    t[mid] = t[mid] == 'A' ? 'B' : 'A';
    ERR(t, AUTHJWT_BAD_SIGNATURE);
    ERR(arena_strndup(A, tok, strlen(tok) - 1), AUTHJWT_BAD_SIGNATURE);
    ERR(arena_strndup(A, tok, (size_t)(d2 - tok) + 1), AUTHJWT_BAD_SIGNATURE);
    ERR(arena_printf(A, "%s=", tok), AUTHJWT_BAD_SIGNATURE);
    /* Standard base64 alphabet in the signature. */
    t = arena_strdup(A, tok);
    t[mid] = '+';
    ERR(t, AUTHJWT_BAD_SIGNATURE);

    /* Every single-byte change anywhere is refused. */
    size_t n = strlen(tok);
    const char subst[] = {'A', 'z', '.', '=', '\0', '\xff'};
    for (size_t i = 0; i < n; i++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            if (tok[i] == subst[s])
                continue;
            t = arena_strdup(A, tok);
            t[i] = subst[s];
            authjwt_claims c;
            assert_int_not_equal(authjwt_verify(K, t, n, &EXPECT, NOW, A, &c), AUTHJWT_OK);
        }
    }
}

static void test_times(void **state)
{
    ERR(mint(H_OK, payload((P){.iat = "1699990000", .exp = "1699999900"})), AUTHJWT_EXPIRED);
    /* Within the 30 s leeway. */
    ERR(mint(H_OK, payload((P){.iat = "1699990000", .exp = "1699999990"})), AUTHJWT_OK);
    ERR(mint(H_OK, payload((P){.iat = "1699990000", .exp = "1699999970"})), AUTHJWT_EXPIRED);
    /* Exactly at exp, no leeway: expired (valid only while now < exp). */
    authjwt_expect e = EXPECT;
    e.leeway = 0;
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW + 900), AUTHJWT_EXPIRED);
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW + 899), AUTHJWT_OK);
    /* A huge leeway is clamped. */
    e.leeway = 1000000;
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW + 900 + AUTHJWT_MAX_LEEWAY),
                     AUTHJWT_EXPIRED);
    e.leeway = -5;
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW + 900), AUTHJWT_EXPIRED);

    ERR(mint(H_OK, payload((P){.nbf = "1700000100"})), AUTHJWT_NOT_YET_VALID);
    ERR(mint(H_OK, payload((P){.nbf = "1700000020"})), AUTHJWT_OK);
    ERR(mint(H_OK, payload((P){.iat = "1700000100"})), AUTHJWT_NOT_YET_VALID);
    ERR(mint(H_OK, payload((P){.iat = "1700000020"})), AUTHJWT_OK);

    /* Types and ranges: integers only. */
    ERR(mint(H_OK, payload((P){.exp = "-"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.iat = "-"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "\"1700000900\""})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "1.7000009e9"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "1700000900.0"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "null"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "true"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "-1"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "9223372036854775807"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.exp = "99999999999999999999"})), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, payload((P){.nbf = "\"0\""})), AUTHJWT_BAD_CLAIM);
    /* exp not after iat. */
    ERR(mint(H_OK, payload((P){.iat = "1700000000", .exp = "1700000000"})), AUTHJWT_BAD_CLAIM);
}

static void test_issuer_audience(void **state)
{
    ERR(mint(H_OK, payload((P){.iss = "\"https://evil.test\""})), AUTHJWT_WRONG_ISSUER);
    ERR(mint(H_OK, payload((P){.iss = "\"https://restd.test/\""})), AUTHJWT_WRONG_ISSUER);
    ERR(mint(H_OK, payload((P){.iss = "-"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.iss = "1"})), AUTHJWT_BAD_CLAIM);
    authjwt_expect e = EXPECT;
    e.iss = NULL;
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW), AUTHJWT_WRONG_ISSUER);

    ERR(mint(H_OK, payload((P){.aud = "\"other\""})), AUTHJWT_WRONG_AUDIENCE);
    ERR(mint(H_OK, payload((P){.aud = "\"API\""})), AUTHJWT_WRONG_AUDIENCE);
    ERR(mint(H_OK, payload((P){.aud = "-"})), AUTHJWT_WRONG_AUDIENCE);
    ERR(mint(H_OK, payload((P){.aud = "[\"other\",\"api\"]"})), AUTHJWT_OK);
    ERR(mint(H_OK, payload((P){.aud = "[\"other\"]"})), AUTHJWT_WRONG_AUDIENCE);
    ERR(mint(H_OK, payload((P){.aud = "[]"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.aud = "[\"api\",1]"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.aud = "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"api\"]"})),
        AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.aud = "7"})), AUTHJWT_BAD_CLAIM);
    /* No audience expected: a token that names one is not for us. */
    e = EXPECT;
    e.aud = NULL;
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW), AUTHJWT_WRONG_AUDIENCE);
    assert_int_equal(verify_e(mint(H_OK, payload((P){.aud = "-"})), &e, NOW), AUTHJWT_OK);
}

static void test_use(void **state)
{
    /* A refresh token presented as an access token, and the reverse. */
    ERR(mint(H_OK, payload((P){.use = "\"refresh\""})), AUTHJWT_WRONG_USE);
    ERR(mint(H_OK, payload((P){.use = "\"mfa\""})), AUTHJWT_WRONG_USE);
    ERR(mint(H_OK, payload((P){.use = "\"admin\""})), AUTHJWT_WRONG_USE);
    ERR(mint(H_OK, payload((P){.use = "\"Access\""})), AUTHJWT_WRONG_USE);
    ERR(mint(H_OK, payload((P){.use = "-"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.use = "[\"access\"]"})), AUTHJWT_BAD_CLAIM);
    authjwt_expect e = EXPECT;
    e.use = AUTHJWT_USE_REFRESH;
    assert_int_equal(verify_e(mint(H_OK, payload((P){0})), &e, NOW), AUTHJWT_WRONG_USE);
    assert_int_equal(verify_e(mint(H_OK, payload((P){.use = "\"refresh\""})), &e, NOW), AUTHJWT_OK);
}

static void test_ids(void **state)
{
    ERR(mint(H_OK, payload((P){.jti = "-"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.jti = "\"\""})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.jti = "42"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.jti = "\"' OR 1=1--\""})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.jti = "\"a/b\""})), AUTHJWT_BAD_CLAIM);
    char *j64 = arena_alloc(A, 67), *j65 = arena_alloc(A, 68);
    snprintf(j64, 67, "\"%064d\"", 0);
    snprintf(j65, 68, "\"%065d\"", 0);
    ERR(mint(H_OK, payload((P){.jti = j64})), AUTHJWT_OK);
    ERR(mint(H_OK, payload((P){.jti = j65})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.sub = "-"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.sub = "\"\""})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.sub = "17"})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.sub = "\"u1\\nadmin\""})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.sub = "\"u1\\u0000admin\""})), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, payload((P){.sub = "\"d\\u00e9j\\u00e0\""})), AUTHJWT_OK);
    ERR(mint(H_OK, payload((P){.extra = ",\"sid\":\"a b\""})), AUTHJWT_BAD_CLAIM);
    ERR(mint(H_OK, payload((P){.extra = ",\"scope\":7"})), AUTHJWT_BAD_CLAIM);
    /* Claims we do not know are signed by us and ignored. */
    ERR(mint(H_OK, payload((P){.extra = ",\"x\":{\"y\":[1,2]}"})), AUTHJWT_OK);
}

static void test_structure(void **state)
{
    authjwt_claims in = valid_claims();
    char *tok;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    int hl = (int)(d1 - tok);

    /* Part counts. */
    ERR(arena_strndup(A, tok, (size_t)(d2 - tok)), AUTHJWT_MALFORMED); /* two parts */
    ERR(arena_printf(A, "%s.", tok), AUTHJWT_MALFORMED);                /* four, last empty */
    ERR(arena_printf(A, "%s.%s", tok, d2 + 1), AUTHJWT_MALFORMED);      /* four */
    ERR(arena_printf(A, "%s.AAAA.BBBB", tok), AUTHJWT_MALFORMED);       /* five (JWE shape) */
    ERR(arena_printf(A, "%.*s", hl, tok), AUTHJWT_MALFORMED);           /* one */
    ERR(arena_printf(A, ".%s", d1 + 1), AUTHJWT_MALFORMED);             /* empty header */
    ERR(arena_printf(A, "%.*s.%s", hl, tok, d2), AUTHJWT_MALFORMED);   /* empty payload */

    /* Garbage. */
    const char *junk[] = {"", ".", "..", "...", "a.b.c", "not a token", "Bearer x.y.z", "\x01\x02.\x03.\x04",
                          "eyJ.eyJ.eyJ", "{\"alg\":\"none\"}.{}."};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_not_equal(V(junk[i]), AUTHJWT_OK);

    /* Header in non-canonical or wrong base64. */
    ERR(arena_printf(A, "%.*s=%s", hl, tok, d1), AUTHJWT_MALFORMED);
    ERR(arena_printf(A, "%.*s+%s", hl - 1, tok, d1), AUTHJWT_MALFORMED);
    ERR(arena_printf(A, " %s", tok), AUTHJWT_MALFORMED);
    /* Standard-alphabet or padded base64 payload (signed, so the decoder is reached). */
    const char *h64 = b64(H_OK, strlen(H_OK));
    ERR(sign_parts(KEY, sizeof KEY, h64, "eyJ+In0="), AUTHJWT_MALFORMED);
    ERR(sign_parts(KEY, sizeof KEY, h64, "e"), AUTHJWT_MALFORMED);
    ERR(sign_parts(KEY, sizeof KEY, h64, "e y"), AUTHJWT_MALFORMED);
    /* "QR" decodes only by ignoring non-zero trailing bits: refused. */
    ERR(sign_parts(KEY, sizeof KEY, h64, "QR"), AUTHJWT_MALFORMED);
    /* Payload that is not one JSON object. */
    ERR(mint(H_OK, "[]"), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, "\"x\""), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, "null"), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, "{"), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, arena_printf(A, "%s x", payload((P){0}))), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, arena_printf(A, "%s{}", payload((P){0}))), AUTHJWT_MALFORMED);
    ERR(mint(H_OK, "\xef\xbb\xbf{}"), AUTHJWT_MALFORMED);
    ERR(mint("[]", payload((P){0})), AUTHJWT_MALFORMED);
    ERR(mint("{\"alg\":\"HS256\",\"typ\":\"JWT\"", payload((P){0})), AUTHJWT_MALFORMED);
    /* Invalid UTF-8 in a claim. */
    ERR(mint(H_OK, payload((P){.sub = "\"\xc0\xaf\""})), AUTHJWT_MALFORMED);
}

static void test_size(void **state)
{
    /* Over the cap: refused before any decoding, whatever the bytes. */
    char *big = arena_alloc(A, AUTHJWT_MAX_TOKEN + 2);
    memset(big, 'A', AUTHJWT_MAX_TOKEN + 1);
    big[10] = '.';
    big[20] = '.';
    big[AUTHJWT_MAX_TOKEN + 1] = '\0';
    ERR(big, AUTHJWT_TOO_LARGE);
    /* A signed token with a huge claim, just over the cap. */
    char *pad = arena_alloc(A, AUTHJWT_MAX_TOKEN);
    memset(pad, 'p', AUTHJWT_MAX_TOKEN - 1);
    pad[AUTHJWT_MAX_TOKEN - 1] = '\0';
    ERR(mint(H_OK, payload((P){.extra = arena_printf(A, ",\"pad\":\"%.*s\"", 2900, pad)})), AUTHJWT_TOO_LARGE);
    /* At the cap it is decoded (and valid: unknown claims are ignored). */
    char *t = NULL;
    for (int n = 2900; n > 2800; n--) {
        t = mint(H_OK, payload((P){.extra = arena_printf(A, ",\"pad\":\"%.*s\"", n, pad)}));
        if (strlen(t) <= AUTHJWT_MAX_TOKEN)
            break;
    }
    assert_true(strlen(t) <= AUTHJWT_MAX_TOKEN && strlen(t) > AUTHJWT_MAX_TOKEN - 4);
    ERR(t, AUTHJWT_OK);
}

/* The per-thread cache of verified tokens changes costs, never results. */
static void test_cache(void **state)
{
    authjwt_claims in = valid_claims();
    in.scope = "s";
    char *tok;
    assert_int_equal(authjwt_issue(K, &in, A, &tok), AUTHJWT_OK);
    size_t n = strlen(tok);
    authjwt_claims c;
    unsigned long h = authjwt__cache_hits();
    assert_int_equal(authjwt_verify(K, tok, n, &EXPECT, NOW, A, &c), AUTHJWT_OK);
    assert_int_equal(authjwt__cache_hits(), h); /* first time: in full */
    assert_int_equal(authjwt_verify(K, tok, n, &EXPECT, NOW + 1, A, &c), AUTHJWT_OK);
    assert_int_equal(authjwt__cache_hits(), h + 1);
    assert_string_equal(c.sub, "u1");
    assert_string_equal(c.jti, JTI);
    assert_string_equal(c.aud, "api");
    assert_string_equal(c.scope, "s");
    assert_null(c.sid);
    assert_int_equal(c.exp, NOW + 900);

    /* The clock is checked on a hit. */
    assert_int_equal(authjwt_verify(K, tok, n, &EXPECT, NOW + 900 + 30, A, &c), AUTHJWT_EXPIRED);
    assert_int_equal(authjwt__cache_hits(), h + 2);
    assert_null(c.sub);
    assert_int_equal(authjwt_verify(K, tok, n, &EXPECT, NOW - 31, A, &c), AUTHJWT_NOT_YET_VALID);
    /* Another expectation is a miss and gets the full answer. */
    h = authjwt__cache_hits();
    authjwt_expect e = EXPECT;
    e.use = AUTHJWT_USE_REFRESH;
    assert_int_equal(authjwt_verify(K, tok, n, &e, NOW, A, &c), AUTHJWT_WRONG_USE);
    e = EXPECT;
    e.aud = NULL;
    assert_int_equal(authjwt_verify(K, tok, n, &e, NOW, A, &c), AUTHJWT_WRONG_AUDIENCE);
    e = EXPECT;
    e.aud = "apx";
    assert_int_equal(authjwt_verify(K, tok, n, &e, NOW, A, &c), AUTHJWT_WRONG_AUDIENCE);
    e = EXPECT;
    e.iss = "https://other.test";
    assert_int_equal(authjwt_verify(K, tok, n, &e, NOW, A, &c), AUTHJWT_WRONG_ISSUER);
    assert_int_equal(authjwt__cache_hits(), h);

    /* Other keys never hit, even with the same secret. */
    unsigned char other[32];
    memset(other, 9, sizeof other);
    authjwt_keys *k2 = authjwt_keys_new(other, sizeof other);
    assert_int_equal(authjwt_verify(k2, tok, n, &EXPECT, NOW, A, &c), AUTHJWT_BAD_SIGNATURE);
    authjwt_keys_free(k2);
    k2 = authjwt_keys_new(KEY, sizeof KEY);
    assert_int_equal(authjwt_verify(k2, tok, n, &EXPECT, NOW, A, &c), AUTHJWT_OK);
    assert_int_equal(authjwt__cache_hits(), h);
    authjwt_keys_free(k2);

    /* A token that differs from a cached one in any byte is checked in full. */
    assert_int_equal(authjwt_verify(K, tok, n, &EXPECT, NOW, A, &c), AUTHJWT_OK);
    char *t = arena_strdup(A, tok);
    t[40] = t[40] == 'A' ? 'B' : 'A';
    assert_int_equal(authjwt_verify(K, t, n, &EXPECT, NOW, A, &c), AUTHJWT_BAD_SIGNATURE);
    assert_int_equal(authjwt_verify(K, tok, n - 1, &EXPECT, NOW, A, &c), AUTHJWT_BAD_SIGNATURE);
    /* Failures are not cached: the same bad token fails again in full. */
    h = authjwt__cache_hits();
    assert_int_equal(authjwt_verify(K, t, n, &EXPECT, NOW, A, &c), AUTHJWT_BAD_SIGNATURE);
    assert_int_equal(authjwt__cache_hits(), h);
}

static void test_strerror(void **state)
{
    assert_string_equal(authjwt_strerror(AUTHJWT_OK), "ok");
    assert_string_equal(authjwt_strerror(AUTHJWT_EXPIRED), "expired");
    assert_string_equal(authjwt_strerror(AUTHJWT_WRONG_USE), "wrong_use");
    assert_string_equal(authjwt_strerror(AUTHJWT__COUNT), "unknown");
    for (int e = 0; e < AUTHJWT__COUNT; e++)
        assert_non_null(authjwt_strerror((authjwt_err)e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jti_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libjwt_interop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_baseline_is_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rs_hs_confusion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issuer_audience, setup, teardown),
        cmocka_unit_test_setup_teardown(test_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strerror, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for TOTP, provisioning URIs and recovery codes (src/auth/totp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/totp.h"

/* RFC 6238 appendix B's SHA-1 secret, ASCII "12345678901234567890". */
#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/* RFC 6238 appendix B, SHA-1 rows; the codes are the RFC's 8-digit values
 * cut to their last 6 digits (RFC 4226 truncation is mod 10^digits). */
static const struct {
    long long t;
    const char *code;
    uint64_t counter;
} VEC[] = {
    {59, "287082", 1},                       /* 94287082 */
    {1111111109, "081804", 37037036},        /* 07081804 */
    {1111111111, "050471", 37037037},        /* 14050471 */
    {1234567890, "005924", 41152263},        /* 89005924 */
    {2000000000, "279037", 66666666},        /* 69279037 */
    {20000000000LL, "353130", 666666666},    /* 65353130 */
};

static totp_result V(const char *code, long long now, uint64_t last, uint64_t *matched)
{
    return totp_verify(RFC_SECRET, code, strlen(code), (time_t)now, last, matched);
}

static void test_rfc6238_vectors(void **state)
{
    for (size_t i = 0; i < sizeof VEC / sizeof VEC[0]; i++) {
        char out[TOTP_DIGITS + 1];
        assert_true(totp_generate(RFC_SECRET, (time_t)VEC[i].t, out));
        assert_string_equal(out, VEC[i].code);
        uint64_t m = 0;
        assert_int_equal(V(VEC[i].code, VEC[i].t, 0, &m), TOTP_OK);
        assert_int_equal(m, VEC[i].counter);
    }
    /* Lower-case base32 is the same secret. */
    char out[TOTP_DIGITS + 1];
    assert_true(totp_generate("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 59, out));
    assert_string_equal(out, "287082");
}

static void test_window(void **state)
{
    const long long now = 1111111111; /* counter 37037037 */
    char c[TOTP_DIGITS + 1];
    uint64_t m;
    for (int d = -3; d <= 3; d++) {
        assert_true(totp_generate(RFC_SECRET, (time_t)(now + d * TOTP_STEP), c));
        m = 0;
        totp_result r = V(c, now, 0, &m);
        if (d >= -TOTP_WINDOW && d <= TOTP_WINDOW) {
            assert_int_equal(r, TOTP_OK);
            assert_int_equal(m, (uint64_t)(37037037 + d));
        } else {
            assert_int_equal(r, TOTP_WRONG);
            assert_int_equal(m, 0); /* untouched */
        }
    }
}

static void test_replay(void **state)
{
    const long long now = 1111111111;
    char prev[TOTP_DIGITS + 1], cur[TOTP_DIGITS + 1], next[TOTP_DIGITS + 1];
    assert_true(totp_generate(RFC_SECRET, (time_t)(now - TOTP_STEP), prev));
    assert_true(totp_generate(RFC_SECRET, (time_t)now, cur));
    assert_true(totp_generate(RFC_SECRET, (time_t)(now + TOTP_STEP), next));

    uint64_t last = 0, m = 0;
    assert_int_equal(V(cur, now, last, &m), TOTP_OK);
    last = m;
    /* The same code again, even a second later in the same step. */
    m = 0;
    assert_int_equal(V(cur, now + 1, last, &m), TOTP_REPLAY);
    assert_int_equal(m, last); /* reported, so the caller can log the reuse */
    /* An older code that was never used is still not newer. */
    assert_int_equal(V(prev, now, last, &m), TOTP_REPLAY);
    /* The next step's code is. */
    assert_int_equal(V(next, now + TOTP_STEP, last, &m), TOTP_OK);
    assert_int_equal(m, last + 1);
    last = m;
    /* Having used the future code, the current one is burnt too. */
    assert_int_equal(V(cur, now + 1, last, &m), TOTP_REPLAY);
}

static void test_code_format(void **state)
{
    uint64_t m = 0;
    const char *bad[] = {"", "28708", "2870820", "28708a", " 87082", "287 82", "+87082", "-87082", "２８７０８２"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(V(bad[i], 59, 0, &m), TOTP_WRONG);
    /* The length is the caller's: a right code with trailing bytes is not read past len. */
    assert_int_equal(totp_verify(RFC_SECRET, "287082999", 6, 59, 0, &m), TOTP_OK);
    assert_int_equal(totp_verify(RFC_SECRET, "287082999", 7, 59, 0, &m), TOTP_WRONG);
    assert_int_equal(totp_verify(RFC_SECRET, NULL, 0, 59, 0, &m), TOTP_WRONG);
    assert_int_equal(m, 1);
}

static void test_bad_secret(void **state)
{
    uint64_t m = 0;
    char out[TOTP_DIGITS + 1];
    const char *bad[] = {"", "GEZDGNBV", "GEZDGNBVGY3TQOJQGEZDGNB!", "GEZDGNBVGY3TQOJQ=======",
                         "GEZDGNBVGY3TQOJ0GEZDGNBVGY3TQOJQ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(totp_verify(bad[i], "287082", 6, 59, 0, &m), TOTP_BAD_SECRET);
        assert_false(totp_generate(bad[i], 59, out));
    }
    assert_int_equal(totp_verify(NULL, "287082", 6, 59, 0, &m), TOTP_BAD_SECRET);
    char huge[TOTP_MAX_SECRET_B32 + 2];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(totp_verify(huge, "287082", 6, 59, 0, &m), TOTP_BAD_SECRET);
    huge[TOTP_MAX_SECRET_B32] = '\0'; /* 103 chars = 64 bytes: accepted */
    assert_true(totp_generate(huge, 59, out));
    assert_int_equal(m, 0);
}

static void test_secret_new(void **state)
{
    char a[TOTP_SECRET_B32_LEN + 1], b[TOTP_SECRET_B32_LEN + 1];
    totp_secret_new(a);
    totp_secret_new(b);
    assert_int_equal(strlen(a), TOTP_SECRET_B32_LEN);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), TOTP_SECRET_B32_LEN);
    assert_string_not_equal(a, b);
    /* Usable at once: a generated code verifies. */
    char c[TOTP_DIGITS + 1];
    assert_true(totp_generate(a, 1700000000, c));
    uint64_t m;
    assert_int_equal(totp_verify(a, c, strlen(c), 1700000000, 0, &m), TOTP_OK);
    assert_int_equal(m, 1700000000 / 30);
}

static void test_uri(void **state)
{
    arena *a = arena_new();
    assert_string_equal(totp_uri("ACME Co", "alice@example.com", "JBSWY3DPEHPK3PXP", a),
                        "otpauth://totp/ACME%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXP"
                        "&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30");
    /* A colon, ampersand or non-ASCII byte cannot break the label or the query. */
    assert_string_equal(totp_uri("a:b&c=d", "\xc3\xa9t\xc3\xa9?#", "JBSWY3DPEHPK3PXP", a),
                        "otpauth://totp/a%3Ab%26c%3Dd:%C3%A9t%C3%A9%3F%23?secret=JBSWY3DPEHPK3PXP"
                        "&issuer=a%3Ab%26c%3Dd&algorithm=SHA1&digits=6&period=30");
    assert_string_equal(totp_uri(NULL, "bob", "JBSWY3DPEHPK3PXP", a),
                        "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30");
    assert_string_equal(totp_uri("", "bob", "JBSWY3DPEHPK3PXP", a),
                        "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30");
    char big[TOTP_MAX_URI];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_null(totp_uri("i", big, "JBSWY3DPEHPK3PXP", a));
    assert_null(totp_uri("i", NULL, "JBSWY3DPEHPK3PXP", a));
    arena_free(a);
}

static void test_recovery(void **state)
{
    arena *a = arena_new();
    char *codes[2], *hashes[2];
    assert_false(totp_recovery_new(0, a, codes, hashes));
    assert_false(totp_recovery_new(TOTP_RECOVERY_MAX + 1, a, codes, hashes));
    assert_true(totp_recovery_new(2, a, codes, hashes));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(strlen(codes[i]), TOTP_RECOVERY_LEN);
        assert_int_equal(strspn(codes[i], "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"), TOTP_RECOVERY_LEN);
        assert_true(strncmp(hashes[i], "$argon2id$", 10) == 0);
        assert_null(strstr(hashes[i], codes[i])); /* stored form does not contain the code */
    }
    assert_string_not_equal(codes[0], codes[1]);
    const char *const *h = (const char *const *)hashes;

    assert_int_equal(totp_recovery_match(codes[0], strlen(codes[0]), h, 2), 0);
    /* Typed grouped and in lower case. */
    char typed[32];
    snprintf(typed, sizeof typed, "%.5s - %s", codes[1], codes[1] + 5);
    for (char *p = typed; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    assert_int_equal(totp_recovery_match(typed, strlen(typed), h, 2), 1);
    /* Only hashes it is given: a used (deleted) code no longer matches. */
    assert_int_equal(totp_recovery_match(codes[1], strlen(codes[1]), h, 1), -1);

    /* Malformed input is refused before any hashing. */
    assert_int_equal(totp_recovery_match("", 0, h, 2), -1);
    assert_int_equal(totp_recovery_match("ABCDEFGHJ", 9, h, 2), -1);    /* short */
    assert_int_equal(totp_recovery_match("ABCDEFGHJKL", 11, h, 2), -1); /* long */
    assert_int_equal(totp_recovery_match("ABCDEFGH0K", 10, h, 2), -1);  /* not in the alphabet */
    assert_int_equal(totp_recovery_match("ABCDE\0GHJK", 10, h, 2), -1);
    assert_int_equal(totp_recovery_match(NULL, 0, h, 2), -1);
    char junk[64];
    memset(junk, '-', sizeof junk);
    assert_int_equal(totp_recovery_match(junk, sizeof junk, h, 2), -1);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_code_format),
        cmocka_unit_test(test_bad_secret),
        cmocka_unit_test(test_secret_new),
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_recovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

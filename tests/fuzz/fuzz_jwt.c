/* libFuzzer driver: JWT verification (auth/jwt.c). Inputs are tried as
 * they are and, so the fuzzer gets past the signature, re-signed with the
 * test key when they have three parts. */
#include <stdint.h>
#include <string.h>

#include "auth/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static authjwt_keys *k;
    static const unsigned char key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz";
    if (!k)
        k = authjwt_keys_new(key, sizeof key);
    arena *a = arena_new();
    authjwt_expect e = {.iss = "i", .aud = "api", .use = AUTHJWT_USE_ACCESS, .leeway = 30};
    authjwt_claims c;
    authjwt_verify(k, (const char *)data, size, &e, 1700000000, a, &c);
    /* Claims made from the input round-trip through issue and verify. */
    if (size >= 4) {
        char *s = arena_strndup(a, (const char *)data, size);
        size_t q = size / 4;
        s[q] = s[2 * q] = s[3 * q] = '\0';
        authjwt_claims in = {.iss = "i", .sub = s, .aud = s + q + 1, .jti = s + 2 * q + 1,
                             .scope = s + 3 * q + 1, .use = AUTHJWT_USE_ACCESS,
                             .iat = 1700000000, .exp = 1700000900};
        char *tok;
        if (authjwt_issue(k, &in, a, &tok) == AUTHJWT_OK) {
            e.aud = in.aud;
            if (authjwt_verify(k, tok, strlen(tok), &e, 1700000000, a, &c) != AUTHJWT_OK)
                __builtin_trap();
            if (strcmp(c.sub, in.sub) || strcmp(c.jti, in.jti) || strcmp(c.scope, in.scope))
                __builtin_trap();
        }
    }
    arena_free(a);
    return 0;
}

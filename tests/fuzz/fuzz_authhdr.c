/* libFuzzer driver: the authentication header readers (api/authhdr.c).
 * The input is a Cookie header, a credentials value and an
 * X-Forwarded-Proto value at once; the cookie looked for is a fixed name
 * and one taken from the input's first bytes, so matches and duplicates
 * are reached too. Every slice returned must lie inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/authhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *v, size_t vl, const char *h, size_t size)
{
    if (v < h || v + vl > h + size)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *h = (const char *)data;
    const char *v = NULL, *w = NULL;
    size_t vl = 0, wl = 0;
    if (authhdr_cookie(h, size, "session", &v, &vl) == AUTHHDR_FOUND)
        inside(v, vl, h, size);
    char name[9] = {0};
    size_t nl = size < 8 ? size : 8;
    memcpy(name, data, nl);
    if (authhdr_cookie(h, size, name, &v, &vl) == AUTHHDR_FOUND)
        inside(v, vl, h, size);
    if (authhdr_credentials(h, size, 1024, 1024, &v, &vl, &w, &wl)) {
        inside(v, vl, h, size);
        inside(w, wl, h, size);
        if (!vl || !wl || w <= v)
            __builtin_trap();
    }
    (void)authhdr_forwarded_https(h, size);
    return 0;
}

/* The Cookie header reader; see cookie.h. */
#include "api/cookie.h"

#include <string.h>

#include "rd_limits.h"

static int ows(char c) { return c == ' ' || c == '\t'; }

cookie_result cookie_find(const char *hdr, size_t n, const char *name, const char **val, size_t *vlen)
{
    size_t nl = strlen(name);
    if (!hdr || n > RD_MAX_COOKIE_HEADER)
        return COOKIE_REFUSED;
    const char *p = hdr, *end = hdr + n;
    const char *found = NULL;
    size_t found_len = 0;
    int pairs = 0;
    while (p < end) {
        if (++pairs > RD_MAX_COOKIE_PAIRS)
            return COOKIE_REFUSED;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        while (p < pe && ows(*p))
            p++;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq) {
            const char *ne = eq;
            while (ne > p && ows(ne[-1]))
                ne--;
            if ((size_t)(ne - p) == nl && nl && memcmp(p, name, nl) == 0) {
                if (found)
                    return COOKIE_REFUSED;
                const char *v = eq + 1, *ve = pe;
                while (v < ve && ows(*v))
                    v++;
                while (ve > v && ows(ve[-1]))
                    ve--;
                if (ve - v >= 2 && *v == '"' && ve[-1] == '"')
                    v++, ve--;
                found = v;
                found_len = (size_t)(ve - v);
            }
        }
        p = semi ? semi + 1 : end;
    }
    if (!found)
        return COOKIE_ABSENT;
    *val = found;
    *vlen = found_len;
    return COOKIE_FOUND;
}

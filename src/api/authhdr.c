/* Readers of the authentication headers; see authhdr.h. */
#include "api/authhdr.h"

#include <string.h>
#include <strings.h>

#include "rd_limits.h"

static bool ows(char c) { return c == ' ' || c == '\t'; }

/* [*p, *e) without the optional white space around it. */
static void trim(const char **p, const char **e)
{
    while (*p < *e && ows(**p))
        (*p)++;
    while (*e > *p && ows((*e)[-1]))
        (*e)--;
}

authhdr_result authhdr_cookie(const char *hdr, size_t n, const char *name, const char **val, size_t *vlen)
{
    size_t nl = strlen(name);
    if (!hdr || n > RD_MAX_COOKIE_HEADER)
        return AUTHHDR_REFUSED;
    const char *p = hdr, *end = hdr + n;
    const char *found = NULL;
    size_t found_len = 0;
    int pairs = 0;
    while (p < end) {
        if (++pairs > RD_MAX_COOKIE_PAIRS)
            return AUTHHDR_REFUSED;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq) {
            const char *ns = p, *ne = eq;
            trim(&ns, &ne);
            if ((size_t)(ne - ns) == nl && nl && memcmp(ns, name, nl) == 0) {
                if (found)
                    return AUTHHDR_REFUSED;
                const char *v = eq + 1, *ve = pe;
                trim(&v, &ve);
                if (ve - v >= 2 && *v == '"' && ve[-1] == '"')
                    v++, ve--;
                found = v;
                found_len = (size_t)(ve - v);
            }
        }
        p = semi ? semi + 1 : end;
    }
    if (!found)
        return AUTHHDR_ABSENT;
    *val = found;
    *vlen = found_len;
    return AUTHHDR_FOUND;
}

bool authhdr_credentials(const char *arg, size_t n, size_t max_login, size_t max_password, const char **login,
                         size_t *login_len, const char **password, size_t *password_len)
{
    if (n < 2 || strncasecmp(arg, "u:", 2) != 0)
        return false;
    const char *u = arg + 2;
    size_t rest = n - 2;
    const char *sep = NULL;
    for (size_t i = 0; i + 5 <= rest && !sep; i++)
        if (u[i] == ' ' && strncasecmp(u + i + 1, "pwd:", 4) == 0)
            sep = u + i;
    if (!sep)
        return false;
    size_t ul = (size_t)(sep - u);
    size_t pl = rest - ul - 5;
    if (ul == 0 || ul > max_login || memchr(u, '\0', ul) || pl == 0 || pl > max_password)
        return false;
    *login = u;
    *login_len = ul;
    *password = sep + 5;
    *password_len = pl;
    return true;
}

bool authhdr_forwarded_https(const char *v, size_t n)
{
    const char *comma = memchr(v, ',', n);
    const char *p = v, *e = comma ? comma : v + n;
    trim(&p, &e);
    return e - p == 5 && strncasecmp(p, "https", 5) == 0;
}

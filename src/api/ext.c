/*
 * App route sets: the registry of compiled-in sets and the matcher that
 * dispatches a request to one of their handlers (ext.h).
 */
#include <string.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/crud_int.h"
#include "api/ext.h"

/* Every route set compiled into restd, by the name an app file gives. */
static const ext_set *const sets[] = {&ext_zou};

const ext_set *ext_set_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (strcmp(sets[i]->name, name) == 0)
            return sets[i];
    return NULL;
}

/* Split an absolute path (leading '/' skipped) as route__segments does. */
static size_t split(const char *p, size_t n, const char **seg, size_t *len, size_t cap)
{
    if (n && *p == '/')
        p++, n--;
    return route__segments(p, n, seg, len, cap);
}

static bool is_capture(const char *s, size_t n) { return n >= 2 && s[0] == '<' && s[n - 1] == '>'; }

/* Whether pattern pat matches the k path segments; its shape (bit set for
 * each static segment, the first segment highest) into *statics. Walks the
 * pattern once and stops at the first difference: every request of an app
 * with a route set passes here. */
static bool match(const char *pat, const char **seg, const size_t *len, size_t k, unsigned *statics)
{
    const char *p = pat + (*pat == '/');
    unsigned st = 0;
    for (size_t i = 0; i < k; i++) {
        const char *end = strchr(p, '/');
        size_t pl = end ? (size_t)(end - p) : strlen(p);
        if (pl == 0 && i < k)
            return false; /* the pattern is shorter */
        if (is_capture(p, pl)) {
            if (len[i] == 0)
                return false;
        } else if (pl != len[i] || memcmp(p, seg[i], pl) != 0) {
            return false;
        } else {
            st |= 1u << (EXT_MAX_SEGS - 1 - i);
        }
        p += pl + (end != NULL);
        if (!end && i + 1 < k)
            return false;
    }
    if (*p) /* the pattern is longer */
        return false;
    *statics = st;
    return true;
}

/* Whether the path is under base_path with a model's route next: the
 * generic router serves the methods the route set does not take there. */
static bool under_model(const rq *r, const char **seg, const size_t *len, size_t k)
{
    const char *bs[EXT_MAX_SEGS];
    size_t bl[EXT_MAX_SEGS];
    const char *bp = r->app->base_path;
    size_t bk = split(bp, strlen(bp), bs, bl, EXT_MAX_SEGS);
    if (bk >= k || bk > EXT_MAX_SEGS)
        return false;
    for (size_t i = 0; i < bk; i++)
        if (bl[i] != len[i] || memcmp(bs[i], seg[i], len[i]) != 0)
            return false;
    return app_model_by_route(r->app, seg[bk], len[bk]) != NULL;
}

static const char *const method_names[M_OTHER] = {
    [M_GET] = "GET", [M_HEAD] = "HEAD", [M_POST] = "POST", [M_PUT] = "PUT",
    [M_PATCH] = "PATCH", [M_DELETE] = "DELETE", [M_OPTIONS] = "OPTIONS",
};

bool ext_handle(rq *r)
{
    const ext_set *set = r->app->routes ? ext_set_by_name(r->app->routes) : NULL;
    if (!set)
        return false;
    size_t n = r->path_len;
    if (n > 1 && r->path[n - 1] == '/') /* strict_slashes off, as in Zou */
        n--;
    const char *seg[EXT_MAX_SEGS];
    size_t len[EXT_MAX_SEGS];
    size_t k = split(r->path, n, seg, len, EXT_MAX_SEGS);
    if (k > EXT_MAX_SEGS)
        return false;
    rq_method want = r->method == M_HEAD ? M_GET : r->method;
    /* The best-ranked pattern that matches the path, and the best one that
     * also takes the method: static segments earlier rank higher. */
    const ext_route *hit = NULL;
    unsigned best_path = 0, best_hit = 0;
    bool any = false;
    for (size_t t = 0; t < set->n_tables; t++) {
        for (size_t i = 0; i < set->tables[t]->n; i++) {
            const ext_route *rt = &set->tables[t]->routes[i];
            unsigned st;
            if (!match(rt->path, seg, len, k, &st))
                continue;
            if (!any || st > best_path)
                best_path = st;
            any = true;
            if (rt->method == want && (!hit || st > best_hit)) {
                hit = rt;
                best_hit = st;
            }
        }
    }
    if (!any)
        return false;
    if (!hit && under_model(r, seg, len, k))
        return false; /* e.g. GET data/tasks beside a POST data/tasks route: the generic one */
    if (!hit || best_hit < best_path) {
        /* The path belongs to a more specific pattern that does not take
         * this method: list that pattern's methods. */
        buf b;
        buf_init(&b, r->a, 256);
        for (size_t t = 0; t < set->n_tables; t++) {
            for (size_t i = 0; i < set->tables[t]->n; i++) {
                const ext_route *rt = &set->tables[t]->routes[i];
                unsigned st;
                if (match(rt->path, seg, len, k, &st) && st == best_path) {
                    buf_printf(&b, "%s%s", b.len ? ", " : "", method_names[rt->method]);
                    if (rt->method == M_GET)
                        buf_puts(&b, ", HEAD");
                }
            }
        }
        rq_header(r, "allow", buf_cstr(&b));
        problem_send(r, RD_METHOD, NULL, NULL);
        return true;
    }
    if (r->app->auth && !hit->open && !authn_require(r))
        return true;
    const char *caps[EXT_MAX_SEGS];
    size_t nc = 0;
    const char *ps[EXT_MAX_SEGS];
    size_t pl[EXT_MAX_SEGS];
    split(hit->path, strlen(hit->path), ps, pl, EXT_MAX_SEGS);
    for (size_t i = 0; i < k; i++)
        if (is_capture(ps[i], pl[i]))
            caps[nc++] = arena_strndup(r->a, seg[i], len[i]);
    hit->fn(r, caps);
    return true;
}

/*
 * Routing and version negotiation: api_handle matches a request to the
 * health check or a generic model handler (crud.c) after settling the API
 * version from Accept, X-Api-Version or ?api-version.
 */
#include <string.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/authz.h"
#include "api/crud_int.h"
#include "api/ext.h"
#include "api/query.h"
#include "api/signin.h"
#include "json/jw.h"

/* A path id that is not a UUID names no row: 404 with detail, or under
 * errors: zou, Zou's 400 "Malformed ID.". */
static void bad_id(rq *r, const char *detail)
{
    if (r->app->errors == ES_ZOU)
        problem_send(r, RD_BAD_REQUEST, "Malformed ID.", NULL);
    else
        problem_send(r, RD_NOT_FOUND, detail, NULL);
}

/* Whether the method is GET or HEAD; otherwise answers 405 for a path
 * that takes only those. */
static bool read_method(rq *r)
{
    if (r->method == M_GET || r->method == M_HEAD)
        return true;
    rq_header(r, "allow", "GET, HEAD");
    problem_send(r, RD_METHOD, NULL, NULL);
    return false;
}

/* ---- health ---------------------------------------------------------- */

static void h_health(rq *r)
{
    if (!read_method(r))
        return;
    bool ok = store_health(r->store) == RD_OK;
    buf *b = crud__new_body(r);
    jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_keyz(&w, "status");
    jw_strz(&w, ok ? "ok" : "unavailable");
    jw_keyz(&w, "service");
    jw_strz(&w, r->app->name);
    jw_keyz(&w, "version");
    jw_strz(&w, r->app->version ? r->app->version : "");
    jw_keyz(&w, "server");
    jw_strz(&w, "restd " RESTD_VERSION);
    jw_keyz(&w, "database");
    jw_strz(&w, ok ? "ok" : "unavailable");
    jw_obj_end(&w);
    rq_header(r, "cache-control", "no-store");
    crud__send_json(r, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", b);
}

/* ---- versions -------------------------------------------------------- */

static bool version_known(const app *ap, long long v)
{
    if (ap->n_versions == 0)
        return v == 1; /* an app that declares no versions is version 1 */
    for (size_t i = 0; i < ap->n_versions; i++)
        if (ap->versions[i] == v)
            return true;
    return false;
}

/* One media range of Accept: whether we can answer it, and the version it
 * names (0: none; -1: a malformed or impossible one). A range is ours when
 * it is * / *, application/ *, application/json, application/problem+json
 * or application/vnd.<vendor>.api+json, the last optionally followed by
 * "+api-version=N" or a "; api-version=N" parameter; "q=0" refuses it. */
static bool accept_range(const app *ap, const char *s, size_t n, long long *version)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    size_t tl = 0; /* the media type, up to parameters */
    while (tl < n && s[tl] != ';' && s[tl] != ' ')
        tl++;
    /* parameters: q and api-version */
    for (size_t i = tl; i < n;) {
        while (i < n && (s[i] == ';' || s[i] == ' '))
            i++;
        size_t j = i;
        while (j < n && s[j] != ';')
            j++;
        size_t pl = j - i;
        while (pl && s[i + pl - 1] == ' ')
            pl--;
        if (pl >= 2 && (s[i] == 'q' || s[i] == 'Q') && s[i + 1] == '=') {
            bool zero = true; /* q=0, q=0.0, q=0.000 */
            for (size_t k = i + 2; k < i + pl; k++)
                zero = zero && (s[k] == '0' || s[k] == '.');
            if (zero)
                return false;
        } else if (pl > 12 && strncasecmp(s + i, "api-version=", 12) == 0) {
            if (!query_int(s + i + 12, pl - 12, 1, 1 << 20, version))
                *version = -1;
        }
        i = j;
    }
    static const char *const ok[] = {"*/*", "application/*", "application/json", "application/problem+json"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (tl == strlen(ok[i]) && strncasecmp(s, ok[i], tl) == 0)
            return true;
    char vnd[RD_MAX_NAME + 32];
    int vl = snprintf(vnd, sizeof vnd, "application/vnd.%s.api+json", ap->vendor ? ap->vendor : ap->name);
    if (vl <= 0 || tl < (size_t)vl || strncasecmp(s, vnd, (size_t)vl) != 0)
        return false;
    if (tl == (size_t)vl)
        return true;
    static const char tag[] = "+api-version=";
    size_t rest = tl - (size_t)vl;
    if (rest < sizeof tag - 1 || strncasecmp(s + vl, tag, sizeof tag - 1) != 0)
        return false;
    if (!query_int(s + vl + sizeof tag - 1, rest - (sizeof tag - 1), 1, 1 << 20, version))
        *version = -1;
    return true;
}

/* Set r->version from Accept, X-Api-Version or ?api-version (they must
 * agree); the latest when none is given. */
static rd_err negotiate(rq *r, const char **detail)
{
    const app *ap = r->app;
    long long want = 0;
    const char *where = NULL;
    if (r->accept) {
        bool acceptable = false;
        const char *p = r->accept, *end = r->accept + r->accept_len;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
            long long v = 0;
            if (accept_range(ap, p, n, &v)) {
                acceptable = true;
                if (v) {
                    want = v;
                    where = "the Accept header";
                }
            }
            p += n + 1;
        }
        if (!acceptable) {
            *detail = arena_printf(r->a, "this API answers application/json or application/vnd.%s.api+json",
                                   ap->vendor ? ap->vendor : ap->name);
            return RD_NOT_ACCEPTABLE;
        }
    }
    long long v;
    if (r->api_version_hdr) {
        if (!query_int(r->api_version_hdr, r->api_version_hdr_len, 1, 1 << 20, &v) || (want && v != want)) {
            *detail = "header X-Api-Version must be a version number that agrees with the other version selectors";
            return RD_BAD_REQUEST;
        }
        want = v;
        where = "header X-Api-Version";
    }
    if (r->query) {
        qparam params[RD_MAX_QUERY_PARAMS];
        const char *bad = NULL;
        int np = query_parse(r->query, r->query_len, r->a, params, RD_MAX_QUERY_PARAMS, &bad);
        for (int i = 0; i < np; i++) {
            if (strcmp(params[i].name, "api-version") != 0)
                continue;
            if (!query_int(params[i].value, params[i].value_len, 1, 1 << 20, &v) || (want && v != want)) {
                *detail = "query parameter 'api-version' must be a version number that agrees with the other "
                          "version selectors";
                return RD_BAD_REQUEST;
            }
            want = v;
            where = "query parameter 'api-version'";
        }
    }
    if (want < 0 || (want && !version_known(ap, want))) {
        buf b;
        buf_init(&b, r->a, 4096);
        for (size_t i = 0; i < ap->n_versions; i++)
            buf_printf(&b, "%s%d", i ? ", " : "", ap->versions[i]);
        if (!ap->n_versions)
            buf_puts(&b, "1");
        *detail = arena_printf(r->a, "%s asks for an API version this server does not have (it has: %s)",
                               where ? where : "the request", buf_cstr(&b));
        return RD_BAD_REQUEST;
    }
    r->version = want ? (int)want : ap->n_versions ? ap->versions[ap->n_versions - 1] : 1;
    return RD_OK;
}

static bool model_visible(const app_model *m, int v)
{
    return (m->since == 0 || v >= m->since) && (m->until == 0 || v < m->until);
}

static const app_model *find_model(const app *ap, const char *seg, size_t n, int v)
{
    const app_model *m = app_model_by_route(ap, seg, n);
    return m && model_visible(m, v) ? m : NULL;
}

/* ---- routing --------------------------------------------------------- */

typedef enum target { T_COLLECTION, T_ITEM, T_FILTERS, T_FILTER, T_NESTED, T__COUNT } target;

/* The route table: what each method does on each kind of path. */
typedef void (*handler_fn)(rq *r, const app_model *m, const char *id);
static const handler_fn routes[T__COUNT][M_OTHER] = {
    [T_COLLECTION] = {[M_GET] = crud__list, [M_HEAD] = crud__list, [M_POST] = crud__create},
    [T_ITEM] = {[M_GET] = crud__get, [M_HEAD] = crud__get, [M_PUT] = crud__replace, [M_PATCH] = crud__patch,
                [M_DELETE] = crud__delete},
    [T_FILTERS] = {[M_POST] = crud__filter_save},
    [T_FILTER] = {[M_GET] = crud__filter_get, [M_HEAD] = crud__filter_get},
};
typedef void (*nested_fn)(rq *r, const app_model *m, const app_field *via, const char *pid);
static const nested_fn nested_routes[M_OTHER] = {
    [M_GET] = crud__nested_list, [M_HEAD] = crud__nested_list, [M_POST] = crud__nested_create};
static const char *const allow[T__COUNT] = {
    [T_COLLECTION] = "GET, HEAD, POST",
    [T_ITEM] = "GET, HEAD, PUT, PATCH, DELETE",
    [T_FILTERS] = "POST",
    [T_FILTER] = "GET, HEAD",
    [T_NESTED] = "GET, HEAD, POST",
};

/* One path split for the generic router and app routes (crud_int.h). */
size_t route__segments(const char *p, size_t n, const char **seg, size_t *len, size_t cap)
{
    size_t k = 0;
    while (n) {
        if (k == cap)
            return cap + 1; /* too many */
        const char *slash = memchr(p, '/', n);
        size_t l = slash ? (size_t)(slash - p) : n;
        seg[k] = p;
        len[k++] = l;
        if (!slash)
            break;
        p = slash + 1;
        n -= l + 1;
    }
    return k;
}

static void method_not_allowed(rq *r, target t)
{
    rq_header(r, "allow", allow[t]);
    problem_send(r, RD_METHOD, NULL, NULL);
}

void api_handle(rq *r)
{
    const app *ap = r->app;
    const char *p = r->path;
    size_t n = r->path_len;
    size_t hl = strlen(ap->health_path);
    if (n == hl && memcmp(p, ap->health_path, hl) == 0) {
        h_health(r);
        return;
    }
    const char *detail = NULL;
    rd_err e = negotiate(r, &detail);
    if (e != RD_OK) {
        problem_send(r, e, detail, NULL);
        return;
    }
    if (signin_route(r))
        return;
    if (ap->routes && ext_handle(r))
        return;
    size_t bl = strlen(ap->base_path);
    if (n <= bl + 1 || memcmp(p, ap->base_path, bl) != 0 || p[bl] != '/') {
        problem_send(r, RD_NO_ROUTE, "no such route", NULL);
        return;
    }
    p += bl + 1;
    n -= bl + 1;
    if (n && p[n - 1] == '/') /* one trailing slash is tolerated */
        n--;
    const char *seg[3];
    size_t len[3];
    size_t k = route__segments(p, n, seg, len, 3);
    const app_model *m = k >= 1 && k <= 3 ? find_model(ap, seg[0], len[0], r->version) : NULL;
    if (!m) {
        problem_send(r, RD_NO_ROUTE, "no such route", NULL);
        return;
    }
    /* Who is calling comes before anything about the route is revealed. */
    if (ap->auth && !authn_require(r))
        return;
    bool is_filter = k >= 2 && len[1] == 6 && memcmp(seg[1], "filter", 6) == 0;
    if (k == 3 && !is_filter && m->history && len[2] == 7 && memcmp(seg[2], "history", 7) == 0) {
        if (!read_method(r))
            return;
        if (ap->auth && !authn_allowed(r, m, false))
            return;
        const char *hid = crud__canonical_id(r, seg[1], len[1]);
        /* a scoped caller sees the history of rows it reaches now; the
         * history of a deleted row is left to callers without a scope */
        const store_scope *scope = hid ? authz_scope_user(r, m) : NULL;
        if (!hid || (scope && store_exists_as(r->conn, m, hid, scope, r->a) != RD_OK)) {
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "no %s with that id", m->name), NULL);
            return;
        }
        crud__history(r, m, hid);
        return;
    }
    if (k == 3 && !is_filter) {
        /* {parent route}/{pid}/{child route} */
        const app_model *child = find_model(ap, seg[2], len[2], r->version);
        const app_field *via = NULL;
        for (size_t i = 0; child && i < child->n_nested && !via; i++)
            if (child->nested_under[i] == m)
                via = child->nested_via[i];
        if (!via) {
            problem_send(r, RD_NO_ROUTE, "no such route", NULL);
            return;
        }
        nested_fn fn = r->method < M_OTHER ? nested_routes[r->method] : NULL;
        if (!fn) {
            method_not_allowed(r, T_NESTED);
            return;
        }
        if (ap->auth && !authz_allowed(r, child, r->method == M_POST))
            return;
        const char *pid = crud__canonical_id(r, seg[1], len[1]);
        if (!pid) {
            bad_id(r, arena_printf(r->a, "no %s with that id", m->name));
            return;
        }
        if (store_exists_as(r->conn, m, pid, authz_scope_user(r, m), r->a) != RD_OK) {
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "no %s with that id", m->name), NULL);
            return;
        }
        fn(r, child, via, pid);
        return;
    }
    target t = k == 1 ? T_COLLECTION : is_filter ? (k == 2 ? T_FILTERS : T_FILTER) : T_ITEM;
    const char *id = NULL;
    if (t == T_ITEM || t == T_FILTER)
        id = crud__canonical_id(r, seg[k - 1], len[k - 1]);
    handler_fn fn = r->method < M_OTHER ? routes[t][r->method] : NULL;
    if (!fn) {
        method_not_allowed(r, t);
        return;
    }
    bool write = (t == T_COLLECTION && r->method == M_POST) ||
                 (t == T_ITEM && r->method != M_GET && r->method != M_HEAD);
    if (ap->auth && !authz_allowed(r, m, write))
        return;
    if ((t == T_ITEM || t == T_FILTER) && !id) {
        bad_id(r, t == T_FILTER ? "no such stored filter" : arena_printf(r->a, "no %s with that id", m->name));
        return;
    }
    fn(r, m, id);
}

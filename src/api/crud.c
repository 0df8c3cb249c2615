/*
 * Routing and the generic model handlers: list, get, create, replace,
 * patch, delete, and the health check. Every handler checks its input
 * completely before anything reaches the store; writes go to the writer
 * thread and answer from the callback.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/query.h"
#include "app/types.h"
#include "json/jin.h"
#include "json/jw.h"

typedef enum target { T_COLLECTION, T_ITEM, T__COUNT } target;
typedef void (*handler_fn)(rq *r, const app_model *m, const char *id);

static void h_list(rq *r, const app_model *m, const char *id);
static void h_get(rq *r, const app_model *m, const char *id);
static void h_create(rq *r, const app_model *m, const char *id);
static void h_replace(rq *r, const app_model *m, const char *id);
static void h_patch(rq *r, const app_model *m, const char *id);
static void h_delete(rq *r, const app_model *m, const char *id);

/* The route table: which method does what on a collection and an item. */
static const handler_fn routes[T__COUNT][M_OTHER] = {
    [T_COLLECTION] = {[M_GET] = h_list, [M_HEAD] = h_list, [M_POST] = h_create},
    [T_ITEM] = {[M_GET] = h_get, [M_HEAD] = h_get, [M_PUT] = h_replace, [M_PATCH] = h_patch,
                [M_DELETE] = h_delete},
};
static const char *const allow[T__COUNT] = {
    [T_COLLECTION] = "GET, HEAD, POST",
    [T_ITEM] = "GET, HEAD, PUT, PATCH, DELETE",
};

static buf *new_body(rq *r)
{
    buf *b = arena_alloc(r->a, sizeof *b);
    buf_init(b, r->a, RD_MAX_RESPONSE);
    return b;
}

static void send_json(rq *r, int status, const char *reason, const buf *b)
{
    rq_respond(r, status, reason, "application/json", b);
}

/* A path id must be a UUID; anything else cannot name a row (404). The
 * canonical form is lowercase. */
static const char *canonical_id(rq *r, const char *s, size_t n)
{
    if (n != 36)
        return NULL;
    char *out = arena_alloc(r->a, 37);
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')))
            return NULL;
        out[i] = dash ? '-' : (c >= 'A' && c <= 'F' ? (char)(c | 0x20) : c);
    }
    out[36] = '\0';
    return out;
}

/* ---- health ---------------------------------------------------------- */

static void h_health(rq *r)
{
    if (r->method != M_GET && r->method != M_HEAD) {
        rq_header(r, "allow", "GET, HEAD");
        problem_send(r, RD_METHOD, NULL, NULL);
        return;
    }
    bool ok = store_health(r->store) == RD_OK;
    buf *b = new_body(r);
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
    send_json(r, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", b);
}

/* ---- reads ----------------------------------------------------------- */

static void h_get(rq *r, const app_model *m, const char *id)
{
    buf *b = new_body(r);
    jw w;
    jw_init(&w, b);
    rd_err e = store_get(r->conn, m, id, &w);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "no %s with id %s", m->name, id) : NULL, NULL);
        return;
    }
    send_json(r, 200, "OK", b);
}

/* A query-string value as the JSON value the type's check expects. NULL
 * when the text cannot be that type at all. */
static json_t *qs_json(const app_field *f, const char *s, size_t n)
{
    switch (f->type) {
    case FT_INTEGER: {
        long long v;
        return query_int(s, n, -9223372036854775807LL, 9223372036854775807LL, &v) ? json_integer(v) : NULL;
    }
    case FT_NUMBER: {
        char *end;
        double d = strtod(s, &end);
        return n && end == s + n && isfinite(d) ? json_real(d) : NULL;
    }
    case FT_BOOLEAN:
        if (n == 4 && memcmp(s, "true", 4) == 0)
            return json_true();
        if (n == 5 && memcmp(s, "false", 5) == 0)
            return json_false();
        return NULL;
    case FT_JSON:
    case FT_REF_LIST:
        return NULL;
    default:
        return json_stringn(s, n);
    }
}

static void h_list(rq *r, const app_model *m, const char *unused)
{
    qparam params[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int np = r->query ? query_parse(r->query, r->query_len, r->a, params, RD_MAX_QUERY_PARAMS, &bad) : 0;
    if (np < 0) {
        problem_send(r, RD_BAD_REQUEST, bad, NULL);
        return;
    }
    store_filter *filters = arena_alloc(r->a, sizeof *filters * ((size_t)np + 1));
    store_query q = {.filters = filters, .limit = RD_DEFAULT_PAGE, .offset = 0};
    bool seen_limit = false, seen_offset = false;
    for (int i = 0; i < np; i++) {
        const qparam *p = &params[i];
        if (strcmp(p->name, "limit") == 0 || strcmp(p->name, "offset") == 0) {
            bool is_limit = p->name[0] == 'l';
            bool *seen = is_limit ? &seen_limit : &seen_offset;
            long long v;
            bool ok = !*seen && query_int(p->value, p->value_len, is_limit ? 1 : 0,
                                          is_limit ? RD_MAX_PAGE : (1LL << 40), &v);
            if (!ok) {
                problem_send(r, RD_BAD_REQUEST,
                             is_limit ? arena_printf(r->a, "query parameter 'limit' must be given once, as an integer from 1 to %d", RD_MAX_PAGE)
                                      : "query parameter 'offset' must be given once, as an integer of 0 or more",
                             NULL);
                return;
            }
            *seen = true;
            *(is_limit ? &q.limit : &q.offset) = v;
            continue;
        }
        const app_field *f = app_field_by_json(m, p->name, strlen(p->name));
        if (!f) {
            problem_send(r, RD_BAD_REQUEST,
                         arena_printf(r->a, "unknown query parameter '%s': %s has no such field", p->name, m->name),
                         NULL);
            return;
        }
        json_t *v = qs_json(f, p->value, p->value_len);
        sqlval sv;
        const char *why = v ? type_desc_of(f->type)->check(f, v, r->app->dates, r->a, &sv)
                            : (f->type == FT_JSON || f->type == FT_REF_LIST ? "cannot be filtered on"
                                                                              : "has a value of the wrong type");
        json_decref(v);
        if (why) {
            problem_send(r, RD_BAD_REQUEST, arena_printf(r->a, "query parameter '%s' %s", p->name, why), NULL);
            return;
        }
        filters[q.n_filters].field = f;
        filters[q.n_filters].val = sv;
        q.n_filters++;
    }
    buf *b = new_body(r);
    jw w;
    jw_init(&w, b);
    rd_err e = store_list(r->conn, m, &q, r->a, &w);
    if (e != RD_OK || !jw_ok(&w)) {
        problem_send(r, e != RD_OK ? e : RD_INTERNAL, NULL, NULL);
        return;
    }
    send_json(r, 200, "OK", b);
}

/* ---- writes ---------------------------------------------------------- */

/* application/json, or any application/...+json, with optional parameters. */
static bool json_media_type(const char *ct, size_t n)
{
    if (!ct)
        return false;
    size_t end = 0;
    while (end < n && ct[end] != ';' && ct[end] != ' ' && ct[end] != '\t')
        end++;
    if (end == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return end > 17 && strncasecmp(ct, "application/", 12) == 0 && strncasecmp(ct + end - 5, "+json", 5) == 0;
}

static void written(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        const char *detail = w->detail;
        if (w->err == RD_NOT_FOUND)
            detail = arena_printf(r->a, "no %s with id %s", w->model->name, w->id);
        problem_send(r, w->err, detail, NULL);
        return;
    }
    switch (w->op) {
    case STORE_CREATE:
        rq_header(r, "location",
                  arena_printf(r->a, "%s/%s/%s", r->app->base_path, w->model->route, w->new_id));
        send_json(r, 201, "Created", &w->body);
        break;
    case STORE_DELETE:
        rq_respond(r, 204, "No Content", NULL, NULL);
        break;
    default:
        send_json(r, 200, "OK", &w->body);
        break;
    }
}

static void submit(rq *r, store_write *w)
{
    w->a = r->a;
    rd_err e = rq_write(r, w, written);
    if (e != RD_OK)
        problem_send(r, e, "the server is busy; retry shortly", NULL);
}

static void h_write(rq *r, const app_model *m, const char *id, store_op op, val_mode mode)
{
    if (!json_media_type(r->content_type, r->content_type_len)) {
        problem_send(r, RD_MEDIA_TYPE, "the request body must be JSON (Content-Type: application/json)", NULL);
        return;
    }
    const char *msg = NULL;
    json_t *body = jin_parse(r->body ? r->body : "", r->body_len, r->a, &msg);
    if (!body) {
        problem_send(r, RD_BAD_JSON, msg, NULL);
        return;
    }
    store_write *w = arena_zalloc(r->a, sizeof *w);
    verrs errs = {0};
    rd_err e = val_body(r->app, m, body, mode, r->a, &w->vals, &errs);
    json_decref(body);
    if (e != RD_OK) {
        problem_send(r, e, NULL, &errs);
        return;
    }
    w->op = op;
    w->model = m;
    w->id = id;
    submit(r, w);
}

static void h_create(rq *r, const app_model *m, const char *id)
{
    h_write(r, m, id, STORE_CREATE, VAL_CREATE);
}

static void h_replace(rq *r, const app_model *m, const char *id)
{
    h_write(r, m, id, STORE_REPLACE, VAL_REPLACE);
}

static void h_patch(rq *r, const app_model *m, const char *id)
{
    h_write(r, m, id, STORE_PATCH, VAL_PATCH);
}

static void h_delete(rq *r, const app_model *m, const char *id)
{
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_DELETE;
    w->model = m;
    w->id = id;
    submit(r, w);
}

/* ---- routing --------------------------------------------------------- */

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
    size_t bl = strlen(ap->base_path);
    if (n <= bl + 1 || memcmp(p, ap->base_path, bl) != 0 || p[bl] != '/') {
        problem_send(r, RD_NO_ROUTE, "no such route", NULL);
        return;
    }
    p += bl + 1;
    n -= bl + 1;
    if (n && p[n - 1] == '/') /* one trailing slash is tolerated */
        n--;
    const char *slash = memchr(p, '/', n);
    size_t seg = slash ? (size_t)(slash - p) : n;
    const app_model *m = app_model_by_route(ap, p, seg);
    if (!m) {
        problem_send(r, RD_NO_ROUTE, "no such route", NULL);
        return;
    }
    target t = T_COLLECTION;
    const char *id = NULL;
    if (slash) {
        const char *rest = slash + 1;
        size_t rn = n - seg - 1;
        if (memchr(rest, '/', rn)) {
            problem_send(r, RD_NO_ROUTE, "no such route", NULL);
            return;
        }
        t = T_ITEM;
        id = canonical_id(r, rest, rn);
    }
    handler_fn fn = r->method < M_OTHER ? routes[t][r->method] : NULL;
    if (!fn) {
        rq_header(r, "allow", allow[t]);
        problem_send(r, RD_METHOD, NULL, NULL);
        return;
    }
    if (t == T_ITEM && !id) {
        problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "no %s with that id", m->name), NULL);
        return;
    }
    fn(r, m, id);
}

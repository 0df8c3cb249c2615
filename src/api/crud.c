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
#include "api/authn.h"
#include "api/authz.h"
#include "api/ext.h"
#include "api/listq.h"
#include "api/query.h"
#include "app/types.h"
#include "json/jin.h"
#include "json/jw.h"
#include "util/dt.h"

static void h_list(rq *r, const app_model *m, const char *id);
static void h_get(rq *r, const app_model *m, const char *id);
static void h_create(rq *r, const app_model *m, const char *id);
static void h_replace(rq *r, const app_model *m, const char *id);
static void h_patch(rq *r, const app_model *m, const char *id);
static void h_delete(rq *r, const app_model *m, const char *id);

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
    char *out = arena_alloc(r->a, TYPE_UUID_LEN + 1);
    return type_uuid_parse(s, n, out) ? out : NULL;
}

/* A path id that is not a UUID names no row: 404 with detail, or under
 * errors: zou, Zou's 400 "Malformed ID.". */
static void bad_id(rq *r, const char *detail)
{
    if (r->app->errors == ES_ZOU)
        problem_send(r, RD_BAD_REQUEST, "Malformed ID.", NULL);
    else
        problem_send(r, RD_NOT_FOUND, detail, NULL);
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
    rd_err e = store_get_as(r->conn, m, id, authz_scope_user(r, m),
                            authz_omit(r, m, listq_version_omit(m, r->version, r->a)), NULL, &w);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "no %s with id %s", m->name, id) : NULL, NULL);
        return;
    }
    send_json(r, 200, "OK", b);
}

/* Parameters the list parser leaves to others. */
static const char *const not_list_params[] = {"api-version", NULL};

static void set_header_ll(rq *r, const char *name, long long v)
{
    rq_header(r, name, arena_printf(r->a, "%lld", v));
}

/* base64url of the decimal rowid: opaque to clients, checked on return. */
static const char *cursor_text(arena *a, long long rowid)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char dec[24];
    int n = snprintf(dec, sizeof dec, "%lld", rowid);
    char *out = arena_alloc(a, 40);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (int i = 0; i < n; i++) {
        acc = (acc << 8) | (unsigned char)dec[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = b64[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    return out;
}

static void pagination_obj(jw *w, const listq *lq, const store_page *pg, const char *next)
{
    jw_obj_begin(w);
    jw_keyz(w, "limit");
    jw_int(w, lq->q.limit);
    jw_keyz(w, "offset");
    jw_int(w, lq->q.offset);
    jw_keyz(w, "returned");
    jw_int(w, pg->returned);
    jw_keyz(w, "total");
    if (lq->q.count)
        jw_int(w, pg->total);
    else
        jw_null(w);
    if (lq->q.keyset) {
        jw_keyz(w, "next_cursor");
        if (next)
            jw_strz(w, next);
        else
            jw_null(w);
    }
    jw_obj_end(w);
}

/* Run a parsed list query and answer it in the app's paging shape. */
static void send_list(rq *r, const app_model *m, listq *lq)
{
    buf *rows = new_body(r);
    jw w;
    jw_init(&w, rows);
    store_page pg;
    lq->q.scope_user = authz_scope_user(r, m); /* lists, nested lists, stored filters */
    lq->q.omit = authz_omit(r, m, lq->q.omit);
    rd_err e = store_list(r->conn, m, &lq->q, r->a, &w, &pg);
    if (e != RD_OK || !jw_ok(&w)) {
        problem_send(r, e != RD_OK ? e : RD_INTERNAL, NULL, NULL);
        return;
    }
    const char *next = lq->q.keyset && pg.more ? cursor_text(r->a, pg.next_after) : NULL;
    if (!lq->page && !lq->envelope) {
        set_header_ll(r, "x-pagination-limit", lq->q.limit);
        set_header_ll(r, "x-pagination-offset", lq->q.offset);
        set_header_ll(r, "x-pagination-returned", pg.returned);
        if (lq->q.count)
            set_header_ll(r, "x-pagination-total", pg.total);
        if (next)
            rq_header(r, "x-pagination-next-cursor", next);
        send_json(r, 200, "OK", rows);
        return;
    }
    buf *b = new_body(r);
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_keyz(&w, "data");
    jw_raw(&w, rows->data, rows->len);
    if (lq->page) { /* Kitsu's page shape */
        jw_keyz(&w, "total");
        jw_int(&w, pg.total);
        jw_keyz(&w, "nb_pages");
        jw_int(&w, (pg.total + lq->q.limit - 1) / lq->q.limit);
        jw_keyz(&w, "limit");
        jw_int(&w, lq->q.limit);
        jw_keyz(&w, "offset");
        jw_int(&w, lq->q.offset);
        jw_keyz(&w, "page");
        jw_int(&w, lq->page);
    } else {
        jw_keyz(&w, "pagination");
        pagination_obj(&w, lq, &pg, next);
    }
    jw_obj_end(&w);
    send_json(r, 200, "OK", b);
}

/* Parse the query string on top of lq (which may hold terms already; the
 * caller's role must be served the fields of those from index `from` on). */
static bool parse_list(rq *r, const app_model *m, listq *lq, size_t from)
{
    qparam params[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int np = r->query ? query_parse(r->query, r->query_len, r->a, params, RD_MAX_QUERY_PARAMS, &bad) : 0;
    if (np < 0 ||
        listq_parse(r->app, m, r->version, params, (size_t)np, not_list_params, r->a, lq, &bad) != RD_OK) {
        problem_send(r, RD_BAD_REQUEST, bad, NULL);
        return false;
    }
    bool is_sort;
    const app_field *hidden = authz_hidden_term(r, m, &lq->q, from, &is_sort);
    if (hidden) { /* worded as for a field the model does not have */
        const char *name = hidden->json_name ? hidden->json_name : hidden->name;
        problem_send(r, RD_BAD_REQUEST,
                     is_sort ? arena_printf(r->a,
                                            "query parameter 'order_by' names '%s', which is not a sortable "
                                            "field of %s",
                                            name, m->name)
                             : arena_printf(r->a, "unknown query parameter '%s': %s has no such field", name,
                                            m->name),
                     NULL);
        return false;
    }
    return true;
}

static void h_list(rq *r, const app_model *m, const char *unused)
{
    listq lq = {0};
    if (parse_list(r, m, &lq, 0))
        send_list(r, m, &lq);
}

/* GET {route}/filter/{id}: a stored filter's list. */
static void h_filter_get(rq *r, const app_model *m, const char *id)
{
    const char *json = NULL;
    rd_err e = store_filter_get(r->conn, m, id, r->user_id, r->a, &json);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? "no such stored filter (it may have expired)" : NULL, NULL);
        return;
    }
    const char *msg = NULL;
    json_t *obj = jin_parse(json, strlen(json), r->a, &msg);
    listq lq = {0};
    verrs errs = {0};
    e = obj ? listq_from_json(r->app, m, r->version, obj, r->a, &lq, &errs) : RD_INTERNAL;
    json_decref(obj);
    if (e != RD_OK) {
        /* the model changed under a stored filter */
        problem_send(r, RD_CONFLICT, "this stored filter no longer fits the model; create it again", NULL);
        return;
    }
    if (parse_list(r, m, &lq, 0))
        send_list(r, m, &lq);
}

/* ---- writes ---------------------------------------------------------- */

/* application/json, or any application/...+json, with optional parameters. */
bool api_json_media_type(const char *ct, size_t n)
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
        if (w->err == RD_DENIED && r->app->auth && r->app->auth->denied_status == 401)
            w->err = RD_DENIED_401; /* a scope refusal, in the app's denied status */
        problem_send(r, w->err, problem_write_detail(r->app, w->err, w->conflict, detail, r->a), NULL);
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
    case STORE_FILTER_SAVE: {
        rq_header(r, "location",
                  arena_printf(r->a, "%s/%s/filter/%s", r->app->base_path, w->model->route, w->new_id));
        buf *b = new_body(r);
        jw jwr;
        jw_init(&jwr, b);
        jw_obj_begin(&jwr);
        jw_keyz(&jwr, "id");
        jw_strz(&jwr, w->new_id);
        jw_obj_end(&jwr);
        send_json(r, 201, "Created", b);
        break;
    }
    default:
        send_json(r, 200, "OK", &w->body);
        break;
    }
}

static void submit(rq *r, store_write *w)
{
    w->a = r->a;
    w->actor = r->user_id;
    w->omit = authz_omit(r, w->model, listq_version_omit(w->model, r->version, r->a));
    if (w->op != STORE_FILTER_SAVE)
        w->scope_user = authz_scope_user(r, w->model);
    rd_err e = rq_write(r, w, written);
    if (e != RD_OK)
        problem_send(r, e, "the server is busy; retry shortly", NULL);
}

/* Body keys naming fields that do not exist in the requested version. */
static void hidden_fields(rq *r, const app_model *m, const json_t *body, verrs *errs)
{
    if (!json_is_object(body))
        return;
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        if (!listq_visible(f, r->version) && json_object_get(body, f->json_name))
            verrs_add(errs, r->a, f->json_name,
                      arena_printf(r->a, "The field '%s' is not part of %s in API version %d.", f->json_name,
                                   m->name, r->version));
    }
}

/* The body as JSON, or NULL after answering 415/400. */
static json_t *read_body(rq *r)
{
    if (r->body_len == 0 && r->app->errors == ES_ZOU) {
        /* Zou: a write without a body is a 400 whatever its Content-Type */
        problem_send(r, RD_BAD_JSON, "The request body is missing.", NULL);
        return NULL;
    }
    if (!api_json_media_type(r->content_type, r->content_type_len)) {
        problem_send(r, RD_MEDIA_TYPE, "the request body must be JSON (Content-Type: application/json)", NULL);
        return NULL;
    }
    const char *msg = NULL;
    json_t *body = jin_parse(r->body ? r->body : "", r->body_len, r->a, &msg);
    if (!body)
        problem_send(r, RD_BAD_JSON, msg, NULL);
    return body;
}

/* via/parent: for a create under a parent, the reference field and the
 * parent's id from the path. */
static void h_write_in(rq *r, const app_model *m, const char *id, store_op op, val_mode mode,
                       const app_field *via, const char *parent)
{
    json_t *body = read_body(r);
    if (!body)
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    verrs errs = {0};
    if (via && json_is_object(body)) {
        json_t *given = json_object_get(body, via->json_name);
        if (given && !(json_is_string(given) && strcasecmp(json_string_value(given), parent) == 0))
            verrs_add(&errs, r->a, via->error_name,
                      arena_printf(r->a, "The %s field must match the %s in the path.", via->error_name,
                                   via->ref->name));
        json_object_set_new(body, via->json_name, json_string(parent));
    }
    /* Zou refuses a create with a key that is not a column, naming it as
     * SQLAlchemy does, before looking at any value. */
    const char *unknown = r->app->errors == ES_ZOU && mode == VAL_CREATE ? val_unknown_key(r->app, m, body, r->a)
                                                                          : NULL;
    if (unknown) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST,
                     arena_printf(r->a, "'%s' is an invalid keyword argument for %s", unknown, m->name), NULL);
        return;
    }
    if (mode == VAL_MERGE && json_is_object(body)) {
        /* merge ignores keys that are not fields, in this version too */
        for (size_t i = 0; i < m->n_fields; i++)
            if (!listq_visible(&m->fields[i], r->version))
                json_object_del(body, m->fields[i].json_name);
    }
    rd_err e = val_body(r->app, m, body, mode, r->a, &w->vals, &errs);
    hidden_fields(r, m, body, &errs);
    json_decref(body);
    if (e != RD_OK || errs.n) {
        problem_send(r, RD_VALIDATION, NULL, &errs);
        return;
    }
    w->op = op;
    w->model = m;
    w->id = id;
    w->lenient_lists = r->app->lenient_ref_lists;
    submit(r, w);
}

static void h_write(rq *r, const app_model *m, const char *id, store_op op, val_mode mode)
{
    h_write_in(r, m, id, op, mode, NULL, NULL);
}

/* POST {route}/filter: store a filter. */
static void h_filter_save(rq *r, const app_model *m, const char *unused)
{
    json_t *body = read_body(r);
    if (!body)
        return;
    listq lq = {0};
    verrs errs = {0};
    rd_err e = listq_from_json(r->app, m, r->version, body, r->a, &lq, &errs);
    bool is_sort;
    const app_field *hidden = e == RD_OK ? authz_hidden_term(r, m, &lq.q, 0, &is_sort) : NULL;
    if (hidden) { /* worded as for a field the model does not have */
        const char *name = hidden->json_name ? hidden->json_name : hidden->name;
        verrs_add(&errs, r->a, name, arena_printf(r->a, "The field '%s' is not part of %s.", name, m->name));
        e = RD_VALIDATION;
    }
    if (e != RD_OK) {
        json_decref(body);
        problem_send(r, e, NULL, &errs);
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_FILTER_SAVE;
    w->model = m;
    w->owner = r->user_id; /* a stored filter belongs to its caller */
    w->filter_json = arena_strdup(r->a, text ? text : "{}");
    free(text);
    w->ttl = r->app->stored_filter_ttl > 0 ? r->app->stored_filter_ttl : 86400;
    submit(r, w);
}

static void h_create(rq *r, const app_model *m, const char *id)
{
    h_write(r, m, id, STORE_CREATE, VAL_CREATE);
}

static void h_replace(rq *r, const app_model *m, const char *id)
{
    if (m->put == PUT_MERGE)
        h_write(r, m, id, STORE_PATCH, VAL_MERGE);
    else
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

/* ---- nested collections ------------------------------------------ */

/* GET {parent route}/{pid}/{route}: the children of one parent. */
static void h_nested_list(rq *r, const app_model *m, const app_field *via, const char *pid)
{
    sqlval *v = arena_alloc(r->a, sizeof *v);
    *v = (sqlval){.kind = SV_TEXT, .s = pid, .n = strlen(pid)};
    fterm *t = arena_alloc(r->a, sizeof *t);
    *t = (fterm){.field = via, .op = FOP_EQ, .vals = v, .n = 1};
    listq lq = {.q = {.terms = t, .n_terms = 1}};
    if (parse_list(r, m, &lq, 1))
        send_list(r, m, &lq);
}

static void h_nested_create(rq *r, const app_model *m, const app_field *via, const char *pid)
{
    h_write_in(r, m, NULL, STORE_CREATE, VAL_CREATE, via, pid);
}

/* ---- row history ----------------------------------------------------- */

/* Versions a history answer holds at most: the newest ones. */
#define HISTORY_MAX 1000

/* GET {route}/{id}/history (models with `history: true`): every kept
 * version of the row, oldest first, as {id, at, actor, row}. */
static void h_history(rq *r, const app_model *m, const char *id)
{
    store_version *v;
    size_t n = 0;
    rd_err e = store_history(r->conn, m, id, HISTORY_MAX, r->a, &v, &n);
    if (e == RD_OK && n == 0)
        e = store_exists(r->conn, m, id, r->a);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "no %s with id %s", m->name, id) : NULL, NULL);
        return;
    }
    buf *b = new_body(r);
    jw w;
    jw_init(&w, b);
    jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        char at[40];
        size_t al = dt_format_datetime(v[i].at, strlen(v[i].at), r->app->dates, at);
        jw_obj_begin(&w);
        jw_keyz(&w, "id");
        jw_strz(&w, v[i].id);
        jw_keyz(&w, "at");
        jw_str(&w, at, al);
        jw_keyz(&w, "actor");
        if (v[i].actor)
            jw_strz(&w, v[i].actor);
        else
            jw_null(&w);
        jw_keyz(&w, "row");
        jw_raw(&w, v[i].body, v[i].body_len);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    if (!jw_ok(&w)) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    send_json(r, 200, "OK", b);
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
    [T_COLLECTION] = {[M_GET] = h_list, [M_HEAD] = h_list, [M_POST] = h_create},
    [T_ITEM] = {[M_GET] = h_get, [M_HEAD] = h_get, [M_PUT] = h_replace, [M_PATCH] = h_patch,
                [M_DELETE] = h_delete},
    [T_FILTERS] = {[M_POST] = h_filter_save},
    [T_FILTER] = {[M_GET] = h_filter_get, [M_HEAD] = h_filter_get},
};
typedef void (*nested_fn)(rq *r, const app_model *m, const app_field *via, const char *pid);
static const nested_fn nested_routes[M_OTHER] = {
    [M_GET] = h_nested_list, [M_HEAD] = h_nested_list, [M_POST] = h_nested_create};
static const char *const allow[T__COUNT] = {
    [T_COLLECTION] = "GET, HEAD, POST",
    [T_ITEM] = "GET, HEAD, PUT, PATCH, DELETE",
    [T_FILTERS] = "POST",
    [T_FILTER] = "GET, HEAD",
    [T_NESTED] = "GET, HEAD, POST",
};

/* Split "a/b/c" (no leading slash) into at most cap segments. */
static size_t segments(const char *p, size_t n, const char **seg, size_t *len, size_t cap)
{
    size_t k = 0;
    while (n && k <= cap) {
        const char *slash = memchr(p, '/', n);
        size_t l = slash ? (size_t)(slash - p) : n;
        if (k == cap)
            return cap + 1; /* too many */
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
    if (authn_route(r))
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
    size_t k = segments(p, n, seg, len, 3);
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
        if (r->method != M_GET && r->method != M_HEAD) {
            rq_header(r, "allow", "GET, HEAD");
            problem_send(r, RD_METHOD, NULL, NULL);
            return;
        }
        if (ap->auth && !authn_allowed(r, m, false))
            return;
        const char *hid = canonical_id(r, seg[1], len[1]);
        if (!hid) {
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "no %s with that id", m->name), NULL);
            return;
        }
        h_history(r, m, hid);
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
        const char *pid = canonical_id(r, seg[1], len[1]);
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
        id = canonical_id(r, seg[k - 1], len[k - 1]);
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

/* ---- building blocks for app routes (api/ext.h) ---------------------- */

const char *ext_id(rq *r, const char *cap)
{
    const char *id = canonical_id(r, cap, strlen(cap));
    if (!id)
        problem_send(r, RD_BAD_REQUEST, "Malformed ID.", NULL);
    return id;
}

bool ext_exists(rq *r, const app_model *m, const char *id, const char *what)
{
    rd_err e = store_exists_as(r->conn, m, id, authz_scope_user(r, m), r->a);
    if (e == RD_OK)
        return true;
    problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "%s not found", what ? what : m->name) : NULL,
                 NULL);
    return false;
}

void ext_list(rq *r, const app_model *m, const fterm *terms, size_t n, const char *type_name)
{
    if (r->app->auth && !authz_allowed(r, m, false))
        return;
    listq lq = {.q = {.terms = terms, .n_terms = n}};
    if (!parse_list(r, m, &lq, n))
        return;
    lq.q.type_name = type_name;
    send_list(r, m, &lq);
}

void ext_get(rq *r, const app_model *m, const char *id, const char *type_name)
{
    if (r->app->auth && !authz_allowed(r, m, false))
        return;
    buf *b = new_body(r);
    jw w;
    jw_init(&w, b);
    rd_err e = store_get_as(r->conn, m, id, authz_scope_user(r, m),
                            authz_omit(r, m, listq_version_omit(m, r->version, r->a)), type_name, &w);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "%s not found", type_name ? type_name : m->name)
                                             : NULL,
                     NULL);
        return;
    }
    send_json(r, 200, "OK", b);
}

json_t *ext_body(rq *r)
{
    json_t *body = read_body(r);
    if (body && !json_is_object(body)) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, "The request body must be a JSON object.", NULL);
        return NULL;
    }
    return body;
}

void ext_create(rq *r, const app_model *m, json_t *body, const char *type_name)
{
    if (r->app->auth && !authz_allowed(r, m, true))
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    verrs errs = {0};
    rd_err e = val_body(r->app, m, body, VAL_CREATE, r->a, &w->vals, &errs);
    hidden_fields(r, m, body, &errs);
    if (e != RD_OK || errs.n) {
        problem_send(r, RD_VALIDATION, NULL, &errs);
        return;
    }
    w->op = STORE_CREATE;
    w->model = m;
    w->type_name = type_name;
    submit(r, w);
}

void ext_delete(rq *r, const app_model *m, const char *id)
{
    if (r->app->auth && !authz_allowed(r, m, true))
        return;
    h_delete(r, m, id);
}

void ext_submit(rq *r, store_write *w, void (*cb)(rq *r, store_write *w))
{
    w->a = r->a;
    rd_err e = rq_write(r, w, cb);
    if (e != RD_OK)
        problem_send(r, e, "the server is busy; retry shortly", NULL);
}

fterm ext_in(rq *r, const app_field *f, const char *const *texts, size_t n)
{
    sqlval *v = arena_alloc(r->a, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (sqlval){.kind = SV_TEXT, .s = texts[i], .n = strlen(texts[i])};
    return (fterm){.field = f, .op = n == 1 ? FOP_EQ : FOP_IN, .vals = v, .n = n};
}

fterm ext_eq(rq *r, const app_field *f, const char *text) { return ext_in(r, f, &text, 1); }

void ext_send(rq *r, int status, const buf *b)
{
    send_json(r, status, status == 201 ? "Created" : "OK", b);
}

buf *ext_buf(rq *r) { return new_body(r); }

const app_field *ext_id_field(rq *r)
{
    return listq_meta_field(r->app, NULL, r->app->payload_case == KC_PASCAL ? "Id" : "id", 2);
}

json_t *ext_row(rq *r, const app_model *m, const char *id)
{
    buf b;
    buf_init(&b, r->a, RD_MAX_RESPONSE);
    jw w;
    jw_init(&w, &b);
    if (store_get(r->conn, m, id, NULL, &w) != RD_OK || !jw_ok(&w))
        return NULL;
    const char *msg = NULL;
    return jin_parse(b.data, b.len, r->a, &msg);
}

void ext_get_where(rq *r, const app_model *m, const char *id, const fterm *terms, size_t n,
                   const char *type_name)
{
    if (r->app->auth && !authn_allowed(r, m, false))
        return;
    fterm *t = arena_alloc(r->a, (n + 1) * sizeof *t);
    memcpy(t, terms, n * sizeof *t);
    t[n] = ext_eq(r, ext_id_field(r), id);
    store_query q = {.terms = t, .n_terms = n + 1, .limit = 1, .type_name = type_name,
                     .omit = listq_version_omit(m, r->version, r->a)};
    buf *b = new_body(r);
    jw w;
    jw_init(&w, b);
    store_page pg;
    rd_err e = store_list(r->conn, m, &q, r->a, &w, &pg);
    if (e == RD_OK && pg.returned == 0)
        e = RD_NOT_FOUND;
    if (e != RD_OK || !jw_ok(&w)) {
        problem_send(r, e != RD_OK ? e : RD_INTERNAL,
                     e == RD_NOT_FOUND ? arena_printf(r->a, "%s not found", type_name ? type_name : m->name) : NULL,
                     NULL);
        return;
    }
    /* the one row, without the list's brackets */
    buf *one = new_body(r);
    buf_append(one, b->data + 1, b->len - 2);
    send_json(r, 200, "OK", one);
}

const char *ext_take_param(rq *r, const char *name)
{
    if (!r->query)
        return NULL;
    qparam params[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int np = query_parse(r->query, r->query_len, r->a, params, RD_MAX_QUERY_PARAMS, &bad);
    if (np <= 0)
        return NULL; /* the list parser reports a bad query string */
    const char *val = NULL;
    buf rest;
    buf_init(&rest, r->a, r->query_len + 1);
    /* The other parameters are kept as sent: only the named one is cut. */
    const char *p = r->query, *end = r->query + r->query_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t l = amp ? (size_t)(amp - p) : (size_t)(end - p);
        size_t nl = strlen(name);
        if (l >= nl && memcmp(p, name, nl) == 0 && (l == nl || p[nl] == '=')) {
            for (int i = 0; i < np; i++)
                if (strcmp(params[i].name, name) == 0)
                    val = arena_strndup(r->a, params[i].value, params[i].value_len);
        } else if (l) {
            if (rest.len)
                buf_putc(&rest, '&');
            buf_append(&rest, p, l);
        }
        p += l + 1;
    }
    r->query = rest.len ? buf_cstr(&rest) : NULL;
    r->query_len = rest.len;
    return val;
}

/* ext_update's answer: the status in w->ctx; 204 has no body. */
static void updated(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        written(r, w);
        return;
    }
    int status = *(const int *)w->ctx;
    if (status == 204)
        rq_respond(r, 204, "No Content", NULL, NULL);
    else
        send_json(r, status, status == 201 ? "Created" : "OK", &w->body);
}

void ext_update(rq *r, const app_model *m, const char *id, json_t *body, int status, const char *type_name)
{
    if (r->app->auth && !authn_allowed(r, m, true))
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    verrs errs = {0};
    rd_err e = val_body(r->app, m, body, VAL_PATCH, r->a, &w->vals, &errs);
    if (e != RD_OK || errs.n) {
        problem_send(r, RD_VALIDATION, NULL, &errs);
        return;
    }
    int *st = arena_alloc(r->a, sizeof *st);
    *st = status;
    w->op = STORE_PATCH;
    w->model = m;
    w->id = id;
    w->ctx = st;
    w->type_name = type_name;
    w->a = r->a;
    w->actor = r->user_id;
    w->omit = listq_version_omit(m, r->version, r->a);
    e = rq_write(r, w, updated);
    if (e != RD_OK)
        problem_send(r, e, "the server is busy; retry shortly", NULL);
}

/* ext_create_then: the caller's continuation in w->ctx. */
typedef struct then_ctx {
    void (*then)(rq *r, store_write *w, void *ctx);
    void *ctx;
} then_ctx;

static void created_then(rq *r, store_write *w)
{
    const then_ctx *t = w->ctx;
    t->then(r, w, t->ctx);
}

void ext_create_then(rq *r, const app_model *m, json_t *body, void (*then)(rq *r, store_write *w, void *ctx),
                     void *ctx)
{
    store_write *w = arena_zalloc(r->a, sizeof *w);
    verrs errs = {0};
    rd_err e = val_body(r->app, m, body, VAL_CREATE, r->a, &w->vals, &errs);
    if (e != RD_OK || errs.n) {
        problem_send(r, RD_VALIDATION, NULL, &errs);
        return;
    }
    then_ctx *t = arena_alloc(r->a, sizeof *t);
    *t = (then_ctx){.then = then, .ctx = ctx};
    w->op = STORE_CREATE;
    w->model = m;
    w->ctx = t;
    w->a = r->a;
    w->actor = r->user_id;
    e = rq_write(r, w, created_then);
    if (e != RD_OK)
        problem_send(r, e, "the server is busy; retry shortly", NULL);
}

store_write *ext_step(rq *r, const app_model *m, store_op op, const char *id, const json_t *body,
                      const char *type_name)
{
    store_write *w = arena_zalloc(r->a, sizeof *w);
    if (op == STORE_CREATE || op == STORE_PATCH) {
        verrs errs = {0};
        rd_err e = val_body(r->app, m, body, op == STORE_CREATE ? VAL_CREATE : VAL_SERVER, r->a, &w->vals, &errs);
        if (e != RD_OK || errs.n) {
            problem_send(r, RD_VALIDATION, NULL, &errs);
            return NULL;
        }
    }
    w->op = op;
    w->model = m;
    w->id = id;
    w->a = r->a;
    w->actor = r->user_id;
    w->type_name = type_name;
    w->omit = listq_version_omit(m, r->version, r->a);
    return w;
}

void ext_error(rq *r, store_write *w)
{
    written(r, w);
}

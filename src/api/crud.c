/*
 * The generic model handlers: list, get, create, replace, patch, delete,
 * stored filters, nested collections and row history. route.c picks one
 * for a request; ext_blocks.c builds app routes on the same pieces
 * (crud_int.h). Every handler checks its input completely before anything
 * reaches the store; writes go to the writer thread and answer from the
 * callback.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/authz.h"
#include "api/crud_int.h"
#include "api/listq.h"
#include "api/query.h"
#include "app/types.h"
#include "json/jin.h"
#include "json/jw.h"
#include "util/dt.h"

buf *crud__new_body(rq *r)
{
    buf *b = arena_alloc(r->a, sizeof *b);
    buf_init(b, r->a, RD_MAX_RESPONSE);
    return b;
}

void crud__send_json(rq *r, int status, const char *reason, const buf *b)
{
    rq_respond(r, status, reason, "application/json", b);
}

/* A path id must be a UUID; anything else cannot name a row (404). The
 * canonical form is lowercase. */
const char *crud__canonical_id(rq *r, const char *s, size_t n)
{
    char *out = arena_alloc(r->a, TYPE_UUID_LEN + 1);
    return type_uuid_parse(s, n, out) ? out : NULL;
}

/* ---- reads ----------------------------------------------------------- */

rd_err crud__row(rq *r, const app_model *m, const char *id, const char *type_name, buf **out)
{
    *out = crud__new_body(r);
    jw w;
    jw_init(&w, *out);
    return store_get_as(r->conn, m, id, authz_scope_user(r, m),
                        authz_omit(r, m, listq_version_omit(m, r->version, r->a)), type_name, &w);
}

void crud__get(rq *r, const app_model *m, const char *id)
{
    buf *b;
    rd_err e = crud__row(r, m, id, NULL, &b);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "no %s with id %s", m->name, id) : NULL, NULL);
        return;
    }
    crud__send_json(r, 200, "OK", b);
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
void crud__send_list(rq *r, const app_model *m, listq *lq)
{
    buf *rows = crud__new_body(r);
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
        crud__send_json(r, 200, "OK", rows);
        return;
    }
    buf *b = crud__new_body(r);
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
    crud__send_json(r, 200, "OK", b);
}

/* Parse the query string on top of lq (which may hold terms already; the
 * caller's role must be served the fields of those from index `from` on). */
bool crud__parse_list(rq *r, const app_model *m, listq *lq, size_t from)
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

void crud__list(rq *r, const app_model *m, const char *unused)
{
    listq lq = {0};
    if (crud__parse_list(r, m, &lq, 0))
        crud__send_list(r, m, &lq);
}

/* GET {route}/filter/{id}: a stored filter's list. */
void crud__filter_get(rq *r, const app_model *m, const char *id)
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
    if (crud__parse_list(r, m, &lq, 0))
        crud__send_list(r, m, &lq);
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

void crud__written(rq *r, store_write *w)
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
        crud__send_json(r, 201, "Created", &w->body);
        break;
    case STORE_DELETE:
        rq_respond(r, 204, "No Content", NULL, NULL);
        break;
    case STORE_FILTER_SAVE: {
        rq_header(r, "location",
                  arena_printf(r->a, "%s/%s/filter/%s", r->app->base_path, w->model->route, w->new_id));
        buf *b = crud__new_body(r);
        jw jwr;
        jw_init(&jwr, b);
        jw_obj_begin(&jwr);
        jw_keyz(&jwr, "id");
        jw_strz(&jwr, w->new_id);
        jw_obj_end(&jwr);
        crud__send_json(r, 201, "Created", b);
        break;
    }
    default:
        crud__send_json(r, 200, "OK", &w->body);
        break;
    }
}

void crud__run(rq *r, store_write *w, void (*cb)(rq *r, store_write *w))
{
    w->a = r->a;
    rd_err e = rq_write(r, w, cb);
    if (e != RD_OK)
        problem_send(r, e, "the server is busy; retry shortly", NULL);
}

void crud__submit_then(rq *r, store_write *w, void (*cb)(rq *r, store_write *w))
{
    w->actor = r->user_id;
    w->omit = authz_omit(r, w->model, listq_version_omit(w->model, r->version, r->a));
    if (w->op != STORE_FILTER_SAVE)
        w->scope_user = authz_scope_user(r, w->model);
    crud__run(r, w, cb);
}

void crud__submit(rq *r, store_write *w) { crud__submit_then(r, w, crud__written); }

bool crud__validate(rq *r, const app_model *m, const json_t *body, val_mode mode, bool check_version,
                    verrs *errs, store_write *w)
{
    verrs none = {0};
    if (!errs)
        errs = &none;
    rd_err e = val_body(r->app, m, body, mode, r->a, &w->vals, errs);
    if (check_version)
        crud__hidden_fields(r, m, body, errs);
    if (e != RD_OK || errs->n) {
        problem_send(r, RD_VALIDATION, NULL, errs);
        return false;
    }
    return true;
}

/* Body keys naming fields that do not exist in the requested version. */
void crud__hidden_fields(rq *r, const app_model *m, const json_t *body, verrs *errs)
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
json_t *crud__read_body(rq *r)
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

void crud__write_body(rq *r, const app_model *m, const char *id, store_op op, val_mode mode, json_t *body,
                      const app_field *via, const char *parent, void (*cb)(rq *r, store_write *w), void *ctx)
{
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
    if (!crud__validate(r, m, body, mode, true, &errs, w))
        return;
    w->op = op;
    w->model = m;
    w->id = id;
    w->lenient_lists = r->app->lenient_ref_lists;
    w->ctx = ctx;
    crud__submit_then(r, w, cb);
}

/* via/parent: for a create under a parent, the reference field and the
 * parent's id from the path. */
static void h_write_in(rq *r, const app_model *m, const char *id, store_op op, val_mode mode,
                       const app_field *via, const char *parent)
{
    json_t *body = crud__read_body(r);
    if (!body)
        return;
    crud__write_body(r, m, id, op, mode, body, via, parent, crud__written, NULL);
    json_decref(body);
}

static void h_write(rq *r, const app_model *m, const char *id, store_op op, val_mode mode)
{
    h_write_in(r, m, id, op, mode, NULL, NULL);
}

/* POST {route}/filter: store a filter. */
void crud__filter_save(rq *r, const app_model *m, const char *unused)
{
    json_t *body = crud__read_body(r);
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
    crud__submit(r, w);
}

void crud__create(rq *r, const app_model *m, const char *id)
{
    h_write(r, m, id, STORE_CREATE, VAL_CREATE);
}

void crud__replace(rq *r, const app_model *m, const char *id)
{
    if (m->put == PUT_MERGE)
        h_write(r, m, id, STORE_PATCH, VAL_MERGE);
    else
        h_write(r, m, id, STORE_REPLACE, VAL_REPLACE);
}

void crud__patch(rq *r, const app_model *m, const char *id)
{
    h_write(r, m, id, STORE_PATCH, VAL_PATCH);
}

void crud__delete(rq *r, const app_model *m, const char *id)
{
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_DELETE;
    w->model = m;
    w->id = id;
    crud__submit(r, w);
}

fterm crud__term_in(rq *r, const app_field *f, const char *const *texts, size_t n)
{
    sqlval *v = arena_alloc(r->a, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (sqlval){.kind = SV_TEXT, .s = texts[i], .n = strlen(texts[i])};
    return (fterm){.field = f, .op = n == 1 ? FOP_EQ : FOP_IN, .vals = v, .n = n};
}

/* ---- nested collections ------------------------------------------ */

/* GET {parent route}/{pid}/{route}: the children of one parent. */
void crud__nested_list(rq *r, const app_model *m, const app_field *via, const char *pid)
{
    fterm *t = arena_alloc(r->a, sizeof *t);
    *t = crud__term_in(r, via, &pid, 1);
    listq lq = {.q = {.terms = t, .n_terms = 1}};
    if (crud__parse_list(r, m, &lq, 1))
        crud__send_list(r, m, &lq);
}

void crud__nested_create(rq *r, const app_model *m, const app_field *via, const char *pid)
{
    h_write_in(r, m, NULL, STORE_CREATE, VAL_CREATE, via, pid);
}

/* ---- row history ----------------------------------------------------- */

/* Versions a history answer holds at most: the newest ones. */
#define HISTORY_MAX 1000

/* GET {route}/{id}/history (models with `history: true`): every kept
 * version of the row, oldest first, as {id, at, actor, row}. */
void crud__history(rq *r, const app_model *m, const char *id)
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
    buf *b = crud__new_body(r);
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
    crud__send_json(r, 200, "OK", b);
}

/*
 * The building blocks app routes are written with (api/ext.h): lists,
 * gets, creates, updates and multi-step writes on top of the generic
 * handlers (crud.c), so app routes inherit their checks and answers.
 */
#include <string.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/authz.h"
#include "api/crud_int.h"
#include "api/ext.h"
#include "api/listq.h"
#include "api/query.h"
#include "json/jin.h"
#include "json/jw.h"

const char *ext_id(rq *r, const char *cap)
{
    const char *id = crud__canonical_id(r, cap, strlen(cap));
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
    if (!crud__parse_list(r, m, &lq, n))
        return;
    lq.q.type_name = type_name;
    crud__send_list(r, m, &lq);
}

void ext_get(rq *r, const app_model *m, const char *id, const char *type_name)
{
    if (r->app->auth && !authz_allowed(r, m, false))
        return;
    buf *b;
    rd_err e = crud__row(r, m, id, type_name, &b);
    if (e != RD_OK) {
        problem_send(r, e, e == RD_NOT_FOUND ? arena_printf(r->a, "%s not found", type_name ? type_name : m->name)
                                             : NULL,
                     NULL);
        return;
    }
    crud__send_json(r, 200, "OK", b);
}

json_t *ext_body(rq *r)
{
    json_t *body = crud__read_body(r);
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
    if (!crud__validate(r, m, body, VAL_CREATE, true, NULL, w))
        return;
    w->op = STORE_CREATE;
    w->model = m;
    w->type_name = type_name;
    crud__submit(r, w);
}

void ext_delete(rq *r, const app_model *m, const char *id)
{
    if (r->app->auth && !authz_allowed(r, m, true))
        return;
    crud__delete(r, m, id);
}

void ext_submit(rq *r, store_write *w, void (*cb)(rq *r, store_write *w)) { crud__run(r, w, cb); }

fterm ext_in(rq *r, const app_field *f, const char *const *texts, size_t n)
{
    return crud__term_in(r, f, texts, n);
}

fterm ext_eq(rq *r, const app_field *f, const char *text) { return ext_in(r, f, &text, 1); }

void ext_send(rq *r, int status, const buf *b)
{
    crud__send_json(r, status, status == 201 ? "Created" : "OK", b);
}

buf *ext_buf(rq *r) { return crud__new_body(r); }

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
    /* scoped: a row the caller cannot read is absent, to the handler's
     * logic as to its answer (every field, though: handlers read them) */
    if (store_get_as(r->conn, m, id, authz_scope_user(r, m), NULL, NULL, &w) != RD_OK || !jw_ok(&w))
        return NULL;
    const char *msg = NULL;
    return jin_parse(b.data, b.len, r->a, &msg);
}

void ext_get_where(rq *r, const app_model *m, const char *id, const fterm *terms, size_t n,
                   const char *type_name)
{
    if (r->app->auth && !authz_allowed(r, m, false))
        return;
    fterm *t = arena_alloc(r->a, (n + 1) * sizeof *t);
    memcpy(t, terms, n * sizeof *t);
    t[n] = ext_eq(r, ext_id_field(r), id);
    /* as crud__row reads: the caller's rows, the caller's fields */
    store_query q = {.terms = t, .n_terms = n + 1, .limit = 1, .type_name = type_name,
                     .omit = authz_omit(r, m, listq_version_omit(m, r->version, r->a)),
                     .scope_user = authz_scope_user(r, m)};
    buf *b = crud__new_body(r);
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
    buf *one = crud__new_body(r);
    buf_append(one, b->data + 1, b->len - 2);
    crud__send_json(r, 200, "OK", one);
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

/* What ext_update and ext_step fill in a write: its target, the caller
 * with the scope that limits its writes (as crud__submit_then sets it: a
 * row outside is RD_NOT_FOUND, a row written outside RD_DENIED), and the
 * row rendered typed type_name in the requested version and the caller's
 * fields. */
static void step_init(rq *r, store_write *w, const app_model *m, store_op op, const char *id,
                      const char *type_name)
{
    w->op = op;
    w->model = m;
    w->id = id;
    w->a = r->a;
    w->actor = r->user_id;
    w->type_name = type_name;
    w->omit = authz_omit(r, m, listq_version_omit(m, r->version, r->a));
    w->scope_user = authz_scope_user(r, m);
}

/* ext_update's answer: the status in w->ctx; 204 has no body. */
static void updated(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        crud__written(r, w);
        return;
    }
    int status = *(const int *)w->ctx;
    if (status == 204)
        rq_respond(r, 204, "No Content", NULL, NULL);
    else
        crud__send_json(r, status, status == 201 ? "Created" : "OK", &w->body);
}

void ext_update(rq *r, const app_model *m, const char *id, json_t *body, int status, const char *type_name)
{
    if (r->app->auth && !authz_allowed(r, m, true))
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    if (!crud__validate(r, m, body, VAL_PATCH, false, NULL, w))
        return;
    int *st = arena_alloc(r->a, sizeof *st);
    *st = status;
    step_init(r, w, m, STORE_PATCH, id, type_name);
    w->ctx = st;
    crud__run(r, w, updated);
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
    if (!crud__validate(r, m, body, VAL_CREATE, false, NULL, w))
        return;
    then_ctx *t = arena_alloc(r->a, sizeof *t);
    *t = (then_ctx){.then = then, .ctx = ctx};
    w->op = STORE_CREATE;
    w->model = m;
    w->ctx = t;
    w->actor = r->user_id; /* no omit: the continuation gets the whole row */
    w->scope_user = authz_scope_user(r, m); /* the row made must be one the caller reaches */
    crud__run(r, w, created_then);
}

store_write *ext_step(rq *r, const app_model *m, store_op op, const char *id, const json_t *body,
                      const char *type_name)
{
    store_write *w = arena_zalloc(r->a, sizeof *w);
    if ((op == STORE_CREATE || op == STORE_PATCH) &&
        !crud__validate(r, m, body, op == STORE_CREATE ? VAL_CREATE : VAL_SERVER, false, NULL, w))
        return NULL;
    step_init(r, w, m, op, id, type_name);
    return w;
}

void ext_error(rq *r, store_write *w)
{
    crud__written(r, w);
}

json_t *ext_json(rq *r) { return crud__read_body(r); }

void ext_post(rq *r, const app_model *m, json_t *body, void (*then)(rq *r, store_write *w, void *ctx), void *ctx)
{
    if (r->app->auth && !authz_allowed(r, m, true))
        return;
    if (!then) {
        crud__write_body(r, m, NULL, STORE_CREATE, VAL_CREATE, body, NULL, NULL, crud__written, NULL);
        return;
    }
    then_ctx *t = arena_alloc(r->a, sizeof *t);
    *t = (then_ctx){.then = then, .ctx = ctx};
    crud__write_body(r, m, NULL, STORE_CREATE, VAL_CREATE, body, NULL, NULL, created_then, t);
}

/*
 * Row scopes and field subsets for the signed-in caller; see authz.h. The
 * scope itself is enforced by the store (the condition is in the SQL of
 * every read and write); this file only decides whether it applies.
 */
#include "api/authz.h"

#include <string.h>

#include "api/authn.h"

bool authz_superuser(const app_auth *au, const char *role)
{
    for (size_t i = 0; i < au->n_superusers; i++)
        if (strcmp(au->superusers[i], role) == 0)
            return true;
    return false;
}

static const char *role_of(const rq *r) { return r->user_role ? r->user_role : ""; }

static bool listed(const char *const *roles, size_t n, const char *role)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i], "*") == 0 || strcmp(roles[i], role) == 0)
            return true;
    return false;
}

static const app_access *access_of(const app_auth *au, const app_model *m)
{
    return m->has_access ? &m->access : &au->default_access;
}

const store_scope *authz_scope_user(rq *r, const app_model *m)
{
    const app_auth *au = r->app->auth;
    const app_scope *sc = m->access.scope;
    const app_role_in *ri = m->access.role_in;
    if (!au || (!sc && !ri))
        return NULL;
    const char *role = role_of(r);
    if (authz_superuser(au, role)) /* superusers stay global: no override limits them */
        return NULL;
    const app_access *acc = access_of(au, m);
    store_scope *out = arena_zalloc(r->a, sizeof *out);
    /* "" names no user: a caller without an id reaches no row */
    out->user = r->user_id ? r->user_id : "";
    out->row = sc != NULL;
    for (size_t i = 0; sc && i < sc->n_exempt; i++)
        if (strcmp(sc->exempt[i], role) == 0)
            out->row = false;
    out->read = listed(acc->read, acc->n_read, role);
    out->write = listed(acc->write, acc->n_write, role);
    /* One indexed look-up: a caller without overrides keeps the plain
     * scope statements. A failed look-up counts as held, which only
     * chooses the stricter statement. */
    out->held = ri && r->user_id && store_role_held(r->conn, m, r->user_id, NULL, 0, r->a) != RD_NOT_FOUND;
    if (!out->row && !out->held && out->read && out->write)
        return NULL; /* every row, whatever the statement */
    return out;
}

bool authz_allowed(rq *r, const app_model *m, bool write)
{
    const app_auth *au = r->app->auth;
    const app_access *acc = access_of(au, m);
    const char *role = role_of(r);
    bool own = authz_superuser(au, role) ||
               (write ? listed(acc->write, acc->n_write, role) : listed(acc->read, acc->n_read, role));
    /* The caller's own role lacks the right: an override that has it, in
     * some holder, lets the request through; the store's statements then
     * limit it to those holders (authz_scope_user marks it held). */
    if (!own && m->access.role_in && r->user_id &&
        store_role_held(r->conn, m, r->user_id, write ? acc->write : acc->read, write ? acc->n_write : acc->n_read,
                        r->a) == RD_OK)
        return true;
    return authn_allowed(r, m, write);
}

/* The subset for the caller's role: its own, else "*"'s; NULL for none. */
static const app_view *view_of(const rq *r, const app_model *m)
{
    const app_auth *au = r->app->auth;
    if (!au || m->access.n_views == 0)
        return NULL;
    const char *role = role_of(r);
    if (authz_superuser(au, role))
        return NULL;
    const app_view *star = NULL;
    for (size_t i = 0; i < m->access.n_views; i++) {
        const app_view *v = &m->access.views[i];
        if (strcmp(v->role, role) == 0)
            return v;
        if (strcmp(v->role, "*") == 0)
            star = v;
    }
    return star;
}

const bool *authz_omit(rq *r, const app_model *m, const bool *base)
{
    const app_view *v = view_of(r, m);
    if (!v)
        return base;
    if (!base)
        return v->omit;
    bool *out = arena_alloc(r->a, m->n_fields + 2);
    for (size_t i = 0; i < m->n_fields + 2; i++)
        out[i] = base[i] || v->omit[i];
    return out;
}

/* The omit slot of a filter/sort field: a model field, or created_at /
 * updated_at; -1 for id (always served). */
static long slot_of(const app_model *m, const app_field *f)
{
    if (f >= m->fields && f < m->fields + m->n_fields)
        return f - m->fields;
    if (strcmp(f->name, "created_at") == 0)
        return (long)m->n_fields;
    if (strcmp(f->name, "updated_at") == 0)
        return (long)m->n_fields + 1;
    return -1;
}

static bool filterable(const app_view *v, const app_model *m, const app_field *f)
{
    long k = slot_of(m, f);
    return k < 0 || !v->nofilter[k];
}

const app_field *authz_hidden_term(rq *r, const app_model *m, const store_query *q, size_t from, bool *is_sort)
{
    const app_view *v = view_of(r, m);
    if (!v)
        return NULL;
    *is_sort = false;
    for (size_t i = from; i < q->n_terms; i++)
        if (!filterable(v, m, q->terms[i].field))
            return q->terms[i].field;
    *is_sort = true;
    for (size_t i = 0; i < q->n_sort; i++)
        if (!filterable(v, m, q->sort[i].field))
            return q->sort[i].field;
    return NULL;
}

/*
 * The parts of a model's `access:` that name the model's fields: the row
 * scope (`scope: {via, member | owner, exempt}`), the per-role field
 * subsets (`fields: {role: [names]}`) and the per-holder roles
 * (`role_in: {model, holder, user, role, via}`). They can only be checked once every
 * model is loaded and auth.users is known, so app__load_access (auth.c)
 * notes their nodes while the models are read and load_auth resolves them
 * here. docs/app-format.md and docs/auth.md describe the keys.
 */
#include <string.h>

#include "app/app_int.h"
#include "rd_limits.h"

typedef struct app__pending_access {
    app_model *m;
    yaml_node_t *scope, *fields, *role_in;
} pending;

static pending *pending_of(app__ctx *c, app_model *m)
{
    for (size_t i = 0; i < c->n_pend; i++)
        if (c->pend[i].m == m)
            return &c->pend[i];
    if (c->n_pend == c->cap_pend) {
        size_t cap = c->cap_pend ? c->cap_pend * 2 : 16;
        pending *p = arena_alloc(c->tmp, cap * sizeof *p);
        if (c->n_pend)
            memcpy(p, c->pend, c->n_pend * sizeof *p);
        c->pend = p;
        c->cap_pend = cap;
    }
    c->pend[c->n_pend] = (pending){m, NULL, NULL, NULL};
    return &c->pend[c->n_pend++];
}

void app__note_access(app__ctx *c, app_model *m, yaml_node_t *scope, yaml_node_t *fields)
{
    pending *p = pending_of(c, m);
    p->scope = scope ? scope : p->scope;
    p->fields = fields ? fields : p->fields;
}

void app__note_role_in(app__ctx *c, app_model *m, yaml_node_t *role_in)
{
    if (role_in)
        pending_of(c, m)->role_in = role_in;
}

/* ---- scope ------------------------------------------------------------ */

enum { SK_VIA, SK_MEMBER, SK_OWNER, SK_EXEMPT, SK__COUNT };
static const app__key scope_keys[] = {
    [SK_VIA] = {"via"},
    [SK_MEMBER] = {"member"},
    [SK_OWNER] = {"owner"},
    [SK_EXEMPT] = {"exempt"},
};
_Static_assert(sizeof scope_keys / sizeof scope_keys[0] == SK__COUNT, "one row per key");

/* The field of m that node n names, if its own definition is sound. NULL
 * with the problem reported (a missing field here, a faulty one where it
 * was defined). */
static const app_field *sound_field_named(app__ctx *c, const app *a, const app_model *m, const yaml_node_t *n,
                                          const char *what)
{
    const char *s = app__str(c, n, what);
    if (!s)
        return NULL;
    const app_field *f = app_field_by_name(m, s);
    if (!f) {
        app__err(c, n, "%s: model '%s' has no field '%s'", what, m->name, app__q(c, s));
        return NULL;
    }
    if (!app__field_sound(c, a, m, f))
        return NULL;
    return f;
}

/* A field of m named by node n that has the wanted type (and, for
 * references, points at `to`). NULL with the problem reported; NULL
 * without one when the field's own definition was faulty (reported). */
static const app_field *scope_field(app__ctx *c, const app *a, const app_model *m, const yaml_node_t *n,
                                    const char *what, field_type want, const app_model *to)
{
    const app_field *f = sound_field_named(c, a, m, n, what);
    if (!f)
        return NULL;
    if (f->type != want || (to && f->ref != to)) {
        app__err(c, n, "%s: field '%s.%s' must be a %s%s%s (it is a %s%s%s)", what, m->name, f->name,
                 app_type_name(want), to ? " to " : "", to ? to->name : "", app_type_name(f->type),
                 f->ref ? " to " : "", f->ref ? f->ref->name : "");
        return NULL;
    }
    return f;
}

static void resolve_scope(app__ctx *c, const app *a, app_model *m, yaml_node_t *n)
{
    const char *what = arena_printf(c->tmp, "scope of model '%s'", m->name);
    app__kv k[SK__COUNT];
    if (!app__map(c, n, NULL, what, scope_keys, SK__COUNT, k))
        return;
    if (!k[SK_MEMBER].key == !k[SK_OWNER].key) {
        app__err(c, n, "%s: give exactly one of member (a ref_list of the users model) or owner (a ref to "
                       "it)",
                 what);
        return;
    }
    const app_model *users = a->auth ? a->auth->users : NULL;
    if (!users)
        return; /* auth.users has its own problem, reported */
    app_scope *sc = arena_zalloc(c->a, sizeof *sc);
    sc->holder = m;
    bool ok = true;
    if (k[SK_VIA].val) {
        sc->via = scope_field(c, a, m, k[SK_VIA].val, arena_printf(c->tmp, "via of %s", what), FT_REF, NULL);
        ok = sc->via && sc->via->ref;
        if (ok)
            sc->holder = sc->via->ref;
    }
    if (ok && k[SK_MEMBER].val) {
        sc->member = scope_field(c, a, sc->holder, k[SK_MEMBER].val, arena_printf(c->tmp, "member of %s", what),
                                 FT_REF_LIST, users);
        ok = sc->member != NULL;
    }
    if (ok && k[SK_OWNER].val) {
        sc->owner = scope_field(c, a, sc->holder, k[SK_OWNER].val, arena_printf(c->tmp, "owner of %s", what),
                                FT_REF, users);
        ok = sc->owner != NULL;
    }
    if (k[SK_EXEMPT].val)
        app__read_roles(c, k[SK_EXEMPT].val, arena_printf(c->tmp, "exempt of %s", what), &sc->exempt,
                        &sc->n_exempt);
    if (ok)
        m->access.scope = sc;
}

/* ---- per-holder roles ----------------------------------------------------- */

enum { RK_MODEL, RK_HOLDER, RK_USER, RK_ROLE, RK_VIA, RK__COUNT };
static const app__key role_in_keys[] = {
    [RK_MODEL] = {"model", .required = true},
    [RK_HOLDER] = {"holder", .required = true},
    [RK_USER] = {"user", .required = true},
    [RK_ROLE] = {"role", .required = true},
    [RK_VIA] = {"via"},
};
_Static_assert(sizeof role_in_keys / sizeof role_in_keys[0] == RK__COUNT, "one row per key");

/* A field of m named by n that is a string or an enum (a role). */
static const app_field *role_field(app__ctx *c, const app *a, const app_model *m, const yaml_node_t *n,
                                   const char *what)
{
    const app_field *f = sound_field_named(c, a, m, n, what);
    if (!f)
        return NULL;
    if (f->type != FT_STRING && f->type != FT_ENUM) {
        app__err(c, n, "%s: field '%s.%s' must be a string or an enum (it is a %s)", what, m->name, f->name,
                 app_type_name(f->type));
        return NULL;
    }
    return f;
}

static void resolve_role_in(app__ctx *c, const app *a, app_model *m, yaml_node_t *n)
{
    const char *what = arena_printf(c->tmp, "role_in of model '%s'", m->name);
    app__kv k[RK__COUNT];
    if (!app__map(c, n, NULL, what, role_in_keys, RK__COUNT, k) || !k[RK_MODEL].val || !k[RK_HOLDER].val ||
        !k[RK_USER].val || !k[RK_ROLE].val)
        return;
    const app_model *users = a->auth ? a->auth->users : NULL;
    const char *name = app__str(c, k[RK_MODEL].val, arena_printf(c->tmp, "model of %s", what));
    if (!users || !name)
        return;
    const app_model *rm = app_model_by_name(a, name);
    if (!rm) {
        app__err(c, k[RK_MODEL].val, "model of %s: there is no model '%s'", what, app__q(c, name));
        return;
    }
    app_role_in *ri = arena_zalloc(c->a, sizeof *ri);
    ri->model = rm;
    ri->holder = scope_field(c, a, rm, k[RK_HOLDER].val, arena_printf(c->tmp, "holder of %s", what), FT_REF, NULL);
    ri->user = scope_field(c, a, rm, k[RK_USER].val, arena_printf(c->tmp, "user of %s", what), FT_REF, users);
    ri->role = role_field(c, a, rm, k[RK_ROLE].val, arena_printf(c->tmp, "role of %s", what));
    if (!ri->holder || !ri->holder->ref || !ri->user || !ri->role)
        return;
    const app_model *h = ri->holder->ref;
    /* The row's holder: the given via, else the scope's when it leads to
     * the same model, else the row itself when it is of the holder model. */
    if (k[RK_VIA].val) {
        ri->via = scope_field(c, a, m, k[RK_VIA].val, arena_printf(c->tmp, "via of %s", what), FT_REF, h);
        if (!ri->via)
            return;
    } else if (m->access.scope && m->access.scope->via && m->access.scope->holder == h) {
        ri->via = m->access.scope->via;
    } else if (h != m) {
        app__err(c, n, "%s: holder '%s.%s' points at model '%s': give `via`, a ref field of '%s' to it", what,
                 rm->name, ri->holder->name, h->name, m->name);
        return;
    }
    ri->global = a->auth->superusers;
    ri->n_global = a->auth->n_superusers;
    m->access.role_in = ri;
}

/* ---- field subsets ------------------------------------------------------ */

/* The server-maintained keys a subset may name besides the fields; "id"
 * is always served (a row without it cannot be named again). */
static const char *const meta_names[] = {"id", "created_at", "updated_at"};

/* One role's list of field names into an omit mask (everything not listed
 * is left out). False when nothing usable was read. */
static bool read_view(app__ctx *c, const app_model *m, yaml_node_t *n, const char *what, bool *omit)
{
    if (!app__want(c, n, YAML_SEQUENCE_NODE, what))
        return false;
    memset(omit, 1, m->n_fields + 2);
    const char *each = arena_printf(c->tmp, "each of %s", what);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, each);
        if (!s)
            continue;
        const app_field *f = app_field_by_name(m, s);
        size_t slot = f ? (size_t)(f - m->fields) : SIZE_MAX;
        for (size_t i = 1; !f && i < 3; i++)
            if (strcmp(s, meta_names[i]) == 0)
                slot = m->n_fields + i - 1;
        if (!f && strcmp(s, meta_names[0]) == 0)
            continue;
        if (slot == SIZE_MAX) {
            app__err(c, v, "%s: model '%s' has no field '%s'", what, m->name, app__q(c, s));
            continue;
        }
        if (!omit[slot]) {
            app__err(c, v, "%s: '%s' is listed twice", what, s);
            continue;
        }
        omit[slot] = false;
    }
    return true;
}

/* A role's value: a list (served and filterable), or {serve: [...],
 * filter: [...]} when the filterable fields differ (Zou lets non-admins
 * find a person by an e-mail address it does not show them). */
enum { VK_SERVE, VK_FILTER, VK__COUNT };
static const app__key view_keys[] = {
    [VK_SERVE] = {"serve", .required = true},
    [VK_FILTER] = {"filter"},
};
_Static_assert(sizeof view_keys / sizeof view_keys[0] == VK__COUNT, "one row per key");

static bool read_role_view(app__ctx *c, const app_model *m, yaml_node_t *n, const char *what, bool *omit,
                           bool **nofilter)
{
    if (n->type != YAML_MAPPING_NODE)
        return read_view(c, m, n, what, omit);
    app__kv k[VK__COUNT];
    if (!app__map(c, n, NULL, what, view_keys, VK__COUNT, k) || !k[VK_SERVE].val)
        return false;
    if (!read_view(c, m, k[VK_SERVE].val, arena_printf(c->tmp, "serve of %s", what), omit))
        return false;
    if (k[VK_FILTER].val) {
        *nofilter = arena_alloc(c->a, m->n_fields + 2);
        if (!read_view(c, m, k[VK_FILTER].val, arena_printf(c->tmp, "filter of %s", what), *nofilter))
            return false;
    }
    return true;
}

static void resolve_fields(app__ctx *c, app_model *m, yaml_node_t *n)
{
    const char *what = arena_printf(c->tmp, "fields of the access of model '%s'", m->name);
    if (!app__want(c, n, YAML_MAPPING_NODE, what))
        return;
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > RD_MAX_ROLES) {
        app__err(c, n, "%s: too many roles (%zu; at most %d)", what, count, RD_MAX_ROLES);
        return;
    }
    app_view *views = arena_alloc(c->a, (count ? count : 1) * sizeof *views);
    size_t k = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = app__node(c, p->key);
        const char *role = app__key_text(c, key, what);
        if (!role)
            continue;
        bool star = strcmp(role, "*") == 0;
        if (!star && !app__name_ok(role)) {
            app__err(c, key, "%s: '%s' must be a role name ([a-z][a-z0-9_]*, at most %d characters) or \"*\"",
                     what, app__q(c, role), RD_MAX_NAME);
            continue;
        }
        size_t j = 0;
        while (j < k && strcmp(views[j].role, role) != 0)
            j++;
        if (j < k) {
            app__err(c, key, "%s: role '%s' is given twice", what, role);
            continue;
        }
        bool *omit = arena_alloc(c->a, m->n_fields + 2), *nofilter = omit;
        if (!read_role_view(c, m, app__node(c, p->value), arena_printf(c->tmp, "%s, role '%s'", what, role), omit,
                            &nofilter))
            continue;
        views[k] = (app_view){.role = arena_strdup(c->a, role), .omit = omit, .nofilter = nofilter};
        if (!star)
            app__note_role(c, views[k].role, key);
        k++;
    }
    m->access.views = views;
    m->access.n_views = k;
}

void app__resolve_access(app__ctx *c, const app *a)
{
    for (size_t i = 0; i < c->n_pend; i++) {
        pending *p = &c->pend[i];
        if (p->scope)
            resolve_scope(c, a, p->m, p->scope);
        if (p->fields)
            resolve_fields(c, p->m, p->fields);
        if (p->role_in) /* after the scope: its via is the default */
            resolve_role_in(c, a, p->m, p->role_in);
    }
}

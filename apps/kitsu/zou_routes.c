/*
 * Zou's routes outside the generic CRUD, for apps/kitsu (`routes: zou`).
 * Shapes follow Zou 1.0.67 (cgwire/zou, zou/app/blueprints/) as gazu
 * calls them; see apps/kitsu/README.md for what is served.
 *
 * Zou keeps assets, shots, sequences and episodes in one `entity` table,
 * told apart by their entity type: an entity type named Shot, Sequence,
 * Episode, Edit, Scene or Concept makes its rows that kind, and every other
 * entity type is an asset type. The typed views here are generic lists
 * over `entity` with a fixed entity_type_id term, rendered with their own
 * "type". Links: a shot's parent is its sequence, a sequence's parent its
 * episode, an asset's source its episode.
 *
 * Every handler is built on the generic handlers (api/ext.h), so query
 * filters, paging, validation, error shapes and rights are the generic
 * ones.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/authn.h"
#include "api/ext.h"
#include "app/types.h"
#include "json/jin.h"
#include "json/jw.h"
#include "util/dt.h"

/* Entity types that are not asset types (Zou: assets_service). */
static const char *const non_asset_types[] = {"Shot", "Sequence", "Episode", "Edit", "Scene", "Concept"};
#define N_NON_ASSET (sizeof non_asset_types / sizeof non_asset_types[0])

/* An id no row has: a term on it selects nothing (a kind whose entity type
 * does not exist yet has no rows). */
static const char no_id[] = "00000000-0000-0000-0000-000000000000";

/* The app's model called name, or NULL after answering 500 (the app file
 * does not declare what these routes need). */
static const app_model *model(rq *r, const char *name)
{
    const app_model *m = app_model_by_name(r->app, name);
    if (!m)
        problem_send(r, RD_INTERNAL, NULL, NULL);
    return m;
}

static const app_field *field(const app_model *m, const char *name) { return app_field_by_name(m, name); }

/* A string member of a JSON object, or NULL. */
static const char *str_of(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Ids of the entity types with the given names (at most 16). */
static size_t type_ids(rq *r, const char *const *names, size_t n, const char ***ids)
{
    const app_model *et = app_model_by_name(r->app, "entity_type");
    size_t got = 0;
    if (!et)
        return 0;
    fterm t = ext_in(r, field(et, "name"), names, n);
    store_query q = {.terms = &t, .n_terms = 1, .limit = 16};
    if (store_values(r->conn, et, &q, NULL, r->a, ids, &got) != RD_OK)
        return 0;
    return got;
}

/* The id of the entity type called name, or NULL. */
static const char *type_id(rq *r, const char *name)
{
    const char **ids;
    return type_ids(r, &name, 1, &ids) ? ids[0] : NULL;
}

/* The term "entity_type_id is the type called kind" (nothing when there is
 * no such type). */
static fterm kind_term(rq *r, const app_model *ent, const char *kind)
{
    const char *id = type_id(r, kind);
    return ext_eq(r, field(ent, "entity_type_id"), id ? id : no_id);
}

/* The term "entity_type_id is an asset type": not one of the others. */
static bool asset_term(rq *r, const app_model *ent, fterm *out)
{
    const char **ids;
    size_t n = type_ids(r, non_asset_types, N_NON_ASSET, &ids);
    if (!n)
        return false;
    *out = ext_in(r, field(ent, "entity_type_id"), ids, n);
    out->op = FOP_NIN;
    return true;
}

/* The same over entity_type rows: "id is not one of the other kinds". */
static bool asset_type_term(rq *r, fterm *out)
{
    const char **ids;
    size_t n = type_ids(r, non_asset_types, N_NON_ASSET, &ids);
    if (!n)
        return false;
    *out = ext_in(r, ext_id_field(r), ids, n);
    out->op = FOP_NIN;
    return true;
}

/* A path id that must name a row of m: canonical id, or NULL after 400/404. */
static const char *row_id(rq *r, const app_model *m, const char *cap, const char *what)
{
    const char *id = ext_id(r, cap);
    return id && ext_exists(r, m, id, what) ? id : NULL;
}

/* ---- root ---------------------------------------------------------- */

/* GET / HEAD /api: gazu's get_api_version and host_is_up. */
static void h_root(rq *r, const char *const *caps)
{
    buf *b = ext_buf(r);
    jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_keyz(&w, "api");
    jw_strz(&w, "Zou");
    jw_keyz(&w, "version");
    jw_strz(&w, r->app->version && *r->app->version ? r->app->version : "1.0.67");
    jw_obj_end(&w);
    ext_send(r, 200, b);
}

/* ---- asset types ---------------------------------------------------- */

static void h_asset_types(rq *r, const char *const *caps)
{
    const app_model *et = model(r, "entity_type");
    if (!et)
        return;
    fterm t;
    bool some = asset_type_term(r, &t);
    ext_list(r, et, some ? &t : NULL, some, "AssetType");
}

static void h_asset_type(rq *r, const char *const *caps)
{
    const app_model *et = model(r, "entity_type");
    const char *id = et ? ext_id(r, caps[0]) : NULL;
    if (!id)
        return;
    fterm t;
    bool some = asset_type_term(r, &t);
    ext_get_where(r, et, id, some ? &t : NULL, some, "AssetType");
}

/* ---- typed entity views ---------------------------------------------- */

/* What a kind's query keys mean in Zou: sequence_id / episode_id are the
 * parent, an asset's episode_id its source. */
typedef struct kind {
    const char *name;       /* entity type name; NULL: assets */
    const char *type;       /* the rows' "type" */
    const char *parent_key; /* query key naming parent_id, or NULL */
} kind;

static const kind K_ASSET = {NULL, "Asset", NULL};
static const kind K_SHOT = {"Shot", "Shot", "sequence_id"};
static const kind K_SEQUENCE = {"Sequence", "Sequence", "episode_id"};
static const kind K_EPISODE = {"Episode", "Episode", NULL};

/* The terms selecting a kind's rows, plus project_id when given, plus a
 * parent from the query string (taken out of it). Returns the count. */
static size_t kind_terms(rq *r, const app_model *ent, const kind *k, const char *project, fterm *t)
{
    size_t n = 0;
    if (k->name)
        t[n++] = kind_term(r, ent, k->name);
    else if (asset_term(r, ent, &t[n]))
        n++;
    if (project)
        t[n++] = ext_eq(r, field(ent, "project_id"), project);
    const char *pk = k->parent_key ? k->parent_key : !k->name ? "episode_id" : NULL;
    const char *pv = pk ? ext_take_param(r, pk) : NULL;
    if (pv)
        t[n++] = ext_eq(r, field(ent, k->name ? "parent_id" : "source_id"), pv);
    return n;
}

static void list_kind(rq *r, const kind *k, const char *project)
{
    const app_model *ent = model(r, "entity");
    if (!ent)
        return;
    fterm t[4];
    size_t n = kind_terms(r, ent, k, project, t);
    ext_list(r, ent, t, n, k->type);
}

static void get_kind(rq *r, const kind *k, const char *cap)
{
    const app_model *ent = model(r, "entity");
    const char *id = ent ? ext_id(r, cap) : NULL;
    if (!id)
        return;
    fterm t[1];
    size_t n = 0;
    if (k->name)
        t[n++] = kind_term(r, ent, k->name);
    else if (asset_term(r, ent, &t[n]))
        n++;
    ext_get_where(r, ent, id, t, n, k->type);
}

/* DELETE of a typed row: it must be of that kind (404 otherwise). */
static void delete_kind(rq *r, const kind *k, const char *cap)
{
    const app_model *ent = model(r, "entity");
    const char *id = ent ? ext_id(r, cap) : NULL;
    if (!id)
        return;
    json_t *row = ext_row(r, ent, id);
    const char *et = row ? json_string_value(json_object_get(row, "entity_type_id")) : NULL;
    bool ok = false;
    if (et && k->name) {
        const char *want = type_id(r, k->name);
        ok = want && strcmp(want, et) == 0;
    } else if (et) {
        const char **ids;
        size_t n = type_ids(r, non_asset_types, N_NON_ASSET, &ids);
        ok = true;
        for (size_t i = 0; i < n; i++)
            ok = ok && strcmp(ids[i], et) != 0;
    }
    json_decref(row);
    if (!ok) {
        problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "%s not found", k->type), NULL);
        return;
    }
    ext_delete(r, ent, id);
}

static void h_assets_all(rq *r, const char *const *caps) { list_kind(r, &K_ASSET, NULL); }
static void h_asset(rq *r, const char *const *caps) { get_kind(r, &K_ASSET, caps[0]); }
static void h_asset_delete(rq *r, const char *const *caps) { delete_kind(r, &K_ASSET, caps[0]); }
static void h_shots_all(rq *r, const char *const *caps) { list_kind(r, &K_SHOT, NULL); }
static void h_shot(rq *r, const char *const *caps) { get_kind(r, &K_SHOT, caps[0]); }
static void h_shot_delete(rq *r, const char *const *caps) { delete_kind(r, &K_SHOT, caps[0]); }
static void h_sequences(rq *r, const char *const *caps) { list_kind(r, &K_SEQUENCE, NULL); }
static void h_sequence(rq *r, const char *const *caps) { get_kind(r, &K_SEQUENCE, caps[0]); }
static void h_episodes(rq *r, const char *const *caps) { list_kind(r, &K_EPISODE, NULL); }
static void h_episode(rq *r, const char *const *caps) { get_kind(r, &K_EPISODE, caps[0]); }

/* ---- per project ------------------------------------------------------- */

/* The project of caps[0], or NULL after 400/404. */
static const char *project_of(rq *r, const char *const *caps, const app_model **pm)
{
    *pm = model(r, "project");
    return *pm ? row_id(r, *pm, caps[0], "Project") : NULL;
}

static void project_kind(rq *r, const char *const *caps, const kind *k)
{
    const app_model *pm;
    const char *pid = project_of(r, caps, &pm);
    if (pid)
        list_kind(r, k, pid);
}

static void h_project_assets(rq *r, const char *const *caps) { project_kind(r, caps, &K_ASSET); }
static void h_project_shots(rq *r, const char *const *caps) { project_kind(r, caps, &K_SHOT); }
static void h_project_sequences(rq *r, const char *const *caps) { project_kind(r, caps, &K_SEQUENCE); }
static void h_project_episodes(rq *r, const char *const *caps) { project_kind(r, caps, &K_EPISODE); }

/* GET projects/<id>/asset-types/<tid>/assets */
static void h_project_type_assets(rq *r, const char *const *caps)
{
    const app_model *pm, *ent = model(r, "entity"), *et = model(r, "entity_type");
    const char *pid = ent && et ? project_of(r, caps, &pm) : NULL;
    const char *tid = pid ? row_id(r, et, caps[1], "Asset type") : NULL;
    if (!tid)
        return;
    fterm t[2] = {ext_eq(r, field(ent, "project_id"), pid), ext_eq(r, field(ent, "entity_type_id"), tid)};
    ext_list(r, ent, t, 2, "Asset");
}

/* Asset types an app may have, at most, for the per-type lookups below. */
#define ZOU_MAX_ASSET_TYPES 1000

/* GET projects/<id>/asset-types: the asset types the project's assets use.
 * One indexed probe per asset type (entity(project_id, entity_type_id)),
 * not a scan of the project's assets. */
static void h_project_asset_types(rq *r, const char *const *caps)
{
    const app_model *pm, *ent = model(r, "entity"), *et = model(r, "entity_type");
    const char *pid = ent && et ? project_of(r, caps, &pm) : NULL;
    if (!pid)
        return;
    fterm at;
    bool some = asset_type_term(r, &at);
    store_query q = {.terms = &at, .n_terms = some, .limit = ZOU_MAX_ASSET_TYPES};
    const char **types;
    size_t nt = 0;
    if (store_values(r->conn, et, &q, NULL, r->a, &types, &nt) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < nt; i++) {
        fterm t[2] = {ext_eq(r, field(ent, "project_id"), pid), ext_eq(r, field(ent, "entity_type_id"), types[i])};
        store_query one = {.terms = t, .n_terms = 2, .limit = 1};
        const char **ids;
        size_t n = 0;
        if (store_values(r->conn, ent, &one, NULL, r->a, &ids, &n) == RD_OK && n)
            types[k++] = types[i];
    }
    fterm ft = k ? ext_in(r, ext_id_field(r), types, k) : ext_eq(r, ext_id_field(r), no_id);
    ext_list(r, et, &ft, 1, "AssetType");
}

/* GET projects/<id>/tasks */
static void h_project_tasks(rq *r, const char *const *caps)
{
    const app_model *pm, *task = model(r, "task");
    const char *pid = task ? project_of(r, caps, &pm) : NULL;
    if (!pid)
        return;
    fterm t = ext_eq(r, field(task, "project_id"), pid);
    ext_list(r, task, &t, 1, NULL);
}

/* GET projects/open: projects whose status is Open (or Active). */
static void h_projects_open(rq *r, const char *const *caps)
{
    const app_model *pm = model(r, "project"), *ps = model(r, "project_status");
    if (!pm || !ps)
        return;
    static const char *const open_names[] = {"Open", "Active"};
    fterm st = ext_in(r, field(ps, "name"), open_names, 2);
    store_query q = {.terms = &st, .n_terms = 1, .limit = 16};
    const char **ids;
    size_t n = 0;
    store_values(r->conn, ps, &q, NULL, r->a, &ids, &n);
    fterm t = n ? ext_in(r, field(pm, "project_status_id"), ids, n) : ext_eq(r, field(pm, "project_status_id"), no_id);
    ext_list(r, pm, &t, 1, NULL);
}

/* ---- project settings and team: a ref_list of the project ------------- */

/* A project list (team, asset_types, task_types, task_statuses) and the
 * model its ids name, with the "type" its rows take and the body key POST
 * sends. */
typedef struct plist {
    const char *field;
    const char *model;
    const char *type; /* NULL: the model's */
    const char *key;  /* POST body key */
} plist;

static const plist L_TEAM = {"team", "person", NULL, "person_id"};
static const plist L_ASSET_TYPES = {"asset_types", "entity_type", "AssetType", "asset_type_id"};
static const plist L_TASK_TYPES = {"task_types", "task_type", NULL, "task_type_id"};
static const plist L_TASK_STATUS = {"task_statuses", "task_status", NULL, "task_status_id"};

/* GET: the rows the project's list names. */
static void list_plist(rq *r, const char *const *caps, const plist *l)
{
    const app_model *pm, *target = model(r, l->model);
    const char *pid = target ? project_of(r, caps, &pm) : NULL;
    const app_field *lf = pid ? field(pm, l->field) : NULL;
    if (!pid)
        return;
    if (!lf) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    /* rows whose id the project's link table lists */
    json_t *row = ext_row(r, pm, pid);
    json_t *arr = row ? json_object_get(row, lf->json_name) : NULL;
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    const char **ids = arena_alloc(r->a, (n ? n : 1) * sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s)
            ids[k++] = arena_strdup(r->a, s);
    }
    json_decref(row);
    fterm t = k ? ext_in(r, ext_id_field(r), ids, k) : ext_eq(r, ext_id_field(r), no_id);
    ext_list(r, target, &t, 1, l->type);
}

/* A PATCH step of m's row id that adds (or removes) one id of its list
 * field fname inside the write's transaction, so two writes racing on the
 * same row both count; NULL after answering. */
static store_write *list_step(rq *r, const app_model *m, const char *id, const char *fname, const char *item,
                              bool add, const char *type_name)
{
    const app_field *lf = field(m, fname);
    if (!lf || lf->type != FT_REF_LIST) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return NULL;
    }
    json_t *body = json_pack("{s:[s]}", lf->json_name, item);
    store_write *w = ext_step(r, m, STORE_PATCH, id, body, type_name);
    json_decref(body);
    if (w && w->vals.n_lists == 1)
        w->vals.lists[0].op = add ? REFLIST_ADD : REFLIST_REMOVE;
    return w;
}

/* The answer of a one-step list change: the status in w->ctx, 204 empty. */
static void list_changed(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        ext_error(r, w);
        return;
    }
    int status = *(const int *)w->ctx;
    if (status == 204)
        rq_respond(r, 204, "No Content", NULL, NULL);
    else
        ext_send(r, status, &w->steps[0]->body);
}

/* POST (add) or DELETE (remove) one id of the project's list. */
static void change_plist(rq *r, const char *pid, const app_model *pm, const plist *l, const char *id, bool add)
{
    const app_field *lf = field(pm, l->field);
    if (!add) { /* Zou answers 404 for an id the list does not have */
        json_t *row = lf ? ext_row(r, pm, pid) : NULL;
        json_t *arr = row ? json_object_get(row, lf->json_name) : NULL;
        bool found = false;
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) found = found || (json_string_value(v) && strcmp(json_string_value(v), id) == 0);
        json_decref(row);
        if (!found) {
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "%s is not in the project's %s", id, l->field), NULL);
            return;
        }
    }
    if (r->app->auth && !authn_allowed(r, pm, true))
        return;
    store_write *step = list_step(r, pm, pid, l->field, id, add, NULL);
    if (!step)
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, sizeof *w->steps);
    w->steps[0] = step;
    w->n_steps = 1;
    int *st = arena_alloc(r->a, sizeof *st);
    *st = add ? 201 : 204;
    w->ctx = st;
    ext_submit(r, w, list_changed);
}

static void add_plist(rq *r, const char *const *caps, const plist *l)
{
    const app_model *pm, *target = model(r, l->model);
    const char *pid = target ? project_of(r, caps, &pm) : NULL;
    json_t *body = pid ? ext_body(r) : NULL;
    if (!body)
        return;
    const char *given = json_string_value(json_object_get(body, l->key));
    char *cap = given ? arena_strdup(r->a, given) : NULL;
    json_decref(body);
    if (!cap) {
        problem_send(r, RD_BAD_REQUEST, arena_printf(r->a, "%s is required.", l->key), NULL);
        return;
    }
    const char *id = row_id(r, target, cap, l->model);
    if (id)
        change_plist(r, pid, pm, l, id, true);
}

static void remove_plist(rq *r, const char *const *caps, const plist *l)
{
    const app_model *pm, *target = model(r, l->model);
    const char *pid = target ? project_of(r, caps, &pm) : NULL;
    const char *id = pid ? ext_id(r, caps[1]) : NULL;
    if (id)
        change_plist(r, pid, pm, l, id, false);
}

static void h_team(rq *r, const char *const *caps) { list_plist(r, caps, &L_TEAM); }
static void h_team_add(rq *r, const char *const *caps) { add_plist(r, caps, &L_TEAM); }
static void h_team_remove(rq *r, const char *const *caps) { remove_plist(r, caps, &L_TEAM); }
static void h_set_asset_types(rq *r, const char *const *caps) { list_plist(r, caps, &L_ASSET_TYPES); }
static void h_set_asset_types_add(rq *r, const char *const *caps) { add_plist(r, caps, &L_ASSET_TYPES); }
static void h_set_asset_types_rm(rq *r, const char *const *caps) { remove_plist(r, caps, &L_ASSET_TYPES); }
static void h_set_task_types(rq *r, const char *const *caps) { list_plist(r, caps, &L_TASK_TYPES); }
static void h_set_task_types_add(rq *r, const char *const *caps) { add_plist(r, caps, &L_TASK_TYPES); }
static void h_set_task_types_rm(rq *r, const char *const *caps) { remove_plist(r, caps, &L_TASK_TYPES); }
static void h_set_task_status(rq *r, const char *const *caps) { list_plist(r, caps, &L_TASK_STATUS); }
static void h_set_task_status_add(rq *r, const char *const *caps) { add_plist(r, caps, &L_TASK_STATUS); }
static void h_set_task_status_rm(rq *r, const char *const *caps) { remove_plist(r, caps, &L_TASK_STATUS); }
/* Zou's projects/<id>/task-types is the settings list too. */
static void h_project_task_types(rq *r, const char *const *caps) { list_plist(r, caps, &L_TASK_TYPES); }

/* ---- creating typed entities ------------------------------------------ */

/* Body keys each kind takes (Zou's resources read only these), and where a
 * link key goes. Other keys are ignored, as Zou ignores them. */
typedef struct newkind {
    const kind *k;
    const char *const *keys; /* copied as they are */
    size_t n_keys;
    const char *link_key;   /* body key of the link, or NULL */
    const char *link_field; /* entity field it sets */
    const char *link_kind;  /* what the link must be, in the same project */
    bool reuse;             /* an existing row of the same name (and link) is answered instead */
} newkind;

static const char *const asset_keys[] = {"name", "description", "data", "is_shared"};
static const char *const episode_keys[] = {"name", "description", "data", "status"};
static const char *const shot_keys[] = {"name", "description", "data", "nb_frames"};

/* Zou's create_episode, create_sequence and create_shot return the row of
 * that name (under that parent) when there is one; create_asset always
 * creates. */
static const newkind NEW_ASSET = {&K_ASSET, asset_keys, 4, "episode_id", "source_id", "Episode", false};
static const newkind NEW_EPISODE = {&K_EPISODE, episode_keys, 4, NULL, NULL, NULL, true};
static const newkind NEW_SEQUENCE = {&K_SEQUENCE, episode_keys, 3, "episode_id", "parent_id", "Episode", true};
static const newkind NEW_SHOT = {&K_SHOT, shot_keys, 4, "sequence_id", "parent_id", "Sequence", true};

/* Kept across the lazy creation of an entity type: the entity's body as
 * JSON text in the request arena (no heap object outlives a dropped
 * request). */
typedef struct pending {
    const char *body;
    const newkind *nk;
} pending;

/* Answer 201 with the entity of nk's kind named as in body (under the same
 * link) when there is one. */
static bool reuse_existing(rq *r, const app_model *ent, const newkind *nk, const json_t *body, const char *tid)
{
    const char *name = str_of(body, "name");
    if (!nk->reuse || !name)
        return false;
    fterm t[4];
    size_t n = 0;
    t[n++] = ext_eq(r, field(ent, "entity_type_id"), tid);
    t[n++] = ext_eq(r, field(ent, "project_id"), str_of(body, "project_id"));
    t[n++] = ext_eq(r, field(ent, "name"), name);
    if (nk->link_field) {
        const char *link = str_of(body, nk->link_field);
        if (link) {
            t[n++] = ext_eq(r, field(ent, nk->link_field), link);
        } else {
            sqlval *v = arena_alloc(r->a, sizeof *v);
            *v = (sqlval){.kind = SV_INT, .i = 1};
            t[n++] = (fterm){.field = field(ent, nk->link_field), .op = FOP_NULL, .vals = v, .n = 1};
        }
    }
    store_query q = {.terms = t, .n_terms = n, .limit = 1, .type_name = nk->k->type};
    buf *b = ext_buf(r);
    jw j;
    jw_init(&j, b);
    store_page pg;
    if (store_list(r->conn, ent, &q, r->a, &j, &pg) != RD_OK || pg.returned == 0 || !jw_ok(&j))
        return false;
    buf *one = ext_buf(r);
    buf_append(one, b->data + 1, b->len - 2); /* the row, without the list's brackets */
    ext_send(r, 201, one);
    return true;
}

static void create_typed(rq *r, const char *body_text, const char *type_id_, const newkind *nk)
{
    const app_model *ent = model(r, "entity");
    const char *msg = NULL;
    json_t *body = ent ? jin_parse(body_text, strlen(body_text), r->a, &msg) : NULL;
    if (!body) {
        if (ent)
            problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    if (!reuse_existing(r, ent, nk, body, type_id_)) {
        json_object_set_new(body, "entity_type_id", json_string(type_id_));
        ext_create(r, ent, body, nk->k->type);
    }
    json_decref(body);
}

/* After the entity type was created (or found taken: someone else made it
 * meanwhile), look it up and create the entity. */
static void type_made(rq *r, store_write *w, void *ctx)
{
    const pending *p = ctx;
    if (w->err != RD_OK && w->err != RD_CONFLICT) {
        problem_send(r, w->err, w->detail, NULL);
        return;
    }
    const char *tid = type_id(r, p->nk->k->name);
    if (!tid) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    create_typed(r, p->body, tid, p->nk);
}

/* Whether entity lid is of kind `what` (an entity type name) in project pid. */
static bool link_ok(rq *r, const app_model *ent, const char *lid, const char *pid, const char *what)
{
    json_t *row = ext_row(r, ent, lid);
    const char *want = what ? type_id(r, what) : NULL;
    bool yes = row && want && str_of(row, "project_id") && strcmp(str_of(row, "project_id"), pid) == 0 &&
               str_of(row, "entity_type_id") && strcmp(str_of(row, "entity_type_id"), want) == 0;
    json_decref(row);
    return yes;
}

/* POST projects/<id>/{episodes,sequences,shots} and
 * projects/<id>/asset-types/<tid>/assets/new. */
static void new_entity(rq *r, const char *const *caps, const newkind *nk)
{
    const app_model *pm, *ent = model(r, "entity"), *et = model(r, "entity_type");
    const char *pid = ent && et ? project_of(r, caps, &pm) : NULL;
    if (!pid)
        return;
    const char *tid = NULL;
    if (!nk->k->name) { /* an asset: its type is in the path */
        tid = row_id(r, et, caps[1], "Asset type");
        if (!tid)
            return;
    }
    json_t *in = ext_body(r);
    if (!in)
        return;
    json_t *body = json_object();
    for (size_t i = 0; i < nk->n_keys; i++) {
        json_t *v = json_object_get(in, nk->keys[i]);
        if (v)
            json_object_set(body, nk->keys[i], v);
    }
    json_object_set_new(body, "project_id", json_string(pid));
    json_t *link = nk->link_key ? json_object_get(in, nk->link_key) : NULL;
    const char *bad = NULL;
    if (link && !json_is_null(link)) {
        const char *lid = json_is_string(link) ? ext_id(r, json_string_value(link)) : NULL;
        if (!json_is_string(link)) {
            bad = arena_printf(r->a, "%s must be an id.", nk->link_key);
        } else if (!lid) {
            json_decref(in);
            json_decref(body);
            return; /* answered: Malformed ID. */
        } else if (!link_ok(r, ent, lid, pid, nk->link_kind)) {
            json_decref(in);
            json_decref(body);
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "%s not found", nk->link_kind), NULL);
            return;
        } else {
            json_object_set_new(body, nk->link_field, json_string(lid));
        }
    }
    json_decref(in);
    if (bad) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, bad, NULL);
        return;
    }
    if (r->user_id)
        json_object_set_new(body, "created_by", json_string(r->user_id));
    if (tid) {
        json_object_set_new(body, "entity_type_id", json_string(tid));
        ext_create(r, ent, body, nk->k->type);
        json_decref(body);
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *body_text = arena_strdup(r->a, text ? text : "{}");
    free(text);
    tid = type_id(r, nk->k->name);
    if (tid) {
        create_typed(r, body_text, tid, nk);
        return;
    }
    /* Zou creates Shot, Sequence and Episode on first use. */
    pending *p = arena_alloc(r->a, sizeof *p);
    *p = (pending){.body = body_text, .nk = nk};
    json_t *tb = json_object();
    json_object_set_new(tb, "name", json_string(nk->k->name));
    ext_create_then(r, et, tb, type_made, p);
    json_decref(tb);
}

static void h_new_asset(rq *r, const char *const *caps) { new_entity(r, caps, &NEW_ASSET); }
static void h_new_episode(rq *r, const char *const *caps) { new_entity(r, caps, &NEW_EPISODE); }
static void h_new_sequence(rq *r, const char *const *caps) { new_entity(r, caps, &NEW_SEQUENCE); }
static void h_new_shot(rq *r, const char *const *caps) { new_entity(r, caps, &NEW_SHOT); }


/* ---- tasks ---------------------------------------------------------------- */

/* GET assets/<id>/tasks, shots/<id>/tasks, entities/<id>/tasks. */
static void h_entity_tasks(rq *r, const char *const *caps)
{
    const app_model *ent = model(r, "entity"), *task = model(r, "task");
    const char *id = ent && task ? row_id(r, ent, caps[0], "Entity") : NULL;
    if (!id)
        return;
    fterm t = ext_eq(r, field(task, "entity_id"), id);
    ext_list(r, task, &t, 1, NULL);
}

/* The id of the default task status (is_default), or NULL. */
static const char *default_status(rq *r)
{
    const app_model *ts = app_model_by_name(r->app, "task_status");
    const app_field *f = ts ? field(ts, "is_default") : NULL;
    if (!f)
        return NULL;
    sqlval *v = arena_alloc(r->a, sizeof *v);
    *v = (sqlval){.kind = SV_INT, .i = 1};
    fterm t = {.field = f, .op = FOP_EQ, .vals = v, .n = 1};
    store_query q = {.terms = &t, .n_terms = 1, .limit = 1};
    const char **ids;
    size_t n = 0;
    return store_values(r->conn, ts, &q, NULL, r->a, &ids, &n) == RD_OK && n ? ids[0] : NULL;
}

/* What an entity is for a task type's for_entity: its entity type's name
 * when that is one of the non-asset kinds, else "Asset". */
static const char *entity_kind(rq *r, const char *entity_type_id)
{
    const app_model *et = app_model_by_name(r->app, "entity_type");
    json_t *row = et && entity_type_id ? ext_row(r, et, entity_type_id) : NULL;
    const char *name = row ? json_string_value(json_object_get(row, "name")) : NULL;
    const char *what = "Asset";
    for (size_t i = 0; name && i < N_NON_ASSET; i++)
        if (strcmp(name, non_asset_types[i]) == 0)
            what = non_asset_types[i];
    json_decref(row);
    return what;
}

/* Whether a task (name, project, type, entity) exists already. */
static bool task_exists(rq *r, const app_model *task, const char *name, const char *project, const char *type,
                        const char *entity)
{
    fterm t[4] = {ext_eq(r, field(task, "name"), name), ext_eq(r, field(task, "task_type_id"), type),
                  ext_eq(r, field(task, "entity_id"), entity)};
    if (project)
        t[3] = ext_eq(r, field(task, "project_id"), project);
    store_query q = {.terms = t, .n_terms = project ? 4 : 3, .limit = 1};
    const char **ids;
    size_t n = 0;
    return store_values(r->conn, task, &q, NULL, r->a, &ids, &n) == RD_OK && n > 0;
}


/* POST data/tasks with Zou's rules: name defaults to "main", the status to
 * the default one; the task type must be for the entity's kind; a task
 * that exists already is 400 "Task already exists.". */
static void h_new_task(rq *r, const char *const *caps)
{
    const app_model *task = model(r, "task"), *ent = model(r, "entity"), *tt = model(r, "task_type");
    json_t *body = task && ent && tt ? ext_body(r) : NULL;
    if (!body)
        return;
    if (!json_object_get(body, "name") || json_is_null(json_object_get(body, "name")))
        json_object_set_new(body, "name", json_string("main"));
    if (!json_object_get(body, "task_status_id") || json_is_null(json_object_get(body, "task_status_id"))) {
        const char *st = default_status(r);
        if (st)
            json_object_set_new(body, "task_status_id", json_string(st));
    }
    const char *name = str_of(body, "name"), *eid = str_of(body, "entity_id"), *tid = str_of(body, "task_type_id");
    const char *e_id = NULL, *t_id = NULL, *why = NULL;
    rd_err e = RD_BAD_REQUEST;
    if (!eid || !tid) {
        why = "task_type_id and entity_id are required.";
    } else if (!(e_id = ext_id(r, eid)) || !(t_id = ext_id(r, tid))) {
        json_decref(body);
        return; /* answered: Malformed ID. */
    }
    json_t *erow = e_id ? ext_row(r, ent, e_id) : NULL;
    json_t *trow = t_id ? ext_row(r, tt, t_id) : NULL;
    if (!why && (!erow || !trow)) {
        e = RD_NOT_FOUND;
        why = !trow ? "Task type not found" : "Entity not found";
    } else if (!why) {
        const char *what = entity_kind(r, str_of(erow, "entity_type_id"));
        const char *for_entity = str_of(trow, "for_entity");
        if (for_entity && strcmp(for_entity, what) != 0)
            why = "Task type of the task does not match entity type.";
        else if (name && task_exists(r, task, name, NULL, t_id, e_id))
            why = "Task already exists.";
        if (!str_of(body, "project_id")) /* gazu sends it; else the entity's */
            json_object_set(body, "project_id", json_object_get(erow, "project_id"));
    }
    json_decref(erow);
    json_decref(trow);
    if (why)
        problem_send(r, e, why, NULL);
    else
        ext_create(r, task, body, NULL);
    json_decref(body);
}

/* Answer a multi-step write with its steps' rows as a list. */
static void steps_list(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        ext_error(r, w);
        return;
    }
    buf *b = ext_buf(r);
    jw j;
    jw_init(&j, b);
    jw_arr_begin(&j);
    for (size_t i = 0; i < w->n_steps; i++)
        if (w->steps[i]->op != STORE_DELETE && w->steps[i]->ctx == NULL)
            jw_raw(&j, w->steps[i]->body.data, w->steps[i]->body.len);
    jw_arr_end(&j);
    ext_send(r, *(const int *)w->ctx, b);
}

/* A list of at most cap ids from body[key], canonical; NULL after 400. */
static const char **id_list(rq *r, const json_t *body, const char *key, size_t cap, size_t *n)
{
    const json_t *arr = json_object_get(body, key);
    if (!json_is_array(arr) || json_array_size(arr) > cap) {
        problem_send(r, RD_BAD_REQUEST, arena_printf(r->a, "%s must be a list of at most %zu ids.", key, cap),
                     NULL);
        return NULL;
    }
    size_t k = json_array_size(arr);
    const char **ids = arena_alloc(r->a, (k ? k : 1) * sizeof *ids);
    for (size_t i = 0; i < k; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        char *out = arena_alloc(r->a, TYPE_UUID_LEN + 1);
        if (!s || !type_uuid_parse(s, strlen(s), out)) {
            problem_send(r, RD_BAD_REQUEST, "Malformed ID.", NULL);
            return NULL;
        }
        ids[i] = out;
    }
    *n = k;
    return ids;
}

/* Ids a MULTI job may touch at once: a bound on one request's work. */
#define ZOU_MAX_IDS 200

/* POST entities/<id>/tasks {task_type_ids}: a "main" task of each type the
 * entity does not have yet, in one transaction; 201 with the new tasks. */
static void h_create_entity_tasks(rq *r, const char *const *caps)
{
    const app_model *ent = model(r, "entity"), *task = model(r, "task"), *tt = model(r, "task_type");
    const char *eid = ent && task && tt ? row_id(r, ent, caps[0], "Entity") : NULL;
    json_t *body = eid ? ext_body(r) : NULL;
    if (!body)
        return;
    size_t n = 0;
    const char **types = id_list(r, body, "task_type_ids", ZOU_MAX_IDS, &n);
    json_decref(body);
    if (!types)
        return;
    json_t *erow = ext_row(r, ent, eid);
    const char *project = erow ? arena_strdup(r->a, str_of(erow, "project_id")) : NULL;
    json_decref(erow);
    const char *status = default_status(r);
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, (n ? n : 1) * sizeof *w->steps);
    for (size_t i = 0; i < n; i++) {
        if (!ext_exists(r, tt, types[i], "Task type"))
            return;
        if (task_exists(r, task, "main", project, types[i], eid))
            continue;
        json_t *tb = json_pack("{s:s, s:s, s:s, s:s}", "name", "main", "entity_id", eid, "task_type_id", types[i],
                               "project_id", project ? project : "");
        if (status)
            json_object_set_new(tb, "task_status_id", json_string(status));
        store_write *step = ext_step(r, task, STORE_CREATE, NULL, tb, NULL);
        json_decref(tb);
        if (!step)
            return;
        w->steps[w->n_steps++] = step;
    }
    int *st = arena_alloc(r->a, sizeof *st);
    *st = 201;
    w->ctx = st;
    ext_submit(r, w, steps_list);
}

/* Append the row of m with id (or null) to b; false when it does not fit. */
static bool raw_row(rq *r, const app_model *m, const char *id, buf *b)
{
    jw j;
    jw_init(&j, b);
    if (!m || !id || store_get(r->conn, m, id, NULL, &j) != RD_OK)
        jw_null(&j);
    return jw_ok(&j);
}

/* GET tasks/<id>/full: the task with its entity, entity type, project,
 * status, type, assignees (persons), assigner, for a shot its sequence and
 * episode, and whether the caller follows it. */
static void h_task_full(rq *r, const char *const *caps)
{
    const app_model *task = model(r, "task"), *ent = model(r, "entity"), *et = model(r, "entity_type");
    const app_model *pm = model(r, "project"), *ts = model(r, "task_status"), *tt = model(r, "task_type");
    const app_model *person = model(r, "person");
    if (!task || !ent || !et || !pm || !ts || !tt || !person)
        return;
    const char *id = ext_id(r, caps[0]);
    if (!id)
        return;
    json_t *row = ext_row(r, task, id);
    if (!row) {
        problem_send(r, RD_NOT_FOUND, "Task not found", NULL);
        return;
    }
    json_t *erow = str_of(row, "entity_id") ? ext_row(r, ent, str_of(row, "entity_id")) : NULL;
    const char *parent = erow ? str_of(erow, "parent_id") : NULL;
    json_t *prow = parent ? ext_row(r, ent, parent) : NULL;
    buf *b = ext_buf(r);
    bool ok = raw_row(r, task, id, b) && b->len > 2;
    if (ok)
        b->len--; /* reopen the task's object: its keys, then the embedded rows */
    static const struct {
        const char *key, *ref;
        size_t model; /* index into ms */
    } embeds[] = {
        {"entity", "entity_id", 0},       {"project", "project_id", 1},    {"task_status", "task_status_id", 2},
        {"task_type", "task_type_id", 3}, {"assigner", "assigner_id", 4},
    };
    const app_model *ms[] = {ent, pm, ts, tt, person};
    for (size_t i = 0; ok && i < sizeof embeds / sizeof embeds[0]; i++) {
        buf_printf(b, ",\"%s\":", embeds[i].key);
        ok = raw_row(r, ms[embeds[i].model], str_of(row, embeds[i].ref), b);
    }
    buf_puts(b, ",\"entity_type\":");
    ok = ok && raw_row(r, et, erow ? str_of(erow, "entity_type_id") : NULL, b);
    buf_puts(b, ",\"persons\":[");
    json_t *as = json_object_get(row, "assignees");
    size_t i;
    json_t *v;
    json_array_foreach(as, i, v) {
        if (i)
            buf_putc(b, ',');
        ok = ok && raw_row(r, person, json_string_value(v), b);
    }
    buf_putc(b, ']');
    if (prow) { /* a shot: its sequence, and the sequence's episode */
        buf_puts(b, ",\"sequence\":");
        ok = ok && raw_row(r, ent, parent, b);
        const char *ep = str_of(prow, "parent_id");
        if (ep) {
            buf_puts(b, ",\"episode\":");
            ok = ok && raw_row(r, ent, ep, b);
        }
    }
    bool subscribed = false;
    const app_model *sub = app_model_by_name(r->app, "subscription");
    if (sub && r->user_id && field(sub, "person_id") && field(sub, "task_id")) {
        fterm t[2] = {ext_eq(r, field(sub, "person_id"), r->user_id), ext_eq(r, field(sub, "task_id"), id)};
        store_query q = {.terms = t, .n_terms = 2, .limit = 1};
        const char **ids;
        size_t n = 0;
        subscribed = store_values(r->conn, sub, &q, NULL, r->a, &ids, &n) == RD_OK && n;
    }
    ok = buf_puts(b, subscribed ? ",\"is_subscribed\":true}" : ",\"is_subscribed\":false}") && ok;
    json_decref(row);
    json_decref(erow);
    json_decref(prow);
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* ---- actions ------------------------------------------------------------- */

/* The comment's answer: the comment with its status and author embedded. */
static void commented(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        ext_error(r, w);
        return;
    }
    const store_write *c = w->steps[0];
    const char *msg = NULL;
    json_t *row = jin_parse(c->body.data, c->body.len, r->a, &msg);
    buf *b = ext_buf(r);
    bool ok = row && buf_append(b, c->body.data, c->body.len - 1);
    buf_puts(b, ",\"task_status\":");
    ok = ok && raw_row(r, app_model_by_name(r->app, "task_status"), str_of(row, "task_status_id"), b);
    buf_puts(b, ",\"person\":");
    ok = ok && raw_row(r, app_model_by_name(r->app, "person"), str_of(row, "person_id"), b);
    ok = buf_putc(b, '}') && ok;
    json_decref(row);
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 201, b);
}

/* POST actions/tasks/<id>/comment {task_status_id, comment, checklist,
 * links, for_client, person_id}: the comment and the task's new status in
 * one transaction. The author is person_id, else the caller. */
static void h_comment(rq *r, const char *const *caps)
{
    const app_model *task = model(r, "task"), *comment = model(r, "comment"), *ts = model(r, "task_status");
    const app_model *person = model(r, "person");
    const char *tid = task && comment && ts && person ? row_id(r, task, caps[0], "Task") : NULL;
    json_t *in = tid ? ext_body(r) : NULL;
    if (!in)
        return;
    const char *status = str_of(in, "task_status_id");
    const char *author = str_of(in, "person_id") ? str_of(in, "person_id") : r->user_id;
    const char *why = !status ? "task_status_id is required." : !author ? "person_id is required." : NULL;
    const char *sid = NULL, *pid = NULL;
    if (!why) {
        sid = ext_id(r, status);
        pid = sid ? ext_id(r, author) : NULL;
        if (!pid || !ext_exists(r, ts, sid, "Task status") || !ext_exists(r, person, pid, "Person")) {
            json_decref(in);
            return;
        }
    }
    if (why) {
        json_decref(in);
        problem_send(r, RD_BAD_REQUEST, why, NULL);
        return;
    }
    json_t *cb = json_pack("{s:s, s:s, s:s, s:s}", "object_id", tid, "object_type", "Task", "task_status_id", sid,
                           "person_id", pid);
    static const char *const copied[] = {"checklist", "links", "for_client"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if (json_object_get(in, copied[i]))
            json_object_set(cb, copied[i], json_object_get(in, copied[i]));
    if (json_object_get(in, "comment"))
        json_object_set(cb, "text", json_object_get(in, "comment"));
    json_decref(in);
    char now[DT_DATETIME_LEN + 1];
    dt_now(now);
    char wire[40]; /* the app's own date style, as a client would send it */
    size_t nl = dt_format_datetime(now, strlen(now), r->app->dates, wire);
    json_t *tb = json_pack("{s:s, s:s%}", "task_status_id", sid, "last_comment_date", wire, nl);
    /* What a status change does to the task (Zou's _manage_status_change):
     * a retake counts, the first wip starts it, done stamps it. */
    json_t *trow = ext_row(r, task, tid), *srow = ext_row(r, ts, sid);
    if (trow && srow && strcmp(str_of(trow, "task_status_id") ? str_of(trow, "task_status_id") : "", sid) != 0) {
        if (json_is_true(json_object_get(srow, "is_retake")))
            json_object_set_new(tb, "retake_count",
                                json_integer(json_integer_value(json_object_get(trow, "retake_count")) + 1));
        if (json_is_true(json_object_get(srow, "is_wip")) && json_is_null(json_object_get(trow, "real_start_date")))
            json_object_set_new(tb, "real_start_date", json_stringn(wire, nl));
        if (json_is_true(json_object_get(srow, "is_done")))
            json_object_set_new(tb, "done_date", json_stringn(wire, nl));
        if (json_is_true(json_object_get(srow, "is_feedback_request")))
            json_object_set_new(tb, "end_date", json_stringn(wire, nl));
    }
    json_decref(trow);
    json_decref(srow);
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, 2 * sizeof *w->steps);
    w->steps[0] = ext_step(r, comment, STORE_CREATE, NULL, cb, NULL);
    w->steps[1] = w->steps[0] ? ext_step(r, task, STORE_PATCH, tid, tb, NULL) : NULL;
    json_decref(cb);
    json_decref(tb);
    if (!w->steps[1])
        return;
    w->n_steps = 2;
    ext_submit(r, w, commented);
}

/* PUT actions/persons/<id>/assign {task_ids}: the person joins each task's
 * assignees and each task's project team, in one transaction; 200 with the
 * tasks. */
static void h_assign(rq *r, const char *const *caps)
{
    const app_model *task = model(r, "task"), *person = model(r, "person"), *pm = model(r, "project");
    const char *pid = task && person && pm ? row_id(r, person, caps[0], "Person") : NULL;
    json_t *body = pid ? ext_body(r) : NULL;
    if (!body)
        return;
    size_t n = 0;
    const char **ids = id_list(r, body, "task_ids", ZOU_MAX_IDS, &n);
    json_decref(body);
    if (!ids)
        return;
    if (r->app->auth && (!authn_allowed(r, task, true) || !authn_allowed(r, pm, true)))
        return;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_MULTI;
    w->steps = arena_alloc(r->a, (2 * n + 1) * sizeof *w->steps);
    const char **projects = arena_alloc(r->a, (n + 1) * sizeof *projects);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *row = ext_row(r, task, ids[i]);
        if (!row) {
            problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "Task %s not found", ids[i]), NULL);
            return;
        }
        const char *proj = str_of(row, "project_id");
        bool seen = !proj;
        for (size_t p = 0; p < np && !seen; p++)
            seen = strcmp(projects[p], proj) == 0;
        if (!seen)
            projects[np++] = arena_strdup(r->a, proj);
        json_decref(row);
        store_write *step = list_step(r, task, ids[i], "assignees", pid, true, NULL);
        if (!step)
            return;
        w->steps[w->n_steps++] = step;
    }
    /* the team of every project touched gets the person too */
    for (size_t p = 0; p < np; p++) {
        store_write *step = list_step(r, pm, projects[p], "team", pid, true, NULL);
        if (!step)
            return;
        step->ctx = step; /* not listed in the answer */
        w->steps[w->n_steps++] = step;
    }
    int *st = arena_alloc(r->a, sizeof *st);
    *st = 200;
    w->ctx = st;
    ext_submit(r, w, steps_list);
}

/* POST actions/tasks/<tid>/time-spents/<date>/persons/<pid>[/add]
 * {duration}: set (or add to) the person's time on the task that day. */
static void time_spent(rq *r, const char *const *caps, bool add)
{
    const app_model *task = model(r, "task"), *person = model(r, "person"), *tsm = model(r, "time_spent");
    const char *tid = task && person && tsm ? row_id(r, task, caps[0], "Task") : NULL;
    const char *pid = tid ? row_id(r, person, caps[2], "Person") : NULL;
    if (!pid)
        return;
    char day[DT_DATE_LEN + 1];
    if (strlen(caps[1]) != DT_DATE_LEN || !dt_parse_date(caps[1], DT_DATE_LEN, DS_ISO8601, day)) {
        problem_send(r, RD_BAD_REQUEST, "Wrong date format.", NULL);
        return;
    }
    json_t *body = ext_body(r);
    if (!body)
        return;
    json_t *d = json_object_get(body, "duration");
    double dur = json_is_number(d) ? json_number_value(d) : -1;
    json_decref(body);
    if (!(dur > 0) || dur > 1e9) {
        problem_send(r, RD_BAD_REQUEST, "duration must be a positive number.", NULL);
        return;
    }
    fterm t[3] = {ext_eq(r, field(tsm, "task_id"), tid), ext_eq(r, field(tsm, "person_id"), pid),
                  ext_eq(r, field(tsm, "date"), day)};
    store_query q = {.terms = t, .n_terms = 3, .limit = 1};
    const char **ids;
    size_t n = 0;
    if (store_values(r->conn, tsm, &q, NULL, r->a, &ids, &n) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    if (n) {
        json_t *row = ext_row(r, tsm, ids[0]);
        double was = row ? json_number_value(json_object_get(row, "duration")) : 0;
        json_decref(row);
        json_t *pb = json_pack("{s:f}", "duration", add ? was + dur : dur);
        ext_update(r, tsm, ids[0], pb, 201, NULL);
        json_decref(pb);
        return;
    }
    json_t *cb = json_pack("{s:s, s:s, s:s, s:f}", "task_id", tid, "person_id", pid, "date", day, "duration", dur);
    ext_create(r, tsm, cb, NULL);
    json_decref(cb);
}

static void h_time_set(rq *r, const char *const *caps) { time_spent(r, caps, false); }
static void h_time_add(rq *r, const char *const *caps) { time_spent(r, caps, true); }

/* ---- the signed-in user ------------------------------------------------ */

/* The caller's person id, or NULL after 401 (an app without sign-in has no
 * user). */
static const char *me(rq *r)
{
    if (!r->user_id)
        problem_send(r, RD_UNAUTHORIZED, "These routes need a signed-in user.", NULL);
    return r->user_id;
}

/* Tasks assigned to the caller whose status is (done) or is not (to do)
 * a done one. */
static void user_tasks(rq *r, bool done)
{
    const app_model *task = model(r, "task"), *ts = model(r, "task_status");
    const char *uid = task && ts ? me(r) : NULL;
    if (!uid)
        return;
    sqlval *one = arena_alloc(r->a, sizeof *one);
    *one = (sqlval){.kind = SV_INT, .i = 1};
    fterm dt = {.field = field(ts, "is_done"), .op = FOP_EQ, .vals = one, .n = 1};
    store_query q = {.terms = &dt, .n_terms = 1, .limit = 1000};
    const char **ids;
    size_t n = 0;
    store_values(r->conn, ts, &q, NULL, r->a, &ids, &n);
    fterm t[2] = {ext_eq(r, field(task, "assignees"), uid)};
    size_t nt = 1;
    if (n) {
        t[nt] = ext_in(r, field(task, "task_status_id"), ids, n);
        t[nt++].op = done ? FOP_IN : FOP_NIN;
    } else if (done) {
        t[nt++] = ext_eq(r, field(task, "task_status_id"), no_id);
    }
    ext_list(r, task, t, nt, NULL);
}

static void h_user_tasks(rq *r, const char *const *caps) { user_tasks(r, false); }
static void h_user_done_tasks(rq *r, const char *const *caps) { user_tasks(r, true); }

/* The ids of the open project statuses (Open, Active). */
static size_t open_status_ids(rq *r, const app_model *ps, const char ***ids)
{
    static const char *const open_names[] = {"Open", "Active"};
    fterm st = ext_in(r, field(ps, "name"), open_names, 2);
    store_query q = {.terms = &st, .n_terms = 1, .limit = 16};
    size_t n = 0;
    return store_values(r->conn, ps, &q, NULL, r->a, ids, &n) == RD_OK ? n : 0;
}

/* GET user/projects/open: open projects whose team has the caller. */
static void h_user_projects_open(rq *r, const char *const *caps)
{
    const app_model *pm = model(r, "project"), *ps = model(r, "project_status");
    const char *uid = pm && ps ? me(r) : NULL;
    if (!uid)
        return;
    const char **ids;
    size_t n = open_status_ids(r, ps, &ids);
    fterm t[2] = {n ? ext_in(r, field(pm, "project_status_id"), ids, n) : ext_eq(r, field(pm, "project_status_id"), no_id),
                  ext_eq(r, field(pm, "team"), uid)};
    ext_list(r, pm, t, 2, NULL);
}

/* One list of the context: every row of m matching terms, typed type. */
static bool context_list(rq *r, buf *b, const char *key, const app_model *m, const fterm *t, size_t n,
                         const char *type)
{
    buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", key);
    if (!m)
        return buf_puts(b, "[]");
    store_query q = {.terms = t, .n_terms = n, .limit = 5000, .type_name = type};
    jw j;
    jw_init(&j, b);
    store_page pg;
    return store_list(r->conn, m, &q, r->a, &j, &pg) == RD_OK && jw_ok(&j);
}

/* GET user/context: what Kitsu loads at start, for the caller. */
static void h_user_context(rq *r, const char *const *caps)
{
    const app_model *pm = model(r, "project"), *ps = model(r, "project_status"), *et = model(r, "entity_type");
    const char *uid = pm && ps && et ? me(r) : NULL;
    if (!uid)
        return;
    const char **ids;
    size_t n = open_status_ids(r, ps, &ids);
    fterm pt[2] = {n ? ext_in(r, field(pm, "project_status_id"), ids, n) : ext_eq(r, field(pm, "project_status_id"), no_id),
                   ext_eq(r, field(pm, "team"), uid)};
    fterm at;
    bool some = asset_type_term(r, &at);
    buf *b = ext_buf(r);
    buf_putc(b, '{');
    bool ok = context_list(r, b, "projects", pm, pt, 2, NULL) &&
              context_list(r, b, "asset_types", et, some ? &at : NULL, some, "AssetType") &&
              context_list(r, b, "task_types", app_model_by_name(r->app, "task_type"), NULL, 0, NULL) &&
              context_list(r, b, "task_status", app_model_by_name(r->app, "task_status"), NULL, 0, NULL) &&
              context_list(r, b, "project_status", ps, NULL, 0, NULL) &&
              context_list(r, b, "departments", app_model_by_name(r->app, "department"), NULL, 0, NULL) &&
              context_list(r, b, "studios", app_model_by_name(r->app, "studio"), NULL, 0, NULL) &&
              context_list(r, b, "persons", app_model_by_name(r->app, "person"), NULL, 0, NULL);
    ok = buf_putc(b, '}') && ok;
    if (!ok) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* ---- edits ---------------------------------------------------------------- */

/* Versions an answer lists at most (the newest). */
#define ZOU_MAX_VERSIONS 1000

/* GET data/edits/<id>/versions: Zou's EntityVersion rows of an edit, newest
 * first, from the entity model's kept history: each write of the edit is a
 * version with its name and data, and the writer as person_id. */
static void h_edit_versions(rq *r, const char *const *caps)
{
    const app_model *ent = model(r, "entity");
    const char *id = ent ? ext_id(r, caps[0]) : NULL;
    if (!id)
        return;
    json_t *row = ext_row(r, ent, id);
    const char *edit = type_id(r, "Edit");
    bool is_edit = row && edit && str_of(row, "entity_type_id") && strcmp(str_of(row, "entity_type_id"), edit) == 0;
    json_decref(row);
    if (!is_edit) {
        problem_send(r, RD_NOT_FOUND, "Edit not found", NULL);
        return;
    }
    store_version *v;
    size_t n = 0;
    if (store_history(r->conn, ent, id, ZOU_MAX_VERSIONS, r->a, &v, &n) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    buf *b = ext_buf(r);
    jw j;
    jw_init(&j, b);
    jw_arr_begin(&j);
    for (size_t i = n; i-- > 0;) {
        const char *msg = NULL;
        json_t *was = jin_parse(v[i].body, v[i].body_len, r->a, &msg);
        char at[40];
        size_t al = dt_format_datetime(v[i].at, strlen(v[i].at), r->app->dates, at);
        jw_obj_begin(&j);
        jw_keyz(&j, "id");
        jw_strz(&j, v[i].id);
        jw_keyz(&j, "type");
        jw_strz(&j, "EntityVersion");
        jw_keyz(&j, "name");
        if (str_of(was, "name"))
            jw_strz(&j, str_of(was, "name"));
        else
            jw_null(&j);
        jw_keyz(&j, "data");
        char *data = json_object_get(was, "data") ? json_dumps(json_object_get(was, "data"), JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (data)
            jw_raw(&j, data, strlen(data));
        else
            jw_null(&j);
        free(data);
        jw_keyz(&j, "entity_id");
        jw_strz(&j, id);
        jw_keyz(&j, "person_id");
        if (v[i].actor)
            jw_strz(&j, v[i].actor);
        else
            jw_null(&j);
        jw_keyz(&j, "created_at");
        jw_str(&j, at, al);
        jw_keyz(&j, "updated_at");
        jw_str(&j, at, al);
        jw_obj_end(&j);
        json_decref(was);
    }
    jw_arr_end(&j);
    if (!jw_ok(&j)) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    ext_send(r, 200, b);
}

/* ---- the table ---------------------------------------------------------- */

#define D "/api/data"
static const ext_route routes[] = {
    {M_GET, "/api", h_root, .open = true},
    {M_GET, D "/asset-types", h_asset_types},
    {M_GET, D "/asset-types/<asset_type_id>", h_asset_type},
    {M_GET, D "/assets/all", h_assets_all},
    {M_GET, D "/assets/<asset_id>", h_asset},
    {M_DELETE, D "/assets/<asset_id>", h_asset_delete},
    {M_GET, D "/shots/all", h_shots_all},
    {M_GET, D "/shots/<shot_id>", h_shot},
    {M_DELETE, D "/shots/<shot_id>", h_shot_delete},
    {M_GET, D "/sequences", h_sequences},
    {M_GET, D "/sequences/<sequence_id>", h_sequence},
    {M_GET, D "/episodes", h_episodes},
    {M_GET, D "/episodes/<episode_id>", h_episode},
    {M_GET, D "/projects/open", h_projects_open},
    {M_GET, D "/projects/<project_id>/assets", h_project_assets},
    {M_GET, D "/projects/<project_id>/asset-types", h_project_asset_types},
    {M_GET, D "/projects/<project_id>/asset-types/<asset_type_id>/assets", h_project_type_assets},
    {M_POST, D "/projects/<project_id>/asset-types/<asset_type_id>/assets/new", h_new_asset},
    {M_GET, D "/projects/<project_id>/episodes", h_project_episodes},
    {M_POST, D "/projects/<project_id>/episodes", h_new_episode},
    {M_GET, D "/projects/<project_id>/sequences", h_project_sequences},
    {M_POST, D "/projects/<project_id>/sequences", h_new_sequence},
    {M_GET, D "/projects/<project_id>/shots", h_project_shots},
    {M_POST, D "/projects/<project_id>/shots", h_new_shot},
    {M_GET, D "/projects/<project_id>/tasks", h_project_tasks},
    {M_GET, D "/projects/<project_id>/task-types", h_project_task_types},
    {M_GET, D "/projects/<project_id>/settings/asset-types", h_set_asset_types},
    {M_POST, D "/projects/<project_id>/settings/asset-types", h_set_asset_types_add},
    {M_DELETE, D "/projects/<project_id>/settings/asset-types/<asset_type_id>", h_set_asset_types_rm},
    {M_GET, D "/projects/<project_id>/settings/task-types", h_set_task_types},
    {M_POST, D "/projects/<project_id>/settings/task-types", h_set_task_types_add},
    {M_DELETE, D "/projects/<project_id>/settings/task-types/<task_type_id>", h_set_task_types_rm},
    {M_GET, D "/projects/<project_id>/settings/task-status", h_set_task_status},
    {M_POST, D "/projects/<project_id>/settings/task-status", h_set_task_status_add},
    {M_DELETE, D "/projects/<project_id>/settings/task-status/<task_status_id>", h_set_task_status_rm},
    {M_GET, D "/projects/<project_id>/team", h_team},
    {M_POST, D "/projects/<project_id>/team", h_team_add},
    {M_DELETE, D "/projects/<project_id>/team/<person_id>", h_team_remove},
    {M_GET, D "/assets/<asset_id>/tasks", h_entity_tasks},
    {M_GET, D "/shots/<shot_id>/tasks", h_entity_tasks},
    {M_GET, D "/entities/<entity_id>/tasks", h_entity_tasks},
    {M_POST, D "/entities/<entity_id>/tasks", h_create_entity_tasks},
    {M_POST, D "/tasks", h_new_task},
    {M_GET, D "/tasks/<task_id>/full", h_task_full},
    {M_POST, "/api/actions/tasks/<task_id>/comment", h_comment},
    {M_PUT, "/api/actions/persons/<person_id>/assign", h_assign},
    {M_POST, "/api/actions/tasks/<task_id>/time-spents/<date>/persons/<person_id>", h_time_set},
    {M_POST, "/api/actions/tasks/<task_id>/time-spents/<date>/persons/<person_id>/add", h_time_add},
    {M_GET, D "/user/projects/open", h_user_projects_open},
    {M_GET, D "/user/tasks", h_user_tasks},
    {M_GET, D "/user/done-tasks", h_user_done_tasks},
    {M_GET, D "/user/context", h_user_context},
    {M_GET, D "/edits/<edit_id>/versions", h_edit_versions},
};
#undef D

const ext_set ext_zou = {"zou", routes, sizeof routes / sizeof routes[0]};

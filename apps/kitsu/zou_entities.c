/*
 * Zou's routes over projects and entities, for apps/kitsu (`routes: zou`):
 * the root, asset types, the typed entity views, per-project lists,
 * project settings and team, and creating assets, episodes, sequences and
 * shots.
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
#include "api/authz.h"
#include "api/ext.h"
#include "app/types.h"
#include "json/jin.h"
#include "json/jw.h"
#include "util/dt.h"
#include "zou_int.h"

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
    const app_model *et = zou__model(r, "entity_type");
    if (!et)
        return;
    fterm t;
    bool some = zou__asset_type_term(r, &t);
    ext_list(r, et, some ? &t : NULL, some, "AssetType");
}

static void h_asset_type(rq *r, const char *const *caps)
{
    const app_model *et = zou__model(r, "entity_type");
    const char *id = et ? ext_id(r, caps[0]) : NULL;
    if (!id)
        return;
    fterm t;
    bool some = zou__asset_type_term(r, &t);
    ext_get_where(r, et, id, some ? &t : NULL, some, "AssetType");
}

/* The term "entity_type_id is the type called kind" (nothing when there is
 * no such type). */
static fterm kind_term(rq *r, const app_model *ent, const char *kind)
{
    const char *id = zou__type_id(r, kind);
    return ext_eq(r, zou__field(ent, "entity_type_id"), id ? id : zou__no_id);
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
    else if (zou__asset_term(r, ent, &t[n]))
        n++;
    if (project)
        t[n++] = ext_eq(r, zou__field(ent, "project_id"), project);
    const char *pk = k->parent_key ? k->parent_key : !k->name ? "episode_id" : NULL;
    const char *pv = pk ? ext_take_param(r, pk) : NULL;
    if (pv)
        t[n++] = ext_eq(r, zou__field(ent, k->name ? "parent_id" : "source_id"), pv);
    return n;
}

static void list_kind(rq *r, const kind *k, const char *project)
{
    const app_model *ent = zou__model(r, "entity");
    if (!ent)
        return;
    fterm t[4];
    size_t n = kind_terms(r, ent, k, project, t);
    ext_list(r, ent, t, n, k->type);
}

static void get_kind(rq *r, const kind *k, const char *cap)
{
    const app_model *ent = zou__model(r, "entity");
    const char *id = ent ? ext_id(r, cap) : NULL;
    if (!id)
        return;
    fterm t[1];
    size_t n = 0;
    if (k->name)
        t[n++] = kind_term(r, ent, k->name);
    else if (zou__asset_term(r, ent, &t[n]))
        n++;
    ext_get_where(r, ent, id, t, n, k->type);
}

/* DELETE of a typed row: it must be of that kind (404 otherwise). */
static void delete_kind(rq *r, const kind *k, const char *cap)
{
    const app_model *ent = zou__model(r, "entity");
    const char *id = ent ? ext_id(r, cap) : NULL;
    if (!id)
        return;
    json_t *row = ext_row(r, ent, id);
    const char *et = row ? json_string_value(json_object_get(row, "entity_type_id")) : NULL;
    bool ok = false;
    if (et && k->name) {
        const char *want = zou__type_id(r, k->name);
        ok = want && strcmp(want, et) == 0;
    } else if (et) {
        const char **ids;
        size_t n = zou__type_ids(r, zou__non_asset, ZOU_N_NON_ASSET, &ids);
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

/* ---- children of a sequence or an episode ------------------------------ */

/* Whether entity id is of the kind called what (an entity type name). */
static bool is_kind(rq *r, const app_model *ent, const char *id, const char *what)
{
    json_t *row = ext_row(r, ent, id);
    const char *want = zou__type_id(r, what);
    bool yes = row && want && zou__str_of(row, "entity_type_id") && strcmp(zou__str_of(row, "entity_type_id"), want) == 0;
    json_decref(row);
    return yes;
}

/* The id in cap when it names an entity of kind parent; NULL after 400/404. */
static const char *parent_of(rq *r, const app_model *ent, const char *cap, const kind *parent)
{
    const char *id = ext_id(r, cap);
    if (id && !is_kind(r, ent, id, parent->name)) {
        problem_send(r, RD_NOT_FOUND, arena_printf(r->a, "%s not found", parent->type), NULL);
        return NULL;
    }
    return id;
}

/* Sequences an episode may have, at most, for the episode's shots. */
#define ZOU_MAX_SEQUENCES 5000

/* GET sequences/<id>/shots, episodes/<id>/sequences: rows of kind k whose
 * parent is the path's entity, which must be of kind parent. */
static void child_list(rq *r, const char *cap, const kind *k, const kind *parent)
{
    const app_model *ent = zou__model(r, "entity");
    const char *id = ent ? parent_of(r, ent, cap, parent) : NULL;
    if (!id)
        return;
    fterm t[2] = {kind_term(r, ent, k->name), ext_eq(r, zou__field(ent, "parent_id"), id)};
    ext_list(r, ent, t, 2, k->type);
}

static void h_sequence_shots(rq *r, const char *const *caps) { child_list(r, caps[0], &K_SHOT, &K_SEQUENCE); }
static void h_episode_sequences(rq *r, const char *const *caps) { child_list(r, caps[0], &K_SEQUENCE, &K_EPISODE); }

/* GET episodes/<id>/shots: the shots of the episode's sequences. */
static void h_episode_shots(rq *r, const char *const *caps)
{
    const app_model *ent = zou__model(r, "entity");
    const char *id = ent ? parent_of(r, ent, caps[0], &K_EPISODE) : NULL;
    if (!id)
        return;
    fterm st[2] = {kind_term(r, ent, "Sequence"), ext_eq(r, zou__field(ent, "parent_id"), id)};
    store_query q = {.terms = st, .n_terms = 2, .limit = ZOU_MAX_SEQUENCES, .scope_user = authz_scope_user(r, ent)};
    const char **seqs;
    size_t n = 0;
    if (store_values(r->conn, ent, &q, NULL, r->a, &seqs, &n) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    fterm t[2] = {kind_term(r, ent, "Shot"), n ? ext_in(r, zou__field(ent, "parent_id"), seqs, n)
                                               : ext_eq(r, zou__field(ent, "parent_id"), zou__no_id)};
    ext_list(r, ent, t, 2, "Shot");
}

/* ---- per project ------------------------------------------------------- */


static void project_kind(rq *r, const char *const *caps, const kind *k)
{
    const app_model *pm;
    const char *pid = zou__project_of(r, caps, &pm);
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
    const app_model *pm, *ent = zou__model(r, "entity"), *et = zou__model(r, "entity_type");
    const char *pid = ent && et ? zou__project_of(r, caps, &pm) : NULL;
    const char *tid = pid ? zou__row_id(r, et, caps[1], "Asset type") : NULL;
    if (!tid)
        return;
    fterm t[2] = {ext_eq(r, zou__field(ent, "project_id"), pid), ext_eq(r, zou__field(ent, "entity_type_id"), tid)};
    ext_list(r, ent, t, 2, "Asset");
}

/* Asset types an app may have, at most, for the per-type lookups below. */
#define ZOU_MAX_ASSET_TYPES 1000

/* GET projects/<id>/asset-types: the asset types the project's assets use.
 * One indexed probe per asset type (entity(project_id, entity_type_id)),
 * not a scan of the project's assets. */
static void h_project_asset_types(rq *r, const char *const *caps)
{
    const app_model *pm, *ent = zou__model(r, "entity"), *et = zou__model(r, "entity_type");
    const char *pid = ent && et ? zou__project_of(r, caps, &pm) : NULL;
    if (!pid)
        return;
    fterm at;
    bool some = zou__asset_type_term(r, &at);
    store_query q = {.terms = &at, .n_terms = some, .limit = ZOU_MAX_ASSET_TYPES};
    const char **types;
    size_t nt = 0;
    if (store_values(r->conn, et, &q, NULL, r->a, &types, &nt) != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < nt; i++) {
        fterm t[2] = {ext_eq(r, zou__field(ent, "project_id"), pid), ext_eq(r, zou__field(ent, "entity_type_id"), types[i])};
        store_query one = {.terms = t, .n_terms = 2, .limit = 1, .scope_user = authz_scope_user(r, ent)};
        const char **ids;
        size_t n = 0;
        if (store_values(r->conn, ent, &one, NULL, r->a, &ids, &n) == RD_OK && n)
            types[k++] = types[i];
    }
    fterm ft = k ? ext_in(r, ext_id_field(r), types, k) : ext_eq(r, ext_id_field(r), zou__no_id);
    ext_list(r, et, &ft, 1, "AssetType");
}

/* GET projects/<id>/tasks */
static void h_project_tasks(rq *r, const char *const *caps)
{
    const app_model *pm, *task = zou__model(r, "task");
    const char *pid = task ? zou__project_of(r, caps, &pm) : NULL;
    if (!pid)
        return;
    fterm t = ext_eq(r, zou__field(task, "project_id"), pid);
    ext_list(r, task, &t, 1, NULL);
}

/* GET projects/open: projects whose status is Open (or Active). */
static void h_projects_open(rq *r, const char *const *caps)
{
    const app_model *pm = zou__model(r, "project"), *ps = zou__model(r, "project_status");
    if (!pm || !ps)
        return;
    const char **ids;
    size_t n = zou__open_status_ids(r, ps, &ids);
    fterm t = n ? ext_in(r, zou__field(pm, "project_status_id"), ids, n)
                : ext_eq(r, zou__field(pm, "project_status_id"), zou__no_id);
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
    const app_model *pm, *target = zou__model(r, l->model);
    const char *pid = target ? zou__project_of(r, caps, &pm) : NULL;
    const app_field *lf = pid ? zou__field(pm, l->field) : NULL;
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
    fterm t = k ? ext_in(r, ext_id_field(r), ids, k) : ext_eq(r, ext_id_field(r), zou__no_id);
    ext_list(r, target, &t, 1, l->type);
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
    const app_field *lf = zou__field(pm, l->field);
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
    if (r->app->auth && !authz_allowed(r, pm, true))
        return;
    store_write *step = zou__list_step(r, pm, pid, l->field, id, add, NULL);
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
    const app_model *pm, *target = zou__model(r, l->model);
    const char *pid = target ? zou__project_of(r, caps, &pm) : NULL;
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
    const char *id = zou__row_id(r, target, cap, l->model);
    if (id)
        change_plist(r, pid, pm, l, id, true);
}

static void remove_plist(rq *r, const char *const *caps, const plist *l)
{
    const app_model *pm, *target = zou__model(r, l->model);
    const char *pid = target ? zou__project_of(r, caps, &pm) : NULL;
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
    const char *name = zou__str_of(body, "name");
    if (!nk->reuse || !name)
        return false;
    fterm t[4];
    size_t n = 0;
    t[n++] = ext_eq(r, zou__field(ent, "entity_type_id"), tid);
    t[n++] = ext_eq(r, zou__field(ent, "project_id"), zou__str_of(body, "project_id"));
    t[n++] = ext_eq(r, zou__field(ent, "name"), name);
    if (nk->link_field) {
        const char *link = zou__str_of(body, nk->link_field);
        if (link) {
            t[n++] = ext_eq(r, zou__field(ent, nk->link_field), link);
        } else {
            sqlval *v = arena_alloc(r->a, sizeof *v);
            *v = (sqlval){.kind = SV_INT, .i = 1};
            t[n++] = (fterm){.field = zou__field(ent, nk->link_field), .op = FOP_NULL, .vals = v, .n = 1};
        }
    }
    store_query q = {.terms = t, .n_terms = n, .limit = 1, .type_name = nk->k->type,
                     .scope_user = authz_scope_user(r, ent), .omit = authz_omit(r, ent, NULL)};
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
    const app_model *ent = zou__model(r, "entity");
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
    const char *tid = zou__type_id(r, p->nk->k->name);
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
    const char *want = what ? zou__type_id(r, what) : NULL;
    bool yes = row && want && zou__str_of(row, "project_id") && strcmp(zou__str_of(row, "project_id"), pid) == 0 &&
               zou__str_of(row, "entity_type_id") && strcmp(zou__str_of(row, "entity_type_id"), want) == 0;
    json_decref(row);
    return yes;
}

/* POST projects/<id>/{episodes,sequences,shots} and
 * projects/<id>/asset-types/<tid>/assets/new. */
static void new_entity(rq *r, const char *const *caps, const newkind *nk)
{
    const app_model *pm, *ent = zou__model(r, "entity"), *et = zou__model(r, "entity_type");
    const char *pid = ent && et ? zou__project_of(r, caps, &pm) : NULL;
    /* before anything is made or an existing row answered: the entity
     * type made on first use and the row reused are the caller's write */
    if (!pid || (r->app->auth && !authz_allowed(r, ent, true)))
        return;
    const char *tid = NULL;
    if (!nk->k->name) { /* an asset: its type is in the path */
        tid = zou__row_id(r, et, caps[1], "Asset type");
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
    tid = zou__type_id(r, nk->k->name);
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

/* ---- routes ---------------------------------------------------------------- */

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
    {M_GET, D "/sequences/<sequence_id>/shots", h_sequence_shots},
    {M_GET, D "/episodes/<episode_id>/sequences", h_episode_sequences},
    {M_GET, D "/episodes/<episode_id>/shots", h_episode_shots},
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
};
#undef D

const ext_table zou__entity_routes = {routes, sizeof routes / sizeof routes[0]};

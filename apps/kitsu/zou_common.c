/*
 * The helpers apps/kitsu's route set shares (zou_int.h): model and field
 * lookups that answer 500 when the app file lacks what the routes need,
 * entity-type lookups, path ids, list steps and multi-row answers.
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

const char *const zou__non_asset[6] = {"Shot", "Sequence", "Episode", "Edit", "Scene", "Concept"};
const char zou__no_id[] = "00000000-0000-0000-0000-000000000000";

/* The app's model called name, or NULL after answering 500 (the app file
 * does not declare what these routes need). */
const app_model *zou__model(rq *r, const char *name)
{
    const app_model *m = app_model_by_name(r->app, name);
    if (!m)
        problem_send(r, RD_INTERNAL, NULL, NULL);
    return m;
}

const app_field *zou__field(const app_model *m, const char *name) { return app_field_by_name(m, name); }

/* A string member of a JSON object, or NULL. */
const char *zou__str_of(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Ids of the entity types with the given names (at most 16). */
size_t zou__type_ids(rq *r, const char *const *names, size_t n, const char ***ids)
{
    const app_model *et = app_model_by_name(r->app, "entity_type");
    size_t got = 0;
    if (!et)
        return 0;
    fterm t = ext_in(r, zou__field(et, "name"), names, n);
    store_query q = {.terms = &t, .n_terms = 1, .limit = 16};
    if (store_values(r->conn, et, &q, NULL, r->a, ids, &got) != RD_OK)
        return 0;
    return got;
}

/* The id of the entity type called name, or NULL. */
const char *zou__type_id(rq *r, const char *name)
{
    const char **ids;
    return zou__type_ids(r, &name, 1, &ids) ? ids[0] : NULL;
}

/* The term "field is not one of the non-asset entity types". */
static bool non_asset_term(rq *r, const app_field *f, fterm *out)
{
    const char **ids;
    size_t n = zou__type_ids(r, zou__non_asset, ZOU_N_NON_ASSET, &ids);
    if (!n)
        return false;
    *out = ext_in(r, f, ids, n);
    out->op = FOP_NIN;
    return true;
}

/* The term "entity_type_id is an asset type": not one of the others. */
bool zou__asset_term(rq *r, const app_model *ent, fterm *out)
{
    return non_asset_term(r, zou__field(ent, "entity_type_id"), out);
}

/* The same over entity_type rows: "id is not one of the other kinds". */
bool zou__asset_type_term(rq *r, fterm *out)
{
    return non_asset_term(r, ext_id_field(r), out);
}

/* A path id that must name a row of m: canonical id, or NULL after 400/404. */
const char *zou__row_id(rq *r, const app_model *m, const char *cap, const char *what)
{
    const char *id = ext_id(r, cap);
    return id && ext_exists(r, m, id, what) ? id : NULL;
}

/* The project of caps[0], or NULL after 400/404. */
const char *zou__project_of(rq *r, const char *const *caps, const app_model **pm)
{
    *pm = zou__model(r, "project");
    return *pm ? zou__row_id(r, *pm, caps[0], "Project") : NULL;
}

/* A PATCH step of m's row id that adds (or removes) one id of its list
 * field fname inside the write's transaction, so two writes racing on the
 * same row both count; NULL after answering. */
store_write *zou__list_step(rq *r, const app_model *m, const char *id, const char *fname, const char *item,
                              bool add, const char *type_name)
{
    const app_field *lf = zou__field(m, fname);
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

/* Append the row of m with id (or null) to b; false when it does not fit.
 * Embedded rows are served rows: a row outside the caller's scope is
 * null, and the caller's field subset applies (a person's email). */
bool zou__raw_row(rq *r, const app_model *m, const char *id, buf *b)
{
    jw j;
    jw_init(&j, b);
    if (!m || !id ||
        store_get_as(r->conn, m, id, authz_scope_user(r, m), authz_omit(r, m, NULL), NULL, &j) != RD_OK)
        jw_null(&j);
    return jw_ok(&j);
}

/* Answer a multi-step write with its steps' rows as a list. */
void zou__steps_list(rq *r, store_write *w)
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
const char **zou__id_list(rq *r, const json_t *body, const char *key, size_t cap, size_t *n)
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

/* The request body's list of ids under key (as zou__id_list); NULL after
 * the error was sent. */
const char **zou__body_ids(rq *r, const char *key, size_t *n)
{
    json_t *body = ext_body(r);
    if (!body)
        return NULL;
    const char **ids = zou__id_list(r, body, key, ZOU_MAX_IDS, n);
    json_decref(body);
    return ids;
}

/* The ids of the open project statuses (Open, Active). */
size_t zou__open_status_ids(rq *r, const app_model *ps, const char ***ids)
{
    static const char *const open_names[] = {"Open", "Active"};
    fterm st = ext_in(r, zou__field(ps, "name"), open_names, 2);
    store_query q = {.terms = &st, .n_terms = 1, .limit = 16};
    size_t n = 0;
    return store_values(r->conn, ps, &q, NULL, r->a, ids, &n) == RD_OK ? n : 0;
}

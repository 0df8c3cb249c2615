/*
 * Shared by the files of apps/kitsu's route set (`routes: zou`) only: the
 * helpers its handlers have in common, and each file's part of the route
 * table. Nothing outside apps/kitsu includes this.
 */
#ifndef RESTD_ZOU_INT_H
#define RESTD_ZOU_INT_H

#include <jansson.h>

#include "api/ext.h"

/* Entity types that are not asset types (Zou: assets_service); every other
 * entity type is one. */
extern const char *const zou__non_asset[6];
#define ZOU_N_NON_ASSET 6
/* An id no row has: a term on it selects nothing (a kind whose entity type
 * does not exist yet has no rows). */
extern const char zou__no_id[];
/* Ids one request may name (task_ids, task_type_ids): a bound on its work. */
#define ZOU_MAX_IDS 200

/* The app's model called name, or NULL after answering 500 (the app file
 * does not declare what these routes need). */
const app_model *zou__model(rq *r, const char *name);
/* m's field called name, or NULL. */
const app_field *zou__field(const app_model *m, const char *name);
/* A string member of a JSON object, or NULL. */
const char *zou__str_of(const json_t *o, const char *k);
/* Ids of the entity types with the given names (at most 16), into *ids. */
size_t zou__type_ids(rq *r, const char *const *names, size_t n, const char ***ids);
/* The id of the entity type called name, or NULL. */
const char *zou__type_id(rq *r, const char *name);
/* The term "entity_type_id is an asset type" over entity (false: every
 * entity type is one, no term needed). */
bool zou__asset_term(rq *r, const app_model *ent, fterm *out);
/* The same over entity_type rows: "id is not one of the other kinds". */
bool zou__asset_type_term(rq *r, fterm *out);
/* A path id that must name a row of m: canonical id, or NULL after 400/404. */
const char *zou__row_id(rq *r, const app_model *m, const char *cap, const char *what);
/* The project of caps[0] (and the project model into *pm), or NULL after
 * 400/404. */
const char *zou__project_of(rq *r, const char *const *caps, const app_model **pm);
/* A PATCH step of m's row id that adds (or removes) item in its list field
 * fname inside the write's transaction; NULL after answering. */
store_write *zou__list_step(rq *r, const app_model *m, const char *id, const char *fname, const char *item,
                            bool add, const char *type_name);
/* Append the row of m with id (or null) to b; false when it does not fit. */
bool zou__raw_row(rq *r, const app_model *m, const char *id, buf *b);
/* Answer a STORE_MULTI write with its steps' rows as a list (steps whose
 * ctx is set are left out), status in *(int *)w->ctx. */
void zou__steps_list(rq *r, store_write *w);
/* A list of at most cap ids from body[key], canonical; NULL after 400. */
const char **zou__id_list(rq *r, const json_t *body, const char *key, size_t cap, size_t *n);
/* The same read from the request body (at most ZOU_MAX_IDS); NULL after an error. */
const char **zou__body_ids(rq *r, const char *key, size_t *n);
/* The ids of the open project statuses (Open, Active). */
size_t zou__open_status_ids(rq *r, const app_model *ps, const char ***ids);

/* Each file's routes, gathered into ext_zou by zou_routes.c. */
extern const ext_table zou__entity_routes; /* zou_entities.c */
extern const ext_table zou__task_routes;   /* zou_tasks.c */
extern const ext_table zou__create_routes; /* zou_create.c */

#endif

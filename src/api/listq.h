/*
 * List queries: the query parameters of a collection GET (filters with
 * operators, paging, cursor, sorting, field selection, includes) and the
 * JSON object of a stored filter, checked against the model and turned
 * into a store_query. The syntax is in docs/query.md. Pure: no I/O; all
 * memory from the arena.
 */
#ifndef RESTD_LISTQ_H
#define RESTD_LISTQ_H

#include <jansson.h>
#include <stdbool.h>

#include "api/query.h"
#include "api/validate.h"
#include "app/app.h"
#include "store/store.h"

#define RD_MAX_FILTER_TERMS 32
#define RD_MAX_FILTER_VALUES 1000
#define RD_MAX_SORT_KEYS 8

typedef struct listq {
    store_query q;
    bool envelope;
    long long page; /* 0: not given */
} listq;

/* True when f exists in API version v. */
bool listq_visible(const app_field *f, int v);

/* The omit mask (store_query.omit) of a single row in version v, or NULL
 * when every field is visible. */
bool *listq_version_omit(const app_model *m, int version, arena *a);

/* The server-maintained pseudo-fields (id, created_at, updated_at) as
 * app_fields, for filters and sorting. key case applies to their names. */
const app_field *listq_meta_field(const app *ap, const app_model *m, const char *key, size_t n);

/*
 * Parse the list parameters. Parameters in `skip` (NULL-terminated names,
 * e.g. "api-version") are ignored. On failure returns RD_BAD_REQUEST with
 * *detail naming the parameter.
 */
rd_err listq_parse(const app *ap, const app_model *m, int version, const qparam *params, size_t n,
                   const char *const *skip, arena *a, listq *out, const char **detail);

/*
 * A stored filter object ({"key": value | [values] | {"op": value}}) to
 * filter terms appended to out->q. Every bad key is added to errs;
 * returns RD_VALIDATION then.
 */
rd_err listq_from_json(const app *ap, const app_model *m, int version, const json_t *obj, arena *a,
                       listq *out, verrs *errs);

#endif

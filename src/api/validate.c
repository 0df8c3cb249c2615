/*
 * Request bodies checked against a model (deny by default): every key must
 * be a field of the model or one of the server-maintained keys, every value
 * must pass its type descriptor's check, and every problem is collected
 * before anything is reported, one message per field.
 *
 * Two passes. The first walks the body's keys (in body order) and pairs each
 * with its field, reporting unknown keys. The second walks the model's
 * fields (in model order) and turns each given value, default or absence
 * into a column value or an error, by mode:
 *
 *   absent field     CREATE                 REPLACE                PATCH
 *   with default     the default            the default            untouched
 *   required         "is required"          "is required"          untouched
 *   optional         left out (SQL NULL)    null ([] for ref_list) untouched
 *   read-only        the default, if any    untouched              untouched
 *
 * VAL_MERGE is PATCH that ignores what it cannot take instead of refusing
 * it: keys that are not fields, read-only (and computed) fields. In every
 * mode but CREATE a create_only field's value is ignored and its absence
 * leaves it untouched (Zou's project_id).
 *
 * The read-only row wins over the others. Read-only fields keep their
 * stored value on REPLACE: they are set by defaults or the server, and a
 * client replacing its own data does not reset them. A required read-only
 * field without a default is never "required" of the client, who may not
 * send it.
 *
 * Everything the result points at is in the arena (or the model), so the
 * body may be freed as soon as val_body returns.
 */
#include "api/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rd_limits.h"

/* Unknown keys reported one by one; past this, one summary line. A body
 * can hold some hundred thousand distinct keys, and each error costs the
 * response a line and the problem renderer a comparison with every other. */
#define VAL_MAX_UNKNOWN 32

void verrs_add(verrs *e, arena *a, const char *key, const char *msg)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        verr *items = arena_alloc(a, cap * sizeof *items);
        if (e->n)
            memcpy(items, e->items, e->n * sizeof *items);
        e->items = items;
        e->cap = cap;
    }
    e->items[e->n++] = (verr){.key = key, .msg = msg};
}

static void field_err(verrs *e, arena *a, const app_field *f, const char *what)
{
    verrs_add(e, a, f->error_name, arena_printf(a, "The %s field %s.", f->error_name, what));
}

/* ---- lists of references ----------------------------------------------- */

typedef struct id_at {
    const char *id;
    size_t at;
} id_at;

static int by_id_then_at(const void *x, const void *y)
{
    const id_at *p = x, *q = y;
    int c = memcmp(p->id, q->id, TYPE_UUID_LEN);
    if (c)
        return c;
    return p->at < q->at ? -1 : p->at > q->at;
}

/* Drop repeated ids, keeping each first occurrence in place: sort a copy,
 * mark the later duplicates, then compact. O(n log n) for 10,000 ids. */
static size_t dedupe(const char **ids, size_t n, arena *a)
{
    if (n < 2)
        return n;
    id_at *s = arena_alloc(a, n * sizeof *s);
    bool *drop = arena_zalloc(a, n);
    for (size_t i = 0; i < n; i++)
        s[i] = (id_at){ids[i], i};
    qsort(s, n, sizeof *s, by_id_then_at);
    for (size_t i = 1; i < n; i++)
        if (memcmp(s[i].id, s[i - 1].id, TYPE_UUID_LEN) == 0)
            drop[s[i].at] = true;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!drop[i])
            ids[k++] = ids[i];
    return k;
}

/* v (not null) as a list for field f into *out; a message on failure.
 * lenient: an item may also be an object whose "id" is the UUID (Zou). */
static const char *check_list(const app_field *f, const json_t *v, bool lenient, arena *a, reflist *out)
{
    if (!json_is_array(v))
        return "must be an array of UUIDs";
    size_t n = json_array_size(v);
    if (n > RD_MAX_REF_LIST)
        return arena_printf(a, "must have at most %d items", RD_MAX_REF_LIST);
    const char **ids = arena_alloc(a, n * sizeof *ids);
    char *text = arena_alloc(a, n * (TYPE_UUID_LEN + 1));
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);
        char *id = text + i * (TYPE_UUID_LEN + 1);
        if (lenient && json_is_object(item))
            item = json_object_get(item, "id"); /* NULL when absent: refused below */
        if (!json_is_string(item) || !type_uuid_parse(json_string_value(item), json_string_length(item), id))
            return "must be an array of UUIDs";
        ids[i] = id;
    }
    *out = (reflist){.field = f, .ids = ids, .n = dedupe(ids, n, a)};
    return NULL;
}

/* ---- one field --------------------------------------------------------- */

/* Where the second pass puts its results. */
typedef struct result {
    const app_field **fields;
    sqlval *vals;
    size_t n;
    reflist *lists;
    size_t n_lists;
} result;

static void set_null(result *r, const app_field *f)
{
    if (f->type == FT_REF_LIST) {
        r->lists[r->n_lists++] = (reflist){.field = f};
        return;
    }
    r->fields[r->n] = f;
    r->vals[r->n++] = (sqlval){.kind = SV_NULL};
}

/* Check v (not JSON null) for f; the value goes into r, or a fragment comes back. */
static const char *set_value(result *r, const app_field *f, const json_t *v, date_style ds, bool lenient,
                             arena *a)
{
    if (f->type == FT_REF_LIST) {
        reflist l;
        const char *why = check_list(f, v, lenient, a, &l);
        if (!why)
            r->lists[r->n_lists++] = l;
        return why;
    }
    sqlval sv;
    const char *why = type_desc_of(f->type)->check(f, v, ds, a, &sv);
    if (!why) {
        r->fields[r->n] = f;
        r->vals[r->n++] = sv;
    }
    return why;
}

/* The field's default (validated by the app loader). Dates in a default
 * may be written in the app's style or in ISO 8601. */
static const char *set_default(result *r, const app_field *f, date_style ds, arena *a)
{
    json_t *d = json_loads(f->default_json, JSON_DECODE_ANY, NULL);
    if (!d)
        return "has a default that is not valid JSON";
    const char *why = NULL;
    if (json_is_null(d))
        set_null(r, f);
    else if ((why = set_value(r, f, d, ds, false, a)) && ds != DS_ISO8601 &&
             (f->type == FT_DATE || f->type == FT_DATETIME))
        why = set_value(r, f, d, DS_ISO8601, false, a);
    json_decref(d);
    return why ? "has an invalid default" : NULL;
}

/* ---- the body ---------------------------------------------------------- */

static bool is_server_key(const char keys[3][RD_MAX_NAME + 1], const char *k)
{
    return strcmp(k, keys[0]) == 0 || strcmp(k, keys[1]) == 0 || strcmp(k, keys[2]) == 0;
}

/* "id", "created_at", "updated_at" in the app's payload key case. */
static void server_keys(const app *ap, char keys[3][RD_MAX_NAME + 1])
{
    static const char *const server[3] = {"id", "created_at", "updated_at"};
    for (int i = 0; i < 3; i++)
        if (!app_convert_case(server[i], ap->payload_case, keys[i], RD_MAX_NAME + 1))
            snprintf(keys[i], RD_MAX_NAME + 1, "%s", server[i]);
}

const char *val_unknown_key(const app *ap, const app_model *m, const json_t *body, arena *a)
{
    if (!json_is_object(body))
        return NULL;
    char keys[3][RD_MAX_NAME + 1];
    server_keys(ap, keys);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v) {
        if (!is_server_key(keys, k) && !app_field_by_json(m, k, strlen(k)))
            return arena_strdup(a, k);
    }
    return NULL;
}

/* Types whose empty string is "no value" under blank_as_null. */
static const bool blank_types[FT__COUNT] = {
    [FT_STRING] = true, [FT_TEXT] = true, [FT_ENUM] = true, [FT_UUID] = true,
    [FT_REF] = true,    [FT_DATE] = true, [FT_DATETIME] = true,
};

rd_err val_body(const app *ap, const app_model *m, const json_t *body, val_mode mode, arena *a,
                rowvals *out, verrs *errs)
{
    size_t errs_before = errs->n;
    if (!json_is_object(body)) {
        verrs_add(errs, a, "$", "The request body must be a JSON object.");
        return RD_VALIDATION;
    }

    /* Pass 1: pair keys with fields. */
    char keys[3][RD_MAX_NAME + 1];
    server_keys(ap, keys);
    const json_t **given = arena_zalloc(a, (m->n_fields + 1) * sizeof *given);
    size_t unknown = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v) {
        if (is_server_key(keys, k))
            continue;
        if (m->type_name && strcmp(k, "type") == 0)
            continue; /* the row's type name, sent back with a fetched row: the server's, like id */
        const app_field *f = app_field_by_json(m, k, strlen(k));
        if (f) {
            given[f - m->fields] = v;
        } else if (mode == VAL_MERGE) {
            /* ignored: gazu PUTs back whole rows, "type" included */
        } else if (++unknown <= VAL_MAX_UNKNOWN) {
            const char *key = arena_strdup(a, k); /* the body is freed after us */
            verrs_add(errs, a, key, arena_printf(a, "The field '%s' is not part of %s.", key, m->name));
        }
    }
    if (unknown > VAL_MAX_UNKNOWN)
        verrs_add(errs, a, "$",
                  arena_printf(a, "The body has %zu more fields that are not part of %s.",
                               unknown - VAL_MAX_UNKNOWN, m->name));

    /* Pass 2: each field in model order. */
    result r = {
        .fields = arena_alloc(a, (m->n_fields + 1) * sizeof *r.fields),
        .vals = arena_alloc(a, (m->n_fields + 1) * sizeof *r.vals),
        .lists = arena_alloc(a, (m->n_fields + 1) * sizeof *r.lists),
    };
    for (size_t i = 0; i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        const json_t *val = given[i];
        const char *why = NULL;
        if (val && ap->blank_as_null && json_is_string(val) && json_string_length(val) == 0 && blank_types[f->type])
            val = json_null(); /* a static singleton: no reference to release */
        bool updating = mode != VAL_CREATE && mode != VAL_SERVER;
        if (val && ((f->read_only && mode == VAL_MERGE) || (f->create_only && updating)))
            val = NULL; /* ignored, and so untouched below */
        if (val) {
            if (f->read_only)
                why = "is read-only";
            else if (!json_is_null(val))
                why = set_value(&r, f, val, ap->dates, ap->lenient_ref_lists, a);
            else if (f->required)
                why = "is required";
            else
                set_null(&r, f);
        } else if (mode == VAL_PATCH || mode == VAL_MERGE || mode == VAL_SERVER ||
                   ((f->read_only || f->create_only) && mode == VAL_REPLACE)) {
            /* untouched */
        } else if (f->default_json) {
            why = set_default(&r, f, ap->dates, a);
        } else if (f->required && !f->read_only) {
            why = "is required";
        } else if (mode == VAL_REPLACE) {
            set_null(&r, f);
        }
        if (why)
            field_err(errs, a, f, why);
    }
    if (errs->n > errs_before)
        return RD_VALIDATION;
    *out = (rowvals){.fields = r.fields, .vals = r.vals, .n = r.n, .lists = r.lists, .n_lists = r.n_lists};
    return RD_OK;
}

/*
 * Seed rows (seed.h): the file is read and every row validated as a POST
 * body before anything is written; the rows go to the writer as one
 * STORE_MULTI job keyed "seed", which the store runs at most once per
 * database.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/seed.h"
#include "api/validate.h"
#include "json/jin.h"
#include "rd_limits.h"

/* Rows a seed file may hold: initial data, not a bulk import. */
#define SEED_MAX_ROWS 10000

static bool fail(char **msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(char **msg, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    *msg = xstrdup(tmp);
    return false;
}

/* The file's bytes into a (at most RD_MAX_APP_FILE); NULL when absent. */
static char *read_file(const char *path, arena *a, size_t *len, char **msg)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            fail(msg, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    char *data = arena_alloc(a, RD_MAX_APP_FILE + 1);
    size_t n = fread(data, 1, RD_MAX_APP_FILE + 1, f);
    bool err = ferror(f);
    fclose(f);
    if (err || n > RD_MAX_APP_FILE) {
        fail(msg, "%s: %s (at most %d bytes)", path, err ? "cannot read" : "too large", RD_MAX_APP_FILE);
        return NULL;
    }
    *len = n;
    return data;
}

bool seed_load(const app *ap, const char *dir, arena *a, store_write **job, char **msg)
{
    *job = NULL;
    *msg = NULL;
    const char *path = arena_printf(a, "%s/seed.json", dir);
    size_t len = 0;
    char *data = read_file(path, a, &len, msg);
    if (!data)
        return *msg == NULL;
    const char *why = NULL;
    json_t *doc = jin_parse(data, len, a, &why);
    if (!doc)
        return fail(msg, "%s: %s", path, why);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fail(msg, "%s: must be an object of {\"model\": [rows]}", path);
    }
    size_t total = 0;
    const char *k;
    json_t *rows;
    json_object_foreach(doc, k, rows) {
        if (!app_model_by_name(ap, k) || !json_is_array(rows)) {
            bool known = app_model_by_name(ap, k) != NULL;
            fail(msg, "%s: '%s' %s", path, k, known ? "must hold a list of rows" : "is not a model of the app");
            json_decref(doc);
            return false;
        }
        total += json_array_size(rows);
    }
    if (total > SEED_MAX_ROWS) {
        json_decref(doc);
        return fail(msg, "%s: too many rows (%zu; at most %d)", path, total, SEED_MAX_ROWS);
    }
    store_write *w = arena_zalloc(a, sizeof *w);
    w->op = STORE_MULTI;
    w->once = "seed";
    w->a = a;
    w->steps = arena_alloc(a, (total ? total : 1) * sizeof *w->steps);
    json_object_foreach(doc, k, rows) {
        const app_model *m = app_model_by_name(ap, k);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            store_write *step = arena_zalloc(a, sizeof *step);
            verrs errs = {0};
            if (val_body(ap, m, row, VAL_CREATE, a, &step->vals, &errs) != RD_OK || errs.n) {
                char tmp[1024];
                snprintf(tmp, sizeof tmp, "%s: %s row %zu: %s: %s", path, k, i + 1,
                         errs.n ? errs.items[0].key : "$", errs.n ? errs.items[0].msg : "invalid");
                *msg = xstrdup(tmp);
                json_decref(doc);
                return false;
            }
            step->op = STORE_CREATE;
            step->model = m;
            w->steps[w->n_steps++] = step;
        }
    }
    json_decref(doc);
    *job = w;
    return true;
}

bool seed_apply(const app *ap, const char *dir, store *s, char **msg)
{
    arena *a = arena_new();
    store_write *w = NULL;
    bool ok = seed_load(ap, dir, a, &w, msg);
    if (ok && w && store_submit_wait(s, w) != RD_OK) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s/seed.json: cannot write the seed rows: %s", dir,
                 w->detail ? w->detail : "the database refused them");
        *msg = xstrdup(tmp);
        ok = false;
    }
    arena_free(a);
    return ok;
}

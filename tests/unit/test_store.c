/*
 * The store's multi-row writes on a real SQLite file: STORE_MULTI is all or
 * nothing and runs a `once` key once, a CREATE with match terms changes the
 * row they select, list steps add and remove ids, history keeps every
 * version, store_values reads one column, and rows carry their type name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/validate.h"
#include "app/app.h"
#include "store/store.h"

static char dir[] = "/tmp/restd-store-XXXXXX";
static app *ap;
static store *st;
static store_conn *conn;
static arena *a;

static const char app_yaml[] = "app:\n  name: t\n  conventions: {type_names: pascal}\n"
                               "models:\n"
                               "  person:\n    fields: {name: {type: string, unique: true}}\n"
                               "  time_log:\n    history: true\n    fields:\n"
                               "      day: {type: string}\n      hours: {type: number}\n"
                               "      people: {type: ref_list, model: person}\n";

static int setup(void **state)
{
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/app.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(app_yaml, f);
    fclose(f);
    char *errs = NULL;
    ap = app_load(dir, &errs);
    assert_non_null(ap);
    snprintf(path, sizeof path, "%s/db", dir);
    char *msg = NULL;
    st = store_open(path, ap, &msg);
    assert_non_null(st);
    conn = store_conn_open(st);
    assert_non_null(conn);
    a = arena_new();
    return 0;
}

static int teardown(void **state)
{
    arena_free(a);
    store_conn_close(conn);
    store_close(st);
    app_free(ap);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A write of m from JSON text (validated as mode). */
static store_write *step(const char *model, store_op op, const char *id, const char *json)
{
    const app_model *m = app_model_by_name(ap, model);
    store_write *w = arena_zalloc(a, sizeof *w);
    w->op = op;
    w->model = m;
    w->id = id;
    w->a = a;
    if (json) {
        json_error_t je;
        json_t *body = json_loads(json, 0, &je);
        assert_non_null(body);
        verrs errs = {0};
        assert_int_equal(val_body(ap, m, body, op == STORE_CREATE ? VAL_CREATE : VAL_PATCH, a, &w->vals, &errs),
                         RD_OK);
        json_decref(body);
    }
    return w;
}

static store_write *multi(store_write **steps, size_t n)
{
    store_write *w = arena_zalloc(a, sizeof *w);
    w->op = STORE_MULTI;
    w->a = a;
    w->steps = steps;
    w->n_steps = n;
    return w;
}

static long long count(const char *model)
{
    store_query q = {.limit = 10, .count = true};
    buf b;
    buf_init(&b, a, 1 << 20);
    jw w;
    jw_init(&w, &b);
    store_page pg;
    assert_int_equal(store_list(conn, app_model_by_name(ap, model), &q, a, &w, &pg), RD_OK);
    return pg.total;
}

static void test_multi_all_or_nothing(void **state)
{
    store_write *s[3] = {step("person", STORE_CREATE, NULL, "{\"name\": \"ada\"}"),
                         step("person", STORE_CREATE, NULL, "{\"name\": \"bob\"}"),
                         step("person", STORE_CREATE, NULL, "{\"name\": \"ada\"}")};
    store_write *w = multi(s, 3);
    assert_int_equal(store_submit_wait(st, w), RD_CONFLICT);
    assert_int_equal(w->failed_step, 2);
    assert_int_equal(count("person"), 0); /* the first two went too */
    store_write *ok[2] = {step("person", STORE_CREATE, NULL, "{\"name\": \"ada\"}"),
                          step("person", STORE_CREATE, NULL, "{\"name\": \"bob\"}")};
    w = multi(ok, 2);
    assert_int_equal(store_submit_wait(st, w), RD_OK);
    assert_non_null(strstr(ok[1]->body.data, "\"type\":\"Person\""));
    assert_int_equal(count("person"), 2);
}

static void test_multi_once(void **state)
{
    for (int i = 0; i < 2; i++) {
        store_write *s[1] = {step("person", STORE_CREATE, NULL, "{\"name\": \"seeded\"}")};
        store_write *w = multi(s, 1);
        w->once = "unit-seed";
        assert_int_equal(store_submit_wait(st, w), RD_OK);
        assert_int_equal(w->skipped, i == 1);
    }
    const app_model *m = app_model_by_name(ap, "person");
    sqlval v = {.kind = SV_TEXT, .s = "seeded", .n = 6};
    fterm t = {.field = app_field_by_name(m, "name"), .op = FOP_EQ, .vals = &v, .n = 1};
    store_query q = {.terms = &t, .n_terms = 1, .limit = 10};
    const char **ids;
    size_t n = 0;
    assert_int_equal(store_values(conn, m, &q, NULL, a, &ids, &n), RD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(ids[0]), 36);
}

/* A create-or-add on (day): the second write adds to the first row. */
static store_write *add_hours(const char *day, double hours)
{
    char json[128];
    snprintf(json, sizeof json, "{\"day\": \"%s\", \"hours\": %g}", day, hours);
    store_write *w = step("time_log", STORE_CREATE, NULL, json);
    snprintf(json, sizeof json, "{\"hours\": %g}", hours);
    w->upd = step("time_log", STORE_PATCH, NULL, json)->vals;
    const app_model *m = w->model;
    sqlval *v = arena_alloc(a, sizeof *v);
    *v = (sqlval){.kind = SV_TEXT, .s = arena_strdup(a, day), .n = strlen(day)};
    fterm *t = arena_alloc(a, sizeof *t);
    *t = (fterm){.field = app_field_by_name(m, "day"), .op = FOP_EQ, .vals = v, .n = 1};
    w->match = t;
    w->n_match = 1;
    w->add_field = app_field_by_name(m, "hours");
    return w;
}

static void test_create_with_match_adds(void **state)
{
    store_write *w1 = add_hours("mon", 2), *w2 = add_hours("mon", 3.5), *w3 = add_hours("tue", 1);
    assert_int_equal(store_submit_wait(st, w1), RD_OK);
    assert_int_equal(store_submit_wait(st, w2), RD_OK);
    assert_int_equal(store_submit_wait(st, w3), RD_OK);
    assert_false(w1->matched);
    assert_true(w2->matched);
    assert_false(w3->matched);
    assert_string_equal(w2->id, w1->new_id);
    assert_non_null(strstr(w2->body.data, "\"hours\":5.5"));
    assert_non_null(strstr(w2->body.data, "\"type\":\"TimeLog\""));
    /* history: the row as created, then as changed */
    store_version *v;
    size_t n = 0;
    assert_int_equal(store_history(conn, w1->model, w1->new_id, 10, a, &v, &n), RD_OK);
    assert_int_equal(n, 2);
    assert_non_null(strstr(v[0].body, "\"hours\":2"));
    assert_non_null(strstr(v[1].body, "\"hours\":5.5"));
    assert_null(v[0].actor);
    assert_int_equal(store_history(conn, w1->model, w1->new_id, 1, a, &v, &n), RD_OK);
    assert_int_equal(n, 1); /* the newest only */
    assert_non_null(strstr(v[0].body, "\"hours\":5.5"));
}

static void test_list_ops(void **state)
{
    store_write *p[2] = {step("person", STORE_CREATE, NULL, "{\"name\": \"p1\"}"),
                         step("person", STORE_CREATE, NULL, "{\"name\": \"p2\"}")};
    assert_int_equal(store_submit_wait(st, multi(p, 2)), RD_OK);
    store_write *log = step("time_log", STORE_CREATE, NULL, "{\"day\": \"wed\"}");
    assert_int_equal(store_submit_wait(st, log), RD_OK);
    char json[200];
    for (int i = 0; i < 2; i++) {
        snprintf(json, sizeof json, "{\"people\": [\"%s\"]}", p[i]->new_id);
        store_write *w = step("time_log", STORE_PATCH, log->new_id, json);
        w->vals.lists[0].op = REFLIST_ADD;
        assert_int_equal(store_submit_wait(st, w), RD_OK);
        assert_non_null(strstr(w->body.data, p[i]->new_id));
    }
    snprintf(json, sizeof json, "{\"people\": [\"%s\"]}", p[0]->new_id);
    store_write *w = step("time_log", STORE_PATCH, log->new_id, json);
    w->vals.lists[0].op = REFLIST_REMOVE;
    assert_int_equal(store_submit_wait(st, w), RD_OK);
    assert_null(strstr(w->body.data, p[0]->new_id));
    assert_non_null(strstr(w->body.data, p[1]->new_id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_all_or_nothing),
        cmocka_unit_test(test_multi_once),
        cmocka_unit_test(test_create_with_match_adds),
        cmocka_unit_test(test_list_ops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

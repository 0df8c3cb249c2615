/* Unit tests for the error renderer (api/problem.c): each app style. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"

static json_t *render(err_style style, rd_err e, const char *detail, const verrs *errs,
                      const char **ctype, const char **reason, arena *a)
{
    app ap = {.name = "t", .errors = style};
    buf out;
    buf_init(&out, a, 1 << 20);
    problem_render(&ap, e, detail, errs, a, &out, ctype, reason);
    json_error_t err;
    json_t *doc = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(doc);
    return doc;
}

static void problem_details(void **state)
{
    arena *a = arena_new();
    const char *ct, *reason;
    json_t *d = render(ES_PROBLEM, RD_NOT_FOUND, "no project with id x", NULL, &ct, &reason, a);
    assert_string_equal(ct, "application/problem+json");
    assert_string_equal(reason, "Not found");
    assert_int_equal(json_integer_value(json_object_get(d, "status")), 404);
    assert_string_equal(json_string_value(json_object_get(d, "title")), "Not found");
    assert_string_equal(json_string_value(json_object_get(d, "detail")), "no project with id x");
    assert_string_equal(json_string_value(json_object_get(d, "type")),
                        "https://tools.ietf.org/html/rfc9110#section-15.5.5");
    assert_null(json_object_get(d, "errors"));
    json_decref(d);
    arena_free(a);
}

static void validation_groups_by_key(void **state)
{
    arena *a = arena_new();
    verrs errs = {0};
    verrs_add(&errs, a, "Name", "The Name field is required.");
    verrs_add(&errs, a, "Code", "bad code");
    verrs_add(&errs, a, "Name", "second");
    const char *ct, *reason;
    json_t *d = render(ES_PROBLEM, RD_VALIDATION, NULL, &errs, &ct, &reason, a);
    assert_int_equal(json_integer_value(json_object_get(d, "status")), 422);
    json_t *e = json_object_get(d, "errors");
    assert_int_equal(json_object_size(e), 2);
    json_t *name = json_object_get(e, "Name");
    assert_int_equal(json_array_size(name), 2);
    assert_string_equal(json_string_value(json_array_get(name, 1)), "second");
    assert_null(json_object_get(d, "detail"));
    json_decref(d);
    arena_free(a);
}

static void zou_shape(void **state)
{
    arena *a = arena_new();
    const char *ct, *reason;
    json_t *d = render(ES_ZOU, RD_FORBIDDEN, NULL, NULL, &ct, &reason, a);
    assert_string_equal(ct, "application/json");
    assert_true(json_is_true(json_object_get(d, "error")));
    assert_string_equal(json_string_value(json_object_get(d, "message")), "Forbidden");
    assert_null(json_object_get(d, "status"));
    json_decref(d);
    arena_free(a);
}

static void reason_phrase_is_sanitised(void **state)
{
    arena *a = arena_new();
    const char *ct, *reason;
    json_t *d = render(ES_REASON, RD_BAD_REQUEST, "bad\r\nX-Evil: 1 \xc3\xa9", NULL, &ct, &reason, a);
    assert_string_equal(reason, "bad??X-Evil: 1 ??");
    assert_string_equal(json_string_value(json_object_get(d, "detail")), "bad\r\nX-Evil: 1 \xc3\xa9");
    json_decref(d);
    arena_free(a);
}

static void zou_maps_refusals_to_400(void **state)
{
    arena *a = arena_new();
    verrs errs = {0};
    verrs_add(&errs, a, "name", "The name field is required.");
    verrs_add(&errs, a, "name", "second");
    const char *ct, *reason;
    json_t *d = render(ES_ZOU, RD_VALIDATION, "ignored", &errs, &ct, &reason, a);
    assert_string_equal(reason, "Bad Request");
    assert_string_equal(json_string_value(json_object_get(d, "message")), "Validation error.");
    json_t *list = json_object_get(json_object_get(d, "data"), "errors");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "message")), "second");
    json_decref(d);
    d = render(ES_ZOU, RD_INTERNAL, NULL, NULL, &ct, &reason, a);
    assert_string_equal(json_string_value(json_object_get(d, "message")), "Internal server error.");
    json_decref(d);
    app zou = {.name = "t", .errors = ES_ZOU}, prob = {.name = "t", .errors = ES_PROBLEM};
    static const struct {
        rd_err e;
        int zou, problem;
    } cases[] = {
        {RD_VALIDATION, 400, 422}, {RD_CONFLICT, 400, 409}, {RD_MEDIA_TYPE, 400, 415},
        {RD_NOT_ACCEPTABLE, 400, 406}, {RD_NOT_FOUND, 404, 404}, {RD_FORBIDDEN, 403, 403},
        {RD_METHOD, 405, 405}, {RD_INTERNAL, 500, 500}, {RD_UNAUTHORIZED, 401, 401},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(problem_status(&zou, cases[i].e), cases[i].zou);
        assert_int_equal(problem_status(&prob, cases[i].e), cases[i].problem);
    }
    arena_free(a);
}

static void zou_conflict_messages(void **state)
{
    arena *a = arena_new();
    app zou = {.name = "t", .errors = ES_ZOU}, prob = {.name = "t", .errors = ES_PROBLEM};
    assert_string_equal(problem_write_detail(&zou, RD_CONFLICT, SC_UNIQUE, "name: taken", a),
                        "A record with the same unique values already exists.");
    assert_string_equal(problem_write_detail(&zou, RD_CONFLICT, SC_MISSING, "x_id: there is no x", a),
                        "A referenced record does not exist (x_id: there is no x).");
    assert_string_equal(problem_write_detail(&zou, RD_CONFLICT, SC_REFERENCED, NULL, a),
                        "The record cannot be deleted: other records still refer to it.");
    assert_string_equal(problem_write_detail(&zou, RD_NOT_FOUND, SC_NONE, "no x", a), "no x");
    assert_string_equal(problem_write_detail(&prob, RD_CONFLICT, SC_UNIQUE, "name: taken", a), "name: taken");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(problem_details),
        cmocka_unit_test(validation_groups_by_key),
        cmocka_unit_test(zou_shape),
        cmocka_unit_test(reason_phrase_is_sanitised),
        cmocka_unit_test(zou_maps_refusals_to_400),
        cmocka_unit_test(zou_conflict_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

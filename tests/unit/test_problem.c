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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(problem_details),
        cmocka_unit_test(validation_groups_by_key),
        cmocka_unit_test(zou_shape),
        cmocka_unit_test(reason_phrase_is_sanitised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

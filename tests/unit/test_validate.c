/* Unit tests for request body validation (src/api/validate.c). The model is
 * built by hand here, independent of the app-file loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/validate.h"
#include "rd_limits.h"

static const char *const status_values[] = {"open", "closed"};

static app_model person = {.name = "person", .route = "persons"};

/* Field order is the model order rowvals must follow. */
enum { F_TITLE, F_BODY, F_PRIORITY, F_SCORE, F_DONE, F_DUE, F_STATUS, F_OWNER, F_TAGS, F_SECRET, F_META,
       F_OPENED, F_CODE, F_DUE_DATE, NF };

#define FIELD(n, t) .name = n, .json_name = n, .error_name = n, .type = t
static app_field fields[NF] = {
    [F_TITLE] = {FIELD("title", FT_STRING), .required = true, .max_length = 80},
    [F_BODY] = {FIELD("body", FT_TEXT)},
    [F_PRIORITY] = {FIELD("priority", FT_INTEGER), .has_min = true, .min = 1, .has_max = true, .max = 5,
                    .default_json = "3"},
    [F_SCORE] = {FIELD("score", FT_NUMBER)},
    [F_DONE] = {FIELD("done", FT_BOOLEAN), .default_json = "false"},
    [F_DUE] = {FIELD("due", FT_DATE)},
    [F_STATUS] = {FIELD("status", FT_ENUM), .enum_values = status_values, .n_enum = 2,
                  .default_json = "\"open\""},
    [F_OWNER] = {FIELD("owner", FT_REF), .ref_name = "person", .ref = &person},
    [F_TAGS] = {FIELD("tags", FT_REF_LIST), .ref_name = "person", .ref = &person, .link_table = "ticket__tags"},
    [F_SECRET] = {FIELD("secret", FT_STRING), .read_only = true, .default_json = "\"s3\""},
    [F_META] = {FIELD("meta", FT_JSON)},
    [F_OPENED] = {FIELD("opened_at", FT_DATETIME)},
    [F_CODE] = {FIELD("code", FT_STRING), .required = true, .read_only = true},
    /* Payload and error names differ from the column name. */
    [F_DUE_DATE] = {.name = "due_date", .json_name = "dueDate", .error_name = "DueDate", .type = FT_DATE,
                    .default_json = "\"2024-02-29\""},
};

static app_model ticket = {.name = "ticket", .route = "tickets", .fields = fields, .n_fields = NF};

static app the_app = {.name = "t", .payload_case = KC_SNAKE, .error_case = KC_SNAKE, .dates = DS_ISO8601,
                      .models = &ticket, .n_models = 1};

typedef struct fx {
    arena *a;
    rowvals rv;
    verrs errs;
    rd_err rc;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    x->a = arena_new();
    *state = x;
    the_app.payload_case = KC_SNAKE;
    the_app.dates = DS_ISO8601;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    arena_free(x->a);
    free(x);
    return 0;
}

/* Validate JSON text j; the body is freed before the caller looks at the
 * results, as crud.c does. */
static rd_err run(fx *x, const char *j, val_mode mode)
{
    json_error_t e;
    json_t *body = json_loads(j, JSON_DECODE_ANY, &e);
    if (!body)
        fail_msg("test JSON '%s': %s", j, e.text);
    memset(&x->rv, 0x5a, sizeof x->rv);
    x->errs = (verrs){0};
    x->rc = val_body(&the_app, &ticket, body, mode, x->a, &x->rv, &x->errs);
    json_decref(body);
    if (x->rc == RD_OK)
        assert_int_equal(x->errs.n, 0);
    else
        assert_true(x->errs.n > 0);
    return x->rc;
}

static void ok(fx *x, const char *j, val_mode mode)
{
    if (run(x, j, mode) != RD_OK) {
        for (size_t i = 0; i < x->errs.n; i++)
            print_message("  %s: %s\n", x->errs.items[i].key, x->errs.items[i].msg);
        fail_msg("rejected: %s", j);
    }
}

/* The value set for field fi, or NULL when the field is not in rowvals. */
static const sqlval *val_of(fx *x, int fi)
{
    for (size_t i = 0; i < x->rv.n; i++)
        if (x->rv.fields[i] == &fields[fi])
            return &x->rv.vals[i];
    return NULL;
}

static const reflist *list_of(fx *x, int fi)
{
    for (size_t i = 0; i < x->rv.n_lists; i++)
        if (x->rv.lists[i].field == &fields[fi])
            return &x->rv.lists[i];
    return NULL;
}

/* The message for key, or NULL. */
static const char *err_for(fx *x, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < x->errs.n; i++) {
        if (strcmp(x->errs.items[i].key, key) == 0) {
            assert_null(found); /* one message per key */
            found = x->errs.items[i].msg;
        }
    }
    return found;
}

static void only_err(fx *x, const char *j, val_mode mode, const char *key, const char *msg)
{
    assert_int_equal(run(x, j, mode), RD_VALIDATION);
    if (x->errs.n != 1 || strcmp(x->errs.items[0].key, key) || strcmp(x->errs.items[0].msg, msg))
        fail_msg("%s: got %zu errors, first %s: %s", j, x->errs.n, x->errs.items[0].key, x->errs.items[0].msg);
}

/* rowvals follow model order. */
static void assert_model_order(fx *x)
{
    for (size_t i = 1; i < x->rv.n; i++)
        assert_true(x->rv.fields[i - 1] < x->rv.fields[i]);
    for (size_t i = 1; i < x->rv.n_lists; i++)
        assert_true(x->rv.lists[i - 1].field < x->rv.lists[i].field);
}

/* ---- tests --------------------------------------------------------------- */

static void test_not_object(void **state)
{
    fx *x = *state;
    const char *bodies[] = {"[]", "[{\"title\":\"x\"}]", "\"x\"", "1", "null", "true"};
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        for (val_mode mode = VAL_CREATE; mode <= VAL_PATCH; mode++)
            only_err(x, bodies[i], mode, "$", "The request body must be a JSON object.");
}

static void test_create_minimal(void **state)
{
    fx *x = *state;
    ok(x, "{\"title\": \"Printer on fire\"}", VAL_CREATE);
    assert_model_order(x);
    /* title, then the defaults; optional fields without a default are left out. */
    assert_int_equal(x->rv.n, 6);
    assert_string_equal(val_of(x, F_TITLE)->s, "Printer on fire");
    assert_int_equal(val_of(x, F_PRIORITY)->kind, SV_INT);
    assert_int_equal(val_of(x, F_PRIORITY)->i, 3);
    assert_int_equal(val_of(x, F_DONE)->kind, SV_INT);
    assert_int_equal(val_of(x, F_DONE)->i, 0);
    assert_string_equal(val_of(x, F_STATUS)->s, "open");
    assert_string_equal(val_of(x, F_SECRET)->s, "s3"); /* read-only: defaults still apply */
    assert_string_equal(val_of(x, F_DUE_DATE)->s, "2024-02-29");
    assert_null(val_of(x, F_BODY));
    assert_null(val_of(x, F_SCORE));
    assert_null(val_of(x, F_OWNER));
    assert_null(val_of(x, F_CODE)); /* required but read-only: the server's to set */
    assert_int_equal(x->rv.n_lists, 0);
}

static void test_create_full(void **state)
{
    fx *x = *state;
    ok(x,
       "{\"tags\": [\"00000000-0000-0000-0000-000000000002\", \"00000000-0000-0000-0000-000000000001\"],"
       " \"title\": \"t\", \"body\": \"long\", \"priority\": 5, \"score\": 2.5, \"done\": true,"
       " \"due\": \"2024-03-01\", \"status\": \"closed\", \"owner\": \"ABCDEF01-2345-6789-ABCD-EF0123456789\","
       " \"meta\": {\"x\": [1, 0.1]}, \"opened_at\": \"2026-03-01T14:05:09+02:00\", \"dueDate\": \"2025-01-01\"}",
       VAL_CREATE);
    assert_model_order(x);
    assert_int_equal(x->rv.n, 12);
    assert_int_equal(val_of(x, F_PRIORITY)->i, 5);
    assert_true(val_of(x, F_SCORE)->d == 2.5);
    assert_int_equal(val_of(x, F_DONE)->i, 1);
    assert_string_equal(val_of(x, F_OWNER)->s, "abcdef01-2345-6789-abcd-ef0123456789");
    assert_string_equal(val_of(x, F_META)->s, "{\"x\":[1,0.1]}");
    assert_string_equal(val_of(x, F_OPENED)->s, "2026-03-01T12:05:09.000000Z");
    assert_string_equal(val_of(x, F_DUE_DATE)->s, "2025-01-01");
    const reflist *l = list_of(x, F_TAGS);
    assert_non_null(l);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->ids[0], "00000000-0000-0000-0000-000000000002");
    assert_string_equal(l->ids[1], "00000000-0000-0000-0000-000000000001");
}

static void test_required(void **state)
{
    fx *x = *state;
    only_err(x, "{}", VAL_CREATE, "title", "The title field is required.");
    only_err(x, "{\"body\": \"b\"}", VAL_REPLACE, "title", "The title field is required.");
    only_err(x, "{\"title\": null}", VAL_CREATE, "title", "The title field is required.");
    only_err(x, "{\"title\": null}", VAL_PATCH, "title", "The title field is required.");
    /* Empty string is a value. */
    ok(x, "{\"title\": \"\"}", VAL_CREATE);
}

static void test_unknown_and_server_keys(void **state)
{
    fx *x = *state;
    only_err(x, "{\"title\": \"t\", \"bogus\": 1}", VAL_CREATE, "bogus", "The field 'bogus' is not part of ticket.");
    /* Hostile keys are kept raw; the JSON writer escapes them later. */
    only_err(x, "{\"title\": \"t\", \"a\\\"b\\n<c>\": 1}", VAL_CREATE, "a\"b\n<c>",
             "The field 'a\"b\n<c>' is not part of ticket.");
    /* Column names are not payload names. */
    only_err(x, "{\"title\": \"t\", \"due_date\": \"2024-01-01\"}", VAL_CREATE, "due_date",
             "The field 'due_date' is not part of ticket.");
    /* Server-maintained keys are ignored in every mode. */
    ok(x, "{\"id\": \"x\", \"created_at\": 1, \"updated_at\": null, \"title\": \"t\"}", VAL_CREATE);
    ok(x, "{\"id\": \"x\", \"created_at\": 1, \"updated_at\": null}", VAL_PATCH);
    assert_int_equal(x->rv.n, 0);
}

static void test_server_keys_camel(void **state)
{
    fx *x = *state;
    the_app.payload_case = KC_CAMEL;
    ok(x, "{\"id\": 1, \"createdAt\": 1, \"updatedAt\": 1}", VAL_PATCH);
    assert_int_equal(run(x, "{\"created_at\": 1, \"updated_at\": 2}", VAL_PATCH), RD_VALIDATION);
    assert_int_equal(x->errs.n, 2);
    assert_string_equal(err_for(x, "created_at"), "The field 'created_at' is not part of ticket.");
    assert_string_equal(err_for(x, "updated_at"), "The field 'updated_at' is not part of ticket.");
    the_app.payload_case = KC_PASCAL;
    ok(x, "{\"Id\": 1, \"CreatedAt\": 1, \"UpdatedAt\": 1}", VAL_PATCH);
    assert_int_equal(run(x, "{\"id\": 1}", VAL_PATCH), RD_VALIDATION);
}

static void test_read_only(void **state)
{
    fx *x = *state;
    only_err(x, "{\"title\": \"t\", \"secret\": \"mine\"}", VAL_CREATE, "secret", "The secret field is read-only.");
    only_err(x, "{\"secret\": null}", VAL_PATCH, "secret", "The secret field is read-only.");
    only_err(x, "{\"code\": \"C-1\"}", VAL_PATCH, "code", "The code field is read-only.");
    /* REPLACE leaves read-only fields as stored. */
    ok(x, "{\"title\": \"t\"}", VAL_REPLACE);
    assert_null(val_of(x, F_SECRET));
    assert_null(val_of(x, F_CODE));
}

static void test_null_optional(void **state)
{
    fx *x = *state;
    ok(x, "{\"title\": \"t\", \"body\": null, \"priority\": null, \"owner\": null, \"tags\": null, \"meta\": null}",
       VAL_CREATE);
    assert_int_equal(val_of(x, F_BODY)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_PRIORITY)->kind, SV_NULL); /* explicit null beats the default */
    assert_int_equal(val_of(x, F_OWNER)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_META)->kind, SV_NULL);
    const reflist *l = list_of(x, F_TAGS);
    assert_non_null(l);
    assert_int_equal(l->n, 0);
    assert_model_order(x);
}

static void test_type_errors(void **state)
{
    fx *x = *state;
    only_err(x, "{\"title\": 7}", VAL_CREATE, "title", "The title field must be a string.");
    only_err(x, "{\"priority\": 9}", VAL_PATCH, "priority", "The priority field must be at most 5.");
    only_err(x, "{\"priority\": 0}", VAL_PATCH, "priority", "The priority field must be at least 1.");
    only_err(x, "{\"priority\": 2.0}", VAL_PATCH, "priority", "The priority field must be an integer.");
    only_err(x, "{\"score\": \"1\"}", VAL_PATCH, "score", "The score field must be a number.");
    only_err(x, "{\"done\": 1}", VAL_PATCH, "done", "The done field must be true or false.");
    only_err(x, "{\"due\": \"2023-02-29\"}", VAL_PATCH, "due", "The due field must be a date (YYYY-MM-DD).");
    only_err(x, "{\"status\": \"pending\"}", VAL_PATCH, "status", "The status field must be one of: open, closed.");
    only_err(x, "{\"owner\": \"nobody\"}", VAL_PATCH, "owner", "The owner field must be a UUID.");
    only_err(x, "{\"opened_at\": \"yesterday\"}", VAL_PATCH, "opened_at",
             "The opened_at field must be a date-time (YYYY-MM-DDTHH:MM:SSZ).");
    only_err(x, "{\"dueDate\": \"soon\"}", VAL_PATCH, "DueDate", "The DueDate field must be a date (YYYY-MM-DD).");
    char big[200];
    snprintf(big, sizeof big, "{\"title\": \"%081d\"}", 0);
    only_err(x, big, VAL_CREATE, "title", "The title field must be at most 80 characters.");
}

static void test_many_errors(void **state)
{
    fx *x = *state;
    assert_int_equal(run(x,
                         "{\"nope\": 1, \"priority\": \"high\", \"secret\": \"s\", \"tags\": 5, \"done\": null,"
                         " \"zzz\": {}, \"due\": 20240101, \"owner\": [], \"meta\": 1}",
                         VAL_CREATE),
                     RD_VALIDATION);
    assert_int_equal(x->errs.n, 8);
    assert_string_equal(err_for(x, "nope"), "The field 'nope' is not part of ticket.");
    assert_string_equal(err_for(x, "zzz"), "The field 'zzz' is not part of ticket.");
    assert_string_equal(err_for(x, "title"), "The title field is required.");
    assert_string_equal(err_for(x, "priority"), "The priority field must be an integer.");
    assert_string_equal(err_for(x, "secret"), "The secret field is read-only.");
    assert_string_equal(err_for(x, "tags"), "The tags field must be an array of UUIDs.");
    assert_string_equal(err_for(x, "due"), "The due field must be a date (YYYY-MM-DD).");
    assert_string_equal(err_for(x, "owner"), "The owner field must be a UUID.");
    assert_null(err_for(x, "done")); /* optional: null is fine */
    assert_null(err_for(x, "meta")); /* any JSON */
    /* Unknown keys first (body order), then fields in model order. */
    assert_string_equal(x->errs.items[0].key, "nope");
    assert_string_equal(x->errs.items[1].key, "zzz");
    assert_string_equal(x->errs.items[2].key, "title");
    assert_string_equal(x->errs.items[7].key, "secret");
}

static void test_replace(void **state)
{
    fx *x = *state;
    ok(x, "{\"title\": \"t\", \"priority\": 4}", VAL_REPLACE);
    assert_model_order(x);
    assert_int_equal(val_of(x, F_PRIORITY)->i, 4);
    assert_int_equal(val_of(x, F_DONE)->i, 0);               /* default */
    assert_string_equal(val_of(x, F_STATUS)->s, "open");     /* default */
    assert_int_equal(val_of(x, F_BODY)->kind, SV_NULL);      /* cleared */
    assert_int_equal(val_of(x, F_SCORE)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_DUE)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_OWNER)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_META)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_OPENED)->kind, SV_NULL);
    assert_string_equal(val_of(x, F_DUE_DATE)->s, "2024-02-29");
    assert_int_equal(x->rv.n, 11); /* all but the two read-only fields (and tags) */
    const reflist *l = list_of(x, F_TAGS);
    assert_non_null(l); /* links cleared */
    assert_int_equal(l->n, 0);
}

static void test_patch(void **state)
{
    fx *x = *state;
    ok(x, "{}", VAL_PATCH);
    assert_int_equal(x->rv.n, 0);
    assert_int_equal(x->rv.n_lists, 0);
    ok(x, "{\"score\": 1, \"body\": null}", VAL_PATCH);
    assert_int_equal(x->rv.n, 2);
    assert_model_order(x);
    assert_int_equal(val_of(x, F_BODY)->kind, SV_NULL);
    assert_int_equal(val_of(x, F_SCORE)->kind, SV_REAL);
    assert_null(val_of(x, F_PRIORITY)); /* defaults do not apply */
    ok(x, "{\"tags\": []}", VAL_PATCH);
    assert_int_equal(x->rv.n, 0);
    assert_int_equal(x->rv.n_lists, 1);
    assert_int_equal(x->rv.lists[0].n, 0);
}

static void test_ref_list(void **state)
{
    fx *x = *state;
    /* Duplicates collapse (case-insensitively), first occurrence order kept. */
    ok(x,
       "{\"tags\": [\"b0000000-0000-0000-0000-000000000000\", \"A0000000-0000-0000-0000-000000000000\","
       " \"B0000000-0000-0000-0000-000000000000\", \"a0000000-0000-0000-0000-000000000000\","
       " \"c0000000-0000-0000-0000-000000000000\", \"b0000000-0000-0000-0000-000000000000\"]}",
       VAL_PATCH);
    const reflist *l = list_of(x, F_TAGS);
    assert_int_equal(l->n, 3);
    assert_string_equal(l->ids[0], "b0000000-0000-0000-0000-000000000000");
    assert_string_equal(l->ids[1], "a0000000-0000-0000-0000-000000000000");
    assert_string_equal(l->ids[2], "c0000000-0000-0000-0000-000000000000");
    assert_ptr_equal(l->field, &fields[F_TAGS]);

    only_err(x, "{\"tags\": \"a0000000-0000-0000-0000-000000000000\"}", VAL_PATCH, "tags",
             "The tags field must be an array of UUIDs.");
    only_err(x, "{\"tags\": [\"a0000000-0000-0000-0000-000000000000\", 1]}", VAL_PATCH, "tags",
             "The tags field must be an array of UUIDs.");
    only_err(x, "{\"tags\": [\"nope\"]}", VAL_PATCH, "tags", "The tags field must be an array of UUIDs.");
    only_err(x, "{\"tags\": [null]}", VAL_PATCH, "tags", "The tags field must be an array of UUIDs.");
    only_err(x, "{\"tags\": {}}", VAL_PATCH, "tags", "The tags field must be an array of UUIDs.");

    /* The item cap: exactly RD_MAX_REF_LIST is fine (and fast with
     * duplicates), one more is not. */
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = RD_MAX_REF_LIST + (size_t)extra;
        char *j = malloc(n * 40 + 32);
        char *p = j + sprintf(j, "{\"tags\": [");
        for (size_t i = 0; i < n; i++)
            p += sprintf(p, "%s\"%08zx-0000-0000-0000-000000000000\"", i ? "," : "", i % 5000);
        strcpy(p, "]}");
        if (!extra) {
            ok(x, j, VAL_PATCH);
            l = list_of(x, F_TAGS);
            assert_int_equal(l->n, 5000);
            for (size_t i = 0; i < 5000; i++) {
                char want[40];
                snprintf(want, sizeof want, "%08zx-0000-0000-0000-000000000000", i);
                assert_string_equal(l->ids[i], want);
            }
        } else {
            only_err(x, j, VAL_PATCH, "tags", "The tags field must have at most 10000 items.");
        }
        free(j);
    }
}

static void test_ref_list_required(void **state)
{
    fx *x = *state;
    fields[F_TAGS].required = true;
    only_err(x, "{\"title\": \"t\"}", VAL_CREATE, "tags", "The tags field is required.");
    only_err(x, "{\"tags\": null}", VAL_PATCH, "tags", "The tags field is required.");
    ok(x, "{\"title\": \"t\", \"tags\": []}", VAL_CREATE);
    fields[F_TAGS].required = false;
    /* A default list. */
    fields[F_TAGS].default_json = "[\"a0000000-0000-0000-0000-000000000000\"]";
    ok(x, "{\"title\": \"t\"}", VAL_CREATE);
    assert_int_equal(list_of(x, F_TAGS)->n, 1);
    fields[F_TAGS].default_json = NULL;
}

static void test_unknown_cap(void **state)
{
    fx *x = *state;
    char *j = malloc(100 * 16 + 64);
    char *p = j + sprintf(j, "{\"title\": 1");
    for (int i = 0; i < 100; i++)
        p += sprintf(p, ", \"k%d\": %d", i, i);
    strcpy(p, "}");
    assert_int_equal(run(x, j, VAL_CREATE), RD_VALIDATION);
    free(j);
    /* 32 unknown keys listed, one summary, and the title error. */
    assert_int_equal(x->errs.n, 34);
    assert_string_equal(x->errs.items[0].key, "k0");
    assert_string_equal(x->errs.items[31].key, "k31");
    assert_string_equal(err_for(x, "$"), "The body has 68 more fields that are not part of ticket.");
    assert_string_equal(err_for(x, "title"), "The title field must be a string.");
}

static void test_date_style(void **state)
{
    fx *x = *state;
    the_app.dates = DS_COMPACT;
    ok(x, "{\"title\": \"t\", \"due\": \"20240229\", \"opened_at\": \"20260301140509\"}", VAL_CREATE);
    assert_string_equal(val_of(x, F_DUE)->s, "2024-02-29");
    assert_string_equal(val_of(x, F_OPENED)->s, "2026-03-01T14:05:09.000000Z");
    /* The ISO default of dueDate still applies in a compact app. */
    assert_string_equal(val_of(x, F_DUE_DATE)->s, "2024-02-29");
    only_err(x, "{\"due\": \"2024-02-29\"}", VAL_PATCH, "due", "The due field must be a date (yyyyMMdd).");
}

static void test_bad_default(void **state)
{
    fx *x = *state;
    fields[F_PRIORITY].default_json = "99";
    only_err(x, "{\"title\": \"t\"}", VAL_CREATE, "priority", "The priority field has an invalid default.");
    fields[F_PRIORITY].default_json = "{";
    only_err(x, "{\"title\": \"t\"}", VAL_CREATE, "priority",
             "The priority field has a default that is not valid JSON.");
    fields[F_PRIORITY].default_json = "null";
    ok(x, "{\"title\": \"t\"}", VAL_CREATE);
    assert_int_equal(val_of(x, F_PRIORITY)->kind, SV_NULL);
    fields[F_PRIORITY].default_json = "3";
}

static void test_verrs_add(void **state)
{
    fx *x = *state;
    verrs e = {0};
    for (int i = 0; i < 1000; i++)
        verrs_add(&e, x->a, arena_printf(x->a, "k%d", i), "m");
    assert_int_equal(e.n, 1000);
    assert_true(e.cap >= 1000);
    assert_string_equal(e.items[0].key, "k0");
    assert_string_equal(e.items[999].key, "k999");
    /* val_body appends to errors already there. */
    x->errs = e;
    json_t *body = json_loads("{}", 0, NULL);
    assert_int_equal(val_body(&the_app, &ticket, body, VAL_CREATE, x->a, &x->rv, &x->errs), RD_VALIDATION);
    json_decref(body);
    assert_int_equal(x->errs.n, 1001);
    assert_string_equal(x->errs.items[1000].key, "title");
}

/* On failure the output is left alone. */
static void test_no_side_effects(void **state)
{
    fx *x = *state;
    json_t *body = json_loads("{\"priority\": 0}", 0, NULL);
    rowvals rv = {.n = 77};
    verrs e = {0};
    assert_int_equal(val_body(&the_app, &ticket, body, VAL_PATCH, x->a, &rv, &e), RD_VALIDATION);
    json_decref(body);
    assert_int_equal(rv.n, 77);
    assert_null(rv.fields);
}

/* ---- put: merge, create_only, lenient ref_lists ------------------------- */

enum { G_NAME, G_PROJECT, G_LABEL, G_TEAM, NG };
static app_field gfields[NG] = {
    [G_NAME] = {FIELD("name", FT_STRING), .required = true, .max_length = 80},
    [G_PROJECT] = {FIELD("project_id", FT_REF), .ref_name = "person", .ref = &person, .required = true,
                   .create_only = true},
    [G_LABEL] = {FIELD("label", FT_STRING), .read_only = true}, /* as a computed field is */
    [G_TEAM] = {FIELD("team", FT_REF_LIST), .ref_name = "person", .ref = &person, .link_table = "g__team"},
};
static app_model group = {.name = "group", .route = "groups", .fields = gfields, .n_fields = NG};

#define PID "0190a0b0-0000-7000-8000-000000000001"
#define PID2 "0190a0b0-0000-7000-8000-000000000002"

static rd_err grun(fx *x, const char *j, val_mode mode)
{
    json_error_t e;
    json_t *body = json_loads(j, JSON_DECODE_ANY, &e);
    if (!body)
        fail_msg("test JSON '%s': %s", j, e.text);
    x->errs = (verrs){0};
    x->rc = val_body(&the_app, &group, body, mode, x->a, &x->rv, &x->errs);
    json_decref(body);
    return x->rc;
}

static bool gsets(fx *x, int gi)
{
    for (size_t i = 0; i < x->rv.n; i++)
        if (x->rv.fields[i] == &gfields[gi])
            return true;
    for (size_t i = 0; i < x->rv.n_lists; i++)
        if (x->rv.lists[i].field == &gfields[gi])
            return true;
    return false;
}

static void test_merge_ignores_what_it_cannot_take(void **state)
{
    fx *x = *state;
    assert_int_equal(grun(x, "{\"name\": \"n\", \"type\": \"Group\", \"label\": \"x\", \"nope\": [1],"
                             " \"id\": \"a\", \"project_id\": \"" PID2 "\"}", VAL_MERGE), RD_OK);
    assert_int_equal(x->rv.n, 1);
    assert_true(gsets(x, G_NAME));
    assert_false(gsets(x, G_PROJECT) || gsets(x, G_LABEL) || gsets(x, G_TEAM));
    /* nothing given: nothing set, no "required" */
    assert_int_equal(grun(x, "{}", VAL_MERGE), RD_OK);
    assert_int_equal(x->rv.n + x->rv.n_lists, 0);
    /* the fields it takes are still checked */
    assert_int_equal(grun(x, "{\"name\": null, \"type\": 1}", VAL_MERGE), RD_VALIDATION);
    assert_int_equal(x->errs.n, 1);
    assert_string_equal(x->errs.items[0].key, "name");
    /* PATCH stays strict about the same body */
    assert_int_equal(grun(x, "{\"type\": \"Group\", \"label\": \"x\"}", VAL_PATCH), RD_VALIDATION);
    assert_int_equal(x->errs.n, 2);
}

static void test_create_only(void **state)
{
    fx *x = *state;
    assert_int_equal(grun(x, "{\"name\": \"n\", \"project_id\": \"" PID "\"}", VAL_CREATE), RD_OK);
    assert_true(gsets(x, G_PROJECT));
    assert_int_equal(grun(x, "{\"name\": \"n\"}", VAL_CREATE), RD_VALIDATION); /* still required */
    /* ignored on every update, valid or not; absent is untouched, not "required" */
    for (val_mode m = VAL_REPLACE; m <= VAL_MERGE; m++) {
        assert_int_equal(grun(x, "{\"name\": \"n\", \"project_id\": \"not a uuid\"}", m), RD_OK);
        assert_false(gsets(x, G_PROJECT));
        assert_int_equal(grun(x, "{\"name\": \"n\"}", m), RD_OK);
        assert_false(gsets(x, G_PROJECT));
    }
}

static void test_lenient_ref_lists(void **state)
{
    fx *x = *state;
    const char *j = "{\"name\": \"n\", \"project_id\": \"" PID "\", \"team\": [{\"id\": \"" PID "\", \"name\": \"a\"},"
                    " \"" PID2 "\", {\"id\": \"" PID "\"}]}";
    assert_int_equal(grun(x, j, VAL_CREATE), RD_VALIDATION); /* strict by default */
    the_app.lenient_ref_lists = true;
    rd_err rc = grun(x, j, VAL_CREATE);
    const reflist *l = rc == RD_OK && x->rv.n_lists == 1 ? &x->rv.lists[0] : NULL;
    bool ids_ok = l && l->n == 2 && strcmp(l->ids[0], PID) == 0 && strcmp(l->ids[1], PID2) == 0;
    static const char *const bad[] = {"[{\"name\": \"a\"}]", "[{\"id\": 1}]", "[{\"id\": \"x\"}]", "[[\"" PID "\"]]",
                                      "{\"id\": \"" PID "\"}"};
    size_t refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"name\": \"n\", \"project_id\": \"" PID "\", \"team\": %s}", bad[i]);
        refused += grun(x, body, VAL_CREATE) == RD_VALIDATION;
    }
    the_app.lenient_ref_lists = false;
    assert_int_equal(rc, RD_OK);
    assert_true(ids_ok);
    assert_int_equal(refused, sizeof bad / sizeof bad[0]);
}

static void test_unknown_key(void **state)
{
    fx *x = *state;
    json_t *b = json_loads("{\"id\": 1, \"name\": \"n\", \"created_at\": 2, \"zz\": 1, \"type\": 2}", 0, NULL);
    assert_string_equal(val_unknown_key(&the_app, &group, b, x->a), "zz");
    json_decref(b);
    b = json_loads("{\"id\": 1, \"name\": \"n\"}", 0, NULL);
    assert_null(val_unknown_key(&the_app, &group, b, x->a));
    json_decref(b);
    b = json_loads("[1]", 0, NULL);
    assert_null(val_unknown_key(&the_app, &group, b, x->a));
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_server_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_keys_camel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_optional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ref_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ref_list_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_style, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verrs_add, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_side_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_ignores_what_it_cannot_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lenient_ref_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the app-file loader (src/app/app.c, model.c, auth.c, yaml_walk.c).
 *
 * Each test writes an app.yaml into a private mkdtemp directory and loads
 * it. Accepted files are checked attribute by attribute; rejected ones must
 * name the exact line of every problem, as "PATH:LINE:COL: message". Run
 * from the repository root (the demo app is loaded from apps/demo). Leaks
 * are caught by LeakSanitizer in the sanitizer build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/app.h"
#include "rd_limits.h"

#include "app_file.h"

/* The loaded app; fails the test (showing the report) when it is rejected. */
static app *load_ok(const char *text)
{
    char *errs = (char *)"unset";
    app *a = load_text(text, &errs);
    if (!a)
        print_error("unexpected rejection:\n%s", errs ? errs : "(no report)");
    assert_non_null(a);
    assert_null(errs);
    return a;
}

/* The number of lines in a report. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Load text; it must be rejected with a problem at line containing needle.
 * Returns the number of problems reported. */
static int expect_error(const char *text, unsigned line, const char *needle)
{
    char *errs = NULL;
    app *a = load_text(text, &errs);
    if (a)
        app_free(a);
    assert_null(a);
    assert_non_null(errs);
    if (!has_error(errs, line, needle))
        print_error("wanted line %u with \"%s\", got:\n%s", line, needle, errs);
    assert_true(has_error(errs, line, needle));
    int n = count_lines(errs);
    free(errs);
    return n;
}

/* Lines 1-4 of most fixtures; the first field is on line 5. */
#define HEAD "app: {name: t}\nmodels:\n  m:\n    fields:\n"

/* ---- accepted files -------------------------------------------------- */

static const char full_example[] =
    "app:\n"                                                                  /* 1 */
    "  name: demo\n"                                                          /* 2 */
    "  title: Demo API\n"                                                     /* 3 */
    "  version: \"1.0\"\n"                                                    /* 4 */
    "  base_path: /api\n"                                                     /* 5 */
    "  health_path: /healthz\n"                                               /* 6 */
    "  limits:\n"                                                             /* 7 */
    "    max_body_bytes: 2048\n"                                              /* 8 */
    "  conventions:\n"                                                        /* 9 */
    "    payload_keys: camel\n"                                               /* 10 */
    "    error_keys: snake\n"                                                 /* 11 */
    "    dates: compact\n"                                                    /* 12 */
    "    errors: zou\n"                                                       /* 13 */
    "models:\n"                                                               /* 14 */
    "  project:\n"                                                            /* 15 */
    "    route: projects\n"                                                   /* 16 */
    "    fields:\n"                                                           /* 17 */
    "      name: {type: string, required: true, unique: true, max_length: 80}\n" /* 18 */
    "      code: {type: string, pattern: \"^[A-Z]{2,8}$\"}\n"                 /* 19 */
    "      budget: {type: number, min: 0}\n"                                  /* 20 */
    "      status: {type: enum, values: [open, closed], default: open}\n"     /* 21 */
    "      owner: {type: ref, model: person}\n"                               /* 22 */
    "      members: {type: ref_list, model: person}\n"                        /* 23 */
    "      starts_on: {type: date}\n"                                         /* 24 */
    "      settings: {type: json, default: '{\"a\": [1, 2]}'}\n"              /* 25 */
    "      archived: {type: boolean, default: false}\n"                       /* 26 */
    "      external_ref: {type: string, json_name: ExternalRef, read_only: true}\n" /* 27 */
    "      parent: {type: ref, model: project}\n"                             /* 28 */
    "      priority: {type: integer, min: 1, max: 5, default: 3}\n"           /* 29 */
    "      notes: {type: text}\n"                                             /* 30 */
    "      ratio: {type: number, default: 0.5}\n"                             /* 31 */
    "      key: {type: uuid, unique: true}\n"                                 /* 32 */
    "      due_at: {type: datetime}\n"                                        /* 33 */
    "    indexes:\n"                                                          /* 34 */
    "      - fields: [status, starts_on]\n"                                   /* 35 */
    "      - {fields: [code], unique: true}\n"                                /* 36 */
    "  person:\n"                                                             /* 37 */
    "    fields:\n"                                                           /* 38 */
    "      full_name: {type: string, required: true}\n";                      /* 39 */

static void test_full_example(void **state)
{
    app *a = load_ok(full_example);
    assert_string_equal(a->name, "demo");
    assert_string_equal(a->title, "Demo API");
    assert_string_equal(a->version, "1.0");
    assert_string_equal(a->base_path, "/api");
    assert_string_equal(a->health_path, "/healthz");
    assert_int_equal(a->max_body, 2048);
    assert_int_equal(a->payload_case, KC_CAMEL);
    assert_int_equal(a->error_case, KC_SNAKE);
    assert_int_equal(a->dates, DS_COMPACT);
    assert_int_equal(a->errors, ES_ZOU);
    assert_int_equal(a->n_models, 2);

    const app_model *p = &a->models[0], *person = &a->models[1];
    assert_string_equal(p->name, "project");
    assert_string_equal(p->route, "projects");
    assert_int_equal(p->line, 15);
    assert_string_equal(person->name, "person");
    assert_string_equal(person->route, "person"); /* defaults to the name */
    assert_int_equal(person->line, 37);
    assert_int_equal(p->n_fields, 16);
    assert_int_equal(person->n_fields, 1);

    static const struct {
        const char *name, *json, *err;
        field_type type;
        unsigned line;
    } want[] = {
        {"name", "name", "name", FT_STRING, 18},
        {"code", "code", "code", FT_STRING, 19},
        {"budget", "budget", "budget", FT_NUMBER, 20},
        {"status", "status", "status", FT_ENUM, 21},
        {"owner", "owner", "owner", FT_REF, 22},
        {"members", "members", "members", FT_REF_LIST, 23},
        {"starts_on", "startsOn", "starts_on", FT_DATE, 24},
        {"settings", "settings", "settings", FT_JSON, 25},
        {"archived", "archived", "archived", FT_BOOLEAN, 26},
        {"external_ref", "ExternalRef", "external_ref", FT_STRING, 27},
        {"parent", "parent", "parent", FT_REF, 28},
        {"priority", "priority", "priority", FT_INTEGER, 29},
        {"notes", "notes", "notes", FT_TEXT, 30},
        {"ratio", "ratio", "ratio", FT_NUMBER, 31},
        {"key", "key", "key", FT_UUID, 32},
        {"due_at", "dueAt", "due_at", FT_DATETIME, 33},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const app_field *f = &p->fields[i];
        assert_string_equal(f->name, want[i].name);
        assert_string_equal(f->json_name, want[i].json);
        assert_string_equal(f->error_name, want[i].err);
        assert_int_equal(f->type, want[i].type);
        assert_int_equal(f->line, want[i].line);
        assert_ptr_equal(app_field_by_name(p, want[i].name), f);
        assert_ptr_equal(app_field_by_json(p, want[i].json, strlen(want[i].json)), f);
    }

    const app_field *name = &p->fields[0];
    assert_true(name->required && name->unique && !name->read_only);
    assert_int_equal(name->max_length, 80);
    assert_null(name->pattern);
    assert_null(name->re);
    assert_null(name->default_json);

    const app_field *code = &p->fields[1];
    assert_false(code->required || code->unique);
    assert_int_equal(code->max_length, 255); /* string default */
    assert_string_equal(code->pattern, "^[A-Z]{2,8}$");
    assert_non_null(code->re);
    assert_int_equal(regexec(code->re, "ABC", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(code->re, "abc", 0, NULL, 0), 0);

    const app_field *budget = &p->fields[2];
    assert_true(budget->has_min);
    assert_false(budget->has_max);
    assert_true(budget->min == 0.0);

    const app_field *status = &p->fields[3];
    assert_int_equal(status->n_enum, 2);
    assert_string_equal(status->enum_values[0], "open");
    assert_string_equal(status->enum_values[1], "closed");
    assert_string_equal(status->default_json, "\"open\"");

    const app_field *owner = &p->fields[4], *members = &p->fields[5], *parent = &p->fields[10];
    assert_string_equal(owner->ref_name, "person");
    assert_ptr_equal(owner->ref, person); /* forward reference */
    assert_null(owner->link_table);
    assert_ptr_equal(members->ref, person);
    assert_string_equal(members->link_table, "project__members");
    assert_ptr_equal(parent->ref, p); /* self reference */

    assert_string_equal(p->fields[7].default_json, "{\"a\":[1,2]}");
    assert_string_equal(p->fields[8].default_json, "false");

    const app_field *ext = &p->fields[9];
    assert_true(ext->read_only);
    assert_false(ext->required);

    const app_field *prio = &p->fields[11];
    assert_true(prio->has_min && prio->has_max);
    assert_true(prio->min == 1.0 && prio->max == 5.0);
    assert_string_equal(prio->default_json, "3");

    assert_int_equal(p->fields[12].max_length, 0); /* text: the type's default */
    assert_string_equal(p->fields[13].default_json, "0.5");
    assert_true(p->fields[14].unique);

    assert_int_equal(p->n_indexes, 2);
    assert_string_equal(p->indexes[0].name, "ix_project__status_starts_on");
    assert_false(p->indexes[0].unique);
    assert_int_equal(p->indexes[0].n_fields, 2);
    assert_ptr_equal(p->indexes[0].fields[0], status);
    assert_ptr_equal(p->indexes[0].fields[1], &p->fields[6]);
    assert_int_equal(p->indexes[0].line, 35);
    assert_string_equal(p->indexes[1].name, "ux_project__code");
    assert_true(p->indexes[1].unique);
    assert_int_equal(p->indexes[1].n_fields, 1);
    assert_ptr_equal(p->indexes[1].fields[0], code);
    assert_int_equal(p->indexes[1].line, 36);
    assert_int_equal(person->n_indexes, 0);

    /* Lookups take n bytes, not NUL-terminated strings. */
    assert_ptr_equal(app_model_by_route(a, "projects/123", 8), p);
    assert_ptr_equal(app_model_by_route(a, "person", 6), person);
    assert_null(app_model_by_route(a, "project", 7));
    assert_null(app_model_by_route(a, "projectsX", 9));
    assert_ptr_equal(app_model_by_name(a, "person"), person);
    assert_null(app_model_by_name(a, "persons"));
    assert_ptr_equal(app_field_by_json(p, "startsOnX", 8), &p->fields[6]);
    assert_null(app_field_by_json(p, "starts_on", 9));
    assert_null(app_field_by_json(p, "startsO", 7));
    assert_null(app_field_by_name(p, "nope"));
    assert_null(app_field_by_json(p, "key\0xyz", 7)); /* a NUL inside is part of the key */
    assert_null(app_model_by_route(a, "person\0xy", 9));
    app_free(a);
}

static void test_defaults(void **state)
{
    app *a = load_ok("app:\n  name: x\nmodels:\n  thing:\n    fields:\n      label: {type: string}\n");
    assert_string_equal(a->base_path, "");
    assert_string_equal(a->health_path, "/health");
    assert_string_equal(a->title, "");
    assert_string_equal(a->version, "");
    assert_int_equal(a->max_body, RD_DEFAULT_MAX_BODY);
    assert_int_equal(a->payload_case, KC_SNAKE);
    assert_int_equal(a->error_case, KC_SNAKE);
    assert_int_equal(a->dates, DS_ISO8601);
    assert_int_equal(a->errors, ES_PROBLEM);
    /* Lists and versions: the built-in values, never 0. */
    assert_int_equal(a->default_limit, RD_DEFAULT_PAGE);
    assert_int_equal(a->max_limit, RD_MAX_PAGE);
    assert_int_equal(a->paging, PG_OFFSET);
    assert_int_equal(a->stored_filter_ttl, 86400);
    assert_int_equal(a->n_versions, 1);
    assert_int_equal(a->versions[0], 1);
    assert_string_equal(a->vendor, "x");
    const app_model *m = &a->models[0];
    assert_int_equal(m->n_nested, 0);
    assert_int_equal(m->since, 0);
    assert_int_equal(m->until, 0);
    const app_field *f = &m->fields[0];
    assert_false(f->required || f->unique || f->read_only || f->has_min || f->has_max);
    assert_false(f->expensive);
    assert_int_equal(f->since, 0);
    assert_int_equal(f->until, 0);
    assert_int_equal(f->max_length, 255);
    app_free(a);
}

/* Every key of lists, versions and nesting (docs/query.md). */
static const char lists_example[] =
    "app:\n"                                                   /* 1 */
    "  name: shop\n"                                           /* 2 */
    "  vendor: shop.eu-1\n"                                    /* 3 */
    "  versions: [1, 2, 5]\n"                                  /* 4 */
    "  lists:\n"                                               /* 5 */
    "    default_limit: 20\n"                                  /* 6 */
    "    max_limit: 500\n"                                     /* 7 */
    "    paging: page\n"                                       /* 8 */
    "    stored_filter_ttl: 3600\n"                            /* 9 */
    "models:\n"                                                /* 10 */
    "  category:\n"                                            /* 11 */
    "    fields:\n"                                            /* 12 */
    "      name: {type: string}\n"                             /* 13 */
    "      parent: {type: ref, model: category}\n"             /* 14 */
    "    nested_under: [category]\n"                           /* 15: itself */
    "  product:\n"                                             /* 16 */
    "    nested_under: [category, shelf]\n"                    /* 17: shelf comes later */
    "    since: 2\n"                                           /* 18 */
    "    until: 5\n"                                           /* 19 */
    "    fields:\n"                                            /* 20 */
    "      name: {type: string}\n"                             /* 21 */
    "      tags: {type: ref_list, model: category}\n"          /* 22: not a ref */
    "      category: {type: ref, model: category}\n"           /* 23 */
    "      place: {type: ref, model: shelf}\n"                 /* 24 */
    "      notes: {type: text, expensive: true}\n"             /* 25 */
    "      barcode: {type: string, since: 2}\n"                /* 26 */
    "      old_code: {type: string, until: 2}\n"               /* 27 */
    "      cheap: {type: integer, expensive: \"false\"}\n"   /* 28 */
    "      meta: {type: json, expensive: true, since: 1, until: 5}\n" /* 29 */
    "  shelf:\n"                                               /* 30 */
    "    fields:\n"                                            /* 31 */
    "      label: {type: string}\n";                           /* 32 */

static void test_lists_versions(void **state)
{
    app *a = load_ok(lists_example);
    assert_string_equal(a->vendor, "shop.eu-1");
    assert_int_equal(a->n_versions, 3);
    assert_int_equal(a->versions[0], 1);
    assert_int_equal(a->versions[1], 2);
    assert_int_equal(a->versions[2], 5);
    assert_int_equal(a->default_limit, 20);
    assert_int_equal(a->max_limit, 500);
    assert_int_equal(a->paging, PG_PAGE);
    assert_int_equal(a->stored_filter_ttl, 3600);

    const app_model *cat = app_model_by_name(a, "category");
    const app_model *prod = app_model_by_name(a, "product");
    const app_model *shelf = app_model_by_name(a, "shelf");
    assert_int_equal(cat->n_nested, 1);
    assert_ptr_equal(cat->nested_under[0], cat);
    assert_ptr_equal(cat->nested_via[0], app_field_by_name(cat, "parent"));
    assert_int_equal(cat->since, 0);
    assert_int_equal(cat->until, 0);

    assert_int_equal(prod->n_nested, 2);
    assert_ptr_equal(prod->nested_under[0], cat);
    assert_ptr_equal(prod->nested_via[0], app_field_by_name(prod, "category"));
    assert_ptr_equal(prod->nested_under[1], shelf);
    assert_ptr_equal(prod->nested_via[1], app_field_by_name(prod, "place"));
    assert_int_equal(prod->since, 2);
    assert_int_equal(prod->until, 5);
    assert_int_equal(shelf->n_nested, 0);

    static const struct {
        const char *name;
        bool expensive;
        int since, until;
    } want[] = {
        {"name", false, 0, 0},   {"tags", false, 0, 0},    {"category", false, 0, 0},
        {"place", false, 0, 0},  {"notes", true, 0, 0},    {"barcode", false, 2, 0},
        {"old_code", false, 0, 2}, {"cheap", false, 0, 0}, {"meta", true, 1, 5},
    };
    assert_int_equal(prod->n_fields, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const app_field *f = &prod->fields[i];
        assert_string_equal(f->name, want[i].name);
        assert_int_equal(f->expensive, want[i].expensive);
        assert_int_equal(f->since, want[i].since);
        assert_int_equal(f->until, want[i].until);
    }
    app_free(a);
}

/* default_limit follows a lower max_limit; a higher one leaves it at 100. */
static void test_list_limits(void **state)
{
    app *a = load_ok("app:\n  name: x\n  lists: {max_limit: 50}\nmodels:\n"
                     "  m: {fields: {a: {type: text}}}\n");
    assert_int_equal(a->max_limit, 50);
    assert_int_equal(a->default_limit, 50);
    app_free(a);
    a = load_ok("app:\n  name: x\n  lists: {max_limit: 100000, stored_filter_ttl: 31536000}\n"
                "models:\n  m: {fields: {a: {type: text}}}\n");
    assert_int_equal(a->max_limit, 100000);
    assert_int_equal(a->default_limit, RD_DEFAULT_PAGE);
    assert_int_equal(a->stored_filter_ttl, 31536000);
    app_free(a);
    a = load_ok("app:\n  name: x\n  lists: {default_limit: 1000, paging: offset}\n"
                "  versions: [7]\nmodels:\n  m: {fields: {a: {type: text, since: 7}}}\n");
    assert_int_equal(a->default_limit, 1000);
    assert_int_equal(a->max_limit, RD_MAX_PAGE);
    assert_int_equal(a->paging, PG_OFFSET);
    assert_int_equal(a->n_versions, 1);
    assert_int_equal(a->versions[0], 7);
    assert_int_equal(a->models[0].fields[0].since, 7);
    app_free(a);
}

/* Zou's list switches (docs/query.md, "Lenient lists") and field filter. */
static void test_list_zou_keys(void **state)
{
    app *a = load_ok("app:\n  name: x\n  lists:\n    paging: page\n    unknown_params: ignore\n"
                     "    unpaged: whole\n    relations: on_request\n    json_lists: true\n"
                     "    page_order: [-updated_at, -created_at, id]\n"
                     "models:\n  m: {fields: {a: {type: string, filter: ilike}, b: {type: text, filter: eq},"
                     " c: {type: string}}}\n");
    assert_true(a->ignore_unknown_params);
    assert_true(a->unpaged_whole);
    assert_true(a->relations_on_request);
    assert_true(a->json_lists);
    assert_int_equal(a->n_page_order, 3);
    assert_string_equal(a->page_order[0].column, "updated_at");
    assert_true(a->page_order[0].desc);
    assert_string_equal(a->page_order[1].column, "created_at");
    assert_string_equal(a->page_order[2].column, "id");
    assert_false(a->page_order[2].desc);
    assert_int_equal(a->models[0].fields[0].filter, FD_ILIKE);
    assert_int_equal(a->models[0].fields[1].filter, FD_EQ);
    assert_int_equal(a->models[0].fields[2].filter, FD_EQ);
    app_free(a);
    /* the defaults: strict */
    a = load_ok("app:\n  name: x\n  lists: {paging: page, unknown_params: reject, unpaged: limit,"
                " relations: always, json_lists: false}\nmodels:\n  m: {fields: {a: {type: text}}}\n");
    assert_false(a->ignore_unknown_params || a->unpaged_whole || a->relations_on_request || a->json_lists);
    assert_int_equal(a->n_page_order, 0);
    app_free(a);
}

/* The complete example of docs/app-format.md loads. */
static void test_doc_example(void **state)
{
    FILE *f = fopen("docs/app-format.md", "r");
    assert_non_null(f);
    static char doc[256 * 1024];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    const char *sec = strstr(doc, "\n## Complete example");
    assert_non_null(sec);
    const char *start = strstr(sec, "```yaml\n");
    assert_non_null(start);
    start += 8;
    const char *end = strstr(start, "\n```\n");
    assert_non_null(end);
    write_bytes(start, (size_t)(end - start) + 1);
    char *errs = NULL;
    app *a = app_load(dir, &errs);
    if (!a)
        print_error("%s", errs);
    assert_non_null(a);
    assert_string_equal(a->vendor, "demo");
    assert_int_equal(a->n_versions, 2);
    const app_model *project = app_model_by_name(a, "project");
    const app_model *task = app_model_by_name(a, "task");
    const app_model *milestone = app_model_by_name(a, "milestone");
    assert_non_null(milestone);
    assert_int_equal(milestone->since, 2);
    assert_int_equal(task->n_nested, 1);
    assert_ptr_equal(task->nested_under[0], project);
    assert_ptr_equal(task->nested_via[0], app_field_by_name(task, "project"));
    assert_true(app_field_by_name(project, "description")->expensive);
    assert_int_equal(app_field_by_name(project, "archived")->until, 2);
    assert_int_equal(app_field_by_name(task, "estimate")->since, 2);
    app_free(a);
}

/* The auth example of docs/app-format.md loads, with the values it claims. */
static void test_doc_auth_example(void **state)
{
    FILE *f = fopen("docs/app-format.md", "r");
    assert_non_null(f);
    static char doc[256 * 1024];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    const char *sec = strstr(doc, "\n## `auth:`");
    assert_non_null(sec);
    sec = strstr(sec, "\n### Example");
    assert_non_null(sec);
    const char *start = strstr(sec, "```yaml\n");
    assert_non_null(start);
    start += 8;
    const char *end = strstr(start, "\n```\n");
    assert_non_null(end);
    write_bytes(start, (size_t)(end - start) + 1);
    char *errs = NULL;
    app *a = app_load(dir, &errs);
    if (!a)
        print_error("%s", errs);
    assert_non_null(a);
    const app_auth *au = a->auth;
    assert_non_null(au);
    assert_string_equal(au->users->name, "person");
    assert_string_equal(au->role->name, "role");
    assert_string_equal(au->issuer, "demo");
    assert_string_equal(au->audience, "demo");
    assert_int_equal(au->access_ttl, 900);
    assert_int_equal(au->refresh_ttl, 14 * 86400);
    assert_true(au->login_password && au->login_api_key);
    assert_string_equal(au->api_key_field, "apiKey");
    assert_string_equal(au->logout_path, "/api/auth/logout");
    assert_string_equal(au->superusers[0], "admin");
    assert_int_equal(au->default_access.n_read, 1);
    assert_int_equal(au->default_access.n_write, 0);
    assert_true(app_model_by_name(a, "project")->has_access);
    assert_false(app_model_by_name(a, "person")->has_access);
    app_free(a);
}

/* Payload and error names in each case; error_keys follows payload_keys. */
static void test_key_cases(void **state)
{
    app *a = load_ok("app:\n  name: x\n  conventions: {payload_keys: pascal}\nmodels:\n"
                     "  thing:\n    fields:\n"
                     "      starts_on: {type: date}\n"
                     "      line2_total: {type: integer}\n"
                     "      ext: {type: text, json_name: extId}\n");
    assert_int_equal(a->error_case, KC_PASCAL);
    const app_model *m = &a->models[0];
    assert_string_equal(m->fields[0].json_name, "StartsOn");
    assert_string_equal(m->fields[0].error_name, "StartsOn");
    assert_string_equal(m->fields[1].json_name, "Line2Total");
    assert_string_equal(m->fields[2].json_name, "extId");
    assert_string_equal(m->fields[2].error_name, "extId"); /* same case: the explicit name */
    app_free(a);

    a = load_ok("app:\n  name: x\n  conventions: {payload_keys: snake, error_keys: camel}\n"
                "models:\n  thing:\n    fields:\n"
                "      starts_on: {type: date}\n"
                "      ext: {type: text, json_name: ExtId}\n");
    m = &a->models[0];
    assert_string_equal(m->fields[0].json_name, "starts_on");
    assert_string_equal(m->fields[0].error_name, "startsOn");
    assert_string_equal(m->fields[1].json_name, "ExtId");
    assert_string_equal(m->fields[1].error_name, "ext"); /* other case: converted */
    app_free(a);
}

static void test_demo_app(void **state)
{
    char *errs = NULL;
    app *a = app_load("apps/demo", &errs);
    if (!a)
        print_error("%s", errs);
    assert_non_null(a);
    assert_string_equal(a->name, "demo");
    assert_string_equal(a->base_path, "/api");
    assert_string_equal(a->health_path, "/health");
    assert_int_equal(a->payload_case, KC_SNAKE);
    assert_int_equal(a->dates, DS_ISO8601);
    assert_int_equal(a->errors, ES_PROBLEM);
    const app_model *person = app_model_by_name(a, "person");
    const app_model *project = app_model_by_route(a, "projects", 8);
    const app_model *task = app_model_by_route(a, "tasks", 5);
    assert_non_null(person);
    assert_non_null(project);
    assert_non_null(task);
    assert_string_equal(person->route, "persons");
    const app_field *email = app_field_by_name(person, "email");
    assert_true(email->required && email->unique);
    assert_int_equal(email->max_length, 254);
    assert_int_equal(regexec(email->re, "ada@example.org", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(email->re, "not an email", 0, NULL, 0), 0);
    assert_string_equal(app_field_by_name(person, "role")->default_json, "\"user\"");
    assert_string_equal(app_field_by_name(project, "priority")->default_json, "3");
    assert_ptr_equal(app_field_by_name(project, "members")->ref, person);
    assert_ptr_equal(app_field_by_name(task, "project")->ref, project);
    assert_string_equal(task->indexes[0].name, "ix_task__project_done");
    app_free(a);
}

static void test_type_names(void **state)
{
    for (int t = 0; t < FT__COUNT; t++) {
        const char *n = app_type_name((field_type)t);
        assert_non_null(n);
        field_type back;
        assert_true(app_type_from_name(n, &back));
        assert_int_equal(back, t);
    }
    assert_string_equal(app_type_name(FT_REF_LIST), "ref_list");
    assert_null(app_type_name(FT__COUNT));
    field_type t;
    assert_false(app_type_from_name("strin", &t));
    assert_false(app_type_from_name("", &t));
    assert_false(app_type_from_name("String", &t));
}

/* Row type names: explicit, derived by conventions.type_names, or none;
 * history and routes are read as given. */
static void test_row_type_names(void **state)
{
    app *a = load_ok("app:\n  name: t\n  routes: zou\n  conventions: {type_names: pascal}\nmodels:\n"
                     "  task_status: {fields: {a: {type: text}}}\n"
                     "  api_event: {history: true, fields: {a: {type: text}}}\n"
                     "  m: {type_name: Thing, fields: {a: {type: text}}}\n");
    assert_string_equal(a->models[0].type_name, "TaskStatus");
    assert_string_equal(a->models[1].type_name, "ApiEvent");
    assert_string_equal(a->models[2].type_name, "Thing");
    assert_false(a->models[0].history);
    assert_true(a->models[1].history);
    assert_string_equal(a->routes, "zou");
    assert_true(a->type_names);
    app_free(a);
    a = load_ok("app: {name: t}\nmodels:\n  m: {fields: {a: {type: text}}}\n"
                "  n: {type_name: N, fields: {a: {type: text}}}\n");
    assert_null(a->models[0].type_name);
    assert_string_equal(a->models[1].type_name, "N");
    assert_null(a->routes);
    app_free(a);
    expect_error("app: {name: t}\nmodels:\n  m: {type_name: 9x, fields: {a: {type: text}}}\n", 3,
                 "type_name: '9x' must match");
    expect_error("app: {name: t, conventions: {type_names: pascal}}\nmodels:\n  m:\n"
                 "    fields: {type: {type: text}}\n", 3, "field keyed 'type'");
    expect_error("app: {name: t, conventions: {type_names: yes}}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "type_names must be one of none, pascal");
    expect_error("app: {name: t, routes: Zou}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "routes: 'Zou' must match");
    expect_error("app: {name: t}\nmodels:\n  m: {history: 1, fields: {a: {type: text}}}\n", 3, "history");
}

static void test_convert_case(void **state)
{
    char out[64];
    assert_true(app_convert_case("starts_on", KC_SNAKE, out, sizeof out));
    assert_string_equal(out, "starts_on");
    assert_true(app_convert_case("starts_on", KC_CAMEL, out, sizeof out));
    assert_string_equal(out, "startsOn");
    assert_true(app_convert_case("starts_on", KC_PASCAL, out, sizeof out));
    assert_string_equal(out, "StartsOn");
    assert_true(app_convert_case("id", KC_PASCAL, out, sizeof out));
    assert_string_equal(out, "Id");
    assert_true(app_convert_case("created_at", KC_CAMEL, out, sizeof out));
    assert_string_equal(out, "createdAt");
    assert_true(app_convert_case("a_1_b", KC_CAMEL, out, sizeof out));
    assert_string_equal(out, "a1B");
    assert_true(app_convert_case("name", KC_CAMEL, out, sizeof out));
    assert_string_equal(out, "name");
    /* The cap counts the NUL. */
    assert_true(app_convert_case("abc", KC_SNAKE, out, 4));
    assert_false(app_convert_case("abcd", KC_SNAKE, out, 4));
    assert_true(app_convert_case("ab_cd", KC_CAMEL, out, 5));
    assert_string_equal(out, "abCd");
    assert_false(app_convert_case("x", KC__COUNT, out, sizeof out));
}

/* A file of exactly RD_MAX_APP_FILE bytes still loads. */
static void test_file_at_limit(void **state)
{
    const char *body = HEAD "      a: {type: text}\n";
    size_t n = RD_MAX_APP_FILE, bl = strlen(body);
    char *s = malloc(n);
    assert_non_null(s);
    memcpy(s, body, bl);
    memset(s + bl, '#', n - bl);
    for (size_t i = bl + 70; i < n; i += 72)
        s[i] = '\n';
    s[n - 1] = '\n';
    write_bytes(s, n);
    free(s);
    char *errs = NULL;
    app *a = app_load(dir, &errs);
    assert_non_null(a);
    app_free(a);
}

/* ---- rejections ------------------------------------------------------ */

static void test_reject_unknown_keys(void **state)
{
    expect_error("app: {name: t}\nmodels:\n  m: {fields: {a: {type: text}}}\ncolour: red\n", 4,
                 "unknown key 'colour' in the file");
    expect_error("app:\n  name: t\n  colour: red\nmodels:\n  m: {fields: {a: {type: text}}}\n", 3,
                 "unknown key 'colour' in app");
    expect_error("app: {name: t, limits: {max_body: 5}}\nmodels:\n  m: {fields: {a: {type: text}}}\n",
                 1, "unknown key 'max_body' in app.limits");
    expect_error("app: {name: t}\nmodels:\n  m:\n    colour: red\n    fields: {a: {type: text}}\n", 4,
                 "unknown key 'colour' in model 'm'");
    expect_error(HEAD "      a: {type: text}\n      b: {type: text, colour: red}\n", 6,
                 "unknown key 'colour' in field 'm.b'");
    expect_error(HEAD "      a: {type: text}\n    indexes:\n      - fields: [a]\n        colour: 1\n",
                 8, "unknown key 'colour' in index 1 of model 'm'");
}

static void test_reject_duplicates(void **state)
{
    expect_error(HEAD "      a:\n        type: text\n        required: true\n        type: string\n",
                 8, "duplicate key 'type' in field 'm.a' (first at line 6)");
    expect_error(HEAD "      a: {type: text}\n      b: {type: text}\n      a: {type: text}\n", 7,
                 "duplicate field 'a' in model 'm' (first at line 5)");
    expect_error(HEAD "      a: {type: text}\n  m:\n    fields: {b: {type: text}}\n", 6,
                 "duplicate model 'm' (first at line 3)");
    expect_error("app:\n  name: t\n  name: u\nmodels:\n  m: {fields: {a: {type: text}}}\n", 3,
                 "duplicate key 'name' in app");
}

static void test_reject_duplicate_route(void **state)
{
    int n = expect_error("app: {name: t}\nmodels:\n"
                         "  a:\n    route: things\n    fields: {x: {type: text}}\n"
                         "  b:\n    route: things\n    fields: {x: {type: text}}\n",
                         7, "route 'things' of model 'b' is already the route of model 'a'");
    assert_int_equal(n, 1);
    /* A default route (the name) clashes too, reported at the model. */
    expect_error("app: {name: t}\nmodels:\n"
                 "  a:\n    route: b\n    fields: {x: {type: text}}\n"
                 "  b:\n    fields: {x: {type: text}}\n",
                 6, "route 'b' of model 'b' is already the route of model 'a'");
}

static void test_reject_dangling_ref(void **state)
{
    expect_error(HEAD "      a: {type: text}\n      owner: {type: ref, model: person}\n", 6,
                 "model: there is no model 'person' in this file");
    expect_error(HEAD "      tags: {type: ref_list, model: tag}\n", 5,
                 "model: there is no model 'tag'");
    expect_error(HEAD "      owner: {type: ref}\n", 5, "field 'm.owner': type ref needs 'model'");
}

static void test_reject_bad_type(void **state)
{
    expect_error(HEAD "      a: {type: text}\n      b: {type: strin}\n", 6,
                 "type: unknown type 'strin'");
    expect_error(HEAD "      a: {required: true}\n", 5,
                 "field 'm.a': missing required key 'type'");
    expect_error(HEAD "      a: {type: [text]}\n", 5, "type must be a value, not a list");
}

static void test_reject_constraints(void **state)
{
    expect_error(HEAD "      a: {type: text}\n      n: {type: integer, max_length: 5}\n", 6,
                 "max_length is not allowed for type integer");
    expect_error(HEAD "      n: {type: integer, min: 10, max: 1}\n", 5, "min (10) is greater than max (1)");
    expect_error(HEAD "      n: {type: number, min: 1.5, max: 1.25}\n", 5, "min (1.5) is greater than max");
    expect_error(HEAD "      s: {type: string, max_length: 0}\n", 5, "max_length must be an integer");
    expect_error(HEAD "      s: {type: string, max_length: 12abc}\n", 5, "max_length must be an integer");
    expect_error(HEAD "      s: {type: text, min: 1}\n", 5, "min is not allowed for type text");
    expect_error(HEAD "      n: {type: number, min: .inf}\n", 5, "min must be a finite decimal number");
    expect_error(HEAD "      s: {type: string, values: [a]}\n", 5, "values is not allowed for type string");
    expect_error(HEAD "      e: {type: enum}\n", 5, "field 'm.e': type enum needs 'values'");
    expect_error(HEAD "      e: {type: enum, values: []}\n", 5, "values: at least one value");
    expect_error(HEAD "      e: {type: enum, values: [a, b, a]}\n", 5, "values: 'a' is listed twice");
    expect_error(HEAD "      e: {type: enum, values: open}\n", 5, "values must be a list");
    expect_error(HEAD "      j: {type: json, unique: true}\n", 5, "unique is not allowed for type json");
    expect_error(HEAD "      l: {type: ref_list, model: m, default: x}\n", 5,
                 "default is not allowed for type ref_list");
    expect_error(HEAD "      r: {type: text, required: true, read_only: true}\n", 5,
                 "required and read_only together need a default");
    expect_error(HEAD "      r: {type: text, required: yes}\n", 5, "required must be true or false");
    expect_error(HEAD "      r: {type: text, json_name: \"a b\"}\n", 5, "json_name: 'a b' must match");
}

static void test_reject_patterns(void **state)
{
    /* Ordinary patterns pass the complexity checks. */
    app *a = load_ok(HEAD "      a: {type: string, pattern: '^(a+)*$'}\n"
                          "      b: {type: string, pattern: '^[A-Z]{2,8}-[0-9]{1,4}$'}\n"
                          "      c: {type: text, pattern: '^([[:alnum:]_.-]+|x{,3})\\.$'}\n"
                          "      d: {type: text, pattern: '(ab|cd){1,100}'}\n");
    assert_int_equal(regexec(a->models[0].fields[2].re, "ab_c.", 0, NULL, 0), 0);
    app_free(a);
    expect_error(HEAD "      a: {type: text}\n      c: {type: string, pattern: \"([a-z\"}\n", 6,
                 "pattern: not a valid POSIX extended regular expression");
    expect_error(HEAD "      c: {type: string, pattern: \"((a{1,255}){1,255}){1,255}\"}\n", 5,
                 "pattern: too complex");
    expect_error(HEAD "      c: {type: string, pattern: \"a{1,32767}\"}\n", 5, "pattern: too complex");
    expect_error(HEAD "      c: {type: string, pattern: \"a{,32767}\"}\n", 5, "pattern: too complex");
    expect_error(HEAD "      c: {type: string, pattern: \"a{30000,}\"}\n", 5, "pattern: too complex");
    expect_error(HEAD "      c: {type: string, pattern: \"(a{1,200}){1,200}\"}\n", 5,
                 "pattern: too complex");
    expect_error(HEAD "      c: {type: string, pattern: \"^[a-z]+++++++++++++++++++++++++++++++++$\"}\n",
                 5, "pattern: a repetition (*, +, ? or {m,n}) may not follow another");
    expect_error(HEAD "      c: {type: string, pattern: \"a{1,2}{1,2}\"}\n", 5,
                 "pattern: a repetition");
    expect_error(HEAD "      c: {type: string, pattern: \"(a)\\\\1\"}\n", 5,
                 "pattern: back-references");
    expect_error(HEAD "      c: {type: integer, pattern: \"^a$\"}\n", 5,
                 "pattern is not allowed for type integer");
}

static void test_reject_defaults(void **state)
{
    expect_error(HEAD "      a: {type: text}\n      s: {type: enum, values: [open, closed], default: shut}\n",
                 6, "default: ");
    expect_error(HEAD "      n: {type: integer, default: abc}\n", 5, "default: must be an integer");
    expect_error(HEAD "      n: {type: integer, default: 99999999999999999999}\n", 5,
                 "default: must be an integer");
    expect_error(HEAD "      n: {type: integer, default: 1.5}\n", 5, "default: must be an integer");
    expect_error(HEAD "      d: {type: date, default: 2026-02-30}\n", 5, "default: ");
    expect_error(HEAD "      n: {type: integer, min: 1, max: 5, default: 9}\n", 5, "default: ");
    expect_error(HEAD "      b: {type: boolean, default: yes}\n", 5, "default: must be true or false");
    expect_error(HEAD "      j: {type: json, default: '{\"a\": }'}\n", 5, "default: not valid JSON");
    expect_error(HEAD "      s: {type: string, default: null}\n", 5, "default must be a value, not empty");
    expect_error(HEAD "      s: {type: string, max_length: 2, default: abc}\n", 5, "default: ");
}

static void test_reject_missing_keys(void **state)
{
    expect_error("models:\n  m: {fields: {a: {type: text}}}\n", 1, "missing required key 'app'");
    expect_error("app: {name: t}\n", 1, "missing required key 'models'");
    expect_error("app:\n  title: x\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "app: missing required key 'name'");
    expect_error("app: {name: t}\nmodels:\n  m:\n    route: x\n", 3,
                 "model 'm': missing required key 'fields'");
    expect_error(HEAD "      a: {type: text}\n    indexes:\n      - unique: true\n", 7,
                 "missing required key 'fields'");
    expect_error("app: {name: t}\nmodels: {}\n", 2, "at least one model");
    expect_error("app: {name: t}\nmodels:\n  m:\n    fields: {}\n", 4, "needs at least one field");
}

static void test_reject_names(void **state)
{
    expect_error(HEAD "      a: {type: text}\n      id: {type: uuid}\n", 6,
                 "field name 'id' is reserved");
    expect_error(HEAD "      created_at: {type: datetime}\n", 5, "field name 'created_at' is reserved");
    expect_error(HEAD "      Name: {type: text}\n", 5, "field name 'Name' must match");
    expect_error("app: {name: t}\nmodels:\n  Person:\n    fields: {a: {type: text}}\n", 3,
                 "model name 'Person' must match");
    expect_error("app: {name: t}\nmodels:\n  sqlite_x:\n    fields: {a: {type: text}}\n", 3,
                 "model name 'sqlite_x' is reserved");
    expect_error("app: {name: t}\nmodels:\n  a__b:\n    fields: {a: {type: text}}\n", 3,
                 "model name 'a__b' is reserved");
    expect_error("app: {name: t}\nmodels:\n  m:\n    route: Things\n    fields: {a: {type: text}}\n",
                 4, "route: 'Things' must match");
    expect_error("app: {name: My App}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "name: 'My App' must match");
    expect_error("app: {name: t, base_path: /api/}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "base_path: '/api/'");
    expect_error("app: {name: t, base_path: api}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "base_path: 'api'");
    expect_error("app: {name: t, health_path: /a/../b}\nmodels:\n  m: {fields: {a: {type: text}}}\n",
                 1, "health_path: '/a/../b'");
    expect_error("app: {name: t, base_path: /api, health_path: /api/m}\nmodels:\n  m: {fields: {a: {type: text}}}\n",
                 1, "health_path '/api/m' hides the route of model 'm'");
    /* Two fields whose names convert to the same payload key. */
    expect_error("app: {name: t, conventions: {payload_keys: camel}}\nmodels:\n  m:\n    fields:\n"
                 "      a_1: {type: text}\n      a1: {type: text}\n",
                 6, "payload key 'a1' is already used by field 'a_1' (line 5)");
    expect_error(HEAD "      x: {type: text, json_name: id}\n", 5,
                 "payload key 'id' is taken by the built-in 'id'");
}

static void test_reject_conventions(void **state)
{
    expect_error("app:\n  name: t\n  conventions:\n    payload_keys: kebab\nmodels:\n"
                 "  m: {fields: {a: {type: text}}}\n",
                 4, "payload_keys must be one of snake, camel, pascal, not 'kebab'");
    expect_error("app:\n  name: t\n  conventions: {dates: rfc822}\nmodels:\n"
                 "  m: {fields: {a: {type: text}}}\n",
                 3, "dates must be one of iso8601, naive, compact");
    expect_error("app:\n  name: t\n  conventions: {errors: html}\nmodels:\n"
                 "  m: {fields: {a: {type: text}}}\n",
                 3, "errors must be one of problem, zou, reason");
    expect_error("app:\n  name: t\n  limits: {max_body_bytes: 999999999999}\nmodels:\n"
                 "  m: {fields: {a: {type: text}}}\n",
                 3, "max_body_bytes must be an integer from 1 to");
}

static void test_reject_indexes(void **state)
{
    expect_error(HEAD "      a: {type: text}\n    indexes:\n      - fields: [a, b]\n", 7,
                 "fields: model 'm' has no field 'b'");
    expect_error(HEAD "      a: {type: text}\n      l: {type: ref_list, model: m}\n    indexes:\n"
                      "      - fields: [l]\n",
                 8, "'l' is a ref_list");
    expect_error(HEAD "      a: {type: text}\n    indexes:\n      - fields: [a, a]\n", 7,
                 "'a' is listed twice");
    expect_error(HEAD "      a: {type: text}\n    indexes:\n      - fields: []\n", 7,
                 "fields: an index needs at least one field");
    expect_error(HEAD "      a: {type: text}\n    indexes:\n      - fields: [a]\n      - fields: [a]\n",
                 8, "index 'ix_m__a' is declared twice (first at line 7)");
    /* [a, b] unique would be named like the automatic index of field a_b. */
    expect_error(HEAD "      a: {type: text}\n      b: {type: text}\n      a_b: {type: text, unique: true}\n"
                      "    indexes:\n      - {fields: [a, b], unique: true}\n",
                 9, "taken by the automatic index of field 'a_b'");
    expect_error(HEAD "      a: {type: text}\n    indexes: {fields: [a]}\n", 6,
                 "indexes of model 'm' must be a list, not a mapping");
}

static void test_reject_node_kinds(void **state)
{
    expect_error("- app\n- models\n", 1, "the file must be a mapping, not a list");
    expect_error("app: [name, t]\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "app must be a mapping, not a list");
    expect_error("app: {name: t}\nmodels: [m]\n", 2, "models must be a mapping, not a list");
    expect_error("app: {name: t}\nmodels:\n  m:\n    fields: [a, b]\n", 4,
                 "fields of model 'm' must be a mapping, not a list");
    expect_error(HEAD "      a: text\n", 5, "field 'm.a' must be a mapping, not a single value");
    expect_error(HEAD "      a:\n", 5, "field 'm.a' must be a mapping, not empty");
    expect_error("app: {name: {x: 1}}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "name must be a value, not a mapping");
    expect_error(HEAD "      ? [a]\n      : {type: text}\n", 5, "a key must be a plain string");
}

static void test_reject_yaml(void **state)
{
    expect_error("app:\n  name: &n t\nmodels:\n  m: {fields: {a: {type: text}}}\n", 2,
                 "anchors are not allowed");
    int n = expect_error("app: &a {name: t}\nmodels:\n  m: {fields: {a: {type: text}}}\nx: *a\n", 4,
                         "aliases are not allowed");
    assert_int_equal(n, 2); /* the anchor and the alias */
    expect_error("app: !!map {name: t}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "tags are not allowed");
    expect_error("app:\n  name: t\n   title: x\nmodels: {}\n", 3, "syntax error: ");
    expect_error("app: {name: t\nmodels: {}\n", 2, "syntax error: ");
    expect_error("", 1, "the file is empty");
    expect_error("# nothing\n", 1, "the file is empty");
    expect_error("app: {name: t}\n---\nmodels: {}\n", 2, "only one YAML document is allowed");
    expect_error("app: {name: t}\nmodels: {m: {fields: {a: {type: text}}}}\n"
                 "x: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n",
                 3, "nesting deeper than 16 levels");
    expect_error("app: {name: t}\nmodels:\n  m: {fields: {a: {type: text, json_name: \"\xff\"}}}\n", 3,
                 "not valid UTF-8");
    expect_error("app: {name: \"a\\0b\"}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 1,
                 "must not contain a NUL character");
    /* UTF-16 with a BOM is not UTF-8. */
    write_bytes("\xff\xfe" "a\0:\0 \0b\0", 10);
    char *errs = NULL;
    assert_null(app_load(dir, &errs));
    assert_non_null(strstr(errs, "not valid UTF-8"));
    free(errs);
}

static void test_reject_file(void **state)
{
    size_t n = RD_MAX_APP_FILE + 1;
    char *s = malloc(n);
    assert_non_null(s);
    memset(s, '#', n);
    write_bytes(s, n);
    free(s);
    char *errs = NULL;
    assert_null(app_load(dir, &errs));
    assert_true(has_error(errs, 1, "file is too large"));
    assert_int_equal(count_lines(errs), 1);
    free(errs);

    errs = NULL;
    assert_null(app_load("/nonexistent/restd-test", &errs));
    assert_string_equal(errs, "/nonexistent/restd-test/app.yaml:1:1: cannot open: No such file or directory\n");
    free(errs);

    /* A trailing slash on the directory is not doubled. */
    char d2[80];
    snprintf(d2, sizeof d2, "%s/", dir);
    write_bytes("app: {name: t}\n", 15);
    errs = NULL;
    assert_null(app_load(d2, &errs));
    assert_true(has_error(errs, 1, "missing required key 'models'"));
    free(errs);
}

/* Every problem is reported, in file order, one per line. */
static void test_reject_many(void **state)
{
    const char *text = "app:\n"                                         /* 1 */
                       "  name: t\n"                                    /* 2 */
                       "  colour: red\n"                                /* 3 */
                       "models:\n"                                      /* 4 */
                       "  m:\n"                                         /* 5 */
                       "    fields:\n"                                  /* 6 */
                       "      o: {type: ref, model: nobody}\n"          /* 7 */
                       "      n: {type: integer, max_length: 3}\n"      /* 8 */
                       "      e: {type: enum, values: [a], default: b}\n" /* 9 */
                       "      id: {type: uuid}\n"                       /* 10 */
                       "  k:\n"                                         /* 11 */
                       "    route: m\n"                                 /* 12 */
                       "    fields: {x: {type: strin}}\n";              /* 13 */
    char *errs = NULL;
    assert_null(load_text(text, &errs));
    assert_non_null(errs);
    static const struct {
        unsigned line;
        const char *needle;
    } want[] = {
        {3, "unknown key 'colour'"},
        {7, "no model 'nobody'"},
        {8, "max_length is not allowed"},
        {9, "default: "},
        {10, "field name 'id' is reserved"},
        {12, "route 'm' of model 'k' is already the route of model 'm'"},
        {13, "unknown type 'strin'"},
    };
    int n = (int)(sizeof want / sizeof want[0]);
    if (count_lines(errs) != n)
        print_error("%s", errs);
    assert_int_equal(count_lines(errs), n);
    /* In order of position: line i of the report is want[i]. */
    const char *l = errs;
    for (int i = 0; i < n; i++) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s:%u:", path, want[i].line);
        assert_memory_equal(l, prefix, strlen(prefix));
        const char *end = strchr(l, '\n');
        assert_non_null(end);
        assert_true(has_error(errs, want[i].line, want[i].needle));
        l = end + 1;
    }
    free(errs);
}

/* Lines 1-2 of the list and version fixtures; line 3 is the key tested. */
#define APP_HEAD "app:\n  name: t\n"
/* A model after the app section (two lines). */
#define ONE_MODEL "models:\n  m: {fields: {a: {type: text}}}\n"

static void test_reject_lists(void **state)
{
    expect_error(APP_HEAD "  lists: {paging: pages}\n" ONE_MODEL, 3,
                 "paging must be one of offset, page, not 'pages'");
    expect_error(APP_HEAD "  lists:\n    paging: offset\n    colour: red\n" ONE_MODEL, 5,
                 "unknown key 'colour' in app.lists (known keys: default_limit, max_limit, paging, "
                 "stored_filter_ttl, unknown_params, unpaged, relations, json_lists, page_order)");
    expect_error(APP_HEAD "  lists: {unpaged: whole}\n" ONE_MODEL, 3, "unpaged: whole needs paging: page");
    expect_error(APP_HEAD "  lists: {paging: page, unpaged: all}\n" ONE_MODEL, 3,
                 "unpaged must be one of limit, whole, not 'all'");
    expect_error(APP_HEAD "  lists: {unknown_params: skip}\n" ONE_MODEL, 3,
                 "unknown_params must be one of reject, ignore, not 'skip'");
    expect_error(APP_HEAD "  lists: {relations: true}\n" ONE_MODEL, 3,
                 "relations must be one of always, on_request, not 'true'");
    expect_error(APP_HEAD "  lists: {json_lists: on}\n" ONE_MODEL, 3, "json_lists");
    expect_error(APP_HEAD "  lists: {page_order: [id]}\n" ONE_MODEL, 3, "page_order needs paging: page");
    expect_error(APP_HEAD "  lists: {paging: page, page_order: id}\n" ONE_MODEL, 3, "page_order must be a list");
    expect_error(APP_HEAD "  lists: {paging: page, page_order: []}\n" ONE_MODEL, 3,
                 "page_order: list 1 to 3 of id, created_at, updated_at");
    expect_error(APP_HEAD "  lists: {paging: page, page_order: [id, a, -b, c]}\n" ONE_MODEL, 3,
                 "page_order: list 1 to 3");
    expect_error(APP_HEAD "  lists:\n    paging: page\n    page_order: [-a]\n" ONE_MODEL, 5,
                 "page_order: '-a' is not id, created_at or updated_at");
    expect_error(APP_HEAD "  lists:\n    paging: page\n    page_order: [-id, id]\n" ONE_MODEL, 5,
                 "page_order: id is listed twice");
    expect_error(APP_HEAD "  lists: {relations: on_request}\nmodels:\n  m:\n    fields:\n"
                          "      relations: {type: text}\n", 7,
                 "field 'm.relations': the payload key 'relations' is the list parameter");
    expect_error(APP_HEAD ONE_MODEL "  n: {fields: {b: {type: text, filter: ilikes}}}\n", 5,
                 "filter: must be eq or ilike, not 'ilikes'");
    expect_error(APP_HEAD ONE_MODEL "  n: {fields: {b: {type: uuid, filter: ilike}}}\n", 5,
                 "filter is not allowed for type uuid");
    expect_error(APP_HEAD "  lists: [paging]\n" ONE_MODEL, 3, "app.lists must be a mapping, not a list");
    expect_error(APP_HEAD "  lists:\n    max_limit: 50\n    default_limit: 60\n" ONE_MODEL, 5,
                 "default_limit (60) is greater than max_limit (50)");
    expect_error(APP_HEAD "  lists: {default_limit: 1001}\n" ONE_MODEL, 3,
                 "default_limit (1001) is greater than max_limit (1000, the default)");
    expect_error(APP_HEAD "  lists: {default_limit: 0}\n" ONE_MODEL, 3,
                 "default_limit must be an integer from 1 to 100000, not '0'");
    expect_error(APP_HEAD "  lists: {max_limit: 100001}\n" ONE_MODEL, 3,
                 "max_limit must be an integer from 1 to 100000, not '100001'");
    expect_error(APP_HEAD "  lists: {max_limit: 1e3}\n" ONE_MODEL, 3, "max_limit must be an integer");
    expect_error(APP_HEAD "  lists: {stored_filter_ttl: 0}\n" ONE_MODEL, 3,
                 "stored_filter_ttl must be an integer from 1 to 31536000, not '0'");
    expect_error(APP_HEAD "  lists: {stored_filter_ttl: 31536001}\n" ONE_MODEL, 3,
                 "stored_filter_ttl must be an integer from 1 to 31536000");
    /* A bad max_limit is reported once, not again through default_limit. */
    int n = expect_error(APP_HEAD "  lists:\n    max_limit: -5\n    default_limit: 2000\n" ONE_MODEL,
                         4, "max_limit must be an integer");
    assert_int_equal(n, 1);
}

static void test_reject_versions(void **state)
{
    expect_error(APP_HEAD "  versions: [1, 3, 2]\n" ONE_MODEL, 3,
                 "versions must be in ascending order (2 comes after 3)");
    /* One misplaced version is one problem. */
    int n = expect_error(APP_HEAD "  versions: [3, 1, 2]\n" ONE_MODEL, 3,
                         "versions must be in ascending order (1 comes after 3)");
    assert_int_equal(n, 1);
    expect_error(APP_HEAD "  versions:\n    - 1\n    - 2\n    - 2\n" ONE_MODEL, 6,
                 "versions: 2 is listed twice");
    expect_error(APP_HEAD "  versions: []\n" ONE_MODEL, 3, "versions: at least one version is needed");
    expect_error(APP_HEAD "  versions:\n    - 1\n    - two\n" ONE_MODEL, 5,
                 "each of versions must be an integer from 1 to 1000000, not 'two'");
    expect_error(APP_HEAD "  versions: [1.5]\n" ONE_MODEL, 3, "each of versions must be an integer");
    expect_error(APP_HEAD "  versions: [0]\n" ONE_MODEL, 3, "each of versions must be an integer");
    expect_error(APP_HEAD "  versions: [1000001]\n" ONE_MODEL, 3, "each of versions must be an integer");
    expect_error(APP_HEAD "  versions: [[1]]\n" ONE_MODEL, 3, "each of versions must be a value, not a list");
    expect_error(APP_HEAD "  versions: 2\n" ONE_MODEL, 3, "versions must be a list, not a single value");
    expect_error(APP_HEAD "  vendor: Shop\n" ONE_MODEL, 3,
                 "vendor: 'Shop' must match [a-z][a-z0-9_.-]*");
    expect_error(APP_HEAD "  vendor: a+b\n" ONE_MODEL, 3, "vendor: 'a+b' must match");

    char many[1024];
    int o = snprintf(many, sizeof many, APP_HEAD "  versions: [1");
    for (int v = 2; v <= 101; v++)
        o += snprintf(many + o, sizeof many - (size_t)o, ", %d", v);
    snprintf(many + o, sizeof many - (size_t)o, "]\n" ONE_MODEL);
    expect_error(many, 3, "versions: too many (101; at most 100)");
}

/* since/until of models and fields (the versions are [1, 2, 4]). */
#define VER_HEAD "app:\n  name: t\n  versions: [1, 2, 4]\nmodels:\n  m:\n    fields:\n"

static void test_reject_since_until(void **state)
{
    expect_error(VER_HEAD "      a: {type: text, since: 3}\n", 7,
                 "since: 3 is not one of app.versions (1, 2, 4)");
    expect_error(VER_HEAD "      a: {type: text}\n      b: {type: text, until: 5}\n", 8,
                 "until: 5 is not one of app.versions (1, 2, 4)");
    expect_error(VER_HEAD "      a: {type: text, since: 2, until: 2}\n", 7,
                 "until (2) must be greater than since (2)");
    expect_error(VER_HEAD "      a: {type: text, since: 4, until: 2}\n", 7,
                 "until (2) must be greater than since (4)");
    expect_error(VER_HEAD "      a: {type: text, until: 1}\n", 7,
                 "until: 1 is the first version, so the field would exist in no version");
    expect_error(VER_HEAD "      a: {type: text, since: x}\n", 7,
                 "since must be an integer from 1 to 1000000, not 'x'");
    expect_error(VER_HEAD "      a: {type: text, since: -1}\n", 7, "since must be an integer");
    /* On a model. */
    expect_error("app:\n  name: t\n  versions: [1, 2]\nmodels:\n  m:\n    since: 3\n"
                 "    fields: {a: {type: text}}\n",
                 6, "since: 3 is not one of app.versions (1, 2)");
    expect_error("app:\n  name: t\n  versions: [1, 2]\nmodels:\n  m:\n    since: 2\n    until: 2\n"
                 "    fields: {a: {type: text}}\n",
                 7, "until (2) must be greater than since (2)");
    expect_error("app:\n  name: t\n  versions: [1, 2]\nmodels:\n  m:\n    until: 1\n"
                 "    fields: {a: {type: text}}\n",
                 6, "so the model would exist in no version");
    /* Without versions the app has version 1 only. */
    expect_error(HEAD "      a: {type: text, since: 2}\n", 5, "since: 2 is not one of app.versions (1)");
    /* A bad versions list is reported once, not again at each since. */
    int n = expect_error("app:\n  name: t\n  versions: [2, 1]\nmodels:\n  m:\n    since: 2\n"
                         "    fields: {a: {type: text, since: 3}}\n",
                         3, "versions must be in ascending order");
    assert_int_equal(n, 1);
    /* So is a missing app section. */
    n = expect_error("models:\n  m: {fields: {a: {type: text, since: 2}}}\n", 1,
                     "missing required key 'app'");
    assert_int_equal(n, 1);
}

/* task has fields from line 7 on; project is on line 3. */
#define NEST_HEAD "app: {name: t}\nmodels:\n  project:\n    fields: {name: {type: text}}\n  task:\n"

static void test_reject_nested(void **state)
{
    expect_error(NEST_HEAD "    nested_under: [project, nobody]\n    fields: {p: {type: ref, model: project}}\n",
                 6, "nested_under: there is no model 'nobody' in this file");
    expect_error(NEST_HEAD "    nested_under: [project]\n    fields:\n      title: {type: text}\n", 6,
                 "nested_under: model 'task' has no reference to 'project'");
    /* A ref_list is not the reference a nested route goes through. */
    expect_error(NEST_HEAD "    nested_under: [project]\n    fields:\n"
                           "      ps: {type: ref_list, model: project}\n",
                 6, "model 'task' has no reference to 'project'");
    expect_error(NEST_HEAD "    nested_under:\n      - project\n    fields:\n"
                           "      a: {type: ref, model: project}\n"
                           "      b: {type: ref, model: project}\n",
                 7,
                 "nested_under: model 'task' has several references to 'project' (a, b): "
                 "nested_under needs exactly one");
    expect_error(NEST_HEAD "    nested_under:\n      - project\n      - project\n"
                           "    fields: {p: {type: ref, model: project}}\n",
                 8, "nested_under: 'project' is listed twice (first at line 7)");
    /* Under itself, without a reference to itself. */
    expect_error(NEST_HEAD "    nested_under: [task]\n    fields: {p: {type: ref, model: project}}\n", 6,
                 "model 'task' has no reference to 'task'");
    expect_error(NEST_HEAD "    nested_under: []\n    fields: {p: {type: ref, model: project}}\n", 6,
                 "nested_under: at least one model is needed");
    expect_error(NEST_HEAD "    nested_under: project\n    fields: {p: {type: ref, model: project}}\n", 6,
                 "nested_under must be a list, not a single value");
    /* A reference that could not be read is not reported again as missing. */
    int n = expect_error(NEST_HEAD "    nested_under: [project]\n    fields:\n"
                                   "      p: {type: reff, model: project}\n",
                         8, "type: unknown type 'reff'");
    assert_int_equal(n, 1);
    n = expect_error(NEST_HEAD "    nested_under: [project]\n    fields:\n"
                               "      p: {type: ref, model: [project]}\n",
                     8, "model must be a value, not a list");
    assert_int_equal(n, 1);
}

static void test_reject_expensive(void **state)
{
    expect_error(HEAD "      a: {type: text, expensive: yes}\n", 5, "expensive must be true or false, not 'yes'");
    expect_error(HEAD "      a: {type: text}\n      b: {type: json, expensive: 1}\n", 6,
                 "expensive must be true or false, not '1'");
    expect_error(HEAD "      a: {type: text, expensive: }\n", 5, "expensive must be a value, not empty");
    /* Any type may be expensive. */
    app *a = load_ok(HEAD "      j: {type: json, expensive: true}\n"
                          "      l: {type: ref_list, model: m, expensive: true}\n");
    assert_true(a->models[0].fields[0].expensive && a->models[0].fields[1].expensive);
    app_free(a);
}

/* A hostile file cannot make the report grow without bound. */
static void test_reject_capped(void **state)
{
    size_t cap = 64 * 1024;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t o = (size_t)snprintf(s, cap, "app: {name: t}\nmodels:\n  m:\n    fields:\n      a:\n");
    for (int i = 0; i < 500; i++)
        o += (size_t)snprintf(s + o, cap - o, "        k%d: 1\n", i);
    char *errs = NULL;
    assert_null(load_text(s, &errs));
    free(s);
    assert_int_equal(count_lines(errs), 101);
    assert_non_null(strstr(errs, "more problems not shown"));
    free(errs);
}

/* ---- auth ------------------------------------------------------------ */

/* Every key of the auth section and of a model's access. */
static const char auth_example[] =
    "app:\n"                                                          /* 1 */
    "  name: demo\n"                                                  /* 2 */
    "  base_path: /api\n"                                             /* 3 */
    "models:\n"                                                       /* 4 */
    "  person:\n"                                                     /* 5 */
    "    route: persons\n"                                            /* 6 */
    "    fields:\n"                                                   /* 7 */
    "      email: {type: string, required: true, unique: true}\n"     /* 8 */
    "      role: {type: enum, values: [admin, manager, user]}\n"      /* 9 */
    "      active: {type: boolean, default: true}\n"                  /* 10 */
    "  project:\n"                                                    /* 11 */
    "    route: projects\n"                                           /* 12 */
    "    access: {read: [\"*\"], write: [admin, manager]}\n"          /* 13 */
    "    fields: {name: {type: string}}\n"                            /* 14 */
    "  note:\n"                                                       /* 15 */
    "    access: {write: [user]}\n"                                   /* 16 */
    "    fields: {text: {type: text}}\n"                              /* 17 */
    "  tag:\n"                                                        /* 18 */
    "    fields: {label: {type: text}}\n"                             /* 19 */
    "auth:\n"                                                         /* 20 */
    "  users: person\n"                                               /* 21 */
    "  login_field: email\n"                                          /* 22 */
    "  role_field: role\n"                                            /* 23 */
    "  active_field: active\n"                                        /* 24 */
    "  issuer: https://demo.example/\n"                               /* 25 */
    "  audience: demo-api\n"                                          /* 26 */
    "  access_ttl: 600\n"                                             /* 27 */
    "  refresh_ttl: 86400\n"                                          /* 28 */
    "  refresh_grace: 300\n"                                          /* 29 */
    "  login_with: [api_key, password]\n"                             /* 30 */
    "  password_field: pass_word\n"                                   /* 31 */
    "  api_key_field: apiKey\n"                                       /* 32 */
    "  routes:\n"                                                     /* 33 */
    "    login: /api/auth/login\n"                                    /* 34 */
    "    refresh: /api/auth/refresh\n"                                /* 35 */
    "    logout: /auth/logout\n"                                      /* 36 */
    "  denied_status: 401\n"                                          /* 37 */
    "  superusers: [admin, manager]\n"                                /* 38 */
    "  default_access: {read: [\"*\"], write: [admin]}\n";            /* 39 */

static void test_auth_full(void **state)
{
    app *a = load_ok(auth_example);
    const app_auth *au = a->auth;
    assert_non_null(au);
    const app_model *person = app_model_by_name(a, "person");
    const app_model *project = app_model_by_name(a, "project");
    const app_model *note = app_model_by_name(a, "note");
    const app_model *tag = app_model_by_name(a, "tag");
    assert_ptr_equal(au->users, person);
    assert_ptr_equal(au->login, app_field_by_name(person, "email"));
    assert_ptr_equal(au->role, app_field_by_name(person, "role"));
    assert_ptr_equal(au->active, app_field_by_name(person, "active"));
    assert_string_equal(au->issuer, "https://demo.example/");
    assert_string_equal(au->audience, "demo-api");
    assert_int_equal(au->access_ttl, 600);
    assert_int_equal(au->refresh_ttl, 86400);
    assert_int_equal(au->refresh_grace, 300);
    assert_true(au->login_password);
    assert_true(au->login_api_key);
    assert_string_equal(au->password_field, "pass_word");
    assert_string_equal(au->api_key_field, "apiKey");
    assert_string_equal(au->login_path, "/api/auth/login");
    assert_string_equal(au->refresh_path, "/api/auth/refresh");
    assert_string_equal(au->logout_path, "/auth/logout");
    assert_int_equal(au->denied_status, 401);
    assert_int_equal(au->n_superusers, 2);
    assert_string_equal(au->superusers[0], "admin");
    assert_string_equal(au->superusers[1], "manager");
    assert_int_equal(au->default_access.n_read, 1);
    assert_string_equal(au->default_access.read[0], "*");
    assert_int_equal(au->default_access.n_write, 1);
    assert_string_equal(au->default_access.write[0], "admin");

    assert_true(project->has_access);
    assert_int_equal(project->access.n_read, 1);
    assert_string_equal(project->access.read[0], "*");
    assert_int_equal(project->access.n_write, 2);
    assert_string_equal(project->access.write[0], "admin");
    assert_string_equal(project->access.write[1], "manager");
    assert_true(note->has_access); /* read left out: [] */
    assert_int_equal(note->access.n_read, 0);
    assert_int_equal(note->access.n_write, 1);
    assert_string_equal(note->access.write[0], "user");
    assert_false(tag->has_access);
    assert_false(person->has_access);
    app_free(a);
}

/* Only the required keys: every default. */
static void test_auth_defaults(void **state)
{
    app *a = load_ok("app: {name: shop}\nmodels:\n"
                     "  person:\n    fields:\n"
                     "      login: {type: string, required: true, unique: true}\n"
                     "  item:\n    access: {}\n    fields: {a: {type: text}}\n"
                     "auth:\n  users: person\n  login_field: login\n");
    const app_auth *au = a->auth;
    assert_non_null(au);
    assert_ptr_equal(au->users, &a->models[0]);
    assert_ptr_equal(au->login, &a->models[0].fields[0]);
    assert_null(au->role);
    assert_null(au->active);
    assert_string_equal(au->issuer, "shop");
    assert_string_equal(au->audience, "shop");
    assert_int_equal(au->access_ttl, 900);
    assert_int_equal(au->refresh_ttl, 1209600);
    assert_int_equal(au->refresh_grace, 0);
    assert_true(au->login_password);
    assert_false(au->login_api_key);
    assert_true(au->scheme_bearer); /* the default scheme */
    assert_false(au->scheme_token);
    assert_string_equal(au->password_field, "password");
    assert_string_equal(au->api_key_field, "api_key");
    assert_null(au->login_path);
    assert_null(au->refresh_path);
    assert_null(au->logout_path);
    assert_int_equal(au->denied_status, 403);
    assert_int_equal(au->n_superusers, 1);
    assert_string_equal(au->superusers[0], "admin");
    assert_int_equal(au->default_access.n_read, 0);
    assert_int_equal(au->default_access.n_write, 0);
    assert_false(a->models[0].has_access);
    assert_true(a->models[1].has_access); /* {}: both lists empty */
    assert_int_equal(a->models[1].access.n_read, 0);
    assert_int_equal(a->models[1].access.n_write, 0);
    app_free(a);

    /* No auth section: no auth. */
    a = load_ok(HEAD "      a: {type: text}\n");
    assert_null(a->auth);
    assert_false(a->models[0].has_access);
    app_free(a);

    /* A string role field takes any role names; only api keys; empty superusers. */
    a = load_ok("app: {name: t}\nmodels:\n"
                "  u:\n    access: {read: [clerk, \"*\"], write: []}\n    fields:\n"
                "      name: {type: string, required: true, unique: true}\n"
                "      kind: {type: string}\n"
                "auth:\n  users: u\n  login_field: name\n  role_field: kind\n"
                "  login_with: [api_key]\n  superusers: []\n  access_ttl: 604800\n"
                "  refresh_ttl: 604801\n  refresh_grace: 0\n  denied_status: \"403\"\n");
    au = a->auth;
    assert_ptr_equal(au->role, &a->models[0].fields[1]);
    assert_false(au->login_password);
    assert_true(au->login_api_key);
    assert_int_equal(au->n_superusers, 0);
    assert_int_equal(au->access_ttl, 604800);
    assert_int_equal(au->refresh_ttl, 604801);
    assert_int_equal(a->models[0].access.n_read, 2);
    assert_string_equal(a->models[0].access.read[0], "clerk");
    assert_string_equal(a->models[0].access.read[1], "*");
    app_free(a);
}

/* The users model (lines 3-9), a project (10-12); auth from line 13 and
 * login_field on line 15, so the key tested is on line 16. */
#define AUTH_HEAD                                                                                  \
    "app: {name: t, base_path: /api}\n"                                                            \
    "models:\n"                                                                                    \
    "  person:\n"                                                                                  \
    "    fields:\n"                                                                                \
    "      email: {type: string, required: true, unique: true}\n"                                  \
    "      nick: {type: string, unique: true}\n"                                                   \
    "      role: {type: enum, values: [admin, user]}\n"                                            \
    "      active: {type: boolean}\n"                                                              \
    "      age: {type: integer}\n"                                                                 \
    "  project:\n"                                                                                 \
    "    route: projects\n"                                                                        \
    "    fields: {name: {type: text}}\n"                                                           \
    "auth:\n"                                                                                      \
    "  users: person\n"
#define AUTH_BASE AUTH_HEAD "  login_field: email\n"

static void test_reject_auth_fields(void **state)
{
    /* An unknown model is one problem: its fields are not looked for. */
    int n = expect_error("app: {name: t}\nmodels:\n  m: {fields: {a: {type: text}}}\n"
                         "auth:\n  users: person\n  login_field: email\n  role_field: role\n",
                         5, "users: there is no model 'person' in this file");
    assert_int_equal(n, 1);
    /* unique is enough: a row without a login cannot sign in */
    app *ok = load_ok(AUTH_HEAD "  login_field: nick\n");
    assert_ptr_equal(ok->auth->login, &ok->models[0].fields[1]);
    app_free(ok);
    expect_error("app: {name: t}\nmodels:\n  u: {fields: {e: {type: string}}}\n"
                 "auth: {users: u, login_field: e}\n",
                 4, "login_field: field 'u.e' must be unique: true (a login names exactly one user)");
    expect_error(AUTH_HEAD "  login_field: age\n", 15,
                 "login_field: field 'person.age' must be of type string, not integer");
    expect_error(AUTH_HEAD "  login_field: nope\n", 15, "login_field: model 'person' has no field 'nope'");
    n = expect_error(AUTH_HEAD "  role_field: role\n", 13, "auth: missing required key 'login_field'");
    assert_int_equal(n, 1);
    expect_error(AUTH_HEAD "  users: person\n  login_field: email\n", 15,
                 "duplicate key 'users' in auth (first at line 14)");
    expect_error(AUTH_BASE "  role_field: age\n", 16,
                 "role_field: field 'person.age' must be of type string or enum, not integer");
    expect_error(AUTH_BASE "  active_field: nick\n", 16,
                 "active_field: field 'person.nick' must be of type boolean, not string");
    expect_error(AUTH_BASE "  active_field: [active]\n", 16, "active_field must be a value, not a list");
    /* second-factor mirror fields (api/mfa.c) */
    expect_error(AUTH_BASE "  totp_enabled_field: nick\n", 16,
                 "totp_enabled_field: field 'person.nick' must be of type boolean, not string");
    expect_error(AUTH_BASE "  email_otp_enabled_field: nope\n", 16,
                 "email_otp_enabled_field: model 'person' has no field 'nope'");
    expect_error(AUTH_BASE "  preferred_factor_field: age\n", 16,
                 "preferred_factor_field: field 'person.age' must be of type string or enum, not integer");
    expect_error(AUTH_BASE "  preferred_factor_field: role\n", 16,
                 "preferred_factor_field: enum field 'person.role' must have the value 'totp'");
    /* A login field with a problem of its own is not reported again. */
    n = expect_error("app: {name: t}\nmodels:\n"
                     "  u: {fields: {e: {type: string, unique: yes, required: true}}}\n"
                     "auth: {users: u, login_field: e}\n",
                     3, "unique must be true or false, not 'yes'");
    assert_int_equal(n, 1);
}

static void test_reject_auth_roles(void **state)
{
    expect_error(AUTH_BASE "  role_field: role\n  superusers: [admin, boss]\n", 17,
                 "role 'boss' is not one of the values of person.role (role_field)");
    expect_error(AUTH_BASE "  role_field: role\n  default_access:\n    read: [\"*\"]\n"
                           "    write:\n      - user\n      - root\n",
                 21, "role 'root' is not one of the values of person.role");
    /* In a model's access, named before the auth section. */
    expect_error("app: {name: t}\nmodels:\n"
                 "  person:\n    access: {read: [user, guest]}\n    fields:\n"
                 "      email: {type: string, required: true, unique: true}\n"
                 "      role: {type: enum, values: [admin, user]}\n"
                 "auth: {users: person, login_field: email, role_field: role}\n",
                 4, "role 'guest' is not one of the values of person.role");
    /* Without role_field (or with a string one) any name is a role. */
    app *a = load_ok(AUTH_BASE "  superusers: [boss]\n");
    assert_string_equal(a->auth->superusers[0], "boss");
    app_free(a);
    expect_error(AUTH_BASE "  superusers: [Admin]\n", 16,
                 "superusers: 'Admin' must be a role name ([a-z][a-z0-9_]*, at most 63 characters)");
    expect_error(AUTH_BASE "  superusers: [\"*\"]\n", 16, "superusers: '*' is not allowed here");
    expect_error(AUTH_BASE "  superusers: admin\n", 16, "superusers must be a list, not a single value");
    expect_error(AUTH_BASE "  default_access: {read: [user, user]}\n", 16,
                 "read of auth.default_access: 'user' is listed twice");
    expect_error(AUTH_BASE "  default_access: {write: [\"**\"]}\n", 16,
                 "write of auth.default_access: '**' must be a role name ([a-z][a-z0-9_]*, at most "
                 "63 characters) or \"*\"");
    char many[2048];
    int o = snprintf(many, sizeof many, AUTH_BASE "  superusers: [r0");
    for (int i = 1; i <= RD_MAX_ROLES; i++)
        o += snprintf(many + o, sizeof many - (size_t)o, ", r%d", i);
    snprintf(many + o, sizeof many - (size_t)o, "]\n");
    expect_error(many, 16, "superusers: too many roles (65; at most 64)");
}

static void test_auth_schemes(void **state)
{
    app *a = load_ok(AUTH_BASE "  schemes: [token]\n");
    assert_false(a->auth->scheme_bearer);
    assert_true(a->auth->scheme_token);
    app_free(a);
    a = load_ok(AUTH_BASE "  schemes: [token, bearer]\n");
    assert_true(a->auth->scheme_bearer && a->auth->scheme_token);
    assert_false(a->auth->scheme_credentials || a->auth->scheme_cookie);
    assert_null(a->auth->cookie_name);
    app_free(a);
    a = load_ok(AUTH_BASE "  schemes: [bearer, token, credentials, cookie]\n"
                          "  cookie: {name: ip_session, trusted_proxies: [127.0.0.1, '::1', '0:0::1']}\n");
    assert_true(a->auth->scheme_credentials && a->auth->scheme_cookie);
    assert_string_equal(a->auth->cookie_name, "ip_session");
    assert_int_equal(a->auth->n_trusted_proxies, 3);
    assert_string_equal(a->auth->trusted_proxies[2], "::1"); /* kept in the server's peer form */
    app_free(a);
    /* a cookie without the cookie scheme: login sets it, requests do not use it */
    a = load_ok(AUTH_BASE "  cookie: {name: s}\n");
    assert_false(a->auth->scheme_cookie);
    assert_string_equal(a->auth->cookie_name, "s");
    app_free(a);
}

static void test_reject_auth_cookie(void **state)
{
    expect_error(AUTH_BASE "  schemes: [cookie]\n", 16, "schemes: 'cookie' needs an auth.cookie section");
    expect_error(AUTH_BASE "  cookie: {name: 'a b'}\n", 16, "cookie.name: 'a b' must be 1 to 64 of [A-Za-z0-9_-]");
    expect_error(AUTH_BASE "  cookie: {name: ''}\n", 16, "cookie.name: '' must be 1 to 64");
    expect_error(AUTH_BASE "  cookie: {trusted_proxies: []}\n", 16, "name");
    expect_error(AUTH_BASE "  cookie: {name: s, trusted_proxies: [10.0.0.300]}\n", 16,
                 "cookie.trusted_proxies: '10.0.0.300' is not an IP address");
    expect_error(AUTH_BASE "  cookie: {name: s, trusted_proxies: 127.0.0.1}\n", 16,
                 "cookie.trusted_proxies must be a list");
    expect_error(AUTH_BASE "  cookie: {name: s, path: /}\n", 16, "path");
}

static void test_reject_auth_values(void **state)
{
    expect_error(AUTH_BASE "  access_ttl: 29\n", 16,
                 "access_ttl must be an integer from 30 to 604800, not '29'");
    expect_error(AUTH_BASE "  access_ttl: 604801\n", 16, "access_ttl must be an integer from 30 to 604800");
    expect_error(AUTH_BASE "  refresh_ttl: 59\n", 16,
                 "refresh_ttl must be an integer from 60 to 31536000, not '59'");
    expect_error(AUTH_BASE "  refresh_ttl: 31536001\n", 16, "refresh_ttl must be an integer");
    expect_error(AUTH_BASE "  refresh_ttl: 600\n", 16,
                 "refresh_ttl (600) must be greater than access_ttl (900, the default)");
    int n = expect_error(AUTH_BASE "  access_ttl: 3600\n  refresh_ttl: 3600\n", 17,
                         "refresh_ttl (3600) must be greater than access_ttl (3600)");
    assert_int_equal(n, 1);
    /* A bad access_ttl is not compared again. */
    n = expect_error(AUTH_BASE "  access_ttl: 1d\n  refresh_ttl: 60\n", 16, "access_ttl must be an integer");
    assert_int_equal(n, 1);
    expect_error(AUTH_BASE "  refresh_grace: -1\n", 16,
                 "refresh_grace must be an integer from 0 to 86400, not '-1'");
    expect_error(AUTH_BASE "  refresh_grace: 86401\n", 16, "refresh_grace must be an integer");
    expect_error(AUTH_BASE "  login_with: [password, sso]\n", 16,
                 "each of login_with must be one of password, api_key, not 'sso'");
    expect_error(AUTH_BASE "  login_with:\n    - password\n    - password\n", 18,
                 "login_with: 'password' is listed twice (first at line 17)");
    expect_error(AUTH_BASE "  login_with: []\n", 16, "login_with: at least one way to log in is needed");
    expect_error(AUTH_BASE "  login_with: password\n", 16, "login_with must be a list, not a single value");
    expect_error(AUTH_BASE "  schemes: [bearer, basic]\n", 16,
                 "each of schemes must be one of bearer, token, credentials, cookie, not 'basic'");
    expect_error(AUTH_BASE "  schemes: []\n", 16, "schemes: at least one scheme is needed (bearer, token, credentials, cookie)");
    expect_error(AUTH_BASE "  schemes: [token, token]\n", 16, "schemes: 'token' is listed twice");
    expect_error(AUTH_BASE "  denied_status: 402\n", 16, "denied_status must be 401 or 403, not '402'");
    expect_error(AUTH_BASE "  denied_status: 404\n", 16, "denied_status must be 401 or 403");
    expect_error(AUTH_BASE "  issuer: \"\"\n", 16, "issuer: '' must be 1 to 255 printable ASCII characters");
    expect_error(AUTH_BASE "  audience: \"caf\xc3\xa9\"\n", 16, "audience: 'caf");
    char longname[1024];
    snprintf(longname, sizeof longname, AUTH_BASE "  issuer: %0256d\n", 0);
    expect_error(longname, 16, "issuer: '");
    expect_error(AUTH_BASE "  password_field: 2fa\n", 16,
                 "password_field: '2fa' must match [A-Za-z][A-Za-z0-9_]* (at most 63 characters)");
    expect_error(AUTH_BASE "  api_key_field: api-key\n", 16, "api_key_field: 'api-key' must match");
    expect_error(AUTH_BASE "  login_with: [password, api_key]\n  api_key_field: password\n", 17,
                 "api_key_field and password_field are both 'password'");
    /* One way only: the other key's name does not matter. */
    app *a = load_ok(AUTH_BASE "  api_key_field: password\n");
    app_free(a);
}

/* The Zou-compatible keys (docs/app-format.md): style, login_also,
 * refresh_rotate, min_password_length, route methods, disabled_routes,
 * answer_row. */
static void test_auth_zou_keys(void **state)
{
    app *a = load_ok(AUTH_BASE "  style: zou\n  login_also: [nick]\n  refresh_rotate: false\n"
                               "  min_password_length: 12\n"
                               "  routes:\n    login: /api/auth/login\n    refresh: GET /api/auth/refresh-token\n"
                               "    logout: GET  /api/auth/logout\n    authenticated: /api/auth/me\n"
                               "    change_password: POST /api/auth/pw\n"
                               "  disabled_routes: {/api/auth/fido: FIDO not enabled., /sso: SSO is off.}\n"
                               "  answer_row: {key: organisation, model: project, default: {name: Acme}}\n");
    const app_auth *au = a->auth;
    assert_int_equal(au->style, AS_ZOU);
    assert_int_equal(au->n_login_also, 1);
    assert_ptr_equal(au->login_also[0], &a->models[0].fields[1]);
    assert_false(au->refresh_rotate);
    assert_int_equal(au->min_password, 12);
    assert_string_equal(au->login_method, "POST");
    assert_string_equal(au->refresh_method, "GET");
    assert_string_equal(au->refresh_path, "/api/auth/refresh-token");
    assert_string_equal(au->logout_method, "GET");
    assert_string_equal(au->logout_path, "/api/auth/logout");
    assert_string_equal(au->authenticated_method, "GET");
    assert_string_equal(au->authenticated_path, "/api/auth/me");
    assert_string_equal(au->change_password_method, "POST");
    assert_int_equal(au->n_off, 2);
    assert_string_equal(au->off_paths[1], "/sso");
    assert_string_equal(au->off_messages[0], "FIDO not enabled.");
    assert_string_equal(au->row_key, "organisation");
    assert_ptr_equal(au->row_model, &a->models[1]);
    assert_int_equal(au->n_row_default, 1);
    assert_string_equal(au->row_default_values[0], "Acme");
    app_free(a);
    /* defaults */
    a = load_ok(AUTH_BASE);
    assert_int_equal(a->auth->style, AS_STANDARD);
    assert_true(a->auth->refresh_rotate);
    assert_int_equal(a->auth->min_password, 8);
    assert_string_equal(a->auth->refresh_method, "POST");
    assert_null(a->auth->row_key);
    assert_int_equal(a->auth->n_off, 0);
    app_free(a);

    expect_error(AUTH_BASE "  style: django\n", 16, "style must be one of standard, zou, not 'django'");
    expect_error(AUTH_BASE "  login_also: [age]\n", 16, "login_also: field 'person.age' must be of type string");
    expect_error(AUTH_BASE "  login_also: [email]\n", 16, "login_also: 'email' is already a login field");
    expect_error(AUTH_BASE "  login_also: [nope]\n", 16, "login_also: model 'person' has no field 'nope'");
    expect_error(AUTH_BASE "  login_also: []\n", 16, "login_also: list 1 to 4 fields");
    expect_error(AUTH_BASE "  refresh_rotate: nope\n", 16, "refresh_rotate must be true or false");
    expect_error(AUTH_BASE "  refresh_grace: 60\n  refresh_rotate: false\n", 17,
                 "refresh_rotate: false cannot be combined with refresh_grace");
    expect_error(AUTH_BASE "  min_password_length: 7\n", 16, "min_password_length must be an integer from 8 to 128");
    expect_error(AUTH_BASE "  routes: {login: GET /auth/login}\n", 16,
                 "routes.login: 'GET' is not a method this route takes (POST)");
    expect_error(AUTH_BASE "  routes: {refresh: DELETE /auth/r}\n", 16,
                 "routes.refresh: 'DELETE' is not a method this route takes (POST or GET)");
    expect_error(AUTH_BASE "  routes: {authenticated: POST /auth/me}\n", 16,
                 "routes.authenticated: 'POST' is not a method this route takes (GET)");
    expect_error(AUTH_BASE "  routes: {logout: GET auth/out}\n", 16, "routes.logout: 'auth/out' must be an absolute");
    expect_error(AUTH_BASE "  disabled_routes: {fido: off}\n", 16, "disabled_routes: 'fido' must be an absolute path");
    expect_error(AUTH_BASE "  disabled_routes: {/api/projects: off}\n", 16,
                 "disabled_routes: '/api/projects' would hide a model route");
    expect_error(AUTH_BASE "  disabled_routes: {/health: off}\n", 16,
                 "disabled_routes: '/health' would hide the health path");
    expect_error(AUTH_BASE "  disabled_routes: {/x: \"\"}\n", 16,
                 "disabled_routes: the message must be 1 to 200 printable ASCII characters");
    expect_error(AUTH_BASE "  disabled_routes: [/x]\n", 16, "disabled_routes must be a mapping");
    expect_error(AUTH_BASE "  answer_row: {key: user, model: project}\n", 16,
                 "answer_row.key: 'user' must be a name ([a-z][a-z0-9_]*) other than the answer's own keys");
    expect_error(AUTH_BASE "  answer_row: {key: org, model: nope}\n", 16,
                 "answer_row.model: there is no model 'nope' in this file");
    expect_error(AUTH_BASE "  answer_row: {key: org}\n", 16, "missing required key 'model'");
    expect_error(AUTH_BASE "  answer_row: {key: org, model: person, default: {age: x}}\n", 16,
                 "answer_row.default: 'age' must be a string field of model 'person'");
}

static void test_reject_auth_routes(void **state)
{
    expect_error(AUTH_BASE "  routes:\n    login: auth/login\n", 17,
                 "routes.login: 'auth/login' must be an absolute path like /auth/login");
    expect_error(AUTH_BASE "  routes: {logout: /a/../b}\n", 16, "routes.logout: '/a/../b' must be");
    expect_error(AUTH_BASE "  routes: {refresh: /auth/}\n", 16, "routes.refresh: '/auth/' must be");
    expect_error(AUTH_BASE "  routes:\n    login: /auth/x\n    refresh: /auth/x\n", 18,
                 "routes.refresh: '/auth/x' is already the login route (line 17)");
    expect_error(AUTH_BASE "  routes:\n    logout: /health\n", 17,
                 "routes.logout: '/health' is the health path");
    expect_error(AUTH_BASE "  routes:\n    login: /api/projects/login\n", 17,
                 "routes.login '/api/projects/login' hides the route of model 'project'");
    expect_error(AUTH_BASE "  routes:\n    login: /api/person\n", 17,
                 "routes.login '/api/person' hides the route of model 'person'");
    /* Outside base_path, or a segment that is no route: fine. */
    app *a = load_ok(AUTH_BASE "  routes: {login: /projects, refresh: /api/auth/projects, logout: /api}\n");
    assert_string_equal(a->auth->login_path, "/projects");
    assert_string_equal(a->auth->refresh_path, "/api/auth/projects");
    assert_string_equal(a->auth->logout_path, "/api");
    app_free(a);
}

static void test_reject_auth_keys(void **state)
{
    expect_error(HEAD "      a: {type: text}\n    access: {read: [\"*\"]}\n", 6,
                 "access needs an auth section");
    /* Reported once: the lists are not read. */
    int n = expect_error("app: {name: t}\nmodels:\n  m:\n    access: {read: [Bad], colour: 1}\n"
                         "    fields: {a: {type: text}}\n",
                         4, "access needs an auth section");
    assert_int_equal(n, 1);
    expect_error(AUTH_BASE "  colour: red\n", 16, "unknown key 'colour' in auth (known keys: users, ");
    expect_error(AUTH_BASE "  routes:\n    login: /auth/login\n    signup: /auth/signup\n", 18,
                 "unknown key 'signup' in auth.routes (known keys: login, refresh, logout, ");
    expect_error(AUTH_BASE "  default_access: {read: [], list: []}\n", 16,
                 "unknown key 'list' in auth.default_access (known keys: read, write)");
    expect_error("app: {name: t}\nmodels:\n"
                 "  u:\n    access:\n      read: [\"*\"]\n      delete: [admin]\n    fields:\n"
                 "      e: {type: string, required: true, unique: true}\n"
                 "auth: {users: u, login_field: e}\n",
                 6, "unknown key 'delete' in access of model 'u' (known keys: read, write, scope, fields, role_in)");
    expect_error("app: {name: t}\nmodels:\n"
                 "  u:\n    access: [admin]\n    fields:\n"
                 "      e: {type: string, required: true, unique: true}\n"
                 "auth: {users: u, login_field: e}\n",
                 4, "access of model 'u' must be a mapping, not a list");
    expect_error(AUTH_BASE "  routes: /auth\n", 16, "auth.routes must be a mapping, not a single value");
    expect_error(ONE_MODEL "app: {name: t}\nauth:\n", 4, "auth must be a mapping, not empty");
    expect_error(ONE_MODEL "app: {name: t}\nauth: {login_field: e}\n", 4,
                 "auth: missing required key 'users'");
}

/* ---- write keys: put, ref_lists, create_only, computed -------------------- */

static void test_write_keys(void **state)
{
    app *a = load_ok("app:\n  name: t\n  conventions: {put: merge, ref_lists: lenient}\nmodels:\n"
                     "  m:\n    put: replace\n    fields:\n"
                     "      first: {type: string}\n"
                     "      full: {type: text, computed: {concat: [first, ' \"', n, \"-\"]}}\n"
                     "      n: {type: integer, create_only: true}\n"
                     "  o:\n    fields: {a: {type: text}}\n");
    assert_int_equal(a->put, PUT_MERGE);
    assert_true(a->lenient_ref_lists);
    const app_model *m = app_model_by_name(a, "m"), *o = app_model_by_name(a, "o");
    assert_int_equal(m->put, PUT_REPLACE);
    assert_int_equal(o->put, PUT_MERGE);
    const app_field *full = app_field_by_name(m, "full");
    assert_true(full->read_only);
    assert_int_equal(full->n_computed, 4);
    assert_ptr_equal(full->computed[0].field, app_field_by_name(m, "first"));
    assert_null(full->computed[1].field);
    assert_string_equal(full->computed[1].literal, " \"");
    assert_ptr_equal(full->computed[2].field, app_field_by_name(m, "n"));
    assert_string_equal(full->computed[3].literal, "-");
    assert_true(app_field_by_name(m, "n")->create_only);
    assert_false(app_field_by_name(m, "first")->create_only);
    assert_null(app_field_by_name(m, "first")->computed);
    app_free(a);
    /* the defaults */
    a = load_ok(HEAD "      a: {type: text}\n");
    assert_int_equal(a->put, PUT_REPLACE);
    assert_false(a->lenient_ref_lists);
    assert_int_equal(a->models[0].put, PUT_REPLACE);
    app_free(a);
}

static void test_reject_write_keys(void **state)
{
    expect_error(HEAD "      a: {type: text, computed: {concat: [b]}}\n", 5, "model 'm' has no field 'b'");
    expect_error(HEAD "      a: {type: text, computed: {concat: [a]}}\n", 5, "cannot be a part");
    expect_error(HEAD "      a: {type: text}\n      b: {type: boolean}\n      c: {type: text, computed: {concat: [a, b]}}\n",
                 7, "field 'b' (boolean) cannot be a part");
    expect_error(HEAD "      a: {type: text}\n      c: {type: json, computed: {concat: [a]}}\n", 6,
                 "computed is not allowed for type json");
    expect_error(HEAD "      a: {type: text}\n      c: {type: text, create_only: true, computed: {concat: [a]}}\n", 6,
                 "create_only cannot be given for a computed field");
    expect_error(HEAD "      a: {type: text}\n      c: {type: text, computed: {concat: ['x']}}\n", 6,
                 "at least one part must be a field");
    expect_error(HEAD "      a: {type: text}\n      c: {type: text, computed: {concat: [a], extra: 1}}\n", 6, "extra");
    expect_error(HEAD "      a: {type: text, create_only: 2}\n", 5, "create_only");
    expect_error("app:\n  name: t\n  conventions: {put: upsert}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 3,
                 "put must be one of replace, merge, not 'upsert'");
    expect_error("app:\n  name: t\n  conventions: {ref_lists: [x]}\nmodels:\n  m: {fields: {a: {type: text}}}\n", 3,
                 "ref_lists");
    expect_error("app: {name: t}\nmodels:\n  m:\n    put: patch\n    fields: {a: {type: text}}\n", 4,
                 "put must be one of");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_key_cases),
        cmocka_unit_test(test_lists_versions),
        cmocka_unit_test(test_list_limits),
        cmocka_unit_test(test_list_zou_keys),
        cmocka_unit_test(test_doc_example),
        cmocka_unit_test(test_demo_app),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_row_type_names),
        cmocka_unit_test(test_convert_case),
        cmocka_unit_test(test_file_at_limit),
        cmocka_unit_test(test_reject_unknown_keys),
        cmocka_unit_test(test_reject_duplicates),
        cmocka_unit_test(test_reject_duplicate_route),
        cmocka_unit_test(test_reject_dangling_ref),
        cmocka_unit_test(test_reject_bad_type),
        cmocka_unit_test(test_reject_constraints),
        cmocka_unit_test(test_reject_patterns),
        cmocka_unit_test(test_reject_defaults),
        cmocka_unit_test(test_reject_missing_keys),
        cmocka_unit_test(test_write_keys),
        cmocka_unit_test(test_reject_write_keys),
        cmocka_unit_test(test_reject_names),
        cmocka_unit_test(test_reject_conventions),
        cmocka_unit_test(test_reject_indexes),
        cmocka_unit_test(test_reject_node_kinds),
        cmocka_unit_test(test_reject_yaml),
        cmocka_unit_test(test_reject_file),
        cmocka_unit_test(test_reject_many),
        cmocka_unit_test(test_reject_lists),
        cmocka_unit_test(test_reject_versions),
        cmocka_unit_test(test_reject_since_until),
        cmocka_unit_test(test_reject_nested),
        cmocka_unit_test(test_reject_expensive),
        cmocka_unit_test(test_reject_capped),
        cmocka_unit_test(test_auth_full),
        cmocka_unit_test(test_auth_defaults),
        cmocka_unit_test(test_doc_auth_example),
        cmocka_unit_test(test_reject_auth_fields),
        cmocka_unit_test(test_reject_auth_roles),
        cmocka_unit_test(test_auth_schemes),
        cmocka_unit_test(test_reject_auth_values),
        cmocka_unit_test(test_reject_auth_cookie),
        cmocka_unit_test(test_reject_auth_routes),
        cmocka_unit_test(test_auth_zou_keys),
        cmocka_unit_test(test_reject_auth_keys),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

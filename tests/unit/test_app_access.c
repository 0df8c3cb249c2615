/*
 * Unit tests for the row scopes, field subsets and per-holder roles of a
 * model's access (src/app/access.c): what a good file resolves to, and
 * that every bad one is refused with the line of the problem. The HTTP
 * behaviour is in tests/http/test_scope.py and test_project_roles.py.
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

#include "app_file.h"

/* The fixture: line 14 holds the rule under test (RULE). */
#define FIXTURE(RULE)                                                                    \
    "app: {name: t}\n"                                              /* 1 */              \
    "auth: {users: person, login_field: email, role_field: role}\n" /* 2 */              \
    "models:\n"                                                     /* 3 */              \
    "  person:\n"                                                   /* 4 */              \
    "    fields:\n"                                                 /* 5 */              \
    "      email: {type: string, required: true, unique: true}\n"   /* 6 */              \
    "      role: {type: enum, values: [admin, boss, user]}\n"       /* 7 */              \
    "  project:\n"                                                  /* 8 */              \
    "    fields:\n"                                                 /* 9 */              \
    "      team: {type: ref_list, model: person}\n"                 /* 10 */             \
    "      lead: {type: ref, model: person}\n"                      /* 11 */             \
    "      name: {type: string}\n"                                  /* 12 */             \
    "  task:\n"                                                     /* 13 */             \
    "    access: {read: [\"*\"], " RULE "}\n"                       /* 14 */             \
    "    fields:\n"                                                 /* 15 */             \
    "      project_id: {type: ref, model: project}\n"               /* 16 */             \
    "      owner: {type: ref, model: person}\n"                     /* 17 */             \
    "      title: {type: string}\n"                                 /* 18 */             \
    "      tags: {type: ref_list, model: project}\n"                /* 19 */

static app *load_ok(const char *text)
{
    char *errs = NULL;
    app *a = load_text(text, &errs);
    if (!a)
        print_error("unexpected rejection:\n%s", errs ? errs : "(no report)");
    assert_non_null(a);
    return a;
}

static void expect_error(const char *text, unsigned line, const char *needle)
{
    char *errs = NULL;
    app *a = load_text(text, &errs);
    app_free(a);
    assert_null(a);
    assert_non_null(errs);
    bool found = has_error(errs, line, needle);
    if (!found)
        print_error("wanted line %u with \"%s\"\n", line, needle);
    free(errs);
    assert_true(found);
}

static void test_via_member(void **state)
{
    app *a = load_ok(FIXTURE("scope: {via: project_id, member: team, exempt: [boss]}"));
    const app_model *task = app_model_by_name(a, "task"), *project = app_model_by_name(a, "project");
    const app_scope *sc = task->access.scope;
    assert_non_null(sc);
    assert_ptr_equal(sc->via, app_field_by_name(task, "project_id"));
    assert_ptr_equal(sc->holder, project);
    assert_ptr_equal(sc->member, app_field_by_name(project, "team"));
    assert_null(sc->owner);
    assert_int_equal(sc->n_exempt, 1);
    assert_string_equal(sc->exempt[0], "boss");
    assert_null(project->access.scope);
    app_free(a);
}

static void test_owner_on_the_row(void **state)
{
    app *a = load_ok(FIXTURE("scope: {owner: owner}"));
    const app_model *task = app_model_by_name(a, "task");
    const app_scope *sc = task->access.scope;
    assert_non_null(sc);
    assert_null(sc->via);
    assert_ptr_equal(sc->holder, task);
    assert_ptr_equal(sc->owner, app_field_by_name(task, "owner"));
    assert_null(sc->member);
    app_free(a);
}

static void test_via_owner(void **state)
{
    app *a = load_ok(FIXTURE("scope: {via: project_id, owner: lead}"));
    const app_model *project = app_model_by_name(a, "project");
    const app_scope *sc = app_model_by_name(a, "task")->access.scope;
    assert_ptr_equal(sc->owner, app_field_by_name(project, "lead"));
    app_free(a);
}

static void test_fields(void **state)
{
    app *a = load_ok(FIXTURE("fields: {\"*\": [id, title], user: [title, owner, updated_at]}"));
    const app_model *task = app_model_by_name(a, "task");
    assert_int_equal(task->access.n_views, 2);
    const app_view *star = &task->access.views[0], *user = &task->access.views[1];
    assert_string_equal(star->role, "*");
    assert_string_equal(user->role, "user");
    /* fields: project_id, owner, title, tags; then created_at, updated_at */
    static const bool want_star[] = {true, true, false, true, true, true};
    static const bool want_user[] = {true, false, false, true, true, false};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(star->omit[i], want_star[i]);
        assert_int_equal(user->omit[i], want_user[i]);
    }
    app_free(a);
    a = load_ok(FIXTURE("fields: {user: {serve: [title], filter: [title, owner]}, boss: [owner]}"));
    task = app_model_by_name(a, "task");
    const app_view *u = &task->access.views[0], *b = &task->access.views[1];
    static const bool serve_u[] = {true, true, false, true, true, true};
    static const bool filter_u[] = {true, false, false, true, true, true};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(u->omit[i], serve_u[i]);
        assert_int_equal(u->nofilter[i], filter_u[i]);
    }
    assert_ptr_equal(b->nofilter, b->omit); /* a plain list: filter what is served */
    app_free(a);
}

/* FIXTURE plus an override model (lines 20-24) for role_in. */
#define GRANTS(RULE)                                                                     \
    FIXTURE(RULE)                                                                        \
    "  grant:\n"                                                    /* 20 */             \
    "    fields:\n"                                                 /* 21 */             \
    "      project_id: {type: ref, model: project}\n"               /* 22 */             \
    "      person_id: {type: ref, model: person}\n"                 /* 23 */             \
    "      role: {type: string}\n"                                  /* 24 */

static void test_role_in(void **state)
{
    /* via defaults to the scope's */
    app *a = load_ok(GRANTS("scope: {via: project_id, member: team}, "
                            "role_in: {model: grant, holder: project_id, user: person_id, role: role}"));
    const app_model *task = app_model_by_name(a, "task"), *grant = app_model_by_name(a, "grant");
    const app_role_in *ri = task->access.role_in;
    assert_non_null(ri);
    assert_ptr_equal(ri->model, grant);
    assert_ptr_equal(ri->holder, app_field_by_name(grant, "project_id"));
    assert_ptr_equal(ri->user, app_field_by_name(grant, "person_id"));
    assert_ptr_equal(ri->role, app_field_by_name(grant, "role"));
    assert_ptr_equal(ri->via, app_field_by_name(task, "project_id"));
    assert_int_equal(ri->n_global, 1); /* the default superusers: admin */
    assert_string_equal(ri->global[0], "admin");
    app_free(a);
    /* given without a scope */
    a = load_ok(GRANTS("role_in: {model: grant, holder: project_id, user: person_id, role: role, via: project_id}"));
    task = app_model_by_name(a, "task");
    assert_ptr_equal(task->access.role_in->via, app_field_by_name(task, "project_id"));
    app_free(a);
}

static void test_role_in_rejects(void **state)
{
    expect_error(GRANTS("role_in: {model: grant, holder: project_id, user: person_id, role: role}"), 14,
                 "give `via`");
    expect_error(GRANTS("role_in: {model: nope, holder: project_id, user: person_id, role: role}"), 14,
                 "there is no model 'nope'");
    expect_error(GRANTS("role_in: {model: grant, holder: role, user: person_id, role: role, via: project_id}"),
                 14, "must be a ref (it is a string)");
    expect_error(GRANTS("role_in: {model: grant, holder: project_id, user: project_id, role: role, "
                        "via: project_id}"),
                 14, "must be a ref to person");
    expect_error(GRANTS("role_in: {model: grant, holder: project_id, user: person_id, role: person_id, "
                        "via: project_id}"),
                 14, "must be a string or an enum");
    expect_error(GRANTS("role_in: {model: grant, holder: project_id, user: person_id, role: role, via: owner}"),
                 14, "must be a ref to project");
    expect_error(GRANTS("role_in: {model: grant, holder: project_id, user: person_id}"), 14, "role");
    expect_error(GRANTS("role_in: [grant]"), 14, "must be a mapping");
}

static void test_rejects(void **state)
{
    expect_error(FIXTURE("scope: {member: team}"), 14, "model 'task' has no field 'team'");
    expect_error(FIXTURE("scope: {member: tags}"), 14, "must be a ref_list to person");
    expect_error(FIXTURE("scope: {via: title, member: team}"), 14, "must be a ref (it is a string)");
    expect_error(FIXTURE("scope: {via: project_id, owner: team}"), 14, "must be a ref to person");
    expect_error(FIXTURE("scope: {via: project_id}"), 14, "exactly one of member");
    expect_error(FIXTURE("scope: {via: project_id, member: team, owner: lead}"), 14, "exactly one of member");
    expect_error(FIXTURE("scope: {owner: owner, exempt: [nobody]}"), 14, "is not one of the values");
    expect_error(FIXTURE("scope: {owner: owner, exempt: [\"*\"]}"), 14, "'*' is not allowed here");
    expect_error(FIXTURE("scope: {owner: owner, when: now}"), 14, "when");
    expect_error(FIXTURE("scope: [owner]"), 14, "must be a mapping");
    expect_error(FIXTURE("fields: [title]"), 14, "must be a mapping");
    expect_error(FIXTURE("fields: {user: title}"), 14, "must be a list");
    expect_error(FIXTURE("fields: {user: [title, nope]}"), 14, "has no field 'nope'");
    expect_error(FIXTURE("fields: {user: [title, title]}"), 14, "listed twice");
    expect_error(FIXTURE("fields: {Bad-Role: [title]}"), 14, "must be a role name");
    expect_error(FIXTURE("fields: {nobody: [title]}"), 14, "is not one of the values");
    expect_error(FIXTURE("fields: {user: {filter: [title]}}"), 14, "serve");
    expect_error(FIXTURE("fields: {user: {serve: [title], filter: [nope]}}"), 14, "has no field 'nope'");
    expect_error(FIXTURE("fields: {user: {serve: [title], sort: [title]}}"), 14, "sort");
    /* default_access names no model's fields */
    char text[2048];
    snprintf(text, sizeof text, "%s",
             FIXTURE("write: []")); /* then move a scope into default_access */
    char *p = strstr(text, "role_field: role}");
    assert_non_null(p);
    char fixed[2200];
    snprintf(fixed, sizeof fixed, "%.*srole_field: role, default_access: {scope: {owner: owner}}}%s",
             (int)(p - text), text, p + strlen("role_field: role}"));
    expect_error(fixed, 2, "unknown key 'scope' in auth.default_access (known keys: read, write)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_via_member),
        cmocka_unit_test(test_owner_on_the_row),
        cmocka_unit_test(test_via_owner),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_role_in),
        cmocka_unit_test(test_role_in_rejects),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

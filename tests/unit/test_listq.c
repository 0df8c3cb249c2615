/* Unit tests for list-query parsing (src/api/listq.c): filter operators
 * and their type rules, paging bounds, cursors, sorting, field selection,
 * expensive fields, versions, and stored-filter objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/listq.h"

static app_model owner = {.name = "person", .route = "persons"};
static const char *const kinds[] = {"a", "b"};

enum { F_NAME, F_QTY, F_PRICE, F_ACTIVE, F_KIND, F_DAY, F_OWNER, F_TAGS, F_NOTES, F_META, F_NEW, NF };
#define FIELD(n, t) .name = n, .json_name = n, .error_name = n, .type = t
static app_field fields[NF] = {
    [F_NAME] = {FIELD("name", FT_STRING)},
    [F_QTY] = {FIELD("qty", FT_INTEGER)},
    [F_PRICE] = {FIELD("price", FT_NUMBER)},
    [F_ACTIVE] = {FIELD("active", FT_BOOLEAN)},
    [F_KIND] = {FIELD("kind", FT_ENUM), .enum_values = kinds, .n_enum = 2},
    [F_DAY] = {FIELD("day", FT_DATE)},
    [F_OWNER] = {FIELD("owner", FT_REF), .ref = &owner},
    [F_TAGS] = {FIELD("tags", FT_REF_LIST), .ref = &owner, .link_table = "item__tags"},
    [F_NOTES] = {FIELD("notes", FT_TEXT), .expensive = true},
    [F_META] = {FIELD("meta", FT_JSON)},
    [F_NEW] = {FIELD("barcode", FT_STRING), .since = 2},
};
static app_model item = {.name = "item", .route = "items", .fields = fields, .n_fields = NF};
static const int versions[] = {1, 2};
static app the_app = {.name = "t", .payload_case = KC_SNAKE, .dates = DS_ISO8601, .models = &item,
                      .n_models = 1, .default_limit = 20, .max_limit = 100, .versions = versions,
                      .n_versions = 2};

#define ID1 "0190a2b4-1111-7000-8000-000000000001"
#define ID2 "0190a2b4-1111-7000-8000-000000000002"

/* Parse a query string at version v; returns the code and the detail. */
static rd_err parse(const char *qs, int v, arena *a, listq *out, const char **detail)
{
    qparam p[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int n = query_parse(qs, strlen(qs), a, p, RD_MAX_QUERY_PARAMS, &bad);
    assert_true(n >= 0);
    memset(out, 0, sizeof *out);
    *detail = NULL;
    return listq_parse(&the_app, &item, v, p, (size_t)n, NULL, a, out, detail);
}

static void ok(const char *qs, arena *a, listq *out)
{
    const char *d;
    rd_err e = parse(qs, 2, a, out, &d);
    if (e != RD_OK)
        fail_msg("%s: %s", qs, d);
}

static void bad(const char *qs, int v, const char *needle)
{
    arena *a = arena_new();
    listq lq;
    const char *d;
    rd_err e = parse(qs, v, a, &lq, &d);
    if (e != RD_BAD_REQUEST)
        fail_msg("%s: accepted", qs);
    if (!strstr(d, needle))
        fail_msg("%s: detail '%s' lacks '%s'", qs, d, needle);
    arena_free(a);
}

static void equality_and_lists(void **state)
{
    arena *a = arena_new();
    listq lq;
    ok("name=John%20Doe&qty=3&active=true&owner=" ID1, a, &lq);
    assert_int_equal(lq.q.n_terms, 4);
    assert_int_equal(lq.q.terms[0].op, FOP_EQ);
    assert_string_equal(lq.q.terms[0].vals[0].s, "John Doe");
    assert_int_equal(lq.q.terms[1].vals[0].i, 3);
    assert_int_equal(lq.q.terms[2].vals[0].i, 1);
    /* a comma list means any-of for id-like and integer types ... */
    ok("owner=" ID1 "," ID2 "&qty=1,2,3", a, &lq);
    assert_int_equal(lq.q.terms[0].op, FOP_IN);
    assert_int_equal(lq.q.terms[0].n, 2);
    assert_int_equal(lq.q.terms[1].n, 3);
    /* ... but is literal in a string, unless [in] splits it */
    ok("name=a,b", a, &lq);
    assert_int_equal(lq.q.terms[0].op, FOP_EQ);
    assert_string_equal(lq.q.terms[0].vals[0].s, "a,b");
    ok("name[in]=a\\,b,c", a, &lq);
    assert_int_equal(lq.q.terms[0].n, 2);
    assert_string_equal(lq.q.terms[0].vals[0].s, "a,b");
    ok("tags=" ID1, a, &lq);
    assert_ptr_equal(lq.q.terms[0].field, &fields[F_TAGS]);
    arena_free(a);
}

static void operators(void **state)
{
    arena *a = arena_new();
    listq lq;
    ok("qty[ge]=2&price[lt]=9.5&day[gt]=2026-01-31&name[ne]=x&kind[nin]=a", a, &lq);
    assert_int_equal(lq.q.terms[0].op, FOP_GE);
    assert_true(lq.q.terms[1].vals[0].d == 9.5);
    assert_string_equal(lq.q.terms[2].vals[0].s, "2026-01-31");
    assert_int_equal(lq.q.terms[4].op, FOP_NIN);
    ok("name[like]=ab*c?[", a, &lq);
    assert_string_equal(lq.q.terms[0].vals[0].s, "ab*c[?][[]");
    ok("name[ilike]=50%25_*", a, &lq);
    assert_string_equal(lq.q.terms[0].vals[0].s, "50\\%\\_%");
    ok("owner[null]=true&day[null]=false", a, &lq);
    assert_int_equal(lq.q.terms[0].vals[0].i, 1);
    assert_int_equal(lq.q.terms[1].vals[0].i, 0);
    ok("id=" ID1 "&created_at[ge]=2026-01-01T00:00:00Z", a, &lq);
    assert_string_equal(lq.q.terms[0].field->name, "id");
    assert_string_equal(lq.q.terms[1].vals[0].s, "2026-01-01T00:00:00.000000Z");
    arena_free(a);
}

static void rejects_bad_filters(void **state)
{
    bad("nosuch=1", 2, "nosuch");
    bad("qty[zz]=1", 2, "unknown operator");
    bad("qty[eq=1", 2, "unknown operator");
    bad("active[gt]=true", 2, "does not apply");
    bad("price[like]=x", 2, "does not apply");
    bad("meta=1", 2, "does not apply");
    bad("qty=abc", 2, "qty");
    bad("qty=1.5", 2, "qty");
    bad("day=2026-02-30", 2, "day");
    bad("kind=z", 2, "kind");
    bad("owner=nope", 2, "owner");
    bad("active=maybe", 2, "active");
    bad("owner[null]=maybe", 2, "true or false");
    bad("qty=1&qty=2", 2, "more than once");
    bad("barcode=x", 1, "barcode"); /* not in version 1 */
}

static void paging(void **state)
{
    arena *a = arena_new();
    listq lq;
    ok("", a, &lq);
    assert_int_equal(lq.q.limit, 20);
    assert_int_equal(lq.q.offset, 0);
    assert_true(lq.q.count);
    ok("limit=100&offset=7&envelope=true", a, &lq);
    assert_int_equal(lq.q.limit, 100);
    assert_int_equal(lq.q.offset, 7);
    assert_true(lq.envelope);
    bad("limit=101", 2, "limit");
    bad("limit=0", 2, "limit");
    bad("limit=-1", 2, "limit");
    bad("limit=x", 2, "limit");
    bad("offset=-1", 2, "offset");
    bad("envelope=yes", 2, "envelope");
    bad("page=2", 2, "page"); /* only where the app pages by page */
    arena_free(a);
}

static void cursors(void **state)
{
    arena *a = arena_new();
    listq lq;
    ok("cursor=start", a, &lq);
    assert_true(lq.q.keyset);
    assert_int_equal(lq.q.after, 0);
    ok("cursor=NDI", a, &lq); /* base64url("42") */
    assert_int_equal(lq.q.after, 42);
    bad("cursor=", 2, "cursor");
    bad("cursor=!!", 2, "cursor");
    bad("cursor=YWJj", 2, "cursor"); /* "abc" */
    bad("cursor=start&offset=5", 2, "cursor");
    bad("cursor=start&order_by=name", 2, "cursor");
    arena_free(a);
}

static void sorting_and_fields(void **state)
{
    arena *a = arena_new();
    listq lq;
    ok("order_by=-qty,name", a, &lq);
    assert_int_equal(lq.q.n_sort, 2);
    assert_true(lq.q.sort[0].desc);
    assert_ptr_equal(lq.q.sort[1].field, &fields[F_NAME]);
    bad("order_by=nosuch", 2, "order_by");
    bad("order_by=tags", 2, "order_by");
    ok("fields=name,qty", a, &lq);
    assert_false(lq.q.omit[F_NAME]);
    assert_false(lq.q.omit[F_QTY]);
    assert_true(lq.q.omit[F_PRICE]);
    bad("fields=name,nosuch", 2, "nosuch");
    /* expensive fields stay out of lists unless included */
    ok("", a, &lq);
    assert_non_null(lq.q.omit);
    assert_true(lq.q.omit[F_NOTES]);
    assert_false(lq.q.omit[F_NAME]);
    ok("include_notes=true", a, &lq);
    assert_true(lq.q.omit == NULL || !lq.q.omit[F_NOTES]);
    bad("include_name=true", 2, "include_name");
    /* a field of a later version is left out of earlier ones */
    const char *d;
    assert_int_equal(parse("", 1, a, &lq, &d), RD_OK);
    assert_true(lq.q.omit[F_NEW]);
    arena_free(a);
}

static void stored_filter_objects(void **state)
{
    arena *a = arena_new();
    const char *text = "{\"qty\": 3, \"owner\": [\"" ID1 "\", \"" ID2 "\"], \"price\": {\"ge\": 1, \"lt\": 2.5},"
                       " \"name\": {\"like\": \"a*\"}, \"day\": {\"null\": true}}";
    json_error_t je;
    json_t *obj = json_loads(text, 0, &je);
    listq lq = {0};
    verrs errs = {0};
    assert_int_equal(listq_from_json(&the_app, &item, 2, obj, a, &lq, &errs), RD_OK);
    assert_int_equal(lq.q.n_terms, 6);
    assert_int_equal(lq.q.terms[1].op, FOP_IN);
    assert_int_equal(lq.q.terms[1].n, 2);
    json_decref(obj);

    obj = json_loads("{\"qty\": \"x\", \"bogus\": 1, \"price\": {\"zz\": 1}, \"active\": {\"gt\": true},"
                     " \"kind\": {\"in\": \"a\"}}", 0, &je);
    listq lq2 = {0};
    verrs e2 = {0};
    assert_int_equal(listq_from_json(&the_app, &item, 2, obj, a, &lq2, &e2), RD_VALIDATION);
    assert_int_equal(e2.n, 5);
    json_decref(obj);

    obj = json_loads("[1]", 0, &je);
    verrs e3 = {0};
    listq lq3 = {0};
    assert_int_equal(listq_from_json(&the_app, &item, 2, obj, a, &lq3, &e3), RD_VALIDATION);
    assert_string_equal(e3.items[0].key, "$");
    json_decref(obj);
    arena_free(a);
}

/* With no lists switch set, Zou's forms are refused (other apps stay strict). */
static void zou_switches_off(void **state)
{
    bad("nosuch=1", 2, "nosuch");
    bad("fields=name,nosuch", 2, "nosuch");
    bad("relations=true", 2, "relations");
    bad("owner=[\"" ID1 "\"]", 2, "owner");
    arena *a = arena_new();
    listq lq;
    ok("active=False&name=Bob", a, &lq); /* Python booleans are engine-wide */
    assert_int_equal(lq.q.terms[0].vals[0].i, 0);
    assert_false(lq.q.terms[1].nocase);
    bad("page=1", 2, "page"); /* not a page app: page names no field */
    arena_free(a);
}

static void zou_switches_on(void **state)
{
    static const app_sort order[] = {{"updated_at", true}, {"created_at", true}, {"id", false}};
    app saved = the_app;
    the_app.paging = PG_PAGE;
    the_app.ignore_unknown_params = the_app.unpaged_whole = true;
    the_app.relations_on_request = the_app.json_lists = true;
    the_app.page_order = order;
    the_app.n_page_order = 3;
    fields[F_NAME].filter = FD_ILIKE;
    arena *a = arena_new();
    listq lq;

    /* unknown names are skipped, in fields= too */
    ok("nosuch=1&include_nosuch=1&fields=name,nosuch,type&qty=2", a, &lq);
    assert_int_equal(lq.q.n_terms, 1);
    assert_false(lq.q.omit[F_NAME]);
    assert_true(lq.q.omit[F_QTY]);
    bad("qty[zz]=1", 2, "unknown operator"); /* a known field keeps its rules */
    bad("qty=x", 2, "qty");

    /* without page: limit and offset are ignored, the list is whole */
    ok("limit=3&offset=9", a, &lq);
    assert_int_equal(lq.q.limit, 100);
    assert_int_equal(lq.q.offset, 0);
    assert_int_equal(lq.q.n_sort, 0);
    ok("limit=x", a, &lq);
    /* with page they count, and the page order applies */
    ok("page=2&limit=3", a, &lq);
    assert_int_equal(lq.q.limit, 3);
    assert_int_equal(lq.q.offset, 3);
    assert_int_equal(lq.q.n_sort, 3);
    assert_string_equal(lq.q.sort[0].field->name, "updated_at");
    assert_true(lq.q.sort[0].desc);
    assert_string_equal(lq.q.sort[2].field->name, "id");
    assert_false(lq.q.sort[2].desc);
    ok("page=1&order_by=-qty", a, &lq);
    assert_int_equal(lq.q.n_sort, 1);
    bad("page=1&limit=x", 2, "limit");

    /* ref_lists only with relations=<true>; the expensive field stays out */
    ok("", a, &lq);
    assert_true(lq.q.omit[F_TAGS]);
    assert_true(lq.q.omit[F_NOTES]);
    assert_false(lq.q.omit[F_NAME]);
    ok("relations=True", a, &lq);
    assert_false(lq.q.omit[F_TAGS]);
    assert_true(lq.q.omit[F_NOTES]);
    ok("relations=0", a, &lq);
    assert_true(lq.q.omit[F_TAGS]);
    ok("fields=tags", a, &lq);
    assert_false(lq.q.omit[F_TAGS]);
    bad("relations=maybe", 2, "relations");

    /* name= ignores case, [eq] does not */
    ok("name=Bob", a, &lq);
    assert_int_equal(lq.q.terms[0].op, FOP_EQ);
    assert_true(lq.q.terms[0].nocase);
    assert_string_equal(lq.q.terms[0].vals[0].s, "Bob");
    ok("name[eq]=Bob", a, &lq);
    assert_false(lq.q.terms[0].nocase);
    ok("name[in]=a,b", a, &lq);
    assert_false(lq.q.terms[0].nocase);

    /* JSON lists */
    ok("owner=[\"" ID1 "\",\"" ID2 "\"]&qty=[1,2,3]&active=[true]&name=[\"a\",\"B\"]", a, &lq);
    assert_int_equal(lq.q.terms[0].op, FOP_IN);
    assert_int_equal(lq.q.terms[0].n, 2);
    assert_string_equal(lq.q.terms[0].vals[1].s, ID2);
    assert_int_equal(lq.q.terms[1].n, 3);
    assert_int_equal(lq.q.terms[1].vals[2].i, 3);
    assert_int_equal(lq.q.terms[2].vals[0].i, 1);
    assert_true(lq.q.terms[3].nocase);
    assert_int_equal(lq.q.terms[3].op, FOP_IN);
    ok("tags=[\"" ID1 "\"]&id[nin]=[\"" ID2 "\"]", a, &lq);
    assert_ptr_equal(lq.q.terms[0].field, &fields[F_TAGS]);
    assert_int_equal(lq.q.terms[1].op, FOP_NIN);
    ok("name[eq]=[x]&name[like]=[y]", a, &lq); /* one-value operators read the text */
    assert_string_equal(lq.q.terms[0].vals[0].s, "[x]");
    bad("owner=[", 2, "JSON list");
    bad("owner=[\"" ID1 "\"]x", 2, "JSON list");
    bad("owner=[1]", 2, "'owner'");
    bad("owner=[null]", 2, "'owner'");
    bad("owner=[[\"" ID1 "\"]]", 2, "'owner'");
    bad("owner=[]", 2, "1 to 1000");
    bad("qty=[\"1\"]", 2, "'qty'");
    bad("meta=[1]", 2, "does not apply");

    arena_free(a);
    fields[F_NAME].filter = FD_EQ;
    the_app = saved;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equality_and_lists), cmocka_unit_test(operators),
        cmocka_unit_test(rejects_bad_filters), cmocka_unit_test(paging),
        cmocka_unit_test(cursors),            cmocka_unit_test(sorting_and_fields),
        cmocka_unit_test(stored_filter_objects), cmocka_unit_test(zou_switches_off),
        cmocka_unit_test(zou_switches_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

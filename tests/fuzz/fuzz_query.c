/* libFuzzer driver: query strings (api/query.c) into list queries
 * (api/listq.c) against a model with one field of every filterable type,
 * once with the strict defaults and once with every Zou list switch on
 * (JSON lists, relations, unknown names, whole unpaged lists). */
#include <stddef.h>
#include <stdint.h>

#include "api/listq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static app_model other = {.name = "person", .route = "persons"};
static const char *const kinds[] = {"a", "b"};
#define FIELD(n, t) .name = n, .json_name = n, .error_name = n, .type = t
static app_field fields[] = {
    {FIELD("name", FT_STRING), .filter = FD_ILIKE},   {FIELD("qty", FT_INTEGER)},  {FIELD("price", FT_NUMBER)},
    {FIELD("active", FT_BOOLEAN)}, {FIELD("kind", FT_ENUM), .enum_values = kinds, .n_enum = 2},
    {FIELD("day", FT_DATE)},      {FIELD("at", FT_DATETIME)},  {FIELD("owner", FT_REF), .ref = &other},
    {FIELD("tags", FT_REF_LIST), .ref = &other, .link_table = "x__tags"},
    {FIELD("notes", FT_TEXT), .expensive = true},
};
static app_model item = {.name = "item", .route = "items", .fields = fields,
                         .n_fields = sizeof fields / sizeof fields[0]};
static const int versions[] = {1};
static app the_app = {.name = "t", .models = &item, .n_models = 1, .versions = versions, .n_versions = 1};
static const app_sort order[] = {{"updated_at", true}, {"id", false}};
static app zou_app = {.name = "z", .models = &item, .n_models = 1, .versions = versions, .n_versions = 1,
                      .paging = PG_PAGE, .ignore_unknown_params = true, .unpaged_whole = true,
                      .relations_on_request = true, .json_lists = true, .page_order = order,
                      .n_page_order = 2};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena *a = arena_new();
    qparam p[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int n = query_parse((const char *)data, size, a, p, RD_MAX_QUERY_PARAMS, &bad);
    if (n >= 0) {
        listq lq = {0};
        listq_parse(&the_app, &item, 1, p, (size_t)n, NULL, a, &lq, &bad);
        listq lz = {0};
        listq_parse(&zou_app, &item, 1, p, (size_t)n, NULL, a, &lz, &bad);
    }
    arena_free(a);
    return 0;
}

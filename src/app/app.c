/*
 * The app model's public side: app_load and app_free, the `app:` section
 * of the file, lookups, type names and key-case conversion.
 *
 * app_load builds the whole model in one arena (app->priv) and hands it out
 * only when the file had no problem at all; otherwise it frees everything
 * and returns every problem found as "PATH:LINE:COL: message" lines. The
 * YAML reading lives in yaml_walk.c, the `models:` section in model.c, the
 * `auth:` section in auth.c.
 */
#include <stddef.h>
#include <string.h>

#include "app/app_int.h"
#include "rd_limits.h"

/* ---- names of things ------------------------------------------------------ */

static const char *const type_names[] = {
    [FT_UUID] = "uuid",         [FT_STRING] = "string",     [FT_TEXT] = "text",
    [FT_INTEGER] = "integer",   [FT_NUMBER] = "number",     [FT_BOOLEAN] = "boolean",
    [FT_DATE] = "date",         [FT_DATETIME] = "datetime", [FT_JSON] = "json",
    [FT_ENUM] = "enum",         [FT_REF] = "ref",           [FT_REF_LIST] = "ref_list",
};
_Static_assert(sizeof type_names / sizeof type_names[0] == FT__COUNT, "one name per field_type");

static const char *const case_names[] = {
    [KC_SNAKE] = "snake",
    [KC_CAMEL] = "camel",
    [KC_PASCAL] = "pascal",
};
_Static_assert(sizeof case_names / sizeof case_names[0] == KC__COUNT, "one name per key_case");

static const char *const date_names[] = {
    [DS_ISO8601] = "iso8601",
    [DS_NAIVE] = "naive",
    [DS_COMPACT] = "compact",
};
_Static_assert(sizeof date_names / sizeof date_names[0] == DS__COUNT, "one name per date_style");

static const char *const err_names[] = {
    [ES_PROBLEM] = "problem",
    [ES_ZOU] = "zou",
    [ES_REASON] = "reason",
};
_Static_assert(sizeof err_names / sizeof err_names[0] == ES__COUNT, "one name per err_style");

/* `put:` values; index + 1 is the put_style (PUT_DEFAULT has no name). */
static const char *const put_names[] = {"replace", "merge"};
_Static_assert(sizeof put_names / sizeof put_names[0] == PUT__COUNT - 1, "one name per put_style");

static const char *const ref_list_names[] = {"strict", "lenient"};

static const char *const paging_names[] = {
    [PG_OFFSET] = "offset",
    [PG_PAGE] = "page",
};
_Static_assert(sizeof paging_names / sizeof paging_names[0] == PG__COUNT, "one name per paging_style");

const char *app_type_name(field_type t)
{
    return (unsigned)t < FT__COUNT ? type_names[t] : NULL;
}

bool app_type_from_name(const char *name, field_type *out)
{
    for (int t = 0; t < FT__COUNT; t++)
        if (strcmp(type_names[t], name) == 0) {
            *out = (field_type)t;
            return true;
        }
    return false;
}

bool app_convert_case(const char *snake, key_case kc, char *out, size_t cap)
{
    if ((unsigned)kc >= KC__COUNT || cap == 0)
        return false;
    size_t o = 0;
    bool upper = kc == KC_PASCAL; /* for the next letter */
    for (const char *p = snake; *p; p++) {
        char ch = *p;
        if (kc != KC_SNAKE && ch == '_') {
            upper = o > 0 || kc == KC_PASCAL;
            continue;
        }
        if (upper && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        upper = false;
        if (o + 1 >= cap)
            return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return true;
}

/* ---- lookups ---------------------------------------------------------------- */

const app_model *app_model_by_route(const app *a, const char *seg, size_t n)
{
    for (size_t i = 0; i < a->n_models; i++) {
        const char *r = a->models[i].route;
        if (strnlen(r, n + 1) == n && memcmp(r, seg, n) == 0)
            return &a->models[i];
    }
    return NULL;
}

const app_model *app_model_by_name(const app *a, const char *name)
{
    for (size_t i = 0; i < a->n_models; i++)
        if (strcmp(a->models[i].name, name) == 0)
            return &a->models[i];
    return NULL;
}

const app_field *app_field_by_json(const app_model *m, const char *key, size_t n)
{
    for (size_t i = 0; i < m->n_fields; i++) {
        const char *j = m->fields[i].json_name;
        if (strnlen(j, n + 1) == n && memcmp(j, key, n) == 0)
            return &m->fields[i];
    }
    return NULL;
}

const app_field *app_field_by_name(const app_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return &m->fields[i];
    return NULL;
}

/* ---- the app: section ------------------------------------------------------- */

enum { TK_APP, TK_MODELS, TK_AUTH, TK__COUNT };
static const app__key top_keys[] = {
    [TK_APP] = {"app", .required = true},
    [TK_MODELS] = {"models", .required = true},
    [TK_AUTH] = {"auth"},
};
_Static_assert(sizeof top_keys / sizeof top_keys[0] == TK__COUNT, "one row per key");

enum {
    AK_NAME,
    AK_TITLE,
    AK_VERSION,
    AK_BASE_PATH,
    AK_HEALTH_PATH,
    AK_LIMITS,
    AK_CONVENTIONS,
    AK_LISTS,
    AK_VERSIONS,
    AK_VENDOR,
    AK_ROUTES,
    AK__COUNT
};
static const app__key app_keys[] = {
    [AK_NAME] = {"name", .required = true},
    [AK_TITLE] = {"title"},
    [AK_VERSION] = {"version"},
    [AK_BASE_PATH] = {"base_path"},
    [AK_HEALTH_PATH] = {"health_path"},
    [AK_LIMITS] = {"limits"},
    [AK_CONVENTIONS] = {"conventions"},
    [AK_LISTS] = {"lists"},
    [AK_VERSIONS] = {"versions"},
    [AK_VENDOR] = {"vendor"},
    [AK_ROUTES] = {"routes"},
};
_Static_assert(sizeof app_keys / sizeof app_keys[0] == AK__COUNT, "one row per key");

enum { LK_MAX_BODY, LK__COUNT };
static const app__key limit_keys[] = {
    [LK_MAX_BODY] = {"max_body_bytes"},
};
_Static_assert(sizeof limit_keys / sizeof limit_keys[0] == LK__COUNT, "one row per key");

/* app.lists: how lists page (docs/query.md). */
enum {
    LSK_DEFAULT_LIMIT,
    LSK_MAX_LIMIT,
    LSK_PAGING,
    LSK_FILTER_TTL,
    LSK_UNKNOWN,
    LSK_UNPAGED,
    LSK_RELATIONS,
    LSK_JSON_LISTS,
    LSK_PAGE_ORDER,
    LSK__COUNT
};
static const app__key list_keys[] = {
    [LSK_DEFAULT_LIMIT] = {"default_limit"},
    [LSK_MAX_LIMIT] = {"max_limit"},
    [LSK_PAGING] = {"paging"},
    [LSK_FILTER_TTL] = {"stored_filter_ttl"},
    [LSK_UNKNOWN] = {"unknown_params"},
    [LSK_UNPAGED] = {"unpaged"},
    [LSK_RELATIONS] = {"relations"},
    [LSK_JSON_LISTS] = {"json_lists"},
    [LSK_PAGE_ORDER] = {"page_order"},
};
_Static_assert(sizeof list_keys / sizeof list_keys[0] == LSK__COUNT, "one row per key");

/* The two-way choices of app.lists; the first word is the default. */
static const char *const unknown_names[] = {"reject", "ignore"};
static const char *const unpaged_names[] = {"limit", "whole"};
static const char *const relations_names[] = {"always", "on_request"};

/* Columns every model has: the only ones an app-wide order can name. */
static const char *const meta_columns[] = {"id", "created_at", "updated_at"};
#define N_META_COLUMNS (sizeof meta_columns / sizeof meta_columns[0])

/* How long a stored filter lives when lists.stored_filter_ttl is not set:
 * a day, in seconds. */
#define DEFAULT_FILTER_TTL 86400

enum { CK_PAYLOAD, CK_ERROR_KEYS, CK_DATES, CK_ERRORS, CK_BLANK, CK_PUT, CK_REF_LISTS, CK_TYPE_NAMES, CK__COUNT };
static const app__key conv_keys[] = {
    [CK_PAYLOAD] = {"payload_keys"},
    [CK_ERROR_KEYS] = {"error_keys"},
    [CK_DATES] = {"dates"},
    [CK_ERRORS] = {"errors"},
    [CK_BLANK] = {"blank_as_null"},
    [CK_PUT] = {"put"},
    [CK_REF_LISTS] = {"ref_lists"},
    [CK_TYPE_NAMES] = {"type_names"},
};
_Static_assert(sizeof conv_keys / sizeof conv_keys[0] == CK__COUNT, "one row per key");

/* One of names[0..n) into *out (left alone on a problem). */
void app__read_choice(app__ctx *c, const yaml_node_t *v, const char *what,
                      const char *const *names, int n, int *out)
{
    const char *s = app__str(c, v, what);
    if (!s)
        return;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return;
        }
    buf all;
    buf_init(&all, c->tmp, 1024);
    for (int i = 0; i < n; i++)
        buf_printf(&all, "%s%s", i ? ", " : "", names[i]);
    app__err(c, v, "%s must be one of %s, not '%s'", what, buf_cstr(&all), app__q(c, s));
}

/* A URL path prefix: "/seg/seg", segments of [A-Za-z0-9_.-] (dots only when
 * allowed), never "." or "..", no empty segment, no trailing slash. */
bool app__url_path_ok(const char *s, bool dots)
{
    if (s[0] != '/' || strlen(s) > RD_MAX_URL_PATH)
        return false;
    const char *seg = s + 1;
    for (const char *p = s + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0 || (len <= 2 && strncmp(seg, "..", len) == 0))
                return false;
            if (*p == '\0')
                return true;
            seg = p + 1;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || (dots && *p == '.'))) {
            return false;
        }
    }
}

static void load_conventions(app__ctx *c, app *a, yaml_node_t *n)
{
    app__kv ck[CK__COUNT];
    if (!app__map(c, n, NULL, "app.conventions", conv_keys, CK__COUNT, ck))
        return;
    int v;
    if (ck[CK_PAYLOAD].val) {
        v = a->payload_case;
        app__read_choice(c, ck[CK_PAYLOAD].val, "payload_keys", case_names, KC__COUNT, &v);
        a->payload_case = (key_case)v;
    }
    a->error_case = a->payload_case;
    if (ck[CK_ERROR_KEYS].val) {
        v = a->error_case;
        app__read_choice(c, ck[CK_ERROR_KEYS].val, "error_keys", case_names, KC__COUNT, &v);
        a->error_case = (key_case)v;
    }
    if (ck[CK_DATES].val) {
        v = a->dates;
        app__read_choice(c, ck[CK_DATES].val, "dates", date_names, DS__COUNT, &v);
        a->dates = (date_style)v;
    }
    if (ck[CK_BLANK].val)
        app__bool(c, ck[CK_BLANK].val, "blank_as_null", &a->blank_as_null);
    if (ck[CK_TYPE_NAMES].val) {
        static const char *const tn_names[] = {"none", "pascal"};
        v = a->type_names;
        app__read_choice(c, ck[CK_TYPE_NAMES].val, "type_names", tn_names, 2, &v);
        a->type_names = v == 1;
    }
    if (ck[CK_ERRORS].val) {
        v = a->errors;
        app__read_choice(c, ck[CK_ERRORS].val, "errors", err_names, ES__COUNT, &v);
        a->errors = (err_style)v;
    }
    if (ck[CK_PUT].val)
        app__read_put(c, ck[CK_PUT].val, &a->put);
    if (ck[CK_REF_LISTS].val) {
        v = a->lenient_ref_lists;
        app__read_choice(c, ck[CK_REF_LISTS].val, "ref_lists", ref_list_names, 2, &v);
        a->lenient_ref_lists = v == 1;
    }
}

void app__read_put(app__ctx *c, const yaml_node_t *v, put_style *out)
{
    int i = *out == PUT_DEFAULT ? -1 : (int)*out - 1;
    app__read_choice(c, v, "put", put_names, PUT__COUNT - 1, &i);
    if (i >= 0)
        *out = (put_style)(i + 1);
}

/* A vendor for application/vnd.<vendor>.api+json: [a-z][a-z0-9_.-]*. */
static bool vendor_ok(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    size_t i = 1;
    for (; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.' || s[i] == '-'))
            return false;
    return i <= RD_MAX_NAME;
}

/* A two-way choice of app.lists into *out (true: the second word). */
static void read_switch(app__ctx *c, const yaml_node_t *v, const char *what, const char *const names[2],
                        bool *out)
{
    int i = *out;
    app__read_choice(c, v, what, names, 2, &i);
    *out = i == 1;
}

/* app.lists.page_order: "[-]column" items, each of meta_columns at most once. */
static void load_page_order(app__ctx *c, app *a, yaml_node_t *n)
{
    if (!app__want(c, n, YAML_SEQUENCE_NODE, "page_order"))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0 || count > N_META_COLUMNS) {
        app__err(c, n, "page_order: list 1 to %zu of id, created_at, updated_at", N_META_COLUMNS);
        return;
    }
    app_sort *keys = arena_alloc(c->a, count * sizeof *keys);
    size_t k = 0;
    bool seen[N_META_COLUMNS] = {false};
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, "each of page_order");
        if (!s)
            return;
        bool desc = s[0] == '-';
        size_t j = 0;
        while (j < N_META_COLUMNS && strcmp(meta_columns[j], s + desc) != 0)
            j++;
        if (j == N_META_COLUMNS) {
            app__err(c, v, "page_order: '%s' is not id, created_at or updated_at (with an optional '-' for "
                           "descending)", app__q(c, s));
            return;
        }
        if (seen[j]) {
            app__err(c, v, "page_order: %s is listed twice", meta_columns[j]);
            return;
        }
        seen[j] = true;
        keys[k++] = (app_sort){.column = meta_columns[j], .desc = desc};
    }
    a->page_order = keys;
    a->n_page_order = k;
}

/* The Zou-compatible list switches (docs/query.md, "Lenient lists"). */
static void load_list_leniency(app__ctx *c, app *a, app__kv *lk)
{
    if (lk[LSK_UNKNOWN].val)
        read_switch(c, lk[LSK_UNKNOWN].val, "unknown_params", unknown_names, &a->ignore_unknown_params);
    if (lk[LSK_UNPAGED].val) {
        read_switch(c, lk[LSK_UNPAGED].val, "unpaged", unpaged_names, &a->unpaged_whole);
        if (a->unpaged_whole && a->paging != PG_PAGE) {
            app__err(c, lk[LSK_UNPAGED].key, "unpaged: whole needs paging: page");
            a->unpaged_whole = false;
        }
    }
    if (lk[LSK_RELATIONS].val)
        read_switch(c, lk[LSK_RELATIONS].val, "relations", relations_names, &a->relations_on_request);
    if (lk[LSK_JSON_LISTS].val)
        app__bool(c, lk[LSK_JSON_LISTS].val, "json_lists", &a->json_lists);
    if (lk[LSK_PAGE_ORDER].val) {
        if (a->paging != PG_PAGE)
            app__err(c, lk[LSK_PAGE_ORDER].key, "page_order needs paging: page");
        else
            load_page_order(c, a, lk[LSK_PAGE_ORDER].val);
    }
}

/* app.lists. default_limit is checked against max_limit only when max_limit
 * could be read, so one bad value is reported once. */
static void load_lists(app__ctx *c, app *a, yaml_node_t *n)
{
    app__kv lk[LSK__COUNT];
    if (!app__map(c, n, NULL, "app.lists", list_keys, LSK__COUNT, lk))
        return;
    int64_t v;
    bool max_ok = true;
    if (lk[LSK_MAX_LIMIT].val) {
        max_ok = app__int(c, lk[LSK_MAX_LIMIT].val, "max_limit", 1, APP_MAX_LIST_LIMIT, &v);
        if (max_ok)
            a->max_limit = v;
    }
    if (lk[LSK_DEFAULT_LIMIT].val) {
        if (app__int(c, lk[LSK_DEFAULT_LIMIT].val, "default_limit", 1, APP_MAX_LIST_LIMIT, &v)) {
            if (max_ok && v > a->max_limit)
                app__err(c, lk[LSK_DEFAULT_LIMIT].val,
                         "default_limit (%lld) is greater than max_limit (%lld%s)", (long long)v,
                         a->max_limit, lk[LSK_MAX_LIMIT].val ? "" : ", the default");
            else
                a->default_limit = v;
        }
    } else if (a->default_limit > a->max_limit) {
        a->default_limit = a->max_limit; /* the built-in default, capped */
    }
    if (lk[LSK_PAGING].val) {
        int pg = a->paging;
        app__read_choice(c, lk[LSK_PAGING].val, "paging", paging_names, PG__COUNT, &pg);
        a->paging = (paging_style)pg;
    }
    if (lk[LSK_FILTER_TTL].val &&
        app__int(c, lk[LSK_FILTER_TTL].val, "stored_filter_ttl", 1, APP_MAX_FILTER_TTL, &v))
        a->stored_filter_ttl = v;
    load_list_leniency(c, a, lk);
}

/* app.versions: distinct positive integers in ascending order. The list is
 * kept only when every item is good; otherwise c->versions_bad tells the
 * models not to check since/until against it. Only the first item out of
 * order is reported: [3, 1, 2] is one mistake. */
static void load_versions(app__ctx *c, app *a, yaml_node_t *n)
{
    c->versions_bad = true;
    if (!app__want(c, n, YAML_SEQUENCE_NODE, "versions"))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0) {
        app__err(c, n, "versions: at least one version is needed");
        return;
    }
    if (count > APP_MAX_VERSIONS) {
        app__err(c, n, "versions: too many (%zu; at most %d)", count, APP_MAX_VERSIONS);
        return;
    }
    int *vs = arena_alloc(c->a, count * sizeof *vs);
    size_t k = 0;
    bool ok = true, order_told = false;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *item = app__node(c, *it);
        int64_t v;
        if (!app__int(c, item, "each of versions", 1, APP_MAX_VERSION, &v)) {
            ok = false;
            continue;
        }
        size_t j = 0;
        while (j < k && vs[j] != v)
            j++;
        if (j < k) {
            app__err(c, item, "versions: %lld is listed twice", (long long)v);
            ok = false;
            continue;
        }
        if (k && v < vs[k - 1]) {
            if (!order_told)
                app__err(c, item, "versions must be in ascending order (%lld comes after %d)",
                         (long long)v, vs[k - 1]);
            order_told = true;
            ok = false;
            continue;
        }
        vs[k++] = (int)v;
    }
    if (ok) {
        a->versions = vs;
        a->n_versions = k;
        c->versions_bad = false;
    }
}

/* A name key of the app section (name, routes): [a-z][a-z0-9_]*, copied
 * into the model's arena. NULL when absent or wrong (reported). */
static const char *read_name(app__ctx *c, const yaml_node_t *v, const char *what)
{
    const char *s = app__str(c, v, what);
    if (s && app__name_ok(s))
        return arena_strdup(c->a, s);
    if (s)
        app__err(c, v, "%s: '%s' must match [a-z][a-z0-9_]* (at most %d characters)", what, app__q(c, s),
                 RD_MAX_NAME);
    return NULL;
}

static void load_app_section(app__ctx *c, app *a, yaml_node_t *n, const yaml_node_t *owner,
                             app__kv *ak)
{
    if (!app__map(c, n, owner, "app", app_keys, AK__COUNT, ak)) {
        c->versions_bad = true; /* not read: since/until are not checked */
        return;
    }
    const char *s;
    if (ak[AK_NAME].val && (s = read_name(c, ak[AK_NAME].val, "name")))
        a->name = s;
    if (ak[AK_TITLE].val && (s = app__str(c, ak[AK_TITLE].val, "title")))
        a->title = arena_strdup(c->a, s);
    if (ak[AK_VERSION].val && (s = app__str(c, ak[AK_VERSION].val, "version")))
        a->version = arena_strdup(c->a, s);
    if (ak[AK_BASE_PATH].val && (s = app__str(c, ak[AK_BASE_PATH].val, "base_path"))) {
        if (*s == '\0' || app__url_path_ok(s, false))
            a->base_path = arena_strdup(c->a, s);
        else
            app__err(c, ak[AK_BASE_PATH].val,
                     "base_path: '%s' must be empty or like /api or /ws/v1 ([A-Za-z0-9_-] "
                     "segments, no trailing slash, at most %d characters)",
                     app__q(c, s), RD_MAX_URL_PATH);
    }
    if (ak[AK_HEALTH_PATH].val && (s = app__str(c, ak[AK_HEALTH_PATH].val, "health_path"))) {
        if (app__url_path_ok(s, true))
            a->health_path = arena_strdup(c->a, s);
        else
            app__err(c, ak[AK_HEALTH_PATH].val,
                     "health_path: '%s' must be an absolute path like /health ([A-Za-z0-9_.-] "
                     "segments, no trailing slash, at most %d characters)",
                     app__q(c, s), RD_MAX_URL_PATH);
    }
    if (ak[AK_LIMITS].val) {
        app__kv lk[LK__COUNT];
        if (app__map(c, ak[AK_LIMITS].val, NULL, "app.limits", limit_keys, LK__COUNT, lk) &&
            lk[LK_MAX_BODY].val) {
            int64_t v;
            if (app__int(c, lk[LK_MAX_BODY].val, "max_body_bytes", 1, RD_MAX_BODY_CEILING, &v))
                a->max_body = (size_t)v;
        }
    }
    if (ak[AK_CONVENTIONS].val)
        load_conventions(c, a, ak[AK_CONVENTIONS].val);
    if (ak[AK_LISTS].val)
        load_lists(c, a, ak[AK_LISTS].val);
    if (ak[AK_VERSIONS].val)
        load_versions(c, a, ak[AK_VERSIONS].val);
    if (ak[AK_VENDOR].val && (s = app__str(c, ak[AK_VENDOR].val, "vendor"))) {
        if (vendor_ok(s))
            a->vendor = arena_strdup(c->a, s);
        else
            app__err(c, ak[AK_VENDOR].val,
                     "vendor: '%s' must match [a-z][a-z0-9_.-]* (at most %d characters)",
                     app__q(c, s), RD_MAX_NAME);
    }
    if (!a->vendor)
        a->vendor = a->name;
    /* The name is checked against the compiled-in route sets by whoever
     * serves the app (api/ext.c), which app/ does not know. */
    if (ak[AK_ROUTES].val && (s = read_name(c, ak[AK_ROUTES].val, "routes")))
        a->routes = s;
}

/* The model whose routes a fixed path p (the health path, an auth route)
 * would hide: such paths are matched before any model route, so p must not
 * be under base_path with a model's route as its first segment. NULL when
 * p hides nothing. */
const app_model *app__hidden_model(const app *a, const char *p)
{
    size_t bl = strlen(a->base_path);
    if (strncmp(p, a->base_path, bl) != 0 || p[bl] != '/')
        return NULL;
    const char *seg = p + bl + 1;
    return app_model_by_route(a, seg, strcspn(seg, "/"));
}

/* A path `what` (the key that set it) must not hide a model route. Reported
 * at `at`, or at the model when the path is a default (at == NULL). */
void app__check_hiding(app__ctx *c, const app *a, const char *p, const char *what,
                       const yaml_node_t *at)
{
    const app_model *m = app__hidden_model(a, p);
    if (!m)
        return;
    if (at)
        app__err(c, at, "%s '%s' hides the route of model '%s'", what, p, m->name);
    else
        app__err_at(c, m->line, 1, "route '%s' of model '%s' is hidden by the %s '%s'", m->route,
                    m->name, what, p);
}

/* The health path is matched before any route: it must not hide one. */
static void check_health_path(app__ctx *c, const app *a, const yaml_node_t *at)
{
    app__check_hiding(c, a, a->health_path, at ? "health_path" : "health path", at);
}

/* With lists.relations: on_request, `relations` is a list parameter: a field
 * with that payload key could never be filtered on. */
static void check_relations_key(app__ctx *c, const app *a)
{
    if (!a->relations_on_request)
        return;
    for (size_t i = 0; i < a->n_models; i++)
        for (size_t j = 0; j < a->models[i].n_fields; j++)
            if (strcmp(a->models[i].fields[j].json_name, "relations") == 0)
                app__err_at(c, a->models[i].fields[j].line, 1,
                            "field '%s.%s': the payload key 'relations' is the list parameter of "
                            "lists.relations: on_request; rename it with json_name",
                            a->models[i].name, a->models[i].fields[j].name);
}

/* ---- load and free ---------------------------------------------------------- */

app *app_load(const char *dir, char **errors)
{
    size_t dl = strlen(dir);
    arena *ar = arena_new();
    app *a = arena_zalloc(ar, sizeof *a);
    a->priv = ar;
    a->title = a->version = a->base_path = "";
    a->health_path = "/health";
    a->max_body = RD_DEFAULT_MAX_BODY;
    a->payload_case = a->error_case = KC_SNAKE;
    a->dates = DS_ISO8601;
    a->errors = ES_PROBLEM;
    a->put = PUT_REPLACE;
    a->default_limit = RD_DEFAULT_PAGE;
    a->max_limit = RD_MAX_PAGE;
    a->paging = PG_OFFSET;
    a->stored_filter_ttl = DEFAULT_FILTER_TTL;
    int *v1 = arena_alloc(ar, sizeof *v1);
    *v1 = 1; /* an app that lists no versions has version 1 */
    a->versions = v1;
    a->n_versions = 1;
    const char *path =
        arena_printf(ar, "%s%sapp.yaml", dir, dl && dir[dl - 1] == '/' ? "" : "/");

    app__ctx c;
    app__ctx_init(&c, path, ar);
    if (app__parse(&c)) {
        app__kv top[TK__COUNT], ak[AK__COUNT] = {{NULL, NULL}};
        yaml_node_t *root = yaml_document_get_root_node(&c.doc);
        if (app__map(&c, root, NULL, "the file", top_keys, TK__COUNT, top)) {
            c.has_auth = top[TK_AUTH].key != NULL;
            if (top[TK_APP].val)
                load_app_section(&c, a, top[TK_APP].val, top[TK_APP].key, ak);
            else
                c.versions_bad = true; /* unknown: since/until are not checked */
            if (top[TK_MODELS].val)
                app__load_models(&c, a, top[TK_MODELS].val);
            check_health_path(&c, a, ak[AK_HEALTH_PATH].val);
            check_relations_key(&c, a);
            if (top[TK_AUTH].val)
                app__load_auth(&c, a, top[TK_AUTH].val, top[TK_AUTH].key);
        }
    }
    char *report = app__report(&c);
    app__ctx_fini(&c);
    if (report) {
        app_free(a);
        *errors = report;
        return NULL;
    }
    *errors = NULL;
    return a;
}

void app_free(app *a)
{
    if (!a)
        return;
    app__free_patterns(a);
    arena_free(a->priv); /* a itself lives in the arena */
}

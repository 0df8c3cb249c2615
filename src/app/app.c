/*
 * The app model's public side: app_load and app_free, the `app:` section of
 * the file, lookups, type names and key-case conversion.
 *
 * app_load builds the whole model in one arena (app->priv) and hands it out
 * only when the file had no problem at all; otherwise it frees everything
 * and returns every problem found as "PATH:LINE:COL: message" lines. The
 * YAML reading lives in yaml_walk.c, the `models:` section in model.c.
 */
#include <stdio.h>
#include <string.h>

#include "app/app_int.h"
#include "limits.h"

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

enum { TK_APP, TK_MODELS, TK__COUNT };
static const app__key top_keys[] = {
    [TK_APP] = {"app", .required = true},
    [TK_MODELS] = {"models", .required = true},
};
_Static_assert(sizeof top_keys / sizeof top_keys[0] == TK__COUNT, "one row per key");

enum { AK_NAME, AK_TITLE, AK_VERSION, AK_BASE_PATH, AK_HEALTH_PATH, AK_LIMITS, AK_CONVENTIONS, AK__COUNT };
static const app__key app_keys[] = {
    [AK_NAME] = {"name", .required = true},
    [AK_TITLE] = {"title"},
    [AK_VERSION] = {"version"},
    [AK_BASE_PATH] = {"base_path"},
    [AK_HEALTH_PATH] = {"health_path"},
    [AK_LIMITS] = {"limits"},
    [AK_CONVENTIONS] = {"conventions"},
};
_Static_assert(sizeof app_keys / sizeof app_keys[0] == AK__COUNT, "one row per key");

enum { LK_MAX_BODY, LK__COUNT };
static const app__key limit_keys[] = {
    [LK_MAX_BODY] = {"max_body_bytes"},
};
_Static_assert(sizeof limit_keys / sizeof limit_keys[0] == LK__COUNT, "one row per key");

enum { CK_PAYLOAD, CK_ERROR_KEYS, CK_DATES, CK_ERRORS, CK__COUNT };
static const app__key conv_keys[] = {
    [CK_PAYLOAD] = {"payload_keys"},
    [CK_ERROR_KEYS] = {"error_keys"},
    [CK_DATES] = {"dates"},
    [CK_ERRORS] = {"errors"},
};
_Static_assert(sizeof conv_keys / sizeof conv_keys[0] == CK__COUNT, "one row per key");

/* One of names[0..n) into *out (left alone on a problem). */
static void read_choice(app__ctx *c, const yaml_node_t *v, const char *what,
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
static bool url_path_ok(const char *s, bool dots)
{
    if (s[0] != '/' || strlen(s) > APP_MAX_URL_PATH)
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
        read_choice(c, ck[CK_PAYLOAD].val, "payload_keys", case_names, KC__COUNT, &v);
        a->payload_case = (key_case)v;
    }
    a->error_case = a->payload_case;
    if (ck[CK_ERROR_KEYS].val) {
        v = a->error_case;
        read_choice(c, ck[CK_ERROR_KEYS].val, "error_keys", case_names, KC__COUNT, &v);
        a->error_case = (key_case)v;
    }
    if (ck[CK_DATES].val) {
        v = a->dates;
        read_choice(c, ck[CK_DATES].val, "dates", date_names, DS__COUNT, &v);
        a->dates = (date_style)v;
    }
    if (ck[CK_ERRORS].val) {
        v = a->errors;
        read_choice(c, ck[CK_ERRORS].val, "errors", err_names, ES__COUNT, &v);
        a->errors = (err_style)v;
    }
}

static void load_app_section(app__ctx *c, app *a, yaml_node_t *n, const yaml_node_t *owner,
                             app__kv *ak)
{
    if (!app__map(c, n, owner, "app", app_keys, AK__COUNT, ak))
        return;
    const char *s;
    if (ak[AK_NAME].val && (s = app__str(c, ak[AK_NAME].val, "name"))) {
        if (app__name_ok(s))
            a->name = arena_strdup(c->a, s);
        else
            app__err(c, ak[AK_NAME].val, "name: '%s' must match [a-z][a-z0-9_]* (at most %d characters)",
                     app__q(c, s), RD_MAX_NAME);
    }
    if (ak[AK_TITLE].val && (s = app__str(c, ak[AK_TITLE].val, "title")))
        a->title = arena_strdup(c->a, s);
    if (ak[AK_VERSION].val && (s = app__str(c, ak[AK_VERSION].val, "version")))
        a->version = arena_strdup(c->a, s);
    if (ak[AK_BASE_PATH].val && (s = app__str(c, ak[AK_BASE_PATH].val, "base_path"))) {
        if (*s == '\0' || url_path_ok(s, false))
            a->base_path = arena_strdup(c->a, s);
        else
            app__err(c, ak[AK_BASE_PATH].val,
                     "base_path: '%s' must be empty or like /api or /ws/v1 ([A-Za-z0-9_-] "
                     "segments, no trailing slash, at most %d characters)",
                     app__q(c, s), APP_MAX_URL_PATH);
    }
    if (ak[AK_HEALTH_PATH].val && (s = app__str(c, ak[AK_HEALTH_PATH].val, "health_path"))) {
        if (url_path_ok(s, true))
            a->health_path = arena_strdup(c->a, s);
        else
            app__err(c, ak[AK_HEALTH_PATH].val,
                     "health_path: '%s' must be an absolute path like /health ([A-Za-z0-9_.-] "
                     "segments, no trailing slash, at most %d characters)",
                     app__q(c, s), APP_MAX_URL_PATH);
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
}

/* The health path is matched before any route: it must not hide one. */
static void check_health_path(app__ctx *c, const app *a, const yaml_node_t *at)
{
    size_t bl = strlen(a->base_path);
    const char *h = a->health_path;
    if (strncmp(h, a->base_path, bl) != 0 || h[bl] != '/')
        return;
    const char *seg = h + bl + 1;
    const app_model *m = app_model_by_route(a, seg, strcspn(seg, "/"));
    if (!m)
        return;
    if (at)
        app__err(c, at, "health_path '%s' hides the route of model '%s'", h, m->name);
    else
        app__err_at(c, m->line, 1, "route '%s' of model '%s' is hidden by the health path '%s'",
                    m->route, m->name, h);
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
    const char *path =
        arena_printf(ar, "%s%sapp.yaml", dir, dl && dir[dl - 1] == '/' ? "" : "/");

    app__ctx c;
    app__ctx_init(&c, path, ar);
    if (app__parse(&c)) {
        app__kv top[TK__COUNT], ak[AK__COUNT] = {{NULL, NULL}};
        yaml_node_t *root = yaml_document_get_root_node(&c.doc);
        if (app__map(&c, root, NULL, "the file", top_keys, TK__COUNT, top)) {
            if (top[TK_APP].val)
                load_app_section(&c, a, top[TK_APP].val, top[TK_APP].key, ak);
            if (top[TK_MODELS].val)
                app__load_models(&c, a, top[TK_MODELS].val);
            check_health_path(&c, a, ak[AK_HEALTH_PATH].val);
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

/*
 * Shared inside app/ only: the loader's context, its diagnostics and the
 * YAML reading helpers (yaml_walk.c) that model.c, app.c and auth.c build on.
 *
 * Loading runs in three steps. yaml_walk.c reads DIR/app.yaml (bounded by
 * RD_MAX_APP_FILE), checks the raw event stream (one document, nesting at
 * most RD_MAX_YAML_DEPTH, no anchors, aliases or tags) and only then builds
 * libyaml's document, so every node has a mark. app.c reads the `app:`
 * section, model.c the `models:` section and auth.c then the `auth:`
 * section (which names models and fields) into the arena. Every problem
 * is recorded with its line and column and loading goes on, so one run
 * reports them all; the messages are sorted by position at the end.
 */
#ifndef RESTD_APP_INT_H
#define RESTD_APP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "app/app.h"
#include "util/mem.h"

/* Ceilings on values an app file sets (docs/app-format.md); the bounds on
 * the file itself are in limits.h.
 * - lists.max_limit: a whole page is built in memory before it is sent.
 * - lists.stored_filter_ttl: a year, in seconds; a stored filter is a query
 *   shortcut, not data.
 * - a version number, and how many versions an app lists: an error message
 *   names them all. */
#define APP_MAX_LIST_LIMIT 100000
#define APP_MAX_FILTER_TTL (365 * 86400)
#define APP_MAX_VERSION 1000000
#define APP_MAX_VERSIONS 100
/* auth.disabled_routes and auth.login_also are matched on every sign-in
 * (paths, lookups); a disabled route's message is sent as is. */
#define AUTH_MAX_OFF 16
#define AUTH_MAX_OFF_MESSAGE 200
#define AUTH_MAX_LOGIN_ALSO 4
/* auth.min_password_length: ASVS 2.1.1 asks at least 8 (Zou's
 * MIN_PASSWORD_LENGTH too); 128 is far past any policy and below
 * PWHASH_MAX_PASSWORD (1024), so some password always passes. */
#define AUTH_MIN_PASSWORD 8
#define AUTH_MAX_MIN_PASSWORD 128

typedef struct app__diag {
    size_t line, col; /* 1-based */
    size_t seq;       /* order of report, to keep the sort stable */
    const char *msg;
} app__diag;

/* A role name as written in the file (superusers, an access list), kept
 * until auth.role_field is known: an enum role field must list it. */
typedef struct app__role_use {
    const char *name;
    const yaml_node_t *at;
} app__role_use;

struct app__mside; /* model.c's notes on one model while loading */

typedef struct app__ctx {
    const char *path;     /* DIR/app.yaml as given, for messages */
    arena *a;             /* the model's arena (becomes app->priv) */
    arena *tmp;           /* scratch, freed when loading ends */
    yaml_document_t doc;  /* valid when have_doc */
    bool have_doc;
    app__diag *diags;     /* RD_MAX_APP_DIAGS entries, in tmp */
    size_t n_diags;
    size_t n_dropped;     /* problems past RD_MAX_APP_DIAGS */
    bool versions_bad;    /* app.versions had a problem: since/until are not checked against it */
    bool has_auth;        /* the file has a top-level `auth:` key: models may have `access:` */
    app__role_use *roles; /* every role name read, in tmp (auth.c) */
    size_t n_roles, cap_roles;
    struct app__mside *msides; /* one per a->models entry, in tmp (model.c) */
    struct app__pending_access *pend; /* access.scope / access.fields to resolve, in tmp (access.c) */
    size_t n_pend, cap_pend;
} app__ctx;

/* One key an app-file mapping accepts. `types` and `need` are used by the
 * field table only: bit (1u << field_type) set in `types` when the key is
 * allowed for that type (0 means any), in `need` when it is required. */
typedef struct app__key {
    const char *name;
    bool required;
    unsigned types;
    unsigned need;
} app__key;

/* A key and its value as found in a mapping; both NULL when absent. */
typedef struct app__kv {
    yaml_node_t *key, *val;
} app__kv;

void app__ctx_init(app__ctx *c, const char *path, arena *model_arena);
/* Frees the document and the scratch arena (not the model arena). */
void app__ctx_fini(app__ctx *c);

/* Record a problem at a node's start (or at line/col, 1-based). */
void app__err(app__ctx *c, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void app__err_at(app__ctx *c, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Every problem recorded, sorted by position, one "PATH:LINE:COL: msg" a
 * line; a heap string the caller frees. NULL when there were none. */
char *app__report(app__ctx *c);

/* Read c->path and build c->doc. False (with problems recorded) when the
 * file cannot be read, is too large, is not well-formed YAML, or uses
 * anchors, aliases, tags, several documents or too deep nesting. */
bool app__parse(app__ctx *c);

/* 1-based line of a node, for messages and the model's `line` fields. */
unsigned app__line(const yaml_node_t *n);
yaml_node_t *app__node(app__ctx *c, int index);
/* A user's text made safe for a one-line message: control characters
 * escaped, cut to a readable length. In the scratch arena. */
const char *app__q(app__ctx *c, const char *s);

/* True when n has the kind wanted; otherwise records "WHAT must be a
 * mapping, not a list" and returns false. */
bool app__want(app__ctx *c, const yaml_node_t *n, yaml_node_type_t kind, const char *what);

/* Match the pairs of mapping `map` against keys[0..n): out[i] is the pair
 * for keys[i]. Reports unknown keys, duplicate keys (the first one wins),
 * non-scalar keys and missing required keys (at `owner`, or at the
 * mapping when owner is NULL). False only when map is not a mapping. */
bool app__map(app__ctx *c, yaml_node_t *map, const yaml_node_t *owner, const char *what,
              const app__key *keys, size_t n, app__kv *out);

/* The text of a mapping key, which must be a non-empty scalar. */
const char *app__key_text(app__ctx *c, const yaml_node_t *k, const char *what);

/* Scalar readers. Each records "WHAT ..." and returns false/NULL when the
 * node is not a scalar of the right form. A plain empty, `~` or `null`
 * scalar is never a value. Quoting does not change a scalar's meaning. */
const char *app__str(app__ctx *c, const yaml_node_t *n, const char *what);
bool app__bool(app__ctx *c, const yaml_node_t *n, const char *what, bool *out);
bool app__int(app__ctx *c, const yaml_node_t *n, const char *what, int64_t lo, int64_t hi,
              int64_t *out);
bool app__num(app__ctx *c, const yaml_node_t *n, const char *what, double *out);
bool app__is_null(const yaml_node_t *n);

/* Pure parsers behind app__int and app__num (also used for defaults):
 * decimal only, the whole string, no overflow, finite. */
bool app__parse_int(const char *s, int64_t *out);
bool app__parse_num(const char *s, double *out);

/* True for [a-z][a-z0-9_]* of at most RD_MAX_NAME bytes. */
bool app__name_ok(const char *s);

/* app.c: one of names[0..n) into *out (left alone on a problem, which
 * lists the names). */
void app__read_choice(app__ctx *c, const yaml_node_t *v, const char *what, const char *const *names, int n,
                      int *out);
/* app.c: a URL path prefix "/seg/seg" of [A-Za-z0-9_-] segments (and dots
 * when allowed), never "." or "..", no empty segment, no trailing slash. */
bool app__url_path_ok(const char *s, bool dots);
/* app.c: the model whose routes a fixed path p (health path, auth route)
 * would hide, or NULL; and reporting it for the key `what` (at `at`, or at
 * the model when at is NULL). */
const app_model *app__hidden_model(const app *a, const char *p);
void app__check_hiding(app__ctx *c, const app *a, const char *p, const char *what, const yaml_node_t *at);

/* auth.c: read the `auth:` section (after the models) into a->auth. */
void app__load_auth(app__ctx *c, app *a, yaml_node_t *n, const yaml_node_t *owner);

/* model.c: read the `models:` mapping into a->models. */
void app__load_models(app__ctx *c, app *a, yaml_node_t *models);

/* A `put:` value (replace or merge) into *out; left alone on a problem. */
void app__read_put(app__ctx *c, const yaml_node_t *v, put_style *out);
/* model.c: true when field f of model m was read without any problem, so
 * its type and flags mean what they say (checks naming it may report). */
bool app__field_sound(const app__ctx *c, const app *a, const app_model *m, const app_field *f);

/* auth.c: an access mapping ({read: [roles], write: [roles]}, each key
 * optional, absent = []) into *out. False when n is not a mapping. m is
 * the model the mapping belongs to (NULL for auth.default_access): its
 * `scope` and `fields` are noted for app__resolve_access. */
bool app__load_access(app__ctx *c, yaml_node_t *n, const char *what, app_model *m, app_access *out);
/* auth.c: a list of role names (no "*"), each noted for the check against
 * an enum role field; and noting one such name. */
void app__read_roles(app__ctx *c, yaml_node_t *n, const char *what, const char *const **out,
                     size_t *n_out);
void app__note_role(app__ctx *c, const char *name, const yaml_node_t *at);

/* access.c: remember a model's access.scope / access.fields node (either
 * may be NULL), and read them all once auth.users is known (load_auth). */
void app__note_access(app__ctx *c, app_model *m, yaml_node_t *scope, yaml_node_t *fields);
void app__note_role_in(app__ctx *c, app_model *m, yaml_node_t *role_in);
void app__resolve_access(app__ctx *c, const app *a);

/* model.c: release what the arena cannot (compiled patterns). */
void app__free_patterns(const app *a);

#endif

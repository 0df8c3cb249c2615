/*
 * The app model: an app file (DIR/app.yaml) loaded and checked into an
 * in-memory description of models, fields and API conventions.
 *
 * The model is built once at start-up and is read-only afterwards, so every
 * thread reads it without locks. Its structs are public for reading; nothing
 * outside app/ writes to them. Every string and array lives in the app's own
 * arena and is valid until app_free.
 */
#ifndef RESTD_APP_H
#define RESTD_APP_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum field_type {
    FT_UUID,
    FT_STRING,   /* short text; max_length defaults to 255 */
    FT_TEXT,     /* long text; max_length defaults to the body limit */
    FT_INTEGER,  /* 64-bit signed */
    FT_NUMBER,   /* IEEE double, finite only */
    FT_BOOLEAN,
    FT_DATE,     /* calendar date */
    FT_DATETIME, /* instant, stored in UTC */
    FT_JSON,     /* any JSON value, stored as text */
    FT_ENUM,     /* one of `values` */
    FT_REF,      /* id of a row of `model` */
    FT_REF_LIST, /* ids of rows of `model`, kept in a link table */
    FT__COUNT
} field_type;

typedef enum key_case { KC_SNAKE, KC_CAMEL, KC_PASCAL, KC__COUNT } key_case;

/* How dates travel on the wire (storage is always ISO 8601 UTC). */
typedef enum date_style {
    DS_ISO8601, /* 2026-03-01, 2026-03-01T14:05:09.123456Z */
    DS_NAIVE,   /* 2026-03-01, 2026-03-01T14:05:09 (UTC, no zone, no fraction: Zou) */
    DS_COMPACT, /* 20260301, 20260301140509 (UTC: iProva v1) */
    DS__COUNT
} date_style;

/* Shape of error documents (api/problem.c). */
typedef enum err_style {
    ES_PROBLEM, /* RFC 9457 application/problem+json */
    ES_ZOU,     /* {"error": true, "message": ...} */
    ES_REASON,  /* message in the reason phrase, problem+json body */
    ES__COUNT
} err_style;

typedef struct app_model app_model;

/* How lists page (docs/query.md). */
typedef enum paging_style {
    PG_OFFSET, /* limit/offset, metadata in X-Pagination-* or the envelope */
    PG_PAGE,   /* also page=N (1-based) with {data,total,nb_pages,...}: Kitsu */
    PG__COUNT
} paging_style;

/* What PUT does (docs/app-format.md, `put`). */
typedef enum put_style {
    PUT_DEFAULT, /* a model's: the app's style */
    PUT_REPLACE, /* the body replaces the row (the app default) */
    PUT_MERGE,   /* like PATCH; keys that are not fields, and protected fields, are ignored (Zou) */
    PUT__COUNT
} put_style;

/* One part of a computed field's `concat:`: a field's value (NULL as "")
 * or a literal. */
typedef struct app_concat_part {
    const struct app_field *field; /* NULL for a literal */
    const char *literal;
} app_concat_part;
/* What a field's bare filter (`key=value`, no operator) means
 * (docs/query.md). */
typedef enum filter_default {
    FD_EQ,    /* equality as the type compares */
    FD_ILIKE, /* equality ignoring ASCII case (Zou filters `name` with ILIKE) */
    FD__COUNT
} filter_default;

/* A key of the page-mode default order: a column every model has. */
typedef struct app_sort {
    const char *column; /* "id", "created_at" or "updated_at" */
    bool desc;
} app_sort;

typedef struct app_field {
    const char *name;       /* snake_case; the column name */
    const char *json_name;  /* key in payloads (payload key case applied, or `json_name:`) */
    const char *error_name; /* key in error documents (error key case applied) */
    field_type type;
    unsigned line; /* in app.yaml, for messages */
    bool required;
    bool unique;
    bool read_only; /* set only by defaults or the server; a client value is a 422 */
    bool has_min, has_max;
    double min, max;         /* integer/number: value bounds */
    int64_t max_length;      /* string/text: characters; 0 = type default */
    const char *pattern;     /* POSIX ERE source, or NULL */
    regex_t *re;             /* compiled pattern (REG_EXTENDED|REG_NOSUB), or NULL */
    const char *default_json; /* default as JSON text, already validated; or NULL */
    const char *const *enum_values;
    size_t n_enum;
    const char *ref_name;  /* FT_REF / FT_REF_LIST: target model name */
    const app_model *ref;  /* resolved target */
    const char *link_table; /* FT_REF_LIST: "<model>__<field>" */
    bool expensive;         /* left out of lists unless include_<json_name>=true */
    int since, until;       /* API versions: exists from `since` (0 = always), gone from `until` (0 = never) */
    bool create_only;       /* settable on POST; a value on PUT/PATCH is ignored */
    const app_concat_part *computed; /* computed: {concat: [...]}: a generated column (read-only); or NULL */
    size_t n_computed;
    filter_default filter;  /* string/text: what `key=value` means */
} app_field;

typedef struct app_index {
    const app_field *const *fields;
    size_t n_fields;
    bool unique;
    const char *name; /* ix_<model>__<f1>_<f2>... or ux_... */
    unsigned line;
} app_index;

/* A row-scoping rule (a model's access.scope; docs/auth.md "Row scopes"):
 * a scoped caller reaches only the rows whose `holder` row lists the
 * caller in `member`, or names the caller in `owner`. The holder row is
 * the row itself, or the row its `via` reference points at. */
typedef struct app_scope {
    const app_field *via;      /* FT_REF of the model; NULL: the rule is on the row itself */
    const app_model *holder;   /* via->ref, or the model itself */
    const app_field *member;   /* FT_REF_LIST of holder to the users model; or NULL */
    const app_field *owner;    /* FT_REF of holder to the users model; or NULL (one of the two is set) */
    const char *const *exempt; /* roles that reach every row (superusers always do) */
    size_t n_exempt;
} app_scope;

/* Per-holder role overrides (a model's access.role_in; docs/auth.md
 * "Per-holder roles"): inside a holder row, a caller's role is the `role`
 * of the row of `model` whose `holder` is that row and whose `user` is the
 * caller, when there is one with a role; else the caller's own role. */
typedef struct app_role_in {
    const app_model *model;  /* the override rows (Zou: project_person_link) */
    const app_field *holder; /* FT_REF of model: the holder row (a project) */
    const app_field *user;   /* FT_REF of model to the users model */
    const app_field *role;   /* FT_STRING / FT_ENUM of model; null: no override */
    const app_field *via;    /* this model's FT_REF to the holder; NULL: the row is its own holder */
    const char *const *global; /* auth.superusers: global-only roles, no override when given */
    size_t n_global;
} app_role_in;

/* The fields one role is served of a model (access.fields): omit has one
 * entry per field, then created_at, updated_at (the store's omit mask);
 * nofilter, in the same layout, the fields it may not filter or sort on
 * (the same array as omit unless the file gives `filter:`). */
typedef struct app_view {
    const char *role; /* a role name, or "*" for every other non-superuser role */
    const bool *omit;
    const bool *nofilter;
} app_view;

/* Who may do what on a model (when the app has `auth:`). Role names are
 * arena strings; "*" stands for any signed-in caller. */
typedef struct app_access {
    const char *const *read;
    size_t n_read;
    const char *const *write;
    size_t n_write;
    const app_scope *scope; /* NULL: every row (a model's access only) */
    const app_view *views;  /* per-role field subsets (a model's access only) */
    size_t n_views;
    const app_role_in *role_in; /* per-holder role overrides; NULL: none (a model's access only) */
} app_access;

struct app_model {
    const char *name;  /* snake_case; the table name */
    const char *route; /* path segment under base_path */
    const app_field *fields;
    size_t n_fields;
    const app_index *indexes;
    size_t n_indexes;
    /* nested_under: GET/POST {parent route}/{id}/{route} through the ref
     * field nested_via[i] (a FT_REF field of this model to nested_under[i]). */
    const app_model *const *nested_under;
    const app_field *const *nested_via;
    size_t n_nested;
    int since, until; /* API versions, as for fields */
    put_style put;    /* resolved: PUT_REPLACE or PUT_MERGE */
    bool has_access;   /* `access:` given; otherwise the app's default_access applies */
    app_access access;
    unsigned line;
    /* `type_name:` (or derived by conventions.type_names): the value of the
     * "type" key on every row of this model; NULL: rows carry no "type". */
    const char *type_name;
    bool history; /* `history: true`: every version of each row is kept (store_history) */
};

/* Shapes of the auth routes' answers (api/authn.c holds one row per style). */
typedef enum auth_style {
    AS_STANDARD, /* tokens with token_type and expires_in; failures as problem documents */
    AS_ZOU,      /* Zou's: {"user", ..., "login": true, tokens}, {"login": false}, {"logout": true} */
    AS__COUNT
} auth_style;

/* Authentication (docs/auth.md, "The auth section"). Present when the app
 * file has an `auth:` section; then every model route needs a token. */
typedef struct app_auth {
    const app_model *users;     /* the model holding identities */
    const app_field *login;     /* unique string field of users: the login name */
    const app_field *role;      /* string/enum field of users; NULL: everyone has role "user" */
    const app_field *active;    /* boolean field of users; NULL: always active */
    /* fields of users that mirror the second-factor state (api/mfa.c keeps
     * them in step); each NULL when not declared */
    const app_field *totp_enabled;       /* boolean */
    const app_field *email_otp_enabled;  /* boolean */
    const app_field *preferred_factor;   /* string/enum: "totp", "email_otp" or null */
    const char *issuer;         /* JWT iss; default the app name */
    const char *audience;       /* JWT aud; default the app name */
    long long access_ttl;       /* seconds; default 900 */
    long long refresh_ttl;      /* seconds; default 1209600 (14 days) */
    long long refresh_grace;    /* > 0: a refresh token works only until this many seconds after
                                   its access token expired (INIES: 300); 0: until refresh_ttl */
    const char *login_path;     /* absolute paths of the auth routes; NULL: not served */
    const char *refresh_path;
    const char *logout_path;
    /* second factors and password reset (api/mfa.c); NULL: not served */
    const char *totp_path;
    const char *email_otp_path;
    const char *recovery_codes_path;
    const char *reset_password_path;
    bool login_password;        /* login with {login, password} */
    bool login_api_key;         /* login with {login, api_key} */
    const char *api_key_field;  /* body key of the API key at login; default "api_key" (INIES: "apiKey") */
    bool scheme_bearer;         /* Authorization: Bearer <access token> (default) */
    bool scheme_token;          /* Authorization: token <API key>: acts as the key's user (iProva) */
    bool scheme_credentials;    /* Authorization: credentials u:<login> pwd:<password>, with an API key
                                   in x-api_key or ?api_key= (iProva) */
    bool scheme_cookie;         /* the session cookie auth.cookie names carries an access token */
    const char *cookie_name;    /* auth.cookie.name; NULL: no auth.cookie, login sets no cookie */
    const char *const *trusted_proxies; /* auth.cookie.trusted_proxies: peer addresses (inet_ntop form)
                                           whose X-Forwarded-Proto is believed */
    size_t n_trusted_proxies;
    const char *password_field; /* body key of the password; default "password" */
    int denied_status;          /* status for a caller without the right: 403 (default) or 401 (INIES) */
    const char *const *superusers; /* roles with every right on every model; default ["admin"] */
    size_t n_superusers;
    app_access default_access;  /* for models without `access:`; default: superusers only */
    /* Zou-compatible sign-in (docs/auth.md, "Answer styles"). */
    auth_style style;           /* shapes of the auth routes' answers; default AS_STANDARD */
    const app_field *const *login_also; /* string fields of users tried, in order, when no login matches */
    size_t n_login_also;
    bool refresh_rotate;        /* a refresh spends its token and hands out a new one (default true) */
    long long min_password;     /* shortest new password (change_password); default 8 */
    /* The method each auth route takes ("POST" unless the file says). */
    const char *login_method, *refresh_method, *logout_method;
    const char *authenticated_path, *authenticated_method;     /* GET: who is signed in */
    const char *change_password_path, *change_password_method; /* POST {old_password, password, password_2} */
    /* Paths (and everything under them) answered 400 with a fixed message:
     * features the app does not offer (Zou: FIDO, SAML, OIDC). */
    const char *const *off_paths;
    const char *const *off_messages;
    size_t n_off;
    /* answer_row: the login and authenticated answers also carry the first
     * row of a model under a key, or a fixed object when it has no row. */
    const char *row_key;        /* NULL: no such row */
    const app_model *row_model;
    const char *const *row_default_fields; /* string fields of row_model set in the fixed object */
    const char *const *row_default_values;
    size_t n_row_default;
} app_auth;

typedef struct app {
    const char *name;
    const char *title;       /* "" when absent */
    const char *version;     /* the app's own version string; "" when absent */
    const char *base_path;   /* "" or "/api" (no trailing slash) */
    const char *health_path; /* absolute, e.g. "/health" */
    key_case payload_case;
    key_case error_case;
    date_style dates;
    err_style errors;
    bool blank_as_null; /* "" in a string/text/enum/uuid/date value means null, in and out */
    put_style put;      /* PUT_REPLACE or PUT_MERGE; a model may choose its own */
    bool lenient_ref_lists; /* ref_list items may be {"id": ...}; ids naming no row are dropped */
    bool type_names;    /* conventions.type_names: pascal: models without type_name get one */
    const char *routes; /* `routes:` the app's own route set (api/ext.c); NULL: none */
    size_t max_body; /* bytes */
    /* lists (docs/query.md); 0 means the built-in default */
    long long default_limit;
    long long max_limit;
    paging_style paging;
    long long stored_filter_ttl; /* seconds */
    bool ignore_unknown_params;  /* lists.unknown_params: ignore (Zou): unknown names, also in fields=, are skipped */
    bool unpaged_whole;          /* lists.unpaged: whole: page mode without `page` returns up to max_limit rows;
                                    limit and offset are ignored (Zou) */
    bool relations_on_request;   /* lists.relations: on_request: ref_list fields are left out of list rows
                                    unless relations=<true> */
    bool json_lists;             /* lists.json_lists: a bare filter value starting with '[' is a JSON list (IN) */
    const app_sort *page_order;  /* lists.page_order: the order of a page-mode list with `page` and no order_by */
    size_t n_page_order;         /* 0: creation order */
    /* versions, ascending; the last is the default. Never empty once loaded. */
    const int *versions;
    size_t n_versions;
    const char *vendor; /* for application/vnd.<vendor>.api+json; defaults to name */
    const app_auth *auth; /* NULL: no authentication (every route is open) */
    const app_model *models;
    size_t n_models;
    void *priv; /* private: the arena */
} app;

/*
 * Load and check DIR/app.yaml. On success returns the app and sets *errors to
 * NULL. On failure returns NULL and sets *errors to a heap string (caller
 * frees) holding every problem found, one per line, each as
 * "PATH:LINE:COL: message".
 */
app *app_load(const char *dir, char **errors);
void app_free(app *a);

/* Lookups; NULL when absent. Names are not NUL-terminated (n bytes). */
const app_model *app_model_by_route(const app *a, const char *seg, size_t n);
const app_model *app_model_by_name(const app *a, const char *name);
const app_field *app_field_by_json(const app_model *m, const char *key, size_t n);
const app_field *app_field_by_name(const app_model *m, const char *name);

/* Type names as written in app files ("string", "ref_list", ...); NULL for
 * a value outside the enum. */
const char *app_type_name(field_type t);
bool app_type_from_name(const char *name, field_type *out);

/* "snake_case" -> the given case, into out (size cap). Returns false if it does not fit. */
bool app_convert_case(const char *snake, key_case kc, char *out, size_t cap);

#endif

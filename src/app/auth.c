/*
 * The `auth:` section of an app file: who the users are (users model and
 * its login, role and state fields), tokens and their lifetimes, sign-in
 * routes and schemes, superusers, default access and role checks. It is
 * read last, once every model is known, and resolves the models' access
 * scopes (access.c). docs/auth.md and docs/app-format.md describe the keys.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "app/app_int.h"
#include "rd_limits.h"

enum {
    AUK_USERS,
    AUK_LOGIN_FIELD,
    AUK_ROLE_FIELD,
    AUK_ACTIVE_FIELD,
    AUK_ISSUER,
    AUK_AUDIENCE,
    AUK_ACCESS_TTL,
    AUK_REFRESH_TTL,
    AUK_REFRESH_GRACE,
    AUK_LOGIN_WITH,
    AUK_PASSWORD_FIELD,
    AUK_API_KEY_FIELD,
    AUK_ROUTES,
    AUK_SCHEMES,
    AUK_DENIED_STATUS,
    AUK_SUPERUSERS,
    AUK_DEFAULT_ACCESS,
    AUK_STYLE,
    AUK_LOGIN_ALSO,
    AUK_REFRESH_ROTATE,
    AUK_MIN_PASSWORD,
    AUK_DISABLED_ROUTES,
    AUK_ANSWER_ROW,
    AUK_COOKIE,
    AUK_TOTP_ENABLED_FIELD,
    AUK_EMAIL_OTP_ENABLED_FIELD,
    AUK_PREFERRED_FACTOR_FIELD,
    AUK__COUNT
};
static const app__key auth_keys[] = {
    [AUK_USERS] = {"users", .required = true},
    [AUK_LOGIN_FIELD] = {"login_field", .required = true},
    [AUK_ROLE_FIELD] = {"role_field"},
    [AUK_ACTIVE_FIELD] = {"active_field"},
    [AUK_ISSUER] = {"issuer"},
    [AUK_AUDIENCE] = {"audience"},
    [AUK_ACCESS_TTL] = {"access_ttl"},
    [AUK_REFRESH_TTL] = {"refresh_ttl"},
    [AUK_REFRESH_GRACE] = {"refresh_grace"},
    [AUK_LOGIN_WITH] = {"login_with"},
    [AUK_PASSWORD_FIELD] = {"password_field"},
    [AUK_API_KEY_FIELD] = {"api_key_field"},
    [AUK_ROUTES] = {"routes"},
    [AUK_SCHEMES] = {"schemes"},
    [AUK_DENIED_STATUS] = {"denied_status"},
    [AUK_SUPERUSERS] = {"superusers"},
    [AUK_DEFAULT_ACCESS] = {"default_access"},
    [AUK_STYLE] = {"style"},
    [AUK_LOGIN_ALSO] = {"login_also"},
    [AUK_REFRESH_ROTATE] = {"refresh_rotate"},
    [AUK_MIN_PASSWORD] = {"min_password_length"},
    [AUK_DISABLED_ROUTES] = {"disabled_routes"},
    [AUK_ANSWER_ROW] = {"answer_row"},
    [AUK_COOKIE] = {"cookie"},
    [AUK_TOTP_ENABLED_FIELD] = {"totp_enabled_field"},
    [AUK_EMAIL_OTP_ENABLED_FIELD] = {"email_otp_enabled_field"},
    [AUK_PREFERRED_FACTOR_FIELD] = {"preferred_factor_field"},
};
_Static_assert(sizeof auth_keys / sizeof auth_keys[0] == AUK__COUNT, "one row per key");

/* The fields of `users` the section names: which key, the types allowed,
 * whether the field must be unique and required (it names one user), and
 * where the resolved field goes. */
static const struct {
    int key;
    unsigned types; /* bit (1u << field_type) */
    bool identity;
    size_t offset; /* of the const app_field * in app_auth */
} auth_fields[] = {
    {AUK_LOGIN_FIELD, 1u << FT_STRING, true, offsetof(app_auth, login)},
    {AUK_ROLE_FIELD, 1u << FT_STRING | 1u << FT_ENUM, false, offsetof(app_auth, role)},
    {AUK_ACTIVE_FIELD, 1u << FT_BOOLEAN, false, offsetof(app_auth, active)},
    {AUK_TOTP_ENABLED_FIELD, 1u << FT_BOOLEAN, false, offsetof(app_auth, totp_enabled)},
    {AUK_EMAIL_OTP_ENABLED_FIELD, 1u << FT_BOOLEAN, false, offsetof(app_auth, email_otp_enabled)},
    {AUK_PREFERRED_FACTOR_FIELD, 1u << FT_STRING | 1u << FT_ENUM, false, offsetof(app_auth, preferred_factor)},
};

/* auth.routes: each optional; where each accepted path goes. */
enum { RK_LOGIN, RK_REFRESH, RK_LOGOUT, RK_AUTHENTICATED, RK_CHANGE_PASSWORD,
       RK_TOTP, RK_EMAIL_OTP, RK_RECOVERY_CODES, RK_RESET_PASSWORD, RK__COUNT };
static const app__key route_keys[] = {
    [RK_LOGIN] = {"login"},
    [RK_REFRESH] = {"refresh"},
    [RK_LOGOUT] = {"logout"},
    [RK_AUTHENTICATED] = {"authenticated"},
    [RK_CHANGE_PASSWORD] = {"change_password"},
    [RK_TOTP] = {"totp"},
    [RK_EMAIL_OTP] = {"email_otp"},
    [RK_RECOVERY_CODES] = {"recovery_codes"},
    [RK_RESET_PASSWORD] = {"reset_password"},
};
_Static_assert(sizeof route_keys / sizeof route_keys[0] == RK__COUNT, "one row per key");
static const size_t route_offsets[] = {
    [RK_LOGIN] = offsetof(app_auth, login_path),
    [RK_REFRESH] = offsetof(app_auth, refresh_path),
    [RK_LOGOUT] = offsetof(app_auth, logout_path),
    [RK_AUTHENTICATED] = offsetof(app_auth, authenticated_path),
    [RK_CHANGE_PASSWORD] = offsetof(app_auth, change_password_path),
    [RK_TOTP] = offsetof(app_auth, totp_path),
    [RK_EMAIL_OTP] = offsetof(app_auth, email_otp_path),
    [RK_RECOVERY_CODES] = offsetof(app_auth, recovery_codes_path),
    [RK_RESET_PASSWORD] = offsetof(app_auth, reset_password_path),
};
_Static_assert(sizeof route_offsets / sizeof route_offsets[0] == RK__COUNT, "one per route");

/* The methods a route may be declared with ("GET /path") and its default:
 * a route that reads a body takes POST; refresh and logout may take GET
 * (Zou), reading their token from the Authorization header. Bit i of
 * `allowed` stands for method_names[i]. */
enum { RM_GET = 1u << 0, RM_POST = 1u << 1 };
static const char *const method_names[] = {"GET", "POST"};
static const struct {
    size_t offset; /* of the method in app_auth */
    unsigned allowed;
    const char *dflt;
} route_methods[] = {
    [RK_LOGIN] = {offsetof(app_auth, login_method), RM_POST, "POST"},
    [RK_REFRESH] = {offsetof(app_auth, refresh_method), RM_POST | RM_GET, "POST"},
    [RK_LOGOUT] = {offsetof(app_auth, logout_method), RM_POST | RM_GET, "POST"},
    [RK_AUTHENTICATED] = {offsetof(app_auth, authenticated_method), RM_GET, "GET"},
    [RK_CHANGE_PASSWORD] = {offsetof(app_auth, change_password_method), RM_POST, "POST"},
    /* second factors and reset (api/mfa.c) answer several methods each: no method is given */
    [RK_TOTP] = {0, 0, NULL},
    [RK_EMAIL_OTP] = {0, 0, NULL},
    [RK_RECOVERY_CODES] = {0, 0, NULL},
    [RK_RESET_PASSWORD] = {0, 0, NULL},
};
_Static_assert(sizeof route_methods / sizeof route_methods[0] == RK__COUNT, "one per route");

/* auth.style: the answer shapes (app.h auth_style). */
static const char *const auth_style_names[] = {
    [AS_STANDARD] = "standard",
    [AS_ZOU] = "zou",
};
_Static_assert(sizeof auth_style_names / sizeof auth_style_names[0] == AS__COUNT, "one name per style");

/* auth.answer_row */
enum { AR_KEY, AR_MODEL, AR_DEFAULT, AR__COUNT };
static const app__key answer_row_keys[] = {
    [AR_KEY] = {"key", .required = true},
    [AR_MODEL] = {"model", .required = true},
    [AR_DEFAULT] = {"default"},
};
_Static_assert(sizeof answer_row_keys / sizeof answer_row_keys[0] == AR__COUNT, "one row per key");

/* An access mapping (a model's `access:`, auth.default_access). */
enum { XK_READ, XK_WRITE, XK_SCOPE, XK_FIELDS, XK_ROLE_IN, XK__COUNT };
static const app__key access_keys[] = {
    [XK_READ] = {"read"},
    [XK_WRITE] = {"write"},
    [XK_SCOPE] = {"scope"},   /* read later by access.c, once auth.users is known */
    [XK_FIELDS] = {"fields"}, /* likewise */
    [XK_ROLE_IN] = {"role_in"}, /* likewise */
};
_Static_assert(sizeof access_keys / sizeof access_keys[0] == XK__COUNT, "one row per key");

/* The ways to log in (auth.login_with), as app_auth's flags. */
enum { LW_PASSWORD, LW_API_KEY, LW__COUNT };
static const char *const login_ways[] = {
    [LW_PASSWORD] = "password",
    [LW_API_KEY] = "api_key",
};
_Static_assert(sizeof login_ways / sizeof login_ways[0] == LW__COUNT, "one name per way");

/* The Authorization schemes a model request may use (auth.schemes). */
enum { SC_BEARER, SC_TOKEN, SC_CREDENTIALS, SC_COOKIE, SC__COUNT };
static const char *const scheme_names[] = {
    [SC_BEARER] = "bearer",
    [SC_TOKEN] = "token",
    [SC_CREDENTIALS] = "credentials",
    [SC_COOKIE] = "cookie",
};
_Static_assert(sizeof scheme_names / sizeof scheme_names[0] == SC__COUNT, "one name per scheme");

/* Defaults of the section (docs/app-format.md, "auth"): tokens for 15
 * minutes, sign-ins for 14 days, refresh until the refresh token expires. */
#define DEFAULT_ACCESS_TTL 900
#define DEFAULT_REFRESH_TTL (14 * 86400)
#define DEFAULT_DENIED_STATUS 403

static void note_role(app__ctx *c, const char *name, const yaml_node_t *at)
{
    if (c->n_roles == c->cap_roles) {
        size_t cap = c->cap_roles ? c->cap_roles * 2 : 64;
        app__role_use *r = arena_alloc(c->tmp, cap * sizeof *r);
        if (c->n_roles)
            memcpy(r, c->roles, c->n_roles * sizeof *r);
        c->roles = r;
        c->cap_roles = cap;
    }
    c->roles[c->n_roles++] = (app__role_use){name, at};
}

/* A list of role names: each [a-z][a-z0-9_]* or (when star) "*", each once,
 * at most RD_MAX_ROLES. Only the good names are kept; each is noted for the
 * check against an enum role field. */
static void read_roles(app__ctx *c, yaml_node_t *n, const char *what, bool star,
                       const char *const **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (!app__want(c, n, YAML_SEQUENCE_NODE, what))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > RD_MAX_ROLES) {
        app__err(c, n, "%s: too many roles (%zu; at most %d)", what, count, RD_MAX_ROLES);
        return;
    }
    const char **roles = arena_alloc(c->a, (count ? count : 1) * sizeof *roles);
    const yaml_node_t **at = arena_alloc(c->tmp, (count ? count : 1) * sizeof *at);
    size_t k = 0;
    const char *each = arena_printf(c->tmp, "each of %s", what);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, each);
        if (!s)
            continue;
        bool is_star = strcmp(s, "*") == 0;
        if (is_star && !star) {
            app__err(c, v, "%s: '*' is not allowed here (every signed-in caller would have every "
                           "right); name roles",
                     what);
            continue;
        }
        if (!is_star && !app__name_ok(s)) {
            app__err(c, v, "%s: '%s' must be a role name ([a-z][a-z0-9_]*, at most %d characters)%s",
                     what, app__q(c, s), RD_MAX_NAME, star ? " or \"*\"" : "");
            continue;
        }
        size_t j = 0;
        while (j < k && strcmp(roles[j], s) != 0)
            j++;
        if (j < k) {
            app__err(c, v, "%s: '%s' is listed twice (first at line %u)", what, s, app__line(at[j]));
            continue;
        }
        at[k] = v;
        roles[k++] = arena_strdup(c->a, s);
        if (!is_star)
            note_role(c, roles[k - 1], v);
    }
    *out = roles;
    *n_out = k;
}

void app__read_roles(app__ctx *c, yaml_node_t *n, const char *what, const char *const **out,
                     size_t *n_out)
{
    read_roles(c, n, what, false, out, n_out);
}

void app__note_role(app__ctx *c, const char *name, const yaml_node_t *at) { note_role(c, name, at); }

bool app__load_access(app__ctx *c, yaml_node_t *n, const char *what, app_model *m, app_access *out)
{
    memset(out, 0, sizeof *out);
    app__kv xk[XK__COUNT] = {{NULL, NULL}};
    /* scope and fields name the model's fields: not in default_access */
    if (!app__map(c, n, NULL, what, access_keys, m ? XK__COUNT : XK_SCOPE, xk))
        return false;
    if (xk[XK_SCOPE].key || xk[XK_FIELDS].key)
        app__note_access(c, m, xk[XK_SCOPE].val, xk[XK_FIELDS].val);
    if (xk[XK_ROLE_IN].key)
        app__note_role_in(c, m, xk[XK_ROLE_IN].val);
    if (xk[XK_READ].val)
        read_roles(c, xk[XK_READ].val, arena_printf(c->tmp, "read of %s", what), true, &out->read,
                   &out->n_read);
    if (xk[XK_WRITE].val)
        read_roles(c, xk[XK_WRITE].val, arena_printf(c->tmp, "write of %s", what), true,
                   &out->write, &out->n_write);
    return true;
}

/* issuer, audience: 1..RD_MAX_TOKEN_NAME printable ASCII characters. */
static void read_token_name(app__ctx *c, const yaml_node_t *n, const char *what, const char **out)
{
    const char *s = app__str(c, n, what);
    if (!s)
        return;
    size_t len = strlen(s);
    bool ok = len >= 1 && len <= RD_MAX_TOKEN_NAME;
    for (const char *p = s; ok && *p; p++)
        ok = *p >= 0x20 && *p <= 0x7e;
    if (ok)
        *out = arena_strdup(c->a, s);
    else
        app__err(c, n, "%s: '%s' must be 1 to %d printable ASCII characters", what, app__q(c, s),
                 RD_MAX_TOKEN_NAME);
}

/* password_field, api_key_field: a key of the login body,
 * [A-Za-z][A-Za-z0-9_]* of at most RD_MAX_NAME characters. */
static void read_body_key(app__ctx *c, const yaml_node_t *n, const char *what, const char **out)
{
    const char *s = app__str(c, n, what);
    if (!s)
        return;
    bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
    size_t i = 1;
    for (; ok && s[i]; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (ok && i <= RD_MAX_NAME)
        *out = arena_strdup(c->a, s);
    else
        app__err(c, n, "%s: '%s' must match [A-Za-z][A-Za-z0-9_]* (at most %d characters)", what,
                 app__q(c, s), RD_MAX_NAME);
}

/* A non-empty list of distinct words from names (auth.login_with,
 * auth.schemes) into seen[] (the node of each word given). Returns false
 * when nothing could be read, so the caller keeps its default. */
static bool read_word_set(app__ctx *c, yaml_node_t *n, const char *what, const char *empty_msg,
                          const char *const *names, int count, const yaml_node_t **seen)
{
    if (!app__want(c, n, YAML_SEQUENCE_NODE, what))
        return false;
    if (n->data.sequence.items.top == n->data.sequence.items.start) {
        app__err(c, n, "%s: %s", what, empty_msg);
        return false;
    }
    char each[64];
    snprintf(each, sizeof each, "each of %s", what);
    bool any = false;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        int w = -1;
        app__read_choice(c, v, each, names, count, &w);
        if (w < 0)
            continue;
        if (seen[w]) {
            app__err(c, v, "%s: '%s' is listed twice (first at line %u)", what, names[w], app__line(seen[w]));
            continue;
        }
        seen[w] = v;
        any = true;
    }
    return any;
}

/* auth.login_with: a non-empty list of distinct ways. */
static void read_login_with(app__ctx *c, app_auth *au, yaml_node_t *n)
{
    const yaml_node_t *seen[LW__COUNT] = {NULL};
    if (read_word_set(c, n, "login_with", "at least one way to log in is needed (password, api_key)", login_ways,
                      LW__COUNT, seen)) {
        au->login_password = seen[LW_PASSWORD] != NULL;
        au->login_api_key = seen[LW_API_KEY] != NULL;
    }
}

/* auth.schemes: the Authorization schemes model requests may use. */
static void read_schemes(app__ctx *c, app_auth *au, yaml_node_t *n)
{
    const yaml_node_t *seen[SC__COUNT] = {NULL};
    if (read_word_set(c, n, "schemes", "at least one scheme is needed (bearer, token, credentials, cookie)",
                      scheme_names, SC__COUNT, seen)) {
        au->scheme_bearer = seen[SC_BEARER] != NULL;
        au->scheme_token = seen[SC_TOKEN] != NULL;
        au->scheme_credentials = seen[SC_CREDENTIALS] != NULL;
        au->scheme_cookie = seen[SC_COOKIE] != NULL;
    }
}

/* A route's value may start with its method: "GET /auth/logout". On a
 * method the route cannot take, reports it and returns false; otherwise
 * *path is moved past the method and *method set. */
static bool read_route_method(app__ctx *c, const yaml_node_t *at, const char *what, int route,
                              const char **path, const char **method)
{
    const char *sp = strchr(*path, ' ');
    if (!sp)
        return true;
    size_t n = (size_t)(sp - *path);
    if (!route_methods[route].allowed) {
        app__err(c, at, "%s: this route answers several methods; give only its path", what);
        return false;
    }
    for (size_t m = 0; m < sizeof method_names / sizeof method_names[0]; m++)
        if (strlen(method_names[m]) == n && memcmp(method_names[m], *path, n) == 0 &&
            (route_methods[route].allowed & (1u << m))) {
            *method = method_names[m];
            while (*sp == ' ')
                sp++;
            *path = sp;
            return true;
        }
    app__err(c, at, "%s: '%s' is not a method this route takes (%s%s)", what,
             app__q(c, arena_strndup(c->tmp, *path, n)), (route_methods[route].allowed & RM_POST) ? "POST" : "GET",
             route_methods[route].allowed == (RM_GET | RM_POST) ? " or GET" : "");
    return false;
}

/* auth.cookie: the session cookie the login route sets (docs/auth.md). */
enum { CKK_NAME, CKK_TRUSTED_PROXIES, CKK__COUNT };
static const app__key cookie_keys[] = {
    [CKK_NAME] = {"name", .required = true},
    [CKK_TRUSTED_PROXIES] = {"trusted_proxies"},
};
_Static_assert(sizeof cookie_keys / sizeof cookie_keys[0] == CKK__COUNT, "one row per key");

/* A cookie name: an RFC 6265 token, kept to [A-Za-z0-9_-] and bounded. */
static bool cookie_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RD_MAX_COOKIE_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static void read_cookie(app__ctx *c, app_auth *au, yaml_node_t *n)
{
    app__kv k[CKK__COUNT];
    if (!app__map(c, n, NULL, "auth.cookie", cookie_keys, CKK__COUNT, k))
        return;
    const char *s = k[CKK_NAME].val ? app__str(c, k[CKK_NAME].val, "cookie.name") : NULL;
    if (s && cookie_name_ok(s))
        au->cookie_name = arena_strdup(c->a, s);
    else if (s)
        app__err(c, k[CKK_NAME].val, "cookie.name: '%s' must be 1 to %d of [A-Za-z0-9_-]", app__q(c, s),
                 RD_MAX_COOKIE_NAME);
    yaml_node_t *tp = k[CKK_TRUSTED_PROXIES].val;
    if (!tp || !app__want(c, tp, YAML_SEQUENCE_NODE, "cookie.trusted_proxies"))
        return;
    size_t cnt = (size_t)(tp->data.sequence.items.top - tp->data.sequence.items.start);
    if (cnt > RD_MAX_TRUSTED_PROXIES) {
        app__err(c, tp, "cookie.trusted_proxies: at most %d addresses", RD_MAX_TRUSTED_PROXIES);
        return;
    }
    const char **list = arena_alloc(c->a, (cnt ? cnt : 1) * sizeof *list);
    size_t m = 0;
    for (yaml_node_item_t *it = tp->data.sequence.items.start; it < tp->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *a = app__str(c, v, "each of cookie.trusted_proxies");
        unsigned char bin[16];
        char text[INET6_ADDRSTRLEN];
        /* kept in inet_ntop's form, the form the server gives a peer */
        int fam = a && inet_pton(AF_INET, a, bin) == 1 ? AF_INET : a && inet_pton(AF_INET6, a, bin) == 1 ? AF_INET6 : 0;
        if (!fam) {
            if (a)
                app__err(c, v, "cookie.trusted_proxies: '%s' is not an IP address", app__q(c, a));
            continue;
        }
        inet_ntop(fam, bin, text, sizeof text);
        list[m++] = arena_strdup(c->a, text);
    }
    au->trusted_proxies = list;
    au->n_trusted_proxies = m;
}

/* auth.routes: absolute paths as health_path, distinct, not the health
 * path, hiding no model route. */
static void read_auth_routes(app__ctx *c, const app *a, app_auth *au, yaml_node_t *n)
{
    app__kv rk[RK__COUNT];
    if (!app__map(c, n, NULL, "auth.routes", route_keys, RK__COUNT, rk))
        return;
    for (int i = 0; i < RK__COUNT; i++) {
        if (!rk[i].val)
            continue;
        const char *what = arena_printf(c->tmp, "routes.%s", route_keys[i].name);
        const char *s = app__str(c, rk[i].val, what);
        if (!s)
            continue;
        const char *method = route_methods[i].dflt;
        if (!read_route_method(c, rk[i].val, what, i, &s, &method))
            continue;
        if (!app__url_path_ok(s, true)) {
            app__err(c, rk[i].val,
                     "%s: '%s' must be an absolute path like /auth/%s ([A-Za-z0-9_.-] segments, "
                     "no trailing slash, at most %d characters)",
                     what, app__q(c, s), route_keys[i].name, RD_MAX_URL_PATH);
            continue;
        }
        int j = 0;
        while (j < i && !(rk[j].val && *(const char **)((char *)au + route_offsets[j]) &&
                          strcmp(*(const char **)((char *)au + route_offsets[j]), s) == 0))
            j++;
        if (j < i) {
            app__err(c, rk[i].val, "%s: '%s' is already the %s route (line %u)", what, s,
                     route_keys[j].name, app__line(rk[j].val));
            continue;
        }
        if (strcmp(s, a->health_path) == 0) {
            app__err(c, rk[i].val, "%s: '%s' is the health path", what, s);
            continue;
        }
        if (app__hidden_model(a, s)) {
            app__check_hiding(c, a, s, what, rk[i].val);
            continue;
        }
        *(const char **)((char *)au + route_offsets[i]) = arena_strdup(c->a, s);
        if (route_methods[i].dflt)
            *(const char **)((char *)au + route_methods[i].offset) = method;
    }
}

/* auth.denied_status: 401 or 403. */
static void read_denied_status(app__ctx *c, app_auth *au, const yaml_node_t *n)
{
    const char *s = app__str(c, n, "denied_status");
    int64_t v;
    if (!s)
        return;
    if (app__parse_int(s, &v) && (v == 401 || v == 403))
        au->denied_status = (int)v;
    else
        app__err(c, n, "denied_status must be 401 or 403, not '%s'", app__q(c, s));
}

/* The three fields of `users` the section names (auth_fields). A field
 * whose own definition had a problem is not checked again. */
static void resolve_auth_fields(app__ctx *c, const app *a, app_auth *au, const app__kv *k)
{
    for (size_t i = 0; i < sizeof auth_fields / sizeof auth_fields[0]; i++) {
        const yaml_node_t *v = k[auth_fields[i].key].val;
        const char *what = auth_keys[auth_fields[i].key].name;
        const char *s = v ? app__str(c, v, what) : NULL;
        if (!s || !au->users || au->users->n_fields == 0)
            continue; /* no name, or the model's problem is reported already */
        const app_field *f = app_field_by_name(au->users, s);
        if (!f) {
            app__err(c, v, "%s: model '%s' has no field '%s'", what, au->users->name, app__q(c, s));
            continue;
        }
        if (!app__field_sound(c, a, au->users, f))
            continue;
        unsigned types = auth_fields[i].types;
        if (!(types & (1u << f->type))) {
            buf tn;
            buf_init(&tn, c->tmp, 256);
            for (int t = 0; t < FT__COUNT; t++)
                if (types & (1u << t))
                    buf_printf(&tn, "%s%s", tn.len ? " or " : "", app_type_name(t));
            app__err(c, v, "%s: field '%s.%s' must be of type %s, not %s", what, au->users->name,
                     f->name, buf_cstr(&tn), app_type_name(f->type));
            continue;
        }
        if (auth_fields[i].identity && !f->unique) {
            /* a row without a login simply cannot sign in */
            app__err(c, v, "%s: field '%s.%s' must be unique: true (a login names exactly one user)", what,
                     au->users->name, f->name);
            continue;
        }
        *(const app_field **)((char *)au + auth_fields[i].offset) = f;
    }
}

/* With an enum role field, every role the file names must be a value of it. */
static void check_roles(app__ctx *c, const app_auth *au)
{
    const app_field *rf = au->role;
    if (!rf || rf->type != FT_ENUM)
        return;
    for (size_t i = 0; i < c->n_roles; i++) {
        size_t j = 0;
        while (j < rf->n_enum && strcmp(rf->enum_values[j], c->roles[i].name) != 0)
            j++;
        if (j == rf->n_enum)
            app__err(c, c->roles[i].at, "role '%s' is not one of the values of %s.%s (role_field)",
                     c->roles[i].name, au->users->name, rf->name);
    }
}

/* auth.login_also: string fields of users, other than login_field, each
 * once. They need not be unique: a sign-in takes the earliest-created row
 * that has the value (Zou's desktop_login). */
static void read_login_also(app__ctx *c, app_auth *au, yaml_node_t *n)
{
    if (!app__want(c, n, YAML_SEQUENCE_NODE, "login_also"))
        return;
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0 || count > AUTH_MAX_LOGIN_ALSO) {
        app__err(c, n, "login_also: list 1 to %d fields", AUTH_MAX_LOGIN_ALSO);
        return;
    }
    const app_field **fs = arena_alloc(c->a, count * sizeof *fs);
    size_t k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = app__node(c, *it);
        const char *s = app__str(c, v, "each of login_also");
        if (!s || !au->users || au->users->n_fields == 0)
            continue;
        const app_field *f = app_field_by_name(au->users, s);
        if (!f) {
            app__err(c, v, "login_also: model '%s' has no field '%s'", au->users->name, app__q(c, s));
            continue;
        }
        if (f->type != FT_STRING) {
            app__err(c, v, "login_also: field '%s.%s' must be of type string, not %s", au->users->name, f->name,
                     app_type_name(f->type));
            continue;
        }
        bool dup = f == au->login;
        for (size_t j = 0; j < k && !dup; j++)
            dup = fs[j] == f;
        if (dup) {
            app__err(c, v, "login_also: '%s' is already a login field", f->name);
            continue;
        }
        fs[k++] = f;
    }
    au->login_also = fs;
    au->n_login_also = k;
}

/* auth.disabled_routes: {path: message}. Each path (and everything under
 * it) answers 400 with the message, whatever the method. */
static void read_disabled_routes(app__ctx *c, const app *a, app_auth *au, yaml_node_t *n)
{
    if (!app__want(c, n, YAML_MAPPING_NODE, "disabled_routes"))
        return;
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > AUTH_MAX_OFF) {
        app__err(c, n, "disabled_routes: too many paths (%zu; at most %d)", count, AUTH_MAX_OFF);
        return;
    }
    const char **paths = arena_alloc(c->a, (count ? count : 1) * sizeof *paths);
    const char **msgs = arena_alloc(c->a, (count ? count : 1) * sizeof *msgs);
    size_t k = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = app__node(c, p->key), *vn = app__node(c, p->value);
        const char *path = app__key_text(c, kn, "disabled_routes");
        const char *msg = app__str(c, vn, "a message of disabled_routes");
        if (!path || !msg)
            continue;
        if (!app__url_path_ok(path, true)) {
            app__err(c, kn, "disabled_routes: '%s' must be an absolute path ([A-Za-z0-9_.-] segments, "
                            "no trailing slash, at most %d characters)",
                     app__q(c, path), RD_MAX_URL_PATH);
            continue;
        }
        size_t ml = strlen(msg);
        bool ok = ml >= 1 && ml <= AUTH_MAX_OFF_MESSAGE;
        for (const char *q = msg; ok && *q; q++)
            ok = *q >= 0x20 && *q <= 0x7e;
        if (!ok) {
            app__err(c, vn, "disabled_routes: the message must be 1 to %d printable ASCII characters",
                     AUTH_MAX_OFF_MESSAGE);
            continue;
        }
        size_t j = 0;
        while (j < k && strcmp(paths[j], path) != 0)
            j++;
        if (j < k) {
            app__err(c, kn, "disabled_routes: '%s' is listed twice", path);
            continue;
        }
        if (strcmp(path, a->health_path) == 0 || app__hidden_model(a, path)) {
            app__err(c, kn, "disabled_routes: '%s' would hide %s", path,
                     app__hidden_model(a, path) ? "a model route" : "the health path");
            continue;
        }
        paths[k] = arena_strdup(c->a, path);
        msgs[k++] = arena_strdup(c->a, msg);
    }
    au->off_paths = paths;
    au->off_messages = msgs;
    au->n_off = k;
}

/* auth.answer_row: {key, model, default: {string field: text}}. */
static void read_answer_row(app__ctx *c, const app *a, app_auth *au, yaml_node_t *n)
{
    app__kv k[AR__COUNT];
    if (!app__map(c, n, NULL, "answer_row", answer_row_keys, AR__COUNT, k))
        return;
    const char *key = k[AR_KEY].val ? app__str(c, k[AR_KEY].val, "answer_row.key") : NULL;
    const char *model = k[AR_MODEL].val ? app__str(c, k[AR_MODEL].val, "answer_row.model") : NULL;
    if (key && (!app__name_ok(key) || strcmp(key, "user") == 0 || strcmp(key, "login") == 0 ||
                strstr(key, "token") || strcmp(key, "authenticated") == 0)) {
        app__err(c, k[AR_KEY].val, "answer_row.key: '%s' must be a name ([a-z][a-z0-9_]*) other than the "
                                   "answer's own keys (user, login, authenticated, *token*)",
                 app__q(c, key));
        key = NULL;
    }
    const app_model *m = model ? app_model_by_name(a, model) : NULL;
    if (model && !m && a->n_models)
        app__err(c, k[AR_MODEL].val, "answer_row.model: there is no model '%s' in this file", app__q(c, model));
    if (!key || !m)
        return;
    yaml_node_t *d = k[AR_DEFAULT].val;
    size_t count = d && app__want(c, d, YAML_MAPPING_NODE, "answer_row.default")
                       ? (size_t)(d->data.mapping.pairs.top - d->data.mapping.pairs.start)
                       : 0;
    const char **fs = arena_alloc(c->a, (count ? count : 1) * sizeof *fs);
    const char **vs = arena_alloc(c->a, (count ? count : 1) * sizeof *vs);
    size_t nd = 0;
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = d->data.mapping.pairs.start + i;
        yaml_node_t *kn = app__node(c, p->key), *vn = app__node(c, p->value);
        const char *fname = app__key_text(c, kn, "answer_row.default");
        const char *val = app__str(c, vn, "a value of answer_row.default");
        if (!fname || !val)
            continue;
        const app_field *f = app_field_by_name(m, fname);
        if (!f || (f->type != FT_STRING && f->type != FT_TEXT)) {
            app__err(c, kn, "answer_row.default: '%s' must be a string field of model '%s'", app__q(c, fname),
                     m->name);
            continue;
        }
        if (f->max_length && (int64_t)strlen(val) > f->max_length) {
            app__err(c, vn, "answer_row.default: '%s' is longer than %s.%s's max_length", app__q(c, val), m->name,
                     f->name);
            continue;
        }
        fs[nd] = f->name;
        vs[nd++] = arena_strdup(c->a, val);
    }
    au->row_key = arena_strdup(c->a, key);
    au->row_model = m;
    au->row_default_fields = fs;
    au->row_default_values = vs;
    au->n_row_default = nd;
}

/* An enum preferred_factor_field must hold the values restd writes in it. */
static void check_preferred_factor(app__ctx *c, const app_auth *au, const yaml_node_t *at)
{
    static const char *const need[] = {"totp", "email_otp"};
    const app_field *f = au->preferred_factor;
    if (!f || f->type != FT_ENUM)
        return;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        size_t j = 0;
        while (j < f->n_enum && strcmp(f->enum_values[j], need[i]) != 0)
            j++;
        if (j == f->n_enum)
            app__err(c, at, "preferred_factor_field: enum field '%s.%s' must have the value '%s'", au->users->name,
                     f->name, need[i]);
    }
}

void app__load_auth(app__ctx *c, app *a, yaml_node_t *n, const yaml_node_t *owner)
{
    app__kv k[AUK__COUNT];
    if (!app__map(c, n, owner, "auth", auth_keys, AUK__COUNT, k))
        return;
    app_auth *au = arena_zalloc(c->a, sizeof *au);
    au->issuer = au->audience = a->name;
    au->access_ttl = DEFAULT_ACCESS_TTL;
    au->refresh_ttl = DEFAULT_REFRESH_TTL;
    au->refresh_grace = 0;
    au->login_password = true;
    au->scheme_bearer = true;
    au->password_field = "password";
    au->api_key_field = "api_key";
    au->denied_status = DEFAULT_DENIED_STATUS;
    au->style = AS_STANDARD;
    au->refresh_rotate = true;
    au->min_password = AUTH_MIN_PASSWORD;
    for (int i = 0; i < RK__COUNT; i++)
        if (route_methods[i].dflt)
            *(const char **)((char *)au + route_methods[i].offset) = route_methods[i].dflt;
    const char **su = arena_alloc(c->a, sizeof *su);
    su[0] = arena_strdup(c->a, "admin");
    au->superusers = su;
    au->n_superusers = 1;
    a->auth = au;

    const char *s;
    if (k[AUK_USERS].val && (s = app__str(c, k[AUK_USERS].val, "users"))) {
        au->users = app_model_by_name(a, s);
        if (!au->users && a->n_models) /* no models at all: reported already */
            app__err(c, k[AUK_USERS].val, "users: there is no model '%s' in this file",
                     app__q(c, s));
    }
    resolve_auth_fields(c, a, au, k);
    if (k[AUK_ISSUER].val)
        read_token_name(c, k[AUK_ISSUER].val, "issuer", &au->issuer);
    if (k[AUK_AUDIENCE].val)
        read_token_name(c, k[AUK_AUDIENCE].val, "audience", &au->audience);

    int64_t v;
    bool access_ok = true, refresh_ok = true;
    if (k[AUK_ACCESS_TTL].val) {
        access_ok = app__int(c, k[AUK_ACCESS_TTL].val, "access_ttl", RD_MIN_ACCESS_TTL,
                             RD_MAX_ACCESS_TTL, &v);
        if (access_ok)
            au->access_ttl = v;
    }
    if (k[AUK_REFRESH_TTL].val) {
        refresh_ok = app__int(c, k[AUK_REFRESH_TTL].val, "refresh_ttl", RD_MIN_REFRESH_TTL,
                              RD_MAX_REFRESH_TTL, &v);
        if (refresh_ok)
            au->refresh_ttl = v;
    }
    /* The defaults are in order and the largest access_ttl is below the
     * default refresh_ttl, so only a given refresh_ttl can be too small. */
    if (access_ok && refresh_ok && au->refresh_ttl <= au->access_ttl)
        app__err(c, k[AUK_REFRESH_TTL].val ? k[AUK_REFRESH_TTL].val : k[AUK_ACCESS_TTL].val,
                 "refresh_ttl (%lld) must be greater than access_ttl (%lld%s)", au->refresh_ttl,
                 au->access_ttl, k[AUK_ACCESS_TTL].val ? "" : ", the default");
    if (k[AUK_REFRESH_GRACE].val &&
        app__int(c, k[AUK_REFRESH_GRACE].val, "refresh_grace", 0, RD_MAX_REFRESH_GRACE, &v))
        au->refresh_grace = v;

    if (k[AUK_LOGIN_WITH].val)
        read_login_with(c, au, k[AUK_LOGIN_WITH].val);
    if (k[AUK_PASSWORD_FIELD].val)
        read_body_key(c, k[AUK_PASSWORD_FIELD].val, "password_field", &au->password_field);
    if (k[AUK_API_KEY_FIELD].val)
        read_body_key(c, k[AUK_API_KEY_FIELD].val, "api_key_field", &au->api_key_field);
    if (au->login_password && au->login_api_key &&
        strcmp(au->password_field, au->api_key_field) == 0) {
        const yaml_node_t *at = k[AUK_API_KEY_FIELD].val ? k[AUK_API_KEY_FIELD].val
                                                         : k[AUK_PASSWORD_FIELD].val;
        app__err(c, at, "api_key_field and password_field are both '%s': a login body could not "
                        "say which it carries",
                 au->password_field);
    }
    if (k[AUK_ROUTES].val)
        read_auth_routes(c, a, au, k[AUK_ROUTES].val);
    if (k[AUK_SCHEMES].val)
        read_schemes(c, au, k[AUK_SCHEMES].val);
    if (k[AUK_DENIED_STATUS].val)
        read_denied_status(c, au, k[AUK_DENIED_STATUS].val);
    if (k[AUK_SUPERUSERS].val)
        read_roles(c, k[AUK_SUPERUSERS].val, "superusers", false, &au->superusers,
                   &au->n_superusers);
    if (k[AUK_DEFAULT_ACCESS].val)
        app__load_access(c, k[AUK_DEFAULT_ACCESS].val, "auth.default_access", NULL, &au->default_access);
    app__resolve_access(c, a); /* before check_roles: its roles are checked too */
    if (k[AUK_STYLE].val) {
        int st = AS_STANDARD;
        app__read_choice(c, k[AUK_STYLE].val, "style", auth_style_names, AS__COUNT, &st);
        au->style = (auth_style)st;
    }
    if (k[AUK_LOGIN_ALSO].val)
        read_login_also(c, au, k[AUK_LOGIN_ALSO].val);
    if (k[AUK_REFRESH_ROTATE].val)
        app__bool(c, k[AUK_REFRESH_ROTATE].val, "refresh_rotate", &au->refresh_rotate);
    /* refresh_grace counts from a family's one access token; without
     * rotation a family has many, so the two do not mix */
    if (!au->refresh_rotate && au->refresh_grace > 0)
        app__err(c, k[AUK_REFRESH_ROTATE].val, "refresh_rotate: false cannot be combined with refresh_grace");
    if (k[AUK_MIN_PASSWORD].val &&
        app__int(c, k[AUK_MIN_PASSWORD].val, "min_password_length", AUTH_MIN_PASSWORD, AUTH_MAX_MIN_PASSWORD, &v))
        au->min_password = v;
    if (k[AUK_DISABLED_ROUTES].val)
        read_disabled_routes(c, a, au, k[AUK_DISABLED_ROUTES].val);
    if (k[AUK_ANSWER_ROW].val)
        read_answer_row(c, a, au, k[AUK_ANSWER_ROW].val);
    if (k[AUK_COOKIE].val)
        read_cookie(c, au, k[AUK_COOKIE].val);
    if (au->scheme_cookie && !k[AUK_COOKIE].val)
        app__err(c, k[AUK_SCHEMES].val, "schemes: 'cookie' needs an auth.cookie section naming the cookie");
    check_roles(c, au);
    check_preferred_factor(c, au, k[AUK_PREFERRED_FACTOR_FIELD].val);
}


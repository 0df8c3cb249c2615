/*
 * Login, refresh, logout, bearer checks and rights; see authn.h.
 *
 * Tokens: the access token is a JWT (auth/jwt.c) with sub = user id,
 * scope = role, sid = the refresh family, use = access. The refresh token
 * is 32 random bytes (base64url), stored only as its SHA-256, rotated on
 * every use; presenting an already-rotated one ends its whole family
 * (store/authdb.c). Password checks run on the hashing pool, never on the
 * event loop, and an unknown login costs the same hash as a known one.
 */
#include "api/authn.h"

#include <libgen.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/mfa.h"
#include "api/throttle.h"
#include "rd_limits.h"
#include "auth/jwt.h"
#include "auth/secret.h"
#include "json/jin.h"
#include "json/jw.h"
#include "store/authdb.h"
#include "util/log.h"

/* Longest Authorization header looked at: a token is ~400 bytes. */
#define AUTHN_MAX_HEADER 8192
#define AUTHN_LEEWAY 30

struct authn {
    const app *ap;
    authjwt_keys *keys;
    pwpool *pool;
    throttle *thr;
};

static const throttle_rule account_rule = {
    .max_fails = RD_THROTTLE_ACCOUNT_FAILS, .window_sec = RD_THROTTLE_WINDOW_SEC,
    .lock_sec = RD_THROTTLE_ACCOUNT_LOCK_SEC};
static const throttle_rule addr_rule = {
    .max_fails = RD_THROTTLE_ADDR_FAILS, .window_sec = RD_THROTTLE_WINDOW_SEC, .lock_sec = RD_THROTTLE_ADDR_LOCK_SEC};

authn *authn_new(const app *ap, const char *db_path, char **msg)
{
    char *copy = xstrdup(db_path);
    unsigned char key[AUTHSECRET_LEN];
    rd_err e = authsecret_load_or_create(dirname(copy), key, msg);
    free(copy);
    if (e != RD_OK)
        return NULL;
    authn *a = xcalloc(1, sizeof *a);
    a->ap = ap;
    a->keys = authjwt_keys_new(key, sizeof key);
    sodium_memzero(key, sizeof key);
    /* two hashing threads (the machine's cores), 64 waiting at most: a
     * login storm gets 503s instead of an unbounded queue */
    a->pool = pwpool_new(2, 64);
    a->thr = throttle_new(RD_THROTTLE_SLOTS);
    if (!a->keys || !a->pool) {
        authn_free(a);
        *msg = xstrdup("cannot start the authentication module");
        return NULL;
    }
    return a;
}

void authn_free(authn *a)
{
    if (!a)
        return;
    pwpool_free(a->pool);
    authjwt_keys_free(a->keys);
    throttle_free(a->thr);
    free(a);
}

pwpool *authn_pool(const authn *a) { return a->pool; }

/* ---- answers ---------------------------------------------------------- */

static void unauthorized(rq *r, const char *detail, bool bad_token)
{
    rq_header(r, "www-authenticate", bad_token ? "Bearer error=\"invalid_token\"" : "Bearer");
    problem_send(r, RD_UNAUTHORIZED, detail, NULL);
}

static void send_tokens(rq *r, const char *access, const char *refresh)
{
    const app_auth *au = r->app->auth;
    buf *b = arena_alloc(r->a, sizeof *b);
    buf_init(b, r->a, 8192);
    jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_keyz(&w, "access_token");
    jw_strz(&w, access);
    jw_keyz(&w, "token_type");
    jw_strz(&w, "Bearer");
    jw_keyz(&w, "expires_in");
    jw_int(&w, au->access_ttl);
    jw_keyz(&w, "refresh_token");
    jw_strz(&w, refresh);
    jw_obj_end(&w);
    rq_header(r, "cache-control", "no-store");
    rq_respond(r, 200, "OK", "application/json", b);
}

/* ---- throttling -------------------------------------------------------- */

static void too_many(rq *r, long wait)
{
    rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
    problem_send(r, RD_TOO_MANY, "too many failed sign-ins; try again later", NULL);
}

/* A failed sign-in counts against the login and the address. */
static void login_failed(rq *r, const char *account_key, const char *addr_key)
{
    time_t now = time(NULL);
    long a = throttle_fail(r->authn->thr, account_key, strlen(account_key), &account_rule, now);
    long b = throttle_fail(r->authn->thr, addr_key, strlen(addr_key), &addr_rule, now);
    if (a || b)
        log_warn("msg=\"sign-in locked\" peer=%s lock_sec=%ld", r->peer, a > b ? a : b);
    unauthorized(r, "invalid credentials", false);
}

/* ---- sessions --------------------------------------------------------- */

/* What a request carries from one step of a login or refresh to the next. */
typedef struct session {
    authdb_job job;
    char jti[AUTHJWT_JTI_LEN + 1];
    char family[AUTHJWT_JTI_LEN + 1];
    const char *refresh; /* the new refresh token (text) */
    char refresh_hash[AUTHSECRET_HASH_LEN + 1];
    char presented_hash[AUTHSECRET_HASH_LEN + 1];
    auth_user user;
    pwjob hash;
    char *password; /* arena copy, wiped once checked */
    size_t password_len;
    const char *account_key, *addr_key; /* throttle keys of a login */
} session;

static void new_tokens(rq *r, session *s)
{
    const app_auth *au = r->app->auth;
    long long now = (long long)time(NULL);
    authjwt_jti_new(s->jti);
    s->refresh = authsecret_random_token(32, r->a);
    authsecret_hash_token(s->refresh, strlen(s->refresh), s->refresh_hash);
    s->job.ap = r->app;
    s->job.now = now;
    s->job.refresh_hash = s->refresh_hash;
    s->job.refresh_exp = now + au->refresh_ttl;
    s->job.access_jti = s->jti;
    s->job.access_exp = now + au->access_ttl;
    s->job.grace = au->refresh_grace;
}

/* Sign the access token of a stored session and answer. */
static void finish(rq *r, session *s, const char *user_id, const char *role, const char *family)
{
    const app_auth *au = r->app->auth;
    authjwt_claims c = {.iss = au->issuer, .aud = au->audience, .sub = user_id, .jti = s->jti, .sid = family,
                        .scope = role, .use = AUTHJWT_USE_ACCESS, .iat = s->job.now, .exp = s->job.access_exp};
    char *token = NULL;
    if (authjwt_issue(r->authn->keys, &c, r->a, &token) != AUTHJWT_OK) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    send_tokens(r, token, s->refresh);
}

static void login_stored(rq *r, store_write *w)
{
    session *s = w->ctx;
    if (w->err != RD_OK) {
        problem_send(r, w->err == RD_UNAVAILABLE ? RD_UNAVAILABLE : RD_INTERNAL, NULL, NULL);
        return;
    }
    finish(r, s, s->user.id, s->user.role, s->family);
}

static void submit_job(rq *r, session *s, bool (*run)(sqlite3 *, store_write *), void (*cb)(rq *, store_write *))
{
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_RUN;
    w->run = run;
    w->revokes = run != authdb_login; /* rotation (reuse) and logout revoke */
    w->ctx = s;
    w->a = r->a;
    /* the authdb functions find their inputs at the start of the session */
    _Static_assert(offsetof(session, job) == 0, "ctx doubles as the authdb_job");
    if (rq_write(r, w, cb) != RD_OK)
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
}

static void start_session(rq *r, session *s)
{
    new_tokens(r, s);
    authjwt_jti_new(s->family);
    s->job.user_id = s->user.id;
    s->job.family = s->family;
    submit_job(r, s, authdb_login, login_stored);
}

static void second_factor_passed(rq *r, void *ctx) { start_session(r, ctx); }

static void password_checked(rq *r, pwjob *j)
{
    session *s = (session *)((char *)j - offsetof(session, hash));
    sodium_memzero(s->password, s->password_len);
    if (j->err != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    /* one answer for unknown login, wrong password and inactive account */
    if (!j->ok || !s->user.id || !s->user.active) {
        login_failed(r, s->account_key, s->addr_key);
        return;
    }
    throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
    /* second factor (api/mfa.c): the session starts once it passed */
    mfa_login_step(r, s->user.id, second_factor_passed, s);
}

/* A string member of the login body, or NULL. */
static const char *body_str(const json_t *body, const char *key, size_t *len)
{
    const json_t *v = json_object_get(body, key);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

static json_t *read_json(rq *r)
{
    if (!api_json_media_type(r->content_type, r->content_type_len)) {
        problem_send(r, RD_MEDIA_TYPE, "the request body must be JSON (Content-Type: application/json)", NULL);
        return NULL;
    }
    const char *msg = NULL;
    json_t *body = jin_parse(r->body ? r->body : "", r->body_len, r->a, &msg);
    if (!body) {
        problem_send(r, RD_BAD_JSON, msg, NULL);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, "the request body must be a JSON object", NULL);
        return NULL;
    }
    return body;
}

static void h_login(rq *r)
{
    const app_auth *au = r->app->auth;
    json_t *body = read_json(r);
    if (!body)
        return;
    size_t ll = 0, pl = 0, kl = 0;
    const char *login = body_str(body, au->login->json_name, &ll);
    const char *pw = au->login_password ? body_str(body, au->password_field, &pl) : NULL;
    const char *key = au->login_api_key ? body_str(body, au->api_key_field, &kl) : NULL;
    if (!login || (!pw && !key) || ll > 1024 || pl > 1024 || kl > 1024) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST,
                     arena_printf(r->a, "a login needs '%s' and %s%s%s", au->login->json_name,
                                  au->login_password ? au->password_field : "",
                                  au->login_password && au->login_api_key ? " or " : "",
                                  au->login_api_key ? au->api_key_field : ""),
                     NULL);
        return;
    }
    session *s = arena_zalloc(r->a, sizeof *s);
    char *login_c = arena_strndup(r->a, login, ll);
    s->account_key = arena_printf(r->a, "a:%s", login_c);
    s->addr_key = arena_printf(r->a, "i:%s", r->peer ? r->peer : "");
    time_t now = time(NULL);
    long wa = throttle_wait(r->authn->thr, s->account_key, strlen(s->account_key), now);
    long wi = throttle_wait(r->authn->thr, s->addr_key, strlen(s->addr_key), now);
    if (wa || wi) {
        json_decref(body);
        too_many(r, wa > wi ? wa : wi);
        return;
    }
    rd_err e = store_auth_user_by_login(r->conn, r->app, login_c, r->a, &s->user);
    if (e != RD_OK && e != RD_NOT_FOUND) {
        json_decref(body);
        problem_send(r, e, NULL, NULL);
        return;
    }
    if (e == RD_NOT_FOUND)
        s->user.id = NULL;
    if (key) {
        /* API keys are random and long: a SHA-256 lookup is the check */
        char kh[AUTHSECRET_HASH_LEN + 1];
        authsecret_hash_token(key, kl, kh);
        json_decref(body);
        auth_user ku = {0};
        bool match = s->user.id && store_auth_user_by_key(r->conn, r->app, kh, r->a, &ku) == RD_OK &&
                     strcmp(ku.id, s->user.id) == 0;
        if (!match || !s->user.active) {
            login_failed(r, s->account_key, s->addr_key);
            return;
        }
        throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
        start_session(r, s);
        return;
    }
    s->password = arena_strndup(r->a, pw, pl);
    s->password_len = pl;
    json_decref(body);
    s->hash.password = s->password;
    s->hash.password_len = pl;
    s->hash.hash = s->user.id ? s->user.password_hash : NULL;
    /* no account or no password set: the same work, then a refusal */
    s->hash.work = s->hash.hash ? pwjob_verify : pwjob_dummy;
    if (rq_hash(r, &s->hash, password_checked) != RD_OK) {
        sodium_memzero(s->password, s->password_len);
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
    }
}

static void rotated(rq *r, store_write *w)
{
    session *s = w->ctx;
    if (w->err == RD_UNAUTHORIZED || (w->err == RD_OK && !s->job.user.id)) {
        unauthorized(r, w->detail ? w->detail : "the refresh token is not valid", true);
        return;
    }
    if (w->err != RD_OK) {
        problem_send(r, w->err, NULL, NULL);
        return;
    }
    finish(r, s, s->job.user.id, s->job.user.role, s->job.family);
}

static void h_refresh(rq *r)
{
    json_t *body = read_json(r);
    if (!body)
        return;
    size_t n = 0;
    const char *tok = body_str(body, "refresh_token", &n);
    if (!tok || n > 512) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, "a refresh needs 'refresh_token'", NULL);
        return;
    }
    session *s = arena_zalloc(r->a, sizeof *s);
    authsecret_hash_token(tok, n, s->presented_hash);
    json_decref(body);
    new_tokens(r, s);
    s->job.presented_hash = s->presented_hash;
    submit_job(r, s, authdb_rotate, rotated);
}

static void revoked(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        problem_send(r, w->err, NULL, NULL);
        return;
    }
    rq_respond(r, 204, "No Content", NULL, NULL);
}

/* Logout: ends the caller's session (the access token's family) and blocks
 * the access token; a refresh_token in the body ends that one's family. */
static void h_logout(rq *r)
{
    session *s = arena_zalloc(r->a, sizeof *s);
    s->job.ap = r->app;
    s->job.now = (long long)time(NULL);
    if (r->body_len) {
        json_t *body = read_json(r);
        if (!body)
            return;
        size_t n = 0;
        const char *tok = body_str(body, "refresh_token", &n);
        if (tok && n <= 512) {
            authsecret_hash_token(tok, n, s->presented_hash);
            s->job.presented_hash = s->presented_hash;
        }
        json_decref(body);
    }
    if (r->authorization) {
        if (!authn_require(r))
            return;
        s->job.revoke_family = r->token_sid;
        s->job.revoke_jti = r->token_jti;
        s->job.revoke_jti_exp = r->token_exp;
    } else if (!s->job.presented_hash) {
        unauthorized(r, "a logout needs a bearer token or a refresh_token", false);
        return;
    }
    submit_job(r, s, authdb_revoke, revoked);
}

bool authn_route(rq *r)
{
    const app_auth *au = r->app->auth;
    if (!au)
        return false;
    if (mfa_route(r)) /* second factors and password reset (api/mfa.c) */
        return true;
    static const char *const names[] = {"login", "refresh", "logout"};
    const char *paths[] = {au->login_path, au->refresh_path, au->logout_path};
    void (*handlers[])(rq *) = {h_login, h_refresh, h_logout};
    for (int i = 0; i < 3; i++) {
        const char *p = paths[i];
        if (!p || strlen(p) != r->path_len || memcmp(p, r->path, r->path_len) != 0)
            continue;
        if (r->method != M_POST) {
            rq_header(r, "allow", "POST");
            problem_send(r, RD_METHOD, arena_printf(r->a, "%s takes POST", names[i]), NULL);
            return true;
        }
        handlers[i](r);
        return true;
    }
    return false;
}

/* ---- every request ---------------------------------------------------- */

/* Whether an access token id is still good. Asking the database on every
 * request costs a second read transaction (two more lock calls); instead
 * each event loop remembers ids it found unrevoked, and asks again when
 * this process has committed a revocation since (store_revocations), or
 * after RD_REVOCATION_RECHECK_SEC, which bounds how long a revocation made
 * by another process (restd user disable) takes to bite. */
#define JTI_CACHE 256
typedef struct jti_entry {
    char jti[AUTHJWT_MAX_ID + 1];
    unsigned long gen;
    time_t checked;
} jti_entry;
static _Thread_local jti_entry jti_cache[JTI_CACHE];

static bool jti_current(rq *r, const char *jti)
{
    size_t n = strlen(jti);
    if (n > AUTHJWT_MAX_ID)
        return false;
    size_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)jti[i]) * 1099511628211ULL;
    jti_entry *e = &jti_cache[h % JTI_CACHE];
    unsigned long gen = store_revocations(r->store);
    time_t now = time(NULL);
    if (e->gen == gen && now - e->checked < RD_REVOCATION_RECHECK_SEC && strcmp(e->jti, jti) == 0)
        return true;
    bool revoked = false;
    if (store_auth_revoked(r->conn, jti, &revoked) != RD_OK)
        return false;
    if (revoked)
        return false;
    memcpy(e->jti, jti, n + 1);
    e->gen = gen;
    e->checked = now;
    return true;
}

/* `Authorization: token <API key>` (iProva): the request acts as the key's
 * user. The key is random and long, so its SHA-256 is the lookup. */
static bool api_key_caller(rq *r, const char *key, size_t n)
{
    while (n && *key == ' ')
        key++, n--;
    char kh[AUTHSECRET_HASH_LEN + 1];
    authsecret_hash_token(key, n, kh);
    auth_user u = {0};
    if (n == 0 || store_auth_user_by_key(r->conn, r->app, kh, r->a, &u) != RD_OK || !u.active) {
        unauthorized(r, "the API key is not valid", true);
        return false;
    }
    r->user_id = u.id;
    r->user_role = u.role;
    return true;
}

bool authn_require(rq *r)
{
    const app_auth *au = r->app->auth;
    if (!r->authorization) {
        unauthorized(r, "this route needs a bearer token (Authorization: Bearer ...)", false);
        return false;
    }
    const char *h = r->authorization;
    size_t n = r->authorization_len;
    if (n <= AUTHN_MAX_HEADER && au->scheme_token && n > 6 && strncasecmp(h, "token ", 6) == 0)
        return api_key_caller(r, h + 6, n - 6);
    if (n > AUTHN_MAX_HEADER || n < 8 || strncasecmp(h, "bearer ", 7) != 0 || !au->scheme_bearer) {
        unauthorized(r,
                     au->scheme_token && au->scheme_bearer
                         ? "the Authorization header must be 'Bearer <token>' or 'token <API key>'"
                     : au->scheme_token ? "the Authorization header must be 'token <API key>'"
                                        : "the Authorization header must be 'Bearer <token>'",
                     true);
        return false;
    }
    h += 7;
    n -= 7;
    while (n && *h == ' ')
        h++, n--;
    authjwt_expect ex = {.iss = au->issuer, .aud = au->audience, .use = AUTHJWT_USE_ACCESS, .leeway = AUTHN_LEEWAY};
    authjwt_claims c;
    authjwt_err je = authjwt_verify(r->authn->keys, h, n, &ex, time(NULL), r->a, &c);
    if (je != AUTHJWT_OK) {
        log_info("msg=\"token refused\" reason=%s", authjwt_strerror(je));
        unauthorized(r, je == AUTHJWT_EXPIRED ? "the token has expired" : "the token is not valid", true);
        return false;
    }
    if (!jti_current(r, c.jti)) {
        unauthorized(r, "the token has been revoked", true);
        return false;
    }
    r->user_id = c.sub;
    r->user_role = c.scope ? c.scope : "";
    r->token_jti = c.jti;
    r->token_sid = c.sid;
    r->token_exp = c.exp;
    return true;
}

static bool listed(const char *const *roles, size_t n, const char *role)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(roles[i], "*") == 0 || strcmp(roles[i], role) == 0)
            return true;
    return false;
}

bool authn_allowed(rq *r, const app_model *m, bool write)
{
    const app_auth *au = r->app->auth;
    const char *role = r->user_role ? r->user_role : "";
    for (size_t i = 0; i < au->n_superusers; i++)
        if (strcmp(au->superusers[i], role) == 0)
            return true;
    const app_access *acc = m->has_access ? &m->access : &au->default_access;
    if (write ? listed(acc->write, acc->n_write, role) : listed(acc->read, acc->n_read, role))
        return true;
    problem_send(r, au->denied_status == 401 ? RD_DENIED_401 : RD_DENIED,
                 arena_printf(r->a, "You do not have %s access to %s", write ? "write" : "read", m->route), NULL);
    return false;
}

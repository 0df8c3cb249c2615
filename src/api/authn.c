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
#include "api/authhdr.h"
#include "api/query.h"
#include "api/throttle.h"
#include "rd_limits.h"
#include "auth/jwt.h"
#include "auth/secret.h"
#include "auth/totp.h"
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

static void set_session_cookie(rq *r, const char *token);
static const char *session_cookie(rq *r, size_t *n, bool *refused);

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
    set_session_cookie(r, access); /* auth.cookie: the same token as a browser session */
    rq_respond(r, 200, "OK", "application/json", b);
}

/* ---- throttling -------------------------------------------------------- */

static void too_many(rq *r, long wait)
{
    rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
    problem_send(r, RD_TOO_MANY, "too many failed sign-ins; try again later", NULL);
}

/* A failed sign-in (login route or credentials scheme) counts against the
 * login and the address. */
static void count_failure(rq *r, const char *account_key, const char *addr_key)
{
    time_t now = time(NULL);
    long a = throttle_fail(r->authn->thr, account_key, strlen(account_key), &account_rule, now);
    long b = throttle_fail(r->authn->thr, addr_key, strlen(addr_key), &addr_rule, now);
    if (a || b)
        log_warn("msg=\"sign-in locked\" peer=%s lock_sec=%ld", r->peer, a > b ? a : b);
}

static void login_failed(rq *r, const char *account_key, const char *addr_key)
{
    count_failure(r, account_key, addr_key);
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
    start_session(r, s);
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
    set_session_cookie(r, NULL); /* auth.cookie: the browser forgets the session */
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
    size_t cl = 0;
    bool refused = false;
    if (r->authorization || (r->app->auth->scheme_cookie && session_cookie(r, &cl, &refused))) {
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

/* An access token (bearer or cookie): a JWT for this app, not revoked. */
static bool access_token_caller(rq *r, const char *tok, size_t n)
{
    const app_auth *au = r->app->auth;
    authjwt_expect ex = {.iss = au->issuer, .aud = au->audience, .use = AUTHJWT_USE_ACCESS, .leeway = AUTHN_LEEWAY};
    authjwt_claims c;
    authjwt_err je = authjwt_verify(r->authn->keys, tok, n, &ex, time(NULL), r->a, &c);
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

/* ---- credentials u:<login> pwd:<password> (iProva) ---------------------- */

/* A failed credentials check counts as a failed sign-in, with its own
 * detail. */
static void credentials_failed(rq *r, const session *s, const char *detail)
{
    count_failure(r, s->account_key, s->addr_key);
    unauthorized(r, detail, false);
}

/* The caller is known: record it and dispatch the request again; this
 * time authn_require finds r->user_id set and lets it through. */
static void credentials_accepted(rq *r, session *s)
{
    throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
    r->user_id = s->user.id;
    r->user_role = s->user.role;
    api_handle(r);
}

static void code_stored(rq *r, store_write *w)
{
    session *s = w->ctx;
    if (w->err == RD_UNAUTHORIZED) {
        /* another request spent this code first */
        log_warn("msg=\"two-factor code replayed\" peer=%s", r->peer);
        unauthorized(r, "the two-factor code was used before; send the next one", false);
        return;
    }
    if (w->err != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    credentials_accepted(r, s);
}

/* The password was right; an account with TOTP also needs a current code
 * in x-two-factor-code, each code once (its counter is stored). */
static void second_factor(rq *r, session *s)
{
    const char *secret = NULL;
    long long last = 0;
    rd_err e = store_auth_totp(r->conn, s->user.id, r->a, &secret, &last);
    if (e == RD_NOT_FOUND) {
        credentials_accepted(r, s);
        return;
    }
    if (e != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, NULL, NULL);
        return;
    }
    size_t cl = 0;
    const char *code = rq_req_header(r, "x-two-factor-code", &cl);
    if (!code || cl == 0) {
        unauthorized(r, "this account uses two-factor authentication: send the current code in the "
                        "x-two-factor-code header",
                     false);
        return;
    }
    uint64_t matched = 0;
    totp_result t = cl > RD_MAX_TWO_FACTOR_CODE ? TOTP_WRONG
                                                : totp_verify(secret, code, cl, time(NULL), (uint64_t)last, &matched);
    if (t == TOTP_BAD_SECRET) {
        log_error("msg=\"stored TOTP secret is not valid\" user=%s", s->user.id);
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    if (t == TOTP_REPLAY) {
        log_warn("msg=\"two-factor code replayed\" peer=%s", r->peer);
        credentials_failed(r, s, "the two-factor code was used before; send the next one");
        return;
    }
    if (t != TOTP_OK) {
        credentials_failed(r, s, "the two-factor code is not valid");
        return;
    }
    s->job.ap = r->app;
    s->job.now = (long long)time(NULL);
    s->job.user_id = s->user.id;
    s->job.totp_counter = (long long)matched;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_RUN;
    w->run = authdb_totp_use;
    w->ctx = &s->job;
    w->a = r->a;
    _Static_assert(offsetof(session, job) == 0, "ctx doubles as the session");
    if (rq_write(r, w, code_stored) != RD_OK)
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
}

static void credentials_checked(rq *r, pwjob *j)
{
    session *s = (session *)((char *)j - offsetof(session, hash));
    sodium_memzero(s->password, s->password_len);
    if (j->err != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    /* one answer for unknown login, wrong password and inactive account */
    if (!j->ok || !s->user.id || !s->user.active) {
        credentials_failed(r, s, "invalid credentials");
        return;
    }
    second_factor(r, s);
}

/* The application's API key: header x-api_key (iProva's spelling), or
 * x-api-key (proxies such as nginx drop header names with '_' by default),
 * or the query parameter api_key, which is then taken out of the query so
 * the list parser does not see it. NULL when none or more than one. */
static const char *app_key_of(rq *r, size_t *n)
{
    const char *k = rq_req_header(r, "x-api_key", n);
    if (!k)
        k = rq_req_header(r, "x-api-key", n);
    if (k || !r->query)
        return k;
    qparam p[RD_MAX_QUERY_PARAMS];
    const char *bad = NULL;
    int np = query_parse(r->query, r->query_len, r->a, p, RD_MAX_QUERY_PARAMS, &bad);
    for (int i = 0; i < np; i++) {
        if (strcmp(p[i].name, "api_key") != 0)
            continue;
        if (k)
            return NULL; /* given twice: ambiguous */
        k = p[i].value;
        *n = p[i].value_len;
    }
    if (!k)
        return NULL;
    /* drop the raw api_key=... segments from the query */
    char *q = arena_alloc(r->a, r->query_len + 1);
    size_t qn = 0;
    for (const char *seg = r->query, *end = r->query + r->query_len; seg < end;) {
        const char *amp = memchr(seg, '&', (size_t)(end - seg));
        size_t sl = (size_t)((amp ? amp : end) - seg);
        if (!(sl >= 7 && memcmp(seg, "api_key", 7) == 0 && (sl == 7 || seg[7] == '='))) {
            if (qn)
                q[qn++] = '&';
            memcpy(q + qn, seg, sl);
            qn += sl;
        }
        seg += sl + 1;
    }
    r->query = qn ? q : NULL;
    r->query_len = qn;
    return k;
}

/* `credentials u:<login> pwd:<password>`: the login runs up to " pwd:", the
 * password is the rest of the header as sent. Returns false: either the
 * request was answered, or the password check went to the hashing pool
 * and the request is dispatched again from credentials_accepted. */
static bool credentials_caller(rq *r, const char *h, size_t n)
{
    const char *login_s = NULL, *pw = NULL;
    size_t ul = 0, pl = 0;
    if (!authhdr_credentials(h, n, RD_MAX_LOGIN, PWHASH_MAX_PASSWORD, &login_s, &ul, &pw, &pl)) {
        unauthorized(r, "the Authorization header must be 'credentials u:<login> pwd:<password>'", true);
        return false;
    }
    size_t kl = 0;
    const char *key = app_key_of(r, &kl);
    if (!key || kl == 0) {
        unauthorized(r, "the credentials scheme needs the application's API key (x-api_key header or api_key "
                        "query parameter)",
                     false);
        return false;
    }
    auth_user ku = {0};
    char kh[AUTHSECRET_HASH_LEN + 1];
    if (kl <= RD_MAX_API_KEY)
        authsecret_hash_token(key, kl, kh);
    if (kl > RD_MAX_API_KEY || store_auth_user_by_key(r->conn, r->app, kh, r->a, &ku) != RD_OK || !ku.active) {
        unauthorized(r, "the API key is not valid", true);
        return false;
    }
    session *s = arena_zalloc(r->a, sizeof *s);
    char *login = arena_strndup(r->a, login_s, ul);
    s->account_key = arena_printf(r->a, "a:%s", login);
    s->addr_key = arena_printf(r->a, "i:%s", r->peer ? r->peer : "");
    time_t now = time(NULL);
    long wa = throttle_wait(r->authn->thr, s->account_key, strlen(s->account_key), now);
    long wi = throttle_wait(r->authn->thr, s->addr_key, strlen(s->addr_key), now);
    if (wa || wi) {
        too_many(r, wa > wi ? wa : wi);
        return false;
    }
    rd_err e = store_auth_user_by_login(r->conn, r->app, login, r->a, &s->user);
    if (e != RD_OK && e != RD_NOT_FOUND) {
        problem_send(r, e, NULL, NULL);
        return false;
    }
    if (e == RD_NOT_FOUND)
        s->user.id = NULL;
    s->password = arena_strndup(r->a, pw, pl);
    s->password_len = pl;
    s->hash.password = s->password;
    s->hash.password_len = pl;
    s->hash.hash = s->user.id ? s->user.password_hash : NULL;
    /* no account or no password set: the same work, then a refusal */
    s->hash.work = s->hash.hash ? pwjob_verify : pwjob_dummy;
    if (rq_hash(r, &s->hash, credentials_checked) != RD_OK) {
        sodium_memzero(s->password, s->password_len);
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
    }
    return false;
}

/* ---- the session cookie ------------------------------------------------ */

/* The session cookie's value, or NULL (absent, or refused: *refused). */
static const char *session_cookie(rq *r, size_t *n, bool *refused)
{
    const char *name = r->app->auth->cookie_name;
    size_t hl = 0;
    const char *h = name ? rq_req_header(r, "cookie", &hl) : NULL;
    const char *v = NULL;
    authhdr_result cr = h ? authhdr_cookie(h, hl, name, &v, n) : AUTHHDR_ABSENT;
    *refused = cr == AUTHHDR_REFUSED;
    return cr == AUTHHDR_FOUND ? v : NULL;
}

static bool unsafe_method(rq_method m) { return m != M_GET && m != M_HEAD && m != M_OPTIONS; }

/* A request signed in by its cookie alone. Browsers attach cookies to
 * requests other sites make them send (CSRF); SameSite=Strict stops that
 * in current browsers, and an unsafe method must also carry the header
 * X-Requested-With, which a cross-site form or link cannot set and a
 * cross-site script may set only after a CORS preflight restd never
 * grants. */
static bool cookie_caller(rq *r, const char *v, size_t n)
{
    if (unsafe_method(r->method)) {
        size_t xl = 0;
        const char *x = rq_req_header(r, "x-requested-with", &xl);
        if (!x || xl == 0) {
            problem_send(r, RD_FORBIDDEN,
                         "a request signed in by cookie must send the X-Requested-With header to change data "
                         "(CSRF protection)",
                         NULL);
            return false;
        }
    }
    return access_token_caller(r, v, n);
}

/* Whether the answer goes back over HTTPS: TLS to us, or a proxy we trust
 * says its client used https. */
static bool over_https(rq *r)
{
    if (rq_tls(r))
        return true;
    const app_auth *au = r->app->auth;
    bool trusted = false;
    for (size_t i = 0; i < au->n_trusted_proxies && !trusted; i++)
        trusted = r->peer && strcmp(au->trusted_proxies[i], r->peer) == 0;
    size_t n = 0;
    const char *p = trusted ? rq_req_header(r, "x-forwarded-proto", &n) : NULL;
    return p && authhdr_forwarded_https(p, n);
}

/* Set-Cookie for the session (token) or to clear it (NULL). */
static void set_session_cookie(rq *r, const char *token)
{
    const app_auth *au = r->app->auth;
    if (!au->cookie_name)
        return;
    const char *path = r->app->base_path[0] ? r->app->base_path : "/";
    rq_header(r, "set-cookie",
              arena_printf(r->a, "%s=%s; Path=%s; Max-Age=%lld; HttpOnly; SameSite=Strict%s", au->cookie_name,
                           token ? token : "", path, token ? au->access_ttl : 0LL,
                           over_https(r) ? "; Secure" : ""));
}

/* ---- every request: which scheme --------------------------------------- */

typedef bool (*scheme_fn)(rq *r, const char *arg, size_t n);

/* The Authorization schemes, matched case-insensitively (RFC 9110 §11.1),
 * each on when the app's flag at `on` is set. */
static const struct {
    const char *name;
    size_t len;
    size_t on; /* offset of the bool in app_auth */
    scheme_fn fn;
    const char *form; /* for the error detail */
} schemes[] = {
    {"bearer", 6, offsetof(app_auth, scheme_bearer), access_token_caller, "'Bearer <token>'"},
    {"token", 5, offsetof(app_auth, scheme_token), api_key_caller, "'token <API key>'"},
    {"credentials", 11, offsetof(app_auth, scheme_credentials), credentials_caller,
     "'credentials u:<login> pwd:<password>'"},
};
#define N_SCHEMES (sizeof schemes / sizeof schemes[0])

static bool scheme_on(const app_auth *au, size_t i) { return *(const bool *)((const char *)au + schemes[i].on); }

static void wrong_scheme(rq *r, bool bad)
{
    const app_auth *au = r->app->auth;
    const char *forms = NULL;
    for (size_t i = 0; i < N_SCHEMES; i++)
        if (scheme_on(au, i))
            forms = forms ? arena_printf(r->a, "%s or %s", forms, schemes[i].form) : schemes[i].form;
    unauthorized(r, arena_printf(r->a, "the Authorization header must be %s", forms ? forms : "absent (cookie)"),
                 bad);
}

bool authn_require(rq *r)
{
    if (r->user_id)
        return true; /* known already: a request dispatched again after an off-loop check */
    const app_auth *au = r->app->auth;
    const char *h = r->authorization;
    size_t n = r->authorization_len;
    if (!h) {
        size_t cl = 0;
        bool refused = false;
        const char *c = au->scheme_cookie ? session_cookie(r, &cl, &refused) : NULL;
        if (c && cl)
            return cookie_caller(r, c, cl);
        unauthorized(r,
                     refused ? "the Cookie header is malformed, too large or names the session cookie twice"
                     : au->scheme_bearer ? "this route needs a bearer token (Authorization: Bearer ...)"
                                         : "this route needs an Authorization header",
                     refused);
        return false;
    }
    if (n > AUTHN_MAX_HEADER) {
        unauthorized(r, "the Authorization header is too large", true);
        return false;
    }
    for (size_t i = 0; i < N_SCHEMES; i++) {
        size_t l = schemes[i].len;
        if (n > l && h[l] == ' ' && strncasecmp(h, schemes[i].name, l) == 0 && scheme_on(au, i)) {
            const char *arg = h + l;
            size_t an = n - l;
            while (an && *arg == ' ')
                arg++, an--;
            return schemes[i].fn(r, arg, an);
        }
    }
    wrong_scheme(r, true);
    return false;
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

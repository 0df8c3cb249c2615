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
#include "api/listq.h"
#include "api/authhdr.h"
#include "api/query.h"
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

static void set_session_cookie(rq *r, const char *token);
static const char *session_cookie(rq *r, size_t *n, bool *refused);

static void unauthorized(rq *r, const char *detail, bool bad_token)
{
    rq_header(r, "www-authenticate", bad_token ? "Bearer error=\"invalid_token\"" : "Bearer");
    problem_send(r, RD_UNAUTHORIZED, detail, NULL);
}

/* ---- answer styles ----------------------------------------------------- */

/* Why a sign-in was refused. The standard style gives every reason but a
 * lock the same answer; Zou's tells an inactive account apart, which is
 * safe because that is checked only after the right password. */
typedef enum refusal { RF_CREDENTIALS, RF_INACTIVE, RF_LOCKED } refusal;

/* A small JSON object of fixed members, as Zou's login refusals. */
typedef struct jmember {
    const char *key;
    enum { JB_TRUE, JB_FALSE, JB_TEXT } kind;
    const char *text;
} jmember;

static void send_members(rq *r, int status, const char *reason, const jmember *m, size_t n)
{
    buf *b = arena_alloc(r->a, sizeof *b);
    buf_init(b, r->a, 4096);
    jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    for (size_t i = 0; i < n; i++) {
        jw_keyz(&w, m[i].key);
        if (m[i].kind == JB_TEXT)
            jw_strz(&w, m[i].text);
        else
            jw_bool(&w, m[i].kind == JB_TRUE);
    }
    jw_obj_end(&w);
    rq_header(r, "cache-control", "no-store");
    rq_respond(r, status, reason, "application/json", b);
}

static void std_refused(rq *r, refusal why, long wait)
{
    if (why == RF_LOCKED) {
        rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
        problem_send(r, RD_TOO_MANY, "too many failed sign-ins; try again later", NULL);
        return;
    }
    unauthorized(r, "invalid credentials", false);
}

/* Zou's bodies (zou/app/blueprints/auth/resources.py, LoginResource). */
static void zou_refused(rq *r, refusal why, long wait)
{
    static const jmember bad[] = {{"login", JB_FALSE, NULL}};
    static const jmember inactive[] = {{"error", JB_TRUE, NULL},
                                       {"login", JB_FALSE, NULL},
                                       {"unactive", JB_TRUE, NULL},
                                       {"message", JB_TEXT, "User is unactive, he cannot log in."}};
    static const jmember locked[] = {
        {"error", JB_TRUE, NULL}, {"login", JB_FALSE, NULL}, {"too_many_failed_login_attemps", JB_TRUE, NULL}};
    if (why == RF_LOCKED) {
        rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
        send_members(r, 400, "Bad Request", locked, sizeof locked / sizeof locked[0]);
    } else if (why == RF_INACTIVE) {
        send_members(r, 401, "Unauthorized", inactive, sizeof inactive / sizeof inactive[0]);
    } else {
        send_members(r, 400, "Bad Request", bad, 1);
    }
}

/* The members every sign-in answer of the standard style carries. */
static void std_tokens(jw *w, const app_auth *au, const char *access, const char *refresh)
{
    jw_keyz(w, "access_token");
    jw_strz(w, access);
    jw_keyz(w, "token_type");
    jw_strz(w, "Bearer");
    jw_keyz(w, "expires_in");
    jw_int(w, au->access_ttl);
    if (refresh) {
        jw_keyz(w, "refresh_token");
        jw_strz(w, refresh);
    }
}

static void zou_tokens(jw *w, const app_auth *au, const char *access, const char *refresh)
{
    (void)au;
    jw_keyz(w, "access_token");
    jw_strz(w, access);
    if (refresh) {
        jw_keyz(w, "refresh_token");
        jw_strz(w, refresh);
    }
}

static void std_no_content(rq *r, const char *key) { (void)key; rq_respond(r, 204, "No Content", NULL, NULL); }

/* {"<key>": true}: Zou's {"logout": true}, {"success": true}. */
static void zou_true(rq *r, const char *key)
{
    const jmember m[] = {{key, JB_TRUE, NULL}};
    send_members(r, 200, "OK", m, 1);
}

/* One row per auth_style: what differs between the answer shapes. */
typedef struct authn_style {
    void (*refused)(rq *r, refusal why, long wait); /* a sign-in refused (wait: RF_LOCKED's seconds) */
    void (*tokens)(jw *w, const app_auth *au, const char *access, const char *refresh); /* NULL refresh: none */
    bool login_user;                      /* the login answer is {"user", answer_row, "login": true, tokens} */
    void (*ok)(rq *r, const char *key);   /* logout, change of password: done */
    const char *expired;                  /* the detail for an expired access token */
    rd_err wrong_use;                     /* a refresh route given an access token */
    rd_err locked;                        /* too many wrong passwords at a change of password */
} authn_style;

static const authn_style styles[AS__COUNT] = {
    [AS_STANDARD] = {.refused = std_refused, .tokens = std_tokens, .ok = std_no_content,
                     .expired = "the token has expired", .wrong_use = RD_UNAUTHORIZED, .locked = RD_TOO_MANY},
    /* gazu refreshes on exactly "Signature has expired", and treats any
     * status it does not know (429) as a success, hence 400 for a lock */
    [AS_ZOU] = {.refused = zou_refused, .tokens = zou_tokens, .login_user = true, .ok = zou_true,
                .expired = "Signature has expired", .wrong_use = RD_WRONG_TOKEN, .locked = RD_BAD_REQUEST},
};

static const authn_style *style(const rq *r) { return &styles[r->app->auth->style]; }

/* The members "user" (the users row as the API serves it) and the app's
 * answer_row, for the login (Zou style) and authenticated answers. False
 * when the user's row is gone. */
static bool user_members(rq *r, jw *w, const char *user_id)
{
    const app_auth *au = r->app->auth;
    jw_keyz(w, "user");
    if (store_get(r->conn, au->users, user_id, listq_version_omit(au->users, r->version, r->a), w) != RD_OK)
        return false;
    if (!au->row_key)
        return true;
    jw_keyz(w, au->row_key);
    buf *lb = arena_alloc(r->a, sizeof *lb);
    buf_init(lb, r->a, RD_MAX_RESPONSE);
    jw lw;
    jw_init(&lw, lb);
    store_query q = {.limit = 1, .omit = listq_version_omit(au->row_model, r->version, r->a)};
    store_page page = {0};
    if (store_list(r->conn, au->row_model, &q, r->a, &lw, &page) == RD_OK && page.returned == 1 && lb->len > 2) {
        jw_raw(w, lb->data + 1, lb->len - 2); /* the one row, out of its [ ] */
        return true;
    }
    /* no row: the fixed object, shaped like a row of the model */
    jw_obj_begin(w);
    jw_keyz(w, "id");
    jw_null(w);
    for (size_t i = 0; i < au->row_model->n_fields; i++) {
        const app_field *f = &au->row_model->fields[i];
        jw_keyz(w, f->json_name);
        size_t k = 0;
        while (k < au->n_row_default && strcmp(au->row_default_fields[k], f->name) != 0)
            k++;
        if (k < au->n_row_default)
            jw_strz(w, au->row_default_values[k]);
        else if (f->default_json)
            jw_raw(w, f->default_json, strlen(f->default_json));
        else if (f->type == FT_REF_LIST)
            jw_raw(w, "[]", 2);
        else
            jw_null(w);
    }
    jw_keyz(w, "created_at");
    jw_null(w);
    jw_keyz(w, "updated_at");
    jw_null(w);
    jw_obj_end(w);
    return true;
}

/* A sign-in or refresh answer: the tokens (refresh NULL: none issued) in
 * the app's style, after the user's row when with_user. */
static void send_tokens(rq *r, const char *access, const char *refresh, const char *with_user)
{
    const app_auth *au = r->app->auth;
    buf *b = arena_alloc(r->a, sizeof *b);
    buf_init(b, r->a, RD_MAX_RESPONSE);
    jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    if (with_user) {
        if (!user_members(r, &w, with_user)) {
            style(r)->refused(r, RF_CREDENTIALS, 0); /* deleted while signing in */
            return;
        }
        jw_keyz(&w, "login");
        jw_bool(&w, true);
    }
    style(r)->tokens(&w, au, access, refresh);
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

/* A failed login: counted, then refused in the app's answer style. */
static void login_failed(rq *r, const char *account_key, const char *addr_key, refusal why)
{
    count_failure(r, account_key, addr_key);
    style(r)->refused(r, why, 0);
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

/* Sign the access token of a stored session and answer: a login (in Zou's
 * style with the user's row) or a refresh (without a refresh token when
 * it was not rotated). */
static void finish(rq *r, session *s, const char *user_id, const char *role, const char *family, bool login)
{
    const app_auth *au = r->app->auth;
    authjwt_claims c = {.iss = au->issuer, .aud = au->audience, .sub = user_id, .jti = s->jti, .sid = family,
                        .scope = role, .use = AUTHJWT_USE_ACCESS, .iat = s->job.now, .exp = s->job.access_exp};
    char *token = NULL;
    if (authjwt_issue(r->authn->keys, &c, r->a, &token) != AUTHJWT_OK) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return;
    }
    send_tokens(r, token, s->job.keep ? NULL : s->refresh, login && style(r)->login_user ? user_id : NULL);
}

static void login_stored(rq *r, store_write *w)
{
    session *s = w->ctx;
    if (w->err != RD_OK) {
        problem_send(r, w->err == RD_UNAVAILABLE ? RD_UNAVAILABLE : RD_INTERNAL, NULL, NULL);
        return;
    }
    finish(r, s, s->user.id, s->user.role, s->family, true);
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

/* The password (or API key) is right and the account active. A second
 * factor, when the account has one, is checked here, before the session
 * starts (src/api/mfa.c hooks in at this one place). */
static void credentials_ok(rq *r, session *s)
{
    /* second factor (api/mfa.c): the session starts once it passed */
    mfa_login_step(r, s->user.id, second_factor_passed, s);
}

static void password_checked(rq *r, pwjob *j)
{
    session *s = (session *)((char *)j - offsetof(session, hash));
    sodium_memzero(s->password, s->password_len);
    if (j->err != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    if (!j->ok || !s->user.id) {
        login_failed(r, s->account_key, s->addr_key, RF_CREDENTIALS);
        return;
    }
    /* Zou tells an inactive account apart, but only after the password */
    if (!s->user.active) {
        login_failed(r, s->account_key, s->addr_key, RF_INACTIVE);
        return;
    }
    throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
    credentials_ok(r, s);
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
    if (style(r)->login_user && (!login || ll == 0 || (!pw && !key) || ll > 1024 || pl > 1024 || kl > 1024)) {
        /* Zou: {"email": ""} (gazu's host_is_valid) is a plain refusal; no
         * account has an empty login, so no hash is spent on it */
        json_decref(body);
        style(r)->refused(r, RF_CREDENTIALS, 0);
        return;
    }
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
        style(r)->refused(r, RF_LOCKED, wa > wi ? wa : wi);
        return;
    }
    rd_err e = store_auth_user_by_any_login(r->conn, r->app, login_c, r->a, &s->user);
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
            login_failed(r, s->account_key, s->addr_key, match ? RF_INACTIVE : RF_CREDENTIALS);
            return;
        }
        throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
        credentials_ok(r, s);
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
    finish(r, s, s->job.user.id, s->job.user.role, s->job.family, false);
}

/* The refresh token of a GET refresh (Zou): `Authorization: Bearer
 * <refresh token>`. NULL after answering when there is none. */
static const char *bearer_refresh(rq *r, size_t *n)
{
    const char *h = r->authorization;
    size_t hl = r->authorization_len;
    if (!h || hl < 8 || hl > AUTHN_MAX_HEADER || strncasecmp(h, "bearer ", 7) != 0) {
        unauthorized(r, "a refresh needs the refresh token (Authorization: Bearer <refresh token>)", false);
        return NULL;
    }
    h += 7;
    hl -= 7;
    while (hl && *h == ' ')
        h++, hl--;
    /* ours are base64url; a JWT (dots) is an access token sent by mistake */
    if (memchr(h, '.', hl)) {
        problem_send(r, style(r)->wrong_use, "Only refresh tokens are allowed", NULL);
        return NULL;
    }
    *n = hl;
    return h;
}

static void h_refresh(rq *r)
{
    const app_auth *au = r->app->auth;
    size_t n = 0;
    const char *tok = NULL;
    json_t *body = NULL;
    if (strcmp(au->refresh_method, "GET") == 0) {
        if (!(tok = bearer_refresh(r, &n)))
            return;
    } else {
        if (!(body = read_json(r)))
            return;
        tok = body_str(body, "refresh_token", &n);
    }
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
    s->job.keep = !au->refresh_rotate;
    submit_job(r, s, authdb_rotate, rotated);
}

static void revoked(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        problem_send(r, w->err, NULL, NULL);
        return;
    }
    set_session_cookie(r, NULL); /* auth.cookie: the browser forgets the session */
    style(r)->ok(r, "logout");
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

/* GET: {"authenticated": true, "user": ..., answer_row}. */
static void h_authenticated(rq *r)
{
    if (!authn_require(r))
        return;
    buf *b = arena_alloc(r->a, sizeof *b);
    buf_init(b, r->a, RD_MAX_RESPONSE);
    jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_keyz(&w, "authenticated");
    jw_bool(&w, true);
    if (!user_members(r, &w, r->user_id)) {
        unauthorized(r, "the signed-in user no longer exists", true);
        return;
    }
    jw_obj_end(&w);
    rq_header(r, "cache-control", "no-store");
    rq_respond(r, 200, "OK", "application/json", b);
}

/* ---- change of password ------------------------------------------------ */

/* What a change of password carries from the body to the hash and the
 * write. The work runs on the pool: verify the old password and, only when
 * it matches and the new one is acceptable, hash the new one. */
typedef struct pwchange {
    authdb_job job; /* first: the write's ctx (submit_job's rule) */
    pwjob hash;     /* password = the old one, hash = the stored one */
    char *old_pw, *new_pw;
    size_t old_len, new_len;
    const char *problem; /* the new password's problem, told only after the old one matched */
    const char *throttle_key;
    char new_hash[PWHASH_STRBYTES];
} pwchange;

static void pwchange_work(pwjob *j)
{
    pwchange *c = (pwchange *)((char *)j - offsetof(pwchange, hash)); /* j->user is rq_hash's */
    pwjob_verify(j);
    if (j->err == RD_OK && j->ok && !c->problem) {
        j->ok = pwhash_hash(c->new_pw, c->new_len, c->new_hash);
        if (!j->ok)
            j->err = RD_UNAVAILABLE;
    }
}

static void password_changed(rq *r, store_write *w)
{
    if (w->err != RD_OK) {
        problem_send(r, w->err == RD_NOT_FOUND ? RD_UNAUTHORIZED : w->err, NULL, NULL);
        return;
    }
    style(r)->ok(r, "success");
}

static void pwchange_checked(rq *r, pwjob *j)
{
    pwchange *c = (pwchange *)((char *)j - offsetof(pwchange, hash)); /* j->user is rq_hash's */
    sodium_memzero(c->old_pw, c->old_len);
    sodium_memzero(c->new_pw, c->new_len);
    if (j->err != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    if (!j->ok) {
        long lock = throttle_fail(r->authn->thr, c->throttle_key, strlen(c->throttle_key), &account_rule, time(NULL));
        if (lock)
            log_warn("msg=\"change of password locked\" peer=%s lock_sec=%ld", r->peer, lock);
        problem_send(r, RD_BAD_REQUEST, "Old password is wrong.", NULL);
        return;
    }
    throttle_clear(r->authn->thr, c->throttle_key, strlen(c->throttle_key));
    if (c->problem) {
        problem_send(r, RD_BAD_REQUEST, c->problem, NULL);
        return;
    }
    c->job.ap = r->app;
    c->job.now = (long long)time(NULL);
    c->job.user_id = r->user_id;
    c->job.family = r->token_sid; /* this session goes on; the others end */
    c->job.password_hash = c->new_hash;
    store_write *w = arena_zalloc(r->a, sizeof *w);
    w->op = STORE_RUN;
    w->run = authdb_change_password;
    w->revokes = true;
    w->ctx = c;
    w->a = r->a;
    _Static_assert(offsetof(pwchange, job) == 0, "ctx doubles as the authdb_job");
    if (rq_write(r, w, password_changed) != RD_OK)
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
}

/* POST {old_password, password, password_2}, signed in. Zou's order of
 * checks and messages: the old password first, then the new one's length,
 * then the confirmation. */
static void h_change_password(rq *r)
{
    const app_auth *au = r->app->auth;
    if (!authn_require(r))
        return;
    json_t *body = read_json(r);
    if (!body)
        return;
    size_t ol = 0, nl = 0, cl = 0;
    const char *old = body_str(body, "old_password", &ol);
    const char *pw = body_str(body, "password", &nl);
    const char *pw2 = body_str(body, "password_2", &cl);
    if (!old || !pw || !pw2) {
        json_decref(body);
        problem_send(r, RD_BAD_REQUEST, "a change of password needs 'old_password', 'password' and 'password_2'",
                     NULL);
        return;
    }
    pwchange *c = arena_zalloc(r->a, sizeof *c);
    c->throttle_key = arena_printf(r->a, "u:%s", r->user_id);
    long wait = throttle_wait(r->authn->thr, c->throttle_key, strlen(c->throttle_key), time(NULL));
    auth_user u = {0};
    rd_err e = wait ? RD_OK : store_auth_user_by_id(r->conn, r->app, r->user_id, r->a, &u);
    if (wait || e != RD_OK || !u.active) {
        json_decref(body);
        if (wait)
            rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
        problem_send(r, wait ? style(r)->locked : e == RD_OK || e == RD_NOT_FOUND ? RD_BAD_REQUEST : e,
                     wait ? "Too many failed attempts; try again later." : "User is unactive.", NULL);
        return;
    }
    /* counted in characters, as Zou's len() */
    size_t chars = 0;
    for (size_t i = 0; i < nl; i++)
        chars += ((unsigned char)pw[i] & 0xc0) != 0x80;
    if (chars < (size_t)au->min_password)
        c->problem = "Password is too short.";
    else if (nl > PWHASH_MAX_PASSWORD)
        c->problem = "Password is too long.";
    else if (nl != cl || memcmp(pw, pw2, nl) != 0)
        c->problem = "Confirmation password doesn't match.";
    c->old_len = ol > PWHASH_MAX_PASSWORD ? PWHASH_MAX_PASSWORD + 1 : ol;
    c->old_pw = arena_alloc(r->a, c->old_len + 1);
    memcpy(c->old_pw, old, c->old_len); /* an overlong one is refused by the verify, at the same cost */
    c->new_len = nl > PWHASH_MAX_PASSWORD ? 0 : nl;
    c->new_pw = arena_alloc(r->a, c->new_len + 1);
    memcpy(c->new_pw, pw, c->new_len);
    json_decref(body);
    c->hash.password = c->old_pw;
    c->hash.password_len = c->old_len;
    c->hash.hash = u.password_hash;
    c->hash.work = pwchange_work;
    if (rq_hash(r, &c->hash, pwchange_checked) != RD_OK) {
        sodium_memzero(c->old_pw, c->old_len);
        sodium_memzero(c->new_pw, c->new_len);
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
    }
}

/* ---- dispatch ----------------------------------------------------------- */

/* The method names an app file may give a route (app.c checks which). */
static const char *const method_text[] = {[M_GET] = "GET", [M_POST] = "POST"};

bool authn_route(rq *r)
{
    const app_auth *au = r->app->auth;
    if (!au)
        return false;
    if (mfa_route(r)) /* second factors and password reset (api/mfa.c) */
        return true;
    const struct {
        const char *name, *path, *method;
        void (*handler)(rq *);
    } routes[] = {
        {"login", au->login_path, au->login_method, h_login},
        {"refresh", au->refresh_path, au->refresh_method, h_refresh},
        {"logout", au->logout_path, au->logout_method, h_logout},
        {"authenticated", au->authenticated_path, au->authenticated_method, h_authenticated},
        {"change_password", au->change_password_path, au->change_password_method, h_change_password},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].path;
        if (!p || strlen(p) != r->path_len || memcmp(p, r->path, r->path_len) != 0)
            continue;
        const char *m = (size_t)r->method < sizeof method_text / sizeof method_text[0] ? method_text[r->method] : NULL;
        if (!m || strcmp(m, routes[i].method) != 0) {
            rq_header(r, "allow", routes[i].method);
            problem_send(r, RD_METHOD, arena_printf(r->a, "%s takes %s", routes[i].name, routes[i].method), NULL);
            return true;
        }
        routes[i].handler(r);
        return true;
    }
    /* features the app does not offer: the path and everything under it */
    for (size_t i = 0; i < au->n_off; i++) {
        size_t n = strlen(au->off_paths[i]);
        if (r->path_len >= n && memcmp(r->path, au->off_paths[i], n) == 0 &&
            (r->path_len == n || r->path[n] == '/')) {
            problem_send(r, RD_BAD_REQUEST, au->off_messages[i], NULL);
            return true;
        }
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
        unauthorized(r, je == AUTHJWT_EXPIRED ? style(r)->expired : "the token is not valid", true);
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

static void code_checked(rq *r, mfa_result res, void *ctx)
{
    session *s = ctx;
    switch (res) {
    case MFA_PASSED:
    case MFA_NONE:
        credentials_accepted(r, s);
        return;
    case MFA_MISSING: /* not counted: the password was right */
        unauthorized(r, "this account uses two-factor authentication: send the current code in the "
                        "x-two-factor-code header",
                     false);
        return;
    case MFA_REPLAYED:
        log_warn("msg=\"two-factor code replayed\" peer=%s", r->peer);
        credentials_failed(r, s, "the two-factor code was used before; send the next one");
        return;
    case MFA_WRONG:
        credentials_failed(r, s, "the two-factor code is not valid");
        return;
    case MFA_LOCKED:
        too_many(r, RD_MFA_LOCK_SEC);
        return;
    case MFA_BUSY:
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    case MFA_ERROR:
        break;
    }
    problem_send(r, RD_INTERNAL, NULL, NULL);
}

/* The password was right; an account with TOTP on (through the TOTP route
 * or `restd user totp`) also needs a current code in x-two-factor-code.
 * api/mfa.h checks it and spends it on the writer, so each code works once. */
static void second_factor(rq *r, session *s)
{
    size_t cl = 0;
    const char *code = rq_req_header(r, "x-two-factor-code", &cl);
    mfa_codes codes = {0};
    if (code && cl > 0) { /* any length: totp_verify takes only 6 digits */
        codes.totp = code;
        codes.totp_len = cl;
    }
    mfa_check(r, s->user.id, &codes, code_checked, s);
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

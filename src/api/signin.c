/*
 * The sign-in routes of apps with an `auth:` section (auth.routes: login,
 * refresh, logout, authenticated, change_password) and the shapes of
 * their answers (auth.style); see signin.h and docs/auth.md. Checking who
 * calls on every other request is authn.c's.
 *
 * Tokens: the access token is a JWT (auth/jwt.c) with sub = user id,
 * scope = role, sid = the refresh family, use = access. The refresh token
 * is 32 random bytes (base64url), stored only as its SHA-256, rotated on
 * every use; presenting an already-rotated one ends its whole family
 * (store/authdb.c).
 */
#include "api/signin.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/authhdr.h"
#include "api/authn_int.h"
#include "api/listq.h"
#include "api/mfa.h"
#include "rd_limits.h"
#include "json/jw.h"
#include "util/log.h"

static void set_session_cookie(rq *r, const char *token);

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
    if (why == RF_LOCKED)
        authn__too_many(r, wait);
    else
        authn__unauthorized(r, "invalid credentials", false);
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
    rd_err wrong_use;                     /* a refresh route given an access token */
    rd_err locked;                        /* too many wrong passwords at a change of password */
} authn_style;

static const authn_style styles[AS__COUNT] = {
    [AS_STANDARD] = {.refused = std_refused, .tokens = std_tokens, .ok = std_no_content,
                     .wrong_use = RD_UNAUTHORIZED, .locked = RD_TOO_MANY},
    /* gazu treats any status it does not know (429) as a success, hence
     * 400 for a lock */
    [AS_ZOU] = {.refused = zou_refused, .tokens = zou_tokens, .login_user = true, .ok = zou_true,
                .wrong_use = RD_WRONG_TOKEN, .locked = RD_BAD_REQUEST},
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

/* A failed login: counted, then refused in the app's answer style. */
static void login_failed(rq *r, const authn__session *s, refusal why)
{
    authn__count_failure(r, s);
    style(r)->refused(r, why, 0);
}

/* ---- sessions --------------------------------------------------------- */

typedef authn__session session;

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

/* The access token of a stored session, signed; NULL after answering 500. */
static char *sign_access(rq *r, const session *s, const char *user_id, const char *role, const char *family)
{
    const app_auth *au = r->app->auth;
    authjwt_claims c = {.iss = au->issuer, .aud = au->audience, .sub = user_id, .jti = s->jti, .sid = family,
                        .scope = role, .use = AUTHJWT_USE_ACCESS, .iat = s->job.now, .exp = s->job.access_exp};
    char *token = NULL;
    if (authjwt_issue(r->authn->keys, &c, r->a, &token) != AUTHJWT_OK) {
        problem_send(r, RD_INTERNAL, NULL, NULL);
        return NULL;
    }
    return token;
}

/* Sign the access token of a stored session and answer: a login (in Zou's
 * style with the user's row) or a refresh (without a refresh token when
 * it was not rotated). */
static void finish(rq *r, session *s, const char *user_id, const char *role, const char *family, bool login)
{
    char *token = sign_access(r, s, user_id, role, family);
    if (token)
        send_tokens(r, token, s->job.keep ? NULL : s->refresh, login && style(r)->login_user ? user_id : NULL);
}

static void login_stored(rq *r, store_write *w)
{
    session *s = w->ctx;
    if (w->err != RD_OK) {
        problem_send(r, w->err == RD_UNAVAILABLE ? RD_UNAVAILABLE : RD_INTERNAL, NULL, NULL);
        return;
    }
    if (!s->issued) {
        finish(r, s, s->user.id, s->user.role, s->family, true);
        return;
    }
    char *token = sign_access(r, s, s->user.id, s->user.role, s->family);
    if (token)
        s->issued(r, token, s->refresh, s->issued_ctx);
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

void signin_issue(rq *r, const char *user_id, const char *role,
                  void (*done)(rq *r, const char *access, const char *refresh, void *ctx), void *ctx)
{
    session *s = arena_zalloc(r->a, sizeof *s);
    s->user.id = user_id;
    s->user.role = role;
    s->issued = done;
    s->issued_ctx = ctx;
    start_session(r, s);
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

static void password_checked(rq *r, session *s, bool ok)
{
    if (!ok) {
        login_failed(r, s, RF_CREDENTIALS);
        return;
    }
    /* Zou tells an inactive account apart, but only after the password */
    if (!s->user.active) {
        login_failed(r, s, RF_INACTIVE);
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

static void h_login(rq *r)
{
    const app_auth *au = r->app->auth;
    json_t *body = api_json_object(r, false);
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
    long wait = 0;
    rd_err e = authn__find(r, s, login, ll, &wait);
    if (e != RD_OK) {
        json_decref(body);
        if (e == RD_TOO_MANY)
            style(r)->refused(r, RF_LOCKED, wait);
        else
            problem_send(r, e, NULL, NULL);
        return;
    }
    if (key) {
        /* API keys are random and long: a SHA-256 lookup is the check */
        char kh[AUTHSECRET_HASH_LEN + 1];
        authsecret_hash_token(key, kl, kh);
        json_decref(body);
        auth_user ku = {0};
        bool match = s->user.id && store_auth_user_by_key(r->conn, r->app, kh, r->a, &ku) == RD_OK &&
                     strcmp(ku.id, s->user.id) == 0;
        if (!match || !s->user.active) {
            login_failed(r, s, match ? RF_INACTIVE : RF_CREDENTIALS);
            return;
        }
        throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
        credentials_ok(r, s);
        return;
    }
    e = authn__check_password(r, s, pw, pl, password_checked); /* copies pw */
    json_decref(body);
    if (e != RD_OK)
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
}

static void rotated(rq *r, store_write *w)
{
    session *s = w->ctx;
    if (w->err == RD_UNAUTHORIZED || (w->err == RD_OK && !s->job.user.id)) {
        authn__unauthorized(r, w->detail ? w->detail : "the refresh token is not valid", true);
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
        authn__unauthorized(r, "a refresh needs the refresh token (Authorization: Bearer <refresh token>)", false);
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
        if (!(body = api_json_object(r, false)))
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
        json_t *body = api_json_object(r, false);
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
    if (r->authorization || (r->app->auth->scheme_cookie && authn__cookie(r, &cl, &refused))) {
        if (!authn_require(r))
            return;
        s->job.revoke_family = r->token_sid;
        s->job.revoke_jti = r->token_jti;
        s->job.revoke_jti_exp = r->token_exp;
    } else if (!s->job.presented_hash) {
        authn__unauthorized(r, "a logout needs a bearer token or a refresh_token", false);
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
        authn__unauthorized(r, "the signed-in user no longer exists", true);
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
        long lock = throttle_fail(r->authn->thr, c->throttle_key, strlen(c->throttle_key), &authn__account_rule,
                                  time(NULL));
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
    json_t *body = api_json_object(r, false);
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

bool signin_route(rq *r)
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

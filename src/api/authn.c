/*
 * Who is calling, on every request: the schemes an app lists (bearer,
 * token, credentials, cookie), the memory of revoked token ids, and the
 * per-model rights; see authn.h. The sign-in routes that issue tokens are
 * in signin.c.
 *
 * The access token is a JWT (auth/jwt.c) with sub = user id, scope =
 * role, sid = the refresh family, use = access. Password checks (the
 * credentials scheme, and the login route through authn__find and
 * authn__check_password) run on the hashing pool, never on the event
 * loop, and an unknown login costs the same hash as a known one.
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
#include "api/mfa.h"
#include "api/authn_int.h"
#include "rd_limits.h"
#include "util/log.h"

const throttle_rule authn__account_rule = {
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

void authn__unauthorized(rq *r, const char *detail, bool bad_token)
{
    rq_header(r, "www-authenticate", bad_token ? "Bearer error=\"invalid_token\"" : "Bearer");
    problem_send(r, RD_UNAUTHORIZED, detail, NULL);
}

/* ---- throttling -------------------------------------------------------- */

void authn__too_many(rq *r, long wait)
{
    rq_header(r, "retry-after", arena_printf(r->a, "%ld", wait));
    problem_send(r, RD_TOO_MANY, "too many failed sign-ins; try again later", NULL);
}

/* A failed sign-in (login route or credentials scheme) counts against the
 * login and the address. */
void authn__count_failure(rq *r, const authn__session *s)
{
    time_t now = time(NULL);
    long a = throttle_fail(r->authn->thr, s->account_key, strlen(s->account_key), &authn__account_rule, now);
    long b = throttle_fail(r->authn->thr, s->addr_key, strlen(s->addr_key), &addr_rule, now);
    if (a || b)
        log_warn("msg=\"sign-in locked\" peer=%s lock_sec=%ld", r->peer, a > b ? a : b);
}

/* A failed login: counted, then refused in the app's answer style. */
/* ---- a login's password --------------------------------------------- */

rd_err authn__find(rq *r, authn__session *s, const char *login, size_t len, long *wait)
{
    char *name = arena_strndup(r->a, login, len);
    s->account_key = arena_printf(r->a, "a:%s", name);
    s->addr_key = arena_printf(r->a, "i:%s", r->peer ? r->peer : "");
    time_t now = time(NULL);
    long wa = throttle_wait(r->authn->thr, s->account_key, strlen(s->account_key), now);
    long wi = throttle_wait(r->authn->thr, s->addr_key, strlen(s->addr_key), now);
    if (wa || wi) {
        *wait = wa > wi ? wa : wi;
        return RD_TOO_MANY;
    }
    rd_err e = store_auth_user_by_any_login(r->conn, r->app, name, r->a, &s->user);
    if (e == RD_NOT_FOUND)
        s->user.id = NULL;
    return e == RD_NOT_FOUND ? RD_OK : e;
}

static void password_checked(rq *r, pwjob *j)
{
    authn__session *s = (authn__session *)((char *)j - offsetof(authn__session, hash));
    sodium_memzero(s->password, s->password_len);
    if (j->err != RD_OK) {
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
        return;
    }
    s->checked(r, s, j->ok && s->user.id);
}

rd_err authn__check_password(rq *r, authn__session *s, const char *pw, size_t len, authn__checked done)
{
    s->password = arena_strndup(r->a, pw, len);
    s->password_len = len;
    s->checked = done;
    s->hash.password = s->password;
    s->hash.password_len = len;
    s->hash.hash = s->user.id ? s->user.password_hash : NULL;
    /* no account or no password set: the same work, then a refusal */
    s->hash.work = s->hash.hash ? pwjob_verify : pwjob_dummy;
    rd_err e = rq_hash(r, &s->hash, password_checked);
    if (e != RD_OK)
        sodium_memzero(s->password, s->password_len);
    return e;
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
        authn__unauthorized(r, "the API key is not valid", true);
        return false;
    }
    r->user_id = u.id;
    r->user_role = u.role;
    return true;
}

/* The detail for an expired access token, by answer style: gazu refreshes
 * on exactly Zou's text. */
static const char *const expired_detail[AS__COUNT] = {
    [AS_STANDARD] = "the token has expired",
    [AS_ZOU] = "Signature has expired",
};

/* An access token (bearer or cookie): a JWT for this app, not revoked. */
static bool access_token_caller(rq *r, const char *tok, size_t n)
{
    const app_auth *au = r->app->auth;
    authjwt_expect ex = {.iss = au->issuer, .aud = au->audience, .use = AUTHJWT_USE_ACCESS, .leeway = AUTHN_LEEWAY};
    authjwt_claims c;
    authjwt_err je = authjwt_verify(r->authn->keys, tok, n, &ex, time(NULL), r->a, &c);
    if (je != AUTHJWT_OK) {
        log_info("msg=\"token refused\" reason=%s", authjwt_strerror(je));
        authn__unauthorized(r, je == AUTHJWT_EXPIRED ? expired_detail[au->style] : "the token is not valid", true);
        return false;
    }
    if (!jti_current(r, c.jti)) {
        authn__unauthorized(r, "the token has been revoked", true);
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
static void credentials_failed(rq *r, const authn__session *s, const char *detail)
{
    authn__count_failure(r, s);
    authn__unauthorized(r, detail, false);
}

/* The caller is known: record it and dispatch the request again; this
 * time authn_require finds r->user_id set and lets it through. */
static void credentials_accepted(rq *r, authn__session *s)
{
    throttle_clear(r->authn->thr, s->account_key, strlen(s->account_key));
    r->user_id = s->user.id;
    r->user_role = s->user.role;
    api_handle(r);
}

static void code_checked(rq *r, mfa_result res, void *ctx)
{
    authn__session *s = ctx;
    switch (res) {
    case MFA_PASSED:
    case MFA_NONE:
        credentials_accepted(r, s);
        return;
    case MFA_MISSING: /* not counted: the password was right */
        authn__unauthorized(r, "this account uses two-factor authentication: send the current code in the "
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
        authn__too_many(r, RD_MFA_LOCK_SEC);
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
static void second_factor(rq *r, authn__session *s)
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

static void credentials_checked(rq *r, authn__session *s, bool ok)
{
    /* one answer for unknown login, wrong password and inactive account */
    if (!ok || !s->user.active) {
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
        authn__unauthorized(r, "the Authorization header must be 'credentials u:<login> pwd:<password>'", true);
        return false;
    }
    size_t kl = 0;
    const char *key = app_key_of(r, &kl);
    if (!key || kl == 0) {
        authn__unauthorized(r, "the credentials scheme needs the application's API key (x-api_key header or api_key "
                        "query parameter)",
                     false);
        return false;
    }
    auth_user ku = {0};
    char kh[AUTHSECRET_HASH_LEN + 1];
    if (kl <= RD_MAX_API_KEY)
        authsecret_hash_token(key, kl, kh);
    if (kl > RD_MAX_API_KEY || store_auth_user_by_key(r->conn, r->app, kh, r->a, &ku) != RD_OK || !ku.active) {
        authn__unauthorized(r, "the API key is not valid", true);
        return false;
    }
    authn__session *s = arena_zalloc(r->a, sizeof *s);
    long wait = 0;
    rd_err e = authn__find(r, s, login_s, ul, &wait);
    if (e == RD_TOO_MANY)
        authn__too_many(r, wait);
    else if (e != RD_OK)
        problem_send(r, e, NULL, NULL);
    else if (authn__check_password(r, s, pw, pl, credentials_checked) != RD_OK)
        problem_send(r, RD_UNAVAILABLE, "the server is busy; retry shortly", NULL);
    return false;
}

/* ---- the session cookie ------------------------------------------------ */

const char *authn__cookie(rq *r, size_t *n, bool *refused)
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
    authn__unauthorized(r, arena_printf(r->a, "the Authorization header must be %s", forms ? forms : "absent (cookie)"),
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
        const char *c = au->scheme_cookie ? authn__cookie(r, &cl, &refused) : NULL;
        if (c && cl)
            return cookie_caller(r, c, cl);
        authn__unauthorized(r,
                     refused ? "the Cookie header is malformed, too large or names the session cookie twice"
                     : au->scheme_bearer ? "this route needs a bearer token (Authorization: Bearer ...)"
                                         : "this route needs an Authorization header",
                     refused);
        return false;
    }
    if (n > AUTHN_MAX_HEADER) {
        authn__unauthorized(r, "the Authorization header is too large", true);
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

/* The account commands: restd user ..., restd apikey ...; see account.h. */
#include "cli/account.h"
#include "cli/common.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/listq.h"
#include "api/validate.h"
#include "app/app.h"
#include "auth/pwhash.h"
#include "auth/secret.h"
#include "auth/totp.h"
#include "json/jin.h"
#include "store/authdb.h"
#include "store/mfadb.h"
#include "store/store.h"
#include "util/mem.h"
#include "util/text.h"

#define PASSWORD_MIN 8
#define GENERATED_PASSWORD_BYTES 18 /* 24 base64url characters, 144 bits */
#define API_KEY_PREFIX "rk_"
#define API_KEY_BYTES 24            /* 32 base64url characters, 192 bits */
#define LABEL_MAX 200

/* ---- messages ----------------------------------------------------------- */

/* ---- the app and the store ------------------------------------------------ */

typedef struct cli {
    const cli_account_opts *o;
    app *ap;
    const app_auth *au;
    store *st;
    store_conn *conn;
    arena *a;
} cli;

/* Load the app and insist on its auth: section. Returns an exit status. */
static int load_app(cli *c)
{
    c->ap = cli_load_app(c->o->app);
    if (!c->ap)
        return 1;
    c->au = c->ap->auth;
    if (!c->au)
        return cli_fail("%s/app.yaml: the app has no auth section, so it has no users or API keys", c->o->app);
    return 0;
}

static int open_store(cli *c)
{
    char *msg = NULL;
    c->st = store_open(c->o->db, c->ap, &msg);
    if (!c->st) {
        int rc = cli_fail("%s", msg ? msg : "cannot open the database");
        free(msg);
        return rc;
    }
    c->conn = store_conn_open(c->st);
    return 0;
}

static void cli_close(cli *c)
{
    if (c->conn)
        store_conn_close(c->conn);
    store_close(c->st);
    app_free(c->ap);
    arena_free(c->a);
    arena_spares_release();
}

/* The user whose login is c->o->arg; an exit status. */
static int find_user(cli *c, auth_user *u)
{
    rd_err e = store_auth_user_by_login(c->conn, c->ap, c->o->arg, c->a, u);
    if (e == RD_NOT_FOUND)
        return cli_fail("no user with %s '%s' (model %s)", c->au->login->json_name, c->o->arg, c->au->users->name);
    if (e != RD_OK)
        return cli_fail("cannot read the database (%s)", c->o->db);
    return 0;
}

/* ---- writes: submit and wait ------------------------------------------- */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} waiter;

/* On the writer thread: only hand the job back. */
static void job_done(store_write *w)
{
    waiter *wt = w->user;
    pthread_mutex_lock(&wt->mu);
    wt->done = true;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

/* Submit w and wait until it is committed (or failed); returns w->err. */
static rd_err write_and_wait(cli *c, store_write *w)
{
    waiter wt = {.done = false};
    pthread_mutex_init(&wt.mu, NULL);
    pthread_cond_init(&wt.cv, NULL);
    w->a = c->a;
    w->done = job_done;
    w->user = &wt;
    rd_err e = store_submit(c->st, w);
    if (e == RD_OK) {
        pthread_mutex_lock(&wt.mu);
        while (!wt.done)
            pthread_cond_wait(&wt.cv, &wt.mu);
        pthread_mutex_unlock(&wt.mu);
        e = w->err;
    } else {
        w->err = e;
        w->detail = "the database is not taking writes";
    }
    pthread_mutex_destroy(&wt.mu);
    pthread_cond_destroy(&wt.cv);
    return e;
}

/* A STORE_RUN job for one of the authdb_* functions. */
static rd_err run_auth(cli *c, bool (*fn)(sqlite3 *, store_write *), authdb_job *j, const char **detail)
{
    store_write *w = arena_zalloc(c->a, sizeof *w);
    j->ap = c->ap;
    j->now = (long long)time(NULL);
    w->op = STORE_RUN;
    w->run = fn;
    w->ctx = j;
    rd_err e = write_and_wait(c, w);
    *detail = w->detail;
    return e;
}

static int write_failed(const char *what, rd_err e, const char *detail)
{
    if (detail)
        return cli_fail("%s: %s", what, detail);
    return cli_fail("%s: %s", what, rd_err_get(e)->title);
}

/* ---- secrets ------------------------------------------------------------ */

/* One line of stdin (the newline, or CR LF, removed) into pw, which holds
 * PWHASH_MAX_PASSWORD + 1 bytes. Read byte by byte with read(2), so no
 * stdio buffer keeps a copy and nothing past the line is consumed.
 * Returns an exit status. */
static int read_password(char *pw, size_t *len)
{
    size_t n = 0;
    bool line_end = false;
    for (;;) {
        char ch;
        ssize_t r = read(STDIN_FILENO, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sodium_memzero(pw, n);
            return cli_fail("cannot read the password from stdin: %s", strerror(errno));
        }
        if (r == 0)
            break;
        if (ch == '\n') {
            line_end = true;
            break;
        }
        if (n == PWHASH_MAX_PASSWORD) {
            sodium_memzero(pw, n);
            return cli_fail("the password on stdin is longer than %d bytes", PWHASH_MAX_PASSWORD);
        }
        pw[n++] = ch;
    }
    if (line_end && n > 0 && pw[n - 1] == '\r')
        n--;
    pw[n] = '\0';
    *len = n;
    const char *why = NULL;
    if (n == 0 && !line_end)
        why = "no password on stdin (--password-stdin reads one line)";
    else if (n < PASSWORD_MIN)
        why = "the password on stdin is shorter than 8 bytes";
    else if (memchr(pw, '\0', n))
        why = "the password on stdin contains a NUL byte";
    else if (!text_utf8_valid(pw, n))
        why = "the password on stdin is not valid UTF-8 (a login could not send it)";
    if (why) {
        sodium_memzero(pw, n);
        return cli_fail("%s", why);
    }
    return 0;
}

/* The password to set: from stdin, or generated (*generated then points to
 * it, in c->a, to print once). Hashes it into hash. Returns an exit status;
 * the plain text is wiped except for a generated one. */
static int get_password_hash(cli *c, char hash[PWHASH_STRBYTES], char **generated)
{
    *generated = NULL;
    char *pw = arena_alloc(c->a, PWHASH_MAX_PASSWORD + 1);
    size_t len;
    if (c->o->password_stdin) {
        int rc = read_password(pw, &len);
        if (rc)
            return rc;
    } else {
        *generated = authsecret_random_token(GENERATED_PASSWORD_BYTES, c->a);
        len = strlen(*generated);
        memcpy(pw, *generated, len + 1);
    }
    bool ok = pwhash_hash(pw, len, hash);
    sodium_memzero(pw, len);
    if (!ok) {
        if (*generated)
            sodium_memzero(*generated, strlen(*generated));
        *generated = NULL;
        return cli_fail("%s", "cannot hash the password (out of memory)");
    }
    return 0;
}

static void wipe(char *s)
{
    if (s)
        sodium_memzero(s, strlen(s));
}

/* Print and flush; a secret shown once must really have been written. */
__attribute__((format(printf, 1, 2))) static int say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail("cannot write to stdout: %s", strerror(errno));
    return 0;
}

/* ---- restd user ... -------------------------------------------------------- */

/* The login value among the row's columns (validated text), or NULL. */
static const char *login_of(const app_auth *au, const rowvals *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->fields[i] == au->login && v->vals[i].kind == SV_TEXT)
            return v->vals[i].s;
    return NULL;
}

static int user_add(cli *c)
{
    const app_model *m = c->au->users;
    const char *msg = NULL;
    json_t *body = jin_parse(c->o->arg, strlen(c->o->arg), c->a, &msg);
    if (!body)
        return cli_fail("the %s's fields are not valid JSON: %s", m->name, msg);
    store_write *w = arena_zalloc(c->a, sizeof *w);
    verrs errs = {0};
    rd_err e = val_body(c->ap, m, body, VAL_CREATE, c->a, &w->vals, &errs);
    /* as the API's default (latest) version takes them */
    int version = c->ap->versions[c->ap->n_versions - 1];
    for (size_t i = 0; json_is_object(body) && i < m->n_fields; i++) {
        const app_field *f = &m->fields[i];
        if (!listq_visible(f, version) && json_object_get(body, f->json_name))
            verrs_add(&errs, c->a, f->json_name,
                      arena_printf(c->a, "The field '%s' is not part of %s in API version %d.", f->json_name,
                                   m->name, version));
    }
    json_decref(body);
    if (e != RD_OK || errs.n) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s: %s\n", errs.items[i].key, errs.items[i].msg);
        return 1;
    }
    const char *login = login_of(c->au, &w->vals);
    if (!login)
        return cli_fail("the %s's %s is required to sign in", m->name, c->au->login->json_name);

    char hash[PWHASH_STRBYTES];
    char *generated = NULL;
    int rc = get_password_hash(c, hash, &generated);
    if (!rc)
        rc = open_store(c);
    if (rc) {
        wipe(generated);
        return rc;
    }
    w->op = STORE_CREATE;
    w->model = m;
    e = write_and_wait(c, w);
    if (e != RD_OK) {
        wipe(generated);
        return write_failed("cannot create the user", e, w->detail);
    }
    const char *id = w->new_id;
    authdb_job *j = arena_zalloc(c->a, sizeof *j);
    j->user_id = id;
    j->password_hash = hash;
    const char *detail = NULL;
    e = run_auth(c, authdb_set_password, j, &detail);
    if (e != RD_OK) {
        wipe(generated);
        /* no user without a password: take the row back */
        store_write *del = arena_zalloc(c->a, sizeof *del);
        del->op = STORE_DELETE;
        del->model = m;
        del->id = id;
        bool undone = write_and_wait(c, del) == RD_OK;
        write_failed("cannot set the password", e, detail);
        if (!undone)
            fprintf(stderr, "restd: user %s (%s) was created without a password; set one with "
                            "'restd user passwd'\n", id, login);
        return 1;
    }
    if (generated)
        rc = say("created user %s (%s); password: %s\n", id, login, generated);
    else
        rc = say("created user %s (%s)\n", id, login);
    wipe(generated);
    return rc;
}

static int user_passwd(cli *c)
{
    char hash[PWHASH_STRBYTES];
    auth_user u;
    int rc;
    /* stdin first: a bad password fails before anything is opened */
    char *pw = NULL;
    size_t len = 0;
    if (c->o->password_stdin) {
        pw = arena_alloc(c->a, PWHASH_MAX_PASSWORD + 1);
        if ((rc = read_password(pw, &len)))
            return rc;
    }
    if ((rc = open_store(c)) || (rc = find_user(c, &u))) {
        if (pw)
            sodium_memzero(pw, len);
        return rc;
    }
    char *generated = NULL;
    if (!pw) {
        generated = authsecret_random_token(GENERATED_PASSWORD_BYTES, c->a);
        pw = generated;
        len = strlen(generated);
    }
    bool ok = pwhash_hash(pw, len, hash);
    if (!generated)
        sodium_memzero(pw, len);
    if (!ok) {
        wipe(generated);
        return cli_fail("%s", "cannot hash the password (out of memory)");
    }
    authdb_job *j = arena_zalloc(c->a, sizeof *j);
    j->user_id = u.id;
    j->password_hash = hash;
    const char *detail = NULL;
    rd_err e = run_auth(c, authdb_set_password, j, &detail);
    if (e != RD_OK) {
        wipe(generated);
        return write_failed("cannot set the password", e, detail);
    }
    if (generated)
        rc = say("new password for user %s (%s): %s\n", u.id, c->o->arg, generated);
    else
        rc = say("password set for user %s (%s)\n", u.id, c->o->arg);
    wipe(generated);
    return rc;
}

static int user_set_disabled(cli *c, bool disable)
{
    auth_user u;
    int rc;
    if ((rc = open_store(c)) || (rc = find_user(c, &u)))
        return rc;
    authdb_job *j = arena_zalloc(c->a, sizeof *j);
    j->user_id = u.id;
    j->disable = disable;
    const char *detail = NULL;
    rd_err e = run_auth(c, authdb_set_disabled, j, &detail);
    if (e != RD_OK)
        return write_failed(disable ? "cannot disable the user" : "cannot enable the user", e, detail);
    return say("%s user %s (%s)%s\n", disable ? "disabled" : "enabled", u.id, c->o->arg,
               disable ? "; their sessions are ended" : "");
}

/* restd user totp LOGIN: turn on TOTP with a new secret, printed once with
 * its otpauth:// URI (a later call replaces the secret). It goes into the
 * same tables as the TOTP route (store/mfadb.h), so from then on both the
 * login's second step and the credentials scheme's x-two-factor-code
 * header need a code from it. */
static int user_totp(cli *c)
{
    auth_user u;
    int rc;
    if ((rc = open_store(c)) || (rc = find_user(c, &u)))
        return rc;
    char secret[TOTP_SECRET_B32_LEN + 1];
    totp_secret_new(secret);
    mfadb_job *j = arena_zalloc(c->a, sizeof *j);
    j->ap = c->ap;
    j->now = (long long)time(NULL);
    j->user_id = u.id;
    j->secret = secret;
    store_write *w = arena_zalloc(c->a, sizeof *w);
    w->op = STORE_RUN;
    w->run = mfadb_totp_set;
    w->ctx = j;
    rd_err e = write_and_wait(c, w);
    const char *detail = w->detail;
    const char *uri = e == RD_OK ? totp_uri(c->ap->name, c->o->arg, secret, c->a) : NULL;
    rc = e != RD_OK ? write_failed("cannot turn on TOTP", e, detail)
                    : say("totp for %s: secret %s\n%s\n", c->o->arg, secret, uri ? uri : "");
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int cli_user(const char *sub, const cli_account_opts *o)
{
    enum { ADD, PASSWD, DISABLE, ENABLE, TOTP } which;
    if (strcmp(sub, "add") == 0)
        which = ADD;
    else if (strcmp(sub, "passwd") == 0)
        which = PASSWD;
    else if (strcmp(sub, "disable") == 0)
        which = DISABLE;
    else if (strcmp(sub, "enable") == 0)
        which = ENABLE;
    else if (strcmp(sub, "totp") == 0)
        which = TOTP;
    else
        return cli_usage("unknown command 'user %s' (add, passwd, disable, enable or totp)", sub);
    if (!o->arg)
        return cli_usage("'restd user %s' needs %s", sub,
                         which == ADD ? "the user's fields as a JSON object" : "a LOGIN");
    if (o->password_stdin && which != ADD && which != PASSWD)
        return cli_usage("option '--password-stdin' does not apply to 'restd user %s'", sub);
    if (o->label)
        return cli_usage("option '--label' does not apply to 'restd user %s'", sub);

    cli c = {.o = o, .a = arena_new()};
    int rc = load_app(&c);
    if (!rc) {
        switch (which) {
        case ADD:
            rc = user_add(&c);
            break;
        case PASSWD:
            rc = user_passwd(&c);
            break;
        case DISABLE:
        case ENABLE:
            rc = user_set_disabled(&c, which == DISABLE);
            break;
        case TOTP:
            rc = user_totp(&c);
            break;
        }
    }
    cli_close(&c);
    return rc;
}

/* ---- restd apikey ... ---------------------------------------------------- */

static void iso_utc(long long t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", t);
}

/* A label as one column: control characters shown as '?'. */
static void print_label(const char *s)
{
    if (!*s) {
        fputc('-', stdout);
        return;
    }
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, stdout);
}

static int key_create(cli *c)
{
    auth_user u;
    int rc;
    if ((rc = open_store(c)) || (rc = find_user(c, &u)))
        return rc;
    char *token = authsecret_random_token(API_KEY_BYTES, c->a);
    char *key = arena_printf(c->a, "%s%s", API_KEY_PREFIX, token);
    wipe(token);
    char key_hash[AUTHSECRET_HASH_LEN + 1];
    authsecret_hash_token(key, strlen(key), key_hash);
    char *id = arena_alloc(c->a, 37);
    store_new_id(id);
    authdb_job *j = arena_zalloc(c->a, sizeof *j);
    j->user_id = u.id;
    j->key_id = id;
    j->key_hash = key_hash;
    j->key_label = c->o->label;
    const char *detail = NULL;
    rd_err e = run_auth(c, authdb_key_create, j, &detail);
    if (e != RD_OK) {
        wipe(key);
        return write_failed("cannot create the API key", e, detail);
    }
    rc = say("api key %s for %s: %s\n", id, c->o->arg, key);
    wipe(key);
    return rc;
}

static int key_revoke(cli *c)
{
    int rc = open_store(c);
    if (rc)
        return rc;
    authdb_job *j = arena_zalloc(c->a, sizeof *j);
    j->key_id = c->o->arg;
    const char *detail = NULL;
    rd_err e = run_auth(c, authdb_key_revoke, j, &detail);
    if (e == RD_NOT_FOUND)
        return cli_fail("no active API key with id '%s'", c->o->arg);
    if (e != RD_OK)
        return write_failed("cannot revoke the API key", e, detail);
    return say("revoked api key %s\n", c->o->arg);
}

static int key_list(cli *c)
{
    auth_user u;
    int rc;
    if ((rc = open_store(c)) || (rc = find_user(c, &u)))
        return rc;
    auth_key *keys;
    size_t n;
    if (store_auth_keys_list(c->conn, u.id, c->a, &keys, &n) != RD_OK)
        return cli_fail("cannot read the database (%s)", c->o->db);
    printf("ID\tLABEL\tCREATED\tSTATUS\n");
    for (size_t i = 0; i < n; i++) {
        char created[32], revoked[32];
        iso_utc(keys[i].created_at, created);
        printf("%s\t", keys[i].id);
        print_label(keys[i].label);
        if (keys[i].revoked) {
            iso_utc(keys[i].revoked_at, revoked);
            printf("\t%s\trevoked %s\n", created, revoked);
        } else {
            printf("\t%s\tactive\n", created);
        }
    }
    return say("%s", "");
}

int cli_apikey(const char *sub, const cli_account_opts *o)
{
    enum { CREATE, REVOKE, LIST } which;
    if (strcmp(sub, "create") == 0)
        which = CREATE;
    else if (strcmp(sub, "revoke") == 0)
        which = REVOKE;
    else if (strcmp(sub, "list") == 0)
        which = LIST;
    else
        return cli_usage("unknown command 'apikey %s' (create, revoke or list)", sub);
    if (!o->arg)
        return cli_usage("'restd apikey %s' needs %s", sub, which == REVOKE ? "a KEY_ID" : "a LOGIN");
    if (o->password_stdin)
        return cli_usage("option '--password-stdin' does not apply to 'restd apikey %s'", sub);
    if (o->label && which != CREATE)
        return cli_usage("option '--label' does not apply to 'restd apikey %s'", sub);
    if (o->label) {
        size_t n = strlen(o->label);
        if (n > LABEL_MAX || !text_utf8_valid(o->label, n))
            return cli_usage("--label must be UTF-8 text of at most %d bytes", LABEL_MAX);
        for (const char *p = o->label; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return cli_usage("%s", "--label must not contain control characters");
    }

    cli c = {.o = o, .a = arena_new()};
    int rc = load_app(&c);
    if (!rc) {
        switch (which) {
        case CREATE:
            rc = key_create(&c);
            break;
        case REVOKE:
            rc = key_revoke(&c);
            break;
        case LIST:
            rc = key_list(&c);
            break;
        }
    }
    cli_close(&c);
    return rc;
}

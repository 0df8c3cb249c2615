/*
 * restd's command line: serve, check, the account commands (user, apikey;
 * cli/account.c), --help, --version. Options come from flags first, then
 * RESTD_* environment variables, then defaults. A bad option or value exits
 * 2 with a message; a bad app file (or a failed account command) exits 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/authn.h"
#include "api/mfa.h"
#include "auth/mail.h"
#include "api/query.h"
#include "api/seed.h"
#include "app/app.h"
#include "cli/account.h"
#include "cli/common.h"
#include "http/server.h"
#include "store/store.h"
#include "util/log.h"

static const char usage[] =
    "usage: restd serve [--app DIR] [--db URL] [--listen HOST:PORT] [--workers N] [--log-level LEVEL]\n"
    "                   [--smtp-url URL --mail-from ADDRESS]\n"
    "       restd check --app DIR\n"
    "       restd user add --app DIR [--db URL] [--password-stdin] JSON\n"
    "       restd user passwd --app DIR [--db URL] [--password-stdin] LOGIN\n"
    "       restd user disable|enable --app DIR [--db URL] LOGIN\n"
    "       restd user totp --app DIR [--db URL] LOGIN\n"
    "       restd apikey create --app DIR [--db URL] [--label TEXT] LOGIN\n"
    "       restd apikey revoke --app DIR [--db URL] KEY_ID\n"
    "       restd apikey list --app DIR [--db URL] LOGIN\n"
    "       restd --help | --version\n"
    "\n"
    "commands:\n"
    "  serve          serve the app's API over HTTP until SIGTERM/SIGINT\n"
    "  check          validate DIR/app.yaml and print every problem with its location\n"
    "  user add       create a user from JSON fields (as the API takes them) and set a password\n"
    "  user passwd    set a user's password\n"
    "  user disable   stop a user from signing in and end their sessions; enable undoes it\n"
    "  user totp      turn on TOTP two-factor codes for a user; the secret is printed once\n"
    "  apikey create  make an API key for a user; the key is printed once, only its hash is kept\n"
    "  apikey revoke  revoke an API key by its id\n"
    "  apikey list    list a user's API keys: id, label, created, active or revoked\n"
    "  (the user and apikey commands need an app with an auth: section; without\n"
    "  --password-stdin a random password is generated and printed once)\n"
    "\n"
    "options (environment variable in brackets):\n"
    "  --app DIR          app folder holding app.yaml [RESTD_APP] (required)\n"
    "  --db URL           database: sqlite:PATH or a plain path [RESTD_DB] (default sqlite:data/restd.db)\n"
    "  --listen HOST:PORT address to listen on [RESTD_LISTEN] (default 127.0.0.1:8080)\n"
    "  --workers N        event-loop threads, 1-64 [RESTD_WORKERS] (default: number of CPUs)\n"
    "  --log-level LEVEL  error, warn, info or debug [RESTD_LOG_LEVEL] (default info; warn for user/apikey)\n"
    "  --smtp-url URL     serve: send mail (one-time codes, reset tokens) via smtp:// or smtps:// URL\n"
    "                     [RESTD_SMTP_URL] (default: none; such mails are dropped with a warning)\n"
    "  --mail-from ADDR   serve: the sender address of those mails [RESTD_MAIL_FROM] (needed with --smtp-url)\n"
    "  --password-stdin   user add/passwd: read the password from stdin (one line, 8-1024 bytes)\n"
    "  --label TEXT       apikey create: a note kept with the key (at most 200 bytes)\n";

typedef struct opts {
    const char *app, *db, *listen, *workers, *log_level, *password_stdin, *label;
    const char *smtp_url, *mail_from;
    const char *arg; /* the one positional argument (user/apikey commands) */
} opts;

/* Which commands take an option (and read its environment variable). */
enum { C_SERVE = 1, C_CHECK = 2, C_USER = 4, C_APIKEY = 8 };

static const struct {
    const char *flag;
    const char *env; /* NULL: none */
    size_t off;
    unsigned cmds;
    bool is_switch; /* takes no value; set to "1" when given */
} option_table[] = {
    {"--app", "RESTD_APP", offsetof(opts, app), C_SERVE | C_CHECK | C_USER | C_APIKEY, false},
    {"--db", "RESTD_DB", offsetof(opts, db), C_SERVE | C_CHECK | C_USER | C_APIKEY, false},
    {"--listen", "RESTD_LISTEN", offsetof(opts, listen), C_SERVE | C_CHECK, false},
    {"--workers", "RESTD_WORKERS", offsetof(opts, workers), C_SERVE | C_CHECK, false},
    {"--log-level", "RESTD_LOG_LEVEL", offsetof(opts, log_level), C_SERVE | C_CHECK | C_USER | C_APIKEY, false},
    {"--password-stdin", NULL, offsetof(opts, password_stdin), C_USER, true},
    {"--label", NULL, offsetof(opts, label), C_APIKEY, false},
    {"--smtp-url", "RESTD_SMTP_URL", offsetof(opts, smtp_url), C_SERVE | C_CHECK, false},
    {"--mail-from", "RESTD_MAIL_FROM", offsetof(opts, mail_from), C_SERVE | C_CHECK, false},
};
#define N_OPTIONS (sizeof option_table / sizeof option_table[0])

/* Parse flags (either "--x v" or "--x=v") over environment defaults, for
 * the command cmd (C_*) called name. Commands with a positional argument
 * (user, apikey) take exactly one, in o->arg; "--" ends the options. */
static int parse_opts(int argc, char **argv, opts *o, unsigned cmd, const char *name)
{
    bool positional = cmd & (C_USER | C_APIKEY);
    for (size_t k = 0; k < N_OPTIONS; k++) {
        if (!option_table[k].env || !(option_table[k].cmds & cmd))
            continue;
        const char *env = getenv(option_table[k].env);
        if (env && *env)
            *(const char **)((char *)o + option_table[k].off) = env;
    }
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (positional && (options_done || a[0] != '-' || strcmp(a, "-") == 0)) {
            if (o->arg)
                return cli_usage("'restd %s' takes one argument; '%s' is one too many", name, a);
            o->arg = a;
            continue;
        }
        if (positional && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        size_t k;
        const char *val = NULL;
        for (k = 0; k < N_OPTIONS; k++) {
            size_t fl = strlen(option_table[k].flag);
            if (strncmp(a, option_table[k].flag, fl) == 0 && (a[fl] == '\0' || a[fl] == '=')) {
                if (!(option_table[k].cmds & cmd))
                    return cli_usage("option '%s' does not apply to 'restd %s'", option_table[k].flag, name);
                if (option_table[k].is_switch) {
                    if (a[fl] == '=')
                        return cli_usage("option '%s' takes no value", option_table[k].flag);
                    val = "1";
                } else if (a[fl] == '=')
                    val = a + fl + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return cli_usage("option '%s' needs a value", option_table[k].flag);
                break;
            }
        }
        if (k == N_OPTIONS)
            return cli_usage("unknown option '%s'", a);
        *(const char **)((char *)o + option_table[k].off) = val;
    }
    return 0;
}

static const char *db_path(const char *url)
{
    if (strncmp(url, "sqlite://", 9) == 0)
        return url + 9;
    if (strncmp(url, "sqlite:", 7) == 0)
        return url + 7;
    if (strstr(url, "://"))
        return NULL; /* postgres://... and others: not built yet */
    return url;
}

static int cmd_check(opts *o)
{
    if (!o->app)
        return cli_usage("%s", "check needs --app DIR");
    app *a = cli_load_app(o->app);
    if (!a)
        return 1;
    arena *sa = arena_new();
    store_write *seed = NULL;
    char *msg = NULL;
    bool ok = seed_load(a, o->app, sa, &seed, &msg);
    arena_free(sa);
    if (!ok) {
        fprintf(stderr, "%s\n", msg);
        free(msg);
        app_free(a);
        return 1;
    }
    printf("%s/app.yaml: ok (%zu models)\n", o->app, a->n_models);
    app_free(a);
    return 0;
}

/* restd user SUB ... / restd apikey SUB ...: argv[0] is "user" or "apikey". */
static int cmd_account(int argc, char **argv)
{
    bool user = strcmp(argv[0], "user") == 0;
    if (argc < 2 || argv[1][0] == '-')
        return cli_usage("'restd %s' needs a subcommand: %s", argv[0],
                   user ? "add, passwd, disable, enable or totp" : "create, revoke or list");
    char name[64];
    snprintf(name, sizeof name, "%s %s", argv[0], argv[1]);
    opts o = {0};
    int rc = parse_opts(argc - 2, argv + 2, &o, user ? C_USER : C_APIKEY, name);
    if (rc)
        return rc;
    if (!o.app)
        return cli_usage("'restd %s' needs --app DIR (or RESTD_APP)", name);
    const char *db = db_path(o.db ? o.db : "sqlite:data/restd.db");
    if (!db || !*db)
        return cli_usage("unsupported database URL '%s' (only sqlite:PATH is built in)", o.db);
    log_level lv = LOG_WARN;
    if (o.log_level && !log_level_parse(o.log_level, &lv))
        return cli_usage("--log-level must be error, warn, info or debug, not '%s'", o.log_level);
    log_threshold = lv;
    cli_account_opts ao = {
        .app = o.app, .db = db, .password_stdin = o.password_stdin != NULL, .label = o.label, .arg = o.arg};
    return user ? cli_user(argv[1], &ao) : cli_apikey(argv[1], &ao);
}

static int cmd_serve(opts *o)
{
    if (!o->app)
        return cli_usage("%s", "serve needs --app DIR (or RESTD_APP)");
    const char *db = db_path(o->db ? o->db : "sqlite:data/restd.db");
    if (!db || !*db)
        return cli_usage("unsupported database URL '%s' (only sqlite:PATH is built in)", o->db);
    const char *listen = o->listen ? o->listen : "127.0.0.1:8080";
    const char *colon = strrchr(listen, ':');
    long long port, workers = sysconf(_SC_NPROCESSORS_ONLN);
    if (!colon || colon == listen || !query_int(colon + 1, strlen(colon + 1), 1, 65535, &port))
        return cli_usage("--listen must be HOST:PORT with a port from 1 to 65535, not '%s'", listen);
    if (o->workers && !query_int(o->workers, strlen(o->workers), 1, 64, &workers))
        return cli_usage("--workers must be an integer from 1 to 64, not '%s'", o->workers);
    if (workers < 1)
        workers = 1;
    log_level lv = LOG_INFO;
    if (o->log_level && !log_level_parse(o->log_level, &lv))
        return cli_usage("--log-level must be error, warn, info or debug, not '%s'", o->log_level);
    log_threshold = lv;
    if (o->smtp_url && !o->mail_from)
        return cli_usage("%s", "--smtp-url needs --mail-from ADDRESS (or RESTD_MAIL_FROM)");
    if (o->mail_from && !mail_address_ok(o->mail_from))
        return cli_usage("--mail-from must be a plain address like restd@example.com, not '%s'", o->mail_from);

    char host[256];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return cli_usage("--listen host is too long: '%s'", listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') { /* [::1]:8080 */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }

    /* Signals are taken by the main thread with sigwait; every thread
     * started from here inherits the mask. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    app *a = cli_load_app(o->app);
    if (!a)
        return 1;
    /* Each step may fail; everything made so far is released on the one
     * path below (every *_free / store_close takes NULL). */
    char *msg = NULL;
    const char *what = NULL; /* logged when a step fails */
    int rc = 1;
    bool ran = false;
    authn *auth = NULL;
    mailer *ml = NULL; /* mail (auth/mail.h) and second factors (api/mfa.h) */
    mfa *mf = NULL;
    store *st = store_open(db, a, &msg);
    if (!st)
        what = "cannot start";
    else if (!seed_apply(a, o->app, st, &msg))
        what = "cannot seed";
    else if ((a->auth && !(auth = authn_new(a, db, &msg))) ||
             (o->smtp_url && !(ml = mail_new(o->smtp_url, o->mail_from, &msg))))
        what = NULL; /* msg says it all */
    else {
        mf = a->auth ? mfa_new(a, ml) : NULL;
        server_opts so = {.host = host, .port = (unsigned short)port, .workers = (int)workers, .authn = auth, .mfa = mf};
        rc = server_run(&so, a, st);
        ran = true;
    }
    if (msg) {
        if (what)
            log_error("msg=\"%s\" app=%s db=%s", what, a->name, db);
        fprintf(stderr, "restd: %s\n", msg);
        free(msg);
    }
    store_close(st);
    authn_free(auth);
    mfa_free(mf);
    mail_free(ml);
    if (ran)
        log_info("msg=stopped");
    app_free(a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("%s", "a command is needed");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("restd %s\n", RESTD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "user") == 0 || strcmp(cmd, "apikey") == 0)
        return cmd_account(argc - 1, argv + 1);
    opts o = {0};
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check") != 0)
        return cli_usage("unknown command '%s'", cmd);
    bool serve = strcmp(cmd, "serve") == 0;
    int rc = parse_opts(argc - 2, argv + 2, &o, serve ? C_SERVE : C_CHECK, cmd);
    if (rc)
        return rc;
    return serve ? cmd_serve(&o) : cmd_check(&o);
}

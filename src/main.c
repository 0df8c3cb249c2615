/*
 * restd's command line: serve, check, --help, --version. Options come from
 * flags first, then RESTD_* environment variables, then defaults. A bad
 * option or value exits 2 with a message; a bad app file exits 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/query.h"
#include "app/app.h"
#include "http/server.h"
#include "store/store.h"
#include "util/log.h"

static const char usage[] =
    "usage: restd serve [--app DIR] [--db URL] [--listen HOST:PORT] [--workers N] [--log-level LEVEL]\n"
    "       restd check --app DIR\n"
    "       restd --help | --version\n"
    "\n"
    "commands:\n"
    "  serve    serve the app's API over HTTP until SIGTERM/SIGINT\n"
    "  check    validate DIR/app.yaml and print every problem with its location\n"
    "\n"
    "options (environment variable in brackets):\n"
    "  --app DIR          app folder holding app.yaml [RESTD_APP] (required)\n"
    "  --db URL           database: sqlite:PATH or a plain path [RESTD_DB] (default sqlite:data/restd.db)\n"
    "  --listen HOST:PORT address to listen on [RESTD_LISTEN] (default 127.0.0.1:8080)\n"
    "  --workers N        event-loop threads, 1-64 [RESTD_WORKERS] (default: number of CPUs)\n"
    "  --log-level LEVEL  error, warn, info or debug [RESTD_LOG_LEVEL] (default info)\n";

typedef struct opts {
    const char *app, *db, *listen, *workers, *log_level;
} opts;

static const struct {
    const char *flag;
    const char *env;
    size_t off;
} option_table[] = {
    {"--app", "RESTD_APP", offsetof(opts, app)},
    {"--db", "RESTD_DB", offsetof(opts, db)},
    {"--listen", "RESTD_LISTEN", offsetof(opts, listen)},
    {"--workers", "RESTD_WORKERS", offsetof(opts, workers)},
    {"--log-level", "RESTD_LOG_LEVEL", offsetof(opts, log_level)},
};
#define N_OPTIONS (sizeof option_table / sizeof option_table[0])

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "restd: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'restd --help'.\n");
    return 2;
}

/* Parse flags (either "--x v" or "--x=v") over environment defaults. */
static int parse_opts(int argc, char **argv, opts *o)
{
    for (size_t k = 0; k < N_OPTIONS; k++) {
        const char *env = getenv(option_table[k].env);
        if (env && *env)
            *(const char **)((char *)o + option_table[k].off) = env;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k;
        const char *val = NULL;
        for (k = 0; k < N_OPTIONS; k++) {
            size_t fl = strlen(option_table[k].flag);
            if (strncmp(a, option_table[k].flag, fl) == 0 && (a[fl] == '\0' || a[fl] == '=')) {
                if (a[fl] == '=')
                    val = a + fl + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return bad("option '%s' needs a value", option_table[k].flag);
                break;
            }
        }
        if (k == N_OPTIONS)
            return bad("unknown option '%s'", a);
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
        return bad("%s", "check needs --app DIR");
    char *errors = NULL;
    app *a = app_load(o->app, &errors);
    if (!a) {
        fputs(errors, stderr);
        if (errors[0] && errors[strlen(errors) - 1] != '\n')
            fputc('\n', stderr);
        free(errors);
        return 1;
    }
    printf("%s/app.yaml: ok (%zu models)\n", o->app, a->n_models);
    app_free(a);
    return 0;
}

static int cmd_serve(opts *o)
{
    if (!o->app)
        return bad("%s", "serve needs --app DIR (or RESTD_APP)");
    const char *db = db_path(o->db ? o->db : "sqlite:data/restd.db");
    if (!db || !*db)
        return bad("unsupported database URL '%s' (only sqlite:PATH is built in)", o->db);
    const char *listen = o->listen ? o->listen : "127.0.0.1:8080";
    const char *colon = strrchr(listen, ':');
    long long port, workers = sysconf(_SC_NPROCESSORS_ONLN);
    if (!colon || colon == listen || !query_int(colon + 1, strlen(colon + 1), 1, 65535, &port))
        return bad("--listen must be HOST:PORT with a port from 1 to 65535, not '%s'", listen);
    if (o->workers && !query_int(o->workers, strlen(o->workers), 1, 64, &workers))
        return bad("--workers must be an integer from 1 to 64, not '%s'", o->workers);
    if (workers < 1)
        workers = 1;
    log_level lv = LOG_INFO;
    if (o->log_level && !log_level_parse(o->log_level, &lv))
        return bad("--log-level must be error, warn, info or debug, not '%s'", o->log_level);
    log_threshold = lv;

    char host[256];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return bad("--listen host is too long: '%s'", listen);
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

    char *errors = NULL;
    app *a = app_load(o->app, &errors);
    if (!a) {
        fputs(errors, stderr);
        if (errors[0] && errors[strlen(errors) - 1] != '\n')
            fputc('\n', stderr);
        free(errors);
        return 1;
    }
    char *msg = NULL;
    store *st = store_open(db, a, &msg);
    if (!st) {
        log_error("msg=\"cannot start\" app=%s db=%s", a->name, db);
        fprintf(stderr, "restd: %s\n", msg);
        free(msg);
        app_free(a);
        return 1;
    }
    server_opts so = {.host = host, .port = (unsigned short)port, .workers = (int)workers};
    int rc = server_run(&so, a, st);
    store_close(st);
    log_info("msg=stopped");
    app_free(a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return bad("%s", "a command is needed");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("restd %s\n", RESTD_VERSION);
        return 0;
    }
    opts o = {0};
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "check") != 0)
        return bad("unknown command '%s'", cmd);
    int rc = parse_opts(argc - 2, argv + 2, &o);
    if (rc)
        return rc;
    return strcmp(cmd, "serve") == 0 ? cmd_serve(&o) : cmd_check(&o);
}

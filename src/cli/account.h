/*
 * The account commands of the command line (main.c parses the options):
 *
 *   restd user add    --app DIR [--db URL] [--password-stdin] JSON
 *   restd user passwd --app DIR [--db URL] [--password-stdin] LOGIN
 *   restd user disable|enable --app DIR [--db URL] LOGIN
 *   restd apikey create --app DIR [--db URL] [--label TEXT] LOGIN
 *   restd apikey revoke --app DIR [--db URL] KEY_ID
 *   restd apikey list   --app DIR [--db URL] LOGIN
 *
 * They open the store like `serve` does and write through the writer
 * thread (store_submit), waiting for each job to commit. Secrets are shown
 * once on stdout and never stored: passwords as argon2id strings, API keys
 * as SHA-256 hex. Return value: the exit status (0, 1 for a failure such as
 * an unknown login or invalid fields, 2 for bad usage).
 */
#ifndef RESTD_CLI_ACCOUNT_H
#define RESTD_CLI_ACCOUNT_H

#include <stdbool.h>

typedef struct cli_account_opts {
    const char *app;     /* --app DIR (required) */
    const char *db;      /* a database path (main.c resolved the URL) */
    bool password_stdin; /* --password-stdin */
    const char *label;   /* --label TEXT, or NULL */
    const char *arg;     /* the positional argument (JSON, LOGIN or KEY_ID), or NULL */
} cli_account_opts;

/* sub: add, passwd, disable, enable. */
int cli_user(const char *sub, const cli_account_opts *o);
/* sub: create, revoke, list. */
int cli_apikey(const char *sub, const cli_account_opts *o);

#endif

/*
 * What every command of the CLI shares: the two kinds of failure (bad
 * usage exits 2, a failed command exits 1) and loading an app with its
 * problems printed.
 */
#ifndef RESTD_CLI_COMMON_H
#define RESTD_CLI_COMMON_H

#include "app/app.h"

/* Print "restd: <message>" and the --help hint; returns 2. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "restd: <message>"; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Load DIR/app.yaml; on problems print each on stderr and return NULL. */
app *cli_load_app(const char *dir);

#endif

/* Shared CLI pieces; see common.h. */
#include "cli/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ext.h"

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("restd: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'restd --help'.\n", stderr);
    return 2;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("restd: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

app *cli_load_app(const char *dir)
{
    char *errors = NULL;
    app *a = app_load(dir, &errors);
    if (!a) {
        fputs(errors, stderr);
        if (errors[0] && errors[strlen(errors) - 1] != '\n')
            fputc('\n', stderr);
        free(errors);
    }
    if (a && a->routes && !ext_set_by_name(a->routes)) {
        fprintf(stderr, "%s/app.yaml: routes: no route set '%s' is compiled into this restd\n", dir, a->routes);
        app_free(a);
        return NULL;
    }
    return a;
}

/* libFuzzer driver: the app-file loader (app/). Each input is written to a
 * scratch app.yaml and loaded; problems must be reported, never crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/restd-fuzz-app.XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    char path[96];
    snprintf(path, sizeof path, "%s/app.yaml", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    char *errors = NULL;
    app *ap = app_load(dir, &errors);
    app_free(ap);
    free(errors);
    return 0;
}

/*
 * Shared by the app-file unit tests (test_app.c, test_app_access.c): a
 * private mkdtemp directory holding one app.yaml, written and loaded per
 * test, and the check that a report names a given line. Include after
 * cmocka.h and app/app.h; the group setup and teardown go to
 * cmocka_run_group_tests.
 */
#ifndef RESTD_TESTS_APP_FILE_H
#define RESTD_TESTS_APP_FILE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128]; /* dir/app.yaml */

static inline int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_app.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/app.yaml", dir);
    return 0;
}

static inline int group_teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

static inline void write_bytes(const char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static inline app *load_text(const char *text, char **errs)
{
    write_bytes(text, strlen(text));
    return app_load(dir, errs);
}

/* True when some line of errs is "PATH:LINE:...needle...". */
static inline bool has_error(const char *errs, unsigned line, const char *needle)
{
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s:%u:", path, line);
    for (const char *l = errs; *l;) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        char one[2048];
        snprintf(one, sizeof one, "%.*s", (int)n, l);
        if (strncmp(one, prefix, strlen(prefix)) == 0 && strstr(one, needle))
            return true;
        l += n + (end != NULL);
    }
    return false;
}

#endif

/* Unit tests for the signing-secret file and token helpers (src/auth/secret.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/secret.h"

static char dir[64];
static char keypath[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/restd-secret-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(keypath, sizeof keypath, "%s/%s", dir, AUTHSECRET_FILE);
    return 0;
}

static void rm_dir(const char *d)
{
    DIR *dh = opendir(d);
    if (!dh)
        return;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(dh);
    rmdir(d);
}

static int teardown(void **state)
{
    rm_dir(dir);
    return 0;
}

static int count_entries(const char *d)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dh);
    return n;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Expect a refusal whose message contains want; the output is wiped. */
static void refused(const char *want)
{
    unsigned char k[AUTHSECRET_LEN];
    memset(k, 0xaa, sizeof k);
    char *msg = NULL;
    assert_int_equal(authsecret_load_or_create(dir, k, &msg), RD_INTERNAL);
    assert_non_null(msg);
    if (!strstr(msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", msg, want);
    assert_true(all_zero(k, sizeof k));
    free(msg);
}

static void test_create_and_reload(void **state)
{
    mode_t old = umask(0); /* a permissive umask must not widen the file */
    unsigned char k1[AUTHSECRET_LEN], k2[AUTHSECRET_LEN];
    char *msg = (char *)"x";
    assert_int_equal(authsecret_load_or_create(dir, k1, &msg), RD_OK);
    umask(old);
    assert_null(msg);
    assert_false(all_zero(k1, sizeof k1));
    struct stat st;
    assert_int_equal(lstat(keypath, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, AUTHSECRET_LEN);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left behind */

    assert_int_equal(authsecret_load_or_create(dir, k2, &msg), RD_OK);
    assert_memory_equal(k1, k2, sizeof k1);

    /* Stricter than 0600 is fine. */
    assert_int_equal(chmod(keypath, 0400), 0);
    assert_int_equal(authsecret_load_or_create(dir, k2, &msg), RD_OK);
    assert_memory_equal(k1, k2, sizeof k1);

    /* Two directories give two different keys. */
    char other[64];
    snprintf(other, sizeof other, "/tmp/restd-secret-XXXXXX");
    assert_non_null(mkdtemp(other));
    assert_int_equal(authsecret_load_or_create(other, k2, &msg), RD_OK);
    assert_memory_not_equal(k1, k2, sizeof k1);
    rm_dir(other);
}

static void test_refuses_wide_modes(void **state)
{
    unsigned char k[AUTHSECRET_LEN];
    char *msg;
    assert_int_equal(authsecret_load_or_create(dir, k, &msg), RD_OK);
    assert_int_equal(chmod(keypath, 0644), 0);
    refused("mode 0644");
    assert_int_equal(chmod(keypath, 0640), 0);
    refused("mode 0640");
    assert_int_equal(chmod(keypath, 0604), 0);
    refused("0604");
    assert_int_equal(chmod(keypath, 0700), 0);
    refused("0700");
    assert_int_equal(chmod(keypath, 04600), 0);
    refused("4600");
    /* Fixing the mode fixes the start. */
    assert_int_equal(chmod(keypath, 0600), 0);
    assert_int_equal(authsecret_load_or_create(dir, k, &msg), RD_OK);
}

static void write_file(const char *path, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unsigned char b[256] = {1};
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
}

static void test_refuses_wrong_size(void **state)
{
    write_file(keypath, AUTHSECRET_LEN - 1);
    refused("63 bytes");
    write_file(keypath, AUTHSECRET_LEN + 1);
    refused("65 bytes");
    write_file(keypath, 0);
    refused("0 bytes");
    write_file(keypath, AUTHSECRET_LEN);
    unsigned char k[AUTHSECRET_LEN];
    char *msg;
    assert_int_equal(authsecret_load_or_create(dir, k, &msg), RD_OK);
}

static void test_refuses_non_files(void **state)
{
    /* A symlink (to a perfectly good key) is not followed. */
    char target[160];
    snprintf(target, sizeof target, "%s/real.key", dir);
    write_file(target, AUTHSECRET_LEN);
    assert_int_equal(symlink(target, keypath), 0);
    refused("symbolic link");
    unlink(keypath);
    assert_int_equal(mkdir(keypath, 0700), 0);
    refused("not a regular file");
    rmdir(keypath);

    /* A directory that does not exist. */
    unsigned char k[AUTHSECRET_LEN];
    char *msg;
    assert_int_equal(authsecret_load_or_create("/nonexistent/restd", k, &msg), RD_INTERNAL);
    assert_non_null(msg);
    free(msg);
}

/* Several processes (here threads) starting at once on a fresh directory
 * all end up with the same, complete key. */
typedef struct racer {
    unsigned char k[AUTHSECRET_LEN];
    rd_err e;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char *msg = NULL;
    r->e = authsecret_load_or_create(dir, r->k, &msg);
    free(msg);
    return NULL;
}

static void test_concurrent_create(void **state)
{
    for (int round = 0; round < 5; round++) {
        unlink(keypath);
        racer r[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(r[i].e, RD_OK);
            assert_memory_equal(r[i].k, r[0].k, AUTHSECRET_LEN);
        }
        assert_int_equal(count_entries(dir), 1);
    }
}

static void test_compare(void **state)
{
    assert_true(authsecret_equal("abcdef", "abcdef", 6));
    assert_false(authsecret_equal("abcdef", "abcdeg", 6));
    assert_true(authsecret_equal("", "x", 0));
    assert_true(authsecret_streq("token", 5, "token", 5));
    assert_false(authsecret_streq("token", 5, "tokem", 5));
    assert_false(authsecret_streq("token", 5, "token2", 6));
    assert_false(authsecret_streq("token", 5, "toke", 4));
    assert_true(authsecret_streq("", 0, "", 0));
}

static void test_tokens(void **state)
{
    arena *a = arena_new();
    char *t1 = authsecret_random_token(AUTHSECRET_TOKEN_BYTES, a);
    char *t2 = authsecret_random_token(AUTHSECRET_TOKEN_BYTES, a);
    assert_int_equal(strlen(t1), AUTHSECRET_TOKEN_LEN);
    assert_string_not_equal(t1, t2);
    assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     AUTHSECRET_TOKEN_LEN);
    /* Clamped to 16..256 bytes. */
    assert_int_equal(strlen(authsecret_random_token(0, a)), 22);
    assert_int_equal(strlen(authsecret_random_token(100000, a)), 342);

    char h[AUTHSECRET_HASH_LEN + 1];
    authsecret_hash_token("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    authsecret_hash_token(t1, strlen(t1), h);
    assert_int_equal(strlen(h), AUTHSECRET_HASH_LEN);
    char h2[AUTHSECRET_HASH_LEN + 1];
    authsecret_hash_token(t1, strlen(t1), h2);
    assert_string_equal(h, h2); /* deterministic: the row is found by it */
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_wide_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_wrong_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_non_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

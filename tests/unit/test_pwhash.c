/*
 * Unit tests for argon2id hashing and the hashing pool (src/auth/pwhash.c).
 * Each argon2id hash or verify at today's parameters takes ~20 ms, so the
 * tests do few of them; the pool tests use their own cheap work functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <time.h>

#include "auth/auth_int.h"
#include "auth/pwhash.h"

#define PW "correct horse battery staple"
#define PREFIX "$argon2id$v=19$m=19456,t=2,p=1$"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_hash_verify(void **state)
{
    char h1[PWHASH_STRBYTES], h2[PWHASH_STRBYTES];
    assert_true(pwhash_hash(PW, strlen(PW), h1));
    assert_true(strncmp(h1, PREFIX, strlen(PREFIX)) == 0);
    assert_true(pwhash_hash(PW, strlen(PW), h2));
    assert_string_not_equal(h1, h2); /* a fresh salt each time */
    assert_true(pwhash_verify(h1, PW, strlen(PW)));
    assert_false(pwhash_verify(h1, PW, strlen(PW) - 1));
    assert_false(pwhash_verify(h1, "Correct horse battery staple", strlen(PW)));
    assert_false(pwhash_needs_rehash(h1));

    /* Any bytes, including NUL, count; nothing is truncated. */
    static const char bin[] = "a\0b";
    assert_true(pwhash_hash(bin, 3, h2));
    assert_true(pwhash_verify(h2, bin, 3));
    assert_false(pwhash_verify(h2, "a", 1));
}

static void test_refusals(void **state)
{
    static char longpw[PWHASH_MAX_PASSWORD + 1];
    memset(longpw, 'x', sizeof longpw);
    char h[PWHASH_STRBYTES];
    assert_false(pwhash_hash(longpw, sizeof longpw, h));
    assert_string_equal(h, "");
    assert_true(pwhash_hash(longpw, PWHASH_MAX_PASSWORD, h));
    assert_true(pwhash_verify(h, longpw, PWHASH_MAX_PASSWORD));
    assert_false(pwhash_verify(h, longpw, sizeof longpw));

    /* Hashes that are not ours. */
    assert_false(pwhash_verify(NULL, PW, strlen(PW)));
    assert_false(pwhash_verify("", PW, strlen(PW)));
    assert_false(pwhash_verify("plaintext", "plaintext", 9));
    assert_false(pwhash_verify("$2b$10$abcdefghijklmnopqrstuu5X0X6Ck6uQq8UQPpLxMoEULCM0q6a", "x", 1));
    /* argon2i, even correct: only argon2id is ever stored. */
    char h2i[PWHASH_STRBYTES];
    assert_int_equal(crypto_pwhash_str_alg(h2i, "pw", 2, 3, 8u * 1024 * 1024, crypto_pwhash_ALG_ARGON2I13), 0);
    assert_false(pwhash_verify(h2i, "pw", 2));
    assert_true(pwhash_needs_rehash(h2i));
    /* A tampered row asking for 4 GiB or 1000 passes is refused, not run. */
    char big[2 * PWHASH_STRBYTES];
    snprintf(big, sizeof big, "$argon2id$v=19$m=4194304,t=2,p=1$%s", h + strlen(PREFIX));
    assert_false(pwhash_verify(big, longpw, PWHASH_MAX_PASSWORD));
    snprintf(big, sizeof big, "$argon2id$v=19$m=19456,t=1000,p=1$%s", h + strlen(PREFIX));
    assert_false(pwhash_verify(big, longpw, PWHASH_MAX_PASSWORD));
    snprintf(big, sizeof big, "$argon2id$v=19$m=19456,t=2,p=99$%s", h + strlen(PREFIX));
    assert_false(pwhash_verify(big, longpw, PWHASH_MAX_PASSWORD));
    snprintf(big, sizeof big, "$argon2id$v=16$m=19456,t=2,p=1$%s", h + strlen(PREFIX));
    assert_false(pwhash_verify(big, longpw, PWHASH_MAX_PASSWORD));
}

static void test_needs_rehash(void **state)
{
    /* Parameters are read from the string; no hashing needed to test. */
    const char *salt_hash = "$H7gMN0stEQYkpmxyprOUQw$dBWzAzzp6ygBsBm3wXmIFsS6xgAUtl5LcOFTqTQT5cE";
    char h[PWHASH_STRBYTES];
    snprintf(h, sizeof h, "$argon2id$v=19$m=19456,t=2,p=1%s", salt_hash);
    assert_false(pwhash_needs_rehash(h));
    snprintf(h, sizeof h, "$argon2id$v=19$m=19456,t=3,p=1%s", salt_hash);
    assert_true(pwhash_needs_rehash(h));
    snprintf(h, sizeof h, "$argon2id$v=19$m=65536,t=2,p=1%s", salt_hash);
    assert_true(pwhash_needs_rehash(h));
    assert_true(pwhash_needs_rehash("garbage"));
    assert_true(pwhash_needs_rehash(NULL));
}

static void test_dummy(void **state)
{
    /* The dummy hash has today's parameters: its cost is a real verify's. */
    assert_false(pwhash_needs_rehash(pwhash__dummy_hash()));
    char h[PWHASH_STRBYTES];
    assert_true(pwhash_hash(PW, strlen(PW), h));
    double t0 = now_ms();
    assert_false(pwhash_verify(h, "wrong", 5));
    double t1 = now_ms();
    pwhash_dummy_verify("wrong", 5);
    double t2 = now_ms();
    /* Loose (the machine is shared): same order of magnitude. */
    if (t2 - t1 < (t1 - t0) / 3)
        fail_msg("dummy verify took %.1f ms, a real one %.1f ms", t2 - t1, t1 - t0);
    /* Refusals cost a verify too: no fast path for a missing hash. */
    t0 = now_ms();
    assert_false(pwhash_verify(NULL, "wrong", 5));
    t1 = now_ms();
    if (t1 - t0 < (t2 - t1) / 3)
        fail_msg("refusal took %.1f ms, a dummy verify %.1f ms", t1 - t0, t2 - t1);
}

/* ---- pool ------------------------------------------------------------ */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    bool gate_open;
    int ran;
    bool on_pool_thread;
    pthread_t main;
} waiter;

static waiter W;

static void waiter_init(void)
{
    pthread_mutex_init(&W.mu, NULL);
    pthread_cond_init(&W.cv, NULL);
    W.done = 0;
    W.ran = 0;
    W.gate_open = false;
    W.on_pool_thread = true;
    W.main = pthread_self();
}

static void waiter_fini(void)
{
    pthread_mutex_destroy(&W.mu);
    pthread_cond_destroy(&W.cv);
}

static void on_done(pwjob *j)
{
    pthread_mutex_lock(&W.mu);
    if (pthread_equal(pthread_self(), W.main))
        W.on_pool_thread = false;
    W.done++;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
}

static void wait_done(int n)
{
    pthread_mutex_lock(&W.mu);
    while (W.done < n)
        pthread_cond_wait(&W.cv, &W.mu);
    pthread_mutex_unlock(&W.mu);
}

/* Work that blocks until the test opens the gate. */
static void gated(pwjob *j)
{
    pthread_mutex_lock(&W.mu);
    while (!W.gate_open)
        pthread_cond_wait(&W.cv, &W.mu);
    W.ran++;
    pthread_mutex_unlock(&W.mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&W.mu);
    W.gate_open = true;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
}

static void *open_gate_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    open_gate();
    return NULL;
}

static void test_pool_bounds(void **state)
{
    assert_null(pwpool_new(0, 4));
    assert_null(pwpool_new(PWPOOL_MAX_THREADS + 1, 4));
    assert_null(pwpool_new(1, PWPOOL_MAX_QUEUE + 1));
    pwpool_free(NULL);
    pwpool *p = pwpool_new(1, 0);
    assert_non_null(p);
    pwpool_free(p);
}

static void test_pool_runs_jobs(void **state)
{
    waiter_init();
    pwpool *p = pwpool_new(2, 4);
    assert_non_null(p);

    /* An old-parameter hash (t=1, 8 MiB) of PW, to see verify rehash it. */
    char old[PWHASH_STRBYTES];
    assert_int_equal(crypto_pwhash_str_alg(old, PW, strlen(PW), 1, 8u * 1024 * 1024, crypto_pwhash_ALG_ARGON2ID13),
                     0);
    pwjob jobs[4] = {
        {.work = pwjob_hash, .password = PW, .password_len = strlen(PW)},
        {.work = pwjob_verify, .password = PW, .password_len = strlen(PW), .hash = old},
        {.work = pwjob_verify, .password = "nope", .password_len = 4, .hash = old},
        {.work = pwjob_dummy, .password = PW, .password_len = strlen(PW)},
    };
    for (int i = 0; i < 4; i++) {
        jobs[i].done = on_done;
        assert_int_equal(pwpool_submit(p, &jobs[i]), RD_OK);
    }
    wait_done(4);
    assert_true(W.on_pool_thread);
    assert_int_equal(pwpool_pending(p), 0);

    assert_int_equal(jobs[0].err, RD_OK);
    assert_true(jobs[0].ok);
    assert_true(pwhash_verify(jobs[0].new_hash, PW, strlen(PW)));
    assert_true(jobs[1].ok);
    assert_true(jobs[1].rehashed);
    assert_false(pwhash_needs_rehash(jobs[1].new_hash));
    assert_false(jobs[2].ok);
    assert_false(jobs[2].rehashed);
    assert_string_equal(jobs[2].new_hash, "");
    assert_false(jobs[3].ok);
    pwpool_free(p);
    waiter_fini();
}

static void test_pool_queue_full(void **state)
{
    waiter_init();
    /* One thread, two waiting: three jobs in the pool at most. */
    pwpool *p = pwpool_new(1, 2);
    pwjob jobs[5];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 5; i++) {
        jobs[i].work = gated;
        jobs[i].done = on_done;
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(pwpool_submit(p, &jobs[i]), RD_OK);
    assert_int_equal(pwpool_submit(p, &jobs[3]), RD_UNAVAILABLE);
    assert_int_equal(pwpool_pending(p), 3);
    open_gate();
    wait_done(3);
    assert_int_equal(W.ran, 3);
    assert_int_equal(pwpool_pending(p), 0);
    /* Room again. */
    assert_int_equal(pwpool_submit(p, &jobs[4]), RD_OK);
    wait_done(4);
    pwpool_free(p);
    assert_int_equal(W.done, 4); /* the refused job's done never ran */
    waiter_fini();
}

static void test_pool_free_drains(void **state)
{
    waiter_init();
    pwpool *p = pwpool_new(2, 8);
    pwjob jobs[10];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 10; i++) {
        jobs[i].work = gated;
        jobs[i].done = on_done;
        assert_int_equal(pwpool_submit(p, &jobs[i]), RD_OK);
    }
    /* The gate opens only after free has begun: free must wait for every
     * queued job and call its done, not drop it. */
    pthread_t opener;
    assert_int_equal(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
    pwpool_free(p);
    pthread_join(opener, NULL);
    assert_int_equal(W.done, 10);
    assert_int_equal(W.ran, 10);
    waiter_fini();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_needs_rehash),
        cmocka_unit_test(test_dummy),
        cmocka_unit_test(test_pool_bounds),
        cmocka_unit_test(test_pool_runs_jobs),
        cmocka_unit_test(test_pool_queue_full),
        cmocka_unit_test(test_pool_free_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

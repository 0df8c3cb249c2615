/* Unit tests for login throttling (src/api/throttle.c), with the clock
 * passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/throttle.h"

static const throttle_rule rule = {.max_fails = 3, .window_sec = 60, .lock_sec = 30};

#define K(s) s, strlen(s)

static void locks_after_max_fails_and_unlocks_later(void **state)
{
    throttle *t = throttle_new(1024);
    time_t now = 1000;
    assert_int_equal(throttle_wait(t, K("a:ann"), now), 0);
    assert_int_equal(throttle_fail(t, K("a:ann"), &rule, now), 0);
    assert_int_equal(throttle_fail(t, K("a:ann"), &rule, now + 1), 0);
    assert_int_equal(throttle_fail(t, K("a:ann"), &rule, now + 2), 30);
    assert_int_equal(throttle_wait(t, K("a:ann"), now + 2), 30);
    assert_int_equal(throttle_wait(t, K("a:ann"), now + 31), 1);
    assert_int_equal(throttle_wait(t, K("a:ann"), now + 32), 0);
    /* other keys are untouched */
    assert_int_equal(throttle_wait(t, K("a:bob"), now + 2), 0);
    throttle_free(t);
}

static void failures_outside_the_window_are_forgotten(void **state)
{
    throttle *t = throttle_new(1024);
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 0), 0);
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 10), 0);
    /* a new window starts: two old failures no longer count */
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 70), 0);
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 71), 0);
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 72), 30);
    throttle_free(t);
}

static void success_clears_failures_but_not_a_lock(void **state)
{
    throttle *t = throttle_new(1024);
    throttle_fail(t, K("a:ann"), &rule, 0);
    throttle_fail(t, K("a:ann"), &rule, 1);
    throttle_clear(t, K("a:ann"));
    assert_int_equal(throttle_fail(t, K("a:ann"), &rule, 2), 0);
    assert_int_equal(throttle_fail(t, K("a:ann"), &rule, 3), 0);
    assert_int_equal(throttle_fail(t, K("a:ann"), &rule, 4), 30);
    throttle_clear(t, K("a:ann"));
    assert_int_equal(throttle_wait(t, K("a:ann"), 5), 29);
    throttle_free(t);
}

static void one_slot_table_stays_bounded(void **state)
{
    throttle *t = throttle_new(1);
    throttle_fail(t, K("a:x"), &rule, 0);
    throttle_fail(t, K("a:y"), &rule, 0); /* takes the slot over */
    assert_int_equal(throttle_wait(t, K("a:x"), 0), 0);
    throttle_free(t);
}

/* A stream of one-off keys (a sprayed list of logins) must not push a
 * key under attack out of the table: its count goes on to the lock. */
static void one_off_keys_do_not_evict_a_counted_key(void **state)
{
    throttle *t = throttle_new(64);
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 0), 0);
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 1), 0);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "a:user%d", i);
        throttle_fail(t, key, (size_t)n, &rule, 2);
    }
    assert_int_equal(throttle_fail(t, K("i:1.2.3.4"), &rule, 3), 30);
    /* and a running lock outlasts another stream */
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "a:other%d", i);
        throttle_fail(t, key, (size_t)n, &rule, 4);
    }
    assert_int_equal(throttle_wait(t, K("i:1.2.3.4"), 5), 28);
    throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(locks_after_max_fails_and_unlocks_later),
        cmocka_unit_test(failures_outside_the_window_are_forgotten),
        cmocka_unit_test(success_clears_failures_but_not_a_lock),
        cmocka_unit_test(one_slot_table_stays_bounded),
        cmocka_unit_test(one_off_keys_do_not_evict_a_counted_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

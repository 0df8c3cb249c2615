/* Unit tests for the bounded hand-off queue (src/util/workq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "util/workq.h"

static void batches_in_order_and_bounded(void **state)
{
    workq q;
    workq_init(&q, 3);
    workq_link l[4];
    assert_true(workq_push(&q, &l[0]));
    assert_true(workq_push(&q, &l[1]));
    assert_true(workq_push(&q, &l[2]));
    assert_false(workq_push(&q, &l[3])); /* full */
    workq_link *b = workq_take(&q, 2);
    assert_ptr_equal(b, &l[0]);
    assert_ptr_equal(b->next, &l[1]);
    assert_null(b->next->next);
    /* taken but not done still holds its place */
    assert_false(workq_push(&q, &l[3]));
    assert_int_equal(workq_held(&q), 3);
    workq_done(&q, 2);
    assert_true(workq_push(&q, &l[3]));
    b = workq_take(&q, 10);
    assert_ptr_equal(b, &l[2]);
    assert_ptr_equal(b->next, &l[3]);
    assert_null(b->next->next);
    workq_done(&q, 2);
    workq_fini(&q);
}

static void stop_drains_then_ends(void **state)
{
    workq q;
    workq_init(&q, 8);
    workq_link a;
    assert_true(workq_push(&q, &a));
    workq_stop(&q);
    workq_link c;
    assert_false(workq_push(&q, &c)); /* refused once stopping */
    assert_ptr_equal(workq_take(&q, 1), &a);
    assert_null(workq_take(&q, 1));
    workq_fini(&q);
}

static void *taker(void *arg)
{
    workq *q = arg;
    size_t n = 0;
    workq_link *b;
    while ((b = workq_take(q, 4))) {
        size_t k = 0;
        for (; b; b = b->next)
            k++;
        n += k;
        workq_done(q, k);
    }
    return (void *)(uintptr_t)n;
}

static void threads_hand_off_everything(void **state)
{
    enum { N = 5000 };
    static workq_link links[N];
    workq q;
    workq_init(&q, 64);
    pthread_t t;
    pthread_create(&t, NULL, taker, &q);
    for (size_t i = 0; i < N; i++)
        while (!workq_push(&q, &links[i]))
            sched_yield();
    workq_stop(&q);
    void *got;
    pthread_join(t, &got);
    assert_int_equal((uintptr_t)got, N);
    assert_int_equal(workq_held(&q), 0);
    workq_fini(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batches_in_order_and_bounded),
        cmocka_unit_test(stop_drains_then_ends),
        cmocka_unit_test(threads_hand_off_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

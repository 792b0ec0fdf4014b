/* The core clock: simulated time and timers in deadline order, repeats,
 * cancellation (also from inside a callback and by owner), real-time timers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "clock.h"
#include "util.h"

#define T0 1700000000000000LL /* epoch us */

static int64_t fired_at[64];
static int fired_id[64];
static int nfired;

static void rec(void *arg)
{
    fired_at[nfired] = clock_now_us();
    fired_id[nfired] = (int)(intptr_t)arg;
    nfired++;
}

static int setup_sim(void **state)
{
    nfired = 0;
    clock_init_sim(T0);
    return 0;
}

static int teardown(void **state)
{
    clock_shutdown();
    return 0;
}

static void test_sim_order(void **state)
{
    assert_true(clock_is_sim());
    assert_int_equal(clock_now_us(), T0);
    timer_add(NULL, 30, 0, rec, (void *)3);
    timer_add(NULL, 10, 0, rec, (void *)1);
    timer_add(NULL, 20, 0, rec, (void *)2);
    timer_add(NULL, 10, 0, rec, (void *)4); /* same deadline: creation order */
    assert_int_equal(clock_next_deadline(), T0 + 10000);
    assert_int_equal(clock_advance(T0 + 15000), AT_OK);
    assert_int_equal(nfired, 2);
    assert_int_equal(fired_id[0], 1);
    assert_int_equal(fired_id[1], 4);
    /* The callback saw the clock at its own deadline. */
    assert_int_equal(fired_at[0], T0 + 10000);
    assert_int_equal(clock_now_us(), T0 + 15000);
    assert_int_equal(clock_advance(T0 + 100000), AT_OK);
    assert_int_equal(nfired, 4);
    assert_int_equal(fired_id[2], 2);
    assert_int_equal(fired_id[3], 3);
    assert_int_equal(timer_count(), 0);
    assert_int_equal(clock_next_deadline(), INT64_MAX);
    /* Time never goes back. */
    assert_int_equal(clock_advance(T0), AT_EINVAL);
}

static void test_sim_repeat(void **state)
{
    at_timer *t = timer_add(NULL, 100, 100, rec, (void *)7);
    clock_advance(T0 + 1000 * 1000); /* 1 s: fires at 100..1000 ms */
    assert_int_equal(nfired, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(fired_at[i], T0 + (i + 1) * 100000);
    }
    timer_cancel(t);
    clock_advance(T0 + 2000 * 1000);
    assert_int_equal(nfired, 10);
}

static at_timer *self;

static void cancel_self(void *arg)
{
    rec(arg);
    timer_cancel(self);
}

static void test_cancel_inside_callback(void **state)
{
    self = timer_add(NULL, 5, 5, cancel_self, (void *)9);
    clock_advance(T0 + 100000);
    assert_int_equal(nfired, 1);
    assert_int_equal(timer_count(), 0);
}

static void test_cancel_owner(void **state)
{
    int a = 0, b = 0;
    timer_add(&a, 10, 10, rec, (void *)1);
    timer_add(&b, 10, 0, rec, (void *)2);
    timer_add(&a, 20, 0, rec, (void *)3);
    timer_cancel_owner(&a);
    assert_int_equal(timer_count(), 1);
    clock_advance(T0 + 100000);
    assert_int_equal(nfired, 1);
    assert_int_equal(fired_id[0], 2);
}

/* Handles are checked by generation: cancelling a one-shot that already
 * fired, a timer freed with its owner, or the same timer twice is a no-op,
 * and never touches the timer that reused the slot (under ASan the old
 * pointer handles were a use after free). */
static void test_stale_handles(void **state)
{
    int owner = 0;
    at_timer *once = timer_add(NULL, 10, 0, rec, (void *)1);
    clock_advance(T0 + 20000);
    assert_int_equal(nfired, 1);
    at_timer *next = timer_add(NULL, 10, 0, rec, (void *)2); /* reuses the slot */
    assert_ptr_not_equal(next, once);
    timer_cancel(once);
    timer_cancel(once);
    assert_int_equal(timer_count(), 1);

    at_timer *owned = timer_add(&owner, 5, 5, rec, (void *)3);
    timer_cancel_owner(&owner); /* the instance stopped */
    timer_cancel(owned);        /* its plugin cancels in destroy() */
    assert_int_equal(timer_count(), 1);

    at_timer *twice = timer_add(NULL, 10, 0, rec, (void *)4);
    timer_cancel(twice);
    timer_cancel(twice);
    assert_int_equal(timer_count(), 1);
    timer_cancel((at_timer *)(uintptr_t)0x12345678); /* never issued */

    clock_advance(T0 + 100000);
    assert_int_equal(nfired, 2);
    assert_int_equal(fired_id[1], 2);
}

static void test_bad_args(void **state)
{
    assert_null(timer_add(NULL, -1, 0, rec, NULL));
    assert_null(timer_add(NULL, 1, -1, rec, NULL));
    assert_null(timer_add(NULL, 1, 0, NULL, NULL));
    timer_cancel(NULL);
}

/* timer_at (host->timer_at, ABI 1.6): absolute microsecond deadlines in one
 * order with timer_add's (deadline, then creation); a deadline already past
 * joins the timers due now behind them and never moves the clock back. */
static void add_past(void *arg)
{
    rec(arg);
    assert_non_null(timer_at(NULL, clock_now_us() - 500, rec, (void *)8));
}

static void test_timer_at_order(void **state)
{
    timer_add(NULL, 1, 0, rec, (void *)1);                          /* T0 + 1000 */
    assert_non_null(timer_at(NULL, T0 + 999, add_past, (void *)2)); /* then 8, at once */
    timer_at(NULL, T0 + 1001, rec, (void *)3);
    timer_at(NULL, T0 + 1000, rec, (void *)4); /* ties with 1: after it */
    timer_add(NULL, 0, 0, rec, (void *)6);     /* due now */
    timer_at(NULL, T0 - 5, rec, (void *)5);    /* past: now, behind 6 */
    at_timer *gone = timer_at(NULL, T0 + 1000, rec, (void *)7);
    timer_cancel(gone);
    timer_cancel(gone); /* idempotent, as timer_add's */
    assert_int_equal(clock_next_deadline(), T0);
    assert_int_equal(clock_advance(T0), AT_OK);
    assert_int_equal(nfired, 2);
    assert_int_equal(clock_advance(T0 + 999), AT_OK);
    assert_int_equal(clock_advance(T0 + 1000), AT_OK);
    assert_int_equal(nfired, 6); /* 3 is a microsecond away */
    assert_int_equal(clock_next_deadline(), T0 + 1001);
    assert_int_equal(clock_advance(T0 + 5000), AT_OK);
    const int want_id[] = {6, 5, 2, 8, 1, 4, 3};
    const int64_t want_at[] = {T0, T0, T0 + 999, T0 + 999, T0 + 1000, T0 + 1000, T0 + 1001};
    assert_int_equal(nfired, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(fired_id[i], want_id[i]);
        assert_int_equal(fired_at[i], want_at[i]);
    }
    assert_int_equal(timer_count(), 0);
    assert_null(timer_at(NULL, -1, rec, NULL));
    assert_null(timer_at(NULL, T0, NULL, NULL));
}

/* timer_at on an instance's timers: cancelled with its owner. */
static void test_timer_at_owner(void **state)
{
    int a = 0;
    timer_at(&a, T0 + 10, rec, (void *)1);
    timer_at(NULL, T0 + 20, rec, (void *)2);
    timer_cancel_owner(&a);
    clock_advance(T0 + 100);
    assert_int_equal(nfired, 1);
    assert_int_equal(fired_id[0], 2);
}

static struct event_base *base;

static void stop_loop(void *arg)
{
    rec(arg);
    if (nfired == 3) {
        event_base_loopbreak(base);
    }
}

static void test_real_timers(void **state)
{
    base = event_base_new();
    nfired = 0;
    clock_init_real(base);
    assert_false(clock_is_sim());
    int64_t wall = at_wall_us();
    assert_true(clock_now_us() >= wall);
    assert_int_equal(clock_advance(clock_now_us() + 1), AT_ESTATE);
    int64_t start = at_mono_us();
    timer_add(NULL, 20, 0, stop_loop, (void *)2);
    timer_add(NULL, 5, 0, stop_loop, (void *)1);
    int64_t at = clock_now_us() + 30000;
    timer_at(NULL, at, stop_loop, (void *)3);
    event_base_dispatch(base);
    assert_int_equal(nfired, 3);
    assert_int_equal(fired_id[0], 1);
    assert_int_equal(fired_id[1], 2);
    assert_int_equal(fired_id[2], 3);
    /* Not early: the last one waited at least its 30 ms, and the one at
     * an absolute time ran at or after it. */
    assert_true(at_mono_us() - start >= 30000);
    assert_true(fired_at[2] >= at);
    clock_shutdown();
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sim_order, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_sim_repeat, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_inside_callback, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_owner, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_stale_handles, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_timer_at_order, setup_sim, teardown),
        cmocka_unit_test_setup_teardown(test_timer_at_owner, setup_sim, teardown),
        cmocka_unit_test(test_real_timers),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}

/* The bus: FIFO order, no re-entrancy, references, coalescing, catch-all
 * subscribers, unsubscribe during dispatch, cross-thread publish, counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "clock.h"

static struct event_base *base;
static bus_client pub = {.name = "test.pub"};
static bus_client subc = {.name = "test.sub"};

static int setup(void **state)
{
    base = event_base_new();
    clock_init_sim(1000000);
    bus_init(base);
    memset((char *)&pub + sizeof(pub.name), 0, sizeof(pub) - sizeof(pub.name));
    memset((char *)&subc + sizeof(subc.name), 0, sizeof(subc) - sizeof(subc.name));
    bus_client_register(&pub);
    bus_client_register(&subc);
    return 0;
}

static int teardown(void **state)
{
    bus_shutdown();
    clock_shutdown();
    event_base_free(base);
    return 0;
}

static at_event *alert(int n)
{
    at_ev_alert *a = (at_ev_alert *)bus_event_new(&pub, AT_EV_ALERT, 16);
    assert_non_null(a);
    a->level = (at_log_level)n; /* carries a number for ordering checks */
    return &a->h;
}

#define LOG_MAX 64
static int log_vals[LOG_MAX];
static int nlog;

static void record(void *arg, const at_event *ev)
{
    const at_ev_alert *a = (const at_ev_alert *)ev;
    assert_true(nlog < LOG_MAX);
    log_vals[nlog++] = (int)a->level + (arg ? 100 * (int)(intptr_t)arg : 0);
}

static void test_fifo_and_header(void **state)
{
    nlog = 0;
    bus_subscribe(&subc, AT_EV_ALERT, record, NULL);
    for (int i = 0; i < 10; i++) {
        bus_publish(&pub, alert(i), 0);
    }
    /* Nothing is delivered inside publish. */
    assert_int_equal(nlog, 0);
    assert_int_equal(bus_pending(), 10);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(nlog, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(log_vals[i], i);
    }
    assert_int_equal(atomic_load(&pub.published[AT_EV_ALERT]), 10);
    assert_int_equal(subc.delivered[AT_EV_ALERT], 10);
}

static const at_event *kept;
static uint64_t seqs[8];
static int nseq;

static void keep_first(void *arg, const at_event *ev)
{
    if (!kept) {
        bus_retain(ev);
        kept = ev;
    }
    seqs[nseq++] = ev->seq;
}

static void test_header_and_references(void **state)
{
    kept = NULL;
    nseq = 0;
    bus_subscribe(&subc, AT_EV_ALERT, keep_first, NULL);
    at_event *ev = alert(7);
    assert_int_equal(ev->type, AT_EV_ALERT);
    assert_int_equal(ev->version, AT_EV_VERSION);
    assert_int_equal(ev->size, sizeof(at_ev_alert));
    assert_int_equal(ev->ts_us, 1000000); /* simulated clock */
    assert_string_equal(ev->source, "test.pub");
    at_ev_alert *a = (at_ev_alert *)ev;
    a->message = bus_event_strdup(ev, "hello");
    assert_string_equal(a->message, "hello");
    /* extra space is 16 bytes: a longer string does not fit */
    assert_null(bus_event_strdup(ev, "0123456789abcdef"));
    bus_publish(&pub, ev, 0);
    bus_publish(&pub, alert(8), 0);
    bus_drain(SIZE_MAX);
    assert_non_null(kept);
    /* The retained event outlives delivery, payload intact. */
    assert_string_equal(((const at_ev_alert *)kept)->message, "hello");
    assert_int_equal(nseq, 2);
    assert_int_equal(seqs[1], seqs[0] + 1);
    bus_release(kept);
}

static void publish_inside(void *arg, const at_event *ev)
{
    const at_ev_alert *a = (const at_ev_alert *)ev;
    record(NULL, ev);
    if (a->level == 1) {
        /* Published from a callback: delivered after everything queued before. */
        bus_publish(&pub, alert(99), 0);
        assert_int_equal(nlog, 1); /* not re-entrant */
    }
}

static void test_not_reentrant(void **state)
{
    nlog = 0;
    bus_subscribe(&subc, AT_EV_ALERT, publish_inside, NULL);
    bus_publish(&pub, alert(1), 0);
    bus_publish(&pub, alert(2), 0);
    bus_drain(SIZE_MAX);
    assert_int_equal(nlog, 3);
    assert_int_equal(log_vals[0], 1);
    assert_int_equal(log_vals[1], 2);
    assert_int_equal(log_vals[2], 99);
}

static void test_catch_all_order(void **state)
{
    nlog = 0;
    bus_subscribe(&subc, AT_EV_NONE, record, (void *)(intptr_t)2);
    bus_subscribe(&subc, AT_EV_ALERT, record, (void *)(intptr_t)1);
    bus_subscribe(&subc, AT_EV_ALERT, record, (void *)(intptr_t)3);
    bus_publish(&pub, alert(5), 0);
    bus_drain(SIZE_MAX);
    /* type subscribers in order, then catch-all */
    assert_int_equal(nlog, 3);
    assert_int_equal(log_vals[0], 105);
    assert_int_equal(log_vals[1], 305);
    assert_int_equal(log_vals[2], 205);
}

static int unsub_id;

static void unsub_self(void *arg, const at_event *ev)
{
    record(NULL, ev);
    bus_unsubscribe(unsub_id);
}

static void test_unsubscribe_during_dispatch(void **state)
{
    nlog = 0;
    unsub_id = bus_subscribe(&subc, AT_EV_ALERT, unsub_self, NULL);
    bus_publish(&pub, alert(1), 0);
    bus_publish(&pub, alert(2), 0);
    bus_drain(SIZE_MAX);
    assert_int_equal(nlog, 1);
    bus_subscribe(&subc, AT_EV_ALERT, record, NULL);
    bus_unsubscribe_client(&subc);
    bus_publish(&pub, alert(3), 0);
    bus_drain(SIZE_MAX);
    assert_int_equal(nlog, 1);
}

static at_inst seen_inst[16];
static int seen_level[16];
static int nseen;

static void record_book(void *arg, const at_event *ev)
{
    const at_ev_book *b = (const at_ev_book *)ev;
    seen_inst[nseen] = ev->inst;
    seen_level[nseen] = (int)b->nbids;
    nseen++;
}

static at_event *book(at_inst inst, uint32_t marker)
{
    at_ev_book *b = (at_ev_book *)bus_event_new(&pub, AT_EV_BOOK, 0);
    b->h.inst = inst;
    b->nbids = marker;
    return &b->h;
}

static void test_coalescing(void **state)
{
    nseen = 0;
    bus_subscribe(&subc, AT_EV_BOOK, record_book, NULL);
    bus_subscribe(&subc, AT_EV_ALERT, record, NULL);
    nlog = 0;
    bus_publish(&pub, book(1, 10), AT_PUB_COALESCE);
    bus_publish(&pub, book(2, 20), AT_PUB_COALESCE);
    bus_publish(&pub, alert(4), 0);
    bus_publish(&pub, book(1, 11), AT_PUB_COALESCE); /* replaces 10 in place */
    bus_publish(&pub, book(1, 12), AT_PUB_COALESCE); /* replaces 11 */
    bus_publish(&pub, book(3, 30), 0);               /* not coalescable */
    assert_int_equal(bus_pending(), 4);
    bus_drain(SIZE_MAX);
    assert_int_equal(nseen, 3);
    assert_int_equal(seen_inst[0], 1);
    assert_int_equal(seen_level[0], 12); /* newest payload, first place */
    assert_int_equal(seen_inst[1], 2);
    assert_int_equal(seen_inst[2], 3);
    assert_int_equal(nlog, 1);
    assert_int_equal(atomic_load(&pub.coalesced[AT_EV_BOOK]), 2);
    /* After delivery, the same key queues again. */
    bus_publish(&pub, book(1, 13), AT_PUB_COALESCE);
    bus_drain(SIZE_MAX);
    assert_int_equal(nseen, 4);
    assert_int_equal(seen_level[3], 13);
}

#define THREADS 4
#define PER_THREAD 2000

static void *producer(void *arg)
{
    int base_n = (int)(intptr_t)arg * PER_THREAD;
    for (int i = 0; i < PER_THREAD; i++) {
        at_ev_alert *a = (at_ev_alert *)bus_event_new(&pub, AT_EV_ALERT, 0);
        a->level = (at_log_level)(base_n + i);
        bus_publish(&pub, &a->h, 0);
    }
    return NULL;
}

static int last_by_thread[THREADS];
static int total;

static void check_thread_order(void *arg, const at_event *ev)
{
    int v = (int)((const at_ev_alert *)ev)->level;
    int t = v / PER_THREAD;
    /* Per producer, delivery keeps publish order. */
    assert_true(v > last_by_thread[t]);
    last_by_thread[t] = v;
    total++;
}

static void test_cross_thread(void **state)
{
    for (int t = 0; t < THREADS; t++) {
        last_by_thread[t] = t * PER_THREAD - 1;
    }
    total = 0;
    bus_subscribe(&subc, AT_EV_ALERT, check_thread_order, NULL);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        pthread_create(&th[t], NULL, producer, (void *)(intptr_t)t);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    /* event_active from the threads woke the loop: run it until drained. */
    while (total < THREADS * PER_THREAD) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    assert_int_equal(total, THREADS * PER_THREAD);
    assert_int_equal(bus_pending(), 0);
}

/* A publish from another thread must wake a loop that is asleep in
 * event_base_loop: the watchdog firing first means the wakeup was lost. */
static bool watchdog_fired;
static int woke_seen;

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    watchdog_fired = true;
}

static void count_wake(void *arg, const at_event *ev)
{
    woke_seen++;
}

static void *late_producer(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL); /* let the main thread fall asleep first */
    at_ev_alert *a = (at_ev_alert *)bus_event_new(&pub, AT_EV_ALERT, 0);
    bus_publish(&pub, &a->h, 0);
    return NULL;
}

static void test_cross_thread_wakes_loop(void **state)
{
    watchdog_fired = false;
    woke_seen = 0;
    bus_subscribe(&subc, AT_EV_ALERT, count_wake, NULL);
    struct event *wd = evtimer_new(base, on_watchdog, NULL);
    struct timeval tv = {10, 0};
    evtimer_add(wd, &tv);
    pthread_t th;
    pthread_create(&th, NULL, late_producer, NULL);
    while (woke_seen == 0 && !watchdog_fired) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    pthread_join(th, NULL);
    event_free(wd);
    assert_false(watchdog_fired);
    assert_int_equal(woke_seen, 1);
}

static void test_metrics_text(void **state)
{
    bus_publish(&pub, alert(1), 0);
    bus_drain(SIZE_MAX);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bus_render_metrics(f);
    fclose(f);
    assert_non_null(
        strstr(buf, "aitrader_bus_published_total{type=\"alert\",instance=\"test.pub\"} 1"));
    assert_non_null(strstr(buf, "aitrader_bus_queue_depth 0"));
    free(buf);
}

static void test_bad_input(void **state)
{
    assert_null(bus_event_new(&pub, AT_EV_NONE, 0));
    assert_null(bus_event_new(&pub, AT_EV__COUNT, 0));
    assert_int_equal(bus_publish(&pub, NULL, 0), AT_EINVAL);
    assert_true(bus_subscribe(&subc, AT_EV__COUNT, record, NULL) < 0);
    assert_true(bus_subscribe(&subc, AT_EV_ALERT, NULL, NULL) < 0);
    assert_string_equal(bus_type_name(AT_EV_ORDER_INTENT), "order_intent");
    assert_int_equal(bus_payload_size(AT_EV_BOOK), sizeof(at_ev_book));
}

int main(void)
{
    evthread_use_pthreads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fifo_and_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_and_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_reentrant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_all_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_during_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalescing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread_wakes_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}

/* The bus: FIFO order, no re-entrancy, references, coalescing, catch-all
 * subscribers, unsubscribe during dispatch, cross-thread publish, counters;
 * the bounds (market data dropped oldest-first with one ALERT per episode,
 * account/order events never), the header the engine stamps. */
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

static bool settled_inside = true;

static void settle_inside(void *arg, const at_event *ev)
{
    record(NULL, ev);
    if (((const at_ev_alert *)ev)->level == 1) {
        /* inside a delivery: refused, the FIFO is not jumped */
        settled_inside = bus_settle();
        assert_int_equal(nlog, 1);
    }
}

/* bus_settle delivers what is queued, in order, from outside a delivery only
 * (a trader's prompt reads the market after it). */
static void test_settle(void **state)
{
    nlog = 0;
    bus_subscribe(&subc, AT_EV_ALERT, settle_inside, NULL);
    bus_publish(&pub, alert(1), 0);
    bus_publish(&pub, alert(2), 0);
    bus_publish(&pub, alert(3), 0);
    assert_true(bus_settle());
    assert_false(settled_inside);
    assert_int_equal(nlog, 3);
    assert_int_equal(bus_pending(), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(log_vals[i], i + 1);
    }
    assert_true(bus_settle()); /* nothing queued: nothing to do */
    assert_int_equal(nlog, 3);
}

/* bus_subscribe_from: a subscription that began late in a recorded session
 * gets only the events made from then on (a replay). */
static void test_subscribe_from(void **state)
{
    nlog = 0;
    bus_subscribe_from(&subc, AT_EV_ALERT, record, NULL, 1500000);
    bus_subscribe(&subc, AT_EV_ALERT, record, (void *)(intptr_t)1);
    bus_publish(&pub, alert(1), 0); /* made at 1000000 */
    bus_drain(SIZE_MAX);
    assert_int_equal(nlog, 1);
    assert_int_equal(log_vals[0], 101); /* only the plain subscription's */
    assert_int_equal(clock_advance(1500000), AT_OK);
    bus_publish(&pub, alert(2), 0);
    bus_drain(SIZE_MAX);
    assert_int_equal(nlog, 3);
    assert_int_equal(log_vals[1] + log_vals[2], 2 + 102);
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

/* ------------------------------------------------------------ bounds */

/* Account/order events carry a running number in a payload field; the
 * subscriber checks they all come, once, in publish order. */
static int acct_next;  /* next number a subscriber expects */
static int acct_sent;  /* numbers published so far */
static int acct_wrong; /* out of order or repeated */
static int alerts;
static char alert_msg[256];
static uint64_t market_seen;

static void on_acct(void *arg, const at_event *ev)
{
    int n = -1;
    switch (ev->type) {
    case AT_EV_ORDER:
        n = (int)((const at_ev_order *)ev)->c_time_ms;
        break;
    case AT_EV_FILL:
        n = (int)((const at_ev_fill *)ev)->exch_ts_ms;
        break;
    case AT_EV_BALANCE:
        n = (int)((const at_ev_balance *)ev)->exch_ts_ms;
        break;
    default:
        break;
    }
    if (n != acct_next) {
        acct_wrong++;
    }
    acct_next = n + 1;
}

static void on_alert(void *arg, const at_event *ev)
{
    const at_ev_alert *a = (const at_ev_alert *)ev;
    if (strcmp(ev->source, "core") == 0) {
        alerts++;
        snprintf(alert_msg, sizeof(alert_msg), "%s", a->message ? a->message : "");
    }
}

static void on_market(void *arg, const at_event *ev)
{
    market_seen++;
}

static void publish_acct(void)
{
    static const at_event_type kinds[3] = {AT_EV_ORDER, AT_EV_FILL, AT_EV_BALANCE};
    at_event_type t = kinds[acct_sent % 3];
    at_event *ev = bus_event_new(&pub, t, 0);
    assert_non_null(ev);
    if (t == AT_EV_ORDER) {
        ((at_ev_order *)ev)->c_time_ms = acct_sent;
    } else if (t == AT_EV_FILL) {
        ((at_ev_fill *)ev)->exch_ts_ms = acct_sent;
    } else {
        ((at_ev_balance *)ev)->exch_ts_ms = acct_sent;
    }
    acct_sent++;
    assert_int_equal(bus_publish(&pub, ev, 0), AT_OK);
}

/* One market-data event: books coalesce per instrument as exchange_okx
 * publishes them, tickers and trades do not. */
static void publish_market(int i)
{
    at_event *ev;
    uint32_t flags = 0;
    switch (i % 3) {
    case 0:
        ev = bus_event_new(&pub, AT_EV_BOOK, 0);
        ev->inst = (at_inst)(1 + i % 4000);
        flags = AT_PUB_COALESCE;
        break;
    case 1:
        ev = bus_event_new(&pub, AT_EV_TICKER, 0);
        ev->inst = (at_inst)(1 + i % 7);
        break;
    default:
        ev = bus_event_new(&pub, AT_EV_TRADE, 0);
        ev->inst = (at_inst)(1 + i % 7);
        break;
    }
    assert_non_null(ev);
    assert_int_equal(bus_publish(&pub, ev, flags), AT_OK);
}

static void reset_counts(void)
{
    acct_next = acct_sent = acct_wrong = alerts = 0;
    market_seen = 0;
    alert_msg[0] = '\0';
}

static uint64_t sum_types(_Atomic uint64_t *v)
{
    uint64_t n = 0;
    for (int t = 0; t < AT_EV__COUNT; t++) {
        n += atomic_load(&v[t]);
    }
    return n;
}

#define MARKET_MAX 1000

/* A slow subscriber (30 events a turn) flooded with books, tickers and
 * trades (100 a turn) among account and order events (5 a turn): the queue
 * stays under the bound, no account/order event is lost or reordered, the
 * dropped counter moves and one ALERT says so. */
static void test_flood_slow_subscriber(void **state)
{
    reset_counts();
    bus_set_limits(MARKET_MAX, 0);
    bus_subscribe(&subc, AT_EV_BOOK, on_market, NULL);
    bus_subscribe(&subc, AT_EV_TICKER, on_market, NULL);
    bus_subscribe(&subc, AT_EV_TRADE, on_market, NULL);
    bus_subscribe(&subc, AT_EV_ORDER, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_FILL, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_BALANCE, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_ALERT, on_alert, NULL);
    /* The most a queue can hold now: every market event a book (the
     * largest), plus the account events not yet delivered. */
    size_t box_max = sizeof(at_ev_book) + 256;
    int m = 0;
    for (int turn = 0; turn < 400; turn++) {
        for (int k = 0; k < 100; k++) {
            publish_market(m++);
            if (k % 20 == 0) {
                publish_acct();
            }
        }
        bus_drain(30);
        bus_stats st;
        bus_get_stats(&st);
        assert_true(st.market <= MARKET_MAX);
        /* account events are all there (none dropped), and the ALERT once */
        size_t held = st.queued - st.market;
        assert_true(held >= (size_t)(acct_sent - acct_next));
        assert_true(held <= (size_t)(acct_sent - acct_next) + 1);
        assert_true(st.bytes <= MARKET_MAX * box_max + held * 600);
    }
    bus_drain(SIZE_MAX);
    assert_int_equal(bus_pending(), 0);
    assert_int_equal(acct_wrong, 0);
    assert_int_equal(acct_next, acct_sent);
    assert_int_equal(alerts, 1);
    assert_non_null(strstr(alert_msg, "market data over 1000 queued events"));
    bus_stats st;
    bus_get_stats(&st);
    assert_int_equal(st.overflows, 1);
    /* Every market event was delivered, coalesced or dropped. */
    uint64_t dropped = sum_types(pub.dropped);
    assert_true(dropped > 0);
    assert_int_equal(market_seen + dropped + sum_types(pub.coalesced), (uint64_t)m);
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_ORDER]), 0);
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_FILL]), 0);
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_BALANCE]), 0);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bus_render_metrics(f);
    fclose(f);
    char want[160];
    snprintf(want, sizeof(want),
             "aitrader_bus_dropped_total{type=\"trade\",instance=\"test.pub\"} %llu",
             (unsigned long long)atomic_load(&pub.dropped[AT_EV_TRADE]));
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "aitrader_bus_overflows_total 1"));
    assert_null(strstr(buf, "aitrader_bus_dropped_total{type=\"order\""));
    free(buf);

    /* The episode goes on until nothing was dropped for BUS_QUIET_US: a
     * new overflow right after catching up raises no second ALERT... */
    publish_market(1);
    bus_drain(SIZE_MAX);
    for (int k = 0; k < MARKET_MAX + 1; k++) {
        publish_market(3 * k + 1);
    }
    bus_drain(SIZE_MAX);
    assert_int_equal(alerts, 1);
    /* ... one after a quiet period (simulated clock) is a new episode. */
    clock_advance(clock_now_us() + BUS_QUIET_US);
    publish_market(1);
    bus_drain(SIZE_MAX);
    for (int k = 0; k < MARKET_MAX + 1; k++) {
        publish_market(3 * k + 1);
    }
    bus_drain(SIZE_MAX);
    assert_int_equal(alerts, 2);
    bus_get_stats(&st);
    assert_int_equal(st.overflows, 2);
}

static at_inst ticker_inst[8];
static int ticker_px[8];
static int nticker;

static void on_ticker(void *arg, const at_event *ev)
{
    if (nticker < 8) {
        ticker_inst[nticker] = ev->inst;
        ticker_px[nticker++] = (int)((const at_ev_ticker *)ev)->last.m;
    }
}

static int closed_bars;

static void on_candle(void *arg, const at_event *ev)
{
    closed_bars += ((const at_ev_candle *)ev)->confirmed;
}

static void publish_ticker(at_inst inst, int px)
{
    at_ev_ticker *t = (at_ev_ticker *)bus_event_new(&pub, AT_EV_TICKER, 0);
    t->h.inst = inst;
    t->last.m = px;
    bus_publish(&pub, &t->h, 0);
}

/* While market data is dropped, snapshot types coalesce unasked; trades and
 * bars in progress are dropped oldest first; closed bars never are. */
static void test_overflow_policy_per_type(void **state)
{
    reset_counts();
    nticker = 0;
    closed_bars = 0;
    bus_set_limits(10, 0);
    bus_subscribe(&subc, AT_EV_TICKER, on_ticker, NULL);
    bus_subscribe(&subc, AT_EV_CANDLE, on_candle, NULL);
    bus_subscribe(&subc, AT_EV_ALERT, on_alert, NULL);
    publish_ticker(1, 100); /* before the overflow: queued as is */
    for (int i = 0; i < 12; i++) {
        at_ev_candle *c = (at_ev_candle *)bus_event_new(&pub, AT_EV_CANDLE, 0);
        c->confirmed = (i % 4 == 0); /* 3 closed bars, 9 in progress */
        c->open_ms = i;
        bus_publish(&pub, &c->h, 0);
    }
    /* 13 market events were offered, 3 are closed bars: 10 droppable, at the bound */
    bus_stats st;
    bus_get_stats(&st);
    assert_int_equal(st.market, 10);
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_CANDLE]), 0);
    for (int i = 0; i < 3; i++) {
        at_ev_trade *t = (at_ev_trade *)bus_event_new(&pub, AT_EV_TRADE, 0);
        bus_publish(&pub, &t->h, 0);
    }
    /* the oldest three went: the first ticker and two bars in progress */
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_TICKER]), 1);
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_CANDLE]), 2);
    /* now in an overflow: tickers of one instrument fold into one */
    publish_ticker(2, 200);
    publish_ticker(2, 201);
    publish_ticker(2, 202);
    assert_int_equal(atomic_load(&pub.coalesced[AT_EV_TICKER]), 2);
    bus_drain(SIZE_MAX);
    assert_int_equal(nticker, 1);
    assert_int_equal(ticker_inst[0], 2);
    assert_int_equal(ticker_px[0], 202);
    assert_int_equal(alerts, 1);
    /* closed bars: all three delivered; in progress: dropped or delivered */
    assert_int_equal(closed_bars, 3);
    assert_int_equal(subc.delivered[AT_EV_CANDLE] + atomic_load(&pub.dropped[AT_EV_CANDLE]), 12);
}

#define FLOOD_THREAD_MARKET 20000

static void *market_producer(void *arg)
{
    for (int i = 0; i < FLOOD_THREAD_MARKET; i++) {
        at_ev_trade *t = (at_ev_trade *)bus_event_new(&pub, AT_EV_TRADE, 0);
        bus_publish(&pub, &t->h, 0);
        if (i % 100 == 0) {
            at_ev_order *o = (at_ev_order *)bus_event_new(&pub, AT_EV_ORDER, 0);
            o->c_time_ms = i / 100;
            bus_publish(&pub, &o->h, 0);
        }
    }
    return NULL;
}

/* From another thread while the loop does not run, the mailbox holds the
 * same bound; the ALERT comes once the loop takes the mailbox. */
static void test_mailbox_bounded(void **state)
{
    reset_counts();
    bus_set_limits(MARKET_MAX, 0);
    bus_subscribe(&subc, AT_EV_ORDER, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_ALERT, on_alert, NULL);
    pthread_t th;
    pthread_create(&th, NULL, market_producer, NULL);
    pthread_join(th, NULL);
    bus_stats st;
    bus_get_stats(&st);
    assert_int_equal(st.market, MARKET_MAX);
    assert_int_equal(st.queued, MARKET_MAX + FLOOD_THREAD_MARKET / 100);
    bus_drain(SIZE_MAX);
    assert_int_equal(acct_wrong, 0);
    assert_int_equal(acct_next, FLOOD_THREAD_MARKET / 100);
    assert_int_equal(alerts, 1);
    assert_int_equal(atomic_load(&pub.dropped[AT_EV_TRADE]), FLOOD_THREAD_MARKET - MARKET_MAX);
}

/* Events that are never dropped: past the backlog bound one ALERT, and the
 * bus reports itself backlogged (the net module slows to a trickle) until
 * half are delivered. */
static void test_backlog(void **state)
{
    reset_counts();
    bus_set_limits(0, 100);
    bus_subscribe(&subc, AT_EV_ORDER, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_FILL, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_BALANCE, on_acct, NULL);
    bus_subscribe(&subc, AT_EV_ALERT, on_alert, NULL);
    for (int i = 0; i < 100; i++) {
        publish_acct();
    }
    assert_false(bus_backlogged());
    publish_acct();
    assert_true(bus_backlogged());
    for (int i = 0; i < 100; i++) {
        publish_acct(); /* still one episode */
    }
    bus_drain(100); /* 102 left (the ALERT among them) */
    assert_true(bus_backlogged());
    bus_drain(52);
    assert_false(bus_backlogged());
    bus_drain(SIZE_MAX);
    assert_int_equal(alerts, 1);
    assert_int_equal(acct_wrong, 0);
    assert_int_equal(acct_next, 201);
    bus_stats st;
    bus_get_stats(&st);
    assert_int_equal(st.backlogs, 1);
}

static uint16_t seen_version, seen_type;
static uint32_t seen_size;
static const char *seen_source;

static void record_header(void *arg, const at_event *ev)
{
    seen_version = ev->version;
    seen_type = ev->type;
    seen_size = ev->size;
    seen_source = ev->source;
}

/* The header is the bus's: a publisher that writes its own payload version
 * (as the 1.2 SDK text told it to) still delivers the engine's. */
static void test_header_is_the_engines(void **state)
{
    bus_subscribe(&subc, AT_EV_TRIGGER, record_header, NULL);
    at_ev_trigger *t = (at_ev_trigger *)bus_event_new(&pub, AT_EV_TRIGGER, 0);
    t->h.version = 1; /* a publisher built against payload version 1 */
    t->h.size = 64;   /* ... whose struct was smaller */
    t->h.type = AT_EV_ALERT;
    t->h.source = "forged";
    bus_publish(&pub, &t->h, 0);
    bus_drain(SIZE_MAX);
    assert_int_equal(seen_type, AT_EV_TRIGGER);
    assert_int_equal(seen_version, AT_EV_VERSION);
    assert_int_equal(seen_size, sizeof(at_ev_trigger));
    assert_string_equal(seen_source, "test.pub");
}

static void test_bad_input(void **state)
{
    assert_null(bus_event_new(&pub, AT_EV_NONE, 0));
    assert_null(bus_event_new(&pub, AT_EV__COUNT, 0));
    assert_null(bus_event_new(&pub, AT_EV_NEWS, (size_t)UINT32_MAX + 1)); /* string space */
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
        cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_from, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_all_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_during_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalescing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread_wakes_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_slow_subscriber, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_policy_per_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mailbox_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_is_the_engines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}

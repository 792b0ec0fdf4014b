/* The trader scheduler on the real engine (bus, SQLite storage, indicator_ta)
 * with the simulated core clock: long → short → long, grace-window merging,
 * cooldown, idempotency across a restart over the same database, budgets,
 * and real OKX BTC 1m candles through indicator_ta's signals. No sleeps: time
 * moves with clock_advance; the loop is only pumped for the storage thread.
 *
 * The scheduler is created here on a virtual "trader.alpha" instance rather
 * than from a [trader.*] section, because a trader section needs an [ai.*]
 * instance and no AI plugin is part of this build yet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "engine.h"
#include "loopsvc.h"
#include "trading/scheduler.h"
#include "util.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, ms */
#define MIN 60000LL
#define SEC 1000LL
#define DAY_MS 86400000LL

/* ---- what the bus carried ---------------------------------------------- */

typedef struct trig {
    char key[AT_ID_LEN];
    char reason[256];
    int64_t ts_ms, deadline_ms;
    bool short_mode;
} trig;

#define MAXT 1024
static trig trigs[MAXT];
static size_t ntrigs, nalerts, nsignals;

static void on_trigger(void *arg, const at_event *e)
{
    const at_ev_trigger *t = (const void *)e;
    if (ntrigs < MAXT) {
        trig *x = &trigs[ntrigs];
        snprintf(x->key, sizeof(x->key), "%s", t->key);
        snprintf(x->reason, sizeof(x->reason), "%s", t->reason);
        x->ts_ms = e->ts_us / 1000;
        x->short_mode = t->short_mode;
        x->deadline_ms = t->deadline_ms;
    }
    ntrigs++;
}

static void on_alert(void *arg, const at_event *e)
{
    const at_ev_alert *a = (const void *)e;
    if (strstr(a->message, "budget")) {
        nalerts++;
    }
}

static void on_signal(void *arg, const at_event *e)
{
    nsignals++;
}

/* ---- the rig: engine + scheduler ------------------------------------------ */

typedef struct rig {
    engine *e;
    at_instance *drv;
    sched *s;
} rig;

static sched_cfg default_cfg(void)
{
    static const char *const syms[] = {"BTC-USDT-SWAP", "ETH-USDT-SWAP"};
    return (sched_cfg){.trader = "alpha",
                       .symbols = syms,
                       .nsymbols = 2,
                       .long_ms = 12 * MIN,
                       .short_ms = 5 * MIN,
                       .grace_ms = 20 * SEC,
                       .cooldown_ms = 60 * SEC,
                       .deadline_ms = 60 * SEC,
                       .calm_periods = 3,
                       .max_hour = 12,
                       .max_day = 150,
                       .max_concurrent = 1,
                       .salience = 0.6};
}

/* Deliver what is queued and what the storage thread handed back. */
static void pump(rig *r)
{
    engine_pump(r->e);
}

static bool loaded(void *arg)
{
    rig *r = arg;
    sched_stats st;
    sched_get_stats(r->s, &st);
    return st.loaded;
}

/* `extra` ini text is appended (indicator_ta for the data test). */
static rig *rig_open(const char *dir, int64_t start_ms, const sched_cfg *cfg, const char *extra)
{
    rig *r = calloc(1, sizeof(*r));
    char *ini = at_asprintf("%s/modules.ini", dir);
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    fprintf(f,
            "[core]\nplugin_dir = %s/plugins\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = %s\n[storage.sqlite]\npath = %s/t.db\n%s",
            AT_TEST_BINARY_DIR, dir, AT_TEST_SOURCE_DIR,
            getenv("AT_TEST_LOG_LEVEL") ? getenv("AT_TEST_LOG_LEVEL") : "warn", dir,
            extra ? extra : "");
    fclose(f);
    engine_opts o = {.config_path = ini, .sim_clock = true, .sim_start_us = start_ms * 1000};
    r->e = engine_new(&o);
    conf_errors errs = {0};
    assert_int_equal(engine_load(r->e, &errs), AT_OK);
    conf_errors_free(&errs);
    assert_int_equal(engine_start(r->e), AT_OK);
    free(ini);
    r->drv = engine_virtual_instance(r->e, "test.drv");
    const at_host *h = engine_host();
    h->subscribe(r->drv, AT_EV_TRIGGER, on_trigger, NULL);
    h->subscribe(r->drv, AT_EV_ALERT, on_alert, NULL);
    h->subscribe(r->drv, AT_EV_SIGNAL, on_signal, NULL);
    r->s = sched_new(h, engine_virtual_instance(r->e, "trader.alpha"), cfg);
    assert_non_null(r->s);
    assert_int_equal(sched_start(r->s), AT_OK);
    assert_true(engine_wait(r->e, loaded, r, 5000000));
    return r;
}

static void rig_close(rig *r)
{
    sched_stop(r->s);
    engine_free(r->e);
    sched_free(r->s);
    free(r);
}

static int64_t now_ms(void)
{
    return clock_now_us() / 1000;
}

/* Move the core clock to to_ms in 1 s steps, delivering events at each. */
static void advance(rig *r, int64_t to_ms)
{
    assert_int_equal(engine_advance(r->e, to_ms * 1000, SEC * 1000), AT_OK);
}

static void send_signal(rig *r, const char *inst, const char *ind, double salience, bool entered)
{
    const at_host *h = engine_host();
    at_ev_signal *ev = (at_ev_signal *)h->event_new(r->drv, AT_EV_SIGNAL, 0);
    ev->h.inst = h->inst_intern(inst);
    snprintf(ev->indicator, sizeof(ev->indicator), "%s", ind);
    ev->dir = AT_SIG_UP;
    ev->value = 75;
    ev->threshold = 70;
    ev->salience = salience;
    ev->entered = entered;
    h->publish(r->drv, &ev->h, 0);
    pump(r);
}

static void send_news(rig *r, const char *id, const char *title, const char *coins,
                      int64_t published_ms, double impact, double score)
{
    const at_host *h = engine_host();
    at_ev_news *ev = (at_ev_news *)h->event_new(r->drv, AT_EV_NEWS, 256);
    ev->id = h->event_strdup(&ev->h, id);
    ev->title = h->event_strdup(&ev->h, title);
    ev->feed = h->event_strdup(&ev->h, "wire");
    ev->symbols = h->event_strdup(&ev->h, coins);
    ev->published_ms = published_ms;
    ev->impact = impact;
    ev->score = score;
    ev->llm_score = NAN;
    h->publish(r->drv, &ev->h, 0);
    pump(r);
}

/* The AI's answer to a trigger (as the AI layer will publish it). */
static void send_decision(rig *r, const char *id, const char *trigger_key, double cost)
{
    const at_host *h = engine_host();
    at_ev_decision *ev = (at_ev_decision *)h->event_new(r->drv, AT_EV_DECISION, 0);
    snprintf(ev->decision_id, sizeof(ev->decision_id), "%s", id);
    snprintf(ev->trader, sizeof(ev->trader), "alpha");
    snprintf(ev->trigger_key, sizeof(ev->trigger_key), "%s", trigger_key);
    ev->valid = true;
    ev->cost_usd = cost;
    h->publish(r->drv, &ev->h, 0);
    pump(r);
}

static void expect(size_t i, const char *key_fmt, int64_t key_ms, int64_t ts_ms, bool short_mode)
{
    char key[AT_ID_LEN];
    snprintf(key, sizeof(key), key_fmt, key_ms);
    assert_true(i < ntrigs);
    if (strcmp(trigs[i].key, key) != 0 || trigs[i].ts_ms != ts_ms ||
        trigs[i].short_mode != short_mode) {
        fail_msg("trigger %zu: got %s at %+" PRId64 " ms (%s, %s), want %s at %+" PRId64 " ms (%s)",
                 i, trigs[i].key, trigs[i].ts_ms - T0, trigs[i].short_mode ? "short" : "long",
                 trigs[i].reason, key, ts_ms - T0, short_mode ? "short" : "long");
    }
}

static char tmpdir[64];

static int setup(void **state)
{
    ntrigs = nalerts = nsignals = 0;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/at-sched-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    char *cmd = at_asprintf("rm -rf '%s'", tmpdir);
    if (!getenv("AT_TEST_KEEP_TMP") && system(cmd) != 0) {
        print_message("cannot remove %s\n", tmpdir);
    }
    free(cmd);
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_long_short_long(void **state)
{
    sched_cfg c = default_cfg();
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 1);
    expect(0, "alpha:long:%" PRId64, T0, T0, false); /* first start: at once */
    advance(r, T0 + 12 * MIN);
    expect(1, "alpha:long:%" PRId64, T0 + 12 * MIN, T0 + 12 * MIN, false);
    assert_int_equal(ntrigs, 2);

    /* A salient signal opens the grace window; more merge; weak ones, leaving
     * ones and other symbols' do not count. */
    int64_t g = T0 + 15 * MIN;
    advance(r, g);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.8, true);
    advance(r, g + 5 * SEC);
    send_signal(r, "ETH-USDT-SWAP", "vol_ratio", 0.9, true);
    send_signal(r, "BTC-USDT-SWAP", "chg_5m", 0.3, true);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.95, false);
    send_signal(r, "SOL-USDT-SWAP", "rsi14", 0.99, true);
    advance(r, g + 19 * SEC);
    assert_int_equal(ntrigs, 2);
    advance(r, g + 20 * SEC);
    assert_int_equal(ntrigs, 3);
    expect(2, "alpha:sig:%" PRId64, g, g + 20 * SEC, true);
    assert_string_equal(trigs[2].reason, "signal vol_ratio up 0.90 ETH-USDT-SWAP (+1 merged)");

    /* Short mode: every 5 min from the signal trigger; the third calm
     * period ends in long mode. */
    int64_t t = g + 20 * SEC;
    advance(r, t + 15 * MIN);
    assert_int_equal(ntrigs, 6);
    expect(3, "alpha:short:%" PRId64, t + 5 * MIN, t + 5 * MIN, true);
    expect(4, "alpha:short:%" PRId64, t + 10 * MIN, t + 10 * MIN, true);
    expect(5, "alpha:long:%" PRId64, t + 15 * MIN, t + 15 * MIN, false);
    assert_non_null(strstr(trigs[5].reason, "calm for 3"));
    advance(r, t + 27 * MIN);
    expect(6, "alpha:long:%" PRId64, t + 27 * MIN, t + 27 * MIN, false);
    sched_stats st;
    sched_get_stats(r->s, &st);
    assert_false(st.short_mode);
    assert_int_equal(st.triggers, 7);
    assert_int_equal(st.merged, 1);
    rig_close(r);
}

/* A fresh headline about one of the trader's coins with impact >=
 * news_impact is a salient signal: it opens a grace window like an
 * indicator's and its trigger says so; a stale, weak, or other coins'
 * headline ("WBTC" is not BTC) is not; news_impact 0: headlines never
 * trigger. */
static void test_news_signal(void **state)
{
    sched_cfg c = default_cfg();
    c.news_impact = 0.8;
    c.news_fresh_ms = 30 * MIN;
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 1);
    expect(0, "alpha:long:%" PRId64, T0, T0, false);
    int64_t g = T0 + 3 * MIN;
    advance(r, g);
    send_news(r, "n0", "Exchange hacked yesterday", "BTC", g - 31 * MIN, 0.95, -0.8);
    send_news(r, "n1", "Bitcoin note", "BTC", g, 0.5, 0.1);
    send_news(r, "n2", "Solana outage", "SOL", g, 0.99, -0.9);
    send_news(r, "n3", "Wrapped bitcoin depeg", "WBTC", g, 0.99, -0.9);
    advance(r, g + MIN);
    assert_int_equal(ntrigs, 1);
    g += MIN;
    send_news(r, "n4", "Exchange hacked, withdrawals halted", "ETH,BTC", g - 5 * MIN, 0.9, -0.7);
    advance(r, g + 20 * SEC);
    assert_int_equal(ntrigs, 2);
    expect(1, "alpha:sig:%" PRId64, g, g + 20 * SEC, true);
    assert_string_equal(trigs[1].reason, "signal news down 0.90 BTC-USDT-SWAP: \"Exchange hacked, "
                                         "withdrawals halted\"");
    rig_close(r);

    teardown(state);
    setup(state);
    c.news_impact = 0;
    r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 1);
    send_news(r, "n5", "Exchange hacked, withdrawals halted", "BTC", T0, 1, -0.9);
    advance(r, T0 + 5 * MIN);
    assert_int_equal(ntrigs, 1); /* the first start's only */
    rig_close(r);
}

static void test_cooldown(void **state)
{
    sched_cfg c = default_cfg();
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 10 * SEC);
    assert_int_equal(ntrigs, 1);
    /* Grace ends at +30 s, the cooldown at +60 s: the trigger waits. */
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 40 * SEC);
    send_signal(r, "BTC-USDT-SWAP", "chg_5m", 0.75, true); /* merged while waiting */
    advance(r, T0 + 59 * SEC);
    assert_int_equal(ntrigs, 1);
    advance(r, T0 + 60 * SEC);
    expect(1, "alpha:sig:%" PRId64, T0 + 10 * SEC, T0 + 60 * SEC, true);
    assert_string_equal(trigs[1].reason, "signal chg_5m up 0.75 BTC-USDT-SWAP (+1 merged)");
    /* Again: the grace end (+90 s) is inside the cooldown (to +120 s). */
    advance(r, T0 + 70 * SEC);
    send_signal(r, "ETH-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 119 * SEC);
    assert_int_equal(ntrigs, 2);
    advance(r, T0 + 120 * SEC);
    expect(2, "alpha:sig:%" PRId64, T0 + 70 * SEC, T0 + 120 * SEC, true);
    /* The short period runs from the last trigger. */
    advance(r, T0 + 120 * SEC + 5 * MIN);
    expect(3, "alpha:short:%" PRId64, T0 + 120 * SEC + 5 * MIN, T0 + 120 * SEC + 5 * MIN, true);
    rig_close(r);
}

static int count_row(void *arg, const at_db_row *row)
{
    *(int64_t *)arg = row->cols[0].u.i;
    return 0;
}

static bool counted(void *arg)
{
    return *(int64_t *)arg >= 0;
}

static void count_done(void *arg, int err, const char *error)
{
    assert_int_equal(err, AT_OK);
}

static int64_t stored_triggers(rig *r)
{
    int64_t n = -1;
    engine_host()->db_query(r->drv, "SELECT count(*) FROM triggers", NULL, 0, count_row, count_done,
                            &n);
    engine_wait(r->e, counted, &n, 5000000);
    return n;
}

static void test_restart(void **state)
{
    sched_cfg c = default_cfg();
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 2 * MIN);
    assert_int_equal(ntrigs, 1);
    rig_close(r);

    /* Same window, same database: nothing until the next due. */
    r = rig_open(tmpdir, T0 + 3 * MIN, &c, NULL);
    advance(r, T0 + 12 * MIN - 1);
    assert_int_equal(ntrigs, 1);
    advance(r, T0 + 12 * MIN);
    assert_int_equal(ntrigs, 2);
    expect(1, "alpha:long:%" PRId64, T0 + 12 * MIN, T0 + 12 * MIN, false);
    /* Into short mode, then restart inside the short period. */
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
    advance(r, T0 + 13 * MIN);
    assert_int_equal(ntrigs, 3);
    /* Grace ends at +12:20, the cooldown of the +12:00 trigger at +13:00. */
    expect(2, "alpha:sig:%" PRId64, T0 + 12 * MIN, T0 + 13 * MIN, true);
    assert_int_equal(stored_triggers(r), 3);
    rig_close(r);

    r = rig_open(tmpdir, T0 + 14 * MIN, &c, NULL);
    sched_stats st;
    sched_get_stats(r->s, &st);
    assert_true(st.short_mode);
    /* The short period runs from the stored +13:00 trigger. */
    advance(r, T0 + 18 * MIN - 1);
    assert_int_equal(ntrigs, 3);
    advance(r, T0 + 18 * MIN);
    expect(3, "alpha:short:%" PRId64, T0 + 18 * MIN, T0 + 18 * MIN, true);
    assert_int_equal(stored_triggers(r), 4);
    rig_close(r);
}

static void test_budget(void **state)
{
    sched_cfg c = default_cfg();
    c.max_hour = 3;
    c.cooldown_ms = 0;
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 1);
    /* A salient signal every 2 minutes: start + 2 signal triggers fill the
     * hour; the rest are skipped with one ALERT. */
    for (int i = 1; i <= 10; i++) {
        advance(r, T0 + i * 2 * MIN);
        send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
    }
    advance(r, T0 + 21 * MIN);
    assert_int_equal(ntrigs, 3);
    assert_int_equal(nalerts, 1);
    sched_stats st;
    sched_get_stats(r->s, &st);
    assert_true(st.over_budget >= 7);
    assert_true(st.short_mode);
    /* Skipped windows still move the schedule: short dues at +25:20 … end
     * calm in long mode at +35:20 (skipped), +47:20 skipped, +59:20 skipped
     * (T0, +2:20, +4:20 in the hour), +71:20 has room again. */
    advance(r, T0 + 71 * MIN + 20 * SEC - 1);
    assert_int_equal(ntrigs, 3);
    advance(r, T0 + 72 * MIN);
    assert_int_equal(ntrigs, 4);
    expect(3, "alpha:long:%" PRId64, T0 + 71 * MIN + 20 * SEC, T0 + 71 * MIN + 20 * SEC, false);
    /* Running over again alerts again (one ALERT per spell). */
    for (int i = 0; i < 4; i++) {
        advance(r, T0 + 73 * MIN + i * MIN);
        send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
    }
    advance(r, T0 + 78 * MIN);
    assert_int_equal(ntrigs, 6);
    assert_int_equal(nalerts, 2);

    /* The day budget alone. */
    rig_close(r);
    ntrigs = nalerts = 0;
    char *cmd = at_asprintf("rm -f '%s/t.db'", tmpdir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    c = default_cfg();
    c.max_day = 4;
    c.max_hour = 0;
    r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 120 * MIN);
    assert_int_equal(ntrigs, 4); /* T0, +12, +24, +36 */
    assert_int_equal(nalerts, 1);
    rig_close(r);
}

/* A trigger is a call in flight until its DECISION or its deadline; with
 * max_concurrent in flight the next one waits; the cooldown also runs from
 * the last decision. */
static void test_concurrency(void **state)
{
    sched_cfg c = default_cfg();
    c.cooldown_ms = 0;
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 1);
    expect(0, "alpha:long:%" PRId64, T0, T0, false);
    assert_int_equal(trigs[0].deadline_ms, 60 * SEC);
    sched_stats st;
    sched_get_stats(r->s, &st);
    assert_int_equal(st.in_flight, 1);
    /* No answer: the grace end (+25 s) waits for the deadline (+60 s). */
    advance(r, T0 + 5 * SEC);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 60 * SEC - 1);
    assert_int_equal(ntrigs, 1);
    advance(r, T0 + 60 * SEC);
    expect(1, "alpha:sig:%" PRId64, T0 + 5 * SEC, T0 + 60 * SEC, true);
    sched_get_stats(r->s, &st);
    assert_int_equal(st.late, 1);
    assert_int_equal(st.in_flight, 1);
    /* The answer frees the slot: the next grace window fires on time. */
    advance(r, T0 + 70 * SEC);
    send_decision(r, "d1", trigs[1].key, 0.01);
    sched_get_stats(r->s, &st);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.decisions, 1);
    assert_int_equal(st.late, 1);
    advance(r, T0 + 80 * SEC);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 100 * SEC);
    expect(2, "alpha:sig:%" PRId64, T0 + 80 * SEC, T0 + 100 * SEC, true);
    rig_close(r);

    /* Two slots: the second call runs beside the first, the third waits. */
    char *cmd = at_asprintf("rm -f '%s/t.db'", tmpdir);
    assert_int_equal(system(cmd), 0);
    ntrigs = 0;
    c.max_concurrent = 2;
    r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 5 * SEC);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 25 * SEC);
    expect(1, "alpha:sig:%" PRId64, T0 + 5 * SEC, T0 + 25 * SEC, true);
    advance(r, T0 + 30 * SEC);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 60 * SEC - 1);
    assert_int_equal(ntrigs, 2);
    advance(r, T0 + 60 * SEC);
    expect(2, "alpha:sig:%" PRId64, T0 + 30 * SEC, T0 + 60 * SEC, true);
    rig_close(r);

    /* Cooldown from the decision: answered at +50 s, a 60 s cooldown holds
     * the next trigger to +110 s (from the trigger alone it would be +60 s). */
    assert_int_equal(system(cmd), 0);
    free(cmd);
    ntrigs = 0;
    c = default_cfg();
    r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + 50 * SEC);
    send_decision(r, "d0", trigs[0].key, 0);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.7, true);
    advance(r, T0 + 110 * SEC - 1);
    assert_int_equal(ntrigs, 1);
    advance(r, T0 + 110 * SEC);
    expect(1, "alpha:sig:%" PRId64, T0 + 50 * SEC, T0 + 110 * SEC, true);
    rig_close(r);
}

/* max_cost_day: the decisions' cost of the last 24 h, also across a restart,
 * however many calls that takes (the call budgets are off here). */
static void test_cost_budget(void **state)
{
    sched_cfg c = default_cfg();
    c.cooldown_ms = 0;
    c.max_hour = c.max_day = 0;
    c.max_cost_day = 1.0;
    rig *r = rig_open(tmpdir, T0, &c, NULL);
    advance(r, T0 + SEC);
    send_decision(r, "d0", trigs[0].key, 0.4);
    for (int i = 1; i <= 2; i++) {
        advance(r, T0 + i * 2 * MIN);
        send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
        advance(r, T0 + i * 2 * MIN + 20 * SEC);
        assert_int_equal(ntrigs, (size_t)i + 1);
        char id[8];
        snprintf(id, sizeof(id), "d%d", i);
        send_decision(r, id, trigs[i].key, 0.4);
    }
    sched_stats st;
    sched_get_stats(r->s, &st);
    assert_true(fabs(st.cost_day - 1.2) < 1e-9);
    /* 1.2 USD spent: the next window is skipped, with one ALERT. */
    advance(r, T0 + 6 * MIN);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
    advance(r, T0 + 7 * MIN);
    assert_int_equal(ntrigs, 3);
    assert_int_equal(nalerts, 1);
    /* A decision for no trigger of ours still costs. */
    send_decision(r, "foreign", "", 0.05);
    sched_get_stats(r->s, &st);
    assert_true(fabs(st.cost_day - 1.25) < 1e-9);
    rig_close(r);

    /* A restart reads the stored costs back: still over. */
    r = rig_open(tmpdir, T0 + 10 * MIN, &c, NULL);
    sched_get_stats(r->s, &st);
    assert_true(fabs(st.cost_day - 1.2) < 1e-9);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
    advance(r, T0 + 11 * MIN);
    assert_int_equal(ntrigs, 3);
    rig_close(r);

    /* A day after the first two answers only the third (0.4) counts. */
    r = rig_open(tmpdir, T0 + DAY_MS + 3 * MIN, &c, NULL);
    sched_get_stats(r->s, &st);
    assert_true(fabs(st.cost_day - 0.4) < 1e-9);
    send_signal(r, "BTC-USDT-SWAP", "rsi14", 0.9, true);
    advance(r, T0 + DAY_MS + 4 * MIN);
    assert_true(ntrigs > 3);
    rig_close(r);
}

/* ---- real data: OKX BTC 1m candles through indicator_ta ------------------- */

/* One row of the freqtrade CSV: ts,iso_time,open,high,low,close,volume (the
 * test does not link lib/ta, so it reads the few columns itself). */
typedef struct bar {
    int64_t open_ms;
    double o, h, l, c, v;
} bar;

static bool next_bar(FILE *f, bar *b)
{
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        long long ts;
        if (sscanf(line, "%lld,%*[^,],%lf,%lf,%lf,%lf,%lf", &ts, &b->o, &b->h, &b->l, &b->c,
                   &b->v) == 6) {
            b->open_ms = ts;
            return true;
        }
    }
    return false;
}

static void publish_candle(rig *r, const bar *b)
{
    const at_host *h = engine_host();
    at_ev_candle *k = (at_ev_candle *)h->event_new(r->drv, AT_EV_CANDLE, 0);
    k->h.inst = h->inst_intern("BTC-USDT-SWAP");
    k->bar_s = 60;
    k->open_ms = b->open_ms;
    h->dec_from_double(b->o, 2, &k->o);
    h->dec_from_double(b->h, 2, &k->hi);
    h->dec_from_double(b->l, 2, &k->lo);
    h->dec_from_double(b->c, 2, &k->c);
    h->dec_from_double(b->v, 4, &k->vol);
    k->confirmed = true;
    h->publish(r->drv, &k->h, 0);
}

static void test_okx_btc_1m(void **state)
{
    const char *path = AT_TEST_SOURCE_DIR
        "/../shared/data/okx_freqtrade_huckhuck12/okx_BTC-USDT-SWAP_1m_20260101-20260116.csv";
    if (access(path, R_OK) != 0) {
        skip();
    }
    FILE *csv = fopen(path, "r");
    assert_non_null(csv);
    bar b;
    assert_true(next_bar(csv, &b));
    sched_cfg c = default_cfg();
    rig *r = rig_open(tmpdir, b.open_ms + MIN, &c,
                      "[indicator.ta]\ninstruments = BTC-USDT-SWAP\nbars = 1m\n");
    int64_t first = b.open_ms;
    size_t bars = 0;
    /* Three days: each candle is published when its minute has closed. */
    do {
        advance(r, b.open_ms + MIN);
        publish_candle(r, &b);
        pump(r);
        bars++;
    } while (b.open_ms < first + 3 * 1440 * MIN && next_bar(csv, &b));
    fclose(csv);
    advance(r, now_ms() + 30 * SEC); /* the last grace window */

    size_t sig_trigs = 0;
    for (size_t i = 0; i < ntrigs && i < MAXT; i++) {
        sig_trigs += strncmp(trigs[i].key, "alpha:sig:", 10) == 0;
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(trigs[i].key, trigs[j].key);
        }
        /* Never more than max_calls_hour in a rolling hour. */
        size_t in_hour = 0;
        for (size_t j = 0; j <= i; j++) {
            in_hour += trigs[j].ts_ms > trigs[i].ts_ms - 60 * MIN;
        }
        assert_true(in_hour <= 12);
        if (i > 0) {
            assert_true(trigs[i].ts_ms - trigs[i - 1].ts_ms >= 60 * SEC); /* cooldown */
        }
    }
    print_message("BTC 1m, %zu bars: %zu signals, %zu triggers (%zu from signals), %.1f/day\n",
                  bars, nsignals, ntrigs, sig_trigs, (double)ntrigs / 3.0);
    assert_true(nsignals > 0);
    assert_true(sig_trigs > 0);
    assert_true(ntrigs >= 3 * 120 - 5 && ntrigs <= 3 * 150);
    assert_int_equal(stored_triggers(r), (int64_t)ntrigs);
    rig_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_long_short_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_news_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cooldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_okx_btc_1m, setup, teardown),
    };
    return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}

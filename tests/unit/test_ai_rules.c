/* plugins/ai_rules (the offline rules provider) on a mock host: the real
 * .so from the build tree, its config written through the engine's own
 * schema code (conf_apply), INDICATOR / TICKER / MARK / POSITION events
 * handed to its subscriptions, ops->request called as a trader would, and a
 * loop turn run by the test. Asserts the exact JSON text for each rule,
 * that every answer parses with jansson into CONTRACTS §4's fields and
 * types, that the same inputs give the same bytes, and when `done` runs:
 * never inside request() or cancel(), once per call, AT_ESTATE on stop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <aitrader/plugin.h>

#include "conf.h"
#include "engine.h"
#include "harness.h"
#include "mock_host.h"

#define T0 1767225600000LL /* 2026-01-01T00:00Z, a 5m boundary */
#define BAR5 300000LL
#define MAXR 8

static const at_plugin *plugin;
static void *dl;

/* ------------------------------------------------------------ mock host */

typedef struct reply {
    int err;
    char *content;
    char *error;
    char model[32];
    char finish[16];
    int64_t tokens_in, tokens_out;
    double cost;
} reply;

/* What the test records beside the mock host (tests/support/mock_host.h). */
static struct {
    bool in_call;     /* inside ops->request or ops->cancel */
    int done_in_call; /* done callbacks made from inside one: must stay 0 */
    reply replies[MAXR];
    int nreplies;
} M;

static at_host any_timer; /* the mock host's own timer_add */

/* The plugin only ever asks for the next loop turn: anything else fails. */
static at_timer *next_turn(at_instance *inst, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                           void *arg)
{
    if (after_ms != 0 || repeat_ms != 0) {
        return NULL;
    }
    return any_timer.timer_add(inst, 0, 0, cb, arg);
}

static void deliver(at_event *e)
{
    e->ts_us = MH.now_us;
    mock_deliver(e);
}

static void on_done(void *arg, const at_ai_reply *r)
{
    (void)arg;
    M.done_in_call += M.in_call;
    if (M.nreplies >= MAXR) {
        return;
    }
    reply *p = &M.replies[M.nreplies++];
    p->err = r->err;
    p->content = r->content ? strdup(r->content) : NULL;
    p->error = r->error ? strdup(r->error) : NULL;
    snprintf(p->model, sizeof(p->model), "%s", r->model ? r->model : "");
    snprintf(p->finish, sizeof(p->finish), "%s", r->finish_reason ? r->finish_reason : "");
    p->tokens_in = r->tokens_in;
    p->tokens_out = r->tokens_out;
    p->cost = r->cost_usd;
}

static void mock_reset(void)
{
    for (int i = 0; i < M.nreplies; i++) {
        free(M.replies[i].content);
        free(M.replies[i].error);
    }
    memset(&M, 0, sizeof(M));
    mock_host_init("ai.rules", (T0 + BAR5) * 1000); /* just after the T0 bar closed */
    any_timer = MH.host;
    MH.host.timer_add = next_turn;
}

/* ------------------------------------------------------- plugin instance */

typedef struct rig {
    void *ctx;
    conf_file *file;
    conf_owned *owned;
    bool started, stopped;
} rig;

static char fake_inst;
#define INST ((at_instance *)&fake_inst)

/* The section text's values written into a fresh context, as `run` does. */
static void *configure(rig *r, const char *section_body)
{
    char text[1024];
    snprintf(text, sizeof(text), "[ai.rules]\n%s", section_body);
    conf_errors errs = {0};
    r->file = conf_load_string("test.ini", text, &errs);
    assert_non_null(r->file);
    r->ctx = calloc(1, plugin->ctx_size);
    assert_non_null(r->ctx);
    static const char *const ignore[] = {"module", "enabled", NULL};
    int n = conf_apply("test.ini", "ai.rules", conf_section_get(r->file, "ai.rules"),
                       plugin->config, ignore, r->ctx, &r->owned, &errs);
    for (size_t i = 0; i < errs.n; i++) {
        fprintf(stderr, "%s\n", errs.msgs[i]);
    }
    conf_errors_free(&errs);
    assert_int_equal(n, 0);
    return r->ctx;
}

static void rig_up(rig *r, const char *section_body)
{
    memset(r, 0, sizeof(*r));
    configure(r, section_body);
    const char *key = NULL;
    char why[256] = "";
    assert_int_equal(plugin->check_config(r->ctx, &key, why, sizeof(why)), AT_OK);
    assert_int_equal(plugin->init(INST, &MH.host, r->ctx), AT_OK);
    assert_int_equal(plugin->start(r->ctx), AT_OK);
    r->started = true;
}

static void rig_down(rig *r)
{
    if (r->started && !r->stopped) {
        plugin->stop(r->ctx);
    }
    plugin->destroy(r->ctx);
    free(r->ctx);
    conf_owned_free(r->owned);
    conf_free(r->file);
}

static const at_ai_ops *ops(void)
{
    return plugin->ops;
}

/* -------------------------------------------------------------- events */

static at_dec D(double v)
{
    at_dec d;
    assert_int_equal(MH.host.dec_from_double(v, 10, &d), AT_OK);
    return d;
}

static at_inst I(const char *sym)
{
    return MH.host.inst_intern(sym);
}

/* The names and order indicator_ta publishes (ind_names), the rest NaN. */
static void indicator(const char *sym, int64_t bar_s, int64_t open_ms, double close, double e12,
                      double e26, double rsi, double hist, double atr)
{
    static const char *const names[22] = {
        "close",     "ema12",      "ema26",   "rsi14",      "macd",    "macd_signal",
        "macd_hist", "bb_upper",   "bb_mid",  "bb_lower",   "atr14",   "vol_rv",
        "chg_5m",    "chg_15m",    "chg_1h",  "chg_4h",     "chg_24h", "vol_ratio",
        "obi5",      "microprice", "funding", "funding_chg"};
    at_ev_indicator ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = AT_EV_INDICATOR;
    ev.h.size = sizeof(ev);
    ev.h.inst = I(sym);
    ev.bar_s = bar_s;
    ev.bar_open_ms = open_ms;
    ev.n = 22;
    for (int i = 0; i < 22; i++) {
        snprintf(ev.v[i].name, sizeof(ev.v[i].name), "%s", names[i]);
        ev.v[i].value = NAN;
    }
    ev.v[0].value = close;
    ev.v[1].value = e12;
    ev.v[2].value = e26;
    ev.v[3].value = rsi;
    ev.v[4].value = e12 - e26;
    ev.v[5].value = e12 - e26 - hist;
    ev.v[6].value = hist;
    ev.v[10].value = atr;
    deliver(&ev.h);
}

static void ticker(const char *sym, double last)
{
    at_ev_ticker ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = AT_EV_TICKER;
    ev.h.inst = I(sym);
    ev.last = D(last);
    ev.bid = D(last);
    ev.ask = D(last);
    deliver(&ev.h);
}

static void mark(const char *sym, double px)
{
    at_ev_mark ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = AT_EV_MARK;
    ev.h.inst = I(sym);
    ev.mark_px = D(px);
    deliver(&ev.h);
}

static void position(const char *sym, const char *account, at_pos_side side, double pos)
{
    at_ev_position ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = AT_EV_POSITION;
    ev.h.inst = I(sym);
    snprintf(ev.account, sizeof(ev.account), "%s", account);
    ev.pos_side = side;
    ev.pos = D(pos);
    ev.avg_px = D(100);
    deliver(&ev.h);
}

/* ------------------------------------------------------------ contract */

/* CONTRACTS §4, field by field and type by type; returns the parsed root. */
static json_t *contract(const char *text, size_t nsym)
{
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        fail_msg("not JSON (%s): %s", err.text, text);
    }
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 1);
    json_t *list = json_object_get(root, "decisions");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), nsym);
    static const char *const actions[] = {"open_long", "open_short", "close_long", "close_short",
                                          "hold"};
    for (size_t i = 0; i < nsym; i++) {
        json_t *d = json_array_get(list, i);
        assert_true(json_is_object(d));
        assert_int_equal(json_object_size(d), 9);
        assert_true(json_is_string(json_object_get(d, "symbol")));
        const char *a = json_string_value(json_object_get(d, "action"));
        assert_non_null(a);
        bool known = false;
        for (int k = 0; k < 5; k++) {
            known |= strcmp(a, actions[k]) == 0;
        }
        assert_true(known);
        assert_true(json_is_number(json_object_get(d, "size_pct")));
        assert_true(json_is_integer(json_object_get(d, "leverage")));
        assert_true(json_is_number(json_object_get(d, "take_profit")));
        assert_true(json_is_number(json_object_get(d, "stop_loss")));
        json_t *c = json_object_get(d, "confidence");
        assert_true(json_is_number(c));
        assert_true(json_number_value(c) >= 0 && json_number_value(c) <= 1);
        assert_true(json_is_string(json_object_get(d, "reason")));
        assert_true(json_string_length(json_object_get(d, "reason")) > 0);
        assert_true(json_is_string(json_object_get(d, "invalidation")));
        double sz = json_number_value(json_object_get(d, "size_pct"));
        assert_true(strcmp(a, "hold") == 0 ? sz == 0 : sz > 0 && sz <= 1);
    }
    return root;
}

static double num(json_t *root, size_t i, const char *key)
{
    return json_number_value(
        json_object_get(json_array_get(json_object_get(root, "decisions"), i), key));
}

/* ------------------------------------------------------------- calling */

/* One call as a trader makes it: nothing may come back inside request();
 * one loop turn later exactly one answer has. Returns its content. */
static const char *ask_id(rig *r, const char *id, const char *const *syms, size_t n)
{
    at_ai_request req = {.trader = "alpha",
                         .request_id = id,
                         .system = "sys",
                         .user = "ctx",
                         .symbols = syms,
                         .nsymbols = n,
                         .deadline_ms = MH.now_us / 1000 + 60000};
    int before = M.nreplies;
    M.in_call = true;
    int rc = ops()->request(r->ctx, &req, on_done, NULL);
    M.in_call = false;
    assert_int_equal(rc, AT_OK);
    assert_int_equal(M.done_in_call, 0);
    assert_int_equal(M.nreplies, before); /* not answered inside request() */
    mock_turn();
    assert_int_equal(M.nreplies, before + 1);
    reply *p = &M.replies[before];
    assert_int_equal(p->err, AT_OK);
    assert_non_null(p->content);
    assert_string_equal(p->model, "rules-v1");
    assert_string_equal(p->finish, "stop");
    assert_true(p->tokens_in == 0 && p->tokens_out == 0 && p->cost == 0);
    json_decref(contract(p->content, n));
    return p->content;
}

static const char *ask(rig *r, const char *sym)
{
    const char *const syms[1] = {sym};
    return ask_id(r, "d-1", syms, 1);
}

#define BTC "BTC-USDT-SWAP"
#define ETH "ETH-USDT-SWAP"

/* Bullish on the 5m bar at T0: ema12 above ema26, macd_hist up, rsi14 62.5. */
static void bullish(const char *sym)
{
    indicator(sym, 300, T0, 100.4, 100.2, 99.8, 62.5, 0.15, 1.2);
}

/* Bearish: ema12 below ema26, macd_hist down, rsi14 45. */
static void bearish(const char *sym)
{
    indicator(sym, 300, T0, 99.6, 99.5, 100, 45, -0.1, 1);
}

/* ---------------------------------------------------------------- tests */

static void test_warmup_hold(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "");
    /* nothing seen yet */
    assert_string_equal(ask(&r, BTC),
                        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\","
                        "\"size_pct\":0.0,\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,"
                        "\"confidence\":0.0,\"reason\":\"indicators warming up\","
                        "\"invalidation\":\"waiting for the first 5m indicator values\"}]}");
    /* warm 1m values do not count: the rules read 5m bars */
    indicator(BTC, 60, T0 + 4 * 60000, 100.4, 100.2, 99.8, 62.5, 0.15, 1.2);
    ticker(BTC, 100.5);
    assert_string_equal(ask(&r, BTC),
                        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\","
                        "\"size_pct\":0.0,\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,"
                        "\"confidence\":0.0,\"reason\":\"indicators warming up\","
                        "\"invalidation\":\"waiting for the first 5m indicator values\"}]}");
    /* 5m values with MACD and ATR still NaN (bar 20 of 33) */
    indicator(BTC, 300, T0, 100.4, 100.2, 99.8, 62.5, NAN, NAN);
    assert_string_equal(ask(&r, BTC),
                        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\","
                        "\"size_pct\":0.0,\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,"
                        "\"confidence\":0.0,\"reason\":\"indicators warming up\","
                        "\"invalidation\":\"waiting for 5m macd_hist, atr14\"}]}");
    rig_down(&r);
}

static void test_bullish_open_long(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "");
    bullish(BTC);
    ticker(BTC, 100.5); /* newer than the bar's close 100.4: the price used */
    const char *json = ask(&r, BTC);
    assert_string_equal(
        json, "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
              "\"size_pct\":0.1,\"leverage\":3,\"take_profit\":104.1,\"stop_loss\":98.7,"
              "\"confidence\":0.71,\"reason\":\"uptrend: ema12 100.2 > ema26 99.8, macd_hist "
              "0.15 > 0, rsi14 62.5 between 50 and 70; price 100.5, atr14 1.2\","
              "\"invalidation\":\"price at or below 98.7, ema12 below ema26 with macd_hist "
              "below 0, or rsi14 at or above 80\"}]}");
    json_t *root = contract(json, 1);
    /* 100.5 + 3 x 1.2 and 100.5 - 1.5 x 1.2, exactly as decimals */
    assert_true(num(root, 0, "take_profit") == 104.1 && num(root, 0, "take_profit") > 100.5);
    assert_true(num(root, 0, "stop_loss") == 98.7 && num(root, 0, "stop_loss") < 100.5);
    json_decref(root);

    /* configured size, leverage, multiples and digits; overbought rsi14: no chase */
    rig r2;
    rig_up(&r2, "size_pct = 0.05\nleverage = 5\ntp_atr = 2\nsl_atr = 1\nprice_digits = 4\n");
    bullish(BTC); /* r2 subscribed after the first events */
    ticker(BTC, 100.5);
    assert_string_equal(
        ask(&r2, BTC),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
        "\"size_pct\":0.05,\"leverage\":5,\"take_profit\":102.9,\"stop_loss\":99.3,"
        "\"confidence\":0.71,\"reason\":\"uptrend: ema12 100.2 > ema26 99.8, macd_hist "
        "0.15 > 0, rsi14 62.5 between 50 and 70; price 100.5, atr14 1.2\","
        "\"invalidation\":\"price at or below 99.3, ema12 below ema26 with macd_hist "
        "below 0, or rsi14 at or above 80\"}]}");
    indicator(BTC, 300, T0, 100.4, 100.2, 99.8, 71, 0.15, 1.2);
    assert_string_equal(
        ask(&r2, BTC),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\",\"size_pct\":0.0,"
        "\"leverage\":5,\"take_profit\":0.0,\"stop_loss\":0.0,\"confidence\":0.5,"
        "\"reason\":\"no entry, uptrend but rsi14 at or above 70: ema12 100.2, ema26 99.8, "
        "macd_hist 0.15, rsi14 71\",\"invalidation\":\"long when ema12 > ema26, macd_hist > 0 "
        "and 50 < rsi14 < 70; short when ema12 < ema26, macd_hist < 0 and 30 < rsi14 < "
        "50\"}]}");
    rig_down(&r2);
    rig_down(&r);
}

static void test_bearish_open_short(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "");
    indicator(ETH, 300, T0, 2000, 1990, 2005, 41, -1.8, 12);
    mark(ETH, 1999.5); /* no ticker: the mark, newer than the close */
    const char *json = ask(&r, ETH);
    assert_string_equal(
        json, "{\"decisions\":[{\"symbol\":\"ETH-USDT-SWAP\",\"action\":\"open_short\","
              "\"size_pct\":0.1,\"leverage\":3,\"take_profit\":1963.5,\"stop_loss\":2017.5,"
              "\"confidence\":0.79,\"reason\":\"downtrend: ema12 1990 < ema26 2005, macd_hist "
              "-1.8 < 0, rsi14 41 between 30 and 50; price 1999.5, atr14 12\","
              "\"invalidation\":\"price at or above 2017.5, ema12 above ema26 with macd_hist "
              "above 0, or rsi14 at or below 20\"}]}");
    json_t *root = contract(json, 1);
    assert_true(num(root, 0, "take_profit") < 1999.5 && num(root, 0, "stop_loss") > 1999.5);
    json_decref(root);

    /* a price below 1e-4 keeps its digits (JSON exponent form, exact) */
    indicator("PEPE-USDT-SWAP", 300, T0, 0.00001234, 0.0000122, 0.0000124, 40, -0.00000001,
              0.0000002);
    ticker("PEPE-USDT-SWAP", 0.00001234);
    json = ask(&r, "PEPE-USDT-SWAP");
    assert_non_null(strstr(json, "\"action\":\"open_short\""));
    if (!strstr(json, "\"take_profit\":1.174e-5,\"stop_loss\":1.264e-5,")) {
        fail_msg("%s", json);
    }
    root = contract(json, 1);
    assert_true(num(root, 0, "take_profit") == 0.00001174);
    assert_true(num(root, 0, "stop_loss") == 0.00001264);
    json_decref(root);
    rig_down(&r);
}

static void test_held_long_closes(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "account = exchange.paper\n");
    bearish(BTC);
    ticker(BTC, 99.6);
    /* another account's long is not this trader's: flat, so a short opens */
    position(BTC, "exchange.okx_main", AT_POS_NET, 2);
    assert_non_null(strstr(ask(&r, BTC), "\"action\":\"open_short\""));
    /* its own long and the opposite signal: close it (no flip in one step) */
    position(BTC, "exchange.paper", AT_POS_NET, 2);
    assert_string_equal(
        ask(&r, BTC),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"close_long\","
        "\"size_pct\":1.0,\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,"
        "\"confidence\":0.7,\"reason\":\"downtrend against the long: ema12 99.5 < ema26 100, "
        "macd_hist -0.1 < 0; rsi14 45\",\"invalidation\":\"ema12 back above ema26 with "
        "macd_hist above 0\"}]}");
    /* the long with its trend intact is held */
    indicator(BTC, 300, T0 + BAR5, 100.4, 100.2, 99.8, 62.5, 0.15, 1.2);
    MH.now_us += BAR5 * 1000;
    assert_string_equal(
        ask(&r, BTC),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\",\"size_pct\":0.0,"
        "\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,\"confidence\":0.5,"
        "\"reason\":\"long held, no exit signal: ema12 100.2, ema26 99.8, macd_hist 0.15, "
        "rsi14 62.5\",\"invalidation\":\"close the long when ema12 < ema26 with macd_hist < 0, "
        "or rsi14 >= 80\"}]}");
    /* and closed on an rsi14 extreme even in its trend */
    indicator(BTC, 300, T0 + BAR5, 100.4, 100.2, 99.8, 85, 0.15, 1.2);
    assert_non_null(strstr(ask(&r, BTC), "\"action\":\"close_long\",\"size_pct\":1.0,\"leverage\":"
                                         "3,\"take_profit\":0.0,\"stop_loss\":0.0,\"confidence\":"
                                         "0.6,\"reason\":\"rsi14 85 at or above 80: long closed "
                                         "on overbought\""));
    /* the position reported flat: the rules may open again */
    position(BTC, "exchange.paper", AT_POS_NET, 0);
    bullish(BTC); /* an older bar than the one kept: ignored */
    indicator(BTC, 300, T0 + BAR5, 100.4, 100.2, 99.8, 62.5, 0.15, 1.2);
    assert_non_null(strstr(ask(&r, BTC), "\"action\":\"open_long\""));
    /* long/short mode: a short side closed on an oversold rsi14 */
    position(BTC, "exchange.paper", AT_POS_SHORT, 1);
    indicator(BTC, 300, T0 + BAR5, 99.6, 99.5, 100, 18, -0.1, 1);
    assert_string_equal(
        ask(&r, BTC),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"close_short\","
        "\"size_pct\":1.0,\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,"
        "\"confidence\":0.54,\"reason\":\"rsi14 18 at or below 20: short closed on oversold\","
        "\"invalidation\":\"rsi14 back above 20\"}]}");
    rig_down(&r);
}

static void test_stale_hold(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "");
    bullish(BTC);
    ticker(BTC, 100.5);
    MH.now_us += 3 * BAR5 * 1000; /* closed 3 bars ago: still fresh */
    assert_non_null(strstr(ask(&r, BTC), "\"action\":\"open_long\""));
    MH.now_us += 1000;
    assert_string_equal(ask(&r, BTC),
                        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\","
                        "\"size_pct\":0.0,\"leverage\":3,\"take_profit\":0.0,\"stop_loss\":0.0,"
                        "\"confidence\":0.0,\"reason\":\"indicators stale: the last 5m bar "
                        "closed 3 bars ago\",\"invalidation\":\"waiting for a new 5m bar\"}]}");
    rig_down(&r);
}

/* Feeds two fresh instances the same events and asks both the same call,
 * and one of them twice: the same bytes every time. */
static void feed_all(void)
{
    bullish(BTC);
    ticker(BTC, 100.5);
    indicator(ETH, 300, T0, 2000, 1990, 2005, 41, -1.8, 12);
    mark(ETH, 1999.5);
    position(ETH, "exchange.paper", AT_POS_NET, -3);
    indicator("SOL-USDT-SWAP", 300, T0, 150, 150.1, 150.2, 49, 0.01, 0.9);
}

static void test_deterministic(void **state)
{
    (void)state;
    mock_reset();
    const char *const syms[4] = {BTC, ETH, "SOL-USDT-SWAP", "XRP-USDT-SWAP"};
    rig a, b;
    rig_up(&a, "");
    rig_up(&b, "");
    feed_all(); /* both are subscribed: each sees every event */
    char *first = strdup(ask_id(&a, "d-1", syms, 4));
    const char *again = ask_id(&a, "d-2", syms, 4);
    const char *other = ask_id(&b, "d-3", syms, 4);
    assert_string_equal(first, again);
    assert_string_equal(first, other);
    /* one decision per symbol, in the call's order */
    json_t *root = contract(first, 4);
    json_t *list = json_object_get(root, "decisions");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "action")),
                        "open_long");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "action")),
                        "hold"); /* short held, trend intact */
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "action")),
                        "hold"); /* ema12 and macd_hist disagree */
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 3), "symbol")),
                        "XRP-USDT-SWAP");
    json_decref(root);
    free(first);
    rig_down(&a);
    rig_down(&b);
}

static void test_done_never_inside(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "");
    const char *const syms[1] = {BTC};
    at_ai_request req = {.trader = "alpha", .request_id = "d-9", .symbols = syms, .nsymbols = 1};
    /* two calls in flight, one cancelled: cancel() answers nothing itself */
    M.in_call = true;
    assert_int_equal(ops()->request(r.ctx, &req, on_done, NULL), AT_OK);
    req.request_id = "d-10";
    assert_int_equal(ops()->request(r.ctx, &req, on_done, NULL), AT_OK);
    ops()->cancel(r.ctx, "d-9");
    M.in_call = false;
    assert_int_equal(M.nreplies, 0);
    mock_turn();
    assert_int_equal(M.done_in_call, 0);
    assert_int_equal(M.nreplies, 2);
    int cancelled = M.replies[0].err == AT_ESTATE ? 0 : 1;
    assert_int_equal(M.replies[cancelled].err, AT_ESTATE);
    assert_null(M.replies[cancelled].content);
    assert_int_equal(M.replies[1 - cancelled].err, AT_OK);
    mock_turn();
    assert_int_equal(M.nreplies, 2); /* once each */
    /* bad calls are refused, and then done is not called */
    const char *const bad[1] = {"BTC USDT"};
    req.symbols = bad;
    assert_int_equal(ops()->request(r.ctx, &req, on_done, NULL), AT_EINVAL);
    mock_turn();
    assert_int_equal(M.nreplies, 2);
    rig_down(&r);
}

static void test_stop_answers_in_flight(void **state)
{
    (void)state;
    mock_reset();
    rig r;
    rig_up(&r, "");
    bullish(BTC);
    const char *const syms[1] = {BTC};
    at_ai_request req = {.trader = "alpha", .request_id = "d-1", .symbols = syms, .nsymbols = 1};
    assert_int_equal(ops()->request(r.ctx, &req, on_done, NULL), AT_OK);
    assert_int_equal(M.nreplies, 0);
    plugin->stop(r.ctx);
    r.stopped = true;
    assert_int_equal(M.nreplies, 1);
    assert_int_equal(M.replies[0].err, AT_ESTATE);
    assert_null(M.replies[0].content);
    assert_string_equal(M.replies[0].error, "stopped");
    mock_turn(); /* its timer went with it: no second answer */
    assert_int_equal(M.nreplies, 1);
    assert_int_equal(ops()->request(r.ctx, &req, on_done, NULL), AT_ESTATE);
    mock_turn();
    assert_int_equal(M.nreplies, 1);
    rig_down(&r);
}

/* check_config refuses, at the key, what init would; init agrees. */
static void refused(const char *body, const char *want_key, const char *want_why)
{
    rig r;
    memset(&r, 0, sizeof(r));
    configure(&r, body);
    const char *key = NULL;
    char why[256] = "";
    if (plugin->check_config(r.ctx, &key, why, sizeof(why)) != AT_ECONFIG) {
        fail_msg("'%s' passed check_config", body);
    }
    assert_non_null(key);
    assert_string_equal(key, want_key);
    if (!strstr(why, want_why)) {
        fail_msg("%s: '%s' does not say '%s'", want_key, why, want_why);
    }
    assert_int_equal(plugin->init(INST, &MH.host, r.ctx), AT_ECONFIG);
    rig_down(&r);
}

static void test_check_config(void **state)
{
    (void)state;
    mock_reset();
    refused("bar = 7m\n", "bar", "'7m' is not a bar size");
    refused("bar = 5x\n", "bar", "'5x' is not a bar size");
    refused("bar = 0m\n", "bar", "'0m'");
    refused("account = paper\n", "account", "exchange.<name>");
    refused("account = exchange.\n", "account", "exchange.<name>");
    refused("rsi_overbought = 50\n", "rsi_overbought", "above 50");
    refused("rsi_oversold = 50\n", "rsi_oversold", "below 50");
    refused("rsi_exit_high = 65\n", "rsi_exit_high", "below rsi_overbought (70)");
    refused("rsi_exit_low = 35\n", "rsi_exit_low", "above rsi_oversold (30)");
    /* the defaults and a full valid section pass */
    rig r;
    rig_up(&r, "bar = 1h\naccount = exchange.paper\nsize_pct = 0.2\nleverage = 10\n"
               "rsi_overbought = 65\nrsi_exit_high = 65\nstale_bars = 0\n");
    rig_down(&r);
    /* the schema's ranges are the engine's: out of range never reaches init */
    rig bad;
    memset(&bad, 0, sizeof(bad));
    conf_errors errs = {0};
    bad.file = conf_load_string("test.ini", "[ai.rules]\nleverage = 200\n", &errs);
    bad.ctx = calloc(1, plugin->ctx_size);
    assert_true(conf_apply("test.ini", "ai.rules", conf_section_get(bad.file, "ai.rules"),
                           plugin->config, NULL, bad.ctx, &bad.owned, &errs) > 0);
    conf_errors_free(&errs);
    free(bad.ctx);
    conf_owned_free(bad.owned);
    conf_free(bad.file);
}

/* The real engine loads, starts and stops it next to the indicators, and
 * refuses its bad values before anything starts. */
static void test_in_engine(void **state)
{
    (void)state;
    harness *hh =
        harness_new("[indicator.ta]\nbars = 1m, 5m\n[ai.rules]\naccount = exchange.paper\n");
    assert_non_null(hh);
    harness_run_for(hh, 20);
    harness_free(hh);
    assert_null(harness_new("[ai.rules]\nbar = 7m\n"));
}

static int setup(void **state)
{
    (void)state;
    plugin = mock_plugin_open("ai_rules", &dl);
    return plugin && plugin->kind == AT_KIND_AI && plugin->ops && plugin->check_config ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mock_reset();
    dlclose(dl);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warmup_hold),        cmocka_unit_test(test_bullish_open_long),
        cmocka_unit_test(test_bearish_open_short), cmocka_unit_test(test_held_long_closes),
        cmocka_unit_test(test_stale_hold),         cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_done_never_inside),  cmocka_unit_test(test_stop_answers_in_flight),
        cmocka_unit_test(test_check_config),       cmocka_unit_test(test_in_engine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

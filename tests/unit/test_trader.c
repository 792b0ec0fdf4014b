/* A trader's decision half (core/trading/trader.c) in a real engine (bus,
 * SQLite storage, the simulated clock) with a scripted AI provider: a
 * TRIGGER becomes a prompt from prompts/, the answer a stored and published
 * decision, and each valid item an ORDER_INTENT sized exactly, with TP/SL,
 * in the account's position mode; retries, refusals, deadlines, shadow, and
 * the reason a position was entered for surviving a restart; entries refused
 * on a stale or moved price, and the profit-giveback watchdog (its peak
 * scaled down with a partial close; its close of the trader's own contracts
 * from core.ledger, tried again under a new id when refused). */
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

#include <openssl/evp.h>

#include "bus.h"
#include "clock.h"
#include "engine.h"
#include "engine_internal.h"
#include "sim_engine.h"
#include "trading/ledger.h"
#include "trading/prompt.h"
#include "trading/trader.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, ms */
#define ACCOUNT "exchange.acc"

/* ---- a scripted AI provider ------------------------------------------------ */

typedef struct fake_ai {
    int calls;
    int retry[8];
    char *user[8];
    char *system;
    int64_t deadline_ms;
    bool pending;
    at_ai_done_cb done;
    void *arg;
    char id[AT_ID_LEN];
    bool cancelled;
} fake_ai;

static fake_ai AI;

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    fake_ai *a = ctx;
    if (a->calls < 8) {
        a->retry[a->calls] = req->retry;
        a->user[a->calls] = strdup(req->user);
    }
    free(a->system);
    a->system = strdup(req->system);
    a->calls++;
    a->deadline_ms = req->deadline_ms;
    a->pending = true;
    a->done = done;
    a->arg = arg;
    snprintf(a->id, sizeof(a->id), "%s", req->request_id);
    return AT_OK;
}

static void ai_cancel(void *ctx, const char *id)
{
    fake_ai *a = ctx;
    if (a->pending && strcmp(id, a->id) == 0) {
        a->pending = false;
        a->cancelled = true;
        at_ai_reply r = {.err = AT_ESTATE, .error = "cancelled"};
        a->done(a->arg, &r);
    }
}

static const at_ai_ops ai_ops = {
    .struct_size = sizeof(at_ai_ops), .request = ai_request, .cancel = ai_cancel};
static const at_ai_ops ai_ops_nocancel = {.struct_size = sizeof(at_ai_ops), .request = ai_request};

static void ai_reset(void)
{
    for (int i = 0; i < 8; i++) {
        free(AI.user[i]);
    }
    free(AI.system);
    memset(&AI, 0, sizeof(AI));
}

/* ---- what the bus carried ---------------------------------------------------- */

#define MAXI 16
static at_ev_order_intent intents[MAXI];
static size_t nintents;
static at_ev_decision decisions[8];
static char dec_reason[8][320];
static size_t ndecisions;

static void on_intent(void *arg, const at_event *e)
{
    if (nintents < MAXI) {
        intents[nintents] = *(const at_ev_order_intent *)e;
    }
    nintents++;
}

static void on_decision(void *arg, const at_event *e)
{
    const at_ev_decision *d = (const void *)e;
    if (ndecisions < 8) {
        decisions[ndecisions] = *d;
        snprintf(dec_reason[ndecisions], sizeof(dec_reason[0]), "%s",
                 d->invalid_reason ? d->invalid_reason : "");
    }
    ndecisions++;
}

/* ---- the rig: engine + trader -------------------------------------------------- */

static const char *const SYMS[] = {"BTC-USDT-SWAP", "DOGE-USDT-SWAP"};

static sim_engine S;

typedef struct rig {
    at_instance *drv, *self;
    trader *t;
} rig;

static rig R;

static trader_cfg default_cfg(void)
{
    static const char *const inds[] = {"rsi14", "ema12"};
    static char prompts[512];
    snprintf(prompts, sizeof(prompts), "%s/prompts", AT_TEST_SOURCE_DIR);
    return (trader_cfg){.trader = "alpha",
                        .ai_name = "ai.fake",
                        .ai = &ai_ops,
                        .ai_ctx = &AI,
                        .account = ACCOUNT,
                        .symbols = SYMS,
                        .nsymbols = 2,
                        .prompts_dir = prompts,
                        .history = 5,
                        .max_leverage = 10,
                        .max_size_pct = 0.2,
                        .take_profit_pct = 0.04,
                        .stop_loss_pct = 0.02,
                        .retry = true,
                        .indicators = inds,
                        .nindicators = 2,
                        .price_max_age_ms = 60000,
                        .max_price_move_bps = 50};
}

static void pump(void)
{
    engine_pump(S.e);
}

static bool is_loaded(void *arg)
{
    trader_stats st;
    trader_get_stats(R.t, &st);
    return st.loaded;
}

static void trader_open(const trader_cfg *cfg)
{
    char why[256] = "";
    R.t = trader_new(S.h, R.self, cfg, why, sizeof(why));
    if (!R.t) {
        fail_msg("trader_new: %s", why);
    }
    assert_int_equal(trader_start(R.t), AT_OK);
    assert_true(engine_wait(S.e, is_loaded, NULL, 5000000));
}

static void trader_close(void)
{
    trader_stop(R.t);
    trader_free(R.t);
    R.t = NULL;
}

/* ---- storage ---------------------------------------------------------------- */

/* The first row of a query, cells joined by '|'. */
static const char *q1(const char *sql)
{
    return sim_engine_row(&S, R.drv, sql, NULL, 0);
}

static void exec_sql(const char *sql, const at_db_value *p, size_t n)
{
    sim_engine_sql(&S, R.drv, sql, p, n);
}

static void put_instrument(const char *exchange, const char *inst, const char *ct_val,
                           const char *lot, const char *min, const char *tick)
{
    const at_db_value p[] = {AT_DB_S(exchange), AT_DB_S(inst), AT_DB_S(ct_val),
                             AT_DB_S(lot),      AT_DB_S(min),  AT_DB_S(tick)};
    exec_sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, lot_sz, min_sz, "
             "tick_sz, updated_ms) VALUES ($1, $2, 'SWAP', $3, $4, $5, $6, 0)",
             p, 6);
}

static void put_mode(const char *mode)
{
    const at_db_value p[] = {AT_DB_S(ACCOUNT), AT_DB_S(mode)};
    exec_sql("INSERT INTO accounts (id, exchange, pos_mode, created_ms, updated_ms) VALUES ($1, "
             "'okx', $2, 0, 0) ON CONFLICT (id) DO UPDATE SET pos_mode = $2",
             p, 2);
}

/* ---- events ------------------------------------------------------------------- */

static at_dec D(const char *s)
{
    at_dec x;
    assert_int_equal(S.h->dec_parse(s, (size_t)-1, &x), AT_OK);
    return x;
}

static void dec_eq(at_dec got, const char *want)
{
    char buf[AT_DEC_STRLEN];
    S.h->dec_format(got, buf);
    assert_string_equal(buf, want);
}

static void send_balance(const char *total)
{
    at_ev_balance *b = (at_ev_balance *)S.h->event_new(R.drv, AT_EV_BALANCE, 0);
    snprintf(b->account, sizeof(b->account), ACCOUNT);
    snprintf(b->ccy, sizeof(b->ccy), "USDT");
    b->total_eq = b->eq = b->avail = D(total);
    S.h->publish(R.drv, &b->h, 0);
    pump();
}

static void send_ticker(const char *inst, const char *last)
{
    at_ev_ticker *t = (at_ev_ticker *)S.h->event_new(R.drv, AT_EV_TICKER, 0);
    t->h.inst = S.h->inst_intern(inst);
    t->last = D(last);
    S.h->publish(R.drv, &t->h, 0);
    pump();
}

static void send_position(const char *inst, at_pos_side side, const char *pos, const char *avg)
{
    at_ev_position *p = (at_ev_position *)S.h->event_new(R.drv, AT_EV_POSITION, 0);
    p->h.inst = S.h->inst_intern(inst);
    snprintf(p->account, sizeof(p->account), ACCOUNT);
    p->pos_side = side;
    p->pos = D(pos);
    p->avg_px = D(avg);
    p->lever = D("3");
    p->upl = D("12.5");
    p->realized_pnl = D("-0.9");
    p->margin = D("100");
    S.h->publish(R.drv, &p->h, 0);
    pump();
}

static void send_order(const char *inst, const char *cl, at_ord_state st, const char *fill,
                       const char *avg)
{
    at_ev_order *o = (at_ev_order *)S.h->event_new(R.drv, AT_EV_ORDER, 0);
    o->h.inst = S.h->inst_intern(inst);
    snprintf(o->account, sizeof(o->account), ACCOUNT);
    snprintf(o->ord_id, sizeof(o->ord_id), "o-%.40s", cl);
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", cl);
    o->state = st;
    o->acc_fill_sz = D(fill);
    o->avg_px = D(avg);
    o->sz = D(fill);
    S.h->publish(R.drv, &o->h, 0);
    pump();
}

static void send_indicator(const char *inst, int64_t bar_s, double rsi)
{
    at_ev_indicator *ev = (at_ev_indicator *)S.h->event_new(R.drv, AT_EV_INDICATOR, 0);
    ev->h.inst = S.h->inst_intern(inst);
    ev->bar_s = bar_s;
    ev->n = 3;
    snprintf(ev->v[0].name, sizeof(ev->v[0].name), "rsi14");
    ev->v[0].value = rsi;
    snprintf(ev->v[1].name, sizeof(ev->v[1].name), "ema12");
    ev->v[1].value = 90012.25;
    snprintf(ev->v[2].name, sizeof(ev->v[2].name), "atr14"); /* not configured: not shown */
    ev->v[2].value = 77;
    S.h->publish(R.drv, &ev->h, 0);
    pump();
}

static char last_key[AT_ID_LEN];

/* A TRIGGER as the scheduler publishes it; key "alpha:long:<now ms>";
 * queued, not yet delivered. */
static void send_trigger_queued(void)
{
    at_ev_trigger *t = (at_ev_trigger *)S.h->event_new(R.self, AT_EV_TRIGGER, 16);
    snprintf(t->trader, sizeof(t->trader), "alpha");
    snprintf(t->key, sizeof(t->key), "alpha:long:%" PRId64, clock_now_us() / 1000);
    snprintf(last_key, sizeof(last_key), "%s", t->key);
    t->reason = S.h->event_strdup(&t->h, "long period");
    t->deadline_ms = 60000;
    S.h->publish(R.self, &t->h, 0); /* as the trader's scheduler does */
}

static void send_trigger(void)
{
    send_trigger_queued();
    pump();
}

static bool ai_asked(void *arg)
{
    return AI.pending;
}

static bool decided(void *arg)
{
    return ndecisions >= *(size_t *)arg;
}

/* Answer the pending call with `content` and wait for the decision. */
static void answer(const char *content)
{
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    size_t want = ndecisions + 1;
    AI.pending = false;
    at_ai_reply r = {.err = AT_OK,
                     .content = content,
                     .model = "fake-1",
                     .finish_reason = "stop",
                     .tokens_in = 1000,
                     .tokens_out = 50,
                     .cost_usd = 0.01,
                     .latency_ms = 1200};
    AI.done(AI.arg, &r);
    pump();
    /* a retry asks again instead of deciding */
    if (!AI.pending) {
        assert_true(engine_wait(S.e, decided, &want, 5000000));
    }
}

/* What the venues say (again, for a trader opened after a restart). */
static void market_events(void)
{
    send_balance("10000");
    send_ticker("BTC-USDT-SWAP", "90000");
    send_ticker("DOGE-USDT-SWAP", "0.15");
}

static void market(void)
{
    put_instrument(ACCOUNT, "BTC-USDT-SWAP", "0.01", "0.01", "0.01", "0.1");
    put_instrument("exchange.other", "DOGE-USDT-SWAP", "1000", "1", "1", "0.00001");
    market_events();
}

/* The trader opened on that market, the account in position `mode` (NULL:
 * unknown). */
static void trader_ready(const trader_cfg *cfg, const char *mode)
{
    trader_open(cfg);
    market();
    if (mode) {
        put_mode(mode);
    }
}

static int setup(void **state)
{
    ai_reset();
    nintents = ndecisions = 0;
    memset(&R, 0, sizeof(R));
    /* no executor: the intents are what the test looks at */
    sim_engine_open(&S, "trader", NULL, T0 * 1000, true);
    R.drv = engine_virtual_instance(S.e, "test.drv");
    R.self = engine_virtual_instance(S.e, "trader.alpha");
    S.h->subscribe(R.drv, AT_EV_ORDER_INTENT, on_intent, NULL);
    S.h->subscribe(R.drv, AT_EV_DECISION, on_decision, NULL);
    return 0;
}

static int teardown(void **state)
{
    if (R.t) {
        trader_stop(R.t);
    }
    sim_engine_close(&S, true);
    if (R.t) {
        trader_free(R.t);
    }
    ai_reset();
    return 0;
}

/* "ai" + 28 hex digits of SHA-256(intent id) */
static void expect_cl(const char *intent_id, const char *cl)
{
    unsigned char md[32];
    unsigned int n;
    assert_int_equal(EVP_Digest(intent_id, strlen(intent_id), md, &n, EVP_sha256(), NULL), 1);
    char want[AT_ID_LEN] = "ai";
    for (int i = 0; i < 14; i++) {
        snprintf(want + 2 + 2 * i, 3, "%02x", md[i]);
    }
    assert_string_equal(cl, want);
}

/* ---- tests --------------------------------------------------------------------- */

#define OPEN_BTC                                                                                   \
    "{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", \"size_pct\": "   \
    "0.1, \"leverage\": 3, \"take_profit\": 95000, \"stop_loss\": 88000, \"confidence\": 0.7, "    \
    "\"reason\": \"breakout above 89k\", \"invalidation\": \"close below 88.5k\"}, {\"symbol\": "  \
    "\"DOGE-USDT-SWAP\", \"action\": \"open_short\", \"size_pct\": 0.05, \"leverage\": 2, "        \
    "\"reason\": \"funding rich\"}]}"

static void test_open_long_short_mode(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, "long_short_mode");
    send_indicator("BTC-USDT-SWAP", 300, 61.25);
    send_trigger();
    answer(OPEN_BTC);
    assert_int_equal(ndecisions, 1);
    const at_ev_decision *d = &decisions[0];
    assert_true(d->valid);
    assert_string_equal(d->decision_id, last_key);
    assert_string_equal(d->trigger_key, last_key);
    assert_string_equal(d->trader, "alpha");
    assert_string_equal(d->provider, "ai.fake");
    assert_int_equal(d->n, 2);
    assert_int_equal(d->items[0].action, AT_ACT_OPEN_LONG);
    assert_int_equal(d->tokens_in, 1000);
    assert_true(d->cost_usd == 0.01);

    assert_int_equal(nintents, 2);
    const at_ev_order_intent *o = &intents[0];
    char id[AT_ID_LEN + 2];
    snprintf(id, sizeof(id), "%s/0", last_key);
    assert_string_equal(o->intent_id, id);
    expect_cl(id, o->cl_ord_id);
    assert_int_equal(strlen(o->cl_ord_id), 30);
    assert_string_equal(o->account, ACCOUNT);
    assert_string_equal(o->origin, "alpha");
    assert_string_equal(o->decision_id, last_key);
    assert_string_equal(S.h->inst_name(o->h.inst), "BTC-USDT-SWAP");
    assert_int_equal(o->op, AT_INTENT_PLACE);
    assert_int_equal(o->side, AT_SIDE_BUY);
    assert_int_equal(o->pos_side, AT_POS_LONG);
    assert_int_equal(o->ord_type, AT_ORDT_MARKET);
    dec_eq(o->sz, "3.33"); /* 10000 x 0.1 x 3 / (90000 x 0.01) */
    dec_eq(o->tp_trigger_px, "95000");
    dec_eq(o->sl_trigger_px, "88000");
    dec_eq(o->leverage, "3");
    assert_false(o->reduce_only);
    assert_false(o->shadow);
    /* DOGE: the other venue's instrument row; default exits from the price */
    o = &intents[1];
    assert_string_equal(S.h->inst_name(o->h.inst), "DOGE-USDT-SWAP");
    assert_int_equal(o->side, AT_SIDE_SELL);
    assert_int_equal(o->pos_side, AT_POS_SHORT);
    dec_eq(o->sz, "6"); /* 10000 x 0.05 x 2 / (0.15 x 1000) = 6.67 */
    dec_eq(o->tp_trigger_px, "0.144");
    dec_eq(o->sl_trigger_px, "0.153");

    /* the decision row */
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT valid, validation, provider, model, trigger_reason, tokens_in, tokens_out, "
             "attempts, latency_ms, length(prompt_hash), json_extract(intents_json, '$[1].sz') "
             "FROM decisions WHERE id = '%s'",
             last_key);
    assert_string_equal(q1(sql), "1|ok|ai.fake|fake-1|long period|1000|50|1|1200|64|6");
    snprintf(sql, sizeof(sql),
             "SELECT raw_response, prompt, system_prompt FROM decisions WHERE id = '%s'", last_key);
    char want[8192];
    snprintf(want, sizeof(want), "%s|%s|%s", OPEN_BTC, AI.user[0], AI.system);
    assert_string_equal(q1(sql), want);
    /* the stored estimate is the documented one of the prompts sent */
    snprintf(sql, sizeof(sql), "SELECT prompt_tokens FROM decisions WHERE id = '%s'", last_key);
    char tok[32];
    snprintf(tok, sizeof(tok), "%" PRId64, prompt_tokens(AI.system) + prompt_tokens(AI.user[0]));
    assert_string_equal(q1(sql), tok);
    /* the prompt: account, prices, configured indicators with their windows */
    assert_non_null(strstr(AI.user[0], "Account: equity 10000 USD, available 10000 USDT"));
    assert_non_null(strstr(AI.user[0], "BTC-USDT-SWAP last 90000\nDOGE-USDT-SWAP last 0.15\n"
                                       "Indicators (the number in a name is its window):\n"
                                       "symbol bar rsi14 ema12\nBTC-USDT-SWAP 5m 61.25 90012\n"));
    assert_null(strstr(AI.user[0], "atr14"));
    assert_non_null(strstr(AI.system, "leverage a whole number from 1 to 10"));
    assert_non_null(strstr(AI.system, "at most 0.2"));
}

/* A TRIGGER for the trader from anyone but its own scheduler asks nothing:
 * it would skip the call and cost budgets. */
static void test_foreign_trigger_ignored(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, NULL);
    at_ev_trigger *t = (at_ev_trigger *)S.h->event_new(R.drv, AT_EV_TRIGGER, 16);
    snprintf(t->trader, sizeof(t->trader), "alpha");
    snprintf(t->key, sizeof(t->key), "alpha:long:forged");
    t->reason = S.h->event_strdup(&t->h, "forged");
    t->deadline_ms = 60000;
    S.h->publish(R.drv, &t->h, 0);
    pump();
    assert_false(AI.pending);
    assert_int_equal(ndecisions, 0);
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.foreign_triggers, 1);
    send_trigger(); /* its own scheduler's is answered */
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
}

static void test_net_mode_and_closes(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, "net_mode");
    send_position("BTC-USDT-SWAP", AT_POS_NET, "3.33", "90000");
    send_position("DOGE-USDT-SWAP", AT_POS_NET, "-5", "0.16");
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"close_long\", "
           "\"size_pct\": 0.5}, {\"symbol\": \"DOGE-USDT-SWAP\", \"action\": \"close_short\", "
           "\"size_pct\": 1}]}");
    assert_int_equal(nintents, 2);
    const at_ev_order_intent *o = &intents[0];
    assert_int_equal(o->op, AT_INTENT_PLACE);
    assert_int_equal(o->side, AT_SIDE_SELL);
    assert_int_equal(o->pos_side, AT_POS_NET);
    assert_true(o->reduce_only);
    dec_eq(o->sz, "1.66");
    assert_int_equal(o->tp_trigger_px.m, 0);
    o = &intents[1];
    assert_int_equal(o->op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(o->side, AT_SIDE_BUY);
    assert_int_equal(o->pos_side, AT_POS_NET);
    assert_true(o->reduce_only);
    dec_eq(o->sz, "5");
    /* an open in net mode goes out as net */
    AI.pending = false;
    assert_int_equal(engine_advance(S.e, (T0 + 60000) * 1000, 0), AT_OK);
    send_trigger();
    answer(OPEN_BTC);
    assert_int_equal(nintents, 4);
    assert_int_equal(intents[2].pos_side, AT_POS_NET);
    assert_int_equal(intents[2].side, AT_SIDE_BUY);
}

static void test_hedge_closes(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, "long_short_mode");
    send_position("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "90000");
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"close_long\", "
           "\"size_pct\": 1}, {\"symbol\": \"DOGE-USDT-SWAP\", \"action\": \"close_short\", "
           "\"size_pct\": 1}]}");
    assert_int_equal(nintents, 1);
    assert_int_equal(intents[0].op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(intents[0].pos_side, AT_POS_LONG);
    assert_int_equal(intents[0].side, AT_SIDE_SELL);
    dec_eq(intents[0].sz, "3.33");
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT json_extract(intents_json, '$[1].note'), json_extract(intents_json, "
             "'$[0].op') FROM decisions WHERE id = '%s'",
             last_key);
    assert_string_equal(q1(sql), "no short position to close|close_position");
}

static void test_too_small_and_shadow(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.shadow = true;
    trader_ready(&cfg, NULL);
    send_balance("100"); /* 100 x 0.01 x 1 = 1 USDT: no BTC contract */
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", "
           "\"size_pct\": 0.01, \"leverage\": 1, \"reason\": \"tiny\"}, {\"symbol\": "
           "\"DOGE-USDT-SWAP\", \"action\": \"open_long\", \"size_pct\": 0.2, \"leverage\": 10, "
           "\"reason\": \"big enough\"}]}");
    assert_true(decisions[0].valid);
    assert_int_equal(nintents, 1);
    assert_true(intents[0].shadow);
    dec_eq(intents[0].sz, "1");                        /* 100 x 0.2 x 10 / 150 = 1.33 */
    assert_int_equal(intents[0].pos_side, AT_POS_NET); /* mode unknown: the venue derives it */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT json_extract(intents_json, '$[0].note'), json_extract(intents_json, "
             "'$[1].shadow') FROM decisions WHERE id = '%s'",
             last_key);
    assert_string_equal(q1(sql), "too small: 0.00111111 contracts is below minSz 0.01|1");
}

static void test_retry(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, NULL);
    send_trigger();
    answer("```json\n{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", "
           "\"size_pct\": 0.1, \"leverage\": 30, \"reason\": \"x\"}]}\n```");
    assert_int_equal(ndecisions, 0);
    assert_int_equal(AI.calls, 2);
    assert_int_equal(AI.retry[0], 0);
    assert_int_equal(AI.retry[1], 1);
    assert_non_null(strstr(AI.user[1], AI.user[0]));
    assert_non_null(strstr(AI.user[1], "Your previous answer was invalid: decisions[0].leverage "
                                       "30 is over this trader's max_leverage 10."));
    answer(OPEN_BTC);
    assert_int_equal(ndecisions, 1);
    assert_true(decisions[0].valid);
    assert_int_equal(decisions[0].tokens_in, 2000); /* both attempts */
    assert_int_equal(nintents, 2);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT attempts, first_error, prompt = '%s' FROM decisions WHERE id = '%s'", "x",
             last_key);
    assert_string_equal(q1(sql), "2|decisions[0].leverage 30 is over this trader's max_leverage "
                                 "10|0");
}

static void test_invalid_no_retry(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, NULL);
    /* a refusal is not asked again */
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    AI.pending = false;
    at_ai_reply r = {.err = AT_OK, .content = NULL, .refusal = "no financial advice"};
    AI.done(AI.arg, &r);
    size_t want = 1;
    assert_true(engine_wait(S.e, decided, &want, 5000000));
    assert_int_equal(AI.calls, 1);
    assert_false(decisions[0].valid);
    assert_string_equal(dec_reason[0], "the model refused: no financial advice");
    assert_int_equal(nintents, 0);
    /* retry = false: an invalid answer is final */
    trader_close();
    cfg.retry = false;
    trader_open(&cfg);
    market_events();
    assert_int_equal(engine_advance(S.e, (T0 + 60000) * 1000, 0), AT_OK);
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", "
           "\"size_pct\": \"0.1\", \"leverage\": 3, \"reason\": \"x\"}]}");
    assert_int_equal(AI.calls, 2);
    assert_int_equal(ndecisions, 2);
    assert_false(decisions[1].valid);
    assert_string_equal(dec_reason[1], "decisions[0].size_pct must be a number, got a string");
    assert_int_equal(nintents, 0);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT valid, invalid_reason, validation, actions_json IS NULL, intents_json FROM "
             "decisions WHERE id = '%s'",
             last_key);
    assert_string_equal(q1(sql),
                        "0|decisions[0].size_pct must be a number, got a "
                        "string|decisions[0].size_pct must be a number, got a string|1|[]");
}

static void test_deadline(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, NULL);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_int_equal(AI.deadline_ms, T0 + 60000);
    /* a second past the deadline the call is cancelled: an invalid decision */
    assert_int_equal(engine_advance(S.e, (T0 + 60000) * 1000, 1000000), AT_OK);
    assert_false(AI.cancelled);
    assert_int_equal(engine_advance(S.e, (T0 + 61000) * 1000, 1000000), AT_OK);
    size_t want = 1;
    assert_true(engine_wait(S.e, decided, &want, 5000000));
    assert_true(AI.cancelled);
    assert_false(decisions[0].valid);
    assert_string_equal(dec_reason[0], "no answer by the deadline (60 s after the trigger)");
    /* a provider without cancel answers late: not acted on */
    trader_close();
    cfg.ai = &ai_ops_nocancel;
    trader_open(&cfg);
    market_events();
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_int_equal(engine_advance(S.e, (T0 + 61000 + 65000) * 1000, 1000000), AT_OK);
    answer(OPEN_BTC);
    assert_false(decisions[1].valid);
    assert_string_equal(dec_reason[1], "answered 5000 ms after the deadline: not acted on");
    assert_int_equal(nintents, 0);
}

static void test_waits_for_the_account(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_open(&cfg);
    put_instrument(ACCOUNT, "BTC-USDT-SWAP", "0.01", "0.01", "0.01", "0.1");
    put_instrument(ACCOUNT, "DOGE-USDT-SWAP", "1000", "1", "1", "0.00001");
    send_trigger();
    assert_int_equal(engine_advance(S.e, (T0 + 1000) * 1000, 200000), AT_OK);
    assert_int_equal(AI.calls, 0); /* no balance, no prices yet */
    send_balance("10000");
    send_ticker("BTC-USDT-SWAP", "90000");
    send_ticker("DOGE-USDT-SWAP", "0.15");
    assert_int_equal(engine_advance(S.e, (T0 + 1200) * 1000, 200000), AT_OK);
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    answer(OPEN_BTC);
    assert_int_equal(nintents, 2);
    /* with nothing ever coming it asks anyway, after 15 s */
    assert_int_equal(engine_advance(S.e, (T0 + 120000) * 1000, 0), AT_OK);
    trader_close();
    ai_reset();
    cfg.account = "exchange.silent";
    trader_open(&cfg);
    send_trigger();
    assert_int_equal(engine_advance(S.e, (T0 + 134000) * 1000, 1000000), AT_OK);
    assert_int_equal(AI.calls, 0);
    assert_int_equal(engine_advance(S.e, (T0 + 135000) * 1000, 200000), AT_OK);
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_non_null(strstr(AI.user[0], "Account: no balance received yet"));
}

/* cfg.settle: a frame that came in just before the prompt (published, not
 * yet delivered) is delivered first and shown; refused (as from inside a
 * delivery: the stub says so) the prompt waits a timer turn of its own. The
 * recorder is told the moment the prompt read the market. */
static int settles;
static bool settle_refuse;
static char read_key[AT_ID_LEN];
static int64_t read_us;

static bool settle_stub(void)
{
    if (settles++ == 0 && settle_refuse) {
        return false;
    }
    at_ev_ticker *t = (at_ev_ticker *)S.h->event_new(R.drv, AT_EV_TICKER, 0);
    t->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    t->last = D("91234.5");
    S.h->publish(R.drv, &t->h, 0);
    return bus_settle();
}

static void note_read(void *arg, const char *key, int64_t at_us)
{
    assert_ptr_equal(arg, &R);
    snprintf(read_key, sizeof(read_key), "%s", key);
    read_us = at_us;
}

static bool settled(void *arg)
{
    return settles > 0;
}

static void test_prompt_reads_a_settled_market(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.settle = settle_stub;
    cfg.prompt_read = note_read;
    cfg.prompt_read_arg = &R;
    trader_ready(&cfg, "long_short_mode");
    settles = 0;
    settle_refuse = true;
    send_trigger();
    assert_true(engine_wait(S.e, settled, NULL, 5000000));
    pump();
    assert_int_equal(AI.calls, 0); /* refused: waits for a timer turn */
    int64_t at = clock_now_us() + 1000;
    assert_int_equal(engine_advance(S.e, at, 0), AT_OK);
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_int_equal(settles, 2);
    assert_non_null(strstr(AI.user[0], "BTC-USDT-SWAP last 91234.5"));
    assert_string_equal(read_key, last_key);
    assert_true(read_us >= at - 1000 && read_us <= clock_now_us());
    settle_refuse = false;
}

/* The entry's reason shows with its position, in the history, and after a
 * restart (read back from decisions and orders). */
static void test_memory(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.ledger = S.e->ledger; /* the history shows what each decision made */
    trader_ready(&cfg, "long_short_mode");
    send_trigger();
    answer(OPEN_BTC);
    char key1[AT_ID_LEN];
    snprintf(key1, sizeof(key1), "%s", last_key);
    const char *cl = intents[0].cl_ord_id;
    /* the venue fills it: its order row and events */
    const at_db_value p[] = {AT_DB_S(intents[0].intent_id), AT_DB_S(cl), AT_DB_S(key1)};
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, acc_fill_sz, avg_px, created_ms, updated_ms) VALUES ($1, $2, "
             "'exchange.acc', 'alpha', $3, 'BTC-USDT-SWAP', 'place', 'filled', '3.33', '90010', 0, "
             "0)",
             p, 3);
    send_order("BTC-USDT-SWAP", cl, AT_ORD_FILLED, "3.33", "90010");
    exec_sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, lot_sz, "
             "min_sz, tick_sz, updated_ms) VALUES ('okx', 'BTC-USDT-SWAP', 'SWAP', '0.01', 'BTC', "
             "'0.01', '0.01', '0.1', 0)",
             NULL, 0);
    at_ev_fill *fl = (at_ev_fill *)S.h->event_new(R.drv, AT_EV_FILL, 0);
    fl->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    snprintf(fl->account, sizeof(fl->account), ACCOUNT);
    snprintf(fl->trade_id, sizeof(fl->trade_id), "t1");
    snprintf(fl->cl_ord_id, sizeof(fl->cl_ord_id), "%s", cl);
    fl->side = AT_SIDE_BUY;
    fl->pos_side = AT_POS_LONG;
    fl->sz = D("3.33");
    fl->px = D("90010");
    fl->fee = D("-1.4987");
    S.h->publish(R.drv, &fl->h, 0);
    pump();
    send_position("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "90010");
    assert_int_equal(engine_advance(S.e, (T0 + 2 * 3600000) * 1000, 0), AT_OK);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    const char *pos = "Positions:\nBTC-USDT-SWAP long 3.33 contracts @ 90010 x3, uPnL +12.5 (+11.6 "
                      "after fees and funding), held 2h00m, TP 95000 SL 88000; entry reason: "
                      "breakout above 89k; invalid if: close below 88.5k\n";
    assert_non_null(strstr(AI.user[1], pos));
    assert_non_null(strstr(AI.user[1], "Your last decisions:\n2h00m ago: open_long BTC-USDT-SWAP "
                                       "0.1 x3 -> filled 3.33 @ 90010; open_short DOGE-USDT-SWAP "
                                       "0.05 x2 -> asked | PnL -1.4987 (fees -1.4987, funding 0), "
                                       "still open\n"));
    answer("{\"decisions\": []}");
    /* restart: the same from storage */
    trader_close();
    trader_open(&cfg);
    market_events();
    send_position("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "90010");
    assert_int_equal(engine_advance(S.e, (T0 + 3 * 3600000) * 1000, 0), AT_OK);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    const char *pos2 = "BTC-USDT-SWAP long 3.33 contracts @ 90010 x3, uPnL +12.5 (+11.6 after fees "
                       "and funding), held 3h00m, TP 95000 SL 88000; entry reason: breakout above "
                       "89k; invalid if: close below 88.5k\n";
    assert_non_null(strstr(AI.user[2], pos2));
    assert_non_null(strstr(AI.user[2], "3h00m ago: open_long BTC-USDT-SWAP 0.1 x3 -> filled 3.33 "
                                       "@ 90010; open_short DOGE-USDT-SWAP 0.05 x2 -> asked | PnL "
                                       "-1.4987 (fees -1.4987, funding 0), still open\n1h00m "
                                       "ago: hold\n"));
    /* the position closes: its reason goes with it */
    send_position("BTC-USDT-SWAP", AT_POS_LONG, "0", "0");
    answer("{\"decisions\": []}");
    assert_int_equal(engine_advance(S.e, (T0 + 4 * 3600000) * 1000, 0), AT_OK);
    send_position("BTC-USDT-SWAP", AT_POS_LONG, "1", "91000"); /* someone else's entry */
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_null(strstr(AI.user[3], "entry reason: breakout"));
    assert_non_null(strstr(AI.user[3], "not opened by this trader's decisions"));
}

static void put_order_row(const at_ev_order_intent *o)
{
    const at_db_value p[] = {AT_DB_S(o->intent_id), AT_DB_S(o->cl_ord_id), AT_DB_S(o->decision_id),
                             AT_DB_S(S.h->inst_name(o->h.inst))};
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, created_ms, updated_ms) VALUES ($1, $2, 'exchange.acc', 'alpha', $3, $4, "
             "'place', 'live', 0, 0)",
             p, 4);
}

static void restart(void)
{
    trader_cfg cfg = default_cfg();
    trader_close();
    nintents = 0;
    trader_open(&cfg);
    pump();
}

/* The venue says what the account holds; the re-published intents (if any)
 * go at the next poll. */
static void account_answers(void)
{
    market_events();
    assert_int_equal(engine_advance(S.e, clock_now_us() + 250000, 0), AT_OK);
    pump();
}

/* Killed after the decision row, before the exchange stored its orders: at
 * start the intents of a recent decision without an orders row are published
 * again, the same ids and fields, once; one with its row, or a decision past
 * the window (2 min), is not. */
static void test_republish_after_restart(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, "long_short_mode");
    send_trigger();
    answer(OPEN_BTC);
    assert_int_equal(nintents, 2);
    at_ev_order_intent first[2] = {intents[0], intents[1]};
    put_order_row(&first[0]); /* the exchange stored the BTC entry, not the DOGE one */
    assert_int_equal(engine_advance(S.e, (T0 + 30000) * 1000, 0), AT_OK);

    restart();
    /* an exchange refuses intents until it is ready: they wait for the account */
    assert_int_equal(engine_advance(S.e, clock_now_us() + 1000000, 0), AT_OK);
    assert_int_equal(nintents, 0);
    account_answers();
    assert_int_equal(nintents, 1);
    const at_ev_order_intent *o = &intents[0];
    assert_string_equal(o->intent_id, first[1].intent_id);
    assert_string_equal(o->cl_ord_id, first[1].cl_ord_id);
    assert_string_equal(o->decision_id, first[1].decision_id);
    assert_string_equal(o->account, ACCOUNT);
    assert_string_equal(o->origin, "alpha");
    assert_string_equal(S.h->inst_name(o->h.inst), "DOGE-USDT-SWAP");
    assert_int_equal(o->op, first[1].op);
    assert_int_equal(o->side, AT_SIDE_SELL);
    assert_int_equal(o->pos_side, AT_POS_SHORT);
    assert_int_equal(o->ord_type, AT_ORDT_MARKET);
    dec_eq(o->sz, "6");
    dec_eq(o->tp_trigger_px, "0.144");
    dec_eq(o->sl_trigger_px, "0.153");
    dec_eq(o->leverage, "2");
    assert_false(o->reduce_only);
    assert_false(o->shadow);
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.republished, 1);

    /* the exchange has it now: nothing again */
    put_order_row(&first[1]);
    restart();
    account_answers();
    assert_int_equal(nintents, 0);

    /* no orders row at all, but the decision is older than the window */
    exec_sql("DELETE FROM orders", NULL, 0);
    assert_int_equal(engine_advance(S.e, (T0 + 130000) * 1000, 0), AT_OK);
    restart();
    account_answers();
    assert_int_equal(nintents, 0);
    trader_get_stats(R.t, &st);
    assert_int_equal(st.republished, 0);
}

/* The size of a full context: the seed's six coins, two bar sizes of the
 * default indicators, a position with its thesis, five past decisions. The
 * budget holds the template and the renderer to what they are now. */
static void test_prompt_size(void **state)
{
    static const char *const six[] = {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP",
                                      "BNB-USDT-SWAP", "XRP-USDT-SWAP", "DOGE-USDT-SWAP"};
    static const char *const prices[] = {"90012.5", "3012.45", "187.23",
                                         "612.4",   "2.3456",  "0.15234"};
    static const char *const inds[] = {"ema12",    "ema26",    "rsi14",   "macd_hist",
                                       "bb_upper", "bb_lower", "atr14",   "chg_15m",
                                       "chg_1h",   "chg_4h",   "chg_24h", "vol_ratio"};
    trader_cfg cfg = default_cfg();
    cfg.symbols = six;
    cfg.nsymbols = 6;
    cfg.indicators = inds;
    cfg.nindicators = 12;
    trader_open(&cfg);
    for (int i = 0; i < 6; i++) {
        put_instrument(ACCOUNT, six[i], "0.01", "0.01", "0.01", "0.0001");
    }
    put_mode("long_short_mode");
    send_balance("10000");
    for (int i = 0; i < 6; i++) {
        send_ticker(six[i], prices[i]);
        for (int64_t bar = 300; bar <= 3600; bar += 3300) {
            at_ev_indicator *ev = (at_ev_indicator *)S.h->event_new(R.drv, AT_EV_INDICATOR, 0);
            ev->h.inst = S.h->inst_intern(six[i]);
            ev->bar_s = bar;
            ev->n = 22; /* everything indicator_ta publishes; 12 are shown */
            const char *all[] = {"close",       "ema12",      "ema26",     "rsi14",   "macd",
                                 "macd_signal", "macd_hist",  "bb_upper",  "bb_mid",  "bb_lower",
                                 "atr14",       "vol_rv",     "chg_5m",    "chg_15m", "chg_1h",
                                 "chg_4h",      "chg_24h",    "vol_ratio", "obi5",    "microprice",
                                 "funding",     "funding_chg"};
            for (int k = 0; k < 22; k++) {
                snprintf(ev->v[k].name, sizeof(ev->v[k].name), "%s", all[k]);
                ev->v[k].value = (k + 1) * 1.2345678 * (i + 1);
            }
            S.h->publish(R.drv, &ev->h, 0);
            pump();
        }
    }
    for (int k = 0; k < 5; k++) {
        assert_int_equal(engine_advance(S.e, (T0 + (k + 1) * 720000) * 1000, 0), AT_OK);
        market_events();
        for (int i = 0; i < 6; i++) {
            send_ticker(six[i], prices[i]);
        }
        send_trigger();
        answer(k == 0 ? OPEN_BTC : "{\"decisions\": []}");
    }
    send_position("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "90000");
    assert_int_equal(engine_advance(S.e, (T0 + 6 * 720000) * 1000, 0), AT_OK);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    int64_t sys = prompt_tokens(AI.system), user = prompt_tokens(AI.user[5]);
    print_message("six symbols, two bars, a position, five decisions: system %" PRId64
                  " + user %" PRId64 " = %" PRId64 " tokens (%zu + %zu bytes)\n",
                  sys, user, sys + user, strlen(AI.system), strlen(AI.user[5]));
    if (getenv("AT_TEST_SHOW_PROMPT")) {
        fprintf(stderr, "%s\n%s\n", AI.system, AI.user[5]);
    }
    assert_true(sys + user <= 1400);
}

/* A trigger that comes while the stored decisions are still being read is
 * held, then answered. */
static void test_trigger_before_load(void **state)
{
    trader_cfg cfg = default_cfg();
    market();
    send_trigger_queued();
    char why[256] = "";
    R.t = trader_new(S.h, R.self, &cfg, why, sizeof(why));
    assert_non_null(R.t);
    assert_int_equal(trader_start(R.t), AT_OK);
    pump();
    assert_true(engine_wait(S.e, is_loaded, NULL, 5000000));
    market_events(); /* the trader was not listening before: it waits for them */
    assert_int_equal(engine_advance(S.e, (T0 + 200) * 1000, 0), AT_OK);
    answer(OPEN_BTC);
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.held, 1);
    assert_int_equal(st.triggers, 1);
    assert_int_equal(nintents, 2);
}

/* Funding, book imbalance, live orders, news about the trader's coins and
 * sentiment readings reach the prompt; news about other coins does not. */
static void test_context_sources(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, NULL);
    at_ev_funding *f = (at_ev_funding *)S.h->event_new(R.drv, AT_EV_FUNDING, 0);
    f->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    f->rate = D("0.0001");
    S.h->publish(R.drv, &f->h, 0);
    at_ev_book *b = (at_ev_book *)S.h->event_new(R.drv, AT_EV_BOOK, 0);
    b->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    b->nbids = b->nasks = 6;
    for (int i = 0; i < 6; i++) {
        b->bids[i] =
            (at_level){D("89999"), D(i < 5 ? "3" : "100")}; /* the 6th level is not counted */
        b->asks[i] = (at_level){D("90001"), D("1")};
    }
    S.h->publish(R.drv, &b->h, 0);
    at_ev_mark *m = (at_ev_mark *)S.h->event_new(R.drv, AT_EV_MARK, 0);
    m->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    m->mark_px = D("89995.5");
    S.h->publish(R.drv, &m->h, 0);
    at_ev_order *o = (at_ev_order *)S.h->event_new(R.drv, AT_EV_ORDER, 0);
    o->h.inst = S.h->inst_intern("DOGE-USDT-SWAP");
    snprintf(o->account, sizeof(o->account), ACCOUNT);
    snprintf(o->ord_id, sizeof(o->ord_id), "777");
    o->side = AT_SIDE_BUY;
    o->ord_type = AT_ORDT_LIMIT;
    o->state = AT_ORD_LIVE;
    o->px = D("0.14");
    o->sz = D("20");
    o->acc_fill_sz = D("0");
    S.h->publish(R.drv, &o->h, 0);
    const char *titles[] = {"Bitcoin ETF inflows hit a record", "Solana outage", "Fed holds rates"};
    const char *coins[] = {"BTC", "SOL", NULL};
    for (int i = 0; i < 3; i++) {
        at_ev_news *n = (at_ev_news *)S.h->event_new(R.drv, AT_EV_NEWS, 256);
        n->title = S.h->event_strdup(&n->h, titles[i]);
        n->feed = S.h->event_strdup(&n->h, "coindesk");
        n->symbols = coins[i] ? S.h->event_strdup(&n->h, coins[i]) : NULL;
        n->published_ms = T0 - 600000 * (i + 1);
        n->score = i == 0 ? 0.4 : NAN;
        S.h->publish(R.drv, &n->h, 0);
    }
    at_ev_sentiment *se = (at_ev_sentiment *)S.h->event_new(R.drv, AT_EV_SENTIMENT, 64);
    se->feed = S.h->event_strdup(&se->h, "feargreed");
    se->label = S.h->event_strdup(&se->h, "Fear");
    se->value = 38;
    S.h->publish(R.drv, &se->h, 0);
    pump();
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    const char *u = AI.user[0];
    assert_non_null(
        strstr(u, "BTC-USDT-SWAP last 90000 mark 89995.5 funding 0.0100% book +0.50\n"));
    assert_non_null(
        strstr(u, "Open orders:\nDOGE-USDT-SWAP buy 20 contracts limit @ 0.14, live (filled "
                  "0)\n"));
    assert_non_null(strstr(u, "News (sentiment -1..1, impact 0..1), newest first per coin:\n"
                              "BTC: 10m ago [coindesk] Bitcoin ETF inflows hit a record "
                              "(sentiment +0.40)\nMarket: 30m ago [coindesk] Fed holds rates\n"));
    assert_null(strstr(u, "Solana"));
    assert_non_null(strstr(u, "Sentiment feargreed: 38 (Fear)\n"));
}

static void news(const char *id, const char *title, const char *coins, int64_t ago_ms, double score,
                 double impact, double llm)
{
    at_ev_news *n = (at_ev_news *)S.h->event_new(R.drv, AT_EV_NEWS, 512);
    n->id = S.h->event_strdup(&n->h, id);
    n->title = S.h->event_strdup(&n->h, title);
    n->feed = S.h->event_strdup(&n->h, "wire");
    n->symbols = coins ? S.h->event_strdup(&n->h, coins) : NULL;
    n->published_ms = T0 - ago_ms;
    n->score = score;
    n->impact = impact;
    n->llm_score = llm;
    n->scorer = isfinite(llm) ? S.h->event_strdup(&n->h, "ai.scorer") : NULL;
    S.h->publish(R.drv, &n->h, 0);
}

/* The news section within news_tokens: per coin the news_per_symbol most
 * relevant headlines (impact, halved every 6 h of age), one rank at a time
 * across the coins, newest first per coin; an item about two of the
 * trader's coins once (under the first); the LLM's sentiment over the
 * lexicon's; the same id again replaces its copy; older than news_max_age
 * left out. */
static void test_context_news_budget(void **state)
{
    static const char head[] = "News (sentiment -1..1, impact 0..1), newest first per coin:\n";
    static const char btc[] = "BTC: 2m ago [wire] Exchange hacked, bitcoin withdrawals halted "
                              "(sentiment -0.90, impact 0.95)\n";
    static const char doge[] = "DOGE: 5m ago [wire] Dogecoin fund filed (sentiment +0.20, impact "
                               "0.70)\n";
    static const char mkt[] = "Market: 6m ago [wire] Stocks close flat (sentiment +0.00)\n";
    static const char tweet[] = "BTC: 4m ago [wire] Dogecoin rallies on a tweet (sentiment +0.50, "
                                "impact 0.60)\n";
    int64_t rank0 =
        prompt_tokens(head) + prompt_tokens(btc) + prompt_tokens(doge) + prompt_tokens(mkt);
    trader_cfg cfg = default_cfg();
    cfg.news_per_symbol = 2;
    cfg.news_max_age_ms = 6 * 3600000LL;
    for (int round = 0; round < 2; round++) {
        /* first every coin's best and no more; then room for BTC's second too */
        cfg.news_tokens = rank0 + (round == 0 ? 3 : prompt_tokens(tweet));
        trader_ready(&cfg, NULL);
        news("b1", "Bitcoin dips slightly", "BTC", 60000, -0.1, 0.1, NAN);
        news("b2", "Exchange hacked, bitcoin withdrawals halted", "BTC", 120000, -0.6, 0.95, -0.9);
        news("b3", "Bitcoin miners sell more", "BTC", 180000, -0.3, 0.3, NAN);
        news("d1", "Dogecoin rallies on a tweet", "DOGE,BTC", 240000, 0.5, 0.6, NAN);
        news("d2", "Dogecoin fund filed", "DOGE", 300000, 0.2, 0.7, NAN);
        news("m1", "Stocks close flat", NULL, 360000, 0, 0, NAN);
        news("old", "Bitcoin whale moved coins", "BTC", 7 * 3600000LL, 0.9, 1, NAN);
        news("b3", "Bitcoin miners sell more", "BTC", 180000, -0.3, 0.55, -0.35); /* scored */
        pump();
        send_trigger();
        assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
        const char *u = AI.user[0];
        char want[1024];
        snprintf(want, sizeof(want), "%s%s%s%s%s", head, btc, round == 0 ? "" : tweet, doge, mkt);
        assert_non_null(strstr(u, want));
        assert_null(strstr(u, "whale"));          /* older than news_max_age */
        assert_null(strstr(u, "Bitcoin dips"));   /* not among BTC's 2 most relevant */
        assert_null(strstr(u, "Bitcoin miners")); /* 0.55 < the tweet's 0.6 (shown under BTC) */
        const char *sec = strstr(u, head);
        const char *end = strstr(sec, "\n\n");
        char text[2048];
        snprintf(text, sizeof(text), "%.*s", (int)(end - sec + 1), sec);
        assert_true(prompt_tokens(text) <= cfg.news_tokens);
        if (round == 0) {
            teardown(state);
            setup(state);
        }
    }
}

/* ---- stale prices and the giveback watchdog ------------------------------------ */

static void send_pos_pnl(const char *inst, at_pos_side side, const char *pos, const char *upl,
                         const char *margin)
{
    at_ev_position *p = (at_ev_position *)S.h->event_new(R.drv, AT_EV_POSITION, 0);
    p->h.inst = S.h->inst_intern(inst);
    snprintf(p->account, sizeof(p->account), ACCOUNT);
    p->pos_side = side;
    p->pos = D(pos);
    p->avg_px = D("90000");
    p->lever = D("3");
    p->upl = D(upl);
    p->margin = D(margin);
    S.h->publish(R.drv, &p->h, 0);
    pump();
}

static const char *intents_json_at(size_t i, const char *field)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT json_extract(intents_json, '$[%zu].%s') FROM decisions WHERE id = '%s'", i,
             field, last_key);
    return q1(sql);
}

/* The answer came after price_max_age with no newer price: the entry is
 * refused and says why (both prices, the move, the limit), in the row and
 * in the next prompt's history; the close in the same answer goes. */
static void test_stale_price_refuses_open_not_close(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.price_max_age_ms = 10000;
    trader_ready(&cfg, "long_short_mode");
    send_position("DOGE-USDT-SWAP", AT_POS_SHORT, "5", "0.16");
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_int_equal(engine_advance(S.e, (T0 + 11000) * 1000, 0), AT_OK);
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", "
           "\"size_pct\": 0.1, \"leverage\": 3, \"reason\": \"late\"}, {\"symbol\": "
           "\"DOGE-USDT-SWAP\", \"action\": \"close_short\", \"size_pct\": 1}]}");
    assert_true(decisions[0].valid);
    assert_int_equal(nintents, 1);
    assert_string_equal(S.h->inst_name(intents[0].h.inst), "DOGE-USDT-SWAP");
    assert_int_equal(intents[0].op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(intents[0].side, AT_SIDE_BUY);
    assert_int_equal(intents[0].pos_side, AT_POS_SHORT);
    const char *note = "stale price: BTC-USDT-SWAP 90000 is 11 s old (price_max_age 10 s); the "
                       "prompt showed 90000 (0 bps)";
    assert_string_equal(intents_json_at(0, "note"), note);
    assert_string_equal(intents_json_at(1, "op"), "close_position");
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.stale_refused, 1);
    /* the next prompt says so */
    send_ticker("BTC-USDT-SWAP", "90000");
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    char want[512];
    snprintf(want, sizeof(want), "open_long BTC-USDT-SWAP 0.1 x3 -> not sent: %s; close_short",
             note);
    assert_non_null(strstr(AI.user[1], want));
}

/* A price that moved more than max_price_move_bps since the prompt refuses
 * the entry; within the limit it is sized at the price of now. */
static void test_moved_price(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, "long_short_mode");
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    send_ticker("BTC-USDT-SWAP", "90500"); /* +55.6 bps */
    answer(OPEN_BTC);
    assert_int_equal(nintents, 1);
    assert_string_equal(S.h->inst_name(intents[0].h.inst), "DOGE-USDT-SWAP");
    assert_string_equal(intents_json_at(0, "note"),
                        "stale price: BTC-USDT-SWAP 90500 moved +55.6 bps from 90000 in the prompt "
                        "(max_price_move_bps 50)");
    assert_string_equal(intents_json_at(1, "prompt_px"), "0.15");
    /* down, within the limit: sent, sized at the price of now */
    assert_int_equal(engine_advance(S.e, (T0 + 1000) * 1000, 0), AT_OK);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    send_ticker("BTC-USDT-SWAP", "90100"); /* -44.2 bps from 90500 */
    answer(OPEN_BTC);
    assert_int_equal(nintents, 3);
    assert_string_equal(S.h->inst_name(intents[1].h.inst), "BTC-USDT-SWAP");
    dec_eq(intents[1].sz, "3.32"); /* 10000 x 0.1 x 3 / (90100 x 0.01) = 3.329 */
    assert_string_equal(intents_json_at(0, "prompt_px"), "90500");
    /* max_price_move_bps = 0: any move is taken (the intents so far have
     * their orders rows: none is published again) */
    for (size_t i = 0; i < 3; i++) {
        put_order_row(&intents[i]);
    }
    cfg.max_price_move_bps = 0;
    trader_close();
    trader_open(&cfg);
    market_events();
    nintents = 0;
    assert_int_equal(engine_advance(S.e, (T0 + 2000) * 1000, 0), AT_OK);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    send_ticker("BTC-USDT-SWAP", "91000"); /* +111 bps */
    answer(OPEN_BTC);
    assert_int_equal(nintents, 2);
    dec_eq(intents[0].sz, "3.29"); /* at 91000 */
}

/* After a restart an entry is published again only on the market its
 * decision saw: not after a move from the prompt's price (stored in
 * intents_json), nor, for a row without that price, past price_max_age. */
static void test_republish_stale(void **state)
{
    trader_cfg cfg = default_cfg();
    trader_ready(&cfg, "long_short_mode");
    send_trigger();
    answer(OPEN_BTC);
    assert_int_equal(nintents, 2);
    char key[AT_ID_LEN];
    snprintf(key, sizeof(key), "%s", last_key);
    assert_int_equal(engine_advance(S.e, (T0 + 30000) * 1000, 0), AT_OK);

    /* BTC moved: DOGE goes again, BTC does not */
    restart();
    market_events();
    send_ticker("BTC-USDT-SWAP", "90500");
    assert_int_equal(engine_advance(S.e, clock_now_us() + 250000, 0), AT_OK);
    assert_int_equal(nintents, 1);
    assert_string_equal(S.h->inst_name(intents[0].h.inst), "DOGE-USDT-SWAP");
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.republished, 1);
    assert_int_equal(st.stale_refused, 1);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_non_null(strstr(AI.user[AI.calls - 1],
                           "open_long BTC-USDT-SWAP 0.1 x3 -> not sent again: stale price: "
                           "BTC-USDT-SWAP 90500 moved +55.6 bps from 90000 in the prompt "
                           "(max_price_move_bps 50); open_short DOGE-USDT-SWAP 0.05 x2 -> asked"));

    /* a row without the prompt's price: by the decision's age */
    const at_db_value p[] = {AT_DB_S(key)};
    exec_sql("UPDATE decisions SET intents_json = json_remove(intents_json, '$[0].prompt_px', "
             "'$[1].prompt_px') WHERE id = $1",
             p, 1);
    restart();
    account_answers(); /* 30 s after the decision */
    assert_int_equal(nintents, 2);
    assert_int_equal(engine_advance(S.e, (T0 + 70000) * 1000, 0), AT_OK);
    restart();
    account_answers();
    assert_int_equal(nintents, 0);
    trader_get_stats(R.t, &st);
    assert_int_equal(st.stale_refused, 2);
}

static char gb_id[64];

/* An entry of this trader that filled: its position is the trader's own. */
static void open_and_fill_btc(void)
{
    send_trigger();
    answer(OPEN_BTC);
    const at_ev_order_intent *o = &intents[nintents - 2];
    send_order("BTC-USDT-SWAP", o->cl_ord_id, AT_ORD_FILLED, "3.33", "90000");
    snprintf(gb_id, sizeof(gb_id), "alpha/gb/BTC-USDT-SWAP/long/%" PRId64, clock_now_us() / 1000);
}

/* The watchdog arms at giveback_arm_pct of the margin, closes once at the
 * giveback (40 % of the peak), never for a position the trader did not
 * open, and starts again with the next position. */
static void test_giveback(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.giveback_pct = 40;
    cfg.giveback_arm_pct = 1;
    trader_ready(&cfg, "long_short_mode");
    open_and_fill_btc();
    assert_int_equal(nintents, 2);
    /* not armed (peak 0.5 < 1 % of 100): a fall to 0.1 closes nothing */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "0.5", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "0.1", "100");
    assert_int_equal(nintents, 2);
    /* armed at 10; 6.5 has given back 35 %, 6 gives back 40 % */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "10", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "6.5", "100");
    assert_int_equal(nintents, 2);
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "6", "100");
    assert_int_equal(nintents, 3);
    const at_ev_order_intent *o = &intents[2];
    assert_string_equal(o->intent_id, gb_id);
    expect_cl(gb_id, o->cl_ord_id);
    assert_string_equal(o->account, ACCOUNT);
    assert_string_equal(o->origin, "alpha");
    assert_string_equal(o->decision_id, "");
    assert_string_equal(S.h->inst_name(o->h.inst), "BTC-USDT-SWAP");
    assert_int_equal(o->op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(o->side, AT_SIDE_SELL);
    assert_int_equal(o->pos_side, AT_POS_LONG);
    assert_int_equal(o->ord_type, AT_ORDT_MARKET);
    assert_true(o->reduce_only);
    assert_false(o->shadow);
    dec_eq(o->sz, "3.33");
    /* once: further falls, or a new peak and fall, add nothing */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "5", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "20", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "1", "100");
    assert_int_equal(nintents, 3);
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.giveback_closes, 1);
    /* the DOGE short never filled through this trader: not its position */
    send_pos_pnl("DOGE-USDT-SWAP", AT_POS_SHORT, "6", "10", "100");
    send_pos_pnl("DOGE-USDT-SWAP", AT_POS_SHORT, "6", "1", "100");
    assert_int_equal(nintents, 3);
    /* the next prompt says what the watchdog did */
    send_order("BTC-USDT-SWAP", o->cl_ord_id, AT_ORD_FILLED, "3.33", "90020");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "0", "0", "0");
    assert_int_equal(engine_advance(S.e, (T0 + 60000) * 1000, 0), AT_OK);
    market_events();
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    assert_non_null(strstr(AI.user[1], "giveback watchdog closed BTC-USDT-SWAP long: uPnL 6 gave "
                                       "back 40 % of its peak 10 (giveback_pct 40) -> filled "
                                       "3.33 @ 90020\n"));
    /* closed: the next position of the trader is watched from scratch */
    answer(OPEN_BTC);
    send_order("BTC-USDT-SWAP", intents[3].cl_ord_id, AT_ORD_FILLED, "3.33", "90000");
    char first[64];
    snprintf(first, sizeof(first), "%s", gb_id);
    snprintf(gb_id, sizeof(gb_id), "alpha/gb/BTC-USDT-SWAP/long/%" PRId64, clock_now_us() / 1000);
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "3", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "3.33", "1.8", "100");
    assert_int_equal(nintents, 6);
    assert_string_equal(intents[5].intent_id, gb_id);
    assert_string_not_equal(gb_id, first);
}

/* Half the position closed (by the AI): what is left is held to its half of
 * the peak, not to the whole peak (50 left of a 100 peak is no giveback);
 * an add keeps the peak as an amount (the new contracts start at no uPnL). */
static void test_giveback_after_partial_close(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.giveback_pct = 30;
    cfg.giveback_arm_pct = 1;
    trader_ready(&cfg, "long_short_mode");
    open_and_fill_btc();
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "2", "100", "1000"); /* armed at 100 */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "4", "95", "2000");  /* doubled at the price */
    assert_int_equal(nintents, 2);
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "2", "50", "1000"); /* half closed: peak 50 */
    assert_int_equal(nintents, 2);
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "2", "35.01", "1000");
    assert_int_equal(nintents, 2);
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "2", "35", "1000"); /* 30 % of 50 given back */
    assert_int_equal(nintents, 3);
    assert_string_equal(intents[2].intent_id, gb_id);
    dec_eq(intents[2].sz, "2");
}

/* The BTC entry's orders row and its fill, as the venue reports them: the
 * ledger books the contracts to the trader. */
static void fill_in_ledger(const at_ev_order_intent *o, const char *sz, const char *px)
{
    const at_db_value p[] = {AT_DB_S(o->intent_id), AT_DB_S(o->cl_ord_id), AT_DB_S(o->decision_id)};
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, created_ms, updated_ms) VALUES ($1, $2, 'exchange.acc', 'alpha', $3, "
             "'BTC-USDT-SWAP', 'place', 'filled', 0, 0)",
             p, 3);
    exec_sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, lot_sz, "
             "min_sz, tick_sz, updated_ms) VALUES ('okx', 'BTC-USDT-SWAP', 'SWAP', '0.01', 'BTC', "
             "'0.01', '0.01', '0.1', 0)",
             NULL, 0);
    at_ev_fill *fl = (at_ev_fill *)S.h->event_new(R.drv, AT_EV_FILL, 0);
    fl->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    snprintf(fl->account, sizeof(fl->account), ACCOUNT);
    snprintf(fl->trade_id, sizeof(fl->trade_id), "t-%.40s", o->cl_ord_id);
    snprintf(fl->cl_ord_id, sizeof(fl->cl_ord_id), "%s", o->cl_ord_id);
    fl->side = AT_SIDE_BUY;
    fl->pos_side = AT_POS_LONG;
    fl->sz = D(sz);
    fl->px = D(px);
    fl->fee = D("-1");
    S.h->publish(R.drv, &fl->h, 0);
    pump();
}

static bool ledger_holds(void *arg)
{
    at_dec q;
    return ledger_position_of(S.e->ledger, "alpha", ACCOUNT, S.h->inst_intern("BTC-USDT-SWAP"),
                              AT_POS_LONG, &q) == AT_OK &&
           S.h->dec_cmp(q, D((const char *)arg)) == 0;
}

static void refuse(const char *intent_id, const char *code)
{
    at_ev_order_result *r =
        (at_ev_order_result *)S.h->event_new(R.drv, AT_EV_ORDER_RESULT, strlen("no") + 1);
    snprintf(r->intent_id, sizeof(r->intent_id), "%s", intent_id);
    snprintf(r->account, sizeof(r->account), ACCOUNT);
    r->op = AT_INTENT_PLACE;
    r->ok = false;
    snprintf(r->code, sizeof(r->code), "%s", code);
    r->msg = S.h->event_strdup(&r->h, "no");
    S.h->publish(R.drv, &r->h, 0);
    pump();
}

/* The long is 5 contracts at the venue, 3.33 of them the trader's (core.ledger
 * books them to it; the rest is another's or manual): the watchdog sells
 * those 3.33, reduce-only, never the whole position. A refused close lets
 * it close again under a new id (three times at most); a position the
 * ledger has no book of is closed whole, as before. */
static void test_giveback_own_contracts(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.giveback_pct = 40;
    cfg.giveback_arm_pct = 1;
    cfg.ledger = S.e->ledger;
    trader_ready(&cfg, "long_short_mode");
    open_and_fill_btc();
    fill_in_ledger(&intents[0], "3.33", "90000");
    assert_true(engine_wait(S.e, ledger_holds, "3.33", 5000000));
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "10", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "6", "100");
    assert_int_equal(nintents, 3);
    const at_ev_order_intent *o = &intents[2];
    assert_string_equal(o->intent_id, gb_id);
    expect_cl(gb_id, o->cl_ord_id);
    assert_int_equal(o->op, AT_INTENT_PLACE);
    assert_int_equal(o->side, AT_SIDE_SELL);
    assert_int_equal(o->pos_side, AT_POS_LONG);
    assert_int_equal(o->ord_type, AT_ORDT_MARKET);
    assert_true(o->reduce_only);
    assert_string_equal(o->origin, "alpha");
    dec_eq(o->sz, "3.33");
    /* refused: closed again at the next update, under a new id */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "5.9", "100");
    assert_int_equal(nintents, 3);
    refuse(gb_id, "50011");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "5.8", "100");
    assert_int_equal(nintents, 4);
    char id2[80];
    snprintf(id2, sizeof(id2), "%s/2", gb_id);
    assert_string_equal(intents[3].intent_id, id2);
    dec_eq(intents[3].sz, "3.33");
    /* a shadow refusal, or another intent's, changes nothing */
    refuse(gb_id, "50011");
    refuse(id2, "shadow");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "5.7", "100");
    assert_int_equal(nintents, 4);
    refuse(id2, "");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "5.6", "100");
    assert_int_equal(nintents, 5);
    char id3[80];
    snprintf(id3, sizeof(id3), "%s/3", gb_id);
    assert_string_equal(intents[4].intent_id, id3);
    refuse(id3, "50011"); /* the third refusal: no more */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_LONG, "5", "5.5", "100");
    assert_int_equal(nintents, 5);
    trader_stats st;
    trader_get_stats(R.t, &st);
    assert_int_equal(st.giveback_closes, 3);

    /* the DOGE short filled (its thesis) but the ledger has no book of it */
    send_order("DOGE-USDT-SWAP", intents[1].cl_ord_id, AT_ORD_FILLED, "6", "0.15");
    send_pos_pnl("DOGE-USDT-SWAP", AT_POS_SHORT, "6", "10", "100");
    send_pos_pnl("DOGE-USDT-SWAP", AT_POS_SHORT, "6", "1", "100");
    assert_int_equal(nintents, 6);
    assert_int_equal(intents[5].op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(intents[5].side, AT_SIDE_BUY);
    dec_eq(intents[5].sz, "6");
}

#define SHORT_BTC                                                                                  \
    "{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_short\", \"size_pct\": "  \
    "0.1, \"leverage\": 3, \"reason\": \"x\"}]}"

/* In net mode a short is closed by a buy of the net position; with
 * giveback_pct 0 (the default) nothing is watched. */
static void test_giveback_net_and_off(void **state)
{
    trader_cfg cfg = default_cfg();
    cfg.giveback_pct = 50;
    cfg.giveback_arm_pct = 5;
    trader_ready(&cfg, "net_mode");
    send_trigger();
    answer(SHORT_BTC);
    send_order("BTC-USDT-SWAP", intents[0].cl_ord_id, AT_ORD_FILLED, "3.33", "90000");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "-3.33", "4.9", "100"); /* under 5 % */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "-3.33", "2", "100");
    assert_int_equal(nintents, 1);
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "-3.33", "5", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "-3.33", "2.5", "100");
    assert_int_equal(nintents, 2);
    assert_int_equal(intents[1].op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(intents[1].side, AT_SIDE_BUY);
    assert_int_equal(intents[1].pos_side, AT_POS_NET);
    assert_true(intents[1].reduce_only);
    dec_eq(intents[1].sz, "3.33");
    assert_non_null(strstr(intents[1].intent_id, "alpha/gb/BTC-USDT-SWAP/short/"));
    /* off: a new entry of the trader (the first has its orders row: not
     * published again) loses everything, unwatched */
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "0", "0", "0");
    put_order_row(&intents[0]);
    trader_close();
    cfg.giveback_pct = 0;
    trader_open(&cfg);
    market_events();
    nintents = 0;
    assert_int_equal(engine_advance(S.e, (T0 + 60000) * 1000, 0), AT_OK);
    send_trigger();
    answer(SHORT_BTC);
    send_order("BTC-USDT-SWAP", intents[0].cl_ord_id, AT_ORD_FILLED, "3.33", "90000");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "-3.33", "50", "100");
    send_pos_pnl("BTC-USDT-SWAP", AT_POS_NET, "-3.33", "-10", "100");
    assert_int_equal(nintents, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_long_short_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_trigger_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_mode_and_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hedge_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_small_and_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_no_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waits_for_the_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_republish_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prompt_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_before_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_news_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_price_refuses_open_not_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_price, setup, teardown),
        cmocka_unit_test_setup_teardown(test_republish_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giveback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giveback_net_and_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giveback_after_partial_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giveback_own_contracts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prompt_reads_a_settled_market, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

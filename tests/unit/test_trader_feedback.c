/* Episodic memory, the trader's half (core/trading/trader_feedback.c): in a
 * real engine on the simulated clock, with an AI whose at_ai_ops has the
 * ABI 1.6 feedback op, what became of a decision is told to it once each —
 * an entry's fill with its price and fee, a refusal with its rule and
 * reason, the close of the position it opened with the ledger's PnL — and
 * never to a provider whose ops predate the op (AT_STRUCT_HAS). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "engine.h"
#include "engine_internal.h"
#include "sim_engine.h"
#include "trading/ledger.h"
#include "trading/trader.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, ms */
#define ACCT "exchange.okx"
#define BTC "BTC-USDT-SWAP"

/* ---- an AI that remembers what it is told -------------------------------------- */

#define MAXFB 16
typedef struct told {
    at_ai_feedback_kind kind;
    char decision[AT_ID_LEN], intent[AT_ID_LEN], symbol[32], trader[16], text[900];
} told;

static struct {
    bool pending;
    at_ai_done_cb done;
    void *arg;
    told fb[MAXFB];
    size_t nfb;
} AI;

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    AI.pending = true;
    AI.done = done;
    AI.arg = arg;
    return AT_OK;
}

static void ai_feedback(void *ctx, const at_ai_feedback *fb)
{
    assert_true(AT_STRUCT_HAS(fb->struct_size, at_ai_feedback, ts_ms));
    assert_int_equal(fb->ts_ms, clock_now_us() / 1000);
    if (AI.nfb < MAXFB) {
        told *t = &AI.fb[AI.nfb];
        t->kind = fb->kind;
        snprintf(t->decision, sizeof(t->decision), "%s", fb->decision_id);
        snprintf(t->intent, sizeof(t->intent), "%s", fb->intent_id ? fb->intent_id : "-");
        snprintf(t->symbol, sizeof(t->symbol), "%s", fb->symbol);
        snprintf(t->trader, sizeof(t->trader), "%s", fb->trader);
        snprintf(t->text, sizeof(t->text), "%s", fb->text);
    }
    AI.nfb++;
}

static const at_ai_ops ai_ops = {
    .struct_size = sizeof(at_ai_ops), .request = ai_request, .feedback = ai_feedback};
/* The same op in the ops of a provider built against ABI 1.5: not there. */
static const at_ai_ops ai_ops_1_5 = {
    .struct_size = offsetof(at_ai_ops, feedback), .request = ai_request, .feedback = ai_feedback};

/* ---- the rig -------------------------------------------------------------------- */

static sim_engine S;
static at_instance *DRV, *SELF;
static trader *T;
static char key[AT_ID_LEN];
static at_ev_order_intent entry;
static size_t nintents, ndecisions;

static void on_intent(void *arg, const at_event *e)
{
    if (nintents++ == 0) {
        entry = *(const at_ev_order_intent *)e;
    }
}

static void on_decision(void *arg, const at_event *e)
{
    ndecisions++;
}

static at_dec D(const char *s)
{
    at_dec x;
    assert_int_equal(S.h->dec_parse(s, (size_t)-1, &x), AT_OK);
    return x;
}

static at_event *ev(at_event_type type)
{
    at_event *e = S.h->event_new(DRV, type, 256);
    e->inst = S.h->inst_intern(BTC);
    return e;
}

static void emit(at_event *e)
{
    S.h->publish(DRV, e, 0);
    engine_pump(S.e);
}

static void send_position(const char *pos)
{
    at_ev_position *p = (at_ev_position *)ev(AT_EV_POSITION);
    snprintf(p->account, sizeof(p->account), ACCT);
    p->pos_side = AT_POS_NET;
    p->pos = D(pos);
    p->avg_px = D("90000");
    p->lever = D("3");
    p->margin = D("100");
    emit(&p->h);
}

static void send_order(at_ord_state state, const char *filled)
{
    at_ev_order *o = (at_ev_order *)ev(AT_EV_ORDER);
    snprintf(o->account, sizeof(o->account), ACCT);
    snprintf(o->ord_id, sizeof(o->ord_id), "o1");
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", entry.cl_ord_id);
    snprintf(o->fee_ccy, sizeof(o->fee_ccy), "USDT");
    o->state = state;
    o->sz = entry.sz;
    o->acc_fill_sz = D(filled);
    o->avg_px = D("90000");
    o->fee = D("-1.5");
    emit(&o->h);
}

static void send_fill(const char *cl, const char *algo_cl, at_side side, const char *px)
{
    at_ev_fill *f = (at_ev_fill *)ev(AT_EV_FILL);
    snprintf(f->account, sizeof(f->account), ACCT);
    snprintf(f->trade_id, sizeof(f->trade_id), "t-%s", px);
    snprintf(f->cl_ord_id, sizeof(f->cl_ord_id), "%s", cl);
    snprintf(f->algo_cl_ord_id, sizeof(f->algo_cl_ord_id), "%s", algo_cl);
    f->side = side;
    f->pos_side = AT_POS_NET;
    f->sz = entry.sz;
    f->px = D(px);
    f->fee = D("-1.5");
    emit(&f->h);
}

static void send_refusal(const char *msg)
{
    at_ev_order_result *r = (at_ev_order_result *)ev(AT_EV_ORDER_RESULT);
    snprintf(r->intent_id, sizeof(r->intent_id), "%s", entry.intent_id);
    snprintf(r->cl_ord_id, sizeof(r->cl_ord_id), "%s", entry.cl_ord_id);
    snprintf(r->account, sizeof(r->account), ACCT);
    snprintf(r->code, sizeof(r->code), "risk_rejected");
    r->msg = S.h->event_strdup(&r->h, msg);
    emit(&r->h);
}

static bool asked(void *arg)
{
    return AI.pending;
}

static bool decided(void *arg)
{
    return ndecisions >= 1;
}

static bool ledger_closed(void *arg)
{
    ledger_outcome lo;
    return ledger_outcome_of(S.e->ledger, key, &lo) == AT_OK && !lo.open;
}

/* The trader asks the ledger every 250 ms of core-clock time. */
static void advance_ms(int64_t ms)
{
    assert_int_equal(engine_advance(S.e, clock_now_us() + ms * 1000, 0), AT_OK);
}

static bool is_loaded(void *arg)
{
    trader_stats st;
    trader_get_stats(T, &st);
    return st.loaded;
}

/* A trader on ACCT whose first decision opens BTC long (its intent in `entry`). */
static void decide_entry(const at_ai_ops *ops, bool with_ledger)
{
    char prompts[512], why[256] = "";
    snprintf(prompts, sizeof(prompts), "%s/prompts", AT_TEST_SOURCE_DIR);
    static const char *const syms[] = {BTC};
    trader_cfg cfg = {.trader = "alpha",
                      .ai_name = "ai.letta",
                      .ai = ops,
                      .ai_ctx = NULL,
                      .account = ACCT,
                      .symbols = syms,
                      .nsymbols = 1,
                      .prompts_dir = prompts,
                      .history = 5,
                      .max_leverage = 10,
                      .max_size_pct = 0.2,
                      .take_profit_pct = 0.04,
                      .stop_loss_pct = 0.02,
                      .price_max_age_ms = 60000,
                      .ledger = with_ledger ? S.e->ledger : NULL};
    T = trader_new(S.h, SELF, &cfg, why, sizeof(why));
    if (!T) {
        fail_msg("trader_new: %s", why);
    }
    assert_int_equal(trader_start(T), AT_OK);
    assert_true(engine_wait(S.e, is_loaded, NULL, 5000000));
    sim_engine_sql(&S, DRV,
                   "INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, "
                   "lot_sz, min_sz, tick_sz, updated_ms) VALUES ('" ACCT "', '" BTC "', 'SWAP', "
                   "'0.01', 'BTC', '0.01', '0.01', '0.1', 0)",
                   NULL, 0);
    sim_engine_sql(&S, DRV,
                   "INSERT INTO accounts (id, exchange, pos_mode, created_ms, updated_ms) VALUES "
                   "('" ACCT "', 'okx', 'net_mode', 0, 0)",
                   NULL, 0);
    at_ev_balance *b = (at_ev_balance *)ev(AT_EV_BALANCE);
    snprintf(b->account, sizeof(b->account), ACCT);
    snprintf(b->ccy, sizeof(b->ccy), "USDT");
    b->total_eq = b->eq = b->avail = D("10000");
    emit(&b->h);
    at_ev_ticker *tk = (at_ev_ticker *)ev(AT_EV_TICKER);
    tk->last = D("90000");
    emit(&tk->h);
    at_ev_trigger *tr = (at_ev_trigger *)S.h->event_new(SELF, AT_EV_TRIGGER, 16);
    snprintf(tr->trader, sizeof(tr->trader), "alpha");
    snprintf(tr->key, sizeof(tr->key), "alpha:long:%" PRId64, clock_now_us() / 1000);
    snprintf(key, sizeof(key), "%s", tr->key);
    tr->reason = S.h->event_strdup(&tr->h, "long period");
    tr->deadline_ms = 60000;
    S.h->publish(SELF, &tr->h, 0);
    engine_pump(S.e);
    assert_true(engine_wait(S.e, asked, NULL, 5000000));
    at_ai_reply r = {.err = AT_OK,
                     .content = "{\"decisions\": [{\"symbol\": \"" BTC "\", \"action\": "
                                "\"open_long\", \"size_pct\": 0.1, \"leverage\": 3, \"reason\": "
                                "\"breakout above the range\"}]}",
                     .model = "openai/gpt-4o-mini",
                     .finish_reason = "stop"};
    AI.pending = false;
    AI.done(AI.arg, &r);
    engine_pump(S.e);
    assert_true(engine_wait(S.e, decided, NULL, 5000000));
    assert_int_equal(nintents, 1);
    /* the gate's row: the ledger attributes fills by it */
    const at_db_value p[] = {AT_DB_S(entry.intent_id), AT_DB_S(entry.cl_ord_id), AT_DB_S(key)};
    sim_engine_sql(&S, DRV,
                   "INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, "
                   "inst_id, op, state, created_ms, updated_ms) VALUES ($1, $2, '" ACCT "', "
                   "'alpha', $3, '" BTC "', 'place', 'filled', 0, 0)",
                   p, 3);
}

static int setup(void **state)
{
    memset(&AI, 0, sizeof(AI));
    nintents = ndecisions = 0;
    sim_engine_open(&S, "feedback", NULL, T0 * 1000, true);
    DRV = engine_virtual_instance(S.e, "test.drv");
    SELF = engine_virtual_instance(S.e, "trader.alpha");
    S.h->subscribe(DRV, AT_EV_ORDER_INTENT, on_intent, NULL);
    S.h->subscribe(DRV, AT_EV_DECISION, on_decision, NULL);
    return 0;
}

static int teardown(void **state)
{
    if (T) {
        trader_stop(T);
    }
    sim_engine_close(&S, true);
    trader_free(T);
    T = NULL;
    return 0;
}

/* ---- tests ------------------------------------------------------------------------ */

/* The entry's fill, told once (its state comes again on reconnects); then
 * the close of the position it opened, with the ledger's PnL once booked. */
static void test_fill_then_close(void **state)
{
    decide_entry(&ai_ops, true);
    assert_int_equal(AI.nfb, 0); /* nothing became of it yet */
    send_order(AT_ORD_LIVE, "0");
    assert_int_equal(AI.nfb, 0); /* not an end */
    send_order(AT_ORD_FILLED, "3.33");
    char sz[AT_DEC_STRLEN];
    S.h->dec_format(entry.sz, sz);
    assert_int_equal(AI.nfb, 1);
    assert_int_equal(AI.fb[0].kind, AT_AI_FB_FILLED);
    assert_string_equal(AI.fb[0].decision, key);
    assert_string_equal(AI.fb[0].intent, entry.intent_id);
    assert_string_equal(AI.fb[0].symbol, BTC);
    assert_string_equal(AI.fb[0].trader, "alpha");
    assert_string_equal(AI.fb[0].text,
                        "open_long BTC-USDT-SWAP 0.1 x3: filled 3.33 contracts @ 90000, fee -1.5 "
                        "USDT");
    send_order(AT_ORD_FILLED, "3.33");
    assert_int_equal(AI.nfb, 1);
    /* the ledger books the entry, the position opens, a TP closes it */
    send_fill(entry.cl_ord_id, "", AT_SIDE_BUY, "90000");
    send_position(sz);
    char algo[AT_ID_LEN + 2];
    snprintf(algo, sizeof(algo), "%sa", entry.cl_ord_id);
    advance_ms(12 * 60000);
    send_position("0"); /* before the closing fill is booked: told once it is */
    advance_ms(3000);
    assert_int_equal(AI.nfb, 1);
    send_fill("", algo, AT_SIDE_SELL, "91000");
    assert_true(engine_wait(S.e, ledger_closed, NULL, 5000000));
    advance_ms(300);
    assert_int_equal(AI.nfb, 2);
    assert_int_equal(AI.fb[1].kind, AT_AI_FB_CLOSED);
    assert_string_equal(AI.fb[1].decision, key);
    assert_string_equal(AI.fb[1].intent, "-");
    /* (91000 - 90000) x 3.33 x 0.01 = 33.3, fees 2 x -1.5 */
    const char *want = "long BTC-USDT-SWAP (entry 90000, opened by this decision for: breakout "
                       "above the range) closed after 12 min: PnL +30.3 USDT (realized +33.3, "
                       "fees -3, funding 0)";
    if (strcmp(AI.fb[1].text, want) != 0) {
        fail_msg("told '%s'", AI.fb[1].text);
    }
}

/* A refusal names the rule and its reason; a second result of the same
 * intent is not told again. */
static void test_refusal(void **state)
{
    decide_entry(&ai_ops, false);
    send_refusal("risk.limits/max_leverage: 3 is over the 2 allowed for BTC-USDT-SWAP");
    send_refusal("risk.limits/max_leverage: 3 is over the 2 allowed for BTC-USDT-SWAP");
    assert_int_equal(AI.nfb, 1);
    assert_int_equal(AI.fb[0].kind, AT_AI_FB_REJECTED);
    assert_string_equal(AI.fb[0].text, "open_long BTC-USDT-SWAP 0.1 x3: refused by risk.limits/"
                                       "max_leverage: 3 is over the 2 allowed for BTC-USDT-SWAP");
}

/* Without a ledger a close is told at once, its PnL unknown. */
static void test_close_without_ledger(void **state)
{
    decide_entry(&ai_ops, false);
    send_order(AT_ORD_FILLED, "3.33");
    send_position("3.33");
    send_position("0");
    advance_ms(300);
    assert_int_equal(AI.nfb, 2);
    assert_int_equal(AI.fb[1].kind, AT_AI_FB_CLOSED);
    assert_string_equal(AI.fb[1].text, "long BTC-USDT-SWAP (entry 90000, opened by this decision "
                                       "for: breakout above the range) closed after 0 min (its "
                                       "PnL is not booked)");
}

/* A provider built before ABI 1.6 has no feedback op, whatever lies past
 * its struct: nothing is read there, nothing told. */
static void test_old_provider(void **state)
{
    decide_entry(&ai_ops_1_5, false);
    send_order(AT_ORD_FILLED, "3.33");
    send_refusal("risk.breaker/kill_switch: on");
    send_position("3.33");
    send_position("0");
    advance_ms(20000);
    assert_int_equal(AI.nfb, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fill_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_without_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_provider, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

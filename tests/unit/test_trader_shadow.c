/* Shadow and gray release in a trader (core/trading/trader_intents.c,
 * context.c) in a real engine on the simulated clock with a scripted AI:
 * entries routed live or to the shadow account by the live_weight draw
 * (recomputed here from gray.h), by the UTC hour on the core clock, or all
 * of them with shadow = true, sized from the live account's equity; closes
 * sent to each book that holds the position (the trader's own contracts on
 * a shared shadow account by core.ledger); the shadow book's positions,
 * fills and theses shown to the AI as shadow, never as live. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bus.h"
#include "clock.h"
#include "engine.h"
#include "engine_internal.h"
#include "log.h"
#include "sim_engine.h"
#include "trading/gray.h"
#include "trading/ledger.h"
#include "trading/trader.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, ms */
#define LIVE "exchange.live"
#define SHADOW "exchange.shadow"

/* ---- a scripted AI ---------------------------------------------------------- */

typedef struct fake_ai {
    int calls;
    char *user; /* the last prompt */
    bool pending;
    at_ai_done_cb done;
    void *arg;
} fake_ai;

static fake_ai AI;

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    fake_ai *a = ctx;
    free(a->user);
    a->user = strdup(req->user);
    a->calls++;
    a->pending = true;
    a->done = done;
    a->arg = arg;
    return AT_OK;
}

static const at_ai_ops ai_ops = {.struct_size = sizeof(at_ai_ops), .request = ai_request};

/* ---- what the bus carried ---------------------------------------------------- */

#define MAXI 64
static at_ev_order_intent intents[MAXI];
static size_t nintents, ndecisions;

static void on_intent(void *arg, const at_event *e)
{
    if (nintents < MAXI) {
        intents[nintents] = *(const at_ev_order_intent *)e;
    }
    nintents++;
}

static void on_decision(void *arg, const at_event *e)
{
    ndecisions++;
}

/* ---- the rig ------------------------------------------------------------------ */

static const char *const SYMS[] = {"BTC-USDT-SWAP", "DOGE-USDT-SWAP"};
static sim_engine S;
static at_instance *DRV, *SELF;
static trader *T;
static gray_rules G;

static trader_cfg shadow_cfg(void)
{
    static const char *const inds[] = {"rsi14"};
    static char prompts[512];
    snprintf(prompts, sizeof(prompts), "%s/prompts", AT_TEST_SOURCE_DIR);
    memset(&G, 0, sizeof(G));
    return (trader_cfg){.trader = "alpha",
                        .ai_name = "ai.fake",
                        .ai = &ai_ops,
                        .ai_ctx = &AI,
                        .account = LIVE,
                        .symbols = SYMS,
                        .nsymbols = 2,
                        .prompts_dir = prompts,
                        .history = 5,
                        .max_leverage = 10,
                        .max_size_pct = 0.2,
                        .take_profit_pct = 0.04,
                        .stop_loss_pct = 0.02,
                        .indicators = inds,
                        .nindicators = 1,
                        .price_max_age_ms = 60000,
                        .shadow_account = SHADOW,
                        .gray = &G,
                        .gray_seed = 42};
}

static void rules(const char *const *items, size_t n)
{
    char why[256];
    assert_int_equal(gray_parse(items, n, &G, why, sizeof(why)), 0);
}

static void pump(void)
{
    engine_pump(S.e);
}

static bool is_loaded(void *arg)
{
    trader_stats st;
    trader_get_stats(T, &st);
    return st.loaded;
}

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

static void exec_sql(const char *sql, const at_db_value *p, size_t n)
{
    sim_engine_sql(&S, DRV, sql, p, n);
}

static const char *q1(const char *sql)
{
    return sim_engine_row(&S, DRV, sql, NULL, 0);
}

static void put_mode(const char *account, const char *mode)
{
    const at_db_value p[] = {AT_DB_S(account), AT_DB_S(mode)};
    exec_sql("INSERT INTO accounts (id, exchange, pos_mode, created_ms, updated_ms) VALUES ($1, "
             "'okx', $2, 0, 0) ON CONFLICT (id) DO UPDATE SET pos_mode = $2",
             p, 2);
}

static void send_balance(const char *account, const char *total)
{
    at_ev_balance *b = (at_ev_balance *)S.h->event_new(DRV, AT_EV_BALANCE, 0);
    snprintf(b->account, sizeof(b->account), "%s", account);
    snprintf(b->ccy, sizeof(b->ccy), "USDT");
    b->total_eq = b->eq = b->avail = D(total);
    S.h->publish(DRV, &b->h, 0);
    pump();
}

static void send_ticker(const char *inst, const char *last)
{
    at_ev_ticker *t = (at_ev_ticker *)S.h->event_new(DRV, AT_EV_TICKER, 0);
    t->h.inst = S.h->inst_intern(inst);
    t->last = D(last);
    S.h->publish(DRV, &t->h, 0);
    pump();
}

static void send_position(const char *account, const char *inst, at_pos_side side, const char *pos)
{
    at_ev_position *p = (at_ev_position *)S.h->event_new(DRV, AT_EV_POSITION, 0);
    p->h.inst = S.h->inst_intern(inst);
    snprintf(p->account, sizeof(p->account), "%s", account);
    p->pos_side = side;
    p->pos = D(pos);
    p->avg_px = D("90000");
    p->lever = D("3");
    p->upl = D("12.5");
    p->margin = D("100");
    S.h->publish(DRV, &p->h, 0);
    pump();
}

static void send_order(const char *account, const at_ev_order_intent *in, const char *fill)
{
    at_ev_order *o = (at_ev_order *)S.h->event_new(DRV, AT_EV_ORDER, 0);
    o->h.inst = in->h.inst;
    snprintf(o->account, sizeof(o->account), "%s", account);
    snprintf(o->ord_id, sizeof(o->ord_id), "o-%.40s", in->cl_ord_id);
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", in->cl_ord_id);
    o->state = AT_ORD_FILLED;
    o->acc_fill_sz = o->sz = D(fill);
    o->avg_px = D("90000");
    S.h->publish(DRV, &o->h, 0);
    pump();
}

static char last_key[AT_ID_LEN];

static void send_trigger(void)
{
    at_ev_trigger *t = (at_ev_trigger *)S.h->event_new(SELF, AT_EV_TRIGGER, 16);
    snprintf(t->trader, sizeof(t->trader), "alpha");
    snprintf(t->key, sizeof(t->key), "alpha:long:%" PRId64, clock_now_us() / 1000);
    snprintf(last_key, sizeof(last_key), "%s", t->key);
    t->reason = S.h->event_strdup(&t->h, "long period");
    t->deadline_ms = 60000;
    S.h->publish(SELF, &t->h, 0);
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

static void answer(const char *content)
{
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    size_t want = ndecisions + 1;
    AI.pending = false;
    at_ai_reply r = {.err = AT_OK, .content = content, .model = "fake-1", .finish_reason = "stop"};
    AI.done(AI.arg, &r);
    pump();
    assert_true(engine_wait(S.e, decided, &want, 5000000));
}

static void prices(void)
{
    send_balance(LIVE, "10000");
    send_balance(SHADOW, "500"); /* never what entries are sized from */
    send_ticker("BTC-USDT-SWAP", "90000");
    send_ticker("DOGE-USDT-SWAP", "0.15");
}

static void open_trader(const trader_cfg *cfg)
{
    char why[256] = "";
    T = trader_new(S.h, SELF, cfg, why, sizeof(why));
    if (!T) {
        fail_msg("trader_new: %s", why);
    }
    assert_int_equal(trader_start(T), AT_OK);
    assert_true(engine_wait(S.e, is_loaded, NULL, 5000000));
    exec_sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, lot_sz, min_sz, "
             "tick_sz, updated_ms) VALUES ('" LIVE "', 'BTC-USDT-SWAP', 'SWAP', '0.01', '0.01', "
             "'0.01', '0.1', 0), ('" LIVE "', 'DOGE-USDT-SWAP', 'SWAP', '1000', '1', '1', "
             "'0.00001', 0) ON CONFLICT DO NOTHING",
             NULL, 0);
    put_mode(LIVE, "net_mode");
    put_mode(SHADOW, "long_short_mode");
    prices();
}

static int setup(void **state)
{
    free(AI.user);
    memset(&AI, 0, sizeof(AI));
    nintents = ndecisions = 0;
    sim_engine_open(&S, "shadow", NULL, T0 * 1000, true);
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
    free(AI.user);
    AI.user = NULL;
    return 0;
}

/* The sim clock moved on: later triggers, fresh prices. */
static void advance_ms(int64_t ms)
{
    assert_int_equal(engine_advance(S.e, clock_now_us() + ms * 1000, 0), AT_OK);
    prices();
}

#define OPEN_BOTH                                                                                  \
    "{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", \"size_pct\": "   \
    "0.1, \"leverage\": 3, \"reason\": \"breakout\"}, {\"symbol\": \"DOGE-USDT-SWAP\", "           \
    "\"action\": \"open_short\", \"size_pct\": 0.05, \"leverage\": 2, \"reason\": \"rich\"}]}"

/* ---- fills booked by core.ledger to alpha ------------------------------------ */

static bool ledger_booked(void *arg)
{
    ledger_stats st;
    ledger_get_stats(S.e->ledger, &st);
    return st.fills >= *(const uint64_t *)arg && ledger_ready(S.e->ledger);
}

/* A fill of `origin`'s order `cl` on `account`, booked by core.ledger. */
static void book_fill(const char *origin, const char *account, const char *inst, const char *cl,
                      at_side side, at_pos_side ps, const char *sz, const char *px)
{
    exec_sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, lot_sz, "
             "min_sz, tick_sz, updated_ms) VALUES ('okx', 'BTC-USDT-SWAP', 'SWAP', '0.01', 'BTC', "
             "'0.01', '0.01', '0.1', 0), ('okx', 'DOGE-USDT-SWAP', 'SWAP', '1000', 'DOGE', '1', "
             "'1', '0.00001', 0) ON CONFLICT DO NOTHING",
             NULL, 0);
    char iid[AT_ID_LEN];
    snprintf(iid, sizeof(iid), "%s/i", cl);
    const at_db_value p[] = {AT_DB_S(iid),    AT_DB_S(cl),   AT_DB_S(account),
                             AT_DB_S(origin), AT_DB_S(inst), AT_DB_I(strcmp(account, SHADOW) == 0)};
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, shadow, created_ms, updated_ms) VALUES ($1, $2, $3, $4, 'd', $5, "
             "'place', 'filled', $6, 0, 0)",
             p, 6);
    ledger_stats st;
    ledger_get_stats(S.e->ledger, &st);
    uint64_t want = st.fills + 1;
    at_ev_fill *fl = (at_ev_fill *)S.h->event_new(DRV, AT_EV_FILL, 0);
    fl->h.inst = S.h->inst_intern(inst);
    snprintf(fl->account, sizeof(fl->account), "%s", account);
    snprintf(fl->trade_id, sizeof(fl->trade_id), "t-%s", cl);
    snprintf(fl->cl_ord_id, sizeof(fl->cl_ord_id), "%s", cl);
    fl->side = side;
    fl->pos_side = ps;
    fl->sz = D(sz);
    fl->px = D(px);
    fl->fee = D("-1");
    S.h->publish(DRV, &fl->h, 0);
    pump();
    assert_true(engine_wait(S.e, ledger_booked, &want, 5000000));
}

/* The note stored for item 0 of the last decision. */
static const char *note0(void)
{
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT json_extract(intents_json, '$[0].note') FROM decisions WHERE id = '%s'",
             last_key);
    return q1(sql);
}

#define CLOSE_BTC_LONG                                                                             \
    "{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"close_long\", "                \
    "\"size_pct\": 1}]}"

/* ---- tests --------------------------------------------------------------------- */

/* shadow = true: every entry to the shadow account, flagged, in its
 * position mode, sized from the live account's equity. */
/* What the trader logs while fn runs (stderr, where the engine logs). */
static char *logged(void (*fn)(void))
{
    char path[] = "/tmp/at-shadow-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    at_log_level level = log_get_level(); /* the test engine logs errors only */
    log_set_level(AT_LOG_WARN);
    fn();
    log_set_level(level);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char buf[8192];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return buf;
}

static void open_shadow_trader(void)
{
    trader_cfg cfg = shadow_cfg();
    open_trader(&cfg); /* prices(): the live account 10000, the shadow one 500 */
}

static void more_balances(void)
{
    send_balance(SHADOW, "400");
    send_balance(LIVE, "10000");
}

/* A shadow venue holding less than the live equity is said once, at start. */
static void test_shadow_balance_warned(void **state)
{
    (void)state;
    const char *out = logged(open_shadow_trader);
    const char *w = strstr(out, "the shadow account " SHADOW " holds 500, less than the live "
                                "account's 10000");
    assert_non_null(w);
    assert_null(strstr(strstr(w, "less than") + 1, "less than the live account's"));
    assert_null(strstr(logged(more_balances), "less than the live account's")); /* once */
}

static void test_all_shadow(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.shadow = true;
    open_trader(&cfg);
    send_trigger();
    answer(OPEN_BOTH);
    assert_int_equal(nintents, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(intents[i].account, SHADOW);
        assert_true(intents[i].shadow);
        assert_string_equal(intents[i].origin, "alpha");
    }
    dec_eq(intents[0].sz, "3.33");                      /* 10000 x 0.1 x 3 / 900: the live equity */
    assert_int_equal(intents[0].pos_side, AT_POS_LONG); /* the shadow account's mode */
    assert_int_equal(intents[1].pos_side, AT_POS_SHORT);
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT json_extract(intents_json, '$[0].route'), json_extract(intents_json, "
             "'$[0].live_weight'), json_extract(intents_json, '$[0].account'), "
             "json_extract(intents_json, '$[0].draw') FROM decisions WHERE id = '%s'",
             last_key);
    assert_string_equal(q1(sql), "shadow|0|" SHADOW "|null");
    trader_stats st;
    trader_get_stats(T, &st);
    assert_int_equal(st.shadow_entries, 2);
    assert_int_equal(st.live_entries, 0);
}

/* live_weight 0.3 for BTC: each entry's route is the draw of (seed,
 * trader, decision id, symbol) against 0.3, as recomputed here; DOGE
 * (weight 1) always live. */
static void test_weight_draw(void **state)
{
    trader_cfg cfg = shadow_cfg();
    const char *items[] = {"BTC-USDT-SWAP:0.3", "1"};
    rules(items, 2);
    open_trader(&cfg);
    size_t live = 0, n = 24;
    for (size_t k = 0; k < n; k++) {
        size_t before = nintents;
        send_trigger();
        answer(OPEN_BOTH);
        assert_int_equal(nintents, before + 2);
        const at_ev_order_intent *btc = &intents[before], *doge = &intents[before + 1];
        double u = gray_draw(42, "alpha", last_key, "BTC-USDT-SWAP");
        bool want_live = u < 0.3;
        live += want_live;
        assert_string_equal(btc->account, want_live ? LIVE : SHADOW);
        assert_int_equal(btc->shadow, !want_live);
        /* each book's position mode */
        assert_int_equal(btc->pos_side, want_live ? AT_POS_NET : AT_POS_LONG);
        assert_string_equal(doge->account, LIVE);
        assert_false(doge->shadow);
        /* the line as stored: its route, weight and draw, exactly */
        char sql[320];
        snprintf(sql, sizeof(sql), "SELECT intents_json FROM decisions WHERE id = '%s'", last_key);
        json_t *arr = json_loads(q1(sql), 0, NULL);
        json_t *line = json_array_get(arr, 0);
        assert_non_null(line);
        assert_string_equal(json_string_value(json_object_get(line, "route")),
                            want_live ? "live" : "shadow");
        assert_true(json_real_value(json_object_get(line, "live_weight")) == 0.3);
        assert_true(json_real_value(json_object_get(line, "draw")) == u);
        json_decref(arr);
        advance_ms(61000); /* the next trigger has another key */
    }
    /* both routes were taken */
    assert_true(live > 0 && live < n);
    trader_stats st;
    trader_get_stats(T, &st);
    assert_int_equal(st.live_entries, live + n);
    assert_int_equal(st.shadow_entries, n - live);
}

/* The window is read on the core clock: shadow at night, live by day. */
static void test_time_window(void **state)
{
    trader_cfg cfg = shadow_cfg();
    const char *items[] = {"*@22-06:0", "1"};
    rules(items, 2);
    open_trader(&cfg); /* 00:00 UTC */
    send_trigger();
    answer(OPEN_BOTH);
    assert_int_equal(nintents, 2);
    assert_string_equal(intents[0].account, SHADOW);
    assert_string_equal(intents[1].account, SHADOW);
    advance_ms(6 * 3600000LL); /* 06:00: the window is over */
    send_trigger();
    answer(OPEN_BOTH);
    assert_int_equal(nintents, 4);
    assert_string_equal(intents[2].account, LIVE);
    assert_string_equal(intents[3].account, LIVE);
    advance_ms(16 * 3600000LL - 60000); /* 21:59 */
    send_trigger();
    answer(OPEN_BOTH);
    assert_string_equal(intents[4].account, LIVE);
    advance_ms(60000); /* 22:00 */
    send_trigger();
    answer(OPEN_BOTH);
    assert_int_equal(nintents, 8);
    assert_string_equal(intents[6].account, SHADOW);
    assert_string_equal(intents[7].account, SHADOW);
}

/* A close goes to each book holding the position, for the contracts
 * core.ledger books to the trader there: the live one with a reduce-only
 * place (never a close-position on a live account others may share), the
 * shadow one as its second intent "/s". */
static void test_close_both_books(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.ledger = S.e->ledger;
    open_trader(&cfg);
    book_fill("alpha", LIVE, "BTC-USDT-SWAP", "al1", AT_SIDE_BUY, AT_POS_NET, "2", "90000");
    book_fill("alpha", SHADOW, "BTC-USDT-SWAP", "as1", AT_SIDE_BUY, AT_POS_LONG, "3.33", "90000");
    book_fill("alpha", SHADOW, "DOGE-USDT-SWAP", "as2", AT_SIDE_SELL, AT_POS_SHORT, "6", "0.15");
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "2");
    send_position(SHADOW, "BTC-USDT-SWAP", AT_POS_LONG, "3.33");
    send_position(SHADOW, "DOGE-USDT-SWAP", AT_POS_SHORT, "6");
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"close_long\", "
           "\"size_pct\": 1}, {\"symbol\": \"DOGE-USDT-SWAP\", \"action\": \"close_short\", "
           "\"size_pct\": 0.5}]}");
    assert_int_equal(nintents, 3);
    const at_ev_order_intent *o = &intents[0];
    char id[AT_ID_LEN + 8];
    snprintf(id, sizeof(id), "%s/0", last_key);
    assert_string_equal(o->intent_id, id);
    assert_string_equal(o->account, LIVE);
    assert_false(o->shadow);
    assert_int_equal(o->op, AT_INTENT_PLACE);
    assert_true(o->reduce_only);
    assert_int_equal(o->side, AT_SIDE_SELL);
    assert_int_equal(o->pos_side, AT_POS_NET);
    dec_eq(o->sz, "2");
    o = &intents[1];
    snprintf(id, sizeof(id), "%s/0/s", last_key);
    assert_string_equal(o->intent_id, id);
    assert_string_equal(o->account, SHADOW);
    assert_true(o->shadow);
    assert_int_equal(o->op, AT_INTENT_CLOSE_POSITION);
    assert_int_equal(o->pos_side, AT_POS_LONG);
    assert_int_equal(o->side, AT_SIDE_SELL);
    dec_eq(o->sz, "3.33");
    /* held by the shadow book only: its intent alone, under the plain id */
    o = &intents[2];
    snprintf(id, sizeof(id), "%s/1", last_key);
    assert_string_equal(o->intent_id, id);
    assert_string_equal(o->account, SHADOW);
    assert_int_equal(o->op, AT_INTENT_PLACE);
    assert_true(o->reduce_only);
    assert_int_equal(o->side, AT_SIDE_BUY);
    dec_eq(o->sz, "3");
    char sql[400];
    snprintf(sql, sizeof(sql),
             "SELECT json_array_length(intents_json), json_extract(intents_json, '$[1].item'), "
             "json_extract(intents_json, '$[1].route'), json_extract(intents_json, '$[0].route') "
             "FROM decisions WHERE id = '%s'",
             last_key);
    assert_string_equal(q1(sql), "3|0|shadow|live");
    trader_stats st;
    trader_get_stats(T, &st);
    assert_int_equal(st.shadow_closes, 2);
    /* the history shows both legs of the BTC close */
    advance_ms(61000);
    send_trigger();
    answer("{\"decisions\": []}");
    assert_non_null(strstr(AI.user, "close_long BTC-USDT-SWAP 1 -> asked and shadow: asked"));
}

static bool ledger_holds(void *arg)
{
    at_dec q;
    return ledger_position_of(S.e->ledger, "alpha", SHADOW, *(const at_inst *)arg, AT_POS_LONG,
                              &q) == AT_OK &&
           S.h->dec_cmp(q, D("3.33")) == 0;
}

/* Net mode, shared live account: alpha's own book is a short of 2, another
 * trader's long makes the venue net +3; close_long closes nothing (review
 * proof: alpha sold 2 of the other trader's long). */
static void test_close_net_sign(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.ledger = S.e->ledger;
    open_trader(&cfg);
    book_fill("alpha", LIVE, "BTC-USDT-SWAP", "aiproof1", AT_SIDE_SELL, AT_POS_NET, "2", "90000");
    at_dec q;
    assert_int_equal(ledger_position_of(S.e->ledger, "alpha", LIVE,
                                        S.h->inst_intern("BTC-USDT-SWAP"), AT_POS_NET, &q),
                     AT_OK);
    dec_eq(q, "-2");
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "3"); /* another trader's long */
    advance_ms(61000);
    send_trigger();
    answer(CLOSE_BTC_LONG);
    assert_int_equal(nintents, 0);
    assert_string_equal(note0(), "no long position to close");
    /* its own short is closed by close_short once the venue is net short */
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "-2");
    advance_ms(61000);
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"close_short\", "
           "\"size_pct\": 1}]}");
    assert_int_equal(nintents, 1);
    assert_string_equal(intents[0].account, LIVE);
    assert_int_equal(intents[0].side, AT_SIDE_BUY);
    assert_int_equal(intents[0].op, AT_INTENT_PLACE);
    assert_true(intents[0].reduce_only);
    dec_eq(intents[0].sz, "2");
}

/* A fill being booked (core.ledger waits for its order's row) while the
 * close is planned: a shadow = true trader that owns nothing on the shared
 * live account closes nothing, and says why (review proof: it closed the
 * venue's whole position). */
static void test_close_ledger_busy(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.ledger = S.e->ledger;
    cfg.shadow = true;
    open_trader(&cfg);
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, shadow, created_ms, updated_ms) VALUES ('b/0', 'beta1', '" LIVE "', "
             "'beta', 'b', 'DOGE-USDT-SWAP', 'place', 'filled', 0, 0, 0)",
             NULL, 0);
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "3"); /* beta's long, not alpha's */
    advance_ms(61000);
    send_trigger();
    assert_true(engine_wait(S.e, ai_asked, NULL, 5000000));
    /* beta's fill of another instrument arrives: the ledger asks storage */
    at_ev_fill *fl = (at_ev_fill *)S.h->event_new(DRV, AT_EV_FILL, 0);
    fl->h.inst = S.h->inst_intern("DOGE-USDT-SWAP");
    snprintf(fl->account, sizeof(fl->account), LIVE);
    snprintf(fl->trade_id, sizeof(fl->trade_id), "t77");
    snprintf(fl->cl_ord_id, sizeof(fl->cl_ord_id), "beta1");
    fl->side = AT_SIDE_BUY;
    fl->pos_side = AT_POS_NET;
    fl->sz = D("1");
    fl->px = D("0.15");
    S.h->publish(DRV, &fl->h, 0);
    /* delivered without a loop turn: the ledger asks storage, and stays busy
     * until its answer is taken (a loop turn could take it at once) */
    bus_drain(SIZE_MAX);
    assert_false(ledger_ready(S.e->ledger));
    answer(CLOSE_BTC_LONG);
    assert_int_equal(nintents, 0);
    assert_string_equal(note0(), "not closed: core.ledger is still booking fills, the trader's "
                                 "own long on " LIVE " unknown");
}

/* A trader with a shadow route and no ledger cannot tell its contracts from
 * another trader's: it closes nothing. */
static void test_close_no_ledger(void **state)
{
    trader_cfg cfg = shadow_cfg();
    open_trader(&cfg);
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "2");
    send_trigger();
    answer(CLOSE_BTC_LONG);
    assert_int_equal(nintents, 0);
    assert_string_equal(note0(),
                        "not closed: no ledger, the trader's own long on " LIVE " unknown");
}

static void send_upl(const char *account, const char *inst, at_pos_side side, const char *pos,
                     const char *upl)
{
    at_ev_position *p = (at_ev_position *)S.h->event_new(DRV, AT_EV_POSITION, 0);
    p->h.inst = S.h->inst_intern(inst);
    snprintf(p->account, sizeof(p->account), "%s", account);
    p->pos_side = side;
    p->pos = D(pos);
    p->avg_px = D("90000");
    p->lever = D("3");
    p->upl = D(upl);
    p->margin = D("100");
    S.h->publish(DRV, &p->h, 0);
    pump();
}

/* The giveback watchdog of a trader with a shadow route and no ledger book
 * of the position never closes it whole: it may be another trader's. */
static void test_giveback_no_book(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.giveback_pct = 40;
    cfg.giveback_arm_pct = 1;
    open_trader(&cfg);
    send_trigger();
    answer(OPEN_BOTH);
    assert_int_equal(nintents, 2);
    assert_string_equal(intents[0].account, LIVE);
    send_order(LIVE, &intents[0], "3.33"); /* its thesis: watched */
    send_upl(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "5", "10");
    send_upl(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "5", "5");
    assert_int_equal(nintents, 2);
    trader_stats st;
    trader_get_stats(T, &st);
    assert_int_equal(st.giveback_closes, 0);
}

/* On a shadow account several traders may share, a close takes only this
 * trader's own contracts there (core.ledger), reduce-only; a live position
 * the ledger gives it none of is not touched. */
static void test_shadow_close_own_contracts(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.ledger = S.e->ledger;
    cfg.shadow = true;
    open_trader(&cfg);
    send_trigger();
    answer(OPEN_BOTH);
    const at_ev_order_intent *in = &intents[0];
    const at_db_value p[] = {AT_DB_S(in->intent_id), AT_DB_S(in->cl_ord_id),
                             AT_DB_S(in->decision_id)};
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, shadow, created_ms, updated_ms) VALUES ($1, $2, '" SHADOW "', 'alpha', "
             "$3, 'BTC-USDT-SWAP', 'place', 'filled', 1, 0, 0)",
             p, 3);
    exec_sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, lot_sz, "
             "min_sz, tick_sz, updated_ms) VALUES ('okx', 'BTC-USDT-SWAP', 'SWAP', '0.01', 'BTC', "
             "'0.01', '0.01', '0.1', 0)",
             NULL, 0);
    at_ev_fill *fl = (at_ev_fill *)S.h->event_new(DRV, AT_EV_FILL, 0);
    fl->h.inst = in->h.inst;
    snprintf(fl->account, sizeof(fl->account), SHADOW);
    snprintf(fl->trade_id, sizeof(fl->trade_id), "t1");
    snprintf(fl->cl_ord_id, sizeof(fl->cl_ord_id), "%s", in->cl_ord_id);
    fl->side = AT_SIDE_BUY;
    fl->pos_side = AT_POS_LONG;
    fl->sz = D("3.33");
    fl->px = D("90000");
    fl->fee = D("-1.5");
    S.h->publish(DRV, &fl->h, 0);
    pump();
    assert_true(engine_wait(S.e, ledger_holds, (void *)&in->h.inst, 5000000));
    /* the venue holds 5: 3.33 of them the trader's; the live account holds
     * another's 2, none of them this trader's: not closed */
    send_position(SHADOW, "BTC-USDT-SWAP", AT_POS_LONG, "5");
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "2");
    advance_ms(61000);
    send_trigger();
    answer("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"close_long\", "
           "\"size_pct\": 1}]}");
    assert_int_equal(nintents, 3);
    const at_ev_order_intent *o = &intents[2];
    assert_string_equal(o->account, SHADOW);
    assert_int_equal(o->op, AT_INTENT_PLACE);
    assert_true(o->reduce_only);
    dec_eq(o->sz, "3.33");
    /* the ledger's figures for the comparison */
    ledger_sym ls;
    assert_int_equal(ledger_sym_of(S.e->ledger, "alpha", SHADOW, in->h.inst, &ls), AT_OK);
    dec_eq(ls.position, "3.33");
    dec_eq(ls.fees, "-1.5");
    assert_int_equal(ls.round_trips, 0);
    assert_int_equal(ledger_sym_of(S.e->ledger, "alpha", LIVE, in->h.inst, &ls), AT_ENOENT);
}

/* The AI sees its shadow book as such: positions labelled hypothetical
 * (so a fully shadow trader does not enter again and again), shadow fills
 * in the history, the thesis of a shadow entry on its shadow position. */
static void test_context_shows_shadow(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.shadow = true;
    open_trader(&cfg);
    send_trigger();
    answer(OPEN_BOTH);
    send_order(SHADOW, &intents[0], "3.33");
    send_position(SHADOW, "BTC-USDT-SWAP", AT_POS_LONG, "3.33");
    advance_ms(61000);
    send_position(SHADOW, "BTC-USDT-SWAP", AT_POS_LONG, "3.33");
    send_trigger();
    answer("{\"decisions\": []}");
    const char *u = AI.user;
    assert_non_null(strstr(u, "SHADOW (hypothetical, not live) BTC-USDT-SWAP long 3.33 contracts"));
    assert_non_null(strstr(u, "entry reason: breakout"));
    assert_non_null(strstr(u, "open_long BTC-USDT-SWAP 0.1 x3 -> shadow: filled 3.33 @ 90000"));
    /* nothing of it as a live position */
    assert_null(strstr(u, "\nBTC-USDT-SWAP long 3.33"));
    /* a live position of the same symbol stays a live line */
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "1");
    advance_ms(61000);
    send_position(LIVE, "BTC-USDT-SWAP", AT_POS_NET, "1");
    send_trigger();
    answer("{\"decisions\": []}");
    assert_non_null(strstr(AI.user, "\nBTC-USDT-SWAP long 1 contracts"));
    assert_non_null(strstr(AI.user, "SHADOW (hypothetical, not live) BTC-USDT-SWAP long 3.33"));
}

/* On a paper venue several traders share, the AI is shown its own shadow
 * contracts (core.ledger), not the venue's whole position; a shadow
 * position none of which is its own is not shown. */
static void test_context_own_shadow(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.ledger = S.e->ledger;
    cfg.shadow = true;
    open_trader(&cfg);
    book_fill("alpha", SHADOW, "BTC-USDT-SWAP", "as1", AT_SIDE_BUY, AT_POS_LONG, "3.33", "90000");
    book_fill("beta", SHADOW, "DOGE-USDT-SWAP", "bs1", AT_SIDE_SELL, AT_POS_SHORT, "6", "0.15");
    send_position(SHADOW, "BTC-USDT-SWAP", AT_POS_LONG, "5");
    send_position(SHADOW, "DOGE-USDT-SWAP", AT_POS_SHORT, "6");
    send_trigger();
    answer("{\"decisions\": []}");
    assert_non_null(strstr(AI.user, "SHADOW (hypothetical, not live) BTC-USDT-SWAP long 3.33 "
                                    "contracts"));
    assert_non_null(strstr(AI.user, "(the venue holds 5 with other traders'"));
    assert_null(strstr(AI.user, "long 5 contracts"));
    assert_null(strstr(AI.user, "DOGE-USDT-SWAP short"));
}

/* After a restart, a shadow entry's thesis comes back on the shadow book,
 * and a stored shadow intent without an orders row is published again to
 * the shadow account. */
static void test_restart_keeps_books(void **state)
{
    trader_cfg cfg = shadow_cfg();
    cfg.shadow = true;
    open_trader(&cfg);
    send_trigger();
    answer(OPEN_BOTH);
    /* BTC reached the paper venue and filled; DOGE has no orders row */
    const at_db_value p[] = {AT_DB_S(intents[0].intent_id), AT_DB_S(intents[0].cl_ord_id),
                             AT_DB_S(intents[0].decision_id)};
    exec_sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, "
             "op, state, shadow, acc_fill_sz, avg_px, created_ms, updated_ms) VALUES ($1, $2, "
             "'" SHADOW "', 'alpha', $3, 'BTC-USDT-SWAP', 'place', 'filled', 1, '3.33', '90000', "
             "0, 0)",
             p, 3);
    char doge[AT_ID_LEN];
    snprintf(doge, sizeof(doge), "%s", intents[1].intent_id);
    trader_stop(T);
    trader_free(T);
    T = NULL;
    nintents = 0;
    open_trader(&cfg);
    for (int i = 0; i < 50 && nintents == 0; i++) {
        assert_int_equal(engine_advance(S.e, clock_now_us() + 200000, 0), AT_OK);
    }
    assert_int_equal(nintents, 1);
    assert_string_equal(intents[0].intent_id, doge);
    assert_string_equal(intents[0].account, SHADOW);
    assert_true(intents[0].shadow);
    send_position(SHADOW, "BTC-USDT-SWAP", AT_POS_LONG, "3.33");
    advance_ms(61000);
    send_trigger();
    answer("{\"decisions\": []}");
    assert_non_null(strstr(AI.user, "SHADOW (hypothetical, not live) BTC-USDT-SWAP long 3.33"));
    assert_non_null(strstr(AI.user, "entry reason: breakout"));
    assert_non_null(strstr(AI.user, "-> shadow: filled 3.33 @ 90000"));
}

/* A live entry stored without an orders row is not sent live after a
 * restart whose configuration now routes its symbol shadow (live_weight 0
 * at this hour); another symbol's still is. */
static void test_restart_drops_now_shadow(void **state)
{
    trader_cfg cfg = shadow_cfg();
    open_trader(&cfg);
    send_trigger();
    answer(OPEN_BOTH);
    assert_int_equal(nintents, 2);
    assert_string_equal(intents[0].account, LIVE);
    char doge[AT_ID_LEN];
    snprintf(doge, sizeof(doge), "%s", intents[1].intent_id);
    trader_stop(T);
    trader_free(T);
    T = NULL;
    const char *items[] = {"BTC-USDT-SWAP:0"};
    rules(items, 1);
    nintents = 0;
    open_trader(&cfg);
    for (int i = 0; i < 50 && nintents == 0; i++) {
        assert_int_equal(engine_advance(S.e, clock_now_us() + 200000, 0), AT_OK);
    }
    for (int i = 0; i < 10; i++) { /* BTC would have come with it */
        assert_int_equal(engine_advance(S.e, clock_now_us() + 200000, 0), AT_OK);
    }
    assert_int_equal(nintents, 1);
    assert_string_equal(intents[0].intent_id, doge);
    assert_string_equal(intents[0].account, LIVE);
    trader_stats st;
    trader_get_stats(T, &st);
    assert_int_equal(st.republished, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shadow_balance_warned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weight_draw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_both_books, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shadow_close_own_contracts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_net_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_ledger_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_no_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giveback_no_book, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_shows_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_own_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_books, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_drops_now_shadow, setup, teardown),
    };
    return cmocka_run_group_tests_name("trader_shadow", tests, NULL, NULL);
}

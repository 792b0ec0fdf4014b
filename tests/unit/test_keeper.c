/* The order keeper (core/trading/keeper.c) in a real engine on the simulated
 * clock with SQLite, behind a real executor and a recording venue (which
 * writes its orders row on submit, as exchange_okx does, a cancel's too,
 * keyed by its intent id): a limit with a TTL is cancelled at its deadline
 * unless it filled or failed first, its deadline survives a restart; a TP/SL
 * of ours whose position was seen open and stays flat for the grace is
 * cancelled, never one whose position reopened, is unknown, or that is not
 * ours; net mode counts a flip to the other side as flat for the old side's
 * TP/SL. Each cancel attempt has an id of its own: a refusal that may pass
 * is tried again under the next (a few times, then an ALERT), after a
 * restart too, and a place sent again after it was found unsent is
 * followed from its new send; the venue never sees an id twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "engine.h"
#include "sim_engine.h"
#include "trading/executor.h"
#include "trading/keeper.h"

#define T0_US 1700000000000000LL
#define T0_MS (T0_US / 1000)
#define ACCT "exchange.paper"
#define INST "BTC-USDT-SWAP"
#define GRACE_MS 5000

/* ---- a venue that records what reaches it ---- */

#define SENT_MAX 16

typedef struct venue {
    const at_host *h;
    at_instance *self;
    int n;
    at_ev_order_intent sent[SENT_MAX];
    int dup_rows; /* rows refused: an intent with that id is stored already */
} venue;

static at_venue_class v_class(void *ctx)
{
    return AT_VENUE_PAPER;
}

static void on_op_row(void *arg, int err, const char *error)
{
    if (err != AT_OK) {
        ((venue *)arg)->dup_rows++;
    }
}

/* Its orders row first, as okx_trade.c's store_intent does in submit(): a
 * place under its clOrdId (one sent again finds its row: the takeover is the
 * test's), a cancel keyed "op:intent id" (a second with that id fails). */
static void v_submit(void *ctx, const at_ev_order_intent *it)
{
    venue *v = ctx;
    if (v->n < SENT_MAX) {
        v->sent[v->n] = *it;
    }
    v->n++;
    int64_t now_ms = v->h->now_us() / 1000;
    if (it->op != AT_INTENT_PLACE) {
        char key[AT_ID_LEN + 16];
        snprintf(key, sizeof(key), "%s:%s", it->op == AT_INTENT_CANCEL ? "cancel" : "cancel_algo",
                 it->intent_id);
        const at_db_value p[] = {
            AT_DB_S(it->intent_id), AT_DB_S(key),
            AT_DB_S(it->account),   AT_DB_S(it->origin),
            AT_DB_S(INST),          AT_DB_S(it->op == AT_INTENT_CANCEL ? "cancel" : "cancel_algo"),
            AT_DB_I(now_ms)};
        assert_int_equal(v->h->db_write(v->self,
                                        "INSERT INTO orders (intent_id, cl_ord_id, account, "
                                        "origin, inst_id, op, state, created_ms, updated_ms) "
                                        "VALUES ($1,$2,$3,$4,$5,$6,'sent',$7,$7)",
                                        p, 7, on_op_row, v),
                         AT_OK);
        return;
    }
    const at_db_value p[] = {AT_DB_S(it->intent_id), AT_DB_S(it->cl_ord_id), AT_DB_S(it->account),
                             AT_DB_S(it->origin),    AT_DB_S(INST),          AT_DB_S("limit"),
                             AT_DB_D(it->sz),        AT_DB_D(it->px),        AT_DB_I(now_ms)};
    assert_int_equal(v->h->db_write(v->self,
                                    "INSERT INTO orders (intent_id, cl_ord_id, account, origin, "
                                    "inst_id, op, ord_type, sz, px, state, created_ms, updated_ms) "
                                    "VALUES ($1,$2,$3,$4,$5,'place',$6,$7,$8,'live',$9,$9) "
                                    "ON CONFLICT (intent_id) DO NOTHING",
                                    p, 9, NULL, NULL),
                     AT_OK);
}

static const at_exchange_ops venue_ops = {sizeof(at_exchange_ops), v_class, v_submit};

/* ---- a rule that approves everything and counts what it was shown ---- */

static int rule_calls[AT_INTENT_CANCEL_ALGO + 1];

static void r_check(void *ctx, const at_ev_order_intent *it, at_risk_answer *out)
{
    rule_calls[it->op]++;
    out->verdict = AT_VERDICT_APPROVE;
}

static const at_risk_ops rule_ops = {sizeof(at_risk_ops), r_check};

static sim_engine S;

typedef struct rig {
    at_instance *src;
    executor *x;
    keeper *k;
    venue v;
} rig;

static rig R;

/* The ALERTs published (the last one's text). */
static int alerts;
static char alert_text[512];

static void on_alert(void *arg, const at_event *e)
{
    alerts++;
    const char *m = ((const at_ev_alert *)e)->message;
    snprintf(alert_text, sizeof(alert_text), "%s", m ? m : "");
}

/* dir NULL: a fresh directory; else the one of a previous rig (a restart). */
static void rig_open(const char *dir, int64_t start_us, int64_t grace_ms)
{
    memset(&R, 0, sizeof(R));
    memset(rule_calls, 0, sizeof(rule_calls));
    alerts = 0;
    alert_text[0] = '\0';
    sim_engine_open(&S, "keeper", dir, start_us, true);
    R.src = engine_virtual_instance(S.e, "test.src");
    assert_true(S.h->subscribe(R.src, AT_EV_ALERT, on_alert, NULL) > 0);
    R.v.h = S.h;
    R.v.self = engine_virtual_instance(S.e, "test.venue");
    keeper_cfg kc = {.orphan_grace_ms = grace_ms};
    R.k = keeper_new(S.h, engine_virtual_instance(S.e, "core.keeper"), &kc);
    assert_non_null(R.k);
    exec_venue venues[] = {{ACCT, &venue_ops, &R.v}};
    exec_rule rules[] = {{"risk.any", &rule_ops, NULL}};
    exec_cfg cfg = {.venues = venues,
                    .nvenues = 1,
                    .rules = rules,
                    .nrules = 1,
                    .on_submit = keeper_on_submit,
                    .on_submit_arg = R.k};
    R.x = exec_new(S.h, engine_virtual_instance(S.e, "core.executor"), &cfg);
    assert_non_null(R.x);
    assert_int_equal(exec_start(R.x), AT_OK);
    assert_int_equal(keeper_start(R.k), AT_OK);
}

static void rig_close(bool remove)
{
    exec_stop(R.x);
    keeper_stop(R.k);
    sim_engine_close(&S, remove);
    exec_free(R.x);
    keeper_free(R.k);
}

/* A test that failed before its rig_close leaves no engine to the next. */
static int rig_teardown(void **state)
{
    if (S.e) {
        rig_close(true);
    }
    return 0;
}

static at_dec dec(const char *s)
{
    at_dec d;
    assert_int_equal(S.h->dec_parse(s, (size_t)-1, &d), AT_OK);
    return d;
}

/* ---- storage ---- */

/* One column of the first row ("" when none). Queries run after every write
 * and query queued before them, and answer in order: when this one is
 * answered, so is every earlier one (the keeper's too). */
static const char *q1(const char *sql, const char *param)
{
    const at_db_value p[] = {AT_DB_S(param)};
    const char *row = sim_engine_row(&S, R.src, sql, p, param ? 1 : 0);
    engine_pump(S.e);
    return row;
}

static void settle(void)
{
    q1("SELECT 1", NULL);
}

/* An entry of ours, as the venue stored it. */
static void stored_entry(const char *cl)
{
    char id[64];
    snprintf(id, sizeof(id), "entry-%s", cl);
    const at_db_value p[] = {AT_DB_S(id), AT_DB_S(cl), AT_DB_S(ACCT), AT_DB_S(INST),
                             AT_DB_I(T0_MS)};
    sim_engine_sql(&S, R.src,
                   "INSERT INTO orders (intent_id, cl_ord_id, account, origin, inst_id, op, "
                   "state, created_ms, updated_ms) VALUES ($1,$2,$3,'trader.t',$4,'place',"
                   "'filled',$5,$5)",
                   p, 5);
}

/* ---- the bus ---- */

static void advance_ms(int64_t to_ms)
{
    assert_int_equal(engine_advance(S.e, to_ms * 1000, 0), AT_OK);
    engine_pump(S.e);
}

static void place(const char *id, at_ord_type type, int64_t ttl_ms)
{
    at_ev_order_intent *it = (at_ev_order_intent *)S.h->event_new(R.src, AT_EV_ORDER_INTENT, 0);
    assert_non_null(it);
    it->h.inst = S.h->inst_intern(INST);
    snprintf(it->intent_id, sizeof(it->intent_id), "%s", id);
    snprintf(it->account, sizeof(it->account), ACCT);
    snprintf(it->origin, sizeof(it->origin), "trader.t");
    it->op = AT_INTENT_PLACE;
    it->side = AT_SIDE_BUY;
    it->ord_type = type;
    it->sz = dec("0.5");
    it->px = type == AT_ORDT_MARKET ? (at_dec){0, 0} : dec("50000");
    it->ttl_ms = ttl_ms;
    S.h->publish(R.src, &it->h, 0);
    engine_pump(S.e);
}

static void order(const char *cl, const char *ord_id, at_ord_state st)
{
    at_ev_order *o = (at_ev_order *)S.h->event_new(R.src, AT_EV_ORDER, 0);
    assert_non_null(o);
    o->h.inst = S.h->inst_intern(INST);
    snprintf(o->account, sizeof(o->account), ACCT);
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", cl);
    snprintf(o->ord_id, sizeof(o->ord_id), "%s", ord_id);
    o->ord_type = AT_ORDT_LIMIT;
    o->state = st;
    S.h->publish(R.src, &o->h, 0);
    engine_pump(S.e);
}

/* A venue's answer; code NULL: "0" when ok, else 51008. */
static void result_code(const char *id, const char *cl, at_intent_op op, bool ok, const char *code)
{
    at_ev_order_result *r =
        (at_ev_order_result *)S.h->event_new(R.src, AT_EV_ORDER_RESULT, strlen("refused") + 1);
    assert_non_null(r);
    snprintf(r->intent_id, sizeof(r->intent_id), "%s", id);
    snprintf(r->cl_ord_id, sizeof(r->cl_ord_id), "%s", cl);
    snprintf(r->account, sizeof(r->account), ACCT);
    r->op = op;
    r->ok = ok;
    snprintf(r->code, sizeof(r->code), "%s", code ? code : ok ? "0" : "51008");
    r->msg = S.h->event_strdup(&r->h, "refused");
    S.h->publish(R.src, &r->h, 0);
    engine_pump(S.e);
}

static void result(const char *id, const char *cl, at_intent_op op, bool ok)
{
    result_code(id, cl, op, ok, NULL);
}

static void position(at_pos_side side, const char *pos)
{
    at_ev_position *p = (at_ev_position *)S.h->event_new(R.src, AT_EV_POSITION, 0);
    assert_non_null(p);
    p->h.inst = S.h->inst_intern(INST);
    snprintf(p->account, sizeof(p->account), ACCT);
    p->pos_side = side;
    p->pos = dec(pos);
    S.h->publish(R.src, &p->h, 0);
    engine_pump(S.e);
}

static void algo(const char *algo_id, const char *algo_cl, at_side side, at_pos_side ps,
                 at_algo_state st)
{
    at_ev_algo_order *a = (at_ev_algo_order *)S.h->event_new(R.src, AT_EV_ALGO_ORDER, 0);
    assert_non_null(a);
    a->h.inst = S.h->inst_intern(INST);
    snprintf(a->account, sizeof(a->account), ACCT);
    snprintf(a->algo_id, sizeof(a->algo_id), "%s", algo_id);
    snprintf(a->algo_cl_ord_id, sizeof(a->algo_cl_ord_id), "%s", algo_cl);
    snprintf(a->ord_type, sizeof(a->ord_type), "oco");
    a->state = st;
    a->side = side;
    a->pos_side = ps;
    a->close_position = true;
    a->reduce_only = true;
    a->tp_trigger_px = dec("52000");
    a->sl_trigger_px = dec("49000");
    S.h->publish(R.src, &a->h, 0);
    engine_pump(S.e);
    settle(); /* the keeper's question whether it is ours is answered */
}

/* The intents of the keeper the venue received, by op. */
static int sent(at_intent_op op)
{
    int n = 0;
    for (int i = 0; i < R.v.n && i < SENT_MAX; i++) {
        n += R.v.sent[i].op == op;
    }
    return n;
}

static const at_ev_order_intent *last_sent(void)
{
    assert_true(R.v.n > 0 && R.v.n <= SENT_MAX);
    return &R.v.sent[R.v.n - 1];
}

/* ---- limit TTL ---- */

static void test_ttl_cancel(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    place("p1", AT_ORDT_LIMIT, 30000);
    assert_int_equal(R.v.n, 1);
    assert_string_equal(R.v.sent[0].cl_ord_id, "p1");
    /* The deadline is stored on the venue's row. */
    char want[32];
    snprintf(want, sizeof(want), "%lld", (long long)(T0_MS + 30000));
    assert_string_equal(q1("SELECT expire_ms FROM orders WHERE cl_ord_id = $1", "p1"), want);

    order("p1", "777", AT_ORD_LIVE);
    advance_ms(T0_MS + 29999);
    assert_int_equal(sent(AT_INTENT_CANCEL), 0);
    advance_ms(T0_MS + 30000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    const at_ev_order_intent *c = last_sent();
    assert_string_equal(c->intent_id, "keeper/ttl/p1/1700000030000/1");
    assert_string_equal(c->cl_ord_id, "p1");
    assert_string_equal(c->ord_id, "777");
    assert_string_equal(c->origin, "core.keeper");
    assert_string_equal(c->account, ACCT);
    assert_string_equal(S.h->inst_name(c->h.inst), INST);
    /* Once only, through the risk chain, its verdict on record. */
    advance_ms(T0_MS + 90000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    assert_int_equal(rule_calls[AT_INTENT_CANCEL], 1);
    assert_string_equal(q1("SELECT verdict FROM risk_verdicts WHERE id = $1",
                           "keeper/ttl/p1/1700000030000/1/risk.any"),
                        "approve");
    keeper_stats st;
    keeper_get_stats(R.k, &st);
    assert_int_equal(st.ttl_tracked, 1);
    assert_int_equal(st.ttl_cancels, 1);
    rig_close(true);
}

static void test_ttl_not_when_done(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    place("f1", AT_ORDT_LIMIT, 30000);     /* fills before its deadline */
    place("f2", AT_ORDT_POST_ONLY, 30000); /* the venue refuses it */
    place("f3", AT_ORDT_LIMIT, 30000);     /* cancelled by someone else */
    place("f4", AT_ORDT_MARKET, 30000);    /* a market order does not rest */
    place("f5", AT_ORDT_LIMIT, 0);         /* no TTL: it rests */
    assert_int_equal(R.v.n, 5);
    order("f1", "1", AT_ORD_PARTIALLY_FILLED);
    advance_ms(T0_MS + 10000);
    order("f1", "1", AT_ORD_FILLED);
    result("f2", "f2", AT_INTENT_PLACE, false);
    order("f3", "3", AT_ORD_CANCELED);
    advance_ms(T0_MS + 120000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 0);
    keeper_stats st;
    keeper_get_stats(R.k, &st);
    assert_int_equal(st.ttl_tracked, 3);
    assert_int_equal(st.ttl_cancels, 0);
    /* A negative TTL is bad input: refused at the gate, never sent. */
    place("f6", AT_ORDT_LIMIT, -1);
    assert_int_equal(R.v.n, 5);
    assert_string_equal(q1("SELECT state FROM orders WHERE intent_id = $1", "f6"), "rejected");
    rig_close(true);
}

static void test_ttl_restart(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    place("r1", AT_ORDT_LIMIT, 30000);
    place("r2", AT_ORDT_LIMIT, 60000);
    place("r3", AT_ORDT_LIMIT, 10000);
    /* r3 fills; the engine goes down before it is due. */
    sim_engine_sql(&S, R.src, "UPDATE orders SET state = 'filled' WHERE cl_ord_id = 'r3'", NULL, 0);
    settle();
    rig_close(false);
    rig_open(S.dir, T0_US + 40000 * 1000LL, GRACE_MS);
    settle();
    /* r1 was due at +30s: cancelled at once; r3 is filled: never. */
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/r1/1700000030000/1");
    advance_ms(T0_MS + 59999);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    advance_ms(T0_MS + 60000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 2);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/r2/1700000060000/1");
    rig_close(true);
}

/* A refusal that may pass (OKX's 50011 rate limit, an outcome unknown) is
 * tried again under the next id with backoff; one saying the order is gone
 * ends it; five refusals end it with an ALERT. */
static void test_ttl_cancel_retried(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    place("p1", AT_ORDT_LIMIT, 30000);
    advance_ms(T0_MS + 30000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/p1/1700000030000/1");
    result_code("keeper/ttl/p1/1700000030000/1", "p1", AT_INTENT_CANCEL, false, "50011");
    advance_ms(T0_MS + 30999);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    advance_ms(T0_MS + 31000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 2);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/p1/1700000030000/2");
    assert_string_equal(last_sent()->cl_ord_id, "p1");
    /* an outcome unknown (no code): again, after twice the wait */
    result_code("keeper/ttl/p1/1700000030000/2", "p1", AT_INTENT_CANCEL, false, "");
    advance_ms(T0_MS + 32999);
    assert_int_equal(sent(AT_INTENT_CANCEL), 2);
    advance_ms(T0_MS + 33000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 3);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/p1/1700000030000/3");
    /* a late answer of an earlier attempt changes nothing */
    result_code("keeper/ttl/p1/1700000030000/1", "p1", AT_INTENT_CANCEL, false, "50011");
    /* the order is gone (filled meanwhile): no more */
    result_code("keeper/ttl/p1/1700000030000/3", "p1", AT_INTENT_CANCEL, false, "51400");
    advance_ms(T0_MS + 120000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 3);
    assert_int_equal(alerts, 0);

    /* refused five times: an ALERT, and it is left alone */
    place("p2", AT_ORDT_LIMIT, 1000);
    int64_t t = T0_MS + 121000;
    for (int i = 1; i <= 5; i++) {
        advance_ms(t);
        assert_int_equal(sent(AT_INTENT_CANCEL), 3 + i);
        char id[AT_ID_LEN];
        snprintf(id, sizeof(id), "keeper/ttl/p2/1700000121000/%d", i);
        assert_string_equal(last_sent()->intent_id, id);
        result_code(id, "p2", AT_INTENT_CANCEL, false, "50011");
        t += 1000LL << (i - 1);
    }
    advance_ms(T0_MS + 600000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 8);
    assert_int_equal(alerts, 1);
    assert_non_null(strstr(alert_text, "exchange.paper p2: the TTL cancel "
                                       "keeper/ttl/p2/1700000121000/5 was refused 5 times (last: "
                                       "50011 refused): no longer tried; cancel it by hand"));
    keeper_stats st;
    keeper_get_stats(R.k, &st);
    assert_int_equal(st.cancel_retries, 6);
    assert_int_equal(st.cancels_given_up, 1);
    assert_int_equal(R.v.dup_rows, 0);
    rig_close(true);
}

/* Refused twice (rate limit), then the engine restarts: the overdue order is
 * cancelled at once under the third id, not the first again (the venue has
 * the first two stored and would refuse it as a duplicate for ever). */
static void test_ttl_restart_after_refusals(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    place("p1", AT_ORDT_LIMIT, 30000);
    advance_ms(T0_MS + 30000);
    result_code("keeper/ttl/p1/1700000030000/1", "p1", AT_INTENT_CANCEL, false, "50011");
    advance_ms(T0_MS + 31000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 2);
    result_code("keeper/ttl/p1/1700000030000/2", "p1", AT_INTENT_CANCEL, false, "50011");
    settle();
    rig_close(false);
    rig_open(S.dir, T0_US + 40000 * 1000LL, GRACE_MS);
    settle();
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/p1/1700000030000/3");
    settle();
    assert_int_equal(R.v.dup_rows, 0);
    rig_close(true);
}

/* The engine died with a TTL limit's row stored, unsent: at the restart the
 * overdue row is cancelled at once and OKX refuses (no such order); the
 * exchange's reconciliation then finds the row unsent, the trader sends the
 * place again, and it is followed from that send: a new deadline, stored,
 * and a cancel under a new id when it runs out. */
static void test_ttl_sent_again_after_unsent(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    place("p1", AT_ORDT_LIMIT, 30000);
    sim_engine_sql(&S, R.src, "UPDATE orders SET state = 'sent' WHERE cl_ord_id = 'p1'", NULL, 0);
    settle();
    rig_close(false);
    rig_open(S.dir, T0_US + 40000 * 1000LL, GRACE_MS);
    settle();
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/p1/1700000030000/1");
    result_code("keeper/ttl/p1/1700000030000/1", "p1", AT_INTENT_CANCEL, false, "51400");
    /* reconciliation: never at OKX */
    sim_engine_sql(&S, R.src, "UPDATE orders SET state = 'unsent' WHERE cl_ord_id = 'p1'", NULL, 0);
    result_code("p1", "p1", AT_INTENT_PLACE, false, "unsent");
    advance_ms(T0_MS + 45000);
    place("p1", AT_ORDT_LIMIT, 30000); /* the trader publishes it again */
    assert_int_equal(R.v.n, 2);
    /* the venue takes its row over (after the keeper's update, as
     * exchange_okx does once its INSERT failed) */
    sim_engine_sql(&S, R.src,
                   "UPDATE orders SET state = 'live' WHERE cl_ord_id = 'p1' AND state = 'unsent'",
                   NULL, 0);
    assert_string_equal(q1("SELECT expire_ms FROM orders WHERE cl_ord_id = $1", "p1"),
                        "1700000075000");
    advance_ms(T0_MS + 74999);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    advance_ms(T0_MS + 75000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 2);
    assert_string_equal(last_sent()->intent_id, "keeper/ttl/p1/1700000075000/1");
    settle();
    assert_int_equal(R.v.dup_rows, 0);
    rig_close(true);
}

/* A clOrdId and deadline too long for an id: its SHA-256 in hex, as many
 * digits as leave room for "/<n>". */
static void test_ttl_id_hashed(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    const char *cl = "ai0123456789abcdef0123456789ab"; /* 30, as a trader's */
    place(cl, AT_ORDT_LIMIT, 30000);
    advance_ms(T0_MS + 30000);
    assert_int_equal(sent(AT_INTENT_CANCEL), 1);
    const at_ev_order_intent *c = last_sent();
    assert_string_equal(c->cl_ord_id, cl);
    char key[64];
    snprintf(key, sizeof(key), "%s/%lld", cl, (long long)(T0_MS + 30000));
    unsigned char md[32];
    unsigned int n;
    assert_int_equal(EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL), 1);
    char want[AT_ID_LEN] = "keeper/ttl/";
    for (int i = 0; i < 16; i++) {
        snprintf(want + 11 + 2 * i, 3, "%02x", md[i]);
    }
    want[11 + 31] = '\0'; /* 47 = 11 + 31 + "/" + 4 digits */
    strcat(want, "/1");
    assert_string_equal(c->intent_id, want);
    rig_close(true);
}

/* ---- orphan TP/SL ---- */

static void test_orphan_after_grace(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    stored_entry("e1");
    position(AT_POS_NET, "1");
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    advance_ms(T0_MS + 1000);
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + 1000 + GRACE_MS - 1);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 0);
    advance_ms(T0_MS + 1000 + GRACE_MS);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    const at_ev_order_intent *c = last_sent();
    assert_string_equal(c->intent_id, "keeper/orphan/111/1");
    assert_string_equal(c->ord_id, "111");
    assert_string_equal(c->origin, "core.keeper");
    assert_string_equal(S.h->inst_name(c->h.inst), INST);
    advance_ms(T0_MS + 60000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);

    /* Long/short mode: the short side closed, its buy TP/SL goes too. */
    stored_entry("e2");
    algo("222", "e2a", AT_SIDE_BUY, AT_POS_SHORT, AT_ALGO_LIVE);
    position(AT_POS_SHORT, "2");
    position(AT_POS_SHORT, "0");
    advance_ms(T0_MS + 60000 + GRACE_MS);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 2);
    assert_string_equal(last_sent()->ord_id, "222");
    keeper_stats st;
    keeper_get_stats(R.k, &st);
    assert_int_equal(st.orphan_cancels, 2);
    rig_close(true);
}

static void test_orphan_reopened_within_grace(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    stored_entry("e1");
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    position(AT_POS_NET, "1");
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + GRACE_MS - 1000);
    position(AT_POS_NET, "2");
    advance_ms(T0_MS + 60000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 0);
    /* Still followed: flat again for the whole grace, it goes. */
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + 60000 + GRACE_MS);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    rig_close(true);
}

static void test_orphan_not_on_unknown(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    stored_entry("e1");
    stored_entry("e2");
    /* No POSITION at all: a missed push must not strip a stop-loss. */
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    /* A position flat since before the algo came and never open since (a
     * TP/SL of an entry still pending) is not taken for an orphan. */
    position(AT_POS_LONG, "0");
    algo("222", "e2a", AT_SIDE_SELL, AT_POS_LONG, AT_ALGO_LIVE);
    advance_ms(T0_MS + 600000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 0);
    /* One that triggered is gone from the keeper's list. */
    position(AT_POS_LONG, "1");
    algo("222", "e2a", AT_SIDE_SELL, AT_POS_LONG, AT_ALGO_EFFECTIVE);
    position(AT_POS_LONG, "0");
    advance_ms(T0_MS + 700000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 0);
    rig_close(true);
}

static void test_orphan_not_foreign(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    stored_entry("e1");
    position(AT_POS_NET, "1");
    algo("901", "x1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE); /* no entry x1 of ours */
    algo("902", "", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);    /* placed by hand */
    algo("903", "e1b", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE); /* not entry + "a" */
    algo("901", "x1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE); /* again: said once */
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + 600000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 0);
    keeper_stats st;
    keeper_get_stats(R.k, &st);
    assert_int_equal(st.foreign_algos, 3);
    rig_close(true);
}

/* Net mode: the position turning short leaves the long's sell TP/SL an
 * orphan; the short's own buy TP/SL stays. */
static void test_orphan_net_flip(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    stored_entry("e1");
    stored_entry("e2");
    position(AT_POS_NET, "1");
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    advance_ms(T0_MS + 1000);
    position(AT_POS_NET, "-1");
    algo("222", "e2a", AT_SIDE_BUY, AT_POS_NET, AT_ALGO_LIVE);
    advance_ms(T0_MS + 1000 + GRACE_MS);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    assert_string_equal(last_sent()->ord_id, "111");
    advance_ms(T0_MS + 600000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    rig_close(true);
}

static void test_orphan_grace_zero_is_off(void **state)
{
    rig_open(NULL, T0_US, 0);
    stored_entry("e1");
    position(AT_POS_NET, "1");
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + 600000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 0);
    rig_close(true);
}

/* An orphan cancel refused by a rate limit goes again under the next id;
 * after a restart an algo cancelled before gets a higher number still. */
static void test_orphan_retried(void **state)
{
    rig_open(NULL, T0_US, GRACE_MS);
    stored_entry("e1");
    position(AT_POS_NET, "1");
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + GRACE_MS);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    assert_string_equal(last_sent()->intent_id, "keeper/orphan/111/1");
    result_code("keeper/orphan/111/1", "", AT_INTENT_CANCEL_ALGO, false, "50011");
    advance_ms(T0_MS + GRACE_MS + 999);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    advance_ms(T0_MS + GRACE_MS + 1000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 2);
    assert_string_equal(last_sent()->intent_id, "keeper/orphan/111/2");
    assert_string_equal(last_sent()->ord_id, "111");
    result_code("keeper/orphan/111/2", "", AT_INTENT_CANCEL_ALGO, false, "50011");
    settle();
    rig_close(false);
    /* the algo is still there; its position opens and closes again */
    rig_open(S.dir, T0_US + 60000 * 1000LL, GRACE_MS);
    settle();
    position(AT_POS_NET, "1");
    algo("111", "e1a", AT_SIDE_SELL, AT_POS_NET, AT_ALGO_LIVE);
    position(AT_POS_NET, "0");
    advance_ms(T0_MS + 60000 + GRACE_MS);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    assert_string_equal(last_sent()->intent_id, "keeper/orphan/111/3");
    /* taken: done */
    result_code("keeper/orphan/111/3", "", AT_INTENT_CANCEL_ALGO, true, NULL);
    advance_ms(T0_MS + 600000);
    assert_int_equal(sent(AT_INTENT_CANCEL_ALGO), 1);
    settle();
    assert_int_equal(R.v.dup_rows, 0);
    rig_close(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ttl_cancel, rig_teardown),
        cmocka_unit_test_teardown(test_ttl_not_when_done, rig_teardown),
        cmocka_unit_test_teardown(test_ttl_restart, rig_teardown),
        cmocka_unit_test_teardown(test_ttl_cancel_retried, rig_teardown),
        cmocka_unit_test_teardown(test_ttl_restart_after_refusals, rig_teardown),
        cmocka_unit_test_teardown(test_ttl_sent_again_after_unsent, rig_teardown),
        cmocka_unit_test_teardown(test_ttl_id_hashed, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_after_grace, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_reopened_within_grace, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_not_on_unknown, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_not_foreign, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_net_flip, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_grace_zero_is_off, rig_teardown),
        cmocka_unit_test_teardown(test_orphan_retried, rig_teardown),
    };
    return cmocka_run_group_tests_name("keeper", tests, NULL, NULL);
}

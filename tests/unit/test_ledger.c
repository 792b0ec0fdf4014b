/* PnL per trader and account (core/trading/ledger.c, ledger_book.c): the
 * lot arithmetic by hand-checked numbers, then the ledger in a real engine on
 * the simulated clock with SQLite: fills attributed by clOrdId (a TP/SL's by
 * the entry's clOrdId + "a"), two traders on one account with their own
 * books, decisions' outcomes written back, funding booked at settlement,
 * books rebuilt exactly at restart, a duplicate not booked twice, a stored
 * fill the journal lacks recovered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decimal.h"
#include "engine.h"
#include "engine_internal.h"
#include "sim_engine.h"
#include "trading/ledger_book.h"
#include "trading/ledger_internal.h"
#include "util.h"

static at_dec D(const char *s)
{
    at_dec d;
    assert_int_equal(at_dec_parse(s, strlen(s), &d), AT_OK);
    return d;
}

static void assert_dec(at_dec d, const char *want)
{
    char s[AT_DEC_STRLEN];
    assert_true(at_dec_format(at_dec_normalize(d), s) > 0);
    assert_string_equal(s, want);
}

/* ------------------------------------------------------------ lots */

static void test_net_fifo_fees_and_flip(void **state)
{
    lb_book b = {0};
    lb_result r;
    at_dec ct = D("0.01");
    assert_int_equal(
        lb_apply_fill(&b, true, false, true, D("2"), D("100"), D("-0.1"), ct, "A", 1, &r), AT_OK);
    assert_int_equal(r.n, 1);
    assert_true(r.shares[0].opened);
    assert_int_equal(
        lb_apply_fill(&b, true, false, true, D("1"), D("110"), D("-0.05"), ct, "B", 2, &r), AT_OK);
    assert_dec(lb_position(&b), "3");
    /* Sell 2.5 @ 120: A's 2 whole (+0.4), 0.5 of B's (+0.05); the fee -0.25
     * split 2 : 0.5 between them. */
    assert_int_equal(
        lb_apply_fill(&b, true, false, false, D("2.5"), D("120"), D("-0.25"), ct, "C", 3, &r),
        AT_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.shares[0].decision_id, "A");
    assert_dec(r.shares[0].qty, "2");
    assert_dec(r.shares[0].pnl, "0.4");
    assert_dec(r.shares[0].fee, "-0.2");
    assert_string_equal(r.shares[1].decision_id, "B");
    assert_dec(r.shares[1].pnl, "0.05");
    assert_dec(r.shares[1].fee, "-0.05");
    assert_false(r.over);
    assert_dec(lb_position(&b), "0.5");
    assert_int_equal(b.nlots, 1);
    assert_dec(b.lots[0].px, "110");
    /* Sell 1 @ 90: the last 0.5 of B (-0.1), then 0.5 short opened for D. */
    assert_int_equal(
        lb_apply_fill(&b, true, false, false, D("1"), D("90"), D("-0.1"), ct, "D", 4, &r), AT_OK);
    assert_int_equal(r.n, 2);
    assert_dec(r.shares[0].pnl, "-0.1");
    assert_true(r.shares[1].opened);
    assert_string_equal(r.shares[1].decision_id, "D");
    assert_dec(r.shares[1].fee, "-0.05");
    assert_dec(lb_position(&b), "-0.5");
    assert_dec(b.realized, "0.35");
    assert_dec(b.fees, "-0.5");
    /* The short gains when the price falls: (80 - 90) x 0.5 x 0.01 x -1. */
    at_dec u;
    assert_int_equal(lb_unrealized(&b, ct, D("80"), &u), AT_OK);
    assert_dec(u, "0.05");
    lb_free(&b);
}

static void test_hedge_books_and_over_close(void **state)
{
    lb_book s = {0};
    lb_result r;
    at_dec ct = D("1");
    /* a short book: a sell opens, a buy closes */
    assert_int_equal(
        lb_apply_fill(&s, false, false, false, D("3"), D("10"), D("0"), ct, "A", 1, &r), AT_OK);
    assert_dec(lb_position(&s), "-3");
    assert_int_equal(
        lb_apply_fill(&s, false, false, true, D("4"), D("8"), D("-0.4"), ct, "B", 2, &r), AT_OK);
    assert_true(r.over); /* 1 more than held: not booked as a long */
    assert_dec(r.shares[0].pnl, "6");
    assert_dec(r.shares[0].fee, "-0.3");
    assert_dec(r.shares[1].fee, "-0.1"); /* the rest of the fee stays with B */
    assert_dec(lb_position(&s), "0");
    assert_dec(s.fees, "-0.4");
    lb_free(&s);
}

static void test_funding_on_lots(void **state)
{
    lb_book b = {0};
    lb_result r;
    at_dec ct = D("0.01");
    assert_int_equal(lb_apply_fill(&b, true, false, true, D("2"), D("100"), D("0"), ct, "A", 1, &r),
                     AT_OK);
    assert_int_equal(lb_apply_fill(&b, true, false, true, D("1"), D("100"), D("0"), ct, "B", 1, &r),
                     AT_OK);
    at_dec by[2];
    /* longs pay a positive rate: -(2 x 0.01 x 50000 x 0.0001) */
    assert_int_equal(lb_apply_funding(&b, ct, D("50000"), D("0.0001"), by), AT_OK);
    assert_dec(by[0], "-0.1");
    assert_dec(by[1], "-0.05");
    assert_dec(b.funding, "-0.15");
    lb_free(&b);
    /* a short receives it */
    assert_int_equal(
        lb_apply_fill(&b, true, false, false, D("1"), D("100"), D("0"), ct, "C", 1, &r), AT_OK);
    assert_int_equal(lb_apply_funding(&b, ct, D("50000"), D("0.0001"), by), AT_OK);
    assert_dec(by[0], "0.05");
    lb_free(&b);
}

/* Round trips (ledger_trips.c): a book flat again, or flipped through
 * zero, ends one; its net is what its closes realized, the fees of its
 * fills and the funding booked meanwhile; a flip's opening part starts the
 * next one. */
static void test_round_trips(void **state)
{
    book k = {0};
    lb_result r;
    at_dec ct = D("0.01");
    at_dec was = lb_position(&k.b);
#define FILL(buy, sz, px, fee)                                                                     \
    do {                                                                                           \
        was = lb_position(&k.b);                                                                   \
        assert_int_equal(                                                                          \
            lb_apply_fill(&k.b, true, false, buy, D(sz), D(px), D(fee), ct, "A", 1, &r), AT_OK);   \
        lg_trip_fill(&k, was, &r);                                                                 \
    } while (0)
    FILL(true, "2", "100", "-0.1");
    FILL(false, "1", "110", "-0.05"); /* +0.1, still open */
    assert_int_equal(k.trips, 0);
    lg_trip_funding(&k, D("-0.02"));
    /* sell 2 @ 120: the last long closes (+0.2, fee -0.05), 1 short opens */
    FILL(false, "2", "120", "-0.1");
    assert_int_equal(k.trips, 1);
    assert_int_equal(k.wins, 1); /* 0.3 - 0.2 - 0.02 = 0.08 */
    assert_dec(k.trip_fees, "-0.05");
    assert_dec(k.trip_realized, "0");
    /* the short closes at a loss: -0.1 - 0.05 - 0.05 */
    FILL(true, "1", "130", "-0.05");
    assert_int_equal(k.trips, 2);
    assert_int_equal(k.wins, 1);
    assert_dec(lb_position(&k.b), "0");
    /* a gain eaten by fees and funding is no win */
    FILL(true, "1", "100", "-0.2");
    lg_trip_funding(&k, D("-0.05"));
    FILL(false, "1", "120", "-0.2"); /* +0.2 - 0.4 - 0.05 */
    assert_int_equal(k.trips, 3);
    assert_int_equal(k.wins, 1);
#undef FILL
    lb_free(&k.b);
}

/* A close into an empty long book (the venue's, not this origin's) ends no
 * trip, and its fee does not count against the next one. */
static void test_trip_close_into_empty(void **state)
{
    book k = {0};
    lb_result r;
    at_dec ct = D("0.01");
#define FILL(buy, sz, px, fee)                                                                     \
    do {                                                                                           \
        at_dec was = lb_position(&k.b);                                                            \
        assert_int_equal(                                                                          \
            lb_apply_fill(&k.b, false, true, buy, D(sz), D(px), D(fee), ct, "A", 1, &r), AT_OK);   \
        lg_trip_fill(&k, was, &r);                                                                 \
    } while (0)
    FILL(false, "1", "100", "-0.1");
    assert_true(r.over);
    assert_int_equal(k.trips, 0);
    assert_dec(k.trip_fees, "0");
    assert_dec(k.b.fees, "-0.1"); /* still the book's fees */
    /* then a trip of its own: +0.1 - 0.04 is a win */
    FILL(true, "1", "100", "-0.02");
    assert_dec(k.trip_fees, "-0.02");
    FILL(false, "1", "110", "-0.02");
    assert_int_equal(k.trips, 1);
    assert_int_equal(k.wins, 1);
#undef FILL
    lb_free(&k.b);
}

/* A close into an empty long/short book (a position opened before the
 * ledger knew it): nothing to close, the fee still counted. */
static void test_close_of_empty_book(void **state)
{
    lb_book b = {0};
    lb_result r;
    assert_int_equal(
        lb_apply_fill(&b, false, true, false, D("1"), D("100"), D("-0.1"), D("1"), "A", 1, &r),
        AT_OK);
    assert_true(r.over);
    assert_int_equal(b.nlots, 0);
    assert_dec(b.fees, "-0.1");
    lb_free(&b);
}

static void test_bad_fill_leaves_book(void **state)
{
    lb_book b = {0};
    lb_result r;
    assert_int_equal(
        lb_apply_fill(&b, true, false, true, D("0"), D("1"), D("0"), D("1"), "A", 1, &r),
        AT_EINVAL);
    assert_int_equal(b.nlots, 0);
    lb_free(&b);
}

/* ------------------------------------------------------------ engine */

#define T0_US 1700000000000000LL

static sim_engine S;
static at_instance *SRC;

static void rig_start(const char *dir)
{
    sim_engine_open(&S, "ledger", dir, T0_US, false);
    SRC = engine_virtual_instance(S.e, "test.venue");
}

static void sql(const char *q, const at_db_value *p, size_t n)
{
    sim_engine_sql(&S, SRC, q, p, n);
}

static void order_row(const char *cl, const char *origin, const char *decision)
{
    char intent[64];
    snprintf(intent, sizeof(intent), "i-%s", cl);
    const at_db_value p[] = {AT_DB_S(intent), AT_DB_S(cl), AT_DB_S(origin), AT_DB_S(decision)};
    sql("INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, inst_id, op, "
        "state, created_ms, updated_ms) VALUES ($1,$2,'exchange.a',$3,$4,'BTC-USDT-SWAP','place',"
        "'filled',1,1)",
        p, 4);
    if (decision) {
        const at_db_value q[] = {AT_DB_S(decision), AT_DB_S(origin)};
        sql("INSERT INTO decisions (id, trader, valid, created_ms) VALUES ($1,$2,1,1)", q, 2);
    }
}

static void seed(void)
{
    sql("INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, lot_sz, "
        "min_sz, tick_sz, settle_ccy, updated_ms) VALUES ('okx','BTC-USDT-SWAP','SWAP','0.01',"
        "'BTC','0.01','0.01','0.1','USDT',1)",
        NULL, 0);
    order_row("clA", "alpha", "dA");
    order_row("clB", "beta", "dB");
    order_row("clC", "alpha", "dC");
}

static void fill(const char *tid, const char *cl, const char *algo_cl, bool buy, const char *sz,
                 const char *px, const char *fee)
{
    at_ev_fill *x = (at_ev_fill *)S.h->event_new(SRC, AT_EV_FILL, 0);
    assert_non_null(x);
    x->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    snprintf(x->account, sizeof(x->account), "exchange.a");
    snprintf(x->trade_id, sizeof(x->trade_id), "%s", tid);
    snprintf(x->cl_ord_id, sizeof(x->cl_ord_id), "%s", cl);
    snprintf(x->algo_cl_ord_id, sizeof(x->algo_cl_ord_id), "%s", algo_cl);
    x->side = buy ? AT_SIDE_BUY : AT_SIDE_SELL;
    x->pos_side = AT_POS_NET;
    x->sz = D(sz);
    x->px = D(px);
    x->fee = D(fee);
    x->exch_ts_ms = S.h->now_us() / 1000;
    S.h->publish(SRC, &x->h, 0);
    engine_pump(S.e);
}

static bool ledger_idle(void *arg)
{
    return ledger_ready(S.e->ledger);
}

static void settle(void)
{
    assert_true(engine_wait(S.e, ledger_idle, NULL, 5000000));
    /* and its writes: a read sees every write queued before it */
    sql("SELECT 1", NULL, 0);
}

static const char *q(const char *text)
{
    return sim_engine_query(&S, SRC, text);
}

static void publish_mark(const char *px)
{
    at_ev_mark *m = (at_ev_mark *)S.h->event_new(SRC, AT_EV_MARK, 0);
    m->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    m->mark_px = D(px);
    S.h->publish(SRC, &m->h, 0);
    engine_pump(S.e);
}

static void publish_funding(int64_t at_ms, const char *rate)
{
    at_ev_funding *f = (at_ev_funding *)S.h->event_new(SRC, AT_EV_FUNDING, 0);
    f->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    f->rate = D(rate);
    f->funding_ms = at_ms;
    S.h->publish(SRC, &f->h, 0);
    engine_pump(S.e);
}

static void check_pnl(const char *origin, const char *realized, const char *fees,
                      const char *funding)
{
    ledger_pnl p;
    assert_int_equal(ledger_pnl_of(S.e->ledger, origin, "exchange.a", &p), AT_OK);
    assert_dec(p.realized, realized);
    assert_dec(p.fees, fees);
    assert_dec(p.funding, funding);
}

static void test_two_traders_one_account_outcomes_restart(void **state)
{
    rig_start(NULL);
    settle();
    seed();
    /* alpha buys 2 @ 50000, beta 1 @ 50100 on the same net account */
    fill("t1", "clA", "", true, "2", "50000", "-0.5");
    fill("t2", "clB", "", true, "1", "50100", "-0.25");
    /* alpha's take-profit fires: the order has no clOrdId, its algo is clA + "a" */
    fill("t3", "", "clAa", false, "2", "51000", "-0.51");
    /* an order nobody of ours placed */
    fill("t4", "zzz", "", true, "1", "50900", "-0.1");
    settle();
    check_pnl("alpha", "20", "-1.01", "0");
    check_pnl("beta", "0", "-0.25", "0");
    check_pnl("unattributed", "0", "-0.1", "0");
    ledger_stats st;
    ledger_get_stats(S.e->ledger, &st);
    assert_int_equal(st.fills, 4);
    assert_int_equal(st.unattributed, 1);
    assert_string_equal(
        q("SELECT id, outcome_json, net_pnl FROM decisions WHERE id IN ('dA','dB') ORDER BY id"),
        /* the take-profit is part of the entry's decision: its fill closes it */
        "dA|{\"realized_pnl\":\"20\",\"fees\":\"-1.01\",\"funding\":\"0\",\"net_pnl\":\"18.99\","
        "\"fills\":2,\"symbols\":{\"BTC-USDT-SWAP\":{\"opened\":\"2\",\"closed\":\"2\","
        "\"open\":\"0\",\"closing\":\"2\"}}}|18.99;"
        "dB|{\"realized_pnl\":\"0\",\"fees\":\"-0.25\",\"funding\":\"0\",\"net_pnl\":\"-0.25\","
        "\"fills\":1,\"symbols\":{\"BTC-USDT-SWAP\":{\"opened\":\"1\",\"closed\":\"0\","
        "\"open\":\"1\",\"closing\":\"0\"}}}|-0.25;");
    /* funding: the first FUNDING records the schedule, the move forward
     * settles beta's open contract at the rate seen for it:
     * -(1 x 0.01 x 50500 x 0.0001) */
    publish_mark("50500");
    publish_funding(1700000100000, "0.0001");
    publish_funding(1700028900000, "0.0003");
    publish_funding(1700028900000, "0.0003"); /* a second source: settled once */
    settle();
    check_pnl("beta", "0", "-0.25", "-0.0505");
    assert_string_equal(
        q("SELECT kind, origin, funding FROM ledger WHERE kind = 'funding' ORDER BY origin"),
        "funding|beta|-0.0505;funding|unattributed|-0.0505;");
    assert_string_equal(q("SELECT net_pnl FROM decisions WHERE id = 'dB'"), "-0.3005;");
    /* a PnL row per trader after each fill, unrealized at the mark */
    assert_string_equal(q("SELECT count(*) FROM pnl_snapshots WHERE origin = 'alpha'"), "1;");
    /* a fill the exchange stored, the journal never got (a crash between) */
    sql("INSERT INTO fills (account, inst_id, trade_id, cl_ord_id, side, pos_side, px, sz, fee, "
        "ts_ms) VALUES ('exchange.a','BTC-USDT-SWAP','t5','clC','sell','net','50200','1',"
        "'-0.2',1700000001000)",
        NULL, 0);
    sim_engine_close(&S, false);

    rig_start(S.dir);
    /* a venue's replay of a journaled fill while the journal is still
     * being read: held until it is, then known and not booked twice */
    assert_false(ledger_ready(S.e->ledger));
    fill("t1", "clA", "", true, "2", "50000", "-0.5");
    settle();
    ledger_get_stats(S.e->ledger, &st);
    assert_int_equal(st.replayed, 6); /* 4 fills and 2 funding rows */
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.duplicates, 1);
    /* books are per origin: alpha's recovered sell opens alpha's short,
     * it does not close beta's long */
    check_pnl("alpha", "20", "-1.21", "0");
    check_pnl("beta", "0", "-0.25", "-0.0505");
    ledger_pnl p;
    assert_int_equal(ledger_pnl_of(S.e->ledger, "alpha", "exchange.a", &p), AT_OK);
    assert_int_equal(p.positions, 1);
    /* the same fill again (a venue's replay): not booked twice */
    fill("t2", "clB", "", true, "1", "50100", "-0.25");
    settle();
    ledger_get_stats(S.e->ledger, &st);
    assert_int_equal(st.duplicates, 2);
    check_pnl("beta", "0", "-0.25", "-0.0505");
    sim_engine_close(&S, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_fifo_fees_and_flip),
        cmocka_unit_test(test_hedge_books_and_over_close),
        cmocka_unit_test(test_funding_on_lots),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_trip_close_into_empty),
        cmocka_unit_test(test_bad_fill_leaves_book),
        cmocka_unit_test(test_close_of_empty_book),
        cmocka_unit_test(test_two_traders_one_account_outcomes_restart),
    };
    return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}

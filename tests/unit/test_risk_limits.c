/* risk_limits, the sizing and price rules: check() on intents against a
 * world fed through the plugin's subscriptions (test_risk_limits.h), each
 * rule at its boundary: approved at the limit, resized (or rejected) just
 * past it, the rule named in the verdict. Unknown equity, instrument or
 * price rejects, never approves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_risk_limits.h"

#define LONG_(inst_, sz_) OPEN_LONG(inst_, sz_, .decision = "")

/* ---- what every sizing rule needs ---- */

static void test_unknowns_reject(void **state)
{
    (void)state;
    start_with(NULL);
    verdict v = OPEN_LONG(BTC, "1", .account = "exchange.other");
    EXPECT(v, AT_VERDICT_REJECT, "equity", NULL, "equity of exchange.other unknown");
    feed_balance("exchange.other", "0");
    v = OPEN_LONG(BTC, "1", .account = "exchange.other");
    EXPECT(v, AT_VERDICT_REJECT, "equity", NULL, "is 0");

    advance_s(2); /* the start read the table; a second later a miss reads it again */
    int asked = W.queries;
    v = LONG_("DOGE-USDT-SWAP", "1");
    EXPECT(v, AT_VERDICT_REJECT, "instrument", NULL, "DOGE-USDT-SWAP unknown");
    assert_int_equal(W.queries, asked + 1); /* read again: its exchange may have written it */
    v = JUDGE(.op = AT_INTENT_PLACE, .side = AT_SIDE_BUY, .ps = AT_POS_LONG, .sz = "1");
    EXPECT(v, AT_VERDICT_REJECT, "instrument", NULL, "names no instrument");

    /* prices go stale: 61 s without a mark or last */
    advance_s(61);
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "price", NULL, "no mark or last price of BTC-USDT-SWAP");
    /* the last price alone values an entry, but without a mark or index the
     * deviation of the last price cannot be judged */
    feed_last(ACCT, BTC, "50000");
    feed_book(ACCT, BTC, "49999.5:100", "50000.5:100");
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "index_deviation", NULL, "no index or mark price");
    feed_mark(ACCT, BTC, "50000", "50000");
    v = LONG_(BTC, "1");
    APPROVED(v);

    /* a paper account trades instruments and prices another instance wrote */
    feed_balance("exchange.paper", "10000");
    v = OPEN_LONG(BTC, "1", .account = "exchange.paper");
    APPROVED(v);
}

/* ---- margin_per_trade ---- */

static void test_margin_per_trade(void **state)
{
    (void)state;
    /* leverage 10 (default_leverage): 50 USDT of margin a BTC contract;
     * 5 % of 10000 = 500 = 10 contracts, 20 % = 2000 = 40 contracts */
    start_with("margin_min_pct = 5\nmargin_max_pct = 20\n");
    verdict v = LONG_(BTC, "40");
    APPROVED(v);
    v = LONG_(BTC, "40.01");
    EXPECT(v, AT_VERDICT_RESIZE, "margin_per_trade", "40", "over margin_max_pct 20");
    v = LONG_(BTC, "10");
    APPROVED(v);
    v = LONG_(BTC, "9.99");
    EXPECT(v, AT_VERDICT_REJECT, "margin_per_trade", NULL, "under margin_min_pct 5");
    /* the intent's leverage: 20 doubles the contracts a margin buys */
    v = OPEN_LONG(BTC, "80", .lever = "20");
    APPROVED(v);
    v = OPEN_LONG(BTC, "81", .lever = "20");
    EXPECT(v, AT_VERDICT_RESIZE, "margin_per_trade", "80", "margin 2025 USDT");
    v = OPEN_LONG(BTC, "19.99", .lever = "20");
    EXPECT(v, AT_VERDICT_REJECT, "margin_per_trade", NULL, "is 4.9975 % of equity 10000");
}

/* ---- max_leverage ---- */

static void test_max_leverage(void **state)
{
    (void)state;
    start_with("max_leverage = 5, BTC-USDT-SWAP:20, SOL-USDT-SWAP:60\n");
    verdict v = OPEN_LONG(BTC, "1", .lever = "20");
    APPROVED(v);
    v = OPEN_LONG(BTC, "1", .lever = "21");
    EXPECT(v, AT_VERDICT_REJECT, "max_leverage", NULL, "leverage 21 (the intent's) is over 20");
    v = OPEN_LONG(ETH, "1", .lever = "5");
    APPROVED(v);
    v = OPEN_LONG(ETH, "1", .lever = "5.5");
    EXPECT(v, AT_VERDICT_REJECT, "max_leverage", NULL, "over 5 for ETH-USDT-SWAP");
    /* never above the instrument's own maxLever (50 for SOL) */
    v = OPEN_LONG(SOL, "1", .lever = "50");
    APPROVED(v);
    v = OPEN_LONG(SOL, "1", .lever = "51");
    EXPECT(v, AT_VERDICT_REJECT, "max_leverage", NULL, "maxLever 50");
    /* leverage 0 = as is: default_leverage 10 is over ETH's 5 */
    v = LONG_(ETH, "1");
    EXPECT(v, AT_VERDICT_REJECT, "max_leverage", NULL, "leverage 10 (default_leverage)");
}

static void test_leverage_unknown(void **state)
{
    (void)state;
    start_with("default_leverage = 0\n");
    verdict v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "max_leverage", NULL, "leverage unknown");
    /* an open position shows the account's leverage for that side */
    feed_position(ACCT, BTC, AT_POS_LONG, "1", "3", "166");
    v = LONG_(BTC, "1");
    APPROVED(v);
    v = OPEN_SHORT(ETH, "1", .decision = "");
    EXPECT(v, AT_VERDICT_REJECT, "max_leverage", NULL, "no open short ETH-USDT-SWAP");
}

/* ---- max_notional ---- */

static void test_max_notional(void **state)
{
    (void)state;
    /* BTC: 2 x 10000 = 20000 = 40 contracts; ETH: 1 x 10000 = 40 contracts */
    start_with("max_notional = 2, ETH-USDT-SWAP:1\n");
    feed_position(ACCT, BTC, AT_POS_LONG, "10", "10", "500"); /* 5000 */
    verdict first = LONG_(BTC, "30.01");
    EXPECT(first, AT_VERDICT_RESIZE, "max_notional", "30", "5000 USDT open on it + 15005");
    /* the approved 30 count until the venue says otherwise */
    verdict v = LONG_(BTC, "0.01");
    EXPECT(v, AT_VERDICT_REJECT, "max_notional", NULL, "0 contracts left, under minSz 0.01");
    /* the venue (or a later rule) refused the 30: the room is back */
    feed_result(ACCT, first.intent_id, first.cl, false);
    v = LONG_(BTC, "30");
    APPROVED(v);
    /* filled: the ORDER and then the POSITION, counted once */
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "30", "40", "10", "2000");
    v = LONG_(BTC, "0.01");
    EXPECT(v, AT_VERDICT_REJECT, "max_notional", NULL, "20000 USDT open on it");
    feed_position(ACCT, BTC, AT_POS_LONG, "20", "10", "1000"); /* partly closed */
    v = LONG_(BTC, "20");
    APPROVED(v);

    v = LONG_(ETH, "40");
    APPROVED(v);
    v = LONG_(ETH, "0.01");
    EXPECT(v, AT_VERDICT_REJECT, "max_notional", NULL, "over 1 x equity");
}

/* ---- max_exposure ---- */

static void test_max_exposure(void **state)
{
    (void)state;
    start_with("max_exposure = 3\n");                           /* 30000 in all */
    feed_position(ACCT, BTC, AT_POS_LONG, "20", "10", "1000");  /* 10000 */
    feed_position(ACCT, ETH, AT_POS_SHORT, "40", "10", "1000"); /* 10000 */
    verdict v = LONG_(SOL, "100.5");                            /* 100 a contract */
    EXPECT(v, AT_VERDICT_RESIZE, "max_exposure", "100", "20000 USDT open on the account");
    v = LONG_(SOL, "1");
    EXPECT(v, AT_VERDICT_REJECT, "max_exposure", NULL, "under minSz 1");
    /* other accounts do not count */
    feed_balance("exchange.paper", "10000");
    v = OPEN_LONG(SOL, "100", .account = "exchange.paper");
    APPROVED(v);
}

/* ---- margin_use ---- */

static void test_margin_use(void **state)
{
    (void)state;
    start_with("max_margin_use_pct = 60\n"); /* 6000 */
    feed_position(ACCT, ETH, AT_POS_LONG, "100", "5", "5000");
    /* 1000 of margin left: 20 BTC contracts at leverage 10 */
    verdict v = LONG_(BTC, "20.01");
    EXPECT(v, AT_VERDICT_RESIZE, "margin_use", "20", "margin in use 5000 USDT + 1000.5");
    v = LONG_(BTC, "0.01");
    EXPECT(v, AT_VERDICT_REJECT, "margin_use", NULL, "margin in use 6000 USDT");
}

/* ---- lot_size ---- */

static void test_lot_size(void **state)
{
    (void)state;
    start_with(NULL);
    verdict v = LONG_(BTC, "1.005");
    EXPECT(v, AT_VERDICT_RESIZE, "lot_size", "1", "not a multiple of lotSz 0.01");
    v = LONG_(SOL, "1.05"); /* lot 0.1, minSz 1 */
    EXPECT(v, AT_VERDICT_RESIZE, "lot_size", "1", NULL);
    v = LONG_(SOL, "1");
    APPROVED(v);
    v = LONG_(SOL, "0.9");
    EXPECT(v, AT_VERDICT_REJECT, "lot_size", NULL, "0.9 contracts is under minSz 1");
    v = LONG_(BTC, "0.005");
    EXPECT(v, AT_VERDICT_REJECT, "lot_size", NULL, "under minSz 0.01");
    plugin_stop();
    start_with("disable = lot_size\n");
    v = LONG_(BTC, "1.005");
    APPROVED(v);
}

/* The smallest cap decides and is the one named. */
static void test_smallest_cap_named(void **state)
{
    (void)state;
    start_with("margin_max_pct = 20\nmax_notional = 1.5\nmax_margin_use_pct = 25\n");
    /* margin_per_trade: 40, max_notional: 30, margin_use: 50 */
    verdict v = LONG_(BTC, "45.005");
    EXPECT(v, AT_VERDICT_RESIZE, "max_notional", "30", NULL);
}

/* ---- slippage ---- */

static void deep_book(void)
{
    feed_book(ACCT, BTC, "49999.5:10 49900.5:10 49700:100", "50000.5:10 50099.5:10 50300:100");
}

static void test_slippage_market(void **state)
{
    (void)state;
    start_with("max_slippage_bps = 10, ETH-USDT-SWAP:50\nbook_max_age = 10s\n");
    deep_book();                  /* mid 50000 = mark */
    verdict v = LONG_(BTC, "19"); /* fills at 50047.39: 9.5 bps */
    APPROVED(v);
    v = LONG_(BTC, "21"); /* 50061.90: 12.4 bps */
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "12.4 bps from the");
    v = OPEN_SHORT(BTC, "21", .decision = "");
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "bps from the");
    v = OPEN_SHORT(BTC, "19", .decision = "");
    APPROVED(v);
    v = LONG_(BTC, "1000");
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "more than the 3 ask levels");
    /* against the mark as well: a mark below the book */
    feed_mark(ACCT, BTC, "49950", "49950");
    v = LONG_(BTC, "1"); /* 50000.5 is 10.1 bps over the mark */
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "from the mark 49950");
    feed_mark(ACCT, BTC, "50000", "50000");
    /* stale book: 10 s pass without one */
    advance_s(11);
    feed_mark(ACCT, BTC, "50000", "50000");
    feed_last(ACCT, BTC, "50000");
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "book is 11.0 s old");
    /* closes never wait for a book */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_LONG,
              .type = AT_ORDT_MARKET, .sz = "1", .reduce_only = true);
    APPROVED(v);
    deep_book();
    v = LONG_(BTC, "1");
    APPROVED(v);
    /* no book at all */
    W.irows[W.nirows++] =
        (rl_irow){ACCT, "XRP-USDT-SWAP", "100", "1", "1", "1", "75", "USDT", "live"};
    feed_status("exchange.okx_demo", AT_STATE_UP);
    rl_run();
    feed_mark(ACCT, "XRP-USDT-SWAP", "2", "2");
    feed_last(ACCT, "XRP-USDT-SWAP", "2");
    v = LONG_("XRP-USDT-SWAP", "1");
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "no order book of XRP-USDT-SWAP");
}

static void test_slippage_limit(void **state)
{
    (void)state;
    start_with("max_slippage_bps = 10\n");
    verdict v = OPEN_LONG(BTC, "1", .type = AT_ORDT_LIMIT, .px = "50049");
    APPROVED(v);
    v = OPEN_LONG(BTC, "1", .type = AT_ORDT_LIMIT, .px = "50051");
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "limit price 50051 is 10.2 bps above the");
    v = OPEN_SHORT(BTC, "1", .type = AT_ORDT_LIMIT, .px = "49951");
    APPROVED(v);
    v = OPEN_SHORT(BTC, "1", .type = AT_ORDT_LIMIT, .px = "49949");
    EXPECT(v, AT_VERDICT_REJECT, "slippage", NULL, "below the");
    /* far from the market on the safe side: fine */
    v = OPEN_LONG(BTC, "1", .type = AT_ORDT_LIMIT, .px = "40000");
    APPROVED(v);
}

/* ---- index_deviation ---- */

static void test_index_deviation(void **state)
{
    (void)state;
    start_with("max_index_deviation_bps = 50\n");
    feed_last(ACCT, BTC, "50249"); /* 49.8 bps */
    verdict v = LONG_(BTC, "1");
    APPROVED(v);
    feed_last(ACCT, BTC, "50251"); /* 50.2 bps */
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "index_deviation", NULL, "50.2 bps from the index 50000");
    feed_last(ACCT, BTC, "49749");
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "index_deviation", NULL, "from the index");
    /* no index on the bus (exchange_okx's MARK): the mark, named */
    feed_mark(ACCT, BTC, "50000", "0");
    feed_last(ACCT, BTC, "50300");
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "index_deviation", NULL,
           "from the mark 50000 (no index price on the bus)");
    feed_last(ACCT, BTC, "50200");
    v = LONG_(BTC, "1");
    APPROVED(v);
    /* a stale last price is no price */
    advance_s(61);
    feed_mark(ACCT, BTC, "50000", "50000");
    feed_book(ACCT, BTC, "49999.5:100", "50000.5:100");
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "index_deviation", NULL, "no last price");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_unknowns_reject, teardown),
        cmocka_unit_test_teardown(test_margin_per_trade, teardown),
        cmocka_unit_test_teardown(test_max_leverage, teardown),
        cmocka_unit_test_teardown(test_leverage_unknown, teardown),
        cmocka_unit_test_teardown(test_max_notional, teardown),
        cmocka_unit_test_teardown(test_max_exposure, teardown),
        cmocka_unit_test_teardown(test_margin_use, teardown),
        cmocka_unit_test_teardown(test_lot_size, teardown),
        cmocka_unit_test_teardown(test_smallest_cap_named, teardown),
        cmocka_unit_test_teardown(test_slippage_market, teardown),
        cmocka_unit_test_teardown(test_slippage_limit, teardown),
        cmocka_unit_test_teardown(test_index_deviation, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

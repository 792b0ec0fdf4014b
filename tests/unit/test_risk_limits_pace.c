/* risk_limits, the pace and position rules (opens per hour and per cycle,
 * max positions, re-entry cooldown, no flip, min hold), closes and
 * reductions passing whatever blocks entries, amends, the pace read back at
 * a restart, the instruments read again when an exchange comes up, and
 * check_config refusing what init would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_risk_limits.h"

#define LONG_(inst_, sz_) OPEN_LONG(inst_, sz_, .decision = "")
#define CLOSE_LONG(inst_, sz_, dec_)                                                               \
    JUDGE(.op = AT_INTENT_PLACE, .inst = inst_, .side = AT_SIDE_SELL, .ps = AT_POS_LONG,           \
          .type = AT_ORDT_MARKET, .sz = sz_, .reduce_only = true, .decision = dec_)

/* ---- opens_per_hour, opens_per_cycle ---- */

static void test_opens_per_hour(void **state)
{
    (void)state;
    start_with("max_opens_per_hour = 3\n");
    verdict a = LONG_(BTC, "1");
    APPROVED(a);
    advance_market(600);
    verdict b = LONG_(ETH, "1");
    APPROVED(b);
    verdict c = LONG_(SOL, "1");
    APPROVED(c);
    verdict v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_hour", NULL, "3 entries on exchange.okx_demo");
    /* an entry refused later (by the venue, another rule) never happened */
    feed_result(ACCT, c.intent_id, c.cl, false);
    v = LONG_(BTC, "1");
    APPROVED(v);
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_hour", NULL, "the next one in 50m 00s");
    /* other accounts keep their own count */
    feed_balance("exchange.paper", "10000");
    v = OPEN_LONG(BTC, "1", .account = "exchange.paper");
    APPROVED(v);
    /* an hour after the first, one more */
    advance_market(3000);
    v = LONG_(BTC, "1");
    APPROVED(v);
    v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_hour", NULL, NULL);
}

static void test_opens_per_cycle(void **state)
{
    (void)state;
    start_with("max_opens_per_cycle = 2\n");
    verdict v = OPEN_LONG(BTC, "1", .decision = "d1");
    APPROVED(v);
    v = OPEN_LONG(ETH, "1", .decision = "d1");
    APPROVED(v);
    v = OPEN_LONG(SOL, "1", .decision = "d1");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_cycle", NULL, "decision d1 already opened 2");
    v = OPEN_LONG(SOL, "1", .decision = "d2");
    APPROVED(v);
    /* intents of no decision are no cycle */
    v = LONG_(SOL, "1");
    APPROVED(v);
    v = LONG_(SOL, "1");
    APPROVED(v);
    v = LONG_(SOL, "1");
    APPROVED(v);
}

/* The pace survives a restart: the last hour's entries are read back. */
static void test_pace_read_back(void **state)
{
    (void)state;
    int64_t now_ms = T0 / 1000;
    W.norows = 0;
    W.orows[W.norows++] = (rl_orow){ACCT, BTC, "d9", "old1", now_ms - 3000000};
    W.orows[W.norows++] = (rl_orow){ACCT, ETH, "d9", "old2", now_ms - 60000};
    start_with("max_opens_per_hour = 3\nmax_opens_per_cycle = 2\n");
    W.norows = 0;
    verdict v = OPEN_LONG(SOL, "1", .decision = "d9");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_cycle", NULL, "decision d9 already opened 2");
    v = LONG_(SOL, "1");
    APPROVED(v);
    v = LONG_(SOL, "1");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_hour", NULL, "the next one in 10m 00s");
}

/* ---- max_positions ---- */

static void test_max_positions(void **state)
{
    (void)state;
    start_with("max_positions = 2\n");
    feed_position(ACCT, BTC, AT_POS_LONG, "1", "10", "50");
    verdict eth = LONG_(ETH, "1"); /* an entry order counts as a position */
    APPROVED(eth);
    verdict v = LONG_(SOL, "1");
    EXPECT(v, AT_VERDICT_REJECT, "max_positions", NULL, "2 instruments already");
    v = LONG_(BTC, "1"); /* adding to one is not one more */
    APPROVED(v);
    (void)v;
    feed_result(ACCT, eth.intent_id, eth.cl, false);
    verdict sol = LONG_(SOL, "1");
    APPROVED(sol);
    /* the BTC entry order still counts after its position closed */
    feed_position(ACCT, BTC, AT_POS_LONG, "0", "0", "0");
    v = LONG_(ETH, "1");
    EXPECT(v, AT_VERDICT_REJECT, "max_positions", NULL, NULL);
    feed_result(ACCT, sol.intent_id, sol.cl, false);
    v = LONG_(ETH, "1");
    APPROVED(v);
}

/* ---- reentry_cooldown, no_flip ---- */

static void open_and_close_btc_long(void)
{
    verdict v = LONG_(BTC, "1");
    APPROVED(v);
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "1", "1", "10", "50");
    feed_position(ACCT, BTC, AT_POS_LONG, "0", "0", "0");
}

static void test_reentry_cooldown(void **state)
{
    (void)state;
    start_with("reentry_cooldown = 30m\n");
    open_and_close_btc_long();
    advance_market(30 * 60 - 1);
    verdict v = LONG_(BTC, "1");
    EXPECT(v, AT_VERDICT_REJECT, "reentry_cooldown", NULL,
           "the long BTC-USDT-SWAP position closed 29m 59s ago");
    v = LONG_(ETH, "1"); /* another instrument */
    APPROVED(v);
    v = OPEN_SHORT(BTC, "1", .decision = ""); /* the other side: no_flip's business */
    APPROVED(v);
    advance_market(1);
    v = LONG_(BTC, "1");
    APPROVED(v);
}

static void test_no_flip(void **state)
{
    (void)state;
    start_with("flip_window = 1h\n");
    /* long/short mode: a short beside an open long */
    verdict v = LONG_(BTC, "1");
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "1", "1", "10", "50");
    v = OPEN_SHORT(BTC, "1", .decision = "");
    EXPECT(v, AT_VERDICT_REJECT, "no_flip", NULL, "a long BTC-USDT-SWAP position is open");
    /* the same without a side: the venue opens a short for a plain sell */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .sz = "1");
    EXPECT(v, AT_VERDICT_REJECT, "no_flip", NULL, "a long BTC-USDT-SWAP position is open");
    /* right after the long closed */
    feed_position(ACCT, BTC, AT_POS_LONG, "0", "0", "0");
    advance_market(3599);
    v = OPEN_SHORT(BTC, "1", .decision = "");
    EXPECT(v, AT_VERDICT_REJECT, "no_flip", NULL, "closed 59m 59s ago: no short");
    v = LONG_(BTC, "1"); /* the same side again is the cooldown's business (off here) */
    APPROVED(v);
    advance_market(1);
    v = OPEN_SHORT(BTC, "1", .decision = "");
    APPROVED(v);

    /* net mode: an order through the position closes it, and no more */
    feed_position(ACCT, ETH, AT_POS_NET, "1", "10", "25");
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "3");
    EXPECT(v, AT_VERDICT_REJECT, "no_flip", NULL,
           "would turn the 1 long ETH-USDT-SWAP position into a short: close it with reduce_only");
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "1");
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "3", .reduce_only = true);
    APPROVED(v); /* the venue closes no more than the position */
    /* a net position that flips in one event closed a long */
    feed_position(ACCT, ETH, AT_POS_NET, "-2", "10", "50");
    feed_position(ACCT, ETH, AT_POS_NET, "0", "0", "0");
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_BUY, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "1");
    EXPECT(v, AT_VERDICT_REJECT, "no_flip", NULL, "the short ETH-USDT-SWAP position closed");

    plugin_stop();
    start_with("disable = no_flip\nflip_window = 1h\n");
    feed_position(ACCT, ETH, AT_POS_NET, "1", "10", "25");
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "3");
    APPROVED(v);
    feed_position(ACCT, BTC, AT_POS_LONG, "1", "10", "50");
    v = OPEN_SHORT(BTC, "1", .decision = "");
    APPROVED(v);
}

/* ---- min_hold ---- */

static void test_min_hold(void **state)
{
    (void)state;
    start_with("min_hold = 15m\n");
    verdict v = OPEN_LONG(BTC, "2", .decision = "d1");
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "2", "2", "10", "100");
    advance_market(15 * 60 - 1);
    v = CLOSE_LONG(BTC, "1", "d2");
    EXPECT(v, AT_VERDICT_REJECT, "min_hold", NULL,
           "the long BTC-USDT-SWAP position opened 14m 59s ago: an AI decision may close it in "
           "1s");
    v = JUDGE(.op = AT_INTENT_CLOSE_POSITION, .inst = BTC, .ps = AT_POS_LONG, .decision = "d2");
    EXPECT(v, AT_VERDICT_REJECT, "min_hold", NULL, NULL);
    /* long/short mode: a sell of the long without reduce_only is a close too */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_LONG,
              .type = AT_ORDT_MARKET, .sz = "1", .decision = "d2");
    EXPECT(v, AT_VERDICT_REJECT, "min_hold", NULL, NULL);
    /* without a side: a reduce-only sell closes the long */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_NET, .sz = "1",
              .reduce_only = true, .decision = "d2");
    EXPECT(v, AT_VERDICT_REJECT, "min_hold", NULL, NULL);
    /* a manual (or a rule's) close never waits */
    v = CLOSE_LONG(BTC, "1", "");
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_CLOSE_POSITION, .inst = BTC, .ps = AT_POS_LONG);
    APPROVED(v);
    advance_market(1);
    v = CLOSE_LONG(BTC, "1", "d2");
    APPROVED(v);
    /* a position found open (age unknown) is never held back */
    feed_position(ACCT, ETH, AT_POS_NET, "3", "10", "75");
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "3", .reduce_only = true, .decision = "d3");
    APPROVED(v);
}

/* ---- closes and reductions are never blocked by entry rules ---- */

static void expect_closes_pass(const char *account)
{
    verdict v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_LONG,
                      .type = AT_ORDT_MARKET, .sz = "500", .reduce_only = true, .account = account);
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_BUY, .ps = AT_POS_SHORT,
              .type = AT_ORDT_MARKET, .sz = "500", .account = account);
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_BUY, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "500", .reduce_only = true, .account = account);
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_CLOSE_POSITION, .inst = BTC, .ps = AT_POS_LONG, .account = account);
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_CANCEL, .inst = BTC, .ord_id = "123", .account = account);
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_CANCEL_ALGO, .inst = BTC, .ord_id = "456", .account = account);
    APPROVED(v);
}

static void test_closes_never_blocked(void **state)
{
    (void)state;
    start_with("max_opens_per_hour = 1\nmax_positions = 1\nmargin_min_pct = 5\n"
               "max_margin_use_pct = 10\nmax_slippage_bps = 1\nmax_index_deviation_bps = 1\n");
    verdict v = LONG_(BTC, "20"); /* margin 1000: all there is */
    APPROVED(v);
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "20", "20", "10", "1000");
    v = LONG_(ETH, "40");
    EXPECT(v, AT_VERDICT_REJECT, "max_positions", NULL, NULL);
    feed_last(ACCT, BTC, "51000"); /* 200 bps off the index */
    advance_market(30);            /* a stale book */
    expect_closes_pass(ACCT);
    /* an account the rule knows nothing of: no equity, no prices of its own */
    expect_closes_pass("exchange.unknown");
    /* a net-mode close bigger than nothing known: the venue's business */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = "DOGE-USDT-SWAP", .side = AT_SIDE_SELL,
              .ps = AT_POS_LONG, .type = AT_ORDT_MARKET, .sz = "5", .reduce_only = true);
    APPROVED(v);
}

/* ---- what an entry is: the rule exchange_okx applies ---- */

static void test_entry_classification(void **state)
{
    (void)state;
    start_with("max_opens_per_hour = 1\n");
    verdict v = LONG_(BTC, "1");
    APPROVED(v);
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "1", "1", "10", "50");
    feed_position(ACCT, ETH, AT_POS_NET, "1", "10", "25");
    /* hedge mode: OKX ignores reduceOnly, a reduce-only buy of the long opens */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_BUY, .ps = AT_POS_LONG,
              .type = AT_ORDT_MARKET, .sz = "1", .reduce_only = true);
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_hour", NULL, NULL);
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_SHORT,
              .type = AT_ORDT_MARKET, .sz = "1", .reduce_only = true);
    EXPECT(v, AT_VERDICT_REJECT, "no_flip", NULL, "opening a short beside it");
    /* net mode: against the position without reduce_only is an entry */
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "1");
    EXPECT(v, AT_VERDICT_REJECT, "opens_per_hour", NULL, NULL);
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = ETH, .side = AT_SIDE_SELL, .ps = AT_POS_NET,
              .type = AT_ORDT_MARKET, .sz = "1", .reduce_only = true);
    APPROVED(v);
    v = JUDGE(.op = AT_INTENT_PLACE, .inst = BTC, .side = AT_SIDE_SELL, .ps = AT_POS_LONG,
              .type = AT_ORDT_MARKET, .sz = "1");
    APPROVED(v);
    /* an order the venue reports with reduce_only on the opening side is an
     * entry order too: a size amend of it is judged */
    feed_order(ACCT, SOL, "ext1", "o7", AT_SIDE_BUY, AT_POS_LONG, "1", "0", AT_ORD_LIVE, true);
    v = JUDGE(.op = AT_INTENT_AMEND, .inst = SOL, .ord_id = "o7", .sz = "2");
    EXPECT(v, AT_VERDICT_APPROVE, "", NULL, NULL);
    v = JUDGE(.op = AT_INTENT_AMEND, .inst = SOL, .ord_id = "o7", .sz = "1000000");
    assert_int_equal(v.a.verdict, AT_VERDICT_REJECT);
    assert_non_null(strstr(v.a.reason, "an amend is not resized"));
}

/* ---- stale equity ---- */

static void test_equity_max_age(void **state)
{
    (void)state;
    start_with("equity_max_age = 1h\n");
    advance_market(3 * 3600); /* flat: equity cannot move unseen */
    verdict v = LONG_(BTC, "1");
    APPROVED(v);
    filled(&v, BTC, AT_SIDE_BUY, AT_POS_LONG, "1", "1", "10", "50");
    v = LONG_(ETH, "1");
    EXPECT(v, AT_VERDICT_REJECT, "equity", NULL, "is stale: its newest BALANCE is 3h 00m old");
    feed_balance(ACCT, "10000"); /* the venue pushes one with the fill */
    advance_market(3600);
    v = LONG_(ETH, "1");
    APPROVED(v); /* 1h old, not more */
    advance_market(1);
    v = LONG_(ETH, "1");
    EXPECT(v, AT_VERDICT_REJECT, "equity", NULL,
           "equity of " ACCT " is stale: its newest BALANCE is 1h 00m old with a position open "
           "(equity_max_age 1h 00m)");
    v = CLOSE_LONG(BTC, "1", "");
    APPROVED(v); /* closes pass */
    feed_balance(ACCT, "10000");
    v = LONG_(ETH, "1");
    APPROVED(v);
}

/* ---- amend ---- */

static void test_amend(void **state)
{
    (void)state;
    start_with("max_notional = 1\n"); /* 20 BTC contracts */
    verdict v = OPEN_LONG(BTC, "10", .type = AT_ORDT_LIMIT, .px = "49000");
    APPROVED(v);
    feed_result(ACCT, v.intent_id, v.cl, true);
    feed_order(ACCT, BTC, v.cl, "o1", AT_SIDE_BUY, AT_POS_LONG, "10", "0", AT_ORD_LIVE, false);
    /* smaller, or a new price only: passes */
    verdict a = JUDGE(.op = AT_INTENT_AMEND, .inst = BTC, .ord_id = "o1", .sz = "5");
    APPROVED(a);
    a = JUDGE(.op = AT_INTENT_AMEND, .inst = BTC, .ord_id = "o1", .px = "49500");
    APPROVED(a);
    /* growing it: what it adds is an entry, judged whole (never resized) */
    a = JUDGE(.op = AT_INTENT_AMEND, .inst = BTC, .ord_id = "o1", .sz = "20");
    APPROVED(a);
    a = JUDGE(.op = AT_INTENT_AMEND, .inst = BTC, .ord_id = "o1", .sz = "21");
    EXPECT(a, AT_VERDICT_REJECT, "max_notional", NULL, "an amend is not resized: ");
    /* an order not known here (after a restart, or a reduction): its size
     * is unknown, so a size amend may grow a resting entry; a new price may
     * pass */
    a = JUDGE(.op = AT_INTENT_AMEND, .inst = BTC, .ord_id = "o9", .sz = "500");
    EXPECT(a, AT_VERDICT_REJECT, "max_exposure", NULL,
           "order o9 is not an entry order open here: a size amend cannot be judged");
    a = JUDGE(.op = AT_INTENT_AMEND, .inst = BTC, .ord_id = "o9", .px = "49500");
    APPROVED(a);
    /* a partial fill: in the position once, the rest still open */
    feed_order(ACCT, BTC, v.cl, "o1", AT_SIDE_BUY, AT_POS_LONG, "10", "4", AT_ORD_PARTIALLY_FILLED,
               false);
    feed_position(ACCT, BTC, AT_POS_LONG, "4", "10", "200");
    a = LONG_(BTC, "10.01");
    EXPECT(a, AT_VERDICT_RESIZE, "max_notional", "10", "5000 USDT open on it");
    feed_result(ACCT, a.intent_id, a.cl, false);
    /* then canceled: only what filled stays, once */
    feed_order(ACCT, BTC, v.cl, "o1", AT_SIDE_BUY, AT_POS_LONG, "10", "4", AT_ORD_CANCELED, false);
    feed_position(ACCT, BTC, AT_POS_LONG, "4", "10", "200");
    v = LONG_(BTC, "16");
    APPROVED(v);
}

/* Entry orders the venue reports but this rule never approved (placed
 * before the start) count too. */
static void test_foreign_orders_count(void **state)
{
    (void)state;
    start_with("max_notional = 1\n");
    feed_order(ACCT, BTC, "old", "o7", AT_SIDE_BUY, AT_POS_LONG, "15", "0", AT_ORD_LIVE, false);
    feed_order(ACCT, BTC, "tp", "o8", AT_SIDE_SELL, AT_POS_LONG, "15", "0", AT_ORD_LIVE, false);
    verdict v = LONG_(BTC, "5.01");
    EXPECT(v, AT_VERDICT_RESIZE, "max_notional", "5", "7500 USDT open on it");
    feed_order(ACCT, BTC, "old", "o7", AT_SIDE_BUY, AT_POS_LONG, "15", "0", AT_ORD_CANCELED, false);
    feed_result(ACCT, v.intent_id, v.cl, false);
    v = LONG_(BTC, "20");
    APPROVED(v);
}

/* ---- instruments ---- */

static void test_instruments_read_again(void **state)
{
    (void)state;
    start_with(NULL);
    const char *doge = "DOGE-USDT-SWAP";
    feed_mark(ACCT, doge, "0.2", "0.2");
    feed_last(ACCT, doge, "0.2");
    feed_book(ACCT, doge, "0.19999:1000", "0.20001:1000");
    verdict v = LONG_(doge, "10");
    EXPECT(v, AT_VERDICT_REJECT, "instrument", NULL, "unknown");
    /* the exchange wrote it, then came up */
    W.irows[W.nirows++] = (rl_irow){ACCT, doge, "1000", "1", "0.01", "0.01", "50", "USDT", "live"};
    int asked = W.queries;
    feed_status("exchange.okx_demo", AT_STATE_UP);
    feed_status("storage.sqlite", AT_STATE_UP); /* not an exchange */
    assert_int_equal(W.queries, asked + 1);
    rl_run();
    v = LONG_(doge, "10");
    APPROVED(v);
    /* not live, or not linear: refused */
    W.irows[W.nirows - 1].state = "suspend";
    W.irows[W.nirows++] =
        (rl_irow){ACCT, "BTC-USD-SWAP", "100", "1", "1", "1", "100", "BTC", "live"};
    feed_status("exchange.okx_demo", AT_STATE_UP);
    rl_run();
    v = LONG_(doge, "10");
    EXPECT(v, AT_VERDICT_REJECT, "instrument", NULL, "not live");
    v = LONG_("BTC-USD-SWAP", "1");
    EXPECT(v, AT_VERDICT_REJECT, "instrument", NULL, "not a linear contract");
}

/* ---- config ---- */

static void expect_refused(const char *extra, const char *key, const char *why)
{
    assert_int_equal(config(extra), 0);
    const char *k = NULL;
    char msg[320] = "";
    int rc = W.p->check_config(W.ctx, &k, msg, sizeof(msg));
    if (rc != AT_ECONFIG || !k || strcmp(k, key) != 0 || !strstr(msg, why)) {
        fail_msg("'%s': want %s: ...%s..., got %d %s: %s", extra, key, why, rc, k ? k : "-", msg);
    }
    /* init refuses the same */
    rl_host();
    assert_int_equal(W.p->init((at_instance *)&W, &MH.host, W.ctx), AT_ECONFIG);
    W.p->destroy(W.ctx);
    config_free();
}

static void test_check_config(void **state)
{
    (void)state;
    expect_refused("disable = min_hold, no_such\n", "disable", "'no_such' is not a rule");
    expect_refused("disable = equity\n", "disable", "cannot be disabled");
    expect_refused("margin_min_pct = 30\nmargin_max_pct = 20\n", "margin_min_pct",
                   "above margin_max_pct");
    expect_refused("margin_max_pct = 12.3456789\n", "margin_max_pct", "at most 6 decimals");
    expect_refused("max_exposure = 1.0000001\n", "max_exposure", "at most 6 decimals");
    expect_refused("max_leverage = BTC-USDT-SWAP:20\n", "max_leverage", "no default value");
    expect_refused("max_leverage = 10, 20\n", "max_leverage", "a second default value");
    expect_refused("max_leverage = 130\n", "max_leverage", "at most 125");
    expect_refused("max_leverage = 10, BTC-USDT-SWAP:x\n", "max_leverage", "'x' is not a decimal");
    expect_refused("max_notional = 2, BTC-USDT-SWAP:3, BTC-USDT-SWAP:4\n", "max_notional",
                   "given twice");
    expect_refused("max_notional = 2, :3\n", "max_notional", "is not an instrument id");
    expect_refused("max_slippage_bps = -1\n", "max_slippage_bps", "not a decimal above 0");
    expect_refused("max_index_deviation_bps = 0\n", "max_index_deviation_bps",
                   "not a decimal above 0");
    /* and the defaults pass */
    W.no_base = true;
    assert_int_equal(config(NULL), 0);
    W.no_base = false;
    const char *k = NULL;
    char msg[320];
    assert_int_equal(W.p->check_config(W.ctx, &k, msg, sizeof(msg)), AT_OK);
    config_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_opens_per_hour, teardown),
        cmocka_unit_test_teardown(test_opens_per_cycle, teardown),
        cmocka_unit_test_teardown(test_pace_read_back, teardown),
        cmocka_unit_test_teardown(test_max_positions, teardown),
        cmocka_unit_test_teardown(test_reentry_cooldown, teardown),
        cmocka_unit_test_teardown(test_no_flip, teardown),
        cmocka_unit_test_teardown(test_min_hold, teardown),
        cmocka_unit_test_teardown(test_closes_never_blocked, teardown),
        cmocka_unit_test_teardown(test_entry_classification, teardown),
        cmocka_unit_test_teardown(test_equity_max_age, teardown),
        cmocka_unit_test_teardown(test_amend, teardown),
        cmocka_unit_test_teardown(test_foreign_orders_count, teardown),
        cmocka_unit_test_teardown(test_instruments_read_again, teardown),
        cmocka_unit_test_teardown(test_check_config, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* risk_breaker's equity rules on a mock host (test_risk_breaker_mock.h):
 * daily loss and drawdown trip exactly at their limits, a trip ends after the
 * cool-down or at the next UTC day (simulated clock), a new day starts at the
 * equity known at midnight, flatten closes every open position once with
 * stable ids, unusable equity changes nothing, and a restart keeps the trip,
 * the peak and the day's start (read back from the audit_log rows). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_risk_breaker_mock.h"

#define A "exchange.okx_demo"
#define B "exchange.paper"
#define HOUR_MS 3600000LL

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/at-brk-XXXXXX");
    if (!mkdtemp(tmpdir) || mock_load_plugin() != 0) {
        return -1;
    }
    mock_init(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_reset();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        return -1;
    }
    dlclose(PL.dl);
    return 0;
}

/* A fresh mock (no stored rows) and a started breaker whose empty state is read. */
static void start(mk_inst *in, const char *body)
{
    assert_int_equal(mock_start(in, body), AT_OK);
    mock_flush();
}

static void approved(mk_inst *in, const char *account, const char *origin)
{
    at_risk_answer a = mk_entry(in, account, origin);
    if (a.verdict != AT_VERDICT_APPROVE) {
        fail_msg("expected approve, got %d %s: %s", a.verdict, a.rule, a.reason);
    }
}

static at_risk_answer rejected(mk_inst *in, const char *account, const char *rule)
{
    at_risk_answer a = mk_entry(in, account, "alpha");
    if (a.verdict != AT_VERDICT_REJECT || strcmp(a.rule, rule) != 0) {
        fail_msg("expected a reject by %s, got %d '%s': %s", rule, a.verdict, a.rule, a.reason);
    }
    return a;
}

static void contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("'%s' does not hold '%s'", text, needle);
    }
}

/* The newest stored row of the breaker: its data_json. */
static const char *last_state(void)
{
    assert_true(M.nrows > 0);
    return M.rows[M.nrows - 1].data;
}

/* ------------------------------------------------------------ tests */

static void daily_loss_at_the_boundary(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nmax_drawdown_pct = 0");
    mk_balance(A, "10000");
    mk_balance(A, "9500.00000001"); /* 4.9999999999 %: under the limit */
    approved(&in, A, "alpha");
    assert_int_equal(mock_alerts("tripped"), 0);
    mk_balance(A, "9500"); /* exactly 5 % */
    at_risk_answer a = rejected(&in, A, "daily_loss");
    contains(a.reason, "lost 5 % today");
    contains(a.reason, "equity 9500 is 500 below the day's start 10000 (limit 5 %)");
    contains(a.reason, "no entries until 2026-01-02T00:00:00Z");
    assert_int_equal(mock_alerts("breaker tripped (daily_loss): " A " lost 5 %"), 1);
    assert_int_equal(mock_rows("breaker.trip"), 1);
    contains(last_state(), "\"tripped\":\"daily_loss\"");
    assert_true(M.gauge[0] == 1);
    /* another account is not concerned */
    mk_balance(B, "5000");
    approved(&in, B, "alpha");
    /* one trip, however many more balances come */
    mk_balance(A, "9000");
    assert_int_equal(mock_alerts("breaker tripped"), 1);
    mock_free_inst(&in);
}

static void drawdown_from_peak(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 0\nmax_drawdown_pct = 10");
    mk_balance(A, "10000");
    mk_balance(A, "12000"); /* the peak */
    mk_balance(A, "10800.000001");
    approved(&in, A, "alpha");
    mk_balance(A, "10800"); /* 10 % below 12000; 8 % above the day's start */
    at_risk_answer a = rejected(&in, A, "drawdown");
    contains(a.reason, "10 % below its peak: equity 10800 is 1200 below the peak 12000");
    assert_int_equal(mock_alerts("breaker tripped (drawdown)"), 1);
    mock_free_inst(&in);
}

static void reset_after_cooldown(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nmax_drawdown_pct = 0\nuntil = cooldown\ncooldown = 1h");
    mk_balance(A, "10000");
    mk_balance(A, "9500");
    at_risk_answer a = rejected(&in, A, "daily_loss");
    contains(a.reason, "until 2026-01-01T11:00:00Z");
    mock_advance(HOUR_MS - 1000);
    rejected(&in, A, "daily_loss");
    assert_int_equal(mock_alerts("breaker reset"), 0);
    mock_advance(1000); /* the tick at the hour ends it, no intent needed */
    assert_int_equal(mock_alerts("breaker reset (daily_loss): " A " takes entries again"), 1);
    assert_int_equal(mock_rows("breaker.reset"), 1);
    assert_true(M.gauge[0] == 0);
    approved(&in, A, "alpha");
    /* the day's loss counts again from 9500: 1 % more does not trip ... */
    mk_balance(A, "9405");
    approved(&in, A, "alpha");
    /* ... 5 % of 9500 more does */
    mk_balance(A, "9025");
    rejected(&in, A, "daily_loss");
    /* the time is checked at the intent too, between ticks */
    MH.now_us += HOUR_MS * 1000;
    approved(&in, A, "alpha");
    mock_free_inst(&in);
}

static void reset_at_the_next_utc_day(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nmax_drawdown_pct = 0\nuntil = next_day");
    mk_balance(A, "10000");
    mock_advance(13 * HOUR_MS); /* 23:00 */
    mk_balance(A, "9400");
    rejected(&in, A, "daily_loss");
    mock_advance(HOUR_MS - 1000); /* 23:59:59 */
    rejected(&in, A, "daily_loss");
    mock_advance(1000); /* midnight */
    assert_int_equal(mock_alerts("breaker reset (daily_loss)"), 1);
    assert_int_equal(mock_logged("a new UTC day starts at equity 9400 (the last day's start: "
                                 "10000)"),
                     1);
    approved(&in, A, "alpha");
    mock_free_inst(&in);
}

/* Without a trip, a new day starts at the equity known at midnight. */
static void day_starts_at_midnight_equity(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nmax_drawdown_pct = 0");
    mk_balance(A, "10000");
    mk_balance(A, "9600"); /* 4 % */
    approved(&in, A, "alpha");
    mock_advance(14 * HOUR_MS + 1000); /* 00:00:01 the next day */
    assert_int_equal(mock_rows("breaker.day"), 1);
    mk_balance(A, "9200"); /* 8.3 % below yesterday's start, 4.2 % below today's */
    approved(&in, A, "alpha");
    mk_balance(A, "9120"); /* 5 % below 9600 */
    rejected(&in, A, "daily_loss");
    mock_free_inst(&in);
}

static size_t count_intents(void)
{
    return mock_count(AT_EV_ORDER_INTENT);
}

static const at_ev_order_intent *intent_for(const char *inst, at_pos_side side)
{
    at_inst id = MH.host.inst_intern(inst);
    for (size_t i = 0; i < count_intents(); i++) {
        const at_ev_order_intent *it = (const void *)mock_event(AT_EV_ORDER_INTENT, i);
        if (it->h.inst == id && it->pos_side == side) {
            return it;
        }
    }
    return NULL;
}

static void flatten_closes_each_open_position_once(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nflatten = true");
    mk_position(A, "BTC-USDT-SWAP", AT_POS_LONG, "3", false);
    mk_position(A, "ETH-USDT-SWAP", AT_POS_SHORT, "2", true);
    mk_position(A, "SOL-USDT-SWAP", AT_POS_LONG, "5", false);
    mk_position(A, "SOL-USDT-SWAP", AT_POS_LONG, "0", false); /* closed since */
    mk_position(B, "BTC-USDT-SWAP", AT_POS_NET, "-1", false);
    mk_balance(A, "10000");
    mk_balance(B, "10000");
    assert_int_equal(count_intents(), 0);
    mk_balance(A, "9000");
    assert_int_equal(count_intents(), 2);
    const at_ev_order_intent *btc = intent_for("BTC-USDT-SWAP", AT_POS_LONG);
    const at_ev_order_intent *eth = intent_for("ETH-USDT-SWAP", AT_POS_SHORT);
    assert_non_null(btc);
    assert_non_null(eth);
    assert_int_equal(btc->op, AT_INTENT_CLOSE_POSITION);
    assert_string_equal(btc->account, A);
    assert_string_equal(btc->origin, "risk.breaker");
    assert_false(btc->isolated);
    assert_true(eth->isolated);
    assert_int_equal(btc->side, AT_SIDE_SELL);
    assert_int_equal(eth->side, AT_SIDE_BUY);
    assert_true(btc->reduce_only);
    assert_int_equal(strncmp(btc->intent_id, "brk-", 4), 0);
    assert_string_not_equal(btc->intent_id, eth->intent_id);
    assert_string_not_equal(btc->cl_ord_id, eth->cl_ord_id);
    for (const char *p = btc->cl_ord_id; *p; p++) {
        assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'));
    }
    assert_true(strlen(btc->cl_ord_id) <= 31);
    char btc_id[AT_ID_LEN];
    snprintf(btc_id, sizeof(btc_id), "%s", btc->intent_id);
    /* the closes pass the breaker's own check */
    assert_int_equal(mk_check(&in, btc).verdict, AT_VERDICT_APPROVE);
    /* more balances and updates of the same positions close nothing again */
    mk_balance(A, "8900");
    mk_position(A, "BTC-USDT-SWAP", AT_POS_LONG, "3", false);
    assert_int_equal(count_intents(), 2);
    /* a position that opens while tripped (an order from before) is closed too */
    mk_position(A, "DOGE-USDT-SWAP", AT_POS_LONG, "7", false);
    assert_int_equal(count_intents(), 3);
    assert_non_null(intent_for("DOGE-USDT-SWAP", AT_POS_LONG));
    /* a failed close is an ALERT */
    at_ev_order_result r;
    memset(&r, 0, sizeof(r));
    r.h.type = AT_EV_ORDER_RESULT;
    snprintf(r.intent_id, sizeof(r.intent_id), "%s", btc_id);
    snprintf(r.account, sizeof(r.account), A);
    snprintf(r.code, sizeof(r.code), "51023");
    r.msg = "Position does not exist";
    mock_deliver(&r.h);
    assert_int_equal(mock_alerts("flatten: brk-"), 1);
    /* after a restart the same position gets the same id: a duplicate, never a second close */
    mock_free_inst(&in);
    MH.now_us += 60 * 1000000LL; /* a minute later */
    mock_clear();
    assert_int_equal(mock_start(&in, "max_daily_loss_pct = 5\nflatten = true"), AT_OK);
    mock_flush();
    mk_position(A, "BTC-USDT-SWAP", AT_POS_LONG, "3", false);
    assert_int_equal(count_intents(), 1);
    assert_string_equal(intent_for("BTC-USDT-SWAP", AT_POS_LONG)->intent_id, btc_id);
    mock_free_inst(&in);
}

static void unusable_equity_changes_nothing(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nmax_drawdown_pct = 10");
    mk_balance(A, "0"); /* first value unusable: no day start from it */
    mk_balance(A, "10000");
    mk_balance(A, "0");
    mk_balance(A, "-50");
    mk_balance_dec(A, (at_dec){5, 40}); /* malformed */
    approved(&in, A, "alpha");
    assert_int_equal(mock_alerts("tripped"), 0);
    assert_int_equal(mock_logged("total equity 0 is not usable"), 2); /* once per episode */
    assert_int_equal(mock_logged("not usable"), 2);
    assert_int_equal(mock_logged("usable equity again (10000) after 1 unusable value"), 1);
    mk_balance(A, "9500");
    rejected(&in, A, "daily_loss"); /* the day started at 10000, not at 0 */
    mk_balance(A, "0");             /* unusable values reset nothing either */
    mk_balance(A, "-1");
    rejected(&in, A, "daily_loss");
    mock_free_inst(&in);
}

/* While tripped: what an intent is, by the rule exchange_okx applies. In
 * hedge mode OKX ignores reduceOnly, so a reduce-only buy of the long opens
 * one; a size amend may grow a resting entry the breaker does not follow. */
static void tripped_refuses_what_opens_whatever_reduce_only_says(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_daily_loss_pct = 5\nmax_drawdown_pct = 0");
    mk_balance(A, "10000");
    mk_balance(A, "9500");
    rejected(&in, A, "daily_loss");
    static const struct {
        at_intent_op op;
        at_side side;
        at_pos_side ps;
        bool reduce_only;
        int64_t sz;
        bool entry;
    } cases[] = {
        {AT_INTENT_PLACE, AT_SIDE_BUY, AT_POS_LONG, true, 1, true},
        {AT_INTENT_PLACE, AT_SIDE_SELL, AT_POS_SHORT, true, 1, true},
        {AT_INTENT_PLACE, AT_SIDE_SELL, AT_POS_LONG, false, 1, false},
        {AT_INTENT_PLACE, AT_SIDE_BUY, AT_POS_SHORT, false, 1, false},
        {AT_INTENT_PLACE, AT_SIDE_SELL, AT_POS_NET, false, 1, true},
        {AT_INTENT_PLACE, AT_SIDE_SELL, AT_POS_NET, true, 1, false},
        {AT_INTENT_AMEND, AT_SIDE_NONE, AT_POS_NET, true, 5, true},
        {AT_INTENT_AMEND, AT_SIDE_NONE, AT_POS_NET, false, 0, false},
        {AT_INTENT_CLOSE_POSITION, AT_SIDE_BUY, AT_POS_LONG, false, 0, false},
        {AT_INTENT_CANCEL, AT_SIDE_BUY, AT_POS_LONG, false, 0, false},
        {AT_INTENT_CANCEL_ALGO, AT_SIDE_BUY, AT_POS_LONG, false, 0, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        at_ev_order_intent it = mk_intent(cases[i].op, A, "alpha", false);
        it.side = cases[i].side;
        it.pos_side = cases[i].ps;
        it.reduce_only = cases[i].reduce_only;
        it.sz = (at_dec){cases[i].sz, 0};
        at_risk_answer a = mk_check(&in, &it);
        if ((a.verdict == AT_VERDICT_REJECT) != cases[i].entry) {
            fail_msg("case %zu: want %s, got %d '%s': %s", i,
                     cases[i].entry ? "a reject" : "approve", a.verdict, a.rule, a.reason);
        }
    }
    mock_free_inst(&in);
}

static void restart_keeps_trip_peak_and_day_start(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    const char *cfg = "max_daily_loss_pct = 5\nmax_drawdown_pct = 10";
    start(&in, cfg);
    mk_balance(A, "10000"); /* the day's start */
    mk_balance(A, "11000"); /* the peak: 10 % below is 9900 */
    mk_balance(A, "10400");
    mock_free_inst(&in); /* stop stores the last values */
    assert_true(mock_rows("") >= 2);

    /* 1. entries wait while the stored state is read */
    mock_clear();
    assert_int_equal(mock_start(&in, cfg), AT_OK);
    rejected(&in, A, "starting");
    at_ev_order_intent close = mk_intent(AT_INTENT_CLOSE_POSITION, A, "alpha", false);
    assert_int_equal(mk_check(&in, &close).verdict, AT_VERDICT_APPROVE);
    mock_flush();
    approved(&in, A, "alpha");
    assert_int_equal(mock_logged("restored " A ": the day's start 10000, the peak 11000"), 1);
    /* 2. the peak survived: 9900 is 10 % below it (a fresh peak would be 10400 or 9900) */
    mk_balance(A, "9950"); /* 0.5 % daily loss, 9.5 % drawdown */
    approved(&in, A, "alpha");
    mk_balance(A, "9900");
    rejected(&in, A, "drawdown");
    mock_free_inst(&in);

    /* 3. the trip survived: refused before any balance comes */
    mock_clear();
    start(&in, cfg);
    at_risk_answer a = rejected(&in, A, "drawdown");
    contains(a.reason, "below the peak 11000");
    assert_int_equal(mock_alerts("restored: breaker still tripped (drawdown)"), 1);
    mock_free_inst(&in);
}

static void restart_keeps_the_days_start(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    const char *cfg = "max_daily_loss_pct = 5\nmax_drawdown_pct = 0";
    start(&in, cfg);
    mk_balance(A, "10000");
    mk_balance(A, "9700");
    mock_free_inst(&in);
    mock_clear();
    start(&in, cfg);
    mk_balance(A, "9500"); /* 5 % below the stored day's start; 2 % below the last equity */
    rejected(&in, A, "daily_loss");
    mock_free_inst(&in);

    /* a restart on a later day starts that day at the last equity stored */
    mock_reset();
    start(&in, cfg);
    mk_balance(A, "10000");
    mk_balance(A, "9800");
    mock_free_inst(&in);
    MH.now_us += 20 * HOUR_MS * 1000; /* 06:00 the next day, engine down meanwhile */
    mock_clear();
    start(&in, cfg);
    assert_int_equal(mock_logged("a new UTC day starts at equity 9800"), 1);
    mk_balance(A, "9400"); /* 4.1 % below 9800 */
    approved(&in, A, "alpha");
    mock_free_inst(&in);
}

static void a_passed_trip_ends_at_restart(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    const char *cfg = "max_daily_loss_pct = 5\nmax_drawdown_pct = 0\nuntil = cooldown\n"
                      "cooldown = 1h";
    start(&in, cfg);
    mk_balance(A, "10000");
    mk_balance(A, "9000");
    rejected(&in, A, "daily_loss");
    mock_free_inst(&in);
    MH.now_us += 2 * HOUR_MS * 1000;
    mock_clear();
    start(&in, cfg);
    assert_int_equal(mock_alerts("breaker reset (daily_loss)"), 1);
    approved(&in, A, "alpha");
    mock_free_inst(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(daily_loss_at_the_boundary),
        cmocka_unit_test(drawdown_from_peak),
        cmocka_unit_test(reset_after_cooldown),
        cmocka_unit_test(reset_at_the_next_utc_day),
        cmocka_unit_test(day_starts_at_midnight_equity),
        cmocka_unit_test(flatten_closes_each_open_position_once),
        cmocka_unit_test(unusable_equity_changes_nothing),
        cmocka_unit_test(tripped_refuses_what_opens_whatever_reduce_only_says),
        cmocka_unit_test(restart_keeps_trip_peak_and_day_start),
        cmocka_unit_test(restart_keeps_the_days_start),
        cmocka_unit_test(a_passed_trip_ends_at_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

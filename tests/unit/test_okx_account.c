/* exchange_okx's account and positions pushes (WebSocket, and the paper
 * venue's in-process ones) with values that cannot be used: "NaN", "",
 * missing, "abc", "1e999". Such an item is refused and logged (the field and
 * the raw value), never published or stored as 0 (a zero equity is a 100 %
 * drawdown to a risk breaker, a zero pos a flat position): the last good
 * BALANCE / POSITION and rows stay. Values OKX leaves "" in some account
 * modes or for a closed position are still taken. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "okx_mock.h"
#include "okx_plugin.h"

static okx_ctx C;

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    C.name = "exchange.okx_test";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_reset();
    return 0;
}

static void push(const char *channel, const char *item)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "{\"arg\":{\"channel\":\"%s\",\"uid\":\"1\"},\"data\":[%s]}",
             channel, item);
    okx_account_on_private(&C, buf, strlen(buf));
}

/* An account push: `top` holds the account-level fields (totalEq …, or
 * not), `detail` the USDT detail's. */
static void account(const char *top, const char *detail)
{
    char item[2048];
    snprintf(item, sizeof(item), "{%s\"uTime\":\"1700000000000\",\"details\":[{%s}]}", top, detail);
    push("account", item);
}

#define GOOD_TOP "\"totalEq\":\"1234.5\",\"availEq\":\"\",\"upl\":\"\","
#define GOOD_DETAIL                                                                                \
    "\"ccy\":\"USDT\",\"eq\":\"1000\",\"availEq\":\"900\",\"availBal\":\"950\",\"upl\":\"-1.5\""

static at_dec dec(const char *s)
{
    at_dec d;
    assert_int_equal(C.h->dec_parse(s, (size_t)-1, &d), AT_OK);
    return d;
}

static void assert_dec(at_dec got, const char *want)
{
    if (C.h->dec_cmp(got, dec(want)) != 0) {
        char s[AT_DEC_STRLEN];
        C.h->dec_format(got, s);
        fail_msg("got %s, want %s", s, want);
    }
}

static void assert_warned(const char *needle)
{
    if (mock_logged(AT_LOG_WARN, needle) == 0) {
        mock_print_logs();
        fail_msg("no warning containing: %s", needle);
    }
}

/* A good push, then one whose totalEq is `bad_top`: the good BALANCE is
 * all there is, and the warning names the value. */
static void refused_total(const char *bad_top, const char *warning)
{
    account(GOOD_TOP, GOOD_DETAIL);
    assert_int_equal(mock_count(AT_EV_BALANCE), 1);
    assert_int_equal(mock_writes("INSERT INTO equity_snapshots"), 0);
    account(bad_top, GOOD_DETAIL);
    assert_int_equal(mock_count(AT_EV_BALANCE), 1);
    assert_int_equal(mock_writes("INSERT INTO equity_snapshots"), 0);
    const at_ev_balance *b = (const at_ev_balance *)mock_event(AT_EV_BALANCE, 0);
    assert_dec(b->total_eq, "1234.5");
    assert_warned(warning);
}

static void test_good_account_push(void **state)
{
    (void)state;
    account(GOOD_TOP, GOOD_DETAIL);
    assert_int_equal(mock_count(AT_EV_BALANCE), 1);
    const at_ev_balance *b = (const at_ev_balance *)mock_event(AT_EV_BALANCE, 0);
    assert_string_equal(b->ccy, "USDT");
    assert_dec(b->total_eq, "1234.5");
    assert_dec(b->eq, "1000");
    assert_dec(b->avail, "900");
    assert_dec(b->upl, "-1.5");
    /* the equity curve is core.equity's, from BALANCE: no second writer */
    assert_int_equal(mock_writes("INSERT INTO equity_snapshots"), 0);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

static void test_total_eq_nan(void **state)
{
    (void)state;
    refused_total("\"totalEq\":\"NaN\",", "account push refused: totalEq = \"NaN\"");
}

static void test_total_eq_empty(void **state)
{
    (void)state;
    refused_total("\"totalEq\":\"\",", "account push refused: totalEq = \"\"");
}

static void test_total_eq_missing(void **state)
{
    (void)state;
    refused_total("", "account push refused: totalEq is missing");
}

static void test_total_eq_abc(void **state)
{
    (void)state;
    refused_total("\"totalEq\":\"abc\",", "account push refused: totalEq = \"abc\"");
}

static void test_total_eq_out_of_range(void **state)
{
    (void)state;
    refused_total("\"totalEq\":\"1e999\",", "account push refused: totalEq = \"1e999\"");
}

static void test_total_eq_not_a_string(void **state)
{
    (void)state;
    refused_total("\"totalEq\":null,", "account push refused: totalEq = null");
}

/* OKX's reference does not rule a negative equity out (losses beyond the
 * margin): it is a real value and goes through as it is. */
static void test_total_eq_negative_is_a_value(void **state)
{
    (void)state;
    account("\"totalEq\":\"-12.5\",", GOOD_DETAIL);
    assert_int_equal(mock_count(AT_EV_BALANCE), 1);
    assert_dec(((const at_ev_balance *)mock_event(AT_EV_BALANCE, 0))->total_eq, "-12.5");
    assert_int_equal(mock_writes("INSERT INTO equity_snapshots"), 0);
}

/* The account's availEq and upl are "" in some account modes (stored as
 * NULL), but a value that is there must be a number. */
static void test_account_level_optional_values(void **state)
{
    (void)state;
    account("\"totalEq\":\"10\",", GOOD_DETAIL); /* both absent */
    assert_int_equal(mock_count(AT_EV_BALANCE), 1);
    account("\"totalEq\":\"10\",\"availEq\":\"9\",\"upl\":\"NaN\",", GOOD_DETAIL);
    assert_int_equal(mock_count(AT_EV_BALANCE), 1);
    assert_int_equal(mock_writes("INSERT INTO equity_snapshots"), 0);
    assert_warned("account push refused: upl = \"NaN\"");
}

/* A currency's bad value refuses that currency's BALANCE only. */
static void test_detail_values(void **state)
{
    (void)state;
    static const struct {
        const char *detail, *warning;
    } cases[] = {
        {"\"ccy\":\"USDT\",\"eq\":\"NaN\",\"availEq\":\"9\",\"upl\":\"0\"",
         "account push (USDT) refused: eq = \"NaN\""},
        {"\"ccy\":\"USDT\",\"eq\":\"10\",\"availEq\":\"abc\",\"availBal\":\"9\",\"upl\":\"0\"",
         "account push (USDT) refused: availEq = \"abc\""},
        {"\"ccy\":\"USDT\",\"eq\":\"10\",\"availEq\":\"\",\"upl\":\"0\"",
         "account push (USDT) refused: availBal is missing"},
        {"\"ccy\":\"USDT\",\"eq\":\"10\",\"availEq\":\"9\",\"upl\":\"\"",
         "account push (USDT) refused: upl = \"\""},
        {"\"ccy\":\"USDT\",\"availEq\":\"9\",\"upl\":\"0\"",
         "account push (USDT) refused: eq is missing"},
        {"\"ccy\":\"USDT\",\"eq\":\"1e999\",\"availEq\":\"9\",\"upl\":\"0\"",
         "account push (USDT) refused: eq = \"1e999\""},
        {"\"eq\":\"10\",\"availEq\":\"9\",\"upl\":\"0\"", "account push (details) refused: ccy"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mock_clear();
        M.now_us += 61 * 1000000LL; /* past the warnings' rate limit */
        account(GOOD_TOP, cases[i].detail);
        assert_int_equal(mock_count(AT_EV_BALANCE), 0);
        assert_int_equal(mock_writes("INSERT INTO equity_snapshots"), 0);
        assert_warned(cases[i].warning);
    }
}

/* availBal stands in where the account mode has no availEq (""), not for
 * an availEq of 0. */
static void test_avail_falls_back_only_when_empty(void **state)
{
    (void)state;
    account(GOOD_TOP, "\"ccy\":\"USDT\",\"eq\":\"10\",\"availEq\":\"\",\"availBal\":\"950\","
                      "\"upl\":\"0\"");
    account(GOOD_TOP, "\"ccy\":\"USDT\",\"eq\":\"10\",\"availEq\":\"0\",\"availBal\":\"950\","
                      "\"upl\":\"0\"");
    assert_int_equal(mock_count(AT_EV_BALANCE), 2);
    assert_dec(((const at_ev_balance *)mock_event(AT_EV_BALANCE, 0))->avail, "950");
    assert_dec(((const at_ev_balance *)mock_event(AT_EV_BALANCE, 1))->avail, "0");
}

/* ------------------------------------------------------------ positions */

#define POS_FMT                                                                                    \
    "{\"instId\":\"BTC-USDT-SWAP\",\"posSide\":\"net\",\"posId\":\"1\",\"mgnMode\":\"%s\","        \
    "%s\"avgPx\":\"%s\",\"upl\":\"%s\",\"lever\":\"10\",\"liqPx\":\"%s\",\"imr\":\"%s\","          \
    "\"margin\":\"%s\",\"realizedPnl\":\"-0.2\",\"uTime\":\"1700000000000\"}"

static void position(const char *mgn, const char *pos_field, const char *avg, const char *upl,
                     const char *liq, const char *imr, const char *margin)
{
    char item[1024];
    snprintf(item, sizeof(item), POS_FMT, mgn, pos_field, avg, upl, liq, imr, margin);
    push("positions", item);
}

static void good_position(void)
{
    position("cross", "\"pos\":\"2\",", "50000.1", "3.5", "40000", "100", "");
}

static void test_good_position(void **state)
{
    (void)state;
    good_position();
    assert_int_equal(mock_count(AT_EV_POSITION), 1);
    const at_ev_position *p = (const at_ev_position *)mock_event(AT_EV_POSITION, 0);
    assert_dec(p->pos, "2");
    assert_dec(p->avg_px, "50000.1");
    assert_dec(p->upl, "3.5");
    assert_dec(p->margin, "100");
    assert_dec(p->liq_px, "40000");
    assert_dec(p->realized_pnl, "-0.2");
    assert_int_equal(mock_writes("INSERT INTO positions"), 1);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

static void refused_position(void (*bad)(void), const char *warning)
{
    good_position();
    bad();
    assert_int_equal(mock_count(AT_EV_POSITION), 1);
    assert_int_equal(mock_writes("INSERT INTO positions"), 1);
    assert_dec(((const at_ev_position *)mock_event(AT_EV_POSITION, 0))->pos, "2");
    assert_warned(warning);
}

static void pos_nan(void)
{
    position("cross", "\"pos\":\"NaN\",", "50000.1", "3.5", "", "100", "");
}
static void pos_empty(void)
{
    position("cross", "\"pos\":\"\",", "50000.1", "3.5", "", "100", "");
}
static void pos_missing(void)
{
    position("cross", "", "50000.1", "3.5", "", "100", "");
}
static void pos_huge(void)
{
    position("cross", "\"pos\":\"1e999\",", "50000.1", "3.5", "", "100", "");
}
static void upl_nan(void)
{
    position("cross", "\"pos\":\"2\",", "50000.1", "NaN", "", "100", "");
}
static void imr_empty(void)
{
    position("cross", "\"pos\":\"2\",", "50000.1", "3.5", "", "", "");
}
static void margin_abc(void)
{
    position("isolated", "\"pos\":\"2\",", "50000.1", "3.5", "", "", "abc");
}
static void avg_empty(void)
{
    position("cross", "\"pos\":\"2\",", "", "3.5", "", "100", "");
}
static void liq_abc(void)
{
    position("cross", "\"pos\":\"2\",", "50000.1", "3.5", "abc", "100", "");
}
static void mgn_mode_empty(void)
{
    position("", "\"pos\":\"2\",", "50000.1", "3.5", "", "100", "");
}

static void test_position_pos_nan(void **state)
{
    (void)state;
    refused_position(pos_nan, "positions push (BTC-USDT-SWAP net) refused: pos = \"NaN\"");
}

static void test_position_pos_empty(void **state)
{
    (void)state;
    refused_position(pos_empty, "refused: pos = \"\"");
}

static void test_position_pos_missing(void **state)
{
    (void)state;
    refused_position(pos_missing, "refused: pos is missing");
}

static void test_position_pos_out_of_range(void **state)
{
    (void)state;
    refused_position(pos_huge, "refused: pos = \"1e999\"");
}

static void test_open_position_values(void **state)
{
    (void)state;
    static const struct {
        void (*bad)(void);
        const char *warning;
    } cases[] = {
        {upl_nan, "refused: upl = \"NaN\""},       {imr_empty, "refused: imr = \"\""},
        {margin_abc, "refused: margin = \"abc\""}, {avg_empty, "refused: avgPx = \"\""},
        {liq_abc, "refused: liqPx = \"abc\""},     {mgn_mode_empty, "refused: mgnMode = \"\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mock_clear();
        M.now_us += 61 * 1000000LL; /* past the warnings' rate limit */
        refused_position(cases[i].bad, cases[i].warning);
    }
}

/* liqPx "" is "no liquidation price" (0 in the event, as events.h says). */
static void test_liq_px_empty_is_none(void **state)
{
    (void)state;
    position("cross", "\"pos\":\"2\",", "50000.1", "3.5", "", "100", "");
    assert_int_equal(mock_count(AT_EV_POSITION), 1);
    assert_int_equal(((const at_ev_position *)mock_event(AT_EV_POSITION, 0))->liq_px.m, 0);
}

/* A closed position is pushed once with pos "0" and the rest possibly "". */
static void test_closed_position_may_be_empty(void **state)
{
    (void)state;
    position("", "\"pos\":\"0\",", "", "", "", "", "");
    assert_int_equal(mock_count(AT_EV_POSITION), 1);
    assert_int_equal(((const at_ev_position *)mock_event(AT_EV_POSITION, 0))->pos.m, 0);
    assert_int_equal(mock_writes("INSERT INTO positions"), 1);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

/* A cross position under portfolio margin has lever "" (OKX: "Not
 * applicable to ... positions of cross margin mode under Portfolio
 * margin"): taken, with lever 0 = unknown; a lever that is there must still
 * be a decimal. */
#define PM_POS(lever)                                                                              \
    "{\"instId\":\"BTC-USDT-SWAP\",\"posSide\":\"net\",\"posId\":\"1\",\"mgnMode\":\"cross\","     \
    "\"pos\":\"2\",\"avgPx\":\"50000.1\",\"upl\":\"3.5\"," lever "\"liqPx\":\"\",\"imr\":\"100\"," \
    "\"margin\":\"\",\"realizedPnl\":\"0\",\"uTime\":\"1700000000000\"}"

static void test_lever_empty_is_unknown(void **state)
{
    (void)state;
    push("positions", PM_POS("\"lever\":\"\","));
    assert_int_equal(mock_count(AT_EV_POSITION), 1);
    const at_ev_position *p = (const at_ev_position *)mock_event(AT_EV_POSITION, 0);
    assert_int_equal(p->lever.m, 0);
    assert_dec(p->pos, "2");
    assert_int_equal(mock_writes("INSERT INTO positions"), 1);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
    static const struct {
        const char *lever, *warning;
    } bad[] = {
        {"\"lever\":\"NaN\",", "refused: lever = \"NaN\""},
        {"\"lever\":\"abc\",", "refused: lever = \"abc\""},
        {"", "refused: lever is missing"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mock_clear();
        M.now_us += 61 * 1000000LL;
        char item[1024];
        snprintf(item, sizeof(item), PM_POS("%s"), bad[i].lever);
        push("positions", item);
        assert_int_equal(mock_count(AT_EV_POSITION), 0);
        assert_warned(bad[i].warning);
    }
}

/* ------------------------------------------------------------ the rest */

/* The paper venue hands its pushes to the same code (paper_deliver). */
static void test_paper_venue_path(void **state)
{
    (void)state;
    C.paper = true;
    refused_total("\"totalEq\":\"NaN\",", "account push refused: totalEq = \"NaN\"");
    mock_clear();
    refused_position(pos_nan, "refused: pos = \"NaN\"");
}

/* A venue that sends a bad value sends it with every push: a few lines a
 * minute, and the next line says how many were not written. */
static void test_warnings_are_rate_limited(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        account("\"totalEq\":\"NaN\",", GOOD_DETAIL);
    }
    size_t lines = mock_logged(AT_LOG_WARN, "totalEq = \"NaN\"");
    assert_true(lines >= 1 && lines <= 5);
    assert_int_equal(mock_count(AT_EV_BALANCE), 0);
    M.now_us += 61 * 1000000LL;
    account("\"totalEq\":\"NaN\",", GOOD_DETAIL);
    char want[64];
    snprintf(want, sizeof(want), "(%zu similar warnings", 20 - lines);
    assert_warned(want);
}

/* Order and fill refusals have a budget of their own: a position feed
 * that sends garbage with every push cannot hide them. */
static void test_order_refusals_have_their_own_budget(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        position("cross", "\"pos\":\"2\",", "50000.1", "NaN", "", "100", "");
    }
    assert_true(mock_logged(AT_LOG_WARN, "upl = \"NaN\"") <= 5);
    push("orders",
         "{\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\",\"px\":\"1\","
         "\"sz\":\"2\",\"ordType\":\"limit\",\"side\":\"buy\",\"accFillSz\":\"1\","
         "\"fillPx\":\"NaN\",\"tradeId\":\"t1\",\"fillSz\":\"1\",\"fillFee\":\"0\","
         "\"avgPx\":\"1\",\"state\":\"partially_filled\",\"fee\":\"0\"}");
    assert_warned("order push (BTC-USDT-SWAP 1001) refused: fillPx = \"NaN\"");
}

static void test_unreadable_push_is_logged(void **state)
{
    (void)state;
    const char *bad = "{\"arg\":{\"channel\":\"account\"},\"data\":[{\"totalEq\":";
    okx_account_on_private(&C, bad, strlen(bad));
    assert_int_equal(mock_count(AT_EV_BALANCE), 0);
    assert_warned("private push not read");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_account_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_nan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_abc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_not_a_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_eq_negative_is_a_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_level_optional_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detail_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_falls_back_only_when_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_position_pos_nan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_position_pos_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_position_pos_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_position_pos_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_position_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_liq_px_empty_is_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_position_may_be_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lever_empty_is_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paper_venue_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warnings_are_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_refusals_have_their_own_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_push_is_logged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

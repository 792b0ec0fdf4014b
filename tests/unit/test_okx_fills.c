/* exchange_okx's order and fill pushes (private WebSocket "orders", the
 * paper venue's in-process ones) and the REST answers that catch up with them
 * (trade/order, trade/fills) with values that cannot be used: "NaN", "",
 * missing, "abc", "1e999", a negative size, a zero price. Such an item is
 * refused whole and logged with the field and the raw value, never published
 * or stored as 0 (a fill of size 0 or price 0, a filled order with accFillSz
 * 0 is wrong money). What OKX really sends stays accepted: px "" for a market
 * order, avgPx "" before a fill, fillPx "" and fillSz "0" or "" on a push
 * without a fill.
 *
 * Nothing is lost with it: a refused push writes no fills row (the only
 * record that a fill was seen), and its order is asked about at OKX a moment
 * later (trade/order, trade/fills), so the fill is recorded from there, or
 * by the resync when the private feed comes back. */
#include "okx_push_fixture.h"

static int setup(void **state)
{
    (void)state;
    return fx_setup();
}

static int teardown(void **state)
{
    (void)state;
    fx_teardown();
    return 0;
}

/* ------------------------------------------------------------ what OKX sends */

static void test_fill_push(void **state)
{
    (void)state;
    push(ORDER);
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    const at_ev_order *o = (const at_ev_order *)mock_event(AT_EV_ORDER, 0);
    assert_string_equal(o->ord_id, "1001");
    assert_int_equal(o->state, AT_ORD_PARTIALLY_FILLED);
    assert_dec(o->px, "50000.1");
    assert_dec(o->sz, "2");
    assert_dec(o->acc_fill_sz, "1.5");
    assert_dec(o->avg_px, "50000.1");
    assert_dec(o->fee, "-0.0375");
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    const at_ev_fill *f = fill_event(0);
    assert_string_equal(f->trade_id, "t1");
    assert_dec(f->px, "50000.1");
    assert_dec(f->sz, "1.5");
    assert_dec(f->fee, "-0.0375");
    assert_true(f->maker);
    assert_int_equal(mock_writes("UPDATE orders"), 1);
    assert_int_equal(mock_writes("INSERT INTO fills"), 1);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
    mock_run();
    assert_int_equal(order_gets, 0); /* nothing to ask */
}

/* Pushes without a fill: px "" (market), avgPx "" (nothing filled), fillPx
 * "", fillSz "0" or "", tradeId "" or kept from the last fill with fillSz
 * "0", fee "" before a fill; a state-only item (tradeId absent, as the
 * resync and the paper venue's catch-up send) with a last fill in it. */
static void test_pushes_without_a_fill(void **state)
{
    (void)state;
    /* each its own order: a state already applied is not published again */
    char *items[] = {
        strdup(MARKET_LIVE),
        order_with(MARKET_LIVE, "ordId", "\"3001\"", "fillSz", "\"\"", NULL),
        order_with(MARKET_LIVE, "ordId", "\"3002\"", "tradeId", "\"t0\"", "fillPx", "\"\"", NULL),
        order_with(MARKET_LIVE, "ordId", "\"3003\"", "fee", "\"\"", "fillFee", "\"\"", "state",
                   "\"canceled\"", NULL),
        order_with(MARKET_LIVE, "ordId", "\"3004\"", "px", NULL, NULL),
        order_with(ORDER, "tradeId", NULL, NULL),
        order_with(ORDER, "ordId", "\"3005\"", "tradeId", "\"\"", "fillPx", "\"NaN\"",
                   NULL), /* not read */
    };
    size_t n = sizeof(items) / sizeof(items[0]);
    for (size_t i = 0; i < n; i++) {
        push(items[i]);
        free(items[i]);
    }
    assert_int_equal(mock_count(AT_EV_ORDER), n);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
    assert_int_equal(mock_writes("INSERT INTO fills"), 0);
    const at_ev_order *o = (const at_ev_order *)mock_event(AT_EV_ORDER, 0);
    assert_int_equal(o->ord_type, AT_ORDT_MARKET);
    assert_int_equal(o->px.m, 0);
    assert_int_equal(o->avg_px.m, 0);
    assert_int_equal(o->acc_fill_sz.m, 0);
    assert_dec(o->sz, "3");
    if (mock_logged(AT_LOG_WARN, "") != 0) {
        mock_print_logs();
        fail_msg("a valid push was warned about");
    }
}

/* A filled market order: px stays "", the rest are values. A rebate is a
 * positive fee. */
static void test_market_fill(void **state)
{
    (void)state;
    char *s = order_with(MARKET_LIVE, "accFillSz", "\"3\"", "avgPx", "\"49999.9\"", "state",
                         "\"filled\"", "tradeId", "\"t9\"", "fillSz", "\"3\"", "fillPx",
                         "\"49999.9\"", "fillFee", "\"0.01\"", "fee", "\"0.01\"", NULL);
    push(s);
    free(s);
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_dec(fill_event(0)->px, "49999.9");
    assert_dec(fill_event(0)->fee, "0.01");
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

/* ------------------------------------------------------------ refused */

static const struct {
    const char *key, *value, *warning;
} BAD[] = {
    {"fillSz", "\"NaN\"", "refused: fillSz = \"NaN\""},
    {"fillSz", "\"abc\"", "refused: fillSz = \"abc\""},
    {"fillSz", "\"1e999\"", "refused: fillSz = \"1e999\""},
    {"fillSz", NULL, "refused: fillSz is missing"},
    {"fillSz", "\"-1.5\"", "refused: fillSz = \"-1.5\""},
    {"fillSz", "1.5", "refused: fillSz = 1.5"},
    {"fillPx", "\"\"", "refused: fillPx = \"\""},
    {"fillPx", "\"0\"", "refused: fillPx = \"0\""},
    {"fillPx", "\"NaN\"", "refused: fillPx = \"NaN\""},
    {"fillPx", NULL, "refused: fillPx is missing"},
    {"fillFee", "\"\"", "refused: fillFee = \"\""},
    {"fillFee", "\"abc\"", "refused: fillFee = \"abc\""},
    {"accFillSz", "\"\"", "refused: accFillSz = \"\""},
    {"accFillSz", "\"NaN\"", "refused: accFillSz = \"NaN\""},
    {"accFillSz", NULL, "refused: accFillSz is missing"},
    {"accFillSz", "\"-1\"", "refused: accFillSz = \"-1\""},
    {"accFillSz", "\"0\"", "refused: accFillSz (state partially_filled) = \"0\""},
    {"avgPx", "\"\"", "refused: avgPx = \"\""},
    {"avgPx", "\"abc\"", "refused: avgPx = \"abc\""},
    {"avgPx", "\"0\"", "refused: avgPx = \"0\""},
    {"sz", "\"\"", "refused: sz = \"\""},
    {"sz", "\"0\"", "refused: sz = \"0\""},
    {"sz", "\"1e999\"", "refused: sz = \"1e999\""},
    {"px", "\"\"", "refused: px = \"\""}, /* a limit order */
    {"px", "\"NaN\"", "refused: px = \"NaN\""},
    {"fee", "\"\"", "refused: fee = \"\""},
    {"fee", "\"NaN\"", "refused: fee = \"NaN\""},
};

/* Each bad value refuses the whole push: no ORDER, no FILL, no row; the
 * warning names the order, the field and the raw value. Every case is
 * tried and each one that fails is named. */
static void test_bad_values_are_refused(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        mock_clear();
        M.now_us += 61 * 1000000LL; /* past the warnings' rate limit */
        char *s = order_with(ORDER, BAD[i].key, BAD[i].value, NULL);
        push(s);
        free(s);
        const char *v = BAD[i].value ? BAD[i].value : "(missing)";
        if (mock_count(AT_EV_ORDER) + mock_count(AT_EV_FILL) + mock_writes("UPDATE orders") +
                mock_writes("INSERT INTO fills") !=
            0) {
            print_message("%s = %s: used (%zu ORDER, %zu FILL)\n", BAD[i].key, v,
                          mock_count(AT_EV_ORDER), mock_count(AT_EV_FILL));
            failed++;
        } else if (mock_logged(AT_LOG_WARN, "order push (BTC-USDT-SWAP 1001) refused") == 0 ||
                   mock_logged(AT_LOG_WARN, BAD[i].warning) == 0) {
            print_message("%s = %s: no warning containing %s\n", BAD[i].key, v, BAD[i].warning);
            mock_print_logs();
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* A market order claimed "filled" with nothing filled, and orders that name
 * no order. */
static void test_inconsistent_or_anonymous_orders(void **state)
{
    (void)state;
    char *s = order_with(MARKET_LIVE, "state", "\"filled\"", NULL);
    push(s);
    free(s);
    assert_nothing_used();
    assert_logged(AT_LOG_WARN, "refused: accFillSz (state filled) = \"0\"");
    M.now_us += 61 * 1000000LL;
    s = order_with(ORDER, "ordId", "\"\"", NULL);
    push(s);
    free(s);
    assert_nothing_used();
    assert_logged(AT_LOG_WARN, "refused: ordId = \"\"");
    s = order_with(ORDER, "instId", NULL, NULL);
    push(s);
    free(s);
    assert_nothing_used();
    assert_logged(AT_LOG_WARN, "refused: instId is missing");
}

/* ------------------------------------------------------------ nothing lost */

/* The refused fill is asked for at OKX: the order's state through the push
 * path (without the fill its answer repeats) and the fill from trade/fills,
 * with OKX's exact values. */
static void test_refused_fill_is_asked_again(void **state)
{
    (void)state;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    assert_nothing_used();
    assert_logged(AT_LOG_WARN, "OKX is asked for the order and its fills");
    mock_run();
    assert_int_equal(order_gets, 1);
    assert_non_null(strstr(order_query, "instId=BTC-USDT-SWAP"));
    assert_non_null(strstr(order_query, "ordId=1001"));
    assert_int_equal(fills_gets, 1);
    assert_non_null(strstr(fills_query, "ordId=1001"));
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    const at_ev_fill *f = fill_event(0);
    assert_string_equal(f->trade_id, "t1");
    assert_string_equal(f->ord_id, "1001");
    assert_dec(f->px, "50000.1");
    assert_dec(f->sz, "1.5");
    assert_dec(f->fee, "-0.0375");
    assert_string_equal(f->fee_ccy, "USDT");
    assert_int_equal(nstored, 1);
    assert_string_equal(stored_fills(0), "t1");
    assert_int_equal(mock_count(AT_EV_ALERT), 0);
}

/* The refused fill, then the order's last fill in a good push (the order is
 * "filled" here: the resync would not look at it any more). The question
 * still finds the first fill, and records the second only once. */
static void test_refused_fill_then_order_filled(void **state)
{
    (void)state;
    char *bad = order_with(ORDER, "fillSz", "\"abc\"", NULL);
    char *last = order_with(ORDER, "tradeId", "\"t2\"", "fillSz", "\"0.5\"", "accFillSz", "\"2\"",
                            "state", "\"filled\"", NULL);
    push(bad);
    push(last);
    free(bad);
    free(last);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_string_equal(fill_event(0)->trade_id, "t2");
    answer_order(
        "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\","
        "\"px\":\"50000.1\",\"sz\":\"2\",\"ordType\":\"limit\",\"side\":\"buy\",\"posSide\":"
        "\"long\",\"accFillSz\":\"2\",\"fillPx\":\"50000.1\",\"tradeId\":\"t2\",\"fillSz\":\"0.5\","
        "\"fillFee\":\"-0.0125\","
        "\"avgPx\":\"50000.1\",\"state\":\"filled\",\"fee\":\"-0.05\",\"feeCcy\":\"USDT\"}");
    answer_fills(FILL_ROW("t2", "50000.1", "0.5", "-0.0125") "," FILL_ROW("t1", "50000.1", "1.5",
                                                                          "-0.0375"));
    mock_run();
    assert_int_equal(order_gets, 1);
    assert_int_equal(mock_count(AT_EV_FILL), 2);
    const at_ev_fill *f = fill_event(1);
    assert_string_equal(f->trade_id, "t1");
    assert_dec(f->sz, "1.5");
    assert_dec(f->px, "50000.1");
    assert_int_equal(nstored, 2);
    assert_int_equal(mock_writes("INSERT INTO fills"), 2);
    assert_int_equal(mock_count(AT_EV_ALERT), 0);
}

/* Several refused pushes of one order before the question goes: one
 * question. */
static void test_refusals_make_one_question(void **state)
{
    (void)state;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    for (int i = 0; i < 5; i++) {
        push(s);
    }
    free(s);
    mock_run();
    assert_int_equal(order_gets, 1);
    assert_int_equal(fills_gets, 1);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
}

/* OKX cannot be asked (busy, five times): an ALERT says a fill may be
 * missing, and the refused push left the fill unseen and the order open
 * here, so the resync after the private feed comes back records it. */
static void test_refused_fill_found_by_the_resync(void **state)
{
    (void)state;
    venue_busy();
    char *s = order_with(ORDER, "fillFee", "\"NaN\"", NULL);
    push(s);
    free(s);
    mock_run(); /* asked, then again 1, 2, 4 and 8 s later (here: at once) */
    assert_int_equal(order_gets, 5);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
    assert_int_equal(mock_count(AT_EV_ALERT), 1);
    assert_logged(AT_LOG_ERROR, "order BTC-USDT-SWAP 1001: a refused push could not be made good "
                                "(trade/order failed: 50013 Systems are busy)");
    assert_int_equal(nstored, 0);

    mock_clear();
    answer_order(ORDER);
    answer_fills(FILL_ROW("t1", "50000.1", "1.5", "-0.0375"));
    open_order_row("c1", "live");
    okx_trade_resync(&C);
    mock_run();
    assert_int_equal(order_gets, 6);
    assert_non_null(strstr(order_query, "clOrdId=c1"));
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_dec(fill_event(0)->px, "50000.1");
    assert_int_equal(nstored, 1);
    assert_string_equal(stored_fills(0), "t1");
}

/* trade/fills rows are checked the same way: an unusable one is not recorded
 * (warning and ALERT), and stays unseen for the next question. */
static void test_unusable_rest_fill_is_not_recorded(void **state)
{
    (void)state;
    static const struct {
        const char *row, *warning;
    } cases[] = {
        {FILL_ROW("t1", "NaN", "1.5", "-0.0375"), "refused: fillPx = \"NaN\"; not recorded"},
        {FILL_ROW("t1", "50000.1", "0", "-0.0375"), "refused: fillSz = \"0\"; not recorded"},
        {FILL_ROW("t1", "50000.1", "", "-0.0375"), "refused: fillSz = \"\"; not recorded"},
        {FILL_ROW("t1", "50000.1", "1.5", ""), "refused: fillFee = \"\"; not recorded"},
        {FILL_ROW("", "50000.1", "1.5", "-0.0375"), "refused: tradeId = \"\"; not recorded"},
    };
    open_order_row("c1", "live");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mock_clear();
        M.now_us += 61 * 1000000LL;
        answer_fills(cases[i].row);
        okx_trade_resync(&C);
        mock_run();
        assert_int_equal(mock_count(AT_EV_FILL), 0);
        assert_int_equal(nstored, 0);
        assert_logged(AT_LOG_WARN, "fill at OKX (BTC-USDT-SWAP 1001 tradeId ");
        assert_logged(AT_LOG_WARN, cases[i].warning);
        assert_int_equal(mock_count(AT_EV_ALERT), 1);
        assert_logged(AT_LOG_ERROR, "1 value(s) in OKX's answers could not be used");
    }
    mock_clear();
    answer_fills(FILL_ROW("t1", "50000.1", "1.5", "-0.0375"));
    okx_trade_resync(&C);
    mock_run();
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_int_equal(nstored, 1);
}

/* trade/order's answer is checked like a push: unusable, the order's state
 * here is left as it was (ALERT), its fills are still asked for. A market
 * order's answer (px "") is fine. */
static void test_rest_order_answer_checked(void **state)
{
    (void)state;
    open_order_row("c1", "live");
    char *s = order_with(ORDER, "accFillSz", "\"NaN\"", NULL);
    answer_order(s);
    free(s);
    okx_trade_resync(&C);
    mock_run();
    assert_int_equal(mock_count(AT_EV_ORDER), 0);
    assert_int_equal(mock_writes("UPDATE orders"), 0);
    assert_logged(AT_LOG_WARN, "order at OKX (BTC-USDT-SWAP 1001) refused: accFillSz = \"NaN\"; "
                               "its state here is not updated");
    assert_int_equal(mock_count(AT_EV_ALERT), 1);
    assert_int_equal(mock_count(AT_EV_FILL), 1);

    mock_clear();
    nstored = 0;
    s = order_with(MARKET_LIVE, "ordId", "\"1001\"", NULL);
    answer_order(s);
    free(s);
    okx_trade_resync(&C);
    mock_run();
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_count(AT_EV_ALERT), 0);
}

/* A push that names no order: every order open here is asked about. */
static void test_anonymous_refusal_asks_every_open_order(void **state)
{
    (void)state;
    open_order_row("c1", "live");
    char *s = order_with(ORDER, "ordId", NULL, "clOrdId", NULL, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    mock_run();
    assert_logged(AT_LOG_INFO, "asking OKX about open orders");
    assert_int_equal(order_gets, 1);
    assert_non_null(strstr(order_query, "clOrdId=c1"));
    assert_int_equal(mock_count(AT_EV_FILL), 1);
}

/* Questions still waiting when the instance stops are freed, never run
 * (ASan: no leak, no use after free). */
static void test_stop_forgets_waiting_questions(void **state)
{
    (void)state;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    okx_trade_stop(&C);
    assert_int_equal(okx_trade_questions(&C), 0);
    mock_run();
    assert_int_equal(order_gets, 0);
    C.started = false; /* stopping: said, not asked */
    s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    assert_int_equal(okx_trade_questions(&C), 0);
    assert_logged(AT_LOG_WARN, "stopping: not asked about again");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fill_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pushes_without_a_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_market_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inconsistent_or_anonymous_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_fill_is_asked_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_fill_then_order_filled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_make_one_question, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_fill_found_by_the_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_rest_fill_is_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rest_order_answer_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anonymous_refusal_asks_every_open_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_forgets_waiting_questions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* exchange_okx's questions to OKX that catch up with order pushes
 * (okx_push.c): a push refused for an unusable value, and the resync after
 * the private feed comes back, ask trade/order then trade/fills. On a
 * simulated clock (okx_mock.h's mock_advance, a venue answering after
 * 20 ms):
 *   - a storm of refused pushes for many orders asks a bounded number of
 *     questions, never more than a few at once, and an order placed during
 *     the storm goes out at once (its lookup too);
 *   - one order refused again and again is asked with a growing gap;
 *   - no second resync while one runs;
 *   - a fill trade/fills does not list yet (its accFillSz says it exists) is
 *     asked for again (1, 2, 4, 8 s), then an ALERT names the order and the
 *     missing size; trade/fills is read page by page;
 *   - an answer older than what is known never overwrites it, and a
 *     terminal state is never left;
 *   - a fill is published once, whichever way it comes (push, question,
 *     both at once, okx-sim's later pushes that repeat the last fill);
 *   - the "every open order" fallback also asks orders still 'sent' or
 *     'unknown' here. */
#include "okx_push_fixture.h"

static int setup(void **state)
{
    (void)state;
    M.zero_timer_us = 0;
    if (fx_setup() != 0) {
        return -1;
    }
    M.zero_timer_us = 20000; /* the venue answers after 20 ms */
    M.db_latency_us = 1000;  /* storage after 1 ms */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_teardown();
    return 0;
}

/* ------------------------------------------------------------ helpers */

/* Storm order k: ordId 2000+k, clOrdId s<k>; its push with fillPx "NaN". */
static char *storm_push(int k)
{
    char id[32], cl[32];
    snprintf(id, sizeof(id), "\"%d\"", 2000 + k);
    snprintf(cl, sizeof(cl), "\"s%d\"", k);
    return order_with(ORDER, "ordId", id, "clOrdId", cl, "fillPx", "\"NaN\"", NULL);
}

/* trade/order about a storm order: live, nothing filled. */
static char *storm_order_answer(const char *query)
{
    const char *p = strstr(query, "rdId=");
    char id[64] = "?", cl[64] = "?";
    if (p && p > query && p[-1] == 'O') { /* ordId= */
        snprintf(id, sizeof(id), "%.*s", (int)strcspn(p + 5, "&"), p + 5);
        snprintf(cl, sizeof(cl), "s%d", atoi(id) - 2000);
    } else if (p) { /* clOrdId= */
        snprintf(cl, sizeof(cl), "%.*s", (int)strcspn(p + 5, "&"), p + 5);
        snprintf(id, sizeof(id), "%d", 2000 + atoi(cl + 1));
    }
    char *buf = malloc(2048);
    snprintf(buf, 2048,
             "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"instType\":\"SWAP\",\"instId\":"
             "\"BTC-USDT-SWAP\",\"ordId\":\"%s\",\"clOrdId\":\"%s\",\"px\":\"50000.1\",\"sz\":"
             "\"2\",\"ordType\":\"limit\",\"side\":\"buy\",\"posSide\":\"long\",\"accFillSz\":"
             "\"0\",\"fillPx\":\"\",\"tradeId\":\"\",\"fillSz\":\"0\",\"avgPx\":\"\",\"state\":"
             "\"live\",\"fee\":\"0\",\"feeCcy\":\"USDT\",\"uTime\":\"1700000000000\"}]}",
             id, cl);
    return buf;
}

static char *no_fills(const char *query)
{
    (void)query;
    return strdup("{\"code\":\"0\",\"msg\":\"\",\"data\":[]}");
}

/* The most background GETs (questions) sent within any 20 ms (the venue's
 * answer time): how many were in flight at once. */
static int most_in_flight(void)
{
    int most = 0;
    for (int i = 0; i < ncalls; i++) {
        if (strcmp(calls[i].method, "GET") != 0 || strstr(calls[i].query, "clOrdId=lookup")) {
            continue;
        }
        int n = 0;
        for (int k = i; k < ncalls && calls[k].at_us < calls[i].at_us + 20000; k++) {
            n += strcmp(calls[k].method, "GET") == 0 &&
                 (strcmp(calls[k].path, "/api/v5/trade/order") == 0 ||
                  strcmp(calls[k].path, "/api/v5/trade/fills") == 0) &&
                 !strstr(calls[k].query, "clOrdId=lookup");
        }
        most = n > most ? n : most;
    }
    return most;
}

/* ------------------------------------------------------------ storms */

#define STORM 300

/* 300 open orders, each refused again and again for 10 s (a venue sending
 * garbage): a bounded number of questions, at most 4 at once; an order
 * placed in the middle of it goes out at once, and so does its lookup when
 * its answer is lost. */
static void test_refusal_storm_is_bounded_and_orders_go_out(void **state)
{
    (void)state;
    okx_trade_start(&C);
    mock_advance(100);
    for (int k = 0; k < STORM; k++) {
        char cl[16];
        snprintf(cl, sizeof(cl), "s%d", k);
        open_order_row(cl, "live");
    }
    order_hook = storm_order_answer;
    fills_hook = no_fills;
    /* the venue loses the place answer: 503, outcome unknown */
    post_answer = "{\"code\":\"50001\",\"msg\":\"Service temporarily unavailable\",\"data\":[]}";
    post_status = 503;
    int64_t placed_at = 0, start = M.now_us;
    for (int i = 0; i < 1000; i++) { /* one refusal every 10 ms */
        char *s = storm_push(i % STORM);
        push(s);
        free(s);
        if (i == 500) {
            at_ev_order_intent ev;
            memset(&ev, 0, sizeof(ev));
            ev.h.type = AT_EV_ORDER_INTENT;
            ev.h.inst = okx_insts_find(C.insts, "BTC-USDT-SWAP")->id;
            snprintf(ev.intent_id, sizeof(ev.intent_id), "lookup");
            snprintf(ev.account, sizeof(ev.account), "exchange.okx_test");
            ev.op = AT_INTENT_PLACE;
            ev.side = AT_SIDE_BUY;
            ev.ord_type = AT_ORDT_LIMIT;
            ev.sz = dec("1");
            ev.px = dec("50000.1");
            placed_at = M.now_us;
            okx_trade_submit(&C, &ev); /* the executor's call */
        }
        mock_advance(10);
    }
    mock_advance(180000);
    /* the order went out as soon as its row was stored (1 ms) */
    int post = -1, lookup = -1;
    for (int i = 0; i < ncalls; i++) {
        if (post < 0 && strcmp(calls[i].method, "POST") == 0) {
            post = i;
        }
        if (lookup < 0 && strcmp(calls[i].method, "GET") == 0 &&
            strstr(calls[i].query, "clOrdId=lookup")) {
            lookup = i;
        }
    }
    assert_true(post >= 0);
    assert_true(calls[post].at_us - placed_at <= 1000);
    /* its answer (20 ms later) said nothing: looked up 1 s after it, at once */
    assert_true(lookup >= 0);
    assert_true(calls[lookup].at_us - calls[post].at_us <= 1020000 + 1000);
    /* bounded: every order asked a few times over the storm, not once a
     * refusal or once a second */
    int asked = calls_to("GET", "/api/v5/trade/order", NULL) - 1; /* - the lookup */
    print_message("# %d trade/order questions for %d orders, %d refusals over %lld ms; at most "
                  "%d at once\n",
                  asked, STORM, 1000, (long long)(M.now_us - start) / 1000, most_in_flight());
    assert_true(asked <= 3 * STORM);
    assert_true(most_in_flight() <= 4);
}

/* One order refused every 100 ms for a minute: asked with a growing gap
 * (1, 2, 4 … s), not once a second. */
static void test_one_order_refused_again_and_again_backs_off(void **state)
{
    (void)state;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    for (int i = 0; i < 600; i++) {
        push(s);
        mock_advance(100);
    }
    free(s);
    mock_advance(120000);
    int asked = calls_to("GET", "/api/v5/trade/order", "ordId=1001");
    print_message("# order 1001 asked %d times in 60 s of refusals\n", asked);
    assert_true(asked >= 3 && asked <= 8);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
}

/* A resync asked for while one runs (200 orders: ten seconds of
 * questions) waits for it, then runs once. */
static void test_no_second_resync_while_one_runs(void **state)
{
    (void)state;
    for (int k = 0; k < 200; k++) {
        char cl[16];
        snprintf(cl, sizeof(cl), "s%d", k);
        open_order_row(cl, "live");
    }
    order_hook = storm_order_answer;
    fills_hook = no_fills;
    okx_trade_resync(&C);
    for (int i = 0; i < 5; i++) {
        mock_advance(1000);
        okx_trade_resync(&C);
    }
    assert_int_equal(order_selects, 1);
    assert_true(okx_trade_questions(&C) > 0);
    mock_advance(120000);
    assert_int_equal(order_selects, 2); /* "again when done": once */
    assert_int_equal(calls_to("GET", "/api/v5/trade/order", NULL), 400);
    assert_int_equal(okx_trade_questions(&C), 0);
}

/* ------------------------------------------------------------ fills behind */

#define FILLED_ANSWER                                                                              \
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\","   \
    "\"px\":\"50000.1\",\"sz\":\"2\",\"ordType\":\"limit\",\"side\":\"buy\",\"posSide\":"          \
    "\"long\",\"accFillSz\":\"2\",\"fillPx\":\"50000.1\",\"tradeId\":\"t2\",\"fillSz\":\"0.5\","   \
    "\"fillFee\":\"-0.0125\",\"avgPx\":\"50000.1\",\"state\":\"filled\",\"fee\":\"-0.05\","        \
    "\"feeCcy\":\"USDT\",\"uTime\":\"1700000000200\"}"

static int fills_lag; /* trade/fills answers without t1 this many times */

static char *lagging_fills(const char *query)
{
    (void)query;
    char *buf = malloc(4096);
    if (fills_lag-- > 0) {
        snprintf(buf, 4096, "{\"code\":\"0\",\"msg\":\"\",\"data\":[%s]}",
                 FILL_ROW("t2", "50000.1", "0.5", "-0.0125"));
    } else {
        snprintf(buf, 4096, "{\"code\":\"0\",\"msg\":\"\",\"data\":[%s,%s]}",
                 FILL_ROW("t2", "50000.1", "0.5", "-0.0125"),
                 FILL_ROW("t1", "50000.1", "1.5", "-0.0375"));
    }
    return buf;
}

/* The refused push carried t1; trade/order says 2 filled, trade/fills lists
 * only t2 (0.5) twice: asked again after 1 s and 2 s, t1 then recorded. */
static void test_fills_behind_trade_order_are_asked_again(void **state)
{
    (void)state;
    answer_order(FILLED_ANSWER);
    fills_hook = lagging_fills;
    fills_lag = 2;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    mock_advance(30000);
    assert_int_equal(fills_gets, 3);
    assert_int_equal(mock_count(AT_EV_FILL), 2);
    assert_string_equal(fill_event(1)->trade_id, "t1");
    assert_int_equal(mock_count(AT_EV_ALERT), 0);
    /* the asks: at 1 s, then 1 s and 2 s after each answer */
    int64_t t[3];
    for (int i = 0, k = 0; i < ncalls && k < 3; i++) {
        if (strcmp(calls[i].path, "/api/v5/trade/fills") == 0) {
            t[k++] = calls[i].at_us;
        }
    }
    assert_true(t[1] - t[0] >= 1000000 && t[1] - t[0] < 1500000);
    assert_true(t[2] - t[1] >= 2000000 && t[2] - t[1] < 2500000);
}

/* t1 never shows in trade/fills: asked 1, 2, 4 and 8 s later, then an
 * ALERT names the order and the missing size. */
static void test_missing_fill_alerts_after_backoff(void **state)
{
    (void)state;
    answer_order(FILLED_ANSWER);
    fills_hook = lagging_fills;
    fills_lag = 1000;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    mock_advance(60000);
    assert_int_equal(fills_gets, 5);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_int_equal(mock_count(AT_EV_ALERT), 1);
    assert_logged(AT_LOG_ERROR, "order BTC-USDT-SWAP 1001");
    assert_logged(AT_LOG_ERROR, "1.5 of its accFillSz 2 not found in trade/fills");
}

/* 101 fills: trade/fills pages of 100, the next one after the last billId. */
static char *paged_fills(const char *query)
{
    const char *after = strstr(query, "after=");
    int from = after ? atoi(after + 6) - 1 : 1101, to = after ? 1001 : 1002;
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf + n, cap - n, "{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    for (int b = from; b >= to; b--) {
        n += (size_t)snprintf(
            buf + n, cap - n,
            "%s{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":"
            "\"c1\",\"tradeId\":\"p%d\",\"billId\":\"%d\",\"side\":\"buy\",\"posSide\":\"long\","
            "\"fillPx\":\"50000.1\",\"fillSz\":\"0.01\",\"fee\":\"-0.0001\",\"feeCcy\":\"USDT\","
            "\"execType\":\"M\",\"fillTime\":\"1700000000123\"}",
            b == from ? "" : ",", b, b);
    }
    snprintf(buf + n, cap - n, "]}");
    return buf;
}

static void test_fills_are_paged(void **state)
{
    (void)state;
    char *a = order_with(FILLED_ANSWER, "accFillSz", "\"1.01\"", "sz", "\"2\"", "tradeId",
                         "\"p1001\"", "fillSz", "\"0.01\"", NULL);
    answer_order(a);
    free(a);
    fills_hook = paged_fills;
    char *s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    mock_advance(30000);
    assert_int_equal(fills_gets, 2);
    assert_non_null(strstr(fills_query, "after=1002"));
    assert_non_null(strstr(fills_query, "limit=100"));
    assert_int_equal(mock_count(AT_EV_FILL), 101);
    assert_int_equal(mock_count(AT_EV_ALERT), 0);
}

/* ------------------------------------------------------------ older answers */

/* filled (uTime 200) is known; a lagging trade/order answer says
 * partially_filled (uTime 100): neither published nor written. */
static void test_older_answer_never_overwrites(void **state)
{
    (void)state;
    char *filled = order_with(ORDER, "state", "\"filled\"", "accFillSz", "\"2\"", "tradeId",
                              "\"t2\"", "fillSz", "\"0.5\"", "uTime", "\"1700000000200\"", NULL);
    push(filled);
    free(filled);
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_writes("UPDATE orders"), 1);
    char *older = order_with(ORDER, "uTime", "\"1700000000100\"", NULL);
    answer_order(older);
    free(older);
    answer_fills(FILL_ROW("t2", "50000.1", "0.5", "-0.0125") "," FILL_ROW("t1", "50000.1", "1.5",
                                                                          "-0.0375"));
    char *bad = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(bad);
    free(bad);
    mock_advance(30000);
    assert_int_equal(order_gets, 1);
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_writes("UPDATE orders"), 1);
    assert_int_equal(((const at_ev_order *)mock_event(AT_EV_ORDER, 0))->state, AT_ORD_FILLED);
    assert_int_equal(mock_count(AT_EV_FILL), 2); /* t1 still found */
}

/* canceled is known; an answer stamped later but "live" never reopens it. */
static void test_terminal_state_is_never_left(void **state)
{
    (void)state;
    char *canceled =
        order_with(MARKET_LIVE, "state", "\"canceled\"", "uTime", "\"1700000000300\"", NULL);
    push(canceled);
    free(canceled);
    char *live = order_with(MARKET_LIVE, "uTime", "\"1700000000400\"", NULL);
    push(live);
    free(live);
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_writes("UPDATE orders"), 1);
    assert_int_equal(((const at_ev_order *)mock_event(AT_EV_ORDER, 0))->state, AT_ORD_CANCELED);
}

/* ------------------------------------------------------------ fills once */

/* okx-sim's cancel push after a partial fill repeats the last tradeId and
 * fillSz with fillFee "0": the fill is not published again. */
static void test_repeated_trade_id_is_not_a_new_fill(void **state)
{
    (void)state;
    push(ORDER);
    char *cancel = order_with(ORDER, "state", "\"canceled\"", "fillFee", "\"0\"", "uTime",
                              "\"1700000000500\"", NULL);
    push(cancel);
    free(cancel);
    assert_int_equal(mock_count(AT_EV_ORDER), 2);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_dec(fill_event(0)->fee, "-0.0375");
}

/* The same after a restart (nothing in memory): the fills row says t1 was
 * recorded, so the repeat is not published. */
static void test_repeat_after_restart_is_checked_in_storage(void **state)
{
    (void)state;
    snprintf(stored[0].trade, sizeof(stored[0].trade), "t1");
    snprintf(stored[0].ord, sizeof(stored[0].ord), "1001");
    snprintf(stored[0].sz, sizeof(stored[0].sz), "1.5");
    nstored = 1;
    char *cancel = order_with(ORDER, "state", "\"canceled\"", "fillFee", "\"0\"", "uTime",
                              "\"1700000000500\"", NULL);
    push(cancel);
    free(cancel);
    mock_advance(1000);
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
}

/* A question reading the fills rows (storage takes 50 ms) while the push
 * with the same fill arrives: one FILL. */
static void test_push_and_question_record_a_fill_once(void **state)
{
    (void)state;
    M.db_latency_us = 50000;
    char *bad = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(bad);
    free(bad);
    /* the question: 1 s, trade/order (20 ms), trade/fills (20 ms), then the
     * fills rows are read */
    mock_advance(1060);
    assert_int_equal(fills_gets, 1);
    push(ORDER);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    mock_advance(5000);
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_int_equal(mock_count(AT_EV_ALERT), 0);
}

/* ------------------------------------------------------------ fallback */

/* 64 orders already wait for a question; the next refusal is about X, whose
 * place answer has not come (its row is still 'sent'): the "every open
 * order" fallback asks X too. */
static void test_fallback_asks_unplaced_orders(void **state)
{
    (void)state;
    order_hook = storm_order_answer;
    fills_hook = no_fills;
    for (int k = 0; k < 64; k++) {
        char *s = storm_push(k);
        push(s);
        free(s);
    }
    open_order_row("s77", "sent");
    open_order_row("s78", "unknown");
    char *x = storm_push(77);
    push(x);
    free(x);
    mock_advance(60000);
    assert_true(order_selects >= 1);
    assert_true(calls_to("GET", "/api/v5/trade/order", "2077") +
                    calls_to("GET", "/api/v5/trade/order", "s77") >=
                1);
    assert_true(calls_to("GET", "/api/v5/trade/order", "s78") >= 1);
}

/* Stopped while storage reads the fills rows for a question: the question
 * is freed when storage answers, nothing is asked after (ASan: no leak, no
 * use after free). */
static void test_stop_while_storage_reads(void **state)
{
    (void)state;
    M.db_latency_us = 50000;
    char *bad = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(bad);
    free(bad);
    mock_advance(1060);
    assert_int_equal(fills_gets, 1);
    assert_int_equal(okx_trade_questions(&C), 1);
    okx_trade_stop(&C);
    assert_int_equal(okx_trade_questions(&C), 0);
    mock_advance(5000);
    assert_int_equal(order_gets, 1);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusal_storm_is_bounded_and_orders_go_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_order_refused_again_and_again_backs_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_second_resync_while_one_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fills_behind_trade_order_are_asked_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_fill_alerts_after_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fills_are_paged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_answer_never_overwrites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_state_is_never_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_trade_id_is_not_a_new_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_after_restart_is_checked_in_storage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_push_and_question_record_a_fill_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_asks_unplaced_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_while_storage_reads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

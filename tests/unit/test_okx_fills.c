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
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "okx_mock.h"
#include "okx_plugin.h"

static const char INSTS[] =
    "{\"code\":\"0\",\"msg\":\"\",\"data\":["
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
    "\"instFamily\":\"BTC-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"100000000\",\"maxMktSz\":\"12000\",\"lever\":\"100\","
    "\"state\":\"live\"}]}";

/* A partially filled limit buy and the fill its push carries (the shape of
 * OKX's orders channel, SWAP). */
static const char ORDER[] =
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\","
    "\"tag\":\"\",\"px\":\"50000.1\",\"sz\":\"2\",\"ordType\":\"limit\",\"side\":\"buy\","
    "\"posSide\":\"long\",\"tdMode\":\"cross\",\"accFillSz\":\"1.5\",\"fillPx\":\"50000.1\","
    "\"tradeId\":\"t1\",\"fillSz\":\"1.5\",\"fillTime\":\"1700000000123\",\"fillFee\":\"-0.0375\","
    "\"fillFeeCcy\":\"USDT\",\"execType\":\"M\",\"avgPx\":\"50000.1\",\"state\":"
    "\"partially_filled\",\"fee\":\"-0.0375\",\"feeCcy\":\"USDT\",\"reduceOnly\":\"false\","
    "\"cTime\":\"1700000000000\",\"uTime\":\"1700000000123\"}";

/* A market order before any fill, as OKX pushes it. */
static const char MARKET_LIVE[] =
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1002\",\"clOrdId\":\"c2\","
    "\"px\":\"\",\"sz\":\"3\",\"ordType\":\"market\",\"side\":\"sell\",\"posSide\":\"net\","
    "\"accFillSz\":\"0\",\"fillPx\":\"\",\"tradeId\":\"\",\"fillSz\":\"0\",\"fillTime\":\"\","
    "\"fillFee\":\"0\",\"fillFeeCcy\":\"\",\"execType\":\"\",\"avgPx\":\"\",\"state\":\"live\","
    "\"fee\":\"0\",\"feeCcy\":\"USDT\",\"reduceOnly\":\"false\",\"cTime\":\"1700000000000\","
    "\"uTime\":\"1700000000000\"}";

/* A trade/fills row (the fee is "fee" there). */
#define FILL_ROW(trade, px, sz, fee)                                                               \
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\","   \
    "\"tradeId\":\"" trade "\",\"billId\":\"9\",\"side\":\"buy\",\"posSide\":\"long\","            \
    "\"fillPx\":\"" px "\",\"fillSz\":\"" sz "\",\"fee\":\"" fee "\",\"feeCcy\":\"USDT\","         \
    "\"execType\":\"M\",\"fillTime\":\"1700000000123\",\"ts\":\"1700000000124\"}"

static okx_ctx C;

/* ------------------------------------------------------------ the venue */

/* okx_rest's in-process backend: trade/order and trade/fills answer what the
 * test put there; what was asked is kept. */
static char order_answer[8192], fills_answer[8192];
static int order_gets, fills_gets;
static char order_query[512], fills_query[512];

static int local_call(void *arg, const char *method, const char *path, const char *query,
                      const char *body, char **resp, size_t *resp_len)
{
    (void)arg;
    (void)method;
    (void)body;
    const char *answer = "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}";
    if (strcmp(path, "/api/v5/trade/order") == 0) {
        order_gets++;
        snprintf(order_query, sizeof(order_query), "%s", query);
        answer = order_answer;
    } else if (strcmp(path, "/api/v5/trade/fills") == 0) {
        fills_gets++;
        snprintf(fills_query, sizeof(fills_query), "%s", query);
        answer = fills_answer;
    }
    *resp = strdup(answer);
    *resp_len = strlen(answer);
    return 200;
}

static void answer_order(const char *item)
{
    snprintf(order_answer, sizeof(order_answer), "{\"code\":\"0\",\"msg\":\"\",\"data\":[%s]}",
             item);
}

static void answer_fills(const char *items)
{
    snprintf(fills_answer, sizeof(fills_answer), "{\"code\":\"0\",\"msg\":\"\",\"data\":[%s]}",
             items);
}

/* OKX busy: every question fails. */
static void venue_busy(void)
{
    snprintf(order_answer, sizeof(order_answer),
             "{\"code\":\"50013\",\"msg\":\"Systems are busy\",\"data\":[]}");
    snprintf(fills_answer, sizeof(fills_answer), "%s", order_answer);
}

/* ------------------------------------------------------------ the database */

/* The fills rows written (by trade id) and the orders rows the resync
 * reads: what "seen" means for a fill. */
static char stored_fills[16][48];
static int nstored;
static bool open_order_row; /* c1 is live here */

static void on_write(const char *sql, const at_db_value *p, size_t n)
{
    if (strncmp(sql, "INSERT INTO fills", 17) == 0 && n > 2 && nstored < 16) {
        snprintf(stored_fills[nstored++], sizeof(stored_fills[0]), "%s", p[2].u.s);
    }
}

static void rows(const char *sql, const at_db_value *p, size_t n, at_db_row_cb row, void *arg)
{
    if (strncmp(sql, "SELECT trade_id FROM fills", 26) == 0 && n > 2) {
        for (int i = 0; i < nstored; i++) {
            if (strcmp(stored_fills[i], p[2].u.s) == 0) {
                at_db_value v = AT_DB_S(stored_fills[i]);
                at_db_row r = {1, NULL, &v};
                row(arg, &r);
                return;
            }
        }
    } else if (strncmp(sql, "SELECT cl_ord_id, inst_id FROM orders", 37) == 0 && open_order_row) {
        at_db_value v[2] = {AT_DB_S("c1"), AT_DB_S("BTC-USDT-SWAP")};
        at_db_row r = {2, NULL, v};
        row(arg, &r);
    }
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    M.on_write = on_write;
    M.rows = rows;
    C.name = "exchange.okx_test";
    C.started = true;
    C.have_config = true;
    C.insts = okx_insts_new(C.h);
    char err[256];
    if (!C.insts || okx_insts_load_json(C.insts, INSTS, strlen(INSTS), err, sizeof(err)) != AT_OK) {
        return -1;
    }
    okx_rest_opts o = {.base_url = "paper://local", .local = local_call};
    C.rest = okx_rest_new(C.h, NULL, &o);
    if (!C.rest) {
        return -1;
    }
    answer_order(ORDER);
    answer_fills(FILL_ROW("t1", "50000.1", "1.5", "-0.0375"));
    order_gets = fills_gets = 0;
    order_query[0] = fills_query[0] = '\0';
    nstored = 0;
    open_order_row = false;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    okx_trade_stop(&C); /* the questions still waiting */
    okx_rest_free(C.rest);
    okx_insts_free(C.insts);
    mock_reset();
    return 0;
}

/* ORDER with `key` set to the JSON `value` ("\"NaN\"", "1.5", "null"), or
 * removed when value is NULL; more pairs may follow, up to a NULL key. */
static char *order_with(const char *base, ...)
{
    json_t *o = json_loads(base, 0, NULL);
    assert_non_null(o);
    va_list ap;
    va_start(ap, base);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (!v) {
            json_object_del(o, k);
            continue;
        }
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        json_object_set_new(o, k, j);
    }
    va_end(ap);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

static void push(const char *item)
{
    char buf[8192];
    snprintf(buf, sizeof(buf),
             "{\"arg\":{\"channel\":\"orders\",\"instType\":\"SWAP\",\"uid\":\"1\"},\"data\":[%s]}",
             item);
    okx_account_on_private(&C, buf, strlen(buf));
}

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

static void assert_logged(at_log_level level, const char *needle)
{
    if (mock_logged(level, needle) == 0) {
        mock_print_logs();
        fail_msg("no log line containing: %s", needle);
    }
}

static const at_ev_fill *fill_event(size_t nth)
{
    const at_ev_fill *f = (const at_ev_fill *)mock_event(AT_EV_FILL, nth);
    assert_non_null(f);
    return f;
}

/* Nothing of a push was used: no event, no row. */
static void assert_nothing_used(void)
{
    assert_int_equal(mock_count(AT_EV_ORDER), 0);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
    assert_int_equal(mock_writes("UPDATE orders"), 0);
    assert_int_equal(mock_writes("INSERT INTO fills"), 0);
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
    char *items[] = {
        strdup(MARKET_LIVE),
        order_with(MARKET_LIVE, "fillSz", "\"\"", NULL),
        order_with(MARKET_LIVE, "tradeId", "\"t0\"", "fillPx", "\"\"", NULL),
        order_with(MARKET_LIVE, "fee", "\"\"", "fillFee", "\"\"", "state", "\"canceled\"", NULL),
        order_with(MARKET_LIVE, "px", NULL, NULL),
        order_with(ORDER, "tradeId", NULL, NULL),
        order_with(ORDER, "tradeId", "\"\"", "fillPx", "\"NaN\"", NULL), /* not read */
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
    assert_string_equal(stored_fills[0], "t1");
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

/* OKX cannot be asked (busy): an ALERT says a fill may be missing, and the
 * refused push left the fill unseen and the order open here, so the resync
 * after the private feed comes back records it. */
static void test_refused_fill_found_by_the_resync(void **state)
{
    (void)state;
    venue_busy();
    char *s = order_with(ORDER, "fillFee", "\"NaN\"", NULL);
    push(s);
    free(s);
    mock_run();
    assert_int_equal(order_gets, 1);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
    assert_int_equal(mock_count(AT_EV_ALERT), 1);
    assert_logged(AT_LOG_ERROR, "order BTC-USDT-SWAP 1001: a refused push could not be made good "
                                "(trade/order failed: 50013 Systems are busy)");
    assert_int_equal(nstored, 0);

    mock_clear();
    answer_order(ORDER);
    answer_fills(FILL_ROW("t1", "50000.1", "1.5", "-0.0375"));
    open_order_row = true;
    okx_trade_resync(&C);
    mock_run();
    assert_int_equal(order_gets, 2);
    assert_non_null(strstr(order_query, "clOrdId=c1"));
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    assert_dec(fill_event(0)->px, "50000.1");
    assert_int_equal(nstored, 1);
    assert_string_equal(stored_fills[0], "t1");
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
    open_order_row = true;
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
    open_order_row = true;
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
    open_order_row = true;
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
    assert_null(C.rechecks);
    mock_run();
    assert_int_equal(order_gets, 0);
    C.started = false; /* stopping: said, not asked */
    s = order_with(ORDER, "fillPx", "\"NaN\"", NULL);
    push(s);
    free(s);
    assert_null(C.rechecks);
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

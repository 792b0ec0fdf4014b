/* exchange_okx's algo orders (okx_algo.c): orders-algo pushes and the rows
 * of orders-algo-pending into ALGO_ORDER events, and the algo ids that ORDER
 * and FILL events carry when a TP/SL placed the order.
 *   - a good push (the shape okx-sim's algo_json and OKX send) gives one
 *     event with every field; each state OKX names maps to its at_algo_state;
 *   - a push with a value that cannot be used (missing, garbage, an unknown
 *     instrument or state, an id too long to hold) is refused whole, with a
 *     warning naming the field and its raw value: no event, no crash;
 *   - a state not newer than the one published is not published again;
 *   - the listing (start, and each time the algo feed comes back) publishes
 *     every pending algo, page after page, and reports foreign ones. */
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

static okx_ctx C;

static const char INSTS[] =
    "{\"code\":\"0\",\"msg\":\"\",\"data\":["
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
    "\"instFamily\":\"BTC-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"100000000\",\"maxMktSz\":\"12000\",\"lever\":\"100\","
    "\"state\":\"live\"}]}";

/* The attached TP/SL of entry c1 once it filled, as okx-sim's algo_json
 * shows it (OKX's orders-algo fields). */
static const char ALGO[] =
    "{\"activePx\":\"\",\"actualPx\":\"\",\"actualSide\":\"\",\"actualSz\":\"0\","
    "\"algoClOrdId\":\"c1a\",\"algoId\":\"777\",\"attachAlgoOrds\":[],\"cTime\":"
    "\"1700000000000\",\"callbackRatio\":\"\",\"ccy\":\"\",\"clOrdId\":\"\",\"closeFraction\":"
    "\"\",\"failCode\":\"\",\"instId\":\"BTC-USDT-SWAP\",\"instType\":\"SWAP\",\"last\":"
    "\"50000\",\"lever\":\"5\",\"linkedOrd\":{\"ordId\":\"1001\"},\"ordId\":\"\",\"ordIdList\":"
    "[],\"ordPx\":\"\",\"ordType\":\"oco\",\"posSide\":\"long\",\"reduceOnly\":\"true\","
    "\"side\":\"sell\",\"slOrdPx\":\"-1\",\"slTriggerPx\":\"40000.5\",\"slTriggerPxType\":"
    "\"last\",\"state\":\"live\",\"sz\":\"2\",\"tag\":\"\",\"tdMode\":\"cross\",\"tpOrdPx\":"
    "\"-1\",\"tpTriggerPx\":\"60000\",\"tpTriggerPxType\":\"last\",\"triggerPx\":\"\","
    "\"triggerPxType\":\"\",\"triggerTime\":\"\",\"uTime\":\"1700000000100\"}";

/* ------------------------------------------------------------ the venue */

/* okx_rest's in-process backend: orders-algo-pending answers page_rows
 * rows a page (algoIds 900000 on), npages pages, then an empty one; the
 * queries are logged. */
static int pending_gets, page_rows, npages;
static char queries[8][256];

static char *algo_row(int i)
{
    json_t *o = json_loads(ALGO, 0, NULL);
    char id[32], cl[32];
    snprintf(id, sizeof(id), "9%05d", i);
    snprintf(cl, sizeof(cl), i == 0 ? "foreign" : "e%da", i);
    json_object_set_new(o, "algoId", json_string(id));
    json_object_set_new(o, "algoClOrdId", json_string(cl));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int local_call(void *arg, const char *method, const char *path, const char *query,
                      const char *body, char **resp, size_t *resp_len)
{
    (void)arg;
    (void)method;
    (void)body;
    json_t *data = json_array();
    if (strcmp(path, "/api/v5/trade/orders-algo-pending") == 0) {
        if (pending_gets < 8) {
            snprintf(queries[pending_gets], sizeof(queries[0]), "%s", query);
        }
        pending_gets++;
        /* after=<the last algoId of the page before>: the rows after it */
        const char *after = strstr(query, "after=");
        int page = after ? (atoi(after + 6) - 900000 + 1) / page_rows : 0;
        for (int i = 0; page < npages && i < page_rows; i++) {
            char *row = algo_row(page * page_rows + i);
            json_array_append_new(data, json_loads(row, 0, NULL));
            free(row);
        }
    }
    json_t *env = json_pack("{s:s, s:s, s:o}", "code", "0", "msg", "", "data", data);
    *resp = json_dumps(env, JSON_COMPACT);
    *resp_len = strlen(*resp);
    json_decref(env);
    return 200;
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    C.name = "exchange.okx_test";
    C.started = true;
    C.insts = okx_insts_new(C.h);
    char err[256];
    if (!C.insts || okx_insts_load_json(C.insts, INSTS, strlen(INSTS), err, sizeof(err)) != AT_OK) {
        return -1;
    }
    okx_rest_opts o = {.base_url = "paper://local", .local = local_call};
    C.rest = okx_rest_new(C.h, NULL, &o);
    pending_gets = page_rows = npages = 0;
    memset(queries, 0, sizeof(queries));
    return C.rest ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    okx_trade_stop(&C); /* the memories of orders and algos */
    okx_rest_free(C.rest);
    okx_insts_free(C.insts);
    mock_reset();
    return 0;
}

static void push_text(const char *channel, const char *item)
{
    char buf[8192];
    snprintf(buf, sizeof(buf),
             "{\"arg\":{\"channel\":\"%s\",\"instType\":\"SWAP\",\"uid\":\"1\"},\"data\":[%s]}",
             channel, item);
    okx_account_on_private(&C, buf, strlen(buf));
}

/* ALGO with `key` set to the JSON `value` ("\"NaN\"", "1", "null"), or
 * removed when value is NULL; more pairs may follow, up to a NULL key. */
static void push_algo(const char *key, ...)
{
    json_t *o = json_loads(ALGO, 0, NULL);
    assert_non_null(o);
    va_list ap;
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
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
    push_text("orders-algo", s);
    free(s);
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

static void assert_warned(const char *needle)
{
    if (mock_logged(AT_LOG_WARN, needle) == 0) {
        mock_print_logs();
        fail_msg("no warning containing: %s", needle);
    }
}

static const at_ev_algo_order *algo_event(size_t nth)
{
    return (const at_ev_algo_order *)mock_event(AT_EV_ALGO_ORDER, nth);
}

/* ------------------------------------------------------------ pushes */

static void test_live_push(void **state)
{
    (void)state;
    push_text("orders-algo", ALGO);
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 1);
    const at_ev_algo_order *e = algo_event(0);
    assert_int_equal(e->h.inst, okx_insts_find(C.insts, "BTC-USDT-SWAP")->id);
    assert_string_equal(e->account, "exchange.okx_test");
    assert_string_equal(e->algo_id, "777");
    assert_string_equal(e->algo_cl_ord_id, "c1a");
    assert_string_equal(e->ord_type, "oco");
    assert_int_equal(e->state, AT_ALGO_LIVE);
    assert_int_equal(e->side, AT_SIDE_SELL);
    assert_int_equal(e->pos_side, AT_POS_LONG);
    assert_dec(e->sz, "2");
    assert_false(e->close_position);
    assert_true(e->reduce_only);
    assert_dec(e->tp_trigger_px, "60000");
    assert_dec(e->sl_trigger_px, "40000.5");
    assert_int_equal(e->trigger_px.m, 0);
    assert_int_equal(e->c_time_ms, 1700000000000LL);
    assert_int_equal(e->u_time_ms, 1700000000100LL);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

static void test_every_state(void **state)
{
    (void)state;
    static const struct {
        const char *okx;
        at_algo_state want;
    } t[] = {
        {"\"live\"", AT_ALGO_LIVE},
        {"\"effective\"", AT_ALGO_EFFECTIVE},
        {"\"partially_effective\"", AT_ALGO_PARTIALLY_EFFECTIVE},
        {"\"canceled\"", AT_ALGO_CANCELED},
        {"\"order_failed\"", AT_ALGO_FAILED},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "\"%zu\"", 100 + i);
        push_algo("algoId", id, "state", t[i].okx, NULL);
        assert_int_equal(mock_count(AT_EV_ALGO_ORDER), i + 1);
        assert_int_equal(algo_event(i)->state, t[i].want);
    }
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

/* closeFraction "1" closes the whole position: sz is "0" (or "") then and
 * the event says 0; a net-mode algo has posSide "net"; a trigger order
 * carries triggerPx and no TP/SL. */
static void test_close_fraction_net_and_trigger(void **state)
{
    (void)state;
    push_algo("algoId", "\"1\"", "closeFraction", "\"1\"", "sz", "\"0\"", "posSide", "\"net\"",
              "ordType", "\"conditional\"", "tpTriggerPx", "\"\"", NULL);
    push_algo("algoId", "\"2\"", "closeFraction", "\"1\"", "sz", "\"\"", "reduceOnly", "\"false\"",
              NULL);
    push_algo("algoId", "\"3\"", "ordType", "\"trigger\"", "tpTriggerPx", "\"\"", "slTriggerPx",
              "\"\"", "triggerPx", "\"50500.1\"", "side", "\"buy\"", "posSide", "\"short\"", NULL);
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 3);
    const at_ev_algo_order *e = algo_event(0);
    assert_true(e->close_position);
    assert_int_equal(e->sz.m, 0);
    assert_int_equal(e->pos_side, AT_POS_NET);
    assert_int_equal(e->tp_trigger_px.m, 0);
    assert_dec(e->sl_trigger_px, "40000.5");
    e = algo_event(1);
    assert_true(e->close_position);
    assert_false(e->reduce_only);
    e = algo_event(2);
    assert_string_equal(e->ord_type, "trigger");
    assert_dec(e->trigger_px, "50500.1");
    assert_int_equal(e->side, AT_SIDE_BUY);
    assert_int_equal(e->pos_side, AT_POS_SHORT);
    assert_int_equal(mock_logged(AT_LOG_WARN, ""), 0);
}

/* Each bad value refuses the push: no event, a warning naming the field
 * and the raw value. */
static void test_bad_values_refused(void **state)
{
    (void)state;
    static const char LONG_ID[] = "\"123456789012345678901234567890123456789012345678\"";
    static const struct {
        const char *key, *value, *key2, *value2, *warning;
    } t[] = {
        {"state", "\"bogus\"", NULL, NULL, "refused: state = \"bogus\""},
        {"state", NULL, NULL, NULL, "refused: state is missing"},
        {"state", "1", NULL, NULL, "refused: state = 1"},
        {"algoId", "\"\"", NULL, NULL, "algo order push (BTC-USDT-SWAP ?) refused: algoId = \"\""},
        {"algoId", NULL, NULL, NULL, "refused: algoId is missing"},
        {"algoId", "42", NULL, NULL, "refused: algoId = 42"},
        {"algoId", LONG_ID, NULL, NULL, "refused: algoId = \"1234567890"},
        {"algoClOrdId", "{}", NULL, NULL, "refused: algoClOrdId = {}"},
        {"instId", "\"XYZ-USDT-SWAP\"", NULL, NULL,
         "refused: instId (not a swap OKX listed) = \"XYZ-USDT-SWAP\""},
        {"instId", "\"BTC\"", NULL, NULL, "refused: instId (not a swap OKX listed) = \"BTC\""},
        {"instId", NULL, NULL, NULL, "refused: instId (not a swap OKX listed) is missing"},
        {"ordType", "\"\"", NULL, NULL, "refused: ordType = \"\""},
        {"ordType", "\"a_type_name_far_too_long\"", NULL, NULL, "refused: ordType = \"a_type"},
        {"side", "\"\"", NULL, NULL, "refused: side = \"\""},
        {"posSide", "\"up\"", NULL, NULL, "refused: posSide = \"up\""},
        {"posSide", NULL, NULL, NULL, "refused: posSide is missing"},
        {"sz", "\"NaN\"", NULL, NULL, "refused: sz = \"NaN\""},
        {"sz", "\"-1\"", NULL, NULL, "refused: sz = \"-1\""},
        {"sz", "\"\"", NULL, NULL, "refused: sz = \"\""},
        {"sz", NULL, NULL, NULL, "refused: sz is missing"},
        {"closeFraction", "\"0.5\"", NULL, NULL, "refused: closeFraction = \"0.5\""},
        {"closeFraction", "\"abc\"", NULL, NULL, "refused: closeFraction = \"abc\""},
        {"reduceOnly", "\"maybe\"", NULL, NULL, "refused: reduceOnly = \"maybe\""},
        {"reduceOnly", "true", NULL, NULL, "refused: reduceOnly = true"},
        {"tpTriggerPx", "\"abc\"", NULL, NULL, "refused: tpTriggerPx = \"abc\""},
        {"slTriggerPx", "\"0\"", NULL, NULL, "refused: slTriggerPx = \"0\""},
        {"slTriggerPx", "\"1e999\"", NULL, NULL, "refused: slTriggerPx = \"1e999\""},
        {"triggerPx", "\"-5\"", NULL, NULL, "refused: triggerPx = \"-5\""},
        {"tpTriggerPx", "\"\"", "slTriggerPx", "\"\"", "refused: tpTriggerPx = \"\""},
        {"ordType", "\"trigger\"", NULL, NULL, "refused: triggerPx = \"\""},
        {"uTime", "\"abc\"", NULL, NULL, "refused: uTime = \"abc\""},
        {"uTime", "\"\"", NULL, NULL, "refused: uTime = \"\""},
        {"cTime", NULL, NULL, NULL, "refused: cTime is missing"},
        {"cTime", "1700000000000", NULL, NULL, "refused: cTime = 1700000000000"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        mock_clear();
        M.now_us += 61 * 1000000LL; /* past the warnings' rate limit */
        if (t[i].key2) {
            push_algo(t[i].key, t[i].value, t[i].key2, t[i].value2, NULL);
        } else {
            push_algo(t[i].key, t[i].value, NULL);
        }
        if (mock_count(AT_EV_ALGO_ORDER) != 0) {
            fail_msg("case %zu (%s = %s) was published", i, t[i].key,
                     t[i].value ? t[i].value : "(missing)");
        }
        assert_warned(t[i].warning);
        assert_warned("; the last good state stays");
    }
}

/* Items that are not objects, a data member that is not an array, text
 * that is not JSON: logged or ignored, never a crash. */
static void test_garbage_items(void **state)
{
    (void)state;
    push_text("orders-algo", "1");
    assert_warned("algo order push (? ?) refused: not an object");
    M.now_us += 61 * 1000000LL;
    push_text("orders-algo", "null,[],\"x\"");
    const char *no_array = "{\"arg\":{\"channel\":\"orders-algo\"},\"data\":{\"algoId\":\"1\"}}";
    okx_account_on_private(&C, no_array, strlen(no_array));
    const char *cut = "{\"arg\":{\"channel\":\"orders-algo\"},\"data\":[{\"algoId\":";
    okx_account_on_private(&C, cut, strlen(cut));
    assert_warned("private push not read");
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 0);
}

/* A state is published once and never taken back: a late live after
 * canceled, or the same state again (a listing after the push), is not
 * published; an amended live (newer uTime) is. */
static void test_newer_states_only(void **state)
{
    (void)state;
    push_algo(NULL); /* live, uTime ...100 */
    push_algo(NULL); /* the same again */
    push_algo("uTime", "\"1700000000200\"", "slTriggerPx", "\"41000\"", NULL); /* amended */
    push_algo("uTime", "\"1700000000150\"", NULL);                             /* older */
    push_algo("state", "\"canceled\"", "uTime", "\"1700000000300\"", NULL);
    push_algo("uTime", "\"1700000000400\"", NULL); /* live after canceled */
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 3);
    assert_int_equal(algo_event(0)->state, AT_ALGO_LIVE);
    assert_dec(algo_event(1)->sl_trigger_px, "41000");
    assert_int_equal(algo_event(2)->state, AT_ALGO_CANCELED);
}

/* The paper venue hands its orders-algo pushes to the same code. */
static void test_paper_venue_path(void **state)
{
    (void)state;
    C.paper = true;
    push_text("orders-algo", ALGO);
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 1);
    push_algo("algoId", "\"5\"", "state", "\"nope\"", NULL);
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 1);
    assert_warned("refused: state = \"nope\"");
}

/* ------------------------------------------------------------ orders */

/* An order a TP/SL placed: its ORDER says which algo order, and so does
 * its FILL (algoClOrdId, as OKX's orders push has it). */
static void test_order_and_fill_carry_algo_ids(void **state)
{
    (void)state;
    push_text("orders",
              "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"2001\","
              "\"clOrdId\":\"\",\"px\":\"\",\"sz\":\"2\",\"ordType\":\"market\",\"side\":\"sell\","
              "\"posSide\":\"long\",\"accFillSz\":\"2\",\"fillPx\":\"40000.5\",\"tradeId\":"
              "\"t9\",\"fillSz\":\"2\",\"fillTime\":\"1700000000500\",\"fillFee\":\"-0.4\","
              "\"fillFeeCcy\":\"USDT\",\"execType\":\"T\",\"avgPx\":\"40000.5\",\"state\":"
              "\"filled\",\"fee\":\"-0.4\",\"feeCcy\":\"USDT\",\"reduceOnly\":\"true\",\"cTime\":"
              "\"1700000000500\",\"uTime\":\"1700000000500\",\"algoId\":\"777\",\"algoClOrdId\":"
              "\"c1a\"}");
    assert_int_equal(mock_count(AT_EV_ORDER), 1);
    const at_ev_order *o = (const at_ev_order *)mock_event(AT_EV_ORDER, 0);
    assert_string_equal(o->algo_id, "777");
    assert_string_equal(o->algo_cl_ord_id, "c1a");
    assert_int_equal(mock_count(AT_EV_FILL), 1);
    const at_ev_fill *f = (const at_ev_fill *)mock_event(AT_EV_FILL, 0);
    assert_string_equal(f->algo_cl_ord_id, "c1a");
    /* an order of ours has none */
    push_text("orders",
              "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"2002\","
              "\"clOrdId\":\"c2\",\"px\":\"\",\"sz\":\"1\",\"ordType\":\"market\",\"side\":\"buy\","
              "\"posSide\":\"long\",\"accFillSz\":\"0\",\"fillPx\":\"\",\"tradeId\":\"\","
              "\"fillSz\":\"0\",\"avgPx\":\"\",\"state\":\"live\",\"fee\":\"0\",\"reduceOnly\":"
              "\"false\",\"cTime\":\"1\",\"uTime\":\"1\",\"algoId\":\"\",\"algoClOrdId\":\"\"}");
    assert_int_equal(mock_count(AT_EV_ORDER), 2);
    o = (const at_ev_order *)mock_event(AT_EV_ORDER, 1);
    assert_string_equal(o->algo_id, "");
    assert_string_equal(o->algo_cl_ord_id, "");
}

/* ------------------------------------------------------------ listing */

/* The start's listing: every pending algo published as live, page after
 * page (after = the last algoId of a full page), foreign ones reported. */
static void test_listing_publishes_every_page(void **state)
{
    (void)state;
    page_rows = 100;
    npages = 2; /* a full page, a page of 100 more, then an empty one */
    okx_algo_list(&C, true);
    mock_run();
    assert_int_equal(pending_gets, 3);
    assert_non_null(strstr(queries[0], "ordType=conditional%2Coco%2Ctrigger"));
    assert_non_null(strstr(queries[0], "instType=SWAP"));
    assert_null(strstr(queries[0], "after="));
    assert_non_null(strstr(queries[1], "after=900099"));
    assert_non_null(strstr(queries[2], "after=900199"));
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 200);
    assert_string_equal(algo_event(0)->algo_cl_ord_id, "foreign");
    assert_int_equal(algo_event(199)->state, AT_ALGO_LIVE);
    /* no stored intent explains them (the mock storage is empty) */
    assert_true(mock_logged(AT_LOG_WARN, "algoClOrdId 'foreign') is not ours") == 1);
    /* a second listing (the feed is back) publishes nothing new and
     * reports nothing */
    size_t warns = mock_logged(AT_LOG_WARN, "is not ours");
    okx_algo_list(&C, false);
    mock_run();
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 200);
    assert_int_equal(mock_logged(AT_LOG_WARN, "is not ours"), warns);
}

/* A listing asked for while one runs runs again once that one is done. */
static void test_listing_once_at_a_time(void **state)
{
    (void)state;
    page_rows = 2;
    npages = 1;
    okx_algo_list(&C, false);
    okx_algo_list(&C, false);
    okx_algo_list(&C, true);
    assert_int_equal(pending_gets, 1);
    mock_run();
    assert_int_equal(pending_gets, 2);
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 2);
    /* the second one checked (one of the three asked for it) */
    assert_int_equal(mock_logged(AT_LOG_WARN, "algoClOrdId 'foreign') is not ours"), 1);
}

/* A row of the listing that cannot be used: refused and an ALERT says the
 * engine does not know it. */
static void test_listing_refused_row_alerts(void **state)
{
    (void)state;
    page_rows = 1;
    npages = 1;
    okx_insts_free(C.insts);
    C.insts = okx_insts_new(C.h); /* empty: the swap is unknown now */
    okx_algo_list(&C, false);
    mock_run();
    assert_int_equal(mock_count(AT_EV_ALGO_ORDER), 0);
    assert_warned("algo order at OKX (BTC-USDT-SWAP 900000) refused: instId (not a swap OKX "
                  "listed) = \"BTC-USDT-SWAP\"; not published");
    assert_int_equal(mock_count(AT_EV_ALERT), 1);
    assert_true(mock_logged(AT_LOG_ERROR, "1 algo order(s) pending at OKX could not be read") == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_live_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_fraction_net_and_trigger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_states_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paper_venue_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_fill_carry_algo_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_publishes_every_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_once_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_refused_row_alerts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

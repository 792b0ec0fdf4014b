/* exchange_okx against the account's position mode and an intent's
 * leverage, through the executor's submit with REST going to an in-process
 * backend (as exchange_paper's does):
 *   - an intent whose pos_side / reduce_only disagree with the position mode
 *     is refused (one ORDER_RESULT, nothing sent): a "reduction" must never
 *     open a position;
 *   - an intent's leverage is set (set-leverage) before its place goes out,
 *     a failed set-leverage refuses the place, a leverage already in force
 *     costs no call;
 *   - places on one key (instrument, margin mode, side) take turns by
 *     leverage: the order of requests on the wire shows that no
 *     set-leverage lands between another place's set-leverage and its
 *     place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_mock.h"
#include "okx_order.h"
#include "okx_plugin.h"

static const char INSTS[] =
    "{\"code\":\"0\",\"msg\":\"\",\"data\":["
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
    "\"instFamily\":\"BTC-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"100000000\",\"maxMktSz\":\"12000\",\"lever\":\"100\","
    "\"state\":\"live\"}]}";

static okx_ctx C;
static const okx_inst *BTC;
static struct {
    char path[64];
    char body[2048];
    size_t results; /* ORDER_RESULTs published before it went out */
} posts[16];
static int nposts;
static const char *lever_answer; /* NULL: set-leverage succeeds */

/* Every POST recorded; set-leverage echoes the lever asked (or answers
 * lever_answer), a place is accepted. */
static int local_call(void *arg, const char *method, const char *path, const char *query,
                      const char *body, char **resp, size_t *resp_len)
{
    (void)arg;
    (void)query;
    char buf[512];
    snprintf(buf, sizeof(buf), "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}");
    if (strcmp(method, "POST") == 0) {
        if (nposts < 16) {
            posts[nposts].results = mock_count(AT_EV_ORDER_RESULT);
            snprintf(posts[nposts].path, sizeof(posts[0].path), "%s", path);
            snprintf(posts[nposts++].body, sizeof(posts[0].body), "%s", body);
        }
        if (strcmp(path, "/api/v5/account/set-leverage") == 0) {
            if (lever_answer) {
                snprintf(buf, sizeof(buf), "%s", lever_answer);
            } else {
                const char *lv = strstr(body, "\"lever\":\"");
                int n = lv ? (int)strcspn(lv + 9, "\"") : 0;
                snprintf(buf, sizeof(buf),
                         "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"lever\":\"%.*s\","
                         "\"mgnMode\":\"cross\",\"instId\":\"BTC-USDT-SWAP\",\"posSide\":\"\"}]}",
                         n, lv ? lv + 9 : "");
            }
        } else {
            snprintf(buf, sizeof(buf),
                     "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ordId\":\"42\",\"clOrdId\":\"t1\","
                     "\"sCode\":\"0\",\"sMsg\":\"\"}]}");
        }
    }
    *resp = strdup(buf);
    *resp_len = strlen(buf);
    return 200;
}

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    C.name = "exchange.okx_test";
    C.have_config = true;
    C.timeout_ms = 1000;
    C.insts = okx_insts_new(C.h);
    char err[256];
    if (!C.insts || okx_insts_load_json(C.insts, INSTS, strlen(INSTS), err, sizeof(err)) != AT_OK) {
        return -1;
    }
    BTC = okx_insts_find(C.insts, "BTC-USDT-SWAP");
    okx_rest_opts o = {.base_url = "paper://local", .local = local_call};
    C.rest = okx_rest_new(C.h, NULL, &o);
    if (!BTC || !C.rest || okx_trade_start(&C) != AT_OK) {
        return -1;
    }
    mock_run();
    mock_clear();
    nposts = 0;
    lever_answer = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    okx_trade_stop(&C);
    okx_rest_free(C.rest);
    okx_insts_free(C.insts);
    mock_reset();
    return 0;
}

static at_dec D(const char *s)
{
    at_dec d = {0, 0};
    assert_int_equal(C.h->dec_parse(s, (size_t)-1, &d), AT_OK);
    return d;
}

static at_ev_order_intent place(at_side side, at_pos_side ps, bool reduce_only)
{
    static int seq;
    at_ev_order_intent ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = AT_EV_ORDER_INTENT;
    ev.h.inst = BTC->id;
    snprintf(ev.intent_id, sizeof(ev.intent_id), "t%d", ++seq);
    snprintf(ev.account, sizeof(ev.account), "exchange.okx_test");
    ev.op = AT_INTENT_PLACE;
    ev.side = side;
    ev.pos_side = ps;
    ev.reduce_only = reduce_only;
    ev.ord_type = AT_ORDT_MARKET;
    ev.sz = D("1000");
    return ev;
}

/* Submit, run the loop; the one ORDER_RESULT. */
static const at_ev_order_result *submit(const at_ev_order_intent *ev)
{
    mock_clear();
    nposts = 0;
    okx_trade_submit(&C, ev);
    mock_run();
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 1);
    return (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, 0);
}

static void assert_refused(const at_ev_order_intent *ev, const char *needle)
{
    const at_ev_order_result *r = submit(ev);
    assert_false(r->ok);
    assert_non_null(r->msg);
    if (!strstr(r->msg, needle)) {
        fail_msg("refusal \"%s\" lacks \"%s\"", r->msg, needle);
    }
    assert_int_equal(nposts, 0); /* nothing sent */
}

/* The one order sent, its body. */
static const char *sent_ok(const at_ev_order_intent *ev)
{
    const at_ev_order_result *r = submit(ev);
    if (!r->ok) {
        fail_msg("refused: %s", r->msg ? r->msg : "");
    }
    assert_int_equal(nposts, 1);
    assert_string_equal(posts[0].path, "/api/v5/trade/order");
    return posts[0].body;
}

/* ------------------------------------------------------------ position mode */

/* Hedge mode: OKX ignores reduceOnly, so a reduce-only opening pair would
 * open 1000 contracts: refused. The closing pairs and a derived posSide go. */
static void test_long_short_mode(void **state)
{
    (void)state;
    C.long_short = true;
    at_ev_order_intent ev = place(AT_SIDE_BUY, AT_POS_LONG, true);
    assert_refused(&ev, "opens a position in a long_short_mode account");
    ev = place(AT_SIDE_SELL, AT_POS_SHORT, true);
    assert_refused(&ev, "opens a position in a long_short_mode account");
    ev = place(AT_SIDE_SELL, AT_POS_LONG, true); /* close long */
    assert_non_null(strstr(sent_ok(&ev), "\"side\":\"sell\",\"posSide\":\"long\""));
    ev = place(AT_SIDE_BUY, AT_POS_SHORT, true); /* close short */
    assert_non_null(strstr(sent_ok(&ev), "\"side\":\"buy\",\"posSide\":\"short\""));
    ev = place(AT_SIDE_BUY, AT_POS_LONG, false); /* open long */
    assert_non_null(strstr(sent_ok(&ev), "\"side\":\"buy\",\"posSide\":\"long\""));
    /* pos_side net: derived from side and reduce-only (unambiguous) */
    ev = place(AT_SIDE_BUY, AT_POS_NET, true);
    assert_non_null(strstr(sent_ok(&ev), "\"side\":\"buy\",\"posSide\":\"short\""));
    ev = place(AT_SIDE_SELL, AT_POS_NET, true);
    assert_non_null(strstr(sent_ok(&ev), "\"side\":\"sell\",\"posSide\":\"long\""));
    ev = place(AT_SIDE_SELL, AT_POS_NET, false);
    const char *b = sent_ok(&ev);
    assert_non_null(strstr(b, "\"side\":\"sell\",\"posSide\":\"short\""));
    assert_null(strstr(b, "reduceOnly"));
}

/* Net mode: one position per instrument, posSide long/short cannot be
 * honoured (a "long" sell would open a short): refused. */
static void test_net_mode(void **state)
{
    (void)state;
    C.long_short = false;
    at_ev_order_intent ev = place(AT_SIDE_SELL, AT_POS_LONG, false);
    assert_refused(&ev, "pos_side long in a net_mode account");
    ev = place(AT_SIDE_BUY, AT_POS_SHORT, true);
    assert_refused(&ev, "pos_side short in a net_mode account");
    ev = place(AT_SIDE_SELL, AT_POS_LONG, false);
    ev.op = AT_INTENT_CLOSE_POSITION;
    assert_refused(&ev, "pos_side long in a net_mode account");
    ev = place(AT_SIDE_SELL, AT_POS_NET, true);
    const char *b = sent_ok(&ev);
    assert_null(strstr(b, "posSide"));
    assert_non_null(strstr(b, "\"reduceOnly\":true"));
}

/* ------------------------------------------------------------ leverage */

static void test_leverage_set_before_place(void **state)
{
    (void)state;
    at_ev_order_intent ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D("5");
    const at_ev_order_result *r = submit(&ev);
    assert_true(r->ok);
    assert_int_equal(nposts, 2);
    assert_string_equal(posts[0].path, "/api/v5/account/set-leverage");
    assert_string_equal(posts[0].body,
                        "{\"instId\":\"BTC-USDT-SWAP\",\"lever\":\"5\",\"mgnMode\":\"cross\"}");
    assert_string_equal(posts[1].path, "/api/v5/trade/order");

    /* the same leverage again: no extra call */
    ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D("5");
    sent_ok(&ev);

    /* another one: set again */
    ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D("7");
    r = submit(&ev);
    assert_true(r->ok);
    assert_int_equal(nposts, 2);
    assert_non_null(strstr(posts[0].body, "\"lever\":\"7\""));

    /* 0 = leave as is */
    ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    sent_ok(&ev);
}

/* Isolated margin in hedge mode: a leverage per side, posSide sent. */
static void test_leverage_isolated_hedge(void **state)
{
    (void)state;
    C.long_short = true;
    at_ev_order_intent ev = place(AT_SIDE_SELL, AT_POS_SHORT, false);
    ev.isolated = true;
    ev.leverage = D("3");
    const at_ev_order_result *r = submit(&ev);
    assert_true(r->ok);
    assert_int_equal(nposts, 2);
    assert_string_equal(posts[0].body, "{\"instId\":\"BTC-USDT-SWAP\",\"lever\":\"3\","
                                       "\"mgnMode\":\"isolated\",\"posSide\":\"short\"}");
    ev = place(AT_SIDE_BUY, AT_POS_LONG, false); /* the long side is not known */
    ev.isolated = true;
    ev.leverage = D("3");
    r = submit(&ev);
    assert_int_equal(nposts, 2);
    assert_non_null(strstr(posts[0].body, "\"posSide\":\"long\""));
}

/* A refused set-leverage refuses the place with the venue's code and
 * message; the place is not sent. */
static void test_leverage_failure_refuses_place(void **state)
{
    (void)state;
    lever_answer = "{\"code\":\"59102\",\"msg\":\"Leverage exceeds the maximum leverage.\","
                   "\"data\":[]}";
    at_ev_order_intent ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D("150");
    const at_ev_order_result *r = submit(&ev);
    assert_false(r->ok);
    assert_string_equal(r->code, "59102");
    assert_non_null(strstr(r->msg, "Leverage exceeds the maximum leverage."));
    assert_int_equal(nposts, 1);
    assert_string_equal(posts[0].path, "/api/v5/account/set-leverage");
    /* a negative one is refused before anything is sent */
    ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D("-2");
    assert_refused(&ev, "leverage must be positive");
}

static void count_told(void *arg, bool ok, const char *code, const char *msg)
{
    (void)ok;
    (void)code;
    (void)msg;
    (*(int *)arg)++;
}

/* Submit all, run the loop: each gets one ORDER_RESULT, ok. */
static void submit_all(const at_ev_order_intent *evs, size_t n)
{
    mock_clear();
    nposts = 0;
    for (size_t i = 0; i < n; i++) {
        okx_trade_submit(&C, &evs[i]);
    }
    mock_run();
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), n);
    for (size_t i = 0; i < n; i++) {
        const at_ev_order_result *r = (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, i);
        if (!r->ok) {
            fail_msg("%s refused: %s", r->intent_id, r->msg ? r->msg : "");
        }
    }
}

/* The requests on the wire, in order, as "lever 5" / "place t3", each
 * with "+k": k ORDER_RESULTs were published before it went out. */
static void expect_wire(const char *const *want, size_t n)
{
    char got[16][64];
    for (int i = 0; i < nposts; i++) {
        bool lever = strstr(posts[i].path, "set-leverage") != NULL;
        const char *key = lever ? "\"lever\":\"" : "\"clOrdId\":\"";
        const char *v = strstr(posts[i].body, key);
        int len = v ? (int)strcspn(v + strlen(key), "\"") : 0;
        snprintf(got[i], sizeof(got[i]), "%s %.*s +%zu", lever ? "lever" : "place", len,
                 v ? v + strlen(key) : "", posts[i].results);
    }
    for (size_t i = 0; i < n || i < (size_t)nposts; i++) {
        const char *w = i < n ? want[i] : "(nothing)";
        const char *g = i < (size_t)nposts ? got[i] : "(nothing)";
        if (strcmp(w, g) != 0) {
            for (int k = 0; k < nposts; k++) {
                print_message("wire[%d]: %s\n", k, got[k]);
            }
            fail_msg("request %zu: want \"%s\", got \"%s\"", i, w, g);
        }
    }
}

static at_ev_order_intent at_lever(const char *lever)
{
    at_ev_order_intent ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D(lever);
    return ev;
}

/* Two places on one instrument and margin mode asking for different
 * leverages: the second's set-leverage waits until the first place is
 * answered, never lands between the first's set-leverage and its place
 * (which OKX would then execute at the second's leverage). */
static void test_leverage_serialized_per_key(void **state)
{
    (void)state;
    at_ev_order_intent ev[3] = {at_lever("5"), at_lever("10")};
    int a = atoi(ev[0].intent_id + 1);
    char w[6][32];
    /* nothing known: 5 is set, its place answered, then 10 */
    submit_all(ev, 2);
    snprintf(w[0], sizeof(w[0]), "lever 5 +0");
    snprintf(w[1], sizeof(w[1]), "place t%d +0", a);
    snprintf(w[2], sizeof(w[2]), "lever 10 +1");
    snprintf(w[3], sizeof(w[3]), "place t%d +1", a + 1);
    expect_wire((const char *const[]){w[0], w[1], w[2], w[3]}, 4);

    /* 10 known now: the second must not go at once on what is known while
     * the first's set-leverage 5 is in flight */
    ev[0] = at_lever("5");
    ev[1] = at_lever("10");
    a = atoi(ev[0].intent_id + 1);
    submit_all(ev, 2);
    snprintf(w[1], sizeof(w[1]), "place t%d +0", a);
    snprintf(w[3], sizeof(w[3]), "place t%d +1", a + 1);
    expect_wire((const char *const[]){w[0], w[1], w[2], w[3]}, 4);

    /* the same leverage goes at once: both places out before any answer */
    ev[0] = at_lever("10");
    ev[1] = at_lever("10");
    a = atoi(ev[0].intent_id + 1);
    submit_all(ev, 2);
    snprintf(w[0], sizeof(w[0]), "place t%d +0", a);
    snprintf(w[1], sizeof(w[1]), "place t%d +0", a + 1);
    expect_wire((const char *const[]){w[0], w[1]}, 2);

    /* FIFO: a third at the first's leverage waits behind the second */
    ev[0] = at_lever("5");
    ev[1] = at_lever("10");
    ev[2] = at_lever("5");
    a = atoi(ev[0].intent_id + 1);
    submit_all(ev, 3);
    snprintf(w[0], sizeof(w[0]), "lever 5 +0");
    snprintf(w[1], sizeof(w[1]), "place t%d +0", a);
    snprintf(w[2], sizeof(w[2]), "lever 10 +1");
    snprintf(w[3], sizeof(w[3]), "place t%d +1", a + 1);
    snprintf(w[4], sizeof(w[4]), "lever 5 +2");
    snprintf(w[5], sizeof(w[5]), "place t%d +2", a + 2);
    expect_wire((const char *const[]){w[0], w[1], w[2], w[3], w[4], w[5]}, 6);
}

/* Keys are apart: isolated margin in long/short mode has one per side, so
 * a short at 3 and a long at 7 do not wait for each other. A refused
 * set-leverage releases the key: the next waiting goes. */
static void test_leverage_keys_and_failure(void **state)
{
    (void)state;
    C.long_short = true;
    at_ev_order_intent ev[2] = {place(AT_SIDE_SELL, AT_POS_SHORT, false),
                                place(AT_SIDE_BUY, AT_POS_LONG, false)};
    ev[0].isolated = ev[1].isolated = true;
    ev[0].leverage = D("3");
    ev[1].leverage = D("7");
    int a = atoi(ev[0].intent_id + 1);
    submit_all(ev, 2);
    char w[4][32];
    snprintf(w[0], sizeof(w[0]), "lever 3 +0");
    snprintf(w[1], sizeof(w[1]), "lever 7 +0");
    snprintf(w[2], sizeof(w[2]), "place t%d +0", a);
    snprintf(w[3], sizeof(w[3]), "place t%d +0", a + 1);
    expect_wire((const char *const[]){w[0], w[1], w[2], w[3]}, 4);

    C.long_short = false;
    lever_answer = "{\"code\":\"59102\",\"msg\":\"Leverage exceeds the maximum leverage.\","
                   "\"data\":[]}";
    ev[0] = at_lever("150");
    ev[1] = at_lever("9");
    mock_clear();
    nposts = 0;
    okx_trade_submit(&C, &ev[0]);
    okx_trade_submit(&C, &ev[1]);
    mock_run();
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 2);
    const at_ev_order_result *r = (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, 0);
    assert_string_equal(r->intent_id, ev[0].intent_id);
    assert_string_equal(r->code, "59102");
    /* the second asked in its turn, after the first's refusal */
    assert_int_equal(nposts, 2);
    assert_non_null(strstr(posts[1].body, "\"lever\":\"9\""));
    assert_int_equal(posts[1].results, 1);
}

/* Stop while a place's set-leverage is in flight and another waits: both
 * get their result (refused, nothing more sent), nothing is left behind. */
static void test_leverage_wait_ends_at_stop(void **state)
{
    (void)state;
    at_ev_order_intent ev[2] = {at_lever("5"), at_lever("10")};
    mock_clear();
    nposts = 0;
    M.zero_timer_us = 1000; /* the venue answers a moment later */
    okx_trade_submit(&C, &ev[0]);
    okx_trade_submit(&C, &ev[1]);
    mock_advance(0); /* stored: the first's set-leverage out, the second waits */
    M.zero_timer_us = 0;
    assert_int_equal(nposts, 1);
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 0);
    okx_trade_stop(&C);
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 2);
    for (size_t i = 0; i < 2; i++) {
        const at_ev_order_result *r = (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, i);
        assert_false(r->ok);
        assert_string_equal(r->intent_id, ev[i].intent_id);
        assert_non_null(strstr(r->msg, "stopped before the leverage was set"));
    }
    assert_int_equal(nposts, 1);
    assert_null(C.lever_keys);
}

/* set-leverage's body is built by jansson: an instrument id with a quote or
 * a backslash is escaped, never breaks the JSON. */
static void test_leverage_body_is_json(void **state)
{
    (void)state;
    const char odd[] = "BTC\"-USDT\\SWAP";
    char why[160] = "";
    mock_clear();
    nposts = 0;
    okx_lever_hold *h = NULL;
    int told = 0;
    assert_int_equal(
        okx_lever_ensure(&C, odd, true, NULL, D("4"), count_told, &told, &h, why, sizeof(why)), 1);
    assert_non_null(h);
    assert_int_equal(nposts, 1);
    json_error_t jerr;
    json_t *b = json_loads(posts[0].body, 0, &jerr);
    if (!b) {
        fail_msg("set-leverage body is not JSON: %s (%s)", posts[0].body, jerr.text);
    }
    assert_string_equal(json_string_value(json_object_get(b, "instId")), odd);
    assert_string_equal(json_string_value(json_object_get(b, "lever")), "4");
    assert_string_equal(json_string_value(json_object_get(b, "mgnMode")), "isolated");
    assert_int_equal(json_object_size(b), 3);
    json_decref(b);
    mock_run();
    assert_int_equal(told, 1);
    okx_lever_release(h);
}

/* A full table of known leverages forgets the one told longest ago (kept
 * in order when one is forgotten, refreshed when told again), preferring a
 * key no place holds; a busy key forgotten keeps its queue. */
static void test_leverage_table_forgets_oldest(void **state)
{
    (void)state;
    char id[OKX_MAX_LEVERS + 8][24];
    at_dec five = D("5");
    int told[3] = {0, 0, 0};
    char why[160];
    /* BTC held at 5 by a place in flight, the first entry of the table */
    okx_lever_hold *held = NULL, *same = NULL, *other = NULL;
    mock_clear();
    nposts = 0;
    assert_int_equal(okx_lever_ensure(&C, "BTC-USDT-SWAP", false, NULL, five, count_told, &told[0],
                                      &held, why, sizeof(why)),
                     1);
    mock_run();
    assert_int_equal(told[0], 1);
    for (int i = 0; i < OKX_MAX_LEVERS + 8; i++) {
        snprintf(id[i], sizeof(id[i]), "X%d-USDT-SWAP", i);
    }
    for (int i = 0; i < OKX_MAX_LEVERS - 1; i++) {
        okx_lever_note(&C, id[i], "cross", "net", five);
    }
    assert_int_equal(C.nlevers, OKX_MAX_LEVERS);
    okx_lever_note(&C, id[0], "cross", "net", five);           /* X0 told again: newest */
    okx_lever_note(&C, id[5], "cross", "net", (at_dec){0, 0}); /* X5 unknown now */
    /* 7 more: X1..X4, X6, X7 forgotten (BTC is held), not X0 nor the last */
    for (int i = OKX_MAX_LEVERS; i < OKX_MAX_LEVERS + 7; i++) {
        okx_lever_note(&C, id[i], "cross", "net", five);
    }
    nposts = 0;
    okx_lever_hold *h = NULL;
    const int known[] = {0, 8, OKX_MAX_LEVERS - 2};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        int rc = okx_lever_ensure(&C, id[known[i]], false, NULL, five, count_told, &told[2], &h,
                                  why, sizeof(why));
        if (rc != 0) {
            fail_msg("%s forgotten (set-leverage sent)", id[known[i]]);
        }
        okx_lever_release(h);
    }
    assert_int_equal(
        okx_lever_ensure(&C, id[7], false, NULL, five, count_told, &told[2], &h, why, sizeof(why)),
        1); /* forgotten: set again */
    mock_run();
    okx_lever_release(h);
    /* BTC still known at 5: the same leverage costs no call */
    nposts = 0;
    assert_int_equal(okx_lever_ensure(&C, "BTC-USDT-SWAP", false, NULL, five, count_told, &told[1],
                                      &same, why, sizeof(why)),
                     0);
    okx_lever_release(same);
    /* one waiting for 9 behind the held 5, then a flood of notes: it goes
     * once the place holding 5 ends */
    assert_int_equal(okx_lever_ensure(&C, "BTC-USDT-SWAP", false, NULL, D("9"), count_told,
                                      &told[1], &other, why, sizeof(why)),
                     1);
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < OKX_MAX_LEVERS + 8; i++) {
            okx_lever_note(&C, id[i], "cross", "net", D("2"));
        }
    }
    mock_run();
    assert_int_equal(told[1], 0);
    assert_int_equal(nposts, 0);
    okx_lever_release(held);
    mock_run();
    assert_int_equal(told[1], 1);
    assert_int_equal(nposts, 1);
    assert_non_null(strstr(posts[0].body, "\"lever\":\"9\""));
    okx_lever_release(other);
    assert_null(C.lever_keys);
}

/* A position push tells the leverage in force: asking for it costs no call. */
static void test_leverage_from_position_push(void **state)
{
    (void)state;
    const char push[] =
        "{\"arg\":{\"channel\":\"positions\"},\"data\":[{\"instId\":\"BTC-USDT-SWAP\","
        "\"posSide\":\"net\",\"mgnMode\":\"cross\",\"pos\":\"1\",\"avgPx\":\"50000\",\"upl\":\"0\","
        "\"lever\":\"12\",\"liqPx\":\"\",\"imr\":\"10\",\"realizedPnl\":\"0\",\"uTime\":\"1\"}]}";
    okx_account_on_private(&C, push, strlen(push));
    at_ev_order_intent ev = place(AT_SIDE_BUY, AT_POS_NET, false);
    ev.leverage = D("12");
    sent_ok(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_long_short_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_set_before_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_isolated_hedge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_failure_refuses_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_from_position_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_body_is_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_serialized_per_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_keys_and_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_wait_ends_at_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leverage_table_forgets_oldest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

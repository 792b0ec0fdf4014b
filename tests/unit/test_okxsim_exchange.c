/* Unit tests for the okx-sim accounts layer (acct.c order*.c match.c
 * position.c algo*.c): matching against a known book, fees and PnL to the
 * last digit, margin, OKX error codes, TP/SL, funding and liquidation.
 *
 * Each test builds a seeded market and one account from a temp JSON file.
 * Prices are moved with market_set_price and then, where exact levels
 * matter, the book is overwritten with known levels (fills snapshot
 * inst->book before taking liquidity). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dec_lit.h"
#include "sim.h"

#define BTC "BTC-USDT-SWAP"

typedef struct fx {
    sim_market *m;
    sim_exchange x;
    sim_acct *a;
    sim_inst *btc;
    int order_pushes, algo_pushes, account_pushes;
    json_t *last_order_push; /* copy of the newest orders push */
    json_t *algo_push_list;  /* copies of every orders-algo push, oldest first */
} fx;

/* ---- helpers ---------------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_order(void *arg, sim_acct *a, const sim_order *o, json_t *data)
{
    (void)a;
    (void)o;
    fx *f = arg;
    f->order_pushes++;
    json_decref(f->last_order_push);
    f->last_order_push = json_deep_copy(data);
}

static void on_account(void *arg, sim_acct *a, json_t *data)
{
    (void)a;
    (void)data;
    ((fx *)arg)->account_pushes++;
}

static void on_algo(void *arg, sim_acct *a, json_t *data)
{
    (void)a;
    fx *f = arg;
    f->algo_pushes++;
    if (!f->algo_push_list) {
        f->algo_push_list = json_array();
    }
    json_array_append_new(f->algo_push_list, json_deep_copy(data));
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/okxsim-acct-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void fx_init(fx *f, const char *pos_mode)
{
    memset(f, 0, sizeof(*f));
    sim_market_opts mo = {NULL, NULL, 42, 1.0, 20};
    char err[256];
    f->m = market_new(&mo, err, sizeof(err));
    assert_non_null(f->m);
    f->x.market = f->m;
    f->x.mmr_rate = 0.004;
    f->x.now_ms = wall_ms();
    f->x.push.order = on_order;
    f->x.push.account = on_account;
    f->x.push.algo = on_algo;
    f->x.push.arg = f;
    char json[256];
    snprintf(json, sizeof(json),
             "[{\"apiKey\":\"k1\",\"secretKey\":\"s1\",\"passphrase\":\"p1\",\"demo\":true,"
             "\"posMode\":\"%s\",\"balances\":{\"USDT\":\"10000\"}}]",
             pos_mode);
    char *path = write_temp(json);
    int rc = acct_load(&f->x, path, err, sizeof(err));
    unlink(path);
    free(path);
    assert_int_equal(rc, AT_OK);
    f->a = acct_by_key(&f->x, "k1");
    assert_non_null(f->a);
    f->btc = market_find(f->m, BTC);
    assert_non_null(f->btc);
}

static void fx_free(fx *f)
{
    json_decref(f->last_order_push);
    json_decref(f->algo_push_list);
    acct_free_all(&f->x);
    market_free(f->m);
}

/* Move the price (last = mark = index) and replace the book with known
 * levels: "px:sz,px:sz" best first. */
static void set_market(fx *f, const char *px, const char *bids, const char *asks)
{
    assert_int_equal(market_set_price(f->m, f->btc, D(px), f->x.now_ms), AT_OK);
    sim_book *b = &f->btc->book;
    const char *sides[2] = {bids, asks};
    for (int s = 0; s < 2; s++) {
        sim_level *lv = s == 0 ? b->bids : b->asks;
        int n = 0;
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", sides[s] ? sides[s] : "");
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            char *colon = strchr(tok, ':');
            *colon = '\0';
            lv[n].px = D(tok);
            lv[n].sz = D(colon + 1);
            lv[n].orders = 1;
            n++;
        }
        if (s == 0) {
            b->nbids = n;
        } else {
            b->nasks = n;
        }
    }
}

typedef void (*handler)(sim_exchange *, sim_acct *, const sim_call *, sim_reply *);

/* Run a handler with a JSON body (or NULL) and a query "k=v&k=v" (or NULL).
 * The reply's data belongs to the caller. */
static sim_reply run(fx *f, handler h, const char *body, const char *query)
{
    sim_reply r;
    memset(&r, 0, sizeof(r));
    r.http = 200;
    sim_param params[16];
    char qbuf[512];
    size_t n = 0;
    if (query) {
        snprintf(qbuf, sizeof(qbuf), "%s", query);
        for (char *tok = strtok(qbuf, "&"); tok && n < 16; tok = strtok(NULL, "&")) {
            char *eq = strchr(tok, '=');
            *eq = '\0';
            params[n].key = tok;
            params[n].val = eq + 1;
            n++;
        }
    }
    json_t *b = NULL;
    if (body) {
        json_error_t je;
        b = json_loads(body, 0, &je);
        if (!b) {
            fail_msg("bad test JSON %s: %s", body, je.text);
        }
    }
    sim_call c = {body ? "POST" : "GET", "/api/v5/x", params, n, b, false};
    h(&f->x, f->a, &c, &r);
    json_decref(b);
    if (!r.code[0]) {
        snprintf(r.code, sizeof(r.code), "0");
    }
    return r;
}

static const char *item_str(const sim_reply *r, size_t i, const char *key)
{
    const json_t *it = json_array_get(r->data, i);
    const json_t *v = json_object_get(it, key);
    if (!json_is_string(v)) {
        fail_msg("data[%zu].%s is not a string", i, key);
    }
    return json_string_value(v);
}

/* Place one order; returns its ordId (static buffer) and checks sCode. */
static const char *place_ok(fx *f, const char *body)
{
    static char id[SIM_ID_LEN];
    sim_reply r = run(f, order_place, body, NULL);
    if (strcmp(item_str(&r, 0, "sCode"), "0") != 0) {
        fail_msg("order rejected: %s %s", item_str(&r, 0, "sCode"), item_str(&r, 0, "sMsg"));
    }
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "sMsg"), "Order placed");
    assert_true(r.trade);
    snprintf(id, sizeof(id), "%s", item_str(&r, 0, "ordId"));
    json_decref(r.data);
    return id;
}

/* Place one order expected to fail with `scode`. */
static void place_fails(fx *f, const char *body, const char *scode)
{
    sim_reply r = run(f, order_place, body, NULL);
    if (strcmp(item_str(&r, 0, "sCode"), scode) != 0) {
        fail_msg("want sCode %s, got %s (%s)", scode, item_str(&r, 0, "sCode"),
                 item_str(&r, 0, "sMsg"));
    }
    assert_string_equal(r.code, "1");
    assert_string_equal(r.msg, "All operations failed");
    assert_int_equal(r.http, 200);
    assert_true(strlen(item_str(&r, 0, "sMsg")) > 0);
    json_decref(r.data);
}

/* A field of GET trade/order for ordId. */
static char *order_field(fx *f, const char *ord_id, const char *key)
{
    static char out[128];
    char q[128];
    snprintf(q, sizeof(q), "instId=%s&ordId=%s", BTC, ord_id);
    sim_reply r = run(f, order_get, NULL, q);
    assert_string_equal(r.code, "0");
    snprintf(out, sizeof(out), "%s", item_str(&r, 0, key));
    json_decref(r.data);
    return out;
}

static json_t *positions(fx *f)
{
    return acct_positions_json(&f->x, f->a, NULL);
}

static const char *pos_field(json_t *list, size_t i, const char *key)
{
    const json_t *v = json_object_get(json_array_get(list, i), key);
    if (!json_is_string(v)) {
        fail_msg("position[%zu].%s missing or not a string", i, key);
    }
    return json_string_value(v);
}

static void expect_cash(fx *f, const char *want)
{
    char buf[AT_DEC_STRLEN];
    assert_string_equal(sim_dec_str(f->a->cash, buf), want);
}

static const char *bal_field(json_t *bal, const char *key)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(bal, "details"), 0), key));
}

#define BUY_LONG(sz)                                                                               \
    "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"posSide\":\"long\","          \
    "\"ordType\":\"market\",\"sz\":\"" sz "\"}"
#define SELL_LONG(sz)                                                                              \
    "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\",\"posSide\":\"long\","         \
    "\"ordType\":\"market\",\"sz\":\"" sz "\"}"

/* ---- tests ------------------------------------------------------------ */

static void test_market_buy_walks_levels(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:1,49999:2", "50000.5:1,50001:2,50002:5");
    const char *id = place_ok(&f, BUY_LONG("2"));
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", id);
    assert_in_range(strlen(ord), 18, 19);
    assert_string_equal(order_field(&f, ord, "state"), "filled");
    assert_string_equal(order_field(&f, ord, "accFillSz"), "2");
    assert_string_equal(order_field(&f, ord, "avgPx"), "50000.75");
    /* 1 x 0.01 x 50000.5 x 0.0005 + 1 x 0.01 x 50001 x 0.0005 */
    assert_string_equal(order_field(&f, ord, "fee"), "-0.5000075");
    assert_string_equal(order_field(&f, ord, "fillPx"), "50001");
    assert_string_equal(order_field(&f, ord, "fillSz"), "1");
    expect_cash(&f, "9999.4999925");
    /* The fill push carries the fill's own fee and execType. */
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "fillFee")),
                        "-0.250005");
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "execType")), "T");
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "fillNotionalUsd")),
                        "500.01");
    /* Two fills, newest first, fee rate shown negative. */
    sim_reply r = run(&f, order_fills, NULL, "instType=SWAP");
    assert_int_equal(json_array_size(r.data), 2);
    assert_string_equal(item_str(&r, 0, "fillPx"), "50001");
    assert_string_equal(item_str(&r, 1, "fillPx"), "50000.5");
    assert_string_equal(item_str(&r, 0, "feeRate"), "-0.0005");
    assert_string_equal(item_str(&r, 0, "execType"), "T");
    assert_string_equal(item_str(&r, 0, "ordId"), ord);
    json_decref(r.data);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    assert_string_equal(pos_field(p, 0, "pos"), "2");
    assert_string_equal(pos_field(p, 0, "avgPx"), "50000.75");
    assert_string_equal(pos_field(p, 0, "posSide"), "long");
    assert_string_equal(pos_field(p, 0, "mgnMode"), "cross");
    assert_string_equal(pos_field(p, 0, "ccy"), "USDT");
    assert_string_equal(pos_field(p, 0, "lever"), "10");
    json_decref(p);
    fx_free(&f);
}

static void test_limit_rests_then_fills_as_maker(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:1", "50000.5:1");
    const char *id = place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                                  "\"posSide\":\"long\",\"ordType\":\"limit\",\"px\":\"49990\","
                                  "\"sz\":\"3\",\"clOrdId\":\"lim1\"}");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", id);
    assert_string_equal(order_field(&f, ord, "state"), "live");
    /* Open-order margin is reserved: 3 x 0.01 x 49990 / 10 */
    json_t *bal = acct_balance_json(&f.x, f.a);
    assert_string_equal(bal_field(bal, "ordFrozen"), "149.97");
    assert_string_equal(json_string_value(json_object_get(bal, "availEq")), "9850.03");
    json_decref(bal);
    sim_reply r = run(&f, order_pending, NULL, "instType=SWAP");
    assert_int_equal(json_array_size(r.data), 1);
    json_decref(r.data);
    /* The book moves down through the order: 2 contracts cross first. */
    set_market(&f, "49985", "49984:5", "49989:1,49990:1,49991:5");
    exchange_tick(&f.x);
    assert_string_equal(order_field(&f, ord, "state"), "partially_filled");
    assert_string_equal(order_field(&f, ord, "accFillSz"), "2");
    assert_string_equal(order_field(&f, ord, "fillPx"), "49990");
    /* maker: 2 x 0.01 x 49990 x 0.0002 */
    assert_string_equal(order_field(&f, ord, "fee"), "-0.19996");
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "execType")), "M");
    set_market(&f, "49980", "49979:5", "49985:10");
    exchange_tick(&f.x);
    assert_string_equal(order_field(&f, ord, "state"), "filled");
    assert_string_equal(order_field(&f, ord, "fee"), "-0.29994");
    expect_cash(&f, "9999.70006");
    r = run(&f, order_pending, NULL, NULL);
    assert_int_equal(json_array_size(r.data), 0);
    json_decref(r.data);
    r = run(&f, order_history, NULL, "instType=SWAP&state=filled");
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "clOrdId"), "lim1");
    json_decref(r.data);
    r = run(&f, order_history, NULL, NULL);
    assert_string_equal(r.code, "50014");
    json_decref(r.data);
    fx_free(&f);
}

static void test_limit_taker_part_then_rest(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:1", "50000.5:1,50001:1,50002:5");
    const char *id = place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                                  "\"posSide\":\"long\",\"ordType\":\"limit\",\"px\":\"50001\","
                                  "\"sz\":\"5\"}");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", id);
    /* Takes 50000.5 and 50001 (never beyond px), rests 3. */
    assert_string_equal(order_field(&f, ord, "state"), "partially_filled");
    assert_string_equal(order_field(&f, ord, "accFillSz"), "2");
    assert_string_equal(order_field(&f, ord, "avgPx"), "50000.75");
    fx_free(&f);
}

static void test_post_only_ioc_fok(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    const char *book_asks = "50000.5:1,50001:1";
    set_market(&f, "50000", "49999.5:1", book_asks);
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                          "\"posSide\":\"long\",\"ordType\":\"post_only\",\"px\":\"50000.5\","
                          "\"sz\":\"1\"}"));
    assert_string_equal(order_field(&f, ord, "state"), "canceled");
    assert_string_equal(order_field(&f, ord, "cancelSource"), "31");
    assert_string_equal(order_field(&f, ord, "accFillSz"), "0");
    /* post_only below the ask rests */
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                          "\"posSide\":\"long\",\"ordType\":\"post_only\",\"px\":\"50000\","
                          "\"sz\":\"1\"}"));
    assert_string_equal(order_field(&f, ord, "state"), "live");
    /* ioc: 2 cross, 1 canceled */
    set_market(&f, "50000", "49999.5:1", book_asks);
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                          "\"posSide\":\"long\",\"ordType\":\"ioc\",\"px\":\"50001\","
                          "\"sz\":\"3\"}"));
    assert_string_equal(order_field(&f, ord, "state"), "canceled");
    assert_string_equal(order_field(&f, ord, "accFillSz"), "2");
    assert_string_equal(order_field(&f, ord, "cancelSource"), "14");
    /* fok: not enough at or below px -> nothing fills */
    set_market(&f, "50000", "49999.5:1", book_asks);
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                          "\"posSide\":\"long\",\"ordType\":\"fok\",\"px\":\"50001\","
                          "\"sz\":\"3\"}"));
    assert_string_equal(order_field(&f, ord, "state"), "canceled");
    assert_string_equal(order_field(&f, ord, "accFillSz"), "0");
    assert_string_equal(order_field(&f, ord, "cancelSource"), "13");
    set_market(&f, "50000", "49999.5:1", book_asks);
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                          "\"posSide\":\"long\",\"ordType\":\"fok\",\"px\":\"50001\","
                          "\"sz\":\"2\"}"));
    assert_string_equal(order_field(&f, ord, "state"), "filled");
    fx_free(&f);
}

static void test_validation_codes(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
#define LIM(extra) "{\"instId\":\"" BTC "\",\"side\":\"buy\",\"posSide\":\"long\"," extra "}"
    place_fails(&f,
                "{\"instId\":\"NOPE-USDT-SWAP\",\"tdMode\":\"cross\",\"side\":\"buy\","
                "\"posSide\":\"long\",\"ordType\":\"market\",\"sz\":\"1\"}",
                "51001");
    place_fails(&f, LIM("\"tdMode\":\"cash\",\"ordType\":\"market\",\"sz\":\"1\""), "51000");
    place_fails(&f, LIM("\"tdMode\":\"cross\",\"ordType\":\"stop\",\"sz\":\"1\""), "51000");
    place_fails(&f, LIM("\"tdMode\":\"cross\",\"ordType\":\"market\",\"sz\":\"0.015\""), "51121");
    place_fails(&f, LIM("\"tdMode\":\"cross\",\"ordType\":\"market\",\"sz\":\"0\""), "51000");
    place_fails(&f, LIM("\"tdMode\":\"cross\",\"ordType\":\"limit\",\"sz\":\"1\""), "51000");
    place_fails(&f,
                LIM("\"tdMode\":\"cross\",\"ordType\":\"limit\",\"sz\":\"1\",\"px\":\"49000.05\""),
                "51000");
    /* +-5% band around last 50000 */
    place_fails(&f,
                LIM("\"tdMode\":\"cross\",\"ordType\":\"limit\",\"sz\":\"1\",\"px\":\"52500.1\""),
                "51006");
    place_ok(&f, LIM("\"tdMode\":\"cross\",\"ordType\":\"limit\",\"sz\":\"1\",\"px\":\"47500\""));
    place_fails(
        &f, LIM("\"tdMode\":\"cross\",\"ordType\":\"market\",\"sz\":\"1\",\"clOrdId\":\"bad-id\""),
        "51000");
    place_fails(&f,
                LIM("\"tdMode\":\"cross\",\"ordType\":\"market\",\"sz\":\"1\",\"clOrdId\":"
                    "\"a23456789012345678901234567890123\""),
                "51000");
    /* posSide is required in long_short_mode */
    place_fails(&f,
                "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                "\"ordType\":\"market\",\"sz\":\"1\"}",
                "51000");
    /* closing a long that does not exist */
    place_fails(&f, SELL_LONG("1"), "51169");
    fx_free(&f);
}

static void test_min_size(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    f.btc->min_sz = D("0.1"); /* like an instrument with minSz above lotSz */
    place_fails(&f, BUY_LONG("0.05"), "51020");
    place_ok(&f, BUY_LONG("0.1"));
    fx_free(&f);
}

static void test_duplicate_cl_ord_id(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    const char *lim = "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                      "\"posSide\":\"long\",\"ordType\":\"limit\",\"px\":\"49000\","
                      "\"sz\":\"1\",\"clOrdId\":\"dup1\"}";
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", place_ok(&f, lim));
    place_fails(&f, lim, "51016");
    /* cancel by clOrdId, then the id is free again */
    sim_reply r = run(&f, order_cancel, "{\"instId\":\"" BTC "\",\"clOrdId\":\"dup1\"}", NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "ordId"), ord);
    json_decref(r.data);
    assert_string_equal(order_field(&f, ord, "cancelSource"), "1");
    place_ok(&f, lim);
    /* cancel of a finished order */
    char q[128];
    snprintf(q, sizeof(q), "{\"instId\":\"%s\",\"ordId\":\"%s\"}", BTC, ord);
    r = run(&f, order_cancel, q, NULL);
    assert_string_equal(r.code, "1");
    assert_string_equal(item_str(&r, 0, "sCode"), "51400");
    json_decref(r.data);
    /* get of an unknown order */
    r = run(&f, order_get, NULL, "instId=" BTC "&ordId=123");
    assert_string_equal(r.code, "51603");
    json_decref(r.data);
    fx_free(&f);
}

static void test_insufficient_margin(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:5000", "50000.5:5000");
    /* 2000 contracts = 1,000,010 USDT notional: 100,001 margin at 10x */
    place_fails(&f, BUY_LONG("2000"), "51008");
    /* 199 contracts: 9950.0995 margin + 4.975 fee fits in 10000 */
    place_ok(&f, BUY_LONG("199"));
    place_fails(&f, BUY_LONG("1"), "51008");
    fx_free(&f);
}

static void test_net_mode_flip_and_reduce_only(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "net_mode");
    set_market(&f, "50000", "50000:10", "50000.5:10");
    place_fails(&f, BUY_LONG("1"), "51000"); /* posSide long in net_mode */
    place_fails(&f,
                "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\","
                "\"ordType\":\"market\",\"sz\":\"1\",\"reduceOnly\":true}",
                "51169");
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                 "\"ordType\":\"market\",\"sz\":\"1\"}");
    place_fails(&f,
                "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\","
                "\"ordType\":\"market\",\"sz\":\"2\",\"reduceOnly\":\"true\"}",
                "51112");
    set_market(&f, "50000", "50000:10", "50000.5:10");
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\","
                 "\"posSide\":\"net\",\"ordType\":\"market\",\"sz\":\"3\"}");
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    assert_string_equal(pos_field(p, 0, "pos"), "-2");
    assert_string_equal(pos_field(p, 0, "posSide"), "net");
    assert_string_equal(pos_field(p, 0, "avgPx"), "50000");
    /* closed 1 at 50000 from 50000.5: pnl -0.005 */
    assert_string_equal(pos_field(p, 0, "pnl"), "-0.005");
    json_decref(p);
    fx_free(&f);
}

static void test_open_close_pnl_exact(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    place_ok(&f, BUY_LONG("1"));
    expect_cash(&f, "9999.7499975");
    set_market(&f, "50100", "50100:10", "50100.5:10");
    json_t *p = positions(&f);
    /* upl at mark 50100: (50100 - 50000.5) x 1 x 0.01 */
    assert_string_equal(pos_field(p, 0, "upl"), "0.995");
    assert_string_equal(pos_field(p, 0, "notionalUsd"), "501");
    assert_string_equal(pos_field(p, 0, "imr"), "50.1");
    assert_string_equal(pos_field(p, 0, "mmr"), "2.004");
    json_decref(p);
    json_t *bal = acct_balance_json(&f.x, f.a);
    assert_string_equal(json_string_value(json_object_get(bal, "totalEq")), "10000.7449975");
    assert_string_equal(bal_field(bal, "upl"), "0.995");
    assert_string_equal(bal_field(bal, "ccy"), "USDT");
    json_decref(bal);
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", place_ok(&f, SELL_LONG("1")));
    /* + 0.995 pnl - 0.2505 fee */
    expect_cash(&f, "10000.4944975");
    assert_string_equal(order_field(&f, ord, "pnl"), "0.995");
    assert_string_equal(order_field(&f, ord, "reduceOnly"), "true");
    p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    /* closing more than is left */
    place_fails(&f, SELL_LONG("1"), "51169");
    fx_free(&f);
}

static void test_isolated_margin(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "50000.5:10", "50000.5:10");
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"isolated\",\"side\":\"buy\","
                 "\"posSide\":\"long\",\"ordType\":\"market\",\"sz\":\"2\"}");
    /* margin 2 x 0.01 x 50000.5 / 10 = 100.001 held; fee 0.500005 */
    expect_cash(&f, "9899.498995");
    json_t *p = positions(&f);
    assert_string_equal(pos_field(p, 0, "margin"), "100.001");
    assert_string_equal(pos_field(p, 0, "imr"), "");
    assert_string_equal(pos_field(p, 0, "mgnMode"), "isolated");
    json_decref(p);
    json_t *bal = acct_balance_json(&f.x, f.a);
    assert_string_equal(bal_field(bal, "cashBal"), "9999.499995");
    /* isoEq = margin + upl at mark 50000: 100.001 - 0.01 */
    assert_string_equal(bal_field(bal, "isoEq"), "99.991");
    json_decref(bal);
    set_market(&f, "50000.5", "50000.5:10", "50001:10");
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"isolated\",\"side\":\"sell\","
                 "\"posSide\":\"long\",\"ordType\":\"market\",\"sz\":\"1\"}");
    /* half the margin back, fee 0.2500025 */
    expect_cash(&f, "9949.2494925");
    p = positions(&f);
    assert_string_equal(pos_field(p, 0, "margin"), "50.0005");
    json_decref(p);
    fx_free(&f);
}

static void test_set_leverage(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    sim_reply r = run(&f, acct_set_leverage,
                      "{\"lever\":5,\"mgnMode\":\"cross\",\"instId\":\"" BTC "\"}", NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "lever"), "5");
    assert_string_equal(item_str(&r, 0, "mgnMode"), "cross");
    assert_string_equal(item_str(&r, 0, "instId"), BTC);
    json_decref(r.data);
    assert_int_equal(acct_lever(f.a, f.btc, "cross", "long"), 5);
    assert_int_equal(acct_lever(f.a, f.btc, "isolated", "long"), 10);
    r = run(&f, acct_set_leverage,
            "{\"lever\":\"101\",\"mgnMode\":\"cross\",\"instId\":\"" BTC "\"}", NULL);
    assert_string_equal(r.code, "59102");
    r = run(&f, acct_set_leverage, "{\"lever\":\"0\",\"mgnMode\":\"cross\",\"instId\":\"" BTC "\"}",
            NULL);
    assert_string_equal(r.code, "51000");
    r = run(&f, acct_set_leverage,
            "{\"lever\":\"3\",\"mgnMode\":\"isolated\",\"instId\":\"" BTC "\"}", NULL);
    assert_string_equal(r.code, "51000"); /* posSide needed */
    r = run(&f, acct_set_leverage, "{\"lever\":\"3\",\"mgnMode\":\"cross\",\"ccy\":\"USDT\"}",
            NULL);
    assert_string_equal(r.code, "50014");
    r = run(&f, acct_set_leverage, "{\"lever\":\"3\",\"instId\":\"" BTC "\"}", NULL);
    assert_string_equal(r.code, "50014");
    r = run(&f, acct_set_leverage,
            "{\"lever\":\"100\",\"mgnMode\":\"isolated\",\"posSide\":\"short\",\"instId\":\"" BTC
            "\"}",
            NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "posSide"), "short");
    json_decref(r.data);
    assert_int_equal(acct_lever(f.a, f.btc, "isolated", "short"), 100);
    /* orders take the leverage in force */
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", place_ok(&f, BUY_LONG("1")));
    assert_string_equal(order_field(&f, ord, "lever"), "5");
    fx_free(&f);
}

static void test_position_mode_and_config(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    sim_reply r = run(&f, acct_set_position_mode, "{\"posMode\":\"net_mode\"}", NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "posMode"), "net_mode");
    json_decref(r.data);
    r = run(&f, acct_config, NULL, NULL);
    assert_string_equal(item_str(&r, 0, "posMode"), "net_mode");
    assert_string_equal(item_str(&r, 0, "acctLv"), "2");
    assert_string_equal(item_str(&r, 0, "uid"), f.a->uid);
    assert_true(json_is_false(json_object_get(json_array_get(r.data, 0), "autoLoan")));
    json_decref(r.data);
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                 "\"ordType\":\"market\",\"sz\":\"1\"}");
    r = run(&f, acct_set_position_mode, "{\"posMode\":\"long_short_mode\"}", NULL);
    assert_string_equal(r.code, "59000");
    r = run(&f, acct_set_position_mode, "{\"posMode\":\"hedge\"}", NULL);
    assert_string_equal(r.code, "51000");
    fx_free(&f);
}

static void test_close_position(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    sim_reply r = run(&f, order_close_position,
                      "{\"instId\":\"" BTC "\",\"mgnMode\":\"cross\",\"posSide\":\"long\"}", NULL);
    assert_string_equal(r.code, "51023");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    place_ok(&f, BUY_LONG("1.5"));
    r = run(&f, order_close_position,
            "{\"instId\":\"" BTC "\",\"mgnMode\":\"cross\",\"posSide\":\"long\"}", NULL);
    assert_string_equal(r.code, "0");
    assert_true(r.trade);
    assert_string_equal(item_str(&r, 0, "posSide"), "long");
    assert_string_equal(item_str(&r, 0, "instId"), BTC);
    json_decref(r.data);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    fx_free(&f);
}

static void test_attached_sl_via_batch(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    /* what ccxt sends for createOrder with a stopLoss */
    sim_reply r =
        run(&f, order_batch,
            "[{\"instId\":\"" BTC "\",\"side\":\"buy\",\"ordType\":\"market\","
            "\"sz\":\"1\",\"tdMode\":\"cross\",\"posSide\":\"long\","
            "\"attachAlgoOrds\":[{\"slTriggerPx\":\"49000\",\"slOrdPx\":\"-1\","
            "\"slTriggerPxType\":\"last\"}],"
            "\"clOrdId\":\"6b9ad766b55dBCDE63969a1144bfb943\",\"tag\":\"6b9ad766b55dBCDE\"}]",
            NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "clOrdId"), "6b9ad766b55dBCDE63969a1144bfb943");
    assert_string_equal(item_str(&r, 0, "tag"), "6b9ad766b55dBCDE");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", item_str(&r, 0, "ordId"));
    json_decref(r.data);
    assert_string_equal(order_field(&f, ord, "slTriggerPx"), "49000");
    assert_string_equal(order_field(&f, ord, "slOrdPx"), "-1");
    r = run(&f, algo_pending, NULL, "ordType=conditional,oco");
    assert_string_equal(r.code, "0");
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "side"), "sell");
    assert_string_equal(item_str(&r, 0, "sz"), "1");
    assert_string_equal(item_str(&r, 0, "state"), "live");
    assert_string_equal(item_str(&r, 0, "slTriggerPx"), "49000");
    json_decref(r.data);
    r = run(&f, algo_pending, NULL, NULL);
    assert_string_equal(r.code, "50014");
    set_market(&f, "49100", "49099.5:10", "49100:10");
    exchange_tick(&f.x);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    json_decref(p);
    set_market(&f, "49000", "48999.5:10", "49000:10");
    exchange_tick(&f.x);
    p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    r = run(&f, algo_history, NULL, "ordType=conditional&state=effective");
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "actualSide"), "sl");
    assert_string_equal(item_str(&r, 0, "actualPx"), "48999.5");
    json_decref(r.data);
    assert_true(f.algo_pushes >= 2);
    fx_free(&f);
}

static void test_attached_canceled_with_parent(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"side\":\"buy\",\"ordType\":\"limit\","
                          "\"px\":\"49000\",\"sz\":\"1\",\"tdMode\":\"cross\",\"posSide\":\"long\","
                          "\"attachAlgoOrds\":[{\"tpTriggerPx\":51000,\"tpOrdPx\":\"-1\"}]}"));
    sim_reply r = run(&f, algo_pending, NULL, "ordType=conditional");
    assert_int_equal(json_array_size(r.data), 0); /* waits for the parent */
    json_decref(r.data);
    char body[128];
    snprintf(body, sizeof(body), "{\"instId\":\"%s\",\"ordId\":\"%s\"}", BTC, ord);
    r = run(&f, order_cancel, body, NULL);
    assert_string_equal(r.code, "0");
    json_decref(r.data);
    r = run(&f, algo_history, NULL, "ordType=conditional&state=canceled");
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "tpTriggerPx"), "51000");
    json_decref(r.data);
    fx_free(&f);
}

static void test_conditional_tp_close_fraction(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    place_ok(&f, BUY_LONG("2"));
    sim_reply r = run(&f, algo_place,
                      "{\"instId\":\"" BTC "\",\"side\":\"sell\",\"posSide\":\"long\","
                      "\"ordType\":\"conditional\",\"tdMode\":\"cross\",\"tpTriggerPx\":\"51000\","
                      "\"tpOrdPx\":\"-1\",\"tpTriggerPxType\":\"last\",\"closeFraction\":\"1\","
                      "\"clOrdId\":\"tp1\",\"tag\":\"t\"}",
                      NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "algoClOrdId"), "tp1");
    assert_string_equal(item_str(&r, 0, "sCode"), "0");
    assert_true(strlen(item_str(&r, 0, "algoId")) >= 18);
    json_decref(r.data);
    json_t *p = positions(&f);
    json_t *coa = json_object_get(json_array_get(p, 0), "closeOrderAlgo");
    assert_int_equal(json_array_size(coa), 1);
    json_decref(p);
    set_market(&f, "50500", "50499.5:10", "50500:10");
    exchange_tick(&f.x);
    p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    json_decref(p);
    set_market(&f, "51000", "51000:10", "51000.5:10");
    exchange_tick(&f.x);
    p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    /* validation: bad ordType, missing legs */
    r = run(&f, algo_place,
            "{\"instId\":\"" BTC "\",\"side\":\"sell\",\"posSide\":\"long\",\"ordType\":\"twap\","
            "\"tdMode\":\"cross\",\"sz\":\"1\"}",
            NULL);
    assert_string_equal(r.code, "1");
    assert_string_equal(item_str(&r, 0, "sCode"), "51000");
    json_decref(r.data);
    r = run(&f, algo_place,
            "{\"instId\":\"" BTC "\",\"side\":\"sell\",\"posSide\":\"long\",\"ordType\":\"oco\","
            "\"tdMode\":\"cross\",\"sz\":\"1\",\"tpTriggerPx\":\"52000\"}",
            NULL);
    assert_string_equal(item_str(&r, 0, "sCode"), "51000");
    json_decref(r.data);
    fx_free(&f);
}

static void test_trigger_order_and_cancel_algo(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    sim_reply r = run(&f, algo_place,
                      "{\"instId\":\"" BTC "\",\"side\":\"buy\",\"posSide\":\"long\","
                      "\"ordType\":\"trigger\",\"tdMode\":\"cross\",\"sz\":\"1\","
                      "\"triggerPx\":\"50500\",\"orderPx\":\"-1\"}",
                      NULL);
    assert_string_equal(r.code, "0");
    char id[SIM_ID_LEN];
    snprintf(id, sizeof(id), "%s", item_str(&r, 0, "algoId"));
    json_decref(r.data);
    set_market(&f, "50400", "50399.5:10", "50400:10");
    exchange_tick(&f.x);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    set_market(&f, "50500", "50499.5:10", "50500:10");
    exchange_tick(&f.x);
    p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    assert_string_equal(pos_field(p, 0, "avgPx"), "50500");
    json_decref(p);
    char body[160];
    snprintf(body, sizeof(body), "[{\"algoId\":\"%s\",\"instId\":\"%s\"}]", id, BTC);
    r = run(&f, algo_cancel, body, NULL);
    assert_string_equal(r.code, "1"); /* already effective */
    assert_string_equal(item_str(&r, 0, "sCode"), "51400");
    json_decref(r.data);
    fx_free(&f);
}

/* The state and algoClOrdId of the newest orders-algo push of algoId `id`
 * ("" when none). */
static const char *last_algo_state(fx *f, const char *id)
{
    const char *st = "";
    size_t i;
    json_t *p;
    json_array_foreach(f->algo_push_list, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "algoId")), id) == 0) {
            st = json_string_value(json_object_get(p, "state"));
        }
    }
    return st;
}

/* Open long 1 with an attached TP/SL whose attachAlgoClOrdId is `acl`;
 * returns its algoId (static buffer). */
static const char *open_with_tpsl(fx *f, const char *acl)
{
    static char id[SIM_ID_LEN];
    char body[512];
    snprintf(body, sizeof(body),
             "{\"instId\":\"" BTC "\",\"side\":\"buy\",\"ordType\":\"market\",\"sz\":\"1\","
             "\"tdMode\":\"cross\",\"posSide\":\"long\",\"attachAlgoOrds\":[{"
             "\"attachAlgoClOrdId\":\"%s\",\"tpTriggerPx\":\"60000\",\"slTriggerPx\":"
             "\"40000\"}]}",
             acl);
    place_ok(f, body);
    sim_reply r = run(f, algo_pending, NULL, "ordType=conditional,oco");
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "algoClOrdId"), acl);
    snprintf(id, sizeof(id), "%s", item_str(&r, 0, "algoId"));
    json_decref(r.data);
    assert_string_equal(last_algo_state(f, id), "live"); /* pushed once armed */
    return id;
}

/* A position that closes cancels its attached TP/SL (pushed canceled);
 * with keep_algos (okx-sim's keep-algos fault) it stays live, as users
 * report OKX leaving them. */
static void test_close_cancels_tpsl_unless_keep_algos(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    const char *close_body = "{\"instId\":\"" BTC "\",\"mgnMode\":\"cross\",\"posSide\":\"long\"}";
    char id[SIM_ID_LEN];
    snprintf(id, sizeof(id), "%s", open_with_tpsl(&f, "e1a"));
    sim_reply r = run(&f, order_close_position, close_body, NULL);
    assert_string_equal(r.code, "0");
    json_decref(r.data);
    assert_string_equal(last_algo_state(&f, id), "canceled");
    r = run(&f, algo_pending, NULL, "ordType=conditional,oco");
    assert_int_equal(json_array_size(r.data), 0);
    json_decref(r.data);

    f.x.keep_algos = true;
    snprintf(id, sizeof(id), "%s", open_with_tpsl(&f, "e2a"));
    int pushes = f.algo_pushes;
    r = run(&f, order_close_position, close_body, NULL);
    assert_string_equal(r.code, "0");
    json_decref(r.data);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    assert_int_equal(f.algo_pushes, pushes); /* nothing said about it */
    r = run(&f, algo_pending, NULL, "ordType=conditional,oco");
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "algoId"), id);
    assert_string_equal(item_str(&r, 0, "state"), "live");
    json_decref(r.data);
    /* cancelling it is the engine's job now */
    char body[160];
    snprintf(body, sizeof(body), "[{\"algoId\":\"%s\",\"instId\":\"%s\"}]", id, BTC);
    r = run(&f, algo_cancel, body, NULL);
    assert_string_equal(item_str(&r, 0, "sCode"), "0");
    json_decref(r.data);
    assert_string_equal(last_algo_state(&f, id), "canceled");
    fx_free(&f);
}

/* The order a triggered TP/SL places names it (algoId, algoClOrdId), as
 * OKX's orders push and trade/order do. */
static void test_order_placed_by_algo_names_it(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    char id[SIM_ID_LEN];
    snprintf(id, sizeof(id), "%s", open_with_tpsl(&f, "e3a"));
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "algoId")), "");
    set_market(&f, "39999", "39998.5:10", "39999:10");
    exchange_tick(&f.x);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    assert_string_equal(last_algo_state(&f, id), "effective");
    const json_t *o = f.last_order_push;
    assert_string_equal(json_string_value(json_object_get(o, "algoId")), id);
    assert_string_equal(json_string_value(json_object_get(o, "algoClOrdId")), "e3a");
    assert_string_equal(json_string_value(json_object_get(o, "state")), "filled");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", json_string_value(json_object_get(o, "ordId")));
    assert_string_equal(order_field(&f, ord, "algoId"), id);
    assert_string_equal(order_field(&f, ord, "algoClOrdId"), "e3a");
    fx_free(&f);
}

/* orders-algo-pending pages: after=algoId gives the older ones. */
static void test_algo_pending_after(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    place_ok(&f, BUY_LONG("3"));
    char ids[3][SIM_ID_LEN];
    for (int i = 0; i < 3; i++) {
        sim_reply r = run(&f, algo_place,
                          "{\"instId\":\"" BTC "\",\"side\":\"sell\",\"posSide\":\"long\","
                          "\"ordType\":\"conditional\",\"tdMode\":\"cross\",\"sz\":\"1\","
                          "\"slTriggerPx\":\"40000\"}",
                          NULL);
        snprintf(ids[i], sizeof(ids[i]), "%s", item_str(&r, 0, "algoId"));
        json_decref(r.data);
    }
    char q[128];
    snprintf(q, sizeof(q), "ordType=conditional&limit=2");
    sim_reply r = run(&f, algo_pending, NULL, q);
    assert_int_equal(json_array_size(r.data), 2);
    assert_string_equal(item_str(&r, 0, "algoId"), ids[2]); /* newest first */
    assert_string_equal(item_str(&r, 1, "algoId"), ids[1]);
    json_decref(r.data);
    snprintf(q, sizeof(q), "ordType=conditional&limit=2&after=%s", ids[1]);
    r = run(&f, algo_pending, NULL, q);
    assert_int_equal(json_array_size(r.data), 1);
    assert_string_equal(item_str(&r, 0, "algoId"), ids[0]);
    json_decref(r.data);
    fx_free(&f);
}

static void test_funding_sign(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "50000:10", "50000:10");
    place_ok(&f, BUY_LONG("1"));
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\","
                 "\"posSide\":\"short\",\"ordType\":\"market\",\"sz\":\"2\"}");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    f.btc->funding_rate = D("0.0001");
    exchange_tick(&f.x); /* first sighting of the schedule: nothing booked */
    char before[AT_DEC_STRLEN];
    sim_dec_str(f.a->cash, before);
    /* The settlement passes: the market shows the next period's rate now,
     * the period that settled is booked at the rate it had. */
    f.btc->funding_time_ms += 8 * 3600000LL;
    f.btc->funding_rate = D("0.0003");
    exchange_tick(&f.x);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 2);
    for (size_t i = 0; i < 2; i++) {
        /* long pays 1 x 0.01 x 50000 x 0.0001, short of 2 receives twice that */
        bool lng = strcmp(pos_field(p, i, "posSide"), "long") == 0;
        assert_string_equal(pos_field(p, i, "fundingFee"), lng ? "-0.05" : "0.1");
    }
    json_decref(p);
    bool err = false;
    at_dec want = sim_add(D(before), D("0.05"), &err);
    assert_int_equal(at_dec_cmp(f.a->cash, want), 0);
    exchange_tick(&f.x); /* same funding time: not booked again */
    assert_int_equal(at_dec_cmp(f.a->cash, want), 0);
    fx_free(&f);
}

static void test_liquidation_isolated(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    sim_reply r = run(&f, acct_set_leverage,
                      "{\"lever\":\"50\",\"mgnMode\":\"isolated\",\"posSide\":\"long\","
                      "\"instId\":\"" BTC "\"}",
                      NULL);
    assert_string_equal(r.code, "0");
    json_decref(r.data);
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"isolated\",\"side\":\"buy\","
                 "\"posSide\":\"long\",\"ordType\":\"market\",\"sz\":\"1\"}");
    expect_cash(&f, "9989.7498975");
    /* margin 10.0001 + upl -8.005 = 1.9951 >= mmr 1.968: still open */
    set_market(&f, "49200", "49199.5:10", "49200:10");
    exchange_tick(&f.x);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    assert_string_equal(pos_field(p, 0, "liqPx"), "49197.279");
    json_decref(p);
    set_market(&f, "49100", "49099.5:10", "49100:10");
    exchange_tick(&f.x);
    p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    /* closed at mark 49100: +10.0001 margin -9.005 pnl -0.2455 fee */
    expect_cash(&f, "9990.4994975");
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "category")),
                        "full_liquidation");
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "state")), "filled");
    fx_free(&f);
}

static void test_liquidation_cross(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    f.a->cash = D("60");
    set_market(&f, "50000", "49999.5:100", "50000:100");
    /* 10 contracts at 10x: 500 margin > 60 cash */
    place_fails(&f, BUY_LONG("10"), "51008");
    sim_reply r = run(&f, acct_set_leverage,
                      "{\"lever\":\"100\",\"mgnMode\":\"cross\",\"instId\":\"" BTC "\"}", NULL);
    json_decref(r.data);
    place_ok(&f, BUY_LONG("10")); /* 50 margin, 2.5 fee */
    /* equity 57.5 + (P - 50000) x 0.1 vs mmr 0.004 x 0.1 x P: breaks
     * below 49623.49 */
    set_market(&f, "49700", "49699.5:100", "49700:100");
    exchange_tick(&f.x);
    json_t *p = positions(&f);
    assert_int_equal(json_array_size(p), 1);
    json_decref(p);
    set_market(&f, "49600", "49599.5:100", "49600:100");
    exchange_tick(&f.x);
    p = positions(&f);
    assert_int_equal(json_array_size(p), 0);
    json_decref(p);
    /* 60 - 2.5 open fee - 40 loss at mark - 2.48 close fee */
    expect_cash(&f, "15.02");
    fx_free(&f);
}

static void test_order_json_fields(void **state)
{
    (void)state;
    static const char *const keys[] = {"instType",
                                       "instId",
                                       "tgtCcy",
                                       "ccy",
                                       "ordId",
                                       "clOrdId",
                                       "tag",
                                       "px",
                                       "pxUsd",
                                       "pxVol",
                                       "pxType",
                                       "sz",
                                       "pnl",
                                       "ordType",
                                       "side",
                                       "posSide",
                                       "tdMode",
                                       "accFillSz",
                                       "fillPx",
                                       "tradeId",
                                       "fillSz",
                                       "fillTime",
                                       "avgPx",
                                       "state",
                                       "stpId",
                                       "stpMode",
                                       "lever",
                                       "attachAlgoClOrdId",
                                       "tpTriggerPx",
                                       "tpTriggerPxType",
                                       "tpOrdPx",
                                       "slTriggerPx",
                                       "slTriggerPxType",
                                       "slOrdPx",
                                       "feeCcy",
                                       "fee",
                                       "rebateCcy",
                                       "rebate",
                                       "source",
                                       "category",
                                       "reduceOnly",
                                       "isTpLimit",
                                       "cancelSource",
                                       "cancelSourceReason",
                                       "quickMgnType",
                                       "algoClOrdId",
                                       "algoId",
                                       "uTime",
                                       "cTime"};
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s", place_ok(&f, BUY_LONG("1")));
    sim_reply r = run(&f, order_get, NULL, "instId=" BTC "&ordId=0");
    assert_string_equal(r.code, "51603");
    char q[128];
    snprintf(q, sizeof(q), "instId=%s&ordId=%s", BTC, ord);
    r = run(&f, order_get, NULL, q);
    const json_t *o = json_array_get(r.data, 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!json_is_string(json_object_get(o, keys[i]))) {
            fail_msg("order field %s missing or not a string", keys[i]);
        }
    }
    assert_true(json_is_array(json_object_get(o, "attachAlgoOrds")));
    assert_true(json_is_object(json_object_get(o, "linkedAlgoOrd")));
    assert_string_equal(item_str(&r, 0, "instType"), "SWAP");
    assert_string_equal(item_str(&r, 0, "feeCcy"), "USDT");
    assert_string_equal(item_str(&r, 0, "category"), "normal");
    assert_string_equal(item_str(&r, 0, "reduceOnly"), "false");
    assert_string_equal(item_str(&r, 0, "px"), "");
    assert_string_equal(item_str(&r, 0, "stpMode"), "cancel_maker");
    json_decref(r.data);
    fx_free(&f);
}

static void test_batch_partial_and_fault(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:10");
    sim_reply r = run(&f, order_batch, "[" BUY_LONG("1") "," BUY_LONG("0.001") "]", NULL);
    assert_string_equal(r.code, "2");
    assert_string_equal(r.msg, "Bulk operation partially succeeded");
    assert_string_equal(item_str(&r, 0, "sCode"), "0");
    assert_string_equal(item_str(&r, 1, "sCode"), "51121");
    assert_string_equal(item_str(&r, 1, "ordId"), "");
    json_decref(r.data);
    /* 21 orders: refused as a whole */
    char body[4096] = "[";
    for (int i = 0; i < 21; i++) {
        strcat(body, i ? "," BUY_LONG("1") : BUY_LONG("1"));
    }
    strcat(body, "]");
    r = run(&f, order_batch, body, NULL);
    assert_string_equal(r.code, "51000");
    assert_int_equal(r.http, 400);
    /* injected fault rejects exactly the next order */
    f.x.next_reject_code = 51008;
    snprintf(f.x.next_reject_msg, sizeof(f.x.next_reject_msg), "Insufficient margin (fault)");
    r = run(&f, order_place, BUY_LONG("1"), NULL);
    assert_string_equal(item_str(&r, 0, "sCode"), "51008");
    assert_string_equal(item_str(&r, 0, "sMsg"), "Insufficient margin (fault)");
    json_decref(r.data);
    assert_int_equal(f.x.next_reject_code, 0);
    place_ok(&f, BUY_LONG("1"));
    fx_free(&f);
}

static void test_amend(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    set_market(&f, "50000", "49999.5:10", "50000.5:1,50001:5");
    char ord[SIM_ID_LEN];
    snprintf(ord, sizeof(ord), "%s",
             place_ok(&f, "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                          "\"posSide\":\"long\",\"ordType\":\"limit\",\"px\":\"49000\","
                          "\"sz\":\"1\"}"));
    char body[256];
    snprintf(body, sizeof(body),
             "{\"instId\":\"%s\",\"ordId\":\"%s\",\"newSz\":\"2\",\"reqId\":\"r1\"}", BTC, ord);
    sim_reply r = run(&f, order_amend, body, NULL);
    assert_string_equal(r.code, "0");
    assert_string_equal(item_str(&r, 0, "reqId"), "r1");
    json_decref(r.data);
    assert_string_equal(order_field(&f, ord, "sz"), "2");
    assert_string_equal(json_string_value(json_object_get(f.last_order_push, "reqId")), "r1");
    /* moving the price through the book makes it a taker */
    set_market(&f, "50000", "49999.5:10", "50000.5:1,50001:5");
    snprintf(body, sizeof(body), "{\"instId\":\"%s\",\"ordId\":\"%s\",\"newPx\":\"50000.5\"}", BTC,
             ord);
    r = run(&f, order_amend, body, NULL);
    assert_string_equal(r.code, "0");
    json_decref(r.data);
    assert_string_equal(order_field(&f, ord, "accFillSz"), "1");
    assert_string_equal(order_field(&f, ord, "state"), "partially_filled");
    snprintf(body, sizeof(body), "{\"instId\":\"%s\",\"ordId\":\"%s\",\"newPx\":\"50000.55\"}", BTC,
             ord);
    r = run(&f, order_amend, body, NULL);
    assert_string_equal(item_str(&r, 0, "sCode"), "51000");
    json_decref(r.data);
    snprintf(body, sizeof(body), "{\"instId\":\"%s\",\"ordId\":\"%s\",\"newSz\":\"1\"}", BTC, ord);
    r = run(&f, order_amend, body, NULL);
    assert_string_equal(item_str(&r, 0, "sCode"), "51000"); /* not above accFillSz */
    json_decref(r.data);
    snprintf(body, sizeof(body), "{\"instId\":\"%s\",\"ordId\":\"%s\"}", BTC, ord);
    r = run(&f, order_cancel, body, NULL);
    json_decref(r.data);
    snprintf(body, sizeof(body), "{\"instId\":\"%s\",\"ordId\":\"%s\",\"newSz\":\"3\"}", BTC, ord);
    r = run(&f, order_amend, body, NULL);
    assert_string_equal(item_str(&r, 0, "sCode"), "51503");
    json_decref(r.data);
    fx_free(&f);
}

static void test_balance_shape_and_filters(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "long_short_mode");
    sim_reply r = run(&f, acct_balance, NULL, NULL);
    const json_t *b = json_array_get(r.data, 0);
    static const char *const top[] = {"totalEq",     "adjEq", "availEq", "isoEq",
                                      "ordFroz",     "imr",   "mmr",     "mgnRatio",
                                      "notionalUsd", "upl",   "uTime"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        if (!json_is_string(json_object_get(b, top[i]))) {
            fail_msg("balance field %s missing or not a string", top[i]);
        }
    }
    assert_string_equal(json_string_value(json_object_get(b, "totalEq")), "10000");
    const json_t *d = json_array_get(json_object_get(b, "details"), 0);
    static const char *const det[] = {
        "ccy",   "eq",    "cashBal", "availBal", "availEq", "frozenBal",     "ordFrozen", "upl",
        "isoEq", "eqUsd", "disEq",   "imr",      "mmr",     "notionalLever", "uTime"};
    for (size_t i = 0; i < sizeof(det) / sizeof(det[0]); i++) {
        if (!json_is_string(json_object_get(d, det[i]))) {
            fail_msg("balance detail %s missing or not a string", det[i]);
        }
    }
    json_decref(r.data);
    r = run(&f, acct_balance, NULL, "ccy=BTC");
    assert_int_equal(json_array_size(json_object_get(json_array_get(r.data, 0), "details")), 0);
    json_decref(r.data);
    r = run(&f, acct_positions, NULL, "instType=SWAP&instId=ETH-USDT-SWAP,BTC-USDT-SWAP");
    assert_string_equal(r.code, "0");
    assert_int_equal(json_array_size(r.data), 0);
    json_decref(r.data);
    r = run(&f, acct_positions, NULL, "instType=BOGUS");
    assert_string_equal(r.code, "51000");
    fx_free(&f);
}

static void test_acct_load_errors_and_default(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{}", "non-empty JSON array"},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\"}]", "account 1: \"passphrase\""},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\",\"demo\":\"yes\"}]",
         "account 1: \"demo\""},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\",\"posMode\":\"hedge\"}]",
         "account 1: \"posMode\""},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\",\"balances\":{\"BTC\":\"1\"}}"
         "]",
         "only USDT"},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\",\"balances\":{\"USDT\":\"-"
         "1\"}}]",
         "balance USDT"},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\",\"colour\":1}]",
         "unknown key \"colour\""},
        {"[{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\"},"
         "{\"apiKey\":\"k\",\"secretKey\":\"s\",\"passphrase\":\"p\"}]",
         "account 2: apiKey \"k\" is used twice"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sim_exchange x;
        memset(&x, 0, sizeof(x));
        char *path = write_temp(cases[i].json);
        char err[256] = "";
        int rc = acct_load(&x, path, err, sizeof(err));
        assert_int_not_equal(rc, AT_OK);
        if (!strstr(err, cases[i].want) || !strstr(err, path)) {
            fail_msg("case %zu: error \"%s\" lacks \"%s\" or the path", i, err, cases[i].want);
        }
        assert_null(x.accts);
        unlink(path);
        free(path);
    }
    sim_exchange x, y;
    memset(&x, 0, sizeof(x));
    memset(&y, 0, sizeof(y));
    char err[256];
    assert_int_equal(acct_load(&x, NULL, err, sizeof(err)), AT_OK);
    assert_int_equal(acct_load(&y, NULL, err, sizeof(err)), AT_OK);
    assert_non_null(x.accts);
    assert_string_equal(x.accts->api_key, y.accts->api_key); /* deterministic */
    assert_int_equal(strlen(x.accts->api_key), 36);
    assert_true(x.accts->demo);
    assert_int_equal(x.accts->pos_mode, SIM_LONG_SHORT_MODE);
    char buf[AT_DEC_STRLEN];
    assert_string_equal(sim_dec_str(x.accts->cash, buf), "10000");
    char a[SIM_ID_LEN], b[SIM_ID_LEN];
    acct_new_id(x.accts, a);
    acct_new_id(x.accts, b);
    assert_string_not_equal(a, b);
    assert_in_range(strlen(a), 18, 19);
    acct_free_all(&x);
    acct_free_all(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_buy_walks_levels),
        cmocka_unit_test(test_limit_rests_then_fills_as_maker),
        cmocka_unit_test(test_limit_taker_part_then_rest),
        cmocka_unit_test(test_post_only_ioc_fok),
        cmocka_unit_test(test_validation_codes),
        cmocka_unit_test(test_min_size),
        cmocka_unit_test(test_duplicate_cl_ord_id),
        cmocka_unit_test(test_insufficient_margin),
        cmocka_unit_test(test_net_mode_flip_and_reduce_only),
        cmocka_unit_test(test_open_close_pnl_exact),
        cmocka_unit_test(test_isolated_margin),
        cmocka_unit_test(test_set_leverage),
        cmocka_unit_test(test_position_mode_and_config),
        cmocka_unit_test(test_close_position),
        cmocka_unit_test(test_attached_sl_via_batch),
        cmocka_unit_test(test_attached_canceled_with_parent),
        cmocka_unit_test(test_conditional_tp_close_fraction),
        cmocka_unit_test(test_trigger_order_and_cancel_algo),
        cmocka_unit_test(test_close_cancels_tpsl_unless_keep_algos),
        cmocka_unit_test(test_order_placed_by_algo_names_it),
        cmocka_unit_test(test_algo_pending_after),
        cmocka_unit_test(test_funding_sign),
        cmocka_unit_test(test_liquidation_isolated),
        cmocka_unit_test(test_liquidation_cross),
        cmocka_unit_test(test_order_json_fields),
        cmocka_unit_test(test_batch_partial_and_fault),
        cmocka_unit_test(test_amend),
        cmocka_unit_test(test_balance_shape_and_filters),
        cmocka_unit_test(test_acct_load_errors_and_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the venue at absurd sizes and over long runs: the fill
 * arithmetic (lib/venue: order.c check_value, match.c match_fill,
 * position.c pos_plan_fill) and the memory kept per account (acct_prune).
 *
 * Money is exact at 8 decimals in an int64 mantissa, about 9.2e10 USDT at
 * most. An order whose value could not be computed is refused at placement
 * with 51000; a fill that would overflow anyway (the account changed since
 * the order was accepted) books nothing at all: cash, position and order
 * stay as they were and the order is canceled by the system with the reason
 * (the venue used to write the zero of a failed addition into the cash). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"
#include "dec_lit.h"
#include "sim.h"

#define BTC "BTC-USDT-SWAP"
#define ETH "ETH-USDT-SWAP"

typedef struct fx {
    sim_market *m;
    sim_exchange x;
    sim_acct *a;
    sim_inst *btc, *eth;
    json_t *last_order; /* the newest orders push */
} fx;

static const char *S(at_dec d)
{
    static char buf[4][AT_DEC_STRLEN];
    static int k;
    k = (k + 1) % 4;
    return sim_dec_str(d, buf[k]);
}

static void on_order(void *arg, sim_acct *a, const sim_order *o, json_t *data)
{
    fx *f = arg;
    json_decref(f->last_order);
    f->last_order = json_deep_copy(data);
}

static void fx_init(fx *f, const char *cash)
{
    memset(f, 0, sizeof(*f));
    sim_market_opts mo = {NULL, NULL, 11, 1.0, 20};
    char err[256];
    f->m = market_new(&mo, err, sizeof(err));
    assert_non_null(f->m);
    f->x.market = f->m;
    f->x.mmr_rate = 0.004;
    f->x.now_ms = 1767225600000LL;
    f->x.push.order = on_order;
    f->x.push.arg = f;
    assert_int_equal(acct_load(&f->x, NULL, err, sizeof(err)), AT_OK);
    f->a = f->x.accts;
    f->a->pos_mode = SIM_NET_MODE;
    f->a->cash = D(cash);
    f->btc = market_find(f->m, BTC);
    f->eth = market_find(f->m, ETH);
}

static void fx_free(fx *f)
{
    json_decref(f->last_order);
    acct_free_all(&f->x);
    market_free(f->m);
}

/* last = mark = px; one level each side. */
static void set_market(fx *f, sim_inst *in, const char *px, const char *bid, const char *ask,
                       const char *sz)
{
    assert_int_equal(market_set_price(f->m, in, D(px), f->x.now_ms), AT_OK);
    in->book.bids[0] = (sim_level){D(bid), D(sz), 1};
    in->book.asks[0] = (sim_level){D(ask), D(sz), 1};
    in->book.nbids = in->book.nasks = 1;
}

/* Place; the result item's sCode and sMsg; the ordId into id when given. */
static void place(fx *f, const char *body, const char *want, const char *msg_part, char *id)
{
    json_error_t je;
    json_t *b = json_loads(body, 0, &je);
    assert_non_null(b);
    sim_reply r;
    memset(&r, 0, sizeof(r));
    sim_call c = {"POST", "/api/v5/trade/order", NULL, 0, b, false};
    order_place(&f->x, f->a, &c, &r);
    json_t *it = json_array_get(r.data, 0);
    const char *sc = sim_json_str(it, "sCode"), *sm = sim_json_str(it, "sMsg");
    if (strcmp(sc, want) != 0 || (msg_part && !strstr(sm, msg_part))) {
        fail_msg("%s: want %s '%s', got %s '%s'", body, want, msg_part ? msg_part : "", sc, sm);
    }
    if (id) {
        snprintf(id, SIM_ID_LEN, "%s", sim_json_str(it, "ordId"));
    }
    json_decref(r.data);
    json_decref(b);
}

static const sim_position *position(const fx *f, const sim_inst *in)
{
    for (const sim_position *p = f->a->positions; p; p = p->next) {
        if (p->inst == in) {
            return p;
        }
    }
    return NULL;
}

static size_t nfills(const fx *f)
{
    size_t n = 0;
    for (const sim_fill *k = f->a->fills; k; k = k->next) {
        n++;
    }
    return n;
}

/* 1e8 BTC contracts short at 50000 (5e10 USDT) and 1e7 ETH contracts short
 * at 3000, on 9e10 USDT. The cash carries 8 decimals (as it does after any
 * fee with decimals), so it can hold at most 92233720368.54775807: results
 * are exact, and overflow only where the exact result has no room. */
static void open_shorts(fx *f)
{
    set_market(f, f->btc, "50000", "50000", "50000.1", "100000000");
    place(f,
          "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\",\"ordType\":\"limit\","
          "\"px\":\"50000\",\"sz\":\"100000000\"}",
          "0", NULL, NULL);
    set_market(f, f->eth, "3000", "3000", "3000.01", "10000000");
    place(f,
          "{\"instId\":\"" ETH "\",\"tdMode\":\"cross\",\"side\":\"sell\",\"ordType\":\"limit\","
          "\"px\":\"3000\",\"sz\":\"10000000\"}",
          "0", NULL, NULL);
    assert_string_equal(S(position(f, f->btc)->pos), "-100000000");
    assert_string_equal(S(position(f, f->eth)->pos), "-10000000");
    /* fees: 5e10 x 0.0005 and 3e9 x 0.0005 */
    assert_string_equal(S(f->a->cash), "89973500000.00000001");
}

/* A close whose profit could not be added to the cash is refused when it is
 * placed: nothing changes. */
static void test_refused_at_placement(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "90000000000.00000001");
    open_shorts(&f);
    /* Closes whose profit fits are accepted (and rest), as is an ordinary
     * order. */
    place(&f,
          "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"limit\","
          "\"px\":\"48000\",\"sz\":\"100000000\",\"reduceOnly\":true}",
          "0", NULL, NULL); /* +2e9 */
    place(&f,
          "{\"instId\":\"" ETH "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"limit\","
          "\"px\":\"2858\",\"sz\":\"10000000\",\"reduceOnly\":true}",
          "0", NULL, NULL); /* +1.42e8 */
    set_market(&f, f.btc, "50000", "49999.9", "50000", "100000000");
    place(&f,
          "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"market\","
          "\"sz\":\"10000\"}",
          "0", NULL, NULL);
    at_dec cash = f.a->cash;
    size_t fills = nfills(&f);
    /* Closing the rest at 45000 gains 5e9: 9.5e10 has no room. */
    set_market(&f, f.btc, "45000", "44999.9", "45000", "100000000");
    place(&f,
          "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"limit\","
          "\"px\":\"45000\",\"sz\":\"99990000\",\"reduceOnly\":true}",
          "51000", "out of range", NULL);
    assert_int_equal(at_dec_cmp(f.a->cash, cash), 0);
    assert_int_equal(nfills(&f), fills);
    assert_string_equal(S(position(&f, f.btc)->pos), "-99990000");
    fx_free(&f);
}

/* Two resting closes, each fine when accepted; the first one's profit leaves
 * no room for the second's. The second fill books nothing: the cash is what
 * the first left, the ETH short is whole, the order is canceled with why. */
static void test_fill_books_nothing_on_overflow(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "90000000000.00000001");
    open_shorts(&f);
    char btc_close[SIM_ID_LEN], eth_close[SIM_ID_LEN];
    place(&f,
          "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"limit\","
          "\"px\":\"48000\",\"sz\":\"100000000\",\"reduceOnly\":true,\"clOrdId\":\"closebtc\"}",
          "0", NULL, btc_close);
    place(&f,
          "{\"instId\":\"" ETH "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"limit\","
          "\"px\":\"2500\",\"sz\":\"10000000\",\"reduceOnly\":true,\"clOrdId\":\"closeeth\"}",
          "0", NULL, eth_close);
    size_t fills = nfills(&f);
    /* Both markets fall through the closes; the BTC one fills first (time
     * priority): +2e9 PnL - 2.4e7 fee (maker 0.0002 x 4.8e10 = 9.6e6). */
    set_market(&f, f.btc, "47990", "47989.9", "47990", "100000000");
    set_market(&f, f.eth, "2490", "2489.99", "2490", "10000000");
    exchange_tick(&f.x);
    const sim_position *pb = position(&f, f.btc), *pe = position(&f, f.eth);
    assert_string_equal(S(pb->pos), "0");
    assert_int_equal(nfills(&f), fills + 1);
    /* 89973500000 + (50000 - 48000) x 1e8 x 0.01 - 48000 x 1e8 x 0.01 x 0.0002 */
    assert_string_equal(S(f.a->cash), "91963900000.00000001");
    /* ETH: +5e8 would make 9.246e10: not booked, nothing of it */
    assert_string_equal(S(pe->pos), "-10000000");
    assert_string_equal(S(pe->avg_px), "3000");
    assert_string_equal(S(pe->realized_pnl), "0");
    const sim_order *o = f.a->orders;
    while (o && strcmp(o->ord_id, eth_close) != 0) {
        o = o->next;
    }
    assert_non_null(o);
    assert_int_equal(o->state, SIM_CANCELED);
    assert_string_equal(S(o->acc_fill_sz), "0");
    assert_string_equal(o->cancel_source, "0");
    /* the order push says why */
    assert_string_equal(sim_json_str(f.last_order, "clOrdId"), "closeeth");
    assert_string_equal(sim_json_str(f.last_order, "state"), "canceled");
    assert_non_null(strstr(sim_json_str(f.last_order, "cancelSourceReason"), "out of range"));
    /* and the next tick does not try again */
    exchange_tick(&f.x);
    assert_string_equal(S(f.a->cash), "91963900000.00000001");
    assert_int_equal(nfills(&f), fills + 1);
    fx_free(&f);
}

/* A long run keeps the newest SIM_KEEP_* finished records, every live one
 * (however old), and what it keeps is still found by id. */
static void test_memory_bounded(void **state)
{
    fx f;
    fx_init(&f, "1000000");
    set_market(&f, f.btc, "100", "99.9", "100.1", "100000");
    char old[SIM_ID_LEN], id[SIM_ID_LEN];
    place(&f,
          "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":"
          "\"limit\",\"px\":\"50\",\"sz\":\"1\"}",
          "0", NULL, old);
    size_t total = SIM_KEEP_ORDERS + 300;
    for (size_t i = 0; i < total; i++) {
        place(&f,
              i % 2 ? "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"sell\","
                      "\"ordType\":\"market\",\"sz\":\"1\"}"
                    : "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\","
                      "\"ordType\":\"market\",\"sz\":\"1\"}",
              "0", NULL, id);
    }
    assert_int_equal(nfills(&f), total);
    exchange_tick(&f.x);
    size_t orders = 0, live = 0;
    for (const sim_order *o = f.a->orders; o; o = o->next) {
        orders++;
        live += order_is_live(o);
    }
    assert_int_equal(live, 1);
    assert_int_equal(orders, SIM_KEEP_ORDERS + 1);
    assert_int_equal(nfills(&f), SIM_KEEP_FILLS);
    const sim_order *o = order_find(f.a, old, NULL);
    assert_non_null(o); /* the oldest order, still resting */
    assert_true(order_is_live(o));
    assert_non_null(order_find(f.a, id, NULL)); /* the newest */
    /* No open position left by the even number of round trips. */
    const sim_position *p = position(&f, f.btc);
    assert_true(!p || p->pos.m == 0);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_at_placement),
        cmocka_unit_test(test_fill_books_nothing_on_overflow),
        cmocka_unit_test(test_memory_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

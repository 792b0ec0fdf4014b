/* Unit tests for the venue state document (lib/venue/persist*.c), what
 * exchange_paper stores so a paper account survives a restart: a dump
 * restored into a fresh venue dumps to the same text and behaves the same
 * afterwards (a position, an open limit order with an attached TP/SL, a
 * conditional TP/SL, isolated margin, funding seen, odd decimals); ids go on
 * without repeating; broken documents are refused with the field and the
 * reason, leaving the account untouched.
 *
 * The market is okx-sim's (seeded), as in test_okxsim_exchange.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec_lit.h"
#include "sim.h"

#define BTC "BTC-USDT-SWAP"
#define ETH "ETH-USDT-SWAP"

static const venue_keep KEEP = {64, 32, 32};

typedef struct fx {
    sim_market *m;
    sim_exchange x;
    sim_acct *a;
    sim_inst *btc, *eth;
    int pushes;
} fx;

static void on_order(void *arg, sim_acct *a, const sim_order *o, json_t *data)
{
    ((fx *)arg)->pushes++;
}

static void on_account(void *arg, sim_acct *a, json_t *data)
{
    ((fx *)arg)->pushes++;
}

/* A venue like the paper one: okx-sim's market, the generated account with
 * the given cash and mode. */
static void fx_init(fx *f, const char *cash, sim_pos_mode mode)
{
    memset(f, 0, sizeof(*f));
    sim_market_opts mo = {NULL, NULL, 7, 1.0, 20};
    char err[256];
    f->m = market_new(&mo, err, sizeof(err));
    assert_non_null(f->m);
    f->x.market = f->m;
    f->x.mmr_rate = 0.004;
    f->x.now_ms = 1767225600000LL; /* 2026-01-01 */
    f->x.push.order = on_order;
    f->x.push.account = on_account;
    f->x.push.arg = f;
    assert_int_equal(acct_load(&f->x, NULL, err, sizeof(err)), AT_OK);
    f->a = f->x.accts;
    f->a->cash = D(cash);
    f->a->pos_mode = mode;
    f->a->maker_fee_rate = D("0.00021");
    f->a->taker_fee_rate = D("0.00047");
    f->btc = market_find(f->m, BTC);
    f->eth = market_find(f->m, ETH);
    assert_non_null(f->btc);
    assert_non_null(f->eth);
}

static void fx_free(fx *f)
{
    acct_free_all(&f->x);
    market_free(f->m);
}

/* last = mark = px, and a book "px:sz,px:sz" best first on each side. */
static void set_market(fx *f, sim_inst *in, const char *px, const char *bids, const char *asks)
{
    assert_int_equal(market_set_price(f->m, in, D(px), f->x.now_ms), AT_OK);
    const char *sides[2] = {bids, asks};
    for (int s = 0; s < 2; s++) {
        sim_level *lv = s == 0 ? in->book.bids : in->book.asks;
        int n = 0;
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", sides[s]);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            char *colon = strchr(tok, ':');
            *colon = '\0';
            lv[n++] = (sim_level){D(tok), D(colon + 1), 1};
        }
        if (s == 0) {
            in->book.nbids = n;
        } else {
            in->book.nasks = n;
        }
    }
}

typedef void (*handler)(sim_exchange *, sim_acct *, const sim_call *, sim_reply *);

/* A POST handler with a JSON body; the reply's code, first sCode and id. */
static void post(fx *f, handler h, const char *body, const char *want_scode, char *id_out,
                 const char *id_key)
{
    json_error_t je;
    json_t *b = json_loads(body, 0, &je);
    if (!b) {
        fail_msg("bad test JSON %s: %s", body, je.text);
    }
    sim_reply r;
    memset(&r, 0, sizeof(r));
    sim_call c = {"POST", "/api/v5/x", NULL, 0, b, false};
    h(&f->x, f->a, &c, &r);
    json_t *it = json_array_get(r.data, 0);
    const char *sc = json_string_value(json_object_get(it, "sCode"));
    if (want_scode && (!sc || strcmp(sc, want_scode) != 0)) {
        fail_msg("%s: want sCode %s, got %s (%s; code %s %s)", body, want_scode, sc ? sc : "-",
                 json_string_value(json_object_get(it, "sMsg")), r.code, r.msg);
    }
    if (id_out) {
        snprintf(id_out, SIM_ID_LEN, "%s", json_string_value(json_object_get(it, id_key)));
    }
    json_decref(r.data);
    json_decref(b);
}

/* Two documents are the same text; else where they part. */
static void same_doc(const char *got, const char *want)
{
    size_t i = 0;
    while (got[i] && got[i] == want[i]) {
        i++;
    }
    if (got[i] || want[i]) {
        if (getenv("VENUE_TEST_DUMP")) {
            FILE *o = fopen("/tmp/venue_got.json", "w"), *w = fopen("/tmp/venue_want.json", "w");
            fputs(got, o);
            fputs(want, w);
            fclose(o);
            fclose(w);
        }
        size_t from = i > 60 ? i - 60 : 0;
        fail_msg("documents differ at %zu:\n got ...%.120s\nwant ...%.120s", i, got + from,
                 want + from);
    }
}

static char *dump_text(fx *f)
{
    json_t *st = venue_state_dump(&f->x, f->a, &KEEP);
    assert_non_null(st);
    char *s = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    assert_non_null(s);
    return s;
}

/* A new venue (same market seed) with the document loaded. */
static void restore_into(fx *to, const char *text)
{
    fx_init(to, "1", SIM_NET_MODE); /* both overwritten by the load */
    json_error_t je;
    json_t *st = json_loads(text, 0, &je);
    assert_non_null(st);
    char err[256];
    int rc = venue_state_load(&to->x, to->a, st, err, sizeof(err));
    json_decref(st);
    if (rc != AT_OK) {
        fail_msg("load failed: %s", err);
    }
}

static const sim_order *find_order(const sim_acct *a, const char *ord_id)
{
    for (const sim_order *o = a->orders; o; o = o->next) {
        if (strcmp(o->ord_id, ord_id) == 0) {
            return o;
        }
    }
    return NULL;
}

/* The account of the round-trip tests: a long BTC position (isolated, lever
 * 7) from two fills at odd prices, funding booked on it, a resting ETH limit
 * buy with an attached TP/SL, a conditional TP/SL on the BTC position, and a
 * canceled order in the history. */
static void build_account(fx *f, char limit_id[SIM_ID_LEN], char algo_id[SIM_ID_LEN])
{
    post(f, acct_set_leverage,
         "{\"instId\":\"" BTC "\",\"lever\":\"7\",\"mgnMode\":\"isolated\",\"posSide\":\"long\"}",
         NULL, NULL, NULL);
    set_market(f, f->btc, "50000.3", "50000.2:0.13", "50000.3:0.29,50000.7:5.11");
    post(f, order_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"isolated\",\"side\":\"buy\",\"posSide\":\"long\","
         "\"ordType\":\"market\",\"sz\":\"0.37\",\"clOrdId\":\"open1\"}",
         "0", NULL, NULL);
    /* funding: the schedule seen, then a settlement booked at 0.000137 */
    f->btc->funding_time_ms = f->x.now_ms + 3600000;
    f->btc->funding_rate = D("0.000137");
    exchange_tick(&f->x);
    f->btc->funding_time_ms += 8 * 3600000LL;
    f->btc->funding_rate = D("-0.0000731");
    exchange_tick(&f->x);
    set_market(f, f->eth, "3000.07", "3000.06:12.5", "3000.08:40.25");
    post(f, order_place,
         "{\"instId\":\"" ETH "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"posSide\":\"long\","
         "\"ordType\":\"limit\",\"px\":\"2950.13\",\"sz\":\"1.23\",\"clOrdId\":\"lim1\","
         "\"attachAlgoOrds\":[{\"attachAlgoClOrdId\":\"lim1a\",\"tpTriggerPx\":\"3100.01\","
         "\"tpOrdPx\":\"-1\",\"slTriggerPx\":\"2900.99\",\"slOrdPx\":\"-1\"}]}",
         "0", limit_id, "ordId");
    post(f, algo_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"isolated\",\"side\":\"sell\",\"posSide\":\"long\","
         "\"ordType\":\"oco\",\"sz\":\"0.2\",\"tpTriggerPx\":\"51000.5\",\"tpOrdPx\":\"-1\","
         "\"slTriggerPx\":\"49000.1\",\"slOrdPx\":\"49000\",\"slTriggerPxType\":\"mark\","
         "\"algoClOrdId\":\"oco1\"}",
         "0", algo_id, "algoId");
    char gone[SIM_ID_LEN], body[160];
    post(f, order_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"posSide\":\"long\","
         "\"ordType\":\"limit\",\"px\":\"48000.1\",\"sz\":\"0.05\",\"clOrdId\":\"gone1\"}",
         "0", gone, "ordId");
    snprintf(body, sizeof(body), "{\"instId\":\"" BTC "\",\"ordId\":\"%s\"}", gone);
    post(f, order_cancel, body, "0", NULL, NULL);
}

static void test_round_trip(void **state)
{
    (void)state;
    fx f, g;
    fx_init(&f, "12345.67890123", SIM_LONG_SHORT_MODE);
    char limit_id[SIM_ID_LEN], algo_id[SIM_ID_LEN];
    build_account(&f, limit_id, algo_id);
    char *before = dump_text(&f);

    restore_into(&g, before);
    char *after = dump_text(&g);
    same_doc(after, before); /* every field, every digit */

    /* What a user checks after the restart. */
    assert_int_equal(at_dec_cmp(g.a->cash, f.a->cash), 0);
    assert_int_equal(g.a->pos_mode, SIM_LONG_SHORT_MODE);
    assert_int_equal(g.a->next_id, f.a->next_id);
    const sim_position *p = g.a->positions;
    while (p && p->pos.m == 0) {
        p = p->next;
    }
    assert_non_null(p);
    assert_string_equal(p->inst->inst_id, BTC);
    assert_string_equal(p->mgn_mode, "isolated");
    assert_int_equal(p->lever, 7);
    char buf[AT_DEC_STRLEN];
    assert_string_equal(sim_dec_str(p->pos, buf), "0.37");
    /* 0.29 at 50000.3 and 0.08 at 50000.7 */
    assert_string_equal(sim_dec_str(p->avg_px, buf), "50000.38648649");
    assert_int_equal(at_dec_cmp(p->margin, f.a->positions->margin), 0);
    assert_true(p->funding_fee.m != 0);
    const sim_order *o = find_order(g.a, limit_id);
    assert_non_null(o);
    assert_int_equal(o->state, SIM_LIVE);
    assert_string_equal(sim_dec_str(o->px, buf), "2950.13");
    assert_string_equal(sim_dec_str(o->sz, buf), "1.23");
    assert_string_equal(o->cl_ord_id, "lim1");
    assert_non_null(o->attach_algo);
    size_t live_algos = 0;
    for (const sim_algo *k = g.a->algos; k; k = k->next) {
        live_algos += k->state == SIM_ALGO_LIVE;
        if (strcmp(k->algo_id, algo_id) == 0) {
            assert_true(k->armed);
            assert_string_equal(sim_dec_str(k->tp_trigger_px, buf), "51000.5");
            assert_string_equal(sim_dec_str(k->sl_ord_px, buf), "49000");
            assert_string_equal(k->sl_px_type, "mark");
        }
        if (strcmp(k->parent_ord_id, limit_id) == 0) {
            assert_false(k->armed); /* waits for its parent, as before */
            assert_string_equal(k->algo_cl_ord_id, "lim1a");
        }
    }
    assert_int_equal(live_algos, 2);

    /* The same things happen to both afterwards (the restored one gets the
     * same market, as the paper venue does from the bus): the limit fills
     * and arms its TP/SL, the oco fires at 51000.5, and their documents still
     * agree. */
    sim_exchange *xs[2] = {&f.x, &g.x};
    fx *fs[2] = {&f, &g};
    int64_t funding_at = f.btc->funding_time_ms;
    at_dec funding_rate = f.btc->funding_rate;
    for (int i = 0; i < 2; i++) {
        fs[i]->x.now_ms += 60000;
        fs[i]->btc->funding_time_ms = funding_at;
        fs[i]->btc->funding_rate = funding_rate;
        fs[i]->eth->funding_time_ms = 0; /* no schedule seen for ETH in either */
        set_market(fs[i], fs[i]->btc, "50100.3", "50100.2:3", "50100.4:3");
        set_market(fs[i], fs[i]->eth, "2950.1", "2950.09:3", "2950.1:3");
        exchange_tick(xs[i]);
        set_market(fs[i], fs[i]->btc, "51000.5", "51000.4:3", "51000.5:3");
        exchange_tick(xs[i]);
    }
    assert_int_equal(find_order(g.a, limit_id)->state, SIM_FILLED);
    free(after);
    char *fa = dump_text(&f), *ga = dump_text(&g);
    same_doc(ga, fa);
    free(fa);
    free(ga);
    free(before);
    fx_free(&f);
    fx_free(&g);
}

/* New orders and fills after a restore continue the ids: nothing repeats. */
static void test_ids_continue(void **state)
{
    (void)state;
    fx f, g;
    fx_init(&f, "10000", SIM_NET_MODE);
    set_market(&f, f.btc, "50000", "49999.9:5", "50000:5");
    char first[SIM_ID_LEN];
    post(&f, order_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"market\","
         "\"sz\":\"0.5\",\"clOrdId\":\"a1\"}",
         "0", first, "ordId");
    int64_t trade = f.a->fills->trade_id;
    char *text = dump_text(&f);
    restore_into(&g, text);
    free(text);
    set_market(&g, g.btc, "50000", "49999.9:5", "50000:5");
    char next[SIM_ID_LEN];
    post(&g, order_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"market\","
         "\"sz\":\"0.5\",\"clOrdId\":\"a2\"}",
         "0", next, "ordId");
    assert_true(strtoll(next, NULL, 10) > strtoll(first, NULL, 10));
    assert_true(g.a->fills->trade_id > trade);
    for (const sim_fill *k = g.a->fills->next; k; k = k->next) {
        assert_true(k->trade_id != g.a->fills->trade_id);
        assert_string_not_equal(k->bill_id, g.a->fills->bill_id);
    }
    char buf[AT_DEC_STRLEN];
    assert_string_equal(sim_dec_str(g.a->positions->pos, buf), "1");
    fx_free(&f);
    fx_free(&g);
}

/* Bounded: finished orders beyond the keep limit are not written, live ones
 * always are. */
static void test_bounded(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, "10000", SIM_NET_MODE);
    set_market(&f, f.btc, "50000", "49999.9:500", "50000:500");
    for (int i = 0; i < 80; i++) {
        post(&f, order_place,
             "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"market\","
             "\"sz\":\"0.01\"}",
             "0", NULL, NULL);
    }
    post(&f, order_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"limit\","
         "\"px\":\"40000\",\"sz\":\"0.01\",\"clOrdId\":\"rest1\"}",
         "0", NULL, NULL);
    json_t *st = venue_state_dump(&f.x, f.a, &(venue_keep){10, 5, 3});
    assert_non_null(st);
    assert_int_equal(json_array_size(json_object_get(st, "orders")), 11); /* 10 + the live one */
    assert_int_equal(json_array_size(json_object_get(st, "fills")), 5);
    json_decref(st);
    fx_free(&f);
}

/* One broken document: the load fails with `want` in the message and the
 * account keeps what it had. */
static void expect_refused(fx *f, const char *doc, const char *want)
{
    char *before = dump_text(f);
    json_error_t je;
    json_t *st = json_loads(doc, 0, &je);
    assert_non_null(st);
    char err[256];
    int rc = venue_state_load(&f->x, f->a, st, err, sizeof(err));
    json_decref(st);
    if (rc == AT_OK || !strstr(err, want)) {
        fail_msg("want a refusal with '%s', got rc %d '%s'", want, rc, err);
    }
    char *after = dump_text(f);
    same_doc(after, before);
    free(before);
    free(after);
}

/* doc with `from` replaced by `to` (first occurrence). */
static char *edit(const char *doc, const char *from, const char *to)
{
    const char *at = strstr(doc, from);
    if (!at) {
        fail_msg("'%s' not in the document", from);
    }
    size_t n = strlen(doc) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - doc), doc, to, at + strlen(from));
    return out;
}

static void test_refusals(void **state)
{
    (void)state;
    fx f, g;
    fx_init(&f, "12345.67890123", SIM_LONG_SHORT_MODE);
    char limit_id[SIM_ID_LEN], algo_id[SIM_ID_LEN];
    build_account(&f, limit_id, algo_id);
    char *doc = dump_text(&f);
    fx_init(&g, "777.5", SIM_NET_MODE);
    set_market(&g, g.btc, "50000", "49999.9:5", "50000:5");
    post(&g, order_place,
         "{\"instId\":\"" BTC "\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":\"market\","
         "\"sz\":\"0.5\"}",
         "0", NULL, NULL);

    expect_refused(&g, "[1, 2]", "not a JSON object");
    expect_refused(&g, "{}", "format: missing");
    char *e = edit(doc, "\"format\":1", "\"format\":2");
    expect_refused(&g, e, "written by a newer version");
    free(e);
    e = edit(doc, "\"px\":\"2950.13\"", "\"px\":\"2950,13\"");
    expect_refused(&g, e, ".px: \"2950,13\" is not a decimal string");
    free(e);
    e = edit(doc, "\"cash\":{\"USDT\":", "\"cash\":{\"USD\":");
    expect_refused(&g, e, "cash.USD");
    free(e);
    e = edit(doc, "\"state\":\"live\"", "\"state\":\"sleeping\"");
    expect_refused(&g, e, "\"sleeping\" is not an order state");
    free(e);
    e = edit(doc, "\"clOrdId\":\"lim1\"",
             "\"clOrdId\":\"0123456789012345678901234567890123456789\"");
    expect_refused(&g, e, "longer than 32 characters");
    free(e);
    e = edit(doc, "\"positions\":[", "\"positions\":7,\"x\":[");
    expect_refused(&g, e, "positions: missing or not an array");
    free(e);
    /* an open position (and its instrument) the venue does not trade */
    e = edit(doc, "\"instId\":\"BTC-USDT-SWAP\",\"posSide\":\"long\",\"mgnMode\":\"isolated\"",
             "\"instId\":\"PEPE-USDT-SWAP\",\"posSide\":\"long\",\"mgnMode\":\"isolated\"");
    expect_refused(&g, e, "instrument PEPE-USDT-SWAP is not traded by this venue");
    free(e);
    /* ids would repeat */
    char nid[64];
    snprintf(nid, sizeof(nid), "\"nextId\":%lld", (long long)f.a->next_id);
    e = edit(doc, nid, "\"nextId\":5");
    expect_refused(&g, e, "ids would repeat");
    free(e);
    /* truncated */
    e = strdup(doc);
    char *cut = strstr(e, "\"orders\":");
    strcpy(cut, "\"orders\":[]}");
    expect_refused(&g, e, "fills: missing");
    free(e);
    free(doc);
    fx_free(&f);
    fx_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_ids_continue),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

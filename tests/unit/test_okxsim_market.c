/* Unit tests for the okx-sim market layer: built-in and file instruments,
 * determinism of the seeded paths, tick/lot invariants of prices and the
 * synthetic book, incremental book changes, taker fills, CSV replay and its
 * errors, candles/trades/funding, and the exact JSON shapes of the public
 * endpoints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dec_lit.h"
#include "sim.h"

/* 2026-01-01T00:00:30Z: far from the wall clock, so the first step resets
 * the market there (deterministic), and not on a minute boundary. */
#define T0 1767225630000LL
#define MIN_MS 60000LL

/* ------------------------------------------------------------ helpers */

static sim_market *mk(uint64_t seed, const char *csv, const char *json, double speed)
{
    char err[512] = "";
    sim_market_opts o = {csv, json, seed, speed, 0};
    sim_market *m = market_new(&o, err, sizeof(err));
    if (!m) {
        fail_msg("market_new: %s", err);
    }
    return m;
}

static const char *S(at_dec d)
{
    static char buf[4][AT_DEC_STRLEN];
    static int k;
    k = (k + 1) % 4;
    return sim_dec_str(d, buf[k]);
}

static bool multiple_of(at_dec v, at_dec step)
{
    at_dec r;
    return at_dec_round_step(v, step, AT_ROUND_DOWN, &r) == AT_OK && at_dec_cmp(r, v) == 0;
}

static at_dec dsub(at_dec a, at_dec b)
{
    at_dec r;
    assert_int_equal(at_dec_sub(a, b, &r), AT_OK);
    return r;
}

typedef void (*handler)(sim_market *, const sim_call *, sim_reply *);

/* Call a handler with NULL-terminated key, value pairs. */
static void call(handler h, sim_market *m, sim_reply *r, ...)
{
    sim_param p[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, r);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL && n < 8) {
        p[n].key = (char *)k;
        p[n].val = (char *)va_arg(ap, const char *);
        n++;
    }
    va_end(ap);
    sim_call c = {"GET", "/api/v5/test", p, n, NULL, false};
    memset(r, 0, sizeof(*r));
    h(m, &c, r);
}

static void reply_done(sim_reply *r)
{
    json_decref(r->data);
    r->data = NULL;
}

static size_t ndata(const sim_reply *r)
{
    return r->data ? json_array_size(r->data) : 0;
}

static void expect_ok(const sim_reply *r)
{
    assert_string_equal(r->code, "0");
    assert_true(r->http == 0 || r->http == 200);
}

static void expect_err(sim_reply *r, int http, const char *code, const char *msg)
{
    assert_int_equal(r->http, http);
    assert_string_equal(r->code, code);
    if (msg) {
        assert_string_equal(r->msg, msg);
    }
    assert_int_equal(ndata(r), 0);
    reply_done(r);
}

/* The keys of an object in order, comma-joined. */
static const char *keys_of(const json_t *o)
{
    static char buf[2048];
    buf[0] = '\0';
    for (void *it = json_object_iter((json_t *)o); it;
         it = json_object_iter_next((json_t *)o, it)) {
        if (buf[0]) {
            strcat(buf, ",");
        }
        strcat(buf, json_object_iter_key(it));
    }
    return buf;
}

static const char *str_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        fail_msg("%s is not a string", key);
    }
    return json_string_value(v);
}

static void all_strings(const json_t *row)
{
    for (size_t i = 0; i < json_array_size(row); i++) {
        assert_true(json_is_string(json_array_get(row, i)));
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ------------------------------------------------------------ instruments */

static void test_builtin_instruments(void **state)
{
    (void)state;
    sim_market *m = mk(1, NULL, NULL, 1);
    assert_int_equal(market_ninst(m), 5);
    static const struct {
        const char *id, *ccy, *ct_val, *tick, *lever_px_lo, *px_hi;
        int lever;
    } want[] = {
        {"BTC-USDT-SWAP", "BTC", "0.01", "0.1", "50000", "150000", 100},
        {"ETH-USDT-SWAP", "ETH", "0.1", "0.01", "1500", "5000", 100},
        {"SOL-USDT-SWAP", "SOL", "1", "0.001", "70", "250", 50},
        {"DOGE-USDT-SWAP", "DOGE", "1000", "0.00001", "0.07", "0.3", 50},
        {"XRP-USDT-SWAP", "XRP", "100", "0.0001", "1.1", "4.4", 75},
    };
    for (size_t i = 0; i < 5; i++) {
        sim_inst *in = market_inst(m, i);
        assert_string_equal(in->inst_id, want[i].id);
        assert_string_equal(in->ct_val_ccy, want[i].ccy);
        assert_string_equal(in->settle_ccy, "USDT");
        assert_string_equal(S(in->ct_val), want[i].ct_val);
        assert_string_equal(S(in->tick_sz), want[i].tick);
        assert_string_equal(S(in->lot_sz), "0.01");
        assert_string_equal(S(in->min_sz), "0.01");
        assert_string_equal(S(in->max_lmt_sz), "100000000");
        assert_int_equal(in->max_lever, want[i].lever);
        assert_true(at_dec_cmp(in->last, D(want[i].lever_px_lo)) > 0);
        assert_true(at_dec_cmp(in->last, D(want[i].px_hi)) < 0);
        assert_ptr_equal(market_find(m, want[i].id), in);
        assert_ptr_equal(market_find_code(m, in->inst_id_code), in);
        for (size_t j = 0; j < i; j++) {
            assert_true(market_inst(m, j)->inst_id_code != in->inst_id_code);
        }
    }
    assert_string_equal(market_inst(m, 0)->uly, "BTC-USDT");
    assert_int_equal(market_inst(m, 0)->inst_id_code, 10459);
    assert_null(market_find(m, "BTC-USD-SWAP"));
    assert_null(market_find(m, NULL));
    assert_null(market_find_code(m, 1));
    assert_null(market_inst(m, 5));
    market_free(m);
}

static void test_instruments_file(void **state)
{
    (void)state;
    char path[] = "/tmp/okxsim_inst_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "{\"code\":\"0\",\"data\":["
                     "{\"instType\":\"SWAP\",\"instId\":\"BTC-USD-SWAP\",\"ctType\":\"inverse\","
                     "\"ctVal\":\"100\",\"tickSz\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\"},"
                     "{\"instType\":\"SWAP\",\"instId\":\"LTC-USDT-SWAP\",\"ctType\":\"linear\","
                     "\"uly\":\"LTC-USDT\",\"settleCcy\":\"USDT\",\"ctValCcy\":\"LTC\","
                     "\"ctVal\":\"1\",\"tickSz\":\"0.01\",\"lotSz\":\"1\",\"minSz\":\"1\","
                     "\"lever\":\"75\",\"maxMktSz\":\"3000\"},"
                     "{\"instType\":\"SWAP\",\"instId\":\"ETH-USDT-SWAP\",\"ctType\":\"linear\","
                     "\"ctVal\":\"0.1\",\"tickSz\":\"0.01\",\"lotSz\":\"1\",\"minSz\":\"1\","
                     "\"lever\":\"125\",\"instIdCode\":10461}]}");
    sim_market *m = mk(3, NULL, path, 1);
    assert_int_equal(market_ninst(m), 2); /* the inverse row is skipped */
    sim_inst *ltc = market_inst(m, 0), *eth = market_inst(m, 1);
    assert_string_equal(ltc->inst_id, "LTC-USDT-SWAP");
    assert_string_equal(S(ltc->max_mkt_sz), "3000");
    assert_int_equal(ltc->max_lever, 75);
    assert_int_equal(eth->inst_id_code, 10461);
    assert_true(ltc->inst_id_code > 10461); /* assigned, distinct */
    assert_string_equal(eth->uly, "ETH-USDT");
    assert_string_equal(eth->ct_val_ccy, "ETH");
    /* ETH is in the built-in table: realistic start; LTC: 10,000 ticks
     * scaled into [0.5, 2). */
    assert_true(at_dec_cmp(eth->last, D("1500")) > 0);
    assert_true(at_dec_cmp(ltc->last, D("30")) > 0 && at_dec_cmp(ltc->last, D("300")) < 0);
    market_free(m);

    char err[512];
    sim_market_opts o = {NULL, path, 1, 1, 0};
    write_file(path, "{\"data\":[{\"instType\":\"SWAP\",\"instId\":\"X-USDT-SWAP\"}]}");
    assert_null(market_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "X-USDT-SWAP"));
    assert_non_null(strstr(err, "ctVal"));
    write_file(path, "{\"data\": [1, 2");
    assert_null(market_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    write_file(path, "{\"data\":[{\"instType\":\"SPOT\",\"instId\":\"BTC-USDT\"}]}");
    assert_null(market_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "no linear SWAP"));
    unlink(path);

    /* The real 2022 snapshot, when the shared data is around. */
    const char *real =
        "/work/shared/data/okx_ws_cryptofeed/okx_rest_instruments_SWAP_1652458996.json";
    if (access(real, R_OK) == 0) {
        m = mk(1, NULL, real, 1);
        assert_int_equal(market_ninst(m), SIM_MAX_INST);
        sim_inst *btc = market_find(m, "BTC-USDT-SWAP");
        assert_non_null(btc);
        assert_string_equal(S(btc->lot_sz), "1");
        assert_int_equal(btc->max_lever, 125);
        market_free(m);
    }
}

/* ------------------------------------------------------------ paths, book */

static void run_steps(sim_market *m, int64_t from, int n)
{
    for (int k = 0; k < n; k++) {
        market_step(m, from + k * 100);
    }
}

static void test_determinism(void **state)
{
    (void)state;
    sim_market *a = mk(42, NULL, NULL, 1), *b = mk(42, NULL, NULL, 1), *c = mk(43, NULL, NULL, 1);
    run_steps(a, T0, 600);
    run_steps(b, T0, 600);
    run_steps(c, T0, 600);
    bool differs = false;
    for (size_t i = 0; i < market_ninst(a); i++) {
        sim_inst *x = market_inst(a, i), *y = market_inst(b, i), *z = market_inst(c, i);
        assert_string_equal(S(x->last), S(y->last));
        assert_string_equal(S(x->mark), S(y->mark));
        assert_int_equal(x->book.seq_id, y->book.seq_id);
        assert_int_equal(x->book.nbids, y->book.nbids);
        for (int k = 0; k < x->book.nbids; k++) {
            assert_int_equal(at_dec_cmp(x->book.bids[k].px, y->book.bids[k].px), 0);
            assert_int_equal(at_dec_cmp(x->book.bids[k].sz, y->book.bids[k].sz), 0);
            assert_int_equal(x->book.bids[k].orders, y->book.bids[k].orders);
            assert_int_equal(at_dec_cmp(x->book.asks[k].sz, y->book.asks[k].sz), 0);
        }
        assert_int_equal(x->ncandles, y->ncandles);
        assert_int_equal(at_dec_cmp(x->candles[x->candle_head].h, y->candles[y->candle_head].h), 0);
        differs |= at_dec_cmp(x->last, z->last) != 0;
    }
    assert_true(differs);
    market_free(a);
    market_free(b);
    market_free(c);
}

static void check_book(const sim_inst *in, int depth)
{
    const sim_book *b = &in->book;
    assert_int_equal(b->nbids, depth);
    assert_int_equal(b->nasks, depth);
    /* never crossed; the touch is one tick wide */
    assert_string_equal(S(dsub(b->asks[0].px, b->bids[0].px)), S(in->tick_sz));
    for (int k = 0; k < depth; k++) {
        const sim_level *lv[2] = {&b->bids[k], &b->asks[k]};
        for (int s = 0; s < 2; s++) {
            assert_true(multiple_of(lv[s]->px, in->tick_sz));
            assert_true(multiple_of(lv[s]->sz, in->lot_sz));
            assert_true(at_dec_cmp(lv[s]->sz, in->min_sz) >= 0);
            assert_true(lv[s]->orders >= 1 && lv[s]->orders <= 20);
        }
        if (k > 0) {
            assert_true(at_dec_cmp(b->bids[k].px, b->bids[k - 1].px) < 0);
            assert_true(at_dec_cmp(b->asks[k].px, b->asks[k - 1].px) > 0);
        }
    }
}

/* Sizes changed at prices present in both books (the price did not move
 * the level): churn changes at most one per side. */
static int resized(const sim_level *old, int nold, const sim_level *now, int nnow)
{
    int n = 0;
    for (int i = 0; i < nnow; i++) {
        for (int j = 0; j < nold; j++) {
            if (at_dec_cmp(now[i].px, old[j].px) == 0) {
                n += at_dec_cmp(now[i].sz, old[j].sz) != 0;
            }
        }
    }
    return n;
}

static void test_invariants(void **state)
{
    (void)state;
    sim_market *m = mk(5, NULL, NULL, 1);
    market_step(m, T0);
    static sim_book prev[5];
    for (size_t i = 0; i < 5; i++) {
        prev[i] = market_inst(m, i)->book;
    }
    int changes = 0;
    for (int k = 1; k <= 3000; k++) {
        int64_t now = T0 + k * 100;
        for (size_t i = 0; i < 5; i++) {
            market_inst(m, i)->book_changed = false;
        }
        market_step(m, now);
        for (size_t i = 0; i < 5; i++) {
            sim_inst *in = market_inst(m, i);
            assert_true(multiple_of(in->last, in->tick_sz));
            assert_true(multiple_of(in->mark, in->tick_sz));
            at_dec basis = dsub(in->mark, in->last);
            basis.m = basis.m < 0 ? -basis.m : basis.m;
            at_dec two = {2 * in->tick_sz.m, in->tick_sz.scale};
            assert_true(at_dec_cmp(basis, two) <= 0);
            assert_int_equal(at_dec_cmp(in->index, in->mark), 0);
            assert_true(at_dec_cmp(in->low24h, in->last) <= 0);
            assert_true(at_dec_cmp(in->high24h, in->last) >= 0);
            check_book(in, 50);
            if (in->book_changed) {
                assert_true(in->book.seq_id > prev[i].seq_id);
                assert_int_equal(in->book.ts_ms, now);
                changes++;
            } else {
                assert_int_equal(in->book.seq_id, prev[i].seq_id);
            }
            assert_true(resized(prev[i].bids, prev[i].nbids, in->book.bids, in->book.nbids) <= 1);
            assert_true(resized(prev[i].asks, prev[i].nasks, in->book.asks, in->book.nasks) <= 1);
            prev[i] = in->book;
            /* funding: the next 00/08/16 UTC */
            assert_true(in->funding_time_ms > now);
            assert_true(in->funding_time_ms - now <= 8 * 3600000LL);
            assert_int_equal(in->funding_time_ms % (8 * 3600000LL), 0);
        }
    }
    assert_true(changes > 3000); /* the book moves most steps */

    /* candles: full ring, minute aligned, closed ones confirmed, OHLC sane */
    sim_inst *btc = market_inst(m, 0);
    assert_int_equal(btc->ncandles, SIM_CANDLE_KEEP);
    const sim_candle *h = &btc->candles[btc->candle_head];
    assert_int_equal(h->ts_ms, (T0 + 3000 * 100) / MIN_MS * MIN_MS);
    assert_false(h->confirmed);
    at_dec vol = {0, 0};
    for (int k = 0; k < btc->ncandles; k++) {
        const sim_candle *c =
            &btc->candles[(btc->candle_head - k + SIM_CANDLE_KEEP) % SIM_CANDLE_KEEP];
        assert_int_equal(c->ts_ms, h->ts_ms - k * MIN_MS);
        assert_true(k == 0 || c->confirmed);
        assert_true(at_dec_cmp(c->l, c->o) <= 0 && at_dec_cmp(c->o, c->h) <= 0);
        assert_true(at_dec_cmp(c->l, c->c) <= 0 && at_dec_cmp(c->c, c->h) <= 0);
        assert_true(multiple_of(c->h, btc->tick_sz));
        assert_int_equal(at_dec_add(vol, c->vol, &vol), AT_OK);
    }
    assert_int_equal(at_dec_cmp(vol, btc->vol24h), 0);
    assert_true(at_dec_cmp(btc->vol24h, D("1")) > 0);
    /* trades: ring full, ids increasing */
    assert_int_equal(btc->ntrades, SIM_TRADES_KEEP);
    for (int k = 1; k < btc->ntrades; k++) {
        const sim_trade *a =
            &btc->trades[(btc->trade_head - k + SIM_TRADES_KEEP) % SIM_TRADES_KEEP];
        const sim_trade *b =
            &btc->trades[(btc->trade_head - k + 1 + SIM_TRADES_KEEP) % SIM_TRADES_KEEP];
        assert_int_equal(b->id, a->id + 1);
        assert_true(b->ts_ms >= a->ts_ms);
        assert_true(multiple_of(a->sz, btc->lot_sz));
    }
    market_free(m);
}

static void test_time_and_funding(void **state)
{
    (void)state;
    sim_market *m = mk(9, NULL, NULL, 1);
    int64_t before8 = 1767254399900LL; /* 2026-01-01T07:59:59.9Z */
    market_step(m, before8);
    sim_inst *in = market_inst(m, 0);
    assert_int_equal(in->funding_time_ms, 1767254400000LL);
    assert_true(at_dec_cmp(in->funding_rate, D("0.00005")) >= 0);
    assert_true(at_dec_cmp(in->funding_rate, D("0.00015")) <= 0);
    at_dec last = in->last;
    int64_t seq = in->book.seq_id;
    market_step(m, before8 - 50); /* time went back a little: nothing moves */
    assert_int_equal(at_dec_cmp(in->last, last), 0);
    assert_int_equal(in->book.seq_id, seq);
    market_step(m, before8 + 200);
    assert_int_equal(in->funding_time_ms, 1767254400000LL + 8 * 3600000LL);
    market_free(m);
}

static void test_on_fill(void **state)
{
    (void)state;
    sim_market *m = mk(11, NULL, NULL, 1);
    market_step(m, T0);
    sim_inst *in = market_find(m, "ETH-USDT-SWAP");
    sim_level a0 = in->book.asks[0], a1 = in->book.asks[1], a2 = in->book.asks[2];
    int64_t seq = in->book.seq_id, id = in->next_trade_id;
    int ntr = in->ntrades;
    in->book_changed = in->ticker_changed = false;
    at_dec sz;
    assert_int_equal(at_dec_add(a0.sz, a1.sz, &sz), AT_OK);
    assert_int_equal(at_dec_add(sz, in->lot_sz, &sz), AT_OK);
    market_on_fill(m, in, true, a2.px, sz, T0 + 10);
    assert_true(in->book.seq_id > seq);
    assert_true(in->book_changed && in->ticker_changed);
    assert_int_equal(at_dec_cmp(in->book.asks[0].px, a2.px), 0);
    assert_string_equal(S(in->book.asks[0].sz), S(dsub(a2.sz, in->lot_sz)));
    assert_int_equal(at_dec_cmp(in->last, a2.px), 0);
    assert_int_equal(at_dec_cmp(in->last_sz, sz), 0);
    const sim_trade *t = &in->trades[in->trade_head];
    assert_int_equal(t->id, id);
    assert_true(t->buy);
    assert_int_equal(t->ts_ms, T0 + 10);
    assert_int_equal(at_dec_cmp(t->sz, sz), 0);
    assert_int_equal(in->ntrades, ntr < SIM_TRADES_KEEP ? ntr + 1 : ntr);
    /* a sell into the bids removes the touched levels too */
    sim_level b0 = in->book.bids[0], b1 = in->book.bids[1];
    market_on_fill(m, in, false, b0.px, b0.sz, T0 + 20);
    assert_int_equal(at_dec_cmp(in->book.bids[0].px, b1.px), 0);
    assert_false(in->trades[in->trade_head].buy);
    /* the next step refills the touch around the path price */
    market_step(m, T0 + 100);
    check_book(in, 50);
    market_free(m);
}

/* ------------------------------------------------------------ CSV */

static const char *CSV_ROWS = "1767225600000,2026-01-01T00:00:00Z,3000,3010.5,2995,3005,10\n"
                              "1767225660000,2026-01-01T00:01:00Z,3005,3006,2980.25,2990,10\n"
                              "1767225720000,2026-01-01T00:02:00Z,2990,3020,2989,3019.99,10\n"
                              "1767225780000,2026-01-01T00:03:00Z,3019.99,3025,3015,3016,10\n"
                              "1767225840000,2026-01-01T00:04:00Z,3016,3016,3000,3001.004,10\n";

static void test_csv_replay(void **state)
{
    (void)state;
    char dir[] = "/tmp/okxsim_csv_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], text[1024];
    snprintf(path, sizeof(path), "%s/okx_ETH-USDT-SWAP_1m_test.csv", dir);
    snprintf(text, sizeof(text), "TS,iso_time,Open,High,Low,Close,volume\n%s", CSV_ROWS);
    write_file(path, text);
    static const char *want[5][4] = {
        {"3000", "3010.5", "2995", "3005"},  {"3005", "3006", "2980.25", "2990"},
        {"2990", "3020", "2989", "3019.99"}, {"3019.99", "3025", "3015", "3016"},
        {"3016", "3016", "3000", "3001"}, /* 3001.004 snapped to the 0.01 tick */
    };
    /* speed 60: one 1m candle per wall second, ten 100 ms steps each */
    sim_market *m = mk(1, path, NULL, 60);
    market_step(m, T0);
    sim_inst *eth = market_find(m, "ETH-USDT-SWAP"), *btc = market_inst(m, 0);
    assert_int_equal(btc->ncandles, SIM_CANDLE_KEEP); /* history generated too */
    at_dec btc_start = btc->last;
    bool btc_moved = false;
    for (int k = 0; k < 100; k++) {
        market_step(m, T0 + k * 100);
        int row = (k / 10) % 5, phase = k % 10;
        at_dec o = D(want[row][0]), h = D(want[row][1]), l = D(want[row][2]), c = D(want[row][3]);
        /* the extreme nearer the open comes first */
        at_dec up = dsub(h, o), down = dsub(o, l);
        bool high_first = at_dec_cmp(up, down) <= 0;
        at_dec e1 = high_first ? h : l, e2 = high_first ? l : h;
        assert_int_equal((int)eth->data_row, row);
        assert_true(at_dec_cmp(eth->last, l) >= 0 && at_dec_cmp(eth->last, h) <= 0);
        assert_true(multiple_of(eth->last, eth->tick_sz));
        if (phase == 0) {
            assert_string_equal(S(eth->last), S(o));
        } else if (phase == 3) {
            assert_string_equal(S(eth->last), S(e1));
        } else if (phase == 6) {
            assert_string_equal(S(eth->last), S(e2));
        } else if (phase == 9) {
            assert_string_equal(S(eth->last), S(c)); /* the close at the candle end */
        }
        btc_moved |= at_dec_cmp(btc->last, btc_start) != 0;
    }
    assert_true(btc_moved); /* the other instruments random-walk */
    market_free(m);

    /* ISO timestamps, lower-case header without volume */
    snprintf(text, sizeof(text),
             "ts,open,high,low,close\n2026-01-01T00:00:00.000Z,1,2,0.5,1.5\n"
             "2026-01-01 00:05:00,1.5,2,1,1\n");
    write_file(path, text);
    m = mk(1, path, NULL, 1);
    market_free(m);
    unlink(path);
    rmdir(dir);
}

static void expect_csv_error(const char *content, const char *where, const char *what)
{
    char path[] = "/tmp/okxsim_bad_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, content);
    char err[512] = "", want[300];
    sim_market_opts o = {path, NULL, 1, 1, 0};
    assert_null(market_new(&o, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s%s", path, where);
    if (!strstr(err, want) || !strstr(err, what)) {
        fail_msg("error '%s' lacks '%s' / '%s'", err, want, what);
    }
    unlink(path);
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_csv_error("ts,open,high,low\n1767225600000,1,2,0.5\n", ":1:", "close");
    expect_csv_error("open,high,low,close\n1,2,0.5,1\n", ":1:", "ts");
    expect_csv_error("ts,open,high,low,close\n1767225600000,1,2,0.5,1\n"
                     "1767225660000,1,2,0.5,abc\n",
                     ":3:", "close: 'abc' is not a finite number");
    expect_csv_error("ts,open,high,low,close\nyesterday,1,2,0.5,1\n", ":2:", "ts: 'yesterday'");
    expect_csv_error("ts,open,high,low,close\n1767225660000,1,2,0.5,1\n"
                     "1767225600000,1,2,0.5,1\n",
                     ":3:", "is not after the previous row");
    expect_csv_error("ts,open,high,low,close\n", ":1:", "no candle rows");
    char err[256];
    sim_market_opts o = {"/nonexistent/okx.csv", NULL, 1, 1, 0};
    assert_null(market_new(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/okx.csv"));
}

/* ------------------------------------------------------------ REST */

static void test_rest_instruments(void **state)
{
    (void)state;
    sim_market *m = mk(1, NULL, NULL, 1);
    sim_reply r;
    call(market_instruments, m, &r, "instType", "SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 5);
    const json_t *o = json_array_get(r.data, 0);
    assert_string_equal(str_at(o, "instType"), "SWAP");
    assert_string_equal(str_at(o, "instId"), "BTC-USDT-SWAP");
    assert_string_equal(str_at(o, "uly"), "BTC-USDT");
    assert_string_equal(str_at(o, "instFamily"), "BTC-USDT");
    assert_string_equal(str_at(o, "settleCcy"), "USDT");
    assert_string_equal(str_at(o, "ctVal"), "0.01");
    assert_string_equal(str_at(o, "ctMult"), "1");
    assert_string_equal(str_at(o, "ctValCcy"), "BTC");
    assert_string_equal(str_at(o, "ctType"), "linear");
    assert_string_equal(str_at(o, "lever"), "100");
    assert_string_equal(str_at(o, "tickSz"), "0.1");
    assert_string_equal(str_at(o, "lotSz"), "0.01");
    assert_string_equal(str_at(o, "minSz"), "0.01");
    assert_string_equal(str_at(o, "maxLmtSz"), "100000000");
    assert_string_equal(str_at(o, "maxMktSz"), "10000");
    assert_string_equal(str_at(o, "maxStopSz"), "10000");
    assert_string_equal(str_at(o, "state"), "live");
    assert_string_equal(str_at(o, "listTime"), "1573557408000");
    assert_string_equal(str_at(o, "expTime"), "");
    assert_string_equal(str_at(o, "baseCcy"), "");
    assert_string_equal(str_at(o, "quoteCcy"), "");
    assert_string_equal(str_at(o, "alias"), "");
    assert_string_equal(str_at(o, "category"), "1");
    assert_string_equal(str_at(o, "optType"), "");
    assert_string_equal(str_at(o, "stk"), "");
    assert_string_equal(str_at(o, "ruleType"), "normal");
    assert_true(json_is_integer(json_object_get(o, "instIdCode")));
    assert_int_equal(json_integer_value(json_object_get(o, "instIdCode")), 10459);
    reply_done(&r);

    call(market_instruments, m, &r, "instType", "SWAP", "instId", "SOL-USDT-SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 1);
    assert_string_equal(str_at(json_array_get(r.data, 0), "tickSz"), "0.001");
    reply_done(&r);
    call(market_instruments, m, &r, "instType", "SWAP", "instFamily", "XRP-USDT", NULL);
    assert_int_equal(ndata(&r), 1);
    reply_done(&r);
    call(market_instruments, m, &r, "instType", "SPOT", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 0);
    reply_done(&r);
    call(market_instruments, m, &r, "instType", "BOND", NULL);
    expect_err(&r, 400, "51000", "Parameter instType error");
    call(market_instruments, m, &r, NULL);
    expect_err(&r, 400, "50014", "Parameter instType can not be empty");
    call(market_instruments, m, &r, "instType", "SWAP", "instId", "NOPE-USDT-SWAP", NULL);
    expect_err(&r, 400, "51001", "Instrument ID does not exist");
    market_free(m);
}

static void test_rest_ticker_books(void **state)
{
    (void)state;
    sim_market *m = mk(2, NULL, NULL, 1);
    run_steps(m, T0, 20);
    sim_inst *btc = market_inst(m, 0);
    sim_reply r;
    call(market_ticker, m, &r, "instId", "BTC-USDT-SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 1);
    const json_t *t = json_array_get(r.data, 0);
    assert_string_equal(keys_of(t), "instType,instId,last,lastSz,askPx,askSz,bidPx,bidSz,"
                                    "open24h,high24h,low24h,volCcy24h,vol24h,sodUtc0,sodUtc8,ts");
    assert_string_equal(str_at(t, "last"), S(btc->last));
    assert_string_equal(str_at(t, "askPx"), S(btc->book.asks[0].px));
    assert_string_equal(str_at(t, "bidSz"), S(btc->book.bids[0].sz));
    assert_string_equal(str_at(t, "vol24h"), S(btc->vol24h));
    char ts[24];
    snprintf(ts, sizeof(ts), "%lld", (long long)(T0 + 1900));
    assert_string_equal(str_at(t, "ts"), ts);
    reply_done(&r);
    call(market_ticker, m, &r, NULL);
    expect_err(&r, 400, "50014", "Parameter instId can not be empty");
    call(market_ticker, m, &r, "instId", "BTC-USD-SWAP", NULL);
    expect_err(&r, 400, "51001", "Instrument ID does not exist");
    call(market_tickers, m, &r, "instType", "SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 5);
    reply_done(&r);
    call(market_tickers, m, &r, "instType", "FUTURES", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 0);
    reply_done(&r);

    call(market_books, m, &r, "instId", "BTC-USDT-SWAP", "sz", "5", NULL);
    expect_ok(&r);
    const json_t *b = json_array_get(r.data, 0);
    assert_string_equal(keys_of(b), "asks,bids,ts,seqId");
    assert_true(json_is_integer(json_object_get(b, "seqId")));
    assert_int_equal(json_integer_value(json_object_get(b, "seqId")), btc->book.seq_id);
    const char *sides[2] = {"asks", "bids"};
    for (int s = 0; s < 2; s++) {
        const json_t *lv = json_object_get(b, sides[s]);
        assert_int_equal(json_array_size(lv), 5);
        for (size_t k = 0; k < 5; k++) {
            const json_t *row = json_array_get(lv, k);
            assert_int_equal(json_array_size(row), 4);
            all_strings(row);
            assert_string_equal(json_string_value(json_array_get(row, 2)), "0");
            const sim_level *want = s == 0 ? &btc->book.asks[k] : &btc->book.bids[k];
            assert_string_equal(json_string_value(json_array_get(row, 0)), S(want->px));
            assert_string_equal(json_string_value(json_array_get(row, 1)), S(want->sz));
            assert_int_equal(atoi(json_string_value(json_array_get(row, 3))), want->orders);
        }
    }
    reply_done(&r);
    call(market_books, m, &r, "instId", "BTC-USDT-SWAP", NULL);
    assert_int_equal(json_array_size(json_object_get(json_array_get(r.data, 0), "asks")), 1);
    reply_done(&r);
    call(market_books, m, &r, "instId", "BTC-USDT-SWAP", "sz", "1000", NULL);
    assert_int_equal(json_array_size(json_object_get(json_array_get(r.data, 0), "bids")), 50);
    reply_done(&r);
    call(market_books, m, &r, "instId", "BTC-USDT-SWAP", "sz", "abc", NULL);
    expect_err(&r, 400, "51000", "Parameter sz error");
    call(market_books, m, &r, "sz", "5", NULL);
    expect_err(&r, 400, "50014", "Parameter instId can not be empty");

    json_t *wb = market_book_json(btc, 5, true);
    assert_string_equal(keys_of(wb), "asks,bids,instId,ts,seqId");
    json_decref(wb);
    market_free(m);
}

static int64_t row_ts(const json_t *row)
{
    return strtoll(json_string_value(json_array_get(row, 0)), NULL, 10);
}

static void test_rest_candles(void **state)
{
    (void)state;
    sim_market *m = mk(4, NULL, NULL, 1);
    run_steps(m, T0, 50);
    sim_reply r;
    call(market_candles, m, &r, "instId", "BTC-USDT-SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 100);
    int64_t newest = (T0 + 4900) / MIN_MS * MIN_MS;
    for (size_t k = 0; k < 100; k++) {
        const json_t *row = json_array_get(r.data, k);
        assert_int_equal(json_array_size(row), 9);
        all_strings(row);
        assert_int_equal(row_ts(row), newest - (int64_t)k * MIN_MS);
        assert_string_equal(json_string_value(json_array_get(row, 8)), k == 0 ? "0" : "1");
    }
    /* volCcy = vol x ctVal (0.01 BTC per contract) */
    const json_t *r1 = json_array_get(r.data, 1);
    at_dec vol = D(json_string_value(json_array_get(r1, 5)));
    at_dec ccy = D(json_string_value(json_array_get(r1, 6))), want;
    assert_int_equal(at_dec_mul(vol, D("0.01"), &want), AT_OK);
    assert_int_equal(at_dec_cmp(ccy, want), 0);
    int64_t ts10 = row_ts(json_array_get(r.data, 10)), ts5 = row_ts(json_array_get(r.data, 5));
    reply_done(&r);

    char after[24], before[24];
    snprintf(after, sizeof(after), "%lld", (long long)ts10);
    snprintf(before, sizeof(before), "%lld", (long long)ts5);
    call(market_candles, m, &r, "instId", "BTC-USDT-SWAP", "after", after, "limit", "3", NULL);
    assert_int_equal(ndata(&r), 3);
    assert_int_equal(row_ts(json_array_get(r.data, 0)), ts10 - MIN_MS);
    reply_done(&r);
    call(market_candles, m, &r, "instId", "BTC-USDT-SWAP", "before", before, NULL);
    assert_int_equal(ndata(&r), 5);
    reply_done(&r);
    call(market_candles, m, &r, "instId", "BTC-USDT-SWAP", "limit", "1000", NULL);
    assert_int_equal(ndata(&r), 300);
    reply_done(&r);

    /* 5m bars aggregate the 1m ones */
    json_t *one[5];
    call(market_candles, m, &r, "instId", "BTC-USDT-SWAP", "bar", "5m", "limit", "3", NULL);
    assert_int_equal(ndata(&r), 3);
    const json_t *b1 = json_array_get(r.data, 1);
    assert_int_equal(row_ts(b1) % 300000, 0);
    assert_int_equal(row_ts(json_array_get(r.data, 0)) - row_ts(b1), 300000);
    assert_string_equal(json_string_value(json_array_get(b1, 8)), "1");
    sim_inst *btc = market_inst(m, 0);
    int back0 = (int)((newest - row_ts(b1)) / MIN_MS); /* 1m index of the bar's open */
    at_dec hi = {0, 0};
    for (int k = 0; k < 5; k++) {
        one[k] = market_candle_row(btc, "1m", back0 - k);
        at_dec h = D(json_string_value(json_array_get(one[k], 2)));
        hi = at_dec_cmp(h, hi) > 0 ? h : hi;
    }
    assert_string_equal(json_string_value(json_array_get(b1, 1)),
                        json_string_value(json_array_get(one[0], 1)));
    assert_string_equal(json_string_value(json_array_get(b1, 4)),
                        json_string_value(json_array_get(one[4], 4)));
    assert_string_equal(json_string_value(json_array_get(b1, 2)), S(hi));
    for (int k = 0; k < 5; k++) {
        json_decref(one[k]);
    }
    reply_done(&r);

    json_t *d = market_candle_row(btc, "1D", 0), *du = market_candle_row(btc, "1Dutc", 0);
    assert_int_equal((row_ts(d) + 8 * 3600000LL) % 86400000LL, 0); /* UTC+8 midnight */
    assert_int_equal(row_ts(du) % 86400000LL, 0);
    json_decref(d);
    json_decref(du);
    assert_null(market_candle_row(btc, "7m", 0));
    assert_null(market_candle_row(btc, "1m", SIM_CANDLE_KEEP + 5));

    call(market_candles, m, &r, "instId", "BTC-USDT-SWAP", "bar", "7m", NULL);
    expect_err(&r, 400, "51000", "Parameter bar error");
    call(market_candles, m, &r, "instId", "NOPE", NULL);
    expect_err(&r, 400, "51001", "Instrument ID does not exist");
    call(market_candles, m, &r, NULL);
    expect_err(&r, 400, "50014", "Parameter instId can not be empty");

    assert_int_equal(market_bar_ms("1m"), 60000);
    assert_int_equal(market_bar_ms("3m"), 180000);
    assert_int_equal(market_bar_ms("1H"), 3600000);
    assert_int_equal(market_bar_ms("4H"), 14400000);
    assert_int_equal(market_bar_ms("12Hutc"), 43200000);
    assert_int_equal(market_bar_ms("1D"), 86400000);
    assert_int_equal(market_bar_ms("1Dutc"), 86400000);
    assert_int_equal(market_bar_ms("1h"), 0);
    assert_int_equal(market_bar_ms("bogus"), 0);
    assert_int_equal(market_bar_ms(NULL), 0);
    market_free(m);
}

static void test_rest_trades_funding_mark(void **state)
{
    (void)state;
    sim_market *m = mk(6, NULL, NULL, 1);
    run_steps(m, T0, 30);
    sim_inst *sol = market_find(m, "SOL-USDT-SWAP");
    sim_reply r;
    call(market_trades, m, &r, "instId", "SOL-USDT-SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 100);
    const json_t *t0 = json_array_get(r.data, 0);
    assert_string_equal(keys_of(t0), "instId,side,sz,px,source,tradeId,ts");
    assert_int_equal(strtoll(str_at(t0, "tradeId"), NULL, 10), sol->trades[sol->trade_head].id);
    for (size_t k = 1; k < 100; k++) {
        const json_t *a = json_array_get(r.data, k - 1), *b = json_array_get(r.data, k);
        assert_true(strtoll(str_at(a, "tradeId"), NULL, 10) >
                    strtoll(str_at(b, "tradeId"), NULL, 10));
        const char *side = str_at(b, "side");
        assert_true(strcmp(side, "buy") == 0 || strcmp(side, "sell") == 0);
        assert_true(multiple_of(D(str_at(b, "px")), sol->tick_sz));
    }
    reply_done(&r);
    call(market_trades, m, &r, "instId", "SOL-USDT-SWAP", "limit", "9999", NULL);
    assert_int_equal(ndata(&r), 500);
    reply_done(&r);
    json_t *wt = market_trade_json(sol, &sol->trades[sol->trade_head]);
    assert_string_equal(keys_of(wt), "instId,tradeId,px,sz,side,ts,count,source");
    json_decref(wt);

    call(market_funding_rate, m, &r, "instId", "SOL-USDT-SWAP", NULL);
    expect_ok(&r);
    const json_t *f = json_array_get(r.data, 0);
    assert_string_equal(keys_of(f), "formulaType,fundingRate,fundingTime,impactValue,instId,"
                                    "instType,interestRate,maxFundingRate,method,"
                                    "minFundingRate,nextFundingRate,nextFundingTime,premium,"
                                    "settFundingRate,settState,ts");
    assert_string_equal(str_at(f, "fundingRate"), S(sol->funding_rate));
    assert_string_equal(str_at(f, "fundingTime"), "1767254400000");
    assert_string_equal(str_at(f, "nextFundingTime"), "1767283200000");
    assert_string_equal(str_at(f, "method"), "current_period");
    assert_string_equal(str_at(f, "maxFundingRate"), "0.00375");
    reply_done(&r);
    call(market_funding_rate, m, &r, "instId", "ANY", NULL);
    assert_int_equal(ndata(&r), 5);
    reply_done(&r);
    call(market_funding_rate, m, &r, NULL);
    expect_err(&r, 400, "50014", "Parameter instId can not be empty");

    call(market_mark_price, m, &r, "instType", "SWAP", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 5);
    reply_done(&r);
    call(market_mark_price, m, &r, "instType", "SWAP", "instId", "SOL-USDT-SWAP", NULL);
    assert_int_equal(ndata(&r), 1);
    const json_t *mk0 = json_array_get(r.data, 0);
    assert_string_equal(keys_of(mk0), "instType,instId,markPx,ts");
    assert_string_equal(str_at(mk0, "markPx"), S(sol->mark));
    reply_done(&r);
    call(market_mark_price, m, &r, "instType", "OPTION", NULL);
    expect_ok(&r);
    assert_int_equal(ndata(&r), 0);
    reply_done(&r);
    call(market_mark_price, m, &r, NULL);
    expect_err(&r, 400, "50014", "Parameter instType can not be empty");
    call(market_mark_price, m, &r, "instType", "SWAP", "instId", "X", NULL);
    expect_err(&r, 400, "51001", "Instrument ID does not exist");
    market_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_instruments), cmocka_unit_test(test_instruments_file),
        cmocka_unit_test(test_determinism),         cmocka_unit_test(test_invariants),
        cmocka_unit_test(test_time_and_funding),    cmocka_unit_test(test_on_fill),
        cmocka_unit_test(test_csv_replay),          cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_rest_instruments),    cmocka_unit_test(test_rest_ticker_books),
        cmocka_unit_test(test_rest_candles),        cmocka_unit_test(test_rest_trades_funding_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

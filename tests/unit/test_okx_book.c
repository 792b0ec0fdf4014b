/* Unit tests for plugins/exchange_okx/okx_md.c (the zero-copy WebSocket
 * scanner) and okx_book.c (book maintenance): exact decoding of every
 * channel, OKX's merge and seqId rules with the docs' sequence example,
 * the checksum vectors of okx-vectors.json, malformed frames, and a replay
 * of real OKX traffic whose checksums must all verify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine.h"
#include "okx_book.h"
#include "okx_md.h"

#define RECORDING "/work/shared/data/okx_ws_cryptofeed/OKX.ws.1.0.txt"
#define VECTORS "/work/shared/reference/fixtures/okx-vectors.json"
#define TARDIS "/work/shared/data/okx_ws_tardis_samples/tardis_okx_v5_messages.jsonl"
#define SLICE AT_TEST_SOURCE_DIR "/tests/data/okx_ws_books_slice.txt"

typedef struct fx {
    okx_md md;
    okx_md_msg msg;
    okx_book book;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    okx_md_init(&f->md, engine_host());
    okx_book_init(&f->book);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static int parse(fx *f, const char *frame)
{
    return okx_md_parse(&f->md, frame, strlen(frame), &f->msg);
}

static void parse_ok(fx *f, const char *frame)
{
    int rc = parse(f, frame);
    if (rc != AT_OK) {
        fail_msg("parse failed (%d, %s at %d): %s", rc, okx_md_reason(&f->md), f->md.err_off,
                 frame);
    }
}

static void expect_dec(at_dec d, int64_t m, int32_t scale)
{
    if (d.m != m || d.scale != scale) {
        fail_msg("got {%lld, %d}, want {%lld, %d}", (long long)d.m, (int)d.scale, (long long)m,
                 (int)scale);
    }
}

static void expect_str(okx_str s, const char *want)
{
    if (!okx_str_eq(s, want)) {
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.n, s.p ? s.p : "", want);
    }
}

/* Parse a books frame and apply it; returns the verdict. */
static int apply(fx *f, const char *frame)
{
    parse_ok(f, frame);
    assert_int_equal(f->msg.kind, OKX_MD_DATA);
    return okx_book_apply(&f->book, &f->msg.u.book);
}

static void expect_level(const okx_book_side *s, uint32_t i, const char *px, const char *sz)
{
    const okx_book_level *l = okx_book_level_at(s, i);
    assert_non_null(l);
    okx_str p = okx_book_level_px(l), z = okx_book_level_sz(l);
    if (!okx_str_eq(p, px) || !okx_str_eq(z, sz)) {
        fail_msg("level %u is %.*s:%.*s, want %s:%s", i, (int)p.n, p.p, (int)z.n, z.p, px, sz);
    }
}

/* ---- scanner: each channel -------------------------------------------- */

static void test_scan_ticker(void **state)
{
    fx *f = *state;
    parse_ok(f, "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{"
                "\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"last\":\"9999.99\","
                "\"lastSz\":\"0.1\",\"askPx\":\"9999.99\",\"askSz\":\"11\",\"bidPx\":\"8888.88\","
                "\"bidSz\":\"5\",\"open24h\":\"9000\",\"high24h\":\"10000\",\"low24h\":\"8888.88\","
                "\"volCcy24h\":\"2222\",\"vol24h\":\"2223\",\"sodUtc0\":\"2222\",\"sodUtc8\":"
                "\"2222\",\"ts\":\"1597026383085\"}]}");
    assert_int_equal(f->msg.kind, OKX_MD_DATA);
    assert_int_equal(f->msg.channel, OKX_CH_TICKERS);
    expect_str(f->msg.channel_name, "tickers");
    expect_str(f->msg.inst_id, "BTC-USDT-SWAP");
    assert_int_equal(f->msg.n_items, 1);
    const okx_md_ticker *t = &f->msg.u.tickers[0];
    expect_str(t->inst_id, "BTC-USDT-SWAP");
    expect_dec(t->last, 999999, 2);
    expect_dec(t->last_sz, 1, 1);
    expect_dec(t->ask, 999999, 2);
    expect_dec(t->ask_sz, 11, 0);
    expect_dec(t->bid, 888888, 2);
    expect_dec(t->bid_sz, 5, 0);
    expect_dec(t->open24h, 9000, 0);
    expect_dec(t->high24h, 10000, 0);
    expect_dec(t->low24h, 888888, 2);
    expect_dec(t->vol24h, 2223, 0);
    expect_dec(t->vol_ccy24h, 2222, 0);
    assert_int_equal(t->ts_ms, 1597026383085LL);
}

static void test_scan_books(void **state)
{
    fx *f = *state;
    parse_ok(f, "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"snapshot\","
                "\"data\":[{\"asks\":[[\"8476.98\",\"415\",\"0\",\"13\"],[\"8477\",\"7\",\"0\","
                "\"2\"]],\"bids\":[[\"8476.10\",\"256\",\"0\",\"12\"]],\"ts\":\"1597026383085\","
                "\"checksum\":-855196043,\"prevSeqId\":-1,\"seqId\":123456}]}");
    assert_int_equal(f->msg.channel, OKX_CH_BOOKS);
    expect_str(f->msg.inst_id, "BTC-USDT");
    const okx_md_book *b = &f->msg.u.book;
    assert_int_equal(b->action, OKX_ACT_SNAPSHOT);
    assert_int_equal(b->nasks, 2);
    assert_int_equal(b->nbids, 1);
    expect_dec(b->asks[0].px, 847698, 2);
    expect_dec(b->asks[0].sz, 415, 0);
    assert_int_equal(b->asks[0].orders, 13);
    expect_dec(b->asks[1].px, 8477, 0);
    expect_dec(b->bids[0].px, 847610, 2); /* the written scale is kept */
    expect_str(b->bids[0].px_s, "8476.10");
    expect_str(b->asks[1].sz_s, "7");
    assert_int_equal(b->ts_ms, 1597026383085LL);
    assert_int_equal(b->checksum, -855196043);
    assert_true(b->has_seq && b->has_prev_seq);
    assert_int_equal(b->prev_seq_id, -1);
    assert_int_equal(b->seq_id, 123456);

    parse_ok(f, "{\"arg\":{\"channel\":\"books5\",\"instId\":\"BCH-USDT-SWAP\"},\"data\":[{"
                "\"asks\":[[\"111.06\",\"55154\",\"0\",\"2\"]],\"bids\":[[\"111.05\",\"57745\","
                "\"0\",\"3\"]],\"instId\":\"BCH-USDT-SWAP\",\"ts\":\"1670324386802\",\"seqId\":"
                "363996337}]}");
    assert_int_equal(f->msg.channel, OKX_CH_BOOKS5);
    b = &f->msg.u.book;
    assert_int_equal(b->action, OKX_ACT_NONE);
    expect_dec(b->asks[0].px, 11106, 2);
    expect_dec(b->bids[0].sz, 57745, 0);
    assert_int_equal(b->bids[0].orders, 3);
    assert_true(b->has_seq);
    assert_false(b->has_prev_seq);
    assert_int_equal(b->seq_id, 363996337);
    assert_int_equal(b->checksum, 0);

    parse_ok(f, "{\"arg\":{\"channel\":\"bbo-tbt\",\"instId\":\"BTC-USDT\"},\"data\":[{\"asks\":[["
                "\"36232.2\",\"1.8826134\",\"0\",\"17\"]],\"bids\":[[\"36232.1\",\"0.00572212\","
                "\"0\",\"2\"]],\"ts\":\"1651826598363\"}]}");
    assert_int_equal(f->msg.channel, OKX_CH_BBO_TBT);
    b = &f->msg.u.book;
    expect_dec(b->asks[0].sz, 18826134, 7);
    expect_dec(b->bids[0].sz, 572212, 8);
    assert_int_equal(okx_book_apply(&f->book, b), OKX_BOOK_OK);
    assert_int_equal(f->book.bids.n, 1);
}

static void test_scan_trades(void **state)
{
    fx *f = *state;
    parse_ok(f, "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":[{\"instId\":"
                "\"BTC-USDT\",\"tradeId\":\"130639474\",\"px\":\"42219.9\",\"sz\":\"0.12060306\","
                "\"side\":\"buy\",\"ts\":\"1630048897897\",\"count\":\"3\",\"source\":\"0\","
                "\"seqId\":1234},{\"instId\":\"BTC-USDT\",\"tradeId\":\"130639475\",\"px\":"
                "\"42219.8\",\"sz\":\"2\",\"side\":\"sell\",\"ts\":\"1630048897898\"}]}");
    assert_int_equal(f->msg.channel, OKX_CH_TRADES);
    assert_int_equal(f->msg.n_items, 2);
    const okx_md_trade *t = &f->msg.u.trades[0];
    expect_str(t->inst_id, "BTC-USDT");
    expect_str(t->trade_id, "130639474");
    expect_dec(t->px, 422199, 1);
    expect_dec(t->sz, 12060306, 8);
    assert_int_equal(t->side, AT_SIDE_BUY);
    assert_int_equal(t->count, 3);
    assert_int_equal(t->ts_ms, 1630048897897LL);
    t = &f->msg.u.trades[1];
    expect_str(t->trade_id, "130639475");
    assert_int_equal(t->side, AT_SIDE_SELL);
    expect_dec(t->sz, 2, 0);
}

static void test_scan_mark_funding_candle(void **state)
{
    fx *f = *state;
    parse_ok(f, "{\"arg\":{\"channel\":\"mark-price\",\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{"
                "\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"markPx\":\"42310.6\","
                "\"ts\":\"1597026383085\"}]}");
    assert_int_equal(f->msg.channel, OKX_CH_MARK_PRICE);
    expect_dec(f->msg.u.marks[0].mark_px, 423106, 1);
    assert_int_equal(f->msg.u.marks[0].ts_ms, 1597026383085LL);

    parse_ok(f, "{\"arg\":{\"channel\":\"funding-rate\",\"instId\":\"BTC-USD-SWAP\"},\"data\":[{"
                "\"fundingRate\":\"0.0001515\",\"fundingTime\":\"1622822400000\",\"instId\":"
                "\"BTC-USD-SWAP\",\"instType\":\"SWAP\",\"method\":\"next_period\","
                "\"nextFundingRate\":\"-0.00029\",\"nextFundingTime\":\"1622851200000\","
                "\"premium\":\"0.0001\",\"settState\":\"settled\",\"ts\":\"1622822400000\"}]}");
    assert_int_equal(f->msg.channel, OKX_CH_FUNDING_RATE);
    const okx_md_funding *fr = &f->msg.u.funding[0];
    expect_str(fr->inst_id, "BTC-USD-SWAP");
    expect_dec(fr->rate, 1515, 7);
    expect_dec(fr->next_rate, -29, 5);
    assert_int_equal(fr->funding_ms, 1622822400000LL);
    assert_int_equal(fr->next_funding_ms, 1622851200000LL);

    /* A forecast OKX no longer sends arrives as "". */
    parse_ok(f, "{\"arg\":{\"channel\":\"funding-rate\",\"instId\":\"BTC-USDT-SWAP\"},\"data\":[{"
                "\"fundingRate\":\"0.0001\",\"nextFundingRate\":\"\",\"fundingTime\":"
                "\"1622822400000\"}]}");
    expect_dec(f->msg.u.funding[0].next_rate, 0, 0);
    assert_true(f->msg.u.funding[0].has_rate);
    assert_false(f->msg.u.funding[0].has_next_rate);

    parse_ok(f, "{\"arg\":{\"channel\":\"candle1D\",\"instId\":\"BTC-USDT\"},\"data\":[["
                "\"1597026383085\",\"8533.02\",\"8553.74\",\"8527.17\",\"8548.26\",\"45247\","
                "\"529.5858061\",\"5529.5858061\",\"0\"]]}");
    assert_int_equal(f->msg.channel, OKX_CH_CANDLE);
    assert_int_equal(f->msg.bar_s, 86400);
    const okx_md_candle *c = &f->msg.u.candles[0];
    assert_int_equal(c->open_ms, 1597026383085LL);
    expect_dec(c->o, 853302, 2);
    expect_dec(c->h, 855374, 2);
    expect_dec(c->l, 852717, 2);
    expect_dec(c->c, 854826, 2);
    expect_dec(c->vol, 45247, 0);
    expect_dec(c->vol_ccy, 5295858061, 7);
    expect_dec(c->vol_ccy_quote, 55295858061, 7);
    assert_false(c->confirmed);

    parse_ok(f, "{\"arg\":{\"channel\":\"candle5m\",\"instId\":\"ETH-USDT-SWAP\"},\"data\":[["
                "\"1597026300000\",\"1\",\"2\",\"0.5\",\"1.5\",\"10\",\"1\",\"15\",\"1\"]]}");
    assert_int_equal(f->msg.bar_s, 300);
    assert_true(f->msg.u.candles[0].confirmed);
    parse_ok(f, "{\"arg\":{\"channel\":\"candle6Hutc\",\"instId\":\"X\"},\"data\":[]}");
    assert_int_equal(f->msg.channel, OKX_CH_CANDLE);
    assert_int_equal(f->msg.bar_s, 6 * 3600);
    assert_int_equal(f->msg.n_items, 0);

    /* A channel we do not decode is not an error. */
    parse_ok(f, "{\"arg\":{\"channel\":\"open-interest\",\"instId\":\"X\"},\"data\":[{\"oi\":"
                "\"1\"}]}");
    assert_int_equal(f->msg.channel, OKX_CH_OTHER);
    assert_int_equal(f->msg.n_items, 0);
}

static void test_scan_events(void **state)
{
    fx *f = *state;
    parse_ok(f, "{\"id\":\"1512\",\"event\":\"subscribe\",\"arg\":{\"channel\":\"tickers\","
                "\"instId\":\"BTC-USDT\"},\"connId\":\"accb8e21\"}");
    assert_int_equal(f->msg.kind, OKX_MD_EVENT);
    assert_int_equal(f->msg.event, OKX_EVT_SUBSCRIBE);
    assert_true(f->msg.has_arg);
    assert_int_equal(f->msg.channel, OKX_CH_TICKERS);
    expect_str(f->msg.inst_id, "BTC-USDT");
    expect_str(f->msg.id, "1512");
    expect_str(f->msg.conn_id, "accb8e21");

    parse_ok(f, "{\"event\":\"unsubscribe\",\"arg\":{\"channel\":\"books\",\"instId\":\"A\"},"
                "\"connId\":\"d0b44253\"}");
    assert_int_equal(f->msg.event, OKX_EVT_UNSUBSCRIBE);
    assert_int_equal(f->msg.channel, OKX_CH_BOOKS);

    parse_ok(f, "{\"id\":\"1512\",\"event\":\"error\",\"code\":\"60012\",\"msg\":\"Invalid "
                "request: {\\\"op\\\": \\\"subscribe\\\"}\",\"connId\":\"a4d3ae55\"}");
    assert_int_equal(f->msg.event, OKX_EVT_ERROR);
    assert_int_equal(f->msg.code, 60012);
    assert_false(f->msg.has_arg);
    expect_str(f->msg.msg, "Invalid request: {\\\"op\\\": \\\"subscribe\\\"}");

    parse_ok(f, "{\"event\":\"login\",\"code\":\"0\",\"msg\":\"\",\"connId\":\"a4d3ae55\"}");
    assert_int_equal(f->msg.event, OKX_EVT_LOGIN);
    assert_int_equal(f->msg.code, 0);
    expect_str(f->msg.msg, "");

    parse_ok(f, "{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"The connection will soon be "
                "closed for a service upgrade. Please reconnect.\",\"connId\":\"a4d3ae55\"}");
    assert_int_equal(f->msg.event, OKX_EVT_NOTICE);
    assert_int_equal(f->msg.code, 64008);

    parse_ok(f, "{\"event\":\"channel-conn-count\",\"channel\":\"orders\",\"connCount\":\"2\","
                "\"connId\":\"abcd1234\"}");
    assert_int_equal(f->msg.event, OKX_EVT_CONN_COUNT);

    parse_ok(f, "pong");
    assert_int_equal(f->msg.kind, OKX_MD_PONG);
}

/* ---- scanner: malformed input ------------------------------------------ */

static void expect_reject(fx *f, const char *frame, size_t len)
{
    int rc = okx_md_parse(&f->md, frame, len, &f->msg);
    if (rc >= 0) {
        fail_msg("accepted: %.*s", (int)len, frame);
    }
    assert_true(rc == AT_EINVAL || rc == AT_ERANGE);
    assert_true(strlen(okx_md_reason(&f->md)) > 0);
}

static const char BOOK_FRAME[] =
    "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":[{"
    "\"asks\":[[\"8476.98\",\"415\",\"0\",\"13\"]],\"bids\":[[\"8476.97\",\"256\",\"0\",\"12\"]],"
    "\"ts\":\"1597026383085\",\"checksum\":0,\"prevSeqId\":1,\"seqId\":2}]}";

static void test_scan_malformed(void **state)
{
    fx *f = *state;
    /* Every proper prefix of a frame is truncated JSON. */
    size_t n = strlen(BOOK_FRAME);
    for (size_t k = 0; k < n; k++) {
        expect_reject(f, BOOK_FRAME, k);
    }
    assert_int_equal(okx_md_parse(&f->md, BOOK_FRAME, n, &f->msg), AT_OK);

    static const char *bad[] = {
        "",
        "ping",
        "[]",
        "\"x\"",
        "{}",
        "{\"data\":[]}",                                   /* missing arg */
        "{\"op\":\"order\",\"data\":[{}],\"code\":\"0\"}", /* missing arg */
        "{\"arg\":\"books\",\"data\":[]}",                 /* arg not an object */
        "{\"arg\":{\"instId\":\"X\"},\"data\":[]}",        /* no channel */
        "{\"arg\":{\"channel\":7},\"data\":[]}",
        "{\"arg\":{\"channel\":\"trades\"}}", /* no data */
        "{\"arg\":{\"channel\":\"trades\"},\"data\":{}}",
        "{\"arg\":{\"channel\":\"trades\"},\"data\":[[]]}",
        "{\"arg\":{\"channel\":\"trades\"},\"data\":[{\"px\":1,\"sz\":\"1\",\"side\":\"buy\","
        "\"tradeId\":\"1\"}]}",
        "{\"arg\":{\"channel\":\"trades\"},\"data\":[{\"px\":\"1\",\"sz\":\"1\",\"side\":\"up\","
        "\"tradeId\":\"1\"}]}",
        "{\"arg\":{\"channel\":\"trades\"},\"data\":[{\"px\":\"1\",\"sz\":\"1\"}]}",
        "{\"arg\":{\"channel\":\"trades\"},\"data\":[{\"px\":\"1.2.3\",\"sz\":\"1\",\"side\":"
        "\"buy\",\"tradeId\":\"1\"}]}",
        "{\"arg\":{\"channel\":\"tickers\"},\"data\":[{\"last\":\"abc\"}]}",
        "{\"arg\":{\"channel\":\"tickers\"},\"data\":[{\"last\":\"99999999999999999999\"}]}",
        "{\"arg\":{\"channel\":\"tickers\"},\"data\":[{\"ts\":\"12x\"}]}",
        "{\"arg\":{\"channel\":\"books\"},\"data\":[{\"asks\":[],\"bids\":[]}]}", /* no action */
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"merge\",\"data\":[{\"asks\":[],\"bids\":[]}]"
        "}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[]}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":{},\"bids\":"
        "[]}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[[\"1\"]],"
        "\"bids\":[]}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[[\"1\",[]]],"
        "\"bids\":[]}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[[\"-1\",\"1\""
        "]],\"bids\":[]}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[[\"1\",\"\"]],"
        "\"bids\":[]}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[],\"bids\":"
        "[],\"seqId\":\"x\"}]}",
        "{\"arg\":{\"channel\":\"books\"},\"action\":\"update\",\"data\":[{\"asks\":[],\"bids\":"
        "[],\"checksum\":99999999999}]}",
        "{\"arg\":{\"channel\":\"candle1m\"},\"data\":[[\"1\",\"2\"]]}",
        "{\"arg\":{\"channel\":\"candle1m\"},\"data\":[[\"1\",\"2\",\"3\",\"4\",\"5\",6]]}",
        "{\"event\":7}",
        "{\"event\":\"error\",\"code\":\"x\"}",
        "{\"event\":\"subscribe\",\"arg\":[]}",
        "{\"a\" \"b\"}",
        "{\"a\":}",
        "{\"a\":1}{}",
        "{\"a\":1} x",
        "{\"a\":[1,}",
        "{\"arg\":{\"channel\":\"trades\"},\"data\":[]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_reject(f, bad[i], strlen(bad[i]));
    }
    /* An embedded NUL ends jsmn's input; the frame must not pass as shorter. */
    static const char nul[] = "{\"event\":\"login\"}\0{}";
    expect_reject(f, nul, sizeof nul - 1);

    /* 401 levels: more than a books message may carry. */
    size_t cap = 64 + 401 * 24;
    char *big = malloc(cap);
    assert_non_null(big);
    size_t o = (size_t)snprintf(big, cap,
                                "{\"arg\":{\"channel\":\"books\"},\"action\":\"snapshot\","
                                "\"data\":[{\"bids\":[],\"asks\":[");
    for (int i = 0; i < 401; i++) {
        o += (size_t)snprintf(big + o, cap - o, "%s[\"%d\",\"1\",\"0\",\"1\"]", i ? "," : "",
                              1000 + i);
    }
    o += (size_t)snprintf(big + o, cap - o, "]}]}");
    assert_true(o < cap);
    expect_reject(f, big, o);
    free(big);
}

/* ---- decimal fast path ------------------------------------------------- */

static void check_dec_equiv(const char *s, size_t n)
{
    const at_host *h = engine_host();
    at_dec a = {-7, -7}, b = {-7, -7};
    int ra = okx_md_dec(h, s, n, &a);
    int rb = h->dec_parse(s, n, &b);
    if (ra != rb || (ra == AT_OK && (a.m != b.m || a.scale != b.scale))) {
        fail_msg("okx_md_dec(\"%.*s\") = %d {%lld,%d}, dec_parse = %d {%lld,%d}", (int)n, s, ra,
                 (long long)a.m, (int)a.scale, rb, (long long)b.m, (int)b.scale);
    }
}

static void test_dec_fast_path(void **state)
{
    (void)state;
    static const char *cases[] = {
        "0",
        "-0",
        "+0.000",
        "123",
        "8476.10",
        "0.00000001",
        "-0.00029",
        "1.",
        ".5",
        "1e-8",
        "1.5E3",
        "",
        "-",
        "+",
        "12a",
        "999999999999999999",
        "9999999999999999999",
        "99999999999999999999",
        "0.000000000000000001",
        "0.0000000000000000001",
        "0.10000000000000000000",
        "9.223372036854775807",
        "-9223372036854775808",
        "00012.3400",
        "1..2",
        "--1",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_dec_equiv(cases[i], strlen(cases[i]));
    }
}

/* ---- book: merge and sequence rules ------------------------------------ */

#define BOOK(action, bids, asks, tail)                                                             \
    "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"},\"action\":\"" action           \
    "\",\"data\":[{\"bids\":[" bids "],\"asks\":[" asks "],\"ts\":\"1700000000000\"" tail "}]}"
#define L(px, sz) "[\"" px "\",\"" sz "\",\"0\",\"1\"]"

static void test_book_merge(void **state)
{
    fx *f = *state;
    assert_int_equal(apply(f, BOOK("snapshot", L("10", "1") "," L("9", "2") "," L("8", "3"),
                                   L("11", "1") "," L("12", "2") "," L("13", "3"),
                                   ",\"prevSeqId\":-1,\"seqId\":1")),
                     OKX_BOOK_OK);
    assert_true(f->book.valid);
    assert_int_equal(f->book.bids.n, 3);
    assert_int_equal(f->book.asks.n, 3);

    /* size 0 deletes; a new price is inserted in order; the same price is
     * replaced; an unknown price with size 0 changes nothing; prices compare
     * exactly across scales ("9.50" between 10 and 9, "12.0" == "12"). */
    assert_int_equal(
        apply(f, BOOK("update", L("9", "0") "," L("9.50", "4") "," L("7", "0") "," L("10.5", "5"),
                      L("11", "7") "," L("10.75", "1") "," L("14", "9") "," L("12.0", "0"),
                      ",\"prevSeqId\":1,\"seqId\":2")),
        OKX_BOOK_OK);
    assert_int_equal(f->book.bids.n, 4);
    expect_level(&f->book.bids, 0, "10.5", "5");
    expect_level(&f->book.bids, 1, "10", "1");
    expect_level(&f->book.bids, 2, "9.50", "4");
    expect_level(&f->book.bids, 3, "8", "3");
    assert_null(okx_book_level_at(&f->book.bids, 4));
    assert_int_equal(f->book.asks.n, 4);
    expect_level(&f->book.asks, 0, "10.75", "1");
    expect_level(&f->book.asks, 1, "11", "7");
    expect_level(&f->book.asks, 2, "13", "3");
    expect_level(&f->book.asks, 3, "14", "9");
    assert_int_equal(f->book.seq_id, 2);

    at_ev_book ev;
    memset(&ev, 0, sizeof ev);
    okx_book_top(&f->book, &ev);
    assert_int_equal(ev.nbids, 4);
    assert_int_equal(ev.nasks, 4);
    expect_dec(ev.bids[0].px, 105, 1);
    expect_dec(ev.bids[2].px, 950, 2);
    expect_dec(ev.asks[0].px, 1075, 2);
    expect_dec(ev.asks[3].sz, 9, 0);
    assert_int_equal(ev.seq_id, 2);
    assert_int_equal(ev.exch_ts_ms, 1700000000000LL);
    assert_false(ev.snapshot);

    /* A new snapshot replaces everything. */
    assert_int_equal(apply(f, BOOK("snapshot", L("5", "1"), "", ",\"prevSeqId\":-1,\"seqId\":9")),
                     OKX_BOOK_OK);
    assert_int_equal(f->book.bids.n, 1);
    assert_int_equal(f->book.asks.n, 0);
    okx_book_top(&f->book, &ev);
    assert_true(ev.snapshot);
    assert_int_equal(ev.nasks, 0);
}

static void test_book_capacity(void **state)
{
    fx *f = *state;
    /* A full side keeps its best 400 levels. */
    okx_md_book *m = calloc(1, sizeof *m);
    assert_non_null(m);
    char(*txt)[8] = calloc(OKX_BOOK_MAX_LEVELS + 2, 8);
    assert_non_null(txt);
    m->action = OKX_ACT_SNAPSHOT;
    for (int i = 0; i < OKX_BOOK_MAX_LEVELS; i++) {
        snprintf(txt[i], 8, "%d", 2000 - i);
        m->bids[i].px = (at_dec){2000 - i, 0};
        m->bids[i].sz = (at_dec){1, 0};
        m->bids[i].px_s = (okx_str){txt[i], (uint32_t)strlen(txt[i])};
        m->bids[i].sz_s = (okx_str){"1", 1};
    }
    m->nbids = OKX_BOOK_MAX_LEVELS;
    assert_int_equal(okx_book_apply(&f->book, m), OKX_BOOK_OK);
    assert_int_equal(f->book.bids.n, OKX_BOOK_MAX_LEVELS);
    m->action = OKX_ACT_UPDATE;
    m->nbids = 2;
    m->bids[0].px = (at_dec){1, 0}; /* worse than all: dropped */
    m->bids[0].px_s = (okx_str){"1", 1};
    m->bids[1].px = (at_dec){3000, 0}; /* best: the worst level makes room */
    m->bids[1].px_s = (okx_str){"3000", 4};
    assert_int_equal(okx_book_apply(&f->book, m), OKX_BOOK_OK);
    assert_int_equal(f->book.bids.n, OKX_BOOK_MAX_LEVELS);
    expect_level(&f->book.bids, 0, "3000", "1");
    expect_level(&f->book.bids, 1, "2000", "1");
    expect_level(&f->book.bids, OKX_BOOK_MAX_LEVELS - 1, "1602", "1");
    assert_int_equal(f->book.dropped, 2);

    /* Text longer than a level keeps is refused, the book unchanged. */
    m->nbids = 1;
    m->bids[0].px_s = (okx_str){"3000.0000000000000000000000", 27};
    assert_int_equal(okx_book_apply(&f->book, m), AT_ERANGE);
    assert_int_equal(f->book.bids.n, OKX_BOOK_MAX_LEVELS);
    free(txt);
    free(m);
}

static void test_book_sequence_doc_example(void **state)
{
    fx *f = *state;
    /* OKX docs: snapshot (-1,10) -> (10,15) -> no change (15,15) -> reset
     * after maintenance (15,3) -> (3,5): all accepted. */
    assert_int_equal(
        apply(f, BOOK("snapshot", L("10", "1"), L("11", "1"), ",\"prevSeqId\":-1,\"seqId\":10")),
        OKX_BOOK_OK);
    assert_int_equal(apply(f, BOOK("update", L("9", "1"), "", ",\"prevSeqId\":10,\"seqId\":15")),
                     OKX_BOOK_OK);
    assert_int_equal(apply(f, BOOK("update", "", "", ",\"prevSeqId\":15,\"seqId\":15")),
                     OKX_BOOK_HEARTBEAT);
    assert_int_equal(apply(f, BOOK("update", "", L("12", "2"), ",\"prevSeqId\":15,\"seqId\":3")),
                     OKX_BOOK_RESET);
    assert_int_equal(f->book.seq_id, 3);
    assert_int_equal(apply(f, BOOK("update", L("10", "0"), "", ",\"prevSeqId\":3,\"seqId\":5")),
                     OKX_BOOK_OK);
    assert_true(f->book.valid);
    assert_int_equal(f->book.seq_id, 5);
    assert_int_equal(f->book.bids.n, 1);
    expect_level(&f->book.bids, 0, "9", "1");
    assert_int_equal(f->book.asks.n, 2);
}

static void test_book_gap(void **state)
{
    fx *f = *state;
    assert_int_equal(apply(f, BOOK("update", L("10", "1"), "", ",\"prevSeqId\":1,\"seqId\":2")),
                     OKX_BOOK_STALE); /* no snapshot yet */
    assert_int_equal(
        apply(f, BOOK("snapshot", L("10", "1"), L("11", "1"), ",\"prevSeqId\":-1,\"seqId\":10")),
        OKX_BOOK_OK);
    /* prevSeqId 11 != 10: an update was lost. */
    assert_int_equal(apply(f, BOOK("update", L("10", "0"), "", ",\"prevSeqId\":11,\"seqId\":12")),
                     OKX_BOOK_GAP);
    assert_false(f->book.valid);
    expect_level(&f->book.bids, 0, "10", "1"); /* not applied */
    /* Until a new snapshot every update is ignored, even a chained one. */
    assert_int_equal(apply(f, BOOK("update", L("10", "0"), "", ",\"prevSeqId\":12,\"seqId\":13")),
                     OKX_BOOK_STALE);
    /* A heartbeat that does not chain is a gap as well. */
    assert_int_equal(apply(f, BOOK("snapshot", L("10", "1"), "", ",\"prevSeqId\":-1,\"seqId\":20")),
                     OKX_BOOK_OK);
    assert_int_equal(apply(f, BOOK("update", "", "", ",\"prevSeqId\":21,\"seqId\":21")),
                     OKX_BOOK_GAP);
    assert_int_equal(apply(f, BOOK("snapshot", L("10", "1"), "", ",\"prevSeqId\":-1,\"seqId\":30")),
                     OKX_BOOK_OK);
    assert_true(f->book.valid);
}

/* ---- checksum ---------------------------------------------------------- */

/* The vectors of okx-vectors.json "book_checksum", embedded so the test
 * does not depend on the shared tree (the file, when present, is checked
 * too in test_checksum_vectors_file). */
static void test_checksum_vectors(void **state)
{
    fx *f = *state;
    static const struct {
        const char *frame_levels_bids, *frame_levels_asks, *check;
        int32_t want;
    } v[] = {
        {L("3366.1", "7") "," L("3366", "6"), L("3366.8", "9") "," L("3368", "8"),
         "3366.1:7:3366.8:9:3366:6:3368:8", -1881014294},
        {L("3366.1", "7"), L("3366.8", "9") "," L("3368", "8") "," L("3372", "8"),
         "3366.1:7:3366.8:9:3368:8:3372:8", 831078360},
        {L("111.05", "57745") "," L("111.04", "57109") "," L("111.03", "69563") "," L(
             "111.02", "71248") "," L("111.01", "65090"),
         L("111.06", "55154") "," L("111.07", "53276") "," L("111.08", "72435") "," L(
             "111.09", "70312") "," L("111.1", "67272"),
         "111.05:57745:111.06:55154:111.04:57109:111.07:53276:111.03:69563:111.08:72435:111.02:"
         "71248:111.09:70312:111.01:65090:111.1:67272",
         -1143374153},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal((int32_t)okx_crc32(0, v[i].check, strlen(v[i].check)), v[i].want);
        char frame[2048];
        snprintf(frame, sizeof frame,
                 "{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"snapshot\","
                 "\"data\":[{\"bids\":[%s],\"asks\":[%s],\"ts\":\"1\",\"checksum\":%d}]}",
                 v[i].frame_levels_bids, v[i].frame_levels_asks, (int)v[i].want);
        assert_int_equal(apply(f, frame), OKX_BOOK_OK);
        assert_int_equal(okx_book_checksum(&f->book), v[i].want);
        /* The same book with a wrong checksum must be flagged. */
        snprintf(frame, sizeof frame,
                 "{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"snapshot\","
                 "\"data\":[{\"bids\":[%s],\"asks\":[%s],\"ts\":\"1\",\"checksum\":%d}]}",
                 v[i].frame_levels_bids, v[i].frame_levels_asks, (int)(v[i].want ^ 1));
        assert_int_equal(apply(f, frame), OKX_BOOK_CHECKSUM);
        assert_false(f->book.valid);
    }
    /* "8476.10" and "8476.1" are the same price but not the same checksum. */
    assert_int_not_equal((int32_t)okx_crc32(0, "8476.10:1", 9),
                         (int32_t)okx_crc32(0, "8476.1:1", 8));
    assert_int_equal(okx_crc32(0, "", 0), 0);
    assert_int_equal(okx_crc32(0, "123456789", 9), 0xCBF43926u); /* the CRC-32 check value */
}

/* Every vector of okx-vectors.json, book built from its levels. */
static void test_checksum_vectors_file(void **state)
{
    fx *f = *state;
    json_error_t jerr;
    json_t *root = json_load_file(VECTORS, 0, &jerr);
    if (!root) {
        print_message("skip: %s not found\n", VECTORS);
        skip();
    }
    json_t *vs = json_object_get(root, "book_checksum");
    assert_true(json_is_array(vs) && json_array_size(vs) >= 5);
    size_t i;
    json_t *v;
    json_array_foreach(vs, i, v)
    {
        okx_md_book *m = &f->msg.u.book;
        memset(m, 0, sizeof *m);
        m->action = OKX_ACT_SNAPSHOT;
        static const char *sides[2] = {"bids", "asks"};
        for (int sd = 0; sd < 2; sd++) {
            json_t *arr = json_object_get(v, sides[sd]);
            okx_md_level *lv = sd == 0 ? m->bids : m->asks;
            size_t j;
            json_t *lvl;
            json_array_foreach(arr, j, lvl)
            {
                const char *px = json_string_value(json_array_get(lvl, 0));
                const char *sz = json_string_value(json_array_get(lvl, 1));
                assert_int_equal(okx_md_dec(engine_host(), px, strlen(px), &lv[j].px), AT_OK);
                assert_int_equal(okx_md_dec(engine_host(), sz, strlen(sz), &lv[j].sz), AT_OK);
                lv[j].px_s = (okx_str){px, (uint32_t)strlen(px)};
                lv[j].sz_s = (okx_str){sz, (uint32_t)strlen(sz)};
            }
            if (sd == 0) {
                m->nbids = (uint32_t)json_array_size(arr);
            } else {
                m->nasks = (uint32_t)json_array_size(arr);
            }
        }
        int32_t want = (int32_t)json_integer_value(json_object_get(v, "checksum_signed_int32"));
        const char *check = json_string_value(json_object_get(v, "check_string"));
        m->checksum = want;
        assert_int_equal((int32_t)okx_crc32(0, check, strlen(check)), want);
        assert_int_equal(okx_book_apply(&f->book, m), OKX_BOOK_OK);
        assert_int_equal(okx_book_checksum(&f->book), want);
    }
    json_decref(root);
}

/* ---- replay of real traffic -------------------------------------------- */

#define MAX_BOOKS 8

typedef struct replay {
    okx_str inst[MAX_BOOKS];
    char inst_buf[MAX_BOOKS][32];
    okx_book *book[MAX_BOOKS];
    int nbooks;
    int frames, books, verified, numbers;
} replay;

static okx_book *book_for(replay *r, okx_str inst)
{
    for (int i = 0; i < r->nbooks; i++) {
        if (r->inst[i].n == inst.n && memcmp(r->inst[i].p, inst.p, inst.n) == 0) {
            return r->book[i];
        }
    }
    assert_true(r->nbooks < MAX_BOOKS && inst.n < 32);
    int i = r->nbooks++;
    memcpy(r->inst_buf[i], inst.p, inst.n);
    r->inst[i] = (okx_str){r->inst_buf[i], inst.n};
    r->book[i] = malloc(sizeof(okx_book));
    assert_non_null(r->book[i]);
    okx_book_init(r->book[i]);
    return r->book[i];
}

/* Every string in the frame that looks like a number goes through both
 * decimal parsers, which must agree exactly. */
static void check_numbers(replay *r, const char *js, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (js[i] != '"') {
            continue;
        }
        size_t j = i + 1;
        while (j < n && js[j] != '"') {
            j++;
        }
        bool num = j > i + 1;
        for (size_t k = i + 1; k < j && num; k++) {
            num = strchr("0123456789.-+eE", js[k]) != NULL;
        }
        if (num) {
            check_dec_equiv(js + i + 1, j - i - 1);
            r->numbers++;
        }
        i = j;
    }
}

/* Lines are "<ts>: <frame>" (received) or "wss://... <- <ts>: <frame>" (sent). */
static void replay_file(fx *f, const char *path, replay *r)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        if (strncmp(line, "wss://", 6) == 0) {
            continue;
        }
        char *js = strstr(line, ": {");
        if (!js) {
            continue;
        }
        js += 2;
        size_t n = (size_t)(line + len - js);
        while (n > 0 && (js[n - 1] == '\n' || js[n - 1] == '\r')) {
            n--;
        }
        int rc = okx_md_parse(&f->md, js, n, &f->msg);
        if (rc != AT_OK) {
            fail_msg("%s: %s at %d: %.80s", path, okx_md_reason(&f->md), f->md.err_off, js);
        }
        r->frames++;
        check_numbers(r, js, n);
        if (f->msg.kind != OKX_MD_DATA || f->msg.channel != OKX_CH_BOOKS) {
            continue;
        }
        okx_book *b = book_for(r, f->msg.inst_id);
        int v = okx_book_apply(b, &f->msg.u.book);
        if (v != OKX_BOOK_OK) {
            fail_msg("%s: book %.*s: verdict %s (pushed %d, ours %d)", path, (int)f->msg.inst_id.n,
                     f->msg.inst_id.p, okx_book_verdict_name(v), (int)f->msg.u.book.checksum,
                     (int)b->last_checksum);
        }
        r->books++;
        if (f->msg.u.book.checksum != 0) {
            r->verified++;
        }
    }
    free(line);
    fclose(fp);
    for (int i = 0; i < r->nbooks; i++) {
        assert_true(r->book[i]->valid);
        free(r->book[i]);
    }
}

static void test_replay_slice(void **state)
{
    fx *f = *state;
    replay r;
    memset(&r, 0, sizeof r);
    replay_file(f, SLICE, &r);
    assert_int_equal(r.books, 52);
    assert_int_equal(r.verified, 52);
    assert_int_equal(r.nbooks, 2);
}

static void test_replay_recording(void **state)
{
    fx *f = *state;
    const char *path = getenv("AT_OKX_RECORDING") ? getenv("AT_OKX_RECORDING") : RECORDING;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        print_message("skip: %s not found (the slice in tests/data is replayed instead)\n", path);
        skip();
    }
    fclose(fp);
    replay r;
    memset(&r, 0, sizeof r);
    replay_file(f, path, &r);
    print_message("replayed %d frames, %d books messages (%d checksums verified), %d numbers\n",
                  r.frames, r.books, r.verified, r.numbers);
    assert_int_equal(r.books, 290);
    assert_int_equal(r.verified, 290);
    assert_int_equal(r.nbooks, 3);
}

/* Other real frames (books-l2-tbt, trades-all, mark-price, liquidations ...):
 * every one scans without error. */
static void test_scan_tardis_samples(void **state)
{
    fx *f = *state;
    FILE *fp = fopen(TARDIS, "r");
    if (!fp) {
        print_message("skip: %s not found\n", TARDIS);
        skip();
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n = 0, books = 0;
    while ((len = getline(&line, &cap, fp)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            len--;
        }
        if (len == 0) {
            continue;
        }
        int rc = okx_md_parse(&f->md, line, (size_t)len, &f->msg);
        if (rc != AT_OK) {
            fail_msg("%s at %d: %.*s", okx_md_reason(&f->md), f->md.err_off, (int)len, line);
        }
        books += f->msg.kind == OKX_MD_DATA && f->msg.channel == OKX_CH_BOOKS;
        n++;
    }
    free(line);
    fclose(fp);
    assert_true(n > 10 && books > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_ticker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_books, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_trades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_mark_funding_candle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_malformed, setup, teardown),
        cmocka_unit_test(test_dec_fast_path),
        cmocka_unit_test_setup_teardown(test_book_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_book_capacity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_book_sequence_doc_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_book_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_vectors_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_slice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_recording, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_tardis_samples, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

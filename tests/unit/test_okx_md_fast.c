/* Unit tests for plugins/exchange_okx/okx_md_fast.c and okx_md_fast.h: the
 * straight-line reader of canonical books/trades/tickers pushes and the
 * 16-byte scanner steps must decode exactly what the general decoder
 * decodes, and refuse (with the general decoder's reason) exactly what it
 * refuses. Every frame is parsed twice, once with general_only set, and the
 * two results compared field by field: real traffic, frames built around
 * every number length and point position, and every truncation and many
 * one-byte changes of canonical frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "okx_md.h"
#include "okx_md_fast.h"

#define SLICE AT_TEST_SOURCE_DIR "/tests/data/okx_ws_books_slice.txt"
#define RECORDING "/work/shared/data/okx_ws_cryptofeed/OKX.ws.1.0.txt"
#define TARDIS "/work/shared/data/okx_ws_tardis_samples/tardis_okx_v5_messages.jsonl"

typedef struct fx {
    okx_md fast, general;
    okx_md_msg a, b;
    char *buf; /* an exact-size copy of the frame, so reads past it show */
    size_t frames, decoded;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    okx_md_init(&f->fast, engine_host());
    okx_md_init(&f->general, engine_host());
    f->general.general_only = true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    free(f->buf);
    free(f);
    return 0;
}

static bool str_same(okx_str x, okx_str y)
{
    return x.n == y.n && (x.n == 0 || x.p == y.p);
}

static bool dec_same(at_dec x, at_dec y)
{
    return x.m == y.m && x.scale == y.scale;
}

static bool level_same(const okx_md_level *x, const okx_md_level *y)
{
    return dec_same(x->px, y->px) && dec_same(x->sz, y->sz) && str_same(x->px_s, y->px_s) &&
           str_same(x->sz_s, y->sz_s) && x->orders == y->orders;
}

static bool ticker_same(const okx_md_ticker *x, const okx_md_ticker *y)
{
    return str_same(x->inst_id, y->inst_id) && dec_same(x->last, y->last) &&
           dec_same(x->last_sz, y->last_sz) && dec_same(x->bid, y->bid) &&
           dec_same(x->bid_sz, y->bid_sz) && dec_same(x->ask, y->ask) &&
           dec_same(x->ask_sz, y->ask_sz) && dec_same(x->open24h, y->open24h) &&
           dec_same(x->high24h, y->high24h) && dec_same(x->low24h, y->low24h) &&
           dec_same(x->vol24h, y->vol24h) && dec_same(x->vol_ccy24h, y->vol_ccy24h) &&
           x->ts_ms == y->ts_ms;
}

static bool trade_same(const okx_md_trade *x, const okx_md_trade *y)
{
    return str_same(x->inst_id, y->inst_id) && str_same(x->trade_id, y->trade_id) &&
           dec_same(x->px, y->px) && dec_same(x->sz, y->sz) && x->side == y->side &&
           x->count == y->count && x->ts_ms == y->ts_ms;
}

/* What differs between two decoded messages, or NULL. */
static const char *msg_diff(const okx_md_msg *x, const okx_md_msg *y)
{
    if (x->kind != y->kind || x->event != y->event || x->code != y->code ||
        !str_same(x->event_name, y->event_name) || !str_same(x->msg, y->msg) ||
        !str_same(x->conn_id, y->conn_id) || !str_same(x->id, y->id)) {
        return "envelope";
    }
    if (x->has_arg != y->has_arg || x->channel != y->channel ||
        !str_same(x->channel_name, y->channel_name) || !str_same(x->inst_id, y->inst_id) ||
        x->bar_s != y->bar_s || x->n_items != y->n_items) {
        return "arg";
    }
    if (x->kind != OKX_MD_DATA || x->n_items == 0) {
        return NULL;
    }
    switch (x->channel) {
    case OKX_CH_BOOKS:
    case OKX_CH_BOOKS5:
    case OKX_CH_BBO_TBT: {
        const okx_md_book *p = &x->u.book, *q = &y->u.book;
        if (p->action != q->action || p->nbids != q->nbids || p->nasks != q->nasks ||
            p->ts_ms != q->ts_ms || p->has_seq != q->has_seq ||
            p->has_prev_seq != q->has_prev_seq || p->checksum != q->checksum ||
            p->text_end != q->text_end || (p->has_seq && p->seq_id != q->seq_id) ||
            (p->has_prev_seq && p->prev_seq_id != q->prev_seq_id)) {
            return "books item";
        }
        for (uint32_t i = 0; i < p->nbids; i++) {
            if (!level_same(&p->bids[i], &q->bids[i])) {
                return "bid level";
            }
        }
        for (uint32_t i = 0; i < p->nasks; i++) {
            if (!level_same(&p->asks[i], &q->asks[i])) {
                return "ask level";
            }
        }
        return NULL;
    }
    case OKX_CH_TRADES:
        for (uint32_t i = 0; i < x->n_items; i++) {
            if (!trade_same(&x->u.trades[i], &y->u.trades[i])) {
                return "trade";
            }
        }
        return NULL;
    case OKX_CH_TICKERS:
        for (uint32_t i = 0; i < x->n_items; i++) {
            if (!ticker_same(&x->u.tickers[i], &y->u.tickers[i])) {
                return "ticker";
            }
        }
        return NULL;
    default:
        return NULL; /* channels the fast reader never takes */
    }
}

/* Independent of both decoders: every level's decimals are what
 * dec_parse makes of their text, the views sit between quotes, and in the
 * compact form the orders count is the digits of the 4th element. */
static void check_levels(const okx_md_level *lv, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const okx_md_level *l = &lv[i];
        at_dec px, sz;
        assert_int_equal(engine_host()->dec_parse(l->px_s.p, l->px_s.n, &px), AT_OK);
        assert_int_equal(engine_host()->dec_parse(l->sz_s.p, l->sz_s.n, &sz), AT_OK);
        assert_true(dec_same(px, l->px) && dec_same(sz, l->sz));
        assert_true(l->px_s.p[-1] == '"' && l->px_s.p[l->px_s.n] == '"');
        assert_true(l->sz_s.p[-1] == '"' && l->sz_s.p[l->sz_s.n] == '"');
        const char *q = l->sz_s.p + l->sz_s.n;
        if (strncmp(q, "\",\"", 3) != 0) {
            continue; /* not the compact form */
        }
        q = strchr(q + 3, '"');
        if (!q || strncmp(q, "\",\"", 3) != 0) {
            continue;
        }
        int64_t orders = 0;
        for (q += 3; *q >= '0' && *q <= '9' && orders < INT64_MAX / 10; q++) {
            orders = orders * 10 + (*q - '0');
        }
        if (*q == '"') {
            assert_int_equal(orders, (int64_t)l->orders);
        }
    }
}

/* Both decoders on the same bytes: same verdict, same reason and offset,
 * same message. Returns the verdict. */
static int both(fx *f, const char *frame, size_t len)
{
    char *p = realloc(f->buf, len ? len : 1);
    assert_non_null(p);
    f->buf = p;
    memcpy(p, frame, len);
    int ra = okx_md_parse(&f->fast, p, len, &f->a);
    int rb = okx_md_parse(&f->general, p, len, &f->b);
    f->frames++;
    if (ra != rb) {
        fail_msg("verdicts differ (%d fast, %d general) on: %.*s", ra, rb, (int)len, frame);
    }
    if (ra != AT_OK) {
        if (strcmp(okx_md_reason(&f->fast), okx_md_reason(&f->general)) != 0 ||
            f->fast.err_off != f->general.err_off) {
            fail_msg("errors differ (%s at %d, %s at %d) on: %.*s", okx_md_reason(&f->fast),
                     f->fast.err_off, okx_md_reason(&f->general), f->general.err_off, (int)len,
                     frame);
        }
        return ra;
    }
    const char *d = msg_diff(&f->a, &f->b);
    if (d) {
        fail_msg("decoded messages differ (%s) on: %.*s", d, (int)len, frame);
    }
    if (f->a.kind == OKX_MD_DATA && f->a.n_items && f->a.channel == OKX_CH_BOOKS) {
        check_levels(f->a.u.book.bids, f->a.u.book.nbids);
        check_levels(f->a.u.book.asks, f->a.u.book.nasks);
    }
    f->decoded++;
    return ra;
}

static void both_str(fx *f, const char *frame)
{
    both(f, frame, strlen(frame));
}

/* ---- real traffic -------------------------------------------------------- */

static size_t replay(fx *f, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        return 0;
    }
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        char *js = strchr(line, '{');
        if (!js) {
            continue;
        }
        size_t m = (size_t)(line + len - js);
        while (m > 0 && (js[m - 1] == '\n' || js[m - 1] == '\r')) {
            m--;
        }
        both(f, js, m);
        n++;
    }
    free(line);
    fclose(fp);
    return n;
}

static void test_real_traffic(void **state)
{
    fx *f = *state;
    assert_true(replay(f, SLICE) > 50);
    size_t rec = replay(f, RECORDING), tar = replay(f, TARDIS);
    print_message("%zu frames compared (%zu from the recording, %zu tardis samples)\n", f->frames,
                  rec, tar);
}

/* ---- canonical frames, as the benchmark stream and OKX write them -------- */

static const char *const CANON[] = {
    "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"},\"action\":\"update\","
    "\"data\":[{\"asks\":[[\"97000.4\",\"110\",\"0\",\"29\"],[\"97000.5\",\"188\",\"0\",\"4\"],"
    "[\"97003.5\",\"0\",\"0\",\"0\"]],\"bids\":[[\"96999.8\",\"63\",\"0\",\"30\"],[\"96947.1\","
    "\"0\",\"0\",\"0\"]],\"ts\":\"1767225600006\",\"checksum\":1657803378,\"prevSeqId\":"
    "1566316224,\"seqId\":1566316226}]}",
    "{\"arg\":{\"channel\":\"books\",\"instId\":\"DOGE-USDT-SWAP\"},\"action\":\"snapshot\","
    "\"data\":[{\"asks\":[[\"0.320001\",\"2813\",\"0\",\"7\"]],\"bids\":[[\"0.319999\",\"1\",\"0\","
    "\"1\"]],\"ts\":\"1767225600000\",\"checksum\":-12,\"prevSeqId\":-1,\"seqId\":1000000001}]}",
    "{\"arg\":{\"channel\":\"books-l2-tbt\",\"instId\":\"ETH-USDT\"},\"action\":\"update\","
    "\"data\":[{\"asks\":[],\"bids\":[],\"ts\":\"1\",\"checksum\":0,\"prevSeqId\":5,\"seqId\":5}]}",
    "{\"arg\":{\"channel\":\"trades\",\"instId\":\"DOGE-USDT-SWAP\"},\"data\":[{\"instId\":\"DOGE-"
    "USDT-SWAP\",\"tradeId\":\"775570313\",\"px\":\"0.319999\",\"sz\":\"2813\",\"side\":\"sell\","
    "\"ts\":\"1767225600006\",\"count\":\"2\",\"source\":\"0\",\"seqId\":110795759}]}",
    "{\"arg\":{\"channel\":\"trades-all\",\"instId\":\"BSV-USDT\"},\"data\":[{\"instId\":\"BSV-"
    "USDT\","
    "\"tradeId\":\"84834539\",\"px\":\"42.52\",\"sz\":\"3.75\",\"side\":\"buy\",\"ts\":"
    "\"1697760012017\"},{\"instId\":\"BSV-USDT\",\"tradeId\":\"84834540\",\"px\":\"42.5\",\"sz\":"
    "\"1\",\"side\":\"sell\",\"ts\":\"1697760012018\"}]}",
    "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"SOL-USDT-SWAP\"},\"data\":[{\"instType\":"
    "\"SWAP\","
    "\"instId\":\"SOL-USDT-SWAP\",\"last\":\"190.001\",\"lastSz\":\"12\",\"askPx\":\"190.002\","
    "\"askSz\":\"1500\",\"bidPx\":\"190.001\",\"bidSz\":\"3\",\"open24h\":\"186.2\",\"high24h\":"
    "\"195.7\",\"low24h\":\"182.4\",\"volCcy24h\":\"3853924.55\",\"vol24h\":\"38539245\","
    "\"sodUtc0\":\"186.2\",\"sodUtc8\":\"186.207\",\"ts\":\"1767225600011\"}]}",
};

static void test_canonical(void **state)
{
    fx *f = *state;
    for (size_t i = 0; i < sizeof CANON / sizeof CANON[0]; i++) {
        assert_int_equal(both(f, CANON[i], strlen(CANON[i])), AT_OK);
#ifdef OKX_FAST
        /* ... and the straight-line reader took it on its own. */
        assert_int_equal(okx_md_fast_parse(&f->fast, f->buf, strlen(CANON[i]), &f->a), 1);
        assert_null(msg_diff(&f->a, &f->b));
#endif
    }
    both_str(f, CANON[0]);
    assert_non_null(f->a.u.book.text_end);
    assert_int_equal(f->a.u.book.nasks, 3);
    assert_int_equal(f->a.u.book.asks[0].px.m, 970004);
    assert_int_equal(f->a.u.book.seq_id, 1566316226);
}

/* Every truncation of every canonical frame, and every position changed to
 * each of a set of bytes that matter to the grammar. */
static void test_mutations(void **state)
{
    fx *f = *state;
    static const char subst[] = {' ', '"', '\\', '0', '1', '9', '.', ',',    ':', '[',
                                 ']', '{', '}',  '-', '+', 'e', 'x', '\x01', '\0'};
    char frame[1024];
    for (size_t i = 0; i < sizeof CANON / sizeof CANON[0]; i++) {
        size_t n = strlen(CANON[i]);
        assert_true(n < sizeof frame);
        for (size_t k = 0; k <= n; k++) {
            both(f, CANON[i], k);
        }
        for (size_t k = 0; k < n; k++) {
            for (size_t s = 0; s < sizeof subst; s++) {
                memcpy(frame, CANON[i], n);
                frame[k] = subst[s];
                both(f, frame, n);
            }
        }
        /* Every byte left out (empty fields, lost separators). */
        for (size_t k = 0; k < n; k++) {
            memcpy(frame, CANON[i], k);
            memcpy(frame + k, CANON[i] + k + 1, n - k - 1);
            both(f, frame, n - 1);
        }
        /* An inserted space (valid JSON the fast reader does not take). */
        for (size_t k = 0; k < n; k += 7) {
            memcpy(frame, CANON[i], k);
            frame[k] = ' ';
            memcpy(frame + k + 1, CANON[i] + k, n - k);
            both(f, frame, n + 1);
        }
    }
    print_message("%zu frames compared, %zu decoded\n", f->frames, f->decoded);
}

/* Frames that end inside an item just where a reader looks one byte
 * further (found by libFuzzer under ASan: a 15-byte key closing the
 * frame). */
static void test_frame_ends(void **state)
{
    fx *f = *state;
    static const char *const head[] = {
        "{\"arg\":{\"channel\":\"trades\",\"instId\":\"E-SWAP\"},\"data\":[{",
        "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"E-SWAP\"},\"data\":[{\"last\":\"1\",",
        "{\"arg\":{\"channel\":\"books\",\"instId\":\"E\"},\"action\":\"update\",\"data\":[{"};
    static const char *const tail[] = {
        "\"xnstIdbidSzH-US\"", "\"xnstIdbidSzH-US\":", "\"asks\":",  "\"asks\":[",
        "\"px\":\"1",          "\"seqId\":1",          "\"seqId\":", "\"count\":"};
    char frame[256];
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) {
        for (size_t j = 0; j < sizeof tail / sizeof tail[0]; j++) {
            int n = snprintf(frame, sizeof frame, "%s%s", head[i], tail[j]);
            assert_int_equal(both(f, frame, (size_t)n), AT_EINVAL);
        }
    }
}

/* Book levels with every number length and point position, near the start,
 * in the middle and at the very end of a frame. */
static void test_number_shapes(void **state)
{
    fx *f = *state;
    char num[32], lvl[128], frame[2048];
    const char *digits = "1234567890123456789012";
    for (int len = 1; len <= 20; len++) {
        for (int dot = 0; dot < len; dot++) {
            /* dot == 0: no point; else a point after `dot` digits. */
            if (dot == 0) {
                snprintf(num, sizeof num, "%.*s", len, digits);
            } else {
                snprintf(num, sizeof num, "%.*s.%.*s", dot, digits, len - dot, digits + dot);
            }
            snprintf(lvl, sizeof lvl, "[\"%s\",\"%s\",\"0\",\"%.*s\"]", num, num, len % 12 + 1,
                     digits);
            snprintf(frame, sizeof frame,
                     "{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"update\","
                     "\"data\":[{\"asks\":[%s,%s],\"bids\":[%s],\"ts\":\"%.*s\",\"checksum\":-%."
                     "*s,\"prevSeqId\":%.*s,\"seqId\":%.*s}]}",
                     lvl, lvl, lvl, len, digits, len % 11, digits, len, digits, len, digits);
            if (both(f, frame, strlen(frame)) == AT_OK) {
                /* The integers, against strtoll of the same digits. */
                char ref[24];
                snprintf(ref, sizeof ref, "%.*s", len, digits);
                assert_int_equal(f->a.u.book.ts_ms, strtoll(ref, NULL, 10));
                assert_int_equal(f->a.u.book.seq_id, strtoll(ref, NULL, 10));
                snprintf(ref, sizeof ref, "-%.*s", len % 11, digits);
                assert_int_equal(f->a.u.book.checksum, strtoll(ref, NULL, 10));
            }
            snprintf(frame, sizeof frame,
                     "{\"arg\":{\"channel\":\"trades\",\"instId\":\"X\"},\"data\":[{\"px\":\"%s\","
                     "\"sz\":\"-%s\",\"side\":\"buy\",\"tradeId\":\"%s\",\"ts\":%.*s,\"count\":%.*"
                     "s,\"x\":%s}]}",
                     num, num, num, len, digits, len, digits, num);
            both_str(f, frame);
            snprintf(frame, sizeof frame,
                     "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"X\"},\"data\":[{\"last\":\"+%"
                     "s\",\"lastSz\":\"%s\",\"volCcy24h\":\"%s\",\"ts\":\"%.*s\"}]}",
                     num, num, num, len, digits);
            both_str(f, frame);
        }
    }
    /* The orders count of every length (9 digits always fit an int32, 10
     * may not) and the third element in every shape the grammar allows. */
    static const char *const third[] = {"0", "", "abc", "\\u0030", "12345678901234567"};
    for (int len = 0; len <= 12; len++) {
        for (size_t t = 0; t < sizeof third / sizeof third[0]; t++) {
            for (int nines = 0; nines < 2; nines++) {
                snprintf(num, sizeof num, "%.*s", len, nines ? "999999999999" : digits);
                /* a short level, one with long numbers, one at the end */
                static const char *const shapes[] = {"\"1.5\",\"2\"",
                                                     "\"1234567.1234567\",\"1234.5\"",
                                                     "\"123456789.123456\",\"1\""};
                for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
                    snprintf(
                        frame, sizeof frame,
                        "{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":"
                        "\"snapshot\",\"data\":[{\"asks\":[[%s,\"%s\",\"%s\"]],\"bids\":[],\"ts\":"
                        "\"1\",\"checksum\":0,\"prevSeqId\":-1,\"seqId\":1}]}",
                        shapes[sh], third[t], num);
                    both_str(f, frame);
                }
            }
        }
    }
    /* Leading zeros, zero sizes, empty strings, exponents. */
    static const char *const odd[] = {"0",
                                      "00",
                                      "007",
                                      "0.0",
                                      "0.50",
                                      "1.",
                                      ".5",
                                      "1e5",
                                      "",
                                      "-1",
                                      "+1",
                                      "1.2.3",
                                      "9223372036854775807"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (size_t j = 0; j < sizeof odd / sizeof odd[0]; j++) {
            snprintf(frame, sizeof frame,
                     "{\"arg\":{\"channel\":\"books\",\"instId\":\"X\"},\"action\":\"snapshot\","
                     "\"data\":[{\"asks\":[[\"%s\",\"%s\",\"0\",\"1\"]],\"bids\":[],\"ts\":\"%s\","
                     "\"checksum\":0,\"prevSeqId\":-1,\"seqId\":1}]}",
                     odd[i], odd[j], odd[j]);
            both_str(f, frame);
            snprintf(frame, sizeof frame,
                     "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"X\"},\"data\":[{\"last\":\"%s"
                     "\",\"ts\":\"%s\"}]}",
                     odd[i], odd[j]);
            both_str(f, frame);
        }
    }
    print_message("%zu frames compared, %zu decoded\n", f->frames, f->decoded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_traffic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canonical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_shapes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

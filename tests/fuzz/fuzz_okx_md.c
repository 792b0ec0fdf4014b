/* Fuzz target for plugins/exchange_okx/okx_md.c and okx_book.c.
 *
 * The input is one WebSocket text frame. okx_md_parse must return AT_OK,
 * AT_EINVAL or AT_ERANGE (with a reason), never read outside the frame, and
 * on success every view must lie inside the frame and every decimal must be
 * exactly what host->dec_parse makes of its text. A decoded books item is
 * then applied twice: as a snapshot to an empty book and as an update onto a
 * fixed book; after each the book must be sorted strictly (bids descending,
 * asks ascending), hold no zero size, stay within capacity, and its checksum
 * must equal the CRC-32 of the check string built by hand. A violation
 * aborts, which libFuzzer and the replay driver report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "okx_book.h"
#include "okx_md.h"

/* Harness state, allocated once (the structs are large for a stack). */
typedef struct harness {
    okx_md md;
    okx_md_msg msg;
    okx_md_msg base_msg;
    okx_book book;
} harness;

static harness *H;

static const char BASE[] =
    "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT-SWAP\"},\"action\":\"snapshot\","
    "\"data\":[{\"asks\":[[\"100.5\",\"1\",\"0\",\"1\"],[\"101\",\"2\",\"0\",\"1\"],[\"102.25\","
    "\"3\",\"0\",\"1\"]],\"bids\":[[\"100\",\"1\",\"0\",\"1\"],[\"99.5\",\"2\",\"0\",\"1\"],["
    "\"98\",\"3\",\"0\",\"1\"]],\"ts\":\"1\",\"checksum\":0,\"prevSeqId\":-1,\"seqId\":10}]}";

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_okx_md: property violated: %s\n", what);
        abort();
    }
}

static void check_view(okx_str v, const uint8_t *data, size_t size, const char *what)
{
    if (v.p == NULL) {
        check(v.n == 0, what);
        return;
    }
    const char *lo = (const char *)data;
    check(v.p >= lo && v.p + v.n <= lo + size, what);
}

static void check_dec(okx_str s, at_dec d, const uint8_t *data, size_t size)
{
    check_view(s, data, size, "level text inside the frame");
    at_dec ref;
    check(engine_host()->dec_parse(s.p, s.n, &ref) == AT_OK, "level text parses with dec_parse");
    check(ref.m == d.m && ref.scale == d.scale, "fast decimal path == dec_parse");
}

static int dcmp(at_dec a, at_dec b)
{
    return engine_host()->dec_cmp(a, b);
}

static void check_book(const okx_book *b)
{
    const okx_book_side *sides[2] = {&b->bids, &b->asks};
    for (int s = 0; s < 2; s++) {
        const okx_book_side *sd = sides[s];
        check(sd->n <= OKX_BOOK_MAX_LEVELS, "side within capacity");
        for (uint32_t i = 0; i < sd->n; i++) {
            const okx_book_level *l = okx_book_level_at(sd, i);
            check(l != NULL && l->sz.m != 0, "no zero-size level is kept");
            if (i > 0) {
                int c = dcmp(okx_book_level_at(sd, i - 1)->px, l->px);
                check(s == 0 ? c > 0 : c < 0, "side strictly sorted best first");
            }
        }
        check(okx_book_level_at(sd, sd->n) == NULL, "level_at stops at n");
    }
    /* The checksum by hand: the interleaved check string of the top 25. */
    char buf[2 * OKX_BOOK_CHECKSUM_DEPTH * (2 * OKX_BOOK_TXT + 2) + 1];
    size_t o = 0;
    for (uint32_t i = 0; i < OKX_BOOK_CHECKSUM_DEPTH; i++) {
        for (int s = 0; s < 2; s++) {
            const okx_book_level *l = okx_book_level_at(sides[s], i);
            if (l) {
                okx_str px = okx_book_level_px(l), sz = okx_book_level_sz(l);
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s:%.*s", o ? ":" : "",
                                      (int)px.n, px.p, (int)sz.n, sz.p);
            }
        }
    }
    check(o < sizeof buf, "check string fits");
    check(okx_book_checksum(b) == (int32_t)okx_crc32(0, buf, o), "checksum == crc32(check string)");

    at_ev_book ev;
    memset(&ev, 0, sizeof ev);
    okx_book_top(b, &ev);
    check(ev.nbids <= AT_BOOK_DEPTH && ev.nasks <= AT_BOOK_DEPTH, "top within AT_BOOK_DEPTH");
    check(ev.nbids == (b->bids.n < AT_BOOK_DEPTH ? b->bids.n : AT_BOOK_DEPTH), "top bids count");
}

static void check_book_msg(const okx_md_msg *m, const uint8_t *data, size_t size)
{
    const okx_md_book *bk = &m->u.book;
    check(m->n_items == 1, "books push has one item");
    check(bk->nbids <= OKX_MD_MAX_LEVELS && bk->nasks <= OKX_MD_MAX_LEVELS, "levels in range");
    for (uint32_t i = 0; i < bk->nbids; i++) {
        check_dec(bk->bids[i].px_s, bk->bids[i].px, data, size);
        check_dec(bk->bids[i].sz_s, bk->bids[i].sz, data, size);
        check(bk->bids[i].px.m > 0 && bk->bids[i].sz.m >= 0, "bid level signs");
    }
    for (uint32_t i = 0; i < bk->nasks; i++) {
        check_dec(bk->asks[i].px_s, bk->asks[i].px, data, size);
        check_dec(bk->asks[i].sz_s, bk->asks[i].sz, data, size);
        check(bk->asks[i].px.m > 0 && bk->asks[i].sz.m >= 0, "ask level signs");
    }

    /* As a snapshot onto an empty book. */
    okx_md_book *mb = &H->msg.u.book;
    okx_md_action act = mb->action;
    okx_book_init(&H->book);
    mb->action = OKX_ACT_SNAPSHOT;
    int v = okx_book_apply(&H->book, mb);
    check(v == OKX_BOOK_OK || v == OKX_BOOK_CHECKSUM || v == AT_ERANGE, "snapshot verdict");
    check_book(&H->book);

    /* As an update onto the fixed book, chained or not. */
    okx_book_init(&H->book);
    check(okx_book_apply(&H->book, &H->base_msg.u.book) == OKX_BOOK_OK, "base snapshot applies");
    mb->action = OKX_ACT_UPDATE;
    v = okx_book_apply(&H->book, mb);
    check(v >= OKX_BOOK_OK ? v <= OKX_BOOK_STALE : v == AT_ERANGE, "update verdict");
    if (v == OKX_BOOK_GAP) {
        check(!H->book.valid, "a gap invalidates the book");
        check(okx_book_apply(&H->book, mb) == OKX_BOOK_STALE, "stale after a gap");
    }
    check_book(&H->book);
    mb->action = act;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (H == NULL) {
        H = calloc(1, sizeof *H);
        check(H != NULL, "harness allocation");
        okx_md_init(&H->md, engine_host());
        check(okx_md_parse(&H->md, BASE, sizeof BASE - 1, &H->base_msg) == AT_OK, "base parses");
    }
    /* A copy of exactly `size` bytes, so a read past the end is caught. */
    char *frame = malloc(size ? size : 1);
    check(frame != NULL, "frame allocation");
    if (size) {
        memcpy(frame, data, size);
    }
    const uint8_t *fd = (const uint8_t *)frame;
    int rc = okx_md_parse(&H->md, frame, size, &H->msg);
    check(rc == AT_OK || rc == AT_EINVAL || rc == AT_ERANGE, "parse rc");
    if (rc != AT_OK) {
        check(okx_md_reason(&H->md)[0] != '\0', "an error has a reason");
        check(H->md.err_off >= -1 && H->md.err_off <= (int)size, "error offset in the frame");
        free(frame);
        return 0;
    }
    const okx_md_msg *m = &H->msg;
    check(okx_md_reason(&H->md)[0] == '\0', "success clears the reason");
    check(m->kind == OKX_MD_PONG || m->kind == OKX_MD_EVENT || m->kind == OKX_MD_DATA, "kind");
    check_view(m->event_name, fd, size, "event name view");
    check_view(m->msg, fd, size, "msg view");
    check_view(m->channel_name, fd, size, "channel view");
    check_view(m->inst_id, fd, size, "instId view");
    check_view(m->id, fd, size, "id view");
    check_view(m->conn_id, fd, size, "connId view");
    if (m->kind == OKX_MD_DATA) {
        check(m->has_arg, "a data push has an arg");
        check(m->n_items <= OKX_MD_MAX_ITEMS, "items in range");
        switch (m->channel) {
        case OKX_CH_BOOKS:
        case OKX_CH_BOOKS5:
        case OKX_CH_BBO_TBT:
            check_book_msg(m, fd, size);
            break;
        case OKX_CH_TRADES:
            for (uint32_t i = 0; i < m->n_items; i++) {
                check_view(m->u.trades[i].trade_id, fd, size, "tradeId view");
                check(m->u.trades[i].side == AT_SIDE_BUY || m->u.trades[i].side == AT_SIDE_SELL,
                      "trade side");
            }
            break;
        case OKX_CH_CANDLE:
            check(m->bar_s > 0, "candle bar");
            break;
        case OKX_CH_OTHER:
            check(m->n_items == 0, "undecoded channel has no items");
            break;
        default:
            break;
        }
    }
    free(frame);
    return 0;
}

/* Market data: the public WebSocket (tickers, books, trades, mark price,
 * funding) and the business one (candles), scanned zero-copy (okx_md) into
 * typed bus events. Books are maintained here (okx_book): a sequence gap or a
 * checksum miss resubscribes that book, and no BOOK event is published until
 * a fresh snapshot arrived. */
#include <stdio.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_replay.h"

okx_watch *okx_watch_find(okx_ctx *c, const char *inst_id, size_t len)
{
    for (size_t i = 0; i < c->nwatch; i++) {
        const char *id = c->watch[i].inst->inst_id;
        if (strlen(id) == len && memcmp(id, inst_id, len) == 0) {
            return &c->watch[i];
        }
    }
    return NULL;
}

static void arg_json(char *buf, size_t len, const char *channel, const char *inst_id)
{
    snprintf(buf, len, "{\"channel\":\"%s\",\"instId\":\"%s\"}", channel, inst_id);
}

/* ------------------------------------------------------------ publishing */

static void pub_ticker(okx_ctx *c, okx_watch *w, const okx_md_ticker *t)
{
    at_ev_ticker *e = (at_ev_ticker *)c->h->event_new(c->inst, AT_EV_TICKER, 0);
    if (!e) {
        return;
    }
    e->h.inst = w->inst->id;
    e->last = t->last;
    e->last_sz = t->last_sz;
    e->bid = t->bid;
    e->bid_sz = t->bid_sz;
    e->ask = t->ask;
    e->ask_sz = t->ask_sz;
    e->open24h = t->open24h;
    e->high24h = t->high24h;
    e->low24h = t->low24h;
    e->vol24h = t->vol24h;
    e->exch_ts_ms = t->ts_ms;
    c->h->publish(c->inst, &e->h, AT_PUB_COALESCE);
}

static void pub_book(okx_ctx *c, okx_watch *w, int64_t recv_us)
{
    at_ev_book *e = (at_ev_book *)c->h->event_new(c->inst, AT_EV_BOOK, 0);
    if (!e) {
        return;
    }
    e->h.inst = w->inst->id;
    okx_book_top(&w->book, e);
    e->recv_us = recv_us;
    /* Only the latest book matters to a slow subscriber. */
    c->h->publish(c->inst, &e->h, AT_PUB_COALESCE);
}

static void resync_book(okx_ctx *c, okx_watch *w, const char *why)
{
    char arg[160];
    arg_json(arg, sizeof(arg), c->book_channel ? "books5" : "books", w->inst->inst_id);
    c->book_resyncs++;
    if (c->m_book_resyncs) {
        c->h->metric_add(c->m_book_resyncs, 1);
    }
    w->book_resync = true;
    okx_book_init(&w->book);
    if (!c->ws_pub) { /* a replay: the recording's next snapshot restarts it */
        c->h->log(c->inst, AT_LOG_WARN, "book %s: %s; waiting for a snapshot in the recording",
                  w->inst->inst_id, why);
        return;
    }
    c->h->log(c->inst, AT_LOG_WARN, "book %s: %s; resubscribing", w->inst->inst_id, why);
    okx_ws_resubscribe(c->ws_pub, arg);
}

static void on_books(okx_ctx *c, okx_watch *w, const okx_md_book *b, int64_t recv_us)
{
    int v = okx_book_apply(&w->book, b);
    switch (v) {
    case OKX_BOOK_OK:
    case OKX_BOOK_RESET:
        w->book_resync = false;
        pub_book(c, w, recv_us);
        break;
    case OKX_BOOK_HEARTBEAT:
    case OKX_BOOK_STALE:
        break;
    case OKX_BOOK_GAP:
        resync_book(c, w, "sequence gap");
        break;
    case OKX_BOOK_CHECKSUM:
        resync_book(c, w, "checksum mismatch");
        break;
    default:
        resync_book(c, w, "unusable update");
        break;
    }
}

static void pub_trade(okx_ctx *c, okx_watch *w, const okx_md_trade *t)
{
    at_ev_trade *e = (at_ev_trade *)c->h->event_new(c->inst, AT_EV_TRADE, 0);
    if (!e) {
        return;
    }
    e->h.inst = w->inst->id;
    snprintf(e->trade_id, sizeof(e->trade_id), "%.*s", (int)t->trade_id.n, t->trade_id.p);
    e->px = t->px;
    e->sz = t->sz;
    e->side = t->side;
    e->exch_ts_ms = t->ts_ms;
    c->h->publish(c->inst, &e->h, 0);
}

static void pub_mark(okx_ctx *c, okx_watch *w, const okx_md_mark *m)
{
    at_ev_mark *e = (at_ev_mark *)c->h->event_new(c->inst, AT_EV_MARK, 0);
    if (!e) {
        return;
    }
    e->h.inst = w->inst->id;
    e->mark_px = m->mark_px;
    e->exch_ts_ms = m->ts_ms;
    c->h->publish(c->inst, &e->h, AT_PUB_COALESCE);
}

static void pub_funding(okx_ctx *c, okx_watch *w, const okx_md_funding *f)
{
    at_ev_funding *e = (at_ev_funding *)c->h->event_new(c->inst, AT_EV_FUNDING, 0);
    if (!e) {
        return;
    }
    e->h.inst = w->inst->id;
    e->rate = f->rate;
    e->next_rate = f->next_rate;
    e->funding_ms = f->funding_ms;
    e->next_funding_ms = f->next_funding_ms;
    c->h->publish(c->inst, &e->h, 0);
}

static void pub_candle(okx_ctx *c, okx_watch *w, int64_t bar_s, const okx_md_candle *k)
{
    at_ev_candle *e = (at_ev_candle *)c->h->event_new(c->inst, AT_EV_CANDLE, 0);
    if (!e) {
        return;
    }
    e->h.inst = w->inst->id;
    e->bar_s = bar_s;
    e->open_ms = k->open_ms;
    e->o = k->o;
    e->hi = k->h;
    e->lo = k->l;
    e->c = k->c;
    e->vol = k->vol;
    e->vol_ccy = k->vol_ccy;
    e->confirmed = k->confirmed;
    c->h->publish(c->inst, &e->h, 0);
}

/* ------------------------------------------------------------ frames */

static void on_frame(void *arg, okx_ws *ws, const char *data, size_t len)
{
    okx_ctx *c = arg;
    if (c->rec) {
        okx_record_frame(c, data, len);
    }
    okx_feed_frame(c, data, len);
}

void okx_feed_frame(okx_ctx *c, const char *data, size_t len)
{
    int64_t recv_us = c->h->now_us();
    okx_md_msg *m = c->msg;
    if (okx_md_parse(c->md, data, len, m) != AT_OK) {
        /* Stored nowhere and published nowhere, but counted and logged:
         * a frame we cannot read is a bug to look at, not to hide. */
        if (c->md_errors++ < 10) {
            c->h->log(c->inst, AT_LOG_WARN, "unreadable market frame (%s): %.120s",
                      okx_md_reason(c->md), data);
        }
        return;
    }
    if (m->kind != OKX_MD_DATA) {
        return;
    }
    okx_watch *w = okx_watch_find(c, m->inst_id.p, m->inst_id.n);
    if (!w) {
        return;
    }
    switch (m->channel) {
    case OKX_CH_TICKERS:
        for (uint32_t i = 0; i < m->n_items; i++) {
            pub_ticker(c, w, &m->u.tickers[i]);
        }
        break;
    case OKX_CH_BOOKS:
    case OKX_CH_BOOKS5:
    case OKX_CH_BBO_TBT:
        on_books(c, w, &m->u.book, recv_us);
        break;
    case OKX_CH_TRADES:
        for (uint32_t i = 0; i < m->n_items; i++) {
            pub_trade(c, w, &m->u.trades[i]);
        }
        break;
    case OKX_CH_MARK_PRICE:
        for (uint32_t i = 0; i < m->n_items; i++) {
            pub_mark(c, w, &m->u.marks[i]);
        }
        break;
    case OKX_CH_FUNDING_RATE:
        for (uint32_t i = 0; i < m->n_items; i++) {
            pub_funding(c, w, &m->u.funding[i]);
        }
        break;
    case OKX_CH_CANDLE:
        for (uint32_t i = 0; i < m->n_items; i++) {
            pub_candle(c, w, m->bar_s, &m->u.candles[i]);
        }
        break;
    default:
        break;
    }
}

static void on_state(void *arg, okx_ws *ws, bool up, const char *detail)
{
    okx_ctx *c = arg;
    if (!up && ws == c->ws_pub) {
        /* Books restart from a snapshot after a reconnect. */
        for (size_t i = 0; i < c->nwatch; i++) {
            okx_book_init(&c->watch[i].book);
        }
    }
    okx_refresh_state(c);
}

static void on_error(void *arg, okx_ws *ws, const char *code, const char *msg)
{
    okx_ctx *c = arg;
    char text[256];
    snprintf(text, sizeof(text), "%s: OKX WebSocket error %s: %s", c->name, code, msg);
    /* okx_ws logged it already; the ALERT is for humans on the dashboard. */
    at_ev_alert *a = (at_ev_alert *)c->h->event_new(c->inst, AT_EV_ALERT, strlen(text) + 1);
    if (a) {
        a->level = AT_LOG_WARN;
        a->message = c->h->event_strdup(&a->h, text);
        c->h->publish(c->inst, &a->h, 0);
    }
}

/* The business WebSocket's candles. */
static int start_candles(okx_ctx *c)
{
    okx_ws_cbs cbs = {on_frame, on_state, on_error};
    okx_ws_opts bo = {.url = c->ws_business_url,
                      .name = "business",
                      .proxy = c->proxy,
                      .reconnects = c->m_ws_business};
    c->ws_bus = okx_ws_new(c->h, c->inst, &bo, &cbs, c);
    if (!c->ws_bus) {
        return AT_ENOMEM;
    }
    char arg[160];
    for (size_t i = 0; i < c->nwatch; i++) {
        for (size_t k = 0; k < c->candles.n; k++) {
            char ch[32];
            snprintf(ch, sizeof(ch), "candle%s", c->candles.items[k]);
            arg_json(arg, sizeof(arg), ch, c->watch[i].inst->inst_id);
            okx_ws_subscribe(c->ws_bus, arg);
        }
    }
    okx_ws_start(c->ws_bus);
    return AT_OK;
}

/* The public WebSocket: tickers, books, trades, mark price, funding. */
static int start_public(okx_ctx *c)
{
    okx_ws_cbs cbs = {on_frame, on_state, on_error};
    okx_ws_opts po = {
        .url = c->ws_public_url, .name = "public", .proxy = c->proxy, .reconnects = c->m_ws_public};
    c->ws_pub = okx_ws_new(c->h, c->inst, &po, &cbs, c);
    if (!c->ws_pub) {
        return AT_ENOMEM;
    }
    static const char *const chans[] = {"tickers", "trades", "mark-price", "funding-rate"};
    char arg[160];
    for (size_t i = 0; i < c->nwatch; i++) {
        const char *id = c->watch[i].inst->inst_id;
        arg_json(arg, sizeof(arg), c->book_channel ? "books5" : "books", id);
        okx_ws_subscribe(c->ws_pub, arg);
        for (size_t k = 0; k < sizeof(chans) / sizeof(chans[0]); k++) {
            arg_json(arg, sizeof(arg), chans[k], id);
            okx_ws_subscribe(c->ws_pub, arg);
        }
    }
    okx_ws_start(c->ws_pub);
    return AT_OK;
}

static int start_live(okx_ctx *c)
{
    int rc = start_public(c);
    if (rc == AT_OK && c->candles.n) {
        rc = start_candles(c);
    }
    return rc;
}

/* The backfill is in: the live feed follows the fetched candles. The public
 * one waited too, so a trader that waits for a price (its first call at
 * start) decides on warm indicators. */
static void after_backfill(okx_ctx *c)
{
    if (start_live(c) != AT_OK) {
        okx_alert(c, AT_LOG_ERROR, "market data could not start (out of memory)");
        okx_refresh_state(c);
    }
}

int okx_feed_start(okx_ctx *c)
{
    if (c->replay) {
        return okx_replay_start(c);
    }
    if (c->record && okx_record_open(c) != AT_OK) {
        return AT_EIO;
    }
    if (c->candles.n && c->backfill > 0) {
        return okx_backfill_start(c, after_backfill);
    }
    return start_live(c);
}

void okx_feed_stop(okx_ctx *c)
{
    okx_replay_stop(c);
    okx_backfill_stop(c);
    okx_record_close(c);
    okx_ws_free(c->ws_pub);
    okx_ws_free(c->ws_bus);
    c->ws_pub = c->ws_bus = NULL;
}

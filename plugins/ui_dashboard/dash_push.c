/* The live feed on /ws: {"type": …, "data": {…}} for every account, order,
 * decision, alert, status, news and sentiment event, and for tickers and books at most every
 * DASH_PUSH_EVERY_MS per source and instrument (a feed moves faster than a
 * person reads; the newest one is what is sent, the tick timer sends what
 * was held back). One message is built per event and broadcast by the
 * engine's server; nothing is built while nobody listens. The feed is
 * one-way: what a client sends is ignored. */
#include <stdlib.h>
#include <string.h>

#include "dash.h"

static void push(dash *d, const char *type, json_t *data)
{
    if (!data) {
        return;
    }
    /* "sent": when the engine pushed it (core clock, ms): what a client, or
     * a test, can tell the engine's pace by, whatever the network did */
    json_t *m = json_pack("{s:s, s:I, s:o}", "type", type, "sent",
                          (json_int_t)(d->h->now_us() / 1000), "data", data);
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (s && d->srv) {
        d->h->httpd_ws_broadcast(d->srv, s, strlen(s));
    }
    free(s);
}

static bool due(dash *d, int64_t sent_us, int64_t now)
{
    return now - sent_us >= (int64_t)DASH_PUSH_EVERY_MS * 1000;
}

static void push_ticker(dash *d, dash_ticker *t, int64_t now)
{
    t->sent_us = now;
    t->dirty = false;
    push(d, "ticker", dash_json_ticker(d, t));
}

static void push_book(dash *d, dash_book *b, int64_t now)
{
    b->sent_us = now;
    b->dirty = false;
    push(d, "book", dash_json_book(d, b));
}

void dash_push_flush(dash *d)
{
    if (d->nws <= 0) {
        return;
    }
    int64_t now = d->h->now_us();
    for (size_t i = 0; i < d->live.ntick; i++) {
        if (d->live.tick[i].dirty && due(d, d->live.tick[i].sent_us, now)) {
            push_ticker(d, &d->live.tick[i], now);
        }
    }
    for (size_t i = 0; i < d->live.nbook; i++) {
        if (d->live.book[i]->dirty && due(d, d->live.book[i]->sent_us, now)) {
            push_book(d, d->live.book[i], now);
        }
    }
}

/* The entry dash_live kept for this event's source and instrument. */
static dash_ticker *ticker_of(dash *d, const at_event *e)
{
    const char *src = e->source ? e->source : "";
    for (size_t i = 0; i < d->live.ntick; i++) {
        if (d->live.tick[i].t.h.inst == e->inst && strcmp(d->live.tick[i].source, src) == 0) {
            return &d->live.tick[i];
        }
    }
    return NULL;
}

static dash_book *book_of(dash *d, const at_event *e)
{
    const char *src = e->source ? e->source : "";
    for (size_t i = 0; i < d->live.nbook; i++) {
        if (d->live.book[i]->b.h.inst == e->inst && strcmp(d->live.book[i]->source, src) == 0) {
            return d->live.book[i];
        }
    }
    return NULL;
}

static json_t *alert_json(const at_ev_alert *a)
{
    static const char *const lv[] = {"debug", "info", "warn", "error"};
    return json_pack("{s:s, s:s, s:s, s:I}", "level",
                     (unsigned)a->level <= AT_LOG_ERROR ? lv[a->level] : "info", "message",
                     a->message ? a->message : "", "source", a->h.source ? a->h.source : "", "ts",
                     (json_int_t)(a->h.ts_us / 1000));
}

static json_t *status_json(const at_ev_status *s)
{
    static const char *const st[] = {"init", "starting", "up", "degraded", "down", "stopped"};
    return json_pack("{s:s, s:s, s:s, s:I}", "instance", s->instance, "state",
                     (unsigned)s->state <= AT_STATE_STOPPED ? st[s->state] : "unknown", "detail",
                     s->detail ? s->detail : "", "ts", (json_int_t)(s->h.ts_us / 1000));
}

void dash_push_event(dash *d, const at_event *e)
{
    if (d->nws <= 0 || !d->srv) {
        return;
    }
    int64_t now = d->h->now_us();
    switch (e->type) {
    case AT_EV_TICKER: {
        dash_ticker *t = ticker_of(d, e);
        if (t && due(d, t->sent_us, now)) {
            push_ticker(d, t, now);
        }
        return;
    }
    case AT_EV_BOOK: {
        dash_book *b = book_of(d, e);
        if (b && due(d, b->sent_us, now)) {
            push_book(d, b, now);
        }
        return;
    }
    case AT_EV_BALANCE: {
        const dash_account *a = dash_account_find(d, ((const at_ev_balance *)e)->account);
        if (a) {
            push(d, "balance", dash_json_balance(d, a));
        }
        return;
    }
    case AT_EV_POSITION:
        push(d, "position", dash_json_position(d, (const at_ev_position *)e));
        return;
    case AT_EV_ORDER:
        push(d, "order", dash_json_order(d, (const at_ev_order *)e));
        return;
    case AT_EV_FILL:
        push(d, "fill", dash_json_fill(d, (const at_ev_fill *)e));
        return;
    case AT_EV_DECISION:
        push(d, "decision", dash_json_decision(d, (const at_ev_decision *)e));
        return;
    case AT_EV_ALERT:
        push(d, "alert", alert_json((const at_ev_alert *)e));
        return;
    case AT_EV_STATUS:
        push(d, "status", status_json((const at_ev_status *)e));
        return;
    case AT_EV_NEWS:
        push(d, "news", dash_json_news((const at_ev_news *)e));
        return;
    case AT_EV_SENTIMENT:
        push(d, "sentiment", dash_json_sentiment((const at_ev_sentiment *)e));
        return;
    default:
        return;
    }
}

void dash_ws_open(void *arg, at_httpd *srv, at_httpd_conn *conn)
{
    dash *d = arg;
    (void)srv;
    (void)conn;
    d->nws++;
}

void dash_ws_message(void *arg, at_httpd *srv, at_httpd_conn *conn, const char *data, size_t len)
{
    (void)arg;
    (void)srv;
    (void)conn;
    (void)data;
    (void)len;
}

void dash_ws_close(void *arg, at_httpd *srv, at_httpd_conn *conn)
{
    dash *d = arg;
    (void)srv;
    (void)conn;
    if (d->nws > 0) {
        d->nws--;
    }
}

/* What the engine knows right now, kept from the bus: the latest ticker and
 * book per source and instrument, candles per source, instrument and bar,
 * and per account its balances, open positions and open orders. Every
 * table has a bound; what does not fit is said once in the log and left
 * out, never grown without end. Decimals stay exact and leave as strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"

static const char *src_of(const at_event *e)
{
    return e->source ? e->source : "";
}

int dash_live_init(dash *d)
{
    dash_live *l = &d->live;
    l->tick = calloc(DASH_MAX_TICKERS, sizeof(*l->tick));
    l->book = calloc(DASH_MAX_TICKERS, sizeof(*l->book));
    l->series = calloc(DASH_MAX_SERIES, sizeof(*l->series));
    l->acct = calloc(DASH_MAX_ACCOUNTS, sizeof(*l->acct));
    return l->tick && l->book && l->series && l->acct ? AT_OK : AT_ENOMEM;
}

void dash_live_free(dash *d)
{
    dash_live *l = &d->live;
    for (size_t i = 0; l->book && i < l->nbook; i++) {
        free(l->book[i]);
    }
    for (size_t i = 0; l->series && i < l->nseries; i++) {
        free(l->series[i]);
    }
    for (size_t i = 0; l->acct && i < l->nacct; i++) {
        free(l->acct[i].pos);
        free(l->acct[i].pos_json);
        free(l->acct[i].ord);
    }
    free(l->tick);
    free(l->book);
    free(l->series);
    free(l->acct);
    memset(l, 0, sizeof(*l));
}

static void full(dash *d, bool *logged, const char *what)
{
    if (!*logged) {
        *logged = true;
        d->h->log(d->inst, AT_LOG_WARN, "%s: the dashboard shows the first ones only", what);
    }
}

/* ------------------------------------------------------------ market */

static void on_ticker(dash *d, const at_ev_ticker *t)
{
    dash_live *l = &d->live;
    const char *src = src_of(&t->h);
    size_t i = 0;
    while (i < l->ntick && (l->tick[i].t.h.inst != t->h.inst || strcmp(l->tick[i].source, src))) {
        i++;
    }
    if (i == l->ntick) {
        if (l->ntick == DASH_MAX_TICKERS) {
            full(d, &l->full_logged, "too many instruments");
            return;
        }
        l->ntick++;
        snprintf(l->tick[i].source, sizeof(l->tick[i].source), "%s", src);
    }
    l->tick[i].t = *t;
    l->tick[i].dirty = true;
}

static void on_book(dash *d, const at_ev_book *b)
{
    dash_live *l = &d->live;
    const char *src = src_of(&b->h);
    size_t i = 0;
    while (i < l->nbook && (l->book[i]->b.h.inst != b->h.inst || strcmp(l->book[i]->source, src))) {
        i++;
    }
    if (i == l->nbook) {
        if (l->nbook == DASH_MAX_TICKERS || !(l->book[i] = calloc(1, sizeof(dash_book)))) {
            full(d, &l->full_logged, "too many order books");
            return;
        }
        l->nbook++;
        snprintf(l->book[i]->source, sizeof(l->book[i]->source), "%s", src);
    }
    l->book[i]->b = *b;
    l->book[i]->dirty = true;
}

static dash_candle *series_at(dash_series *s, size_t k)
{
    return &s->c[(s->head + k) % DASH_CANDLES];
}

static void on_candle(dash *d, const at_ev_candle *c)
{
    dash_live *l = &d->live;
    const char *src = src_of(&c->h);
    dash_series *s = NULL;
    for (size_t i = 0; i < l->nseries && !s; i++) {
        dash_series *x = l->series[i];
        if (x->inst == c->h.inst && x->bar_s == c->bar_s && strcmp(x->source, src) == 0) {
            s = x;
        }
    }
    if (!s) {
        if (l->nseries == DASH_MAX_SERIES || !(s = calloc(1, sizeof(*s)))) {
            full(d, &l->full_logged, "too many candle series");
            return;
        }
        l->series[l->nseries++] = s;
        snprintf(s->source, sizeof(s->source), "%s", src);
        s->inst = c->h.inst;
        s->bar_s = c->bar_s;
    }
    dash_candle v = {c->open_ms, c->o, c->hi, c->lo, c->c, c->vol, c->confirmed};
    dash_candle *last = s->n ? series_at(s, s->n - 1) : NULL;
    if (last && last->open_ms == c->open_ms) {
        *last = v; /* the bar in progress, or its close */
    } else if (!last || c->open_ms > last->open_ms) {
        if (s->n == DASH_CANDLES) {
            s->head = (s->head + 1) % DASH_CANDLES;
            s->n--;
        }
        *series_at(s, s->n++) = v;
    }
    /* an older bar (a replayed backlog) is left out: the ring is in time order */
}

const dash_ticker *dash_ticker_find(const dash *d, at_inst inst)
{
    for (size_t i = 0; i < d->live.ntick; i++) {
        if (d->live.tick[i].t.h.inst == inst) {
            return &d->live.tick[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ accounts */

dash_account *dash_account_find(dash *d, const char *name)
{
    for (size_t i = 0; i < d->live.nacct; i++) {
        if (strcmp(d->live.acct[i].name, name) == 0) {
            return &d->live.acct[i];
        }
    }
    return NULL;
}

static dash_account *account_get(dash *d, const char *name)
{
    dash_account *a = dash_account_find(d, name);
    if (a || !name[0]) {
        return a;
    }
    if (d->live.nacct == DASH_MAX_ACCOUNTS) {
        full(d, &d->live.full_logged, "too many accounts");
        return NULL;
    }
    a = &d->live.acct[d->live.nacct++];
    snprintf(a->name, sizeof(a->name), "%s", name);
    return a;
}

static void on_balance(dash *d, const at_ev_balance *b)
{
    dash_account *a = account_get(d, b->account);
    if (!a) {
        return;
    }
    a->have_eq = true;
    a->total_eq = b->total_eq;
    a->eq_ts_ms = b->exch_ts_ms ? b->exch_ts_ms : b->h.ts_us / 1000;
    if (!b->ccy[0]) {
        return;
    }
    size_t i = 0;
    while (i < a->nbal && strcmp(a->bal[i].ccy, b->ccy) != 0) {
        i++;
    }
    if (i == a->nbal) {
        if (a->nbal == DASH_MAX_CCY) {
            full(d, &a->full_logged, "too many currencies in an account");
            return;
        }
        a->nbal++;
        size_t n = strnlen(b->ccy, sizeof(a->bal[i].ccy) - 1);
        memcpy(a->bal[i].ccy, b->ccy, n);
        a->bal[i].ccy[n] = '\0';
    }
    a->bal[i].eq = b->eq;
    a->bal[i].avail = b->avail;
    a->bal[i].upl = b->upl;
    a->bal[i].ts_ms = a->eq_ts_ms;
}

/* Grow one of an account's arrays to hold one more, within `max`. */
static bool room(void **arr, size_t n, size_t *cap, size_t max, size_t elem)
{
    if (n < *cap) {
        return true;
    }
    if (n >= max) {
        return false;
    }
    size_t nc = *cap ? *cap * 2 : 8;
    nc = nc > max ? max : nc;
    void *p = realloc(*arr, nc * elem);
    if (!p) {
        return false;
    }
    *arr = p;
    *cap = nc;
    return true;
}

static void on_position(dash *d, const at_ev_position *p)
{
    dash_account *a = account_get(d, p->account);
    if (!a) {
        return;
    }
    free(a->pos_json); /* the answer changes with any position event */
    a->pos_json = NULL;
    size_t i = 0;
    while (i < a->npos && (a->pos[i].h.inst != p->h.inst || a->pos[i].pos_side != p->pos_side)) {
        i++;
    }
    if (p->pos.m == 0) { /* closed */
        if (i < a->npos) {
            a->pos[i] = a->pos[--a->npos];
        }
        return;
    }
    if (i == a->npos) {
        if (!room((void **)&a->pos, a->npos, &a->cap_pos, DASH_MAX_POSITIONS, sizeof(*a->pos))) {
            full(d, &a->full_logged, "too many positions in an account");
            return;
        }
        a->npos++;
    }
    a->pos[i] = *p;
}

static bool order_open(at_ord_state s)
{
    return s == AT_ORD_LIVE || s == AT_ORD_PARTIALLY_FILLED;
}

static void on_order(dash *d, const at_ev_order *o)
{
    dash_account *a = account_get(d, o->account);
    if (!a) {
        return;
    }
    size_t i = 0;
    while (i < a->nord && !(o->ord_id[0] ? strcmp(a->ord[i].ord_id, o->ord_id) == 0
                                         : strcmp(a->ord[i].cl_ord_id, o->cl_ord_id) == 0)) {
        i++;
    }
    if (!order_open(o->state)) {
        if (i < a->nord) {
            memmove(&a->ord[i], &a->ord[i + 1], (a->nord - i - 1) * sizeof(*a->ord));
            a->nord--;
        }
        return;
    }
    if (i == a->nord) {
        if (!room((void **)&a->ord, a->nord, &a->cap_ord, DASH_MAX_ORDERS, sizeof(*a->ord))) {
            full(d, &a->full_logged, "too many open orders in an account");
            return;
        }
        a->nord++;
    }
    a->ord[i] = *o;
}

const at_ev_order *dash_order_find(const dash *d, const char *account, const char *ord_id,
                                   const char *cl_ord_id)
{
    const dash_account *a = dash_account_find((dash *)d, account);
    for (size_t i = 0; a && i < a->nord; i++) {
        if ((ord_id && ord_id[0] && strcmp(a->ord[i].ord_id, ord_id) == 0) ||
            (cl_ord_id && cl_ord_id[0] && strcmp(a->ord[i].cl_ord_id, cl_ord_id) == 0)) {
            return &a->ord[i];
        }
    }
    return NULL;
}

at_inst dash_position_inst(const dash *d, const char *account, const char *inst_id)
{
    const dash_account *a = dash_account_find((dash *)d, account);
    for (size_t i = 0; a && i < a->npos; i++) {
        const char *n = d->h->inst_name(a->pos[i].h.inst);
        if (n && strcmp(n, inst_id) == 0) {
            return a->pos[i].h.inst;
        }
    }
    return 0;
}

const at_ev_position *dash_position_find(const dash *d, const char *account, at_inst inst,
                                         at_pos_side side, bool any_side)
{
    const dash_account *a = dash_account_find((dash *)d, account);
    const at_ev_position *found = NULL;
    for (size_t i = 0; a && i < a->npos; i++) {
        if (a->pos[i].h.inst == inst && (any_side || a->pos[i].pos_side == side)) {
            if (found) {
                return NULL; /* two sides open: the caller must say which */
            }
            found = &a->pos[i];
        }
    }
    return found;
}

void dash_live_on_event(void *arg, const at_event *e)
{
    dash *d = arg;
    switch (e->type) {
    case AT_EV_TICKER:
        on_ticker(d, (const at_ev_ticker *)e);
        break;
    case AT_EV_BOOK:
        on_book(d, (const at_ev_book *)e);
        break;
    case AT_EV_CANDLE:
        on_candle(d, (const at_ev_candle *)e);
        break;
    case AT_EV_BALANCE:
        on_balance(d, (const at_ev_balance *)e);
        break;
    case AT_EV_POSITION:
        on_position(d, (const at_ev_position *)e);
        break;
    case AT_EV_ORDER:
        on_order(d, (const at_ev_order *)e);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ live routes */

void dash_route_tickers(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    char inst[AT_ID_LEN];
    if (dash_query_str(query, "instId", inst, sizeof(inst), &e) < 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < d->live.ntick; i++) {
        const dash_ticker *t = &d->live.tick[i];
        if (!inst[0] || strcmp(dash_inst_name(d, t->t.h.inst), inst) == 0) {
            json_array_append_new(a, dash_json_ticker(d, t));
        }
    }
    dash_reply(d, req, 200, a);
}

/* "1m", "5m", "1H", "4h", "1D", "1W" (OKX writes hours and days in capitals). */
static int64_t bar_seconds(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || v <= 0 || v > 1000 || !end[0] || end[1]) {
        return 0;
    }
    switch (*end) {
    case 's':
        return v;
    case 'm':
        return v * 60;
    case 'h':
    case 'H':
        return v * 3600;
    case 'd':
    case 'D':
        return v * 86400;
    case 'w':
    case 'W':
        return v * 7 * 86400;
    default:
        return 0;
    }
}

void dash_route_candles(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    char inst[AT_ID_LEN], bar[16], src[AT_ID_LEN];
    int64_t limit = 0;
    if (dash_query_str(query, "instId", inst, sizeof(inst), &e) < 0 ||
        dash_query_str(query, "bar", bar, sizeof(bar), &e) < 0 ||
        dash_query_str(query, "source", src, sizeof(src), &e) < 0 ||
        dash_query_int(query, "limit", 100, 1, DASH_CANDLES, &limit, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    if (!inst[0]) {
        dash_reply_fail(d, req, 400, "missing", "instId is required (candles of which instrument)");
        return;
    }
    int64_t bar_s = bar[0] ? bar_seconds(bar) : 60;
    if (!bar_s) {
        dash_reply_fail(d, req, 400, "bad_query", "bar must be like 1m, 5m, 1H, 4H, 1D");
        return;
    }
    const dash_series *s = NULL;
    for (size_t i = 0; i < d->live.nseries && !s; i++) {
        const dash_series *x = d->live.series[i];
        if (x->bar_s == bar_s && strcmp(dash_inst_name(d, x->inst), inst) == 0 &&
            (!src[0] || strcmp(x->source, src) == 0)) {
            s = x;
        }
    }
    json_t *a = json_array();
    size_t from = s && s->n > (size_t)limit ? s->n - (size_t)limit : 0;
    for (size_t k = from; a && s && k < s->n; k++) {
        const dash_candle *c = &s->c[(s->head + k) % DASH_CANDLES];
        json_array_append_new(
            a, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:b}", "ts", (json_int_t)c->open_ms,
                         "open", dash_json_dec(d, c->o), "high", dash_json_dec(d, c->hi), "low",
                         dash_json_dec(d, c->lo), "close", dash_json_dec(d, c->c), "vol",
                         dash_json_dec(d, c->vol), "confirmed", c->confirmed));
    }
    dash_reply(d, req, 200, a);
}

void dash_route_balance(dash *d, uint64_t req, const dash_account *a)
{
    dash_reply(d, req, 200, dash_json_balance(d, a));
}

void dash_route_positions(dash *d, uint64_t req, const dash_account *a)
{
    /* `a` may be a stand-in for an account storage knows (no positions) */
    dash_account *kept = dash_account_find(d, a->name);
    if (kept && kept->pos_json) {
        dash_reply_text(d, req, 200, "application/json", kept->pos_json, kept->pos_json_len);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < a->npos; i++) {
        json_array_append_new(arr, dash_json_position(d, &a->pos[i]));
    }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!s) {
        dash_reply_fail(d, req, 500, "internal", "out of memory");
        return;
    }
    dash_reply_text(d, req, 200, "application/json", s, strlen(s));
    if (kept) {
        kept->pos_json = s;
        kept->pos_json_len = strlen(s);
    } else {
        free(s);
    }
}

void dash_route_open_orders(dash *d, uint64_t req, const dash_account *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < a->nord; i++) {
        json_array_append_new(arr, dash_json_order(d, &a->ord[i]));
    }
    dash_reply(d, req, 200, arr);
}

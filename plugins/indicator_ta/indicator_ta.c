/* indicator_ta: the lib/ta indicator set per instrument and bar, published
 * as AT_EV_INDICATOR on every confirmed bar.
 *
 * Inputs: 1-minute candles (the base; a minute is final on its confirmed push
 * or when a later minute appears), or, for an instrument that
 * never sent one, 1-minute bars built from its trades; longer bars (5m, 15m,
 * 1h, 4h …) are aggregated from that 1-minute stream on UTC boundaries, so
 * every bar size sees the same data and price changes always come from the
 * 1-minute closes. Candles of other sizes are ignored for that reason. BOOK
 * gives the imbalance and microprice, FUNDING the rate and its change; both
 * are reported with the next bar.
 *
 * State: one inst_state per instrument, allocated when the instrument is
 * first seen (or at start for a fixed list), found through an open-addressed
 * table sized at start: nothing is allocated per tick but the events. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "indicator_ta.h"

/* A trade-built minute is closed this long after its end, so trades that
 * arrive a little late still land in their minute. */
#define TRADE_GRACE_MS 2000

/* ------------------------------------------------------------- state table */

static inst_state **slot_of(ind_ctx *c, at_inst id)
{
    size_t i = (id * 2654435761u) & (c->nslots - 1);
    while (c->slots[i] && c->slots[i]->id != id) {
        i = (i + 1) & (c->nslots - 1);
    }
    return &c->slots[i];
}

static inst_state *state_new(ind_ctx *c, at_inst id)
{
    if (c->ninst >= (size_t)c->max_instruments) {
        if (!c->full_warned) {
            c->full_warned = true;
            c->h->log(c->inst, AT_LOG_WARN,
                      "max_instruments (%lld) reached: ignoring %s and later ones",
                      (long long)c->max_instruments, c->h->inst_name(id));
        }
        return NULL;
    }
    inst_state *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->id = id;
    ta_agg_init(&s->trades, MIN_MS);
    ta_funding_init(&s->funding);
    ta_chg_init(&s->chg);
    for (int k = 0; k < c->set.nbars; k++) {
        s->bars[k].bar_ms = c->set.bar_ms[k];
        ta_agg_init(&s->bars[k].agg, c->set.bar_ms[k]);
        ta_set_init(&s->bars[k].set);
        ta_sig_stream_init(&s->bars[k].sig, &c->set.rules, c->h->inst_name(id));
    }
    *slot_of(c, id) = s;
    c->ninst++;
    return s;
}

/* The state of the event's instrument, created on first sight when every
 * instrument is wanted; NULL when it is not one of ours. */
static inst_state *state_for(ind_ctx *c, const at_event *e)
{
    if (!e->inst) {
        return NULL;
    }
    if (c->source && (!e->source || strcmp(e->source, c->source) != 0)) {
        return NULL;
    }
    inst_state *s = *slot_of(c, e->inst);
    return s ? s : (c->set.all ? state_new(c, e->inst) : NULL);
}

/* ------------------------------------------------------------------ signals */

static double ind_lookup(void *arg, const char *name)
{
    const at_ev_indicator *ev = arg;
    for (uint32_t i = 0; i < ev->n; i++) {
        if (strcmp(ev->v[i].name, name) == 0) {
            return ev->v[i].value;
        }
    }
    return NAN;
}

/* Feed one INDICATOR (just published, still referenced) through the bar's signal
 * state and publish a SIGNAL per crossing. */
static void signals_feed(ind_ctx *c, bar_state *b, const at_ev_indicator *ind)
{
    ta_sig_event out[TA_SIG_MAX];
    size_t n = ta_sig_update(&b->sig, &c->set.rules, ind_lookup, (void *)ind, out, TA_SIG_MAX);
    for (size_t i = 0; i < n; i++) {
        at_ev_signal *ev = (at_ev_signal *)c->h->event_new(c->inst, AT_EV_SIGNAL, 0);
        if (!ev) {
            c->h->log(c->inst, AT_LOG_WARN, "out of memory: signal event dropped");
            return;
        }
        ev->h.inst = ind->h.inst;
        snprintf(ev->indicator, sizeof(ev->indicator), "%s", out[i].name);
        ev->dir = out[i].op == TA_SIG_GT   ? AT_SIG_UP
                  : out[i].op == TA_SIG_LT ? AT_SIG_DOWN
                                           : AT_SIG_SPIKE;
        ev->value = out[i].value;
        ev->threshold = out[i].threshold;
        ev->salience = out[i].salience;
        ev->entered = out[i].entered;
        if (c->h->log_enabled(AT_LOG_DEBUG)) {
            c->h->log(c->inst, AT_LOG_DEBUG,
                      "signal %s %s %s %g (level %g, salience %.2f) %s %llds", out[i].name,
                      ta_sig_dir_name(out[i].op), out[i].entered ? "entered" : "left", out[i].value,
                      out[i].threshold, out[i].salience, c->h->inst_name(ind->h.inst),
                      (long long)ind->bar_s);
        }
        c->h->publish(c->inst, &ev->h, 0);
    }
}

/* ------------------------------------------------------------------ publish */

static void put(at_ev_indicator *ev, const char *name, double v)
{
    at_ind_value *x = &ev->v[ev->n++];
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->value = v;
}

/* Imbalance over the configured depth and microprice of the latest book. */
static void book_values(const ind_ctx *c, const at_ev_book *b, double *obi, double *micro)
{
    *obi = *micro = NAN;
    if (!b) {
        return;
    }
    double bs[AT_BOOK_DEPTH], as[AT_BOOK_DEPTH];
    size_t nb = b->nbids < (uint32_t)c->depth ? b->nbids : (size_t)c->depth;
    size_t na = b->nasks < (uint32_t)c->depth ? b->nasks : (size_t)c->depth;
    for (size_t i = 0; i < nb; i++) {
        bs[i] = c->h->dec_to_double(b->bids[i].sz);
    }
    for (size_t i = 0; i < na; i++) {
        as[i] = c->h->dec_to_double(b->asks[i].sz);
    }
    *obi = ta_obi(bs, nb, as, na, (size_t)c->depth);
    if (nb && na) {
        *micro = ta_microprice(c->h->dec_to_double(b->bids[0].px), bs[0],
                               c->h->dec_to_double(b->asks[0].px), as[0]);
    }
}

static void publish(ind_ctx *c, inst_state *s, bar_state *b, const ta_bar *bar, const ta_set_out *o)
{
    at_ev_indicator *ev = (at_ev_indicator *)c->h->event_new(c->inst, AT_EV_INDICATOR, 0);
    if (!ev) {
        c->h->log(c->inst, AT_LOG_WARN, "out of memory: indicator event dropped");
        return;
    }
    ev->h.inst = s->id;
    ev->bar_s = b->bar_ms / 1000;
    ev->bar_open_ms = bar->open_ms;
    double obi, micro;
    book_values(c, s->book, &obi, &micro);
    const double v[IND_N] = {bar->c,
                             o->ema12,
                             o->ema26,
                             o->rsi14,
                             o->macd,
                             o->macd_signal,
                             o->macd_hist,
                             o->bb_upper,
                             o->bb_mid,
                             o->bb_lower,
                             o->atr14,
                             o->vol_rv,
                             ta_chg_get(&s->chg, 5),
                             ta_chg_get(&s->chg, 15),
                             ta_chg_get(&s->chg, 60),
                             ta_chg_get(&s->chg, 240),
                             ta_chg_get(&s->chg, 1440),
                             o->vol_ratio,
                             obi,
                             micro,
                             ta_funding_rate(&s->funding),
                             ta_funding_chg(&s->funding)};
    for (int i = 0; i < IND_N; i++) {
        put(ev, i == IND_OBI ? c->set.obi_name : ind_names[i], v[i]);
    }
    /* Signals after the values behind them, so subscribers of both (the
     * scheduler) see the INDICATOR first; the reference keeps it readable. */
    c->h->event_retain(&ev->h);
    c->h->publish(c->inst, &ev->h, 0);
    signals_feed(c, b, ev);
    c->h->event_release(&ev->h);
    if (c->published) {
        c->h->metric_add(c->published, 1);
    }
}

static void on_bar(ind_ctx *c, inst_state *s, bar_state *b, const ta_bar *bar)
{
    ta_set_out o;
    ta_set_update(&b->set, bar, &o);
    publish(c, s, b, bar, &o);
}

/* One finished 1-minute bar: the price-change ring, then every bar size. */
static void on_minute(ind_ctx *c, inst_state *s, const ta_bar *m)
{
    if (s->any_1m && m->open_ms <= s->last_1m) {
        return; /* repeated or late minute */
    }
    s->any_1m = true;
    s->last_1m = m->open_ms;
    ta_chg_push(&s->chg, m->open_ms, m->c);
    for (int k = 0; k < c->set.nbars; k++) {
        bar_state *b = &s->bars[k];
        if (b->bar_ms == MIN_MS) {
            on_bar(c, s, b, m);
            continue;
        }
        ta_bar out[2];
        int n = ta_agg_add_bar(&b->agg, m, MIN_MS, out);
        for (int i = 0; i < n; i++) {
            on_bar(c, s, b, &out[i]);
        }
    }
}

/* ------------------------------------------------------------------ inputs */

/* A zero or non-finite price would turn EMA, RSI, MACD and ATR into NaN
 * for good (and ln() of it breaks vol_rv): such input is refused, loudly. */
static bool bar_ok(const ta_bar *b)
{
    return isfinite(b->o) && isfinite(b->h) && isfinite(b->l) && isfinite(b->c) && b->o > 0 &&
           b->h > 0 && b->l > 0 && b->c > 0 && isfinite(b->v) && b->v >= 0;
}

static void on_candle(void *arg, const at_event *e)
{
    ind_ctx *c = arg;
    const at_ev_candle *k = (const void *)e;
    if (k->bar_s != 60) {
        return;
    }
    inst_state *s = state_for(c, e);
    if (!s) {
        return;
    }
    s->have_candles = true;
    /* A feed may never push the confirmed version of a minute (OKX skips it
     * after a reconnect; okx-sim sends only the current bar): the last
     * update of a minute is final once a later minute's candle arrives. */
    if (s->pending && k->open_ms > s->pend.open_ms) {
        s->pending = false;
        on_minute(c, s, &s->pend);
    }
    ta_bar m = {.open_ms = k->open_ms,
                .o = c->h->dec_to_double(k->o),
                .h = c->h->dec_to_double(k->hi),
                .l = c->h->dec_to_double(k->lo),
                .c = c->h->dec_to_double(k->c),
                .v = c->h->dec_to_double(k->vol),
                .n = 1};
    if (!bar_ok(&m)) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "candle of %s at %lld ms ignored: prices must be finite "
                  "and positive",
                  c->h->inst_name(e->inst), (long long)k->open_ms);
        return;
    }
    if (k->confirmed) {
        s->pending = false;
        on_minute(c, s, &m);
    } else if (!s->any_1m || m.open_ms > s->last_1m) {
        s->pending = true;
        s->pend = m;
    }
}

static void on_trade(void *arg, const at_event *e)
{
    ind_ctx *c = arg;
    const at_ev_trade *t = (const void *)e;
    inst_state *s = state_for(c, e);
    if (!s || s->have_candles) {
        return;
    }
    int64_t ts = t->exch_ts_ms > 0 ? t->exch_ts_ms : e->ts_us / 1000;
    ta_bar m;
    double px = c->h->dec_to_double(t->px), sz = c->h->dec_to_double(t->sz);
    if (!(isfinite(px) && px > 0 && isfinite(sz) && sz >= 0)) {
        return; /* not a price: a bad trade must not poison the bar */
    }
    if (ta_agg_add_trade(&s->trades, ts, px, sz, &m)) {
        on_minute(c, s, &m);
    }
}

/* Books come many times a bar: keep the newest, convert it when a bar closes. */
static void on_book(void *arg, const at_event *e)
{
    ind_ctx *c = arg;
    inst_state *s = state_for(c, e);
    if (!s) {
        return;
    }
    c->h->event_retain(e);
    if (s->book) {
        c->h->event_release(&s->book->h);
    }
    s->book = (const at_ev_book *)e;
}

static void on_funding(void *arg, const at_event *e)
{
    ind_ctx *c = arg;
    const at_ev_funding *f = (const void *)e;
    inst_state *s = state_for(c, e);
    if (s) {
        ta_funding_update(&s->funding, f->funding_ms, c->h->dec_to_double(f->rate));
    }
}

/* Close trade-built minutes whose end passed on the core clock (a quiet
 * market sends no later trade to close them). */
static void on_tick(void *arg)
{
    ind_ctx *c = arg;
    int64_t now_ms = c->h->now_us() / 1000 - TRADE_GRACE_MS;
    for (size_t i = 0; i < c->nslots; i++) {
        inst_state *s = c->slots[i];
        ta_bar m;
        if (s && !s->have_candles && ta_agg_flush(&s->trades, now_ms, &m)) {
            on_minute(c, s, &m);
        }
    }
}

/* --------------------------------------------------------------- lifecycle */

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    ind_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    const char *key = NULL;
    char why[512];
    if (ind_setup_parse(c, &c->set, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s: %s", key, why);
        return AT_ECONFIG;
    }
    size_t want = c->set.all ? (size_t)c->max_instruments : c->instruments.n;
    if (!c->set.all) {
        c->max_instruments = (int64_t)want;
    }
    for (c->nslots = 8; c->nslots < 2 * want; c->nslots *= 2) {
    }
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    if (!c->slots) {
        return AT_ENOMEM;
    }
    for (size_t i = 0; !c->set.all && i < c->instruments.n; i++) {
        at_inst id = host->inst_intern(c->instruments.items[i]);
        if (!id) {
            return AT_ENOMEM; /* the id itself was checked by setup_parse */
        }
        if (!*slot_of(c, id) && !state_new(c, id)) {
            return AT_ENOMEM;
        }
    }
    return AT_OK;
}

static int start(void *ctx)
{
    ind_ctx *c = ctx;
    static const at_event_type types[4] = {AT_EV_CANDLE, AT_EV_TRADE, AT_EV_BOOK, AT_EV_FUNDING};
    static const at_event_cb cbs[4] = {on_candle, on_trade, on_book, on_funding};
    for (int i = 0; i < 4; i++) {
        c->subs[i] = c->h->subscribe(c->inst, types[i], cbs[i], c);
        if (c->subs[i] < 0) {
            return c->subs[i];
        }
    }
    c->tick = c->h->timer_add(c->inst, 1000, 1000, on_tick, c);
    if (!c->tick) {
        return AT_ENOMEM;
    }
    c->published = c->h->metric(c->inst, AT_METRIC_COUNTER, "aitrader_indicator_events_total",
                                "indicator events published");
    char detail[160];
    snprintf(detail, sizeof(detail), "%d bar size%s, %s instruments, %s", c->set.nbars,
             c->set.nbars == 1 ? "" : "s", c->set.all ? "all" : "listed", c->set.obi_name);
    c->h->set_state(c->inst, AT_STATE_UP, detail);
    return AT_OK;
}

static void stop(void *ctx)
{
    ind_ctx *c = ctx;
    for (int i = 0; i < 4; i++) {
        if (c->subs[i] > 0) {
            c->h->unsubscribe(c->inst, c->subs[i]);
            c->subs[i] = 0;
        }
    }
    if (c->tick) {
        c->h->timer_cancel(c->tick);
        c->tick = NULL;
    }
    for (size_t i = 0; c->slots && i < c->nslots; i++) {
        if (c->slots[i] && c->slots[i]->book) {
            c->h->event_release(&c->slots[i]->book->h);
            c->slots[i]->book = NULL;
        }
    }
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    ind_ctx *c = ctx;
    for (size_t i = 0; c->slots && i < c->nslots; i++) {
        free(c->slots[i]);
    }
    free(c->slots);
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_INDICATOR,
    .name = "ta",
    .version = "0.1.0",
    .description =
        "EMA, RSI, MACD, Bollinger, ATR, realized vol, price changes, volume ratio, "
        "book imbalance, microprice, funding per instrument and bar (TA-Lib conventions)",
    .config = ind_schema,
    .ctx_size = sizeof(ind_ctx),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .check_config = ind_check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

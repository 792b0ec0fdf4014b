/* Market-structure helpers: price change from a 1-minute close ring, book
 * imbalance and microprice, funding change, and UTC-aligned bar aggregation. */
#include <math.h>

#include "ta.h"

#define MIN_MS 60000
#define RING (TA_CHG_MINUTES + 1)

/* Floor division: bar boundaries stay aligned for times before the epoch too. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t mod_ring(int64_t m)
{
    int64_t r = m % RING;
    return r < 0 ? r + RING : r;
}

/* -------------------------------------------------- price change by minutes */

void ta_chg_init(ta_chg *c)
{
    c->any = false;
    c->first_min = c->last_min = 0;
}

int ta_chg_push(ta_chg *c, int64_t open_ms, double close)
{
    int64_t m = floor_div(open_ms, MIN_MS);
    if (!c->any) {
        c->any = true;
        c->first_min = c->last_min = m;
        c->close[mod_ring(m)] = close;
        return 0;
    }
    if (m < c->last_min) {
        return -1;
    }
    if (m > c->last_min) {
        /* Minutes without a bar had no trade: the price stayed at the last
         * close. At most RING slots need writing however long the gap. */
        double last = c->close[mod_ring(c->last_min)];
        int64_t from = m - c->last_min > RING ? m - RING : c->last_min + 1;
        for (int64_t k = from; k < m; k++) {
            c->close[mod_ring(k)] = last;
        }
        c->last_min = m;
        if (c->last_min - c->first_min >= RING) {
            c->first_min = c->last_min - RING + 1;
        }
    }
    c->close[mod_ring(m)] = close;
    return 0;
}

double ta_chg_get(const ta_chg *c, int minutes)
{
    if (!c->any || minutes < 1 || minutes > TA_CHG_MINUTES ||
        c->last_min - minutes < c->first_min) {
        return NAN;
    }
    double then = c->close[mod_ring(c->last_min - minutes)];
    double now = c->close[mod_ring(c->last_min)];
    /* (now - then) / then, not now / then - 1: the difference is exact for
     * nearby prices, so a change of 1e-10 keeps its digits instead of the
     * 1e-16 / 1e-10 that survive rounding now / then near 1. */
    return then != 0.0 ? (now - then) / then : NAN;
}

/* ------------------------------------------------------------- order book */

double ta_obi(const double *bid_sz, size_t nbids, const double *ask_sz, size_t nasks, size_t depth)
{
    double b = 0.0, a = 0.0;
    for (size_t i = 0; i < nbids && i < depth; i++) {
        b += bid_sz[i];
    }
    for (size_t i = 0; i < nasks && i < depth; i++) {
        a += ask_sz[i];
    }
    return b + a > 0.0 ? (b - a) / (b + a) : 0.0;
}

double ta_microprice(double bid, double bid_sz, double ask, double ask_sz)
{
    double t = bid_sz + ask_sz;
    return t > 0.0 ? (bid * ask_sz + ask * bid_sz) / t : (bid + ask) / 2.0;
}

/* ---------------------------------------------------------------- funding */

void ta_funding_init(ta_funding *f)
{
    f->have = f->have_prev = false;
    f->period_ms = 0;
    f->rate = f->prev_rate = 0.0;
}

void ta_funding_update(ta_funding *f, int64_t funding_ms, double rate)
{
    if (f->have && funding_ms != f->period_ms) {
        if (funding_ms < f->period_ms) {
            return; /* a late message about an older period */
        }
        f->prev_rate = f->rate;
        f->have_prev = true;
    }
    f->have = true;
    f->period_ms = funding_ms;
    f->rate = rate;
}

double ta_funding_rate(const ta_funding *f)
{
    return f->have ? f->rate : NAN;
}

double ta_funding_chg(const ta_funding *f)
{
    return f->have_prev ? f->rate - f->prev_rate : NAN;
}

/* ------------------------------------------------------- bar aggregation */

void ta_agg_init(ta_agg *a, int64_t bar_ms)
{
    a->bar_ms = bar_ms > 0 ? bar_ms : MIN_MS;
    a->done_ms = INT64_MIN;
    a->open = false;
    a->cur = (ta_bar){0};
}

static void agg_emit(ta_agg *a, ta_bar *out)
{
    *out = a->cur;
    a->done_ms = a->cur.open_ms + a->bar_ms;
    a->open = false;
}

static void agg_start(ta_agg *a, int64_t bucket, const ta_bar *in)
{
    a->open = true;
    a->cur = *in;
    a->cur.open_ms = bucket;
    a->cur.n = 1;
}

static void agg_merge(ta_agg *a, const ta_bar *in)
{
    ta_bar *b = &a->cur;
    if (in->h > b->h) {
        b->h = in->h;
    }
    if (in->l < b->l) {
        b->l = in->l;
    }
    b->c = in->c;
    b->v += in->v;
    b->n++;
}

int ta_agg_add_bar(ta_agg *a, const ta_bar *in, int64_t sub_ms, ta_bar out[2])
{
    int64_t bucket = floor_div(in->open_ms, a->bar_ms) * a->bar_ms;
    int nout = 0;
    if (in->open_ms < a->done_ms || (a->open && bucket < a->cur.open_ms)) {
        return 0; /* a late or repeated input for a bar already emitted */
    }
    if (a->open && bucket > a->cur.open_ms) {
        agg_emit(a, &out[nout++]); /* its last sub-bar never came */
    }
    if (a->open) {
        agg_merge(a, in);
    } else {
        agg_start(a, bucket, in);
    }
    if (in->open_ms + sub_ms >= bucket + a->bar_ms) {
        agg_emit(a, &out[nout++]);
    }
    return nout;
}

int ta_agg_add_trade(ta_agg *a, int64_t ts_ms, double px, double sz, ta_bar *out)
{
    int64_t bucket = floor_div(ts_ms, a->bar_ms) * a->bar_ms;
    ta_bar t = {.open_ms = ts_ms, .o = px, .h = px, .l = px, .c = px, .v = sz};
    int nout = 0;
    if (ts_ms < a->done_ms || (a->open && bucket < a->cur.open_ms)) {
        return 0;
    }
    if (a->open) {
        if (bucket == a->cur.open_ms) {
            agg_merge(a, &t);
            return 0;
        }
        agg_emit(a, out);
        nout = 1;
    }
    agg_start(a, bucket, &t);
    return nout;
}

int ta_agg_flush(ta_agg *a, int64_t now_ms, ta_bar *out)
{
    if (!a->open || now_ms < a->cur.open_ms + a->bar_ms) {
        return 0;
    }
    agg_emit(a, out);
    return 1;
}

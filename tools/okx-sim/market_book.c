/* okx-sim synthetic order book. Both sides are kept in integer ticks/lots
 * and only move where the price moved them: levels the new price crosses
 * disappear, the gap between the new best and the old best fills with fresh
 * levels, the far end is trimmed or extended to the depth, and one random
 * level may change size (churn). So consecutive books differ in a few
 * levels and the WS `books` updates stay small, as on OKX.
 *
 * Sides are handled with a "key" that grows away from the touch:
 * key = ticks for asks, key = -ticks for bids; best first = ascending key. */
#include <math.h>
#include <string.h>

#include "market_int.h"

#define GAP_PROB 0.15  /* a missing tick between two levels */
#define CHURN_PROB 0.5 /* per side and step: one level changes size */
#define LEVEL_MIN_USDT 2000.0
#define LEVEL_SPAN 50.0 /* level notional log-uniform in [min, min * span] */
#define MAX_ORDERS 20

typedef struct side_ref {
    mkt_side *s;
    int dir; /* +1 asks, -1 bids */
} side_ref;

static int64_t key_of(const side_ref *r, const mkt_level *lv)
{
    return r->dir * lv->ticks;
}

/* A level at `key` with a fresh size from the instrument's stream; deeper
 * levels tend to be larger. */
static mkt_level fresh_level(sim_inst *in, const side_ref *r, int64_t key, int depth_index)
{
    mkt_level lv;
    lv.ticks = r->dir * key;
    double notional =
        LEVEL_MIN_USDT * exp(sim_rand01(&in->rng) * log(LEVEL_SPAN)) * (1.0 + depth_index / 25.0);
    lv.lots = mkt_lots_for_notional(in, lv.ticks, notional);
    lv.orders = 1 + (int)(sim_rand(&in->rng) % MAX_ORDERS);
    return lv;
}

static int64_t next_key(sim_inst *in, int64_t key)
{
    return key + 1 + (sim_rand01(&in->rng) < GAP_PROB ? 1 : 0);
}

/* Bids must stay at >= 1 tick. */
static bool key_valid(const side_ref *r, int64_t key)
{
    return r->dir * key >= 1;
}

static bool drop_crossed(side_ref *r, int64_t top)
{
    mkt_side *s = r->s;
    int k = 0;
    while (k < s->n && key_of(r, &s->lv[k]) < top) {
        k++;
    }
    if (k == 0) {
        return false;
    }
    memmove(s->lv, s->lv + k, (size_t)(s->n - k) * sizeof(s->lv[0]));
    s->n -= k;
    return true;
}

/* Fresh levels from `top` up to the current best, in front of it. */
static bool fill_front(sim_inst *in, side_ref *r, int64_t top, int depth)
{
    mkt_side *s = r->s;
    int64_t front = s->n ? key_of(r, &s->lv[0]) : INT64_MAX;
    if (front <= top) {
        return false;
    }
    if (s->n && front - top > 2 * (int64_t)depth) {
        s->n = 0; /* a jump past the whole side: rebuild it */
        front = INT64_MAX;
    }
    mkt_level fresh[SIM_BOOK_LEVELS];
    int k = 0;
    for (int64_t key = top; key < front && k < depth && key_valid(r, key);
         key = next_key(in, key)) {
        fresh[k] = fresh_level(in, r, key, k);
        k++;
    }
    int keep = s->n < depth - k ? s->n : depth - k;
    memmove(s->lv + k, s->lv, (size_t)keep * sizeof(s->lv[0]));
    memcpy(s->lv, fresh, (size_t)k * sizeof(s->lv[0]));
    s->n = k + keep;
    return k > 0;
}

static bool extend_back(sim_inst *in, side_ref *r, int64_t top, int depth)
{
    mkt_side *s = r->s;
    bool changed = false;
    if (s->n > depth) {
        s->n = depth;
        changed = true;
    }
    while (s->n < depth) {
        int64_t key = s->n ? next_key(in, key_of(r, &s->lv[s->n - 1])) : top;
        if (!key_valid(r, key)) {
            break;
        }
        s->lv[s->n] = fresh_level(in, r, key, s->n);
        s->n++;
        changed = true;
    }
    return changed;
}

static bool churn(sim_inst *in, side_ref *r)
{
    mkt_side *s = r->s;
    if (s->n == 0 || sim_rand01(&in->rng) >= CHURN_PROB) {
        return false;
    }
    int j = (int)(sim_rand(&in->rng) % (uint64_t)s->n);
    mkt_level lv = fresh_level(in, r, key_of(r, &s->lv[j]), j);
    bool changed = lv.lots != s->lv[j].lots || lv.orders != s->lv[j].orders;
    s->lv[j] = lv;
    return changed;
}

static bool side_update(sim_inst *in, side_ref *r, int64_t top_ticks, int depth)
{
    int64_t top = r->dir * top_ticks;
    bool changed = drop_crossed(r, top);
    changed |= fill_front(in, r, top, depth);
    changed |= extend_back(in, r, top, depth);
    changed |= churn(in, r);
    return changed;
}

bool mkt_book_update(sim_market *m, sim_inst *in, mkt_state *st)
{
    /* The last trade printed at the ask: best ask = last, best bid one tick
     * below, so the book is never crossed. */
    int64_t bid = st->px_ticks - 1 >= 1 ? st->px_ticks - 1 : 1;
    side_ref bids = {&st->bids, -1}, asks = {&st->asks, +1};
    bool changed = side_update(in, &bids, bid, m->depth);
    changed |= side_update(in, &asks, bid + 1, m->depth);
    return changed;
}

void mkt_book_rebuild(sim_market *m, sim_inst *in, mkt_state *st)
{
    st->bids.n = st->asks.n = 0;
    mkt_book_update(m, in, st);
}

static void publish_side(const sim_inst *in, const mkt_side *s, sim_level *out, int *n)
{
    for (int k = 0; k < s->n; k++) {
        out[k].px = mkt_ticks_dec(in, s->lv[k].ticks);
        out[k].sz = mkt_lots_dec(in, s->lv[k].lots);
        out[k].orders = s->lv[k].orders;
    }
    *n = s->n;
}

void mkt_book_publish(sim_inst *in, const mkt_state *st, int64_t now_ms)
{
    publish_side(in, &st->bids, in->book.bids, &in->book.nbids);
    publish_side(in, &st->asks, in->book.asks, &in->book.nasks);
    in->book.ts_ms = now_ms;
}

bool mkt_book_take(const sim_inst *in, mkt_state *st, bool buy, int64_t px_ticks, int64_t lots)
{
    (void)in;
    side_ref r = {buy ? &st->asks : &st->bids, buy ? +1 : -1};
    mkt_side *s = r.s;
    int64_t limit = r.dir * px_ticks;
    bool changed = false;
    int out = 0;
    for (int k = 0; k < s->n; k++) {
        mkt_level lv = s->lv[k];
        if (lots > 0 && key_of(&r, &lv) <= limit) {
            int64_t take = lv.lots < lots ? lv.lots : lots;
            lv.lots -= take;
            lots -= take;
            changed = true;
            if (lv.orders > 1 && lv.lots > 0) {
                lv.orders--; /* the taker ate at least one resting order */
            }
        }
        if (lv.lots > 0) {
            s->lv[out++] = lv;
        }
    }
    s->n = out;
    return changed;
}

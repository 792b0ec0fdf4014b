/* risk_limits' sizing and price rules for an entry. Money is exact: a
 * contract is worth ctVal x price (the mark, else the last price), margin is
 * notional / leverage, and every cap is turned into contracts rounded down
 * to lotSz. Only the slippage and deviation ratios (bps) are doubles. */
#include <stdio.h>
#include <string.h>

#include "risk_limits.h"

#define MONEY_SCALE 10

static bool overflow(rl_judge *j, rl_rule r, const char *what)
{
    return rl_reject(j, r, "%s of %s cannot be computed exactly (out of range)", what, j->inst);
}

static bool mul(rl_judge *j, rl_rule r, at_dec a, at_dec b, at_round mode, at_dec *out,
                const char *what)
{
    return j->h->dec_mul_round(a, b, MONEY_SCALE, mode, out) == AT_OK || overflow(j, r, what);
}

static bool dvd(rl_judge *j, rl_rule r, at_dec a, at_dec b, at_round mode, at_dec *out,
                const char *what)
{
    return j->h->dec_div(a, b, MONEY_SCALE, mode, out) == AT_OK || overflow(j, r, what);
}

static at_dec dmin(const rl_judge *j, at_dec a, at_dec b)
{
    return j->h->dec_cmp(a, b) <= 0 ? a : b;
}

/* Contracts worth at most `amount` at `unit` each, rounded down to lotSz
 * (0 when amount <= 0). */
static bool contracts(rl_judge *j, rl_rule r, at_dec amount, at_dec unit, at_dec *out)
{
    const at_dec lot = j->in->lot;
    if (amount.m <= 0) {
        *out = (at_dec){0, lot.scale};
        return true;
    }
    at_dec q;
    if (j->h->dec_div(amount, unit, lot.scale, AT_ROUND_DOWN, &q) != AT_OK ||
        j->h->dec_round_step(q, lot, AT_ROUND_DOWN, out) != AT_OK) {
        return overflow(j, r, "a size");
    }
    return true;
}

/* ------------------------------------------------------------ leverage */

bool rl_leverage(rl_judge *j)
{
    rl_ctx *c = j->c;
    const at_ev_order_intent *it = j->it;
    at_pos_side side = it->pos_side == AT_POS_NET ? AT_POS_NET
                       : j->dir > 0               ? AT_POS_LONG
                                                  : AT_POS_SHORT;
    const rl_pos *p = rl_pos_find(c, it->account, it->h.inst, side);
    if (!p && side == AT_POS_NET) { /* a side-less intent on a long/short account */
        p = rl_pos_find(c, it->account, it->h.inst, j->dir > 0 ? AT_POS_LONG : AT_POS_SHORT);
    }
    if (it->leverage.m > 0) {
        j->lever = it->leverage;
        j->lever_from = "the intent's";
    } else if (j->amend && j->base_lever.m > 0) {
        j->lever = j->base_lever;
        j->lever_from = "the order's";
    } else if (p && p->lever.m > 0) {
        j->lever = p->lever;
        j->lever_from = "the open position's";
    } else if (c->default_leverage > 0) {
        j->lever = (at_dec){c->default_leverage, 0};
        j->lever_from = "default_leverage";
    } else if (c->set.on[RL_MAX_LEVERAGE] || c->set.on[RL_MARGIN_PER_TRADE] ||
               c->set.on[RL_MARGIN_USE]) {
        return rl_reject(j, RL_MAX_LEVERAGE,
                         "leverage unknown: the intent leaves it as is (0), no open %s %s "
                         "position shows it and default_leverage is 0",
                         j->dir > 0 ? "long" : "short", j->inst);
    } else {
        j->lever = (at_dec){1, 0}; /* no rule uses it */
        j->lever_from = "";
    }
    if (!c->set.on[RL_MAX_LEVERAGE]) {
        return true;
    }
    at_dec max = rl_limit_for(&c->set.leverage, it->h.inst);
    if (j->h->dec_cmp(j->lever, max) > 0) {
        return rl_reject(j, RL_MAX_LEVERAGE, "leverage %s (%s) is over %s for %s",
                         rl_fmt(j, j->lever), j->lever_from, rl_fmt(j, max), j->inst);
    }
    if (j->in->max_lever.m > 0 && j->h->dec_cmp(j->lever, j->in->max_lever) > 0) {
        return rl_reject(j, RL_MAX_LEVERAGE, "leverage %s (%s) is over %s's maxLever %s",
                         rl_fmt(j, j->lever), j->lever_from, j->inst, rl_fmt(j, j->in->max_lever));
    }
    return true;
}

/* ------------------------------------------------------------ exposure */

/* The price an open position or order of `inst` is valued at: the mark,
 * else the last price, else `fallback` (its entry price). */
static bool value_px(const rl_judge *j, at_inst inst, at_dec fallback, at_dec *px)
{
    const rl_market *m = rl_mark_find(j->c, j->it->account, inst);
    if (m) {
        *px = m->mark;
        return true;
    }
    m = rl_last_find(j->c, j->it->account, inst);
    if (m) {
        *px = m->last;
        return true;
    }
    *px = fallback;
    return fallback.m > 0;
}

static at_dec lever_of(const rl_judge *j, at_dec own, at_inst inst)
{
    if (own.m > 0) {
        return own;
    }
    for (size_t i = 0; i < j->c->positions.n; i++) {
        const rl_pos *p = RL_AT(j->c->positions, rl_pos, i);
        if (p->inst == inst && p->lever.m > 0 && strcmp(p->account, j->it->account) == 0) {
            return p->lever;
        }
    }
    return (at_dec){j->c->default_leverage > 0 ? j->c->default_leverage : 1, 0};
}

/* What the account's positions and open entry orders (of `only`, or of
 * every instrument when 0) amount to: notional, or margin. */
static bool used(rl_judge *j, rl_rule r, at_inst only, bool margin, at_dec *out)
{
    const rl_ctx *c = j->c;
    const at_host *h = j->h;
    const char *acct = j->it->account;
    at_dec sum = {0, 0};
    for (size_t i = 0; i < c->positions.n + c->orders.n; i++) {
        bool is_pos = i < c->positions.n;
        const rl_pos *p = is_pos ? RL_AT(c->positions, rl_pos, i) : NULL;
        const rl_order *o = is_pos ? NULL : RL_AT(c->orders, rl_order, i - c->positions.n);
        at_inst inst = p ? p->inst : o->inst;
        if (strcmp(p ? p->account : o->account, acct) != 0 || (only && inst != only)) {
            continue;
        }
        at_dec q = p ? p->pos : o->final ? o->filled : o->sz, px, nv, mv = {0, 0};
        if (o && h->dec_sub(q, o->absorbed, &q) != AT_OK) {
            return overflow(j, r, "open orders");
        }
        q.m = q.m < 0 ? -q.m : q.m;
        if (q.m == 0) {
            continue;
        }
        const rl_instr *in = rl_instr_find(c, acct, inst);
        const char *name = h->inst_name(inst);
        if (!in || !value_px(j, inst, p ? p->avg_px : (at_dec){0, 0}, &px)) {
            return rl_reject(j, r, "the open %s %s of %s cannot be valued: %s unknown",
                             p ? "position" : "entry order", name ? name : "?", acct,
                             in ? "its price" : "its instrument");
        }
        if (!mul(j, r, q, in->ct_val, AT_ROUND_UP, &nv, "open positions") ||
            !mul(j, r, nv, px, AT_ROUND_UP, &nv, "open positions")) {
            return false;
        }
        if (margin && p && p->margin.m > 0) {
            mv = p->margin; /* the venue's own figure (imr, or isolated margin) */
        } else if (margin && !dvd(j, r, nv, lever_of(j, p ? p->lever : o->lever, inst), AT_ROUND_UP,
                                  &mv, "open margin")) {
            return false;
        }
        if (h->dec_add(sum, margin ? mv : nv, &sum) != AT_OK) {
            return overflow(j, r, "open positions");
        }
    }
    *out = sum;
    return true;
}

/* ------------------------------------------------------------ size */

typedef struct cap {
    at_dec sz;
    rl_rule rule;
    char why[256];
} cap;

/* The smallest cap wins (the earlier rule on a tie). */
static void consider(const rl_judge *j, cap *best, at_dec sz, rl_rule rule, const char *why)
{
    if (sz.m < 0) {
        sz.m = 0;
    }
    if (j->h->dec_cmp(sz, best->sz) < 0) {
        best->sz = sz;
        best->rule = rule;
        snprintf(best->why, sizeof(best->why), "%s", why);
    }
}

static const char *pct(rl_judge *j, at_dec part, at_dec whole)
{
    at_dec r, hundred = {100, 0};
    if (j->h->dec_mul(part, hundred, &r) != AT_OK ||
        j->h->dec_div(r, whole, 4, AT_ROUND_HALF_EVEN, &r) != AT_OK) {
        return "?";
    }
    return rl_fmt(j, r);
}

bool rl_size(rl_judge *j, at_dec *sz)
{
    rl_ctx *c = j->c;
    const at_host *h = j->h;
    const rl_setup *s = &c->set;
    const at_dec asked = *sz, lot = j->in->lot, eq = j->equity;
    char why[256];
    if (asked.m <= 0) {
        return rl_reject(j, RL_LOT_SIZE, "size %s is not above 0", rl_fmt(j, asked));
    }
    cap best = {.sz = asked, .rule = RL_NRULES};
    at_dec unit, trade, notional, margin, limit, use, room, n;
    if (!mul(j, RL_MAX_NOTIONAL, j->in->ct_val, j->px, AT_ROUND_HALF_EVEN, &unit, "a notional")) {
        return false;
    }
    if (s->on[RL_LOT_SIZE] && h->dec_round_step(asked, lot, AT_ROUND_DOWN, &n) == AT_OK &&
        h->dec_cmp(n, asked) < 0) {
        snprintf(why, sizeof(why), "%s contracts is not a multiple of lotSz %s", rl_fmt(j, asked),
                 rl_fmt(j, lot));
        consider(j, &best, n, RL_LOT_SIZE, why);
    }
    if (s->on[RL_MARGIN_PER_TRADE]) {
        /* the whole order's margin (an amend: the order as amended) */
        if (h->dec_add(asked, j->amend ? j->base : (at_dec){0, 0}, &trade) != AT_OK ||
            !mul(j, RL_MARGIN_PER_TRADE, trade, unit, AT_ROUND_HALF_EVEN, &notional,
                 "a notional") ||
            !dvd(j, RL_MARGIN_PER_TRADE, notional, j->lever, AT_ROUND_HALF_EVEN, &margin,
                 "a margin") ||
            !mul(j, RL_MARGIN_PER_TRADE, eq, s->margin_min, AT_ROUND_HALF_EVEN, &limit,
                 "a margin limit")) {
            return false;
        }
        if (!j->amend && h->dec_cmp(margin, limit) < 0) {
            return rl_reject(j, RL_MARGIN_PER_TRADE,
                             "margin %s %s (%s contracts at %s %s, leverage %s) is %s %% of "
                             "equity %s, under margin_min_pct %g",
                             rl_fmt(j, margin), j->quote, rl_fmt(j, asked), j->px_name,
                             rl_fmt(j, j->px), rl_fmt(j, j->lever), pct(j, margin, eq),
                             rl_fmt(j, eq), c->margin_min_pct);
        }
        if (!mul(j, RL_MARGIN_PER_TRADE, eq, s->margin_max, AT_ROUND_DOWN, &limit,
                 "a margin limit")) {
            return false;
        }
        if (h->dec_cmp(margin, limit) > 0) {
            if (!mul(j, RL_MARGIN_PER_TRADE, limit, j->lever, AT_ROUND_DOWN, &room, "a size") ||
                !contracts(j, RL_MARGIN_PER_TRADE, room, unit, &n)) {
                return false;
            }
            if (j->amend && h->dec_sub(n, j->base, &n) != AT_OK) {
                return overflow(j, RL_MARGIN_PER_TRADE, "a size");
            }
            snprintf(why, sizeof(why),
                     "margin %s %s (leverage %s) is %s %% of equity %s, over margin_max_pct %g",
                     rl_fmt(j, margin), j->quote, rl_fmt(j, j->lever), pct(j, margin, eq),
                     rl_fmt(j, eq), c->margin_max_pct);
            consider(j, &best, n, RL_MARGIN_PER_TRADE, why);
        }
    }
    for (int k = 0; k < 2; k++) {
        rl_rule r = k == 0 ? RL_MAX_NOTIONAL : RL_MAX_EXPOSURE;
        if (!s->on[r]) {
            continue;
        }
        at_dec mult = k == 0 ? rl_limit_for(&s->notional, j->it->h.inst) : s->exposure;
        if (!mul(j, r, eq, mult, AT_ROUND_DOWN, &limit, "a notional limit") ||
            !used(j, r, k == 0 ? j->it->h.inst : 0, false, &use) ||
            !mul(j, r, asked, unit, AT_ROUND_HALF_EVEN, &notional, "a notional")) {
            return false;
        }
        if (h->dec_sub(limit, use, &room) != AT_OK) {
            return overflow(j, r, "the room left");
        }
        if (h->dec_cmp(notional, room) > 0) {
            if (!contracts(j, r, room, unit, &n)) {
                return false;
            }
            snprintf(why, sizeof(why), "%s %s open%s + %s for this entry is over %s x equity %s",
                     rl_fmt(j, use), j->quote, k == 0 ? " on it" : " on the account",
                     rl_fmt(j, notional), rl_fmt(j, mult), rl_fmt(j, eq));
            consider(j, &best, n, r, why);
        }
    }
    if (s->on[RL_MARGIN_USE]) {
        if (!mul(j, RL_MARGIN_USE, eq, s->margin_use, AT_ROUND_DOWN, &limit, "a margin limit") ||
            !used(j, RL_MARGIN_USE, 0, true, &use) ||
            !mul(j, RL_MARGIN_USE, asked, unit, AT_ROUND_HALF_EVEN, &notional, "a notional") ||
            !dvd(j, RL_MARGIN_USE, notional, j->lever, AT_ROUND_HALF_EVEN, &margin, "a margin")) {
            return false;
        }
        if (h->dec_sub(limit, use, &room) != AT_OK) {
            return overflow(j, RL_MARGIN_USE, "the room left");
        }
        if (h->dec_cmp(margin, room) > 0) {
            if (!mul(j, RL_MARGIN_USE, room, j->lever, AT_ROUND_DOWN, &room, "a size") ||
                !contracts(j, RL_MARGIN_USE, room, unit, &n)) {
                return false;
            }
            snprintf(why, sizeof(why),
                     "margin in use %s %s + %s for this entry is over max_margin_use_pct %g of "
                     "equity %s",
                     rl_fmt(j, use), j->quote, rl_fmt(j, margin), c->max_margin_use_pct,
                     rl_fmt(j, eq));
            consider(j, &best, n, RL_MARGIN_USE, why);
        }
    }
    at_dec floor = s->on[RL_LOT_SIZE] ? j->in->min_sz : (at_dec){0, 0};
    if (!j->amend && (best.sz.m <= 0 || h->dec_cmp(best.sz, floor) < 0)) {
        if (best.rule == RL_NRULES) {
            return rl_reject(j, RL_LOT_SIZE, "%s contracts is under minSz %s", rl_fmt(j, asked),
                             rl_fmt(j, j->in->min_sz));
        }
        return rl_reject(j, best.rule, "%.190s: %s contracts left, under minSz %s", best.why,
                         rl_fmt(j, best.sz), rl_fmt(j, j->in->min_sz));
    }
    if (best.rule != RL_NRULES) {
        snprintf(j->out->rule, sizeof(j->out->rule), "%s", rl_rule_names[best.rule]);
        snprintf(j->out->reason, sizeof(j->out->reason), "%.190s: %s contracts resized to %s",
                 best.why, rl_fmt(j, asked), rl_fmt(j, best.sz));
    }
    *sz = best.sz;
    return true;
}

/* ------------------------------------------------------------ prices */

static double bps(double worse, double ref)
{
    return (worse - ref) / ref * 10000.0;
}

bool rl_slippage(rl_judge *j, at_dec sz)
{
    rl_ctx *c = j->c;
    const at_host *h = j->h;
    const at_ev_order_intent *it = j->it;
    if (!c->set.on[RL_SLIPPAGE]) {
        return true;
    }
    double max = h->dec_to_double(rl_limit_for(&c->set.slippage_bps, it->h.inst));
    bool buy = it->side == AT_SIDE_BUY;
    double sign = buy ? 1.0 : -1.0;
    const rl_market *m = rl_book_find(c, it->account, it->h.inst);
    const at_ev_book *b = m ? m->book : NULL;
    int64_t at = b ? (b->recv_us ? b->recv_us : b->h.ts_us) : 0;
    bool fresh = b && rl_fresh(j, at, c->book_max_age_ms) && b->nbids > 0 && b->nasks > 0;
    at_dec mid = {0, 0};
    if (fresh &&
        (h->dec_add(b->bids[0].px, b->asks[0].px, &mid) != AT_OK ||
         h->dec_div(mid, (at_dec){2, 0}, mid.scale + 1, AT_ROUND_HALF_EVEN, &mid) != AT_OK)) {
        return overflow(j, RL_SLIPPAGE, "the mid price");
    }
    double vmark = h->dec_to_double(j->px), vmid = h->dec_to_double(mid);
    bool market = it->ord_type == AT_ORDT_MARKET ||
                  ((it->ord_type == AT_ORDT_IOC || it->ord_type == AT_ORDT_FOK) && it->px.m <= 0);
    if (!market) {
        /* a limit's worst price is its own: at most max bps through mark and mid */
        double px = h->dec_to_double(it->px);
        double vs_mark = sign * bps(px, vmark), vs_mid = fresh ? sign * bps(px, vmid) : 0;
        if (it->px.m > 0 && (vs_mark > max || vs_mid > max)) {
            bool by_mark = vs_mark >= vs_mid;
            return rl_reject(j, RL_SLIPPAGE, "limit price %s is %.1f bps %s the %s %s (max %g)",
                             rl_fmt(j, it->px), by_mark ? vs_mark : vs_mid, buy ? "above" : "below",
                             by_mark ? j->px_name : "book's mid", rl_fmt(j, by_mark ? j->px : mid),
                             max);
        }
        return true;
    }
    if (!b) {
        return rl_reject(j, RL_SLIPPAGE, "no order book of %s: a market entry cannot be priced",
                         j->inst);
    }
    if (!fresh) {
        char age[32];
        snprintf(age, sizeof(age), "%.1f s", (double)(j->now - at) / 1e6);
        return rl_reject(j, RL_SLIPPAGE,
                         b->nbids && b->nasks
                             ? "the %s book is %s old (book_max_age %lld ms): a market entry "
                               "cannot be priced"
                             : "the %s book has an empty side (%s old, book_max_age %lld ms)",
                         j->inst, age, (long long)c->book_max_age_ms);
    }
    const at_level *lv = buy ? b->asks : b->bids;
    uint32_t nl = buy ? b->nasks : b->nbids, walked = 0;
    at_dec left = sz, cost = {0, 0}, q, v;
    for (uint32_t i = 0; i < nl && left.m > 0; i++) {
        q = dmin(j, left, lv[i].sz);
        if (h->dec_mul(q, lv[i].px, &v) != AT_OK || h->dec_add(cost, v, &cost) != AT_OK ||
            h->dec_sub(left, q, &left) != AT_OK) {
            return overflow(j, RL_SLIPPAGE, "the expected fill");
        }
        walked++;
    }
    if (left.m > 0) {
        return rl_reject(j, RL_SLIPPAGE,
                         "%s contracts are more than the %u %s levels of the %s book hold: the "
                         "fill cannot be foreseen",
                         rl_fmt(j, sz), nl, buy ? "ask" : "bid", j->inst);
    }
    at_dec avg;
    if (h->dec_div(cost, sz, j->in->lot.scale + 8, AT_ROUND_HALF_EVEN, &avg) != AT_OK) {
        return overflow(j, RL_SLIPPAGE, "the expected fill");
    }
    double fill = h->dec_to_double(avg);
    double vs_mid = sign * bps(fill, vmid), vs_mark = sign * bps(fill, vmark);
    if (vs_mid > max || vs_mark > max) {
        bool by_mark = vs_mark >= vs_mid;
        return rl_reject(
            j, RL_SLIPPAGE, "expected fill %s (%u level%s) is %.1f bps from the %s %s (max %g)",
            rl_fmt(j, avg), walked, walked == 1 ? "" : "s", by_mark ? vs_mark : vs_mid,
            by_mark ? j->px_name : "book's mid", rl_fmt(j, by_mark ? j->px : mid), max);
    }
    return true;
}

bool rl_deviation(rl_judge *j)
{
    rl_ctx *c = j->c;
    const at_ev_order_intent *it = j->it;
    if (!c->set.on[RL_INDEX_DEVIATION]) {
        return true;
    }
    const rl_market *m = rl_mark_find(c, it->account, it->h.inst);
    const rl_market *l = rl_last_find(c, it->account, it->h.inst);
    if (!m || !rl_fresh(j, m->mark_us, c->price_max_age_ms)) {
        return rl_reject(j, RL_INDEX_DEVIATION,
                         "no index or mark price of %s newer than price_max_age", j->inst);
    }
    if (!l || !rl_fresh(j, l->last_us, c->price_max_age_ms)) {
        return rl_reject(j, RL_INDEX_DEVIATION,
                         "no last price of %s newer than price_max_age (TICKER)", j->inst);
    }
    bool has_index = m->index.m > 0;
    at_dec ref = has_index ? m->index : m->mark;
    double r = j->h->dec_to_double(ref), last = j->h->dec_to_double(l->last);
    double dev = bps(last, r);
    dev = dev < 0 ? -dev : dev;
    double max = j->h->dec_to_double(rl_limit_for(&c->set.deviation_bps, it->h.inst));
    if (dev > max) {
        return rl_reject(j, RL_INDEX_DEVIATION,
                         "last price %s is %.1f bps from the %s %s%s (max %g)", rl_fmt(j, l->last),
                         dev, has_index ? "index" : "mark", rl_fmt(j, ref),
                         has_index ? "" : " (no index price on the bus)", max);
    }
    return true;
}

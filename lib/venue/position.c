/* Positions, margin, funding and liquidation (see exch.h for the money
 * model). Positions are kept per (instrument, posSide, mgnMode); one that
 * closes stays in the list at zero so pointers stay valid and its posId is
 * reused when it opens again (OKX keeps posId per instrument/side/mode). */
#include <stdlib.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- lookup */

sim_position *pos_find(const sim_acct *a, const sim_inst *in, const char *pos_side,
                       const char *mgn_mode)
{
    for (sim_position *p = a->positions; p; p = p->next) {
        if (p->inst == in && strcmp(p->pos_side, pos_side) == 0 &&
            strcmp(p->mgn_mode, mgn_mode) == 0) {
            return p;
        }
    }
    return NULL;
}

/* A new (zero) position of the order's instrument, side and margin mode,
 * linked into the account's list. */
static sim_position *pos_new(sim_exchange *x, sim_acct *a, const sim_order *o)
{
    sim_position *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->inst = o->inst;
    snprintf(p->pos_side, sizeof(p->pos_side), "%s", o->pos_side);
    snprintf(p->mgn_mode, sizeof(p->mgn_mode), "%s", o->td_mode);
    acct_new_id(a, p->pos_id);
    p->c_time_ms = x->now_ms;
    p->next = a->positions;
    a->positions = p;
    return p;
}

at_dec pos_exposure(const sim_position *p)
{
    /* long_short_mode keeps pos positive on both sides, as OKX shows it. */
    return strcmp(p->pos_side, "short") == 0 ? sim_neg(ex_abs(p->pos)) : p->pos;
}

static void pos_set_exposure(sim_position *p, at_dec e)
{
    p->pos = strcmp(p->pos_side, "net") == 0 ? e : ex_abs(e);
}

at_dec pos_closable(const sim_acct *a, const sim_inst *in, bool buy, const char *pos_side,
                    const char *td_mode)
{
    const sim_position *p = pos_find(a, in, pos_side, td_mode);
    if (!p) {
        return ex_zero();
    }
    at_dec e = pos_exposure(p);
    /* Reducing means trading against the exposure's sign. */
    if ((buy && e.m < 0) || (!buy && e.m > 0)) {
        return ex_abs(e);
    }
    return ex_zero();
}

/* ------------------------------------------------------------- fills */

/* New average price after adding `add` contracts at px to `have` at avg. */
static at_dec avg_after(at_dec have, at_dec avg, at_dec add, at_dec px, bool *err)
{
    at_dec num = sim_add(sim_mul(have, avg, AT_DEC_MAX_SCALE, err),
                         sim_mul(add, px, AT_DEC_MAX_SCALE, err), err);
    return at_dec_normalize(sim_div(num, sim_add(have, add, err), EX_PX_SCALE, err));
}

/* The fill arithmetic works on copies (the position in pf->after, the cash
 * in pf->cash): nothing of the account changes until pos_commit_fill, so an
 * overflow flagged by a sim_* helper leaves the account as it was. */

/* The closing part of a fill: PnL, isolated margin released pro rata. */
static at_dec close_part(at_dec *cash, sim_position *p, at_dec e, at_dec c, at_dec px, bool *err)
{
    const sim_inst *in = p->inst;
    at_dec diff = sim_sub(px, p->avg_px, err);
    if (e.m < 0) {
        diff = sim_neg(diff);
    }
    at_dec pnl = ex_mul3(diff, c, in->ct_val, err);
    if (strcmp(p->mgn_mode, "isolated") == 0) {
        at_dec rel = p->margin;
        if (at_dec_cmp(c, ex_abs(e)) < 0) {
            rel = sim_div(sim_mul(p->margin, c, AT_DEC_MAX_SCALE, err), ex_abs(e), EX_MONEY_SCALE,
                          err);
        }
        p->margin = sim_sub(p->margin, rel, err);
        *cash = sim_add(*cash, rel, err);
    }
    at_dec left = sim_sub(ex_abs(e), c, err);
    pos_set_exposure(p, e.m < 0 ? sim_neg(left) : left);
    return pnl;
}

/* The opening part: average price, isolated margin moved out of cash. */
static void open_part(at_dec *cash, sim_position *p, at_dec e, at_dec add, bool long_dir, at_dec px,
                      int lever, bool *err)
{
    if (e.m == 0) {
        /* A position coming back from zero starts its own history. */
        p->avg_px = px;
        p->realized_pnl = p->fee = p->funding_fee = p->margin = ex_zero();
    } else {
        p->avg_px = avg_after(ex_abs(e), p->avg_px, add, px, err);
    }
    if (strcmp(p->mgn_mode, "isolated") == 0) {
        at_dec m =
            sim_div(ex_mul3(add, p->inst->ct_val, px, err), sim_dec_i(lever), EX_MONEY_SCALE, err);
        p->margin = sim_add(p->margin, m, err);
        *cash = sim_sub(*cash, m, err);
    }
    at_dec mag = sim_add(ex_abs(e), add, err);
    pos_set_exposure(p, long_dir ? mag : sim_neg(mag));
}

bool pos_plan_fill(const sim_exchange *x, const sim_acct *a, const sim_order *o, at_dec px,
                   at_dec sz, at_dec fee, pos_fill *pf)
{
    bool err = false;
    memset(pf, 0, sizeof(*pf));
    pf->target = pos_find(a, o->inst, o->pos_side, o->td_mode);
    sim_position *p = &pf->after;
    if (pf->target) {
        *p = *pf->target;
    } else {
        p->inst = o->inst;
        snprintf(p->pos_side, sizeof(p->pos_side), "%s", o->pos_side);
        snprintf(p->mgn_mode, sizeof(p->mgn_mode), "%s", o->td_mode);
    }
    pf->cash = a->cash;
    bool was_open = p->pos.m != 0;
    if (!was_open) {
        p->c_time_ms = x->now_ms;
    }
    at_dec e = pos_exposure(p), pnl = ex_zero(), rest = sz;
    if (e.m != 0 && (e.m > 0) != o->buy) {
        at_dec c = ex_min(sz, ex_abs(e));
        pnl = close_part(&pf->cash, p, e, c, px, &err);
        rest = sim_sub(sz, c, &err);
        e = pos_exposure(p);
    }
    if (rest.m > 0) {
        /* Net mode flips here; long_short orders never get this far when
         * closing (match clamps them to the position). */
        open_part(&pf->cash, p, e, rest, o->buy, px, o->lever, &err);
        p->lever = o->lever;
    }
    pf->cash = sim_add(pf->cash, sim_add(pnl, fee, &err), &err);
    p->realized_pnl = sim_add(p->realized_pnl, pnl, &err);
    p->fee = sim_add(p->fee, fee, &err);
    p->u_time_ms = x->now_ms;
    if (p->pos.m == 0 && strcmp(p->mgn_mode, "isolated") == 0 && p->margin.m != 0) {
        /* Rounding dust of pro-rata releases goes back to cash. */
        pf->cash = sim_add(pf->cash, p->margin, &err);
        p->margin = ex_zero();
    }
    pf->closed = was_open && p->pos.m == 0;
    pf->pnl = pnl;
    return !err;
}

sim_position *pos_commit_fill(sim_exchange *x, sim_acct *a, const sim_order *o, const pos_fill *pf)
{
    sim_position *p = pf->target ? pf->target : pos_new(x, a, o);
    if (!p) {
        return NULL;
    }
    /* Identity and list fields stay; the numbers become the planned ones. */
    sim_position keep = *p;
    *p = pf->after;
    p->next = keep.next;
    p->pushed_open = keep.pushed_open;
    memcpy(p->pos_id, keep.pos_id, sizeof(p->pos_id));
    a->cash = pf->cash;
    return p;
}

/* ------------------------------------------------------------- margin */

at_dec order_margin(const sim_acct *a, const sim_order *o, bool *err)
{
    at_dec open = order_remaining(o);
    if (o->reduce_only) {
        return ex_zero();
    }
    at_dec closable = pos_closable(a, o->inst, o->buy, o->pos_side, o->td_mode);
    open = sim_sub(open, ex_min(open, closable), err);
    if (open.m <= 0 || o->lever <= 0) {
        return ex_zero();
    }
    return sim_div(ex_mul3(open, o->inst->ct_val, o->px, err), sim_dec_i(o->lever), EX_MONEY_SCALE,
                   err);
}

typedef struct pos_metrics {
    at_dec notional, upl, upl_last, imr, mmr;
} pos_metrics;

static void pos_metrics_of(const sim_exchange *x, const sim_position *p, pos_metrics *m, bool *err)
{
    const sim_inst *in = p->inst;
    at_dec e = pos_exposure(p), mark = ex_mark(in);
    m->notional = ex_mul3(ex_abs(e), in->ct_val, mark, err);
    m->upl = ex_mul3(sim_sub(mark, p->avg_px, err), e, in->ct_val, err);
    m->upl_last = ex_mul3(sim_sub(in->last, p->avg_px, err), e, in->ct_val, err);
    int lever = p->lever > 0 ? p->lever : 1;
    m->imr = sim_div(m->notional, sim_dec_i(lever), EX_MONEY_SCALE, err);
    m->mmr = sim_mul(m->notional, ex_mmr_rate(x), EX_MONEY_SCALE, err);
}

void ex_totals_of(const sim_exchange *x, const sim_acct *a, ex_totals *t)
{
    memset(t, 0, sizeof(*t));
    bool *err = &t->err;
    t->cash = a->cash;
    for (const sim_position *p = a->positions; p; p = p->next) {
        if (p->pos.m == 0) {
            continue;
        }
        pos_metrics m;
        pos_metrics_of(x, p, &m, err);
        t->upl = sim_add(t->upl, m.upl, err);
        t->upl_last = sim_add(t->upl_last, m.upl_last, err);
        t->notional = sim_add(t->notional, m.notional, err);
        if (strcmp(p->mgn_mode, "isolated") == 0) {
            t->iso_margin = sim_add(t->iso_margin, p->margin, err);
            t->iso_upl = sim_add(t->iso_upl, m.upl, err);
            t->iso_mmr = sim_add(t->iso_mmr, m.mmr, err);
        } else {
            t->ncross++;
            t->cross_upl = sim_add(t->cross_upl, m.upl, err);
            t->cross_imr = sim_add(t->cross_imr, m.imr, err);
            t->cross_mmr = sim_add(t->cross_mmr, m.mmr, err);
        }
    }
    for (const sim_order *o = a->orders; o; o = o->next) {
        if (order_is_live(o)) {
            t->ord_frozen = sim_add(t->ord_frozen, order_margin(a, o, err), err);
        }
    }
    t->cross_eq = sim_add(t->cash, t->cross_upl, err);
    t->eq = sim_add(sim_add(t->cash, t->iso_margin, err), t->upl, err);
    t->avail_eq = sim_sub(sim_sub(t->cross_eq, t->cross_imr, err), t->ord_frozen, err);
}

/* ------------------------------------------------------------- display */

/* Simplified liquidation price: the mark price at which the position's
 * collateral equals its maintenance margin, other prices held constant.
 * Collateral is the isolated margin, or for cross the cross equity minus
 * this position's upl and the other cross positions' mmr. Long:
 *   C + (P - avg) q c = q c P r  =>  P = (avg q c - C) / (q c (1 - r))
 * short: C + (avg - P) q c = q c P r  =>  P = (avg q c + C) / (q c (1 + r)).
 * "" when no positive price liquidates it. */
static json_t *liq_px_json(const sim_exchange *x, const sim_position *p, const pos_metrics *m,
                           const ex_totals *t)
{
    bool err = false;
    const sim_inst *in = p->inst;
    at_dec e = pos_exposure(p), r = ex_mmr_rate(x), one = sim_dec_i(1);
    at_dec coll = p->margin;
    if (strcmp(p->mgn_mode, "isolated") != 0) {
        coll =
            sim_sub(sim_sub(t->cross_eq, m->upl, &err), sim_sub(t->cross_mmr, m->mmr, &err), &err);
    }
    at_dec qc = sim_mul(ex_abs(e), in->ct_val, AT_DEC_MAX_SCALE, &err);
    at_dec base = sim_mul(p->avg_px, qc, EX_MONEY_SCALE, &err);
    at_dec num = e.m > 0 ? sim_sub(base, coll, &err) : sim_add(base, coll, &err);
    at_dec den = sim_mul(qc, e.m > 0 ? sim_sub(one, r, &err) : sim_add(one, r, &err),
                         AT_DEC_MAX_SCALE, &err);
    at_dec px = sim_div(num, den, in->tick_sz.scale + 2, &err);
    if (err || px.m <= 0) {
        return json_string("");
    }
    return sim_dec_json(px);
}

static json_t *ratio_json(at_dec num, at_dec den)
{
    bool err = false;
    if (den.m == 0) {
        return json_string("");
    }
    at_dec v = sim_div(num, den, EX_MONEY_SCALE, &err);
    return err ? json_string("") : sim_dec_json(v);
}

static json_t *close_algo_json(const sim_acct *a, const sim_position *p)
{
    json_t *arr = json_array();
    for (const sim_algo *g = a->algos; g; g = g->next) {
        if (g->state != SIM_ALGO_LIVE || !g->armed || !g->close_fraction || g->inst != p->inst ||
            strcmp(g->pos_side, p->pos_side) != 0) {
            continue;
        }
        json_array_append_new(
            arr,
            json_pack("{s:s, s:o, s:s, s:o, s:s, s:s}", "algoId", g->algo_id, "slTriggerPx",
                      g->has_sl ? sim_dec_json(g->sl_trigger_px) : json_string(""),
                      "slTriggerPxType", g->has_sl ? g->sl_px_type : "", "tpTriggerPx",
                      g->has_tp ? sim_dec_json(g->tp_trigger_px) : json_string(""),
                      "tpTriggerPxType", g->has_tp ? g->tp_px_type : "", "closeFraction", "1"));
    }
    return arr;
}

json_t *pos_json(const sim_exchange *x, const sim_acct *a, const sim_position *p,
                 const ex_totals *t)
{
    bool err = false;
    pos_metrics m;
    pos_metrics_of(x, p, &m, &err);
    const sim_inst *in = p->inst;
    bool iso = strcmp(p->mgn_mode, "isolated") == 0;
    /* Initial margin at the entry price: OKX's uplRatio denominator. */
    at_dec imr0 = sim_div(ex_mul3(ex_abs(p->pos), in->ct_val, p->avg_px, &err),
                          sim_dec_i(p->lever > 0 ? p->lever : 1), EX_MONEY_SCALE, &err);
    at_dec realized = sim_add(sim_add(p->realized_pnl, p->fee, &err), p->funding_fee, &err);
    at_dec coll = iso ? sim_add(p->margin, m.upl, &err) : t->cross_eq;
    at_dec mmr_all = iso ? m.mmr : t->cross_mmr;
    char lever[16];
    snprintf(lever, sizeof(lever), "%d", p->lever);
    json_t *o = json_object();
    json_object_set_new(o, "adl", json_string("1"));
    json_object_set_new(o, "availPos", sim_dec_json(ex_abs(p->pos)));
    json_object_set_new(o, "avgPx", sim_dec_json(p->avg_px));
    json_object_set_new(o, "baseBal", json_string(""));
    json_object_set_new(o, "baseBorrowed", json_string(""));
    json_object_set_new(o, "baseInterest", json_string(""));
    json_object_set_new(o, "bePx", json_string(""));
    json_object_set_new(o, "bizRefId", json_string(""));
    json_object_set_new(o, "bizRefType", json_string(""));
    json_object_set_new(o, "cTime", sim_ms_json(p->c_time_ms));
    json_object_set_new(o, "ccy", json_string(in->settle_ccy));
    json_object_set_new(o, "clSpotInUseAmt", json_string(""));
    json_object_set_new(o, "closeOrderAlgo", close_algo_json(a, p));
    json_object_set_new(o, "deltaBS", json_string(""));
    json_object_set_new(o, "deltaPA", json_string(""));
    json_object_set_new(o, "fee", sim_dec_json(p->fee));
    json_object_set_new(o, "fundingFee", sim_dec_json(p->funding_fee));
    json_object_set_new(o, "gammaBS", json_string(""));
    json_object_set_new(o, "gammaPA", json_string(""));
    json_object_set_new(o, "idxPx", sim_dec_json(in->index));
    json_object_set_new(o, "imr", iso ? json_string("") : sim_dec_json(m.imr));
    json_object_set_new(o, "instId", json_string(in->inst_id));
    json_object_set_new(o, "instType", json_string("SWAP"));
    json_object_set_new(o, "interest", json_string(""));
    json_object_set_new(o, "last", sim_dec_json(in->last));
    json_object_set_new(o, "lever", json_string(lever));
    json_object_set_new(o, "liab", json_string(""));
    json_object_set_new(o, "liabCcy", json_string(""));
    json_object_set_new(o, "liqPenalty", json_string("0"));
    json_object_set_new(o, "liqPx", liq_px_json(x, p, &m, t));
    json_object_set_new(o, "margin", iso ? sim_dec_json(p->margin) : json_string(""));
    json_object_set_new(o, "markPx", sim_dec_json(ex_mark(in)));
    json_object_set_new(o, "maxSpotInUseAmt", json_string(""));
    json_object_set_new(o, "mgnMode", json_string(p->mgn_mode));
    json_object_set_new(o, "mgnRatio", ratio_json(coll, mmr_all));
    json_object_set_new(o, "mmr", sim_dec_json(m.mmr));
    json_object_set_new(o, "notionalUsd", sim_dec_json(m.notional));
    json_object_set_new(o, "optVal", json_string(""));
    json_object_set_new(o, "pTime", sim_ms_json(x->now_ms));
    json_object_set_new(o, "pendingCloseOrdLiabVal", json_string(""));
    json_object_set_new(o, "pnl", sim_dec_json(p->realized_pnl));
    json_object_set_new(o, "pos", sim_dec_json(p->pos));
    json_object_set_new(o, "posCcy", json_string(""));
    json_object_set_new(o, "posId", json_string(p->pos_id));
    json_object_set_new(o, "posSide", json_string(p->pos_side));
    json_object_set_new(o, "quoteBal", json_string(""));
    json_object_set_new(o, "quoteBorrowed", json_string(""));
    json_object_set_new(o, "quoteInterest", json_string(""));
    json_object_set_new(o, "realizedPnl", sim_dec_json(realized));
    json_object_set_new(o, "spotInUseAmt", json_string(""));
    json_object_set_new(o, "spotInUseCcy", json_string(""));
    json_object_set_new(o, "thetaBS", json_string(""));
    json_object_set_new(o, "thetaPA", json_string(""));
    json_object_set_new(o, "tradeId", sim_ms_json(p->trade_id));
    json_object_set_new(o, "uTime", sim_ms_json(p->u_time_ms));
    json_object_set_new(o, "upl", sim_dec_json(m.upl));
    json_object_set_new(o, "uplLastPx", sim_dec_json(m.upl_last));
    json_object_set_new(o, "uplRatio", ratio_json(m.upl, imr0));
    json_object_set_new(o, "uplRatioLastPx", ratio_json(m.upl_last, imr0));
    json_object_set_new(o, "usdPx", json_string(""));
    json_object_set_new(o, "vegaBS", json_string(""));
    json_object_set_new(o, "vegaPA", json_string(""));
    return o;
}

/* ------------------------------------------------------------- funding */

/* Book one instrument's settlement into every account holding it:
 * fee = -exposure x ctVal x markPx x rate (longs pay a positive rate, shorts
 * receive it). Cross: cash; isolated: the position's margin (OKX takes
 * funding from the isolated margin). */
static void settle_inst(sim_exchange *x, sim_inst *in, at_dec rate)
{
    for (sim_acct *a = x->accts; a; a = a->next) {
        bool touched = false;
        for (sim_position *p = a->positions; p; p = p->next) {
            if (p->inst != in || p->pos.m == 0) {
                continue;
            }
            bool err = false; /* per position: one overflow must not skip the others */
            at_dec fee = sim_neg(ex_mul3(pos_exposure(p), in->ct_val,
                                         sim_mul(ex_mark(in), rate, AT_DEC_MAX_SCALE, &err), &err));
            bool iso = strcmp(p->mgn_mode, "isolated") == 0;
            at_dec bal = sim_add(iso ? p->margin : a->cash, fee, &err);
            at_dec paid = sim_add(p->funding_fee, fee, &err);
            if (err) {
                continue; /* nothing booked rather than a wrong amount */
            }
            if (iso) {
                p->margin = bal;
            } else {
                a->cash = bal;
            }
            p->funding_fee = paid;
            p->u_time_ms = x->now_ms;
            touched = true;
        }
        if (touched) {
            ex_push_account(x, a);
        }
    }
}

void pos_settle_funding(sim_exchange *x)
{
    size_t n = market_ninst(x->market);
    for (size_t i = 0; i < n && i < SIM_MAX_INST; i++) {
        sim_inst *in = market_inst(x->market, i);
        if (in->funding_time_ms == 0 || ex_mark(in).m <= 0) {
            /* No schedule or no mark yet (the paper venue before its first
             * FUNDING and MARK events): what was seen is kept, nothing is
             * booked against a price of zero. */
            continue;
        }
        int64_t seen = x->funding_seen_ms[i];
        at_dec rate = x->funding_rate_seen[i];
        x->funding_seen_ms[i] = in->funding_time_ms;
        x->funding_rate_seen[i] = in->funding_rate;
        /* The first sighting only records the schedule; a move forward means
         * the settlement at `seen` has passed. The rate booked is the one that
         * was in force for that period (seen with it), not the next period's
         * that the market shows now. */
        if (seen != 0 && in->funding_time_ms > seen) {
            settle_inst(x, in, rate);
        }
    }
}

/* ------------------------------------------------------------- liquidation */

/* Close a whole position at the mark price with a system order flagged
 * category "full_liquidation" (taker fee, no book liquidity used). Live
 * orders on the instrument are canceled first, as OKX does. */
static void liquidate(sim_exchange *x, sim_acct *a, sim_position *p)
{
    at_dec e = pos_exposure(p);
    sim_order want;
    memset(&want, 0, sizeof(want));
    want.inst = p->inst;
    snprintf(want.ord_type, sizeof(want.ord_type), "market");
    snprintf(want.pos_side, sizeof(want.pos_side), "%s", p->pos_side);
    snprintf(want.td_mode, sizeof(want.td_mode), "%s", p->mgn_mode);
    snprintf(want.category, sizeof(want.category), "full_liquidation");
    want.buy = e.m < 0;
    want.sz = ex_abs(e);
    want.reduce_only = true;
    want.lever = p->lever;
    if (!match_fill_fits(x, a, &want, ex_mark(p->inst), want.sz, EX_LIQUIDATION)) {
        return; /* out of exact range: nothing is booked, rather than a wrong amount */
    }
    for (sim_order *o = a->orders; o; o = o->next) {
        if (order_is_live(o) && o->inst == p->inst) {
            order_cancel_now(x, a, o, "0");
        }
    }
    sim_order *o = order_alloc(x, a, p->inst);
    if (!o) {
        return;
    }
    /* The allocated id, times and link; the rest as planned. */
    want.next = o->next;
    memcpy(want.ord_id, o->ord_id, sizeof(want.ord_id));
    want.state = o->state;
    want.c_time_ms = o->c_time_ms;
    want.u_time_ms = o->u_time_ms;
    *o = want;
    if (match_fill(x, a, o, ex_mark(p->inst), o->sz, EX_LIQUIDATION) != AT_OK) {
        order_cancel_now(x, a, o, "0");
    }
}

/* Every open position's instrument has a price (the paper venue starts
 * before its market data: a missing mark is not a price of zero). */
static bool priced(const sim_acct *a)
{
    for (const sim_position *p = a->positions; p; p = p->next) {
        if (p->pos.m != 0 && ex_mark(p->inst).m <= 0) {
            return false;
        }
    }
    return true;
}

void pos_liquidate(sim_exchange *x)
{
    for (sim_acct *a = x->accts; a; a = a->next) {
        ex_totals t;
        ex_totals_of(x, a, &t);
        if (t.err) {
            continue;
        }
        if (!priced(a)) {
            continue; /* no price yet for a position (a restart): no verdict */
        }
        bool cross_gone = t.ncross > 0 && at_dec_cmp(t.cross_eq, t.cross_mmr) < 0;
        for (sim_position *p = a->positions; p; p = p->next) {
            if (p->pos.m == 0) {
                continue;
            }
            bool iso = strcmp(p->mgn_mode, "isolated") == 0;
            if (iso) {
                bool err = false;
                pos_metrics m;
                pos_metrics_of(x, p, &m, &err);
                if (err || at_dec_cmp(sim_add(p->margin, m.upl, &err), m.mmr) >= 0) {
                    continue;
                }
            } else if (!cross_gone) {
                continue;
            }
            liquidate(x, a, p);
        }
    }
}

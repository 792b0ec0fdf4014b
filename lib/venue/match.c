/* Matching against the synthetic book, fills and fees, the private pushes,
 * and exchange_tick.
 *
 * The book is the market's: a taker walks the opposite side best first,
 * each level filling at its own price (never beyond a limit price), and
 * market_on_fill takes the consumed liquidity out (it also prints the public
 * trade whose id becomes the fill's tradeId). Resting orders fill as makers
 * at their own price when a later book crosses them, up to the size of the
 * crossing levels. Post-only orders that would cross are accepted and then
 * canceled (cancelSource "31"), as OKX does; IOC and market remainders are
 * canceled with "14", an unfillable FOK with "13". */
#include <stdlib.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- pushes */

void ex_push_order(sim_exchange *x, sim_acct *a, const sim_order *o, const sim_fill *f,
                   const char *req_id)
{
    if (!x->push.order) {
        return;
    }
    bool err = false;
    json_t *j = order_json(o);
    at_dec ref = o->px.m > 0 ? o->px : o->avg_px;
    json_object_set_new(j, "notionalUsd", sim_dec_json(ex_mul3(o->sz, o->inst->ct_val, ref, &err)));
    json_object_set_new(j, "fillFee", f ? sim_dec_json(f->fee) : json_string("0"));
    json_object_set_new(j, "fillFeeCcy", json_string(f ? "USDT" : ""));
    json_object_set_new(j, "fillPnl", f ? sim_dec_json(f->fill_pnl) : json_string("0"));
    json_object_set_new(j, "execType", json_string(f ? f->exec_type : ""));
    json_object_set_new(j, "fillNotionalUsd",
                        f ? sim_dec_json(ex_mul3(f->fill_sz, o->inst->ct_val, f->fill_px, &err))
                          : json_string(""));
    json_object_set_new(j, "fillMarkPx", f ? sim_dec_json(f->fill_mark_px) : json_string(""));
    json_object_set_new(j, "amendResult", json_string(req_id ? "0" : ""));
    json_object_set_new(j, "reqId", json_string(req_id ? req_id : ""));
    json_object_set_new(j, "code", json_string("0"));
    json_object_set_new(j, "msg", json_string(""));
    x->push.order(x->push.arg, a, o, j);
    json_decref(j);
}

void ex_push_account(sim_exchange *x, sim_acct *a)
{
    if (x->push.position) {
        /* Open positions, plus those closed since the last push with pos "0"
         * (OKX pushes a close once so clients can drop the position). */
        json_t *j = acct_positions_json(x, a, NULL);
        ex_totals t;
        ex_totals_of(x, a, &t);
        for (sim_position *p = a->positions; p; p = p->next) {
            if (p->pos.m == 0 && p->pushed_open) {
                json_array_append_new(j, pos_json(x, a, p, &t));
            }
            p->pushed_open = p->pos.m != 0;
        }
        x->push.position(x->push.arg, a, j);
        json_decref(j);
    }
    if (x->push.account) {
        json_t *j = acct_balance_json(x, a);
        x->push.account(x->push.arg, a, j);
        json_decref(j);
    }
}

/* ------------------------------------------------------------- fills */

static sim_fill *record_fill(sim_exchange *x, sim_acct *a, const sim_order *o, at_dec px, at_dec sz,
                             at_dec fee, at_dec rate, at_dec pnl, int64_t trade_id)
{
    sim_fill *f = calloc(1, sizeof(*f));
    if (!f) {
        return NULL;
    }
    acct_new_id(a, f->bill_id);
    snprintf(f->ord_id, sizeof(f->ord_id), "%s", o->ord_id);
    snprintf(f->cl_ord_id, sizeof(f->cl_ord_id), "%s", o->cl_ord_id);
    snprintf(f->tag, sizeof(f->tag), "%s", o->tag);
    snprintf(f->pos_side, sizeof(f->pos_side), "%s", o->pos_side);
    snprintf(f->exec_type, sizeof(f->exec_type), "%s", o->exec_type);
    f->inst = o->inst;
    f->buy = o->buy;
    f->fill_px = px;
    f->fill_sz = sz;
    f->fee = fee;
    f->fee_rate = rate;
    f->fill_pnl = pnl;
    f->fill_mark_px = ex_mark(o->inst);
    f->trade_id = trade_id;
    f->ts_ms = x->now_ms;
    f->next = a->fills;
    a->fills = f;
    return f;
}

/* The public trade's id when the fill went through the market, else a
 * fresh id (liquidations fill at mark, outside the book). */
static int64_t take_liquidity(sim_exchange *x, sim_acct *a, sim_order *o, at_dec px, at_dec sz,
                              ex_fill_kind kind)
{
    sim_inst *in = o->inst;
    if (kind != EX_LIQUIDATION) {
        market_on_fill(x->market, in, o->buy, px, sz, x->now_ms);
        if (in->ntrades > 0) {
            return in->trades[in->trade_head].id;
        }
    }
    char id[SIM_ID_LEN];
    acct_new_id(a, id);
    return strtoll(id, NULL, 10);
}

static void order_book_fill(sim_exchange *x, sim_order *o, at_dec px, at_dec sz, at_dec fee,
                            at_dec pnl, ex_fill_kind kind, int64_t trade_id, bool *err)
{
    at_dec acc = sim_add(o->acc_fill_sz, sz, err);
    at_dec num = sim_add(sim_mul(o->avg_px, o->acc_fill_sz, AT_DEC_MAX_SCALE, err),
                         sim_mul(px, sz, AT_DEC_MAX_SCALE, err), err);
    o->avg_px = at_dec_normalize(sim_div(num, acc, EX_PX_SCALE, err));
    o->acc_fill_sz = acc;
    o->fill_px = px;
    o->fill_sz = sz;
    o->fill_time_ms = x->now_ms;
    o->trade_id = trade_id;
    snprintf(o->exec_type, sizeof(o->exec_type), "%s", kind == EX_MAKER ? "M" : "T");
    o->fee = sim_add(o->fee, fee, err);
    o->pnl = sim_add(o->pnl, pnl, err);
    o->state = at_dec_cmp(acc, o->sz) >= 0 ? SIM_FILLED : SIM_PARTIALLY_FILLED;
    o->u_time_ms = x->now_ms;
}

void match_fill(sim_exchange *x, sim_acct *a, sim_order *o, at_dec px, at_dec sz, ex_fill_kind kind)
{
    bool err = false, closed = false;
    sim_inst *in = o->inst;
    at_dec rate = kind == EX_MAKER ? a->maker_fee_rate : a->taker_fee_rate;
    at_dec notional =
        sim_mul(sim_mul(sz, in->ct_val, AT_DEC_MAX_SCALE, &err), px, AT_DEC_MAX_SCALE, &err);
    /* fee = -(fillSz x ctVal x fillPx x rate), 8 decimals, negative = paid */
    at_dec fee = sim_neg(sim_mul(notional, rate, EX_MONEY_SCALE, &err));
    at_dec pnl = pos_apply_fill(x, a, o, px, sz, fee, &closed, &err);
    int64_t trade_id = take_liquidity(x, a, o, px, sz, kind);
    order_book_fill(x, o, px, sz, fee, pnl, kind, trade_id, &err);
    sim_position *p = pos_find(a, in, o->pos_side, o->td_mode);
    if (p) {
        p->trade_id = trade_id;
    }
    const sim_fill *f = record_fill(x, a, o, px, sz, fee, rate, pnl, trade_id);
    ex_push_order(x, a, o, f, NULL);
    algo_parent_update(x, a, o);
    if (closed) {
        algo_position_closed(x, a, in, o->pos_side);
    }
    ex_push_account(x, a);
}

/* ------------------------------------------------------------- taking */

static const sim_level *opposite(const sim_order *o, int *n)
{
    const sim_book *b = &o->inst->book;
    *n = o->buy ? b->nasks : b->nbids;
    return o->buy ? b->asks : b->bids;
}

/* A level the order may trade with: any for market types, else at or
 * better than the limit. */
static bool level_ok(const sim_order *o, at_dec lvl_px)
{
    if (o->px.m <= 0) {
        return true;
    }
    int c = at_dec_cmp(lvl_px, o->px);
    return o->buy ? c <= 0 : c >= 0;
}

static bool crosses(const sim_order *o)
{
    int n;
    const sim_level *lv = opposite(o, &n);
    return n > 0 && level_ok(o, lv[0].px);
}

/* What may still fill: the remainder, capped by the position for closing
 * orders (a resting close must never flip or exceed the position). */
static at_dec fill_cap(const sim_acct *a, const sim_order *o)
{
    at_dec rem = order_remaining(o);
    if (!o->reduce_only) {
        return rem;
    }
    return ex_min(rem, pos_closable(a, o->inst, o->buy, o->pos_side, o->td_mode));
}

static at_dec crossing_size(const sim_order *o)
{
    bool err = false;
    int n;
    const sim_level *lv = opposite(o, &n);
    at_dec total = ex_zero();
    for (int i = 0; i < n && level_ok(o, lv[i].px); i++) {
        total = sim_add(total, lv[i].sz, &err);
    }
    return err ? ex_zero() : total;
}

/* Walk the crossing levels as taker. The levels are copied first: every
 * fill republishes the market's book. */
static void take(sim_exchange *x, sim_acct *a, sim_order *o)
{
    int n;
    const sim_level *src = opposite(o, &n);
    sim_level *lv = malloc(sizeof(*lv) * (size_t)(n > 0 ? n : 1));
    if (!lv) {
        return;
    }
    memcpy(lv, src, sizeof(*lv) * (size_t)n);
    for (int i = 0; i < n && level_ok(o, lv[i].px); i++) {
        at_dec cap = fill_cap(a, o);
        if (cap.m <= 0) {
            break;
        }
        at_dec q = ex_min(lv[i].sz, cap);
        if (q.m > 0) {
            match_fill(x, a, o, lv[i].px, q, EX_TAKER);
        }
    }
    free(lv);
}

static bool is_type(const sim_order *o, const char *t)
{
    return strcmp(o->ord_type, t) == 0;
}

void match_new(sim_exchange *x, sim_acct *a, sim_order *o)
{
    if (is_type(o, "post_only")) {
        if (crosses(o)) {
            order_cancel_now(x, a, o, "31");
        }
        return;
    }
    if (is_type(o, "fok") && at_dec_cmp(crossing_size(o), order_remaining(o)) < 0) {
        order_cancel_now(x, a, o, "13");
        return;
    }
    take(x, a, o);
    if (!order_is_live(o)) {
        return;
    }
    if (!is_type(o, "limit")) {
        /* market, optimal_limit_ioc, ioc: the rest does not rest */
        order_cancel_now(x, a, o, "14");
    } else if (o->reduce_only && fill_cap(a, o).m == 0) {
        order_cancel_now(x, a, o, "22");
    }
}

void match_amended(sim_exchange *x, sim_acct *a, sim_order *o)
{
    if (!order_is_live(o) || !crosses(o)) {
        return;
    }
    if (is_type(o, "post_only")) {
        order_cancel_now(x, a, o, "31");
        return;
    }
    take(x, a, o);
}

/* ------------------------------------------------------------- resting */

/* A resting limit crossed by the current book fills as maker at its own
 * price, up to the crossing levels' size. */
static void rest_fill(sim_exchange *x, sim_acct *a, sim_order *o)
{
    if (!order_is_live(o) || (!is_type(o, "limit") && !is_type(o, "post_only"))) {
        return;
    }
    at_dec avail = crossing_size(o);
    if (avail.m <= 0) {
        return;
    }
    at_dec cap = fill_cap(a, o);
    if (cap.m <= 0) {
        order_cancel_now(x, a, o, "22");
        return;
    }
    match_fill(x, a, o, o->px, ex_min(avail, cap), EX_MAKER);
}

static void match_resting(sim_exchange *x)
{
    for (sim_acct *a = x->accts; a; a = a->next) {
        size_t n = 0;
        for (sim_order *o = a->orders; o; o = o->next) {
            n += order_is_live(o);
        }
        if (n == 0) {
            continue;
        }
        sim_order **live = malloc(sizeof(*live) * n);
        if (!live) {
            continue;
        }
        size_t k = n;
        for (sim_order *o = a->orders; o && k > 0; o = o->next) {
            if (order_is_live(o)) {
                live[--k] = o; /* oldest first: time priority */
            }
        }
        for (size_t i = 0; i < n; i++) {
            rest_fill(x, a, live[i]);
        }
        free(live);
    }
}

void exchange_tick(sim_exchange *x)
{
    match_resting(x);
    algo_tick(x);
    pos_settle_funding(x);
    pos_liquidate(x);
}

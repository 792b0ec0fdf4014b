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

/* The fill record (not linked yet: allocated before anything is booked). */
static sim_fill *new_fill(sim_exchange *x, const sim_order *o, at_dec px, at_dec sz, at_dec fee,
                          at_dec rate, at_dec pnl)
{
    sim_fill *f = calloc(1, sizeof(*f));
    if (!f) {
        return NULL;
    }
    snprintf(f->ord_id, sizeof(f->ord_id), "%s", o->ord_id);
    snprintf(f->cl_ord_id, sizeof(f->cl_ord_id), "%s", o->cl_ord_id);
    snprintf(f->tag, sizeof(f->tag), "%s", o->tag);
    snprintf(f->pos_side, sizeof(f->pos_side), "%s", o->pos_side);
    f->inst = o->inst;
    f->buy = o->buy;
    f->fill_px = px;
    f->fill_sz = sz;
    f->fee = fee;
    f->fee_rate = rate;
    f->fill_pnl = pnl;
    f->fill_mark_px = ex_mark(o->inst);
    f->ts_ms = x->now_ms;
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

/* Everything one fill changes, computed on copies first. */
typedef struct fill_plan {
    at_dec rate, fee;
    pos_fill pos;
    at_dec acc, avg_px, ord_fee, ord_pnl; /* the order after the fill */
} fill_plan;

static bool plan_fill(const sim_exchange *x, const sim_acct *a, const sim_order *o, at_dec px,
                      at_dec sz, ex_fill_kind kind, fill_plan *fp)
{
    bool err = false;
    const sim_inst *in = o->inst;
    fp->rate = kind == EX_MAKER ? a->maker_fee_rate : a->taker_fee_rate;
    at_dec notional =
        sim_mul(sim_mul(sz, in->ct_val, AT_DEC_MAX_SCALE, &err), px, AT_DEC_MAX_SCALE, &err);
    /* fee = -(fillSz x ctVal x fillPx x rate), 8 decimals, negative = paid */
    fp->fee = sim_neg(sim_mul(notional, fp->rate, EX_MONEY_SCALE, &err));
    if (err || !pos_plan_fill(x, a, o, px, sz, fp->fee, &fp->pos)) {
        return false;
    }
    fp->acc = sim_add(o->acc_fill_sz, sz, &err);
    at_dec num = sim_add(sim_mul(o->avg_px, o->acc_fill_sz, AT_DEC_MAX_SCALE, &err),
                         sim_mul(px, sz, AT_DEC_MAX_SCALE, &err), &err);
    fp->avg_px = at_dec_normalize(sim_div(num, fp->acc, EX_PX_SCALE, &err));
    fp->ord_fee = sim_add(o->fee, fp->fee, &err);
    fp->ord_pnl = sim_add(o->pnl, fp->pos.pnl, &err);
    return !err;
}

bool match_fill_fits(const sim_exchange *x, const sim_acct *a, const sim_order *o, at_dec px,
                     at_dec sz, ex_fill_kind kind)
{
    fill_plan fp;
    return plan_fill(x, a, o, px, sz, kind, &fp);
}

static int refuse_fill(sim_order *o, at_dec px, at_dec sz, int rc)
{
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    if (rc == AT_ENOMEM) {
        snprintf(o->fail_msg, sizeof(o->fail_msg),
                 "Order canceled by system: out of memory booking a fill");
    } else {
        snprintf(o->fail_msg, sizeof(o->fail_msg),
                 "Order canceled by system: a fill of %s contracts at %s is out of range "
                 "(size, price or balance too large for exact arithmetic)",
                 sim_dec_str(sz, a), sim_dec_str(px, b));
    }
    return rc;
}

int match_fill(sim_exchange *x, sim_acct *a, sim_order *o, at_dec px, at_dec sz, ex_fill_kind kind)
{
    fill_plan fp;
    if (!plan_fill(x, a, o, px, sz, kind, &fp)) {
        return refuse_fill(o, px, sz, AT_ERANGE);
    }
    /* Allocations first: past this point nothing can fail half-way. */
    sim_fill *f = new_fill(x, o, px, sz, fp.fee, fp.rate, fp.pos.pnl);
    sim_position *p = f ? pos_commit_fill(x, a, o, &fp.pos) : NULL;
    if (!p) {
        free(f);
        return refuse_fill(o, px, sz, AT_ENOMEM);
    }
    int64_t trade_id = take_liquidity(x, a, o, px, sz, kind);
    p->trade_id = trade_id;
    o->avg_px = fp.avg_px;
    o->acc_fill_sz = fp.acc;
    o->fill_px = px;
    o->fill_sz = sz;
    o->fill_time_ms = x->now_ms;
    o->trade_id = trade_id;
    snprintf(o->exec_type, sizeof(o->exec_type), "%s", kind == EX_MAKER ? "M" : "T");
    o->fee = fp.ord_fee;
    o->pnl = fp.ord_pnl;
    o->state = at_dec_cmp(fp.acc, o->sz) >= 0 ? SIM_FILLED : SIM_PARTIALLY_FILLED;
    o->u_time_ms = x->now_ms;
    acct_new_id(a, f->bill_id);
    snprintf(f->exec_type, sizeof(f->exec_type), "%s", o->exec_type);
    f->trade_id = trade_id;
    f->next = a->fills;
    a->fills = f;
    ex_push_order(x, a, o, f, NULL);
    algo_parent_update(x, a, o);
    if (fp.pos.closed) {
        algo_position_closed(x, a, o->inst, o->pos_side);
    }
    ex_push_account(x, a);
    return AT_OK;
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
        if (q.m > 0 && match_fill(x, a, o, lv[i].px, q, EX_TAKER) != AT_OK) {
            break; /* not booked: match_new cancels the order */
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
    if (o->fail_msg[0]) {
        order_cancel_now(x, a, o, "0"); /* a fill could not be booked */
    } else if (!is_type(o, "limit")) {
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
    if (o->fail_msg[0] && order_is_live(o)) {
        order_cancel_now(x, a, o, "0");
    }
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
    if (match_fill(x, a, o, o->px, ex_min(avail, cap), EX_MAKER) != AT_OK) {
        order_cancel_now(x, a, o, "0"); /* not booked, and would not be next time */
    }
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
    for (sim_acct *a = x->accts; a; a = a->next) {
        acct_prune(a);
    }
}

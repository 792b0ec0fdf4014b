/* Internals of the okx-sim accounts layer (acct.c order.c match.c
 * position.c algo.c); the edge only sees sim.h.
 *
 * Money model (USDT-margined linear swaps, one margin currency):
 *   a->cash      free cash: deposits + realised PnL + fees + funding, minus
 *                the margin moved into isolated positions;
 *   isolated     p->margin is held at open (pos x ctVal x fillPx / lever)
 *                and released pro rata on close;
 *   cross        imr = |pos| x ctVal x markPx / lever (not moved, reserved);
 *   upl          (markPx - avgPx) x exposure x ctVal;
 *   mmr          |pos| x ctVal x markPx x mmr_rate;
 *   totalEq      cash + isolated margin + every upl;
 *   availEq      cash + cross upl - cross imr - open-order margin.
 * Every amount is an exact at_dec; USDT amounts are rounded half-even to
 * EX_MONEY_SCALE digits at the point they are booked, so sums are exact. */
#ifndef OKX_SIM_EXCH_H
#define OKX_SIM_EXCH_H

#include "sim.h"

#define EX_MONEY_SCALE 8 /* USDT amounts: balances, fees, PnL, margins */
#define EX_PX_SCALE 8    /* average prices */
#define EX_MAX_BATCH 20  /* orders per batch request */

/* ------------------------------------------------------------- decimals */

static inline int ex_sign(at_dec d)
{
    return (d.m > 0) - (d.m < 0);
}
static inline at_dec ex_abs(at_dec d)
{
    return d.m < 0 ? sim_neg(d) : d;
}
static inline at_dec ex_min(at_dec a, at_dec b)
{
    return at_dec_cmp(a, b) <= 0 ? a : b;
}
static inline at_dec ex_zero(void)
{
    at_dec z = {0, 0};
    return z;
}
/* v is a whole number of steps (step > 0). */
bool ex_is_multiple(at_dec v, at_dec step);
/* a x b x c rounded to EX_MONEY_SCALE. */
at_dec ex_mul3(at_dec a, at_dec b, at_dec c, bool *err);
/* The maintenance margin rate as a decimal (x->mmr_rate; 0.004 when unset). */
at_dec ex_mmr_rate(const sim_exchange *x);
/* The price a trigger type refers to: "mark", "index", else last. */
at_dec ex_ref_px(const sim_inst *in, const char *px_type);
/* Mark price, or last while the market has no mark yet. */
at_dec ex_mark(const sim_inst *in);
/* A boolean member given as true/false or "true"/"false". AT_ENOENT when
 * absent or "", AT_EINVAL when something else. */
int ex_json_bool(const json_t *obj, const char *key, bool *out);
/* A GET parameter matches a comma-separated list (NULL list = any). */
bool ex_in_list(const char *list, const char *val);

/* ------------------------------------------------------------- totals */

typedef struct ex_totals {
    at_dec cash, iso_margin;
    at_dec upl, cross_upl, iso_upl, upl_last;
    at_dec cross_imr, cross_mmr, iso_mmr;
    at_dec notional, ord_frozen;
    at_dec eq;       /* cash + iso_margin + upl */
    at_dec cross_eq; /* cash + cross_upl */
    at_dec avail_eq; /* cross_eq - cross_imr - ord_frozen */
    int ncross;      /* open cross positions */
    bool err;        /* overflow somewhere: numbers are not trustworthy */
} ex_totals;

/* position.c */
void ex_totals_of(const sim_exchange *x, const sim_acct *a, ex_totals *t);
/* A position of the account, or NULL. */
sim_position *pos_find(const sim_acct *a, const sim_inst *in, const char *pos_side,
                       const char *mgn_mode);
/* Signed exposure in contracts: + long, - short (both modes). */
at_dec pos_exposure(const sim_position *p);
/* Contracts of an order (side, posSide, tdMode) that would reduce an existing
 * position; 0 when the order opens or adds. */
at_dec pos_closable(const sim_acct *a, const sim_inst *in, bool buy, const char *pos_side,
                    const char *td_mode);
/* What one fill does to the position and the cash, computed before anything
 * is booked (pos_plan_fill), then booked (pos_commit_fill). */
typedef struct pos_fill {
    sim_position *target; /* the position it changes, or NULL: a new one */
    sim_position after;   /* its numbers after the fill */
    at_dec cash;          /* the account's cash after the fill */
    at_dec pnl;           /* realised PnL of the closed part */
    bool closed;          /* the position went back to zero */
} pos_fill;
/* Plan a fill of sz at px with `fee` (negative = paid) on copies: false when a
 * checked operation overflowed (then nothing may be booked). */
bool pos_plan_fill(const sim_exchange *x, const sim_acct *a, const sim_order *o, at_dec px,
                   at_dec sz, at_dec fee, pos_fill *pf);
/* Book a clean plan into the account (creating the position when new); the
 * position, or NULL when it could not be allocated (nothing booked). */
sim_position *pos_commit_fill(sim_exchange *x, sim_acct *a, const sim_order *o, const pos_fill *pf);
/* One position object as OKX shows it. */
json_t *pos_json(const sim_exchange *x, const sim_acct *a, const sim_position *p,
                 const ex_totals *t);
/* Funding settlement at funding times, then liquidations (exchange_tick). */
void pos_settle_funding(sim_exchange *x);
void pos_liquidate(sim_exchange *x);
/* Margin an open order reserves (its opening part at its price). */
at_dec order_margin(const sim_acct *a, const sim_order *o, bool *err);

/* ------------------------------------------------------------- orders */

/* order.c */
bool order_is_live(const sim_order *o);
at_dec order_remaining(const sim_order *o);
sim_order *order_find(const sim_acct *a, const char *ord_id, const char *cl_ord_id);
/* A fresh order linked at the head of the account's list (ids, times,
 * category "normal"); NULL on allocation failure. */
sim_order *order_alloc(sim_exchange *x, sim_acct *a, sim_inst *in);
/* Validate and place one order request (REST/WS item, algo trigger,
 * close-position). `algo` is the algo that places it, or NULL. Returns the
 * per-item result object {clOrdId, ordId, tag, ts, sCode, sMsg, subCode};
 * *out is the order when accepted. */
json_t *order_submit(sim_exchange *x, sim_acct *a, const json_t *req, const sim_algo *algo,
                     sim_order **out);
/* Move a live order to canceled with an OKX cancelSource code; pushes, and
 * resolves its attached TP/SL. */
void order_cancel_now(sim_exchange *x, sim_acct *a, sim_order *o, const char *source);

/* match.c */
typedef enum ex_fill_kind { EX_TAKER, EX_MAKER, EX_LIQUIDATION } ex_fill_kind;
/* Execute a just-accepted order: taker fills, then rest, cancel or done. */
void match_new(sim_exchange *x, sim_acct *a, sim_order *o);
/* Re-check a live limit order after an amend (it may now cross). */
void match_amended(sim_exchange *x, sim_acct *a, sim_order *o);
/* One fill of `sz` at `px`: order, position, cash, fill record, pushes.
 * Everything is computed first and booked only when no checked operation
 * overflowed: AT_OK, else AT_ERANGE (or AT_ENOMEM) with nothing booked and
 * o->fail_msg saying why (the caller cancels the order). */
int match_fill(sim_exchange *x, sim_acct *a, sim_order *o, at_dec px, at_dec sz, ex_fill_kind kind);
/* Whether that fill's arithmetic fits (nothing is changed). */
bool match_fill_fits(const sim_exchange *x, const sim_acct *a, const sim_order *o, at_dec px,
                     at_dec sz, ex_fill_kind kind);
/* Pushes (no-ops without a subscriber). */
void ex_push_order(sim_exchange *x, sim_acct *a, const sim_order *o, const sim_fill *f,
                   const char *req_id);
void ex_push_account(sim_exchange *x, sim_acct *a);

/* ------------------------------------------------------------- algos */

/* algo.c */
/* Validate attachAlgoOrds of an order request: NULL when fine, else the
 * sMsg (static string) and *scode. */
const char *algo_check_attach(const json_t *attach, const sim_inst *in, const char **scode);
/* Create the attached TP/SL of a just-accepted order (unarmed). */
void algo_attach(sim_exchange *x, sim_acct *a, sim_order *parent);
/* The parent order filled some or finished: resize, arm or cancel. */
void algo_parent_update(sim_exchange *x, sim_acct *a, const sim_order *parent);
/* A position went to zero: cancel the algos that close it (none while
 * x->keep_algos). */
void algo_position_closed(sim_exchange *x, sim_acct *a, const sim_inst *in, const char *pos_side);
/* Fire the algos whose trigger price was reached. */
void algo_tick(sim_exchange *x);
void algo_free(sim_algo *g);
/* A fresh live algo linked at the head of the account's list. */
sim_algo *algo_alloc(sim_exchange *x, sim_acct *a, sim_inst *in);
/* tpTriggerPx/tpOrdPx/tpTriggerPxType and the sl ones of `o` into g: NULL,
 * or the name of the invalid field. */
const char *algo_parse_tpsl(const json_t *o, const sim_inst *in, sim_algo *g);
/* triggerPx/orderPx/triggerPxType: 1 present, 0 absent, -1 invalid (*why). */
int algo_parse_trigger(const json_t *o, const sim_inst *in, at_dec *trig, at_dec *ord_px,
                       char type[8], const char **why);
/* Push an algo's state (orders-algo channel) when subscribed. */
void algo_push(sim_exchange *x, sim_acct *a, const sim_algo *g);
json_t *algo_json(const sim_exchange *x, const sim_acct *a, const sim_algo *g);

#endif

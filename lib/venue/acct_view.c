/* The read-only account views: account/config, account/balance and
 * account/positions, plus the balance and position objects the private WS
 * channels push. Numbers follow the money model in exch.h. */
#include <stdio.h>
#include <string.h>

#include "exch.h"

void acct_config(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    (void)x;
    (void)c;
    json_t *o = json_object();
    json_object_set_new(o, "acctLv", json_string("2"));
    json_object_set_new(o, "acctStpMode", json_string("cancel_maker"));
    json_object_set_new(o, "autoLoan", json_false());
    json_object_set_new(o, "ctIsoMode", json_string("automatic"));
    json_object_set_new(o, "enableSpotBorrow", json_false());
    json_object_set_new(o, "greeksType", json_string("PA"));
    json_object_set_new(o, "ip", json_string(""));
    json_object_set_new(o, "kycLv", json_string("3"));
    json_object_set_new(o, "label", json_string("okx-sim"));
    json_object_set_new(o, "level", json_string("Lv1"));
    json_object_set_new(o, "levelTmp", json_string(""));
    json_object_set_new(o, "liquidationGear", json_string("-1"));
    json_object_set_new(o, "mainUid", json_string(a->uid));
    json_object_set_new(o, "mgnIsoMode", json_string("automatic"));
    json_object_set_new(o, "opAuth", json_string("0"));
    json_object_set_new(o, "perm", json_string("read_only,trade"));
    json_object_set_new(o, "posMode",
                        json_string(a->pos_mode == SIM_NET_MODE ? "net_mode" : "long_short_mode"));
    json_object_set_new(o, "roleType", json_string("0"));
    json_object_set_new(o, "spotBorrowAutoRepay", json_false());
    json_object_set_new(o, "spotOffsetType", json_string(""));
    json_object_set_new(o, "spotRoleType", json_string("0"));
    json_object_set_new(o, "spotTraderInsts", json_array());
    json_object_set_new(o, "traderInsts", json_array());
    json_object_set_new(o, "type", json_string("0"));
    json_object_set_new(o, "uid", json_string(a->uid));
    sim_reply_add(r, o);
}

/* ------------------------------------------------------------- balance */

static int64_t acct_u_time(const sim_exchange *x, const sim_acct *a)
{
    int64_t t = 0;
    for (const sim_fill *f = a->fills; f; f = f->next) {
        t = f->ts_ms > t ? f->ts_ms : t;
    }
    return t ? t : x->now_ms;
}

static json_t *usdt_detail(const ex_totals *t, int64_t u_time)
{
    bool err = false;
    at_dec cash_bal = sim_add(t->cash, t->iso_margin, &err);
    at_dec frozen = sim_add(sim_add(t->iso_margin, t->cross_imr, &err), t->ord_frozen, &err);
    at_dec avail_bal = sim_sub(cash_bal, frozen, &err);
    json_t *d = json_object();
    json_object_set_new(d, "availBal", sim_dec_json(avail_bal));
    json_object_set_new(d, "availEq", sim_dec_json(t->avail_eq));
    json_object_set_new(d, "borrowFroz", json_string("0"));
    json_object_set_new(d, "cashBal", sim_dec_json(cash_bal));
    json_object_set_new(d, "ccy", json_string("USDT"));
    json_object_set_new(d, "clSpotInUseAmt", json_string(""));
    json_object_set_new(d, "crossLiab", json_string("0"));
    json_object_set_new(d, "disEq", sim_dec_json(t->eq));
    json_object_set_new(d, "eq", sim_dec_json(t->eq));
    json_object_set_new(d, "eqUsd", sim_dec_json(t->eq));
    json_object_set_new(d, "fixedBal", json_string("0"));
    json_object_set_new(d, "frozenBal", sim_dec_json(frozen));
    json_object_set_new(d, "imr", sim_dec_json(t->cross_imr));
    json_object_set_new(d, "interest", json_string("0"));
    json_object_set_new(d, "isoEq", sim_dec_json(sim_add(t->iso_margin, t->iso_upl, &err)));
    json_object_set_new(d, "isoLiab", json_string("0"));
    json_object_set_new(d, "isoUpl", sim_dec_json(t->iso_upl));
    json_object_set_new(d, "liab", json_string("0"));
    json_object_set_new(d, "maxLoan", json_string("0"));
    json_object_set_new(d, "maxSpotInUseAmt", json_string(""));
    json_object_set_new(d, "mgnRatio", json_string(""));
    json_object_set_new(d, "mmr", sim_dec_json(t->cross_mmr));
    json_object_set_new(d, "notionalLever",
                        t->eq.m > 0
                            ? sim_dec_json(sim_div(t->notional, t->eq, EX_MONEY_SCALE, &err))
                            : json_string(""));
    json_object_set_new(d, "ordFrozen", sim_dec_json(t->ord_frozen));
    json_object_set_new(d, "rewardBal", json_string("0"));
    json_object_set_new(d, "smtSyncEq", json_string("0"));
    json_object_set_new(d, "spotCopyTradingEq", json_string("0"));
    json_object_set_new(d, "spotInUseAmt", json_string(""));
    json_object_set_new(d, "spotIsoBal", json_string("0"));
    json_object_set_new(d, "stgyEq", json_string("0"));
    json_object_set_new(d, "twap", json_string("0"));
    json_object_set_new(d, "uTime", sim_ms_json(u_time));
    json_object_set_new(d, "upl", sim_dec_json(t->upl));
    json_object_set_new(d, "uplLiab", json_string("0"));
    return d;
}

/* The balance object; `with_usdt` false leaves details empty (a ccy filter
 * without USDT: the only currency this exchange holds). */
static json_t *balance_json(sim_exchange *x, sim_acct *a, bool with_usdt)
{
    ex_totals t;
    ex_totals_of(x, a, &t);
    bool err = false;
    int64_t ut = acct_u_time(x, a);
    at_dec mmr = sim_add(t.cross_mmr, t.iso_mmr, &err);
    json_t *o = json_object();
    json_object_set_new(o, "adjEq", sim_dec_json(t.eq));
    json_object_set_new(o, "availEq", sim_dec_json(t.avail_eq));
    json_object_set_new(o, "borrowFroz", json_string("0"));
    json_t *details = json_array();
    if (with_usdt) {
        json_array_append_new(details, usdt_detail(&t, ut));
    }
    json_object_set_new(o, "details", details);
    json_object_set_new(o, "imr", sim_dec_json(sim_add(t.cross_imr, t.ord_frozen, &err)));
    json_object_set_new(o, "isoEq", sim_dec_json(sim_add(t.iso_margin, t.iso_upl, &err)));
    json_object_set_new(o, "mgnRatio",
                        mmr.m > 0 ? sim_dec_json(sim_div(t.eq, mmr, EX_MONEY_SCALE, &err))
                                  : json_string(""));
    json_object_set_new(o, "mmr", sim_dec_json(mmr));
    json_object_set_new(o, "notionalUsd", sim_dec_json(t.notional));
    json_object_set_new(o, "notionalUsdForBorrow", json_string("0"));
    json_object_set_new(o, "notionalUsdForFutures", json_string("0"));
    json_object_set_new(o, "notionalUsdForOption", json_string("0"));
    json_object_set_new(o, "notionalUsdForSwap", sim_dec_json(t.notional));
    json_object_set_new(o, "ordFroz", sim_dec_json(t.ord_frozen));
    json_object_set_new(o, "totalEq", sim_dec_json(t.eq));
    json_object_set_new(o, "uTime", sim_ms_json(ut));
    json_object_set_new(o, "upl", sim_dec_json(t.upl));
    return o;
}

json_t *acct_balance_json(sim_exchange *x, sim_acct *a)
{
    return balance_json(x, a, true);
}

void acct_balance(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const char *ccy = sim_param_get(c, "ccy");
    sim_reply_add(r, balance_json(x, a, ex_in_list(ccy, "USDT")));
}

/* ------------------------------------------------------------- positions */

json_t *acct_positions_json(sim_exchange *x, sim_acct *a, const sim_call *filter)
{
    const char *type = filter ? sim_param_get(filter, "instType") : NULL;
    const char *ids = filter ? sim_param_get(filter, "instId") : NULL;
    const char *pos_ids = filter ? sim_param_get(filter, "posId") : NULL;
    ex_totals t;
    ex_totals_of(x, a, &t);
    json_t *arr = json_array();
    /* Oldest first: the list is newest first, so walk it into an array
     * and emit in reverse. */
    size_t n = 0;
    for (sim_position *p = a->positions; p; p = p->next) {
        n++;
    }
    for (size_t k = n; k > 0; k--) {
        sim_position *p = a->positions;
        for (size_t i = 1; i < k; i++) {
            p = p->next;
        }
        if (p->pos.m == 0 || !ex_in_list(type, "SWAP") || !ex_in_list(ids, p->inst->inst_id) ||
            !ex_in_list(pos_ids, p->pos_id)) {
            continue;
        }
        json_array_append_new(arr, pos_json(x, a, p, &t));
    }
    return arr;
}

void acct_positions(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const char *type = sim_param_get(c, "instType");
    static const char *const types[] = {"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", NULL};
    if (type) {
        size_t i = 0;
        while (types[i] && strcmp(types[i], type) != 0) {
            i++;
        }
        if (!types[i]) {
            sim_reply_err(r, 400, "51000", "Parameter instType error (got \"%s\")", type);
            return;
        }
    }
    json_decref(r->data);
    r->data = acct_positions_json(x, a, c);
}

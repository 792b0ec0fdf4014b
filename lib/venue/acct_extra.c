/* Account endpoints clients call besides trading: asset/currencies (ccxt's
 * loadMarkets asks for it whenever it has credentials), account/trade-fee,
 * account/leverage-info, and trade/order-algo (one algo order). */
#include <stdio.h>
#include <string.h>

#include "exch.h"

/* One entry per currency the venue knows: USDT and every contract's base. */
static json_t *currency_json(const char *ccy)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                     "s:b, s:b, s:s}",
                     "ccy", ccy, "name", ccy, "logoLink", "", "chain",
                     strcmp(ccy, "USDT") == 0 ? "USDT-TRC20" : ccy, "canDep", true, "canWd", true,
                     "canInternal", true, "minDep", "0.00000001", "minWd", "0.0001", "maxWd",
                     "1000000", "wdTickSz", "8", "wdQuota", "10000000", "usedWdQuota", "0",
                     "minFee", "0", "mainNet", true, "needTag", false, "minDepArrivalConfirm", "1");
}

void acct_currencies(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const char *want = sim_param_get(c, "ccy");
    const char *seen[SIM_MAX_INST + 1];
    size_t nseen = 0;
    seen[nseen++] = "USDT";
    for (size_t i = 0; i < market_ninst(x->market); i++) {
        const char *ccy = market_inst(x->market, i)->ct_val_ccy;
        bool dup = false;
        for (size_t k = 0; k < nseen; k++) {
            dup |= strcmp(seen[k], ccy) == 0;
        }
        if (!dup && nseen < SIM_MAX_INST + 1) {
            seen[nseen++] = ccy;
        }
    }
    r->data = json_array();
    for (size_t k = 0; k < nseen; k++) {
        if (!want || ex_in_list(want, seen[k])) {
            json_array_append_new(r->data, currency_json(seen[k]));
        }
    }
}

void acct_trade_fee(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const char *type = sim_param_get(c, "instType");
    if (!type) {
        sim_reply_err(r, 400, "50014", "Parameter instType can not be empty.");
        return;
    }
    /* OKX writes fee rates as negative numbers: a cost to the account. */
    char mk[AT_DEC_STRLEN], tk[AT_DEC_STRLEN], ts[24];
    sim_dec_str(sim_neg(a->maker_fee_rate), mk);
    sim_dec_str(sim_neg(a->taker_fee_rate), tk);
    snprintf(ts, sizeof(ts), "%lld", (long long)x->now_ms);
    sim_reply_add(r,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "category", "1",
                            "delivery", "", "exercise", "", "instType", type, "level", "Lv1",
                            "maker", mk, "taker", tk, "makerU", mk, "takerU", tk, "ts", ts));
}

void acct_leverage_info(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const char *ids = sim_param_get(c, "instId"), *mode = sim_param_get(c, "mgnMode");
    if (!ids) {
        sim_reply_err(r, 400, "50014", "Parameter instId can not be empty.");
        return;
    }
    if (!mode || (strcmp(mode, "cross") != 0 && strcmp(mode, "isolated") != 0)) {
        sim_reply_err(r, 400, "51000", "Parameter mgnMode error");
        return;
    }
    r->data = json_array();
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", ids);
    char *save = NULL;
    for (char *id = strtok_r(buf, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        sim_inst *in = market_find(x->market, id);
        if (!in) {
            json_decref(r->data);
            r->data = NULL;
            sim_reply_err(r, 400, "51001", "Instrument ID does not exist");
            return;
        }
        /* Isolated in long/short mode has a leverage per side. */
        bool per_side = strcmp(mode, "isolated") == 0 && a->pos_mode == SIM_LONG_SHORT_MODE;
        const char *sides[2] = {per_side ? "long" : "net", "short"};
        for (int k = 0; k < (per_side ? 2 : 1); k++) {
            char lv[16];
            snprintf(lv, sizeof(lv), "%d", acct_lever(a, in, mode, sides[k]));
            json_array_append_new(r->data,
                                  json_pack("{s:s, s:s, s:s, s:s}", "instId", in->inst_id,
                                            "mgnMode", mode, "posSide", sides[k], "lever", lv));
        }
    }
}

void algo_get(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const char *id = sim_param_get(c, "algoId"), *cl = sim_param_get(c, "algoClOrdId");
    if (!id && !cl) {
        sim_reply_err(r, 400, "50015", "Either parameter algoId or algoClOrdId is required.");
        return;
    }
    for (const sim_algo *g = a->algos; g; g = g->next) {
        if ((id && strcmp(id, g->algo_id) == 0) || (cl && strcmp(cl, g->algo_cl_ord_id) == 0)) {
            sim_reply_add(r, algo_json(x, a, g));
            return;
        }
    }
    sim_reply_err(r, 400, "51603", "Order does not exist");
}

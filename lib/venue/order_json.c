/* The order object of GET trade/order, orders-pending, orders-history and
 * the WS orders channel, with every field OKX sends (strings throughout). */
#include <stdio.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- order json */

static const char *state_name(sim_ord_state s)
{
    switch (s) {
    case SIM_LIVE:
        return "live";
    case SIM_PARTIALLY_FILLED:
        return "partially_filled";
    case SIM_FILLED:
        return "filled";
    case SIM_CANCELED:
        return "canceled";
    }
    return "live";
}

/* OKX's cancelSource codes that this exchange produces. */
static const char *cancel_reason(const char *src)
{
    static const struct {
        const char *code, *reason;
    } t[] = {
        {"0", "Order canceled by system"},
        {"1", "Order canceled by user"},
        {"13", "Order canceled: FOK order was canceled due to it could not be completely filled"},
        {"14", "Order canceled: IOC order was partially canceled due to it could not be "
               "completely filled"},
        {"21", "Order canceled: The TP/SL order was canceled because the position had been "
               "closed"},
        {"22", "Order canceled: Reduce-only orders only allow reducing your current position"},
        {"31", "The post-only order will take liquidity in taker orders"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(t[i].code, src) == 0) {
            return t[i].reason;
        }
    }
    return "";
}

static json_t *dec_or_empty(at_dec d, bool set)
{
    return set ? sim_dec_json(d) : json_string("");
}

/* The first attached TP/SL's fields as OKX repeats them at the top level. */
static const char *attach_str(const sim_order *o, const char *key)
{
    const json_t *first = o->attach_algo ? json_array_get(o->attach_algo, 0) : NULL;
    const json_t *v = first ? json_object_get(first, key) : NULL;
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    return "";
}

static json_t *attach_json(const sim_order *o)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *g;
    json_array_foreach(o->attach_algo, i, g)
    {
        static const char *const keys[] = {"attachAlgoId", "attachAlgoClOrdId",   "tpOrdKind",
                                           "tpTriggerPx",  "tpTriggerPxType",     "tpOrdPx",
                                           "slTriggerPx",  "slTriggerPxType",     "slOrdPx",
                                           "sz",           "amendPxOnTriggerType"};
        json_t *it = json_object();
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            json_object_set_new(it, keys[k], json_string(sim_json_str(g, keys[k])));
        }
        json_object_set_new(it, "failCode", json_string(""));
        json_object_set_new(it, "failReason", json_string(""));
        json_array_append_new(arr, it);
    }
    return arr;
}

json_t *order_json(const sim_order *o)
{
    bool filled = o->acc_fill_sz.m > 0;
    char lever[16];
    snprintf(lever, sizeof(lever), "%d", o->lever);
    const char *tp_type = attach_str(o, "tpTriggerPxType");
    const char *sl_type = attach_str(o, "slTriggerPxType");
    bool has_tp = *attach_str(o, "tpTriggerPx") != '\0';
    bool has_sl = *attach_str(o, "slTriggerPx") != '\0';
    json_t *j = json_object();
    json_object_set_new(j, "accFillSz", sim_dec_json(o->acc_fill_sz));
    json_object_set_new(j, "algoClOrdId", json_string(o->algo_cl_ord_id));
    json_object_set_new(j, "algoId", json_string(o->algo_id));
    json_object_set_new(j, "attachAlgoClOrdId", json_string(attach_str(o, "attachAlgoClOrdId")));
    json_object_set_new(j, "attachAlgoOrds", attach_json(o));
    json_object_set_new(j, "avgPx", dec_or_empty(o->avg_px, filled));
    json_object_set_new(j, "cTime", sim_ms_json(o->c_time_ms));
    json_object_set_new(j, "cancelSource", json_string(o->cancel_source));
    json_object_set_new(
        j, "cancelSourceReason",
        json_string(o->fail_msg[0] ? o->fail_msg : cancel_reason(o->cancel_source)));
    json_object_set_new(j, "category", json_string(o->category[0] ? o->category : "normal"));
    json_object_set_new(j, "ccy", json_string(""));
    json_object_set_new(j, "clOrdId", json_string(o->cl_ord_id));
    json_object_set_new(j, "fee", sim_dec_json(o->fee));
    json_object_set_new(j, "feeCcy", json_string("USDT"));
    json_object_set_new(j, "fillPx", dec_or_empty(o->fill_px, filled));
    json_object_set_new(j, "fillSz", sim_dec_json(o->fill_sz));
    json_object_set_new(j, "fillTime", filled ? sim_ms_json(o->fill_time_ms) : json_string(""));
    json_object_set_new(j, "instId", json_string(o->inst->inst_id));
    json_object_set_new(j, "instType", json_string("SWAP"));
    json_object_set_new(j, "isTpLimit", json_string("false"));
    json_object_set_new(j, "lever", json_string(lever));
    json_object_set_new(j, "linkedAlgoOrd", json_pack("{s:s}", "algoId", ""));
    json_object_set_new(j, "ordId", json_string(o->ord_id));
    json_object_set_new(j, "ordType", json_string(o->ord_type));
    json_object_set_new(j, "pnl", sim_dec_json(o->pnl));
    json_object_set_new(j, "posSide", json_string(o->pos_side));
    json_object_set_new(j, "px", dec_or_empty(o->px, o->px.m > 0));
    json_object_set_new(j, "pxType", json_string(""));
    json_object_set_new(j, "pxUsd", json_string(""));
    json_object_set_new(j, "pxVol", json_string(""));
    json_object_set_new(j, "quickMgnType", json_string(""));
    json_object_set_new(j, "rebate", json_string("0"));
    json_object_set_new(j, "rebateCcy", json_string("USDT"));
    json_object_set_new(j, "reduceOnly", json_string(o->reduce_only ? "true" : "false"));
    json_object_set_new(j, "side", json_string(o->buy ? "buy" : "sell"));
    json_object_set_new(j, "slOrdPx", json_string(attach_str(o, "slOrdPx")));
    json_object_set_new(j, "slTriggerPx", json_string(attach_str(o, "slTriggerPx")));
    json_object_set_new(j, "slTriggerPxType",
                        json_string(has_sl ? (*sl_type ? sl_type : "last") : ""));
    json_object_set_new(j, "source", json_string(""));
    json_object_set_new(j, "state", json_string(state_name(o->state)));
    json_object_set_new(j, "stpId", json_string(""));
    json_object_set_new(j, "stpMode", json_string("cancel_maker"));
    json_object_set_new(j, "sz", sim_dec_json(o->sz));
    json_object_set_new(j, "tag", json_string(o->tag));
    json_object_set_new(j, "tdMode", json_string(o->td_mode));
    json_object_set_new(j, "tgtCcy", json_string(""));
    json_object_set_new(j, "tpOrdPx", json_string(attach_str(o, "tpOrdPx")));
    json_object_set_new(j, "tpTriggerPx", json_string(attach_str(o, "tpTriggerPx")));
    json_object_set_new(j, "tpTriggerPxType",
                        json_string(has_tp ? (*tp_type ? tp_type : "last") : ""));
    json_object_set_new(j, "tradeId", filled ? sim_ms_json(o->trade_id) : json_string(""));
    json_object_set_new(j, "uTime", sim_ms_json(o->u_time_ms));
    return j;
}

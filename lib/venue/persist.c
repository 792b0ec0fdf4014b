/* The venue state document (sim.h, venue_state_*): the record tables, the
 * account's lists, and the dump (persist.h; the load is persist_load.c).
 *
 * Decimals are written by at_dec_format and read by at_dec_parse, so every
 * amount comes back exactly; instruments are written by instId; lists in
 * the account's order (newest first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"

/* ------------------------------------------------------------- records */

#define FLD(key, kind, T, m)                                                                       \
    {                                                                                              \
        key, kind, offsetof(T, m), sizeof(((T *)0)->m)                                             \
    }

typedef struct sim_lever lever_t;

static const pst_field LEVER_FIELDS[] = {
    FLD("instId", F_INST, lever_t, inst),
    FLD("mgnMode", F_STR, lever_t, mgn_mode),
    FLD("posSide", F_STR, lever_t, pos_side),
    FLD("lever", F_INT, lever_t, lever),
};

static const pst_field POS_FIELDS[] = {
    FLD("instId", F_INST, sim_position, inst),
    FLD("posSide", F_STR, sim_position, pos_side),
    FLD("mgnMode", F_STR, sim_position, mgn_mode),
    FLD("posId", F_STR, sim_position, pos_id),
    FLD("pos", F_DEC, sim_position, pos),
    FLD("avgPx", F_DEC, sim_position, avg_px),
    FLD("margin", F_DEC, sim_position, margin),
    FLD("realizedPnl", F_DEC, sim_position, realized_pnl),
    FLD("fee", F_DEC, sim_position, fee),
    FLD("fundingFee", F_DEC, sim_position, funding_fee),
    FLD("lever", F_INT, sim_position, lever),
    FLD("cTime", F_I64, sim_position, c_time_ms),
    FLD("uTime", F_I64, sim_position, u_time_ms),
    FLD("tradeId", F_I64, sim_position, trade_id),
    FLD("pushedOpen", F_BOOL, sim_position, pushed_open),
};

static const pst_field ORDER_FIELDS[] = {
    FLD("ordId", F_STR, sim_order, ord_id),
    FLD("clOrdId", F_STR, sim_order, cl_ord_id),
    FLD("tag", F_STR, sim_order, tag),
    FLD("instId", F_INST, sim_order, inst),
    FLD("ordType", F_STR, sim_order, ord_type),
    FLD("side", F_SIDE, sim_order, buy),
    FLD("posSide", F_STR, sim_order, pos_side),
    FLD("tdMode", F_STR, sim_order, td_mode),
    FLD("px", F_DEC, sim_order, px),
    FLD("sz", F_DEC, sim_order, sz),
    FLD("accFillSz", F_DEC, sim_order, acc_fill_sz),
    FLD("avgPx", F_DEC, sim_order, avg_px),
    FLD("fillPx", F_DEC, sim_order, fill_px),
    FLD("fillSz", F_DEC, sim_order, fill_sz),
    FLD("fee", F_DEC, sim_order, fee),
    FLD("pnl", F_DEC, sim_order, pnl),
    FLD("fillTime", F_I64, sim_order, fill_time_ms),
    FLD("tradeId", F_I64, sim_order, trade_id),
    FLD("execType", F_STR, sim_order, exec_type),
    FLD("reduceOnly", F_BOOL, sim_order, reduce_only),
    FLD("lever", F_INT, sim_order, lever),
    FLD("state", F_OSTATE, sim_order, state),
    FLD("cancelSource", F_STR, sim_order, cancel_source),
    FLD("attachAlgoOrds", F_JSON, sim_order, attach_algo),
    FLD("algoId", F_STR, sim_order, algo_id),
    FLD("cTime", F_I64, sim_order, c_time_ms),
    FLD("uTime", F_I64, sim_order, u_time_ms),
    FLD("category", F_STR, sim_order, category),
    FLD("algoClOrdId", F_STR, sim_order, algo_cl_ord_id),
    FLD("failMsg", F_STR, sim_order, fail_msg),
};

static const pst_field FILL_FIELDS[] = {
    FLD("billId", F_STR, sim_fill, bill_id),
    FLD("ordId", F_STR, sim_fill, ord_id),
    FLD("clOrdId", F_STR, sim_fill, cl_ord_id),
    FLD("tag", F_STR, sim_fill, tag),
    FLD("instId", F_INST, sim_fill, inst),
    FLD("side", F_SIDE, sim_fill, buy),
    FLD("posSide", F_STR, sim_fill, pos_side),
    FLD("fillPx", F_DEC, sim_fill, fill_px),
    FLD("fillSz", F_DEC, sim_fill, fill_sz),
    FLD("fee", F_DEC, sim_fill, fee),
    FLD("feeRate", F_DEC, sim_fill, fee_rate),
    FLD("fillPnl", F_DEC, sim_fill, fill_pnl),
    FLD("fillMarkPx", F_DEC, sim_fill, fill_mark_px),
    FLD("execType", F_STR, sim_fill, exec_type),
    FLD("tradeId", F_I64, sim_fill, trade_id),
    FLD("ts", F_I64, sim_fill, ts_ms),
};

static const pst_field ALGO_FIELDS[] = {
    FLD("algoId", F_STR, sim_algo, algo_id),
    FLD("algoClOrdId", F_STR, sim_algo, algo_cl_ord_id),
    FLD("instId", F_INST, sim_algo, inst),
    FLD("ordType", F_STR, sim_algo, ord_type),
    FLD("side", F_SIDE, sim_algo, buy),
    FLD("posSide", F_STR, sim_algo, pos_side),
    FLD("tdMode", F_STR, sim_algo, td_mode),
    FLD("sz", F_DEC, sim_algo, sz),
    FLD("closeFraction", F_BOOL, sim_algo, close_fraction),
    FLD("reduceOnly", F_BOOL, sim_algo, reduce_only),
    FLD("tpTriggerPx", F_DEC, sim_algo, tp_trigger_px),
    FLD("tpOrdPx", F_DEC, sim_algo, tp_ord_px),
    FLD("slTriggerPx", F_DEC, sim_algo, sl_trigger_px),
    FLD("slOrdPx", F_DEC, sim_algo, sl_ord_px),
    FLD("hasTp", F_BOOL, sim_algo, has_tp),
    FLD("hasSl", F_BOOL, sim_algo, has_sl),
    FLD("tpTriggerPxType", F_STR, sim_algo, tp_px_type),
    FLD("slTriggerPxType", F_STR, sim_algo, sl_px_type),
    FLD("triggerPx", F_DEC, sim_algo, trigger_px),
    FLD("orderPx", F_DEC, sim_algo, order_px),
    FLD("triggerPxType", F_STR, sim_algo, trigger_px_type),
    FLD("parentOrdId", F_STR, sim_algo, parent_ord_id),
    FLD("state", F_ASTATE, sim_algo, state),
    FLD("actualSide", F_STR, sim_algo, actual_side),
    FLD("ordId", F_STR, sim_algo, ord_id),
    FLD("cTime", F_I64, sim_algo, c_time_ms),
    FLD("uTime", F_I64, sim_algo, u_time_ms),
    FLD("triggerTime", F_I64, sim_algo, trigger_time_ms),
    FLD("armed", F_BOOL, sim_algo, armed),
    FLD("cxlOnClosePos", F_BOOL, sim_algo, cxl_on_close_pos),
    FLD("failed", F_BOOL, sim_algo, failed),
    FLD("triggerDir", F_INT, sim_algo, trigger_dir),
    FLD("tag", F_STR, sim_algo, tag),
    FLD("clOrdId", F_STR, sim_algo, cl_ord_id),
    FLD("attachAlgoOrds", F_JSON, sim_algo, attach_algo),
};

#define NF(t) (sizeof(t) / sizeof(t[0]))

const char *const PST_ORD_STATES[4] = {"live", "partially_filled", "filled", "canceled"};
const char *const PST_ALGO_STATES[3] = {"live", "effective", "canceled"};

/* ------------------------------------------------------------- lists */

static bool pos_live(const void *r)
{
    return ((const sim_position *)r)->pos.m != 0;
}

static bool ord_live(const void *r)
{
    return order_is_live(r);
}

static bool algo_live(const void *r)
{
    return ((const sim_algo *)r)->state == SIM_ALGO_LIVE;
}

static bool mode_ok(const char *pos_side, const char *mgn)
{
    bool side = !strcmp(pos_side, "net") || !strcmp(pos_side, "long") || !strcmp(pos_side, "short");
    return side && (!strcmp(mgn, "cross") || !strcmp(mgn, "isolated"));
}

static const char *lever_check(const void *r)
{
    const lever_t *l = r;
    if (l->lever < 1 || (strcmp(l->mgn_mode, "cross") && strcmp(l->mgn_mode, "isolated"))) {
        return "lever must be at least 1 and mgnMode cross or isolated";
    }
    return NULL;
}

static const char *pos_check(const void *r)
{
    const sim_position *p = r;
    if (!mode_ok(p->pos_side, p->mgn_mode)) {
        return "posSide must be net, long or short and mgnMode cross or isolated";
    }
    if (p->pos.m != 0 && (p->lever < 1 || p->avg_px.m <= 0)) {
        return "an open position needs lever >= 1 and avgPx > 0";
    }
    return NULL;
}

static const char *ord_check(const void *r)
{
    const sim_order *o = r;
    if (!mode_ok(o->pos_side, o->td_mode)) {
        return "posSide must be net, long or short and tdMode cross or isolated";
    }
    if (o->sz.m <= 0 || o->acc_fill_sz.m < 0 || o->lever < 1) {
        return "sz must be positive, accFillSz not negative and lever at least 1";
    }
    return NULL;
}

static const char *fill_check(const void *r)
{
    const sim_fill *f = r;
    return strcmp(f->pos_side, "net") && strcmp(f->pos_side, "long") && strcmp(f->pos_side, "short")
               ? "posSide must be net, long or short"
               : NULL;
}

static const char *algo_check(const void *r)
{
    const sim_algo *g = r;
    if (!mode_ok(g->pos_side, g->td_mode)) {
        return "posSide must be net, long or short and tdMode cross or isolated";
    }
    if (strcmp(g->ord_type, "conditional") && strcmp(g->ord_type, "oco") &&
        strcmp(g->ord_type, "trigger")) {
        return "ordType must be conditional, oco or trigger";
    }
    return NULL;
}

static void plain_free(void *r)
{
    free(r);
}

static void ord_free(void *r)
{
    json_decref(((sim_order *)r)->attach_algo);
    free(r);
}

static void algo_release(void *r)
{
    algo_free(r);
}

#define LIST(key, T, fields, head, id, live, check, release, keep, has_keep)                       \
    {                                                                                              \
        key, fields, NF(fields), sizeof(T), offsetof(T, next), offsetof(sim_acct, head), id, live, \
            check, release, keep, has_keep                                                         \
    }

const pst_list PST_LISTS[] = {
    LIST("levers", lever_t, LEVER_FIELDS, levers, 0, NULL, lever_check, plain_free, 0, false),
    LIST("positions", sim_position, POS_FIELDS, positions, offsetof(sim_position, pos_id), pos_live,
         pos_check, plain_free, 0, false),
    LIST("orders", sim_order, ORDER_FIELDS, orders, offsetof(sim_order, ord_id), ord_live,
         ord_check, ord_free, offsetof(venue_keep, orders), true),
    LIST("fills", sim_fill, FILL_FIELDS, fills, offsetof(sim_fill, bill_id), NULL, fill_check,
         plain_free, offsetof(venue_keep, fills), true),
    LIST("algos", sim_algo, ALGO_FIELDS, algos, offsetof(sim_algo, algo_id), algo_live, algo_check,
         algo_release, offsetof(venue_keep, algos), true),
};
const size_t PST_NLISTS = NF(PST_LISTS);

void *pst_next(const pst_list *l, const void *rec)
{
    void *n;
    memcpy(&n, (const char *)rec + l->next_off, sizeof(n));
    return n;
}

void pst_set_next(const pst_list *l, void *rec, void *next)
{
    memcpy((char *)rec + l->next_off, &next, sizeof(next));
}

void *pst_head(const pst_list *l, const sim_acct *a)
{
    void *h;
    memcpy(&h, (const char *)a + l->head_off, sizeof(h));
    return h;
}

void pst_set_head(const pst_list *l, sim_acct *a, void *head)
{
    memcpy((char *)a + l->head_off, &head, sizeof(head));
}

/* ------------------------------------------------------------- dump */

static json_t *dec_text(at_dec d)
{
    char buf[AT_DEC_STRLEN];
    if (at_dec_format(d, buf) < 0) {
        return NULL; /* an invalid scale: never produced by the venue */
    }
    return json_string(buf);
}

static json_t *field_json(const pst_field *f, const void *p)
{
    switch (f->kind) {
    case F_STR:
        return json_string(p);
    case F_DEC:
        return dec_text(*(const at_dec *)p);
    case F_I64:
        return json_integer(*(const int64_t *)p);
    case F_INT:
        return json_integer(*(const int *)p);
    case F_BOOL:
        return json_boolean(*(const bool *)p);
    case F_SIDE:
        return json_string(*(const bool *)p ? "buy" : "sell");
    case F_INST:
        return json_string((*(sim_inst *const *)p)->inst_id);
    case F_JSON: {
        const json_t *j = *(json_t *const *)p;
        return j ? json_deep_copy(j) : json_null();
    }
    case F_OSTATE:
        return json_string(PST_ORD_STATES[*(const sim_ord_state *)p]);
    case F_ASTATE:
        return json_string(PST_ALGO_STATES[*(const sim_algo_state *)p]);
    }
    return NULL;
}

static json_t *record_json(const pst_list *l, const void *rec)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < l->nfields; i++) {
        const pst_field *f = &l->fields[i];
        if (json_object_set_new(o, f->key, field_json(f, (const char *)rec + f->off)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* One list: every live record, and finished ones up to the keep limit. */
static json_t *list_json(const pst_list *l, const sim_acct *a, const venue_keep *keep)
{
    size_t max = (size_t)-1, done = 0;
    if (l->has_keep) {
        memcpy(&max, (const char *)keep + l->keep_off, sizeof(max));
    }
    json_t *arr = json_array();
    for (const void *r = pst_head(l, a); arr && r; r = pst_next(l, r)) {
        bool live = l->live && l->live(r);
        if (!live && done++ >= max) {
            continue;
        }
        json_t *o = record_json(l, r);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Per instrument: the next public trade id and the funding last seen. */
static json_t *insts_json(const sim_exchange *x)
{
    json_t *arr = json_array();
    size_t n = market_ninst(x->market);
    for (size_t i = 0; arr && i < n && i < SIM_MAX_INST; i++) {
        const sim_inst *in = market_inst(x->market, i);
        json_t *rate = dec_text(x->funding_rate_seen[i]);
        json_t *o = rate ? json_pack("{s:s, s:I, s:I, s:o}", "instId", in->inst_id, "nextTradeId",
                                     (json_int_t)in->next_trade_id, "fundingSeenMs",
                                     (json_int_t)x->funding_seen_ms[i], "fundingRateSeen", rate)
                         : NULL;
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *venue_state_dump(const sim_exchange *x, const sim_acct *a, const venue_keep *keep)
{
    json_t *st =
        json_pack("{s:i, s:s, s:{s:o?}, s:o?, s:o?, s:I}", "format", VENUE_STATE_FORMAT, "posMode",
                  a->pos_mode == SIM_NET_MODE ? "net_mode" : "long_short_mode", "cash", "USDT",
                  dec_text(a->cash), "makerFeeRate", dec_text(a->maker_fee_rate), "takerFeeRate",
                  dec_text(a->taker_fee_rate), "nextId", (json_int_t)a->next_id);
    for (size_t i = 0; st && i < PST_NLISTS; i++) {
        json_t *arr = list_json(&PST_LISTS[i], a, keep);
        if (!arr || json_object_set_new(st, PST_LISTS[i].key, arr) != 0) {
            json_decref(st);
            return NULL;
        }
    }
    json_t *insts = st ? insts_json(x) : NULL;
    if (!insts || json_object_set_new(st, "instruments", insts) != 0) {
        json_decref(st);
        return NULL;
    }
    return st;
}

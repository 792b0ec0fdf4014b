/* The algo endpoints: trade/order-algo, cancel-algos, orders-algo-pending,
 * orders-algo-history, and the algo object they (and the WS orders-algo
 * push) show. Trigger logic is in algo.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- json */

static const char *algo_state(const sim_algo *g)
{
    if (g->state == SIM_ALGO_EFFECTIVE) {
        return g->failed ? "order_failed" : "effective";
    }
    return g->state == SIM_ALGO_CANCELED ? "canceled" : "live";
}

static json_t *px_or_empty(at_dec d, bool set)
{
    return set ? sim_dec_json(d) : json_string("");
}

json_t *algo_json(const sim_exchange *x, const sim_acct *a, const sim_algo *g)
{
    (void)x;
    bool trig = strcmp(g->ord_type, "trigger") == 0;
    bool fired = g->state == SIM_ALGO_EFFECTIVE;
    const sim_order *o = g->ord_id[0] ? order_find(a, g->ord_id, NULL) : NULL;
    char lever[16];
    snprintf(lever, sizeof(lever), "%d", acct_lever(a, g->inst, g->td_mode, g->pos_side));
    json_t *j = json_object();
    json_object_set_new(j, "activePx", json_string(""));
    json_object_set_new(j, "actualPx",
                        o && o->acc_fill_sz.m > 0 ? sim_dec_json(o->avg_px) : json_string(""));
    json_object_set_new(j, "actualSide", json_string(g->actual_side));
    json_object_set_new(j, "actualSz", fired ? sim_dec_json(g->sz) : json_string("0"));
    json_object_set_new(j, "algoClOrdId", json_string(g->algo_cl_ord_id));
    json_object_set_new(j, "algoId", json_string(g->algo_id));
    json_object_set_new(j, "amendPxOnTriggerType", json_string(""));
    json_object_set_new(j, "attachAlgoOrds",
                        g->attach_algo ? json_deep_copy(g->attach_algo) : json_array());
    json_object_set_new(j, "cTime", sim_ms_json(g->c_time_ms));
    json_object_set_new(j, "callbackRatio", json_string(""));
    json_object_set_new(j, "callbackSpread", json_string(""));
    json_object_set_new(j, "ccy", json_string(""));
    json_object_set_new(j, "clOrdId", json_string(g->cl_ord_id));
    json_object_set_new(j, "closeFraction", json_string(g->close_fraction ? "1" : ""));
    json_object_set_new(j, "failCode", json_string(""));
    json_object_set_new(j, "instId", json_string(g->inst->inst_id));
    json_object_set_new(j, "instType", json_string("SWAP"));
    json_object_set_new(j, "last", sim_dec_json(g->inst->last));
    json_object_set_new(j, "lever", json_string(lever));
    json_object_set_new(j, "linkedOrd", json_pack("{s:s}", "ordId", g->parent_ord_id));
    json_object_set_new(j, "moveTriggerPx", json_string(""));
    json_object_set_new(j, "ordId", json_string(g->ord_id));
    json_object_set_new(j, "ordIdList", g->ord_id[0] ? json_pack("[s]", g->ord_id) : json_array());
    json_object_set_new(j, "ordPx", px_or_empty(g->order_px, trig));
    json_object_set_new(j, "ordType", json_string(g->ord_type));
    json_object_set_new(j, "posSide", json_string(g->pos_side));
    json_object_set_new(j, "pxLimit", json_string(""));
    json_object_set_new(j, "pxSpread", json_string(""));
    json_object_set_new(j, "pxVar", json_string(""));
    json_object_set_new(j, "quickMgnType", json_string(""));
    json_object_set_new(j, "reduceOnly", json_string(g->reduce_only ? "true" : "false"));
    json_object_set_new(j, "side", json_string(g->buy ? "buy" : "sell"));
    json_object_set_new(j, "slOrdPx", px_or_empty(g->sl_ord_px, g->has_sl));
    json_object_set_new(j, "slTriggerPx", px_or_empty(g->sl_trigger_px, g->has_sl));
    json_object_set_new(j, "slTriggerPxType", json_string(g->has_sl ? g->sl_px_type : ""));
    json_object_set_new(j, "state", json_string(algo_state(g)));
    json_object_set_new(j, "sz",
                        g->close_fraction && !fired ? json_string("0") : sim_dec_json(g->sz));
    json_object_set_new(j, "szLimit", json_string(""));
    json_object_set_new(j, "tag", json_string(g->tag));
    json_object_set_new(j, "tdMode", json_string(g->td_mode));
    json_object_set_new(j, "tgtCcy", json_string(""));
    json_object_set_new(j, "timeInterval", json_string(""));
    json_object_set_new(j, "tpOrdPx", px_or_empty(g->tp_ord_px, g->has_tp));
    json_object_set_new(j, "tpTriggerPx", px_or_empty(g->tp_trigger_px, g->has_tp));
    json_object_set_new(j, "tpTriggerPxType", json_string(g->has_tp ? g->tp_px_type : ""));
    json_object_set_new(j, "triggerPx", px_or_empty(g->trigger_px, trig));
    json_object_set_new(j, "triggerPxType", json_string(trig ? g->trigger_px_type : ""));
    json_object_set_new(j, "triggerTime", sim_ms_json(g->trigger_time_ms));
    json_object_set_new(j, "uTime", sim_ms_json(g->u_time_ms));
    return j;
}

/* ------------------------------------------------------------- place */

typedef struct algo_err {
    const char *code;
    char msg[200];
} algo_err;

static bool bad(algo_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool bad(algo_err *e, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return false;
}

static bool alnum_max(const char *s, size_t max)
{
    if (strlen(s) > max) {
        return false;
    }
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* instId, tdMode, side, posSide, ids: the same rules as normal orders. */
static bool algo_common(sim_exchange *x, const sim_acct *a, const json_t *b, sim_algo *g,
                        algo_err *e)
{
    const char *id = sim_json_str(b, "instId"), *td = sim_json_str(b, "tdMode");
    const char *side = sim_json_str(b, "side"), *ps = sim_json_str(b, "posSide");
    if (!*id) {
        return bad(e, "50014", "Parameter instId can not be empty.");
    }
    if (!(g->inst = market_find(x->market, id))) {
        return bad(e, "51001",
                   "Instrument ID, Instrument ID code, or Spread ID doesn't exist. (instId %s)",
                   id);
    }
    if (strcmp(td, "cross") != 0 && strcmp(td, "isolated") != 0) {
        return bad(e, "51000", "Parameter tdMode error (cross or isolated, got \"%s\")", td);
    }
    if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0) {
        return bad(e, "51000", "Parameter side error (buy or sell, got \"%s\")", side);
    }
    if (a->pos_mode == SIM_LONG_SHORT_MODE ? strcmp(ps, "long") != 0 && strcmp(ps, "short") != 0
                                           : *ps && strcmp(ps, "net") != 0) {
        return bad(e, "51000", "Parameter posSide error (got \"%s\")", ps);
    }
    const char *cl = sim_json_str(b, "clOrdId"), *acl = sim_json_str(b, "algoClOrdId");
    const char *tag = sim_json_str(b, "tag");
    if (!alnum_max(cl, 32) || !alnum_max(acl, 32)) {
        return bad(e, "51000", "Parameter algoClOrdId error (up to 32 letters and digits)");
    }
    if (!alnum_max(tag, 16)) {
        return bad(e, "51000", "Parameter tag error (up to 16 letters and digits)");
    }
    snprintf(g->td_mode, sizeof(g->td_mode), "%s", td);
    snprintf(g->pos_side, sizeof(g->pos_side), "%s", *ps ? ps : "net");
    snprintf(g->cl_ord_id, sizeof(g->cl_ord_id), "%s", cl);
    /* ccxt sends its client id as clOrdId; OKX echoes it as algoClOrdId. */
    snprintf(g->algo_cl_ord_id, sizeof(g->algo_cl_ord_id), "%s", *acl ? acl : cl);
    snprintf(g->tag, sizeof(g->tag), "%s", tag);
    g->buy = side[0] == 'b';
    return true;
}

/* sz (contracts, lot/min rules) or closeFraction "1" (the whole position). */
static bool algo_size(const sim_acct *a, const json_t *b, sim_algo *g, algo_err *e)
{
    at_dec cf;
    int rc = sim_json_dec(b, "closeFraction", &cf);
    if (rc == AT_OK) {
        if (at_dec_cmp(cf, sim_dec_i(1)) != 0 || strcmp(g->ord_type, "trigger") == 0) {
            return bad(e, "51000",
                       "Parameter closeFraction error (only \"1\" with conditional "
                       "or oco)");
        }
        if (a->pos_mode == SIM_NET_MODE && !g->reduce_only) {
            return bad(e, "51000",
                       "Parameter reduceOnly error (closeFraction in net_mode needs reduceOnly "
                       "true)");
        }
        if (pos_closable(a, g->inst, g->buy, g->pos_side, g->td_mode).m == 0) {
            return bad(e, "51169",
                       "Order failed because you don't have any positions in this direction "
                       "for this contract to reduce or close. (%s %s)",
                       g->inst->inst_id, g->pos_side);
        }
        g->close_fraction = true;
        g->sz = ex_zero();
        return true;
    }
    if (sim_json_dec(b, "sz", &g->sz) != AT_OK || g->sz.m <= 0) {
        return bad(e, "51000", "Parameter sz error (sz or closeFraction is required)");
    }
    if (!ex_is_multiple(g->sz, g->inst->lot_sz)) {
        return bad(e, "51121", "Order quantity must be a multiple of the lot size. (sz)");
    }
    if (at_dec_cmp(g->sz, g->inst->min_sz) < 0) {
        return bad(e, "51020", "Your order should meet or exceed the minimum order amount. (sz)");
    }
    return true;
}

/* The legs ordType asks for. */
static bool algo_legs(const json_t *b, sim_algo *g, algo_err *e)
{
    const char *scode;
    if (strcmp(g->ord_type, "trigger") == 0) {
        const char *why = NULL;
        char type[8];
        int rc = algo_parse_trigger(b, g->inst, &g->trigger_px, &g->order_px, type, &why);
        if (rc <= 0) {
            return bad(e, "51000",
                       "Parameter %s error (trigger orders need triggerPx and "
                       "orderPx, -1 for market)",
                       rc < 0 ? why : "triggerPx");
        }
        snprintf(g->trigger_px_type, sizeof(g->trigger_px_type), "%s", type);
        g->trigger_dir = at_dec_cmp(g->trigger_px, ex_ref_px(g->inst, type)) > 0 ? 1 : -1;
        const json_t *att = json_object_get(b, "attachAlgoOrds");
        if (att) {
            const char *why2 = algo_check_attach(att, g->inst, &scode);
            if (why2) {
                return bad(e, scode, "%s", why2);
            }
            g->attach_algo = json_deep_copy(att);
        }
        return true;
    }
    json_t *probe = json_deep_copy(b);
    json_t *arr = json_pack("[o]", probe);
    const char *why = algo_check_attach(arr, g->inst, &scode);
    json_decref(arr);
    if (why) {
        return bad(e, scode, "%s", why);
    }
    algo_parse_tpsl(b, g->inst, g);
    if (strcmp(g->ord_type, "oco") == 0 && !(g->has_tp && g->has_sl)) {
        return bad(e, "51000", "Parameter tpTriggerPx error (oco needs both TP and SL)");
    }
    return true;
}

static json_t *algo_item(const json_t *b, const char *algo_id, const char *code, const char *msg)
{
    const char *cl = sim_json_str(b, "clOrdId"), *acl = sim_json_str(b, "algoClOrdId");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "algoClOrdId", *acl ? acl : cl, "algoId",
                     algo_id, "clOrdId", cl, "sCode", code, "sMsg", msg, "tag",
                     sim_json_str(b, "tag"));
}

void algo_place(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    const json_t *b = c->body;
    if (!json_is_object(b)) {
        sim_reply_err(r, 400, "50002", "JSON syntax error (expected an object)");
        return;
    }
    sim_algo tmp;
    algo_err e;
    memset(&tmp, 0, sizeof(tmp));
    const char *type = sim_json_str(b, "ordType");
    bool ro = false;
    if (strcmp(type, "conditional") != 0 && strcmp(type, "oco") != 0 &&
        strcmp(type, "trigger") != 0) {
        bad(&e, "51000", "Parameter ordType error (conditional, oco or trigger, got \"%s\")", type);
    } else if (ex_json_bool(b, "reduceOnly", &ro) == AT_EINVAL) {
        bad(&e, "51000", "Parameter reduceOnly error (true or false)");
    } else {
        snprintf(tmp.ord_type, sizeof(tmp.ord_type), "%s", type);
        tmp.reduce_only = ro;
        bool cx = false;
        tmp.cxl_on_close_pos = ex_json_bool(b, "cxlOnClosePos", &cx) == AT_OK && cx;
        if (algo_common(x, a, b, &tmp, &e) && algo_size(a, b, &tmp, &e) && algo_legs(b, &tmp, &e)) {
            e.code = NULL;
        }
    }
    if (e.code) {
        json_decref(tmp.attach_algo);
        sim_reply_add(r, algo_item(b, "", e.code, e.msg));
        sim_reply_settle(r);
        return;
    }
    sim_algo *g = algo_alloc(x, a, tmp.inst);
    if (!g) {
        json_decref(tmp.attach_algo);
        sim_reply_err(r, 500, "50026", "System error (out of memory)");
        return;
    }
    /* Keep the allocated id, times and list link; take the parsed rest. */
    char id[SIM_ID_LEN];
    snprintf(id, sizeof(id), "%s", g->algo_id);
    struct sim_algo *next = g->next;
    int64_t ct = g->c_time_ms;
    *g = tmp;
    snprintf(g->algo_id, sizeof(g->algo_id), "%s", id);
    g->next = next;
    g->c_time_ms = g->u_time_ms = ct;
    g->state = SIM_ALGO_LIVE;
    g->armed = true;
    sim_reply_add(r, algo_item(b, g->algo_id, "0", ""));
    sim_reply_settle(r);
    algo_push(x, a, g);
}

/* ------------------------------------------------------------- cancel */

void algo_cancel(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    size_t n = json_array_size(c->body);
    if (!json_is_array(c->body) || n == 0 || n > EX_MAX_BATCH) {
        sim_reply_err(r, 400, "51000",
                      "Parameter algoId error (an array of 1 to %d {algoId, instId})",
                      EX_MAX_BATCH);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(c->body, i);
        const char *id = sim_json_str(it, "algoId"), *inst = sim_json_str(it, "instId");
        sim_algo *g = a->algos;
        while (g && strcmp(g->algo_id, id) != 0) {
            g = g->next;
        }
        if (!*id || !g || strcmp(g->inst->inst_id, inst) != 0 || g->state != SIM_ALGO_LIVE) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "Cancellation failed as the order has been filled, canceled or does not "
                     "exist. (algoId %s, instId %s)",
                     id, inst);
            sim_reply_add(
                r, json_pack("{s:s, s:s, s:s}", "algoId", id, "sCode", "51400", "sMsg", msg));
            continue;
        }
        g->state = SIM_ALGO_CANCELED;
        g->u_time_ms = x->now_ms;
        algo_push(x, a, g);
        sim_reply_add(r, json_pack("{s:s, s:s, s:s}", "algoId", id, "sCode", "0", "sMsg", ""));
    }
    sim_reply_settle(r);
}

/* ------------------------------------------------------------- lists */

static bool algo_listed(const sim_call *c, const sim_algo *g, bool pending)
{
    const char *types = sim_param_get(c, "ordType"), *inst = sim_param_get(c, "instId");
    const char *id = sim_param_get(c, "algoId"), *itype = sim_param_get(c, "instType");
    const char *state = sim_param_get(c, "state");
    bool live = g->state == SIM_ALGO_LIVE;
    if (pending ? !(live && g->armed) : live) {
        return false;
    }
    if (!ex_in_list(types, g->ord_type) || (inst && strcmp(inst, g->inst->inst_id) != 0) ||
        (id && strcmp(id, g->algo_id) != 0) || (itype && strcmp(itype, "SWAP") != 0)) {
        return false;
    }
    return pending || !state || strcmp(state, algo_state(g)) == 0;
}

static void list_algos(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r, bool pending)
{
    if (!sim_param_get(c, "ordType")) {
        sim_reply_err(r, 400, "50014", "Parameter ordType can not be empty.");
        return;
    }
    if (!pending && !sim_param_get(c, "state") && !sim_param_get(c, "algoId")) {
        sim_reply_err(r, 400, "50015", "Either parameter state or algoId is required.");
        return;
    }
    const char *lim = sim_param_get(c, "limit");
    long limit = lim ? strtol(lim, NULL, 10) : 100;
    limit = limit < 1 || limit > 100 ? 100 : limit;
    r->data = r->data ? r->data : json_array();
    /* after=algoId: the page of older ones (the list is newest first) */
    const char *after = sim_param_get(c, "after");
    bool skipping = after && *after;
    for (const sim_algo *g = a->algos; g && (long)json_array_size(r->data) < limit; g = g->next) {
        if (skipping) {
            skipping = strcmp(g->algo_id, after) != 0;
            continue;
        }
        if (algo_listed(c, g, pending)) {
            json_array_append_new(r->data, algo_json(x, a, g));
        }
    }
}

void algo_pending(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    list_algos(x, a, c, r, true);
}

void algo_history(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    list_algos(x, a, c, r, false);
}

/* Algo orders: conditional (TP and/or SL), oco (both), trigger; the
 * attached TP/SL of normal orders (attachAlgoOrds); the trade/order-algo,
 * cancel-algos, orders-algo-pending and orders-algo-history endpoints; and
 * the trigger check of exchange_tick.
 *
 * Trigger rule: a TP/SL algo closes on its `side`. For a sell (closing a
 * long) TP fires when the reference price rises to tpTriggerPx and SL when it
 * falls to slTriggerPx; for a buy the other way round. A trigger order fires
 * when the price crosses triggerPx from the side it was on at placement. The
 * order it places is market when the order price is -1, else limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- legs */

static bool px_type_ok(const char *t)
{
    return !*t || strcmp(t, "last") == 0 || strcmp(t, "mark") == 0 || strcmp(t, "index") == 0;
}

/* One price leg (TP, SL or trigger): 1 present, 0 absent, -1 invalid (*why
 * set). The order price is "-1" (market) or a positive price on the tick
 * grid; absent means market. */
static int parse_leg(const json_t *o, const char *const keys[3], const sim_inst *in, at_dec *trig,
                     at_dec *ord_px, char type[8], const char **why)
{
    int rc = sim_json_dec(o, keys[0], trig);
    if (rc == AT_ENOENT) {
        return 0;
    }
    if (rc != AT_OK || trig->m <= 0) {
        *why = keys[0];
        return -1;
    }
    rc = sim_json_dec(o, keys[1], ord_px);
    if (rc == AT_ENOENT) {
        *ord_px = sim_dec_i(-1);
    } else if (rc != AT_OK || (at_dec_cmp(*ord_px, sim_dec_i(-1)) != 0 &&
                               (ord_px->m <= 0 || !ex_is_multiple(*ord_px, in->tick_sz)))) {
        *why = keys[1];
        return -1;
    }
    const char *t = sim_json_str(o, keys[2]);
    if (!px_type_ok(t)) {
        *why = keys[2];
        return -1;
    }
    snprintf(type, 8, "%s", *t ? t : "last");
    return 1;
}

static const char *const TP_KEYS[3] = {"tpTriggerPx", "tpOrdPx", "tpTriggerPxType"};
static const char *const SL_KEYS[3] = {"slTriggerPx", "slOrdPx", "slTriggerPxType"};
static const char *const TRIG_KEYS[3] = {"triggerPx", "orderPx", "triggerPxType"};

int algo_parse_trigger(const json_t *o, const sim_inst *in, at_dec *trig, at_dec *ord_px,
                       char type[8], const char **why)
{
    return parse_leg(o, TRIG_KEYS, in, trig, ord_px, type, why);
}

const char *algo_parse_tpsl(const json_t *o, const sim_inst *in, sim_algo *g)
{
    const char *why = NULL;
    int tp = parse_leg(o, TP_KEYS, in, &g->tp_trigger_px, &g->tp_ord_px, g->tp_px_type, &why);
    int sl = tp < 0
                 ? 0
                 : parse_leg(o, SL_KEYS, in, &g->sl_trigger_px, &g->sl_ord_px, g->sl_px_type, &why);
    if (tp < 0 || sl < 0) {
        return why;
    }
    g->has_tp = tp > 0;
    g->has_sl = sl > 0;
    return NULL;
}

const char *algo_check_attach(const json_t *attach, const sim_inst *in, const char **scode)
{
    *scode = "51000";
    if (!json_is_array(attach) || json_array_size(attach) > 10) {
        return "Parameter attachAlgoOrds error (an array of at most 10 TP/SL objects)";
    }
    size_t i;
    const json_t *it;
    json_array_foreach(attach, i, it)
    {
        sim_algo g;
        memset(&g, 0, sizeof(g));
        if (!json_is_object(it)) {
            return "Parameter attachAlgoOrds error (each item must be an object)";
        }
        const char *bad = algo_parse_tpsl(it, in, &g);
        if (bad) {
            static const struct {
                const char *key, *msg;
            } msgs[] = {
                {"tpTriggerPx", "Parameter tpTriggerPx error"},
                {"tpOrdPx", "Parameter tpOrdPx error (-1 for market or a price on the tick grid)"},
                {"tpTriggerPxType", "Parameter tpTriggerPxType error (last, mark or index)"},
                {"slTriggerPx", "Parameter slTriggerPx error"},
                {"slOrdPx", "Parameter slOrdPx error (-1 for market or a price on the tick grid)"},
                {"slTriggerPxType", "Parameter slTriggerPxType error (last, mark or index)"},
            };
            for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
                if (strcmp(msgs[k].key, bad) == 0) {
                    return msgs[k].msg;
                }
            }
            return "Parameter attachAlgoOrds error";
        }
        if (!g.has_tp && !g.has_sl) {
            return "Parameter attachAlgoOrds error (tpTriggerPx or slTriggerPx is required)";
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- lifecycle */

void algo_free(sim_algo *g)
{
    json_decref(g->attach_algo);
    free(g);
}

sim_algo *algo_alloc(sim_exchange *x, sim_acct *a, sim_inst *in)
{
    sim_algo *g = calloc(1, sizeof(*g));
    if (!g) {
        return NULL;
    }
    acct_new_id(a, g->algo_id);
    g->inst = in;
    g->state = SIM_ALGO_LIVE;
    g->c_time_ms = g->u_time_ms = x->now_ms;
    g->next = a->algos;
    a->algos = g;
    return g;
}

void algo_push(sim_exchange *x, sim_acct *a, const sim_algo *g)
{
    if (x->push.algo) {
        json_t *j = algo_json(x, a, g);
        x->push.algo(x->push.arg, a, j);
        json_decref(j);
    }
}

void algo_attach(sim_exchange *x, sim_acct *a, sim_order *parent)
{
    size_t i;
    json_t *it;
    json_array_foreach(parent->attach_algo, i, it)
    {
        sim_algo *g = algo_alloc(x, a, parent->inst);
        if (!g) {
            return;
        }
        algo_parse_tpsl(it, parent->inst, g); /* validated by order_submit */
        snprintf(g->ord_type, sizeof(g->ord_type), "%s",
                 g->has_tp && g->has_sl ? "oco" : "conditional");
        snprintf(g->algo_cl_ord_id, sizeof(g->algo_cl_ord_id), "%s",
                 sim_json_str(it, "attachAlgoClOrdId"));
        snprintf(g->pos_side, sizeof(g->pos_side), "%s", parent->pos_side);
        snprintf(g->td_mode, sizeof(g->td_mode), "%s", parent->td_mode);
        snprintf(g->parent_ord_id, sizeof(g->parent_ord_id), "%s", parent->ord_id);
        snprintf(g->tag, sizeof(g->tag), "%s", parent->tag);
        g->buy = !parent->buy; /* it closes what the parent opens */
        g->reduce_only = true;
        /* order_json lists the ids of the algos it created */
        json_object_set_new(it, "attachAlgoId", json_string(g->algo_id));
    }
}

void algo_parent_update(sim_exchange *x, sim_acct *a, const sim_order *parent)
{
    for (sim_algo *g = a->algos; g; g = g->next) {
        if (g->state != SIM_ALGO_LIVE || g->armed || strcmp(g->parent_ord_id, parent->ord_id)) {
            continue;
        }
        g->sz = parent->acc_fill_sz; /* sized to what was filled */
        g->u_time_ms = x->now_ms;
        if (parent->state == SIM_FILLED || (parent->state == SIM_CANCELED && g->sz.m > 0)) {
            g->armed = true;
            algo_push(x, a, g);
        } else if (parent->state == SIM_CANCELED) {
            g->state = SIM_ALGO_CANCELED;
            algo_push(x, a, g);
        }
    }
}

void algo_position_closed(sim_exchange *x, sim_acct *a, const sim_inst *in, const char *pos_side)
{
    if (x->keep_algos) {
        return; /* the fault: orphans stay for the engine to cancel */
    }
    for (sim_algo *g = a->algos; g; g = g->next) {
        bool closes = g->parent_ord_id[0] || g->close_fraction || g->cxl_on_close_pos;
        if (g->state == SIM_ALGO_LIVE && g->armed && closes && g->inst == in &&
            strcmp(g->pos_side, pos_side) == 0) {
            g->state = SIM_ALGO_CANCELED;
            g->u_time_ms = x->now_ms;
            algo_push(x, a, g);
        }
    }
}

/* ------------------------------------------------------------- triggers */

/* Which leg fires now: 't' TP, 's' SL, 'g' trigger, 0 none. */
static char due(const sim_algo *g)
{
    if (strcmp(g->ord_type, "trigger") == 0) {
        at_dec px = ex_ref_px(g->inst, g->trigger_px_type);
        int c = at_dec_cmp(px, g->trigger_px);
        return px.m > 0 && (g->trigger_dir > 0 ? c >= 0 : c <= 0) ? 'g' : 0;
    }
    if (g->has_tp) {
        at_dec px = ex_ref_px(g->inst, g->tp_px_type);
        int c = at_dec_cmp(px, g->tp_trigger_px);
        if (px.m > 0 && (g->buy ? c <= 0 : c >= 0)) {
            return 't';
        }
    }
    if (g->has_sl) {
        at_dec px = ex_ref_px(g->inst, g->sl_px_type);
        int c = at_dec_cmp(px, g->sl_trigger_px);
        if (px.m > 0 && (g->buy ? c >= 0 : c <= 0)) {
            return 's';
        }
    }
    return 0;
}

static json_t *trigger_request(const sim_acct *a, const sim_algo *g, at_dec sz, at_dec ord_px)
{
    bool market = ord_px.m < 0;
    bool net = a->pos_mode == SIM_NET_MODE;
    json_t *req =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "instId", g->inst->inst_id, "tdMode",
                  g->td_mode, "side", g->buy ? "buy" : "sell", "posSide", g->pos_side, "ordType",
                  market ? "market" : "limit", "sz", sim_dec_json(sz), "tag", g->tag);
    if (!market) {
        json_object_set_new(req, "px", sim_dec_json(ord_px));
    }
    if (net && g->reduce_only) {
        json_object_set_new(req, "reduceOnly", json_true());
    }
    if (g->attach_algo) {
        json_object_set(req, "attachAlgoOrds", g->attach_algo);
    }
    return req;
}

static void fire(sim_exchange *x, sim_acct *a, sim_algo *g, char leg)
{
    at_dec ord_px = leg == 't' ? g->tp_ord_px : leg == 's' ? g->sl_ord_px : g->order_px;
    at_dec sz = g->sz;
    at_dec closable = pos_closable(a, g->inst, g->buy, g->pos_side, g->td_mode);
    bool ls_close =
        a->pos_mode == SIM_LONG_SHORT_MODE && g->buy == (strcmp(g->pos_side, "short") == 0);
    if (g->close_fraction) {
        sz = closable;
    } else if (g->reduce_only || ls_close) {
        /* never more than what is left to close (the position may have
         * shrunk since the algo was sized) */
        sz = ex_min(sz, closable);
    }
    /* Effective before the order goes in: its fill may close the position,
     * which cancels the other closing algos but must not touch this one. */
    g->state = SIM_ALGO_EFFECTIVE;
    g->trigger_time_ms = g->u_time_ms = x->now_ms;
    snprintf(g->actual_side, sizeof(g->actual_side), "%s",
             leg == 't'   ? "tp"
             : leg == 's' ? "sl"
                          : "");
    g->failed = true;
    if (sz.m > 0) {
        json_t *req = trigger_request(a, g, sz, ord_px);
        sim_order *o = NULL;
        json_t *it = order_submit(x, a, req, g, &o);
        if (o) {
            snprintf(g->ord_id, sizeof(g->ord_id), "%s", o->ord_id);
            g->failed = false;
        }
        json_decref(it);
        json_decref(req);
    }
    if (!g->close_fraction) {
        g->sz = sz;
    }
    algo_push(x, a, g);
}

void algo_tick(sim_exchange *x)
{
    for (sim_acct *a = x->accts; a; a = a->next) {
        /* New algos (a triggered order's attachments) go to the head and are
         * not visited in this pass. */
        for (sim_algo *g = a->algos; g; g = g->next) {
            if (g->state != SIM_ALGO_LIVE || !g->armed) {
                continue;
            }
            char leg = due(g);
            if (leg) {
                fire(x, a, g, leg);
            }
        }
    }
}

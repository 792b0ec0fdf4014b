/* The trade/... order endpoints: place, batch, cancel, amend, the order
 * queries, fills and close-position. Validation of new orders lives in
 * order.c (order_submit); per-item failures are sCode/sMsg inside data with
 * HTTP 200, settled into code "0"/"1"/"2". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"

#define MAX_LIMIT 100

/* ------------------------------------------------------------- helpers */

/* Numeric ids of equal digit count compare as strings; shorter is smaller. */
static int id_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) {
        return la < lb ? -1 : 1;
    }
    return strcmp(a, b);
}

/* after = older than (smaller id), before = newer than (larger id). */
static bool page_ok(const sim_call *c, const char *id)
{
    const char *after = sim_param_get(c, "after"), *before = sim_param_get(c, "before");
    return (!after || id_cmp(id, after) < 0) && (!before || id_cmp(id, before) > 0);
}

/* limit: 1..100, default 100; false (reply set) when malformed. */
static bool parse_limit(const sim_call *c, sim_reply *r, size_t *out)
{
    const char *s = sim_param_get(c, "limit");
    *out = MAX_LIMIT;
    if (!s) {
        return true;
    }
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > MAX_LIMIT) {
        sim_reply_err(r, 400, "51000", "Parameter limit error (1 to %d, got \"%s\")", MAX_LIMIT, s);
        return false;
    }
    *out = (size_t)v;
    return true;
}

/* instType filter: this exchange only has SWAP. Returns -1 (reply set) on an
 * unknown type, 0 when the type excludes everything, 1 to go on. */
static int inst_type_filter(const sim_call *c, sim_reply *r, bool required)
{
    static const char *const types[] = {"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", NULL};
    const char *t = sim_param_get(c, "instType");
    if (!t) {
        if (required) {
            sim_reply_err(r, 400, "50014", "Parameter instType can not be empty.");
            return -1;
        }
        return 1;
    }
    for (size_t i = 0; types[i]; i++) {
        if (strcmp(types[i], t) == 0) {
            return strcmp(t, "SWAP") == 0;
        }
    }
    sim_reply_err(r, 400, "51000", "Parameter instType error (got \"%s\")", t);
    return -1;
}

static bool ts_in_range(const sim_call *c, int64_t ts)
{
    const char *b = sim_param_get(c, "begin"), *e = sim_param_get(c, "end");
    return (!b || ts >= strtoll(b, NULL, 10)) && (!e || ts <= strtoll(e, NULL, 10));
}

static void ensure_array(sim_reply *r)
{
    if (!r->data) {
        r->data = json_array();
    }
}

/* ------------------------------------------------------------- place */

void order_place(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    if (!json_is_object(c->body)) {
        sim_reply_err(r, 400, "50002", "JSON syntax error (expected an order object)");
        return;
    }
    sim_reply_add(r, order_submit(x, a, c->body, NULL, NULL));
    sim_reply_settle(r);
}

void order_batch(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    size_t n = json_array_size(c->body);
    if (!json_is_array(c->body) || n == 0) {
        sim_reply_err(r, 400, "50002", "JSON syntax error (expected an array of orders)");
        return;
    }
    if (n > EX_MAX_BATCH) {
        sim_reply_err(r, 400, "51000",
                      "Parameter orders error (at most %d orders per batch, got %zu)", EX_MAX_BATCH,
                      n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sim_reply_add(r, order_submit(x, a, json_array_get(c->body, i), NULL, NULL));
    }
    sim_reply_settle(r);
}

/* ------------------------------------------------------------- cancel */

static json_t *cancel_item(const char *cl, const char *ord_id, int64_t ts, const char *code,
                           const char *msg)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:s}", "clOrdId", cl, "ordId", ord_id, "ts",
                     sim_ms_json(ts), "sCode", code, "sMsg", msg);
}

static json_t *cancel_one(sim_exchange *x, sim_acct *a, const json_t *req)
{
    const char *inst_id = sim_json_str(req, "instId"), *id = sim_json_str(req, "ordId");
    const char *cl = sim_json_str(req, "clOrdId");
    if (!*inst_id) {
        return cancel_item(cl, id, x->now_ms, "50014", "Parameter instId can not be empty.");
    }
    if (!*id && !*cl) {
        return cancel_item(cl, id, x->now_ms, "50015",
                           "Either parameter ordId or clOrdId is required.");
    }
    sim_order *o = order_find(a, id, cl);
    if (!o || strcmp(o->inst->inst_id, inst_id) != 0 || !order_is_live(o)) {
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Order cancellation failed as the order has been filled, canceled or does not "
                 "exist. (%s %s)",
                 inst_id, *id ? id : cl);
        return cancel_item(cl, id, x->now_ms, "51400", msg);
    }
    order_cancel_now(x, a, o, "1");
    return cancel_item(o->cl_ord_id, o->ord_id, x->now_ms, "0", "");
}

void order_cancel(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    if (!json_is_object(c->body)) {
        sim_reply_err(r, 400, "50002", "JSON syntax error (expected an object)");
        return;
    }
    sim_reply_add(r, cancel_one(x, a, c->body));
    sim_reply_settle(r);
}

void order_cancel_batch(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    size_t n = json_array_size(c->body);
    if (!json_is_array(c->body) || n == 0 || n > EX_MAX_BATCH) {
        sim_reply_err(r, 400, "51000",
                      "Parameter orders error (an array of 1 to %d cancel requests)", EX_MAX_BATCH);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sim_reply_add(r, cancel_one(x, a, json_array_get(c->body, i)));
    }
    sim_reply_settle(r);
}

/* ------------------------------------------------------------- amend */

typedef struct amend_req {
    bool has_sz, has_px;
    at_dec sz, px;
} amend_req;

static const char *amend_check(sim_exchange *x, const sim_order *o, const json_t *req, amend_req *m,
                               const char **code, char *msg, size_t len)
{
    (void)x;
    const sim_inst *in = o->inst;
    int rs = sim_json_dec(req, "newSz", &m->sz), rp = sim_json_dec(req, "newPx", &m->px);
    m->has_sz = rs == AT_OK;
    m->has_px = rp == AT_OK;
    *code = "51000";
    if (rs == AT_EINVAL || (m->has_sz && m->sz.m <= 0)) {
        return "Parameter newSz error (a positive number of contracts)";
    }
    if (rp == AT_EINVAL || (m->has_px && m->px.m <= 0)) {
        return "Parameter newPx error (a positive price)";
    }
    if (!m->has_sz && !m->has_px) {
        *code = "50015";
        return "Either parameter newSz or newPx is required.";
    }
    if (m->has_sz) {
        if (!ex_is_multiple(m->sz, in->lot_sz)) {
            *code = "51121";
            return "Order quantity must be a multiple of the lot size. (newSz)";
        }
        if (at_dec_cmp(m->sz, in->min_sz) < 0) {
            *code = "51020";
            return "Your order should meet or exceed the minimum order amount. (newSz)";
        }
        if (at_dec_cmp(m->sz, o->acc_fill_sz) <= 0) {
            return "Parameter newSz error (must exceed the filled size accFillSz)";
        }
    }
    if (m->has_px) {
        if (o->px.m <= 0) {
            return "Parameter newPx error (the order has no price)";
        }
        if (!ex_is_multiple(m->px, in->tick_sz)) {
            char s[AT_DEC_STRLEN];
            snprintf(msg, len, "Parameter newPx error (not a multiple of tickSz %s)",
                     sim_dec_str(in->tick_sz, s));
            return msg;
        }
    }
    return NULL;
}

static json_t *amend_item(const sim_order *o, const json_t *req, int64_t ts, const char *code,
                          const char *msg)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s}", "clOrdId",
                     o ? o->cl_ord_id : sim_json_str(req, "clOrdId"), "ordId",
                     o ? o->ord_id : sim_json_str(req, "ordId"), "ts", sim_ms_json(ts), "reqId",
                     sim_json_str(req, "reqId"), "sCode", code, "sMsg", msg, "subCode", "");
}

static json_t *amend_one(sim_exchange *x, sim_acct *a, const json_t *req)
{
    const char *inst_id = sim_json_str(req, "instId"), *id = sim_json_str(req, "ordId");
    const char *cl = sim_json_str(req, "clOrdId");
    if (!*inst_id) {
        return amend_item(NULL, req, x->now_ms, "50014", "Parameter instId can not be empty.");
    }
    if (!*id && !*cl) {
        return amend_item(NULL, req, x->now_ms, "50015",
                          "Either parameter ordId or clOrdId is required.");
    }
    sim_order *o = order_find(a, id, cl);
    if (!o || strcmp(o->inst->inst_id, inst_id) != 0 || !order_is_live(o)) {
        return amend_item(o, req, x->now_ms, "51503",
                          "Order modification failed as the order has been filled, canceled or "
                          "does not exist.");
    }
    amend_req m;
    const char *code;
    char buf[160];
    const char *why = amend_check(x, o, req, &m, &code, buf, sizeof(buf));
    if (why) {
        bool cxl = false;
        if (ex_json_bool(req, "cxlOnFail", &cxl) == AT_OK && cxl) {
            order_cancel_now(x, a, o, "1");
        }
        return amend_item(o, req, x->now_ms, code, why);
    }
    if (m.has_sz) {
        o->sz = m.sz;
    }
    if (m.has_px) {
        o->px = m.px;
    }
    o->u_time_ms = x->now_ms;
    ex_push_order(x, a, o, NULL, sim_json_str(req, "reqId"));
    match_amended(x, a, o);
    return amend_item(o, req, x->now_ms, "0", "");
}

void order_amend(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    if (json_is_array(c->body)) {
        size_t n = json_array_size(c->body);
        for (size_t i = 0; i < n && i < EX_MAX_BATCH; i++) {
            sim_reply_add(r, amend_one(x, a, json_array_get(c->body, i)));
        }
    } else if (json_is_object(c->body)) {
        sim_reply_add(r, amend_one(x, a, c->body));
    } else {
        sim_reply_err(r, 400, "50002", "JSON syntax error (expected an object)");
        return;
    }
    sim_reply_settle(r);
}

/* ------------------------------------------------------------- queries */

void order_get(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    (void)x;
    const char *inst_id = sim_param_get(c, "instId"), *id = sim_param_get(c, "ordId");
    const char *cl = sim_param_get(c, "clOrdId");
    if (!inst_id) {
        sim_reply_err(r, 400, "50014", "Parameter instId can not be empty.");
        return;
    }
    if (!id && !cl) {
        sim_reply_err(r, 400, "50015", "Either parameter ordId or clOrdId is required.");
        return;
    }
    sim_order *o = order_find(a, id, cl);
    if (!o || strcmp(o->inst->inst_id, inst_id) != 0) {
        sim_reply_err(r, 200, "51603", "Order does not exist (%s %s)", inst_id, id ? id : cl);
        return;
    }
    sim_reply_add(r, order_json(o));
}

/* orders-pending (live) and orders-history (finished), newest first. */
static void list_orders(sim_acct *a, const sim_call *c, sim_reply *r, bool live)
{
    size_t limit;
    if (!parse_limit(c, r, &limit)) {
        return;
    }
    const char *inst_id = sim_param_get(c, "instId"), *type = sim_param_get(c, "ordType");
    const char *state = sim_param_get(c, "state");
    ensure_array(r);
    for (sim_order *o = a->orders; o && json_array_size(r->data) < limit; o = o->next) {
        if (order_is_live(o) != live || (inst_id && strcmp(inst_id, o->inst->inst_id) != 0) ||
            !ex_in_list(type, o->ord_type) || !page_ok(c, o->ord_id) ||
            (!live && !ts_in_range(c, o->c_time_ms))) {
            continue;
        }
        json_t *j = order_json(o);
        if (state && strcmp(state, json_string_value(json_object_get(j, "state"))) != 0) {
            json_decref(j);
            continue;
        }
        json_array_append_new(r->data, j);
    }
}

void order_pending(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    (void)x;
    int f = inst_type_filter(c, r, false);
    if (f < 0) {
        return;
    }
    ensure_array(r);
    if (f > 0) {
        list_orders(a, c, r, true);
    }
}

void order_history(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    (void)x;
    int f = inst_type_filter(c, r, true);
    if (f < 0) {
        return;
    }
    ensure_array(r);
    if (f > 0) {
        list_orders(a, c, r, false);
    }
}

static json_t *fill_json(const sim_fill *f)
{
    char rate[AT_DEC_STRLEN];
    /* OKX shows the fee rate negative when the user pays it. */
    sim_dec_str(sim_neg(f->fee_rate), rate);
    json_t *j = json_object();
    json_object_set_new(j, "billId", json_string(f->bill_id));
    json_object_set_new(j, "clOrdId", json_string(f->cl_ord_id));
    json_object_set_new(j, "execType", json_string(f->exec_type));
    json_object_set_new(j, "fee", sim_dec_json(f->fee));
    json_object_set_new(j, "feeCcy", json_string("USDT"));
    json_object_set_new(j, "feeRate", json_string(rate));
    json_object_set_new(j, "fillFwdPx", json_string(""));
    json_object_set_new(j, "fillIdxPx", json_string(""));
    json_object_set_new(j, "fillMarkPx", sim_dec_json(f->fill_mark_px));
    json_object_set_new(j, "fillMarkVol", json_string(""));
    json_object_set_new(j, "fillPnl", sim_dec_json(f->fill_pnl));
    json_object_set_new(j, "fillPx", sim_dec_json(f->fill_px));
    json_object_set_new(j, "fillPxUsd", json_string(""));
    json_object_set_new(j, "fillPxVol", json_string(""));
    json_object_set_new(j, "fillSz", sim_dec_json(f->fill_sz));
    json_object_set_new(j, "fillTime", sim_ms_json(f->ts_ms));
    json_object_set_new(j, "instId", json_string(f->inst->inst_id));
    json_object_set_new(j, "instType", json_string("SWAP"));
    json_object_set_new(j, "ordId", json_string(f->ord_id));
    json_object_set_new(j, "posSide", json_string(f->pos_side));
    json_object_set_new(j, "side", json_string(f->buy ? "buy" : "sell"));
    json_object_set_new(j, "subType", json_string(f->buy ? "1" : "2"));
    json_object_set_new(j, "tag", json_string(f->tag));
    json_object_set_new(j, "tradeId", sim_ms_json(f->trade_id));
    json_object_set_new(j, "ts", sim_ms_json(f->ts_ms));
    return j;
}

void order_fills(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    (void)x;
    size_t limit;
    int f = inst_type_filter(c, r, false);
    if (f < 0 || !parse_limit(c, r, &limit)) {
        return;
    }
    ensure_array(r);
    const char *inst_id = sim_param_get(c, "instId"), *ord_id = sim_param_get(c, "ordId");
    for (const sim_fill *fl = a->fills; f > 0 && fl && json_array_size(r->data) < limit;
         fl = fl->next) {
        if ((inst_id && strcmp(inst_id, fl->inst->inst_id) != 0) ||
            (ord_id && strcmp(ord_id, fl->ord_id) != 0) || !page_ok(c, fl->bill_id) ||
            !ts_in_range(c, fl->ts_ms)) {
            continue;
        }
        json_array_append_new(r->data, fill_json(fl));
    }
}

/* ------------------------------------------------------------- close */

/* autoCxl: cancel live orders that would close the same position first. */
static void cancel_closing(sim_exchange *x, sim_acct *a, const sim_position *p)
{
    for (sim_order *o = a->orders; o; o = o->next) {
        if (order_is_live(o) && o->inst == p->inst && o->reduce_only &&
            strcmp(o->pos_side, p->pos_side) == 0) {
            order_cancel_now(x, a, o, "1");
        }
    }
}

void order_close_position(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    r->trade = true;
    const json_t *b = c->body;
    const char *inst_id = sim_json_str(b, "instId"), *mgn = sim_json_str(b, "mgnMode");
    const char *pos_side = sim_json_str(b, "posSide");
    if (!*inst_id || !*mgn) {
        sim_reply_err(r, 400, "50014", "Parameter %s can not be empty.",
                      !*inst_id ? "instId" : "mgnMode");
        return;
    }
    sim_inst *in = market_find(x->market, inst_id);
    if (!in) {
        sim_reply_err(r, 200, "51001",
                      "Instrument ID, Instrument ID code, or Spread ID doesn't exist. (instId %s)",
                      inst_id);
        return;
    }
    bool ls = a->pos_mode == SIM_LONG_SHORT_MODE;
    if (ls ? (strcmp(pos_side, "long") != 0 && strcmp(pos_side, "short") != 0)
           : (*pos_side && strcmp(pos_side, "net") != 0)) {
        sim_reply_err(r, 400, "51000", "Parameter posSide error (got \"%s\")", pos_side);
        return;
    }
    pos_side = ls ? pos_side : "net";
    sim_position *p = pos_find(a, in, pos_side, mgn);
    if (!p || p->pos.m == 0) {
        sim_reply_err(r, 200, "51023", "Position does not exist (%s %s %s)", inst_id, pos_side,
                      mgn);
        return;
    }
    bool auto_cxl = false;
    if (ex_json_bool(b, "autoCxl", &auto_cxl) == AT_OK && auto_cxl) {
        cancel_closing(x, a, p);
    }
    at_dec e = pos_exposure(p);
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:s}", "instId", inst_id,
                            "tdMode", mgn, "side", e.m > 0 ? "sell" : "buy", "posSide", pos_side,
                            "ordType", "market", "sz", sim_dec_json(ex_abs(e)), "reduceOnly", !ls,
                            "clOrdId", sim_json_str(b, "clOrdId"), "tag", sim_json_str(b, "tag"));
    json_t *it = order_submit(x, a, req, NULL, NULL);
    json_decref(req);
    const char *code = sim_json_str(it, "sCode");
    if (strcmp(code, "0") != 0) {
        sim_reply_err(r, 200, code, "%s", sim_json_str(it, "sMsg"));
    } else {
        sim_reply_add(r, json_pack("{s:s, s:s, s:s, s:s}", "clOrdId", sim_json_str(b, "clOrdId"),
                                   "instId", inst_id, "posSide", pos_side, "tag",
                                   sim_json_str(b, "tag")));
    }
    json_decref(it);
}

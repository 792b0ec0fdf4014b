/* Manual trading: POST /api/orders, DELETE /api/orders/{account}/{ordId},
 * POST /api/positions/close. Each becomes one ORDER_INTENT (origin
 * "manual", id "manual/<ms>-<n>"), published on the bus like a trader's:
 * the executor and the risk chain decide, the exchange answers, and this
 * file only waits for that answer to tell the person who asked — 201/200
 * when the venue took it, 422 with the rule when a rule refused it, 502
 * with the venue's code when the venue did, 202 when nothing came back in
 * DASH_RESULT_WAIT_MS (the order may still go through). */
#include <stdio.h>
#include <string.h>

#include "dash.h"

#define ORIGIN "manual"

/* ------------------------------------------------------------ pending answers */

static dash_pending *pending_new(dash *d)
{
    for (size_t i = 0; i < DASH_MAX_PENDING; i++) {
        if (d->pend[i].phase == DP_FREE) {
            dash_pending *p = &d->pend[i];
            memset(p, 0, sizeof(*p));
            p->d = d;
            return p;
        }
    }
    return NULL;
}

static void pending_free(dash_pending *p)
{
    p->d->h->timer_cancel(p->timer);
    p->timer = NULL;
    p->phase = DP_FREE;
}

static dash_pending *pending_find(dash *d, const char *intent_id)
{
    for (size_t i = 0; i < DASH_MAX_PENDING; i++) {
        if (d->pend[i].phase != DP_FREE && strcmp(d->pend[i].intent_id, intent_id) == 0) {
            return &d->pend[i];
        }
    }
    return NULL;
}

static json_t *answer(const dash_pending *p, const char *state)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "intent_id", p->intent_id, "clOrdId",
                          p->cl_ord_id, "ordId", p->ord_id, "state", state);
    if (o && p->account[0]) {
        json_object_set_new(o, "account", json_string(p->account));
    }
    return o;
}

static int ok_status(const dash_pending *p)
{
    return p->op == AT_INTENT_PLACE ? 201 : 200;
}

static void on_wait_over(void *arg)
{
    dash_pending *p = arg;
    dash *d = p->d;
    p->timer = NULL; /* a one-shot is gone once it fired */
    if (p->phase == DP_STATE) {
        /* accepted, no state pushed yet: it rests (or is being filled) */
        dash_reply(d, p->req, ok_status(p), answer(p, "live"));
    } else {
        json_t *o = answer(p, "pending");
        if (o) {
            json_object_set_new(o, "message",
                                json_string("no answer from the venue yet; the order may still "
                                            "go through: follow it in the account's orders"));
        }
        dash_reply(d, p->req, 202, o);
    }
    pending_free(p);
}

static void reply_refused(dash_pending *p, const at_ev_order_result *r)
{
    dash *d = p->d;
    const char *msg = r->msg ? r->msg : "";
    json_t *err;
    int status;
    if (strcmp(r->code, "risk_rejected") == 0) {
        /* the rule from its verdict; the message starts with it too */
        char rule[2 * AT_ID_LEN];
        snprintf(rule, sizeof(rule), "%s", p->rule);
        if (!rule[0]) {
            const char *colon = strstr(msg, ": ");
            snprintf(rule, sizeof(rule), "%.*s", colon ? (int)(colon - msg) : 0, msg);
        }
        status = 422;
        err = json_pack("{s:s, s:s, s:s}", "code", "risk_rejected", "rule", rule, "message", msg);
    } else if (strcmp(r->code, "duplicate") == 0) {
        status = 409;
        err = json_pack("{s:s, s:s}", "code", "duplicate", "message", msg);
    } else {
        status = 502; /* the venue refused: its own code */
        err = json_pack("{s:s, s:s}", "code", r->code[0] ? r->code : "venue_error", "message",
                        msg[0] ? msg : "the venue refused without a reason");
    }
    if (err) {
        json_object_set_new(err, "intent_id", json_string(p->intent_id));
    }
    d->h->log(d->inst, AT_LOG_INFO, "manual intent %s refused (%d): %s", p->intent_id, status, msg);
    dash_reply(d, p->req, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

static void on_result(dash *d, const at_ev_order_result *r)
{
    dash_pending *p = pending_find(d, r->intent_id);
    if (!p || p->phase != DP_RESULT) {
        return;
    }
    if (!r->ok) {
        reply_refused(p, r);
        pending_free(p);
        return;
    }
    snprintf(p->ord_id, sizeof(p->ord_id), "%s", r->ord_id[0] ? r->ord_id : p->ord_id);
    if (r->cl_ord_id[0]) {
        snprintf(p->cl_ord_id, sizeof(p->cl_ord_id), "%s", r->cl_ord_id);
    }
    if (p->op == AT_INTENT_CANCEL) {
        dash_reply(d, p->req, 200, answer(p, "canceled"));
    } else if (p->op == AT_INTENT_CLOSE_POSITION) {
        dash_reply(d, p->req, 200, answer(p, "accepted"));
    } else {
        const at_ev_order *o = dash_order_find(d, p->account, p->ord_id, p->cl_ord_id);
        if (!o) {
            /* its first state is usually a push away: wait a moment for it */
            p->phase = DP_STATE;
            d->h->timer_cancel(p->timer);
            p->timer = d->h->timer_add(d->inst, DASH_STATE_WAIT_MS, 0, on_wait_over, p);
            if (p->timer) {
                return;
            }
        }
        dash_reply(d, p->req, 201, answer(p, o ? dash_state_name(o->state) : "live"));
    }
    pending_free(p);
}

static void on_order(dash *d, const at_ev_order *o)
{
    for (size_t i = 0; i < DASH_MAX_PENDING; i++) {
        dash_pending *p = &d->pend[i];
        if (p->phase == DP_STATE && strcmp(p->account, o->account) == 0 &&
            ((o->cl_ord_id[0] && strcmp(o->cl_ord_id, p->cl_ord_id) == 0) ||
             (o->ord_id[0] && strcmp(o->ord_id, p->ord_id) == 0))) {
            if (o->ord_id[0]) {
                snprintf(p->ord_id, sizeof(p->ord_id), "%s", o->ord_id);
            }
            dash_reply(d, p->req, 201, answer(p, dash_state_name(o->state)));
            pending_free(p);
            return;
        }
    }
}

void dash_trade_on_event(dash *d, const at_event *e)
{
    switch (e->type) {
    case AT_EV_RISK_VERDICT: {
        const at_ev_risk_verdict *v = (const at_ev_risk_verdict *)e;
        dash_pending *p = v->allowed ? NULL : pending_find(d, v->intent_id);
        if (p) {
            bool named = v->h.version >= 3 && v->name && v->name[0];
            snprintf(p->rule, sizeof(p->rule), "%s%s%s", v->rule, named ? "/" : "",
                     named ? v->name : "");
        }
        return;
    }
    case AT_EV_ORDER_RESULT:
        on_result(d, (const at_ev_order_result *)e);
        return;
    case AT_EV_ORDER:
        on_order(d, (const at_ev_order *)e);
        return;
    default:
        return;
    }
}

void dash_trade_stop(dash *d)
{
    for (size_t i = 0; i < DASH_MAX_PENDING; i++) {
        if (d->pend[i].phase != DP_FREE) {
            pending_free(&d->pend[i]); /* the server is gone: nobody to answer */
        }
    }
}

/* ------------------------------------------------------------ publishing */

/* A fresh intent of `op` with a manual id; the pending answer registered.
 * NULL after answering the request (out of room or memory). */
static at_ev_order_intent *intent_new(dash *d, uint64_t req, at_intent_op op, const char *account,
                                      const char *inst_id, dash_pending **pp)
{
    dash_pending *p = pending_new(d);
    if (!p) {
        dash_reply_fail(d, req, 503, "busy",
                        "%d manual orders are waiting for their answers; try again shortly",
                        DASH_MAX_PENDING);
        return NULL;
    }
    at_ev_order_intent *it = (at_ev_order_intent *)d->h->event_new(d->inst, AT_EV_ORDER_INTENT, 0);
    at_inst inst = d->h->inst_intern(inst_id);
    if (!it || !inst) {
        if (it) {
            d->h->event_release(&it->h);
        }
        dash_reply_fail(d, req, it ? 400 : 500, it ? "bad_value" : "internal", "%s",
                        it ? "instId is not an instrument id" : "out of memory");
        return NULL;
    }
    int64_t ms = dash_now_ms(d);
    unsigned long long n = ++d->seq;
    it->h.inst = inst;
    it->op = op;
    snprintf(it->intent_id, sizeof(it->intent_id), ORIGIN "/%lld-%llu", (long long)ms, n);
    /* the executor's rule (letters and digits of the id), spelled out so
     * the answer can name it */
    snprintf(it->cl_ord_id, sizeof(it->cl_ord_id), ORIGIN "%lld%llu", (long long)ms, n);
    snprintf(it->account, sizeof(it->account), "%s", account);
    snprintf(it->origin, sizeof(it->origin), ORIGIN);
    p->phase = DP_RESULT;
    p->req = req;
    p->op = op;
    snprintf(p->intent_id, sizeof(p->intent_id), "%s", it->intent_id);
    snprintf(p->cl_ord_id, sizeof(p->cl_ord_id), "%s", it->cl_ord_id);
    snprintf(p->account, sizeof(p->account), "%s", account);
    *pp = p;
    return it;
}

static void intent_publish(dash *d, dash_pending *p, at_ev_order_intent *it, const char *what)
{
    p->timer = d->h->timer_add(d->inst, DASH_RESULT_WAIT_MS, 0, on_wait_over, p);
    d->h->log(d->inst, AT_LOG_INFO, "manual intent %s: %s", it->intent_id, what);
    d->h->metric_add(d->m_orders, 1);
    d->h->publish(d->inst, &it->h, 0);
}

/* ------------------------------------------------------------ POST /api/orders */

static void place_checked(dash_job *j)
{
    dash *d = j->d;
    const dash_order_req *o = &j->order;
    json_t *row = json_array_get(j->rows, 0);
    dash_err e;
    if (!row) {
        dash_fail(&e, 400, "unknown_instrument", "instId",
                  "%s is not an instrument of %s (GET /api/instruments lists them)", o->inst_id,
                  o->account);
        goto refuse;
    }
    dash_inst_spec spec;
    memset(&spec, 0, sizeof(spec));
    const struct {
        const char *col;
        at_dec *out;
    } cols[] = {{"lot", &spec.lot_sz},
                {"min", &spec.min_sz},
                {"tick", &spec.tick_sz},
                {"lever", &spec.max_lever}};
    for (size_t i = 0; i < 4; i++) {
        const char *s = json_string_value(json_object_get(row, cols[i].col));
        if (s && d->h->dec_parse(s, (size_t)-1, cols[i].out) != AT_OK) {
            *cols[i].out = (at_dec){0, 0};
        }
    }
    const char *mode = json_string_value(json_object_get(row, "pos_mode"));
    const char *td = json_string_value(json_object_get(row, "td_mode"));
    const char *state = json_string_value(json_object_get(row, "state"));
    if (state && *state && strcmp(state, "live") != 0) {
        dash_fail(&e, 400, "instrument_not_live", "instId", "%s is %s, not live", o->inst_id,
                  state);
        goto refuse;
    }
    bool hedge = mode ? strcmp(mode, "long_short_mode") == 0 : o->pos_side != AT_POS_NET;
    const dash_ticker *t = dash_ticker_find(d, d->h->inst_intern(o->inst_id));
    at_dec ref = t ? t->t.last : (at_dec){0, 0};
    if (dash_order_check(d->h, o, &spec, hedge, ref, &e) != 0) {
        goto refuse;
    }
    /* Leverage 0 means "leave it as set": the venue then opens at its own
     * setting while the risk rules judge at default_leverage. An entry takes
     * the open position's leverage (both agree on it) or must name one. */
    at_dec lever = o->lever;
    if (lever.m == 0 && at_place_is_entry(o->side, o->pos_side, o->reduce_only)) {
        at_inst inst = d->h->inst_intern(o->inst_id);
        const at_ev_position *pos =
            inst ? dash_position_find(d, o->account, inst, o->pos_side, false) : NULL;
        if (pos && pos->lever.m > 0) {
            lever = pos->lever;
        } else {
            dash_fail(&e, 400, "missing", "lever",
                      "a new position needs lever: the venue would use its own setting, which "
                      "the risk rules cannot see");
            goto refuse;
        }
    }
    dash_pending *p;
    at_ev_order_intent *it = intent_new(d, j->req, AT_INTENT_PLACE, o->account, o->inst_id, &p);
    if (!it) {
        goto done;
    }
    it->side = o->side;
    it->pos_side = o->pos_side;
    it->isolated = o->td_given ? o->isolated : td && strcmp(td, "isolated") == 0;
    it->ord_type = o->ord_type;
    it->sz = o->sz;
    it->px = o->px;
    it->reduce_only = o->reduce_only;
    it->tp_trigger_px = o->tp;
    it->sl_trigger_px = o->sl;
    it->leverage = lever;
    it->ttl_ms = o->ttl_ms;
    char sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN], what[256];
    d->h->dec_format(o->sz, sz);
    d->h->dec_format(o->px, px);
    snprintf(what, sizeof(what), "%s %s %s %s%s%s on %s", o->side == AT_SIDE_BUY ? "buy" : "sell",
             sz, o->inst_id, o->ord_type == AT_ORDT_LIMIT ? "limit @ " : "market",
             o->ord_type == AT_ORDT_LIMIT ? px : "", o->reduce_only ? " reduce-only" : "",
             o->account);
    intent_publish(d, p, it, what);
    goto done;
refuse:
    dash_reply_err(d, j->req, &e);
done:
    dash_job_free(j);
}

void dash_route_order_place(dash *d, uint64_t req, const at_httpd_req *hr)
{
    dash_err e;
    json_t *body = dash_body_parse(hr->body, hr->body_len, &e);
    dash_order_req o;
    if (!body || dash_order_parse(d->h, body, &o, &e) != 0) {
        json_decref(body);
        dash_reply_err(d, req, &e);
        return;
    }
    json_decref(body);
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    j->order = o;
    const at_db_value p[] = {AT_DB_S(j->order.account), AT_DB_S(j->order.inst_id)};
    dash_job_query(j,
                   "SELECT i.lot_sz AS lot, i.min_sz AS min, i.tick_sz AS tick, i.max_lever AS "
                   "lever, i.state, a.pos_mode, a.td_mode FROM instruments i LEFT JOIN accounts "
                   "a ON a.id = i.exchange WHERE i.exchange = $1 AND i.inst_id = $2",
                   p, 2, NULL, place_checked);
}

/* ------------------------------------------------------------ cancel */

static void publish_cancel(dash *d, uint64_t req, const char *account, const char *inst_id,
                           const char *ord_id)
{
    dash_pending *p;
    at_ev_order_intent *it = intent_new(d, req, AT_INTENT_CANCEL, account, inst_id, &p);
    if (!it) {
        return;
    }
    snprintf(it->ord_id, sizeof(it->ord_id), "%s", ord_id);
    snprintf(p->ord_id, sizeof(p->ord_id), "%s", ord_id);
    char what[200];
    snprintf(what, sizeof(what), "cancel %s %s on %s", inst_id, ord_id, account);
    intent_publish(d, p, it, what);
}

static void cancel_looked_up(dash_job *j)
{
    json_t *row = json_array_get(j->rows, 0);
    const char *inst = json_string_value(json_object_get(row, "inst_id"));
    const char *state = json_string_value(json_object_get(row, "state"));
    if (!inst) {
        dash_reply_fail(j->d, j->req, 404, "unknown_order", "no order %.60s on %.60s", j->q, j->a);
    } else if (state && (strcmp(state, "filled") == 0 || strcmp(state, "canceled") == 0)) {
        dash_reply_fail(j->d, j->req, 409, "order_closed", "order %.60s is %s already", j->q,
                        state);
    } else {
        publish_cancel(j->d, j->req, j->a, inst, j->q);
    }
    dash_job_free(j);
}

void dash_route_order_cancel(dash *d, uint64_t req, const dash_route *r)
{
    if (strlen(r->a) >= AT_ID_LEN || strlen(r->b) >= AT_ID_LEN) {
        dash_reply_fail(d, req, 404, "unknown_order", "no such order");
        return;
    }
    const at_ev_order *o = dash_order_find(d, r->a, r->b, NULL);
    if (o) {
        const char *inst = d->h->inst_name(o->h.inst);
        publish_cancel(d, req, r->a, inst ? inst : "", r->b);
        return;
    }
    /* not open on the bus: the orders table knows where it was placed */
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    snprintf(j->a, sizeof(j->a), "%s", r->a);
    snprintf(j->q, sizeof(j->q), "%s", r->b);
    const at_db_value p[] = {AT_DB_S(j->a), AT_DB_S(j->q)};
    dash_job_query(j,
                   "SELECT inst_id, state FROM orders WHERE account = $1 AND ord_id = $2 ORDER BY "
                   "updated_ms DESC LIMIT 1",
                   p, 2, NULL, cancel_looked_up);
}

/* ------------------------------------------------------------ close */

void dash_route_position_close(dash *d, uint64_t req, const at_httpd_req *hr)
{
    dash_err e;
    json_t *body = dash_body_parse(hr->body, hr->body_len, &e);
    dash_order_req o;
    if (!body || dash_close_parse(body, &o, &e) != 0) {
        json_decref(body);
        dash_reply_err(d, req, &e);
        return;
    }
    json_decref(body);
    at_inst inst = dash_position_inst(d, o.account, o.inst_id);
    const at_ev_position *pos =
        inst ? dash_position_find(d, o.account, inst, o.pos_side, !o.pos_side_given) : NULL;
    if (!pos && !o.pos_side_given) {
        bool two = inst && dash_position_find(d, o.account, inst, AT_POS_LONG, false) &&
                   dash_position_find(d, o.account, inst, AT_POS_SHORT, false);
        dash_reply_fail(d, req, two ? 400 : 404, two ? "missing" : "no_position",
                        two ? "both sides of %s are open on %s: say which (posSide long or short)"
                            : "no open position of %s on %s",
                        o.inst_id, o.account);
        return;
    }
    dash_pending *p;
    at_ev_order_intent *it = intent_new(d, req, AT_INTENT_CLOSE_POSITION, o.account, o.inst_id, &p);
    if (!it) {
        return;
    }
    it->pos_side = pos ? pos->pos_side : o.pos_side;
    it->isolated = o.td_given ? o.isolated : pos && pos->isolated;
    char what[200];
    snprintf(what, sizeof(what), "close %s %s on %s", o.inst_id, dash_pos_side_name(it->pos_side),
             o.account);
    intent_publish(d, p, it, what);
}

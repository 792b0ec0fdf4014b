/* Order intents for this account -> OKX, with nothing lost and nothing sent
 * twice:
 *   1. the intent row is written (orders, state "sent") and only once storage
 *      has committed it does the request go out;
 *   2. the answer updates the row and is published as ORDER_RESULT;
 *   3. a request that got no answer (timeout, connection lost) is never
 *      repeated blind: trade/order?clOrdId= tells whether OKX has it;
 *   4. at start, rows left "sent" by a previous run are looked up the same
 *      way once the requests' expTime has passed (okx_recon.c finds them);
 *      one OKX never got is marked "unsent", and the intent's owner may
 *      publish it again: the same intent then takes its row over (only
 *      from "unsent", checked).
 * The rest of the start-up reconciliation (open orders and algo orders at
 * OKX that no intent of ours explains) is okx_recon.c's; order and fill
 * pushes of the private WebSocket are okx_push.c's, the questions that
 * catch up with them okx_ask.c's and okx_answer.c's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/failpoint.h>

#include "okx_order.h"
#include "okx_plugin.h"
#include "okx_recon.h"
#include "okx_sign.h"

static const char *const OPS[] = {"place", "cancel", "amend", "close_position", "cancel_algo"};

typedef struct intent {
    okx_ctx *c;
    at_ev_order_intent ev; /* a copy */
    const okx_inst *in;
    char inst_id[OKX_INST_ID_LEN];
    okx_order_req req; /* path, body, size and price as sent (lot- and tick-rounded) */
    int64_t sent_us;
    bool reconciling;     /* a row of a previous run */
    at_timer *wait;       /* lookup delayed past the request's expTime */
    struct intent *next;  /* in c->trade_waits while a reconciliation waits */
    char nonce[40];       /* taking over an unsent row: our mark in it */
    int64_t due_ms;       /* reconciling: past this a "not at OKX" is final */
    okx_lever_hold *hold; /* a place's leverage, held until it ends (okx_lever.c) */
} intent;

/* OKX drops a place request still unprocessed after its expTime header; a
 * lookup after that moment is conclusive. */
#define LOOKUP_GRACE_MS 1000
/* A row looked up this long after its request's expTime is too old to call
 * "unsent" (see on_lookup). */
#define UNSENT_MAX_AGE_MS (3600 * 1000)

/* ------------------------------------------------------------ results */

static void publish_result(okx_ctx *c, const intent *t, bool ok, const char *code, const char *msg,
                           const char *ord_id, int64_t latency_us)
{
    at_ev_order_result *e =
        (at_ev_order_result *)c->h->event_new(c->inst, AT_EV_ORDER_RESULT, strlen(msg) + 1);
    if (!e) {
        return;
    }
    e->h.inst = t->in ? t->in->id : 0;
    snprintf(e->intent_id, sizeof(e->intent_id), "%s", t->ev.intent_id);
    snprintf(e->cl_ord_id, sizeof(e->cl_ord_id), "%s", t->ev.cl_ord_id);
    snprintf(e->ord_id, sizeof(e->ord_id), "%s", ord_id ? ord_id : "");
    snprintf(e->account, sizeof(e->account), "%s", c->name);
    snprintf(e->code, sizeof(e->code), "%s", code);
    e->op = t->ev.op;
    e->ok = ok;
    e->msg = c->h->event_strdup(&e->h, msg);
    e->latency_us = latency_us;
    c->h->publish(c->inst, &e->h, 0);
}

/* Row update after an answer; state is one of the orders.state values. */
static void store_outcome(okx_ctx *c, const intent *t, const char *state, const char *code,
                          const char *msg, const char *ord_id, int64_t latency_us)
{
    const at_db_value p[] = {AT_DB_S(state),
                             AT_DB_S(code),
                             AT_DB_S(msg),
                             AT_DB_S(ord_id && *ord_id ? ord_id : NULL),
                             AT_DB_I(latency_us),
                             AT_DB_I(c->h->now_us() / 1000),
                             AT_DB_S(t->ev.intent_id)};
    c->h->db_write(c->inst,
                   /* The private feed may have told a later state (filled)
                    * before this answer arrived: never go back from it. */
                   "UPDATE orders SET state = CASE WHEN state IN ('sent', 'unknown') THEN $1 "
                   "ELSE state END, code = $2, msg = $3, ord_id = COALESCE($4, ord_id), "
                   "latency_us = $5, updated_ms = $6 WHERE intent_id = $7",
                   p, 7, NULL, NULL);
}

static void finish(intent *t, const char *state, bool ok, const char *code, const char *msg,
                   const char *ord_id, int64_t latency_us)
{
    okx_ctx *c = t->c;
    /* Every op has its row. A cancel, amend or cancel_algo that OKX took is
     * "done" (the order it acts on keeps its own row, updated by the orders
     * push); a close-position is an order of its own: "live" until its push. */
    bool order = t->ev.op == AT_INTENT_PLACE || t->ev.op == AT_INTENT_CLOSE_POSITION;
    store_outcome(c, t, ok && !order ? "done" : state, code, msg, ord_id, latency_us);
    c->h->log(c->inst, ok ? AT_LOG_INFO : AT_LOG_WARN, "%s %s %s: %s%s%s%s (%lld us)",
              OPS[t->ev.op], t->inst_id, t->ev.cl_ord_id, ok ? "ok" : "refused ", ok ? "" : code,
              *msg ? ": " : "", msg, (long long)latency_us);
    publish_result(c, t, ok, code, msg, ord_id, latency_us);
    /* The place ended: its leverage may change now, for the next waiting. */
    okx_lever_release(t->hold);
    free(t);
}

/* ------------------------------------------------------------ lookups */

static void on_wait_over(void *arg);

static void on_lookup(void *arg, const okx_reply *r)
{
    intent *t = arg;
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    if (r->err == AT_OK && strcmp(r->code, "0") == 0 && d) {
        const char *st = okx_jstr(d, "state");
        finish(t, *st ? st : "live", true, "0",
               t->reconciling ? "found at OKX after restart" : "found at OKX after a lost answer",
               okx_jstr(d, "ordId"), r->latency_us);
    } else if (r->err == AT_OK && strcmp(r->code, "51603") == 0 && t->reconciling &&
               t->c->h->now_us() / 1000 < t->due_ms) {
        /* Not at OKX yet, but its request (if it left) may still be in
         * flight: ask again once its expTime has passed. */
        okx_ctx *c = t->c;
        t->wait = c->h->timer_add(c->inst, t->due_ms - c->h->now_us() / 1000, 0, on_wait_over, t);
        if (!t->wait) {
            finish(t, "unknown", false, "", "outcome unknown: no timer to ask OKX again", NULL,
                   r->latency_us);
            return;
        }
        t->next = c->trade_waits;
        c->trade_waits = t;
    } else if (r->err == AT_OK && strcmp(r->code, "51603") == 0 && t->reconciling) {
        /* Past its expTime and not at OKX: the previous run stopped before
         * the request left. Not re-sent here: the intent's owner decides
         * (a trader publishes it again while its decision is recent). An
         * old row is not told apart from an order canceled unfilled, which
         * OKX forgets after about 2 h: never "unsent" then. */
        if (t->c->h->now_us() / 1000 - t->due_ms > UNSENT_MAX_AGE_MS) {
            finish(t, "failed", false, "51603",
                   "not at OKX, stored over an hour before: never placed, or canceled unfilled "
                   "and forgotten by OKX",
                   NULL, r->latency_us);
        } else {
            finish(t, "unsent", false, "unsent",
                   "not at OKX after its expTime: never sent before the restart", NULL,
                   r->latency_us);
        }
    } else if (r->err == AT_OK && strcmp(r->code, "51603") == 0) {
        finish(t, "failed", false, "51603", "no answer and not at OKX: not placed", NULL,
               r->latency_us);
    } else {
        /* Still unknown: keep the row "unknown" for the next start. */
        char msg[256];
        snprintf(msg, sizeof(msg), "outcome unknown: lookup failed: %s %s", r->code, r->msg);
        finish(t, "unknown", false, r->code, msg, NULL, r->latency_us);
    }
}

static void lookup(intent *t)
{
    char q[256] = "";
    okx_query_append(q, sizeof(q), "instId", t->inst_id);
    okx_query_append(q, sizeof(q), "clOrdId", t->ev.cl_ord_id);
    if (okx_rest_get(t->c->rest, "/api/v5/trade/order", q + 1, true, on_lookup, t) != AT_OK) {
        finish(t, "unknown", false, "", "outcome unknown: lookup could not be sent", NULL, 0);
    }
}

/* ------------------------------------------------------------ sending */

/* Answers that do not say whether the request was executed: no answer at
 * all, a server error, or OKX's own "timed out, check the result" codes. */
static bool outcome_unknown(const okx_reply *r)
{
    static const char *const codes[] = {"50001", "50004", "50013", "50026"};
    if (r->err != AT_OK || r->http >= 500) {
        return true;
    }
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(r->code, codes[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void on_wait_over(void *arg)
{
    intent *t = arg;
    t->wait = NULL; /* one-shot */
    for (intent **p = (intent **)&t->c->trade_waits; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    lookup(t);
}

static void on_answer(void *arg, const okx_reply *r)
{
    intent *t = arg;
    at_failpoint("okx.order_sent");
    int64_t lat = t->c->h->now_us() - t->sent_us;
    if (outcome_unknown(r)) {
        t->c->h->log(t->c->inst, AT_LOG_WARN,
                     "%s %s: outcome unknown (%s %s); asking OKX by clOrdId", OPS[t->ev.op],
                     t->ev.cl_ord_id, r->code, r->msg);
        if (t->ev.op == AT_INTENT_PLACE) {
            /* Past the expTime we sent, OKX will not execute it any more. */
            t->wait = t->c->h->timer_add(t->c->inst, LOOKUP_GRACE_MS, 0, on_wait_over, t);
            if (!t->wait) {
                lookup(t);
            }
        } else {
            finish(t, "unknown", false, "", r->msg, NULL, lat);
        }
        return;
    }
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    const char *scode = d ? okx_jstr(d, "sCode") : "";
    const char *smsg = d ? okx_jstr(d, "sMsg") : "";
    const char *code = *scode ? scode : r->code;
    const char *msg = *scode ? smsg : r->msg;
    bool ok = strcmp(code, "0") == 0;
    finish(t, ok ? "live" : "rejected", ok, code, msg, d ? okx_jstr(d, "ordId") : NULL, lat);
}

static void send_intent(intent *t)
{
    t->sent_us = t->c->h->now_us();
    /* expTime: OKX refuses the request if it is still queued after the
     * timeout, which makes a later lookup by clOrdId conclusive. */
    int64_t exp = t->ev.op == AT_INTENT_PLACE || t->ev.op == AT_INTENT_AMEND
                      ? t->sent_us / 1000 + t->c->timeout_ms
                      : 0;
    if (okx_rest_post_exp(t->c->rest, t->req.path, t->req.body, exp, on_answer, t) != AT_OK) {
        finish(t, "failed", false, "", "request could not be queued", NULL, 0);
    }
}

static void on_stamped(void *arg, int err, const char *error)
{
    intent *t = arg;
    if (err == AT_OK) {
        send_intent(t);
        return;
    }
    char text[256];
    snprintf(text, sizeof(text), "not sent: its row could not be stamped before the send: %s",
             error ? error : "storage error");
    finish(t, "failed", false, "", text, NULL, 0);
}

static void on_lever(void *arg, bool ok, const char *code, const char *msg)
{
    intent *t = arg;
    if (ok) {
        /* The leverage took a while (a call, maybe a queue): the row says
         * when the request leaves, so a reconciliation after a crash waits
         * for this request's expTime, not the row's first. */
        okx_ctx *c = t->c;
        const at_db_value p[] = {AT_DB_S(t->ev.intent_id), AT_DB_I(c->h->now_us() / 1000)};
        if (c->h->db_write(c->inst, "UPDATE orders SET updated_ms = $2 WHERE intent_id = $1", p, 2,
                           on_stamped, t) != AT_OK) {
            on_stamped(t, AT_EIO, "storage refused the write");
        }
        return;
    }
    char text[256];
    snprintf(text, sizeof(text), "not sent: set-leverage failed: %s", msg);
    finish(t, "rejected", false, code, text, NULL, 0);
}

static void not_stored(intent *t, const char *error)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "not sent: the intent could not be stored: %s",
             error ? error : "storage error");
    publish_result(t->c, t, false, "", msg, NULL, 0);
    t->c->h->log(t->c->inst, AT_LOG_ERROR, "%s %s: %s", OPS[t->ev.op], t->ev.cl_ord_id, msg);
    free(t);
}

static void on_stored(void *arg, int err, const char *error);

/* Taking over an "unsent" row: our nonce must be in it, else another
 * intent of that id already took it (or it was never unsent). */
static int on_takeover_row(void *arg, const at_db_row *row)
{
    intent *t = arg;
    const at_db_value *v = row->ncols > 0 ? &row->cols[0] : NULL;
    if (v && v->type == AT_DB_TEXT && v->u.s && strcmp(v->u.s, t->nonce) == 0) {
        t->nonce[0] = '\0'; /* it is ours */
    }
    return 1;
}

static void on_takeover_done(void *arg, int err, const char *error)
{
    intent *t = arg;
    if (err == AT_OK && !t->nonce[0]) {
        t->c->h->log(t->c->inst, AT_LOG_WARN,
                     "%s %s: sent again: its row said unsent (a previous run stopped before "
                     "sending it)",
                     OPS[t->ev.op], t->ev.cl_ord_id);
        on_stored(t, AT_OK, NULL);
        return;
    }
    not_stored(t, err != AT_OK ? error
                               : "an intent with this id is stored already (a duplicate: nothing "
                                 "sent)");
}

/* The takeover's UPDATE is committed (durable before anything is sent: a
 * crash after the send must find the row "sent", never "unsent" again):
 * now see whose nonce the row holds. */
static void on_takeover_written(void *arg, int err, const char *error)
{
    intent *t = arg;
    const at_db_value q[] = {AT_DB_S(t->ev.intent_id)};
    if (err != AT_OK ||
        t->c->h->db_query(t->c->inst,
                          "SELECT msg FROM orders WHERE intent_id = $1 AND state = 'sent'", q, 1,
                          on_takeover_row, on_takeover_done, t) != AT_OK) {
        not_stored(t, err != AT_OK ? error : "storage refused the query");
    }
}

/* The INSERT failed: a duplicate id, or the row a previous run left
 * "unsent" that this intent (published again by its owner) takes over. */
static void takeover(intent *t)
{
    okx_ctx *c = t->c;
    int64_t now = c->h->now_us();
    snprintf(t->nonce, sizeof(t->nonce), "resent %lld %p", (long long)now, (void *)t);
    const at_db_value p[] = {AT_DB_S(t->ev.intent_id),
                             AT_DB_S(c->name),
                             t->req.sent_sz.m ? AT_DB_D(t->req.sent_sz) : AT_DB_D(t->ev.sz),
                             t->req.sent_px.m ? AT_DB_D(t->req.sent_px) : AT_DB_N,
                             AT_DB_S(t->nonce),
                             AT_DB_I(now / 1000)};
    int rc = c->h->db_write(c->inst,
                            "UPDATE orders SET state = 'sent', sz = $3, px = $4, msg = $5, "
                            "code = NULL, updated_ms = $6 WHERE intent_id = $1 AND account = $2 "
                            "AND state = 'unsent'",
                            p, 6, on_takeover_written, t);
    if (rc != AT_OK) {
        not_stored(t, "storage refused the write");
    }
}

static void on_stored(void *arg, int err, const char *error)
{
    intent *t = arg;
    if (err != AT_OK) {
        /* Not stored, not sent, unless it takes over its own unsent row. */
        if (!t->nonce[0]) {
            takeover(t);
        } else {
            not_stored(t, error);
        }
        return;
    }
    at_failpoint("okx.order_stored");
    /* The leverage the intent was sized for is in force before the place
     * goes out; if it cannot be set, the place is refused, never sent. */
    char why[160] = "";
    int rc = 0;
    if (t->ev.op == AT_INTENT_PLACE && t->ev.leverage.m > 0) {
        okx_ctx *c = t->c;
        rc = okx_lever_ensure(c, t->inst_id, t->ev.isolated || c->td_mode == 1,
                              okx_order_pos_side(c, &t->ev), t->ev.leverage, on_lever, t, &t->hold,
                              why, sizeof(why));
    }
    if (rc < 0) {
        finish(t, "failed", false, "", why, NULL, 0);
    } else if (rc == 0) {
        send_intent(t);
    }
}

/* ------------------------------------------------------------ building */

static bool valid_cl_ord_id(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i])) {
            return false;
        }
    }
    return n > 0 && n <= 31;
}

/* clOrdId from the intent id: its alphanumerics, at most 32. */
static void derive_cl_ord_id(at_ev_order_intent *ev)
{
    if (ev->cl_ord_id[0]) {
        return;
    }
    size_t k = 0;
    /* 31, not 32: the attached TP/SL takes this id + "a" (<= 32 too). */
    for (const char *p = ev->intent_id; *p && k < 31; p++) {
        if (isalnum((unsigned char)*p)) {
            ev->cl_ord_id[k++] = *p;
        }
    }
    ev->cl_ord_id[k] = '\0';
}

static void store_intent(okx_ctx *c, intent *t)
{
    const at_ev_order_intent *ev = &t->ev;
    int64_t now = c->h->now_us() / 1000;
    const char *ps = okx_order_pos_side(c, ev);
    /* A place or close is an order under its own clOrdId; a cancel, amend or
     * cancel_algo names the order it acts on, and its row is keyed "op:id"
     * (never an OKX clOrdId, which is alphanumeric). */
    char key[AT_ID_LEN + 16];
    bool order = ev->op == AT_INTENT_PLACE || ev->op == AT_INTENT_CLOSE_POSITION;
    snprintf(key, sizeof(key), "%s%s%s", order ? "" : OPS[ev->op], order ? "" : ":",
             order ? ev->cl_ord_id : ev->intent_id);
    const at_db_value p[] = {
        AT_DB_S(ev->intent_id), AT_DB_S(key), AT_DB_S(c->name),
        AT_DB_S(ev->origin[0] ? ev->origin : "manual"),
        AT_DB_S(ev->decision_id[0] ? ev->decision_id : NULL), AT_DB_S(t->inst_id),
        AT_DB_S(OPS[ev->op]), AT_DB_S(ev->side == AT_SIDE_BUY ? "buy" : "sell"),
        AT_DB_S(ps ? ps : "net"), AT_DB_S(ev->isolated || c->td_mode ? "isolated" : "cross"),
        AT_DB_S(okx_order_type_name(ev->ord_type)),
        /* what is sent, rounded to lot and tick (a close: the intent's size) */
        t->req.sent_sz.m ? AT_DB_D(t->req.sent_sz) : (ev->sz.m ? AT_DB_D(ev->sz) : AT_DB_N),
        t->req.sent_px.m ? AT_DB_D(t->req.sent_px) : AT_DB_N, AT_DB_B(ev->reduce_only),
        ev->tp_trigger_px.m ? AT_DB_D(ev->tp_trigger_px) : AT_DB_N,
        ev->sl_trigger_px.m ? AT_DB_D(ev->sl_trigger_px) : AT_DB_N, AT_DB_B(ev->shadow),
        AT_DB_I(now)};
    int rc = c->h->db_write(c->inst,
                            "INSERT INTO orders (intent_id, cl_ord_id, account, origin, "
                            "decision_id, inst_id, op, side, pos_side, td_mode, ord_type, sz, px, "
                            "reduce_only, tp_trigger_px, sl_trigger_px, shadow, state, created_ms, "
                            "updated_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
                            "$15,$16,$17,'sent',$18,$18)",
                            p, sizeof(p) / sizeof(p[0]), on_stored, t);
    if (rc != AT_OK) {
        on_stored(t, rc, "storage refused the write");
    }
}

/* The executor's call (at_exchange_ops.submit), after the risk chain
 * approved: the only way an order reaches OKX. One ORDER_RESULT follows,
 * whatever happens. */
void okx_trade_submit(okx_ctx *c, const at_ev_order_intent *ev)
{
    const at_event *e = &ev->h;
    intent *t = calloc(1, sizeof(*t));
    if (!t) {
        /* Said, not swallowed: the intent's owner waits for a result. */
        intent bare = {.c = c, .ev = *ev};
        c->h->log(c->inst, AT_LOG_ERROR, "intent %s: not sent: out of memory", ev->intent_id);
        publish_result(c, &bare, false, "", "not sent: out of memory", NULL, 0);
        return;
    }
    t->c = c;
    t->ev = *ev;
    derive_cl_ord_id(&t->ev);
    const char *name = c->h->inst_name(e->inst);
    t->in = name ? okx_insts_find(c->insts, name) : NULL;
    snprintf(t->inst_id, sizeof(t->inst_id), "%s", t->in ? t->in->inst_id : (name ? name : "?"));
    char why[256] = "";
    int rc = AT_EINVAL;
    if (strcmp(ev->account, c->name) != 0) {
        snprintf(why, sizeof(why), "the intent is for %s, not this account", ev->account);
    } else if (ev->shadow && okx_venue_class(c) != AT_VENUE_PAPER) {
        /* a paper venue fills shadow intents hypothetically; OKX never sees one */
        snprintf(why, sizeof(why),
                 "a shadow intent is never sent to OKX (only a paper venue "
                 "fills it)");
    } else if (!c->trading) {
        snprintf(why, sizeof(why),
                 okx_venue_class(c) != AT_VENUE_DATA_ONLY
                     ? "account not ready (the instrument list has not loaded yet)"
                     : "this instance has no API keys: it follows market data only");
    } else if ((unsigned)ev->op > AT_INTENT_CANCEL_ALGO) {
        snprintf(why, sizeof(why), "unknown intent op");
    } else if (!t->in) {
        snprintf(why, sizeof(why), "unknown instrument");
    } else if (!c->have_config) {
        snprintf(why, sizeof(why), "account not ready (account/config has not answered)");
    } else if (!valid_cl_ord_id(t->ev.cl_ord_id)) {
        snprintf(why, sizeof(why),
                 "clOrdId must be 1-31 letters and digits (the attached TP/SL adds one)");
    } else {
        rc = okx_order_build(c, &t->ev, t->in, &t->req, why, sizeof(why));
    }
    if (rc != AT_OK) {
        if (!why[0]) {
            snprintf(why, sizeof(why), "the request could not be built (error %d)", rc);
        }
        c->h->log(c->inst, rc == AT_ENOMEM ? AT_LOG_ERROR : AT_LOG_WARN, "%s %s: not sent: %s",
                  (unsigned)ev->op <= AT_INTENT_CANCEL_ALGO ? OPS[ev->op] : "?", t->ev.cl_ord_id,
                  why);
        publish_result(c, t, false, "", why, NULL, 0);
        free(t);
        return;
    }
    store_intent(c, t);
}

/* ------------------------------------------------------------ a previous run's rows */

int okx_trade_reconcile(okx_ctx *c, const char *intent_id, const char *cl_ord_id,
                        const char *inst_id, at_intent_op op, int64_t stamped_ms)
{
    intent *t = calloc(1, sizeof(*t));
    if (!t) {
        return AT_ENOMEM;
    }
    t->c = c;
    t->reconciling = true;
    t->ev.op = op;
    snprintf(t->ev.intent_id, sizeof(t->ev.intent_id), "%s", intent_id);
    snprintf(t->ev.cl_ord_id, sizeof(t->ev.cl_ord_id), "%s", cl_ord_id);
    snprintf(t->inst_id, sizeof(t->inst_id), "%s", inst_id);
    t->in = okx_insts_find(c->insts, t->inst_id);
    /* Its request, if it left, carried expTime = send time + timeout. The
     * row's updated_ms is stamped (and committed) before a send that did not
     * follow the row at once (after a set-leverage, its queue, a takeover),
     * so the send was at most one timeout after it: until then a "not at
     * OKX" would not be final. */
    t->due_ms = stamped_ms + 2 * c->timeout_ms + LOOKUP_GRACE_MS;
    lookup(t);
    return AT_OK;
}

int okx_trade_start(okx_ctx *c)
{
    c->trading = true;
    okx_recon_start(c);
    return AT_OK;
}

void okx_trade_stop(okx_ctx *c)
{
    c->trading = false;
    /* Lookups still waiting for their expTime: their rows stay "sent" for
     * the next start. */
    while (c->trade_waits) {
        intent *t = c->trade_waits;
        c->trade_waits = t->next;
        c->h->timer_cancel(t->wait);
        free(t);
    }
    /* Places waiting for a leverage get their result; keys freed. */
    okx_lever_stop(c);
    okx_trade_rechecks_free(c);
    okx_algo_stop(c);
}

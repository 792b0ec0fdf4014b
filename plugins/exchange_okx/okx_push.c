/* Order and fill pushes of the private WebSocket (and the paper venue's
 * in-process ones) into ORDER and FILL events and the orders and fills rows,
 * and the questions to OKX's REST that make good what a push did not bring:
 *   - a push whose values cannot be used is refused whole (no event, no row:
 *     0 for a size, a price or a filled size is wrong money) and the order is
 *     asked about again a moment later (trade/order, then trade/fills);
 *   - when the private feed comes back, every order still open here is asked
 *     about the same way (pushes sent meanwhile are gone).
 * A fill is recorded (event and row) only once, and only the fills row says
 * a fill was seen: a refused push writes none, so whichever question comes
 * next still finds the fill missing and records it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_sign.h"

/* OKX's REST views may trail the push by a moment: asking at once could
 * find the order without the fill that was refused. */
#define RECHECK_DELAY_MS 1000
/* Orders asked about after refused pushes at one time; past that (a venue
 * sending garbage for many orders), one question about every open order. */
#define RECHECK_MAX 64

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ------------------------------------------------------------ values */

/* Where a value came from and what follows its refusal, for the warning. */
typedef struct source {
    char what[192];
    const char *then;
} source;

enum { REQUIRED = 1, POSITIVE = 2, NOT_NEGATIVE = 4 };

/* A decimal field: exact (okx_field_dec) and of the sign OKX gives it. An
 * optional field that is "" or absent is {0,0} and never fails the sign. */
static bool num(okx_ctx *c, const source *src, const json_t *o, const char *k, int flags,
                at_dec *out)
{
    if (!okx_field_dec(c, OKX_WARN_ORDERS, src->what, src->then, o, k, flags & REQUIRED, out)) {
        return false;
    }
    const char *s = jstr(o, k);
    bool bad = *s && ((flags & POSITIVE && out->m <= 0) || (flags & NOT_NEGATIVE && out->m < 0));
    if (bad) {
        okx_refuse(c, OKX_WARN_ORDERS, src->what, k, json_object_get(o, k), src->then);
        *out = (at_dec){0, 0};
        return false;
    }
    return true;
}

typedef struct fill_vals {
    at_dec px, sz, fee;
} fill_vals;

/* The execution an item carries. An order push or answer carries one when
 * it has a tradeId and a fillSz other than "" or 0 (OKX's pushes without a
 * fill: tradeId "", fillSz "0" or "", fillPx ""); a trade/fills row (`row`)
 * is one by definition. 1 with *f set, 0 for none, -1 refused (logged). */
static int fill_of(okx_ctx *c, const source *src, const json_t *o, bool row, fill_vals *f)
{
    *f = (fill_vals){{0, 0}, {0, 0}, {0, 0}};
    if (!*jstr(o, "tradeId")) {
        if (row) {
            okx_refuse(c, OKX_WARN_ORDERS, src->what, "tradeId", json_object_get(o, "tradeId"),
                       src->then);
            return -1;
        }
        return 0; /* the order's state only */
    }
    const json_t *sz = json_object_get(o, "fillSz");
    if (!row && json_is_string(sz) && !*json_string_value(sz)) {
        return 0;
    }
    if (!num(c, src, o, "fillSz", REQUIRED | (row ? POSITIVE : NOT_NEGATIVE), &f->sz)) {
        return -1;
    }
    if (f->sz.m == 0) {
        return 0;
    }
    /* The fee of the fill is what it cost (negative) or paid back; 0 is a
     * value OKX sends, "" is not. */
    if (!num(c, src, o, "fillPx", REQUIRED | POSITIVE, &f->px) ||
        !num(c, src, o, "fillFee", REQUIRED, &f->fee)) {
        return -1;
    }
    return 1;
}

typedef struct order_vals {
    at_dec px, sz, acc_fill_sz, avg_px, fee;
    int has_fill;
    fill_vals fill;
} order_vals;

/* Order types that rest at a price of their own: px is that price. A market
 * order (or optimal_limit_ioc …) has px "". */
static bool priced(const char *ord_type)
{
    static const char *const t[] = {"limit", "post_only", "fok", "ioc"};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(ord_type, t[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* An order push or answer: every value the ORDER event, the row and the
 * fill take, or false (logged) when one of them cannot be used. */
static bool order_of(okx_ctx *c, const source *src, const json_t *o, order_vals *v)
{
    memset(v, 0, sizeof(*v));
    if (!*jstr(o, "instId")) {
        okx_refuse(c, OKX_WARN_ORDERS, src->what, "instId", json_object_get(o, "instId"),
                   src->then);
        return false;
    }
    if (!*jstr(o, "ordId")) {
        okx_refuse(c, OKX_WARN_ORDERS, src->what, "ordId", json_object_get(o, "ordId"), src->then);
        return false;
    }
    if (!num(c, src, o, "sz", REQUIRED | POSITIVE, &v->sz) ||
        !num(c, src, o, "px", priced(jstr(o, "ordType")) ? REQUIRED | POSITIVE : NOT_NEGATIVE,
             &v->px) ||
        !num(c, src, o, "accFillSz", REQUIRED | NOT_NEGATIVE, &v->acc_fill_sz)) {
        return false;
    }
    const char *st = jstr(o, "state");
    bool filled = v->acc_fill_sz.m > 0;
    if (!filled && (strcmp(st, "filled") == 0 || strcmp(st, "partially_filled") == 0)) {
        char field[48];
        snprintf(field, sizeof(field), "accFillSz (state %s)", st);
        okx_refuse(c, OKX_WARN_ORDERS, src->what, field, json_object_get(o, "accFillSz"),
                   src->then);
        return false;
    }
    /* Before any fill OKX sends avgPx "" and fee "0"; after one, both are
     * values. */
    if (!num(c, src, o, "avgPx", filled ? REQUIRED | POSITIVE : NOT_NEGATIVE, &v->avg_px) ||
        !num(c, src, o, "fee", filled ? REQUIRED : 0, &v->fee)) {
        return false;
    }
    v->has_fill = fill_of(c, src, o, false, &v->fill);
    return v->has_fill >= 0;
}

static void order_source(source *src, const char *kind, const json_t *o, const char *then)
{
    const char *id = jstr(o, "ordId");
    const char *inst = jstr(o, "instId");
    snprintf(src->what, sizeof(src->what), "%s (%.40s %.48s)", kind, *inst ? inst : "?",
             *id                   ? id
             : *jstr(o, "clOrdId") ? jstr(o, "clOrdId")
                                   : "?");
    src->then = then;
}

/* ------------------------------------------------------------ events */

static at_ord_state state_of(const char *s)
{
    return strcmp(s, "live") == 0               ? AT_ORD_LIVE
           : strcmp(s, "partially_filled") == 0 ? AT_ORD_PARTIALLY_FILLED
           : strcmp(s, "filled") == 0           ? AT_ORD_FILLED
           : strcmp(s, "canceled") == 0         ? AT_ORD_CANCELED
           : strcmp(s, "mmp_canceled") == 0     ? AT_ORD_MMP_CANCELED
                                                : AT_ORD_UNKNOWN;
}

static at_pos_side pos_side_of(const char *s)
{
    return strcmp(s, "long") == 0    ? AT_POS_LONG
           : strcmp(s, "short") == 0 ? AT_POS_SHORT
                                     : AT_POS_NET;
}

static const okx_inst *inst_of(okx_ctx *c, const char *inst_id)
{
    return okx_insts_find(c->insts, inst_id);
}

/* One execution, from an order push or a trade/fills row (same field names:
 * tradeId, fillFee, fillFeeCcy, execType, fillTime; values checked): FILL
 * event and fills row. */
static void record_fill(okx_ctx *c, const json_t *o, const fill_vals *v)
{
    const char *inst_id = jstr(o, "instId");
    const okx_inst *in = inst_of(c, inst_id);
    const char *cl = jstr(o, "clOrdId");
    const char *ps = jstr(o, "posSide");
    const char *trade_id = jstr(o, "tradeId");
    bool maker = strcmp(jstr(o, "execType"), "M") == 0;
    int64_t ts = strtoll(jstr(o, "fillTime"), NULL, 10);
    at_ev_fill *f = (at_ev_fill *)c->h->event_new(c->inst, AT_EV_FILL, 0);
    if (f) {
        f->h.inst = in ? in->id : c->h->inst_intern(inst_id);
        snprintf(f->account, sizeof(f->account), "%s", c->name);
        snprintf(f->trade_id, sizeof(f->trade_id), "%s", trade_id);
        snprintf(f->ord_id, sizeof(f->ord_id), "%s", jstr(o, "ordId"));
        snprintf(f->cl_ord_id, sizeof(f->cl_ord_id), "%s", cl);
        f->side = strcmp(jstr(o, "side"), "buy") == 0 ? AT_SIDE_BUY : AT_SIDE_SELL;
        f->pos_side = pos_side_of(ps);
        f->px = v->px;
        f->sz = v->sz;
        f->fee = v->fee;
        snprintf(f->fee_ccy, sizeof(f->fee_ccy), "%s", jstr(o, "fillFeeCcy"));
        f->maker = maker;
        f->exch_ts_ms = ts;
        c->h->publish(c->inst, &f->h, 0);
    }
    const at_db_value p[] = {AT_DB_S(c->name),
                             AT_DB_S(inst_id),
                             AT_DB_S(trade_id),
                             AT_DB_S(jstr(o, "ordId")),
                             AT_DB_S(cl),
                             AT_DB_S(jstr(o, "side")),
                             AT_DB_S(ps),
                             AT_DB_D(v->px),
                             AT_DB_D(v->sz),
                             AT_DB_D(v->fee),
                             AT_DB_S(jstr(o, "fillFeeCcy")),
                             AT_DB_B(maker),
                             AT_DB_I(ts)};
    c->h->db_write(c->inst,
                   "INSERT INTO fills (account, inst_id, trade_id, ord_id, cl_ord_id, side, "
                   "pos_side, px, sz, fee, fee_ccy, maker, ts_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,"
                   "$8,$9,$10,$11,$12,$13) ON CONFLICT (account, inst_id, trade_id) DO NOTHING",
                   p, 13, NULL, NULL);
}

/* An order's state (and the fill it carries) into the ORDER event, the row
 * and the fill; false (logged, nothing used) when a value cannot be used. */
static bool apply_order(okx_ctx *c, const source *src, const json_t *o)
{
    order_vals v;
    if (!order_of(c, src, o, &v)) {
        return false;
    }
    const char *inst_id = jstr(o, "instId");
    const okx_inst *in = inst_of(c, inst_id);
    at_ev_order *e = (at_ev_order *)c->h->event_new(c->inst, AT_EV_ORDER, 0);
    if (e) {
        e->h.inst = in ? in->id : c->h->inst_intern(inst_id);
        snprintf(e->account, sizeof(e->account), "%s", c->name);
        snprintf(e->ord_id, sizeof(e->ord_id), "%s", jstr(o, "ordId"));
        snprintf(e->cl_ord_id, sizeof(e->cl_ord_id), "%s", jstr(o, "clOrdId"));
        e->side = strcmp(jstr(o, "side"), "buy") == 0 ? AT_SIDE_BUY : AT_SIDE_SELL;
        e->pos_side = pos_side_of(jstr(o, "posSide"));
        const char *ot = jstr(o, "ordType");
        e->ord_type = strcmp(ot, "limit") == 0       ? AT_ORDT_LIMIT
                      : strcmp(ot, "post_only") == 0 ? AT_ORDT_POST_ONLY
                      : strcmp(ot, "fok") == 0       ? AT_ORDT_FOK
                      : strcmp(ot, "ioc") == 0       ? AT_ORDT_IOC
                                                     : AT_ORDT_MARKET;
        e->state = state_of(jstr(o, "state"));
        e->px = v.px;
        e->sz = v.sz;
        e->acc_fill_sz = v.acc_fill_sz;
        e->avg_px = v.avg_px;
        e->fee = v.fee;
        snprintf(e->fee_ccy, sizeof(e->fee_ccy), "%s", jstr(o, "feeCcy"));
        e->reduce_only = strcmp(jstr(o, "reduceOnly"), "true") == 0;
        e->c_time_ms = strtoll(jstr(o, "cTime"), NULL, 10);
        e->u_time_ms = strtoll(jstr(o, "uTime"), NULL, 10);
        c->h->publish(c->inst, &e->h, 0);
    }
    const char *cl = jstr(o, "clOrdId");
    if (*cl) {
        /* avgPx and fee "" before any fill: NULL, not 0 */
        const at_db_value p[] = {AT_DB_S(jstr(o, "state")),      AT_DB_S(jstr(o, "ordId")),
                                 AT_DB_D(v.acc_fill_sz),         okx_db_dec(c, o, "avgPx"),
                                 okx_db_dec(c, o, "fee"),        AT_DB_S(jstr(o, "feeCcy")),
                                 AT_DB_I(c->h->now_us() / 1000), AT_DB_S(cl)};
        c->h->db_write(c->inst,
                       "UPDATE orders SET state = $1, ord_id = $2, acc_fill_sz = $3, avg_px = $4, "
                       "fee = $5, fee_ccy = $6, updated_ms = $7 WHERE cl_ord_id = $8",
                       p, 8, NULL, NULL);
    }
    if (v.has_fill > 0) {
        record_fill(c, o, &v.fill);
    }
    return true;
}

/* ------------------------------------------------------------ questions */

/* One order asked about at OKX: trade/order (its state through the push
 * path, without the fill the answer repeats), then trade/fills (each fill
 * the fills rows do not have yet). Listed on the context until the last
 * answer, so stop() frees what is still waiting. */
struct okx_recheck {
    okx_recheck *next;
    okx_ctx *c;
    at_timer *timer;    /* the delay after a refused push, until it fires */
    bool after_refusal; /* else: the private feed came back */
    bool all;           /* the refused push named no order: every open one */
    char inst_id[OKX_INST_ID_LEN];
    const char *key; /* "ordId" or "clOrdId" */
    char id[AT_ID_LEN];
    unsigned refused; /* values in OKX's answers that could not be used */
};

static okx_recheck *ask_new(okx_ctx *c, const char *inst_id, const char *key, const char *id,
                            bool after_refusal)
{
    okx_recheck *a = calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    a->c = c;
    a->after_refusal = after_refusal;
    a->key = key;
    snprintf(a->inst_id, sizeof(a->inst_id), "%s", inst_id);
    snprintf(a->id, sizeof(a->id), "%s", id);
    a->next = c->rechecks;
    c->rechecks = a;
    return a;
}

static void ask_free(okx_recheck *a)
{
    for (okx_recheck **p = &a->c->rechecks; *p; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            break;
        }
    }
    if (a->timer) {
        a->c->h->timer_cancel(a->timer);
    }
    free(a);
}

/* The question could not be finished: said, never dropped quietly. After a
 * refused push a fill may be missing here, so it is an ALERT. */
static void ask_failed(okx_recheck *a, const char *why)
{
    okx_ctx *c = a->c;
    char text[384];
    if (a->after_refusal) {
        snprintf(text, sizeof(text),
                 "%s: order %s %s: a refused push could not be made good (%s): its state or "
                 "fills here may be behind; check the order at OKX",
                 c->name, a->inst_id, a->id, why);
        okx_alert(c, AT_LOG_ERROR, text);
    } else {
        c->h->log(c->inst, AT_LOG_WARN, "resync: order %s %s: %s", a->inst_id, a->id, why);
    }
    ask_free(a);
}

/* A fill of an answer: recorded unless the fills rows have it (its push may
 * have come, or another question found it first). */
typedef struct fill_check {
    okx_ctx *c;
    json_t *fill; /* push-shaped copy */
    fill_vals v;
    bool known;
} fill_check;

static int on_fill_known(void *arg, const at_db_row *row)
{
    ((fill_check *)arg)->known = true;
    return 1;
}

static void on_fill_known_done(void *arg, int err, const char *error)
{
    fill_check *k = arg;
    if (err != AT_OK) {
        /* not recorded: the next question finds it missing again */
        k->c->h->log(k->c->inst, AT_LOG_WARN, "fill %s of order %s not checked: %s",
                     jstr(k->fill, "tradeId"), jstr(k->fill, "ordId"), error ? error : "?");
    } else if (!k->known) {
        record_fill(k->c, k->fill, &k->v);
    }
    json_decref(k->fill);
    free(k);
}

static void on_fills_answer(void *arg, const okx_reply *r)
{
    okx_recheck *a = arg;
    okx_ctx *c = a->c;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !json_is_array(r->data)) {
        char why[256];
        snprintf(why, sizeof(why), "trade/fills failed: %s %s", r->code, r->msg);
        ask_failed(a, why);
        return;
    }
    size_t i;
    json_t *f;
    json_array_foreach(r->data, i, f)
    {
        fill_check *k = calloc(1, sizeof(*k));
        json_t *copy = k ? json_deep_copy(f) : NULL;
        if (!copy) {
            free(k);
            ask_failed(a, "out of memory reading trade/fills");
            return;
        }
        k->c = c;
        /* trade/fills names the fee "fee"; the push names it "fillFee". */
        k->fill = copy;
        json_object_set(copy, "fillFee", json_object_get(f, "fee"));
        json_object_set(copy, "fillFeeCcy", json_object_get(f, "feeCcy"));
        if (!json_object_get(f, "fee")) {
            json_object_del(copy, "fillFee");
        }
        source src;
        snprintf(src.what, sizeof(src.what), "fill at OKX (%.40s %.48s tradeId %.32s)", a->inst_id,
                 jstr(f, "ordId"), jstr(f, "tradeId"));
        src.then = "not recorded";
        if (fill_of(c, &src, copy, true, &k->v) != 1) {
            a->refused++;
            json_decref(copy);
            free(k);
            continue;
        }
        const at_db_value p[] = {AT_DB_S(c->name), AT_DB_S(jstr(f, "instId")),
                                 AT_DB_S(jstr(f, "tradeId"))};
        c->h->db_query(c->inst,
                       "SELECT trade_id FROM fills WHERE account = $1 AND inst_id = $2 AND "
                       "trade_id = $3",
                       p, 3, on_fill_known, on_fill_known_done, k);
    }
    if (a->refused) {
        char text[384];
        snprintf(text, sizeof(text),
                 "%s: order %s %s: %u value(s) in OKX's answers could not be used (see the "
                 "warnings): its state or fills here may be behind; check the order at OKX",
                 c->name, a->inst_id, a->id, a->refused);
        okx_alert(c, AT_LOG_ERROR, text);
    } else if (a->after_refusal) {
        c->h->log(c->inst, AT_LOG_INFO, "order %s %s asked again after a refused push: %zu fill(s)",
                  a->inst_id, a->id, json_array_size(r->data));
    }
    ask_free(a);
}

static void on_order_answer(void *arg, const okx_reply *r)
{
    okx_recheck *a = arg;
    okx_ctx *c = a->c;
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !d) {
        char why[256];
        snprintf(why, sizeof(why), "trade/order failed: %s %s", r->code, r->msg);
        ask_failed(a, why);
        return;
    }
    /* The state through the push path without the last fill the answer
     * repeats: every fill comes from trade/fills below, once. */
    json_t *o = json_deep_copy(d);
    if (!o) {
        ask_failed(a, "out of memory reading trade/order");
        return;
    }
    json_object_del(o, "tradeId");
    source src;
    order_source(&src, "order at OKX", o, "its state here is not updated");
    if (!apply_order(c, &src, o)) {
        a->refused++;
    }
    json_decref(o);
    const char *ord_id = jstr(d, "ordId");
    if (!*ord_id) {
        ask_failed(a, "OKX's answer has no ordId: its fills cannot be asked for");
        return;
    }
    char q[256] = "";
    okx_query_append(q, sizeof(q), "instType", "SWAP");
    okx_query_append(q, sizeof(q), "instId", a->inst_id);
    okx_query_append(q, sizeof(q), "ordId", ord_id);
    if (okx_rest_get(c->rest, "/api/v5/trade/fills", q + 1, true, on_fills_answer, a) != AT_OK) {
        ask_failed(a, "trade/fills could not be sent");
    }
}

static void ask(okx_recheck *a)
{
    char q[256] = "";
    okx_query_append(q, sizeof(q), "instId", a->inst_id);
    okx_query_append(q, sizeof(q), a->key, a->id);
    if (okx_rest_get(a->c->rest, "/api/v5/trade/order", q + 1, true, on_order_answer, a) != AT_OK) {
        ask_failed(a, "trade/order could not be sent");
    }
}

static void on_recheck_due(void *arg)
{
    okx_recheck *a = arg;
    a->timer = NULL; /* one-shot */
    if (a->all) {
        okx_ctx *c = a->c;
        ask_free(a);
        okx_trade_resync(c);
        return;
    }
    ask(a);
}

/* After a refused push: ask OKX about its order a moment later (once for
 * several refusals meanwhile). */
static void recheck_later(okx_ctx *c, const json_t *o)
{
    const char *inst_id = jstr(o, "instId");
    const char *key = *jstr(o, "ordId") ? "ordId" : "clOrdId";
    const char *id = jstr(o, key);
    if (!c->started) {
        c->h->log(c->inst, AT_LOG_WARN, "order %s %s: stopping: not asked about again", inst_id,
                  id);
        return;
    }
    bool all = !*inst_id || !*id;
    size_t n = 0;
    for (okx_recheck *a = c->rechecks; a; a = a->next) {
        if (a->timer && (a->all || (!all && strcmp(a->inst_id, inst_id) == 0 &&
                                    strcmp(a->key, key) == 0 && strcmp(a->id, id) == 0))) {
            return; /* a question not sent yet covers it */
        }
        n += a->after_refusal;
    }
    if (n >= RECHECK_MAX && !all) {
        all = true;
        for (okx_recheck *a = c->rechecks; a; a = a->next) {
            if (a->timer && a->all) {
                return;
            }
        }
    }
    okx_recheck *a = ask_new(c, all ? "" : inst_id, key, all ? "" : id, true);
    if (!a) {
        char text[256];
        snprintf(text, sizeof(text),
                 "%s: order %s %s: a refused push cannot be asked about (out of memory); check "
                 "the order at OKX",
                 c->name, inst_id, id);
        okx_alert(c, AT_LOG_ERROR, text);
        return;
    }
    a->all = all;
    a->timer = c->h->timer_add(c->inst, RECHECK_DELAY_MS, 0, on_recheck_due, a);
    if (!a->timer) {
        on_recheck_due(a); /* now rather than never */
    }
}

void okx_trade_on_order_push(okx_ctx *c, json_t *o)
{
    if (json_object_get(o, "op")) {
        return; /* WS op answers: orders go over REST for now */
    }
    source src;
    order_source(&src, "order push", o, "OKX is asked for the order and its fills");
    if (!apply_order(c, &src, o)) {
        recheck_later(c, o);
    }
}

/* ------------------------------------------------------------ resync */

static int on_open_row(void *arg, const at_db_row *row)
{
    okx_ctx *c = arg;
    okx_recheck *a = ask_new(c, row->cols[1].u.s, "clOrdId", row->cols[0].u.s, false);
    if (!a) {
        c->h->log(c->inst, AT_LOG_ERROR, "resync: order %s: out of memory: not asked about",
                  row->cols[0].u.s);
        return 0;
    }
    ask(a);
    return 0;
}

static void on_open_done(void *arg, int err, const char *error)
{
    okx_ctx *c = arg;
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_ERROR, "resync: cannot read orders: %s", error ? error : "?");
    }
}

void okx_trade_resync(okx_ctx *c)
{
    const at_db_value p[] = {AT_DB_S(c->name)};
    c->h->log(c->inst, AT_LOG_INFO, "private feed back: asking OKX about open orders");
    c->h->db_query(c->inst,
                   "SELECT cl_ord_id, inst_id FROM orders WHERE account = $1 AND op = 'place' AND "
                   "state IN ('live', 'partially_filled')",
                   p, 1, on_open_row, on_open_done, c);
}

void okx_trade_rechecks_free(okx_ctx *c)
{
    while (c->rechecks) {
        ask_free(c->rechecks);
    }
}

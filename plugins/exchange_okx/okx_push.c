/* Order and fill pushes of the private WebSocket (and the paper venue's
 * in-process ones), and the answers of the questions that catch up with
 * them (okx_ask.c), into ORDER and FILL events and the orders and fills
 * rows:
 *   - an item whose values cannot be used is refused whole (no event, no
 *     row: 0 for a size, a price or a filled size is wrong money); a refused
 *     push has its order asked about at OKX (okx_ask.c);
 *   - an order state not newer than what was applied (accFillSz only grows,
 *     filled / canceled are final, then uTime) is neither published nor
 *     written, so a lagging answer never overwrites a push;
 *   - a fill is recorded (event and row) once: its trade id is remembered
 *     whichever path brings it first (okx_known.c), a later push repeating
 *     its order's last fill (okx-sim does on a cancel, fillFee "0") is not a
 *     new one, and only the fills row says a fill was seen, so a refused push
 *     leaves the fill for the next question to find. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_push.h"

/* ------------------------------------------------------------ values */

typedef okx_source source;
typedef okx_fill_vals fill_vals;
typedef okx_order_vals order_vals;

enum { REQUIRED = 1, POSITIVE = 2, NOT_NEGATIVE = 4 };

/* A decimal field: exact (okx_field_dec) and of the sign OKX gives it. An
 * optional field that is "" or absent is {0,0} and never fails the sign. */
static bool num(okx_ctx *c, const source *src, const json_t *o, const char *k, int flags,
                at_dec *out)
{
    if (!okx_field_dec(c, OKX_WARN_ORDERS, src->what, src->then, o, k, flags & REQUIRED, out)) {
        return false;
    }
    const char *s = okx_jstr(o, k);
    bool bad = *s && ((flags & POSITIVE && out->m <= 0) || (flags & NOT_NEGATIVE && out->m < 0));
    if (bad) {
        okx_refuse(c, OKX_WARN_ORDERS, src->what, k, json_object_get(o, k), src->then);
        *out = (at_dec){0, 0};
        return false;
    }
    return true;
}

/* The execution an item carries. An order push or answer carries one when
 * it has a tradeId and a fillSz other than "" or 0 (OKX's pushes without a
 * fill: tradeId "", fillSz "0" or "", fillPx ""); a trade/fills row (`row`)
 * is one by definition. 1 with *f set, 0 for none, -1 refused (logged). */
int okx_fill_of(okx_ctx *c, const source *src, const json_t *o, bool row, fill_vals *f)
{
    *f = (fill_vals){{0, 0}, {0, 0}, {0, 0}};
    if (!*okx_jstr(o, "tradeId")) {
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
    if (!*okx_jstr(o, "instId")) {
        okx_refuse(c, OKX_WARN_ORDERS, src->what, "instId", json_object_get(o, "instId"),
                   src->then);
        return false;
    }
    if (!*okx_jstr(o, "ordId")) {
        okx_refuse(c, OKX_WARN_ORDERS, src->what, "ordId", json_object_get(o, "ordId"), src->then);
        return false;
    }
    if (!num(c, src, o, "sz", REQUIRED | POSITIVE, &v->sz) ||
        !num(c, src, o, "px", priced(okx_jstr(o, "ordType")) ? REQUIRED | POSITIVE : NOT_NEGATIVE,
             &v->px) ||
        !num(c, src, o, "accFillSz", REQUIRED | NOT_NEGATIVE, &v->acc_fill_sz)) {
        return false;
    }
    const char *st = okx_jstr(o, "state");
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
    v->has_fill = okx_fill_of(c, src, o, false, &v->fill);
    return v->has_fill >= 0;
}

void okx_order_source(source *src, const char *kind, const json_t *o, const char *then)
{
    const char *id = okx_jstr(o, "ordId");
    const char *inst = okx_jstr(o, "instId");
    snprintf(src->what, sizeof(src->what), "%s (%.40s %.48s)", kind, *inst ? inst : "?",
             *id                       ? id
             : *okx_jstr(o, "clOrdId") ? okx_jstr(o, "clOrdId")
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

static int rank_of(at_ord_state st)
{
    return st == AT_ORD_FILLED || st == AT_ORD_CANCELED || st == AT_ORD_MMP_CANCELED ? OKX_RANK_DONE
           : st == AT_ORD_PARTIALLY_FILLED ? OKX_RANK_PARTIAL
                                           : OKX_RANK_LIVE;
}

/* An order state against what was applied of it: -1 older, 0 the same, 1
 * newer. A final state is never left; accFillSz only grows (OKX's own
 * order), then the state's rank, then uTime (ms, and several pushes of one
 * taker order can share it). */
static int age_of(okx_ctx *c, const okx_order_seen *k, int rank, at_dec acc, int64_t u_time)
{
    if (!k || k->rank == OKX_RANK_NONE) {
        return 1;
    }
    if (k->rank == OKX_RANK_DONE && rank != OKX_RANK_DONE) {
        return -1;
    }
    int d = c->h->dec_cmp(acc, k->acc_fill_sz);
    if (d != 0) {
        return d > 0 ? 1 : -1;
    }
    if (rank != k->rank) {
        return rank > k->rank ? 1 : -1;
    }
    return u_time > k->u_time_ms ? 1 : u_time < k->u_time_ms ? -1 : 0;
}

/* FILL event and fills row, as they are (no check). */
static void publish_fill(okx_ctx *c, const json_t *o, const fill_vals *v)
{
    const char *inst_id = okx_jstr(o, "instId");
    const okx_inst *in = inst_of(c, inst_id);
    const char *cl = okx_jstr(o, "clOrdId");
    const char *ps = okx_jstr(o, "posSide");
    const char *trade_id = okx_jstr(o, "tradeId");
    bool maker = strcmp(okx_jstr(o, "execType"), "M") == 0;
    int64_t ts = strtoll(okx_jstr(o, "fillTime"), NULL, 10);
    at_ev_fill *f = (at_ev_fill *)c->h->event_new(c->inst, AT_EV_FILL, 0);
    if (f) {
        f->h.inst = in ? in->id : c->h->inst_intern(inst_id);
        snprintf(f->account, sizeof(f->account), "%s", c->name);
        snprintf(f->trade_id, sizeof(f->trade_id), "%s", trade_id);
        snprintf(f->ord_id, sizeof(f->ord_id), "%s", okx_jstr(o, "ordId"));
        snprintf(f->cl_ord_id, sizeof(f->cl_ord_id), "%s", cl);
        f->side = strcmp(okx_jstr(o, "side"), "buy") == 0 ? AT_SIDE_BUY : AT_SIDE_SELL;
        f->pos_side = pos_side_of(ps);
        f->px = v->px;
        f->sz = v->sz;
        f->fee = v->fee;
        snprintf(f->fee_ccy, sizeof(f->fee_ccy), "%s", okx_jstr(o, "fillFeeCcy"));
        f->maker = maker;
        f->exch_ts_ms = ts;
        /* a TP/SL that fired: the algo order that placed the filled one */
        snprintf(f->algo_cl_ord_id, sizeof(f->algo_cl_ord_id), "%s", okx_jstr(o, "algoClOrdId"));
        c->h->publish(c->inst, &f->h, 0);
    }
    const at_db_value p[] = {AT_DB_S(c->name),
                             AT_DB_S(inst_id),
                             AT_DB_S(trade_id),
                             AT_DB_S(okx_jstr(o, "ordId")),
                             AT_DB_S(cl),
                             AT_DB_S(okx_jstr(o, "side")),
                             AT_DB_S(ps),
                             AT_DB_D(v->px),
                             AT_DB_D(v->sz),
                             AT_DB_D(v->fee),
                             AT_DB_S(okx_jstr(o, "fillFeeCcy")),
                             AT_DB_B(maker),
                             AT_DB_I(ts)};
    c->h->db_write(c->inst,
                   "INSERT INTO fills (account, inst_id, trade_id, ord_id, cl_ord_id, side, "
                   "pos_side, px, sz, fee, fee_ccy, maker, ts_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,"
                   "$8,$9,$10,$11,$12,$13) ON CONFLICT (account, inst_id, trade_id) DO NOTHING",
                   p, 13, NULL, NULL);
}

bool okx_record_fill(okx_ctx *c, const json_t *o, const fill_vals *v)
{
    const char *inst_id = okx_jstr(o, "instId"), *trade_id = okx_jstr(o, "tradeId");
    if (okx_known_trade(c, inst_id, trade_id)) {
        return false;
    }
    okx_known_trade_add(c, inst_id, trade_id);
    publish_fill(c, o, v);
    return true;
}

bool okx_apply_order(okx_ctx *c, const source *src, const json_t *o, order_vals *v)
{
    if (!order_of(c, src, o, v)) {
        return false;
    }
    const char *inst_id = okx_jstr(o, "instId");
    at_ord_state st = state_of(okx_jstr(o, "state"));
    int rank = rank_of(st);
    int64_t u_time = strtoll(okx_jstr(o, "uTime"), NULL, 10);
    okx_order_seen *k = okx_known_order(c, inst_id, okx_jstr(o, "ordId"), true);
    v->age = age_of(c, k, rank, v->acc_fill_sz, u_time);
    if (v->age <= 0) {
        return true; /* nothing new: what is published and stored stays */
    }
    if (k) {
        k->rank = rank;
        k->acc_fill_sz = v->acc_fill_sz;
        k->u_time_ms = u_time;
    }
    const okx_inst *in = inst_of(c, inst_id);
    at_ev_order *e = (at_ev_order *)c->h->event_new(c->inst, AT_EV_ORDER, 0);
    if (e) {
        e->h.inst = in ? in->id : c->h->inst_intern(inst_id);
        snprintf(e->account, sizeof(e->account), "%s", c->name);
        snprintf(e->ord_id, sizeof(e->ord_id), "%s", okx_jstr(o, "ordId"));
        snprintf(e->cl_ord_id, sizeof(e->cl_ord_id), "%s", okx_jstr(o, "clOrdId"));
        e->side = strcmp(okx_jstr(o, "side"), "buy") == 0 ? AT_SIDE_BUY : AT_SIDE_SELL;
        e->pos_side = pos_side_of(okx_jstr(o, "posSide"));
        const char *ot = okx_jstr(o, "ordType");
        e->ord_type = strcmp(ot, "limit") == 0       ? AT_ORDT_LIMIT
                      : strcmp(ot, "post_only") == 0 ? AT_ORDT_POST_ONLY
                      : strcmp(ot, "fok") == 0       ? AT_ORDT_FOK
                      : strcmp(ot, "ioc") == 0       ? AT_ORDT_IOC
                                                     : AT_ORDT_MARKET;
        e->state = st;
        e->px = v->px;
        e->sz = v->sz;
        e->acc_fill_sz = v->acc_fill_sz;
        e->avg_px = v->avg_px;
        e->fee = v->fee;
        snprintf(e->fee_ccy, sizeof(e->fee_ccy), "%s", okx_jstr(o, "feeCcy"));
        e->reduce_only = strcmp(okx_jstr(o, "reduceOnly"), "true") == 0;
        e->c_time_ms = strtoll(okx_jstr(o, "cTime"), NULL, 10);
        e->u_time_ms = u_time;
        /* set when a TP/SL or trigger order placed this one */
        snprintf(e->algo_id, sizeof(e->algo_id), "%s", okx_jstr(o, "algoId"));
        snprintf(e->algo_cl_ord_id, sizeof(e->algo_cl_ord_id), "%s", okx_jstr(o, "algoClOrdId"));
        c->h->publish(c->inst, &e->h, 0);
    }
    const char *cl = okx_jstr(o, "clOrdId");
    if (*cl) {
        /* avgPx and fee "" before any fill: NULL, not 0. A row in a final
         * state is never taken back to an open one (the memory above is
         * bounded and starts empty after a restart; the row is not). */
        const at_db_value p[] = {AT_DB_S(okx_jstr(o, "state")),  AT_DB_S(okx_jstr(o, "ordId")),
                                 AT_DB_D(v->acc_fill_sz),        okx_db_dec(c, o, "avgPx"),
                                 okx_db_dec(c, o, "fee"),        AT_DB_S(okx_jstr(o, "feeCcy")),
                                 AT_DB_I(c->h->now_us() / 1000), AT_DB_S(cl)};
        c->h->db_write(c->inst,
                       rank == OKX_RANK_DONE
                           ? "UPDATE orders SET state = $1, ord_id = $2, acc_fill_sz = $3, "
                             "avg_px = $4, fee = $5, fee_ccy = $6, updated_ms = $7 WHERE "
                             "cl_ord_id = $8"
                           : "UPDATE orders SET state = $1, ord_id = $2, acc_fill_sz = $3, "
                             "avg_px = $4, fee = $5, fee_ccy = $6, updated_ms = $7 WHERE "
                             "cl_ord_id = $8 AND state NOT IN ('filled', 'canceled', "
                             "'mmp_canceled')",
                       p, 8, NULL, NULL);
    }
    return true;
}

/* ------------------------------------------------------------ pushes */

/* A push's fill of an order not remembered here (the first push of it in
 * this run, after a restart): checked against the fills rows first when it
 * may be a repeat of one recorded before (okx-sim repeats an order's last
 * fill with fillFee "0" on its later pushes). Its trade id is remembered
 * meanwhile, so no other path records it twice. */
typedef struct push_check {
    okx_ctx *c;
    json_t *fill; /* the push (retained) */
    fill_vals v;
    bool known;
} push_check;

static int on_push_fill_row(void *arg, const at_db_row *row)
{
    (void)row;
    ((push_check *)arg)->known = true;
    return 1;
}

static void on_push_fill_checked(void *arg, int err, const char *error)
{
    push_check *k = arg;
    if (err != AT_OK) {
        /* A duplicate event is better than a lost fill; the row stays single
         * (ON CONFLICT). */
        k->c->h->log(k->c->inst, AT_LOG_WARN,
                     "fill %s of order %s: fills rows not read (%s): "
                     "recorded",
                     okx_jstr(k->fill, "tradeId"), okx_jstr(k->fill, "ordId"), error ? error : "?");
    }
    if (err != AT_OK || !k->known) {
        publish_fill(k->c, k->fill, &k->v);
    }
    json_decref(k->fill);
    free(k);
}

static void push_fill(okx_ctx *c, json_t *o, const fill_vals *v, const okx_order_seen *k)
{
    const char *inst_id = okx_jstr(o, "instId"), *trade_id = okx_jstr(o, "tradeId");
    if (okx_known_trade(c, inst_id, trade_id) || (k && strcmp(k->last_trade, trade_id) == 0)) {
        return; /* recorded already, or the order's last fill repeated */
    }
    push_check *pc = !k && v->fee.m == 0 ? calloc(1, sizeof(*pc)) : NULL;
    if (!pc) {
        okx_record_fill(c, o, v);
        return;
    }
    okx_known_trade_add(c, inst_id, trade_id);
    pc->c = c;
    pc->fill = json_incref(o);
    pc->v = *v;
    const at_db_value p[] = {AT_DB_S(c->name), AT_DB_S(inst_id), AT_DB_S(trade_id)};
    int rc = c->h->db_query(c->inst,
                            "SELECT trade_id FROM fills WHERE account = $1 AND inst_id = $2 AND "
                            "trade_id = $3",
                            p, 3, on_push_fill_row, on_push_fill_checked, pc);
    if (rc != AT_OK) {
        on_push_fill_checked(pc, rc, "storage refused the read");
    }
}

void okx_trade_on_order_push(okx_ctx *c, json_t *o)
{
    if (json_object_get(o, "op")) {
        return; /* WS op answers: orders go over REST for now */
    }
    source src;
    okx_order_source(&src, "order push", o, "OKX is asked for the order and its fills");
    const char *inst_id = okx_jstr(o, "instId"), *ord_id = okx_jstr(o, "ordId");
    okx_order_seen *before = okx_known_order(c, inst_id, ord_id, false);
    bool remembered = before && before->rank != OKX_RANK_NONE;
    order_vals v;
    if (!okx_apply_order(c, &src, o, &v)) {
        okx_ask_after_refusal(c, o);
        return;
    }
    if (v.has_fill > 0) {
        okx_order_seen *k = okx_known_order(c, inst_id, ord_id, false);
        push_fill(c, o, &v.fill, remembered ? k : NULL);
        if (k && v.age >= 0) {
            snprintf(k->last_trade, sizeof(k->last_trade), "%s", okx_jstr(o, "tradeId"));
        }
    }
}

/* Orders: validation with OKX's codes, placement (REST, WS, algo triggers,
 * close-position all come through order_submit), cancellation, and the
 * order object. The trade/... endpoints live in order_rest.c; matching in
 * match.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- basics */

bool order_is_live(const sim_order *o)
{
    return o->state == SIM_LIVE || o->state == SIM_PARTIALLY_FILLED;
}

at_dec order_remaining(const sim_order *o)
{
    bool err = false;
    at_dec r = sim_sub(o->sz, o->acc_fill_sz, &err);
    return err || r.m < 0 ? ex_zero() : r;
}

/* By ordId, else by clOrdId: a live order first (clOrdIds are unique only
 * among live orders), else the newest finished one. */
sim_order *order_find(const sim_acct *a, const char *ord_id, const char *cl_ord_id)
{
    sim_order *done = NULL;
    for (sim_order *o = a->orders; o; o = o->next) {
        if (ord_id && *ord_id) {
            if (strcmp(o->ord_id, ord_id) == 0) {
                return o;
            }
            continue;
        }
        if (cl_ord_id && *cl_ord_id && strcmp(o->cl_ord_id, cl_ord_id) == 0) {
            if (order_is_live(o)) {
                return o;
            }
            done = done ? done : o;
        }
    }
    return done;
}

sim_order *order_alloc(sim_exchange *x, sim_acct *a, sim_inst *in)
{
    sim_order *o = calloc(1, sizeof(*o));
    if (!o) {
        return NULL;
    }
    acct_new_id(a, o->ord_id);
    o->inst = in;
    o->state = SIM_LIVE;
    o->c_time_ms = o->u_time_ms = x->now_ms;
    snprintf(o->category, sizeof(o->category), "normal");
    o->next = a->orders;
    a->orders = o;
    return o;
}

void order_cancel_now(sim_exchange *x, sim_acct *a, sim_order *o, const char *source)
{
    if (!order_is_live(o)) {
        return;
    }
    o->state = SIM_CANCELED;
    snprintf(o->cancel_source, sizeof(o->cancel_source), "%s", source);
    o->u_time_ms = x->now_ms;
    ex_push_order(x, a, o, NULL, NULL);
    algo_parent_update(x, a, o);
    /* Released order margin changes availEq. */
    ex_push_account(x, a);
}

/* ------------------------------------------------------------- validation */

typedef struct place_req {
    sim_inst *in;
    const char *td_mode, *ord_type, *pos_side, *cl_ord_id, *tag;
    bool buy, reduce_only, has_px;
    at_dec sz, px;
    const json_t *attach;
} place_req;

/* A rejection: sCode and sMsg for the result item. */
typedef struct reject {
    const char *code;
    char msg[200];
} reject;

static bool fail(reject *rj, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(reject *rj, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rj->code = code;
    vsnprintf(rj->msg, sizeof(rj->msg), fmt, ap);
    va_end(ap);
    return false;
}

/* OKX: "case-sensitive alphanumerics ... up to N characters". */
static bool alnum_id(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_limit_type(const char *t)
{
    return strcmp(t, "limit") == 0 || strcmp(t, "post_only") == 0 || strcmp(t, "fok") == 0 ||
           strcmp(t, "ioc") == 0;
}

static bool known_type(const char *t)
{
    return is_limit_type(t) || strcmp(t, "market") == 0 || strcmp(t, "optimal_limit_ioc") == 0;
}

static sim_inst *req_inst(sim_exchange *x, const json_t *req, reject *rj)
{
    const char *id = sim_json_str(req, "instId");
    const json_t *code = json_object_get(req, "instIdCode");
    sim_inst *in = NULL;
    if (*id) {
        in = market_find(x->market, id);
    } else if (json_is_integer(code)) {
        in = market_find_code(x->market, (int64_t)json_integer_value(code));
    } else {
        fail(rj, "50014", "Parameter instId can not be empty.");
        return NULL;
    }
    if (!in) {
        fail(rj, "51001",
             "Instrument ID, Instrument ID code, or Spread ID doesn't exist. (instId %s)",
             *id ? id : "by instIdCode");
    }
    return in;
}

/* Fields that need no account state. */
static bool parse_fields(sim_exchange *x, const sim_acct *a, const json_t *req, place_req *p,
                         reject *rj)
{
    if (!(p->in = req_inst(x, req, rj))) {
        return false;
    }
    p->td_mode = sim_json_str(req, "tdMode");
    if (strcmp(p->td_mode, "cross") != 0 && strcmp(p->td_mode, "isolated") != 0) {
        return fail(rj, "51000", "Parameter tdMode error (cross or isolated for %s, got \"%s\")",
                    p->in->inst_id, p->td_mode);
    }
    const char *side = sim_json_str(req, "side");
    if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0) {
        return fail(rj, "51000", "Parameter side error (buy or sell, got \"%s\")", side);
    }
    p->buy = side[0] == 'b';
    p->ord_type = sim_json_str(req, "ordType");
    if (!known_type(p->ord_type)) {
        return fail(rj, "51000", "Parameter ordType error (got \"%s\")", p->ord_type);
    }
    p->pos_side = sim_json_str(req, "posSide");
    if (a->pos_mode == SIM_LONG_SHORT_MODE) {
        if (strcmp(p->pos_side, "long") != 0 && strcmp(p->pos_side, "short") != 0) {
            return fail(rj, "51000",
                        "Parameter posSide error (long or short in long_short_mode, got \"%s\")",
                        p->pos_side);
        }
    } else if (*p->pos_side && strcmp(p->pos_side, "net") != 0) {
        return fail(rj, "51000", "Parameter posSide error (net or empty in net_mode, got \"%s\")",
                    p->pos_side);
    } else {
        p->pos_side = "net";
    }
    p->cl_ord_id = sim_json_str(req, "clOrdId");
    if (!alnum_id(p->cl_ord_id, 32)) {
        return fail(rj, "51000", "Parameter clOrdId error (up to 32 letters and digits)");
    }
    p->tag = sim_json_str(req, "tag");
    if (!alnum_id(p->tag, 16)) {
        return fail(rj, "51000", "Parameter tag error (up to 16 letters and digits)");
    }
    int rc = ex_json_bool(req, "reduceOnly", &p->reduce_only);
    if (rc == AT_EINVAL) {
        return fail(rj, "51000", "Parameter reduceOnly error (true or false)");
    }
    p->reduce_only = rc == AT_OK && p->reduce_only;
    p->attach = json_object_get(req, "attachAlgoOrds");
    return true;
}

static bool check_size(const json_t *req, place_req *p, reject *rj)
{
    const sim_inst *in = p->in;
    if (sim_json_dec(req, "sz", &p->sz) != AT_OK || p->sz.m <= 0) {
        return fail(rj, "51000", "Parameter sz error (a positive number of contracts)");
    }
    if (!ex_is_multiple(p->sz, in->lot_sz)) {
        char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
        return fail(rj, "51121",
                    "Order quantity must be a multiple of the lot size. (sz %s, lotSz %s)",
                    sim_dec_str(p->sz, a), sim_dec_str(in->lot_sz, b));
    }
    if (at_dec_cmp(p->sz, in->min_sz) < 0) {
        char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
        return fail(rj, "51020",
                    "Your order should meet or exceed the minimum order amount. (sz %s, minSz %s)",
                    sim_dec_str(p->sz, a), sim_dec_str(in->min_sz, b));
    }
    bool market = !is_limit_type(p->ord_type);
    at_dec max = market ? in->max_mkt_sz : in->max_lmt_sz;
    if (max.m > 0 && at_dec_cmp(p->sz, max) > 0) {
        char a[AT_DEC_STRLEN];
        return fail(rj, market ? "51202" : "51004",
                    "Order amount exceeds the maximum (%s contracts for %s orders)",
                    sim_dec_str(max, a), market ? "market" : "limit");
    }
    return true;
}

/* px for limit types: on the tick grid and inside the +-5% band around last
 * (buy at most last x 1.05, sell at least last x 0.95). */
static bool check_price(const json_t *req, place_req *p, reject *rj)
{
    const sim_inst *in = p->in;
    p->has_px = is_limit_type(p->ord_type);
    if (!p->has_px) {
        p->px = ex_zero();
        return true;
    }
    if (sim_json_dec(req, "px", &p->px) != AT_OK || p->px.m <= 0) {
        return fail(rj, "51000", "Parameter px error (a positive price for %s orders)",
                    p->ord_type);
    }
    if (!ex_is_multiple(p->px, in->tick_sz)) {
        char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
        return fail(rj, "51000", "Parameter px error (px %s is not a multiple of tickSz %s)",
                    sim_dec_str(p->px, a), sim_dec_str(in->tick_sz, b));
    }
    if (in->last.m <= 0) {
        return true;
    }
    bool err = false;
    at_dec hi = sim_mul(in->last, sim_dec_lit("1.05"), in->tick_sz.scale, &err);
    at_dec lo = sim_mul(in->last, sim_dec_lit("0.95"), in->tick_sz.scale, &err);
    if (!err && ((p->buy && at_dec_cmp(p->px, hi) > 0) || (!p->buy && at_dec_cmp(p->px, lo) < 0))) {
        char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
        return fail(rj, "51006",
                    "Order price is not within the price limit (max buy price: %s min sell "
                    "price: %s)",
                    sim_dec_str(hi, a), sim_dec_str(lo, b));
    }
    return true;
}

static bool dup_cl_ord_id(const sim_acct *a, const char *cl)
{
    if (!*cl) {
        return false;
    }
    for (const sim_order *o = a->orders; o; o = o->next) {
        if (order_is_live(o) && strcmp(o->cl_ord_id, cl) == 0) {
            return true;
        }
    }
    return false;
}

/* Closing orders (long_short: sell+long, buy+short, always reduce-only;
 * net: reduceOnly) need a position to reduce, and at most its size. */
static bool check_reduce(const sim_acct *a, place_req *p, reject *rj)
{
    bool ls = a->pos_mode == SIM_LONG_SHORT_MODE;
    bool closing = ls && (p->buy == (strcmp(p->pos_side, "short") == 0));
    if (ls && p->reduce_only && !closing) {
        return fail(rj, "51205", "Reduce Only is not available. (%s %s opens a position)",
                    p->buy ? "buy" : "sell", p->pos_side);
    }
    if (!closing && !p->reduce_only) {
        return true;
    }
    p->reduce_only = true;
    at_dec can = pos_closable(a, p->in, p->buy, p->pos_side, p->td_mode);
    if (can.m == 0) {
        return fail(rj, "51169",
                    "Order failed because you don't have any positions in this direction for "
                    "this contract to reduce or close. (%s %s %s)",
                    p->in->inst_id, p->pos_side, p->td_mode);
    }
    if (at_dec_cmp(p->sz, can) > 0) {
        char s[AT_DEC_STRLEN];
        return fail(rj, "51112", "Close order size exceeds your available size. (position %s)",
                    sim_dec_str(can, s));
    }
    return true;
}

/* The price an order is expected to trade at: its limit, else the touch. */
static at_dec expected_px(const place_req *p)
{
    const sim_book *b = &p->in->book;
    if (p->has_px) {
        return p->px;
    }
    if (p->buy && b->nasks > 0) {
        return b->asks[0].px;
    }
    if (!p->buy && b->nbids > 0) {
        return b->bids[0].px;
    }
    return p->in->last;
}

/* The furthest price a taker walk may reach: the last opposite level the
 * order may trade with, else its expected price. */
static at_dec furthest_px(const place_req *p)
{
    const sim_book *b = &p->in->book;
    const sim_level *lv = p->buy ? b->asks : b->bids;
    int n = p->buy ? b->nasks : b->nbids;
    at_dec far = expected_px(p);
    for (int i = 0; i < n; i++) {
        int c = p->has_px ? at_dec_cmp(lv[i].px, p->px) : 0;
        if ((p->buy && c > 0) || (!p->buy && c < 0)) {
            break;
        }
        far = lv[i].px;
    }
    return far;
}

/* Sizes, prices or a balance so large that the order's fills could not be
 * computed exactly (an int64 mantissa at 8 decimals holds about 9.2e10 USDT)
 * are refused here rather than met at fill time (match_fill checks every
 * fill again and books nothing that overflows). The order's notional, fee,
 * the position it leaves, the PnL of the part it closes and the cash after
 * are tried at the expected, the furthest and the mark price. */
static bool check_value(const sim_acct *a, const place_req *p, reject *rj)
{
    const sim_inst *in = p->in;
    const sim_position *pos = pos_find(a, in, p->pos_side, p->td_mode);
    at_dec e = pos ? pos_exposure(pos) : ex_zero();
    /* the part it closes: trading against the exposure's sign */
    bool closes = (p->buy && e.m < 0) || (!p->buy && e.m > 0);
    at_dec closed = closes ? ex_min(p->sz, ex_abs(e)) : ex_zero();
    at_dec pxs[3] = {expected_px(p), furthest_px(p), ex_mark(in)};
    bool err = false;
    at_dec after = sim_add(e, p->buy ? p->sz : sim_neg(p->sz), &err);
    for (int i = 0; i < 3 && !err; i++) {
        at_dec notional = ex_mul3(p->sz, in->ct_val, pxs[i], &err);
        at_dec fee = sim_mul(notional, a->taker_fee_rate, EX_MONEY_SCALE, &err);
        ex_mul3(ex_abs(after), in->ct_val, pxs[i], &err);
        at_dec pnl = ex_zero();
        if (closed.m > 0) {
            at_dec diff = sim_sub(pxs[i], pos->avg_px, &err);
            pnl = ex_mul3(e.m > 0 ? diff : sim_neg(diff), closed, in->ct_val, &err);
        }
        sim_sub(sim_add(a->cash, pnl, &err), fee, &err);
    }
    if (err) {
        char s1[AT_DEC_STRLEN], s2[AT_DEC_STRLEN];
        return fail(rj, "51000",
                    "Parameter sz error (sz %s at px %s is out of range: the order's value, "
                    "position or balance would overflow exact arithmetic)",
                    sim_dec_str(p->sz, s1), sim_dec_str(furthest_px(p), s2));
    }
    return true;
}

/* Initial margin of the opening part plus the taker fee of the whole order
 * must fit in availEq. */
static bool check_margin(sim_exchange *x, const sim_acct *a, const place_req *p, int lever,
                         reject *rj)
{
    bool err = false;
    at_dec px = expected_px(p), open = p->sz;
    if (p->reduce_only) {
        open = ex_zero();
    } else {
        at_dec can = pos_closable(a, p->in, p->buy, p->pos_side, p->td_mode);
        open = sim_sub(open, ex_min(open, can), &err);
    }
    if (open.m == 0) {
        return true; /* reducing never needs margin: closing must always work */
    }
    at_dec im =
        sim_div(ex_mul3(open, p->in->ct_val, px, &err), sim_dec_i(lever), EX_MONEY_SCALE, &err);
    at_dec fee =
        sim_mul(ex_mul3(p->sz, p->in->ct_val, px, &err), a->taker_fee_rate, EX_MONEY_SCALE, &err);
    at_dec need = sim_add(im, fee, &err);
    ex_totals t;
    ex_totals_of(x, a, &t);
    if (err || t.err || (need.m > 0 && at_dec_cmp(need, t.avail_eq) > 0)) {
        char s1[AT_DEC_STRLEN], s2[AT_DEC_STRLEN];
        return fail(rj, "51008",
                    "Order failed. Insufficient USDT margin in account (need %s, availEq %s)",
                    sim_dec_str(need, s1), sim_dec_str(t.avail_eq, s2));
    }
    return true;
}

static bool validate(sim_exchange *x, const sim_acct *a, const json_t *req, place_req *p,
                     reject *rj)
{
    if (!json_is_object(req)) {
        return fail(rj, "51000", "Parameter order error (each order must be an object)");
    }
    if (!parse_fields(x, a, req, p, rj) || !check_size(req, p, rj) || !check_price(req, p, rj)) {
        return false;
    }
    if (dup_cl_ord_id(a, p->cl_ord_id)) {
        return fail(rj, "51016", "Duplicated clOrdId (%s is live)", p->cl_ord_id);
    }
    if (p->attach) {
        const char *code = "51000";
        const char *why = algo_check_attach(p->attach, p->in, &code);
        if (why) {
            return fail(rj, code, "%s", why);
        }
    }
    int lever = acct_lever(a, p->in, p->td_mode, p->pos_side);
    return check_reduce(a, p, rj) && check_value(a, p, rj) && check_margin(x, a, p, lever, rj);
}

/* ------------------------------------------------------------- placement */

static json_t *result_item(const char *cl, const char *ord_id, const char *tag, int64_t ts,
                           const char *scode, const char *smsg)
{
    json_t *it = json_object();
    json_object_set_new(it, "clOrdId", json_string(cl));
    json_object_set_new(it, "ordId", json_string(ord_id));
    json_object_set_new(it, "tag", json_string(tag));
    json_object_set_new(it, "ts", sim_ms_json(ts));
    json_object_set_new(it, "sCode", json_string(scode));
    json_object_set_new(it, "sMsg", json_string(smsg));
    json_object_set_new(it, "subCode", json_string(""));
    return it;
}

/* Keep attachAlgoOrds with every number as a decimal string (clients may
 * send 100333 or "100333"), so order_json and the algos read one form. */
static json_t *normalize_attach(const json_t *attach)
{
    json_t *arr = json_deep_copy(attach);
    size_t i;
    json_t *g;
    json_array_foreach(arr, i, g)
    {
        const char *key;
        json_t *v;
        json_object_foreach(g, key, v)
        {
            at_dec d;
            if (json_is_number(v) && sim_json_dec(g, key, &d) == AT_OK) {
                json_object_set_new(g, key, sim_dec_json(d));
            }
        }
    }
    return arr;
}

static sim_order *create(sim_exchange *x, sim_acct *a, const place_req *p, const sim_algo *algo)
{
    sim_order *o = order_alloc(x, a, p->in);
    if (!o) {
        return NULL;
    }
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", p->cl_ord_id);
    snprintf(o->tag, sizeof(o->tag), "%s", p->tag);
    snprintf(o->ord_type, sizeof(o->ord_type), "%s", p->ord_type);
    snprintf(o->pos_side, sizeof(o->pos_side), "%s", p->pos_side);
    snprintf(o->td_mode, sizeof(o->td_mode), "%s", p->td_mode);
    o->buy = p->buy;
    o->sz = p->sz;
    o->px = p->px;
    o->reduce_only = p->reduce_only;
    o->lever = acct_lever(a, p->in, p->td_mode, p->pos_side);
    if (p->attach && json_array_size(p->attach) > 0) {
        o->attach_algo = normalize_attach(p->attach);
    }
    if (algo) {
        snprintf(o->algo_id, sizeof(o->algo_id), "%s", algo->algo_id);
        snprintf(o->algo_cl_ord_id, sizeof(o->algo_cl_ord_id), "%s", algo->algo_cl_ord_id);
    }
    return o;
}

json_t *order_submit(sim_exchange *x, sim_acct *a, const json_t *req, const sim_algo *algo,
                     sim_order **out)
{
    const char *cl = sim_json_str(req, "clOrdId"), *tag = sim_json_str(req, "tag");
    if (out) {
        *out = NULL;
    }
    if (x->next_reject_code != 0 && !algo) {
        /* Injected fault: this order fails with the configured code. */
        char code[16];
        snprintf(code, sizeof(code), "%d", x->next_reject_code);
        x->next_reject_code = 0;
        json_t *it = result_item(cl, "", tag, x->now_ms, code,
                                 x->next_reject_msg[0] ? x->next_reject_msg
                                                       : "Order rejected (injected fault)");
        x->next_reject_msg[0] = '\0';
        return it;
    }
    place_req p;
    reject rj;
    memset(&p, 0, sizeof(p));
    if (!validate(x, a, req, &p, &rj)) {
        return result_item(cl, "", tag, x->now_ms, rj.code, rj.msg);
    }
    sim_order *o = create(x, a, &p, algo);
    if (!o) {
        return result_item(cl, "", tag, x->now_ms, "50026", "System error (out of memory)");
    }
    algo_attach(x, a, o);
    ex_push_order(x, a, o, NULL, NULL);
    match_new(x, a, o);
    if (o->fail_msg[0] && o->acc_fill_sz.m == 0) {
        /* Its first fill could not be booked: canceled at once with nothing
         * filled, which the caller sees as a refusal. */
        return result_item(o->cl_ord_id, "", o->tag, x->now_ms, "51000", o->fail_msg);
    }
    if (out) {
        *out = o;
    }
    return result_item(o->cl_ord_id, o->ord_id, o->tag, x->now_ms, "0", "Order placed");
}

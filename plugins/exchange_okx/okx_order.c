/* Order intents -> OKX request bodies (see okx_order.h). Every allocation of
 * the body is checked: a field jansson could not allocate must fail the
 * build, never send a request without it. */
#include <stdio.h>
#include <string.h>

#include "okx_order.h"

static int refuse(int rc, char *why, size_t whylen, const char *text)
{
    snprintf(why, whylen, "%s", text);
    return rc;
}

const char *okx_order_pos_side(const okx_ctx *c, const at_ev_order_intent *ev)
{
    if (!c->long_short) {
        return NULL;
    }
    if (ev->pos_side == AT_POS_LONG) {
        return "long";
    }
    if (ev->pos_side == AT_POS_SHORT) {
        return "short";
    }
    /* Hedge mode needs a side: an opening buy is long, a reducing buy closes
     * a short. Unambiguous: the side and reduce-only name one of the four. */
    bool buy = ev->side == AT_SIDE_BUY;
    return ev->reduce_only ? (buy ? "short" : "long") : (buy ? "long" : "short");
}

int okx_order_mode_check(const okx_ctx *c, const at_ev_order_intent *ev, char *why, size_t whylen)
{
    if (ev->op != AT_INTENT_PLACE && ev->op != AT_INTENT_CLOSE_POSITION) {
        return AT_OK;
    }
    if ((unsigned)ev->pos_side > AT_POS_SHORT) {
        return refuse(AT_EINVAL, why, whylen, "unknown pos_side");
    }
    if (!c->long_short) {
        /* Net mode has one position per instrument: posSide is always net.
         * Sent as asked, a "long" sell would open a short. */
        if (ev->pos_side != AT_POS_NET) {
            snprintf(why, whylen,
                     "pos_side %s in a net_mode account (only net; a reduction is reduce_only)",
                     ev->pos_side == AT_POS_LONG ? "long" : "short");
            return AT_EINVAL;
        }
        return AT_OK;
    }
    if (ev->op != AT_INTENT_PLACE || ev->pos_side == AT_POS_NET || !ev->reduce_only) {
        return AT_OK;
    }
    /* Hedge mode: OKX ignores reduceOnly, the side and posSide alone say
     * whether an order opens (buy+long, sell+short) or closes: a reduce_only
     * intent that at_place_is_entry (events.h) calls an entry is refused. */
    bool buy = ev->side == AT_SIDE_BUY;
    if (at_place_is_entry(ev->side, ev->pos_side, ev->reduce_only)) {
        snprintf(why, whylen,
                 "reduce_only %s with pos_side %s opens a position in a long_short_mode account "
                 "(a reduction is %s with pos_side %s)",
                 buy ? "buy" : "sell", buy ? "long" : "short", buy ? "sell" : "buy",
                 buy ? "long" : "short");
        return AT_EINVAL;
    }
    return AT_OK;
}

const char *okx_order_type_name(at_ord_type t)
{
    static const char *const names[] = {"market", "limit", "post_only", "fok", "ioc"};
    return (unsigned)t < 5 ? names[t] : "market";
}

bool okx_put(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) == 0;
}

bool okx_put_dec(const okx_ctx *c, json_t *o, const char *k, at_dec d)
{
    char s[AT_DEC_STRLEN];
    return okx_fmt(c->h, d, s) > 0 && okx_put(o, k, json_string(s));
}

/* attachAlgoOrds: protection lives at the exchange, attached TP/SL with a
 * market exit. Its algoClOrdId is ours (clOrdId + "a"), so a restart can
 * tell our algo orders from anyone else's. */
static int attach_tp_sl(const okx_ctx *c, const at_ev_order_intent *ev, const okx_inst *in,
                        json_t *b, bool *ok, char *why, size_t whylen)
{
    json_t *a = json_object();
    char acl[AT_ID_LEN + 2];
    snprintf(acl, sizeof(acl), "%sa", ev->cl_ord_id);
    *ok &= okx_put(a, "attachAlgoClOrdId", json_string(acl));
    const struct {
        at_dec px;
        const char *trig, *ord, *name;
    } legs[2] = {{ev->tp_trigger_px, "tpTriggerPx", "tpOrdPx", "take-profit"},
                 {ev->sl_trigger_px, "slTriggerPx", "slOrdPx", "stop-loss"}};
    for (int i = 0; i < 2; i++) {
        if (legs[i].px.m <= 0) {
            continue;
        }
        at_dec p;
        if (okx_price_round(in, c->h, legs[i].px, AT_ROUND_HALF_EVEN, &p) != AT_OK || p.m <= 0) {
            json_decref(a);
            snprintf(why, whylen, "%s trigger price does not round to a tick", legs[i].name);
            return AT_EINVAL;
        }
        *ok &= okx_put_dec(c, a, legs[i].trig, p);
        *ok &= okx_put(a, legs[i].ord, json_string("-1"));
    }
    json_t *list = json_array();
    *ok &= json_array_append_new(list, a) == 0;
    *ok &= okx_put(b, "attachAlgoOrds", list);
    return AT_OK;
}

static int build_place(const okx_ctx *c, const at_ev_order_intent *ev, const okx_inst *in,
                       json_t *b, bool *ok, okx_order_req *out, char *why, size_t whylen)
{
    const char *td = ev->isolated || c->td_mode == 1 ? "isolated" : "cross";
    const char *ps = okx_order_pos_side(c, ev);
    at_dec csz;
    int rc;
    if ((rc = okx_size_from_contracts(in, c->h, ev->sz, &csz, why, whylen)) != AT_OK ||
        (rc = okx_size_check_max(in, c->h, csz, ev->ord_type == AT_ORDT_MARKET, why, whylen)) !=
            AT_OK) {
        return rc < 0 ? rc : AT_EINVAL;
    }
    out->sent_sz = csz;
    *ok &= okx_put(b, "tdMode", json_string(td));
    *ok &= okx_put(b, "side", json_string(ev->side == AT_SIDE_BUY ? "buy" : "sell"));
    if (ps) {
        *ok &= okx_put(b, "posSide", json_string(ps));
    }
    *ok &= okx_put(b, "ordType", json_string(okx_order_type_name(ev->ord_type)));
    *ok &= okx_put_dec(c, b, "sz", csz);
    if (ev->ord_type != AT_ORDT_MARKET) {
        at_dec p;
        /* Never a worse price than asked: buys round down, sells up. */
        at_round mode = ev->side == AT_SIDE_BUY ? AT_ROUND_FLOOR : AT_ROUND_CEIL;
        if (ev->px.m <= 0 || okx_price_round(in, c->h, ev->px, mode, &p) != AT_OK) {
            return refuse(AT_EINVAL, why, whylen, "a limit order needs a positive price");
        }
        out->sent_px = p;
        *ok &= okx_put_dec(c, b, "px", p);
    }
    if (ev->reduce_only && !c->long_short) {
        *ok &= okx_put(b, "reduceOnly", json_true());
    }
    *ok &= okx_put(b, "clOrdId", json_string(ev->cl_ord_id));
    if (ev->tp_trigger_px.m > 0 || ev->sl_trigger_px.m > 0) {
        if ((rc = attach_tp_sl(c, ev, in, b, ok, why, whylen)) != AT_OK) {
            return rc;
        }
    }
    out->path = "/api/v5/trade/order";
    return AT_OK;
}

static int build_amend(const okx_ctx *c, const at_ev_order_intent *ev, const okx_inst *in,
                       json_t *b, bool *ok, okx_order_req *out, char *why, size_t whylen)
{
    *ok &= okx_put(b, ev->ord_id[0] ? "ordId" : "clOrdId",
                   json_string(ev->ord_id[0] ? ev->ord_id : ev->cl_ord_id));
    if (ev->sz.m > 0) {
        at_dec csz;
        int rc = okx_size_from_contracts(in, c->h, ev->sz, &csz, why, whylen);
        if (rc != AT_OK) {
            return rc < 0 ? rc : AT_EINVAL;
        }
        *ok &= okx_put_dec(c, b, "newSz", csz);
    }
    if (ev->px.m > 0) {
        at_dec p;
        at_round mode = ev->side == AT_SIDE_SELL ? AT_ROUND_CEIL : AT_ROUND_FLOOR;
        if (okx_price_round(in, c->h, ev->px, mode, &p) != AT_OK) {
            return refuse(AT_EINVAL, why, whylen, "the new price does not round to a tick");
        }
        *ok &= okx_put_dec(c, b, "newPx", p);
    }
    out->path = "/api/v5/trade/amend-order";
    return AT_OK;
}

int okx_order_build(const okx_ctx *c, const at_ev_order_intent *ev, const okx_inst *in,
                    okx_order_req *out, char *why, size_t whylen)
{
    why[0] = '\0';
    out->path = NULL;
    out->body[0] = '\0';
    out->sent_sz = out->sent_px = (at_dec){0, 0};
    bool ok = true; /* every part of the body could be allocated */
    int rc = AT_OK;
    const char *td = ev->isolated || c->td_mode == 1 ? "isolated" : "cross";
    const char *ps = okx_order_pos_side(c, ev);
    if ((rc = okx_order_mode_check(c, ev, why, whylen)) != AT_OK) {
        return rc;
    }
    if (ev->op == AT_INTENT_PLACE && ev->leverage.m < 0) {
        return refuse(AT_EINVAL, why, whylen, "leverage must be positive (0 = leave as is)");
    }
    json_t *b = json_object();
    ok &= okx_put(b, "instId", json_string(in->inst_id));
    switch (ev->op) {
    case AT_INTENT_PLACE:
        rc = build_place(c, ev, in, b, &ok, out, why, whylen);
        break;
    case AT_INTENT_CANCEL:
        ok &= okx_put(b, ev->ord_id[0] ? "ordId" : "clOrdId",
                      json_string(ev->ord_id[0] ? ev->ord_id : ev->cl_ord_id));
        out->path = "/api/v5/trade/cancel-order";
        break;
    case AT_INTENT_AMEND:
        rc = build_amend(c, ev, in, b, &ok, out, why, whylen);
        break;
    case AT_INTENT_CLOSE_POSITION:
        ok &= okx_put(b, "mgnMode", json_string(td));
        if (ps) { /* the intent's side, else the one its side and reduce-only imply */
            ok &= okx_put(b, "posSide", json_string(ps));
        }
        ok &= okx_put(b, "clOrdId", json_string(ev->cl_ord_id));
        out->path = "/api/v5/trade/close-position";
        break;
    case AT_INTENT_CANCEL_ALGO: {
        if (!ev->ord_id[0]) {
            rc = refuse(AT_EINVAL, why, whylen, "cancel_algo needs the algoId (ord_id)");
            break;
        }
        /* cancel-algos takes an array of {algoId, instId}. */
        ok &= okx_put(b, "algoId", json_string(ev->ord_id));
        json_t *list = json_array();
        ok &= json_array_append_new(list, b) == 0; /* b is the list's (or freed) */
        b = list;
        out->path = "/api/v5/trade/cancel-algos";
        break;
    }
    default:
        rc = refuse(AT_EINVAL, why, whylen, "unknown intent op");
        break;
    }
    if (rc != AT_OK) {
        goto fail;
    }
    /* Written straight into the body: no allocation for the text, and no
     * key silently left out, as json_dumps does when its buffer cannot grow
     * (jansson's dump ignores a failed key write). json_dumpb only fails for
     * memory (its loop check) and counts what did not fit. */
    size_t n = ok && b ? json_dumpb(b, out->body, sizeof(out->body) - 1,
                                    JSON_COMPACT | JSON_PRESERVE_ORDER)
                       : 0;
    if (n == 0) {
        rc = refuse(AT_ENOMEM, why, whylen, "out of memory building the request");
        goto fail;
    }
    if (n > sizeof(out->body) - 1) {
        rc = refuse(AT_ERANGE, why, whylen, "request too large");
        goto fail;
    }
    out->body[n] = '\0';
    json_decref(b);
    return AT_OK;
fail:
    json_decref(b);
    out->path = NULL;
    out->body[0] = '\0';
    out->sent_sz = out->sent_px = (at_dec){0, 0};
    return rc;
}

/* The OKX request of one order intent (place, cancel, amend, close_position,
 * cancel_algo): path and JSON body, sizes rounded to lotSz and prices to
 * tickSz (never a worse price than asked). Pure building: nothing is sent or
 * stored here (okx_trade.c does both). */
#ifndef OKX_ORDER_H
#define OKX_ORDER_H

#include <stddef.h>

#include "okx_plugin.h"

typedef struct okx_order_req {
    const char *path;        /* "/api/v5/trade/order" … (static) */
    char body[2048];         /* the JSON body */
    at_dec sent_sz, sent_px; /* a place's size and limit price as sent ({0,0}: none) */
} okx_order_req;

/* Build the request of `ev` for instrument `in`. Returns AT_OK, or < 0 with
 * the reason in why: AT_EINVAL/AT_ERANGE when the intent cannot be sent as
 * asked (size below minSz, no price, fields that disagree with the
 * account's position mode: okx_order_mode_check, …), AT_ERANGE "request too large",
 * AT_ENOMEM when the body could not be allocated. */
int okx_order_build(const okx_ctx *c, const at_ev_order_intent *ev, const okx_inst *in,
                    okx_order_req *out, char *why, size_t whylen);

/* posSide to send: NULL in net mode; in long/short mode the intent's, else
 * (pos_side net) the one its side and reduce-only imply: buy opens long,
 * sell opens short, a reduce-only buy closes short, a reduce-only sell
 * closes long. */
const char *okx_order_pos_side(const okx_ctx *c, const at_ev_order_intent *ev);
/* Whether a place or close_position intent agrees with the account's
 * position mode (the one rule, applied by okx_order_build): in net_mode
 * pos_side must be net; in long_short_mode a reduce_only place may not be
 * an opening pair (buy+long, sell+short), which OKX would execute as an
 * opening order since it ignores reduceOnly there. AT_OK, or AT_EINVAL with
 * the reason in why. */
int okx_order_mode_check(const okx_ctx *c, const at_ev_order_intent *ev, char *why, size_t whylen);
/* o[k] = v, v consumed (jansson's set_new); false when o or v could not be
 * allocated (a NULL v: json_string of text that is not UTF-8, or no
 * memory). Request bodies are built with these, never printed by hand, so
 * no value can break the JSON. */
bool okx_put(json_t *o, const char *k, json_t *v);
/* o[k] = the exact decimal d as OKX writes it; false when it cannot be. */
bool okx_put_dec(const okx_ctx *c, json_t *o, const char *k, at_dec d);
/* OKX's ordType name of t ("market" for an unknown one). */
const char *okx_order_type_name(at_ord_type t);

#endif

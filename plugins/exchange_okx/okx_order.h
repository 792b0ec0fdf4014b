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
 * asked (size below minSz, no price, …), AT_ERANGE "request too large",
 * AT_ENOMEM when the body could not be allocated. */
int okx_order_build(const okx_ctx *c, const at_ev_order_intent *ev, const okx_inst *in,
                    okx_order_req *out, char *why, size_t whylen);

/* posSide to send: NULL in net mode; in long/short mode the intent's, else
 * the side its direction and reduce-only imply. */
const char *okx_order_pos_side(const okx_ctx *c, const at_ev_order_intent *ev);
/* OKX's ordType name of t ("market" for an unknown one). */
const char *okx_order_type_name(at_ord_type t);

#endif

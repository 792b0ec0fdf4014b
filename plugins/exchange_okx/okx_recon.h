/* exchange_okx's start-up reconciliation (okx_recon.c) and the one thing
 * of okx_trade.c it needs: an orders row of a previous run looked up and
 * settled like an intent whose answer was lost. Internal to okx_trade.c and
 * okx_recon.c. */
#ifndef OKX_RECON_H
#define OKX_RECON_H

#include <stdint.h>

#include "okx_plugin.h"

/* Reconcile this account with what a previous run left (stored orders rows
 * without an answer) and with what OKX has (open orders, algo orders): the
 * storage reads and REST calls go out, their answers are handled later. */
void okx_recon_start(okx_ctx *c);

/* okx_trade.c: ask OKX by clOrdId about a row a previous run left "sent"
 * or "unknown" (op place or close_position, row created at created_ms) and
 * settle it from the answer; "not at OKX" is final only past the expTime
 * its request would have carried (the lookup waits until then). AT_OK, or
 * AT_ENOMEM (nothing started). */
int okx_trade_reconcile(okx_ctx *c, const char *intent_id, const char *cl_ord_id,
                        const char *inst_id, at_intent_op op, int64_t created_ms);

#endif

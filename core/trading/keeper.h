/* The order keeper (issue 10): what the engine cancels by itself.
 *  - Limit TTL: a place of a resting order (ord_type not market) whose
 *    intent has ttl_ms > 0 is followed from the executor's submit; still open
 *    at its deadline (sent + ttl_ms), it gets a CANCEL intent. The deadline is
 *    stored (orders.expire_ms), so a restart follows it again and cancels an
 *    overdue one at once. A terminal ORDER (filled, canceled, mmp_canceled) or
 *    a failed ORDER_RESULT of the place ends the follow.
 *  - Orphan TP/SL: a live algo order that only reduces (reduce_only or
 *    close_position) and is ours (algoClOrdId = a clOrdId in our orders for
 *    that account + "a") protects a position (account, instrument, side).
 *    Once that position was seen open while the algo lived and then is flat
 *    (net mode: flat, or on the side the algo would increase) continuously
 *    for orphan_grace, the algo gets a CANCEL_ALGO intent. A position the
 *    keeper has no POSITION event for is never taken as flat: a missed push
 *    must not strip a live position of its stop-loss.
 * It never calls a venue: it publishes ORDER_INTENTs (origin "core.keeper")
 * that go through the executor and the risk chain like any other, each
 * attempt under an id of its own: "keeper/ttl/<clOrdId>/<deadline ms>/<n>"
 * and "keeper/orphan/<algoId>/<n>" (the part before "/<n>" hashed when too
 * long), n counting on from the attempts stored by earlier runs. A cancel
 * refused for a reason that may pass is tried again with backoff, a few
 * times, then an ALERT; one refused because the order is gone ends the
 * follow. A place that turns out "unsent" (never reached the venue) ends it
 * too; sent again, it is followed anew, its deadline from the new send.
 * Runs as a virtual instance ("core.keeper") on the host table like a
 * plugin. */
#ifndef AT_CORE_TRADING_KEEPER_H
#define AT_CORE_TRADING_KEEPER_H

#include <stdint.h>

#include <aitrader/plugin.h>

#define KEEPER_ORIGIN "core.keeper"

typedef struct keeper_cfg {
    int64_t orphan_grace_ms; /* [core] orphan_grace; 0 = orphan TP/SL are left alone */
} keeper_cfg;

typedef struct keeper_stats {
    uint64_t ttl_tracked;      /* limits followed for their TTL (submitted or re-read) */
    uint64_t ttl_cancels;      /* CANCEL intents published at a deadline */
    uint64_t orphan_cancels;   /* CANCEL_ALGO intents published for orphans */
    uint64_t foreign_algos;    /* reduce-only algo orders seen that are not ours */
    uint64_t cancel_retries;   /* refused cancels tried again */
    uint64_t cancels_given_up; /* cancels refused KEEP_CANCEL_TRIES times (ALERT) */
} keeper_stats;

typedef struct keeper keeper;

/* `self` is borrowed and must outlive the keeper. NULL on bad cfg or no
 * memory. */
keeper *keeper_new(const at_host *h, at_instance *self, const keeper_cfg *cfg);
/* Subscribe to ORDER, ORDER_RESULT, POSITION and ALGO_ORDER and read the
 * stored deadlines of open orders. */
int keeper_start(keeper *k);
void keeper_stop(keeper *k);
/* After storage stopped (a query may still hold the keeper until then). */
void keeper_free(keeper *k);
void keeper_get_stats(const keeper *k, keeper_stats *out);
/* The executor's call after a venue's submit() of an approved intent
 * (exec_cfg.on_submit); `it` is borrowed for the call. */
void keeper_on_submit(void *k, const at_ev_order_intent *it);

#endif

/* The one gate for orders. Every AT_EV_ORDER_INTENT on the bus, whoever
 * published it (an AI trader, the dashboard's manual orders, a plugin), comes
 * here; nothing else reaches an exchange's order operations:
 *   1. the gate's own checks (rule "core.gate"): the intent has an id, its
 *      account is an exchange instance that trades, and `mode = paper` lets
 *      orders reach only paper venues and demo accounts;
 *   2. the risk rules, in config order, each on the intent as resized by the
 *      ones before; a rule may only shrink the size; the first reject stops;
 *   3. a shadow intent goes on only to a paper venue (its trader's shadow
 *      account fills it hypothetically); for any other account it stops
 *      here (checked and stored, not sent);
 *   4. the exchange's submit(), which answers with exactly one ORDER_RESULT.
 * Each verdict is published (AT_EV_RISK_VERDICT) and stored (risk_verdicts)
 * before the next step; a refused intent gets its ORDER_RESULT (ok = false,
 * code "risk_rejected" or "shadow") from here and, for a place, its
 * `orders` row in state rejected. The executor runs as a virtual instance
 * ("core.executor") on the host table like a plugin; the venues and rules
 * are handed to it by the engine and reachable by nothing else. */
#ifndef AT_CORE_TRADING_EXECUTOR_H
#define AT_CORE_TRADING_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <aitrader/plugin.h>

typedef struct exec_venue {
    const char *name; /* "exchange.okx_main" (borrowed for the executor's life) */
    const at_exchange_ops *ops;
    void *ctx;
} exec_venue;

typedef struct exec_rule {
    const char *name; /* "risk.limits" */
    const at_risk_ops *ops;
    void *ctx;
} exec_rule;

typedef struct exec_cfg {
    bool paper_mode;
    const exec_venue *venues; /* every exchange instance that trades */
    size_t nvenues;
    const exec_rule *rules; /* in chain order */
    size_t nrules;
    /* Exchange instances without order operations (data only), to say so. */
    const char *const *data_only;
    size_t ndata_only;
    /* Told of each intent handed to a venue's submit(), as sent (clOrdId
     * derived, resized): the order keeper follows limits with a TTL. May be
     * NULL. */
    void (*on_submit)(void *arg, const at_ev_order_intent *it);
    void *on_submit_arg;
    /* aitrader replay (core/replay.h), else NULL: when an intent that passed
     * the chain is handed to its venue (core-clock µs; 0 = now): the time
     * the recorded one was sent, since live the venue got it only after its
     * orders row committed, and a paper venue fills at that moment's book. */
    int64_t (*submit_at)(void *arg, const char *intent_id);
    void *submit_at_arg;
} exec_cfg;

typedef struct exec_stats {
    uint64_t intents, submitted, rejected, resized;
    uint64_t shadow;       /* shadow intents stopped (not for a paper venue) */
    uint64_t shadow_paper; /* shadow intents submitted to a paper venue (in submitted) */
} exec_stats;

typedef struct executor executor;

/* `self` is borrowed and must outlive the executor; cfg's arrays are copied
 * (the names and ops they point at are borrowed). */
executor *exec_new(const at_host *h, at_instance *self, const exec_cfg *cfg);
/* Subscribe to intents; say which accounts are traded and which followed. */
int exec_start(executor *x);
void exec_stop(executor *x);
void exec_free(executor *x);
void exec_get_stats(const executor *x, exec_stats *out);

#endif

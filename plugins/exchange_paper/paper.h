/* exchange_paper: trading without risk against real market data.
 *
 * It is exchange_okx's own code (order intents, storage, events,
 * reconciliation) talking to an in-process copy of the venue model that
 * okx-sim runs (lib/venue: the same fees, margin, funding, fills,
 * liquidation, TP/SL) instead of to OKX. Prices come from the bus: the
 * TICKER/BOOK/MARK/FUNDING events of a market-data instance (exchange_okx
 * without keys on live OKX, or anything that publishes them). */
#ifndef PAPER_H
#define PAPER_H

#include "okx_plugin.h"
#include "sim.h"

typedef struct paper_ctx {
    okx_ctx okx; /* first: the okx_* code takes it as its own */
    /* config */
    const char *market_source; /* instance whose market events count, or NULL = any */
    const char *balance;       /* USDT */
    int pos_mode;              /* 0 net_mode, 1 long_short_mode */
    double maker_fee, taker_fee;
    /* state */
    okx_rest *meta; /* real REST, public: /public/instruments */
    sim_market *market;
    sim_exchange x;
    at_timer *tick;
    int subs[4];
} paper_ctx;

/* paper_market.c: the venue's market, fed by bus events. */
sim_market *paper_market_new(const okx_insts *insts, const okx_watch *watch, size_t n);
void paper_market_free(sim_market *m);
/* A market event; true when it updated an instrument of the venue. */
bool paper_market_on_event(sim_market *m, const at_host *h, const at_event *e);

/* paper_local.c: okx_rest's in-process backend and the venue's pushes. */
int paper_local_call(void *arg, const char *method, const char *path, const char *query,
                     const char *body, char **resp, size_t *resp_len);
void paper_push_order(void *arg, sim_acct *a, const sim_order *o, json_t *data);
void paper_push_position(void *arg, sim_acct *a, json_t *data);
void paper_push_account(void *arg, sim_acct *a, json_t *data);
void paper_push_algo(void *arg, sim_acct *a, json_t *data);

#endif

/* exchange_paper: trading without risk against real market data.
 *
 * It is exchange_okx's own code (order intents, storage, events,
 * reconciliation) talking to an in-process copy of the venue model that
 * okx-sim runs (lib/venue: the same fees, margin, funding, fills,
 * liquidation, TP/SL) instead of to OKX. Prices come from the bus: the
 * TICKER/BOOK/MARK/FUNDING events of a market-data instance (exchange_okx
 * without keys on live OKX, or anything that publishes them). The account
 * (cash, positions, open and algo orders, settings, id counters) is kept in
 * storage as it changes and restored at start (paper_store.c). */
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
    bool reset; /* start again from `balance`, setting the stored state aside */
    /* state */
    okx_rest *meta; /* real REST, public: /public/instruments */
    sim_market *market;
    sim_exchange x;
    at_timer *tick;
    int subs[4];
    /* persistence (paper_store.c) */
    bool venue_open;  /* the venue exists and its state is restored */
    bool no_storage;  /* no storage instance: the account lives in memory only */
    int depth;        /* venue calls under way: their pushes are held until the outermost ends */
    json_t *held;     /* held pushes, {"channel":..,"data":[..]} each */
    bool dirty;       /* the venue's state may have changed since the last save */
    char *saved;      /* the state document last written (identical ones are skipped) */
    int64_t seq;      /* of the last write of the paper_state row */
    bool announced;   /* balance and positions pushed once after start, when priced */
    bool save_failed; /* the last write failed (logged once until one succeeds) */
} paper_ctx;

/* paper_market.c: the venue's market, fed by bus events. */
sim_market *paper_market_new(const okx_insts *insts, const okx_watch *watch, size_t n);
void paper_market_free(sim_market *m);
/* A market event; true when it updated an instrument of the venue. */
bool paper_market_on_event(sim_market *m, const at_host *h, const at_event *e);

/* paper_store.c: the account in storage (the paper_state row).
 * paper_store_open reads it (or starts fresh, or resets) into the venue and
 * calls ready(p); a stored state that cannot be restored stops the engine
 * (exit 1), naming the account and the reason. Every venue call runs between
 * paper_venue_enter and paper_venue_leave: the venue's pushes are held, and
 * when the outermost call ends the state is written (when it changed) before
 * they reach exchange_okx's code, so storage has the venue's state before
 * any row or event that reports it. */
void paper_store_open(paper_ctx *p, void (*ready)(paper_ctx *p));
void paper_venue_enter(paper_ctx *p);
void paper_venue_leave(paper_ctx *p);
/* A push of the venue (data borrowed): held while a venue call runs. */
void paper_store_push(paper_ctx *p, const char *channel, json_t *data);
/* After the okx code started: rows a kill -9 kept from storage (orders, fills)
 * caught up from the restored venue. */
void paper_store_catch_up(paper_ctx *p);
/* At stop: the last write, held pushes dropped. */
void paper_store_close(paper_ctx *p);
void paper_store_free(paper_ctx *p);

/* paper_local.c: okx_rest's in-process backend and the venue's pushes. */
int paper_local_call(void *arg, const char *method, const char *path, const char *query,
                     const char *body, char **resp, size_t *resp_len);
void paper_push_order(void *arg, sim_acct *a, const sim_order *o, json_t *data);
void paper_push_position(void *arg, sim_acct *a, json_t *data);
void paper_push_account(void *arg, sim_acct *a, json_t *data);
void paper_push_algo(void *arg, sim_acct *a, json_t *data);
/* Hand one private-channel message to exchange_okx's code now. */
void paper_deliver(paper_ctx *p, const char *channel, json_t *data);

#endif

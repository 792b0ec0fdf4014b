/* PnL per trader and account (issue 10): every FILL is attributed by its
 * clOrdId to the origin and decision of the order that made it (orders
 * table; a TP/SL's fill by its algoClOrdId, the entry's clOrdId + "a", to
 * the entry), and applied to that origin's first-in-first-out book of the
 * instrument and position side (ledger_book.h). Funding is booked on the
 * open lots at each settlement (the rate in force for the period, at the
 * mark), as the venue model does. The `ledger` table journals every row
 * applied, so the books are rebuilt exactly at start; fills the exchange
 * stored but the journal lacks (a crash between the two writes) are applied
 * then. Written back: each decision's outcome (decisions.outcome_json,
 * net_pnl: the PnL of the positions it opened, fees and funding included)
 * and pnl_snapshots per origin and account each minute and after fills.
 * Two traders on one account keep their own books. Linear contracts only
 * (USDT, USDC): an inverse contract's fills are journaled without PnL.
 * Runs as the virtual instance "core.ledger". */
#ifndef AT_CORE_TRADING_LEDGER_H
#define AT_CORE_TRADING_LEDGER_H

#include <stdint.h>

#include <aitrader/plugin.h>

typedef struct ledger_cfg {
    int64_t period_ms; /* pnl_snapshots period, 60000 */
} ledger_cfg;

typedef struct ledger_stats {
    uint64_t fills;        /* fills applied */
    uint64_t unattributed; /* of which no order of ours matched */
    uint64_t duplicates;   /* fills seen again, not applied twice */
    uint64_t funding;      /* funding rows booked */
    uint64_t replayed;     /* journal rows applied at start */
    uint64_t recovered;    /* stored fills missing from the journal, applied at start */
    uint64_t errors;       /* fills not applied (overflow, no instrument data) */
} ledger_stats;

typedef struct ledger ledger;

/* One origin's totals on one account (for the API and tests). */
typedef struct ledger_pnl {
    at_dec realized, fees, funding, unrealized;
    bool unrealized_known;
    unsigned positions;
} ledger_pnl;

ledger *ledger_new(const at_host *h, at_instance *self, const ledger_cfg *cfg);
/* Read the journal, then follow FILL, FUNDING, MARK and TICKER. */
int ledger_start(ledger *l);
void ledger_stop(ledger *l);
void ledger_free(ledger *l);
void ledger_get_stats(const ledger *l, ledger_stats *out);
/* AT_OK with the totals, AT_ENOENT when the origin has no book there. */
int ledger_pnl_of(const ledger *l, const char *origin, const char *account, ledger_pnl *out);
/* What became of a decision so far: the PnL of the positions it opened. */
typedef struct ledger_outcome {
    at_dec realized, fees, funding;
    unsigned fills;
    bool open; /* some of its contracts are still open */
} ledger_outcome;

/* AT_OK, or AT_ENOENT when no fill of it was booked (or it was forgotten:
 * the ledger keeps the latest few thousand decisions). */
int ledger_outcome_of(const ledger *l, const char *decision_id, ledger_outcome *out);

/* The contracts `origin` holds of inst on account and position side (net:
 * signed), from its own fills: AT_OK, or AT_ENOENT when it has no book
 * there. What a trader may close of a position it shares with others. */
int ledger_position_of(const ledger *l, const char *origin, const char *account, at_inst inst,
                       at_pos_side pos_side, at_dec *out);

/* The journal was read (fills wait until it is). */
bool ledger_ready(const ledger *l);

/* One origin's figures for one instrument on one account, every position
 * side together (the shadow-vs-live comparison): PnL, fees and funding as
 * ledger_pnl; the contracts held (net: long minus short); round trips, a
 * book's position from flat back to flat (or flipped), and how many of them
 * ended with net PnL (realized + fees + funding) above 0. */
typedef struct ledger_sym {
    at_dec realized, fees, funding, unrealized, position;
    bool unrealized_known;
    uint64_t round_trips, wins;
} ledger_sym;

/* AT_OK with the figures, AT_ENOENT when the origin has no book there. */
int ledger_sym_of(const ledger *l, const char *origin, const char *account, at_inst inst,
                  ledger_sym *out);

#endif

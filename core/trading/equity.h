/* The equity curve (issue 10): one equity_snapshots row per account every
 * minute of the core clock (at the minute) and one after each fill, from the
 * venue's own account total (OKX totalEq; the paper venue's equity), carried
 * by AT_EV_BALANCE. It is never rebuilt from trades: a fee, a funding payment
 * or a liquidation the engine did not see is in the venue's figure anyway.
 * The row after a fill waits for the next BALANCE of that account, so it
 * carries the equity that includes the fill. An account whose equity is
 * unknown, or older than max_age_ms, gets no row (said once in the log until
 * a fresh BALANCE arrives). Runs as a virtual instance ("core.equity") on the
 * host table like a plugin. */
#ifndef AT_CORE_TRADING_EQUITY_H
#define AT_CORE_TRADING_EQUITY_H

#include <stdint.h>

#include <aitrader/plugin.h>

typedef struct equity_cfg {
    int64_t period_ms;  /* 60000: a row each minute, aligned to the period */
    int64_t max_age_ms; /* a BALANCE older than this is stale: no row */
} equity_cfg;

typedef struct equity_stats {
    uint64_t rows;    /* rows written (periodic and after fills) */
    uint64_t skipped; /* periodic rows not written: equity unknown or stale */
} equity_stats;

typedef struct equity equity;

/* `self` is borrowed and must outlive the module. NULL on bad cfg or no
 * memory. */
equity *equity_new(const at_host *h, at_instance *self, const equity_cfg *cfg);
/* Subscribe to BALANCE and FILL and arm the minute timer. */
int equity_start(equity *q);
void equity_stop(equity *q);
void equity_free(equity *q);
void equity_get_stats(const equity *q, equity_stats *out);

#endif

/* aitrader backtest: the user's config — traders, indicators, signals,
 * scheduler, risk chain, executor, the paper venue — run over candle files
 * on the simulated clock (CONTRACTS §1, §4b).
 *
 * The exchange instances that carry market data ([exchange.*] module okx)
 * are replaced by a feed of the same name that publishes, per bar of each
 * candle file, the bar's path as books, tickers and marks (the open, then
 * legs to the extreme nearer the open, to the other extreme and to the
 * close, each in even steps — so a TP/SL inside the bar triggers near where
 * the bar crossed it, in the order it most likely went), with a
 * spread of `spread_bps` around each price (what a market order pays), and
 * the confirmed candle at the bar's close; the paper venues trade it from a
 * fresh account; storage is a scratch SQLite database; sources, dashboards
 * and live accounts are off; no network. AI: ai_rules or the stub (an LLM
 * provider is refused for now). The report is computed from the ledger,
 * the fills and the equity curve the run stored. */
#ifndef AT_CORE_BACKTEST_H
#define AT_CORE_BACKTEST_H

#include <stddef.h>

#include "engine.h"

typedef struct backtest_args {
    const char **data; /* "[INST=]FILE" each */
    size_t ndata;
    const char **funding; /* "[INST=]FILE" each: fundingTime, fundingRate rows */
    size_t nfunding;
    const char **sets; /* "SECTION.KEY=V1,V2,…" each: overrides; several values sweep */
    size_t nsets;
    const char *from, *to;   /* epoch ms or ISO 8601, or NULL */
    const char *report;      /* FILE.json (FILE.html: the same with a chart), or NULL */
    const char *instruments; /* a saved /api/v5/public/instruments answer, or NULL */
    double spread_bps;       /* full spread around each price; < 0 = default */
} backtest_args;

/* The command: 0 done, 1 failed while running, 2 bad input (said). */
int backtest_main(engine_opts *o, const backtest_args *a);

#endif

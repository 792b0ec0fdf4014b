/* From a validated decision item to contracts and exit prices, in exact
 * decimals (pure functions; tests/unit/test_trader_sizing.c):
 *  - open:  margin = equity × size_pct, notional = margin × leverage,
 *           contracts = notional / (price × ctVal) rounded DOWN to lotSz;
 *           below minSz there is no order (AT_ERANGE, the reason says so);
 *  - close: contracts = position × size_pct rounded DOWN to lotSz (1 = all);
 *  - exits: a default take-profit / stop-loss at price × (1 ± pct), rounded
 *           to tickSz away from the price, and every exit checked to be on
 *           the right side of the price for the direction. */
#ifndef AT_CORE_TRADING_SIZING_H
#define AT_CORE_TRADING_SIZING_H

#include <stdbool.h>
#include <stddef.h>

#include <aitrader/types.h>

/* An instrument's trading rules, from the `instruments` table. */
typedef struct sz_inst {
    at_dec ct_val;  /* base currency per contract (BTC-USDT-SWAP: 0.01) */
    at_dec lot_sz;  /* contracts step */
    at_dec min_sz;  /* smallest order in contracts */
    at_dec tick_sz; /* price step; 0 when unknown */
} sz_inst;

/* Contracts to open. AT_OK; AT_ERANGE when the size rounds below minSz (no
 * order; `why` gives the numbers); AT_EINVAL for an input that cannot be
 * used (no price, no equity, ctVal or lotSz not above 0). */
int sz_open(at_dec equity, at_dec size_pct, at_dec leverage, at_dec price, const sz_inst *in,
            at_dec *contracts, char *why, size_t whylen);

/* Contracts to close of a position of `pos` contracts (its absolute value
 * is used). *full when size_pct is 1: the whole position goes (a
 * close-position order, contracts = |pos|). AT_ERANGE below minSz or lotSz,
 * AT_EINVAL without a position. */
int sz_close(at_dec pos, at_dec size_pct, const sz_inst *in, at_dec *contracts, bool *full,
             char *why, size_t whylen);

/* price × (1 + pct) (above) or price × (1 − pct) (below), rounded to tick
 * (when known) away from the price. AT_EINVAL when pct is not in (0, 1) for
 * below or not above 0, or the price is not above 0. */
int sz_exit_price(at_dec price, at_dec pct, bool above, at_dec tick, at_dec *out);

/* Whether an exit sits on the right side of `price`: a long's take-profit
 * and a short's stop-loss above it, the others below. */
bool sz_exit_ok(at_dec exit, at_dec price, bool is_long, bool is_tp);

#endif

/* A book of first-in-first-out lots: what one origin (a trader, "manual")
 * holds of one instrument and position side of one account, as its own
 * fills built it. Exact: each lot keeps its own entry price (no averaging),
 * realized PnL is (exit - entry) x contracts x ctVal per lot closed, a fill's
 * fee is split between the lots it closes and the lot it opens in proportion
 * to the contracts. Linear contracts (PnL in the settlement currency) only.
 * Pure arithmetic: no host, no storage (ledger.c journals and publishes). */
#ifndef AT_CORE_TRADING_LEDGER_BOOK_H
#define AT_CORE_TRADING_LEDGER_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/events.h>

/* Money is kept to 1e-8 of the settlement currency, rounded half-even. */
#define LB_MONEY_SCALE 8

typedef struct lb_lot {
    at_dec qty; /* contracts, signed: > 0 long, < 0 short */
    at_dec px;  /* its entry price */
    char decision_id[AT_ID_LEN];
    int64_t ts_ms;
} lb_lot;

typedef struct lb_book {
    lb_lot *lots; /* oldest first */
    size_t nlots, cap;
    at_dec realized; /* gross PnL of the lots closed */
    at_dec fees;     /* fees of its fills (negative = paid) */
    at_dec funding;  /* funding booked on its lots (negative = paid) */
} lb_book;

/* What a fill did to one lot (close) or the lot it opened. */
typedef struct lb_share {
    char decision_id[AT_ID_LEN]; /* the lot's: the decision that opened it */
    bool opened;                 /* true: the fill opened this lot */
    at_dec qty;                  /* contracts, > 0 */
    at_dec pnl;                  /* realized by the close; 0 for an open */
    at_dec fee;                  /* the share of the fill's fee */
} lb_share;

#define LB_SHARES_MAX 16

typedef struct lb_result {
    lb_share shares[LB_SHARES_MAX];
    size_t n;
    bool over; /* a long/short book asked to close more than it holds */
} lb_result;

/* Applies one fill: `buy`, `sz` contracts (> 0) at `px`, `fee` (negative =
 * paid), for `decision_id` (the fill's own decision, "" when none).
 * `net`: one signed book (net mode), where a fill past zero opens the other
 * way; else a long or short book, where a fill of the book's own direction
 * opens and the other closes (`book_long` says which book it is).
 * AT_OK, AT_ERANGE on overflow (the book is left as it was), AT_ENOMEM. */
int lb_apply_fill(lb_book *b, bool net, bool book_long, bool buy, at_dec sz, at_dec px, at_dec fee,
                  at_dec ct_val, const char *decision_id, int64_t ts_ms, lb_result *out);

/* Books funding for the period: -qty x ctVal x mark x rate on each lot,
 * added to `out_by_lot` (same order as the lots, nlots entries) and to the
 * book's total. AT_OK or AT_ERANGE (nothing booked). */
int lb_apply_funding(lb_book *b, at_dec ct_val, at_dec mark, at_dec rate, at_dec *out_by_lot);

/* Unrealized PnL of the open lots at `mark`. AT_OK or AT_ERANGE. */
int lb_unrealized(const lb_book *b, at_dec ct_val, at_dec mark, at_dec *out);

/* Signed contracts held. */
at_dec lb_position(const lb_book *b);

void lb_free(lb_book *b);

#endif

/* okx-sim market internals shared by market.c, market_path.c, market_book.c
 * and market_rest.c. Nothing outside market*.c includes this file: the other
 * layers go through the sim.h API.
 *
 * Prices live as integer tick counts and sizes as integer lot counts while
 * the market computes; they become at_dec (ticks * tickSz, lots * lotSz) only
 * when written into sim_inst, so every price that leaves is exactly on the
 * tick grid. */
#ifndef OKX_SIM_MARKET_INT_H
#define OKX_SIM_MARKET_INT_H

#include "sim.h"

#define MKT_MINUTE_MS 60000
#define MKT_DAY_MS 86400000
#define MKT_FUNDING_MS (8 * 3600000LL)

/* One price level of the synthetic book in integer units. */
typedef struct mkt_level {
    int64_t ticks, lots;
    int orders;
} mkt_level;

/* Best first: bids descending, asks ascending. */
typedef struct mkt_side {
    mkt_level lv[SIM_BOOK_LEVELS];
    int n;
} mkt_side;

/* Per-instrument state that is not part of the shared sim_inst. */
typedef struct mkt_state {
    double start_px;    /* where the random walk starts */
    double sigma;       /* random-walk volatility per sqrt(second) */
    bool csv;           /* price path replayed from the candle CSV */
    uint64_t walk_rng;  /* random-walk stream */
    uint64_t trade_rng; /* synthetic public trades */
    int64_t px_ticks;   /* current path price */
    int64_t prev_ticks; /* path price before the last sub-step */
    mkt_side bids, asks;
    /* 24 h aggregate of the closed candles in the ring (head excluded),
     * rebuilt when a minute closes. */
    int nclosed;
    at_dec c_open, c_high, c_low, c_vol, c_vol_ccy;
} mkt_state;

/* One candle of the replay CSV, prices already snapped to ticks. */
typedef struct mkt_row {
    int64_t ts_ms;
    int64_t o, h, l, c; /* ticks */
} mkt_row;

typedef struct mkt_csv {
    mkt_row *rows;
    size_t n;
    int64_t interval_ms; /* data time one row covers (gaps are collapsed) */
    size_t start_row;    /* row replayed at the reset time */
    int64_t w0_ms;       /* wall time mapped to the start of start_row */
} mkt_csv;

struct sim_market {
    sim_inst *inst;
    mkt_state *st;
    size_t ninst;
    uint64_t seed;
    double speed;
    int depth;
    mkt_csv csv;    /* csv.n == 0 without --data */
    int64_t now_ms; /* wall time of the last step */
};

/* ---- market.c: shared small helpers */
at_dec mkt_ticks_dec(const sim_inst *in, int64_t ticks);
at_dec mkt_lots_dec(const sim_inst *in, int64_t lots);
/* Nearest tick count of a decimal price (at least 1). */
int64_t mkt_dec_ticks(const sim_inst *in, at_dec px);
/* Lots of a decimal size, rounded up (any non-zero size is >= 1 lot). */
int64_t mkt_dec_lots(const sim_inst *in, at_dec sz);
/* Lots for a notional in USDT drawn by the caller, >= minSz. */
int64_t mkt_lots_for_notional(const sim_inst *in, int64_t px_ticks, double notional);
/* The funding rate of the period that settles at funding_time_ms. */
at_dec mkt_funding_rate_for(const sim_inst *in, int64_t funding_time_ms);
/* floor(a / b) for b > 0, also for negative a. */
int64_t mkt_floor_div(int64_t a, int64_t b);

/* ---- market_inst.c: the instrument list */
/* Fill m->inst/m->st from the built-in table (json_path NULL) or from an OKX
 * /public/instruments?instType=SWAP response file. */
int mkt_load_instruments(sim_market *m, const char *json_path, char *err, size_t errlen);
/* A seeded stream: splitmix64 of seed, instrument index and stream number. */
uint64_t mkt_stream_seed(uint64_t seed, size_t inst, unsigned stream);

/* ---- market_path.c: price paths */
/* Load and validate the candle CSV; snaps to the instrument's tickSz. */
int mkt_csv_load(mkt_csv *csv, const char *path, const sim_inst *in, char *err, size_t errlen);
void mkt_csv_free(mkt_csv *csv);
/* Choose the start row so the history before it comes from the file. */
void mkt_csv_anchor(mkt_csv *csv, int64_t now_ms, double speed);
/* Path price (ticks) at wall time t for the CSV instrument; also sets
 * in->data_row/data_phase. */
int64_t mkt_csv_ticks_at(const mkt_csv *csv, double speed, int64_t t_ms, sim_inst *in);
/* One random-walk move over dt_ms; returns the new tick count. */
int64_t mkt_walk_step(sim_inst *in, mkt_state *st, int64_t dt_ms);
/* A standard normal draw. */
double mkt_gauss(uint64_t *rng);

/* ---- market_book.c: the synthetic book */
/* Clear and rebuild both sides around in->last. */
void mkt_book_rebuild(sim_market *m, sim_inst *in, mkt_state *st);
/* Move the book to the current path price; true when anything changed. */
bool mkt_book_update(sim_market *m, sim_inst *in, mkt_state *st);
/* Copy the integer sides into in->book. */
void mkt_book_publish(sim_inst *in, const mkt_state *st, int64_t now_ms);
/* Take liquidity for a taker fill; true when a level changed. */
bool mkt_book_take(const sim_inst *in, mkt_state *st, bool buy, int64_t px_ticks, int64_t lots);

#endif

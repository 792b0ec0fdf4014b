/**
 * @file ta.h
 * @brief Incremental technical indicators with TA-Lib's default conventions.
 *
 * Pure code (libc + libm): no engine state, no globals, no allocation. Every
 * indicator is a plain struct the caller owns (embed it, zero it, call the
 * _init function once), fed one bar at a time. An update is O(1) amortised.
 *
 * Warm-up: every update returns (or writes) NaN until the indicator has as many
 * bars as TA-Lib needs for its first output; the first non-NaN value appears
 * at TA-Lib's lookback index (bar numbers below count from 0).
 *
 * Conventions (TA-Lib `ta_func` defaults, TA_COMPATIBILITY_DEFAULT):
 *  - SMA(n): mean of the last n values; first output bar n-1.
 *  - EMA(n): k = 2/(n+1), seeded with SMA(n) of the first n values; first
 *    output bar n-1; then E = (x - E)·k + E.
 *  - RSI(n) (Wilder): seed = mean gain / mean loss of the first n changes,
 *    first output bar n, then G = (G·(n-1) + gain)/n; RSI = 100·G/(G+L).
 *    RSI is 0 when G+L == 0 (a flat series). TA-Lib tests G+L against an
 *    absolute band of 1e-8 (TA_IS_ZERO); we test exact zero, because that
 *    band would force RSI to 0 on any instrument priced below ~1e-6. The
 *    two agree on every series whose changes are not all below 1e-8.
 *  - MACD(f, s, g) (12/26/9): both EMAs seeded by SMAs whose windows end on the
 *    same bar: slow seed SMA(x[0..s-1]), fast seed SMA(x[s-f..s-1]); the
 *    signal line is EMA(g) of MACD seeded with the mean of MACD at bars
 *    s-1..s+g-2. All three outputs start at bar (s-1)+(g-1) = 33, as in
 *    TA-Lib (MACD itself is known from bar s-1 but TA-Lib does not output it
 *    earlier). hist = MACD - signal. f and s are swapped if s < f.
 *  - Bollinger(n, k): mid = SMA(n), σ = population standard deviation
 *    √(Σ(x - mid)²/n) over the same n values, bands mid ± k·σ; first output
 *    bar n-1. σ is 0 only for a window of one repeated value (TA-Lib takes
 *    any variance within an absolute 1e-8 of 0 as 0; we do not, for the
 *    reason given above).
 *  - ATR(n): TR_t = max(h-l, |c_{t-1}-h|, |c_{t-1}-l|) from bar 1 (bar 0 has
 *    no previous close and no TR); seed = mean TR[1..n], first output bar n;
 *    then ATR = (ATR·(n-1) + TR)/n.
 *  - Realized volatility RV(n): r_t = ln(c_t / c_{t-1}); RV = √Σ r² over the
 *    last n returns, un-centred and NOT annualised (a per-window figure; ×√k
 *    for k windows per year is the caller's business). Default n = 14, so the
 *    first output is bar 14, like RSI14 and ATR14.
 *  - Volume ratio(n): v_t / mean(v_{t-n..t-1}): the current bar against the
 *    mean of the n bars before it; first output bar n; NaN when that mean is 0.
 *
 * Accuracy: every output is within 1e-12 (relative) of the same formulas
 * evaluated exactly, on any series of positive prices (sub-cent to 1e6,
 * flat runs, 100x spikes, 10^5-bar drifts: tests/unit/test_ta_exact.c),
 * except where the exact value is below what the inputs can resolve
 * (MACD, its signal and histogram near a zero crossing: see that test).
 *  - Rolling sums (RV, volume ratio, SMA) of values of one sign are plain
 *    running sums that add up a bound on their own rounding error and are
 *    re-added from their buffer as soon as it passes 1.4e-14 of the sum
 *    (every ~128 - n/4 updates, sooner while the sum falls steeply: a spike
 *    left the window, or it went quiet). Windows whose values have both
 *    signs (an SMA of MACD or of returns) are compensated instead (the
 *    rounding error of each addition is carried along), so Σx is within a
 *    few ulps of the exact sum also when its values cancel; they are
 *    re-added every max(n, 32) updates, and as soon as Σ|x| falls below
 *    1/16 of its recent peak. Bollinger's Σ(x - mean)² is re-added every
 *    max(32, n/4) updates and when it falls below 1/16 of its peak, which
 *    bounds its error by ~5e-13 relative. All are O(1) work an update
 *    amortised (a window of one sign re-reads n/(128 - n/4) values an
 *    update: 0.2 for n = 20, 4 for n = 256), whatever the signs.
 *  - Bollinger's variance is Σ(x - mean)² kept around the current mean
 *    (re-centred every update, a corrected two-pass when re-added), so
 *    neither a price level of 10^6 nor a nearly flat window costs digits; a
 *    window of one repeated value has σ exactly 0 and bands equal to it.
 *  - MACD's two EMAs are kept relative to the latest close: their rounding
 *    errors are of the size of the price moves, not of the price.
 *  - RSI: a run of unchanged closes leaves G/(G+L) exactly as it was (the
 *    (n-1)/n decay is applied when the price moves again), however long.
 *  - RV's returns are log1p((c-p)/p), which keeps the digits of returns
 *    far below 1e-8 that ln(c/p) loses.
 *  - ATR after ~10^4 bars with no range decays below DBL_MIN and loses
 *    relative precision with it (the exact value is then < 1e-300 anyway).
 */
#ifndef AT_TA_H
#define AT_TA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest window a rolling indicator supports (SMA, Bollinger, RV, volume ratio). */
#define TA_WIN_MAX 256

/** One bar. Times are epoch milliseconds (UTC), volume 0 when unknown. */
typedef struct ta_bar {
    int64_t open_ms; /**< bar open time */
    double o, h, l, c, v;
    uint32_t n; /**< sub-bars or trades merged into it (aggregator output) */
} ta_bar;

/* ------------------------------------------------------------ rolling window */

/**
 * A window of the last n values with running sums (see the file comment for
 * their accuracy): Σx (ta_win_init), or the mean and Σ(x - mean)² for a
 * variance (ta_win_init_var).
 */
typedef struct ta_win {
    int n, count, pos, since_resum;
    int every;  /**< re-added from the buffer at least every this many pushes */
    int run;    /**< variance mode: equal values pushed in a row (run >= n: flat) */
    bool var;   /**< variance mode */
    bool plain; /**< mean mode: Σx uncompensated (one sign at the last re-addition) */
    /* No two of the doubles one push stores (sum, sq, ref, last, peak in
     * variance mode; sum, comp, mag, peak compensated; sum, err plain) are
     * neighbours: gcc -O2 stores neighbours as one 16-byte vector, and the
     * next push's 8-byte load of the upper one then waits for the store
     * (measured: sq next to ref cost Bollinger 14.4 -> 15.4 ns a push). */
    double sum;  /**< Σx (with comp), or in variance mode Σ(x - ref) (~0) */
    double cnt;  /**< count, as a double */
    double sq;   /**< variance mode: Σ(x - ref)² */
    double comp; /**< Σx - sum, the rounding errors of sum (apart from it: see ta_core.c) */
    double ref;  /**< variance mode: the mean as of the last push */
    double mag;  /**< Σ|x| (mean mode, compensated) */
    double last; /**< variance mode: the newest value */
    double inv;  /**< 1/count */
    double peak; /**< largest mag (sq in variance mode) since the last re-addition */
    double err;  /**< plain mode: |sum - Σx| <= 2^-53·err (see ta_core.c) */
    unsigned long resums; /**< re-additions from the buffer so far (tests count the work) */
    double buf[TA_WIN_MAX];
} ta_win;

/** n in 1..TA_WIN_MAX (clamped): Σx and the mean. */
void ta_win_init(ta_win *w, int n);
/** The same, and the variance (a few more operations a push). */
void ta_win_init_var(ta_win *w, int n);
/** O(1) amortised: the window is re-read from its buffer about once every
 * 128 - n/4 pushes when its values have one sign, every max(n, 32) when they
 * have both, every max(32, n/4) in variance mode; `resums` counts it. */
void ta_win_push(ta_win *w, double x);
/** True once n values were pushed. */
bool ta_win_full(const ta_win *w);
/** Σx of the window, NaN until full. */
double ta_win_sum(const ta_win *w);
/**
 * Mean of the window, NaN until full. In variance mode a window of one
 * repeated value has exactly that mean.
 */
double ta_win_mean(const ta_win *w);
/**
 * Population variance (÷n), never negative, NaN until full or without
 * variance mode. A window of one repeated value has a variance of exactly 0.
 */
double ta_win_var(const ta_win *w);

/* --------------------------------------------------------- moving averages */

typedef struct ta_sma {
    ta_win w;
} ta_sma;
void ta_sma_init(ta_sma *s, int n);
/** Push x; returns SMA or NaN during warm-up (bars 0..n-2). */
double ta_sma_update(ta_sma *s, double x);

typedef struct ta_ema {
    int n, count;
    double k, sum, value;
} ta_ema;
void ta_ema_init(ta_ema *e, int n);
/** Push x; returns EMA or NaN during warm-up (bars 0..n-2). */
double ta_ema_update(ta_ema *e, double x);

/* -------------------------------------------------------------- oscillators */

typedef struct ta_rsi {
    int n, count;
    int64_t flat; /**< unchanged closes since the last move (decay applied lazily) */
    double prev, gain, loss;
} ta_rsi;
void ta_rsi_init(ta_rsi *r, int n);
/** Push a close; returns RSI 0..100 or NaN during warm-up (bars 0..n-1). */
double ta_rsi_update(ta_rsi *r, double x);

typedef struct ta_macd {
    int fast, slow, signal, count, nsig;
    double kf, ks, kg;
    double ref;                /**< the latest close (the first one during the seed) */
    double fsum, ssum, ef, es; /**< seed sums and EMAs, relative to ref */
    double sigsum, sig;
} ta_macd;
/** Periods as TA-Lib takes them (12, 26, 9 by default); each at least 2. */
void ta_macd_init(ta_macd *m, int fast, int slow, int signal);
/** Push a close; writes MACD, signal and histogram (NaN before bar (s-1)+(g-1)). */
void ta_macd_update(ta_macd *m, double x, double *macd, double *signal, double *hist);

/* --------------------------------------------------------------- volatility */

typedef struct ta_bb {
    ta_win w;
    double k;
} ta_bb;
/** Bollinger bands over n values, k standard deviations (TA-Lib: 20, 2). */
void ta_bb_init(ta_bb *b, int n, double k);
void ta_bb_update(ta_bb *b, double x, double *upper, double *mid, double *lower);

typedef struct ta_atr {
    int n, count;
    double prev_close, sum, value;
} ta_atr;
void ta_atr_init(ta_atr *a, int n);
/** Push a bar's high, low, close; returns ATR or NaN during warm-up (bars 0..n-1). */
double ta_atr_update(ta_atr *a, double h, double l, double c);

typedef struct ta_rv {
    ta_win w;
    bool have_prev;
    double prev;
} ta_rv;
void ta_rv_init(ta_rv *r, int n);
/** Push a close (> 0); returns √Σ ln-return² over the last n returns or NaN (bars 0..n-1). */
double ta_rv_update(ta_rv *r, double c);

typedef struct ta_volratio {
    ta_win w;
} ta_volratio;
void ta_volratio_init(ta_volratio *v, int n);
/** Push a bar's volume; returns v / mean(previous n volumes) or NaN. */
double ta_volratio_update(ta_volratio *v, double vol);

/* ------------------------------------------------------- the standard set */

/** Periods of the standard set (what `aitrader indicators` prints). */
#define TA_SET_EMA_FAST 12
#define TA_SET_EMA_SLOW 26
#define TA_SET_RSI 14
#define TA_SET_MACD_SIGNAL 9
#define TA_SET_BB 20
#define TA_SET_BB_K 2.0
#define TA_SET_ATR 14
#define TA_SET_RV 14
#define TA_SET_VOLRATIO 20

/** Outputs of one bar; NaN during each indicator's warm-up. */
typedef struct ta_set_out {
    double ema12, ema26, rsi14, macd, macd_signal, macd_hist;
    double bb_upper, bb_mid, bb_lower, atr14, vol_rv, vol_ratio;
} ta_set_out;

/** EMA12, EMA26, RSI14, MACD 12/26/9, BB 20/2, ATR14, RV14, volume ratio 20. */
typedef struct ta_set {
    ta_ema ema12, ema26;
    ta_rsi rsi14;
    ta_macd macd;
    ta_bb bb;
    ta_atr atr14;
    ta_rv rv;
    ta_volratio vr;
} ta_set;
void ta_set_init(ta_set *s);
void ta_set_update(ta_set *s, const ta_bar *b, ta_set_out *out);

/* -------------------------------------------------- price change by minutes */

/** Minutes of 1-minute closes kept: enough for a 24 h change. */
#define TA_CHG_MINUTES 1440

/**
 * 1-minute close history: chg(N) = close_now / close N minutes earlier - 1,
 * always from 1-minute bars, so a 15-minute change is never read off hourly
 * candles. A minute with no bar (no trades) keeps the previous close, which
 * is what the price was then.
 */
typedef struct ta_chg {
    bool any;
    int64_t first_min, last_min; /**< epoch minutes (open_ms / 60000) */
    double close[TA_CHG_MINUTES + 1];
} ta_chg;
void ta_chg_init(ta_chg *c);
/**
 * Record the close of the 1-minute bar opening at open_ms. A bar for the
 * newest minute replaces its close; an older one is ignored (returns -1).
 */
int ta_chg_push(ta_chg *c, int64_t open_ms, double close);
/** Change over `minutes` (1..TA_CHG_MINUTES) ending at the newest bar, or NaN. */
double ta_chg_get(const ta_chg *c, int minutes);

/* ------------------------------------------------------------- order book */

/**
 * Order-book imbalance over the best `depth` levels of each side:
 * (Σbid_sz - Σask_sz) / (Σbid_sz + Σask_sz) in [-1, 1]; 0 when both sums are 0.
 */
double ta_obi(const double *bid_sz, size_t nbids, const double *ask_sz, size_t nasks, size_t depth);
/**
 * Microprice (bid·ask_sz + ask·bid_sz) / (bid_sz + ask_sz): the mid leaning
 * toward the side with less size; the plain mid when both sizes are 0.
 */
double ta_microprice(double bid, double bid_sz, double ask, double ask_sz);

/* ---------------------------------------------------------------- funding */

/**
 * Funding rate and its change: `chg` = current rate - last rate known for the
 * previous funding period (the period is identified by its settlement time),
 * NaN until two periods were seen.
 */
typedef struct ta_funding {
    bool have, have_prev;
    int64_t period_ms;
    double rate, prev_rate;
} ta_funding;
void ta_funding_init(ta_funding *f);
void ta_funding_update(ta_funding *f, int64_t funding_ms, double rate);
double ta_funding_rate(const ta_funding *f);
double ta_funding_chg(const ta_funding *f);

/* ------------------------------------------------------- bar aggregation */

/**
 * Builds bars of `bar_ms` aligned to UTC boundaries (open = floor(t / bar_ms)
 * · bar_ms from the epoch: 4 h bars open at 00, 04, … 20 UTC) from shorter
 * bars (1m → 5m, 15m, 1h, 4h …) or from trades (→ 1m).
 *
 * A bar is emitted as soon as it is known complete: when the sub-bar ending
 * on its boundary arrives, when an input of a later bucket arrives (a bar
 * whose last minute had no data), or when ta_agg_flush sees the clock past
 * its end (trades). Inputs older than the open bar are ignored.
 */
typedef struct ta_agg {
    int64_t bar_ms;
    int64_t done_ms; /**< end of the last emitted bar: older inputs are ignored */
    bool open;
    ta_bar cur;
} ta_agg;
void ta_agg_init(ta_agg *a, int64_t bar_ms);
/**
 * Add a finished sub-bar of `sub_ms`. Writes up to 2 completed bars to out
 * (an earlier bar closed by a gap, then possibly this one) and returns how many.
 */
int ta_agg_add_bar(ta_agg *a, const ta_bar *in, int64_t sub_ms, ta_bar out[2]);
/** Add a trade; returns 1 and writes *out when it closed the previous bar. */
int ta_agg_add_trade(ta_agg *a, int64_t ts_ms, double px, double sz, ta_bar *out);
/** Emit the open bar if now_ms is at or past its end; returns 1 when it did. */
int ta_agg_flush(ta_agg *a, int64_t now_ms, ta_bar *out);

#ifdef __cplusplus
}
#endif

#endif

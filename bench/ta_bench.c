/* ta_bench: throughput of the standard indicator set (lib/ta).
 *
 * Reads a candle CSV with lib/ta's reader (ta_csv.h) into memory, then times
 * ta_set_update (EMA12, EMA26, RSI14, MACD 12/26/9, Bollinger 20/2, ATR14,
 * realized volatility 14, volume ratio 20: what `aitrader indicators`
 * computes) over every bar. CSV parsing is not timed. One measurement is
 * enough passes over all bars (a fresh ta_set each pass) to last >= 1 s; the
 * best of 3 measurements is reported. A checksum of the outputs is printed so
 * the work cannot be optimised away (and can be compared with the peer,
 * bench/ta-peer/ta_peer.mjs, which computes the same set on the same bars).
 *
 * usage: ta_bench CANDLES.csv [INST]
 * prints: ta_bars, ta_passes, ta_bars_per_s, ta_ns_per_bar, ta_last (the
 *         last bar's outputs) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ta.h"
#include "ta_csv.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ta_bar *load(const char *path, const char *inst, size_t *nbars)
{
    char err[256];
    ta_csv *r = ta_csv_open(path, inst, err, sizeof err);
    if (!r) {
        fprintf(stderr, "ta_bench: %s\n", err);
        return NULL;
    }
    size_t n = 0, cap = 4096;
    ta_bar *bars = malloc(cap * sizeof *bars);
    int rc = 0;
    while (bars) {
        if (n == cap) {
            ta_bar *nb = realloc(bars, 2 * cap * sizeof *bars);
            if (!nb) {
                free(bars);
                bars = NULL;
                break;
            }
            bars = nb;
            cap *= 2;
        }
        rc = ta_csv_next(r, &bars[n], err, sizeof err);
        if (rc != 1) {
            break;
        }
        n++;
    }
    ta_csv_close(r);
    if (!bars) {
        fprintf(stderr, "ta_bench: out of memory\n");
        return NULL;
    }
    if (rc < 0) {
        fprintf(stderr, "ta_bench: %s\n", err);
        free(bars);
        return NULL;
    }
    *nbars = n;
    return bars;
}

/* One pass over all bars with a fresh set; returns a checksum of the outputs
 * (the sum of every non-NaN RSI, MACD histogram and ATR) and the last bar's. */
static double pass(const ta_bar *bars, size_t n, ta_set_out *last)
{
    ta_set s;
    ta_set_out o;
    double acc = 0;
    ta_set_init(&s);
    for (size_t i = 0; i < n; i++) {
        ta_set_update(&s, &bars[i], &o);
        double v = o.rsi14 + o.macd_hist + o.atr14;
        acc += v == v ? v : 0.0;
    }
    *last = o;
    return acc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ta_bench CANDLES.csv [INST]\n");
        return 2;
    }
    size_t n = 0;
    ta_bar *bars = load(argv[1], argc > 2 ? argv[2] : NULL, &n);
    if (!bars) {
        return 1;
    }
    if (n < 64) {
        fprintf(stderr, "ta_bench: %zu bars, need at least 64\n", n);
        free(bars);
        return 1;
    }

    ta_set_out last;
    double check = pass(bars, n, &last); /* warm-up (caches, page faults) */

    /* Calibrate: passes for about 1.2 s, so each measurement lasts >= 1 s. */
    long passes = 1;
    for (;;) {
        double t0 = now_s();
        for (long p = 0; p < passes; p++) {
            check = pass(bars, n, &last);
        }
        double dt = now_s() - t0;
        if (dt >= 0.1) {
            passes = (long)ceil((double)passes * 1.2 / dt);
            break;
        }
        passes *= 2;
    }

    double best = 0;
    volatile double sink = 0;
    for (int m = 0; m < 3; m++) {
        double t0 = now_s();
        for (long p = 0; p < passes; p++) {
            sink = sink + pass(bars, n, &last);
        }
        double dt = now_s() - t0;
        double bps = (double)n * (double)passes / dt;
        if (bps > best) {
            best = bps;
        }
    }

    printf("ta_bars %zu\n", n);
    printf("ta_passes %ld\n", passes);
    printf("ta_bars_per_s %.0f\n", best);
    printf("ta_ns_per_bar %.2f\n", 1e9 / best);
    printf("ta_checksum %.6f\n", check);
    printf("ta_last ema12=%.6f ema26=%.6f rsi14=%.6f macd=%.6f signal=%.6f hist=%.6f "
           "bb_upper=%.6f bb_mid=%.6f bb_lower=%.6f atr14=%.6f rv14=%.8f volratio20=%.6f\n",
           last.ema12, last.ema26, last.rsi14, last.macd, last.macd_signal, last.macd_hist,
           last.bb_upper, last.bb_mid, last.bb_lower, last.atr14, last.vol_rv, last.vol_ratio);
    free(bars);
    return 0;
}

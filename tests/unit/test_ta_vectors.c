/* lib/ta against published vectors (reference §5): TA-Lib's 252-bar
 * regression data, the Tulip 15-bar set (TA-Lib-seeded rows), StockCharts'
 * RSI set and technicalindicators' vectors. Each indicator is checked on its
 * warm-up boundary (NaN on the bar before the first output, exact value on
 * it) and further along. Full-precision values must agree to a relative
 * 1e-9; values published with d decimals to half a unit of the last one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ta.h"

/* ---- comparison helpers ------------------------------------------------ */

/* want given to full precision: relative error <= 1e-9. */
static void full(double got, double want, const char *what, int bar)
{
    if (!(fabs(got - want) <= 1e-9 * fabs(want))) {
        fail_msg("%s at bar %d: got %.17g, want %.17g", what, bar, got, want);
    }
}

/* want printed with `dp` decimals: within half a unit of the last one. */
static void dec(double got, double want, int dp, const char *what, int bar)
{
    double tol = 0.5 * pow(10.0, -dp) + 1e-12;
    if (!(fabs(got - want) <= tol)) {
        fail_msg("%s at bar %d: got %.10f, want %.*f", what, bar, got, dp, want);
    }
}

/* A 2-decimal value from TA-Lib's own test tables, which print truncated
 * figures (SMA30 90.4263… is listed as 90.42): TA-Lib checks them with an
 * absolute band of 0.01 (CHECK_EXPECTED_VALUE), and so do we. */
static void talib2(double got, double want, const char *what, int bar)
{
    if (!(fabs(got - want) < 0.01)) {
        fail_msg("%s at bar %d: got %.10f, want %.2f (TA-Lib band 0.01)", what, bar, got, want);
    }
}

static void warm(double got, const char *what, int bar)
{
    if (!isnan(got)) {
        fail_msg("%s at bar %d: got %.17g during warm-up, want NaN", what, bar, got);
    }
}

/* ---- TA-Lib regression data ------------------------------------------- */

#define NREG 252
static double RH[NREG], RL[NREG], RC[NREG];

static int load_regression(void **state)
{
    (void)state;
    const char *path = AT_TEST_SOURCE_DIR "/tests/data/talib-regression-252.csv";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char line[256];
    int n = 0;
    if (!fgets(line, sizeof(line), f) || strncmp(line, "bar,high,low,close", 18) != 0) {
        fclose(f);
        return -1;
    }
    while (n < NREG && fgets(line, sizeof(line), f)) {
        int bar;
        if (sscanf(line, "%d,%lf,%lf,%lf", &bar, &RH[n], &RL[n], &RC[n]) != 4 || bar != n) {
            fclose(f);
            return -1;
        }
        n++;
    }
    fclose(f);
    /* The file is TA-Lib's test_data.c arrays: first and last closes known. */
    return n == NREG && RC[0] == 91.5 && RC[1] == 94.815 && RC[251] == 107.87 ? 0 : -1;
}

static void test_talib_rsi14(void **state)
{
    (void)state;
    ta_rsi r;
    ta_rsi_init(&r, 14);
    for (int i = 0; i < NREG; i++) {
        double v = ta_rsi_update(&r, RC[i]);
        if (i < 14) {
            warm(v, "rsi14", i);
        } else if (i == 14) {
            full(v, 49.14733969986358, "rsi14", i);
        } else if (i == 15) {
            full(v, 52.3255527953366, "rsi14", i);
        } else if (i == 16) {
            full(v, 46.07239657691366, "rsi14", i);
        } else if (i == 251) {
            full(v, 49.63210207086755, "rsi14", i);
        }
    }
}

static void test_talib_macd(void **state)
{
    (void)state;
    ta_macd m;
    ta_macd_init(&m, 12, 26, 9);
    for (int i = 0; i < NREG; i++) {
        double v, s, h;
        ta_macd_update(&m, RC[i], &v, &s, &h);
        if (i < 33) {
            warm(v, "macd", i);
            warm(s, "macd_signal", i);
            warm(h, "macd_hist", i);
        } else if (i == 33) {
            full(v, -1.9738314311425853, "macd", i);
            full(s, -2.7071077420416256, "macd_signal", i);
            full(h, -1.9738314311425853 - -2.7071077420416256, "macd_hist", i);
            dec(h, 0.7333, 4, "macd_hist", i);
        } else if (i == 251) {
            dec(v, 0.9040093, 7, "macd", i);
            dec(s, 1.4045942, 7, "macd_signal", i);
            dec(h, -0.5005849, 7, "macd_hist", i);
        }
    }
    /* Periods given the wrong way round are swapped, as in TA-Lib. */
    ta_macd_init(&m, 26, 12, 9);
    assert_int_equal(m.fast, 12);
    assert_int_equal(m.slow, 26);
}

static void test_talib_ema_sma(void **state)
{
    (void)state;
    ta_ema e;
    ta_sma s;
    ta_ema_init(&e, 10);
    ta_sma_init(&s, 30);
    for (int i = 0; i < NREG; i++) {
        double ev = ta_ema_update(&e, RC[i]);
        double sv = ta_sma_update(&s, RC[i]);
        if (i < 9) {
            warm(ev, "ema10", i);
        } else if (i == 9) {
            dec(ev, 93.2255, 4, "ema10", i);
        } else if (i == 10) {
            dec(ev, 93.7526818, 7, "ema10", i);
        } else if (i == 29) {
            dec(ev, 86.4636540, 7, "ema10", i);
        } else if (i == 251) {
            dec(ev, 108.9752117, 7, "ema10", i);
        }
        if (i < 29) {
            warm(sv, "sma30", i);
        } else if (i == 29) {
            talib2(sv, 90.42, "sma30", i);
        } else if (i == 251) {
            talib2(sv, 108.42, "sma30", i);
        }
    }
}

static void test_talib_bbands_atr(void **state)
{
    (void)state;
    ta_bb b;
    ta_atr a;
    ta_bb_init(&b, 20, 2.0);
    ta_atr_init(&a, 14);
    for (int i = 0; i < NREG; i++) {
        double up, mid, lo;
        ta_bb_update(&b, RC[i], &up, &mid, &lo);
        double atr = ta_atr_update(&a, RH[i], RL[i], RC[i]);
        if (i < 19) {
            warm(up, "bb_upper", i);
            warm(mid, "bb_mid", i);
            warm(lo, "bb_lower", i);
        } else if (i == 19) {
            dec(up, 98.0734, 4, "bb_upper", i);
            dec(mid, 92.8910, 4, "bb_mid", i);
            dec(lo, 87.7086, 4, "bb_lower", i);
        }
        if (i < 14) {
            warm(atr, "atr14", i);
        } else if (i == 14 || i == 15 || i == 251) {
            static const double want_atr[] = {3.5782143, 3.4876276, 3.2608095};
            static const double want_natr[] = {3.9321, 3.7576, 3.0229};
            int k = i == 14 ? 0 : i == 15 ? 1 : 2;
            dec(atr, want_atr[k], 7, "atr14", i);
            dec(atr / RC[i] * 100.0, want_natr[k], 4, "natr14", i);
        }
    }
}

/* The standard set used by `aitrader indicators` and the plugin starts each
 * output on the same bar as the single indicators above. */
static void test_talib_set_boundaries(void **state)
{
    (void)state;
    ta_set s;
    ta_set_init(&s);
    for (int i = 0; i < NREG; i++) {
        ta_bar b = {.open_ms = i * 60000LL, .o = RC[i], .h = RH[i], .l = RL[i], .c = RC[i]};
        ta_set_out o;
        ta_set_update(&s, &b, &o);
        assert_true(isnan(o.ema12) == (i < 11));
        assert_true(isnan(o.ema26) == (i < 25));
        assert_true(isnan(o.rsi14) == (i < 14));
        assert_true(isnan(o.macd) == (i < 33));
        assert_true(isnan(o.bb_mid) == (i < 19));
        assert_true(isnan(o.atr14) == (i < 14));
        assert_true(isnan(o.vol_rv) == (i < 14));
        assert_true(isnan(o.vol_ratio)); /* no volume in this data */
        if (i == 14) {
            full(o.rsi14, 49.14733969986358, "set rsi14", i);
            dec(o.atr14, 3.5782143, 7, "set atr14", i);
        }
        if (i == 33) {
            full(o.macd, -1.9738314311425853, "set macd", i);
            full(o.macd_signal, -2.7071077420416256, "set macd_signal", i);
        }
        if (i == 19) {
            dec(o.bb_upper, 98.0734, 4, "set bb_upper", i);
        }
    }
}

/* ---- Tulip 15-bar set (TA-Lib-seeded rows) ------------------------------ */

static const double TC[15] = {81.59, 81.06, 82.87, 83.00, 83.61, 83.15, 82.84, 83.99,
                              84.55, 84.36, 85.53, 86.54, 86.89, 87.77, 87.29};
static const double TH[15] = {82.15, 81.89, 83.03, 83.30, 83.85, 83.90, 83.33, 84.30,
                              84.84, 85.00, 85.90, 86.58, 86.98, 88.00, 87.87};
static const double TL[15] = {81.29, 80.64, 81.31, 82.65, 83.07, 83.11, 82.49, 82.30,
                              84.15, 84.11, 84.03, 85.39, 85.76, 87.17, 87.01};

static void test_tulip_set(void **state)
{
    (void)state;
    static const double rsi5[] = {72.034, 64.927, 75.936, 79.796, 74.713,
                                  83.033, 87.478, 88.755, 91.483, 78.498};
    static const double sma5[] = {82.426, 82.738, 83.094, 83.318, 83.628, 83.778,
                                  84.254, 84.994, 85.574, 86.218, 86.804};
    static const double sd5[] = {0.948, 0.875, 0.280, 0.423, 0.605, 0.671,
                                 0.871, 0.926, 1.019, 1.174, 0.758};
    static const double ema5[] = {82.426, 82.667, 82.725, 83.147, 83.614, 83.863,
                                  84.419, 85.126, 85.714, 86.399, 86.696};
    /* ATR(5) TA-Lib, each with the decimals the reference gives. */
    static const double atr5[] = {1.102,    1.0496,   1.23968,  1.161744, 1.107395,
                                  1.259916, 1.245933, 1.240746, 1.214597, 1.143678};
    static const int atr5_dp[] = {3, 4, 5, 6, 6, 6, 6, 6, 6, 6};
    ta_rsi r;
    ta_sma s;
    ta_ema e;
    ta_bb b;
    ta_atr a;
    ta_rv rv;
    ta_win w;
    ta_rsi_init(&r, 5);
    ta_sma_init(&s, 5);
    ta_ema_init(&e, 5);
    ta_bb_init(&b, 5, 2.0);
    ta_atr_init(&a, 5);
    ta_rv_init(&rv, 14);
    ta_win_init_var(&w, 5);
    for (int i = 0; i < 15; i++) {
        double rv_ = ta_rsi_update(&r, TC[i]);
        double sv = ta_sma_update(&s, TC[i]);
        double ev = ta_ema_update(&e, TC[i]);
        double up, mid, lo;
        ta_bb_update(&b, TC[i], &up, &mid, &lo);
        double av = ta_atr_update(&a, TH[i], TL[i], TC[i]);
        double vol = ta_rv_update(&rv, TC[i]);
        ta_win_push(&w, TC[i]);
        double sd = sqrt(ta_win_var(&w));
        if (i < 5) {
            warm(rv_, "rsi5", i);
            warm(av, "atr5", i);
        } else {
            dec(rv_, rsi5[i - 5], 3, "rsi5", i);
            dec(av, atr5[i - 5], atr5_dp[i - 5], "atr5", i);
        }
        if (i < 4) {
            warm(sv, "sma5", i);
            warm(ev, "ema5", i);
            warm(mid, "bb5 mid", i);
            warm(sd, "stddev5", i);
        } else {
            dec(sv, sma5[i - 4], 3, "sma5", i);
            dec(ev, ema5[i - 4], 3, "ema5", i);
            dec(mid, sma5[i - 4], 3, "bb5 mid", i);
            dec(sd, sd5[i - 4], 3, "stddev5", i);
        }
        if (i == 4) {
            dec(lo, 80.530, 3, "bb5 lower", i);
            dec(up, 84.322, 3, "bb5 upper", i);
        }
        if (i == 14) {
            dec(lo, 85.289, 3, "bb5 lower", i);
            dec(up, 88.319, 3, "bb5 upper", i);
            dec(vol, 0.0366791, 7, "rv14", i);
        } else {
            warm(vol, "rv14", i);
        }
    }
}

/* ---- StockCharts RSI set (technicalindicators test/oscillators/RSI.js) -- */

static void test_stockcharts_rsi(void **state)
{
    (void)state;
    static const double x[] = {44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84,
                               46.08, 45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41,
                               46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03,
                               44.18, 44.22, 44.57, 43.42, 42.66, 43.13};
    static const double want[] = {70.46, 66.25, 66.48, 69.35, 66.29, 57.92, 62.88,
                                  63.21, 56.01, 62.34, 54.67, 50.39, 40.02, 41.49,
                                  41.90, 45.50, 37.32, 33.09, 37.79};
    ta_rsi r;
    ta_rsi_init(&r, 14);
    for (int i = 0; i < 33; i++) {
        double v = ta_rsi_update(&r, x[i]);
        if (i < 14) {
            warm(v, "rsi14", i);
        } else {
            dec(v, want[i - 14], 2, "rsi14", i);
        }
    }
}

/* TA-Lib convention (ta.h): G+L == 0 gives 0, not 100 or NaN; a series with
 * no losses gives 100. */
static void test_rsi_edges(void **state)
{
    (void)state;
    ta_rsi r;
    ta_rsi_init(&r, 14);
    for (int i = 0; i < 30; i++) {
        double v = ta_rsi_update(&r, 294435.0);
        if (i >= 14) {
            assert_true(v == 0.0);
        }
    }
    ta_rsi_init(&r, 14);
    for (int i = 0; i < 30; i++) {
        double v = ta_rsi_update(&r, 294435.0 + 5.0 * i);
        if (i >= 14) {
            assert_true(v == 100.0);
        }
    }
    /* Sub-1e-8 changes still count (TA-Lib's TA_IS_ZERO band would give 0). */
    ta_rsi_init(&r, 2);
    ta_rsi_update(&r, 1e-9);
    ta_rsi_update(&r, 2e-9);
    assert_true(ta_rsi_update(&r, 3e-9) == 100.0);
}

/* ---- technicalindicators 3.1.0 vectors --------------------------------- */

static const double JC[18] = {127.75, 129.02, 132.75, 145.40, 148.98, 137.52,
                              147.38, 139.05, 137.23, 149.30, 162.45, 178.95,
                              200.35, 221.90, 243.23, 243.52, 286.42, 280.27};

static void test_ti_sma_ema_bb(void **state)
{
    (void)state;
    static const double sma10[] = {
        139.438, 142.908, 147.901, 154.661, 162.31099999999998, 171.736, 182.33599999999998,
        196.24,  210.362};
    static const double ema9[] = {138.3422222222222, 140.53377777777777, 144.91702222222222,
                                  151.72361777777778};
    ta_sma s;
    ta_ema e;
    ta_bb b;
    ta_sma_init(&s, 10);
    ta_ema_init(&e, 9);
    ta_bb_init(&b, 10, 2.0);
    for (int i = 0; i < 18; i++) {
        double sv = ta_sma_update(&s, JC[i]);
        double ev = ta_ema_update(&e, JC[i]);
        double up, mid, lo;
        ta_bb_update(&b, JC[i], &up, &mid, &lo);
        if (i < 9) {
            warm(sv, "sma10", i);
            warm(mid, "bb10 mid", i);
        } else {
            full(sv, sma10[i - 9], "sma10", i);
        }
        if (i < 8) {
            warm(ev, "ema9", i);
        } else if (i < 12) {
            full(ev, ema9[i - 8], "ema9", i);
        } else if (i == 17) {
            full(ev, 229.04013365873777, "ema9", i);
        }
        if (i == 9) {
            full(lo, 124.13430685095913, "bb10 lower", i);
            full(mid, 139.438, "bb10 mid", i);
            full(up, 154.74169314904083, "bb10 upper", i);
            full((JC[i] - lo) / (up - lo), 0.8222098059584437, "bb10 %b", i);
        }
    }
}

/* TA-Lib alignment of MACD's fast seed, on data where it matters. */
static void test_ti_macd_talib_alignment(void **state)
{
    (void)state;
    ta_macd m;
    ta_macd_init(&m, 5, 8, 3);
    for (int i = 0; i < 18; i++) {
        double v, s, h;
        ta_macd_update(&m, JC[i], &v, &s, &h);
        if (i < 9) {
            warm(v, "macd(5,8,3)", i);
        } else if (i == 9) {
            dec(v, 3.44463, 5, "macd(5,8,3)", i);
            dec(s, 3.98228, 5, "macd(5,8,3) signal", i);
        }
    }
}

static void test_ti_sd(void **state)
{
    (void)state;
    static const double x[] = {11, 12, 13, 14, 15, 16, 18, 19, 22, 23, 23};
    static const double want[] = {1.4142135623730951, 1.4142135623730951, 1.7204650534085253,
                                  1.854723699099141,  2.449489742783178,  2.576819745345025,
                                  2.0976176963403033};
    ta_win w;
    ta_win_init_var(&w, 5);
    for (int i = 0; i < 11; i++) {
        ta_win_push(&w, x[i]);
        double sd = sqrt(ta_win_var(&w));
        if (i < 4) {
            warm(sd, "sd5", i);
        } else {
            full(sd, want[i - 4], "sd5", i);
        }
    }
}

static void test_ti_atr14(void **state)
{
    (void)state;
    static const double h[] = {48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35,
                               49.92, 50.19, 50.12, 49.66, 49.88, 50.19, 50.36, 50.57,
                               50.65, 50.43, 49.63, 50.33, 50.29, 50.17, 49.32, 48.50,
                               48.32, 46.80, 47.80, 48.39, 48.66, 48.79};
    static const double l[] = {47.79, 48.14, 48.39, 48.37, 48.24, 48.64, 48.94, 48.86,
                               49.50, 49.87, 49.20, 48.90, 49.43, 49.73, 49.26, 50.09,
                               50.30, 49.21, 48.98, 49.61, 49.20, 49.43, 48.08, 47.64,
                               41.55, 44.28, 47.31, 47.20, 47.90, 47.73};
    static const double c[] = {48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32,
                               49.91, 50.13, 49.53, 49.50, 49.75, 50.03, 50.31, 50.52,
                               50.41, 49.34, 49.37, 50.23, 49.24, 49.93, 48.43, 48.18,
                               46.57, 45.41, 47.77, 47.72, 48.62, 47.85};
    static const double want[] = {
        0.5678571428571431, 0.5615816326530612, 0.5464686588921284, 0.5945780403998334,
        0.5985367517998457, 0.6243555552427139, 0.6576158727253769, 0.6770718818164214,
        0.7608524616866771, 0.7679344287090573, 1.196653398086982,  1.291178155366483,
        1.3696654299831628, 1.3568321849843652, 1.3270584574854818, 1.307982853379376};
    ta_atr a;
    ta_atr_init(&a, 14);
    for (int i = 0; i < 30; i++) {
        double v = ta_atr_update(&a, h[i], l[i], c[i]);
        if (i < 14) {
            warm(v, "atr14", i);
        } else {
            full(v, want[i - 14], "atr14", i);
        }
    }
}

/* Long series at BTC prices: the re-centred, re-added window keeps
 * Bollinger's σ exact where naive E[x²]-E[x]² running sums lose most digits
 * (tests/unit/test_ta_exact.c checks every output bar by bar). */
static void test_window_precision(void **state)
{
    (void)state;
    ta_win w;
    ta_win_init_var(&w, 20);
    double x[20];
    uint64_t seed = 42;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double v = 100000.0 + (double)(seed >> 40) / (1 << 24) * 50.0;
        x[i % 20] = v;
        ta_win_push(&w, v);
    }
    double m = 0, v2 = 0;
    for (int i = 0; i < 20; i++) {
        m += x[i];
    }
    m /= 20;
    for (int i = 0; i < 20; i++) {
        v2 += (x[i] - m) * (x[i] - m);
    }
    v2 /= 20;
    full(ta_win_mean(&w), m, "mean", 200000);
    full(ta_win_var(&w), v2, "variance", 200000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_talib_rsi14, load_regression),
        cmocka_unit_test_setup(test_talib_macd, load_regression),
        cmocka_unit_test_setup(test_talib_ema_sma, load_regression),
        cmocka_unit_test_setup(test_talib_bbands_atr, load_regression),
        cmocka_unit_test_setup(test_talib_set_boundaries, load_regression),
        cmocka_unit_test(test_tulip_set),
        cmocka_unit_test(test_stockcharts_rsi),
        cmocka_unit_test(test_rsi_edges),
        cmocka_unit_test(test_ti_sma_ema_bb),
        cmocka_unit_test(test_ti_macd_talib_alignment),
        cmocka_unit_test(test_ti_sd),
        cmocka_unit_test(test_ti_atr14),
        cmocka_unit_test(test_window_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

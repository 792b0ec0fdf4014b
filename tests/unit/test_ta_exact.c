/* lib/ta against the same formulas evaluated exactly, on seeded adversarial
 * series: sub-cent (0.00042), 187, six-figure (187000) and 1e6 prices,
 * flat runs of 50-110 bars, 100x spikes up and down (volume: 10^4x), a 1e5-bar drift,
 * prices on a 0.01 tick, moves of 1e-10 of the price, and a flat run of
 * 15000 bars. Every output of the standard set (what the plugin and
 * `aitrader indicators` publish), SMA(256) and the 1-minute price changes
 * must be within 1e-12 (relative) of the exact value, bar by bar.
 *
 * The exact value ("ref") is computed here, independently of lib/ta: with
 * the textbook formulas (two passes over the window for Bollinger, plain
 * sums for the windows, the TA-Lib recurrences for EMA, RSI, MACD and ATR
 * with TA-Lib's k, the double 2/(n+1)) in binary128 (113-bit significand;
 * long double where that is binary128), and the log returns of RV in long
 * double (at least 64 bits). Its own error is below 1e-17 of every value
 * checked.
 *
 * Tolerance: |got - ref| <= 1e-12 · max(|ref|, scale), scale 0 (purely
 * relative) except for values that are a difference of larger terms and
 * cross zero, where no relative error exists at the crossing:
 *  - macd, macd_signal, macd_hist: differences of EMAs, in units of price
 *    moves; scale = the recent moves (|Δclose|, its envelope decaying at the
 *    slow EMA's rate 1 - 2/27 a bar). Where they are smaller than the moves
 *    behind them they must be within 1e-12 of those moves.
 *  - bb_lower = mid - 2σ: scale = mid (it crosses 0 when 2σ = mid).
 * Where ref is 0 (RSI with no gains, RV of an unchanged window, ...) that
 * means got == 0. Where |ref| < DBL_MIN (ATR and MACD late in a 15000-bar
 * flat run decay to 1e-480) doubles carry no relative precision and the
 * absolute tolerance is DBL_MIN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ta.h"

#if defined(__SIZEOF_FLOAT128__)
__extension__ typedef __float128 xreal;
#elif LDBL_MANT_DIG >= 113
typedef long double xreal;
#else
#define NO_XREAL
#endif

#ifndef NO_XREAL

#define TOL 1e-12

/* ---- series --------------------------------------------------------- */

typedef struct spec {
    const char *name;
    int n;
    double p0, sigma, drift; /* start price; relative step σ and drift a bar */
    double p_flat, p_spike;  /* chance a bar starts a flat run / is a 100x spike */
    int flat_min, flat_max;
    double tick;   /* prices rounded to it (0: none) */
    int long_flat; /* a single flat run of this many bars at bar 200 */
    uint64_t seed;
} spec;

static uint64_t rng;

static double urand(void) /* (0, 1) */
{
    rng += 0x9E3779B97F4A7C15ULL; /* splitmix64 */
    uint64_t z = rng;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double nrand(void)
{
    return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
}

static double on_tick(double p, double tick)
{
    if (tick <= 0) {
        return p;
    }
    double q = round(p / tick) * tick;
    return q > 0 ? q : tick;
}

/* Bars: open = previous close, high/low around them; a spike bar closes at
 * 100x (or 1/100) and the walk resumes from where it was; a flat bar has
 * open = high = low = close and, every other flat run, volume 0. */
static ta_bar *make_series(const spec *sp)
{
    ta_bar *b = calloc((size_t)sp->n, sizeof(*b));
    assert_non_null(b);
    rng = sp->seed;
    double p = sp->p0, prev = sp->p0;
    int flat = 0, runs = 0;
    for (int i = 0; i < sp->n; i++) {
        ta_bar *x = &b[i];
        x->open_ms = 1767225600000LL + i * 60000LL;
        if (sp->long_flat && i == 200) {
            flat = sp->long_flat;
            runs = 1;
        } else if (!flat && !sp->long_flat && urand() < sp->p_flat) {
            flat = sp->flat_min + (int)(urand() * (sp->flat_max - sp->flat_min + 1));
            runs++;
        }
        if (flat) {
            flat--;
            *x = (ta_bar){.open_ms = x->open_ms, .o = p, .h = p, .l = p, .c = p, .n = 1};
            x->v = runs % 2 ? 0.0 : urand() * 1000.0;
            prev = p;
            continue;
        }
        p = on_tick(p * exp(sp->sigma * nrand() + sp->drift), sp->tick);
        double c = p, u = urand();
        if (u < sp->p_spike / 2) {
            c = on_tick(p * 100.0, sp->tick);
        } else if (u < sp->p_spike) {
            c = on_tick(p / 100.0, sp->tick);
        }
        x->o = prev;
        x->c = c;
        x->h = fmax(prev, c) * (1.0 + sp->sigma * urand());
        x->l = fmin(prev, c) * (1.0 - sp->sigma * urand());
        x->v = urand() * 1000.0 * (urand() < 0.01 ? 1e4 : 1.0);
        x->n = 1;
        prev = c;
    }
    return b;
}

/* ---- exact reference -------------------------------------------------- */

static xreal xabs(xreal v)
{
    return v < 0 ? -v : v;
}

/* √v to binary128 precision: two Newton steps from the double root. */
static xreal xsqrt(xreal v)
{
    if (v <= 0) {
        return 0;
    }
    xreal s = sqrt((double)v);
    s = (s + v / s) / 2;
    s = (s + v / s) / 2;
    return s;
}

/* ln(c/p) in long double: log1p((c-p)/p), and ln(c/p) where c < p/2 makes
 * log1p ill-conditioned. */
static long double lret(double c, double p)
{
    long double lc = c, lp = p;
    return c < 0.5 * p ? logl(lc / lp) : log1pl((lc - lp) / lp);
}

enum {
    F_EMA12,
    F_EMA26,
    F_RSI14,
    F_MACD,
    F_MACD_SIGNAL,
    F_MACD_HIST,
    F_BB_UPPER,
    F_BB_MID,
    F_BB_LOWER,
    F_ATR14,
    F_VOL_RV,
    F_VOL_RATIO,
    F_SMA256,
    F_CHG5,
    F_CHG60,
    F__N
};
static const char *const fname[F__N] = {
    "ema12",    "ema26", "rsi14",  "macd",      "macd_signal", "macd_hist", "bb_upper", "bb_mid",
    "bb_lower", "atr14", "vol_rv", "vol_ratio", "sma256",      "chg_5m",    "chg_1h"};

#define NAN_X ((xreal)NAN)

/* The reference state, bar by bar (bars counted from 0, as in ta.h). */
typedef struct ref_state {
    const ta_bar *b;
    xreal e12, e26;                 /* EMA */
    xreal g, l;                     /* RSI */
    xreal ef, es, sig, fs, ss, sgs; /* MACD */
    xreal atr, trs;                 /* ATR */
    long double *r;                 /* RV returns, r[i] = ln(c_i/c_{i-1}) */
} ref_state;

static xreal ema_step(xreal e, double x, int n)
{
    xreal k = (double)(2.0 / (n + 1)); /* TA-Lib's k: the double 2/(n+1) */
    return ((xreal)x - e) * k + e;
}

static xreal win_sum(const ta_bar *b, int from, int to) /* Σ close[from..to] */
{
    xreal s = 0;
    for (int j = from; j <= to; j++) {
        s += b[j].c;
    }
    return s;
}

static void ref_bar(ref_state *st, int i, xreal out[F__N])
{
    const ta_bar *b = st->b;
    xreal x = b[i].c;
    for (int f = 0; f < F__N; f++) {
        out[f] = NAN_X;
    }
    /* EMA(n): SMA seed at bar n-1, then the recurrence. */
    st->e12 = i == 11 ? win_sum(b, 0, 11) / 12 : i > 11 ? ema_step(st->e12, b[i].c, 12) : 0;
    st->e26 = i == 25 ? win_sum(b, 0, 25) / 26 : i > 25 ? ema_step(st->e26, b[i].c, 26) : 0;
    if (i >= 11) {
        out[F_EMA12] = st->e12;
    }
    if (i >= 25) {
        out[F_EMA26] = st->e26;
    }
    /* RSI(14), Wilder, seeded with the means of the first 14 changes. */
    if (i >= 1) {
        xreal d = x - (xreal)b[i - 1].c;
        xreal gain = d > 0 ? d : 0, loss = d < 0 ? -d : 0;
        if (i <= 14) {
            st->g += gain;
            st->l += loss;
            if (i == 14) {
                st->g /= 14;
                st->l /= 14;
            }
        } else {
            st->g = (st->g * 13 + gain) / 14;
            st->l = (st->l * 13 + loss) / 14;
        }
        if (i >= 14) {
            out[F_RSI14] = st->g + st->l == 0 ? 0 : 100 * st->g / (st->g + st->l);
        }
    }
    /* MACD(12, 26, 9): seeds ending on bar 25, signal seeded at bar 33. The
     * EMAs are kept as their lag behind the close, e = E - x, by the same
     * recurrence: e_t = (1 - k)·(e_{t-1} - (x_t - x_{t-1})). MACD can be
     * 1e-22 of the price (late in a flat run), below binary128's resolution
     * of E itself; 1 - k and x_t - x_{t-1} are exact in binary128. */
    if (i == 25) {
        st->es = win_sum(b, 0, 25) / 26 - x;
        st->ef = win_sum(b, 14, 25) / 12 - x;
    } else if (i > 25) {
        xreal dx = x - (xreal)b[i - 1].c;
        st->ef = (1 - (xreal)(2.0 / 13)) * (st->ef - dx);
        st->es = (1 - (xreal)(2.0 / 27)) * (st->es - dx);
    }
    if (i >= 25) {
        xreal v = st->ef - st->es;
        if (i < 33) {
            st->sgs += v;
        } else if (i == 33) {
            st->sig = (st->sgs + v) / 9;
        } else {
            xreal k = (double)(2.0 / 10);
            st->sig = (v - st->sig) * k + st->sig;
        }
        if (i >= 33) {
            out[F_MACD] = v;
            out[F_MACD_SIGNAL] = st->sig;
            out[F_MACD_HIST] = v - st->sig;
        }
    }
    /* Bollinger(20, 2): two passes over the window. */
    if (i >= 19) {
        xreal m = win_sum(b, i - 19, i) / 20, v = 0;
        for (int j = i - 19; j <= i; j++) {
            xreal d = (xreal)b[j].c - m;
            v += d * d;
        }
        xreal sd = xsqrt(v / 20);
        out[F_BB_UPPER] = m + 2 * sd;
        out[F_BB_MID] = m;
        out[F_BB_LOWER] = m - 2 * sd;
    }
    /* ATR(14): TR from bar 1, mean of TR[1..14], then Wilder. */
    if (i >= 1) {
        xreal h = b[i].h, l = b[i].l, pc = b[i - 1].c;
        xreal tr = h - l, t2 = xabs(pc - h), t3 = xabs(pc - l);
        tr = t2 > tr ? t2 : tr;
        tr = t3 > tr ? t3 : tr;
        if (i <= 14) {
            st->trs += tr;
            if (i == 14) {
                st->atr = st->trs / 14;
            }
        } else {
            st->atr = (st->atr * 13 + tr) / 14;
        }
        if (i >= 14) {
            out[F_ATR14] = st->atr;
        }
    }
    /* RV(14) = √Σ r² of the last 14 log returns. */
    if (i >= 1) {
        st->r[i] = lret(b[i].c, b[i - 1].c);
    }
    if (i >= 14) {
        xreal s = 0;
        for (int j = i - 13; j <= i; j++) {
            s += (xreal)st->r[j] * (xreal)st->r[j];
        }
        out[F_VOL_RV] = xsqrt(s);
    }
    /* Volume ratio(20): v / mean of the 20 volumes before it. */
    if (i >= 20) {
        xreal s = 0;
        for (int j = i - 20; j < i; j++) {
            s += b[j].v;
        }
        out[F_VOL_RATIO] = s > 0 ? (xreal)b[i].v / (s / 20) : NAN_X;
    }
    /* SMA(256). */
    if (i >= 255) {
        out[F_SMA256] = win_sum(b, i - 255, i) / 256;
    }
    /* Price change over 5 and 60 one-minute bars. */
    if (i >= 5) {
        out[F_CHG5] = (x - (xreal)b[i - 5].c) / b[i - 5].c;
    }
    if (i >= 60) {
        out[F_CHG60] = (x - (xreal)b[i - 60].c) / b[i - 60].c;
    }
}

/* ---- comparison --------------------------------------------------------- */

typedef struct tally {
    long failures;
    double worst[F__N]; /* largest |got - ref| / max(|ref|, scale) seen */
} tally;

static void compare(tally *t, const char *series, int f, int bar, double got, xreal ref,
                    double scale)
{
    if (isnan((double)ref) || isnan(got)) {
        if (isnan((double)ref) != isnan(got)) {
            if (t->failures++ < 10) {
                print_error("%s: %s at bar %d: got %.17g, want %.17g\n", series, fname[f], bar, got,
                            (double)ref);
            }
        }
        return;
    }
    xreal err = xabs((xreal)got - ref);
    xreal mag = xabs(ref) > scale ? xabs(ref) : (xreal)scale;
    xreal tol = TOL * mag;
    if (xabs(ref) < DBL_MIN && tol < DBL_MIN) {
        tol = DBL_MIN; /* below the normal doubles: see the file comment */
    }
    if (mag >= DBL_MIN) {
        double rel = (double)(err / mag);
        t->worst[f] = rel > t->worst[f] ? rel : t->worst[f];
    }
    if (!(err <= tol)) {
        if (t->failures++ < 10) {
            print_error("%s: %s at bar %d: got %.17g, exact %.17g (error %.3g of %.3g)\n", series,
                        fname[f], bar, got, (double)ref, (double)err, (double)mag);
        }
    }
}

/* Runs the set, SMA(256) and the price-change ring over one series and
 * compares every output with the reference on every bar; returns failures. */
static long run_series(const spec *sp)
{
    ta_bar *b = make_series(sp);
    ref_state st = {.b = b, .r = calloc((size_t)sp->n, sizeof(long double))};
    assert_non_null(st.r);
    ta_set *set = malloc(sizeof(*set));
    ta_sma *sma = malloc(sizeof(*sma));
    ta_chg *chg = malloc(sizeof(*chg));
    assert_true(set && sma && chg);
    ta_set_init(set);
    ta_sma_init(sma, 256);
    ta_chg_init(chg);
    tally t = {0};
    double env = 0; /* envelope of |Δclose|, decaying at the slow EMA's rate */
    int flat_run = 0;
    double rsi_prev = NAN;
    for (int i = 0; i < sp->n; i++) {
        ta_set_out o;
        ta_set_update(set, &b[i], &o);
        double sma_v = ta_sma_update(sma, b[i].c);
        ta_chg_push(chg, b[i].open_ms, b[i].c);
        xreal ref[F__N];
        ref_bar(&st, i, ref);
        if (i > 0) {
            env = fmax(fabs(b[i].c - b[i - 1].c), env * (1.0 - 2.0 / 27.0));
        }
        const double got[F__N] = {o.ema12,
                                  o.ema26,
                                  o.rsi14,
                                  o.macd,
                                  o.macd_signal,
                                  o.macd_hist,
                                  o.bb_upper,
                                  o.bb_mid,
                                  o.bb_lower,
                                  o.atr14,
                                  o.vol_rv,
                                  o.vol_ratio,
                                  sma_v,
                                  ta_chg_get(chg, 5),
                                  ta_chg_get(chg, 60)};
        for (int f = 0; f < F__N; f++) {
            double scale = 0;
            if (f == F_MACD || f == F_MACD_SIGNAL || f == F_MACD_HIST) {
                scale = env;
            } else if (f == F_BB_LOWER) {
                scale = (double)ref[F_BB_MID];
            }
            compare(&t, sp->name, f, i, got[f], ref[f], scale);
        }
        /* A window of one repeated close: σ exactly 0, bands on the close;
         * an unchanged close leaves RSI exactly as it was. */
        flat_run = i > 0 && b[i].c == b[i - 1].c ? flat_run + 1 : 1;
        if (flat_run >= 20 &&
            !(o.bb_upper == b[i].c && o.bb_mid == b[i].c && o.bb_lower == b[i].c)) {
            if (t.failures++ < 10) {
                print_error("%s: bar %d ends 20 equal closes %.17g: bands %.17g %.17g %.17g\n",
                            sp->name, i, b[i].c, o.bb_upper, o.bb_mid, o.bb_lower);
            }
        }
        if (flat_run >= 2 && i > 14 && !(o.rsi14 == rsi_prev)) {
            if (t.failures++ < 10) {
                print_error("%s: bar %d: unchanged close moved RSI from %.17g to %.17g\n", sp->name,
                            i, rsi_prev, o.rsi14);
            }
        }
        rsi_prev = o.rsi14;
    }
    print_message("%-28s", sp->name);
    for (int f = 0; f < F__N; f++) {
        print_message(" %s %.1e", fname[f], t.worst[f]);
    }
    print_message("\n");
    free(b);
    free(st.r);
    free(set);
    free(sma);
    free(chg);
    return t.failures;
}

#define SPIKY(name_, n_, p0_, drift_, seed_)                                                       \
    {                                                                                              \
        .name = name_, .n = n_, .p0 = p0_, .sigma = 1e-3, .drift = drift_, .p_flat = 0.004,        \
        .p_spike = 0.006, .flat_min = 50, .flat_max = 110, .seed = seed_                           \
    }

static const spec series[] = {
    SPIKY("187, flat runs, spikes", 20000, 187.0, 0, 1),
    SPIKY("0.00042 (sub-cent)", 20000, 0.00042, 0, 2),
    SPIKY("187000 (six figures)", 20000, 187000.0, 0, 3),
    SPIKY("1e6", 20000, 1e6, 0, 4),
    SPIKY("1e5-bar drift from 187", 100000, 187.0, 2e-5, 5),
    {.name = "187 on a 0.01 tick",
     .n = 20000,
     .p0 = 187.0,
     .sigma = 3e-4,
     .p_flat = 0.004,
     .flat_min = 50,
     .flat_max = 110,
     .tick = 0.01,
     .seed = 6},
    {.name = "1e6 moving by 1e-10",
     .n = 20000,
     .p0 = 1e6,
     .sigma = 1e-10,
     .p_flat = 0.004,
     .flat_min = 50,
     .flat_max = 110,
     .seed = 7},
    {.name = "15000 flat bars at 0.00042",
     .n = 15400,
     .p0 = 0.00042,
     .sigma = 1e-3,
     .long_flat = 15000,
     .seed = 8},
};

static void test_exact(void **state)
{
    const spec *sp = *state;
    assert_int_equal(run_series(sp), 0);
}

/* The bands of a window of one repeated value are that value exactly, at
 * any price, also right after a level far from it (the case that used to
 * give σ = √(rounding residue) ~ 1e-7 at 187). */
static void test_flat_window_sigma_zero(void **state)
{
    (void)state;
    static const double px[] = {0.00042, 187.0, 187000.0, 1e6, 123456.789};
    for (size_t k = 0; k < sizeof(px) / sizeof(px[0]); k++) {
        ta_bb bb;
        ta_bb_init(&bb, 20, 2.0);
        double up, mid, lo;
        for (int i = 0; i < 37; i++) {
            ta_bb_update(&bb, px[k] * (1.0 + 0.37 * sin(i)), &up, &mid, &lo);
        }
        for (int i = 0; i < 60; i++) {
            ta_bb_update(&bb, px[k], &up, &mid, &lo);
            if (i >= 19) {
                assert_true(up == px[k] && mid == px[k] && lo == px[k]);
            }
        }
    }
}

/* SMA over windows of mixed sign (an SMA of MACD or of returns): Σx cancels,
 * so its size says nothing of how much rounding the running sum carries and
 * cannot be what decides when it is re-added from the buffer. Each series is
 * checked bar by bar against the exact mean (TOL, relative), and the window
 * must be re-added about once per n pushes (O(1) work a push amortised), not
 * every few pushes (O(n)): the first one makes |Σx| jump between 2c and 0
 * every push, the second between 3c, 0 and 0. */
typedef struct mixed_spec {
    const char *name;
    int n;
    int kind; /* 0: ±c + c/n alternating; 1: (2c, -c, -c) + c/n; 2: returns, N(0, 1e-3) */
} mixed_spec;

static double mixed_value(int kind, int n, int i)
{
    double c = 1e-3 * (1.0 + 0.3 * sin(0.001 * i));
    switch (kind) {
    case 0:
        return (i % 2 ? -c : c) + c / n;
    case 1:
        return (i % 3 ? -c : 2 * c) + c / n;
    default:
        return 1e-3 * nrand();
    }
}

static void test_sma_mixed_sign(void **state)
{
    static const mixed_spec specs[] = {
        {"SMA(255) of +-c + c/255", 255, 0},
        {"SMA(256) of (2c, -c, -c) + c/256", 256, 1},
        {"SMA(256) of returns", 256, 2},
        {"SMA(41) of +-c + c/41", 41, 0},
    };
    (void)state;
    enum { N = 20000 };
    double *x = malloc(N * sizeof(*x));
    assert_non_null(x);
    long failures = 0;
    for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        const mixed_spec *sp = &specs[k];
        rng = 42 + k;
        ta_sma sma;
        ta_sma_init(&sma, sp->n);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            x[i] = mixed_value(sp->kind, sp->n, i);
            double got = ta_sma_update(&sma, x[i]);
            if (i < sp->n - 1) {
                assert_true(isnan(got));
                continue;
            }
            xreal ref = 0;
            for (int j = i - sp->n + 1; j <= i; j++) {
                ref += x[j];
            }
            ref /= sp->n;
            xreal err = xabs((xreal)got - ref);
            double rel = ref != 0 ? (double)(err / xabs(ref)) : (double)err;
            worst = rel > worst ? rel : worst;
            if (!(err <= TOL * xabs(ref)) && failures++ < 10) {
                print_error("%s: bar %d: got %.17g, exact %.17g (error %.3g)\n", sp->name, i, got,
                            (double)ref, (double)err);
            }
        }
        /* One re-addition per n pushes (and one when the window fills). */
        unsigned long limit = N / (unsigned long)sp->n + 2;
        print_message("%-36s worst %.1e, %lu re-additions in %d pushes (at most %lu)\n", sp->name,
                      worst, sma.w.resums, N, limit);
        if (sma.w.resums > limit && failures++ < 10) {
            print_error("%s: %lu re-additions in %d pushes: O(n) work a push\n", sp->name,
                        sma.w.resums, N);
        }
    }
    free(x);
    assert_int_equal(failures, 0);
}

/* SMA(n) of x[0..nx-1] against the exact mean, bar by bar, within tol
 * (relative). A NaN makes the mean NaN while it is in the window and, as the
 * window is re-added from its buffer at least every max(n, 32) pushes, for
 * no longer than that. Prints the worst error and the re-additions; returns
 * failures (after printing up to a few), and the re-additions in *resums. */
static long sma_check(const char *name, int n, const double *x, int nx, double tol,
                      unsigned long *resums)
{
    ta_sma sma;
    ta_sma_init(&sma, n);
    double worst = 0;
    long failures = 0;
    int last_nan = -1000000, grace = n > 32 ? n : 32;
    for (int i = 0; i < nx; i++) {
        double got = ta_sma_update(&sma, x[i]);
        last_nan = isnan(x[i]) ? i : last_nan;
        if (i < n - 1 || i - last_nan < n) {
            if (!isnan(got) && failures++ < 5) {
                print_error("%s: bar %d: got %.17g, want NaN\n", name, i, got);
            }
            continue;
        }
        if (isnan(got) && i - last_nan < grace) {
            continue;
        }
        xreal ref = 0;
        for (int j = i - n + 1; j <= i; j++) {
            ref += x[j];
        }
        ref /= n;
        xreal err = xabs((xreal)got - ref);
        double rel = ref != 0 ? (double)(err / xabs(ref)) : (double)err;
        worst = rel > worst ? rel : worst;
        if (!(err <= tol * xabs(ref)) && failures++ < 5) {
            print_error("%s: bar %d: got %.17g, exact %.17g (error %.3g)\n", name, i, got,
                        (double)ref, (double)err);
        }
    }
    print_message("%-44s worst %.1e, %lu re-additions in %d pushes\n", name, worst, sma.w.resums,
                  nx);
    *resums = sma.w.resums;
    return failures;
}

/* Windows of one sign (prices, volumes, squared returns: all of the standard
 * set) keep a plain running sum with a bound on its rounding error and are
 * re-added when that bound passes 128·2^-53 = 1.4e-14 of the sum (ta_core.c):
 * checked here at 2e-14 (that, and the rounding of sum/n), not only at TOL.
 * A spike 1e12 times the rest leaving the window leaves roundings of its size
 * behind (1e-4 of the sum), which only a re-addition removes; a sum that
 * falls 8x a push (a window going quiet) must be re-added as it falls. In
 * steady state a re-addition every ~128 - n/4 pushes: at most one per 32
 * here, so O(1 + n/32) work a push, not O(n). */
static void test_sma_one_sign(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *x = malloc(N * sizeof(*x));
    assert_non_null(x);
    long failures = 0;
    unsigned long resums, limit = N / 32 + 2;
    for (int kind = 0; kind < 4; kind++) {
        static const char *const names[] = {
            "SMA(256) of a walk from 187", "SMA(20) of volumes, 1e12x spikes",
            "SMA(20) of -(volumes), 1e12x spikes", "SMA(14) falling 8x a push, then flat"};
        static const int ns[] = {256, 20, 20, 14};
        rng = 77 + (uint64_t)kind;
        double p = 187.0;
        for (int i = 0; i < N; i++) {
            p *= exp(1e-3 * nrand());
            double v = urand() * 1000.0 * (urand() < 0.003 ? 1e12 : 1.0);
            switch (kind) {
            case 0:
                x[i] = p;
                break;
            case 1:
                x[i] = v;
                break;
            case 2:
                x[i] = -v;
                break;
            default: /* 8^-k for 300 pushes, then 1 + noise for 300, again */
                x[i] = i % 600 < 300 ? ldexp(1.0 + urand(), -3 * (i % 600)) : 1.0 + urand();
            }
        }
        failures += sma_check(names[kind], ns[kind], x, N, 2e-14, &resums);
        if (kind < 3 && resums > limit && failures++ < 10) {
            print_error("%s: %lu re-additions in %d pushes: more than 1 per 32\n", names[kind],
                        resums, N);
        }
    }
    free(x);
    assert_int_equal(failures, 0);
}

/* Values of both signs now and then in a window of one sign: the window
 * turns compensated when a cancelling sum needs it and plain again once it
 * is of one sign; exact throughout, and at most a few re-additions per n
 * pushes (a turn costs one). The negative values nearly cancel the window
 * (its sum falls to ~1/1000 of Σ|x|). */
static void test_sma_sign_changes(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *x = malloc(N * sizeof(*x));
    assert_non_null(x);
    long failures = 0;
    static const int ns[] = {20, 256};
    static const int every[] = {3, 1}; /* a negative value every every·n pushes */
    for (int k = 0; k < 2; k++) {
        int n = ns[k];
        rng = 99 + (uint64_t)k;
        for (int i = 0; i < N; i++) {
            x[i] = 1.0 + 0.3 * urand();
            if (i % (every[k] * n) == n - 1) {
                x[i] = -1.15 * (n - 1) * (1.0 + 1e-3 * urand());
            }
        }
        char name[64];
        snprintf(name, sizeof name, "SMA(%d), a -Σ every %d pushes", n, every[k] * n);
        unsigned long resums, limit = 3 * (unsigned long)(N / n) + N / 32 + 2;
        failures += sma_check(name, n, x, N, TOL, &resums);
        if (resums > limit && failures++ < 10) {
            print_error("%s: %lu re-additions in %d pushes (at most %lu)\n", name, resums, N,
                        limit);
        }
    }
    free(x);
    assert_int_equal(failures, 0);
}

/* A NaN pushed into a window makes its mean NaN while it is there, and no
 * longer than max(n, 32) pushes: the running sum (NaN) is re-added. */
static void test_sma_nan_leaves(void **state)
{
    (void)state;
    enum { N = 1000 }; /* > 2·256 + 40 */
    double x[N];
    long failures = 0;
    unsigned long resums;
    for (int n = 1; n <= 256; n *= 4) {
        rng = 5;
        for (int i = 0; i < N; i++) {
            x[i] = 187.0 * (1.0 + 0.01 * urand());
        }
        x[n + 3] = NAN;
        x[2 * n + 40] = NAN;
        char name[64];
        snprintf(name, sizeof name, "SMA(%d) with two NaNs", n);
        failures += sma_check(name, n, x, N, TOL, &resums);
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    struct CMUnitTest tests[sizeof(series) / sizeof(series[0]) + 5];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
        tests[n++] = (struct CMUnitTest){
            .name = series[i].name, .test_func = test_exact, .initial_state = (void *)&series[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flat_window_sigma_zero);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sma_mixed_sign);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sma_one_sign);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sma_sign_changes);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sma_nan_leaves);
    return _cmocka_run_group_tests("test_ta_exact", tests, n, NULL, NULL);
}

#else /* NO_XREAL */

static void test_skipped(void **state)
{
    (void)state;
    print_message("no binary128 type on this compiler: exact reference unavailable\n");
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_skipped)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif

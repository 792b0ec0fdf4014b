/* Incremental indicators with TA-Lib's default seeding (see ta.h for the
 * conventions and where we deliberately differ). The arithmetic follows
 * TA-Lib's source order (e.g. 100·(G/(G+L)), (x-E)·k+E) so results agree
 * with it to the last few ulps, not just to a tolerance; where TA-Lib's
 * order cancels digits (MACD's EMAs, Bollinger's variance, RV's returns) the
 * same formula is evaluated in a frame that does not, and the result is
 * closer to the exact value than TA-Lib's own (ta.h, "Accuracy"). */
#include <math.h>

#include "ta.h"

/* ------------------------------------------------------------ rolling window */

/* Mean mode keeps Σx in one of two ways, chosen at each re-addition from the
 * buffer by the signs of the values there:
 *
 * - Plain, when they are all of one sign (prices, volumes, squared returns:
 *   every window of the standard set): sum += x - old, uncompensated. A push
 *   rounds twice, by at most u·|x - old| and u·|sum| (u = 2^-53); `err` adds
 *   those up from the re-addition's own bound, so |sum - Σx| <= u·err
 *   whatever the values, and the window is re-added as soon as
 *   err > PLAIN_K·|sum|: Σx stays within PLAIN_K·u = 1.4e-14 of the exact
 *   sum. Over one sign err grows by ~|sum| a push: a re-addition every
 *   ~PLAIN_K - n/4 pushes, sooner only while the sum falls steeply (a spike
 *   left, the window went quiet). The same test catches NaN and a sum that
 *   cancels (values of the other sign came in), whose re-addition turns the
 *   window compensated. Why not compensate every window: bench/ta_bench (BTC
 *   5m, standard set) took 60.2 ns a bar so, 53.2 with plain one-sign
 *   windows (before ta_set_update was inlined); PLAIN_K 64 cost 0.7 ns more,
 *   32 2.2 ns (re-additions).
 * - Compensated, when the values have both signs (an SMA of MACD or of
 *   returns): the exact rounding error of every addition, from Knuth's
 *   TwoSum, is carried in `comp`, so Σx is within a few ulps of the exact
 *   sum however its values cancel: the error is ~2^-53·|Σx| plus ~k·2^-106 of
 *   the values added and dropped in the k pushes since the last re-addition.
 *   It is re-added every max(n, 32) pushes, O(1) work a push amortised, or at
 *   once when Σ|x| of the window falls below RESUM_DROP of its peak since,
 *   which keeps that second term ~1e-27 of Σ|x|. Σ|x|, not |Σx|: the size of
 *   a sum that cancels says nothing of the roundings it carries, and on a
 *   mixed-sign window |Σx| can swing by 16x every push (an O(n) re-addition
 *   every push); Σ|x| can only drop 16x when larger values leave, so the
 *   early trigger cannot fire for long.
 *
 * A window turns plain only when its last n values have one sign, so it
 * turns compensated (one extra re-addition) at most once per n pushes: but
 * for a sum falling steeply, neither mode costs more than O(1 + n/PLAIN_K)
 * a push amortised.
 *
 * Variance mode keeps Σ(x - ref) and Σ(x - ref)² around ref, the mean when
 * last re-added (a corrected two-pass, exact to a few ulps at any price level
 * and however flat the window), uncompensated: it is re-added every
 * max(32, n/4) pushes (at most 4 values re-read a push) or when Σ(x - ref)²
 * falls below RESUM_DROP of its peak; until then it carries at most a few
 * roundings a push of at most ½ulp(peak) each, and peak <= 16·(the current
 * value), which keeps it within ~64·4·16·2^-53 ≈ 4.5e-13 of the exact sum.
 * tests/unit/test_ta_exact.c checks all three against exact sums on
 * adversarial series. */
#define RESUM_MIN 32
#define RESUM_DROP 0.0625
#define PLAIN_K 128.0

/* s + t into (*s, *c) without losing the rounding error (Knuth's TwoSum:
 * no branch, exact whatever the magnitudes). */
static inline void sum2(double *s, double *c, double t)
{
    double u = *s + t;
    double bp = u - *s;
    *c += (*s - (u - bp)) + (t - bp);
    *s = u;
}

static void win_resum(ta_win *w)
{
    const double *b = w->buf;
    const int n = w->count;
    if (!w->var) {
        /* Four plain accumulators and the signs seen, branch-free: the loop
         * is short and the plain mode needs nothing else. */
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        bool neg = false, pos = false; /* a value not >= 0, not <= 0 (NaN: both) */
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += b[i];
            s1 += b[i + 1];
            s2 += b[i + 2];
            s3 += b[i + 3];
            neg |= !(b[i] >= 0.0) | !(b[i + 1] >= 0.0) | !(b[i + 2] >= 0.0) | !(b[i + 3] >= 0.0);
            pos |= !(b[i] <= 0.0) | !(b[i + 1] <= 0.0) | !(b[i + 2] <= 0.0) | !(b[i + 3] <= 0.0);
        }
        for (; i < n; i++) {
            s0 += b[i];
            neg |= !(b[i] >= 0.0);
            pos |= !(b[i] <= 0.0);
        }
        w->plain = !(neg && pos);
        if (w->plain) {
            /* One sign: s0..s3 hold <= n/4 + 3 terms each, so the sum is
             * within (n/4 + 5)·u·|Σx| of the exact one. */
            w->sum = (s0 + s1) + (s2 + s3);
            w->comp = 0.0;
            w->err = (0.25 * n + 5.0) * fabs(w->sum);
        } else {
            double s = 0.0, c = 0.0, m = 0.0;
            for (i = 0; i < n; i++) {
                sum2(&s, &c, b[i]);
                m += fabs(b[i]);
            }
            w->sum = s;
            w->comp = c;
            w->mag = w->peak = m;
        }
    } else {
        /* Two accumulators: half the chain of dependent additions. */
        double s0 = 0.0, s1 = 0.0;
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            s0 += b[i];
            s1 += b[i + 1];
        }
        if (i < n) {
            s0 += b[i];
        }
        double m = (s0 + s1) * w->inv, d0 = 0.0, d1 = 0.0, q0 = 0.0, q1 = 0.0;
        for (i = 0; i + 2 <= n; i += 2) {
            double e0 = b[i] - m, e1 = b[i + 1] - m;
            d0 += e0;
            d1 += e1;
            q0 += e0 * e0;
            q1 += e1 * e1;
        }
        if (i < n) {
            double e0 = b[i] - m;
            d0 += e0;
            q0 += e0 * e0;
        }
        w->ref = m;
        w->sum = d0 + d1;
        w->sq = w->peak = q0 + q1;
    }
    w->since_resum = 0;
    w->resums++;
}

static void win_init(ta_win *w, int n, bool var)
{
    w->n = n < 1 ? 1 : (n > TA_WIN_MAX ? TA_WIN_MAX : n);
    w->var = var;
    w->plain = !var; /* an empty window is of one sign */
    w->count = w->pos = w->since_resum = w->run = 0;
    w->every =
        var ? (w->n / 4 > RESUM_MIN ? w->n / 4 : RESUM_MIN) : (w->n > RESUM_MIN ? w->n : RESUM_MIN);
    w->sum = w->comp = w->err = w->mag = w->sq = w->ref = w->peak = w->last = w->inv = w->cnt = 0.0;
    w->resums = 0;
}

void ta_win_init(ta_win *w, int n)
{
    win_init(w, n, false);
}

void ta_win_init_var(ta_win *w, int n)
{
    win_init(w, n, true);
}

/* Puts x in the ring; returns the value it replaces (0 while filling). */
static inline double win_put(ta_win *w, double x)
{
    double old = 0.0;
    if (w->count == w->n) {
        old = w->buf[w->pos];
    } else {
        w->cnt = ++w->count;
        w->inv = 1.0 / w->cnt; /* a multiplication, not a division, per push once full */
    }
    w->buf[w->pos] = x;
    w->pos = w->pos + 1 == w->n ? 0 : w->pos + 1;
    return old;
}

/* size: Σ|x| (mean mode) or Σ(x - ref)² (variance mode), never negative. */
static inline void win_check(ta_win *w, double size)
{
    w->peak = size > w->peak ? size : w->peak;
    if (++w->since_resum >= w->every || size < w->peak * RESUM_DROP) {
        win_resum(w);
    }
}

static inline void win_push_sum(ta_win *w, double x)
{
    double old = win_put(w, x);
    if (w->plain) {
        /* See the top of this file; !(<=) re-adds on NaN too. */
        double d = x - old, s = w->sum + d;
        w->sum = s;
        w->err += fabs(d) + fabs(s);
        if (!(w->err <= PLAIN_K * fabs(s))) {
            win_resum(w);
        }
        return;
    }
    /* d + ed = x - old and u + es = sum + d, both exactly (TwoSum); only
     * sum + d and comp + (es + ed) are in the chain from push to push. sum
     * and comp are not adjacent in ta_win: stored as one vector, they made
     * the next push's loads of each wait (SMA push 7 -> 11 ns). */
    double d = x - old, dp = d - x;
    double ed = (x - (d - dp)) + (-old - dp);
    double s = w->sum, u = s + d, up = u - s;
    double es = (s - (u - up)) + (d - up);
    w->sum = u;
    w->comp += es + ed;
    w->mag += fabs(x) - fabs(old);
    win_check(w, w->mag);
}

static inline void win_push_var(ta_win *w, double x)
{
    /* Equal values in a row: a window made of one value has that mean and a
     * variance of exactly 0, not a rounding residue of them. */
    w->run = w->count && x == w->last ? w->run + 1 : 1;
    w->last = x;
    bool full = w->count == w->n;
    double old = win_put(w, x);
    /* Add x, drop old, then move ref onto the new mean so that sum stays ~0
     * and sq is n·variance (no E[x²] - E[x]² cancellation). a - b and
     * ref' - ref are exact for nearby values (Sterbenz). */
    double a = x - w->ref, b = full ? old - w->ref : 0.0;
    w->sum += a - b;
    w->sq += (a - b) * (a + b);
    double nref = w->ref + w->sum * w->inv;
    double dl = nref - w->ref;
    double sum = w->sum - w->cnt * dl; /* Σ(x - nref) */
    w->sq -= dl * (w->sum + sum); /* Σ(x - nref)² = Σ(x - ref)² - dl·(Σ(x - ref) + Σ(x - nref)) */
    w->sum = sum;
    w->ref = nref;
    win_check(w, w->sq);
}

void ta_win_push(ta_win *w, double x)
{
    if (w->var) {
        win_push_var(w, x);
    } else {
        win_push_sum(w, x);
    }
}

bool ta_win_full(const ta_win *w)
{
    return w->count == w->n;
}

double ta_win_sum(const ta_win *w)
{
    if (!ta_win_full(w)) {
        return NAN;
    }
    if (w->var) {
        return w->run >= w->n ? w->n * w->last : w->n * w->ref + w->sum;
    }
    return w->sum + w->comp;
}

double ta_win_mean(const ta_win *w)
{
    if (!ta_win_full(w)) {
        return NAN;
    }
    if (w->var) {
        return w->run >= w->n ? w->last : w->ref + w->sum * w->inv;
    }
    return (w->sum + w->comp) * w->inv;
}

double ta_win_var(const ta_win *w)
{
    if (!w->var || !ta_win_full(w)) {
        return NAN;
    }
    if (w->run >= w->n) {
        return 0.0;
    }
    double m = w->sum * w->inv;
    double v = w->sq * w->inv - m * m;
    return v > 0.0 ? v : 0.0;
}

/* --------------------------------------------------------- moving averages */

void ta_sma_init(ta_sma *s, int n)
{
    ta_win_init(&s->w, n);
}

double ta_sma_update(ta_sma *s, double x)
{
    win_push_sum(&s->w, x);
    return ta_win_mean(&s->w);
}

void ta_ema_init(ta_ema *e, int n)
{
    e->n = n < 1 ? 1 : n;
    e->count = 0;
    e->k = 2.0 / (e->n + 1);
    e->sum = e->value = 0.0;
}

double ta_ema_update(ta_ema *e, double x)
{
    if (e->count < e->n) {
        e->sum += x;
        if (++e->count < e->n) {
            return NAN;
        }
        e->value = e->sum / e->n; /* SMA seed, TA_COMPATIBILITY_DEFAULT */
        return e->value;
    }
    e->value = (x - e->value) * e->k + e->value;
    return e->value;
}

/* -------------------------------------------------------------- oscillators */

void ta_rsi_init(ta_rsi *r, int n)
{
    r->n = n < 1 ? 1 : n;
    r->count = 0;
    r->flat = 0;
    r->prev = r->gain = r->loss = 0.0;
}

static double rsi_value(double g, double l)
{
    double t = g + l;
    return t == 0.0 ? 0.0 : 100.0 * (g / t);
}

/* The (n-1)/n decay of the unchanged closes since the last move, in the
 * order TA-Lib applies it bar by bar (once G and L are 0 it changes nothing). */
static void rsi_decay(ta_rsi *r)
{
    for (; r->flat > 0 && (r->gain != 0.0 || r->loss != 0.0); r->flat--) {
        r->loss *= (r->n - 1);
        r->gain *= (r->n - 1);
        r->loss /= r->n;
        r->gain /= r->n;
    }
    r->flat = 0;
}

double ta_rsi_update(ta_rsi *r, double x)
{
    int bar = r->count++;
    double d = x - r->prev;
    r->prev = x;
    if (bar == 0) {
        return NAN;
    }
    if (bar <= r->n) {
        /* Seed: plain sums of the first n changes, divided at bar n. */
        if (d < 0) {
            r->loss -= d;
        } else {
            r->gain += d;
        }
        if (bar < r->n) {
            return NAN;
        }
        r->loss /= r->n;
        r->gain /= r->n;
        return rsi_value(r->gain, r->loss);
    }
    r->count = r->n + 1; /* saturate: no overflow on endless streams */
    if (d == 0) {
        /* An unchanged close scales G and L by the same (n-1)/n: the ratio,
         * RSI, stays as it was. Applying the decay when the price moves
         * again gives the same G and L as applying it now, but keeps the
         * ratio exact through a long flat run, where G and L themselves
         * would sink into subnormals (after ~10^4 bars) and lose it. */
        r->flat++;
        return rsi_value(r->gain, r->loss);
    }
    if (r->flat) {
        rsi_decay(r);
    }
    r->loss *= (r->n - 1);
    r->gain *= (r->n - 1);
    if (d < 0) {
        r->loss -= d;
    } else {
        r->gain += d;
    }
    r->loss /= r->n;
    r->gain /= r->n;
    return rsi_value(r->gain, r->loss);
}

void ta_macd_init(ta_macd *m, int fast, int slow, int signal)
{
    if (slow < fast) {
        int t = slow;
        slow = fast;
        fast = t;
    }
    m->fast = fast < 2 ? 2 : fast;
    m->slow = slow < m->fast ? m->fast : slow;
    m->signal = signal < 1 ? 1 : signal;
    m->kf = 2.0 / (m->fast + 1);
    m->ks = 2.0 / (m->slow + 1);
    m->kg = 2.0 / (m->signal + 1);
    m->count = m->nsig = 0;
    m->ref = m->fsum = m->ssum = m->ef = m->es = m->sigsum = m->sig = 0.0;
}

void ta_macd_update(ta_macd *m, double x, double *macd, double *signal, double *hist)
{
    *macd = *signal = *hist = NAN;
    int bar = m->count;
    /* MACD is the small difference of two EMAs of the price: EMAs of the
     * price itself would carry rounding errors of the price's size (1e-16 of
     * 100000 is 1e-11, as large as the MACD of a quiet minute). So both are
     * kept relative to the latest close (ef = EMA - x, the EMA's lag
     * negated), which carries errors of the size of the moves instead. d = x - ref is exact
     * for closes within a factor 2 (Sterbenz). Same recurrence and k as
     * TA-Lib's, E' = (x - E)·k + E, written in that frame. */
    if (bar == 0) {
        m->ref = x;
    }
    double d = x - m->ref;
    if (bar < m->slow) {
        m->count++;
        /* Seed sums relative to the first close. The fast seed window ends on
         * the slow seed's last bar (ta_MACD.c). */
        m->ssum += d;
        if (bar >= m->slow - m->fast) {
            m->fsum += d;
        }
        if (bar < m->slow - 1) {
            return;
        }
        m->es = m->ssum / m->slow - d;
        m->ef = m->fsum / m->fast - d;
    } else {
        m->ef = ((d - m->ef) * m->kf + m->ef) - d;
        m->es = ((d - m->es) * m->ks + m->es) - d;
    }
    m->ref = x;
    double v = m->ef - m->es;
    if (m->nsig < m->signal) {
        m->sigsum += v;
        if (++m->nsig < m->signal) {
            return;
        }
        m->sig = m->sigsum / m->signal;
    } else {
        m->sig = (v - m->sig) * m->kg + m->sig;
    }
    *macd = v;
    *signal = m->sig;
    *hist = v - m->sig;
}

/* --------------------------------------------------------------- volatility */

void ta_bb_init(ta_bb *b, int n, double k)
{
    ta_win_init_var(&b->w, n);
    b->k = k;
}

void ta_bb_update(ta_bb *b, double x, double *upper, double *mid, double *lower)
{
    win_push_var(&b->w, x);
    double m = ta_win_mean(&b->w);
    double d = b->k * sqrt(ta_win_var(&b->w));
    *mid = m;
    *upper = m + d;
    *lower = m - d;
}

void ta_atr_init(ta_atr *a, int n)
{
    a->n = n < 1 ? 1 : n;
    a->count = 0;
    a->prev_close = a->sum = a->value = 0.0;
}

double ta_atr_update(ta_atr *a, double h, double l, double c)
{
    int bar = a->count++;
    double pc = a->prev_close;
    a->prev_close = c;
    if (bar == 0) {
        return NAN; /* no previous close: TA-Lib has no TR for bar 0 */
    }
    double tr = h - l;
    double t2 = fabs(pc - h), t3 = fabs(pc - l);
    if (t2 > tr) {
        tr = t2;
    }
    if (t3 > tr) {
        tr = t3;
    }
    if (bar <= a->n) {
        a->sum += tr;
        if (bar < a->n) {
            return NAN;
        }
        a->value = a->sum / a->n;
        return a->value;
    }
    a->count = a->n + 1;
    a->value = (a->value * (a->n - 1) + tr) / a->n;
    return a->value;
}

void ta_rv_init(ta_rv *r, int n)
{
    ta_win_init(&r->w, n);
    r->have_prev = false;
    r->prev = 0.0;
}

double ta_rv_update(ta_rv *r, double c)
{
    if (r->have_prev) {
        /* ln(c/p) as log1p((c-p)/p): c - p is exact for nearby closes, so a
         * return of 1e-7 keeps all its digits, where log(c/p) would keep only
         * the 1e-16 / 1e-7 that survive rounding c/p near 1. Below c = p/2
         * log1p is ill-conditioned (its argument nears -1) and log(c/p) is
         * the accurate one. */
        double p = r->prev;
        double lr = c < 0.5 * p ? log(c / p) : log1p((c - p) / p);
        win_push_sum(&r->w, lr * lr);
    }
    r->have_prev = true;
    r->prev = c;
    return sqrt(ta_win_sum(&r->w));
}

void ta_volratio_init(ta_volratio *v, int n)
{
    ta_win_init(&v->w, n);
}

double ta_volratio_update(ta_volratio *v, double vol)
{
    double mean = ta_win_mean(&v->w);
    win_push_sum(&v->w, vol);
    return mean > 0.0 ? vol / mean : NAN;
}

/* ------------------------------------------------------- the standard set */

void ta_set_init(ta_set *s)
{
    ta_ema_init(&s->ema12, TA_SET_EMA_FAST);
    ta_ema_init(&s->ema26, TA_SET_EMA_SLOW);
    ta_rsi_init(&s->rsi14, TA_SET_RSI);
    ta_macd_init(&s->macd, TA_SET_EMA_FAST, TA_SET_EMA_SLOW, TA_SET_MACD_SIGNAL);
    ta_bb_init(&s->bb, TA_SET_BB, TA_SET_BB_K);
    ta_atr_init(&s->atr14, TA_SET_ATR);
    ta_rv_init(&s->rv, TA_SET_RV);
    ta_volratio_init(&s->vr, TA_SET_VOLRATIO);
}

/* The standard set is the indicator plugin's and `aitrader indicators`' hot
 * loop: every update it calls (and the window re-additions) inlined into one
 * function. Left to itself gcc -O2 calls RSI, MACD, ATR and RV, and across a
 * call every xmm register is lost; measured on bench/ta_bench (BTC 5m):
 * 53.2 -> 50.4 ns a bar. */
#if defined(__GNUC__)
__attribute__((flatten))
#endif
void ta_set_update(ta_set *s, const ta_bar *b, ta_set_out *out)
{
    out->ema12 = ta_ema_update(&s->ema12, b->c);
    out->ema26 = ta_ema_update(&s->ema26, b->c);
    out->rsi14 = ta_rsi_update(&s->rsi14, b->c);
    ta_macd_update(&s->macd, b->c, &out->macd, &out->macd_signal, &out->macd_hist);
    ta_bb_update(&s->bb, b->c, &out->bb_upper, &out->bb_mid, &out->bb_lower);
    out->atr14 = ta_atr_update(&s->atr14, b->h, b->l, b->c);
    out->vol_rv = ta_rv_update(&s->rv, b->c);
    out->vol_ratio = ta_volratio_update(&s->vr, b->v);
}

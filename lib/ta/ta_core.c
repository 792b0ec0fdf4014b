/* Incremental indicators with TA-Lib's default seeding (see ta.h for the
 * conventions and where we deliberately differ). The arithmetic follows
 * TA-Lib's source order (e.g. 100·(G/(G+L)), (x-E)·k+E) so results agree
 * with it to the last few ulps, not just to a tolerance. */
#include <math.h>

#include "ta.h"

/* ------------------------------------------------------------ rolling window */

static void win_resum(ta_win *w)
{
    /* Re-add the buffer relative to the newest value: removes the drift of
     * n add/subtract pairs and re-centres the shift where the prices are now. */
    int newest = (w->pos + w->n - 1) % w->n;
    w->ref = w->shift ? w->buf[newest] : 0.0;
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < w->count; i++) {
        double d = w->buf[i] - w->ref;
        s += d;
        s2 += d * d;
    }
    w->sum = s;
    w->sumsq = s2;
    w->since_resum = 0;
}

void ta_win_init(ta_win *w, int n, bool shift)
{
    w->n = n < 1 ? 1 : (n > TA_WIN_MAX ? TA_WIN_MAX : n);
    w->count = w->pos = w->since_resum = 0;
    w->shift = shift;
    w->ref = w->sum = w->sumsq = 0.0;
}

void ta_win_push(ta_win *w, double x)
{
    if (w->count == 0 && w->shift) {
        w->ref = x;
    }
    double d = x - w->ref;
    if (w->count == w->n) {
        double old = w->buf[w->pos] - w->ref;
        w->sum -= old;
        w->sumsq -= old * old;
    } else {
        w->count++;
    }
    w->buf[w->pos] = x;
    w->pos = (w->pos + 1) % w->n;
    w->sum += d;
    w->sumsq += d * d;
    if (w->count == w->n && ++w->since_resum >= w->n) {
        win_resum(w);
    }
}

bool ta_win_full(const ta_win *w)
{
    return w->count == w->n;
}

double ta_win_mean(const ta_win *w)
{
    return ta_win_full(w) ? w->ref + w->sum / w->n : NAN;
}

double ta_win_var(const ta_win *w)
{
    if (!ta_win_full(w)) {
        return NAN;
    }
    double m = w->sum / w->n;
    double v = w->sumsq / w->n - m * m;
    return v > 0.0 ? v : 0.0;
}

double ta_win_sumsq(const ta_win *w)
{
    return ta_win_full(w) ? (w->sumsq > 0.0 ? w->sumsq : 0.0) : NAN;
}

/* --------------------------------------------------------- moving averages */

void ta_sma_init(ta_sma *s, int n)
{
    ta_win_init(&s->w, n, true);
}

double ta_sma_update(ta_sma *s, double x)
{
    ta_win_push(&s->w, x);
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
    r->prev = r->gain = r->loss = 0.0;
}

static double rsi_value(double g, double l)
{
    double t = g + l;
    return t == 0.0 ? 0.0 : 100.0 * (g / t);
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
    m->fsum = m->ssum = m->ef = m->es = m->sigsum = m->sig = 0.0;
}

void ta_macd_update(ta_macd *m, double x, double *macd, double *signal, double *hist)
{
    *macd = *signal = *hist = NAN;
    int bar = m->count;
    if (bar < m->slow) {
        m->count++;
        /* The fast seed window ends on the slow seed's last bar (ta_MACD.c). */
        m->ssum += x;
        if (bar >= m->slow - m->fast) {
            m->fsum += x;
        }
        if (bar < m->slow - 1) {
            return;
        }
        m->es = m->ssum / m->slow;
        m->ef = m->fsum / m->fast;
    } else {
        m->ef = (x - m->ef) * m->kf + m->ef;
        m->es = (x - m->es) * m->ks + m->es;
    }
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
    ta_win_init(&b->w, n, true);
    b->k = k;
}

void ta_bb_update(ta_bb *b, double x, double *upper, double *mid, double *lower)
{
    ta_win_push(&b->w, x);
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
    ta_win_init(&r->w, n, false);
    r->have_prev = false;
    r->prev = 0.0;
}

double ta_rv_update(ta_rv *r, double c)
{
    if (r->have_prev) {
        ta_win_push(&r->w, log(c / r->prev));
    }
    r->have_prev = true;
    r->prev = c;
    return sqrt(ta_win_sumsq(&r->w));
}

void ta_volratio_init(ta_volratio *v, int n)
{
    ta_win_init(&v->w, n, false);
}

double ta_volratio_update(ta_volratio *v, double vol)
{
    double mean = ta_win_mean(&v->w);
    ta_win_push(&v->w, vol);
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

/* The rule set: one decision per symbol from the latest indicator values of
 * the configured bar, the price and the positions held (README: "Offline
 * rules provider"). Pure: no clock but the one passed in, no randomness, so
 * the same inputs give the same text, live and in backtests.
 *
 *   trend     ema12 vs ema26        momentum  sign of macd_hist
 *   open_long   uptrend (ema12 > ema26, macd_hist > 0), 50 < rsi14 < rsi_overbought
 *   open_short  downtrend (ema12 < ema26, macd_hist < 0), rsi_oversold < rsi14 < 50
 *   close_long  long held and (downtrend or rsi14 >= rsi_exit_high)
 *   close_short short held and (uptrend or rsi14 <= rsi_exit_low)
 *   hold        otherwise; also while values warm up or go stale
 *
 * Opens carry take_profit and stop_loss at tp_atr and sl_atr times atr14
 * from the price, rounded to price_digits significant digits; confidence is
 * 0.5 + 0.4 x the signal's strength in [0, 1]. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ai_rules.h"

const char *const rules_value_names[V_N] = {"close", "ema12",     "ema26",
                                            "rsi14", "macd_hist", "atr14"};

/* macd_hist at this fraction of atr14 counts as full momentum. */
#define HIST_FULL_ATR 0.2
/* Significant digits of the values named in reasons. */
#define TEXT_DIGITS 6

/* Powers of ten, exact as literals go: the decade of a value is looked up,
 * not computed with log10, so it never depends on libm's rounding. */
static const double P10[37] = {1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9,
                               1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,
                               1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,
                               1e12,  1e13,  1e14,  1e15,  1e16,  1e17,  1e18};

/* Digits after the point that leave `sig` significant digits of |a|. */
static int sig_scale(double a, int sig)
{
    a = fabs(a);
    int e = -18;
    while (e < 18 && P10[e + 18 + 1] <= a) {
        e++;
    }
    int scale = sig - 1 - e;
    return scale < 0 ? 0 : scale > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE : scale;
}

static void dec_text(const at_host *h, double v, int scale, char out[AT_DEC_STRLEN])
{
    at_dec d;
    if (!isfinite(v)) {
        snprintf(out, AT_DEC_STRLEN, "nan");
    } else if (h->dec_from_double(v, scale, &d) == AT_OK) {
        h->dec_format(d, out);
    } else { /* beyond 64-bit mantissas: no price or indicator gets here */
        snprintf(out, AT_DEC_STRLEN, "%.*g", scale > 15 ? 15 : scale + 1, v);
    }
}

void rules_num(const at_host *h, double v, int sig, char out[AT_DEC_STRLEN])
{
    dec_text(h, v, v == 0 ? 0 : sig_scale(v, sig), out);
}

static double clamp01(double x)
{
    return x > 1 ? 1 : x > 0 ? x : 0;
}

static void confidence(const at_host *h, double strength, rules_item *out)
{
    dec_text(h, 0.5 + 0.4 * clamp01(strength), 2, out->confidence);
}

/* The values and the price the rules read, and their texts. */
typedef struct look {
    double e12, e26, rsi, hist, atr, px;
    char t_e12[AT_DEC_STRLEN], t_e26[AT_DEC_STRLEN], t_rsi[AT_DEC_STRLEN];
    char t_hist[AT_DEC_STRLEN], t_atr[AT_DEC_STRLEN], t_px[AT_DEC_STRLEN];
    char t_ob[AT_DEC_STRLEN], t_os[AT_DEC_STRLEN], t_xh[AT_DEC_STRLEN], t_xl[AT_DEC_STRLEN];
    double trend, momentum; /* strengths in [0, 1] */
} look;

/* The newest of TICKER last, MARK and the bar's close, by event time (a
 * tie goes to the ticker, then the mark): a dead ticker feed must not pin
 * the take profit and stop loss to an old price. */
static double price_of(const at_host *h, const inst_state *s)
{
    double px = s->v[V_CLOSE];
    int64_t ts = s->ind_ts_us;
    if (s->have_mark && s->mark.m > 0 && s->mark_ts_us >= ts) {
        px = h->dec_to_double(s->mark);
        ts = s->mark_ts_us;
    }
    if (s->have_last && s->last.m > 0 && s->last_ts_us >= ts) {
        px = h->dec_to_double(s->last);
    }
    return px;
}

static void look_at(const rules_ctx *c, const inst_state *s, look *l)
{
    const at_host *h = c->h;
    l->e12 = s->v[V_EMA12];
    l->e26 = s->v[V_EMA26];
    l->rsi = s->v[V_RSI14];
    l->hist = s->v[V_MACD_HIST];
    l->atr = s->v[V_ATR14];
    l->px = price_of(h, s);
    rules_num(h, l->e12, TEXT_DIGITS, l->t_e12);
    rules_num(h, l->e26, TEXT_DIGITS, l->t_e26);
    rules_num(h, l->rsi, TEXT_DIGITS, l->t_rsi);
    rules_num(h, l->hist, TEXT_DIGITS, l->t_hist);
    rules_num(h, l->atr, TEXT_DIGITS, l->t_atr);
    rules_num(h, l->px, TEXT_DIGITS, l->t_px);
    rules_num(h, c->rsi_overbought, TEXT_DIGITS, l->t_ob);
    rules_num(h, c->rsi_oversold, TEXT_DIGITS, l->t_os);
    rules_num(h, c->rsi_exit_high, TEXT_DIGITS, l->t_xh);
    rules_num(h, c->rsi_exit_low, TEXT_DIGITS, l->t_xl);
    l->trend = l->atr > 0 ? clamp01(fabs(l->e12 - l->e26) / l->atr) : 0;
    l->momentum = l->atr > 0 ? clamp01(fabs(l->hist) / (HIST_FULL_ATR * l->atr)) : 0;
}

/* Net direction held across the positions kept (already filtered by account). */
static void held(const inst_state *s, bool *lng, bool *sht)
{
    *lng = *sht = false;
    for (int i = 0; s && i < s->npos; i++) {
        const pos_entry *p = &s->pos[i];
        if (p->pos.m > 0) {
            *lng |= p->side == AT_POS_NET || p->side == AT_POS_LONG;
            *sht |= p->side == AT_POS_SHORT;
        } else if (p->pos.m < 0 && p->side == AT_POS_NET) {
            *sht = true;
        }
    }
}

static void hold(rules_item *out, const char *reason, const char *invalidation)
{
    out->action = "hold";
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    snprintf(out->invalidation, sizeof(out->invalidation), "%s", invalidation);
}

static bool warm(const rules_ctx *c, const inst_state *s, int64_t now_ms, rules_item *out)
{
    char what[160];
    if (!s || !s->have_ind) {
        snprintf(what, sizeof(what), "waiting for the first %s indicator values", c->set.bar_name);
        hold(out, "indicators warming up", what);
        return false;
    }
    size_t n = (size_t)snprintf(what, sizeof(what), "waiting for %s", c->set.bar_name);
    const char *sep = " ";
    for (int k = 0; k < V_N; k++) {
        if (!isfinite(s->v[k])) {
            n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s", sep, rules_value_names[k]);
            sep = ", ";
        }
    }
    if (*sep == ',') {
        hold(out, "indicators warming up", what);
        return false;
    }
    int64_t bar_ms = c->set.bar_ms;
    int64_t age = now_ms - (s->bar_open_ms + bar_ms);
    if (c->stale_bars > 0 && age > c->stale_bars * bar_ms) {
        char why[120];
        snprintf(why, sizeof(why), "indicators stale: the last %s bar closed %lld bars ago",
                 c->set.bar_name, (long long)(age / bar_ms));
        snprintf(what, sizeof(what), "waiting for a new %s bar", c->set.bar_name);
        hold(out, why, what);
        return false;
    }
    return true;
}

static void close_pos(const rules_ctx *c, const look *l, bool is_long, bool on_trend,
                      rules_item *out)
{
    out->action = is_long ? "close_long" : "close_short";
    snprintf(out->size_pct, sizeof(out->size_pct), "1");
    if (on_trend) {
        snprintf(out->reason, sizeof(out->reason),
                 "%s against the %s: ema12 %s %s ema26 %s, macd_hist %s %s 0; rsi14 %s",
                 is_long ? "downtrend" : "uptrend", is_long ? "long" : "short", l->t_e12,
                 is_long ? "<" : ">", l->t_e26, l->t_hist, is_long ? "<" : ">", l->t_rsi);
        snprintf(out->invalidation, sizeof(out->invalidation),
                 "ema12 back %s ema26 with macd_hist %s 0", is_long ? "above" : "below",
                 is_long ? "above" : "below");
        confidence(c->h, (l->trend + l->momentum) / 2, out);
        return;
    }
    double room = is_long ? 100 - c->rsi_exit_high : c->rsi_exit_low;
    double past = is_long ? l->rsi - c->rsi_exit_high : c->rsi_exit_low - l->rsi;
    snprintf(out->reason, sizeof(out->reason), "rsi14 %s at or %s %s: %s closed on %s", l->t_rsi,
             is_long ? "above" : "below", is_long ? l->t_xh : l->t_xl, is_long ? "long" : "short",
             is_long ? "overbought" : "oversold");
    snprintf(out->invalidation, sizeof(out->invalidation), "rsi14 back %s %s",
             is_long ? "below" : "above", is_long ? l->t_xh : l->t_xl);
    confidence(c->h, room > 0 ? past / room : 1, out);
}

/* take_profit and stop_loss around the price; false when they would not lie
 * on their sides of it above 0 once rounded (an ATR tiny against the
 * price, or huge). */
static bool levels(const rules_ctx *c, const look *l, bool is_long, rules_item *out)
{
    const at_host *h = c->h;
    int scale = sig_scale(l->px, (int)c->price_digits);
    double dir = is_long ? 1 : -1;
    at_dec px, tp, sl;
    if (h->dec_from_double(l->px, scale, &px) != AT_OK ||
        h->dec_from_double(l->px + dir * c->tp_atr * l->atr, scale, &tp) != AT_OK ||
        h->dec_from_double(l->px - dir * c->sl_atr * l->atr, scale, &sl) != AT_OK) {
        return false;
    }
    int side = is_long ? 1 : -1;
    if (h->dec_cmp(tp, px) * side <= 0 || h->dec_cmp(sl, px) * side >= 0 || tp.m <= 0 ||
        sl.m <= 0) {
        return false;
    }
    h->dec_format(tp, out->take_profit);
    h->dec_format(sl, out->stop_loss);
    return true;
}

static void open_pos(const rules_ctx *c, const look *l, bool is_long, rules_item *out)
{
    if (!levels(c, l, is_long, out)) {
        char why[320];
        snprintf(why, sizeof(why),
                 "no take profit and stop loss on their sides of price %s with atr14 %s "
                 "(tp_atr %g, sl_atr %g)",
                 l->t_px, l->t_atr, c->tp_atr, c->sl_atr);
        hold(out, why, "an atr14 that leaves room on both sides of the price");
        snprintf(out->confidence, sizeof(out->confidence), "0");
        return;
    }
    out->action = is_long ? "open_long" : "open_short";
    rules_num(c->h, c->size_pct, TEXT_DIGITS, out->size_pct);
    snprintf(out->reason, sizeof(out->reason),
             "%s: ema12 %s %s ema26 %s, macd_hist %s %s 0, rsi14 %s between %s and %s; price %s, "
             "atr14 %s",
             is_long ? "uptrend" : "downtrend", l->t_e12, is_long ? ">" : "<", l->t_e26, l->t_hist,
             is_long ? ">" : "<", l->t_rsi, is_long ? "50" : l->t_os, is_long ? l->t_ob : "50",
             l->t_px, l->t_atr);
    snprintf(out->invalidation, sizeof(out->invalidation),
             "price at or %s %s, ema12 %s ema26 with macd_hist %s 0, or rsi14 at or %s %s",
             is_long ? "below" : "above", out->stop_loss, is_long ? "below" : "above",
             is_long ? "below" : "above", is_long ? "above" : "below", is_long ? l->t_xh : l->t_xl);
    double rsi =
        is_long ? (l->rsi - 50) / (c->rsi_overbought - 50) : (50 - l->rsi) / (50 - c->rsi_oversold);
    confidence(c->h, (l->trend + l->momentum + clamp01(rsi)) / 3, out);
}

void rules_decide(const rules_ctx *c, const inst_state *s, const char *symbol, int64_t now_ms,
                  rules_item *out)
{
    memset(out, 0, sizeof(*out));
    out->symbol = symbol;
    out->action = "hold";
    out->leverage = c->leverage;
    snprintf(out->size_pct, sizeof(out->size_pct), "0");
    snprintf(out->take_profit, sizeof(out->take_profit), "0");
    snprintf(out->stop_loss, sizeof(out->stop_loss), "0");
    snprintf(out->confidence, sizeof(out->confidence), "0");
    if (!warm(c, s, now_ms, out)) {
        return; /* confidence 0: nothing to judge on */
    }
    look l;
    look_at(c, s, &l);
    bool up = l.e12 > l.e26 && l.hist > 0;
    bool down = l.e12 < l.e26 && l.hist < 0;
    bool lng, sht;
    held(s, &lng, &sht);
    /* Exits first, and never an open while anything is held: a flip takes a
     * close now and an open on a later call (risk rules see both). */
    if (lng && (down || l.rsi >= c->rsi_exit_high)) {
        close_pos(c, &l, true, down, out);
        return;
    }
    if (sht && (up || l.rsi <= c->rsi_exit_low)) {
        close_pos(c, &l, false, up, out);
        return;
    }
    confidence(c->h, 0, out); /* 0.5: warm values, no edge to act on */
    if (lng || sht) {
        snprintf(out->reason, sizeof(out->reason),
                 "%s held, no exit signal: ema12 %s, ema26 %s, macd_hist %s, rsi14 %s",
                 lng && sht ? "long and short"
                 : lng      ? "long"
                            : "short",
                 l.t_e12, l.t_e26, l.t_hist, l.t_rsi);
        if (lng) {
            snprintf(out->invalidation, sizeof(out->invalidation),
                     "close the long when ema12 < ema26 with macd_hist < 0, or rsi14 >= %s",
                     l.t_xh);
        } else {
            snprintf(out->invalidation, sizeof(out->invalidation),
                     "close the short when ema12 > ema26 with macd_hist > 0, or rsi14 <= %s",
                     l.t_xl);
        }
        return;
    }
    if (up && l.rsi > 50 && l.rsi < c->rsi_overbought) {
        open_pos(c, &l, true, out);
        return;
    }
    if (down && l.rsi < 50 && l.rsi > c->rsi_oversold) {
        open_pos(c, &l, false, out);
        return;
    }
    char why[80];
    if (up) {
        snprintf(why, sizeof(why), "uptrend but rsi14 at or %s %s",
                 l.rsi >= c->rsi_overbought ? "above" : "below",
                 l.rsi >= c->rsi_overbought ? l.t_ob : "50");
    } else if (down) {
        snprintf(why, sizeof(why), "downtrend but rsi14 at or %s %s",
                 l.rsi <= c->rsi_oversold ? "below" : "above",
                 l.rsi <= c->rsi_oversold ? l.t_os : "50");
    } else {
        snprintf(why, sizeof(why), "ema12 and macd_hist disagree");
    }
    snprintf(out->reason, sizeof(out->reason),
             "no entry, %s: ema12 %s, ema26 %s, macd_hist %s, rsi14 %s", why, l.t_e12, l.t_e26,
             l.t_hist, l.t_rsi);
    snprintf(out->invalidation, sizeof(out->invalidation),
             "long when ema12 > ema26, macd_hist > 0 and 50 < rsi14 < %s; short when ema12 < "
             "ema26, macd_hist < 0 and %s < rsi14 < 50",
             l.t_ob, l.t_os);
}

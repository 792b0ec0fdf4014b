/* A trader's context written for the prompt: one compact line per fact,
 * prices and sizes exactly as the venue wrote them, indicators with 6
 * significant digits, ages as 45s / 12m / 2h05m / 3d04h. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "decimal.h"
#include "trader_internal.h"

/* ------------------------------------------------------------ rendering */

void tr_age(int64_t ms, char *buf, size_t n)
{
    int64_t s = ms > 0 ? ms / 1000 : 0;
    if (s < 60) {
        snprintf(buf, n, "%" PRId64 "s", s);
    } else if (s < 3600) {
        snprintf(buf, n, "%" PRId64 "m", s / 60);
    } else if (s < 86400) {
        snprintf(buf, n, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
    } else {
        snprintf(buf, n, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
    }
}

#define SIGNED_LEN (AT_DEC_STRLEN + 1)

static const char *signed_dec(const trader *t, at_dec d, char *buf)
{
    buf[0] = '+';
    at_dec_text(d, buf + 1);
    return d.m > 0 ? buf : buf + 1;
}

char *tr_render_account(const trader *t)
{
    tbuf b = {0};
    if (!t->has_balance) {
        tb_printf(&b, "no balance received yet");
        return tb_take(&b);
    }
    char e[AT_DEC_STRLEN], a[AT_DEC_STRLEN], m[AT_DEC_STRLEN];
    at_dec margin = {0, 0};
    for (size_t i = 0; i < t->nmargins; i++) {
        at_dec s;
        if (t->h->dec_add(margin, t->margins[i].margin, &s) == AT_OK) {
            margin = s;
        }
    }
    double eq = t->h->dec_to_double(t->total_eq);
    double use = eq > 0 ? 100.0 * t->h->dec_to_double(margin) / eq : 0;
    tb_printf(&b, "equity %s USD, available %s USDT, margin used %s (%.1f%%)",
              at_dec_text(t->total_eq, e), at_dec_text(t->avail, a), at_dec_text(margin, m), use);
    return tb_take(&b);
}

/* The trader's own contracts of a shadow-venue position (core.ledger, at
 * most the venue's) in *size: other traders may share that paper venue.
 * False when the ledger books none of it to the trader; the venue's figure
 * without a ledger or while it is busy. */
static bool own_shadow(const trader *t, const tr_symbol *s, int side, bool is_long, at_dec *size)
{
    const ledger *lg = t->cfg.ledger;
    at_dec own;
    if (!lg || !ledger_ready(lg)) {
        return true;
    }
    if (ledger_position_of(lg, t->name, t->shadow_account, s->id, (at_pos_side)side, &own) !=
        AT_OK) {
        return false;
    }
    if (!is_long) {
        own.m = -own.m; /* a short's contracts are < 0 */
    }
    if (own.m <= 0) {
        return false;
    }
    if (t->h->dec_cmp(own, *size) < 0) {
        *size = own;
    }
    return true;
}

char *tr_render_positions(const trader *t, int64_t now_ms)
{
    tbuf b = {0};
    /* the live account's positions, then the shadow book's, said to be
     * hypothetical so that the AI neither takes them for live nor opens
     * them again and again */
    for (int book = TR_LIVE; book < TR_BOOKS; book++) {
        for (size_t i = 0; i < t->nsym; i++) {
            const tr_symbol *s = &t->sym[i];
            for (int side = AT_POS_NET; side <= AT_POS_SHORT; side++) {
                const tr_position *q = &s->pos[book][side];
                if (q->pos.m == 0) {
                    continue;
                }
                bool is_long = side == AT_POS_LONG || (side == AT_POS_NET && q->pos.m > 0);
                at_dec size = q->pos, venue;
                size.m = size.m < 0 ? -size.m : size.m;
                venue = size;
                if (book == TR_SHADOW && !own_shadow(t, s, side, is_long, &size)) {
                    continue; /* another trader's, on a paper venue they share */
                }
                const tr_thesis *th = &s->thesis[book][is_long ? 0 : 1];
                char sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN], lv[AT_DEC_STRLEN], u[SIGNED_LEN],
                    net[SIGNED_LEN], ag[24];
                at_dec n;
                if (t->h->dec_add(q->upl, q->realized, &n) != AT_OK) {
                    n = q->upl;
                }
                tr_age(now_ms - (th->set ? th->ts_ms : q->since_ms), ag, sizeof(ag));
                tb_printf(&b,
                          "%s%s %s %s contracts @ %s x%s, uPnL %s (%s after fees and funding), "
                          "held %s%s",
                          book == TR_SHADOW ? "SHADOW (hypothetical, not live) " : "", s->name,
                          is_long ? "long" : "short", at_dec_text(size, sz),
                          at_dec_text(q->avg_px, px), at_dec_text(q->lever, lv),
                          signed_dec(t, q->upl, u), signed_dec(t, n, net), ag, th->set ? "" : "+");
                if (t->h->dec_cmp(size, venue) != 0) {
                    char all[AT_DEC_STRLEN];
                    tb_printf(&b, " (the venue holds %s with other traders'; uPnL is of all of it)",
                              at_dec_text(venue, all));
                }
                if (th->set) {
                    char tp[AT_DEC_STRLEN], sl[AT_DEC_STRLEN];
                    tb_printf(&b, ", TP %s SL %s; entry reason: %s", at_dec_text(th->tp, tp),
                              at_dec_text(th->sl, sl), th->reason);
                    if (th->invalidation[0]) {
                        tb_printf(&b, "; invalid if: %s", th->invalidation);
                    }
                } else {
                    tb_printf(&b, "; not opened by this trader's decisions");
                }
                tb_printf(&b, "\n");
            }
        }
    }
    if (b.n == 0) {
        tb_printf(&b, "none\n");
    }
    return tb_take(&b);
}

char *tr_render_orders(const trader *t)
{
    static const char *const types[] = {"market", "limit", "post_only", "fok", "ioc"};
    tbuf b = {0};
    for (size_t i = 0; i < t->norders; i++) {
        const tr_order *o = &t->orders[i];
        const char *name = t->h->inst_name(o->inst);
        char sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN], f[AT_DEC_STRLEN];
        tb_printf(&b, "%s%s %s %s contracts %s @ %s, %s (filled %s)%s\n",
                  o->shadow ? "SHADOW " : "", name ? name : "?",
                  o->side == AT_SIDE_BUY ? "buy" : "sell", at_dec_text(o->sz, sz),
                  (unsigned)o->type < 5 ? types[o->type] : "?", at_dec_text(o->px, px),
                  tr_state_name(o->state), at_dec_text(o->filled, f),
                  o->reduce_only ? ", reduce-only" : "");
    }
    if (b.n == 0) {
        tb_printf(&b, "none\n");
    }
    return tb_take(&b);
}

char *tr_render_history(const trader *t, int64_t now_ms)
{
    tbuf b = {0};
    size_t show = t->hn < (size_t)t->cfg.history ? t->hn : (size_t)t->cfg.history;
    for (size_t i = t->hn - show; i < t->hn; i++) {
        const tr_hist *x = &t->hist[(t->hstart + i) % TR_HIST_MAX];
        char ag[24];
        tr_age(now_ms - x->ts_ms, ag, sizeof(ag));
        tb_printf(&b, "%s ago: ", ag);
        if (x->watchdog[0]) {
            tb_printf(&b, "%s -> %s\n", x->watchdog,
                      x->n > 0 && x->items[0].outcome[0] ? x->items[0].outcome : "?");
            continue;
        }
        if (!x->valid) {
            tb_printf(&b, "invalid answer (%s), nothing done\n", x->invalid);
            continue;
        }
        bool any = false;
        for (size_t k = 0; k < x->n; k++) {
            const tr_hist_item *it = &x->items[k];
            if (it->action == AT_ACT_HOLD) {
                continue;
            }
            char p[AT_DEC_STRLEN], l[AT_DEC_STRLEN];
            tb_printf(&b, "%s%s %s %s", any ? "; " : "", vd_action_name(it->action),
                      t->sym[it->sym].name, at_dec_text(it->size_pct, p));
            if (it->leverage.m) {
                tb_printf(&b, " x%s", at_dec_text(it->leverage, l));
            }
            tb_printf(&b, " -> %s", it->outcome[0] ? it->outcome : "?");
            if (it->intent2[0]) {
                tb_printf(&b, " and %s", it->outcome2[0] ? it->outcome2 : "?");
            }
            any = true;
        }
        ledger_outcome lo;
        if (any && t->cfg.ledger &&
            ledger_outcome_of(t->cfg.ledger, x->decision_id, &lo) == AT_OK) {
            /* how it ended (or stands): what the trader needs to learn from */
            at_dec net = lo.realized;
            t->h->dec_add(net, lo.fees, &net);
            t->h->dec_add(net, lo.funding, &net);
            char n[SIGNED_LEN], f[SIGNED_LEN], g[SIGNED_LEN];
            tb_printf(&b, " | PnL %s (fees %s, funding %s)%s", signed_dec(t, net, n),
                      signed_dec(t, lo.fees, f), signed_dec(t, lo.funding, g),
                      lo.open ? ", still open" : ", closed");
        }
        tb_printf(&b, "%s\n", any ? "" : "hold");
    }
    if (b.n == 0) {
        tb_printf(&b, "none\n");
    }
    return tb_take(&b);
}

static void bar_name(int64_t bar_s, char *out, size_t n)
{
    if (bar_s > 0 && bar_s % 86400 == 0) {
        snprintf(out, n, "%" PRId64 "d", bar_s / 86400);
    } else if (bar_s > 0 && bar_s % 3600 == 0) {
        snprintf(out, n, "%" PRId64 "h", bar_s / 3600);
    } else if (bar_s > 0 && bar_s % 60 == 0) {
        snprintf(out, n, "%" PRId64 "m", bar_s / 60);
    } else {
        snprintf(out, n, "%" PRId64 "s", bar_s);
    }
}

/* The indicator columns: the configured names in their order ("all": every
 * name in the order the events carry them), those some event has. */
#define MAX_COLS AT_IND_MAX

static bool has_col(char cols[][24], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cols[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static bool in_events(const trader *t, const char *name)
{
    for (size_t i = 0; i < t->nsym; i++) {
        for (size_t k = 0; k < TR_MAX_BARS; k++) {
            const at_ev_indicator *ev = t->sym[i].ind[k];
            for (uint32_t v = 0; ev && v < ev->n && v < AT_IND_MAX; v++) {
                if (strcmp(ev->v[v].name, name) == 0) {
                    return true;
                }
            }
        }
    }
    return false;
}

static size_t columns(const trader *t, char cols[MAX_COLS][24])
{
    size_t n = 0;
    if (!t->all_indicators) {
        for (size_t i = 0; i < t->cfg.nindicators && n < MAX_COLS; i++) {
            const char *name = t->cfg.indicators[i];
            if (!has_col(cols, n, name) && in_events(t, name)) {
                snprintf(cols[n++], 24, "%s", name);
            }
        }
        return n;
    }
    for (size_t i = 0; i < t->nsym; i++) {
        for (size_t k = 0; k < TR_MAX_BARS; k++) {
            const at_ev_indicator *ev = t->sym[i].ind[k];
            for (uint32_t v = 0; ev && v < ev->n && v < AT_IND_MAX && n < MAX_COLS; v++) {
                if (!has_col(cols, n, ev->v[v].name)) {
                    snprintf(cols[n++], 24, "%s", ev->v[v].name);
                }
            }
        }
    }
    return n;
}

/* One line per symbol (prices, funding, book imbalance), then a table of the
 * indicators: the column names once, a row per symbol and bar (shortest bar
 * first), "-" where a value is missing or warming up. */
char *tr_render_market(const trader *t)
{
    tbuf b = {0};
    for (size_t i = 0; i < t->nsym; i++) {
        const tr_symbol *s = &t->sym[i];
        char l[AT_DEC_STRLEN], m[AT_DEC_STRLEN];
        tb_printf(&b, "%s last %s", s->name, s->last.m ? at_dec_text(s->last, l) : "?");
        if (s->mark.m) {
            tb_printf(&b, " mark %s", at_dec_text(s->mark, m));
        }
        if (s->has_funding) {
            tb_printf(&b, " funding %.4f%%", 100 * s->funding);
        }
        if (s->has_obi) {
            tb_printf(&b, " book %+.2f", s->obi);
        }
        tb_printf(&b, "\n");
    }
    char cols[MAX_COLS][24];
    size_t ncols = columns(t, cols);
    if (ncols == 0) {
        return tb_take(&b);
    }
    tb_printf(&b, "Indicators (the number in a name is its window):\nsymbol bar");
    for (size_t c = 0; c < ncols; c++) {
        tb_printf(&b, " %s", cols[c]);
    }
    tb_printf(&b, "\n");
    for (size_t i = 0; i < t->nsym; i++) {
        const tr_symbol *s = &t->sym[i];
        const at_ev_indicator *order[TR_MAX_BARS];
        size_t n = 0;
        for (size_t k = 0; k < TR_MAX_BARS; k++) {
            if (s->ind[k]) {
                size_t j = n++;
                while (j > 0 && order[j - 1]->bar_s > s->ind[k]->bar_s) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = s->ind[k];
            }
        }
        for (size_t k = 0; k < n; k++) {
            const at_ev_indicator *ev = order[k];
            char bar[24];
            bar_name(ev->bar_s, bar, sizeof(bar));
            tb_printf(&b, "%s %s", s->name, bar);
            for (size_t c = 0; c < ncols; c++) {
                double v = NAN;
                for (uint32_t x = 0; x < ev->n && x < AT_IND_MAX; x++) {
                    if (strcmp(ev->v[x].name, cols[c]) == 0) {
                        v = ev->v[x].value;
                        break;
                    }
                }
                if (isfinite(v)) {
                    tb_printf(&b, " %.5g", v);
                } else {
                    tb_printf(&b, " -");
                }
            }
            tb_printf(&b, "\n");
        }
    }
    return tb_take(&b);
}

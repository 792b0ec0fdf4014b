/* What a trader checks and does on prices without waiting for the AI:
 *  - the stale-price re-check: a reasoning model may answer a minute or two
 *    after the prompt was built; an entry is sized at the price of the
 *    moment it is planned, so it is not sent when that price is older than
 *    price_max_age or has moved more than max_price_move_bps from the one
 *    the prompt showed (the AI decided on another market);
 *  - the profit-giveback watchdog: the trader's own contracts of a position
 *    it opened are closed once its uPnL has fallen giveback_pct % below its
 *    peak, the peak having reached giveback_arm_pct % of the position's
 *    margin, as the next AI call may come too late (peers §3, "exits must
 *    not wait for the LLM"). Its own: what core.ledger books to it, never
 *    another trader's or a manual share of the same position. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "ledger.h"
#include "trader_internal.h"

/* Closes the watchdog publishes for one position when the venue refuses
 * them; then the TP/SL on the exchange are what is left. */
#define GB_TRIES 3

static int64_t now_ms(const trader *t)
{
    return t->h->now_us() / 1000;
}

/* "61 s", "1.5 s" */
static void secs(int64_t ms, char *buf, size_t n)
{
    if (ms % 1000 == 0) {
        snprintf(buf, n, "%" PRId64 " s", ms / 1000);
        return;
    }
    snprintf(buf, n, "%" PRId64 ".%03" PRId64 " s", ms / 1000, ms % 1000);
    char *end = buf + strlen(buf) - 3; /* " s" and the last digit */
    while (end > buf && *end == '0') {
        memmove(end, end + 1, strlen(end));
        end--;
    }
}

/* "+55.6", "-3", "0" */
static void fmt_signed(const trader *t, at_dec d, char buf[AT_DEC_STRLEN + 1])
{
    buf[0] = '+';
    at_dec_text(d, d.m > 0 ? buf + 1 : buf);
}

/* ------------------------------------------------------------ stale price */

bool tr_price_ok(const trader *t, size_t sym, at_dec prompt_px, char *note, size_t notelen)
{
    const at_host *h = t->h;
    const tr_symbol *s = &t->sym[sym];
    at_dec px = tr_price(t, sym);
    if (px.m <= 0) {
        return true; /* sizing refuses it, saying there is no price */
    }
    char now_s[AT_DEC_STRLEN], then_s[AT_DEC_STRLEN], bps_s[AT_DEC_STRLEN + 1];
    at_dec_text(px, now_s);
    if (prompt_px.m <= 0) {
        snprintf(note, notelen, "stale price: the prompt showed no price of %s (%s now)", s->name,
                 now_s);
        return false;
    }
    at_dec_text(prompt_px, then_s);
    /* the move, exactly: |now − then| × 10000 against the limit × then */
    const at_dec bp = {10000, 0};
    at_dec diff, scaled, bps, lim;
    if (h->dec_sub(px, prompt_px, &diff) != AT_OK || h->dec_mul(diff, bp, &scaled) != AT_OK ||
        h->dec_div(scaled, prompt_px, 1, AT_ROUND_HALF_EVEN, &bps) != AT_OK ||
        h->dec_mul(t->max_move_bps, prompt_px, &lim) != AT_OK) {
        snprintf(note, notelen, "stale price: the move of %s from %s to %s does not compute",
                 s->name, then_s, now_s);
        return false;
    }
    fmt_signed(t, bps, bps_s);
    int64_t age = now_ms(t) - tr_price_ms(t, sym);
    if (age > t->price_max_age_ms) {
        char a[32], l[32];
        secs(age, a, sizeof(a));
        secs(t->price_max_age_ms, l, sizeof(l));
        snprintf(note, notelen,
                 "stale price: %s %s is %s old (price_max_age %s); the prompt showed %s (%s bps)",
                 s->name, now_s, a, l, then_s, bps_s);
        return false;
    }
    scaled.m = scaled.m < 0 ? -scaled.m : scaled.m;
    if (t->max_move_bps.m > 0 && h->dec_cmp(scaled, lim) > 0) {
        char l[AT_DEC_STRLEN];
        at_dec_text(t->max_move_bps, l);
        snprintf(note, notelen,
                 "stale price: %s %s moved %s bps from %s in the prompt (max_price_move_bps %s)",
                 s->name, now_s, bps_s, then_s, l);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ giveback */

/* The peak reached giveback_arm_pct % of the position's margin (a position
 * without a margin figure never arms: the level would be a guess). */
static bool arm_level(const trader *t, const tr_position *q)
{
    const at_host *h = t->h;
    if (q->peak_upl.m <= 0) {
        return false;
    }
    if (t->giveback_arm_pct.m <= 0) {
        return true;
    }
    at_dec a, b;
    return q->margin.m > 0 && h->dec_mul(q->peak_upl, (at_dec){100, 0}, &a) == AT_OK &&
           h->dec_mul(q->margin, t->giveback_arm_pct, &b) == AT_OK && h->dec_cmp(a, b) >= 0;
}

/* uPnL × 100 ≤ peak × (100 − giveback_pct): given back at least that much. */
static bool gave_back(const trader *t, const tr_position *q)
{
    const at_host *h = t->h;
    at_dec keep, a, b;
    return h->dec_sub((at_dec){100, 0}, t->giveback_pct, &keep) == AT_OK &&
           h->dec_mul(q->upl, (at_dec){100, 0}, &a) == AT_OK &&
           h->dec_mul(q->peak_upl, keep, &b) == AT_OK && h->dec_cmp(a, b) <= 0;
}

/* "<trader>/gb/<inst>/<long|short>/<first seen open, ms>" ("gbs" for the
 * shadow book's position) and, for a close tried again after a refusal,
 * "/<try>": one close per position and try, whatever repeats; "gb/" + 28
 * hex digits of its SHA-256 when that is longer than an id may be. */
static bool giveback_id(const trader *t, int book, const tr_symbol *s, bool is_long,
                        int64_t since_ms, int attempt, char out[AT_ID_LEN])
{
    char full[256], nth[16] = "";
    if (attempt > 1) {
        snprintf(nth, sizeof(nth), "/%d", attempt);
    }
    snprintf(full, sizeof(full), "%s/%s/%s/%s/%" PRId64 "%s", t->name,
             book == TR_SHADOW ? "gbs" : "gb", s->name, is_long ? "long" : "short", since_ms, nth);
    size_t n = strlen(full);
    if (n < AT_ID_LEN) {
        memcpy(out, full, n + 1);
        return true;
    }
    char cl[AT_ID_LEN];
    tr_cl_ord_id(full, cl);
    if (!cl[0]) {
        return false;
    }
    snprintf(out, AT_ID_LEN, "gb/%.28s", cl + 2);
    return true;
}

/* How much the watchdog closes, and how: the trader's own contracts from
 * core.ledger (at most the venue's position) with a reduce-only market
 * place, or, when the ledger has no book of it, the whole position with a
 * close-position (said), but never for a trader with a shadow route. False
 * when there is nothing of the trader's to close or the ledger is not read
 * yet (tried again at the next update). */
static bool what_to_close(trader *t, int book, const tr_symbol *s, at_pos_side side, tr_position *q,
                          bool is_long, at_dec *sz, bool *whole)
{
    const at_host *h = t->h;
    const char *dir = is_long ? "long" : "short";
    const char *account = tr_book_account(t, book);
    at_dec venue = q->pos, own;
    venue.m = venue.m < 0 ? -venue.m : venue.m;
    const ledger *lg = t->cfg.ledger;
    if (lg && !ledger_ready(lg)) {
        return false;
    }
    int rc = lg ? ledger_position_of(lg, t->name, account, s->id, side, &own) : AT_ENOENT;
    if (rc != AT_OK && t->shadow_account[0]) {
        /* a trader with a shadow route shares its accounts: the position
         * may be another trader's, never closed whole */
        if (!q->gb_said_none) {
            q->gb_said_none = true;
            h->log(t->inst, AT_LOG_WARN,
                   "giveback: %s %s on %s gave back, but %s: %s has a shadow route, so it closes "
                   "none of it",
                   s->name, dir, account,
                   lg ? "core.ledger books none of it to the trader" : "no ledger", t->name);
        }
        return false;
    }
    if (rc != AT_OK) {
        h->log(t->inst, AT_LOG_WARN,
               "giveback: %s of %s's %s %s: closing the whole position (close_position), "
               "whoever else holds part of it",
               lg ? "core.ledger holds no book" : "no ledger to tell the contracts", t->name,
               s->name, dir);
        *sz = venue;
        *whole = true;
        return true;
    }
    if (!is_long) {
        own.m = -own.m; /* the books are signed: a short's contracts are < 0 */
    }
    if (own.m <= 0) {
        if (!q->gb_said_none) {
            q->gb_said_none = true;
            h->log(t->inst, AT_LOG_WARN,
                   "giveback: %s %s gave back, but core.ledger books none of it to %s: not "
                   "closed",
                   s->name, dir, t->name);
        }
        return false;
    }
    *sz = h->dec_cmp(own, venue) < 0 ? own : venue;
    *whole = false;
    return true;
}

static void close_position(trader *t, int book, size_t sym, at_pos_side side, tr_position *q,
                           bool is_long)
{
    const at_host *h = t->h;
    tr_symbol *s = &t->sym[sym];
    at_ev_order_intent o;
    memset(&o, 0, sizeof(o));
    bool whole;
    if (!what_to_close(t, book, s, side, q, is_long, &o.sz, &whole)) {
        return;
    }
    if (!giveback_id(t, book, s, is_long, q->gb_since_ms, q->gb_tries + 1, o.intent_id)) {
        h->log(t->inst, AT_LOG_ERROR, "giveback: no intent id for %s %s: not closed", s->name,
               is_long ? "long" : "short");
        return;
    }
    tr_cl_ord_id(o.intent_id, o.cl_ord_id);
    snprintf(o.account, sizeof(o.account), "%s", tr_book_account(t, book));
    snprintf(o.origin, sizeof(o.origin), "%s", t->name);
    o.h.inst = s->id;
    o.op = whole ? AT_INTENT_CLOSE_POSITION : AT_INTENT_PLACE;
    o.side = is_long ? AT_SIDE_SELL : AT_SIDE_BUY;
    o.pos_side = side;
    o.ord_type = AT_ORDT_MARKET;
    o.reduce_only = true;
    o.shadow = book == TR_SHADOW || (t->cfg.shadow && !t->shadow_account[0]);
    if (tr_publish_intent(t, &o) != AT_OK) {
        h->log(t->inst, AT_LOG_ERROR,
               "giveback: out of memory: %s %s not closed (tried again "
               "at its next position update)",
               s->name, is_long ? "long" : "short");
        return;
    }
    q->gave_back = true;
    q->gb_tries++;
    snprintf(q->gb_intent, sizeof(q->gb_intent), "%s", o.intent_id);
    t->st.giveback_closes++;
    char u[AT_DEC_STRLEN], p[AT_DEC_STRLEN], g[AT_DEC_STRLEN], lim[AT_DEC_STRLEN],
        back[AT_DEC_STRLEN], all[AT_DEC_STRLEN];
    at_dec lost, pct, venue = q->pos;
    venue.m = venue.m < 0 ? -venue.m : venue.m;
    if (h->dec_sub(q->peak_upl, q->upl, &lost) != AT_OK ||
        h->dec_mul(lost, (at_dec){100, 0}, &lost) != AT_OK ||
        h->dec_div(lost, q->peak_upl, 1, AT_ROUND_HALF_EVEN, &pct) != AT_OK) {
        pct = (at_dec){0, 0};
    }
    at_dec_text(q->upl, u);
    at_dec_text(q->peak_upl, p);
    at_dec_text(pct, back);
    at_dec_text(t->giveback_pct, lim);
    at_dec_text(o.sz, g);
    at_dec_text(venue, all);
    tr_hist *hx = tr_hist_push(t);
    hx->ts_ms = now_ms(t);
    hx->valid = true;
    char why[320], own[16] = "", of[AT_DEC_STRLEN + 8] = "";
    snprintf(why, sizeof(why), "uPnL %s gave back %s %% of its peak %s (giveback_pct %s)", u, back,
             p, lim);
    if (h->dec_cmp(o.sz, venue) < 0) {
        snprintf(own, sizeof(own), "its own ");
        snprintf(of, sizeof(of), " of %s", all);
    }
    snprintf(hx->watchdog, sizeof(hx->watchdog), "giveback watchdog closed %s%.40s %s: %.78s",
             book == TR_SHADOW ? "shadow " : "", s->name, is_long ? "long" : "short", why);
    tr_hist_item *it = &hx->items[hx->n++];
    it->sym = sym;
    it->action = is_long ? AT_ACT_CLOSE_LONG : AT_ACT_CLOSE_SHORT;
    it->size_pct = (at_dec){1, 0};
    snprintf(it->intent_id, sizeof(it->intent_id), "%s", o.intent_id);
    snprintf(it->cl_ord_id, sizeof(it->cl_ord_id), "%s", o.cl_ord_id);
    snprintf(it->outcome, sizeof(it->outcome), "%s", o.shadow ? "shadow: asked" : "asked");
    h->log(t->inst, AT_LOG_WARN, "giveback: closing %s%s %s (%s%s%s contracts, intent %s): %s",
           book == TR_SHADOW ? "shadow " : "", s->name, is_long ? "long" : "short", own, g, of,
           o.intent_id, why);
}

void tr_giveback_on_result(trader *t, const at_ev_order_result *r)
{
    /* a shadow close is refused by design: not a reason to close again */
    if (r->ok || strcmp(r->code, "shadow") == 0 || strcmp(r->code, "unsent") == 0) {
        return;
    }
    /* every position of both books, as (symbol, book, side) */
    for (size_t i = 0; i < t->nsym * TR_BOOKS * 3; i++) {
        tr_symbol *s = &t->sym[i / (TR_BOOKS * 3)];
        size_t k = i % 3;
        tr_position *q = &s->pos[i / 3 % TR_BOOKS][k];
        if (!q->gave_back || !q->gb_intent[0] || strcmp(q->gb_intent, r->intent_id) != 0) {
            continue;
        }
        q->gb_intent[0] = '\0';
        const char *dir = k == AT_POS_SHORT || (k == AT_POS_NET && q->pos.m < 0) ? "short" : "long";
        if (q->gb_tries >= GB_TRIES) {
            t->h->log(t->inst, AT_LOG_ERROR,
                      "giveback: the close of %s %s (intent %s) was refused: %s %s; refused "
                      "%d times: not tried again (its TP/SL on the exchange stay)",
                      s->name, dir, r->intent_id, r->code, r->msg ? r->msg : "", q->gb_tries);
            return;
        }
        q->gave_back = false;
        t->h->log(t->inst, AT_LOG_WARN,
                  "giveback: the close of %s %s (intent %s) was refused: %s %s; closed again "
                  "at its next update if it still gave back",
                  s->name, dir, r->intent_id, r->code, r->msg ? r->msg : "");
        return;
    }
}

/* peak × |pos| / |prev|: the contracts closed took their share of it. */
static at_dec scaled_peak(const trader *t, at_dec peak, at_dec pos, at_dec prev)
{
    const at_host *h = t->h;
    at_dec a, out;
    pos.m = pos.m < 0 ? -pos.m : pos.m;
    prev.m = prev.m < 0 ? -prev.m : prev.m;
    if (h->dec_mul(peak, pos, &a) != AT_OK ||
        h->dec_div(a, prev, 8, AT_ROUND_HALF_EVEN, &out) != AT_OK) {
        return peak; /* does not compute: the amount stays (a close comes sooner, never later) */
    }
    return at_dec_normalize(out);
}

void tr_giveback_on_position(trader *t, int book, size_t sym, at_pos_side side,
                             const tr_position *prev)
{
    tr_symbol *s = &t->sym[sym];
    tr_position *q = &s->pos[book][side];
    if (q->pos.m == 0) {
        return; /* closed: its peak went with it */
    }
    bool is_long = side == AT_POS_LONG || (side == AT_POS_NET && q->pos.m > 0);
    if (prev->pos.m != 0 && (prev->pos.m > 0) == (q->pos.m > 0)) {
        q->peak_upl = prev->peak_upl;
        q->armed = prev->armed;
        q->gave_back = prev->gave_back;
        q->gb_since_ms = prev->gb_since_ms;
        q->gb_tries = prev->gb_tries;
        q->gb_said_none = prev->gb_said_none;
        snprintf(q->gb_intent, sizeof(q->gb_intent), "%s", prev->gb_intent);
        /* Part of it closed (the AI's partial close, a TP/SL leg): what is
         * left is measured against its own share of the peak, not against
         * the peak of contracts that are gone. Grown, the peak stays an
         * amount: the added contracts start at about no uPnL, and scaling
         * would take the add itself for a giveback. */
        at_dec now_abs = q->pos, prev_abs = prev->pos;
        now_abs.m = now_abs.m < 0 ? -now_abs.m : now_abs.m;
        prev_abs.m = prev_abs.m < 0 ? -prev_abs.m : prev_abs.m;
        if (t->h->dec_cmp(now_abs, prev_abs) < 0) {
            q->peak_upl = scaled_peak(t, q->peak_upl, q->pos, prev->pos);
        }
    } else {
        /* new, or a net position that flipped: a new position */
        q->peak_upl = q->upl;
        q->gb_since_ms = prev->pos.m != 0 ? now_ms(t) : q->since_ms;
    }
    if (t->h->dec_cmp(q->upl, q->peak_upl) > 0) {
        q->peak_upl = q->upl;
    }
    if (t->giveback_pct.m <= 0 || q->gave_back || !s->thesis[book][is_long ? 0 : 1].set) {
        return;
    }
    if (!q->armed && arm_level(t, q)) {
        q->armed = true;
        char p[AT_DEC_STRLEN], m[AT_DEC_STRLEN];
        at_dec_text(q->peak_upl, p);
        at_dec_text(q->margin, m);
        t->h->log(t->inst, AT_LOG_INFO, "giveback: watching %s %s (uPnL peak %s, margin %s)",
                  s->name, is_long ? "long" : "short", p, m);
    }
    if (q->armed && gave_back(t, q)) {
        close_position(t, book, sym, side, q, is_long);
    }
}

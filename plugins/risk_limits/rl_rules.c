/* risk_limits' check: what an intent is (an entry, a reduction, a cancel),
 * then the chain of rules in order. Entries go through every rule;
 * reductions and closes only through min_hold, which applies to closes an AI
 * decision asks for (decision_id set): manual closes and the closes other
 * rules make never wait. Cancels always pass. The first rule that rejects
 * answers; resizes are computed together and the smallest cap is named. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "risk_limits.h"

#define HOUR_US 3600000000LL

bool rl_reject(rl_judge *j, rl_rule rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->out->reason, sizeof(j->out->reason), fmt, ap);
    va_end(ap);
    j->out->verdict = AT_VERDICT_REJECT;
    snprintf(j->out->rule, sizeof(j->out->rule), "%s", rl_rule_names[rule]);
    return false;
}

const char *rl_fmt(rl_judge *j, at_dec d)
{
    char *b = j->fmt[j->nfmt++ % 8];
    j->h->dec_format(d, b);
    return b;
}

bool rl_fresh(const rl_judge *j, int64_t at_us, int64_t max_age_ms)
{
    return at_us > 0 && j->now - at_us <= max_age_ms * 1000;
}

/* "12m", "1h 5m", "40s": an age or a wait, for messages. */
static const char *span(char *b, size_t n, int64_t us)
{
    int64_t s = us / 1000000;
    if (s >= 3600) {
        snprintf(b, n, "%lldh %02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    } else if (s >= 60) {
        snprintf(b, n, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    } else {
        snprintf(b, n, "%llds", (long long)s);
    }
    return b;
}

static const char *side_word(int dir)
{
    return dir > 0 ? "long" : "short";
}

static int pos_dir(const rl_pos *p)
{
    return p->side == AT_POS_LONG ? 1 : p->side == AT_POS_SHORT ? -1 : p->pos.m > 0 ? 1 : -1;
}

/* ------------------------------------------------------------ closes */

/* A close or reduction of the position `p` (NULL: none known). Only
 * min_hold may stop it, and only when an AI decision asks. */
static void reduction(rl_judge *j, const rl_pos *p)
{
    const rl_ctx *c = j->c;
    if (!c->set.on[RL_MIN_HOLD] || c->min_hold_ms <= 0 || !j->it->decision_id[0] || !p ||
        p->opened_us <= 0) {
        return;
    }
    int64_t age = j->now - p->opened_us;
    if (age < c->min_hold_ms * 1000) {
        char a[32], w[32], m[32];
        rl_reject(j, RL_MIN_HOLD,
                  "the %s %s position opened %s ago: an AI decision may close it in %s "
                  "(min_hold %s)",
                  side_word(pos_dir(p)), j->inst, span(a, sizeof(a), age),
                  span(w, sizeof(w), c->min_hold_ms * 1000 - age),
                  span(m, sizeof(m), c->min_hold_ms * 1000));
    }
}

/* ------------------------------------------------------------ pace */

static bool pace(rl_judge *j)
{
    rl_ctx *c = j->c;
    const at_ev_order_intent *it = j->it;
    char a[32], b[32];
    if (c->set.on[RL_NO_FLIP]) {
        /* long/short mode (a net position against the entry was a reduction) */
        const rl_pos *o =
            rl_pos_find(c, it->account, it->h.inst, j->dir > 0 ? AT_POS_SHORT : AT_POS_LONG);
        if (o) {
            return rl_reject(j, RL_NO_FLIP,
                             "a %s %s position is open: opening a %s beside it flips the "
                             "instrument; close the %s first",
                             side_word(-j->dir), j->inst, side_word(j->dir), side_word(-j->dir));
        }
        const rl_close *k = rl_close_find(c, it->account, it->h.inst, -j->dir);
        if (k && c->flip_window_ms > 0 && j->now - k->at_us < c->flip_window_ms * 1000) {
            return rl_reject(j, RL_NO_FLIP,
                             "the %s %s position closed %s ago: no %s before flip_window %s "
                             "has passed",
                             side_word(-j->dir), j->inst, span(a, sizeof(a), j->now - k->at_us),
                             side_word(j->dir), span(b, sizeof(b), c->flip_window_ms * 1000));
        }
    }
    if (c->set.on[RL_MAX_POSITIONS]) {
        /* instruments with a position or an entry order of this account */
        at_inst seen[256];
        size_t n = 0;
        bool mine = false;
        for (size_t i = 0; i < c->positions.n + c->orders.n; i++) {
            bool is_pos = i < c->positions.n;
            const char *acct = is_pos ? RL_AT(c->positions, rl_pos, i)->account
                                      : RL_AT(c->orders, rl_order, i - c->positions.n)->account;
            at_inst id = is_pos ? RL_AT(c->positions, rl_pos, i)->inst
                                : RL_AT(c->orders, rl_order, i - c->positions.n)->inst;
            if (strcmp(acct, it->account) != 0) {
                continue;
            }
            mine |= id == it->h.inst;
            size_t k = 0;
            while (k < n && seen[k] != id) {
                k++;
            }
            if (k == n && n < sizeof(seen) / sizeof(seen[0])) {
                seen[n++] = id;
            }
        }
        if (!mine && (int64_t)n >= c->max_positions) {
            return rl_reject(j, RL_MAX_POSITIONS,
                             "%zu instruments already have a position or an entry order on %s "
                             "(max_positions %lld): %s would be one more",
                             n, it->account, (long long)c->max_positions, j->inst);
        }
    }
    size_t hour = 0, cycle = 0;
    int64_t oldest = 0;
    for (size_t i = 0; i < c->opens.n; i++) {
        const rl_open *o = RL_AT(c->opens, rl_open, i);
        if (j->now - o->at_us < HOUR_US && strcmp(o->account, it->account) == 0) {
            if (hour++ == 0) {
                oldest = o->at_us; /* opens are kept oldest first */
            }
        }
        cycle += it->decision_id[0] && strcmp(o->decision_id, it->decision_id) == 0;
    }
    if (c->set.on[RL_OPENS_PER_HOUR] && (int64_t)hour >= c->max_opens_per_hour) {
        return rl_reject(j, RL_OPENS_PER_HOUR,
                         "%zu entries on %s in the last hour (max_opens_per_hour %lld): the next "
                         "one in %s",
                         hour, it->account, (long long)c->max_opens_per_hour,
                         span(a, sizeof(a), oldest + HOUR_US - j->now));
    }
    if (c->set.on[RL_OPENS_PER_CYCLE] && (int64_t)cycle >= c->max_opens_per_cycle) {
        return rl_reject(j, RL_OPENS_PER_CYCLE,
                         "decision %s already opened %zu entries (max_opens_per_cycle %lld)",
                         it->decision_id, cycle, (long long)c->max_opens_per_cycle);
    }
    if (c->set.on[RL_REENTRY_COOLDOWN] && c->reentry_cooldown_ms > 0) {
        const rl_close *k = rl_close_find(c, it->account, it->h.inst, j->dir);
        if (k && j->now - k->at_us < c->reentry_cooldown_ms * 1000) {
            return rl_reject(j, RL_REENTRY_COOLDOWN,
                             "the %s %s position closed %s ago: no new %s before "
                             "reentry_cooldown %s has passed",
                             side_word(j->dir), j->inst, span(a, sizeof(a), j->now - k->at_us),
                             side_word(j->dir), span(b, sizeof(b), c->reentry_cooldown_ms * 1000));
        }
    }
    return true;
}

/* ------------------------------------------------------------ entries */

/* What every sizing rule needs: the instrument, the equity, a price. */
static bool known(rl_judge *j)
{
    rl_ctx *c = j->c;
    const at_ev_order_intent *it = j->it;
    if (!it->h.inst || !j->inst) {
        return rl_reject(j, RL_INSTRUMENT, "the intent names no instrument");
    }
    if (!(j->in = rl_instr_find(c, it->account, it->h.inst))) {
        if (j->now - c->load_us >= 1000000) {
            rl_instruments_load(c); /* an exchange may have written it since */
        }
        return rl_reject(j, RL_INSTRUMENT,
                         "instrument %s unknown: no row in the instruments table (its exchange "
                         "writes it when it comes up)",
                         j->inst);
    }
    if (!j->in->linear) {
        return rl_reject(j, RL_INSTRUMENT,
                         "%s is not a linear contract settled in its quote currency: its "
                         "notional cannot be sized here",
                         j->inst);
    }
    if (!j->in->live) {
        return rl_reject(j, RL_INSTRUMENT, "%s is not live at the exchange (instruments.state)",
                         j->inst);
    }
    const rl_account *a = rl_account_find(c, it->account);
    if (!a) {
        return rl_reject(j, RL_EQUITY, "equity of %s unknown: no BALANCE event yet", it->account);
    }
    if (a->equity.m <= 0) {
        return rl_reject(j, RL_EQUITY, "equity of %s is %s", it->account, rl_fmt(j, a->equity));
    }
    /* Equity moves with the positions' P&L, but venues push it on changes
     * only: a flat account's equity cannot move unseen (and a quiet flat
     * account may be silent for days: entries must not wait for a push only
     * an entry brings), a positioned one's goes stale. */
    if (j->now - a->equity_us > c->equity_max_age_ms * 1000 && rl_has_position(c, it->account)) {
        char b[32], m[32];
        return rl_reject(j, RL_EQUITY,
                         "equity of %s is stale: its newest BALANCE is %s old with a position "
                         "open (equity_max_age %s)",
                         it->account, span(b, sizeof(b), j->now - a->equity_us),
                         span(m, sizeof(m), c->equity_max_age_ms * 1000));
    }
    j->equity = a->equity;
    const rl_market *m = rl_mark_find(c, it->account, it->h.inst);
    if (m && rl_fresh(j, m->mark_us, c->price_max_age_ms)) {
        j->px = m->mark;
        j->px_name = "mark";
        return true;
    }
    m = rl_last_find(c, it->account, it->h.inst);
    if (m && rl_fresh(j, m->last_us, c->price_max_age_ms)) {
        j->px = m->last;
        j->px_name = "last";
        return true;
    }
    char b[32];
    return rl_reject(j, RL_PRICE, "no mark or last price of %s newer than price_max_age %s",
                     j->inst, span(b, sizeof(b), c->price_max_age_ms * 1000));
}

static void entry(rl_judge *j)
{
    const at_ev_order_intent *it = j->it;
    at_dec sz = it->sz;
    if (j->amend) {
        /* only what the amend adds is new exposure */
        j->h->dec_sub(it->sz, j->base, &sz);
    }
    if (!known(j) || (!j->amend && !pace(j)) || !rl_leverage(j)) {
        return;
    }
    at_dec asked = sz;
    if (!rl_size(j, &sz)) {
        return;
    }
    if (j->amend) {
        if (j->h->dec_cmp(sz, asked) < 0) {
            /* the executor resizes only places: an amend is taken whole or not at all */
            j->out->verdict = AT_VERDICT_REJECT;
            char why[sizeof(j->out->reason)];
            snprintf(why, sizeof(why), "an amend is not resized: %.200s", j->out->reason);
            snprintf(j->out->reason, sizeof(j->out->reason), "%s", why);
        }
        return;
    }
    if (!rl_slippage(j, sz) || !rl_deviation(j)) {
        return;
    }
    int rc = rl_entry_approved(j->c, it, j->dir, sz, j->lever);
    if (rc != AT_OK) {
        rl_reject(j, RL_MAX_EXPOSURE,
                  rc == AT_ERANGE ? "more than %d entry orders open: exposure is not counted "
                                    "past that"
                                  : "out of memory counting the entry (%d)",
                  rc == AT_ERANGE ? RL_MAX_ORDERS : rc);
        return;
    }
    if (j->h->dec_cmp(sz, it->sz) < 0) {
        j->out->verdict = AT_VERDICT_RESIZE;
        j->out->sz = sz;
    }
}

/* ------------------------------------------------------------ the check */

static void amend(rl_judge *j)
{
    const rl_order *o = rl_order_for_amend(j->c, j->it);
    if (j->it->sz.m <= 0) {
        return; /* a new price only */
    }
    if (!o) {
        /* Its size is unknown (placed before this start, or a reduction this
         * rule does not follow): growing a resting entry must not pass unseen. */
        rl_reject(j, RL_MAX_EXPOSURE,
                  "order %s is not an entry order open here: a size amend cannot be judged "
                  "(cancel it and place a new order; a price-only amend passes)",
                  j->it->ord_id[0] ? j->it->ord_id : j->it->cl_ord_id);
        return;
    }
    if (j->h->dec_cmp(j->it->sz, o->sz) <= 0) {
        return; /* keeps or reduces the order */
    }
    j->amend = true;
    j->dir = o->dir;
    j->base = o->sz;
    j->base_lever = o->lever;
    entry(j);
}

void rl_check(void *ctx, const at_ev_order_intent *it, at_risk_answer *out)
{
    rl_ctx *c = ctx;
    rl_judge j = {.c = c, .h = c->h, .it = it, .out = out, .now = c->h->now_us()};
    j.inst = it->h.inst ? c->h->inst_name(it->h.inst) : NULL;
    const char *d = j.inst ? strchr(j.inst, '-') : NULL;
    snprintf(j.quote, sizeof(j.quote), "%.*s", d ? (int)strcspn(d + 1, "-") : 0, d ? d + 1 : "");
    out->verdict = AT_VERDICT_APPROVE;
    switch (it->op) {
    case AT_INTENT_CANCEL:
    case AT_INTENT_CANCEL_ALGO:
        return;
    case AT_INTENT_CLOSE_POSITION:
        reduction(&j, rl_pos_find(c, it->account, it->h.inst, it->pos_side));
        return;
    case AT_INTENT_AMEND:
        amend(&j);
        return;
    case AT_INTENT_PLACE:
        break;
    default:
        return; /* the gate refuses unknown ops before any rule */
    }
    bool buy = it->side == AT_SIDE_BUY;
    bool hedge = it->pos_side == AT_POS_LONG || it->pos_side == AT_POS_SHORT;
    if (!at_place_is_entry(it->side, it->pos_side, it->reduce_only)) {
        /* Net mode reduce-only: without a side in long/short mode the venue
         * takes a reduce-only buy as closing the short (okx_order_pos_side). */
        const rl_pos *p = rl_pos_find(c, it->account, it->h.inst, it->pos_side);
        if (!p && !hedge) {
            p = rl_pos_find(c, it->account, it->h.inst, buy ? AT_POS_SHORT : AT_POS_LONG);
        }
        reduction(&j, p);
        return;
    }
    j.dir = hedge ? (it->pos_side == AT_POS_LONG ? 1 : -1) : buy ? 1 : -1;
    /* Net mode without reduce_only: an entry even against the position (the
     * venue may take it past flat); no_flip refuses one that would flip it. */
    const rl_pos *p = hedge ? NULL : rl_pos_find(c, it->account, it->h.inst, AT_POS_NET);
    if (p && pos_dir(p) != j.dir && c->set.on[RL_NO_FLIP]) {
        at_dec held = p->pos;
        held.m = held.m < 0 ? -held.m : held.m;
        if (c->h->dec_cmp(it->sz, held) > 0) {
            rl_reject(&j, RL_NO_FLIP,
                      "%s contracts would turn the %s %s %s position into a %s: close it with "
                      "reduce_only, then open the %s after flip_window",
                      rl_fmt(&j, it->sz), rl_fmt(&j, held), side_word(-j.dir), j.inst,
                      side_word(j.dir), side_word(j.dir));
            return;
        }
    }
    entry(&j);
}

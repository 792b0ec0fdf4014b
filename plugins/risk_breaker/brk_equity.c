/* Equity per account: the UTC day's start, the peak, the two limits, trips
 * and their end, and closing what is open when a trip asks for it.
 *
 * Exact throughout: a limit trips when floor18((ref - eq) / ref) >= limit,
 * ref being the day's start or the peak; the limit has at most 8 decimals, so
 * the comparison at 18 decimals is exact (a loss of exactly 5 % trips a 5 %
 * limit, 4.99999999 % does not). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"

const char *brk_rule_name(brk_rule r)
{
    return r == BRK_DAILY_LOSS ? "daily_loss" : r == BRK_DRAWDOWN ? "drawdown" : "none";
}

brk_account *brk_account_get(breaker *b, const char *name, bool create)
{
    for (size_t i = 0; i < b->nacct; i++) {
        if (strcmp(b->acct[i].name, name) == 0) {
            return &b->acct[i];
        }
    }
    if (!create) {
        return NULL;
    }
    if (b->nacct == BRK_MAX_ACCOUNTS) {
        if (!b->acct_full_logged) {
            b->acct_full_logged = true;
            b->h->log(b->inst, AT_LOG_ERROR,
                      "more than %d accounts: %s and later ones are not followed by the breaker",
                      BRK_MAX_ACCOUNTS, name);
        }
        return NULL;
    }
    brk_account *a = &b->acct[b->nacct++];
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", name);
    return a;
}

void brk_accounts_free(breaker *b)
{
    for (size_t i = 0; i < b->nacct; i++) {
        free(b->acct[i].pos);
        b->acct[i].pos = NULL;
        b->acct[i].npos = b->acct[i].cap = 0;
    }
}

/* Total equity in USD is above zero for an account that can trade: zero, a
 * negative value or a malformed decimal is a venue's glitch, not a loss. */
static bool usable(at_dec eq)
{
    return eq.scale >= 0 && eq.scale <= AT_DEC_MAX_SCALE && eq.m > 0;
}

/* ------------------------------------------------------------ flatten */

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* One close intent per open position and trip. Its id is stable (trip time,
 * account, instrument, side), so publishing it again after a restart is
 * refused as a duplicate rather than sent twice. */
static void close_position(breaker *b, brk_account *a, brk_pos *p)
{
    const at_host *h = b->h;
    if (p->pos.m == 0 || p->flattened_ms == a->trip_ms) {
        return;
    }
    const char *inst = h->inst_name(p->inst);
    char side = p->side == AT_POS_LONG ? 'l' : p->side == AT_POS_SHORT ? 's' : 'n';
    char key[2] = {side, '\0'};
    uint32_t hash = fnv1a(fnv1a(fnv1a(2166136261u, a->name), inst ? inst : "?"), key);
    at_ev_order_intent *e = (at_ev_order_intent *)h->event_new(b->inst, AT_EV_ORDER_INTENT, 0);
    if (!e) {
        brk_alert(b, AT_LOG_ERROR, "flatten: out of memory: %s %s is not closed", a->name,
                  inst ? inst : "?");
        return;
    }
    p->flattened_ms = a->trip_ms;
    snprintf(e->intent_id, sizeof(e->intent_id), BRK_FLATTEN_PREFIX "%lld-%08x-%.20s-%c",
             (long long)a->trip_ms, hash, inst ? inst : "?", side);
    snprintf(e->cl_ord_id, sizeof(e->cl_ord_id), "brk%lld%08x", (long long)a->trip_ms, hash);
    snprintf(e->account, sizeof(e->account), "%s", a->name);
    snprintf(e->origin, sizeof(e->origin), "%s", b->name);
    e->h.inst = p->inst;
    e->op = AT_INTENT_CLOSE_POSITION;
    e->pos_side = p->side;
    e->isolated = p->isolated;
    bool is_short = p->side == AT_POS_SHORT || (p->side == AT_POS_NET && p->pos.m < 0);
    e->side = is_short ? AT_SIDE_BUY : AT_SIDE_SELL;
    e->ord_type = AT_ORDT_MARKET;
    e->sz = p->pos.m < 0 ? (at_dec){-p->pos.m, p->pos.scale} : p->pos;
    e->reduce_only = true;
    char sz[AT_DEC_STRLEN];
    h->dec_format(e->sz, sz);
    h->log(b->inst, AT_LOG_WARN, "flatten: closing %s %s %s (%s contracts) as intent %s", a->name,
           inst ? inst : "?",
           side == 'l'   ? "long"
           : side == 's' ? "short"
                         : "net",
           sz, e->intent_id);
    h->publish(b->inst, &e->h, 0);
}

void brk_flatten(breaker *b, brk_account *a)
{
    if (!b->flatten || a->tripped == BRK_NONE) {
        return;
    }
    for (size_t i = 0; i < a->npos; i++) {
        close_position(b, a, &a->pos[i]);
    }
}

void brk_on_position(breaker *b, const at_ev_position *p)
{
    if (!p->account[0] || !p->h.inst) {
        return;
    }
    brk_account *a = brk_account_get(b, p->account, true);
    if (!a) {
        return;
    }
    size_t i = 0;
    while (i < a->npos && (a->pos[i].inst != p->h.inst || a->pos[i].side != p->pos_side)) {
        i++;
    }
    if (p->pos.m == 0) {
        if (i < a->npos) { /* closed: forget it */
            a->pos[i] = a->pos[--a->npos];
        }
        return;
    }
    if (i == a->npos) {
        if (a->npos == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 8;
            brk_pos *g = cap <= BRK_MAX_POSITIONS ? realloc(a->pos, cap * sizeof(*g)) : NULL;
            if (!g) {
                brk_alert(b, AT_LOG_ERROR,
                          "%s: position %s not followed (%zu followed already, or out of memory): "
                          "flatten would miss it",
                          a->name, b->h->inst_name(p->h.inst), a->npos);
                return;
            }
            a->pos = g;
            a->cap = cap;
        }
        memset(&a->pos[i], 0, sizeof(a->pos[i]));
        a->pos[i].inst = p->h.inst;
        a->pos[i].side = p->pos_side;
        a->npos++;
    }
    a->pos[i].pos = p->pos;
    a->pos[i].isolated = p->isolated;
    /* A position seen while tripped (filled from an order placed before the
     * trip, or pushed after a restart) is closed too. */
    if (b->load == BRK_LOADED && a->tripped != BRK_NONE) {
        brk_flatten(b, a);
    }
}

void brk_on_result(breaker *b, const at_ev_order_result *r)
{
    if (strncmp(r->intent_id, BRK_FLATTEN_PREFIX, strlen(BRK_FLATTEN_PREFIX)) != 0) {
        return;
    }
    if (r->ok) {
        b->h->log(b->inst, AT_LOG_INFO, "flatten: %s on %s done", r->intent_id, r->account);
    } else {
        brk_alert(b, AT_LOG_ERROR, "flatten: %s on %s failed (%s): %s; close it by hand",
                  r->intent_id, r->account, r->code[0] ? r->code : "no code",
                  r->msg ? r->msg : "no message");
    }
}

/* ------------------------------------------------------------ limits */

static void trip(breaker *b, brk_account *a, brk_rule rule, at_dec ref, at_dec loss, at_dec ratio,
                 at_dec limit, int64_t now)
{
    const at_host *h = b->h;
    char pct[AT_DEC_STRLEN], lim[AT_DEC_STRLEN], eq[AT_DEC_STRLEN], l[AT_DEC_STRLEN],
        r[AT_DEC_STRLEN], until[32];
    brk_pct_text(b, ratio, pct);
    brk_pct_text(b, limit, lim);
    h->dec_format(a->last, eq);
    h->dec_format(loss, l);
    h->dec_format(ref, r);
    a->tripped = rule;
    a->trip_ms = now;
    a->until_ms =
        b->until == BRK_UNTIL_COOLDOWN ? now + b->cooldown_ms : (now / BRK_DAY_MS + 1) * BRK_DAY_MS;
    if (rule == BRK_DAILY_LOSS) {
        snprintf(a->reason, sizeof(a->reason),
                 "%s lost %s %% today: equity %s is %s below the day's start %s (limit %s %%)",
                 a->name, pct, eq, l, r, lim);
    } else {
        snprintf(a->reason, sizeof(a->reason),
                 "%s is %s %% below its peak: equity %s is %s below the peak %s (limit %s %%)",
                 a->name, pct, eq, l, r, lim);
    }
    ks_time_text(a->until_ms, until);
    char msg[512];
    snprintf(msg, sizeof(msg), "breaker tripped (%s): %s; no new entries until %s%s",
             brk_rule_name(rule), a->reason, until,
             b->flatten ? "; closing every open position" : " (closes pass)");
    brk_alert(b, AT_LOG_WARN, "%s", msg);
    brk_store(b, "breaker.trip", msg);
    brk_flatten(b, a);
    brk_report(b);
}

/* Trip `rule` when the equity is at least `limit` (a fraction) below `ref`. */
static bool try_trip(breaker *b, brk_account *a, brk_rule rule, at_dec ref, at_dec limit,
                     int64_t now)
{
    const at_host *h = b->h;
    if (limit.m <= 0 || ref.m <= 0 || h->dec_cmp(a->last, ref) >= 0) {
        return false;
    }
    at_dec loss, ratio;
    if (h->dec_sub(ref, a->last, &loss) != AT_OK ||
        h->dec_div(loss, ref, AT_DEC_MAX_SCALE, AT_ROUND_FLOOR, &ratio) != AT_OK) {
        h->log(b->inst, AT_LOG_WARN, "%s: the %s could not be computed (numbers out of range)",
               a->name, brk_rule_name(rule));
        return false;
    }
    if (h->dec_cmp(ratio, limit) < 0) {
        return false;
    }
    trip(b, a, rule, ref, loss, ratio, limit, now);
    return true;
}

void brk_evaluate(breaker *b, brk_account *a, int64_t now)
{
    const at_host *h = b->h;
    if (!a->have_last) {
        return;
    }
    if (!a->have_day) {
        char eq[AT_DEC_STRLEN], msg[160];
        a->have_day = true;
        a->day = now / BRK_DAY_MS;
        a->day_start = a->last;
        h->dec_format(a->last, eq);
        snprintf(msg, sizeof(msg), "%s: first equity seen, %s: the day and the peak start there",
                 a->name, eq);
        h->log(b->inst, AT_LOG_INFO, "%s", msg);
        if (!a->have_peak) {
            a->have_peak = true;
            a->peak = a->last;
        }
        brk_store(b, "breaker.state", msg);
    }
    if (!a->have_peak || h->dec_cmp(a->last, a->peak) > 0) {
        a->have_peak = true;
        a->peak = a->last;
        b->dirty = true;
    }
    if (a->tripped != BRK_NONE) {
        return;
    }
    if (!try_trip(b, a, BRK_DAILY_LOSS, a->day_start, b->daily_frac, now)) {
        try_trip(b, a, BRK_DRAWDOWN, a->peak, b->drawdown_frac, now);
    }
}

void brk_on_equity(breaker *b, brk_account *a, at_dec eq, int64_t now)
{
    const at_host *h = b->h;
    if (!usable(eq)) {
        a->nbad++;
        if (!a->bad) {
            char v[AT_DEC_STRLEN];
            if (eq.scale < 0 || eq.scale > AT_DEC_MAX_SCALE) {
                snprintf(v, sizeof(v), "malformed");
            } else {
                h->dec_format(eq, v);
            }
            a->bad = true;
            h->log(b->inst, AT_LOG_WARN,
                   "%s: total equity %s is not usable (zero, negative or malformed): ignored, "
                   "nothing trips or resets on it",
                   a->name, v);
        }
        return;
    }
    if (a->bad) {
        char v[AT_DEC_STRLEN];
        h->dec_format(eq, v);
        h->log(b->inst, AT_LOG_INFO, "%s: usable equity again (%s) after %llu unusable value%s",
               a->name, v, (unsigned long long)a->nbad, a->nbad == 1 ? "" : "s");
        a->bad = false;
        a->nbad = 0;
    }
    if (b->load == BRK_LOADED) {
        brk_roll_day(b, a, now); /* the day starts at the equity known before this one */
    }
    a->last = eq;
    a->have_last = true;
    a->last_ms = now;
    b->last_dirty = true;
    if (b->load == BRK_LOADED) {
        brk_evaluate(b, a, now);
    }
}

void brk_roll_day(breaker *b, brk_account *a, int64_t now)
{
    int64_t d = now / BRK_DAY_MS;
    if (!a->have_day || d <= a->day) {
        return;
    }
    char was[AT_DEC_STRLEN], is[AT_DEC_STRLEN], msg[200];
    b->h->dec_format(a->day_start, was);
    a->day = d;
    if (a->have_last) {
        a->day_start = a->last;
    }
    b->h->dec_format(a->day_start, is);
    snprintf(msg, sizeof(msg), "%s: a new UTC day starts at equity %s (the last day's start: %s)",
             a->name, is, was);
    b->h->log(b->inst, AT_LOG_INFO, "%s", msg);
    brk_store(b, "breaker.day", msg);
}

void brk_expire(breaker *b, brk_account *a, int64_t now)
{
    if (a->tripped == BRK_NONE || now < a->until_ms) {
        return;
    }
    brk_rule r = a->tripped;
    /* Counted again from here: a loss the trip already answered for does
     * not trip it again at once; a further one of the limit's size does. */
    if (a->have_last) {
        if (r == BRK_DAILY_LOSS) {
            a->day_start = a->last;
        } else {
            a->peak = a->last;
        }
    }
    a->tripped = BRK_NONE;
    char since[32], eq[AT_DEC_STRLEN], msg[400];
    ks_time_text(a->trip_ms, since);
    b->h->dec_format(a->last, eq);
    snprintf(msg, sizeof(msg),
             "breaker reset (%s): %s takes entries again (tripped at %s, %s); the %s counts "
             "from equity %s",
             brk_rule_name(r), a->name, since,
             b->until == BRK_UNTIL_COOLDOWN ? "cool-down over" : "a new UTC day",
             r == BRK_DAILY_LOSS ? "day's loss" : "drawdown", a->have_last ? eq : "unknown");
    brk_alert(b, AT_LOG_INFO, "%s", msg);
    brk_store(b, "breaker.reset", msg);
    brk_report(b);
    brk_evaluate(b, a, now); /* the other limit may still be passed */
}

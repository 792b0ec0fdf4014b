/* Episodic memory: what became of a trader's decisions, told to the AI
 * provider that made them (at_ai_ops.feedback, ABI 1.6) as the trader
 * learns it from the bus — an order's end (filled with its price and fee,
 * or cancelled), an intent refused (the rule and its reason, or the
 * venue's code), and the close of a position a decision opened with its PnL
 * from the ledger. A provider without the op (or built before 1.6) is told
 * nothing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "ledger.h"
#include "trader_internal.h"

#define FB_SEEN 128  /* ends already told, by clOrdId or intent id: states come again */
#define FB_CLOSES 16 /* closes waiting for the ledger; past that the oldest is told at once */
#define FB_POLL_MS 250
#define FB_WAIT_MS 10000 /* the closing fill's booking, at most */

typedef struct fb_close {
    trader *t;
    at_timer *timer; /* NULL: slot free */
    char decision_id[AT_ID_LEN];
    size_t sym;
    int dir; /* 0 long, 1 short */
    bool shadow;
    at_dec entry;
    int64_t opened_ms, closed_ms;
    char reason[VD_TEXT_MAX + 1];
} fb_close;

struct tr_fb {
    char seen[FB_SEEN][AT_ID_LEN];
    size_t nseen, next;
    fb_close closes[FB_CLOSES];
};

static bool has_op(const trader *t)
{
    const at_ai_ops *ops = t->cfg.ai;
    return t->running && ops && AT_STRUCT_HAS(ops->struct_size, at_ai_ops, feedback) &&
           ops->feedback;
}

static struct tr_fb *state(trader *t)
{
    if (!t->fb) {
        t->fb = calloc(1, sizeof(*t->fb));
    }
    return t->fb;
}

/* Whether `id`'s end was told already; remembers it when not. */
static bool seen(trader *t, const char *id)
{
    struct tr_fb *f = state(t);
    if (!f) {
        return true; /* no memory: say nothing rather than twice */
    }
    for (size_t i = 0; i < f->nseen; i++) {
        if (strcmp(f->seen[i], id) == 0) {
            return true;
        }
    }
    snprintf(f->seen[f->next], AT_ID_LEN, "%s", id);
    f->next = (f->next + 1) % FB_SEEN;
    f->nseen += f->nseen < FB_SEEN;
    return false;
}

static void tell(trader *t, const char *decision_id, const char *intent_id, size_t sym,
                 at_ai_feedback_kind kind, const char *text)
{
    at_ai_feedback fb = {.struct_size = sizeof(fb),
                         .trader = t->name,
                         .decision_id = decision_id,
                         .intent_id = intent_id,
                         .symbol = t->sym[sym].name,
                         .kind = kind,
                         .text = text,
                         .ts_ms = t->h->now_us() / 1000};
    t->h->log(t->inst, AT_LOG_DEBUG, "%s: told %s: %s", decision_id, t->ai_name, text);
    t->cfg.ai->feedback(t->cfg.ai_ctx, &fb);
}

static bool same(const char *id, const char *want)
{
    return want && id[0] && strcmp(id, want) == 0;
}

/* The decision item an intent or order came from (its history entry; a
 * close sent to both books has a second, shadow intent). */
static const tr_hist_item *item_of(const trader *t, const char *intent_id, const char *cl_ord_id,
                                   const tr_hist **hx)
{
    for (size_t i = t->hn; i-- > 0;) {
        const tr_hist *x = &t->hist[(t->hstart + i) % TR_HIST_MAX];
        for (size_t k = 0; k < x->n && x->decision_id[0]; k++) {
            const tr_hist_item *it = &x->items[k];
            if (same(it->intent_id, intent_id) || same(it->cl_ord_id, cl_ord_id) ||
                same(it->intent2, intent_id) || same(it->cl2, cl_ord_id)) {
                *hx = x;
                return it;
            }
        }
    }
    return NULL;
}

/* "open_long BTC-USDT-SWAP 0.1 x3" */
static void what(const tr_hist_item *it, const trader *t, char *out, size_t n)
{
    char p[AT_DEC_STRLEN], l[AT_DEC_STRLEN];
    snprintf(out, n, "%s %s %s%s%s", vd_action_name(it->action), t->sym[it->sym].name,
             at_dec_text(it->size_pct, p), it->leverage.m ? " x" : "",
             it->leverage.m ? at_dec_text(it->leverage, l) : "");
}

void tr_feedback_order(trader *t, const at_ev_order *o)
{
    bool filled = o->state == AT_ORD_FILLED;
    bool ended = filled || o->state == AT_ORD_CANCELED || o->state == AT_ORD_MMP_CANCELED;
    const tr_hist *x;
    const tr_hist_item *it;
    if (!ended || !o->cl_ord_id[0] || !has_op(t) || !(it = item_of(t, NULL, o->cl_ord_id, &x)) ||
        seen(t, o->cl_ord_id)) {
        return;
    }
    char w[128], sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN], fee[AT_DEC_STRLEN], asked[AT_DEC_STRLEN];
    char text[400];
    const char *shadow = strcmp(o->account, t->account) != 0 ? "shadow: " : "";
    what(it, t, w, sizeof(w));
    at_dec_text(o->acc_fill_sz, sz);
    at_dec_text(o->avg_px, px);
    at_dec_text(o->fee, fee);
    if (filled) {
        snprintf(text, sizeof(text), "%s%s: filled %s contracts @ %s, fee %s %s", shadow, w, sz, px,
                 fee, o->fee_ccy[0] ? o->fee_ccy : "USDT");
    } else if (o->acc_fill_sz.m > 0) {
        snprintf(text, sizeof(text), "%s%s: %s with %s of %s contracts filled @ %s, fee %s %s",
                 shadow, w, tr_state_name(o->state), sz, at_dec_text(o->sz, asked), px, fee,
                 o->fee_ccy[0] ? o->fee_ccy : "USDT");
    } else {
        snprintf(text, sizeof(text), "%s%s: %s, nothing filled", shadow, w,
                 tr_state_name(o->state));
    }
    tell(t, x->decision_id, same(it->cl2, o->cl_ord_id) ? it->intent2 : it->intent_id, it->sym,
         filled ? AT_AI_FB_FILLED : AT_AI_FB_CANCELED, text);
}

void tr_feedback_result(trader *t, const at_ev_order_result *r)
{
    const tr_hist *x;
    const tr_hist_item *it;
    /* "sent" is told by the order's end; "unsent" is a restart's, not a refusal */
    if (r->ok || strcmp(r->code, "unsent") == 0 || !has_op(t) ||
        !(it = item_of(t, r->intent_id, NULL, &x)) || seen(t, r->intent_id)) {
        return;
    }
    char w[128], text[600];
    what(it, t, w, sizeof(w));
    bool shadow = strcmp(r->code, "shadow") == 0;
    if (shadow) {
        snprintf(text, sizeof(text), "%s: shadow, risk-checked and stored, not sent", w);
    } else if (strcmp(r->code, "risk_rejected") == 0) {
        snprintf(text, sizeof(text), "%s: refused by %s", w, r->msg ? r->msg : "a risk rule");
    } else {
        snprintf(text, sizeof(text), "%s: refused by %s%s%s%s", w, r->account,
                 r->code[0] ? " (code " : "", r->code, r->code[0] ? ")" : "");
        if (r->msg && r->msg[0]) {
            size_t n = strlen(text);
            snprintf(text + n, sizeof(text) - n, ": %s", r->msg);
        }
    }
    tell(t, x->decision_id, r->intent_id, it->sym, shadow ? AT_AI_FB_SHADOW : AT_AI_FB_REJECTED,
         text);
}

/* ------------------------------------------------------------ closes */

static const char *signed_text(at_dec d, char buf[AT_DEC_STRLEN + 1])
{
    buf[0] = '+';
    at_dec_text(d, buf + 1);
    return d.m > 0 ? buf : buf + 1;
}

/* "long BTC-USDT-SWAP (entry 67012.3, opened by this decision for: …)
 * closed after 95 min: PnL +12.4 USDT (realized +14.1, fees -1.7,
 * funding 0)" */
static void close_tell(fb_close *c, bool timed_out)
{
    trader *t = c->t;
    t->h->timer_cancel(c->timer);
    c->timer = NULL;
    if (!has_op(t)) {
        return;
    }
    char e[AT_DEC_STRLEN];
    tbuf b = {0};
    tb_printf(&b, "%s%s %s (entry %s%s%s)", c->shadow ? "shadow: " : "", c->dir ? "short" : "long",
              t->sym[c->sym].name, at_dec_text(c->entry, e),
              c->reason[0] ? ", opened by this decision for: " : "", c->reason);
    if (c->opened_ms > 0 && c->closed_ms >= c->opened_ms) {
        tb_printf(&b, " closed after %" PRId64 " min", (c->closed_ms - c->opened_ms) / 60000);
    } else {
        tb_printf(&b, " closed");
    }
    ledger_outcome lo;
    if (t->cfg.ledger && ledger_outcome_of(t->cfg.ledger, c->decision_id, &lo) == AT_OK) {
        at_dec net = lo.realized;
        t->h->dec_add(net, lo.fees, &net);
        t->h->dec_add(net, lo.funding, &net);
        char n[AT_DEC_STRLEN + 1], r[AT_DEC_STRLEN + 1], f[AT_DEC_STRLEN + 1], g[AT_DEC_STRLEN + 1];
        tb_printf(&b, ": PnL %s USDT (realized %s, fees %s, funding %s)%s", signed_text(net, n),
                  signed_text(lo.realized, r), signed_text(lo.fees, f), signed_text(lo.funding, g),
                  lo.open && timed_out ? ", so far: not all of the decision is closed or booked"
                                       : "");
    } else {
        tb_printf(&b, " (its PnL is not booked)");
    }
    char *text = tb_take(&b);
    if (text) {
        tell(t, c->decision_id, NULL, c->sym, AT_AI_FB_CLOSED, text);
    }
    free(text);
}

static void close_poll(void *arg)
{
    fb_close *c = arg;
    trader *t = c->t;
    ledger_outcome lo;
    bool booked = true; /* no ledger: nothing to wait for */
    if (t->cfg.ledger) {
        booked = ledger_outcome_of(t->cfg.ledger, c->decision_id, &lo) == AT_OK && !lo.open;
    }
    if (booked || t->h->now_us() / 1000 - c->closed_ms >= FB_WAIT_MS) {
        close_tell(c, !booked);
    }
}

void tr_feedback_closed(trader *t, size_t sym, const at_ev_position *p, const tr_position *prev,
                        const tr_thesis th[2])
{
    int dir = p->pos_side == AT_POS_LONG ? 0 : p->pos_side == AT_POS_SHORT ? 1 : prev->pos.m < 0;
    struct tr_fb *f;
    if (prev->pos.m == 0 || p->pos.m != 0 || !th[dir].set || !th[dir].decision_id[0] ||
        !has_op(t) || !(f = state(t))) {
        return;
    }
    /* The closing fill may be booked after this POSITION: the ledger is
     * asked until it has the decision closed, a few seconds at most. */
    fb_close *c = NULL;
    for (size_t i = 0; i < FB_CLOSES && !c; i++) {
        c = f->closes[i].timer ? NULL : &f->closes[i];
    }
    if (!c) {
        fb_close *oldest = &f->closes[0];
        for (size_t i = 1; i < FB_CLOSES; i++) {
            oldest = f->closes[i].closed_ms < oldest->closed_ms ? &f->closes[i] : oldest;
        }
        close_tell(oldest, true);
        c = oldest;
    }
    *c = (fb_close){.t = t,
                    .sym = sym,
                    .dir = dir,
                    .shadow = strcmp(p->account, t->account) != 0,
                    .entry = prev->avg_px,
                    .opened_ms = th[dir].ts_ms,
                    .closed_ms = t->h->now_us() / 1000};
    snprintf(c->decision_id, sizeof(c->decision_id), "%s", th[dir].decision_id);
    snprintf(c->reason, sizeof(c->reason), "%s", th[dir].reason);
    c->timer = t->h->timer_add(t->inst, FB_POLL_MS, FB_POLL_MS, close_poll, c);
    if (!c->timer) {
        close_tell(c, true);
    }
}

void tr_feedback_stop(trader *t)
{
    for (size_t i = 0; t->fb && i < FB_CLOSES; i++) {
        t->h->timer_cancel(t->fb->closes[i].timer);
        t->fb->closes[i].timer = NULL;
    }
}

void tr_feedback_free(trader *t)
{
    tr_feedback_stop(t);
    free(t->fb);
    t->fb = NULL;
}

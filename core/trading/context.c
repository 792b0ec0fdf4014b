/* What a trader knows from the bus: prices, indicators, funding, book
 * imbalance, its account's balance, positions and live orders, news and
 * sentiment, and what became of its own intents (the history and the
 * reasons positions were entered for). context_render.c writes it into the
 * prompt. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latest.h"
#include "decimal.h"
#include "trader_internal.h"

int tr_symbol_index(const trader *t, at_inst id)
{
    for (size_t i = 0; id && i < t->nsym; i++) {
        if (t->sym[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

at_dec tr_price(const trader *t, size_t sym)
{
    return t->sym[sym].last.m > 0 ? t->sym[sym].last : t->sym[sym].mark;
}

int64_t tr_price_ms(const trader *t, size_t sym)
{
    const tr_symbol *s = &t->sym[sym];
    return s->last.m > 0 ? s->last_ms : s->mark.m > 0 ? s->mark_ms : 0;
}

int tr_book_of(const trader *t, const char *account)
{
    if (strcmp(account, t->account) == 0) {
        return TR_LIVE;
    }
    return t->shadow_account[0] && strcmp(account, t->shadow_account) == 0 ? TR_SHADOW : -1;
}

const char *tr_book_account(const trader *t, int book)
{
    return book == TR_SHADOW && t->shadow_account[0] ? t->shadow_account : t->account;
}

/* What happened to an intent of the shadow book says so: the AI must not
 * take a shadow fill for a live one. */
static void book_text(int book, char *text, size_t n)
{
    if (book == TR_SHADOW) {
        char tmp[TR_NOTE_LEN];
        snprintf(tmp, sizeof(tmp), "%s", text);
        snprintf(text, n, "shadow: %.*s", (int)(TR_NOTE_LEN - 9), tmp);
    }
}

/* ------------------------------------------------------------ market */

static void on_ticker(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k >= 0) {
        t->sym[k].last = ((const at_ev_ticker *)e)->last;
        t->sym[k].last_ms = e->ts_us / 1000;
    }
}

static void on_mark(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k >= 0) {
        t->sym[k].mark = ((const at_ev_mark *)e)->mark_px;
        t->sym[k].mark_ms = e->ts_us / 1000;
    }
}

static void on_funding(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k >= 0) {
        t->sym[k].funding = t->h->dec_to_double(((const at_ev_funding *)e)->rate);
        t->sym[k].has_funding = true;
    }
}

/* Book imbalance of the top 5 levels: (bids - asks) / (bids + asks). */
static void on_book(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k < 0) {
        return;
    }
    const at_ev_book *b = (const void *)e;
    double bid = 0, ask = 0;
    for (uint32_t i = 0; i < 5 && i < b->nbids && i < AT_BOOK_DEPTH; i++) {
        bid += t->h->dec_to_double(b->bids[i].sz);
    }
    for (uint32_t i = 0; i < 5 && i < b->nasks && i < AT_BOOK_DEPTH; i++) {
        ask += t->h->dec_to_double(b->asks[i].sz);
    }
    if (bid + ask > 0) {
        t->sym[k].obi = (bid - ask) / (bid + ask);
        t->sym[k].has_obi = true;
    }
}

static void on_indicator(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k < 0) {
        return;
    }
    latest_keep(t->h, t->sym[k].ind, TR_MAX_BARS, (const at_ev_indicator *)e);
}

/* ------------------------------------------------------------ account */

/* Shadow entries are sized from the live equity: a shadow venue holding
 * less sees them resized or refused, and the comparison leans. Said once. */
static void shadow_fair(trader *t)
{
    if (t->shadow_eq_said || !t->has_balance || !t->has_shadow_eq) {
        return;
    }
    t->shadow_eq_said = true; /* the first time both are known: the start's balances */
    if (t->h->dec_cmp(t->shadow_eq, t->total_eq) >= 0) {
        return;
    }
    char se[AT_DEC_STRLEN], le[AT_DEC_STRLEN];
    t->h->dec_format(t->shadow_eq, se);
    t->h->dec_format(t->total_eq, le);
    t->h->log(t->inst, AT_LOG_WARN,
              "the shadow account %s holds %s, less than the live account's %s: shadow entries "
              "are sized from the live equity, so they may be resized or refused there and the "
              "comparison leans (set its balance to at least the live equity)",
              t->shadow_account, se, le);
}

static void on_balance(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_balance *b = (const void *)e;
    /* the live account's: entries are sized from it whatever their route */
    if (tr_book_of(t, b->account) != TR_LIVE) {
        if (tr_book_of(t, b->account) == TR_SHADOW) {
            t->shadow_eq = b->total_eq;
            t->has_shadow_eq = true;
            shadow_fair(t);
        }
        return;
    }
    t->has_balance = true;
    t->total_eq = b->total_eq;
    shadow_fair(t);
    if (!b->ccy[0] || strcmp(b->ccy, "USDT") == 0) {
        t->avail = b->avail;
    }
}

static void set_margin(trader *t, at_inst inst, at_pos_side side, at_dec margin, bool open)
{
    for (size_t i = 0; i < t->nmargins; i++) {
        if (t->margins[i].inst == inst && t->margins[i].side == side) {
            if (open) {
                t->margins[i].margin = margin;
            } else {
                t->margins[i] = t->margins[--t->nmargins];
            }
            return;
        }
    }
    if (open && t->nmargins < TR_MAX_MARGINS) {
        t->margins[t->nmargins++] = (tr_margin){inst, side, margin};
    }
}

static void on_position(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_position *p = (const void *)e;
    int book = tr_book_of(t, p->account);
    if (book < 0 || (unsigned)p->pos_side > AT_POS_SHORT) {
        return;
    }
    bool open = p->pos.m != 0;
    if (p->pos_side != AT_POS_NET) {
        t->pos_mode[book] = TR_MODE_LONG_SHORT;
    } else if (open) {
        t->pos_mode[book] = TR_MODE_NET;
    }
    if (book == TR_LIVE) {
        set_margin(t, e->inst, p->pos_side, p->margin, open); /* the live account's margin */
    }
    int k = tr_symbol_index(t, e->inst);
    if (k < 0) {
        return;
    }
    tr_symbol *s = &t->sym[k];
    tr_position *q = &s->pos[book][p->pos_side];
    tr_position prev = *q;
    bool was_open = q->pos.m != 0;
    *q = (tr_position){.pos = p->pos,
                       .avg_px = p->avg_px,
                       .upl = p->upl,
                       .lever = p->lever,
                       .margin = p->margin,
                       .realized = p->realized_pnl,
                       .since_ms = was_open ? q->since_ms : e->ts_us / 1000};
    tr_feedback_closed(t, (size_t)k, p, &prev, s->thesis[book]);
    /* A position that is gone takes its thesis with it. */
    if (!open) {
        if (p->pos_side != AT_POS_SHORT) {
            s->thesis[book][0].set = false;
        }
        if (p->pos_side != AT_POS_LONG) {
            s->thesis[book][1].set = false;
        }
    }
    tr_giveback_on_position(t, book, (size_t)k, p->pos_side, &prev);
}

const char *tr_state_name(at_ord_state s)
{
    static const char *const n[] = {"unknown", "live",     "partially filled",
                                    "filled",  "canceled", "canceled (mmp)"};
    return (unsigned)s <= AT_ORD_MMP_CANCELED ? n[s] : "unknown";
}

static void on_order(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_order *o = (const void *)e;
    int book = tr_book_of(t, o->account);
    if (book < 0) {
        return;
    }
    bool live = o->state == AT_ORD_LIVE || o->state == AT_ORD_PARTIALLY_FILLED;
    size_t i = 0;
    while (i < t->norders && strcmp(t->orders[i].ord_id, o->ord_id) != 0) {
        i++;
    }
    if (live && tr_symbol_index(t, e->inst) >= 0) {
        if (i == t->norders && t->norders < TR_MAX_ORDERS) {
            t->norders++;
        }
        if (i < t->norders) {
            tr_order *x = &t->orders[i];
            snprintf(x->ord_id, sizeof(x->ord_id), "%s", o->ord_id);
            x->inst = e->inst;
            x->side = o->side;
            x->type = o->ord_type;
            x->state = o->state;
            x->px = o->px;
            x->sz = o->sz;
            x->filled = o->acc_fill_sz;
            x->reduce_only = o->reduce_only;
            x->shadow = book == TR_SHADOW;
        }
    } else if (i < t->norders) {
        t->orders[i] = t->orders[--t->norders];
    }
    if (!o->cl_ord_id[0]) {
        return;
    }
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN], text[TR_NOTE_LEN];
    if (o->acc_fill_sz.m > 0) {
        snprintf(text, sizeof(text), "%s %s @ %s", tr_state_name(o->state),
                 at_dec_text(o->acc_fill_sz, a), at_dec_text(o->avg_px, b));
        tr_thesis_promote(t, o->cl_ord_id);
    } else {
        snprintf(text, sizeof(text), "%s", tr_state_name(o->state));
    }
    book_text(book, text, sizeof(text));
    tr_hist_outcome(t, NULL, o->cl_ord_id, text);
    tr_feedback_order(t, o);
}

static void on_result(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_order_result *r = (const void *)e;
    int book = tr_book_of(t, r->account);
    if (book < 0) {
        return;
    }
    tr_giveback_on_result(t, r);
    char text[TR_NOTE_LEN];
    if (tr_again_result(t, r) && strcmp(r->code, "unsent") == 0) {
        /* a row of a previous run: published again while its decision is
         * recent, its thesis kept */
        tr_hist_outcome(t, r->intent_id, NULL, "not sent before the restart: sending again");
        return;
    }
    if (r->ok) {
        snprintf(text, sizeof(text), "sent");
    } else {
        snprintf(text, sizeof(text), "%s: %.120s",
                 strcmp(r->code, "shadow") == 0 ? "shadow" : "refused", r->msg ? r->msg : "");
        tr_thesis_drop(t, r->intent_id);
    }
    if (strcmp(r->code, "shadow") != 0) {
        book_text(book, text, sizeof(text));
    }
    tr_hist_outcome(t, r->intent_id, NULL, text);
    tr_feedback_result(t, r);
}

/* ------------------------------------------------------------ outside world */

static void on_news(void *arg, const at_event *e)
{
    trader *t = arg;
    tr_news_keep(t, (const at_ev_news *)e, t->h->now_us() / 1000);
}

static void on_sentiment(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_sentiment *s = (const void *)e;
    const char *feed = s->feed ? s->feed : "sentiment";
    size_t i = 0;
    while (i < t->nsent && strcmp(t->sent[i].feed, feed) != 0) {
        i++;
    }
    if (i == t->nsent) {
        if (t->nsent == TR_SENTIMENT) {
            return;
        }
        t->nsent++;
    }
    tr_sentiment *x = &t->sent[i];
    snprintf(x->feed, sizeof(x->feed), "%s", feed);
    snprintf(x->label, sizeof(x->label), "%s", s->label ? s->label : "");
    x->value = s->value;
    x->as_of_ms = s->as_of_ms;
}

int tr_ctx_subscribe(trader *t)
{
    static const struct {
        at_event_type type;
        at_event_cb cb;
    } subs[] = {{AT_EV_TICKER, on_ticker},       {AT_EV_MARK, on_mark},
                {AT_EV_FUNDING, on_funding},     {AT_EV_BOOK, on_book},
                {AT_EV_INDICATOR, on_indicator}, {AT_EV_BALANCE, on_balance},
                {AT_EV_POSITION, on_position},   {AT_EV_ORDER, on_order},
                {AT_EV_ORDER_RESULT, on_result}, {AT_EV_NEWS, on_news},
                {AT_EV_SENTIMENT, on_sentiment}};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        int id = t->h->subscribe(t->inst, subs[i].type, subs[i].cb, t);
        if (id <= 0) {
            return id < 0 ? id : AT_ENOMEM;
        }
        t->subs[t->nsubs++] = id;
    }
    return AT_OK;
}

void tr_ctx_release(trader *t)
{
    for (size_t i = 0; i < t->nsym; i++) {
        latest_release(t->h, t->sym[i].ind, TR_MAX_BARS);
    }
}

/* ------------------------------------------------------------ memory */

tr_hist *tr_hist_push(trader *t)
{
    tr_hist *x = &t->hist[(t->hstart + t->hn) % TR_HIST_MAX];
    if (t->hn == TR_HIST_MAX) {
        t->hstart = (t->hstart + 1) % TR_HIST_MAX;
    } else {
        t->hn++;
    }
    memset(x, 0, sizeof(*x));
    return x;
}

/* "sent" (or "shadow: sent") says less than an order's state, which may
 * come first: it replaces only "asked". */
static void set_outcome(char *outcome, size_t n, const char *text)
{
    bool sent = strcmp(text, "sent") == 0 || strcmp(text, "shadow: sent") == 0;
    if (!sent || strcmp(outcome, "asked") == 0 || strcmp(outcome, "shadow: asked") == 0) {
        snprintf(outcome, n, "%s", text);
    }
}

static bool same(const char *id, const char *want)
{
    return want && id[0] && strcmp(id, want) == 0;
}

void tr_hist_outcome(trader *t, const char *intent_id, const char *cl_ord_id, const char *text)
{
    for (size_t i = t->hn; i-- > 0;) {
        tr_hist *x = &t->hist[(t->hstart + i) % TR_HIST_MAX];
        for (size_t k = 0; k < x->n; k++) {
            tr_hist_item *it = &x->items[k];
            if (same(it->intent_id, intent_id) || same(it->cl_ord_id, cl_ord_id)) {
                set_outcome(it->outcome, sizeof(it->outcome), text);
                return;
            }
            if (same(it->intent2, intent_id) || same(it->cl2, cl_ord_id)) {
                set_outcome(it->outcome2, sizeof(it->outcome2), text);
                return;
            }
        }
    }
}

void tr_pending_add(trader *t, const tr_pending *p)
{
    if (t->npending == TR_PENDING) {
        t->h->log(t->inst, AT_LOG_WARN,
                  "%d entries wait for their first fill: intent %s (clOrdId %s) is forgotten, "
                  "its fill will not set its position's thesis",
                  TR_PENDING, t->pending[0].intent_id, t->pending[0].cl_ord_id);
        memmove(&t->pending[0], &t->pending[1], (TR_PENDING - 1) * sizeof(t->pending[0]));
        t->npending--;
    }
    t->pending[t->npending++] = *p;
}

static void pending_remove(trader *t, size_t i)
{
    memmove(&t->pending[i], &t->pending[i + 1], (t->npending - i - 1) * sizeof(t->pending[0]));
    t->npending--;
}

void tr_thesis_promote(trader *t, const char *cl_ord_id)
{
    for (size_t i = 0; i < t->npending; i++) {
        tr_pending *p = &t->pending[i];
        if (strcmp(p->cl_ord_id, cl_ord_id) == 0) {
            t->sym[p->sym].thesis[p->book][p->dir] = p->thesis;
            t->sym[p->sym].thesis[p->book][p->dir].set = true;
            pending_remove(t, i);
            return;
        }
    }
}

void tr_thesis_drop(trader *t, const char *intent_id)
{
    for (size_t i = 0; i < t->npending; i++) {
        if (strcmp(t->pending[i].intent_id, intent_id) == 0) {
            pending_remove(t, i);
            return;
        }
    }
}

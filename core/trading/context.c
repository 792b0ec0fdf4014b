/* What a trader knows from the bus (prices, indicators, funding, book
 * imbalance, its account's balance, positions and live orders, news and
 * sentiment, what became of its own intents) and how it is written into
 * the prompt: one compact line per fact, numbers as the venue wrote them
 * (exact decimals) or with 6 significant digits (indicators). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trader_internal.h"

static const char *dec(const trader *t, at_dec d, char *buf)
{
    if (t->h->dec_format(d, buf) < 0) {
        snprintf(buf, AT_DEC_STRLEN, "?");
    }
    return buf;
}

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

static bool mine(const trader *t, const char *account)
{
    return strcmp(account, t->account) == 0;
}

/* ------------------------------------------------------------ market */

static void on_ticker(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k >= 0) {
        t->sym[k].last = ((const at_ev_ticker *)e)->last;
    }
}

static void on_mark(void *arg, const at_event *e)
{
    trader *t = arg;
    int k = tr_symbol_index(t, e->inst);
    if (k >= 0) {
        t->sym[k].mark = ((const at_ev_mark *)e)->mark_px;
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
    tr_symbol *s = &t->sym[k];
    const at_ev_indicator *ev = (const void *)e;
    size_t slot = TR_MAX_BARS;
    for (size_t b = 0; b < TR_MAX_BARS && slot == TR_MAX_BARS; b++) {
        if (s->ind[b] && s->ind[b]->bar_s == ev->bar_s) {
            slot = b;
        }
    }
    for (size_t b = 0; b < TR_MAX_BARS && slot == TR_MAX_BARS; b++) {
        if (!s->ind[b]) {
            slot = b;
        }
    }
    if (slot == TR_MAX_BARS) {
        return; /* more bar sizes than kept: the first ones win */
    }
    t->h->event_retain(e);
    if (s->ind[slot]) {
        t->h->event_release(&s->ind[slot]->h);
    }
    s->ind[slot] = ev;
}

/* ------------------------------------------------------------ account */

static void on_balance(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_balance *b = (const void *)e;
    if (!mine(t, b->account)) {
        return;
    }
    t->has_balance = true;
    t->total_eq = b->total_eq;
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
    if (!mine(t, p->account) || (unsigned)p->pos_side > AT_POS_SHORT) {
        return;
    }
    bool open = p->pos.m != 0;
    if (p->pos_side != AT_POS_NET) {
        t->pos_mode = TR_MODE_LONG_SHORT;
    } else if (open) {
        t->pos_mode = TR_MODE_NET;
    }
    set_margin(t, e->inst, p->pos_side, p->margin, open);
    int k = tr_symbol_index(t, e->inst);
    if (k < 0) {
        return;
    }
    tr_symbol *s = &t->sym[k];
    tr_position *q = &s->pos[p->pos_side];
    bool was_open = q->pos.m != 0;
    *q = (tr_position){.pos = p->pos,
                       .avg_px = p->avg_px,
                       .upl = p->upl,
                       .lever = p->lever,
                       .margin = p->margin,
                       .realized = p->realized_pnl,
                       .since_ms = was_open ? q->since_ms : e->ts_us / 1000};
    /* A position that is gone takes its thesis with it. */
    if (!open) {
        if (p->pos_side != AT_POS_SHORT) {
            s->thesis[0].set = false;
        }
        if (p->pos_side != AT_POS_LONG) {
            s->thesis[1].set = false;
        }
    }
}

static const char *state_name(at_ord_state s)
{
    static const char *const n[] = {"unknown", "live",     "partially filled",
                                    "filled",  "canceled", "canceled (mmp)"};
    return (unsigned)s <= AT_ORD_MMP_CANCELED ? n[s] : "unknown";
}

static void on_order(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_order *o = (const void *)e;
    if (!mine(t, o->account)) {
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
        }
    } else if (i < t->norders) {
        t->orders[i] = t->orders[--t->norders];
    }
    if (!o->cl_ord_id[0]) {
        return;
    }
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN], text[TR_NOTE_LEN];
    if (o->acc_fill_sz.m > 0) {
        snprintf(text, sizeof(text), "%s %s @ %s", state_name(o->state), dec(t, o->acc_fill_sz, a),
                 dec(t, o->avg_px, b));
        tr_thesis_promote(t, o->cl_ord_id);
    } else {
        snprintf(text, sizeof(text), "%s", state_name(o->state));
    }
    tr_hist_outcome(t, NULL, o->cl_ord_id, text);
}

static void on_result(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_order_result *r = (const void *)e;
    if (!mine(t, r->account)) {
        return;
    }
    char text[TR_NOTE_LEN];
    if (r->ok) {
        snprintf(text, sizeof(text), "sent");
    } else {
        snprintf(text, sizeof(text), "%s: %.120s",
                 strcmp(r->code, "shadow") == 0 ? "shadow" : "refused", r->msg ? r->msg : "");
        tr_thesis_drop(t, r->intent_id);
    }
    tr_hist_outcome(t, r->intent_id, NULL, text);
}

/* ------------------------------------------------------------ outside world */

static void on_news(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_news *n = (const void *)e;
    if (!n->title) {
        return;
    }
    /* Only news about one of the trader's coins, or about none in particular. */
    if (n->symbols && n->symbols[0]) {
        bool hit = false;
        for (size_t i = 0; i < t->nsym && !hit; i++) {
            char base[24];
            const char *dash = strchr(t->sym[i].name, '-');
            snprintf(base, sizeof(base), "%.*s",
                     dash ? (int)(dash - t->sym[i].name) : (int)strlen(t->sym[i].name),
                     t->sym[i].name);
            hit = strstr(n->symbols, base) != NULL;
        }
        if (!hit) {
            return;
        }
    }
    if (t->nnews == TR_NEWS) {
        memmove(&t->news[0], &t->news[1], (TR_NEWS - 1) * sizeof(t->news[0]));
        t->nnews--;
    }
    tr_news *x = &t->news[t->nnews++];
    x->ts_ms = n->published_ms ? n->published_ms : e->ts_us / 1000;
    snprintf(x->feed, sizeof(x->feed), "%s", n->feed ? n->feed : "news");
    snprintf(x->title, sizeof(x->title), "%s", n->title);
    for (char *p = x->title; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    x->score = n->score;
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
        for (size_t b = 0; b < TR_MAX_BARS; b++) {
            if (t->sym[i].ind[b]) {
                t->h->event_release(&t->sym[i].ind[b]->h);
                t->sym[i].ind[b] = NULL;
            }
        }
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

void tr_hist_outcome(trader *t, const char *intent_id, const char *cl_ord_id, const char *text)
{
    for (size_t i = t->hn; i-- > 0;) {
        tr_hist *x = &t->hist[(t->hstart + i) % TR_HIST_MAX];
        for (size_t k = 0; k < x->n; k++) {
            tr_hist_item *it = &x->items[k];
            if ((intent_id && it->intent_id[0] && strcmp(it->intent_id, intent_id) == 0) ||
                (cl_ord_id && it->cl_ord_id[0] && strcmp(it->cl_ord_id, cl_ord_id) == 0)) {
                /* An order's state (pushed before the REST answer, at
                 * times) says more than "sent": keep it. */
                if (strcmp(text, "sent") != 0 || strcmp(it->outcome, "asked") == 0) {
                    snprintf(it->outcome, sizeof(it->outcome), "%s", text);
                }
                return;
            }
        }
    }
}

void tr_pending_add(trader *t, const tr_pending *p)
{
    if (t->npending == TR_PENDING) {
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
            t->sym[p->sym].thesis[p->dir] = p->thesis;
            t->sym[p->sym].thesis[p->dir].set = true;
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

/* ------------------------------------------------------------ rendering */

static void age(int64_t ms, char *buf, size_t n)
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
    dec(t, d, buf + 1);
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
              dec(t, t->total_eq, e), dec(t, t->avail, a), dec(t, margin, m), use);
    return tb_take(&b);
}

char *tr_render_positions(const trader *t, int64_t now_ms)
{
    tbuf b = {0};
    for (size_t i = 0; i < t->nsym; i++) {
        const tr_symbol *s = &t->sym[i];
        for (int side = AT_POS_NET; side <= AT_POS_SHORT; side++) {
            const tr_position *q = &s->pos[side];
            if (q->pos.m == 0) {
                continue;
            }
            bool is_long = side == AT_POS_LONG || (side == AT_POS_NET && q->pos.m > 0);
            at_dec size = q->pos;
            size.m = size.m < 0 ? -size.m : size.m;
            const tr_thesis *th = &s->thesis[is_long ? 0 : 1];
            char sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN], lv[AT_DEC_STRLEN], u[SIGNED_LEN],
                net[SIGNED_LEN], ag[24];
            at_dec n;
            if (t->h->dec_add(q->upl, q->realized, &n) != AT_OK) {
                n = q->upl;
            }
            age(now_ms - (th->set ? th->ts_ms : q->since_ms), ag, sizeof(ag));
            tb_printf(&b,
                      "%s %s %s contracts @ %s x%s, uPnL %s (%s after fees and funding), held %s%s",
                      s->name, is_long ? "long" : "short", dec(t, size, sz), dec(t, q->avg_px, px),
                      dec(t, q->lever, lv), signed_dec(t, q->upl, u), signed_dec(t, n, net), ag,
                      th->set ? "" : "+");
            if (th->set) {
                char tp[AT_DEC_STRLEN], sl[AT_DEC_STRLEN];
                tb_printf(&b, ", TP %s SL %s; entry reason: %s", dec(t, th->tp, tp),
                          dec(t, th->sl, sl), th->reason);
                if (th->invalidation[0]) {
                    tb_printf(&b, "; invalid if: %s", th->invalidation);
                }
            } else {
                tb_printf(&b, "; not opened by this trader's decisions");
            }
            tb_printf(&b, "\n");
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
        tb_printf(&b, "%s %s %s contracts %s @ %s, %s (filled %s)%s\n", name ? name : "?",
                  o->side == AT_SIDE_BUY ? "buy" : "sell", dec(t, o->sz, sz),
                  (unsigned)o->type < 5 ? types[o->type] : "?", dec(t, o->px, px),
                  state_name(o->state), dec(t, o->filled, f),
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
        age(now_ms - x->ts_ms, ag, sizeof(ag));
        tb_printf(&b, "%s ago: ", ag);
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
                      t->sym[it->sym].name, dec(t, it->size_pct, p));
            if (it->leverage.m) {
                tb_printf(&b, " x%s", dec(t, it->leverage, l));
            }
            tb_printf(&b, " -> %s", it->outcome[0] ? it->outcome : "?");
            any = true;
        }
        tb_printf(&b, "%s\n", any ? "" : "hold");
    }
    if (b.n == 0) {
        tb_printf(&b, "none\n");
    }
    return tb_take(&b);
}

static bool shown(const trader *t, const char *name)
{
    if (t->all_indicators) {
        return true;
    }
    for (size_t i = 0; i < t->cfg.nindicators; i++) {
        if (strcmp(t->cfg.indicators[i], name) == 0) {
            return true;
        }
    }
    return false;
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

char *tr_render_market(const trader *t)
{
    tbuf b = {0};
    for (size_t i = 0; i < t->nsym; i++) {
        const tr_symbol *s = &t->sym[i];
        char l[AT_DEC_STRLEN], m[AT_DEC_STRLEN];
        tb_printf(&b, "%s: last %s, mark %s", s->name, s->last.m ? dec(t, s->last, l) : "?",
                  s->mark.m ? dec(t, s->mark, m) : "?");
        if (s->has_funding) {
            tb_printf(&b, ", funding %.4f%%", 100 * s->funding);
        }
        if (s->has_obi) {
            tb_printf(&b, ", book imbalance %+.2f", s->obi);
        }
        tb_printf(&b, "\n");
        /* bars shortest first */
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
            tb_printf(&b, "  %s:", bar);
            size_t put = 0;
            for (uint32_t v = 0; v < ev->n && v < AT_IND_MAX; v++) {
                if (!isfinite(ev->v[v].value) || !shown(t, ev->v[v].name)) {
                    continue;
                }
                tb_printf(&b, "%s %s %.6g", put ? "," : "", ev->v[v].name, ev->v[v].value);
                put++;
            }
            tb_printf(&b, "%s\n", put ? "" : " warming up");
        }
    }
    return tb_take(&b);
}

char *tr_render_news(const trader *t, int64_t now_ms)
{
    tbuf b = {0};
    if (t->nnews > 0) {
        tb_printf(&b, "News, latest first:\n");
    }
    for (size_t i = t->nnews; i-- > 0;) {
        const tr_news *x = &t->news[i];
        char ag[24];
        age(now_ms - x->ts_ms, ag, sizeof(ag));
        tb_printf(&b, "%s ago [%s] %s", ag, x->feed, x->title);
        if (isfinite(x->score)) {
            tb_printf(&b, " (sentiment %+.2f)", x->score);
        }
        tb_printf(&b, "\n");
    }
    for (size_t i = 0; i < t->nsent; i++) {
        const tr_sentiment *x = &t->sent[i];
        tb_printf(&b, "Sentiment %s: %.4g%s%s%s\n", x->feed, x->value, x->label[0] ? " (" : "",
                  x->label, x->label[0] ? ")" : "");
    }
    return tb_take(&b);
}

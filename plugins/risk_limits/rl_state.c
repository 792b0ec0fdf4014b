/* What risk_limits knows, kept from the bus: equity per account (BALANCE),
 * open positions and when they opened or closed (POSITION), entry orders
 * that may still add exposure (the entries this rule approved, then their
 * ORDER events), the pace of entries (approved entries not refused later:
 * ORDER_RESULT), prices per source and instrument (MARK, TICKER, BOOK).
 * Storage reads are in rl_store.c. Everything is on the main loop; lookups
 * are linear (an account trades a few dozen instruments). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk_limits.h"

#define HOUR_US 3600000000LL
/* An approved entry the venue never mentions again (no ORDER event) stops
 * counting after this: its ORDER_RESULT has come by then in any case. */
#define UNSEEN_ORDER_US (10 * 60 * 1000000LL)

/* ------------------------------------------------------------- vectors */

void rl_vec_init(rl_vec *v, size_t size)
{
    memset(v, 0, sizeof(*v));
    v->size = size;
}

void *rl_vec_push(rl_vec *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *p = realloc(v->v, cap * v->size);
        if (!p) {
            return NULL;
        }
        v->v = p;
        v->cap = cap;
    }
    void *it = (char *)v->v + v->n++ * v->size;
    memset(it, 0, v->size);
    return it;
}

/* Order kept: opens and closes are searched newest last. */
void rl_vec_del(rl_vec *v, size_t i)
{
    char *b = v->v;
    memmove(b + i * v->size, b + (i + 1) * v->size, (v->n - i - 1) * v->size);
    v->n--;
}

void rl_vec_free(rl_vec *v)
{
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

/* ------------------------------------------------------------- lookups */

const rl_account *rl_account_find(const rl_ctx *c, const char *account)
{
    for (size_t i = 0; i < c->accounts.n; i++) {
        const rl_account *a = RL_AT(c->accounts, rl_account, i);
        if (strcmp(a->name, account) == 0) {
            return a;
        }
    }
    return NULL;
}

/* The account's own row when its exchange wrote one; else any exchange's
 * (a paper venue trades OKX's instruments but writes no rows of its own). */
const rl_instr *rl_instr_find(const rl_ctx *c, const char *account, at_inst inst)
{
    const rl_instr *any = NULL;
    for (size_t i = 0; i < c->instrs.n; i++) {
        const rl_instr *r = RL_AT(c->instrs, rl_instr, i);
        if (r->inst == inst) {
            if (strcmp(r->exchange, account) == 0) {
                return r;
            }
            any = any ? any : r;
        }
    }
    return any;
}

/* Prices: the account's own feed when it publishes this instrument (a demo
 * account's prices are its own); else the freshest of any source (a paper
 * venue is priced by another instance's feed). `when` picks the field. */
static const rl_market *market_find(const rl_ctx *c, const char *account, at_inst inst,
                                    int64_t (*when)(const rl_market *))
{
    const rl_market *best = NULL;
    for (size_t i = 0; i < c->markets.n; i++) {
        const rl_market *m = RL_AT(c->markets, rl_market, i);
        if (m->inst != inst || when(m) == 0) {
            continue;
        }
        if (strcmp(m->source, account) == 0) {
            return m;
        }
        if (!best || when(m) > when(best)) {
            best = m;
        }
    }
    return best;
}

static int64_t mark_when(const rl_market *m)
{
    return m->mark_us;
}

static int64_t last_when(const rl_market *m)
{
    return m->last_us;
}

static int64_t book_when(const rl_market *m)
{
    return m->book ? m->book->recv_us ? m->book->recv_us : m->book->h.ts_us : 0;
}

const rl_market *rl_mark_find(const rl_ctx *c, const char *account, at_inst inst)
{
    return market_find(c, account, inst, mark_when);
}

const rl_market *rl_last_find(const rl_ctx *c, const char *account, at_inst inst)
{
    return market_find(c, account, inst, last_when);
}

const rl_market *rl_book_find(const rl_ctx *c, const char *account, at_inst inst)
{
    return market_find(c, account, inst, book_when);
}

rl_pos *rl_pos_find(rl_ctx *c, const char *account, at_inst inst, at_pos_side side)
{
    for (size_t i = 0; i < c->positions.n; i++) {
        rl_pos *p = RL_AT(c->positions, rl_pos, i);
        if (p->inst == inst && p->side == side && strcmp(p->account, account) == 0) {
            return p;
        }
    }
    return NULL;
}

bool rl_has_position(const rl_ctx *c, const char *account)
{
    for (size_t i = 0; i < c->positions.n; i++) {
        if (strcmp(RL_AT(c->positions, rl_pos, i)->account, account) == 0) {
            return true;
        }
    }
    return false;
}

const rl_close *rl_close_find(const rl_ctx *c, const char *account, at_inst inst, int dir)
{
    for (size_t i = c->closes.n; i-- > 0;) {
        const rl_close *k = RL_AT(c->closes, rl_close, i);
        if (k->inst == inst && k->dir == dir && strcmp(k->account, account) == 0) {
            return k;
        }
    }
    return NULL;
}

static rl_order *order_find(rl_ctx *c, const char *account, const char *cl, size_t *at)
{
    for (size_t i = 0; i < c->orders.n; i++) {
        rl_order *o = RL_AT(c->orders, rl_order, i);
        if (strcmp(o->cl_ord_id, cl) == 0 && strcmp(o->account, account) == 0) {
            if (at) {
                *at = i;
            }
            return o;
        }
    }
    return NULL;
}

const rl_order *rl_order_for_amend(const rl_ctx *c, const at_ev_order_intent *it)
{
    for (size_t i = 0; i < c->orders.n; i++) {
        const rl_order *o = RL_AT(c->orders, rl_order, i);
        if (strcmp(o->account, it->account) == 0 &&
            ((it->ord_id[0] && strcmp(o->ord_id, it->ord_id) == 0) ||
             (it->cl_ord_id[0] && strcmp(o->cl_ord_id, it->cl_ord_id) == 0))) {
            return o;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- pace */

static void prune(rl_ctx *c, int64_t now)
{
    while (c->opens.n &&
           (now - RL_AT(c->opens, rl_open, 0)->at_us >= HOUR_US || c->opens.n > RL_MAX_OPENS)) {
        rl_vec_del(&c->opens, 0);
    }
    int64_t keep =
        c->reentry_cooldown_ms > c->flip_window_ms ? c->reentry_cooldown_ms : c->flip_window_ms;
    while (c->closes.n && now - RL_AT(c->closes, rl_close, 0)->at_us >= keep * 1000) {
        rl_vec_del(&c->closes, 0);
    }
    for (size_t i = c->orders.n; i-- > 0;) {
        const rl_order *o = RL_AT(c->orders, rl_order, i);
        if (!o->seen && now - o->touched_us >= UNSEEN_ORDER_US) {
            rl_vec_del(&c->orders, i);
        }
    }
}

bool rl_has_open(const rl_ctx *c, const char *intent_id)
{
    for (size_t i = 0; i < c->opens.n; i++) {
        if (strcmp(RL_AT(c->opens, rl_open, i)->intent_id, intent_id) == 0) {
            return true;
        }
    }
    return false;
}

int rl_entry_approved(rl_ctx *c, const at_ev_order_intent *it, int dir, at_dec sz, at_dec lever)
{
    int64_t now = c->h->now_us();
    prune(c, now);
    if (c->orders.n >= RL_MAX_ORDERS) {
        return AT_ERANGE;
    }
    rl_open *o = rl_vec_push(&c->opens);
    rl_order *w = o ? rl_vec_push(&c->orders) : NULL;
    if (!w) {
        if (o) {
            c->opens.n--;
        }
        return AT_ENOMEM;
    }
    rl_copy_id(o->account, it->account);
    rl_copy_id(o->intent_id, it->intent_id);
    rl_copy_id(o->decision_id, it->decision_id);
    o->inst = it->h.inst;
    o->at_us = now;
    rl_copy_id(w->account, it->account);
    rl_copy_id(w->cl_ord_id, it->cl_ord_id);
    w->inst = it->h.inst;
    w->dir = dir;
    w->sz = sz;
    w->lever = lever;
    w->touched_us = now;
    return AT_OK;
}

/* ------------------------------------------------------------- events */

static rl_market *market_of(rl_ctx *c, const at_event *e)
{
    const char *src = e->source ? e->source : "";
    for (size_t i = 0; i < c->markets.n; i++) {
        rl_market *m = RL_AT(c->markets, rl_market, i);
        if (m->inst == e->inst && strcmp(m->source, src) == 0) {
            return m;
        }
    }
    rl_market *m = rl_vec_push(&c->markets);
    if (m) {
        rl_copy_id(m->source, src);
        m->inst = e->inst;
    }
    return m;
}

static void on_mark(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_mark *k = (const at_ev_mark *)e;
    rl_market *m = e->inst && k->mark_px.m > 0 ? market_of(c, e) : NULL;
    if (m) {
        m->mark = k->mark_px;
        m->index = k->index_px.m > 0 ? k->index_px : (at_dec){0, 0};
        m->mark_us = e->ts_us;
    }
}

static void on_ticker(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_ticker *t = (const at_ev_ticker *)e;
    rl_market *m = e->inst && t->last.m > 0 ? market_of(c, e) : NULL;
    if (m) {
        m->last = t->last;
        m->last_us = e->ts_us;
    }
}

static void on_book(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    rl_market *m = e->inst ? market_of(c, e) : NULL;
    if (m) {
        c->h->event_retain(e);
        if (m->book) {
            c->h->event_release(&m->book->h);
        }
        m->book = (const at_ev_book *)e;
    }
}

static void on_balance(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_balance *b = (const at_ev_balance *)e;
    rl_account *a = (rl_account *)rl_account_find(c, b->account);
    if (!a && (a = rl_vec_push(&c->accounts)) != NULL) {
        rl_copy_id(a->name, b->account);
    }
    if (a) {
        a->equity = b->total_eq;
        a->equity_us = e->ts_us;
    }
}

/* +1 long, -1 short, 0 flat. */
static int pos_dir(at_pos_side side, at_dec pos)
{
    if (pos.m == 0) {
        return 0;
    }
    return side == AT_POS_LONG ? 1 : side == AT_POS_SHORT ? -1 : pos.m > 0 ? 1 : -1;
}

static void closed(rl_ctx *c, const char *account, at_inst inst, int dir, int64_t now)
{
    rl_close *k = rl_vec_push(&c->closes);
    if (k) {
        rl_copy_id(k->account, account);
        k->inst = inst;
        k->dir = dir;
        k->at_us = now;
    }
}

/* Whether this engine asked for the entry a newly seen position comes from
 * (then it opened now; a position found open at start has an unknown age). */
static bool our_entry(const rl_ctx *c, const char *account, at_inst inst)
{
    for (size_t i = 0; i < c->orders.n; i++) {
        const rl_order *o = RL_AT(c->orders, rl_order, i);
        if (o->inst == inst && strcmp(o->account, account) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < c->opens.n; i++) {
        const rl_open *o = RL_AT(c->opens, rl_open, i);
        if (o->inst == inst && strcmp(o->account, account) == 0) {
            return true;
        }
    }
    return false;
}

static void on_position(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_position *p = (const at_ev_position *)e;
    int64_t now = c->h->now_us();
    if (!e->inst || !p->account[0]) {
        return;
    }
    rl_pos *old = rl_pos_find(c, p->account, e->inst, p->pos_side);
    int was = old ? pos_dir(old->side, old->pos) : 0;
    int is = pos_dir(p->pos_side, p->pos);
    if (was && was != is) {
        closed(c, p->account, e->inst, was, now);
    }
    if (is == 0) {
        if (old) {
            rl_vec_del(&c->positions, (size_t)(old - (rl_pos *)c->positions.v));
        }
    } else {
        bool fresh = !old;
        if (!old && (old = rl_vec_push(&c->positions)) != NULL) {
            rl_copy_id(old->account, p->account);
            old->inst = e->inst;
            old->side = p->pos_side;
        }
        if (old) {
            if (fresh) {
                old->opened_us = our_entry(c, p->account, e->inst) ? now : 0;
            } else if (was != is) {
                old->opened_us = now; /* a net position that flipped opened again */
            }
            old->pos = p->pos;
            old->margin = p->margin;
            old->lever = p->lever;
            old->avg_px = p->avg_px;
        }
    }
    /* What the orders of this instrument filled is in this position now. */
    for (size_t i = c->orders.n; i-- > 0;) {
        rl_order *o = RL_AT(c->orders, rl_order, i);
        if (o->inst == e->inst && strcmp(o->account, p->account) == 0) {
            o->absorbed = o->filled;
            if (o->final) {
                rl_vec_del(&c->orders, i);
            }
        }
    }
}

static void on_order(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_order *r = (const at_ev_order *)e;
    const at_host *h = c->h;
    bool final =
        r->state == AT_ORD_FILLED || r->state == AT_ORD_CANCELED || r->state == AT_ORD_MMP_CANCELED;
    size_t at;
    rl_order *o = r->cl_ord_id[0] ? order_find(c, r->account, r->cl_ord_id, &at) : NULL;
    if (!o) {
        /* An entry order placed elsewhere (before this start, another
         * engine): its open part counts too. */
        if (final || !e->inst || !at_place_is_entry(r->side, r->pos_side, r->reduce_only) ||
            !r->cl_ord_id[0] || c->orders.n >= RL_MAX_ORDERS || !(o = rl_vec_push(&c->orders))) {
            return;
        }
        rl_copy_id(o->account, r->account);
        rl_copy_id(o->cl_ord_id, r->cl_ord_id);
        o->inst = e->inst;
        o->dir =
            r->pos_side == AT_POS_SHORT || (r->pos_side == AT_POS_NET && r->side == AT_SIDE_SELL)
                ? -1
                : 1;
        o->filled = o->absorbed = r->acc_fill_sz;
        at = c->orders.n - 1;
    }
    if (r->ord_id[0]) {
        rl_copy_id(o->ord_id, r->ord_id);
    }
    if (r->sz.m > 0) {
        o->sz = r->sz;
    }
    if (h->dec_cmp(r->acc_fill_sz, o->filled) > 0) {
        o->filled = r->acc_fill_sz;
    }
    o->final = o->final || final;
    o->seen = true;
    o->touched_us = h->now_us();
    if (o->final && h->dec_cmp(o->filled, o->absorbed) <= 0) {
        rl_vec_del(&c->orders, at);
    }
}

/* A refusal (by the venue, a later rule, the shadow stop): the entry never
 * happened, so it neither counts against the pace nor adds exposure. */
static void on_result(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_order_result *r = (const at_ev_order_result *)e;
    if (r->ok || r->op != AT_INTENT_PLACE) {
        return;
    }
    for (size_t i = c->opens.n; i-- > 0;) {
        const rl_open *o = RL_AT(c->opens, rl_open, i);
        if (strcmp(o->intent_id, r->intent_id) == 0 && strcmp(o->account, r->account) == 0) {
            rl_vec_del(&c->opens, i);
        }
    }
    size_t at;
    rl_order *o = r->cl_ord_id[0] ? order_find(c, r->account, r->cl_ord_id, &at) : NULL;
    if (o && !o->seen) {
        rl_vec_del(&c->orders, at);
    }
}

/* An exchange that comes up has just written its instruments. */
static void on_status(void *arg, const at_event *e)
{
    rl_ctx *c = arg;
    const at_ev_status *s = (const at_ev_status *)e;
    if (s->state == AT_STATE_UP && strncmp(s->instance, "exchange.", 9) == 0) {
        rl_instruments_load(c);
    }
}

/* ------------------------------------------------------------- lifecycle */

int rl_state_start(rl_ctx *c)
{
    static const struct {
        at_event_type type;
        at_event_cb cb;
    } subs[] = {
        {AT_EV_BALANCE, on_balance}, {AT_EV_POSITION, on_position},   {AT_EV_ORDER, on_order},
        {AT_EV_MARK, on_mark},       {AT_EV_TICKER, on_ticker},       {AT_EV_BOOK, on_book},
        {AT_EV_STATUS, on_status},   {AT_EV_ORDER_RESULT, on_result},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        int id = c->h->subscribe(c->inst, subs[i].type, subs[i].cb, c);
        if (id <= 0) {
            return id < 0 ? id : AT_ENOMEM;
        }
        c->subs[c->nsubs++] = id;
    }
    rl_opens_load(c);
    rl_instruments_load(c);
    c->refresh = c->h->timer_add(c->inst, c->instruments_refresh_ms, c->instruments_refresh_ms,
                                 rl_on_refresh, c);
    return c->refresh ? AT_OK : AT_ENOMEM;
}

void rl_state_stop(rl_ctx *c)
{
    c->stopping = true;
    for (int i = 0; i < c->nsubs; i++) {
        c->h->unsubscribe(c->inst, c->subs[i]);
    }
    c->nsubs = 0;
    c->h->timer_cancel(c->refresh);
    c->refresh = NULL;
}

void rl_state_free(rl_ctx *c)
{
    for (size_t i = 0; i < c->markets.n; i++) {
        rl_market *m = RL_AT(c->markets, rl_market, i);
        if (m->book) {
            c->h->event_release(&m->book->h);
            m->book = NULL;
        }
    }
    rl_vec *all[] = {&c->accounts, &c->positions, &c->closes, &c->markets,
                     &c->instrs,   &c->orders,    &c->opens,  &c->loading};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        rl_vec_free(all[i]);
    }
}

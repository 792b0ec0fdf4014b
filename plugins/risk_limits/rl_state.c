/* What risk_limits knows, kept from the bus and storage: equity per account
 * (BALANCE), open positions and when they opened or closed (POSITION), entry
 * orders that may still add exposure (the entries this rule approved, then
 * their ORDER events), the pace of entries (approved entries not refused by
 * the venue; the last hour's are read back from `orders` at start), prices
 * per source and instrument (MARK, TICKER, BOOK) and the instruments table.
 * Everything is on the main loop; lookups are linear (an account trades a
 * few dozen instruments). */
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

static void copy_id(char dst[AT_ID_LEN], const char *src)
{
    snprintf(dst, AT_ID_LEN, "%s", src ? src : "");
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

static bool has_open(const rl_ctx *c, const char *intent_id)
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
    copy_id(o->account, it->account);
    copy_id(o->intent_id, it->intent_id);
    copy_id(o->decision_id, it->decision_id);
    o->inst = it->h.inst;
    o->at_us = now;
    copy_id(w->account, it->account);
    copy_id(w->cl_ord_id, it->cl_ord_id);
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
        copy_id(m->source, src);
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
        copy_id(a->name, b->account);
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
        copy_id(k->account, account);
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
            copy_id(old->account, p->account);
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

static bool entry_side(at_side side, at_pos_side ps, bool reduce_only)
{
    return !reduce_only && (ps == AT_POS_NET || (ps == AT_POS_LONG && side == AT_SIDE_BUY) ||
                            (ps == AT_POS_SHORT && side == AT_SIDE_SELL));
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
        if (final || !e->inst || !entry_side(r->side, r->pos_side, r->reduce_only) ||
            !r->cl_ord_id[0] || c->orders.n >= RL_MAX_ORDERS || !(o = rl_vec_push(&c->orders))) {
            return;
        }
        copy_id(o->account, r->account);
        copy_id(o->cl_ord_id, r->cl_ord_id);
        o->inst = e->inst;
        o->dir =
            r->pos_side == AT_POS_SHORT || (r->pos_side == AT_POS_NET && r->side == AT_SIDE_SELL)
                ? -1
                : 1;
        o->filled = o->absorbed = r->acc_fill_sz;
        at = c->orders.n - 1;
    }
    if (r->ord_id[0]) {
        copy_id(o->ord_id, r->ord_id);
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

/* ------------------------------------------------------------- storage */

static const char *col_text(const at_db_row *row, size_t i)
{
    return i < row->ncols && row->cols[i].type == AT_DB_TEXT ? row->cols[i].u.s : NULL;
}

static bool col_dec(const rl_ctx *c, const at_db_row *row, size_t i, at_dec *out)
{
    const char *s = col_text(row, i);
    if (i < row->ncols && row->cols[i].type == AT_DB_INT) {
        *out = (at_dec){row->cols[i].u.i, 0};
        return true;
    }
    return s && c->h->dec_parse(s, (size_t)-1, out) == AT_OK;
}

/* "BTC-USDT-SWAP" settled in USDT: linear. */
static bool settles_in_quote(const char *inst_id, const char *settle)
{
    const char *a = strchr(inst_id, '-');
    const char *b = a ? strchr(a + 1, '-') : NULL;
    return settle && b && strlen(settle) == (size_t)(b - a - 1) &&
           strncmp(a + 1, settle, (size_t)(b - a - 1)) == 0;
}

enum { I_EXCHANGE, I_ID, I_CTVAL, I_CTMULT, I_LOT, I_MIN, I_LEVER, I_SETTLE, I_STATE };

static int on_instr_row(void *arg, const at_db_row *row)
{
    rl_ctx *c = arg;
    const char *ex = col_text(row, I_EXCHANGE), *id = col_text(row, I_ID);
    at_dec ctv, mult = {1, 0}, lot, min, lever = {0, 0};
    if (!ex || !id || !col_dec(c, row, I_CTVAL, &ctv) || ctv.m <= 0 ||
        !col_dec(c, row, I_LOT, &lot) || lot.m <= 0 || !col_dec(c, row, I_MIN, &min) || min.m < 0) {
        if (id) {
            c->h->log(c->inst, AT_LOG_WARN,
                      "instrument %s of %s skipped: ct_val, lot_sz or min_sz missing or not a "
                      "positive decimal",
                      id, ex ? ex : "?");
        }
        return 0;
    }
    if (col_dec(c, row, I_CTMULT, &mult) && mult.m > 0 && !(mult.m == 1 && mult.scale == 0) &&
        c->h->dec_mul(ctv, mult, &ctv) != AT_OK) {
        return 0;
    }
    col_dec(c, row, I_LEVER, &lever);
    at_inst inst = c->h->inst_intern(id);
    rl_instr *r = inst ? rl_vec_push(&c->loading) : NULL;
    if (r) {
        copy_id(r->exchange, ex);
        r->inst = inst;
        r->ct_val = ctv;
        r->lot = lot;
        r->min_sz = min;
        r->max_lever = lever.m > 0 ? lever : (at_dec){0, 0};
        const char *st = col_text(row, I_STATE);
        r->live = !st || strcmp(st, "live") == 0;
        r->linear = settles_in_quote(id, col_text(row, I_SETTLE));
    }
    return 0;
}

static void on_instr_done(void *arg, int err, const char *error)
{
    rl_ctx *c = arg;
    c->loading_busy = false;
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_ERROR,
                  "instruments not read (%s): the list read before stays; entries on unknown "
                  "instruments are rejected",
                  error ? error : "storage error");
        c->loading.n = 0;
    } else {
        rl_vec tmp = c->instrs;
        c->instrs = c->loading;
        c->loading = tmp;
        c->loading.n = 0;
        if (!c->instrs_loaded || c->h->log_enabled(AT_LOG_DEBUG)) {
            c->h->log(c->inst, c->instrs_loaded ? AT_LOG_DEBUG : AT_LOG_INFO,
                      "%zu instrument rows read%s", c->instrs.n,
                      c->instrs.n ? "" : " (exchanges write theirs when they come up)");
        }
        c->instrs_loaded = c->instrs.n > 0;
    }
    if (c->reload_wanted && !c->stopping) {
        c->reload_wanted = false;
        rl_instruments_load(c);
    }
}

void rl_instruments_load(rl_ctx *c)
{
    if (c->stopping) {
        return;
    }
    if (c->loading_busy) {
        c->reload_wanted = true; /* rows written after the query in flight began */
        return;
    }
    c->loading.n = 0;
    c->load_us = c->h->now_us();
    c->loading_busy = true; /* before the call: a storage may answer from inside it */
    int rc = c->h->db_query(c->inst,
                            "SELECT exchange, inst_id, ct_val, ct_mult, lot_sz, min_sz, max_lever, "
                            "settle_ccy, state FROM instruments",
                            NULL, 0, on_instr_row, on_instr_done, c);
    if (rc != AT_OK) {
        c->loading_busy = false;
        c->h->log(c->inst, AT_LOG_ERROR,
                  "instruments cannot be read (error %d: no storage?): entries on instruments "
                  "not read before are rejected",
                  rc);
    }
}

static void on_refresh(void *arg)
{
    rl_instruments_load(arg);
}

/* The last hour's entries, so a restart does not reset the pace. */
static int on_open_row(void *arg, const at_db_row *row)
{
    rl_ctx *c = arg;
    const char *acct = col_text(row, 0), *inst = col_text(row, 1), *dec = col_text(row, 2),
               *id = col_text(row, 3);
    if (!acct || !inst || !id || row->ncols < 5 || row->cols[4].type != AT_DB_INT ||
        has_open(c, id)) {
        return 0;
    }
    rl_open *o = rl_vec_push(&c->opens);
    if (o) {
        copy_id(o->account, acct);
        copy_id(o->intent_id, id);
        copy_id(o->decision_id, dec);
        o->inst = c->h->inst_intern(inst);
        o->at_us = row->cols[4].u.i * 1000;
    }
    return 0;
}

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const rl_open *)a)->at_us, y = ((const rl_open *)b)->at_us;
    return x < y ? -1 : x > y;
}

static void on_opens_done(void *arg, int err, const char *error)
{
    rl_ctx *c = arg;
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "the last hour's entries were not read (%s): the pace counts from now",
                  error ? error : "storage error");
    }
    qsort(c->opens.v, c->opens.n, c->opens.size, by_time); /* rows may come after live ones */
}

static void load_opens(rl_ctx *c)
{
    const at_db_value p[] = {AT_DB_B(false), AT_DB_I(c->h->now_us() / 1000 - 3600000)};
    int rc = c->h->db_query(c->inst,
                            "SELECT account, inst_id, decision_id, intent_id, created_ms FROM "
                            "orders WHERE op = 'place' AND reduce_only = $1 AND created_ms >= $2 "
                            "AND state NOT IN ('rejected', 'shadow', 'failed') AND NOT "
                            "((COALESCE(pos_side, 'net') = 'long' AND side = 'sell') OR "
                            "(COALESCE(pos_side, 'net') = 'short' AND side = 'buy')) "
                            "ORDER BY created_ms",
                            p, 2, on_open_row, on_opens_done, c);
    if (rc != AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "the last hour's entries cannot be read (error %d): the pace counts from now",
                  rc);
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
    load_opens(c);
    rl_instruments_load(c);
    c->refresh = c->h->timer_add(c->inst, c->instruments_refresh_ms, c->instruments_refresh_ms,
                                 on_refresh, c);
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

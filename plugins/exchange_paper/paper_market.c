/* The paper venue's market: the sim.h market functions the venue model calls
 * (market_find, market_on_fill …), over instruments from OKX's instrument
 * list and prices from bus events. The book is the top 25 levels of the
 * source's BOOK events; a fill takes liquidity from it until the next one. */
#include <stdlib.h>
#include <string.h>

#include "paper.h"

/* Copy a NUL-terminated string that must fit (the venue's fields are short). */
static bool copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

struct sim_market {
    sim_inst *inst;
    size_t n;
};

sim_market *paper_market_new(const okx_insts *insts, const okx_watch *watch, size_t n)
{
    sim_market *m = calloc(1, sizeof(*m));
    if (!m || !(m->inst = calloc(n ? n : 1, sizeof(*m->inst)))) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const okx_inst *src = watch[i].inst;
        sim_inst *in = &m->inst[m->n];
        if (!copy(in->inst_id, sizeof(in->inst_id), src->inst_id) ||
            !copy(in->uly, sizeof(in->uly), src->uly) ||
            !copy(in->settle_ccy, sizeof(in->settle_ccy), src->settle_ccy) ||
            !copy(in->ct_val_ccy, sizeof(in->ct_val_ccy), src->ct_val_ccy)) {
            memset(in, 0, sizeof(*in));
            continue; /* names too long for the venue model: not traded */
        }
        m->n++;
        /* Linear contracts only (okx_inst refuses to size others): ctVal in
         * base currency times ctMult. */
        in->ct_val = src->ct_val;
        if (src->ct_mult.m != 0 && !(src->ct_mult.m == 1 && src->ct_mult.scale == 0)) {
            at_dec_mul(src->ct_val, src->ct_mult, &in->ct_val);
        }
        in->tick_sz = src->tick_sz;
        in->lot_sz = src->lot_sz;
        in->min_sz = src->min_sz;
        in->max_lmt_sz = src->max_lmt_sz;
        in->max_mkt_sz = src->max_mkt_sz;
        in->max_lever = src->lever > 0 ? src->lever : 100;
        in->inst_id_code = src->inst_id_code;
        in->next_trade_id = 1;
    }
    (void)insts;
    return m;
}

void paper_market_free(sim_market *m)
{
    if (m) {
        free(m->inst);
        free(m);
    }
}

size_t market_ninst(const sim_market *m)
{
    return m->n;
}

sim_inst *market_inst(sim_market *m, size_t i)
{
    return i < m->n ? &m->inst[i] : NULL;
}

sim_inst *market_find(sim_market *m, const char *inst_id)
{
    for (size_t i = 0; inst_id && i < m->n; i++) {
        if (strcmp(m->inst[i].inst_id, inst_id) == 0) {
            return &m->inst[i];
        }
    }
    return NULL;
}

sim_inst *market_find_code(sim_market *m, int64_t code)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->inst[i].inst_id_code == code) {
            return &m->inst[i];
        }
    }
    return NULL;
}

/* Take what a fill consumed from the touched side (best levels first). */
static void take(sim_level *lv, int *n, at_dec px, at_dec sz, bool asks)
{
    while (*n > 0 && sz.m > 0) {
        int c = at_dec_cmp(lv[0].px, px);
        if ((asks && c > 0) || (!asks && c < 0)) {
            break; /* beyond the fill price */
        }
        at_dec left;
        if (at_dec_sub(lv[0].sz, sz, &left) != AT_OK) {
            return;
        }
        if (left.m > 0) {
            lv[0].sz = left;
            return;
        }
        at_dec_sub(sz, lv[0].sz, &sz);
        memmove(lv, lv + 1, (size_t)(*n - 1) * sizeof(*lv));
        (*n)--;
    }
}

void market_on_fill(sim_market *m, sim_inst *in, bool buy, at_dec px, at_dec sz, int64_t now_ms)
{
    (void)m;
    if (buy) {
        take(in->book.asks, &in->book.nasks, px, sz, true);
    } else {
        take(in->book.bids, &in->book.nbids, px, sz, false);
    }
    in->last = px;
    in->last_sz = sz;
    in->last_ts_ms = now_ms;
    sim_trade *t = &in->trades[(in->trade_head + 1) % SIM_TRADES_KEEP];
    in->trade_head = (in->trade_head + 1) % SIM_TRADES_KEEP;
    in->ntrades += in->ntrades < SIM_TRADES_KEEP;
    t->id = in->next_trade_id++;
    t->ts_ms = now_ms;
    t->px = px;
    t->sz = sz;
    t->buy = buy;
}

static void book_from(sim_inst *in, const at_ev_book *b)
{
    in->book_from_books = true;
    in->book.nbids = (int)(b->nbids < AT_BOOK_DEPTH ? b->nbids : AT_BOOK_DEPTH);
    in->book.nasks = (int)(b->nasks < AT_BOOK_DEPTH ? b->nasks : AT_BOOK_DEPTH);
    for (int i = 0; i < in->book.nbids; i++) {
        in->book.bids[i] = (sim_level){b->bids[i].px, b->bids[i].sz, 1};
    }
    for (int i = 0; i < in->book.nasks; i++) {
        in->book.asks[i] = (sim_level){b->asks[i].px, b->asks[i].sz, 1};
    }
    in->book.seq_id = b->seq_id;
    in->book.ts_ms = b->exch_ts_ms;
}

bool paper_market_on_event(sim_market *m, const at_host *h, const at_event *e)
{
    sim_inst *in = e->inst ? market_find(m, h->inst_name(e->inst)) : NULL;
    if (!in) {
        return false;
    }
    switch (e->type) {
    case AT_EV_BOOK:
        book_from(in, (const at_ev_book *)e);
        break;
    case AT_EV_TICKER: {
        const at_ev_ticker *t = (const at_ev_ticker *)e;
        in->last = t->last;
        in->last_sz = t->last_sz;
        in->open24h = t->open24h;
        in->high24h = t->high24h;
        in->low24h = t->low24h;
        in->vol24h = t->vol24h;
        in->last_ts_ms = t->exch_ts_ms;
        if (!in->book_from_books && t->bid.m > 0 && t->ask.m > 0) {
            /* No book subscription: trade against the ticker's top of book,
             * refreshed by every ticker. */
            in->book.bids[0] = (sim_level){t->bid, t->bid_sz, 1};
            in->book.asks[0] = (sim_level){t->ask, t->ask_sz, 1};
            in->book.nbids = in->book.nasks = 1;
        }
        if (in->mark.m == 0) {
            in->mark = in->index = t->last;
        }
        break;
    }
    case AT_EV_MARK: {
        const at_ev_mark *k = (const at_ev_mark *)e;
        in->mark = k->mark_px;
        in->index = k->index_px.m ? k->index_px : k->mark_px;
        break;
    }
    case AT_EV_FUNDING: {
        const at_ev_funding *f = (const at_ev_funding *)e;
        in->funding_rate = f->rate;
        in->funding_time_ms = f->funding_ms;
        break;
    }
    default:
        return false;
    }
    return true;
}

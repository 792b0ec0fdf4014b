/* The JSON of live objects, shared by the REST routes and the /ws feed:
 * OKX's names for exchange data (instId, ordId, bidPx …), decimals as exact
 * strings, times as epoch milliseconds, 0 where it means "none" as null. */
#include <math.h>
#include <string.h>

#include "dash.h"

json_t *dash_json_dec(const dash *d, at_dec v)
{
    char buf[AT_DEC_STRLEN];
    d->h->dec_format(v, buf);
    return json_string(buf);
}

/* A price that 0 means "none" for (liqPx, a market order's px). */
static json_t *dec_or_null(const dash *d, at_dec v)
{
    return v.m ? dash_json_dec(d, v) : json_null();
}

const char *dash_inst_name(const dash *d, at_inst i)
{
    const char *n = i ? d->h->inst_name(i) : NULL;
    return n ? n : "";
}

const char *dash_pos_side_name(at_pos_side s)
{
    return s == AT_POS_LONG ? "long" : s == AT_POS_SHORT ? "short" : "net";
}

const char *dash_state_name(at_ord_state s)
{
    static const char *const names[] = {"unknown", "live",     "partially_filled",
                                        "filled",  "canceled", "mmp_canceled"};
    return (unsigned)s <= AT_ORD_MMP_CANCELED ? names[s] : "unknown";
}

static const char *side_name(at_side s)
{
    return s == AT_SIDE_BUY ? "buy" : s == AT_SIDE_SELL ? "sell" : "";
}

json_t *dash_json_ticker(const dash *d, const dash_ticker *t)
{
    const at_ev_ticker *x = &t->t;
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "instId",
                     dash_inst_name(d, x->h.inst), "source", t->source, "last",
                     dash_json_dec(d, x->last), "lastSz", dash_json_dec(d, x->last_sz), "bidPx",
                     dash_json_dec(d, x->bid), "bidSz", dash_json_dec(d, x->bid_sz), "askPx",
                     dash_json_dec(d, x->ask), "askSz", dash_json_dec(d, x->ask_sz), "open24h",
                     dash_json_dec(d, x->open24h), "high24h", dash_json_dec(d, x->high24h),
                     "low24h", dash_json_dec(d, x->low24h), "vol24h", dash_json_dec(d, x->vol24h),
                     "ts", (json_int_t)(x->exch_ts_ms ? x->exch_ts_ms : x->h.ts_us / 1000));
}

static json_t *levels(const dash *d, const at_level *lv, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n && i < AT_BOOK_DEPTH; i++) {
        json_array_append_new(
            a, json_pack("[o, o]", dash_json_dec(d, lv[i].px), dash_json_dec(d, lv[i].sz)));
    }
    return a;
}

json_t *dash_json_book(const dash *d, const dash_book *b)
{
    const at_ev_book *x = &b->b;
    return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I}", "instId", dash_inst_name(d, x->h.inst),
                     "source", b->source, "bids", levels(d, x->bids, x->nbids), "asks",
                     levels(d, x->asks, x->nasks), "seqId", (json_int_t)x->seq_id, "ts",
                     (json_int_t)(x->exch_ts_ms ? x->exch_ts_ms : x->h.ts_us / 1000));
}

json_t *dash_json_balance(const dash *d, const dash_account *a)
{
    json_t *det = json_array();
    for (size_t i = 0; det && i < a->nbal; i++) {
        const dash_bal *b = &a->bal[i];
        json_array_append_new(det, json_pack("{s:s, s:o, s:o, s:o, s:I}", "ccy", b->ccy, "eq",
                                             dash_json_dec(d, b->eq), "availEq",
                                             dash_json_dec(d, b->avail), "upl",
                                             dash_json_dec(d, b->upl), "ts", (json_int_t)b->ts_ms));
    }
    return json_pack("{s:s, s:o, s:I, s:o}", "account", a->name, "totalEq",
                     a->have_eq ? dash_json_dec(d, a->total_eq) : json_null(), "ts",
                     (json_int_t)a->eq_ts_ms, "details", det ? det : json_array());
}

json_t *dash_json_position(const dash *d, const at_ev_position *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "account",
                     p->account, "instId", dash_inst_name(d, p->h.inst), "posSide",
                     dash_pos_side_name(p->pos_side), "mgnMode", p->isolated ? "isolated" : "cross",
                     "pos", dash_json_dec(d, p->pos), "avgPx", dash_json_dec(d, p->avg_px), "upl",
                     dash_json_dec(d, p->upl), "lever", dash_json_dec(d, p->lever), "liqPx",
                     dec_or_null(d, p->liq_px), "margin", dash_json_dec(d, p->margin),
                     "realizedPnl", dash_json_dec(d, p->realized_pnl), "ts",
                     (json_int_t)(p->exch_ts_ms ? p->exch_ts_ms : p->h.ts_us / 1000));
}

json_t *dash_json_order(const dash *d, const at_ev_order *o)
{
    static const char *const types[] = {"market", "limit", "post_only", "fok", "ioc"};
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, "
                          "s:b, s:I, s:I}",
                          "account", o->account, "instId", dash_inst_name(d, o->h.inst), "ordId",
                          o->ord_id, "clOrdId", o->cl_ord_id, "side", side_name(o->side), "posSide",
                          dash_pos_side_name(o->pos_side), "ordType",
                          (unsigned)o->ord_type < 5 ? types[o->ord_type] : "", "state",
                          dash_state_name(o->state), "px", dec_or_null(d, o->px), "sz",
                          dash_json_dec(d, o->sz), "accFillSz", dash_json_dec(d, o->acc_fill_sz),
                          "avgPx", dec_or_null(d, o->avg_px), "fee", dash_json_dec(d, o->fee),
                          "feeCcy", o->fee_ccy, "reduceOnly", o->reduce_only, "cTime",
                          (json_int_t)o->c_time_ms, "uTime", (json_int_t)o->u_time_ms);
    if (j && o->algo_id[0]) {
        json_object_set_new(j, "algoId", json_string(o->algo_id));
        json_object_set_new(j, "algoClOrdId", json_string(o->algo_cl_ord_id));
    }
    return j;
}

json_t *dash_json_fill(const dash *d, const at_ev_fill *f)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:b, s:I}", "account",
                     f->account, "instId", dash_inst_name(d, f->h.inst), "tradeId", f->trade_id,
                     "ordId", f->ord_id, "clOrdId", f->cl_ord_id, "side", side_name(f->side),
                     "posSide", dash_pos_side_name(f->pos_side), "fillPx", dash_json_dec(d, f->px),
                     "fillSz", dash_json_dec(d, f->sz), "fee", dash_json_dec(d, f->fee), "feeCcy",
                     f->fee_ccy, "maker", f->maker, "ts", (json_int_t)f->exch_ts_ms);
}

/* A model's number: NaN or infinity (a provider's odd answer) is null, as
 * JSON has no such numbers. */
static json_t *num(double v)
{
    return v == v && v - v == 0 ? json_real(v) : json_null();
}

json_t *dash_json_decision(const dash *d, const at_ev_decision *e)
{
    static const char *const acts[] = {"hold", "open_long", "open_short", "close_long",
                                       "close_short"};
    json_t *items = json_array();
    for (uint32_t i = 0; items && i < e->n && i < AT_DECISION_MAX; i++) {
        const at_decision_item *it = &e->items[i];
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s?, s:s?}", "symbol",
                             dash_inst_name(d, it->symbol), "action",
                             (unsigned)it->action <= AT_ACT_CLOSE_SHORT ? acts[it->action] : "?",
                             "sizePct", num(it->size_pct), "leverage", num(it->leverage),
                             "takeProfit", dec_or_null(d, it->take_profit), "stopLoss",
                             dec_or_null(d, it->stop_loss), "confidence", num(it->confidence),
                             "reason", it->reason, "invalidation", it->invalidation));
    }
    return json_pack("{s:s, s:s, s:s, s:s?, s:b, s:s?, s:I, s:I, s:I, s:o, s:s, s:o, s:I}", "id",
                     e->decision_id, "trader", e->trader, "provider", e->provider, "model",
                     e->model, "valid", e->valid, "invalidReason", e->invalid_reason, "latencyMs",
                     (json_int_t)e->latency_ms, "tokensIn", (json_int_t)e->tokens_in, "tokensOut",
                     (json_int_t)e->tokens_out, "costUsd", num(e->cost_usd), "triggerKey",
                     e->trigger_key, "actions", items ? items : json_array(), "createdMs",
                     (json_int_t)(e->h.ts_us / 1000));
}

/* A NEWS event as a row of GET /api/news ("fetchedMs": when it was published
 * on the bus). An LLM score only with its scorer named. */
json_t *dash_json_news(const at_ev_news *n)
{
    bool llm = n->scorer && isfinite(n->llm_score);
    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:o, s:o, s:o, s:s?, s:s?, s:I}",
                     "id", n->id, "feed", n->feed, "title", n->title, "url", n->url, "summary",
                     n->summary, "symbols", n->symbols, "publishedMs", (json_int_t)n->published_ms,
                     "score", num(n->score), "impact", num(n->impact), "llmScore",
                     llm ? num(n->llm_score) : json_null(), "scorer", llm ? n->scorer : NULL,
                     "source", n->h.source, "fetchedMs", (json_int_t)(n->h.ts_us / 1000));
}

/* A SENTIMENT event as a row of GET /api/sentiment. */
json_t *dash_json_sentiment(const at_ev_sentiment *s)
{
    return json_pack("{s:s?, s:I, s:o, s:s?}", "feed", s->feed, "asOfMs", (json_int_t)s->as_of_ms,
                     "value", num(s->value), "label", s->label);
}

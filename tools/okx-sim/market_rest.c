/* okx-sim public endpoints and the data objects of the public WS channels,
 * in OKX's exact shapes: every number a JSON string except instIdCode,
 * seqId (integers); field order as OKX sends it. Validation answers like
 * OKX: 50014 for a missing parameter, 51001 for an unknown instrument,
 * 51000 for a malformed one, all with HTTP 400.
 *
 * The venue only lists SWAP: instType SPOT/MARGIN/FUTURES/OPTION answers an
 * empty list (code "0"), which is what ccxt's loadMarkets expects from a
 * venue without those markets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market_int.h"

#define BOOKS_MAX 400
#define CANDLES_DEFAULT 100
#define CANDLES_MAX 300
#define TRADES_DEFAULT 100
#define TRADES_MAX 500
#define UTC8_MS (8 * 3600000LL)

/* ------------------------------------------------------------ helpers */

static void set_str(json_t *o, const char *key, const char *val)
{
    json_object_set_new(o, key, json_string(val));
}

static void set_dec(json_t *o, const char *key, at_dec d)
{
    json_object_set_new(o, key, sim_dec_json(d));
}

static void set_ms(json_t *o, const char *key, int64_t ms)
{
    json_object_set_new(o, key, sim_ms_json(ms));
}

static void reply_ok(sim_reply *r)
{
    snprintf(r->code, sizeof(r->code), "0");
    r->msg[0] = '\0';
}

static const char *need_param(const sim_call *c, sim_reply *r, const char *key)
{
    const char *v = sim_param_get(c, key);
    if (!v) {
        sim_reply_err(r, 400, "50014", "Parameter %s can not be empty", key);
    }
    return v;
}

static sim_inst *need_inst(sim_market *m, const sim_call *c, sim_reply *r)
{
    const char *id = need_param(c, r, "instId");
    if (!id) {
        return NULL;
    }
    sim_inst *in = market_find(m, id);
    if (!in) {
        sim_reply_err(r, 400, "51001", "Instrument ID does not exist");
    }
    return in;
}

/* 1 = SWAP, 0 = another OKX type (answer []), -1 = error already set. */
static int need_swap(const sim_call *c, sim_reply *r)
{
    static const char *const others[] = {"SPOT", "MARGIN", "FUTURES", "OPTION"};
    const char *t = need_param(c, r, "instType");
    if (!t) {
        return -1;
    }
    if (strcmp(t, "SWAP") == 0) {
        return 1;
    }
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (strcmp(t, others[i]) == 0) {
            return 0;
        }
    }
    sim_reply_err(r, 400, "51000", "Parameter instType error");
    return -1;
}

/* An optional integer parameter in [lo, +inf), clamped to hi; false (and
 * 51000) when malformed. */
static bool int_param(const sim_call *c, sim_reply *r, const char *key, int64_t dflt, int64_t lo,
                      int64_t hi, int64_t *out)
{
    const char *s = sim_param_get(c, key);
    *out = dflt;
    if (!s) {
        return true;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s || v < lo) {
        sim_reply_err(r, 400, "51000", "Parameter %s error", key);
        return false;
    }
    *out = v > hi ? hi : v;
    return true;
}

/* instFamily / uly filters of the list endpoints. */
static bool family_match(const sim_call *c, const sim_inst *in)
{
    const char *fam = sim_param_get(c, "instFamily");
    const char *uly = sim_param_get(c, "uly");
    return (!fam || strcmp(fam, in->uly) == 0) && (!uly || strcmp(uly, in->uly) == 0);
}

/* ------------------------------------------------------------ instruments */

static json_t *inst_json(const sim_inst *in)
{
    char lever[16];
    snprintf(lever, sizeof(lever), "%d", in->max_lever);
    json_t *o = json_object();
    set_str(o, "alias", "");
    set_str(o, "auctionEndTime", "");
    set_str(o, "baseCcy", "");
    set_str(o, "category", "1");
    set_str(o, "contTdSwTime", "");
    set_str(o, "ctMult", "1");
    set_str(o, "ctType", "linear");
    set_dec(o, "ctVal", in->ct_val);
    set_str(o, "ctValCcy", in->ct_val_ccy);
    set_str(o, "expTime", "");
    json_object_set_new(o, "futureSettlement", json_false());
    set_str(o, "groupId", "1");
    set_str(o, "instFamily", in->uly);
    set_str(o, "instId", in->inst_id);
    json_object_set_new(o, "instIdCode", json_integer((json_int_t)in->inst_id_code));
    set_str(o, "instType", "SWAP");
    set_str(o, "lever", lever);
    set_ms(o, "listTime", in->list_time_ms);
    set_dec(o, "lotSz", in->lot_sz);
    set_dec(o, "maxIcebergSz", in->max_lmt_sz);
    set_str(o, "maxLmtAmt", "20000000");
    set_dec(o, "maxLmtSz", in->max_lmt_sz);
    set_str(o, "maxMktAmt", "");
    set_dec(o, "maxMktSz", in->max_mkt_sz);
    set_str(o, "maxPlatOILmt", "");
    set_dec(o, "maxStopSz", in->max_mkt_sz);
    set_dec(o, "maxTriggerSz", in->max_lmt_sz);
    set_dec(o, "maxTwapSz", in->max_lmt_sz);
    set_dec(o, "minSz", in->min_sz);
    set_str(o, "openType", "");
    set_str(o, "optType", "");
    set_str(o, "posLmtAmt", "");
    set_str(o, "posLmtPct", "");
    set_str(o, "preMktSwTime", "");
    set_str(o, "quoteCcy", "");
    set_str(o, "ruleType", "normal");
    set_str(o, "settleCcy", in->settle_ccy);
    set_str(o, "state", "live");
    set_str(o, "stk", "");
    set_dec(o, "tickSz", in->tick_sz);
    json_object_set_new(o, "tradeQuoteCcyList", json_array());
    set_str(o, "uly", in->uly);
    json_object_set_new(o, "upcChg", json_array());
    return o;
}

void market_instruments(sim_market *m, const sim_call *c, sim_reply *r)
{
    int swap = need_swap(c, r);
    if (swap < 0) {
        return;
    }
    reply_ok(r);
    if (swap == 0) {
        return;
    }
    const char *id = sim_param_get(c, "instId");
    if (id && !market_find(m, id)) {
        sim_reply_err(r, 400, "51001", "Instrument ID does not exist");
        return;
    }
    for (size_t i = 0; i < m->ninst; i++) {
        const sim_inst *in = &m->inst[i];
        if ((!id || strcmp(id, in->inst_id) == 0) && family_match(c, in)) {
            sim_reply_add(r, inst_json(in));
        }
    }
}

/* ------------------------------------------------------------ tickers */

json_t *market_ticker_json(const sim_inst *in)
{
    const sim_book *b = &in->book;
    json_t *o = json_object();
    set_str(o, "instType", "SWAP");
    set_str(o, "instId", in->inst_id);
    set_dec(o, "last", in->last);
    set_dec(o, "lastSz", in->last_sz);
    if (b->nasks) {
        set_dec(o, "askPx", b->asks[0].px);
        set_dec(o, "askSz", b->asks[0].sz);
    } else {
        set_str(o, "askPx", "");
        set_str(o, "askSz", "");
    }
    if (b->nbids) {
        set_dec(o, "bidPx", b->bids[0].px);
        set_dec(o, "bidSz", b->bids[0].sz);
    } else {
        set_str(o, "bidPx", "");
        set_str(o, "bidSz", "");
    }
    set_dec(o, "open24h", in->open24h);
    set_dec(o, "high24h", in->high24h);
    set_dec(o, "low24h", in->low24h);
    set_dec(o, "volCcy24h", in->vol_ccy24h);
    set_dec(o, "vol24h", in->vol24h);
    set_dec(o, "sodUtc0", in->sod_utc0);
    set_dec(o, "sodUtc8", in->sod_utc8);
    set_ms(o, "ts", in->last_ts_ms);
    return o;
}

void market_ticker(sim_market *m, const sim_call *c, sim_reply *r)
{
    sim_inst *in = need_inst(m, c, r);
    if (in) {
        reply_ok(r);
        sim_reply_add(r, market_ticker_json(in));
    }
}

void market_tickers(sim_market *m, const sim_call *c, sim_reply *r)
{
    int swap = need_swap(c, r);
    if (swap < 0) {
        return;
    }
    reply_ok(r);
    for (size_t i = 0; swap && i < m->ninst; i++) {
        if (family_match(c, &m->inst[i])) {
            sim_reply_add(r, market_ticker_json(&m->inst[i]));
        }
    }
}

/* ------------------------------------------------------------ books */

static json_t *levels_json(const sim_level *lv, int n)
{
    json_t *a = json_array();
    for (int k = 0; k < n; k++) {
        char orders[16];
        snprintf(orders, sizeof(orders), "%d", lv[k].orders);
        json_t *row = json_array();
        json_array_append_new(row, sim_dec_json(lv[k].px));
        json_array_append_new(row, sim_dec_json(lv[k].sz));
        json_array_append_new(row, json_string("0")); /* deprecated field, always "0" */
        json_array_append_new(row, json_string(orders));
        json_array_append_new(a, row);
    }
    return a;
}

json_t *market_book_json(const sim_inst *in, int depth, bool with_inst)
{
    const sim_book *b = &in->book;
    int na = depth > 0 && depth < b->nasks ? depth : b->nasks;
    int nb = depth > 0 && depth < b->nbids ? depth : b->nbids;
    json_t *o = json_object();
    json_object_set_new(o, "asks", levels_json(b->asks, na));
    json_object_set_new(o, "bids", levels_json(b->bids, nb));
    if (with_inst) {
        set_str(o, "instId", in->inst_id);
    }
    set_ms(o, "ts", b->ts_ms);
    json_object_set_new(o, "seqId", json_integer((json_int_t)b->seq_id));
    return o;
}

void market_books(sim_market *m, const sim_call *c, sim_reply *r)
{
    int64_t sz;
    sim_inst *in = need_inst(m, c, r);
    if (!in || !int_param(c, r, "sz", 1, 1, BOOKS_MAX, &sz)) {
        return;
    }
    reply_ok(r);
    sim_reply_add(r, market_book_json(in, (int)sz, false));
}

/* ------------------------------------------------------------ candles */

typedef struct bar_def {
    const char *name;
    int64_t ms;
    int64_t origin; /* bucket boundaries at origin + k * ms */
} bar_def;

/* 6H and longer default to Hong Kong time (UTC+8) on OKX; "utc" variants and
 * the shorter bars (whose boundaries coincide) align to UTC. */
static const bar_def BARS[] = {
    {"1m", 60000LL, 0},           {"3m", 180000LL, 0},
    {"5m", 300000LL, 0},          {"15m", 900000LL, 0},
    {"30m", 1800000LL, 0},        {"1H", 3600000LL, 0},
    {"2H", 7200000LL, 0},         {"4H", 14400000LL, 0},
    {"6H", 21600000LL, -UTC8_MS}, {"12H", 43200000LL, -UTC8_MS},
    {"1D", 86400000LL, -UTC8_MS}, {"6Hutc", 21600000LL, 0},
    {"12Hutc", 43200000LL, 0},    {"1Dutc", 86400000LL, 0},
};

static const bar_def *bar_find(const char *bar)
{
    for (size_t i = 0; bar && i < sizeof(BARS) / sizeof(BARS[0]); i++) {
        if (strcmp(BARS[i].name, bar) == 0) {
            return &BARS[i];
        }
    }
    return NULL;
}

int64_t market_bar_ms(const char *bar)
{
    const bar_def *b = bar_find(bar);
    return b ? b->ms : 0;
}

static const sim_candle *candle_back(const sim_inst *in, int back)
{
    return &in->candles[(in->candle_head - back + SIM_CANDLE_KEEP) % SIM_CANDLE_KEEP];
}

/* Aggregate the 1m candles inside [start, start + bar). */
static bool aggregate(const sim_inst *in, int64_t start, int64_t bar_ms, sim_candle *out)
{
    const sim_candle *head = candle_back(in, 0);
    bool any = false, err = false;
    for (int64_t t = start; t < start + bar_ms && t <= head->ts_ms; t += MKT_MINUTE_MS) {
        int64_t back = (head->ts_ms - t) / MKT_MINUTE_MS;
        if (back >= in->ncandles) {
            continue;
        }
        const sim_candle *c = candle_back(in, (int)back);
        if (!any) {
            *out = *c;
            any = true;
            continue;
        }
        out->h = at_dec_cmp(c->h, out->h) > 0 ? c->h : out->h;
        out->l = at_dec_cmp(c->l, out->l) < 0 ? c->l : out->l;
        out->c = c->c;
        out->vol = sim_add(out->vol, c->vol, &err);
        out->vol_ccy = sim_add(out->vol_ccy, c->vol_ccy, &err);
        out->vol_quote = sim_add(out->vol_quote, c->vol_quote, &err);
    }
    return any;
}

json_t *market_candle_row(const sim_inst *in, const char *bar, int back)
{
    const bar_def *b = bar_find(bar);
    if (!b || in->ncandles == 0 || back < 0) {
        return NULL;
    }
    int64_t newest = candle_back(in, 0)->ts_ms;
    int64_t start = mkt_floor_div(newest - b->origin, b->ms) * b->ms + b->origin;
    start -= (int64_t)back * b->ms;
    sim_candle c;
    if (!aggregate(in, start, b->ms, &c)) {
        return NULL;
    }
    json_t *row = json_array();
    json_array_append_new(row, sim_ms_json(start));
    json_array_append_new(row, sim_dec_json(c.o));
    json_array_append_new(row, sim_dec_json(c.h));
    json_array_append_new(row, sim_dec_json(c.l));
    json_array_append_new(row, sim_dec_json(c.c));
    json_array_append_new(row, sim_dec_json(c.vol));
    json_array_append_new(row, sim_dec_json(c.vol_ccy));
    json_array_append_new(row, sim_dec_json(c.vol_quote));
    /* Only the bar holding the newest minute is still open. */
    json_array_append_new(row, json_string(back > 0 ? "1" : "0"));
    return row;
}

void market_candles(sim_market *m, const sim_call *c, sim_reply *r)
{
    int64_t limit, after, before;
    sim_inst *in = need_inst(m, c, r);
    if (!in) {
        return;
    }
    const char *bar = sim_param_get(c, "bar");
    bar = bar ? bar : "1m";
    if (!bar_find(bar)) {
        sim_reply_err(r, 400, "51000", "Parameter bar error");
        return;
    }
    if (!int_param(c, r, "limit", CANDLES_DEFAULT, 1, CANDLES_MAX, &limit) ||
        !int_param(c, r, "after", INT64_MAX, 0, INT64_MAX, &after) ||
        !int_param(c, r, "before", -1, 0, INT64_MAX, &before)) {
        return;
    }
    reply_ok(r);
    int64_t n = 0;
    json_t *row;
    /* Newest first: `after` = older than ts (paging back), `before` =
     * newer than ts. */
    for (int back = 0; n < limit && (row = market_candle_row(in, bar, back)); back++) {
        int64_t ts = strtoll(json_string_value(json_array_get(row, 0)), NULL, 10);
        if (ts <= before) {
            json_decref(row);
            break;
        }
        if (ts >= after) {
            json_decref(row);
            continue;
        }
        sim_reply_add(r, row);
        n++;
    }
}

/* ------------------------------------------------------------ trades */

json_t *market_trade_json(const sim_inst *in, const sim_trade *t)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    json_t *o = json_object();
    set_str(o, "instId", in->inst_id);
    set_str(o, "tradeId", id);
    set_dec(o, "px", t->px);
    set_dec(o, "sz", t->sz);
    set_str(o, "side", t->buy ? "buy" : "sell");
    set_ms(o, "ts", t->ts_ms);
    set_str(o, "count", "1");
    set_str(o, "source", "0");
    return o;
}

/* REST order: instId, side, sz, px, source, tradeId, ts. */
static json_t *rest_trade_json(const sim_inst *in, const sim_trade *t)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    json_t *o = json_object();
    set_str(o, "instId", in->inst_id);
    set_str(o, "side", t->buy ? "buy" : "sell");
    set_dec(o, "sz", t->sz);
    set_dec(o, "px", t->px);
    set_str(o, "source", "0");
    set_str(o, "tradeId", id);
    set_ms(o, "ts", t->ts_ms);
    return o;
}

void market_trades(sim_market *m, const sim_call *c, sim_reply *r)
{
    int64_t limit;
    sim_inst *in = need_inst(m, c, r);
    if (!in || !int_param(c, r, "limit", TRADES_DEFAULT, 1, TRADES_MAX, &limit)) {
        return;
    }
    reply_ok(r);
    for (int k = 0; k < in->ntrades && k < limit; k++) {
        const sim_trade *t = &in->trades[(in->trade_head - k + SIM_TRADES_KEEP) % SIM_TRADES_KEEP];
        sim_reply_add(r, rest_trade_json(in, t));
    }
}

/* ------------------------------------------------------------ funding, mark */

json_t *market_funding_json(const sim_inst *in)
{
    bool err = false;
    at_dec settled = mkt_funding_rate_for(in, in->funding_time_ms - MKT_FUNDING_MS);
    at_dec premium = sim_sub(in->funding_rate, sim_dec_lit("0.0001"), &err);
    json_t *o = json_object();
    set_str(o, "formulaType", "noRate");
    set_dec(o, "fundingRate", in->funding_rate);
    set_ms(o, "fundingTime", in->funding_time_ms);
    set_str(o, "impactValue", "");
    set_str(o, "instId", in->inst_id);
    set_str(o, "instType", "SWAP");
    set_str(o, "interestRate", "");
    set_str(o, "maxFundingRate", "0.00375");
    set_str(o, "method", "current_period");
    set_str(o, "minFundingRate", "-0.00375");
    set_str(o, "nextFundingRate", "");
    set_ms(o, "nextFundingTime", in->funding_time_ms + MKT_FUNDING_MS);
    set_dec(o, "premium", premium);
    set_dec(o, "settFundingRate", settled);
    set_str(o, "settState", "settled");
    set_ms(o, "ts", in->last_ts_ms);
    return o;
}

void market_funding_rate(sim_market *m, const sim_call *c, sim_reply *r)
{
    const char *id = sim_param_get(c, "instId");
    if (id && strcmp(id, "ANY") == 0) {
        reply_ok(r);
        for (size_t i = 0; i < m->ninst; i++) {
            sim_reply_add(r, market_funding_json(&m->inst[i]));
        }
        return;
    }
    sim_inst *in = need_inst(m, c, r);
    if (in) {
        reply_ok(r);
        sim_reply_add(r, market_funding_json(in));
    }
}

json_t *market_mark_json(const sim_inst *in)
{
    json_t *o = json_object();
    set_str(o, "instType", "SWAP");
    set_str(o, "instId", in->inst_id);
    set_dec(o, "markPx", in->mark);
    set_ms(o, "ts", in->last_ts_ms);
    return o;
}

void market_mark_price(sim_market *m, const sim_call *c, sim_reply *r)
{
    int swap = need_swap(c, r);
    if (swap < 0) {
        return;
    }
    const char *id = sim_param_get(c, "instId");
    if (swap && id && !market_find(m, id)) {
        sim_reply_err(r, 400, "51001", "Instrument ID does not exist");
        return;
    }
    reply_ok(r);
    for (size_t i = 0; swap && i < m->ninst; i++) {
        const sim_inst *in = &m->inst[i];
        if ((!id || strcmp(id, in->inst_id) == 0) && family_match(c, in)) {
            sim_reply_add(r, market_mark_json(in));
        }
    }
}

/* okx-sim: an offline OKX v5 exchange (REST + WebSocket) for tests and demos.
 *
 * Layers, each in its own files, all on one thread (the libevent loop):
 *   server.c, auth.c, ws.c, fault.c, main.c  HTTP/WS edge: routing, OKX
 *        signatures, envelopes, HTTP statuses, subscriptions, faults (the edge
 *        calls the layers below and never touches their state directly);
 *   market*.c   instruments, the price path (candle CSV or seeded random
 *        walk), the synthetic order book with seqId chaining, tickers,
 *        candles, public trades, mark price, funding rate; public endpoints;
 *   acct.c order.c match.c position.c algo.c   accounts, orders, matching
 *        against the synthetic book, positions and margin, fees, funding,
 *        liquidation, TP/SL and conditional orders; private endpoints.
 *
 * Operations are JSON in, JSON out (jansson): one handler per endpoint fills a
 * sim_reply; WebSocket ops reuse the same handlers. Numbers that OKX sends as
 * strings are exact decimals (at_dec) inside and strings outside.
 * Everything runs on the loop thread: no locks. */
#ifndef OKX_SIM_H
#define OKX_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <aitrader/types.h>

#include "decimal.h"

/* ------------------------------------------------------------- limits */

#define SIM_MAX_INST 64      /* instruments served */
#define SIM_BOOK_LEVELS 400  /* synthetic book depth per side (OKX max) */
#define SIM_CANDLE_KEEP 1440 /* 1m candles kept per instrument (history) */
#define SIM_TRADES_KEEP 500  /* public trades kept per instrument */
#define SIM_ID_LEN 33        /* ids are <= 32 chars */

/* ------------------------------------------------------------- helpers
 * (util.c) */

/* Parse a JSON string or number member as a decimal. Returns AT_OK, or
 * AT_ENOENT when the member is absent or "", or AT_EINVAL when malformed. */
int sim_json_dec(const json_t *obj, const char *key, at_dec *out);
/* A string member, or "" when absent or not a string (never NULL). */
const char *sim_json_str(const json_t *obj, const char *key);
/* A JSON string holding the exact decimal (normalised: 1.50 -> "1.5"). */
json_t *sim_dec_json(at_dec d);
/* Format into buf (AT_DEC_STRLEN), normalised. */
const char *sim_dec_str(at_dec d, char *buf);
/* Exact a*b, a+b, a-b that abort-free saturate into an error flag: the
 * flag lets long formulas check once. `*err` is set to true on overflow. */
at_dec sim_mul(at_dec a, at_dec b, int scale, bool *err);
at_dec sim_add(at_dec a, at_dec b, bool *err);
at_dec sim_sub(at_dec a, at_dec b, bool *err);
at_dec sim_div(at_dec a, at_dec b, int scale, bool *err);
at_dec sim_neg(at_dec a);
at_dec sim_dec_i(int64_t v);
/* The decimal of a literal ("0.0005"); aborts on a malformed literal (only
 * for constants in code). */
at_dec sim_dec_lit(const char *s);
/* Epoch milliseconds as a JSON string, "1597026383085". */
json_t *sim_ms_json(int64_t ms);
/* Deterministic PRNG (xorshift64*), seeded; state lives in the caller. */
uint64_t sim_rand(uint64_t *state);
/* Uniform double in [0, 1). */
double sim_rand01(uint64_t *state);

/* ------------------------------------------------------------- requests */

/* Query parameters of a request, percent-decoded, in order. */
typedef struct sim_param {
    char *key, *val;
} sim_param;

typedef struct sim_call {
    const char *method; /* "GET" | "POST" */
    const char *path;   /* "/api/v5/trade/order" */
    sim_param *params;  /* query string */
    size_t nparams;
    json_t *body; /* POST body (object or array), NULL for GET; borrowed */
    bool ws;      /* came over WebSocket (op), not REST */
} sim_call;

/* A query parameter, or NULL when absent. "" counts as absent too. */
const char *sim_param_get(const sim_call *c, const char *key);

/* What a handler answers. The edge wraps it as
 * {"code":code,"msg":msg,"data":data[,"inTime","outTime"]} with `http`. */
typedef struct sim_reply {
    int http;      /* HTTP status; 200 unless set */
    char code[16]; /* "0" ok, "1" all failed, "2" partial, or an error code */
    char msg[256];
    json_t *data; /* array, owned by the reply; NULL means [] */
    bool trade;   /* a trade endpoint: add inTime/outTime */
} sim_reply;

/* Set a top-level error: http status, code, message (printf). */
void sim_reply_err(sim_reply *r, int http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Append one data item (reference stolen). */
void sim_reply_add(sim_reply *r, json_t *item);
/* After per-item results: set code/msg from the sCode of every item:
 * all "0" -> "0"; none "0" -> "1" "All operations failed"; some -> "2"
 * "Bulk operation partially succeeded". */
void sim_reply_settle(sim_reply *r);
/* One per-item result {"sCode":code,"sMsg":msg, ...}: a fresh object the
 * caller may add fields to. */
json_t *sim_item_result(const char *scode, const char *smsg);

/* ------------------------------------------------------------- market */

typedef struct sim_level {
    at_dec px, sz;
    int orders; /* numOrders */
} sim_level;

typedef struct sim_book {
    sim_level bids[SIM_BOOK_LEVELS]; /* best first: descending */
    sim_level asks[SIM_BOOK_LEVELS]; /* best first: ascending */
    int nbids, nasks;
    int64_t seq_id; /* of the current state; bumps on every change */
    int64_t ts_ms;
} sim_book;

typedef struct sim_candle {
    int64_t ts_ms; /* open time, aligned to the bar */
    at_dec o, h, l, c;
    at_dec vol;     /* contracts */
    at_dec vol_ccy; /* base currency */
    at_dec vol_quote;
    bool confirmed;
} sim_candle;

typedef struct sim_trade {
    int64_t id, ts_ms;
    at_dec px, sz;
    bool buy; /* taker side */
} sim_trade;

typedef struct sim_inst {
    /* static (from --instruments or the built-in table) */
    char inst_id[24];   /* "BTC-USDT-SWAP" */
    char uly[24];       /* "BTC-USDT" */
    char settle_ccy[8]; /* "USDT" */
    char ct_val_ccy[8]; /* "BTC" */
    at_dec ct_val, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz;
    int max_lever;
    int64_t inst_id_code;
    int64_t list_time_ms;

    /* live market state (market.c) */
    at_dec last, last_sz, mark, index;
    at_dec open24h, high24h, low24h, vol24h, vol_ccy24h;
    at_dec sod_utc0, sod_utc8;
    int64_t last_ts_ms;
    sim_book book;
    sim_candle candles[SIM_CANDLE_KEEP]; /* ring of closed+current 1m candles */
    int ncandles, candle_head;           /* head = index of the newest */
    sim_trade trades[SIM_TRADES_KEEP];   /* ring, newest at trade_head */
    int ntrades, trade_head;
    int64_t next_trade_id;
    at_dec funding_rate;     /* current period's rate */
    int64_t funding_time_ms; /* next settlement (every 8 h, UTC 0/8/16) */
    bool book_changed;       /* since the last WS push */
    bool book_from_books;    /* paper venue: a BOOK event set the book (not a ticker) */
    bool ticker_changed;
    uint64_t rng; /* per-instrument stream (book sizes) */

    /* price path */
    double px_double; /* random walk state, or -1 */
    size_t data_row;  /* CSV row being replayed */
    int data_phase;   /* position inside the candle (o -> h/l -> c) */
} sim_inst;

typedef struct sim_market_opts {
    const char *data_csv;         /* candle CSV for the first instrument, or NULL */
    const char *instruments_json; /* OKX /public/instruments response, or NULL */
    uint64_t seed;
    double speed;   /* data seconds per wall second (1 = real time) */
    int book_depth; /* levels per side generated, <= SIM_BOOK_LEVELS */
} sim_market_opts;

typedef struct sim_market sim_market;

/* market.c: instruments and prices. */
sim_market *market_new(const sim_market_opts *o, char *err, size_t errlen);
void market_free(sim_market *m);
size_t market_ninst(const sim_market *m);
sim_inst *market_inst(sim_market *m, size_t i);
/* By instId or instIdCode; NULL when unknown. */
sim_inst *market_find(sim_market *m, const char *inst_id);
sim_inst *market_find_code(sim_market *m, int64_t code);
/* Advance every instrument to wall time now_ms: new last price, mark,
 * book (seqId bumps, book_changed), candles, public trades. */
void market_step(sim_market *m, int64_t now_ms);
/* A taker fill of the simulator's own users moved liquidity: record a public
 * trade and shrink the touched levels (they refill at the next step). */
void market_on_fill(sim_market *m, sim_inst *in, bool buy, at_dec px, at_dec sz, int64_t now_ms);

/* market_ctl.c: move an instrument's price at once (POST /sim/price, tests):
 * last and mark become px, the book shifts with it. AT_EINVAL when px is not
 * a positive multiple of tickSz. */
int market_set_price(sim_market *m, sim_inst *in, at_dec px, int64_t now_ms);

/* market_rest.c: the public endpoints (GET, unsigned). */
void market_instruments(sim_market *m, const sim_call *c, sim_reply *r);
void market_ticker(sim_market *m, const sim_call *c, sim_reply *r);
void market_tickers(sim_market *m, const sim_call *c, sim_reply *r);
void market_books(sim_market *m, const sim_call *c, sim_reply *r);
void market_candles(sim_market *m, const sim_call *c, sim_reply *r);
void market_trades(sim_market *m, const sim_call *c, sim_reply *r);
void market_funding_rate(sim_market *m, const sim_call *c, sim_reply *r);
void market_mark_price(sim_market *m, const sim_call *c, sim_reply *r);
/* Data objects as OKX pushes them on the public WS channels. */
json_t *market_ticker_json(const sim_inst *in);
json_t *market_mark_json(const sim_inst *in);
json_t *market_funding_json(const sim_inst *in);
json_t *market_trade_json(const sim_inst *in, const sim_trade *t);
/* Candle row array [ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm] for `bar`
 * ("1m", "5m", "1H" …) ending at the newest; NULL when bar is unknown. */
json_t *market_candle_row(const sim_inst *in, const char *bar, int back);
/* Milliseconds of a bar name, 0 when unknown. */
int64_t market_bar_ms(const char *bar);
/* The top `depth` levels per side as {"asks":[[px,sz,"0",n]...],"bids":...,
 * "ts":..,"seqId":..} (plus "instId" when with_inst). */
json_t *market_book_json(const sim_inst *in, int depth, bool with_inst);

/* ------------------------------------------------------------- accounts */

typedef enum sim_pos_mode { SIM_NET_MODE = 0, SIM_LONG_SHORT_MODE = 1 } sim_pos_mode;

typedef enum sim_ord_state {
    SIM_LIVE = 0,
    SIM_PARTIALLY_FILLED,
    SIM_FILLED,
    SIM_CANCELED,
} sim_ord_state;

typedef struct sim_order {
    char ord_id[SIM_ID_LEN];
    char cl_ord_id[SIM_ID_LEN];
    char tag[17];
    sim_inst *inst;
    char ord_type[24]; /* market limit post_only fok ioc optimal_limit_ioc */
    bool buy;
    char pos_side[8]; /* net long short */
    char td_mode[12]; /* cross isolated */
    at_dec px, sz, acc_fill_sz, avg_px, fill_px, fill_sz;
    at_dec fee; /* accumulated, negative = paid */
    at_dec pnl; /* realised by this order's fills */
    int64_t fill_time_ms, trade_id;
    char exec_type[2]; /* "T" | "M" of the last fill */
    bool reduce_only;
    int lever;
    sim_ord_state state;
    char cancel_source[4];
    json_t *attach_algo;      /* attachAlgoOrds as given (owned), or NULL */
    char algo_id[SIM_ID_LEN]; /* when created by an algo order */
    int64_t c_time_ms, u_time_ms;
    struct sim_order *next; /* account's list, newest first */
    /* Additions (accounts layer): what order_json needs but no field above
     * holds. category "normal" | "full_liquidation" | "partial_liquidation";
     * algoClOrdId of the algo that placed it. fail_msg: why the venue
     * canceled it when a fill could not be booked (cancelSource "0"). */
    char category[24];
    char algo_cl_ord_id[SIM_ID_LEN];
    char fail_msg[160];
} sim_order;

typedef struct sim_fill {
    char bill_id[SIM_ID_LEN];
    char ord_id[SIM_ID_LEN], cl_ord_id[SIM_ID_LEN], tag[17];
    sim_inst *inst;
    bool buy;
    char pos_side[8];
    at_dec fill_px, fill_sz, fee, fee_rate, fill_pnl, fill_mark_px;
    char exec_type[2];
    int64_t trade_id, ts_ms;
    struct sim_fill *next; /* newest first */
} sim_fill;

typedef struct sim_position {
    sim_inst *inst;
    char pos_side[8];  /* net long short */
    char mgn_mode[12]; /* cross isolated */
    char pos_id[SIM_ID_LEN];
    at_dec pos; /* contracts; signed in net mode */
    at_dec avg_px;
    at_dec margin; /* isolated: margin held */
    at_dec realized_pnl, fee, funding_fee;
    int lever;
    int64_t c_time_ms, u_time_ms;
    int64_t trade_id;
    bool pushed_open; /* non-zero at the last positions push: its close is pushed once, pos "0" */
    struct sim_position *next;
} sim_position;

typedef enum sim_algo_state {
    SIM_ALGO_LIVE = 0,
    SIM_ALGO_EFFECTIVE,
    SIM_ALGO_CANCELED
} sim_algo_state;

typedef struct sim_algo {
    char algo_id[SIM_ID_LEN], algo_cl_ord_id[SIM_ID_LEN];
    sim_inst *inst;
    char ord_type[16]; /* conditional oco trigger */
    bool buy;
    char pos_side[8], td_mode[12];
    at_dec sz;           /* contracts; zero with close_fraction */
    bool close_fraction; /* closeFraction "1": the whole position */
    bool reduce_only;
    at_dec tp_trigger_px, tp_ord_px, sl_trigger_px, sl_ord_px; /* ord px -1 = market */
    bool has_tp, has_sl;
    char tp_px_type[8], sl_px_type[8]; /* last mark index */
    at_dec trigger_px, order_px;       /* ordType trigger */
    char trigger_px_type[8];
    char parent_ord_id[SIM_ID_LEN]; /* attached TP/SL: waits for this order */
    sim_algo_state state;
    char actual_side[4];     /* "tp" | "sl" once triggered */
    char ord_id[SIM_ID_LEN]; /* order it placed */
    int64_t c_time_ms, u_time_ms, trigger_time_ms;
    struct sim_algo *next;
    /* Additions (accounts layer). armed: live and watching prices (an
     * attached TP/SL arms when its parent finishes with fills). trigger_dir:
     * ordType trigger fires when the price rises to (+1) or falls to (-1)
     * triggerPx, decided at placement. failed: the order it placed was
     * rejected (state "order_failed"). attach_algo: attachAlgoOrds for the
     * order a trigger places (owned), or NULL. */
    bool armed, cxl_on_close_pos, failed;
    int trigger_dir;
    char tag[17], cl_ord_id[SIM_ID_LEN];
    json_t *attach_algo;
} sim_algo;

typedef struct sim_acct {
    char api_key[64], secret[128], passphrase[64];
    bool demo;
    char uid[24];
    sim_pos_mode pos_mode;
    at_dec cash;                           /* USDT cash balance (realised) */
    at_dec maker_fee_rate, taker_fee_rate; /* positive = paid: 0.0002, 0.0005 */
    /* leverage per instrument, mgnMode and posSide; default 10 */
    struct sim_lever {
        sim_inst *inst;
        char mgn_mode[12], pos_side[8];
        int lever;
        struct sim_lever *next;
    } * levers;
    sim_order *orders;
    sim_fill *fills;
    sim_position *positions;
    sim_algo *algos;
    int64_t next_id; /* ids: ordId, billId, algoId, posId */
    /* Rate limiting and faults touch the edge, not this struct. */
    struct sim_acct *next;
} sim_acct;

/* Pushes to the private WS channels of one account; the edge (ws.c) sets it.
 * `data` is borrowed: the edge copies what it sends. */
typedef struct sim_push {
    void (*order)(void *arg, sim_acct *a, const sim_order *o, json_t *data);
    void (*position)(void *arg, sim_acct *a, json_t *data); /* full list */
    void (*account)(void *arg, sim_acct *a, json_t *data);  /* balance object */
    void (*algo)(void *arg, sim_acct *a, json_t *data);
    void *arg;
} sim_push;

typedef struct sim_exchange {
    sim_market *market;
    sim_acct *accts;
    sim_push push;
    int64_t now_ms;       /* set by the edge before every call */
    int next_reject_code; /* fault: reject the next order with this sCode */
    char next_reject_msg[128];
    double mmr_rate; /* maintenance margin rate, 0.004 */
    /* Addition (accounts layer): the funding time last seen per instrument
     * (index as market_inst), so each settlement is booked exactly once when
     * inst->funding_time_ms moves forward. 0 = not seen yet. */
    int64_t funding_seen_ms[SIM_MAX_INST];
    /* the rate of the period that settles at funding_seen_ms: the market rolls
     * funding_rate to the next period's as the settlement time passes */
    at_dec funding_rate_seen[SIM_MAX_INST];
    /* okx-sim's keep-algos fault (never the paper venue): a position that
     * closes leaves the TP/SL and cxlOnClosePos algos that close it live, as
     * users report OKX doing (python-okx #112, NOFX PR #143). */
    bool keep_algos;
} sim_exchange;

/* acct.c: accounts from the --accounts JSON (CONTRACTS §1), or one demo
 * account when path is NULL (its credentials are printed by main.c). */
int acct_load(sim_exchange *x, const char *path, char *err, size_t errlen);
void acct_free_all(sim_exchange *x);
/* Free an account's levers, orders, fills, positions and algos (the lists
 * become empty; the account itself stays). */
void acct_clear(sim_acct *a);
/* Finished records kept in memory per account, newest first (lookups by id,
 * the history endpoints); older ones are freed at every exchange_tick, so a
 * venue running for months neither grows nor walks them on each tick. */
#define SIM_KEEP_ORDERS 1000
#define SIM_KEEP_FILLS 1000
#define SIM_KEEP_ALGOS 500
void acct_prune(sim_acct *a);
sim_acct *acct_by_key(sim_exchange *x, const char *api_key);
/* Fresh id (decimal digits, like OKX's 18-19 digit ids). */
void acct_new_id(sim_acct *a, char out[SIM_ID_LEN]);
/* The leverage in force for an instrument, mgnMode and posSide (10 default). */
int acct_lever(const sim_acct *a, const sim_inst *in, const char *mgn_mode, const char *pos_side);

/* Private endpoints (signed): account/... */
void acct_balance(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void acct_positions(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void acct_config(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void acct_set_leverage(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void acct_set_position_mode(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
/* acct_extra.c: asset/currencies, account/trade-fee, account/leverage-info,
 * trade/order-algo. */
void acct_currencies(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void acct_trade_fee(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void acct_leverage_info(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void algo_get(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
/* The balance object (GET account/balance data[0], WS account push). */
json_t *acct_balance_json(sim_exchange *x, sim_acct *a);
/* The position list (non-zero positions) as OKX shows them. */
json_t *acct_positions_json(sim_exchange *x, sim_acct *a, const sim_call *filter);

/* order.c: trade/... */
void order_place(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_batch(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_cancel(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_cancel_batch(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_amend(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_get(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_pending(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_history(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_fills(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void order_close_position(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
/* The order object (GET trade/order, WS orders push). */
json_t *order_json(const sim_order *o);

/* algo.c: trade/order-algo, cancel-algos, orders-algo-pending, and the
 * attached TP/SL of orders. */
void algo_place(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void algo_cancel(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void algo_pending(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
void algo_history(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);

/* routes.c: the private (signed) endpoints by method and path; NULL when none
 * (path_known, when given, is set when the path exists for another method). */
typedef void (*venue_fn)(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);
venue_fn venue_route(const char *method, const char *path, bool *path_known);
/* Parse a raw query string into c->params (percent-decoded); -1 on no memory. */
int venue_params_parse(const char *query, sim_call *c);
void venue_params_free(sim_call *c);
/* Serialise an envelope {"code","msg","data"[,"inTime","outTime"]} (malloc'd). */
char *venue_envelope(const sim_reply *r, int64_t in_us, int64_t out_us, size_t *len);

/* persist.c: one account's venue state as a JSON document and back, every
 * amount an exact decimal string (never a double): cash per currency,
 * position mode, fee rates, leverage settings, positions (entry price,
 * margin, leverage, fees and funding booked), live orders and algo orders
 * (TP/SL, triggers) plus the newest finished ones up to `keep`, the newest
 * fills, the id counter, and per instrument the next public trade id and
 * the funding settlement last seen. exchange_paper stores it so a paper
 * account survives a restart. */
#define VENUE_STATE_FORMAT 1
typedef struct venue_keep {
    size_t orders, fills, algos; /* finished orders and algos, and fills, kept (newest first) */
} venue_keep;
/* The state of `a` (a new reference), or NULL when out of memory. */
json_t *venue_state_dump(const sim_exchange *x, const sim_acct *a, const venue_keep *keep);
/* Replace a's state with `state` (borrowed). Everything is checked before
 * anything changes: on an error `a` is untouched and `err` names the field
 * and the reason ("orders[2].px: \"1,5\" is not a decimal"). Records of
 * instruments the market does not have are an error when live (an open
 * position, a live order or algo), else dropped. AT_OK, AT_EINVAL,
 * AT_ENOMEM. */
int venue_state_load(sim_exchange *x, sim_acct *a, const json_t *state, char *err, size_t errlen);

/* match.c / position.c: time passes. Called after market_step: fill resting
 * orders the market crossed, trigger algo orders, settle funding at
 * funding times, liquidate positions below maintenance margin, push changes. */
void exchange_tick(sim_exchange *x);

#endif

/* ui_dashboard's private header: the instance context and what its files
 * share.
 *
 *   ui_dashboard.c  schema, check_config, lifecycle, the URL printed at start
 *   dash_token.c    the token: configured, or generated once into data_dir
 *   dash_http.c     every request: Host, Origin and token, routing, answers
 *   dash_live.c     live state kept from bus events (tickers, candles,
 *                   balances, positions, open orders) and the routes it answers
 *   dash_json.c     the JSON of live objects (REST and /ws alike)
 *   dash_push.c     the WebSocket feed (/ws), tickers and books coalesced
 *   dash_db.c       storage reads as JSON rows (one job per request)
 *   dash_read.c     the routes read from storage (history, decisions …)
 *   dash_engine.c   the routes answered by the engine's control API
 *   dash_arena.c    the arena's leaderboard (dash_arena.h)
 *   dash_trade.c    manual orders, cancels and closes: intents through the
 *                   executor and the risk chain, and the wait for the answer
 *   dash_lib.h      the pure half (routes, bodies, token checks), tested apart
 *
 * Everything runs on the main loop. */
#ifndef DASH_H
#define DASH_H

#include <aitrader/plugin.h>

#include "dash_lib.h"

#define DASH_MAX_TICKERS 512 /* instruments x sources followed */
#define DASH_MAX_SERIES 128  /* candle series (source, instrument, bar) */
#define DASH_CANDLES 500     /* candles kept per series */
#define DASH_MAX_ACCOUNTS 64
#define DASH_MAX_CCY 16           /* balances per account */
#define DASH_MAX_POSITIONS 512    /* per account */
#define DASH_MAX_ORDERS 2048      /* open orders per account */
#define DASH_MAX_PENDING 256      /* manual orders waiting for their answer */
#define DASH_RESULT_WAIT_MS 10000 /* then 202: the order is on its way */
#define DASH_STATE_WAIT_MS 500    /* after an accepted place, for its first state */
#define DASH_PUSH_EVERY_MS 250    /* a ticker or book per instrument at most this often */
#define DASH_NSUBS 14

typedef struct dash dash;

/* ------------------------------------------------------------ live state */

typedef struct dash_ticker {
    char source[AT_ID_LEN];
    at_ev_ticker t;
    int64_t sent_us; /* last pushed */
    bool dirty;      /* newer than what was pushed */
} dash_ticker;

typedef struct dash_book {
    char source[AT_ID_LEN];
    at_ev_book b;
    int64_t sent_us;
    bool dirty;
} dash_book;

typedef struct dash_candle {
    int64_t open_ms;
    at_dec o, hi, lo, c, vol;
    bool confirmed;
} dash_candle;

typedef struct dash_series {
    char source[AT_ID_LEN];
    at_inst inst;
    int64_t bar_s;
    size_t head, n; /* ring: the oldest at head */
    dash_candle c[DASH_CANDLES];
} dash_series;

typedef struct dash_bal {
    char ccy[AT_CCY_LEN];
    at_dec eq, avail, upl;
    int64_t ts_ms;
} dash_bal;

typedef struct dash_account {
    char name[AT_ID_LEN];
    bool have_eq;
    at_dec total_eq;
    int64_t eq_ts_ms;
    dash_bal bal[DASH_MAX_CCY];
    size_t nbal;
    at_ev_position *pos; /* open positions (pos != 0) */
    size_t npos, cap_pos;
    /* GET …/positions as last answered, until a POSITION changes them: the
     * route is polled by every open page, positions change far less often */
    char *pos_json;
    size_t pos_json_len;
    at_ev_order *ord; /* open orders (live, partially filled) */
    size_t nord, cap_ord;
    bool full_logged;
} dash_account;

typedef struct dash_live {
    dash_ticker *tick;
    size_t ntick;
    dash_book **book;
    size_t nbook;
    dash_series **series;
    size_t nseries;
    dash_account *acct;
    size_t nacct;
    bool full_logged;
} dash_live;

/* ------------------------------------------------------------ pending orders */

typedef enum dash_phase {
    DP_FREE = 0,
    DP_RESULT, /* waiting for the ORDER_RESULT */
    DP_STATE,  /* accepted: waiting briefly for the order's first state */
} dash_phase;

typedef struct dash_pending {
    dash *d;
    dash_phase phase;
    uint64_t req;
    at_intent_op op;
    char intent_id[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    char ord_id[AT_ID_LEN];
    char account[AT_ID_LEN];
    char rule[2 * AT_ID_LEN]; /* the rejecting rule, "risk.limits/max_leverage" */
    at_timer *timer;
} dash_pending;

/* ------------------------------------------------------------ the instance */

struct dash {
    /* config (written by the engine) */
    const char *listen;
    int64_t port;
    const char *token_cfg;
    const char *static_dir_cfg;
    int64_t max_body;
    at_cfg_list origins;

    at_instance *inst;
    const at_host *h;
    const char *name;
    char token[DASH_TOKEN_MAX + 1];
    char token_file[4096]; /* where the token lives, "" when configured */
    char *static_dir;      /* the web app's files, or NULL when not built */
    char **allowed;        /* `origins`, NULL-terminated */
    at_httpd *srv;
    int bound_port;
    int nws;
    int subs[DASH_NSUBS];
    at_timer *tick;
    uint64_t seq; /* manual intent ids */
    bool started;
    dash_live live;
    dash_pending pend[DASH_MAX_PENDING];
    at_metric *m_requests, *m_refused, *m_orders;
    struct dash_arena *arena; /* dash_arena.c: answers kept, computations in flight */
};

/* ui_dashboard.c */
int64_t dash_now_ms(const dash *d);

/* dash_token.c: the configured token, else data_dir/dashboard.token, made
 * once (0600). AT_OK, or an error with `why`. */
int dash_token_load(dash *d, char *why, size_t whylen);

/* dash_http.c */
void dash_on_request(void *arg, at_httpd *srv, const at_httpd_req *req);
void dash_reply(dash *d, uint64_t req, int status, json_t *body); /* body stolen */
void dash_reply_err(dash *d, uint64_t req, const dash_err *e);
void dash_reply_fail(dash *d, uint64_t req, int status, const char *code, const char *fmt, ...)
    AT_PRINTF(5, 6);
void dash_reply_text(dash *d, uint64_t req, int status, const char *ctype, const char *text,
                     size_t len);
/* The web app's files: where they are, or NULL (static_dir, else next to
 * the engine's sql_dir, the install, the source tree). Malloc'd. */
char *dash_find_static(const dash *d);

/* dash_live.c */
int dash_live_init(dash *d);
void dash_live_free(dash *d);
void dash_live_on_event(void *arg, const at_event *e);
dash_account *dash_account_find(dash *d, const char *name);
const dash_ticker *dash_ticker_find(const dash *d, at_inst inst);
const at_ev_order *dash_order_find(const dash *d, const char *account, const char *ord_id,
                                   const char *cl_ord_id);
/* The instrument of a position the account holds named inst_id, or 0: a
 * client's name is never interned before it is known. */
at_inst dash_position_inst(const dash *d, const char *account, const char *inst_id);
const at_ev_position *dash_position_find(const dash *d, const char *account, at_inst inst,
                                         at_pos_side side, bool any_side);
/* dash_json.c */
const char *dash_inst_name(const dash *d, at_inst i); /* "" when unknown */
json_t *dash_json_dec(const dash *d, at_dec v);
json_t *dash_json_ticker(const dash *d, const dash_ticker *t);
json_t *dash_json_book(const dash *d, const dash_book *b);
json_t *dash_json_balance(const dash *d, const dash_account *a);
json_t *dash_json_position(const dash *d, const at_ev_position *p);
json_t *dash_json_order(const dash *d, const at_ev_order *o);
json_t *dash_json_fill(const dash *d, const at_ev_fill *f);
json_t *dash_json_decision(const dash *d, const at_ev_decision *e);
json_t *dash_json_news(const at_ev_news *n);
json_t *dash_json_sentiment(const at_ev_sentiment *s);
const char *dash_state_name(at_ord_state s);
const char *dash_pos_side_name(at_pos_side s);
void dash_route_tickers(dash *d, uint64_t req, const char *query);
void dash_route_candles(dash *d, uint64_t req, const char *query);
void dash_route_balance(dash *d, uint64_t req, const dash_account *a);
void dash_route_positions(dash *d, uint64_t req, const dash_account *a);
void dash_route_open_orders(dash *d, uint64_t req, const dash_account *a);

/* dash_push.c */
void dash_push_event(dash *d, const at_event *e);
/* Push what coalescing held back (the tick timer). */
void dash_push_flush(dash *d);
void dash_ws_open(void *arg, at_httpd *srv, at_httpd_conn *conn);
void dash_ws_message(void *arg, at_httpd *srv, at_httpd_conn *conn, const char *data, size_t len);
void dash_ws_close(void *arg, at_httpd *srv, at_httpd_conn *conn);

/* dash_db.c: one request's storage reads, chained. */
typedef struct dash_job dash_job;
typedef void (*dash_job_fn)(dash_job *j);
struct dash_job {
    dash *d;
    uint64_t req;
    json_t *rows;      /* the last query's rows (objects), owned */
    json_t *out;       /* the answer being built, owned */
    const char *bools; /* ",col,col," answered as true/false */
    dash_job_fn next;
    char a[DASH_SEG_MAX]; /* a route parameter */
    char q[DASH_SEG_MAX]; /* a query parameter */
    int64_t n;            /* a number the next step needs */
    int step;
    dash_order_req order; /* a manual order being checked */
};
dash_job *dash_job_new(dash *d, uint64_t req);
/* Run `sql`; its rows land in j->rows, then next(j) runs. Column names
 * ending in "_json" are parsed and named without it; those in `bools`
 * become true/false. On failure the request is answered 503 and the job
 * freed (next never runs). */
void dash_job_query(dash_job *j, const char *sql, const at_db_value *p, size_t n, const char *bools,
                    dash_job_fn next);
/* Answer and free: body stolen (NULL = j->out). */
void dash_job_reply(dash_job *j, int status, json_t *body);
void dash_job_free(dash_job *j);

/* dash_read.c */
void dash_route_instruments(dash *d, uint64_t req);
void dash_route_accounts(dash *d, uint64_t req);
/* Account routes: answered from memory when the account is known there,
 * else after storage says whether it exists (404 when not). */
void dash_route_account(dash *d, uint64_t req, const dash_route *r, const char *query);
void dash_route_decisions(dash *d, uint64_t req, const char *query);
void dash_route_decision(dash *d, uint64_t req, const char *id);
void dash_route_news(dash *d, uint64_t req, const char *query);
void dash_route_sentiment(dash *d, uint64_t req, const char *query);
void dash_route_pnl(dash *d, uint64_t req, const char *query);

/* dash_arena.c */
void dash_route_arena(dash *d, uint64_t req, const char *query);
void dash_arena_free(dash *d); /* at destroy */

/* dash_engine.c */
void dash_route_health(dash *d, uint64_t req);
void dash_route_traders(dash *d, uint64_t req);
void dash_route_trader_action(dash *d, uint64_t req, const dash_route *r);
void dash_route_risk(dash *d, uint64_t req);
void dash_route_kill_switch(dash *d, uint64_t req, const at_httpd_req *hr);
void dash_route_metrics(dash *d, uint64_t req);
/* The engine's answer to `method` (no params) in *out, AT_OK; or the
 * request is answered with the error and a negative code returned. */
int dash_engine_get(dash *d, uint64_t req, const char *method, json_t **out);

/* dash_trade.c */
void dash_route_order_place(dash *d, uint64_t req, const at_httpd_req *hr);
void dash_route_order_cancel(dash *d, uint64_t req, const dash_route *r);
void dash_route_position_close(dash *d, uint64_t req, const at_httpd_req *hr);
void dash_trade_on_event(dash *d, const at_event *e);
void dash_trade_stop(dash *d);

/* dash_shadow.c: shadow against live per trader and symbol (the engine's
 * figures and the orders table's counts) */
void dash_route_shadow(dash *d, uint64_t req, const char *query);

#endif

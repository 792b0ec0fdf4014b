/* ui_dashboard's pure half: what a request says (route, query, body) and
 * whether it may act (token, Origin, Host), with no engine behind it, so the
 * unit tests (tests/unit/test_dashboard_route.c) and the fuzz target
 * (tests/fuzz/fuzz_dashboard.c) drive it directly.
 *
 *   dash_route.c   routes of the API, path segments, query parameters
 *   dash_order.c   POST /api/orders and /api/positions/close bodies, checked
 *   dash_secure.c  the bearer token, the dashboard's config checks
 *
 * Decimals go through the host's pure functions (dec_parse …), which need
 * no running engine. */
#ifndef DASH_LIB_H
#define DASH_LIB_H

#include <jansson.h>

#include <aitrader/host.h>

/* ------------------------------------------------------------ errors */

/* What a refused request is answered: status and
 * {"error":{"code","message"[,"field"]}}. */
typedef struct dash_err {
    int status;
    char code[32];
    char field[32];
    char message[320];
} dash_err;

/* Fill `e` and return its status. */
int dash_fail(dash_err *e, int status, const char *code, const char *field, const char *fmt, ...)
    AT_PRINTF(5, 6);

/* ------------------------------------------------------------ routes */

typedef enum dash_route_id {
    DR_NONE = 0,
    DR_HEALTH,         /* GET /api/health */
    DR_INSTRUMENTS,    /* GET /api/instruments */
    DR_TICKERS,        /* GET /api/market/tickers */
    DR_CANDLES,        /* GET /api/market/candles */
    DR_ACCOUNTS,       /* GET /api/accounts */
    DR_ACCOUNT_ADD,    /* POST /api/accounts (runtime accounts: not yet) */
    DR_ACCOUNT_REMOVE, /* DELETE /api/accounts/{id} (not yet) */
    DR_BALANCE,        /* GET /api/accounts/{id}/balance */
    DR_POSITIONS,      /* GET /api/accounts/{id}/positions */
    DR_ORDERS,         /* GET /api/accounts/{id}/orders */
    DR_FILLS,          /* GET /api/accounts/{id}/fills */
    DR_EQUITY,         /* GET /api/accounts/{id}/equity */
    DR_ORDER_PLACE,    /* POST /api/orders */
    DR_ORDER_CANCEL,   /* DELETE /api/orders/{account}/{ordId} */
    DR_POSITION_CLOSE, /* POST /api/positions/close */
    DR_TRADERS,        /* GET /api/traders */
    DR_TRADER_ACTION,  /* POST /api/traders/{id}/run|pause|resume */
    DR_SHADOW,         /* GET /api/shadow */
    DR_DECISIONS,      /* GET /api/decisions */
    DR_DECISION,       /* GET /api/decisions/{id} */
    DR_RISK,           /* GET /api/risk */
    DR_KILL_SWITCH,    /* POST /api/kill-switch */
    DR_NEWS,           /* GET /api/news */
    DR_SENTIMENT,      /* GET /api/sentiment */
    DR_PNL,            /* GET /api/pnl */
    DR_ARENA,          /* GET /api/arena */
    DR_METRICS,        /* GET /metrics */
} dash_route_id;

#define DASH_SEG_MAX 128 /* a path segment, decoded, with its NUL */

typedef struct dash_route {
    dash_route_id id;
    bool mutating;        /* changes something: token and Origin checked */
    char a[DASH_SEG_MAX]; /* first {…} of the path: account, trader or decision id */
    char b[DASH_SEG_MAX]; /* second: ordId */
    char action[16];      /* run | pause | resume */
    char allow[32];       /* a 405's Allow header value */
} dash_route;

/* Match `method` and `path` (undecoded, as the server got it). Returns 0 and
 * fills `r`, or the status to answer (404 unknown path, 405 known path with
 * another method — r->allow lists the methods —, 400 a malformed segment)
 * with `e` filled. A trailing slash is ignored. */
int dash_route_match(const char *method, const char *path, dash_route *r, dash_err *e);

/* Whether `path` is the API's (/api/…, /metrics): an unknown one is a 404
 * JSON, any other unknown GET may be a page of the web app. */
bool dash_path_is_api(const char *path);

/* Percent-decode `in` (`len` bytes) into out (cap bytes with the NUL);
 * '+' stays '+' unless plus_space. -1 on a malformed escape, a NUL, a
 * control or non-ASCII byte, or when it does not fit. */
int dash_pct_decode(const char *in, size_t len, char *out, size_t cap, bool plus_space);

/* The first value of `key` in a query string ("a=1&b=x%20y"), decoded into
 * out. 1 found, 0 absent (out = ""), -1 malformed or too long (e filled,
 * 400). An empty value counts as absent. */
int dash_query_str(const char *query, const char *key, char *out, size_t cap, dash_err *e);

/* An integer parameter within [min, max]; absent = def. 0 or 400 (e). */
int dash_query_int(const char *query, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out, dash_err *e);

/* ------------------------------------------------------------ orders */

/* What an instrument allows, from the instruments table (zero = unknown). */
typedef struct dash_inst_spec {
    at_dec lot_sz, min_sz, tick_sz, max_lever;
} dash_inst_spec;

/* A manual order or close as the body asked for it. */
typedef struct dash_order_req {
    char account[AT_ID_LEN];
    char inst_id[AT_ID_LEN];
    at_side side;
    at_pos_side pos_side;
    bool pos_side_given;
    bool td_given, isolated;
    at_ord_type ord_type;
    at_dec sz, px, tp, sl, lever; /* 0 when absent */
    bool reduce_only;
    int64_t ttl_ms; /* 0 = rests */
} dash_order_req;

/* Parse POST /api/orders' JSON body `body` (any JSON value) into `o`: keys,
 * types and each value on its own. 0, or 400 with `e`. */
int dash_order_parse(const at_host *h, const json_t *body, dash_order_req *o, dash_err *e);

/* Check a parsed order against its instrument and account: size on the lot
 * and at least the minimum, a limit price on the tick, posSide as the
 * account's position mode needs it (hedge = long_short_mode), TP/SL on the
 * right side of the price (`ref_px`: the limit price, else the last known
 * price, 0 = unknown), leverage within maxLever, ttl for limits. 0 or 400. */
int dash_order_check(const at_host *h, const dash_order_req *o, const dash_inst_spec *spec,
                     bool hedge, at_dec ref_px, dash_err *e);

/* POST /api/positions/close {account, instId, posSide?, tdMode?}. 0 or 400. */
int dash_close_parse(const json_t *body, dash_order_req *o, dash_err *e);

/* Parse a JSON body (`len` bytes): an object, or 400 with jansson's reason
 * and position. The caller frees the result. */
json_t *dash_body_parse(const char *body, size_t len, dash_err *e);

/* "30s", "5m", "2h", "1d", "250ms" or whole milliseconds, to ms (> 0,
 * at most 7 days). AT_OK or AT_EINVAL. */
int dash_duration_ms(const char *s, int64_t *out);

/* ------------------------------------------------------------ security */

#define DASH_TOKEN_MIN 16
#define DASH_TOKEN_MAX 512

/* Whether the Authorization header carries "Bearer <token>", compared in
 * time independent of where they differ. */
bool dash_bearer_ok(const char *authorization, const char *token);

/* Whether a configured token is usable: DASH_TOKEN_MIN..MAX printable ASCII
 * characters without blanks (it goes in a header and a URL fragment). The
 * reason never quotes the token. */
bool dash_token_valid(const char *token, char *why, size_t whylen);

/* An `origins` entry: "http://host[:port]" or "https://…", no path, no
 * trailing slash, no wildcard. */
bool dash_origin_valid(const char *origin, char *why, size_t whylen);

/* A `listen` value: an IPv4/IPv6 literal or a host name, no blanks or
 * brackets. */
bool dash_listen_valid(const char *listen, char *why, size_t whylen);

/* 32 random bytes from the kernel as 64 hex digits. AT_OK or AT_EIO. */
int dash_token_generate(char out[65]);

#endif

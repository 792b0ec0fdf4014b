/* The edge of okx-sim: HTTP routing, authentication, WebSocket sessions and
 * faults. Owns the loop's view of the exchange (sim.h). */
#ifndef OKX_SIM_SERVER_H
#define OKX_SIM_SERVER_H

#include <event2/event.h>

#include "httpd.h"
#include "sim.h"

#define AUTH_SIGN_LEN 48     /* base64 of 32 bytes is 44 chars + NUL */
#define AUTH_WINDOW_MS 30000 /* OKX: requests older or newer than 30 s fail */
#define WS_IDLE_MS 30000     /* OKX closes a silent connection after 30 s */
#define WS_MAX_SUBS 1024     /* subscriptions per WebSocket connection (okx-sim's own cap) */

/* ------------------------------------------------------------ auth.c */

/* Base64(HMAC-SHA256(secret, prehash)). */
void auth_sign(const char *secret, const char *prehash, size_t len, char out[AUTH_SIGN_LEN]);
/* "2020-12-08T09:08:57.715Z" -> epoch ms; -1 when not exactly that format. */
int auth_parse_iso_ms(const char *s, int64_t *ms);
/* Check a private REST request; the account, or NULL with r set (HTTP 401
 * and OKX's 501xx code). */
sim_acct *auth_rest(sim_exchange *x, const sh_req *q, int64_t now_ms, sim_reply *r);
/* Check a WebSocket login arg; the account, or NULL with OKX's 600xx code. */
sim_acct *auth_ws_login(sim_exchange *x, const json_t *arg, int64_t now_ms, const char **code,
                        const char **msg);

/* ------------------------------------------------------------ fault.c */

typedef struct sim_faults {
    int ws_drop_s;         /* drop every WebSocket every N s (0 = never) */
    double rest_429_rate;  /* fraction of REST requests answered 429 50011 */
    double rest_5xx_rate;  /* fraction answered 503 50001 */
    int latency_ms;        /* added to every REST answer */
    int64_t clock_skew_ms; /* the server's clock runs this far ahead (or behind) */
    bool ws_mute;          /* private channels push nothing (a silently dead feed) */
    bool keep_algos;       /* a closed position's TP/SL algos stay live (sim_exchange) */
    int reject_code;       /* reject the next order with this sCode */
    char reject_msg[128];
} sim_faults;

/* Parse one --fault SPEC into f; 0, or -1 with a message in err. */
int fault_parse(sim_faults *f, const char *spec, char *err, size_t errlen);
/* The spec grammar, for --help. */
extern const char fault_help[];

/* ------------------------------------------------------------ server.c */

typedef struct ws_sess ws_sess;

typedef struct sim_server {
    struct event_base *base;
    sh_server *http;
    sim_market *market;
    sim_exchange x;
    sim_faults faults;
    uint64_t rng; /* fault dice */
    int tick_ms;
    int64_t ws_idle_ms; /* close a silent WebSocket after this (OKX: 30 s) */
    int max_subs;       /* per WebSocket connection */
    struct event *tick;
    int64_t last_drop_ms;
    ws_sess *sessions;
    uint64_t next_conn_id;
    /* counters for the status line */
    uint64_t rest_requests, ws_messages_out;
} sim_server;

typedef struct sim_server_opts {
    const char *host;
    int port;
    int tick_ms;        /* market step, 100 ms default */
    int64_t ws_idle_ms; /* 0 = WS_IDLE_MS */
    int max_subs;       /* 0 = WS_MAX_SUBS */
    /* connection limits (httpd.h; 0 = its default) */
    size_t max_conns, max_output;
    int request_timeout_ms, idle_timeout_ms;
} sim_server_opts;

/* Listen and start ticking; market and accounts must be loaded into s. */
int server_start(sim_server *s, const sim_server_opts *o, char *err, size_t errlen);
void server_stop(sim_server *s);
/* The server's clock: wall time plus the clock-skew fault. */
int64_t server_now_ms(const sim_server *s);
/* Apply a fault spec at run time (POST /sim/fault). */
int server_fault(sim_server *s, const char *spec, char *err, size_t errlen);

/* ------------------------------------------------------------ ws.c */

bool ws_upgrade(sim_server *s, sh_conn *c, const sh_req *r);
void ws_message(sim_server *s, sh_conn *c, const char *data, size_t len);
void ws_closed(sim_server *s, sh_conn *c);
/* Push what changed since the last tick; close idle connections. */
void ws_tick(sim_server *s, int64_t now_ms);
/* OKX's order-book checksum over the top 25 levels (signed CRC-32). */
int32_t ws_book_checksum(const sim_book *b);
/* Drop every WebSocket (fault). */
void ws_drop_all(sim_server *s);
void ws_free_all(sim_server *s);
/* The exchange's private pushes (sim_push). */
void ws_push_order(void *arg, sim_acct *a, const sim_order *o, json_t *data);
void ws_push_position(void *arg, sim_acct *a, json_t *data);
void ws_push_account(void *arg, sim_acct *a, json_t *data);
void ws_push_algo(void *arg, sim_acct *a, json_t *data);

#endif

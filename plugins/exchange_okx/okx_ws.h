/* One OKX WebSocket connection (public, private or business) that stays up:
 * login on private connections, subscriptions kept and re-sent after every
 * reconnect, text "ping" every 20 s, a reconnect when nothing arrived for
 * 30 s, jittered exponential backoff between attempts. Main loop only. */
#ifndef OKX_WS_H
#define OKX_WS_H

#include <stdbool.h>
#include <stdint.h>

#include <aitrader/host.h>

typedef struct okx_ws okx_ws;

typedef struct okx_ws_cbs {
    /* A data push or an op answer (not pong, not subscribe/login acks);
     * data is borrowed for the call. */
    void (*on_message)(void *arg, okx_ws *w, const char *data, size_t len);
    /* Up (connected, logged in, subscriptions sent) or down, with why. */
    void (*on_state)(void *arg, okx_ws *w, bool up, const char *detail);
    /* An {"event":"error"} answer (subscribe or login refused). */
    void (*on_error)(void *arg, okx_ws *w, const char *code, const char *msg);
} okx_ws_cbs;

typedef struct okx_ws_opts {
    const char *url;                           /* wss://ws.okx.com:8443/ws/v5/public */
    const char *name;                          /* "public", "private", "business": for logs */
    const char *api_key, *secret, *passphrase; /* set: log in first */
    int64_t ping_ms;                           /* 0 = 20 s */
    int64_t idle_ms;                           /* 0 = 30 s */
    int64_t backoff_min_ms;                    /* 0 = 500 ms */
    int64_t backoff_max_ms;                    /* 0 = 30 s */
    const char *proxy;     /* ws_open_proxy's; NULL = ws_open (borrowed: outlives the okx_ws) */
    at_metric *reconnects; /* counter += 1 per reconnect attempt; NULL = none */
} okx_ws_opts;

okx_ws *okx_ws_new(const at_host *h, at_instance *inst, const okx_ws_opts *o, const okx_ws_cbs *cbs,
                   void *arg);
void okx_ws_free(okx_ws *w);
/* Start connecting (and reconnecting until freed). */
int okx_ws_start(okx_ws *w);

/* Keep a subscription: `arg_json` is the arg object, e.g.
 * {"channel":"books","instId":"BTC-USDT-SWAP"} (copied). Sent now when up,
 * and again after every reconnect. */
int okx_ws_subscribe(okx_ws *w, const char *arg_json);
int okx_ws_unsubscribe(okx_ws *w, const char *arg_json);
/* Unsubscribe and subscribe again (a book with a sequence gap). */
int okx_ws_resubscribe(okx_ws *w, const char *arg_json);
/* Send an op (order, cancel-order …) now; AT_ESTATE when not up. */
int okx_ws_send(okx_ws *w, const char *json);
bool okx_ws_up(const okx_ws *w);
/* Reconnects so far (status lines, tests). */
int okx_ws_reconnects(const okx_ws *w);

#endif

/* The net thread: one libwebsockets context (Debian's lws has neither libevent
 * nor external-poll support, so it runs on its own thread). It serves client
 * WebSockets (ws://, wss://) and HTTP+WebSocket servers. Everything a plugin
 * sees happens on the main loop: frames and requests cross to the loop through
 * a mutex-guarded queue plus event_active(); sends cross to the net thread
 * through a queue plus lws_cancel_service(). No lws call is made outside the
 * net thread. Requires evthread_use_pthreads() before the base was created. */
#ifndef AT_CORE_NET_H
#define AT_CORE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include <aitrader/host.h>

typedef struct net net;

/* Creates the context and starts the thread. NULL on failure (logged). */
net *net_new(struct event_base *base);
/* Closes every connection and server (client on_close callbacks are NOT called
 * after this starts), joins the thread, frees. */
void net_free(net *n);

/* Bound of the receive queue in bytes (0 = NET_RXQ_MAX_DEFAULT, 16 MB): past
 * it the net thread stops reading from the connections that deliver, until
 * the main loop has taken half. Frames are never dropped. Any thread. */
void net_set_queue_max(net *n, size_t bytes);
/* Observed state of the receive queue (tests, metrics). */
typedef struct net_rx_stats {
    size_t bytes;    /* received and not yet handed to a plugin */
    size_t max;      /* the bound */
    bool paused;     /* some connection is not being read now */
    uint64_t pauses; /* episodes so far (one ALERT each) */
} net_rx_stats;
void net_get_rx_stats(net *n, net_rx_stats *st);

/* The proxy of client WebSockets opened with proxy NULL afterwards ([core]
 * proxy): "http://[user:password@]host:port", or NULL/""/"none" for none
 * (lws then follows the http_proxy environment variable, as before). A
 * CONNECT tunnel, for ws:// and wss:// alike. Main loop; AT_EINVAL when
 * at_proxy_valid refuses it. */
int net_set_proxy(net *n, const char *proxy);

/* Client WebSocket (host->ws_open etc.). `who` names the owner in logs. */
at_ws *net_ws_open(net *n, const char *who, const char *url, const at_ws_cbs *cbs, void *arg);
/* The same through `proxy`: NULL = net_set_proxy's, "" or "none" = direct,
 * else that proxy. NULL on a malformed URL or proxy. */
at_ws *net_ws_open_proxy(net *n, const char *who, const char *url, const char *proxy,
                         const at_ws_cbs *cbs, void *arg);
int net_ws_send(at_ws *ws, const char *data, size_t len);
void net_ws_close(at_ws *ws);

/* Servers (host->httpd_*). */
at_httpd *net_httpd_start(net *n, const char *who, const at_httpd_opts *opts,
                          const at_httpd_cbs *cbs, void *arg);
int net_httpd_port(const at_httpd *srv);
int net_httpd_respond(at_httpd *srv, uint64_t req_id, int status, const char *content_type,
                      const char *const *headers, size_t nheaders, const char *body, size_t len);
int net_httpd_ws_send(at_httpd_conn *conn, const char *data, size_t len);
void net_httpd_ws_broadcast(at_httpd *srv, const char *data, size_t len);
void net_httpd_stop(at_httpd *srv);

#endif

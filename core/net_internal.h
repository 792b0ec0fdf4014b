/* Internals of the net module (core/net*.c), shared between its files only.
 *
 * Two threads touch these structures:
 *  - the main loop: owns struct net's "main" fields and the public handles
 *    (at_ws, at_httpd, at_httpd_conn);
 *  - the net thread: owns every nt_* record and every lws object.
 * They meet only in the "shared" fields of struct net, under net->lock:
 * commands go to the net thread, deliveries come back. A record or handle is
 * handed over by queueing it; the sender never touches it again. */
#ifndef AT_CORE_NET_INTERNAL_H
#define AT_CORE_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <libwebsockets.h>

#include "net.h"

/* Largest inbound WebSocket message we reassemble (client and server). */
#define NET_MAX_MSG ((size_t)64 << 20)
/* Outbound bytes queued on one connection before we give up on the peer. */
#define NET_MAX_TXQ ((size_t)64 << 20)
/* lws receive buffer per connection: inbound frames arrive in chunks of this. */
#define NET_RX_BUFFER 65536
/* Response bodies are written in slices of this size, one per WRITEABLE. */
#define NET_HTTP_SLICE 65536
/* A body up to this size leaves in the same write as the head. */
#define NET_HTTP_INLINE 16384
/* How often held requests are checked for a client that left, and how long
 * a request may wait for its answer before we give up on it. */
#define NET_HELD_CHECK_US 250000
#define NET_HELD_MAX_US ((int64_t)300 * 1000000)
/* Default bound of the receive queue (net -> main loop, [core]
 * net_queue_max): past it the net thread stops reading from the sockets that
 * deliver, and reads again once the main loop has taken half of it. */
#define NET_RXQ_MAX_DEFAULT ((size_t)16 << 20)
/* A pause episode (one ALERT) ends when the main loop has caught up and
 * nothing was paused for this long. */
#define NET_RX_QUIET_US ((int64_t)5 * 1000000)
/* Deliveries the main loop hands to plugins per loop turn: the bus drains
 * (and timers run) between batches, so a backlog of frames does not reach the
 * bus all at once. */
#define NET_DLV_BATCH 256
/* Deliveries a loop turn while the bus is backlogged (see net_on_wake). */
#define NET_DLV_TRICKLE 4
/* Client vhosts with a proxy (one per proxy and TLS or not): a handful of
 * configured proxies at most. */
#define NET_MAX_PROXY_VHOSTS 8
/* Connections (client and server) the net thread serves at once. lws sizes
 * two tables by this, or by `ulimit -n` when unset (160 KB touched at 20000,
 * 16 MB reserved at Docker's 1048576). */
#define NET_MAX_CONNS 1024
/* One server's share of them: connections past it are closed as accepted,
 * so clients of the dashboard (unauthenticated until a request) cannot
 * starve the engine's own outgoing WebSockets. */
#define NET_SRV_MAX_CONNS 512
/* Upgrades a server takes at once; past it the handshake is a 503. */
#define NET_SRV_MAX_WS 256
/* Outbound bytes queued on one server connection (a browser) before it is
 * closed: 256 slow clients at NET_MAX_TXQ would be 16 GiB. */
#define NET_SRV_MAX_TXQ ((size_t)4 << 20)

/* ------------------------------------------------------------ id maps */

/* uint64 id (never 0) -> pointer; open addressing. Each map belongs to one
 * thread, so no locking. */
typedef struct net_map {
    uint64_t *keys;
    void **vals;
    size_t cap; /* power of two, or 0 */
    size_t len;
} net_map;

void *net_map_get(const net_map *m, uint64_t key);
int net_map_put(net_map *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL when absent. */
void *net_map_del(net_map *m, uint64_t key);
/* Any entry (for teardown loops); false when empty. */
bool net_map_any(const net_map *m, uint64_t *key, void **val);
void net_map_free(net_map *m);

/* ------------------------------------------------ outbound frame buffers */

/* A message with LWS_PRE bytes of headroom (lws_write writes the frame
 * header there) and a NUL after it. Reference-counted so one broadcast is
 * copied once whatever the number of clients; references are only taken and
 * dropped on the net thread once the buffer has been handed over. */
typedef struct net_buf {
    unsigned refs;
    size_t len;
    unsigned char mem[]; /* LWS_PRE + len + 1 */
} net_buf;

#define NET_BUF_DATA(b) ((b)->mem + LWS_PRE)

net_buf *net_buf_new(const void *data, size_t len);
void net_buf_unref(net_buf *b);

typedef struct net_frame {
    struct net_frame *next;
    net_buf *buf;
} net_frame;

/* Per-connection send queue, drained one frame per WRITEABLE. */
typedef struct net_txq {
    net_frame *head, *tail;
    size_t bytes;
} net_txq;

/* Takes a new reference on b. */
int net_txq_push(net_txq *q, net_buf *b);
net_buf *net_txq_front(const net_txq *q);
void net_txq_pop(net_txq *q);
void net_txq_clear(net_txq *q);

/* Reassembly of one inbound message from lws receive chunks. */
typedef struct net_rx {
    char *data;
    size_t len, cap;
    bool binary;
} net_rx;

/* Appends a chunk; `remaining` (lws_remaining_packet_payload) sizes the
 * buffer so a single-frame message is allocated once. AT_ERANGE past
 * NET_MAX_MSG, AT_ENOMEM. */
int net_rx_append(net_rx *rx, const void *in, size_t len, size_t remaining);
/* The complete NUL-terminated message; ownership moves to the caller. */
char *net_rx_take(net_rx *rx, size_t *len);
void net_rx_clear(net_rx *rx);

/* ------------------------------------------------ commands: main -> net */

typedef enum net_cmd_kind {
    NET_CMD_WS_OPEN,         /* payload: nt_ws */
    NET_CMD_WS_SEND,         /* id: ws, buf */
    NET_CMD_WS_CLOSE,        /* id: ws */
    NET_CMD_HTTPD_START,     /* payload: nt_srv, wait */
    NET_CMD_HTTPD_STOP,      /* id: server */
    NET_CMD_HTTPD_RESPOND,   /* id: request, payload: net_resp */
    NET_CMD_HTTPD_WS_SEND,   /* id: server connection, buf */
    NET_CMD_HTTPD_BROADCAST, /* id: server, buf */
} net_cmd_kind;

/* Where net_httpd_start waits for the net thread's verdict (on its stack). */
typedef struct net_start_wait {
    bool done;
    int err;
    int port;
    char why[160];
} net_start_wait;

typedef struct net_cmd {
    struct net_cmd *next;
    net_cmd_kind kind;
    uint64_t id;
    net_buf *buf;
    void *payload;
    net_start_wait *wait;
} net_cmd;

/* An answer to one HTTP request, built on the main loop. */
typedef struct net_resp {
    int status;
    char *ctype;
    char **hdrs; /* "Name: value" */
    size_t nhdrs;
    net_buf *body;
    bool no_store; /* add Cache-Control: no-store */
} net_resp;

void net_resp_free(net_resp *r);

/* --------------------------------------------- deliveries: net -> main */

typedef enum net_dlv_kind {
    NET_DLV_WS_OPEN,    /* id: ws */
    NET_DLV_WS_MSG,     /* id: ws, data/len/binary */
    NET_DLV_WS_CLOSE,   /* id: ws, code, data = reason */
    NET_DLV_REQUEST,    /* id: server, req */
    NET_DLV_REQ_GONE,   /* id: server, req_id */
    NET_DLV_CONN_OPEN,  /* id: server, conn (owned by the item until delivered) */
    NET_DLV_CONN_MSG,   /* id: server, conn, data/len */
    NET_DLV_CONN_CLOSE, /* id: server, conn */
} net_dlv_kind;

/* The strings of one HTTP request; moved, not copied, into the delivery. */
typedef struct net_req_info {
    char *method, *path, *query, *auth, *ctype, *peer;
    char *origin, *host; /* Origin and Host headers, "" when absent */
    char *body;
    size_t body_len, body_cap;
} net_req_info;

void net_req_info_clear(net_req_info *ri);

typedef struct net_dlv {
    struct net_dlv *next;
    net_dlv_kind kind;
    uint64_t id;
    uint64_t req_id;
    at_httpd_conn *conn;
    int code;
    bool binary;
    char *data; /* NUL-terminated, len bytes */
    size_t len;
    net_req_info req;
    size_t cost; /* bytes counted in net->rxq_bytes (set by net_post) */
} net_dlv;

/* ------------------------------------------------------- public handles */

struct at_ws {
    net *n;
    uint64_t id;
    char *who;
    at_ws_cbs cbs;
    void *arg;
    bool open;    /* on_open delivered and not closing */
    bool closing; /* net_ws_close called, or on_close running */
};

struct at_httpd_conn {
    uint64_t id;
    uint64_t srv_id;
    at_httpd *srv; /* set when the main loop adopts the connection */
    at_httpd_conn *prev, *next;
};

struct at_httpd {
    net *n;
    uint64_t id;
    char *who;
    at_httpd_cbs cbs;
    void *arg;
    int port;
    net_map pending;      /* request ids awaiting net_httpd_respond */
    at_httpd_conn *conns; /* open WebSocket clients */
};

/* ------------------------------------------------- net-thread records */

typedef struct nt_ws {
    net *n;
    uint64_t id;
    char *who;
    char *host;    /* address to connect to */
    char *hosthdr; /* Host and Origin header ("host[:port]") */
    char *path;    /* path and query */
    char *proxy;   /* "[user:password@]host:port" as lws takes it, or NULL = direct */
    int port;
    bool tls;
    struct lws *wsi;
    net_txq txq;
    net_rx rx;
    bool established;
    bool close_requested; /* by net_ws_close */
    bool in_connect;      /* inside lws_client_connect_via_info */
    bool done;            /* WS_CLOSE posted */
    bool rx_paused;       /* reading stopped: the main loop is behind */
    int peer_code;
    char *peer_reason;
} nt_ws;

typedef struct hconn hconn;

typedef struct nt_srv {
    net *n;
    uint64_t id;
    char *who;
    char name[32]; /* vhost name; lws keeps the pointer */
    char *listen;
    int port;
    char *static_dir;
    char *ws_path;
    char **ws_origins; /* NULL-terminated (at_httpd_opts.ws_origins), or NULL = no check */
    size_t max_body;
    struct lws_vhost *vh;
    /* Our own listening socket, adopted into lws as a raw fd: lws 4.1.6 binds
     * an IPv4 iface to every address when IPv6 is on, and does not close a
     * vhost's listener or connections before the context goes. */
    int listen_fd;
    struct lws *listen_wsi;
    hconn *conns;  /* every connection on the vhost */
    size_t nws;    /* upgraded connections not yet closed */
    size_t nconns; /* length of conns (<= NET_SRV_MAX_CONNS) */
    bool full;     /* refusing connections: said once per episode */
    bool stopping;
    bool killed; /* grace over: remaining connections were told to die */
    int64_t stop_deadline_us;
    struct nt_srv *next_dying;
} nt_srv;

typedef struct hreq {
    uint64_t id;
    hconn *hc;
    net_req_info info;
    size_t content_length;
    bool head;        /* HEAD: headers only */
    bool dispatched;  /* handed to on_request */
    bool abandoned;   /* client gone or answer overdue: being closed */
    int64_t since_us; /* when it was dispatched */
    bool too_big;     /* body over max_body: drained, answered 413 */
    bool early;       /* answered before its body (413 at once): drained, then closed */
    bool sent;        /* that early answer is written */
    bool drained;     /* its body is all read */
    int reject;       /* status the net thread answers itself once the body is in */
    net_resp *resp;
    bool hdrs_sent;
    size_t off; /* body bytes written */
} hreq;

/* One accepted connection on a server vhost (HTTP, then maybe WebSocket). */
struct hconn {
    nt_srv *srv;
    struct lws *wsi;
    hconn *prev, *next;
    hreq *req;        /* the HTTP transaction in progress */
    uint64_t conn_id; /* != 0 once upgraded */
    at_httpd_conn *h; /* the main loop's handle (never dereferenced here) */
    bool ws_closed;   /* CONN_CLOSE posted */
    bool closing;     /* close frame requested */
    bool rx_paused;   /* reading stopped: the main loop is behind */
    int close_code;
    net_txq txq;
    net_rx rx;
};

/* --------------------------------------------------------------- struct net */

struct net {
    struct event_base *base;
    struct event *wake; /* activated by the net thread when the inbox fills */
    struct lws_context *ctx;
    struct lws_vhost *client_vh; /* ws:// */
    /* wss://, made by the net thread at the first one (net_client_vhost);
     * client_tls is ours to free, after the context */
    struct lws_vhost *client_tls_vh;
    SSL_CTX *client_tls;
    /* clients through a proxy, a vhost per proxy and TLS or not (lws holds
     * the proxy per vhost), made by the net thread at their first use */
    struct net_proxy_vh {
        char *proxy;
        bool tls;
        char name[32]; /* lws keeps the pointer */
        struct lws_vhost *vh;
    } proxy_vhs[NET_MAX_PROXY_VHOSTS];
    size_t nproxy_vhs;
    pthread_t thread;

    /* shared, under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* httpd start verdicts */
    net_cmd *cmd_head, *cmd_tail;
    net_dlv *dlv_head, *dlv_tail;
    bool stop;

    /* receive queue bound, shared without the lock */
    _Atomic size_t rxq_bytes;     /* posted and not yet handed to a plugin */
    _Atomic size_t rxq_max;       /* net_set_queue_max */
    _Atomic bool rx_paused;       /* some connection is not being read */
    _Atomic bool rx_resume_asked; /* the main loop woke the thread to resume */
    _Atomic uint64_t rx_pauses;   /* pause episodes (one ALERT each) */

    /* main loop only */
    char *proxy; /* net_set_proxy, as lws takes it; NULL = none */
    uint64_t next_id;
    net_map ws_handles;  /* id -> at_ws */
    net_map srv_handles; /* id -> at_httpd */
    net_dlv *dlv_taken;  /* taken from the shared list, not yet delivered */

    /* net thread only */
    uint64_t nt_next_id;
    bool nt_closing;        /* context teardown: post nothing more */
    net_map nt_ws;          /* id -> nt_ws */
    net_map nt_srv;         /* id -> nt_srv */
    net_map nt_conn;        /* id -> hconn (upgraded) */
    net_map nt_req;         /* id -> hreq */
    nt_srv *dying;          /* stopped servers waiting for their clients to leave */
    bool nt_rx_episode;     /* paused since the main loop last caught up */
    int64_t nt_rx_pause_us; /* last pause (monotonic) */
    int64_t nt_next_held_check_us;
    lws_sorted_usec_list_t tick;
};

/* net.c */
/* The vhost client connections use (net thread), direct or through `proxy`
 * (as nt_ws.proxy); NULL when wss:// cannot be set up or there are too many
 * proxies (logged). */
struct lws_vhost *net_client_vhost(net *n, bool tls, const char *proxy);
/* A valid proxy setting (at_proxy_valid) as lws takes it: NULL for direct,
 * else "[user:password@]host:port" (malloc'd; *out NULL on no memory). */
int net_proxy_lws(const char *proxy, char **out);
/* host:port of an lws proxy string, without credentials, for logs (borrowed). */
const char *net_proxy_for_log(const char *lws_proxy);
/* Queue a command and wake the net thread (main loop). */
void net_cmd_send(net *n, net_cmd *c);
/* Queue a delivery for the main loop (net thread); frees it when shutting down. */
void net_post(net *n, net_dlv *d);
net_dlv *net_dlv_new(net_dlv_kind kind, uint64_t id);
/* After posting a message read from wsi (net thread): when the main loop is
 * more than rxq_max bytes behind, stop reading wsi (*paused records it; the
 * thread reads again once the main loop has caught up half way). */
void net_rx_throttle(net *n, struct lws *wsi, bool *paused);
void net_dlv_free(net_dlv *d);

/* net_ws.c: client WebSockets */
extern const struct lws_protocols net_ws_protocols[];
void net_ws_cmd(net *n, net_cmd *c);     /* net thread */
void net_ws_deliver(net *n, net_dlv *d); /* main loop */
void nt_ws_free(nt_ws *w);               /* net thread or teardown */
void net_ws_free_handles(net *n);        /* main loop, net_free */

/* net_httpd.c: servers */
extern const struct lws_protocols net_httpd_protocols[];
void net_httpd_cmd(net *n, net_cmd *c);     /* net thread */
void net_httpd_deliver(net *n, net_dlv *d); /* main loop */
void net_httpd_reap(net *n);                /* net thread: destroy drained vhosts */
/* Queue a delivery unless the server is stopping (net thread). */
void net_srv_post(nt_srv *s, net_dlv *d);
void nt_srv_free(nt_srv *s);
void net_httpd_free_handles(net *n); /* main loop, net_free */

/* net_http.c: HTTP transactions on a server vhost (net thread) */
int net_http_request(nt_srv *srv, hconn *hc, const char *uri);
int net_http_body(hconn *hc, const void *in, size_t len);
int net_http_body_done(hconn *hc);
int net_http_writeable(hconn *hc);
void net_http_respond(net *n, uint64_t req_id, net_resp *resp);
/* Closes held requests whose client left or whose answer is overdue. */
void net_http_check_held(net *n);
/* Frees hc->req; posts REQ_GONE when the main loop was waiting for it. */
void net_http_req_drop(hconn *hc);

#endif

/* Internals of the HTTP/WebSocket server shared by its three files: httpd.c
 * (connections, HTTP requests and answers), httpd_ws.c (RFC 6455 frames) and
 * httpd_limits.c (accepting, the connection cap, timeouts, slow clients). */
#ifndef OKX_SIM_HTTPD_INT_H
#define OKX_SIM_HTTPD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "httpd.h"

#define SH_MAX_HEAD 16384
#define SH_MAX_HEADERS 64

typedef enum { ST_HEAD, ST_BODY, ST_WAIT, ST_ANSWERED, ST_WS } conn_state;

typedef struct sh_linger sh_linger; /* a refused socket being drained (httpd_limits.c) */

/* What a connection's timer waits for; one timer per connection. */
typedef enum {
    T_NONE,
    T_REQUEST, /* the request being read must be complete by then */
    T_IDLE,    /* keep-alive: the next request must start by then */
    T_CLOSE,   /* closing: the rest of the output must be taken by then */
    T_DROP     /* dropped (slow consumer): freed on the next loop turn */
} timer_kind;

struct sh_server {
    struct event_base *base;
    struct evconnlistener *lis; /* NULL while sh_free runs */
    sh_cbs cbs;
    void *arg;
    int port;
    size_t max_body, max_conns, max_output;
    int request_timeout_ms, idle_timeout_ms;
    int delay_ms;
    sh_conn *conns;
    size_t nconns;
    /* accepting paused on EMFILE and the like: re-enabled by this timer or
     * when a connection closes */
    struct event *resume;
    bool paused;
    int64_t pause_logged_ms, refuse_logged_ms; /* rate limits of those log lines */
    sh_linger *lingering;                      /* refused sockets drained before closing */
    size_t nlingering;
    unsigned long long refused, pauses, timeouts, slow;
};

struct sh_conn {
    sh_server *srv;
    struct bufferevent *bev;
    sh_conn *prev, *next;
    char peer[48]; /* "addr:port", for log lines */
    conn_state st;
    /* the request being read */
    char *head; /* request line + headers, NUL-separated in place */
    char *method, *target, *path, *query;
    sh_header hdrs[SH_MAX_HEADERS];
    size_t nhdrs;
    char *body;
    size_t body_len;
    bool keep_alive;
    unsigned long requests; /* read so far */
    bool read_paused;       /* answers queued over max_output: read no further request */
    uint64_t out_taken;     /* bytes of output the client took so far */
    int64_t over_ms;        /* WebSocket output over max_output since (with progress), or 0 */
    uint64_t over_taken;    /* out_taken at over_ms */
    struct event *timer;    /* see timer_kind */
    timer_kind tk;
    struct event *delay;   /* latency fault: fires when the held answer may go */
    struct evbuffer *held; /* an answer made but not yet sent (latency fault) */
    /* WebSocket */
    char *msg; /* fragments of the message being received */
    size_t msg_len;
    bool closing; /* free once the output is flushed */
    bool dead;    /* freed at the end of the current callback */
    int depth;    /* callbacks in progress */
    void *user;
};

/* ------------------------------------------------------------ httpd.c */

/* A connection for an accepted socket (owned by s), or NULL with fd closed. */
sh_conn *sh_conn_new(sh_server *s, evutil_socket_t fd, const struct sockaddr *sa, int salen);
/* Mark dead (on_ws_close is called for a WebSocket); freed by sh_conn_release. */
void sh_conn_kill(sh_conn *c);
/* Free a dead connection once no callback of it is running. */
void sh_conn_release(sh_conn *c);
const char *sh_conn_header(const sh_conn *c, const char *name);
/* Forget the request read (head, body). */
void sh_req_reset(sh_conn *c);
/* Answer with a small JSON error and close. */
void sh_plain_answer(sh_conn *c, int status, const char *msg);

/* ------------------------------------------------------------ httpd_ws.c */

/* The request is a WebSocket upgrade: answered (101, or 404 when refused);
 * false when it is not one. */
bool sh_ws_try_upgrade(sh_conn *c);
/* Parse every complete frame in the input. */
void sh_ws_feed(sh_conn *c);

/* ------------------------------------------------------------ httpd_limits.c */

/* Listen with the accept callback, the cap and the EMFILE pause. */
int sh_limits_listen(sh_server *s, const struct sockaddr *sa, int salen);
/* The per-connection timer and write timeout of a new connection. */
int sh_limits_conn_init(sh_conn *c);
/* Set the connection's timer for its state (call after any change). */
void sh_conn_arm(sh_conn *c);
/* False when a WebSocket whose unsent output would become `backlog` does not
 * read (see sh_ws_send): the caller drops it with sh_conn_overflow. */
bool sh_conn_output_ok(sh_conn *c, size_t backlog);
/* A client that does not read: drop it. */
void sh_conn_overflow(sh_conn *c);
/* A client that took no output for request_timeout (write timeout). */
void sh_conn_stalled(sh_conn *c);
/* A connection was freed: accepting may go on. */
void sh_limits_conn_gone(sh_server *s);
/* Close the refused sockets still being drained (sh_free). */
void sh_limits_free(sh_server *s);

#endif

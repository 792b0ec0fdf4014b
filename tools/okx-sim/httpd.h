/* A small HTTP/1.1 + WebSocket (RFC 6455) server on libevent bufferevents.
 *
 * Why not the engine's libwebsockets server: lws percent-decodes the query
 * string ("%26" becomes "&"), and an OKX signature covers the request path and
 * query exactly as the client sent them. This server hands handlers the raw
 * request target, every header, and the raw body, all on the loop thread.
 * One request per connection at a time (keep-alive, pipelined requests are
 * answered in order, and not read while the answers already queued pass
 * max_output); bodies need Content-Length (no chunked uploads). */
#ifndef OKX_SIM_HTTPD_H
#define OKX_SIM_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

typedef struct sh_server sh_server;
typedef struct sh_conn sh_conn;

typedef struct sh_header {
    char *name, *value; /* name as sent; compare case-insensitively */
} sh_header;

/* A parsed request, borrowed for the callback. */
typedef struct sh_req {
    const char *method;
    const char *path;  /* raw, before '?' */
    const char *query; /* raw, after '?', or "" */
    const sh_header *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated */
    size_t body_len;
} sh_req;

/* A header's value, or NULL. */
const char *sh_req_header(const sh_req *r, const char *name);

typedef struct sh_cbs {
    /* A request: answer with sh_respond() before returning. */
    void (*on_request)(void *arg, sh_conn *c, const sh_req *r);
    /* An upgrade request: return true to accept it as a WebSocket. */
    bool (*on_upgrade)(void *arg, sh_conn *c, const sh_req *r);
    /* A complete text or binary message. */
    void (*on_ws_message)(void *arg, sh_conn *c, const char *data, size_t len);
    /* The WebSocket is gone (peer closed, error, sh_close); c is freed after. */
    void (*on_ws_close)(void *arg, sh_conn *c);
} sh_cbs;

/* Limits a hostile or broken client meets (defaults for 0). A client that
 * does not read cannot make the server queue without bound, one that does
 * not send cannot hold a connection forever, and running out of descriptors
 * pauses accepting instead of spinning on it. */
#define SH_MAX_CONNS 512            /* open connections; the surplus gets a 503 and is closed */
#define SH_MAX_OUTPUT (4u << 20)    /* bytes queued for one client (see sh_ws_send) */
#define SH_OUTPUT_GRACE_MS 1000     /* over max_output, a WebSocket taking nothing this long goes */
#define SH_OUTPUT_HARD_FACTOR 16    /* a WebSocket with this many max_outputs unsent goes at once */
#define SH_REQUEST_TIMEOUT_MS 10000 /* a request's head and body; a stalled send */
#define SH_IDLE_TIMEOUT_MS 60000    /* a keep-alive connection between requests */
#define SH_ACCEPT_RETRY_MS 1000     /* paused accepting (EMFILE) retries this often */
#define SH_LOG_EVERY_MS 10000       /* refusals and pauses are logged at most this often */

typedef struct sh_opts {
    const char *host;       /* bind address */
    int port;               /* 0 = any free port */
    size_t max_body;        /* 0 = 1 MiB */
    size_t max_conns;       /* 0 = SH_MAX_CONNS */
    size_t max_output;      /* 0 = SH_MAX_OUTPUT */
    int request_timeout_ms; /* 0 = SH_REQUEST_TIMEOUT_MS */
    int idle_timeout_ms;    /* 0 = SH_IDLE_TIMEOUT_MS */
} sh_opts;

/* What the limits did since the start (for logs and tests). */
typedef struct sh_counters {
    size_t open;                 /* connections open now */
    unsigned long long refused;  /* over max_conns: answered 503 and closed */
    unsigned long long pauses;   /* accept failed (EMFILE, ENFILE...) and was paused */
    unsigned long long timeouts; /* closed by the request, idle or close timeout */
    unsigned long long slow;     /* dropped: output over max_output or stalled */
} sh_counters;

sh_server *sh_listen(struct event_base *base, const sh_opts *o, const sh_cbs *cbs, void *arg);
int sh_port(const sh_server *s);
/* Closes every connection (on_ws_close is called for WebSockets) and frees. */
void sh_free(sh_server *s);
/* Hold every answer for ms before sending it (fault injection: the request
 * is acted on at once, only the answer is late). */
void sh_set_delay(sh_server *s, int ms);
void sh_counters_get(const sh_server *s, sh_counters *out);

/* Answer the current request. `extra` are "Name: value" lines, may be NULL. */
void sh_respond(sh_conn *c, int status, const char *ctype, const char *body, size_t len,
                const char *const *extra, size_t nextra);
/* Send a text frame; 0, or -1 when the connection is not an open WebSocket.
 * A client that does not read is dropped (as OKX drops slow consumers): -1,
 * and on_ws_close follows on the next loop turn. It does not read when its
 * unsent output would pass max_output and it took no byte of it for
 * SH_OUTPUT_GRACE_MS, or at once past SH_OUTPUT_HARD_FACTOR x max_output.
 * Output over max_output that the client is taking is kept: one subscribe op
 * may queue more snapshots than max_output at once, before any can be sent. */
int sh_ws_send(sh_conn *c, const char *data, size_t len);
/* Close a WebSocket with a close frame (code, reason) after queued data. */
void sh_ws_close(sh_conn *c, int code, const char *reason);
/* Drop a connection at once, without a close frame (fault injection). */
void sh_drop(sh_conn *c);
void sh_conn_set_user(sh_conn *c, void *user);
void *sh_conn_user(const sh_conn *c);
/* Bytes queued for sending on the connection (slow consumers). */
size_t sh_conn_backlog(const sh_conn *c);

#endif

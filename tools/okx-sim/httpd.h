/* A small HTTP/1.1 + WebSocket (RFC 6455) server on libevent bufferevents.
 *
 * Why not the engine's libwebsockets server: lws percent-decodes the query
 * string ("%26" becomes "&"), and an OKX signature covers the request path and
 * query exactly as the client sent them. This server hands handlers the raw
 * request target, every header, and the raw body, all on the loop thread.
 * One request per connection at a time (keep-alive, no pipelining
 * concurrency); bodies need Content-Length (no chunked uploads). */
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

typedef struct sh_opts {
    const char *host; /* bind address */
    int port;         /* 0 = any free port */
    size_t max_body;  /* 0 = 1 MiB */
} sh_opts;

sh_server *sh_listen(struct event_base *base, const sh_opts *o, const sh_cbs *cbs, void *arg);
int sh_port(const sh_server *s);
/* Closes every connection (on_ws_close is called for WebSockets) and frees. */
void sh_free(sh_server *s);
/* Hold every answer for ms before sending it (fault injection: the request
 * is acted on at once, only the answer is late). */
void sh_set_delay(sh_server *s, int ms);

/* Answer the current request. `extra` are "Name: value" lines, may be NULL. */
void sh_respond(sh_conn *c, int status, const char *ctype, const char *body, size_t len,
                const char *const *extra, size_t nextra);
/* Send a text frame; 0, or -1 when the connection is not an open WebSocket. */
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

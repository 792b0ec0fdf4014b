/* HTTP/1.1 + WebSocket server on libevent (see httpd.h for why). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "httpd.h"

#define SH_MAX_HEAD 16384
#define SH_MAX_HEADERS 64
#define SH_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef enum { ST_HEAD, ST_BODY, ST_WAIT, ST_ANSWERED, ST_WS } conn_state;

struct sh_server {
    struct event_base *base;
    struct evconnlistener *lis;
    sh_cbs cbs;
    void *arg;
    int port;
    size_t max_body;
    int delay_ms;
    sh_conn *conns;
};

struct sh_conn {
    sh_server *srv;
    struct bufferevent *bev;
    sh_conn *prev, *next;
    conn_state st;
    /* the request being read */
    char *head; /* request line + headers, NUL-separated in place */
    char *method, *target, *path, *query;
    sh_header hdrs[SH_MAX_HEADERS];
    size_t nhdrs;
    char *body;
    size_t body_len;
    bool keep_alive;
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

static void conn_free(sh_conn *c);

/* ------------------------------------------------------------ lifetime */

static void conn_release(sh_conn *c)
{
    if (c->depth == 0 && c->dead) {
        conn_free(c);
    }
}

static void conn_kill(sh_conn *c)
{
    if (c->dead) {
        return;
    }
    c->dead = true;
    if (c->st == ST_WS && c->srv->cbs.on_ws_close) {
        c->depth++;
        c->srv->cbs.on_ws_close(c->srv->arg, c);
        c->depth--;
    }
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

static void req_reset(sh_conn *c)
{
    free(c->head);
    free(c->body);
    c->head = c->body = NULL;
    c->method = c->target = c->path = c->query = NULL;
    c->nhdrs = 0;
    c->body_len = 0;
}

static void conn_free(sh_conn *c)
{
    sh_server *s = c->srv;
    if (c->prev) {
        c->prev->next = c->next;
    } else if (s->conns == c) {
        s->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    if (c->delay) {
        event_free(c->delay);
    }
    if (c->held) {
        evbuffer_free(c->held);
    }
    req_reset(c);
    free(c->msg);
    bufferevent_free(c->bev);
    free(c);
}

/* ---------------------------------------------------------- HTTP reading */

const char *sh_req_header(const sh_req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

static const char *conn_header(const sh_conn *c, const char *name)
{
    sh_req r = {.headers = c->hdrs, .nheaders = c->nhdrs};
    return sh_req_header(&r, name);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

static void plain_answer(sh_conn *c, int status, const char *msg)
{
    char body[160];
    int n =
        snprintf(body, sizeof(body), "{\"code\":\"%d\",\"msg\":\"%s\",\"data\":[]}", status, msg);
    c->keep_alive = false;
    c->st = ST_WAIT;
    sh_respond(c, status, "application/json", body, (size_t)n, NULL, 0);
}

/* Split the head in place; false on a malformed request. */
static bool parse_head(sh_conn *c)
{
    char *save = NULL;
    char *line = strtok_r(c->head, "\n", &save);
    if (!line) {
        return false;
    }
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2) {
        return false;
    }
    *sp1 = *sp2 = '\0';
    c->method = line;
    c->target = sp1 + 1;
    char *version = trim(sp2 + 1);
    c->keep_alive = strcmp(version, "HTTP/1.1") == 0;
    if (strncmp(version, "HTTP/1.", 7) != 0 || c->target[0] != '/') {
        return false;
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        line = trim(line);
        if (!*line) {
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon || c->nhdrs == SH_MAX_HEADERS) {
            return false;
        }
        *colon = '\0';
        c->hdrs[c->nhdrs].name = trim(line);
        c->hdrs[c->nhdrs].value = trim(colon + 1);
        c->nhdrs++;
    }
    const char *conn = conn_header(c, "Connection");
    if (conn && strcasestr(conn, "close")) {
        c->keep_alive = false;
    } else if (conn && strcasestr(conn, "keep-alive")) {
        c->keep_alive = true;
    }
    return true;
}

static void dispatch(sh_conn *c);

static void http_feed(sh_conn *c);

/* The latency fault holds answers, not requests: the exchange has acted on
 * the request at once and only the answer is late, which is what a client
 * that times out (or dies) meanwhile must cope with. */
static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    sh_conn *c = arg;
    if (!c->held || c->dead) {
        return;
    }
    evbuffer_add_buffer(bufferevent_get_output(c->bev), c->held);
    evbuffer_free(c->held);
    c->held = NULL;
    if (!c->keep_alive) {
        c->closing = true;
        return;
    }
    bufferevent_enable(c->bev, EV_READ);
    c->depth++;
    if (c->st == ST_ANSWERED) {
        req_reset(c);
        c->st = ST_HEAD;
        http_feed(c);
    }
    c->depth--;
    conn_release(c);
}

static void request_ready(sh_conn *c)
{
    c->st = ST_WAIT;
    /* Split the target only now: the path/query pointers point into head. */
    c->path = c->target;
    char *q = strchr(c->target, '?');
    if (q) {
        *q = '\0';
        c->query = q + 1;
    } else {
        c->query = "";
    }
    if (!c->body) {
        c->body = calloc(1, 1);
    }
    dispatch(c);
}

static void ws_feed(sh_conn *c);

/* Read as much of the next request as has arrived. */
static void http_feed(sh_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->dead && !c->closing) {
        if (c->st == ST_WS) {
            ws_feed(c);
            return;
        }
        if (c->st == ST_HEAD) {
            struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (p.pos < 0) {
                if (evbuffer_get_length(in) > SH_MAX_HEAD) {
                    plain_answer(c, 431, "Request header fields too large");
                }
                return;
            }
            size_t hl = (size_t)p.pos + 4;
            if (hl > SH_MAX_HEAD) {
                plain_answer(c, 431, "Request header fields too large");
                return;
            }
            c->head = malloc(hl + 1);
            if (!c->head) {
                conn_kill(c);
                return;
            }
            evbuffer_remove(in, c->head, hl);
            c->head[hl] = '\0';
            if (!parse_head(c)) {
                plain_answer(c, 400, "Bad request");
                return;
            }
            const char *te = conn_header(c, "Transfer-Encoding");
            if (te && strcasecmp(te, "identity") != 0) {
                plain_answer(c, 411, "Length required");
                return;
            }
            const char *cl = conn_header(c, "Content-Length");
            char *end = NULL;
            unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
            if (cl && (end == cl || *end)) {
                plain_answer(c, 400, "Bad Content-Length");
                return;
            }
            if (n > c->srv->max_body) {
                plain_answer(c, 413, "Request body too large");
                return;
            }
            c->body_len = (size_t)n;
            c->st = ST_BODY;
        }
        if (c->st == ST_BODY) {
            if (evbuffer_get_length(in) < c->body_len) {
                return;
            }
            c->body = malloc(c->body_len + 1);
            if (!c->body) {
                conn_kill(c);
                return;
            }
            evbuffer_remove(in, c->body, c->body_len);
            c->body[c->body_len] = '\0';
            request_ready(c);
        }
        if (c->st == ST_WAIT || c->held) {
            return; /* the answer is held (latency fault): on_delay goes on */
        }
        if (c->st == ST_ANSWERED) {
            req_reset(c);
            c->st = ST_HEAD;
        }
    }
}

/* ---------------------------------------------------------- WebSocket */

static bool ws_accept_key(const char *key, char out[64])
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s%s", key, SH_WS_GUID);
    if (n <= 0 || (size_t)n >= sizeof(buf)) {
        return false;
    }
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
    return true;
}

static bool try_upgrade(sh_conn *c)
{
    const char *up = conn_header(c, "Upgrade");
    if (!up || strcasecmp(up, "websocket") != 0) {
        return false;
    }
    const char *key = conn_header(c, "Sec-WebSocket-Key");
    char acc[64];
    sh_req r = {c->method, c->path, c->query, c->hdrs, c->nhdrs, c->body, c->body_len};
    if (!key || !ws_accept_key(key, acc) || !c->srv->cbs.on_upgrade ||
        !c->srv->cbs.on_upgrade(c->srv->arg, c, &r)) {
        plain_answer(c, 404, "Not found");
        return true;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                        acc);
    req_reset(c);
    c->st = ST_WS;
    return true;
}

static void dispatch(sh_conn *c)
{
    bufferevent_enable(c->bev, EV_READ);
    if (try_upgrade(c)) {
        if (c->st == ST_WS) {
            ws_feed(c); /* frames may have arrived with the upgrade */
        }
        return;
    }
    sh_req r = {c->method, c->path, c->query, c->hdrs, c->nhdrs, c->body, c->body_len};
    if (c->srv->cbs.on_request) {
        c->srv->cbs.on_request(c->srv->arg, c, &r);
    }
    if (c->st == ST_WAIT) {
        plain_answer(c, 500, "No answer");
    }
    if (c->st == ST_ANSWERED && !c->dead && !c->closing && !c->held) {
        req_reset(c);
        c->st = ST_HEAD;
        http_feed(c);
    }
}

static void ws_frame(sh_conn *c, int opcode, const char *data, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    unsigned char hdr[10];
    size_t hl = 2;
    hdr[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[1] = (unsigned char)len;
    } else if (len < 65536) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(len >> 8);
        hdr[3] = (unsigned char)len;
        hl = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++) {
            hdr[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        }
        hl = 10;
    }
    evbuffer_add(out, hdr, hl);
    if (len) {
        evbuffer_add(out, data, len);
    }
}

int sh_ws_send(sh_conn *c, const char *data, size_t len)
{
    if (!c || c->st != ST_WS || c->dead || c->closing) {
        return -1;
    }
    ws_frame(c, 1, data, len);
    return 0;
}

void sh_ws_close(sh_conn *c, int code, const char *reason)
{
    if (!c || c->st != ST_WS || c->dead || c->closing) {
        return;
    }
    char buf[125];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > sizeof(buf) - 2) {
        rl = sizeof(buf) - 2;
    }
    buf[0] = (char)(code >> 8);
    buf[1] = (char)code;
    if (rl) {
        memcpy(buf + 2, reason, rl);
    }
    ws_frame(c, 8, buf, rl + 2);
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
}

/* Parse every complete frame in the input. */
static void ws_feed(sh_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->dead && !c->closing) {
        size_t avail = evbuffer_get_length(in);
        unsigned char h[14];
        if (avail < 2) {
            return;
        }
        evbuffer_copyout(in, h, avail < 14 ? avail : 14);
        bool fin = h[0] & 0x80;
        int op = h[0] & 0x0f;
        bool masked = h[1] & 0x80;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            hl = 4;
            if (avail < hl) {
                return;
            }
            len = ((uint64_t)h[2] << 8) | h[3];
        } else if (len == 127) {
            hl = 10;
            if (avail < hl) {
                return;
            }
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | h[2 + i];
            }
        }
        if (!masked || len > c->srv->max_body || (op >= 8 && (len > 125 || !fin))) {
            /* RFC 6455 5.1: clients must mask; control frames are short. */
            sh_ws_close(c, 1002, "protocol error");
            return;
        }
        if (avail < hl + 4 + len) {
            return;
        }
        unsigned char mask[4];
        evbuffer_drain(in, hl);
        evbuffer_remove(in, mask, 4);
        char *p = malloc((size_t)len + 1);
        if (!p) {
            conn_kill(c);
            return;
        }
        evbuffer_remove(in, p, (size_t)len);
        for (uint64_t i = 0; i < len; i++) {
            p[i] ^= (char)mask[i & 3];
        }
        p[len] = '\0';
        if (op == 8) {
            free(p);
            sh_ws_close(c, 1000, "");
            return;
        }
        if (op == 9) {
            ws_frame(c, 10, p, (size_t)len);
            free(p);
            continue;
        }
        if (op == 10) {
            free(p);
            continue;
        }
        if (op != 0 && op != 1 && op != 2) {
            free(p);
            sh_ws_close(c, 1002, "unknown opcode");
            return;
        }
        if (op != 0 || c->msg) {
            /* Append to the message being assembled. */
            if (op != 0 && c->msg) {
                free(p);
                sh_ws_close(c, 1002, "expected continuation");
                return;
            }
            char *m = realloc(c->msg, c->msg_len + (size_t)len + 1);
            if (!m || c->msg_len + len > c->srv->max_body) {
                free(m ? m : c->msg);
                c->msg = NULL;
                free(p);
                sh_ws_close(c, 1009, "message too big");
                return;
            }
            memcpy(m + c->msg_len, p, (size_t)len);
            c->msg = m;
            c->msg_len += (size_t)len;
            c->msg[c->msg_len] = '\0';
            free(p);
        } else {
            free(p);
            sh_ws_close(c, 1002, "unexpected continuation");
            return;
        }
        if (fin) {
            char *m = c->msg;
            size_t ml = c->msg_len;
            c->msg = NULL;
            c->msg_len = 0;
            if (c->srv->cbs.on_ws_message) {
                c->srv->cbs.on_ws_message(c->srv->arg, c, m, ml);
            }
            free(m);
        }
    }
}

/* ---------------------------------------------------------- responses */

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Status";
    }
}

void sh_respond(sh_conn *c, int status, const char *ctype, const char *body, size_t len,
                const char *const *extra, size_t nextra)
{
    if (!c || c->st != ST_WAIT || c->dead) {
        return;
    }
    bool hold = c->srv->delay_ms > 0 && c->st == ST_WAIT;
    if (hold && !c->delay) {
        c->delay = evtimer_new(c->srv->base, on_delay, c);
    }
    hold = hold && c->delay && (c->held = evbuffer_new());
    struct evbuffer *out = hold ? c->held : bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                        status, reason_of(status), ctype ? ctype : "application/json", len);
    for (size_t i = 0; i < nextra; i++) {
        evbuffer_add_printf(out, "%s\r\n", extra[i]);
    }
    evbuffer_add_printf(out, "%s\r\n", c->keep_alive ? "" : "Connection: close\r\n");
    if (len) {
        evbuffer_add(out, body, len);
    }
    c->st = ST_ANSWERED;
    if (hold) {
        struct timeval tv = {c->srv->delay_ms / 1000, (c->srv->delay_ms % 1000) * 1000};
        evtimer_add(c->delay, &tv);
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (!c->keep_alive) {
        c->closing = true;
        bufferevent_disable(c->bev, EV_READ);
    }
}

/* ---------------------------------------------------------- events */

static void on_read(struct bufferevent *bev, void *arg)
{
    sh_conn *c = arg;
    c->depth++;
    http_feed(c);
    c->depth--;
    conn_release(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    sh_conn *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        conn_kill(c);
        conn_release(c);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    sh_conn *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        conn_kill(c);
        conn_release(c);
    }
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    sh_server *s = arg;
    sh_conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev = c ? bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
    c->srv = s;
    c->bev = bev;
    c->next = s->conns;
    if (s->conns) {
        s->conns->prev = c;
    }
    s->conns = c;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

sh_server *sh_listen(struct event_base *base, const sh_opts *o, const sh_cbs *cbs, void *arg)
{
    sh_server *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host ? o->host : "127.0.0.1", &sin.sin_addr) != 1) {
        free(s);
        return NULL;
    }
    s->base = base;
    s->cbs = *cbs;
    s->arg = arg;
    s->max_body = o->max_body ? o->max_body : (1u << 20);
    s->lis = evconnlistener_new_bind(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                     512, (struct sockaddr *)&sin, sizeof(sin));
    if (!s->lis) {
        free(s);
        return NULL;
    }
    struct sockaddr_in got;
    socklen_t gl = sizeof(got);
    getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&got, &gl);
    s->port = ntohs(got.sin_port);
    return s;
}

int sh_port(const sh_server *s)
{
    return s->port;
}

void sh_set_delay(sh_server *s, int ms)
{
    s->delay_ms = ms < 0 ? 0 : ms;
}

void sh_free(sh_server *s)
{
    if (!s) {
        return;
    }
    evconnlistener_free(s->lis);
    while (s->conns) {
        sh_conn *c = s->conns;
        conn_kill(c);
        c->depth = 0;
        conn_free(c);
    }
    free(s);
}

void sh_drop(sh_conn *c)
{
    if (c && !c->dead) {
        conn_kill(c);
        conn_release(c);
    }
}

void sh_conn_set_user(sh_conn *c, void *user)
{
    c->user = user;
}

void *sh_conn_user(const sh_conn *c)
{
    return c->user;
}

size_t sh_conn_backlog(const sh_conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

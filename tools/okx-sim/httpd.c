/* HTTP/1.1 + WebSocket server on libevent (see httpd.h for why): connections,
 * HTTP requests and answers. Frames are in httpd_ws.c, limits in
 * httpd_limits.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "httpd_int.h"

static void conn_free(sh_conn *c);

/* ------------------------------------------------------------ lifetime */

void sh_conn_release(sh_conn *c)
{
    if (c->depth == 0 && c->dead) {
        conn_free(c);
    }
}

void sh_conn_kill(sh_conn *c)
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

void sh_req_reset(sh_conn *c)
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
    s->nconns--;
    if (c->timer) {
        event_free(c->timer);
    }
    if (c->delay) {
        event_free(c->delay);
    }
    if (c->held) {
        evbuffer_free(c->held);
    }
    sh_req_reset(c);
    free(c->msg);
    bufferevent_free(c->bev);
    free(c);
    sh_limits_conn_gone(s);
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

const char *sh_conn_header(const sh_conn *c, const char *name)
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

void sh_plain_answer(sh_conn *c, int status, const char *msg)
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
    const char *conn = sh_conn_header(c, "Connection");
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
    c->depth++;
    if (!c->keep_alive) {
        c->closing = true;
    } else {
        bufferevent_enable(c->bev, EV_READ);
        if (c->st == ST_ANSWERED) {
            sh_req_reset(c);
            c->st = ST_HEAD;
            http_feed(c);
        }
    }
    sh_conn_arm(c);
    c->depth--;
    sh_conn_release(c);
}

static void request_ready(sh_conn *c)
{
    c->st = ST_WAIT;
    c->requests++;
    sh_conn_arm(c); /* the request deadline is met; the next one starts afresh */
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

/* Read as much of the next request as has arrived. */
static void http_feed(sh_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->dead && !c->closing) {
        if (c->st == ST_WS) {
            sh_ws_feed(c);
            return;
        }
        if (c->st == ST_HEAD) {
            /* A client that sends requests without reading the answers
             * would make us queue without bound: read no further request
             * until the answers queued so far are taken (on_write). */
            if (sh_conn_backlog(c) >= c->srv->max_output) {
                c->read_paused = true;
                bufferevent_disable(c->bev, EV_READ);
                return;
            }
            struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (p.pos < 0) {
                if (evbuffer_get_length(in) > SH_MAX_HEAD) {
                    sh_plain_answer(c, 431, "Request header fields too large");
                }
                return;
            }
            size_t hl = (size_t)p.pos + 4;
            if (hl > SH_MAX_HEAD) {
                sh_plain_answer(c, 431, "Request header fields too large");
                return;
            }
            c->head = malloc(hl + 1);
            if (!c->head) {
                sh_conn_kill(c);
                return;
            }
            evbuffer_remove(in, c->head, hl);
            c->head[hl] = '\0';
            if (!parse_head(c)) {
                sh_plain_answer(c, 400, "Bad request");
                return;
            }
            const char *te = sh_conn_header(c, "Transfer-Encoding");
            if (te && strcasecmp(te, "identity") != 0) {
                sh_plain_answer(c, 411, "Length required");
                return;
            }
            const char *cl = sh_conn_header(c, "Content-Length");
            char *end = NULL;
            unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
            if (cl && (end == cl || *end)) {
                sh_plain_answer(c, 400, "Bad Content-Length");
                return;
            }
            if (n > c->srv->max_body) {
                sh_plain_answer(c, 413, "Request body too large");
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
                sh_conn_kill(c);
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
            sh_req_reset(c);
            c->st = ST_HEAD;
        }
    }
}

static void dispatch(sh_conn *c)
{
    bufferevent_enable(c->bev, EV_READ);
    if (sh_ws_try_upgrade(c)) {
        if (c->st == ST_WS) {
            sh_ws_feed(c); /* frames may have arrived with the upgrade */
        }
        return;
    }
    sh_req r = {c->method, c->path, c->query, c->hdrs, c->nhdrs, c->body, c->body_len};
    if (c->srv->cbs.on_request) {
        c->srv->cbs.on_request(c->srv->arg, c, &r);
    }
    if (c->st == ST_WAIT) {
        sh_plain_answer(c, 500, "No answer");
    }
    if (c->st == ST_ANSWERED && !c->dead && !c->closing && !c->held) {
        sh_req_reset(c);
        c->st = ST_HEAD;
        http_feed(c);
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
    sh_conn_arm(c);
    c->depth--;
    sh_conn_release(c);
}

/* Called when the output has drained (the write low watermark is 0). */
static void on_write(struct bufferevent *bev, void *arg)
{
    sh_conn *c = arg;
    if (c->dead) {
        return;
    }
    if (c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
            sh_conn_kill(c);
            sh_conn_release(c);
        }
        return;
    }
    if (c->read_paused) {
        /* The client took its answers: read its next requests, including
         * those already buffered (no read event announces them). */
        c->read_paused = false;
        bufferevent_enable(bev, EV_READ);
        c->depth++;
        http_feed(c);
        sh_conn_arm(c);
        c->depth--;
        sh_conn_release(c);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    sh_conn *c = arg;
    if (what & BEV_EVENT_TIMEOUT) {
        sh_conn_stalled(c);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        sh_conn_kill(c);
        sh_conn_release(c);
    }
}

sh_conn *sh_conn_new(sh_server *s, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
    sh_conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev = c ? bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        free(c);
        evutil_closesocket(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->srv = s;
    c->bev = bev;
    if (sa && sa->sa_family == AF_INET && (size_t)salen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else {
        snprintf(c->peer, sizeof(c->peer), "a client");
    }
    c->next = s->conns;
    if (s->conns) {
        s->conns->prev = c;
    }
    s->conns = c;
    s->nconns++;
    if (sh_limits_conn_init(c) != 0) {
        c->dead = true;
        conn_free(c); /* closes fd with the bufferevent */
        return NULL;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    sh_conn_arm(c);
    return c;
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
    s->max_conns = o->max_conns ? o->max_conns : SH_MAX_CONNS;
    s->max_output = o->max_output ? o->max_output : SH_MAX_OUTPUT;
    s->request_timeout_ms =
        o->request_timeout_ms > 0 ? o->request_timeout_ms : SH_REQUEST_TIMEOUT_MS;
    s->idle_timeout_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms : SH_IDLE_TIMEOUT_MS;
    if (sh_limits_listen(s, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
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

void sh_counters_get(const sh_server *s, sh_counters *out)
{
    *out = (sh_counters){.open = s->nconns,
                         .refused = s->refused,
                         .pauses = s->pauses,
                         .timeouts = s->timeouts,
                         .slow = s->slow};
}

void sh_free(sh_server *s)
{
    if (!s) {
        return;
    }
    evconnlistener_free(s->lis);
    s->lis = NULL; /* freeing connections must not re-enable it */
    if (s->resume) {
        event_free(s->resume);
        s->resume = NULL;
    }
    while (s->conns) {
        sh_conn *c = s->conns;
        sh_conn_kill(c);
        c->depth = 0;
        conn_free(c);
    }
    sh_limits_free(s);
    free(s);
}

void sh_drop(sh_conn *c)
{
    if (c && !c->dead) {
        sh_conn_kill(c);
        sh_conn_release(c);
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

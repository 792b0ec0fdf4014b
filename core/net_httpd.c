/* HTTP + WebSocket servers of the net module: one lws vhost per server.
 *
 * Main loop side: at_httpd and at_httpd_conn handles, start (which waits
 * for the net thread's bind verdict), respond/send/broadcast/stop commands,
 * delivery of requests and WebSocket events to the plugin. Net thread side:
 * vhost lifecycle, the vhost's single protocol (HTTP and WebSocket both:
 * being protocols[0] it is also what a client sending no subprotocol binds
 * to) and the WebSocket half of it; HTTP transactions are in net_http.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <aitrader/origin.h>

#include "log.h"
#include "net_internal.h"
#include "util.h"

#define NET_DEFAULT_MAX_BODY ((size_t)1 << 20)
/* How long a stopped server waits for its WebSocket clients to acknowledge
 * the close frame before the vhost is destroyed anyway. */
#define NET_STOP_GRACE_US 1000000

void nt_srv_free(nt_srv *s)
{
    if (!s) {
        return;
    }
    free(s->who);
    free(s->listen);
    free(s->static_dir);
    free(s->ws_path);
    for (size_t i = 0; s->ws_origins && s->ws_origins[i]; i++) {
        free(s->ws_origins[i]);
    }
    free(s->ws_origins);
    free(s);
}

void net_srv_post(nt_srv *s, net_dlv *d)
{
    if (s->stopping) {
        net_dlv_free(d); /* the main loop has forgotten this server */
        return;
    }
    net_post(s->n, d);
}

/* ------------------------------------------------------ main loop API */

static void httpd_free(at_httpd *h)
{
    for (at_httpd_conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    net_map_free(&h->pending);
    free(h->who);
    free(h);
}

at_httpd *net_httpd_start(net *n, const char *who, const at_httpd_opts *opts,
                          const at_httpd_cbs *cbs, void *arg)
{
    at_httpd_opts o = opts ? *opts : (at_httpd_opts){0};
    const char *listen = o.listen && *o.listen ? o.listen : "127.0.0.1";
    who = who ? who : "net";
    if (!n || o.port < 0 || o.port > 65535 || (o.ws_path && o.ws_path[0] != '/')) {
        log_msg(who, AT_LOG_ERROR, "httpd: invalid options (port %d, ws_path '%s')", o.port,
                o.ws_path ? o.ws_path : "");
        return NULL;
    }
    at_httpd *h = calloc(1, sizeof(*h));
    nt_srv *s = calloc(1, sizeof(*s));
    net_cmd *c = calloc(1, sizeof(*c));
    if (!h || !s || !c) {
        goto nomem;
    }
    h->who = at_strdup(who);
    s->who = at_strdup(who);
    s->listen = at_strdup(listen);
    if (!h->who || !s->who || !s->listen) {
        goto nomem;
    }
    if (o.static_dir && *o.static_dir) {
        size_t len = strlen(o.static_dir);
        while (len > 1 && o.static_dir[len - 1] == '/') {
            len--;
        }
        s->static_dir = at_strndup(o.static_dir, len);
        if (!s->static_dir) {
            goto nomem;
        }
        if (access(s->static_dir, R_OK | X_OK) != 0) {
            log_msg(who, AT_LOG_WARN, "httpd: static_dir %s is not readable", s->static_dir);
        }
    }
    if (o.ws_path && !(s->ws_path = at_strdup(o.ws_path))) {
        goto nomem;
    }
    if (o.ws_origins) {
        size_t k = 0;
        while (o.ws_origins[k]) {
            k++;
        }
        if (!(s->ws_origins = calloc(k + 1, sizeof(char *)))) {
            goto nomem;
        }
        for (size_t i = 0; i < k; i++) {
            if (!(s->ws_origins[i] = at_strdup(o.ws_origins[i]))) {
                goto nomem;
            }
        }
    }
    s->n = n;
    s->port = o.port;
    s->max_body = o.max_body ? o.max_body : NET_DEFAULT_MAX_BODY;
    s->id = h->id = ++n->next_id;
    snprintf(s->name, sizeof(s->name), "httpd-%llu", (unsigned long long)s->id);

    net_start_wait w;
    memset(&w, 0, sizeof(w));
    c->kind = NET_CMD_HTTPD_START;
    c->id = s->id;
    c->payload = s;
    c->wait = &w;
    net_cmd_send(n, c);
    /* Binding happens on the net thread; it always answers, and quickly
     * (its only long waits are client DNS lookups). */
    pthread_mutex_lock(&n->lock);
    while (!w.done) {
        pthread_cond_wait(&n->cond, &n->lock);
    }
    pthread_mutex_unlock(&n->lock);
    if (w.err) {
        log_msg(who, AT_LOG_ERROR, "httpd: cannot listen on %s port %d: %s", listen, o.port, w.why);
        httpd_free(h);
        return NULL;
    }

    h->n = n;
    h->port = w.port;
    h->arg = arg;
    if (cbs) {
        h->cbs = *cbs;
    }
    if (net_map_put(&n->srv_handles, h->id, h) < 0) {
        /* the server runs but we cannot route to it: stop it again */
        net_httpd_stop(h);
        log_msg(who, AT_LOG_ERROR, "httpd: out of memory");
        return NULL;
    }
    log_msg(who, AT_LOG_INFO, "httpd: listening on %s port %d", listen, h->port);
    return h;

nomem:
    log_msg(who, AT_LOG_ERROR, "httpd: out of memory");
    if (h) {
        httpd_free(h);
    }
    nt_srv_free(s);
    free(c);
    return NULL;
}

int net_httpd_port(const at_httpd *srv)
{
    return srv ? srv->port : AT_EINVAL;
}

/* A header line must be "Name: value" with a token name and no CR/LF
 * anywhere (they would let a value inject headers). */
static bool header_ok(const char *h)
{
    const char *colon = h ? strchr(h, ':') : NULL;
    if (!colon || colon == h || colon - h > 100 || strpbrk(h, "\r\n")) {
        return false;
    }
    for (const char *p = h; p < colon; p++) {
        if (!strchr("!#$%&'*+-.^_`|~", *p) &&
            !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            return false;
        }
    }
    return true;
}

int net_httpd_respond(at_httpd *srv, uint64_t req_id, int status, const char *content_type,
                      const char *const *headers, size_t nheaders, const char *body, size_t len)
{
    if (!srv || status < 100 || status > 999 || (!body && len) || (nheaders && !headers) ||
        (content_type && strpbrk(content_type, "\r\n"))) {
        return AT_EINVAL;
    }
    for (size_t i = 0; i < nheaders; i++) {
        if (!header_ok(headers[i])) {
            return AT_EINVAL;
        }
    }
    if (!net_map_get(&srv->pending, req_id)) {
        return AT_ENOENT; /* unknown, answered already, or the client left */
    }
    net_cmd *c = calloc(1, sizeof(*c));
    net_resp *r = calloc(1, sizeof(*r));
    if (!c || !r) {
        goto nomem;
    }
    r->status = status;
    r->no_store = true;
    r->ctype =
        at_strdup(content_type && *content_type ? content_type : "text/plain; charset=utf-8");
    r->body = net_buf_new(body, len);
    r->hdrs = nheaders ? calloc(nheaders, sizeof(char *)) : NULL;
    if (!r->ctype || !r->body || (nheaders && !r->hdrs)) {
        goto nomem;
    }
    for (size_t i = 0; i < nheaders; i++, r->nhdrs++) {
        if (!(r->hdrs[i] = at_strdup(headers[i]))) {
            goto nomem;
        }
    }
    net_map_del(&srv->pending, req_id);
    c->kind = NET_CMD_HTTPD_RESPOND;
    c->id = req_id;
    c->payload = r;
    net_cmd_send(srv->n, c);
    return AT_OK;

nomem:
    free(c);
    net_resp_free(r);
    return AT_ENOMEM;
}

static int httpd_send(net *n, net_cmd_kind kind, uint64_t id, const char *data, size_t len)
{
    if (len > NET_MAX_MSG) {
        return AT_ERANGE;
    }
    net_cmd *c = calloc(1, sizeof(*c));
    net_buf *b = net_buf_new(data, len);
    if (!c || !b) {
        free(c);
        net_buf_unref(b);
        return AT_ENOMEM;
    }
    c->kind = kind;
    c->id = id;
    c->buf = b;
    net_cmd_send(n, c);
    return AT_OK;
}

int net_httpd_ws_send(at_httpd_conn *conn, const char *data, size_t len)
{
    if (!conn || !conn->srv || (!data && len)) {
        return AT_EINVAL;
    }
    return httpd_send(conn->srv->n, NET_CMD_HTTPD_WS_SEND, conn->id, data, len);
}

void net_httpd_ws_broadcast(at_httpd *srv, const char *data, size_t len)
{
    if (!srv || (!data && len) || !srv->conns) {
        return;
    }
    int rc = httpd_send(srv->n, NET_CMD_HTTPD_BROADCAST, srv->id, data, len);
    if (rc < 0) {
        log_msg(srv->who, AT_LOG_WARN, "httpd: broadcast dropped: %s", at_strerror(rc));
    }
}

void net_httpd_stop(at_httpd *srv)
{
    if (!srv) {
        return;
    }
    net *n = srv->n;
    net_map_del(&n->srv_handles, srv->id);
    net_cmd *c = calloc(1, sizeof(*c));
    if (c) {
        c->kind = NET_CMD_HTTPD_STOP;
        c->id = srv->id;
        net_cmd_send(n, c);
    } else {
        /* the vhost lives on until net_free; nothing reaches the plugin */
        log_msg(srv->who, AT_LOG_ERROR, "httpd: out of memory stopping; port %d stays open",
                srv->port);
    }
    log_msg(srv->who, AT_LOG_INFO, "httpd: stopped (port %d)", srv->port);
    httpd_free(srv);
}

void net_httpd_deliver(net *n, net_dlv *d)
{
    at_httpd *h = net_map_get(&n->srv_handles, d->id);
    if (!h) {
        return; /* stopped meanwhile; net_dlv_free frees an unadopted conn */
    }
    switch (d->kind) {
    case NET_DLV_REQUEST: {
        if (net_map_put(&h->pending, d->req_id, h) < 0) {
            log_msg(h->who, AT_LOG_ERROR, "httpd: out of memory; request dropped");
            return;
        }
        at_httpd_req r = {
            .id = d->req_id,
            .method = d->req.method ? d->req.method : "GET",
            .path = d->req.path ? d->req.path : "/",
            .query = d->req.query ? d->req.query : "",
            .authorization = d->req.auth ? d->req.auth : "",
            .content_type = d->req.ctype ? d->req.ctype : "",
            .body = d->req.body ? d->req.body : "",
            .body_len = d->req.body ? d->req.body_len : 0,
            .peer = d->req.peer ? d->req.peer : "",
            .origin = d->req.origin ? d->req.origin : "",
            .host = d->req.host ? d->req.host : "",
        };
        if (h->cbs.on_request) {
            h->cbs.on_request(h->arg, h, &r);
        } else {
            static const char nf[] = "{\"error\":\"not found\"}";
            net_httpd_respond(h, r.id, 404, "application/json", NULL, 0, nf, sizeof(nf) - 1);
        }
        return;
    }
    case NET_DLV_REQ_GONE:
        net_map_del(&h->pending, d->req_id);
        return;
    case NET_DLV_CONN_OPEN: {
        at_httpd_conn *c = d->conn;
        d->conn = NULL; /* adopted */
        c->srv = h;
        c->prev = NULL;
        c->next = h->conns;
        if (h->conns) {
            h->conns->prev = c;
        }
        h->conns = c;
        if (h->cbs.on_ws_open) {
            h->cbs.on_ws_open(h->arg, h, c);
        }
        return;
    }
    case NET_DLV_CONN_MSG:
        if (h->cbs.on_ws_message) {
            h->cbs.on_ws_message(h->arg, h, d->conn, d->data, d->len);
        }
        return;
    case NET_DLV_CONN_CLOSE: {
        at_httpd_conn *c = d->conn;
        if (c->prev) {
            c->prev->next = c->next;
        } else {
            h->conns = c->next;
        }
        if (c->next) {
            c->next->prev = c->prev;
        }
        if (h->cbs.on_ws_close) {
            h->cbs.on_ws_close(h->arg, h, c);
        }
        free(c);
        return;
    }
    default:
        return;
    }
}

void net_httpd_free_handles(net *n)
{
    uint64_t id;
    void *v;
    while (net_map_any(&n->srv_handles, &id, &v)) {
        net_map_del(&n->srv_handles, id);
        httpd_free(v);
    }
    net_map_free(&n->srv_handles);
}

/* ------------------------------------------------- net thread: vhosts */

static void srv_finalize(struct lws_vhost *vh, void *arg)
{
    nt_srv *s = arg;
    (void)vh;
    if (!s->vh) {
        return; /* lws_create_vhost failing: srv_start still owns s */
    }
    if (net_map_get(&s->n->nt_srv, s->id) == s) {
        net_map_del(&s->n->nt_srv, s->id);
    }
    nt_srv_free(s);
}

/* Binds and listens exactly where asked (numeric address or host name). */
static int open_listener(const char *addr, int port, int *fd_out, int *port_out, char *why,
                         size_t cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    char ps[8];
    snprintf(ps, sizeof(ps), "%d", port);
    int rc = getaddrinfo(addr, ps, &hints, &res);
    if (rc != 0) {
        snprintf(why, cap, "%s", gai_strerror(rc));
        return AT_EINVAL;
    }
    int fd = -1;
    char eb[96];
    snprintf(why, cap, "no usable address");
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(why, cap, "socket: %s", strerror_r(errno, eb, sizeof(eb)));
            continue;
        }
        int one = 1;
        /* restart at once even with connections of a previous run in TIME_WAIT */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
            snprintf(why, cap, "%s", strerror_r(errno, eb, sizeof(eb)));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        return AT_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(why, cap, "getsockname: %s", strerror_r(errno, eb, sizeof(eb)));
        close(fd);
        return AT_EIO;
    }
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return AT_OK;
}

static void srv_start(net *n, nt_srv *s, net_start_wait *w)
{
    char why[160] = "";
    int err = open_listener(s->listen, s->port, &s->listen_fd, &s->port, why, sizeof(why));
    if (!err) {
        struct lws_context_creation_info vi;
        memset(&vi, 0, sizeof(vi));
        vi.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* we accept, lws serves */
        vi.protocols = net_httpd_protocols;
        vi.vhost_name = s->name;
        vi.user = s;
        vi.finalize = srv_finalize;
        vi.finalize_arg = s;
        s->vh = lws_create_vhost(n->ctx, &vi);
        if (!s->vh) {
            snprintf(why, sizeof(why), "cannot create the lws vhost");
            err = AT_EIO;
            close(s->listen_fd);
        }
    }
    if (!err) {
        lws_adopt_desc_t ad;
        memset(&ad, 0, sizeof(ad));
        ad.vh = s->vh;
        ad.type = LWS_ADOPT_RAW_FILE_DESC; /* lws polls it; we accept() */
        ad.fd.filefd = s->listen_fd;
        ad.vh_prot_name = net_httpd_protocols[0].name;
        s->listen_wsi = lws_adopt_descriptor_vhost_via_info(&ad); /* closes fd on failure */
        if (!s->listen_wsi || net_map_put(&n->nt_srv, s->id, s) < 0) {
            snprintf(why, sizeof(why), "out of memory");
            err = AT_ENOMEM;
            /* finalize frees s once lws lets go of the vhost */
            s->stopping = true;
            if (s->listen_wsi) {
                lws_set_timeout(s->listen_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
            }
            s->next_dying = n->dying;
            n->dying = s;
        }
    }
    int port = s->port;
    if (err && !s->vh) {
        nt_srv_free(s);
    }

    pthread_mutex_lock(&n->lock);
    w->err = err;
    w->port = err ? 0 : port;
    snprintf(w->why, sizeof(w->why), "%s", why);
    w->done = true;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

/* New connections on our listener: accept them and hand them to lws as if
 * its own listener had. */
static void srv_accept(nt_srv *s)
{
    for (int i = 0; i < 64 && !s->stopping; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                char eb[96];
                log_msg(s->who, AT_LOG_WARN, "httpd: accept: %s",
                        strerror_r(errno, eb, sizeof(eb)));
            }
            return;
        }
        if (s->nconns >= NET_SRV_MAX_CONNS) {
            if (!s->full) {
                log_msg(s->who, AT_LOG_WARN,
                        "httpd: %d connections open, closing new ones until some leave",
                        NET_SRV_MAX_CONNS);
            }
            s->full = true;
            close(fd);
            continue;
        }
        s->full = false;
        /* An answer can leave in more than one write (head, then body
         * slices): with Nagle on, a later one waits for the client's
         * delayed ACK of the first, 40 ms a keep-alive request. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        hconn *hc = calloc(1, sizeof(*hc));
        if (!hc) {
            close(fd);
            continue;
        }
        hc->srv = s;
        lws_adopt_desc_t ad;
        memset(&ad, 0, sizeof(ad));
        ad.vh = s->vh;
        ad.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP;
        ad.fd.sockfd = fd;
        ad.opaque = hc; /* set before lws makes any callback for it */
        hc->wsi = lws_adopt_descriptor_vhost_via_info(&ad); /* closes fd on failure */
        if (!hc->wsi) {
            free(hc);
            continue;
        }
        hc->next = s->conns;
        if (s->conns) {
            s->conns->prev = hc;
        }
        s->conns = hc;
        s->nconns++;
    }
}

/* Stop listening at once; say goodbye to WebSocket clients (1001) and drop
 * plain HTTP connections; the vhost goes once all of them are gone, or the
 * grace period ends (net_httpd_reap). */
static void srv_stop(net *n, nt_srv *s)
{
    s->stopping = true;
    if (s->listen_wsi) {
        lws_set_timeout(s->listen_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
    for (hconn *hc = s->conns; hc; hc = hc->next) {
        if (hc->conn_id && !hc->ws_closed) {
            if (!hc->closing) {
                hc->closing = true;
                hc->close_code = LWS_CLOSE_STATUS_GOINGAWAY;
                lws_callback_on_writable(hc->wsi);
            }
        } else {
            lws_set_timeout(hc->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
    s->stop_deadline_us = at_mono_us() + NET_STOP_GRACE_US;
    s->next_dying = n->dying;
    n->dying = s;
}

void net_httpd_reap(net *n)
{
    int64_t now = at_mono_us();
    for (nt_srv **pp = &n->dying; *pp;) {
        nt_srv *s = *pp;
        if (!s->conns && !s->listen_wsi) {
            /* nothing bound any more: lws frees it now (srv_finalize) */
            *pp = s->next_dying;
            lws_vhost_destroy(s->vh);
            continue;
        }
        if (now >= s->stop_deadline_us && !s->killed) {
            s->killed = true;
            for (hconn *hc = s->conns; hc; hc = hc->next) {
                lws_set_timeout(hc->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            }
        }
        pp = &s->next_dying;
    }
}

static void conn_queue(hconn *hc, net_buf *b)
{
    if (!hc->conn_id || hc->ws_closed || hc->closing) {
        return;
    }
    if (hc->txq.bytes + b->len > NET_SRV_MAX_TXQ) {
        log_msg(hc->srv->who, AT_LOG_WARN,
                "httpd: ws client not reading (%zu bytes queued), closing", hc->txq.bytes);
        hc->closing = true;
        hc->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        net_txq_clear(&hc->txq);
    } else if (net_txq_push(&hc->txq, b) < 0) {
        log_msg(hc->srv->who, AT_LOG_ERROR, "httpd: out of memory queueing a ws message");
        return;
    }
    lws_callback_on_writable(hc->wsi);
}

void net_httpd_cmd(net *n, net_cmd *c)
{
    switch (c->kind) {
    case NET_CMD_HTTPD_START: {
        nt_srv *s = c->payload;
        c->payload = NULL;
        srv_start(n, s, c->wait);
        return;
    }
    case NET_CMD_HTTPD_STOP: {
        nt_srv *s = net_map_del(&n->nt_srv, c->id);
        if (s) {
            srv_stop(n, s);
        }
        return;
    }
    case NET_CMD_HTTPD_RESPOND:
        net_http_respond(n, c->id, c->payload);
        c->payload = NULL;
        return;
    case NET_CMD_HTTPD_WS_SEND: {
        hconn *hc = net_map_get(&n->nt_conn, c->id);
        if (hc) {
            conn_queue(hc, c->buf);
        }
        return;
    }
    case NET_CMD_HTTPD_BROADCAST: {
        nt_srv *s = net_map_get(&n->nt_srv, c->id);
        for (hconn *hc = s ? s->conns : NULL; hc; hc = hc->next) {
            conn_queue(hc, c->buf);
        }
        return;
    }
    default:
        return;
    }
}

/* -------------------------------------- net thread: connections, ws */

static void ws_closed(hconn *hc)
{
    if (!hc->conn_id || hc->ws_closed) {
        return;
    }
    hc->ws_closed = true;
    hc->srv->nws--;
    net_map_del(&hc->srv->n->nt_conn, hc->conn_id);
    net_dlv *d = net_dlv_new(NET_DLV_CONN_CLOSE, hc->srv->id);
    if (d) {
        d->conn = hc->h;
        net_srv_post(hc->srv, d);
    }
}

static void hconn_free(hconn *hc)
{
    ws_closed(hc);
    net_http_req_drop(hc);
    nt_srv *srv = hc->srv;
    srv->nconns--;
    if (hc->prev) {
        hc->prev->next = hc->next;
    } else {
        srv->conns = hc->next;
    }
    if (hc->next) {
        hc->next->prev = hc->prev;
    }
    net_txq_clear(&hc->txq);
    net_rx_clear(&hc->rx);
    lws_set_opaque_user_data(hc->wsi, NULL);
    free(hc);
}

/* A browser page the server's ws_origins refuse (aitrader/origin.h). */
static bool ws_origin_refused(nt_srv *srv, struct lws *wsi)
{
    if (!srv->ws_origins) {
        return false;
    }
    char origin[512] = "", host[512] = "";
    int olen = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    int hlen = lws_hdr_total_length(wsi, WSI_TOKEN_HOST);
    if (olen >= (int)sizeof(origin) || hlen >= (int)sizeof(host)) {
        return true; /* no origin we would allow is that long */
    }
    if ((olen > 0 && lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0) ||
        (hlen > 0 && lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) < 0)) {
        return true;
    }
    if (at_origin_allowed(origin, host, (const char *const *)srv->ws_origins)) {
        return false;
    }
    log_msg(srv->who, AT_LOG_WARN, "httpd: WebSocket from Origin '%.200s' (Host '%.200s') refused",
            origin, host);
    return true;
}

/* A 503 in JSON, as the API's errors are, closing the connection. */
static void ws_refuse_busy(struct lws *wsi)
{
    static const char body[] = "{\"error\":{\"code\":\"busy\",\"message\":\"too many "
                               "WebSockets open, try again later\"}}";
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    if (lws_add_http_header_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)"application/json", 16, &p, end) ||
        lws_add_http_header_content_length(wsi, sizeof(body) - 1, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end) ||
        lws_finalize_http_header(wsi, &p, end) || end - p < (long)sizeof(body)) {
        return;
    }
    memcpy(p, body, sizeof(body) - 1);
    p += sizeof(body) - 1;
    lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
}

/* Only ws_path upgrades, from an allowed Origin, and none once stopping. */
static int ws_filter(nt_srv *srv, struct lws *wsi)
{
    char uri[256];
    if (!srv || srv->stopping || !srv->ws_path ||
        lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
        strcmp(uri, srv->ws_path) != 0) {
        return 1;
    }
    if (ws_origin_refused(srv, wsi)) {
        /* a status the client can show rather than a bare close */
        lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "Origin not allowed");
        return 1;
    }
    if (srv->nws >= NET_SRV_MAX_WS) {
        log_msg(srv->who, AT_LOG_WARN, "httpd: %zu WebSockets open, refusing another", srv->nws);
        ws_refuse_busy(wsi);
        return 1;
    }
    return 0;
}

static int ws_established(nt_srv *srv, hconn *hc)
{
    at_httpd_conn *h = calloc(1, sizeof(*h));
    net_dlv *d = net_dlv_new(NET_DLV_CONN_OPEN, srv ? srv->id : 0);
    if (!hc || !h || !d) {
        goto fail;
    }
    net_http_req_drop(hc);
    h->id = ++srv->n->nt_next_id;
    h->srv_id = srv->id;
    if (net_map_put(&srv->n->nt_conn, h->id, hc) < 0) {
        goto fail;
    }
    hc->conn_id = h->id;
    hc->h = h;
    srv->nws++;
    d->conn = h; /* the delivery owns h until the main loop adopts it */
    net_srv_post(srv, d);
    return 0;

fail:
    free(h);
    free(d);
    return -1;
}

static int ws_receive(hconn *hc, const void *in, size_t len)
{
    struct lws *wsi = hc->wsi;
    if (!hc->conn_id || hc->ws_closed) {
        return 0;
    }
    int rc = net_rx_append(&hc->rx, in, len, lws_remaining_packet_payload(wsi));
    if (rc < 0) {
        log_msg(hc->srv->who, AT_LOG_WARN, "httpd: ws message %s, closing",
                rc == AT_ERANGE ? "over the size cap" : "out of memory");
        net_rx_clear(&hc->rx);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (!lws_is_final_fragment(wsi)) {
        return 0;
    }
    net_dlv *d = net_dlv_new(NET_DLV_CONN_MSG, hc->srv->id);
    if (!d) {
        net_rx_clear(&hc->rx);
        return 0;
    }
    d->conn = hc->h;
    d->data = net_rx_take(&hc->rx, &d->len);
    net_srv_post(hc->srv, d);
    net_rx_throttle(hc->srv->n, wsi, &hc->rx_paused);
    return 0;
}

static int ws_writeable(hconn *hc)
{
    if (hc->closing) {
        lws_close_reason(hc->wsi, (enum lws_close_status)hc->close_code, NULL, 0);
        return -1;
    }
    net_buf *b = net_txq_front(&hc->txq);
    if (!b) {
        return 0;
    }
    /* the shared buffer's headroom gets the same frame header each time */
    int m = lws_write(hc->wsi, NET_BUF_DATA(b), b->len, LWS_WRITE_TEXT);
    net_txq_pop(&hc->txq);
    if (m < 0) {
        return -1;
    }
    if (hc->txq.head) {
        lws_callback_on_writable(hc->wsi);
    }
    return 0;
}

static int httpd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    (void)user;
    struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
    nt_srv *srv = vh ? lws_get_vhost_user(vh) : NULL;
    hconn *hc = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (hc) {
        hc->wsi = wsi; /* adoption makes callbacks before it returns the wsi */
    }

    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (srv && wsi == srv->listen_wsi) {
            srv_accept(srv);
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (srv && wsi == srv->listen_wsi) {
            srv->listen_wsi = NULL; /* lws closes the fd */
        }
        return 0;
    case LWS_CALLBACK_HTTP:
        if (!srv || srv->stopping || !hc) {
            return -1;
        }
        return net_http_request(srv, hc, in);
    case LWS_CALLBACK_HTTP_BODY:
        return hc ? net_http_body(hc, in, len) : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return hc ? net_http_body_done(hc) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return hc ? net_http_writeable(hc) : 0;
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(srv, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return hc && srv ? ws_established(srv, hc) : -1;
    case LWS_CALLBACK_RECEIVE:
        return hc ? ws_receive(hc, in, len) : 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return hc ? ws_writeable(hc) : 0;
    case LWS_CALLBACK_CLOSED:
        if (hc) {
            ws_closed(hc);
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (hc) {
            hconn_free(hc);
        }
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols net_httpd_protocols[] = {
    {"aitrader-httpd", httpd_callback, 0, NET_RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

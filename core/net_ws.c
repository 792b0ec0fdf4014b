/* Client WebSockets (ws://, wss://) of the net module.
 *
 * Main loop side: at_ws handles, URL parsing, send/close commands, delivery
 * of open/message/close to the plugin. Net thread side: one nt_ws record per
 * connection, bound to its wsi through lws' opaque user data; send queue
 * drained one frame per WRITEABLE; fragmented messages reassembled. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "net_internal.h"
#include "util.h"

/* ------------------------------------------------------------- URL parsing */

/* Splits ws[s]://host[:port][/path][?query]. Rejects what lws would choke on
 * or what is surely a typo: empty host, userinfo, fragments, spaces and
 * control characters, ports outside 1..65535. */
static int parse_ws_url(const char *url, nt_ws *w)
{
    const char *p;
    if (strncasecmp(url, "ws://", 5) == 0) {
        p = url + 5;
        w->tls = false;
        w->port = 80;
    } else if (strncasecmp(url, "wss://", 6) == 0) {
        p = url + 6;
        w->tls = true;
        w->port = 443;
    } else {
        return AT_EINVAL;
    }
    for (const char *q = p; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '#') {
            return AT_EINVAL;
        }
    }

    const char *host = p, *host_end;
    if (*p == '[') { /* IPv6 literal */
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            return AT_EINVAL;
        }
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?");
        p = host_end;
    }
    if (host_end == host || memchr(host, '@', (size_t)(host_end - host))) {
        return AT_EINVAL;
    }

    bool explicit_port = false;
    if (*p == ':') {
        p++;
        long port = 0;
        const char *digits = p;
        while (isdigit((unsigned char)*p) && port <= 65535) {
            port = port * 10 + (*p++ - '0');
        }
        if (p == digits || port < 1 || port > 65535) {
            return AT_EINVAL;
        }
        w->port = (int)port;
        explicit_port = true;
    }
    if (*p && *p != '/' && *p != '?') {
        return AT_EINVAL;
    }

    w->host = at_strndup(host, (size_t)(host_end - host));
    w->path = *p == '/' ? at_strdup(p) : at_asprintf("/%s", p);
    bool v6 = host != url && host[-1] == '[';
    if (explicit_port) {
        w->hosthdr =
            at_asprintf("%s%s%s:%d", v6 ? "[" : "", w->host ? w->host : "", v6 ? "]" : "", w->port);
    } else {
        w->hosthdr = at_asprintf("%s%s%s", v6 ? "[" : "", w->host ? w->host : "", v6 ? "]" : "");
    }
    if (!w->host || !w->path || !w->hosthdr) {
        return AT_ENOMEM;
    }
    return AT_OK;
}

void nt_ws_free(nt_ws *w)
{
    if (!w) {
        return;
    }
    net_txq_clear(&w->txq);
    net_rx_clear(&w->rx);
    free(w->who);
    free(w->host);
    free(w->hosthdr);
    free(w->path);
    free(w->proxy);
    free(w->peer_reason);
    free(w);
}

/* -------------------------------------------------------- main loop API */

at_ws *net_ws_open(net *n, const char *who, const char *url, const at_ws_cbs *cbs, void *arg)
{
    return net_ws_open_proxy(n, who, url, NULL, cbs, arg);
}

at_ws *net_ws_open_proxy(net *n, const char *who, const char *url, const char *proxy,
                         const at_ws_cbs *cbs, void *arg)
{
    if (!n || !url) {
        return NULL;
    }
    at_ws *ws = calloc(1, sizeof(*ws));
    nt_ws *w = calloc(1, sizeof(*w));
    net_cmd *c = calloc(1, sizeof(*c));
    if (!ws || !w || !c) {
        goto nomem;
    }
    int rc = parse_ws_url(url, w);
    if (rc == AT_EINVAL) {
        log_msg(who, AT_LOG_WARN, "ws: malformed URL '%s'", url);
        goto fail;
    }
    int prc = AT_OK;
    if (proxy) {
        prc = net_proxy_lws(proxy, &w->proxy);
    } else if (n->proxy) {
        w->proxy = at_strdup(n->proxy);
        prc = w->proxy ? AT_OK : AT_ENOMEM;
    }
    if (prc == AT_EINVAL) {
        /* never echoed: it may carry a password */
        log_msg(who, AT_LOG_WARN, "ws: malformed proxy for %s (expected http://host:port)", url);
        goto fail;
    }
    rc = prc < 0 ? prc : rc;
    ws->who = at_strdup(who ? who : "net");
    w->who = at_strdup(who ? who : "net");
    if (rc < 0 || !ws->who || !w->who) {
        goto nomem;
    }
    ws->n = n;
    ws->id = w->id = ++n->next_id;
    if (cbs) {
        ws->cbs = *cbs;
    }
    ws->arg = arg;
    w->n = n;
    if (net_map_put(&n->ws_handles, ws->id, ws) < 0) {
        goto nomem;
    }
    c->kind = NET_CMD_WS_OPEN;
    c->id = w->id;
    c->payload = w;
    net_cmd_send(n, c);
    return ws;

nomem:
    log_msg(who, AT_LOG_ERROR, "ws: out of memory opening %s", url);
fail:
    if (ws) {
        free(ws->who);
    }
    free(ws);
    nt_ws_free(w);
    free(c);
    return NULL;
}

int net_ws_send(at_ws *ws, const char *data, size_t len)
{
    if (!ws || (!data && len)) {
        return AT_EINVAL;
    }
    if (!ws->open || ws->closing) {
        return AT_ESTATE;
    }
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
    c->kind = NET_CMD_WS_SEND;
    c->id = ws->id;
    c->buf = b;
    net_cmd_send(ws->n, c);
    return AT_OK;
}

void net_ws_close(at_ws *ws)
{
    if (!ws || ws->closing) {
        return; /* already closing, or inside on_close */
    }
    /* Closing first: whatever happens next, no callback reaches the plugin. */
    ws->closing = true;
    ws->open = false;
    net_cmd *c = calloc(1, sizeof(*c));
    if (!c) {
        /* cannot tell the net thread; the connection ends at net_free */
        log_msg(ws->who, AT_LOG_ERROR, "ws: out of memory closing");
        return;
    }
    c->kind = NET_CMD_WS_CLOSE;
    c->id = ws->id;
    net_cmd_send(ws->n, c);
}

void net_ws_deliver(net *n, net_dlv *d)
{
    if (d->kind == NET_DLV_WS_CLOSE) {
        at_ws *ws = net_map_del(&n->ws_handles, d->id);
        if (!ws) {
            return;
        }
        /* A close the plugin asked for is not reported back: after
         * ws_close the plugin may free what `arg` points at. */
        bool asked = ws->closing;
        ws->closing = true;
        ws->open = false;
        if (!asked && ws->cbs.on_close) {
            ws->cbs.on_close(ws->arg, ws, d->code, d->data ? d->data : "");
        }
        free(ws->who);
        free(ws);
        return;
    }
    at_ws *ws = net_map_get(&n->ws_handles, d->id);
    if (!ws || ws->closing) {
        return; /* the plugin closed it: no more news */
    }
    if (d->kind == NET_DLV_WS_OPEN) {
        ws->open = true;
        if (ws->cbs.on_open) {
            ws->cbs.on_open(ws->arg, ws);
        }
    } else if (ws->cbs.on_message) {
        ws->cbs.on_message(ws->arg, ws, d->data, d->len, d->binary);
    }
}

void net_ws_free_handles(net *n)
{
    uint64_t id;
    void *v;
    while (net_map_any(&n->ws_handles, &id, &v)) {
        at_ws *ws = net_map_del(&n->ws_handles, id);
        free(ws->who);
        free(ws);
    }
    net_map_free(&n->ws_handles);
}

/* -------------------------------------------------------- net thread */

/* The connection is over: tell the main loop (once), forget the wsi. The
 * record is freed here unless lws_client_connect_via_info is still on the
 * stack (then ws_connect frees it). */
static void ws_finish(nt_ws *w, int code, const char *reason)
{
    if (w->done) {
        return;
    }
    w->done = true;
    net_dlv *d = net_dlv_new(NET_DLV_WS_CLOSE, w->id);
    if (d) {
        d->code = code;
        d->data = at_strdup(reason ? reason : "");
        d->len = d->data ? strlen(d->data) : 0;
    }
    net_post(w->n, d);
    if (w->wsi) {
        lws_set_opaque_user_data(w->wsi, NULL);
    }
    net_map_del(&w->n->nt_ws, w->id);
    if (!w->in_connect) {
        nt_ws_free(w);
    }
}

static void ws_connect(net *n, nt_ws *w)
{
    if (net_map_put(&n->nt_ws, w->id, w) < 0) {
        ws_finish(w, 0, "out of memory");
        return;
    }
    struct lws_vhost *vh = net_client_vhost(n, w->tls, w->proxy);
    if (!vh) {
        ws_finish(w, 0, w->proxy ? "proxy unavailable" : "tls unavailable");
        return;
    }
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = n->ctx;
    ci.vhost = vh;
    ci.address = w->host;
    ci.port = w->port;
    ci.ssl_connection = w->tls ? LCCSCF_USE_SSL : 0;
    ci.path = w->path;
    ci.host = w->hosthdr;
    ci.origin = w->hosthdr;
    ci.ietf_version_or_minus_one = -1;
    ci.local_protocol_name = net_ws_protocols[0].name;
    ci.opaque_user_data = w;
    ci.pwsi = &w->wsi;

    /* lws may report CLIENT_CONNECTION_ERROR from inside this call */
    w->in_connect = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    w->in_connect = false;
    if (w->done) {
        nt_ws_free(w);
    } else if (!wsi) {
        w->wsi = NULL;
        log_msg(w->who, AT_LOG_WARN, "ws: cannot connect to %s:%d%s%s%s", w->host, w->port,
                w->tls ? " (tls)" : "", w->proxy ? " via proxy " : "",
                w->proxy ? net_proxy_for_log(w->proxy) : "");
        ws_finish(w, 0, "connect failed");
    }
}

void net_ws_cmd(net *n, net_cmd *c)
{
    if (c->kind == NET_CMD_WS_OPEN) {
        nt_ws *w = c->payload;
        c->payload = NULL;
        ws_connect(n, w);
        return;
    }
    nt_ws *w = net_map_get(&n->nt_ws, c->id);
    if (!w) {
        return; /* gone already: its WS_CLOSE is on its way to the main loop */
    }
    if (c->kind == NET_CMD_WS_SEND) {
        if (!w->established || w->close_requested) {
            return;
        }
        if (w->txq.bytes + c->buf->len > NET_MAX_TXQ) {
            log_msg(w->who, AT_LOG_WARN, "ws: %s: send queue over %zu bytes, closing", w->host,
                    (size_t)NET_MAX_TXQ);
            w->close_requested = true; /* the plugin sees on_close(1000) */
        } else if (net_txq_push(&w->txq, c->buf) < 0) {
            log_msg(w->who, AT_LOG_ERROR, "ws: out of memory queueing a message");
            return;
        }
        lws_callback_on_writable(w->wsi);
        return;
    }
    /* NET_CMD_WS_CLOSE */
    if (w->established) {
        w->close_requested = true;
        lws_callback_on_writable(w->wsi);
    } else {
        /* Still connecting: nothing to say goodbye to. Report now and let
         * lws drop the half-open connection on its next turn. */
        struct lws *wsi = w->wsi;
        ws_finish(w, 1000, "closed");
        if (wsi) {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
}

static int ws_receive(nt_ws *w, const void *in, size_t len)
{
    struct lws *wsi = w->wsi;
    if (!w->rx.len && !w->rx.data) {
        w->rx.binary = lws_frame_is_binary(wsi);
    }
    int rc = net_rx_append(&w->rx, in, len, lws_remaining_packet_payload(wsi));
    if (rc < 0) {
        log_msg(w->who, AT_LOG_WARN, "ws: %s: %s", w->host,
                rc == AT_ERANGE ? "message over the size cap, closing" : "out of memory");
        net_rx_clear(&w->rx);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        w->peer_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
        free(w->peer_reason);
        w->peer_reason = at_strdup("message too large");
        return -1;
    }
    if (!lws_is_final_fragment(wsi)) {
        return 0;
    }
    net_dlv *d = net_dlv_new(NET_DLV_WS_MSG, w->id);
    if (!d) {
        net_rx_clear(&w->rx);
        return 0;
    }
    d->binary = w->rx.binary;
    d->data = net_rx_take(&w->rx, &d->len);
    net_post(w->n, d);
    net_rx_throttle(w->n, wsi, &w->rx_paused);
    return 0;
}

static int ws_writeable(nt_ws *w)
{
    if (w->close_requested) {
        lws_close_reason(w->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1; /* lws sends the close frame and waits for the echo */
    }
    net_buf *b = net_txq_front(&w->txq);
    if (!b) {
        return 0;
    }
    int m = lws_write(w->wsi, NET_BUF_DATA(b), b->len, LWS_WRITE_TEXT);
    net_txq_pop(&w->txq);
    if (m < 0) {
        log_msg(w->who, AT_LOG_WARN, "ws: %s: write failed", w->host);
        return -1;
    }
    if (w->txq.head) {
        lws_callback_on_writable(w->wsi);
    }
    return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    (void)user;
    nt_ws *w = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!w) {
        return 0; /* not ours, or already finished */
    }
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        w->wsi = wsi;
        w->established = true;
        net_post(w->n, net_dlv_new(NET_DLV_WS_OPEN, w->id));
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return ws_receive(w, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return ws_writeable(w);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (in && len >= 2) {
            const unsigned char *b = in;
            w->peer_code = (b[0] << 8) | b[1];
            free(w->peer_reason);
            w->peer_reason = at_strndup((const char *)b + 2, len - 2);
        } else {
            w->peer_code = LWS_CLOSE_STATUS_NO_STATUS; /* 1005: none given */
        }
        return 0; /* lws echoes the close */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[256];
        snprintf(why, sizeof(why), "%.*s", in ? (int)len : 0, in ? (const char *)in : "");
        if (!why[0]) {
            snprintf(why, sizeof(why), "connection failed");
        }
        log_msg(w->who, AT_LOG_WARN, "ws: %s:%d: %s", w->host, w->port, why);
        ws_finish(w, 0, why);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (!w->established) {
            ws_finish(w, 0, "connection closed before the handshake");
        } else if (w->peer_code) {
            ws_finish(w, w->peer_code, w->peer_reason);
        } else if (w->close_requested) {
            ws_finish(w, LWS_CLOSE_STATUS_NORMAL, "closed");
        } else {
            ws_finish(w, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "connection lost");
        }
        return 0;
    default:
        return 0;
    }
}

const struct lws_protocols net_ws_protocols[] = {
    {"aitrader-ws-client", ws_callback, 0, NET_RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

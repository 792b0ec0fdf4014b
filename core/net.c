/* The net thread and the two queues that connect it to the main loop.
 *
 * Debian's lws has no libevent or external-poll support, so one lws context
 * runs its own poll loop on a dedicated thread. Main -> net: a locked command
 * list plus lws_cancel_service(), which makes lws_service() return; the thread
 * then runs the commands itself, between two lws_service() calls rather than
 * inside the LWS_CALLBACK_EVENT_WAIT_CANCELLED broadcast, because that
 * broadcast walks lws' vhost list (once per vhost) and commands create and
 * destroy vhosts. Net -> main: a locked delivery list plus event_active() on
 * an fd-less event; the main loop drains it and calls the plugins.
 *
 * The delivery list is bounded by backpressure, never by dropping (the net
 * layer cannot tell an order update from a book): past rxq_max bytes not yet
 * handed to a plugin, the thread stops reading each connection that delivers
 * (lws_rx_flow_control; the kernel buffers fill and TCP slows the peer), and
 * reads them again once the main loop is down to half. The main loop also
 * stops taking deliveries while the bus is backlogged with events it never
 * drops (bus.h), so a slow subscriber slows the sockets, not the memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "metrics.h"
#include "net_internal.h"
#include "tls.h"
#include "util.h"

/* ---------------------------------------------------------- lws logging */

/* lws is chatty at notice level and below; we keep warnings and errors and
 * route them through our logger so they carry the "net" prefix. */
static void net_lws_emit(int level, const char *line)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }
    log_msg("net", (level & LLL_ERR) ? AT_LOG_ERROR : AT_LOG_WARN, "lws: %.*s", (int)len, line);
}

/* ------------------------------------------------------------ commands */

void net_cmd_send(net *n, net_cmd *c)
{
    c->next = NULL;
    pthread_mutex_lock(&n->lock);
    if (n->cmd_tail) {
        n->cmd_tail->next = c;
    } else {
        n->cmd_head = c;
    }
    n->cmd_tail = c;
    pthread_mutex_unlock(&n->lock);
    /* Safe from any thread while the context exists; only net_free (on this
     * same main thread) ends the context. */
    lws_cancel_service(n->ctx);
}

static void net_cmd_free(net_cmd *c)
{
    net_buf_unref(c->buf);
    if (c->payload) {
        switch (c->kind) {
        case NET_CMD_WS_OPEN:
            nt_ws_free(c->payload);
            break;
        case NET_CMD_HTTPD_START:
            nt_srv_free(c->payload);
            break;
        case NET_CMD_HTTPD_RESPOND:
            net_resp_free(c->payload);
            break;
        default:
            break;
        }
    }
    free(c);
}

/* Net thread: run everything queued so far, in order. */
static void net_run_commands(net *n)
{
    pthread_mutex_lock(&n->lock);
    net_cmd *c = n->cmd_head;
    n->cmd_head = n->cmd_tail = NULL;
    pthread_mutex_unlock(&n->lock);

    while (c) {
        net_cmd *next = c->next;
        switch (c->kind) {
        case NET_CMD_WS_OPEN:
        case NET_CMD_WS_SEND:
        case NET_CMD_WS_CLOSE:
            net_ws_cmd(n, c);
            break;
        default:
            net_httpd_cmd(n, c);
            break;
        }
        net_cmd_free(c); /* handlers take what they keep and NULL it */
        c = next;
    }
}

/* ----------------------------------------------------------- deliveries */

net_dlv *net_dlv_new(net_dlv_kind kind, uint64_t id)
{
    net_dlv *d = calloc(1, sizeof(*d));
    if (d) {
        d->kind = kind;
        d->id = id;
    }
    return d;
}

void net_dlv_free(net_dlv *d)
{
    if (!d) {
        return;
    }
    if (d->kind == NET_DLV_CONN_OPEN) {
        free(d->conn); /* never adopted by the main loop */
    }
    free(d->data);
    net_req_info_clear(&d->req);
    free(d);
}

/* Net thread: an ALERT for the operator, delivered by the bus on the main
 * loop (or dropped when there is no bus, as in net's own unit tests). */
static void net_alert(const char *msg)
{
    at_ev_alert *a = (at_ev_alert *)bus_event_new(NULL, AT_EV_ALERT, strlen(msg) + 1);
    if (a) {
        a->level = AT_LOG_WARN;
        a->message = bus_event_strdup(&a->h, msg);
        bus_publish(NULL, &a->h, 0);
    }
}

void net_rx_throttle(net *n, struct lws *wsi, bool *paused)
{
    size_t bytes = atomic_load(&n->rxq_bytes), max = atomic_load(&n->rxq_max);
    if (*paused || bytes <= max) {
        return;
    }
    lws_rx_flow_control(wsi, 0); /* takes effect when this callback returns */
    *paused = true;
    atomic_store(&n->rx_paused, true);
    n->nt_rx_pause_us = at_mono_us();
    if (!n->nt_rx_episode) {
        n->nt_rx_episode = true;
        atomic_fetch_add(&n->rx_pauses, 1);
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "net: the main loop is %zu bytes of messages behind (limit %zu): reading from "
                 "the network is paused until it catches up",
                 bytes, max);
        log_msg("net", AT_LOG_WARN, "%s", msg + 5);
        net_alert(msg);
    }
}

static void resume_map(net_map *m, bool ws)
{
    /* lws queues rx flow changes made inside a callback; this runs between
     * two lws_service() calls, so apply at once. */
    int allow = LWS_RXFLOW_REASON_APPLIES_ENABLE | LWS_RXFLOW_REASON_USER_BOOL |
                LWS_RXFLOW_REASON_FLAG_PROCESS_NOW;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) {
            continue;
        }
        bool *paused = ws ? &((nt_ws *)m->vals[i])->rx_paused : &((hconn *)m->vals[i])->rx_paused;
        struct lws *wsi = ws ? ((nt_ws *)m->vals[i])->wsi : ((hconn *)m->vals[i])->wsi;
        if (*paused) {
            *paused = false;
            if (wsi) {
                lws_rx_flow_control(wsi, allow);
            }
        }
    }
}

/* Net thread, between services: read again once the main loop has taken
 * half of the bound. The main loop lowers the bytes before it looks at the
 * flags, this thread clears rx_resume_asked before it reads the bytes: one
 * of the two always sees the other's write (no lost wake-up). */
static void net_rx_resume(net *n)
{
    if (!atomic_load(&n->rx_paused)) {
        return;
    }
    /* Cleared before the bytes are read: a main loop that lowers them after
     * this read asks again. */
    atomic_store(&n->rx_resume_asked, false);
    if (atomic_load(&n->rxq_bytes) > atomic_load(&n->rxq_max) / 2) {
        return;
    }
    atomic_store(&n->rx_paused, false);
    resume_map(&n->nt_ws, true);
    resume_map(&n->nt_conn, false);
}

void net_post(net *n, net_dlv *d)
{
    if (!d) {
        return;
    }
    if (n->nt_closing) {
        net_dlv_free(d);
        return;
    }
    d->cost = sizeof(*d) + d->len + d->req.body_len;
    if (atomic_fetch_add(&n->rxq_bytes, d->cost) == 0 && n->nt_rx_episode &&
        !atomic_load(&n->rx_paused) && at_mono_us() - n->nt_rx_pause_us >= NET_RX_QUIET_US) {
        n->nt_rx_episode = false; /* the main loop took everything: caught up */
        log_msg("net", AT_LOG_INFO, "the main loop caught up; reading normally");
    }
    d->next = NULL;
    pthread_mutex_lock(&n->lock);
    bool was_empty = !n->dlv_head;
    if (n->dlv_tail) {
        n->dlv_tail->next = d;
    } else {
        n->dlv_head = d;
    }
    n->dlv_tail = d;
    pthread_mutex_unlock(&n->lock);
    /* One activation per batch: the main loop takes the whole list, and a
     * later push onto the emptied list activates it again. */
    if (was_empty) {
        event_active(n->wake, EV_READ, 0);
    }
}

/* Main loop: hand what was delivered to the plugins, a batch per loop turn.
 * While the bus is backlogged only a trickle goes through: enough that every
 * connection keeps moving (order pushes, pongs, closes, dashboard requests;
 * an exchange plugin's idle check does not mistake the hold for a dead feed
 * and reconnect, throwing away what is queued), far less than the bus drains
 * a turn, so the backlog still shrinks, and the byte bound pauses the sockets
 * meanwhile. */
static void net_on_wake(evutil_socket_t fd, short what, void *arg)
{
    net *n = arg;
    (void)fd;
    (void)what;
    size_t freed = 0;
    int cap = bus_backlogged() ? NET_DLV_TRICKLE : NET_DLV_BATCH;
    int i = 0;
    for (; i < cap; i++) {
        /* Take the shared list whenever ours runs out: the net thread wakes
         * us only when it finds that list empty, so what it holds now may
         * have come with a wake-up this very call consumed. */
        if (!n->dlv_taken) {
            pthread_mutex_lock(&n->lock);
            n->dlv_taken = n->dlv_head;
            n->dlv_head = n->dlv_tail = NULL;
            pthread_mutex_unlock(&n->lock);
            if (!n->dlv_taken) {
                break;
            }
        }
        net_dlv *d = n->dlv_taken;
        n->dlv_taken = d->next;
        if (d->kind <= NET_DLV_WS_CLOSE) {
            net_ws_deliver(n, d);
        } else {
            net_httpd_deliver(n, d);
        }
        freed += d->cost;
        net_dlv_free(d);
    }
    if (i == cap) {
        event_active(n->wake, EV_READ, 0); /* the rest next turn */
    }
    /* Lower the bytes, then look at the flag (see net_rx_resume). */
    size_t left = atomic_fetch_sub(&n->rxq_bytes, freed) - freed;
    if (atomic_load(&n->rx_paused) && left <= atomic_load(&n->rxq_max) / 2 &&
        !atomic_exchange(&n->rx_resume_asked, true)) {
        lws_cancel_service(n->ctx);
    }
}

void net_set_queue_max(net *n, size_t bytes)
{
    if (n) {
        atomic_store(&n->rxq_max, bytes ? bytes : NET_RXQ_MAX_DEFAULT);
    }
}

void net_get_rx_stats(net *n, net_rx_stats *st)
{
    *st = (net_rx_stats){.bytes = atomic_load(&n->rxq_bytes),
                         .max = atomic_load(&n->rxq_max),
                         .paused = atomic_load(&n->rx_paused),
                         .pauses = atomic_load(&n->rx_pauses)};
}

static void net_render_metrics(FILE *out, void *arg)
{
    net_rx_stats st;
    net_get_rx_stats(arg, &st);
    fprintf(out, "# HELP aitrader_net_rx_queue_bytes Bytes received and not yet handed to the "
                 "plugins (bound: [core] net_queue_max).\n");
    fprintf(out, "# TYPE aitrader_net_rx_queue_bytes gauge\n");
    fprintf(out, "aitrader_net_rx_queue_bytes %zu\n", st.bytes);
    fprintf(out, "# HELP aitrader_net_rx_paused 1 while reading from some connection is paused "
                 "because the main loop is behind.\n");
    fprintf(out, "# TYPE aitrader_net_rx_paused gauge\n");
    fprintf(out, "aitrader_net_rx_paused %d\n", st.paused ? 1 : 0);
    fprintf(out, "# HELP aitrader_net_rx_pauses_total Episodes of paused reading (one ALERT "
                 "each).\n");
    fprintf(out, "# TYPE aitrader_net_rx_pauses_total counter\n");
    fprintf(out, "aitrader_net_rx_pauses_total %llu\n", (unsigned long long)st.pauses);
}

/* ----------------------------------------------------------- the thread */

static void net_tick(lws_sorted_usec_list_t *sul)
{
    /* Nothing to do here: firing makes lws_service() return, and the loop
     * below then reaps stopped servers and checks held requests. */
    (void)sul;
}

static bool net_should_stop(net *n)
{
    pthread_mutex_lock(&n->lock);
    bool stop = n->stop;
    pthread_mutex_unlock(&n->lock);
    return stop;
}

static void *net_thread(void *arg)
{
    net *n = arg;
    while (!net_should_stop(n)) {
        net_run_commands(n);
        net_rx_resume(n);
        net_httpd_reap(n);
        net_http_check_held(n);
        if (n->dying || n->nt_req.len) {
            lws_sul_schedule(n->ctx, 0, &n->tick, net_tick, 100 * LWS_US_PER_MS);
        }
        if (lws_service(n->ctx, 0) < 0) {
            /* should not happen; do not spin if it does */
            log_msg("net", AT_LOG_ERROR, "lws_service failed");
            usleep(10000);
        }
    }

    /* Teardown, still on this thread since it is lws' service thread: the
     * callbacks lws makes while destroying connections free our records but
     * post nothing (nt_closing). */
    n->nt_closing = true;
    lws_sul_cancel(&n->tick);
    lws_context_destroy(n->ctx);

    /* records whose wsi never existed (or that lws did not report) */
    uint64_t id;
    void *v;
    while (net_map_any(&n->nt_ws, &id, &v)) {
        net_map_del(&n->nt_ws, id);
        nt_ws_free(v);
    }
    while (net_map_any(&n->nt_srv, &id, &v)) {
        net_map_del(&n->nt_srv, id);
        nt_srv_free(v);
    }
    net_map_free(&n->nt_ws);
    net_map_free(&n->nt_srv);
    net_map_free(&n->nt_conn);
    net_map_free(&n->nt_req);
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

static struct lws_vhost *client_vhost_new(net *n, const char *name, SSL_CTX *tls, const char *proxy)
{
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof(vi));
    vi.port = CONTEXT_PORT_NO_LISTEN;
    vi.protocols = net_ws_protocols;
    vi.vhost_name = name;
    vi.user = n;
    vi.http_proxy_address = proxy; /* copied by lws (lws_set_proxy) */
    if (tls) {
        vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        vi.provided_client_ssl_ctx = tls;
    }
    return lws_create_vhost(n->ctx, &vi);
}

/* wss:// connections get their own vhost, made at the first one: its TLS
 * context costs about 1 MB resident (SSL_CTX_new fetches every cipher, digest
 * and group OpenSSL offers), which an engine without wss:// never needs. It
 * is ours rather than lws': lws' parses the whole CA bundle twice (OpenSSL's
 * default file, then the one it is given), about 2 MB of heap, where ours
 * reads CAs from the hashed directory as handshakes need them (tls.h). */
static struct lws_vhost *proxy_vhost(net *n, bool tls, const char *proxy)
{
    for (size_t i = 0; i < n->nproxy_vhs; i++) {
        struct net_proxy_vh *p = &n->proxy_vhs[i];
        if (p->tls == tls && strcmp(p->proxy, proxy) == 0) {
            return p->vh;
        }
    }
    if (n->nproxy_vhs == NET_MAX_PROXY_VHOSTS) {
        log_msg("net", AT_LOG_ERROR, "more than %d proxied client vhosts: not connecting via %s",
                NET_MAX_PROXY_VHOSTS, net_proxy_for_log(proxy));
        return NULL;
    }
    struct net_proxy_vh *p = &n->proxy_vhs[n->nproxy_vhs];
    p->proxy = at_strdup(proxy);
    if (!p->proxy) {
        return NULL;
    }
    p->tls = tls;
    snprintf(p->name, sizeof(p->name), "clients-proxy-%zu%s", n->nproxy_vhs, tls ? "-tls" : "");
    p->vh = client_vhost_new(n, p->name, tls ? n->client_tls : NULL, proxy);
    if (!p->vh) {
        log_msg("net", AT_LOG_ERROR, "cannot create a client vhost for proxy %s",
                net_proxy_for_log(proxy));
        free(p->proxy);
        p->proxy = NULL;
        return NULL;
    }
    n->nproxy_vhs++;
    return p->vh;
}

struct lws_vhost *net_client_vhost(net *n, bool tls, const char *proxy)
{
    if (tls && !n->client_tls) {
        n->client_tls = tls_client_ctx_new();
        if (!n->client_tls) {
            return NULL;
        }
    }
    if (proxy) {
        return proxy_vhost(n, tls, proxy);
    }
    if (!tls) {
        return n->client_vh;
    }
    if (!n->client_tls_vh) {
        n->client_tls_vh = client_vhost_new(n, "clients-tls", n->client_tls, NULL);
        if (!n->client_tls_vh) {
            log_msg("net", AT_LOG_ERROR, "cannot create the TLS client vhost");
        }
    }
    return n->client_tls_vh;
}

int net_proxy_lws(const char *proxy, char **out)
{
    *out = NULL;
    if (!at_proxy_valid(proxy)) {
        return AT_EINVAL;
    }
    if (!proxy || !*proxy || strcmp(proxy, "none") == 0) {
        return AT_OK;
    }
    const char *p = proxy + 7; /* after http:// */
    size_t len = strlen(p);
    if (len && p[len - 1] == '/') {
        len--;
    }
    *out = at_strndup(p, len);
    return *out ? AT_OK : AT_ENOMEM;
}

const char *net_proxy_for_log(const char *lws_proxy)
{
    const char *at = lws_proxy ? strrchr(lws_proxy, '@') : NULL;
    return at ? at + 1 : lws_proxy ? lws_proxy : "";
}

int net_set_proxy(net *n, const char *proxy)
{
    char *p = NULL;
    int rc = n ? net_proxy_lws(proxy, &p) : AT_EINVAL;
    if (rc != AT_OK) {
        return rc;
    }
    if (!p && proxy && *proxy && strcmp(proxy, "none") != 0) {
        return AT_ENOMEM;
    }
    free(n->proxy);
    n->proxy = p;
    return AT_OK;
}

net *net_new(struct event_base *base)
{
    net *n = calloc(1, sizeof(*n));
    if (!n) {
        LOG_ERROR("net: out of memory");
        return NULL;
    }
    n->base = base;
    atomic_init(&n->rxq_max, NET_RXQ_MAX_DEFAULT);
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    n->wake = event_new(base, -1, 0, net_on_wake, n);
    if (!n->wake) {
        LOG_ERROR("net: cannot create the wake-up event");
        goto fail;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, net_lws_emit);

    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof(ci));
    /* vhosts are made explicitly: ws:// clients now, wss:// clients at the
     * first one (net_client_vhost), one per server later */
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.user = n;
    ci.server_string = "aitrader";
    ci.max_http_header_data = 8192; /* room for long Authorization headers */
    ci.fd_limit_per_thread = NET_MAX_CONNS;
    n->ctx = lws_create_context(&ci);
    if (!n->ctx) {
        LOG_ERROR("net: lws_create_context failed");
        goto fail;
    }

    /* Before the thread starts, so still "before service" for lws. */
    n->client_vh = client_vhost_new(n, "clients", NULL, NULL);
    if (!n->client_vh) {
        LOG_ERROR("net: cannot create the client vhost");
        goto fail;
    }

    int rc = pthread_create(&n->thread, NULL, net_thread, n);
    if (rc) {
        LOG_ERROR("net: cannot start the net thread: %s", strerror(rc));
        goto fail;
    }
    metrics_add_renderer(net_render_metrics, n);
    return n;

fail:
    if (n->ctx) {
        lws_context_destroy(n->ctx);
    }
    SSL_CTX_free(n->client_tls);
    if (n->wake) {
        event_free(n->wake);
    }
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->lock);
    free(n);
    return NULL;
}

void net_free(net *n)
{
    if (!n) {
        return;
    }
    metrics_remove_renderer(net_render_metrics, n);
    pthread_mutex_lock(&n->lock);
    n->stop = true;
    /* Under the lock: the thread reads `stop` under it too, so the context
     * cannot be destroyed before this call returns. */
    lws_cancel_service(n->ctx);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);

    /* The thread is gone: what is left in the queues is ours. */
    for (net_cmd *c = n->cmd_head, *next; c; c = next) {
        next = c->next;
        net_cmd_free(c);
    }
    for (net_dlv *d = n->dlv_head, *next; d; d = next) {
        next = d->next;
        net_dlv_free(d);
    }
    for (net_dlv *d = n->dlv_taken, *next; d; d = next) {
        next = d->next;
        net_dlv_free(d);
    }
    net_ws_free_handles(n);
    net_httpd_free_handles(n);
    SSL_CTX_free(n->client_tls); /* the context that used it is gone */
    for (size_t i = 0; i < n->nproxy_vhs; i++) {
        free(n->proxy_vhs[i].proxy);
    }
    free(n->proxy);
    event_free(n->wake);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

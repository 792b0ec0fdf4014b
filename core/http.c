/* HTTP client: one curl multi handle driven by the libevent base (curl's
 * hiperfifo pattern). curl's socket and timer callbacks only (re)arm libevent
 * events; curl itself is called from libevent callbacks and from the public
 * functions. User `done` callbacks run only from the dispatch event (or from
 * http_client_free), never from inside curl or inside http_client_request. */
#include "http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "http_xfer.h"
#include "log.h"
#include "util.h"

typedef struct http_sock {
    http_client *c;
    struct http_sock *prev, *next;
    struct event *ev;
} http_sock;

struct http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer_ev;    /* curl's multi timeout */
    struct event *dispatch_ev; /* runs done callbacks */
    http_xfer *xfers;          /* every transfer not yet called back */
    http_xfer *done_head, *done_tail;
    http_sock *socks;
    char *proxy; /* http_client_set_proxy */
    size_t npending;
    int64_t next_id;
    uint64_t rng;
    int cb_depth; /* > 0 while dispatch_cb is calling user code */
    bool freeing; /* http_client_free in progress */
    bool dead;    /* freed from inside a callback; released once unwound */
};

static uint64_t rng_next(http_client *c)
{
    /* xorshift64*: plenty for jitter, and no global state. */
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---------------------------------------------------- completion path */

/* Fixes the result and queues the callback for the dispatch event. */
static void xfer_finish(http_xfer *x, int err, const char *why)
{
    http_client *c = x->c;
    x->err = err;
    if (err == AT_ESTATE) {
        /* Cancelled: no response to report, not even an earlier attempt's. */
        x->status = 0;
        http_xfer_reset_response(x);
    }
    if (err != AT_OK) {
        snprintf(x->msg, sizeof x->msg, "%s", why && *why ? why : at_strerror(err));
    }
    if (x->state != XFER_FINISHED) {
        x->state = XFER_FINISHED;
        x->next_done = NULL;
        if (c->done_tail) {
            c->done_tail->next_done = x;
        } else {
            c->done_head = x;
        }
        c->done_tail = x;
    }
    event_active(c->dispatch_ev, EV_TIMEOUT, 0);
}

static http_xfer *pop_done(http_client *c)
{
    http_xfer *x = c->done_head;
    if (x) {
        c->done_head = x->next_done;
        if (!c->done_head) {
            c->done_tail = NULL;
        }
    }
    return x;
}

static void xfer_deliver(http_xfer *x)
{
    http_client *c = x->c;
    if (x->prev) {
        x->prev->next = x->next;
    } else {
        c->xfers = x->next;
    }
    if (x->next) {
        x->next->prev = x->prev;
    }
    c->npending--;
    /* A body is only meaningful when the transfer completed. */
    bool ok = x->err == AT_OK;
    at_http_resp r = {
        .status = x->status,
        .err = x->err,
        .error = ok ? NULL : x->msg,
        .body = ok && x->body ? x->body : "",
        .len = ok ? x->len : 0,
        .attempts = x->attempts,
        .elapsed_us = x->elapsed_us,
        .headers = (const char *const *)x->headers,
        .nheaders = x->nheaders,
    };
    log_msg(x->who, AT_LOG_DEBUG, "http %s %s -> %d%s%s in %lld ms (attempts %d)", x->method,
            x->log_url, x->status, ok ? "" : ", ", ok ? "" : x->msg,
            (long long)(x->elapsed_us / 1000), x->attempts);
    x->done(x->arg, &r);
    http_xfer_free(x);
}

static void client_release(http_client *c);

static void dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
    http_client *c = arg;
    /* Only what was queued before we started: a callback queued from inside
     * a callback waits for the next loop turn, so it cannot starve the loop. */
    http_xfer *last = c->done_tail;
    c->cb_depth++;
    while (!c->dead) {
        http_xfer *x = pop_done(c);
        if (!x) {
            break;
        }
        bool was_last = x == last;
        xfer_deliver(x);
        if (was_last) {
            break;
        }
    }
    c->cb_depth--;
    if (c->dead) {
        if (c->cb_depth == 0) {
            client_release(c);
        }
        return;
    }
    if (c->done_head) {
        event_active(c->dispatch_ev, EV_TIMEOUT, 0);
    }
}

/* ----------------------------------------------------------- attempts */

static void attempt_start(http_xfer *x)
{
    x->attempts++;
    x->attempt_start_us = at_mono_us();
    x->state = XFER_RUNNING;
    CURLMcode mc = curl_multi_add_handle(x->c->multi, x->easy);
    if (mc != CURLM_OK) {
        char why[128];
        snprintf(why, sizeof why, "cannot start transfer: %s", curl_multi_strerror(mc));
        x->elapsed_us = 0;
        xfer_finish(x, AT_EIO, why);
    }
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    attempt_start(arg);
}

/* Called once per attempt, after the easy handle left the multi. */
static void attempt_done(http_xfer *x, CURLcode rc)
{
    x->elapsed_us = at_mono_us() - x->attempt_start_us;
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->status = (int)status;
    char why[HTTP_MSG_SIZE];
    int err = http_xfer_classify(x, rc, why, sizeof why);
    int64_t delay = http_xfer_retry_delay(x, err, rc, rng_next(x->c));
    if (delay < 0) {
        xfer_finish(x, err, why);
        return;
    }
    if (err == AT_OK) {
        snprintf(why, sizeof why, "HTTP %ld", status);
    }
    log_msg(x->who, AT_LOG_WARN, "http %s %s: attempt %d failed (%s), retrying in %lld ms",
            x->method, x->log_url, x->attempts, why, (long long)delay);
    http_xfer_reset_response(x);
    x->state = XFER_WAITING;
    struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000};
    if (evtimer_add(x->retry_ev, &tv) != 0) {
        xfer_finish(x, AT_EIO, "cannot arm the retry timer");
    }
}

static void check_multi_info(http_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        /* msg is invalid once the handle is removed: copy first. */
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        curl_multi_remove_handle(c->multi, easy);
        attempt_done((http_xfer *)priv, rc);
    }
}

/* Takes a transfer out of curl or its retry wait (not inside a curl callback). */
static void xfer_detach(http_xfer *x)
{
    if (x->state == XFER_RUNNING) {
        x->elapsed_us = at_mono_us() - x->attempt_start_us;
        curl_multi_remove_handle(x->c->multi, x->easy);
    } else if (x->state == XFER_WAITING) {
        evtimer_del(x->retry_ev);
    }
}

/* ------------------------------------------------- libevent <-> curl */

static void sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
    http_client *c = arg;
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(c->multi, fd, action, &running);
    check_multi_info(c);
}

static void multi_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    http_client *c = arg;
    int running = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(c);
}

static void sock_free(http_sock *s)
{
    http_client *c = s->c;
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        c->socks = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    event_free(s->ev);
    free(s);
}

/* CURLMOPT_SOCKETFUNCTION: only (re)arms events, never calls curl back
 * except curl_multi_assign, which is explicitly allowed here. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    http_client *c = userp;
    http_sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            sock_free(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) {
            return -1;
        }
        s->ev = event_new(c->base, fd, 0, sock_event_cb, c);
        if (!s->ev) {
            free(s);
            return -1;
        }
        s->c = c;
        s->next = c->socks;
        if (c->socks) {
            c->socks->prev = s;
        }
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    event_del(s->ev);
    if (event_assign(s->ev, c->base, fd, kind, sock_event_cb, c) != 0 ||
        event_add(s->ev, NULL) != 0) {
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: a new value replaces the old one; -1 disarms. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    http_client *c = userp;
    if (timeout_ms < 0) {
        evtimer_del(c->timer_ev);
        return 0;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(c->timer_ev, &tv) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ public */

int64_t http_client_request(http_client *c, const char *who, const at_http_req *req,
                            at_http_done_cb done, void *arg)
{
    if (!c || !done) {
        return AT_EINVAL;
    }
    if (c->freeing) {
        return AT_ESTATE;
    }
    http_xfer *x = NULL;
    int err = http_xfer_new(c, c->base, retry_cb, who, req, c->proxy, done, arg, &x);
    if (err != AT_OK) {
        return err;
    }
    x->id = ++c->next_id;
    x->next = c->xfers;
    if (c->xfers) {
        c->xfers->prev = x;
    }
    c->xfers = x;
    c->npending++;
    attempt_start(x); /* a failure to start is reported through done, later */
    return x->id;
}

void http_client_cancel(http_client *c, int64_t id)
{
    if (!c || c->freeing) {
        return; /* http_client_free calls everything back anyway */
    }
    for (http_xfer *x = c->xfers; x; x = x->next) {
        if (x->id == id) {
            xfer_detach(x);
            /* This also overrides a result fixed but not yet delivered: once
             * cancel returns, the caller is promised AT_ESTATE. */
            xfer_finish(x, AT_ESTATE, "cancelled");
            return;
        }
    }
}

int http_client_set_proxy(http_client *c, const char *proxy)
{
    if (!c || !at_proxy_valid(proxy)) {
        return AT_EINVAL;
    }
    char *copy = NULL;
    if (!http_proxy_is_direct(proxy)) {
        copy = at_strdup(proxy);
        if (!copy) {
            return AT_ENOMEM;
        }
    }
    free(c->proxy);
    c->proxy = copy;
    return AT_OK;
}

size_t http_client_pending(const http_client *c)
{
    return c ? c->npending : 0;
}

http_client *http_client_new(struct event_base *base)
{
    if (!base) {
        return NULL;
    }
    http_client *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    c->base = base;
    /* splitmix64 finaliser over clock and address: two clients created in
     * the same microsecond still jitter differently; never zero. */
    uint64_t seed = (uint64_t)at_mono_us() ^ (uint64_t)(uintptr_t)c;
    seed = (seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9ULL;
    seed = (seed ^ (seed >> 27)) * 0x94D049BB133111EBULL;
    c->rng = (seed ^ (seed >> 31)) | 1;
    c->multi = curl_multi_init();
    c->timer_ev = evtimer_new(base, multi_timeout_cb, c);
    c->dispatch_ev = event_new(base, -1, 0, dispatch_cb, c);
    if (!c->multi || !c->timer_ev || !c->dispatch_ev) {
        goto fail;
    }
    if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK) {
        goto fail;
    }
    return c;

fail:
    client_release(c);
    return NULL;
}

static void client_release(http_client *c)
{
    if (c->multi) {
        curl_multi_cleanup(c->multi); /* also closes cached connections */
    }
    while (c->socks) {
        sock_free(c->socks); /* any socket curl did not REMOVE */
    }
    if (c->timer_ev) {
        event_free(c->timer_ev);
    }
    if (c->dispatch_ev) {
        event_free(c->dispatch_ev);
    }
    free(c->proxy);
    free(c);
}

void http_client_free(http_client *c)
{
    if (!c || c->freeing) {
        return;
    }
    c->freeing = true;
    for (http_xfer *x = c->xfers; x; x = x->next) {
        if (x->state != XFER_FINISHED) {
            xfer_detach(x);
            xfer_finish(x, AT_ESTATE, "client shut down");
        }
    }
    /* Results fixed before the shutdown are delivered as they are. */
    http_xfer *x;
    while ((x = pop_done(c))) {
        xfer_deliver(x);
    }
    if (c->cb_depth > 0) {
        c->dead = true; /* inside dispatch_cb, which releases after unwinding */
        return;
    }
    client_release(c);
}

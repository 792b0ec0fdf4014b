/* What keeps one client, or many, from taking the server down: the
 * connection cap (the surplus is answered 503 and closed), pausing the
 * listener when accept() fails for want of descriptors (instead of retrying
 * it in a busy loop), a timer per connection (request, keep-alive idle,
 * closing), a write timeout and the cap on a client's unsent output. Log
 * lines about refusals and pauses are rate-limited: a flood of connections
 * must not become a flood of log. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "httpd_int.h"
#include "log.h"
#include "util.h"

#define REFUSE_BODY                                                                                \
    "{\"code\":\"50001\",\"msg\":\"Service temporarily unavailable: too many connections\","       \
    "\"data\":[]}"

static struct timeval ms_tv(int ms)
{
    return (struct timeval){ms / 1000, (ms % 1000) * 1000};
}

/* True when a rate-limited line may be logged now. */
static bool log_due(int64_t *last_ms)
{
    int64_t now = at_mono_us() / 1000;
    if (*last_ms && now - *last_ms < SH_LOG_EVERY_MS) {
        return false;
    }
    *last_ms = now ? now : 1;
    return true;
}

/* ------------------------------------------------------------ accepting */

/* A refused socket is drained for at most this long before it is closed,
 * and at most this many are drained at once (the others are closed at once:
 * a flood of refusals must not hold descriptors). */
#define LINGER_MS 1000
#define MAX_LINGER 64

struct sh_linger {
    sh_server *srv;
    evutil_socket_t fd;
    struct event *ev;
    int64_t deadline_ms;
    sh_linger *prev, *next;
};

static void linger_close(sh_linger *l)
{
    sh_server *s = l->srv;
    if (l->prev) {
        l->prev->next = l->next;
    } else {
        s->lingering = l->next;
    }
    if (l->next) {
        l->next->prev = l->prev;
    }
    s->nlingering--;
    event_free(l->ev);
    evutil_closesocket(l->fd);
    free(l);
}

/* Read and discard what the client sends until it closes, fails or the
 * deadline passes; then close. */
static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    sh_linger *l = arg;
    char sink[16384];
    ssize_t n = 1;
    if (what & EV_READ) {
        while ((n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0) {
        }
    }
    int64_t left = l->deadline_ms - at_mono_us() / 1000;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
        left <= 0 || (what & EV_TIMEOUT)) {
        linger_close(l);
        return;
    }
    struct timeval tv = ms_tv((int)left);
    event_add(l->ev, &tv);
}

/* Over the cap: a short 503 and close, never a connection that hangs.
 * Closing a socket with unread input makes the kernel answer with a reset,
 * which can cost the client the 503 (a client still sending a large request
 * gets EPIPE before it reads a byte). So the write side is shut after the
 * answer and the input is read and discarded until the client closes, for at
 * most LINGER_MS, before the socket is closed. */
static void refuse(sh_server *s, evutil_socket_t fd)
{
    char buf[320];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     strlen(REFUSE_BODY), REFUSE_BODY);
    if (n > 0 && send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* best effort: the client may be gone already */
    }
    shutdown(fd, SHUT_WR);
    sh_linger *l = s->nlingering < MAX_LINGER ? calloc(1, sizeof(*l)) : NULL;
    if (l) {
        l->srv = s;
        l->fd = fd;
        l->deadline_ms = at_mono_us() / 1000 + LINGER_MS;
        l->ev = event_new(s->base, fd, EV_READ, on_linger, l);
    }
    struct timeval tv = ms_tv(LINGER_MS);
    if (l && l->ev && event_add(l->ev, &tv) == 0) {
        l->next = s->lingering;
        if (l->next) {
            l->next->prev = l;
        }
        s->lingering = l;
        s->nlingering++;
    } else {
        if (l && l->ev) {
            event_free(l->ev);
        }
        free(l);
        evutil_closesocket(fd);
    }
    s->refused++;
    if (log_due(&s->refuse_logged_ms)) {
        log_msg("okx-sim", AT_LOG_WARN,
                "refusing connections over --max-conns %zu (%zu open): %llu refused so far",
                s->max_conns, s->nconns, s->refused);
    }
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    sh_server *s = arg;
    if (s->nconns >= s->max_conns) {
        refuse(s, fd);
        return;
    }
    sh_conn_new(s, fd, sa, len); /* closes fd when it fails */
}

static void resume(sh_server *s)
{
    if (!s->paused || !s->lis) {
        return;
    }
    s->paused = false;
    evtimer_del(s->resume);
    evconnlistener_enable(s->lis);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    resume(arg);
}

/* accept() failed with something retrying at once cannot cure (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM): libevent would call accept again as long as the
 * listening socket is readable, i.e. at 100 % CPU. Stop listening until a
 * connection closes or SH_ACCEPT_RETRY_MS have passed; pending clients wait
 * in the kernel's backlog meanwhile. */
static void on_accept_error(struct evconnlistener *lis, void *arg)
{
    sh_server *s = arg;
    int err = EVUTIL_SOCKET_ERROR();
    evconnlistener_disable(lis);
    s->paused = true;
    s->pauses++;
    if (log_due(&s->pause_logged_ms)) {
        log_msg("okx-sim", AT_LOG_WARN,
                "accept failed (%s) with %zu connections open: not accepting until one closes "
                "or for %d ms (%llu pauses so far)",
                evutil_socket_error_to_string(err), s->nconns, SH_ACCEPT_RETRY_MS, s->pauses);
    }
    struct timeval tv = ms_tv(SH_ACCEPT_RETRY_MS);
    evtimer_add(s->resume, &tv);
}

int sh_limits_listen(sh_server *s, const struct sockaddr *sa, int salen)
{
    s->resume = evtimer_new(s->base, on_resume, s);
    if (!s->resume) {
        return -1;
    }
    s->lis = evconnlistener_new_bind(s->base, on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512, sa, salen);
    if (!s->lis) {
        event_free(s->resume);
        s->resume = NULL;
        return -1;
    }
    evconnlistener_set_error_cb(s->lis, on_accept_error);
    return 0;
}

void sh_limits_conn_gone(sh_server *s)
{
    resume(s); /* a descriptor is free again */
}

void sh_limits_free(sh_server *s)
{
    while (s->lingering) {
        linger_close(s->lingering);
    }
}

/* ------------------------------------------------------------ timers */

static void timer_set(sh_conn *c, timer_kind k, int ms)
{
    if (c->tk == k) {
        return; /* keep the running deadline */
    }
    c->tk = k;
    if (k == T_NONE) {
        evtimer_del(c->timer);
        return;
    }
    struct timeval tv = ms_tv(ms);
    evtimer_add(c->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    sh_conn *c = arg;
    timer_kind k = c->tk;
    c->tk = T_NONE;
    if (c->dead) {
        return;
    }
    if (k != T_DROP) {
        c->srv->timeouts++;
    }
    sh_conn_kill(c);
    sh_conn_release(c);
}

/* Counts what the client takes (sent bytes leave the output buffer). */
static void on_output_change(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    sh_conn *c = arg;
    c->out_taken += info->n_deleted;
}

int sh_limits_conn_init(sh_conn *c)
{
    c->timer = evtimer_new(c->srv->base, on_timer, c);
    if (!c->timer) {
        return -1;
    }
    if (!evbuffer_add_cb(bufferevent_get_output(c->bev), on_output_change, c)) {
        return -1;
    }
    /* No byte of output taken for this long: the client is gone or stuck. */
    struct timeval wtv = ms_tv(c->srv->request_timeout_ms);
    bufferevent_set_timeouts(c->bev, NULL, &wtv);
    return 0;
}

/* The deadline for what the connection waits for. A new connection must
 * bring its first request within request_timeout, as must any request once
 * its first byte is in; between keep-alive requests idle_timeout applies.
 * WebSockets have their own idle rule (ws.c), except when closing. */
void sh_conn_arm(sh_conn *c)
{
    sh_server *s = c->srv;
    if (c->dead || c->tk == T_DROP) {
        return;
    }
    if (c->closing) {
        timer_set(c, T_CLOSE, s->request_timeout_ms);
        return;
    }
    bool reading = c->st == ST_BODY || (c->st == ST_HEAD && !c->read_paused);
    size_t in = evbuffer_get_length(bufferevent_get_input(c->bev));
    if (!reading) {
        timer_set(c, T_NONE, 0); /* answering, held, paused (write timeout) or WebSocket */
    } else if (c->st == ST_BODY || in > 0 || c->requests == 0) {
        timer_set(c, T_REQUEST, s->request_timeout_ms);
    } else {
        timer_set(c, T_IDLE, s->idle_timeout_ms);
    }
}

/* ------------------------------------------------------------ slow clients */

/* Over max_output the backlog alone does not tell a client that does not
 * read from one that was just sent much at once: a subscribe op to many
 * books queues all their snapshots in one callback, before a byte of them
 * can be written. So the client is judged on progress: it is dropped when it
 * took nothing for SH_OUTPUT_GRACE_MS while over the cap (memory then grows
 * by at most what that time queues), or when its backlog passes the hard cap
 * (a client reading too slowly to ever catch up). */
bool sh_conn_output_ok(sh_conn *c, size_t backlog)
{
    size_t cap = c->srv->max_output;
    size_t hard = cap > SIZE_MAX / SH_OUTPUT_HARD_FACTOR ? SIZE_MAX : cap * SH_OUTPUT_HARD_FACTOR;
    if (backlog <= cap) {
        c->over_ms = 0;
        return true;
    }
    if (backlog > hard) {
        return false;
    }
    int64_t now = at_mono_us() / 1000;
    if (c->over_ms == 0 || c->out_taken != c->over_taken) {
        c->over_ms = now ? now : 1; /* over the cap from now, or it took some: time again */
        c->over_taken = c->out_taken;
        return true;
    }
    return now - c->over_ms < SH_OUTPUT_GRACE_MS;
}

void sh_conn_overflow(sh_conn *c)
{
    sh_server *s = c->srv;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->dead || c->tk == T_DROP) {
        return;
    }
    log_msg("okx-sim", AT_LOG_WARN,
            "dropping %s: it does not read (%zu bytes unsent, --max-output %zu)", c->peer,
            evbuffer_get_length(out), s->max_output);
    s->slow++;
    /* Free its output now; the connection itself goes on the next loop turn,
     * outside the caller's walk over sessions and subscriptions. */
    evbuffer_drain(out, evbuffer_get_length(out));
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    c->tk = T_NONE;
    evtimer_del(c->timer);
    timer_set(c, T_DROP, 0);
}

void sh_conn_stalled(sh_conn *c)
{
    if (c->dead) {
        return;
    }
    log_msg("okx-sim", AT_LOG_WARN, "dropping %s: took no output for %d ms (%zu bytes unsent)",
            c->peer, c->srv->request_timeout_ms, sh_conn_backlog(c));
    c->srv->slow++;
    sh_conn_kill(c);
    sh_conn_release(c);
}

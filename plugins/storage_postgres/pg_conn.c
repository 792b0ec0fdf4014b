/* The connection: non-blocking connect driven by the loop, socket I/O,
 * reconnect with exponential backoff and jitter, query timeouts while
 * disconnected, and the bounded poll() loop stop() uses. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

const char *pg_oneline(const char *msg, char *buf, size_t cap)
{
    if (!msg) {
        msg = "";
    }
    while (*msg == ' ' || *msg == '\n' || *msg == '\t') {
        msg++;
    }
    size_t n = strcspn(msg, "\n");
    while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\r')) {
        n--;
    }
    if (n == 0) {
        snprintf(buf, cap, "unknown error");
    } else {
        snprintf(buf, cap, "%.*s", (int)n, msg);
    }
    return buf;
}

char *pg_result_text(const PGresult *res)
{
    const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    char line[300];
    if (!prim) {
        prim = pg_oneline(PQresultErrorMessage(res), line, sizeof(line));
    }
    size_t len = strlen(prim) + (detail ? strlen(detail) + 2 : 0) + 1;
    char *out = malloc(len);
    if (out) {
        snprintf(out, len, "%s%s%s", prim, detail ? ": " : "", detail ? detail : "");
    }
    return out;
}

static void on_fd(void *arg, int fd, unsigned what);

void pg_watch(pg *p, unsigned what)
{
    int fd = p->conn ? PQsocket(p->conn) : -1;
    /* While connecting libpq may close the socket and open another (next
     * address, SSL retry): watch afresh after every poll step. */
    if (p->watch && (fd != p->watch_fd || p->cstate == PG_CONNECTING || fd < 0)) {
        p->host->fd_unwatch(p->watch);
        p->watch = NULL;
    }
    if (fd < 0) {
        return;
    }
    if (!p->watch) {
        p->watch = p->host->fd_watch(p->inst, fd, what, on_fd, p);
        p->watch_fd = fd;
        p->watch_what = what;
        if (!p->watch) {
            p->host->log(p->inst, AT_LOG_ERROR, "cannot watch the PostgreSQL socket");
        }
        return;
    }
    if (what != p->watch_what && p->host->fd_modify(p->watch, what) == AT_OK) {
        p->watch_what = what;
    }
}

void pg_conn_close(pg *p)
{
    if (p->watch) {
        p->host->fd_unwatch(p->watch);
        p->watch = NULL;
    }
    p->watch_fd = -1;
    p->watch_what = 0;
    if (p->conn) {
        PQfinish(p->conn);
        p->conn = NULL;
    }
    if (p->connect_timer) {
        p->host->timer_cancel(p->connect_timer);
        p->connect_timer = NULL;
    }
    p->want_flush = false;
    p->need_rollback = false;
    p->mstep = 0;
    p->cstate = PG_DOWN;
}

static uint64_t next_rand(pg *p)
{
    /* xorshift64: jitter only, no need for quality */
    uint64_t x = p->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->rng = x;
    return x;
}

/* Exponential backoff between reconnect_min and reconnect_max, with the
 * upper half randomised so that several engines do not reconnect in step. */
static int64_t backoff_ms(pg *p)
{
    int64_t lo = p->reconnect_min_ms > 0 ? p->reconnect_min_ms : 1;
    int64_t hi = p->reconnect_max_ms > lo ? p->reconnect_max_ms : lo;
    int64_t d = lo;
    for (int i = 1; i < p->attempt && d < hi; i++) {
        d *= 2;
    }
    if (d > hi) {
        d = hi;
    }
    int64_t half = d / 2;
    d = half + (int64_t)(next_rand(p) % (uint64_t)(d - half + 1));
    return d < lo ? lo : d;
}

static void on_retry(void *arg)
{
    pg *p = arg;
    p->retry_timer = NULL; /* one-shot: freed by the host after this */
    p->retries++;
    pg_conn_start(p);
    pg_fire(p);
}

static void set_query_deadlines(pg *p)
{
    int64_t deadline = p->host->now_us() + p->query_timeout_ms * 1000;
    for (pg_item *it = p->head; it; it = it->next) {
        if (it->kind == PG_QUERY && it->deadline_us == 0) {
            it->deadline_us = deadline;
        }
    }
}

void pg_conn_lost(pg *p, const char *why)
{
    char line[200];
    pg_oneline(why, line, sizeof(line));
    bool was_up = p->cstate == PG_READY || p->cstate == PG_MIGRATING;
    if (p->unit.kind != U_NONE) {
        pg_pipe_abandon(p);
    }
    pg_conn_close(p);
    snprintf(p->reason, sizeof(p->reason), "%s", line);
    if (p->stopping) {
        return;
    }
    p->attempt++;
    int64_t delay = backoff_ms(p);
    if (p->m_reconnects) {
        p->host->metric_add(p->m_reconnects, 1);
    }
    if (was_up) {
        p->host->log(p->inst, AT_LOG_WARN,
                     "connection lost: %s; %zu writes queued, %zu journaled; reconnecting in "
                     "%lld ms",
                     line, p->mem_writes, p->journal_pending, (long long)delay);
    } else if (!p->ever_connected && p->attempt == 1) {
        p->host->log(p->inst, AT_LOG_ERROR,
                     "cannot connect to PostgreSQL: %s; the engine keeps running and holds "
                     "writes (%zu queued, %zu journaled); retrying in %lld ms",
                     line, p->mem_writes, p->journal_pending, (long long)delay);
    } else {
        /* the first few attempts, then one in ten: an outage must not flood the log */
        at_log_level lvl = p->retries <= 5 || p->retries % 10 == 0 ? AT_LOG_WARN : AT_LOG_DEBUG;
        p->host->log(p->inst, lvl,
                     "reconnect attempt %d failed: %s; %zu writes queued, %zu journaled; next in "
                     "%lld ms",
                     p->retries, line, p->mem_writes, p->journal_pending, (long long)delay);
    }
    set_query_deadlines(p);
    pg_query_timer_arm(p);
    pg_report(p);
    if (p->retry_timer) {
        p->host->timer_cancel(p->retry_timer);
    }
    p->retry_timer = p->host->timer_add(p->inst, delay, 0, on_retry, p);
    /* flushes and timed-out queries at the head need no connection */
    pg_pump(p);
}

static void on_notice(void *arg, const PGresult *res)
{
    pg *p = arg;
    if (p->host->log_enabled(AT_LOG_DEBUG)) {
        char line[300];
        p->host->log(p->inst, AT_LOG_DEBUG, "server notice: %s",
                     pg_oneline(PQresultErrorMessage(res), line, sizeof(line)));
    }
}

static void on_connect_timeout(void *arg)
{
    pg *p = arg;
    p->connect_timer = NULL;
    if (p->cstate == PG_CONNECTING) {
        char why[96];
        snprintf(why, sizeof(why), "connection attempt timed out after %lld ms",
                 (long long)p->connect_timeout_ms);
        pg_conn_lost(p, why);
        pg_fire(p);
    }
}

static void connected(pg *p)
{
    if (p->connect_timer) {
        p->host->timer_cancel(p->connect_timer);
        p->connect_timer = NULL;
    }
    if (PQsetnonblocking(p->conn, 1) != 0) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return;
    }
    p->host->log(p->inst, AT_LOG_INFO, "connected to %s:%s/%s (server %d)", PQhost(p->conn),
                 PQport(p->conn), PQdb(p->conn), PQserverVersion(p->conn));
    p->cstate = PG_MIGRATING;
    pg_migrate_begin(p);
}

static void connect_step(pg *p)
{
    switch (PQconnectPoll(p->conn)) {
    case PGRES_POLLING_READING:
        pg_watch(p, AT_FD_READ);
        break;
    case PGRES_POLLING_WRITING:
        pg_watch(p, AT_FD_WRITE);
        break;
    case PGRES_POLLING_OK:
        connected(p);
        return;
    default:
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return;
    }
    if (!p->watch && !p->stopping) {
        pg_conn_lost(p, "cannot watch the connection's socket");
    }
}

void pg_conn_start(pg *p)
{
    if (p->retry_timer) {
        p->host->timer_cancel(p->retry_timer);
        p->retry_timer = NULL;
    }
    if (p->conn) {
        return;
    }
    /* Entries before dbname are defaults the conninfo may override. The
     * keepalives notice a server that vanished without closing the socket. */
    const char *const keys[] = {"application_name",
                                "keepalives",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "dbname",
                                NULL};
    const char *const vals[] = {"aitrader", "1", "10", "5", "3", p->conninfo, NULL};
    p->conn = PQconnectStartParams(keys, vals, 1);
    if (!p->conn) {
        pg_conn_lost(p, "out of memory starting a connection");
        return;
    }
    if (PQstatus(p->conn) == CONNECTION_BAD) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return;
    }
    PQsetNoticeReceiver(p->conn, on_notice, p);
    p->cstate = PG_CONNECTING;
    if (!p->stopping) {
        p->connect_timer =
            p->host->timer_add(p->inst, p->connect_timeout_ms, 0, on_connect_timeout, p);
    }
    /* libpq: before the first PQconnectPoll, behave as if it asked for writing */
    if (PQsocket(p->conn) < 0) {
        connect_step(p);
    } else {
        pg_watch(p, AT_FD_WRITE);
    }
}

void pg_conn_ready(pg *p)
{
    if (PQenterPipelineMode(p->conn) != 1) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return;
    }
    p->cstate = PG_READY;
    p->attempt = 0;
    p->retries = 0;
    p->reason[0] = '\0';
    for (pg_item *it = p->head; it; it = it->next) {
        it->deadline_us = 0;
    }
    if (p->query_timer) {
        p->host->timer_cancel(p->query_timer);
        p->query_timer = NULL;
    }
    if (p->mem_writes + p->journal_pending > 0) {
        p->host->log(p->inst, p->ever_connected ? AT_LOG_INFO : AT_LOG_DEBUG,
                     "ready: sending %zu queued and %zu journaled writes", p->mem_writes,
                     p->journal_pending);
    }
    p->ever_connected = true;
    pg_report(p);
    pg_pump(p);
    if (p->conn) {
        pg_watch(p, AT_FD_READ | (p->want_flush ? AT_FD_WRITE : 0));
    }
}

int pg_flush_out(pg *p)
{
    int r = PQflush(p->conn);
    if (r < 0) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return AT_EIO;
    }
    p->want_flush = r == 1;
    return AT_OK;
}

void pg_io(pg *p, unsigned what)
{
    if (!p->conn || p->cstate < PG_MIGRATING) {
        return;
    }
    if ((what & AT_FD_READ) && !PQconsumeInput(p->conn)) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return;
    }
    if (p->want_flush && pg_flush_out(p) != AT_OK) {
        return;
    }
    for (;;) {
        if (p->cstate == PG_READY && p->unit.kind == U_NONE) {
            break;
        }
        if (PQisBusy(p->conn)) {
            break;
        }
        PGresult *res = PQgetResult(p->conn);
        int rc = p->cstate == PG_MIGRATING ? pg_migrate_result(p, res) : pg_pipe_result(p, res);
        if (rc < 0 || !p->conn) {
            return; /* the connection was dropped */
        }
        if (rc == 0) {
            break;
        }
    }
    PGnotify *n;
    while ((n = PQnotifies(p->conn))) {
        PQfreemem(n);
    }
    if (PQstatus(p->conn) == CONNECTION_BAD) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return;
    }
    if (p->cstate == PG_READY) {
        pg_pump(p);
    }
    if (p->conn) {
        pg_watch(p, AT_FD_READ | (p->want_flush ? AT_FD_WRITE : 0));
    }
}

static void on_fd(void *arg, int fd, unsigned what)
{
    pg *p = arg;
    (void)fd;
    if (p->cstate == PG_CONNECTING) {
        connect_step(p);
    } else {
        pg_io(p, what);
    }
    pg_fire(p);
}

static void on_query_timer(void *arg)
{
    pg *p = arg;
    p->query_timer = NULL;
    if (p->cstate != PG_READY) {
        int64_t now = p->host->now_us();
        char msg[320];
        snprintf(msg, sizeof(msg), "postgres unavailable: %s",
                 p->reason[0] ? p->reason : "not connected yet");
        pg_item *prev = NULL, *it = p->head;
        while (it) {
            pg_item *next = it->next;
            if (it->kind == PG_QUERY && it->deadline_us > 0 && it->deadline_us <= now) {
                pg_finish(p, prev, it, AT_EIO, msg);
            } else {
                prev = it;
            }
            it = next;
        }
        pg_pump(p);
    }
    pg_query_timer_arm(p);
    pg_fire(p);
}

void pg_query_timer_arm(pg *p)
{
    if (p->query_timer) {
        p->host->timer_cancel(p->query_timer);
        p->query_timer = NULL;
    }
    if (p->cstate == PG_READY || p->queries == 0 || p->stopping) {
        return;
    }
    int64_t first = INT64_MAX;
    for (pg_item *it = p->head; it; it = it->next) {
        if (it->kind == PG_QUERY && it->deadline_us > 0 && it->deadline_us < first) {
            first = it->deadline_us;
        }
    }
    if (first == INT64_MAX) {
        return;
    }
    int64_t ms = (first - p->host->now_us() + 999) / 1000;
    p->query_timer = p->host->timer_add(p->inst, ms > 0 ? ms : 0, 0, on_query_timer, p);
}

void pg_stop_drive(pg *p)
{
    int64_t deadline = pg_mono_us() + p->stop_timeout_ms * 1000;
    if (p->mem_writes + p->journal_pending == 0 && p->queries == 0) {
        return;
    }
    if (p->cstate == PG_DOWN) {
        pg_conn_start(p); /* one attempt: stopping, so a failure does not retry */
    }
    while (p->cstate != PG_DOWN && p->conn) {
        pg_pump(p);
        pg_fire(p);
        if (!p->head && p->unit.kind == U_NONE) {
            break;
        }
        int64_t left_ms = (deadline - pg_mono_us()) / 1000;
        if (left_ms <= 0) {
            p->host->log(p->inst, AT_LOG_WARN, "stop: gave up sending after %lld ms",
                         (long long)p->stop_timeout_ms);
            break;
        }
        struct pollfd pfd = {.fd = PQsocket(p->conn), .events = 0};
        if (pfd.fd < 0) {
            break;
        }
        pfd.events = (short)(((p->watch_what & AT_FD_READ) ? POLLIN : 0) |
                             ((p->watch_what & AT_FD_WRITE) ? POLLOUT : 0));
        int rc = poll(&pfd, 1, left_ms > 100 ? 100 : (int)left_ms);
        if (rc < 0 && errno != EINTR) {
            break;
        }
        if (rc <= 0) {
            continue;
        }
        unsigned what = 0;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            what |= AT_FD_READ;
        }
        if (pfd.revents & (POLLOUT | POLLERR)) {
            what |= AT_FD_WRITE;
        }
        if (p->cstate == PG_CONNECTING) {
            connect_step(p);
        } else {
            pg_io(p, what);
        }
        pg_fire(p);
    }
}

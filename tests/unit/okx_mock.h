/* A recording host for exchange_okx's unit tests: the engine's pure
 * functions (decimals, instrument ids) with the bus, storage, timers and log
 * replaced by recorders the test reads. Storage answers and one-shot timers
 * run when the test calls mock_run() (all of them, in the order they were
 * made, whatever their delay), or on a simulated clock with mock_advance()
 * (each at its time: a timer after its delay, a storage answer after
 * M.db_latency_us, a 0 ms timer - the loop's next turn, which is when an
 * in-process venue's answer arrives - after M.zero_timer_us).
 * One mock per test program (the host table has no user pointer). */
#ifndef OKX_MOCK_H
#define OKX_MOCK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/host.h>

#include "engine.h"

#define MOCK_MAX 4096
#define MOCK_PENDING 65536 /* callbacks made in one test (never reused: handles stay valid) */
#define MOCK_PAYLOAD 4096  /* larger than any event struct */
#define MOCK_UNUSED __attribute__((unused))

typedef struct mock_ev {
    size_t extra, used;
    unsigned char payload[]; /* event struct, then `extra` bytes (offset 16: aligned) */
} mock_ev;

typedef struct mock_log {
    at_log_level level;
    char text[512];
} mock_log;

typedef struct mock_write {
    char sql[96]; /* its beginning: enough to tell the table */
} mock_write;

typedef struct mock_cb {
    int kind; /* 1 write done, 2 query done, 3 one-shot timer */
    at_db_done_cb done;
    at_timer_cb fire;
    void *arg;
    bool cancelled; /* or already run */
    int64_t due_us;
} mock_cb;

typedef struct mock {
    at_host host;
    int64_t now_us;
    mock_log logs[MOCK_MAX];
    size_t nlogs;
    at_event *events[MOCK_MAX];
    size_t nevents;
    mock_write writes[MOCK_MAX];
    size_t nwrites;
    mock_cb *pending[MOCK_PENDING]; /* run by mock_run/mock_advance, freed by mock_reset */
    size_t npending;
    size_t first_open;     /* pending[< first_open] have all run or been cancelled */
    int64_t zero_timer_us; /* simulated latency of a 0 ms timer (mock_advance) */
    int64_t db_latency_us; /* simulated latency of a storage answer (mock_advance) */
    struct {
        at_event_type type;
        at_event_cb cb;
        void *arg;
    } subs[8];
    int nsubs;
    /* A test's own tables (optional): on_write sees every write with its
     * parameters; rows answers a read, row by row, when it is made (storage
     * runs reads and writes in the order they come). NULL: an empty
     * database. */
    void (*on_write)(const char *sql, const at_db_value *params, size_t n);
    void (*rows)(const char *sql, const at_db_value *params, size_t n, at_db_row_cb row, void *arg);
} mock;

static mock M;

static const char *m_instance_name(const at_instance *inst)
{
    (void)inst;
    return "exchange.okx_test";
}

static void m_log(const at_instance *inst, at_log_level level, const char *fmt, ...)
{
    (void)inst;
    if (M.nlogs >= MOCK_MAX) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(M.logs[M.nlogs].text, sizeof(M.logs[0].text), fmt, ap);
    va_end(ap);
    M.logs[M.nlogs++].level = level;
}

static void m_set_state(at_instance *inst, at_state st, const char *detail)
{
    (void)inst;
    (void)st;
    (void)detail;
}

static at_event *m_event_new(at_instance *inst, at_event_type type, size_t extra)
{
    (void)inst;
    mock_ev *w = calloc(1, sizeof(*w) + MOCK_PAYLOAD + extra);
    if (!w) {
        return NULL;
    }
    w->extra = extra;
    at_event *e = (at_event *)w->payload;
    e->type = (uint16_t)type;
    e->ts_us = M.now_us;
    return e;
}

static const char *m_event_strdup(at_event *ev, const char *s)
{
    mock_ev *w = (mock_ev *)((unsigned char *)ev - offsetof(mock_ev, payload));
    size_t n = s ? strlen(s) + 1 : 0;
    if (!s || w->used + n > w->extra) {
        return NULL;
    }
    char *d = (char *)w->payload + MOCK_PAYLOAD + w->used;
    memcpy(d, s, n);
    w->used += n;
    return d;
}

static void m_event_free(at_event *ev)
{
    free((unsigned char *)ev - offsetof(mock_ev, payload));
}

static int m_publish(at_instance *inst, at_event *ev, uint32_t flags)
{
    (void)inst;
    (void)flags;
    if (M.nevents >= MOCK_MAX) {
        m_event_free(ev);
        return AT_OK;
    }
    M.events[M.nevents++] = ev;
    return AT_OK;
}

static int m_subscribe(at_instance *inst, at_event_type type, at_event_cb cb, void *arg)
{
    (void)inst;
    if (M.nsubs >= 8) {
        return AT_ENOMEM;
    }
    M.subs[M.nsubs].type = type;
    M.subs[M.nsubs].cb = cb;
    M.subs[M.nsubs].arg = arg;
    return ++M.nsubs;
}

static void m_unsubscribe(at_instance *inst, int id)
{
    (void)inst;
    if (id > 0 && id <= M.nsubs) {
        M.subs[id - 1].cb = NULL;
    }
}

static int64_t m_now_us(void)
{
    return M.now_us;
}

static mock_cb *m_pend(int kind, int64_t after_us)
{
    if (M.npending >= MOCK_PENDING) {
        return NULL;
    }
    mock_cb *p = calloc(1, sizeof(*p));
    if (p) {
        p->kind = kind;
        p->due_us = M.now_us + after_us;
        M.pending[M.npending++] = p;
    }
    return p;
}

static at_timer *m_timer_add(at_instance *inst, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                             void *arg)
{
    (void)inst;
    /* repeating ones never fire here */
    mock_cb *p = m_pend(repeat_ms > 0 ? 0 : 3, after_ms > 0 ? after_ms * 1000 : M.zero_timer_us);
    if (p) {
        p->fire = cb;
        p->arg = arg;
    }
    return (at_timer *)p;
}

static void m_timer_cancel(at_timer *t)
{
    if (t) {
        ((mock_cb *)t)->cancelled = true;
    }
}

static int m_db_write(at_instance *inst, const char *sql, const at_db_value *params, size_t n,
                      at_db_done_cb done, void *arg)
{
    (void)inst;
    if (M.on_write) {
        M.on_write(sql, params, n);
    }
    if (M.nwrites < MOCK_MAX) {
        snprintf(M.writes[M.nwrites++].sql, sizeof(M.writes[0].sql), "%s", sql);
    }
    if (done) {
        mock_cb *p = m_pend(1, M.db_latency_us);
        if (!p) {
            return AT_ENOMEM;
        }
        p->done = done;
        p->arg = arg;
    }
    return AT_OK;
}

/* Reads see an empty database, or what M.rows gives. */
static int m_db_query(at_instance *inst, const char *sql, const at_db_value *params, size_t n,
                      at_db_row_cb row, at_db_done_cb done, void *arg)
{
    (void)inst;
    if (M.rows) {
        M.rows(sql, params, n, row, arg);
    }
    mock_cb *p = m_pend(2, M.db_latency_us);
    if (!p) {
        return AT_ENOMEM;
    }
    p->done = done;
    p->arg = arg;
    return AT_OK;
}

MOCK_UNUSED static void m_fire(mock_cb *p)
{
    p->cancelled = true; /* once */
    if (p->kind == 3) {
        p->fire(p->arg);
    } else if (p->done) {
        p->done(p->arg, AT_OK, NULL);
    }
}

/* Run what the loop would run later: storage answers, one-shot timers (in
 * order, including those they add). */
MOCK_UNUSED static void mock_run(void)
{
    for (size_t i = 0; i < M.npending; i++) {
        mock_cb *p = M.pending[i];
        if (p->cancelled || p->kind == 0) {
            continue;
        }
        m_fire(p);
    }
}

/* Run, on the simulated clock, what is due within the next `ms`
 * milliseconds, each at its time (earliest first, then in the order made),
 * including what they add; the clock ends `ms` later. */
MOCK_UNUSED static void mock_advance(int64_t ms)
{
    int64_t end = M.now_us + ms * 1000;
    for (;;) {
        while (M.first_open < M.npending &&
               (M.pending[M.first_open]->cancelled || M.pending[M.first_open]->kind == 0)) {
            M.first_open++;
        }
        mock_cb *next = NULL;
        for (size_t i = M.first_open; i < M.npending; i++) {
            mock_cb *p = M.pending[i];
            if (!p->cancelled && p->kind != 0 && (!next || p->due_us < next->due_us)) {
                next = p;
            }
        }
        if (!next || next->due_us > end) {
            break;
        }
        if (next->due_us > M.now_us) {
            M.now_us = next->due_us;
        }
        m_fire(next);
    }
    M.now_us = end;
}

/* Forget what was recorded (events freed); subscriptions stay. */
MOCK_UNUSED static void mock_clear(void)
{
    for (size_t i = 0; i < M.nevents; i++) {
        m_event_free(M.events[i]);
    }
    M.nevents = 0;
    M.nlogs = 0;
    M.nwrites = 0;
}

MOCK_UNUSED static void mock_reset(void)
{
    mock_clear();
    for (size_t i = 0; i < M.npending; i++) {
        free(M.pending[i]);
    }
    M.npending = 0;
    M.first_open = 0;
    M.nsubs = 0;
}

MOCK_UNUSED static const at_host *mock_host(void)
{
    mock_reset();
    M.host = *engine_host(); /* decimals, instrument ids */
    M.host.instance_name = m_instance_name;
    M.host.log = m_log;
    M.host.set_state = m_set_state;
    M.host.event_new = m_event_new;
    M.host.event_strdup = m_event_strdup;
    M.host.publish = m_publish;
    M.host.subscribe = m_subscribe;
    M.host.unsubscribe = m_unsubscribe;
    M.host.now_us = m_now_us;
    M.host.timer_add = m_timer_add;
    M.host.timer_cancel = m_timer_cancel;
    M.host.timer_at = NULL; /* the engine's would bypass the mock's timers */
    M.host.db_write = m_db_write;
    M.host.db_query = m_db_query;
    M.on_write = NULL;
    M.rows = NULL;
    M.now_us = 1700000000000000LL;
    M.zero_timer_us = 0;
    M.db_latency_us = 0;
    return &M.host;
}

/* Deliver an event to the mock's subscribers of its type. */
MOCK_UNUSED static void mock_deliver(const at_event *e)
{
    for (int i = 0; i < M.nsubs; i++) {
        if (M.subs[i].cb && M.subs[i].type == e->type) {
            M.subs[i].cb(M.subs[i].arg, e);
        }
    }
}

/* Recorded events of a type; the n-th of them (or NULL). */
MOCK_UNUSED static size_t mock_count(at_event_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < M.nevents; i++) {
        n += M.events[i]->type == type;
    }
    return n;
}

MOCK_UNUSED static const at_event *mock_event(at_event_type type, size_t nth)
{
    for (size_t i = 0; i < M.nevents; i++) {
        if (M.events[i]->type == type && nth-- == 0) {
            return M.events[i];
        }
    }
    return NULL;
}

/* Writes whose SQL starts with `prefix`. */
MOCK_UNUSED static size_t mock_writes(const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < M.nwrites; i++) {
        n += strncmp(M.writes[i].sql, prefix, strlen(prefix)) == 0;
    }
    return n;
}

/* Log lines at `level` containing `needle`. */
MOCK_UNUSED static size_t mock_logged(at_log_level level, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < M.nlogs; i++) {
        n += M.logs[i].level == level && strstr(M.logs[i].text, needle) != NULL;
    }
    return n;
}

MOCK_UNUSED static void mock_print_logs(void)
{
    for (size_t i = 0; i < M.nlogs; i++) {
        printf("# log %d: %s\n", (int)M.logs[i].level, M.logs[i].text);
    }
}

#endif

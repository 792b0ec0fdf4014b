#include "clock.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "handle.h"
#include "util.h"

/* A timer's memory is the engine's: plugins hold its handle (handle.h), so a
 * handle kept past the timer's life looks up as nothing. */
typedef struct tmr {
    int64_t deadline_us;
    uint64_t seq; /* ties fire in creation order */
    int64_t repeat_us;
    at_timer_cb cb;
    void *arg;
    const void *owner;
    size_t heap_idx; /* SIZE_MAX when not in the heap (firing or cancelled) */
    bool cancelled;
    void *handle;
} tmr;

/* Clock state is process-wide: plugins read time through host->now_us(void). */
static struct {
    bool sim;
    _Atomic int64_t sim_now_us;
    struct event_base *base;
    struct event *ev;
    tmr **heap;
    size_t n, cap;
    uint64_t seq;
    tmr *firing; /* timer whose callback is running */
    handle_table handles;
} clk;

/* Release the timer and its handle: from now on the handle names nothing. */
static void tmr_free(tmr *t)
{
    handle_del(&clk.handles, t->handle);
    free(t);
}

static bool before(const tmr *a, const tmr *b)
{
    return a->deadline_us < b->deadline_us || (a->deadline_us == b->deadline_us && a->seq < b->seq);
}

static void heap_swap(size_t i, size_t j)
{
    tmr *t = clk.heap[i];
    clk.heap[i] = clk.heap[j];
    clk.heap[j] = t;
    clk.heap[i]->heap_idx = i;
    clk.heap[j]->heap_idx = j;
}

static void sift_up(size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(clk.heap[i], clk.heap[p])) {
            break;
        }
        heap_swap(i, p);
        i = p;
    }
}

static void sift_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < clk.n && before(clk.heap[l], clk.heap[m])) {
            m = l;
        }
        if (r < clk.n && before(clk.heap[r], clk.heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        heap_swap(i, m);
        i = m;
    }
}

static int heap_push(tmr *t)
{
    if (clk.n == clk.cap) {
        size_t cap = clk.cap ? clk.cap * 2 : 64;
        tmr **h = realloc(clk.heap, cap * sizeof(*h));
        if (!h) {
            return AT_ENOMEM;
        }
        clk.heap = h;
        clk.cap = cap;
    }
    t->heap_idx = clk.n;
    clk.heap[clk.n++] = t;
    sift_up(t->heap_idx);
    return AT_OK;
}

static void heap_remove(tmr *t)
{
    size_t i = t->heap_idx;
    if (i == SIZE_MAX) {
        return;
    }
    clk.n--;
    if (i != clk.n) {
        clk.heap[i] = clk.heap[clk.n];
        clk.heap[i]->heap_idx = i;
        sift_down(i);
        sift_up(i);
    }
    t->heap_idx = SIZE_MAX;
}

int64_t clock_now_us(void)
{
    if (clk.sim) {
        return atomic_load(&clk.sim_now_us);
    }
    return at_wall_us();
}

bool clock_is_sim(void)
{
    return clk.sim;
}

int64_t clock_next_deadline(void)
{
    return clk.n ? clk.heap[0]->deadline_us : INT64_MAX;
}

static void rearm(void)
{
    if (clk.sim || !clk.ev) {
        return;
    }
    if (clk.n == 0) {
        event_del(clk.ev);
        return;
    }
    int64_t wait = clk.heap[0]->deadline_us - clock_now_us();
    if (wait < 0) {
        wait = 0;
    }
    struct timeval tv = {.tv_sec = wait / 1000000, .tv_usec = wait % 1000000};
    event_add(clk.ev, &tv);
}

/* Fire every timer due at `now` (real) or up to `until` (sim). */
static void run_due(int64_t until)
{
    while (clk.n && clk.heap[0]->deadline_us <= until) {
        tmr *t = clk.heap[0];
        heap_remove(t);
        if (clk.sim && t->deadline_us > atomic_load(&clk.sim_now_us)) {
            atomic_store(&clk.sim_now_us, t->deadline_us);
        }
        clk.firing = t;
        t->cb(t->arg);
        clk.firing = NULL;
        if (t->cancelled || t->repeat_us <= 0) {
            tmr_free(t);
            continue;
        }
        /* Repeat from the planned deadline so periods don't drift; skip
         * periods missed while the loop was busy instead of bursting. */
        t->deadline_us += t->repeat_us;
        int64_t now = clock_now_us();
        if (!clk.sim && t->deadline_us < now) {
            t->deadline_us = now + t->repeat_us;
        }
        t->seq = clk.seq++;
        if (heap_push(t) != AT_OK) {
            tmr_free(t);
        }
        if (!clk.sim) {
            until = clock_now_us();
        }
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    run_due(clock_now_us());
    rearm();
}

int clock_init_real(struct event_base *base)
{
    clk.sim = false;
    clk.base = base;
    clk.ev = evtimer_new(base, on_timer, NULL);
    return clk.ev ? AT_OK : AT_ENOMEM;
}

int clock_init_sim(int64_t start_us)
{
    clk.sim = true;
    atomic_store(&clk.sim_now_us, start_us);
    return AT_OK;
}

int clock_advance(int64_t to_us)
{
    if (!clk.sim) {
        return AT_ESTATE;
    }
    if (to_us < atomic_load(&clk.sim_now_us)) {
        return AT_EINVAL;
    }
    run_due(to_us);
    atomic_store(&clk.sim_now_us, to_us);
    return AT_OK;
}

void clock_shutdown(void)
{
    for (size_t i = 0; i < clk.n; i++) {
        free(clk.heap[i]);
    }
    free(clk.heap);
    handle_table_free(&clk.handles);
    if (clk.ev) {
        event_free(clk.ev);
    }
    clk.heap = NULL;
    clk.n = clk.cap = 0;
    clk.ev = NULL;
    clk.base = NULL;
    clk.sim = false;
}

/* A new timer at deadline_us (never before now: an overdue one joins the
 * timers due now, behind those already there). */
static at_timer *arm(const void *owner, int64_t deadline_us, int64_t repeat_us, at_timer_cb cb,
                     void *arg)
{
    tmr *t = calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    int64_t now = clock_now_us();
    t->deadline_us = deadline_us > now ? deadline_us : now;
    t->repeat_us = repeat_us;
    t->cb = cb;
    t->arg = arg;
    t->owner = owner;
    t->seq = clk.seq++;
    t->handle = handle_put(&clk.handles, t);
    if (!t->handle) {
        free(t);
        return NULL;
    }
    if (heap_push(t) != AT_OK) {
        tmr_free(t);
        return NULL;
    }
    if (t->heap_idx == 0) {
        rearm();
    }
    return t->handle;
}

at_timer *timer_add(const void *owner, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                    void *arg)
{
    if (!cb || after_ms < 0 || repeat_ms < 0) {
        return NULL;
    }
    return arm(owner, clock_now_us() + after_ms * 1000, repeat_ms * 1000, cb, arg);
}

at_timer *timer_at(const void *owner, int64_t at_us, at_timer_cb cb, void *arg)
{
    if (!cb || at_us < 0) {
        return NULL;
    }
    return arm(owner, at_us, 0, cb, arg);
}

void timer_cancel(at_timer *h)
{
    tmr *t = handle_get(&clk.handles, h);
    if (!t || t->cancelled) {
        return; /* already fired, cancelled, or freed with its instance */
    }
    if (t == clk.firing) {
        /* Freed by run_due after the callback returns. */
        t->cancelled = true;
        return;
    }
    bool was_first = t->heap_idx == 0;
    heap_remove(t);
    tmr_free(t);
    if (was_first) {
        rearm();
    }
}

void timer_cancel_owner(const void *owner)
{
    for (size_t i = 0; i < clk.n;) {
        if (clk.heap[i]->owner == owner) {
            tmr *t = clk.heap[i];
            heap_remove(t);
            tmr_free(t);
            i = 0; /* the heap was reshuffled */
        } else {
            i++;
        }
    }
    if (clk.firing && clk.firing->owner == owner) {
        clk.firing->cancelled = true;
    }
    rearm();
}

size_t timer_count(void)
{
    return clk.n;
}

/* The bus's queue and cross-thread mailbox under their bounds (policy in
 * include/aitrader/events.h): coalescing, market data dropped oldest first,
 * the backlog of undroppable events, and one ALERT per overflow or backlog
 * episode. */
#include <string.h>

#include "bus_internal.h"
#include "clock.h"
#include "log.h"
#include "util.h"

/* ------------------------------------------------------------ queues */

static void q_append(evq *q, ev_box *b)
{
    b->next = NULL;
    b->prev = q->tail;
    if (q->tail) {
        q->tail->next = b;
    } else {
        q->head = b;
    }
    q->tail = b;
    q->n++;
    q->bytes += b->alloc;
    if (b->market) {
        b->mnext = NULL;
        b->mprev = q->mtail;
        if (q->mtail) {
            q->mtail->mnext = b;
        } else {
            q->mhead = b;
        }
        q->mtail = b;
        q->market++;
    }
}

static void q_unlink_market(evq *q, ev_box *b)
{
    if (b->mprev) {
        b->mprev->mnext = b->mnext;
    } else {
        q->mhead = b->mnext;
    }
    if (b->mnext) {
        b->mnext->mprev = b->mprev;
    } else {
        q->mtail = b->mprev;
    }
    q->market--;
}

static void q_unlink(evq *q, ev_box *b)
{
    if (b->prev) {
        b->prev->next = b->next;
    } else {
        q->head = b->next;
    }
    if (b->next) {
        b->next->prev = b->prev;
    } else {
        q->tail = b->prev;
    }
    q->n--;
    q->bytes -= b->alloc;
    if (b->market) {
        q_unlink_market(q, b);
    }
}

/* b takes o's place. A replacement of an undroppable event is undroppable
 * too: a coalescing publisher never makes the bus lose more than it asked. */
static void q_replace(evq *q, ev_box *o, ev_box *b)
{
    b->prev = o->prev;
    b->next = o->next;
    if (o->prev) {
        o->prev->next = b;
    } else {
        q->head = b;
    }
    if (o->next) {
        o->next->prev = b;
    } else {
        q->tail = b;
    }
    q->bytes += b->alloc - o->alloc;
    if (o->market && b->market) {
        b->mprev = o->mprev;
        b->mnext = o->mnext;
        if (o->mprev) {
            o->mprev->mnext = b;
        } else {
            q->mhead = b;
        }
        if (o->mnext) {
            o->mnext->mprev = b;
        } else {
            q->mtail = b;
        }
    } else if (o->market) {
        q_unlink_market(q, o);
    } else {
        b->market = false;
    }
}

static unsigned coal_hash(const ev_box *b)
{
    const at_event *ev = (const at_event *)b->payload;
    uintptr_t h = (uintptr_t)b->from * 31u + b->type * 131u + ev->inst * 2654435761u;
    return (unsigned)(h ^ (h >> 13)) % COAL_BUCKETS;
}

static bool coal_same(const ev_box *a, const ev_box *b)
{
    const at_event *x = (const at_event *)a->payload, *y = (const at_event *)b->payload;
    return a->from == b->from && a->type == b->type && x->inst == y->inst;
}

static void coal_remove(ev_box *b)
{
    for (ev_box **p = &bus.coal[coal_hash(b)]; *p; p = &(*p)->coal_next) {
        if (*p == b) {
            *p = b->coal_next;
            b->coal_next = NULL;
            b->in_coal = false;
            return;
        }
    }
}

/* Any thread (the mailbox's under its lock): forget b, counted as dropped. */
static void drop_oldest_market(evq *q)
{
    ev_box *o = q->mhead;
    q_unlink(q, o);
    if (o->in_coal) {
        coal_remove(o);
    }
    o->queued = false;
    atomic_fetch_add(&bus_counted(o->from)->dropped[o->type], 1);
    bus_release((const at_event *)o->payload);
}

/* ------------------------------------------ bounds and their episodes */

void bus_set_limits(size_t market_max, size_t backlog_max)
{
    atomic_store(&bus.market_max, market_max ? market_max : BUS_MARKET_MAX_DEFAULT);
    bus.backlog_max = backlog_max ? backlog_max : BUS_BACKLOG_MAX_DEFAULT;
}

/* Episodes end after a quiet spell: measured on the monotonic clock live (a
 * wall-clock step must not stretch or cut one), on the core clock when it is
 * simulated. */
static int64_t quiet_clock_us(void)
{
    return clock_is_sim() ? clock_now_us() : at_mono_us();
}

/* Main thread. Published like any event: after what is queued already. */
static void raise_alert(at_log_level level, const char *msg)
{
    log_msg("bus", level, "%s", msg);
    at_ev_alert *a = (at_ev_alert *)bus_event_new(NULL, AT_EV_ALERT, strlen(msg) + 1);
    if (a) {
        a->level = level;
        a->message = bus_event_strdup(&a->h, msg);
        bus_publish(NULL, &a->h, 0);
    }
}

static void overflow_begin(void)
{
    bus.overflow = true;
    bus.overflows++;
    char msg[256];
    snprintf(msg, sizeof(msg),
             "market data over %zu queued events: the oldest are dropped until subscribers "
             "catch up (aitrader_bus_dropped_total counts them)",
             atomic_load(&bus.market_max));
    raise_alert(AT_LOG_WARN, msg);
}

/* End of a drain: the episode is over once a whole drain went by without a
 * drop, left no market data queued, and nothing was dropped for
 * BUS_QUIET_US. An empty queue alone is not enough: a flood from another
 * thread refills the mailbox while the queue drains, and a subscriber that
 * keeps up only now and then would raise an ALERT each time. */
static void overflow_check_end(void)
{
    if (!bus.overflow) {
        return;
    }
    if (bus.q.market == 0 && bus.ep_drops == bus.ep_seen &&
        quiet_clock_us() - bus.last_drop_us >= BUS_QUIET_US) {
        bus.overflow = false;
        log_msg("bus", AT_LOG_INFO, "market data caught up; %llu events were dropped",
                (unsigned long long)bus.ep_drops);
        bus.ep_drops = bus.ep_seen = 0;
        return;
    }
    bus.ep_seen = bus.ep_drops;
}

static void backlog_check(void)
{
    size_t keep = bus.q.n - bus.q.market;
    if (!bus.backlog && keep > bus.backlog_max) {
        bus.backlog = true;
        bus.backlogs++;
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "%zu account/order/decision events wait for delivery (limit %zu): the "
                 "network is slowed to a trickle until half are delivered",
                 keep, bus.backlog_max);
        raise_alert(AT_LOG_WARN, msg);
    } else if (bus.backlog && keep <= bus.backlog_max / 2) {
        bus.backlog = false;
        log_msg("bus", AT_LOG_INFO, "backlog down to %zu events; reading resumes", keep);
    }
}

bool bus_backlogged(void)
{
    return bus.backlog;
}

void bus_queue_drained(void)
{
    overflow_check_end();
    if (bus.backlog) {
        backlog_check();
    }
}

/* ------------------------------------------------ publish and delivery */

bool bus_queue_classify(const ev_box *b)
{
    switch (bus_types[b->type].policy) {
    case SNAPSHOT:
    case DROP_OLDEST:
        return true;
    case CANDLE_RULE: /* a closed bar is final: indicators are built on it */
        return !((const at_ev_candle *)b->payload)->confirmed;
    default:
        return false;
    }
}

/* Main thread: put b at the tail, or in place of a coalescable twin; then
 * hold the bounds. */
void bus_enqueue(ev_box *b)
{
    at_event *ev = (at_event *)b->payload;
    /* Snapshot types coalesce during an overflow even unasked: the newest
     * state per source and instrument is what a late subscriber needs. */
    if ((ev->flags & AT_PUB_COALESCE) || (bus.overflow && bus_types[b->type].policy == SNAPSHOT)) {
        unsigned h = coal_hash(b);
        for (ev_box *o = bus.coal[h]; o; o = o->coal_next) {
            if (!coal_same(o, b)) {
                continue;
            }
            q_replace(&bus.q, o, b);
            b->queued = true;
            coal_remove(o);
            b->coal_next = bus.coal[h];
            bus.coal[h] = b;
            b->in_coal = true;
            atomic_fetch_add(&bus_counted(o->from)->coalesced[b->type], 1);
            o->queued = false;
            bus_release((const at_event *)o->payload);
            return;
        }
        b->coal_next = bus.coal[h];
        bus.coal[h] = b;
        b->in_coal = true;
    }
    q_append(&bus.q, b);
    b->queued = true;
    if (b->market) {
        size_t max = atomic_load(&bus.market_max);
        while (bus.q.market > max) {
            drop_oldest_market(&bus.q);
            bus.ep_drops++;
            bus.last_drop_us = quiet_clock_us();
            if (!bus.overflow) {
                overflow_begin();
            }
        }
    } else if (bus.q.n - bus.q.market > bus.backlog_max) {
        backlog_check();
    }
}

void bus_mailbox_put(ev_box *b)
{
    pthread_mutex_lock(&bus.mbox_lock);
    q_append(&bus.mbox, b);
    if (b->market && bus.mbox.market > atomic_load(&bus.market_max)) {
        drop_oldest_market(&bus.mbox);
        bus.mbox_dropped++;
    }
    pthread_mutex_unlock(&bus.mbox_lock);
}

void bus_mailbox_take(void)
{
    pthread_mutex_lock(&bus.mbox_lock);
    ev_box *b = bus.mbox.head;
    uint64_t dropped = bus.mbox_dropped;
    memset(&bus.mbox, 0, sizeof(bus.mbox));
    bus.mbox_dropped = 0;
    pthread_mutex_unlock(&bus.mbox_lock);
    if (dropped) {
        bus.ep_drops += dropped;
        bus.last_drop_us = quiet_clock_us();
        if (!bus.overflow) {
            overflow_begin();
        }
    }
    while (b) {
        ev_box *n = b->next;
        bus_enqueue(b);
        b = n;
    }
}

ev_box *bus_queue_pop(void)
{
    ev_box *b = bus.q.head;
    q_unlink(&bus.q, b);
    b->queued = false;
    if (b->in_coal) {
        coal_remove(b);
    }
    return b;
}

#include "bus.h"

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "util.h"

/* Hidden prefix of every event: queue links, refcount, string arena. */
typedef struct ev_box {
    struct ev_box *prev, *next;   /* queue or mailbox */
    struct ev_box *mprev, *mnext; /* market-data chain of the same queue, oldest first */
    struct ev_box *coal_next;     /* coalescing bucket chain */
    bus_client *from;
    _Atomic int refs;
    uint16_t type; /* the header's is the publisher's to overwrite; this one is not */
    bool market;   /* droppable market data (classified at publish) */
    bool in_coal;  /* in a coalescing bucket */
    bool queued;
    size_t alloc; /* bytes allocated, for the queue's memory count */
    uint32_t extra_cap, extra_used;
    alignas(max_align_t) unsigned char payload[];
} ev_box;

#define BOX(ev) ((ev_box *)((char *)(ev)-offsetof(ev_box, payload)))

typedef struct sub {
    int id;
    bool dead;
    at_event_cb cb;
    void *arg;
    bus_client *who;
} sub;

typedef struct sub_list {
    sub *v;
    size_t n, cap;
} sub_list;

/* A FIFO of boxes with, threaded through it, the chain of its market-data
 * boxes: dropping the oldest of those is O(1) whatever else is queued. */
typedef struct evq {
    ev_box *head, *tail;
    ev_box *mhead, *mtail;
    size_t n, market, bytes;
} evq;

#define COAL_BUCKETS 256
/* Events delivered per loop turn before yielding to I/O. */
#define DRAIN_BATCH 4096

static struct {
    struct event_base *base;
    struct event *drain_ev;
    pthread_t main_thread;
    evq q; /* main thread only */
    pthread_mutex_t mbox_lock;
    evq mbox;              /* publishes from other threads, under mbox_lock */
    uint64_t mbox_dropped; /* market data the mailbox dropped, under mbox_lock */
    ev_box *coal[COAL_BUCKETS];
    sub_list subs[AT_EV__COUNT]; /* [AT_EV_NONE] = catch-all */
    int next_sub_id;
    int dispatching;
    bool need_compact;
    uint64_t seq;
    bus_client *clients;
    bus_client core; /* counts what publishers without an instance send */
    /* bounds and their episodes (main thread; the mailbox reads market_max) */
    _Atomic size_t market_max;
    size_t backlog_max;
    bool overflow;        /* market data is being dropped */
    uint64_t ep_drops;    /* ... this many so far in the episode */
    uint64_t ep_seen;     /* ep_drops at the end of the previous drain */
    int64_t last_drop_us; /* core clock */
    bool backlog;         /* over backlog_max undroppable events */
    uint64_t overflows, backlogs;
} bus;

/* What a full queue does with a type (events.h, "Bounds"). */
enum { KEEP = 0, SNAPSHOT, DROP_OLDEST, CANDLE_RULE };

static const struct {
    const char *name;
    size_t size;
    unsigned char policy;
} types[AT_EV__COUNT] = {
    [AT_EV_NONE] = {"none", 0, KEEP},
    [AT_EV_TICKER] = {"ticker", sizeof(at_ev_ticker), SNAPSHOT},
    [AT_EV_BOOK] = {"book", sizeof(at_ev_book), SNAPSHOT},
    [AT_EV_TRADE] = {"trade", sizeof(at_ev_trade), DROP_OLDEST},
    [AT_EV_CANDLE] = {"candle", sizeof(at_ev_candle), CANDLE_RULE},
    [AT_EV_FUNDING] = {"funding", sizeof(at_ev_funding), SNAPSHOT},
    [AT_EV_MARK] = {"mark", sizeof(at_ev_mark), SNAPSHOT},
    [AT_EV_NEWS] = {"news", sizeof(at_ev_news), KEEP},
    [AT_EV_SENTIMENT] = {"sentiment", sizeof(at_ev_sentiment), KEEP},
    [AT_EV_BALANCE] = {"balance", sizeof(at_ev_balance), KEEP},
    [AT_EV_POSITION] = {"position", sizeof(at_ev_position), KEEP},
    [AT_EV_ORDER] = {"order", sizeof(at_ev_order), KEEP},
    [AT_EV_FILL] = {"fill", sizeof(at_ev_fill), KEEP},
    [AT_EV_INDICATOR] = {"indicator", sizeof(at_ev_indicator), KEEP},
    [AT_EV_SIGNAL] = {"signal", sizeof(at_ev_signal), KEEP},
    [AT_EV_TRIGGER] = {"trigger", sizeof(at_ev_trigger), KEEP},
    [AT_EV_DECISION] = {"decision", sizeof(at_ev_decision), KEEP},
    [AT_EV_ORDER_INTENT] = {"order_intent", sizeof(at_ev_order_intent), KEEP},
    [AT_EV_RISK_VERDICT] = {"risk_verdict", sizeof(at_ev_risk_verdict), KEEP},
    [AT_EV_ORDER_RESULT] = {"order_result", sizeof(at_ev_order_result), KEEP},
    [AT_EV_ALERT] = {"alert", sizeof(at_ev_alert), KEEP},
    [AT_EV_STATUS] = {"status", sizeof(at_ev_status), KEEP},
};

const char *bus_type_name(at_event_type t)
{
    return (unsigned)t < AT_EV__COUNT ? types[t].name : "unknown";
}

size_t bus_payload_size(at_event_type t)
{
    return (unsigned)t < AT_EV__COUNT ? types[t].size : 0;
}

static void on_drain(evutil_socket_t fd, short what, void *arg);

int bus_init(struct event_base *base)
{
    memset(&bus, 0, sizeof(bus));
    bus.base = base;
    bus.main_thread = pthread_self();
    pthread_mutex_init(&bus.mbox_lock, NULL);
    bus.drain_ev = event_new(base, -1, 0, on_drain, NULL);
    bus.next_sub_id = 1;
    bus.core.name = "core";
    bus_client_register(&bus.core);
    bus_set_limits(0, 0);
    return bus.drain_ev ? AT_OK : AT_ENOMEM;
}

void bus_set_limits(size_t market_max, size_t backlog_max)
{
    atomic_store(&bus.market_max, market_max ? market_max : BUS_MARKET_MAX_DEFAULT);
    bus.backlog_max = backlog_max ? backlog_max : BUS_BACKLOG_MAX_DEFAULT;
}

static void box_free(ev_box *b)
{
    free(b);
}

void bus_shutdown(void)
{
    for (ev_box *b = bus.q.head, *n; b; b = n) {
        n = b->next;
        box_free(b);
    }
    for (ev_box *b = bus.mbox.head, *n; b; b = n) {
        n = b->next;
        box_free(b);
    }
    for (int t = 0; t < AT_EV__COUNT; t++) {
        free(bus.subs[t].v);
    }
    if (bus.drain_ev) {
        event_free(bus.drain_ev);
    }
    pthread_mutex_destroy(&bus.mbox_lock);
    memset(&bus, 0, sizeof(bus));
}

void bus_client_register(bus_client *c)
{
    c->next_client = bus.clients;
    bus.clients = c;
}

void bus_client_unregister(bus_client *c)
{
    for (bus_client **p = &bus.clients; *p; p = &(*p)->next_client) {
        if (*p == c) {
            *p = c->next_client;
            return;
        }
    }
}

at_event *bus_event_new(bus_client *from, at_event_type type, size_t extra)
{
    if (type <= AT_EV_NONE || type >= AT_EV__COUNT || extra > UINT32_MAX) {
        return NULL;
    }
    size_t size = types[type].size;
    size_t alloc = sizeof(ev_box) + size + extra;
    ev_box *b = calloc(1, alloc);
    if (!b) {
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->from = from;
    b->type = (uint16_t)type;
    b->alloc = alloc;
    b->extra_cap = (uint32_t)extra;
    at_event *ev = (at_event *)b->payload;
    ev->type = (uint16_t)type;
    ev->version = AT_EV_VERSION;
    ev->size = (uint32_t)size;
    ev->ts_us = clock_now_us();
    ev->source = from ? from->name : "core";
    return ev;
}

const char *bus_event_strdup(at_event *ev, const char *s)
{
    if (!ev || !s) {
        return NULL;
    }
    ev_box *b = BOX(ev);
    size_t len = strlen(s) + 1;
    if (b->extra_cap - b->extra_used < len) {
        return NULL;
    }
    char *dst = (char *)b->payload + types[b->type].size + b->extra_used;
    memcpy(dst, s, len);
    b->extra_used += (uint32_t)len;
    return dst;
}

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

static bus_client *counted(bus_client *from)
{
    return from ? from : &bus.core;
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
    atomic_fetch_add(&counted(o->from)->dropped[o->type], 1);
    bus_release((const at_event *)o->payload);
}

/* ------------------------------------------------------ episodes */

/* Main thread. Published like any event: after what is queued already. */
/* Episodes end after a quiet spell: measured on the monotonic clock live (a
 * wall-clock step must not stretch or cut one), on the core clock when it is
 * simulated. */
static int64_t quiet_clock_us(void)
{
    return clock_is_sim() ? clock_now_us() : at_mono_us();
}

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

/* ------------------------------------------------------ publish */

/* Main thread: put b at the tail, or in place of a coalescable twin; then
 * hold the bounds. */
static void enqueue(ev_box *b)
{
    at_event *ev = (at_event *)b->payload;
    /* Snapshot types coalesce during an overflow even unasked: the newest
     * state per source and instrument is what a late subscriber needs. */
    if ((ev->flags & AT_PUB_COALESCE) || (bus.overflow && types[b->type].policy == SNAPSHOT)) {
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
            atomic_fetch_add(&counted(o->from)->coalesced[b->type], 1);
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

static bool classify_market(const ev_box *b)
{
    switch (types[b->type].policy) {
    case SNAPSHOT:
    case DROP_OLDEST:
        return true;
    case CANDLE_RULE: /* a closed bar is final: indicators are built on it */
        return !((const at_ev_candle *)b->payload)->confirmed;
    default:
        return false;
    }
}

int bus_publish(bus_client *from, at_event *ev, uint32_t flags)
{
    if (!ev) {
        return AT_EINVAL;
    }
    ev_box *b = BOX(ev);
    /* The header is the bus's: whatever the publisher wrote there, the
     * subscriber sees the engine's payload version of the engine's struct
     * (event_new zeroed it whole, so fields an older publisher does not know
     * read as zero). */
    ev->type = b->type;
    ev->version = AT_EV_VERSION;
    ev->size = (uint32_t)types[b->type].size;
    ev->source = b->from ? b->from->name : "core";
    ev->flags = flags;
    b->market = classify_market(b);
    atomic_fetch_add(&counted(from)->published[b->type], 1);
    if (!bus.drain_ev) {
        bus_release(ev); /* no bus (a unit test without one): nobody listens */
        return AT_ESTATE;
    }
    if (pthread_equal(pthread_self(), bus.main_thread)) {
        enqueue(b);
    } else {
        pthread_mutex_lock(&bus.mbox_lock);
        q_append(&bus.mbox, b);
        if (b->market && bus.mbox.market > atomic_load(&bus.market_max)) {
            drop_oldest_market(&bus.mbox);
            bus.mbox_dropped++;
        }
        pthread_mutex_unlock(&bus.mbox_lock);
    }
    event_active(bus.drain_ev, EV_READ, 0);
    return AT_OK;
}

int bus_subscribe(bus_client *who, at_event_type type, at_event_cb cb, void *arg)
{
    if ((unsigned)type >= AT_EV__COUNT || !cb) {
        return AT_EINVAL;
    }
    sub_list *l = &bus.subs[type];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        sub *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            return AT_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    int id = bus.next_sub_id++;
    l->v[l->n++] = (sub){.id = id, .cb = cb, .arg = arg, .who = who};
    return id;
}

static void compact(void)
{
    for (int t = 0; t < AT_EV__COUNT; t++) {
        sub_list *l = &bus.subs[t];
        size_t j = 0;
        for (size_t i = 0; i < l->n; i++) {
            if (!l->v[i].dead) {
                l->v[j++] = l->v[i];
            }
        }
        l->n = j;
    }
    bus.need_compact = false;
}

static void kill_where(int id, const bus_client *who)
{
    for (int t = 0; t < AT_EV__COUNT; t++) {
        sub_list *l = &bus.subs[t];
        for (size_t i = 0; i < l->n; i++) {
            if ((id && l->v[i].id == id) || (who && l->v[i].who == who)) {
                l->v[i].dead = true;
                bus.need_compact = true;
            }
        }
    }
    if (!bus.dispatching && bus.need_compact) {
        compact();
    }
}

void bus_unsubscribe(int id)
{
    if (id > 0) {
        kill_where(id, NULL);
    }
}

void bus_unsubscribe_client(bus_client *who)
{
    if (who) {
        kill_where(0, who);
    }
}

void bus_retain(const at_event *ev)
{
    if (ev) {
        atomic_fetch_add(&BOX(ev)->refs, 1);
    }
}

void bus_release(const at_event *ev)
{
    if (ev && atomic_fetch_sub(&BOX(ev)->refs, 1) == 1) {
        box_free(BOX(ev));
    }
}

static void take_mailbox(void)
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
        enqueue(b);
        b = n;
    }
}

static void deliver_list(sub_list *l, const at_event *ev)
{
    /* Index-based: a callback may subscribe (realloc) or unsubscribe. */
    size_t n = l->n;
    for (size_t i = 0; i < n; i++) {
        sub *s = &l->v[i];
        if (s->dead) {
            continue;
        }
        if (s->who) {
            s->who->delivered[ev->type]++;
        }
        s->cb(s->arg, ev);
    }
}

size_t bus_drain(size_t max)
{
    size_t done = 0;
    take_mailbox();
    bus.dispatching++;
    while (bus.q.head && done < max) {
        ev_box *b = bus.q.head;
        q_unlink(&bus.q, b);
        b->queued = false;
        if (b->in_coal) {
            coal_remove(b);
        }
        at_event *ev = (at_event *)b->payload;
        ev->seq = ++bus.seq;
        deliver_list(&bus.subs[b->type], ev);
        deliver_list(&bus.subs[AT_EV_NONE], ev);
        bus_release(ev);
        done++;
    }
    bus.dispatching--;
    if (!bus.dispatching && bus.need_compact) {
        compact();
    }
    overflow_check_end();
    if (bus.backlog) {
        backlog_check();
    }
    return done;
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    bus_drain(DRAIN_BATCH);
    if (bus_pending()) {
        event_active(bus.drain_ev, EV_READ, 0);
    }
}

size_t bus_pending(void)
{
    pthread_mutex_lock(&bus.mbox_lock);
    size_t n = bus.mbox.n;
    pthread_mutex_unlock(&bus.mbox_lock);
    return n + bus.q.n;
}

void bus_get_stats(bus_stats *st)
{
    pthread_mutex_lock(&bus.mbox_lock);
    *st = (bus_stats){.queued = bus.mbox.n + bus.q.n,
                      .market = bus.mbox.market + bus.q.market,
                      .bytes = bus.mbox.bytes + bus.q.bytes,
                      .overflows = bus.overflows,
                      .backlogs = bus.backlogs,
                      .market_max = atomic_load(&bus.market_max),
                      .backlog_max = bus.backlog_max};
    pthread_mutex_unlock(&bus.mbox_lock);
}

void bus_render_metrics(FILE *out)
{
    static const char *names[4] = {"published", "delivered", "coalesced", "dropped"};
    for (int k = 0; k < 4; k++) {
        fprintf(out, "# HELP aitrader_bus_%s_total Events %s on the bus, by type and instance.\n",
                names[k], names[k]);
        fprintf(out, "# TYPE aitrader_bus_%s_total counter\n", names[k]);
        for (bus_client *c = bus.clients; c; c = c->next_client) {
            for (int t = 1; t < AT_EV__COUNT; t++) {
                uint64_t v = k == 0   ? atomic_load(&c->published[t])
                             : k == 1 ? c->delivered[t]
                             : k == 2 ? atomic_load(&c->coalesced[t])
                                      : atomic_load(&c->dropped[t]);
                if (v) {
                    fprintf(out, "aitrader_bus_%s_total{type=\"%s\",instance=\"%s\"} %llu\n",
                            names[k], types[t].name, c->name, (unsigned long long)v);
                }
            }
        }
    }
    bus_stats st;
    bus_get_stats(&st);
    fprintf(out, "# HELP aitrader_bus_queue_depth Events waiting for delivery.\n");
    fprintf(out, "# TYPE aitrader_bus_queue_depth gauge\n");
    fprintf(out, "aitrader_bus_queue_depth %zu\n", st.queued);
    fprintf(out, "# HELP aitrader_bus_queue_bytes Memory held by the events waiting.\n");
    fprintf(out, "# TYPE aitrader_bus_queue_bytes gauge\n");
    fprintf(out, "aitrader_bus_queue_bytes %zu\n", st.bytes);
    fprintf(out, "# HELP aitrader_bus_market_queued Market-data events waiting (bound: "
                 "[core] bus_market_max).\n");
    fprintf(out, "# TYPE aitrader_bus_market_queued gauge\n");
    fprintf(out, "aitrader_bus_market_queued %zu\n", st.market);
    fprintf(out, "# HELP aitrader_bus_overflows_total Episodes of dropped market data (one "
                 "ALERT each).\n");
    fprintf(out, "# TYPE aitrader_bus_overflows_total counter\n");
    fprintf(out, "aitrader_bus_overflows_total %llu\n", (unsigned long long)st.overflows);
    fprintf(out, "# HELP aitrader_bus_backlogs_total Episodes of an undroppable backlog over "
                 "[core] bus_backlog_max (one ALERT each).\n");
    fprintf(out, "# TYPE aitrader_bus_backlogs_total counter\n");
    fprintf(out, "aitrader_bus_backlogs_total %llu\n", (unsigned long long)st.backlogs);
}

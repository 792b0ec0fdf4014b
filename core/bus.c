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
    struct ev_box *prev, *next; /* queue (main thread) or mailbox (next only) */
    struct ev_box *coal_next;   /* coalescing bucket chain */
    bus_client *from;
    _Atomic int refs;
    bool queued;
    size_t extra_cap, extra_used;
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

#define COAL_BUCKETS 256
/* Events delivered per loop turn before yielding to I/O. */
#define DRAIN_BATCH 4096

static struct {
    struct event_base *base;
    struct event *drain_ev;
    pthread_t main_thread;
    ev_box *head, *tail; /* the FIFO, main thread only */
    size_t queued;
    pthread_mutex_t mbox_lock;
    ev_box *mbox_head, *mbox_tail; /* publishes from other threads */
    size_t mbox_n;
    ev_box *coal[COAL_BUCKETS];
    sub_list subs[AT_EV__COUNT]; /* [AT_EV_NONE] = catch-all */
    int next_sub_id;
    int dispatching;
    bool need_compact;
    uint64_t seq;
    bus_client *clients;
} bus;

static const struct {
    const char *name;
    size_t size;
} types[AT_EV__COUNT] = {
    [AT_EV_NONE] = {"none", 0},
    [AT_EV_TICKER] = {"ticker", sizeof(at_ev_ticker)},
    [AT_EV_BOOK] = {"book", sizeof(at_ev_book)},
    [AT_EV_TRADE] = {"trade", sizeof(at_ev_trade)},
    [AT_EV_CANDLE] = {"candle", sizeof(at_ev_candle)},
    [AT_EV_FUNDING] = {"funding", sizeof(at_ev_funding)},
    [AT_EV_MARK] = {"mark", sizeof(at_ev_mark)},
    [AT_EV_NEWS] = {"news", sizeof(at_ev_news)},
    [AT_EV_SENTIMENT] = {"sentiment", sizeof(at_ev_sentiment)},
    [AT_EV_BALANCE] = {"balance", sizeof(at_ev_balance)},
    [AT_EV_POSITION] = {"position", sizeof(at_ev_position)},
    [AT_EV_ORDER] = {"order", sizeof(at_ev_order)},
    [AT_EV_FILL] = {"fill", sizeof(at_ev_fill)},
    [AT_EV_INDICATOR] = {"indicator", sizeof(at_ev_indicator)},
    [AT_EV_SIGNAL] = {"signal", sizeof(at_ev_signal)},
    [AT_EV_TRIGGER] = {"trigger", sizeof(at_ev_trigger)},
    [AT_EV_DECISION] = {"decision", sizeof(at_ev_decision)},
    [AT_EV_ORDER_INTENT] = {"order_intent", sizeof(at_ev_order_intent)},
    [AT_EV_RISK_VERDICT] = {"risk_verdict", sizeof(at_ev_risk_verdict)},
    [AT_EV_ORDER_RESULT] = {"order_result", sizeof(at_ev_order_result)},
    [AT_EV_ALERT] = {"alert", sizeof(at_ev_alert)},
    [AT_EV_STATUS] = {"status", sizeof(at_ev_status)},
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
    return bus.drain_ev ? AT_OK : AT_ENOMEM;
}

static void box_free(ev_box *b)
{
    free(b);
}

void bus_shutdown(void)
{
    for (ev_box *b = bus.head, *n; b; b = n) {
        n = b->next;
        box_free(b);
    }
    for (ev_box *b = bus.mbox_head, *n; b; b = n) {
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
    if (type <= AT_EV_NONE || type >= AT_EV__COUNT) {
        return NULL;
    }
    size_t size = types[type].size;
    ev_box *b = calloc(1, sizeof(ev_box) + size + extra);
    if (!b) {
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->from = from;
    b->extra_cap = extra;
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
    char *dst = (char *)b->payload + ev->size + b->extra_used;
    memcpy(dst, s, len);
    b->extra_used += len;
    return dst;
}

static unsigned coal_hash(const ev_box *b)
{
    const at_event *ev = (const at_event *)b->payload;
    uintptr_t h = (uintptr_t)b->from * 31u + ev->type * 131u + ev->inst * 2654435761u;
    return (unsigned)(h ^ (h >> 13)) % COAL_BUCKETS;
}

static bool coal_same(const ev_box *a, const ev_box *b)
{
    const at_event *x = (const at_event *)a->payload, *y = (const at_event *)b->payload;
    return a->from == b->from && x->type == y->type && x->inst == y->inst;
}

static void coal_remove(ev_box *b)
{
    for (ev_box **p = &bus.coal[coal_hash(b)]; *p; p = &(*p)->coal_next) {
        if (*p == b) {
            *p = b->coal_next;
            b->coal_next = NULL;
            return;
        }
    }
}

/* Main thread: put b at the tail, or in place of a coalescable twin. */
static void enqueue(ev_box *b)
{
    at_event *ev = (at_event *)b->payload;
    if (ev->flags & AT_PUB_COALESCE) {
        unsigned h = coal_hash(b);
        for (ev_box *o = bus.coal[h]; o; o = o->coal_next) {
            if (!coal_same(o, b)) {
                continue;
            }
            /* Take o's place in the queue and in the bucket. */
            b->prev = o->prev;
            b->next = o->next;
            if (o->prev) {
                o->prev->next = b;
            } else {
                bus.head = b;
            }
            if (o->next) {
                o->next->prev = b;
            } else {
                bus.tail = b;
            }
            b->queued = true;
            coal_remove(o);
            b->coal_next = bus.coal[h];
            bus.coal[h] = b;
            if (o->from) {
                atomic_fetch_add(&o->from->coalesced[ev->type], 1);
            }
            o->queued = false;
            bus_release((const at_event *)o->payload);
            return;
        }
        b->coal_next = bus.coal[h];
        bus.coal[h] = b;
    }
    b->next = NULL;
    b->prev = bus.tail;
    if (bus.tail) {
        bus.tail->next = b;
    } else {
        bus.head = b;
    }
    bus.tail = b;
    b->queued = true;
    bus.queued++;
}

int bus_publish(bus_client *from, at_event *ev, uint32_t flags)
{
    if (!ev) {
        return AT_EINVAL;
    }
    ev_box *b = BOX(ev);
    ev->flags = flags;
    if (from) {
        atomic_fetch_add(&from->published[ev->type], 1);
    }
    if (pthread_equal(pthread_self(), bus.main_thread)) {
        enqueue(b);
    } else {
        pthread_mutex_lock(&bus.mbox_lock);
        b->next = NULL;
        if (bus.mbox_tail) {
            bus.mbox_tail->next = b;
        } else {
            bus.mbox_head = b;
        }
        bus.mbox_tail = b;
        bus.mbox_n++;
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
    ev_box *b = bus.mbox_head;
    bus.mbox_head = bus.mbox_tail = NULL;
    bus.mbox_n = 0;
    pthread_mutex_unlock(&bus.mbox_lock);
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
    while (bus.head && done < max) {
        ev_box *b = bus.head;
        bus.head = b->next;
        if (bus.head) {
            bus.head->prev = NULL;
        } else {
            bus.tail = NULL;
        }
        bus.queued--;
        b->queued = false;
        at_event *ev = (at_event *)b->payload;
        if (ev->flags & AT_PUB_COALESCE) {
            coal_remove(b);
        }
        ev->seq = ++bus.seq;
        deliver_list(&bus.subs[ev->type], ev);
        deliver_list(&bus.subs[AT_EV_NONE], ev);
        bus_release(ev);
        done++;
    }
    bus.dispatching--;
    if (!bus.dispatching && bus.need_compact) {
        compact();
    }
    return done;
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    bus_drain(DRAIN_BATCH);
    if (bus.head || bus.mbox_n) {
        event_active(bus.drain_ev, EV_READ, 0);
    }
}

size_t bus_pending(void)
{
    pthread_mutex_lock(&bus.mbox_lock);
    size_t n = bus.mbox_n;
    pthread_mutex_unlock(&bus.mbox_lock);
    return n + bus.queued;
}

void bus_render_metrics(FILE *out)
{
    static const char *names[3] = {"published", "delivered", "coalesced"};
    for (int k = 0; k < 3; k++) {
        fprintf(out, "# HELP aitrader_bus_%s_total Events %s on the bus, by type and instance.\n",
                names[k], names[k]);
        fprintf(out, "# TYPE aitrader_bus_%s_total counter\n", names[k]);
        for (bus_client *c = bus.clients; c; c = c->next_client) {
            for (int t = 1; t < AT_EV__COUNT; t++) {
                uint64_t v = k == 0   ? atomic_load(&c->published[t])
                             : k == 1 ? c->delivered[t]
                                      : atomic_load(&c->coalesced[t]);
                if (v) {
                    fprintf(out, "aitrader_bus_%s_total{type=\"%s\",instance=\"%s\"} %llu\n",
                            names[k], types[t].name, c->name, (unsigned long long)v);
                }
            }
        }
    }
    fprintf(out, "# HELP aitrader_bus_queue_depth Events waiting for delivery.\n");
    fprintf(out, "# TYPE aitrader_bus_queue_depth gauge\n");
    fprintf(out, "aitrader_bus_queue_depth %zu\n", bus_pending());
}

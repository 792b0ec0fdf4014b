/* The event bus: events (allocation, refcount, strings), publish,
 * subscriptions and delivery from the loop. The queue it publishes into, with
 * its bounds, lives in bus_queue.c; stats and metrics in bus_metrics.c. */
#include <stdlib.h>
#include <string.h>

#include "bus_internal.h"
#include "clock.h"
#include "util.h"

bus_state bus;

const bus_type_info bus_types[AT_EV__COUNT] = {
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
    [AT_EV_ALGO_ORDER] = {"algo_order", sizeof(at_ev_algo_order), KEEP},
};

const char *bus_type_name(at_event_type t)
{
    return (unsigned)t < AT_EV__COUNT ? bus_types[t].name : "unknown";
}

size_t bus_payload_size(at_event_type t)
{
    return (unsigned)t < AT_EV__COUNT ? bus_types[t].size : 0;
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
    size_t size = bus_types[type].size;
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
    char *dst = (char *)b->payload + bus_types[b->type].size + b->extra_used;
    memcpy(dst, s, len);
    b->extra_used += (uint32_t)len;
    return dst;
}

/* ------------------------------------------------------ publish */

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
    ev->size = (uint32_t)bus_types[b->type].size;
    ev->source = b->from ? b->from->name : "core";
    ev->flags = flags;
    b->market = bus_queue_classify(b);
    atomic_fetch_add(&bus_counted(from)->published[b->type], 1);
    if (!bus.drain_ev) {
        bus_release(ev); /* no bus (a unit test without one): nobody listens */
        return AT_ESTATE;
    }
    if (pthread_equal(pthread_self(), bus.main_thread)) {
        bus_enqueue(b);
    } else {
        bus_mailbox_put(b);
    }
    event_active(bus.drain_ev, EV_READ, 0);
    return AT_OK;
}

int bus_subscribe(bus_client *who, at_event_type type, at_event_cb cb, void *arg)
{
    return bus_subscribe_from(who, type, cb, arg, 0);
}

int bus_subscribe_from(bus_client *who, at_event_type type, at_event_cb cb, void *arg,
                       int64_t from_us)
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
    l->v[l->n++] = (sub){.id = id, .cb = cb, .arg = arg, .who = who, .from_us = from_us};
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

static void deliver_list(sub_list *l, const at_event *ev)
{
    /* Index-based: a callback may subscribe (realloc) or unsubscribe. */
    size_t n = l->n;
    for (size_t i = 0; i < n; i++) {
        sub *s = &l->v[i];
        if (s->dead || ev->ts_us < s->from_us) {
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
    bus_mailbox_take();
    bus.dispatching++;
    while (bus.q.head && done < max) {
        ev_box *b = bus_queue_pop();
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
    bus_queue_drained();
    return done;
}

bool bus_settle(void)
{
    if (bus.dispatching) {
        return false;
    }
    if (bus.drain_ev) {
        bus_drain(SIZE_MAX);
    }
    return true;
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

/* The typed event bus: FIFO queue drained from the loop, never re-entrant,
 * reference-counted payloads, coalescing, cross-thread publish through a
 * mailbox + event_active(). Process-wide (one engine per process).
 *
 * Bounded (policy in include/aitrader/events.h): market data beyond
 * market_max queued events drops the oldest (the queue and the mailbox each);
 * other events are never dropped, and past backlog_max of them the bus is
 * "backlogged" until half are delivered, which the net module answers by
 * reading no more from the network. One ALERT and one log line per episode. */
#ifndef AT_CORE_BUS_H
#define AT_CORE_BUS_H

#include <stdatomic.h>
#include <stdio.h>

#include <event2/event.h>

#include <aitrader/events.h>

/* Per-publisher/subscriber counters; one per instance (embedded in it). */
typedef struct bus_client {
    const char *name; /* "exchange.okx_main"; must outlive the client */
    _Atomic uint64_t published[AT_EV__COUNT];
    _Atomic uint64_t coalesced[AT_EV__COUNT];
    _Atomic uint64_t dropped[AT_EV__COUNT]; /* market data dropped over the bound */
    uint64_t delivered[AT_EV__COUNT];       /* events handed to this client's callbacks */
    struct bus_client *next_client;
} bus_client;

/* Defaults of [core] bus_market_max and bus_backlog_max. A queued book is
 * about 1.8 KB, a ticker 0.3 KB. */
#define BUS_MARKET_MAX_DEFAULT 16384
#define BUS_BACKLOG_MAX_DEFAULT 65536
/* An overflow episode (one ALERT) ends once nothing was dropped for this
 * long (core clock) and the market data queued has been delivered. */
#define BUS_QUIET_US ((int64_t)5 * 1000000)

int bus_init(struct event_base *base);
/* Bounds (main thread; both >= 1, else the default). */
void bus_set_limits(size_t market_max, size_t backlog_max);
/* True while more than backlog_max events that are never dropped wait for
 * delivery, until half of them are delivered (main thread). */
bool bus_backlogged(void);
/* Free queued events and subscriptions. */
void bus_shutdown(void);
/* Make a client known (for metrics). Main thread, before it publishes. */
void bus_client_register(bus_client *c);
void bus_client_unregister(bus_client *c);

at_event *bus_event_new(bus_client *from, at_event_type type, size_t extra);
const char *bus_event_strdup(at_event *ev, const char *s);
int bus_publish(bus_client *from, at_event *ev, uint32_t flags);
int bus_subscribe(bus_client *who, at_event_type type, at_event_cb cb, void *arg);
/* The same, delivering only events made (ts_us) at or after from_us: a
 * replay's subscription that began that late in the recorded session. */
int bus_subscribe_from(bus_client *who, at_event_type type, at_event_cb cb, void *arg,
                       int64_t from_us);
void bus_unsubscribe(int id);
void bus_unsubscribe_client(bus_client *who);
void bus_retain(const at_event *ev);
void bus_release(const at_event *ev);

/* Deliver everything queued now (nothing to do without a bus), unless
 * called from inside a delivery (then false: the caller is in the FIFO and
 * must not jump it). Main thread. */
bool bus_settle(void);
/* Deliver up to max queued events now (main thread; not from inside a delivery).
 * Returns how many were delivered. */
size_t bus_drain(size_t max);
/* Events waiting (queue + mailbox). */
size_t bus_pending(void);

/* What the queue holds now, for tests and metrics (main thread). */
typedef struct bus_stats {
    size_t queued;      /* events in the queue and the mailbox */
    size_t market;      /* market-data events among them */
    size_t bytes;       /* memory they hold (payloads and strings included) */
    uint64_t overflows; /* overflow episodes (ALERTs) since bus_init */
    uint64_t backlogs;  /* backlog episodes (ALERTs) since bus_init */
    size_t market_max;  /* the bounds in force */
    size_t backlog_max;
} bus_stats;
void bus_get_stats(bus_stats *st);
/* "ticker", "book" … */
const char *bus_type_name(at_event_type t);
/* Size of the payload struct of a type, 0 when unknown. */
size_t bus_payload_size(at_event_type t);
/* Prometheus text for the bus counters. */
void bus_render_metrics(FILE *out);

#endif

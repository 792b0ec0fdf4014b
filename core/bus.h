/* The typed event bus: FIFO queue drained from the loop, never re-entrant,
 * reference-counted payloads, coalescing, cross-thread publish through a
 * mailbox + event_active(). Process-wide (one engine per process). */
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
    uint64_t delivered[AT_EV__COUNT]; /* events handed to this client's callbacks */
    struct bus_client *next_client;
} bus_client;

int bus_init(struct event_base *base);
/* Free queued events and subscriptions. */
void bus_shutdown(void);
/* Make a client known (for metrics). Main thread, before it publishes. */
void bus_client_register(bus_client *c);
void bus_client_unregister(bus_client *c);

at_event *bus_event_new(bus_client *from, at_event_type type, size_t extra);
const char *bus_event_strdup(at_event *ev, const char *s);
int bus_publish(bus_client *from, at_event *ev, uint32_t flags);
int bus_subscribe(bus_client *who, at_event_type type, at_event_cb cb, void *arg);
void bus_unsubscribe(int id);
void bus_unsubscribe_client(bus_client *who);
void bus_retain(const at_event *ev);
void bus_release(const at_event *ev);

/* Deliver up to max queued events now (main thread; not from a callback).
 * Returns how many were delivered. */
size_t bus_drain(size_t max);
/* Events waiting (queue + mailbox). */
size_t bus_pending(void);
/* "ticker", "book" … */
const char *bus_type_name(at_event_type t);
/* Size of the payload struct of a type, 0 when unknown. */
size_t bus_payload_size(at_event_type t);
/* Prometheus text for the bus counters. */
void bus_render_metrics(FILE *out);

#endif

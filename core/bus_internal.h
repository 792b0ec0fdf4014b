/* Internals of the event bus (core/bus*.c), shared between its files only:
 *  - bus.c: events (allocation, refcount, strings), publish, subscriptions,
 *    delivery;
 *  - bus_queue.c: the queue and the cross-thread mailbox, coalescing, the
 *    bounds and their episodes (ALERTs);
 *  - bus_metrics.c: stats and Prometheus text.
 *
 * The queue, coalescing buckets, subscriptions and episodes are the main
 * thread's; the mailbox is shared with publishing threads under mbox_lock. */
#ifndef AT_CORE_BUS_INTERNAL_H
#define AT_CORE_BUS_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

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
    int64_t from_us; /* events made before this time are not its (a replay) */
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

/* The bus's state (process-wide, one engine per process); defined in bus.c. */
typedef struct bus_state {
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
} bus_state;

extern bus_state bus;

/* What a full queue does with a type (events.h, "Bounds"). */
enum { KEEP = 0, SNAPSHOT, DROP_OLDEST, CANDLE_RULE };

typedef struct bus_type_info {
    const char *name;
    size_t size;
    unsigned char policy;
} bus_type_info;

/* Name, payload size and full-queue policy of every type (bus.c). */
extern const bus_type_info bus_types[AT_EV__COUNT];

/* The client a publish is counted on: publishers without an instance count
 * on the bus's own "core" client. */
static inline bus_client *bus_counted(bus_client *from)
{
    return from ? from : &bus.core;
}

/* bus_queue.c */

/* Whether b is droppable market data under its type's policy. */
bool bus_queue_classify(const ev_box *b);
/* Main thread: queue b under the bounds (publish, and the mailbox's take). */
void bus_enqueue(ev_box *b);
/* Any other thread: put b in the mailbox, holding its market-data bound. */
void bus_mailbox_put(ev_box *b);
/* Main thread: move what the mailbox holds to the queue. */
void bus_mailbox_take(void);
/* Main thread: unlink the queue's head (which must exist) for delivery. */
ev_box *bus_queue_pop(void);
/* Main thread, after a drain: end the episodes that are over. */
void bus_queue_drained(void);

#endif

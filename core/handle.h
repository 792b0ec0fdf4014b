/* Generation-checked handles. What the host hands a plugin for a timer or an
 * fd watch is an opaque pointer-sized value that encodes a slot and the
 * slot's generation, never the address of engine memory: once the object is
 * gone the generation moves on, so a stale handle (a one-shot timer that
 * already fired, a timer freed when its instance stopped, a double cancel)
 * looks up as NULL instead of reaching freed memory. Main loop only. */
#ifndef AT_CORE_HANDLE_H
#define AT_CORE_HANDLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct handle_slot {
    void *obj;     /* NULL when free */
    uint32_t gen;  /* bumped on every release */
    uint32_t next; /* free list (index + 1), 0 = end */
} handle_slot;

typedef struct handle_table {
    handle_slot *slots;
    size_t n, cap;
    uint32_t free_head, free_tail; /* FIFO of free slots (index + 1), 0 = none */
    size_t live;
} handle_table;

/* Register obj; returns its handle (never NULL), or NULL when out of memory
 * or out of slots. */
void *handle_put(handle_table *t, void *obj);
/* The object behind a handle, or NULL when the handle is stale or foreign. */
void *handle_get(const handle_table *t, const void *h);
/* Release a live handle: later lookups of it return NULL. No-op when stale. */
void handle_del(handle_table *t, const void *h);
/* Free the table (the objects are the caller's). Generations go on from
 * where this table left them, so a handle kept across an engine restart in
 * the same process does not name a new object. */
void handle_table_free(handle_table *t);

#endif

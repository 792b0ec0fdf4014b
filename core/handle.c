#include "handle.h"

#include <stdlib.h>

/* Half of the bits name the slot (+1, so no handle is NULL), the other half
 * its generation: 2^32 releases of one slot before a generation repeats on
 * 64-bit, 2^16 on 32-bit targets. */
#define SLOT_BITS (sizeof(uintptr_t) * 4)
#define SLOT_MASK (((uintptr_t)1 << SLOT_BITS) - 1)
#define GEN_MASK ((uintptr_t)-1 >> SLOT_BITS)

/* First generation of a new slot: past every generation a freed table used. */
static uint32_t gen_floor = 1;

static void *encode(size_t idx, uint32_t gen)
{
    return (void *)((((uintptr_t)gen & GEN_MASK) << SLOT_BITS) | (uintptr_t)(idx + 1));
}

static handle_slot *decode(const handle_table *t, const void *h, uintptr_t *gen)
{
    uintptr_t v = (uintptr_t)h;
    uintptr_t idx1 = v & SLOT_MASK;
    if (idx1 == 0 || idx1 > t->n) {
        return NULL;
    }
    *gen = v >> SLOT_BITS;
    return &t->slots[idx1 - 1];
}

void *handle_put(handle_table *t, void *obj)
{
    if (!obj) {
        return NULL;
    }
    size_t idx;
    if (t->free_head) {
        /* The slot freed longest ago: generations of one slot advance as
         * slowly as the table allows. */
        idx = t->free_head - 1;
        t->free_head = t->slots[idx].next;
        if (!t->free_head) {
            t->free_tail = 0;
        }
    } else {
        if (t->n >= SLOT_MASK - 1) {
            return NULL;
        }
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            handle_slot *s = realloc(t->slots, cap * sizeof(*s));
            if (!s) {
                return NULL;
            }
            t->slots = s;
            t->cap = cap;
        }
        idx = t->n++;
        t->slots[idx] = (handle_slot){.gen = gen_floor};
    }
    t->slots[idx].obj = obj;
    t->slots[idx].next = 0;
    t->live++;
    return encode(idx, t->slots[idx].gen);
}

void *handle_get(const handle_table *t, const void *h)
{
    uintptr_t gen;
    handle_slot *s = decode(t, h, &gen);
    if (!s || !s->obj || ((uintptr_t)s->gen & GEN_MASK) != gen) {
        return NULL;
    }
    return s->obj;
}

void handle_del(handle_table *t, const void *h)
{
    if (!handle_get(t, h)) {
        return;
    }
    uintptr_t gen;
    handle_slot *s = decode(t, h, &gen);
    s->obj = NULL;
    s->gen++;
    if (((uintptr_t)s->gen & GEN_MASK) == 0) {
        s->gen++; /* generation 0 never names a live object */
    }
    s->next = 0;
    uint32_t me = (uint32_t)(s - t->slots) + 1;
    if (t->free_tail) {
        t->slots[t->free_tail - 1].next = me;
    } else {
        t->free_head = me;
    }
    t->free_tail = me;
    t->live--;
}

void handle_table_free(handle_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        uint32_t next = t->slots[i].gen + 1;
        if (next > gen_floor && (next & GEN_MASK) != 0) {
            gen_floor = next;
        }
    }
    free(t->slots);
    *t = (handle_table){0};
}

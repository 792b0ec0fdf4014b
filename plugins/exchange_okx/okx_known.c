/* What an instance remembers of orders and fills between pushes and
 * questions (okx_push.h), bounded: the last state applied per order (so an
 * older answer never overwrites a newer one) and the trade ids recorded (so
 * a fill is published once, whichever path brings it first). Allocated on
 * first use while started, freed at stop. The bounds are generous for one
 * account (OKX allows 500 open orders per instrument); what falls out is
 * found again in the fills rows, and the orders rows never leave a final
 * state (okx_push.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_push.h"

#define KNOWN_ORDERS 1024
#define KNOWN_TRADES 4096 /* a power of two: also the hash table's size */

typedef struct trade_ent {
    char inst_id[OKX_INST_ID_LEN];
    char trade_id[AT_ID_LEN];
    int next; /* the next in its hash chain, -1 = none */
} trade_ent;

struct okx_known {
    okx_order_seen orders[KNOWN_ORDERS];
    size_t norders;
    uint64_t clock;
    trade_ent trades[KNOWN_TRADES]; /* a ring: oldest first */
    int chain[KNOWN_TRADES];        /* hash -> first entry, -1 = none */
    size_t ntrades, oldest;
};

static struct okx_known *known(okx_ctx *c)
{
    if (!c->known && c->started) {
        c->known = malloc(sizeof(*c->known));
        if (!c->known) {
            /* Without it a fill may be published twice (the row stays
             * single): said once, not silently. */
            c->h->log(c->inst, AT_LOG_ERROR,
                      "out of memory for the order memory: duplicate FILL events are possible");
            return NULL;
        }
        c->known->norders = 0;
        c->known->clock = 0;
        c->known->ntrades = c->known->oldest = 0;
        memset(c->known->chain, 0xff, sizeof(c->known->chain)); /* -1 */
    }
    return c->known;
}

okx_order_seen *okx_known_order(okx_ctx *c, const char *inst_id, const char *ord_id, bool create)
{
    struct okx_known *k = *ord_id ? known(c) : NULL;
    if (!k) {
        return NULL;
    }
    okx_order_seen *lru = NULL;
    for (size_t i = 0; i < k->norders; i++) {
        okx_order_seen *o = &k->orders[i];
        if (strcmp(o->ord_id, ord_id) == 0 && strcmp(o->inst_id, inst_id) == 0) {
            o->used = ++k->clock;
            return o;
        }
        if (!lru || o->used < lru->used) {
            lru = o;
        }
    }
    if (!create) {
        return NULL;
    }
    okx_order_seen *o = k->norders < KNOWN_ORDERS ? &k->orders[k->norders++] : lru;
    memset(o, 0, sizeof(*o));
    snprintf(o->inst_id, sizeof(o->inst_id), "%s", inst_id);
    snprintf(o->ord_id, sizeof(o->ord_id), "%s", ord_id);
    o->used = ++k->clock;
    return o;
}

static unsigned hash(const char *inst_id, const char *trade_id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = inst_id; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    h = (h ^ '\n') * 16777619u;
    for (const char *p = trade_id; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    return h & (KNOWN_TRADES - 1);
}

bool okx_known_trade(okx_ctx *c, const char *inst_id, const char *trade_id)
{
    struct okx_known *k = known(c);
    if (!k) {
        return false;
    }
    trade_ent e; /* as stored (cut to the same lengths) */
    snprintf(e.inst_id, sizeof(e.inst_id), "%s", inst_id);
    snprintf(e.trade_id, sizeof(e.trade_id), "%s", trade_id);
    for (int i = k->chain[hash(e.inst_id, e.trade_id)]; i >= 0; i = k->trades[i].next) {
        if (strcmp(k->trades[i].trade_id, e.trade_id) == 0 &&
            strcmp(k->trades[i].inst_id, e.inst_id) == 0) {
            return true;
        }
    }
    return false;
}

void okx_known_trade_add(okx_ctx *c, const char *inst_id, const char *trade_id)
{
    struct okx_known *k = known(c);
    if (!k) {
        return;
    }
    size_t slot;
    if (k->ntrades < KNOWN_TRADES) {
        slot = (k->oldest + k->ntrades++) % KNOWN_TRADES;
    } else {
        slot = k->oldest; /* the oldest is forgotten: unlinked from its chain */
        k->oldest = (k->oldest + 1) % KNOWN_TRADES;
        trade_ent *old = &k->trades[slot];
        for (int *p = &k->chain[hash(old->inst_id, old->trade_id)]; *p >= 0;
             p = &k->trades[*p].next) {
            if ((size_t)*p == slot) {
                *p = old->next;
                break;
            }
        }
    }
    trade_ent *e = &k->trades[slot];
    snprintf(e->inst_id, sizeof(e->inst_id), "%s", inst_id);
    snprintf(e->trade_id, sizeof(e->trade_id), "%s", trade_id);
    unsigned h = hash(e->inst_id, e->trade_id);
    e->next = k->chain[h];
    k->chain[h] = (int)slot;
}

void okx_known_free(okx_ctx *c)
{
    free(c->known);
    c->known = NULL;
}

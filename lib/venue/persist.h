/* Internals of the venue state document (persist.c: the record tables and
 * the dump; persist_load.c: the load). Each record type is described once
 * by a field table (JSON key, kind, offset) and each account list once by a
 * list_spec, so dump and load cannot drift apart. */
#ifndef VENUE_PERSIST_H
#define VENUE_PERSIST_H

#include "exch.h"

typedef enum pst_kind {
    F_STR,    /* char[len] */
    F_DEC,    /* at_dec, an exact decimal string */
    F_I64,    /* int64_t, a JSON integer */
    F_INT,    /* int */
    F_BOOL,   /* bool */
    F_SIDE,   /* bool buy: "buy" | "sell" */
    F_INST,   /* sim_inst *: its instId */
    F_JSON,   /* json_t * (owned) array, or null */
    F_OSTATE, /* sim_ord_state: live partially_filled filled canceled */
    F_ASTATE, /* sim_algo_state: live effective canceled */
} pst_kind;

typedef struct pst_field {
    const char *key;
    pst_kind kind;
    size_t off, len;
} pst_field;

/* One list of the account (levers, positions, orders, fills, algos). */
typedef struct pst_list {
    const char *key; /* "orders" */
    const pst_field *fields;
    size_t nfields;
    size_t size;     /* sizeof the record */
    size_t next_off; /* offsetof its `next` */
    size_t head_off; /* offsetof the list head in sim_acct */
    size_t id_off;   /* offsetof its numeric id (nextId must be above), or 0 */
    /* live records (open position, live order or algo) must be restored;
     * others are dropped with their instrument. NULL: never live. */
    bool (*live)(const void *rec);
    /* a well-formed record that makes no sense: the reason, or NULL */
    const char *(*check)(const void *rec);
    void (*release)(void *rec);
    /* finished records kept when dumping: venue_keep's member at keep_off
     * when has_keep, else all */
    size_t keep_off;
    bool has_keep;
} pst_list;

extern const pst_list PST_LISTS[];
extern const size_t PST_NLISTS;

extern const char *const PST_ORD_STATES[4];
extern const char *const PST_ALGO_STATES[3];

/* A record's `next` pointer, read and written as bytes (the lists hold
 * different struct types). */
void *pst_next(const pst_list *l, const void *rec);
void pst_set_next(const pst_list *l, void *rec, void *next);
void *pst_head(const pst_list *l, const sim_acct *a);
void pst_set_head(const pst_list *l, sim_acct *a, void *head);

#endif

/* Internals of the order keeper (keeper.h), shared by keeper.c (lifecycle,
 * the timer, limit TTL), keeper_orphan.c (positions, algo orders, orphans)
 * and keeper_cancel.c (cancel ids, refusals and their retries). */
#ifndef AT_CORE_TRADING_KEEPER_INTERNAL_H
#define AT_CORE_TRADING_KEEPER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "keeper.h"

/* Bounds, each said once in the log when reached: limits with a TTL open at
 * once, algo orders followed, positions (account x instrument x side). */
#define KEEP_ORDERS_MAX 1024
#define KEEP_ALGOS_MAX 1024
#define KEEP_POS_MAX 512

#define KEEP_TTL_PREFIX "keeper/ttl/"
#define KEEP_ORPHAN_PREFIX "keeper/orphan/"

/* A cancel refused for a reason that may pass (a rate limit, an outcome
 * unknown, an id taken) goes again under the next attempt number after
 * KEEP_RETRY_MS, doubled each time, at most KEEP_CANCEL_TRIES times per
 * deadline and run; then an ALERT asks a human. */
#define KEEP_CANCEL_TRIES 5
#define KEEP_RETRY_MS 1000
/* Attempt numbers an id has room for ("/9999"). */
#define KEEP_N_DIGITS 4
#define KEEP_N_MAX 9999

/* One thing the keeper may cancel again and again: each attempt has an id
 * of its own, "<base>/<n>", as the venue stores every op under its id and
 * refuses a second intent with one it has. */
typedef struct kp_cancel {
    char base[AT_ID_LEN]; /* prefix + key, or prefix + its hash when too long */
    char id[AT_ID_LEN];   /* of the attempt waiting for its result, "" none */
    int last_n;           /* highest n used under base, stored ones included */
    int refused;          /* attempts refused in this run */
    int64_t retry_ms;     /* 0, or when the next attempt is due */
    bool sent;            /* an attempt waits for its result */
} kp_cancel;

/* A resting order with a deadline. */
typedef struct kp_order {
    char account[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    char ord_id[AT_ID_LEN]; /* once the venue told it; else the cancel names the clOrdId */
    at_inst inst;
    at_ord_type ord_type;
    at_dec sz, px, filled;
    int64_t ttl_ms, deadline_ms;
    kp_cancel c;   /* base: clOrdId and deadline */
    bool checking; /* of a previous run: its stored attempts are being read */
} kp_order;

typedef enum kp_owner {
    KP_CHECKING = 0, /* asking storage whether its entry is ours */
    KP_OURS,
    KP_FOREIGN,
} kp_owner;

/* A live algo order that only reduces. */
typedef struct kp_algo {
    char account[AT_ID_LEN];
    char algo_id[AT_ID_LEN];
    char algo_cl_ord_id[AT_ID_LEN];
    char kind[32]; /* "take-profit/stop-loss", "stop-loss" … for the log */
    at_inst inst;
    at_pos_side pos_side; /* of the position it protects */
    int dir;              /* +1 it protects a long, -1 a short */
    kp_owner owner;
    bool armed;  /* its position was seen open (its way) while it lived */
    kp_cancel c; /* base: algoId */
} kp_algo;

/* A position as the last POSITION event told it. `sign` is the exposure:
 * +1 long, -1 short, 0 flat (a long_short_mode short side counts -1). */
typedef struct kp_pos {
    char account[AT_ID_LEN];
    at_inst inst;
    at_pos_side pos_side;
    int sign;
    int64_t not_long_ms, not_short_ms; /* since when continuously not long / not short; 0 = is */
} kp_pos;

struct keeper {
    const at_host *h;
    at_instance *self;
    keeper_cfg cfg;
    int sub[4];
    bool stopped;
    at_timer *timer;
    int64_t timer_due_ms;
    kp_order *orders;
    size_t norders;
    kp_algo *algos;
    size_t nalgos;
    kp_pos *pos;
    size_t npos;
    bool said_orders_full, said_algos_full, said_pos_full;
    keeper_stats st;
};

int64_t kp_now_ms(const keeper *k);
/* A duration for the log: "250ms", "2s", "2.5s". */
void kp_fmt_ms(char *buf, size_t n, int64_t ms);
/* Make sure the timer fires no later than due_ms. */
void kp_want(keeper *k, int64_t due_ms);
/* A CANCEL/CANCEL_ALGO intent from the keeper, not yet published; NULL
 * (said) when out of memory. */
at_ev_order_intent *kp_intent_new(keeper *k, at_intent_op op, const char *id, const char *account,
                                  at_inst inst);

/* keeper_cancel.c */
/* c->base for prefix + key, hashed (SHA-256, hex) when "<base>/<n>" would
 * not fit an id. */
void kp_cancel_init(kp_cancel *c, const char *prefix, const char *key);
/* The next attempt's id into c->id (n = last_n + 1, taken): false when no
 * number is left. */
bool kp_cancel_next(kp_cancel *c);
/* The attempt number of a stored id under c->base, or 0. */
int kp_cancel_used(const kp_cancel *c, const char *id);
/* A refused result of the attempt waiting (`what` names the thing for the
 * log: "exchange.x p1: the TTL cancel"): true to keep following it, with the
 * next attempt due at c->retry_ms; false when the refusal is final (the
 * order is gone) or the tries are spent (said with an ALERT). */
bool kp_cancel_refused(keeper *k, kp_cancel *c, const at_ev_order_result *r, const char *what,
                       int64_t now);
/* An ALERT (and an ERROR in the log) of the keeper's. */
void kp_alert(keeper *k, const char *msg);

/* keeper_orphan.c */
void kp_on_position(void *arg, const at_event *e);
void kp_on_algo(void *arg, const at_event *e);
/* An ORDER_RESULT of one of the keeper's CANCEL_ALGO intents. */
void kp_orphan_result(keeper *k, const at_ev_order_result *r);
/* Publish what is due at `now`; returns the next due time, or INT64_MAX. */
int64_t kp_orphan_run(keeper *k, int64_t now);

#endif

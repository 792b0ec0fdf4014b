/* Internals shared by scheduler.c (the state machine) and sched_store.c
 * (storage, JSON, events). Not for other modules. */
#ifndef AT_CORE_TRADING_SCHED_INTERNAL_H
#define AT_CORE_TRADING_SCHED_INTERNAL_H

#include "scheduler.h"

#define SCHED_MAX_SYMBOLS 64
/* Longest trader name: "<name>:manual:<13-digit ms>" must fit AT_ID_LEN. */
#define SCHED_MAX_TRADER 24
/* Bar sizes whose latest INDICATOR is kept per symbol. */
#define SCHED_MAX_BARS 8

typedef struct sched_hist {
    int64_t ts_ms;
    char key[AT_ID_LEN];
} sched_hist;

/* What a decision cost, at its time: the cost budget's rolling 24 h. */
typedef struct sched_cost {
    int64_t ts_ms;
    double usd;
} sched_cost;

/* A trigger whose DECISION has not come yet. */
typedef struct sched_call {
    char key[AT_ID_LEN];
    int64_t ts_ms;
} sched_call;

typedef struct sched_signal {
    char indicator[24]; /* "news" for a headline */
    char inst_name[AT_ID_LEN];
    at_signal_dir dir;
    double value, threshold, salience;
    char news_id[40]; /* a headline's: its news id and title */
    char title[120];
} sched_signal;

typedef struct sched_symbol {
    at_inst id;
    char name[AT_ID_LEN];
    const at_ev_indicator *latest[SCHED_MAX_BARS]; /* retained */
} sched_symbol;

struct sched {
    const at_host *h;
    at_instance *inst;
    sched_cfg cfg;
    char trader[SCHED_MAX_TRADER + 1]; /* short enough for keys to fit AT_ID_LEN */
    sched_symbol sym[SCHED_MAX_SYMBOLS];
    size_t nsym;
    int sub_sig, sub_ind, sub_news;
    char news_ids[32][40]; /* the last headlines that signalled: each once (ring) */
    size_t news_at;
    bool running, loaded, alerted, trader_too_long;
    int64_t alerted_ms;   /* last budget ALERT */
    bool querying, freed; /* history query in flight; free deferred to its end */
    /* schedule */
    bool short_mode;
    int64_t calm;
    int64_t last_ms;  /* last trigger, INT64_MIN when none */
    int64_t done_ms;  /* last decision, INT64_MIN when none (cooldown runs from it too) */
    int64_t next_due; /* next periodic due */
    /* open grace window */
    bool pend;
    int64_t pend_start;
    unsigned pend_merged;
    sched_signal best;
    /* timer */
    at_timer *timer;
    int64_t timer_at;
    /* triggers of the last 24 h, oldest first (ring) */
    sched_hist *hist;
    size_t cap, hstart, hn;
    /* decision costs, oldest first from chead (any number: not tied to the
     * call budgets) */
    sched_cost *costs;
    size_t chead, ncost, ccap;
    /* calls in flight, oldest first */
    sched_call calls[SCHED_MAX_INFLIGHT];
    size_t ncalls;
    int sub_dec;
    /* stats */
    uint64_t ntriggers, nover, nmerged, ndecisions, nlate;
    uint64_t nskipped, nmanual;
    /* pause (trader.pause / trader.resume), kept in trader_state */
    bool paused;
    int64_t paused_ms;     /* when it last changed, 0 = never */
    int64_t state_changes; /* changes stored so far: the audit_log rows' ids */
    char paused_by[128];
    char paused_reason[256];
    bool have_last; /* history rows seen while loading */
    int64_t load_last_ms;
    bool load_last_short;
    int64_t load_done_ms;
};

void sched_hist_push(sched *s, int64_t ts_ms, const char *key);
void sched_cost_add(sched *s, int64_t ts_ms, double usd);
void sched_costs_reset(sched *s);
void sched_arm(sched *s);
void sched_loaded(sched *s, bool have_last, int64_t last_ms, bool last_short);
void sched_free_now(sched *s);

/* sched_store.c */
void sched_load_history(sched *s, int64_t since_ms);
void sched_store_trigger(sched *s, const char *key, int64_t ts_ms, const char *reason,
                         double salience, bool short_mode, const sched_signal *sig);
void sched_publish_trigger(sched *s, const char *key, const char *reason, double salience,
                           bool short_mode);
void sched_publish_alert(sched *s, const char *msg);
/* The pause state as it is now: trader_state's row and one audit_log row. */
void sched_store_state(sched *s);
void sched_store_decision(sched *s, const char *key, const char *decision_id, int64_t ts_ms,
                          double cost_usd);

#endif

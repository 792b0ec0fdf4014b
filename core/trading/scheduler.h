/* The AI scheduler of one trader: decides when the AI is called and says so
 * with an AT_EV_TRIGGER. Runs as a virtual instance named after the trader
 * ("trader.alpha"), reaches the engine only through the at_host table, and
 * reads time only from the core clock, so it behaves the same live and on a
 * simulated clock.
 *
 * Modes and windows (times in core-clock ms, T = the last trigger):
 *  - long mode: a trigger at T + long_period ("alpha:long:<due>").
 *  - an entered SIGNAL for one of the trader's symbols with salience >= the
 *    trader's `salience` opens a grace window at its arrival G; every further
 *    salient signal until the trigger merges into it; at G + grace (or when the
 *    cooldown ends, whichever is later) one trigger fires ("alpha:sig:<G>",
 *    reason of the most salient signal, "+N merged") and the trader goes to
 *    short mode.
 *    A fresh headline (NEWS) about one of its symbols whose impact reaches
 *    news_impact is such a signal too ("news", its impact as salience).
 *  - short mode: a trigger at T + short_period ("alpha:short:<due>"). A short
 *    period with no salient signal is calm; when the K-th calm one ends
 *    (K = calm_periods) the trader goes back to long mode and that trigger is
 *    already a long-mode one ("alpha:long:<due>").
 *  - cooldown: no trigger before T + cooldown, nor before D + cooldown where
 *    D is the last DECISION answering one of its triggers; what falls due
 *    earlier waits.
 *    A periodic due waits while a grace window is open (the signal trigger
 *    restarts the period anyway).
 *  - budgets: at most max_calls_hour triggers in any rolling hour and
 *    max_calls_day in any rolling 24 h, and no trigger once the DECISIONs of
 *    the last 24 h cost max_cost_day (cost_usd of each DECISION); over budget
 *    the window is skipped (logged, one ALERT per over-budget spell) and the
 *    schedule moves on.
 *  - concurrency: a trigger is a call in flight until the DECISION with its
 *    key (trigger_key) arrives or its deadline passes (logged, counted as
 *    late); with max_concurrent calls in flight the next trigger waits for a
 *    free slot, like a cooldown.
 *  - idempotency: every trigger is stored in `triggers` (key PRIMARY KEY,
 *    INSERT … ON CONFLICT DO NOTHING; the answering DECISION's time, id and
 *    cost are written to its row); at start the last 24 h of the trader's
 *    triggers are read back (budgets and the last trigger), so the next due is
 *    computed from the stored T and mode: a restart within a window does not
 *    trigger again. With no storage the state lives in memory only.
 *  - the first start with no stored trigger triggers at once (long mode).
 *  - pause (sched_set_paused, the engine control API's trader.pause): a
 *    paused scheduler publishes no trigger, but its timer and the signals are
 *    still followed (windows that fall due are skipped and the schedule moves
 *    on, modes change), so on resume it goes on with a current schedule; the state is kept in
 *    `trader_state` (and each change in audit_log) and read back at start
 *    before the first trigger can fire.
 *  - a manual run (sched_run_now, trader.run): one trigger now with reason
 *    "manual run" and the key "<trader>:manual:<now ms>", stored like every
 *    trigger; it skips the schedule and the cooldown but not the budgets, is
 *    refused while paused or with a call in flight, and restarts the period
 *    (as the stored trigger would after a restart). */
#ifndef AT_CORE_TRADING_SCHEDULER_H
#define AT_CORE_TRADING_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/host.h>

/* Calls in flight at most (max_concurrent's upper bound). */
#define SCHED_MAX_INFLIGHT 16

typedef struct sched_cfg {
    const char *trader; /* short name: "alpha" for [trader.alpha] (copied) */
    const char *const *symbols;
    size_t nsymbols;
    int64_t long_ms, short_ms, grace_ms, cooldown_ms, deadline_ms;
    int64_t calm_periods, max_hour, max_day;
    int64_t max_concurrent; /* 1..SCHED_MAX_INFLIGHT calls without a DECISION yet */
    double salience;
    /* a NEWS item about one of its symbols (its base currency among the
     * item's symbols), published at most news_fresh_ms ago, with impact >=
     * news_impact is a salient signal ("news"); news_impact 0 = never */
    double news_impact;
    int64_t news_fresh_ms;
    double max_cost_day; /* USD in any rolling 24 h; 0 = no limit */
    /* aitrader replay: never fire on its own; the recorded triggers come
     * through sched_replay_fire (live timers fire late by the loop's
     * latency, so a schedule recomputed on the simulated clock would not
     * give the recorded keys) */
    bool replay;
} sched_cfg;

/* What a scheduler did (tests, status). */
typedef struct sched_stats {
    bool loaded; /* stored history read (or no storage) */
    bool short_mode;
    int64_t calm;         /* calm short periods so far */
    uint64_t triggers;    /* published */
    uint64_t over_budget; /* windows skipped for the budget */
    uint64_t merged;      /* signals merged into a trigger's grace window */
    uint64_t decisions;   /* DECISIONs that answered one of its triggers */
    uint64_t late;        /* calls given up at their deadline */
    size_t in_flight;     /* triggers waiting for their DECISION */
    double cost_day;      /* USD of the decisions of the last 24 h */
    int64_t last_ms;      /* time of the last trigger, INT64_MIN when none */
    int64_t next_ms;      /* when the timer fires next, INT64_MAX when unarmed */
    bool paused;
    int64_t paused_ms;   /* when the pause state last changed; 0 = never */
    char paused_by[128]; /* who changed it, and why */
    char paused_reason[256];
    uint64_t skipped; /* windows that fell due while paused */
    uint64_t manual;  /* manual runs */
} sched_stats;

typedef struct sched sched;

/* `inst` is borrowed and must outlive the scheduler; cfg is copied. */
sched *sched_new(const at_host *h, at_instance *inst, const sched_cfg *cfg);
/* Subscribe, read the stored history, arm the timer once it is read. */
int sched_start(sched *s);
/* Unsubscribe, cancel the timer, release retained events. Idempotent. */
void sched_stop(sched *s);
void sched_free(sched *s);
void sched_get_stats(const sched *s, sched_stats *out);

/* Pause (true) or resume: logged, stored (trader_state and audit_log) with
 * who and why (cleaned to one line; NULL = none). AT_OK also when it was in
 * that state already (*changed false, nothing stored); AT_ESTATE (why says
 * it) before the stored state is read. */
int sched_set_paused(sched *s, bool paused, const char *by, const char *reason, bool *changed,
                     char *why, size_t whylen);
/* A manual run now (see above), asked by `by` (logged; NULL = nobody
 * named): AT_OK with the trigger's key in key (at least AT_ID_LEN bytes), or
 * AT_ESTATE with *code saying why in a word ("paused", "call_in_flight",
 * "over_budget", "not_ready": not started or still reading its history)
 * and `why` in a sentence. */
int sched_run_now(sched *s, const char *by, char *key, const char **code, char *why, size_t whylen);
/* A recorded trigger, now, through the same path as any (counted, stored,
 * published); replay mode only (AT_ESTATE otherwise or before the history
 * is read). */
int sched_replay_fire(sched *s, const char *key, const char *reason, double salience,
                      bool short_mode);

#endif

/* Internals of the engine (core/engine*.c), shared between its files only:
 *  - engine.c: lifecycle (create, start services and instances, run, stop in
 *    reverse order, free) and instance state;
 *  - engine_load.c: the config ([core] and [trader.*] schemas, plugin
 *    instances loaded and checked, traders cross-referenced);
 *  - engine_api.c: the control API (host->engine_call) over instances,
 *    traders and the kill switch.
 * engine_sim.c drives an engine from outside, through engine.h only. */
#ifndef AT_CORE_ENGINE_INTERNAL_H
#define AT_CORE_ENGINE_INTERNAL_H

#include "engine.h"
#include "http.h"
#include "net.h"
#include "trading/equity.h"
#include "trading/ledger.h"
#include "trading/executor.h"
#include "trading/keeper.h"
#include "trading/scheduler.h"
#include "trading/trader.h"

struct engine {
    engine_opts opts;
    char *config_path;
    conf_file *conf;
    core_settings core;
    conf_owned *core_owned;
    char *default_plugin_dir;
    char *default_sql_dir;
    at_instance *instances; /* start order */
    size_t ninstances;
    trader_settings *traders;
    conf_owned **trader_owned;
    const char **trader_names;
    size_t ntraders;
    sched **scheds;     /* one per trader, while started */
    trader **tdrs;      /* the decision half of each trader (same instance) */
    executor *executor; /* the one gate for orders, while started */
    keeper *keeper;     /* limit TTL and orphan TP/SL cancels, with the gate */
    equity *equity;     /* the equity curve (equity_snapshots), while started */
    ledger *ledger;     /* PnL per trader and account (ledger, pnl_snapshots) */
    /* [core] record: the session file and each trader's AI tap (engine_rec.c) */
    struct session_rec *rec;
    struct session_tap **taps;
    bool rec_opened;
    /* the engine's own metrics in /metrics, while started */
    struct engine_metrics *metrics;
    struct event_base *base;
    struct event *sig_int, *sig_term, *stop_ev;
    http_client *http;
    net *net;
    bool started;
    int exit_code;
    int64_t started_us;
};

/* [core] mode names, indexed by core_settings.mode (engine_load.c). */
extern const char *const engine_modes[];

/* The directory of a trader's prompt templates (its `prompts` key, else the
 * engine's prompts/). Transferred. */
char *engine_prompts_dir(const engine *e, const trader_settings *t);

/* The shadow-vs-live rows of the control API's "shadow" method
 * (engine_shadow.c): every trader with a shadow account, or only trader
 * `only` (SIZE_MAX: all). A new JSON array, NULL when out of memory. */
struct json_t;
struct json_t *engine_shadow_rows(engine *e, size_t only);

/* The engine's own metrics (engine_metrics.c): started once everything
 * else is, stopped before anything is; a failure to start is logged, never
 * fatal. */
typedef struct engine_metrics engine_metrics;
void engine_metrics_start(engine *e);
void engine_metrics_stop(engine *e);

/* Session recording (engine_rec.c), when [core] record is set: open the
 * session file and copy the database once storage has started and nothing
 * else has (idempotent); start the recorder (before the traders); wrap
 * trader i's AI operations in a tap that records them (true, or false out
 * of memory); stop; free. */
int engine_rec_open(engine *e);
int engine_rec_start(engine *e);
/* The engine begins to stop: the session's last line. */
void engine_rec_end(engine *e);
bool engine_rec_wrap(engine *e, size_t idx, const at_ai_ops **ops, void **ctx);
void engine_rec_stop(engine *e);
void engine_rec_free(engine *e);

/* Close an instance's plugin and free the instance; its ctx and owned config
 * are the caller's (engine_load.c). */
void engine_instance_free(at_instance *in);

#endif

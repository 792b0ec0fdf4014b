/* The engine: config, instances, lifecycle, loop. One per process (the host
 * table reaches it through process-wide state, like the clock). */
#ifndef AT_CORE_ENGINE_H
#define AT_CORE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include <aitrader/plugin.h>

#include "bus.h"
#include "conf.h"
#include "loader.h"
#include "trading/gray.h"

struct at_instance {
    char *name;       /* "exchange.okx_main" */
    char *kind_name;  /* "exchange" */
    char *module;     /* "okx" */
    int line;         /* section header line */
    loaded_plugin lp; /* zero for virtual instances */
    void *ctx;
    conf_owned *owned;
    at_state state;
    char *detail;
    bool inited, started;
    bool state_reported;    /* the plugin called set_state itself */
    uint64_t subs_recorded; /* event types whose first subscription is in the session */
    bus_client bus;
    struct at_instance *next;
};

/* [core] settings after validation. */
typedef struct core_settings {
    at_cfg_list plugin_dirs;
    const char *data_dir;
    const char *sql_dir;
    int log_level;
    int mode; /* 0 live, 1 paper */
    const char *plugin_dir_first;
    int64_t bus_market_max; /* bus bounds (core/bus.h) */
    int64_t bus_backlog_max;
    int64_t net_queue_max;   /* bytes (core/net.h) */
    const char *proxy;       /* outbound HTTP proxy (at_proxy_valid), or NULL */
    int64_t orphan_grace_ms; /* order keeper (core/trading/keeper.h); 0 = off */
    const char *record;      /* session recordings' directory (core/trading/session.h), or NULL */
} core_settings;

/* [trader.*] settings: the scheduler (core/trading/scheduler.h) and the decision half
 * (core/trading/trader.h) of each trader. */
typedef struct trader_settings {
    const char *ai;
    const char *account;
    at_cfg_list symbols;
    int64_t long_period_ms;
    int64_t short_period_ms;
    bool shadow;
    /* scheduler (core/trading/scheduler.h) */
    double salience;
    int64_t grace_ms;
    int64_t calm_periods;
    int64_t cooldown_ms;
    int64_t max_calls_hour;
    int64_t max_calls_day;
    int64_t deadline_ms;
    int64_t max_concurrent;
    double max_cost_day;
    double news_impact;
    int64_t news_fresh_ms;
    /* decisions (core/trading/trader.h) */
    int64_t news_tokens, news_per_symbol, news_max_age_ms;
    const char *prompts; /* dir of system.txt and user.txt; NULL = the engine's */
    int64_t history;
    double max_leverage, max_size_pct;
    double take_profit_pct, stop_loss_pct;
    bool retry;
    at_cfg_list indicators;
    int64_t price_max_age_ms;
    double max_price_move_bps;
    double giveback_pct, giveback_arm_pct;
    /* shadow and gray release (core/trading/gray.h) */
    const char *shadow_account; /* the paper venue of its shadow intents, or NULL */
    at_cfg_list live_weight;    /* the rules as written */
    int64_t gray_seed;
    gray_rules gray; /* live_weight parsed (engine_load.c) */
} trader_settings;

typedef struct engine_opts {
    const char *config_path;
    const char *log_level; /* overrides [core] log_level when set */
    bool log_json;
    bool sim_clock; /* tests, backtest: simulated clock */
    int64_t sim_start_us;
    bool no_gate;          /* unit tests that drive an executor of their own */
    struct replay *replay; /* `aitrader replay` (core/replay.h), or NULL */
    /* `aitrader backtest`: no network (as a replay), and the config adapted
     * after it is read, before anything is checked */
    bool offline;
    int (*edit_conf)(void *arg, struct conf_file *f, struct conf_errors *errs);
    void *edit_arg;
} engine_opts;

typedef struct engine engine;

engine *engine_new(const engine_opts *o);
/* Parse and validate the config, load plugins, apply schemas. Every error is
 * added to errs; returns AT_OK or AT_ECONFIG. No plugin code runs but the
 * entry function. */
int engine_load(engine *e, conf_errors *errs);
/* Create the loop and services, init and start every instance in order.
 * On failure everything started is stopped again; returns < 0. */
int engine_start(engine *e);
/* Run until a stop is requested; returns the exit code asked for. */
int engine_run(engine *e);
/* Ask the running engine to stop (any thread, async-signal-unsafe). */
void engine_request_stop(int exit_code);
/* Stop (reverse order) and destroy every instance; release services. */
void engine_shutdown(engine *e);
void engine_free(engine *e);

struct event_base *engine_base(engine *e);
const at_host *engine_host(void);
/* An instance with no plugin, for core components and tests. */
at_instance *engine_virtual_instance(engine *e, const char *name);
/* `in` subscribes to `type` now (host->subscribe): its first subscription
 * to the type is a session line while recording; in a replay the time the
 * recorded one began, from which events are its (0 = all). */
int64_t engine_subscribed(at_instance *in, at_event_type type);
at_instance *engine_instances(engine *e);
const core_settings *engine_core(engine *e);
size_t engine_traders(engine *e, const char ***names);

/* Simulated-clock runs driven from outside (engine_sim.c): deliver what is
 * queued on the bus, handed back by worker threads or due on the loop,
 * without blocking; run the loop until done(arg) holds (false after
 * timeout_us of wall time); move the simulated clock to to_us in steps of at
 * most step_us (0 = one step), pumping after each. */
void engine_pump(engine *e);
bool engine_wait(engine *e, bool (*done)(void *arg), void *arg, int64_t timeout_us);
int engine_advance(engine *e, int64_t to_us, int64_t step_us);

/* Used by host.c. */
struct http_client *engine_http(void);
struct net *engine_net(void);
engine *engine_current(void);
/* The running engine is a replay: no network (host.c refuses it). */
bool engine_offline(void);
void engine_set_state(at_instance *inst, at_state st, const char *detail);
/* host->ai_request / ai_cancel (engine_ai.c). */
struct at_ai_request;
struct at_ai_reply;
int64_t engine_ai_request(at_instance *caller, const char *ai, const struct at_ai_request *req,
                          void (*done)(void *arg, const struct at_ai_reply *reply), void *arg);
void engine_ai_cancel(int64_t id);
/* Every call out cancelled (engine_shutdown): no done runs afterwards. */
void engine_ai_cancel_all(void);
const char *engine_core_get(const char *key);
const char *engine_state_name(at_state s);

#endif

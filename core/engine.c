/* Engine lifecycle: load config and plugins, start instances in kind order,
 * run the loop, stop in reverse order. */
#include "engine.h"

#include <curl/curl.h>
#include <event2/thread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "intern.h"
#include "log.h"
#include "loopsvc.h"
#include "metrics.h"
#include "net.h"
#include "storage.h"
#include "tls.h"
#include "trading/scheduler.h"
#include "util.h"

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
    sched **scheds; /* one per trader, while started */
    struct event_base *base;
    struct event *sig_int, *sig_term, *stop_ev;
    http_client *http;
    net *net;
    bool started;
    int exit_code;
    int64_t started_us;
};

static engine *current;

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const modes[] = {"live", "paper", NULL};

static const at_cfg_field core_schema[] = {
    {"plugin_dir", AT_CFG_LIST, NULL, 0, offsetof(core_settings, plugin_dirs), 0, 0, NULL,
     "extra directories searched for <kind>_<module>.so, in order, before the engine's own "
     "(the build tree's plugins/ or the install dir)"},
    {"data_dir", AT_CFG_STR, "data", 0, offsetof(core_settings, data_dir), 0, 0, NULL,
     "where the engine keeps its files (database, journals, token); created if missing"},
    {"sql_dir", AT_CFG_STR, NULL, 0, offsetof(core_settings, sql_dir), 0, 0, NULL,
     "schema migrations (sql/<dialect>/NNN_name.sql); default: installed share dir or source "
     "tree"},
    {"log_level", AT_CFG_ENUM, "info", 0, offsetof(core_settings, log_level), 0, 0, log_levels,
     "least severe level written"},
    {"mode", AT_CFG_ENUM, "paper", 0, offsetof(core_settings, mode), 0, 0, modes,
     "live trades real accounts; paper keeps orders on the paper venue"},
    {"bus_market_max", AT_CFG_INT, "16384", AT_CFG_RANGE, offsetof(core_settings, bus_market_max),
     16, 16777216, NULL,
     "market-data events (books, tickers, trades …) queued for slow subscribers; past it the "
     "oldest are dropped, counted, with one ALERT"},
    {"bus_backlog_max", AT_CFG_INT, "65536", AT_CFG_RANGE, offsetof(core_settings, bus_backlog_max),
     16, 16777216, NULL,
     "account, order and decision events (never dropped) queued before the engine slows the "
     "network to a trickle until half are delivered (one ALERT)"},
    {"net_queue_max", AT_CFG_SIZE, "16M", AT_CFG_RANGE, offsetof(core_settings, net_queue_max),
     65536, 4294967296.0, NULL,
     "bytes received and not yet handled before the engine stops reading the sockets (nothing is "
     "dropped; one ALERT)"},
    {0},
};

static const at_cfg_field trader_schema[] = {
    {"ai", AT_CFG_STR, NULL, AT_CFG_REQUIRED, offsetof(trader_settings, ai), 0, 0, NULL,
     "AI provider instance, e.g. ai.deepseek"},
    {"account", AT_CFG_STR, NULL, AT_CFG_REQUIRED, offsetof(trader_settings, account), 0, 0, NULL,
     "exchange instance the trader trades, e.g. exchange.okx"},
    {"symbols", AT_CFG_LIST, NULL, AT_CFG_REQUIRED, offsetof(trader_settings, symbols), 0, 0, NULL,
     "instruments the trader may trade"},
    {"long_period", AT_CFG_DURATION, "12m", AT_CFG_RANGE, offsetof(trader_settings, long_period_ms),
     60000, 86400000, NULL, "AI cycle period when markets are calm"},
    {"short_period", AT_CFG_DURATION, "5m", AT_CFG_RANGE,
     offsetof(trader_settings, short_period_ms), 60000, 86400000, NULL,
     "AI cycle period after a salient signal"},
    {"shadow", AT_CFG_BOOL, "false", 0, offsetof(trader_settings, shadow), 0, 0, NULL,
     "risk-check and store intents without sending them"},
    {"salience", AT_CFG_DOUBLE, "0.4", AT_CFG_RANGE, offsetof(trader_settings, salience), 0, 1,
     NULL, "signals at or above this salience trigger the AI and switch to short mode"},
    {"grace", AT_CFG_DURATION, "20s", AT_CFG_RANGE, offsetof(trader_settings, grace_ms), 0, 600000,
     NULL, "window after a salient signal that merges further signals into one trigger"},
    {"calm_periods", AT_CFG_INT, "3", AT_CFG_RANGE, offsetof(trader_settings, calm_periods), 1,
     1000, NULL, "calm short periods (no salient signal) before going back to long mode"},
    {"cooldown", AT_CFG_DURATION, "60s", AT_CFG_RANGE, offsetof(trader_settings, cooldown_ms), 0,
     86400000, NULL, "no trigger this long after the previous one (later ones wait)"},
    {"max_calls_hour", AT_CFG_INT, "12", AT_CFG_RANGE, offsetof(trader_settings, max_calls_hour), 0,
     100000, NULL, "AI calls in any rolling hour at most (0 = no limit)"},
    {"max_calls_day", AT_CFG_INT, "150", AT_CFG_RANGE, offsetof(trader_settings, max_calls_day), 0,
     100000, NULL, "AI calls in any rolling 24 hours at most (0 = no limit)"},
    {"deadline", AT_CFG_DURATION, "60s", AT_CFG_RANGE, offsetof(trader_settings, deadline_ms), 1000,
     3600000, NULL, "time the AI call of a trigger may take (stored with the trigger)"},
    {"max_concurrent", AT_CFG_INT, "1", AT_CFG_RANGE, offsetof(trader_settings, max_concurrent), 1,
     SCHED_MAX_INFLIGHT, NULL,
     "AI calls in flight at most (a trigger waits for a decision or a deadline to free a slot)"},
    {"max_cost_day", AT_CFG_DOUBLE, "5", AT_CFG_RANGE, offsetof(trader_settings, max_cost_day), 0,
     1e9, NULL, "USD the AI calls of any rolling 24 hours may cost at most (0 = no limit)"},
    {0},
};

static const char *const instance_ignore[] = {AT_CFG_KEY_MODULE, AT_CFG_KEY_ENABLED, NULL};

engine *engine_current(void)
{
    return current;
}

struct event_base *engine_base(engine *e)
{
    return e->base;
}

at_instance *engine_instances(engine *e)
{
    return e->instances;
}

const core_settings *engine_core(engine *e)
{
    return &e->core;
}

size_t engine_traders(engine *e, const char ***names)
{
    *names = e->trader_names;
    return e->ntraders;
}

static char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) {
        *slash = '\0';
    }
    return at_strdup(buf);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Defaults that depend on where the binary lives: a build tree has plugins/
 * next to the binary; an install has ../lib/aitrader/plugins and
 * ../share/aitrader/sql. */
static void compute_defaults(engine *e)
{
    char *dir = exe_dir();
    char *cache = dir ? at_asprintf("%s/CMakeCache.txt", dir) : NULL;
    bool build_tree = cache && access(cache, F_OK) == 0;
    free(cache);
    if (build_tree) {
        /* Running from the build tree: its plugins and the source tree's sql. */
        e->default_plugin_dir = at_asprintf("%s/plugins", dir);
        e->default_sql_dir = at_strdup(AT_SOURCE_DIR "/sql");
        free(dir);
        return;
    }
    char *cand = dir ? at_asprintf("%s/../lib/aitrader/plugins", dir) : NULL;
    if (is_dir(cand)) {
        e->default_plugin_dir = cand;
    } else {
        free(cand);
        e->default_plugin_dir = at_strdup(AT_INSTALL_PLUGIN_DIR);
    }
    cand = dir ? at_asprintf("%s/../share/aitrader/sql", dir) : NULL;
    if (is_dir(cand)) {
        e->default_sql_dir = cand;
    } else {
        free(cand);
        e->default_sql_dir = at_strdup(AT_INSTALL_SHARE_DIR "/sql");
    }
    free(dir);
}

engine *engine_new(const engine_opts *o)
{
    engine *e = calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    e->opts = *o;
    const char *path = o->config_path ? o->config_path : getenv("AITRADER_CONFIG");
    e->config_path = at_strdup(path ? path : "modules.ini");
    e->opts.config_path = e->config_path;
    compute_defaults(e);
    current = e;
    return e;
}

static at_instance *instance_new(const char *name, const char *kind, const char *inst_part,
                                 const char *module, int line)
{
    at_instance *in = calloc(1, sizeof(*in));
    if (!in) {
        return NULL;
    }
    in->name = at_strdup(name);
    in->kind_name = at_strdup(kind);
    in->module = at_strdup(module ? module : inst_part);
    in->line = line;
    in->bus.name = in->name;
    return in;
}

static void instance_free(at_instance *in)
{
    if (in->lp.dl) {
        loader_close(&in->lp);
    }
    free(in->name);
    free(in->kind_name);
    free(in->module);
    free(in->detail);
    free(in);
}

/* Insert keeping start order: by kind order, then file order. */
static void instance_insert(engine *e, at_instance *in)
{
    int order = loader_kind_order(in->lp.plugin ? in->lp.plugin->kind : 0);
    at_instance **p = &e->instances;
    while (*p && loader_kind_order((*p)->lp.plugin ? (*p)->lp.plugin->kind : 0) <= order) {
        p = &(*p)->next;
    }
    in->next = *p;
    *p = in;
    e->ninstances++;
}

static void load_trader(engine *e, const conf_section *s, conf_errors *errs)
{
    size_t n = e->ntraders;
    trader_settings *t = realloc(e->traders, (n + 1) * sizeof(*t));
    conf_owned **o = realloc(e->trader_owned, (n + 1) * sizeof(*o));
    const char **names = realloc(e->trader_names, (n + 1) * sizeof(*names));
    if (t) {
        e->traders = t;
    }
    if (o) {
        e->trader_owned = o;
    }
    if (names) {
        e->trader_names = names;
    }
    if (!t || !o || !names) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "out of memory");
        return;
    }
    memset(&e->traders[n], 0, sizeof(e->traders[n]));
    e->trader_owned[n] = NULL;
    conf_apply(e->config_path, s->name, s, trader_schema, instance_ignore, &e->traders[n],
               &e->trader_owned[n], errs);
    e->trader_names[n] = s->name;
    e->ntraders++;
}

/* The plugin's own checks beyond its schema, reported at the key's line so
 * check-config refuses everything run would. */
static void check_instance(const engine *e, const conf_section *s, at_instance *in,
                           conf_errors *errs)
{
    if (!in->lp.check_config) {
        return;
    }
    const char *key = NULL;
    char why[512] = "";
    int rc = in->lp.check_config(in->ctx, &key, why, sizeof(why));
    if (rc == AT_OK) {
        return;
    }
    why[sizeof(why) - 1] = '\0';
    const conf_entry *ent = key ? conf_entry_get(s, key) : NULL;
    conf_err(errs, e->config_path, ent ? ent->line : s->line, s->name, key, "%s",
             why[0] ? why : "refused by the plugin (no reason given)");
}

static void load_instance(engine *e, const conf_section *s, conf_errors *errs)
{
    const conf_entry *en = conf_entry_get(s, AT_CFG_KEY_ENABLED);
    bool enabled = true;
    if (en && conf_parse_bool(en->value, &enabled) != AT_OK) {
        conf_err(errs, e->config_path, en->line, s->name, "enabled",
                 "expected a boolean (true/false), got \"%s\"", en->value);
        return;
    }
    if (!enabled) {
        return;
    }
    if (strcmp(s->kind, "trader") == 0) {
        load_trader(e, s, errs);
        return;
    }
    at_plugin_kind kind = loader_kind_parse(s->kind);
    if (!kind) {
        conf_err(errs, e->config_path, s->line, s->name, NULL,
                 "unknown kind '%s' (expected core, storage, exchange, source, indicator, "
                 "risk, ai, ui or trader)",
                 s->kind);
        return;
    }
    const conf_entry *me = conf_entry_get(s, AT_CFG_KEY_MODULE);
    const char *module = me ? me->value : s->instance;
    at_instance *in = instance_new(s->name, s->kind, s->instance, module, s->line);
    if (!in) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "out of memory");
        return;
    }
    /* Configured directories first, then the engine's own plugins. */
    const char *dirs[16];
    size_t ndirs = 0;
    for (size_t i = 0; i < e->core.plugin_dirs.n && ndirs < 15; i++) {
        dirs[ndirs++] = e->core.plugin_dirs.items[i];
    }
    dirs[ndirs++] = e->default_plugin_dir;
    char *path = loader_find(dirs, ndirs, s->kind, in->module);
    if (!path) {
        char where[1024] = "";
        for (size_t i = 0; i < ndirs; i++) {
            snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s", i ? ", " : "",
                     dirs[i]);
        }
        conf_err(errs, e->config_path, me ? me->line : s->line, s->name, me ? "module" : NULL,
                 "plugin %s_%s.so not found in %s", s->kind, in->module, where);
        instance_free(in);
        return;
    }
    char err[512];
    int rc = loader_open(path, &in->lp, err, sizeof(err));
    free(path);
    if (rc != AT_OK) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "%s", err);
        instance_free(in);
        return;
    }
    const at_plugin *p = in->lp.plugin;
    if (p->kind != kind) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "%s is a %s plugin, not %s",
                 in->lp.path, loader_kind_name(p->kind), s->kind);
        instance_free(in);
        return;
    }
    in->ctx = calloc(1, p->ctx_size);
    if (!in->ctx) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "out of memory");
        instance_free(in);
        return;
    }
    size_t before = errs->n;
    conf_apply(e->config_path, s->name, s, in->lp.schema, instance_ignore, in->ctx, &in->owned,
               errs);
    if (errs->n == before) {
        check_instance(e, s, in, errs);
    }
    instance_insert(e, in);
}

int engine_load(engine *e, conf_errors *errs)
{
    size_t before = errs->n;
    /* Defaults first: `plugins` lists the engine's own plugins even when the
     * config cannot be read. */
    e->core.plugin_dir_first = e->default_plugin_dir;
    e->core.sql_dir = e->default_sql_dir;
    e->conf = conf_load(e->config_path, errs);
    if (!e->conf) {
        return AT_ECONFIG;
    }
    const conf_section *core = conf_section_get(e->conf, "core");
    conf_apply(e->config_path, "core", core, core_schema, NULL, &e->core, &e->core_owned, errs);
    if (!e->core.sql_dir) {
        e->core.sql_dir = e->default_sql_dir;
    }
    for (size_t i = 0; i < e->conf->n; i++) {
        const conf_section *s = &e->conf->secs[i];
        if (strcmp(s->name, "core") != 0) {
            load_instance(e, s, errs);
        }
    }
    /* Cross-references of traders: the named AI and account must exist. */
    for (size_t i = 0; i < e->ntraders; i++) {
        const conf_section *s = conf_section_get(e->conf, e->trader_names[i]);
        const trader_settings *t = &e->traders[i];
        const char *refs[2] = {t->ai, t->account};
        const char *keys[2] = {"ai", "account"};
        const char *kinds[2] = {"ai", "exchange"};
        for (int k = 0; k < 2; k++) {
            if (!refs[k]) {
                continue;
            }
            bool found = false;
            for (at_instance *in = e->instances; in; in = in->next) {
                found |= strcmp(in->name, refs[k]) == 0 && strcmp(in->kind_name, kinds[k]) == 0;
            }
            if (!found) {
                const conf_entry *en = conf_entry_get(s, keys[k]);
                conf_err(errs, e->config_path, en ? en->line : s->line, s->name, keys[k],
                         "no enabled [%s.*] section named '%s'", kinds[k], refs[k]);
            }
        }
    }
    return errs->n > before ? AT_ECONFIG : AT_OK;
}

const char *engine_state_name(at_state s)
{
    static const char *names[] = {"init", "starting", "up", "degraded", "down", "stopped"};
    return (unsigned)s < 6 ? names[s] : "unknown";
}

void engine_set_state(at_instance *in, at_state st, const char *detail)
{
    bool changed = in->state != st;
    bool detail_changed =
        (detail && (!in->detail || strcmp(detail, in->detail) != 0)) || (!detail && in->detail);
    if (!changed && !detail_changed) {
        return;
    }
    in->state = st;
    free(in->detail);
    in->detail = detail ? at_strdup(detail) : NULL;
    if (changed) {
        at_log_level lvl =
            (st == AT_STATE_DEGRADED || st == AT_STATE_DOWN) ? AT_LOG_WARN : AT_LOG_INFO;
        log_msg(in->name, lvl, "state %s%s%s", engine_state_name(st), detail ? ": " : "",
                detail ? detail : "");
    }
    at_ev_status *ev =
        (at_ev_status *)bus_event_new(&in->bus, AT_EV_STATUS, detail ? strlen(detail) + 1 : 0);
    if (ev) {
        snprintf(ev->instance, sizeof(ev->instance), "%s", in->name);
        ev->state = st;
        ev->detail = bus_event_strdup(&ev->h, detail);
        bus_publish(&in->bus, &ev->h, 0);
    }
}

const char *engine_core_get(const char *key)
{
    engine *e = current;
    if (!e || !key) {
        return NULL;
    }
    if (strcmp(key, "data_dir") == 0) {
        return e->core.data_dir;
    }
    if (strcmp(key, "sql_dir") == 0) {
        return e->core.sql_dir;
    }
    if (strcmp(key, "plugin_dir") == 0) {
        return e->core.plugin_dir_first;
    }
    if (strcmp(key, "mode") == 0) {
        return modes[e->core.mode];
    }
    if (strcmp(key, "log_level") == 0) {
        return log_levels[log_get_level()];
    }
    if (strcmp(key, "config") == 0) {
        return e->config_path;
    }
    return NULL;
}

at_instance *engine_virtual_instance(engine *e, const char *name)
{
    const char *dot = strchr(name, '.');
    char kind[64];
    snprintf(kind, sizeof(kind), "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
    at_instance *in = instance_new(name, kind, dot ? dot + 1 : name, NULL, 0);
    if (!in) {
        return NULL;
    }
    /* Virtual instances go last: they are stopped first. */
    at_instance **p = &e->instances;
    while (*p) {
        p = &(*p)->next;
    }
    *p = in;
    e->ninstances++;
    bus_client_register(&in->bus);
    in->state = AT_STATE_UP;
    in->inited = in->started = true;
    return in;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    engine *e = arg;
    if (e->exit_code == INT_MIN) {
        log_msg("core", AT_LOG_INFO, "%s received: stopping (again to force)",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        engine_request_stop(0);
    } else {
        log_msg("core", AT_LOG_WARN, "second signal: exiting now without a clean stop");
        _exit(1);
    }
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    engine *e = arg;
    event_base_loopbreak(e->base);
}

void engine_request_stop(int exit_code)
{
    engine *e = current;
    if (!e || !e->stop_ev) {
        return;
    }
    if (e->exit_code == INT_MIN) {
        e->exit_code = exit_code;
    }
    event_active(e->stop_ev, EV_READ, 0);
}

/* One scheduler per trader, each on a virtual instance named after it. */
static int schedulers_start(engine *e)
{
    if (e->ntraders == 0) {
        return AT_OK;
    }
    e->scheds = calloc(e->ntraders, sizeof(*e->scheds));
    if (!e->scheds) {
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < e->ntraders; i++) {
        const trader_settings *t = &e->traders[i];
        const char *name = e->trader_names[i];
        const char *dot = strchr(name, '.');
        at_instance *in = engine_virtual_instance(e, name);
        sched_cfg c = {.trader = dot ? dot + 1 : name,
                       .symbols = t->symbols.items,
                       .nsymbols = t->symbols.n,
                       .long_ms = t->long_period_ms,
                       .short_ms = t->short_period_ms,
                       .grace_ms = t->grace_ms,
                       .cooldown_ms = t->cooldown_ms,
                       .deadline_ms = t->deadline_ms,
                       .calm_periods = t->calm_periods,
                       .max_hour = t->max_calls_hour,
                       .max_day = t->max_calls_day,
                       .max_concurrent = t->max_concurrent,
                       .salience = t->salience,
                       .max_cost_day = t->max_cost_day};
        e->scheds[i] = in ? sched_new(engine_host(), in, &c) : NULL;
        int rc = e->scheds[i] ? sched_start(e->scheds[i]) : AT_ENOMEM;
        if (rc != AT_OK) {
            log_msg(name, AT_LOG_ERROR, "scheduler failed to start: %s", at_strerror(rc));
            return rc;
        }
        log_msg(name, AT_LOG_INFO,
                "scheduler on (ai %s, account %s, %zu symbols); until the AI pipeline lands, "
                "triggers are stored and logged",
                t->ai, t->account, t->symbols.n);
    }
    return AT_OK;
}

static void schedulers_stop(engine *e)
{
    for (size_t i = 0; e->scheds && i < e->ntraders; i++) {
        if (e->scheds[i]) {
            sched_stop(e->scheds[i]);
        }
    }
}

/* After storage stopped: no callback of a scheduler can come any more. */
static void schedulers_free(engine *e)
{
    for (size_t i = 0; e->scheds && i < e->ntraders; i++) {
        sched_free(e->scheds[i]);
    }
    free(e->scheds);
    e->scheds = NULL;
}

static int ensure_dir(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0700);
            *p = '/';
        }
    }
    if (mkdir(buf, 0700) != 0 && !is_dir(buf)) {
        return AT_EIO;
    }
    return AT_OK;
}

static int services_up(engine *e)
{
    if (evthread_use_pthreads() != 0) {
        return AT_EIO;
    }
    e->base = event_base_new();
    if (!e->base) {
        return AT_ENOMEM;
    }
    /* Before curl and lws initialise OpenSSL their own way (tls.h). */
    if (tls_global_init() != AT_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return AT_EIO;
    }
    int rc = e->opts.sim_clock ? clock_init_sim(e->opts.sim_start_us) : clock_init_real(e->base);
    if (rc == AT_OK) {
        rc = bus_init(e->base);
    }
    if (rc == AT_OK) {
        /* On the simulated clock (backtest, replay) no market data is
         * dropped: the data sets the pace, not the machine, and a run must
         * not depend on how far one clock step goes. */
        bus_set_limits(e->opts.sim_clock ? SIZE_MAX : (size_t)e->core.bus_market_max,
                       (size_t)e->core.bus_backlog_max);
    }
    if (rc == AT_OK) {
        rc = loopsvc_init(e->base);
    }
    if (rc != AT_OK) {
        return rc;
    }
    e->http = http_client_new(e->base);
    e->net = net_new(e->base);
    if (!e->http || !e->net) {
        return AT_EIO;
    }
    net_set_queue_max(e->net, (size_t)e->core.net_queue_max);
    e->exit_code = INT_MIN;
    e->stop_ev = event_new(e->base, -1, 0, on_stop, e);
    e->sig_int = evsignal_new(e->base, SIGINT, on_signal, e);
    e->sig_term = evsignal_new(e->base, SIGTERM, on_signal, e);
    if (!e->stop_ev || !e->sig_int || !e->sig_term) {
        return AT_ENOMEM;
    }
    event_add(e->sig_int, NULL);
    event_add(e->sig_term, NULL);
    signal(SIGPIPE, SIG_IGN);
    return AT_OK;
}

http_client *engine_http(void)
{
    return current ? current->http : NULL;
}

net *engine_net(void)
{
    return current ? current->net : NULL;
}

int engine_start(engine *e)
{
    if (e->opts.log_level) {
        log_set_level((at_log_level)log_level_parse(e->opts.log_level));
    } else {
        log_set_level((at_log_level)e->core.log_level);
    }
    if (ensure_dir(e->core.data_dir) != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "cannot create data_dir %s", e->core.data_dir);
        return AT_EIO;
    }
    int rc = services_up(e);
    if (rc != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "cannot start core services: %s", at_strerror(rc));
        return rc;
    }
    e->started_us = clock_now_us();
    e->started = true;
    log_msg("core", AT_LOG_INFO,
            "aitrader %s (ABI %d.%d) starting: config %s, mode %s, %zu instance%s", AT_VERSION,
            AT_ABI_MAJOR, AT_ABI_MINOR, e->config_path, modes[e->core.mode], e->ninstances,
            e->ninstances == 1 ? "" : "s");
    const at_host *host = engine_host();
    for (at_instance *in = e->instances; in; in = in->next) {
        bus_client_register(&in->bus);
        in->state = AT_STATE_STARTING;
        rc = in->lp.plugin->init(in, host, in->ctx);
        if (rc != AT_OK) {
            log_msg(in->name, AT_LOG_ERROR, "init failed: %s", at_strerror(rc));
            return rc;
        }
        in->inited = true;
        if (in->lp.plugin->kind == AT_KIND_STORAGE) {
            storage_add(in);
        }
    }
    for (at_instance *in = e->instances; in; in = in->next) {
        if (in->lp.plugin->start) {
            rc = in->lp.plugin->start(in->ctx);
            if (rc != AT_OK) {
                log_msg(in->name, AT_LOG_ERROR, "start failed: %s", at_strerror(rc));
                return rc;
            }
        }
        in->started = true;
        /* A plugin that reported its own state (still connecting …) keeps it. */
        if (in->state == AT_STATE_STARTING && !in->state_reported) {
            engine_set_state(in, AT_STATE_UP, NULL);
        }
        log_msg(in->name, AT_LOG_INFO, "started (%s %s from %s)", in->lp.plugin->name,
                in->lp.plugin->version ? in->lp.plugin->version : "", in->lp.path);
    }
    rc = schedulers_start(e);
    if (rc != AT_OK) {
        return rc;
    }
    log_msg("core", AT_LOG_INFO, "running; Ctrl-C or SIGTERM stops");
    return AT_OK;
}

int engine_run(engine *e)
{
    if (!e->base) {
        return 1;
    }
    event_base_dispatch(e->base);
    return e->exit_code == INT_MIN ? 0 : e->exit_code;
}

static size_t count_instances(const engine *e)
{
    size_t n = 0;
    for (const at_instance *in = e->instances; in; in = in->next) {
        n++;
    }
    return n;
}

void engine_shutdown(engine *e)
{
    size_t n = count_instances(e);
    at_instance **rev = calloc(n ? n : 1, sizeof(*rev));
    size_t i = 0;
    for (at_instance *in = e->instances; in && rev; in = in->next) {
        rev[i++] = in;
    }
    if (e->started) {
        log_msg("core", AT_LOG_INFO, "stopping");
        /* Deliver what is queued so every event reaches storage before it
         * stops (storage stops last). */
        bus_drain(SIZE_MAX);
    }
    schedulers_stop(e);
    for (size_t k = n; rev && k-- > 0;) {
        at_instance *in = rev[k];
        if (in->started && in->lp.plugin && in->lp.plugin->stop) {
            in->lp.plugin->stop(in->ctx);
        }
        if (in->started) {
            engine_set_state(in, AT_STATE_STOPPED, NULL);
        }
        in->started = false;
        bus_unsubscribe_client(&in->bus);
        timer_cancel_owner(in);
        if (e->started) {
            bus_drain(SIZE_MAX);
            loopsvc_run_pending();
        }
    }
    if (e->started) {
        loopsvc_close();
        if (e->http) {
            http_client_free(e->http);
            e->http = NULL;
        }
        if (e->net) {
            net_free(e->net);
            e->net = NULL;
        }
    }
    for (size_t k = n; rev && k-- > 0;) {
        at_instance *in = rev[k];
        if (in->inited && in->lp.plugin) {
            in->lp.plugin->destroy(in->ctx);
        }
        in->inited = false;
        loopsvc_drop_owner(in);
        bus_client_unregister(&in->bus);
    }
    free(rev);
    if (e->started) {
        storage_shutdown();
    }
    schedulers_free(e);
    if (e->started) {
        bus_shutdown();
        loopsvc_shutdown();
        clock_shutdown();
        metrics_shutdown();
        if (e->stop_ev) {
            event_free(e->stop_ev);
        }
        if (e->sig_int) {
            event_free(e->sig_int);
        }
        if (e->sig_term) {
            event_free(e->sig_term);
        }
        e->stop_ev = e->sig_int = e->sig_term = NULL;
        event_base_free(e->base);
        e->base = NULL;
        curl_global_cleanup();
        e->started = false;
        log_msg("core", AT_LOG_INFO, "stopped");
    }
}

void engine_free(engine *e)
{
    if (!e) {
        return;
    }
    engine_shutdown(e);
    for (at_instance *in = e->instances, *next; in; in = next) {
        next = in->next;
        conf_owned_free(in->owned);
        free(in->ctx);
        instance_free(in);
    }
    for (size_t i = 0; i < e->ntraders; i++) {
        conf_owned_free(e->trader_owned[i]);
    }
    free(e->traders);
    free(e->trader_owned);
    free(e->trader_names);
    conf_owned_free(e->core_owned);
    conf_free(e->conf);
    free(e->default_plugin_dir);
    free(e->default_sql_dir);
    free(e->config_path);
    if (current == e) {
        current = NULL;
    }
    intern_shutdown();
    free(e);
}

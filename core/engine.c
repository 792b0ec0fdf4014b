/* Engine lifecycle: create, bring up the core services, init and start the
 * instances engine_load.c loaded (kind order), run the loop, stop in reverse
 * order, free. */
#include "engine_internal.h"

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
#include "intern.h"
#include "log.h"
#include "loopsvc.h"
#include "metrics.h"
#include "replay.h"
#include "storage.h"
#include "tls.h"
#include "trading/session.h"
#include "util.h"

static engine *current;

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

const char *engine_state_name(at_state s)
{
    static const char *names[] = {"init", "starting", "up", "degraded", "down", "stopped"};
    return (unsigned)s < 6 ? names[s] : "unknown";
}

void engine_set_state(at_instance *in, at_state st, const char *given)
{
    /* A detail reaches the log, the bus, /api/health and the dashboard's
     * feed: secrets are redacted once, here, for all of them. */
    char *detail = given ? at_strdup(given) : NULL; /* no memory: no detail */
    if (detail) {
        log_redact(detail, strlen(detail) + 1);
    }
    bool changed = in->state != st;
    bool detail_changed =
        (detail && (!in->detail || strcmp(detail, in->detail) != 0)) || (!detail && in->detail);
    if (!changed && !detail_changed) {
        free(detail);
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
    free(detail);
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

bool engine_offline(void)
{
    return current && (current->opts.replay || current->opts.offline);
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

/* The executor: every exchange instance with order operations is a venue,
 * every risk instance a rule, in start (config) order. Started after every
 * instance, so nothing reaches a venue before it is up. The order keeper
 * comes with it, on its own instance ("core.keeper"): the executor tells it
 * what it submitted, its cancels go through the executor like any intent. */
static int executor_start(engine *e)
{
    size_t n = 0;
    for (at_instance *in = e->instances; in; in = in->next) {
        n++;
    }
    exec_venue *venues = calloc(n ? n : 1, sizeof(*venues));
    exec_rule *rules = calloc(n ? n : 1, sizeof(*rules));
    const char **data_only = calloc(n ? n : 1, sizeof(*data_only));
    exec_cfg cfg = {.paper_mode = strcmp(engine_modes[e->core.mode], "paper") == 0,
                    .venues = venues,
                    .rules = rules,
                    .data_only = data_only,
                    .submit_at = e->opts.replay ? replay_submit_at : NULL,
                    .submit_at_arg = e->opts.replay};
    int rc = AT_ENOMEM;
    if (!venues || !rules || !data_only) {
        goto done;
    }
    for (at_instance *in = e->instances; in; in = in->next) {
        const at_plugin *p = in->lp.plugin;
        if (!p) {
            continue; /* a virtual instance (core.recorder) */
        }
        if (p->kind == AT_KIND_EXCHANGE && p->ops) {
            venues[cfg.nvenues++] = (exec_venue){in->name, p->ops, in->ctx};
        } else if (p->kind == AT_KIND_EXCHANGE) {
            data_only[cfg.ndata_only++] = in->name;
        } else if (p->kind == AT_KIND_RISK) {
            rules[cfg.nrules++] = (exec_rule){in->name, p->ops, in->ctx};
        }
    }
    const keeper_cfg kcfg = {.orphan_grace_ms = e->core.orphan_grace_ms};
    at_instance *kself = engine_virtual_instance(e, "core.keeper");
    e->keeper = kself ? keeper_new(engine_host(), kself, &kcfg) : NULL;
    if (!e->keeper) {
        goto done;
    }
    cfg.on_submit = keeper_on_submit;
    cfg.on_submit_arg = e->keeper;
    at_instance *self = engine_virtual_instance(e, "core.executor");
    e->executor = self ? exec_new(engine_host(), self, &cfg) : NULL;
    rc = e->executor ? exec_start(e->executor) : AT_ENOMEM;
    if (rc == AT_OK) {
        rc = keeper_start(e->keeper);
    }
done:
    free(venues);
    free(rules);
    free(data_only);
    if (rc != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "the order gate failed to start: %s", at_strerror(rc));
    }
    return rc;
}

/* The equity curve: started with the gate, whatever its venues (the
 * BALANCE events name the accounts). A stale bound like risk_limits'
 * equity_max_age: venues push on changes only, so a quiet account is silent
 * for hours. */
static int equity_start_core(engine *e)
{
    const equity_cfg cfg = {.period_ms = 60000, .max_age_ms = 12LL * 3600 * 1000};
    at_instance *self = engine_virtual_instance(e, "core.equity");
    e->equity = self ? equity_new(engine_host(), self, &cfg) : NULL;
    int rc = e->equity ? equity_start(e->equity) : AT_ENOMEM;
    if (rc != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "the equity curve failed to start: %s", at_strerror(rc));
    }
    return rc;
}

/* PnL per trader and account, from the fills (core/trading/ledger.h). */
static int ledger_start_core(engine *e)
{
    const ledger_cfg cfg = {.period_ms = 60000};
    at_instance *self = engine_virtual_instance(e, "core.ledger");
    e->ledger = self ? ledger_new(engine_host(), self, &cfg) : NULL;
    int rc = e->ledger ? ledger_start(e->ledger) : AT_ENOMEM;
    if (rc != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "the PnL ledger failed to start: %s", at_strerror(rc));
    }
    return rc;
}

/* A trader's shadow_account must be a paper venue: its shadow entries are
 * filled there, hypothetically, and nowhere else. Its class is known once
 * the plugin is up, so this is checked at start, at the key's line. */
static int shadow_venue_check(engine *e, size_t i)
{
    static const char *const classes[] = {"a live account", "a demo account", "a paper venue",
                                          "market data only"};
    const trader_settings *ts = &e->traders[i];
    const conf_section *s = conf_section_get(e->conf, e->trader_names[i]);
    const conf_entry *en = s ? conf_entry_get(s, "shadow_account") : NULL;
    const at_instance *in = e->instances;
    while (in && strcmp(in->name, ts->shadow_account) != 0) {
        in = in->next;
    }
    const at_plugin *p = in ? in->lp.plugin : NULL;
    const at_exchange_ops *ops = p && p->kind == AT_KIND_EXCHANGE ? p->ops : NULL;
    at_venue_class vc = ops ? ops->venue_class(in->ctx) : AT_VENUE_DATA_ONLY;
    if (vc == AT_VENUE_PAPER) {
        return AT_OK;
    }
    log_msg(e->trader_names[i], AT_LOG_ERROR,
            "%s:%d: [%s] shadow_account: %s is %s, not a paper venue: shadow entries are filled "
            "only on one ([exchange.*] with module = paper)",
            e->config_path, en ? en->line : 0, e->trader_names[i], ts->shadow_account,
            (unsigned)vc <= AT_VENUE_DATA_ONLY ? classes[vc] : "of no known class");
    return AT_ECONFIG;
}

/* The decision half of a trader, on its scheduler's instance, with its AI
 * instance's operations (handed over like the executor's venues). */
static int trader_start_one(engine *e, size_t i, at_instance *in)
{
    const trader_settings *ts = &e->traders[i];
    const char *name = e->trader_names[i];
    const char *dot = strchr(name, '.');
    const at_instance *ai = NULL;
    for (const at_instance *x = e->instances; x; x = x->next) {
        if (x->lp.plugin && x->lp.plugin->kind == AT_KIND_AI && strcmp(x->name, ts->ai) == 0) {
            ai = x;
        }
    }
    const at_ai_ops *ops = ai ? ai->lp.plugin->ops : NULL;
    void *ai_ctx = ai ? ai->ctx : NULL;
    if (e->opts.replay) {
        ops = replay_ai_ops();
        ai_ctx = replay_ai_ctx(e->opts.replay);
    }
    if (!ops || !ops->request) {
        log_msg(name, AT_LOG_ERROR, "%s offers no AI operations", ts->ai);
        return AT_ECONFIG;
    }
    if (ts->shadow_account && shadow_venue_check(e, i) != AT_OK) {
        return AT_ECONFIG;
    }
    if (!engine_rec_wrap(e, i, &ops, &ai_ctx)) {
        return AT_ENOMEM;
    }
    char *dir = engine_prompts_dir(e, ts);
    trader_cfg c = {.trader = dot ? dot + 1 : name,
                    .ai_name = ts->ai,
                    .ai = ops,
                    .ai_ctx = ai_ctx,
                    .ask_at = e->opts.replay ? replay_ask_at : NULL,
                    .ask_at_arg = e->opts.replay,
                    .settle = bus_settle,
                    .prompt_read = e->rec ? session_tap_prompt_read : NULL,
                    .prompt_read_arg = e->rec ? e->taps[i] : NULL,
                    .account = ts->account,
                    .symbols = ts->symbols.items,
                    .nsymbols = ts->symbols.n,
                    .prompts_dir = dir ? dir : "prompts",
                    .history = ts->history,
                    .max_leverage = ts->max_leverage,
                    .max_size_pct = ts->max_size_pct,
                    .take_profit_pct = ts->take_profit_pct,
                    .stop_loss_pct = ts->stop_loss_pct,
                    .retry = ts->retry,
                    .shadow = ts->shadow,
                    .indicators = ts->indicators.items,
                    .nindicators = ts->indicators.n,
                    .price_max_age_ms = ts->price_max_age_ms,
                    .max_price_move_bps = ts->max_price_move_bps,
                    .giveback_pct = ts->giveback_pct,
                    .news_tokens = ts->news_tokens ? ts->news_tokens : -1,
                    .news_per_symbol = ts->news_per_symbol,
                    .news_max_age_ms = ts->news_max_age_ms,
                    .giveback_arm_pct = ts->giveback_arm_pct,
                    .ledger = e->ledger,
                    .shadow_account = ts->shadow_account,
                    .gray = &ts->gray,
                    .gray_seed = (uint64_t)ts->gray_seed};
    char why[512] = "out of memory";
    e->tdrs[i] = trader_new(engine_host(), in, &c, why, sizeof(why));
    free(dir);
    int rc = e->tdrs[i] ? trader_start(e->tdrs[i]) : AT_ECONFIG;
    if (rc != AT_OK) {
        log_msg(name, AT_LOG_ERROR, "trader failed to start: %s",
                e->tdrs[i] ? at_strerror(rc) : why);
    }
    return rc;
}

/* One trader per [trader.*], on a virtual instance named after it: its
 * decision half first (it takes the scheduler's first TRIGGER), then its
 * scheduler. */
static int schedulers_start(engine *e)
{
    if (e->ntraders == 0) {
        return AT_OK;
    }
    e->scheds = calloc(e->ntraders, sizeof(*e->scheds));
    e->tdrs = calloc(e->ntraders, sizeof(*e->tdrs));
    if (!e->scheds || !e->tdrs) {
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
                       .news_impact = t->news_impact,
                       .news_fresh_ms = t->news_fresh_ms,
                       .max_cost_day = t->max_cost_day,
                       .replay = e->opts.replay != NULL};
        int rc = in ? trader_start_one(e, i, in) : AT_ENOMEM;
        if (rc != AT_OK) {
            return rc;
        }
        e->scheds[i] = sched_new(engine_host(), in, &c);
        rc = e->scheds[i] ? sched_start(e->scheds[i]) : AT_ENOMEM;
        if (rc != AT_OK) {
            log_msg(name, AT_LOG_ERROR, "scheduler failed to start: %s", at_strerror(rc));
            return rc;
        }
        char gray[256] = "";
        if (t->shadow_account) {
            size_t k = (size_t)snprintf(gray, sizeof(gray), ", shadow account %s, live weight %s",
                                        t->shadow_account, t->shadow ? "0 (shadow = true)" : "");
            for (size_t r = 0; !t->shadow && r < t->gray.n && k < sizeof(gray); r++) {
                char rule[96];
                gray_rule_text(&t->gray.r[r], rule, sizeof(rule));
                k += (size_t)snprintf(gray + k, sizeof(gray) - k, "%s%s", r ? ", " : "", rule);
            }
            if (!t->shadow && t->gray.n == 0 && k < sizeof(gray)) {
                snprintf(gray + k, sizeof(gray) - k, "1");
            }
        }
        log_msg(name, AT_LOG_INFO,
                "trader on (ai %s, account %s, %zu symbols%s%s): triggers ask the AI, valid "
                "decisions go to the order gate",
                t->ai, t->account, t->symbols.n, t->shadow && !t->shadow_account ? ", shadow" : "",
                gray);
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
    for (size_t i = 0; e->tdrs && i < e->ntraders; i++) {
        if (e->tdrs[i]) {
            trader_stop(e->tdrs[i]);
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
    /* After the AI instances: no answer can come any more. */
    for (size_t i = 0; e->tdrs && i < e->ntraders; i++) {
        trader_free(e->tdrs[i]);
    }
    free(e->tdrs);
    e->tdrs = NULL;
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
    /* [core] proxy: the default of every request and WebSocket (checked at load). */
    if (http_client_set_proxy(e->http, e->core.proxy) != AT_OK ||
        net_set_proxy(e->net, e->core.proxy) != AT_OK) {
        return AT_EINVAL;
    }
    if (e->core.proxy && *e->core.proxy && strcmp(e->core.proxy, "none") != 0) {
        const char *at = strrchr(e->core.proxy, '@');
        log_msg("core", AT_LOG_INFO, "outbound connections go through the proxy %s%s",
                at ? "http://" : "", at ? at + 1 : e->core.proxy);
    }
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
            AT_ABI_MAJOR, AT_ABI_MINOR, e->config_path, engine_modes[e->core.mode], e->ninstances,
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
        if (!in->lp.plugin) {
            continue; /* a virtual instance (core.recorder, opened below): its owner starts it */
        }
        if (in->lp.plugin->kind != AT_KIND_STORAGE && (rc = engine_rec_open(e)) != AT_OK) {
            return rc;
        }
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
    rc = engine_rec_open(e); /* when storage is all there is */
    rc = rc == AT_OK && !e->opts.no_gate ? executor_start(e) : rc;
    if (rc == AT_OK) {
        rc = equity_start_core(e);
    }
    if (rc == AT_OK) {
        rc = ledger_start_core(e);
    }
    if (rc == AT_OK) {
        rc = engine_rec_start(e);
    }
    if (rc == AT_OK) {
        rc = schedulers_start(e);
    }
    if (rc != AT_OK) {
        return rc;
    }
    engine_metrics_start(e);
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
    engine_metrics_stop(e);
    engine_rec_end(e);
    /* no plugin hears from an AI provider any more: the providers stop
     * before the sources that asked them and answer what is out */
    engine_ai_cancel_all();
    schedulers_stop(e);
    exec_stop(e->executor);
    keeper_stop(e->keeper);
    equity_stop(e->equity);
    ledger_stop(e->ledger);
    engine_rec_stop(e);
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
    exec_free(e->executor);
    e->executor = NULL;
    keeper_free(e->keeper); /* after storage: an owner query may hold it until then */
    e->keeper = NULL;
    equity_free(e->equity);
    e->equity = NULL;
    ledger_free(e->ledger);
    engine_rec_free(e);
    e->ledger = NULL;
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
        engine_instance_free(in);
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

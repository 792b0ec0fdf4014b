/* The engine's config and instances: the [core] and [trader.*] schemas, one
 * instance per enabled plugin section (found, opened, configured, checked by
 * its plugin, kept in start order), virtual instances, traders and their
 * cross-references, and the [core] values the host table hands out. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine_internal.h"
#include "log.h"
#include "replay.h"
#include "trading/prompt.h"
#include "util.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
const char *const engine_modes[] = {"live", "paper", NULL};

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
    {"mode", AT_CFG_ENUM, "paper", 0, offsetof(core_settings, mode), 0, 0, engine_modes,
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
    {"proxy", AT_CFG_STR, NULL, 0, offsetof(core_settings, proxy), 0, 0, NULL,
     "HTTP proxy for every outbound connection (REST, WebSockets, AI providers) as a CONNECT "
     "tunnel: http://[user:password@]host:port; instances with a proxy key may override it "
     "(none = direct)"},
    {"orphan_grace", AT_CFG_DURATION, "5s", AT_CFG_RANGE, offsetof(core_settings, orphan_grace_ms),
     0, 3600000, NULL,
     "a TP/SL of ours whose position was open and stays closed this long is cancelled by the "
     "engine (the venue usually does it first; 0 = never)"},
    {"record", AT_CFG_STR, NULL, 0, offsetof(core_settings, record), 0, 0, NULL,
     "directory where each run writes a session file (triggers, AI requests and answers, "
     "decisions, intents, verdicts) that `aitrader replay` plays back (none = off)"},
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
     "every entry goes to shadow_account (live_weight 0 everywhere): risk-checked, stored and "
     "filled there on paper, never sent live"},
    {"shadow_account", AT_CFG_STR, NULL, 0, offsetof(trader_settings, shadow_account), 0, 0, NULL,
     "the paper venue (an [exchange.*] of class paper carrying the trader's symbols) that fills "
     "its shadow entries at the same market prices, e.g. exchange.paper_shadow"},
    {"live_weight", AT_CFG_LIST, NULL, 0, offsetof(trader_settings, live_weight), 0, 0, NULL,
     "gray release: RULE, RULE ... with RULE = [SYMBOL|*][@HH-HH]:W or W; the share W (0-1) of "
     "entries sent live in that UTC hour window, the rest to shadow_account; the first matching "
     "rule wins; default 1"},
    {"gray_seed", AT_CFG_INT, "0", AT_CFG_RANGE, offsetof(trader_settings, gray_seed), 0,
     9007199254740991.0, NULL,
     "seed of the live/shadow draw of each entry (SHA-256 of seed, trader, decision id, symbol): "
     "the same seed makes the same choices"},
    {"salience", AT_CFG_DOUBLE, "0.4", AT_CFG_RANGE, offsetof(trader_settings, salience), 0, 1,
     NULL, "signals at or above this salience trigger the AI and switch to short mode"},
    {"news_impact", AT_CFG_DOUBLE, "0.8", AT_CFG_RANGE, offsetof(trader_settings, news_impact), 0,
     1, NULL,
     "a fresh headline about one of the symbols with this impact or more (0-1: an LLM scorer's "
     "judgement, else the lexicon score's strength) is a salient signal; 0 = headlines never "
     "trigger"},
    {"news_fresh", AT_CFG_DURATION, "30m", AT_CFG_RANGE, offsetof(trader_settings, news_fresh_ms),
     60000, 86400000, NULL, "only a headline published this recently can trigger"},
    {"news_tokens", AT_CFG_INT, "300", AT_CFG_RANGE, offsetof(trader_settings, news_tokens), 0,
     8000, NULL,
     "the prompt's news section (headlines and sentiment) in tokens at most; 0 = no news in the "
     "prompt"},
    {"news_per_symbol", AT_CFG_INT, "3", AT_CFG_RANGE, offsetof(trader_settings, news_per_symbol),
     1, 20, NULL, "headlines shown per symbol (and of the market at large), the most relevant"},
    {"news_max_age", AT_CFG_DURATION, "12h", AT_CFG_RANGE,
     offsetof(trader_settings, news_max_age_ms), 60000, 30.0 * 86400000, NULL,
     "headlines published longer ago are not shown"},
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
    {"prompts", AT_CFG_STR, NULL, 0, offsetof(trader_settings, prompts), 0, 0, NULL,
     "directory of the prompt templates system.txt and user.txt (default: the engine's prompts/)"},
    {"history", AT_CFG_INT, "5", AT_CFG_RANGE, offsetof(trader_settings, history), 0, 50, NULL,
     "past decisions (with what became of them) shown to the AI"},
    {"max_leverage", AT_CFG_DOUBLE, "10", AT_CFG_RANGE, offsetof(trader_settings, max_leverage), 1,
     125, NULL, "an entry asking for more leverage makes the decision invalid"},
    {"max_size_pct", AT_CFG_DOUBLE, "0.2", AT_CFG_RANGE, offsetof(trader_settings, max_size_pct),
     0.0001, 1, NULL,
     "an entry committing more than this fraction of equity as margin makes the decision invalid"},
    {"take_profit_pct", AT_CFG_DOUBLE, "0.04", AT_CFG_RANGE,
     offsetof(trader_settings, take_profit_pct), 0.0001, 10, NULL,
     "take-profit of an entry the AI gave none, as a fraction of the price (0.04 = 4 % away)"},
    {"stop_loss_pct", AT_CFG_DOUBLE, "0.02", AT_CFG_RANGE, offsetof(trader_settings, stop_loss_pct),
     0.0001, 0.9, NULL,
     "stop-loss of an entry the AI gave none, as a fraction of the price (0.02 = 2 % away)"},
    {"retry", AT_CFG_BOOL, "true", 0, offsetof(trader_settings, retry), 0, 0, NULL,
     "ask once more, with the reason appended, when the answer does not validate"},
    {"indicators", AT_CFG_LIST,
     "ema12, ema26, rsi14, macd_hist, bb_upper, bb_lower, atr14, chg_15m, chg_1h, chg_4h, "
     "chg_24h, vol_ratio",
     0, offsetof(trader_settings, indicators), 0, 0, NULL,
     "indicator values shown to the AI per symbol and bar (names as INDICATOR events carry them; "
     "all = every one)"},
    {"price_max_age", AT_CFG_DURATION, "60s", AT_CFG_RANGE,
     offsetof(trader_settings, price_max_age_ms), 1000, 3600000, NULL,
     "an entry is not sent when the price it would be sized at is older than this (the answer "
     "came late or the feed stopped)"},
    {"max_price_move_bps", AT_CFG_DOUBLE, "50", AT_CFG_RANGE,
     offsetof(trader_settings, max_price_move_bps), 0, 10000, NULL,
     "an entry is not sent when the price moved more than this many basis points from the one "
     "the prompt showed (0 = not checked); closes always go"},
    {"giveback_pct", AT_CFG_DOUBLE, "0", AT_CFG_RANGE, offsetof(trader_settings, giveback_pct), 0,
     100, NULL,
     "close a position this trader opened once its uPnL has fallen this % below its peak "
     "(40 = gave back 40 %; 0 = off)"},
    {"giveback_arm_pct", AT_CFG_DOUBLE, "1", AT_CFG_RANGE,
     offsetof(trader_settings, giveback_arm_pct), 0, 10000, NULL,
     "the giveback watchdog watches a position once its peak uPnL reached this % of the "
     "position's margin"},
    {0},
};

static const char *const instance_ignore[] = {AT_CFG_KEY_MODULE, AT_CFG_KEY_ENABLED, NULL};

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

void engine_instance_free(at_instance *in)
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
        engine_instance_free(in);
        return;
    }
    char err[512];
    int rc = loader_open(path, &in->lp, err, sizeof(err));
    free(path);
    if (rc != AT_OK) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "%s", err);
        engine_instance_free(in);
        return;
    }
    const at_plugin *p = in->lp.plugin;
    if (p->kind != kind) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "%s is a %s plugin, not %s",
                 in->lp.path, loader_kind_name(p->kind), s->kind);
        engine_instance_free(in);
        return;
    }
    in->ctx = calloc(1, p->ctx_size);
    if (!in->ctx) {
        conf_err(errs, e->config_path, s->line, s->name, NULL, "out of memory");
        engine_instance_free(in);
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

/* [core] proxy: the syntax at_proxy_valid accepts; a password in it is
 * redacted from the logs like any secret. */
static void check_proxy(engine *e, const conf_section *core, conf_errors *errs)
{
    const char *p = e->core.proxy;
    if (!p) {
        return;
    }
    if (!at_proxy_valid(p)) {
        const conf_entry *en = core ? conf_entry_get(core, "proxy") : NULL;
        /* not echoed: it may carry a password */
        conf_err(errs, e->config_path, en ? en->line : 0, "core", "proxy",
                 "expected http://host:port (or http://user:password@host:port, or none)");
        return;
    }
    const char *at = strrchr(p, '@');
    const char *colon = at ? memchr(p + 7, ':', (size_t)(at - (p + 7))) : NULL;
    if (colon && at > colon + 1) {
        char *pw = at_strndup(colon + 1, (size_t)(at - colon - 1));
        if (pw) {
            log_secret_add(pw);
            free(pw);
        }
    }
}

/* "<dir>/prompts" for "<dir>/sql"; NULL when that is no directory. */
static char *prompts_beside(const char *sql)
{
    size_t n = sql ? strlen(sql) : 0;
    while (n > 1 && sql[n - 1] == '/') {
        n--;
    }
    if (n < 3 || strncmp(sql + n - 3, "sql", 3) != 0) {
        return NULL;
    }
    char *dir = at_asprintf("%.*sprompts", (int)(n - 3), sql);
    struct stat st;
    if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        free(dir);
        dir = NULL;
    }
    return dir;
}

char *engine_prompts_dir(const engine *e, const trader_settings *t)
{
    if (t->prompts) {
        return at_strdup(t->prompts);
    }
    /* prompts/ lives next to sql/: the configured schema's, the installed
     * share dir's, else the source tree's (a build run from anywhere). */
    char *dir = prompts_beside(e->core.sql_dir);
    if (!dir) {
        dir = prompts_beside(e->default_sql_dir);
    }
    return dir ? dir : at_strdup(AT_SOURCE_DIR "/prompts");
}

/* A trader's templates load and name only known placeholders: check-config
 * refuses what the start would. */
static void check_prompts(engine *e, const conf_section *s, const trader_settings *t,
                          conf_errors *errs)
{
    char *dir = engine_prompts_dir(e, t);
    char why[512];
    prompt_tpl tpl;
    if (dir && prompt_load(dir, &tpl, why, sizeof(why)) == AT_OK) {
        prompt_free(&tpl);
    } else {
        const conf_entry *en = conf_entry_get(s, "prompts");
        conf_err(errs, e->config_path, en ? en->line : s->line, s->name, en ? "prompts" : NULL,
                 "%s", dir ? why : "out of memory");
    }
    free(dir);
}

/* Whether a venue's `instruments` item names the swap `symbol`: an instId,
 * a family (BTC-USDT), a ccxt symbol (BTC/USDT:USDT) or a coin (BTC, its
 * USDT swap), as exchange_okx and exchange_paper read them. */
static bool item_names(const char *item, const char *symbol)
{
    char up[64], want[64], canon[80];
    if (strlen(item) >= sizeof(up) || strlen(symbol) >= sizeof(want)) {
        return false;
    }
    for (size_t i = 0; i <= strlen(item); i++) {
        up[i] = (char)toupper((unsigned char)item[i]);
    }
    for (size_t i = 0; i <= strlen(symbol); i++) {
        want[i] = (char)toupper((unsigned char)symbol[i]);
    }
    char *slash = strchr(up, '/');
    size_t dashes = 0;
    for (const char *p = up; *p; p++) {
        dashes += *p == '-';
    }
    if (slash) {
        char *colon = strchr(slash, ':');
        *slash = '\0';
        if (colon) {
            *colon = '\0';
        }
        snprintf(canon, sizeof(canon), "%s-%s-SWAP", up, slash + 1);
    } else if (dashes == 0) {
        snprintf(canon, sizeof(canon), "%s-USDT-SWAP", up);
    } else if (dashes == 1) {
        snprintf(canon, sizeof(canon), "%s-SWAP", up);
    } else {
        snprintf(canon, sizeof(canon), "%s", up);
    }
    return strcmp(canon, want) == 0;
}

/* The instance's own value of a list key, read back through its schema
 * (NULL: it has no such key). */
static const at_cfg_list *instance_list(const at_instance *in, const char *key)
{
    for (const at_cfg_field *f = in->lp.schema; in->ctx && f && f->name; f++) {
        if (f->type == AT_CFG_LIST && strcmp(f->name, key) == 0) {
            return (const at_cfg_list *)(const void *)((const char *)in->ctx + f->offset);
        }
    }
    return NULL;
}

/* Shadow and gray release: live_weight parses and names only the trader's
 * symbols; an entry that may go shadow needs shadow_account, an enabled
 * exchange instance other than the account that carries every symbol (its
 * class, paper, is checked at start: it is known once the plugin is up). */
static void check_shadow(engine *e, const conf_section *s, trader_settings *t, conf_errors *errs)
{
    const conf_entry *lw = conf_entry_get(s, "live_weight");
    const conf_entry *sa = conf_entry_get(s, "shadow_account");
    char why[256];
    bool below_one = false;
    if (gray_parse(t->live_weight.items, t->live_weight.n, &t->gray, why, sizeof(why)) != 0) {
        conf_err(errs, e->config_path, lw ? lw->line : s->line, s->name, "live_weight", "%s", why);
        return;
    }
    for (size_t i = 0; i < t->gray.n; i++) {
        const gray_rule *r = &t->gray.r[i];
        below_one |= r->weight < 1;
        bool known = !r->symbol[0];
        for (size_t k = 0; k < t->symbols.n && !known; k++) {
            known = strcasecmp(t->symbols.items[k], r->symbol) == 0;
        }
        if (!known) {
            conf_err(errs, e->config_path, lw->line, s->name, "live_weight",
                     "rule %zu names %s, which is not one of the trader's symbols", i + 1,
                     r->symbol);
        }
    }
    if (t->shadow && lw) {
        log_msg("core", AT_LOG_WARN,
                "%s:%d: [%s] live_weight is ignored: shadow = true sends every entry to the "
                "shadow account",
                e->config_path, lw->line, s->name);
    }
    if (!t->shadow_account) {
        if (t->shadow) {
            const conf_entry *en = conf_entry_get(s, "shadow");
            conf_err(errs, e->config_path, en ? en->line : s->line, s->name, "shadow",
                     "shadow = true needs shadow_account: the paper venue that fills the shadow "
                     "entries (e.g. shadow_account = exchange.paper_shadow)");
        } else if (below_one) {
            conf_err(errs, e->config_path, lw->line, s->name, "live_weight",
                     "a weight below 1 sends entries to shadow: it needs shadow_account (the "
                     "paper venue that fills them)");
        }
        return;
    }
    if (t->account && strcmp(t->shadow_account, t->account) == 0) {
        conf_err(errs, e->config_path, sa->line, s->name, "shadow_account",
                 "%s is the trader's account: the shadow account must be another (paper) venue",
                 t->shadow_account);
        return;
    }
    const at_instance *in = e->instances;
    while (in &&
           !(strcmp(in->name, t->shadow_account) == 0 && strcmp(in->kind_name, "exchange") == 0)) {
        in = in->next;
    }
    if (!in) {
        conf_err(errs, e->config_path, sa->line, s->name, "shadow_account",
                 "no enabled [exchange.*] section named '%s'", t->shadow_account);
        return;
    }
    const at_cfg_list *insts = instance_list(in, "instruments");
    for (size_t k = 0; insts && insts->n > 0 && k < t->symbols.n; k++) {
        bool has = false;
        for (size_t i = 0; i < insts->n && !has; i++) {
            has = item_names(insts->items[i], t->symbols.items[k]);
        }
        if (!has) {
            conf_err(errs, e->config_path, sa->line, s->name, "shadow_account",
                     "%s does not carry %s (add it to its instruments)", t->shadow_account,
                     t->symbols.items[k]);
        }
    }
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
    if (e->opts.replay && replay_edit_conf(e->opts.replay, e->conf, errs) != AT_OK) {
        return AT_ECONFIG;
    }
    if (e->opts.edit_conf && e->opts.edit_conf(e->opts.edit_arg, e->conf, errs) != AT_OK) {
        return AT_ECONFIG;
    }
    const conf_section *core = conf_section_get(e->conf, "core");
    conf_apply(e->config_path, "core", core, core_schema, NULL, &e->core, &e->core_owned, errs);
    check_proxy(e, core, errs);
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
        trader_settings *t = &e->traders[i];
        const char *refs[2] = {t->ai, t->account};
        const char *keys[2] = {"ai", "account"};
        const char *kinds[2] = {"ai", "exchange"};
        for (int k = 0; k < 2; k++) {
            if (!refs[k] || (k == 0 && e->opts.replay)) { /* a replay answers for the AI */
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
        check_prompts(e, s, t, errs);
        check_shadow(e, s, t, errs);
    }
    return errs->n > before ? AT_ECONFIG : AT_OK;
}

const char *engine_core_get(const char *key)
{
    engine *e = engine_current();
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
        return engine_modes[e->core.mode];
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

/* The engine control API (engine_api.h): health, traders, a trader's manual
 * run, pause and resume, the kill switch. Each method reads its params from a
 * JSON object, refuses unknown keys and wrong types naming the key, and
 * answers a JSON text built with jansson. The kill switch goes through
 * risk_breaker's kill_switch.h, the one definition of its file that
 * `aitrader kill-switch` writes too, so the breaker sees no difference. */
#include "engine_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../plugins/risk_breaker/kill_switch.h"
#include "clock.h"
#include "engine_internal.h"
#include "log.h"
#include "trading/session.h"
#include "util.h"

typedef struct api_call {
    engine *e;
    at_instance *inst; /* the caller, NULL for the core */
    json_t *params;    /* an object, empty when none was given */
    const char *code;  /* the error's code */
    char msg[512];     /* and its message */
} api_call;

static int fail(api_call *c, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(api_call *c, int rc, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    c->code = code;
    return rc;
}

/* ------------------------------------------------------------ JSON */

/* A string for the answer: text that is not UTF-8 (a plugin's detail line
 * from the network) gets '?' for its bytes above ASCII rather than failing
 * the whole answer. */
static json_t *jstr(const char *s)
{
    if (!s) {
        return json_null();
    }
    json_t *v = json_string(s);
    if (v) {
        return v;
    }
    char *copy = at_strdup(s);
    for (char *p = copy; p && *p; p++) {
        if ((unsigned char)*p >= 0x80) {
            *p = '?';
        }
    }
    v = copy ? json_string(copy) : NULL;
    free(copy);
    return v;
}

/* o[key] = v (stolen); *ok false once anything failed (v NULL included). */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (!v || !o || json_object_set_new(o, key, v) != 0) {
        *ok = false;
    }
}

static json_t *jint_or_null(bool present, int64_t v)
{
    return present ? json_integer((json_int_t)v) : json_null();
}

/* ------------------------------------------------------------ params */

/* Every key of params is one of `keys` (NULL-terminated). */
static int only_keys(api_call *c, const char *const *keys)
{
    const char *key;
    json_t *v;
    json_object_foreach(c->params, key, v)
    {
        bool known = false;
        for (size_t i = 0; keys[i] && !known; i++) {
            known = strcmp(keys[i], key) == 0;
        }
        if (!known) {
            char list[160] = "";
            for (size_t i = 0; keys[i]; i++) {
                size_t n = strlen(list);
                snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", keys[i]);
            }
            return fail(c, AT_EINVAL, "invalid_params", "'%.48s': unknown key (%s%s)", key,
                        keys[0] ? "expected: " : "this method takes no params",
                        keys[0] ? list : "");
        }
    }
    return AT_OK;
}

/* A string param of at most max bytes; *out NULL when absent and optional. */
static int str_param(api_call *c, const char *key, bool required, size_t max, const char **out)
{
    json_t *v = json_object_get(c->params, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        return required ? fail(c, AT_EINVAL, "invalid_params", "'%s': missing", key) : AT_OK;
    }
    if (!json_is_string(v)) {
        return fail(c, AT_EINVAL, "invalid_params", "'%s': expected a string", key);
    }
    if (json_string_length(v) > max) {
        return fail(c, AT_EINVAL, "invalid_params", "'%s': longer than %zu bytes", key, max);
    }
    if (required && json_string_length(v) == 0) {
        return fail(c, AT_EINVAL, "invalid_params", "'%s': empty", key);
    }
    *out = json_string_value(v);
    return AT_OK;
}

static int bool_param(api_call *c, const char *key, bool *out)
{
    json_t *v = json_object_get(c->params, key);
    if (!v) {
        return fail(c, AT_EINVAL, "invalid_params", "'%s': missing (true or false)", key);
    }
    if (!json_is_boolean(v)) {
        return fail(c, AT_EINVAL, "invalid_params", "'%s': expected true or false", key);
    }
    *out = json_is_true(v);
    return AT_OK;
}

/* Who asked: "alice (ui.dashboard)" when params name someone, else the
 * calling instance. */
static void who(const api_call *c, const char *by, char *out, size_t len)
{
    const char *self = c->inst ? c->inst->name : "core";
    if (by && *by) {
        snprintf(out, len, "%.80s (%s)", by, self);
    } else {
        snprintf(out, len, "%s", self);
    }
}

/* ------------------------------------------------------------ health */

static int m_health(api_call *c, json_t **out)
{
    static const char *const keys[] = {NULL};
    int rc = only_keys(c, keys);
    if (rc != AT_OK) {
        return rc;
    }
    engine *e = c->e;
    bool ok = true, healthy = true;
    json_t *plugins = json_array(), *root = json_object();
    for (const at_instance *in = e->instances; in && ok; in = in->next) {
        healthy &= in->state == AT_STATE_UP;
        json_t *p = json_object();
        put(p, "instance", jstr(in->name), &ok);
        put(p, "module", jstr(in->module), &ok);
        put(p, "kind", jstr(in->kind_name), &ok);
        put(p, "state", jstr(engine_state_name(in->state)), &ok);
        put(p, "detail", jstr(in->detail), &ok);
        ok &= p && json_array_append_new(plugins, p) == 0;
    }
    int64_t up_us = e->started ? clock_now_us() - e->started_us : 0;
    char abi[16];
    snprintf(abi, sizeof(abi), "%d.%d", AT_ABI_MAJOR, AT_ABI_MINOR);
    put(root, "status", json_string(healthy ? "ok" : "degraded"), &ok);
    put(root, "version", json_string(AT_VERSION), &ok);
    put(root, "abi", json_string(abi), &ok);
    put(root, "mode", json_string(engine_modes[e->core.mode]), &ok);
    put(root, "uptime_s", json_integer(up_us > 0 ? up_us / 1000000 : 0), &ok);
    put(root, "plugins", plugins, &ok);
    *out = root;
    return ok ? AT_OK : AT_ENOMEM;
}

/* ------------------------------------------------------------ traders */

static json_t *trader_json(engine *e, size_t i)
{
    const char *name = e->trader_names[i];
    const char *dot = strchr(name, '.');
    const trader_settings *t = &e->traders[i];
    sched *s = e->scheds ? e->scheds[i] : NULL;
    trader *td = e->tdrs ? e->tdrs[i] : NULL;
    sched_stats ss = {.last_ms = INT64_MIN, .next_ms = INT64_MAX};
    trader_stats ts = {0};
    if (s) {
        sched_get_stats(s, &ss);
    }
    if (td) {
        trader_get_stats(td, &ts);
    }
    bool ok = true;
    json_t *o = json_object(), *syms = json_array(), *st = json_object();
    for (size_t k = 0; k < t->symbols.n && ok; k++) {
        ok &= syms && json_array_append_new(syms, jstr(t->symbols.items[k])) == 0;
    }
    put(o, "id", jstr(dot ? dot + 1 : name), &ok);
    put(o, "instance", jstr(name), &ok);
    put(o, "ai", jstr(t->ai), &ok);
    put(o, "account", jstr(t->account), &ok);
    put(o, "symbols", syms, &ok);
    put(o, "shadow", json_boolean(t->shadow), &ok);
    json_t *lw = json_array();
    for (size_t k = 0; k < t->gray.n && lw; k++) {
        char rule[96];
        gray_rule_text(&t->gray.r[k], rule, sizeof(rule));
        ok &= json_array_append_new(lw, json_string(rule)) == 0;
    }
    put(o, "shadow_account", jstr(t->shadow_account), &ok);
    put(o, "live_weight", lw, &ok);
    /* starting: its stored triggers and pause are still being read */
    put(o, "state",
        json_string(!s           ? "stopped"
                    : !ss.loaded ? "starting"
                    : ss.paused  ? "paused"
                                 : "running"),
        &ok);
    put(o, "mode", json_string(ss.short_mode ? "short" : "long"), &ok);
    put(o, "in_flight", json_integer((json_int_t)ss.in_flight), &ok);
    /* A paused scheduler's timer still runs, but no call comes of it. */
    put(o, "next_call_ms", jint_or_null(s && !ss.paused && ss.next_ms != INT64_MAX, ss.next_ms),
        &ok);
    put(o, "last_trigger_ms", jint_or_null(ss.last_ms != INT64_MIN, ss.last_ms), &ok);
    if (ss.paused) {
        json_t *p = json_object();
        put(p, "since_ms", json_integer(ss.paused_ms), &ok);
        put(p, "by", jstr(ss.paused_by), &ok);
        put(p, "reason", jstr(ss.paused_reason), &ok);
        put(o, "pause", p, &ok);
    } else {
        put(o, "pause", json_null(), &ok);
    }
    put(st, "triggers", json_integer((json_int_t)ss.triggers), &ok);
    put(st, "manual_runs", json_integer((json_int_t)ss.manual), &ok);
    put(st, "skipped_paused", json_integer((json_int_t)ss.skipped), &ok);
    put(st, "over_budget", json_integer((json_int_t)ss.over_budget), &ok);
    put(st, "merged", json_integer((json_int_t)ss.merged), &ok);
    put(st, "late", json_integer((json_int_t)ss.late), &ok);
    put(st, "decisions", json_integer((json_int_t)ts.decisions), &ok);
    put(st, "invalid", json_integer((json_int_t)ts.invalid), &ok);
    put(st, "retries", json_integer((json_int_t)ts.retries), &ok);
    put(st, "intents", json_integer((json_int_t)ts.intents), &ok);
    put(st, "stale_refused", json_integer((json_int_t)ts.stale_refused), &ok);
    put(st, "giveback_closes", json_integer((json_int_t)ts.giveback_closes), &ok);
    put(st, "live_entries", json_integer((json_int_t)ts.live_entries), &ok);
    put(st, "shadow_entries", json_integer((json_int_t)ts.shadow_entries), &ok);
    put(st, "shadow_closes", json_integer((json_int_t)ts.shadow_closes), &ok);
    put(st, "cost_day_usd", json_real(ss.cost_day), &ok);
    put(o, "stats", st, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int m_traders(api_call *c, json_t **out)
{
    static const char *const keys[] = {NULL};
    int rc = only_keys(c, keys);
    if (rc != AT_OK) {
        return rc;
    }
    json_t *arr = json_array();
    bool ok = arr != NULL;
    for (size_t i = 0; i < c->e->ntraders && ok; i++) {
        json_t *t = trader_json(c->e, i);
        ok = t && json_array_append_new(arr, t) == 0;
    }
    *out = arr;
    return ok ? AT_OK : AT_ENOMEM;
}

/* params.trader ("alpha" or "trader.alpha") → its index. */
static int find_trader(api_call *c, size_t *idx)
{
    const char *id;
    int rc = str_param(c, "trader", true, AT_ID_LEN, &id);
    if (rc != AT_OK) {
        return rc;
    }
    for (size_t i = 0; i < c->e->ntraders; i++) {
        const char *name = c->e->trader_names[i];
        const char *dot = strchr(name, '.');
        if (strcmp(name, id) == 0 || (dot && strcmp(dot + 1, id) == 0)) {
            *idx = i;
            return AT_OK;
        }
    }
    char list[256] = "";
    for (size_t i = 0; i < c->e->ntraders; i++) {
        const char *dot = strchr(c->e->trader_names[i], '.');
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
                 dot ? dot + 1 : c->e->trader_names[i]);
    }
    return fail(c, AT_ENOENT, "not_found", "no trader '%.48s' (traders: %s)", id,
                list[0] ? list : "none");
}

/* Shadow against live per trader and symbol (engine_shadow.c);
 * params.trader optional. */
static int m_shadow(api_call *c, json_t **out)
{
    static const char *const keys[] = {"trader", NULL};
    size_t i = SIZE_MAX;
    int rc = only_keys(c, keys);
    if (rc == AT_OK && json_object_get(c->params, "trader")) {
        rc = find_trader(c, &i);
    }
    if (rc != AT_OK) {
        return rc;
    }
    json_t *rows = engine_shadow_rows(c->e, i);
    *out = rows ? json_object() : NULL;
    if (!*out) {
        json_decref(rows);
        return AT_ENOMEM;
    }
    return json_object_set_new(*out, "traders", rows) == 0 ? AT_OK : AT_ENOMEM;
}

/* The trader's scheduler, or AT_ESTATE when the engine runs none. */
static int trader_sched(api_call *c, size_t i, sched **s)
{
    *s = c->e->scheds ? c->e->scheds[i] : NULL;
    return *s ? AT_OK
              : fail(c, AT_ESTATE, "not_ready", "trader %s is not running", c->e->trader_names[i]);
}

static int m_trader_run(api_call *c, json_t **out)
{
    static const char *const keys[] = {"trader", "by", NULL};
    size_t i = 0;
    sched *s;
    const char *by;
    int rc = only_keys(c, keys);
    if (rc == AT_OK) {
        rc = find_trader(c, &i);
    }
    if (rc == AT_OK) {
        rc = str_param(c, "by", false, 80, &by);
    }
    if (rc == AT_OK) {
        rc = trader_sched(c, i, &s);
    }
    if (rc != AT_OK) {
        return rc;
    }
    char asker[128], key[AT_ID_LEN];
    const char *code = NULL;
    who(c, by, asker, sizeof(asker));
    rc = sched_run_now(s, asker, key, &code, c->msg, sizeof(c->msg));
    if (rc != AT_OK) {
        c->code = code ? code : "state";
        return rc;
    }
    const char *dot = strchr(c->e->trader_names[i], '.');
    *out = json_pack("{s:s, s:s, s:s}", "trader", dot ? dot + 1 : c->e->trader_names[i], "key", key,
                     "reason", "manual run");
    return *out ? AT_OK : AT_ENOMEM;
}

static int set_paused(api_call *c, json_t **out, bool paused)
{
    static const char *const keys[] = {"trader", "by", "reason", NULL};
    size_t i = 0;
    sched *s;
    const char *by = NULL, *reason = NULL;
    int rc = only_keys(c, keys);
    if (rc == AT_OK) {
        rc = find_trader(c, &i);
    }
    if (rc == AT_OK) {
        rc = str_param(c, "by", false, 80, &by);
    }
    if (rc == AT_OK) {
        rc = str_param(c, "reason", false, 200, &reason);
    }
    if (rc == AT_OK) {
        rc = trader_sched(c, i, &s);
    }
    if (rc != AT_OK) {
        return rc;
    }
    char asker[128];
    bool changed = false;
    who(c, by, asker, sizeof(asker));
    rc = sched_set_paused(s, paused, asker, reason, &changed, c->msg, sizeof(c->msg));
    if (rc != AT_OK) {
        c->code = "not_ready";
        return rc;
    }
    json_t *o = trader_json(c->e, i);
    bool ok = o != NULL;
    put(o, "changed", json_boolean(changed), &ok);
    *out = o;
    return ok ? AT_OK : AT_ENOMEM;
}

static int m_trader_pause(api_call *c, json_t **out)
{
    return set_paused(c, out, true);
}

static int m_trader_resume(api_call *c, json_t **out)
{
    return set_paused(c, out, false);
}

/* ------------------------------------------------------------ kill switch */

/* A [risk.breaker] instance reads the file; without one it stops nothing. */
static bool ks_watched(const engine *e)
{
    bool watched = false;
    for (const at_instance *in = e->instances; in; in = in->next) {
        watched |= in->lp.plugin && in->lp.plugin->kind == AT_KIND_RISK &&
                   strcmp(in->lp.plugin->name, "breaker") == 0;
    }
    return watched;
}

static int ks_answer(api_call *c, const char *file, json_t **out)
{
    ks_state st;
    ks_read(file, &st); /* an unreadable file is on, with the reason: said as is */
    bool ok = true;
    json_t *o = json_object();
    put(o, "on", json_boolean(st.on), &ok);
    put(o, "since_ms", jint_or_null(st.since_ms > 0, st.since_ms), &ok);
    put(o, "by", jstr(st.by), &ok);
    put(o, "reason", jstr(st.reason), &ok);
    put(o, "present", json_boolean(st.present), &ok);
    put(o, "file", jstr(file), &ok);
    put(o, "watched", json_boolean(ks_watched(c->e)), &ok);
    *out = o;
    return ok ? AT_OK : AT_ENOMEM;
}

static int m_kill_switch_get(api_call *c, json_t **out)
{
    static const char *const keys[] = {NULL};
    int rc = only_keys(c, keys);
    if (rc != AT_OK) {
        return rc;
    }
    char file[4096];
    if (!ks_path(c->e->core.data_dir, file, sizeof(file))) {
        return fail(c, AT_EIO, "io_error", "data_dir is too long");
    }
    return ks_answer(c, file, out);
}

static int m_kill_switch_set(api_call *c, json_t **out)
{
    static const char *const keys[] = {"on", "by", "reason", NULL};
    bool on = false;
    const char *by = NULL, *reason = NULL;
    int rc = only_keys(c, keys);
    if (rc == AT_OK) {
        rc = bool_param(c, "on", &on);
    }
    if (rc == AT_OK) {
        rc = str_param(c, "by", false, 80, &by);
    }
    if (rc == AT_OK) {
        rc = str_param(c, "reason", false, 200, &reason);
    }
    if (rc != AT_OK) {
        return rc;
    }
    const char *dir = c->e->core.data_dir;
    char file[4096], asker[128], err[256];
    if (!ks_path(dir, file, sizeof(file))) {
        return fail(c, AT_EIO, "io_error", "data_dir is too long");
    }
    who(c, by, asker, sizeof(asker));
    const char *why = reason && *reason ? reason : "no reason given";
    /* Wall time, as the CLI writes: people read it, on any clock. */
    if (ks_write(dir, on, at_wall_us() / 1000, asker, why, err, sizeof(err)) != 0) {
        log_msg("core", AT_LOG_ERROR, "kill switch not switched %s by %s: %s: %s",
                on ? "on" : "off", asker, file, err);
        return fail(c, AT_EIO, "io_error", "%s: %s", file, err);
    }
    bool watched = ks_watched(c->e);
    log_msg("core", on ? AT_LOG_WARN : AT_LOG_INFO, "kill switch %s by %s: %s (%s)%s",
            on ? "ON" : "off", asker, why, file,
            !watched ? "; no [risk.breaker] instance runs: nothing reads it"
            : on     ? "; risk.breaker refuses new entries from its next check (closes pass)"
                     : "; risk.breaker lets entries pass again from its next check");
    return ks_answer(c, file, out);
}

/* ------------------------------------------------------------ dispatch */

/* recorded: a change a session recording keeps (a "control" line) for the
 * replay to make again; a manual run is its trigger line instead */
static const struct {
    const char *name;
    int (*fn)(api_call *c, json_t **out);
    bool recorded;
} methods[] = {
    {"health", m_health, false},
    {"traders", m_traders, false},
    {"trader.run", m_trader_run, false},
    {"trader.pause", m_trader_pause, true},
    {"trader.resume", m_trader_resume, true},
    {"shadow", m_shadow, false},
    {"kill_switch.get", m_kill_switch_get, false},
    {"kill_switch.set", m_kill_switch_set, true},
};

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static int dispatch(api_call *c, const char *method, const char *params, json_t **out)
{
    if (!c->e || !c->e->started) {
        return fail(c, AT_ESTATE, "not_ready", "the engine is not running");
    }
    if (!method || !*method) {
        return fail(c, AT_EINVAL, "invalid_params", "no method given");
    }
    size_t m = 0;
    while (m < NMETHODS && strcmp(methods[m].name, method) != 0) {
        m++;
    }
    if (m == NMETHODS) {
        char list[256] = "";
        for (size_t i = 0; i < NMETHODS; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", methods[i].name);
        }
        return fail(c, AT_ENOENT, "unknown_method", "unknown method '%.64s' (methods: %s)", method,
                    list);
    }
    if (params) {
        json_error_t jerr;
        c->params = json_loads(params, JSON_REJECT_DUPLICATES, &jerr);
        if (!c->params) {
            return fail(c, AT_EINVAL, "invalid_params", "params: not JSON: %s (column %d)",
                        jerr.text, jerr.column);
        }
        if (!json_is_object(c->params)) {
            return fail(c, AT_EINVAL, "invalid_params", "params: expected a JSON object");
        }
    } else {
        c->params = json_object();
        if (!c->params) {
            return AT_ENOMEM;
        }
    }
    int rc = methods[m].fn(c, out);
    if (rc == AT_OK && methods[m].recorded && c->e->rec) {
        session_rec_control(c->e->rec, c->inst ? c->inst->name : "core", methods[m].name,
                            c->params);
    }
    return rc;
}

int engine_api_call(at_instance *inst, const char *method, const char *params, char **result)
{
    if (!result) {
        return AT_EINVAL;
    }
    *result = NULL;
    api_call c = {.e = engine_current(), .inst = inst};
    json_t *answer = NULL;
    int rc = dispatch(&c, method, params, &answer);
    json_decref(c.params);
    if (rc == AT_ENOMEM) {
        json_decref(answer);
        return AT_ENOMEM;
    }
    if (rc != AT_OK) {
        json_decref(answer);
        bool ok = true;
        answer = json_object();
        put(answer, "code", json_string(c.code ? c.code : "error"), &ok);
        /* jstr: a message echoing input may be cut inside a UTF-8 sequence */
        put(answer, "message", jstr(c.msg[0] ? c.msg : at_strerror(rc)), &ok);
        if (!ok) {
            json_decref(answer);
            answer = NULL;
        }
    }
    *result = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    json_decref(answer);
    return *result ? rc : AT_ENOMEM;
}

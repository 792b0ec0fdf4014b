/* The scheduler's edges: the `triggers` table (history read at start, one row
 * per trigger), `trader_state` (the pause, read at start after the history,
 * before anything fires), the JSON of the indicator values behind a trigger, and the
 * TRIGGER / ALERT events. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dbcol.h"
#include "engine.h"
#include "sched_internal.h"
#include "util.h"

/* ------------------------------------------------------------ history */

/* A REAL column: SQLite gives a double (or an integer), PostgreSQL text. */
static double col_real(const at_db_value *v)
{
    double x = 0;
    if (v->type == AT_DB_REAL) {
        x = v->u.r;
    } else if (v->type == AT_DB_INT) {
        x = (double)v->u.i;
    } else if (v->type == AT_DB_TEXT && v->u.s) {
        x = strtod(v->u.s, NULL);
    }
    return isfinite(x) && x > 0 ? x : 0;
}

static int on_history_row(void *arg, const at_db_row *row)
{
    sched *s = arg;
    int64_t ts;
    if (row->ncols < 5 || row->cols[0].type != AT_DB_TEXT || !dbcol_int(row, 1, &ts)) {
        return 0;
    }
    sched_hist_push(s, ts, row->cols[0].u.s);
    int64_t done;
    bool decided = dbcol_int(row, 3, &done);
    if (decided && done > s->load_done_ms) {
        s->load_done_ms = done;
    }
    sched_cost_add(s, decided ? done : ts, col_real(&row->cols[4]));
    /* Rows come ordered by time: the last one seen is the latest trigger. */
    s->have_last = true;
    s->load_last_ms = ts;
    s->load_last_short = dbcol_bool(row, 2);
    return 0;
}

static void history_read(sched *s)
{
    sched_loaded(s, s->have_last, s->load_last_ms, s->load_last_short);
}

static int on_state_row(void *arg, const at_db_row *row)
{
    sched *s = arg;
    int64_t ts = 0, changes = 0;
    dbcol_int(row, 1, &ts);
    dbcol_int(row, 4, &changes);
    s->paused = dbcol_bool(row, 0);
    s->paused_ms = ts;
    s->state_changes = changes;
    const char *by = dbcol_text(row, 2), *reason = dbcol_text(row, 3);
    snprintf(s->paused_by, sizeof(s->paused_by), "%s", by ? by : "");
    snprintf(s->paused_reason, sizeof(s->paused_reason), "%s", reason ? reason : "");
    return 0;
}

static void on_state_done(void *arg, int err, const char *error)
{
    sched *s = arg;
    s->querying = false;
    if (s->freed) {
        sched_free_now(s);
        return;
    }
    if (err != AT_OK) {
        s->h->log(s->inst, AT_LOG_WARN,
                  "cannot read whether the trader was paused (%s): it runs until paused again",
                  error ? error : at_strerror(err));
    }
    if (s->running) {
        history_read(s);
    }
}

/* The pause state, before anything can fire: a paused trader must not
 * trigger once at every restart. */
static void load_state(sched *s)
{
    at_db_value p[1] = {AT_DB_S(s->trader)};
    s->querying = true;
    int rc = s->h->db_query(s->inst,
                            "SELECT paused, ts_ms, changed_by, reason, changes FROM trader_state "
                            "WHERE trader = $1",
                            p, 1, on_state_row, on_state_done, s);
    if (rc < 0) {
        if (rc != AT_ESTATE) {
            s->h->log(s->inst, AT_LOG_WARN,
                      "cannot read whether the trader was paused (%s): it runs until paused "
                      "again",
                      at_strerror(rc));
        }
        s->querying = false;
        history_read(s);
    }
}

static void on_history_done(void *arg, int err, const char *error)
{
    sched *s = arg;
    s->querying = false;
    if (s->freed) {
        sched_free_now(s);
        return;
    }
    if (err != AT_OK) {
        s->h->log(s->inst, AT_LOG_WARN,
                  "cannot read past triggers (%s): starting without history, a trigger of "
                  "the current window may repeat",
                  error ? error : at_strerror(err));
    }
    if (s->running) {
        load_state(s);
    }
}

void sched_load_history(sched *s, int64_t since_ms)
{
    at_db_value p[2] = {AT_DB_S(s->trader), AT_DB_I(since_ms)};
    s->have_last = false;
    s->hstart = s->hn = 0; /* a restart after a stop reads it all again */
    s->load_done_ms = s->done_ms = INT64_MIN;
    sched_costs_reset(s);
    s->querying = true;
    int rc = s->h->db_query(s->inst,
                            "SELECT key, ts_ms, short_mode, decided_ms, cost_usd FROM triggers "
                            "WHERE trader = $1 AND (ts_ms > $2 OR decided_ms > $2) "
                            "ORDER BY ts_ms, key",
                            p, 2, on_history_row, on_history_done, s);
    if (rc < 0) {
        /* No storage: the schedule lives in memory only. */
        if (rc != AT_ESTATE) {
            s->h->log(s->inst, AT_LOG_WARN,
                      "cannot read past triggers (%s): starting without history, a trigger of "
                      "the current window may repeat",
                      at_strerror(rc));
        }
        s->querying = false;
        sched_loaded(s, false, 0, false);
    }
}

/* ------------------------------------------------------------- storing */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void bar_name(int64_t bar_s, char *out, size_t n)
{
    if (bar_s > 0 && bar_s % 86400 == 0) {
        snprintf(out, n, "%" PRId64 "d", bar_s / 86400);
    } else if (bar_s > 0 && bar_s % 3600 == 0) {
        snprintf(out, n, "%" PRId64 "h", bar_s / 3600);
    } else if (bar_s > 0 && bar_s % 60 == 0) {
        snprintf(out, n, "%" PRId64 "m", bar_s / 60);
    } else {
        snprintf(out, n, "%" PRId64 "s", bar_s);
    }
}

/* {"indicators": {SYMBOL: {"1m": {"bar_open_ms":…, "rsi14":…, …}}}, "signal": {…}} */
static char *trigger_json(const sched *s, const sched_signal *sig)
{
    json_t *root = json_object(), *inds = json_object();
    for (size_t i = 0; i < s->nsym; i++) {
        json_t *bars = NULL;
        for (size_t b = 0; b < SCHED_MAX_BARS; b++) {
            const at_ev_indicator *ev = s->sym[i].latest[b];
            if (!ev) {
                continue;
            }
            json_t *o = json_object();
            json_object_set_new(o, "bar_open_ms", json_integer(ev->bar_open_ms));
            for (uint32_t k = 0; k < ev->n && k < AT_IND_MAX; k++) {
                json_object_set_new(o, ev->v[k].name, num(ev->v[k].value));
            }
            char name[24];
            bar_name(ev->bar_s, name, sizeof(name));
            if (!bars) {
                bars = json_object();
            }
            json_object_set_new(bars, name, o);
        }
        if (bars) {
            json_object_set_new(inds, s->sym[i].name, bars);
        }
    }
    json_object_set_new(root, "indicators", inds);
    if (sig) {
        json_t *o = json_object();
        json_object_set_new(o, "inst", json_string(sig->inst_name));
        json_object_set_new(o, "indicator", json_string(sig->indicator));
        json_object_set_new(o, "dir",
                            json_string(sig->dir == AT_SIG_UP     ? "up"
                                        : sig->dir == AT_SIG_DOWN ? "down"
                                                                  : "spike"));
        json_object_set_new(o, "value", num(sig->value));
        json_object_set_new(o, "threshold", num(sig->threshold));
        json_object_set_new(o, "salience", num(sig->salience));
        json_object_set_new(o, "merged", json_integer(s->pend_merged));
        if (sig->news_id[0]) {
            json_object_set_new(o, "news_id", json_string(sig->news_id));
            json_object_set_new(o, "title", json_string(sig->title));
        }
        json_object_set_new(root, "signal", o);
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    return text;
}

/* arg is the instance, not the scheduler: instances live until engine_free,
 * so a write that completes while the engine stops has something to log on. */
static void on_stored(void *arg, int err, const char *error)
{
    if (err != AT_OK) {
        engine_host()->log(arg, AT_LOG_ERROR, "trigger not stored: %s",
                           error ? error : at_strerror(err));
    }
}

void sched_store_trigger(sched *s, const char *key, int64_t ts_ms, const char *reason,
                         double salience, bool short_mode, const sched_signal *sig)
{
    char *json = trigger_json(s, sig);
    at_db_value p[8] = {AT_DB_S(key),    AT_DB_S(s->trader),         AT_DB_I(ts_ms),
                        AT_DB_S(reason), AT_DB_R(salience),          AT_DB_B(short_mode),
                        AT_DB_S(json),   AT_DB_I(s->cfg.deadline_ms)};
    int rc = s->h->db_write(s->inst,
                            "INSERT INTO triggers (key, trader, ts_ms, reason, salience, "
                            "short_mode, indicators_json, deadline_ms) VALUES ($1, $2, $3, $4, "
                            "$5, $6, $7, $8) ON CONFLICT (key) DO NOTHING",
                            p, 8, on_stored, s->inst);
    if (rc < 0 && rc != AT_ESTATE) {
        s->h->log(s->inst, AT_LOG_ERROR, "trigger %s not stored: %s", key, at_strerror(rc));
    }
    free(json);
}

static void on_state_stored(void *arg, int err, const char *error)
{
    if (err != AT_OK) {
        engine_host()->log(arg, AT_LOG_ERROR, "pause state not stored: %s",
                           error ? error : at_strerror(err));
    }
}

/* The pause state's row (one per trader) and the change in audit_log, whose
 * id goes on with the stored count of changes. */
void sched_store_state(sched *s)
{
    int64_t now = s->paused_ms;
    at_db_value p[6] = {
        AT_DB_S(s->trader),    AT_DB_B(s->paused),        AT_DB_I(now),
        AT_DB_S(s->paused_by), AT_DB_S(s->paused_reason), AT_DB_I(s->state_changes)};
    int rc = s->h->db_write(s->inst,
                            "INSERT INTO trader_state (trader, paused, ts_ms, changed_by, reason, "
                            "changes) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (trader) DO "
                            "UPDATE SET paused = excluded.paused, ts_ms = excluded.ts_ms, "
                            "changed_by = excluded.changed_by, reason = excluded.reason, changes "
                            "= excluded.changes",
                            p, 6, on_state_stored, s->inst);
    if (rc < 0 && rc != AT_ESTATE) {
        s->h->log(s->inst, AT_LOG_ERROR, "pause state not stored: %s: it lasts until a restart",
                  at_strerror(rc));
        return;
    }
    const char *self = s->h->instance_name(s->inst);
    const char *kind = s->paused ? "trader.pause" : "trader.resume";
    char *id = at_asprintf("%s/%s/%" PRId64, self, kind, s->state_changes);
    char *msg = at_asprintf("%s %s by %s%s%s", s->trader, s->paused ? "paused" : "resumed",
                            s->paused_by[0] ? s->paused_by : "?", s->paused_reason[0] ? ": " : "",
                            s->paused_reason);
    json_t *o = json_pack("{s:s, s:b, s:s, s:s}", "trader", s->trader, "paused", s->paused, "by",
                          s->paused_by, "reason", s->paused_reason);
    char *data = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (id && msg && data) {
        at_db_value a[6] = {AT_DB_S(id),   AT_DB_I(now), AT_DB_S(self),
                            AT_DB_S(kind), AT_DB_S(msg), AT_DB_S(data)};
        rc = s->h->db_write(s->inst,
                            "INSERT INTO audit_log (id, ts_ms, instance, kind, message, "
                            "data_json) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO "
                            "NOTHING",
                            a, 6, on_state_stored, s->inst);
    }
    if (!id || !msg || !data || (rc < 0 && rc != AT_ESTATE)) {
        s->h->log(s->inst, AT_LOG_ERROR, "the pause change is not in audit_log: %s",
                  at_strerror(id && msg && data ? rc : AT_ENOMEM));
    }
    free(id);
    free(msg);
    free(data);
}

/* The answering decision on its trigger's row (several add up their cost). */
void sched_store_decision(sched *s, const char *key, const char *decision_id, int64_t ts_ms,
                          double cost_usd)
{
    at_db_value p[4] = {AT_DB_I(ts_ms), AT_DB_S(decision_id), AT_DB_R(cost_usd), AT_DB_S(key)};
    int rc = s->h->db_write(s->inst,
                            "UPDATE triggers SET decided_ms = $1, decision_id = $2, cost_usd = "
                            "COALESCE(cost_usd, 0) + $3 WHERE key = $4",
                            p, 4, on_stored, s->inst);
    if (rc < 0 && rc != AT_ESTATE) {
        s->h->log(s->inst, AT_LOG_ERROR, "decision of %s not stored: %s", key, at_strerror(rc));
    }
}

/* -------------------------------------------------------------- events */

void sched_publish_trigger(sched *s, const char *key, const char *reason, double salience,
                           bool short_mode)
{
    at_ev_trigger *ev =
        (at_ev_trigger *)s->h->event_new(s->inst, AT_EV_TRIGGER, strlen(reason) + 1);
    if (!ev) {
        s->h->log(s->inst, AT_LOG_ERROR, "out of memory: trigger %s not published", key);
        return;
    }
    snprintf(ev->trader, sizeof(ev->trader), "%s", s->trader);
    snprintf(ev->key, sizeof(ev->key), "%s", key);
    ev->reason = s->h->event_strdup(&ev->h, reason);
    ev->salience = salience;
    ev->short_mode = short_mode;
    ev->deadline_ms = s->cfg.deadline_ms;
    s->h->publish(s->inst, &ev->h, 0);
}

void sched_publish_alert(sched *s, const char *msg)
{
    at_ev_alert *ev = (at_ev_alert *)s->h->event_new(s->inst, AT_EV_ALERT, strlen(msg) + 1);
    if (ev) {
        ev->level = AT_LOG_WARN;
        ev->message = s->h->event_strdup(&ev->h, msg);
        s->h->publish(s->inst, &ev->h, 0);
    }
}

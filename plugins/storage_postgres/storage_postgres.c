/* storage_postgres: PostgreSQL storage backend, [storage.postgres].
 *
 * All work runs on the main loop with libpq in non-blocking pipeline mode;
 * see pg.h for the structure. Behaviour a caller relies on:
 *  - write: FIFO, never dropped. While the server is away writes wait in
 *    memory up to queue_max, then in the journal file (fsync'd), replayed in
 *    order once connected. `done` fires after the COMMIT that contains the
 *    write, or with AT_EDB for a statement the server refuses (that write
 *    only). A write in flight when the connection dropped that then fails
 *    with unique_violation counts as already applied.
 *  - query: after every write queued before it; while disconnected it waits
 *    up to query_timeout, then fails with AT_EIO.
 *  - flush: done once every earlier write is committed or failed.
 *  - stop: keeps sending for up to stop_timeout, then journals what is left
 *    (replayed at the next start). The `done` of each write still pending
 *    then fires with AT_EAGAIN ("journaled"); pending queries fail with
 *    AT_EIO; pending flushes complete with AT_OK and a message saying that
 *    the earlier writes were journaled, not committed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg.h"

int64_t pg_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void pg_gauges(pg *p)
{
    if (p->m_qdepth) {
        p->host->metric_set(p->m_qdepth, (double)p->mem_writes);
    }
    if (p->m_jdepth) {
        p->host->metric_set(p->m_jdepth, (double)p->journal_pending);
    }
}

void pg_report(pg *p)
{
    if (p->stopping) {
        return;
    }
    if (p->cstate == PG_READY) {
        p->host->set_state(p->inst, AT_STATE_UP, "connected");
        return;
    }
    char detail[400];
    snprintf(detail, sizeof(detail), "disconnected: %s; %zu queued, %zu journaled",
             p->reason[0] ? p->reason : "connecting", p->mem_writes, p->journal_pending);
    p->host->set_state(p->inst, AT_STATE_DEGRADED, detail);
}

void pg_fire(pg *p)
{
    while (p->fin_head) {
        pg_item *it = p->fin_head;
        p->fin_head = it->next;
        if (!p->fin_head) {
            p->fin_tail = NULL;
        }
        if (it->done) {
            it->done(it->arg, it->err, it->errmsg);
        }
        pg_item_free(it);
    }
}

static void on_kick(void *arg)
{
    pg *p = arg;
    p->kick_timer = NULL; /* one-shot: freed by the host after this */
    pg_journal_sync(p);   /* once per loop turn, for every append of the turn */
    pg_pump(p);
    pg_fire(p);
}

void pg_kick(pg *p)
{
    if (!p->kick_timer && !p->stopping && p->started) {
        p->kick_timer = p->host->timer_add(p->inst, 0, 0, on_kick, p);
    }
}

static void cancel_timers(pg *p)
{
    at_timer **timers[] = {&p->kick_timer, &p->retry_timer, &p->connect_timer, &p->query_timer};
    for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
        if (*timers[i]) {
            p->host->timer_cancel(*timers[i]);
            *timers[i] = NULL;
        }
    }
}

/* ------------------------------------------------------------------ ops */

static int op_write(void *ctx, const char *sql, const at_db_value *params, size_t n,
                    at_db_done_cb done, void *arg)
{
    pg *p = ctx;
    if (!p->started) {
        return AT_ESTATE;
    }
    pg_item *it;
    int err = pg_item_new(p, PG_WRITE, sql, params, n, &it);
    if (err != AT_OK) {
        return err;
    }
    it->done = done;
    it->arg = arg;
    if (p->jspill || p->mem_writes >= (size_t)p->queue_max) {
        if (!p->jspill) {
            p->host->log(p->inst, AT_LOG_WARN,
                         "%zu writes held in memory (queue_max): spilling to journal %s",
                         p->mem_writes, p->journal_path);
        }
        /* on failure the write stays in memory: late beats lost */
        pg_journal_append(p, it);
    }
    pg_queue_push(p, it);
    pg_kick(p);
    pg_gauges(p);
    return AT_OK;
}

static int op_query(void *ctx, const char *sql, const at_db_value *params, size_t n,
                    at_db_row_cb row, at_db_done_cb done, void *arg)
{
    pg *p = ctx;
    if (!p->started) {
        return AT_ESTATE;
    }
    pg_item *it;
    int err = pg_item_new(p, PG_QUERY, sql, params, n, &it);
    if (err != AT_OK) {
        return err;
    }
    it->row = row;
    it->done = done;
    it->arg = arg;
    pg_queue_push(p, it);
    if (p->cstate != PG_READY) {
        it->deadline_us = p->host->now_us() + p->query_timeout_ms * 1000;
        if (!p->query_timer) {
            pg_query_timer_arm(p);
        }
    }
    pg_kick(p);
    return AT_OK;
}

static int op_flush(void *ctx, at_db_done_cb done, void *arg)
{
    pg *p = ctx;
    if (!p->started) {
        return AT_ESTATE;
    }
    pg_item *it;
    int err = pg_item_new(p, PG_FLUSH, NULL, NULL, 0, &it);
    if (err != AT_OK) {
        return err;
    }
    it->done = done;
    it->arg = arg;
    pg_queue_push(p, it);
    pg_kick(p);
    return AT_OK;
}

/* ------------------------------------------------------------ lifecycle */

/* What the schema cannot say; run by check-config and by init alike. The
 * conninfo is a secret: libpq's parse error quotes fragments of it (a
 * password among them), so the reason does not repeat it. */
static int pg_check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const pg *p = ctx;
    if (p->reconnect_max_ms < p->reconnect_min_ms) {
        *key = "reconnect_max";
        snprintf(why, whylen, "%lld ms is below reconnect_min (%lld ms)",
                 (long long)p->reconnect_max_ms, (long long)p->reconnect_min_ms);
        return AT_ECONFIG;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(p->conninfo ? p->conninfo : "", &perr);
    if (!opts) {
        bool parse_error = perr != NULL;
        PQfreemem(perr);
        *key = "conninfo";
        snprintf(why, whylen, "%s",
                 parse_error ? "not a valid libpq connection string or URI (key=value pairs, or "
                               "postgresql://user@host:port/dbname)"
                             : "out of memory");
        return parse_error ? AT_ECONFIG : AT_ENOMEM;
    }
    PQconninfoFree(opts);
    return AT_OK;
}

static int pg_init(at_instance *inst, const at_host *host, void *ctx)
{
    pg *p = ctx;
    p->inst = inst;
    p->host = host;
    p->jfd = -1;
    p->watch_fd = -1;
    p->rng = (uint64_t)pg_mono_us() ^ (uint64_t)(uintptr_t)p ^ 0x9e3779b97f4a7c15ull;
    if (p->rng == 0) {
        p->rng = 1;
    }
    const char *key = NULL;
    char why[256];
    if (pg_check_config(p, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s: %s", key ? key : "config", why);
        return AT_ECONFIG;
    }
    if (p->journal && *p->journal) {
        p->journal_path = strdup(p->journal);
    } else {
        const char *dir = host->core_get("data_dir");
        const char *name = host->instance_name(inst);
        const char *dot = name ? strchr(name, '.') : NULL;
        if (!dir || !*dir) {
            host->log(inst, AT_LOG_ERROR, "[core] data_dir is not set: set journal = PATH");
            return AT_ECONFIG;
        }
        size_t len = strlen(dir) + strlen(dot ? dot + 1 : "postgres") + 32;
        p->journal_path = malloc(len);
        if (p->journal_path) {
            snprintf(p->journal_path, len, "%s/pg-journal-%s.log", dir, dot ? dot + 1 : "postgres");
        }
    }
    return p->journal_path ? AT_OK : AT_ENOMEM;
}

static int pg_start(void *ctx)
{
    pg *p = ctx;
    const at_host *h = p->host;
    p->m_writes =
        h->metric(p->inst, AT_METRIC_COUNTER, "aitrader_storage_writes_total", "Writes committed");
    p->m_errors = h->metric(p->inst, AT_METRIC_COUNTER, "aitrader_storage_write_errors_total",
                            "Writes that failed for good (constraint, bad SQL)");
    p->m_qdepth = h->metric(p->inst, AT_METRIC_GAUGE, "aitrader_storage_queue_depth",
                            "Writes held in memory, not yet committed");
    p->m_jdepth = h->metric(p->inst, AT_METRIC_GAUGE, "aitrader_storage_journal_depth",
                            "Writes held in the journal file, not yet committed");
    p->m_reconnects = h->metric(p->inst, AT_METRIC_COUNTER, "aitrader_storage_reconnects_total",
                                "Connection attempts after a failure or a lost connection");
    p->m_commit = h->metric(p->inst, AT_METRIC_HISTOGRAM, "aitrader_storage_commit_us",
                            "Time to run and commit one batch, microseconds");
    int err = pg_migrations_load(p);
    if (err == AT_OK) {
        err = pg_journal_load(p);
    }
    if (err != AT_OK) {
        return err;
    }
    p->started = true;
    pg_gauges(p);
    /* Returns at once; the loop carries the connection from here. The state
     * stays UP (writes are accepted) until an attempt fails: DEGRADED then. */
    pg_conn_start(p);
    return AT_OK;
}

static void pg_stop(void *ctx)
{
    pg *p = ctx;
    if (!p->started) {
        return;
    }
    p->stopping = true;
    /* the engine frees this instance's timers after stop: forget ours now */
    cancel_timers(p);
    pg_journal_sync(p);
    pg_stop_drive(p);
    if (p->unit.kind != U_NONE) {
        pg_pipe_abandon(p);
    }
    pg_conn_close(p);
    cancel_timers(p);

    size_t left = p->mem_writes + p->journal_pending, kept = 0;
    int jerr = pg_journal_rewrite(p, &kept);
    pg_journal_close(p);
    char msg[600];
    int werr = AT_EAGAIN;
    if (left == 0) {
        p->host->log(p->inst, AT_LOG_INFO, "stopped: every write committed");
    } else if (jerr == AT_OK && kept == left) {
        p->host->log(p->inst, AT_LOG_WARN,
                     "stopped with %zu writes not committed (%s): kept in journal %s, replayed at "
                     "the next start",
                     left, p->reason[0] ? p->reason : "server slow", p->journal_path);
        snprintf(msg, sizeof(msg), "postgres unavailable at stop: journaled to %s",
                 p->journal_path);
    } else {
        p->host->log(p->inst, AT_LOG_ERROR,
                     "stopped with %zu writes not committed and only %zu of them journaled in %s: "
                     "%zu writes lost",
                     left, kept, p->journal_path, left - kept);
        snprintf(msg, sizeof(msg), "postgres unavailable at stop and the journal failed");
        werr = AT_EIO;
    }
    p->started = false; /* a callback below writing again gets AT_ESTATE */
    while (p->head) {
        pg_item *it = p->head;
        if (it->kind == PG_WRITE) {
            pg_finish(p, NULL, it, werr, msg);
        } else if (it->kind == PG_QUERY) {
            pg_finish(p, NULL, it, AT_EIO, "postgres storage stopped");
        } else {
            pg_finish(p, NULL, it, AT_OK,
                      left ? "earlier writes were journaled, not committed" : NULL);
        }
    }
    pg_fire(p);
    pg_gauges(p);
}

static void free_list(pg_item *it)
{
    while (it) {
        pg_item *next = it->next;
        pg_item_free(it);
        it = next;
    }
}

static void pg_destroy(void *ctx)
{
    pg *p = ctx;
    cancel_timers(p);
    if (p->unit.kind != U_NONE) {
        pg_pipe_abandon(p);
    }
    pg_conn_close(p);
    pg_journal_close(p);
    /* without stop() (start failed) nothing is pending that a caller waits for */
    free_list(p->head);
    free_list(p->fin_head);
    p->head = p->tail = p->fin_head = p->fin_tail = NULL;
    pg_migrations_free(p);
    free(p->journal_path);
    p->journal_path = NULL;
}

/* --------------------------------------------------------------- schema */

static const at_cfg_field schema[] = {
    {"conninfo", AT_CFG_SECRET, NULL, AT_CFG_REQUIRED, offsetof(pg, conninfo), 0, 0, NULL,
     "libpq connection string or URI, e.g. env:AITRADER_PG holding "
     "postgresql://user@host:5432/aitrader"},
    {"queue_max", AT_CFG_INT, "10000", AT_CFG_RANGE, offsetof(pg, queue_max), 1, 1e9, NULL,
     "writes held in memory while the server is away; more go to the journal file"},
    {"journal", AT_CFG_STR, "", 0, offsetof(pg, journal), 0, 0, NULL,
     "journal file (default <data_dir>/pg-journal-<instance>.log)"},
    {"reconnect_min", AT_CFG_DURATION, "250ms", AT_CFG_RANGE, offsetof(pg, reconnect_min_ms), 1,
     3600000, NULL, "first delay before reconnecting (doubles per failure, with jitter)"},
    {"reconnect_max", AT_CFG_DURATION, "30s", AT_CFG_RANGE, offsetof(pg, reconnect_max_ms), 1,
     86400000, NULL, "longest delay between reconnect attempts"},
    {"connect_timeout", AT_CFG_DURATION, "10s", AT_CFG_RANGE, offsetof(pg, connect_timeout_ms), 100,
     3600000, NULL, "give up one connection attempt after this"},
    {"query_timeout", AT_CFG_DURATION, "30s", AT_CFG_RANGE, offsetof(pg, query_timeout_ms), 0,
     86400000, NULL, "a read waiting for a connection fails (AT_EIO) after this"},
    {"stop_timeout", AT_CFG_DURATION, "5s", AT_CFG_RANGE, offsetof(pg, stop_timeout_ms), 0, 600000,
     NULL, "at stop, keep sending this long, then journal what is left"},
    {0}};

static const at_storage_ops ops = {
    .struct_size = sizeof(at_storage_ops),
    .dialect = "postgres",
    .write = op_write,
    .query = op_query,
    .flush = op_flush,
};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_STORAGE,
    .name = "postgres",
    .version = "1.0.0",
    .description = "PostgreSQL storage: async libpq on the loop, reconnect, journal",
    .config = schema,
    .ctx_size = sizeof(pg),
    .init = pg_init,
    .start = pg_start,
    .stop = pg_stop,
    .destroy = pg_destroy,
    .ops = &ops,
    .check_config = pg_check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

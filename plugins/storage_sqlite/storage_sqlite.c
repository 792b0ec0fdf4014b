/* storage_sqlite: the SQLite storage backend ([storage.sqlite]).
 *
 * Calls from the loop copy their SQL and parameters into an item and queue
 * it; one writer thread per instance (sq_worker.c) runs the queue in order,
 * in batched transactions, and hands results back with run_on_loop, where
 * sq_deliver() calls row/done. Queries share the queue, so a query sees every
 * write queued before it. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq.h"

static const char *const sync_values[] = {"full", "normal", NULL};

static const at_cfg_field schema[] = {
    {"path", AT_CFG_STR, "", 0, offsetof(sq, path), 0, 0, NULL,
     "database file; empty = <data_dir>/aitrader.db (parent directory created)"},
    {"synchronous", AT_CFG_ENUM, "full", 0, offsetof(sq, synchronous), 0, 0, sync_values,
     "full: fsync every commit (money data); normal: may lose the last commits on power loss"},
    {"busy_timeout", AT_CFG_DURATION, "5s", AT_CFG_RANGE, offsetof(sq, busy_timeout_ms), 0, 3600000,
     NULL, "how long a statement waits for another connection's lock"},
    {"batch_max", AT_CFG_INT, "1000", AT_CFG_RANGE, offsetof(sq, batch_max), 1, 100000, NULL,
     "statements per transaction"},
    {"cache_size", AT_CFG_SIZE, "16M", AT_CFG_RANGE, offsetof(sq, cache_size), 0, 1099511627776.0,
     NULL, "SQLite page cache size"},
    {"linger", AT_CFG_DURATION, "1ms", AT_CFG_RANGE, offsetof(sq, linger_ms), 0, 10000, NULL,
     "writes nobody waits for wait this long for one somebody waits for, to share its commit "
     "(0 = commit at once)"},
    {0}};

/* ------------------------------------------------------------- lifecycle */

static int sq_init(at_instance *inst, const at_host *host, void *ctx)
{
    sq *s = ctx;
    s->inst = inst;
    s->host = host;
    s->batch = calloc((size_t)s->batch_max, sizeof(*s->batch));
    if (!s->batch) {
        return AT_ENOMEM;
    }
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        goto fail;
    }
    /* backoff sleeps are intervals: immune to wall-clock jumps */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        goto fail;
    }
    if (pthread_cond_init(&s->ckpt_cv, NULL) != 0) {
        pthread_cond_destroy(&s->cv);
        goto fail;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        pthread_cond_destroy(&s->ckpt_cv);
        pthread_cond_destroy(&s->cv);
        goto fail;
    }
    s->sync_ready = true;
    return AT_OK;

fail:
    free(s->batch);
    s->batch = NULL;
    return AT_ENOMEM;
}

static int sq_start(void *ctx)
{
    sq *s = ctx;
    const at_host *h = s->host;
    s->m_writes =
        h->metric(s->inst, AT_METRIC_COUNTER, "aitrader_storage_writes_total", "Writes committed");
    s->m_errors = h->metric(s->inst, AT_METRIC_COUNTER, "aitrader_storage_write_errors_total",
                            "Writes that failed for good (constraint, bad SQL)");
    s->m_depth = h->metric(s->inst, AT_METRIC_GAUGE, "aitrader_storage_queue_depth",
                           "Items queued for the storage worker");
    s->m_commit = h->metric(s->inst, AT_METRIC_HISTOGRAM, "aitrader_storage_commit_us",
                            "Time to run and commit one batch, microseconds");
    s->m_ckpts = h->metric(s->inst, AT_METRIC_COUNTER, "aitrader_storage_checkpoints_total",
                           "WAL checkpoints done by the checkpoint thread");

    int err = sq_open(s);
    if (err != AT_OK) {
        goto fail;
    }
    err = sq_ctl_prepare(s);
    if (err != AT_OK) {
        goto fail;
    }
    sq_ckpt_start(s);
    if (pthread_create(&s->thread, NULL, sq_worker_main, s) != 0) {
        h->log(s->inst, AT_LOG_ERROR, "cannot start the writer thread");
        err = AT_ENOMEM;
        goto fail;
    }
    s->running = true;
    h->log(s->inst, AT_LOG_INFO, "opened %s (journal_mode=%s, synchronous=%s, schema version %d)",
           s->db_path, s->journal_mode, sync_values[s->synchronous], s->schema_version);
    return AT_OK; /* the engine reports UP */

fail:
    sq_close(s);
    return err;
}

/* Deliver what run_on_loop refused (the loop had stopped); main thread. */
static void deliver_leftovers(sq *s)
{
    pthread_mutex_lock(&s->mu);
    sq_delivery *d = s->undelivered;
    s->undelivered = s->undelivered_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (d) {
        sq_delivery *next = d->next;
        sq_deliver(d);
        d = next;
    }
}

static void sq_stop(void *ctx)
{
    sq *s = ctx;
    if (s->running) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        s->stop_deadline_us = sq_mono_us() + (int64_t)SQ_STOP_GIVEUP_MS * 1000;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        /* the worker drains the queue (commits everything) before it exits */
        pthread_join(s->thread, NULL);
        s->running = false;
        /* the engine reports STOPPED; results delivered after this must
         * not turn the instance UP or DEGRADED again */
        s->stopped = true;
        deliver_leftovers(s);
        s->host->log(s->inst, AT_LOG_INFO, "closed %s", s->db_path);
    }
    sq_close(s);
}

static void free_delivery(sq_delivery *d)
{
    sq_item *it = d->items;
    while (it) {
        sq_item *next = it->next;
        sq_item_free(it);
        it = next;
    }
    free(d->detail);
    free(d);
}

static void sq_destroy(void *ctx)
{
    sq *s = ctx;
    if (s->running) {
        sq_stop(s);
    }
    sq_close(s);
    /* left only when stop() never ran: their callers are gone too */
    for (sq_delivery *d = s->undelivered, *next; d; d = next) {
        next = d->next;
        free_delivery(d);
    }
    for (sq_item *it = s->head, *next; it; it = next) {
        next = it->next;
        sq_item_free(it);
    }
    s->undelivered = s->undelivered_tail = NULL;
    s->head = s->tail = NULL;
    free(s->batch);
    free(s->db_path);
    s->batch = NULL;
    s->db_path = NULL;
    if (s->sync_ready) {
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->ckpt_cv);
        pthread_mutex_destroy(&s->mu);
        s->sync_ready = false;
    }
}

/* ------------------------------------------------------------ delivery */

void sq_deliver(void *arg)
{
    sq_delivery *d = arg;
    sq *s = d->s;
    for (sq_item *it = d->items, *next; it; it = next) {
        next = it->next;
        if (it->kind == SQ_QUERY && it->err == AT_OK && it->row) {
            for (size_t r = 0; r < it->nrows; r++) {
                at_db_row row = {.ncols = it->ncols,
                                 .names = (const char *const *)it->names,
                                 .cols = &it->vals[r * it->ncols]};
                if (it->row(it->arg, &row) != 0) {
                    break;
                }
            }
        }
        if (it->done) {
            const char *msg = NULL;
            if (it->err != AT_OK) {
                msg = it->errmsg ? it->errmsg : "storage error";
            }
            it->done(it->arg, it->err, msg);
        }
        sq_item_free(it);
    }
    const at_host *h = s->host;
    if (d->writes_ok && s->m_writes) {
        h->metric_add(s->m_writes, (double)d->writes_ok);
    }
    if (d->writes_failed && s->m_errors) {
        h->metric_add(s->m_errors, (double)d->writes_failed);
    }
    if (d->commit_us >= 0 && s->m_commit) {
        h->metric_observe(s->m_commit, (double)d->commit_us);
    }
    if (s->m_depth) {
        h->metric_set(s->m_depth, (double)d->depth);
    }
    if (d->ckpts > s->ckpts_reported) {
        if (s->m_ckpts) {
            h->metric_add(s->m_ckpts, (double)(d->ckpts - s->ckpts_reported));
        }
        s->ckpts_reported = d->ckpts;
    }
    if (d->state >= 0 && !s->stopped) {
        h->set_state(s->inst, (at_state)d->state, d->detail);
    }
    free(d->detail);
    free(d);
}

/* ------------------------------------------------------------------ ops */

/* Copy sql and params into one allocation. DEC is formatted exactly here
 * (the loop thread), BOOL becomes 0/1, TEXT with a NULL pointer is NULL. */
static int item_new(sq *s, sq_kind kind, const char *sql, const at_db_value *params, size_t n,
                    sq_item **out)
{
    if (kind != SQ_FLUSH && (!sql || !*sql)) {
        return AT_EINVAL;
    }
    if (n > 0 && !params) {
        return AT_EINVAL;
    }
    size_t extra = sql ? strlen(sql) + 1 : 0;
    for (size_t k = 0; k < n; k++) {
        switch (params[k].type) {
        case AT_DB_NULL:
        case AT_DB_INT:
        case AT_DB_REAL:
        case AT_DB_BOOL:
            break;
        case AT_DB_TEXT:
            extra += params[k].u.s ? strlen(params[k].u.s) + 1 : 0;
            break;
        case AT_DB_DEC:
            if (params[k].u.d.scale < 0 || params[k].u.d.scale > AT_DEC_MAX_SCALE) {
                return AT_EINVAL;
            }
            extra += AT_DEC_STRLEN;
            break;
        default:
            return AT_EINVAL;
        }
    }
    sq_item *it = calloc(1, sizeof(*it) + n * sizeof(sq_param) + extra);
    if (!it) {
        return AT_ENOMEM;
    }
    it->kind = kind;
    it->n = n;
    it->params = (sq_param *)(it + 1);
    char *p = (char *)(it->params + n);
    if (sql) {
        size_t len = strlen(sql) + 1;
        memcpy(p, sql, len);
        it->sql = p;
        p += len;
    }
    for (size_t k = 0; k < n; k++) {
        const at_db_value *v = &params[k];
        sq_param *q = &it->params[k];
        q->type = v->type;
        switch (v->type) {
        case AT_DB_INT:
            q->u.i = v->u.i;
            break;
        case AT_DB_REAL:
            q->u.r = v->u.r;
            break;
        case AT_DB_BOOL:
            q->type = AT_DB_INT;
            q->u.i = v->u.b ? 1 : 0;
            break;
        case AT_DB_TEXT:
            if (!v->u.s) {
                q->type = AT_DB_NULL;
                break;
            }
            q->u.s = p;
            p = stpcpy(p, v->u.s) + 1;
            break;
        case AT_DB_DEC: {
            /* exact text: TEXT columns keep every digit, unlike REAL */
            int len = s->host->dec_format(v->u.d, p);
            if (len < 0) {
                free(it);
                return AT_EINVAL;
            }
            q->type = AT_DB_TEXT;
            q->u.s = p;
            p += AT_DEC_STRLEN;
            break;
        }
        default:
            q->type = AT_DB_NULL;
            break;
        }
    }
    *out = it;
    return AT_OK;
}

static int enqueue(sq *s, sq_item *it)
{
    pthread_mutex_lock(&s->mu);
    if (!s->running || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        sq_item_free(it);
        return AT_ESTATE;
    }
    if (s->tail) {
        s->tail->next = it;
    } else {
        s->head = it;
    }
    s->tail = it;
    size_t depth = ++s->depth;
    bool waited = sq_item_awaited(it);
    s->nwaited += waited;
    /* only an idle worker needs waking, and a lingering one once somebody
     * waits (or the batch is full); one in backoff keeps sleeping */
    if (s->worker_idle || (s->worker_lingering && (waited || depth >= (size_t)s->batch_max))) {
        s->worker_idle = false;
        s->worker_lingering = false;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (s->m_depth) {
        s->host->metric_set(s->m_depth, (double)depth);
    }
    return AT_OK;
}

static int sq_write(void *ctx, const char *sql, const at_db_value *params, size_t n,
                    at_db_done_cb done, void *arg)
{
    sq *s = ctx;
    sq_item *it;
    int err = item_new(s, SQ_WRITE, sql, params, n, &it);
    if (err != AT_OK) {
        return err;
    }
    it->done = done;
    it->arg = arg;
    return enqueue(s, it);
}

static int sq_query(void *ctx, const char *sql, const at_db_value *params, size_t n,
                    at_db_row_cb row, at_db_done_cb done, void *arg)
{
    sq *s = ctx;
    sq_item *it;
    int err = item_new(s, SQ_QUERY, sql, params, n, &it);
    if (err != AT_OK) {
        return err;
    }
    it->row = row;
    it->done = done;
    it->arg = arg;
    return enqueue(s, it);
}

static int sq_flush(void *ctx, at_db_done_cb done, void *arg)
{
    sq *s = ctx;
    sq_item *it;
    int err = item_new(s, SQ_FLUSH, NULL, NULL, 0, &it);
    if (err != AT_OK) {
        return err;
    }
    it->done = done;
    it->arg = arg;
    return enqueue(s, it);
}

/* A copy through a connection of its own: in WAL mode a reader sees the
 * last commit whatever the worker is writing, and VACUUM INTO writes it as a
 * compact database file. */
static int sq_snapshot(void *ctx, const char *path, char *why, size_t whylen)
{
    sq *s = ctx;
    if (s->db_path &&
        (strcmp(s->db_path, ":memory:") == 0 || strncmp(s->db_path, "file::memory:", 13) == 0 ||
         strstr(s->db_path, "mode=memory"))) {
        snprintf(why, whylen, "an in-memory database cannot be copied by another connection");
        return AT_EDB;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = s->db_path
                 ? sqlite3_open_v2(s->db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL)
                 : SQLITE_MISUSE;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK) {
        snprintf(why, whylen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_OK ? AT_OK : AT_EDB;
}

static const at_storage_ops ops = {
    .struct_size = sizeof(at_storage_ops),
    .dialect = "sqlite",
    .write = sq_write,
    .query = sq_query,
    .flush = sq_flush,
    .snapshot = sq_snapshot,
};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_STORAGE,
    .name = "sqlite",
    .version = "1.0.0",
    .description = "SQLite storage: WAL, batched transactions on a writer thread",
    .config = schema,
    .ctx_size = sizeof(sq),
    .init = sq_init,
    .start = sq_start,
    .stop = sq_stop,
    .destroy = sq_destroy,
    .ops = &ops,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

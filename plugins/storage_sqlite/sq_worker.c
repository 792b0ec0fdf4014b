/* The writer thread: takes up to batch_max queued items, runs them in one
 * transaction with a savepoint per statement, commits, and hands the results
 * back to the loop with one run_on_loop call per batch. SQLite has no async
 * API, so this thread is what keeps fsync off the main loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sq.h"

enum batch_rc {
    BATCH_DONE = 0,     /* committed; each item has its own err */
    BATCH_TRANSIENT,    /* rolled back; retry the same items later */
    BATCH_COMMIT_FAILED /* COMMIT refused for good (deferred constraint) */
};

static const char *const ctl_sql[SQ_CTL__COUNT] = {
    [SQ_CTL_BEGIN] = "BEGIN",
    [SQ_CTL_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_CTL_COMMIT] = "COMMIT",
    [SQ_CTL_ROLLBACK] = "ROLLBACK",
    [SQ_CTL_SAVEPOINT] = "SAVEPOINT at_item",
    [SQ_CTL_RELEASE] = "RELEASE at_item",
    [SQ_CTL_ROLLBACK_TO] = "ROLLBACK TO at_item",
};

int sq_ctl_prepare(sq *s)
{
    for (int i = 0; i < SQ_CTL__COUNT; i++) {
        int rc =
            sqlite3_prepare_v3(s->db, ctl_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->ctl[i], NULL);
        if (rc != SQLITE_OK) {
            s->host->log(s->inst, AT_LOG_ERROR, "cannot prepare %s: %s", ctl_sql[i],
                         sqlite3_errmsg(s->db));
            return AT_EDB;
        }
    }
    return AT_OK;
}

void sq_ctl_finalize(sq *s)
{
    for (int i = 0; i < SQ_CTL__COUNT; i++) {
        sqlite3_finalize(s->ctl[i]);
        s->ctl[i] = NULL;
    }
}

static int ctl(sq *s, enum sq_ctl which)
{
    sqlite3_stmt *st = s->ctl[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Abandon the open transaction, if SQLite has not already done so (it rolls
 * back by itself after some IOERR/FULL/NOMEM failures). */
static void rollback_all(sq *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        ctl(s, SQ_CTL_ROLLBACK);
    }
}

/* Run one statement. Returns AT_OK (the item's own err says whether the
 * statement failed for good) or AT_EAGAIN with *msg (transient: the whole
 * batch must be retried). */
static int run_item(sq *s, sq_item *it, char **msg)
{
    sqlite3_stmt *st;
    int nparams;
    char *why = NULL;
    int err = sq_prepare(s, it->sql, &st, &nparams, &why);
    if (err == AT_EAGAIN) {
        *msg = why;
        return AT_EAGAIN;
    }
    if (err != AT_OK) {
        it->err = err;
        it->errmsg = why;
        return AT_OK;
    }
    err = sq_bind(st, nparams, it->params, it->n, &why);
    if (err != AT_OK) {
        sqlite3_clear_bindings(st);
        it->err = err;
        it->errmsg = why;
        return AT_OK;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* a write with RETURNING yields rows nobody asked for */
        if (it->kind == SQ_QUERY && sq_copy_row(it, st) != AT_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    int result = AT_OK;
    if (rc != SQLITE_DONE) {
        const char *m = rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db);
        if (sq_transient(rc)) {
            *msg = sq_strdup(m);
            result = AT_EAGAIN;
        } else {
            sq_item_reset_results(it); /* no partial result sets */
            it->err = AT_EDB;
            it->errmsg = sq_strdup(m);
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

/* Move queued items to items[n..], up to batch_max in all; mu held. */
static size_t pop_queued(sq *s, sq_item **items, size_t n)
{
    while (s->head && n < (size_t)s->batch_max) {
        sq_item *it = s->head;
        s->head = it->next;
        it->next = NULL;
        s->nwaited -= sq_item_awaited(it);
        items[n++] = it;
    }
    if (!s->head) {
        s->tail = NULL;
    }
    return n;
}

/* Items queued while a writing batch ran its statements join it before its
 * COMMIT, in queue order, once: the orders row exchange_okx queues some
 * 20 us after the trader's decision row then shares the decision's commit
 * (one fsync) instead of waiting for it and then for its own. Nothing waits
 * here: the batch takes only what is already queued, and only once, so the
 * first items wait for the joiners' statements (microseconds each), never
 * for a stream of them. */
static size_t join_queued(sq *s, sq_item **items, size_t n)
{
    pthread_mutex_lock(&s->mu);
    n = pop_queued(s, items, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* One transaction over items[0..*n); with `join` (items is s->batch) items
 * queued meanwhile are added to it, and *n with them. */
static enum batch_rc exec_batch(sq *s, sq_item **items, size_t *n, bool join, char **msg)
{
    bool writes = false;
    for (size_t i = 0; i < *n; i++) {
        writes = writes || items[i]->kind == SQ_WRITE;
    }
    int64_t t0 = sq_mono_us();
    /* IMMEDIATE takes the write lock up front, so a busy database shows up
     * here (after busy_timeout) rather than halfway through the batch */
    int rc = ctl(s, writes ? SQ_CTL_BEGIN_IMMEDIATE : SQ_CTL_BEGIN);
    if (rc != SQLITE_OK) {
        *msg = sq_strdup(sqlite3_errmsg(s->db));
        rollback_all(s);
        return BATCH_TRANSIENT;
    }
    /* a read-only batch began without the write lock: it takes no writes */
    join = join && writes;
    for (size_t i = 0;; i++) {
        if (i == *n) {
            if (!join || (*n = join_queued(s, items, *n)) == i) {
                break;
            }
            join = false; /* once: what queued during the joiners waits */
        }
        sq_item *it = items[i];
        if (it->kind == SQ_FLUSH) {
            continue; /* a barrier: done once this transaction committed */
        }
        rc = ctl(s, SQ_CTL_SAVEPOINT);
        if (rc != SQLITE_OK) {
            goto transient;
        }
        if (run_item(s, it, msg) != AT_OK) {
            rollback_all(s);
            return BATCH_TRANSIENT;
        }
        /* a failed statement is undone alone; the batch goes on */
        if (it->err != AT_OK) {
            rc = ctl(s, SQ_CTL_ROLLBACK_TO);
            if (rc != SQLITE_OK) {
                goto transient;
            }
        }
        rc = ctl(s, SQ_CTL_RELEASE);
        if (rc != SQLITE_OK) {
            goto transient;
        }
    }
    rc = ctl(s, SQ_CTL_COMMIT);
    if (rc != SQLITE_OK) {
        *msg = sq_strdup(sqlite3_errmsg(s->db));
        rollback_all(s);
        return sq_transient(rc) ? BATCH_TRANSIENT : BATCH_COMMIT_FAILED;
    }
    s->last_commit_us = sq_mono_us() - t0;
    return BATCH_DONE;

transient:
    *msg = sq_strdup(sqlite3_errmsg(s->db));
    rollback_all(s);
    return BATCH_TRANSIENT;
}

/* Hand a delivery to the loop; when the loop no longer takes work (engine
 * stopping), keep it for stop() to deliver on the main thread. */
static void post(sq *s, sq_delivery *d)
{
    int rc = s->host->run_on_loop(s->inst, sq_deliver, d);
    if (rc == AT_OK) {
        return;
    }
    if (rc != AT_ESTATE) {
        s->host->log(s->inst, AT_LOG_WARN, "run_on_loop failed (%d): results wait for stop", rc);
    }
    pthread_mutex_lock(&s->mu);
    if (s->undelivered_tail) {
        s->undelivered_tail->next = d;
    } else {
        s->undelivered = d;
    }
    s->undelivered_tail = d;
    pthread_mutex_unlock(&s->mu);
}

static void post_state(sq *s, at_state state, const char *detail)
{
    sq_delivery *d = calloc(1, sizeof(*d));
    if (!d) {
        return; /* the log line already says it; state is advisory */
    }
    d->s = s;
    d->commit_us = -1;
    d->state = (int)state;
    d->detail = detail ? sq_strdup(detail) : NULL;
    pthread_mutex_lock(&s->mu);
    d->depth = s->depth;
    pthread_mutex_unlock(&s->mu);
    post(s, d);
}

/* Sleep before retry `attempt`. Returns false when stop() has waited long
 * enough and the items must be failed instead. New writes do not cut the
 * sleep short (that would spin during an outage); stop() does, once. */
static bool backoff(sq *s, int attempt)
{
    int64_t ms = SQ_BACKOFF_FIRST_MS;
    for (int i = 0; i < attempt && ms < SQ_BACKOFF_MAX_MS; i++) {
        ms *= 2;
    }
    if (ms > SQ_BACKOFF_MAX_MS) {
        ms = SQ_BACKOFF_MAX_MS;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->mu);
    bool was_stopping = s->stopping;
    if (was_stopping && sq_mono_us() >= s->stop_deadline_us) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    int rc = 0;
    while (rc != ETIMEDOUT && s->stopping == was_stopping) {
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
    }
    pthread_mutex_unlock(&s->mu);
    return true;
}

/* Run items until they are committed (or each failed for good). Transient
 * failures keep them: the instance goes DEGRADED and retries with backoff. */
static void run_batch(sq *s, sq_item **items, size_t *np, bool join)
{
    for (int attempt = 0;; attempt++) {
        char *msg = NULL;
        enum batch_rc rc = exec_batch(s, items, np, join, &msg);
        size_t n = *np;
        if (rc == BATCH_DONE) {
            free(msg);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            sq_item_reset_results(items[i]);
        }
        if (rc == BATCH_COMMIT_FAILED) {
            if (n == 1) {
                items[0]->err = AT_EDB;
                items[0]->errmsg = msg;
                return;
            }
            /* one of them broke a deferred constraint: find which, alone */
            free(msg);
            for (size_t i = 0; i < n; i++) {
                size_t one = 1;
                run_batch(s, &items[i], &one, false);
            }
            return;
        }
        const char *why = msg ? msg : "unknown error";
        if (!s->degraded) {
            s->degraded = true;
            s->host->log(s->inst, AT_LOG_ERROR,
                         "%s: commit failed, %zu item(s) kept queued, retrying: %s", s->db_path, n,
                         why);
            char detail[256];
            snprintf(detail, sizeof(detail), "database unavailable, retrying: %s", why);
            post_state(s, AT_STATE_DEGRADED, detail);
        } else if (attempt % 10 == 9) {
            s->host->log(s->inst, AT_LOG_ERROR, "%s: still failing after %d attempts: %s",
                         s->db_path, attempt + 1, why);
        }
        if (!backoff(s, attempt)) {
            s->host->log(s->inst, AT_LOG_ERROR,
                         "%s: stopping with %zu item(s) not committed after %d ms: %s", s->db_path,
                         n, SQ_STOP_GIVEUP_MS, why);
            for (size_t i = 0; i < n; i++) {
                if (items[i]->kind != SQ_FLUSH) {
                    items[i]->err = AT_EIO;
                    items[i]->errmsg = sq_strdup(why);
                }
            }
            free(msg);
            return;
        }
        free(msg);
    }
}

/* Called with mu held and only writes nobody waits for queued: wait up to
 * linger_ms for an item somebody waits for (enqueue() signals it), so both
 * commit together. Nobody waits for these writes, so the wait costs nobody
 * anything; the one that follows saves a whole commit. */
static void linger(sq *s)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += s->linger_ms / 1000;
    until.tv_nsec += (s->linger_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    s->worker_lingering = true;
    int rc = 0;
    while (rc != ETIMEDOUT && s->worker_lingering && !s->stopping) {
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
    }
    s->worker_lingering = false;
}

/* Block until work arrives; take up to batch_max items. 0 = stop. */
static size_t take_batch(sq *s)
{
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->stopping) {
        s->worker_idle = true;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    s->worker_idle = false;
    if (s->linger_ms > 0 && s->head && s->nwaited == 0 && !s->stopping &&
        s->depth < (size_t)s->batch_max) {
        linger(s);
    }
    size_t n = pop_queued(s, s->batch, 0);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void deliver_batch(sq *s, sq_item **items, size_t n)
{
    sq_delivery *d;
    /* never lose the callbacks of committed items: wait for memory */
    while (!(d = calloc(1, sizeof(*d)))) {
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    d->s = s;
    d->state = -1;
    d->commit_us = s->last_commit_us;
    sq_item **link = &d->items;
    for (size_t i = 0; i < n; i++) {
        sq_item *it = items[i];
        if (it->kind == SQ_WRITE) {
            if (it->err == AT_OK) {
                d->writes_ok++;
            } else {
                d->writes_failed++;
            }
        }
        *link = it;
        link = &it->next;
    }
    if (s->degraded && d->commit_us >= 0) {
        s->degraded = false;
        s->host->log(s->inst, AT_LOG_INFO, "%s: commits succeed again", s->db_path);
        d->state = (int)AT_STATE_UP;
    }
    pthread_mutex_lock(&s->mu);
    s->depth -= n;
    d->depth = s->depth;
    d->ckpts = s->ckpts;
    pthread_mutex_unlock(&s->mu);
    post(s, d);
}

void *sq_worker_main(void *arg)
{
    sq *s = arg;
    size_t n;
    while ((n = take_batch(s)) > 0) {
        s->last_commit_us = -1;
        run_batch(s, s->batch, &n, true);
        deliver_batch(s, s->batch, n);
    }
    return NULL;
}

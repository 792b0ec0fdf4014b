/* Private header of the SQLite storage plugin (storage_sqlite.so).
 *
 * Threads: the main loop owns the config fields, the metrics and every
 * callback into the caller; the worker thread owns `db`, the statement cache
 * and the control statements while it runs (start() and stop() use `db` only
 * before the worker is created and after it is joined). `mu` guards the queue
 * fields marked below. */
#ifndef STORAGE_SQLITE_SQ_H
#define STORAGE_SQLITE_SQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include <aitrader/plugin.h>

/* Prepared statements kept per instance (LRU beyond this). */
#define SQ_CACHE_SLOTS 64
/* When stop() finds the database still failing, it keeps retrying this long
 * before it reports the remaining items failed (AT_EIO) rather than hang the
 * shutdown forever. */
#define SQ_STOP_GIVEUP_MS 30000
/* WAL size (pages) at which the checkpointer copies it into the database
 * (SQLite's own autocheckpoint default). */
#define SQ_CKPT_PAGES 1000
/* Retry delays after a transient failure: first, cap. */
#define SQ_BACKOFF_FIRST_MS 100
#define SQ_BACKOFF_MAX_MS 5000

typedef enum sq_kind { SQ_WRITE = 0, SQ_QUERY, SQ_FLUSH } sq_kind;

/* A parameter after copying: DEC is already exact text, BOOL is 0/1, so the
 * worker binds only NULL, INT, REAL and TEXT. */
typedef struct sq_param {
    at_db_type type;
    union {
        int64_t i;
        double r;
        const char *s;
    } u;
} sq_param;

/* One queued write, query or flush. The SQL, the params and their strings
 * live in the same allocation as the item; results are separate. */
typedef struct sq_item {
    struct sq_item *next;
    sq_kind kind;
    const char *sql;
    sq_param *params;
    size_t n;
    at_db_row_cb row;
    at_db_done_cb done;
    void *arg;
    /* results, written by the worker, read on the loop */
    int err;
    char *errmsg;
    size_t ncols;
    char **names;
    at_db_value *vals; /* nrows * ncols; TEXT strings are malloc'd */
    size_t nrows;
    size_t cap_rows;
} sq_item;

/* Whether somebody waits for the item: a write with a done callback, any
 * query or flush. */
static inline bool sq_item_awaited(const sq_item *it)
{
    return it->kind != SQ_WRITE || it->done != NULL;
}

/* What one run_on_loop call hands back to the loop: the finished items of a
 * batch in queue order, metric deltas and an optional state change. */
typedef struct sq_delivery {
    struct sq_delivery *next;
    struct sq *s;
    sq_item *items;
    uint64_t writes_ok;
    uint64_t writes_failed;
    int64_t commit_us; /* < 0: nothing committed */
    size_t depth;      /* queue depth after this batch */
    uint64_t ckpts;    /* checkpoints done so far */
    int state;         /* at_state to report, or -1 */
    char *detail;
} sq_delivery;

typedef struct sq_cached {
    char *sql;
    uint64_t hash;
    sqlite3_stmt *st;
    int nparams; /* n of $1..$n, or -1 when the names are not exactly that */
    uint64_t used;
} sq_cached;

enum sq_ctl {
    SQ_CTL_BEGIN = 0,
    SQ_CTL_BEGIN_IMMEDIATE,
    SQ_CTL_COMMIT,
    SQ_CTL_ROLLBACK,
    SQ_CTL_SAVEPOINT,
    SQ_CTL_RELEASE,
    SQ_CTL_ROLLBACK_TO,
    SQ_CTL__COUNT
};

typedef struct sq {
    /* config, written by the engine (types from config.h) */
    const char *path;
    int synchronous; /* 0 full, 1 normal */
    int64_t busy_timeout_ms;
    int64_t batch_max;
    int64_t cache_size;
    /* A batch of writes nobody waits for (no done callback) waits this long
     * for an item somebody waits for before it commits: a decision row and
     * the orders row of its intent, queued microseconds apart, then share
     * one commit (one fsync) instead of the second waiting for the first's. */
    int64_t linger_ms;

    at_instance *inst;
    const at_host *host;
    char *db_path;
    sqlite3 *db;
    int schema_version;
    char journal_mode[16];

    at_metric *m_writes;
    at_metric *m_errors;
    at_metric *m_depth;
    at_metric *m_commit;
    at_metric *m_ckpts;
    uint64_t ckpts_reported; /* loop only */

    bool sync_ready; /* mu and cv initialised */
    bool running;    /* worker created and not yet joined */
    bool stopped;    /* stop() ran: the engine owns the state now (main thread) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* the worker's */
    pthread_cond_t ckpt_cv; /* the checkpointer's */
    /* guarded by mu */
    sq_item *head;
    sq_item *tail;
    size_t depth;   /* queued + in the worker's current batch */
    size_t nwaited; /* queued items with a done callback, or not writes */
    bool stopping;
    bool worker_idle;
    bool worker_lingering; /* waiting linger_ms for an awaited item */
    bool ckpt_wanted;      /* the WAL reached SQ_CKPT_PAGES */
    bool ckpt_stop;
    uint64_t ckpts; /* checkpoints the checkpointer completed */
    int64_t stop_deadline_us;
    sq_delivery *undelivered; /* run_on_loop refused them: stop() delivers */
    sq_delivery *undelivered_tail;

    /* the checkpointer (sq_ckpt.c): its own connection and thread */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    bool ckpt_running;

    /* worker only */
    sq_item **batch;
    sq_cached cache[SQ_CACHE_SLOTS];
    uint64_t cache_tick;
    sqlite3_stmt *ctl[SQ_CTL__COUNT];
    bool degraded;
    int64_t last_commit_us;
} sq;

/* sq_open.c: main thread, in start() */
int sq_open(sq *s);
void sq_close(sq *s);

/* sq_ckpt.c: main thread. Start after sq_open (falls back to SQLite's
 * autocheckpoint, with a warning, when it cannot); stop before the writer's
 * connection closes (sq_close does). */
void sq_ckpt_start(sq *s);
void sq_ckpt_stop(sq *s);

/* sq_stmt.c: worker (and stop) side */
int64_t sq_mono_us(void);
/* SQLite result codes after which the same work can succeed later. */
bool sq_transient(int rc);
/* Statement for sql from the cache, preparing it on a miss. Returns AT_OK,
 * AT_EINVAL (not exactly one statement), AT_EDB (SQLite refused it) or
 * AT_EAGAIN (transient); *msg gets a malloc'd reason on failure. */
int sq_prepare(sq *s, const char *sql, sqlite3_stmt **st, int *nparams, char **msg);
void sq_cache_clear(sq *s);
/* Bind $1..$n; AT_EINVAL with *msg when the count does not match. */
int sq_bind(sqlite3_stmt *st, int nparams, const sq_param *params, size_t n, char **msg);
/* Append the current row of st to the item's results. AT_OK or AT_ENOMEM. */
int sq_copy_row(sq_item *it, sqlite3_stmt *st);
void sq_item_reset_results(sq_item *it);
void sq_item_free(sq_item *it);
char *sq_strdup(const char *s);

/* sq_worker.c */
void *sq_worker_main(void *arg);
int sq_ctl_prepare(sq *s);
void sq_ctl_finalize(sq *s);

/* storage_sqlite.c: runs on the loop (or in stop()) */
void sq_deliver(void *arg);

#endif

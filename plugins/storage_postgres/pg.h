/* Private header of the PostgreSQL storage plugin (storage_postgres.so).
 *
 * Everything runs on the main loop: libpq in non-blocking mode, its socket
 * watched with host->fd_watch. One FIFO holds every pending operation (write,
 * query, flush) in call order; an item leaves it only when it is finished, so
 * whatever was sent but not confirmed is still at the head, in order, when the
 * connection drops. Writes beyond queue_max live in the journal file: their
 * queue item is a stub (callback + file offset) whose SQL is read back
 * ("materialised") just before it is sent.
 *
 * Files: storage_postgres.c (entry, lifecycle, ops, callbacks), pg_item.c
 * (items and the queue), pg_journal.c (journal file), pg_conn.c (connection,
 * reconnect, socket I/O, stop loop), pg_pipe.c (pipelined batches and their
 * results), pg_migrate.c (schema migrations). */
#ifndef STORAGE_POSTGRES_PG_H
#define STORAGE_POSTGRES_PG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include <aitrader/plugin.h>

/* Writes per transaction. Also the window of journal records treated as
 * possibly committed after an unclean stop (see pg_journal.c). */
#define PG_BATCH_MAX 256
/* pg_advisory_xact_lock key serialising migrations between engines ("aitr"). */
#define PG_MIGRATION_LOCK 1634300018
/* Steps of one unit: BEGIN, the writes, COMMIT, Sync (or ROLLBACK first). */
#define PG_STEPS_MAX (PG_BATCH_MAX + 4)

typedef enum pg_kind { PG_WRITE = 0, PG_QUERY, PG_FLUSH } pg_kind;

/* One queued operation. sql/vals/types point into `payload` (one allocation);
 * a journaled write that is not materialised has payload == NULL. */
typedef struct pg_item {
    struct pg_item *next;
    pg_kind kind;
    void *payload;
    char *sql;
    int n;
    char **vals; /* n text values; NULL = SQL NULL */
    char *types; /* n type letters: n i r s d b (also the journal's) */
    at_db_row_cb row;
    at_db_done_cb done;
    void *arg;
    int64_t deadline_us; /* queries: give up waiting for a connection (core clock) */
    bool journaled;      /* the write's record is in the journal file */
    off_t joff;          /* record offset and length (without the newline) */
    size_t jlen;
    uint64_t jseq; /* record number since the journal was last emptied */
    bool inflight; /* was in flight at a connection loss: 23505 = already applied */
    bool solo;     /* send in its own transaction (isolating a failure) */
    bool untyped;  /* resend with every parameter type left to the server */
    /* outcome, set when finished */
    int err;
    char *errmsg;
} pg_item;

typedef enum pg_cstate {
    PG_DOWN = 0,   /* no connection; a retry may be scheduled */
    PG_CONNECTING, /* PQconnectPoll in progress */
    PG_MIGRATING,  /* connected, running migrations (simple protocol) */
    PG_READY,      /* pipeline mode, processing the queue */
} pg_cstate;

typedef enum pg_step_kind { ST_CTRL = 0, ST_WRITE, ST_QUERY, ST_SYNC } pg_step_kind;

typedef struct pg_step {
    pg_step_kind kind;
    pg_item *it;   /* ST_WRITE / ST_QUERY */
    int status;    /* 0 pending, 1 ok, -1 error, -2 aborted */
    char state[6]; /* SQLSTATE of an error */
    char *msg;     /* error message (malloc'd) */
} pg_step;

typedef enum pg_unit_kind { U_NONE = 0, U_BATCH, U_SOLO, U_QUERY, U_ROLLBACK } pg_unit_kind;

/* What is in flight on the connection: one pipeline ending with a Sync. */
typedef struct pg_unit {
    pg_unit_kind kind;
    pg_step steps[PG_STEPS_MAX];
    size_t nsteps;
    size_t cur;       /* step whose result comes next */
    bool got;         /* steps[cur] has its result (a NULL moves on) */
    bool sent;        /* handed to libpq: the server may have executed it */
    bool failed;      /* a result proved the transaction did not commit */
    int64_t start_us; /* for the commit latency */
} pg_unit;

typedef struct pg_migration {
    long version;
    char *file; /* "001_init.sql" */
    char *name; /* "init" */
    char *sql;
} pg_migration;

typedef struct pg {
    /* config, written by the engine (types from config.h) */
    const char *conninfo;
    int64_t queue_max;
    const char *journal;
    int64_t reconnect_min_ms;
    int64_t reconnect_max_ms;
    int64_t connect_timeout_ms;
    int64_t query_timeout_ms;
    int64_t stop_timeout_ms;

    at_instance *inst;
    const at_host *host;
    char *journal_path;
    pg_migration *migs;
    size_t nmigs;
    bool started;
    bool stopping;
    bool in_io; /* guards against re-entering the I/O code from callbacks */

    /* the queue, in call order */
    pg_item *head;
    pg_item *tail;
    size_t mem_writes;      /* writes held in memory (queue_depth) */
    size_t journal_pending; /* journaled writes not finished (journal_depth) */
    size_t queries;         /* queries in the queue */
    pg_item *fin_head;      /* finished items whose callbacks are due, in order */
    pg_item *fin_tail;

    /* journal */
    int jfd;          /* -1 when not open */
    off_t jsize;      /* bytes in the file */
    uint64_t jseq;    /* records appended since it was last emptied */
    bool jspill;      /* spilling: new writes go to the journal until it drains */
    bool jdirty;      /* appended since the last fsync */
    uint64_t jloaded; /* records found at start (left by a previous run) */

    /* connection */
    PGconn *conn;
    pg_cstate cstate;
    at_fdwatch *watch;
    int watch_fd;
    unsigned watch_what;
    bool want_flush; /* libpq has output left to send */
    at_timer *retry_timer;
    at_timer *connect_timer;
    at_timer *query_timer;
    at_timer *kick_timer;
    int attempt; /* failures (connect or loss) since the last good connection */
    int retries; /* reconnect attempts since the last good connection */
    bool ever_connected;
    uint64_t rng;
    char reason[256]; /* why we are not connected */
    bool need_rollback;
    pg_unit unit;

    /* migrations (PG_MIGRATING) */
    int mstep;
    int mcur_res; /* results seen for the command in flight */
    bool mexists; /* schema_migrations exists */
    long *applied;
    size_t napplied;
    size_t mcur; /* migration being applied */
    bool mfailed;
    char *mmsg;

    at_metric *m_writes;
    at_metric *m_errors;
    at_metric *m_qdepth;
    at_metric *m_jdepth;
    at_metric *m_reconnects;
    at_metric *m_commit;
} pg;

/* storage_postgres.c */
void pg_gauges(pg *p);
void pg_report(pg *p); /* set_state from the connection state and the counts */
void pg_fire(pg *p);   /* run due callbacks (call at the end of every entry point) */
void pg_kick(pg *p);   /* pump the queue soon (next loop turn) */
int64_t pg_mono_us(void);

/* pg_item.c */
int pg_item_new(pg *p, pg_kind kind, const char *sql, const at_db_value *params, size_t n,
                pg_item **out);
/* Build the payload from journal fields (sql, types, text values). */
int pg_item_set_payload(pg_item *it, const char *sql, const char *types, const char *const *vals,
                        int n);
void pg_item_drop_payload(pg_item *it);
void pg_item_free(pg_item *it);
void pg_queue_push(pg *p, pg_item *it);
/* Unlink `it` (prev is its predecessor or NULL for the head) and put it on
 * the finished list with err/msg (msg copied, may be NULL). */
void pg_finish(pg *p, pg_item *prev, pg_item *it, int err, const char *msg);
/* Parameter types for libpq (0 = let the server infer). */
void pg_item_oids(const pg_item *it, Oid *oids);

/* pg_journal.c */
int pg_journal_load(pg *p);
int pg_journal_append(pg *p, pg_item *it);
void pg_journal_sync(pg *p);
int pg_journal_materialise(pg *p, pg_item *it);
/* A journaled item finished: count it, note progress, truncate when empty. */
void pg_journal_done(pg *p, uint64_t acked_seq);
/* stop(): rewrite the journal with every pending write, in queue order. */
int pg_journal_rewrite(pg *p, size_t *count);
void pg_journal_close(pg *p);

/* pg_conn.c */
void pg_conn_start(pg *p);
void pg_conn_lost(pg *p, const char *why);
void pg_conn_close(pg *p);
void pg_conn_ready(pg *p); /* migrations done: enter pipeline mode */
void pg_watch(pg *p, unsigned what);
void pg_io(pg *p, unsigned what);
/* PQflush; AT_EIO when the connection was dropped. */
int pg_flush_out(pg *p);
void pg_query_timer_arm(pg *p);
void pg_stop_drive(pg *p); /* stop(): drive libpq with poll() until done or timeout */
/* "primary message: detail" of an error result (malloc'd, NULL on OOM). */
char *pg_result_text(const PGresult *res);
/* First line of a libpq message, trimmed, into buf. */
const char *pg_oneline(const char *msg, char *buf, size_t cap);

/* pg_pipe.c */
void pg_pump(pg *p); /* start the next unit when idle */
/* A result (NULL included) for the unit in flight. Returns 1 to keep reading,
 * 0 to wait for more input, < 0 when the connection was dropped. */
int pg_pipe_result(pg *p, PGresult *res);
/* The connection dropped with a unit in flight: mark what may have committed. */
void pg_pipe_abandon(pg *p);
/* SQLSTATE classes after which the same statement can succeed later. */
bool pg_transient(const char *state);

/* pg_migrate.c */
int pg_migrations_load(pg *p);
void pg_migrations_free(pg *p);
void pg_migrate_begin(pg *p);
int pg_migrate_result(pg *p, PGresult *res);

#endif

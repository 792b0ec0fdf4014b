/* The checkpointer: copies the WAL back into the database file on its own
 * connection and thread. SQLite's autocheckpoint runs inside the COMMIT that
 * takes the WAL past 1000 pages, so that commit (and every item of its batch,
 * an order waiting to be sent among them) also waited for the database
 * file's writes and fsync: milliseconds, where the commit alone takes a few
 * hundred microseconds. A PASSIVE checkpoint on another connection takes no
 * lock the writer needs, so the writer never waits for it. Without WAL
 * (":memory:") or when the second connection cannot be had, SQLite's own
 * autocheckpoint stays in place. */
#include <stdio.h>
#include <string.h>

#include "sq.h"

/* sqlite3_wal_hook of the writer's connection (worker thread, after each
 * commit): registering it turns SQLite's autocheckpoint off. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    sq *s = arg;
    if (pages >= SQ_CKPT_PAGES) {
        pthread_mutex_lock(&s->mu);
        s->ckpt_wanted = true;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->mu);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    sq *s = arg;
    bool warned = false;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->ckpt_wanted && !s->ckpt_stop) {
            pthread_cond_wait(&s->ckpt_cv, &s->mu);
        }
        if (s->ckpt_stop) {
            break;
        }
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->mu);
        int rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        /* BUSY: another checkpoint is running (another process); the next
         * commit past the mark asks again, as SQLite's own would */
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && !warned) {
            s->host->log(s->inst, AT_LOG_WARN,
                         "%s: checkpoint failed (the WAL keeps growing "
                         "until one succeeds): %s",
                         s->db_path, sqlite3_errmsg(s->ckpt_db));
            warned = true;
        } else if (rc == SQLITE_OK) {
            warned = false;
        }
        pthread_mutex_lock(&s->mu);
        s->ckpts += rc == SQLITE_OK;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void fall_back(sq *s, const char *why)
{
    s->host->log(s->inst, AT_LOG_WARN,
                 "%s: no checkpoint thread (%s): SQLite checkpoints inside the commits", s->db_path,
                 why);
    if (s->ckpt_db) {
        sqlite3_close_v2(s->ckpt_db);
        s->ckpt_db = NULL;
    }
}

void sq_ckpt_start(sq *s)
{
    if (strcmp(s->journal_mode, "wal") != 0) {
        return; /* no WAL, nothing to copy back */
    }
    int rc = sqlite3_open_v2(s->db_path, &s->ckpt_db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) {
        fall_back(s, s->ckpt_db ? sqlite3_errmsg(s->ckpt_db) : sqlite3_errstr(rc));
        return;
    }
    /* the same durability as the writer's: FULL syncs the WAL before the
     * copy and the database after it */
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s",
             s->synchronous == 1 ? "NORMAL" : "FULL");
    if (sqlite3_exec(s->ckpt_db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        fall_back(s, sqlite3_errmsg(s->ckpt_db));
        return;
    }
    s->ckpt_stop = false;
    s->ckpt_wanted = false;
    if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) != 0) {
        fall_back(s, "cannot create it");
        return;
    }
    s->ckpt_running = true;
    sqlite3_wal_hook(s->db, on_wal_commit, s);
}

void sq_ckpt_stop(sq *s)
{
    if (s->ckpt_running) {
        pthread_mutex_lock(&s->mu);
        s->ckpt_stop = true;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->ckpt_thread, NULL);
        s->ckpt_running = false;
        if (s->db) {
            sqlite3_wal_hook(s->db, NULL, NULL);
        }
    }
    if (s->ckpt_db) {
        sqlite3_close_v2(s->ckpt_db);
        s->ckpt_db = NULL;
    }
}

/* Schema migrations, run on every new connection before anything else:
 * <sql_dir>/postgres/NNN_name.sql in version order, each one not yet in
 * schema_migrations applied in its own transaction together with its row.
 * Each transaction first takes pg_advisory_xact_lock(PG_MIGRATION_LOCK) and
 * re-reads schema_migrations under it, so engines sharing a database apply a
 * migration exactly once. Files are read once, at start. Runs on the simple
 * query protocol (a file holds many statements), before pipeline mode. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg.h"

enum { M_IDLE = 0, M_LOCK, M_LIST, M_APPLY, M_RECORD, M_COMMIT, M_DONE };

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int cmp_mig(const void *a, const void *b)
{
    const pg_migration *x = a, *y = b;
    return x->version < y->version ? -1 : x->version > y->version;
}

void pg_migrations_free(pg *p)
{
    for (size_t i = 0; i < p->nmigs; i++) {
        free(p->migs[i].file);
        free(p->migs[i].name);
        free(p->migs[i].sql);
    }
    free(p->migs);
    p->migs = NULL;
    p->nmigs = 0;
    free(p->applied);
    p->applied = NULL;
    p->napplied = 0;
    free(p->mmsg);
    p->mmsg = NULL;
}

int pg_migrations_load(pg *p)
{
    const char *sql_dir = p->host->core_get("sql_dir");
    if (!sql_dir || !*sql_dir) {
        p->host->log(p->inst, AT_LOG_ERROR, "[core] sql_dir is not set: cannot find migrations");
        return AT_ECONFIG;
    }
    size_t dlen = strlen(sql_dir) + sizeof("/postgres");
    char *dir = malloc(dlen);
    if (!dir) {
        return AT_ENOMEM;
    }
    snprintf(dir, dlen, "%s/postgres", sql_dir);
    int err = AT_OK;
    size_t cap = 0;
    DIR *d = opendir(dir);
    if (!d) {
        p->host->log(p->inst, AT_LOG_ERROR, "cannot read migrations directory %s: %s", dir,
                     strerror(errno));
        free(dir);
        return AT_ECONFIG;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *f = e->d_name;
        size_t len = strlen(f), digits = strspn(f, "0123456789");
        if (digits == 0 || f[digits] != '_' || len < digits + 6 ||
            strcmp(f + len - 4, ".sql") != 0) {
            continue;
        }
        if (p->nmigs == cap) {
            cap = cap ? cap * 2 : 8;
            pg_migration *nm = realloc(p->migs, cap * sizeof(*nm));
            if (!nm) {
                err = AT_ENOMEM;
                goto done;
            }
            p->migs = nm;
        }
        pg_migration *m = &p->migs[p->nmigs++];
        memset(m, 0, sizeof(*m));
        m->version = strtol(f, NULL, 10);
        m->file = strdup(f);
        m->name = strndup(f + digits + 1, len - digits - 5);
        size_t plen = strlen(dir) + len + 2;
        char *path = malloc(plen);
        if (path) {
            snprintf(path, plen, "%s/%s", dir, f);
            m->sql = read_text(path);
        }
        if (!m->file || !m->name || !m->sql) {
            p->host->log(p->inst, AT_LOG_ERROR, "cannot read migration %s: %s", path ? path : f,
                         strerror(errno));
            free(path);
            err = AT_EIO;
            goto done;
        }
        free(path);
    }
    qsort(p->migs, p->nmigs, sizeof(*p->migs), cmp_mig);
    for (size_t i = 1; i < p->nmigs; i++) {
        if (p->migs[i].version == p->migs[i - 1].version) {
            p->host->log(p->inst, AT_LOG_ERROR, "%s: migrations %s and %s have the same version",
                         dir, p->migs[i - 1].file, p->migs[i].file);
            err = AT_ECONFIG;
            goto done;
        }
    }
    if (p->nmigs == 0) {
        p->host->log(p->inst, AT_LOG_ERROR, "no migrations (NNN_name.sql) in %s", dir);
        err = AT_ECONFIG;
    }
done:
    closedir(d);
    free(dir);
    return err;
}

static int msend(pg *p, int step, const char *sql)
{
    p->mstep = step;
    p->mcur_res = 0;
    if (!PQsendQuery(p->conn, sql)) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return -1;
    }
    return pg_flush_out(p) == AT_OK ? 1 : -1;
}

void pg_migrate_begin(pg *p)
{
    free(p->applied);
    p->applied = NULL;
    p->napplied = 0;
    p->mfailed = false;
    free(p->mmsg);
    p->mmsg = NULL;
    char sql[160];
    snprintf(sql, sizeof(sql),
             "BEGIN; SELECT pg_advisory_xact_lock(%d); "
             "SELECT to_regclass('schema_migrations') IS NOT NULL",
             PG_MIGRATION_LOCK);
    if (msend(p, M_LOCK, sql) < 0) {
        return;
    }
    pg_watch(p, AT_FD_READ | (p->want_flush ? AT_FD_WRITE : 0));
}

static bool applied(const pg *p, long v)
{
    for (size_t i = 0; i < p->napplied; i++) {
        if (p->applied[i] == v) {
            return true;
        }
    }
    return false;
}

/* Under the lock, with the applied set known: apply the next one or finish. */
static int next_migration(pg *p)
{
    for (size_t i = 0; i < p->nmigs; i++) {
        if (!applied(p, p->migs[i].version)) {
            p->mcur = i;
            return msend(p, M_APPLY, p->migs[i].sql);
        }
    }
    return msend(p, M_DONE, "COMMIT");
}

static int record_migration(pg *p)
{
    const pg_migration *m = &p->migs[p->mcur];
    char version[24], when[24];
    struct timespec now;
    /* when the schema changed in the real world, not on a simulated clock */
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(version, sizeof(version), "%ld", m->version);
    snprintf(when, sizeof(when), "%lld",
             (long long)now.tv_sec * 1000 + (long long)(now.tv_nsec / 1000000));
    const char *vals[] = {version, m->name, when};
    p->mstep = M_RECORD;
    p->mcur_res = 0;
    if (!PQsendQueryParams(p->conn,
                           "INSERT INTO schema_migrations (version, name, applied_ms) "
                           "VALUES ($1, $2, $3)",
                           3, NULL, vals, NULL, NULL, 0)) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return -1;
    }
    return pg_flush_out(p) == AT_OK ? 1 : -1;
}

static int migrate_failed(pg *p)
{
    char line[300], why[400];
    pg_oneline(p->mmsg, line, sizeof(line));
    if (p->mstep == M_APPLY || p->mstep == M_RECORD) {
        p->host->log(p->inst, AT_LOG_ERROR, "migration postgres/%s failed: %s",
                     p->migs[p->mcur].file, line);
        snprintf(why, sizeof(why), "migration %s failed: %s", p->migs[p->mcur].file, line);
    } else {
        snprintf(why, sizeof(why), "checking migrations: %s", line);
    }
    /* closing the connection rolls the transaction back */
    pg_conn_lost(p, why);
    return -1;
}

int pg_migrate_result(pg *p, PGresult *res)
{
    if (p->mstep == M_IDLE) {
        PQclear(res);
        return 0;
    }
    if (res) {
        ExecStatusType st = PQresultStatus(res);
        int idx = p->mcur_res++;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            if (!p->mfailed) {
                p->mfailed = true;
                p->mmsg = pg_result_text(res);
            }
        } else if (p->mstep == M_LOCK && idx == 2 && PQntuples(res) == 1) {
            p->mexists = PQgetvalue(res, 0, 0)[0] == 't';
        } else if (p->mstep == M_LIST && st == PGRES_TUPLES_OK) {
            int n = PQntuples(res);
            long *v = realloc(p->applied, (size_t)(n ? n : 1) * sizeof(*v));
            if (!v) {
                p->mfailed = true;
                p->mmsg = strdup("out of memory");
            } else {
                p->applied = v;
                for (int i = 0; i < n; i++) {
                    v[i] = strtol(PQgetvalue(res, i, 0), NULL, 10);
                }
                p->napplied = (size_t)n;
            }
        }
        PQclear(res);
        return 1;
    }
    /* NULL: the command sent last is complete */
    if (p->mfailed) {
        return migrate_failed(p);
    }
    switch (p->mstep) {
    case M_LOCK:
        if (p->mexists) {
            return msend(p, M_LIST, "SELECT version FROM schema_migrations");
        }
        p->napplied = 0;
        return next_migration(p);
    case M_LIST:
        return next_migration(p);
    case M_APPLY:
        return record_migration(p);
    case M_RECORD:
        return msend(p, M_COMMIT, "COMMIT");
    case M_COMMIT:
        p->host->log(p->inst, AT_LOG_INFO, "applied migration postgres/%s", p->migs[p->mcur].file);
        pg_migrate_begin(p); /* the next one, in a new transaction under the lock */
        return p->conn ? 1 : -1;
    case M_DONE:
        p->mstep = M_IDLE;
        pg_conn_ready(p);
        return p->conn ? 0 : -1;
    default:
        return 0;
    }
}

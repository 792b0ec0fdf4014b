/* Opening the database and applying sql/sqlite/NNN_name.sql migrations.
 * Runs on the main thread inside start(), where blocking is allowed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sq.h"

typedef struct migration {
    long version;
    char *file; /* "001_init.sql" */
    char *name; /* "init" */
} migration;

static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p) {
        memcpy(p, a, la);
        p[la] = '/';
        memcpy(p + la + 1, b, lb + 1);
    }
    return p;
}

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(sq *s, const char *path)
{
    char *p = sq_strdup(path);
    if (!p) {
        return AT_ENOMEM;
    }
    for (char *c = p + 1; *c; c++) {
        if (*c != '/') {
            continue;
        }
        *c = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            s->host->log(s->inst, AT_LOG_ERROR, "cannot create directory %s: %s", p,
                         strerror(errno));
            free(p);
            return AT_EIO;
        }
        *c = '/';
    }
    free(p);
    return AT_OK;
}

static int exec_pragma(sq *s, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            if (out && t) {
                snprintf(out, outlen, "%s", (const char *)t);
            }
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        s->host->log(s->inst, AT_LOG_ERROR, "%s: %s failed: %s", s->db_path, sql,
                     sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return AT_EDB;
    }
    sqlite3_finalize(st);
    return AT_OK;
}

static int cmp_migration(const void *a, const void *b)
{
    long va = ((const migration *)a)->version, vb = ((const migration *)b)->version;
    return (va > vb) - (va < vb);
}

static void free_migrations(migration *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].file);
        free(m[i].name);
    }
    free(m);
}

/* NNN_name.sql files of dir, sorted by version; duplicates are an error. */
static int list_migrations(sq *s, const char *dir, migration **out, size_t *nout)
{
    DIR *d = opendir(dir);
    if (!d) {
        s->host->log(s->inst, AT_LOG_ERROR, "cannot read migrations directory %s: %s", dir,
                     strerror(errno));
        return AT_EIO;
    }
    migration *m = NULL;
    size_t n = 0, cap = 0;
    int err = AT_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *f = e->d_name;
        size_t len = strlen(f), digits = strspn(f, "0123456789");
        if (digits == 0 || f[digits] != '_' || len < digits + 6 ||
            strcmp(f + len - 4, ".sql") != 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            migration *nm = realloc(m, cap * sizeof(*m));
            if (!nm) {
                err = AT_ENOMEM;
                goto done;
            }
            m = nm;
        }
        m[n].version = strtol(f, NULL, 10);
        m[n].file = sq_strdup(f);
        m[n].name = malloc(len - digits - 4);
        n++;
        if (!m[n - 1].file || !m[n - 1].name) {
            err = AT_ENOMEM;
            goto done;
        }
        memcpy(m[n - 1].name, f + digits + 1, len - digits - 5);
        m[n - 1].name[len - digits - 5] = '\0';
    }
    qsort(m, n, sizeof(*m), cmp_migration);
    for (size_t i = 1; i < n; i++) {
        if (m[i].version == m[i - 1].version) {
            s->host->log(s->inst, AT_LOG_ERROR, "%s: migrations %s and %s have the same version",
                         dir, m[i - 1].file, m[i].file);
            err = AT_ECONFIG;
            goto done;
        }
    }
done:
    closedir(d);
    if (err != AT_OK) {
        free_migrations(m, n);
        return err;
    }
    *out = m;
    *nout = n;
    return AT_OK;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* Versions already recorded in schema_migrations (none for a fresh database). */
static int applied_versions(sq *s, long **out, size_t *nout)
{
    sqlite3_stmt *st = NULL;
    long *v = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *nout = 0;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                                "'schema_migrations'",
                                -1, &st, NULL);
    bool exists = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_OK) {
        goto fail;
    }
    if (!exists) {
        return AT_OK;
    }
    rc = sqlite3_prepare_v2(s->db, "SELECT version FROM schema_migrations ORDER BY version", -1,
                            &st, NULL);
    if (rc != SQLITE_OK) {
        goto fail;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            long *nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                free(v);
                sqlite3_finalize(st);
                return AT_ENOMEM;
            }
            v = nv;
        }
        v[n++] = (long)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        goto fail;
    }
    *out = v;
    *nout = n;
    return AT_OK;
fail:
    s->host->log(s->inst, AT_LOG_ERROR, "%s: cannot read schema_migrations: %s", s->db_path,
                 sqlite3_errmsg(s->db));
    free(v);
    return AT_EDB;
}

/* One migration file and its schema_migrations row in one transaction. */
static int apply_one(sq *s, const char *dir, const migration *m)
{
    char *path = join_path(dir, m->file);
    char *text = path ? read_file(path) : NULL;
    char *errmsg = NULL;
    sqlite3_stmt *st = NULL;
    int err = AT_EDB;
    if (!text) {
        s->host->log(s->inst, AT_LOG_ERROR, "cannot read migration %s: %s", path ? path : m->file,
                     strerror(errno));
        err = AT_EIO;
        goto fail;
    }
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) != SQLITE_OK ||
        sqlite3_exec(s->db, text, NULL, NULL, &errmsg) != SQLITE_OK) {
        goto fail;
    }
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO schema_migrations (version, name, applied_ms) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &st, NULL) != SQLITE_OK) {
        goto fail;
    }
    /* when the schema changed in the real world, not on a simulated clock */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sqlite3_bind_int64(st, 1, m->version);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (sqlite3_step(st) != SQLITE_DONE) {
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK) {
        goto fail;
    }
    s->host->log(s->inst, AT_LOG_INFO, "applied migration sqlite/%s", m->file);
    free(text);
    free(path);
    return AT_OK;

fail:
    if (text) {
        s->host->log(s->inst, AT_LOG_ERROR, "migration %s failed: %s", path,
                     errmsg ? errmsg : sqlite3_errmsg(s->db));
    }
    sqlite3_free(errmsg);
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    free(text);
    free(path);
    return err;
}

static bool contains(const long *v, size_t n, long x)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == x) {
            return true;
        }
    }
    return false;
}

static int migrate(sq *s)
{
    const char *sql_dir = s->host->core_get("sql_dir");
    if (!sql_dir || !*sql_dir) {
        s->host->log(s->inst, AT_LOG_ERROR, "[core] sql_dir is not set: cannot find migrations");
        return AT_ECONFIG;
    }
    char *dir = join_path(sql_dir, "sqlite");
    migration *m = NULL;
    long *applied = NULL;
    size_t nm = 0, na = 0;
    int err = dir ? list_migrations(s, dir, &m, &nm) : AT_ENOMEM;
    if (err != AT_OK) {
        goto done;
    }
    if (nm == 0) {
        s->host->log(s->inst, AT_LOG_ERROR, "no NNN_name.sql migrations in %s", dir);
        err = AT_ECONFIG;
        goto done;
    }
    err = applied_versions(s, &applied, &na);
    if (err != AT_OK) {
        goto done;
    }
    long version = 0;
    for (size_t i = 0; i < na; i++) {
        version = applied[i] > version ? applied[i] : version;
    }
    for (size_t i = 0; i < nm; i++) {
        if (contains(applied, na, m[i].version)) {
            continue;
        }
        err = apply_one(s, dir, &m[i]);
        if (err != AT_OK) {
            goto done;
        }
        version = m[i].version > version ? m[i].version : version;
    }
    if (version > m[nm - 1].version) {
        s->host->log(s->inst, AT_LOG_WARN,
                     "%s has schema version %ld, newer than the newest migration here (%s)",
                     s->db_path, version, m[nm - 1].file);
    }
    s->schema_version = (int)version;
done:
    free_migrations(m, nm);
    free(applied);
    free(dir);
    return err;
}

static int resolve_path(sq *s)
{
    if (s->path && *s->path) {
        s->db_path = sq_strdup(s->path);
    } else {
        const char *data_dir = s->host->core_get("data_dir");
        s->db_path = join_path(data_dir && *data_dir ? data_dir : ".", "aitrader.db");
    }
    return s->db_path ? AT_OK : AT_ENOMEM;
}

int sq_open(sq *s)
{
    int err = resolve_path(s);
    if (err != AT_OK) {
        return err;
    }
    bool special = strcmp(s->db_path, ":memory:") == 0 || strncmp(s->db_path, "file:", 5) == 0;
    if (!special && (err = make_parent_dirs(s, s->db_path)) != AT_OK) {
        return err;
    }
    /* NOMUTEX: the connection is used by one thread at a time (start, then
     * the worker, then stop after the join) */
    int rc = sqlite3_open_v2(
        s->db_path, &s->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) {
        s->host->log(s->inst, AT_LOG_ERROR, "cannot open %s: %s", s->db_path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        return AT_EDB;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, s->busy_timeout_ms > INT_MAX ? INT_MAX : (int)s->busy_timeout_ms);

    char pragma[64];
    if ((err = exec_pragma(s, "PRAGMA journal_mode=WAL", s->journal_mode,
                           sizeof(s->journal_mode))) != AT_OK) {
        return err;
    }
    if (strcmp(s->journal_mode, "wal") != 0) {
        s->host->log(s->inst, AT_LOG_WARN, "%s: journal_mode is %s, not wal", s->db_path,
                     s->journal_mode);
    }
    /* synchronous=FULL also fsyncs the WAL on every commit: money data */
    snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s",
             s->synchronous == 1 ? "NORMAL" : "FULL");
    if ((err = exec_pragma(s, pragma, NULL, 0)) != AT_OK ||
        (err = exec_pragma(s, "PRAGMA foreign_keys=ON", NULL, 0)) != AT_OK) {
        return err;
    }
    /* negative cache_size is in KiB rather than pages */
    snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=-%lld",
             (long long)(s->cache_size / 1024 > 0 ? s->cache_size / 1024 : 1));
    if ((err = exec_pragma(s, pragma, NULL, 0)) != AT_OK) {
        return err;
    }
    return migrate(s);
}

void sq_close(sq *s)
{
    sq_ckpt_stop(s); /* its connection first: the writer's close is the last */
    sq_cache_clear(s);
    sq_ctl_finalize(s);
    if (s->db) {
        int rc = sqlite3_close(s->db);
        if (rc != SQLITE_OK) {
            s->host->log(s->inst, AT_LOG_WARN, "%s: close: %s", s->db_path, sqlite3_errstr(rc));
            sqlite3_close_v2(s->db);
        }
        s->db = NULL;
    }
}

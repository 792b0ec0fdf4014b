/* Statement cache, $k binding and result copying for the SQLite worker. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sq.h"

int64_t sq_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *sq_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

bool sq_transient(int rc)
{
    /* Conditions of the database or the machine, not of the statement: the
     * same write succeeds once the lock holder, the disk or the memory
     * pressure goes away, so the items stay queued instead of failing. */
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return true;
    default:
        return false;
    }
}

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* Parameters must be exactly $1..$n (each at least once, any order, reuse
 * allowed) so that the same SQL means the same thing in PostgreSQL. Returns n,
 * or -1 for '?', ':name', '$01', a gap … */
static int count_dollar_params(sqlite3_stmt *st)
{
    int count = sqlite3_bind_parameter_count(st);
    int max = 0;
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9') {
            return -1;
        }
        char *end;
        errno = 0;
        long k = strtol(name + 1, &end, 10);
        if (*end || errno || k > 100000) {
            return -1;
        }
        if (k > max) {
            max = (int)k;
        }
    }
    /* distinct names, each $k with k <= max: count == max iff none is missing */
    return max == count ? count : -1;
}

static bool only_blank(const char *p)
{
    for (; *p; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') {
            return false;
        }
    }
    return true;
}

static char *msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msgf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return sq_strdup(buf);
}

int sq_prepare(sq *s, const char *sql, sqlite3_stmt **out, int *nparams, char **msg)
{
    uint64_t h = hash_sql(sql);
    sq_cached *slot = NULL;
    for (int i = 0; i < SQ_CACHE_SLOTS; i++) {
        sq_cached *c = &s->cache[i];
        if (c->st && c->hash == h && strcmp(c->sql, sql) == 0) {
            c->used = ++s->cache_tick;
            *out = c->st;
            *nparams = c->nparams;
            return AT_OK;
        }
        if (!slot || !c->st || (slot->st && c->used < slot->used)) {
            slot = c; /* an empty slot, else the least recently used */
        }
    }

    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) {
        *msg = sq_strdup(sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return sq_transient(rc) ? AT_EAGAIN : AT_EDB;
    }
    if (!st) {
        *msg = sq_strdup("empty statement");
        return AT_EINVAL;
    }
    if (tail && !only_blank(tail)) {
        /* exec of several statements would bypass binding and savepoints */
        *msg = sq_strdup("one statement per call: text follows the first statement");
        sqlite3_finalize(st);
        return AT_EINVAL;
    }
    char *copy = sq_strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        *msg = sq_strdup("out of memory");
        return AT_EAGAIN;
    }
    if (slot->st) {
        sqlite3_finalize(slot->st);
        free(slot->sql);
    }
    slot->sql = copy;
    slot->hash = h;
    slot->st = st;
    slot->nparams = count_dollar_params(st);
    slot->used = ++s->cache_tick;
    *out = st;
    *nparams = slot->nparams;
    return AT_OK;
}

void sq_cache_clear(sq *s)
{
    for (int i = 0; i < SQ_CACHE_SLOTS; i++) {
        sq_cached *c = &s->cache[i];
        if (c->st) {
            sqlite3_finalize(c->st);
            free(c->sql);
        }
        memset(c, 0, sizeof(*c));
    }
}

int sq_bind(sqlite3_stmt *st, int nparams, const sq_param *params, size_t n, char **msg)
{
    if (nparams < 0) {
        *msg = sq_strdup("parameters must be written $1..$n, each number used at least once");
        return AT_EINVAL;
    }
    if ((size_t)nparams != n) {
        *msg = msgf("statement takes %d parameters, %zu given", nparams, n);
        return AT_EINVAL;
    }
    for (size_t k = 1; k <= n; k++) {
        char name[24];
        snprintf(name, sizeof(name), "$%zu", k);
        int idx = sqlite3_bind_parameter_index(st, name);
        const sq_param *p = &params[k - 1];
        int rc;
        switch (p->type) {
        case AT_DB_INT:
            rc = sqlite3_bind_int64(st, idx, p->u.i);
            break;
        case AT_DB_REAL:
            rc = sqlite3_bind_double(st, idx, p->u.r);
            break;
        case AT_DB_TEXT:
            /* the item outlives the step: no copy */
            rc = sqlite3_bind_text(st, idx, p->u.s, -1, SQLITE_STATIC);
            break;
        default:
            rc = sqlite3_bind_null(st, idx);
            break;
        }
        if (rc != SQLITE_OK) {
            *msg = msgf("binding $%zu failed (SQLite code %d)", k, rc);
            return AT_EINVAL;
        }
    }
    return AT_OK;
}

static char *copy_bytes(const void *p, int len)
{
    char *d = malloc((size_t)len + 1);
    if (d) {
        if (len > 0) {
            memcpy(d, p, (size_t)len);
        }
        d[len] = '\0';
    }
    return d;
}

int sq_copy_row(sq_item *it, sqlite3_stmt *st)
{
    if (!it->names) {
        int nc = sqlite3_column_count(st);
        it->names = calloc((size_t)nc + 1, sizeof(char *));
        if (!it->names) {
            return AT_ENOMEM;
        }
        it->ncols = (size_t)nc;
        for (int c = 0; c < nc; c++) {
            const char *nm = sqlite3_column_name(st, c);
            it->names[c] = sq_strdup(nm ? nm : "");
            if (!it->names[c]) {
                return AT_ENOMEM;
            }
        }
    }
    if (it->nrows == it->cap_rows) {
        size_t cap = it->cap_rows ? it->cap_rows * 2 : 16;
        size_t cells = cap * (it->ncols ? it->ncols : 1);
        at_db_value *v = realloc(it->vals, cells * sizeof(*v));
        if (!v) {
            return AT_ENOMEM;
        }
        it->vals = v;
        it->cap_rows = cap;
    }
    at_db_value *row = &it->vals[it->nrows * it->ncols];
    /* count the row first so a failed copy below is freed with the others */
    memset(row, 0, it->ncols * sizeof(*row));
    it->nrows++;
    for (size_t c = 0; c < it->ncols; c++) {
        int col = (int)c;
        switch (sqlite3_column_type(st, col)) {
        case SQLITE_INTEGER:
            row[c] = (at_db_value){.type = AT_DB_INT, .u.i = sqlite3_column_int64(st, col)};
            break;
        case SQLITE_FLOAT:
            row[c] = (at_db_value){.type = AT_DB_REAL, .u.r = sqlite3_column_double(st, col)};
            break;
        case SQLITE_TEXT: {
            const unsigned char *t = sqlite3_column_text(st, col);
            char *d = copy_bytes(t, sqlite3_column_bytes(st, col));
            if (!d) {
                return AT_ENOMEM;
            }
            row[c] = (at_db_value){.type = AT_DB_TEXT, .u.s = d};
            break;
        }
        case SQLITE_BLOB: {
            /* the contract has no blob type: hand over the bytes as text */
            const void *b = sqlite3_column_blob(st, col);
            char *d = copy_bytes(b, sqlite3_column_bytes(st, col));
            if (!d) {
                return AT_ENOMEM;
            }
            row[c] = (at_db_value){.type = AT_DB_TEXT, .u.s = d};
            break;
        }
        default:
            row[c] = (at_db_value){.type = AT_DB_NULL};
            break;
        }
    }
    return AT_OK;
}

void sq_item_reset_results(sq_item *it)
{
    for (size_t i = 0; i < it->nrows * it->ncols; i++) {
        if (it->vals[i].type == AT_DB_TEXT) {
            free((char *)it->vals[i].u.s);
        }
    }
    free(it->vals);
    if (it->names) {
        for (size_t c = 0; c < it->ncols; c++) {
            free(it->names[c]);
        }
        free(it->names);
    }
    free(it->errmsg);
    it->vals = NULL;
    it->names = NULL;
    it->errmsg = NULL;
    it->ncols = it->nrows = it->cap_rows = 0;
    it->err = AT_OK;
}

void sq_item_free(sq_item *it)
{
    if (it) {
        sq_item_reset_results(it);
        free(it);
    }
}

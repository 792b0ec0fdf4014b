/* Storage contract: one suite that every storage backend must pass the same
 * way. It runs the real engine (harness) with one [storage.*] section and
 * drives host->db_write / db_query of the harness instance.
 *
 *   AT_TEST_STORAGE=sqlite   (default) a database file in a directory this
 *                            test creates and removes
 *   AT_TEST_STORAGE=postgres the cluster in AT_TEST_PG_CONNINFO (required;
 *                            written as `conninfo = env:AT_TEST_PG_CONNINFO`)
 *
 * Isolation: every id a test writes carries a per-run tag, so the suite can
 * run again on a cluster that keeps its data, and tests never see each
 * other's rows.
 *
 * Value normalisation (the only backend differences the contract allows):
 *  - booleans read back as INT 0/1 (SQLite) or as TEXT "t"/"f"/"true"/"false"
 *    or INT (PostgreSQL): cell_bool() maps all of them to 0/1;
 *  - integers may come back as INT or as decimal TEXT: cell_int();
 *  - decimals come back as TEXT; PostgreSQL NUMERIC keeps the inserted scale
 *    ("1.50"), SQLite keeps the exact text written ("1.5"): dec_norm() drops
 *    trailing fractional zeros before comparing strings.
 *
 * `--probe ID` (used by the durability case) starts a second engine on the
 * same database in a child process and exits 0 when it sees audit_log row ID.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WAIT_MS 120000 /* a hang guard, not a timing assertion */
#define MAX_COLS 16
#define BURST 5000

/* ------------------------------------------------------------- backend */

typedef struct suite {
    const char *backend; /* "sqlite" | "postgres" */
    char dir[256];       /* sqlite: directory holding the database */
    char ini[1024];
    char tag[64]; /* per-run id prefix */
    harness *h;
    int seq; /* completion order across callbacks */
} suite;

static suite S; /* the test program's own state, not a plugin's */

static const at_host *host(void)
{
    return harness_host(S.h);
}

static int make_ini(void)
{
    const char *b = getenv("AT_TEST_STORAGE");
    S.backend = b && *b ? b : "sqlite";
    if (strcmp(S.backend, "sqlite") == 0) {
        snprintf(S.dir, sizeof(S.dir), "/tmp/at-storage-XXXXXX");
        if (!mkdtemp(S.dir)) {
            fprintf(stderr, "rt_storage_contract: cannot create a temp directory\n");
            return -1;
        }
        snprintf(S.ini, sizeof(S.ini), "[storage.sqlite]\npath = %s/contract.db\n", S.dir);
        return 0;
    }
    if (strcmp(S.backend, "postgres") == 0) {
        const char *ci = getenv("AT_TEST_PG_CONNINFO");
        if (!ci || !*ci) {
            fprintf(stderr, "rt_storage_contract: AT_TEST_STORAGE=postgres needs "
                            "AT_TEST_PG_CONNINFO (e.g. from tests/support/pg-cluster.sh "
                            "start DIR); refusing to skip\n");
            return -1;
        }
        snprintf(S.ini, sizeof(S.ini),
                 "[storage.postgres]\nconninfo = env:AT_TEST_PG_CONNINFO\n");
        return 0;
    }
    fprintf(stderr, "rt_storage_contract: unknown AT_TEST_STORAGE=%s (sqlite | postgres)\n",
            S.backend);
    return -1;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    if (make_ini() != 0) {
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(S.tag, sizeof(S.tag), "rt%ld%09ld-%d", (long)ts.tv_sec, ts.tv_nsec, (int)getpid());
    printf("# storage backend: %s, run tag %s\n", S.backend, S.tag);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (S.dir[0] && !getenv("AT_TEST_KEEP_TMP")) {
        nftw(S.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    return 0;
}

static int engine_up(void **state)
{
    (void)state;
    S.h = harness_new(S.ini);
    return S.h ? 0 : -1;
}

static int engine_down(void **state)
{
    (void)state;
    harness_free(S.h);
    S.h = NULL;
    return 0;
}

/* "<tag>-<what>" ids, unique per run. */
static const char *id_of(char *buf, size_t len, const char *what)
{
    snprintf(buf, len, "%s-%s", S.tag, what);
    return buf;
}

/* ----------------------------------------------------------- callbacks */

typedef struct done_rec {
    int called;
    int err;
    int seq;
    char msg[512];
} done_rec;

static void on_done(void *arg, int err, const char *msg)
{
    done_rec *d = arg;
    d->called++;
    d->err = err;
    d->seq = ++S.seq;
    snprintf(d->msg, sizeof(d->msg), "%s", msg ? msg : "");
}

static bool done_called(void *arg)
{
    return ((done_rec *)arg)->called > 0;
}

typedef struct cell {
    at_db_type type;
    int64_t i;
    double r;
    char *s;
} cell;

typedef struct qres {
    done_rec d;
    size_t ncols;
    char *names[MAX_COLS];
    size_t nrows;
    size_t cap;
    cell *cells; /* nrows * ncols */
    size_t stop_after; /* return non-zero after this many rows; 0 = never */
    size_t row_calls;
} qres;

static int on_row(void *arg, const at_db_row *row)
{
    qres *q = arg;
    q->row_calls++;
    assert_true(row->ncols > 0 && row->ncols <= MAX_COLS);
    if (q->ncols == 0) {
        q->ncols = row->ncols;
        for (size_t c = 0; c < row->ncols; c++) {
            q->names[c] = strdup(row->names[c]);
        }
    }
    assert_int_equal(q->ncols, row->ncols);
    if (q->nrows == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->cells = realloc(q->cells, q->cap * q->ncols * sizeof(cell));
        assert_non_null(q->cells);
    }
    cell *out = &q->cells[q->nrows * q->ncols];
    for (size_t c = 0; c < row->ncols; c++) {
        const at_db_value *v = &row->cols[c];
        out[c] = (cell){.type = v->type};
        switch (v->type) {
        case AT_DB_INT:
            out[c].i = v->u.i;
            break;
        case AT_DB_REAL:
            out[c].r = v->u.r;
            break;
        case AT_DB_TEXT:
            out[c].s = strdup(v->u.s);
            break;
        case AT_DB_NULL:
            break;
        default:
            fail_msg("column %zu came back as type %d (NULL/INT/REAL/TEXT only)", c, v->type);
        }
    }
    q->nrows++;
    return q->stop_after && q->nrows >= q->stop_after ? 1 : 0;
}

static void qres_free(qres *q)
{
    for (size_t i = 0; i < q->nrows * q->ncols; i++) {
        free(q->cells[i].s);
    }
    for (size_t c = 0; c < q->ncols; c++) {
        free(q->names[c]);
    }
    free(q->cells);
    memset(q, 0, sizeof(*q));
}

static const cell *at(const qres *q, size_t row, size_t col)
{
    assert_true(row < q->nrows);
    assert_true(col < q->ncols);
    return &q->cells[row * q->ncols + col];
}

/* --------------------------------------------------------- normalising */

static int64_t cell_int(const cell *c)
{
    if (c->type == AT_DB_INT) {
        return c->i;
    }
    if (c->type == AT_DB_TEXT) {
        char *end;
        long long v = strtoll(c->s, &end, 10);
        if (*end == '\0' && end != c->s) {
            return v;
        }
    }
    fail_msg("expected an integer, got type %d (%s)", c->type, c->s ? c->s : "");
    return 0;
}

static int cell_bool(const cell *c)
{
    if (c->type == AT_DB_INT && (c->i == 0 || c->i == 1)) {
        return (int)c->i;
    }
    if (c->type == AT_DB_TEXT) {
        if (!strcmp(c->s, "t") || !strcmp(c->s, "true") || !strcmp(c->s, "1")) {
            return 1;
        }
        if (!strcmp(c->s, "f") || !strcmp(c->s, "false") || !strcmp(c->s, "0")) {
            return 0;
        }
    }
    fail_msg("expected a boolean, got type %d (%s)", c->type, c->s ? c->s : "");
    return -1;
}

static double cell_real(const cell *c)
{
    if (c->type == AT_DB_REAL) {
        return c->r;
    }
    if (c->type == AT_DB_INT) {
        return (double)c->i;
    }
    if (c->type == AT_DB_TEXT) {
        return strtod(c->s, NULL);
    }
    fail_msg("expected a number, got type %d", c->type);
    return 0;
}

/* Decimal text without trailing fractional zeros: "1.50" -> "1.5", "2.000" -> "2". */
static const char *dec_norm(const cell *c, char *buf, size_t len)
{
    if (c->type == AT_DB_INT) {
        snprintf(buf, len, "%lld", (long long)c->i);
        return buf;
    }
    assert_int_equal(c->type, AT_DB_TEXT);
    snprintf(buf, len, "%s", c->s);
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '0') {
            buf[--n] = '\0';
        }
        if (n > 0 && buf[n - 1] == '.') {
            buf[--n] = '\0';
        }
    }
    return buf;
}

/* ------------------------------------------------------------- driving */

static void wait_for(done_rec *d)
{
    assert_true(harness_run_until(S.h, done_called, d, WAIT_MS));
}

static void write_async(const char *sql, const at_db_value *p, size_t n, done_rec *d)
{
    assert_int_equal(host()->db_write(harness_inst(S.h), sql, p, n, on_done, d), AT_OK);
}

/* Write and wait; returns the completion's err. */
static int write_wait(const char *sql, const at_db_value *p, size_t n, done_rec *d)
{
    write_async(sql, p, n, d);
    wait_for(d);
    assert_int_equal(d->called, 1);
    return d->err;
}

static void write_ok(const char *sql, const at_db_value *p, size_t n)
{
    done_rec d = {0};
    int err = write_wait(sql, p, n, &d);
    if (err != AT_OK) {
        fail_msg("write failed (%d: %s): %s", err, d.msg, sql);
    }
}

static void query_async(const char *sql, const at_db_value *p, size_t n, qres *q)
{
    assert_int_equal(
        host()->db_query(harness_inst(S.h), sql, p, n, on_row, on_done, &q->d), AT_OK);
}

static void query_wait(const char *sql, const at_db_value *p, size_t n, qres *q)
{
    query_async(sql, p, n, q);
    wait_for(&q->d);
    assert_int_equal(q->d.called, 1);
}

static void query_ok(const char *sql, const at_db_value *p, size_t n, qres *q)
{
    query_wait(sql, p, n, q);
    if (q->d.err != AT_OK) {
        fail_msg("query failed (%d: %s): %s", q->d.err, q->d.msg, sql);
    }
}

static int64_t count_where(const char *sql, const at_db_value *p, size_t n)
{
    qres q = {0};
    query_ok(sql, p, n, &q);
    assert_int_equal(q.nrows, 1);
    int64_t v = cell_int(at(&q, 0, 0));
    qres_free(&q);
    return v;
}

static const char *INSERT_ORDER =
    "INSERT INTO orders (intent_id, cl_ord_id, account, origin, inst_id, op, state, "
    "created_ms, updated_ms) VALUES ($1, $2, 'exchange.test', 'contract', 'BTC-USDT-SWAP', "
    "'place', 'intent', $3, $3)";

static void insert_order_async(const char *intent, const char *cl, done_rec *d)
{
    at_db_value p[] = {AT_DB_S(intent), AT_DB_S(cl), AT_DB_I(1700000000000)};
    write_async(INSERT_ORDER, p, 3, d);
}

static const char *INSERT_AUDIT = "INSERT INTO audit_log (id, ts_ms, instance, kind, message) "
                                  "VALUES ($1, $2, 'test.harness', 'contract', $3)";

/* --------------------------------------------------------------- cases */

static void test_schema_migrated(void **state)
{
    (void)state;
    qres q = {0};
    query_ok("SELECT version, name FROM schema_migrations ORDER BY version", NULL, 0, &q);
    assert_true(q.nrows >= 1);
    assert_int_equal(cell_int(at(&q, 0, 0)), 1);
    assert_int_equal(at(&q, 0, 1)->type, AT_DB_TEXT);
    qres_free(&q);

    static const char *const tables[] = {
        "schema_migrations", "accounts",  "instruments",   "orders",
        "fills",             "positions", "equity_snapshots", "decisions",
        "risk_verdicts",     "news",      "sentiment",     "audit_log"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
        memset(&q, 0, sizeof(q));
        query_wait(sql, NULL, 0, &q);
        if (q.d.err != AT_OK) {
            fail_msg("table %s: %d %s", tables[i], q.d.err, q.d.msg);
        }
        assert_int_equal(q.nrows, 1);
        assert_true(cell_int(at(&q, 0, 0)) >= 0);
        qres_free(&q);
    }
}

static void test_value_types(void **state)
{
    (void)state;
    char intent[96], cl[96], dec_id[96];
    id_of(intent, sizeof(intent), "values");
    id_of(cl, sizeof(cl), "values-cl");
    id_of(dec_id, sizeof(dec_id), "values-decision");
    const char *text = "it's \"quoted\", ünïcode ✓ and $1 inside";
    at_db_value p[] = {
        AT_DB_S(intent),
        AT_DB_S(cl),
        AT_DB_D(((at_dec){1, 8})),                  /* 0.00000001 */
        AT_DB_D(((at_dec){123456789123456789, 9})), /* 123456789.123456789 */
        AT_DB_D(((at_dec){-5, 1})),                 /* -0.5 */
        AT_DB_D(((at_dec){150, 2})),                /* 1.50 */
        AT_DB_B(true),
        AT_DB_B(false),
        AT_DB_I(INT64_C(9007199254740993)), /* not representable as a double */
        AT_DB_I(INT64_C(-42)),
        AT_DB_S(text),
        AT_DB_N,
        AT_DB_S(NULL),
    };
    write_ok("INSERT INTO orders (intent_id, cl_ord_id, account, origin, inst_id, op, state, "
             "sz, px, fee, tp_trigger_px, reduce_only, shadow, latency_us, created_ms, "
             "updated_ms, msg, decision_id, code) VALUES ($1, $2, 'exchange.test', 'contract', "
             "'BTC-USDT-SWAP', 'place', 'intent', $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, "
             "$12, $13)",
             p, 13);

    qres q = {0};
    at_db_value k[] = {AT_DB_S(intent)};
    query_ok("SELECT sz, px, fee, tp_trigger_px, reduce_only, shadow, latency_us, created_ms, "
             "msg, decision_id, code, intent_id FROM orders WHERE intent_id = $1",
             k, 1, &q);
    assert_int_equal(q.nrows, 1);
    assert_int_equal(q.ncols, 12);
    assert_string_equal(q.names[0], "sz");
    assert_string_equal(q.names[11], "intent_id");
    char b[64];
    assert_string_equal(dec_norm(at(&q, 0, 0), b, sizeof(b)), "0.00000001");
    assert_string_equal(dec_norm(at(&q, 0, 1), b, sizeof(b)), "123456789.123456789");
    assert_string_equal(dec_norm(at(&q, 0, 2), b, sizeof(b)), "-0.5");
    assert_string_equal(dec_norm(at(&q, 0, 3), b, sizeof(b)), "1.5");
    assert_int_equal(cell_bool(at(&q, 0, 4)), 1);
    assert_int_equal(cell_bool(at(&q, 0, 5)), 0);
    assert_true(cell_int(at(&q, 0, 6)) == INT64_C(9007199254740993));
    assert_true(cell_int(at(&q, 0, 7)) == -42);
    assert_int_equal(at(&q, 0, 8)->type, AT_DB_TEXT);
    assert_string_equal(at(&q, 0, 8)->s, text);
    assert_int_equal(at(&q, 0, 9)->type, AT_DB_NULL);
    assert_int_equal(at(&q, 0, 10)->type, AT_DB_NULL);
    assert_string_equal(at(&q, 0, 11)->s, intent);
    qres_free(&q);

    /* REAL, and a bool in another table */
    at_db_value d[] = {AT_DB_S(dec_id), AT_DB_R(0.125), AT_DB_B(true)};
    write_ok("INSERT INTO decisions (id, trader, cost, valid, created_ms) "
             "VALUES ($1, 'alpha', $2, $3, 1)",
             d, 3);
    query_ok("SELECT cost, valid FROM decisions WHERE id = $1", d, 1, &q);
    assert_int_equal(q.nrows, 1);
    assert_true(cell_real(at(&q, 0, 0)) == 0.125);
    assert_int_equal(cell_bool(at(&q, 0, 1)), 1);
    qres_free(&q);
}

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
    char tag[64];   /* per-run id prefix */
    char exe[4096]; /* this program, for the probe child */
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
        snprintf(S.ini, sizeof(S.ini), "[storage.postgres]\nconninfo = env:AT_TEST_PG_CONNINFO\n");
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
    cell *cells;       /* nrows * ncols */
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

/* AT_DB_S on a char array trips -Waddress (its NULL test is always true) */
static at_db_value txt(const char *s)
{
    return AT_DB_S(s);
}

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
    assert_int_equal(host()->db_query(harness_inst(S.h), sql, p, n, on_row, on_done, &q->d), AT_OK);
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
    at_db_value p[] = {txt(intent), txt(cl), AT_DB_I(1700000000000)};
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
        "schema_migrations", "accounts",  "instruments",   "orders", "fills",     "positions",
        "equity_snapshots",  "decisions", "risk_verdicts", "news",   "sentiment", "audit_log"};
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
        txt(intent),
        txt(cl),
        AT_DB_D(((at_dec){1, 8})),                  /* 0.00000001 */
        AT_DB_D(((at_dec){123456789123456789, 9})), /* 123456789.123456789 */
        AT_DB_D(((at_dec){-5, 1})),                 /* -0.5 */
        AT_DB_D(((at_dec){150, 2})),                /* 1.50 */
        AT_DB_B(true),
        AT_DB_B(false),
        AT_DB_I(INT64_C(9007199254740993)), /* not representable as a double */
        AT_DB_I(INT64_C(-42)),
        txt(text),
        AT_DB_N,
        txt(NULL),
    };
    write_ok("INSERT INTO orders (intent_id, cl_ord_id, account, origin, inst_id, op, state, "
             "sz, px, fee, tp_trigger_px, reduce_only, shadow, latency_us, created_ms, "
             "updated_ms, msg, decision_id, code) VALUES ($1, $2, 'exchange.test', 'contract', "
             "'BTC-USDT-SWAP', 'place', 'intent', $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, "
             "$12, $13)",
             p, 13);

    qres q = {0};
    at_db_value k[] = {txt(intent)};
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
    at_db_value d[] = {txt(dec_id), AT_DB_R(0.125), AT_DB_B(true)};
    write_ok("INSERT INTO decisions (id, trader, cost, valid, created_ms) "
             "VALUES ($1, 'alpha', $2, $3, 1)",
             d, 3);
    query_ok("SELECT cost, valid FROM decisions WHERE id = $1", d, 1, &q);
    assert_int_equal(q.nrows, 1);
    assert_true(cell_real(at(&q, 0, 0)) == 0.125);
    assert_int_equal(cell_bool(at(&q, 0, 1)), 1);
    qres_free(&q);
}

static void test_unique_cl_ord_id(void **state)
{
    (void)state;
    char a[96], b[96], c[96], cl[96], cl_c[96];
    id_of(a, sizeof(a), "uniq-a");
    id_of(b, sizeof(b), "uniq-b");
    id_of(c, sizeof(c), "uniq-c");
    id_of(cl, sizeof(cl), "uniq-cl");
    id_of(cl_c, sizeof(cl_c), "uniq-cl-c");

    done_rec da = {0}, db = {0}, dc = {0};
    insert_order_async(a, cl, &da);
    wait_for(&da);
    assert_int_equal(da.err, AT_OK);

    /* queued together: the duplicate fails alone, the next write commits */
    insert_order_async(b, cl, &db);
    insert_order_async(c, cl_c, &dc);
    wait_for(&db);
    wait_for(&dc);
    assert_int_equal(db.called, 1);
    assert_int_equal(db.err, AT_EDB);
    assert_true(strlen(db.msg) > 0);
    assert_int_equal(dc.called, 1);
    assert_int_equal(dc.err, AT_OK);
    printf("# duplicate cl_ord_id: %s\n", db.msg);

    qres q = {0};
    at_db_value k[] = {txt(cl)};
    query_ok("SELECT intent_id FROM orders WHERE cl_ord_id = $1", k, 1, &q);
    assert_int_equal(q.nrows, 1);
    assert_string_equal(at(&q, 0, 0)->s, a);
    qres_free(&q);
    at_db_value kb[] = {txt(b)}, kc[] = {txt(c)};
    assert_int_equal(count_where("SELECT count(*) FROM orders WHERE intent_id = $1", kb, 1), 0);
    assert_int_equal(count_where("SELECT count(*) FROM orders WHERE intent_id = $1", kc, 1), 1);
}

static void test_on_conflict(void **state)
{
    (void)state;
    char feed[96], acct[96];
    id_of(feed, sizeof(feed), "feed");
    id_of(acct, sizeof(acct), "upsert-acct");

    const char *ins = "INSERT INTO sentiment (feed, as_of_ms, value, label) VALUES ($1, $2, $3, "
                      "$4) ON CONFLICT (feed, as_of_ms) DO NOTHING";
    at_db_value first[] = {txt(feed), AT_DB_I(1000), AT_DB_R(0.5), txt("first")};
    at_db_value second[] = {txt(feed), AT_DB_I(1000), AT_DB_R(0.75), txt("second")};
    write_ok(ins, first, 4);
    write_ok(ins, second, 4); /* not an error: nothing happens */
    qres q = {0};
    query_ok("SELECT label, value FROM sentiment WHERE feed = $1", first, 1, &q);
    assert_int_equal(q.nrows, 1);
    assert_string_equal(at(&q, 0, 0)->s, "first");
    assert_true(cell_real(at(&q, 0, 1)) == 0.5);
    qres_free(&q);

    const char *up = "INSERT INTO positions (account, inst_id, pos_side, pos, avg_px, updated_ms) "
                     "VALUES ($1, 'BTC-USDT-SWAP', 'net', $2, $3, $4) "
                     "ON CONFLICT (account, inst_id, pos_side) DO UPDATE SET pos = excluded.pos, "
                     "avg_px = excluded.avg_px, updated_ms = excluded.updated_ms";
    at_db_value p1[] = {txt(acct), AT_DB_D(((at_dec){3, 0})), AT_DB_D(((at_dec){1005, 1})),
                        AT_DB_I(1)};
    at_db_value p2[] = {txt(acct), AT_DB_D(((at_dec){-2, 0})), AT_DB_D(((at_dec){10125, 2})),
                        AT_DB_I(2)};
    write_ok(up, p1, 4);
    write_ok(up, p2, 4);
    query_ok("SELECT pos, avg_px, updated_ms FROM positions WHERE account = $1", p1, 1, &q);
    assert_int_equal(q.nrows, 1);
    char b[64];
    assert_string_equal(dec_norm(at(&q, 0, 0), b, sizeof(b)), "-2");
    assert_string_equal(dec_norm(at(&q, 0, 1), b, sizeof(b)), "101.25");
    assert_int_equal(cell_int(at(&q, 0, 2)), 2);
    qres_free(&q);
}

static void test_read_your_writes(void **state)
{
    (void)state;
    char id[96];
    id_of(id, sizeof(id), "ryw");
    at_db_value p[] = {txt(id), AT_DB_I(7), txt("read your writes")};
    done_rec dw = {0};
    qres q = {0};
    write_async(INSERT_AUDIT, p, 3, &dw);
    /* no waiting for the write's done */
    query_async("SELECT message, ts_ms FROM audit_log WHERE id = $1", p, 1, &q);
    wait_for(&q.d);
    assert_int_equal(q.d.err, AT_OK);
    assert_int_equal(q.nrows, 1);
    assert_string_equal(at(&q, 0, 0)->s, "read your writes");
    assert_int_equal(cell_int(at(&q, 0, 1)), 7);
    /* completions come in queue order: the write's before the query's */
    assert_int_equal(dw.called, 1);
    assert_int_equal(dw.err, AT_OK);
    assert_true(dw.seq < q.d.seq);
    qres_free(&q);
}

static void test_burst_in_order(void **state)
{
    (void)state;
    enum { EVERY = 100 };
    done_rec *d = calloc(BURST, sizeof(*d));
    done_rec *du = calloc(BURST / EVERY, sizeof(*du));
    assert_non_null(d);
    assert_non_null(du);
    char acct[96];
    id_of(acct, sizeof(acct), "burst-acct");
    const char *up = "INSERT INTO positions (account, inst_id, pos_side, pos, updated_ms) "
                     "VALUES ($1, 'ETH-USDT-SWAP', 'net', $2, $3) "
                     "ON CONFLICT (account, inst_id, pos_side) DO UPDATE SET pos = excluded.pos, "
                     "updated_ms = excluded.updated_ms";
    for (int i = 0; i < BURST; i++) {
        char id[96], what[32];
        snprintf(what, sizeof(what), "burst-%05d", i);
        id_of(id, sizeof(id), what);
        at_db_value p[] = {txt(id), AT_DB_I(i), txt(what)};
        write_async(INSERT_AUDIT, p, 3, &d[i]);
        if (i % EVERY == 0) {
            /* later writes to one row must win: order is kept */
            at_db_value u[] = {txt(acct), AT_DB_D(((at_dec){i, 0})), AT_DB_I(i)};
            write_async(up, u, 3, &du[i / EVERY]);
        }
    }
    wait_for(&d[BURST - 1]);
    wait_for(&du[BURST / EVERY - 1]);
    for (int i = 0; i < BURST; i++) {
        if (d[i].called != 1 || d[i].err != AT_OK) {
            fail_msg("write %d: done called %d times, err %d %s", i, d[i].called, d[i].err,
                     d[i].msg);
        }
        if (i > 0 && d[i].seq <= d[i - 1].seq) {
            fail_msg("write %d completed before write %d", i, i - 1);
        }
    }

    char like[96];
    id_of(like, sizeof(like), "burst-%");
    at_db_value k[] = {txt(like)};
    qres q = {0};
    query_ok("SELECT id, ts_ms, message FROM audit_log WHERE id LIKE $1 ORDER BY id", k, 1, &q);
    assert_int_equal(q.nrows, BURST);
    for (int i = 0; i < BURST; i++) {
        char id[96], what[32];
        snprintf(what, sizeof(what), "burst-%05d", i);
        assert_string_equal(at(&q, (size_t)i, 0)->s, id_of(id, sizeof(id), what));
        assert_int_equal(cell_int(at(&q, (size_t)i, 1)), i);
        assert_string_equal(at(&q, (size_t)i, 2)->s, what);
    }
    qres_free(&q);
    at_db_value a[] = {txt(acct)};
    query_ok("SELECT pos FROM positions WHERE account = $1", a, 1, &q);
    assert_int_equal(q.nrows, 1);
    char b[64], want[32];
    snprintf(want, sizeof(want), "%d", BURST - EVERY);
    assert_string_equal(dec_norm(at(&q, 0, 0), b, sizeof(b)), want);
    qres_free(&q);
    /* the query ran after every write: no late second completion */
    for (int i = 0; i < BURST; i++) {
        assert_int_equal(d[i].called, 1);
    }
    for (int i = 0; i < BURST / EVERY; i++) {
        assert_int_equal(du[i].called, 1);
        assert_int_equal(du[i].err, AT_OK);
    }
    free(d);
    free(du);
}

/* A second engine in a child process (one engine per process) looks for the
 * row while this one is still running: what done reported is committed. */
static void test_durable_when_done(void **state)
{
    (void)state;
    char id[96];
    id_of(id, sizeof(id), "durable");
    at_db_value p[] = {txt(id), AT_DB_I(11), txt("durable")};
    done_rec d = {0};
    assert_int_equal(write_wait(INSERT_AUDIT, p, 3, &d), AT_OK);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"rt_storage_contract", "--probe", id, S.dir, NULL};
        /* not /proc/self/exe: under valgrind that is the tool */
        execv(S.exe, argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) {
        fail_msg("a second engine did not see the row after done (probe exit %d)",
                 WEXITSTATUS(status));
    }
}

static void test_restart_persistence(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        char id[96], what[32];
        snprintf(what, sizeof(what), "restart-%d", i);
        at_db_value p[] = {txt(id_of(id, sizeof(id), what)), AT_DB_I(i), txt(what)};
        write_ok(INSERT_AUDIT, p, 3);
    }
    qres before = {0}, after = {0};
    const char *mig = "SELECT version, name, applied_ms FROM schema_migrations ORDER BY version";
    query_ok(mig, NULL, 0, &before);

    harness_free(S.h);
    S.h = harness_new(S.ini);
    assert_non_null(S.h);

    char like[96];
    id_of(like, sizeof(like), "restart-%");
    at_db_value k[] = {txt(like)};
    qres q = {0};
    query_ok("SELECT message FROM audit_log WHERE id LIKE $1 ORDER BY id", k, 1, &q);
    assert_int_equal(q.nrows, 3);
    assert_string_equal(at(&q, 0, 0)->s, "restart-0");
    assert_string_equal(at(&q, 2, 0)->s, "restart-2");
    qres_free(&q);

    /* migrations were not applied again */
    query_ok(mig, NULL, 0, &after);
    assert_int_equal(after.nrows, before.nrows);
    for (size_t r = 0; r < after.nrows; r++) {
        assert_int_equal(cell_int(at(&after, r, 0)), cell_int(at(&before, r, 0)));
        assert_string_equal(at(&after, r, 1)->s, at(&before, r, 1)->s);
        assert_true(cell_int(at(&after, r, 2)) == cell_int(at(&before, r, 2)));
    }
    qres_free(&before);
    qres_free(&after);
}

static void test_bad_sql(void **state)
{
    (void)state;
    qres q = {0};
    query_wait("SELEC nonsense FROM", NULL, 0, &q);
    assert_int_equal(q.d.err, AT_EDB);
    assert_true(strlen(q.d.msg) > 0);
    assert_int_equal(q.row_calls, 0);
    printf("# bad query: %s\n", q.d.msg);
    qres_free(&q);

    query_wait("SELECT * FROM no_such_table", NULL, 0, &q);
    assert_int_equal(q.d.err, AT_EDB);
    assert_true(strlen(q.d.msg) > 0);
    qres_free(&q);

    char id[96];
    id_of(id, sizeof(id), "bad");
    at_db_value p[] = {txt(id)};
    done_rec d1 = {0}, d2 = {0};
    assert_int_equal(write_wait("INSERT INTO no_such_table (x) VALUES ($1)", p, 1, &d1), AT_EDB);
    assert_true(strlen(d1.msg) > 0);
    /* NOT NULL columns missing */
    assert_int_equal(write_wait("INSERT INTO audit_log (id) VALUES ($1)", p, 1, &d2), AT_EDB);
    assert_true(strlen(d2.msg) > 0);
    /* and the backend goes on */
    at_db_value ok[] = {txt(id), AT_DB_I(1), txt("after errors")};
    write_ok(INSERT_AUDIT, ok, 3);
    assert_int_equal(count_where("SELECT count(*) FROM audit_log WHERE id = $1", p, 1), 1);
}

static void test_bool_roundtrip(void **state)
{
    (void)state;
    char intent[96], yes[96], no[96];
    id_of(intent, sizeof(intent), "bool-intent");
    id_of(yes, sizeof(yes), "bool-1");
    id_of(no, sizeof(no), "bool-2");
    const char *ins = "INSERT INTO risk_verdicts (id, intent_id, rule, allowed, created_ms) "
                      "VALUES ($1, $2, 'max_leverage', $3, 1)";
    at_db_value p1[] = {txt(yes), txt(intent), AT_DB_B(true)};
    at_db_value p2[] = {txt(no), txt(intent), AT_DB_B(false)};
    write_ok(ins, p1, 3);
    write_ok(ins, p2, 3);
    qres q = {0};
    at_db_value k[] = {txt(intent)};
    query_ok("SELECT id, allowed FROM risk_verdicts WHERE intent_id = $1 ORDER BY id", k, 1, &q);
    assert_int_equal(q.nrows, 2);
    assert_string_equal(at(&q, 0, 0)->s, yes);
    assert_int_equal(cell_bool(at(&q, 0, 1)), 1);
    assert_string_equal(at(&q, 1, 0)->s, no);
    assert_int_equal(cell_bool(at(&q, 1, 1)), 0);
    qres_free(&q);
    /* a bool parameter compares with the stored bool */
    at_db_value w[] = {txt(intent), AT_DB_B(false)};
    query_ok("SELECT id FROM risk_verdicts WHERE intent_id = $1 AND allowed = $2", w, 2, &q);
    assert_int_equal(q.nrows, 1);
    assert_string_equal(at(&q, 0, 0)->s, no);
    qres_free(&q);
}

static void test_params_out_of_order(void **state)
{
    (void)state;
    char id[96], feed[96];
    id_of(id, sizeof(id), "news-1");
    id_of(feed, sizeof(feed), "news-feed");
    /* $2 before $1, and $2 used twice */
    at_db_value p[] = {txt(feed), txt(id), txt("title"), AT_DB_I(5)};
    write_ok("INSERT INTO news (id, feed, title, url, fetched_ms) VALUES ($2, $1, $3, $2, $4)", p,
             4);
    qres q = {0};
    at_db_value k[] = {txt(id), txt(feed)};
    query_ok("SELECT feed, title, url, fetched_ms FROM news WHERE feed = $2 AND id = $1", k, 2, &q);
    assert_int_equal(q.nrows, 1);
    assert_string_equal(at(&q, 0, 0)->s, feed);
    assert_string_equal(at(&q, 0, 1)->s, "title");
    assert_string_equal(at(&q, 0, 2)->s, id);
    assert_int_equal(cell_int(at(&q, 0, 3)), 5);
    qres_free(&q);
}

/* A parameter count that does not match the statement is refused: either at
 * once (AT_EINVAL from db_write, no done) or through done(AT_EINVAL). */
static void expect_einval_write(const char *sql, const at_db_value *p, size_t n)
{
    done_rec d = {0};
    int rc = host()->db_write(harness_inst(S.h), sql, p, n, on_done, &d);
    if (rc == AT_EINVAL) {
        return;
    }
    assert_int_equal(rc, AT_OK);
    wait_for(&d);
    assert_int_equal(d.called, 1);
    assert_int_equal(d.err, AT_EINVAL);
    assert_true(strlen(d.msg) > 0);
}

static void test_param_count_mismatch(void **state)
{
    (void)state;
    char id[96];
    id_of(id, sizeof(id), "count");
    at_db_value p[] = {txt(id), AT_DB_I(1), txt("x"), AT_DB_I(2)};
    expect_einval_write(INSERT_AUDIT, p, 2); /* too few */
    expect_einval_write(INSERT_AUDIT, p, 4); /* too many */
    assert_int_equal(count_where("SELECT count(*) FROM audit_log WHERE id = $1", p, 1), 0);
}

static void test_row_callback_stops(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        char id[96], what[32];
        snprintf(what, sizeof(what), "stop-%d", i);
        at_db_value p[] = {txt(id_of(id, sizeof(id), what)), AT_DB_I(i), txt(what)};
        write_ok(INSERT_AUDIT, p, 3);
    }
    char like[96];
    id_of(like, sizeof(like), "stop-%");
    at_db_value k[] = {txt(like)};
    qres q = {.stop_after = 2};
    query_ok("SELECT id FROM audit_log WHERE id LIKE $1 ORDER BY id", k, 1, &q);
    assert_int_equal(q.row_calls, 2);
    qres_free(&q);

    /* no rows: done only */
    char none[96];
    at_db_value n[] = {txt(id_of(none, sizeof(none), "none"))};
    query_ok("SELECT id FROM audit_log WHERE id = $1", n, 1, &q);
    assert_int_equal(q.row_calls, 0);
    qres_free(&q);
}

/* ---------------------------------------------------------------- probe */

static int probe_row(void *arg, const at_db_row *row)
{
    int *found = arg;
    if (row->ncols == 1 && row->cols[0].type == AT_DB_TEXT &&
        strcmp(row->cols[0].u.s, "durable") == 0) {
        (*found)++;
    }
    return 0;
}

static void probe_done(void *arg, int err, const char *msg)
{
    int *st = arg;
    st[1] = 1;
    st[2] = err;
    if (err != AT_OK) {
        fprintf(stderr, "probe: query failed: %d %s\n", err, msg ? msg : "");
    }
}

static int probe(const char *id, const char *dir)
{
    if (make_ini() != 0) {
        return 2;
    }
    if (strcmp(S.backend, "sqlite") == 0) {
        rmdir(S.dir); /* make_ini made a fresh one; use the parent's */
        snprintf(S.ini, sizeof(S.ini), "[storage.sqlite]\npath = %s/contract.db\n", dir);
    }
    S.h = harness_new(S.ini);
    if (!S.h) {
        return 2;
    }
    int st[3] = {0, 0, 0}; /* found, done, err */
    at_db_value k[] = {txt(id)};
    int rc = host()->db_query(harness_inst(S.h), "SELECT message FROM audit_log WHERE id = $1", k,
                              1, probe_row, probe_done, st);
    bool ok = rc == AT_OK && harness_run_until(S.h, harness_flag_set, &st[1], WAIT_MS) &&
              st[2] == AT_OK && st[0] == 1;
    harness_free(S.h);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--probe") == 0) {
        return probe(argv[2], argv[3]);
    }
    if (!strchr(argv[0], '/') || !realpath(argv[0], S.exe)) {
        snprintf(S.exe, sizeof(S.exe), "/proc/self/exe");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_migrated, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_value_types, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_unique_cl_ord_id, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_on_conflict, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_read_your_writes, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_burst_in_order, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_durable_when_done, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_restart_persistence, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_bad_sql, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_bool_roundtrip, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_params_out_of_order, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_param_count_mismatch, engine_up, engine_down),
        cmocka_unit_test_setup_teardown(test_row_callback_stops, engine_up, engine_down),
    };
    const char *b = getenv("AT_TEST_STORAGE");
    char name[64];
    snprintf(name, sizeof(name), "storage_contract[%s]", b && *b ? b : "sqlite");
    return cmocka_run_group_tests_name(name, tests, group_setup, group_teardown);
}

/* Fault test of storage_postgres: PostgreSQL goes away under a running engine
 * and nothing is lost. Driven by tests/runtime/storage_postgres.sh, which
 * owns the throwaway cluster. Environment:
 *
 *   AT_TEST_PG_CONNINFO   postgresql://aitrader@127.0.0.1:PORT/aitrader_test
 *   AT_TEST_PG_STOP_CMD   stops the server, e.g. "bash pg-cluster.sh stop DIR immediate"
 *   AT_TEST_PG_START_CMD  starts it again on the same port
 *
 * Cases:
 *  1. outage: N audit_log rows written at a steady pace; after a quarter the
 *     server is stopped (immediate), writes go on (memory, then the journal:
 *     queue_max is small), the plugin reports DEGRADED and the loop keeps
 *     turning; a read fails with AT_EIO after query_timeout; a duplicate key
 *     written during the outage still fails (it was never in flight); the
 *     server comes back, every write's done fires OK in write order, and
 *     exactly N rows are there, each id once; the journal is empty again.
 *  2. stop while down: the engine stops with writes pending, so they go to the
 *     journal (done fires with AT_EAGAIN); a new engine, with the server back,
 *     replays them before anything else and empties the journal; decimals,
 *     doubles, booleans and NULLs come back exactly.
 *  3. a journal left by a crashed run: records before the last ack are not
 *     replayed, a duplicate right after it (possibly committed before the
 *     crash) counts as applied, a torn last line is ignored.
 *
 * No timing assertions: every wait is "until X happens", with a generous
 * guard against hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define N_ROWS 2000
#define STOP_AT 500     /* rows written before the server is stopped */
#define RESTART_AT 1500 /* rows written before it is started again */
#define QUEUE_MAX 200
#define PACE 5 /* rows per short loop slice */
#define CASE2_ROWS 300
#define WAIT_MS 120000 /* hang guard, not a timing assertion */

static const char *INSERT_AUDIT = "INSERT INTO audit_log (id, ts_ms, instance, kind, message) "
                                  "VALUES ($1, $2, 'test.harness', 'pg_fault', $3)";

typedef struct wr {
    int called;
    int err;
    int seq;
    char msg[256];
} wr;

/* The test program's own state (not a plugin's). */
static struct {
    harness *h;
    char tag[64];
    char dir[128]; /* journal directory: outlives each engine */
    char ini[1024];
    int seq;
    int degraded; /* status events of storage.postgres */
    int up_after_degraded;
    char detail[256];
    int ticks;
} F;

static const at_host *host(void)
{
    return harness_host(F.h);
}

static at_db_value txt(const char *s)
{
    return AT_DB_S(s);
}

static void on_done(void *arg, int err, const char *msg)
{
    wr *w = arg;
    w->called++;
    w->err = err;
    w->seq = ++F.seq;
    snprintf(w->msg, sizeof(w->msg), "%s", msg ? msg : "");
}

static bool called(void *arg)
{
    return ((wr *)arg)->called > 0;
}

static void on_status(void *arg, const at_event *ev)
{
    (void)arg;
    const at_ev_status *st = (const at_ev_status *)ev;
    if (strcmp(st->instance, "storage.postgres") != 0) {
        return;
    }
    if (st->state == AT_STATE_DEGRADED) {
        F.degraded++;
        snprintf(F.detail, sizeof(F.detail), "%s", st->detail ? st->detail : "");
    } else if (st->state == AT_STATE_UP && F.degraded > 0) {
        F.up_after_degraded++;
    }
}

static void on_tick(void *arg)
{
    (void)arg;
    F.ticks++;
}

static bool is_degraded(void *arg)
{
    (void)arg;
    return F.degraded > 0;
}

static bool is_up_again(void *arg)
{
    (void)arg;
    return F.up_after_degraded > 0;
}

static void run_cmd(const char *env)
{
    const char *cmd = getenv(env);
    assert_non_null(cmd);
    printf("# %s: %s\n", env, cmd);
    fflush(stdout);
    int rc = system(cmd);
    if (rc != 0) {
        fail_msg("%s failed (status %d)", env, rc);
    }
}

static void engine_start(void)
{
    F.h = harness_new(F.ini);
    assert_non_null(F.h);
    F.degraded = 0;
    F.up_after_degraded = 0;
    F.detail[0] = '\0';
    assert_true(host()->subscribe(harness_inst(F.h), AT_EV_STATUS, on_status, NULL) > 0);
}

static void row_id(char *buf, size_t len, const char *what, int i)
{
    snprintf(buf, len, "%s-%s-%05d", F.tag, what, i);
}

static void write_row(const char *what, int i, wr *w)
{
    char id[128];
    row_id(id, sizeof(id), what, i);
    at_db_value p[] = {txt(id), AT_DB_I(i), txt(what)};
    assert_int_equal(host()->db_write(harness_inst(F.h), INSERT_AUDIT, p, 3, on_done, w), AT_OK);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;
    if (!f) {
        return -1;
    }
    while ((c = fgetc(f)) != EOF) {
        n += c == '\n';
    }
    fclose(f);
    return n;
}

/* Lines of the journal that are write records. */
static long count_records(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    long n = 0;
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        n += strstr(line, "\"sql\"") != NULL;
    }
    fclose(f);
    return n;
}

typedef struct ids {
    wr d;
    int first;
    int n;
    int bad;
    const char *what;
} ids;

/* Rows come ordered by id: the i-th must be <tag>-<what>-<first + i>. */
static int on_id_row(void *arg, const at_db_row *row)
{
    ids *q = arg;
    char want[128];
    row_id(want, sizeof(want), q->what, q->first + q->n);
    if (row->ncols != 1 || row->cols[0].type != AT_DB_TEXT || strcmp(row->cols[0].u.s, want) != 0) {
        if (q->bad++ == 0) {
            printf("# row %d: got %s, want %s\n", q->n,
                   row->cols[0].type == AT_DB_TEXT ? row->cols[0].u.s : "(not text)", want);
        }
    }
    q->n++;
    return 0;
}

/* Every id <tag>-<what>-<first> … <first + n - 1> present exactly once, nothing else. */
static void expect_rows_from(const char *what, int first, int n)
{
    char like[128];
    snprintf(like, sizeof(like), "%s-%s-%%", F.tag, what);
    at_db_value k[] = {txt(like)};
    ids q = {.what = what, .first = first};
    assert_int_equal(host()->db_query(harness_inst(F.h),
                                      "SELECT id FROM audit_log WHERE id LIKE $1 ORDER BY id", k, 1,
                                      on_id_row, on_done, &q.d),
                     AT_OK);
    assert_true(harness_run_until(F.h, called, &q.d, WAIT_MS));
    if (q.d.err != AT_OK) {
        fail_msg("query failed: %d %s", q.d.err, q.d.msg);
    }
    printf("# %s: %d rows, %d out of place\n", what, q.n, q.bad);
    assert_int_equal(q.n, n);
    assert_int_equal(q.bad, 0);
}

static void expect_rows(const char *what, int n)
{
    expect_rows_from(what, 0, n);
}

/* One row of text cells (NULL as "(null)"), joined with '|'. */
typedef struct one_row {
    wr d;
    int rows;
    char text[512];
} one_row;

static int on_one_row(void *arg, const at_db_row *row)
{
    one_row *r = arg;
    r->rows++;
    size_t len = 0;
    for (size_t c = 0; c < row->ncols && len < sizeof(r->text); c++) {
        const at_db_value *v = &row->cols[c];
        const char *sep = c ? "|" : "";
        switch (v->type) {
        case AT_DB_TEXT:
            len += (size_t)snprintf(r->text + len, sizeof(r->text) - len, "%s%s", sep, v->u.s);
            break;
        case AT_DB_INT:
            len += (size_t)snprintf(r->text + len, sizeof(r->text) - len, "%s%lld", sep,
                                    (long long)v->u.i);
            break;
        case AT_DB_REAL:
            len += (size_t)snprintf(r->text + len, sizeof(r->text) - len, "%s%.17g", sep, v->u.r);
            break;
        default:
            len += (size_t)snprintf(r->text + len, sizeof(r->text) - len, "%s(null)", sep);
        }
    }
    return 0;
}

static void expect_one_row(const char *sql, const char *key, const char *want)
{
    at_db_value k[] = {txt(key)};
    one_row r = {0};
    assert_int_equal(host()->db_query(harness_inst(F.h), sql, k, 1, on_one_row, on_done, &r.d),
                     AT_OK);
    assert_true(harness_run_until(F.h, called, &r.d, WAIT_MS));
    if (r.d.err != AT_OK) {
        fail_msg("query failed: %d %s", r.d.err, r.d.msg);
    }
    printf("# %s -> %s\n", key, r.text);
    assert_int_equal(r.rows, 1);
    assert_string_equal(r.text, want);
}

static int setup(void **state)
{
    (void)state;
    if (!getenv("AT_TEST_PG_CONNINFO") || !getenv("AT_TEST_PG_STOP_CMD") ||
        !getenv("AT_TEST_PG_START_CMD")) {
        fprintf(stderr, "tool_pg_fault: needs AT_TEST_PG_CONNINFO, AT_TEST_PG_STOP_CMD and "
                        "AT_TEST_PG_START_CMD (run tests/runtime/storage_postgres.sh)\n");
        return -1;
    }
    snprintf(F.dir, sizeof(F.dir), "/tmp/at-pgfault-XXXXXX");
    if (!mkdtemp(F.dir)) {
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(F.tag, sizeof(F.tag), "pf%ld%09ld-%d", (long)ts.tv_sec, ts.tv_nsec, (int)getpid());
    snprintf(F.ini, sizeof(F.ini),
             "[storage.postgres]\n"
             "conninfo = env:AT_TEST_PG_CONNINFO\n"
             "queue_max = %d\n"
             "journal = %s/pg.journal\n"
             "reconnect_min = 20ms\n"
             "reconnect_max = 300ms\n"
             "connect_timeout = 5s\n"
             "query_timeout = 1s\n"
             "stop_timeout = 3s\n",
             QUEUE_MAX, F.dir);
    printf("# run tag %s, journal %s/pg.journal\n", F.tag, F.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/pg.journal", F.dir);
    unlink(path);
    rmdir(F.dir);
    return 0;
}

static void test_outage_loses_nothing(void **state)
{
    (void)state;
    char journal[256];
    snprintf(journal, sizeof(journal), "%s/pg.journal", F.dir);
    wr *w = calloc(N_ROWS, sizeof(*w));
    wr dup = {0}, rd = {0};
    assert_non_null(w);
    engine_start();
    at_timer *tick = host()->timer_add(harness_inst(F.h), 1, 1, on_tick, NULL);
    assert_non_null(tick);

    for (int i = 0; i < N_ROWS; i++) {
        if (i == STOP_AT) {
            /* the rows so far are committed: the outage starts from a known point */
            assert_true(harness_run_until(F.h, called, &w[i - 1], WAIT_MS));
            run_cmd("AT_TEST_PG_STOP_CMD");
            assert_true(harness_run_until(F.h, is_degraded, NULL, WAIT_MS));
            printf("# degraded: %s\n", F.detail);
            /* never in flight, so a real error even though it is replayed */
            write_row("rows", 0, &dup);
            /* a read waits for a connection up to query_timeout, then fails */
            assert_int_equal(
                host()->db_query(harness_inst(F.h), "SELECT 1", NULL, 0, NULL, on_done, &rd),
                AT_OK);
            int ticks = F.ticks;
            assert_true(harness_run_until(F.h, called, &rd, WAIT_MS));
            assert_int_equal(rd.err, AT_EIO);
            assert_non_null(strstr(rd.msg, "postgres unavailable"));
            assert_true(F.ticks > ticks); /* the loop kept turning */
            printf("# read while down: %s\n", rd.msg);
        }
        if (i == RESTART_AT) {
            long long jsize = file_size(journal);
            printf("# before restart: journal %lld bytes, state detail: %s\n", jsize, F.detail);
            assert_true(jsize > 0); /* over queue_max: spilled */
            assert_non_null(strstr(F.detail, "disconnected:"));
            for (int k = STOP_AT; k < i; k++) {
                assert_int_equal(w[k].called, 0); /* held, not failed */
            }
            run_cmd("AT_TEST_PG_START_CMD");
        }
        write_row("rows", i, &w[i]);
        if (i % PACE == PACE - 1) {
            harness_run_for(F.h, 2);
        }
    }
    assert_true(harness_run_until(F.h, called, &w[N_ROWS - 1], WAIT_MS));
    assert_true(harness_run_until(F.h, is_up_again, NULL, WAIT_MS));
    for (int i = 0; i < N_ROWS; i++) {
        if (w[i].called != 1 || w[i].err != AT_OK) {
            fail_msg("row %d: done called %d times, err %d %s", i, w[i].called, w[i].err, w[i].msg);
        }
        if (i > 0 && w[i].seq <= w[i - 1].seq) {
            fail_msg("row %d completed before row %d", i, i - 1);
        }
    }
    assert_true(harness_run_until(F.h, called, &dup, WAIT_MS));
    printf("# duplicate written during the outage: %d %s\n", dup.err, dup.msg);
    assert_int_equal(dup.err, AT_EDB);
    assert_non_null(strstr(dup.msg, "23505"));

    expect_rows("rows", N_ROWS);
    assert_int_equal(file_size(journal), 0);
    host()->timer_cancel(tick);
    harness_free(F.h);
    F.h = NULL;
    free(w);
}

static void test_stop_while_down_journals(void **state)
{
    (void)state;
    char journal[256];
    snprintf(journal, sizeof(journal), "%s/pg.journal", F.dir);
    wr pre = {0};
    wr *w = calloc(CASE2_ROWS, sizeof(*w));
    assert_non_null(w);
    engine_start();
    write_row("pre", 0, &pre);
    assert_true(harness_run_until(F.h, called, &pre, WAIT_MS));
    assert_int_equal(pre.err, AT_OK);

    run_cmd("AT_TEST_PG_STOP_CMD");
    assert_true(harness_run_until(F.h, is_degraded, NULL, WAIT_MS));
    char dec_id[96], acct[96];
    snprintf(dec_id, sizeof(dec_id), "%s-decision", F.tag);
    snprintf(acct, sizeof(acct), "%s-acct", F.tag);
    wr wd = {0}, we = {0};
    for (int i = 0; i < CASE2_ROWS; i++) {
        write_row("journaled", i, &w[i]);
        if (i == QUEUE_MAX + 10) {
            /* typed values through the journal (past queue_max: spilled) */
            at_db_value d[] = {txt(dec_id), AT_DB_R(0.1), AT_DB_B(true), AT_DB_N};
            assert_int_equal(
                host()->db_write(harness_inst(F.h),
                                 "INSERT INTO decisions (id, trader, cost, valid, "
                                 "prompt, created_ms) VALUES ($1, 'pf', $2, $3, $4, 1)",
                                 d, 4, on_done, &wd),
                AT_OK);
            at_db_value e[] = {txt(acct), AT_DB_D(((at_dec){123456789123456789, 9})), AT_DB_N,
                               AT_DB_D(((at_dec){-5, 1}))};
            assert_int_equal(host()->db_write(harness_inst(F.h),
                                              "INSERT INTO equity_snapshots (account, ts_ms, "
                                              "total_eq, avail, upl) VALUES ($1, 1, $2, $3, $4)",
                                              e, 4, on_done, &we),
                             AT_OK);
        }
        if (i % PACE == PACE - 1) {
            harness_run_for(F.h, 1);
        }
    }
    harness_free(F.h); /* stop: cannot connect, so everything goes to the journal */
    F.h = NULL;
    for (int i = 0; i < CASE2_ROWS; i++) {
        if (w[i].called != 1 || w[i].err != AT_EAGAIN) {
            fail_msg("row %d: done called %d times, err %d %s", i, w[i].called, w[i].err, w[i].msg);
        }
    }
    assert_int_equal(wd.err, AT_EAGAIN);
    assert_int_equal(we.err, AT_EAGAIN);
    printf("# after stop: journal %lld bytes, %ld records; done said: %s\n", file_size(journal),
           count_records(journal), w[0].msg);
    assert_int_equal(count_records(journal), CASE2_ROWS + 2);
    assert_int_equal(count_lines(journal), CASE2_ROWS + 3); /* + the clean marker */

    run_cmd("AT_TEST_PG_START_CMD");
    engine_start();
    /* FIFO: this read runs after the replayed journal */
    expect_rows("journaled", CASE2_ROWS);
    assert_int_equal(file_size(journal), 0);
    expect_rows("pre", 1);
    expect_one_row("SELECT cost, valid, prompt FROM decisions WHERE id = $1", dec_id,
                   "0.10000000000000001|t|(null)");
    expect_one_row("SELECT total_eq, avail, upl FROM equity_snapshots WHERE account = $1", acct,
                   "123456789.123456789|(null)|-0.5");
    harness_free(F.h);
    F.h = NULL;
    free(w);
}

static void test_crashed_run_journal(void **state)
{
    (void)state;
    char journal[256];
    snprintf(journal, sizeof(journal), "%s/pg.journal", F.dir);
    const char *ins6 = "INSERT INTO audit_log (id, ts_ms, instance, kind, message, data_json) "
                       "VALUES ($1, $2, 'test.harness', 'pg_fault', $3, $4)";
    FILE *f = fopen(journal, "w");
    assert_non_null(f);
    const char *rec = "{\"sql\":\"%s\",\"types\":\"sisn\",\"params\":"
                      "[\"%s-crash-%05d\",\"%d\",\"crash\",null]}\n";
    fprintf(f, rec, ins6, F.tag, 0, 0); /* acked below: must not be replayed */
    fprintf(f, "{\"ack\":1}\n");
    fprintf(f, rec, ins6, F.tag, 1, 1);
    /* committed by case 2: right after the ack, so it may have been in flight at the crash */
    fprintf(f, "{\"sql\":\"%s\",\"types\":\"sis\",\"params\":[\"%s-pre-00000\",\"0\",\"pre\"]}\n",
            INSERT_AUDIT, F.tag);
    fprintf(f, rec, ins6, F.tag, 2, 2);
    fprintf(f, "{\"sql\":\"%s\",\"types\":\"sisn\",\"params\":[\"%s-crash-00003\"", ins6,
            F.tag); /* torn: the crash hit mid-append */
    fclose(f);

    engine_start();
    expect_rows_from("crash", 1, 2);
    expect_rows("pre", 1);
    assert_int_equal(file_size(journal), 0);
    harness_free(F.h);
    F.h = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outage_loses_nothing),
        cmocka_unit_test(test_stop_while_down_journals),
        cmocka_unit_test(test_crashed_run_journal),
    };
    return cmocka_run_group_tests_name("storage_postgres_fault", tests, setup, teardown);
}

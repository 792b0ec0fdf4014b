/* storage_sqlite's commits, in the real engine (harness):
 *  - a write nobody waits for (no done callback) lingers for one somebody
 *    waits for and shares its commit: a decision row and the orders row of
 *    its intent cost one fsync, not two in a row;
 *  - a write somebody waits for never lingers;
 *  - a lone write nobody waits for still commits, after `linger`;
 *  - WAL checkpoints are done by the checkpoint thread (counted in
 *    aitrader_storage_checkpoints_total), not inside a commit.
 * Commits are counted with aitrader_storage_commit_us (one observation per
 * committed batch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "metrics.h"

#define INST "storage.sqlite"
#define WAIT_MS 20000 /* a hang guard, not a timing assertion */

static double metric(at_metric_kind kind, const char *name)
{
    at_metric *m = metrics_get(INST, kind, name, "");
    assert_non_null(m);
    return metrics_value(m);
}

static double commits(void)
{
    return metric(AT_METRIC_HISTOGRAM, "aitrader_storage_commit_us");
}

typedef struct above {
    at_metric_kind kind;
    const char *name;
    double than;
} above;

static bool metric_above(void *arg)
{
    const above *a = arg;
    return metric(a->kind, a->name) > a->than;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_done(void *arg, int err, const char *msg)
{
    (void)msg;
    *(int *)arg = err == AT_OK ? 1 : -1;
}

static bool done_set(void *arg)
{
    return *(int *)arg != 0;
}

static harness *H; /* the test program's, not a plugin's */

static void put(const char *id, const char *message, at_db_done_cb done, void *arg)
{
    const at_db_value p[] = {AT_DB_S(id), AT_DB_S(message)}; /* borrowed: copied by db_write */
    assert_int_equal(harness_host(H)->db_write(
                         harness_inst(H), "INSERT INTO commits_t (id, message) VALUES ($1, $2)", p,
                         2, done, arg),
                     AT_OK);
}

static void wait_ok(int *done)
{
    assert_true(harness_run_until(H, done_set, done, WAIT_MS));
    assert_int_equal(*done, 1);
}

typedef struct count_q {
    int64_t n;
    int done;
} count_q;

static int on_count(void *arg, const at_db_row *row)
{
    ((count_q *)arg)->n = row->cols[0].u.i;
    return 0;
}

static void on_count_done(void *arg, int err, const char *msg)
{
    on_done(&((count_q *)arg)->done, err, msg);
}

static int64_t count_rows(void)
{
    count_q q = {.n = -1};
    assert_int_equal(harness_host(H)->db_query(harness_inst(H), "SELECT count(*) FROM commits_t",
                                               NULL, 0, on_count, on_count_done, &q),
                     AT_OK);
    wait_ok(&q.done);
    return q.n;
}

/* The engine up with its storage quiet: the table this test writes, and
 * the engine's own start-up reads (the keeper's, the ledger's chain of two)
 * answered, each read queued behind the previous one's answer. */
static int up(const char *ini)
{
    H = harness_new(ini);
    if (!H) {
        return -1;
    }
    int done = 0;
    if (harness_host(H)->db_write(harness_inst(H),
                                  "CREATE TABLE commits_t (id TEXT PRIMARY KEY, message TEXT NOT "
                                  "NULL)",
                                  NULL, 0, on_done, &done) != AT_OK ||
        !harness_run_until(H, done_set, &done, WAIT_MS) || done != 1) {
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        (void)count_rows();
    }
    return 0;
}

static int up_linger_10s(void **state)
{
    (void)state;
    return up("[storage.sqlite]\npath = @TMP@/t.db\nlinger = 10s\n");
}

static int up_linger_200ms(void **state)
{
    (void)state;
    return up("[storage.sqlite]\npath = @TMP@/t.db\nlinger = 200ms\n");
}

static int up_default(void **state)
{
    (void)state;
    return up("[storage.sqlite]\npath = @TMP@/t.db\n");
}

static int down(void **state)
{
    (void)state;
    harness_free(H);
    H = NULL;
    return 0;
}

static void test_unawaited_write_shares_the_next_commit(void **state)
{
    (void)state;
    double c0 = commits();
    put("decision", "nobody waits for this one", NULL, NULL);
    /* lingering: nothing commits while nobody waits (linger is 10 s; alone,
     * the write would have committed within milliseconds) */
    above a = {AT_METRIC_HISTOGRAM, "aitrader_storage_commit_us", c0};
    assert_false(harness_run_until(H, metric_above, &a, 300));
    int done = 0;
    int64_t t0 = mono_ms();
    put("order", "the caller waits for this one", on_done, &done);
    wait_ok(&done);
    assert_true(mono_ms() - t0 < 5000); /* well within linger: it ended it */
    assert_true(commits() == c0 + 1);   /* both rows, one commit */
    assert_int_equal(count_rows(), 2);
}

static void test_awaited_write_never_lingers(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        int done = 0;
        char id[16];
        snprintf(id, sizeof(id), "w%d", i);
        int64_t t0 = mono_ms();
        put(id, "awaited", on_done, &done);
        wait_ok(&done);
        assert_true(mono_ms() - t0 < 5000); /* linger is 10 s */
    }
}

static void test_lone_unawaited_write_commits_after_linger(void **state)
{
    (void)state;
    double c0 = commits();
    int64_t t0 = mono_ms();
    put("alone", "nobody waits, nobody follows", NULL, NULL);
    above a = {AT_METRIC_HISTOGRAM, "aitrader_storage_commit_us", c0};
    assert_true(harness_run_until(H, metric_above, &a, WAIT_MS));
    /* it waited for company (a timed wait does not end early) */
    assert_true(mono_ms() - t0 >= 190);
    assert_int_equal(count_rows(), 1);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A write queued while the batch before it runs its statements joins that
 * batch's commit (the orders row queued ~20 us after the trader's decision
 * row). Each round queues A, a statement that computes for some milliseconds, lets
 * 300 us pass on the loop thread (the worker wakes and starts A meanwhile)
 * and queues B: B arrives while A runs and shares its commit. Without
 * joining, B has a commit of its own whenever the worker had started A. The
 * machine is shared, so the test asks for most rounds, not all. */
static void test_write_queued_during_a_batch_joins_it(void **state)
{
    (void)state;
    const int rounds = 20;
    int joined = 0;
    for (int i = 0; i < rounds; i++) {
        char ida[16], idb[16];
        snprintf(ida, sizeof(ida), "a%d", i);
        snprintf(idb, sizeof(idb), "b%d", i);
        double c0 = commits();
        int da = 0, db = 0;
        const at_db_value p[] = {AT_DB_S(ida)};
        assert_int_equal(harness_host(H)->db_write(
                             harness_inst(H),
                             "INSERT INTO commits_t (id, message) SELECT $1, sum(x) FROM (WITH "
                             "RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
                             "20000) SELECT x FROM c)",
                             p, 1, on_done, &da),
                         AT_OK);
        int64_t until = mono_us() + 300;
        while (mono_us() < until) {
        }
        put(idb, "b", on_done, &db);
        wait_ok(&da);
        wait_ok(&db);
        joined += commits() == c0 + 1;
    }
    printf("# %d of %d writes joined the batch running when they were queued\n", joined, rounds);
    assert_true(joined >= rounds * 3 / 4);
}

static void test_checkpoints_on_their_own_thread(void **state)
{
    (void)state;
    /* 40 rows of 200 KB: some 2,000 pages of WAL, past the 1,000 that ask
     * for a checkpoint */
    size_t len = 200 * 1024;
    char *big = malloc(len + 1);
    assert_non_null(big);
    memset(big, 'x', len);
    big[len] = '\0';
    for (int i = 0; i < 40; i++) {
        char id[16];
        int done = 0;
        snprintf(id, sizeof(id), "big%d", i);
        put(id, big, on_done, &done);
        wait_ok(&done);
    }
    free(big);
    /* the count reaches the loop with the next commit's results */
    above a = {AT_METRIC_COUNTER, "aitrader_storage_checkpoints_total", 0};
    int64_t end = mono_ms() + WAIT_MS;
    int k = 0;
    while (!metric_above(&a) && mono_ms() < end) {
        char id[16];
        int done = 0;
        snprintf(id, sizeof(id), "tick%d", k++);
        put(id, "tick", on_done, &done);
        wait_ok(&done);
    }
    assert_true(metric_above(&a));
    assert_int_equal(count_rows(), 40 + k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unawaited_write_shares_the_next_commit, up_linger_10s,
                                        down),
        cmocka_unit_test_setup_teardown(test_awaited_write_never_lingers, up_linger_10s, down),
        cmocka_unit_test_setup_teardown(test_lone_unawaited_write_commits_after_linger,
                                        up_linger_200ms, down),
        cmocka_unit_test_setup_teardown(test_write_queued_during_a_batch_joins_it, up_default,
                                        down),
        cmocka_unit_test_setup_teardown(test_checkpoints_on_their_own_thread, up_default, down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The equity curve (core/trading/equity.c) in a real engine on the simulated
 * clock with SQLite: one equity_snapshots row per account at each minute with
 * the venue's exact totalEq, one more on the first BALANCE after a fill, and
 * none for an account whose equity is unknown or stale. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "util.h"

/* 1700000000000 ms is 20 s past a minute: the first row is at T0 + 40 s. */
#define T0_US 1700000000000000LL
#define MIN1_MS 1700000040000LL

typedef struct rig {
    char dir[64];
    engine *e;
    const at_host *h;
    at_instance *src;
} rig;

static rig R;

static void rig_open(void)
{
    memset(&R, 0, sizeof(R));
    snprintf(R.dir, sizeof(R.dir), "/tmp/at-equity-XXXXXX");
    assert_non_null(mkdtemp(R.dir));
    char *ini = at_asprintf("%s/modules.ini", R.dir);
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    fprintf(f,
            "[core]\nplugin_dir = %s/plugins\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = error\n[storage.sqlite]\npath = %s/t.db\n",
            AT_TEST_BINARY_DIR, R.dir, AT_TEST_SOURCE_DIR, R.dir);
    fclose(f);
    engine_opts o = {.config_path = ini, .sim_clock = true, .sim_start_us = T0_US};
    R.e = engine_new(&o);
    conf_errors errs = {0};
    assert_int_equal(engine_load(R.e, &errs), AT_OK);
    conf_errors_free(&errs);
    assert_int_equal(engine_start(R.e), AT_OK);
    free(ini);
    R.h = engine_host();
    R.src = engine_virtual_instance(R.e, "test.venue");
}

static void rig_close(void)
{
    engine_free(R.e);
    char *cmd = at_asprintf("rm -rf %s", R.dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* One BALANCE per currency, each with the account total, as exchange_okx
 * publishes them. */
static void balance(const char *account, const char *ccy, const char *total_eq)
{
    at_ev_balance *b = (at_ev_balance *)R.h->event_new(R.src, AT_EV_BALANCE, 0);
    assert_non_null(b);
    snprintf(b->account, sizeof(b->account), "%s", account);
    snprintf(b->ccy, sizeof(b->ccy), "%s", ccy);
    assert_int_equal(R.h->dec_parse(total_eq, (size_t)-1, &b->total_eq), AT_OK);
    b->eq = b->total_eq;
    R.h->publish(R.src, &b->h, 0);
    engine_pump(R.e);
}

static void fill(const char *account)
{
    at_ev_fill *x = (at_ev_fill *)R.h->event_new(R.src, AT_EV_FILL, 0);
    assert_non_null(x);
    x->h.inst = R.h->inst_intern("BTC-USDT-SWAP");
    snprintf(x->account, sizeof(x->account), "%s", account);
    snprintf(x->trade_id, sizeof(x->trade_id), "t1");
    R.h->dec_parse("1", (size_t)-1, &x->sz);
    R.h->dec_parse("50000", (size_t)-1, &x->px);
    R.h->publish(R.src, &x->h, 0);
    engine_pump(R.e);
}

static void advance_ms(int64_t to_ms)
{
    assert_int_equal(engine_advance(R.e, to_ms * 1000, 0), AT_OK);
}

/* The rows of an account, "ts=total_eq;..." in time order. */
static char got[2048];
static bool queried;

static int add_row(void *arg, const at_db_row *row)
{
    size_t n = strlen(got);
    snprintf(got + n, sizeof(got) - n, "%lld=%s;", (long long)row->cols[0].u.i,
             row->cols[1].type == AT_DB_TEXT ? row->cols[1].u.s : "?");
    return 0;
}

static void query_done(void *arg, int err, const char *error)
{
    queried = true;
}

static bool is_queried(void *arg)
{
    return queried;
}

static const char *rows_since(const char *account, int64_t from_ms)
{
    got[0] = '\0';
    queried = false;
    at_db_value p[] = {AT_DB_S(account), AT_DB_I(from_ms)};
    assert_int_equal(R.h->db_query(R.src,
                                   "SELECT ts_ms, total_eq FROM equity_snapshots "
                                   "WHERE account = $1 AND ts_ms >= $2 ORDER BY ts_ms",
                                   p, 2, add_row, query_done, NULL),
                     AT_OK);
    assert_true(engine_wait(R.e, is_queried, NULL, 5000000));
    return got;
}

static const char *rows(const char *account)
{
    return rows_since(account, 0);
}

static void test_a_row_each_minute_exact(void **state)
{
    rig_open();
    balance("exchange.a", "USDT", "10234.56789012");
    balance("exchange.a", "BTC", "10234.56789012");
    advance_ms(MIN1_MS - 1);
    assert_string_equal(rows("exchange.a"), ""); /* not before the minute */
    advance_ms(MIN1_MS + 1500);
    assert_string_equal(rows("exchange.a"), "1700000040000=10234.56789012;");
    balance("exchange.a", "USDT", "9999.00000001");
    advance_ms(MIN1_MS + 60000 + 10);
    assert_string_equal(rows("exchange.a"),
                        "1700000040000=10234.56789012;1700000100000=9999.00000001;");
    rig_close();
}

static void test_fill_then_balance_adds_a_row(void **state)
{
    rig_open();
    balance("exchange.a", "USDT", "1000");
    advance_ms(MIN1_MS + 5000);
    fill("exchange.a");
    /* The fill alone writes nothing: its equity is not known yet. */
    assert_string_equal(rows("exchange.a"), "1700000040000=1000;");
    balance("exchange.a", "USDT", "998.75");
    balance("exchange.a", "BTC", "998.75"); /* same push: one row only */
    assert_string_equal(rows("exchange.a"), "1700000040000=1000;1700000045000=998.75;");
    balance("exchange.a", "USDT", "998.7"); /* no fill before it: no row */
    advance_ms(MIN1_MS + 60000);
    assert_string_equal(rows("exchange.a"),
                        "1700000040000=1000;1700000045000=998.75;1700000100000=998.7;");
    rig_close();
}

static void test_unknown_or_stale_equity_gives_no_row(void **state)
{
    rig_open();
    fill("exchange.b"); /* a fill names the account, no BALANCE ever */
    balance("exchange.c", "USDT", "50");
    advance_ms(MIN1_MS + 60000);
    assert_string_equal(rows("exchange.b"), "");
    assert_string_equal(rows("exchange.c"), "1700000040000=50;1700000100000=50;");
    /* 13 hours without a BALANCE: rows while it is at most 12 h old (the
     * BALANCE came at T0), none after. */
    advance_ms(MIN1_MS + 120000 + 13LL * 3600 * 1000);
    assert_string_equal(rows_since("exchange.c", 1700043120000),
                        "1700043120000=50;1700043180000=50;");
    /* A fresh BALANCE brings the rows back. */
    balance("exchange.c", "USDT", "51");
    advance_ms(MIN1_MS + 180000 + 13LL * 3600 * 1000);
    assert_string_equal(rows_since("exchange.c", 1700043120000),
                        "1700043120000=50;1700043180000=50;1700047020000=51;");
    assert_string_equal(rows("exchange.b"), "");
    rig_close();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_row_each_minute_exact),
        cmocka_unit_test(test_fill_then_balance_adds_a_row),
        cmocka_unit_test(test_unknown_or_stale_equity_gives_no_row),
    };
    return cmocka_run_group_tests_name("equity", tests, NULL, NULL);
}

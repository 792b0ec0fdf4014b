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
#include "sim_engine.h"
#include "util.h"

/* 1700000000000 ms is 20 s past a minute: the first row is at T0 + 40 s. */
#define T0_US 1700000000000000LL
#define MIN1_MS 1700000040000LL

static sim_engine S;
static at_instance *SRC;

static void rig_open(void)
{
    sim_engine_open(&S, "equity", NULL, T0_US, false);
    SRC = engine_virtual_instance(S.e, "test.venue");
}

static void rig_close(void)
{
    sim_engine_close(&S, true);
}

/* One BALANCE per currency, each with the account total, as exchange_okx
 * publishes them. */
static void balance(const char *account, const char *ccy, const char *total_eq)
{
    at_ev_balance *b = (at_ev_balance *)S.h->event_new(SRC, AT_EV_BALANCE, 0);
    assert_non_null(b);
    snprintf(b->account, sizeof(b->account), "%s", account);
    snprintf(b->ccy, sizeof(b->ccy), "%s", ccy);
    assert_int_equal(S.h->dec_parse(total_eq, (size_t)-1, &b->total_eq), AT_OK);
    b->eq = b->total_eq;
    S.h->publish(SRC, &b->h, 0);
    engine_pump(S.e);
}

static void fill(const char *account)
{
    at_ev_fill *x = (at_ev_fill *)S.h->event_new(SRC, AT_EV_FILL, 0);
    assert_non_null(x);
    x->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    snprintf(x->account, sizeof(x->account), "%s", account);
    snprintf(x->trade_id, sizeof(x->trade_id), "t1");
    S.h->dec_parse("1", (size_t)-1, &x->sz);
    S.h->dec_parse("50000", (size_t)-1, &x->px);
    S.h->publish(SRC, &x->h, 0);
    engine_pump(S.e);
}

static void advance_ms(int64_t to_ms)
{
    assert_int_equal(engine_advance(S.e, to_ms * 1000, 0), AT_OK);
}

/* The rows of an account, "ts|total_eq;..." in time order. */
static const char *rows_since(const char *account, int64_t from_ms)
{
    char *sql = at_asprintf("SELECT ts_ms, total_eq FROM equity_snapshots WHERE account = '%s' "
                            "AND ts_ms >= %lld ORDER BY ts_ms",
                            account, (long long)from_ms);
    const char *r = sim_engine_query(&S, SRC, sql);
    free(sql);
    return r;
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
    assert_string_equal(rows("exchange.a"), "1700000040000|10234.56789012;");
    balance("exchange.a", "USDT", "9999.00000001");
    advance_ms(MIN1_MS + 60000 + 10);
    assert_string_equal(rows("exchange.a"),
                        "1700000040000|10234.56789012;1700000100000|9999.00000001;");
    rig_close();
}

static void test_fill_then_balance_adds_a_row(void **state)
{
    rig_open();
    balance("exchange.a", "USDT", "1000");
    advance_ms(MIN1_MS + 5000);
    fill("exchange.a");
    /* The fill alone writes nothing: its equity is not known yet. */
    assert_string_equal(rows("exchange.a"), "1700000040000|1000;");
    balance("exchange.a", "USDT", "998.75");
    balance("exchange.a", "BTC", "998.75"); /* same push: one row only */
    assert_string_equal(rows("exchange.a"), "1700000040000|1000;1700000045000|998.75;");
    balance("exchange.a", "USDT", "998.7"); /* no fill before it: no row */
    advance_ms(MIN1_MS + 60000);
    assert_string_equal(rows("exchange.a"),
                        "1700000040000|1000;1700000045000|998.75;1700000100000|998.7;");
    rig_close();
}

static void test_unknown_or_stale_equity_gives_no_row(void **state)
{
    rig_open();
    fill("exchange.b"); /* a fill names the account, no BALANCE ever */
    balance("exchange.c", "USDT", "50");
    advance_ms(MIN1_MS + 60000);
    assert_string_equal(rows("exchange.b"), "");
    assert_string_equal(rows("exchange.c"), "1700000040000|50;1700000100000|50;");
    /* 13 hours without a BALANCE: rows while it is at most 12 h old (the
     * BALANCE came at T0), none after. */
    advance_ms(MIN1_MS + 120000 + 13LL * 3600 * 1000);
    assert_string_equal(rows_since("exchange.c", 1700043120000),
                        "1700043120000|50;1700043180000|50;");
    /* A fresh BALANCE brings the rows back. */
    balance("exchange.c", "USDT", "51");
    advance_ms(MIN1_MS + 180000 + 13LL * 3600 * 1000);
    assert_string_equal(rows_since("exchange.c", 1700043120000),
                        "1700043120000|50;1700043180000|50;1700047020000|51;");
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

/* lib/ta market helpers: order-book imbalance and microprice (reference
 * §5.2 vectors), price change over 5m/15m/1h/4h/24h from 1-minute bars,
 * UTC-aligned bar aggregation from 1m bars and from trades, funding change,
 * and the strict candle CSV reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ta.h"
#include "ta_csv.h"

#define MIN 60000LL
/* 2026-01-01T00:00:00Z */
#define T0 1767225600000LL

static void near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * fabs(want) + 1e-15)) {
        fail_msg("got %.17g, want %.17g", got, want);
    }
}

/* ---- order book --------------------------------------------------------- */

static void test_obi_microprice(void **state)
{
    (void)state;
    const double bids[] = {2, 1}, asks[] = {1, 1}; /* (100,2),(99,1) / (101,1),(102,1) */
    near(ta_obi(bids, 2, asks, 2, 2), 0.2);
    near(ta_obi(bids, 2, asks, 2, 1), 1.0 / 3.0);    /* top 1: 2 vs 1 */
    near(ta_obi(bids, 2, asks, 2, 25), 0.2);         /* depth beyond the book */
    near(ta_obi(bids, 2, asks, 0, 5), 1.0);          /* no asks */
    assert_true(ta_obi(NULL, 0, NULL, 0, 5) == 0.0); /* empty book: 0, not NaN */
    near(ta_microprice(100, 1, 101, 3), 100.25);
    near(ta_microprice(100, 0, 101, 0), 100.5); /* mid when both sizes are 0 */
    near(ta_microprice(100, 3, 101, 1), 100.75);
}

/* ---- price change -------------------------------------------------------- */

static void test_chg_windows(void **state)
{
    (void)state;
    static ta_chg c; /* 11 KiB: keep it off the stack */
    ta_chg_init(&c);
    static const int win[] = {5, 15, 60, 240, 1440};
    for (int m = 0; m <= 1440; m++) {
        assert_int_equal(ta_chg_push(&c, T0 + m * MIN, 100.0 + m), 0);
        for (int k = 0; k < 5; k++) {
            double v = ta_chg_get(&c, win[k]);
            if (m < win[k]) {
                assert_true(isnan(v)); /* not N minutes of history yet */
            } else {
                near(v, (100.0 + m) / (100.0 + m - win[k]) - 1.0);
            }
        }
    }
    near(ta_chg_get(&c, 1440), 1540.0 / 100.0 - 1.0);
    /* The next minute drops minute 0 from the 24 h window. */
    ta_chg_push(&c, T0 + 1441 * MIN, 2000.0);
    near(ta_chg_get(&c, 1440), 2000.0 / 101.0 - 1.0);
    near(ta_chg_get(&c, 5), 2000.0 / 1536.0 - 1.0);
    /* A repeated newest minute replaces its close; an older one is refused. */
    assert_int_equal(ta_chg_push(&c, T0 + 1441 * MIN, 1600.0), 0);
    near(ta_chg_get(&c, 5), 1600.0 / 1536.0 - 1.0);
    assert_int_equal(ta_chg_push(&c, T0 + 1000 * MIN, 1.0), -1);
    assert_true(isnan(ta_chg_get(&c, 0)));
    assert_true(isnan(ta_chg_get(&c, 1441)));
}

/* Minutes without a bar carry the last close; a day-long gap leaves a flat
 * 24 h history at the last price, not garbage. */
static void test_chg_gaps(void **state)
{
    (void)state;
    static ta_chg c;
    ta_chg_init(&c);
    for (int m = 0; m < 10; m++) {
        ta_chg_push(&c, T0 + m * MIN, 100.0);
    }
    ta_chg_push(&c, T0 + 12 * MIN, 110.0); /* minutes 10, 11 missing */
    near(ta_chg_get(&c, 5), 0.1);
    near(ta_chg_get(&c, 1), 0.1);
    ta_chg_push(&c, T0 + 13 * MIN, 121.0);
    near(ta_chg_get(&c, 2), 0.21); /* minute 11 = the carried 100 */
    ta_chg_push(&c, T0 + 5000 * MIN, 242.0);
    near(ta_chg_get(&c, 1440), 1.0);
    near(ta_chg_get(&c, 5), 1.0);
}

/* 15m computed from 1m bars ends on the newest minute, whatever the hourly
 * candles say: the change is read from the minute ring, not from bars. */
static void test_chg_not_from_hourly(void **state)
{
    (void)state;
    static ta_chg c;
    ta_chg_init(&c);
    ta_agg h;
    ta_agg_init(&h, 60 * MIN);
    ta_bar out[2];
    for (int m = 0; m < 120; m++) {
        double px = m < 105 ? 100.0 : 103.0; /* +3 % in the last quarter hour */
        ta_bar b = {.open_ms = T0 + m * MIN, .o = px, .h = px, .l = px, .c = px, .v = 1};
        ta_chg_push(&c, b.open_ms, px);
        ta_agg_add_bar(&h, &b, MIN, out);
    }
    near(ta_chg_get(&c, 15), 0.03);
    near(ta_chg_get(&c, 5), 0.0);
}

/* ---- aggregation ----------------------------------------------------------- */

static ta_bar minute(int64_t open_ms, double o, double h, double l, double c, double v)
{
    return (ta_bar){.open_ms = open_ms, .o = o, .h = h, .l = l, .c = c, .v = v};
}

static void test_agg_5m_alignment(void **state)
{
    (void)state;
    ta_agg a;
    ta_agg_init(&a, 5 * MIN);
    ta_bar out[2];
    /* Start mid-bucket at 23:57: the 23:55 bar closes with the 23:59 minute. */
    int64_t t = T0 - 3 * MIN;
    ta_bar m1 = minute(t, 10, 11, 9, 10, 1);
    assert_int_equal(ta_agg_add_bar(&a, &m1, MIN, out), 0);
    ta_bar m2 = minute(t + MIN, 10, 12, 10, 11, 2);
    assert_int_equal(ta_agg_add_bar(&a, &m2, MIN, out), 0);
    ta_bar m3 = minute(t + 2 * MIN, 11, 11, 8, 9, 3);
    assert_int_equal(ta_agg_add_bar(&a, &m3, MIN, out), 1);
    assert_true(out[0].open_ms == T0 - 5 * MIN);
    assert_true(out[0].o == 10 && out[0].h == 12 && out[0].l == 8 && out[0].c == 9);
    assert_true(out[0].v == 6 && out[0].n == 3);
    /* 00:00 .. 00:04 → one bar opening at midnight, emitted on 00:04. */
    for (int i = 0; i < 5; i++) {
        ta_bar b = minute(T0 + i * MIN, 20 + i, 21 + i, 19 + i, 20.5 + i, 1);
        assert_int_equal(ta_agg_add_bar(&a, &b, MIN, out), i == 4 ? 1 : 0);
    }
    assert_true(out[0].open_ms == T0 && out[0].o == 20 && out[0].h == 25 && out[0].l == 19);
    assert_true(out[0].c == 24.5 && out[0].v == 5 && out[0].n == 5);
    /* A repeated minute of an emitted bar is ignored. */
    ta_bar dup = minute(T0 + 4 * MIN, 1, 1, 1, 1, 1);
    assert_int_equal(ta_agg_add_bar(&a, &dup, MIN, out), 0);
    /* Gap: 00:05, 00:06 then 00:12 → the 00:05 bar closes short (n = 2), and
     * the 00:10 bar is open. */
    ta_bar g1 = minute(T0 + 5 * MIN, 1, 2, 1, 2, 1), g2 = minute(T0 + 6 * MIN, 2, 3, 2, 3, 1);
    ta_bar g3 = minute(T0 + 12 * MIN, 5, 5, 5, 5, 1);
    ta_agg_add_bar(&a, &g1, MIN, out);
    ta_agg_add_bar(&a, &g2, MIN, out);
    assert_int_equal(ta_agg_add_bar(&a, &g3, MIN, out), 1);
    assert_true(out[0].open_ms == T0 + 5 * MIN && out[0].n == 2 && out[0].c == 3);
    assert_true(a.open && a.cur.open_ms == T0 + 10 * MIN);
    /* Clock past the end of the open bar flushes it. */
    assert_int_equal(ta_agg_flush(&a, T0 + 15 * MIN - 1, out), 0);
    assert_int_equal(ta_agg_flush(&a, T0 + 15 * MIN, out), 1);
    assert_true(out[0].open_ms == T0 + 10 * MIN);
}

static void test_agg_hour_boundaries(void **state)
{
    (void)state;
    static const int64_t bars[] = {15 * MIN, 60 * MIN, 240 * MIN};
    /* 2026-01-01T05:37Z falls in 05:30 (15m), 05:00 (1h), 04:00 (4h) UTC. */
    int64_t t = T0 + (5 * 60 + 37) * MIN;
    static const int64_t want[] = {T0 + 330 * MIN, T0 + 300 * MIN, T0 + 240 * MIN};
    for (int k = 0; k < 3; k++) {
        ta_agg a;
        ta_agg_init(&a, bars[k]);
        ta_bar out[2], b = minute(t, 1, 1, 1, 1, 1);
        ta_agg_add_bar(&a, &b, MIN, out);
        assert_true(a.cur.open_ms == want[k]);
        /* The minute that ends on the boundary closes the bar. */
        ta_bar last = minute(want[k] + bars[k] - MIN, 2, 2, 2, 2, 1);
        assert_int_equal(ta_agg_add_bar(&a, &last, MIN, out), 1);
        assert_true(out[0].open_ms == want[k] && out[0].c == 2 && out[0].n == 2);
    }
}

static void test_agg_trades(void **state)
{
    (void)state;
    ta_agg a;
    ta_agg_init(&a, MIN);
    ta_bar out;
    int64_t t = T0 + 10 * 60 * MIN; /* 10:00Z */
    assert_int_equal(ta_agg_add_trade(&a, t + 5000, 100, 1, &out), 0);
    assert_int_equal(ta_agg_add_trade(&a, t + 30000, 102, 2, &out), 0);
    assert_int_equal(ta_agg_add_trade(&a, t + 59999, 99, 0.5, &out), 0);
    assert_int_equal(ta_agg_add_trade(&a, t + 62000, 101, 1, &out), 1);
    assert_true(out.open_ms == t && out.o == 100 && out.h == 102 && out.l == 99 && out.c == 99);
    assert_true(out.v == 3.5 && out.n == 3);
    assert_int_equal(ta_agg_add_trade(&a, t + 50000, 1, 1, &out), 0); /* late: ignored */
    assert_int_equal(ta_agg_flush(&a, t + 2 * MIN, &out), 1);
    assert_true(out.open_ms == t + MIN && out.c == 101 && out.n == 1);
    assert_int_equal(ta_agg_add_trade(&a, t + 90000, 1, 1, &out), 0); /* flushed minute */
    assert_false(a.open);
}

/* ---- funding ------------------------------------------------------------- */

static void test_funding(void **state)
{
    (void)state;
    ta_funding f;
    ta_funding_init(&f);
    assert_true(isnan(ta_funding_rate(&f)) && isnan(ta_funding_chg(&f)));
    ta_funding_update(&f, T0, 0.0001);
    ta_funding_update(&f, T0, 0.00012); /* same period: revised rate */
    near(ta_funding_rate(&f), 0.00012);
    assert_true(isnan(ta_funding_chg(&f)));
    ta_funding_update(&f, T0 + 480 * MIN, 0.0003);
    near(ta_funding_chg(&f), 0.0003 - 0.00012);
    ta_funding_update(&f, T0, 0.5); /* older period: ignored */
    near(ta_funding_rate(&f), 0.0003);
}

/* ---- CSV ----------------------------------------------------------------- */

static void test_parse_ts(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(ta_parse_ts("1767225600000", &t), 0);
    assert_true(t == T0);
    assert_int_equal(ta_parse_ts("2026-01-01T00:00:00.000Z", &t), 0);
    assert_true(t == T0);
    assert_int_equal(ta_parse_ts("2026-01-01 08:00:00+08:00", &t), 0);
    assert_true(t == T0);
    assert_int_equal(ta_parse_ts("2026-01-01", &t), 0);
    assert_true(t == T0);
    assert_int_equal(ta_parse_ts("2025-12-31T23:59:30.5Z", &t), 0);
    assert_true(t == T0 - 29500);
    assert_int_equal(ta_parse_ts("2024-02-29T12:00Z", &t), 0);
    assert_true(t == 1709208000000LL);
    assert_int_equal(ta_parse_ts("", &t), -1);
    assert_int_equal(ta_parse_ts("2026-13-01", &t), -1);
    assert_int_equal(ta_parse_ts("12ab", &t), -1);
    assert_int_equal(ta_parse_ts("2026-01-01T25:00Z", &t), -1);
}

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_ta_csv_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void expect_csv_error(const char *text, const char *want)
{
    char *path = write_tmp(text);
    char err[256] = "";
    ta_csv *r = ta_csv_open(path, NULL, err, sizeof(err));
    ta_bar b;
    int rc = r ? 0 : -1;
    while (r && (rc = ta_csv_next(r, &b, err, sizeof(err))) == 1) {
    }
    ta_csv_close(r);
    unlink(path);
    assert_int_equal(rc, -1);
    if (!strstr(err, want) || strncmp(err, path, strlen(path)) != 0) {
        fail_msg("error '%s' lacks '%s'", err, want);
    }
}

static void test_csv(void **state)
{
    (void)state;
    char *path = write_tmp("TS,iso,Open,HIGH,low,Close,Volume,instId\r\n"
                           "1767225600000,x,1,2,0.5,1.5,10,BTC-USDT-SWAP\r\n"
                           "1767225600000,x,1,2,0.5,1.5,10,ETH-USDT-SWAP\r\n"
                           "\n"
                           "2026-01-01T00:01:00Z,x,1.5,3,1,2,20,BTC-USDT-SWAP\n");
    char err[256];
    ta_csv *r = ta_csv_open(path, "BTC-USDT-SWAP", err, sizeof(err));
    assert_non_null(r);
    ta_bar b;
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 1);
    assert_true(b.open_ms == T0 && b.o == 1 && b.h == 2 && b.l == 0.5 && b.c == 1.5 && b.v == 10);
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 1);
    assert_true(b.open_ms == T0 + MIN && b.c == 2 && b.v == 20);
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 0);
    ta_csv_close(r);
    unlink(path);

    expect_csv_error("", ":1: empty file");
    expect_csv_error("ts,open,high,close\n1,1,1,1\n", ":1: header has no 'low' column");
    expect_csv_error("ts,open,high,low,close,open\n", ":1: column 'open' appears twice");
    expect_csv_error("ts,open,high,low,close\n1,1,1,1,1\n2,1,1,1\n",
                     ":3: 4 fields, the header has 5");
    expect_csv_error("ts,open,high,low,close\n1,1,1,1,abc\n", ":2: close: 'abc' is not a finite");
    expect_csv_error("ts,open,high,low,close\n1,1,1,1,nan\n", ":2: close:");
    expect_csv_error("ts,open,high,low,close\nyesterday,1,1,1,1\n", ":2: ts: 'yesterday'");
    expect_csv_error("ts,open,high,low,close\n2,1,1,1,1\n\n2,1,1,1,1\n", ":4: ts 2 is not after");
    expect_csv_error("ts,open,high,low,close\n1,1,1,2,1\n", ":2: inconsistent candle");
    expect_csv_error("ts,open,high,low,close,volume\n1,1,1,1,1,-3\n", ":2: volume: negative");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obi_microprice),   cmocka_unit_test(test_chg_windows),
        cmocka_unit_test(test_chg_gaps),         cmocka_unit_test(test_chg_not_from_hourly),
        cmocka_unit_test(test_agg_5m_alignment), cmocka_unit_test(test_agg_hour_boundaries),
        cmocka_unit_test(test_agg_trades),       cmocka_unit_test(test_funding),
        cmocka_unit_test(test_parse_ts),         cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

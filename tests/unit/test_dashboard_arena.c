/* The arena's pure figures (plugins/ui_dashboard/dash_arena.h): the window
 * of GET /api/arena, the max drawdown, the Sharpe ratio of hourly returns
 * (the last point of each UTC hour, an hour without one carried, at least
 * ARENA_SHARPE_MIN returns) and the
 * curve's downsampling, each against values worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dash_arena.h"

#define H ARENA_HOUR_MS

/* cmocka's assert_float_equal is single precision */
static void near(double got, double want, double eps, int line)
{
    if (!(fabs(got - want) <= eps)) {
        fail_msg("line %d: %.17g, want %.17g (within %g)", line, got, want, eps);
    }
}
#define assert_near(got, want, eps) near(got, want, eps, __LINE__)

static void test_window(void **state)
{
    (void)state;
    int64_t from, to;
    dash_err e;
    char key[64], key2[64];
    assert_int_equal(arena_window(NULL, 5000, &from, &to, NULL, 0, &e), 0);
    assert_true(from == 0 && to == 5000);
    assert_int_equal(arena_window("from=10&to=20", 5000, &from, &to, key, sizeof(key), &e), 0);
    assert_true(from == 10 && to == 20);
    assert_string_equal(key, "10@20");
    assert_int_equal(arena_window("to=30&from=30", 5000, &from, &to, NULL, 0, &e), 0);
    assert_true(from == 30 && to == 30);
    assert_int_equal(arena_window("from=6000", 5000, &from, &to, NULL, 0, &e), 400); /* after now */
    assert_string_equal(e.field, "from");
    assert_string_equal(e.code, "bad_query");
    assert_non_null(strstr(e.message, "from (6000) is after to (5000)"));
    assert_int_equal(arena_window("from=20&to=10", 5000, &from, &to, NULL, 0, &e), 400);
    static const char *const bad[][2] = {
        {"from=x", "from"},
        {"from=-1", "from"},
        {"from=1.5", "from"},
        {"to=", NULL},
        {"to=1e3", "to"},
        {"to=%zz", "to"},
        {"to=+5", "to"},
        /* past INT64_MAX: strtoll clamps to it and says ERANGE */
        {"to=99999999999999999999", "to"},
        {"from=99999999999999999999", "from"},
        {"to=-99999999999999999999", "to"},
        {"window=1y", "window"},
        {"window=7d&from=5", "from"},
        {"window=7d&to=-1", "to"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = arena_window(bad[i][0], 5000, &from, &to, NULL, 0, &e);
        if (!bad[i][1]) { /* an empty value is absent */
            assert_int_equal(rc, 0);
            assert_true(to == 5000);
            continue;
        }
        if (rc != 400 || strcmp(e.field, bad[i][1]) != 0) {
            fail_msg("%s: %d %s", bad[i][0], rc, rc ? e.field : "accepted");
        }
    }
    /* the largest value is still one */
    assert_int_equal(arena_window("to=9223372036854775807", 5000, &from, &to, NULL, 0, &e), 0);
    assert_true(to == INT64_MAX);

    /* window: the span before to, on the clock given (the engine's) */
    const int64_t now = 100 * 24 * H + 7;
    assert_int_equal(arena_window("window=24h", now, &from, &to, key, sizeof(key), &e), 0);
    assert_true(to == now && from == now - 24 * H);
    assert_int_equal(arena_window("window=7d", now, &from, &to, NULL, 0, &e), 0);
    assert_true(to == now && from == now - 7 * 24 * H);
    assert_int_equal(arena_window("window=30d&to=40000", now, &from, &to, NULL, 0, &e), 0);
    assert_true(to == 40000 && from == 0); /* not before 0 */
    assert_int_equal(arena_window("window=all", now, &from, &to, NULL, 0, &e), 0);
    assert_true(to == now && from == 0);
    /* the same question later has the same key; another window or to not */
    assert_int_equal(arena_window("window=24h", now + 999, &from, &to, key2, sizeof(key2), &e), 0);
    assert_string_equal(key, key2);
    assert_int_equal(arena_window("window=7d", now, &from, &to, key2, sizeof(key2), &e), 0);
    assert_string_not_equal(key, key2);
    assert_int_equal(arena_window("window=24h&to=5", now, &from, &to, key2, sizeof(key2), &e), 0);
    assert_string_not_equal(key, key2);
    assert_int_equal(arena_window("from=5", now, &from, &to, key, sizeof(key), &e), 0);
    assert_int_equal(arena_window("from=5", now + 1, &from, &to, key2, sizeof(key2), &e), 0);
    assert_string_equal(key, key2);
}

static void test_drawdown(void **state)
{
    (void)state;
    arena_pt p[] = {{1, 100}, {2, 120}, {3, 90}, {4, 110}, {5, 60}, {6, 130}, {7, 117}};
    /* 120 -> 90 is 25 %, 120 -> 60 is 50 %, 130 -> 117 is 10 % */
    assert_near(arena_max_drawdown_pct(p, 7), 50.0, 1e-12);
    assert_near(arena_max_drawdown_pct(p, 4), 25.0, 1e-12);
    assert_near(arena_max_drawdown_pct(p, 2), 0.0, 0); /* only up */
    assert_near(arena_max_drawdown_pct(p, 1), 0.0, 0); /* one point */
    assert_near(arena_max_drawdown_pct(NULL, 0), 0.0, 0);
    arena_pt neg[] = {{1, -5}, {2, 0}, {3, 10}, {4, 5}, {5, NAN}}; /* no peak below 0 */
    assert_near(arena_max_drawdown_pct(neg, 5), 50.0, 1e-12);
    /* an equity that falls below 0 lost all of it: 100 %, not 250 % */
    arena_pt under[] = {{1, 100}, {2, 50}, {3, -150}, {4, 20}};
    assert_near(arena_max_drawdown_pct(under, 4), 100.0, 0);
    arena_pt zero[] = {{1, 100}, {2, 0}};
    assert_near(arena_max_drawdown_pct(zero, 2), 100.0, 0);
}

/* The Sharpe ratio of hourly closes c[0..n-1] by its definition (two
 * passes, no running sums). */
static double sharpe_of(const double *c, size_t n)
{
    double mean = 0, ss = 0;
    for (size_t i = 1; i < n; i++) {
        mean += (c[i] / c[i - 1] - 1) / (double)(n - 1);
    }
    for (size_t i = 1; i < n; i++) {
        double d = c[i] / c[i - 1] - 1 - mean;
        ss += d * d;
    }
    return mean / sqrt(ss / (double)(n - 2)) * sqrt(8760);
}

/* A curve with the hourly closes c[i] at the last ms of hour t0 + i, and a
 * decoy at the start of each hour that the close replaces. */
static size_t hourly(arena_pt *p, const double *c, size_t n, int64_t t0)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        p[k++] = (arena_pt){(t0 + (int64_t)i) * H + 5, 500};
        p[k++] = (arena_pt){(t0 + (int64_t)i) * H + H - 1, c[i]};
    }
    return k;
}

static void test_sharpe(void **state)
{
    (void)state;
    double s, c[40];
    arena_pt p[80];
    size_t nret;
    /* +10 %, -10 % in turn: 25 returns, 13 up and 12 down */
    c[0] = 100;
    for (size_t i = 1; i < 26; i++) {
        c[i] = c[i - 1] * (i % 2 ? 1.1 : 0.9);
    }
    assert_true(arena_sharpe(p, hourly(p, c, 26, 0), &s, &nret));
    assert_int_equal(nret, 25);
    assert_near(s, sharpe_of(c, 26), 1e-9);
    /* by hand: mean 0.1 / 25 = 0.004; deviations 0.096 (13x) and -0.104
     * (12x): 0.2496 / 24 = 0.0104; 0.004 / sqrt(0.0104) x sqrt(8760) */
    assert_near(s, 0.004 / sqrt(0.0104) * sqrt(8760), 1e-9);
    assert_near(s, 3.67108, 1e-4);

    /* 24 returns are enough, 23 are not (but counted) */
    assert_true(arena_sharpe(p, hourly(p, c, 25, 0), &s, &nret));
    assert_int_equal(nret, 24);
    assert_false(arena_sharpe(p, hourly(p, c, 24, 0), &s, &nret));
    assert_int_equal(nret, 23);

    /* an hour without a point keeps the last value: a zero return */
    size_t k = hourly(p, c, 26, 0);
    arena_pt gap[80];
    size_t m = 0;
    double filled[26];
    for (size_t i = 0; i < k; i++) {
        int64_t h = p[i].ts / H;
        if (h != 3 && h != 10 && h != 11) {
            gap[m++] = p[i];
        }
    }
    for (size_t i = 0; i < 26; i++) {
        filled[i] = (i == 3 || i == 10 || i == 11) ? filled[i - 1] : c[i];
    }
    assert_true(arena_sharpe(gap, m, &s, &nret));
    assert_int_equal(nret, 25);
    assert_near(s, sharpe_of(filled, 26), 1e-9);

    /* before 1970 the hours still fall on their UTC hour */
    double want;
    assert_true(arena_sharpe(p, hourly(p, c, 26, 0), &want, &nret));
    assert_true(arena_sharpe(p, hourly(p, c, 26, -13), &s, &nret));
    assert_near(s, want, 1e-9);

    /* no figure: no variance, equity not above 0, all in one hour */
    double flat[30];
    flat[0] = 100;
    for (size_t i = 1; i < 30; i++) {
        flat[i] = flat[i - 1] * 1.1; /* +10 % each hour */
    }
    assert_false(arena_sharpe(p, hourly(p, flat, 30, 0), &s, &nret));
    assert_int_equal(nret, 29);
    c[7] = 0;
    assert_false(arena_sharpe(p, hourly(p, c, 26, 0), &s, &nret));
    arena_pt same_hour[] = {{0, 100}, {10, 200}, {20, 50}};
    assert_false(arena_sharpe(same_hour, 3, &s, &nret));
    assert_int_equal(nret, 0);
    assert_false(arena_sharpe(NULL, 0, &s, &nret));
}

static void test_downsample(void **state)
{
    (void)state;
    size_t idx[ARENA_CURVE_MAX];
    arena_pt small[] = {{1, 1}, {2, 2}, {3, 3}};
    assert_int_equal(arena_downsample(small, 3, ARENA_CURVE_MAX, idx), 3);
    assert_true(idx[0] == 0 && idx[1] == 1 && idx[2] == 2);

    size_t n = 20000;
    arena_pt *p = malloc(n * sizeof(*p));
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = (arena_pt){(int64_t)i * 60000, 10000 + (double)(i % 7)};
    }
    p[12345].v = 20000; /* a peak */
    p[777].v = 1;       /* a trough */
    size_t k = arena_downsample(p, n, ARENA_CURVE_MAX, idx);
    assert_true(k <= ARENA_CURVE_MAX && k > ARENA_CURVE_MAX / 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[k - 1], n - 1);
    bool peak = false, trough = false;
    for (size_t i = 0; i < k; i++) {
        if (i) {
            assert_true(idx[i] > idx[i - 1]); /* ascending, each once */
        }
        peak |= idx[i] == 12345;
        trough |= idx[i] == 777;
    }
    assert_true(peak && trough);

    /* every point at one time: the first, the extremes, the last */
    for (size_t i = 0; i < n; i++) {
        p[i].ts = 5;
    }
    k = arena_downsample(p, n, ARENA_CURVE_MAX, idx);
    assert_int_equal(k, 4);
    assert_true(idx[0] == 0 && idx[1] == 777 && idx[2] == 12345 && idx[3] == n - 1);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_drawdown),
        cmocka_unit_test(test_sharpe),
        cmocka_unit_test(test_downsample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

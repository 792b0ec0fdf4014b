/* The arena's pure figures (plugins/ui_dashboard/dash_arena.h): the window
 * of GET /api/arena, the max drawdown, the Sharpe ratio of hourly returns
 * (the last point of each UTC hour, an hour without one carried) and the
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
    assert_int_equal(arena_window(NULL, 5000, &from, &to, &e), 0);
    assert_true(from == 0 && to == 5000);
    assert_int_equal(arena_window("from=10&to=20", 5000, &from, &to, &e), 0);
    assert_true(from == 10 && to == 20);
    assert_int_equal(arena_window("to=30&from=30", 5000, &from, &to, &e), 0);
    assert_true(from == 30 && to == 30);
    assert_int_equal(arena_window("from=6000", 5000, &from, &to, &e), 400); /* after now */
    assert_string_equal(e.field, "from");
    assert_string_equal(e.code, "bad_query");
    assert_non_null(strstr(e.message, "from (6000) is after to (5000)"));
    assert_int_equal(arena_window("from=20&to=10", 5000, &from, &to, &e), 400);
    static const char *const bad[][2] = {
        {"from=x", "from"}, {"from=-1", "from"}, {"from=1.5", "from"}, {"to=", NULL},
        {"to=1e3", "to"},   {"to=%zz", "to"},    {"to=+5", "to"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = arena_window(bad[i][0], 5000, &from, &to, &e);
        if (!bad[i][1]) { /* an empty value is absent */
            assert_int_equal(rc, 0);
            assert_true(to == 5000);
            continue;
        }
        assert_int_equal(rc, 400);
        assert_string_equal(e.field, bad[i][1]);
    }
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
}

static void test_sharpe(void **state)
{
    (void)state;
    double s;
    /* hours 0..3 end at 100, 110, 99, 108.9: returns +10 %, -10 %, +10 %;
     * the points inside an hour before its last one do not count */
    arena_pt p[] = {{0, 100},         {H - 1, 100},   {H, 500},          {2 * H - 1, 110},
                    {2 * H + 10, 99}, {3 * H + 5, 1}, {3 * H + 6, 108.9}};
    assert_true(arena_sharpe(p, 7, &s));
    double r[] = {0.1, -0.1, 0.1}, mean = (r[0] + r[1] + r[2]) / 3, ss = 0;
    for (int i = 0; i < 3; i++) {
        ss += (r[i] - mean) * (r[i] - mean);
    }
    double want = mean / sqrt(ss / 2) * sqrt(8760);
    assert_near(s, want, 1e-9);
    assert_near(s, 27.0185, 1e-3); /* by hand: 0.0333 / 0.11547 x 93.59 */

    /* an hour without a point keeps the last value: a zero return */
    arena_pt gap[] = {{0, 100}, {H + 1, 110}, {3 * H + 1, 99}};
    double g[] = {0.1, 0, -0.1}, gm = 0, gs = 0;
    for (int i = 0; i < 3; i++) {
        gm += g[i] / 3;
    }
    for (int i = 0; i < 3; i++) {
        gs += (g[i] - gm) * (g[i] - gm);
    }
    assert_true(arena_sharpe(gap, 3, &s));
    assert_near(s, gm / sqrt(gs / 2) * sqrt(8760), 1e-9);

    /* no figure: fewer than 2 returns, no variance, equity not above 0 */
    arena_pt two[] = {{0, 100}, {H, 110}};
    assert_false(arena_sharpe(two, 2, &s));
    arena_pt same_hour[] = {{0, 100}, {10, 200}, {20, 50}};
    assert_false(arena_sharpe(same_hour, 3, &s));
    arena_pt flat[] = {{0, 100}, {H, 110}, {2 * H, 121}}; /* +10 % twice */
    assert_false(arena_sharpe(flat, 3, &s));
    arena_pt zero[] = {{0, 100}, {H, 0}, {2 * H, 50}, {3 * H, 60}};
    assert_false(arena_sharpe(zero, 4, &s));
    assert_false(arena_sharpe(NULL, 0, &s));
    /* before 1970 the hours still fall on their UTC hour */
    arena_pt old[] = {
        {-3 * H + 5, 100}, {-2 * H - 1, 100}, {-2 * H + 5, 110}, {-H + 5, 99}, {5, 108.9}};
    assert_true(arena_sharpe(old, 5, &s));
    assert_near(s, want, 1e-9);
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

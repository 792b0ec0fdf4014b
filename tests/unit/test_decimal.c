/* Unit tests for core/decimal.c: parsing, formatting, exact arithmetic,
 * rounding modes, step rounding as OKX lot/tick sizes need it, and the
 * conversion from doubles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "decimal.h"

#define ALL_MODES 5

static at_dec D(const char *s)
{
    at_dec d = {0, 0};
    int rc = at_dec_parse(s, (size_t)-1, &d);
    if (rc != AT_OK) {
        fail_msg("parse(\"%s\") = %d", s, rc);
    }
    return d;
}

static void expect_dec(at_dec got, int64_t m, int32_t scale)
{
    if (got.m != m || got.scale != scale) {
        fail_msg("got {%lld, %d}, want {%lld, %d}", (long long)got.m, (int)got.scale, (long long)m,
                 (int)scale);
    }
}

static void expect_fmt(at_dec d, const char *want)
{
    char buf[AT_DEC_STRLEN];
    int n = at_dec_format(d, buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

/* ---- parse ---------------------------------------------------------- */

static void test_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t m;
        int32_t scale;
    } cases[] = {
        {"0", 0, 0},
        {"-0", 0, 0},
        {"+0.000", 0, 3},
        {"123", 123, 0},
        {"+3", 3, 0},
        {"007", 7, 0},
        {"-12.5", -125, 1},
        {"-0.001", -1, 3},
        {"0.0001", 1, 4},
        {"1.50", 150, 2},
        {"100.00", 10000, 2},
        {"1e-8", 1, 8},
        {"1E-8", 1, 8},
        {"1.5E3", 1500, 0},
        {"1e+2", 100, 0},
        {"12.5e-1", 125, 2},
        {"100e-2", 100, 2},
        {"10e-19", 1, 18},
        {"0e-50", 0, 18},
        {"0e99999999999999999999", 0, 0},
        {"0.000000000000000001", 1, 18},
        {"-0.000000000000000001", -1, 18},
        {"9223372036854775807", INT64_MAX, 0},
        {"-9223372036854775808", INT64_MIN, 0},
        {"9.223372036854775807", INT64_MAX, 18},
        /* Redundant trailing zeros never make a parse fail. */
        {"0.10000000000000000000", 100000000000000000, 18},
        {"1.000000000000000000000000000000", 1000000000000000000, 18},
        {"922337203685477580.70", 9223372036854775807, 1},
        {"9223372036854775807.000", INT64_MAX, 0},
        {"9223372036854775807e-18", INT64_MAX, 18},
        {"0.0000000000000000010e+0", 1, 18},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        at_dec d = {42, 7};
        int rc = at_dec_parse(cases[i].s, (size_t)-1, &d);
        if (rc != AT_OK) {
            fail_msg("parse(\"%s\") = %d", cases[i].s, rc);
        }
        expect_dec(d, cases[i].m, cases[i].scale);
    }
}

static void test_parse_len(void **state)
{
    (void)state;
    at_dec d;
    assert_int_equal(at_dec_parse("12345", 3, &d), AT_OK);
    expect_dec(d, 123, 0);
    assert_int_equal(at_dec_parse("1.5xyz", 3, &d), AT_OK);
    expect_dec(d, 15, 1);
    assert_int_equal(at_dec_parse("1.5", 0, &d), AT_EINVAL);
    /* An embedded NUL inside `len` is junk, not a terminator. */
    assert_int_equal(at_dec_parse("1\0"
                                  "2",
                                  3, &d),
                     AT_EINVAL);
}

static void test_parse_reject_syntax(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",    "-",   "+",     "abc",  "1.",  ".5",    "-.5",  "+.5", "1.2.3", " 1",  "1 ",   "1\t",
        "\n1", "1e",  "1e+",   "1e-",  "e5",  "1..2",  "--1",  "+-1", "0x10",  "inf", "-inf", "nan",
        "NaN", "1,5", "1_000", "1.e5", ".e5", "1e5.0", "1e5e", "1f",  "12a",   "1-",  "1+1",  "١",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        at_dec d = {42, 7};
        int rc = at_dec_parse(bad[i], (size_t)-1, &d);
        if (rc != AT_EINVAL) {
            fail_msg("parse(\"%s\") = %d, want AT_EINVAL", bad[i], rc);
        }
        expect_dec(d, 42, 7); /* untouched on failure */
    }
    at_dec d;
    assert_int_equal(at_dec_parse(NULL, 1, &d), AT_EINVAL);
    assert_int_equal(at_dec_parse("1", 1, NULL), AT_EINVAL);
}

static void test_parse_reject_range(void **state)
{
    (void)state;
    static const char *bad[] = {
        "1e-19",
        "0.0000000000000000001",
        "-0.0000000000000000001",
        "1.0000000000000000001",    /* 20 significant digits */
        "0.1234567890123456789",    /* scale 19 */
        "9223372036854775808",      /* INT64_MAX + 1 */
        "-9223372036854775809",     /* INT64_MIN - 1 */
        "12345678901234567890",     /* 20 digits */
        "99999999999999999999e-10", /* 20 significant digits */
        "1e19",
        "10000000000000000000",
        "1e1000000000000",
        "1e-1000000000000",
        "9.3e18",
        "0.9223372036854775808e19",
        "92233720368547758.08e1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        at_dec d;
        int rc = at_dec_parse(bad[i], (size_t)-1, &d);
        if (rc != AT_ERANGE) {
            fail_msg("parse(\"%s\") = %d, want AT_ERANGE", bad[i], rc);
        }
    }
}

/* ---- format --------------------------------------------------------- */

static void test_format(void **state)
{
    (void)state;
    expect_fmt((at_dec){150, 2}, "1.5");
    expect_fmt((at_dec){-5, 3}, "-0.005");
    expect_fmt((at_dec){0, 4}, "0");
    expect_fmt((at_dec){0, 0}, "0");
    expect_fmt((at_dec){42, 0}, "42");
    expect_fmt((at_dec){100, 2}, "1");
    expect_fmt((at_dec){-100, 2}, "-1");
    expect_fmt((at_dec){1, 1}, "0.1");
    expect_fmt((at_dec){1, 18}, "0.000000000000000001");
    expect_fmt((at_dec){-1, 18}, "-0.000000000000000001");
    expect_fmt((at_dec){INT64_MAX, 0}, "9223372036854775807");
    expect_fmt((at_dec){INT64_MIN, 0}, "-9223372036854775808");
    expect_fmt((at_dec){INT64_MAX, 18}, "9.223372036854775807");
    expect_fmt((at_dec){INT64_MIN, 18}, "-9.223372036854775808");
    expect_fmt((at_dec){1000000000000000000, 18}, "1");
    expect_fmt((at_dec){123456789, 4}, "12345.6789");

    char buf[AT_DEC_STRLEN];
    assert_int_equal(at_dec_format((at_dec){1, 19}, buf), AT_EINVAL);
    assert_int_equal(at_dec_format((at_dec){1, -1}, buf), AT_EINVAL);
    assert_int_equal(at_dec_format((at_dec){1, 0}, NULL), AT_EINVAL);
}

static void test_round_trip_strings(void **state)
{
    (void)state;
    /* input -> canonical output */
    static const char *cases[][2] = {
        {"0", "0"},
        {"-0.000", "0"},
        {"1.50", "1.5"},
        {"0.0001", "0.0001"},
        {"1e-8", "0.00000001"},
        {"1.5E3", "1500"},
        {"-12.5", "-12.5"},
        {"+3", "3"},
        {"67123.4", "67123.4"},
        {"0.10000000000000000000", "0.1"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9.223372036854775807", "9.223372036854775807"},
        {"0.000000000000000001", "0.000000000000000001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        at_dec d = D(cases[i][0]);
        expect_fmt(d, cases[i][1]);
        at_dec back = D(cases[i][1]);
        assert_int_equal(at_dec_cmp(d, back), 0);
        at_dec nd = at_dec_normalize(d);
        expect_dec(back, nd.m, nd.scale);
    }
}

/* format then parse gives the same value, for a deterministic spread of
 * mantissas (tiny, huge, negative) at every scale. */
static void test_round_trip_generated(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int64_t m = (int64_t)x;
        switch (i % 4) {
        case 0:
            m %= 1000; /* small, with trailing-zero cases */
            m *= 10;
            break;
        case 1:
            m >>= (x >> 58); /* spread of magnitudes */
            break;
        case 2:
            m = (i & 8) ? INT64_MAX - (int64_t)(x % 100) : INT64_MIN + (int64_t)(x % 100);
            break;
        default:
            break;
        }
        at_dec d = {m, (int32_t)(x % 19)};
        char buf[AT_DEC_STRLEN];
        int n = at_dec_format(d, buf);
        assert_true(n > 0 && n < AT_DEC_STRLEN);
        assert_int_equal((size_t)n, strlen(buf));
        at_dec back;
        assert_int_equal(at_dec_parse(buf, (size_t)n, &back), AT_OK);
        assert_int_equal(at_dec_cmp(d, back), 0);
        at_dec nd = at_dec_normalize(d);
        expect_dec(back, nd.m, nd.scale);
    }
}

/* ---- compare, zero, normalize ---------------------------------------- */

static void test_cmp(void **state)
{
    (void)state;
    assert_int_equal(at_dec_cmp(D("1.50"), D("1.5")), 0);
    assert_int_equal(at_dec_cmp(D("0"), D("0.000")), 0);
    assert_true(at_dec_cmp(D("0.1"), D("0.09")) > 0);
    assert_true(at_dec_cmp(D("0.09"), D("0.1")) < 0);
    assert_true(at_dec_cmp(D("-0.001"), D("0")) < 0);
    assert_true(at_dec_cmp(D("-1"), D("-2")) > 0);
    assert_true(at_dec_cmp(D("1"), D("0.999999999999999999")) > 0);
    /* Extreme mantissas at opposite scales: would overflow a naive int64
     * alignment. */
    assert_true(at_dec_cmp((at_dec){INT64_MAX, 0}, (at_dec){INT64_MAX, 18}) > 0);
    assert_true(at_dec_cmp((at_dec){INT64_MIN, 0}, (at_dec){INT64_MIN, 18}) < 0);
    assert_true(at_dec_cmp((at_dec){INT64_MIN, 0}, (at_dec){INT64_MAX, 0}) < 0);
    assert_true(at_dec_cmp((at_dec){INT64_MAX, 18}, (at_dec){9, 0}) > 0);
    assert_true(at_dec_cmp((at_dec){INT64_MAX, 18}, (at_dec){10, 0}) < 0);
    assert_int_equal(at_dec_cmp((at_dec){9000000000000000000, 18}, (at_dec){9, 0}), 0);
}

static void test_zero_normalize(void **state)
{
    (void)state;
    assert_true(at_dec_is_zero((at_dec){0, 5}));
    assert_true(at_dec_is_zero(D("-0.00")));
    assert_false(at_dec_is_zero(D("0.000000000000000001")));
    expect_dec(at_dec_normalize((at_dec){1500, 3}), 15, 1);
    expect_dec(at_dec_normalize((at_dec){0, 7}), 0, 0);
    expect_dec(at_dec_normalize((at_dec){-100, 2}), -1, 0);
    expect_dec(at_dec_normalize((at_dec){7, 0}), 7, 0);
    expect_dec(at_dec_normalize((at_dec){70, 0}), 70, 0);
    expect_dec(at_dec_normalize((at_dec){INT64_MIN, 18}), INT64_MIN, 18);
}

/* ---- add, sub, mul --------------------------------------------------- */

static void test_add_sub(void **state)
{
    (void)state;
    at_dec r;
    assert_int_equal(at_dec_add(D("0.1"), D("0.2"), &r), AT_OK);
    expect_dec(r, 3, 1);
    assert_int_equal(at_dec_add(D("1.50"), D("1"), &r), AT_OK);
    expect_dec(r, 250, 2);
    assert_int_equal(at_dec_add(D("-1.25"), D("1.25"), &r), AT_OK);
    expect_dec(r, 0, 2);
    assert_int_equal(at_dec_sub(D("0.3"), D("0.1"), &r), AT_OK);
    expect_dec(r, 2, 1);
    assert_int_equal(at_dec_sub(D("0.0001"), D("100"), &r), AT_OK);
    expect_fmt(r, "-99.9999");
    assert_int_equal(at_dec_sub((at_dec){-1, 0}, (at_dec){INT64_MAX, 0}, &r), AT_OK);
    expect_dec(r, INT64_MIN, 0);

    /* Overflow is reported, never wrapped. */
    assert_int_equal(at_dec_add((at_dec){INT64_MAX, 0}, (at_dec){1, 0}, &r), AT_ERANGE);
    assert_int_equal(at_dec_sub((at_dec){INT64_MIN, 0}, (at_dec){1, 0}, &r), AT_ERANGE);
    assert_int_equal(at_dec_sub((at_dec){0, 0}, (at_dec){INT64_MIN, 0}, &r), AT_ERANGE);
    assert_int_equal(at_dec_add((at_dec){INT64_MAX, 0}, (at_dec){1, 18}, &r), AT_ERANGE);
    assert_int_equal(at_dec_add((at_dec){INT64_MAX, 18}, (at_dec){INT64_MAX, 18}, &r), AT_ERANGE);

    /* A sum that only fits after dropping exact trailing zeros succeeds. */
    assert_int_equal(
        at_dec_add((at_dec){5000000000000000000, 18}, (at_dec){5000000000000000000, 18}, &r),
        AT_OK);
    expect_dec(r, 1000000000000000000, 17);

    assert_int_equal(at_dec_add((at_dec){1, 19}, (at_dec){1, 0}, &r), AT_EINVAL);
    assert_int_equal(at_dec_sub((at_dec){1, 0}, (at_dec){1, -1}, &r), AT_EINVAL);
    assert_int_equal(at_dec_add((at_dec){1, 0}, (at_dec){1, 0}, NULL), AT_EINVAL);
}

static void test_mul(void **state)
{
    (void)state;
    at_dec r;
    assert_int_equal(at_dec_mul(D("1.5"), D("2"), &r), AT_OK);
    expect_dec(r, 30, 1);
    assert_int_equal(at_dec_mul(D("0.01"), D("0.01"), &r), AT_OK);
    expect_dec(r, 1, 4);
    assert_int_equal(at_dec_mul(D("-0.3"), D("4"), &r), AT_OK);
    expect_dec(r, -12, 1);
    assert_int_equal(at_dec_mul(D("-0.3"), D("-0.3"), &r), AT_OK);
    expect_dec(r, 9, 2);
    assert_int_equal(at_dec_mul(D("67123.4"), D("0"), &r), AT_OK);
    assert_true(at_dec_is_zero(r));
    /* price x contracts x ctVal */
    assert_int_equal(at_dec_mul(D("67123.4"), D("0.01"), &r), AT_OK);
    expect_fmt(r, "671.234");

    assert_int_equal(at_dec_mul((at_dec){INT64_MAX, 0}, (at_dec){2, 0}, &r), AT_ERANGE);
    assert_int_equal(at_dec_mul((at_dec){INT64_MIN, 0}, (at_dec){-1, 0}, &r), AT_ERANGE);
    assert_int_equal(at_dec_mul((at_dec){INT64_MIN, 0}, (at_dec){1, 0}, &r), AT_OK);
    expect_dec(r, INT64_MIN, 0);
    assert_int_equal(at_dec_mul((at_dec){INT64_MAX, 0}, (at_dec){INT64_MAX, 0}, &r), AT_ERANGE);
    /* Scale 20 with non-zero digits there cannot be exact. */
    assert_int_equal(at_dec_mul((at_dec){1, 10}, (at_dec){1, 10}, &r), AT_ERANGE);
    /* ... but scale 20 with two trailing zeros is exact at scale 18. */
    assert_int_equal(at_dec_mul((at_dec){10, 10}, (at_dec){10, 10}, &r), AT_OK);
    expect_dec(r, 1, 18);
    /* Product too large at scale 18 that fits after dropping zeros. */
    assert_int_equal(at_dec_mul((at_dec){1000000000, 9}, (at_dec){10000000000, 9}, &r), AT_OK);
    expect_dec(r, 1000000000000000000, 17);
    assert_int_equal(at_dec_mul((at_dec){1, 19}, (at_dec){1, 0}, &r), AT_EINVAL);
}

/* ---- div and rounding modes ----------------------------------------- */

static const at_round MODES[ALL_MODES] = {AT_ROUND_DOWN, AT_ROUND_UP, AT_ROUND_FLOOR, AT_ROUND_CEIL,
                                          AT_ROUND_HALF_EVEN};

static void test_div_modes(void **state)
{
    (void)state;
    /* a / b at scale 0, expected per mode: DOWN UP FLOOR CEIL HALF_EVEN. */
    static const struct {
        const char *a, *b;
        int64_t want[ALL_MODES];
    } cases[] = {
        {"7", "2", {3, 4, 3, 4, 4}},       /* 3.5 tie -> even 4 */
        {"5", "2", {2, 3, 2, 3, 2}},       /* 2.5 tie -> even 2 */
        {"-7", "2", {-3, -4, -4, -3, -4}}, /* -3.5 */
        {"-5", "2", {-2, -3, -3, -2, -2}}, /* -2.5 */
        {"7", "-2", {-3, -4, -4, -3, -4}},
        {"-7", "-2", {3, 4, 3, 4, 4}},
        {"10", "3", {3, 4, 3, 4, 3}}, /* 3.33 */
        {"20", "3", {6, 7, 6, 7, 7}}, /* 6.67 */
        {"-20", "3", {-6, -7, -7, -6, -7}},
        {"6", "3", {2, 2, 2, 2, 2}}, /* exact */
        {"-6", "3", {-2, -2, -2, -2, -2}},
        {"0", "-3", {0, 0, 0, 0, 0}},
        {"0.5", "1", {0, 1, 0, 1, 0}},
        {"-0.5", "1", {0, -1, -1, 0, 0}},
        {"1.5", "1", {1, 2, 1, 2, 2}},
        {"0.50000000001", "1", {0, 1, 0, 1, 1}}, /* just above a tie */
        {"-0.49999999999", "1", {0, -1, -1, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int k = 0; k < ALL_MODES; k++) {
            at_dec r;
            assert_int_equal(at_dec_div(D(cases[i].a), D(cases[i].b), 0, MODES[k], &r), AT_OK);
            if (r.m != cases[i].want[k] || r.scale != 0) {
                fail_msg("%s / %s mode %d: got {%lld,%d} want %lld", cases[i].a, cases[i].b,
                         (int)MODES[k], (long long)r.m, (int)r.scale, (long long)cases[i].want[k]);
            }
        }
    }
}

static void test_div_scales(void **state)
{
    (void)state;
    at_dec r;
    assert_int_equal(at_dec_div(D("1"), D("3"), 18, AT_ROUND_HALF_EVEN, &r), AT_OK);
    expect_dec(r, 333333333333333333, 18);
    assert_int_equal(at_dec_div(D("2"), D("3"), 2, AT_ROUND_HALF_EVEN, &r), AT_OK);
    expect_dec(r, 67, 2);
    assert_int_equal(at_dec_div(D("2"), D("3"), 2, AT_ROUND_DOWN, &r), AT_OK);
    expect_dec(r, 66, 2);
    assert_int_equal(at_dec_div(D("0.0567"), D("0.01"), 4, AT_ROUND_DOWN, &r), AT_OK);
    expect_dec(r, 56700, 4);
    assert_int_equal(at_dec_div(D("1"), (at_dec){INT64_MAX, 0}, 18, AT_ROUND_DOWN, &r), AT_OK);
    expect_dec(r, 0, 18);
    assert_int_equal(at_dec_div(D("1"), (at_dec){INT64_MAX, 0}, 18, AT_ROUND_UP, &r), AT_OK);
    expect_dec(r, 1, 18);
    assert_int_equal(
        at_dec_div((at_dec){INT64_MAX, 18}, (at_dec){1, 18}, 0, AT_ROUND_HALF_EVEN, &r), AT_OK);
    expect_dec(r, INT64_MAX, 0);
    assert_int_equal(at_dec_div((at_dec){INT64_MIN, 0}, D("1"), 0, AT_ROUND_DOWN, &r), AT_OK);
    expect_dec(r, INT64_MIN, 0);

    /* Errors */
    assert_int_equal(at_dec_div(D("1"), D("0.000"), 2, AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_div(D("1"), D("3"), 19, AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_div(D("1"), D("3"), -1, AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_div(D("1"), D("3"), 2, (at_round)99, &r), AT_EINVAL);
    assert_int_equal(at_dec_div(D("1"), D("3"), 2, AT_ROUND_DOWN, NULL), AT_EINVAL);
    assert_int_equal(at_dec_div((at_dec){INT64_MIN, 0}, D("-1"), 0, AT_ROUND_DOWN, &r), AT_ERANGE);
    assert_int_equal(at_dec_div(D("2"), D("1"), 18, AT_ROUND_DOWN, &r), AT_OK);
    assert_int_equal(at_dec_div(D("10"), D("1"), 18, AT_ROUND_DOWN, &r), AT_ERANGE);
    /* Numerator beyond 128 bits: |m| * 10^36. */
    assert_int_equal(at_dec_div((at_dec){INT64_MAX, 0}, (at_dec){1, 18}, 18, AT_ROUND_DOWN, &r),
                     AT_ERANGE);
    assert_int_equal(at_dec_div((at_dec){INT64_MAX, 0}, (at_dec){10, 1}, 1, AT_ROUND_DOWN, &r),
                     AT_ERANGE);
    assert_int_equal(at_dec_div((at_dec){INT64_MAX, 1}, (at_dec){10, 1}, 1, AT_ROUND_DOWN, &r),
                     AT_OK);
    expect_dec(r, INT64_MAX, 1);
}

/* ---- round_step: lots and ticks ------------------------------------- */

static void expect_step(const char *a, const char *step, at_round mode, const char *want)
{
    at_dec r;
    int rc = at_dec_round_step(D(a), D(step), mode, &r);
    if (rc != AT_OK) {
        fail_msg("round_step(%s, %s, %d) = %d", a, step, (int)mode, rc);
    }
    at_dec w = D(want);
    if (at_dec_cmp(r, w) != 0 || r.scale != D(step).scale) {
        char got[AT_DEC_STRLEN];
        at_dec_format(r, got);
        fail_msg("round_step(%s, %s, %d) = %s (scale %d), want %s", a, step, (int)mode, got,
                 (int)r.scale, want);
    }
}

static void test_round_step(void **state)
{
    (void)state;
    expect_step("0.0567", "0.01", AT_ROUND_DOWN, "0.05");
    expect_step("123.456", "0.1", AT_ROUND_HALF_EVEN, "123.5");
    expect_step("123.44", "0.1", AT_ROUND_HALF_EVEN, "123.4");
    expect_step("123.456", "0.1", AT_ROUND_DOWN, "123.4");

    /* Every mode on a positive and a negative value. */
    static const char *pos[ALL_MODES] = {"0.05", "0.06", "0.05", "0.06", "0.06"};
    static const char *negv[ALL_MODES] = {"-0.05", "-0.06", "-0.06", "-0.05", "-0.06"};
    for (int k = 0; k < ALL_MODES; k++) {
        expect_step("0.0567", "0.01", MODES[k], pos[k]);
        expect_step("-0.0567", "0.01", MODES[k], negv[k]);
        expect_step("0.05", "0.01", MODES[k], "0.05"); /* already on the grid */
        expect_step("-0.05", "0.01", MODES[k], "-0.05");
        expect_step("5", "0.01", MODES[k], "5"); /* coarser input scale */
        expect_step("0", "0.001", MODES[k], "0");
    }

    /* Ties with HALF_EVEN: to the even number of steps. */
    expect_step("0.125", "0.01", AT_ROUND_HALF_EVEN, "0.12");
    expect_step("0.135", "0.01", AT_ROUND_HALF_EVEN, "0.14");
    expect_step("-0.125", "0.01", AT_ROUND_HALF_EVEN, "-0.12");
    expect_step("-0.135", "0.01", AT_ROUND_HALF_EVEN, "-0.14");
    expect_step("1.25", "0.5", AT_ROUND_HALF_EVEN, "1.0"); /* 2.5 steps -> 2 */
    expect_step("1.75", "0.5", AT_ROUND_HALF_EVEN, "2.0"); /* 3.5 steps -> 4 */

    /* Steps that are not a power of ten. */
    expect_step("1.23", "0.05", AT_ROUND_DOWN, "1.20");
    expect_step("1.23", "0.05", AT_ROUND_UP, "1.25");
    expect_step("-1.23", "0.05", AT_ROUND_FLOOR, "-1.25");
    expect_step("-1.23", "0.05", AT_ROUND_CEIL, "-1.20");
    expect_step("17", "5", AT_ROUND_HALF_EVEN, "15");

    /* OKX lot sizes (sizes round DOWN) and tick sizes. */
    expect_step("2.5", "1", AT_ROUND_DOWN, "2");
    expect_step("7.999", "0.01", AT_ROUND_DOWN, "7.99");
    expect_step("0.0567", "0.001", AT_ROUND_DOWN, "0.056");
    expect_step("0.123456", "0.00001", AT_ROUND_HALF_EVEN, "0.12346");
    expect_step("0.123455", "0.00001", AT_ROUND_HALF_EVEN, "0.12346");
    expect_step("0.123445", "0.00001", AT_ROUND_HALF_EVEN, "0.12344");
    expect_step("67123.45", "0.1", AT_ROUND_FLOOR, "67123.4");
    expect_step("67123.45", "0.1", AT_ROUND_CEIL, "67123.5");
    expect_step("0.000000000000000001", "0.1", AT_ROUND_UP, "0.1");

    at_dec r = {42, 1};
    assert_int_equal(at_dec_round_step(D("2.5"), D("0"), AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_round_step(D("2.5"), D("0.00"), AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_round_step(D("2.5"), D("-0.1"), AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_round_step(D("2.5"), D("0.1"), (at_round)-1, &r), AT_EINVAL);
    assert_int_equal(at_dec_round_step(D("2.5"), (at_dec){1, 19}, AT_ROUND_DOWN, &r), AT_EINVAL);
    assert_int_equal(at_dec_round_step(D("2.5"), D("0.1"), AT_ROUND_DOWN, NULL), AT_EINVAL);
    expect_dec(r, 42, 1);

    /* Range: INT64_MAX is odd, so rounding up to a step of 2 needs 2^63. */
    assert_int_equal(at_dec_round_step((at_dec){INT64_MAX, 0}, D("2"), AT_ROUND_UP, &r), AT_ERANGE);
    assert_int_equal(at_dec_round_step((at_dec){-INT64_MAX, 0}, D("2"), AT_ROUND_FLOOR, &r), AT_OK);
    expect_dec(r, INT64_MIN, 0);
    assert_int_equal(at_dec_round_step((at_dec){INT64_MAX, 0}, D("0.1"), AT_ROUND_DOWN, &r),
                     AT_ERANGE);
}

/* contracts = qty / ctVal, then down to the lot size, then checked against
 * minSz: what the order sizing code does. */
static void size_contracts(const char *qty, const char *ct_val, const char *lot, const char *min_sz,
                           const char *want_raw, const char *want_lots)
{
    at_dec raw, lots;
    assert_int_equal(at_dec_div(D(qty), D(ct_val), AT_DEC_MAX_SCALE, AT_ROUND_DOWN, &raw), AT_OK);
    assert_int_equal(at_dec_cmp(raw, D(want_raw)), 0);
    assert_int_equal(at_dec_round_step(raw, D(lot), AT_ROUND_DOWN, &lots), AT_OK);
    assert_int_equal(at_dec_cmp(lots, D(want_lots)), 0);
    assert_int_equal(lots.scale, D(lot).scale);
    assert_true(at_dec_cmp(lots, D(min_sz)) >= 0);
}

static void test_sizing_examples(void **state)
{
    (void)state;
    /* DOGE-USDT-SWAP: ctVal 1000 DOGE, lotSz 1, minSz 1. */
    size_contracts("2500", "1000", "1", "1", "2.5", "2");
    /* BTC-USDT-SWAP: ctVal 0.01 BTC, lotSz 0.01, minSz 0.01. */
    size_contracts("0.0567", "0.01", "0.01", "0.01", "5.67", "5.67");
    size_contracts("0.05678", "0.01", "0.01", "0.01", "5.678", "5.67");
    char buf[AT_DEC_STRLEN];
    at_dec lots;
    assert_int_equal(at_dec_round_step(D("5.678"), D("0.01"), AT_ROUND_DOWN, &lots), AT_OK);
    at_dec_format(lots, buf);
    assert_string_equal(buf, "5.67");

    /* Too small for the minimum: 900 DOGE is 0.9 contracts -> 0 lots. */
    at_dec raw;
    assert_int_equal(at_dec_div(D("900"), D("1000"), 18, AT_ROUND_DOWN, &raw), AT_OK);
    assert_int_equal(at_dec_round_step(raw, D("1"), AT_ROUND_DOWN, &lots), AT_OK);
    assert_true(at_dec_cmp(lots, D("1")) < 0);
}

/* ---- doubles ---------------------------------------------------------- */

static void expect_from_double(double v, int scale, const char *want)
{
    at_dec r;
    int rc = at_dec_from_double(v, scale, &r);
    if (rc != AT_OK) {
        fail_msg("from_double(%.17g, %d) = %d", v, scale, rc);
    }
    at_dec w = at_dec_normalize(D(want));
    if (r.m != w.m || r.scale != w.scale) {
        char got[AT_DEC_STRLEN];
        at_dec_format(r, got);
        fail_msg("from_double(%.17g, %d) = %s {%lld,%d}, want %s", v, scale, got, (long long)r.m,
                 (int)r.scale, want);
    }
}

static void test_from_double(void **state)
{
    (void)state;
    expect_from_double(0.1, 8, "0.1");
    expect_from_double(0.3, 8, "0.3");
    expect_from_double(0.1 + 0.2, 8, "0.3");
    expect_from_double(0.1 + 0.2, 17, "0.30000000000000004");
    expect_from_double(0.1, 18, "0.100000000000000006"); /* 0.10000000000000000555 */
    expect_from_double(1e-9, 9, "0.000000001");
    expect_from_double(1e-9, 8, "0");
    expect_from_double(1e-9, 18, "0.000000001");
    expect_from_double(12345678.9, 1, "12345678.9");
    expect_from_double(12345678.9, 2, "12345678.9");
    expect_from_double(12345678.9, 8, "12345678.9");
    expect_from_double(12345678.9, 9, "12345678.9");
    expect_from_double(12345678.9, 11, "12345678.90000000037");
    expect_from_double(67123.4, 1, "67123.4");
    expect_from_double(67123.4, 8, "67123.4");
    expect_from_double(-67123.45, 1, "-67123.4"); /* binary is -67123.4499999... */
    expect_from_double(42.0, 0, "42");
    expect_from_double(-0.0, 4, "0");
    expect_from_double(0.0, 18, "0");
    /* Exact binary ties go to even. */
    expect_from_double(0.125, 2, "0.12");
    expect_from_double(0.375, 2, "0.38");
    expect_from_double(-0.125, 2, "-0.12");
    expect_from_double(2.5, 0, "2");
    expect_from_double(3.5, 0, "4");
    expect_from_double(-2.5, 0, "-2");
    /* Not a tie in binary: 2.675 is 2.67499999999999982236431605997495353221893310546875. */
    expect_from_double(2.675, 2, "2.67");
    expect_from_double(1.0000000000000002, 18, "1.000000000000000222");
    expect_from_double(9007199254740993.0, 0, "9007199254740992");
    expect_from_double(1e18, 18, "1000000000000000000");
    expect_from_double(9.2e18, 0, "9200000000000000000");
    expect_from_double(-9223372036854775808.0, 0, "-9223372036854775808");
    expect_from_double(5e-324, 18, "0");
    expect_from_double(4e-19, 18, "0");
    expect_from_double(6e-19, 18, "0.000000000000000001");

    at_dec r;
    assert_int_equal(at_dec_from_double(NAN, 2, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(INFINITY, 2, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(-INFINITY, 2, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(1e19, 0, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(9223372036854775808.0, 0, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(1e300, 0, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(-1e300, 0, &r), AT_ERANGE);
    assert_int_equal(at_dec_from_double(67123.4, 18, &r), AT_ERANGE); /* 23 digits */
    assert_int_equal(at_dec_from_double(1.0, 19, &r), AT_EINVAL);
    assert_int_equal(at_dec_from_double(1.0, -1, &r), AT_EINVAL);
    assert_int_equal(at_dec_from_double(1.0, 2, NULL), AT_EINVAL);
}

static void test_to_double(void **state)
{
    (void)state;
    assert_true(at_dec_to_double(D("0.1")) == 0.1);
    assert_true(at_dec_to_double(D("0.3")) == 0.3);
    assert_true(at_dec_to_double(D("-67123.4")) == -67123.4);
    assert_true(at_dec_to_double(D("0")) == 0.0);
    assert_true(at_dec_to_double(D("0.000000000000000001")) == 1e-18);
    /* Mantissas beyond 2^53 take the correctly rounded text path. */
    assert_true(at_dec_to_double(D("0.123456789012345678")) == 0.123456789012345678);
    assert_true(at_dec_to_double(D("9223372036854775807")) == 9223372036854775807.0);
    assert_true(at_dec_to_double(D("-9.223372036854775808")) == -9.223372036854775808);
    /* double -> dec -> double is the identity for short decimals. */
    static const struct {
        double v;
        int scale;
    } vals[] = {{0.1, 18},   {0.3, 18},          {1e-9, 18},     {-2.675, 18},
                {1e-18, 18}, {12345678.9, 11},   {67123.4, 14},  {67123.4, 1},
                {42.0, 0},   {-1234567.891, 12}, {0.1 + 0.2, 18}};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        at_dec d;
        assert_int_equal(at_dec_from_double(vals[i].v, vals[i].scale, &d), AT_OK);
        if (at_dec_to_double(d) != vals[i].v) {
            fail_msg("to_double(from_double(%.17g, %d)) differs", vals[i].v, vals[i].scale);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_len),
        cmocka_unit_test(test_parse_reject_syntax),
        cmocka_unit_test(test_parse_reject_range),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip_strings),
        cmocka_unit_test(test_round_trip_generated),
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_zero_normalize),
        cmocka_unit_test(test_add_sub),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_div_modes),
        cmocka_unit_test(test_div_scales),
        cmocka_unit_test(test_round_step),
        cmocka_unit_test(test_sizing_examples),
        cmocka_unit_test(test_from_double),
        cmocka_unit_test(test_to_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Exact sizing of decision items (core/trading/sizing.c): contracts from
 * equity × size_pct × leverage / (price × ctVal) rounded down to lotSz, for a
 * DOGE-like contract (ctVal 1000, lotSz 1) and BTC (ctVal 0.01, lotSz 0.01);
 * below minSz no order; closes as a fraction of the position; default exits
 * rounded to the tick away from the price. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "trading/sizing.h"

static at_dec D(const char *s)
{
    at_dec x;
    assert_int_equal(at_dec_parse(s, strlen(s), &x), AT_OK);
    return x;
}

static void dec_eq(at_dec got, const char *want)
{
    char buf[AT_DEC_STRLEN];
    at_dec_format(got, buf);
    assert_string_equal(buf, want);
}

static sz_inst btc(void)
{
    return (sz_inst){D("0.01"), D("0.01"), D("0.01"), D("0.1")};
}

static sz_inst doge(void)
{
    return (sz_inst){D("1000"), D("1"), D("1"), D("0.00001")};
}

static void test_open_btc(void **state)
{
    sz_inst in = btc();
    at_dec c;
    char why[160] = "";
    /* 10000 × 0.1 × 3 = 3000 USDT / (90000 × 0.01) = 3.333… -> 3.33 */
    assert_int_equal(sz_open(D("10000"), D("0.1"), D("3"), D("90000"), &in, &c, why, sizeof(why)),
                     AT_OK);
    dec_eq(c, "3.33");
    /* a quotient exactly on the lot stays */
    assert_int_equal(sz_open(D("9000"), D("0.1"), D("1"), D("90000"), &in, &c, why, sizeof(why)),
                     AT_OK);
    dec_eq(c, "1");
    /* exact with awkward decimals: 12345.678901 × 0.07 × 7 / 654.321 = 9.2452… -> 9.24 */
    assert_int_equal(
        sz_open(D("12345.678901"), D("0.07"), D("7"), D("65432.1"), &in, &c, why, sizeof(why)),
        AT_OK);
    dec_eq(c, "9.24");
    /* 100 × 0.01 × 1 = 1 USDT is 0.0011 contracts: no order */
    assert_int_equal(sz_open(D("100"), D("0.01"), D("1"), D("90000"), &in, &c, why, sizeof(why)),
                     AT_ERANGE);
    assert_string_equal(why, "too small: 0.00111111 contracts is below minSz 0.01");
    assert_int_equal(c.m, 0);
}

static void test_open_doge(void **state)
{
    sz_inst in = doge();
    at_dec c;
    char why[160] = "";
    /* 10000 × 0.05 × 2 = 1000 USDT / (0.15 × 1000) = 6.67 -> 6 */
    assert_int_equal(sz_open(D("10000"), D("0.05"), D("2"), D("0.15"), &in, &c, why, sizeof(why)),
                     AT_OK);
    dec_eq(c, "6");
    /* 0.1541 × 1000 = 154.1 per contract; 20000 × 0.2 × 10 = 40000 -> 259.57 -> 259 */
    assert_int_equal(sz_open(D("20000"), D("0.2"), D("10"), D("0.1541"), &in, &c, why, sizeof(why)),
                     AT_OK);
    dec_eq(c, "259");
    /* 1000 × 0.01 × 1 = 10 USDT: 0.0667 contracts, below minSz 1 */
    assert_int_equal(sz_open(D("1000"), D("0.01"), D("1"), D("0.15"), &in, &c, why, sizeof(why)),
                     AT_ERANGE);
    assert_string_equal(why, "too small: 0.066666 contracts is below minSz 1");
    /* minSz above lotSz: 1.5 lots of 1 with minSz 2 */
    in.min_sz = D("2");
    assert_int_equal(sz_open(D("1500"), D("0.1"), D("1"), D("0.1"), &in, &c, why, sizeof(why)),
                     AT_ERANGE);
    assert_string_equal(why, "too small: 1.5 contracts is below minSz 2");
}

static void test_open_refusals(void **state)
{
    sz_inst in = btc();
    at_dec c;
    char why[160] = "";
    assert_int_equal(sz_open(D("10000"), D("0.1"), D("3"), D("0"), &in, &c, why, sizeof(why)),
                     AT_EINVAL);
    assert_string_equal(why, "no price known");
    assert_int_equal(sz_open(D("0"), D("0.1"), D("3"), D("90000"), &in, &c, why, sizeof(why)),
                     AT_EINVAL);
    assert_string_equal(why, "no equity known (equity 0)");
    in.ct_val = D("0");
    assert_int_equal(sz_open(D("10000"), D("0.1"), D("3"), D("90000"), &in, &c, why, sizeof(why)),
                     AT_EINVAL);
    assert_string_equal(why, "the instrument's ctVal or lotSz is not known");
    /* a size that does not fit is refused, never wrapped into a wrong one */
    in = btc();
    assert_int_equal(
        sz_open(D("9000000000000"), D("1"), D("125"), D("0.000000001"), &in, &c, why, sizeof(why)),
        AT_ERANGE);
    assert_string_equal(why, "the size does not fit in a decimal");
}

static void test_close(void **state)
{
    sz_inst in = btc();
    at_dec c;
    bool full;
    char why[160] = "";
    assert_int_equal(sz_close(D("3.33"), D("0.5"), &in, &c, &full, why, sizeof(why)), AT_OK);
    dec_eq(c, "1.66");
    assert_false(full);
    assert_int_equal(sz_close(D("3.33"), D("1"), &in, &c, &full, why, sizeof(why)), AT_OK);
    dec_eq(c, "3.33");
    assert_true(full);
    /* a net-mode short is negative: its size is what counts */
    in = doge();
    assert_int_equal(sz_close(D("-5"), D("0.3"), &in, &c, &full, why, sizeof(why)), AT_OK);
    dec_eq(c, "1");
    assert_int_equal(sz_close(D("-5"), D("1"), &in, &c, &full, why, sizeof(why)), AT_OK);
    dec_eq(c, "5");
    assert_true(full);
    assert_int_equal(sz_close(D("3"), D("0.2"), &in, &c, &full, why, sizeof(why)), AT_ERANGE);
    assert_string_equal(why, "too small: 0.6 contracts is below minSz 1");
    assert_int_equal(sz_close(D("0"), D("1"), &in, &c, &full, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "no position to close");
}

static void test_exits(void **state)
{
    at_dec p;
    /* BTC tick 0.1: 4 % above, 2 % below */
    assert_int_equal(sz_exit_price(D("90000"), D("0.04"), true, D("0.1"), &p), AT_OK);
    dec_eq(p, "93600");
    assert_int_equal(sz_exit_price(D("90000"), D("0.02"), false, D("0.1"), &p), AT_OK);
    dec_eq(p, "88200");
    /* DOGE tick 0.00001: 0.15413 × 0.96 = 0.1479648 -> 0.14796 (down, away from the price),
     * 0.15413 × 1.02 = 0.1572126 -> 0.15722 (up) */
    assert_int_equal(sz_exit_price(D("0.15413"), D("0.04"), false, D("0.00001"), &p), AT_OK);
    dec_eq(p, "0.14796");
    assert_int_equal(sz_exit_price(D("0.15413"), D("0.02"), true, D("0.00001"), &p), AT_OK);
    dec_eq(p, "0.15722");
    /* no tick known: exact */
    assert_int_equal(sz_exit_price(D("87752.7"), D("0.015"), true, D("0"), &p), AT_OK);
    dec_eq(p, "89068.9905");
    /* a stop 100 % below is no stop */
    assert_int_equal(sz_exit_price(D("100"), D("1"), false, D("0.1"), &p), AT_EINVAL);
    /* sides */
    assert_true(sz_exit_ok(D("95000"), D("90000"), true, true));
    assert_false(sz_exit_ok(D("90000"), D("90000"), true, true));
    assert_true(sz_exit_ok(D("85000"), D("90000"), true, false));
    assert_true(sz_exit_ok(D("85000"), D("90000"), false, true));
    assert_true(sz_exit_ok(D("95000"), D("90000"), false, false));
    assert_false(sz_exit_ok(D("85000"), D("90000"), false, false));
    assert_false(sz_exit_ok(D("95000"), D("0"), true, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_btc),      cmocka_unit_test(test_open_doge),
        cmocka_unit_test(test_open_refusals), cmocka_unit_test(test_close),
        cmocka_unit_test(test_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

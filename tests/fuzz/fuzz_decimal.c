/* Fuzz target for core/decimal.c.
 *
 * The input is text: the whole of it is parsed as one decimal, and when it
 * holds a single space it is also split there into two operands "A B" for the
 * binary operations. Every successful result is checked against properties
 * that must hold for any input (format reparses to the same value, rounding
 * lands on the step grid in the mode's direction, a + b - b == a ...); a
 * violation aborts, which libFuzzer and the replay driver report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

#define N_MODES 5

static const at_round modes[N_MODES] = {AT_ROUND_DOWN, AT_ROUND_UP, AT_ROUND_FLOOR, AT_ROUND_CEIL,
                                        AT_ROUND_HALF_EVEN};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_decimal: property violated: %s\n", what);
        abort();
    }
}

static void check_rc(int rc, const char *what)
{
    check(rc == AT_OK || rc == AT_EINVAL || rc == AT_ERANGE, what);
}

static int sign(at_dec d)
{
    return (d.m > 0) - (d.m < 0);
}

/* format -> parse is the identity on the normalised value, and the text is
 * canonical: no exponent, no "-0", no trailing fractional zeros. */
static void check_format(at_dec d)
{
    char buf[AT_DEC_STRLEN];
    int n = at_dec_format(d, buf);
    check(n > 0 && n < AT_DEC_STRLEN && (size_t)n == strlen(buf), "format length");
    check(strpbrk(buf, "eE") == NULL, "format has no exponent");
    check(strcmp(buf, "-0") != 0, "format never prints -0");
    if (strchr(buf, '.')) {
        check(buf[n - 1] != '0' && buf[n - 1] != '.', "format has no trailing zeros");
    }
    at_dec back;
    check(at_dec_parse(buf, (size_t)n, &back) == AT_OK, "formatted value reparses");
    at_dec norm = at_dec_normalize(d);
    check(at_dec_cmp(back, d) == 0, "reparsed value equals the original");
    check(back.m == norm.m && back.scale == norm.scale, "reparse gives the normalised form");
}

/* r = round_step(a, step, mode): on step's grid, within one step of a, on the
 * side the mode asks for. */
static void check_round_step(at_dec a, at_dec step)
{
    for (int k = 0; k < N_MODES; k++) {
        at_dec r;
        int rc = at_dec_round_step(a, step, modes[k], &r);
        check_rc(rc, "round_step rc");
        if (rc != AT_OK) {
            continue;
        }
        check(r.scale == step.scale, "round_step keeps step's scale");
        at_dec n, back;
        check(at_dec_div(r, step, 0, AT_ROUND_DOWN, &n) == AT_OK, "round_step: r / step");
        check(at_dec_mul(n, step, &back) == AT_OK && at_dec_cmp(back, r) == 0,
              "round_step result is a multiple of step");
        at_dec diff;
        if (at_dec_sub(r, a, &diff) == AT_OK) {
            at_dec adiff = {diff.m < 0 ? -diff.m : diff.m, diff.scale};
            if (diff.m != INT64_MIN) {
                check(at_dec_cmp(adiff, step) < 0, "round_step moves less than one step");
            }
            int c = sign(diff); /* r vs a */
            switch (modes[k]) {
            case AT_ROUND_DOWN:
                check(c == 0 || c == -sign(a), "DOWN moves toward zero");
                break;
            case AT_ROUND_UP:
                check(c == 0 || c == sign(a), "UP moves away from zero");
                break;
            case AT_ROUND_FLOOR:
                check(c <= 0, "FLOOR never increases");
                break;
            case AT_ROUND_CEIL:
                check(c >= 0, "CEIL never decreases");
                break;
            default:
                break;
            }
        }
    }
}

static void check_unary(at_dec d)
{
    check(d.scale >= 0 && d.scale <= AT_DEC_MAX_SCALE, "parsed scale in range");
    check(at_dec_is_zero(d) == (d.m == 0), "is_zero");
    check_format(d);

    static const char *steps[] = {"1",       "0.01", "0.001", "0.1",
                                  "0.00001", "0.5",  "7",     "0.000000000000000001"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        at_dec step;
        check(at_dec_parse(steps[i], (size_t)-1, &step) == AT_OK, "step parses");
        check_round_step(d, step);
    }

    /* Up to 15 significant digits survive a trip through a double. */
    double v = at_dec_to_double(d);
    at_dec back;
    int rc = at_dec_from_double(v, d.scale, &back);
    check_rc(rc, "from_double rc");
    if (d.m > -1000000000000000 && d.m < 1000000000000000) {
        check(rc == AT_OK && at_dec_cmp(back, d) == 0, "dec -> double -> dec");
    }
}

static void check_binary(at_dec a, at_dec b)
{
    check(at_dec_cmp(a, b) == -at_dec_cmp(b, a), "cmp is antisymmetric");

    at_dec s, t;
    int rc = at_dec_add(a, b, &s);
    check_rc(rc, "add rc");
    if (rc == AT_OK) {
        check_format(s);
        if (at_dec_sub(s, b, &t) == AT_OK) {
            check(at_dec_cmp(t, a) == 0, "(a + b) - b == a");
        }
        at_dec s2;
        check(at_dec_add(b, a, &s2) == AT_OK && at_dec_cmp(s, s2) == 0, "add commutes");
    }
    rc = at_dec_sub(a, b, &s);
    check_rc(rc, "sub rc");
    if (rc == AT_OK) {
        check_format(s);
        if (at_dec_add(s, b, &t) == AT_OK) {
            check(at_dec_cmp(t, a) == 0, "(a - b) + b == a");
        }
    }

    at_dec p;
    rc = at_dec_mul(a, b, &p);
    check_rc(rc, "mul rc");
    if (rc == AT_OK) {
        check_format(p);
        at_dec p2;
        check(at_dec_mul(b, a, &p2) == AT_OK && at_dec_cmp(p, p2) == 0, "mul commutes");
        check(sign(p) == sign(a) * sign(b), "sign of a product");
    }

    for (int scale = 0; scale <= AT_DEC_MAX_SCALE; scale += 6) {
        at_dec q[N_MODES];
        int qrc[N_MODES];
        for (int k = 0; k < N_MODES; k++) {
            qrc[k] = at_dec_div(a, b, scale, modes[k], &q[k]);
            check_rc(qrc[k], "div rc");
            if (b.m == 0) {
                check(qrc[k] == AT_EINVAL, "division by zero is AT_EINVAL");
            }
            if (qrc[k] == AT_OK) {
                check(q[k].scale == scale, "div result has the requested scale");
            }
        }
        /* FLOOR <= HALF_EVEN <= CEIL and DOWN/UP bracket the quotient. */
        if (qrc[2] == AT_OK && qrc[3] == AT_OK && qrc[4] == AT_OK) {
            check(at_dec_cmp(q[2], q[4]) <= 0 && at_dec_cmp(q[4], q[3]) <= 0,
                  "FLOOR <= HALF_EVEN <= CEIL");
            at_dec gap;
            at_dec ulp = {1, scale};
            check(at_dec_sub(q[3], q[2], &gap) == AT_OK && at_dec_cmp(gap, ulp) <= 0,
                  "CEIL - FLOOR <= one unit");
        }
    }
    if (b.m > 0) {
        check_round_step(a, b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    at_dec d;
    int rc = at_dec_parse(s, size, &d);
    check_rc(rc, "parse rc");
    if (rc == AT_OK) {
        check_unary(d);
    }

    const char *sp = memchr(s, ' ', size);
    if (sp) {
        size_t la = (size_t)(sp - s);
        at_dec a, b;
        if (at_dec_parse(s, la, &a) == AT_OK && at_dec_parse(sp + 1, size - la - 1, &b) == AT_OK) {
            check_unary(a);
            check_unary(b);
            check_binary(a, b);
        }
    }
    return 0;
}

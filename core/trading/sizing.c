/* Exact sizing of decision items (see sizing.h). */
#include "sizing.h"

#include <stdio.h>

#include "decimal.h"

/* Digits kept beyond lotSz when dividing: truncating at a scale >= lotSz's
 * and then flooring to lotSz equals flooring the exact quotient (every
 * multiple of lotSz is a multiple of 10^-scale); the extra digits only show
 * a sub-minimum size in the reason. */
#define EXTRA_DIGITS 6

static int div_down(at_dec a, at_dec b, int min_scale, at_dec *out)
{
    int s =
        min_scale + EXTRA_DIGITS > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE : min_scale + EXTRA_DIGITS;
    for (; s >= min_scale; s--) {
        int rc = at_dec_div(a, b, s, AT_ROUND_DOWN, out);
        if (rc != AT_ERANGE) {
            return rc;
        }
    }
    return AT_ERANGE;
}

/* a × b exactly, else rounded (`mode`) at the finest scale that fits.
 * Callers pick the direction that can only make the order smaller: a
 * notional is truncated (AT_ROUND_DOWN), the divisor price × ctVal rounded
 * up (a larger divisor gives fewer contracts). */
static int mul_fit(at_dec a, at_dec b, at_round mode, at_dec *out)
{
    int rc = at_dec_mul(a, b, out);
    for (int s = AT_DEC_MAX_SCALE; rc == AT_ERANGE && s >= 0; s--) {
        rc = at_dec_mul_round(a, b, s, mode, out);
    }
    return rc;
}

/* Floor q to lotSz and compare with minSz. */
static int to_lots(at_dec q, const sz_inst *in, at_dec *contracts, char *why, size_t whylen)
{
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    at_dec lots;
    int rc = at_dec_round_step(q, in->lot_sz, AT_ROUND_DOWN, &lots);
    if (rc != AT_OK) {
        snprintf(why, whylen, "%s contracts cannot be rounded to lotSz %s", at_dec_text(q, a),
                 at_dec_text(in->lot_sz, b));
        return rc;
    }
    at_dec min = in->min_sz.m > 0 ? in->min_sz : in->lot_sz;
    if (lots.m <= 0 || at_dec_cmp(lots, min) < 0) {
        snprintf(why, whylen, "too small: %s contracts is below minSz %s", at_dec_text(q, a),
                 at_dec_text(min, b));
        return AT_ERANGE;
    }
    *contracts = at_dec_normalize(lots);
    return AT_OK;
}

int sz_open(at_dec equity, at_dec size_pct, at_dec leverage, at_dec price, const sz_inst *in,
            at_dec *contracts, char *why, size_t whylen)
{
    char a[AT_DEC_STRLEN];
    *contracts = (at_dec){0, 0};
    if (price.m <= 0) {
        snprintf(why, whylen, "no price known");
        return AT_EINVAL;
    }
    if (equity.m <= 0) {
        snprintf(why, whylen, "no equity known (equity %s)", at_dec_text(equity, a));
        return AT_EINVAL;
    }
    if (in->ct_val.m <= 0 || in->lot_sz.m <= 0) {
        snprintf(why, whylen, "the instrument's ctVal or lotSz is not known");
        return AT_EINVAL;
    }
    if (size_pct.m <= 0 || leverage.m <= 0) {
        snprintf(why, whylen, "size_pct and leverage must be above 0");
        return AT_EINVAL;
    }
    at_dec margin, notional, per, q;
    int rc = mul_fit(equity, size_pct, AT_ROUND_DOWN, &margin);
    if (rc == AT_OK) {
        rc = mul_fit(margin, leverage, AT_ROUND_DOWN, &notional);
    }
    if (rc == AT_OK) {
        rc = mul_fit(price, in->ct_val, AT_ROUND_UP, &per);
    }
    if (rc == AT_OK) {
        rc = div_down(notional, per, in->lot_sz.scale, &q);
    }
    if (rc != AT_OK) {
        snprintf(why, whylen, "the size does not fit in a decimal");
        return rc;
    }
    return to_lots(q, in, contracts, why, whylen);
}

int sz_close(at_dec pos, at_dec size_pct, const sz_inst *in, at_dec *contracts, bool *full,
             char *why, size_t whylen)
{
    *full = false;
    *contracts = (at_dec){0, 0};
    if (pos.m < 0) {
        pos.m = -pos.m;
    }
    if (pos.m == 0) {
        snprintf(why, whylen, "no position to close");
        return AT_EINVAL;
    }
    if (size_pct.m <= 0 || at_dec_cmp(size_pct, (at_dec){1, 0}) > 0) {
        snprintf(why, whylen, "size_pct must be in (0, 1]");
        return AT_EINVAL;
    }
    if (at_dec_cmp(size_pct, (at_dec){1, 0}) == 0) {
        *full = true;
        *contracts = at_dec_normalize(pos);
        return AT_OK;
    }
    if (in->lot_sz.m <= 0) {
        snprintf(why, whylen, "the instrument's lotSz is not known");
        return AT_EINVAL;
    }
    at_dec q;
    int rc = mul_fit(pos, size_pct, AT_ROUND_DOWN, &q);
    if (rc != AT_OK) {
        snprintf(why, whylen, "the size does not fit in a decimal");
        return rc;
    }
    return to_lots(q, in, contracts, why, whylen);
}

int sz_exit_price(at_dec price, at_dec pct, bool above, at_dec tick, at_dec *out)
{
    at_dec one = {1, 0}, f, p;
    if (price.m <= 0 || pct.m <= 0 || (!above && at_dec_cmp(pct, one) >= 0)) {
        return AT_EINVAL;
    }
    int rc = above ? at_dec_add(one, pct, &f) : at_dec_sub(one, pct, &f);
    if (rc != AT_OK) {
        return rc;
    }
    at_round away = above ? AT_ROUND_CEIL : AT_ROUND_FLOOR;
    int scale = price.scale + 6 > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE : price.scale + 6;
    rc = at_dec_mul_round(price, f, scale, away, &p);
    if (rc == AT_OK && tick.m > 0) {
        rc = at_dec_round_step(p, tick, away, &p);
    }
    if (rc == AT_OK) {
        *out = at_dec_normalize(p);
    }
    return rc;
}

bool sz_exit_ok(at_dec exit, at_dec price, bool is_long, bool is_tp)
{
    if (exit.m <= 0 || price.m <= 0) {
        return false;
    }
    int c = at_dec_cmp(exit, price);
    return is_long == is_tp ? c > 0 : c < 0;
}

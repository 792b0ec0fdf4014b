/* Exact sizing and price rounding for OKX swaps (see okx_inst.h): coins or
 * notional to contracts through ctVal, lotSz, minSz and the max sizes,
 * prices to tickSz, decimals formatted for the wire. */
#include <stddef.h>
#include <stdio.h>

#include "okx_inst.h"

/* -------------------------------------------------------------- sizing */

/* Formatting scratch for messages: a few decimals at once. */
typedef struct decs {
    char s[4][AT_DEC_STRLEN];
} decs;

static const char *fmt_at(const at_host *h, decs *d, int slot, at_dec v)
{
    if (h->dec_format(v, d->s[slot]) < 0) {
        snprintf(d->s[slot], sizeof d->s[slot], "?");
    }
    return d->s[slot];
}

/* Digits kept beyond lotSz when dividing: enough to show a sub-minimum size
 * in the error, and never fewer than lotSz's scale, because truncating at
 * scale k >= lotSz.scale and then flooring to lotSz equals flooring the exact
 * quotient (every multiple of lotSz is a multiple of 10^-k). */
#define EXTRA_DIGITS 8

/* a / b truncated toward zero at the finest scale that fits in at_dec. */
static int div_down(const at_host *h, at_dec a, at_dec b, int min_scale, at_dec *out)
{
    int s =
        min_scale + EXTRA_DIGITS > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE : min_scale + EXTRA_DIGITS;
    for (; s >= min_scale; s--) {
        int rc = h->dec_div(a, b, s, AT_ROUND_DOWN, out);
        if (rc != AT_ERANGE) {
            return rc;
        }
    }
    return AT_ERANGE;
}

static bool has_mul_round(const at_host *h)
{
    return h->struct_size >= offsetof(at_host, dec_mul_round) + sizeof h->dec_mul_round &&
           h->dec_mul_round != NULL;
}

/* a * b exactly, or rounded UP when the exact product does not fit: it is a
 * divisor (value per contract), and a larger divisor can only make the
 * contract count smaller, never larger than asked for. */
static int mul_up(const at_host *h, at_dec a, at_dec b, at_dec *out)
{
    int rc = h->dec_mul(a, b, out);
    for (int s = AT_DEC_MAX_SCALE; rc == AT_ERANGE && s >= 0 && has_mul_round(h); s--) {
        rc = h->dec_mul_round(a, b, s, AT_ROUND_UP, out);
    }
    return rc;
}

/* Round `raw` contracts down to lotSz and enforce minSz; ctx (may be "")
 * explains where raw came from. */
static int finish(const okx_inst *in, const at_host *h, at_dec raw, const char *ctx, at_dec *out,
                  char *why, size_t whylen)
{
    decs d;
    at_dec lots;
    if (h->dec_round_step(raw, in->lot_sz, AT_ROUND_DOWN, &lots) != AT_OK) {
        okx_say(why, whylen, "%s contracts does not fit for %s%s", fmt_at(h, &d, 0, raw),
                in->inst_id, ctx);
        return AT_ERANGE;
    }
    if (h->dec_cmp(lots, in->min_sz) < 0) {
        if (h->dec_cmp(raw, in->min_sz) < 0) {
            okx_say(why, whylen, "%s contracts is below minSz %s for %s%s", fmt_at(h, &d, 0, raw),
                    fmt_at(h, &d, 1, in->min_sz), in->inst_id, ctx);
        } else {
            okx_say(why, whylen,
                    "%s contracts rounds down to %s (lotSz %s), below minSz %s for %s%s",
                    fmt_at(h, &d, 0, raw), fmt_at(h, &d, 1, lots), fmt_at(h, &d, 2, in->lot_sz),
                    fmt_at(h, &d, 3, in->min_sz), in->inst_id, ctx);
        }
        return AT_ERANGE;
    }
    *out = lots;
    return AT_OK;
}

static bool args_ok(const okx_inst *in, const at_host *h, const at_dec *out, char *why,
                    size_t whylen)
{
    okx_say(why, whylen, "%s", "");
    if (in == NULL || h == NULL || out == NULL) {
        okx_say(why, whylen, "no instrument");
        return false;
    }
    return true;
}

static bool positive(const okx_inst *in, const at_host *h, at_dec v, const char *what, char *why,
                     size_t whylen)
{
    if (v.m > 0) {
        return true;
    }
    decs d;
    okx_say(why, whylen, "%s must be positive, got %s for %s", what, fmt_at(h, &d, 0, v),
            in->inst_id);
    return false;
}

/* Coins and notional convert with ctVal only for linear contracts; an inverse
 * contract is worth ctVal of the quote currency, a different formula we do not
 * trade, so refuse rather than compute something plausible and wrong. */
static bool linear_only(const okx_inst *in, char *why, size_t whylen)
{
    if (in->ct_type == OKX_CT_LINEAR) {
        return true;
    }
    if (in->ct_type == OKX_CT_INVERSE) {
        okx_say(why, whylen,
                "%s is an inverse swap: inverse swaps are not supported (give contracts)",
                in->inst_id);
    } else {
        okx_say(why, whylen, "%s has an unknown ctType: cannot size from coins or notional",
                in->inst_id);
    }
    return false;
}

int okx_size_from_contracts(const okx_inst *in, const at_host *h, at_dec contracts, at_dec *out,
                            char *why, size_t whylen)
{
    if (!args_ok(in, h, out, why, whylen)) {
        return AT_EINVAL;
    }
    if (!positive(in, h, contracts, "size", why, whylen)) {
        return AT_EINVAL;
    }
    return finish(in, h, contracts, "", out, why, whylen);
}

int okx_size_from_base(const okx_inst *in, const at_host *h, at_dec base_qty, at_dec *out,
                       char *why, size_t whylen)
{
    if (!args_ok(in, h, out, why, whylen)) {
        return AT_EINVAL;
    }
    if (!positive(in, h, base_qty, "quantity", why, whylen) || !linear_only(in, why, whylen)) {
        return AT_EINVAL;
    }
    decs d;
    at_dec per, raw;
    if (h->dec_mul(in->ct_val, in->ct_mult, &per) != AT_OK ||
        div_down(h, base_qty, per, in->lot_sz.scale, &raw) != AT_OK) {
        okx_say(why, whylen, "%s %s does not fit as contracts of %s", fmt_at(h, &d, 0, base_qty),
                in->base, in->inst_id);
        return AT_ERANGE;
    }
    char ctx[320];
    snprintf(ctx, sizeof ctx, " (%s %s at %s %s per contract)", fmt_at(h, &d, 0, base_qty),
             in->base, fmt_at(h, &d, 1, per), in->ct_val_ccy[0] ? in->ct_val_ccy : in->base);
    return finish(in, h, raw, ctx, out, why, whylen);
}

int okx_size_from_quote(const okx_inst *in, const at_host *h, at_dec usdt_notional, at_dec price,
                        at_dec *out, char *why, size_t whylen)
{
    if (!args_ok(in, h, out, why, whylen)) {
        return AT_EINVAL;
    }
    if (!positive(in, h, usdt_notional, "notional", why, whylen) ||
        !positive(in, h, price, "price", why, whylen) || !linear_only(in, why, whylen)) {
        return AT_EINVAL;
    }
    decs d;
    at_dec per_base, per, raw;
    if (h->dec_mul(in->ct_val, in->ct_mult, &per_base) != AT_OK ||
        mul_up(h, price, per_base, &per) != AT_OK ||
        div_down(h, usdt_notional, per, in->lot_sz.scale, &raw) != AT_OK) {
        okx_say(why, whylen, "%s %s at price %s does not fit as contracts of %s",
                fmt_at(h, &d, 0, usdt_notional), in->quote, fmt_at(h, &d, 1, price), in->inst_id);
        return AT_ERANGE;
    }
    char ctx[320];
    snprintf(ctx, sizeof ctx, " (%s %s at price %s, %s %s per contract)",
             fmt_at(h, &d, 0, usdt_notional), in->quote, fmt_at(h, &d, 1, price),
             fmt_at(h, &d, 2, per_base), in->ct_val_ccy[0] ? in->ct_val_ccy : in->base);
    return finish(in, h, raw, ctx, out, why, whylen);
}

int okx_size_check_max(const okx_inst *in, const at_host *h, at_dec contracts, bool market,
                       char *why, size_t whylen)
{
    okx_say(why, whylen, "%s", "");
    if (in == NULL || h == NULL) {
        okx_say(why, whylen, "no instrument");
        return AT_EINVAL;
    }
    at_dec max = market ? in->max_mkt_sz : in->max_lmt_sz;
    if (max.m <= 0 || h->dec_cmp(contracts, max) <= 0) {
        return AT_OK;
    }
    decs d;
    okx_say(why, whylen, "%s contracts exceeds %s %s for %s (%s order)",
            fmt_at(h, &d, 0, contracts), market ? "maxMktSz" : "maxLmtSz", fmt_at(h, &d, 1, max),
            in->inst_id, market ? "market" : "limit");
    return AT_ERANGE;
}

/* ------------------------------------------------------ prices, format */

int okx_price_round(const okx_inst *in, const at_host *h, at_dec px, at_round mode, at_dec *out)
{
    if (in == NULL || h == NULL || out == NULL || px.m <= 0) {
        return AT_EINVAL;
    }
    at_dec r;
    int rc = h->dec_round_step(px, in->tick_sz, mode, &r);
    if (rc != AT_OK) {
        return rc;
    }
    if (r.m <= 0) {
        return AT_ERANGE; /* a price below one tick rounded DOWN to 0 */
    }
    *out = r;
    return AT_OK;
}

int okx_fmt(const at_host *h, at_dec d, char buf[AT_DEC_STRLEN])
{
    if (h == NULL) {
        buf[0] = '\0';
        return AT_EINVAL;
    }
    int n = h->dec_format(d, buf);
    if (n < 0) {
        buf[0] = '\0';
    }
    return n;
}

/* Exact decimal arithmetic on at_dec (value = m / 10^scale, scale 0..18).
 *
 * Every intermediate is a 128-bit integer: |m| < 2^63 and 10^18 < 2^60, so
 * aligning two mantissas to scale 18 or multiplying two mantissas never
 * overflows 128 bits. Results are checked against the int64 range before they
 * are stored; nothing wraps silently.
 *
 * Choices the headers leave open:
 *  - parse is strict: digits are required before a '.' and after it, so ".5",
 *    "5." and "-.5" are AT_EINVAL (OKX always sends "0.5"). No whitespace, no
 *    "inf"/"nan", no hex. An exponent is 'e'/'E', an optional sign and at
 *    least one digit.
 *  - parse keeps the input's trailing fractional zeros in the scale ("1.50"
 *    -> {150, 2}) as far as they fit; redundant zeros beyond scale 18 or
 *    beyond the int64 range are dropped, never a reason to fail.
 *  - add/sub return max(scale) and mul returns the sum of the scales; when
 *    that does not fit (scale > 18 or |m| too big) trailing zeros are dropped
 *    while the value stays exact, and only then AT_ERANGE is returned.
 *  - from_double returns the normalised value (no trailing zeros).
 *  - Functions that return an error code reject a scale outside 0..18 with
 *    AT_EINVAL; cmp, is_zero, normalize and to_double cannot fail and clamp
 *    such a scale so they never invoke undefined behaviour.
 */
#include "decimal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

#define U128_MAX (~(u128)0)
/* 2^63: magnitude of INT64_MIN, the largest magnitude an int64 can hold. */
#define MAG_I64_NEG ((u128)1 << 63)
#define MAG_I64_POS (MAG_I64_NEG - 1)

/* clang-format off */
static const uint64_t P10[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};
/* clang-format on */

/* 10^n for n in 0..38 (10^38 < 2^127). */
static u128 pow10_u128(int n)
{
    if (n <= 19) {
        return P10[n];
    }
    return (u128)P10[19] * pow10_u128(n - 19);
}

static bool valid_scale(int32_t scale)
{
    return scale >= 0 && scale <= AT_DEC_MAX_SCALE;
}

static int32_t clamp_scale(int32_t scale)
{
    if (scale < 0) {
        return 0;
    }
    return scale > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE : scale;
}

/* Magnitude of an int64 without the overflow of -INT64_MIN. */
static u128 mag64(int64_t m)
{
    return m < 0 ? (u128)(-(i128)m) : (u128)m;
}

static bool mul_u128(u128 a, u128 b, u128 *out)
{
    if (a != 0 && b > U128_MAX / a) {
        return false;
    }
    *out = a * b;
    return true;
}

/* Store sign * mag at `scale`. Trailing zeros are dropped only as far as
 * needed to make the value fit (scale <= 18, int64 range); AT_ERANGE when it
 * cannot fit exactly. */
static int store(bool neg, u128 mag, int scale, at_dec *out)
{
    u128 limit = neg ? MAG_I64_NEG : MAG_I64_POS;
    while ((scale > AT_DEC_MAX_SCALE || mag > limit) && scale > 0 && mag % 10 == 0) {
        mag /= 10;
        scale--;
    }
    if (scale > AT_DEC_MAX_SCALE || mag > limit) {
        return AT_ERANGE;
    }
    if (mag == 0) {
        neg = false;
    }
    out->m = neg ? (int64_t)(-(i128)mag) : (int64_t)mag;
    out->scale = scale;
    return AT_OK;
}

/* Round the quotient q (remainder r of a division by den, r < den) of a value
 * with sign `neg` according to mode. Works on magnitudes. */
static int round_quot(u128 q, u128 r, u128 den, bool neg, at_round mode, u128 *out)
{
    bool up;
    switch (mode) {
    case AT_ROUND_DOWN:
        up = false;
        break;
    case AT_ROUND_UP:
        up = r != 0;
        break;
    case AT_ROUND_FLOOR:
        up = neg && r != 0;
        break;
    case AT_ROUND_CEIL:
        up = !neg && r != 0;
        break;
    case AT_ROUND_HALF_EVEN: {
        /* r < den, so den - r > 0; comparing r with den - r avoids 2*r. */
        u128 rest = den - r;
        up = r > rest || (r == rest && (q & 1) != 0);
        break;
    }
    default:
        return AT_EINVAL;
    }
    if (up) {
        if (q == U128_MAX) {
            return AT_ERANGE;
        }
        q++;
    }
    *out = q;
    return AT_OK;
}

/* round(a.m * 10^(b.scale + extra) / (b.m * 10^a.scale)) as a sign and a
 * magnitude: the value a / b expressed in units of 10^-extra. Scales are
 * already validated, b.m != 0, extra in 0..18. When the numerator does not fit
 * in 128 bits the quotient exceeds 2^64 (|b.m| <= 2^63), which every caller
 * treats as out of range. */
static int quot(at_dec a, at_dec b, int extra, at_round mode, bool *neg, u128 *mag)
{
    int en = b.scale + extra; /* 0..36 */
    int ed = a.scale;         /* 0..18 */
    u128 num = mag64(a.m);
    u128 den = mag64(b.m);
    if (en >= ed) {
        if (!mul_u128(num, pow10_u128(en - ed), &num)) {
            return AT_ERANGE;
        }
    } else {
        /* |b.m| * 10^18 < 2^123: cannot overflow. */
        den *= pow10_u128(ed - en);
    }
    *neg = (a.m < 0) != (b.m < 0);
    return round_quot(num / den, num % den, den, *neg, mode, mag);
}

/* The pieces of a syntactically valid decimal literal. */
typedef struct lexed {
    bool neg;
    size_t d0, d1; /* mantissa digits [d0, d1), '.' included */
    size_t dot;    /* index of '.', or (size_t)-1 */
    size_t n_frac; /* digits after '.' */
    int64_t exp;   /* exponent, saturated at +-10^9 */
} lexed;

static size_t skip_digits(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    return i;
}

/* [+-]DIGITS[.DIGITS][(e|E)[+-]DIGITS], the whole of s[0, len). */
static int lex(const char *s, size_t len, lexed *lx)
{
    size_t i = 0;
    lx->neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        lx->neg = s[i] == '-';
        i++;
    }
    lx->d0 = i;
    i = skip_digits(s, i, len);
    if (i == lx->d0) {
        return AT_EINVAL;
    }
    lx->dot = (size_t)-1;
    lx->n_frac = 0;
    if (i < len && s[i] == '.') {
        lx->dot = i++;
        i = skip_digits(s, i, len);
        lx->n_frac = i - lx->dot - 1;
        if (lx->n_frac == 0) {
            return AT_EINVAL;
        }
    }
    lx->d1 = i;
    lx->exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t e0 = i;
        /* Saturate: beyond 10^9 a non-zero mantissa is out of range either
         * way and a zero one does not care. */
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (lx->exp < 1000000000) {
                lx->exp = lx->exp * 10 + (s[i] - '0');
            }
        }
        if (i == e0) {
            return AT_EINVAL;
        }
        if (eneg) {
            lx->exp = -lx->exp;
        }
    }
    return i == len ? AT_OK : AT_EINVAL;
}

int at_dec_parse(const char *s, size_t len, at_dec *out)
{
    if (s == NULL || out == NULL) {
        return AT_EINVAL;
    }
    if (len == (size_t)-1) {
        len = strlen(s);
    }
    lexed lx;
    int rc = lex(s, len, &lx);
    if (rc != AT_OK) {
        return rc;
    }
    /* Scale as written: value = (all mantissa digits) * 10^-scale_w. */
    int64_t scale_w = (int64_t)lx.n_frac - lx.exp;

    /* Significant digits run from the first to the last non-zero digit; the
     * zeros after them (tz) are redundant and may be dropped. */
    size_t first = (size_t)-1, last = 0;
    for (size_t k = lx.d0; k < lx.d1; k++) {
        if (k != lx.dot && s[k] != '0') {
            if (first == (size_t)-1) {
                first = k;
            }
            last = k;
        }
    }
    if (first == (size_t)-1) {
        out->m = 0;
        out->scale = (int32_t)(scale_w < 0                  ? 0
                               : scale_w > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE
                                                            : scale_w);
        return AT_OK;
    }
    int64_t tz = 0;
    u128 sig = 0;
    int n_sig = 0;
    for (size_t k = first; k < lx.d1; k++) {
        if (k == lx.dot) {
            continue;
        }
        if (k <= last) {
            if (++n_sig > 19) {
                return AT_ERANGE; /* >= 10^19 significant value: never fits */
            }
            sig = sig * 10 + (u128)(s[k] - '0');
        } else {
            tz++;
        }
    }
    /* value = sig * 10^-scale_min exactly. */
    int64_t scale_min = scale_w - tz;
    if (scale_min > AT_DEC_MAX_SCALE) {
        return AT_ERANGE;
    }
    /* Start from the smallest representable scale, then put back as many of
     * the written trailing zeros as fit. */
    int64_t scale = scale_min < 0 ? 0 : scale_min;
    u128 mag;
    if (scale - scale_min > 38 || !mul_u128(sig, pow10_u128((int)(scale - scale_min)), &mag)) {
        return AT_ERANGE;
    }
    u128 limit = lx.neg ? MAG_I64_NEG : MAG_I64_POS;
    if (mag > limit) {
        return AT_ERANGE;
    }
    int64_t want = scale_w > AT_DEC_MAX_SCALE ? AT_DEC_MAX_SCALE : scale_w;
    while (scale < want && mag <= limit / 10) {
        mag *= 10;
        scale++;
    }
    return store(lx.neg, mag, (int)scale, out);
}

const char *at_dec_text(at_dec d, char out[AT_DEC_STRLEN])
{
    if (at_dec_format(d, out) < 0) {
        snprintf(out, AT_DEC_STRLEN, "?");
    }
    return out;
}

int at_dec_format(at_dec d, char out[AT_DEC_STRLEN])
{
    if (out == NULL) {
        return AT_EINVAL;
    }
    if (!valid_scale(d.scale)) {
        out[0] = '\0';
        return AT_EINVAL;
    }
    uint64_t mag = (uint64_t)mag64(d.m);
    uint64_t ip = mag / P10[d.scale];
    uint64_t fp = mag % P10[d.scale];
    int scale = d.scale;
    while (scale > 0 && fp % 10 == 0) {
        fp /= 10;
        scale--;
    }
    /* Build right to left: fraction, point, integer part, sign. */
    char tmp[AT_DEC_STRLEN];
    int p = AT_DEC_STRLEN;
    tmp[--p] = '\0';
    for (int k = 0; k < scale; k++) {
        tmp[--p] = (char)('0' + fp % 10);
        fp /= 10;
    }
    if (scale > 0) {
        tmp[--p] = '.';
    }
    do {
        tmp[--p] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip != 0);
    if (d.m < 0) {
        tmp[--p] = '-';
    }
    int n = AT_DEC_STRLEN - 1 - p;
    memcpy(out, tmp + p, (size_t)n + 1);
    return n;
}

int at_dec_cmp(at_dec a, at_dec b)
{
    /* |m| * 10^18 < 2^123: both fit in i128 at scale 18. */
    i128 x = (i128)a.m * (i128)P10[AT_DEC_MAX_SCALE - clamp_scale(a.scale)];
    i128 y = (i128)b.m * (i128)P10[AT_DEC_MAX_SCALE - clamp_scale(b.scale)];
    return (x > y) - (x < y);
}

static int add_signed(at_dec a, at_dec b, bool negate_b, at_dec *out)
{
    if (out == NULL || !valid_scale(a.scale) || !valid_scale(b.scale)) {
        return AT_EINVAL;
    }
    int scale = a.scale > b.scale ? a.scale : b.scale;
    i128 x = (i128)a.m * (i128)P10[scale - a.scale];
    i128 y = (i128)b.m * (i128)P10[scale - b.scale];
    i128 sum = negate_b ? x - y : x + y;
    bool neg = sum < 0;
    return store(neg, neg ? (u128)(-sum) : (u128)sum, scale, out);
}

int at_dec_add(at_dec a, at_dec b, at_dec *out)
{
    return add_signed(a, b, false, out);
}

int at_dec_sub(at_dec a, at_dec b, at_dec *out)
{
    return add_signed(a, b, true, out);
}

int at_dec_mul(at_dec a, at_dec b, at_dec *out)
{
    if (out == NULL || !valid_scale(a.scale) || !valid_scale(b.scale)) {
        return AT_EINVAL;
    }
    /* |a.m * b.m| <= 2^126: fits. */
    u128 mag = mag64(a.m) * mag64(b.m);
    return store((a.m < 0) != (b.m < 0), mag, a.scale + b.scale, out);
}

int at_dec_mul_round(at_dec a, at_dec b, int scale, at_round mode, at_dec *out)
{
    if (out == NULL || !valid_scale(a.scale) || !valid_scale(b.scale) || !valid_scale(scale)) {
        return AT_EINVAL;
    }
    bool neg = (a.m < 0) != (b.m < 0);
    u128 mag = mag64(a.m) * mag64(b.m);
    int s = a.scale + b.scale; /* <= 36: 10^36 fits in u128 */
    if (s > scale) {
        u128 den = pow10_u128(s - scale);
        int rc = round_quot(mag / den, mag % den, den, neg, mode, &mag);
        if (rc != AT_OK) {
            return rc;
        }
        s = scale;
    }
    return store(neg, mag, s, out);
}

int at_dec_div(at_dec a, at_dec b, int scale, at_round mode, at_dec *out)
{
    if (out == NULL || !valid_scale(a.scale) || !valid_scale(b.scale) || !valid_scale(scale) ||
        b.m == 0) {
        return AT_EINVAL;
    }
    bool neg;
    u128 mag;
    int rc = quot(a, b, scale, mode, &neg, &mag);
    if (rc != AT_OK) {
        return rc;
    }
    if (mag > (neg ? MAG_I64_NEG : MAG_I64_POS)) {
        return AT_ERANGE;
    }
    out->m = neg ? (int64_t)(-(i128)mag) : (int64_t)mag;
    out->scale = scale;
    return AT_OK;
}

int at_dec_round_step(at_dec a, at_dec step, at_round mode, at_dec *out)
{
    if (out == NULL || !valid_scale(a.scale) || !valid_scale(step.scale) || step.m <= 0) {
        return AT_EINVAL;
    }
    /* n = round(a / step) whole steps; the result is n * step at step's scale. */
    bool neg;
    u128 n;
    int rc = quot(a, step, 0, mode, &neg, &n);
    if (rc != AT_OK) {
        return rc;
    }
    u128 mag;
    if (!mul_u128(n, (u128)step.m, &mag) || mag > (neg ? MAG_I64_NEG : MAG_I64_POS)) {
        return AT_ERANGE;
    }
    out->m = neg ? (int64_t)(-(i128)mag) : (int64_t)mag;
    out->scale = step.scale;
    return AT_OK;
}

int at_dec_from_double(double v, int scale, at_dec *out)
{
    if (out == NULL || !valid_scale(scale)) {
        return AT_EINVAL;
    }
    if (!isfinite(v)) {
        return AT_ERANGE;
    }
    /* A finite double is exactly f * 2^e with an integer f < 2^53, so
     * v * 10^scale can be rounded exactly in integer arithmetic: no decimal
     * string round trip and no double rounding. */
    bool neg = signbit(v) != 0;
    int ex;
    double fr = frexp(fabs(v), &ex);
    u128 f = (u128)(uint64_t)ldexp(fr, 53);
    int e = ex - 53;
    u128 mag;
    if (f == 0) {
        mag = 0;
    } else if (e >= 0) {
        /* Integer value f * 2^e; anything >= 2^64 is out of range anyway. */
        if (e > 63 || (f << e) > MAG_I64_NEG) {
            return AT_ERANGE;
        }
        mag = (f << e) * P10[scale]; /* < 2^64 * 2^60: fits */
    } else {
        u128 num = f * P10[scale]; /* < 2^53 * 2^60 */
        int k = -e;
        if (k >= 120) {
            mag = 0; /* num / 2^k < 2^-7: rounds to 0 */
        } else {
            u128 den = (u128)1 << k;
            int rc = round_quot(num >> k, num & (den - 1), den, neg, AT_ROUND_HALF_EVEN, &mag);
            if (rc != AT_OK) {
                return rc;
            }
        }
    }
    at_dec d;
    int rc = store(neg, mag, scale, &d);
    if (rc != AT_OK) {
        return rc;
    }
    *out = at_dec_normalize(d);
    return AT_OK;
}

double at_dec_to_double(at_dec d)
{
    int scale = clamp_scale(d.scale);
    /* Below 2^53 the mantissa converts exactly and 10^scale (<= 10^18 < 10^22)
     * is an exact double, so one IEEE division is correctly rounded. */
    if (d.m >= -(INT64_C(1) << 53) && d.m <= (INT64_C(1) << 53)) {
        return (double)d.m / (double)P10[scale];
    }
    /* Larger mantissas: strtod of the exact text is correctly rounded. */
    char buf[AT_DEC_STRLEN];
    d.scale = scale;
    at_dec_format(d, buf);
    return strtod(buf, NULL);
}

bool at_dec_is_zero(at_dec d)
{
    return d.m == 0;
}

at_dec at_dec_normalize(at_dec d)
{
    if (d.m == 0) {
        return (at_dec){0, 0};
    }
    while (d.scale > 0 && d.m % 10 == 0) {
        d.m /= 10;
        d.scale--;
    }
    return d;
}

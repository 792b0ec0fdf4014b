/* okx_md_scan: the cold half of the frame reader (see okx_md_scan.h):
 * escapes, number grammar, skipping values nobody decodes, converters and
 * errors. Strict JSON (RFC 8259) throughout: jsmn, which this replaces,
 * let "01", "1x" or raw control bytes in strings through; nothing OKX sends
 * needs them. */
#include <limits.h>

#include "okx_md_fast.h"

#define FAIL(rc, reason, at) return okx_cur_fail(c, (rc), (reason), (at))

#define S1 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define S0 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
const unsigned char okx_scan_stop[256] = {
    S1, S1,                                           /* 0x00-0x1f: control bytes */
    0,  0,  1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x22 '"' */
    S0, S0,                                           /* 0x30-0x4f */
    0,  0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x5c '\\' */
};
#undef S1
#undef S0

int okx_cur_fail(okx_cur *c, int rc, const char *reason, const char *at)
{
    c->md->reason = reason;
    c->md->err_off = at < c->base ? 0 : at > c->end ? (int)(c->end - c->base) : (int)(at - c->base);
    return rc;
}

int okx_cur_truncated(okx_cur *c)
{
    return okx_cur_fail(c, AT_EINVAL, "truncated JSON", c->end);
}

static bool is_hex(char ch)
{
    return (unsigned)(ch - '0') < 10 || (unsigned)((ch | 0x20) - 'a') < 6;
}

/* The string at c->p, byte by byte: validates escapes, refuses raw control
 * bytes (which also stops a NUL from ending the frame early). */
int okx_scan_str_slow(okx_cur *c, okx_str *out)
{
    const char *q = c->p + 1, *e = c->end;
    while (q < e) {
        unsigned char ch = (unsigned char)*q;
        if (ch == '"') {
            out->p = c->p + 1;
            out->n = (uint32_t)(q - out->p);
            c->p = q + 1;
            return AT_OK;
        }
        if (ch < 0x20) {
            return okx_cur_fail(c, AT_EINVAL, "control byte in a JSON string", q);
        }
        if (ch != '\\') {
            q++;
            continue;
        }
        if (e - q < 2) {
            break;
        }
        if (q[1] != 'u') {
            if (!memchr("\"\\/bfnrt", q[1], 8)) {
                return okx_cur_fail(c, AT_EINVAL, "invalid escape in a JSON string", q);
            }
            q += 2;
            continue;
        }
        for (int i = 2; i < 6; i++) {
            if (q + i >= e) {
                return okx_cur_truncated(c);
            }
            if (!is_hex(q[i])) {
                return okx_cur_fail(c, AT_EINVAL, "invalid \\u escape in a JSON string", q);
            }
        }
        q += 6;
    }
    return okx_cur_truncated(c);
}

/* true, false or null at c->p. */
static int scan_literal(okx_cur *c, okx_str *out)
{
    static const char *const lits[3] = {"true", "false", "null"};
    const char *q = c->p;
    size_t avail = (size_t)(c->end - q);
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if (*q != lits[i][0]) {
            continue;
        }
        if (memcmp(q, lits[i], avail < n ? avail : n) != 0) {
            break;
        }
        if (avail < n) {
            return okx_cur_truncated(c);
        }
        *out = (okx_str){q, (uint32_t)n};
        c->p = q + n;
        return AT_OK;
    }
    return okx_cur_fail(c, AT_EINVAL, "expected a JSON value", q);
}

static const char *digits(const char *q, const char *e)
{
    while (q < e && (unsigned)(*q - '0') < 10) {
        q++;
    }
    return q;
}

/* A number (JSON grammar) or true/false/null at c->p; *out is its text.
 * What follows is the caller's to check (a separator or a closing bracket). */
int okx_scan_prim(okx_cur *c, okx_str *out)
{
    const char *q = c->p, *e = c->end;
    if (*q != '-' && (unsigned)(*q - '0') >= 10) {
        return scan_literal(c, out);
    }
    if (*q == '-') {
        q++;
    }
    const char *d = q;
    q = (q < e && *q == '0') ? q + 1 : digits(q, e);
    if (q == d) {
        return q == e ? okx_cur_truncated(c)
                      : okx_cur_fail(c, AT_EINVAL, "expected a JSON value", q);
    }
    if (q < e && *q == '.') {
        const char *f = ++q;
        if ((q = digits(q, e)) == f) {
            return q == e ? okx_cur_truncated(c)
                          : okx_cur_fail(c, AT_EINVAL, "malformed number", q);
        }
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-')) {
            q++;
        }
        const char *x = q;
        if ((q = digits(q, e)) == x) {
            return q == e ? okx_cur_truncated(c)
                          : okx_cur_fail(c, AT_EINVAL, "malformed number", q);
        }
    }
    *out = (okx_str){c->p, (uint32_t)(q - c->p)};
    c->p = q;
    return AT_OK;
}

static int skip_at(okx_cur *c, int depth)
{
    if (c->p >= c->end) {
        return okx_cur_truncated(c);
    }
    char ch = *c->p;
    if (ch == '"') {
        okx_str s;
        return okx_fast_str(c, &s);
    }
    if (ch != '{' && ch != '[') {
        okx_str s;
        return okx_scan_prim(c, &s);
    }
    if (depth >= OKX_SCAN_MAX_DEPTH) {
        return okx_cur_fail(c, AT_ERANGE, "JSON nested too deeply", c->p);
    }
    c->p++;
    int st = 0, r;
    okx_str key;
    while ((r = ch == '{' ? okx_fast_member(c, &st, &key) : okx_scan_elem(c, &st)) > 0) {
        if ((r = skip_at(c, depth + 1)) != AT_OK) {
            return r;
        }
    }
    return r;
}

/* Any value at c->p, validated and stepped over. */
int okx_scan_skip(okx_cur *c)
{
    return skip_at(c, 0);
}

int okx_scan_dec_slow(okx_cur *c, at_dec *out, okx_str *text)
{
    okx_val v = {{NULL, 0}, OKX_V_STR};
    int rc = okx_scan_str(c, &v.s);
    if (rc == AT_OK) {
        *text = v.s;
        rc = okx_val_dec(c, &v, out);
    }
    return rc;
}

int okx_scan_int_slow(okx_cur *c, int64_t *out)
{
    okx_val v;
    int rc = okx_scan_val(c, &v);
    return rc != AT_OK ? rc : okx_val_int(c, &v, out);
}

int okx_scan_i32(okx_cur *c, int32_t *out)
{
    const char *at = c->p;
    int64_t x;
    int rc = okx_fast_int(c, &x);
    if (rc != AT_OK) {
        return rc;
    }
    if (x < INT32_MIN || x > INT32_MAX) {
        return okx_cur_fail(c, AT_ERANGE, "integer out of 32-bit range", at);
    }
    *out = (int32_t)x;
    return AT_OK;
}

int okx_val_dec(okx_cur *c, const okx_val *v, at_dec *out)
{
    if (v->kind != OKX_V_STR) {
        return okx_cur_fail(c, AT_EINVAL, "decimal field is not a string", v->s.p);
    }
    if (v->s.n == 0) {
        *out = (at_dec){0, 0};
        return AT_OK;
    }
    int rc = okx_md_dec(c->md->host, v->s.p, v->s.n, out);
    if (rc != AT_OK) {
        return okx_cur_fail(c, rc, rc == AT_ERANGE ? "decimal out of range" : "malformed decimal",
                            v->s.p);
    }
    return AT_OK;
}

int okx_val_int(okx_cur *c, const okx_val *v, int64_t *out)
{
    if (v->kind != OKX_V_STR && v->kind != OKX_V_PRIM) {
        return okx_cur_fail(c, AT_EINVAL, "integer field is not a number or string", v->s.p);
    }
    const char *s = v->s.p;
    uint32_t len = v->s.n, k = 0;
    if (len == 0 && v->kind == OKX_V_STR) {
        *out = 0;
        return AT_OK;
    }
    bool neg = len > 0 && s[0] == '-';
    k = neg;
    if (k == len) {
        return okx_cur_fail(c, AT_EINVAL, "malformed integer", s);
    }
    uint64_t x = 0;
    for (; k < len; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (d > 9) {
            return okx_cur_fail(c, AT_EINVAL, "malformed integer", s);
        }
        if (x > (UINT64_C(9223372036854775808) - d) / 10) {
            return okx_cur_fail(c, AT_ERANGE, "integer out of range", s);
        }
        x = x * 10 + d;
    }
    if (!neg && x > (uint64_t)INT64_MAX) {
        return okx_cur_fail(c, AT_ERANGE, "integer out of range", s);
    }
    *out = neg ? (int64_t)(0 - x) : (int64_t)x;
    return AT_OK;
}

int okx_val_i32(okx_cur *c, const okx_val *v, int32_t *out)
{
    int64_t x;
    int rc = okx_val_int(c, v, &x);
    if (rc != AT_OK) {
        return rc;
    }
    if (x < INT32_MIN || x > INT32_MAX) {
        return okx_cur_fail(c, AT_ERANGE, "integer out of 32-bit range", v->s.p);
    }
    *out = (int32_t)x;
    return AT_OK;
}

int okx_val_str(okx_cur *c, const okx_val *v, okx_str *out)
{
    if (v->kind != OKX_V_STR) {
        return okx_cur_fail(c, AT_EINVAL, "field is not a string", v->s.p);
    }
    *out = v->s;
    return AT_OK;
}

/* ---- numbers and book levels: the hot part of a books push ---------- */

/* host->dec_parse keeps the written scale when the value fits, so for
 * "[+-]D+[.D+]" with at most 18 digits in all (< 10^18, always fits) the
 * result is simply m = the digits, scale = digits after the point. Every
 * other spelling (exponent, more digits, junk) goes to dec_parse itself, so
 * the two can never disagree. okx_scan_dec inlines the same rule. */
int okx_md_dec(const at_host *host, const char *s, size_t len, at_dec *out)
{
    size_t i = 0;
    bool neg = false;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    uint64_t m = 0;
    size_t d0 = i;
    while (i < len && (unsigned)(s[i] - '0') < 10) {
        m = m * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    size_t nint = i - d0;
    size_t nfrac = 0;
    if (nint > 0 && i < len && s[i] == '.') {
        size_t f0 = ++i;
        while (i < len && (unsigned)(s[i] - '0') < 10) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            i++;
        }
        nfrac = i - f0;
        if (nfrac == 0) {
            i = len + 1; /* "1." : let dec_parse reject it */
        }
    }
    if (i == len && nint > 0 && nint + nfrac <= 18) {
        out->m = neg ? -(int64_t)m : (int64_t)m;
        out->scale = (int32_t)nfrac;
        return AT_OK;
    }
    return host->dec_parse(s, len, out);
}

/* A plain positive decimal string at *qp ("D+[.D+]", <= 18 digits) up to
 * and including its closing quote. */
static bool plain_dec(const char **qp, const char *e, at_dec *out, okx_str *text)
{
    const char *q = *qp, *s = q;
    uint64_t m = 0;
    while (q < e && (unsigned)(*q - '0') < 10) {
        m = m * 10 + (uint64_t)(*q++ - '0');
    }
    size_t nint = (size_t)(q - s), nfrac = 0;
    if (nint == 0 || q >= e) {
        return false;
    }
    if (*q == '.') {
        const char *f = ++q;
        while (q < e && (unsigned)(*q - '0') < 10) {
            m = m * 10 + (uint64_t)(*q++ - '0');
        }
        nfrac = (size_t)(q - f);
        if (nfrac == 0 || q >= e) {
            return false;
        }
    }
    if (*q != '"' || nint + nfrac > 18) {
        return false;
    }
    *out = (at_dec){(int64_t)m, (int32_t)nfrac};
    *text = (okx_str){s, (uint32_t)(q - s)};
    *qp = q + 1;
    return true;
}

/* The n bytes of lit at *qp, stepped over. */
static inline bool lit_at(const char **qp, const char *e, const char *lit, size_t n)
{
    if ((size_t)(e - *qp) < n || memcmp(*qp, lit, n) != 0) {
        return false;
    }
    *qp += n;
    return true;
}
#define LIT(lit) lit_at(&q, e, lit, sizeof(lit) - 1)

/* OKX's compact level ["px","sz","0","orders"] (no whitespace, plain
 * numbers, px > 0) in one straight pass, byte by byte. Anything else, valid
 * or not, returns false with c->p unchanged, for parse_level to judge. */
static bool level_plain(okx_cur *c, okx_md_level *d)
{
    const char *q = c->p, *e = c->end;
    if (!LIT("[\"") || !plain_dec(&q, e, &d->px, &d->px_s) || d->px.m == 0 || !LIT(",\"") ||
        !plain_dec(&q, e, &d->sz, &d->sz_s) || !LIT(",\"")) {
        return false;
    }
    while (q < e && !okx_scan_stop[(unsigned char)*q]) {
        q++; /* the deprecated liquidated-orders field: any plain string */
    }
    if (!LIT("\",\"")) {
        return false;
    }
    const char *d0 = q;
    int32_t n = 0;
    while (q < e && q - d0 < 9 && (unsigned)(*q - '0') < 10) {
        n = n * 10 + (*q++ - '0'); /* 9 digits always fit an int32 */
    }
    if (q == d0 || !LIT("\"]")) {
        return false;
    }
    d->orders = n;
    c->p = q;
    return true;
}
#undef LIT

#ifdef OKX_FAST
/* The same level sixteen bytes a field (okx_md_fast.h), every field under
 * 16 bytes and 16 bytes of frame after each: ~300 instructions instead of
 * ~500. Returns the byte after the level's ']', or NULL for level_plain to
 * judge. q - base >= 8. */
OKX_HOT const char *level_wide(const char *q, const char *e, okx_md_level *d)
{
    if (e - q < 2 + 16 || memcmp(q, "[\"", 2) != 0) {
        return NULL;
    }
    q += 2;
    const char *r = okx_fast_udec(q, &d->px);
    if (!r || d->px.m == 0 || e - r < 3 + 16 || memcmp(r, "\",\"", 3) != 0) {
        return NULL;
    }
    d->px_s = (okx_str){q, (uint32_t)(r - q)};
    q = r + 3;
    r = okx_fast_udec(q, &d->sz);
    if (!r || e - r < 3 + 16 || memcmp(r, "\",\"", 3) != 0) {
        return NULL;
    }
    d->sz_s = (okx_str){q, (uint32_t)(r - q)};
    q = okx_fast_plain(r + 3); /* the deprecated liquidated-orders field */
    if (!q || e - q < 3 + 16 || memcmp(q, "\",\"", 3) != 0) {
        return NULL;
    }
    uint64_t n;
    uint32_t nd;
    r = okx_fast_digits(q + 3, &n, &nd);
    if (!r || nd > 9 || e - r < 2 || memcmp(r, "\"]", 2) != 0) {
        return NULL;
    }
    d->orders = (int32_t)n; /* 9 digits always fit an int32 */
    return r + 2;
}

/* A decimal field of n bytes (digits and at most one point, at index k,
 * or k == n for none) that ends at `end`, with at most 8 digits: one SWAR
 * conversion. With a point, the 8 bytes before the end are merged with the
 * 8 before those so the digits before the point close the gap. end - 9 is
 * inside the frame. */
OKX_HOT at_dec field_dec(const char *end, uint32_t n, uint32_t k)
{
    at_dec v;
    if (k == n) {
        v.m = (int64_t)okx_swar_tail(end, n);
        v.scale = 0;
        return v;
    }
    uint32_t w = k + 8 - n; /* the point's byte in the last-8 window */
    uint64_t low = (UINT64_C(1) << (8 * (w + 1))) - 1;
    uint64_t x = (okx_load64(end - 9) & low) | (okx_load64(end - 8) & ~low);
    v.m = (int64_t)okx_swar8(x & (UINT64_C(0x0F0F0F0F0F0F0F0F) << (8 * (9 - n))));
    v.scale = (int32_t)(n - 1 - k);
    return v;
}

/* The usual level, ["px","sz","0","orders"] in at most 32 bytes with
 * numbers of at most 8 digits, from two 16-byte loads: the quotes, commas,
 * points, digits and the ']' as bit masks, the 8 quotes' positions taken
 * off one by one, every other byte of the level checked to be a digit or
 * an allowed point, then one SWAR conversion a number: ~150 instructions.
 * Returns the byte after the ']', or NULL for level_wide to judge (which
 * accepts what this accepts and more). q + 32 <= end, q - base >= 8. */
typedef struct lvl_masks {
    uint32_t Q, C, P, R, D; /* '"', ',', '.', ']', digits */
} lvl_masks;

OKX_HOT lvl_masks masks_sse2(const char *q)
{
    __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)q);
    __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(q + 16));
#define MASK32(expr0, expr1)                                                                       \
    ((uint32_t)_mm_movemask_epi8(expr0) | (uint32_t)_mm_movemask_epi8(expr1) << 16)
    __m128i d0 = _mm_sub_epi8(v0, _mm_set1_epi8('0')), d1 = _mm_sub_epi8(v1, _mm_set1_epi8('0'));
    __m128i nine = _mm_set1_epi8(9);
    lvl_masks k;
    k.Q = MASK32(_mm_cmpeq_epi8(v0, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v1, _mm_set1_epi8('"')));
    k.C = MASK32(_mm_cmpeq_epi8(v0, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v1, _mm_set1_epi8(',')));
    k.P = MASK32(_mm_cmpeq_epi8(v0, _mm_set1_epi8('.')), _mm_cmpeq_epi8(v1, _mm_set1_epi8('.')));
    k.R = MASK32(_mm_cmpeq_epi8(v0, _mm_set1_epi8(']')), _mm_cmpeq_epi8(v1, _mm_set1_epi8(']')));
    k.D = MASK32(_mm_cmpeq_epi8(_mm_min_epu8(d0, nine), d0),
                 _mm_cmpeq_epi8(_mm_min_epu8(d1, nine), d1));
#undef MASK32
    return k;
}

OKX_HOT const char *level_32(const char *q, okx_md_level *d, lvl_masks k)
{
    uint32_t Q = k.Q, C = k.C, P = k.P, R = k.R, D = k.D;
    /* Where the quotes must be, from px's closing quote (a), sz's (c), the
     * third field's (g) and the orders' (j), each found after skipping the
     * opening quote of its field; an absent one reads as 31 and fails. The
     * tests are or-ed, not chained: one branch, not a dozen. */
    uint32_t m = Q & ~3u;
    uint32_t a = (uint32_t)__builtin_ctz(m | 0x80000000u);
    m &= m - 1;
    m &= m - 1;
    uint32_t c = (uint32_t)__builtin_ctz(m | 0x80000000u);
    m &= m - 1;
    m &= m - 1;
    uint32_t g = (uint32_t)__builtin_ctz(m | 0x80000000u);
    m &= m - 1;
    m &= m - 1;
    uint32_t j = (uint32_t)__builtin_ctz(m | 0x80000000u);
    j = j > 30 ? 30 : j; /* keeps the shifts defined; the checks fail then */
    uint32_t close = 2u << j, span = (close << 1) - 1; /* bits [0, j + 1] */
    uint32_t quotes = 2u | 5u << a | 5u << c | 5u << g | 1u << j;
    uint32_t sep = 2u << a | 2u << c | 2u << g;
    uint32_t content = span & ~(1u | quotes | sep | close);
    uint32_t dpx = P & ((1u << (a - 1)) - 1) & ~7u; /* px without its first and last byte */
    uint32_t dsz = P & ((1u << (c - 1)) - 1) & ~((16u << a) - 1); /* sz likewise */
    uint32_t npx = a - 2, nsz = c - a - 3, nor = j - g - 3;
    uint32_t kpx = (uint32_t)__builtin_ctz(dpx | 1u << a) - 2;
    uint32_t ksz = (uint32_t)__builtin_ctz(dsz | 1u << c) - a - 3;
    if (((Q & span) != quotes) | ((C & span) != sep) | !(R & close) | (q[0] != '[') | (a < 3) |
        (c < a + 4) | (j < g + 4) | ((content & ~D) != (dpx | dsz)) | ((dpx & (dpx - 1)) != 0) |
        ((dsz & (dsz - 1)) != 0) | (npx - (kpx < npx) > 8) | (nsz - (ksz < nsz) > 8) | (nor > 9)) {
        return NULL;
    }
    d->px = field_dec(q + a, npx, kpx);
    if (d->px.m == 0) {
        return NULL;
    }
    d->sz = field_dec(q + c, nsz, ksz);
    d->px_s = (okx_str){q + 2, npx};
    d->sz_s = (okx_str){q + a + 3, nsz};
    d->orders = (int32_t)okx_digits_value(q + j, nor);
    return q + j + 2;
}

#endif

/* A level at c->p through the quickest reader that takes it. */
OKX_HOT bool level_fast(okx_cur *c, okx_md_level *d)
{
#ifdef OKX_FAST
    if (c->p - c->base >= 8) {
        const char *r = c->end - c->p >= 32 ? level_32(c->p, d, masks_sse2(c->p)) : NULL;
        if (!r) {
            r = level_wide(c->p, c->end, d);
        }
        if (r) {
            c->p = r;
            return true;
        }
    }
#endif
    return level_plain(c, d);
}

/* One level ["px", "sz", "0", "orders", ...]: every element a scalar, px and
 * sz non-empty decimal strings, orders (the 4th) an integer. */
static int parse_level(okx_cur *c, okx_md_level *d)
{
    const char *at = c->p;
    if (*c->p != '[') {
        FAIL(AT_EINVAL, "book level is not an array of at least [px, sz]", at);
    }
    c->p++;
    d->orders = 0;
    int st = 0, r, i = 0;
    while ((r = okx_scan_elem(c, &st)) > 0) {
        if (i < 2) {
            r = okx_scan_dec(c, i ? &d->sz : &d->px, i ? &d->sz_s : &d->px_s);
        } else if (*c->p == '[' || *c->p == '{') {
            FAIL(AT_EINVAL, "book level element is not a string", c->p);
        } else {
            okx_val v;
            r = i == 3 ? okx_scan_i32(c, &d->orders) : okx_scan_val(c, &v);
        }
        if (r != AT_OK) {
            return r;
        }
        i++;
    }
    if (r < 0) {
        return r;
    }
    if (i < 2) {
        FAIL(AT_EINVAL, "book level is not an array of at least [px, sz]", at);
    }
    if (d->px_s.n == 0 || d->sz_s.n == 0) {
        FAIL(AT_EINVAL, "empty price or size in a book level", at);
    }
    if (d->px.m <= 0 || d->sz.m < 0) {
        FAIL(AT_EINVAL, "book level with a non-positive price or negative size", at);
    }
    return AT_OK;
}

/* [[px, sz, liquidated, orders], ...] */
OKX_CLONES int okx_scan_levels(okx_cur *c, okx_md_level *lv, uint32_t *nout)
{
    if (c->p >= c->end) {
        return okx_cur_truncated(c);
    }
    if (*c->p != '[') {
        FAIL(AT_EINVAL, "book side is not an array", c->p);
    }
    c->p++;
    int rc;
    uint32_t n = 0;
    int st = 0, r = 0;
    for (;;) {
        /* The compact separators first; anything else (whitespace, the
         * end, an error) through okx_scan_elem. */
        const char *q = c->p;
        if (st && c->end - q >= 2 && q[0] == ',' && q[1] == '[') {
            c->p = q + 1;
        } else if (!st && q < c->end && *q == '[') {
            st = 1;
        } else if ((r = okx_scan_elem(c, &st)) <= 0) {
            break;
        }
        if (n == OKX_MD_MAX_LEVELS) {
            FAIL(AT_ERANGE, "more book levels than supported", c->p);
        }
        if (!level_fast(c, &lv[n]) && (rc = parse_level(c, &lv[n])) != AT_OK) {
            return rc;
        }
        n++;
    }
    *nout = n;
    return r;
}

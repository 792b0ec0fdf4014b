/* okx_md_scan: the cold half of the frame reader (see okx_md_scan.h):
 * escapes, number grammar, skipping values nobody decodes, converters and
 * errors. Strict JSON (RFC 8259) throughout: jsmn, which this replaces,
 * let "01", "1x" or raw control bytes in strings through; nothing OKX sends
 * needs them. */
#include <limits.h>

#include "okx_md_scan.h"

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
        return okx_scan_str(c, &s);
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
    while ((r = ch == '{' ? okx_scan_member(c, &st, &key) : okx_scan_elem(c, &st)) > 0) {
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
    int rc = okx_scan_int(c, &x);
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
 * numbers, px > 0) in one straight pass. Anything else, valid or not,
 * returns false with c->p unchanged, for parse_level to judge. */
static bool level_fast(okx_cur *c, okx_md_level *d)
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

/* One level ["px", "sz", "0", "orders", ...]: every element a scalar, px and
 * sz non-empty decimal strings, orders (the 4th) an integer. */
static int parse_level(okx_cur *c, okx_md_level *d)
{
    if (level_fast(c, d)) {
        return AT_OK;
    }
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
int okx_scan_levels(okx_cur *c, okx_md_level *lv, uint32_t *nout)
{
    if (*c->p != '[') {
        FAIL(AT_EINVAL, "book side is not an array", c->p);
    }
    c->p++;
    int rc;
    uint32_t n = 0;
    int st = 0, r;
    while ((r = okx_scan_elem(c, &st)) > 0) {
        if (n == OKX_MD_MAX_LEVELS) {
            FAIL(AT_ERANGE, "more book levels than supported", c->p);
        }
        if ((rc = parse_level(c, &lv[n])) != AT_OK) {
            return rc;
        }
        n++;
    }
    *nout = n;
    return r;
}

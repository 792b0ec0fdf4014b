/* okx_md_scan: the byte-level JSON reader under okx_md.c (internal header).
 *
 * A cursor walks the frame once, left to right; the decoders in okx_md.c
 * pull keys and values from it in document order, so the frame is validated
 * and decoded in the same pass and nothing is stored per token. Every read
 * is bounded by `end`: the frame need not be NUL-terminated and a truncated
 * frame is an error at the point it runs out, never a read past it.
 *
 * The few steps every value goes through (whitespace, member and element
 * separators, plain strings, plain decimals) are inline here; the rest
 * (escapes, skipping nested values, number grammar, errors) is in
 * okx_md_scan.c, off the hot path. */
#ifndef OKX_MD_SCAN_H
#define OKX_MD_SCAN_H

#include "okx_md.h"

/* Values nested deeper than this inside an unknown member are refused
 * (AT_ERANGE): it bounds the skipper's recursion. OKX nests 4 levels. */
#define OKX_SCAN_MAX_DEPTH 64

typedef struct okx_cur {
    const char *p;    /* next unread byte */
    const char *end;  /* one past the frame's last byte: never read */
    const char *base; /* frame start, for error offsets */
    okx_md *md;       /* where an error's reason and offset go */
} okx_cur;

typedef enum okx_vkind {
    OKX_V_NONE = 0, /* member absent */
    OKX_V_STR,
    OKX_V_PRIM, /* number, true, false or null */
    OKX_V_OBJ,
    OKX_V_ARR,
} okx_vkind;

/* A scalar as read, or where a container started (it is skipped). */
typedef struct okx_val {
    okx_str s; /* STR: raw contents; PRIM: its text; OBJ/ARR: the bracket */
    okx_vkind kind;
} okx_val;

/* Records reason and offset (of `at`, clamped to the frame) and returns rc. */
int okx_cur_fail(okx_cur *c, int rc, const char *reason, const char *at);
int okx_cur_truncated(okx_cur *c);

/* 1 for the bytes that end the plain part of a string: '"', '\\', < 0x20. */
extern const unsigned char okx_scan_stop[256];

int okx_scan_str_slow(okx_cur *c, okx_str *out);
int okx_scan_prim(okx_cur *c, okx_str *out);
int okx_scan_skip(okx_cur *c);
int okx_scan_dec_slow(okx_cur *c, at_dec *out, okx_str *text);
int okx_scan_int_slow(okx_cur *c, int64_t *out);
/* A books side [[px, sz, liquidated, orders], ...] at c->p into lv[]. */
int okx_scan_levels(okx_cur *c, okx_md_level *lv, uint32_t *nout);
int okx_scan_i32(okx_cur *c, int32_t *out);

/* Converters of a read value, with okx_md.c's historical rules: decimals
 * and views need a string ("" is a zero decimal), integers take a number
 * or a string of digits ("" is 0). */
int okx_val_dec(okx_cur *c, const okx_val *v, at_dec *out);
int okx_val_int(okx_cur *c, const okx_val *v, int64_t *out);
int okx_val_i32(okx_cur *c, const okx_val *v, int32_t *out);
int okx_val_str(okx_cur *c, const okx_val *v, okx_str *out);

static inline bool okx_is_ws(char ch)
{
    return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
}

static inline void okx_ws(okx_cur *c)
{
    /* OKX sends compact JSON: one compare decides in the common case. */
    while (c->p < c->end && (unsigned char)*c->p <= ' ' && okx_is_ws(*c->p)) {
        c->p++;
    }
}

/* A string at c->p (which is '"'): the raw contents, escapes kept. */
static inline int okx_scan_str(okx_cur *c, okx_str *out)
{
    const char *q = c->p + 1;
    while (q < c->end && !okx_scan_stop[(unsigned char)*q]) {
        q++;
    }
    if (q < c->end && *q == '"') {
        out->p = c->p + 1;
        out->n = (uint32_t)(q - out->p);
        c->p = q + 1;
        return AT_OK;
    }
    return okx_scan_str_slow(c, out); /* escape, control byte or truncation */
}

/* Any value at c->p (c->p < end): scalars are returned, containers skipped. */
static inline int okx_scan_val(okx_cur *c, okx_val *v)
{
    char ch = *c->p;
    if (ch == '"') {
        v->kind = OKX_V_STR;
        return okx_scan_str(c, &v->s);
    }
    if (ch == '{' || ch == '[') {
        v->kind = ch == '{' ? OKX_V_OBJ : OKX_V_ARR;
        v->s = (okx_str){c->p, 1};
        return okx_scan_skip(c);
    }
    v->kind = OKX_V_PRIM;
    return okx_scan_prim(c, &v->s);
}

/* Separator before member/element *state (0 = first, just after the
 * opening bracket). Returns 1 when one follows (c->p at it), 0 after the
 * closing bracket, or an error. */
static inline int okx_scan_sep(okx_cur *c, int *state, char close)
{
    okx_ws(c);
    if (c->p >= c->end) {
        return okx_cur_truncated(c);
    }
    if (*c->p == close) {
        c->p++;
        return 0;
    }
    if (*state) {
        if (*c->p != ',') {
            return okx_cur_fail(c, AT_EINVAL,
                                close == '}' ? "expected ',' or '}' in an object"
                                             : "expected ',' or ']' in an array",
                                c->p);
        }
        c->p++;
        okx_ws(c);
        if (c->p >= c->end) {
            return okx_cur_truncated(c);
        }
    }
    *state = 1;
    return 1;
}

/* Next element of an array whose '[' was consumed: 1 with c->p at it, 0
 * after the ']', or an error. */
static inline int okx_scan_elem(okx_cur *c, int *state)
{
    return okx_scan_sep(c, state, ']');
}

/* A decimal held in a JSON string at c->p ("" gives {0, 0}); *text is its
 * raw text. The plain "[+-]D+[.D+]" form of <= 18 digits is parsed while
 * the string is scanned (the same rule as okx_md_dec, so the result is
 * exactly dec_parse's); anything else goes through okx_md_dec. */
static inline int okx_scan_dec(okx_cur *c, at_dec *out, okx_str *text)
{
    const char *q = c->p + 1, *e = c->end;
    if (*c->p != '"') {
        return okx_cur_fail(c, AT_EINVAL, "decimal field is not a string", c->p);
    }
    bool neg = false;
    if (q < e && (*q == '-' || *q == '+')) {
        neg = *q++ == '-';
    }
    const char *d0 = q;
    uint64_t m = 0; /* may wrap past 19 digits: such values take the slow path */
    while (q < e && (unsigned)(*q - '0') < 10) {
        m = m * 10 + (uint64_t)(*q++ - '0');
    }
    size_t nint = (size_t)(q - d0), nfrac = 0;
    bool dot = nint > 0 && q < e && *q == '.';
    if (dot) {
        const char *f0 = ++q;
        while (q < e && (unsigned)(*q - '0') < 10) {
            m = m * 10 + (uint64_t)(*q++ - '0');
        }
        nfrac = (size_t)(q - f0);
    }
    if (q < e && *q == '"' && nint > 0 && (!dot || nfrac > 0) && nint + nfrac <= 18) {
        out->m = neg ? -(int64_t)m : (int64_t)m;
        out->scale = (int32_t)nfrac;
        *text = (okx_str){c->p + 1, (uint32_t)(q - c->p - 1)};
        c->p = q + 1;
        return AT_OK;
    }
    return okx_scan_dec_slow(c, out, text);
}

/* An integer at c->p: a JSON number or a string of digits ("" is 0). A
 * plain one of <= 18 digits is parsed here; others, and every error, go
 * through okx_scan_val + okx_val_int. A bare number must end at a
 * separator and have no leading zero, or the strict grammar decides. */
static inline int okx_scan_int(okx_cur *c, int64_t *out)
{
    const char *q = c->p, *e = c->end;
    bool str = *q == '"';
    q += str;
    bool neg = q < e && *q == '-';
    q += neg;
    const char *d0 = q;
    uint64_t x = 0;
    while (q < e && (unsigned)(*q - '0') < 10) {
        x = x * 10 + (uint64_t)(*q++ - '0');
    }
    size_t nd = (size_t)(q - d0);
    if (nd > 0 && nd <= 18 && q < e &&
        (str ? *q == '"' : (*d0 != '0' || nd == 1) && (*q == ',' || *q == '}' || *q == ']'))) {
        *out = neg ? -(int64_t)x : (int64_t)x;
        c->p = q + str;
        return AT_OK;
    }
    return okx_scan_int_slow(c, out);
}

#endif

/* okx_md_fast: the busiest pushes (books updates, trades, tickers) in
 * OKX's canonical compact form, decoded in one straight pass.
 *
 * okx_md.c's general decoder walks any valid JSON: member by member,
 * whitespace anywhere, keys in any order, the cursor in memory. OKX writes
 * these three channels the same way every time, so this reader expects that
 * shape: the envelope and the books item as fixed text with the values
 * between, the items of trades and tickers as members in any order but
 * without whitespace. Every byte is still checked (fixed text compared,
 * strings scanned for escapes and control bytes, numbers validated digit by
 * digit) and every field decoded exactly as the general decoder decodes it,
 * using the same value readers where a value is unusual. At the first
 * byte that is not the expected shape it gives up (returns 0) without
 * concluding anything: okx_md_parse then runs the general decoder from the
 * start, which accepts, or refuses with the reason, as it always did. */
#include <limits.h>

#include "okx_md_fast.h"

#ifndef OKX_FAST
int okx_md_fast_parse(okx_md *md, const char *frame, size_t len, okx_md_msg *out)
{
    (void)md, (void)frame, (void)len, (void)out;
    return 0; /* no fast path on this target: the general decoder reads it */
}
#else

/* n (1..16) bytes at p equal to lit: two overlapping word loads a side,
 * the literal's folded into constants (libc's memcmp is called for some
 * sizes otherwise). */
OKX_HOT bool lit_eq(const char *p, const char *lit, size_t n)
{
    if (n >= 8) {
        uint64_t a, b, x, y;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        memcpy(&x, lit, 8);
        memcpy(&y, lit + n - 8, 8);
        return ((a ^ x) | (b ^ y)) == 0;
    }
    if (n >= 4) {
        uint32_t a, b, x, y;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        memcpy(&x, lit, 4);
        memcpy(&y, lit + n - 4, 4);
        return ((a ^ x) | (b ^ y)) == 0;
    }
    return memcmp(p, lit, n) == 0;
}

/* The fixed text lit at p, stepped over; otherwise the frame is not ours. */
#define EXPECT(lit)                                                                                \
    do {                                                                                           \
        _Static_assert(sizeof(lit) - 1 <= 16, "EXPECT: at most 16 bytes");                         \
        if ((size_t)(e - p) < sizeof(lit) - 1 || !lit_eq(p, lit, sizeof(lit) - 1)) {               \
            return 0;                                                                              \
        }                                                                                          \
        p += sizeof(lit) - 1;                                                                      \
    } while (0)

/* A value read by okx_md_scan's reader `call` (which takes a cursor): the
 * unusual spellings, exactly as the general decoder reads them. Those
 * readers expect a byte at the cursor: a frame that ends here is not ours. */
#define SLOW(call, ...)                                                                            \
    do {                                                                                           \
        if (p >= e) {                                                                              \
            return 0;                                                                              \
        }                                                                                          \
        okx_cur c_ = {p, e, base, md};                                                             \
        if (call(&c_, __VA_ARGS__) != AT_OK) {                                                     \
            return 0;                                                                              \
        }                                                                                          \
        p = c_.p;                                                                                  \
    } while (0)

/* The contents of a plain string (no escape) at q, just after its opening
 * quote: the view, and the byte after the closing quote; NULL otherwise. */
OKX_HOT const char *plain_str(const char *q, const char *e, okx_str *out)
{
    const char *s = q;
    while (e - s >= 16) {
        const char *t = okx_fast_plain(s);
        if (t) {
            if (*t != '"') {
                return NULL;
            }
            *out = (okx_str){q, (uint32_t)(t - q)};
            return t + 1;
        }
        s += 16;
    }
    while (s < e && !okx_scan_stop[(unsigned char)*s]) {
        s++;
    }
    if (s >= e || *s != '"') {
        return NULL;
    }
    *out = (okx_str){q, (uint32_t)(s - q)};
    return s + 1;
}

/* Keys as little-endian words, the first 8 bytes and the next 8, zero
 * past the end: loads from the literal padded with NULs, which the
 * compiler folds into constants. */
#define KEY_PAD "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
#define KEY_IS(lit)                                                                                \
    (k.n == sizeof(lit) - 1 && k.lo == okx_load64(lit KEY_PAD) &&                                  \
     (sizeof(lit) - 1 <= 8 || k.hi == okx_load64(&(lit KEY_PAD)[8])))

typedef struct fkey {
    uint64_t lo, hi;
    uint32_t n;
} fkey;

/* A member key of at most 15 bytes at p (its opening quote) and the ':'
 * right after it: the byte after the ':', or NULL. */
OKX_HOT const char *read_key(const char *p, const char *e, fkey *k)
{
    if (e - p < 17 || *p != '"') {
        return NULL;
    }
    const char *s = okx_fast_plain(p + 1);
    if (!s || *s != '"' || e - s < 2 || s[1] != ':') {
        return NULL;
    }
    k->n = (uint32_t)(s - p - 1);
    uint64_t lo = okx_load64(p + 1), hi = okx_load64(p + 9);
    k->lo = k->n >= 8 ? lo : lo & ((UINT64_C(1) << (8 * k->n)) - 1);
    k->hi = k->n <= 8 ? 0 : hi & ((UINT64_C(1) << (8 * (k->n - 8))) - 1);
    return s + 2;
}

/* A decimal value (a string) at p. */
#define DEC(dst)                                                                                   \
    do {                                                                                           \
        okx_str t_;                                                                                \
        SLOW(okx_fast_dec, (dst), &t_);                                                            \
    } while (0)

/* A string value at p. */
#define STR(dst)                                                                                   \
    do {                                                                                           \
        if (e - p < 1 || *p != '"' || !(p = plain_str(p + 1, e, (dst)))) {                         \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

/* A plain integer (JSON's "-?(0|[1-9][0-9]*)") at p that a separator
 * follows: the byte after it, or NULL for the general skipper to judge. */
OKX_HOT const char *plain_int_end(const char *p, const char *e, const char *base)
{
    const char *d = p + (p < e && *p == '-'), *q = d;
    if (e - d >= 1 && e - base >= 16) {
        q = d + __builtin_ctz(~okx_mask16_in(d, e).digit | 0x10000u);
    } else {
        while (q < e && (unsigned)(*q - '0') < 10) {
            q++;
        }
    }
    if (q == d || q - d >= 16 || (*d == '0' && q - d > 1) || q >= e ||
        (*q != ',' && *q != '}' && *q != ']')) {
        return NULL;
    }
    return q;
}

/* Any other value at p, validated and stepped over. */
#define SKIP()                                                                                     \
    do {                                                                                           \
        okx_str t_;                                                                                \
        const char *q_;                                                                            \
        if (p >= e) {                                                                              \
            return 0;                                                                              \
        }                                                                                          \
        if (*p == '"') {                                                                           \
            STR(&t_);                                                                              \
        } else if ((q_ = plain_int_end(p, e, base)) != NULL) {                                     \
            p = q_;                                                                                \
        } else {                                                                                   \
            okx_cur c_ = {p, e, base, md};                                                         \
            if (okx_scan_skip(&c_) != AT_OK) {                                                     \
                return 0;                                                                          \
            }                                                                                      \
            p = c_.p;                                                                              \
        }                                                                                          \
    } while (0)

/* okx_scan_i32: an integer (okx_fast_int) in the int32 range. */
#define I32(dst)                                                                                   \
    do {                                                                                           \
        int64_t v_;                                                                                \
        SLOW(okx_fast_int, &v_);                                                                   \
        if (v_ < INT32_MIN || v_ > INT32_MAX) {                                                    \
            return 0;                                                                              \
        }                                                                                          \
        *(dst) = (int32_t)v_;                                                                      \
    } while (0)

/* After a member: ',' (another follows, 1) or '}' (the object ends, 0). */
#define NEXT_MEMBER(more)                                                                          \
    do {                                                                                           \
        if (p < e && *p == ',') {                                                                  \
            p++;                                                                                   \
            (more) = 1;                                                                            \
        } else if (p < e && *p == '}') {                                                           \
            p++;                                                                                   \
            (more) = 0;                                                                            \
        } else {                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    } while (0)

/* The books data item from its first member to the end of the frame:
 * {"asks":[...],"bids":[...],"ts":"..","checksum":..,"prevSeqId":..,"seqId":..}]} */
OKX_HOT int book_item(okx_md *md, const char *base, const char *p, const char *e, okx_md_book *b)
{
    b->ts_ms = 0;
    b->checksum = 0;
    b->text_end = e;
    EXPECT("\"asks\":");
    SLOW(okx_scan_levels, b->asks, &b->nasks);
    EXPECT(",\"bids\":");
    SLOW(okx_scan_levels, b->bids, &b->nbids);
    EXPECT(",\"ts\":");
    SLOW(okx_fast_int, &b->ts_ms);
    EXPECT(",\"checksum\":");
    I32(&b->checksum);
    EXPECT(",\"prevSeqId\":");
    SLOW(okx_fast_int, &b->prev_seq_id);
    EXPECT(",\"seqId\":");
    SLOW(okx_fast_int, &b->seq_id);
    EXPECT("}]}");
    b->has_seq = b->has_prev_seq = true;
    return p == e;
}

OKX_HOT int trade_item(okx_md *md, const char *base, const char **pp, const char *e,
                       okx_md_trade *x)
{
    const char *p = *pp;
    okx_zero(x, sizeof *x);
    unsigned req = 0; /* px, sz, side, tradeId */
    for (int more = 1; more;) {
        fkey k;
        if (!(p = read_key(p, e, &k))) {
            return 0;
        }
        if (KEY_IS("px")) {
            DEC(&x->px);
            req |= 1;
        } else if (KEY_IS("sz")) {
            DEC(&x->sz);
            req |= 2;
        } else if (KEY_IS("side")) {
            okx_str sd;
            STR(&sd);
            if (okx_str_eq(sd, "buy")) {
                x->side = AT_SIDE_BUY;
            } else if (okx_str_eq(sd, "sell")) {
                x->side = AT_SIDE_SELL;
            } else {
                return 0;
            }
            req |= 4;
        } else if (KEY_IS("tradeId")) {
            STR(&x->trade_id);
            req |= 8;
        } else if (KEY_IS("ts")) {
            SLOW(okx_fast_int, &x->ts_ms);
        } else if (KEY_IS("count")) {
            I32(&x->count);
        } else if (KEY_IS("instId")) {
            STR(&x->inst_id);
        } else {
            SKIP();
        }
        NEXT_MEMBER(more);
    }
    *pp = p;
    return req == 15;
}

/* The ticker member k names, when it is one of the decimals. */
static inline at_dec *ticker_dec(okx_md_ticker *x, const fkey *kp)
{
    fkey k = *kp;
    switch (k.n) {
    case 4:
        return KEY_IS("last") ? &x->last : NULL;
    case 5:
        return KEY_IS("bidPx")   ? &x->bid
               : KEY_IS("bidSz") ? &x->bid_sz
               : KEY_IS("askPx") ? &x->ask
               : KEY_IS("askSz") ? &x->ask_sz
                                 : NULL;
    case 6:
        return KEY_IS("lastSz")   ? &x->last_sz
               : KEY_IS("low24h") ? &x->low24h
               : KEY_IS("vol24h") ? &x->vol24h
                                  : NULL;
    case 7:
        return KEY_IS("open24h") ? &x->open24h : KEY_IS("high24h") ? &x->high24h : NULL;
    case 9:
        return KEY_IS("volCcy24h") ? &x->vol_ccy24h : NULL;
    default:
        return NULL;
    }
}

OKX_HOT int ticker_item(okx_md *md, const char *base, const char **pp, const char *e,
                        okx_md_ticker *x)
{
    const char *p = *pp;
    okx_zero(x, sizeof *x);
    for (int more = 1; more;) {
        fkey k;
        if (!(p = read_key(p, e, &k))) {
            return 0;
        }
        at_dec *d = ticker_dec(x, &k);
        if (d) {
            DEC(d);
        } else if (KEY_IS("ts")) {
            SLOW(okx_fast_int, &x->ts_ms);
        } else if (KEY_IS("instId")) {
            STR(&x->inst_id);
        } else {
            SKIP();
        }
        NEXT_MEMBER(more);
    }
    *pp = p;
    return 1;
}

/* "data":[{...},...]} to the end of the frame, for trades and tickers. */
OKX_HOT int items(okx_md *md, const char *base, const char *p, const char *e, okx_md_msg *out)
{
    EXPECT("\"data\":[");
    uint32_t n = 0;
    for (int more = 1; more;) {
        if (n == OKX_MD_MAX_ITEMS || e - p < 1 || *p != '{') {
            return 0;
        }
        p++;
        int ok = out->channel == OKX_CH_TRADES ? trade_item(md, base, &p, e, &out->u.trades[n])
                                               : ticker_item(md, base, &p, e, &out->u.tickers[n]);
        if (!ok) {
            return 0;
        }
        n++;
        if (p < e && *p == ',') {
            p++;
        } else if (p < e && *p == ']') {
            p++;
            more = 0;
        } else {
            return 0;
        }
    }
    EXPECT("}");
    out->n_items = n;
    return p == e;
}

OKX_CLONES int okx_md_fast_parse(okx_md *md, const char *frame, size_t len, okx_md_msg *out)
{
    const char *p = frame, *e = frame + len, *base = frame;
    EXPECT("{\"arg\":{\"");
    EXPECT("channel\":\"");
    okx_str ch, inst;
    if (!(p = plain_str(p, e, &ch))) {
        return 0;
    }
    EXPECT(",\"instId\":\"");
    if (!(p = plain_str(p, e, &inst))) {
        return 0;
    }
    EXPECT("},");
    /* The channels okx_md.c's classify_channel maps to these kinds. */
    okx_md_channel kind;
    if (okx_str_eq(ch, "books") || okx_str_eq(ch, "books-l2-tbt") ||
        okx_str_eq(ch, "books50-l2-tbt") || okx_str_eq(ch, "books-rpi")) {
        kind = OKX_CH_BOOKS;
    } else if (okx_str_eq(ch, "trades") || okx_str_eq(ch, "trades-all")) {
        kind = OKX_CH_TRADES;
    } else if (okx_str_eq(ch, "tickers")) {
        kind = OKX_CH_TICKERS;
    } else {
        return 0;
    }
    out->kind = OKX_MD_DATA;
    out->has_arg = true;
    out->channel = kind;
    out->channel_name = ch;
    out->inst_id = inst;
    out->bar_s = 0;
    int ok;
    if (kind == OKX_CH_BOOKS) {
        okx_md_book *b = &out->u.book;
        EXPECT("\"action\":\"");
        if (e - p > 9 && lit_eq(p, "update\",", 8)) {
            b->action = OKX_ACT_UPDATE;
            p += 8;
        } else if (e - p > 10 && lit_eq(p, "snapshot\",", 10)) {
            b->action = OKX_ACT_SNAPSHOT;
            p += 10;
        } else {
            return 0;
        }
        EXPECT("\"data\":[{");
        ok = book_item(md, base, p, e, b);
        out->n_items = 1;
    } else {
        ok = items(md, base, p, e, out);
    }
    if (ok) {
        md->reason = NULL;
        md->err_off = -1;
    }
    return ok;
}
#endif

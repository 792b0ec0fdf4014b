/* okx_md: OKX WebSocket market-data frames -> typed structs, zero-copy.
 *
 * jsmn tokenizes the frame into the caller's token array (no allocation);
 * the walk below then checks every structural assumption itself, through
 * jsmn's parent links, because jsmn is a tokenizer and not a validator: a
 * key without a value or an object where a string belongs must come back as
 * an error, never as an out-of-range index. */
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "okx_md.h"

/* okx_md.h repeats jsmntok_t so that it does not include jsmn.h (which
 * would put jsmn's static functions into every includer). */
_Static_assert(sizeof(okx_md_tok) == sizeof(jsmntok_t), "okx_md_tok mirrors jsmntok_t");
_Static_assert(offsetof(okx_md_tok, start) == offsetof(jsmntok_t, start), "start");
_Static_assert(offsetof(okx_md_tok, end) == offsetof(jsmntok_t, end), "end");
_Static_assert(offsetof(okx_md_tok, size) == offsetof(jsmntok_t, size), "size");
_Static_assert(offsetof(okx_md_tok, parent) == offsetof(jsmntok_t, parent), "parent");

typedef struct scan {
    okx_md *p;
    const char *js;
    const jsmntok_t *t;
    int n; /* tokens */
} scan;

static int fail(scan *s, int rc, const char *reason, int tok)
{
    s->p->reason = reason;
    s->p->err_off = (tok >= 0 && tok < s->n) ? s->t[tok].start : -1;
    return rc;
}

#define FAIL(rc, reason, tok) return fail(s, (rc), (reason), (tok))

static inline okx_str view(const scan *s, int i)
{
    okx_str v = {s->js + s->t[i].start, (uint32_t)(s->t[i].end - s->t[i].start)};
    return v;
}

static inline bool is_scalar(const jsmntok_t *t)
{
    return t->type == JSMN_STRING || t->type == JSMN_PRIMITIVE;
}

/* Index of the token after i's subtree: tokens are in document order, so the
 * subtree is every following token that starts before i ends. */
static int skip(const scan *s, int i)
{
    if (is_scalar(&s->t[i])) {
        return i + 1;
    }
    int j = i + 1;
    while (j < s->n && s->t[j].start < s->t[i].end) {
        j++;
    }
    return j;
}

static inline bool key_is(const scan *s, int k, const char *lit, size_t n)
{
    return (size_t)(s->t[k].end - s->t[k].start) == n && memcmp(s->js + s->t[k].start, lit, n) == 0;
}
#define KEY(lit) key_is(s, k, lit, sizeof(lit) - 1)

/* ---- numbers ------------------------------------------------------- */

/* host->dec_parse keeps the written scale when the value fits, so for
 * "[+-]D+[.D+]" with at most 18 digits in all (< 10^18, always fits) the
 * result is simply m = the digits, scale = digits after the point. Every
 * other spelling (exponent, more digits, junk) goes to dec_parse itself, so
 * the two can never disagree. */
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

/* A decimal held in a JSON string; "" is "absent" and gives {0, 0}. */
static int get_dec(scan *s, int i, at_dec *out)
{
    if (s->t[i].type != JSMN_STRING) {
        FAIL(AT_EINVAL, "decimal field is not a string", i);
    }
    int len = s->t[i].end - s->t[i].start;
    if (len == 0) {
        out->m = 0;
        out->scale = 0;
        return AT_OK;
    }
    int rc = okx_md_dec(s->p->host, s->js + s->t[i].start, (size_t)len, out);
    if (rc != AT_OK) {
        FAIL(rc, rc == AT_ERANGE ? "decimal out of range" : "malformed decimal", i);
    }
    return AT_OK;
}

/* An integer written as a JSON number or a string of digits ("ts", "code",
 * seqId ...); "" gives 0. */
static int get_int(scan *s, int i, int64_t *out)
{
    const jsmntok_t *t = &s->t[i];
    if (!is_scalar(t)) {
        FAIL(AT_EINVAL, "integer field is not a number or string", i);
    }
    const char *c = s->js + t->start;
    int len = t->end - t->start;
    if (len == 0 && t->type == JSMN_STRING) {
        *out = 0;
        return AT_OK;
    }
    int k = 0;
    bool neg = false;
    if (len > 0 && c[0] == '-') {
        neg = true;
        k = 1;
    }
    if (k == len) {
        FAIL(AT_EINVAL, "malformed integer", i);
    }
    uint64_t v = 0;
    for (; k < len; k++) {
        unsigned d = (unsigned)(c[k] - '0');
        if (d > 9) {
            FAIL(AT_EINVAL, "malformed integer", i);
        }
        if (v > (UINT64_C(9223372036854775808) - d) / 10) {
            FAIL(AT_ERANGE, "integer out of range", i);
        }
        v = v * 10 + d;
    }
    if (!neg && v > (uint64_t)INT64_MAX) {
        FAIL(AT_ERANGE, "integer out of range", i);
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return AT_OK;
}

static int get_i32(scan *s, int i, int32_t *out)
{
    int64_t v;
    int rc = get_int(s, i, &v);
    if (rc != AT_OK) {
        return rc;
    }
    if (v < INT32_MIN || v > INT32_MAX) {
        FAIL(AT_ERANGE, "integer out of 32-bit range", i);
    }
    *out = (int32_t)v;
    return AT_OK;
}

static int get_str(scan *s, int i, okx_str *out)
{
    if (s->t[i].type != JSMN_STRING) {
        FAIL(AT_EINVAL, "field is not a string", i);
    }
    *out = view(s, i);
    return AT_OK;
}

/* ---- structure ----------------------------------------------------- */

/* Iterate the key/value pairs of object o: *k is the key, returns the value
 * index, or a negative error. Checks the pair really belongs to o. */
static int pair(scan *s, int o, int k)
{
    if (k >= s->n || s->t[k].parent != o || s->t[k].type != JSMN_STRING || s->t[k].size != 1) {
        FAIL(AT_EINVAL, "malformed object member", k < s->n ? k : o);
    }
    int v = k + 1;
    if (v >= s->n || s->t[v].parent != k) {
        FAIL(AT_EINVAL, "object key without a value", k);
    }
    return v;
}

#define FOR_PAIRS(o)                                                                               \
    for (int k_i = 0, k = (o) + 1, v = 0; k_i < s->t[o].size; k_i++, k = skip(s, v))               \
        if ((v = pair(s, (o), k)) < 0) {                                                           \
            return v;                                                                              \
        } else

/* Element e of array a (e is the token index the caller walked to). */
static int elem(scan *s, int a, int e)
{
    if (e >= s->n || s->t[e].parent != a) {
        FAIL(AT_EINVAL, "malformed array", a);
    }
    return e;
}

static int64_t bar_seconds(okx_str b)
{
    /* candle<N><unit>[utc]: 1s 1m 3m ... 1H 2H 4H 6H 12H 1D 2D 3D 5D 1W 1M 3M */
    uint32_t i = 0;
    int64_t n = 0;
    while (i < b.n && i < 4 && (unsigned)(b.p[i] - '0') < 10) {
        n = n * 10 + (b.p[i] - '0');
        i++;
    }
    if (n == 0 || i + 1 > b.n) {
        return 0;
    }
    int64_t unit;
    switch (b.p[i]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'H':
        unit = 3600;
        break;
    case 'D':
        unit = 86400;
        break;
    case 'W':
        unit = 7 * 86400;
        break;
    case 'M':
        unit = 30 * 86400; /* a calendar month; 30 d is the nominal length */
        break;
    default:
        return 0;
    }
    okx_str rest = {b.p + i + 1, b.n - i - 1};
    if (rest.n != 0 && !okx_str_eq(rest, "utc")) {
        return 0;
    }
    return n * unit;
}

static okx_md_channel classify_channel(okx_str c, int64_t *bar_s)
{
    *bar_s = 0;
    switch (c.n) {
    case 5:
        if (okx_str_eq(c, "books")) {
            return OKX_CH_BOOKS;
        }
        break;
    case 6:
        if (okx_str_eq(c, "books5")) {
            return OKX_CH_BOOKS5;
        }
        if (okx_str_eq(c, "trades")) {
            return OKX_CH_TRADES;
        }
        break;
    case 7:
        if (okx_str_eq(c, "tickers")) {
            return OKX_CH_TICKERS;
        }
        if (okx_str_eq(c, "bbo-tbt")) {
            return OKX_CH_BBO_TBT;
        }
        break;
    case 9:
        if (okx_str_eq(c, "books-rpi")) {
            return OKX_CH_BOOKS;
        }
        break;
    case 10:
        if (okx_str_eq(c, "mark-price")) {
            return OKX_CH_MARK_PRICE;
        }
        if (okx_str_eq(c, "trades-all")) {
            return OKX_CH_TRADES;
        }
        break;
    case 12:
        if (okx_str_eq(c, "funding-rate")) {
            return OKX_CH_FUNDING_RATE;
        }
        if (okx_str_eq(c, "books-l2-tbt")) {
            return OKX_CH_BOOKS;
        }
        break;
    case 14:
        if (okx_str_eq(c, "books50-l2-tbt")) {
            return OKX_CH_BOOKS;
        }
        break;
    default:
        break;
    }
    if (c.n > 6 && memcmp(c.p, "candle", 6) == 0) {
        okx_str b = {c.p + 6, c.n - 6};
        *bar_s = bar_seconds(b);
        if (*bar_s > 0) {
            return OKX_CH_CANDLE;
        }
    }
    return OKX_CH_OTHER;
}

static int parse_arg(scan *s, int o, okx_md_msg *out)
{
    if (s->t[o].type != JSMN_OBJECT) {
        FAIL(AT_EINVAL, "\"arg\" is not an object", o);
    }
    bool have_channel = false;
    FOR_PAIRS(o)
    {
        int rc = AT_OK;
        if (KEY("channel")) {
            rc = get_str(s, v, &out->channel_name);
            have_channel = true;
        } else if (KEY("instId")) {
            rc = get_str(s, v, &out->inst_id);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (!have_channel) {
        FAIL(AT_EINVAL, "\"arg\" without \"channel\"", o);
    }
    out->has_arg = true;
    out->channel = classify_channel(out->channel_name, &out->bar_s);
    return AT_OK;
}

/* ---- books --------------------------------------------------------- */

/* [[px, sz, liquidated, orders], ...]; returns the index after the array. */
static int parse_levels(scan *s, int a, okx_md_level *lv, uint32_t *nout)
{
    if (s->t[a].type != JSMN_ARRAY) {
        FAIL(AT_EINVAL, "book side is not an array", a);
    }
    int n = s->t[a].size;
    if (n > OKX_MD_MAX_LEVELS) {
        FAIL(AT_ERANGE, "more book levels than supported", a);
    }
    int e = a + 1;
    for (int i = 0; i < n; i++) {
        int l = elem(s, a, e);
        if (l < 0) {
            return l;
        }
        const jsmntok_t *t = &s->t[l];
        int m = t->size;
        if (t->type != JSMN_ARRAY || m < 2 || l + m >= s->n) {
            FAIL(AT_EINVAL, "book level is not an array of at least [px, sz]", l);
        }
        /* A level holds scalars only: its tokens are exactly l+1 .. l+m. */
        for (int c = 1; c <= m; c++) {
            if (s->t[l + c].parent != l || !is_scalar(&s->t[l + c])) {
                FAIL(AT_EINVAL, "book level element is not a string", l + c);
            }
        }
        okx_md_level *d = &lv[i];
        int rc = get_dec(s, l + 1, &d->px);
        if (rc == AT_OK) {
            rc = get_dec(s, l + 2, &d->sz);
        }
        if (rc != AT_OK) {
            return rc;
        }
        if (s->t[l + 1].end == s->t[l + 1].start || s->t[l + 2].end == s->t[l + 2].start) {
            FAIL(AT_EINVAL, "empty price or size in a book level", l);
        }
        if (d->px.m <= 0 || d->sz.m < 0) {
            FAIL(AT_EINVAL, "book level with a non-positive price or negative size", l);
        }
        d->px_s = view(s, l + 1);
        d->sz_s = view(s, l + 2);
        d->orders = 0;
        if (m >= 4 && (rc = get_i32(s, l + 4, &d->orders)) != AT_OK) {
            return rc;
        }
        e = l + 1 + m;
    }
    *nout = (uint32_t)n;
    return e;
}

static int parse_book(scan *s, int o, okx_md_book *b)
{
    if (s->t[o].type != JSMN_OBJECT) {
        FAIL(AT_EINVAL, "books data item is not an object", o);
    }
    b->nbids = b->nasks = 0;
    b->ts_ms = 0;
    b->seq_id = b->prev_seq_id = 0;
    b->has_seq = b->has_prev_seq = false;
    b->checksum = 0;
    bool have_bids = false, have_asks = false;
    for (int k_i = 0, k = o + 1; k_i < s->t[o].size; k_i++) {
        int v = pair(s, o, k);
        if (v < 0) {
            return v;
        }
        int rc = AT_OK;
        int next = 0; /* token after the value, when the decoder walked it */
        if (KEY("asks")) {
            next = rc = parse_levels(s, v, b->asks, &b->nasks);
            have_asks = true;
        } else if (KEY("bids")) {
            next = rc = parse_levels(s, v, b->bids, &b->nbids);
            have_bids = true;
        } else if (KEY("ts")) {
            rc = get_int(s, v, &b->ts_ms);
        } else if (KEY("seqId")) {
            rc = get_int(s, v, &b->seq_id);
            b->has_seq = true;
        } else if (KEY("prevSeqId")) {
            rc = get_int(s, v, &b->prev_seq_id);
            b->has_prev_seq = true;
        } else if (KEY("checksum")) {
            rc = get_i32(s, v, &b->checksum);
        }
        if (rc < 0) {
            return rc;
        }
        k = next > 0 ? next : skip(s, v);
    }
    if (!have_bids || !have_asks) {
        FAIL(AT_EINVAL, "books data item without \"bids\" and \"asks\"", o);
    }
    return AT_OK;
}

/* ---- other channels ------------------------------------------------ */

#define REQ(bit) (req |= (bit))

static int parse_ticker(scan *s, int o, okx_md_ticker *x)
{
    memset(x, 0, sizeof *x);
    FOR_PAIRS(o)
    {
        int rc = AT_OK;
        if (KEY("last")) {
            rc = get_dec(s, v, &x->last);
        } else if (KEY("lastSz")) {
            rc = get_dec(s, v, &x->last_sz);
        } else if (KEY("bidPx")) {
            rc = get_dec(s, v, &x->bid);
        } else if (KEY("bidSz")) {
            rc = get_dec(s, v, &x->bid_sz);
        } else if (KEY("askPx")) {
            rc = get_dec(s, v, &x->ask);
        } else if (KEY("askSz")) {
            rc = get_dec(s, v, &x->ask_sz);
        } else if (KEY("open24h")) {
            rc = get_dec(s, v, &x->open24h);
        } else if (KEY("high24h")) {
            rc = get_dec(s, v, &x->high24h);
        } else if (KEY("low24h")) {
            rc = get_dec(s, v, &x->low24h);
        } else if (KEY("vol24h")) {
            rc = get_dec(s, v, &x->vol24h);
        } else if (KEY("volCcy24h")) {
            rc = get_dec(s, v, &x->vol_ccy24h);
        } else if (KEY("ts")) {
            rc = get_int(s, v, &x->ts_ms);
        } else if (KEY("instId")) {
            rc = get_str(s, v, &x->inst_id);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    return AT_OK;
}

static int parse_trade(scan *s, int o, okx_md_trade *x)
{
    memset(x, 0, sizeof *x);
    unsigned req = 0;
    FOR_PAIRS(o)
    {
        int rc = AT_OK;
        if (KEY("px")) {
            rc = get_dec(s, v, &x->px);
            REQ(1);
        } else if (KEY("sz")) {
            rc = get_dec(s, v, &x->sz);
            REQ(2);
        } else if (KEY("side")) {
            okx_str sd;
            rc = get_str(s, v, &sd);
            if (rc == AT_OK) {
                if (okx_str_eq(sd, "buy")) {
                    x->side = AT_SIDE_BUY;
                } else if (okx_str_eq(sd, "sell")) {
                    x->side = AT_SIDE_SELL;
                } else {
                    FAIL(AT_EINVAL, "trade side is neither buy nor sell", v);
                }
            }
            REQ(4);
        } else if (KEY("tradeId")) {
            rc = get_str(s, v, &x->trade_id);
            REQ(8);
        } else if (KEY("ts")) {
            rc = get_int(s, v, &x->ts_ms);
        } else if (KEY("count")) {
            rc = get_i32(s, v, &x->count);
        } else if (KEY("instId")) {
            rc = get_str(s, v, &x->inst_id);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (req != 15) {
        FAIL(AT_EINVAL, "trade without px, sz, side and tradeId", o);
    }
    return AT_OK;
}

static int parse_mark(scan *s, int o, okx_md_mark *x)
{
    memset(x, 0, sizeof *x);
    unsigned req = 0;
    FOR_PAIRS(o)
    {
        int rc = AT_OK;
        if (KEY("markPx")) {
            rc = get_dec(s, v, &x->mark_px);
            REQ(1);
        } else if (KEY("ts")) {
            rc = get_int(s, v, &x->ts_ms);
        } else if (KEY("instId")) {
            rc = get_str(s, v, &x->inst_id);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (req != 1) {
        FAIL(AT_EINVAL, "mark-price item without markPx", o);
    }
    return AT_OK;
}

static int parse_funding(scan *s, int o, okx_md_funding *x)
{
    memset(x, 0, sizeof *x);
    FOR_PAIRS(o)
    {
        int rc = AT_OK;
        if (KEY("fundingRate")) {
            rc = get_dec(s, v, &x->rate);
            x->has_rate = s->t[v].end > s->t[v].start;
        } else if (KEY("nextFundingRate")) {
            rc = get_dec(s, v, &x->next_rate);
            x->has_next_rate = s->t[v].end > s->t[v].start;
        } else if (KEY("fundingTime")) {
            rc = get_int(s, v, &x->funding_ms);
        } else if (KEY("nextFundingTime")) {
            rc = get_int(s, v, &x->next_funding_ms);
        } else if (KEY("ts")) {
            rc = get_int(s, v, &x->ts_ms);
        } else if (KEY("instId")) {
            rc = get_str(s, v, &x->inst_id);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    return AT_OK;
}

static int parse_candle(scan *s, int a, okx_md_candle *x)
{
    memset(x, 0, sizeof *x);
    const jsmntok_t *t = &s->t[a];
    if (t->type != JSMN_ARRAY || t->size < 6) {
        FAIL(AT_EINVAL, "candle is not an array of at least 6 strings", a);
    }
    int m = t->size;
    for (int c = 1; c <= m; c++) {
        if (a + c >= s->n || s->t[a + c].parent != a || s->t[a + c].type != JSMN_STRING) {
            FAIL(AT_EINVAL, "candle element is not a string", a + c < s->n ? a + c : a);
        }
    }
    at_dec *dst[7] = {&x->o, &x->h, &x->l, &x->c, &x->vol, &x->vol_ccy, &x->vol_ccy_quote};
    int rc = get_int(s, a + 1, &x->open_ms);
    for (int c = 2; rc == AT_OK && c <= m && c <= 8; c++) {
        rc = get_dec(s, a + c, dst[c - 2]);
    }
    if (rc != AT_OK) {
        return rc;
    }
    if (m >= 9) {
        okx_str cf = view(s, a + 9);
        x->confirmed = okx_str_eq(cf, "1");
    }
    return AT_OK;
}

static int parse_data(scan *s, int d, okx_md_msg *out)
{
    if (s->t[d].type != JSMN_ARRAY) {
        FAIL(AT_EINVAL, "\"data\" is not an array", d);
    }
    int n = s->t[d].size;
    switch (out->channel) {
    case OKX_CH_BOOKS:
    case OKX_CH_BOOKS5:
    case OKX_CH_BBO_TBT: {
        if (n != 1) {
            FAIL(AT_EINVAL, "books push without exactly one data item", d);
        }
        int e = elem(s, d, d + 1);
        if (e < 0) {
            return e;
        }
        out->n_items = 1;
        return parse_book(s, e, &out->u.book);
    }
    case OKX_CH_OTHER:
        out->n_items = 0;
        return AT_OK;
    default:
        break;
    }
    if (n > OKX_MD_MAX_ITEMS) {
        FAIL(AT_ERANGE, "more data items than supported", d);
    }
    int e = d + 1;
    for (int i = 0; i < n; i++) {
        int it = elem(s, d, e);
        if (it < 0) {
            return it;
        }
        int rc;
        if (out->channel == OKX_CH_CANDLE) {
            rc = parse_candle(s, it, &out->u.candles[i]);
        } else if (s->t[it].type != JSMN_OBJECT) {
            FAIL(AT_EINVAL, "data item is not an object", it);
        } else if (out->channel == OKX_CH_TICKERS) {
            rc = parse_ticker(s, it, &out->u.tickers[i]);
        } else if (out->channel == OKX_CH_TRADES) {
            rc = parse_trade(s, it, &out->u.trades[i]);
        } else if (out->channel == OKX_CH_MARK_PRICE) {
            rc = parse_mark(s, it, &out->u.marks[i]);
        } else {
            rc = parse_funding(s, it, &out->u.funding[i]);
        }
        if (rc != AT_OK) {
            return rc;
        }
        e = skip(s, it);
    }
    out->n_items = (uint32_t)n;
    return AT_OK;
}

static okx_md_event classify_event(okx_str e)
{
    if (okx_str_eq(e, "subscribe")) {
        return OKX_EVT_SUBSCRIBE;
    }
    if (okx_str_eq(e, "unsubscribe")) {
        return OKX_EVT_UNSUBSCRIBE;
    }
    if (okx_str_eq(e, "error")) {
        return OKX_EVT_ERROR;
    }
    if (okx_str_eq(e, "login")) {
        return OKX_EVT_LOGIN;
    }
    if (okx_str_eq(e, "notice")) {
        return OKX_EVT_NOTICE;
    }
    if (okx_str_eq(e, "channel-conn-count") || okx_str_eq(e, "channel-conn-count-error")) {
        return OKX_EVT_CONN_COUNT;
    }
    return OKX_EVT_OTHER;
}

static inline bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void okx_md_init(okx_md *p, const at_host *host)
{
    p->host = host;
    p->reason = NULL;
    p->err_off = -1;
}

const char *okx_md_reason(const okx_md *p)
{
    return p->reason ? p->reason : "";
}

static void clear_msg(okx_md_msg *out)
{
    /* Only the header: the union is large and each decoder fills its part. */
    out->kind = OKX_MD_NONE;
    out->event = OKX_EVT_OTHER;
    out->event_name = out->msg = out->conn_id = out->id = (okx_str){NULL, 0};
    out->code = 0;
    out->has_arg = false;
    out->channel = OKX_CH_OTHER;
    out->channel_name = out->inst_id = (okx_str){NULL, 0};
    out->bar_s = 0;
    out->n_items = 0;
}

int okx_md_parse(okx_md *p, const char *frame, size_t len, okx_md_msg *out)
{
    scan sc = {p, frame, (const jsmntok_t *)(const void *)p->tok, 0};
    scan *s = &sc;
    p->reason = NULL;
    p->err_off = -1;
    clear_msg(out);
    if (frame == NULL || len == 0) {
        FAIL(AT_EINVAL, "empty frame", -1);
    }
    if (len > (size_t)INT_MAX) {
        FAIL(AT_ERANGE, "frame too large", -1);
    }
    if (len == 4 && memcmp(frame, "pong", 4) == 0) {
        out->kind = OKX_MD_PONG;
        return AT_OK;
    }
    jsmn_parser jp;
    jsmn_init(&jp);
    int r = jsmn_parse(&jp, frame, len, (jsmntok_t *)(void *)p->tok, OKX_MD_MAX_TOKENS);
    if (r < 0) {
        p->err_off = (int)jp.pos;
        p->reason = r == JSMN_ERROR_NOMEM  ? "frame has more JSON tokens than supported"
                    : r == JSMN_ERROR_PART ? "truncated JSON"
                                           : "invalid JSON";
        return r == JSMN_ERROR_NOMEM ? AT_ERANGE : AT_EINVAL;
    }
    s->n = r;
    if (r < 1 || s->t[0].type != JSMN_OBJECT) {
        FAIL(AT_EINVAL, "frame is not a JSON object", 0);
    }
    /* jsmn stops at a NUL and happily reads "{}{}": the root must span the
     * whole frame, give or take whitespace. */
    for (size_t i = (size_t)s->t[0].end; i < len; i++) {
        if (!is_ws(frame[i])) {
            p->err_off = (int)i;
            p->reason = "trailing bytes after the JSON object";
            return AT_EINVAL;
        }
    }

    int ev = -1, arg = -1, action = -1, data = -1, code = -1, msg = -1, conn = -1, id = -1;
    FOR_PAIRS(0)
    {
        switch (s->t[k].end - s->t[k].start) {
        case 2:
            if (KEY("id")) {
                id = v;
            }
            break;
        case 3:
            if (KEY("arg")) {
                arg = v;
            } else if (KEY("msg")) {
                msg = v;
            }
            break;
        case 4:
            if (KEY("data")) {
                data = v;
            } else if (KEY("code")) {
                code = v;
            }
            break;
        case 5:
            if (KEY("event")) {
                ev = v;
            }
            break;
        case 6:
            if (KEY("action")) {
                action = v;
            } else if (KEY("connId")) {
                conn = v;
            }
            break;
        default:
            break;
        }
    }

    int rc = AT_OK;
    if (id >= 0 && (rc = get_str(s, id, &out->id)) != AT_OK) {
        return rc;
    }
    if (conn >= 0 && (rc = get_str(s, conn, &out->conn_id)) != AT_OK) {
        return rc;
    }
    if (ev >= 0) {
        out->kind = OKX_MD_EVENT;
        if ((rc = get_str(s, ev, &out->event_name)) != AT_OK) {
            return rc;
        }
        out->event = classify_event(out->event_name);
        if (code >= 0 && (rc = get_i32(s, code, &out->code)) != AT_OK) {
            return rc;
        }
        if (msg >= 0 && (rc = get_str(s, msg, &out->msg)) != AT_OK) {
            return rc;
        }
        if (arg >= 0 && (rc = parse_arg(s, arg, out)) != AT_OK) {
            return rc;
        }
        return AT_OK;
    }
    if (arg < 0) {
        FAIL(AT_EINVAL, data >= 0 ? "data push without \"arg\"" : "neither \"event\" nor \"arg\"",
             0);
    }
    if ((rc = parse_arg(s, arg, out)) != AT_OK) {
        return rc;
    }
    if (data < 0) {
        FAIL(AT_EINVAL, "push without \"data\"", 0);
    }
    out->kind = OKX_MD_DATA;
    okx_md_action act = OKX_ACT_NONE;
    if (action >= 0) {
        okx_str a;
        if ((rc = get_str(s, action, &a)) != AT_OK) {
            return rc;
        }
        if (okx_str_eq(a, "snapshot")) {
            act = OKX_ACT_SNAPSHOT;
        } else if (okx_str_eq(a, "update")) {
            act = OKX_ACT_UPDATE;
        } else {
            FAIL(AT_EINVAL, "unknown \"action\"", action);
        }
    }
    if (out->channel == OKX_CH_BOOKS && act == OKX_ACT_NONE) {
        FAIL(AT_EINVAL, "books push without \"action\"", 0);
    }
    if ((rc = parse_data(s, data, out)) != AT_OK) {
        return rc;
    }
    if (out->channel == OKX_CH_BOOKS || out->channel == OKX_CH_BOOKS5 ||
        out->channel == OKX_CH_BBO_TBT) {
        out->u.book.action = act;
    }
    return AT_OK;
}

/* okx_md: OKX WebSocket market-data frames -> typed structs, zero-copy.
 *
 * One pass over the bytes (okx_md_scan.h): each decoder below reads its
 * object's members in document order, recognises the keys it wants by
 * length and bytes, parses their values in place and steps over the rest
 * with a validating skipper. So every byte is checked once, there is no
 * token array to fill and walk again, and a wrong type, a missing member or
 * a frame cut short comes back as AT_EINVAL/AT_ERANGE with a reason and the
 * offset where it was found. */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "okx_md.h"
#include "okx_md_fast.h"

#define FAIL(rc, reason, at) return okx_cur_fail(c, (rc), (reason), (at))

/* Key comparison against a literal: a length check, then a small memcmp
 * the compiler turns into one or two loads. */
#define KEY(lit) (key.n == sizeof(lit) - 1 && memcmp(key.p, lit, sizeof(lit) - 1) == 0)

/* Iterates the members of the object whose '{' was just consumed; the body
 * must consume the value at c->p (decode it or okx_scan_skip). */
#define FOR_MEMBERS(c, key)                                                                        \
    for (int st_ = 0, r_; (r_ = okx_fast_member((c), &st_, &(key))) != 0;)                         \
        if (r_ < 0) {                                                                              \
            return r_;                                                                             \
        } else

/* Consumes the bracket `ch` at c->p, or fails with `reason`. */
static int open_at(okx_cur *c, char ch, const char *reason)
{
    if (*c->p != ch) {
        FAIL(AT_EINVAL, reason, c->p);
    }
    c->p++;
    return AT_OK;
}

/* Value readers: read the value at c->p, then convert it. */
static int read_dec(okx_cur *c, at_dec *out)
{
    okx_str text;
    return okx_fast_dec(c, out, &text);
}

static int read_str(okx_cur *c, okx_str *out)
{
    if (*c->p != '"') {
        FAIL(AT_EINVAL, "field is not a string", c->p);
    }
    return okx_fast_str(c, out);
}

/* ---- arg ----------------------------------------------------------- */

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

#define NAMED(lit, v)                                                                              \
    {                                                                                              \
        lit, sizeof(lit) - 1, v                                                                    \
    }
static okx_md_channel classify_channel(okx_str c, int64_t *bar_s)
{
    static const struct {
        const char *name;
        uint32_t n;
        okx_md_channel ch;
    } names[] = {
        NAMED("books", OKX_CH_BOOKS),
        NAMED("trades", OKX_CH_TRADES),
        NAMED("tickers", OKX_CH_TICKERS),
        NAMED("books5", OKX_CH_BOOKS5),
        NAMED("bbo-tbt", OKX_CH_BBO_TBT),
        NAMED("books-rpi", OKX_CH_BOOKS),
        NAMED("mark-price", OKX_CH_MARK_PRICE),
        NAMED("trades-all", OKX_CH_TRADES),
        NAMED("funding-rate", OKX_CH_FUNDING_RATE),
        NAMED("books-l2-tbt", OKX_CH_BOOKS),
        NAMED("books50-l2-tbt", OKX_CH_BOOKS),
    };
    *bar_s = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (c.n == names[i].n && memcmp(c.p, names[i].name, c.n) == 0) {
            return names[i].ch;
        }
    }
    if (c.n > 6 && memcmp(c.p, "candle", 6) == 0) {
        *bar_s = bar_seconds((okx_str){c.p + 6, c.n - 6});
        if (*bar_s > 0) {
            return OKX_CH_CANDLE;
        }
    }
    return OKX_CH_OTHER;
}

static int parse_arg(okx_cur *c, okx_md_msg *out)
{
    const char *at = c->p;
    int rc = open_at(c, '{', "\"arg\" is not an object");
    if (rc != AT_OK) {
        return rc;
    }
    bool have_channel = false;
    out->inst_id = (okx_str){NULL, 0};
    okx_str key;
    FOR_MEMBERS(c, key)
    {
        if (KEY("channel")) {
            rc = read_str(c, &out->channel_name);
            have_channel = true;
        } else if (KEY("instId")) {
            rc = read_str(c, &out->inst_id);
        } else {
            rc = okx_scan_skip(c);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (!have_channel) {
        FAIL(AT_EINVAL, "\"arg\" without \"channel\"", at);
    }
    out->has_arg = true;
    out->channel = classify_channel(out->channel_name, &out->bar_s);
    return AT_OK;
}

/* ---- books --------------------------------------------------------- */

static int parse_book(okx_cur *c, okx_md_book *b)
{
    const char *at = c->p;
    int rc = open_at(c, '{', "books data item is not an object");
    if (rc != AT_OK) {
        return rc;
    }
    b->nbids = b->nasks = 0;
    b->ts_ms = 0;
    b->seq_id = b->prev_seq_id = 0;
    b->has_seq = b->has_prev_seq = false;
    b->checksum = 0;
    b->text_end = c->end;
    bool have_bids = false, have_asks = false;
    okx_str key;
    FOR_MEMBERS(c, key)
    {
        if (KEY("asks")) {
            rc = okx_scan_levels(c, b->asks, &b->nasks);
            have_asks = true;
        } else if (KEY("bids")) {
            rc = okx_scan_levels(c, b->bids, &b->nbids);
            have_bids = true;
        } else if (KEY("ts")) {
            rc = okx_fast_int(c, &b->ts_ms);
        } else if (KEY("seqId")) {
            rc = okx_fast_int(c, &b->seq_id);
            b->has_seq = true;
        } else if (KEY("prevSeqId")) {
            rc = okx_fast_int(c, &b->prev_seq_id);
            b->has_prev_seq = true;
        } else if (KEY("checksum")) {
            rc = okx_scan_i32(c, &b->checksum);
        } else {
            rc = okx_scan_skip(c);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (!have_bids || !have_asks) {
        FAIL(AT_EINVAL, "books data item without \"bids\" and \"asks\"", at);
    }
    return AT_OK;
}

/* ---- other channels ------------------------------------------------ */

/* The ticker member `key` names, when it is one of the decimals. */
static at_dec *ticker_dec(okx_md_ticker *x, okx_str key)
{
    switch (key.n) {
    case 4:
        return KEY("last") ? &x->last : NULL;
    case 5:
        return KEY("bidPx")   ? &x->bid
               : KEY("bidSz") ? &x->bid_sz
               : KEY("askPx") ? &x->ask
               : KEY("askSz") ? &x->ask_sz
                              : NULL;
    case 6:
        return KEY("lastSz")   ? &x->last_sz
               : KEY("low24h") ? &x->low24h
               : KEY("vol24h") ? &x->vol24h
                               : NULL;
    case 7:
        return KEY("open24h") ? &x->open24h : KEY("high24h") ? &x->high24h : NULL;
    case 9:
        return KEY("volCcy24h") ? &x->vol_ccy24h : NULL;
    default:
        return NULL;
    }
}

static int parse_ticker(okx_cur *c, okx_md_ticker *x)
{
    okx_zero(x, sizeof *x);
    okx_str key;
    FOR_MEMBERS(c, key)
    {
        int rc;
        at_dec *d = ticker_dec(x, key);
        if (d) {
            rc = read_dec(c, d);
        } else if (KEY("ts")) {
            rc = okx_fast_int(c, &x->ts_ms);
        } else if (KEY("instId")) {
            rc = read_str(c, &x->inst_id);
        } else {
            rc = okx_scan_skip(c);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    return AT_OK;
}

static int read_side(okx_cur *c, at_side *side)
{
    const char *at = c->p;
    okx_str sd;
    int rc = read_str(c, &sd);
    if (rc != AT_OK) {
        return rc;
    }
    if (okx_str_eq(sd, "buy")) {
        *side = AT_SIDE_BUY;
    } else if (okx_str_eq(sd, "sell")) {
        *side = AT_SIDE_SELL;
    } else {
        FAIL(AT_EINVAL, "trade side is neither buy nor sell", at);
    }
    return AT_OK;
}

static int parse_trade(okx_cur *c, okx_md_trade *x)
{
    const char *at = c->p - 1;
    memset(x, 0, sizeof *x);
    unsigned req = 0; /* px, sz, side, tradeId */
    okx_str key;
    FOR_MEMBERS(c, key)
    {
        int rc;
        if (KEY("px")) {
            rc = read_dec(c, &x->px);
            req |= 1;
        } else if (KEY("sz")) {
            rc = read_dec(c, &x->sz);
            req |= 2;
        } else if (KEY("side")) {
            rc = read_side(c, &x->side);
            req |= 4;
        } else if (KEY("tradeId")) {
            rc = read_str(c, &x->trade_id);
            req |= 8;
        } else if (KEY("ts")) {
            rc = okx_fast_int(c, &x->ts_ms);
        } else if (KEY("count")) {
            rc = okx_scan_i32(c, &x->count);
        } else if (KEY("instId")) {
            rc = read_str(c, &x->inst_id);
        } else {
            rc = okx_scan_skip(c);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (req != 15) {
        FAIL(AT_EINVAL, "trade without px, sz, side and tradeId", at);
    }
    return AT_OK;
}

static int parse_mark(okx_cur *c, okx_md_mark *x)
{
    const char *at = c->p - 1;
    memset(x, 0, sizeof *x);
    bool have_px = false;
    okx_str key;
    FOR_MEMBERS(c, key)
    {
        int rc;
        if (KEY("markPx")) {
            rc = read_dec(c, &x->mark_px);
            have_px = true;
        } else if (KEY("ts")) {
            rc = okx_fast_int(c, &x->ts_ms);
        } else if (KEY("instId")) {
            rc = read_str(c, &x->inst_id);
        } else {
            rc = okx_scan_skip(c);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    if (!have_px) {
        FAIL(AT_EINVAL, "mark-price item without markPx", at);
    }
    return AT_OK;
}

static int parse_funding(okx_cur *c, okx_md_funding *x)
{
    memset(x, 0, sizeof *x);
    okx_str key, text;
    FOR_MEMBERS(c, key)
    {
        int rc;
        if (KEY("fundingRate")) {
            rc = okx_fast_dec(c, &x->rate, &text);
            x->has_rate = text.n > 0;
        } else if (KEY("nextFundingRate")) {
            rc = okx_fast_dec(c, &x->next_rate, &text);
            x->has_next_rate = text.n > 0;
        } else if (KEY("fundingTime")) {
            rc = okx_fast_int(c, &x->funding_ms);
        } else if (KEY("nextFundingTime")) {
            rc = okx_fast_int(c, &x->next_funding_ms);
        } else if (KEY("ts")) {
            rc = okx_fast_int(c, &x->ts_ms);
        } else if (KEY("instId")) {
            rc = read_str(c, &x->inst_id);
        } else {
            rc = okx_scan_skip(c);
        }
        if (rc != AT_OK) {
            return rc;
        }
    }
    return AT_OK;
}

/* ["ts","o","h","l","c","vol","volCcy","volCcyQuote","confirm", ...]: at
 * least 6, all strings. */
static int parse_candle(okx_cur *c, okx_md_candle *x)
{
    const char *at = c->p;
    okx_zero(x, sizeof *x);
    int rc = open_at(c, '[', "candle is not an array of at least 6 strings");
    if (rc != AT_OK) {
        return rc;
    }
    at_dec *dst[7] = {&x->o, &x->h, &x->l, &x->c, &x->vol, &x->vol_ccy, &x->vol_ccy_quote};
    int st = 0, r, i = 0;
    while ((r = okx_scan_elem(c, &st)) > 0) {
        okx_val v;
        if (*c->p != '"') {
            FAIL(AT_EINVAL, "candle element is not a string", c->p);
        }
        if ((rc = okx_scan_val(c, &v)) != AT_OK) {
            return rc;
        }
        if (i == 0) {
            rc = okx_val_int(c, &v, &x->open_ms);
        } else if (i <= 7) {
            rc = okx_val_dec(c, &v, dst[i - 1]);
        } else if (i == 8) {
            x->confirmed = okx_str_eq(v.s, "1");
        }
        if (rc != AT_OK) {
            return rc;
        }
        i++;
    }
    if (r == 0 && i < 6) {
        FAIL(AT_EINVAL, "candle is not an array of at least 6 strings", at);
    }
    return r;
}

static int parse_item(okx_cur *c, okx_md_msg *out, uint32_t i)
{
    if (out->channel == OKX_CH_CANDLE) {
        return parse_candle(c, &out->u.candles[i]);
    }
    int rc = open_at(c, '{', "data item is not an object");
    if (rc != AT_OK) {
        return rc;
    }
    switch (out->channel) {
    case OKX_CH_TICKERS:
        return parse_ticker(c, &out->u.tickers[i]);
    case OKX_CH_TRADES:
        return parse_trade(c, &out->u.trades[i]);
    case OKX_CH_MARK_PRICE:
        return parse_mark(c, &out->u.marks[i]);
    default:
        return parse_funding(c, &out->u.funding[i]);
    }
}

/* The "data" array of a push whose channel is known. */
static int parse_data(okx_cur *c, okx_md_msg *out)
{
    const char *at = c->p;
    int rc = open_at(c, '[', "\"data\" is not an array");
    if (rc != AT_OK) {
        return rc;
    }
    out->n_items = 0;
    if (out->channel == OKX_CH_OTHER) {
        c->p = at; /* not decoded: validated only */
        return okx_scan_skip(c);
    }
    bool book = out->channel == OKX_CH_BOOKS || out->channel == OKX_CH_BOOKS5 ||
                out->channel == OKX_CH_BBO_TBT;
    uint32_t n = 0;
    int st = 0, r;
    while ((r = okx_scan_elem(c, &st)) > 0) {
        if (book && n == 1) {
            FAIL(AT_EINVAL, "books push without exactly one data item", at);
        }
        if (n == OKX_MD_MAX_ITEMS) {
            FAIL(AT_ERANGE, "more data items than supported", c->p);
        }
        rc = book ? parse_book(c, &out->u.book) : parse_item(c, out, n);
        if (rc != AT_OK) {
            return rc;
        }
        n++;
    }
    if (r == 0 && book && n != 1) {
        FAIL(AT_EINVAL, "books push without exactly one data item", at);
    }
    out->n_items = n;
    return r;
}

/* ---- envelope ------------------------------------------------------ */

static okx_md_event classify_event(okx_str e)
{
    static const struct {
        const char *name;
        uint32_t n;
        okx_md_event ev;
    } names[] = {
        NAMED("subscribe", OKX_EVT_SUBSCRIBE),
        NAMED("unsubscribe", OKX_EVT_UNSUBSCRIBE),
        NAMED("error", OKX_EVT_ERROR),
        NAMED("login", OKX_EVT_LOGIN),
        NAMED("notice", OKX_EVT_NOTICE),
        NAMED("channel-conn-count", OKX_EVT_CONN_COUNT),
        NAMED("channel-conn-count-error", OKX_EVT_CONN_COUNT),
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (e.n == names[i].n && memcmp(e.p, names[i].name, e.n) == 0) {
            return names[i].ev;
        }
    }
    return OKX_EVT_OTHER;
}

void okx_md_init(okx_md *p, const at_host *host)
{
    p->host = host;
    p->reason = NULL;
    p->err_off = -1;
    p->general_only = false;
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
    /* One by one: a chained assignment copies through memory, and that
     * load of two just-stored halves stalls store forwarding. */
    out->event_name = (okx_str){NULL, 0};
    out->msg = (okx_str){NULL, 0};
    out->conn_id = (okx_str){NULL, 0};
    out->id = (okx_str){NULL, 0};
    out->code = 0;
    out->has_arg = false;
    out->channel = OKX_CH_OTHER;
    out->channel_name = (okx_str){NULL, 0};
    out->inst_id = (okx_str){NULL, 0};
    out->bar_s = 0;
    out->n_items = 0;
}

/* The root members, as met. "data" is decoded as soon as it is read when
 * "arg" came first (OKX's order) and no "event" did; otherwise its start is
 * kept and it is decoded once the envelope is complete. An error from an
 * early decode waits too: an "event" later in the frame makes it moot. */
typedef struct root {
    okx_val id, conn, ev, code, msg, action; /* kind OKX_V_NONE when absent */
    const char *data;                        /* start of the "data" value, or NULL */
    bool data_done;                          /* decoded against the current "arg" */
    int data_rc;
    const char *data_reason;
    int data_off;
} root;

static int root_data(okx_cur *c, root *r, okx_md_msg *out)
{
    r->data = c->p;
    r->data_done = out->has_arg && r->ev.kind == OKX_V_NONE;
    if (!r->data_done) {
        return okx_scan_skip(c);
    }
    r->data_rc = parse_data(c, out);
    if (r->data_rc == AT_OK) {
        return AT_OK;
    }
    r->data_reason = c->md->reason;
    r->data_off = c->md->err_off;
    c->p = r->data; /* step over it again, validating only */
    return okx_scan_skip(c);
}

static int root_member(okx_cur *c, root *r, okx_str key, okx_md_msg *out)
{
    okx_val *slot = NULL;
    if (KEY("arg")) {
        r->data_done = false; /* a "data" already met is decoded again */
        return parse_arg(c, out);
    }
    if (KEY("data")) {
        return root_data(c, r, out);
    }
    if (KEY("id")) {
        slot = &r->id;
    } else if (KEY("msg")) {
        slot = &r->msg;
    } else if (KEY("code")) {
        slot = &r->code;
    } else if (KEY("event")) {
        slot = &r->ev;
    } else if (KEY("action")) {
        slot = &r->action;
    } else if (KEY("connId")) {
        slot = &r->conn;
    } else {
        return okx_scan_skip(c);
    }
    return okx_scan_val(c, slot);
}

static int finish_event(okx_cur *c, const root *r, okx_md_msg *out)
{
    out->kind = OKX_MD_EVENT;
    out->n_items = 0; /* a "data" decoded before "event" was met is moot */
    int rc = okx_val_str(c, &r->ev, &out->event_name);
    if (rc != AT_OK) {
        return rc;
    }
    out->event = classify_event(out->event_name);
    if (r->code.kind && (rc = okx_val_i32(c, &r->code, &out->code)) != AT_OK) {
        return rc;
    }
    if (r->msg.kind && (rc = okx_val_str(c, &r->msg, &out->msg)) != AT_OK) {
        return rc;
    }
    return AT_OK;
}

static int finish_push(okx_cur *c, root *r, okx_md_msg *out)
{
    if (!out->has_arg) {
        FAIL(AT_EINVAL, r->data ? "data push without \"arg\"" : "neither \"event\" nor \"arg\"",
             c->base);
    }
    if (!r->data) {
        FAIL(AT_EINVAL, "push without \"data\"", c->base);
    }
    out->kind = OKX_MD_DATA;
    okx_md_action act = OKX_ACT_NONE;
    if (r->action.kind) {
        okx_str a;
        int rc = okx_val_str(c, &r->action, &a);
        if (rc != AT_OK) {
            return rc;
        }
        if (okx_str_eq(a, "snapshot")) {
            act = OKX_ACT_SNAPSHOT;
        } else if (okx_str_eq(a, "update")) {
            act = OKX_ACT_UPDATE;
        } else {
            FAIL(AT_EINVAL, "unknown \"action\"", a.p);
        }
    }
    if (out->channel == OKX_CH_BOOKS && act == OKX_ACT_NONE) {
        FAIL(AT_EINVAL, "books push without \"action\"", c->base);
    }
    if (!r->data_done) {
        okx_cur d = {r->data, c->end, c->base, c->md};
        r->data_rc = parse_data(&d, out);
    } else if (r->data_rc != AT_OK) {
        c->md->reason = r->data_reason;
        c->md->err_off = r->data_off;
    }
    if (r->data_rc != AT_OK) {
        return r->data_rc;
    }
    if (out->channel == OKX_CH_BOOKS || out->channel == OKX_CH_BOOKS5 ||
        out->channel == OKX_CH_BBO_TBT) {
        out->u.book.action = act;
    }
    return AT_OK;
}

/* The root object, then nothing but whitespace up to len. */
static int parse_root(okx_cur *c, root *r, okx_md_msg *out)
{
    okx_ws(c);
    if (c->p >= c->end || *c->p != '{') {
        FAIL(AT_EINVAL, "frame is not a JSON object", c->p);
    }
    c->p++;
    okx_str key;
    FOR_MEMBERS(c, key)
    {
        int rc = root_member(c, r, key, out);
        if (rc != AT_OK) {
            return rc;
        }
    }
    okx_ws(c);
    if (c->p < c->end) {
        FAIL(AT_EINVAL, "trailing bytes after the JSON object", c->p);
    }
    return AT_OK;
}

int okx_md_parse(okx_md *p, const char *frame, size_t len, okx_md_msg *out)
{
    p->reason = NULL;
    p->err_off = -1;
    clear_msg(out);
    if (frame == NULL || len == 0) {
        p->reason = "empty frame";
        return AT_EINVAL;
    }
    if (len > (size_t)INT_MAX) {
        p->reason = "frame too large";
        return AT_ERANGE;
    }
    if (len == 4 && memcmp(frame, "pong", 4) == 0) {
        out->kind = OKX_MD_PONG;
        return AT_OK;
    }
    if (!p->general_only) {
        if (okx_md_fast_parse(p, frame, len, out)) {
            return AT_OK;
        }
        clear_msg(out); /* it may have filled part of the header */
        p->reason = NULL;
        p->err_off = -1;
    }
    okx_cur cur = {frame, frame + len, frame, p};
    okx_cur *c = &cur;
    root r;
    memset(&r, 0, sizeof r);
    int rc = parse_root(c, &r, out);
    if (rc != AT_OK) {
        return rc;
    }
    if (r.id.kind && (rc = okx_val_str(c, &r.id, &out->id)) != AT_OK) {
        return rc;
    }
    if (r.conn.kind && (rc = okx_val_str(c, &r.conn, &out->conn_id)) != AT_OK) {
        return rc;
    }
    rc = r.ev.kind ? finish_event(c, &r, out) : finish_push(c, &r, out);
    if (rc == AT_OK) {
        p->reason = NULL; /* an early "data" error an "event" made moot */
        p->err_off = -1;
    }
    return rc;
}

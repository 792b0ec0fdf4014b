/* okx_md: zero-copy scanner of OKX v5 public/business WebSocket frames.
 *
 * One call classifies a text frame (event, data push or "pong") and decodes
 * the market-data channels straight into typed structs: prices and sizes are
 * parsed once into at_dec, identifiers stay string views into the frame.
 * Nothing is allocated: one pass over the bytes (okx_md_scan.c) writes the
 * decoded message into the caller-owned okx_md_msg.
 *
 * Lifetime: every okx_str in an okx_md_msg points into the frame passed to
 * okx_md_parse (borrowed); it is valid while the frame is, and the msg is
 * overwritten by the next parse. Views are the raw JSON string contents:
 * escapes are not decoded (instIds, tradeIds and numbers never contain any).
 *
 * Threads: an okx_md and its msg belong to one thread at a time. */
#ifndef OKX_MD_H
#define OKX_MD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <aitrader/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A books message carries at most 400 levels a side (books, books-l2-tbt). */
#define OKX_MD_MAX_LEVELS 400
/* Items of one trades/tickers/candle/... push (OKX sends one or a few). */
#define OKX_MD_MAX_ITEMS 64

/* A string view into the frame. */
typedef struct okx_str {
    const char *p;
    uint32_t n;
} okx_str;

typedef enum okx_md_kind {
    OKX_MD_NONE = 0,
    OKX_MD_PONG,  /* the text frame "pong" (answer to our "ping") */
    OKX_MD_EVENT, /* {"event": ...}: subscribe, error, login, notice ... */
    OKX_MD_DATA,  /* {"arg": {...}, "data": [...]} */
} okx_md_kind;

typedef enum okx_md_event {
    OKX_EVT_OTHER = 0,
    OKX_EVT_SUBSCRIBE,
    OKX_EVT_UNSUBSCRIBE,
    OKX_EVT_ERROR,
    OKX_EVT_LOGIN,
    OKX_EVT_NOTICE,
    OKX_EVT_CONN_COUNT, /* channel-conn-count and channel-conn-count-error */
} okx_md_event;

typedef enum okx_md_channel {
    OKX_CH_OTHER = 0, /* a channel this scanner does not decode (n_items stays 0) */
    OKX_CH_TICKERS,
    OKX_CH_BOOKS, /* books, books-l2-tbt, books50-l2-tbt: snapshot + updates */
    OKX_CH_BOOKS5,
    OKX_CH_BBO_TBT,
    OKX_CH_TRADES, /* trades, trades-all */
    OKX_CH_MARK_PRICE,
    OKX_CH_FUNDING_RATE,
    OKX_CH_CANDLE, /* candle<bar>[utc] */
} okx_md_channel;

/* books "action": books5 and bbo-tbt carry none and are full snapshots. */
typedef enum okx_md_action {
    OKX_ACT_NONE = 0,
    OKX_ACT_SNAPSHOT,
    OKX_ACT_UPDATE,
} okx_md_action;

/* One level ["px", "sz", "0", "numOrders"]; px_s/sz_s are the original text
 * (needed for the checksum). */
typedef struct okx_md_level {
    at_dec px, sz;
    okx_str px_s, sz_s;
    int32_t orders;
} okx_md_level;

typedef struct okx_md_book {
    okx_md_action action;
    uint32_t nbids, nasks;
    int64_t ts_ms;
    int64_t seq_id, prev_seq_id; /* valid when has_seq / has_prev_seq */
    bool has_seq, has_prev_seq;
    int32_t checksum; /* 0 when absent (deprecated upstream, now sent as 0) */
    /* The frame's end: the px_s/sz_s text may be read in 16-byte blocks
     * below it (okx_book copies it so). NULL: read exactly the views. */
    const char *text_end;
    okx_md_level bids[OKX_MD_MAX_LEVELS];
    okx_md_level asks[OKX_MD_MAX_LEVELS];
} okx_md_book;

/* Decimal fields absent or "" in the push are {0, 0}. */
typedef struct okx_md_ticker {
    okx_str inst_id;
    at_dec last, last_sz, bid, bid_sz, ask, ask_sz;
    at_dec open24h, high24h, low24h, vol24h, vol_ccy24h;
    int64_t ts_ms;
} okx_md_ticker;

typedef struct okx_md_trade {
    okx_str inst_id, trade_id;
    at_dec px, sz;
    at_side side; /* taker side */
    int32_t count;
    int64_t ts_ms;
} okx_md_trade;

typedef struct okx_md_mark {
    okx_str inst_id;
    at_dec mark_px;
    int64_t ts_ms;
} okx_md_mark;

typedef struct okx_md_funding {
    okx_str inst_id;
    at_dec rate, next_rate;       /* {0,0} when "" or absent: see has_rate/has_next_rate */
    bool has_rate, has_next_rate; /* real pushes may carry only nextFundingRate */
    int64_t funding_ms, next_funding_ms, ts_ms;
} okx_md_funding;

/* ["ts","o","h","l","c","vol","volCcy","volCcyQuote","confirm"] */
typedef struct okx_md_candle {
    int64_t open_ms;
    at_dec o, h, l, c, vol, vol_ccy, vol_ccy_quote;
    bool confirmed;
} okx_md_candle;

typedef struct okx_md_msg {
    okx_md_kind kind;
    /* OKX_MD_EVENT */
    okx_md_event event;
    okx_str event_name; /* raw "event" value */
    int32_t code;       /* "code" as a number, 0 when absent */
    okx_str msg;        /* "msg", raw (escapes kept) */
    okx_str conn_id, id;
    /* both: "arg" (an event may carry none) */
    bool has_arg;
    okx_md_channel channel;
    okx_str channel_name, inst_id;
    int64_t bar_s; /* candle bar length in seconds (1M = 30 d, 3M = 90 d) */
    /* OKX_MD_DATA: n_items of the channel's array below (books: always 1) */
    uint32_t n_items;
    union {
        okx_md_book book;
        okx_md_ticker tickers[OKX_MD_MAX_ITEMS];
        okx_md_trade trades[OKX_MD_MAX_ITEMS];
        okx_md_mark marks[OKX_MD_MAX_ITEMS];
        okx_md_funding funding[OKX_MD_MAX_ITEMS];
        okx_md_candle candles[OKX_MD_MAX_ITEMS];
    } u;
} okx_md_msg;

/* The scanner: host (borrowed, for dec_parse on numbers the fast path does
 * not take) and the last error. */
typedef struct okx_md {
    const at_host *host;
    const char *reason; /* static text of the last error, NULL after success */
    int err_off;        /* byte offset of the last error in the frame, or -1 */
    /* false (okx_md_init): OKX's canonical books/trades/tickers pushes take
     * the straight-line reader (okx_md_fast.c), everything else the general
     * decoder. true: the general decoder only (the tests compare the two). */
    bool general_only;
} okx_md;

/* host is borrowed for the scanner's life (only dec_parse is used). */
void okx_md_init(okx_md *p, const at_host *host);

/* Scan one text frame. Returns AT_OK and fills *out, or a negative error:
 * AT_EINVAL (not JSON, truncated, wrong field type, missing arg/data ...),
 * AT_ERANGE (number out of range, more levels/items/tokens than supported).
 * On error okx_md_reason() says why; *out is then unspecified. */
int okx_md_parse(okx_md *p, const char *frame, size_t len, okx_md_msg *out);

/* Static text of the last error ("" after a success). */
const char *okx_md_reason(const okx_md *p);

/* The decimal parser used for every number: exactly host->dec_parse, with an
 * inline fast path for the plain "[-]digits[.digits]" form of <= 18 digits. */
int okx_md_dec(const at_host *host, const char *s, size_t len, at_dec *out);

/* Compare a view with a C string literal. */
static inline bool okx_str_eq(okx_str s, const char *lit)
{
    size_t n = strlen(lit); /* folded to a constant for literals */
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

#ifdef __cplusplus
}
#endif

#endif

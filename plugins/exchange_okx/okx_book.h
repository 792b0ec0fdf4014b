/* okx_book: one maintained OKX order book (books / books-l2-tbt / books5 /
 * bbo-tbt), fed with the pushes okx_md decodes.
 *
 * Each side keeps its levels in a pool of OKX_BOOK_MAX_LEVELS slots (nothing
 * is allocated after the caller allocated the okx_book) and their order in
 * parallel arrays, best first: the price of each as one integer (key, the
 * exact price at the book's scale, negated for bids so that better is
 * always smaller), its price and size as the event carries them (so the top
 * 25 are one copy into an at_ev_book), the first 16 bytes of its piece of
 * the check string (so the checksum reads 25 contiguous entries a side, not
 * 25 slots scattered over the pool), and its slot (text, order count). The
 * arrays have room at both ends (OKX_BOOK_SLACK), so a level inserted or
 * deleted near the touch moves only the few better ones, and one near the
 * bottom (OKX drops the 400th level whenever a new one comes in) only the
 * few worse ones. Finding a price compares integers in one contiguous
 * array: the top 16 branch-free, the rest by halving. Every level keeps the
 * price and size text exactly as OKX wrote it, because the checksum is
 * defined over the original strings ("8476.10" is not "8476.1").
 *
 * Prices are compared exactly: every key is the price times 10^scale, scale
 * being the largest number of decimals seen in the book (raised, and the
 * keys with it, when a finer price arrives). A price that would not fit
 * 63 bits that way (more than ~18 digits between the largest price and the
 * finest decimal, far beyond any OKX instrument) is refused (AT_ERANGE).
 *
 * An okx_book is ~140 KB (two sides of ~70 KB): allocate it, do not put
 * it on a stack. Threads: one book belongs to one thread. */
#ifndef OKX_BOOK_H
#define OKX_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/events.h>

#include "okx_md.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OKX_BOOK_MAX_LEVELS 400
/* Free room kept at each end of a side's order arrays (see above). */
#define OKX_BOOK_SLACK 64
#define OKX_BOOK_CAP (OKX_BOOK_MAX_LEVELS + 2 * OKX_BOOK_SLACK)
/* Longest price/size text kept per level; longer text is refused (AT_ERANGE)
 * rather than truncated, which would silently break the checksum. */
#define OKX_BOOK_TXT 24
/* Levels per side that the checksum covers. */
#define OKX_BOOK_CHECKSUM_DEPTH 25

typedef struct okx_book_level {
    at_dec px, sz;
    int32_t orders;
    uint8_t px_n, sz_n;
    uint8_t piece_n; /* 1 + px_n + 1 + sz_n */
    /* ":px:sz" as OKX wrote them (not NUL-terminated): the level's piece of
     * the check string, copied in one move; see okx_book_level_px/_sz.
     * Longer than the 50 bytes used: room for 16-byte copies (and the
     * level is 96 bytes either way). */
    char txt[2 * OKX_BOOK_TXT + 9];
} okx_book_level;

static inline okx_str okx_book_level_px(const okx_book_level *l)
{
    okx_str s = {l->txt + 1, l->px_n};
    return s;
}

static inline okx_str okx_book_level_sz(const okx_book_level *l)
{
    okx_str s = {l->txt + 2 + l->px_n, l->sz_n};
    return s;
}

typedef struct okx_book_side {
    uint32_t n;      /* live levels (hi - lo) */
    uint32_t lo, hi; /* [lo, hi) of key/lv/ord: best .. worst */
    uint32_t nfree;  /* free[0, nfree): unused slots */
    int64_t key[OKX_BOOK_CAP];
    at_level lv[OKX_BOOK_CAP];
    char pc[OKX_BOOK_CAP][16]; /* ":px:sz", its first 16 bytes */
    uint8_t pn[OKX_BOOK_CAP];  /* its length (the slot has the rest) */
    uint16_t ord[OKX_BOOK_CAP];
    uint16_t free[OKX_BOOK_MAX_LEVELS];
    okx_book_level slot[OKX_BOOK_MAX_LEVELS];
} okx_book_side;

/* What applying one push means for the caller. */
typedef enum okx_book_verdict {
    OKX_BOOK_OK = 0,        /* applied (snapshot or chained update) */
    OKX_BOOK_HEARTBEAT = 1, /* empty update with prevSeqId == seqId: nothing changed */
    OKX_BOOK_RESET = 2,     /* seqId < prevSeqId (after maintenance): applied, chain continues */
    OKX_BOOK_GAP = 3,       /* prevSeqId != last seqId: not applied, book invalid: resubscribe */
    OKX_BOOK_CHECKSUM = 4,  /* applied but the checksum differs: book invalid: resubscribe */
    OKX_BOOK_STALE = 5,     /* update while the book is invalid: ignored until a snapshot */
} okx_book_verdict;

typedef struct okx_book {
    okx_book_side bids, asks;
    bool valid;    /* a snapshot was applied and nothing broke since */
    bool has_seq;  /* seq_id holds the last applied seqId */
    bool snapshot; /* the last applied push was a snapshot */
    int32_t scale; /* decimals of every key (internal) */
    int64_t seq_id;
    int64_t ts_ms;         /* exchange timestamp of the last applied push */
    uint64_t dropped;      /* levels refused because a side was full (beyond the top 400) */
    int32_t last_checksum; /* our checksum at the last verification (0 if none) */
    bool checksum_fresh;   /* last_checksum still matches the top 25 (internal) */
} okx_book;

/* An empty, invalid book. */
void okx_book_init(okx_book *b);

/* Apply one decoded books item (okx_md_msg.u.book). OKX_ACT_SNAPSHOT and
 * OKX_ACT_NONE (books5, bbo-tbt) replace the book, OKX_ACT_UPDATE merges:
 * size "0" deletes the price, any other size replaces or inserts it. The
 * checksum is verified when the push carries a non-zero one.
 * Returns an okx_book_verdict (>= 0), or AT_ERANGE (a level's text longer
 * than OKX_BOOK_TXT, or a price that does not fit the book's scale; see
 * above) / AT_EINVAL (NULL) with the book left unchanged. */
int okx_book_apply(okx_book *b, const okx_md_book *m);

/* OKX's checksum of the book as it stands: CRC-32 of
 * "bid0px:bid0sz:ask0px:ask0sz:bid1px:..." over the top 25 levels a side
 * (a shorter side simply ends), as a signed 32-bit integer. */
int32_t okx_book_checksum(const okx_book *b);

/* CRC-32 (zlib's polynomial 0xEDB88320, init and xorout ~0); chain calls by
 * passing the previous result (start with 0). okx_crc32.c. */
uint32_t okx_crc32(uint32_t crc, const void *data, size_t len);

/* okx_crc32(0, data, len) when the 15 bytes before data are readable and
 * zero: the buffer is then hashed from a 16-byte boundary of its length
 * with no byte-wise tail (internal, for okx_book_checksum). */
uint32_t okx_crc32_zpad(const void *data, size_t len);

/* Fill the top AT_BOOK_DEPTH levels, seq_id, exch_ts_ms and snapshot of ev;
 * the header and recv_us are the caller's. */
void okx_book_top(const okx_book *b, at_ev_book *ev);

/* Level i (0 = best) of a side, or NULL past the end. The pointer is valid
 * until the book changes. */
static inline const okx_book_level *okx_book_level_at(const okx_book_side *s, uint32_t i)
{
    return i < s->n ? &s->slot[s->ord[s->lo + i]] : NULL;
}

static inline const char *okx_book_verdict_name(int v)
{
    switch (v) {
    case OKX_BOOK_OK:
        return "ok";
    case OKX_BOOK_HEARTBEAT:
        return "heartbeat";
    case OKX_BOOK_RESET:
        return "reset";
    case OKX_BOOK_GAP:
        return "gap";
    case OKX_BOOK_CHECKSUM:
        return "checksum";
    case OKX_BOOK_STALE:
        return "stale";
    default:
        return "error";
    }
}

#ifdef __cplusplus
}
#endif

#endif

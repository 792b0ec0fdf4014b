/* okx_book: OKX order-book maintenance (merge rules, seqId chain, checksum).
 * See okx_book.h for the layout; the rules are OKX v5 "Order book channel"
 * (reference okx-v5.md section 5). The CRC itself is okx_crc32.c. */
#include <stdbool.h>
#include <string.h>

#include "okx_book.h"
#include "okx_md_fast.h"

#if defined(__SSE2__) && !defined(OKX_NO_SIMD)
#include <emmintrin.h>
#endif

/* INT64_MAX / 10^d: the largest magnitude a key can have before it is
 * scaled up d decimals (a division per level would cost more than the
 * rest of its merge). */
static const int64_t FIT[19] = {INT64_MAX,
                                INT64_MAX / 10,
                                INT64_MAX / 100,
                                INT64_MAX / 1000,
                                INT64_MAX / 10000,
                                INT64_MAX / 100000,
                                INT64_MAX / 1000000,
                                INT64_MAX / 10000000,
                                INT64_MAX / 100000000,
                                INT64_MAX / 1000000000,
                                INT64_MAX / 10000000000,
                                INT64_MAX / 100000000000,
                                INT64_MAX / 1000000000000,
                                INT64_MAX / 10000000000000,
                                INT64_MAX / 100000000000000,
                                INT64_MAX / 1000000000000000,
                                INT64_MAX / 10000000000000000,
                                INT64_MAX / 100000000000000000,
                                INT64_MAX / 1000000000000000000};

static void side_reset(okx_book_side *s)
{
    s->n = 0;
    /* Snapshots come best first, so they grow upwards from here. */
    s->lo = s->hi = OKX_BOOK_SLACK;
    s->nfree = OKX_BOOK_MAX_LEVELS;
    for (uint32_t i = 0; i < OKX_BOOK_MAX_LEVELS; i++) {
        s->free[i] = (uint16_t)(OKX_BOOK_MAX_LEVELS - 1 - i); /* slot 0 is taken first */
    }
}

void okx_book_init(okx_book *b)
{
    memset(b, 0, sizeof *b);
    side_reset(&b->bids);
    side_reset(&b->asks);
}

static inline void move_one(okx_book_side *s, uint32_t to, uint32_t from)
{
    s->key[to] = s->key[from];
    s->lv[to] = s->lv[from];
    memcpy(s->pc[to], s->pc[from], 16);
    s->pn[to] = s->pn[from];
    s->ord[to] = s->ord[from];
}

/* Short moves (the common case: a few levels near either end) are inline
 * loops; memmove for the rest. */
static inline void move_keys(okx_book_side *s, uint32_t to, uint32_t from, uint32_t n)
{
    if (n <= 8) {
        if (to < from) {
            for (uint32_t i = 0; i < n; i++) {
                move_one(s, to + i, from + i);
            }
        } else {
            for (uint32_t i = n; i-- > 0;) {
                move_one(s, to + i, from + i);
            }
        }
        return;
    }
    memmove(&s->key[to], &s->key[from], n * sizeof s->key[0]);
    memmove(&s->lv[to], &s->lv[from], n * sizeof s->lv[0]);
    memmove(&s->pc[to], &s->pc[from], n * sizeof s->pc[0]);
    memmove(&s->pn[to], &s->pn[from], n * sizeof s->pn[0]);
    memmove(&s->ord[to], &s->ord[from], n * sizeof s->ord[0]);
}

/* Moves the live range to the middle of the arrays; returns where index p
 * went. Needed only after OKX_BOOK_SLACK more inserts at one end than
 * deletes there. */
static uint32_t side_recenter(okx_book_side *s, uint32_t p)
{
    uint32_t lo = (OKX_BOOK_CAP - s->n) / 2;
    move_keys(s, lo, s->lo, s->n);
    p = p - s->lo + lo;
    s->lo = lo;
    s->hi = lo + s->n;
    return p;
}

/* Removes index i, moving whichever end of the range is nearer. */
static inline void side_delete(okx_book_side *s, uint32_t i)
{
    s->free[s->nfree++] = s->ord[i];
    if (i - s->lo < s->hi - 1 - i) {
        move_keys(s, s->lo + 1, s->lo, i - s->lo);
        s->lo++;
    } else {
        move_keys(s, i, i + 1, s->hi - 1 - i);
        s->hi--;
    }
    s->n--;
}

/* Makes room before index p (between p - 1 and p) and returns its index. */
static inline uint32_t side_open(okx_book_side *s, uint32_t p)
{
    if (s->hi - p <= p - s->lo) {
        if (s->hi == OKX_BOOK_CAP) {
            p = side_recenter(s, p);
        }
        move_keys(s, p + 1, p, s->hi - p);
        s->hi++;
    } else {
        if (s->lo == 0) {
            p = side_recenter(s, p);
        }
        move_keys(s, s->lo - 1, s->lo, p - s->lo);
        s->lo--;
        p--;
    }
    s->n++;
    return p;
}

/* The number of levels better than k, counted from the best: the index in
 * [lo, hi] where a level of key k is or would go. Updates cluster at the
 * touch, so the top 16 are counted without branches, 8 at a time; deeper
 * prices are found by halving. */
static inline uint32_t side_find(const okx_book_side *s, int64_t k)
{
    const int64_t *key = s->key;
    uint32_t lo = s->lo, hi = s->hi;
    if (lo == hi || k >= key[hi - 1]) {
        return hi - (lo < hi && key[hi - 1] == k); /* at or below the worst: snapshots */
    }
    /* Here key[hi - 1] > k. */
    uint32_t bot = lo;
    for (int blk = 0; blk < 2 && hi - bot > 8; blk++) {
        const int64_t *t = key + bot;
        uint32_t c = (t[0] < k) + (t[1] < k) + (t[2] < k) + (t[3] < k) + (t[4] < k) + (t[5] < k) +
                     (t[6] < k) + (t[7] < k);
        if (c < 8) {
            return bot + c;
        }
        bot += 8;
    }
    if (hi - bot <= 8) {
        while (key[bot] < k) { /* stops at hi - 1 at the latest */
            bot++;
        }
        return bot;
    }
    uint32_t a = bot, z = hi - 1; /* the answer is in [a, z]; key[z] > k */
    while (a < z) {
        uint32_t mid = (a + z) / 2;
        if (key[mid] < k) {
            a = mid + 1;
        } else {
            z = mid;
        }
    }
    return a;
}

/* A level's value and text; the text is copied 16 bytes at a time when the
 * frame (up to lim) has them. */
static inline void level_set(okx_book_level *l, const okx_md_level *m, const char *lim)
{
    uint32_t pn = m->px_s.n, sn = m->sz_s.n;
    l->px = m->px;
    l->sz = m->sz;
    l->orders = m->orders;
    l->px_n = (uint8_t)pn;
    l->sz_n = (uint8_t)sn;
    l->piece_n = (uint8_t)(2 + pn + sn);
    l->txt[0] = ':';
    if (lim && pn <= 16 && sn <= 16 && lim - m->px_s.p >= 16 && lim - m->sz_s.p >= 16) {
        memcpy(l->txt + 1, m->px_s.p, 16);
        l->txt[1 + pn] = ':';
        memcpy(l->txt + 2 + pn, m->sz_s.p, 16);
        return;
    }
    memcpy(l->txt + 1, m->px_s.p, pn);
    l->txt[1 + pn] = ':';
    memcpy(l->txt + 2 + pn, m->sz_s.p, sn);
}

#if defined(__SSE2__) && !defined(OKX_NO_SIMD)
/* FIRST[k]: the first k bytes set (k = 0..16). */
static const uint8_t FIRST[17][16] __attribute__((aligned(16))) = {
#define F(k)                                                                                       \
    {                                                                                              \
        0 < (k) ? 255 : 0, 1 < (k) ? 255 : 0, 2 < (k) ? 255 : 0, 3 < (k) ? 255 : 0,                \
            4 < (k) ? 255 : 0, 5 < (k) ? 255 : 0, 6 < (k) ? 255 : 0, 7 < (k) ? 255 : 0,            \
            8 < (k) ? 255 : 0, 9 < (k) ? 255 : 0, 10 < (k) ? 255 : 0, 11 < (k) ? 255 : 0,          \
            12 < (k) ? 255 : 0, 13 < (k) ? 255 : 0, 14 < (k) ? 255 : 0, 15 < (k) ? 255 : 0         \
    }
    F(0), F(1),  F(2),  F(3),  F(4),  F(5),  F(6),  F(7),  F(8),
    F(9), F(10), F(11), F(12), F(13), F(14), F(15), F(16),
#undef F
};

static inline __m128i first(uint32_t k)
{
    return _mm_load_si128((const __m128i *)(const void *)FIRST[k]);
}

/* ":px:sz" (pn + sn <= 14) in a register, straight from the frame: one
 * load that puts px at byte 1, one that puts sz at byte pn + 2 (both start
 * inside the frame: px's opening quote, and a byte after px's start, as sz
 * comes after px), and masks. */
static inline __m128i piece_from_frame(const char *px, uint32_t pn, const char *sz, uint32_t sn)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(px - 1));
    __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(sz - pn - 2));
    __m128i colon = _mm_and_si128(
        _mm_or_si128(first(1), _mm_xor_si128(first(pn + 2), first(pn + 1))), _mm_set1_epi8(':'));
    __m128i a = _mm_and_si128(v, _mm_xor_si128(first(pn + 1), first(1)));
    __m128i c = _mm_and_si128(w, _mm_xor_si128(first(pn + 2 + sn), first(pn + 2)));
    return _mm_or_si128(_mm_or_si128(a, c), colon);
}
#endif

/* The level at index i (its slot given): slot, price/size and piece. The
 * usual piece (at most 16 bytes, px and sz as the compact frame has them)
 * is assembled in a register and stored twice: copying it from the slot
 * right after the stores that wrote it there would stall on store
 * forwarding. */
static inline __attribute__((always_inline)) void
level_put(okx_book_side *s, uint32_t i, uint16_t slot, const okx_md_level *m, const char *lim)
{
    okx_book_level *l = &s->slot[slot];
    s->lv[i] = (at_level){m->px, m->sz};
#if defined(__SSE2__) && !defined(OKX_NO_SIMD)
    uint32_t pn = m->px_s.n, sn = m->sz_s.n;
    if (lim && pn + sn <= 14 && m->sz_s.p - m->px_s.p >= pn + 3 && lim - m->px_s.p >= 15 &&
        lim - m->sz_s.p >= 14 - pn) {
        __m128i piece = piece_from_frame(m->px_s.p, pn, m->sz_s.p, sn);
        _mm_storeu_si128((__m128i *)(void *)l->txt, piece);
        _mm_storeu_si128((__m128i *)(void *)s->pc[i], piece);
        l->px = m->px;
        l->sz = m->sz;
        l->orders = m->orders;
        l->px_n = (uint8_t)pn;
        l->sz_n = (uint8_t)sn;
        l->piece_n = (uint8_t)(2 + pn + sn);
        s->pn[i] = l->piece_n;
        return;
    }
#endif
    level_set(l, m, lim);
    memcpy(s->pc[i], l->txt, 16);
    s->pn[i] = l->piece_n;
}

/* OKX's merge rule for one level, k its key: same price -> size 0 deletes,
 * else replaces; new price -> inserted in order (a zero size for an unknown
 * price is a no-op). A full side keeps its best OKX_BOOK_MAX_LEVELS levels. */
static inline __attribute__((always_inline)) void
side_merge(okx_book *b, okx_book_side *s, const okx_md_level *m, int64_t k, const char *lim)
{
    uint32_t p = side_find(s, k);
    /* Only a change inside the top 25 can change the checksum. */
    if (p - s->lo < OKX_BOOK_CHECKSUM_DEPTH) {
        b->checksum_fresh = false;
    }
    if (p < s->hi && s->key[p] == k) {
        if (m->sz.m == 0) {
            side_delete(s, p);
        } else {
            level_put(s, p, s->ord[p], m, lim);
        }
        return;
    }
    if (m->sz.m == 0) {
        return;
    }
    if (s->n == OKX_BOOK_MAX_LEVELS) {
        b->dropped++;
        if (p == s->hi) {
            return; /* worse than all of them */
        }
        side_delete(s, s->hi - 1); /* the worst makes room; p stays valid */
    }
    uint16_t slot = s->free[--s->nfree];
    p = side_open(s, p);
    s->key[p] = k;
    s->ord[p] = slot;
    level_put(s, p, slot, m, lim);
}

/* Appends the piece at index i of a side: its 16 bytes in one move (the
 * buffer has the slack), or the slot's text when it is longer. */
static inline size_t put_piece(char *o, size_t n, const okx_book_side *s, uint32_t i)
{
    size_t k = s->pn[i];
    if (k <= 16) {
        memcpy(o + n, s->pc[i], 16);
    } else {
        memcpy(o + n, s->slot[s->ord[i]].txt, k);
    }
    return n + k;
}

OKX_CLONES int32_t okx_book_checksum(const okx_book *b)
{
    /* The check string is assembled first and hashed in one call: the
     * pieces are a few bytes each, too short for the folded CRC loop. Every
     * piece is written with its leading colon; the first one is skipped.
     * The 16 zero bytes in front let okx_crc32_zpad hash it from a 16-byte
     * boundary of its length. */
    char buf[16 + 2 * OKX_BOOK_CHECKSUM_DEPTH * (2 * OKX_BOOK_TXT + 2) + 32];
    memset(buf, 0, 16);
    const okx_book_side *bs = &b->bids, *as = &b->asks;
    uint32_t nb = bs->n < OKX_BOOK_CHECKSUM_DEPTH ? bs->n : OKX_BOOK_CHECKSUM_DEPTH;
    uint32_t na = as->n < OKX_BOOK_CHECKSUM_DEPTH ? as->n : OKX_BOOK_CHECKSUM_DEPTH;
    uint32_t both = nb < na ? nb : na;
    uint32_t lb = bs->lo, la = as->lo; /* the best of each */
    size_t n = 15;
    uint32_t i = 0;
    for (; i < both; i++) {
        n = put_piece(buf, n, bs, lb + i);
        n = put_piece(buf, n, as, la + i);
    }
    for (; i < nb; i++) {
        n = put_piece(buf, n, bs, lb + i);
    }
    for (; i < na; i++) {
        n = put_piece(buf, n, as, la + i);
    }
    if (n == 15) {
        return (int32_t)okx_crc32(0, buf, 0); /* both sides empty */
    }
    /* buf[15] is the first piece's colon: put back the zero it overwrote. */
    buf[15] = 0;
    return (int32_t)okx_crc32_zpad(buf + 16, n - 16);
}

/* The checks that decide, before anything changes, whether the push can be
 * applied: text lengths, and every price (and, when the book's scale must
 * grow, every level already there) fitting 63 bits at the new scale. */
static inline __attribute__((always_inline)) int fit_scale(const okx_book *b, const okx_md_book *m,
                                                           bool snapshot, int32_t *scale)
{
    const okx_md_level *sides[2] = {m->bids, m->asks};
    const uint32_t counts[2] = {m->nbids, m->nasks};
    /* One pass checks the prices against the book's scale; a second is
     * needed only when a finer price raises it (snapshots, rarely else). */
    int32_t s0 = snapshot ? 0 : b->scale, s = s0;
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < counts[k]; i++) {
            const okx_md_level *l = &sides[k][i];
            int32_t sc = l->px.scale;
            if (l->px_s.n > OKX_BOOK_TXT || l->sz_s.n > OKX_BOOK_TXT || (uint32_t)sc > 18 ||
                l->px.m == INT64_MIN) {
                return AT_ERANGE;
            }
            int64_t mag = l->px.m < 0 ? -l->px.m : l->px.m;
            if (sc <= s0 && mag > FIT[s0 - sc]) {
                return AT_ERANGE;
            }
            s = sc > s ? sc : s;
        }
    }
    if (s > s0) {
        for (int k = 0; k < 2; k++) {
            for (uint32_t i = 0; i < counts[k]; i++) {
                const okx_md_level *l = &sides[k][i];
                int64_t mag = l->px.m < 0 ? -l->px.m : l->px.m;
                if (mag > FIT[s - l->px.scale]) {
                    return AT_ERANGE;
                }
            }
        }
    }
    if (!snapshot && s > b->scale) {
        /* The largest magnitudes: the best bid and the worst ask, at
         * either end of its side. */
        const okx_book_side *bs = &b->bids, *as = &b->asks;
        int64_t lim = FIT[s - b->scale];
        if ((bs->n && (bs->key[bs->hi - 1] > lim || bs->key[bs->lo] < -lim)) ||
            (as->n && (as->key[as->lo] < -lim || as->key[as->hi - 1] > lim))) {
            return AT_ERANGE;
        }
    }
    *scale = s;
    return AT_OK;
}

static void side_rescale(okx_book_side *s, int64_t f)
{
    for (uint32_t i = s->lo; i < s->hi; i++) {
        s->key[i] *= f;
    }
}

OKX_CLONES int okx_book_apply(okx_book *b, const okx_md_book *m)
{
    if (b == NULL || m == NULL || m->nbids > OKX_MD_MAX_LEVELS || m->nasks > OKX_MD_MAX_LEVELS) {
        return AT_EINVAL;
    }
    bool snapshot = m->action != OKX_ACT_UPDATE;
    int32_t scale = 0;
    /* Refuse before touching anything, so an error leaves the book as it was. */
    int rc = fit_scale(b, m, snapshot, &scale);
    if (rc != AT_OK) {
        return rc;
    }
    int verdict = OKX_BOOK_OK;
    if (snapshot) {
        side_reset(&b->bids);
        side_reset(&b->asks);
        b->valid = true;
        b->checksum_fresh = false;
    } else {
        if (!b->valid) {
            return OKX_BOOK_STALE;
        }
        /* The chain is checked only when both sides of it are known: the
         * 2022-era feed (and books5) carry no prevSeqId. */
        if (m->has_seq && m->has_prev_seq && b->has_seq) {
            if (m->prev_seq_id != b->seq_id) {
                b->valid = false;
                return OKX_BOOK_GAP;
            }
            if (m->seq_id == m->prev_seq_id && m->nbids == 0 && m->nasks == 0) {
                verdict = OKX_BOOK_HEARTBEAT;
            } else if (m->seq_id < m->prev_seq_id) {
                verdict = OKX_BOOK_RESET;
            }
        }
        if (scale > b->scale) {
            side_rescale(&b->bids, (int64_t)okx_p10((uint32_t)(scale - b->scale)));
            side_rescale(&b->asks, (int64_t)okx_p10((uint32_t)(scale - b->scale)));
        }
    }
    b->scale = scale;
    const char *lim = m->text_end;
    for (uint32_t i = 0; i < m->nbids; i++) {
        const okx_md_level *l = &m->bids[i];
        side_merge(b, &b->bids, l, -(l->px.m * (int64_t)okx_p10((uint32_t)(scale - l->px.scale))),
                   lim);
    }
    for (uint32_t i = 0; i < m->nasks; i++) {
        const okx_md_level *l = &m->asks[i];
        side_merge(b, &b->asks, l, l->px.m * (int64_t)okx_p10((uint32_t)(scale - l->px.scale)),
                   lim);
    }
    b->snapshot = snapshot;
    b->has_seq = m->has_seq;
    b->seq_id = m->has_seq ? m->seq_id : 0;
    b->ts_ms = m->ts_ms;
    if (m->checksum != 0) {
        /* Deep-level updates leave the top 25 as they were: reuse. */
        if (!b->checksum_fresh) {
            b->last_checksum = okx_book_checksum(b);
            b->checksum_fresh = true;
        }
        if (b->last_checksum != m->checksum) {
            b->valid = false;
            return OKX_BOOK_CHECKSUM;
        }
    }
    return verdict;
}

static void side_top(const okx_book_side *s, at_level *out, uint32_t *n)
{
    uint32_t k = s->n < AT_BOOK_DEPTH ? s->n : AT_BOOK_DEPTH;
    size_t len = k * sizeof *out;
#if defined(__GNUC__) || defined(__clang__)
    /* Knowing len <= 800, GCC inlines this as `rep movsq`, three times
     * slower than libc's vector copy: hide the bound. */
    __asm__("" : "+r"(len));
#endif
    memcpy(out, &s->lv[s->lo], len);
    *n = k;
}

void okx_book_top(const okx_book *b, at_ev_book *ev)
{
    side_top(&b->bids, ev->bids, &ev->nbids);
    side_top(&b->asks, ev->asks, &ev->nasks);
    ev->seq_id = b->seq_id;
    ev->exch_ts_ms = b->ts_ms;
    ev->snapshot = b->snapshot;
}

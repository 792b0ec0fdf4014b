/* okx_md_fast: the scanner's hot steps sixteen bytes at a time (internal
 * header, used by okx_md.c, okx_md_scan.c and okx_md_fast.c).
 *
 * The byte loops of okx_md_scan.h cost a branch per byte and a mispredicted
 * one at the end of every string and number; a books push has ~40 of them.
 * Here one 16-byte load and a few compares find where a string or a number
 * ends and whether every byte before it is what the grammar allows, and the
 * digits are converted eight at a time (SWAR), so the cost no longer depends
 * on the length. Each step accepts exactly what its okx_md_scan.h
 * counterpart accepts and gives the same result; anything it does not take
 * (an escape, a long number, fewer than 16 bytes left in the frame, a sign
 * where none is expected) goes to that counterpart, which decides.
 *
 * Loads never leave the frame: 16 bytes forward are read only when the
 * frame has them, and the digit loads read up to 8 bytes back from a
 * number's end only when the frame starts at least 8 bytes before it.
 *
 * SSE2 (every x86-64) is used when the compiler has it; elsewhere (or with
 * OKX_NO_SIMD defined, to test that path) every step is the byte loop of
 * okx_md_scan.h. */
#ifndef OKX_MD_FAST_H
#define OKX_MD_FAST_H

#include <stdint.h>
#include <string.h>

#include "okx_md_scan.h"

/* Each step is a handful of instructions: a call would cost as much. */
#if defined(__GNUC__) || defined(__clang__)
#define OKX_HOT static inline __attribute__((always_inline))
#else
#define OKX_HOT static inline
#endif

/* memset(p, 0, n) through libc: for the 80-200 byte item structs GCC
 * would inline `rep stosq`, which costs more than the call. */
OKX_HOT void okx_zero(void *p, size_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(n));
#endif
    memset(p, 0, n);
}

/* The hottest loops are compiled twice, for x86-64 and for x86-64-v3
 * (AVX2, BMI2: three-operand shifts, tzcnt, andn for the bit masks), the
 * loader picking one by the CPU it runs on (GCC's target_clones, ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 &&           \
    defined(__gnu_linux__) && !defined(__SANITIZE_ADDRESS__)
#define OKX_CLONES __attribute__((target_clones("default", "arch=x86-64-v3")))
#else
#define OKX_CLONES
#endif

/* 10^n for n in 0..19 (0 beyond: masked, no branch in the hot loops). */
OKX_HOT uint64_t okx_p10(uint32_t n)
{
    static const uint64_t t[32] = {1ull,
                                   10ull,
                                   100ull,
                                   1000ull,
                                   10000ull,
                                   100000ull,
                                   1000000ull,
                                   10000000ull,
                                   100000000ull,
                                   1000000000ull,
                                   10000000000ull,
                                   100000000000ull,
                                   1000000000000ull,
                                   10000000000000ull,
                                   100000000000000ull,
                                   1000000000000000ull,
                                   10000000000000000ull,
                                   100000000000000000ull,
                                   1000000000000000000ull,
                                   10000000000000000000ull};
    return t[n & 31];
}

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                              \
    (defined(__GNUC__) || defined(__clang__)) && !defined(OKX_NO_SIMD)
#define OKX_FAST 1
#include <emmintrin.h>

/* Bit i set when byte i at p is '"' / is a digit. p + 16 <= end. */
typedef struct okx_mask16 {
    uint32_t quote, digit;
} okx_mask16;

OKX_HOT okx_mask16 okx_mask16_at(const char *p)
{
    okx_mask16 m;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    m.quote = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    m.digit = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    return m;
}

/* The same for the bytes from p to the frame's end e when fewer than 16
 * are left: the frame's last 16 bytes, shifted so bit 0 is p (the bits
 * past e are zero: neither quotes nor digits). e - 16 is inside the frame. */
OKX_HOT okx_mask16 okx_mask16_in(const char *p, const char *e)
{
    if (e - p >= 16) {
        return okx_mask16_at(p);
    }
    okx_mask16 m = okx_mask16_at(e - 16);
    uint32_t sh = (uint32_t)(16 - (e - p));
    m.quote >>= sh;
    m.digit >>= sh;
    return m;
}

/* Bit i set when byte i at p ends the plain part of a string: '"', '\\'
 * or a control byte (okx_scan_stop). p + 16 <= end. */
OKX_HOT uint32_t okx_stop16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    __m128i c = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}

OKX_HOT uint64_t okx_load64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Eight digit values (0..9 in the low nibble of each byte; the most
 * significant in the lowest byte) as a number: Lemire's SWAR reduction,
 * three multiplies. */
OKX_HOT uint64_t okx_swar8(uint64_t v)
{
    v &= UINT64_C(0x0F0F0F0F0F0F0F0F);
    v = v * 10 + (v >> 8);
    return (((v & 0x000000FF000000FFu) * (100 + (UINT64_C(1000000) << 32))) +
            (((v >> 16) & 0x000000FF000000FFu) * (1 + (UINT64_C(10000) << 32)))) >>
           32;
}

/* The value of the n (1..8) digits that end at `end` (already checked to be
 * digits; end - 8 is inside the frame): one load, the bytes before the
 * number masked off, then okx_swar8. */
OKX_HOT uint64_t okx_swar_tail(const char *end, uint32_t n)
{
    return okx_swar8(okx_load64(end - 8) & (UINT64_C(0x0F0F0F0F0F0F0F0F) << (8 * (8 - n))));
}

/* The value of the n (1..16) digits that end at `end` (end - n - 8 >= the
 * frame start when n > 8). */
OKX_HOT uint64_t okx_digits_value(const char *end, uint32_t n)
{
    if (n <= 8) {
        return okx_swar_tail(end, n);
    }
    return okx_swar_tail(end - 8, n - 8) * 100000000u + okx_swar_tail(end, 8);
}

/* A plain unsigned decimal "D+[.D+]" of 1..15 bytes at q, up to its closing
 * quote (q + 16 <= end, q - 8 >= frame start): the value written, scale =
 * digits after the point. Returns the quote's address, or NULL when the
 * text is anything else (the caller's slow path decides). */
OKX_HOT const char *okx_fast_udec(const char *q, at_dec *out)
{
    okx_mask16 m = okx_mask16_at(q);
    uint32_t L = (uint32_t)__builtin_ctz(m.quote | 0x10000u);
    if (L - 1 >= 15) {
        return NULL; /* empty, or no quote in 16 bytes */
    }
    uint32_t nd = ~m.digit & ((1u << L) - 1); /* non-digits before the quote */
    if (nd == 0) {
        out->m = (int64_t)okx_digits_value(q + L, L);
        out->scale = 0;
        return q + L;
    }
    uint32_t k = (uint32_t)__builtin_ctz(nd);
    if ((nd & (nd - 1)) != 0 || k == 0 || k + 2 > L || q[k] != '.') {
        return NULL;
    }
    uint32_t nf = L - k - 1;
    out->m = (int64_t)(okx_digits_value(q + k, k) * okx_p10(nf) + okx_digits_value(q + L, nf));
    out->scale = (int32_t)nf;
    return q + L;
}

/* 1..15 digits at q followed by a non-digit (q + 16 <= end, q - 8 >= frame
 * start): their value and count; NULL when there are none or more. */
OKX_HOT const char *okx_fast_digits(const char *q, uint64_t *out, uint32_t *nd)
{
    okx_mask16 m = okx_mask16_at(q);
    uint32_t L = (uint32_t)__builtin_ctz(~m.digit | 0x10000u);
    if (L - 1 >= 15) {
        return NULL;
    }
    *out = okx_digits_value(q + L, L);
    *nd = L;
    return q + L;
}

/* The end of the plain part of a string whose contents start at q (the
 * first '"', '\\' or control byte), or NULL when 16 bytes hold none. */
OKX_HOT const char *okx_fast_plain(const char *q)
{
    uint32_t s = okx_stop16(q);
    return s ? q + __builtin_ctz(s) : NULL;
}
#endif

/* okx_scan_str, the plain case found with one load. */
OKX_HOT int okx_fast_str(okx_cur *c, okx_str *out)
{
#ifdef OKX_FAST
    const char *q = c->p + 1;
    if (c->end - q >= 16) {
        const char *s = okx_fast_plain(q);
        if (s && *s == '"') {
            out->p = q;
            out->n = (uint32_t)(s - q);
            c->p = s + 1;
            return AT_OK;
        }
    }
#endif
    return okx_scan_str(c, out);
}

/* okx_scan_dec ("[+-]D+[.D+]" in a string, <= 18 digits, else dec_parse). */
OKX_HOT int okx_fast_dec(okx_cur *c, at_dec *out, okx_str *text)
{
#ifdef OKX_FAST
    const char *s = c->p + 1;
    if (*c->p == '"' && c->end - s >= 17 && s - c->base >= 9) {
        bool neg = *s == '-';
        const char *q = s + (*s == '-' || *s == '+');
        const char *e = okx_fast_udec(q, out);
        if (e) {
            out->m = neg ? -out->m : out->m;
            *text = (okx_str){s, (uint32_t)(e - s)};
            c->p = e + 1;
            return AT_OK;
        }
    }
#endif
    return okx_scan_dec(c, out, text);
}

/* okx_scan_int (a number or a string of digits, "-" allowed, <= 18 digits
 * on the fast path; a bare number ends at a separator, no leading zero).
 * Near the frame's end too (a books push ends with its seqId). */
OKX_HOT int okx_fast_int(okx_cur *c, int64_t *out)
{
#ifdef OKX_FAST
    const char *q = c->p, *end = c->end;
    if (end - q >= 3 && q - c->base >= 8 && end - c->base >= 16) {
        bool str = *q == '"';
        q += str;
        bool neg = *q == '-';
        q += neg;
        uint32_t L = (uint32_t)__builtin_ctz(~okx_mask16_in(q, end).digit | 0x10000u);
        const char *t = q + L;
        if (L - 1 < 15 && end - t >= 1 &&
            (str ? *t == '"' : (*q != '0' || L == 1) && (*t == ',' || *t == '}' || *t == ']'))) {
            uint64_t x = okx_digits_value(t, L);
            *out = neg ? -(int64_t)x : (int64_t)x;
            c->p = t + str;
            return AT_OK;
        }
    }
#endif
    return okx_scan_int(c, out);
}

/* Next member of an object whose '{' was consumed: 1 with the key in *key
 * (read by okx_fast_str) and c->p at the value, 0 after the '}', or an
 * error. */
static inline int okx_fast_member(okx_cur *c, int *state, okx_str *key)
{
    int r = okx_scan_sep(c, state, '}');
    if (r <= 0) {
        return r;
    }
    if (*c->p != '"') {
        return okx_cur_fail(c, AT_EINVAL, "object key is not a string", c->p);
    }
    if ((r = okx_fast_str(c, key)) != AT_OK) {
        return r;
    }
    okx_ws(c);
    if (c->p >= c->end) {
        return okx_cur_truncated(c);
    }
    if (*c->p != ':') {
        return okx_cur_fail(c, AT_EINVAL, "object key without a value", c->p);
    }
    c->p++;
    okx_ws(c);
    return c->p < c->end ? 1 : okx_cur_truncated(c);
}

/* The canonical compact books / trades / tickers push in one straight pass
 * (okx_md_fast.c). Returns 1 with *out filled exactly as okx_md_parse's
 * general decoder fills it, or 0 when the frame is anything else: nothing
 * is concluded then, the general decoder reads it from the start. */
int okx_md_fast_parse(okx_md *md, const char *frame, size_t len, okx_md_msg *out);

#endif

/* Unit tests for plugins/exchange_okx/okx_book.c's side arrays (room at both
 * ends, keys at the book's scale, pieces of the check string kept by
 * level) and okx_crc32.c's folded CRC: a book fed random pushes, as frames
 * through the scanner and as hand-made pushes, must hold exactly what a
 * plain sorted list applying OKX's rules holds, level by level and text by
 * text, with the checksum of that list; plus the edges one by one: deletes
 * at the top and the bottom, a full side, the arrays running out of room
 * at either end, a finer price raising the scale, prices that cannot fit,
 * gaps, resets, checksum misses, and the CRC on every length and
 * alignment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "okx_book.h"
#include "okx_md.h"

/* ---- the reference: a sorted list of levels, best first ----------------- */

typedef struct ref_level {
    at_dec px, sz;
    char pxs[32], szs[32];
} ref_level;

typedef struct ref_side {
    ref_level lv[OKX_BOOK_MAX_LEVELS + 1];
    uint32_t n;
} ref_side;

typedef struct ref_book {
    ref_side bids, asks;
    uint64_t dropped;
} ref_book;

static int dcmp(at_dec a, at_dec b)
{
    return engine_host()->dec_cmp(a, b);
}

static at_dec dec(const char *s)
{
    at_dec d;
    assert_int_equal(engine_host()->dec_parse(s, strlen(s), &d), AT_OK);
    return d;
}

/* OKX's rule for one level (dir -1: bids, best = highest). */
static void ref_merge(ref_book *r, ref_side *s, const char *px, const char *sz, int dir)
{
    at_dec p = dec(px), z = dec(sz);
    uint32_t i = 0;
    while (i < s->n && dir * dcmp(s->lv[i].px, p) < 0) {
        i++;
    }
    if (i < s->n && dcmp(s->lv[i].px, p) == 0) {
        if (z.m == 0) {
            memmove(&s->lv[i], &s->lv[i + 1], (s->n - i - 1) * sizeof s->lv[0]);
            s->n--;
        } else {
            s->lv[i].px = p;
            s->lv[i].sz = z;
            snprintf(s->lv[i].pxs, sizeof s->lv[i].pxs, "%s", px);
            snprintf(s->lv[i].szs, sizeof s->lv[i].szs, "%s", sz);
        }
        return;
    }
    if (z.m == 0) {
        return;
    }
    if (s->n == OKX_BOOK_MAX_LEVELS) {
        r->dropped++;
        if (i == s->n) {
            return;
        }
        s->n--; /* the worst goes */
    }
    memmove(&s->lv[i + 1], &s->lv[i], (s->n - i) * sizeof s->lv[0]);
    s->lv[i] = (ref_level){p, z, "", ""};
    snprintf(s->lv[i].pxs, sizeof s->lv[i].pxs, "%s", px);
    snprintf(s->lv[i].szs, sizeof s->lv[i].szs, "%s", sz);
    s->n++;
}

static int32_t ref_checksum(const ref_book *r)
{
    char buf[4096];
    size_t o = 0;
    for (uint32_t i = 0; i < OKX_BOOK_CHECKSUM_DEPTH; i++) {
        const ref_side *sides[2] = {&r->bids, &r->asks};
        for (int k = 0; k < 2; k++) {
            if (i < sides[k]->n) {
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s:%s", o ? ":" : "",
                                      sides[k]->lv[i].pxs, sides[k]->lv[i].szs);
            }
        }
    }
    return (int32_t)okx_crc32(0, buf, o);
}

static void expect_side(const okx_book_side *s, const ref_side *r)
{
    assert_int_equal(s->n, r->n);
    for (uint32_t i = 0; i < r->n; i++) {
        const okx_book_level *l = okx_book_level_at(s, i);
        okx_str px = okx_book_level_px(l), sz = okx_book_level_sz(l);
        if (!okx_str_eq(px, r->lv[i].pxs) || !okx_str_eq(sz, r->lv[i].szs) ||
            l->px.m != r->lv[i].px.m || l->px.scale != r->lv[i].px.scale ||
            l->sz.m != r->lv[i].sz.m || l->sz.scale != r->lv[i].sz.scale) {
            fail_msg("level %u is %.*s:%.*s, want %s:%s", i, (int)px.n, px.p, (int)sz.n, sz.p,
                     r->lv[i].pxs, r->lv[i].szs);
        }
    }
    assert_null(okx_book_level_at(s, r->n));
}

static void expect_top(const ref_side *r, const at_level *lv, uint32_t n)
{
    assert_int_equal(n, r->n < AT_BOOK_DEPTH ? r->n : AT_BOOK_DEPTH);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(lv[i].px.m == r->lv[i].px.m && lv[i].px.scale == r->lv[i].px.scale);
        assert_true(lv[i].sz.m == r->lv[i].sz.m && lv[i].sz.scale == r->lv[i].sz.scale);
    }
}

static void expect_same(const okx_book *b, const ref_book *r)
{
    expect_side(&b->bids, &r->bids);
    expect_side(&b->asks, &r->asks);
    assert_int_equal(b->dropped, r->dropped);
    assert_int_equal(okx_book_checksum(b), ref_checksum(r));
    at_ev_book *ev = calloc(1, sizeof *ev);
    assert_non_null(ev);
    okx_book_top(b, ev);
    expect_top(&r->bids, ev->bids, ev->nbids);
    expect_top(&r->asks, ev->asks, ev->nasks);
    free(ev);
}

/* ---- pushes -------------------------------------------------------------- */

typedef struct push {
    bool snapshot;
    int nb, na;
    char bpx[64][32], bsz[64][32], apx[64][32], asz[64][32];
} push;

typedef struct fx {
    okx_md md;
    okx_md_msg msg;
    okx_book book;
    ref_book ref;
    push ps;
    char frame[32768];
    int64_t seq;
    uint64_t rng;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    okx_md_init(&f->md, engine_host());
    okx_book_init(&f->book);
    f->seq = 100;
    f->rng = 0x9e3779b97f4a7c15u;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static uint32_t rnd(fx *f, uint32_t n)
{
    f->rng = f->rng * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(f->rng >> 33) % n;
}

/* The push as a frame (canonical, or with whitespace for the general
 * decoder), parsed and applied; the reference applies it too. Returns the
 * verdict. checksum_ok false: a wrong checksum is sent. */
static int apply_push(fx *f, bool spaced, bool checksum_ok)
{
    push *ps = &f->ps;
    ref_book *r = &f->ref;
    if (ps->snapshot) {
        memset(&r->bids, 0, sizeof r->bids);
        memset(&r->asks, 0, sizeof r->asks);
    }
    for (int i = 0; i < ps->nb; i++) {
        ref_merge(r, &r->bids, ps->bpx[i], ps->bsz[i], -1);
    }
    for (int i = 0; i < ps->na; i++) {
        ref_merge(r, &r->asks, ps->apx[i], ps->asz[i], +1);
    }
    int32_t ck = ref_checksum(r); /* 0 (1 in 2^32) would just skip the check */
    const char *sp = spaced ? " " : "";
    size_t o = 0;
    o += (size_t)snprintf(f->frame + o, sizeof f->frame - o,
                          "{\"arg\":{\"channel\":\"books\",\"instId\":\"T\"},\"action\":\"%s\","
                          "\"data\":[{\"asks\":[",
                          ps->snapshot ? "snapshot" : "update");
    for (int i = 0; i < ps->na; i++) {
        o += (size_t)snprintf(f->frame + o, sizeof f->frame - o, "%s[\"%s\",%s\"%s\",\"0\",\"%d\"]",
                              i ? "," : "", ps->apx[i], sp, ps->asz[i], i + 1);
    }
    o += (size_t)snprintf(f->frame + o, sizeof f->frame - o, "],\"bids\":[");
    for (int i = 0; i < ps->nb; i++) {
        o += (size_t)snprintf(f->frame + o, sizeof f->frame - o, "%s[\"%s\",%s\"%s\",\"0\",\"%d\"]",
                              i ? "," : "", ps->bpx[i], sp, ps->bsz[i], i + 1);
    }
    int64_t prev = ps->snapshot ? -1 : f->seq;
    f->seq += 1 + rnd(f, 3);
    o += (size_t)snprintf(f->frame + o, sizeof f->frame - o,
                          "],\"ts\":\"1\",\"checksum\":%d,\"prevSeqId\":%lld,\"seqId\":%lld}]}",
                          (int)(checksum_ok ? ck : ck ^ 0x40), (long long)prev, (long long)f->seq);
    assert_true(o < sizeof f->frame);
    int rc = okx_md_parse(&f->md, f->frame, o, &f->msg);
    if (rc != AT_OK) {
        fail_msg("parse failed (%s): %s", okx_md_reason(&f->md), f->frame);
    }
    return okx_book_apply(&f->book, &f->msg.u.book);
}

/* Prices as ticks of 10^-dec, written as OKX does (no trailing zeros), or
 * sometimes with them ("97000.10" is the same price, not the same text). */
static void fmt_px(fx *f, char *out, uint64_t ticks, int decimals)
{
    if (decimals == 0) {
        sprintf(out, "%llu", (unsigned long long)ticks);
        return;
    }
    uint64_t p = 1;
    for (int i = 0; i < decimals; i++) {
        p *= 10;
    }
    int n = sprintf(out, "%llu.%0*llu", (unsigned long long)(ticks / p), decimals,
                    (unsigned long long)(ticks % p));
    if (rnd(f, 8) != 0) {
        while (out[n - 1] == '0') {
            out[--n] = '\0';
        }
        if (out[n - 1] == '.') {
            out[--n] = '\0';
        }
    }
}

static void fmt_sz(fx *f, char *out, bool zero, bool long_text)
{
    if (zero) {
        strcpy(out, "0");
    } else if (long_text) {
        sprintf(out, "%u.%06u%06u", 1 + rnd(f, 999999), rnd(f, 1000000), 1 + rnd(f, 999999));
    } else if (rnd(f, 4) == 0) {
        sprintf(out, "%u.%u", rnd(f, 100), 1 + rnd(f, 999));
    } else {
        sprintf(out, "%u", 1 + rnd(f, 5000));
    }
}

/* A random walk of pushes around a mid price: changes mostly near the
 * touch, inserts and deletes at both ends, now and then a snapshot, a
 * finer price (the scale rises), long sizes (pieces over 16 bytes). */
static void random_walk(fx *f, int pushes, int decimals, uint64_t mid, bool spaced)
{
    for (int k = 0; k < pushes; k++) {
        push *ps = &f->ps;
        memset(ps, 0, sizeof *ps);
        ps->snapshot = k == 0 || rnd(f, 200) == 0;
        int d = decimals + (k > pushes / 2 && rnd(f, 10) == 0); /* a finer tick now and then */
        uint64_t scale_up = d > decimals ? 10 : 1;
        int n = ps->snapshot ? 60 : 1 + (int)rnd(f, 12);
        for (int i = 0; i < n && ps->nb < 64 && ps->na < 64; i++) {
            bool bid = rnd(f, 2) == 0;
            uint32_t depth = rnd(f, 5) == 0 ? rnd(f, 500) : rnd(f, 12);
            uint64_t t =
                (bid ? mid - 1 - depth : mid + 1 + depth) * scale_up + rnd(f, (uint32_t)scale_up);
            char *px = bid ? ps->bpx[ps->nb] : ps->apx[ps->na];
            char *sz = bid ? ps->bsz[ps->nb] : ps->asz[ps->na];
            fmt_px(f, px, t, d);
            fmt_sz(f, sz, !ps->snapshot && rnd(f, 4) == 0, rnd(f, 10) == 0);
            if (bid) {
                ps->nb++;
            } else {
                ps->na++;
            }
        }
        bool ok = rnd(f, 50) != 0;
        int v = apply_push(f, spaced, ok);
        if (!ok) {
            assert_int_equal(v, OKX_BOOK_CHECKSUM);
            assert_false(f->book.valid);
            f->seq = 100;
            memset(&f->ps, 0, sizeof f->ps);
            f->ps.snapshot = true;
            strcpy(f->ps.bpx[0], "1");
            strcpy(f->ps.bsz[0], "1");
            f->ps.nb = 1;
            assert_int_equal(apply_push(f, spaced, true), OKX_BOOK_OK);
        } else {
            assert_int_equal(v, OKX_BOOK_OK);
        }
        expect_same(&f->book, &f->ref);
    }
}

static void test_random_canonical(void **state)
{
    fx *f = *state;
    random_walk(f, 3000, 1, 970000, false);
}

static void test_random_spaced(void **state)
{
    fx *f = *state;
    random_walk(f, 1500, 6, 320000, true); /* the general decoder's views */
}

/* Hand-made pushes (no frame: views are read exactly), the same walk. */
static void test_random_by_hand(void **state)
{
    fx *f = *state;
    okx_md_book *m = &f->msg.u.book;
    for (int k = 0; k < 1500; k++) {
        push *ps = &f->ps;
        memset(ps, 0, sizeof *ps);
        ps->snapshot = k == 0;
        int n = ps->snapshot ? 40 : 1 + (int)rnd(f, 8);
        for (int i = 0; i < n; i++) {
            bool bid = rnd(f, 2) == 0;
            uint64_t t = bid ? 5000 - 1 - rnd(f, 30) : 5000 + 1 + rnd(f, 30);
            fmt_px(f, bid ? ps->bpx[ps->nb] : ps->apx[ps->na], t, 2);
            fmt_sz(f, bid ? ps->bsz[ps->nb] : ps->asz[ps->na], !ps->snapshot && rnd(f, 3) == 0,
                   rnd(f, 6) == 0);
            if (bid) {
                ps->nb++;
            } else {
                ps->na++;
            }
        }
        memset(m, 0, sizeof *m);
        m->action = ps->snapshot ? OKX_ACT_SNAPSHOT : OKX_ACT_UPDATE;
        for (int i = 0; i < ps->nb; i++) {
            m->bids[i] = (okx_md_level){dec(ps->bpx[i]),
                                        dec(ps->bsz[i]),
                                        {ps->bpx[i], (uint32_t)strlen(ps->bpx[i])},
                                        {ps->bsz[i], (uint32_t)strlen(ps->bsz[i])},
                                        1};
        }
        for (int i = 0; i < ps->na; i++) {
            m->asks[i] = (okx_md_level){dec(ps->apx[i]),
                                        dec(ps->asz[i]),
                                        {ps->apx[i], (uint32_t)strlen(ps->apx[i])},
                                        {ps->asz[i], (uint32_t)strlen(ps->asz[i])},
                                        1};
        }
        m->nbids = (uint32_t)ps->nb;
        m->nasks = (uint32_t)ps->na;
        ref_book *r = &f->ref;
        if (ps->snapshot) {
            memset(r, 0, sizeof *r);
        }
        for (int i = 0; i < ps->nb; i++) {
            ref_merge(r, &r->bids, ps->bpx[i], ps->bsz[i], -1);
        }
        for (int i = 0; i < ps->na; i++) {
            ref_merge(r, &r->asks, ps->apx[i], ps->asz[i], +1);
        }
        m->checksum = ref_checksum(r);
        int v = okx_book_apply(&f->book, m);
        assert_true(v == OKX_BOOK_OK);
        expect_same(&f->book, r);
    }
}

/* ---- edges one by one ---------------------------------------------------- */

static void set_push(fx *f, bool snapshot, const char *bids, const char *asks)
{
    /* "px:sz px:sz ..." */
    push *ps = &f->ps;
    memset(ps, 0, sizeof *ps);
    ps->snapshot = snapshot;
    const char *lists[2] = {bids, asks};
    for (int k = 0; k < 2; k++) {
        const char *s = lists[k];
        while (s && *s) {
            char px[32], sz[32];
            int used = 0;
            if (sscanf(s, " %31[^:]:%31s%n", px, sz, &used) != 2) {
                break;
            }
            strcpy(k ? ps->apx[ps->na] : ps->bpx[ps->nb], px);
            strcpy(k ? ps->asz[ps->na] : ps->bsz[ps->nb], sz);
            if (k) {
                ps->na++;
            } else {
                ps->nb++;
            }
            s += used;
        }
    }
}

static void test_deletes_at_both_ends(void **state)
{
    fx *f = *state;
    set_push(f, true, "10:1 9:2 8:3 7:4 6:5", "11:1 12:2 13:3 14:4 15:5");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    /* The best and the worst of each side go, then the new best and worst. */
    set_push(f, false, "10:0 6:0", "11:0 15:0");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    expect_same(&f->book, &f->ref);
    assert_int_equal(f->book.bids.n, 3);
    set_push(f, false, "9:0 7:0", "12:0 14:0");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    expect_same(&f->book, &f->ref);
    /* Down to one a side, then empty, then back. */
    set_push(f, false, "8:0", "13:0");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    assert_int_equal(f->book.bids.n, 0);
    assert_int_equal(f->book.asks.n, 0);
    assert_int_equal(okx_book_checksum(&f->book), (int32_t)okx_crc32(0, "", 0));
    set_push(f, false, "8.5:1", "");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    expect_same(&f->book, &f->ref);
}

/* Many more inserts at one end than deletes there: the arrays' room at that
 * end runs out and the range is moved back to the middle. */
static void test_room_at_the_ends(void **state)
{
    fx *f = *state;
    set_push(f, true, "1000:1", "1001:1");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    char px[32];
    for (int i = 0; i < 3 * OKX_BOOK_SLACK; i++) {
        /* a new best bid every time, and the worst ask gives way */
        memset(&f->ps, 0, sizeof f->ps);
        snprintf(f->ps.bpx[0], 32, "%d.5", 1000 + i);
        strcpy(f->ps.bsz[0], "2");
        snprintf(px, sizeof px, "%d", 2000 + i);
        strcpy(f->ps.apx[0], px);
        strcpy(f->ps.asz[0], "3");
        f->ps.nb = f->ps.na = 1;
        assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
        if (i % 37 == 0) {
            expect_same(&f->book, &f->ref);
        }
    }
    expect_same(&f->book, &f->ref);
    /* Now the other way: deletes at the top, inserts at the bottom. */
    for (int i = 0; i < 3 * OKX_BOOK_SLACK; i++) {
        memset(&f->ps, 0, sizeof f->ps);
        snprintf(f->ps.bpx[0], 32, "%d.5", 1000 + 3 * OKX_BOOK_SLACK - 1 - i);
        strcpy(f->ps.bsz[0], "0");
        snprintf(f->ps.bpx[1], 32, "%d", 900 - i);
        strcpy(f->ps.bsz[1], "4");
        f->ps.nb = 2;
        assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
        if (i % 41 == 0) {
            expect_same(&f->book, &f->ref);
        }
    }
    expect_same(&f->book, &f->ref);
}

/* A full side keeps its best 400: a worse price is dropped, a better one
 * pushes the worst out, and deletes make room again. */
static void test_full_side(void **state)
{
    fx *f = *state;
    memset(&f->ps, 0, sizeof f->ps);
    f->ps.snapshot = true;
    for (int i = 0; i < 64; i++) {
        snprintf(f->ps.bpx[i], 32, "%d", 10000 - i);
        strcpy(f->ps.bsz[i], "1");
    }
    f->ps.nb = 64;
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    for (int k = 1; k < 7; k++) { /* fill up to 448 offered levels */
        memset(&f->ps, 0, sizeof f->ps);
        for (int i = 0; i < 64; i++) {
            snprintf(f->ps.bpx[i], 32, "%d", 10000 - 64 * k - i);
            strcpy(f->ps.bsz[i], "1");
        }
        f->ps.nb = 64;
        assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    }
    assert_int_equal(f->book.bids.n, OKX_BOOK_MAX_LEVELS);
    assert_int_equal(f->book.dropped, 48);
    expect_same(&f->book, &f->ref);
    set_push(f, false, "20000:5 1:1", "");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    expect_same(&f->book, &f->ref);
    set_push(f, false, "20000:0 9999:0 9998:0 9601:7", "");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    expect_same(&f->book, &f->ref);
    assert_int_equal(f->book.bids.n, OKX_BOOK_MAX_LEVELS - 2);
}

/* Prices compare exactly across scales; a finer price raises the book's
 * scale (every key is rescaled) and a price that cannot fit is refused
 * with the book unchanged. */
static void test_scale(void **state)
{
    fx *f = *state;
    set_push(f, true, "100:1 99.5:2", "101:1 101.25:3");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    assert_int_equal(f->book.scale, 2);
    set_push(f, false, "99.50:4 99.5001:5 100.0000:6", "101.000001:7");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    assert_int_equal(f->book.scale, 6);
    expect_same(&f->book, &f->ref);
    assert_int_equal(f->book.bids.n, 3);
    expect_side(&f->book.bids, &f->ref.bids);

    /* 10^13 at 6 decimals is 10^19: more than 63 bits. */
    int32_t before = okx_book_checksum(&f->book);
    int64_t seq = f->book.seq_id;
    okx_md_book *m = &f->msg.u.book;
    memset(m, 0, sizeof *m);
    m->action = OKX_ACT_UPDATE;
    m->bids[0] =
        (okx_md_level){dec("10000000000000"), dec("1"), {"10000000000000", 14}, {"1", 1}, 1};
    m->nbids = 1;
    assert_int_equal(okx_book_apply(&f->book, m), AT_ERANGE);
    /* ... and one that would need the scale raised beyond what the levels
     * there can take. */
    m->bids[0] =
        (okx_md_level){dec("0.000000000001"), dec("1"), {"0.000000000001", 14}, {"1", 1}, 1};
    m->asks[0] = (okx_md_level){dec("9999999"), dec("1"), {"9999999", 7}, {"1", 1}, 1};
    m->nasks = 1;
    assert_int_equal(okx_book_apply(&f->book, m), AT_ERANGE);
    assert_int_equal(okx_book_checksum(&f->book), before);
    assert_int_equal(f->book.seq_id, seq);
    assert_true(f->book.valid);
    expect_same(&f->book, &f->ref);
    /* A snapshot starts the scale afresh. */
    set_push(f, true, "5:1", "6:1");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    assert_int_equal(f->book.scale, 0);
    expect_same(&f->book, &f->ref);
}

/* Pieces of every length around 16 bytes (kept whole in the side arrays up
 * to 16, read from the slot beyond), from frames and from hand-made pushes. */
static void test_piece_lengths(void **state)
{
    fx *f = *state;
    static const char digits[] = "123456789012345678901234";
    for (int pn = 1; pn <= 14; pn++) {
        for (int sn = 1; sn <= 10; sn++) {
            char bids[128], asks[128];
            snprintf(bids, sizeof bids, "%.*s:%.*s", pn, digits, sn, digits);
            snprintf(asks, sizeof asks, "9%.*s:%.*s 9%.*s.5:1", pn, digits, sn, digits, pn, digits);
            set_push(f, true, bids, asks);
            assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
            expect_same(&f->book, &f->ref);
            set_push(f, false, bids, asks); /* the same again: replaced in place */
            assert_int_equal(apply_push(f, true, true), OKX_BOOK_OK);
            expect_same(&f->book, &f->ref);
        }
    }
}

/* The sequence rules on the new arrays: a gap invalidates without touching
 * the levels, a reset continues, a checksum miss invalidates, and a
 * snapshot recovers from both. */
static void test_gap_reset_checksum(void **state)
{
    fx *f = *state;
    set_push(f, true, "10:1 9:1", "11:1 12:1");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    set_push(f, false, "10:2", "");
    f->seq += 5; /* prevSeqId will not chain */
    int64_t last = f->book.seq_id;
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_GAP);
    assert_false(f->book.valid);
    assert_int_equal(f->book.seq_id, last);
    const okx_book_level *l = okx_book_level_at(&f->book.bids, 0);
    assert_true(okx_str_eq(okx_book_level_sz(l), "1")); /* not applied */
    set_push(f, false, "10:3", "");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_STALE);
    /* A fresh snapshot; then a reset (seqId below prevSeqId) continues. */
    memset(&f->ref, 0, sizeof f->ref);
    set_push(f, true, "10:1 9:1", "11:1 12:1");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    okx_md_book *m = &f->msg.u.book;
    memset(m, 0, sizeof *m);
    m->action = OKX_ACT_UPDATE;
    m->has_seq = m->has_prev_seq = true;
    m->prev_seq_id = f->book.seq_id;
    m->seq_id = 3;
    m->asks[0] = (okx_md_level){dec("11"), dec("0"), {"11", 2}, {"0", 1}, 0};
    m->nasks = 1;
    ref_merge(&f->ref, &f->ref.asks, "11", "0", +1);
    m->checksum = ref_checksum(&f->ref);
    assert_int_equal(okx_book_apply(&f->book, m), OKX_BOOK_RESET);
    expect_same(&f->book, &f->ref);
    f->seq = 3;
    set_push(f, false, "9:7", "");
    assert_int_equal(apply_push(f, false, false), OKX_BOOK_CHECKSUM);
    assert_false(f->book.valid);
    memset(&f->ref, 0, sizeof f->ref);
    set_push(f, true, "2:1", "3:1");
    assert_int_equal(apply_push(f, false, true), OKX_BOOK_OK);
    assert_true(f->book.valid);
    expect_same(&f->book, &f->ref);
}

/* ---- CRC ----------------------------------------------------------------- */

static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
        }
    }
    return ~c;
}

/* Every length to 1500 at every alignment: the byte-wise, sliced, 16-byte
 * folded and 32-byte folded paths, and the zero-padded entry. */
static void test_crc_lengths(void **state)
{
    (void)state;
    unsigned char *buf = malloc(1600 + 32);
    assert_non_null(buf);
    uint64_t x = 12345;
    for (size_t i = 0; i < 1600 + 32; i++) {
        x = x * 6364136223846793005u + 1;
        buf[i] = (unsigned char)(x >> 56);
    }
    for (size_t n = 0; n <= 1500; n++) {
        for (size_t a = 0; a < 16; a += (n < 300 ? 1 : 5)) {
            uint32_t want = crc_bitwise(buf + a, n);
            assert_int_equal(okx_crc32(0, buf + a, n), want);
            /* chained in two calls */
            uint32_t half = okx_crc32(0, buf + a, n / 3);
            assert_int_equal(okx_crc32(half, buf + a + n / 3, n - n / 3), want);
        }
        unsigned char *z = calloc(1, 16 + n + 1);
        assert_non_null(z);
        memcpy(z + 16, buf, n);
        assert_int_equal(okx_crc32_zpad(z + 16, n), crc_bitwise(buf, n));
        free(z);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_canonical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_spaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletes_at_both_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_at_the_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_side, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_piece_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_reset_checksum, setup, teardown),
        cmocka_unit_test(test_crc_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "ledger_book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

static int money(at_dec a, at_dec b, at_dec *out)
{
    return at_dec_mul_round(a, b, LB_MONEY_SCALE, AT_ROUND_HALF_EVEN, out);
}

static at_dec dabs(at_dec d)
{
    d.m = d.m < 0 ? -d.m : d.m;
    return d;
}

at_dec lb_position(const lb_book *b)
{
    at_dec s = {0, 0};
    for (size_t i = 0; i < b->nlots; i++) {
        if (at_dec_add(s, b->lots[i].qty, &s) != AT_OK) {
            return (at_dec){0, 0};
        }
    }
    return s;
}

/* (exit - entry) x q x ctVal, signed by the lot's direction. */
static int close_pnl(const lb_lot *l, at_dec q, at_dec px, at_dec ct_val, at_dec *out)
{
    at_dec diff, qv;
    int rc = at_dec_sub(px, l->px, &diff);
    if (rc == AT_OK) {
        rc = at_dec_mul(q, ct_val, &qv);
    }
    if (rc == AT_OK) {
        rc = money(diff, qv, out);
    }
    if (rc == AT_OK && l->qty.m < 0) {
        out->m = -out->m;
    }
    return rc;
}

/* fee x q / sz, to the money scale. */
static int fee_share(at_dec fee, at_dec q, at_dec sz, at_dec *out)
{
    at_dec t;
    int rc = at_dec_mul(fee, q, &t);
    return rc == AT_OK ? at_dec_div(t, sz, LB_MONEY_SCALE, AT_ROUND_HALF_EVEN, out) : rc;
}

static int reserve(lb_book *b)
{
    size_t cap = b->cap ? 2 * b->cap : 4;
    lb_lot *n = realloc(b->lots, cap * sizeof(*n));
    if (!n) {
        return AT_ENOMEM;
    }
    b->lots = n;
    b->cap = cap;
    return AT_OK;
}

int lb_apply_fill(lb_book *b, bool net, bool book_long, bool buy, at_dec sz, at_dec px, at_dec fee,
                  at_dec ct_val, const char *decision_id, int64_t ts_ms, lb_result *out)
{
    memset(out, 0, sizeof(*out));
    if (sz.m <= 0 || px.m <= 0 || ct_val.m <= 0) {
        return AT_EINVAL;
    }
    at_dec pos = lb_position(b);
    bool closing = net ? (pos.m != 0 && (pos.m > 0) != buy) : (book_long != buy);
    /* Plan first, change the book only when every sum worked. */
    at_dec left = sz, fee_left = fee, realized = {0, 0};
    size_t closed_whole = 0;
    at_dec last_left = {0, 0}; /* what stays of the first lot not closed whole */
    for (size_t i = 0; closing && i < b->nlots && left.m > 0; i++) {
        const lb_lot *l = &b->lots[i];
        at_dec held = dabs(l->qty);
        at_dec q = at_dec_cmp(held, left) <= 0 ? held : left;
        at_dec pnl, f;
        int rc = close_pnl(l, q, px, ct_val, &pnl);
        if (rc == AT_OK) {
            rc = fee_share(fee, q, sz, &f);
        }
        /* One share per decision; past LB_SHARES_MAX the last one takes the
         * rest (the report is coarser, the totals stay exact). */
        lb_share *s = NULL;
        for (size_t k = 0; k < out->n && !s; k++) {
            s = strcmp(out->shares[k].decision_id, l->decision_id) == 0 ? &out->shares[k] : NULL;
        }
        if (!s && out->n < LB_SHARES_MAX) {
            s = &out->shares[out->n++];
            snprintf(s->decision_id, sizeof(s->decision_id), "%s", l->decision_id);
        } else if (!s) {
            s = &out->shares[out->n - 1];
        }
        if (rc == AT_OK) {
            rc = at_dec_add(s->qty, q, &s->qty);
        }
        if (rc == AT_OK) {
            rc = at_dec_add(s->pnl, pnl, &s->pnl);
        }
        if (rc == AT_OK) {
            rc = at_dec_add(s->fee, f, &s->fee);
        }
        if (rc == AT_OK) {
            rc = at_dec_sub(fee_left, f, &fee_left);
        }
        if (rc == AT_OK) {
            rc = at_dec_add(realized, pnl, &realized);
        }
        if (rc == AT_OK) {
            rc = at_dec_sub(left, q, &left);
        }
        if (rc == AT_OK && at_dec_cmp(q, held) < 0) {
            rc = at_dec_sub(held, q, &last_left);
            if (l->qty.m < 0) {
                last_left.m = -last_left.m;
            }
        } else if (rc == AT_OK) {
            closed_whole++;
        }
        if (rc != AT_OK) {
            memset(out, 0, sizeof(*out));
            return AT_ERANGE;
        }
    }
    bool opens = left.m > 0 && (net || !closing);
    out->over = left.m > 0 && !opens;
    /* The rest of the fee: the lot it opens, or the fill's own decision when
     * a long/short book was asked to close more than it holds. */
    if (left.m > 0 || out->n == 0) {
        if (out->n == LB_SHARES_MAX) {
            /* fold the remainder into the last share rather than lose it */
            lb_share *s = &out->shares[out->n - 1];
            if (at_dec_add(s->fee, fee_left, &s->fee) != AT_OK) {
                memset(out, 0, sizeof(*out));
                return AT_ERANGE;
            }
        } else {
            lb_share *s = &out->shares[out->n++];
            snprintf(s->decision_id, sizeof(s->decision_id), "%s", decision_id ? decision_id : "");
            s->opened = opens;
            s->qty = left;
            s->pnl = (at_dec){0, 0};
            s->fee = fee_left;
        }
    } else if (fee_left.m != 0) {
        /* rounding left a remainder: the last close takes it, the total stays exact */
        lb_share *s = &out->shares[out->n - 1];
        if (at_dec_add(s->fee, fee_left, &s->fee) != AT_OK) {
            memset(out, 0, sizeof(*out));
            return AT_ERANGE;
        }
    }
    at_dec new_realized, new_fees;
    if (at_dec_add(b->realized, realized, &new_realized) != AT_OK ||
        at_dec_add(b->fees, fee, &new_fees) != AT_OK) {
        memset(out, 0, sizeof(*out));
        return AT_ERANGE;
    }
    /* Room first, so a failure leaves the book untouched. */
    if (opens && b->nlots == b->cap && reserve(b) != AT_OK) {
        memset(out, 0, sizeof(*out));
        return AT_ENOMEM;
    }
    /* Apply: drop the lots closed whole, shrink the next one. */
    if (closing) {
        size_t keep_from = closed_whole;
        if (keep_from < b->nlots && last_left.m != 0) {
            b->lots[keep_from].qty = last_left;
        }
        if (keep_from > 0) { /* (an empty book has no array: memmove wants one) */
            memmove(b->lots, b->lots + keep_from, (b->nlots - keep_from) * sizeof(*b->lots));
            b->nlots -= keep_from;
        }
    }
    if (opens) {
        lb_lot l = {.qty = left, .px = px, .ts_ms = ts_ms};
        if (!buy) {
            l.qty.m = -l.qty.m;
        }
        snprintf(l.decision_id, sizeof(l.decision_id), "%s", decision_id ? decision_id : "");
        b->lots[b->nlots++] = l; /* room was made above */
    }
    b->realized = new_realized;
    b->fees = new_fees;
    return AT_OK;
}

int lb_apply_funding(lb_book *b, at_dec ct_val, at_dec mark, at_dec rate, at_dec *out_by_lot)
{
    at_dec total = {0, 0}, per_ct;
    int rc = at_dec_mul(mark, rate, &per_ct);
    for (size_t i = 0; rc == AT_OK && i < b->nlots; i++) {
        at_dec qv;
        rc = at_dec_mul(b->lots[i].qty, ct_val, &qv);
        if (rc == AT_OK) {
            rc = money(qv, per_ct, &out_by_lot[i]);
        }
        if (rc == AT_OK) {
            out_by_lot[i].m = -out_by_lot[i].m; /* longs pay a positive rate */
            rc = at_dec_add(total, out_by_lot[i], &total);
        }
    }
    at_dec sum;
    if (rc == AT_OK) {
        rc = at_dec_add(b->funding, total, &sum);
    }
    if (rc != AT_OK) {
        return AT_ERANGE;
    }
    b->funding = sum;
    return AT_OK;
}

int lb_unrealized(const lb_book *b, at_dec ct_val, at_dec mark, at_dec *out)
{
    at_dec total = {0, 0};
    for (size_t i = 0; i < b->nlots; i++) {
        at_dec p;
        int rc = close_pnl(&b->lots[i], dabs(b->lots[i].qty), mark, ct_val, &p);
        if (rc == AT_OK) {
            rc = at_dec_add(total, p, &total);
        }
        if (rc != AT_OK) {
            return AT_ERANGE;
        }
    }
    *out = total;
    return AT_OK;
}

void lb_free(lb_book *b)
{
    free(b->lots);
    memset(b, 0, sizeof(*b));
}

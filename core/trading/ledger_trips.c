/* Round trips per book and the per-instrument figures of one origin on one
 * account (ledger.h: ledger_sym_of), for the shadow-vs-live comparison. A
 * trip is a book's position from flat back to flat (or through zero in net
 * mode): its net PnL is what its closes realized plus the fees of its fills
 * and the funding booked while it was open. Rebuilt exactly at start, as
 * the journal's fills and funding rows are applied again in order. */
#include <string.h>

#include "decimal.h"
#include "ledger_internal.h"

static bool sign_changed(at_dec before, at_dec after)
{
    return before.m != 0 && (after.m == 0 || (after.m > 0) != (before.m > 0));
}

void lg_trip_fill(book *b, at_dec before, const lb_result *r)
{
    /* closes first: they belong to the trip the fill may end; a close into
     * an empty book (a long/short book asked to close what it does not
     * hold) ends none, and its fee is no part of the next one */
    for (size_t i = 0; before.m != 0 && i < r->n; i++) {
        if (!r->shares[i].opened) {
            at_dec_add(b->trip_realized, r->shares[i].pnl, &b->trip_realized);
            at_dec_add(b->trip_fees, r->shares[i].fee, &b->trip_fees);
        }
    }
    if (sign_changed(before, lb_position(&b->b))) {
        at_dec net = b->trip_realized;
        at_dec_add(net, b->trip_fees, &net);
        at_dec_add(net, b->trip_funding, &net);
        b->trips++;
        b->wins += net.m > 0;
        b->trip_realized = b->trip_fees = b->trip_funding = (at_dec){0, 0};
    }
    /* what it opened starts (or adds to) the next one */
    for (size_t i = 0; i < r->n; i++) {
        if (r->shares[i].opened) {
            at_dec_add(b->trip_fees, r->shares[i].fee, &b->trip_fees);
        }
    }
}

void lg_trip_funding(book *b, at_dec amount)
{
    at_dec_add(b->trip_funding, amount, &b->trip_funding);
}

int ledger_sym_of(const ledger *l, const char *origin, const char *account, at_inst inst,
                  ledger_sym *out)
{
    memset(out, 0, sizeof(*out));
    out->unrealized_known = true;
    bool any = false;
    const inst_info *x = NULL;
    for (size_t k = 0; k < l->ninsts && !x; k++) {
        x = l->insts[k].inst == inst ? &l->insts[k] : NULL;
    }
    for (size_t i = 0; i < l->nbooks; i++) {
        const book *b = l->books[i];
        if (b->inst != inst || strcmp(b->origin, origin) != 0 || strcmp(b->account, account) != 0) {
            continue;
        }
        any = true;
        at_dec_add(out->realized, b->b.realized, &out->realized);
        at_dec_add(out->fees, b->b.fees, &out->fees);
        at_dec_add(out->funding, b->b.funding, &out->funding);
        at_dec_add(out->position, lb_position(&b->b), &out->position);
        out->round_trips += b->trips;
        out->wins += b->wins;
        if (b->b.nlots == 0) {
            continue;
        }
        at_dec px = x ? (x->mark.m > 0 ? x->mark : x->last) : (at_dec){0, 0};
        at_dec u;
        if (!x || !x->have || px.m <= 0 || lb_unrealized(&b->b, x->ct_val, px, &u) != AT_OK) {
            out->unrealized_known = false;
            continue;
        }
        at_dec_add(out->unrealized, u, &out->unrealized);
    }
    out->realized = at_dec_normalize(out->realized);
    out->fees = at_dec_normalize(out->fees);
    out->funding = at_dec_normalize(out->funding);
    out->unrealized = at_dec_normalize(out->unrealized);
    out->position = at_dec_normalize(out->position);
    return any ? AT_OK : AT_ENOENT;
}

/* Moving a price on request (POST /sim/price): tests make a TP/SL or a limit
 * order trigger now instead of waiting for the random walk to get there. */
#include "market_int.h"

int market_set_price(sim_market *m, sim_inst *in, at_dec px, int64_t now_ms)
{
    if (!m || !in || in < m->inst || in >= m->inst + m->ninst || px.m <= 0) {
        return AT_EINVAL;
    }
    at_dec snapped;
    if (at_dec_round_step(px, in->tick_sz, AT_ROUND_DOWN, &snapped) != AT_OK ||
        at_dec_cmp(snapped, px) != 0) {
        return AT_EINVAL;
    }
    mkt_state *st = &m->st[in - m->inst];
    int64_t ticks = mkt_dec_ticks(in, px);
    st->prev_ticks = st->px_ticks = ticks;
    /* The walk continues from here; a replayed CSV path returns to its data
     * at the next step. */
    if (!st->csv) {
        in->px_double = at_dec_to_double(px);
    }
    in->last = px;
    in->mark = px;
    in->index = px;
    if (mkt_book_update(m, in, st)) {
        in->book.seq_id++;
        mkt_book_publish(in, st, now_ms);
        in->book_changed = true;
    }
    in->ticker_changed = true;
    in->last_ts_ms = now_ms;
    return AT_OK;
}

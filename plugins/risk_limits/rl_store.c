/* risk_limits' reads from storage: the instruments table (at start, every
 * instruments_refresh, when an exchange comes up, and on a miss), and the
 * last hour's entries from `orders` at start, so a restart does not reset
 * the pace. A read's rows replace the list only once it has succeeded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk_limits.h"

static const char *col_text(const at_db_row *row, size_t i)
{
    return i < row->ncols && row->cols[i].type == AT_DB_TEXT ? row->cols[i].u.s : NULL;
}

static bool col_dec(const rl_ctx *c, const at_db_row *row, size_t i, at_dec *out)
{
    const char *s = col_text(row, i);
    if (i < row->ncols && row->cols[i].type == AT_DB_INT) {
        *out = (at_dec){row->cols[i].u.i, 0};
        return true;
    }
    return s && c->h->dec_parse(s, (size_t)-1, out) == AT_OK;
}

/* "BTC-USDT-SWAP" settled in USDT: linear. */
static bool settles_in_quote(const char *inst_id, const char *settle)
{
    const char *a = strchr(inst_id, '-');
    const char *b = a ? strchr(a + 1, '-') : NULL;
    return settle && b && strlen(settle) == (size_t)(b - a - 1) &&
           strncmp(a + 1, settle, (size_t)(b - a - 1)) == 0;
}

enum { I_EXCHANGE, I_ID, I_CTVAL, I_CTMULT, I_LOT, I_MIN, I_LEVER, I_SETTLE, I_STATE };

static int on_instr_row(void *arg, const at_db_row *row)
{
    rl_ctx *c = arg;
    const char *ex = col_text(row, I_EXCHANGE), *id = col_text(row, I_ID);
    at_dec ctv, mult = {1, 0}, lot, min, lever = {0, 0};
    if (!ex || !id || !col_dec(c, row, I_CTVAL, &ctv) || ctv.m <= 0 ||
        !col_dec(c, row, I_LOT, &lot) || lot.m <= 0 || !col_dec(c, row, I_MIN, &min) || min.m < 0) {
        if (id) {
            c->h->log(c->inst, AT_LOG_WARN,
                      "instrument %s of %s skipped: ct_val, lot_sz or min_sz missing or not a "
                      "positive decimal",
                      id, ex ? ex : "?");
        }
        return 0;
    }
    if (col_dec(c, row, I_CTMULT, &mult) && mult.m > 0 && !(mult.m == 1 && mult.scale == 0) &&
        c->h->dec_mul(ctv, mult, &ctv) != AT_OK) {
        return 0;
    }
    col_dec(c, row, I_LEVER, &lever);
    at_inst inst = c->h->inst_intern(id);
    rl_instr *r = inst ? rl_vec_push(&c->loading) : NULL;
    if (r) {
        rl_copy_id(r->exchange, ex);
        r->inst = inst;
        r->ct_val = ctv;
        r->lot = lot;
        r->min_sz = min;
        r->max_lever = lever.m > 0 ? lever : (at_dec){0, 0};
        const char *st = col_text(row, I_STATE);
        r->live = !st || strcmp(st, "live") == 0;
        r->linear = settles_in_quote(id, col_text(row, I_SETTLE));
    }
    return 0;
}

static void on_instr_done(void *arg, int err, const char *error)
{
    rl_ctx *c = arg;
    c->loading_busy = false;
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_ERROR,
                  "instruments not read (%s): the list read before stays; entries on unknown "
                  "instruments are rejected",
                  error ? error : "storage error");
        c->loading.n = 0;
    } else {
        rl_vec tmp = c->instrs;
        c->instrs = c->loading;
        c->loading = tmp;
        c->loading.n = 0;
        if (!c->instrs_loaded || c->h->log_enabled(AT_LOG_DEBUG)) {
            c->h->log(c->inst, c->instrs_loaded ? AT_LOG_DEBUG : AT_LOG_INFO,
                      "%zu instrument rows read%s", c->instrs.n,
                      c->instrs.n ? "" : " (exchanges write theirs when they come up)");
        }
        c->instrs_loaded = c->instrs.n > 0;
    }
    if (c->reload_wanted && !c->stopping) {
        c->reload_wanted = false;
        rl_instruments_load(c);
    }
}

void rl_instruments_load(rl_ctx *c)
{
    if (c->stopping) {
        return;
    }
    if (c->loading_busy) {
        c->reload_wanted = true; /* rows written after the query in flight began */
        return;
    }
    c->loading.n = 0;
    c->load_us = c->h->now_us();
    c->loading_busy = true; /* before the call: a storage may answer from inside it */
    int rc = c->h->db_query(c->inst,
                            "SELECT exchange, inst_id, ct_val, ct_mult, lot_sz, min_sz, max_lever, "
                            "settle_ccy, state FROM instruments",
                            NULL, 0, on_instr_row, on_instr_done, c);
    if (rc != AT_OK) {
        c->loading_busy = false;
        c->h->log(c->inst, AT_LOG_ERROR,
                  "instruments cannot be read (error %d: no storage?): entries on instruments "
                  "not read before are rejected",
                  rc);
    }
}

void rl_on_refresh(void *arg)
{
    rl_instruments_load(arg);
}

/* The last hour's entries, so a restart does not reset the pace. */
static int on_open_row(void *arg, const at_db_row *row)
{
    rl_ctx *c = arg;
    const char *acct = col_text(row, 0), *inst = col_text(row, 1), *dec = col_text(row, 2),
               *id = col_text(row, 3);
    if (!acct || !inst || !id || row->ncols < 5 || row->cols[4].type != AT_DB_INT ||
        rl_has_open(c, id)) {
        return 0;
    }
    rl_open *o = rl_vec_push(&c->opens);
    if (o) {
        rl_copy_id(o->account, acct);
        rl_copy_id(o->intent_id, id);
        rl_copy_id(o->decision_id, dec);
        o->inst = c->h->inst_intern(inst);
        o->at_us = row->cols[4].u.i * 1000;
    }
    return 0;
}

static int by_time(const void *a, const void *b)
{
    int64_t x = ((const rl_open *)a)->at_us, y = ((const rl_open *)b)->at_us;
    return x < y ? -1 : x > y;
}

static void on_opens_done(void *arg, int err, const char *error)
{
    rl_ctx *c = arg;
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "the last hour's entries were not read (%s): the pace counts from now",
                  error ? error : "storage error");
    }
    if (c->opens.n > 1) { /* rows may come after live ones */
        qsort(c->opens.v, c->opens.n, c->opens.size, by_time);
    }
}

void rl_opens_load(rl_ctx *c)
{
    const at_db_value p[] = {AT_DB_B(false), AT_DB_I(c->h->now_us() / 1000 - 3600000)};
    int rc = c->h->db_query(c->inst,
                            "SELECT account, inst_id, decision_id, intent_id, created_ms FROM "
                            "orders WHERE op = 'place' AND reduce_only = $1 AND created_ms >= $2 "
                            "AND state NOT IN ('rejected', 'shadow', 'failed') AND NOT "
                            "((COALESCE(pos_side, 'net') = 'long' AND side = 'sell') OR "
                            "(COALESCE(pos_side, 'net') = 'short' AND side = 'buy')) "
                            "ORDER BY created_ms",
                            p, 2, on_open_row, on_opens_done, c);
    if (rc != AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "the last hour's entries cannot be read (error %d): the pace counts from now",
                  rc);
    }
}

/* The ledger's tables: the journal written and read again at start, the
 * decisions' outcomes, pnl_snapshots. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dbcol.h"
#include "decimal.h"
#include "ledger_internal.h"
#include "util.h"

/* ------------------------------------------------------------ writes */

static void write_done(void *arg, int err, const char *error)
{
    ledger *l = arg;
    if (err != AT_OK && !l->freed) {
        l->h->log(l->self, AT_LOG_ERROR, "a ledger write failed: %s (%s)", at_strerror(err),
                  error ? error : "");
    }
    l->queries--;
    if (l->freed && l->queries == 0) {
        free(l);
    }
}

void lg_db_write(ledger *l, const char *sql, const at_db_value *p, size_t n)
{
    if (l->no_journal) {
        return;
    }
    int rc = l->h->db_write(l->self, sql, p, n, write_done, l);
    if (rc == AT_OK) {
        l->queries++;
    } else if (!l->said_no_storage) {
        l->said_no_storage = true;
        l->h->log(l->self, AT_LOG_WARN,
                  "PnL per trader is not stored (no storage: %s); it is kept in memory only",
                  at_strerror(rc));
    }
}

static json_t *dec_json(at_dec d)
{
    char s[AT_DEC_STRLEN];
    at_dec_text(at_dec_normalize(d), s);
    return json_string(s);
}

void lg_write_outcome(ledger *l, const agg *a)
{
    at_dec net = a->realized;
    at_dec_add(net, a->fees, &net);
    at_dec_add(net, a->funding, &net);
    json_t *syms = json_object();
    for (size_t i = 0; syms && i < a->nsyms; i++) {
        const agg_sym *y = &a->syms[i];
        const char *name = l->h->inst_name(y->inst);
        json_object_set_new(syms, name ? name : "?",
                            json_pack("{s:o,s:o,s:o,s:o}", "opened", dec_json(y->opened), "closed",
                                      dec_json(y->closed), "open", dec_json(y->open), "closing",
                                      dec_json(y->closing)));
    }
    json_t *o =
        syms ? json_pack("{s:o,s:o,s:o,s:o,s:I,s:o}", "realized_pnl", dec_json(a->realized), "fees",
                         dec_json(a->fees), "funding", dec_json(a->funding), "net_pnl",
                         dec_json(net), "fills", (json_int_t)a->fills, "symbols", syms)
             : NULL;
    char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!js) {
        l->h->log(l->self, AT_LOG_ERROR, "%s: out of memory: outcome not written", a->id);
        return;
    }
    const at_db_value p[] = {AT_DB_S(a->id), AT_DB_S(js), AT_DB_D(at_dec_normalize(net)),
                             AT_DB_I(lg_now_ms(l))};
    lg_db_write(
        l, "UPDATE decisions SET outcome_json = $2, net_pnl = $3, outcome_ms = $4 WHERE id = $1", p,
        4);
    free(js);
}

/* Totals of one origin on one account. */
void lg_totals(const ledger *l, const char *origin, const char *account, ledger_pnl *out, bool *any)
{
    memset(out, 0, sizeof(*out));
    out->unrealized_known = true;
    *any = false;
    for (size_t i = 0; i < l->nbooks; i++) {
        const book *b = l->books[i];
        if (strcmp(b->origin, origin) != 0 || strcmp(b->account, account) != 0) {
            continue;
        }
        *any = true;
        at_dec_add(out->realized, b->b.realized, &out->realized);
        at_dec_add(out->fees, b->b.fees, &out->fees);
        at_dec_add(out->funding, b->b.funding, &out->funding);
        if (b->b.nlots == 0) {
            continue;
        }
        out->positions++;
        const inst_info *x = NULL;
        for (size_t k = 0; k < l->ninsts && !x; k++) {
            x = l->insts[k].inst == b->inst ? &l->insts[k] : NULL;
        }
        at_dec px = x ? (x->mark.m > 0 ? x->mark : x->last) : (at_dec){0, 0};
        at_dec u;
        if (!x || !x->have || px.m <= 0 || lb_unrealized(&b->b, x->ct_val, px, &u) != AT_OK) {
            out->unrealized_known = false;
            continue;
        }
        at_dec_add(out->unrealized, u, &out->unrealized);
    }
}

void lg_snapshot(ledger *l, const char *origin, const char *account, int64_t ts)
{
    ledger_pnl t;
    bool any;
    lg_totals(l, origin, account, &t, &any);
    if (!any) {
        return;
    }
    at_dec net = t.realized;
    at_dec_add(net, t.fees, &net);
    at_dec_add(net, t.funding, &net);
    at_dec_add(net, t.unrealized, &net);
    const at_db_value p[] = {AT_DB_S(origin),
                             AT_DB_S(account),
                             AT_DB_I(ts),
                             AT_DB_D(at_dec_normalize(t.realized)),
                             AT_DB_D(at_dec_normalize(t.fees)),
                             AT_DB_D(at_dec_normalize(t.funding)),
                             t.unrealized_known ? AT_DB_D(at_dec_normalize(t.unrealized)) : AT_DB_N,
                             t.unrealized_known ? AT_DB_D(at_dec_normalize(net)) : AT_DB_N,
                             AT_DB_I((int64_t)t.positions)};
    lg_db_write(l,
                "INSERT INTO pnl_snapshots (origin, account, ts_ms, realized, fees, funding, "
                "unrealized, net, positions) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
                "ON CONFLICT (origin, account, ts_ms) DO UPDATE SET realized = $4, fees = $5, "
                "funding = $6, unrealized = $7, net = $8, positions = $9",
                p, sizeof(p) / sizeof(p[0]));
}

/* ------------------------------------------------------------ start */

typedef struct replay {
    ledger *l;
    int step; /* 0 journal, 1 stored fills missing from it */
} replay;

static int dec_col(const at_db_row *row, size_t i, at_dec *out)
{
    const char *s = dbcol_text(row, i);
    return s ? at_dec_parse(s, strlen(s), out) : AT_EINVAL;
}

static int on_journal_row(void *arg, const at_db_row *row)
{
    replay *r = arg;
    ledger *l = r->l;
    /* seq, id, kind, account, origin, decision_id, inst_id, pos_side, side,
     * sz, px, fee, ct_val, rate, mark, ts_ms, cl_ord_id */
    int64_t seq = 0, ts = 0;
    dbcol_int(row, 0, &seq);
    dbcol_int(row, 15, &ts);
    const char *id = dbcol_text(row, 1), *kind = dbcol_text(row, 2);
    const char *account = dbcol_text(row, 3), *origin = dbcol_text(row, 4);
    const char *inst = dbcol_text(row, 6), *ps = dbcol_text(row, 7);
    if (seq > l->seq) {
        l->seq = seq;
    }
    at_dec ct_val;
    if (!id || !kind || !account || !origin || !inst || !ps || dec_col(row, 12, &ct_val) != AT_OK) {
        l->st.errors++;
        l->h->log(l->self, AT_LOG_ERROR, "ledger row %" PRId64 " is malformed: skipped", seq);
        return 0;
    }
    at_inst in = l->h->inst_intern(inst);
    at_pos_side side = strcmp(ps, "long") == 0    ? AT_POS_LONG
                       : strcmp(ps, "short") == 0 ? AT_POS_SHORT
                                                  : AT_POS_NET;
    inst_info *x = lg_inst_of(l, in);
    if (x && !x->have) {
        x->have = x->linear = true; /* journaled rows are linear ones */
        x->ct_val = ct_val;
    }
    if (strcmp(kind, "fill") == 0) {
        at_ev_fill f;
        memset(&f, 0, sizeof(f));
        f.h.inst = in;
        snprintf(f.account, sizeof(f.account), "%s", account);
        const char *sd = dbcol_text(row, 8), *cl = dbcol_text(row, 16);
        f.side = sd && strcmp(sd, "sell") == 0 ? AT_SIDE_SELL : AT_SIDE_BUY;
        f.pos_side = side;
        f.exch_ts_ms = ts;
        snprintf(f.cl_ord_id, sizeof(f.cl_ord_id), "%s", cl ? cl : "");
        const char *tid = strrchr(id, '/');
        snprintf(f.trade_id, sizeof(f.trade_id), "%s", tid ? tid + 1 : id);
        attr a;
        memset(&a, 0, sizeof(a));
        snprintf(a.origin, sizeof(a.origin), "%s", strcmp(origin, UNATTRIBUTED) == 0 ? "" : origin);
        const char *d = dbcol_text(row, 5);
        snprintf(a.decision_id, sizeof(a.decision_id), "%s", d ? d : "");
        if (dec_col(row, 9, &f.sz) != AT_OK || dec_col(row, 10, &f.px) != AT_OK ||
            dec_col(row, 11, &f.fee) != AT_OK ||
            lg_apply_fill(l, &f, inst, &a, ct_val, false) != AT_OK) {
            l->st.errors++;
            l->h->log(l->self, AT_LOG_ERROR, "ledger row %s could not be applied again", id);
            return 0;
        }
        lg_seen(l, id, true);
    } else {
        at_dec rate, mark;
        if (dec_col(row, 13, &rate) != AT_OK || dec_col(row, 14, &mark) != AT_OK) {
            l->st.errors++;
            return 0;
        }
        lg_apply_funding(l, in, ct_val, rate, mark, ts, id, false);
    }
    l->st.replayed++;
    return 0;
}

/* A stored fill (fills table) the journal lacks. */
static int on_missing_row(void *arg, const at_db_row *row)
{
    replay *r = arg;
    ledger *l = r->l;
    /* account, inst_id, trade_id, cl_ord_id, side, pos_side, px, sz, fee, ts_ms */
    const char *account = dbcol_text(row, 0), *inst = dbcol_text(row, 1);
    const char *tid = dbcol_text(row, 2), *cl = dbcol_text(row, 3);
    const char *sd = dbcol_text(row, 4), *ps = dbcol_text(row, 5);
    at_ev_fill f;
    memset(&f, 0, sizeof(f));
    if (!account || !inst || !tid || dec_col(row, 6, &f.px) != AT_OK ||
        dec_col(row, 7, &f.sz) != AT_OK) {
        return 0;
    }
    if (dec_col(row, 8, &f.fee) != AT_OK) {
        f.fee = (at_dec){0, 0};
    }
    f.h.inst = l->h->inst_intern(inst);
    snprintf(f.account, sizeof(f.account), "%s", account);
    snprintf(f.trade_id, sizeof(f.trade_id), "%s", tid);
    snprintf(f.cl_ord_id, sizeof(f.cl_ord_id), "%s", cl ? cl : "");
    f.side = sd && strcmp(sd, "sell") == 0 ? AT_SIDE_SELL : AT_SIDE_BUY;
    f.pos_side = ps && strcmp(ps, "long") == 0    ? AT_POS_LONG
                 : ps && strcmp(ps, "short") == 0 ? AT_POS_SHORT
                                                  : AT_POS_NET;
    dbcol_int(row, 9, &f.exch_ts_ms);
    l->h->log(l->self, AT_LOG_WARN,
              "%s %s: fill %s was stored but not booked (the engine stopped between the two): "
              "booked now",
              account, inst, tid);
    lg_queue_fill(l, &f, true);
    return 0;
}

static void on_replay_done(void *arg, int err, const char *error);

static void replay_step(replay *r)
{
    ledger *l = r->l;
    int rc;
    if (r->step == 0) {
        rc = l->h->db_query(l->self,
                            "SELECT seq, id, kind, account, origin, decision_id, inst_id, "
                            "pos_side, side, sz, px, fee, ct_val, rate, mark, ts_ms, cl_ord_id "
                            "FROM ledger ORDER BY seq",
                            NULL, 0, on_journal_row, on_replay_done, r);
    } else {
        rc = l->h->db_query(
            l->self,
            "SELECT f.account, f.inst_id, f.trade_id, f.cl_ord_id, f.side, f.pos_side, f.px, "
            "f.sz, f.fee, f.ts_ms FROM fills f WHERE NOT EXISTS (SELECT 1 FROM ledger g WHERE "
            "g.id = 'fill/' || f.account || '/' || f.inst_id || '/' || f.trade_id) "
            "ORDER BY f.ts_ms, f.trade_id",
            NULL, 0, on_missing_row, on_replay_done, r);
    }
    if (rc == AT_OK) {
        l->queries++;
        return;
    }
    if (!l->said_no_storage) {
        l->said_no_storage = true;
        l->h->log(l->self, AT_LOG_WARN,
                  "PnL per trader is not stored (no storage: %s); it is kept in memory only",
                  at_strerror(rc));
    }
    free(r);
    lg_ready(l);
}

static void on_replay_done(void *arg, int err, const char *error)
{
    replay *r = arg;
    ledger *l = r->l;
    l->queries--;
    if (l->freed) {
        free(r);
        if (l->queries == 0) {
            free(l);
        }
        return;
    }
    if (err != AT_OK && r->step == 0) {
        /* Books rebuilt from part of it would be wrong, and new rows would
         * collide with the unread ones' seq: nothing is written this run. */
        l->no_journal = true;
        l->h->log(l->self, AT_LOG_ERROR,
                  "the ledger journal could not be read: %s (%s); PnL per trader is not kept "
                  "this run",
                  at_strerror(err), error ? error : "");
    } else if (err != AT_OK) {
        l->h->log(l->self, AT_LOG_ERROR,
                  "stored fills missing from the ledger journal could not be read: %s (%s)",
                  at_strerror(err), error ? error : "");
    }
    if (r->step == 0 && !l->no_journal) {
        if (l->st.replayed > 0) {
            l->h->log(l->self, AT_LOG_INFO, "PnL books rebuilt from %" PRIu64 " journal rows",
                      l->st.replayed);
        }
        r->step = 1;
        replay_step(r);
        return;
    }
    free(r);
    lg_ready(l);
}

int lg_replay_start(ledger *l)
{
    replay *r = calloc(1, sizeof(*r));
    if (!r) {
        return AT_ENOMEM;
    }
    r->l = l;
    replay_step(r);
    return AT_OK;
}

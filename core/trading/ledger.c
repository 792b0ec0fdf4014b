#include "ledger_internal.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dbcol.h"
#include "decimal.h"
#include "ledger_book.h"
#include "util.h"

int64_t lg_now_ms(const ledger *l)
{
    return l->h->now_us() / 1000;
}

/* ------------------------------------------------------------ lookups */

bool lg_seen(ledger *l, const char *id, bool add)
{
    for (size_t i = 0; i < l->nseen; i++) {
        if (strcmp(l->seen[i], id) == 0) {
            return true;
        }
    }
    if (add) {
        snprintf(l->seen[l->seen_next], sizeof(l->seen[0]), "%s", id);
        l->seen_next = (l->seen_next + 1) % SEEN_MAX;
        if (l->nseen < SEEN_MAX) {
            l->nseen++;
        }
    }
    return false;
}

inst_info *lg_inst_of(ledger *l, at_inst id)
{
    for (size_t i = 0; i < l->ninsts; i++) {
        if (l->insts[i].inst == id) {
            return &l->insts[i];
        }
    }
    if (l->ninsts == l->capinsts) {
        size_t cap = l->capinsts ? 2 * l->capinsts : 16;
        inst_info *n = realloc(l->insts, cap * sizeof(*n));
        if (!n) {
            return NULL;
        }
        l->insts = n;
        l->capinsts = cap;
    }
    inst_info *x = &l->insts[l->ninsts++];
    memset(x, 0, sizeof(*x));
    x->inst = id;
    return x;
}

static book *book_of(ledger *l, const char *origin, const char *account, at_inst inst,
                     at_pos_side ps)
{
    for (size_t i = 0; i < l->nbooks; i++) {
        book *b = l->books[i];
        if (b->inst == inst && b->pos_side == ps && strcmp(b->origin, origin) == 0 &&
            strcmp(b->account, account) == 0) {
            return b;
        }
    }
    if (l->nbooks == l->capbooks) {
        size_t cap = l->capbooks ? 2 * l->capbooks : 16;
        book **n = realloc(l->books, cap * sizeof(*n));
        if (!n) {
            return NULL;
        }
        l->books = n;
        l->capbooks = cap;
    }
    book *b = calloc(1, sizeof(*b));
    if (!b) {
        return NULL;
    }
    snprintf(b->origin, sizeof(b->origin), "%s", origin);
    snprintf(b->account, sizeof(b->account), "%s", account);
    b->inst = inst;
    b->pos_side = ps;
    l->books[l->nbooks++] = b;
    return b;
}

static bool agg_open(const agg *a)
{
    for (size_t i = 0; i < a->nsyms; i++) {
        if (a->syms[i].open.m != 0) {
            return true;
        }
    }
    return false;
}

agg_sym *lg_agg_sym(agg *a, at_inst inst)
{
    for (size_t i = 0; i < a->nsyms; i++) {
        if (a->syms[i].inst == inst) {
            return &a->syms[i];
        }
    }
    if (a->nsyms == AGG_SYMS) {
        return &a->syms[AGG_SYMS - 1];
    }
    agg_sym *s = &a->syms[a->nsyms++];
    memset(s, 0, sizeof(*s));
    s->inst = inst;
    return s;
}

agg *lg_agg_of(ledger *l, const char *id)
{
    if (!id || !id[0]) {
        return NULL;
    }
    for (size_t i = 0; i < l->naggs; i++) {
        if (strcmp(l->aggs[i].id, id) == 0) {
            return &l->aggs[i];
        }
    }
    if (l->naggs == AGG_MAX) {
        /* forget the oldest decision with nothing open: its row is final */
        size_t k = 0;
        while (k < l->naggs && agg_open(&l->aggs[k])) {
            k++;
        }
        if (k == l->naggs) {
            k = 0;
        }
        memmove(&l->aggs[k], &l->aggs[k + 1], (l->naggs - k - 1) * sizeof(*l->aggs));
        l->naggs--;
    }
    agg *a = &l->aggs[l->naggs++];
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "%s", id);
    return a;
}

/* ------------------------------------------------------------ applying */

/* One fill into its book; journal and outcomes when `journal`. */
int lg_apply_fill(ledger *l, const at_ev_fill *f, const char *inst_name, const attr *a,
                  at_dec ct_val, bool journal)
{
    const char *origin = a->origin[0] ? a->origin : UNATTRIBUTED;
    at_pos_side ps = (unsigned)f->pos_side <= AT_POS_SHORT ? f->pos_side : AT_POS_NET;
    book *b = book_of(l, origin, f->account, f->h.inst, ps);
    if (!b) {
        return AT_ENOMEM;
    }
    bool buy = f->side == AT_SIDE_BUY;
    lb_result r;
    at_dec before = lb_position(&b->b);
    int rc = lb_apply_fill(&b->b, ps == AT_POS_NET, ps == AT_POS_LONG, buy, f->sz, f->px, f->fee,
                           ct_val, a->decision_id, f->exch_ts_ms, &r);
    if (rc != AT_OK) {
        return rc;
    }
    lg_trip_fill(b, before, &r);
    at_dec realized = {0, 0};
    agg *own = lg_agg_of(l, a->decision_id);
    for (size_t i = 0; i < r.n; i++) {
        const lb_share *s = &r.shares[i];
        at_dec_add(realized, s->pnl, &realized);
        agg *g = lg_agg_of(l, s->decision_id);
        if (!g) {
            continue;
        }
        at_dec_add(g->fees, s->fee, &g->fees);
        agg_sym *y = lg_agg_sym(g, f->h.inst);
        if (s->opened) {
            at_dec_add(y->opened, s->qty, &y->opened);
            at_dec_add(y->open, s->qty, &y->open);
        } else if (!r.over || i + 1 < r.n) {
            at_dec_add(y->closed, s->qty, &y->closed);
            at_dec_sub(y->open, s->qty, &y->open);
            at_dec_add(g->realized, s->pnl, &g->realized);
        }
    }
    own = lg_agg_of(l, a->decision_id); /* agg_of may have moved entries */
    if (own) {
        own->fills++;
        agg_sym *y = lg_agg_sym(own, f->h.inst);
        for (size_t i = 0; i < r.n; i++) {
            if (!r.shares[i].opened) {
                at_dec_add(y->closing, r.shares[i].qty, &y->closing);
            }
        }
    }
    if (r.over) {
        l->h->log(l->self, AT_LOG_WARN,
                  "%s %s %s: fill %s closes more than %s's book holds; the rest is not booked",
                  f->account, inst_name, POS_SIDES[ps], f->trade_id, origin);
    }
    if (!journal) {
        return AT_OK;
    }
    l->st.fills++;
    char id[3 * AT_ID_LEN + 80], sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN], pnl[AT_DEC_STRLEN],
        fee[AT_DEC_STRLEN];
    snprintf(id, sizeof(id), "fill/%s/%s/%s", f->account, inst_name, f->trade_id);
    const at_db_value p[] = {AT_DB_I(++l->seq),
                             AT_DB_S(id),
                             AT_DB_S(f->account),
                             AT_DB_S(origin),
                             AT_DB_S(a->decision_id[0] ? a->decision_id : NULL),
                             AT_DB_S(f->cl_ord_id[0] ? f->cl_ord_id : NULL),
                             AT_DB_S(inst_name),
                             AT_DB_S(POS_SIDES[ps]),
                             AT_DB_S(buy ? "buy" : "sell"),
                             AT_DB_D(f->sz),
                             AT_DB_D(f->px),
                             AT_DB_D(f->fee),
                             AT_DB_D(ct_val),
                             AT_DB_D(at_dec_normalize(realized)),
                             AT_DB_I(f->exch_ts_ms)};
    lg_db_write(
        l,
        "INSERT INTO ledger (seq, id, kind, account, origin, decision_id, cl_ord_id, inst_id, "
        "pos_side, side, sz, px, fee, ct_val, pnl, ts_ms) VALUES ($1,$2,'fill',$3,$4,$5,$6,"
        "$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT (id) DO NOTHING",
        p, sizeof(p) / sizeof(p[0]));
    for (size_t i = 0; i < r.n; i++) {
        agg *g = lg_agg_of(l, r.shares[i].decision_id);
        if (g) {
            lg_write_outcome(l, g);
        }
    }
    if (own && (r.n == 0 || strcmp(r.shares[r.n - 1].decision_id, own->id) != 0)) {
        lg_write_outcome(l, own);
    }
    lg_snapshot(l, origin, f->account, lg_now_ms(l));
    at_dec_text(at_dec_normalize(f->sz), sz);
    at_dec_text(at_dec_normalize(f->px), px);
    at_dec_text(at_dec_normalize(realized), pnl);
    at_dec_text(at_dec_normalize(f->fee), fee);
    l->h->log(l->self, AT_LOG_INFO, "%s %s %s %s %s @ %s for %s%s%s: realized %s, fee %s",
              f->account, inst_name, POS_SIDES[ps], buy ? "buy" : "sell", sz, px, origin,
              a->decision_id[0] ? " decision " : "", a->decision_id, pnl, fee);
    return AT_OK;
}

/* Funding of the period ending at fund_ms on every book of the instrument. */
void lg_apply_funding(ledger *l, at_inst inst, at_dec ct_val, at_dec rate, at_dec mark,
                      int64_t fund_ms, const char *only_book_id, bool journal)
{
    const char *name = l->h->inst_name(inst);
    for (size_t i = 0; i < l->nbooks; i++) {
        book *b = l->books[i];
        if (b->inst != inst || b->b.nlots == 0) {
            continue;
        }
        char id[4 * AT_ID_LEN + 96];
        snprintf(id, sizeof(id), "funding/%s/%" PRId64 "/%s/%s/%s", name ? name : "?", fund_ms,
                 b->account, b->origin, POS_SIDES[b->pos_side]);
        if (only_book_id && strcmp(id, only_book_id) != 0) {
            continue;
        }
        at_dec *by_lot = calloc(b->b.nlots, sizeof(*by_lot));
        if (!by_lot || lb_apply_funding(&b->b, ct_val, mark, rate, by_lot) != AT_OK) {
            free(by_lot);
            l->st.errors++;
            l->h->log(l->self, AT_LOG_ERROR, "%s: funding at %" PRId64 " not booked for %s",
                      name ? name : "?", fund_ms, b->origin);
            continue;
        }
        at_dec sum = {0, 0};
        for (size_t k = 0; k < b->b.nlots; k++) {
            at_dec_add(sum, by_lot[k], &sum);
            agg *g = lg_agg_of(l, b->b.lots[k].decision_id);
            if (g) {
                at_dec_add(g->funding, by_lot[k], &g->funding);
                if (journal) {
                    lg_write_outcome(l, g);
                }
            }
        }
        free(by_lot);
        lg_trip_funding(b, sum);
        l->st.funding++;
        if (!journal) {
            continue;
        }
        const at_db_value p[] = {AT_DB_I(++l->seq),
                                 AT_DB_S(id),
                                 AT_DB_S(b->account),
                                 AT_DB_S(b->origin),
                                 AT_DB_S(name ? name : "?"),
                                 AT_DB_S(POS_SIDES[b->pos_side]),
                                 AT_DB_D(ct_val),
                                 AT_DB_D(rate),
                                 AT_DB_D(mark),
                                 AT_DB_D(at_dec_normalize(sum)),
                                 AT_DB_I(fund_ms)};
        lg_db_write(
            l,
            "INSERT INTO ledger (seq, id, kind, account, origin, inst_id, pos_side, ct_val, "
            "rate, mark, funding, ts_ms) VALUES ($1,$2,'funding',$3,$4,$5,$6,$7,$8,$9,$10,"
            "$11) ON CONFLICT (id) DO NOTHING",
            p, sizeof(p) / sizeof(p[0]));
    }
}

/* ------------------------------------------------------------ the queue */

static void job_done(ledger *l)
{
    job *j = l->head;
    l->head = j->next;
    if (!l->head) {
        l->tail = NULL;
    }
    free(j);
}

static void run_fill(ledger *l, job *j)
{
    inst_info *x = lg_inst_of(l, j->f.h.inst);
    if (!x || !x->have) {
        if (x) {
            x->asked = false; /* the next fill asks again */
        }
        l->st.errors++;
        l->h->log(l->self, AT_LOG_ERROR,
                  "%s %s: fill %s not booked: no instrument data (ctVal) for it", j->f.account,
                  j->inst_name, j->f.trade_id);
        return;
    }
    if (!x->linear) {
        if (!l->said_inverse) {
            l->said_inverse = true;
            l->h->log(l->self, AT_LOG_WARN,
                      "%s: an inverse contract: its fills are not booked per trader (linear "
                      "USDT/USDC contracts only)",
                      j->inst_name);
        }
        return;
    }
    if (!j->a.origin[0]) {
        l->st.unattributed++;
    }
    int rc = lg_apply_fill(l, &j->f, j->inst_name, &j->a, x->ct_val, true);
    if (rc != AT_OK) {
        l->st.errors++;
        l->h->log(l->self, AT_LOG_ERROR, "%s %s: fill %s not booked: %s", j->f.account,
                  j->inst_name, j->f.trade_id, at_strerror(rc));
    } else if (j->recovered) {
        l->st.recovered++;
    }
}

/* Instrument rows: ct_val, whether linear. */
static int on_inst_row(void *arg, const at_db_row *row)
{
    ledger *l = arg;
    inst_info *x = l->freed || !l->head ? NULL : lg_inst_of(l, l->head->f.h.inst);
    if (!x) {
        return 1;
    }
    const char *cv = dbcol_text(row, 0), *cvc = dbcol_text(row, 1);
    if (cv && at_dec_parse(cv, strlen(cv), &x->ct_val) == AT_OK && x->ct_val.m > 0) {
        x->have = true;
        /* OKX's inverse swaps (BTC-USD-SWAP) count their contracts in USD */
        x->linear = !cvc || strcmp(cvc, "USD") != 0;
    }
    return 1;
}

static void on_retry(void *arg)
{
    ledger *l = arg;
    l->retry = NULL;
    l->busy = false;
    lg_pump(l);
}

static void on_lookup_done(void *arg, int err, const char *error)
{
    ledger *l = arg;
    l->queries--;
    if (l->freed) {
        if (l->queries == 0) {
            free(l);
        }
        return;
    }
    l->busy = false;
    if (err != AT_OK && l->head) {
        /* Asked again in a second: a fill booked without its owner or its
         * ctVal would be booked wrong for good. */
        l->h->log(l->self, AT_LOG_ERROR, "ledger lookup failed: %s (%s); asking again",
                  at_strerror(err), error ? error : "");
        inst_info *x = lg_inst_of(l, l->head->f.h.inst);
        if (x && !x->have) {
            x->asked = false;
        }
        l->head->attributed = false;
        l->busy = true;
        l->retry = l->h->timer_add(l->self, 1000, 0, on_retry, l);
        if (l->retry) {
            return;
        }
        l->busy = false;
    }
    lg_pump(l);
}

static int on_attr_row(void *arg, const at_db_row *row)
{
    ledger *l = arg;
    if (l->freed || !l->head) {
        return 1;
    }
    job *j = l->head; /* the job waiting for this answer */
    const char *o = dbcol_text(row, 0), *d = dbcol_text(row, 1);
    snprintf(j->a.origin, sizeof(j->a.origin), "%s", o ? o : "");
    snprintf(j->a.decision_id, sizeof(j->a.decision_id), "%s", d ? d : "");
    return 1;
}

/* Row callbacks get the ledger and fill in its head job: a job freed with
 * the ledger is never written after. */
static bool query(ledger *l, const char *sql, const at_db_value *p, size_t n, at_db_row_cb row)
{
    if (l->h->db_query(l->self, sql, p, n, row, on_lookup_done, l) != AT_OK) {
        return false;
    }
    l->queries++;
    l->busy = true;
    return true;
}

/* The clOrdId whose order the fill belongs to: its own, or the entry a
 * TP/SL protects (algoClOrdId = the entry's clOrdId + "a"). */
static void lookup_cl(const at_ev_fill *f, char out[AT_ID_LEN])
{
    out[0] = '\0';
    if (f->cl_ord_id[0]) {
        snprintf(out, AT_ID_LEN, "%s", f->cl_ord_id);
        return;
    }
    size_t n = strlen(f->algo_cl_ord_id);
    if (n >= 2 && f->algo_cl_ord_id[n - 1] == 'a') {
        snprintf(out, AT_ID_LEN, "%.*s", (int)(n - 1), f->algo_cl_ord_id);
    }
}

static void cache_put(ledger *l, const job *j)
{
    l->cache[l->cache_next] = j->a;
    l->cache_next = (l->cache_next + 1) % ATTR_CACHE;
    if (l->ncache < ATTR_CACHE) {
        l->ncache++;
    }
}

/* Runs jobs in order until one waits for storage. */
void lg_pump(ledger *l)
{
    while (l->ready && !l->busy && l->head) {
        job *j = l->head;
        if (j->funding) {
            inst_info *x = lg_inst_of(l, j->f.h.inst);
            if (x && x->have && x->linear) {
                lg_apply_funding(l, j->f.h.inst, x->ct_val, j->rate, j->mark, j->fund_ms, NULL,
                                 true);
            }
            job_done(l);
            continue;
        }
        inst_info *x = lg_inst_of(l, j->f.h.inst);
        if (x && !x->asked) {
            x->asked = true;
            const at_db_value p[] = {AT_DB_S(j->inst_name)};
            if (query(l,
                      "SELECT ct_val, ct_val_ccy FROM instruments WHERE inst_id = $1 "
                      "AND ct_val IS NOT NULL LIMIT 1",
                      p, 1, on_inst_row)) {
                return;
            }
        }
        if (!j->attributed) {
            j->attributed = true;
            char cl[AT_ID_LEN];
            lookup_cl(&j->f, cl);
            snprintf(j->a.account, sizeof(j->a.account), "%s", j->f.account);
            snprintf(j->a.cl, sizeof(j->a.cl), "%s", cl);
            bool cached = false;
            for (size_t i = 0; cl[0] && i < l->ncache && !cached; i++) {
                if (strcmp(l->cache[i].cl, cl) == 0 &&
                    strcmp(l->cache[i].account, j->f.account) == 0) {
                    j->a = l->cache[i];
                    cached = true;
                }
            }
            if (cl[0] && !cached) {
                const at_db_value p[] = {AT_DB_S(j->f.account), AT_DB_S(cl)};
                if (query(l,
                          "SELECT origin, decision_id FROM orders WHERE account = $1 AND "
                          "cl_ord_id = $2",
                          p, 2, on_attr_row)) {
                    return;
                }
            }
        }
        if (j->a.cl[0] && j->a.origin[0]) {
            cache_put(l, j);
        }
        run_fill(l, j);
        job_done(l);
    }
}

static job *enqueue(ledger *l)
{
    job *j = calloc(1, sizeof(*j));
    if (!j) {
        return NULL;
    }
    if (l->tail) {
        l->tail->next = j;
    } else {
        l->head = j;
    }
    l->tail = j;
    return j;
}

void lg_queue_fill(ledger *l, const at_ev_fill *f, bool recovered)
{
    const char *name = l->h->inst_name(f->h.inst);
    char id[3 * AT_ID_LEN + 80];
    snprintf(id, sizeof(id), "fill/%s/%s/%s", f->account, name ? name : "?", f->trade_id);
    if (!f->trade_id[0] || f->sz.m <= 0 || f->px.m <= 0 || !name) {
        l->st.errors++;
        l->h->log(l->self, AT_LOG_ERROR, "%s: a fill without trade id, size or price: not booked",
                  f->account);
        return;
    }
    bool hold = !l->ready && !recovered;
    if (!hold && lg_seen(l, id, true)) {
        l->st.duplicates++;
        return;
    }
    job *j = hold ? calloc(1, sizeof(*j)) : enqueue(l);
    if (!j) {
        l->st.errors++;
        l->h->log(l->self, AT_LOG_ERROR, "%s: out of memory: fill %s not booked", f->account,
                  f->trade_id);
        return;
    }
    j->f = *f;
    j->recovered = recovered;
    snprintf(j->inst_name, sizeof(j->inst_name), "%s", name);
    if (hold) {
        if (l->held_tail) {
            l->held_tail->next = j;
        } else {
            l->held_head = j;
        }
        l->held_tail = j;
    }
}

void lg_ready(ledger *l)
{
    l->ready = true;
    while (l->held_head) {
        job *j = l->held_head;
        l->held_head = j->next;
        char id[3 * AT_ID_LEN + 80];
        snprintf(id, sizeof(id), "fill/%s/%s/%s", j->f.account, j->inst_name, j->f.trade_id);
        if (lg_seen(l, id, true)) {
            l->st.duplicates++;
            free(j);
            continue;
        }
        j->next = NULL;
        if (l->tail) {
            l->tail->next = j;
        } else {
            l->head = j;
        }
        l->tail = j;
    }
    l->held_tail = NULL;
    lg_pump(l);
}

/* ------------------------------------------------------------ events */

static void on_fill(void *arg, const at_event *e)
{
    ledger *l = arg;
    lg_queue_fill(l, (const at_ev_fill *)e, false);
    lg_pump(l);
}

static void on_mark(void *arg, const at_event *e)
{
    inst_info *x = lg_inst_of(arg, e->inst);
    if (x && ((const at_ev_mark *)e)->mark_px.m > 0) {
        x->mark = ((const at_ev_mark *)e)->mark_px;
    }
}

static void on_ticker(void *arg, const at_event *e)
{
    inst_info *x = lg_inst_of(arg, e->inst);
    if (x && ((const at_ev_ticker *)e)->last.m > 0) {
        x->last = ((const at_ev_ticker *)e)->last;
    }
}

/* The venue model's rule: a FUNDING whose settlement time moved forward
 * means the settlement at the old time passed, at the rate seen for it.
 * Several sources of one instrument settle it once. */
static void on_funding(void *arg, const at_event *e)
{
    ledger *l = arg;
    const at_ev_funding *f = (const at_ev_funding *)e;
    inst_info *x = lg_inst_of(l, e->inst);
    if (!x || f->funding_ms <= 0) {
        return;
    }
    if (x->fund_ms != 0 && f->funding_ms > x->fund_ms) {
        at_dec mark = x->mark.m > 0 ? x->mark : x->last;
        if (mark.m <= 0) {
            l->h->log(l->self, AT_LOG_WARN,
                      "%s: funding at %" PRId64 " not booked per trader: no mark price yet",
                      l->h->inst_name(e->inst), x->fund_ms);
        } else {
            job *j = enqueue(l);
            if (j) {
                j->funding = true;
                j->f.h.inst = e->inst;
                j->rate = x->fund_rate;
                j->mark = mark;
                j->fund_ms = x->fund_ms;
            }
        }
    }
    if (f->funding_ms >= x->fund_ms) {
        x->fund_ms = f->funding_ms;
        x->fund_rate = f->rate;
    }
    lg_pump(l);
}

static void on_tick(void *arg)
{
    ledger *l = arg;
    int64_t now = lg_now_ms(l);
    int64_t ts = now - now % l->cfg.period_ms;
    /* one row per (origin, account) */
    for (size_t i = 0; i < l->nbooks; i++) {
        bool first = true;
        for (size_t k = 0; k < i && first; k++) {
            first = strcmp(l->books[k]->origin, l->books[i]->origin) != 0 ||
                    strcmp(l->books[k]->account, l->books[i]->account) != 0;
        }
        if (first) {
            lg_snapshot(l, l->books[i]->origin, l->books[i]->account, ts);
        }
    }
}

ledger *ledger_new(const at_host *h, at_instance *self, const ledger_cfg *cfg)
{
    if (!h || !self || !cfg || cfg->period_ms <= 0) {
        return NULL;
    }
    ledger *l = calloc(1, sizeof(*l));
    if (!l) {
        return NULL;
    }
    l->h = h;
    l->self = self;
    l->cfg = *cfg;
    l->seen = calloc(SEEN_MAX, sizeof(*l->seen));
    l->aggs = calloc(AGG_MAX, sizeof(*l->aggs));
    if (!l->seen || !l->aggs) {
        free(l->seen);
        free(l->aggs);
        free(l);
        return NULL;
    }
    return l;
}

int ledger_start(ledger *l)
{
    const at_host *h = l->h;
    const struct {
        at_event_type t;
        at_event_cb cb;
    } subs[] = {{AT_EV_FILL, on_fill},
                {AT_EV_FUNDING, on_funding},
                {AT_EV_MARK, on_mark},
                {AT_EV_TICKER, on_ticker}};
    for (size_t i = 0; i < 4; i++) {
        int s = h->subscribe(l->self, subs[i].t, subs[i].cb, l);
        if (s <= 0) {
            ledger_stop(l);
            return s < 0 ? s : AT_ENOMEM;
        }
        l->subs[l->nsubs++] = s;
    }
    l->timer = h->timer_add(l->self, l->cfg.period_ms - lg_now_ms(l) % l->cfg.period_ms,
                            l->cfg.period_ms, on_tick, l);
    if (!l->timer) {
        ledger_stop(l);
        return AT_ENOMEM;
    }
    l->running = true;
    int rc = lg_replay_start(l);
    if (rc != AT_OK) {
        ledger_stop(l);
    }
    return rc;
}

void ledger_stop(ledger *l)
{
    if (!l) {
        return;
    }
    for (size_t i = 0; i < l->nsubs; i++) {
        l->h->unsubscribe(l->self, l->subs[i]);
    }
    l->nsubs = 0;
    l->h->timer_cancel(l->timer);
    l->timer = NULL;
    l->h->timer_cancel(l->retry);
    l->retry = NULL;
    l->running = false;
}

void ledger_free(ledger *l)
{
    if (!l) {
        return;
    }
    while (l->head) {
        job_done(l);
    }
    while (l->held_head) {
        job *j = l->held_head;
        l->held_head = j->next;
        free(j);
    }
    for (size_t i = 0; i < l->nbooks; i++) {
        lb_free(&l->books[i]->b);
        free(l->books[i]);
    }
    free(l->books);
    free(l->insts);
    free(l->aggs);
    free(l->seen);
    l->books = NULL;
    l->insts = NULL;
    l->aggs = NULL;
    l->seen = NULL;
    l->nbooks = l->ninsts = l->naggs = 0;
    if (l->queries > 0) {
        l->freed = true; /* the last storage answer frees it */
        return;
    }
    free(l);
}

void ledger_get_stats(const ledger *l, ledger_stats *out)
{
    *out = l->st;
}

int ledger_outcome_of(const ledger *l, const char *decision_id, ledger_outcome *out)
{
    for (size_t i = 0; decision_id && decision_id[0] && i < l->naggs; i++) {
        const agg *a = &l->aggs[i];
        if (strcmp(a->id, decision_id) == 0) {
            *out = (ledger_outcome){.realized = a->realized,
                                    .fees = a->fees,
                                    .funding = a->funding,
                                    .fills = a->fills,
                                    .open = agg_open(a)};
            return AT_OK;
        }
    }
    return AT_ENOENT;
}

int ledger_position_of(const ledger *l, const char *origin, const char *account, at_inst inst,
                       at_pos_side pos_side, at_dec *out)
{
    for (size_t i = 0; i < l->nbooks; i++) {
        const book *b = l->books[i];
        if (b->inst == inst && b->pos_side == pos_side && strcmp(b->origin, origin) == 0 &&
            strcmp(b->account, account) == 0) {
            *out = lb_position(&b->b);
            return AT_OK;
        }
    }
    return AT_ENOENT;
}

bool ledger_ready(const ledger *l)
{
    return l->ready && !l->head;
}

int ledger_pnl_of(const ledger *l, const char *origin, const char *account, ledger_pnl *out)
{
    bool any;
    lg_totals(l, origin, account, out, &any);
    return any ? AT_OK : AT_ENOENT;
}

/* The backtest's report (CONTRACTS §4b), from what the run stored in its
 * scratch database: the ledger (every fill with its realized PnL and fee,
 * every funding settlement), the equity snapshots of the paper accounts
 * (core.equity: each minute and after fills) and the decisions. Money is
 * summed exactly (decimals), then written rounded to 8 places; ratios to 6.
 *
 *  - return_pct = (end_equity / start_equity - 1) x 100, both from the
 *    equity curve (the sum of the accounts' latest snapshots at each time);
 *  - max_drawdown_pct: the largest fall from a running peak of the curve;
 *  - sharpe, sortino: of the curve's hourly returns, annualised (x sqrt(24 x
 *    365)); sortino's deviation counts the negative returns only;
 *  - trades: round trips of a book (account, instrument, position side) from
 *    flat back to flat; a trade's PnL is its fills' realized PnL plus their
 *    fees plus the funding settled while it was open; win_rate the share of
 *    trades with a PnL above 0, profit_factor the winners' sum over the
 *    losers' (null without a loser);
 *  - fees: paid, as a positive number; funding: received (negative: paid). */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backtest_internal.h"
#include "decimal.h"
#include "engine_internal.h"
#include "storage.h"
#include "util.h"

/* ------------------------------------------------------------ rows */

typedef struct lrow { /* a ledger row */
    bool funding;
    char account[AT_ID_LEN], origin[AT_ID_LEN], inst[AT_ID_LEN], pos_side[8], side[8];
    char cl_ord_id[AT_ID_LEN];
    at_dec sz, px, fee, pnl, fund, ct_val;
    int64_t ts;
} lrow;

typedef struct eqrow {
    char account[AT_ID_LEN];
    int64_t ts;
    double eq;
} eqrow;

typedef struct rows {
    lrow *l;
    size_t nl, capl;
    eqrow *q;
    size_t nq, capq;
    int64_t calls, tokens;
    double cost;
    bool done;
    int err;
} rows;

static const char *col(const at_db_row *r, size_t i)
{
    return i < r->ncols && r->cols[i].type == AT_DB_TEXT ? r->cols[i].u.s : NULL;
}

static int64_t icol(const at_db_row *r, size_t i)
{
    if (i >= r->ncols) {
        return 0;
    }
    const at_db_value *v = &r->cols[i];
    return v->type == AT_DB_INT ? v->u.i : v->type == AT_DB_TEXT ? strtoll(v->u.s, NULL, 10) : 0;
}

static double rcol(const at_db_row *r, size_t i)
{
    if (i >= r->ncols) {
        return 0;
    }
    const at_db_value *v = &r->cols[i];
    return v->type == AT_DB_REAL   ? v->u.r
           : v->type == AT_DB_INT  ? (double)v->u.i
           : v->type == AT_DB_TEXT ? strtod(v->u.s, NULL)
                                   : 0;
}

static at_dec dcol(const at_db_row *r, size_t i)
{
    at_dec d = {0};
    const char *s = col(r, i);
    if (s) {
        at_dec_parse(s, strlen(s), &d);
    }
    return d;
}

static void scol(char *dst, size_t cap, const at_db_row *r, size_t i)
{
    const char *s = col(r, i);
    snprintf(dst, cap, "%s", s ? s : "");
}

static int on_ledger(void *arg, const at_db_row *r)
{
    rows *x = arg;
    if (x->nl == x->capl) {
        x->capl = x->capl ? x->capl * 2 : 1024;
        lrow *n = realloc(x->l, x->capl * sizeof(*n));
        if (!n) {
            x->err = AT_ENOMEM;
            return 1;
        }
        x->l = n;
    }
    lrow *l = &x->l[x->nl++];
    memset(l, 0, sizeof(*l));
    l->funding = col(r, 0) && strcmp(col(r, 0), "funding") == 0;
    scol(l->account, sizeof(l->account), r, 1);
    scol(l->origin, sizeof(l->origin), r, 2);
    scol(l->inst, sizeof(l->inst), r, 3);
    scol(l->pos_side, sizeof(l->pos_side), r, 4);
    scol(l->side, sizeof(l->side), r, 5);
    l->sz = dcol(r, 6);
    l->px = dcol(r, 7);
    l->fee = dcol(r, 8);
    l->pnl = dcol(r, 9);
    l->fund = dcol(r, 10);
    l->ts = icol(r, 11);
    scol(l->cl_ord_id, sizeof(l->cl_ord_id), r, 12);
    l->ct_val = dcol(r, 13);
    return 0;
}

static int on_equity(void *arg, const at_db_row *r)
{
    rows *x = arg;
    if (x->nq == x->capq) {
        x->capq = x->capq ? x->capq * 2 : 1024;
        eqrow *n = realloc(x->q, x->capq * sizeof(*n));
        if (!n) {
            x->err = AT_ENOMEM;
            return 1;
        }
        x->q = n;
    }
    eqrow *q = &x->q[x->nq++];
    scol(q->account, sizeof(q->account), r, 0);
    q->ts = icol(r, 1);
    q->eq = at_dec_to_double(dcol(r, 2));
    return 0;
}

static int on_decisions(void *arg, const at_db_row *r)
{
    rows *x = arg;
    x->calls = icol(r, 0);
    x->tokens = icol(r, 1);
    x->cost = rcol(r, 2);
    return 0;
}

static void on_done(void *arg, int err, const char *error)
{
    rows *x = arg;
    if (err != AT_OK && !x->err) {
        x->err = err;
        fprintf(stderr, "aitrader: backtest: reading the run's rows: %s\n",
                error ? error : at_strerror(err));
    }
    x->done = true;
}

static bool is_done(void *arg)
{
    return ((rows *)arg)->done;
}

static int query(backtest *b, at_instance *self, const char *sql, const at_db_value *p, size_t np,
                 at_db_row_cb cb, rows *x)
{
    x->done = false;
    int rc = engine_host()->db_query(self, sql, p, np, cb, on_done, x);
    if (rc != AT_OK) {
        fprintf(stderr, "aitrader: backtest: cannot read the run's rows (%s)\n", at_strerror(rc));
        return rc;
    }
    if (!engine_wait(b->e, is_done, x, 60 * 1000000LL)) {
        fprintf(stderr, "aitrader: backtest: storage did not answer within 60 s\n");
        return AT_ETIMEDOUT;
    }
    return x->err;
}

/* ------------------------------------------------------------ figures */

static json_t *money(at_dec d)
{
    return json_real(round(at_dec_to_double(d) * 1e8) / 1e8);
}

static json_t *ratio(double v)
{
    return isfinite(v) ? json_real(round(v * 1e6) / 1e6) : json_null();
}

static void iso(int64_t ms, char *out, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The curve: at each snapshot time, the sum of every account's latest. */
static json_t *curve(const rows *x, double *start, double *end, double *mdd)
{
    json_t *a = json_array();
    char names[BT_MAX_FEEDS][AT_ID_LEN];
    double last[BT_MAX_FEEDS];
    size_t n = 0;
    double peak = -INFINITY;
    *mdd = 0;
    *start = *end = NAN;
    for (size_t i = 0; i < x->nq; i++) {
        const eqrow *q = &x->q[i];
        size_t k = 0;
        while (k < n && strcmp(names[k], q->account) != 0) {
            k++;
        }
        if (k == n && n < BT_MAX_FEEDS) {
            snprintf(names[n], sizeof(names[n]), "%s", q->account);
            n++;
        }
        if (k < n) {
            last[k] = q->eq;
        }
        if (i + 1 < x->nq && x->q[i + 1].ts == q->ts) {
            continue; /* the sum once every account of this time is in */
        }
        double sum = 0;
        for (size_t j = 0; j < n; j++) {
            sum += last[j];
        }
        if (isnan(*start)) {
            *start = sum;
        }
        *end = sum;
        peak = sum > peak ? sum : peak;
        if (peak > 0 && (peak - sum) / peak * 100 > *mdd) {
            *mdd = (peak - sum) / peak * 100;
        }
        json_array_append_new(
            a, json_pack("[I, o]", (json_int_t)q->ts, json_real(round(sum * 1e8) / 1e8)));
    }
    return a;
}

/* Sharpe and Sortino of the curve's hourly returns, annualised. */
static void hourly(const json_t *eq, double *sharpe, double *sortino)
{
    size_t cap = json_array_size(eq) + 1, n = 0;
    double *rets = malloc(cap * sizeof(*rets));
    *sharpe = *sortino = NAN;
    if (!rets) {
        return;
    }
    double prev = NAN, last = NAN;
    int64_t hour = INT64_MIN;
    size_t i;
    const json_t *p;
    /* each hour's last value over the previous hour's last */
    json_array_foreach(eq, i, p)
    {
        int64_t h = json_integer_value(json_array_get(p, 0)) / 3600000;
        if (hour != INT64_MIN && h != hour) {
            if (prev > 0 && n < cap) {
                rets[n++] = last / prev - 1;
            }
            prev = last;
        }
        hour = h;
        last = json_real_value(json_array_get(p, 1));
    }
    if (hour != INT64_MIN && prev > 0 && n < cap) {
        rets[n++] = last / prev - 1;
    }
    if (n < 2) {
        free(rets);
        return;
    }
    double mean = 0, var = 0, down = 0;
    for (size_t k = 0; k < n; k++) {
        mean += rets[k];
    }
    mean /= (double)n;
    for (size_t k = 0; k < n; k++) {
        var += (rets[k] - mean) * (rets[k] - mean);
        down += rets[k] < 0 ? rets[k] * rets[k] : 0;
    }
    double sd = sqrt(var / (double)(n - 1)), dd = sqrt(down / (double)n);
    double ann = sqrt(24.0 * 365);
    *sharpe = sd > 0 ? mean / sd * ann : NAN;
    *sortino = dd > 0 ? mean / dd * ann : NAN;
    free(rets);
}

typedef struct book {
    char account[AT_ID_LEN], inst[AT_ID_LEN], pos_side[8];
    at_dec pos, pnl;    /* contracts (signed for net), the open trade's PnL so far */
    double avg, ct_val; /* the open contracts' average entry price, the contract's value */
    bool open;
} book;

typedef struct sym {
    char inst[AT_ID_LEN];
    size_t trades, wins;
    at_dec pnl, fees, funding;
} sym;

static sym *sym_of(sym *ss, size_t *n, const char *inst)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(ss[i].inst, inst) == 0) {
            return &ss[i];
        }
    }
    if (*n == BT_MAX_SERIES) {
        return NULL;
    }
    sym *s = &ss[(*n)++];
    memset(s, 0, sizeof(*s));
    snprintf(s->inst, sizeof(s->inst), "%s", inst);
    return s;
}

static book *book_of(book *bs, size_t *n, size_t cap, const lrow *l)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(bs[i].account, l->account) == 0 && strcmp(bs[i].inst, l->inst) == 0 &&
            strcmp(bs[i].pos_side, l->pos_side) == 0) {
            return &bs[i];
        }
    }
    if (*n == cap) {
        return NULL;
    }
    book *b = &bs[(*n)++];
    memset(b, 0, sizeof(*b));
    snprintf(b->account, sizeof(b->account), "%s", l->account);
    snprintf(b->inst, sizeof(b->inst), "%s", l->inst);
    snprintf(b->pos_side, sizeof(b->pos_side), "%s", l->pos_side);
    return b;
}

/* The signed change a fill makes to its book: long and net books count a
 * buy up, a short book counts a sell up. */
static at_dec signed_sz(const lrow *l)
{
    bool up = strcmp(l->pos_side, "short") == 0 ? strcmp(l->side, "sell") == 0
                                                : strcmp(l->side, "buy") == 0;
    at_dec d = l->sz;
    if (!up) {
        d.m = -d.m;
    }
    return d;
}

static void trade_end(book *k, sym *s, size_t *trades, size_t *wins, at_dec *gross_win,
                      at_dec *gross_loss)
{
    (*trades)++;
    s->trades++;
    if (k->pnl.m > 0) {
        (*wins)++;
        s->wins++;
        at_dec_add(*gross_win, k->pnl, gross_win);
    } else if (k->pnl.m < 0) {
        at_dec_add(*gross_loss, k->pnl, gross_loss);
    }
    k->pnl = (at_dec){0};
    k->open = false;
}

json_t *bt_report(backtest *b)
{
    at_instance *self = engine_virtual_instance(b->e, "core.backtest");
    /* on the heap: a query that timed out may still answer into it later
     * (then it is left, not freed) */
    rows *xp = calloc(1, sizeof(*xp));
    if (!xp) {
        return NULL;
    }
    json_t *out = NULL;
    if (!self ||
        query(b, self,
              "SELECT kind, account, origin, inst_id, pos_side, side, sz, px, fee, pnl, funding, "
              "ts_ms, cl_ord_id, ct_val FROM ledger ORDER BY seq",
              NULL, 0, on_ledger, xp) != AT_OK ||
        query(b, self,
              "SELECT account, ts_ms, total_eq FROM equity_snapshots ORDER BY ts_ms, account", NULL,
              0, on_equity, xp) != AT_OK ||
        query(b, self,
              "SELECT count(*), COALESCE(sum(tokens_in), 0) + COALESCE(sum(tokens_out), 0), "
              "COALESCE(sum(cost), 0) FROM decisions",
              NULL, 0, on_decisions, xp) != AT_OK) {
        goto done;
    }
    double start, end, mdd, sharpe, sortino;
    json_t *eq = curve(xp, &start, &end, &mdd);
    hourly(eq, &sharpe, &sortino);
    /* trades, fees, funding, per symbol */
    book books[256];
    size_t nb = 0, ns = 0, trades = 0, wins = 0;
    sym syms[BT_MAX_SERIES];
    at_dec fees = {0}, funding = {0}, gwin = {0}, gloss = {0};
    json_t *fills = json_array();
    for (size_t i = 0; i < xp->nl; i++) {
        const lrow *l = &xp->l[i];
        book *k = book_of(books, &nb, sizeof(books) / sizeof(books[0]), l);
        sym *s = sym_of(syms, &ns, l->inst);
        if (!k || !s) {
            fprintf(stderr,
                    "aitrader: backtest: more than %zu books: the report cannot count them\n",
                    sizeof(books) / sizeof(books[0]));
            json_decref(fills);
            json_decref(eq);
            goto done;
        }
        if (l->funding) {
            at_dec_add(funding, l->fund, &funding);
            at_dec_add(s->funding, l->fund, &s->funding);
            at_dec_add(s->pnl, l->fund, &s->pnl);
            at_dec_add(k->pnl, l->fund, &k->pnl);
            continue;
        }
        at_dec_sub(fees, l->fee, &fees); /* fees are negative in the ledger: paid */
        at_dec_sub(s->fees, l->fee, &s->fees);
        at_dec fnet;
        at_dec_add(l->pnl, l->fee, &fnet);
        at_dec_add(s->pnl, fnet, &s->pnl);
        at_dec_add(k->pnl, fnet, &k->pnl);
        at_dec before = k->pos, after;
        at_dec_add(before, signed_sz(l), &after);
        char px[AT_DEC_STRLEN], sz[AT_DEC_STRLEN], fee[AT_DEC_STRLEN], pnl[AT_DEC_STRLEN];
        at_dec_format(l->px, px);
        at_dec_format(l->sz, sz);
        at_dec_format(l->fee, fee);
        at_dec_format(l->pnl, pnl);
        json_array_append_new(
            fills, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ts",
                             (json_int_t)l->ts, "account", l->account, "origin", l->origin,
                             "instId", l->inst, "side", l->side, "posSide", l->pos_side, "px", px,
                             "sz", sz, "fee", fee, "pnl", pnl, "clOrdId", l->cl_ord_id));
        /* the average entry: more in the same direction averages in, a
         * reduction keeps it, through zero the rest is at this price */
        double pb = fabs(at_dec_to_double(before)), ds = fabs(at_dec_to_double(l->sz));
        double px_d = at_dec_to_double(l->px);
        if (before.m == 0 || (before.m > 0) == (signed_sz(l).m > 0)) {
            k->avg = pb + ds > 0 ? (k->avg * pb + px_d * ds) / (pb + ds) : px_d;
        } else if (after.m != 0 && (before.m > 0) != (after.m > 0)) {
            k->avg = px_d;
        }
        k->ct_val = at_dec_to_double(l->ct_val);
        k->open = true;
        k->pos = after;
        /* flat again, or through zero (net): the trade ends there */
        if (after.m == 0 || (before.m != 0 && (before.m > 0) != (after.m > 0))) {
            trade_end(k, s, &trades, &wins, &gwin, &gloss);
            k->open = after.m != 0;
        }
    }
    /* books still open at the end: their trades count as they stand,
     * marked to the instrument's last close */
    for (size_t i = 0; i < nb; i++) {
        book *k = &books[i];
        if (!k->open || k->pos.m == 0) {
            continue;
        }
        double close = NAN;
        for (size_t j = 0; j < b->ns; j++) {
            if (strcmp(b->s[j].inst, k->inst) == 0) {
                close = b->s[j].bars[b->s[j].n - 1].c;
            }
        }
        if (!isnan(close)) {
            double pos = at_dec_to_double(k->pos);
            double unreal = strcmp(k->pos_side, "short") == 0 ? pos * (k->avg - close) * k->ct_val
                                                              : pos * (close - k->avg) * k->ct_val;
            at_dec u = {0};
            at_dec_from_double(unreal, 8, &u);
            at_dec_add(k->pnl, u, &k->pnl);
        }
        sym *s = sym_of(syms, &ns, k->inst);
        if (s) {
            trade_end(k, s, &trades, &wins, &gwin, &gloss);
        }
    }
    json_t *per = json_array();
    for (size_t i = 0; i < ns; i++) {
        json_array_append_new(
            per, json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "instId", syms[i].inst, "trades",
                           (json_int_t)syms[i].trades, "win_rate",
                           syms[i].trades ? ratio((double)syms[i].wins / (double)syms[i].trades)
                                          : json_null(),
                           "pnl", money(syms[i].pnl), "fees", money(syms[i].fees), "funding",
                           money(syms[i].funding)));
    }
    char from[32], to[32];
    iso(b->start_ms, from, sizeof(from));
    iso(b->end_ms, to, sizeof(to));
    double days = (double)(b->end_ms - b->start_ms) / 86400000.0;
    double gl = at_dec_to_double(gloss);
    out = json_object();
    json_object_set_new(out, "bars", json_integer((json_int_t)(b->bars_played / b->nmarkets)));
    json_object_set_new(out, "from", json_string(from));
    json_object_set_new(out, "to", json_string(to));
    json_object_set_new(out, "start_equity", json_real(round(start * 1e8) / 1e8));
    json_object_set_new(out, "end_equity", json_real(round(end * 1e8) / 1e8));
    json_object_set_new(out, "return_pct",
                        start > 0 ? ratio((end / start - 1) * 100) : json_null());
    json_object_set_new(out, "max_drawdown_pct", ratio(mdd));
    json_object_set_new(out, "sharpe", ratio(sharpe));
    json_object_set_new(out, "sortino", ratio(sortino));
    json_object_set_new(out, "trades", json_integer((json_int_t)trades));
    json_object_set_new(out, "win_rate",
                        trades ? ratio((double)wins / (double)trades) : json_null());
    json_object_set_new(out, "profit_factor",
                        gl < 0 ? ratio(at_dec_to_double(gwin) / -gl) : json_null());
    json_object_set_new(out, "fees", money(fees));
    json_object_set_new(out, "funding", money(funding));
    json_object_set_new(out, "ai_calls", json_integer(xp->calls));
    json_object_set_new(out, "ai_calls_per_day",
                        days > 0 ? ratio((double)xp->calls / days) : json_null());
    json_object_set_new(out, "tokens", json_integer(xp->tokens));
    json_object_set_new(out, "cost_usd", ratio(xp->cost));
    json_object_set_new(out, "per_symbol", per);
    json_object_set_new(out, "equity", eq);
    json_object_set_new(out, "fills", fills);
done:
    if (xp->done) {
        free(xp->l);
        free(xp->q);
        free(xp);
    }
    return out;
}

/* ------------------------------------------------------------ output */

double bt_num(const json_t *r, const char *k)
{
    const json_t *v = json_object_get(r, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A figure for the table: "-" when the report has none (null). */
const char *bt_fig(char *buf, size_t cap, const char *fmt, double v)
{
    if (isnan(v)) {
        return "-";
    }
    snprintf(buf, cap, fmt, v);
    return buf;
}

void bt_print_summary(const json_t *r, FILE *f)
{
    char a[32], b[32], c[32], d[32];
    fprintf(f, "backtest %s .. %s, %lld bars\n", json_string_value(json_object_get(r, "from")),
            json_string_value(json_object_get(r, "to")),
            (long long)json_integer_value(json_object_get(r, "bars")));
    fprintf(f, "  equity        %14.2f -> %.2f USDT\n", bt_num(r, "start_equity"),
            bt_num(r, "end_equity"));
    fprintf(f, "  return        %14s %%\n", bt_fig(a, sizeof(a), "%+.2f", bt_num(r, "return_pct")));
    fprintf(f, "  max drawdown  %14.2f %%\n", bt_num(r, "max_drawdown_pct"));
    fprintf(f, "  sharpe        %14s   sortino %s\n",
            bt_fig(a, sizeof(a), "%.2f", bt_num(r, "sharpe")),
            bt_fig(b, sizeof(b), "%.2f", bt_num(r, "sortino")));
    fprintf(f, "  trades        %14lld   win rate %s   profit factor %s\n",
            (long long)json_integer_value(json_object_get(r, "trades")),
            bt_fig(a, sizeof(a), "%.1f %%", bt_num(r, "win_rate") * 100),
            bt_fig(b, sizeof(b), "%.2f", bt_num(r, "profit_factor")));
    fprintf(f, "  fees          %14.2f   funding %+.2f\n", bt_num(r, "fees"), bt_num(r, "funding"));
    fprintf(f, "  AI calls      %14lld   %s a day, %lld tokens, %.4f USD\n",
            (long long)json_integer_value(json_object_get(r, "ai_calls")),
            bt_fig(c, sizeof(c), "%.1f", bt_num(r, "ai_calls_per_day")),
            (long long)json_integer_value(json_object_get(r, "tokens")), bt_num(r, "cost_usd"));
    const json_t *eff = json_object_get(r, "efficiency");
    if (eff) {
        fprintf(f, "  decision efficiency: %lld significant moves (|5m change| >= 1 %%)\n",
                (long long)json_integer_value(json_object_get(eff, "moves")));
        fprintf(f, "  %-22s %9s %11s %11s %11s\n", "schedule", "calls/day", "median s", "p90 s",
                "within 60s");
        size_t k;
        const json_t *e;
        json_array_foreach(json_object_get(eff, "schedules"), k, e)
        {
            fprintf(f, "  %-22s %9s %11s %11s %11s\n",
                    json_string_value(json_object_get(e, "schedule")),
                    bt_fig(a, sizeof(a), "%.1f", bt_num(e, "calls_per_day")),
                    bt_fig(b, sizeof(b), "%.0f", bt_num(e, "delay_median_s")),
                    bt_fig(c, sizeof(c), "%.0f", bt_num(e, "delay_p90_s")),
                    bt_fig(d, sizeof(d), "%.1f%%", bt_num(e, "within_60s") * 100));
        }
    }
    const json_t *per = json_object_get(r, "per_symbol");
    if (json_array_size(per) > 0) {
        fprintf(f, "  %-16s %7s %9s %14s %12s %12s\n", "symbol", "trades", "win rate", "pnl",
                "fees", "funding");
    }
    size_t i;
    const json_t *s;
    json_array_foreach(per, i, s)
    {
        fprintf(f, "  %-16s %7lld %9s %+14.2f %12.2f %+12.2f\n",
                json_string_value(json_object_get(s, "instId")),
                (long long)json_integer_value(json_object_get(s, "trades")),
                bt_fig(a, sizeof(a), "%.1f%%", bt_num(s, "win_rate") * 100), bt_num(s, "pnl"),
                bt_num(s, "fees"), bt_num(s, "funding"));
    }
}

int bt_write_report(const json_t *r, const char *path, const backtest *b)
{
    size_t len = strlen(path);
    bool html = len > 5 && strcasecmp(path + len - 5, ".html") == 0;
    char *text = json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    FILE *f = text ? fopen(path, "w") : NULL;
    if (!f) {
        fprintf(stderr, "aitrader: backtest: cannot write %s\n", path);
        free(text);
        return 1;
    }
    if (html) {
        bt_write_html(f, r, text, b);
    } else {
        fputs(text, f);
        fputc('\n', f);
    }
    free(text);
    if (fclose(f) != 0) {
        fprintf(stderr, "aitrader: backtest: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

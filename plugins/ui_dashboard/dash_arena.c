/* GET /api/arena[?from=&to=]: every trader side by side (README "Arena").
 * The traders come from the engine (`traders`), their figures from storage,
 * read in steps and folded as the rows stream by (a month of minute
 * snapshots is never held as JSON):
 *
 *   1 start   each trader's first pnl_snapshots row and first ledger row
 *             (its first fill) on its account
 *   2 equity  per trader, the account's equity row the curve starts from
 *   3 pnl     the trader's net PnL over time: the curve in the window
 *   4 ledger  fees and funding booked in the window
 *   5 ai      the decisions in the window: calls, tokens, cost, entries,
 *             closed decisions and wins, the direction bias per model
 *
 * A trader's curve is start equity + its own net PnL, so two traders on one
 * account are judged on their own trades. Money stays exact (at_dec); the
 * ratios are doubles (dash_arena_stats.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"
#include "dash_arena.h"

#define ARENA_MAX_TRADERS 128
#define ARENA_NAME_LEN 128 /* provider, model */

typedef struct net_pt {
    int64_t ts;
    at_dec net;
} net_pt;

typedef struct arena_trader {
    char id[AT_ID_LEN], ai[AT_ID_LEN], account[AT_ID_LEN];
    json_t *symbols; /* owned */
    char provider[ARENA_NAME_LEN], model[ARENA_NAME_LEN];
    /* the curve: its first snapshot (t0), its first fill (f), the equity row
     * it starts from (taken after f: less the net of the first snapshot) */
    bool have_t0, have_f, have_row, row_after, have_first_net;
    int64_t t0, f;
    at_dec row_eq, first_net;
    bool have_carry; /* the last point before the window */
    net_pt carry;
    net_pt *pts; /* the points in the window, in time order */
    size_t npts, cap;
    /* ledger */
    at_dec fees, funding;
    bool money_ok; /* false when a sum overflowed */
    /* decisions */
    int64_t calls, tokens_in, tokens_out, longs, shorts, closed, wins;
    double cost;
} arena_trader;

typedef struct arena_bias {
    char model[ARENA_NAME_LEN];
    int64_t longs, shorts;
} arena_bias;

typedef struct arena_job arena_job;
typedef void (*arena_step)(arena_job *j);

struct arena_job {
    dash *d;
    uint64_t req;
    int64_t from, to;
    arena_trader *t;
    size_t nt, cur; /* cur: the trader of the equity step */
    arena_bias *bias;
    size_t nbias, capbias;
    bool oom, in_ledger; /* in_ledger: step 1's second query */
    bool second;         /* the equity step's fallback query */
    arena_step next;
    char sql[8192];
    at_db_value p[ARENA_MAX_TRADERS + 2];
};

/* ------------------------------------------------------------ columns */

static const char *col_text(const at_db_row *r, size_t i)
{
    return i < r->ncols && r->cols[i].type == AT_DB_TEXT ? r->cols[i].u.s : NULL;
}

/* SQLite gives integers, PostgreSQL text for NUMERIC and some aggregates. */
static bool col_int(const at_db_row *r, size_t i, int64_t *out)
{
    if (i >= r->ncols) {
        return false;
    }
    const at_db_value *v = &r->cols[i];
    if (v->type == AT_DB_INT) {
        *out = v->u.i;
        return true;
    }
    if (v->type == AT_DB_TEXT) {
        char *end;
        *out = strtoll(v->u.s, &end, 10);
        return end != v->u.s;
    }
    return false;
}

static double col_real(const at_db_row *r, size_t i)
{
    const at_db_value *v = i < r->ncols ? &r->cols[i] : NULL;
    double x = !v                      ? 0
               : v->type == AT_DB_REAL ? v->u.r
               : v->type == AT_DB_INT  ? (double)v->u.i
               : v->type == AT_DB_TEXT ? strtod(v->u.s, NULL)
                                       : 0;
    return isfinite(x) ? x : 0;
}

static bool col_true(const at_db_row *r, size_t i)
{
    const at_db_value *v = i < r->ncols ? &r->cols[i] : NULL;
    return v && ((v->type == AT_DB_INT && v->u.i != 0) || (v->type == AT_DB_BOOL && v->u.b) ||
                 (v->type == AT_DB_TEXT && (v->u.s[0] == 't' || v->u.s[0] == '1')));
}

/* A decimal column (text in both backends); false when NULL or malformed. */
static bool col_dec(const dash *d, const at_db_row *r, size_t i, at_dec *out)
{
    const char *s = col_text(r, i);
    if (!s && i < r->ncols && r->cols[i].type == AT_DB_INT) {
        *out = (at_dec){r->cols[i].u.i, 0};
        return true;
    }
    return s && d->h->dec_parse(s, (size_t)-1, out) == AT_OK;
}

static arena_trader *trader_of(arena_job *j, const char *origin, const char *account)
{
    for (size_t i = 0; origin && i < j->nt; i++) {
        if (strcmp(j->t[i].id, origin) == 0 &&
            (!account || strcmp(j->t[i].account, account) == 0)) {
            return &j->t[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the job */

static void job_free(arena_job *j)
{
    for (size_t i = 0; i < j->nt; i++) {
        json_decref(j->t[i].symbols);
        free(j->t[i].pts);
    }
    free(j->t);
    free(j->bias);
    free(j);
}

static void on_done(void *arg, int err, const char *error)
{
    arena_job *j = arg;
    if (!j->d->started) { /* the engine stops: nobody to answer */
        job_free(j);
        return;
    }
    if (err != AT_OK || j->oom) {
        if (err != AT_OK) {
            j->d->h->log(j->d->inst, AT_LOG_WARN, "the arena's read failed: %s",
                         error ? error : "storage error");
            dash_reply_fail(j->d, j->req, 503, "storage_unavailable",
                            "the storage could not answer (see the engine's log)");
        } else {
            dash_reply_fail(j->d, j->req, 500, "internal", "out of memory");
        }
        job_free(j);
        return;
    }
    j->next(j);
}

static void query(arena_job *j, size_t np, at_db_row_cb row, arena_step next)
{
    j->next = next;
    int rc = j->d->h->db_query(j->d->inst, j->sql, j->p, np, row, on_done, j);
    if (rc != AT_OK) {
        dash_reply_fail(j->d, j->req, 503, "storage_unavailable",
                        rc == AT_ENOMEM ? "out of memory"
                                        : "no storage to read from (enable a [storage.*] section)");
        job_free(j);
    }
}

/* j->sql = head + "(" + $first … one per trader + ")" + tail; the ids go to
 * j->p from first - 1. Returns the parameter count. */
static size_t sql_in(arena_job *j, const char *head, size_t first, const char *tail)
{
    size_t len = (size_t)snprintf(j->sql, sizeof(j->sql), "%s(", head);
    for (size_t i = 0; i < j->nt; i++) {
        j->p[first - 1 + i] = AT_DB_S(j->t[i].id);
        len += (size_t)snprintf(j->sql + len, sizeof(j->sql) - len, "%s$%zu", i ? ", " : "",
                                first + i);
    }
    snprintf(j->sql + len, sizeof(j->sql) - len, ")%s", tail);
    return first - 1 + j->nt;
}

/* ------------------------------------------------------------ 1 start, 2 equity */

static void step_pnl(arena_job *j);
static void equity_next(arena_job *j);

/* origin, account, MIN(ts_ms) into t0 (pnl_snapshots) or f (ledger) */
static int row_start(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = trader_of(j, col_text(r, 0), col_text(r, 1));
    bool ledger = j->in_ledger;
    if (t && col_int(r, 2, ledger ? &t->f : &t->t0)) {
        *(ledger ? &t->have_f : &t->have_t0) = true;
    }
    return 0;
}

static void step_f(arena_job *j)
{
    size_t np = sql_in(j, "SELECT origin, account, MIN(ts_ms) FROM ledger WHERE origin IN ", 1,
                       " GROUP BY origin, account");
    j->in_ledger = true;
    query(j, np, row_start, equity_next);
}

static int row_equity(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    if (col_dec(j->d, r, 0, &t->row_eq)) {
        t->have_row = true;
        t->row_after = j->second;
    }
    return 0;
}

/* After a trader's equity query: the fallback when the first found none. */
static void equity_done(arena_job *j)
{
    if (!j->t[j->cur].have_row && !j->second) {
        j->second = true;
    } else {
        j->cur++;
        j->second = false;
    }
    equity_next(j);
}

/* The account's equity before the trader's first fill: its last row before
 * that fill; when it has none (a fresh account whose first row came with
 * the fill), the first row after it, less the trader's net in the snapshot
 * that fill wrote (step 3). */
static void equity_next(arena_job *j)
{
    while (j->cur < j->nt && !(j->t[j->cur].have_t0 && j->t[j->cur].have_f)) {
        j->cur++;
    }
    if (j->cur == j->nt) {
        step_pnl(j);
        return;
    }
    arena_trader *t = &j->t[j->cur];
    j->p[0] = AT_DB_S(t->account);
    j->p[1] = AT_DB_I(t->f);
    snprintf(j->sql, sizeof(j->sql), "%s",
             j->second ? "SELECT total_eq FROM equity_snapshots WHERE account = $1 AND ts_ms >= "
                         "$2 ORDER BY ts_ms LIMIT 1"
                       : "SELECT total_eq FROM equity_snapshots WHERE account = $1 AND ts_ms < "
                         "$2 ORDER BY ts_ms DESC LIMIT 1");
    query(j, 2, row_equity, equity_done);
}

/* ------------------------------------------------------------ 3 the curve */

static void step_ledger(arena_job *j);

static void feed(arena_job *j, arena_trader *t, int64_t ts, at_dec net)
{
    if (ts > j->to) {
        return;
    }
    if (ts < j->from) {
        t->have_carry = true;
        t->carry = (net_pt){ts, net};
        return;
    }
    if (t->npts == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        net_pt *p = realloc(t->pts, cap * sizeof(*p));
        if (!p) {
            j->oom = true;
            return;
        }
        t->pts = p;
        t->cap = cap;
    }
    t->pts[t->npts++] = (net_pt){ts, net};
}

static int row_pnl(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = trader_of(j, col_text(r, 0), col_text(r, 1));
    int64_t ts;
    at_dec net;
    /* a NULL net (no mark known yet) is no point */
    if (t && t->have_row && col_int(r, 2, &ts) && col_dec(j->d, r, 3, &net)) {
        if (!t->have_first_net) {
            t->have_first_net = true;
            t->first_net = net;
        }
        feed(j, t, ts, net);
    }
    return j->oom;
}

static void step_pnl(arena_job *j)
{
    /* the curve's first point: the start equity 1 ms before the first
     * snapshot, when nothing of the trader was booked yet */
    for (size_t i = 0; i < j->nt; i++) {
        if (j->t[i].have_row) {
            feed(j, &j->t[i], j->t[i].t0 - 1, (at_dec){0, 0});
        }
    }
    size_t n = sql_in(j, "SELECT origin, account, ts_ms, net FROM pnl_snapshots WHERE origin IN ",
                      1, " ORDER BY origin, account, ts_ms");
    query(j, n, row_pnl, step_ledger);
}

/* ------------------------------------------------------------ 4 ledger, 5 decisions */

static void step_ai(arena_job *j);

static void add_to(const dash *d, arena_trader *t, at_dec *acc, at_dec v)
{
    if (d->h->dec_add(*acc, v, acc) != AT_OK) {
        t->money_ok = false;
    }
}

static int row_ledger(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = trader_of(j, col_text(r, 0), col_text(r, 1));
    const char *kind = col_text(r, 2);
    at_dec v;
    if (t && kind && strcmp(kind, "fill") == 0 && col_dec(j->d, r, 3, &v)) {
        add_to(j->d, t, &t->fees, v);
    } else if (t && kind && strcmp(kind, "funding") == 0 && col_dec(j->d, r, 4, &v)) {
        add_to(j->d, t, &t->funding, v);
    }
    return 0;
}

static void step_ledger(arena_job *j)
{
    size_t n = sql_in(j,
                      "SELECT origin, account, kind, fee, funding FROM ledger WHERE ts_ms >= $1 "
                      "AND ts_ms <= $2 AND origin IN ",
                      3, "");
    j->p[0] = AT_DB_I(j->from);
    j->p[1] = AT_DB_I(j->to);
    query(j, n, row_ledger, step_ai);
}

static arena_bias *bias_of(arena_job *j, const char *model)
{
    for (size_t i = 0; i < j->nbias; i++) {
        if (strcmp(j->bias[i].model, model) == 0) {
            return &j->bias[i];
        }
    }
    if (j->nbias == j->capbias) {
        size_t cap = j->capbias ? 2 * j->capbias : 8;
        arena_bias *b = realloc(j->bias, cap * sizeof(*b));
        if (!b) {
            j->oom = true;
            return NULL;
        }
        j->bias = b;
        j->capbias = cap;
    }
    arena_bias *b = &j->bias[j->nbias++];
    memset(b, 0, sizeof(*b));
    snprintf(b->model, sizeof(b->model), "%s", model);
    return b;
}

/* Entries of a valid decision's actions: open_long and open_short items. */
static void count_entries(const char *actions, int64_t *longs, int64_t *shorts)
{
    json_t *a = actions ? json_loads(actions, 0, NULL) : NULL;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(a, "decisions"), i, it)
    {
        const char *act = json_string_value(json_object_get(it, "action"));
        *longs += act && strcmp(act, "open_long") == 0;
        *shorts += act && strcmp(act, "open_short") == 0;
    }
    json_decref(a);
}

/* A closed decision: it opened contracts and none of them is open any more. */
static bool is_closed(const dash *d, const char *outcome)
{
    json_t *o = outcome ? json_loads(outcome, 0, NULL) : NULL;
    const char *k;
    json_t *s;
    bool opened = false, open = false;
    json_object_foreach(json_object_get(o, "symbols"), k, s)
    {
        const char *a = json_string_value(json_object_get(s, "opened"));
        const char *b = json_string_value(json_object_get(s, "open"));
        at_dec x;
        opened |= a && d->h->dec_parse(a, (size_t)-1, &x) == AT_OK && x.m > 0;
        open |= !b || d->h->dec_parse(b, (size_t)-1, &x) != AT_OK || x.m != 0;
    }
    json_decref(o);
    return opened && !open;
}

/* trader, provider, model, valid, tokens_in, tokens_out, cost, actions_json,
 * outcome_json, net_pnl */
static int row_ai(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = trader_of(j, col_text(r, 0), NULL);
    if (!t) {
        return 0;
    }
    const char *prov = col_text(r, 1), *model = col_text(r, 2);
    snprintf(t->provider, sizeof(t->provider), "%s", prov ? prov : t->ai);
    snprintf(t->model, sizeof(t->model), "%s", model ? model : "");
    int64_t v;
    t->calls++;
    t->tokens_in += col_int(r, 4, &v) ? v : 0;
    t->tokens_out += col_int(r, 5, &v) ? v : 0;
    t->cost += col_real(r, 6);
    if (col_true(r, 3)) {
        int64_t l = 0, s = 0;
        count_entries(col_text(r, 7), &l, &s);
        t->longs += l;
        t->shorts += s;
        arena_bias *b = (l || s) ? bias_of(j, model ? model : prov ? prov : t->ai) : NULL;
        if (b) {
            b->longs += l;
            b->shorts += s;
        }
    }
    at_dec net;
    if (is_closed(j->d, col_text(r, 8))) {
        t->closed++;
        t->wins += col_dec(j->d, r, 9, &net) && net.m > 0;
    }
    return j->oom;
}

static void step_finish(arena_job *j);

static void step_ai(arena_job *j)
{
    size_t n = sql_in(j,
                      "SELECT trader, provider, model, valid, tokens_in, tokens_out, cost, "
                      "actions_json, outcome_json, net_pnl FROM decisions WHERE created_ms >= $1 "
                      "AND created_ms <= $2 AND trader IN ",
                      3, " ORDER BY created_ms");
    j->p[0] = AT_DB_I(j->from);
    j->p[1] = AT_DB_I(j->to);
    query(j, n, row_ai, step_finish);
}

/* ------------------------------------------------------------ the answer */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *ratio(int64_t a, int64_t b)
{
    return b ? json_real((double)a / (double)b) : json_null();
}

/* The curve's figures: start_equity, equity, pnl, return_pct,
 * max_drawdown_pct, sharpe and the points (null when there is no curve). */
static void curve_json(arena_job *j, arena_trader *t, json_t *o)
{
    const at_host *h = j->d->h;
    at_dec e0 = t->row_eq;
    bool ok = t->have_row &&
              (!t->row_after || (t->have_first_net && h->dec_sub(e0, t->first_net, &e0) == AT_OK));
    /* a curve that began before the window enters it at `from` with the
     * value it had then */
    bool carry = t->have_carry && !(t->npts > 0 && t->pts[0].ts == j->from);
    size_t n = ok ? t->npts + carry : 0;
    at_dec *eq = n ? malloc(n * sizeof(*eq)) : NULL;
    arena_pt *pt = n ? malloc(n * sizeof(*pt)) : NULL;
    size_t *idx = n ? malloc((n < ARENA_CURVE_MAX ? n : ARENA_CURVE_MAX) * sizeof(*idx)) : NULL;
    json_t *curve = json_array();
    if (n && (!eq || !pt || !idx)) {
        j->oom = true;
        n = 0;
    }
    size_t k = 0;
    for (; k < n && ok; k++) {
        const net_pt *q = carry ? (k == 0 ? &t->carry : &t->pts[k - 1]) : &t->pts[k];
        ok = h->dec_add(e0, q->net, &eq[k]) == AT_OK;
        pt[k] = (arena_pt){carry && k == 0 ? j->from : q->ts, h->dec_to_double(eq[k])};
    }
    if (ok && k > 0) {
        at_dec pnl;
        json_object_set_new(o, "start_equity", dash_json_dec(j->d, eq[0]));
        json_object_set_new(o, "equity", dash_json_dec(j->d, eq[k - 1]));
        json_object_set_new(o, "pnl",
                            h->dec_sub(eq[k - 1], eq[0], &pnl) == AT_OK ? dash_json_dec(j->d, pnl)
                                                                        : json_null());
        json_object_set_new(o, "return_pct",
                            pt[0].v > 0 ? num((pt[k - 1].v / pt[0].v - 1) * 100) : json_null());
        json_object_set_new(o, "max_drawdown_pct", num(arena_max_drawdown_pct(pt, k)));
        double sh;
        json_object_set_new(o, "sharpe", arena_sharpe(pt, k, &sh) ? num(sh) : json_null());
        size_t m = arena_downsample(pt, k, ARENA_CURVE_MAX, idx);
        for (size_t i = 0; i < m && curve; i++) {
            json_array_append_new(curve, json_pack("[I, o]", (json_int_t)pt[idx[i]].ts,
                                                   dash_json_dec(j->d, eq[idx[i]])));
        }
    } else {
        const char *keys[] = {"start_equity", "equity",           "pnl",
                              "return_pct",   "max_drawdown_pct", "sharpe"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            json_object_set_new(o, keys[i], json_null());
        }
    }
    json_object_set_new(o, "equity_curve", curve ? curve : json_array());
    free(eq);
    free(pt);
    free(idx);
}

static json_t *trader_json(arena_job *j, arena_trader *t)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s?, s:s, s:O}", "trader", t->id, "provider",
                  t->provider[0] ? t->provider : t->ai, "model", t->model[0] ? t->model : NULL,
                  "account", t->account, "symbols", t->symbols);
    if (!o) {
        return NULL;
    }
    curve_json(j, t, o);
    json_object_set_new(o, "win_rate", ratio(t->wins, t->closed));
    json_object_set_new(o, "round_trips", json_integer(t->closed));
    json_object_set_new(o, "wins", json_integer(t->wins));
    json_object_set_new(o, "fees", t->money_ok ? dash_json_dec(j->d, t->fees) : json_null());
    json_object_set_new(o, "funding", t->money_ok ? dash_json_dec(j->d, t->funding) : json_null());
    json_object_set_new(o, "ai_calls", json_integer(t->calls));
    json_object_set_new(o, "tokens_in", json_integer(t->tokens_in));
    json_object_set_new(o, "tokens_out", json_integer(t->tokens_out));
    json_object_set_new(o, "cost_usd", num(t->cost));
    json_object_set_new(o, "long_entries", json_integer(t->longs));
    json_object_set_new(o, "short_entries", json_integer(t->shorts));
    json_object_set_new(o, "long_short_ratio", ratio(t->longs, t->shorts));
    return o;
}

/* By return, best first; traders without a curve last, then by name. */
static int by_return(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_t *rx = json_object_get(x, "return_pct"), *ry = json_object_get(y, "return_pct");
    if (json_is_number(rx) != json_is_number(ry)) {
        return json_is_number(rx) ? -1 : 1;
    }
    double dx = json_number_value(rx), dy = json_number_value(ry);
    if (dx != dy) {
        return dx > dy ? -1 : 1;
    }
    return strcmp(json_string_value(json_object_get(x, "trader")),
                  json_string_value(json_object_get(y, "trader")));
}

static int by_model(const void *a, const void *b)
{
    return strcmp(((const arena_bias *)a)->model, ((const arena_bias *)b)->model);
}

static void step_finish(arena_job *j)
{
    json_t **rows = calloc(j->nt ? j->nt : 1, sizeof(*rows));
    json_t *traders = json_array(), *bias = json_array();
    bool ok = rows && traders && bias;
    for (size_t i = 0; ok && i < j->nt; i++) {
        ok = (rows[i] = trader_json(j, &j->t[i])) != NULL && !j->oom;
    }
    if (ok) {
        qsort(rows, j->nt, sizeof(*rows), by_return);
        qsort(j->bias, j->nbias, sizeof(*j->bias), by_model);
    }
    for (size_t i = 0; i < j->nt; i++) {
        if (ok) {
            json_array_append(traders, rows[i]);
        }
        json_decref(rows ? rows[i] : NULL);
    }
    for (size_t i = 0; ok && i < j->nbias; i++) {
        const arena_bias *b = &j->bias[i];
        json_array_append_new(bias, json_pack("{s:s, s:I, s:I, s:o}", "model", b->model, "long",
                                              (json_int_t)b->longs, "short", (json_int_t)b->shorts,
                                              "ratio", ratio(b->longs, b->shorts)));
    }
    free(rows);
    if (!ok) {
        json_decref(traders);
        json_decref(bias);
        dash_reply_fail(j->d, j->req, 500, "internal", "out of memory");
        job_free(j);
        return;
    }
    dash_reply(j->d, j->req, 200,
               json_pack("{s:I, s:I, s:o, s:o}", "from", (json_int_t)j->from, "to",
                         (json_int_t)j->to, "traders", traders, "bias", bias));
    job_free(j);
}

/* ------------------------------------------------------------ the route */

static bool copy_id(char *out, size_t cap, json_t *v)
{
    const char *s = json_string_value(v);
    return s && (size_t)snprintf(out, cap, "%s", s) < cap;
}

void dash_route_arena(dash *d, uint64_t req, const char *query_s)
{
    dash_err e;
    int64_t from, to;
    if (arena_window(query_s, dash_now_ms(d), &from, &to, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    json_t *list;
    if (dash_engine_get(d, req, "traders", &list) != AT_OK) {
        return; /* answered */
    }
    arena_job *j = calloc(1, sizeof(*j));
    size_t n = json_array_size(list);
    if (j) {
        j->t = calloc(n ? n : 1, sizeof(*j->t));
    }
    if (!j || !j->t) {
        json_decref(list);
        free(j);
        dash_reply_fail(d, req, 500, "internal", "out of memory");
        return;
    }
    j->d = d;
    j->req = req;
    j->from = from;
    j->to = to;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        arena_trader *t = &j->t[j->nt];
        if (j->nt == ARENA_MAX_TRADERS ||
            !copy_id(t->id, sizeof(t->id), json_object_get(x, "id"))) {
            continue;
        }
        copy_id(t->ai, sizeof(t->ai), json_object_get(x, "ai"));
        copy_id(t->account, sizeof(t->account), json_object_get(x, "account"));
        json_t *syms = json_object_get(x, "symbols");
        t->symbols = json_is_array(syms) ? json_incref(syms) : json_array();
        t->money_ok = true;
        j->nt++;
    }
    json_decref(list);
    if (j->nt == 0) {
        step_finish(j);
        return;
    }
    size_t np = sql_in(j, "SELECT origin, account, MIN(ts_ms) FROM pnl_snapshots WHERE origin IN ",
                       1, " GROUP BY origin, account");
    query(j, np, row_start, step_f);
}

/* GET /api/arena[?from=&to=|window=]: every trader side by side (README
 * "Arena"). The traders come from the engine (`traders`), their figures from
 * storage, read trader by trader in small queries, each bounded by the
 * window or by LIMIT 1 (storage answers on its writer thread and holds a
 * whole answer in memory: a year of minute snapshots must never be one):
 *
 *   start    its first pnl_snapshots row and first ledger row (its first
 *            fill) on its account, and its last PnL point before the window
 *   equity   the account's equity row the curve starts from, and the
 *            trader's net at that row when it came after the first fill
 *   curve    its net PnL in the window: the last point of each of at most
 *            ARENA_BUCKETS equal time buckets
 *   ledger   fees and funding booked in the window
 *   ai       its decisions in the window: calls, tokens, cost, the latest
 *            provider and model
 *   entries  its valid decisions with an open action: entries, closed
 *            decisions and wins, the direction bias per model
 *
 * A trader's curve is start equity + its own net PnL, so two traders on one
 * account are judged on their own trades. Money stays exact (at_dec); the
 * ratios are doubles (dash_arena_stats.c). Requests asking the same
 * question share one computation, and its answer serves them for
 * ARENA_CACHE_MS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"
#include "dash_arena.h"

#define ARENA_MAX_TRADERS 128
#define ARENA_NAME_LEN 128  /* provider, model */
#define ARENA_BUCKETS 2000  /* curve rows read per trader, at most */
#define ARENA_CACHE_MS 5000 /* an answer serves the same question this long */
#define ARENA_CACHE_N 4     /* answers kept (questions asked in turn) */
#define ARENA_KEY_LEN 64
#define ARENA_JSON "application/json"

typedef struct net_pt {
    int64_t ts;
    at_dec net;
} net_pt;

typedef struct arena_trader {
    char id[AT_ID_LEN], ai[AT_ID_LEN], account[AT_ID_LEN];
    json_t *symbols; /* owned */
    char provider[ARENA_NAME_LEN], model[ARENA_NAME_LEN];
    /* the curve: its first snapshot (t0), its first fill (f), the equity row
     * it starts from (when after f: less the trader's net at that row) */
    bool have_t0, have_f, have_row, row_after, have_row_net;
    int64_t t0, f;
    at_dec row_eq, row_net;
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

/* An answer kept for the same question a moment later. */
typedef struct arena_answer {
    char key[ARENA_KEY_LEN];
    int64_t at_ms; /* engine clock */
    char *body;    /* JSON */
    size_t len;
} arena_answer;

/* The instance's arena state (dash->arena): the computations in flight and
 * the answers kept. */
struct dash_arena {
    arena_job *running; /* linked by next_job */
    arena_answer kept[ARENA_CACHE_N];
    bool cap_logged; /* "more than ARENA_MAX_TRADERS traders" said */
};

typedef enum arena_stage {
    S_START,
    S_EQUITY,
    S_CURVE,
    S_LEDGER,
    S_AI,
    S_ENTRIES,
    S_NEXT
} arena_stage;

struct arena_job {
    dash *d;
    arena_job *next_job;
    char key[ARENA_KEY_LEN];
    uint64_t *reqs; /* the requests waiting for this answer */
    size_t nreq, capreq;
    int64_t from, to;
    arena_trader *t;
    size_t nt, cur; /* cur: the trader being read */
    arena_stage stage;
    bool truncated;     /* more traders than ARENA_MAX_TRADERS */
    arena_trader *last; /* trader_of's last match */
    arena_bias *bias;
    size_t nbias, capbias;
    bool oom;
    at_db_value p[6];
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

/* ------------------------------------------------------------ the job */

static void job_free(arena_job *j)
{
    for (size_t i = 0; i < j->nt; i++) {
        json_decref(j->t[i].symbols);
        free(j->t[i].pts);
    }
    free(j->t);
    free(j->bias);
    free(j->reqs);
    free(j);
}

/* Out of the instance's list of computations in flight, and freed. */
static void job_end(arena_job *j)
{
    struct dash_arena *ar = j->d->arena;
    for (arena_job **pp = ar ? &ar->running : NULL; pp && *pp; pp = &(*pp)->next_job) {
        if (*pp == j) {
            *pp = j->next_job;
            break;
        }
    }
    job_free(j);
}

/* Every request waiting for the job is refused, and the job ends. */
static void job_fail(arena_job *j, int status, const char *code, const char *msg)
{
    for (size_t i = 0; i < j->nreq; i++) {
        dash_reply_fail(j->d, j->reqs[i], status, code, "%s", msg);
    }
    job_end(j);
}

static void step(arena_job *j);

static void on_done(void *arg, int err, const char *error)
{
    arena_job *j = arg;
    if (!j->d->started) { /* the engine stops: nobody to answer */
        job_end(j);
        return;
    }
    if (err != AT_OK) {
        j->d->h->log(j->d->inst, AT_LOG_WARN, "the arena's read failed: %s",
                     error ? error : "storage error");
        job_fail(j, 503, "storage_unavailable",
                 "the storage could not answer (see the engine's log)");
        return;
    }
    if (j->oom) {
        job_fail(j, 500, "internal", "out of memory");
        return;
    }
    step(j);
}

static void query(arena_job *j, const char *sql, size_t np, at_db_row_cb row)
{
    int rc = j->d->h->db_query(j->d->inst, sql, j->p, np, row, on_done, j);
    if (rc != AT_OK) {
        job_fail(j, 503, "storage_unavailable",
                 rc == AT_ENOMEM ? "out of memory"
                                 : "no storage to read from (enable a [storage.*] section)");
    }
}

static void feed(arena_job *j, arena_trader *t, int64_t ts, at_dec net)
{
    if (ts > j->to) {
        return;
    }
    if (ts < j->from) {
        if (!t->have_carry || ts > t->carry.ts) {
            t->have_carry = true;
            t->carry = (net_pt){ts, net};
        }
        return;
    }
    if (t->npts == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
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

/* ------------------------------------------------------------ start, equity */

/* MIN(snapshot ts), MIN(ledger ts), the last point before the window
 * (ts, net) */
static int row_start(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    t->have_t0 = col_int(r, 0, &t->t0);
    t->have_f = col_int(r, 1, &t->f);
    t->have_carry = col_int(r, 2, &t->carry.ts) && col_dec(j->d, r, 3, &t->carry.net);
    return 0;
}

static const char SQL_START[] =
    "SELECT (SELECT MIN(ts_ms) FROM pnl_snapshots WHERE origin = $1 AND account = $2), "
    "(SELECT MIN(ts_ms) FROM ledger WHERE origin = $1 AND account = $2), "
    "c.ts_ms, c.net FROM (SELECT 1 AS one) o LEFT JOIN (SELECT ts_ms, net FROM pnl_snapshots "
    "WHERE origin = $1 AND account = $2 AND ts_ms < $3 AND net IS NOT NULL "
    "ORDER BY ts_ms DESC LIMIT 1) c ON true";

/* after (0 = the last row before the first fill, 1 = the first at or after
 * it), total_eq, the trader's net at the last point at or before that row,
 * its first net */
static int row_equity(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    int64_t after;
    at_dec eq;
    if (!col_int(r, 0, &after) || !col_dec(j->d, r, 1, &eq) || (t->have_row && after)) {
        return 0; /* the row before the fill wins */
    }
    t->have_row = true;
    t->row_eq = eq;
    t->row_after = after != 0;
    t->have_row_net =
        after && (col_dec(j->d, r, 2, &t->row_net) || col_dec(j->d, r, 3, &t->row_net));
    return 0;
}

/* The account's equity before the trader's first fill: its last row before
 * that fill; when it has none (a fresh account whose first row came with
 * the fill), the first row after it, less the trader's net at that moment:
 * at its last PnL point at or before that row (its first when it has none
 * that early). */
static const char SQL_EQUITY[] =
    "SELECT 0, b.total_eq, NULL, NULL FROM (SELECT total_eq FROM equity_snapshots "
    "WHERE account = $1 AND ts_ms < $2 ORDER BY ts_ms DESC LIMIT 1) b "
    "UNION ALL "
    "SELECT 1, a.total_eq, (SELECT p.net FROM pnl_snapshots p WHERE p.origin = $3 AND "
    "p.account = $1 AND p.ts_ms <= a.ts_ms AND p.net IS NOT NULL ORDER BY p.ts_ms DESC LIMIT 1), "
    "(SELECT p.net FROM pnl_snapshots p WHERE p.origin = $3 AND p.account = $1 AND "
    "p.net IS NOT NULL ORDER BY p.ts_ms LIMIT 1) "
    "FROM (SELECT ts_ms, total_eq FROM equity_snapshots WHERE account = $1 AND ts_ms >= $2 "
    "ORDER BY ts_ms LIMIT 1) a";

/* ------------------------------------------------------------ the curve */

static int row_pnl(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    int64_t ts;
    at_dec net;
    if (col_int(r, 0, &ts) && col_dec(j->d, r, 1, &net)) {
        feed(j, t, ts, net);
    }
    return j->oom;
}

/* The last point of each bucket of $5 ms from $3 (a NULL net, no mark known
 * yet, is no point). */
static const char SQL_CURVE[] =
    "SELECT ts_ms, net FROM pnl_snapshots WHERE origin = $1 AND account = $2 AND ts_ms IN "
    "(SELECT MAX(ts_ms) FROM pnl_snapshots WHERE origin = $1 AND account = $2 AND ts_ms >= $3 "
    "AND ts_ms <= $4 AND net IS NOT NULL GROUP BY (ts_ms - $3) / $5) ORDER BY ts_ms";

/* The width of the curve's buckets over [base, to]: ARENA_BUCKETS of them
 * at most, 1 ms at least. */
static int64_t bucket_ms(int64_t base, int64_t to)
{
    uint64_t span = (uint64_t)to - (uint64_t)base + 1; /* to >= base >= 0 */
    return (int64_t)((span - 1) / ARENA_BUCKETS + 1);
}

/* ------------------------------------------------------------ ledger, decisions */

static void add_to(const dash *d, arena_trader *t, at_dec *acc, at_dec v)
{
    if (d->h->dec_add(*acc, v, acc) != AT_OK) {
        t->money_ok = false;
    }
}

static int row_ledger(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    const char *kind = col_text(r, 0);
    at_dec v;
    if (kind && strcmp(kind, "fill") == 0 && col_dec(j->d, r, 1, &v)) {
        add_to(j->d, t, &t->fees, v);
    } else if (kind && strcmp(kind, "funding") == 0 && col_dec(j->d, r, 2, &v)) {
        add_to(j->d, t, &t->funding, v);
    }
    return 0;
}

static const char SQL_LEDGER[] =
    "SELECT kind, fee, funding FROM ledger WHERE origin = $1 AND account = $2 AND ts_ms >= $3 "
    "AND ts_ms <= $4";

/* calls, tokens in and out, cost; the provider and model of the latest */
static int row_ai(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    int64_t v;
    t->calls = col_int(r, 0, &v) ? v : 0;
    t->tokens_in = col_int(r, 1, &v) ? v : 0;
    t->tokens_out = col_int(r, 2, &v) ? v : 0;
    t->cost = col_real(r, 3);
    const char *prov = col_text(r, 4), *model = col_text(r, 5);
    snprintf(t->provider, sizeof(t->provider), "%s", prov ? prov : t->ai);
    snprintf(t->model, sizeof(t->model), "%s", model ? model : "");
    return 0;
}

/* The latest is the last by (created_ms, id): two decisions of one
 * millisecond name the same one every time. */
#define AI_WHERE "FROM decisions WHERE trader = $1 AND created_ms >= $2 AND created_ms <= $3"
#define AI_LATEST(c) "(SELECT " c " " AI_WHERE " ORDER BY created_ms DESC, id DESC LIMIT 1)"
static const char SQL_AI[] =
    "SELECT COUNT(*), SUM(tokens_in), SUM(tokens_out), SUM(cost), " AI_LATEST(
        "provider") ", " AI_LATEST("model") " " AI_WHERE;

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

/* provider, model, actions_json, outcome_json, net_pnl of a valid decision
 * with an open action (only those open contracts, so only those close) */
static int row_entries(void *arg, const at_db_row *r)
{
    arena_job *j = arg;
    arena_trader *t = &j->t[j->cur];
    const char *prov = col_text(r, 0), *model = col_text(r, 1);
    int64_t l = 0, s = 0;
    count_entries(col_text(r, 2), &l, &s);
    if (!l && !s) {
        return 0; /* "open_" in a reason: no entry, nothing opened */
    }
    t->longs += l;
    t->shorts += s;
    arena_bias *b = bias_of(j, model ? model : prov ? prov : t->ai);
    if (b) {
        b->longs += l;
        b->shorts += s;
    }
    at_dec net;
    if (is_closed(j->d, col_text(r, 3))) {
        t->closed++;
        t->wins += col_dec(j->d, r, 4, &net) && net.m > 0;
    }
    return j->oom;
}

static const char SQL_ENTRIES[] =
    "SELECT provider, model, actions_json, outcome_json, net_pnl " AI_WHERE
    " AND valid AND actions_json LIKE '%open_%'";

/* ------------------------------------------------------------ the steps */

static void step_finish(arena_job *j);

/* The next query of the trader being read, or of the next trader. */
static void step(arena_job *j)
{
    while (j->cur < j->nt) {
        arena_trader *t = &j->t[j->cur];
        arena_stage s = j->stage++;
        j->p[0] = AT_DB_S(t->id);
        j->p[1] = AT_DB_S(t->account);
        switch (s) {
        case S_START:
            j->p[2] = AT_DB_I(j->from);
            query(j, SQL_START, 3, row_start);
            return;
        case S_EQUITY:
            if (!(t->have_t0 && t->have_f)) {
                continue;
            }
            j->p[0] = AT_DB_S(t->account);
            j->p[1] = AT_DB_I(t->f);
            j->p[2] = AT_DB_S(t->id);
            query(j, SQL_EQUITY, 3, row_equity);
            return;
        case S_CURVE: {
            if (!t->have_row) {
                continue;
            }
            /* the curve's first point: the start equity 1 ms before the
             * first snapshot, when nothing of the trader was booked yet;
             * then what it carries into the window */
            net_pt carry = t->carry;
            bool have_carry = t->have_carry;
            t->have_carry = false;
            feed(j, t, t->t0 - 1, (at_dec){0, 0});
            if (have_carry) {
                feed(j, t, carry.ts, carry.net);
            }
            int64_t base = t->t0 > j->from ? t->t0 : j->from;
            if (base > j->to) {
                continue;
            }
            j->p[2] = AT_DB_I(base);
            j->p[3] = AT_DB_I(j->to);
            j->p[4] = AT_DB_I(bucket_ms(base, j->to));
            query(j, SQL_CURVE, 5, row_pnl);
            return;
        }
        case S_LEDGER:
            j->p[2] = AT_DB_I(j->from);
            j->p[3] = AT_DB_I(j->to);
            query(j, SQL_LEDGER, 4, row_ledger);
            return;
        case S_AI:
        case S_ENTRIES:
            j->p[1] = AT_DB_I(j->from);
            j->p[2] = AT_DB_I(j->to);
            query(j, s == S_AI ? SQL_AI : SQL_ENTRIES, 3, s == S_AI ? row_ai : row_entries);
            return;
        case S_NEXT:
            j->cur++;
            j->stage = S_START;
            continue;
        }
    }
    step_finish(j);
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
              (!t->row_after || (t->have_row_net && h->dec_sub(e0, t->row_net, &e0) == AT_OK));
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
        size_t nret;
        json_object_set_new(o, "sharpe", arena_sharpe(pt, k, &sh, &nret) ? num(sh) : json_null());
        json_object_set_new(o, "sharpe_returns", json_integer((json_int_t)nret));
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
        json_object_set_new(o, "sharpe_returns", json_integer(0));
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

/* The answer to every request waiting, kept for the same question. */
static void answer(arena_job *j, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        job_fail(j, 500, "internal", "out of memory");
        return;
    }
    size_t len = strlen(text);
    for (size_t i = 0; i < j->nreq; i++) {
        dash_reply_text(j->d, j->reqs[i], 200, ARENA_JSON, text, len);
    }
    struct dash_arena *ar = j->d->arena;
    arena_answer *slot = &ar->kept[0]; /* the same question's, else the oldest */
    for (size_t i = 0; i < ARENA_CACHE_N; i++) {
        arena_answer *a = &ar->kept[i];
        if (strcmp(a->key, j->key) == 0) {
            slot = a;
            break;
        }
        if (!a->body || a->at_ms < slot->at_ms) {
            slot = a;
        }
    }
    free(slot->body);
    snprintf(slot->key, sizeof(slot->key), "%s", j->key);
    slot->at_ms = dash_now_ms(j->d);
    slot->body = text;
    slot->len = len;
    job_end(j);
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
    json_t *body = ok ? json_pack("{s:I, s:I, s:b, s:o, s:o}", "from", (json_int_t)j->from, "to",
                                  (json_int_t)j->to, "truncated", j->truncated, "traders", traders,
                                  "bias", bias)
                      : NULL;
    if (!body) {
        if (!ok) {
            json_decref(traders);
            json_decref(bias);
        }
        job_fail(j, 500, "internal", "out of memory");
        return;
    }
    answer(j, body);
}

/* ------------------------------------------------------------ the route */

static bool copy_id(char *out, size_t cap, json_t *v)
{
    const char *s = json_string_value(v);
    return s && (size_t)snprintf(out, cap, "%s", s) < cap;
}

static bool add_req(arena_job *j, uint64_t req)
{
    if (j->nreq == j->capreq) {
        size_t cap = j->capreq ? 2 * j->capreq : 4;
        uint64_t *r = realloc(j->reqs, cap * sizeof(*r));
        if (!r) {
            return false;
        }
        j->reqs = r;
        j->capreq = cap;
    }
    j->reqs[j->nreq++] = req;
    return true;
}

void dash_arena_free(dash *d)
{
    struct dash_arena *ar = d->arena;
    if (!ar) {
        return;
    }
    /* a computation still in flight ends itself when storage answers (the
     * engine has stopped: it answers nobody) */
    for (size_t i = 0; i < ARENA_CACHE_N; i++) {
        free(ar->kept[i].body);
    }
    free(ar);
    d->arena = NULL;
}

void dash_route_arena(dash *d, uint64_t req, const char *query_s)
{
    dash_err e;
    int64_t from, to, now = dash_now_ms(d);
    char key[ARENA_KEY_LEN];
    if (arena_window(query_s, now, &from, &to, key, sizeof(key), &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    if (!d->arena && !(d->arena = calloc(1, sizeof(*d->arena)))) {
        dash_reply_fail(d, req, 500, "internal", "out of memory");
        return;
    }
    struct dash_arena *ar = d->arena;
    /* the same question asked a moment ago, or being answered */
    for (size_t i = 0; i < ARENA_CACHE_N; i++) {
        const arena_answer *a = &ar->kept[i];
        if (a->body && strcmp(a->key, key) == 0 && now - a->at_ms >= 0 &&
            now - a->at_ms < ARENA_CACHE_MS) {
            dash_reply_text(d, req, 200, ARENA_JSON, a->body, a->len);
            return;
        }
    }
    for (arena_job *r = ar->running; r; r = r->next_job) {
        if (strcmp(r->key, key) == 0) {
            if (!add_req(r, req)) {
                dash_reply_fail(d, req, 500, "internal", "out of memory");
            }
            return;
        }
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
    if (!j || !j->t || !add_req(j, req)) {
        json_decref(list);
        if (j) {
            free(j->t);
        }
        free(j);
        dash_reply_fail(d, req, 500, "internal", "out of memory");
        return;
    }
    j->d = d;
    snprintf(j->key, sizeof(j->key), "%s", key);
    j->from = from;
    j->to = to;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        arena_trader *t = &j->t[j->nt];
        if (!copy_id(t->id, sizeof(t->id), json_object_get(x, "id"))) {
            continue;
        }
        if (j->nt == ARENA_MAX_TRADERS) {
            j->truncated = true;
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
    if (j->truncated && !ar->cap_logged) {
        ar->cap_logged = true;
        d->h->log(d->inst, AT_LOG_WARN,
                  "the arena shows the first %d traders of %zu (\"truncated\": true)",
                  ARENA_MAX_TRADERS, n);
    }
    j->next_job = ar->running;
    ar->running = j;
    step(j);
}

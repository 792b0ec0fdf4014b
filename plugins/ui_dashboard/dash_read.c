/* The routes read from storage: instruments, accounts and their history,
 * the decision log with its verdicts and orders, news, sentiment, PnL per
 * trader. Each is its SQL (columns aliased to the API's names, valid in
 * SQLite and PostgreSQL alike) and a little assembly; filters are
 * parameters, never text pasted into the SQL. */
#include <stdio.h>
#include <string.h>

#include "dash.h"

/* ------------------------------------------------------------ SQL with parameters */

#define SB_MAXP 240

typedef struct sqlb {
    char sql[4096];
    size_t len;
    at_db_value p[SB_MAXP];
    size_t n;
    bool overflow;
} sqlb;

/* Append `frag`; each '?' in it becomes the next parameter ($n), `v`. */
static void sb(sqlb *b, const char *frag, at_db_value v)
{
    for (const char *s = frag; *s && !b->overflow; s++) {
        int w;
        if (*s == '?') {
            if (b->n == SB_MAXP) {
                b->overflow = true;
                break;
            }
            b->p[b->n++] = v;
            w = snprintf(b->sql + b->len, sizeof(b->sql) - b->len, "$%zu", b->n);
        } else {
            w = snprintf(b->sql + b->len, sizeof(b->sql) - b->len, "%c", *s);
        }
        if (w < 0 || (size_t)w >= sizeof(b->sql) - b->len) {
            b->overflow = true;
            break;
        }
        b->len += (size_t)w;
    }
}

static void sb_text(sqlb *b, const char *frag)
{
    sb(b, frag, AT_DB_N);
}

/* `frag` with its parameter `v` only when the filter was asked for. */
static void sb_if(sqlb *b, bool asked, const char *frag, at_db_value v)
{
    if (asked) {
        sb(b, frag, v);
    }
}

/* A paged list's query: the text filter `key` (may be absent), limit
 * (default 50, at most `max`) and the before cursor (ms, 0: none). */
static int page_query(const char *query, const char *key, char *val, size_t size, int64_t max,
                      int64_t *limit, int64_t *before, dash_err *e)
{
    if (dash_query_str(query, key, val, size, e) < 0) {
        return e->status;
    }
    int rc = dash_query_int(query, "limit", 50, 1, max, limit, e);
    return rc ? rc : dash_query_int(query, "before", 0, 0, INT64_MAX, before, e);
}

/* How every paged history route ends: newest first by `col` (a column name
 * of ours, never the client's), `limit` rows, older than `before` when it
 * is not 0 (the client's cursor). */
static void sb_page(sqlb *b, const char *col, int64_t before, int64_t limit)
{
    char frag[96];
    snprintf(frag, sizeof(frag), " AND %s < ?", col);
    sb_if(b, before != 0, frag, AT_DB_I(before));
    snprintf(frag, sizeof(frag), " ORDER BY %s DESC LIMIT ?", col);
    sb(b, frag, AT_DB_I(limit));
}

/* Run the built query (a builder that overflowed is a bug: 500). */
static void sb_run(dash_job *j, sqlb *b, const char *bools, dash_job_fn next)
{
    if (b->overflow) {
        dash_reply_fail(j->d, j->req, 500, "internal", "query too large");
        dash_job_free(j);
        return;
    }
    dash_job_query(j, b->sql, b->p, b->n, bools, next);
}

/* The rows, newest first from the query, as oldest first (for charts). */
static json_t *reversed(json_t *rows)
{
    json_t *a = json_array();
    for (size_t i = json_array_size(rows); a && i > 0; i--) {
        json_array_append(a, json_array_get(rows, i - 1));
    }
    return a;
}

static json_t *take_rows(dash_job *j)
{
    json_t *r = j->rows;
    j->rows = NULL;
    return r ? r : json_array();
}

static void reply_rows(dash_job *j)
{
    dash_job_reply(j, 200, take_rows(j));
}

/* ------------------------------------------------------------ instruments, accounts */

void dash_route_instruments(dash *d, uint64_t req)
{
    dash_job *j = dash_job_new(d, req);
    if (j) {
        dash_job_query(j,
                       "SELECT exchange AS account, inst_id AS \"instId\", inst_type AS "
                       "\"instType\", ct_val AS \"ctVal\", ct_val_ccy AS \"ctValCcy\", ct_mult AS "
                       "\"ctMult\", lot_sz AS \"lotSz\", min_sz AS \"minSz\", tick_sz AS "
                       "\"tickSz\", max_lever AS \"maxLever\", settle_ccy AS \"settleCcy\", "
                       "state, updated_ms AS \"updatedMs\" FROM instruments ORDER BY exchange, "
                       "inst_id",
                       NULL, 0, NULL, reply_rows);
    }
}

/* The account's figures as the venue last pushed them: equity (totalEq),
 * available and uPnL of its settlement currency (USDT when it has one). */
static void add_figures(dash *d, json_t *o, const dash_account *a)
{
    const dash_bal *b = NULL;
    for (size_t i = 0; a && i < a->nbal; i++) {
        if (!b || strcmp(a->bal[i].ccy, "USDT") == 0) {
            b = &a->bal[i];
        }
    }
    json_object_set_new(o, "equity", a && a->have_eq ? dash_json_dec(d, a->total_eq) : json_null());
    json_object_set_new(o, "available", b ? dash_json_dec(d, b->avail) : json_null());
    json_object_set_new(o, "upl", b ? dash_json_dec(d, b->upl) : json_null());
    json_object_set_new(o, "ccy", b ? json_string(b->ccy) : json_null());
}

static void accounts_done(dash_job *j)
{
    dash *d = j->d;
    json_t *rows = take_rows(j);
    size_t i;
    json_t *o;
    json_array_foreach(rows, i, o)
    {
        add_figures(d, o, dash_account_find(d, json_string_value(json_object_get(o, "id"))));
    }
    /* accounts the bus knows that have no row (the paper venue writes none) */
    for (size_t k = 0; k < d->live.nacct; k++) {
        const dash_account *a = &d->live.acct[k];
        bool listed = false;
        json_array_foreach(rows, i, o)
        {
            const char *id = json_string_value(json_object_get(o, "id"));
            listed |= id && strcmp(id, a->name) == 0;
        }
        if (!listed) {
            json_t *x = json_pack("{s:s, s:n, s:n, s:n, s:n}", "id", a->name, "exchange", "demo",
                                  "posMode", "tdMode");
            if (x) {
                add_figures(d, x, a);
                json_array_append_new(rows, x);
            }
        }
    }
    dash_job_reply(j, 200, rows);
}

void dash_route_accounts(dash *d, uint64_t req)
{
    dash_job *j = dash_job_new(d, req);
    if (j) {
        dash_job_query(j,
                       "SELECT id, exchange, demo, pos_mode AS \"posMode\", td_mode AS \"tdMode\" "
                       "FROM accounts ORDER BY id",
                       NULL, 0, ",demo,", accounts_done);
    }
}

/* ------------------------------------------------------------ one account */

/* What an account route asked, checked before any storage is read. */
typedef struct acct_q {
    dash_route_id id;
    bool history;
    int64_t limit, before, since;
} acct_q;

static int parse_acct_q(const dash_route *r, const char *query, acct_q *q, dash_err *e)
{
    memset(q, 0, sizeof(*q));
    q->id = r->id;
    char state[16];
    int rc = 0;
    if (r->id == DR_ORDERS) {
        if (dash_query_str(query, "state", state, sizeof(state), e) < 0) {
            return e->status;
        }
        if (state[0] && strcmp(state, "open") != 0 && strcmp(state, "history") != 0) {
            return dash_fail(e, 400, "bad_query", "state", "state must be open or history");
        }
        q->history = strcmp(state, "history") == 0;
    }
    if (r->id == DR_EQUITY) {
        rc = dash_query_int(query, "limit", 1440, 1, 10000, &q->limit, e);
        rc = rc ? rc : dash_query_int(query, "since", 0, 0, INT64_MAX, &q->since, e);
    } else {
        rc = dash_query_int(query, "limit", 100, 1, 1000, &q->limit, e);
        rc = rc ? rc : dash_query_int(query, "before", 0, 0, INT64_MAX, &q->before, e);
    }
    return rc;
}

static void history_done(dash_job *j)
{
    dash_job_reply(j, 200, j->step == DR_EQUITY ? reversed(j->rows) : take_rows(j));
}

static void serve_account(dash *d, dash_job *j, uint64_t req, const char *name, const acct_q *q)
{
    const dash_account *a = dash_account_find(d, name);
    dash_account empty;
    if (!a) {
        memset(&empty, 0, sizeof(empty));
        snprintf(empty.name, sizeof(empty.name), "%s", name);
        a = &empty;
    }
    bool live = q->id == DR_BALANCE || q->id == DR_POSITIONS || (q->id == DR_ORDERS && !q->history);
    if (live) {
        dash_job_free(j);
        if (q->id == DR_BALANCE) {
            dash_route_balance(d, req, a);
        } else if (q->id == DR_POSITIONS) {
            dash_route_positions(d, req, a);
        } else {
            dash_route_open_orders(d, req, a);
        }
        return;
    }
    if (!j && !(j = dash_job_new(d, req))) {
        return;
    }
    j->step = q->id;
    sqlb b = {0};
    const char *bools = NULL;
    if (q->id == DR_ORDERS) {
        sb(&b,
           "SELECT intent_id AS \"intentId\", cl_ord_id AS \"clOrdId\", ord_id AS \"ordId\", "
           "origin, decision_id AS \"decisionId\", inst_id AS \"instId\", op, side, pos_side AS "
           "\"posSide\", td_mode AS \"tdMode\", ord_type AS \"ordType\", sz, px, reduce_only AS "
           "\"reduceOnly\", tp_trigger_px AS \"tpTriggerPx\", sl_trigger_px AS \"slTriggerPx\", "
           "state, acc_fill_sz AS \"accFillSz\", avg_px AS \"avgPx\", fee, fee_ccy AS \"feeCcy\", "
           "code, msg, created_ms AS \"createdMs\", updated_ms AS \"updatedMs\" FROM orders WHERE "
           "account = ?",
           AT_DB_S(name));
        sb_page(&b, "created_ms", q->before, q->limit);
        bools = ",reduceOnly,";
    } else if (q->id == DR_FILLS) {
        sb(&b,
           "SELECT trade_id AS \"tradeId\", inst_id AS \"instId\", ord_id AS \"ordId\", cl_ord_id "
           "AS \"clOrdId\", side, pos_side AS \"posSide\", px AS \"fillPx\", sz AS \"fillSz\", "
           "fee, fee_ccy AS \"feeCcy\", maker, ts_ms AS ts FROM fills WHERE account = ?",
           AT_DB_S(name));
        sb_page(&b, "ts_ms", q->before, q->limit);
        bools = ",maker,";
    } else {
        sb(&b,
           "SELECT ts_ms AS ts, total_eq AS \"totalEq\", avail, upl FROM equity_snapshots WHERE "
           "account = ?",
           AT_DB_S(name));
        sb(&b, " AND ts_ms >= ?", AT_DB_I(q->since));
        sb_page(&b, "ts_ms", 0, q->limit);
    }
    sb_run(j, &b, bools, history_done);
}

static void account_exists_done(dash_job *j)
{
    if (json_array_size(j->rows) == 0) {
        dash_reply_fail(j->d, j->req, 404, "unknown_account",
                        "no account %.100s (accounts are the [exchange.*] instances)", j->a);
        dash_job_free(j);
        return;
    }
    acct_q q;
    memcpy(&q, j->q, sizeof(q));
    serve_account(j->d, j, j->req, j->a, &q);
}

void dash_route_account(dash *d, uint64_t req, const dash_route *r, const char *query)
{
    acct_q q;
    dash_err e;
    _Static_assert(sizeof(acct_q) <= DASH_SEG_MAX, "acct_q rides in dash_job.q");
    if (parse_acct_q(r, query, &q, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    if (dash_account_find(d, r->a)) {
        serve_account(d, NULL, req, r->a, &q);
        return;
    }
    /* not on the bus yet: known to storage (an account row, its instruments)? */
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    snprintf(j->a, sizeof(j->a), "%s", r->a);
    memcpy(j->q, &q, sizeof(q));
    const at_db_value p[] = {AT_DB_S(r->a)};
    dash_job_query(j,
                   "SELECT id FROM accounts WHERE id = $1 UNION SELECT exchange FROM instruments "
                   "WHERE exchange = $1",
                   p, 1, NULL, account_exists_done);
}

/* ------------------------------------------------------------ decisions */

#define DECISION_COLS                                                                              \
    "id, trader, provider, model, trigger_key AS \"triggerKey\", trigger_reason AS "               \
    "\"triggerReason\", valid, invalid_reason AS \"invalidReason\", validation, actions_json, "    \
    "intents_json, latency_ms AS \"latencyMs\", tokens_in AS \"tokensIn\", tokens_out AS "         \
    "\"tokensOut\", cost AS \"costUsd\", finish_reason AS \"finishReason\", provider_error AS "    \
    "\"providerError\", attempts, outcome_json, net_pnl AS \"netPnl\", created_ms AS "             \
    "\"createdMs\""

#define DECISION_FULL_COLS                                                                         \
    ", prompt, system_prompt AS \"systemPrompt\", raw_response AS \"rawResponse\", reasoning, "    \
    "first_response AS \"firstResponse\", first_error AS \"firstError\", refusal, prompt_hash "    \
    "AS \"promptHash\", prompt_tokens AS \"promptTokens\", deadline_ms AS \"deadlineMs\""

/* "IN ($1, $2 …)" over the ids of the decisions in j->out. */
static void sb_ids(sqlb *b, json_t *decisions)
{
    size_t i;
    json_t *o;
    sb_text(b, "(");
    json_array_foreach(decisions, i, o)
    {
        sb(b, i ? ", ?" : "?", AT_DB_S(json_string_value(json_object_get(o, "id"))));
    }
    sb_text(b, ")");
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *v = json_string_value(json_object_get(o, key));
        if (v && value && strcmp(v, value) == 0) {
            return o;
        }
    }
    return NULL;
}

static void decisions_reply(dash_job *j)
{
    /* verdicts into their orders */
    size_t i;
    json_t *v;
    json_t *orders = json_object_get(j->out, "_orders");
    json_array_foreach(j->rows, i, v)
    {
        json_t *o = find_by(orders, "intentId", json_string_value(json_object_get(v, "intentId")));
        if (o) {
            json_array_append(json_object_get(o, "verdicts"), v);
        }
    }
    json_t *decisions = json_incref(json_object_get(j->out, "decisions"));
    if (j->step == DR_DECISION) {
        json_t *one = json_incref(json_array_get(decisions, 0));
        json_decref(decisions);
        dash_job_reply(j, 200, one);
        return;
    }
    dash_job_reply(j, 200, decisions);
}

static void decisions_orders(dash_job *j)
{
    json_t *decisions = json_object_get(j->out, "decisions");
    json_t *orders = take_rows(j);
    size_t i;
    json_t *o;
    json_array_foreach(orders, i, o)
    {
        json_object_set_new(o, "verdicts", json_array());
        json_t *dec = find_by(decisions, "id", json_string_value(json_object_get(o, "decisionId")));
        if (dec) {
            json_array_append(json_object_get(dec, "orders"), o);
        }
    }
    json_object_set_new(j->out, "_orders", orders);
    sqlb b = {0};
    sb_text(&b, "SELECT intent_id AS \"intentId\", rule, rule_name AS \"ruleName\", verdict, "
                "allowed, sz, reason, created_ms AS \"createdMs\" FROM risk_verdicts WHERE "
                "intent_id IN (SELECT intent_id FROM orders WHERE decision_id IN ");
    sb_ids(&b, decisions);
    sb_text(&b, ") ORDER BY created_ms, id");
    sb_run(j, &b, ",allowed,", decisions_reply);
}

static void decisions_rows(dash_job *j)
{
    json_t *decisions = take_rows(j);
    if (j->step == DR_DECISION && json_array_size(decisions) == 0) {
        json_decref(decisions);
        dash_reply_fail(j->d, j->req, 404, "unknown_decision", "no decision %.100s", j->a);
        dash_job_free(j);
        return;
    }
    size_t i;
    json_t *o;
    json_array_foreach(decisions, i, o)
    {
        json_object_set_new(o, "orders", json_array());
    }
    j->out = json_pack("{s:o}", "decisions", decisions);
    if (!j->out || json_array_size(decisions) == 0) {
        dash_job_reply(j, 200, j->step == DR_DECISION ? json_object() : json_array());
        return;
    }
    sqlb b = {0};
    sb_text(&b, "SELECT decision_id AS \"decisionId\", intent_id AS \"intentId\", cl_ord_id AS "
                "\"clOrdId\", ord_id AS \"ordId\", account, inst_id AS \"instId\", op, side, "
                "pos_side AS \"posSide\", ord_type AS \"ordType\", sz, px, tp_trigger_px AS "
                "\"tpTriggerPx\", sl_trigger_px AS \"slTriggerPx\", state, code, msg, acc_fill_sz "
                "AS \"accFillSz\", avg_px AS \"avgPx\", fee, created_ms AS \"createdMs\" FROM "
                "orders WHERE decision_id IN ");
    sb_ids(&b, decisions);
    sb_text(&b, " ORDER BY created_ms");
    sb_run(j, &b, NULL, decisions_orders);
}

void dash_route_decisions(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    char trader[DASH_SEG_MAX];
    int64_t limit, before;
    if (page_query(query, "trader", trader, sizeof(trader), 200, &limit, &before, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    j->step = DR_DECISIONS;
    snprintf(j->q, sizeof(j->q), "%s",
             strncmp(trader, "trader.", 7) == 0 ? trader + 7 : trader); /* "alpha" either way */
    sqlb b = {0};
    sb_text(&b, "SELECT " DECISION_COLS " FROM decisions WHERE 1 = 1");
    sb_if(&b, j->q[0] != 0, " AND trader = ?", AT_DB_S(j->q));
    sb_page(&b, "created_ms", before, limit);
    sb_run(j, &b, ",valid,", decisions_rows);
}

void dash_route_decision(dash *d, uint64_t req, const char *id)
{
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    j->step = DR_DECISION;
    snprintf(j->a, sizeof(j->a), "%s", id);
    const at_db_value p[] = {AT_DB_S(j->a)};
    dash_job_query(j, "SELECT " DECISION_COLS DECISION_FULL_COLS " FROM decisions WHERE id = $1", p,
                   1, ",valid,", decisions_rows);
}

/* ------------------------------------------------------------ news, sentiment, PnL */

void dash_route_news(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    char sym[32];
    int64_t limit, before;
    if (page_query(query, "symbol", sym, sizeof(sym), 500, &limit, &before, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    snprintf(j->q, sizeof(j->q), "%%%s%%", sym);
    sqlb b = {0};
    sb_text(&b, "SELECT id, feed, title, url, summary, symbols, published_ms AS \"publishedMs\", "
                "score, impact, llm_score AS \"llmScore\", scorer, source, fetched_ms AS "
                "\"fetchedMs\" FROM news WHERE 1 = 1");
    sb_if(&b, sym[0] != 0, " AND symbols LIKE ?", AT_DB_S(j->q));
    sb_page(&b, "published_ms", before, limit);
    sb_run(j, &b, NULL, reply_rows);
}

void dash_route_sentiment(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    int64_t limit;
    dash_job *j = NULL;
    char feed[64];
    if (dash_query_str(query, "feed", feed, sizeof(feed), &e) < 0 ||
        dash_query_int(query, "limit", 100, 1, 1000, &limit, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    if (!(j = dash_job_new(d, req))) {
        return;
    }
    snprintf(j->q, sizeof(j->q), "%s", feed);
    sqlb b = {0};
    sb_text(&b, "SELECT feed, as_of_ms AS \"asOfMs\", value, label FROM sentiment WHERE 1 = 1");
    sb_if(&b, feed[0] != 0, " AND feed = ?", AT_DB_S(j->q));
    sb_page(&b, "as_of_ms", 0, limit);
    sb_run(j, &b, NULL, reply_rows);
}

#define PNL_COLS                                                                                   \
    "p.origin, p.account, p.ts_ms AS ts, p.realized, p.fees, p.funding, p.unrealized, p.net, "     \
    "p.positions"

static void pnl_series_done(dash_job *j)
{
    json_object_set_new(j->out, "series", reversed(j->rows));
    dash_job_reply(j, 200, NULL);
}

static void pnl_latest_done(dash_job *j)
{
    j->out = json_pack("{s:o, s:[]}", "latest", take_rows(j), "series");
    if (!j->out || !j->a[0]) {
        dash_job_reply(j, j->out ? 200 : 500, NULL);
        return;
    }
    /* one origin asked for: its curve too (j->a origin, j->q account) */
    sqlb b = {0};
    sb(&b, "SELECT " PNL_COLS " FROM pnl_snapshots p WHERE p.origin = ?", AT_DB_S(j->a));
    sb_if(&b, j->q[0] != 0, " AND p.account = ?", AT_DB_S(j->q));
    sb(&b, " AND p.ts_ms >= ?", AT_DB_I(j->n));
    sb_text(&b, " ORDER BY p.ts_ms DESC LIMIT 5000");
    sb_run(j, &b, NULL, pnl_series_done);
}

void dash_route_pnl(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    char origin[DASH_SEG_MAX], account[DASH_SEG_MAX];
    int64_t since;
    if (dash_query_str(query, "origin", origin, sizeof(origin), &e) < 0 ||
        dash_query_str(query, "account", account, sizeof(account), &e) < 0 ||
        dash_query_int(query, "since", 0, 0, INT64_MAX, &since, &e) != 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        return;
    }
    snprintf(j->a, sizeof(j->a), "%s", origin);
    snprintf(j->q, sizeof(j->q), "%s", account);
    j->n = since;
    sqlb b = {0};
    sb_text(&b, "SELECT " PNL_COLS " FROM pnl_snapshots p JOIN (SELECT origin, account, "
                "MAX(ts_ms) AS m FROM pnl_snapshots GROUP BY origin, account) x ON x.origin = "
                "p.origin AND x.account = p.account AND x.m = p.ts_ms WHERE 1 = 1");
    sb_if(&b, j->a[0] != 0, " AND p.origin = ?", AT_DB_S(j->a));
    sb_if(&b, j->q[0] != 0, " AND p.account = ?", AT_DB_S(j->q));
    sb_text(&b, " ORDER BY p.origin, p.account");
    sb_run(j, &b, NULL, pnl_latest_done);
}

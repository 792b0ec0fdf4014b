/* GET /api/shadow[?trader=]: shadow against live, per trader (those with a
 * shadow account) and symbol. The engine answers the money from core.ledger
 * (control API "shadow": realized and unrealized PnL, fees, funding, round
 * trips and hit rate on the live and on the shadow account); the decisions
 * and entries that went each way are counted here from the orders table
 * of the traders' live and shadow accounts: orders that reached a venue
 * (or the paper venue), never those refused, failed, unsent or still an
 * intent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"

/* The engine's answer to "shadow" (params: the trader filter, may be NULL)
 * in *out, or the request answered with its error: unknown trader 404, bad
 * params 400, not now 409. */
static int ask_engine(dash *d, uint64_t req, const char *trader, json_t **out)
{
    *out = NULL;
    if (!d->h->engine_call) {
        dash_reply_fail(d, req, 501, "not_available",
                        "this engine has no control API (host->engine_call)");
        return AT_ESTATE;
    }
    json_t *p = trader[0] ? json_pack("{s:s}", "trader", trader) : NULL;
    char *ptext = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    char *res = NULL;
    int rc = d->h->engine_call(d->inst, "shadow", ptext, &res);
    free(ptext);
    json_t *v = res ? json_loads(res, 0, NULL) : NULL;
    free(res);
    if (rc == AT_OK && json_is_array(json_object_get(v, "traders"))) {
        *out = v;
        return AT_OK;
    }
    dash_err e = {.status = rc == AT_ENOENT   ? 404
                            : rc == AT_EINVAL ? 400
                            : rc == AT_ESTATE ? 409
                                              : 500};
    json_t *code = json_object_get(v, "code"), *msg = json_object_get(v, "message");
    snprintf(e.code, sizeof(e.code), "%s",
             json_is_string(code) ? json_string_value(code) : "engine_error");
    snprintf(e.message, sizeof(e.message), "shadow: %s",
             json_is_string(msg) ? json_string_value(msg) : "the engine could not answer");
    json_decref(v);
    dash_reply_err(d, req, &e);
    return rc == AT_OK ? AT_EPLUGIN : rc;
}

/* The counts of the orders row of (trader, account, symbol), or zeros. */
static void put_counts(json_t *side, const json_t *rows, const char *trader, const char *symbol)
{
    const char *account = json_string_value(json_object_get(side, "account"));
    json_int_t decisions = 0, entries = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *o = json_string_value(json_object_get(r, "origin"));
        const char *a = json_string_value(json_object_get(r, "account"));
        const char *s = json_string_value(json_object_get(r, "instId"));
        if (o && a && s && account && strcmp(o, trader) == 0 && strcmp(a, account) == 0 &&
            strcmp(s, symbol) == 0) {
            decisions = json_integer_value(json_object_get(r, "decisions"));
            entries = json_integer_value(json_object_get(r, "entries"));
            break;
        }
    }
    json_object_set_new(side, "decisions", json_integer(decisions));
    json_object_set_new(side, "entries", json_integer(entries));
}

static void counts_done(dash_job *j)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j->out, "traders"), i, row)
    {
        const char *trader = json_string_value(json_object_get(row, "trader"));
        const char *symbol = json_string_value(json_object_get(row, "symbol"));
        if (!trader || !symbol) {
            continue;
        }
        put_counts(json_object_get(row, "live"), j->rows, trader, symbol);
        put_counts(json_object_get(row, "shadow"), j->rows, trader, symbol);
    }
    dash_job_reply(j, 200, NULL);
}

/* The distinct live and shadow accounts of the engine's rows (at most
 * `cap`): the only accounts the counts are read from. */
static size_t row_accounts(const json_t *traders, const char **acc, size_t cap)
{
    static const char *const sides[] = {"live", "shadow"};
    size_t n = 0, i;
    json_t *row;
    json_array_foreach(traders, i, row)
    {
        for (size_t k = 0; k < 2; k++) {
            const char *a =
                json_string_value(json_object_get(json_object_get(row, sides[k]), "account"));
            size_t j = 0;
            while (a && j < n && strcmp(acc[j], a) != 0) {
                j++;
            }
            if (a && j == n && n < cap) {
                acc[n++] = a;
            }
        }
    }
    return n;
}

#define SHADOW_ACCOUNTS_MAX 64

void dash_route_shadow(dash *d, uint64_t req, const char *query)
{
    dash_err e;
    char trader[DASH_SEG_MAX];
    if (dash_query_str(query, "trader", trader, sizeof(trader), &e) < 0) {
        dash_reply_err(d, req, &e);
        return;
    }
    /* "alpha" and "trader.alpha" name the same trader; a filter that names
     * none (bare "trader.", bad UTF-8) is refused, never read as "all" */
    const char *id = strncmp(trader, "trader.", 7) == 0 ? trader + 7 : trader;
    json_t *name = json_string(id);
    json_decref(name);
    if (trader[0] && (!id[0] || !name)) {
        dash_reply_fail(d, req, 400, "bad_query",
                        "trader must name a trader (\"alpha\" or \"trader.alpha\", UTF-8)");
        return;
    }
    json_t *v;
    if (ask_engine(d, req, id, &v) != AT_OK) {
        return;
    }
    const char *acc[SHADOW_ACCOUNTS_MAX];
    size_t nacc = row_accounts(json_object_get(v, "traders"), acc, SHADOW_ACCOUNTS_MAX);
    if (nacc == 0) {
        dash_reply(d, req, 200, v); /* nobody uses shadow: nothing to count */
        return;
    }
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        json_decref(v);
        return;
    }
    j->out = v;
    snprintf(j->a, sizeof(j->a), "%s", id);
    /* Orders that reached a venue (or its paper twin) only: not those the
     * gate refused, never sent (failed, unsent, still an intent) or kept
     * on the account as shadow; on the traders' own accounts only. */
    at_db_value p[1 + SHADOW_ACCOUNTS_MAX] = {AT_DB_S(j->a)};
    char in[SHADOW_ACCOUNTS_MAX * 6] = "";
    for (size_t i = 0, len = 0; i < nacc; i++) {
        p[1 + i] = AT_DB_S(acc[i]);
        len += (size_t)snprintf(in + len, sizeof(in) - len, "%s$%zu", i ? ", " : "", i + 2);
    }
    char sql[1024 + sizeof(in)];
    snprintf(sql, sizeof(sql),
             "SELECT origin, account, inst_id AS \"instId\", COUNT(DISTINCT decision_id) AS "
             "decisions, SUM(CASE WHEN op = 'place' AND NOT reduce_only THEN 1 ELSE 0 END) AS "
             "entries FROM orders WHERE account IN (%s) AND decision_id IS NOT NULL AND state NOT "
             "IN ('rejected', 'shadow', 'failed', 'unsent', 'intent') AND ($1 = '' OR origin = "
             "$1) GROUP BY origin, account, inst_id",
             in);
    dash_job_query(j, sql, p, 1 + nacc, NULL, counts_done);
}

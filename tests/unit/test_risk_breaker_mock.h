/* risk_breaker's unit-test rig (tests/unit/test_risk_breaker*.c) on the
 * mock host (tests/support/mock_host.h: clock, log, bus and timers the test
 * drives), with storage and metrics of its own: storage answers (reads and
 * write completions) run in mock_flush(); audit_log rows are kept, so a
 * second instance started on the same mock reads back what the first one
 * stored, as after a restart. The plugin itself is the real .so, its context
 * filled from ini text through the engine's own config code. */
#ifndef TEST_RISK_BREAKER_MOCK_H
#define TEST_RISK_BREAKER_MOCK_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

#include "conf.h"
#include "engine.h"
#include "mock_host.h"

#define MK_MAX 4096
#define MK_UNUSED __attribute__((unused))
#define MK_T0 1767261600000000LL /* 2026-01-01T10:00:00Z, microseconds */

typedef struct mk_row { /* one audit_log row */
    char id[160];
    int64_t ts;
    char instance[64], kind[48];
    char *message, *data;
} mk_row;

typedef struct mk_pending { /* a storage answer, run by mock_flush */
    at_db_row_cb row;
    at_db_done_cb done;
    void *arg;
    int found; /* a query: index of the row answered + 1, 0 = none */
    bool query;
} mk_pending;

typedef struct mock { /* what mock_host does not do */
    mk_row rows[MK_MAX];
    size_t nrows;
    mk_pending pending[MK_MAX];
    size_t npending, first_pending;
    char data_dir[256];
    double gauge[3]; /* tripped accounts, kill switch, safe-mode traders */
    bool no_storage;
} mock;

static mock M;
static char mk_inst_token; /* the at_instance pointer handed to the plugin */

static int m_db_write(at_instance *inst, const char *sql, const at_db_value *p, size_t n,
                      at_db_done_cb done, void *arg)
{
    (void)inst;
    if (M.no_storage) {
        return AT_ESTATE;
    }
    if (strncmp(sql, "INSERT INTO audit_log", 21) == 0 && n == 6 && M.nrows < MK_MAX) {
        mk_row *r = &M.rows[M.nrows++];
        snprintf(r->id, sizeof(r->id), "%s", p[0].u.s);
        r->ts = p[1].u.i;
        snprintf(r->instance, sizeof(r->instance), "%s", p[2].u.s);
        snprintf(r->kind, sizeof(r->kind), "%s", p[3].u.s);
        r->message = strdup(p[4].u.s);
        r->data = p[5].type == AT_DB_TEXT ? strdup(p[5].u.s) : NULL;
    }
    if (done && M.npending < MK_MAX) {
        M.pending[M.npending++] = (mk_pending){.done = done, .arg = arg};
    }
    return AT_OK;
}

/* The breaker's one read: the newest row of an instance whose kind starts
 * with "breaker." (ORDER BY ts_ms DESC, id DESC LIMIT 1), answered later. */
static int m_db_query(at_instance *inst, const char *sql, const at_db_value *p, size_t n,
                      at_db_row_cb row, at_db_done_cb done, void *arg)
{
    (void)inst;
    (void)sql;
    if (M.no_storage) {
        return AT_ESTATE;
    }
    int best = -1;
    for (size_t i = 0; i < M.nrows; i++) {
        const mk_row *r = &M.rows[i];
        if (n < 1 || strcmp(r->instance, p[0].u.s) != 0 || strncmp(r->kind, "breaker.", 8) != 0) {
            continue;
        }
        if (best < 0 || r->ts > M.rows[best].ts ||
            (r->ts == M.rows[best].ts && strcmp(r->id, M.rows[best].id) > 0)) {
            best = (int)i;
        }
    }
    if (M.npending >= MK_MAX) {
        return AT_ENOMEM;
    }
    M.pending[M.npending++] =
        (mk_pending){.row = row, .done = done, .arg = arg, .found = best + 1, .query = true};
    return AT_OK;
}

static at_metric *m_metric(at_instance *inst, at_metric_kind kind, const char *name,
                           const char *help)
{
    (void)inst;
    (void)kind;
    (void)help;
    int i = strstr(name, "tripped") ? 0 : strstr(name, "kill") ? 1 : 2;
    return (at_metric *)&M.gauge[i];
}

static void m_metric_set(at_metric *m, double v)
{
    *(double *)m = v;
}

/* Storage answers queued so far (and those they queue). */
MK_UNUSED static void mock_flush(void)
{
    while (M.first_pending < M.npending) {
        mk_pending q = M.pending[M.first_pending++];
        if (q.query && q.found) {
            const mk_row *r = &M.rows[q.found - 1];
            at_db_value cols[2] = {at_db_text(r->data), AT_DB_I(r->ts)};
            const char *names[2] = {"data_json", "ts_ms"};
            at_db_row row = {2, names, cols};
            q.row(q.arg, &row);
        }
        q.done(q.arg, AT_OK, NULL);
    }
}

/* audit_log rows of `kind` ("" = any). */
MK_UNUSED static size_t mock_rows(const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < M.nrows; i++) {
        n += !*kind || strcmp(M.rows[i].kind, kind) == 0;
    }
    return n;
}

MK_UNUSED static void mock_reset(void)
{
    for (size_t i = 0; i < M.nrows; i++) {
        free(M.rows[i].message);
        free(M.rows[i].data);
    }
    M.nrows = M.npending = M.first_pending = 0;
    M.no_storage = false;
    memset(M.gauge, 0, sizeof(M.gauge));
    mock_host_init("risk.breaker", MK_T0);
    snprintf(MH.data_dir, sizeof(MH.data_dir), "%s", M.data_dir);
    MH.host.db_write = m_db_write;
    MH.host.db_query = m_db_query;
    MH.host.metric = m_metric;
    MH.host.metric_set = m_metric_set;
}

MK_UNUSED static void mock_init(const char *data_dir)
{
    snprintf(M.data_dir, sizeof(M.data_dir), "%s", data_dir);
    mock_reset();
}

/* ---------------------------------------------------------- the plugin */

typedef struct mk_plugin {
    void *dl;
    const at_plugin *p;
} mk_plugin;

static mk_plugin PL;

MK_UNUSED static int mock_load_plugin(void)
{
    PL.p = mock_plugin_open("risk_breaker", &PL.dl);
    return PL.p ? 0 : -1;
}

/* A context filled from "[risk.breaker]\n" + body by the engine's config
 * code (defaults, types, ranges), as the engine fills it. */
typedef struct mk_inst {
    void *ctx;
    conf_file *cf;
    conf_owned *owned;
    bool started;
} mk_inst;

/* Returns check_config's answer (and the key and reason). */
MK_UNUSED static int mock_config(mk_inst *in, const char *body, const char **key, char *why,
                                 size_t len)
{
    char text[2048];
    snprintf(text, sizeof(text), "[risk.breaker]\n%s\n", body);
    conf_errors errs = {0};
    memset(in, 0, sizeof(*in));
    in->cf = conf_load_string("test.ini", text, &errs);
    in->ctx = calloc(1, PL.p->ctx_size);
    if (!in->cf || !in->ctx) {
        return AT_ENOMEM;
    }
    conf_apply("test.ini", "risk.breaker", conf_section_get(in->cf, "risk.breaker"), PL.p->config,
               NULL, in->ctx, &in->owned, &errs);
    for (size_t i = 0; i < errs.n; i++) {
        fprintf(stderr, "%s\n", errs.msgs[i]);
    }
    int schema_errors = (int)errs.n;
    conf_errors_free(&errs);
    if (schema_errors) {
        return AT_ECONFIG;
    }
    *key = NULL;
    why[0] = '\0';
    return PL.p->check_config(in->ctx, key, why, len);
}

/* Configure, init and start (the stored state is read when mock_flush runs). */
MK_UNUSED static int mock_start(mk_inst *in, const char *body)
{
    const char *key;
    char why[256];
    int rc = mock_config(in, body, &key, why, sizeof(why));
    if (rc != AT_OK) {
        fprintf(stderr, "check_config: %s: %s\n", key ? key : "-", why);
        return rc;
    }
    rc = PL.p->init((at_instance *)&mk_inst_token, &MH.host, in->ctx);
    if (rc == AT_OK) {
        rc = PL.p->start(in->ctx);
        in->started = rc == AT_OK;
    }
    return rc;
}

MK_UNUSED static void mock_free_inst(mk_inst *in)
{
    if (in->started && PL.p->stop) {
        PL.p->stop(in->ctx);
    }
    if (in->ctx) {
        PL.p->destroy(in->ctx);
    }
    conf_owned_free(in->owned);
    conf_free(in->cf);
    free(in->ctx);
    memset(in, 0, sizeof(*in));
}

/* ---------------------------------------------------------- events in */

MK_UNUSED static at_dec mk_dec(const char *s)
{
    at_dec d = {0, 0};
    if (MH.host.dec_parse(s, (size_t)-1, &d) != AT_OK) {
        fprintf(stderr, "bad decimal in a test: %s\n", s);
        abort();
    }
    return d;
}

/* One BALANCE of `account` with total equity `eq` (as okx and paper publish
 * it: per currency, each carrying the account total). */
MK_UNUSED static void mk_balance_dec(const char *account, at_dec eq)
{
    at_ev_balance e;
    memset(&e, 0, sizeof(e));
    e.h.type = AT_EV_BALANCE;
    e.h.size = sizeof(e);
    e.h.ts_us = MH.now_us;
    snprintf(e.account, sizeof(e.account), "%s", account);
    snprintf(e.ccy, sizeof(e.ccy), "USDT");
    e.total_eq = eq;
    e.eq = eq;
    mock_deliver(&e.h);
}

MK_UNUSED static void mk_balance(const char *account, const char *eq)
{
    mk_balance_dec(account, mk_dec(eq));
}

MK_UNUSED static void mk_position(const char *account, const char *inst, at_pos_side side,
                                  const char *pos, bool isolated)
{
    at_ev_position e;
    memset(&e, 0, sizeof(e));
    e.h.type = AT_EV_POSITION;
    e.h.size = sizeof(e);
    e.h.inst = MH.host.inst_intern(inst);
    snprintf(e.account, sizeof(e.account), "%s", account);
    e.pos_side = side;
    e.isolated = isolated;
    e.pos = mk_dec(pos);
    mock_deliver(&e.h);
}

MK_UNUSED static void mk_decision(const char *trader, bool valid, const char *why)
{
    at_ev_decision e;
    memset(&e, 0, sizeof(e));
    e.h.type = AT_EV_DECISION;
    e.h.size = sizeof(e);
    snprintf(e.trader, sizeof(e.trader), "%s", trader);
    e.valid = valid;
    e.invalid_reason = valid ? NULL : why;
    mock_deliver(&e.h);
}

/* An intent: op, account, origin; a place buys 1 contract unless reduce. */
MK_UNUSED static at_ev_order_intent mk_intent(at_intent_op op, const char *account,
                                              const char *origin, bool reduce)
{
    at_ev_order_intent it;
    memset(&it, 0, sizeof(it));
    it.h.type = AT_EV_ORDER_INTENT;
    it.h.inst = MH.host.inst_intern("BTC-USDT-SWAP");
    it.op = op;
    snprintf(it.intent_id, sizeof(it.intent_id), "t-%zu", MH.nevents);
    snprintf(it.account, sizeof(it.account), "%s", account);
    snprintf(it.origin, sizeof(it.origin), "%s", origin);
    it.side = reduce ? AT_SIDE_SELL : AT_SIDE_BUY;
    it.pos_side = AT_POS_LONG;
    it.sz = (at_dec){op == AT_INTENT_PLACE ? 1 : 0, 0};
    it.reduce_only = reduce;
    return it;
}

MK_UNUSED static at_risk_answer mk_check(mk_inst *in, const at_ev_order_intent *it)
{
    at_risk_answer a;
    memset(&a, 0, sizeof(a));
    ((const at_risk_ops *)PL.p->ops)->check(in->ctx, it, &a);
    return a;
}

/* The verdict on an entry (a place of 1 contract) of `account` from `origin`. */
MK_UNUSED static at_risk_answer mk_entry(mk_inst *in, const char *account, const char *origin)
{
    at_ev_order_intent it = mk_intent(AT_INTENT_PLACE, account, origin, false);
    return mk_check(in, &it);
}

#endif

/* A world for risk_limits' unit tests: the real plugin (build/plugins/
 * risk_limits.so), its config written into its context by the engine's own
 * schema code (conf_apply, as `run` does), on the mock host
 * (tests/support/mock_host.h) whose bus and clock the test drives: events go
 * to the plugin's subscriptions when the test feeds them, the clock moves
 * when the test says (its timers never fire: the test refreshes by STATUS).
 * Storage reads are answered from the test's tables when it calls rl_run().
 * One world per program (the host table has no user pointer). */
#ifndef TEST_RISK_LIMITS_H
#define TEST_RISK_LIMITS_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

#include "conf.h"
#include "dec_lit.h"
#include "engine.h"
#include "mock_host.h"

#define RL_UNUSED __attribute__((unused))
#define T0 1767225600000000LL /* 2026-01-01T00:00Z, us */
#define ACCT "exchange.okx_demo"
#define BTC "BTC-USDT-SWAP"
#define ETH "ETH-USDT-SWAP"
#define SOL "SOL-USDT-SWAP"

typedef struct rl_query {
    char sql[512];
    at_db_value params[4];
    size_t n;
    at_db_row_cb row;
    at_db_done_cb done;
    void *arg;
} rl_query;

/* A row of the instruments table, as exchange_okx writes it. */
typedef struct rl_irow {
    const char *exchange, *inst_id, *ct_val, *ct_mult, *lot, *min, *lever, *settle, *state;
} rl_irow;

/* A row of the orders table (the opens read back at start). */
typedef struct rl_orow {
    const char *account, *inst_id, *decision_id, *intent_id;
    int64_t created_ms;
} rl_orow;

static struct world {
    rl_query q[16];
    int nq;
    int queries; /* asked in all */
    rl_irow irows[16];
    int nirows;
    rl_orow orows[16];
    int norows;
    /* the plugin */
    void *dl;
    const at_plugin *p;
    void *ctx;
    conf_file *cf;
    conf_owned *owned;
    int seq;
    bool no_base; /* config() without BASE: the schema's defaults */
} W;

/* ---- storage ---- */

static int w_db_write(at_instance *inst, const char *sql, const at_db_value *params, size_t n,
                      at_db_done_cb done, void *arg)
{
    (void)inst;
    (void)sql;
    (void)params;
    (void)n;
    (void)done;
    (void)arg;
    return AT_OK;
}

static int w_db_query(at_instance *inst, const char *sql, const at_db_value *params, size_t n,
                      at_db_row_cb row, at_db_done_cb done, void *arg)
{
    (void)inst;
    if (W.nq >= 16 || n > 4) {
        return AT_ENOMEM;
    }
    rl_query *q = &W.q[W.nq++];
    snprintf(q->sql, sizeof(q->sql), "%s", sql);
    if (n) {
        memcpy(q->params, params, n * sizeof(*params));
    }
    q->n = n;
    q->row = row;
    q->done = done;
    q->arg = arg;
    W.queries++;
    return AT_OK;
}

/* The mock host at T0 with the test's storage (writes go nowhere). */
static void rl_host(void)
{
    mock_host_init("risk.limits", T0);
    MH.host.db_write = w_db_write;
    MH.host.db_query = w_db_query;
}

static at_db_value txt(const char *s)
{
    return at_db_text(s);
}

/* Answer every read asked so far, from the test's tables. */
RL_UNUSED static void rl_run(void)
{
    while (W.nq > 0) {
        rl_query q = W.q[0];
        memmove(&W.q[0], &W.q[1], (size_t)(W.nq - 1) * sizeof(W.q[0]));
        W.nq--;
        if (strstr(q.sql, "FROM instruments")) {
            for (int i = 0; i < W.nirows; i++) {
                const rl_irow *r = &W.irows[i];
                at_db_value cols[9] = {txt(r->exchange), txt(r->inst_id), txt(r->ct_val),
                                       txt(r->ct_mult),  txt(r->lot),     txt(r->min),
                                       txt(r->lever),    txt(r->settle),  txt(r->state)};
                at_db_row row = {9, NULL, cols};
                q.row(q.arg, &row);
            }
        } else if (strstr(q.sql, "FROM orders")) {
            for (int i = 0; i < W.norows; i++) {
                const rl_orow *r = &W.orows[i];
                at_db_value cols[5] = {txt(r->account), txt(r->inst_id), txt(r->decision_id),
                                       txt(r->intent_id), AT_DB_I(r->created_ms)};
                at_db_row row = {5, NULL, cols};
                q.row(q.arg, &row);
            }
        }
        q.done(q.arg, AT_OK, NULL);
    }
}

/* ---- the world's contents ---- */

RL_UNUSED static void rl_instrument(const char *ex, const char *id, const char *ct_val,
                                    const char *lot, const char *min, const char *lever)
{
    W.irows[W.nirows++] = (rl_irow){ex, id, ct_val, "1", lot, min, lever, "USDT", "live"};
}

/* Delivers an event to the plugin's subscriptions, then drops the test's
 * reference (the plugin keeps what it retained). */
static void deliver(void *e)
{
    mock_deliver(e);
    MH.host.event_release(e);
}

/* An event as a venue publishes it, from `source`, for `inst` (NULL: none). */
static void *ev_new(at_event_type type, const char *source, const char *inst)
{
    at_event *e = MH.host.event_new(NULL, type, 0);
    if (!e) {
        abort();
    }
    e->source = source;
    e->inst = inst ? MH.host.inst_intern(inst) : 0;
    return e;
}

RL_UNUSED static void feed_balance(const char *account, const char *total_eq)
{
    at_ev_balance *b = ev_new(AT_EV_BALANCE, account, NULL);
    snprintf(b->account, sizeof(b->account), "%s", account);
    snprintf(b->ccy, sizeof(b->ccy), "USDT");
    b->total_eq = D(total_eq);
    b->eq = D(total_eq);
    b->avail = D(total_eq);
    deliver(b);
}

/* index "0": the source sends none (exchange_okx). */
RL_UNUSED static void feed_mark(const char *source, const char *inst, const char *mark,
                                const char *index)
{
    at_ev_mark *m = ev_new(AT_EV_MARK, source, inst);
    m->mark_px = D(mark);
    m->index_px = D(index);
    deliver(m);
}

RL_UNUSED static void feed_last(const char *source, const char *inst, const char *last)
{
    at_ev_ticker *t = ev_new(AT_EV_TICKER, source, inst);
    t->last = D(last);
    deliver(t);
}

/* Levels as "px:sz px:sz ...", best first. */
static uint32_t levels(at_level *lv, const char *spec)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    uint32_t n = 0;
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < AT_BOOK_DEPTH;
         t = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(t, ':');
        *colon = '\0';
        lv[n].px = D(t);
        lv[n].sz = D(colon + 1);
        n++;
    }
    return n;
}

RL_UNUSED static void feed_book(const char *source, const char *inst, const char *bids,
                                const char *asks)
{
    at_ev_book *b = ev_new(AT_EV_BOOK, source, inst);
    b->nbids = levels(b->bids, bids);
    b->nasks = levels(b->asks, asks);
    b->recv_us = MH.now_us;
    deliver(b);
}

/* pos signed in net mode; "0" closes. */
RL_UNUSED static void feed_position(const char *account, const char *inst, at_pos_side side,
                                    const char *pos, const char *lever, const char *margin)
{
    at_ev_position *p = ev_new(AT_EV_POSITION, account, inst);
    snprintf(p->account, sizeof(p->account), "%s", account);
    p->pos_side = side;
    p->pos = D(pos);
    p->lever = D(lever);
    p->margin = D(margin);
    p->avg_px = D("1");
    deliver(p);
}

RL_UNUSED static void feed_order(const char *account, const char *inst, const char *cl,
                                 const char *ord, at_side side, at_pos_side ps, const char *sz,
                                 const char *filled, at_ord_state state, bool reduce_only)
{
    at_ev_order *o = ev_new(AT_EV_ORDER, account, inst);
    snprintf(o->account, sizeof(o->account), "%s", account);
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", cl);
    snprintf(o->ord_id, sizeof(o->ord_id), "%s", ord);
    o->side = side;
    o->pos_side = ps;
    o->sz = D(sz);
    o->acc_fill_sz = D(filled);
    o->state = state;
    o->reduce_only = reduce_only;
    deliver(o);
}

RL_UNUSED static void feed_result(const char *account, const char *intent_id, const char *cl,
                                  bool ok)
{
    at_ev_order_result *r = ev_new(AT_EV_ORDER_RESULT, "core.executor", NULL);
    snprintf(r->account, sizeof(r->account), "%s", account);
    snprintf(r->intent_id, sizeof(r->intent_id), "%s", intent_id);
    snprintf(r->cl_ord_id, sizeof(r->cl_ord_id), "%s", cl);
    r->op = AT_INTENT_PLACE;
    r->ok = ok;
    deliver(r);
}

RL_UNUSED static void feed_status(const char *instance, at_state st)
{
    at_ev_status *s = ev_new(AT_EV_STATUS, instance, NULL);
    snprintf(s->instance, sizeof(s->instance), "%s", instance);
    s->state = st;
    deliver(s);
}

/* ---- intents ---- */

typedef struct intent_spec {
    at_intent_op op;
    const char *inst;
    at_side side;
    at_pos_side ps;
    at_ord_type type;
    const char *sz, *px, *lever;
    bool reduce_only;
    const char *decision; /* "" for none */
    const char *account;  /* NULL: ACCT */
    const char *ord_id;
} intent_spec;

/* An intent as the executor hands it to the rule: id set, clOrdId derived. */
static at_ev_order_intent make_intent(const intent_spec *s)
{
    at_ev_order_intent it;
    memset(&it, 0, sizeof(it));
    it.h.type = AT_EV_ORDER_INTENT;
    it.h.inst = s->inst ? MH.host.inst_intern(s->inst) : 0;
    snprintf(it.intent_id, sizeof(it.intent_id), "i%d", ++W.seq);
    snprintf(it.cl_ord_id, sizeof(it.cl_ord_id), "i%d", W.seq);
    snprintf(it.account, sizeof(it.account), "%s", s->account ? s->account : ACCT);
    snprintf(it.origin, sizeof(it.origin), "%s", s->decision && *s->decision ? "alpha" : "test");
    snprintf(it.decision_id, sizeof(it.decision_id), "%s", s->decision ? s->decision : "");
    snprintf(it.ord_id, sizeof(it.ord_id), "%s", s->ord_id ? s->ord_id : "");
    it.op = s->op;
    it.side = s->side;
    it.pos_side = s->ps;
    it.ord_type = s->type;
    it.sz = D(s->sz ? s->sz : "0");
    it.px = D(s->px ? s->px : "0");
    it.leverage = D(s->lever ? s->lever : "0");
    it.reduce_only = s->reduce_only;
    return it;
}

typedef struct verdict {
    at_risk_answer a;
    char intent_id[AT_ID_LEN];
    char cl[AT_ID_LEN];
} verdict;

static verdict judge_spec(const intent_spec *s)
{
    at_ev_order_intent it = make_intent(s);
    verdict v;
    memset(&v, 0, sizeof(v));
    ((const at_risk_ops *)W.p->ops)->check(W.ctx, &it, &v.a);
    snprintf(v.intent_id, sizeof(v.intent_id), "%s", it.intent_id);
    snprintf(v.cl, sizeof(v.cl), "%s", it.cl_ord_id);
    return v;
}

#define JUDGE(...) judge_spec(&(intent_spec){__VA_ARGS__})
/* A market entry (unless .type says otherwise): buy = open long (long/short
 * mode), sell = open short. */
#define OPEN_LONG(inst_, sz_, ...)                                                                 \
    JUDGE(.op = AT_INTENT_PLACE, .inst = inst_, .side = AT_SIDE_BUY, .ps = AT_POS_LONG, .sz = sz_, \
          __VA_ARGS__)
#define OPEN_SHORT(inst_, sz_, ...)                                                                \
    JUDGE(.op = AT_INTENT_PLACE, .inst = inst_, .side = AT_SIDE_SELL, .ps = AT_POS_SHORT,          \
          .sz = sz_, __VA_ARGS__)

static const char *vname(at_verdict v)
{
    return v == AT_VERDICT_APPROVE ? "approve" : v == AT_VERDICT_RESIZE ? "resize" : "reject";
}

/* Assert a verdict: its kind, the rule named ("" for none), the new size
 * (resize), and a piece of the reason (NULL: not checked). */
#define EXPECT(v, kind, rule, sz, why) expect_(&(v), kind, rule, sz, why, __FILE__, __LINE__)
static void expect_(const verdict *v, at_verdict kind, const char *rule, const char *sz,
                    const char *why, const char *file, int line)
{
    char got[AT_DEC_STRLEN];
    MH.host.dec_format(v->a.sz, got);
    if (v->a.verdict != kind || strcmp(v->a.rule, rule) != 0 ||
        (kind == AT_VERDICT_RESIZE && MH.host.dec_cmp(v->a.sz, D(sz)) != 0) ||
        (why && !strstr(v->a.reason, why))) {
        print_error("%s:%d: want %s rule '%s'%s%s%s%s, got %s rule '%s' sz %s: %s\n", file, line,
                    vname(kind), rule, kind == AT_VERDICT_RESIZE ? " sz " : "",
                    kind == AT_VERDICT_RESIZE ? sz : "", why ? " with '" : "", why ? why : "",
                    vname(v->a.verdict), v->a.rule, got, v->a.reason);
        fail();
    }
}

#define APPROVED(v) EXPECT(v, AT_VERDICT_APPROVE, "", NULL, NULL)

/* The venue took the entry and filled it: ORDER filled, then the position. */
RL_UNUSED static void filled(const verdict *v, const char *inst, at_side side, at_pos_side ps,
                             const char *sz, const char *pos, const char *lever, const char *margin)
{
    feed_result(ACCT, v->intent_id, v->cl, true);
    feed_order(ACCT, inst, v->cl, v->cl, side, ps, sz, sz, AT_ORD_FILLED, false);
    feed_position(ACCT, inst, ps, pos, lever, margin);
}

/* ---- the plugin ---- */

/* The permissive base: every limit far away, so a test tightens only the
 * rule it is about. */
static const char *const BASE[][2] = {
    {"margin_min_pct", "0"},
    {"margin_max_pct", "100"},
    {"max_leverage", "125"},
    {"default_leverage", "10"},
    {"max_notional", "1000"},
    {"max_exposure", "1000"},
    {"max_margin_use_pct", "100"},
    {"max_slippage_bps", "10000"},
    {"max_index_deviation_bps", "10000"},
    {"max_opens_per_hour", "100000"},
    {"max_opens_per_cycle", "100000"},
    {"min_hold", "0"},
    {"reentry_cooldown", "0"},
    {"flip_window", "0"},
    {"max_positions", "1000"},
};

static void plugin_load(void)
{
    if (W.p) {
        return;
    }
    W.p = mock_plugin_open("risk_limits", &W.dl);
    if (!W.p) {
        fail_msg("cannot load risk_limits.so (build the risk_limits target)");
    }
    assert_int_equal(W.p->kind, AT_KIND_RISK);
}

/* The plugin's context filled from "[risk.limits]" + the base + `extra`
 * lines ("key = value\n", replacing base keys), as the engine fills it.
 * Returns the number of config errors (printed). */
static int config(const char *extra)
{
    plugin_load();
    char text[4096];
    size_t k = (size_t)snprintf(text, sizeof(text), "[risk.limits]\n");
    for (size_t i = 0; !W.no_base && i < sizeof(BASE) / sizeof(BASE[0]); i++) {
        /* a key the test sets itself is left to it */
        char key[72];
        snprintf(key, sizeof(key), "\n%s =", BASE[i][0]);
        bool replaced =
            extra && (strncmp(extra, key + 1, strlen(key + 1)) == 0 || strstr(extra, key) != NULL);
        if (!replaced) {
            k += (size_t)snprintf(text + k, sizeof(text) - k, "%s = %s\n", BASE[i][0], BASE[i][1]);
        }
    }
    snprintf(text + k, sizeof(text) - k, "%s", extra ? extra : "");
    conf_errors errs = {0};
    W.cf = conf_load_string("t.ini", text, &errs);
    free(W.ctx);
    W.ctx = calloc(1, W.p->ctx_size);
    const char *const ignore[] = {"module", "enabled", NULL};
    int n = (int)errs.n;
    if (W.cf && n == 0) {
        n = conf_apply("t.ini", "risk.limits", conf_section_get(W.cf, "risk.limits"), W.p->config,
                       ignore, W.ctx, &W.owned, &errs);
    }
    for (size_t i = 0; i < errs.n; i++) {
        print_message("# config: %s\n", errs.msgs[i]);
    }
    conf_errors_free(&errs);
    return n;
}

/* The standard prices, published now (a live feed keeps publishing them). */
static void feed_market(void)
{
    feed_mark(ACCT, BTC, "50000", "50000");
    feed_last(ACCT, BTC, "50000");
    feed_book(ACCT, BTC, "49999.5:100 49990:100 49900:100", "50000.5:100 50010:100 50100:100");
    feed_mark(ACCT, ETH, "2500", "2500");
    feed_last(ACCT, ETH, "2500");
    feed_book(ACCT, ETH, "2499.9:1000", "2500.1:1000");
    feed_mark(ACCT, SOL, "100", "100");
    feed_last(ACCT, SOL, "100");
    feed_book(ACCT, SOL, "99.99:1000", "100.01:1000");
}

/* The host, a fresh world (clock at T0, no events yet) and the plugin
 * started with `extra` config lines; storage answered. The standard world:
 * ACCT with equity 10000 USDT; BTC (ctVal 0.01, lot 0.01, maxLever 100) at
 * mark = index = last = 50000 (500 USDT a contract) with a book 49999.5 /
 * 50000.5 of 100 contracts a level; ETH (ctVal 0.1, lot 0.01) at 2500 (250 a
 * contract); SOL (ctVal 1, lot 0.1, minSz 1, maxLever 50) at 100. */
static void start_with(const char *extra)
{
    W.nq = 0;
    W.queries = 0;
    rl_host();
    W.nirows = 0;
    rl_instrument(ACCT, BTC, "0.01", "0.01", "0.01", "100");
    rl_instrument(ACCT, ETH, "0.1", "0.01", "0.01", "100");
    rl_instrument(ACCT, SOL, "1", "0.1", "1", "50");
    if (config(extra) != 0) {
        fail_msg("config refused");
    }
    const char *key = NULL;
    char why[320];
    if (W.p->check_config(W.ctx, &key, why, sizeof(why)) != AT_OK) {
        fail_msg("check_config: %s: %s", key ? key : "", why);
    }
    assert_int_equal(W.p->init((at_instance *)&W, &MH.host, W.ctx), AT_OK);
    assert_int_equal(W.p->start(W.ctx), AT_OK);
    rl_run();
    feed_balance(ACCT, "10000");
    feed_market();
}

/* The context and its config, freed (after destroy, when it was inited). */
static void config_free(void)
{
    free(W.ctx);
    W.ctx = NULL;
    conf_owned_free(W.owned);
    W.owned = NULL;
    conf_free(W.cf);
    W.cf = NULL;
}

static void plugin_stop(void)
{
    if (W.ctx) {
        W.p->stop(W.ctx);
        rl_run();
        W.p->destroy(W.ctx);
    }
    config_free();
}

RL_UNUSED static int teardown(void **state)
{
    (void)state;
    plugin_stop();
    return 0;
}

/* The clock moves; with the market: the standard prices again at the end. */
RL_UNUSED static void advance_s(int64_t s)
{
    MH.now_us += s * 1000000;
}

RL_UNUSED static void advance_market(int64_t s)
{
    advance_s(s);
    feed_market();
}

#endif

/* The one gate for orders (core/trading/executor.c) in a real engine on the
 * simulated clock, with a recording venue and scripted rules: an intent
 * published on the bus reaches the venue only after every rule approved; a
 * rejected one gets its verdict, its ORDER_RESULT and its stored rows and is
 * never submitted; resizes chain; mode = paper refuses live accounts; a
 * shadow intent reaches a paper venue only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "sim_engine.h"
#include "trading/executor.h"

/* ---- a venue that records what reaches it ---- */

typedef struct venue {
    at_venue_class cls;
    int submits;
    at_ev_order_intent last;
} venue;

static at_venue_class v_class(void *ctx)
{
    return ((venue *)ctx)->cls;
}

static void v_submit(void *ctx, const at_ev_order_intent *it)
{
    venue *v = ctx;
    v->submits++;
    v->last = *it;
}

static const at_exchange_ops venue_ops = {sizeof(at_exchange_ops), v_class, v_submit};

/* ---- scripted rules ---- */

typedef struct rule {
    const at_host *h;
    at_verdict verdict;
    const char *sz; /* for resize */
    int calls;
    char seen_sz[AT_DEC_STRLEN]; /* the size the rule was shown */
} rule;

static void r_check(void *ctx, const at_ev_order_intent *it, at_risk_answer *out)
{
    rule *r = ctx;
    r->calls++;
    r->h->dec_format(it->sz, r->seen_sz);
    out->verdict = r->verdict;
    if (r->verdict == AT_VERDICT_RESIZE) {
        r->h->dec_parse(r->sz, (size_t)-1, &out->sz);
        snprintf(out->reason, sizeof(out->reason), "size capped at %s", r->sz);
        snprintf(out->rule, sizeof(out->rule), "max_size");
    } else if (r->verdict == AT_VERDICT_REJECT) {
        snprintf(out->reason, sizeof(out->reason), "leverage 50 is over 10");
        snprintf(out->rule, sizeof(out->rule), "max_leverage");
    }
}

static const at_risk_ops rule_ops = {sizeof(at_risk_ops), r_check};

/* ---- what the bus carried ---- */

static int nverdicts, nresults;
static at_ev_risk_verdict verdicts[8];
static char verdict_reason[8][256];
static at_ev_order_result results[8];
static char result_msg[8][400];

static void on_verdict(void *arg, const at_event *e)
{
    if (nverdicts < 8) {
        verdicts[nverdicts] = *(const at_ev_risk_verdict *)e;
        snprintf(verdict_reason[nverdicts], sizeof(verdict_reason[0]), "%s",
                 ((const at_ev_risk_verdict *)e)->reason);
    }
    nverdicts++;
}

static void on_result(void *arg, const at_event *e)
{
    if (nresults < 8) {
        results[nresults] = *(const at_ev_order_result *)e;
        snprintf(result_msg[nresults], sizeof(result_msg[0]), "%s",
                 ((const at_ev_order_result *)e)->msg);
    }
    nresults++;
}

static sim_engine S;

typedef struct rig {
    at_instance *src;
    executor *x;
    venue paper, live;
    rule r1, r2;
} rig;

static rig R;

/* aitrader replay's exec_cfg.submit_at: "a2" was sent 5 ms after its intent. */
static int64_t submit_at(void *arg, const char *intent_id)
{
    (void)arg;
    return strcmp(intent_id, "a2") == 0   ? 1700000000005000
           : strcmp(intent_id, "a3") == 0 ? 1700000009000000
                                          : 0;
}

static bool with_submit_at;

static void rig_open(bool paper_mode, size_t nrules)
{
    memset(&R, 0, sizeof(R));
    nverdicts = nresults = 0;
    sim_engine_open(&S, "exec", NULL, 1700000000000000, true);
    R.src = engine_virtual_instance(S.e, "test.src");
    S.h->subscribe(R.src, AT_EV_RISK_VERDICT, on_verdict, NULL);
    S.h->subscribe(R.src, AT_EV_ORDER_RESULT, on_result, NULL);
    R.paper.cls = AT_VENUE_PAPER;
    R.live.cls = AT_VENUE_LIVE;
    R.r1 = (rule){.h = S.h, .verdict = AT_VERDICT_APPROVE};
    R.r2 = (rule){.h = S.h, .verdict = AT_VERDICT_APPROVE};
    exec_venue venues[] = {{"exchange.paper", &venue_ops, &R.paper},
                           {"exchange.live", &venue_ops, &R.live}};
    exec_rule rules[] = {{"risk.first", &rule_ops, &R.r1}, {"risk.second", &rule_ops, &R.r2}};
    const char *data_only[] = {"exchange.data"};
    exec_cfg cfg = {.paper_mode = paper_mode,
                    .venues = venues,
                    .nvenues = 2,
                    .rules = rules,
                    .nrules = nrules,
                    .data_only = data_only,
                    .ndata_only = 1,
                    .submit_at = with_submit_at ? submit_at : NULL};
    R.x = exec_new(S.h, engine_virtual_instance(S.e, "core.executor"), &cfg);
    assert_non_null(R.x);
    assert_int_equal(exec_start(R.x), AT_OK);
}

static void rig_close(void)
{
    exec_stop(R.x);
    sim_engine_close(&S, true);
    exec_free(R.x);
}

/* A test that failed before its rig_close leaves no engine to the next. */
static int rig_teardown(void **state)
{
    if (S.e) {
        rig_close();
    }
    return 0;
}

static void publish_place(const char *id, const char *account, const char *sz, bool shadow)
{
    at_ev_order_intent *it = (at_ev_order_intent *)S.h->event_new(R.src, AT_EV_ORDER_INTENT, 0);
    assert_non_null(it);
    it->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    snprintf(it->intent_id, sizeof(it->intent_id), "%s", id);
    snprintf(it->cl_ord_id, sizeof(it->cl_ord_id), "%s", id);
    snprintf(it->account, sizeof(it->account), "%s", account);
    snprintf(it->origin, sizeof(it->origin), "test");
    it->op = AT_INTENT_PLACE;
    it->side = AT_SIDE_BUY;
    it->ord_type = AT_ORDT_MARKET;
    S.h->dec_parse(sz, (size_t)-1, &it->sz);
    it->shadow = shadow;
    S.h->publish(R.src, &it->h, 0);
    engine_pump(S.e);
}

/* The one row of a query, by one parameter. */
static const char *q1(const char *sql, const char *param)
{
    const at_db_value p[] = {AT_DB_S(param)};
    return sim_engine_row(&S, R.src, sql, p, 1);
}

static void test_approved_reaches_the_venue(void **state)
{
    rig_open(true, 2);
    publish_place("a1", "exchange.paper", "3", false);
    assert_int_equal(R.paper.submits, 1);
    assert_string_equal(R.paper.last.intent_id, "a1");
    assert_int_equal(R.r1.calls, 1);
    assert_int_equal(R.r2.calls, 1);
    assert_int_equal(nverdicts, 2);
    assert_string_equal(verdicts[0].rule, "risk.first");
    assert_string_equal(verdicts[1].rule, "risk.second");
    assert_true(verdicts[0].allowed && verdicts[1].allowed);
    assert_int_equal(verdicts[1].verdict, AT_VERDICT_APPROVE);
    assert_int_equal(nresults, 0); /* the venue answers, not the gate */
    assert_string_equal(q1("SELECT verdict FROM risk_verdicts WHERE id = $1", "a1/risk.second"),
                        "approve");
    rig_close();
}

/* A replay hands an order to its venue when the recorded one was sent:
 * checked and answered at once, submitted at its time, or never if the run
 * ends first. */
static void test_submit_at_holds(void **state)
{
    with_submit_at = true;
    rig_open(true, 2);
    with_submit_at = false;
    publish_place("a1", "exchange.paper", "1", false); /* none recorded: now */
    assert_int_equal(R.paper.submits, 1);
    publish_place("a2", "exchange.paper", "2", false);
    assert_int_equal(nverdicts, 4); /* judged now, as live */
    assert_int_equal(R.paper.submits, 1);
    assert_int_equal(engine_advance(S.e, 1700000000004999, 0), AT_OK);
    assert_int_equal(R.paper.submits, 1);
    assert_int_equal(engine_advance(S.e, 1700000000005000, 0), AT_OK);
    assert_int_equal(R.paper.submits, 2);
    assert_string_equal(R.paper.last.intent_id, "a2");
    char sz[AT_DEC_STRLEN];
    S.h->dec_format(R.paper.last.sz, sz);
    assert_string_equal(sz, "2");
    publish_place("a3", "exchange.paper", "1", false); /* due after the run */
    assert_int_equal(R.paper.submits, 2);
    rig_close(); /* never sent, nothing left behind (ASan) */
}

static void test_reject_stops_the_chain(void **state)
{
    rig_open(true, 2);
    R.r1.verdict = AT_VERDICT_REJECT;
    publish_place("r1", "exchange.paper", "3", false);
    assert_int_equal(R.paper.submits, 0);
    assert_int_equal(R.r2.calls, 0);
    assert_int_equal(nverdicts, 1);
    assert_false(verdicts[0].allowed);
    assert_int_equal(verdicts[0].verdict, AT_VERDICT_REJECT);
    assert_string_equal(verdict_reason[0], "leverage 50 is over 10");
    assert_int_equal(nresults, 1);
    assert_false(results[0].ok);
    assert_string_equal(results[0].code, "risk_rejected");
    assert_string_equal(results[0].intent_id, "r1");
    assert_string_equal(result_msg[0], "risk.first/max_leverage: leverage 50 is over 10");
    assert_string_equal(q1("SELECT state FROM orders WHERE intent_id = $1", "r1"), "rejected");
    assert_string_equal(q1("SELECT rule_name FROM risk_verdicts WHERE intent_id = $1", "r1"),
                        "max_leverage");
    rig_close();
}

static void test_resizes_chain(void **state)
{
    rig_open(true, 2);
    R.r1.verdict = AT_VERDICT_RESIZE;
    R.r1.sz = "2";
    publish_place("z1", "exchange.paper", "5", false);
    assert_string_equal(R.r1.seen_sz, "5");
    assert_string_equal(R.r2.seen_sz, "2"); /* the next rule sees the resized intent */
    assert_int_equal(R.paper.submits, 1);
    char s[AT_DEC_STRLEN];
    S.h->dec_format(R.paper.last.sz, s);
    assert_string_equal(s, "2");
    assert_int_equal(verdicts[0].verdict, AT_VERDICT_RESIZE);
    assert_true(verdicts[0].allowed);

    /* A "resize" that grows the order is a misbehaving rule: refused. */
    R.r1.sz = "9";
    publish_place("z2", "exchange.paper", "5", false);
    assert_int_equal(R.paper.submits, 1);
    assert_string_equal(results[nresults - 1].intent_id, "z2");
    assert_non_null(strstr(result_msg[nresults - 1], "a resize must shrink"));
    rig_close();
}

static void test_paper_mode_refuses_live(void **state)
{
    rig_open(true, 1);
    publish_place("l1", "exchange.live", "1", false);
    assert_int_equal(R.live.submits, 0);
    assert_int_equal(R.r1.calls, 0); /* the gate refuses before any rule */
    assert_int_equal(nresults, 1);
    assert_string_equal(verdicts[0].rule, "core.gate");
    assert_non_null(strstr(result_msg[0], "mode = paper: exchange.live is a live account"));
    rig_close();

    rig_open(false, 1); /* mode = live trades it */
    publish_place("l2", "exchange.live", "1", false);
    assert_int_equal(R.live.submits, 1);
    rig_close();
}

static void test_gate_refusals(void **state)
{
    rig_open(false, 1);
    publish_place("g1", "exchange.nowhere", "1", false);
    publish_place("g2", "exchange.data", "1", false);
    publish_place("", "exchange.paper", "1", false);
    publish_place("g4", "exchange.paper", "0", false);
    assert_int_equal(R.paper.submits, 0);
    assert_int_equal(R.r1.calls, 0);
    assert_int_equal(nresults, 4);
    assert_non_null(strstr(result_msg[0], "no enabled exchange instance named 'exchange.nowhere'"));
    assert_non_null(strstr(result_msg[1], "exchange.data follows market data only"));
    assert_non_null(strstr(result_msg[2], "the intent has no intent_id"));
    assert_non_null(strstr(result_msg[3], "a place needs a size above 0"));
    rig_close();
}

/* The same intent id twice: the second is refused, never submitted (a
 * re-published close or cancel would otherwise act twice). */
static void test_duplicate_id_refused(void **state)
{
    rig_open(true, 1);
    publish_place("d1", "exchange.paper", "1", false);
    publish_place("d1", "exchange.paper", "1", false);
    assert_int_equal(R.paper.submits, 1);
    assert_int_equal(R.r1.calls, 1);
    assert_int_equal(nresults, 1);
    assert_string_equal(results[0].code, "duplicate");
    assert_string_equal(results[0].intent_id, "d1");
    rig_close();
}

/* The ids remembered are the last 2048: past that the oldest is forgotten
 * (accepted again) and every one still in the window is refused, after the
 * window has turned over three times (its hash chains reused). */
static void test_duplicate_window(void **state)
{
    rig_open(true, 0);
    const int n = 3 * 2048 + 100;
    char id[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "w%d", i);
        publish_place(id, "exchange.paper", "1", false);
    }
    assert_int_equal(R.paper.submits, n);
    assert_int_equal(nresults, 0);
    int refused = 0;
    for (int i = n - 2048; i < n; i += 7) { /* still remembered */
        snprintf(id, sizeof(id), "w%d", i);
        publish_place(id, "exchange.paper", "1", false);
        refused++;
    }
    assert_int_equal(nresults, refused);
    assert_int_equal(R.paper.submits, n);
    for (int i = 0; i < n - 2048; i += 5) { /* forgotten: accepted again */
        snprintf(id, sizeof(id), "w%d", i);
        publish_place(id, "exchange.paper", "1", false);
    }
    assert_int_equal(R.paper.submits, n + (n - 2048 + 4) / 5);
    assert_int_equal(nresults, refused);
    rig_close();
}

/* A shadow intent is risk-checked like any other and then filled
 * hypothetically by a paper venue: submitted there, flagged shadow. */
static void test_shadow_goes_to_paper(void **state)
{
    rig_open(true, 2);
    publish_place("s1", "exchange.paper", "1", true);
    assert_int_equal(R.r1.calls, 1);
    assert_int_equal(R.r2.calls, 1);
    assert_int_equal(nverdicts, 2);
    assert_int_equal(R.paper.submits, 1);
    assert_string_equal(R.paper.last.intent_id, "s1");
    assert_true(R.paper.last.shadow);
    assert_int_equal(R.live.submits, 0);
    assert_int_equal(nresults, 0); /* the venue answers */
    assert_string_equal(q1("SELECT verdict FROM risk_verdicts WHERE id = $1", "s1/risk.second"),
                        "approve");
    exec_stats st;
    exec_get_stats(R.x, &st);
    assert_int_equal(st.shadow, 0);
    assert_int_equal(st.shadow_paper, 1);
    assert_int_equal(st.submitted, 1);
    /* a rule still refuses it: never submitted */
    R.r1.verdict = AT_VERDICT_REJECT;
    publish_place("s2", "exchange.paper", "1", true);
    assert_int_equal(R.paper.submits, 1);
    assert_int_equal(nresults, 1);
    assert_string_equal(results[0].code, "risk_rejected");
    assert_string_equal(q1("SELECT state, shadow FROM orders WHERE intent_id = $1", "s2"),
                        "rejected|1");
    rig_close();
}

/* A shadow intent for any account but a paper venue is checked and stored,
 * never sent, saying why. */
static void test_shadow_never_leaves_for_a_real_account(void **state)
{
    rig_open(false, 2); /* mode = live: the live account trades */
    publish_place("s3", "exchange.live", "1", true);
    assert_int_equal(R.r1.calls, 1);
    assert_int_equal(R.r2.calls, 1);
    assert_int_equal(R.live.submits, 0);
    assert_int_equal(R.paper.submits, 0);
    assert_int_equal(nresults, 1);
    assert_string_equal(results[0].code, "shadow");
    assert_false(results[0].ok);
    assert_non_null(strstr(result_msg[0], "exchange.live is a live account"));
    assert_non_null(strstr(result_msg[0], "only by a paper venue"));
    assert_string_equal(q1("SELECT state, shadow, code FROM orders WHERE intent_id = $1", "s3"),
                        "shadow|1|shadow");
    /* the same intent not shadow goes */
    publish_place("l1", "exchange.live", "1", false);
    assert_int_equal(R.live.submits, 1);
    exec_stats st;
    exec_get_stats(R.x, &st);
    assert_int_equal(st.shadow, 1);
    assert_int_equal(st.shadow_paper, 0);
    rig_close();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_approved_reaches_the_venue, rig_teardown),
        cmocka_unit_test_teardown(test_submit_at_holds, rig_teardown),
        cmocka_unit_test_teardown(test_reject_stops_the_chain, rig_teardown),
        cmocka_unit_test_teardown(test_resizes_chain, rig_teardown),
        cmocka_unit_test_teardown(test_paper_mode_refuses_live, rig_teardown),
        cmocka_unit_test_teardown(test_gate_refusals, rig_teardown),
        cmocka_unit_test_teardown(test_duplicate_id_refused, rig_teardown),
        cmocka_unit_test_teardown(test_duplicate_window, rig_teardown),
        cmocka_unit_test_teardown(test_shadow_goes_to_paper, rig_teardown),
        cmocka_unit_test_teardown(test_shadow_never_leaves_for_a_real_account, rig_teardown),
    };
    return cmocka_run_group_tests_name("executor", tests, NULL, NULL);
}

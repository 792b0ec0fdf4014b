/* The engine control API (core/engine_api.c) through host->engine_call, in
 * a real engine on the simulated clock with SQLite, a paper account, the
 * ai_stub provider, one trader and risk_breaker: health with the core's
 * virtual instances, the traders and their state, a manual run (a stored
 * TRIGGER with reason "manual run", refused with a call in flight), pause
 * and resume (no trigger while paused, kept across a restart), the kill
 * switch written to the file `aitrader kill-switch` reads and seen by the
 * breaker, and every error: unknown method or trader, bad params naming the
 * key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../plugins/risk_breaker/kill_switch.h"
#include "clock.h"
#include "engine.h"
#include "sim_engine.h"
#include "util.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, ms */
#define LONG_MS (12 * 60 * 1000)

static const char INI[] =
    "[exchange.paper]\n"
    "instruments_file = " AT_TEST_SOURCE_DIR "/tests/data/okx_instruments_swap_sample.json\n"
    "instruments = BTC\n"
    "[risk.breaker]\n"
    "[ai.stub]\n"
    "[trader.alpha]\n"
    "ai = ai.stub\n"
    "account = exchange.paper\n"
    "symbols = BTC-USDT-SWAP\n"
    "long_period = 12m\n"
    "short_period = 5m\n";

static sim_engine S;
static at_instance *A; /* the caller: "test.api" */

/* ------------------------------------------------------------ the bus */

#define MAXT 16
static char trig_key[MAXT][AT_ID_LEN], trig_reason[MAXT][64];
static size_t ntrig;
static char alerts[2048];
static char verdicts[1024];

static void on_trigger(void *arg, const at_event *e)
{
    const at_ev_trigger *t = (const void *)e;
    if (ntrig < MAXT) {
        snprintf(trig_key[ntrig], AT_ID_LEN, "%s", t->key);
        snprintf(trig_reason[ntrig], sizeof(trig_reason[0]), "%s", t->reason ? t->reason : "");
    }
    ntrig++;
}

static void on_alert(void *arg, const at_event *e)
{
    const at_ev_alert *a = (const void *)e;
    size_t n = strlen(alerts);
    snprintf(alerts + n, sizeof(alerts) - n, "%s: %s\n", e->source ? e->source : "?",
             a->message ? a->message : "");
}

static void on_verdict(void *arg, const at_event *e)
{
    const at_ev_risk_verdict *v = (const void *)e;
    size_t n = strlen(verdicts);
    snprintf(verdicts + n, sizeof(verdicts) - n, "%s %s %s %s;", v->intent_id, v->rule,
             v->allowed ? "allowed" : "refused", v->name ? v->name : "");
}

/* ------------------------------------------------------------ the rig */

static int64_t now_ms(void)
{
    return clock_now_us() / 1000;
}

static void advance_ms(int64_t ms)
{
    assert_int_equal(engine_advance(S.e, clock_now_us() + ms * 1000, 1000 * 1000), AT_OK);
}

static bool trader_loaded(void *arg)
{
    char *res = NULL;
    assert_int_equal(S.h->engine_call(A, "traders", NULL, &res), AT_OK);
    bool starting = strstr(res, "\"state\":\"starting\"") != NULL;
    free(res);
    return !starting;
}

static void open_at(const char *dir, int64_t at_ms)
{
    ntrig = 0;
    alerts[0] = verdicts[0] = '\0';
    sim_engine_open_ini(&S, "api", dir, at_ms * 1000, false, INI);
    A = engine_virtual_instance(S.e, "test.api");
    assert_non_null(A);
    assert_true(S.h->subscribe(A, AT_EV_TRIGGER, on_trigger, NULL) > 0);
    assert_true(S.h->subscribe(A, AT_EV_ALERT, on_alert, NULL) > 0);
    assert_true(S.h->subscribe(A, AT_EV_RISK_VERDICT, on_verdict, NULL) > 0);
    assert_true(engine_wait(S.e, trader_loaded, NULL, 5000000));
    advance_ms(10); /* what is due at the start fires (at at_ms) */
}

static int teardown(void **state)
{
    if (S.e) {
        sim_engine_close(&S, true);
    }
    return 0;
}

/* host->engine_call; the answer (always JSON) parsed into *out. */
static int call(const char *method, const char *params, json_t **out)
{
    char *res = NULL;
    int rc = S.h->engine_call(A, method, params, &res);
    assert_non_null(res);
    json_error_t je;
    *out = json_loads(res, 0, &je);
    if (!*out) {
        fail_msg("%s: not JSON: %s", method, res);
    }
    free(res);
    return rc;
}

static json_t *ok(const char *method, const char *params)
{
    json_t *o;
    int rc = call(method, params, &o);
    if (rc != AT_OK) {
        char *t = json_dumps(o, 0);
        fail_msg("%s %s: %d %s", method, params ? params : "", rc, t);
    }
    return o;
}

/* An error answer: rc, {"code", "message"} with message containing `says`. */
static void refused(const char *method, const char *params, int want_rc, const char *code,
                    const char *says)
{
    json_t *o;
    int rc = call(method, params, &o);
    const char *c = json_string_value(json_object_get(o, "code"));
    const char *m = json_string_value(json_object_get(o, "message"));
    if (rc != want_rc || !c || strcmp(c, code) != 0 || !m || !strstr(m, says)) {
        char *t = json_dumps(o, 0);
        fail_msg("%s %s: %d %s; wanted %d %s \"…%s…\"", method, params ? params : "", rc, t,
                 want_rc, code, says);
    }
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s) {
        fail_msg("no string '%s'", key);
    }
    return s;
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) {
        fail_msg("no integer '%s'", key);
    }
    return json_integer_value(v);
}

/* traders[0], which must be alpha (the caller frees `all`). */
static json_t *alpha(json_t **all)
{
    *all = ok("traders", NULL);
    assert_true(json_is_array(*all));
    assert_int_equal(json_array_size(*all), 1);
    json_t *t = json_array_get(*all, 0);
    assert_string_equal(str(t, "id"), "alpha");
    return t;
}

static json_int_t tstat(json_t *t, const char *key)
{
    return num(json_object_get(t, "stats"), key);
}

static bool no_call_in_flight(void *arg)
{
    json_t *all, *t = alpha(&all);
    json_int_t inflight = num(t, "in_flight");
    json_decref(all);
    return inflight == 0;
}

/* The call in flight answered: the trader waits for the account and prices
 * up to 15 s (simulated), reads storage (real time, on its thread), asks the
 * AI and stores its decision; then the scheduler's slot is free. */
static void call_answered(void)
{
    for (int i = 0; i < 60; i++) {
        if (engine_wait(S.e, no_call_in_flight, NULL, 50000)) {
            return;
        }
        advance_ms(1000);
    }
    fail_msg("the call in flight was not answered within 60 s");
}

static const char *q(const char *sql)
{
    return sim_engine_query(&S, A, sql);
}

/* ------------------------------------------------------------ health */

static void test_health(void **state)
{
    open_at(NULL, T0);
    advance_ms(1000);
    json_t *h = ok("health", NULL);
    assert_string_equal(str(h, "version"), AT_VERSION);
    assert_string_equal(str(h, "mode"), "paper");
    assert_int_equal(num(h, "uptime_s"), 1);
    json_t *plugins = json_object_get(h, "plugins");
    assert_true(json_is_array(plugins));
    bool all_up = true;
    const char *want[][3] = {
        {"storage.sqlite", "storage", "sqlite"}, {"exchange.paper", "exchange", "paper"},
        {"risk.breaker", "risk", "breaker"},     {"ai.stub", "ai", "stub"},
        {"core.executor", "core", "executor"},   {"core.keeper", "core", "keeper"},
        {"core.equity", "core", "equity"},       {"core.ledger", "core", "ledger"},
        {"trader.alpha", "trader", "alpha"}};
    size_t found = 0;
    size_t i;
    json_t *p;
    json_array_foreach(plugins, i, p)
    {
        all_up &= strcmp(str(p, "state"), "up") == 0;
        assert_non_null(json_object_get(p, "detail"));
        for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
            if (strcmp(str(p, "instance"), want[k][0]) == 0) {
                assert_string_equal(str(p, "kind"), want[k][1]);
                assert_string_equal(str(p, "module"), want[k][2]);
                found++;
            }
        }
    }
    assert_int_equal(found, sizeof(want) / sizeof(want[0]));
    assert_string_equal(str(h, "status"), all_up ? "ok" : "degraded");
    json_decref(h);

    /* One instance degraded: the whole engine is, with that detail shown. */
    S.h->set_state(A, AT_STATE_DEGRADED, "lost its feed");
    h = ok("health", NULL);
    assert_string_equal(str(h, "status"), "degraded");
    json_array_foreach(json_object_get(h, "plugins"), i, p)
    {
        if (strcmp(str(p, "instance"), "test.api") == 0) {
            assert_string_equal(str(p, "state"), "degraded");
            assert_string_equal(str(p, "detail"), "lost its feed");
        }
    }
    json_decref(h);
}

/* ------------------------------------------------------------ traders, run */

static void test_traders_and_manual_run(void **state)
{
    open_at(NULL, T0);
    json_t *all, *t = alpha(&all);
    assert_string_equal(str(t, "instance"), "trader.alpha");
    assert_string_equal(str(t, "ai"), "ai.stub");
    assert_string_equal(str(t, "account"), "exchange.paper");
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "symbols"), 0)),
                        "BTC-USDT-SWAP");
    assert_string_equal(str(t, "state"), "running");
    /* the first start triggers at once */
    assert_int_equal(num(t, "in_flight"), 1);
    assert_int_equal(num(t, "last_trigger_ms"), T0);
    assert_int_equal(num(t, "next_call_ms"), T0 + LONG_MS);
    assert_int_equal(tstat(t, "triggers"), 1);
    assert_true(json_is_null(json_object_get(t, "pause")));
    json_decref(all);
    assert_int_equal(ntrig, 1);

    refused("trader.run", "{\"trader\":\"alpha\"}", AT_ESTATE, "call_in_flight",
            "has a call in flight (alpha:long:");

    call_answered();
    int64_t at = now_ms();
    json_t *r = ok("trader.run", "{\"trader\":\"alpha\",\"by\":\"alice\"}");
    char key[AT_ID_LEN];
    snprintf(key, sizeof(key), "alpha:manual:%" PRId64, at);
    assert_string_equal(str(r, "key"), key);
    assert_string_equal(str(r, "trader"), "alpha");
    json_decref(r);
    engine_pump(S.e);
    /* a TRIGGER for the trader, with the manual reason and the fresh key */
    assert_int_equal(ntrig, 2);
    assert_string_equal(trig_key[1], key);
    assert_string_equal(trig_reason[1], "manual run");
    /* stored like every trigger */
    at_db_value p[1] = {AT_DB_S(key)};
    char want[64];
    snprintf(want, sizeof(want), "alpha|%" PRId64 "|manual run", at);
    assert_string_equal(
        sim_engine_row(&S, A, "SELECT trader, ts_ms, reason FROM triggers WHERE key = $1", p, 1),
        want);
    t = alpha(&all);
    assert_int_equal(num(t, "in_flight"), 1);
    assert_int_equal(num(t, "last_trigger_ms"), at);
    assert_int_equal(num(t, "next_call_ms"), at + LONG_MS); /* the period starts again */
    assert_int_equal(tstat(t, "manual_runs"), 1);
    assert_int_equal(tstat(t, "triggers"), 2);
    json_decref(all);
    /* its call is in flight now: a second run waits for it */
    refused("trader.run", "{\"trader\":\"trader.alpha\"}", AT_ESTATE, "call_in_flight", key);
    /* the trader asks the AI and decides on it, as for any trigger */
    call_answered();
    snprintf(want, sizeof(want), "%s|1", key);
    assert_string_equal(
        sim_engine_row(&S, A, "SELECT decision_id, decided_ms > ts_ms FROM triggers WHERE key = $1",
                       p, 1),
        want);
}

/* ------------------------------------------------------------ pause */

static void test_pause_resume_survive_restart(void **state)
{
    open_at(NULL, T0);
    call_answered();
    json_t *t = ok("trader.pause", "{\"trader\":\"alpha\",\"by\":\"alice\",\"reason\":\"news "
                                   "at 14:00\"}");
    assert_string_equal(str(t, "state"), "paused");
    assert_true(json_is_true(json_object_get(t, "changed")));
    assert_true(json_is_null(json_object_get(t, "next_call_ms")));
    json_t *pause = json_object_get(t, "pause");
    assert_string_equal(str(pause, "by"), "alice (test.api)");
    assert_string_equal(str(pause, "reason"), "news at 14:00");
    int64_t paused_at = now_ms();
    assert_int_equal(num(pause, "since_ms"), paused_at);
    json_decref(t);
    /* again: nothing changes, nothing stored twice */
    t = ok("trader.pause", "{\"trader\":\"alpha\"}");
    assert_true(json_is_false(json_object_get(t, "changed")));
    assert_string_equal(str(json_object_get(t, "pause"), "by"), "alice (test.api)");
    json_decref(t);
    refused("trader.run", "{\"trader\":\"alpha\"}", AT_ESTATE, "paused", "is paused");

    /* two long periods pass: the windows fall due and are skipped */
    size_t before = ntrig;
    advance_ms(2 * LONG_MS + 1000);
    assert_int_equal(ntrig, before);
    json_t *all;
    t = alpha(&all);
    assert_int_equal(tstat(t, "skipped_paused"), 2);
    json_decref(all);
    char want[160];
    snprintf(want, sizeof(want), "1|%" PRId64 "|alice (test.api)|news at 14:00|1;", paused_at);
    assert_string_equal(
        q("SELECT paused, ts_ms, changed_by, reason, changes FROM trader_state WHERE trader = "
          "'alpha'"),
        want);
    assert_string_equal(q("SELECT id, instance, kind FROM audit_log WHERE kind LIKE 'trader.%'"),
                        "trader.alpha/trader.pause/1|trader.alpha|trader.pause;");

    /* a restart an hour later: still paused, still no trigger */
    char dir[sizeof(S.dir)];
    snprintf(dir, sizeof(dir), "%s", S.dir);
    sim_engine_close(&S, false);
    open_at(dir, paused_at + 3600 * 1000);
    t = alpha(&all);
    assert_string_equal(str(t, "state"), "paused");
    assert_string_equal(str(json_object_get(t, "pause"), "reason"), "news at 14:00");
    assert_int_equal(num(json_object_get(t, "pause"), "since_ms"), paused_at);
    json_decref(all);
    advance_ms(LONG_MS + 1000);
    assert_int_equal(ntrig, 0);

    /* resumed: the schedule goes on, a trigger within a long period */
    t = ok("trader.resume", "{\"trader\":\"alpha\",\"by\":\"bob\"}");
    assert_string_equal(str(t, "state"), "running");
    assert_true(json_is_true(json_object_get(t, "changed")));
    assert_true(json_is_null(json_object_get(t, "pause")));
    assert_true(num(t, "next_call_ms") <= now_ms() + LONG_MS);
    json_decref(t);
    advance_ms(LONG_MS);
    assert_int_equal(ntrig, 1);
    assert_string_equal(q("SELECT id FROM audit_log WHERE kind LIKE 'trader.%' ORDER BY id"),
                        "trader.alpha/trader.pause/1;trader.alpha/trader.resume/2;");

    /* and running after the next restart */
    sim_engine_close(&S, false);
    open_at(dir, now_ms() + 1000);
    t = alpha(&all);
    assert_string_equal(str(t, "state"), "running");
    json_decref(all);
}

/* ------------------------------------------------------------ kill switch */

static void cli_status(const char *want)
{
    char *cmd = at_asprintf("'%s/aitrader' kill-switch status -c '%s/modules.ini' 2>&1",
                            AT_TEST_BINARY_DIR, S.dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char out[1024] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    free(cmd);
    if (!strstr(out, want)) {
        fail_msg("aitrader kill-switch status: %s; wanted …%s…", out, want);
    }
}

static void publish_entry(const char *id)
{
    at_ev_order_intent *it = (at_ev_order_intent *)S.h->event_new(A, AT_EV_ORDER_INTENT, 0);
    assert_non_null(it);
    it->h.inst = S.h->inst_intern("BTC-USDT-SWAP");
    snprintf(it->intent_id, sizeof(it->intent_id), "%s", id);
    snprintf(it->cl_ord_id, sizeof(it->cl_ord_id), "%s", id);
    snprintf(it->account, sizeof(it->account), "exchange.paper");
    snprintf(it->origin, sizeof(it->origin), "manual");
    it->op = AT_INTENT_PLACE;
    it->side = AT_SIDE_BUY;
    it->ord_type = AT_ORDT_MARKET;
    S.h->dec_parse("1", 1, &it->sz);
    S.h->publish(A, &it->h, 0);
    engine_pump(S.e);
}

static void test_kill_switch(void **state)
{
    open_at(NULL, T0);
    advance_ms(2000); /* the breaker has read its stored state */
    json_t *k = ok("kill_switch.get", NULL);
    assert_true(json_is_false(json_object_get(k, "on")));
    assert_true(json_is_false(json_object_get(k, "present")));
    assert_true(json_is_null(json_object_get(k, "since_ms")));
    assert_true(json_is_true(json_object_get(k, "watched")));
    json_decref(k);

    int64_t before = at_wall_us() / 1000;
    k = ok("kill_switch.set",
           "{\"on\":true,\"by\":\"alice\",\"reason\":\"funding spike\\nlooking\"}");
    assert_true(json_is_true(json_object_get(k, "on")));
    assert_string_equal(str(k, "by"), "alice (test.api)");
    assert_string_equal(str(k, "reason"), "funding spike looking"); /* one line */
    assert_true(num(k, "since_ms") >= before && num(k, "since_ms") <= at_wall_us() / 1000);
    json_decref(k);
    /* the file, as the CLI and the breaker read it */
    char file[256];
    snprintf(file, sizeof(file), "%s/data/%s", S.dir, KS_FILE_NAME);
    ks_state st;
    assert_int_equal(ks_read(file, &st), 0);
    assert_true(st.on && st.present);
    assert_string_equal(st.by, "alice (test.api)");
    cli_status("kill switch ON since ");
    cli_status(" by alice (test.api): funding spike looking");

    /* risk_breaker: the next entry is refused at once, and its tick says so
     * within a second */
    publish_entry("ks1");
    advance_ms(100);
    assert_non_null(strstr(verdicts, "ks1 risk.breaker refused kill_switch;"));
    advance_ms(1000);
    assert_non_null(strstr(alerts, "risk.breaker: kill switch on"));
    assert_non_null(strstr(alerts, "every new entry is refused"));

    k = ok("kill_switch.set", "{\"on\":false}");
    assert_true(json_is_false(json_object_get(k, "on")));
    assert_true(json_is_true(json_object_get(k, "present")));
    assert_string_equal(str(k, "by"), "test.api");
    assert_string_equal(str(k, "reason"), "no reason given");
    json_decref(k);
    cli_status("kill switch off since ");
    advance_ms(1000);
    assert_non_null(strstr(alerts, "entries pass again"));
}

/* ------------------------------------------------------------ errors */

static void test_errors(void **state)
{
    open_at(NULL, T0);
    refused("nope", NULL, AT_ENOENT, "unknown_method", "unknown method 'nope' (methods: health");
    refused("", NULL, AT_EINVAL, "invalid_params", "no method given");
    refused("trader.run", "{\"trader\":\"nobody\"}", AT_ENOENT, "not_found",
            "no trader 'nobody' (traders: alpha)");
    refused("trader.pause", NULL, AT_EINVAL, "invalid_params", "'trader': missing");
    refused("trader.resume", "{\"trader\":\"\"}", AT_EINVAL, "invalid_params", "'trader': empty");
    refused("trader.run", "{\"trader\":5}", AT_EINVAL, "invalid_params",
            "'trader': expected a string");
    refused("trader.pause", "{\"trader\":\"alpha\",\"resaon\":\"x\"}", AT_EINVAL, "invalid_params",
            "'resaon': unknown key (expected: trader, by, reason)");
    refused("trader.pause", "{\"trader\":\"alpha\",\"reason\":7}", AT_EINVAL, "invalid_params",
            "'reason': expected a string");
    refused("health", "{\"x\":1}", AT_EINVAL, "invalid_params",
            "'x': unknown key (this method takes no params)");
    refused("traders", "not json", AT_EINVAL, "invalid_params", "params: not JSON");
    refused("traders", "[1]", AT_EINVAL, "invalid_params", "params: expected a JSON object");
    refused("traders", "{\"a\":1,\"a\":2}", AT_EINVAL, "invalid_params", "params: not JSON");
    refused("kill_switch.set", "{}", AT_EINVAL, "invalid_params", "'on': missing");
    refused("kill_switch.set", "{\"on\":\"yes\"}", AT_EINVAL, "invalid_params",
            "'on': expected true or false");
    refused("kill_switch.get", "{\"on\":true}", AT_EINVAL, "invalid_params", "'on': unknown key");
    /* nothing was switched by the refused calls */
    json_t *k = ok("kill_switch.get", "{}");
    assert_true(json_is_false(json_object_get(k, "present")));
    json_decref(k);
    /* an answer is JSON even when the message echoes bytes that are not UTF-8 */
    refused("no\xff\xfe", NULL, AT_ENOENT, "unknown_method",
            "unknown method 'no?"
            "?'");
    char *res = (char *)1;
    assert_int_equal(S.h->engine_call(A, "health", NULL, NULL), AT_EINVAL);
    assert_int_equal(S.h->engine_call(NULL, "health", NULL, &res), AT_OK); /* the core asks */
    free(res);
}

/* "shadow": nothing to compare for a trader without a shadow account;
 * the trader filter and unknown keys checked like the other methods. */
static void test_shadow_method(void **state)
{
    open_at(NULL, T0);
    json_t *r = ok("shadow", NULL);
    assert_int_equal(json_array_size(json_object_get(r, "traders")), 0);
    json_decref(r);
    r = ok("shadow", "{\"trader\":\"trader.alpha\"}");
    assert_true(json_is_array(json_object_get(r, "traders")));
    json_decref(r);
    refused("shadow", "{\"trader\":\"nobody\"}", AT_ENOENT, "not_found",
            "no trader 'nobody' (traders: alpha)");
    refused("shadow", "{\"symbol\":\"x\"}", AT_EINVAL, "invalid_params",
            "'symbol': unknown key (expected: trader)");
    json_t *all, *t = alpha(&all);
    assert_true(json_is_null(json_object_get(t, "shadow_account")));
    assert_int_equal(json_array_size(json_object_get(t, "live_weight")), 0);
    assert_int_equal(tstat(t, "shadow_entries"), 0);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_health, teardown),
        cmocka_unit_test_teardown(test_traders_and_manual_run, teardown),
        cmocka_unit_test_teardown(test_pause_resume_survive_restart, teardown),
        cmocka_unit_test_teardown(test_kill_switch, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_shadow_method, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

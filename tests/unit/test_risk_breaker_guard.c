/* risk_breaker's guards on a mock host (test_risk_breaker_mock.h): safe mode
 * after N invalid AI decisions in a row and its end, the kill switch file
 * (written as `aitrader kill-switch` writes it, fail-safe on anything but
 * "off"), closes passing every guard, an unreadable stored state refusing
 * entries until restore = false, and check_config for every value init
 * parses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../plugins/risk_breaker/kill_switch.h"
#include "test_risk_breaker_mock.h"

#define A "exchange.okx_demo"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/at-brkg-XXXXXX");
    if (!mkdtemp(tmpdir) || mock_load_plugin() != 0) {
        return -1;
    }
    mock_init(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_reset();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        return -1;
    }
    dlclose(PL.dl);
    return 0;
}

static void start(mk_inst *in, const char *body)
{
    assert_int_equal(mock_start(in, body), AT_OK);
    mock_flush();
}

static at_risk_answer verdict(mk_inst *in, const char *origin, at_verdict want, const char *rule)
{
    at_risk_answer a = mk_entry(in, A, origin);
    if (a.verdict != want || strcmp(a.rule, rule) != 0) {
        fail_msg("expected verdict %d '%s', got %d '%s': %s", want, rule, a.verdict, a.rule,
                 a.reason);
    }
    return a;
}

static void contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("'%s' does not hold '%s'", text, needle);
    }
}

/* Everything that is not an entry passes; an amend with a size does not. */
static void only_entries_refused(mk_inst *in, const char *rule)
{
    const struct {
        at_intent_op op;
        bool reduce;
        bool passes;
    } cases[] = {
        {AT_INTENT_PLACE, true, true},
        {AT_INTENT_CLOSE_POSITION, false, true},
        {AT_INTENT_CANCEL, false, true},
        {AT_INTENT_CANCEL_ALGO, false, true},
        {AT_INTENT_AMEND, false, true /* no size */},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        at_ev_order_intent it = mk_intent(cases[i].op, A, "alpha", cases[i].reduce);
        at_risk_answer a = mk_check(in, &it);
        if (a.verdict != AT_VERDICT_APPROVE) {
            fail_msg("op %d reduce %d refused while %s: %s", cases[i].op, cases[i].reduce, rule,
                     a.reason);
        }
    }
    at_ev_order_intent grow = mk_intent(AT_INTENT_AMEND, A, "alpha", false);
    grow.sz = (at_dec){5, 0};
    at_risk_answer a = mk_check(in, &grow);
    assert_int_equal(a.verdict, AT_VERDICT_REJECT);
    assert_string_equal(a.rule, rule);
}

/* ------------------------------------------------------------ safe mode */

static void safe_mode_after_n_failures_and_its_end(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_ai_failures = 3\nsafe_mode_recover = 2");
    mk_decision("alpha", false, "not JSON");
    mk_decision("alpha", false, "not JSON");
    mk_decision("alpha", true, NULL); /* a valid one in between: the count starts again */
    mk_decision("alpha", false, "unknown symbol");
    mk_decision("alpha", false, "size over the limit");
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    assert_int_equal(mock_alerts("safe mode"), 0);
    mk_decision("alpha", false, "finish_reason length");
    assert_int_equal(mock_alerts("safe mode: trader alpha made 3 invalid AI decisions in a row "
                                 "(last: finish_reason length)"),
                     1);
    assert_int_equal(mock_rows("breaker.safe_mode"), 1);
    assert_true(M.gauge[2] == 1);
    at_risk_answer a = verdict(&in, "alpha", AT_VERDICT_REJECT, "safe_mode");
    contains(a.reason, "trader alpha is in safe mode");
    verdict(&in, "beta", AT_VERDICT_APPROVE, ""); /* another trader, and manual orders, pass */
    verdict(&in, "manual", AT_VERDICT_APPROVE, "");
    only_entries_refused(&in, "safe_mode");
    mk_decision("alpha", false, "again");
    assert_int_equal(mock_alerts("safe mode: trader alpha"), 1); /* entered once */
    mk_decision("alpha", true, NULL);                            /* probation: still refused */
    verdict(&in, "alpha", AT_VERDICT_REJECT, "safe_mode");
    mk_decision("alpha", true, NULL);
    assert_int_equal(mock_alerts("safe mode over: trader alpha made 2 valid decisions"), 1);
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    assert_true(M.gauge[2] == 0);
    mock_free_inst(&in);
}

static void safe_mode_survives_a_restart_and_restore_false_resets_it(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    const char *cfg = "max_ai_failures = 2";
    start(&in, cfg);
    mk_decision("alpha", false, "timeout");
    mk_decision("alpha", false, "timeout");
    verdict(&in, "alpha", AT_VERDICT_REJECT, "safe_mode");
    mock_free_inst(&in);
    MH.now_us += 1000000;
    mock_clear();
    start(&in, cfg);
    verdict(&in, "alpha", AT_VERDICT_REJECT, "safe_mode");
    assert_int_equal(mock_alerts("restored: trader alpha in safe mode"), 1);
    mock_free_inst(&in);
    /* the operator's reset: one start with restore = false */
    MH.now_us += 1000000;
    mock_clear();
    start(&in, "max_ai_failures = 2\nrestore = false");
    assert_int_equal(mock_alerts("restore = false"), 1);
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
    MH.now_us += 1000000;
    mock_clear();
    start(&in, cfg); /* and what it started with is what the next start reads */
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
}

static void safe_mode_off(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "max_ai_failures = 0");
    for (int i = 0; i < 20; i++) {
        mk_decision("alpha", false, "broken");
    }
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
}

/* ------------------------------------------------------------ kill switch */

static void set_switch(bool on, const char *by, const char *why)
{
    char err[256];
    int rc = ks_write(tmpdir, on, MH.now_us / 1000, by, why, err, sizeof(err));
    if (rc != 0) {
        fail_msg("ks_write: %s", err);
    }
}

static void write_file(const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/kill-switch", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void kill_switch_file_on_and_off(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "");
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    set_switch(true, "tester (unit)", "drill\nwith a newline");
    at_risk_answer a = verdict(&in, "alpha", AT_VERDICT_REJECT, "kill_switch");
    contains(a.reason, "kill switch on since 2026-01-01T10:00:00Z by tester (unit): drill with a "
                       "newline");
    verdict(&in, "manual", AT_VERDICT_REJECT, "kill_switch"); /* everyone */
    only_entries_refused(&in, "kill_switch");
    assert_int_equal(mock_alerts("kill switch on since"), 1);
    assert_int_equal(mock_rows("breaker.kill_switch"), 1);
    assert_true(M.gauge[1] == 1);
    /* the tick notices without any intent */
    mock_advance(1000);
    set_switch(false, "tester (unit)", "drill over");
    assert_int_equal(mock_alerts("kill switch off"), 0);
    mock_advance(1000);
    assert_int_equal(mock_alerts("kill switch off since 2026-01-01T10:00:01Z by tester (unit): "
                                 "entries pass again"),
                     1);
    assert_true(M.gauge[1] == 0);
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
}

static void kill_switch_fails_safe(void **state)
{
    (void)state;
    mock_reset();
    mk_inst in;
    start(&in, "");
    write_file(""); /* `touch data/kill-switch` */
    at_risk_answer a = verdict(&in, "alpha", AT_VERDICT_REJECT, "kill_switch");
    contains(a.reason, "does not say on or off: taken as on");
    write_file("maybe\n");
    verdict(&in, "alpha", AT_VERDICT_REJECT, "kill_switch");
    write_file("off\n");
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    char path[128];
    snprintf(path, sizeof(path), "%s/kill-switch", tmpdir);
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0); /* never blocks, is on */
    verdict(&in, "alpha", AT_VERDICT_REJECT, "kill_switch");
    unlink(path);
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
}

static void kill_switch_reported_at_start(void **state)
{
    (void)state;
    mock_reset();
    set_switch(true, "ops", "exchange incident");
    mk_inst in;
    start(&in, "");
    assert_int_equal(mock_alerts("kill switch on since 2026-01-01T10:00:00Z by ops: exchange "
                                 "incident"),
                     1);
    contains(MH.state, "kill switch ON");
    verdict(&in, "alpha", AT_VERDICT_REJECT, "kill_switch");
    mock_free_inst(&in);
    set_switch(false, "ops", "");
    mock_clear();
    start(&in, "");
    assert_int_equal(mock_alerts("kill switch"), 0);
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
}

/* ------------------------------------------------------------ stored state */

static void unreadable_state_refuses_entries(void **state)
{
    (void)state;
    mock_reset();
    mk_row *r = &M.rows[M.nrows++];
    snprintf(r->id, sizeof(r->id), "risk.breaker/0000000000001/000000000001");
    r->ts = 1;
    snprintf(r->instance, sizeof(r->instance), "risk.breaker");
    snprintf(r->kind, sizeof(r->kind), "breaker.trip");
    r->message = strdup("x");
    r->data = strdup("{\"accounts\":[{\"account\":\"" A "\",\"day\":1,\"peak\":\"-3\"}],"
                     "\"traders\":[]}");
    mk_inst in;
    start(&in, "");
    assert_int_equal(mock_alerts("stored state could not be read"), 1);
    at_risk_answer a = verdict(&in, "alpha", AT_VERDICT_REJECT, "state_unknown");
    contains(a.reason, "day, day_start or peak missing or not positive");
    only_entries_refused(&in, "state_unknown");
    contains(MH.state, "stored state unreadable");
    mock_free_inst(&in);
    mock_clear();
    start(&in, "restore = false");
    verdict(&in, "alpha", AT_VERDICT_APPROVE, "");
    mock_free_inst(&in);
}

static void without_storage_in_memory(void **state)
{
    (void)state;
    mock_reset();
    M.no_storage = true;
    mk_inst in;
    assert_int_equal(mock_start(&in, "max_daily_loss_pct = 5"), AT_OK);
    verdict(&in, "alpha", AT_VERDICT_APPROVE, ""); /* nothing to wait for */
    assert_int_equal(mock_logged("no storage"), 1);
    mk_balance(A, "10000");
    mk_balance(A, "9000");
    verdict(&in, "alpha", AT_VERDICT_REJECT, "daily_loss");
    mock_free_inst(&in);
}

/* ------------------------------------------------------------ config */

static void config_checked(const char *body, const char *want_key, const char *want_why)
{
    mk_inst in;
    const char *key;
    char why[256];
    int rc = mock_config(&in, body, &key, why, sizeof(why));
    if (!want_key) {
        if (rc != AT_OK) {
            fail_msg("'%s' refused: %s: %s", body, key ? key : "-", why);
        }
        /* init agrees (same parser) */
        assert_int_equal(PL.p->init((at_instance *)&mk_inst_token, &MH.host, in.ctx), AT_OK);
    } else {
        if (rc != AT_ECONFIG || !key || strcmp(key, want_key) != 0) {
            fail_msg("'%s': expected %s refused, got %d %s", body, want_key, rc, key ? key : "-");
        }
        contains(why, want_why);
        assert_int_equal(PL.p->init((at_instance *)&mk_inst_token, &MH.host, in.ctx), AT_ECONFIG);
    }
    mock_free_inst(&in);
}

static void check_config_every_value(void **state)
{
    (void)state;
    mock_reset();
    config_checked("", NULL, NULL);
    config_checked("max_daily_loss_pct = 0\nmax_drawdown_pct = 0", NULL, NULL);
    config_checked("max_daily_loss_pct = 2.5\nmax_drawdown_pct = 99.999999", NULL, NULL);
    config_checked("max_daily_loss_pct = abc", "max_daily_loss_pct", "is not a percentage");
    config_checked("max_daily_loss_pct = 5%", "max_daily_loss_pct", "is not a percentage");
    config_checked("max_daily_loss_pct = -1", "max_daily_loss_pct", "is not a percentage");
    config_checked("max_daily_loss_pct = 1.2345678", "max_daily_loss_pct", "at most 6 decimals");
    config_checked("max_daily_loss_pct = 5.", "max_daily_loss_pct", "is not a percentage");
    config_checked("max_drawdown_pct = 100", "max_drawdown_pct", "not below 100");
    config_checked("max_drawdown_pct = 1000", "max_drawdown_pct", "is not a percentage");
    config_checked("max_drawdown_pct = ", "max_drawdown_pct", "is not a percentage");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safe_mode_after_n_failures_and_its_end),
        cmocka_unit_test(safe_mode_survives_a_restart_and_restore_false_resets_it),
        cmocka_unit_test(safe_mode_off),
        cmocka_unit_test(kill_switch_file_on_and_off),
        cmocka_unit_test(kill_switch_fails_safe),
        cmocka_unit_test(kill_switch_reported_at_start),
        cmocka_unit_test(unreadable_state_refuses_entries),
        cmocka_unit_test(without_storage_in_memory),
        cmocka_unit_test(check_config_every_value),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* An engine on the simulated clock (backtest, replay) drops no market data,
 * however many events one clock step publishes; the same engine on the real
 * clock holds its [core] bus_market_max bound. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bus.h"
#include "engine.h"
#include "util.h"

static int64_t trades;

static void on_trade(void *arg, const at_event *ev)
{
    (void)arg;
    (void)ev;
    trades++;
}

/* Publishes 5000 trades without draining, then delivers them all. */
static int64_t flood(bool sim)
{
    char dir[] = "/tmp/at-engine-sim-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *ini = at_asprintf("%s/modules.ini", dir);
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    fprintf(f,
            "[core]\nplugin_dir = %s/plugins\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = error\nbus_market_max = 1000\n[storage.sqlite]\npath = %s/t.db\n",
            AT_TEST_BINARY_DIR, dir, AT_TEST_SOURCE_DIR, dir);
    fclose(f);
    engine_opts o = {.config_path = ini, .sim_clock = sim, .sim_start_us = 1700000000000000};
    engine *e = engine_new(&o);
    conf_errors errs = {0};
    assert_int_equal(engine_load(e, &errs), AT_OK);
    conf_errors_free(&errs);
    assert_int_equal(engine_start(e), AT_OK);
    at_instance *src = engine_virtual_instance(e, "test.src");
    const at_host *h = engine_host();
    trades = 0;
    h->subscribe(src, AT_EV_TRADE, on_trade, NULL);
    for (int i = 0; i < 5000; i++) {
        at_event *ev = h->event_new(src, AT_EV_TRADE, 0);
        ev->inst = h->inst_intern("BTC-USDT-SWAP");
        h->publish(src, ev, 0);
    }
    engine_pump(e);
    engine_free(e);
    char *cmd = at_asprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(ini);
    return trades;
}

static void test_sim_clock_keeps_every_event(void **state)
{
    (void)state;
    assert_int_equal(flood(true), 5000);
}

static void test_real_clock_holds_the_bound(void **state)
{
    (void)state;
    assert_int_equal(flood(false), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_clock_keeps_every_event),
        cmocka_unit_test(test_real_clock_holds_the_bound),
    };
    return cmocka_run_group_tests_name("engine_sim", tests, NULL, NULL);
}

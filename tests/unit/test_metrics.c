/* Unit tests for core/metrics.c: counters, gauges, histograms, kind clashes,
 * and the Prometheus text that /metrics will serve (host->metrics_text). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "metrics.h"

static char *render(void)
{
    const at_host *h = engine_host();
    assert_true(h->struct_size >= offsetof(at_host, metrics_text) + sizeof(h->metrics_text));
    char *s = h->metrics_text();
    assert_non_null(s);
    return s;
}

static void test_counter_gauge(void **state)
{
    at_metric *c =
        metrics_get("exchange.okx", AT_METRIC_COUNTER, "aitrader_test_orders_total", "Orders sent");
    at_metric *g = metrics_get("exchange.okx", AT_METRIC_GAUGE, "aitrader_test_equity", "Equity");
    assert_non_null(c);
    assert_non_null(g);
    metrics_add(c, 2);
    metrics_add(c, 3);
    metrics_set(g, 10.5);
    metrics_set(g, 7.25);
    assert_true(metrics_value(c) == 5);
    assert_true(metrics_value(g) == 7.25);
    /* Same name and instance: the same metric. */
    assert_ptr_equal(
        metrics_get("exchange.okx", AT_METRIC_COUNTER, "aitrader_test_orders_total", "Orders sent"),
        c);
    /* Another kind under the same name is refused. */
    assert_null(
        metrics_get("exchange.okx", AT_METRIC_GAUGE, "aitrader_test_orders_total", "clash"));
    /* Invalid Prometheus names are refused. */
    assert_null(metrics_get("x", AT_METRIC_COUNTER, "9bad name", "h"));
    char *s = render();
    assert_non_null(strstr(s, "# HELP aitrader_test_orders_total Orders sent\n"
                              "# TYPE aitrader_test_orders_total counter\n"));
    assert_non_null(strstr(s, "aitrader_test_orders_total{instance=\"exchange.okx\"} 5\n"));
    assert_non_null(strstr(s, "aitrader_test_equity{instance=\"exchange.okx\"} 7.25\n"));
    free(s);
}

static void test_histogram(void **state)
{
    at_metric *h = metrics_get("ai.x", AT_METRIC_HISTOGRAM, "aitrader_test_latency_us", "Latency");
    assert_non_null(h);
    metrics_observe(h, 40);
    metrics_observe(h, 400);
    metrics_observe(h, 4e9);
    assert_true(metrics_value(h) == 3);
    char *s = render();
    assert_non_null(strstr(s, "# TYPE aitrader_test_latency_us histogram\n"));
    /* Buckets are cumulative; +Inf holds everything. */
    assert_non_null(strstr(s, "aitrader_test_latency_us_bucket{instance=\"ai.x\",le=\"50\"} 1\n"));
    assert_non_null(strstr(s, "aitrader_test_latency_us_bucket{instance=\"ai.x\",le=\"500\"} 2\n"));
    assert_non_null(
        strstr(s, "aitrader_test_latency_us_bucket{instance=\"ai.x\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(s, "aitrader_test_latency_us_count{instance=\"ai.x\"} 3\n"));
    free(s);
}

/* Labelled series: escaped values, one family's series together even when
 * another family was registered between them, bad keys refused, a bound. */
static void test_labelled(void **state)
{
    const char *rej[] = {"rule", "risk.limits", "verdict", "reject"};
    const char *app[] = {"rule", "risk.limits", "verdict", "approve"};
    at_metric *r = metrics_get_labelled("core.executor", AT_METRIC_COUNTER,
                                        "aitrader_test_verdicts_total", "Verdicts", rej, 2);
    assert_non_null(r);
    at_metric *other =
        metrics_get("core.executor", AT_METRIC_COUNTER, "aitrader_test_between_total", "Between");
    assert_non_null(other);
    at_metric *a = metrics_get_labelled("core.executor", AT_METRIC_COUNTER,
                                        "aitrader_test_verdicts_total", "Verdicts", app, 2);
    assert_non_null(a);
    assert_ptr_not_equal(a, r);
    assert_ptr_equal(metrics_get_labelled("core.executor", AT_METRIC_COUNTER,
                                          "aitrader_test_verdicts_total", "Verdicts", rej, 2),
                     r);
    metrics_add(r, 2);
    metrics_add(a, 1);
    const char *odd[] = {"code", "a\"b\\c\nd"};
    metrics_add(
        metrics_get_labelled("x", AT_METRIC_COUNTER, "aitrader_test_odd_total", "Odd", odd, 1), 1);
    const char *bad_key[] = {"instance", "y"}, *bad_name[] = {"9x", "y"}, *no_val[] = {"k", NULL};
    assert_null(
        metrics_get_labelled("x", AT_METRIC_COUNTER, "aitrader_test_odd_total", "Odd", bad_key, 1));
    assert_null(metrics_get_labelled("x", AT_METRIC_COUNTER, "aitrader_test_odd_total", "Odd",
                                     bad_name, 1));
    assert_null(
        metrics_get_labelled("x", AT_METRIC_COUNTER, "aitrader_test_odd_total", "Odd", no_val, 1));
    char *s = render();
    assert_non_null(strstr(s, "# TYPE aitrader_test_verdicts_total counter\n"
                              "aitrader_test_verdicts_total{instance=\"core.executor\",rule=\"risk."
                              "limits\",verdict=\"reject\"} 2\n"
                              "aitrader_test_verdicts_total{instance=\"core.executor\",rule=\"risk."
                              "limits\",verdict=\"approve\"} 1\n"
                              "# HELP aitrader_test_between_total"));
    assert_non_null(
        strstr(s, "aitrader_test_odd_total{instance=\"x\",code=\"a\\\"b\\\\c\\nd\"} 1\n"));
    free(s);
    /* label values come from events: the registry stops growing at its bound */
    char v[32];
    const char *kv[] = {"n", v};
    size_t made = 0;
    for (int i = 0; i < METRICS_MAX_LABELLED + 10; i++) {
        snprintf(v, sizeof(v), "%d", i);
        made += metrics_get_labelled("x", AT_METRIC_COUNTER, "aitrader_test_many_total", "Many", kv,
                                     1) != NULL;
    }
    assert_true(made < METRICS_MAX_LABELLED);
    assert_non_null(metrics_get_labelled("core.executor", AT_METRIC_COUNTER,
                                         "aitrader_test_verdicts_total", "Verdicts", rej, 2));
}

static int collected;

static void collect(void *arg)
{
    metrics_set(arg, ++collected);
}

/* A collector sets its values before each render. */
static void test_collector(void **state)
{
    at_metric *g = metrics_get("core", AT_METRIC_GAUGE, "aitrader_test_collected", "Collected");
    assert_int_equal(metrics_add_collector(collect, g), AT_OK);
    char *s = render();
    assert_non_null(strstr(s, "aitrader_test_collected{instance=\"core\"} 1\n"));
    free(s);
    s = render();
    assert_non_null(strstr(s, "aitrader_test_collected{instance=\"core\"} 2\n"));
    free(s);
    metrics_remove_collector(collect, g);
    s = render();
    assert_non_null(strstr(s, "aitrader_test_collected{instance=\"core\"} 2\n"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_labelled),
        cmocka_unit_test(test_collector),
    };
    int rc = cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
    metrics_shutdown();
    return rc;
}

/* Metrics registry: counters, gauges, histograms labelled by instance,
 * rendered in Prometheus text format. Main thread. */
#ifndef AT_CORE_METRICS_H
#define AT_CORE_METRICS_H

#include <stdio.h>

#include <aitrader/host.h>

/* Get or create (name, instance); NULL when name is invalid or registered
 * with another kind. */
at_metric *metrics_get(const char *instance, at_metric_kind kind, const char *name,
                       const char *help);
void metrics_add(at_metric *m, double v);
void metrics_set(at_metric *m, double v);
void metrics_observe(at_metric *m, double v);
double metrics_value(const at_metric *m); /* counter/gauge value, histogram count */
/* A module's own metrics (net's receive queue), rendered by fn(out, arg)
 * after the bus counters; AT_ENOMEM when the few slots are taken. */
int metrics_add_renderer(void (*fn)(FILE *out, void *arg), void *arg);
void metrics_remove_renderer(void (*fn)(FILE *out, void *arg), void *arg);
/* Every metric (grouped by name, HELP/TYPE once), then the bus counters,
 * then the renderers'. */
void metrics_render(FILE *out);
void metrics_shutdown(void);

#endif

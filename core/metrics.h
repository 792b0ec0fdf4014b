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
/* The same with labels after `instance`: `kv` holds npairs key/value
 * pairs (borrowed; keys are metric names other than instance and le,
 * values any text, escaped here). NULL when invalid, registered with another
 * kind, or when the labelled series reach their bound (METRICS_MAX_LABELLED:
 * label values come from events, and the registry must not grow without
 * end). */
#define METRICS_MAX_LABELLED 4096
at_metric *metrics_get_labelled(const char *instance, at_metric_kind kind, const char *name,
                                const char *help, const char *const *kv, size_t npairs);
void metrics_add(at_metric *m, double v);
void metrics_set(at_metric *m, double v);
void metrics_observe(at_metric *m, double v);
double metrics_value(const at_metric *m); /* counter/gauge value, histogram count */
/* A module's own metrics (net's receive queue), rendered by fn(out, arg)
 * after the bus counters; AT_ENOMEM when the few slots are taken. */
int metrics_add_renderer(void (*fn)(FILE *out, void *arg), void *arg);
void metrics_remove_renderer(void (*fn)(FILE *out, void *arg), void *arg);
/* fn(arg) runs at the start of every render, to set values read from
 * elsewhere at that moment (the engine's own counters); AT_ENOMEM when the
 * few slots are taken. */
int metrics_add_collector(void (*fn)(void *arg), void *arg);
void metrics_remove_collector(void (*fn)(void *arg), void *arg);
/* The collectors, then every metric (grouped by name, HELP/TYPE once), then
 * the bus counters, then the renderers'. */
void metrics_render(FILE *out);
void metrics_shutdown(void);

#endif

#include "metrics.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "util.h"

/* Latency buckets in microseconds. */
static const double buckets[] = {10,   50,    100,   250,   500,    1000,   2500,
                                 5000, 10000, 25000, 50000, 100000, 250000, 500000,
                                 1e6,  2.5e6, 5e6,   10e6,  30e6};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct at_metric {
    char *name;
    char *help;
    char *instance;
    at_metric_kind kind;
    double value; /* counter, gauge */
    double sum;   /* histogram */
    uint64_t count;
    uint64_t bucket[NBUCKETS];
    struct at_metric *next;
};

static at_metric *metrics_head;

/* Modules that keep their own counters (updated off the main thread). */
#define MAX_RENDERERS 4
static struct {
    void (*fn)(FILE *out, void *arg);
    void *arg;
} renderers[MAX_RENDERERS];

int metrics_add_renderer(void (*fn)(FILE *out, void *arg), void *arg)
{
    for (size_t i = 0; i < MAX_RENDERERS; i++) {
        if (!renderers[i].fn) {
            renderers[i].fn = fn;
            renderers[i].arg = arg;
            return AT_OK;
        }
    }
    return AT_ENOMEM;
}

void metrics_remove_renderer(void (*fn)(FILE *out, void *arg), void *arg)
{
    for (size_t i = 0; i < MAX_RENDERERS; i++) {
        if (renderers[i].fn == fn && renderers[i].arg == arg) {
            renderers[i].fn = NULL;
            renderers[i].arg = NULL;
        }
    }
}

static bool valid_name(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_')) {
        return false;
    }
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':') {
            return false;
        }
    }
    return true;
}

at_metric *metrics_get(const char *instance, at_metric_kind kind, const char *name,
                       const char *help)
{
    if (!valid_name(name)) {
        return NULL;
    }
    instance = instance ? instance : "core";
    at_metric *last = NULL;
    for (at_metric *m = metrics_head; m; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            if (m->kind != kind) {
                return NULL;
            }
            if (strcmp(m->instance, instance) == 0) {
                return m;
            }
        }
        last = m;
    }
    at_metric *m = calloc(1, sizeof(*m));
    if (!m) {
        return NULL;
    }
    m->name = at_strdup(name);
    m->help = at_strdup(help ? help : "");
    m->instance = at_strdup(instance);
    m->kind = kind;
    if (!m->name || !m->help || !m->instance) {
        free(m->name);
        free(m->help);
        free(m->instance);
        free(m);
        return NULL;
    }
    /* Append to keep registration order stable in the output. */
    if (last) {
        last->next = m;
    } else {
        metrics_head = m;
    }
    return m;
}

void metrics_add(at_metric *m, double v)
{
    if (m && (m->kind != AT_METRIC_COUNTER || v >= 0)) {
        m->value += v;
    }
}

void metrics_set(at_metric *m, double v)
{
    if (m) {
        m->value = v;
    }
}

void metrics_observe(at_metric *m, double v)
{
    if (!m || m->kind != AT_METRIC_HISTOGRAM) {
        return;
    }
    m->count++;
    m->sum += v;
    for (size_t i = 0; i < NBUCKETS; i++) {
        if (v <= buckets[i]) {
            m->bucket[i]++;
        }
    }
}

double metrics_value(const at_metric *m)
{
    if (!m) {
        return 0;
    }
    return m->kind == AT_METRIC_HISTOGRAM ? (double)m->count : m->value;
}

static void escape_help(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\') {
            fputs("\\\\", out);
        } else if (*s == '\n') {
            fputs("\\n", out);
        } else {
            fputc(*s, out);
        }
    }
}

void metrics_render(FILE *out)
{
    static const char *kinds[] = {"counter", "gauge", "histogram"};
    for (at_metric *m = metrics_head; m; m = m->next) {
        /* HELP/TYPE once per name: only at its first occurrence. */
        bool first = true;
        for (at_metric *p = metrics_head; p != m; p = p->next) {
            if (strcmp(p->name, m->name) == 0) {
                first = false;
                break;
            }
        }
        if (first) {
            fprintf(out, "# HELP %s ", m->name);
            escape_help(out, m->help);
            fprintf(out, "\n# TYPE %s %s\n", m->name, kinds[m->kind]);
        }
        if (m->kind != AT_METRIC_HISTOGRAM) {
            fprintf(out, "%s{instance=\"%s\"} %.17g\n", m->name, m->instance, m->value);
            continue;
        }
        for (size_t i = 0; i < NBUCKETS; i++) {
            fprintf(out, "%s_bucket{instance=\"%s\",le=\"%g\"} %llu\n", m->name, m->instance,
                    buckets[i], (unsigned long long)m->bucket[i]);
        }
        fprintf(out, "%s_bucket{instance=\"%s\",le=\"+Inf\"} %llu\n", m->name, m->instance,
                (unsigned long long)m->count);
        fprintf(out, "%s_sum{instance=\"%s\"} %.17g\n", m->name, m->instance, m->sum);
        fprintf(out, "%s_count{instance=\"%s\"} %llu\n", m->name, m->instance,
                (unsigned long long)m->count);
    }
    bus_render_metrics(out);
    for (size_t i = 0; i < MAX_RENDERERS; i++) {
        if (renderers[i].fn) {
            renderers[i].fn(out, renderers[i].arg);
        }
    }
}

void metrics_shutdown(void)
{
    for (at_metric *m = metrics_head, *n; m; m = n) {
        n = m->next;
        free(m->name);
        free(m->help);
        free(m->instance);
        free(m);
    }
    metrics_head = NULL;
}

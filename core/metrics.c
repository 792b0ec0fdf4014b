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
    char *labels; /* more labels after instance, rendered ("k=\"v\",…"), or NULL */
    at_metric_kind kind;
    double value; /* counter, gauge */
    double sum;   /* histogram */
    uint64_t count;
    uint64_t bucket[NBUCKETS];
    struct at_metric *next;
};

static at_metric *metrics_head;
static size_t nlabelled;

/* Modules that keep their own counters (updated off the main thread). */
#define MAX_RENDERERS 4
static struct {
    void (*fn)(FILE *out, void *arg);
    void *arg;
} renderers[MAX_RENDERERS];

static struct {
    void (*fn)(void *arg);
    void *arg;
} collectors[MAX_RENDERERS];

int metrics_add_collector(void (*fn)(void *arg), void *arg)
{
    for (size_t i = 0; i < MAX_RENDERERS; i++) {
        if (!collectors[i].fn) {
            collectors[i].fn = fn;
            collectors[i].arg = arg;
            return AT_OK;
        }
    }
    return AT_ENOMEM;
}

void metrics_remove_collector(void (*fn)(void *arg), void *arg)
{
    for (size_t i = 0; i < MAX_RENDERERS; i++) {
        if (collectors[i].fn == fn && collectors[i].arg == arg) {
            collectors[i].fn = NULL;
            collectors[i].arg = NULL;
        }
    }
}

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

static void metric_free(at_metric *m)
{
    free(m->name);
    free(m->help);
    free(m->instance);
    free(m->labels);
    free(m);
}

/* (name, instance, labels) found or added; labels NULL or rendered. */
static at_metric *get(const char *instance, at_metric_kind kind, const char *name, const char *help,
                      const char *labels)
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
            if (strcmp(m->instance, instance) == 0 &&
                strcmp(m->labels ? m->labels : "", labels ? labels : "") == 0) {
                return m;
            }
        }
        last = m;
    }
    if (labels && nlabelled >= METRICS_MAX_LABELLED) {
        return NULL;
    }
    at_metric *m = calloc(1, sizeof(*m));
    if (!m) {
        return NULL;
    }
    m->name = at_strdup(name);
    m->help = at_strdup(help ? help : "");
    m->instance = at_strdup(instance);
    m->labels = labels ? at_strdup(labels) : NULL;
    m->kind = kind;
    if (!m->name || !m->help || !m->instance || (labels && !m->labels)) {
        metric_free(m);
        return NULL;
    }
    nlabelled += labels != NULL;
    /* Append to keep registration order stable in the output. */
    if (last) {
        last->next = m;
    } else {
        metrics_head = m;
    }
    return m;
}

at_metric *metrics_get(const char *instance, at_metric_kind kind, const char *name,
                       const char *help)
{
    return get(instance, kind, name, help, NULL);
}

at_metric *metrics_get_labelled(const char *instance, at_metric_kind kind, const char *name,
                                const char *help, const char *const *kv, size_t npairs)
{
    if (!npairs) {
        return get(instance, kind, name, help, NULL);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = kv ? open_memstream(&buf, &len) : NULL;
    if (!f) {
        return NULL;
    }
    bool ok = true;
    for (size_t i = 0; i < npairs && ok; i++) {
        const char *k = kv[2 * i], *v = kv[2 * i + 1];
        ok = valid_name(k) && !strchr(k, ':') && strcmp(k, "instance") != 0 &&
             strcmp(k, "le") != 0 && v;
        fprintf(f, "%s%s=\"", i ? "," : "", ok ? k : "");
        for (; ok && *v; v++) { /* the text format's escapes in a label value */
            if (*v == '\\' || *v == '"') {
                fputc('\\', f);
                fputc(*v, f);
            } else if (*v == '\n') {
                fputs("\\n", f);
            } else {
                fputc(*v, f);
            }
        }
        fputc('"', f);
    }
    ok &= fclose(f) == 0;
    at_metric *m = ok ? get(instance, kind, name, help, buf) : NULL;
    free(buf);
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

static void render_one(FILE *out, const at_metric *m)
{
    const char *sep = m->labels ? "," : "", *lb = m->labels ? m->labels : "";
    if (m->kind != AT_METRIC_HISTOGRAM) {
        fprintf(out, "%s{instance=\"%s\"%s%s} %.17g\n", m->name, m->instance, sep, lb, m->value);
        return;
    }
    for (size_t i = 0; i < NBUCKETS; i++) {
        fprintf(out, "%s_bucket{instance=\"%s\"%s%s,le=\"%g\"} %llu\n", m->name, m->instance, sep,
                lb, buckets[i], (unsigned long long)m->bucket[i]);
    }
    fprintf(out, "%s_bucket{instance=\"%s\"%s%s,le=\"+Inf\"} %llu\n", m->name, m->instance, sep, lb,
            (unsigned long long)m->count);
    fprintf(out, "%s_sum{instance=\"%s\"%s%s} %.17g\n", m->name, m->instance, sep, lb, m->sum);
    fprintf(out, "%s_count{instance=\"%s\"%s%s} %llu\n", m->name, m->instance, sep, lb,
            (unsigned long long)m->count);
}

void metrics_render(FILE *out)
{
    static const char *kinds[] = {"counter", "gauge", "histogram"};
    for (size_t i = 0; i < MAX_RENDERERS; i++) {
        if (collectors[i].fn) {
            collectors[i].fn(collectors[i].arg);
        }
    }
    for (at_metric *m = metrics_head; m; m = m->next) {
        /* A family once, at its first registration, with all its series
         * together (the text format wants them so; a series added later,
         * by another instance or label value, sits further down the list). */
        bool first = true;
        for (at_metric *p = metrics_head; p != m; p = p->next) {
            if (strcmp(p->name, m->name) == 0) {
                first = false;
                break;
            }
        }
        if (!first) {
            continue;
        }
        fprintf(out, "# HELP %s ", m->name);
        escape_help(out, m->help);
        fprintf(out, "\n# TYPE %s %s\n", m->name, kinds[m->kind]);
        for (const at_metric *p = m; p; p = p->next) {
            if (p == m || strcmp(p->name, m->name) == 0) {
                render_one(out, p);
            }
        }
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
        metric_free(m);
    }
    metrics_head = NULL;
    nlabelled = 0;
}

/* A well-behaved test plugin that records its lifecycle and exercises the
 * host: every config type, bus publish/subscribe, timers. It logs one line
 * per lifecycle step ("probe <instance>: init|start|stop|destroy") that the
 * runtime tests read, and can be told to fail its start. */
#include <stdio.h>
#include <string.h>

#include <aitrader/plugin.h>

struct probe {
    at_instance *inst;
    const at_host *host;
    const char *label;
    int64_t count;
    bool flag;
    double ratio;
    int64_t period_ms;
    int64_t cap_bytes;
    int color;
    at_cfg_list items;
    const char *secret;
    bool fail_start;
    int64_t publish_n;
    at_timer *timer;
    at_timer *once;
    int sub;
    int64_t seen;
};

static const char *const colors[] = {"red", "green", "blue", NULL};

static const at_cfg_field schema[] = {
    {"label", AT_CFG_STR, "probe", 0, offsetof(struct probe, label), 0, 0, NULL, "a name"},
    {"count", AT_CFG_INT, "3", AT_CFG_RANGE, offsetof(struct probe, count), 0, 1000, NULL,
     "a bounded integer"},
    {"flag", AT_CFG_BOOL, "false", 0, offsetof(struct probe, flag), 0, 0, NULL, "a boolean"},
    {"ratio", AT_CFG_DOUBLE, "0.5", AT_CFG_RANGE, offsetof(struct probe, ratio), 0, 1, NULL,
     "a fraction"},
    {"period", AT_CFG_DURATION, "50ms", 0, offsetof(struct probe, period_ms), 0, 0, NULL,
     "timer period"},
    {"cap", AT_CFG_SIZE, "1M", 0, offsetof(struct probe, cap_bytes), 0, 0, NULL, "a size"},
    {"color", AT_CFG_ENUM, "red", 0, offsetof(struct probe, color), 0, 0, colors, "a choice"},
    {"items", AT_CFG_LIST, "a, b", 0, offsetof(struct probe, items), 0, 0, NULL, "a list"},
    {"secret", AT_CFG_SECRET, NULL, 0, offsetof(struct probe, secret), 0, 0, NULL,
     "a secret (logged redacted at start)"},
    {"fail_start", AT_CFG_BOOL, "false", 0, offsetof(struct probe, fail_start), 0, 0, NULL,
     "make start() fail"},
    {"publish", AT_CFG_INT, "0", 0, offsetof(struct probe, publish_n), 0, 0, NULL,
     "alerts to publish at start"},
    {0},
};

static void on_alert(void *arg, const at_event *ev)
{
    struct probe *p = arg;
    p->seen++;
}

static void on_tick(void *arg)
{
    struct probe *p = arg;
    p->host->log(p->inst, AT_LOG_DEBUG, "tick");
}

static void on_once(void *arg)
{
    struct probe *p = arg;
    p->host->log(p->inst, AT_LOG_INFO, "probe %s: one-shot fired", p->host->instance_name(p->inst));
}

/* Beyond the schema: a label of "refuse-me" is refused (check-config test). */
static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const struct probe *p = ctx;
    if (p->label && strcmp(p->label, "refuse-me") == 0) {
        *key = "label";
        snprintf(why, whylen, "label '%s' is refused by the probe's own check", p->label);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    struct probe *p = ctx;
    p->inst = inst;
    p->host = host;
    host->log(inst, AT_LOG_INFO, "probe %s: init label=%s count=%lld items=%zu",
              host->instance_name(inst), p->label, (long long)p->count, p->items.n);
    return AT_OK;
}

static int start(void *ctx)
{
    struct probe *p = ctx;
    p->host->log(p->inst, AT_LOG_INFO, "probe %s: start", p->host->instance_name(p->inst));
    if (p->secret) {
        p->host->log(p->inst, AT_LOG_INFO, "probe secret is %s", p->secret);
    }
    if (p->fail_start) {
        p->host->log(p->inst, AT_LOG_ERROR, "probe: failing start as configured");
        return AT_EPLUGIN;
    }
    p->sub = p->host->subscribe(p->inst, AT_EV_ALERT, on_alert, p);
    p->timer = p->host->timer_add(p->inst, p->period_ms, p->period_ms, on_tick, p);
    p->once = p->host->timer_add(p->inst, 1, 0, on_once, p);
    for (int64_t i = 0; i < p->publish_n; i++) {
        at_ev_alert *a = (at_ev_alert *)p->host->event_new(p->inst, AT_EV_ALERT, 32);
        a->level = AT_LOG_INFO;
        a->message = p->host->event_strdup(&a->h, "probe alert");
        p->host->publish(p->inst, &a->h, 0);
    }
    return AT_OK;
}

static void stop(void *ctx)
{
    struct probe *p = ctx;
    p->host->log(p->inst, AT_LOG_INFO, "probe %s: stop seen=%lld", p->host->instance_name(p->inst),
                 (long long)p->seen);
    p->host->unsubscribe(p->inst, p->sub);
}

/* The timers are cancelled here, after the engine freed them with the
 * instance's stop (and the one-shot after it fired): handles are checked by
 * generation, so these late cancels are no-ops (ASan runs prove it). */
static void destroy(void *ctx)
{
    struct probe *p = ctx;
    p->host->timer_cancel(p->timer);
    p->host->timer_cancel(p->once);
    p->host->timer_cancel(p->once);
    p->host->log(p->inst, AT_LOG_INFO, "probe %s: destroy", p->host->instance_name(p->inst));
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "probe",
    .version = "1.0.0",
    .description = "test plugin: records its lifecycle, exercises every config type",
    .config = schema,
    .ctx_size = sizeof(struct probe),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

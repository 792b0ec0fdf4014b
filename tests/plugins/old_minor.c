/* A plugin built against the previous minor ABI's headers (tests/abi/v1.2,
 * a verbatim copy of include/aitrader at ABI 1.2): a minor version promises
 * that it loads and runs in this engine unchanged. It uses what third-party
 * plugins use most (config of several types, subscribe and publish, a
 * timer, a 1.1 host function) and logs one line per step for the tests. */
#include <stdio.h>
#include <string.h>

#include <aitrader/plugin.h>

#if AT_ABI_MINOR != 2
#error "old_minor.c must be built against tests/abi/v1.2"
#endif

struct old {
    at_instance *inst;
    const at_host *host;
    const char *label;
    int64_t count;
    at_cfg_list items;
    int64_t period_ms;
    at_timer *tick;
    int sub;
    int64_t seen;
};

static const at_cfg_field schema[] = {
    {"label", AT_CFG_STR, "old", 0, offsetof(struct old, label), 0, 0, NULL, "a name"},
    {"count", AT_CFG_INT, "2", AT_CFG_RANGE, offsetof(struct old, count), 0, 100, NULL,
     "alerts to publish"},
    {"items", AT_CFG_LIST, "x, y", 0, offsetof(struct old, items), 0, 0, NULL, "a list"},
    {"period", AT_CFG_DURATION, "5ms", 0, offsetof(struct old, period_ms), 0, 0, NULL,
     "one-shot delay"},
    {0},
};

static void on_alert(void *arg, const at_event *ev)
{
    struct old *o = arg;
    const at_ev_alert *a = (const at_ev_alert *)ev;
    if (a->message && strncmp(a->message, "old_minor ", 10) == 0) {
        o->seen++;
        o->host->log(o->inst, AT_LOG_INFO, "old_minor: got alert %lld version %u",
                     (long long)o->seen, (unsigned)ev->version);
    }
}

static void on_tick(void *arg)
{
    struct old *o = arg;
    at_dec a, b, r;
    char buf[AT_DEC_STRLEN];
    o->host->dec_parse("1.25", (size_t)-1, &a);
    o->host->dec_parse("3", (size_t)-1, &b);
    o->host->dec_mul_round(a, b, 1, AT_ROUND_DOWN, &r);
    o->host->dec_format(r, buf);
    o->host->log(o->inst, AT_LOG_INFO, "old_minor: tick 1.25*3=%s seen=%lld", buf,
                 (long long)o->seen);
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    struct old *o = ctx;
    o->inst = inst;
    o->host = host;
    host->log(inst, AT_LOG_INFO, "old_minor: init label=%s count=%lld items=%zu:%s,%s host=%u.%u",
              o->label, (long long)o->count, o->items.n, o->items.n > 0 ? o->items.items[0] : "",
              o->items.n > 1 ? o->items.items[1] : "", (unsigned)host->abi_major,
              (unsigned)host->abi_minor);
    return AT_OK;
}

static int start(void *ctx)
{
    struct old *o = ctx;
    o->sub = o->host->subscribe(o->inst, AT_EV_ALERT, on_alert, o);
    for (int64_t i = 0; i < o->count; i++) {
        at_ev_alert *a = (at_ev_alert *)o->host->event_new(o->inst, AT_EV_ALERT, 64);
        if (!a) {
            return AT_ENOMEM;
        }
        char msg[48];
        snprintf(msg, sizeof(msg), "old_minor %s #%lld", o->label, (long long)i);
        a->level = AT_LOG_INFO;
        a->message = o->host->event_strdup(&a->h, msg);
        o->host->publish(o->inst, &a->h, 0);
    }
    o->tick = o->host->timer_add(o->inst, o->period_ms, 0, on_tick, o);
    return o->tick ? AT_OK : AT_ENOMEM;
}

static void stop(void *ctx)
{
    struct old *o = ctx;
    o->host->unsubscribe(o->inst, o->sub);
    o->host->log(o->inst, AT_LOG_INFO, "old_minor: stop seen=%lld", (long long)o->seen);
}

static void destroy(void *ctx)
{
    struct old *o = ctx;
    o->host->timer_cancel(o->tick); /* fired long ago: a no-op */
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "oldminor",
    .version = "1.2.0",
    .description = "test plugin built against the ABI 1.2 headers",
    .config = schema,
    .ctx_size = sizeof(struct old),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

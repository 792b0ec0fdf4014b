/* A complete third-party plugin: built out of tree against the installed SDK
 * (pkg-config aitrader-plugin), loaded by the installed engine.
 *
 * It greets at start, counts the events it sees on the bus, and every
 * `interval` logs and stores (audit_log) what it counted. */
#include <inttypes.h>
#include <stdio.h>

#include <aitrader/plugin.h>

struct hello {
    at_instance *inst;
    const at_host *host;
    /* config, written by the engine */
    const char *greeting;
    int64_t interval_ms;
    /* state */
    at_timer *timer;
    int sub;
    uint64_t seen;
    uint64_t reports;
};

static const at_cfg_field schema[] = {
    {"greeting", AT_CFG_STR, "hello from a third-party plugin", 0, offsetof(struct hello, greeting),
     0, 0, NULL, "logged once at start"},
    {"interval", AT_CFG_DURATION, "10s", AT_CFG_RANGE, offsetof(struct hello, interval_ms), 100,
     3600000, NULL, "how often to report the events seen"},
    {0},
};

static void on_event(void *arg, const at_event *ev)
{
    struct hello *h = arg;
    h->seen++;
}

static void on_timer(void *arg)
{
    struct hello *h = arg;
    char id[64], msg[128];
    h->reports++;
    snprintf(id, sizeof(id), "hello-%" PRId64 "-%" PRIu64, h->host->now_us(), h->reports);
    snprintf(msg, sizeof(msg), "seen %" PRIu64 " events", h->seen);
    h->host->log(h->inst, AT_LOG_INFO, "%s", msg);
    const at_db_value params[] = {AT_DB_S(id), AT_DB_I(h->host->now_us() / 1000),
                                  AT_DB_S(h->host->instance_name(h->inst)), AT_DB_S(msg)};
    h->host->db_write(h->inst,
                      "INSERT INTO audit_log (id, ts_ms, instance, kind, message) "
                      "VALUES ($1, $2, $3, 'hello', $4)",
                      params, 4, NULL, NULL);
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    struct hello *h = ctx;
    h->inst = inst;
    h->host = host;
    return AT_OK;
}

static int start(void *ctx)
{
    struct hello *h = ctx;
    h->host->log(h->inst, AT_LOG_INFO, "%s", h->greeting);
    h->sub = h->host->subscribe(h->inst, AT_EV_NONE, on_event, h);
    h->timer = h->host->timer_add(h->inst, h->interval_ms, h->interval_ms, on_timer, h);
    return h->sub > 0 && h->timer ? AT_OK : AT_ENOMEM;
}

static void stop(void *ctx)
{
    struct hello *h = ctx;
    h->host->timer_cancel(h->timer);
    h->host->unsubscribe(h->inst, h->sub);
    h->host->log(h->inst, AT_LOG_INFO, "goodbye after %" PRIu64 " events", h->seen);
}

static void destroy(void *ctx)
{
    (void)ctx; /* nothing allocated */
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "hello",
    .version = "1.0.0",
    .description = "example third-party plugin: greets, counts bus events, reports",
    .config = schema,
    .ctx_size = sizeof(struct hello),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

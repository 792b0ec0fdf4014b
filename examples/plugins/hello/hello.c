/* A complete third-party plugin: built out of tree against the installed SDK
 * (pkg-config aitrader-plugin), loaded by the installed engine. It shows what
 * a plugin author does most:
 *   - a config schema, plus a check of its own (check_config, ABI 1.3);
 *   - a timer;
 *   - an HTTP request (GET `url`, a plain-text number such as an index value);
 *   - publishing an event (AT_EV_SENTIMENT with that number);
 *   - subscribing to events (it counts every event and its own readings);
 *   - a storage write (a report row in audit_log every `interval`).
 * Everything runs on the engine's main loop: no threads, no locks. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

struct hello {
    at_instance *inst;
    const at_host *host;
    /* config, written by the engine before init */
    const char *greeting;
    int64_t interval_ms;
    const char *url;
    /* state */
    at_timer *timer;
    int64_t req; /* the HTTP request in flight, or 0 */
    int sub_all, sub_sentiment;
    uint64_t seen, readings, reports;
};

static const at_cfg_field schema[] = {
    {"greeting", AT_CFG_STR, "hello from a third-party plugin", 0, offsetof(struct hello, greeting),
     0, 0, NULL, "logged once at start"},
    {"interval", AT_CFG_DURATION, "10s", AT_CFG_RANGE, offsetof(struct hello, interval_ms), 100,
     3600000, NULL, "how often to fetch `url` and report what was seen"},
    {"url", AT_CFG_STR, NULL, 0, offsetof(struct hello, url), 0, 0, NULL,
     "http(s) URL answering a plain number, published as a sentiment reading (optional)"},
    {0},
};

/* What the schema cannot say: the URL's scheme. check-config and run both
 * refuse a bad one at its FILE:LINE, before anything starts. */
static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const struct hello *h = ctx;
    if (h->url && strncmp(h->url, "http://", 7) != 0 && strncmp(h->url, "https://", 8) != 0) {
        *key = "url";
        snprintf(why, whylen, "'%s' is not an http:// or https:// URL", h->url);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static void on_any_event(void *arg, const at_event *ev)
{
    struct hello *h = arg;
    (void)ev;
    h->seen++;
}

static void on_sentiment(void *arg, const at_event *ev)
{
    struct hello *h = arg;
    const at_ev_sentiment *s = (const at_ev_sentiment *)ev;
    if (s->feed && strcmp(s->feed, "hello") == 0) {
        h->readings++;
        h->host->log(h->inst, AT_LOG_INFO, "reading %" PRIu64 " received: %g", h->readings,
                     s->value);
    }
}

/* The HTTP answer: a number becomes a published event; anything else is
 * logged and dropped (bad input gets a clear error, never a default). */
static void on_http(void *arg, const at_http_resp *resp)
{
    struct hello *h = arg;
    h->req = 0;
    if (resp->err == AT_ESTATE) {
        return; /* cancelled by stop() */
    }
    if (resp->err != AT_OK || resp->status != 200) {
        h->host->log(h->inst, AT_LOG_WARN, "GET %s failed: status %d, %s", h->url, resp->status,
                     resp->error ? resp->error : "no transport error");
        return;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(resp->body, &end);
    while (end && (*end == '\n' || *end == '\r' || *end == ' ')) {
        end++;
    }
    if (end == resp->body || !end || *end || errno || !isfinite(v)) {
        h->host->log(h->inst, AT_LOG_WARN, "GET %s: answer is not a number (%zu bytes)", h->url,
                     resp->len);
        return;
    }
    at_ev_sentiment *s = (at_ev_sentiment *)h->host->event_new(h->inst, AT_EV_SENTIMENT, 16);
    if (!s) {
        return;
    }
    s->feed = h->host->event_strdup(&s->h, "hello");
    s->value = v;
    s->as_of_ms = h->host->now_us() / 1000;
    h->host->publish(h->inst, &s->h, 0); /* the reference goes to the bus */
    h->host->log(h->inst, AT_LOG_INFO, "published sentiment %g", v);
}

static void on_timer(void *arg)
{
    struct hello *h = arg;
    if (h->url && !h->req) {
        at_http_req r = {.method = "GET", .url = h->url, .timeout_ms = 5000, .max_retries = 2};
        int64_t id = h->host->http_request(h->inst, &r, on_http, h);
        h->req = id > 0 ? id : 0;
    }
    char id[64], msg[128];
    h->reports++;
    snprintf(id, sizeof(id), "hello-%" PRId64 "-%" PRIu64, h->host->now_us(), h->reports);
    snprintf(msg, sizeof(msg), "seen %" PRIu64 " events, %" PRIu64 " readings", h->seen,
             h->readings);
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
    h->sub_all = h->host->subscribe(h->inst, AT_EV_NONE, on_any_event, h);
    h->sub_sentiment = h->host->subscribe(h->inst, AT_EV_SENTIMENT, on_sentiment, h);
    h->timer = h->host->timer_add(h->inst, h->interval_ms, h->interval_ms, on_timer, h);
    return h->sub_all > 0 && h->sub_sentiment > 0 && h->timer ? AT_OK : AT_ENOMEM;
}

static void stop(void *ctx)
{
    struct hello *h = ctx;
    h->host->timer_cancel(h->timer); /* handles are checked: cancelling twice is harmless */
    if (h->req) {
        h->host->http_cancel(h->req); /* on_http still runs once, with AT_ESTATE */
    }
    h->host->unsubscribe(h->inst, h->sub_all);
    h->host->unsubscribe(h->inst, h->sub_sentiment);
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
    .version = "1.1.0",
    .description = "example third-party plugin: fetches a number, publishes it, counts, reports",
    .config = schema,
    .ctx_size = sizeof(struct hello),
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

/* source_feargreed: alternative.me's Crypto Fear & Greed Index as sentiment
 * readings (the `sentiment` table, feed "feargreed", and SENTIMENT events).
 *
 *   [source.fng]
 *   module = feargreed
 *
 * GET https://api.alternative.me/fng/?limit=N&format=json answers
 * {"data": [{"value": "54", "value_classification": "Neutral",
 *   "timestamp": "1713628800", "time_until_update": "3600"}, …],
 *  "metadata": {"error": null}}, newest first, every number a string. The
 * index changes once a day: the next request goes out when the answer says
 * the next value comes (time_until_update, plus a minute), else after
 * `interval`. At the first start `history` days are asked for; after that
 * the readings newer than the last one stored are kept and published, oldest
 * first. A reading that cannot be used (a value outside 0..100, a time that
 * is not one) is refused with the reason, never stored as 0. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <aitrader/plugin.h>

#include "aic.h"

#define FEED "feargreed"
#define BACKOFF_MAX_MS (6LL * 3600 * 1000)

typedef struct fng_ctx {
    at_instance *inst;
    const at_host *h;
    /* config */
    const char *url, *proxy;
    int64_t history, interval_ms, timeout_ms;
    /* state */
    bool started, loaded;
    int64_t last_ms; /* the newest reading stored */
    int64_t http_id;
    int fails;
    at_timer *next;
} fng_ctx;

#define F(name, type, def, flags, member, lo, hi, desc)                                            \
    {                                                                                              \
        name, type, def, flags, offsetof(fng_ctx, member), lo, hi, NULL, desc                      \
    }

static const at_cfg_field schema[] = {
    F("url", AT_CFG_STR, "https://api.alternative.me/fng/", 0, url, 0, 0,
      "the index's API (limit and format are added)"),
    F("history", AT_CFG_INT, "30", AT_CFG_RANGE, history, 1, 3650,
      "days of history asked for at the first start (nothing stored yet)"),
    F("interval", AT_CFG_DURATION, "1h", AT_CFG_RANGE, interval_ms, 1000, 86400000,
      "how often it is asked when the answer does not say when the next value comes"),
    F("timeout", AT_CFG_DURATION, "20s", AT_CFG_RANGE, timeout_ms, 1000, 300000,
      "the request's deadline"),
    F("proxy", AT_CFG_STR, NULL, 0, proxy, 0, 0,
      "http://host:port for these requests; none = direct; unset = [core] proxy"),
    {0},
};

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const fng_ctx *c = ctx;
    *key = "url";
    if (!(strncmp(c->url, "http://", 7) == 0 || strncmp(c->url, "https://", 8) == 0) ||
        strpbrk(c->url, " \t\r\n?#")) {
        snprintf(why, whylen, "'%.200s' is not an http(s) URL without a query", c->url);
        return AT_ECONFIG;
    }
    *key = "proxy";
    if (!at_proxy_valid(c->proxy)) {
        snprintf(why, whylen,
                 "expected http://host:port (or http://user:password@host:port, or "
                 "none)");
        return AT_ECONFIG;
    }
    *key = NULL;
    return AT_OK;
}

static void ask(void *arg);

static void later(fng_ctx *c, int64_t ms)
{
    if (c->next) {
        c->h->timer_cancel(c->next);
    }
    c->next = c->h->timer_add(c->inst, ms > 0 ? ms : 1, 0, ask, c);
}

/* Asked again after a backoff, or the server's Retry-After when longer. */
static void failed(fng_ctx *c, const char *why, int64_t retry_after_ms)
{
    int64_t wait = aic_backoff_ms(c->interval_ms < 60000 ? c->interval_ms : 60000, c->fails++,
                                  BACKOFF_MAX_MS, retry_after_ms);
    c->h->log(c->inst, c->fails == 1 ? AT_LOG_WARN : AT_LOG_INFO,
              "the index could not be read: %s; asked again in %" PRId64 " s", why, wait / 1000);
    c->h->set_state(c->inst, AT_STATE_DEGRADED, why);
    later(c, wait);
}

/* A decimal integer of the string member k within [lo, hi] into *v. */
static bool int_of(const json_t *o, const char *k, long long lo, long long hi, long long *v)
{
    const char *s = json_string_value(json_object_get(o, k));
    char *end;
    if (!s || !*s) {
        return false;
    }
    long long x = strtoll(s, &end, 10);
    if (*end || x < lo || x > hi) {
        return false;
    }
    *v = x;
    return true;
}

static void keep(fng_ctx *c, int64_t as_of_ms, long long value, const char *label)
{
    const at_db_value p[] = {AT_DB_S(FEED), AT_DB_I(as_of_ms), AT_DB_R((double)value),
                             AT_DB_S(label)};
    c->h->db_write(c->inst,
                   "INSERT INTO sentiment (feed, as_of_ms, value, label) VALUES ($1, $2, $3, $4) "
                   "ON CONFLICT (feed, as_of_ms) DO NOTHING",
                   p, 4, NULL, NULL);
    at_ev_sentiment *e = (at_ev_sentiment *)c->h->event_new(
        c->inst, AT_EV_SENTIMENT, strlen(FEED) + (label ? strlen(label) : 0) + 2);
    if (!e) {
        return;
    }
    e->feed = c->h->event_strdup(&e->h, FEED);
    e->label = label ? c->h->event_strdup(&e->h, label) : NULL;
    e->value = (double)value;
    e->as_of_ms = as_of_ms;
    c->h->publish(c->inst, &e->h, 0);
}

static void on_answer(void *arg, const at_http_resp *r)
{
    fng_ctx *c = arg;
    c->http_id = 0;
    if (!c->started) {
        return;
    }
    char why[200];
    if (r->err != AT_OK) {
        snprintf(why, sizeof(why), "no answer: %s", r->error ? r->error : "transport error");
        failed(c, why, -1);
        return;
    }
    if (r->status != 200) {
        snprintf(why, sizeof(why), "HTTP %d%s", r->status,
                 r->status == 429 ? " (rate limited)" : "");
        failed(c, why, aic_retry_after_ms(r->headers, r->nheaders, c->h->now_us() / 1000));
        return;
    }
    json_error_t je;
    json_t *root = json_loadb(r->body, r->len, 0, &je);
    const json_t *data = json_object_get(root, "data");
    const char *err =
        json_string_value(json_object_get(json_object_get(root, "metadata"), "error"));
    if (!root || !json_is_array(data) || err) {
        snprintf(why, sizeof(why), "%s%s",
                 !root ? "not JSON: "
                 : err ? "the API says: "
                       : "no data array in the answer",
                 !root ? je.text
                 : err ? err
                       : "");
        json_decref(root);
        failed(c, why, -1);
        return;
    }
    /* newest first: take them oldest first, the ones newer than the last kept */
    size_t kept = 0, refused = 0;
    long long next_s = 0, latest = 0;
    char latest_label[40] = "";
    for (size_t i = json_array_size(data); i-- > 0;) {
        const json_t *d = json_array_get(data, i);
        long long v, ts;
        const char *label = json_string_value(json_object_get(d, "value_classification"));
        if (!int_of(d, "value", 0, 100, &v) || !int_of(d, "timestamp", 1, 32503680000LL, &ts)) {
            if (refused++ == 0) {
                char *txt = json_dumps(d, JSON_COMPACT);
                c->h->log(c->inst, AT_LOG_WARN,
                          "a reading refused (value 0..100 and a time in seconds wanted): %.160s",
                          txt ? txt : "?");
                free(txt);
            }
            continue;
        }
        if (i == 0) {
            int_of(d, "time_until_update", 0, 7 * 86400, &next_s);
        }
        if (ts * 1000 <= c->last_ms) {
            continue;
        }
        keep(c, ts * 1000, v, label && *label ? label : NULL);
        c->last_ms = ts * 1000;
        kept++;
        latest = v;
        snprintf(latest_label, sizeof(latest_label), "%s", label ? label : "");
    }
    json_decref(root);
    if (kept) {
        c->h->log(c->inst, AT_LOG_INFO, "%zu new reading%s, the latest %lld (%s)", kept,
                  kept == 1 ? "" : "s", latest, latest_label[0] ? latest_label : "no label");
    }
    c->fails = 0;
    c->h->set_state(c->inst, AT_STATE_UP, refused ? "some readings refused" : NULL);
    later(c, next_s > 0 ? next_s * 1000 + 60000 : c->interval_ms);
}

static void ask(void *arg)
{
    fng_ctx *c = arg;
    c->next = NULL;
    if (c->http_id > 0) {
        return;
    }
    char url[1200];
    snprintf(url, sizeof(url), "%s?limit=%lld&format=json", c->url,
             c->last_ms > 0 ? 2LL : (long long)c->history);
    const char *hdrs[] = {"Accept: application/json"};
    at_http_req req = {.method = "GET",
                       .url = url,
                       .headers = hdrs,
                       .nheaders = 1,
                       .timeout_ms = c->timeout_ms,
                       .max_response = 4u << 20,
                       .proxy = c->proxy};
    int64_t id = c->h->http_request(c->inst, &req, on_answer, c);
    if (id < 0) {
        failed(c, "the request could not be made", -1);
        return;
    }
    c->http_id = id;
}

static int on_row(void *arg, const at_db_row *row)
{
    fng_ctx *c = arg;
    if (row->ncols >= 1 && row->cols[0].type == AT_DB_INT) {
        c->last_ms = row->cols[0].u.i;
    }
    return 0;
}

static void on_loaded(void *arg, int err, const char *error)
{
    fng_ctx *c = arg;
    if (!c->started) {
        return;
    }
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN, "the readings stored before could not be read (%s)",
                  error ? error : "no storage");
    }
    c->h->log(c->inst, AT_LOG_INFO, "Fear & Greed from %s; %s", c->url,
              c->last_ms > 0 ? "the latest stored reading read back" : "no reading stored yet");
    ask(c);
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    fng_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    const char *key = NULL;
    char why[320];
    if (check_config(c, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s%s%s", key ? key : "", key ? ": " : "", why);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static int start(void *ctx)
{
    fng_ctx *c = ctx;
    c->started = true;
    c->h->set_state(c->inst, AT_STATE_STARTING, "reading the latest stored reading");
    const at_db_value p[] = {AT_DB_S(FEED)};
    if (c->h->db_query(c->inst, "SELECT MAX(as_of_ms) FROM sentiment WHERE feed = $1", p, 1, on_row,
                       on_loaded, c) != AT_OK) {
        on_loaded(c, AT_ESTATE, "no storage");
    }
    return AT_OK;
}

static void stop(void *ctx)
{
    fng_ctx *c = ctx;
    c->started = false;
    if (c->next) {
        c->h->timer_cancel(c->next);
        c->next = NULL;
    }
    if (c->http_id > 0) {
        c->h->http_cancel(c->http_id);
        c->http_id = 0;
    }
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    (void)ctx;
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "feargreed",
    .version = "1.0.0",
    .description = "alternative.me's Crypto Fear & Greed Index as sentiment readings (daily, "
                   "with its classification)",
    .config = schema,
    .ctx_size = sizeof(fng_ctx),
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

/* source_rss: news from RSS 2.0, RSS 1.0 and Atom feeds (rss.h).
 *
 *   [source.news]
 *   module = rss
 *   feeds = https://cointelegraph.com/rss, https://decrypt.co/feed
 *   interval = 5m
 *
 * At start the items stored in the last 14 days are read back (so nothing
 * is published twice across restarts), then every feed is asked at once and
 * again each interval (a failing one later: rss_fetch.c). What becomes of
 * an item (dedup across sources, tags, scores, `news`, NEWS) is
 * lib/newssrc's. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <aitrader/plugin.h>

#include "rss.h"

#define F(name, type, def, flags, member, lo, hi, desc)                                            \
    {                                                                                              \
        name, type, def, flags, offsetof(rss_ctx, member), lo, hi, NULL, desc                      \
    }

static const at_cfg_field schema[] = {
    F("feeds", AT_CFG_LIST, NULL, AT_CFG_REQUIRED, feeds, 0, 0,
      "the feeds' URLs (http or https; RSS 2.0, RSS 1.0 or Atom), comma-separated"),
    F("interval", AT_CFG_DURATION, "5m", AT_CFG_RANGE, interval_ms, 1000, 86400000,
      "how often each feed is asked (a 304 costs nothing; a failing feed waits longer)"),
    F("timeout", AT_CFG_DURATION, "20s", AT_CFG_RANGE, timeout_ms, 1000, 300000,
      "the whole request's deadline"),
    F("max_bytes", AT_CFG_SIZE, "4M", AT_CFG_RANGE, max_bytes, 4096, 64.0 * 1024 * 1024,
      "a feed larger than this is not read (its download stops there)"),
    F("max_items", AT_CFG_INT, "200", AT_CFG_RANGE, max_items, 1, 10000,
      "items read of one answer, the first ones"),
    NSRC_CFG_FIELDS(F, ns),
    F("proxy", AT_CFG_STR, NULL, 0, proxy, 0, 0,
      "http://host:port for these requests; none = direct; unset = [core] proxy"),
    F("user_agent", AT_CFG_STR, "Mozilla/5.0 (compatible; aitrader/0.1; +news)", 0, user_agent, 0,
      0, "the User-Agent sent (some sites answer only browsers)"),
    {0},
};

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const rss_ctx *c = ctx;
    *key = "feeds";
    if (c->feeds.n > RSS_MAX_FEEDS) {
        snprintf(why, whylen, "%zu feeds: at most %d", c->feeds.n, RSS_MAX_FEEDS);
        return AT_ECONFIG;
    }
    for (size_t i = 0; i < c->feeds.n; i++) {
        const char *u = c->feeds.items[i];
        bool http = strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
        const char *host = http ? strstr(u, "://") + 3 : u;
        size_t hl = strcspn(host, "/?#");
        if (!http || hl == 0 || memchr(host, '@', hl) ||
            strlen(u) >= sizeof(((rss_feed *)0)->url) || strpbrk(u, " \t\r\n")) {
            snprintf(why, whylen,
                     "'%.200s' is not an http(s) URL with a host (without user info or blanks)", u);
            return AT_ECONFIG;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(c->feeds.items[k], u) == 0) {
                snprintf(why, whylen, "'%.200s' is listed twice", u);
                return AT_ECONFIG;
            }
        }
    }
    *key = "proxy";
    if (!at_proxy_valid(c->proxy)) { /* not echoed: it may carry a password */
        snprintf(why, whylen,
                 "expected http://host:port (or http://user:password@host:port, or "
                 "none)");
        return AT_ECONFIG;
    }
    *key = NULL;
    return nsrc_check(&c->ns, key, why, whylen);
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    rss_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    const char *key = NULL;
    char why[320];
    if (check_config(c, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s%s%s", key ? key : "", key ? ": " : "", why);
        return AT_ECONFIG;
    }
    for (size_t i = 0; i < c->feeds.n; i++) {
        rss_feed *f = &c->feed[c->nfeeds++];
        f->c = c;
        snprintf(f->url, sizeof(f->url), "%s", c->feeds.items[i]);
        memcpy(f->target, f->url, sizeof(f->target)); /* the same size */
        const char *h = strstr(f->url, "://") + 3;
        snprintf(f->name, sizeof(f->name), "%s", h);
        size_t n = strcspn(h, "/:?#");
        if (n > 4 && strncmp(h, "www.", 4) == 0) {
            h += 4;
            n -= 4;
        }
        snprintf(f->feed, sizeof(f->feed), "%.*s", (int)n, h);
    }
    nsrc_init(&c->ns, inst, host);
    c->m_errors = host->metric(inst, AT_METRIC_COUNTER, "aitrader_news_feed_errors_total",
                               "feed requests that failed (transport, HTTP, not a feed)");
    return AT_OK;
}

static void on_tick(void *arg)
{
    rss_ctx *c = arg;
    rss_fetch_due(c);
    size_t failing = 0;
    for (size_t i = 0; i < c->nfeeds; i++) {
        failing += c->feed[i].fails > 0;
    }
    char detail[160];
    snprintf(detail, sizeof(detail), "%zu feed%s, %zu failing", c->nfeeds,
             c->nfeeds == 1 ? "" : "s", failing);
    c->h->set_state(c->inst,
                    failing == 0           ? AT_STATE_UP
                    : failing == c->nfeeds ? AT_STATE_DOWN
                                           : AT_STATE_DEGRADED,
                    detail);
}

static void on_loaded(void *arg, int err)
{
    rss_ctx *c = arg;
    (void)err; /* said by nsrc; the feeds are asked anyway */
    if (!c->started) {
        return;
    }
    c->h->log(c->inst, AT_LOG_INFO, "%zu feed%s every %lld s; %zu items known from before%s%s",
              c->nfeeds, c->nfeeds == 1 ? "" : "s", (long long)(c->interval_ms / 1000), c->ns.known,
              c->ns.scorer ? "; scored by " : "", c->ns.scorer ? c->ns.scorer : "");
    rss_fetch_due(c);
    /* each second: a feed is asked when it is due (its interval, or its backoff) */
    c->tick = c->h->timer_add(c->inst, 1000, 1000, on_tick, c);
}

static int start(void *ctx)
{
    rss_ctx *c = ctx;
    c->started = true;
    nsrc_start(&c->ns, on_loaded, c);
    return AT_OK;
}

static void stop(void *ctx)
{
    rss_ctx *c = ctx;
    c->started = false;
    if (c->tick) {
        c->h->timer_cancel(c->tick);
        c->tick = NULL;
    }
    rss_fetch_cancel(c);
    nsrc_stop(&c->ns);
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    rss_ctx *c = ctx;
    nsrc_free(&c->ns);
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "rss",
    .version = "1.0.0",
    .description = "news from RSS and Atom feeds: conditional GETs, backoff, each item once "
                   "across feeds and restarts, tagged with its coins and scored",
    .config = schema,
    .ctx_size = sizeof(rss_ctx),
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

/* source_cryptopanic: CryptoPanic's posts as news (the `news` table and NEWS
 * events), through lib/newssrc like source_rss: each story once across
 * sources and restarts, tagged (the post's own currencies and the ones its
 * text names), scored by the lexicon and, with `scorer`, by an LLM.
 *
 *   [source.panic]
 *   module = cryptopanic
 *   token = env:CRYPTOPANIC_TOKEN
 *   currencies = BTC, ETH
 *
 * GET {url}?auth_token=…&public=true&kind=news&regions=en[&currencies=…]
 * [&filter=…] every `interval`; the newest page is read. The token travels
 * in the query, as the API wants it, and is never logged (a secret, redacted
 * everywhere). 429 and 5xx, transport errors and error answers back off
 * (interval x 2^fails, at most 6 h, or the server's Retry-After when
 * longer): the plan's rate limit and monthly quota are the provider's, and
 * a failing token (401/403) is said once and asked again an hour later. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

#include "aic.h"
#include "cp_parse.h"
#include "newssrc.h"

#define BACKOFF_MAX_MS (6LL * 3600 * 1000)
#define AUTH_WAIT_MS (3600LL * 1000)

typedef struct cp_ctx {
    nsrc ns; /* what every news source does with an item (its keys: NSRC_CFG_FIELDS) */
    at_instance *inst;
    const at_host *h;
    /* config */
    const char *token, *url, *kind, *filter, *regions, *proxy;
    at_cfg_list currencies;
    int64_t interval_ms, timeout_ms;
    /* state */
    bool started;
    int64_t http_id;
    int fails;
    char last_error[200];
    at_timer *next;
    uint64_t fetched;
    at_metric *m_errors;
} cp_ctx;

#define F(name, type, def, flags, member, lo, hi, desc)                                            \
    {                                                                                              \
        name, type, def, flags, offsetof(cp_ctx, member), lo, hi, NULL, desc                       \
    }

static const at_cfg_field schema[] = {
    F("token", AT_CFG_SECRET, NULL, AT_CFG_REQUIRED, token, 0, 0,
      "the API token (auth_token): env:NAME or file:PATH"),
    F("url", AT_CFG_STR, "https://cryptopanic.com/api/developer/v2/posts/", 0, url, 0, 0,
      "the posts endpoint (v2 developer; https://cryptopanic.com/api/v1/posts/ for v1)"),
    F("currencies", AT_CFG_LIST, NULL, 0, currencies, 0, 0,
      "only posts about these currencies (BTC, ETH …); unset: all"),
    F("kind", AT_CFG_STR, "news", 0, kind, 0, 0, "news, media or all"),
    F("filter", AT_CFG_STR, NULL, 0, filter, 0, 0,
      "rising, hot, bullish, bearish, important, saved or lol; unset: none"),
    F("regions", AT_CFG_STR, "en", 0, regions, 0, 0, "languages, comma-separated (en, de …)"),
    F("interval", AT_CFG_DURATION, "5m", AT_CFG_RANGE, interval_ms, 1000, 86400000,
      "how often the newest posts are asked for (each ask counts against the plan's quota)"),
    F("timeout", AT_CFG_DURATION, "20s", AT_CFG_RANGE, timeout_ms, 1000, 300000,
      "the request's deadline"),
    F("proxy", AT_CFG_STR, NULL, 0, proxy, 0, 0,
      "http://host:port for these requests; none = direct; unset = [core] proxy"),
    NSRC_CFG_FIELDS(F, ns),
    {0},
};

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(v, *set) == 0) {
            return true;
        }
    }
    return false;
}

/* Letters, digits and commas only: what goes into the query unescaped. */
static bool query_word(const char *s, bool upper)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        bool ok = (*s >= '0' && *s <= '9') || *s == ',' ||
                  (upper ? (*s >= 'A' && *s <= 'Z') : (*s >= 'a' && *s <= 'z'));
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const cp_ctx *c = ctx;
    static const char *const kinds[] = {"news", "media", "all", NULL};
    static const char *const filters[] = {"rising",    "hot",   "bullish", "bearish",
                                          "important", "saved", "lol",     NULL};
    *key = "url";
    if (!(strncmp(c->url, "http://", 7) == 0 || strncmp(c->url, "https://", 8) == 0) ||
        strpbrk(c->url, " \t\r\n?#") || strlen(c->url) > 512) {
        snprintf(why, whylen, "'%.200s' is not an http(s) URL without a query", c->url);
        return AT_ECONFIG;
    }
    *key = "kind";
    if (!one_of(c->kind, kinds)) {
        snprintf(why, whylen, "'%.40s': expected news, media or all", c->kind);
        return AT_ECONFIG;
    }
    *key = "filter";
    if (c->filter && !one_of(c->filter, filters)) {
        snprintf(why, whylen,
                 "'%.40s': expected rising, hot, bullish, bearish, important, saved or lol",
                 c->filter);
        return AT_ECONFIG;
    }
    *key = "regions";
    if (!query_word(c->regions, false) || strlen(c->regions) > 64) {
        snprintf(why, whylen, "'%.64s': expected language codes such as en or en,de", c->regions);
        return AT_ECONFIG;
    }
    *key = "currencies";
    for (size_t i = 0; i < c->currencies.n; i++) {
        const char *v = c->currencies.items[i];
        if (!query_word(v, true) || strchr(v, ',') || strlen(v) > 10 || c->currencies.n > 50) {
            snprintf(why, whylen,
                     "'%.40s': expected currency codes in capitals (BTC, ETH), at "
                     "most 50",
                     v);
            return AT_ECONFIG;
        }
    }
    *key = "token";
    if (c->token && (strpbrk(c->token, "&?#= \t\r\n%+") || strlen(c->token) > 256)) {
        snprintf(why, whylen,
                 "the token has characters a query cannot carry as they are, or "
                 "is over 256 characters");
        return AT_ECONFIG; /* not echoed: it is a secret */
    }
    *key = "proxy";
    if (!at_proxy_valid(c->proxy)) {
        snprintf(why, whylen,
                 "expected http://host:port (or http://user:password@host:port, or none)");
        return AT_ECONFIG;
    }
    *key = NULL;
    return nsrc_check(&c->ns, key, why, whylen);
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    cp_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    const char *key = NULL;
    char why[320];
    if (check_config(c, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s%s%s", key ? key : "", key ? ": " : "", why);
        return AT_ECONFIG;
    }
    nsrc_init(&c->ns, inst, host);
    c->m_errors = host->metric(inst, AT_METRIC_COUNTER, "aitrader_news_feed_errors_total",
                               "feed requests that failed (transport, HTTP, not a feed)");
    return AT_OK;
}

static void ask(void *arg);

static void later(cp_ctx *c, int64_t ms)
{
    if (c->next) {
        c->h->timer_cancel(c->next);
    }
    c->next = c->h->timer_add(c->inst, ms > 0 ? ms : 1, 0, ask, c);
}

static void failed(cp_ctx *c, int64_t wait_at_least, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failed(cp_ctx *c, int64_t wait_at_least, const char *fmt, ...)
{
    char why[sizeof(c->last_error)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    int64_t wait = aic_backoff_ms(c->interval_ms, c->fails++, BACKOFF_MAX_MS, wait_at_least);
    c->h->metric_add(c->m_errors, 1);
    if (c->fails == 1 || strcmp(why, c->last_error) != 0) {
        c->h->log(c->inst, AT_LOG_WARN, "%s; asked again in %" PRId64 " s", why, wait / 1000);
    }
    snprintf(c->last_error, sizeof(c->last_error), "%s", why);
    c->h->set_state(c->inst, AT_STATE_DEGRADED, why);
    later(c, wait);
}

static void take(cp_ctx *c, const cp_page *pg)
{
    size_t fresh = 0, seen = 0, old = 0;
    for (size_t k = pg->n; k-- > 0;) { /* oldest first: the API gives the newest first */
        const cp_post *p = &pg->posts[k];
        nsrc_item it = {.feed = p->source,
                        .title = p->title,
                        .url = p->url[0] ? p->url : NULL,
                        .summary = p->summary[0] ? p->summary : NULL,
                        .symbols = p->symbols[0] ? p->symbols : NULL,
                        .published_ms = p->published_ms,
                        .backlog = c->ns.known == 0 && c->fetched == 1};
        nsrc_fate f = nsrc_offer(&c->ns, &it);
        fresh += f == NSRC_NEW;
        seen += f == NSRC_SEEN;
        old += f == NSRC_OLD;
    }
    if (fresh || c->fetched == 1) {
        c->h->log(c->inst, AT_LOG_INFO, "%zu new post%s, %zu seen before, %zu older than max_age%s",
                  fresh, fresh == 1 ? "" : "s", seen, old,
                  pg->dropped ? "; some left out (no title)" : "");
    }
}

static void on_answer(void *arg, const at_http_resp *r)
{
    cp_ctx *c = arg;
    c->http_id = 0;
    if (!c->started) {
        return;
    }
    int64_t now = c->h->now_us() / 1000;
    if (r->err != AT_OK) {
        failed(c, 0, "no answer: %s", r->error ? r->error : "transport error");
        return;
    }
    cp_page pg;
    char why[240];
    int rc = cp_parse(r->body, r->len, &pg, why, sizeof(why));
    /* an error answer's own text, not a parser's complaint about an HTML page */
    bool says = rc != AT_OK && strncmp(why, "the API says", 12) == 0;
    if (r->status == 401 || r->status == 403) {
        failed(c, AUTH_WAIT_MS, "HTTP %d: the token is refused (%s)", r->status,
               says ? why : "no reason given");
    } else if (r->status == 429 || r->status >= 500) {
        failed(c, aic_retry_after_ms(r->headers, r->nheaders, now), "HTTP %d%s", r->status,
               r->status == 429 ? " (rate limited: the plan's limit or quota)" : "");
    } else if (r->status != 200) {
        failed(c, 0, "HTTP %d%s%s", r->status, says ? ": " : "", says ? why : "");
    } else if (rc != AT_OK) {
        failed(c, 0, "an answer that cannot be read: %s", why);
    } else {
        if (c->fails > 0) {
            c->h->log(c->inst, AT_LOG_INFO, "answers again after %d failed attempt%s", c->fails,
                      c->fails == 1 ? "" : "s");
        }
        c->fails = 0;
        c->last_error[0] = '\0';
        c->fetched++;
        take(c, &pg);
        c->h->set_state(c->inst, AT_STATE_UP, NULL);
        later(c, c->interval_ms);
    }
    cp_page_free(&pg);
}

static void ask(void *arg)
{
    cp_ctx *c = arg;
    c->next = NULL;
    if (!c->started || c->http_id > 0) {
        return;
    }
    char cur[600] = "";
    for (size_t i = 0; i < c->currencies.n; i++) {
        size_t l = strlen(cur);
        snprintf(cur + l, sizeof(cur) - l, "%s%s", i ? "," : "", c->currencies.items[i]);
    }
    char url[2048]; /* url <= 512, token <= 256, cur < 600: it fits */
    snprintf(url, sizeof(url), "%s?auth_token=%s&public=true&kind=%s&regions=%s%s%s%s%s", c->url,
             c->token, c->kind, c->regions, cur[0] ? "&currencies=" : "", cur,
             c->filter ? "&filter=" : "", c->filter ? c->filter : "");
    const char *hdrs[] = {"Accept: application/json", "User-Agent: aitrader/0.1 (+news)"};
    at_http_req req = {.method = "GET",
                       .url = url,
                       .headers = hdrs,
                       .nheaders = 2,
                       .timeout_ms = c->timeout_ms,
                       .max_response = 8u << 20,
                       .proxy = c->proxy};
    int64_t id = c->h->http_request(c->inst, &req, on_answer, c);
    explicit_bzero(url, sizeof(url)); /* the token */
    if (id < 0) {
        failed(c, 0, "the request could not be made (error %" PRId64 ")", id);
        return;
    }
    c->http_id = id;
}

static void on_loaded(void *arg, int err)
{
    cp_ctx *c = arg;
    (void)err; /* said by nsrc; asked anyway */
    if (!c->started) {
        return;
    }
    c->h->log(c->inst, AT_LOG_INFO,
              "asking for %s posts (regions %s%s%s%s%s) every %lld s; %zu items known from "
              "before%s%s",
              c->kind, c->regions, c->currencies.n ? ", currencies " : "",
              c->currencies.n ? c->currencies.items[0] : "", c->currencies.n > 1 ? " …" : "",
              c->filter ? ", filtered" : "", (long long)(c->interval_ms / 1000), c->ns.known,
              c->ns.scorer ? "; scored by " : "", c->ns.scorer ? c->ns.scorer : "");
    ask(c);
}

static int start(void *ctx)
{
    cp_ctx *c = ctx;
    c->started = true;
    nsrc_start(&c->ns, on_loaded, c);
    return AT_OK;
}

static void stop(void *ctx)
{
    cp_ctx *c = ctx;
    c->started = false;
    if (c->next) {
        c->h->timer_cancel(c->next);
        c->next = NULL;
    }
    if (c->http_id > 0) {
        c->h->http_cancel(c->http_id);
        c->http_id = 0;
    }
    nsrc_stop(&c->ns);
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    cp_ctx *c = ctx;
    nsrc_free(&c->ns);
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "cryptopanic",
    .version = "1.0.0",
    .description = "news from CryptoPanic's posts API: each story once across sources and "
                   "restarts, tagged with its coins and scored, backed off on its rate limits",
    .config = schema,
    .ctx_size = sizeof(cp_ctx),
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

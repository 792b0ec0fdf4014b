/* Asking the feeds and taking their items (rss.h):
 *  - a conditional GET (If-None-Match / If-Modified-Since from the last
 *    answer): a 304 costs nothing;
 *  - 429 and 5xx, transport errors, an answer over max_bytes or that is no
 *    feed: the feed waits interval x 2^fails (at most an hour), or the
 *    Retry-After the server gave when it is longer; one WARN per failure
 *    episode and one INFO when it answers again;
 *  - each item is offered to lib/newssrc oldest first: a new one (neither
 *    its canonical URL's key nor its title's seen before, in any source) is
 *    tagged, scored, stored in `news` and published as NEWS. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aic.h"
#include "news.h"
#include "rss.h"
#include "rss_parse.h"

static int64_t now_ms(const rss_ctx *c)
{
    return c->h->now_us() / 1000;
}

static const char *header(const at_http_resp *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *h = r->headers[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t') {
                h++;
            }
            return h;
        }
    }
    return NULL;
}

/* The header's value without trailing blanks into out ("" when absent or
 * too long to keep). */
static void keep_header(const at_http_resp *r, const char *name, char *out, size_t cap)
{
    const char *v = header(r, name);
    size_t n = v ? strlen(v) : 0;
    while (n > 0 && isspace((unsigned char)v[n - 1])) {
        n--;
    }
    if (!v || n >= cap) {
        out[0] = '\0';
        return;
    }
    memcpy(out, v, n);
    out[n] = '\0';
}

static void failed(rss_feed *f, int64_t retry_after_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failed(rss_feed *f, int64_t retry_after_ms, const char *fmt, ...)
{
    rss_ctx *c = f->c;
    char why[sizeof(f->last_error)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    int64_t wait = aic_backoff_ms(c->interval_ms, f->fails++, RSS_BACKOFF_MAX_MS, retry_after_ms);
    f->next_ms = now_ms(c) + wait;
    c->h->metric_add(c->m_errors, 1);
    if (f->fails == 1 || strcmp(why, f->last_error) != 0) {
        c->h->log(c->inst, AT_LOG_WARN, "%s: %s; asked again in %" PRId64 " s", f->name, why,
                  wait / 1000);
    }
    snprintf(f->last_error, sizeof(f->last_error), "%s", why);
}

static void answered(rss_feed *f)
{
    rss_ctx *c = f->c;
    if (f->fails > 0) {
        c->h->log(c->inst, AT_LOG_INFO, "%s: answers again after %d failed attempt%s", f->name,
                  f->fails, f->fails == 1 ? "" : "s");
    }
    f->fails = 0;
    f->last_error[0] = '\0';
    f->next_ms = now_ms(c) + c->interval_ms;
}

static int by_time(const void *a, const void *b)
{
    const rss_item *x = a, *y = b;
    return (x->published_ms > y->published_ms) - (x->published_ms < y->published_ms);
}

static void take(rss_feed *f, rss_doc *doc)
{
    rss_ctx *c = f->c;
    size_t fresh = 0, seen = 0, old = 0;
    qsort(doc->items, doc->n, sizeof(doc->items[0]), by_time);
    for (size_t i = 0; i < doc->n; i++) {
        const rss_item *it = &doc->items[i];
        char url[2048];
        bool has_url = it->link && news_resolve(f->url, it->link, url, sizeof(url));
        nsrc_item ni = {.feed = f->feed,
                        .title = it->title,
                        .url = has_url ? url : NULL,
                        .summary = it->summary,
                        .published_ms = it->published_ms,
                        .backlog = c->ns.known == 0 && f->fetched == 1};
        switch (nsrc_offer(&c->ns, &ni)) {
        case NSRC_NEW:
            fresh++;
            break;
        case NSRC_SEEN:
            seen++;
            break;
        case NSRC_OLD:
            old++;
            break;
        case NSRC_BAD:
            break;
        }
    }
    f->new_items += fresh;
    f->seen_items += seen;
    if (fresh || f->fetched == 1) {
        c->h->log(c->inst, AT_LOG_INFO,
                  "%s: %zu new item%s, %zu seen before, %zu older than max_age%s%s", f->name, fresh,
                  fresh == 1 ? "" : "s", seen, old, doc->dropped ? "; left out: " : "",
                  doc->dropped ? "some (over max_items, or without title and text)" : "");
    }
}

static void ask(rss_feed *f);

/* A 301/302/303/307/308: asked again where it says, at most 5 hops; a
 * permanent move is kept for the next requests, a temporary one is not. */
static bool redirected(rss_feed *f, const at_http_resp *r)
{
    rss_ctx *c = f->c;
    bool permanent = r->status == 301 || r->status == 308;
    if (!(permanent || r->status == 302 || r->status == 303 || r->status == 307)) {
        return false;
    }
    const char *loc = header(r, "Location");
    char to[sizeof(f->target)];
    if (!loc || !news_resolve(f->target, loc, to, sizeof(to)) ||
        !(strncmp(to, "http://", 7) == 0 || strncmp(to, "https://", 8) == 0)) {
        failed(f, 0, "HTTP %d without a usable Location", r->status);
        return true;
    }
    if (++f->hops > 5) {
        failed(f, 0, "redirected more than 5 times (last to %.160s)", to);
        return true;
    }
    if (permanent && strcmp(to, f->target) != 0) {
        c->h->log(c->inst, AT_LOG_INFO, "%s: moved to %s (HTTP %d)", f->name, to, r->status);
    }
    snprintf(f->target, sizeof(f->target), "%s", to);
    f->etag[0] = f->modified[0] = '\0'; /* another resource */
    f->moved_for_now = !permanent;
    ask(f);
    return true;
}

static void on_answer(void *arg, const at_http_resp *r)
{
    rss_feed *f = arg;
    rss_ctx *c = f->c;
    f->http_id = 0;
    if (!c->started) {
        return;
    }
    if (r->err == AT_ERANGE) {
        failed(f, 0, "the feed is over max_bytes (%" PRId64 " bytes): not read", c->max_bytes);
        return;
    }
    if (r->err != AT_OK) {
        failed(f, 0, "no answer: %s", r->error ? r->error : "transport error");
        return;
    }
    if (r->status != 301 && r->status != 302 && r->status != 303 && r->status != 307 &&
        r->status != 308) {
        f->hops = 0;
    }
    if (redirected(f, r)) {
        return;
    }
    f->fetched++;           /* an answer of the feed's own (not a redirect) */
    if (f->moved_for_now) { /* a temporary redirect: the next time, the feed's own URL */
        memcpy(f->target, f->url, sizeof(f->target)); /* the same size */
        f->moved_for_now = false;
    }
    if (r->status == 304) {
        f->not_modified++;
        answered(f);
        return;
    }
    if (r->status == 429 || r->status >= 500) {
        failed(f, aic_retry_after_ms(r->headers, r->nheaders, now_ms(c)), "HTTP %d%s", r->status,
               r->status == 429 ? " (rate limited)" : "");
        return;
    }
    if (r->status != 200) {
        failed(f, 0, "HTTP %d", r->status);
        return;
    }
    rss_doc doc;
    char why[200];
    if (rss_parse(r->body, r->len, (size_t)c->max_items, &doc, why, sizeof(why)) != AT_OK) {
        rss_doc_free(&doc);
        failed(f, 0, "not a feed that can be read: %s", why);
        return;
    }
    if (doc.title && doc.title[0]) {
        news_plain(doc.title, strlen(doc.title), f->feed, sizeof(f->feed)); /* its own name */
    }
    keep_header(r, "ETag", f->etag, sizeof(f->etag));
    keep_header(r, "Last-Modified", f->modified, sizeof(f->modified));
    answered(f);
    take(f, &doc);
    rss_doc_free(&doc);
}

static void ask(rss_feed *f)
{
    rss_ctx *c = f->c;
    char ua[300], inm[300], ims[160];
    const char *hdrs[5];
    size_t nh = 0;
    snprintf(ua, sizeof(ua), "User-Agent: %s", c->user_agent);
    hdrs[nh++] = ua;
    hdrs[nh++] = "Accept: application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                 "text/xml;q=0.8, */*;q=0.5";
    if (f->etag[0]) {
        snprintf(inm, sizeof(inm), "If-None-Match: %s", f->etag);
        hdrs[nh++] = inm;
    }
    if (f->modified[0]) {
        snprintf(ims, sizeof(ims), "If-Modified-Since: %s", f->modified);
        hdrs[nh++] = ims;
    }
    at_http_req req = {.method = "GET",
                       .url = f->target,
                       .headers = hdrs,
                       .nheaders = nh,
                       .timeout_ms = c->timeout_ms,
                       .max_response = (size_t)c->max_bytes,
                       .proxy = c->proxy};
    f->next_ms = now_ms(c) + c->interval_ms; /* until it answers */
    int64_t id = c->h->http_request(c->inst, &req, on_answer, f);
    if (id < 0) {
        failed(f, 0, "the request could not be made (error %" PRId64 ")", id);
        return;
    }
    f->http_id = id;
}

void rss_fetch_due(rss_ctx *c)
{
    int64_t now = now_ms(c);
    for (size_t i = 0; i < c->nfeeds; i++) {
        rss_feed *f = &c->feed[i];
        if (f->http_id == 0 && now >= f->next_ms) {
            ask(f);
        }
    }
}

void rss_fetch_cancel(rss_ctx *c)
{
    for (size_t i = 0; i < c->nfeeds; i++) {
        if (c->feed[i].http_id > 0) {
            c->h->http_cancel(c->feed[i].http_id);
            c->feed[i].http_id = 0;
        }
    }
}

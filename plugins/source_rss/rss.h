/* source_rss: RSS and Atom feeds as news (NEWS events and the `news` table),
 * each item once across feeds, sources and restarts, tagged with the
 * currencies it names and scored (lib/newssrc). Main loop only. */
#ifndef SOURCE_RSS_H
#define SOURCE_RSS_H

#include <stdbool.h>
#include <stdint.h>

#include <aitrader/plugin.h>

#include "newssrc.h"

#define RSS_MAX_FEEDS 32
#define RSS_BACKOFF_MAX_MS (60LL * 60 * 1000)

typedef struct rss_ctx rss_ctx;

typedef struct rss_feed {
    rss_ctx *c;
    char url[1024];     /* as configured */
    char target[1024];  /* where it is asked: url, or where it moved (a redirect) */
    int hops;           /* redirects followed for the request under way */
    bool moved_for_now; /* target is a temporary redirect's */
    char name[128];     /* its URL without the scheme: for the log */
    char feed[72];      /* the NEWS event's feed: the channel's title, else the host */
    char etag[256];     /* for If-None-Match */
    char modified[128]; /* Last-Modified, for If-Modified-Since */
    int64_t http_id;    /* > 0 while a request is out */
    int fails;          /* in a row */
    int64_t next_ms;    /* not asked before (backoff, Retry-After) */
    char last_error[240];
    uint64_t fetched, new_items, seen_items, not_modified;
} rss_feed;

struct rss_ctx {
    nsrc ns; /* what every news source does with an item (its keys: NSRC_CFG_FIELDS) */
    at_instance *inst;
    const at_host *h;
    /* config */
    at_cfg_list feeds;
    int64_t interval_ms, timeout_ms, max_bytes, max_items;
    const char *proxy, *user_agent;
    /* state */
    rss_feed feed[RSS_MAX_FEEDS];
    size_t nfeeds;
    bool started;
    at_timer *tick;
    at_metric *m_errors;
};

/* rss_fetch.c: ask every feed that is due (conditional GET, backoff). */
void rss_fetch_due(rss_ctx *c);
void rss_fetch_cancel(rss_ctx *c);

#endif

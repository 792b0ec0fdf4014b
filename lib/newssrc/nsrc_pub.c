/* An item's way from a source to the bus (newssrc.h): seen or new, tagged,
 * scored, stored, then published; and what a source learns of the other
 * sources' items (their NEWS), so a story two sources carry is one item. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "news.h"
#include "newssrc.h"

static int64_t now_ms(const nsrc *n)
{
    return n->h->now_us() / 1000;
}

void nsrc_init(nsrc *n, at_instance *inst, const at_host *h)
{
    n->inst = inst;
    n->h = h;
    n->m_items = h->metric(inst, AT_METRIC_COUNTER, "aitrader_news_items_total",
                           "news items published (new, in no source before)");
    n->m_dups =
        h->metric(inst, AT_METRIC_COUNTER, "aitrader_news_duplicates_total",
                  "items seen before (by URL or title, in any source), not published again");
    n->m_scored = h->metric(inst, AT_METRIC_COUNTER, "aitrader_news_llm_scored_total",
                            "items the LLM scorer scored");
    n->m_unscored = h->metric(inst, AT_METRIC_COUNTER, "aitrader_news_llm_unscored_total",
                              "items published without the LLM score the source asks for "
                              "(scorer failed, too late, over budget, queue full)");
    n->m_cost = h->metric(inst, AT_METRIC_COUNTER, "aitrader_news_llm_cost_usd_total",
                          "what the LLM scorer's calls cost, USD");
}

int nsrc_check(const nsrc *n, const char **key, char *why, size_t whylen)
{
    if (n->scorer && (strncmp(n->scorer, "ai.", 3) != 0 || !n->scorer[3])) {
        *key = "scorer";
        snprintf(why, whylen, "'%.100s' is not an [ai.*] instance's name (e.g. ai.qwen)",
                 n->scorer);
        return AT_ECONFIG;
    }
    return AT_OK;
}

void nsrc_pending_free(nsrc_pending *p)
{
    if (p) {
        free(p->id);
        free(p->feed);
        free(p->title);
        free(p->url);
        free(p->summary);
        free(p);
    }
}

/* ------------------------------------------------------------ other sources */

/* Another source's item: its keys are seen (the id is its URL's or title's key). */
static void on_news(void *arg, const at_event *e)
{
    nsrc *n = arg;
    const at_ev_news *x = (const void *)e;
    if (!e->source || strcmp(e->source, n->h->instance_name(n->inst)) == 0) {
        return;
    }
    if (x->id) {
        nsrc_seen_add(&n->seen, x->id);
    }
    if (x->title) {
        char k[64];
        news_key("t:", x->title, false, k);
        nsrc_seen_add(&n->seen, k);
    }
    if (x->url) {
        char k[64];
        news_key("u:", x->url, true, k);
        nsrc_seen_add(&n->seen, k);
    }
}

void nsrc_start(nsrc *n, void (*loaded)(void *arg, int err), void *arg)
{
    n->started = true;
    n->h->set_state(n->inst, AT_STATE_STARTING, "reading the news seen before");
    n->sub = n->h->subscribe(n->inst, AT_EV_NEWS, on_news, n);
    if (n->sub <= 0) {
        n->h->log(n->inst, AT_LOG_WARN,
                  "cannot follow the other sources' news: a story they carry may be stored again");
        n->sub = 0;
    }
    int rc = nsrc_seen_load(n, loaded, arg);
    if (rc != AT_OK) {
        n->h->log(n->inst, AT_LOG_WARN,
                  "no storage to read the news seen before (error %d): items may be published "
                  "again after a restart",
                  rc);
        loaded(arg, rc);
    }
}

void nsrc_stop(nsrc *n)
{
    n->started = false;
    if (n->sub > 0) {
        n->h->unsubscribe(n->inst, n->sub);
        n->sub = 0;
    }
    nsrc_score_stop(n);
}

void nsrc_free(nsrc *n)
{
    nsrc_seen_free(&n->seen);
}

/* ------------------------------------------------------------ an item */

/* A currency code as sources write them: 2 to 10 capitals or digits. */
static bool ccy_code(const char *s, size_t len)
{
    if (len < 2 || len > 10) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool list_has(const char *list, const char *code, size_t len)
{
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && strncmp(p, code, len) == 0) {
            return true;
        }
        p += l + (p[l] == ',');
    }
    return false;
}

void nsrc_symbols_merge(char *dst, size_t cap, const char *more)
{
    for (const char *p = more ? more : ""; *p;) {
        while (*p == ',' || *p == ' ') {
            p++;
        }
        size_t l = strcspn(p, ", ");
        size_t have = strlen(dst);
        if (ccy_code(p, l) && !list_has(dst, p, l) && have + l + 2 <= cap) {
            snprintf(dst + have, cap - have, "%s%.*s", have ? "," : "", (int)l, p);
        }
        p += l;
    }
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void store(nsrc *n, const nsrc_pending *p, int64_t now)
{
    const at_db_value v[] = {AT_DB_S(p->id),
                             AT_DB_S(p->feed),
                             AT_DB_S(p->title),
                             AT_DB_S(p->url),
                             AT_DB_S(p->summary),
                             AT_DB_S(p->symbols[0] ? p->symbols : NULL),
                             AT_DB_I(p->published_ms),
                             AT_DB_R(p->score),
                             AT_DB_I(now),
                             AT_DB_R(p->impact),
                             AT_DB_S(n->h->instance_name(n->inst))};
    n->h->db_write(n->inst,
                   "INSERT INTO news (id, feed, title, url, summary, symbols, published_ms, score, "
                   "fetched_ms, impact, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                   "$11) ON CONFLICT (id) DO NOTHING",
                   v, sizeof(v) / sizeof(v[0]), NULL, NULL);
}

nsrc_fate nsrc_offer(nsrc *n, const nsrc_item *it)
{
    if (!it->title || !it->title[0]) {
        return NSRC_BAD;
    }
    char uk[64] = "", tk[64];
    char canon[2048];
    bool has_url = it->url && news_canonical_url(it->url, canon, sizeof(canon));
    if (has_url) {
        news_key("u:", it->url, true, uk);
    }
    news_key("t:", it->title, false, tk);
    if ((uk[0] && nsrc_seen_has(&n->seen, uk)) || nsrc_seen_has(&n->seen, tk)) {
        n->h->metric_add(n->m_dups, 1);
        return NSRC_SEEN;
    }
    nsrc_seen_add(&n->seen, tk);
    if (uk[0]) {
        nsrc_seen_add(&n->seen, uk);
    }
    int64_t now = now_ms(n);
    /* no date, or one in the future: when it was read */
    int64_t pub = it->published_ms < 0 || it->published_ms > now ? now : it->published_ms;
    if (now - pub > n->max_age_ms) {
        return NSRC_OLD; /* remembered, not news any more */
    }
    nsrc_pending *p = calloc(1, sizeof(*p));
    if (!p) {
        return NSRC_BAD;
    }
    p->n = n;
    p->id = strdup(uk[0] ? uk : tk);
    p->feed = strdup(it->feed ? it->feed : "news");
    p->title = strdup(it->title);
    p->url = has_url ? dup_or_null(it->url) : NULL;
    p->summary = dup_or_null(it->summary);
    if (!p->id || !p->feed || !p->title || (has_url && !p->url) || (it->summary && !p->summary)) {
        nsrc_pending_free(p);
        return NSRC_BAD;
    }
    size_t tl = strlen(it->title), sl = it->summary ? strlen(it->summary) : 0;
    char *text = malloc(tl + sl + 3);
    if (text) {
        snprintf(text, tl + sl + 3, "%s. %s", it->title, it->summary ? it->summary : "");
        news_tags(text, p->symbols, sizeof(p->symbols));
        p->score = news_sentiment(text, NULL);
        free(text);
    } else {
        p->score = news_sentiment(it->title, NULL);
    }
    nsrc_symbols_merge(p->symbols, sizeof(p->symbols), it->symbols);
    p->published_ms = pub;
    /* a lexicon cannot tell a price recap from a hack: half its strength, so
     * with the defaults only an LLM's judgement makes a headline trigger */
    p->impact = 0.5 * fabs(p->score);
    p->llm_score = NAN;
    store(n, p, now);
    nsrc_emit(n, p); /* at once: the other sources know it from now on */
    if (n->scorer && !it->backlog && now - pub <= n->scorer_max_age_ms) {
        nsrc_score_add(n, p); /* published again, scored, when the scorer answers */
    } else {
        nsrc_pending_free(p);
    }
    return NSRC_NEW;
}

void nsrc_publish_scored(nsrc *n, nsrc_pending *p)
{
    const at_db_value v[] = {AT_DB_R(p->llm_score), AT_DB_R(p->impact), AT_DB_S(p->scorer),
                             AT_DB_S(p->id)};
    n->h->db_write(n->inst,
                   "UPDATE news SET llm_score = $1, impact = $2, scorer = $3 WHERE id = $4", v, 4,
                   NULL, NULL);
    nsrc_emit(n, p);
    nsrc_pending_free(p);
}

void nsrc_emit(nsrc *n, const nsrc_pending *p)
{
    const at_host *h = n->h;
    size_t extra = strlen(p->id) + strlen(p->feed) + strlen(p->title) +
                   (p->url ? strlen(p->url) : 0) + (p->summary ? strlen(p->summary) : 0) +
                   strlen(p->symbols) + (p->scorer ? strlen(p->scorer) : 0) + 8;
    at_ev_news *e = (at_ev_news *)h->event_new(n->inst, AT_EV_NEWS, extra);
    if (e) {
        e->id = h->event_strdup(&e->h, p->id);
        e->feed = h->event_strdup(&e->h, p->feed);
        e->title = h->event_strdup(&e->h, p->title);
        e->url = p->url ? h->event_strdup(&e->h, p->url) : NULL;
        e->summary = p->summary ? h->event_strdup(&e->h, p->summary) : NULL;
        e->symbols = p->symbols[0] ? h->event_strdup(&e->h, p->symbols) : NULL;
        e->published_ms = p->published_ms;
        e->score = p->score;
        e->impact = p->impact;
        e->llm_score = p->llm_score;
        e->scorer = p->scorer ? h->event_strdup(&e->h, p->scorer) : NULL;
        h->publish(n->inst, &e->h, 0);
        if (!p->scorer) {
            h->metric_add(n->m_items, 1); /* the item's first publication */
        }
    } /* else: stored, the dashboard and the next start see it */
}

/* What every news source plugin does with an item once it has read one
 * (source_rss, source_cryptopanic): each story once across sources and
 * restarts (its canonical URL's key and its title's, read back from `news`
 * at start and taken from the other sources' NEWS events while running),
 * tagged, scored by the lexicon and, when the instance names an [ai.*]
 * scorer, by that LLM (cached by item: a story is scored once), stored in
 * `news` before it is published as NEWS (and again, scored, with the same
 * id). Main loop only. */
#ifndef AT_NEWSSRC_H
#define AT_NEWSSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/plugin.h>

/* The keys seen: an open-addressing set of "u:"/"t:" + 32 hex digits. */
typedef struct nsrc_seen {
    char (*keys)[40];
    size_t n, cap;
} nsrc_seen;

bool nsrc_seen_has(const nsrc_seen *s, const char *key);
int nsrc_seen_add(nsrc_seen *s, const char *key);
void nsrc_seen_free(nsrc_seen *s);
struct nsrc;
/* Read back the keys of the items stored in the last 14 days (or max_age),
 * then done(arg, err); AT_OK, or an error and done never runs. */
int nsrc_seen_load(struct nsrc *n, void (*done)(void *arg, int err), void *arg);

#define NSRC_SYMBOLS 128 /* "BTC,ETH,…" */
#define NSRC_QUEUE 256   /* items waiting for the LLM scorer */
#define NSRC_INFLIGHT 2  /* scorer calls at once */

/* One item as a source read it; every string borrowed for the call. */
typedef struct nsrc_item {
    const char *feed;     /* the source's name for the feed ("CoinDesk") */
    const char *title;    /* plain text, not empty */
    const char *url;      /* absolute, or NULL */
    const char *summary;  /* plain text, or NULL */
    const char *symbols;  /* currencies the source itself names ("BTC,ETH"), or NULL */
    int64_t published_ms; /* < 0: unknown (then: when it was read) */
    /* a first start's backlog (nothing known before, a feed's first answer):
     * the lexicon's score only, the scorer's budget kept for what is new */
    bool backlog;
} nsrc_item;

typedef enum nsrc_fate { NSRC_NEW = 0, NSRC_SEEN, NSRC_OLD, NSRC_BAD } nsrc_fate;

typedef struct nsrc_pending nsrc_pending;

/* Embedded in the plugin's context. The config members are set by the
 * plugin's schema (NSRC_CFG_FIELDS); the rest is nsrc's. */
typedef struct nsrc {
    /* config */
    int64_t max_age_ms; /* an older item is remembered, not published */
    const char *scorer; /* "ai.qwen", or NULL */
    int64_t scorer_timeout_ms;
    int64_t scorer_per_hour;   /* LLM calls in any hour, at most */
    int64_t scorer_max_age_ms; /* older items get the lexicon only */
    /* state */
    at_instance *inst;
    const at_host *h;
    nsrc_seen seen;
    size_t known; /* items read back at start */
    bool started;
    int sub; /* the other sources' NEWS */
    nsrc_pending *queue[NSRC_QUEUE];
    size_t qhead, qlen;
    nsrc_pending *inflight[NSRC_INFLIGHT];
    int64_t calls_ms[512]; /* when the last calls were made (ring) */
    size_t ncalls, calls_at;
    bool over_budget; /* said once per episode */
    bool scorer_down; /* said once per episode */
    uint64_t scored, unscored;
    at_metric *m_items, *m_dups, *m_scored, *m_unscored, *m_cost;
} nsrc;

/* The config keys every news source has, for its schema (F is the plugin's
 * field macro: F(name, type, def, flags, member, lo, hi, desc)). */
#define NSRC_CFG_FIELDS(F, ns)                                                                     \
    F("max_age", AT_CFG_DURATION, "2d", AT_CFG_RANGE, ns.max_age_ms, 60000, 365.0 * 86400000,      \
      "an item published longer ago is remembered but not published"),                             \
        F("scorer", AT_CFG_STR, NULL, 0, ns.scorer, 0, 0,                                          \
          "an [ai.*] instance that scores each new item's sentiment and impact (e.g. ai.qwen); "   \
          "unset: the lexicon only"),                                                              \
        F("scorer_timeout", AT_CFG_DURATION, "30s", AT_CFG_RANGE, ns.scorer_timeout_ms, 1000,      \
          600000,                                                                                  \
          "how long an item waits for its LLM score (it goes out at once with the lexicon's; the " \
          "scored one follows in time, or not)"),                                                  \
        F("scorer_per_hour", AT_CFG_INT, "60", AT_CFG_RANGE, ns.scorer_per_hour, 1, 512,           \
          "LLM scorer calls in any hour, at most (more items: the lexicon only)"),                 \
        F("scorer_max_age", AT_CFG_DURATION, "6h", AT_CFG_RANGE, ns.scorer_max_age_ms, 60000,      \
          30.0 * 86400000, "an item published longer ago gets the lexicon score only")

/* init(): names, metrics. check(): the scorer's name ("ai.X"). */
void nsrc_init(nsrc *n, at_instance *inst, const at_host *h);
int nsrc_check(const nsrc *n, const char **key, char *why, size_t whylen);
/* start(): state starting; read back the keys of the items stored in the
 * last 14 days (or max_age), subscribe to the other sources' NEWS, then
 * loaded(arg, err) — later, or at once when there is no storage to read
 * (said). */
void nsrc_start(nsrc *n, void (*loaded)(void *arg, int err), void *arg);
/* stop(): the scorer's calls cancelled, the items waiting for it dropped
 * (they are stored already, with the lexicon's score; nothing is published
 * while the engine stops). */
void nsrc_stop(nsrc *n);
void nsrc_free(nsrc *n);

/* An item read: new (stored, then published with the lexicon's score; with
 * a scorer, published again with the LLM's once it answers), seen before
 * (by URL or title, any source), too old (remembered only), or bad (no
 * title). */
nsrc_fate nsrc_offer(nsrc *n, const nsrc_item *it);

/* The scorer's answer (nsrc_score.c, and its tests): JSON with
 * "sentiment" in [-1, 1], "impact" in [0, 1], and optional "symbols" (an
 * array of tickers), with or without code fences or think tags around it.
 * false and why when it is not that. symbols get the valid tickers,
 * comma-separated. */
bool nsrc_parse_score(const char *text, double *sentiment, double *impact, char *symbols,
                      size_t symcap, char *why, size_t whylen);

/* Currency codes of `more` ("BTC, eth,SOL": 2 to 10 capitals or digits
 * each, others left out) added to the comma-separated list dst, once each,
 * as far as cap allows. */
void nsrc_symbols_merge(char *dst, size_t cap, const char *more);

/* The schema sent with every scorer call (nsrc_score.c). */
extern const char nsrc_score_schema[];

/* nsrc_score.c: the scorer's side of nsrc_offer. */
void nsrc_score_add(nsrc *n, nsrc_pending *p);
void nsrc_score_stop(nsrc *n);
/* nsrc_pub.c: an item's NEWS event; once scored, its scores stored and
 * the NEWS again with them (same id: consumers keep the later), p freed. */
void nsrc_emit(nsrc *n, const nsrc_pending *p);
void nsrc_publish_scored(nsrc *n, nsrc_pending *p);

/* An item between nsrc_offer and its NEWS event. */
struct nsrc_pending {
    char *id, *feed, *title, *url, *summary;
    char symbols[NSRC_SYMBOLS];
    int64_t published_ms;
    double score, impact, llm_score;
    const char *scorer; /* n->scorer once scored */
    int64_t call;       /* the scorer's call id, > 0 while asked */
    int64_t asked_ms;
    nsrc *n;
};
void nsrc_pending_free(nsrc_pending *p);

#endif

/* The LLM scorer (newssrc.h): each new item of a source with `scorer =
 * ai.X` is asked of that [ai.*] instance (host->ai_request) for its
 * sentiment and its impact on its coins' prices, NSRC_INFLIGHT at a time,
 * at most scorer_per_hour calls in any hour. The item is stored and
 * published at once with its lexicon score, and published again with the
 * LLM's when the answer comes; when the scorer cannot answer (not running,
 * an error, past scorer_timeout, over its budget, an answer that is not
 * the format: stored in audit_log with the reason) it keeps the lexicon's
 * score, and that is said.
 * An item is scored once: a story seen before, in any source, is never
 * offered again. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "newssrc.h"

#define HOUR_MS 3600000LL

const char nsrc_score_schema[] =
    "{\"type\": \"object\", \"properties\": {"
    "\"sentiment\": {\"type\": \"number\", \"minimum\": -1, \"maximum\": 1}, "
    "\"impact\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1}, "
    "\"symbols\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, "
    "\"reason\": {\"type\": \"string\"}}, "
    "\"required\": [\"sentiment\", \"impact\", \"symbols\", \"reason\"], "
    "\"additionalProperties\": false}";

static const char SYSTEM[] =
    "You rate crypto news for traders of perpetual swaps. For the item you are given, answer "
    "with one JSON object and nothing else: {\"sentiment\": number from -1 (bearish for the "
    "coins it is about) to 1 (bullish), \"impact\": number from 0 to 1 (how likely it is to "
    "move those coins' prices within hours: 0.8 or more only for market-moving news such as "
    "exchange hacks or failures, ETF or regulatory decisions, large liquidations or "
    "unlocks, macro shocks; opinion pieces, price recaps and promotions stay below 0.3), "
    "\"symbols\": [the tickers of the coins it is about, e.g. \"BTC\"], \"reason\": one short "
    "sentence}.";

static int64_t now_ms(const nsrc *n)
{
    return n->h->now_us() / 1000;
}

/* ------------------------------------------------------------ the answer */

/* The JSON object in a model's text: after any <think>…</think>, between
 * the first '{' and the last '}' (code fences and words around it left). */
static json_t *object_in(const char *text, char *why, size_t whylen)
{
    const char *t = text ? text : "";
    const char *think = strstr(t, "</think>");
    if (think) {
        t = think + 8;
    }
    const char *a = strchr(t, '{'), *b = strrchr(t, '}');
    if (!a || !b || b < a) {
        snprintf(why, whylen, "no JSON object in the answer");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(a, (size_t)(b - a + 1), JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        snprintf(why, whylen, "not JSON: %.120s", je.text);
    }
    return o;
}

static bool number_in(const json_t *o, const char *k, double lo, double hi, double *out, char *why,
                      size_t whylen)
{
    const json_t *v = json_object_get(o, k);
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!isfinite(d) || d < lo || d > hi) {
        snprintf(why, whylen, "\"%s\" is %s, not a number from %g to %g", k,
                 !v                  ? "missing"
                 : json_is_number(v) ? "out of range"
                                     : "not a number",
                 lo, hi);
        return false;
    }
    *out = d;
    return true;
}

bool nsrc_parse_score(const char *text, double *sentiment, double *impact, char *symbols,
                      size_t symcap, char *why, size_t whylen)
{
    json_t *o = object_in(text, why, whylen);
    if (!o) {
        return false;
    }
    bool ok = json_is_object(o);
    if (!ok) {
        snprintf(why, whylen, "the answer is not a JSON object");
    }
    ok = ok && number_in(o, "sentiment", -1, 1, sentiment, why, whylen) &&
         number_in(o, "impact", 0, 1, impact, why, whylen);
    const json_t *syms = ok ? json_object_get(o, "symbols") : NULL;
    if (ok && syms && !json_is_array(syms)) {
        snprintf(why, whylen, "\"symbols\" is not an array");
        ok = false;
    }
    if (ok && symcap) {
        symbols[0] = '\0';
        size_t i;
        const json_t *s;
        json_array_foreach(syms, i, s)
        {
            char up[16];
            const char *v = json_string_value(s);
            size_t l = v ? strlen(v) : 0;
            /* a blank or a comma would split it into codes in nsrc_symbols_merge */
            if (l == 0 || l >= sizeof(up) || strcspn(v, ", ") != l) {
                continue; /* not a ticker: left out */
            }
            for (size_t k = 0; k <= l; k++) {
                up[k] = (char)toupper((unsigned char)v[k]);
            }
            nsrc_symbols_merge(symbols, symcap, up);
        }
    }
    json_decref(o);
    return ok;
}

/* ------------------------------------------------------------ the calls */

/* Published already with the lexicon's score: nothing more to say of it. */
static void unscored(nsrc *n, nsrc_pending *p)
{
    n->unscored++;
    n->h->metric_add(n->m_unscored, 1);
    nsrc_pending_free(p);
}

static size_t calls_last_hour(const nsrc *n, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < n->ncalls; i++) {
        k += n->calls_ms[i] > now - HOUR_MS;
    }
    return k;
}

static void audit(nsrc *n, const nsrc_pending *p, const char *why, const char *content)
{
    size_t cl = content ? strnlen(content, 4000) : 0;
    while (cl > 0 && content[cl] && ((unsigned char)content[cl] & 0xC0) == 0x80) {
        cl--; /* cut before a character, not in one */
    }
    json_t *d = json_pack("{s:s, s:s, s:s, s:s%}", "item", p->id, "scorer", n->scorer, "why", why,
                          "content", content ? content : "", cl);
    if (!d) { /* not UTF-8: the row without the text */
        d = json_pack("{s:s, s:s, s:s}", "item", p->id, "scorer", n->scorer, "why", why);
    }
    char *data = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    char id[128];
    snprintf(id, sizeof(id), "news-score/%s", p->id);
    int64_t now = now_ms(n);
    const at_db_value v[] = {AT_DB_S(id),
                             AT_DB_I(now),
                             AT_DB_S(n->h->instance_name(n->inst)),
                             AT_DB_S("news_score_rejected"),
                             AT_DB_S(why),
                             AT_DB_S(data)};
    n->h->db_write(n->inst,
                   "INSERT INTO audit_log (id, ts_ms, instance, kind, message, data_json) VALUES "
                   "($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                   v, 6, NULL, NULL);
    free(data);
}

static void pump(nsrc *n);

static void on_reply(void *arg, const at_ai_reply *r)
{
    nsrc_pending *p = arg;
    nsrc *n = p->n;
    p->call = 0;
    for (size_t i = 0; i < NSRC_INFLIGHT; i++) {
        if (n->inflight[i] == p) {
            n->inflight[i] = NULL;
        }
    }
    if (isfinite(r->cost_usd) && r->cost_usd > 0) {
        n->h->metric_add(n->m_cost, r->cost_usd);
    }
    if (r->err != AT_OK) {
        if (!n->scorer_down) {
            n->h->log(n->inst, AT_LOG_WARN,
                      "%s did not score \"%.80s\" (%s): published with the lexicon's score; "
                      "said once until it answers again",
                      n->scorer, p->title, r->error ? r->error : "no answer");
        }
        n->scorer_down = true;
        unscored(n, p);
        pump(n);
        return;
    }
    if (n->scorer_down) {
        n->h->log(n->inst, AT_LOG_INFO, "%s scores news again", n->scorer);
        n->scorer_down = false;
    }
    double s, imp;
    char syms[NSRC_SYMBOLS], why[200];
    if (!nsrc_parse_score(r->content, &s, &imp, syms, sizeof(syms), why, sizeof(why))) {
        n->h->log(n->inst, AT_LOG_WARN,
                  "%s's score of \"%.80s\" refused: %s (kept in audit_log); published with the "
                  "lexicon's score",
                  n->scorer, p->title, why);
        audit(n, p, why, r->content);
        unscored(n, p);
        pump(n);
        return;
    }
    p->llm_score = s;
    p->impact = imp;
    p->scorer = n->scorer;
    /* the model's tickers are not added: a made-up one would reach traders
     * of that coin; the item's coins are its source's and its text's */
    n->scored++;
    n->h->metric_add(n->m_scored, 1);
    nsrc_publish_scored(n, p);
    pump(n);
}

/* Ask the scorer about p; false when it cannot be asked (said). */
static bool ask(nsrc *n, nsrc_pending *p, size_t slot)
{
    int64_t now = now_ms(n);
    char *user = NULL;
    size_t ulen = 0;
    FILE *f = open_memstream(&user, &ulen);
    if (!f) {
        return false;
    }
    fprintf(f, "Source: %s\nPublished: %" PRId64 " minutes ago\nHeadline: %s\n", p->feed,
            (now - p->published_ms) / 60000, p->title);
    if (p->summary && p->summary[0]) {
        fprintf(f, "Summary: %.1500s\n", p->summary);
    }
    fprintf(f, "Coins named: %s\n", p->symbols[0] ? p->symbols : "none found");
    if (fclose(f) != 0) {
        free(user);
        return false;
    }
    char rid[96];
    snprintf(rid, sizeof(rid), "news:%s", p->id);
    at_ai_request req = {.request_id = rid,
                         .system = SYSTEM,
                         .user = user,
                         .json_schema = nsrc_score_schema,
                         .deadline_ms = p->asked_ms + n->scorer_timeout_ms};
    int64_t id = n->h->ai_request(n->inst, n->scorer, &req, on_reply, p);
    free(user);
    if (id <= 0) {
        if (!n->scorer_down) {
            n->h->log(n->inst, AT_LOG_WARN,
                      "%s cannot be asked (%s): news is published with the lexicon's score; "
                      "said once until it answers again",
                      n->scorer,
                      id == AT_ENOENT   ? "no [ai.*] instance of that name"
                      : id == AT_ESTATE ? "it is not running"
                                        : "refused");
        }
        n->scorer_down = true;
        return false;
    }
    p->call = id;
    n->inflight[slot] = p;
    n->calls_ms[n->calls_at] = now;
    n->calls_at = (n->calls_at + 1) % (sizeof(n->calls_ms) / sizeof(n->calls_ms[0]));
    if (n->ncalls < sizeof(n->calls_ms) / sizeof(n->calls_ms[0])) {
        n->ncalls++;
    }
    return true;
}

static void pump(nsrc *n)
{
    while (n->started && n->qlen > 0) {
        size_t slot = 0;
        while (slot < NSRC_INFLIGHT && n->inflight[slot]) {
            slot++;
        }
        if (slot == NSRC_INFLIGHT) {
            return;
        }
        nsrc_pending *p = n->queue[n->qhead];
        n->qhead = (n->qhead + 1) % NSRC_QUEUE;
        n->qlen--;
        int64_t now = now_ms(n);
        if (now - p->asked_ms > n->scorer_timeout_ms) { /* asked_ms: when it was queued */
            unscored(n, p);
            continue;
        }
        if ((int64_t)calls_last_hour(n, now) >= n->scorer_per_hour) {
            if (!n->over_budget) {
                n->h->log(n->inst, AT_LOG_WARN,
                          "%s: %" PRId64 " calls in the last hour (scorer_per_hour): news is "
                          "published with the lexicon's score until the hour allows more",
                          n->scorer, n->scorer_per_hour);
            }
            n->over_budget = true;
            unscored(n, p);
            continue;
        }
        n->over_budget = false;
        if (!ask(n, p, slot)) {
            unscored(n, p);
        }
    }
}

void nsrc_score_add(nsrc *n, nsrc_pending *p)
{
    if (n->qlen == NSRC_QUEUE) {
        n->h->log(n->inst, AT_LOG_WARN, "%d items wait for %s: \"%.80s\" gets the lexicon's score",
                  NSRC_QUEUE, n->scorer, p->title);
        unscored(n, p);
        return;
    }
    p->asked_ms = now_ms(n);
    n->queue[(n->qhead + n->qlen) % NSRC_QUEUE] = p;
    n->qlen++;
    pump(n);
}

/* At stop: the calls cancelled, the items freed (they are stored; nothing
 * is published while the engine stops). */
void nsrc_score_stop(nsrc *n)
{
    for (size_t i = 0; i < NSRC_INFLIGHT; i++) {
        nsrc_pending *p = n->inflight[i];
        if (p) {
            n->h->ai_cancel(p->call);
            nsrc_pending_free(p);
            n->inflight[i] = NULL;
        }
    }
    while (n->qlen > 0) {
        nsrc_pending_free(n->queue[n->qhead]);
        n->qhead = (n->qhead + 1) % NSRC_QUEUE;
        n->qlen--;
    }
}

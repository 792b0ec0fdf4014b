/* The news a trader keeps and shows (trader_internal.h): headlines about its
 * coins, or about none in particular (the market at large), the newest
 * TR_NEWS of them; the prompt's section picks, per coin in the trader's
 * order and then for the market, the news_per_symbol most relevant ones —
 * relevance = impact (or, for an unjudged item, the sentiment's strength)
 * halved every 6 hours of age — and adds them one rank at a time across the
 * coins (every coin's best before any coin's second) while news_tokens
 * allows, after the sentiment readings. Shown newest first per coin. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompt.h"
#include "trader_internal.h"

#define HALF_LIFE_MS (6.0 * 3600 * 1000)
#define DEFAULT_TOKENS 300
#define DEFAULT_PER 3
#define DEFAULT_AGE_MS (12LL * 3600 * 1000)
#define MAX_GROUPS (TR_MAX_SYMBOLS + 1)

/* Whether a comma-separated currency list names `base` (len bl) as a whole item. */
static bool list_names(const char *list, const char *base, size_t bl)
{
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ",");
        if (l == bl && strncmp(p, base, bl) == 0) {
            return true;
        }
        p += l + (p[l] == ',');
    }
    return false;
}

static bool about_trader(const trader *t, const char *symbols)
{
    for (size_t i = 0; i < t->nsym; i++) {
        if (list_names(symbols, t->sym[i].name, strcspn(t->sym[i].name, "-"))) {
            return true;
        }
    }
    return false;
}

/* Cut at a whole UTF-8 character and on one line. */
static void clean_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    size_t n = strlen(dst), i = n;
    while (i > 0 && ((unsigned char)dst[i - 1] & 0xC0) == 0x80) {
        i--;
    }
    if (i > 0 && (unsigned char)dst[i - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)dst[i - 1];
        if (n - (i - 1) < (size_t)(lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2)) {
            dst[i - 1] = '\0';
        }
    }
    for (char *p = dst; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *p = ' ';
        }
    }
}

void tr_news_keep(trader *t, const at_ev_news *n, int64_t now_ms)
{
    if (!n->title || !n->title[0]) {
        return;
    }
    const char *syms = n->symbols ? n->symbols : "";
    if (syms[0] && !about_trader(t, syms)) {
        return; /* about other coins only */
    }
    size_t at = t->nnews;
    for (size_t i = 0; i < t->nnews; i++) {
        if (n->id && strcmp(t->news[i].id, n->id) == 0) {
            at = i; /* the same item again (scored since): replaced */
            break;
        }
    }
    if (at == TR_NEWS) { /* full: the oldest goes */
        at = 0;
        for (size_t i = 1; i < t->nnews; i++) {
            if (t->news[i].ts_ms < t->news[at].ts_ms) {
                at = i;
            }
        }
    } else if (at == t->nnews) {
        t->nnews++;
    }
    tr_news *x = &t->news[at];
    clean_copy(x->id, sizeof(x->id), n->id);
    x->ts_ms = n->published_ms > 0 ? n->published_ms : now_ms;
    clean_copy(x->feed, sizeof(x->feed), n->feed ? n->feed : "news");
    clean_copy(x->title, sizeof(x->title), n->title);
    clean_copy(x->symbols, sizeof(x->symbols), syms);
    /* an LLM's score only with its scorer named (a publisher built before
     * ABI 1.7 leaves llm_score 0) */
    x->score = n->scorer && isfinite(n->llm_score) ? n->llm_score : n->score;
    x->impact = isfinite(n->impact) && n->impact > 0 ? n->impact : 0;
}

static double relevance(const tr_news *x, int64_t now_ms)
{
    double strength = x->impact > 0 ? x->impact : isfinite(x->score) ? fabs(x->score) : 0;
    double age = (double)(now_ms > x->ts_ms ? now_ms - x->ts_ms : 0);
    /* + a little for being newer, so unjudged neutral items still rank by age */
    return (strength + 0.01) * exp2(-age / HALF_LIFE_MS);
}

typedef struct group {
    char name[24]; /* "BTC", or "Market" */
    size_t idx[TR_NEWS];
    size_t n;           /* candidates, most relevant first */
    bool pick[TR_NEWS]; /* by candidate rank */
} group;

static void line_of(const tr_news *x, const char *gname, int64_t now_ms, char *out, size_t cap)
{
    char ag[24], extra[64] = "";
    tr_age(now_ms - x->ts_ms, ag, sizeof(ag));
    if (isfinite(x->score) && x->impact > 0) {
        snprintf(extra, sizeof(extra), " (sentiment %+.2f, impact %.2f)", x->score, x->impact);
    } else if (isfinite(x->score)) {
        snprintf(extra, sizeof(extra), " (sentiment %+.2f)", x->score);
    }
    snprintf(out, cap, "%s: %s ago [%s] %s%s\n", gname, ag, x->feed, x->title, extra);
}

char *tr_render_news(const trader *t, int64_t now_ms)
{
    tbuf b = {0};
    if (t->cfg.news_tokens < 0) {
        return tb_take(&b);
    }
    int64_t budget = t->cfg.news_tokens > 0 ? t->cfg.news_tokens : DEFAULT_TOKENS;
    size_t per = t->cfg.news_per_symbol > 0 ? (size_t)t->cfg.news_per_symbol : DEFAULT_PER;
    int64_t max_age = t->cfg.news_max_age_ms > 0 ? t->cfg.news_max_age_ms : DEFAULT_AGE_MS;
    per = per < TR_NEWS ? per : TR_NEWS;

    /* the sentiment readings first: a line each, short */
    char sent[TR_SENTIMENT][96];
    int64_t used = 0;
    size_t nsent = 0;
    for (size_t i = 0; i < t->nsent; i++) {
        const tr_sentiment *x = &t->sent[i];
        snprintf(sent[nsent], sizeof(sent[nsent]), "Sentiment %s: %.4g%s%s%s\n", x->feed, x->value,
                 x->label[0] ? " (" : "", x->label, x->label[0] ? ")" : "");
        int64_t c = prompt_tokens(sent[nsent]);
        if (used + c <= budget) {
            used += c;
            nsent++;
        }
    }

    /* groups: each coin of the trader once, in its order, then the market */
    group *g = calloc(MAX_GROUPS, sizeof(*g));
    if (!g) {
        return tb_take(&b); /* no news rather than no prompt */
    }
    size_t ng = 0;
    for (size_t i = 0; i < t->nsym && ng + 1 < MAX_GROUPS; i++) {
        size_t bl = strcspn(t->sym[i].name, "-");
        bool dup = false;
        for (size_t k = 0; k < ng && !dup; k++) {
            dup = strlen(g[k].name) == bl && strncmp(g[k].name, t->sym[i].name, bl) == 0;
        }
        if (!dup && bl < sizeof(g[0].name)) {
            memcpy(g[ng].name, t->sym[i].name, bl);
            ng++;
        }
    }
    snprintf(g[ng].name, sizeof(g[ng].name), "Market");
    ng++;
    bool taken[TR_NEWS] = {false};
    for (size_t k = 0; k < ng; k++) {
        bool market = k == ng - 1;
        for (size_t i = 0; i < t->nnews; i++) {
            const tr_news *x = &t->news[i];
            bool in = market ? x->symbols[0] == '\0'
                             : list_names(x->symbols, g[k].name, strlen(g[k].name));
            if (!in || taken[i] || now_ms - x->ts_ms > max_age) {
                continue;
            }
            taken[i] = true; /* shown under its first coin only */
            /* insertion by relevance, most relevant first */
            double r = relevance(x, now_ms);
            size_t j = g[k].n++;
            while (j > 0 && relevance(&t->news[g[k].idx[j - 1]], now_ms) < r) {
                g[k].idx[j] = g[k].idx[j - 1];
                j--;
            }
            g[k].idx[j] = i;
        }
        if (g[k].n > per) {
            g[k].n = per;
        }
    }
    /* one rank at a time across the groups, while the budget allows */
    static const char head[] = "News (sentiment -1..1, impact 0..1), newest first per coin:\n";
    bool any = false;
    char line[400];
    for (size_t r = 0; r < per; r++) {
        for (size_t k = 0; k < ng; k++) {
            if (r >= g[k].n) {
                continue;
            }
            line_of(&t->news[g[k].idx[r]], g[k].name, now_ms, line, sizeof(line));
            int64_t c = prompt_tokens(line) + (any ? 0 : prompt_tokens(head));
            if (used + c <= budget) {
                used += c;
                g[k].pick[r] = any = true;
            }
        }
    }
    if (any) {
        tb_printf(&b, "%s", head);
    }
    for (size_t k = 0; k < ng; k++) {
        const tr_news *shown[TR_NEWS];
        size_t ns = 0;
        for (size_t r = 0; r < g[k].n; r++) {
            if (g[k].pick[r]) {
                const tr_news *x = &t->news[g[k].idx[r]];
                size_t j = ns++;
                while (j > 0 && shown[j - 1]->ts_ms < x->ts_ms) { /* newest first */
                    shown[j] = shown[j - 1];
                    j--;
                }
                shown[j] = x;
            }
        }
        for (size_t j = 0; j < ns; j++) {
            line_of(shown[j], g[k].name, now_ms, line, sizeof(line));
            tb_printf(&b, "%s", line);
        }
    }
    for (size_t i = 0; i < nsent; i++) {
        tb_printf(&b, "%s", sent[i]);
    }
    free(g);
    return tb_take(&b);
}

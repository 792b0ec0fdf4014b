/* Feeds read with expat (rss_parse.h). Names are matched by their local
 * part ("dc:date" is "date", "content:encoded" is "encoded"): feeds spell
 * their namespace prefixes freely. */
#include "rss_parse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include <aitrader/types.h>

#include "news.h"

#define MAX_DEPTH 64

/* The fields of an item this reads; their order is their preference where
 * two fill the same slot (a description before content:encoded, a
 * publication date before an update). */
typedef enum field {
    F_NONE,
    F_TITLE,
    F_LINK,
    F_ID,
    F_DESCRIPTION,
    F_CONTENT,
    F_PUBLISHED,
    F_UPDATED,
} field;

typedef struct parser {
    XML_Parser xp;
    rss_doc *doc;
    size_t max_items;
    int depth;
    int item_depth;  /* depth of the open item/entry, 0 = none */
    field cur;       /* the field being read (its element is open) */
    int field_depth; /* its depth */
    bool channel_title;
    char *buf; /* its text */
    size_t blen;
    bool capped;
    /* the open item's fields */
    char *f[8];
    char *atom_link; /* Atom's <link href> (rel alternate or none) */
    char why[200];
} parser;

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void stop(parser *p, const char *why)
{
    if (!p->why[0]) {
        snprintf(p->why, sizeof(p->why), "%s", why);
    }
    XML_StopParser(p->xp, XML_FALSE);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sys, const XML_Char *pub,
                       int internal)
{
    (void)name;
    (void)sys;
    (void)pub;
    (void)internal;
    stop(ud, "a DOCTYPE (entity declarations are refused)");
}

static void on_entity_decl(void *ud, const XML_Char *name, int pe, const XML_Char *value, int vlen,
                           const XML_Char *base, const XML_Char *sys, const XML_Char *pub,
                           const XML_Char *notation)
{
    (void)name;
    (void)pe;
    (void)value;
    (void)vlen;
    (void)base;
    (void)sys;
    (void)pub;
    (void)notation;
    stop(ud, "an entity declaration (refused)");
}

static field field_of(const char *n)
{
    static const struct {
        const char *name;
        field f;
    } names[] = {{"title", F_TITLE},
                 {"link", F_LINK},
                 {"guid", F_ID},
                 {"id", F_ID},
                 {"description", F_DESCRIPTION},
                 {"summary", F_DESCRIPTION},
                 {"encoded", F_CONTENT},
                 {"content", F_CONTENT},
                 {"pubDate", F_PUBLISHED},
                 {"published", F_PUBLISHED},
                 {"date", F_PUBLISHED},
                 {"issued", F_PUBLISHED},
                 {"updated", F_UPDATED},
                 {"modified", F_UPDATED}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(n, names[i].name) == 0) {
            return names[i].f;
        }
    }
    return F_NONE;
}

static const char *attr(const XML_Char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2) {
        if (strcmp(local(atts[i]), name) == 0) {
            return atts[i + 1];
        }
    }
    return NULL;
}

static void clear_item(parser *p)
{
    for (size_t i = 0; i < sizeof(p->f) / sizeof(p->f[0]); i++) {
        free(p->f[i]);
        p->f[i] = NULL;
    }
    free(p->atom_link);
    p->atom_link = NULL;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    parser *p = ud;
    const char *n = local(name);
    p->depth++;
    if (p->depth > MAX_DEPTH) {
        stop(p, "nested deeper than 64 elements");
        return;
    }
    if (p->depth == 1) {
        p->doc->kind = strcmp(n, "rss") == 0    ? RSS_RSS2
                       : strcmp(n, "RDF") == 0  ? RSS_RDF
                       : strcmp(n, "feed") == 0 ? RSS_ATOM
                                                : RSS_NONE;
        if (p->doc->kind == RSS_NONE) {
            char why[120];
            snprintf(why, sizeof(why), "not a feed: the document is <%.60s>", name);
            stop(p, why);
        }
        return;
    }
    if (p->cur != F_NONE) {
        return; /* markup inside a field (Atom's xhtml content): its text counts */
    }
    bool item = strcmp(n, "item") == 0 || strcmp(n, "entry") == 0;
    if (item && p->item_depth == 0) {
        p->item_depth = p->depth;
        clear_item(p);
        return;
    }
    bool in_item = p->item_depth > 0 && p->depth == p->item_depth + 1;
    /* the channel's own title: <rss><channel><title>, <feed><title> */
    bool chan = p->item_depth == 0 && strcmp(n, "title") == 0 && !p->doc->title &&
                p->depth == (p->doc->kind == RSS_ATOM ? 2 : 3);
    if (!in_item && !chan) {
        return;
    }
    field f = chan ? F_TITLE : field_of(n);
    if (f == F_LINK && p->doc->kind == RSS_ATOM) {
        const char *rel = attr(atts, "rel"), *href = attr(atts, "href");
        if (href && (!rel || strcmp(rel, "alternate") == 0) && !p->atom_link) {
            p->atom_link = strdup(href);
        }
        return;
    }
    if (f == F_NONE) {
        return;
    }
    p->cur = f;
    p->field_depth = p->depth;
    p->channel_title = chan;
    p->blen = 0;
    p->capped = false;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    parser *p = ud;
    if (p->cur == F_NONE || len <= 0 || p->capped) {
        return;
    }
    size_t n = (size_t)len;
    if (p->blen + n > RSS_FIELD_MAX) {
        n = RSS_FIELD_MAX - p->blen;
        p->capped = true; /* the rest of this field is not kept */
    }
    memcpy(p->buf + p->blen, s, n);
    p->blen += n;
}

static char *plain_dup(const char *s, size_t len, size_t cap)
{
    char *out = malloc(cap);
    if (out && news_plain(s, len, out, cap) == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *trim_dup(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == '\t')) {
        len--;
    }
    if (len == 0 || len > 2048) {
        return NULL;
    }
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* The field just read into the item (or the channel's title). */
static void keep_field(parser *p)
{
    char *v = NULL;
    switch (p->cur) {
    case F_TITLE:
        v = plain_dup(p->buf, p->blen, RSS_TITLE_MAX);
        break;
    case F_DESCRIPTION:
    case F_CONTENT:
        v = plain_dup(p->buf, p->blen, RSS_SUMMARY_MAX);
        break;
    default:
        v = trim_dup(p->buf, p->blen);
        break;
    }
    if (p->channel_title) {
        p->doc->title = v;
    } else if (!p->f[p->cur]) {
        p->f[p->cur] = v; /* the first of a kind counts */
    } else {
        free(v);
    }
}

static void push_item(parser *p)
{
    rss_doc *d = p->doc;
    char **f = p->f;
    const char *summary = f[F_DESCRIPTION] ? f[F_DESCRIPTION] : f[F_CONTENT];
    if ((!f[F_TITLE] && !summary) || d->n >= p->max_items) {
        d->dropped++;
        return;
    }
    char *title = f[F_TITLE] ? f[F_TITLE] : plain_dup(summary, strlen(summary), RSS_TITLE_MAX);
    if (!title) {
        stop(p, "out of memory");
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 32;
        rss_item *v = realloc(d->items, cap * sizeof(*v));
        if (!v) {
            stop(p, "out of memory");
            return;
        }
        d->items = v;
        d->cap = cap;
    }
    rss_item *it = &d->items[d->n++];
    int64_t pub = news_time(f[F_PUBLISHED]);
    /* without a title, the summary's start is the title (and not said twice) */
    *it = (rss_item){.id = f[F_ID],
                     .title = title,
                     .link = f[F_LINK] ? f[F_LINK] : p->atom_link,
                     .summary = !f[F_TITLE]        ? NULL
                                : f[F_DESCRIPTION] ? f[F_DESCRIPTION]
                                                   : f[F_CONTENT],
                     .published_ms = pub >= 0 ? pub : news_time(f[F_UPDATED])};
    /* what the item took is its own now (clear_item frees the rest) */
    if (it->summary && it->summary == f[F_DESCRIPTION]) {
        f[F_DESCRIPTION] = NULL;
    } else if (it->summary) {
        f[F_CONTENT] = NULL;
    }
    if (it->link == p->atom_link) {
        p->atom_link = NULL;
    } else {
        f[F_LINK] = NULL;
    }
    f[F_ID] = f[F_TITLE] = NULL;
    clear_item(p);
}

static void on_end(void *ud, const XML_Char *name)
{
    parser *p = ud;
    (void)name;
    if (p->cur != F_NONE && p->depth == p->field_depth) {
        keep_field(p);
        p->cur = F_NONE;
        p->channel_title = false;
    } else if (p->item_depth > 0 && p->depth == p->item_depth) {
        push_item(p);
        p->item_depth = 0;
    }
    p->depth--;
}

int rss_parse(const char *xml, size_t len, size_t max_items, rss_doc *doc, char *why, size_t whylen)
{
    memset(doc, 0, sizeof(*doc));
    why[0] = '\0';
    parser p = {.doc = doc, .max_items = max_items};
    p.buf = malloc(RSS_FIELD_MAX);
    p.xp = p.buf ? XML_ParserCreate(NULL) : NULL;
    if (!p.xp) {
        free(p.buf);
        snprintf(why, whylen, "out of memory");
        return AT_ENOMEM;
    }
    XML_SetUserData(p.xp, &p);
    XML_SetStartDoctypeDeclHandler(p.xp, on_doctype);
    XML_SetEntityDeclHandler(p.xp, on_entity_decl);
    XML_SetElementHandler(p.xp, on_start, on_end);
    XML_SetCharacterDataHandler(p.xp, on_text);
    /* never an external entity, whatever a document says */
    XML_SetParamEntityParsing(p.xp, XML_PARAM_ENTITY_PARSING_NEVER);
    int rc = AT_OK;
    if (len > (size_t)INT32_MAX) {
        snprintf(why, whylen, "%zu bytes: too large", len);
        rc = AT_EINVAL;
    } else if (XML_Parse(p.xp, xml, (int)len, 1) != XML_STATUS_OK) {
        if (p.why[0]) {
            snprintf(why, whylen, "%s", p.why);
        } else {
            snprintf(why, whylen, "line %lu, column %lu: %s",
                     (unsigned long)XML_GetCurrentLineNumber(p.xp),
                     (unsigned long)XML_GetCurrentColumnNumber(p.xp) + 1,
                     XML_ErrorString(XML_GetErrorCode(p.xp)));
        }
        rc = AT_EINVAL;
    } else if (doc->kind == RSS_NONE) {
        snprintf(why, whylen, "not a feed: empty");
        rc = AT_EINVAL;
    }
    clear_item(&p);
    XML_ParserFree(p.xp);
    free(p.buf);
    return rc;
}

void rss_doc_free(rss_doc *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        rss_item *it = &doc->items[i];
        free(it->id);
        free(it->title);
        free(it->link);
        free(it->summary);
    }
    free(doc->items);
    free(doc->title);
    memset(doc, 0, sizeof(*doc));
}

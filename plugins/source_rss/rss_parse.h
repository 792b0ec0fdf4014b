/* RSS 2.0, RSS 1.0 (RDF) and Atom feeds read with expat into items of plain
 * text. A feed with a DOCTYPE is refused outright: no entity is ever
 * declared, so none is expanded (an XML bomb, an external entity) — RSS and
 * Atom need none. Every field is capped while it is read (a 50 MB
 * description costs at most the cap), and so is the number of items. */
#ifndef RSS_PARSE_H
#define RSS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define RSS_TITLE_MAX 400   /* bytes of a title, plain text */
#define RSS_SUMMARY_MAX 600 /* of a summary */
#define RSS_FIELD_MAX 65536 /* raw text kept of any one field while reading */

typedef enum rss_kind { RSS_NONE, RSS_RSS2, RSS_RDF, RSS_ATOM } rss_kind;

typedef struct rss_item {
    char *id;             /* guid / Atom id as written, or NULL */
    char *title;          /* plain text; a summary's start when the item has no title */
    char *link;           /* as written (resolve it against the feed), or NULL */
    char *summary;        /* plain text, or NULL */
    int64_t published_ms; /* publication (else update) time, -1 when none or unreadable */
} rss_item;

typedef struct rss_doc {
    rss_kind kind;
    char *title; /* the channel's, or NULL */
    rss_item *items;
    size_t n, cap;
    size_t dropped; /* items past max_items, and items with neither title nor summary */
} rss_doc;

/* Parse `len` bytes. AT_OK with *doc filled (free with rss_doc_free, also
 * on error), or AT_EINVAL with why ("line 3, column 7: not well-formed",
 * "a DOCTYPE (entity declarations are refused)", "not a feed: <html>"). */
int rss_parse(const char *xml, size_t len, size_t max_items, rss_doc *doc, char *why,
              size_t whylen);
void rss_doc_free(rss_doc *doc);

#endif

/* CryptoPanic's posts API answer (v1 and the developer v2):
 * {"count": N, "next": url|null, "previous": …, "results": [post, …]} with
 * posts {"kind", "title", "published_at", "url", "original_url",
 * "description", "source": {"title", "domain"}, "domain", "currencies" (v1)
 * or "instruments" (v2): [{"code": "BTC", …}], "votes": {…}}; every field
 * optional but the title. An error is {"status": "…", "info": "…"} or
 * {"detail": "…"}. */
#ifndef CP_PARSE_H
#define CP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define CP_TITLE_MAX 400
#define CP_SUMMARY_MAX 1200
#define CP_MAX_POSTS 200

typedef struct cp_post {
    char title[CP_TITLE_MAX];     /* plain text, not empty */
    char summary[CP_SUMMARY_MAX]; /* plain text, may be empty */
    char url[1024];       /* the article's (original_url), else CryptoPanic's; may be empty */
    char source[72];      /* source.title, else the domain, else "CryptoPanic" */
    char symbols[128];    /* the post's currency codes, comma-separated */
    int64_t published_ms; /* -1 when absent or unreadable */
} cp_post;

typedef struct cp_page {
    cp_post *posts;
    size_t n;
    size_t dropped; /* posts left out: no title, over CP_MAX_POSTS, not objects */
} cp_page;

/* AT_OK and the posts (newest first as the API gives them), or AT_EINVAL
 * and why: not JSON, an error answer (its text), no results array. */
int cp_parse(const char *body, size_t len, cp_page *out, char *why, size_t whylen);
void cp_page_free(cp_page *p);

#endif

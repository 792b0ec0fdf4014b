/* Fuzz target for source_rss's feed reader (rss_parse) and lib/news's text
 * functions, which every feed item goes through.
 *
 * The input is a whole answer body (any bytes). rss_parse must return AT_OK
 * with items whose title is non-empty, at most RSS_TITLE_MAX bytes and valid
 * UTF-8 without control characters, whose summary (when there is one) is the
 * same within RSS_SUMMARY_MAX, and at most 50 of them; or AT_EINVAL with a
 * reason. Each item's title then goes through news_tags, news_sentiment
 * (in [-1, 1]) and news_key; its link through news_resolve and
 * news_canonical_url (NUL-terminated within their buffers); its date text
 * was read by news_time (-1 or a time from 1970 on). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/types.h>

#include "news.h"
#include "rss_parse.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_rss: property violated: %s\n", what);
        abort();
    }
}

/* Valid UTF-8, no control character, shorter than cap. */
static void plain_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    check(n < cap, "text within its cap");
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        check(c >= 0x20 && c != 0x7F, "no control character");
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        check(c < 0x80 || (c >= 0xC2 && c <= 0xF4), "a valid lead byte");
        check(i + k <= n, "a whole sequence");
        for (size_t j = 1; j < k; j++) {
            check(((unsigned char)s[i + j] & 0xC0) == 0x80, "continuation bytes");
        }
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rss_doc doc;
    char why[200];
    int rc = rss_parse((const char *)data, size, 50, &doc, why, sizeof(why));
    check(rc == AT_OK || rc == AT_EINVAL, "AT_OK or AT_EINVAL");
    if (rc != AT_OK) {
        check(why[0] != '\0', "a reason");
    }
    check(doc.n <= 50, "at most max_items");
    for (size_t i = 0; i < doc.n; i++) {
        const rss_item *it = &doc.items[i];
        check(it->title && it->title[0], "a title");
        plain_ok(it->title, RSS_TITLE_MAX);
        if (it->summary) {
            plain_ok(it->summary, RSS_SUMMARY_MAX);
        }
        check(it->published_ms == -1 || it->published_ms >= 0, "a time or -1");
        char tags[64], key[64], url[512], canon[512];
        check(news_tags(it->title, tags, sizeof(tags)) >= 0 && strlen(tags) < sizeof(tags),
              "tags fit");
        double s = news_sentiment(it->title, NULL);
        check(isfinite(s) && s >= -1 && s <= 1, "a score in [-1, 1]");
        news_key("t:", it->title, false, key);
        check(strlen(key) == 34, "a key of 34 characters");
        if (it->link && news_resolve("https://feed.example/a/b.xml", it->link, url, sizeof(url))) {
            check(strlen(url) < sizeof(url), "a resolved URL within its buffer");
            if (news_canonical_url(url, canon, sizeof(canon))) {
                check(strlen(canon) < sizeof(canon), "a canonical URL within its buffer");
            }
        }
    }
    rss_doc_free(&doc);
    return 0;
}

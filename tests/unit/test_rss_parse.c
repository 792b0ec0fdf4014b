/* source_rss's feed reader (rss_parse): RSS 2.0 with CDATA, HTML in
 * descriptions, entities and missing dates; Atom (link href, html content,
 * updated for a missing published); RSS 1.0; and what is refused: a DOCTYPE
 * (the billion laughs and an external entity), not XML, not a feed, too deep.
 * A huge description is capped while it is read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/types.h>

#include "rss_parse.h"

static rss_doc D;
static char WHY[200];

static int parse(const char *xml, size_t max_items)
{
    rss_doc_free(&D);
    return rss_parse(xml, strlen(xml), max_items, &D, WHY, sizeof(WHY));
}

static int teardown(void **state)
{
    (void)state;
    rss_doc_free(&D);
    return 0;
}

static void test_rss2(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
        "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n"
        "<channel><title>Crypto &amp; Co</title><link>https://n.example/</link>\n"
        "<item><title><![CDATA[Bitcoin <b>surges</b> past $100K]]></title>\n"
        "  <link>/news/btc-100k</link>\n"
        "  <description><![CDATA[<p>The price of <a href=\"x\">BTC</a> rose &amp; rose.</p>"
        "<script>alert(1)</script>]]></description>\n"
        "  <pubDate>Wed, 25 Dec 2019 02:20:31 +0000</pubDate>\n"
        "  <guid isPermaLink=\"false\">abc-1</guid>\n"
        "  <category>Markets</category><dc:creator>Ann</dc:creator></item>\n"
        "<item><title>Ether &lt;flat&gt; &#8212; no date</title>"
        "<content:encoded>&lt;p&gt;Long &amp;amp; body&lt;/p&gt;</content:encoded></item>\n"
        "<item><description>Only a text, no title</description>"
        "<dc:date>2019-12-25T02:20:31Z</dc:date></item>\n"
        "<item><link>https://n.example/empty</link></item>\n"
        "</channel></rss>";
    assert_int_equal(parse(xml, 100), AT_OK);
    assert_int_equal(D.kind, RSS_RSS2);
    assert_string_equal(D.title, "Crypto & Co");
    assert_int_equal(D.n, 3);
    assert_int_equal(D.dropped, 1); /* neither title nor text */
    rss_item *a = &D.items[0];
    assert_string_equal(a->title, "Bitcoin surges past $100K");
    assert_string_equal(a->link, "/news/btc-100k");
    assert_string_equal(a->summary, "The price of BTC rose & rose.");
    assert_string_equal(a->id, "abc-1");
    assert_true(a->published_ms == 1577240431000);
    rss_item *b = &D.items[1];
    assert_string_equal(b->title, "Ether <flat> \xE2\x80\x94 no date");
    assert_string_equal(b->summary, "Long & body");
    assert_true(b->published_ms == -1);
    assert_null(b->link);
    rss_item *c = &D.items[2];
    assert_string_equal(c->title, "Only a text, no title");
    assert_null(c->summary); /* it is the title: not said twice */
    assert_true(c->published_ms == 1577240431000);
}

static void test_atom_and_rdf(void **state)
{
    (void)state;
    const char *atom =
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"text\">Atom news</title>"
        "<entry><title type=\"html\">Solana &lt;i&gt;halts&lt;/i&gt;</title>"
        "<link rel=\"enclosure\" href=\"https://n.example/a.mp3\"/>"
        "<link href=\"https://n.example/sol-halt\"/>"
        "<id>urn:uuid:1</id><updated>2019-12-25T04:20:31+02:00</updated>"
        "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Blocks "
        "<b>stopped</b>.</p></div></content></entry>"
        "<entry><title>Two</title><link rel=\"alternate\" href=\"/two\"/>"
        "<published>2019-12-25T02:20:31Z</published><updated>2020-01-01T00:00:00Z</updated>"
        "<summary>s</summary></entry></feed>";
    assert_int_equal(parse(atom, 100), AT_OK);
    assert_int_equal(D.kind, RSS_ATOM);
    assert_string_equal(D.title, "Atom news");
    assert_int_equal(D.n, 2);
    assert_string_equal(D.items[0].title, "Solana halts");
    assert_string_equal(D.items[0].link, "https://n.example/sol-halt");
    assert_string_equal(D.items[0].summary, "Blocks stopped.");
    assert_string_equal(D.items[0].id, "urn:uuid:1");
    assert_true(D.items[0].published_ms == 1577240431000); /* updated, when not published */
    assert_true(D.items[1].published_ms == 1577240431000); /* published first */
    assert_string_equal(D.items[1].link, "/two");
    const char *rdf = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
                      "xmlns=\"http://purl.org/rss/1.0/\"><channel><title>R</title></channel>"
                      "<item rdf:about=\"https://n.example/r\"><title>RDF one</title>"
                      "<link>https://n.example/r</link></item></rdf:RDF>";
    assert_int_equal(parse(rdf, 100), AT_OK);
    assert_int_equal(D.kind, RSS_RDF);
    assert_int_equal(D.n, 1);
    assert_string_equal(D.items[0].title, "RDF one");
    assert_string_equal(D.title, "R");
}

static void test_limits(void **state)
{
    (void)state;
    /* max_items: the first ones */
    char xml[4096] = "<rss><channel>";
    for (int i = 0; i < 10; i++) {
        size_t n = strlen(xml);
        snprintf(xml + n, sizeof(xml) - n, "<item><title>t%d</title></item>", i);
    }
    strcat(xml, "</channel></rss>");
    assert_int_equal(parse(xml, 3), AT_OK);
    assert_int_equal(D.n, 3);
    assert_int_equal(D.dropped, 7);
    assert_string_equal(D.items[2].title, "t2");
    /* a 20 MB description: read, kept to its caps */
    size_t big = 20u << 20;
    char *huge = malloc(big + 200);
    assert_non_null(huge);
    strcpy(huge, "<rss><channel><item><title>Big</title><description>");
    size_t off = strlen(huge);
    memset(huge + off, 'x', big);
    strcpy(huge + off + big, "</description></item></channel></rss>");
    assert_int_equal(parse(huge, 10), AT_OK);
    free(huge);
    assert_int_equal(D.n, 1);
    assert_true(strlen(D.items[0].summary) < RSS_SUMMARY_MAX);
    assert_non_null(strstr(D.items[0].summary, "\xE2\x80\xA6")); /* cut, and says so */
}

static void refused(const char *xml, const char *why)
{
    if (parse(xml, 100) != AT_EINVAL) {
        fail_msg("accepted: %.80s", xml);
    }
    if (!strstr(WHY, why)) {
        fail_msg("'%s' does not say '%s'", WHY, why);
    }
}

static void test_refused(void **state)
{
    (void)state;
    refused("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
            "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
            "<rss><channel><item><title>&lol2;</title></item></channel></rss>",
            "a DOCTYPE (entity declarations are refused)");
    refused("<!DOCTYPE rss SYSTEM \"file:///etc/passwd\"><rss/>", "a DOCTYPE");
    refused("<rss><channel><item><title>&nbsp;x</title></item></channel></rss>",
            "undefined entity");
    refused("<html><body>502 Bad Gateway</body></html>", "not a feed: the document is <html>");
    refused("\x01\x02garbage\xff\xfe", "line 1, column");
    refused("<rss><channel><item><title>open", "line 1, column");
    refused("", "line 1, column 1: no element found");
    char deep[2000] = "<rss>";
    for (int i = 0; i < 70; i++) {
        strcat(deep, "<a>");
    }
    refused(deep, "nested deeper than 64 elements");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rss2, teardown),
        cmocka_unit_test_teardown(test_atom_and_rdf, teardown),
        cmocka_unit_test_teardown(test_limits, teardown),
        cmocka_unit_test_teardown(test_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

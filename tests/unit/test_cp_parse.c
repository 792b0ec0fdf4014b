/* source_cryptopanic's answer reader (cp_parse): the developer v2 shape
 * (instruments, original_url) and v1's (currencies), the article's link
 * before CryptoPanic's, the source's name and its fallbacks, HTML made
 * plain, RFC 3339 times, posts left out and counted, the cap on posts, the
 * API's error answers and what is not an answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/types.h>

#include "cp_parse.h"

static cp_page P;
static char WHY[200];

static int parse(const char *json)
{
    cp_page_free(&P);
    WHY[0] = '\0';
    return cp_parse(json, strlen(json), &P, WHY, sizeof(WHY));
}

/* One post {…} in a results array: AT_OK and one post, or fail. */
static const cp_post *one(const char *post)
{
    char body[8192];
    snprintf(body, sizeof(body), "{\"count\": 1, \"next\": null, \"results\": [%s]}", post);
    if (parse(body) != AT_OK) {
        fail_msg("refused (%s): %s", WHY, body);
    }
    assert_int_equal(P.n, 1);
    assert_int_equal(P.dropped, 0);
    return &P.posts[0];
}

static int teardown(void **state)
{
    (void)state;
    cp_page_free(&P);
    return 0;
}

static void test_v2(void **state)
{
    (void)state;
    const char *body =
        "{\"count\": 2, \"next\": \"https://cryptopanic.com/api/developer/v2/posts/?page=2\", "
        "\"previous\": null, \"results\": [\n"
        "{\"id\": 1, \"slug\": \"x\", \"kind\": \"news\", \"title\": \"Bitcoin &amp; <b>ETF</b> "
        "approved\", \"description\": \"<p>The SEC &quot;approves&quot; it&#8217;s first.</p>"
        "<script>var a = 1;</script>\", \"published_at\": \"2024-05-01T12:34:56.789Z\", "
        "\"created_at\": \"2024-05-01T12:00:00Z\", "
        "\"url\": \"https://cryptopanic.com/news/1/x\", "
        "\"original_url\": \"https://www.coindesk.com/markets/etf\", "
        "\"source\": {\"title\": \"CoinDesk\", \"region\": \"en\", \"domain\": \"coindesk.com\", "
        "\"type\": \"feed\"}, "
        "\"instruments\": [{\"code\": \"BTC\", \"title\": \"Bitcoin\", \"slug\": \"bitcoin\", "
        "\"market_cap_usd\": 1.2e12}, {\"code\": \"ETH\", \"title\": \"Ethereum\"}], "
        "\"votes\": {\"negative\": 0, \"positive\": 3, \"important\": 1}},\n"
        "{\"id\": 2, \"kind\": \"media\", \"title\": \"Ether flat\", "
        "\"published_at\": \"2024-05-01T14:34:56+02:00\", "
        "\"url\": \"https://cryptopanic.com/news/2/y\", \"source\": {\"domain\": \"youtube.com\"}}"
        "]}";
    assert_int_equal(parse(body), AT_OK);
    assert_int_equal(P.n, 2);
    assert_int_equal(P.dropped, 0);
    const cp_post *a = &P.posts[0];
    assert_string_equal(a->title, "Bitcoin & ETF approved");
    assert_string_equal(a->summary, "The SEC \"approves\" it\xE2\x80\x99s first.");
    assert_string_equal(a->url, "https://www.coindesk.com/markets/etf");
    assert_string_equal(a->source, "CoinDesk");
    assert_string_equal(a->symbols, "BTC,ETH");
    assert_true(a->published_ms == 1714566896789); /* 2024-05-01T12:34:56.789Z */
    const cp_post *b = &P.posts[1];
    assert_string_equal(b->title, "Ether flat");
    assert_string_equal(b->summary, "");
    assert_string_equal(b->url, "https://cryptopanic.com/news/2/y");
    assert_string_equal(b->source, "youtube.com");
    assert_string_equal(b->symbols, "");
    assert_true(b->published_ms == 1714566896000);
}

static void test_v1(void **state)
{
    (void)state;
    const char *body =
        "{\"count\": 200, \"next\": null, \"previous\": null, \"results\": [{\"kind\": "
        "\"news\", \"domain\": \"cointelegraph.com\", \"votes\": {\"negative\": 1}, "
        "\"source\": {\"title\": \"Cointelegraph\", \"region\": \"en\", \"domain\": "
        "\"cointelegraph.com\", \"path\": null}, \"title\": \"Solana halts again\", "
        "\"published_at\": \"2019-12-25T02:20:31Z\", \"slug\": \"solana-halts\", "
        "\"currencies\": [{\"code\": \"SOL\", \"title\": \"Solana\", \"slug\": \"solana\", "
        "\"url\": \"https://cryptopanic.com/news/solana/\"}, {\"code\": \"1INCH\"}], "
        "\"id\": 7, \"url\": \"https://cryptopanic.com/news/7/solana-halts\", "
        "\"created_at\": \"2019-12-25T02:30:00Z\"}]}";
    assert_int_equal(parse(body), AT_OK);
    assert_int_equal(P.n, 1);
    const cp_post *a = &P.posts[0];
    assert_string_equal(a->title, "Solana halts again");
    assert_string_equal(a->summary, "");
    assert_string_equal(a->url, "https://cryptopanic.com/news/7/solana-halts");
    assert_string_equal(a->source, "Cointelegraph");
    assert_string_equal(a->symbols, "SOL,1INCH");
    assert_true(a->published_ms == 1577240431000);
    /* currencies first when both are there; a currencies that is not an array: instruments */
    a = one("{\"title\": \"t\", \"currencies\": [{\"code\": \"BTC\"}], \"instruments\": "
            "[{\"code\": \"ETH\"}]}");
    assert_string_equal(a->symbols, "BTC");
    a = one("{\"title\": \"t\", \"currencies\": null, \"instruments\": [{\"code\": \"ETH\"}]}");
    assert_string_equal(a->symbols, "ETH");
    a = one("{\"title\": \"t\", \"currencies\": null}");
    assert_string_equal(a->symbols, "");
    /* an empty page */
    assert_int_equal(parse("{\"count\": 0, \"results\": []}"), AT_OK);
    assert_int_equal(P.n, 0);
    assert_int_equal(P.dropped, 0);
}

static void test_url(void **state)
{
    (void)state;
    const char *cp = "\"url\": \"https://cryptopanic.com/news/1/x\"";
    char post[2048];
    snprintf(post, sizeof(post), "{\"title\": \"t\", %s, \"original_url\": \"http://a.example/b\"}",
             cp);
    assert_string_equal(one(post)->url, "http://a.example/b");
    /* not http(s): CryptoPanic's */
    const char *bad[] = {"ftp://a.example/b",
                         "javascript:alert(1)",
                         "//a.example/b",
                         "/news/b",
                         "https://a.example/with blank",
                         "HTTPS://A.EXAMPLE/",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(post, sizeof(post), "{\"title\": \"t\", %s, \"original_url\": \"%s\"}", cp,
                 bad[i]);
        assert_string_equal(one(post)->url, "https://cryptopanic.com/news/1/x");
    }
    assert_string_equal(one("{\"title\": \"t\", \"original_url\": 42, \"url\": "
                            "\"https://cryptopanic.com/news/2/y\"}")
                            ->url,
                        "https://cryptopanic.com/news/2/y");
    /* neither: none */
    assert_string_equal(one("{\"title\": \"t\", \"original_url\": \"mailto:a@b\", \"url\": "
                            "\"/news/1\"}")
                            ->url,
                        "");
    assert_string_equal(one("{\"title\": \"t\"}")->url, "");
    /* too long for the post: none, not a cut one */
    char longurl[1100] = "https://a.example/";
    memset(longurl + strlen(longurl), 'a', 1050 - strlen(longurl));
    longurl[1050] = '\0';
    snprintf(post, sizeof(post), "{\"title\": \"t\", \"original_url\": \"%s\"}", longurl);
    assert_string_equal(one(post)->url, "");
    longurl[1023] = '\0'; /* 1023 characters: fits */
    snprintf(post, sizeof(post), "{\"title\": \"t\", \"original_url\": \"%s\"}", longurl);
    assert_string_equal(one(post)->url, longurl);
}

static void test_source(void **state)
{
    (void)state;
    assert_string_equal(one("{\"title\": \"t\", \"domain\": \"d.example\", \"source\": "
                            "{\"title\": \"The &lt;Block&gt;\", \"domain\": \"s.example\"}}")
                            ->source,
                        "The <Block>");
    assert_string_equal(one("{\"title\": \"t\", \"domain\": \"d.example\", \"source\": "
                            "{\"title\": \"\", \"domain\": \"s.example\"}}")
                            ->source,
                        "s.example");
    assert_string_equal(
        one("{\"title\": \"t\", \"domain\": \"d.example\", \"source\": {\"title\": null}}")->source,
        "d.example");
    assert_string_equal(
        one("{\"title\": \"t\", \"domain\": \"d.example\", \"source\": \"s\"}")->source,
        "d.example");
    assert_string_equal(one("{\"title\": \"t\", \"source\": {}}")->source, "CryptoPanic");
    assert_string_equal(one("{\"title\": \"t\"}")->source, "CryptoPanic");
    /* a name that is no text once plain */
    assert_string_equal(one("{\"title\": \"t\", \"source\": {\"title\": \"<b></b>\"}}")->source,
                        "CryptoPanic");
    /* a long name: cut within the field */
    char post[512];
    snprintf(post, sizeof(post), "{\"title\": \"t\", \"source\": {\"title\": \"%0100d\"}}", 0);
    const cp_post *p = one(post);
    assert_true(strlen(p->source) < sizeof(p->source));
    assert_int_equal(strncmp(p->source, "0000000000", 10), 0);
}

static void test_text(void **state)
{
    (void)state;
    const cp_post *p =
        one("{\"title\": \"  <h1>Ether&nbsp;&lt;flat&gt;</h1>\\n\\t &#x41;&#66; </p>\", "
            "\"description\": \"<div><p>One</p><p>two &amp;amp; <a "
            "href=\\\"x\\\">three</a></p></div><!-- c --><style>p{}</style>\"}");
    assert_string_equal(p->title, "Ether <flat> AB");
    assert_string_equal(p->summary, "One two &amp; three");
    /* a long title and summary: cut whole characters with an ellipsis */
    char *big = malloc(20000);
    assert_non_null(big);
    char *w = big + sprintf(big, "{\"title\": \"");
    for (int i = 0; i < 300; i++) {
        w += sprintf(w, "\xC3\xA9 ");
    }
    w += sprintf(w, "\", \"description\": \"");
    for (int i = 0; i < 2000; i++) {
        *w++ = 'a';
    }
    sprintf(w, "\"}");
    char body[24000];
    snprintf(body, sizeof(body), "{\"results\": [%s]}", big);
    free(big);
    assert_int_equal(parse(body), AT_OK);
    assert_int_equal(P.n, 1);
    size_t tl = strlen(P.posts[0].title), sl = strlen(P.posts[0].summary);
    assert_true(tl > CP_TITLE_MAX - 8 && tl < CP_TITLE_MAX);
    assert_memory_equal(P.posts[0].title + tl - 3, "\xE2\x80\xA6", 3);
    assert_true(sl > CP_SUMMARY_MAX - 8 && sl < CP_SUMMARY_MAX);
    assert_memory_equal(P.posts[0].summary + sl - 3, "\xE2\x80\xA6", 3);
}

static void test_time(void **state)
{
    (void)state;
    assert_true(
        one("{\"title\": \"t\", \"published_at\": \"2024-05-01T12:34:56.789Z\"}")->published_ms ==
        1714566896789);
    assert_true(one("{\"title\": \"t\", \"published_at\": \"2024-05-01T14:34:56.5+02:00\"}")
                    ->published_ms == 1714566896500);
    assert_true(one("{\"title\": \"t\", \"published_at\": \"2024-05-01T12:00:00Z\", "
                    "\"created_at\": \"2019-12-25T02:20:31Z\"}")
                    ->published_ms == 1714564800000);
    /* no published_at (or not a text): created_at */
    assert_true(one("{\"title\": \"t\", \"created_at\": \"2019-12-25T02:20:31Z\"}")->published_ms ==
                1577240431000);
    assert_true(one("{\"title\": \"t\", \"published_at\": null, \"created_at\": "
                    "\"2019-12-25T02:20:31Z\"}")
                    ->published_ms == 1577240431000);
    assert_true(one("{\"title\": \"t\", \"published_at\": 1577240431, \"created_at\": "
                    "\"2019-12-25T02:20:31Z\"}")
                    ->published_ms == 1577240431000);
    /* none, or unreadable: -1 */
    assert_true(one("{\"title\": \"t\"}")->published_ms == -1);
    assert_true(one("{\"title\": \"t\", \"published_at\": \"yesterday\"}")->published_ms == -1);
    assert_true(
        one("{\"title\": \"t\", \"published_at\": \"2024-13-45T99:00:00Z\"}")->published_ms == -1);
    assert_true(one("{\"title\": \"t\", \"created_at\": \"soon\"}")->published_ms == -1);
}

static void test_dropped(void **state)
{
    (void)state;
    const char *body = "{\"results\": [{\"title\": \"one\"}, {\"description\": \"no title\"}, "
                       "{\"title\": \"\"}, {\"title\": \"  <br/> \"}, {\"title\": 42}, "
                       "{\"title\": null}, 42, \"a post\", null, [{\"title\": \"x\"}], "
                       "{\"title\": \"two\"}]}";
    assert_int_equal(parse(body), AT_OK);
    assert_int_equal(P.n, 2);
    assert_int_equal(P.dropped, 9);
    assert_string_equal(P.posts[0].title, "one");
    assert_string_equal(P.posts[1].title, "two");
}

static void test_cap(void **state)
{
    (void)state;
    size_t total = CP_MAX_POSTS + 5;
    char *body = malloc(total * 40 + 64);
    assert_non_null(body);
    char *w = body + sprintf(body, "{\"results\": [");
    for (size_t i = 0; i < total; i++) {
        w += sprintf(w, "%s{\"title\": \"post %zu\"}", i ? "," : "", i);
    }
    sprintf(w, "]}");
    cp_page_free(&P);
    assert_int_equal(cp_parse(body, strlen(body), &P, WHY, sizeof(WHY)), AT_OK);
    free(body);
    assert_int_equal(P.n, CP_MAX_POSTS);
    assert_int_equal(P.dropped, 5);
    assert_string_equal(P.posts[0].title, "post 0");
    assert_string_equal(P.posts[CP_MAX_POSTS - 1].title, "post 199");
}

static void refused(const char *body, const char *why)
{
    if (parse(body) != AT_EINVAL) {
        fail_msg("accepted: %s", body);
    }
    if (!strstr(WHY, why)) {
        fail_msg("'%s' does not say '%s'", WHY, why);
    }
    assert_int_equal(P.n, 0);
    assert_null(P.posts);
}

static void test_errors(void **state)
{
    (void)state;
    refused("{\"status\": \"Incomplete\", \"info\": \"Token not found\"}",
            "the API says: Token not found");
    assert_string_equal(WHY, "the API says: Token not found");
    refused("{\"detail\": \"Invalid token.\"}", "the API says: Invalid token.");
    assert_string_equal(WHY, "the API says: Invalid token.");
    refused("{\"status\": \"Failed\"}", "the API says: Failed");
    refused("{\"info\": \"<b>Rate</b> &amp; limit\", \"status\": \"x\"}",
            "the API says: Rate & limit");
    /* no results array */
    refused("{}", "no results array");
    assert_string_equal(WHY, "no results array");
    refused("{\"count\": 0, \"results\": {\"title\": \"t\"}}", "no results array");
    refused("{\"results\": null}", "no results array");
    refused("{\"results\": \"[]\"}", "no results array");
    refused("[{\"title\": \"t\"}]", "no results array");
    refused("\"results\"", "not JSON");
    /* not JSON */
    refused("<html><body>502 Bad Gateway</body></html>", "not JSON");
    refused("", "not JSON");
    refused("{\"results\": [{\"title\": \"t\"}", "not JSON");
    refused("{\"results\": [{\"title\": \"t\\u0000x\"}]}", "not JSON");
    /* a body of its length only: what follows is not read */
    const char body[] = "{\"results\": []}garbage";
    cp_page_free(&P);
    assert_int_equal(cp_parse(body, 15, &P, WHY, sizeof(WHY)), AT_OK);
    cp_page_free(&P);
    assert_int_equal(cp_parse(body, sizeof(body) - 1, &P, WHY, sizeof(WHY)), AT_EINVAL);
    assert_non_null(strstr(WHY, "not JSON"));
}

static void test_codes(void **state)
{
    (void)state;
    const cp_post *p =
        one("{\"title\": \"t\", \"instruments\": [{\"code\": \"bad code\"}, {\"code\": \"btc\"}, "
            "{\"code\": \"ABCDEFGHIJK\"}, {\"code\": \"B\"}, {\"code\": \"\"}, {\"code\": 42}, "
            "{\"code\": \"BTC,ETH\"}, {\"code\": \"BTC-USDT\"}, {\"title\": \"Bitcoin\"}, "
            "\"ETH\", null, {\"code\": \"SOL\"}, {\"code\": \"ABCDEFGHIJ\"}, "
            "{\"code\": \"1INCH\"}]}");
    assert_string_equal(p->symbols, "SOL,ABCDEFGHIJ,1INCH");
    /* many: as many as fit, never cut */
    char post[4096];
    char *w = post + sprintf(post, "{\"title\": \"t\", \"currencies\": [");
    for (int i = 0; i < 60; i++) {
        w += sprintf(w, "%s{\"code\": \"COIN%02d\"}", i ? ", " : "", i);
    }
    sprintf(w, "]}");
    p = one(post);
    size_t l = strlen(p->symbols);
    assert_true(l < sizeof(p->symbols));
    assert_int_equal(l, 18 * 7 - 1); /* 18 codes of 6 and their commas */
    assert_int_equal(strncmp(p->symbols, "COIN00,COIN01,", 14), 0);
    assert_string_equal(p->symbols + l - 6, "COIN17");
}

static void test_page_free(void **state)
{
    (void)state;
    cp_page pg;
    char why[100];
    const char *body = "{\"results\": [{\"title\": \"t\"}]}";
    assert_int_equal(cp_parse(body, strlen(body), &pg, why, sizeof(why)), AT_OK);
    assert_int_equal(pg.n, 1);
    cp_page_free(&pg);
    assert_null(pg.posts);
    assert_int_equal(pg.n, 0);
    assert_int_equal(pg.dropped, 0);
    cp_page_free(&pg); /* twice: nothing to free */
    /* after an error: nothing to free either */
    assert_int_equal(cp_parse("nope", 4, &pg, why, sizeof(why)), AT_EINVAL);
    assert_null(pg.posts);
    cp_page_free(&pg);
    cp_page_free(&pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_v2, teardown),
        cmocka_unit_test_teardown(test_v1, teardown),
        cmocka_unit_test_teardown(test_url, teardown),
        cmocka_unit_test_teardown(test_source, teardown),
        cmocka_unit_test_teardown(test_text, teardown),
        cmocka_unit_test_teardown(test_time, teardown),
        cmocka_unit_test_teardown(test_dropped, teardown),
        cmocka_unit_test_teardown(test_cap, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_codes, teardown),
        cmocka_unit_test_teardown(test_page_free, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* lib/news: HTML made plain text, RSS and Atom times, the currencies a
 * headline names, links resolved and made canonical, keys, and the lexicon
 * score against values worked out by hand from VADER's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "news_internal.h"

static const char *plain(const char *in, size_t cap)
{
    static char out[512];
    news_plain(in, strlen(in), out, cap);
    return out;
}

static void test_plain(void **state)
{
    (void)state;
    assert_string_equal(
        plain("<p>Bitcoin &amp; Ether <b>rally</b></p><script>var x = '<p>';</script>"
              "\n\n<img src=\"a.png\"/>  past $100K&nbsp;again",
              512),
        "Bitcoin & Ether rally past $100K again");
    assert_string_equal(plain("It&#8217;s &#x41;&lt;B&gt; &quot;ok&quot; &bogus; & more", 512),
                        "It\xE2\x80\x99s A<B> \"ok\" &bogus; & more");
    assert_string_equal(plain("a<br>b<!-- <p>hidden</p> -->c", 512), "a b c");
    /* not markup: kept */
    assert_string_equal(plain("Ether <flat>, 1 < 2 <3 <", 512), "Ether <flat>, 1 < 2 <3 <");
    assert_string_equal(plain("bad \xC3\x28 byte \xFF", 512), "bad ?( byte ?");
    assert_string_equal(plain("&#0; &#xD800; &#99999999;", 512), "? &#99999999;");
    /* control characters written as references: blanks as blanks, the rest dropped (an ESC
     * never reaches a log line or a prompt) */
    assert_string_equal(plain("a&#8;b&#27;c&#x7f;d&#9;e&#10;f&#133;g", 512), "abcd e fg");
    /* cut whole characters, with an ellipsis */
    assert_string_equal(plain("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 12),
                        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x80\xA6");
    assert_string_equal(plain("   ", 512), "");
}

static void test_time(void **state)
{
    (void)state;
    const int64_t t = 1577240431000; /* 2019-12-25T02:20:31Z */
    assert_true(news_time("Wed, 25 Dec 2019 02:20:31 +0000") == t);
    assert_true(news_time("Wed, 25 Dec 2019 02:20:31 GMT") == t);
    assert_true(news_time(" 25 Dec 2019 02:20:31 UT\n") == t);
    assert_true(news_time("Tue, 24 Dec 2019 21:20:31 EST") == t);
    assert_true(news_time("Wed, 25 Dec 2019 04:20:31 +02:00") == t);
    assert_true(news_time("Wed, 25 Dec 19 02:20:31 +0000") == t);
    assert_true(news_time("Wed, 25 Dec 2019 02:20 GMT") == t - 31000);
    assert_true(news_time("2019-12-25T02:20:31Z") == t);
    assert_true(news_time("2019-12-25T04:20:31.5+02:00") == t + 500);
    assert_true(news_time("2019-12-24T21:20:31-0500") == t);
    assert_true(news_time("2024-02-29") == 1709164800000);
    /* a zone by another name: UTC of an unknown local time (RFC 2822's -0000) */
    assert_true(news_time("Wed, 25 Dec 2019 02:20:31 CET") == t);
    const char *bad[] = {"",
                         "yesterday",
                         "2019-13-01T00:00:00Z",
                         "2023-02-29",
                         "2019-12-25T02:20:31",
                         "Wed, 31 Feb 2019 00:00:00 GMT",
                         "Wed, 25 Dec 2019 02:20:31 +25:00",
                         "25 Foo 2019 02:20:31 GMT",
                         "1969-12-31T23:59:59Z",
                         "2019-12-25T24:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (news_time(bad[i]) != -1) {
            fail_msg("'%s' read as %lld", bad[i], (long long)news_time(bad[i]));
        }
    }
}

static void test_tags(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(
        news_tags("Bitcoin tops $100K as ether lags; SOL and $doge follow", out, sizeof(out)), 4);
    assert_string_equal(out, "BTC,ETH,SOL,DOGE");
    /* lower-case tickers are words: not a coin */
    assert_int_equal(news_tags("el sol, ada and a link to the dot", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* a headline in capitals: names only ("NEAR" is a word there) */
    assert_int_equal(news_tags("BITCOIN NEAR $100K AS OP-ED WARNS", out, sizeof(out)), 1);
    assert_string_equal(out, "BTC");
    assert_int_equal(news_tags("Ethereum's upgrade: ETHEREUM, Ether, ETH", out, sizeof(out)), 1);
    assert_string_equal(out, "ETH");
    /* whole words: "Bitcoiner" and "Solanas" are not the coins */
    assert_int_equal(news_tags("Bitcoiners cheer Solanas", out, sizeof(out)), 0);
    /* non-ASCII punctuation parts words: quotes, dashes, the ellipsis, a no-break space */
    assert_int_equal(news_tags("Bitcoin\xE2\x80\x99s rally \xE2\x80\x9C"
                               "Ether\xE2\x80\x9D\xC2\xA0Solana\xE2\x80\xA6",
                               out, sizeof(out)),
                     3);
    assert_string_equal(out, "BTC,ETH,SOL");
    /* common words that are names only when capitalised */
    assert_int_equal(news_tags("a ripple effect, an avalanche of liquidations", out, sizeof(out)),
                     0);
    assert_int_equal(news_tags("Ripple wins; Avalanche upgrade", out, sizeof(out)), 2);
    assert_string_equal(out, "XRP,AVAX");
    assert_int_equal(news_tags("An OP-ED on APT hackers", out, sizeof(out)), 0);
    /* what does not fit is left out whole */
    assert_int_equal(news_tags("Bitcoin Ethereum Solana", out, 8), 2);
    assert_string_equal(out, "BTC,ETH");
}

static void test_urls(void **state)
{
    (void)state;
    char out[256];
    const char *base = "https://news.example.com/feeds/crypto.xml?x=1";
    assert_true(news_resolve(base, "https://a.example/x", out, sizeof(out)));
    assert_string_equal(out, "https://a.example/x");
    assert_true(news_resolve(base, "//cdn.example/y", out, sizeof(out)));
    assert_string_equal(out, "https://cdn.example/y");
    assert_true(news_resolve(base, "/story/1", out, sizeof(out)));
    assert_string_equal(out, "https://news.example.com/story/1");
    assert_true(news_resolve(base, "story/2 \n", out, sizeof(out)));
    assert_string_equal(out, "https://news.example.com/feeds/story/2");
    assert_true(news_resolve("http://h.example", "s", out, sizeof(out)));
    assert_string_equal(out, "http://h.example/s");
    assert_false(news_resolve(NULL, "/x", out, sizeof(out)));
    assert_false(news_resolve("ftp://h/", "x", out, sizeof(out)));
    assert_true(news_canonical_url(
        "HTTPS://WWW.Example.COM:443/a/b/?utm_source=rss&id=7&fbclid=zz#top", out, sizeof(out)));
    assert_string_equal(out, "example.com/a/b?id=7");
    assert_true(news_canonical_url("http://example.com:8080/", out, sizeof(out)));
    assert_string_equal(out, "example.com:8080");
    assert_false(news_canonical_url("javascript:alert(1)", out, sizeof(out)));
    char k1[64], k2[64], k3[64], k4[64];
    news_key("u:", "https://www.example.com/a?utm_medium=x", true, k1);
    news_key("u:", "http://example.com/a/", true, k2);
    assert_string_equal(k1, k2);
    assert_int_equal(strlen(k1), 2 + 32);
    news_key("t:", "Bitcoin hits $100K!", false, k3);
    news_key("t:", "  bitcoin HITS 100k ", false, k4);
    assert_string_equal(k3, k4);
    news_key("t:", "Bitcoin\xE2\x80\x99s rally", false, k3); /* ’ as ' */
    news_key("t:", "bitcoin's rally", false, k4);
    assert_string_equal(k3, k4);
}

static void close_to(double got, double want)
{
    if (fabs(got - want) > 1e-9) {
        fail_msg("%.12f, want %.12f", got, want);
    }
}

static void test_sentiment(void **state)
{
    (void)state;
    for (size_t i = 1; i < news_lexicon_size(); i++) {
        if (strcmp(news_lexicon_at(i - 1)->word, news_lexicon_at(i)->word) >= 0) {
            fail_msg("lexicon out of order at '%s'", news_lexicon_at(i)->word);
        }
    }
    int hits = -1;
    /* surge 2.4: 2.4 / sqrt(2.4² + 15) */
    close_to(news_sentiment("Bitcoin surges", &hits), 2.4 / sqrt(2.4 * 2.4 + 15));
    assert_int_equal(hits, 1);
    close_to(news_sentiment("Bitcoin does not surge", NULL),
             -0.74 * 2.4 / sqrt(0.74 * 2.4 * 0.74 * 2.4 + 15));
    close_to(news_sentiment("Bitcoin surges very", NULL), 2.4 / sqrt(2.4 * 2.4 + 15));
    double x = 2.4 + 0.293;
    close_to(news_sentiment("very surging Bitcoin", NULL), x / sqrt(x * x + 15));
    x = 2.4 + 0.733;
    close_to(news_sentiment("Bitcoin SURGES", NULL), x / sqrt(x * x + 15));
    close_to(news_sentiment("BITCOIN SURGES", NULL), 2.4 / sqrt(2.4 * 2.4 + 15)); /* all capitals */
    x = -3.0 * 0.5 + 2.4 * 1.5;
    close_to(news_sentiment("Exchange hacked but Bitcoin surges", NULL), x / sqrt(x * x + 15));
    x = 2.4 + 2 * 0.292;
    close_to(news_sentiment("Bitcoin surges!!", NULL), x / sqrt(x * x + 15));
    x = -(2.8 + 0.292);
    close_to(news_sentiment("Market plunges!", NULL), x / sqrt(x * x + 15));
    close_to(news_sentiment("Bitcoin is a coin!!!", &hits), 0); /* nothing scored: no emphasis */
    assert_int_equal(hits, 0);
    assert_true(news_sentiment("Massive hack drains exchange, users panic", NULL) < -0.8);
    assert_true(news_sentiment("ETF approval sparks rally, Bitcoin soars to record high", NULL) >
                0.8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain), cmocka_unit_test(test_time),      cmocka_unit_test(test_tags),
        cmocka_unit_test(test_urls),  cmocka_unit_test(test_sentiment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

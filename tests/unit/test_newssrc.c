/* lib/newssrc's readers: the LLM scorer's answer (nsrc_parse_score) with
 * code fences, think tags and words around it, at and past its bounds, and
 * what is refused (and said why); and the currency list a source's item
 * carries (nsrc_symbols_merge): once each, valid codes only, never past its
 * buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "newssrc.h"

static double S, I;
static char SYMS[NSRC_SYMBOLS];
static char WHY[200];

static bool score(const char *text)
{
    S = I = -99;
    memset(SYMS, 'x', sizeof(SYMS) - 1);
    SYMS[sizeof(SYMS) - 1] = '\0';
    WHY[0] = '\0';
    return nsrc_parse_score(text, &S, &I, SYMS, sizeof(SYMS), WHY, sizeof(WHY));
}

static void accepted(const char *text, double s, double i, const char *syms)
{
    if (!score(text)) {
        fail_msg("refused (%s): %s", WHY, text);
    }
    assert_true(S == s);
    assert_true(I == i);
    assert_string_equal(SYMS, syms);
}

/* Refused, and why says each of the words. */
static void refused(const char *text, const char *w1, const char *w2)
{
    if (score(text)) {
        fail_msg("accepted: %s", text);
    }
    if (!strstr(WHY, w1) || (w2 && !strstr(WHY, w2))) {
        fail_msg("'%s' does not say '%s' and '%s'", WHY, w1, w2 ? w2 : "");
    }
}

static void test_score_shapes(void **state)
{
    (void)state;
    accepted("{\"sentiment\": 0.5, \"impact\": 0.25, \"symbols\": [\"BTC\"], \"reason\": \"r\"}",
             0.5, 0.25, "BTC");
    /* symbols optional: an empty list */
    accepted("{\"sentiment\": -0.75, \"impact\": 0.125}", -0.75, 0.125, "");
    accepted("{\"impact\": 0.5, \"sentiment\": 0.5, \"symbols\": []}", 0.5, 0.5, "");
    /* code fences */
    accepted("```json\n{\"sentiment\": 0.5, \"impact\": 0.75, \"symbols\": [\"ETH\"]}\n```", 0.5,
             0.75, "ETH");
    accepted("```\n{\"sentiment\": 0.5, \"impact\": 0.75}\n```\n", 0.5, 0.75, "");
    /* a think block with braces of its own, before the answer */
    accepted("<think>The user wants {\"sentiment\": 1}? I think {x} } is {wrong</think>\n"
             "```json\n{\"sentiment\": -0.5, \"impact\": 0.875, \"symbols\": [\"SOL\"]}\n```",
             -0.5, 0.875, "SOL");
    /* words around it */
    accepted("Here is my rating: {\"sentiment\": 0.25, \"impact\": 0.5, \"symbols\": "
             "[\"XRP\"], \"reason\": \"a {nested} brace in a string\"}. Hope that helps!",
             0.25, 0.5, "XRP");
    accepted("  \n{\"sentiment\":0,\"impact\":0}\n\n", 0, 0, "");
}

static void test_score_bounds(void **state)
{
    (void)state;
    accepted("{\"sentiment\": -1, \"impact\": 0}", -1, 0, "");
    accepted("{\"sentiment\": 1, \"impact\": 1}", 1, 1, "");
    accepted("{\"sentiment\": 0, \"impact\": 0.0}", 0, 0, "");
    accepted("{\"sentiment\": -1.0, \"impact\": 1.0}", -1, 1, "");
    accepted("{\"sentiment\": 1e-3, \"impact\": 5E-1}", 0.001, 0.5, "");
    refused("{\"sentiment\": 1.5, \"impact\": 0.5}", "\"sentiment\" is out of range",
            "from -1 to 1");
    refused("{\"sentiment\": -1.0001, \"impact\": 0.5}", "\"sentiment\" is out of range",
            "from -1 to 1");
    refused("{\"sentiment\": 0.5, \"impact\": -0.1}", "\"impact\" is out of range", "from 0 to 1");
    refused("{\"sentiment\": 0.5, \"impact\": 2}", "\"impact\" is out of range", "from 0 to 1");
    refused("{\"sentiment\": 0.5, \"impact\": 1e308}", "\"impact\" is out of range", NULL);
}

static void test_score_refused(void **state)
{
    (void)state;
    /* missing keys */
    refused("{\"impact\": 0.5}", "\"sentiment\" is missing", "from -1 to 1");
    refused("{\"sentiment\": 0.5}", "\"impact\" is missing", "from 0 to 1");
    refused("{}", "\"sentiment\" is missing", NULL);
    /* not numbers */
    refused("{\"sentiment\": \"0.5\", \"impact\": 0.5}", "\"sentiment\" is not a number", NULL);
    refused("{\"sentiment\": 0.5, \"impact\": \"high\"}", "\"impact\" is not a number", NULL);
    refused("{\"sentiment\": null, \"impact\": 0.5}", "\"sentiment\" is not a number", NULL);
    refused("{\"sentiment\": true, \"impact\": 0.5}", "\"sentiment\" is not a number", NULL);
    refused("{\"sentiment\": [0.5], \"impact\": 0.5}", "\"sentiment\" is not a number", NULL);
    /* NaN-like: JSON has none, so they are not JSON, or strings */
    refused("{\"sentiment\": NaN, \"impact\": 0.5}", "not JSON", NULL);
    refused("{\"sentiment\": 0.5, \"impact\": Infinity}", "not JSON", NULL);
    refused("{\"sentiment\": -inf, \"impact\": 0.5}", "not JSON", NULL);
    refused("{\"sentiment\": 1e999, \"impact\": 0.5}", "not JSON", NULL);
    refused("{\"sentiment\": \"NaN\", \"impact\": 0.5}", "\"sentiment\" is not a number", NULL);
    /* not JSON */
    refused("I cannot rate this item.", "no JSON object in the answer", NULL);
    refused("", "no JSON object in the answer", NULL);
    refused(NULL, "no JSON object in the answer", NULL);
    refused("} backwards {", "no JSON object in the answer", NULL);
    refused("{sentiment: 0.5, impact: 0.5}", "not JSON", NULL);
    refused("{\"sentiment\": 0.5, \"impact\": 0.5", "no JSON object in the answer", NULL);
    refused("{\"sentiment\": 0.5, \"impact\": 0.5,}", "not JSON", NULL);
    /* the braces of the think block only: nothing after it */
    refused("<think>{\"sentiment\": 0.5, \"impact\": 0.5}</think> no idea",
            "no JSON object in the answer", NULL);
    /* not an object: an array */
    refused("[0.5, 0.25]", "no JSON object in the answer", NULL);
    refused("[{\"sentiment\": 0.5, \"impact\": 0.5}, {\"sentiment\": -0.5, \"impact\": 0.5}]",
            "not JSON", NULL);
    /* two objects */
    refused("{\"sentiment\": 0.5, \"impact\": 0.5} {\"sentiment\": 0.1, \"impact\": 0.1}",
            "not JSON", NULL);
    /* duplicate keys: which one would count? */
    refused("{\"sentiment\": 0.9, \"impact\": 0.5, \"sentiment\": -0.9}", "not JSON", "duplicate");
    /* symbols not an array */
    refused("{\"sentiment\": 0.5, \"impact\": 0.5, \"symbols\": \"BTC\"}",
            "\"symbols\" is not an array", NULL);
    refused("{\"sentiment\": 0.5, \"impact\": 0.5, \"symbols\": {\"BTC\": 1}}",
            "\"symbols\" is not an array", NULL);
    refused("{\"sentiment\": 0.5, \"impact\": 0.5, \"symbols\": null}",
            "\"symbols\" is not an array", NULL);
    /* the range is checked before the symbols */
    refused("{\"sentiment\": 3, \"impact\": 0.5, \"symbols\": \"BTC\"}",
            "\"sentiment\" is out of range", NULL);
}

static void test_score_symbols(void **state)
{
    (void)state;
    /* upper-cased, once each, in their order */
    accepted("{\"sentiment\": 0.5, \"impact\": 0.5, \"symbols\": "
             "[\"btc\", \"Eth\", \"BTC\", \"eth\", \"sol\", \"1inch\"]}",
             0.5, 0.5, "BTC,ETH,SOL,1INCH");
    /* invalid ones left out: too long, a blank, a comma, empty, one letter, other characters,
     * not strings */
    accepted("{\"sentiment\": 0.5, \"impact\": 0.5, \"symbols\": "
             "[\"ABCDEFGHIJK\", \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\", \"BT C\", \"ADA DOT\", "
             "\"LINK,UNI\", \"\", \"X\", \"BTC-USDT\", \"$SOL\", 42, null, true, [\"ETH\"], "
             "{\"code\": \"ETH\"}, \"ABCDEFGHIJ\", \"XRP\"]}",
             0.5, 0.5, "ABCDEFGHIJ,XRP");
}

static void test_score_symcap(void **state)
{
    (void)state;
    const char *text = "{\"sentiment\": 0.5, \"impact\": 0.5, \"symbols\": "
                       "[\"BTC\", \"ETH\", \"SOL\", \"XRP\", \"DOGE\"]}";
    /* 8 bytes: "BTC,ETH" and its NUL; nothing written past them */
    char buf[9];
    memset(buf, '#', sizeof(buf));
    double s = 0, i = 0;
    char why[100] = "";
    assert_true(nsrc_parse_score(text, &s, &i, buf, 8, why, sizeof(why)));
    assert_string_equal(buf, "BTC,ETH");
    assert_int_equal(buf[8], '#');
    /* 1 byte: the empty list */
    memset(buf, '#', sizeof(buf));
    assert_true(nsrc_parse_score(text, &s, &i, buf, 1, why, sizeof(why)));
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], '#');
    /* 0: no list at all (symbols may then be NULL) */
    assert_true(nsrc_parse_score(text, &s, &i, NULL, 0, why, sizeof(why)));
    assert_true(s == 0.5 && i == 0.5);
    /* a short why is cut, still a string */
    char shortwhy[8];
    memset(shortwhy, '#', sizeof(shortwhy));
    assert_false(nsrc_parse_score("{\"impact\": 0.5}", &s, &i, buf, 8, shortwhy, 6));
    assert_string_equal(shortwhy, "\"sent");
    assert_int_equal(shortwhy[6], '#');
}

/* ------------------------------------------------------------ merge */

static const char *merged(const char *into, const char *more)
{
    static char dst[NSRC_SYMBOLS];
    snprintf(dst, sizeof(dst), "%s", into);
    nsrc_symbols_merge(dst, sizeof(dst), more);
    return dst;
}

static void test_merge(void **state)
{
    (void)state;
    assert_string_equal(merged("", "BTC"), "BTC");
    assert_string_equal(merged("BTC", "ETH"), "BTC,ETH");
    /* once each, with what is there already */
    assert_string_equal(merged("BTC,ETH", "ETH,SOL,BTC,SOL"), "BTC,ETH,SOL");
    /* a code that is a prefix of one there is another code */
    assert_string_equal(merged("BTCB,ETH", "BTC,ET"), "BTCB,ETH,BTC,ET");
    /* blanks and commas */
    assert_string_equal(merged("BTC", " ETH , ,SOL,,  XRP ,"), "BTC,ETH,SOL,XRP");
    assert_string_equal(merged("", ", , ,"), "");
    assert_string_equal(merged("", "ADA DOT"), "ADA,DOT");
    /* 2 to 10 capitals or digits only */
    assert_string_equal(merged("", "A,AB,ABCDEFGHIJ,ABCDEFGHIJK,1INCH,42"),
                        "AB,ABCDEFGHIJ,1INCH,42");
    assert_string_equal(merged("", "btc,Eth,BTC-USDT,$SOL,S\xC3\x98L,BT\tC,OK"), "OK");
    assert_string_equal(merged("BTC", NULL), "BTC");
    assert_string_equal(merged("BTC", ""), "BTC");
}

static void test_merge_cap(void **state)
{
    (void)state;
    /* 8 bytes and a canary after them */
    struct {
        char b[8];
        char canary;
    } m;
    memset(&m, '#', sizeof(m));
    m.b[0] = '\0';
    nsrc_symbols_merge(m.b, sizeof(m.b), "BTC,ETH,SOL,AB");
    assert_string_equal(m.b, "BTC,ETH");
    assert_int_equal(m.canary, '#');
    /* a shorter one that still fits is taken */
    memset(&m, '#', sizeof(m));
    snprintf(m.b, sizeof(m.b), "BTC");
    nsrc_symbols_merge(m.b, sizeof(m.b), "ABCDEFGHIJ,SOLANA,AB");
    assert_string_equal(m.b, "BTC,AB");
    assert_int_equal(m.canary, '#');
    /* full: nothing more */
    nsrc_symbols_merge(m.b, sizeof(m.b), "X1");
    assert_string_equal(m.b, "BTC,AB");
    assert_int_equal(m.canary, '#');
    /* many merges into a small buffer: the NUL always inside */
    memset(&m, '#', sizeof(m));
    m.b[0] = '\0';
    for (int k = 0; k < 300; k++) {
        char code[16];
        snprintf(code, sizeof(code), "C%d", k);
        nsrc_symbols_merge(m.b, sizeof(m.b), code);
        assert_true(memchr(m.b, '\0', sizeof(m.b)) != NULL);
        assert_int_equal(m.canary, '#');
    }
    assert_string_equal(m.b, "C0,C1");
    /* 1 byte: stays empty */
    char one[2] = {'\0', '#'};
    nsrc_symbols_merge(one, 1, "BTC,AB");
    assert_int_equal(one[0], '\0');
    assert_int_equal(one[1], '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_shapes),  cmocka_unit_test(test_score_bounds),
        cmocka_unit_test(test_score_refused), cmocka_unit_test(test_score_symbols),
        cmocka_unit_test(test_score_symcap),  cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

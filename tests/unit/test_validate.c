/* The decision validator (core/trading/validate.c) on every malformed variant
 * the issue lists and the tolerated wrappings: each case asserts the exact
 * reason, or exactly what was read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "trading/validate.h"

static const char *const SYMS[] = {"BTC-USDT-SWAP", "ETH-USDT-SWAP"};
static at_dec prices[2];
static vd_limits lim;
static vd_decision d;
static char why[VD_WHY_LEN];

static at_dec D(const char *s)
{
    at_dec x;
    assert_int_equal(at_dec_parse(s, strlen(s), &x), AT_OK);
    return x;
}

static int setup(void **state)
{
    prices[0] = D("90000");
    prices[1] = D("3000");
    lim = (vd_limits){.symbols = SYMS,
                      .nsymbols = 2,
                      .prices = prices,
                      .max_size_pct = D("0.2"),
                      .max_leverage = D("10")};
    memset(&d, 0, sizeof(d));
    why[0] = '\0';
    return 0;
}

static int parse(const char *text)
{
    return vd_parse(text, strlen(text), &lim, &d, why, sizeof(why));
}

static void dec_eq(at_dec got, const char *want)
{
    char buf[AT_DEC_STRLEN];
    at_dec_format(got, buf);
    assert_string_equal(buf, want);
}

/* text must be invalid for exactly `reason` */
static void invalid(const char *text, const char *reason)
{
    int rc = parse(text);
    if (rc == AT_OK) {
        fail_msg("valid, expected: %s\n  for: %s", reason, text);
    }
    assert_int_equal(rc, AT_EINVAL);
    assert_string_equal(why, reason);
    assert_int_equal(d.n, 0);
}

#define OPEN_BTC                                                                                   \
    "{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_long\", \"size_pct\": "   \
    "0.1, \"leverage\": 3, \"take_profit\": 95000.5, \"stop_loss\": 88000, \"confidence\": "       \
    "0.72, \"reason\": \"breakout\", \"invalidation\": \"back below 89000\"}]}"

static void test_valid(void **state)
{
    assert_int_equal(parse(OPEN_BTC), AT_OK);
    assert_int_equal(d.n, 1);
    const vd_item *it = &d.items[0];
    assert_int_equal(it->sym, 0);
    assert_int_equal(it->action, AT_ACT_OPEN_LONG);
    dec_eq(it->size_pct, "0.1");
    dec_eq(it->leverage, "3");
    dec_eq(it->take_profit, "95000.5");
    dec_eq(it->stop_loss, "88000");
    assert_true(fabs(it->confidence - 0.72) < 1e-12);
    assert_string_equal(it->reason, "breakout");
    assert_string_equal(it->invalidation, "back below 89000");
    assert_string_equal(d.stripped, "");

    /* every action, several symbols, nulls for optional fields */
    assert_int_equal(
        parse("{\"decisions\":[{\"symbol\":\"ETH-USDT-SWAP\",\"action\":\"close_short\","
              "\"size_pct\":0.5,\"leverage\":null},{\"symbol\":\"BTC-USDT-SWAP\","
              "\"action\":\"hold\",\"confidence\":null}]}"),
        AT_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.items[0].action, AT_ACT_CLOSE_SHORT);
    dec_eq(d.items[0].size_pct, "0.5");
    assert_true(isnan(d.items[1].confidence));
    /* an empty list holds everything */
    assert_int_equal(parse("{\"decisions\": []}"), AT_OK);
    assert_int_equal(d.n, 0);
    /* a short's exits the other way round; 3.0 is a whole leverage */
    assert_int_equal(
        parse("{\"decisions\":[{\"symbol\":\"ETH-USDT-SWAP\",\"action\":\"open_short\","
              "\"size_pct\":0.2,\"leverage\":3.0,\"take_profit\":2800,\"stop_loss\":"
              "3100.25,\"reason\":\"r\"}]}"),
        AT_OK);
    dec_eq(d.items[0].leverage, "3");
    dec_eq(d.items[0].stop_loss, "3100.25");
}

static void test_numbers_exact(void **state)
{
    /* the decimal the model wrote, not the double's expansion */
    assert_int_equal(parse("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
                           "\"size_pct\":0.07,\"leverage\":2,\"take_profit\":90000.1,"
                           "\"stop_loss\":1.5e4,\"reason\":\"r\"}]}"),
                     AT_OK);
    dec_eq(d.items[0].size_pct, "0.07");
    dec_eq(d.items[0].take_profit, "90000.1");
    dec_eq(d.items[0].stop_loss, "15000");
}

static void test_wrappings(void **state)
{
    assert_int_equal(parse("```json\n" OPEN_BTC "\n```"), AT_OK);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.stripped, "code fence");
    assert_int_equal(parse("```\n" OPEN_BTC "\n```\n"), AT_OK);
    assert_string_equal(d.stripped, "code fence");
    assert_int_equal(parse("<think>long {\"decisions\": []} reasoning</think>\n" OPEN_BTC), AT_OK);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.stripped, "<think> block");
    /* a server that strips the opening tag */
    assert_int_equal(parse("reasoning {x}</think>" OPEN_BTC), AT_OK);
    assert_string_equal(d.stripped, "<think> block");
    assert_int_equal(parse("Sure! Here it is: " OPEN_BTC " Hope that helps {:-}"), AT_OK);
    assert_string_equal(d.stripped, "text around the JSON");
    assert_int_equal(parse("<think>hmm</think>```json\n" OPEN_BTC "\n```\nDone."), AT_OK);
    assert_string_equal(d.stripped, "<think> block, code fence, text around the JSON");
    /* braces inside strings do not confuse the scan */
    assert_int_equal(parse("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\","
                           "\"reason\":\"range {8}} \\\" {\"}]}"),
                     AT_OK);
    assert_string_equal(d.items[0].reason, "range {8}} \" {");
}

static void test_no_json(void **state)
{
    invalid("I would hold.", "no JSON object in the answer");
    invalid("", "no JSON object in the answer");
    invalid("{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"action\": \"open_lo",
            "the JSON object is not complete (cut off?)");
    invalid("<think>I am still thinking about {it}", "unterminated <think> block: no answer after "
                                                     "the reasoning");
    invalid("{'decisions': []}", "not valid JSON at byte 2 of the object: string or '}' expected "
                                 "near '''");
    invalid("{\"decisions\": [], \"decisions\": []}",
            "not valid JSON at byte 29 of the object: duplicate object key near '\"decisions\"'");
    invalid("{\"action\": \"hold\"}", "the JSON object has no \"decisions\" array");
    invalid("{\"decisions\": {\"symbol\": \"BTC-USDT-SWAP\"}}",
            "\"decisions\" must be an array, got an object");
    invalid("{\"decisions\": []} or {\"decisions\": []}",
            "2 JSON objects with \"decisions\" in the answer: which one?");
    invalid("{\"decisions\": [1]}", "decisions[0] must be an object, got a number");
    char big[VD_ANSWER_MAX + 2];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    invalid(big, "answer over 65536 bytes");
}

static void test_wrong_types(void **state)
{
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":\"0.1\",\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct must be a number, got a string");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":\"3x\",\"reason\":\"r\"}]}",
            "decisions[0].leverage must be a number, got a string");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":3,\"take_profit\":\"95000\",\"reason\":\"r\"}]}",
            "decisions[0].take_profit must be a number, got a string");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":3,\"confidence\":true,\"reason\":\"r\"}]}",
            "decisions[0].confidence must be a number, got a boolean");
    invalid("{\"decisions\":[{\"symbol\":42,\"action\":\"hold\"}]}",
            "decisions[0].symbol must be a string, got a number");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":[\"hold\"]}]}",
            "decisions[0].action must be a string, got an array");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\",\"reason\":7}]}",
            "decisions[0].reason must be a string, got a number");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":null,\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct must be a number, got null");
}

static void test_missing(void **state)
{
    invalid("{\"decisions\":[{\"action\":\"hold\"}]}", "decisions[0].symbol is missing");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\"}]}", "decisions[0].action is missing");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct is missing");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"reason\":\"r\"}]}",
            "decisions[0].leverage is missing");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":3}]}",
            "decisions[0].reason is missing (an entry needs one)");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"close_long\"}]}",
            "decisions[0].size_pct is missing");
}

static void test_symbols_actions(void **state)
{
    invalid("{\"decisions\":[{\"symbol\":\"DOGE-USDT-SWAP\",\"action\":\"hold\"}]}",
            "decisions[0].symbol 'DOGE-USDT-SWAP' is not one of this trader's symbols "
            "(BTC-USDT-SWAP, ETH-USDT-SWAP)");
    invalid("{\"decisions\":[{\"symbol\":\"BTC\",\"action\":\"hold\"}]}",
            "decisions[0].symbol 'BTC' is not one of this trader's symbols (BTC-USDT-SWAP, "
            "ETH-USDT-SWAP)");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"buy_long\"}]}",
            "decisions[0].action 'buy_long' is not one of open_long, open_short, close_long, "
            "close_short, hold");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\"},"
            "{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"close_long\",\"size_pct\":1}]}",
            "decisions[1] is a second decision for BTC-USDT-SWAP");
    char many[4096] = "{\"decisions\":[";
    for (int i = 0; i < 17; i++) {
        strcat(many, i ? ",{}" : "{}");
    }
    strcat(many, "]}");
    invalid(many, "17 decisions: at most 16");
}

static void test_limits(void **state)
{
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.5,\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct 0.5 is over this trader's max_size_pct 0.2");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":1.5,\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct 1.5 is outside (0, 1]");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0,\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct 0 is outside (0, 1]");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":-0.1,\"leverage\":3,\"reason\":\"r\"}]}",
            "decisions[0].size_pct -0.1 is outside (0, 1]");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":50,\"reason\":\"r\"}]}",
            "decisions[0].leverage 50 is over this trader's max_leverage 10");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":2.5,\"reason\":\"r\"}]}",
            "decisions[0].leverage 2.5 must be a whole number from 1 to 10");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":0,\"reason\":\"r\"}]}",
            "decisions[0].leverage 0 must be a whole number from 1 to 10");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"close_long\","
            "\"size_pct\":2}]}",
            "decisions[0].size_pct 2 is outside (0, 1] (the part of the position to close)");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\","
            "\"confidence\":1.2}]}",
            "decisions[0].confidence 1.2 is outside [0, 1]");
    invalid("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
            "\"size_pct\":0.1,\"leverage\":1e300,\"reason\":\"r\"}]}",
            "decisions[0].leverage 1.0000000000000001e+300 is out of range");
    char text[2048];
    char reason[VD_TEXT_MAX + 2];
    memset(reason, 'x', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    snprintf(
        text, sizeof(text),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\",\"reason\":\"%s\"}]}",
        reason);
    invalid(text, "decisions[0].reason is longer than 500 bytes");
    reason[VD_TEXT_MAX] = '\0'; /* exactly 500 is fine */
    snprintf(
        text, sizeof(text),
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"hold\",\"reason\":\"%s\"}]}",
        reason);
    assert_int_equal(parse(text), AT_OK);
}

static void test_exits_wrong_side(void **state)
{
    invalid(
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\",\"size_pct\":0.1,"
        "\"leverage\":3,\"take_profit\":85000,\"reason\":\"r\"}]}",
        "decisions[0].take_profit 85000 is not above the price 90000 for a long");
    invalid(
        "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\",\"size_pct\":0.1,"
        "\"leverage\":3,\"stop_loss\":90000,\"reason\":\"r\"}]}",
        "decisions[0].stop_loss 90000 is not below the price 90000 for a long");
    invalid(
        "{\"decisions\":[{\"symbol\":\"ETH-USDT-SWAP\",\"action\":\"open_short\",\"size_pct\":0.1,"
        "\"leverage\":3,\"take_profit\":3100,\"reason\":\"r\"}]}",
        "decisions[0].take_profit 3100 is not below the price 3000 for a short");
    invalid(
        "{\"decisions\":[{\"symbol\":\"ETH-USDT-SWAP\",\"action\":\"open_short\",\"size_pct\":0.1,"
        "\"leverage\":3,\"stop_loss\":2999.99,\"reason\":\"r\"}]}",
        "decisions[0].stop_loss 2999.99 is not above the price 3000 for a short");
    invalid(
        "{\"decisions\":[{\"symbol\":\"ETH-USDT-SWAP\",\"action\":\"open_short\",\"size_pct\":0.1,"
        "\"leverage\":3,\"stop_loss\":-5,\"reason\":\"r\"}]}",
        "decisions[0].stop_loss -5 must be above 0");
    /* no price known: the side cannot be judged here (sizing refuses the item) */
    prices[0] = (at_dec){0, 0};
    assert_int_equal(parse("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
                           "\"size_pct\":0.1,\"leverage\":3,\"take_profit\":1,\"reason\":\"r\"}]}"),
                     AT_OK);
    /* closes ignore exits */
    prices[0] = D("90000");
    assert_int_equal(
        parse("{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"close_long\","
              "\"size_pct\":1,\"take_profit\":1}]}"),
        AT_OK);
    assert_int_equal(d.items[0].take_profit.m, 0);
}

static void test_reply(void **state)
{
    at_ai_reply r = {.err = AT_OK, .content = OPEN_BTC, .finish_reason = "stop"};
    assert_int_equal(vd_reply(&r, &lim, &d, why, sizeof(why)), AT_OK);
    assert_int_equal(d.n, 1);
    r.finish_reason = NULL; /* providers that do not say */
    assert_int_equal(vd_reply(&r, &lim, &d, why, sizeof(why)), AT_OK);

    at_ai_reply refusal = {.err = AT_OK, .content = NULL, .refusal = "I can't help with that."};
    assert_int_equal(vd_reply(&refusal, &lim, &d, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "the model refused: I can't help with that.");

    at_ai_reply null = {.err = AT_OK, .content = NULL, .finish_reason = "stop"};
    assert_int_equal(vd_reply(&null, &lim, &d, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "empty answer (no content)");

    at_ai_reply cut = {.err = AT_OK, .content = "{\"decisions\": [", .finish_reason = "length"};
    assert_int_equal(vd_reply(&cut, &lim, &d, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "the answer was cut off (finish_reason length)");

    at_ai_reply filt = {.err = AT_OK, .content = OPEN_BTC, .finish_reason = "content_filter"};
    assert_int_equal(vd_reply(&filt, &lim, &d, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "the answer did not finish normally (finish_reason content_filter)");

    at_ai_reply err = {.err = AT_ETIMEDOUT, .error = "HTTP 429: rate limited, retries exhausted"};
    assert_int_equal(vd_reply(&err, &lim, &d, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "provider error: HTTP 429: rate limited, retries exhausted");
    at_ai_reply err2 = {.err = AT_EIO};
    assert_int_equal(vd_reply(&err2, &lim, &d, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "provider error: no answer");
}

static void test_to_json(void **state)
{
    assert_int_equal(parse(OPEN_BTC), AT_OK);
    char *j = vd_to_json(&d, &lim);
    assert_non_null(j);
    assert_string_equal(j, "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":\"open_long\","
                           "\"size_pct\":\"0.1\",\"leverage\":\"3\",\"take_profit\":\"95000.5\","
                           "\"stop_loss\":\"88000\",\"confidence\":0.72,"
                           "\"reason\":\"breakout\",\"invalidation\":\"back below 89000\"}]}");
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_valid, setup),
        cmocka_unit_test_setup(test_numbers_exact, setup),
        cmocka_unit_test_setup(test_wrappings, setup),
        cmocka_unit_test_setup(test_no_json, setup),
        cmocka_unit_test_setup(test_wrong_types, setup),
        cmocka_unit_test_setup(test_missing, setup),
        cmocka_unit_test_setup(test_symbols_actions, setup),
        cmocka_unit_test_setup(test_limits, setup),
        cmocka_unit_test_setup(test_exits_wrong_side, setup),
        cmocka_unit_test_setup(test_reply, setup),
        cmocka_unit_test_setup(test_to_json, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

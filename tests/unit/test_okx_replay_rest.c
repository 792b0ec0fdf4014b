/* A replayed account's REST answers (okx_replay_rest.c): the `rest` lines of
 * a recording from replay_from on, each request answered by the first unused
 * one of its method, path, query and body at the time it came; a request
 * the session never made, or made with another body, gets an error saying
 * so (never an invented answer); a recorded transport error comes back as
 * that error; a broken rest line refuses the start at its line. `private`
 * lines are their own kind, `rest` lines no frame for a market player. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "okx_mock.h"
#include "okx_plugin.h"
#include "okx_replay.h"
#include "okx_rest.h"

static okx_ctx C;
static char path[64];

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    C.name = "exchange.okx_test";
    snprintf(path, sizeof(path), "/tmp/okx-rest-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    C.replay = path;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    okx_replay_rest_free(&C);
    unlink(path);
    mock_reset();
    return 0;
}

static void file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static okx_rec_answer ask(const char *m, const char *p, const char *q, const char *b)
{
    okx_rec_answer a = {0};
    okx_replay_rest_answer(&C, m, p, q, b, &a);
    return a;
}

#define BAL(v) "{\\\"code\\\":\\\"0\\\",\\\"data\\\":[{\\\"totalEq\\\":\\\"" v "\\\"}]}"
#define LINE(t, m, p, q, b, body)                                                                  \
    "rest " t ": {\"m\":\"" m "\",\"p\":\"" p "\",\"q\":\"" q "\",\"b\":\"" b                      \
    "\",\"sent\":1,\"status\":200,\"err\":0,\"error\":\"\",\"body\":\"" body "\"}\n"

static void test_answers_in_order(void **state)
{
    file(
        "instruments: {\"code\":\"0\",\"data\":[]}\n"
        /* an earlier session's, before replay_from */
        LINE("1699999999.000000", "GET", "/api/v5/account/balance", "", "",
             BAL("1")) "1700000000.000000: {\"arg\":{\"channel\":\"tickers\"}}\n"
                       "private 1700000000.100000: "
                       "{\"arg\":{\"channel\":\"orders\"},\"data\":[]}\n" LINE(
                           "1700000000.200000", "GET", "/api/v5/account/balance", "ccy=USDT", "",
                           BAL("10"))
                           LINE("1700000000.300000", "POST", "/api/v5/trade/order", "",
                                "{\\\"sz\\\":\\\"1\\\"}",
                                "{\\\"code\\\":\\\"0\\\",\\\"data\\\":[{\\\"ordId\\\":\\\"7\\\"}]}")
                               LINE("1700000000.400000", "GET", "/api/v5/account/balance",
                                    "ccy=USDT", "",
                                    BAL("20")) "rest 1700000000.500000: "
                                               "{\"m\":\"GET\",\"p\":\"/api/v5/account/"
                                               "config\",\"q\":\"\","
                                               "\"b\":\"\",\"sent\":1,\"status\":0,\"err\":-7,"
                                               "\"error\":\"timed out\",\"body\":\"\"}\n");
    C.replay_from = 1700000000000000;
    assert_int_equal(okx_replay_rest_load(&C), AT_OK);
    /* the same request twice: the recorded answers in order, each at its time */
    okx_rec_answer a = ask("GET", "/api/v5/account/balance", "ccy=USDT", "");
    assert_int_equal(a.err, AT_OK);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.at_us, 1700000000200000);
    assert_string_equal(a.body, "{\"code\":\"0\",\"data\":[{\"totalEq\":\"10\"}]}");
    free(a.body);
    a = ask("GET", "/api/v5/account/balance", "ccy=USDT", "");
    assert_int_equal(a.at_us, 1700000000400000);
    assert_non_null(strstr(a.body, "\"20\""));
    free(a.body);
    /* used up: not made live (the earlier session's answer is not taken) */
    a = ask("GET", "/api/v5/account/balance", "ccy=USDT", "");
    assert_int_equal(a.err, AT_EIO);
    assert_null(a.body);
    assert_string_equal(a.error, "replay: GET /api/v5/account/balance?ccy=USDT was not made live");
    a = ask("GET", "/api/v5/account/balance", "", "");
    assert_int_equal(a.err, AT_EIO);
    /* an order with another body: refused, saying so */
    a = ask("POST", "/api/v5/trade/order", "", "{\"sz\":\"2\"}");
    assert_int_equal(a.err, AT_EIO);
    assert_string_equal(a.error,
                        "replay: POST /api/v5/trade/order was sent with another body live");
    a = ask("POST", "/api/v5/trade/order", "", "{\"sz\":\"1\"}");
    assert_int_equal(a.err, AT_OK);
    assert_non_null(strstr(a.body, "\"ordId\":\"7\""));
    free(a.body);
    /* a recorded timeout comes back as one */
    a = ask("GET", "/api/v5/account/config", "", "");
    assert_int_equal(a.err, AT_ETIMEDOUT);
    assert_string_equal(a.error, "timed out");
    assert_null(a.body);
}

static void test_broken_line(void **state)
{
    file(LINE("1700000000.200000", "GET", "/a", "", "", BAL("1")) "rest 1700000001.0: {\"m\":1}\n");
    assert_int_equal(okx_replay_rest_load(&C), AT_EINVAL);
    assert_null(C.rec_rest);
    bool named = false;
    for (size_t i = 0; i < M.nlogs; i++) {
        named |= strstr(M.logs[i].text, ":2: a rest line that is not a recorded answer") != NULL;
    }
    assert_true(named);
    C.replay = "/nowhere/rec.txt";
    assert_int_equal(okx_replay_rest_load(&C), AT_EIO);
}

/* Through okx_rest: a recorded answer reaches the caller at its recorded
 * time (not before), an OKX rate-limit answer (50011) is retried and the
 * retry gets the next recorded answer; a signed call needs no keys; freeing
 * the client with an answer still waiting leaks nothing (ASan). */
static at_timer *m_timer_at(at_instance *inst, int64_t at_us, at_timer_cb cb, void *arg)
{
    (void)inst;
    mock_cb *p = m_pend(3, at_us > M.now_us ? at_us - M.now_us : 0);
    if (p) {
        p->fire = cb;
        p->arg = arg;
    }
    return (at_timer *)p;
}

static int replies;
static char reply_code[16];

static void on_reply(void *arg, const okx_reply *r)
{
    (void)arg;
    replies++;
    snprintf(reply_code, sizeof(reply_code), "%s", r->code);
}

#define LIMITED "{\\\"code\\\":\\\"50011\\\",\\\"msg\\\":\\\"Too Many Requests\\\",\\\"data\\\":[]}"

static void test_through_okx_rest(void **state)
{
    file(LINE("1700000000.005000", "GET", "/api/v5/account/balance", "", "", LIMITED)
             LINE("1700000000.300000", "GET", "/api/v5/account/balance", "", "", BAL("5"))
                 LINE("1700000000.400000", "GET", "/api/v5/account/config", "", "", BAL("6")));
    assert_int_equal(okx_replay_rest_load(&C), AT_OK);
    M.host.timer_at = m_timer_at;
    M.now_us = 1700000000000000;
    replies = 0;
    okx_rest_opts o = {
        .base_url = "https://www.okx.com", .recorded = okx_replay_rest_answer, .recorded_arg = &C};
    okx_rest *r = okx_rest_new(C.h, NULL, &o);
    assert_non_null(r);
    assert_int_equal(okx_rest_get(r, "/api/v5/account/balance", NULL, true, on_reply, NULL), AT_OK);
    mock_advance(4);
    assert_int_equal(replies, 0); /* it came 5 ms after */
    mock_advance(2000);           /* 50011 at 5 ms, asked again, answered (300 ms: at once) */
    assert_int_equal(replies, 1);
    assert_string_equal(reply_code, "0");
    /* one waiting when the client goes */
    assert_int_equal(okx_rest_get(r, "/api/v5/account/config", NULL, true, on_reply, NULL), AT_OK);
    okx_rest_free(r);
    mock_advance(1000);
    assert_int_equal(replies, 1);
}

static void test_line_kinds(void **state)
{
    const char *f = NULL;
    size_t n = 0;
    double ts = -1;
    const char *p = "private 1700000000.5: {\"arg\":{\"channel\":\"orders\"}}";
    assert_int_equal(okx_rec_line(p, strlen(p), &ts, &f, &n), OKX_REC_PRIVATE);
    assert_true(ts > 1700000000.4 && ts < 1700000000.6);
    assert_int_equal(n, strlen("{\"arg\":{\"channel\":\"orders\"}}"));
    const char *skip[] = {LINE("1700000000.2", "GET", "/a", "", "", "x"), "private",
                          "private x: {}", "private 17: "};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
        if (okx_rec_line(skip[i], strlen(skip[i]), &ts, &f, &n) != OKX_REC_SKIP) {
            fail_msg("line %zu should be skipped: '%s'", i, skip[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answers_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_through_okx_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_kinds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

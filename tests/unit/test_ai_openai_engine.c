/* ai_openai in a real engine (tests/support/harness: real loader, host, curl
 * client, timers) against the fake OpenAI-compatible server
 * (tests/fake_llm/fake_llm.py, the real wire protocol on loopback): each
 * scripted answer gives the at_ai_reply it must (content untouched, refusal,
 * reasoning, tokens and cost, HTTP errors with the API's message and never
 * the key, the SDK's retries with Retry-After, timeouts and the deadline,
 * cancel and stop), and the server's records show the request the plugin
 * sent (model, messages, response_format, no temperature for a reasoner,
 * thinking switches, Authorization). Through a recording CONNECT proxy
 * (tests/fake_llm/connect_proxy.py): [core] proxy, a per-instance proxy and
 * proxy = none. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine.h"
#include "fake_proc.h"
#include "harness.h"
#include "util.h"

#define KEY "sk-test-0123456789abcdef"

/* ----------------------------------------------------- the test rig */

typedef struct rig {
    fake_proc fake, proxy, proxy2;
    harness *h;
    const at_host *host;
} rig;

static rig R;

static char *http(const char *method, const char *url, const char *body)
{
    return fake_http(R.h, method, url, body, NULL);
}

static void script(const char *answers)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/_script", R.fake.url);
    free(http("POST", url, answers));
}

static void reset_fake(void)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/_reset", R.fake.url);
    free(http("POST", url, "{}"));
}

/* The requests the fake server recorded (a JSON array; json_decref it). */
static json_t *recorded(void)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/_requests", R.fake.url);
    char *text = http("GET", url, NULL);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_true(json_is_array(j));
    return j;
}

static json_t *tunnels(const fake_proc *p)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/_tunnels", p->url);
    char *text = http("GET", url, NULL);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_true(json_is_array(j));
    return j;
}

/* ---------------------------------------------------- one AI call */

static const char SYSTEM[] = "You are a trading engine. Answer with one JSON object.";
static const char USER[] = "time 2026-12-07T03:00Z; equity 1000 USDT; BTC-USDT-SWAP 68000";
static const char SCHEMA[] = "{\"type\":\"object\",\"properties\":{\"decisions\":{\"type\":"
                             "\"array\"}},\"required\":[\"decisions\"],"
                             "\"additionalProperties\":false}";

static int ask_with(const char *inst_name, int64_t deadline_in_ms, ai_answer *a, bool wait)
{
    at_instance *in = fake_instance(inst_name);
    const at_ai_ops *ops = in->lp.plugin->ops;
    static const char *const syms[] = {"BTC-USDT-SWAP", "ETH-USDT-SWAP"};
    at_ai_request req = {.trader = "alpha",
                         .request_id = "dec-1",
                         .system = SYSTEM,
                         .user = USER,
                         .json_schema = SCHEMA,
                         .symbols = syms,
                         .nsymbols = 2,
                         .deadline_ms =
                             deadline_in_ms ? R.host->now_us() / 1000 + deadline_in_ms : 0};
    memset(a, 0, sizeof(*a));
    int rc = ops->request(in->ctx, &req, ai_answer_done, a);
    assert_int_equal(a->calls, 0); /* never from inside request() */
    if (rc == AT_OK && wait) {
        assert_true(harness_run_until(R.h, ai_answer_came, a, 20000));
    }
    return rc;
}

static void ask(const char *inst_name, ai_answer *a)
{
    assert_int_equal(ask_with(inst_name, 60000, a, true), AT_OK);
    harness_run_for(R.h, 20); /* a second done would show here */
    assert_int_equal(a->calls, 1);
}

/* ------------------------------------------------------- fixtures */

static const char INI[] = "[ai.gpt]\n"
                          "module = openai\n"
                          "api = openai\n"
                          "base_url = @FAKE@/v1\n"
                          "api_key = env:AT_TEST_OAI_KEY\n"
                          "model = gpt-4o-mini\n"
                          "price_in = 0.15\n"
                          "price_out = 0.6\n"
                          "[ai.short]\n"
                          "module = openai\n"
                          "base_url = @FAKE@/v1\n"
                          "model = llama-3.1-8b\n"
                          "timeout = 1s\n"
                          "max_retries = 1\n"
                          "[ai.ds]\n"
                          "module = openai\n"
                          "api = deepseek\n"
                          "base_url = @FAKE@\n"
                          "api_key = env:AT_TEST_OAI_KEY\n"
                          "model = deepseek-reasoner\n"
                          "max_tokens = 4000\n"
                          "[ai.qw]\n"
                          "module = openai\n"
                          "api = qwen\n"
                          "base_url = @FAKE@/compatible-mode/v1\n"
                          "api_key = env:AT_TEST_OAI_KEY\n"
                          "model = qwen-plus\n";

static int setup(void **state)
{
    (void)state;
    memset(&R, 0, sizeof(R));
    setenv("AT_TEST_OAI_KEY", KEY, 1);
    fake_proc_start(&R.fake, "fake_llm/fake_llm.py", NULL);
    char *ini = fake_subst(INI, "@FAKE@", R.fake.url);
    R.h = harness_new(ini);
    free(ini);
    assert_non_null(R.h);
    R.host = harness_host(R.h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (R.h) {
        harness_free(R.h);
    }
    fake_proc_stop(&R.fake);
    fake_proc_stop(&R.proxy);
    fake_proc_stop(&R.proxy2);
    return 0;
}

/* --------------------------------------------------------------- tests */

static void test_valid_answer_and_request(void **state)
{
    (void)state;
    reset_fake();
    ai_answer a;
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_OK);
    assert_non_null(strstr(a.content, "\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\""));
    assert_string_equal(a.model, "gpt-4o-mini");
    assert_string_equal(a.finish, "stop");
    assert_null(a.refusal);
    assert_int_equal(a.tin, 1117);
    assert_int_equal(a.tout, 46);
    assert_float_equal(a.cost, (1117 * 0.15 + 46 * 0.6) / 1e6, 1e-12);
    assert_int_equal(a.attempts, 1);
    assert_true(a.latency_ms >= 0 && a.latency_ms < 10000);
    ai_answer_clear(&a);

    json_t *reqs = recorded();
    assert_int_equal(json_array_size(reqs), 1);
    json_t *r = json_array_get(reqs, 0);
    assert_string_equal(json_string_value(json_object_get(r, "path")), "/v1/chat/completions");
    json_t *h = json_object_get(r, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "authorization")), "Bearer " KEY);
    assert_string_equal(json_string_value(json_object_get(h, "content-type")), "application/json");
    json_t *b = json_object_get(r, "body");
    assert_string_equal(json_string_value(json_object_get(b, "model")), "gpt-4o-mini");
    json_t *m = json_object_get(b, "messages");
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "content")),
                        SYSTEM);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "role")), "user");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "content")), USER);
    json_t *rf = json_object_get(b, "response_format");
    assert_string_equal(json_string_value(json_object_get(rf, "type")), "json_schema");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(rf, "json_schema"), "schema"), "type")),
                        "object");
    assert_float_equal(json_real_value(json_object_get(b, "temperature")), 0.2, 1e-12);
    json_decref(reqs);
}

/* Whatever the model wrote comes back byte for byte: validation is the trader's. */
static void test_content_variants(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"fenced", "```json\n{\"decisions\": []}\n```"},
        {"think", "<think>momentum up</think>\n{\"decisions\": []}"},
        {"text_around", "Here is my decision:\n{\"decisions\": []}\nGood luck!"},
        {"wrong_types",
         "{\"decisions\": [{\"symbol\": \"BTC-USDT-SWAP\", \"size_pct\": \"ten\"}]}"},
        {"unknown_symbol", "{\"decisions\": [{\"symbol\": \"FOO-USDT-SWAP\"}]}"},
        {"empty_lines", "{\"decisions\": []}"},
        {"empty_content", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *spec = json_pack("[{s:s, s:s}]", "case", cases[i][0], "content", cases[i][1]);
        char *text = json_dumps(spec, JSON_COMPACT);
        script(text);
        free(text);
        json_decref(spec);
        ai_answer a;
        ask("ai.gpt", &a);
        assert_int_equal(a.err, AT_OK);
        assert_string_equal(a.content, cases[i][1]);
        ai_answer_clear(&a);
    }
    script("[{\"case\":\"length\",\"content\":\"{\\\"decisions\\\": [{\\\"sym\"}]");
    ai_answer a;
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.finish, "length");
    assert_string_equal(a.content, "{\"decisions\": [{\"sym");
    ai_answer_clear(&a);

    script("[{\"case\":\"refusal\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.content, "");
    assert_string_equal(a.refusal, "I can't help with trading decisions.");
    ai_answer_clear(&a);
}

static void test_http_errors(void **state)
{
    (void)state;
    ai_answer a;
    script("[{\"case\":\"balance\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_ECONFIG);
    assert_string_equal(a.error, "HTTP 402: Insufficient Balance (invalid_request_error)");
    assert_int_equal(a.attempts, 1); /* not retried */
    assert_null(a.content);
    ai_answer_clear(&a);

    script("[{\"case\":\"unauthorized\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_ECONFIG);
    assert_non_null(strstr(a.error, "HTTP 401: Incorrect API key provided: ***"));
    assert_null(strstr(a.error, KEY)); /* the server echoed it; we never pass it on */
    ai_answer_clear(&a);

    script("[{\"case\":\"bad_request\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_EINVAL);
    assert_non_null(strstr(a.error, "HTTP 400: 'messages' must contain the word 'json'"));
    ai_answer_clear(&a);

    script("[{\"case\":\"garbage\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_EIO);
    assert_non_null(strstr(a.error, "not JSON"));
    assert_int_equal(a.attempts, 1);
    ai_answer_clear(&a);
}

static void test_retries(void **state)
{
    (void)state;
    ai_answer a;
    /* 500 then OK */
    reset_fake();
    script("[{\"case\":\"server_error\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_OK);
    assert_int_equal(a.attempts, 2);
    ai_answer_clear(&a);
    json_t *reqs = recorded();
    assert_int_equal(json_array_size(reqs), 2);
    json_decref(reqs);

    /* 429 with Retry-After: 1 is waited for (the backoff alone would be <= 500 ms) */
    script("[{\"case\":\"rate_limited\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_OK);
    assert_int_equal(a.attempts, 2);
    assert_true(a.latency_ms >= 1000);
    ai_answer_clear(&a);

    /* 409, 503 (retry-after-ms), then OK: three attempts */
    script("[{\"case\":\"conflict\"},{\"case\":\"rate_limited_ms\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_OK);
    assert_int_equal(a.attempts, 3);
    ai_answer_clear(&a);

    /* out of retries (max_retries = 2): the last error, and why it is final */
    script("[{\"case\":\"overloaded\",\"repeat\":3}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_EIO);
    assert_int_equal(a.attempts, 3);
    assert_non_null(strstr(a.error, "HTTP 503: Server Overloaded"));
    assert_non_null(strstr(a.error, "no retries left"));
    ai_answer_clear(&a);

    /* a Retry-After over 120 s: final at once */
    script("[{\"case\":\"rate_limited_long\"}]");
    ask("ai.gpt", &a);
    assert_int_equal(a.err, AT_EAGAIN);
    assert_int_equal(a.attempts, 1);
    assert_non_null(strstr(a.error, "600 s"));
    ai_answer_clear(&a);

    /* a Retry-After the deadline has no room for: final at once */
    script("[{\"case\":\"rate_limited\",\"headers\":{\"retry-after\":\"5\"}}]");
    assert_int_equal(ask_with("ai.gpt", 3000, &a, true), AT_OK);
    assert_int_equal(a.err, AT_EAGAIN);
    assert_int_equal(a.attempts, 1);
    assert_non_null(strstr(a.error, "deadline"));
    assert_true(a.latency_ms < 1500);
    ai_answer_clear(&a);
    reset_fake();
}

static void test_slow_answers(void **state)
{
    (void)state;
    ai_answer a;
    /* slower than the per-attempt timeout (1 s, one retry): two timeouts */
    script("[{\"case\":\"slow\",\"repeat\":2}]");
    ask("ai.short", &a);
    assert_int_equal(a.err, AT_ETIMEDOUT);
    assert_int_equal(a.attempts, 2);
    assert_true(a.latency_ms >= 2000);
    ai_answer_clear(&a);

    /* slower than the call's deadline: answered at the deadline */
    script("[{\"case\":\"slow\"}]");
    assert_int_equal(ask_with("ai.gpt", 1500, &a, true), AT_OK);
    assert_int_equal(a.err, AT_ETIMEDOUT);
    assert_int_equal(a.attempts, 1);
    assert_non_null(strstr(a.error, "deadline"));
    assert_true(a.latency_ms >= 1400 && a.latency_ms < 4000);
    ai_answer_clear(&a);

    /* a deadline already past: refused, done never called */
    at_instance *in = fake_instance("ai.gpt");
    at_ai_request req = {.request_id = "late", .user = "u", .deadline_ms = 1000};
    assert_int_equal(
        ((const at_ai_ops *)in->lp.plugin->ops)->request(in->ctx, &req, ai_answer_done, &a),
        AT_ETIMEDOUT);
    harness_run_for(R.h, 50);
    assert_int_equal(a.calls, 0);
    harness_run_for(R.h, 3500); /* let the fake's sleeping threads finish */
    reset_fake();
}

static void test_cancel(void **state)
{
    (void)state;
    ai_answer a;
    script("[{\"case\":\"slow\",\"delay_ms\":1500}]");
    assert_int_equal(ask_with("ai.gpt", 60000, &a, false), AT_OK);
    harness_run_for(R.h, 100);
    at_instance *in = fake_instance("ai.gpt");
    ((const at_ai_ops *)in->lp.plugin->ops)->cancel(in->ctx, "dec-1");
    assert_true(harness_run_until(R.h, ai_answer_came, &a, 1000));
    assert_int_equal(a.err, AT_ESTATE);
    harness_run_for(R.h, 2000); /* the server's late answer changes nothing */
    assert_int_equal(a.calls, 1);
    ai_answer_clear(&a);
    reset_fake();
}

static void test_dialects(void **state)
{
    (void)state;
    ai_answer a;
    reset_fake();
    script("[{\"case\":\"reasoning\"}]");
    ask("ai.ds", &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.reasoning, "We are asked to decide. BTC broke out...");
    assert_int_equal(a.tout, 400);
    assert_string_equal(a.model, "deepseek-reasoner");
    assert_float_equal(a.cost, 0.0, 0); /* unpriced */
    ai_answer_clear(&a);
    ask("ai.qw", &a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    ask("ai.short", &a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);

    json_t *reqs = recorded();
    assert_int_equal(json_array_size(reqs), 3);
    json_t *ds = json_array_get(reqs, 0);
    json_t *b = json_object_get(ds, "body");
    assert_string_equal(json_string_value(json_object_get(ds, "path")), "/chat/completions");
    assert_null(json_object_get(b, "temperature"));
    assert_null(json_object_get(b, "response_format"));
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 4000);

    json_t *qw = json_array_get(reqs, 1);
    b = json_object_get(qw, "body");
    assert_string_equal(json_string_value(json_object_get(qw, "path")),
                        "/compatible-mode/v1/chat/completions");
    assert_true(json_is_false(json_object_get(b, "enable_thinking")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "response_format"), "type")),
        "json_object");

    json_t *lo = json_array_get(reqs, 2);
    assert_null(json_object_get(json_object_get(lo, "headers"), "authorization")); /* no key */
    json_decref(reqs);
}

static void test_metrics(void **state)
{
    (void)state;
    char *text = R.host->metrics_text();
    assert_non_null(text);
    const char *want[] = {"aitrader_ai_requests_total{instance=\"ai.gpt\"}",
                          "aitrader_ai_errors_total{instance=\"ai.gpt\"}",
                          "aitrader_ai_http_attempts_total{instance=\"ai.gpt\"}",
                          "aitrader_ai_prompt_tokens_total{instance=\"ai.gpt\"}",
                          "aitrader_ai_completion_tokens_total{instance=\"ai.ds\"} 400",
                          "aitrader_ai_cost_usd_total{instance=\"ai.gpt\"}",
                          "aitrader_ai_latency_us_count{instance=\"ai.gpt\"}"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(text, want[i])) {
            fail_msg("metrics lack %s", want[i]);
        }
    }
    assert_null(strstr(text, KEY));
    free(text);
}

/* stop() answers a call in flight (the engine's shutdown). */
static ai_answer in_flight;

static void test_stop_answers(void **state)
{
    (void)state;
    script("[{\"case\":\"slow\",\"delay_ms\":1500}]");
    assert_int_equal(ask_with("ai.gpt", 60000, &in_flight, false), AT_OK);
    harness_run_for(R.h, 100);
    harness_free(R.h);
    R.h = NULL;
    assert_int_equal(in_flight.calls, 1);
    assert_int_equal(in_flight.err, AT_ESTATE);
    ai_answer_clear(&in_flight);
}

/* ---------------------------------------------------------- proxies */

static const char PROXY_INI[] = "[core]\n"
                                "proxy = @PROXY@\n"
                                "[ai.via_core]\n"
                                "module = openai\n"
                                "base_url = @FAKE@/v1\n"
                                "model = gpt-4o\n"
                                "[ai.direct]\n"
                                "module = openai\n"
                                "base_url = @FAKE@/v1\n"
                                "model = gpt-4o\n"
                                "proxy = none\n"
                                "[ai.via_own]\n"
                                "module = openai\n"
                                "base_url = @FAKE@/v1\n"
                                "model = gpt-4o\n"
                                "proxy = @PROXY2@\n";

static int setup_proxy(void **state)
{
    (void)state;
    memset(&R, 0, sizeof(R));
    fake_proc_start(&R.fake, "fake_llm/fake_llm.py", NULL);
    fake_proc_start(&R.proxy, "fake_llm/connect_proxy.py", NULL);
    fake_proc_start(&R.proxy2, "fake_llm/connect_proxy.py", NULL);
    char *a = fake_subst(PROXY_INI, "@FAKE@", R.fake.url);
    char *b = fake_subst(a, "@PROXY2@", R.proxy2.url);
    char *c = fake_subst(b, "@PROXY@", R.proxy.url);
    R.h = harness_new(c);
    free(a);
    free(b);
    free(c);
    assert_non_null(R.h);
    R.host = harness_host(R.h);
    return 0;
}

static size_t count_connects(json_t *records, const char *target)
{
    size_t n = 0, i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "kind")), "CONNECT") == 0 &&
            strcmp(json_string_value(json_object_get(r, "target")), target) == 0) {
            n++;
        }
    }
    return n;
}

static void test_proxy_routes(void **state)
{
    (void)state;
    const char *target = R.fake.url + 7; /* 127.0.0.1:PORT */
    ai_answer a;
    ask("ai.via_core", &a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    json_t *t1 = tunnels(&R.proxy);
    assert_int_equal(count_connects(t1, target), 1);
    assert_int_equal(json_array_size(t1), 1); /* tunnelled, nothing forwarded in clear */
    json_decref(t1);

    ask("ai.direct", &a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    ask("ai.via_own", &a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    t1 = tunnels(&R.proxy);
    json_t *t2 = tunnels(&R.proxy2);
    assert_int_equal(json_array_size(t1), 1); /* proxy = none went around it */
    assert_int_equal(count_connects(t2, target), 1);
    json_decref(t1);
    json_decref(t2);
    json_t *reqs = recorded();
    assert_int_equal(json_array_size(reqs), 3); /* all three reached the server */
    json_decref(reqs);

    /* a proxy that is down: the call fails with the transport's error */
    fake_proc_stop(&R.proxy2);
    ask("ai.via_own", &a);
    assert_int_equal(a.err, AT_EIO);
    assert_int_equal(a.attempts, 3); /* network errors are retried */
    ai_answer_clear(&a);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest fake[] = {
        cmocka_unit_test(test_valid_answer_and_request),
        cmocka_unit_test(test_content_variants),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_slow_answers),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_dialects),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_stop_answers),
    };
    const struct CMUnitTest proxy[] = {
        cmocka_unit_test(test_proxy_routes),
    };
    int rc = cmocka_run_group_tests_name("fake_llm", fake, setup, teardown);
    rc |= cmocka_run_group_tests_name("proxy", proxy, setup_proxy, teardown);
    return rc;
}

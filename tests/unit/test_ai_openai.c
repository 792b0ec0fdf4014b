/* ai_openai's pure parts (plugins/ai_openai/oai_*.c): the answer parser
 * (content passed through untouched, null content with a refusal, reasoning,
 * usage, every HTTP error with the API's message and never the key), the
 * official SDK's retry schedule (408/409/429/5xx, Retry-After in its three
 * forms, backoff with jitter, x-should-retry, the deadline over everything),
 * the profile a model implies, the request body, and check_config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "aic.h"
#include "oai.h"

/* ------------------------------------------------------------ helpers */

static char *completion(const char *content_json, const char *extra_msg, const char *finish,
                        const char *usage)
{
    char *b = NULL;
    int n = asprintf(&b,
                     "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
                     "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":{"
                     "\"role\":\"assistant\",\"content\":%s%s},\"logprobs\":null,"
                     "\"finish_reason\":%s}],\"usage\":%s}",
                     content_json, extra_msg, finish, usage);
    assert_true(n > 0);
    return b;
}

static void parse_ok(const char *body, oai_answer *a)
{
    oai_parse(200, body, strlen(body), "sk-test-key-123456", a);
    if (a->err != AT_OK) {
        fprintf(stderr, "parse failed: %s\n", a->error);
    }
    assert_int_equal(a->err, AT_OK);
}

/* ------------------------------------------------------------- parser */

static void test_parse_valid(void **state)
{
    (void)state;
    char *b = completion("\"{\\\"decisions\\\": []}\"", ",\"refusal\":null", "\"stop\"",
                         "{\"prompt_tokens\":1117,\"completion_tokens\":46,\"total_tokens\":1163}");
    oai_answer a;
    parse_ok(b, &a);
    assert_string_equal(a.content, "{\"decisions\": []}");
    assert_null(a.refusal);
    assert_null(a.reasoning);
    assert_string_equal(a.model, "gpt-4o-2024-08-06");
    assert_string_equal(a.finish_reason, "stop");
    assert_int_equal(a.tokens_in, 1117);
    assert_int_equal(a.tokens_out, 46);
    oai_answer_clear(&a);
    free(b);
}

/* Fences, think tags and prose around the JSON are the trader's to strip. */
static void test_parse_content_untouched(void **state)
{
    (void)state;
    const char *contents[] = {
        "\"```json\\n{\\\"decisions\\\": []}\\n```\"",
        "\"<think>up</think>\\n{\\\"decisions\\\": []}\"",
        "\"Here it is:\\n{\\\"decisions\\\": []}\\nBye\"",
        "\"\"",
    };
    const char *want[] = {
        "```json\n{\"decisions\": []}\n```",
        "<think>up</think>\n{\"decisions\": []}",
        "Here it is:\n{\"decisions\": []}\nBye",
        "",
    };
    for (size_t i = 0; i < 4; i++) {
        char *b = completion(contents[i], "", "\"stop\"", "{}");
        oai_answer a;
        parse_ok(b, &a);
        assert_string_equal(a.content, want[i]);
        assert_int_equal(a.tokens_in, 0);
        oai_answer_clear(&a);
        free(b);
    }
}

static void test_parse_refusal_reasoning_length(void **state)
{
    (void)state;
    oai_answer a;
    char *b = completion("null", ",\"refusal\":\"I can't help with that.\"", "\"stop\"", "{}");
    parse_ok(b, &a);
    assert_string_equal(a.content, ""); /* never NULL on success */
    assert_string_equal(a.refusal, "I can't help with that.");
    oai_answer_clear(&a);
    free(b);

    b = completion("\"{}\"", ",\"reasoning_content\":\"We are asked...\"", "\"stop\"",
                   "{\"prompt_tokens\":10,\"completion_tokens\":48,"
                   "\"completion_tokens_details\":{\"reasoning_tokens\":38}}");
    parse_ok(b, &a);
    assert_string_equal(a.reasoning, "We are asked...");
    assert_int_equal(a.tokens_out, 48); /* reasoning included: that is what is billed */
    oai_answer_clear(&a);
    free(b);

    b = completion("\"{}\"", ",\"reasoning\":\"vLLM style\"", "\"stop\"", "{}");
    parse_ok(b, &a);
    assert_string_equal(a.reasoning, "vLLM style");
    oai_answer_clear(&a);
    free(b);

    b = completion("\"{\\\"decisions\\\": [{\\\"sym\"", "", "\"length\"", "{}");
    parse_ok(b, &a);
    assert_string_equal(a.finish_reason, "length");
    assert_string_equal(a.content, "{\"decisions\": [{\"sym");
    oai_answer_clear(&a);
    free(b);

    /* DeepSeek's blank lines before the JSON while the answer is cooking */
    char *inner = completion("\"{}\"", "", "null", "{}");
    char *lead = NULL;
    assert_true(asprintf(&lead, "\n\n\n%s", inner) > 0);
    parse_ok(lead, &a);
    assert_string_equal(a.content, "{}");
    assert_null(a.finish_reason);
    oai_answer_clear(&a);
    free(lead);
    free(inner);
}

static void test_parse_malformed_200(void **state)
{
    (void)state;
    oai_answer a;
    const char *bodies[] = {
        "<html><body>502 Bad Gateway</body></html>",
        "",
        "[1,2]",
        "{\"choices\":[]}",
        "{\"id\":\"x\"}",
        "{\"choices\":[{\"message\":{\"content\":42}}]}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        oai_parse(200, bodies[i], strlen(bodies[i]), NULL, &a);
        assert_int_equal(a.err, AT_EIO);
        assert_true(a.error[0] != '\0');
        assert_null(a.content);
        oai_answer_clear(&a);
    }
    const char *gw = "{\"error\":{\"message\":\"upstream failed\",\"type\":\"x\"}}";
    oai_parse(200, gw, strlen(gw), NULL, &a);
    assert_int_equal(a.err, AT_EIO);
    assert_non_null(strstr(a.error, "upstream failed"));
    oai_answer_clear(&a);
}

static void test_parse_http_errors(void **state)
{
    (void)state;
    struct {
        int status;
        int err;
        const char *body;
        const char *want;
    } cases[] = {
        {400, AT_EINVAL,
         "{\"error\":{\"message\":\"'messages' must contain the word 'json'\",\"type\":"
         "\"invalid_request_error\",\"param\":null,\"code\":null}}",
         "HTTP 400: 'messages' must contain the word 'json' (invalid_request_error)"},
        {401, AT_ECONFIG,
         "{\"error\":{\"message\":\"Incorrect API key provided: sk-test-key-123456.\",\"type\":"
         "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}",
         "HTTP 401: Incorrect API key provided: ***. (invalid_api_key)"},
        {402, AT_ECONFIG,
         "{\"error\":{\"message\":\"Insufficient Balance\",\"type\":\"unknown_error\",\"param\":"
         "null,\"code\":\"invalid_request_error\"}}",
         "HTTP 402: Insufficient Balance (invalid_request_error)"},
        {403, AT_ECONFIG, "{\"error\":{\"message\":\"Country not supported\"}}",
         "HTTP 403: Country not supported"},
        {404, AT_EINVAL, "{\"detail\":\"Not Found\"}", "HTTP 404: Not Found"},
        {422, AT_EINVAL, "{\"message\":\"Invalid Parameters\"}", "HTTP 422: Invalid Parameters"},
        {429, AT_EAGAIN,
         "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"requests\","
         "\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
         "HTTP 429: Rate limit reached for requests (rate_limit_exceeded)"},
        {500, AT_EIO, "{\"error\":{\"message\":\"The server had an error\",\"code\":null}}",
         "HTTP 500: The server had an error"},
        {503, AT_EIO, "<html>\r\n<h1>503 Service\tUnavailable</h1>\n</html>",
         "HTTP 503: <html>  <h1>503 Service Unavailable</h1> </html>"},
        {502, AT_EIO, "", "HTTP 502"},
        {408, AT_EIO, "{\"error\":\"timeout\"}", "HTTP 408: timeout"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        oai_answer a;
        oai_parse(cases[i].status, cases[i].body, strlen(cases[i].body), "sk-test-key-123456", &a);
        assert_int_equal(a.err, cases[i].err);
        assert_string_equal(a.error, cases[i].want);
        assert_null(strstr(a.error, "sk-test-key"));
        assert_null(a.content);
        oai_answer_clear(&a);
    }
    /* a long message stays one bounded line */
    char big[4096];
    memset(big, 'x', sizeof(big));
    memcpy(big, "{\"error\":{\"message\":\"", 21);
    memcpy(big + sizeof(big) - 4, "\"}}", 4);
    oai_answer a;
    oai_parse(500, big, strlen(big), NULL, &a);
    assert_true(strlen(a.error) < 320);
    oai_answer_clear(&a);
}

static void test_cost(void **state)
{
    (void)state;
    oai_cfg c = {.price_in = 0.27, .price_out = 1.10};
    assert_float_equal(oai_cost(&c, 1117, 46), (1117 * 0.27 + 46 * 1.10) / 1e6, 1e-15);
    assert_float_equal(oai_cost(&c, 1000000, 0), 0.27, 1e-12);
    oai_cfg free_model = {0};
    assert_float_equal(oai_cost(&free_model, 5000, 5000), 0.0, 0);
}

/* ------------------------------------------------------ retry schedule */

static int64_t delay_of(int status, int err, const char *h1, int retries, int64_t now,
                        int64_t deadline, double rnd, char *why)
{
    const char *hs[1] = {h1};
    aic_attempt a = {
        .status = status, .err = err, .headers = hs, .nheaders = h1 ? 1 : 0, .idempotent = true};
    char local[200];
    return aic_retry_delay(&a, retries, 2, now, deadline, rnd, why ? why : local, 200);
}

static void test_retry_statuses(void **state)
{
    (void)state;
    const int yes[] = {408, 409, 429, 500, 502, 503, 504};
    const int no[] = {400, 401, 402, 403, 404, 422};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_int_equal(delay_of(yes[i], AT_OK, NULL, 0, 0, 0, 0.0, NULL), 500);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_int_equal(delay_of(no[i], AT_OK, NULL, 0, 0, 0, 0.0, NULL), -1);
    }
    assert_int_equal(delay_of(200, AT_OK, NULL, 0, 0, 0, 0.0, NULL), -1);
    /* no answer: network failures retry, a body over the cap does not */
    assert_int_equal(delay_of(0, AT_EIO, NULL, 0, 0, 0, 0.0, NULL), 500);
    assert_int_equal(delay_of(0, AT_ETIMEDOUT, NULL, 0, 0, 0, 0.0, NULL), 500);
    assert_int_equal(delay_of(200, AT_ERANGE, NULL, 0, 0, 0, 0.0, NULL), -1);
    /* the server's word wins */
    assert_int_equal(delay_of(400, AT_OK, "x-should-retry: true", 0, 0, 0, 0.0, NULL), 500);
    assert_int_equal(delay_of(500, AT_OK, "X-Should-Retry: false", 0, 0, 0, 0.0, NULL), -1);
}

static void test_retry_backoff(void **state)
{
    (void)state;
    /* min(0.5 s * 2^retries, 8 s) * (1 - 0.25 * rnd) */
    const int64_t base[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
    for (int r = 0; r < 7; r++) {
        const char *hs[1] = {NULL};
        aic_attempt a = {.status = 503, .headers = hs, .idempotent = true};
        char why[200];
        assert_int_equal(aic_retry_delay(&a, r, 10, 0, 0, 0.0, why, sizeof(why)), base[r]);
        assert_int_equal(aic_retry_delay(&a, r, 10, 0, 0, 0.5, why, sizeof(why)), base[r] * 7 / 8);
        int64_t low = aic_retry_delay(&a, r, 10, 0, 0, 0.999999, why, sizeof(why));
        assert_true(low >= base[r] * 3 / 4 && low < base[r] * 3 / 4 + 2);
    }
    /* retries used up */
    char why[200];
    assert_int_equal(delay_of(503, AT_OK, NULL, 2, 0, 0, 0.0, why), -1);
    assert_string_equal(why, "no retries left");
    const char *hs[1] = {NULL};
    aic_attempt a = {.status = 503, .headers = hs, .idempotent = true};
    assert_int_equal(aic_retry_delay(&a, 0, 0, 0, 0, 0.0, why, sizeof(why)), -1);
    assert_string_equal(why, "retries are off");
}

static void test_retry_after(void **state)
{
    (void)state;
    int64_t now = 1796615576000; /* 2026-12-07 03:52:56 UTC */
    /* seconds, fractions, ms (preferred), an HTTP-date */
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 1", 0, now, 0, 0.9, NULL), 1000);
    assert_int_equal(delay_of(429, AT_OK, "Retry-After: 2.5", 0, now, 0, 0.9, NULL), 2500);
    assert_int_equal(delay_of(503, AT_OK, "retry-after-ms: 250", 0, now, 0, 0.9, NULL), 250);
    const char *both[2] = {"retry-after: 7", "retry-after-ms: 250"};
    assert_int_equal(aic_retry_after_ms(both, 2, now), 250);
    /* a server's huge number is a week at most, not an overflow */
    const char *huge[1] = {"retry-after: 1e300"};
    assert_true(aic_retry_after_ms(huge, 1, now) == 7LL * 86400 * 1000);
    const char *huge_ms[1] = {"retry-after-ms: 99999999999999999999"};
    assert_true(aic_retry_after_ms(huge_ms, 1, now) == 7LL * 86400 * 1000);
    assert_int_equal(
        delay_of(429, AT_OK, "retry-after: Mon, 07 Dec 2026 03:53:06 GMT", 0, now, 0, 0.9, NULL),
        10000);
    /* unreadable or zero: the backoff applies */
    assert_int_equal(delay_of(429, AT_OK, "retry-after: soon", 0, now, 0, 0.0, NULL), 500);
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 0", 0, now, 0, 0.0, NULL), 500);
    assert_int_equal(delay_of(429, AT_OK, "retry-after: -3", 0, now, 0, 0.0, NULL), 500);
    /* 120 s is the most the SDK waits; beyond, the error is final */
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 120", 0, now, 0, 0.0, NULL), 120000);
    char why[200];
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 600", 0, now, 0, 0.0, why), -1);
    assert_non_null(strstr(why, "600 s"));
    /* the news sources' schedule: doubling from the interval, capped, the
     * server's longer wait kept up to 24 caps, the exponent at most 10 */
    assert_true(aic_backoff_ms(2000, 0, 3600000, -1) == 2000);
    assert_true(aic_backoff_ms(2000, 3, 3600000, 0) == 16000);
    assert_true(aic_backoff_ms(60000, 9, 3600000, -1) == 3600000);
    assert_true(aic_backoff_ms(1000, 1000, 1LL << 60, -1) == 1024000);
    assert_true(aic_backoff_ms(2000, 0, 3600000, 5000) == 5000);
    assert_true(aic_backoff_ms(2000, 0, 3600000, 7LL * 86400000) == 24LL * 3600000);
}

static void test_retry_deadline(void **state)
{
    (void)state;
    int64_t now = 1000000;
    char why[200];
    /* Retry-After honoured only when the attempt after it fits the deadline */
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 5", 0, now, now + 6000, 0.0, why), 5000);
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 5", 0, now, now + 5999, 0.0, why), -1);
    assert_non_null(strstr(why, "deadline"));
    assert_int_equal(delay_of(429, AT_OK, "retry-after: 30", 0, now, now + 3000, 0.0, why), -1);
    /* the backoff too */
    assert_int_equal(delay_of(500, AT_OK, NULL, 1, now, now + 2000, 0.0, why), 1000);
    assert_int_equal(delay_of(500, AT_OK, NULL, 1, now, now + 1999, 0.0, why), -1);
    assert_int_equal(delay_of(0, AT_ETIMEDOUT, NULL, 0, now, now - 1, 0.0, why), -1);
}

/* ------------------------------------------------------------ profiles */

static oai_profile profile(const char *base, const char *model, int think, int rf)
{
    oai_cfg c = {.base_url = base, .model = model, .thinking = think, .response_format = rf};
    oai_profile p;
    oai_profile_resolve(&c, &p);
    return p;
}

static void test_profiles(void **state)
{
    (void)state;
    const char *oa = "https://api.openai.com/v1", *ds = "https://api.deepseek.com",
               *qw = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
               *lo = "http://127.0.0.1:8080/v1";
    oai_profile p = profile(oa, "gpt-4o-mini", 0, 0);
    assert_int_equal(p.api, OAI_API_OPENAI);
    assert_int_equal(p.rf, OAI_RF_JSON_SCHEMA);
    assert_true(p.send_temperature);
    assert_false(p.thinking);
    assert_int_equal(p.timeout_ms, OAI_TIMEOUT_MS);

    p = profile(oa, "o3-mini", 0, 0);
    assert_true(p.thinking);
    assert_false(p.send_temperature);
    assert_true(p.completion_tokens);
    assert_int_equal(p.rf, OAI_RF_JSON_SCHEMA);
    assert_int_equal(p.timeout_ms, OAI_TIMEOUT_THINKING_MS);
    assert_int_equal(profile(oa, "gpt-3.5-turbo", 0, 0).rf, OAI_RF_JSON_OBJECT);
    assert_int_equal(profile(oa, "o1-mini", 0, 0).rf, OAI_RF_JSON_OBJECT);
    assert_true(profile(oa, "gpt-5-chat-latest", 0, 0).send_temperature);

    p = profile(ds, "deepseek-v4-flash", OAI_THINK_AUTO, 0);
    assert_int_equal(p.api, OAI_API_DEEPSEEK);
    assert_false(p.thinking);
    assert_int_equal(p.think_switch, 0); /* V4 thinks unless told not to */
    assert_int_equal(p.rf, OAI_RF_JSON_OBJECT);
    assert_true(p.send_temperature);

    p = profile(ds, "deepseek-v4-pro", OAI_THINK_ON, 0);
    assert_true(p.thinking);
    assert_int_equal(p.think_switch, 1);
    assert_int_equal(p.rf, OAI_RF_NONE);
    assert_false(p.send_temperature);
    assert_int_equal(p.timeout_ms, OAI_TIMEOUT_THINKING_MS);

    p = profile(ds, "deepseek-reasoner", OAI_THINK_OFF, 0);
    assert_true(p.thinking); /* it cannot stop */
    assert_int_equal(p.think_switch, -1);
    assert_int_equal(p.rf, OAI_RF_NONE);
    assert_false(p.send_temperature);
    assert_int_equal(profile(ds, "deepseek-chat", 0, 0).think_switch, -1);

    p = profile(qw, "qwen-plus", 0, 0);
    assert_int_equal(p.api, OAI_API_QWEN);
    assert_int_equal(p.think_switch, 0);
    assert_int_equal(p.rf, OAI_RF_JSON_OBJECT);
    p = profile(qw, "qwen-plus", OAI_THINK_ON, 0);
    assert_int_equal(p.think_switch, 1);
    assert_int_equal(p.rf, OAI_RF_NONE);
    p = profile(qw, "qwq-plus", 0, 0);
    assert_true(p.thinking);
    assert_int_equal(p.think_switch, -1);

    p = profile(lo, "deepseek-r1:14b", 0, 0);
    assert_int_equal(p.api, OAI_API_GENERIC); /* by host: no DeepSeek extras to Ollama */
    assert_true(p.thinking);
    assert_int_equal(p.think_switch, -1);
    assert_int_equal(p.rf, OAI_RF_NONE);
    p = profile(lo, "llama-3.1-8b-instruct", 0, 0);
    assert_false(p.thinking);
    assert_int_equal(p.rf, OAI_RF_JSON_OBJECT);

    /* what the config says wins */
    assert_int_equal(profile(ds, "deepseek-reasoner", 0, OAI_RF_JSON_OBJECT).rf,
                     OAI_RF_JSON_OBJECT);
    assert_int_equal(profile(lo, "llama", 0, OAI_RF_JSON_SCHEMA).rf, OAI_RF_JSON_SCHEMA);
    oai_cfg c = {.base_url = lo, .model = "x", .timeout_ms = 5000, .api = OAI_API_DEEPSEEK};
    oai_profile_resolve(&c, &p);
    assert_int_equal(p.timeout_ms, 5000);
    assert_int_equal(p.api, OAI_API_DEEPSEEK);
}

/* --------------------------------------------------------------- bodies */

static const char SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"decisions\":{\"type\":\"array\"}},"
    "\"required\":[\"decisions\"],\"additionalProperties\":false}";

static json_t *body_of(const oai_cfg *c, const at_ai_request *req, oai_rf *sent, const char **note)
{
    oai_profile p;
    oai_profile_resolve(c, &p);
    char why[160];
    char *text = oai_body_build(c, &p, req, sent, note, why, sizeof(why));
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    free(text);
    return j;
}

static void test_body_openai(void **state)
{
    (void)state;
    oai_cfg c = {.base_url = "https://api.openai.com/v1",
                 .model = "gpt-4o-mini",
                 .temperature = 0.2,
                 .max_tokens = 800,
                 .strict_schema = true};
    at_ai_request req = {.request_id = "d1",
                         .system = "You trade. Answer in JSON.",
                         .user = "state...",
                         .json_schema = SCHEMA};
    oai_rf sent;
    const char *note;
    json_t *j = body_of(&c, &req, &sent, &note);
    assert_int_equal(sent, OAI_RF_JSON_SCHEMA);
    assert_null(note);
    assert_string_equal(json_string_value(json_object_get(j, "model")), "gpt-4o-mini");
    json_t *m = json_object_get(j, "messages");
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "content")),
                        "You trade. Answer in JSON.");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "role")), "user");
    assert_true(json_is_false(json_object_get(j, "stream")));
    assert_float_equal(json_real_value(json_object_get(j, "temperature")), 0.2, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(j, "max_completion_tokens")), 800);
    assert_null(json_object_get(j, "max_tokens"));
    json_t *rf = json_object_get(j, "response_format");
    assert_string_equal(json_string_value(json_object_get(rf, "type")), "json_schema");
    json_t *js = json_object_get(rf, "json_schema");
    assert_string_equal(json_string_value(json_object_get(js, "name")), "trade_decision");
    assert_true(json_is_true(json_object_get(js, "strict")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(js, "schema"), "type")),
                        "object");
    assert_null(json_object_get(j, "thinking"));
    assert_null(json_object_get(j, "enable_thinking"));
    json_decref(j);

    /* no schema in the request: json_object; no "json" in any message: nothing */
    req.json_schema = NULL;
    j = body_of(&c, &req, &sent, &note);
    assert_int_equal(sent, OAI_RF_JSON_OBJECT);
    assert_non_null(note);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "response_format"), "type")),
        "json_object");
    json_decref(j);
    req.json_schema = "not json";
    req.system = NULL;
    req.user = "decide";
    j = body_of(&c, &req, &sent, &note);
    assert_int_equal(sent, OAI_RF_NONE);
    assert_null(json_object_get(j, "response_format"));
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 1);
    json_decref(j);

    /* o-series: no temperature */
    c.model = "o4-mini";
    c.reasoning_effort = "low";
    req.json_schema = SCHEMA;
    j = body_of(&c, &req, &sent, &note);
    assert_null(json_object_get(j, "temperature"));
    assert_string_equal(json_string_value(json_object_get(j, "reasoning_effort")), "low");
    json_decref(j);
}

static void test_body_deepseek_qwen(void **state)
{
    (void)state;
    at_ai_request req = {.request_id = "d2", .system = "Reply with JSON only.", .user = "ctx"};
    oai_cfg c = {.base_url = "https://api.deepseek.com",
                 .model = "deepseek-reasoner",
                 .temperature = 0.7,
                 .max_tokens = 4000};
    oai_rf sent;
    const char *note;
    json_t *j = body_of(&c, &req, &sent, &note);
    assert_null(json_object_get(j, "temperature"));
    assert_null(json_object_get(j, "response_format"));
    assert_null(json_object_get(j, "thinking"));
    assert_int_equal(json_integer_value(json_object_get(j, "max_tokens")), 4000);
    assert_null(json_object_get(j, "max_completion_tokens"));
    json_decref(j);

    c.model = "deepseek-v4-flash";
    j = body_of(&c, &req, &sent, &note);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "thinking"), "type")),
                        "disabled");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "response_format"), "type")),
        "json_object");
    assert_float_equal(json_real_value(json_object_get(j, "temperature")), 0.7, 1e-12);
    json_decref(j);

    c.thinking = OAI_THINK_ON;
    c.reasoning_effort = "max";
    j = body_of(&c, &req, &sent, &note);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "thinking"), "type")),
                        "enabled");
    assert_string_equal(json_string_value(json_object_get(j, "reasoning_effort")), "max");
    assert_null(json_object_get(j, "temperature"));
    assert_null(json_object_get(j, "response_format"));
    json_decref(j);

    oai_cfg q = {.base_url = "https://dashscope.aliyuncs.com/compatible-mode/v1",
                 .model = "qwen-plus",
                 .temperature = 0.2};
    j = body_of(&q, &req, &sent, &note);
    assert_true(json_is_false(json_object_get(j, "enable_thinking")));
    assert_null(json_object_get(j, "thinking"));
    assert_null(json_object_get(j, "reasoning_effort"));
    json_decref(j);
    q.thinking = OAI_THINK_ON;
    j = body_of(&q, &req, &sent, &note);
    assert_true(json_is_true(json_object_get(j, "enable_thinking")));
    json_decref(j);

    /* no user prompt: refused, not sent */
    oai_profile p;
    oai_profile_resolve(&q, &p);
    at_ai_request none = {.request_id = "x"};
    char why[160];
    assert_null(oai_body_build(&q, &p, &none, &sent, &note, why, sizeof(why)));
    assert_non_null(strstr(why, "user prompt"));
}

/* ---------------------------------------------------------- check_config */

static void test_check_config(void **state)
{
    (void)state;
    struct {
        const char *url, *model, *proxy, *effort;
        int64_t timeout;
        const char *key; /* NULL = accepted */
    } cases[] = {
        {"https://api.openai.com/v1", "gpt-4o", NULL, NULL, 0, NULL},
        {"http://127.0.0.1:8080/v1/", "llama", "none", "high", 5000, NULL},
        {"https://api.deepseek.com", "deepseek-v4-flash", "http://10.0.0.1:3128", NULL, 0, NULL},
        {"ftp://x", "m", NULL, NULL, 0, "base_url"},
        {"api.openai.com/v1", "m", NULL, NULL, 0, "base_url"},
        {"https://", "m", NULL, NULL, 0, "base_url"},
        {"https://user:pw@api.x.com/v1", "m", NULL, NULL, 0, "base_url"},
        {"https://api.x.com/v1?key=1", "m", NULL, NULL, 0, "base_url"},
        {"https://api.openai.com/v1/chat/completions", "m", NULL, NULL, 0, "base_url"},
        {"https://api x.com", "m", NULL, NULL, 0, "base_url"},
        {"https://api.x.com", "gpt 4o", NULL, NULL, 0, "model"},
        {"https://api.x.com", "", NULL, NULL, 0, "model"},
        {"https://api.x.com", "m", "socks5://h:1", NULL, 0, "proxy"},
        {"https://api.x.com", "m", "http://h", NULL, 0, "proxy"},
        {"https://api.x.com", "m", NULL, "High!", 0, "reasoning_effort"},
        {"https://api.x.com", "m", NULL, NULL, 500, "timeout"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        oai_cfg c = {.base_url = cases[i].url,
                     .model = cases[i].model,
                     .proxy = cases[i].proxy,
                     .reasoning_effort = cases[i].effort,
                     .timeout_ms = cases[i].timeout};
        const char *key = NULL;
        char why[256] = "";
        int rc = oai_check_config(&c, &key, why, sizeof(why));
        if (!cases[i].key) {
            assert_int_equal(rc, AT_OK);
        } else {
            assert_int_equal(rc, AT_ECONFIG);
            assert_string_equal(key, cases[i].key);
            assert_true(why[0] != '\0');
            assert_null(strstr(why, "pw@")); /* credentials never echoed */
        }
    }
}

/* The proxy syntax the engine and the plugins share (host.h). */
static void test_proxy_syntax(void **state)
{
    (void)state;
    const char *good[] = {NULL,
                          "",
                          "none",
                          "http://127.0.0.1:3128",
                          "http://proxy.example.com:8080/",
                          "http://user:p%40ss@proxy:8080",
                          "http://[::1]:3128",
                          "http://h:65535"};
    const char *bad[] = {"https://h:1",  "socks5://h:1", "http://h",       "http://h:",
                         "http://:80",   "http://h:0",   "http://h:65536", "http://h:80/x",
                         "http://h :80", "http://@h:80", "http://[::1]",   "http://::1:80",
                         "http://h:8a",  "proxy:3128",   "None",           "http://h:80\n"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!at_proxy_valid(good[i])) {
            fail_msg("refused %s", good[i] ? good[i] : "NULL");
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (at_proxy_valid(bad[i])) {
            fail_msg("accepted %s", bad[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_content_untouched),
        cmocka_unit_test(test_parse_refusal_reasoning_length),
        cmocka_unit_test(test_parse_malformed_200),
        cmocka_unit_test(test_parse_http_errors),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_retry_statuses),
        cmocka_unit_test(test_retry_backoff),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_retry_deadline),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_body_openai),
        cmocka_unit_test(test_body_deepseek_qwen),
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_proxy_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

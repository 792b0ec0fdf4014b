/* ai_letta's pure parts (plugins/ai_letta/lt_*.c): the LettaResponse parser
 * (the last assistant_message, content as text or parts, reasoning, usage,
 * unknown and missing types, stop reasons, garbage), agents, lists and
 * blocks as the server answers them, the trade journal's trimming, the
 * memory files (UTF-8 exactly as jansson takes it), the request bodies,
 * check_config, and lib/ai_common's rules for a request that is not
 * idempotent (an agent's turn) and for a loopback URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "aic.h"
#include "lt.h"

/* ------------------------------------------------------------ helpers */

static void parse(const char *body, lt_answer *a)
{
    lt_parse_answer(body, strlen(body), a);
}

#define REASONING                                                                                  \
    "{\"id\":\"message-1\",\"message_type\":\"reasoning_message\",\"source\":"                     \
    "\"non_reasoner_model\",\"reasoning\":\"Oversold + extreme fear; small long.\","               \
    "\"signature\":null}"
#define TOOL_CALL                                                                                  \
    "{\"id\":\"message-2\",\"message_type\":\"tool_call_message\",\"tool_call\":{\"name\":"        \
    "\"memory_replace\",\"arguments\":\"{}\",\"tool_call_id\":\"call_abc\"}}"
#define TOOL_RETURN                                                                                \
    "{\"id\":\"message-3\",\"message_type\":\"tool_return_message\",\"tool_return\":\"OK\","       \
    "\"status\":\"success\",\"tool_call_id\":\"call_abc\"}"
#define TAIL                                                                                       \
    "\"stop_reason\":{\"message_type\":\"stop_reason\",\"stop_reason\":\"end_turn\"},"             \
    "\"usage\":{\"message_type\":\"usage_statistics\",\"completion_tokens\":120,"                  \
    "\"prompt_tokens\":2400,\"total_tokens\":2520,\"step_count\":2}}"

/* ------------------------------------------------------------- answers */

/* The reference's example, verbatim in shape. */
static void test_answer_reference(void **state)
{
    (void)state;
    const char *body = "{\"messages\":[" REASONING "," TOOL_CALL "," TOOL_RETURN
                       ",{\"id\":\"message-4\",\"message_type\":\"assistant_message\",\"content\":"
                       "\"{\\\"decisions\\\": []}\"}]," TAIL;
    lt_answer a;
    parse(body, &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.content, "{\"decisions\": []}");
    assert_string_equal(a.reasoning, "Oversold + extreme fear; small long.");
    assert_string_equal(a.stop_reason, "end_turn");
    assert_string_equal(lt_finish_reason(a.stop_reason), "stop");
    assert_int_equal(a.tokens_in, 2400);
    assert_int_equal(a.tokens_out, 120);
    assert_int_equal(a.messages, 4);
    assert_int_equal(a.unknown, 0);
    lt_answer_clear(&a);
}

/* Several assistant messages: the last one is the decision. */
static void test_answer_last_assistant(void **state)
{
    (void)state;
    const char *body =
        "{\"messages\":["
        "{\"message_type\":\"assistant_message\",\"content\":\"thinking aloud\"}," REASONING ","
        "{\"message_type\":\"assistant_message\",\"content\":\"the decision\"},"
        "{\"message_type\":\"reasoning_message\",\"reasoning\":\"after\"}]," TAIL;
    lt_answer a;
    parse(body, &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.content, "the decision");
    /* every reasoning_message, one a line, in order */
    assert_string_equal(a.reasoning, "Oversold + extreme fear; small long.\nafter");
    lt_answer_clear(&a);
}

/* Content as a list of parts: their text joined, in order. */
static void test_answer_parts(void **state)
{
    (void)state;
    const char *body = "{\"messages\":[{\"message_type\":\"assistant_message\",\"content\":["
                       "{\"type\":\"text\",\"text\":\"{\\\"decisions\\\":\"},"
                       "{\"type\":\"image\",\"source\":{}},"
                       "{\"type\":\"text\",\"text\":\" []}\"}]}]," TAIL;
    lt_answer a;
    parse(body, &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.content, "{\"decisions\": []}");
    lt_answer_clear(&a);
    /* an empty list is an empty text: the trader's validation says why */
    parse("{\"messages\":[{\"message_type\":\"assistant_message\",\"content\":[]}]}", &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.content, "");
    lt_answer_clear(&a);
}

/* Types the client does not know (and entries without a type) are skipped. */
static void test_answer_unknown_types(void **state)
{
    (void)state;
    const char *body = "{\"messages\":["
                       "{\"message_type\":\"approval_request_message\",\"tool_call\":{}},"
                       "{\"message_type\":\"event_message\",\"event_type\":\"compaction\"},"
                       "{\"message_type\":\"hidden_reasoning_message\",\"state\":\"redacted\"},"
                       "{\"message_type\":\"a_future_type\",\"content\":\"not this\"},"
                       "{\"content\":\"nor this\"}, 42, null,"
                       "{\"message_type\":\"assistant_message\",\"content\":\"yes\"},"
                       "{\"message_type\":\"user_message\",\"content\":\"nor this either\"}]}";
    lt_answer a;
    parse(body, &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(a.content, "yes");
    assert_null(a.reasoning);
    assert_int_equal(a.unknown, 7); /* approval, event, future, untyped x3, user */
    assert_null(a.stop_reason);
    assert_string_equal(lt_finish_reason(a.stop_reason), "stop");
    assert_int_equal(a.tokens_in, 0);
    lt_answer_clear(&a);
}

/* No assistant_message: the stop reason is the error, when there is one. */
static void test_answer_stopped(void **state)
{
    (void)state;
    lt_answer a;
    parse("{\"messages\":[" REASONING "],\"stop_reason\":{\"message_type\":\"stop_reason\","
          "\"stop_reason\":\"max_steps\"},\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}",
          &a);
    assert_int_equal(a.err, AT_EIO);
    assert_string_equal(a.error, "the agent stopped without an answer (stop_reason max_steps)");
    assert_null(a.content);
    assert_int_equal(a.tokens_in, 5); /* usage is kept: the tokens were spent */
    assert_int_equal(a.tokens_out, 7);
    lt_answer_clear(&a);
    parse("{\"messages\":[" TOOL_CALL "]," TAIL, &a);
    assert_int_equal(a.err, AT_EIO);
    assert_string_equal(a.error, "the agent sent no assistant_message");
    lt_answer_clear(&a);
    /* a stop reason given as a bare string (older servers) */
    parse("{\"messages\":[],\"stop_reason\":\"llm_api_error\"}", &a);
    assert_string_equal(a.error, "the agent stopped without an answer (stop_reason llm_api_error)");
    lt_answer_clear(&a);
    /* an answer that came with a stop other than end_turn is still the answer */
    parse("{\"messages\":[{\"message_type\":\"assistant_message\",\"content\":\"{\\\"dec\"}],"
          "\"stop_reason\":{\"stop_reason\":\"max_tokens_exceeded\"}}",
          &a);
    assert_int_equal(a.err, AT_OK);
    assert_string_equal(lt_finish_reason(a.stop_reason), "length");
    lt_answer_clear(&a);
    assert_string_equal(lt_finish_reason("max_steps"), "max_steps");
}

static void test_answer_missing_fields(void **state)
{
    (void)state;
    struct {
        const char *body, *error;
    } cases[] = {
        {"{\"messages\":[{\"message_type\":\"assistant_message\"}]}",
         "the last assistant_message has no content"},
        {"{\"messages\":[{\"message_type\":\"assistant_message\",\"content\":null}]}",
         "the last assistant_message's content is neither text nor a list of text parts"},
        {"{\"messages\":[{\"message_type\":\"assistant_message\",\"content\":\"ok\"},"
         "{\"message_type\":\"assistant_message\",\"content\":7}]}",
         "the last assistant_message's content is neither text nor a list of text parts"},
        {"{\"stop_reason\":{\"stop_reason\":\"end_turn\"}}", "the answer has no messages list"},
        {"{\"messages\":{}}", "the answer has no messages list"},
        {"[]", "the answer is not a JSON object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lt_answer a;
        parse(cases[i].body, &a);
        assert_int_equal(a.err, AT_EIO);
        assert_string_equal(a.error, cases[i].error);
        assert_null(a.content);
        lt_answer_clear(&a);
    }
}

static void test_answer_garbage(void **state)
{
    (void)state;
    const char *bodies[] = {"", "<html><body>502 Bad Gateway</body></html>", "{\"messages\":[",
                            "{\"messages\":[]}}", "\x01\x02\xff"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        lt_answer a;
        lt_parse_answer(bodies[i], strlen(bodies[i]), &a);
        assert_int_equal(a.err, AT_EIO);
        assert_non_null(strstr(a.error, "not JSON") ? a.error : NULL);
        lt_answer_clear(&a);
    }
    lt_answer a;
    lt_parse_answer(NULL, 0, &a); /* no body at all */
    assert_int_equal(a.err, AT_EIO);
    lt_answer_clear(&a);
}

/* ------------------------------------------------------- agents, blocks */

static void test_agent(void **state)
{
    (void)state;
    const char *body =
        "{\"id\":\"agent-6f1c2d0e-8a51-4c0f-9f0e-2b7f6c9e1a11\",\"name\":\"aitrader-alpha\","
        "\"model\":\"openai/gpt-4o-mini\",\"tools\":[],\"memory\":{\"blocks\":[]},\"blocks\":["
        "{\"id\":\"block-1\",\"label\":\"persona\",\"value\":\"cautious\",\"limit\":5000},"
        "{\"id\":\"block-2\",\"label\":\"no_value\"},"
        "{\"id\":\"block-3\",\"label\":\"risk_red_lines\",\"value\":\"never 10x\"}]}";
    lt_agent_info a;
    char why[200];
    assert_int_equal(lt_parse_agent(body, strlen(body), &a, why, sizeof(why)), AT_OK);
    assert_string_equal(a.id, "agent-6f1c2d0e-8a51-4c0f-9f0e-2b7f6c9e1a11");
    assert_string_equal(a.name, "aitrader-alpha");
    assert_string_equal(a.model, "openai/gpt-4o-mini");
    assert_int_equal(a.nblocks, 2); /* a block without a value is skipped */
    assert_string_equal(a.blocks[1].label, "risk_red_lines");
    assert_string_equal(a.blocks[1].value, "never 10x");
    assert_string_equal(a.blocks[1].id, "block-3");
    lt_agent_info_clear(&a);
    /* older servers: memory.blocks only */
    const char *old =
        "{\"id\":\"agent-x\",\"memory\":{\"blocks\":[{\"label\":\"h\",\"value\":\"\"}]}}";
    assert_int_equal(lt_parse_agent(old, strlen(old), &a, why, sizeof(why)), AT_OK);
    assert_int_equal(a.nblocks, 1);
    assert_null(a.model);
    lt_agent_info_clear(&a);
    assert_int_equal(lt_parse_agent("{\"name\":\"x\"}", 12, &a, why, sizeof(why)), AT_EIO);
    assert_string_equal(why, "the agent has no id");
    assert_int_equal(lt_parse_agent("[1]", 3, &a, why, sizeof(why)), AT_EIO);
    assert_int_equal(lt_parse_agent("nope", 4, &a, why, sizeof(why)), AT_EIO);
    assert_non_null(strstr(why, "not JSON"));
}

static void test_agent_list(void **state)
{
    (void)state;
    const char *body = "[{\"id\":\"agent-a\",\"name\":\"aitrader-alphabet\"},"
                       "{\"id\":\"agent-b\",\"name\":\"aitrader-alpha\",\"blocks\":[]},"
                       "{\"id\":\"agent-c\",\"name\":\"aitrader-alpha\"}]";
    lt_agent_info a;
    char why[200];
    /* the server filters by name; only an exact match counts, the first */
    assert_int_equal(
        lt_parse_agent_list(body, strlen(body), "aitrader-alpha", &a, why, sizeof(why)), AT_OK);
    assert_string_equal(a.id, "agent-b");
    lt_agent_info_clear(&a);
    assert_int_equal(lt_parse_agent_list(body, strlen(body), "aitrader-beta", &a, why, sizeof(why)),
                     AT_ENOENT);
    assert_int_equal(lt_parse_agent_list("[]", 2, "x", &a, why, sizeof(why)), AT_ENOENT);
    assert_int_equal(lt_parse_agent_list("{\"agents\":[]}", 13, "x", &a, why, sizeof(why)), AT_EIO);
    assert_string_equal(why, "the list of agents is not a JSON array");
    const char *noid = "[{\"name\":\"x\"}]";
    assert_int_equal(lt_parse_agent_list(noid, strlen(noid), "x", &a, why, sizeof(why)), AT_EIO);
}

static void test_block(void **state)
{
    (void)state;
    const char *body = "{\"id\":\"block-0b7d\",\"label\":\"trade_journal\",\"value\":\"line 1\","
                       "\"limit\":8000,\"read_only\":true}";
    lt_block_info b;
    char why[200];
    assert_int_equal(lt_parse_block(body, strlen(body), &b, why, sizeof(why)), AT_OK);
    assert_string_equal(b.id, "block-0b7d");
    assert_string_equal(b.value, "line 1");
    lt_block_info_clear(&b);
    assert_int_equal(lt_parse_block("{\"label\":\"x\"}", 13, &b, why, sizeof(why)), AT_EIO);
    assert_string_equal(why, "the block has no label and value");
    assert_int_equal(lt_parse_block("", 0, &b, why, sizeof(why)), AT_EIO);
}

/* ------------------------------------------------------------ journal */

static void test_journal(void **state)
{
    (void)state;
    char *j = lt_journal_append(LT_JOURNAL_EMPTY, "first\n  outcome\t here ", 100);
    assert_string_equal(j, "first outcome here");
    char *k = lt_journal_append(j, "second", 100);
    assert_string_equal(k, "first outcome here\nsecond");
    free(j);
    /* over the limit: the oldest lines go, whole */
    j = lt_journal_append(k, "third one", 20);
    assert_string_equal(j, "second\nthird one");
    free(k);
    k = lt_journal_append(j, "0123456789abcdefghij", 20); /* exactly the limit alone */
    assert_string_equal(k, "0123456789abcdefghij");
    free(j);
    /* an entry alone over the limit is cut, on a character boundary */
    j = lt_journal_append(NULL, "ab\xc3\xa9\xc3\xa9", 4); /* "abéé" is 6 bytes */
    assert_string_equal(j, "ab\xc3\xa9");
    free(k);
    k = lt_journal_append(j, "", 100); /* an empty entry adds an empty line */
    assert_string_equal(k, "ab\xc3\xa9\n");
    free(j);
    free(k);
    /* an outcome already written is found at a line's end, after the time */
    const char *jr = "2026-12-07 10:04 UTC decision d1: open_long BTC filled\n"
                     "2026-12-07 10:09 UTC decision d2: refused by risk.limits";
    assert_true(lt_journal_has(jr, "decision d1: open_long BTC filled"));
    assert_true(lt_journal_has(jr, "decision d2: refused by risk.limits"));
    assert_false(lt_journal_has(jr, "decision d1: open_long BTC"));
    assert_false(lt_journal_has(jr, "ecision d2: refused by risk.limits"));
    assert_false(lt_journal_has(LT_JOURNAL_EMPTY, "decision d1: x"));
    char *folded = lt_journal_fold("decision d3:\n  two\tlines ");
    assert_string_equal(folded, "decision d3: two lines");
    free(folded);
    /* control bytes are folded like blanks */
    j = lt_journal_append("",
                          "a\x01\x02"
                          "b",
                          100);
    assert_string_equal(j, "a b");
    free(j);
}

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ai_letta_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[512];
    lt_file f[8];
    size_t n;
    char why[600];
    snprintf(p, sizeof(p), "%s/nope", dir);
    assert_int_equal(lt_files_read(p, f, 8, &n, why, sizeof(why)), AT_OK); /* absent: none */
    assert_int_equal(n, 0);
    const char *names[] = {"risk_red_lines.md", "strategy_principles.md", "notes.txt",  "README",
                           "bad name.md",       "trade_journal.md",       ".hidden.md", "binary.md",
                           "risk_red_lines.txt"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        write_file(p, strcmp(names[i], "binary.md") == 0 ? "\xff\xfe" : names[i]);
    }
    assert_int_equal(lt_files_read(dir, f, 8, &n, why, sizeof(why)), AT_OK);
    /* sorted by label; the odd ones out are left out and one of them named */
    assert_int_equal(n, 3);
    assert_string_equal(f[0].label, "notes");
    assert_string_equal(f[1].label, "risk_red_lines");
    assert_string_equal(f[2].label, "strategy_principles");
    assert_string_equal(f[2].value, "strategy_principles.md");
    assert_string_equal(f[1].value, "risk_red_lines.md"); /* of .md and .txt, the .md */
    assert_true(strstr(why, "not used") || strstr(why, "not UTF-8"));
    lt_files_clear(f, n);
    assert_int_equal(lt_files_read(dir, f, 1, &n, why, sizeof(why)), AT_OK);
    assert_int_equal(n, 1);
    lt_files_clear(f, n);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    /* a .txt and a .md of one stem, whatever the order: the .md, and said */
    for (int round = 0; round < 2; round++) {
        const char *first = round ? "x.md" : "x.txt", *second = round ? "x.txt" : "x.md";
        snprintf(p, sizeof(p), "%s/%s", dir, first);
        write_file(p, first);
        snprintf(p, sizeof(p), "%s/%s", dir, second);
        write_file(p, second);
        assert_int_equal(lt_files_read(dir, f, 8, &n, why, sizeof(why)), AT_OK);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].value, "x.md");
        char want[600];
        snprintf(want, sizeof(want), "%s/x.txt: not used: a .md of the same name is used", dir);
        assert_string_equal(why, want);
        lt_files_clear(f, n);
        snprintf(p, sizeof(p), "%s/x.md", dir);
        unlink(p);
        snprintf(p, sizeof(p), "%s/x.txt", dir);
        unlink(p);
    }
    /* what jansson refuses is left out, the rest read: an overlong form, a
     * surrogate, a code point over U+10FFFF */
    const char *refused[] = {"over\xE0\x80\xAFlong", "sur\xED\xA0\x80rogate",
                             "big\xF4\x90\x80\x80"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/ok.md", dir);
        write_file(p, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x88");
        snprintf(p, sizeof(p), "%s/bad.md", dir);
        write_file(p, refused[i]);
        assert_int_equal(lt_files_read(dir, f, 8, &n, why, sizeof(why)), AT_OK);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].label, "ok");
        char want[600];
        snprintf(want, sizeof(want), "%s/bad.md: not UTF-8 text", dir);
        assert_string_equal(why, want);
        lt_files_clear(f, n);
        unlink(p);
        snprintf(p, sizeof(p), "%s/ok.md", dir);
        unlink(p);
    }
    rmdir(dir);
    assert_true(lt_label_ok("risk_red-lines2"));
    assert_false(lt_label_ok("a.b"));
    assert_false(lt_label_ok(""));
    assert_true(lt_id_ok("agent-6f1c2d0e-8a51-4c0f-9f0e-2b7f6c9e1a11"));
    assert_false(lt_id_ok("agent/../x"));
    assert_false(lt_id_ok("agent?name=x"));
    assert_true(lt_hash("a") != lt_hash("b"));
}

/* lt_utf8_ok takes what json_stringn takes: every 1- and 2-byte sequence,
 * every 3-byte one whose last byte is at an edge of the continuation range,
 * every 4-byte lead and second byte, and mixed texts. */
static void agree(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    bool jansson = j != NULL && memchr(s, 0, n) == NULL;
    json_decref(j);
    if (lt_utf8_ok(s, n) != jansson) {
        char hex[64] = "";
        for (size_t i = 0; i < n && i < 8; i++) {
            snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "%02X ", (unsigned char)s[i]);
        }
        fail_msg("%s: lt_utf8_ok %d, jansson %d", hex, !jansson, jansson);
    }
}

static void test_utf8_as_jansson(void **state)
{
    (void)state;
    unsigned char b[6];
    for (int x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        agree((const char *)b, 1);
        for (int y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            agree((const char *)b, 2);
            const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
            for (size_t k = 0; x >= 0xC0 && k < sizeof(edges); k++) {
                b[2] = edges[k];
                agree((const char *)b, 3);
                b[3] = 0x80;
                agree((const char *)b, 4);
                b[3] = 0xBF;
                b[4] = 'a';
                agree((const char *)b, 5);
            }
        }
    }
    const char *texts[] = {"caf\xC3\xA9",         "\xE2\x82\xAC",
                           "\xF0\x9F\x93\x88 up", "\xEF\xBF\xBF",
                           "\xF4\x8F\xBF\xBF",    "\xED\x9F\xBF",
                           "\xEE\x80\x80",        "\xC0\xAF",
                           "\xE0\x9F\xBF",        "\xF0\x8F\xBF\xBF",
                           "\xED\xBF\xBF",        "\xF4\x90\x80\x80",
                           "\xF5\x80\x80\x80",    "ok\xC3"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        agree(texts[i], strlen(texts[i]));
    }
    assert_false(lt_utf8_ok("a\0b", 3)); /* jansson would cut the text at the NUL */
}

/* lib/ai_common: an agent's turn (not idempotent) is retried only when it
 * never reached the server or the server asks for it later. */
static int64_t once(int status, int err, const char *error, const char *h1, char *why)
{
    const char *hs[1] = {h1};
    aic_attempt a = {.status = status,
                     .err = err,
                     .error = error,
                     .headers = hs,
                     .nheaders = h1 ? 1 : 0,
                     .idempotent = false};
    return aic_retry_delay(&a, 0, 2, 0, 0, 0.0, why, 200);
}

static void test_not_idempotent(void **state)
{
    (void)state;
    char why[200];
    const int taken[] = {408, 409, 500, 502, 503, 504, 429};
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        assert_int_equal(once(taken[i], AT_OK, NULL, NULL, why), -1);
        assert_string_equal(why, "not retried: it may have reached the server");
    }
    assert_int_equal(once(429, AT_OK, NULL, "Retry-After: 2", why), 2000);
    assert_int_equal(once(503, AT_OK, NULL, "retry-after-ms: 300", why), 300);
    assert_int_equal(once(500, AT_OK, NULL, "Retry-After: 2", why), -1);
    assert_int_equal(once(400, AT_OK, NULL, NULL, why), -1);
    assert_string_equal(why, "");
    /* no answer: only a request that never left */
    assert_int_equal(once(0, AT_EIO,
                          "Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to "
                          "server",
                          NULL, why),
                     500);
    assert_int_equal(once(0, AT_EIO, "Could not resolve host: letta.invalid", NULL, why), 500);
    assert_int_equal(
        once(0, AT_ETIMEDOUT, "Connection timed out after 3001 milliseconds", NULL, why), 500);
    assert_int_equal(once(0, AT_ETIMEDOUT,
                          "Operation timed out after 120001 milliseconds with 0 bytes received",
                          NULL, why),
                     -1);
    assert_string_equal(why, "not retried: it may have reached the server");
    assert_int_equal(once(0, AT_EIO, "Recv failure: Connection reset by peer", NULL, why), -1);
    assert_int_equal(once(0, AT_EIO, "Empty reply from server", NULL, why), -1);
    assert_int_equal(once(0, AT_EIO, NULL, NULL, why), -1);
    /* the server's word still wins */
    assert_int_equal(once(500, AT_OK, NULL, "x-should-retry: true", why), 500);
    assert_false(aic_not_sent("HTTP 500"));
    /* an idempotent request keeps the SDK's rules */
    const char *hs[1] = {NULL};
    aic_attempt a = {.status = 500, .headers = hs, .idempotent = true};
    assert_int_equal(aic_retry_delay(&a, 0, 2, 0, 0, 0.0, why, 200), 500);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(aic_loopback_url("http://localhost:8283"));
    assert_true(aic_loopback_url("http://LOCALHOST/"));
    assert_true(aic_loopback_url("http://localhost"));
    assert_true(aic_loopback_url("http://127.0.0.1:8283/x"));
    assert_true(aic_loopback_url("http://[::1]:8283"));
    assert_false(aic_loopback_url("http://localhost.example.com"));
    assert_false(aic_loopback_url("http://localhostile:80"));
    assert_false(aic_loopback_url("http://127.0.0.1.evil.com/"));
    assert_false(aic_loopback_url("http://127.evil.com/"));
    assert_false(aic_loopback_url("http://[::1]x/"));
    assert_false(aic_loopback_url("http://10.0.0.1:8283"));
}

/* ------------------------------------------------------------ bodies */

static void test_bodies(void **state)
{
    (void)state;
    lt_block blocks[] = {{"risk_red_lines", "never over 3x", 20000, "the operator's file"},
                         {"trade_journal", LT_JOURNAL_EMPTY, 8000, NULL}};
    char *b = lt_body_agent("aitrader-alpha", "openai/gpt-4o-mini", NULL, "alpha", blocks, 2);
    json_t *root = json_loads(b, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "name")), "aitrader-alpha");
    assert_string_equal(json_string_value(json_object_get(root, "model")), "openai/gpt-4o-mini");
    assert_null(json_object_get(root, "embedding"));
    json_t *mb = json_object_get(root, "memory_blocks");
    assert_int_equal(json_array_size(mb), 2);
    json_t *b0 = json_array_get(mb, 0);
    assert_string_equal(json_string_value(json_object_get(b0, "label")), "risk_red_lines");
    assert_int_equal(json_integer_value(json_object_get(b0, "limit")), 20000);
    assert_true(json_is_true(json_object_get(b0, "read_only")));
    assert_null(json_object_get(json_array_get(mb, 1), "description"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(root, "tags"), 1)),
                        "trader:alpha");
    json_decref(root);
    free(b);
    b = lt_body_agent("n", "m/x", "openai/text-embedding-3-small", "t", NULL, 0);
    assert_non_null(strstr(b, "\"embedding\":\"openai/text-embedding-3-small\""));
    free(b);
    b = lt_body_message("BTC \"quoted\"\n", 0);
    assert_string_equal(
        b, "{\"messages\":[{\"role\":\"user\",\"content\":\"BTC \\\"quoted\\\"\\n\"}]}");
    free(b);
    b = lt_body_message("x", 8);
    assert_string_equal(b,
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_steps\":8}");
    free(b);
    b = lt_body_value("v", 8000);
    assert_string_equal(b, "{\"value\":\"v\",\"limit\":8000}");
    free(b);
    assert_null(lt_body_message("\xff not utf-8", 8));
}

/* ------------------------------------------------------------ config */

static void test_check_config(void **state)
{
    (void)state;
    const char *routes[] = {"alpha:openai/gpt-4o", "beta-2:deepseek/deepseek-chat"};
    lt_cfg good = {.base_url = "http://localhost:8283",
                   .model = "openai/gpt-4o-mini",
                   .models = {2, routes},
                   .agent_prefix = "aitrader-",
                   .memory_dir = "prompts/letta"};
    const char *key = NULL;
    char why[300];
    assert_int_equal(lt_check_config(&good, &key, why, sizeof(why)), AT_OK);
    assert_string_equal(lt_model_for(&good, "alpha"), "openai/gpt-4o");
    assert_string_equal(lt_model_for(&good, "beta-2"), "deepseek/deepseek-chat");
    assert_string_equal(lt_model_for(&good, "beta"), "openai/gpt-4o-mini");
    assert_string_equal(lt_model_for(&good, "alph"), "openai/gpt-4o-mini");
    struct {
        lt_cfg c;
        const char *key, *why;
    } bad[] = {
        {{.base_url = "localhost:8283", .model = "a/b", .memory_dir = "d"},
         "base_url",
         "expected an http:// or https:// URL"},
        {{.base_url = "http://localhost:8283/v1/", .model = "a/b", .memory_dir = "d"},
         "base_url",
         "give the API root without /v1"},
        {{.base_url = "http://u:pw@localhost:8283", .model = "a/b", .memory_dir = "d"},
         "base_url",
         "credentials do not go in the URL"},
        {{.base_url = "http://h", .model = "gpt-4o-mini", .memory_dir = "d"},
         "model",
         "expected a Letta model handle"},
        {{.base_url = "http://h", .model = "a/b", .embedding = "x y", .memory_dir = "d"},
         "embedding",
         "expected a Letta embedding handle"},
        {{.base_url = "http://h",
          .model = "a/b",
          .models = {1, (const char *[]){"alpha"}},
          .memory_dir = "d"},
         "models",
         "'alpha' is not trader:handle"},
        {{.base_url = "http://h",
          .model = "a/b",
          .models = {1, (const char *[]){"al pha:a/b"}},
          .memory_dir = "d"},
         "models",
         "is not trader:handle"},
        {{.base_url = "http://h",
          .model = "a/b",
          .models = {1, (const char *[]){"alpha:gpt"}},
          .memory_dir = "d"},
         "models",
         "'alpha:gpt' is not trader:handle"},
        {{.base_url = "http://h",
          .model = "a/b",
          .models = {2, (const char *[]){"alpha:a/b", "alpha:c/d"}},
          .memory_dir = "d"},
         "models",
         "trader 'alpha' is routed twice"},
        {{.base_url = "http://h", .model = "a/b", .agent_prefix = "my agents/", .memory_dir = "d"},
         "agent_prefix",
         "expected letters"},
        {{.base_url = "http://h", .model = "a/b", .memory_dir = "d", .timeout_ms = 500},
         "timeout",
         "at least 1s"},
        {{.base_url = "http://h", .model = "a/b", .memory_dir = "d", .proxy = "socks://x"},
         "proxy",
         "expected http://host:port"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        key = NULL;
        why[0] = '\0';
        assert_int_equal(lt_check_config(&bad[i].c, &key, why, sizeof(why)), AT_ECONFIG);
        assert_string_equal(key, bad[i].key);
        if (!strstr(why, bad[i].why)) {
            fail_msg("case %zu: '%s' lacks '%s'", i, why, bad[i].why);
        }
        assert_null(strstr(why, "pw@"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_reference), cmocka_unit_test(test_answer_last_assistant),
        cmocka_unit_test(test_answer_parts),     cmocka_unit_test(test_answer_unknown_types),
        cmocka_unit_test(test_answer_stopped),   cmocka_unit_test(test_answer_missing_fields),
        cmocka_unit_test(test_answer_garbage),   cmocka_unit_test(test_agent),
        cmocka_unit_test(test_agent_list),       cmocka_unit_test(test_block),
        cmocka_unit_test(test_journal),          cmocka_unit_test(test_files),
        cmocka_unit_test(test_bodies),           cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_utf8_as_jansson),  cmocka_unit_test(test_not_idempotent),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ai_letta in a real engine (tests/support/harness: real loader, host, curl
 * client, timers, SQLite) against the fake Letta server
 * (tests/fake_letta/fake_letta.py, which refuses a second request to an
 * agent while one is answered): requests and journal writes for one agent
 * run one at a time in arrival order, agents of other traders side by side;
 * a request waiting past its deadline, a cancel, a full queue; a running
 * message given up (deadline, cancel) holds the agent until Letta ended its
 * turn; the answer's fields; the agent deleted on the server found again
 * from a 404 on any route under it; a message is not sent twice; a memory
 * file jansson refuses or over block_limit is left out, said once; answers
 * without a decision are errors naming the step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine.h"
#include "fake_proc.h"
#include "harness.h"

static struct {
    fake_proc fake;
    harness *h;
    const at_host *host;
} R;

static json_t *fake_get(const char *what)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/%s", R.fake.url, what);
    char *text = fake_http(R.h, "GET", url, NULL, NULL);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_true(json_is_array(j));
    return j;
}

static void fake_post(const char *what, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/%s", R.fake.url, what);
    free(fake_http(R.h, "POST", url, body, NULL));
}

/* ------------------------------------------------------------ calls */

static const at_ai_ops *ops_of(const char *inst)
{
    return fake_instance(inst)->lp.plugin->ops;
}

/* request() to inst for trader with id, answer by deadline_in_ms (0 none). */
static int ask(const char *inst, const char *trader, const char *id, int64_t deadline_in_ms,
               ai_answer *a)
{
    static const char *const syms[] = {"BTC-USDT-SWAP", "ETH-USDT-SWAP"};
    at_ai_request req = {.trader = trader,
                         .request_id = id,
                         .system = "Instruments: BTC-USDT-SWAP, ETH-USDT-SWAP. Answer JSON.",
                         .user = "BTC-USDT-SWAP last 90000; ETH-USDT-SWAP last 3000",
                         .symbols = syms,
                         .nsymbols = 2,
                         .deadline_ms =
                             deadline_in_ms ? R.host->now_us() / 1000 + deadline_in_ms : 0};
    memset(a, 0, sizeof(*a));
    int rc = ops_of(inst)->request(fake_instance(inst)->ctx, &req, ai_answer_done, a);
    assert_int_equal(a->calls, 0); /* never from inside request() */
    return rc;
}

static void wait_answer(ai_answer *a)
{
    assert_true(harness_run_until(R.h, ai_answer_came, a, 20000));
    harness_run_for(R.h, 20); /* a second done would show here */
    assert_int_equal(a->calls, 1);
}

static void tell(const char *trader, const char *decision, const char *text)
{
    at_ai_feedback fb = {.struct_size = sizeof(fb),
                         .trader = trader,
                         .decision_id = decision,
                         .symbol = "BTC-USDT-SWAP",
                         .kind = AT_AI_FB_FILLED,
                         .text = text,
                         .ts_ms = R.host->now_us() / 1000};
    ops_of("ai.letta")->feedback(fake_instance("ai.letta")->ctx, &fb);
}

/* Every request the fake got, in arrival order. */
static json_t *records(void)
{
    return fake_get("_log");
}

static double rec_num(const json_t *r, const char *k)
{
    return json_number_value(json_object_get(r, k));
}

static const char *rec_str(const json_t *r, const char *k)
{
    const char *s = json_string_value(json_object_get(r, k));
    return s ? s : "";
}

/* Requests to one agent never overlap; none was refused busy. */
static void assert_one_at_a_time(const json_t *log)
{
    size_t n = json_array_size(log);
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(log, i);
        assert_int_not_equal(json_integer_value(json_object_get(a, "status")), 409);
        for (size_t k = i + 1; k < n; k++) {
            const json_t *b = json_array_get(log, k);
            if (!rec_str(a, "agent")[0] || strcmp(rec_str(a, "agent"), rec_str(b, "agent")) != 0) {
                continue;
            }
            bool apart =
                rec_num(a, "t1") <= rec_num(b, "t0") || rec_num(b, "t1") <= rec_num(a, "t0");
            if (!apart) {
                fail_msg("%s and %s overlap for %s", rec_str(a, "route"), rec_str(b, "route"),
                         rec_str(a, "agent"));
            }
        }
    }
}

/* The routes the fake got, "route/label" for block routes, space-separated. */
static void routes(char *out, size_t cap)
{
    json_t *log = records();
    size_t i;
    json_t *r;
    out[0] = '\0';
    json_array_foreach(log, i, r)
    {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s%s ", rec_str(r, "route"),
                 rec_str(r, "label")[0] ? "/" : "", rec_str(r, "label"));
    }
    json_decref(log);
}

/* Whether the fake holds a message it has not answered yet. */
static bool message_held(void)
{
    json_t *log = records();
    bool held = false;
    size_t i;
    json_t *r;
    json_array_foreach(log, i, r)
    {
        held |= strcmp(rec_str(r, "route"), "messages") == 0 &&
                json_is_null(json_object_get(r, "status"));
    }
    json_decref(log);
    return held;
}

/* Polls the fake (which drives the engine's loop) until cond() or 10 s. */
static bool poll_fake(bool (*cond)(void))
{
    for (int i = 0; i < 500; i++) {
        if (cond()) {
            return true;
        }
        harness_run_for(R.h, 20);
    }
    return false;
}

static const char *agent_id(void)
{
    static char id[128];
    json_t *agents = fake_get("_agents");
    snprintf(id, sizeof(id), "%s", rec_str(json_array_get(agents, 0), "id"));
    json_decref(agents);
    return id;
}

static void write_mem(const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/mem/%s", harness_tmpdir(R.h), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* stderr (the engine's log) into a file while `on`; its text when turned off. */
static struct {
    int saved;
    char path[600];
} cap;

static void capture_on(void)
{
    snprintf(cap.path, sizeof(cap.path), "%s/stderr.txt", harness_tmpdir(R.h));
    fflush(stderr);
    cap.saved = dup(2);
    FILE *f = fopen(cap.path, "w");
    assert_non_null(f);
    dup2(fileno(f), 2);
    fclose(f);
}

static char *capture_off(void)
{
    fflush(stderr);
    dup2(cap.saved, 2);
    close(cap.saved);
    FILE *f = fopen(cap.path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

/* ------------------------------------------------------- fixtures */

static const char INI[] = "[storage.sqlite]\n"
                          "path = @TMP@/t.db\n"
                          "[ai.letta]\n"
                          "base_url = @FAKE@\n"
                          "model = openai/gpt-4o-mini\n"
                          "models = beta:deepseek/deepseek-chat\n"
                          "memory_dir = @TMP@/mem\n"
                          "price_in = 1\n"
                          "price_out = 2\n"
                          "[ai.small]\n"
                          "module = letta\n"
                          "base_url = @FAKE@\n"
                          "model = openai/gpt-4o-mini\n"
                          "agent_prefix = small-\n"
                          "memory_dir = @TMP@/mem\n"
                          "queue_max = 1\n"
                          "max_retries = 0\n";

static int setup(void **state)
{
    (void)state;
    memset(&R, 0, sizeof(R));
    fake_proc_start(&R.fake, "fake_letta/fake_letta.py", NULL);
    char *ini = fake_subst(INI, "@FAKE@", R.fake.url);
    R.h = harness_new(ini);
    free(ini);
    assert_non_null(R.h);
    R.host = harness_host(R.h);
    char dir[512], path[600];
    snprintf(dir, sizeof(dir), "%s/mem", harness_tmpdir(R.h));
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/risk_red_lines.md", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("Never over 3x.\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (R.h) {
        harness_free(R.h);
    }
    fake_proc_stop(&R.fake);
    return 0;
}

/* ---------------------------------------------------------- tests */

/* One agent: its first message is slow; a journal write and a second
 * message that come meanwhile wait for it, in order. Another trader's agent
 * goes on at the same time. */
static void test_one_at_a_time(void **state)
{
    (void)state;
    fake_post("_script", "[{\"case\": \"slow\", \"delay_ms\": 1500}]");
    ai_answer a1, a2, b1;
    assert_int_equal(ask("ai.letta", "alpha", "q1", 30000, &a1), AT_OK);
    harness_run_for(R.h, 300); /* q1's message is in flight (the agent created first) */
    tell("alpha", "q0", "open_long BTC-USDT-SWAP 0.1 x3: filled 0.33 contracts @ 90000");
    assert_int_equal(ask("ai.letta", "alpha", "q2", 30000, &a2), AT_OK);
    assert_int_equal(ask("ai.letta", "beta", "b1", 30000, &b1), AT_OK);
    wait_answer(&b1);
    assert_int_equal(a1.calls, 0); /* beta did not wait for alpha */
    wait_answer(&a1);
    wait_answer(&a2);
    harness_run_for(R.h, 200);
    ai_answer *all[] = {&a1, &a2, &b1};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(all[i]->err, AT_OK);
        assert_non_null(strstr(all[i]->content, "\"decisions\""));
    }
    assert_string_equal(a1.model, "openai/gpt-4o-mini");
    assert_string_equal(b1.model, "deepseek/deepseek-chat"); /* routed */
    assert_string_equal(a1.finish, "stop");
    assert_string_equal(a1.reasoning, "The memory says: trade with the trend, respect the red "
                                      "lines.");
    assert_int_equal(a1.tout, 120);
    assert_true(a1.tin > 0);
    assert_float_equal(a1.cost, (double)(a1.tin * 1 + a1.tout * 2) / 1e6, 1e-12);
    json_t *log = records();
    assert_one_at_a_time(log);
    /* alpha's order: the slow message, the journal (read, written), the second message */
    json_t *agents = fake_get("_agents");
    char alpha[128] = "";
    size_t i;
    json_t *r;
    json_array_foreach(agents, i, r)
    {
        if (strcmp(rec_str(r, "name"), "aitrader-alpha") == 0) {
            snprintf(alpha, sizeof(alpha), "%s", rec_str(r, "id"));
        }
    }
    assert_int_equal(json_array_size(agents), 2); /* each created once */
    json_decref(agents);
    char seq[512] = "";
    json_array_foreach(log, i, r)
    {
        if (strcmp(rec_str(r, "agent"), alpha) == 0 && strcmp(rec_str(r, "route"), "create") != 0) {
            strcat(seq, rec_str(r, "route"));
            strcat(seq, " ");
        }
    }
    assert_string_equal(seq, "messages block_get block_patch messages ");
    json_decref(log);
    ai_answer_clear(&a1);
    ai_answer_clear(&a2);
    ai_answer_clear(&b1);
}

/* A request that waits behind a slow one past its deadline is answered
 * so; a cancelled one is answered AT_ESTATE; past queue_max a request is
 * refused at once. */
static void test_deadline_cancel_full(void **state)
{
    (void)state;
    fake_post("_script", "[{\"case\": \"slow\", \"delay_ms\": 2500}]");
    ai_answer a1, a2, a3, s1, s2, s3;
    assert_int_equal(ask("ai.letta", "alpha", "d1", 30000, &a1), AT_OK);
    assert_int_equal(ask("ai.letta", "alpha", "d2", 1000, &a2), AT_OK);
    assert_int_equal(ask("ai.letta", "alpha", "d3", 30000, &a3), AT_OK);
    ops_of("ai.letta")->cancel(fake_instance("ai.letta")->ctx, "d3");
    harness_run_for(R.h, 20);
    assert_int_equal(a3.calls, 1);
    assert_int_equal(a3.err, AT_ESTATE);
    assert_string_equal(a3.error, "cancelled");
    wait_answer(&a2);
    assert_int_equal(a2.err, AT_ETIMEDOUT);
    assert_string_equal(a2.error, "deadline passed while waiting for the agent's earlier requests "
                                  "(Letta takes one at a time)");
    wait_answer(&a1);
    assert_int_equal(a1.err, AT_OK);
    /* queue_max = 1: one running, one waiting, the third refused */
    fake_post("_script", "[{\"case\": \"slow\", \"delay_ms\": 1000}]");
    assert_int_equal(ask("ai.small", "alpha", "s1", 30000, &s1), AT_OK);
    harness_run_for(R.h, 300);
    assert_int_equal(ask("ai.small", "alpha", "s2", 30000, &s2), AT_OK);
    assert_int_equal(ask("ai.small", "alpha", "s3", 30000, &s3), AT_EAGAIN);
    wait_answer(&s1);
    wait_answer(&s2);
    assert_int_equal(s2.err, AT_OK);
    json_t *log = records();
    assert_one_at_a_time(log);
    json_decref(log);
    ai_answer_clear(&a1);
    ai_answer_clear(&a2);
    ai_answer_clear(&a3);
    ai_answer_clear(&s1);
    ai_answer_clear(&s2);
}

/* What is no decision is an error naming the step; text parts are joined;
 * an agent deleted on the server is created again within the call. */
static void test_answers(void **state)
{
    (void)state;
    ai_answer a;
    struct {
        const char *script;
        int err;
        const char *error, *content;
    } cases[] = {
        {"[{\"case\": \"no_assistant\"}]", AT_EIO,
         "sending the message: the agent stopped without an answer (stop_reason max_steps)", NULL},
        {"[{\"case\": \"garbage\"}]", AT_EIO,
         "sending the message: the answer is not JSON: '[' or '{' expected near '<' at line 1 "
         "column 1",
         NULL},
        {"[{\"case\": \"parts\", \"content\": \"{\\\"decisions\\\": []}\"}]", AT_OK, NULL,
         "{\"decisions\": []}"},
        {"[{\"case\": \"unknown_types\", \"content\": \"hold everything\"}]", AT_OK, NULL,
         "hold everything"},
        /* a message is not sent again after a 500: the agent may have taken it */
        {"[{\"case\": \"server_error\"}]", AT_EIO,
         "sending the message: HTTP 500: Internal Server Error; not retried: it may have "
         "reached the server",
         NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_post("_script", cases[i].script);
        assert_int_equal(ask("ai.letta", "alpha", "x", 30000, &a), AT_OK);
        wait_answer(&a);
        assert_int_equal(a.err, cases[i].err);
        if (cases[i].error) {
            assert_string_equal(a.error, cases[i].error);
        } else {
            assert_string_equal(a.content, cases[i].content);
        }
        ai_answer_clear(&a);
    }
    json_t *log = records();
    size_t i, messages = 0;
    json_t *r;
    json_array_foreach(log, i, r)
    {
        messages += strcmp(rec_str(r, "route"), "messages") == 0;
    }
    assert_int_equal(messages, sizeof(cases) / sizeof(cases[0])); /* one each: none sent twice */
    json_decref(log);
}

/* A running message given up, by its deadline and then by a cancel, is
 * answered at once; the agent's next request waits until Letta ended the
 * turn (the fake refuses any request to an agent while it runs one). */
static void test_given_up(void **state)
{
    (void)state;
    ai_answer a0, a1, a2, a3, a4;
    assert_int_equal(ask("ai.letta", "alpha", "g0", 30000, &a0), AT_OK);
    wait_answer(&a0); /* the agent exists */
    assert_int_equal(a0.err, AT_OK);
    fake_post("_reset", "{}");
    fake_post("_script", "[{\"case\": \"slow\", \"delay_ms\": 1500}]");
    assert_int_equal(ask("ai.letta", "alpha", "g1", 600, &a1), AT_OK);
    wait_answer(&a1);
    assert_int_equal(a1.err, AT_ETIMEDOUT);
    assert_string_equal(a1.error, "deadline passed sending the message with attempt 1 in flight");
    assert_int_equal(ask("ai.letta", "alpha", "g2", 30000, &a2), AT_OK);
    wait_answer(&a2);
    assert_int_equal(a2.err, AT_OK);
    fake_post("_script", "[{\"case\": \"slow\", \"delay_ms\": 1500}]");
    assert_int_equal(ask("ai.letta", "alpha", "g3", 0, &a3), AT_OK);
    assert_true(poll_fake(message_held));
    ops_of("ai.letta")->cancel(fake_instance("ai.letta")->ctx, "g3");
    harness_run_for(R.h, 20);
    assert_int_equal(a3.calls, 1);
    assert_int_equal(a3.err, AT_ESTATE);
    assert_int_equal(ask("ai.letta", "alpha", "g4", 30000, &a4), AT_OK);
    wait_answer(&a4);
    assert_int_equal(a4.err, AT_OK);
    char seq[512];
    routes(seq, sizeof(seq));
    assert_string_equal(seq, "messages messages messages messages ");
    json_t *log = records();
    assert_one_at_a_time(log);
    json_decref(log);
    ai_answer *all[] = {&a0, &a1, &a2, &a3, &a4};
    for (size_t i = 0; i < 5; i++) {
        ai_answer_clear(all[i]);
    }
}

static bool listed(void)
{
    char seq[512];
    routes(seq, sizeof(seq));
    return strstr(seq, "list") != NULL;
}

/* The agent deleted on the server is found out from a 404 on any route
 * under it (a block's PATCH, the journal's GET, a message): checked with
 * GET /v1/agents/{id}, then found or created again, once; no block is
 * created for an agent that is gone. */
static void test_agent_deleted(void **state)
{
    (void)state;
    ai_answer a;
    assert_int_equal(ask("ai.letta", "alpha", "e0", 30000, &a), AT_OK);
    wait_answer(&a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    /* dropped, a file edited: its PATCH gets the 404 */
    char body[256], gone[128];
    snprintf(gone, sizeof(gone), "%s", agent_id());
    snprintf(body, sizeof(body), "{\"agent_id\": \"%s\"}", gone);
    fake_post("_drop", body);
    fake_post("_reset", "{}");
    write_mem("risk_red_lines.md", "Never over 2x.\n");
    assert_int_equal(ask("ai.letta", "alpha", "e1", 30000, &a), AT_OK);
    wait_answer(&a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    char seq[512];
    routes(seq, sizeof(seq));
    assert_string_equal(seq, "block_patch/risk_red_lines get list create messages ");
    json_t *agents = fake_get("_agents");
    assert_int_equal(json_array_size(agents), 1);
    assert_string_not_equal(rec_str(json_array_get(agents, 0), "id"), gone);
    /* with every block: the memory file as it is now, the system prompt, the journal */
    json_t *blocks = json_object_get(json_array_get(agents, 0), "blocks");
    assert_int_equal(json_array_size(blocks), 3);
    assert_string_equal(rec_str(json_array_get(blocks, 0), "value"), "Never over 2x.\n");
    json_decref(agents);
    /* dropped again, an outcome told: the journal's GET gets the 404, the
     * agent is gone, nothing is created (a journal write creates no agent) */
    snprintf(body, sizeof(body), "{\"agent_id\": \"%s\"}", agent_id());
    fake_post("_drop", body);
    fake_post("_reset", "{}");
    tell("alpha", "e1", "open_long BTC-USDT-SWAP 0.05 x2: filled 0.1 contracts @ 90000");
    assert_true(poll_fake(listed));
    harness_run_for(R.h, 100);
    routes(seq, sizeof(seq));
    assert_string_equal(seq, "block_get/trade_journal get list ");
    /* and a message gets the 404 when nothing is PATCHed first */
    assert_int_equal(ask("ai.letta", "alpha", "e2", 30000, &a), AT_OK);
    wait_answer(&a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    snprintf(body, sizeof(body), "{\"agent_id\": \"%s\"}", agent_id());
    fake_post("_drop", body);
    fake_post("_reset", "{}");
    assert_int_equal(ask("ai.letta", "alpha", "e3", 30000, &a), AT_OK);
    wait_answer(&a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    routes(seq, sizeof(seq));
    assert_string_equal(seq, "messages get list create messages ");
}

/* Creating is not repeated after an answer that may have done it (a 500):
 * a second agent (or block) of the same name would be made; the call fails
 * saying so, and the next one looks the agent up by name first. */
static void test_create_not_repeated(void **state)
{
    (void)state;
    ai_answer a;
    fake_post("_script", "[{\"route\": \"create\", \"case\": \"server_error\"}]");
    assert_int_equal(ask("ai.letta", "alpha", "c0", 30000, &a), AT_OK);
    wait_answer(&a);
    assert_int_equal(a.err, AT_EIO);
    assert_string_equal(a.error, "creating the agent: HTTP 500: Internal Server Error; not "
                                 "retried: it may have reached the server");
    ai_answer_clear(&a);
    char seq[512];
    routes(seq, sizeof(seq));
    assert_string_equal(seq, "list create ");
    fake_post("_reset", "{}");
    assert_int_equal(ask("ai.letta", "alpha", "c1", 30000, &a), AT_OK);
    wait_answer(&a);
    assert_int_equal(a.err, AT_OK);
    ai_answer_clear(&a);
    routes(seq, sizeof(seq));
    assert_string_equal(seq, "list create messages ");
}

/* A memory file jansson refuses (a UTF-16 surrogate) is left out, not every
 * call failed; a file over block_limit is left out too, and said once,
 * not at every message. */
static void test_bad_files(void **state)
{
    (void)state;
    write_mem("surrogate.md", "half of a pair: \xED\xA0\x80\n");
    char big[25001];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_mem("big.md", big);
    ai_answer a;
    capture_on();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ask("ai.letta", "alpha", "f", 30000, &a), AT_OK);
        wait_answer(&a);
        if (a.err != AT_OK) {
            capture_off();
            fail_msg("call %d: %s", i, a.error);
        }
        ai_answer_clear(&a);
    }
    const char *log = capture_off();
    assert_int_equal(count(log, "characters, over block_limit 20000"), 1);
    assert_int_equal(count(log, "surrogate.md: not UTF-8 text"), 1);
    json_t *agents = fake_get("_agents");
    json_t *blocks = json_object_get(json_array_get(agents, 0), "blocks");
    size_t i;
    json_t *b;
    char labels[256] = "";
    json_array_foreach(blocks, i, b)
    {
        strcat(labels, rec_str(b, "label"));
        strcat(labels, " ");
    }
    assert_string_equal(labels, "risk_red_lines aitrader_system trade_journal ");
    json_decref(agents);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_cancel_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_given_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_not_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* okx_rest against a real okx-sim child process: signatures that okx-sim
 * accepts (and a wrong secret it refuses), the demo header, the per-endpoint
 * windows (account/config: 5 per 2 s), reads retried on 429 and writes not,
 * and freeing the client with calls in flight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "okx_rest.h"

#define SIM AT_TEST_BINARY_DIR "/okx-sim"

typedef struct fx {
    harness *h;
    pid_t sim;
    char url[128];
    char accounts[256];
} fx;

static fx F;

static int start_sim(const char *extra)
{
    snprintf(F.accounts, sizeof(F.accounts), "%s/accounts.json", harness_tmpdir(F.h));
    FILE *f = fopen(F.accounts, "w");
    if (!f) {
        return -1;
    }
    fputs("[{\"apiKey\":\"ka\",\"secretKey\":\"sa-secret\",\"passphrase\":\"pa\",\"demo\":true,"
          "\"posMode\":\"net_mode\",\"balances\":{\"USDT\":\"100\"}},"
          "{\"apiKey\":\"kl\",\"secretKey\":\"sl-secret\",\"passphrase\":\"pl\",\"demo\":false,"
          "\"posMode\":\"net_mode\",\"balances\":{\"USDT\":\"100\"}}]",
          f);
    fclose(f);
    int pfd[2];
    if (pipe(pfd) != 0) {
        return -1;
    }
    F.sim = fork();
    if (F.sim == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        execl(SIM, SIM, "--port", "0", "--quiet", "--accounts", F.accounts, "--fault",
              extra ? extra : "none", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    FILE *in = fdopen(pfd[0], "r");
    char line[256];
    while (fgets(line, sizeof(line), in)) {
        const char *p = strstr(line, "listening on ");
        if (p) {
            snprintf(F.url, sizeof(F.url), "%s", p + 13);
            F.url[strcspn(F.url, "\n")] = '\0';
            break;
        }
    }
    fclose(in);
    return F.url[0] ? 0 : -1;
}

static int setup(void **state)
{
    memset(&F, 0, sizeof(F));
    F.h = harness_new("[core]\n");
    if (!F.h || start_sim(NULL) != 0) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    if (F.sim > 0) {
        kill(F.sim, SIGTERM);
        waitpid(F.sim, NULL, 0);
    }
    harness_free(F.h);
    return 0;
}

typedef struct got {
    int calls;
    int err, http, attempts;
    char code[16];
    int64_t at_us;
} got;

static void on_reply(void *arg, const okx_reply *r)
{
    got *g = arg;
    g->calls++;
    g->err = r->err;
    g->http = r->http;
    g->attempts = r->attempts;
    snprintf(g->code, sizeof(g->code), "%s", r->code);
    g->at_us = harness_host(F.h)->now_us();
}

static bool all_done(void *arg)
{
    got *g = arg;
    for (int i = 0; i < 8; i++) {
        if (g[i].calls == 0 && g[i].at_us != -1) {
            return false;
        }
    }
    return true;
}

static okx_rest *client(const char *key, const char *secret, const char *pass, bool demo)
{
    okx_rest_opts o = {.base_url = F.url,
                       .api_key = key,
                       .secret = secret,
                       .passphrase = pass,
                       .demo = demo,
                       .timeout_ms = 3000,
                       .read_retries = 2};
    return okx_rest_new(harness_host(F.h), harness_inst(F.h), &o);
}

static void unused_slots(got *g, int used)
{
    for (int i = used; i < 8; i++) {
        g[i].at_us = -1;
    }
}

static void test_signed_calls(void **state)
{
    got g[8] = {0};
    unused_slots(g, 4);
    okx_rest *ok = client("ka", "sa-secret", "pa", true);
    okx_rest *bad = client("ka", "wrong", "pa", true);
    okx_rest *nodemo = client("ka", "sa-secret", "pa", false);
    assert_int_equal(okx_rest_get(ok, "/api/v5/account/config", NULL, true, on_reply, &g[0]), 0);
    /* A query is signed exactly as sent (the comma travels encoded). */
    assert_int_equal(okx_rest_get(ok, "/api/v5/account/positions",
                                  "instId=BTC-USDT-SWAP%2CETH-USDT-SWAP", true, on_reply, &g[1]),
                     0);
    assert_int_equal(okx_rest_get(bad, "/api/v5/account/config", NULL, true, on_reply, &g[2]), 0);
    assert_int_equal(okx_rest_get(nodemo, "/api/v5/account/config", NULL, true, on_reply, &g[3]),
                     0);
    assert_true(harness_run_until(F.h, all_done, g, 5000));
    assert_string_equal(g[0].code, "0");
    assert_string_equal(g[1].code, "0");
    assert_int_equal(g[2].http, 401);
    assert_string_equal(g[2].code, "50113");
    assert_string_equal(g[3].code, "50101");
    okx_rest_free(ok);
    okx_rest_free(bad);
    okx_rest_free(nodemo);
}

static void test_window(void **state)
{
    got g[8] = {0};
    unused_slots(g, 7);
    okx_rest *r = client("ka", "sa-secret", "pa", true);
    int64_t t0 = harness_host(F.h)->now_us();
    for (int i = 0; i < 7; i++) {
        assert_int_equal(okx_rest_get(r, "/api/v5/account/config", NULL, true, on_reply, &g[i]), 0);
    }
    /* OKX allows 5 account/config calls per 2 s: two wait. */
    assert_int_equal(okx_rest_queued(r), 2);
    assert_true(okx_rest_wait_ms(r, "GET", "/api/v5/account/config") > 1000);
    assert_int_equal(okx_rest_wait_ms(r, "GET", "/api/v5/market/books"), 0);
    assert_true(harness_run_until(F.h, all_done, g, 8000));
    for (int i = 0; i < 7; i++) {
        assert_string_equal(g[i].code, "0");
    }
    assert_true(g[4].at_us - t0 < 1500000);
    assert_true(g[5].at_us - t0 >= 1900000); /* sent when the window allowed it */
    assert_int_equal(okx_rest_queued(r), 0);
    okx_rest_free(r);
}

static void set_fault(const char *spec)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "curl -s -o /dev/null -X POST '%s/sim/fault' --data-raw '{\"spec\":\"%s\"}'", F.url,
             spec);
    assert_int_equal(system(cmd), 0);
}

static void test_retries(void **state)
{
    got g[8] = {0};
    unused_slots(g, 2);
    set_fault("rest-429=1");
    okx_rest *r = client("ka", "sa-secret", "pa", true);
    int64_t t0 = harness_host(F.h)->now_us();
    assert_int_equal(
        okx_rest_get(r, "/api/v5/market/ticker", "instId=BTC-USDT-SWAP", false, on_reply, &g[0]),
        0);
    assert_int_equal(
        okx_rest_post(r, "/api/v5/trade/order", "{\"instId\":\"BTC-USDT-SWAP\"}", on_reply, &g[1]),
        0);
    assert_true(harness_run_until(F.h, all_done, g, 10000));
    set_fault("none");
    /* The read was tried 1 + read_retries times, the write once. */
    assert_int_equal(g[0].http, 429);
    assert_int_equal(g[0].attempts, 3);
    /* ... and only by the http client: 250 ms then ~500 ms, not again on top. */
    assert_true(g[0].at_us - t0 < 1800000);
    assert_string_equal(g[1].code, "50011");
    assert_int_equal(g[1].attempts, 1);
    okx_rest_free(r);
}

static void test_free_in_flight(void **state)
{
    got g[8] = {0};
    set_fault("latency=2000");
    okx_rest *r = client("ka", "sa-secret", "pa", true);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(okx_rest_get(r, "/api/v5/account/config", NULL, true, on_reply, &g[i]), 0);
    }
    harness_run_for(F.h, 200);
    okx_rest_free(r);           /* 5 in flight, 3 queued: no callback, no leak */
    harness_run_for(F.h, 2500); /* past the 2 s latency: the answers have come back */
    set_fault("none");
    for (int i = 0; i < 8; i++) {
        assert_int_equal(g[i].calls, 0);
    }
    assert_int_equal(okx_rest_get(NULL, "/x", NULL, false, on_reply, &g[0]), AT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signed_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
    };
    return cmocka_run_group_tests_name("okx_rest", tests, NULL, NULL);
}

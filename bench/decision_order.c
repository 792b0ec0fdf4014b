/* Issue 10's loop figure: decision -> order on the wire to okx-sim, the LLM's
 * time excluded. One engine in this process on the real clock, with the
 * order gate on (executor, no risk rule) and exchange_okx (from the build's
 * plugins) trading an okx-sim demo account; a trader on BTC-USDT-SWAP whose
 * AI provider is a stub. Each round: a TRIGGER; when the trader has asked
 * the stub, t0 is taken and the stub hands back a valid open_long answer
 * (what the LLM would have returned); the trader validates and sizes it,
 * publishes the intent, the executor passes it on, exchange_okx sends it.
 *   wire = (ORDER_RESULT received - its latency_us) - t0: t0 to the moment
 *          exchange_okx's HTTP request went out (its own timestamp);
 *   ack  = ORDER_RESULT received - t0: up to okx-sim's answer back in.
 * The first rounds (connection, set-leverage) are warm-up and not counted.
 * Usage: decision_order SOURCE_DIR BUILD_DIR OKXSIM_URL [ROUNDS]
 * (OKXSIM_KEY, OKXSIM_SECRET, OKXSIM_PASSPHRASE in the environment).
 * Prints "name value" lines; bench/run.sh puts them in results.json. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "trading/trader.h"
#include "util.h"

#define WARMUP 5

static const at_host *H;
static engine *E;
static trader *TR;
static bool asked, got_result, result_ok;
static at_ai_done_cb ai_done;
static void *ai_arg;
static int64_t result_mono_us, result_lat_us;
static char result_msg[160];

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    (void)ctx, (void)req;
    ai_done = done;
    ai_arg = arg;
    asked = true;
    return AT_OK;
}

static const at_ai_ops ai_ops = {sizeof(at_ai_ops), ai_request, NULL};

static void on_result(void *arg, const at_event *e)
{
    (void)arg;
    const at_ev_order_result *r = (const void *)e;
    if (r->op != AT_INTENT_PLACE) {
        return;
    }
    result_mono_us = at_mono_us();
    result_lat_us = r->latency_us;
    result_ok = r->ok;
    snprintf(result_msg, sizeof(result_msg), "%s %s", r->code, r->msg ? r->msg : "");
    got_result = true;
}

static bool is_true(void *arg)
{
    return *(bool *)arg;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, int n, double p)
{
    return v[(size_t)((n - 1) * p + 0.5)];
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: decision_order SOURCE_DIR BUILD_DIR OKXSIM_URL [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 4 ? atoi(argv[4]) : 200;
    if (rounds < 1) {
        rounds = 1;
    }
    const char *url = argv[3];
    char tmpdir[] = "/tmp/at-bench-loop-XXXXXX";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char *ws = at_asprintf("ws%s/ws/v5", url + 4); /* http://h:p -> ws://h:p/ws/v5 */
    char *ini = at_asprintf("%s/modules.ini", tmpdir);
    FILE *f = fopen(ini, "w");
    if (!f) {
        perror(ini);
        return 1;
    }
    fprintf(f,
            "[core]\nplugin_dir = %s/plugins\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = error\nmode = paper\n[storage.sqlite]\npath = %s/t.db\n"
            "[exchange.okx]\ndemo = true\napi_key = env:OKXSIM_KEY\nsecret_key = "
            "env:OKXSIM_SECRET\npassphrase = env:OKXSIM_PASSPHRASE\nrest_url = %s\n"
            "ws_public_url = %s/public\nws_private_url = %s/private\nws_business_url = "
            "%s/business\ninstruments = BTC-USDT-SWAP\ncandles =\n",
            argv[2], tmpdir, argv[1], tmpdir, url, ws, ws, ws);
    fclose(f);
    engine_opts o = {.config_path = ini};
    E = engine_new(&o);
    conf_errors errs = {0};
    int rc = E ? engine_load(E, &errs) : AT_ENOMEM;
    conf_errors_free(&errs);
    if (rc != AT_OK || engine_start(E) != AT_OK) {
        fprintf(stderr, "decision_order: the engine did not start\n");
        return 1;
    }
    H = engine_host();
    at_instance *drv = engine_virtual_instance(E, "bench.drv");
    at_instance *self = engine_virtual_instance(E, "trader.alpha");
    H->subscribe(drv, AT_EV_ORDER_RESULT, on_result, NULL);
    static const char *const syms[] = {"BTC-USDT-SWAP"};
    char prompts[1024];
    snprintf(prompts, sizeof(prompts), "%s/prompts", argv[1]);
    trader_cfg cfg = {.trader = "alpha",
                      .ai_name = "ai.stub",
                      .ai = &ai_ops,
                      .account = "exchange.okx",
                      .symbols = syms,
                      .nsymbols = 1,
                      .prompts_dir = prompts,
                      .history = 5,
                      .max_leverage = 10,
                      .max_size_pct = 0.2,
                      .take_profit_pct = 0.04,
                      .stop_loss_pct = 0.02};
    char why[256] = "";
    TR = trader_new(H, self, &cfg, why, sizeof(why));
    if (!TR || trader_start(TR) != AT_OK) {
        fprintf(stderr, "decision_order: trader: %s\n", why);
        return 1;
    }
    double *wire = malloc(sizeof(double) * (size_t)rounds);
    double *ack = malloc(sizeof(double) * (size_t)rounds);
    int n = 0, failed = 0;
    for (int i = 0; i < rounds + WARMUP; i++) {
        asked = got_result = false;
        at_ev_trigger *t = (at_ev_trigger *)H->event_new(self, AT_EV_TRIGGER, 16);
        snprintf(t->trader, sizeof(t->trader), "alpha");
        snprintf(t->key, sizeof(t->key), "alpha:bench:%d", i);
        t->reason = H->event_strdup(&t->h, "bench");
        t->deadline_ms = 60000;
        H->publish(self, &t->h, 0);
        /* the first trigger waits for the feeds (balance, price) to come up */
        if (!engine_wait(E, is_true, &asked, 20000000)) {
            fprintf(stderr, "decision_order: the trader never asked (round %d)\n", i);
            return 1;
        }
        at_ai_reply r = {.err = AT_OK,
                         .content = "{\"decisions\":[{\"symbol\":\"BTC-USDT-SWAP\",\"action\":"
                                    "\"open_long\",\"size_pct\":0.0001,\"leverage\":3,"
                                    "\"reason\":\"bench\",\"invalidation\":\"bench\"}]}",
                         .model = "stub",
                         .finish_reason = "stop"};
        int64_t t0 = at_mono_us();
        ai_done(ai_arg, &r);
        if (!engine_wait(E, is_true, &got_result, 10000000)) {
            fprintf(stderr, "decision_order: no order result (round %d)\n", i);
            return 1;
        }
        if (!result_ok) {
            fprintf(stderr, "decision_order: okx-sim refused round %d: %s\n", i, result_msg);
            failed++;
            continue;
        }
        if (i >= WARMUP) {
            ack[n] = (double)(result_mono_us - t0);
            wire[n] = (double)(result_mono_us - result_lat_us - t0);
            n++;
        }
    }
    if (n == 0) {
        fprintf(stderr, "decision_order: no round succeeded\n");
        return 1;
    }
    qsort(wire, (size_t)n, sizeof(double), cmp_d);
    qsort(ack, (size_t)n, sizeof(double), cmp_d);
    printf("decision_order_rounds %d\n", n);
    printf("decision_order_refused %d\n", failed);
    printf("decision_wire_us_p50 %.0f\n", pct(wire, n, 0.5));
    printf("decision_wire_us_p99 %.0f\n", pct(wire, n, 0.99));
    printf("decision_ack_us_p50 %.0f\n", pct(ack, n, 0.5));
    printf("decision_ack_us_p99 %.0f\n", pct(ack, n, 0.99));
    free(wire);
    free(ack);
    trader_stop(TR);
    engine_free(E);
    trader_free(TR);
    char *cmd = at_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "decision_order: cannot remove %s\n", tmpdir);
    }
    free(cmd);
    free(ini);
    free(ws);
    return 0;
}

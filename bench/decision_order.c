/* Issue 10's loop figure: decision -> order on the wire to okx-sim, the LLM's
 * time excluded. One engine in this process on the real clock, with the
 * order gate on (executor, no risk rule) and exchange_okx (from the build's
 * plugins) trading an okx-sim demo account; a trader on BTC-USDT-SWAP whose
 * AI provider is a stub. Each round: a TRIGGER; when the trader has asked
 * the stub, t0 is taken and the stub hands back a valid open_long answer
 * (what the LLM would have returned); the trader validates and sizes it,
 * stores the decision, publishes the intent, the executor passes it on,
 * exchange_okx stores the orders row and, once that is committed, sends it.
 *   wire = first send() of the "POST /api/v5/trade/order" request bytes to
 *          the socket - t0 (send() is interposed in this program: the bytes
 *          handed to the kernel, after any queueing in exchange_okx's rate
 *          limiter, curl and the loop);
 *   ack  = ORDER_RESULT received - that send(): okx-sim's answer, reported
 *          apart so it never hides in the first figure.
 * Rounds are paced (PACE_MS from one start to the next): OKX allows 60
 * orders per 2 s per instrument and exchange_okx's limiter holds an order
 * back until the window has room, so back-to-back rounds would measure that
 * queue (~2 s every 60 orders), not the path. Between rounds the loop runs
 * idle, as it does between real decisions, and one fdatasync() of 16 KiB is
 * timed on the database's file system: the commit the orders row waits for
 * costs at least that, so the disk's own figure is printed beside ours.
 * The first rounds (connection, set-leverage) are warm-up and not counted.
 * Usage: decision_order SOURCE_DIR BUILD_DIR OKXSIM_URL [ROUNDS [PACE_MS]]
 * (OKXSIM_KEY, OKXSIM_SECRET, OKXSIM_PASSPHRASE in the environment).
 * Prints "name value" lines; bench/run.sh puts them in results.json. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "trading/trader.h"
#include "util.h"

#define WARMUP 5
/* 50 orders per 2 s: under OKX's 60, with room for nothing else to queue */
#define PACE_MS_DEFAULT 40
#define ORDER_REQ "POST /api/v5/trade/order "

static const at_host *H;
static engine *E;
static trader *TR;
static bool asked, got_result, result_ok;
static at_ai_done_cb ai_done;
static void *ai_arg;
static int64_t result_mono_us;
static char result_msg[160];

/* send() of libc, and the time the order request's first bytes went to it
 * (0 until then; reset each round). curl runs on the loop thread, the
 * WebSocket client on its own: both come through here. */
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
static _Atomic(send_fn) real_send;
static _Atomic int64_t wire_mono_us;

static send_fn libc_send(void)
{
    send_fn f = atomic_load(&real_send);
    if (!f) {
        void *p = dlsym(RTLD_NEXT, "send");
        memcpy(&f, &p, sizeof(f)); /* POSIX: dlsym's answer is the function */
        atomic_store(&real_send, f);
    }
    return f;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static const size_t plen = sizeof(ORDER_REQ) - 1;
    if (len >= plen && memcmp(buf, ORDER_REQ, plen) == 0) {
        int64_t zero = 0;
        atomic_compare_exchange_strong(&wire_mono_us, &zero, at_mono_us());
    }
    send_fn f = libc_send();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return f(fd, buf, len, flags);
}

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    (void)ctx, (void)req;
    ai_done = done;
    ai_arg = arg;
    asked = true;
    return AT_OK;
}

static const at_ai_ops ai_ops = {.struct_size = sizeof(at_ai_ops), .request = ai_request};

static void on_result(void *arg, const at_event *e)
{
    (void)arg;
    const at_ev_order_result *r = (const void *)e;
    if (r->op != AT_INTENT_PLACE) {
        return;
    }
    result_mono_us = at_mono_us();
    result_ok = r->ok;
    snprintf(result_msg, sizeof(result_msg), "%s %s", r->code, r->msg ? r->msg : "");
    got_result = true;
}

static bool is_true(void *arg)
{
    return *(bool *)arg;
}

static bool is_past(void *arg)
{
    return at_mono_us() >= *(const int64_t *)arg;
}

/* One fdatasync() of 16 KiB written over the same place, in microseconds,
 * or -1: what the disk alone asks for a commit (SQLite's WAL is rewritten in
 * place in the same way once it has reached its size). */
static double fsync_probe(int fd)
{
    static char block[16384];
    memset(block, 'x', sizeof(block));
    int64_t t = at_mono_us();
    if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fdatasync(fd) != 0) {
        return -1;
    }
    return (double)(at_mono_us() - t);
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

static void print_dist(const char *name, double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    printf("%s_p50 %.0f\n%s_p99 %.0f\n%s_max %.0f\n", name, pct(v, n, 0.5), name, pct(v, n, 0.99),
           name, v[n - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: decision_order SOURCE_DIR BUILD_DIR OKXSIM_URL [ROUNDS [PACE_MS "
                        "[SYNCHRONOUS]]]\n");
        return 2;
    }
    int rounds = argc > 4 ? atoi(argv[4]) : 500;
    int pace_ms = argc > 5 ? atoi(argv[5]) : PACE_MS_DEFAULT;
    /* storage_sqlite's synchronous: full (the default: fdatasync per
     * commit) or normal (WAL written to the OS at commit: safe against a
     * crash of the process, not of the machine) */
    const char *sync = argc > 6 ? argv[6] : "full";
    if (strcmp(sync, "full") != 0 && strcmp(sync, "normal") != 0) {
        fprintf(stderr, "decision_order: SYNCHRONOUS must be full or normal\n");
        return 2;
    }
    if (rounds < 1 || pace_ms < 0) {
        fprintf(stderr, "decision_order: ROUNDS must be >= 1 and PACE_MS >= 0\n");
        return 2;
    }
    if (!libc_send()) {
        fprintf(stderr, "decision_order: send() of libc not found: %s\n", dlerror());
        return 1;
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
            "log_level = error\nmode = paper\n[storage.sqlite]\npath = %s/t.db\nsynchronous = %s\n"
            "[exchange.okx]\ndemo = true\napi_key = env:OKXSIM_KEY\nsecret_key = "
            "env:OKXSIM_SECRET\npassphrase = env:OKXSIM_PASSPHRASE\nrest_url = %s\n"
            "ws_public_url = %s/public\nws_private_url = %s/private\nws_business_url = "
            "%s/business\ninstruments = BTC-USDT-SWAP\ncandles =\n",
            argv[2], tmpdir, argv[1], tmpdir, sync, url, ws, ws, ws);
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
    char *probe_path = at_asprintf("%s/fsync.probe", tmpdir);
    int probe_fd = open(probe_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    double *wire = malloc(sizeof(double) * (size_t)rounds);
    double *ack = malloc(sizeof(double) * (size_t)rounds);
    double *disk = malloc(sizeof(double) * (size_t)rounds);
    if (probe_fd < 0 || !wire || !ack || !disk) {
        fprintf(stderr, "decision_order: cannot set up the rounds (%s)\n", probe_path);
        return 1;
    }
    int n = 0, ndisk = 0, failed = 0;
    int64_t next_start = 0;
    for (int i = 0; i < rounds + WARMUP; i++) {
        if (i >= WARMUP && ndisk < rounds) {
            double d = fsync_probe(probe_fd);
            if (d >= 0) {
                disk[ndisk++] = d;
            }
        }
        /* idle, the loop running, until this round's start */
        engine_wait(E, is_past, &next_start, next_start - at_mono_us() + 1000000);
        next_start = at_mono_us() + (int64_t)pace_ms * 1000;
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
        atomic_store(&wire_mono_us, 0);
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
        int64_t sent = atomic_load(&wire_mono_us);
        if (sent == 0) {
            fprintf(stderr,
                    "decision_order: round %d: no send() of the order request was seen (does "
                    "curl still write with send()?)\n",
                    i);
            return 1;
        }
        if (i >= WARMUP) {
            wire[n] = (double)(sent - t0);
            ack[n] = (double)(result_mono_us - sent);
            n++;
        }
    }
    if (n == 0) {
        fprintf(stderr, "decision_order: no round succeeded\n");
        return 1;
    }
    printf("decision_order_rounds %d\n", n);
    printf("decision_order_refused %d\n", failed);
    printf("decision_order_pace_ms %d\n", pace_ms);
    print_dist("decision_wire_us", wire, n);
    print_dist("decision_ack_us", ack, n);
    if (ndisk > 0) {
        print_dist("disk_fdatasync_us", disk, ndisk);
    }
    free(wire);
    free(ack);
    free(disk);
    close(probe_fd);
    free(probe_path);
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

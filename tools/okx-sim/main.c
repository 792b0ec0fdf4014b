/* okx-sim: an offline OKX v5 exchange for tests and demos (CONTRACTS §1). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <aitrader/version.h>

#include "log.h"
#include "server.h"

#define SIM_MAX_FAULTS 16

static const char usage[] =
    "usage: okx-sim [options]\n"
    "An offline OKX v5 exchange: REST /api/v5/..., WebSocket /ws/v5/{public,private,business}.\n"
    "  --host ADDR          bind address (127.0.0.1)\n"
    "  --port N             port, 0 = any free one (0); prints 'okx-sim listening on URL'\n"
    "  --data CSV           replay these candles as the first instrument's price path\n"
    "                       (header: ts, open, high, low, close [, volume])\n"
    "  --speed X            data seconds per wall second when replaying (1)\n"
    "  --seed N             seed of the random walks and books (1)\n"
    "  --instruments FILE   an OKX /public/instruments?instType=SWAP response to serve\n"
    "  --accounts FILE      accounts: [{\"apiKey\",\"secretKey\",\"passphrase\",\"demo\",\n"
    "                       \"posMode\",\"balances\":{\"USDT\":\"10000\"}}]; without it one demo\n"
    "                       account is created and its credentials printed\n"
    "  --depth N            book levels per side (50, at most 400)\n"
    "  --tick MS            market step (100)\n"
    "  --ws-idle MS         close a WebSocket silent for MS (30000, as OKX; shorter for tests)\n"
    "  --fault SPEC         inject a fault (repeatable):\n"
    "%s"
    "  --quiet              log warnings and errors only\n"
    "  --help, --version\n"
    "Limits (a client that does not read, or does not send, cannot hold the server):\n"
    "  --max-conns N        open connections; more are answered 503 and closed (%d)\n"
    "  --max-output BYTES   unsent output per client: a WebSocket past it that takes none\n"
    "                       of it for 1 s (or past 16 times it) is dropped, an HTTP\n"
    "                       client's further pipelined requests wait (%u)\n"
    "  --request-timeout MS a request's head and body must arrive within MS, also the\n"
    "                       first one on a new connection; a client that takes no output\n"
    "                       for MS is dropped (%d)\n"
    "  --idle-timeout MS    close a keep-alive HTTP connection idle between requests (%d)\n"
    "  --max-subs N         subscriptions per WebSocket connection; more are refused with\n"
    "                       error 60014 (%d)\n"
    "Control while running (tests): POST /sim/fault {\"spec\":\"...\"}, POST /sim/price\n"
    "{\"instId\":\"BTC-USDT-SWAP\",\"px\":\"65000\"}.\n";

static struct event_base *g_base; /* signal handler target, main() only */

static void print_usage(FILE *to)
{
    fprintf(to, usage, fault_help, SH_MAX_CONNS, SH_MAX_OUTPUT, SH_REQUEST_TIMEOUT_MS,
            SH_IDLE_TIMEOUT_MS, WS_MAX_SUBS);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    event_base_loopbreak(g_base);
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end || d < lo || d > hi) {
        fprintf(stderr, "okx-sim: %s: '%s' is not a number in [%g, %g]\n", opt, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

/* A count or a duration: a whole number in [lo, hi]. */
static int parse_int(const char *opt, const char *v, double lo, double hi, double *out)
{
    if (parse_num(opt, v, lo, hi, out)) {
        return -1;
    }
    if (*out != (double)(long long)*out) {
        fprintf(stderr, "okx-sim: %s: '%s' is not a whole number\n", opt, v);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"host", required_argument, NULL, 'H'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"data", required_argument, NULL, 'd'},
                                             {"speed", required_argument, NULL, 's'},
                                             {"seed", required_argument, NULL, 'S'},
                                             {"instruments", required_argument, NULL, 'i'},
                                             {"accounts", required_argument, NULL, 'a'},
                                             {"depth", required_argument, NULL, 'D'},
                                             {"tick", required_argument, NULL, 't'},
                                             {"ws-idle", required_argument, NULL, 'I'},
                                             {"max-conns", required_argument, NULL, 'C'},
                                             {"max-output", required_argument, NULL, 'O'},
                                             {"request-timeout", required_argument, NULL, 'R'},
                                             {"idle-timeout", required_argument, NULL, 'L'},
                                             {"max-subs", required_argument, NULL, 'B'},
                                             {"fault", required_argument, NULL, 'f'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    const char *host = "127.0.0.1", *accounts = NULL;
    const char *faults[SIM_MAX_FAULTS];
    int nfaults = 0;
    double port = 0, tick = 100, seed = 1, depth = 50, ws_idle = 30000;
    double max_conns = SH_MAX_CONNS, max_output = SH_MAX_OUTPUT;
    double request_timeout = SH_REQUEST_TIMEOUT_MS, idle_timeout = SH_IDLE_TIMEOUT_MS;
    double max_subs = WS_MAX_SUBS;
    sim_market_opts mo = {.seed = 1, .speed = 1, .book_depth = 50};
    bool quiet = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H':
            host = optarg;
            break;
        case 'p':
            if (parse_num("--port", optarg, 0, 65535, &port)) {
                return 2;
            }
            break;
        case 'd':
            mo.data_csv = optarg;
            break;
        case 's':
            if (parse_num("--speed", optarg, 0.001, 1e6, &mo.speed)) {
                return 2;
            }
            break;
        case 'S':
            if (parse_num("--seed", optarg, 0, 9007199254740992.0, &seed)) {
                return 2;
            }
            break;
        case 'i':
            mo.instruments_json = optarg;
            break;
        case 'a':
            accounts = optarg;
            break;
        case 'D':
            if (parse_num("--depth", optarg, 1, SIM_BOOK_LEVELS, &depth)) {
                return 2;
            }
            break;
        case 't':
            if (parse_num("--tick", optarg, 10, 10000, &tick)) {
                return 2;
            }
            break;
        case 'I':
            if (parse_num("--ws-idle", optarg, 100, 3600000, &ws_idle)) {
                return 2;
            }
            break;
        case 'C':
            if (parse_int("--max-conns", optarg, 1, 1000000, &max_conns)) {
                return 2;
            }
            break;
        case 'O':
            if (parse_int("--max-output", optarg, 4096, 1073741824.0, &max_output)) {
                return 2;
            }
            break;
        case 'R':
            if (parse_int("--request-timeout", optarg, 100, 3600000, &request_timeout)) {
                return 2;
            }
            break;
        case 'L':
            if (parse_int("--idle-timeout", optarg, 100, 3600000, &idle_timeout)) {
                return 2;
            }
            break;
        case 'B':
            if (parse_int("--max-subs", optarg, 1, 1000000, &max_subs)) {
                return 2;
            }
            break;
        case 'f':
            if (nfaults == SIM_MAX_FAULTS) {
                fprintf(stderr, "okx-sim: at most %d --fault options\n", SIM_MAX_FAULTS);
                return 2;
            }
            faults[nfaults++] = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        case 'V':
            printf("okx-sim %s (OKX API v5)\n", AT_VERSION);
            return 0;
        default:
            print_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "okx-sim: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    log_set_level(quiet ? AT_LOG_WARN : AT_LOG_INFO);
    mo.seed = (uint64_t)seed;
    mo.book_depth = (int)depth;

    static sim_server s; /* large (books); zeroed */
    char err[512];
    s.rng = mo.seed * 0x9E3779B97F4A7C15ull + 7;
    for (int i = 0; i < nfaults; i++) {
        if (server_fault(&s, faults[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "okx-sim: --fault %s: %s\n", faults[i], err);
            return 2;
        }
    }
    s.market = market_new(&mo, err, sizeof(err));
    if (!s.market) {
        fprintf(stderr, "okx-sim: %s\n", err);
        return 2;
    }
    s.x.market = s.market;
    s.x.mmr_rate = 0.004;
    s.x.now_ms = server_now_ms(&s);
    market_step(s.market, s.x.now_ms);
    if (acct_load(&s.x, accounts, err, sizeof(err)) != 0) {
        fprintf(stderr, "okx-sim: %s\n", err);
        market_free(s.market);
        return 2;
    }
    s.base = event_base_new();
    g_base = s.base;
    sim_server_opts so = {.host = host,
                          .port = (int)port,
                          .tick_ms = (int)tick,
                          .ws_idle_ms = (int64_t)ws_idle,
                          .max_subs = (int)max_subs,
                          .max_conns = (size_t)max_conns,
                          .max_output = (size_t)max_output,
                          .request_timeout_ms = (int)request_timeout,
                          .idle_timeout_ms = (int)idle_timeout};
    if (server_start(&s, &so, err, sizeof(err)) != 0) {
        fprintf(stderr, "okx-sim: %s\n", err);
        acct_free_all(&s.x);
        market_free(s.market);
        event_base_free(s.base);
        return 1;
    }
    struct event *si = evsignal_new(s.base, SIGINT, on_signal, NULL);
    struct event *st = evsignal_new(s.base, SIGTERM, on_signal, NULL);
    event_add(si, NULL);
    event_add(st, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!accounts && s.x.accts) {
        const sim_acct *a = s.x.accts;
        printf("okx-sim demo account: apiKey=%s secretKey=%s passphrase=%s (send "
               "x-simulated-trading: 1)\n",
               a->api_key, a->secret, a->passphrase);
    }
    printf("okx-sim listening on http://%s:%d\n", host, sh_port(s.http));
    fflush(stdout);
    event_base_dispatch(s.base);
    sh_counters hc;
    sh_counters_get(s.http, &hc);
    log_msg("okx-sim", AT_LOG_INFO,
            "stopping: %llu REST requests, %llu WebSocket pushes; connections refused %llu, "
            "timed out %llu, dropped as slow %llu; accept paused %llu times",
            (unsigned long long)s.rest_requests, (unsigned long long)s.ws_messages_out, hc.refused,
            hc.timeouts, hc.slow, hc.pauses);
    server_stop(&s);
    event_free(si);
    event_free(st);
    acct_free_all(&s.x);
    market_free(s.market);
    event_base_free(s.base);
    log_shutdown();
    return 0;
}

/* exchange_okx: OKX v5 perpetual swaps, live or demo, one account per
 * instance. Start: instruments (REST, stored), then the public and business
 * WebSockets (market events; after the candle backfill when configured,
 * okx_backfill.c), then with credentials the account setup, the private
 * WebSocket and order intents. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "okx_plugin.h"
#include "okx_replay.h"

static const char *const TD_MODES[] = {"cross", "isolated", NULL};
static const char *const BOOK_CHANNELS[] = {"books", "books5", NULL};
static const char *const REPLAY_AT[] = {"start", "recorded", NULL}; /* okx_replay_at */

#define F(name, type, def, flags, member, lo, hi, enums, desc)                                     \
    {                                                                                              \
        name, type, def, flags, offsetof(okx_ctx, member), lo, hi, enums, desc                     \
    }

static const at_cfg_field schema[] = {
    F("demo", AT_CFG_BOOL, "false", 0, demo, 0, 0, NULL,
      "demo trading: sends x-simulated-trading: 1 and uses OKX's demo WebSocket hosts"),
    F("api_key", AT_CFG_SECRET, NULL, 0, api_key, 0, 0, NULL,
      "API key (env:NAME or file:PATH); without keys only market data is used"),
    F("secret_key", AT_CFG_SECRET, NULL, 0, secret_key, 0, 0, NULL, "API secret"),
    F("passphrase", AT_CFG_SECRET, NULL, 0, passphrase, 0, 0, NULL, "API passphrase"),
    F("rest_url", AT_CFG_STR, "https://www.okx.com", 0, rest_url, 0, 0, NULL,
      "REST base URL (tests point it at okx-sim)"),
    F("ws_public_url", AT_CFG_STR, NULL, 0, ws_public_url, 0, 0, NULL,
      "public WebSocket (default wss://ws.okx.com:8443/ws/v5/public, demo wspap.okx.com)"),
    F("ws_private_url", AT_CFG_STR, NULL, 0, ws_private_url, 0, 0, NULL, "private WebSocket"),
    F("ws_business_url", AT_CFG_STR, NULL, 0, ws_business_url, 0, 0, NULL,
      "business WebSocket (candles)"),
    F("instruments", AT_CFG_LIST, "BTC-USDT-SWAP, ETH-USDT-SWAP", 0, instruments, 0, 0, NULL,
      "instruments to follow: BTC-USDT-SWAP, BTC/USDT:USDT or BTC"),
    F("td_mode", AT_CFG_ENUM, "cross", 0, td_mode, 0, 0, TD_MODES, "margin mode of orders"),
    F("leverage", AT_CFG_INT, "0", AT_CFG_RANGE, leverage, 0, 125, NULL,
      "set this leverage on every instrument at start (0 = leave as is)"),
    F("book_channel", AT_CFG_ENUM, "books", 0, book_channel, 0, 0, BOOK_CHANNELS,
      "books (400 levels, incremental) or books5 (5-level snapshots)"),
    F("candles", AT_CFG_LIST, "1m", 0, candles, 0, 0, NULL,
      "candle bars to subscribe (1m, 5m, 15m, 1H …); empty for none"),
    F("backfill", AT_CFG_INT, "0", AT_CFG_RANGE, backfill, 0, 300, NULL,
      "closed candles of each instrument and bar asked over REST at start and published before "
      "the live ones, so indicators start warm (0 = none; OKX answers at most 300)"),
    F("timeout", AT_CFG_DURATION, "10s", AT_CFG_RANGE, timeout_ms, 500, 120000, NULL,
      "REST request timeout"),
    F("instruments_file", AT_CFG_STR, NULL, 0, instruments_file, 0, 0, NULL,
      "a saved /api/v5/public/instruments?instType=SWAP answer, or a recording carrying one "
      "(instruments: line), to use instead of asking OKX"),
    F("record", AT_CFG_STR, NULL, 0, record, 0, 0, NULL,
      "append every public/business frame received to this file (\"<unix s>: <frame>\" lines, "
      "after an \"instruments: <list>\" line); with API keys also the private pushes and REST "
      "answers (\"private\" and \"rest\" lines), so aitrader replay can play the account"),
    F("replay", AT_CFG_STR, NULL, 0, replay, 0, 0, NULL,
      "play this recording instead of connecting (market data only; no API keys; instruments from "
      "its instruments: line unless instruments_file is set)"),
    F("replay_account", AT_CFG_BOOL, "false", 0, replay_account, 0, 0, NULL,
      "with replay: play the recorded account too (its private pushes and REST answers, recorded "
      "by an instance with API keys and record); set by aitrader replay"),
    F("replay_speed", AT_CFG_DOUBLE, "1", AT_CFG_RANGE, replay_speed, 0, 1e6, NULL,
      "pace of the replay: 1 = as recorded, 10 = ten times faster, 0 = as fast as possible"),
    F("replay_at", AT_CFG_ENUM, "start", 0, replay_at, 0, 0, REPLAY_AT,
      "start = frames at their offsets from the first one, from the replay's start (paced by "
      "replay_speed); recorded = each frame when the core clock reaches its recorded time, to the "
      "microsecond (replay_speed 1)"),
    F("replay_from", AT_CFG_INT, "0", AT_CFG_RANGE, replay_from, 0, 4102444800000000.0, NULL,
      "skip the frames recorded before this time (microseconds since the epoch; 0 = play all): "
      "one session of a file several runs appended to (aitrader replay sets it)"),
    F("proxy", AT_CFG_STR, NULL, 0, proxy, 0, 0, NULL,
      "http://host:port for this instance's REST and WebSockets; none = direct; unset = [core] "
      "proxy"),
    {0},
};

/* The list is in: market data, then the account with keys. */
static void on_instruments(okx_ctx *c, const okx_reply *r)
{
    if (r->data) {
        okx_store_instruments(c, r->data);
    }
    int rc = okx_feed_start(c);
    if (rc != AT_OK) {
        char why[160];
        snprintf(why, sizeof(why), "market data could not start (%s)",
                 rc == AT_ENOMEM ? "out of memory" : "see the error before");
        okx_alert(c, AT_LOG_ERROR, why);
        c->h->set_state(c->inst, AT_STATE_DOWN, why);
        return;
    }
    if (okx_private(c)) {
        okx_account_start(c);
        okx_trade_start(c);
    }
    okx_refresh_state(c);
}

/* ------------------------------------------------------------ lifecycle */

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    return okx_config_check(ctx, key, why, whylen);
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    okx_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    c->name = host->instance_name(inst);
    /* The engine ran check_config already; this keeps one rule for an
     * engine (or test) that did not. */
    const char *key = NULL;
    char why[320];
    if (okx_config_check(c, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s%s%s", key ? key : "", key ? ": " : "", why);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static const char *default_ws(const okx_ctx *c, const char *path)
{
    static const char *const live[] = {"wss://ws.okx.com:8443/ws/v5/public",
                                       "wss://ws.okx.com:8443/ws/v5/private",
                                       "wss://ws.okx.com:8443/ws/v5/business"};
    static const char *const demo[] = {"wss://wspap.okx.com:8443/ws/v5/public",
                                       "wss://wspap.okx.com:8443/ws/v5/private",
                                       "wss://wspap.okx.com:8443/ws/v5/business"};
    int k = strcmp(path, "public") == 0 ? 0 : strcmp(path, "private") == 0 ? 1 : 2;
    return c->demo ? demo[k] : live[k];
}

/* Facts this plugin knows and the engine cannot see: how REST calls ended,
 * what its own rate limiter held back, WebSocket reconnects, book resyncs.
 * A NULL handle (a name clash) only means that one is not counted. */
static void register_metrics(okx_ctx *c, struct okx_rest_metrics *m)
{
    const at_host *h = c->h;
    at_instance *in = c->inst;
    m->ok = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_rest_ok_total",
                      "OKX REST calls answered with code 0");
    m->venue = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_rest_venue_errors_total",
                         "OKX REST calls answered with a non-zero OKX code");
    m->http = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_rest_http_errors_total",
                        "OKX REST calls failed by transport, HTTP status or unreadable body");
    m->timeout = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_rest_timeouts_total",
                           "OKX REST calls with no answer in time");
    m->latency = h->metric(in, AT_METRIC_HISTOGRAM, "aitrader_okx_rest_latency_us",
                           "OKX REST request out to answer in (last attempt)");
    m->limited = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_rest_rate_limited_total",
                           "OKX REST calls held by this plugin's own rate limiter");
    c->m_ws_public = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_ws_public_reconnects_total",
                               "OKX public WebSocket reconnect attempts");
    c->m_ws_private = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_ws_private_reconnects_total",
                                "OKX private WebSocket reconnect attempts");
    c->m_ws_business =
        h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_ws_business_reconnects_total",
                  "OKX business WebSocket reconnect attempts (candles and algo orders)");
    c->m_book_resyncs = h->metric(in, AT_METRIC_COUNTER, "aitrader_okx_book_resyncs_total",
                                  "OKX order books resubscribed after a gap or checksum miss");
}

static int start(void *ctx)
{
    okx_ctx *c = ctx;
    /* What the config alone shows was refused by okx_config_check; what
     * remains is whether the files are there. */
    const char *files[][2] = {{"replay", c->replay}, {"instruments_file", c->instruments_file}};
    for (size_t i = 0; i < 2; i++) {
        if (files[i][1] && access(files[i][1], R_OK) != 0) {
            c->h->log(c->inst, AT_LOG_ERROR, "%s: cannot read %s: %s", files[i][0], files[i][1],
                      strerror(errno));
            return AT_ECONFIG;
        }
    }
    if (!c->ws_public_url) {
        c->ws_public_url = default_ws(c, "public");
    }
    if (!c->ws_private_url) {
        c->ws_private_url = default_ws(c, "private");
    }
    if (!c->ws_business_url) {
        c->ws_business_url = default_ws(c, "business");
    }
    okx_rest_opts ro = {.base_url = c->rest_url,
                        .api_key = c->api_key,
                        .secret = c->secret_key,
                        .passphrase = c->passphrase,
                        .demo = c->demo,
                        .timeout_ms = c->timeout_ms,
                        .proxy = c->proxy};
    if (c->record && okx_private(c)) {
        ro.observe = okx_record_rest;
        ro.observe_arg = c;
    }
    if (c->replay_account) {
        int rc = okx_replay_rest_load(c);
        if (rc != AT_OK) {
            return rc == AT_ENOMEM ? rc : AT_ECONFIG;
        }
        ro.recorded = okx_replay_rest_answer;
        ro.recorded_arg = c;
    }
    register_metrics(c, &ro.m);
    c->rest = okx_rest_new(c->h, c->inst, &ro);
    c->md = malloc(sizeof(*c->md));
    c->msg = malloc(sizeof(*c->msg));
    if (!c->rest || !c->md || !c->msg) {
        return AT_ENOMEM;
    }
    okx_md_init(c->md, c->h);
    c->started = true;
    c->h->set_state(c->inst, AT_STATE_STARTING, "loading instruments");
    c->h->log(c->inst, AT_LOG_INFO, "OKX %s at %s%s", c->demo ? "demo" : "live", c->rest_url,
              okx_private(c) ? "" : " (no API keys: market data only)");
    okx_load_instruments(c, c->rest, on_instruments);
    return AT_OK;
}

static void stop(void *ctx)
{
    okx_ctx *c = ctx;
    c->started = false;
    if (c->retry) {
        c->h->timer_cancel(c->retry);
        c->retry = NULL;
    }
    okx_trade_stop(c);
    okx_account_stop(c);
    okx_feed_stop(c);
    okx_rest_free(c->rest);
    c->rest = NULL;
    okx_replay_rest_free(c);
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    okx_ctx *c = ctx;
    okx_insts_free(c->insts);
    free(c->watch);
    free(c->rec_insts);
    free(c->md);
    free(c->msg);
}

/* The order operations: called by the engine's executor only, after the risk
 * chain approved (the one gate for orders). */
static at_venue_class venue_class(void *ctx)
{
    return okx_venue_class(ctx);
}

static void submit(void *ctx, const at_ev_order_intent *intent)
{
    okx_trade_submit(ctx, intent);
}

static const at_exchange_ops exchange_ops = {
    .struct_size = sizeof(at_exchange_ops),
    .venue_class = venue_class,
    .submit = submit,
};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_EXCHANGE,
    .name = "okx",
    .version = "0.1.0",
    .description = "OKX v5 perpetual swaps: REST + WebSocket, live or demo, one account",
    .config = schema,
    .ctx_size = sizeof(okx_ctx),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &exchange_ops,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

/* ui_dashboard: the engine's web dashboard. One HTTP + WebSocket server on
 * the engine's own (host->httpd_*), serving the web app (web/dist) and the
 * API of CONTRACTS §3: what the engine knows (live state from the bus,
 * history from storage, its own control API through host->engine_call) and
 * the few things a person may change (manual orders, cancels, closes,
 * traders' run/pause/resume, the kill switch), each behind the bearer
 * token. A manual order is an ORDER_INTENT like any other: it reaches an
 * exchange only through the executor and the risk chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dash.h"

#define F(k, t, d, fl, field, lo, hi, desc)                                                        \
    {                                                                                              \
        k, t, d, fl, offsetof(dash, field), lo, hi, NULL, desc                                     \
    }

static const at_cfg_field schema[] = {
    F("listen", AT_CFG_STR, "127.0.0.1", 0, listen, 0, 0,
      "address to listen on (0.0.0.0 opens the dashboard to the network: set a token and "
      "`origins`)"),
    F("port", AT_CFG_INT, "5621", AT_CFG_RANGE, port, 0, 65535, "TCP port (0 = pick a free one)"),
    F("token", AT_CFG_SECRET, "env:AITRADER_TOKEN", 0, token_cfg, 0, 0,
      "bearer token for every change (env:NAME or file:PATH); when unset, one is generated "
      "once into data_dir/dashboard.token (mode 0600)"),
    F("static_dir", AT_CFG_STR, NULL, 0, static_dir_cfg, 0, 0,
      "the web app's files (default: the installed share dir, else the source tree's "
      "web/dist)"),
    F("max_body", AT_CFG_SIZE, "64K", AT_CFG_RANGE, max_body, 1024, 16 * 1024 * 1024,
      "largest request body; a bigger one is answered 413"),
    F("origins", AT_CFG_LIST, NULL, 0, origins, 0, 0,
      "other browser origins allowed to change things and open /ws, e.g. "
      "http://localhost:5173 (the dashboard's own address is always allowed)"),
    {0},
};

int64_t dash_now_ms(const dash *d)
{
    return d->h->now_us() / 1000;
}

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const dash *d = ctx;
    if (!dash_listen_valid(d->listen, why, whylen)) {
        *key = "listen";
        return AT_ECONFIG;
    }
    if (d->token_cfg && !dash_token_valid(d->token_cfg, why, whylen)) {
        *key = "token";
        return AT_ECONFIG;
    }
    for (size_t i = 0; i < d->origins.n; i++) {
        if (!dash_origin_valid(d->origins.items[i], why, whylen)) {
            *key = "origins";
            return AT_ECONFIG;
        }
    }
    struct stat st;
    if (d->static_dir_cfg && (stat(d->static_dir_cfg, &st) != 0 || !S_ISDIR(st.st_mode))) {
        snprintf(why, whylen, "%s is not a directory (the built web app: web/dist)",
                 d->static_dir_cfg);
        *key = "static_dir";
        return AT_ECONFIG;
    }
    return AT_OK;
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    dash *d = ctx;
    d->inst = inst;
    d->h = host;
    d->name = host->instance_name(inst);
    d->allowed = calloc(d->origins.n + 1, sizeof(char *));
    if (!d->allowed) {
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < d->origins.n; i++) {
        d->allowed[i] = (char *)d->origins.items[i]; /* engine-owned until destroy */
    }
    for (size_t i = 0; i < DASH_MAX_PENDING; i++) {
        d->pend[i].d = d;
    }
    return dash_live_init(d);
}

static void on_event(void *arg, const at_event *e)
{
    dash *d = arg;
    dash_live_on_event(d, e);
    dash_trade_on_event(d, e);
    dash_push_event(d, e);
}

static void on_tick(void *arg)
{
    dash_push_flush(arg);
}

/* The address a browser on this machine opens. */
static void url_host(const dash *d, char *out, size_t cap)
{
    const char *l = d->listen;
    if (strcmp(l, "0.0.0.0") == 0 || strcmp(l, "::") == 0 || !*l) {
        snprintf(out, cap, "127.0.0.1");
    } else if (strchr(l, ':')) {
        snprintf(out, cap, "[%s]", l);
    } else {
        snprintf(out, cap, "%s", l);
    }
}

static void stop(void *ctx);

static int start(void *ctx)
{
    dash *d = ctx;
    const at_host *h = d->h;
    char why[512];
    int rc = dash_token_load(d, why, sizeof(why));
    if (rc != AT_OK) {
        h->log(d->inst, AT_LOG_ERROR, "no token, no dashboard: %s", why);
        return rc;
    }
    d->static_dir = dash_find_static(d);
    at_httpd_opts o = {.listen = d->listen,
                       .port = (int)d->port,
                       .static_dir = d->static_dir,
                       .ws_path = "/ws",
                       .max_body = (size_t)d->max_body,
                       .ws_origins = (const char *const *)d->allowed};
    at_httpd_cbs cbs = {.on_request = dash_on_request,
                        .on_ws_open = dash_ws_open,
                        .on_ws_message = dash_ws_message,
                        .on_ws_close = dash_ws_close};
    d->srv = h->httpd_start(d->inst, &o, &cbs, d);
    if (!d->srv) {
        h->log(d->inst, AT_LOG_ERROR, "cannot serve the dashboard on %s port %lld (see above)",
               d->listen, (long long)d->port);
        return AT_EIO;
    }
    d->bound_port = h->httpd_port(d->srv);
    static const at_event_type types[DASH_NSUBS] = {
        AT_EV_TICKER, AT_EV_BOOK,   AT_EV_CANDLE,   AT_EV_BALANCE,      AT_EV_POSITION,
        AT_EV_ORDER,  AT_EV_FILL,   AT_EV_DECISION, AT_EV_RISK_VERDICT, AT_EV_ORDER_RESULT,
        AT_EV_ALERT,  AT_EV_STATUS, AT_EV_NEWS,     AT_EV_SENTIMENT};
    for (size_t i = 0; i < DASH_NSUBS; i++) {
        d->subs[i] = h->subscribe(d->inst, types[i], on_event, d);
        if (d->subs[i] <= 0) {
            rc = d->subs[i] < 0 ? d->subs[i] : AT_ENOMEM;
            h->log(d->inst, AT_LOG_ERROR, "cannot subscribe to the bus");
            stop(d); /* a start that fails leaves nothing open */
            return rc;
        }
    }
    d->tick = h->timer_add(d->inst, DASH_PUSH_EVERY_MS, DASH_PUSH_EVERY_MS, on_tick, d);
    d->m_requests = h->metric(d->inst, AT_METRIC_COUNTER, "aitrader_dashboard_requests_total",
                              "API requests answered by the dashboard");
    d->m_refused = h->metric(d->inst, AT_METRIC_COUNTER, "aitrader_dashboard_refused_total",
                             "requests refused for their token, Origin, Host or body");
    d->m_orders = h->metric(d->inst, AT_METRIC_COUNTER, "aitrader_dashboard_intents_total",
                            "manual orders, cancels and closes published");
    d->started = true;

    char host[300];
    url_host(d, host, sizeof(host));
    /* The token goes to the terminal that started the engine, never to the
     * log (which redacts it anyway): the URL opens the dashboard logged in,
     * the page reading the token from the fragment, which browsers never
     * send to a server. */
    fprintf(stderr, "dashboard: http://%s:%d/#token=%s\n", host, d->bound_port, d->token);
    fflush(stderr);
    h->log(d->inst, AT_LOG_INFO, "dashboard at http://%s:%d/ (token: %s); web app %s%s", host,
           d->bound_port, d->token_file[0] ? d->token_file : "from the config",
           d->static_dir ? "from " : "not built: run make (or npm run build in web/)",
           d->static_dir ? d->static_dir : "");
    char detail[400];
    snprintf(detail, sizeof(detail), "http://%s:%d/%s", host, d->bound_port,
             d->static_dir ? "" : " (web app not built)");
    h->set_state(d->inst, AT_STATE_UP, detail);
    return AT_OK;
}

static void stop(void *ctx)
{
    dash *d = ctx;
    if (d->srv) {
        d->h->httpd_stop(d->srv);
        d->srv = NULL;
    }
    dash_trade_stop(d);
    d->h->timer_cancel(d->tick);
    d->tick = NULL;
    for (size_t i = 0; i < DASH_NSUBS; i++) {
        if (d->subs[i] > 0) {
            d->h->unsubscribe(d->inst, d->subs[i]);
        }
        d->subs[i] = 0;
    }
    d->nws = 0;
    d->started = false;
}

static void destroy(void *ctx)
{
    dash *d = ctx;
    dash_live_free(d);
    dash_arena_free(d);
    free(d->allowed);
    free(d->static_dir);
    explicit_bzero(d->token, sizeof(d->token));
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_UI,
    .name = "dashboard",
    .version = "1.0.0",
    .description = "web dashboard: the web app, the HTTP API and the live WebSocket feed",
    .config = schema,
    .ctx_size = sizeof(dash),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

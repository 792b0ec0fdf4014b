/* REST routing, the OKX envelope, faults and the market tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"

typedef void (*pub_fn)(sim_market *m, const sim_call *c, sim_reply *r);
typedef venue_fn priv_fn;

typedef struct route {
    const char *method, *path;
    pub_fn pub;   /* unsigned */
    priv_fn priv; /* signed */
} route;

static const route ROUTES[] = {
    {"GET", "/api/v5/public/time", NULL, NULL}, /* the server's clock: on_request */
    {"GET", "/api/v5/public/instruments", market_instruments, NULL},
    {"GET", "/api/v5/public/funding-rate", market_funding_rate, NULL},
    {"GET", "/api/v5/public/mark-price", market_mark_price, NULL},
    {"GET", "/api/v5/market/ticker", market_ticker, NULL},
    {"GET", "/api/v5/market/tickers", market_tickers, NULL},
    {"GET", "/api/v5/market/books", market_books, NULL},
    {"GET", "/api/v5/market/candles", market_candles, NULL},
    {"GET", "/api/v5/market/history-candles", market_candles, NULL},
    {"GET", "/api/v5/market/trades", market_trades, NULL},
};

int64_t server_now_ms(const sim_server *s)
{
    return at_wall_us() / 1000 + s->faults.clock_skew_ms;
}

/* ------------------------------------------------------------ requests */

static void respond(sim_server *s, sh_conn *conn, sim_reply *r, int64_t in_us)
{
    size_t len = 0;
    char *body = venue_envelope(r, in_us, at_wall_us(), &len);
    sh_respond(conn, r->http ? r->http : 200, "application/json", body ? body : "", len, NULL, 0);
    free(body);
    json_decref(r->data);
}

/* /sim/... : local control of the simulator for tests and demos. */
static void admin(sim_server *s, sh_conn *conn, const sh_req *q, sim_reply *r)
{
    json_error_t je;
    json_t *body = q->body_len ? json_loadb(q->body, q->body_len, 0, &je) : NULL;
    if (strcmp(q->path, "/sim/fault") == 0 && strcmp(q->method, "POST") == 0) {
        char err[256];
        const char *spec = sim_json_str(body, "spec");
        if (server_fault(s, spec, err, sizeof(err)) != 0) {
            sim_reply_err(r, 400, "50000", "%s", err);
        }
    } else if (strcmp(q->path, "/sim/price") == 0 && strcmp(q->method, "POST") == 0) {
        sim_inst *in = market_find(s->market, sim_json_str(body, "instId"));
        at_dec px;
        if (!in) {
            sim_reply_err(r, 400, "51001", "Instrument ID does not exist");
        } else if (sim_json_dec(body, "px", &px) != AT_OK || px.m <= 0) {
            sim_reply_err(r, 400, "51000", "Parameter px error");
        } else if (market_set_price(s->market, in, px, server_now_ms(s)) != AT_OK) {
            sim_reply_err(r, 400, "51000", "Parameter px error: not a multiple of tickSz");
        } else {
            s->x.now_ms = server_now_ms(s);
            exchange_tick(&s->x);
        }
    } else {
        sim_reply_err(r, 404, "50000", "no such simulator control: %s %s", q->method, q->path);
    }
    json_decref(body);
}

static void on_request(void *arg, sh_conn *conn, const sh_req *q)
{
    sim_server *s = arg;
    int64_t in_us = at_wall_us();
    s->rest_requests++;
    sim_reply r = {0};
    sim_call c = {.method = q->method, .path = q->path};
    if (strncmp(q->path, "/sim/", 5) == 0) {
        admin(s, conn, q, &r);
        respond(s, conn, &r, in_us);
        return;
    }
    const route *rt = NULL;
    route priv_rt;
    bool path_known = false;
    for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++) {
        if (strcmp(ROUTES[i].path, q->path) == 0) {
            path_known = true;
            if (strcmp(ROUTES[i].method, q->method) == 0) {
                rt = &ROUTES[i];
            }
        }
    }
    venue_fn vf = venue_route(q->method, q->path, &path_known);
    if (!rt && vf) {
        priv_rt = (route){q->method, q->path, NULL, vf};
        rt = &priv_rt;
    }
    if (!rt) {
        if (path_known) {
            sim_reply_err(&r, 405, "50115", "Invalid request method.");
        } else {
            sim_reply_err(&r, 404, "404", "Not Found");
        }
        respond(s, conn, &r, in_us);
        return;
    }
    /* Faults first: a busy exchange answers before it looks at anything. */
    if (s->faults.rest_429_rate > 0 && sim_rand01(&s->rng) < s->faults.rest_429_rate) {
        sim_reply_err(&r, 429, "50011", "Too Many Requests");
        respond(s, conn, &r, in_us);
        return;
    }
    if (s->faults.rest_5xx_rate > 0 && sim_rand01(&s->rng) < s->faults.rest_5xx_rate) {
        sim_reply_err(&r, 503, "50001", "Service temporarily unavailable. Please try again later.");
        respond(s, conn, &r, in_us);
        return;
    }
    int64_t now = server_now_ms(s);
    s->x.now_ms = now;
    sim_acct *a = NULL;
    if (rt->priv && !(a = auth_rest(&s->x, q, now, &r))) {
        respond(s, conn, &r, in_us);
        return;
    }
    if (venue_params_parse(q->query, &c) != 0) {
        sim_reply_err(&r, 500, "50026", "System error");
        venue_params_free(&c);
        respond(s, conn, &r, in_us);
        return;
    }
    json_t *body = NULL;
    if (strcmp(q->method, "POST") == 0) {
        json_error_t je;
        if (q->body_len == 0) {
            sim_reply_err(&r, 400, "50000", "Body can not be empty.");
        } else if (!(body = json_loadb(q->body, q->body_len, 0, &je))) {
            sim_reply_err(&r, 400, "50002", "Json data format error");
        }
        if (!body) {
            venue_params_free(&c);
            respond(s, conn, &r, in_us);
            return;
        }
    }
    c.body = body;
    if (!rt->pub && !rt->priv) {
        sim_reply_add(&r, json_pack("{s:o}", "ts", sim_ms_json(now)));
    } else if (rt->pub) {
        rt->pub(s->market, &c, &r);
    } else {
        rt->priv(&s->x, a, &c, &r);
    }
    json_decref(body);
    venue_params_free(&c);
    respond(s, conn, &r, in_us);
}

static bool on_upgrade(void *arg, sh_conn *c, const sh_req *r)
{
    return ws_upgrade(arg, c, r);
}

static void on_ws_message(void *arg, sh_conn *c, const char *data, size_t len)
{
    ws_message(arg, c, data, len);
}

static void on_ws_close(void *arg, sh_conn *c)
{
    ws_closed(arg, c);
}

/* ------------------------------------------------------------ ticking */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    sim_server *s = arg;
    int64_t now = server_now_ms(s);
    s->x.now_ms = now;
    market_step(s->market, now);
    exchange_tick(&s->x);
    if (s->faults.ws_drop_s > 0 && now - s->last_drop_ms >= (int64_t)s->faults.ws_drop_s * 1000) {
        s->last_drop_ms = now;
        ws_drop_all(s);
    }
    ws_tick(s, now);
}

int server_fault(sim_server *s, const char *spec, char *err, size_t errlen)
{
    if (fault_parse(&s->faults, spec, err, errlen) != 0) {
        return -1;
    }
    if (s->faults.reject_code) {
        s->x.next_reject_code = s->faults.reject_code;
        snprintf(s->x.next_reject_msg, sizeof(s->x.next_reject_msg), "%s", s->faults.reject_msg);
        s->faults.reject_code = 0;
    }
    s->x.keep_algos = s->faults.keep_algos;
    if (s->http) {
        sh_set_delay(s->http, s->faults.latency_ms);
    }
    s->last_drop_ms = server_now_ms(s);
    return 0;
}

int server_start(sim_server *s, const sim_server_opts *o, char *err, size_t errlen)
{
    sh_opts ho = {.host = o->host,
                  .port = o->port,
                  .max_conns = o->max_conns,
                  .max_output = o->max_output,
                  .request_timeout_ms = o->request_timeout_ms,
                  .idle_timeout_ms = o->idle_timeout_ms};
    sh_cbs cbs = {on_request, on_upgrade, on_ws_message, on_ws_close};
    s->http = sh_listen(s->base, &ho, &cbs, s);
    if (!s->http) {
        snprintf(err, errlen, "cannot listen on %s:%d", o->host, o->port);
        return -1;
    }
    sh_set_delay(s->http, s->faults.latency_ms);
    s->x.push = (sim_push){ws_push_order, ws_push_position, ws_push_account, ws_push_algo, s};
    s->tick_ms = o->tick_ms > 0 ? o->tick_ms : 100;
    s->ws_idle_ms = o->ws_idle_ms > 0 ? o->ws_idle_ms : WS_IDLE_MS;
    s->max_subs = o->max_subs > 0 ? o->max_subs : WS_MAX_SUBS;
    s->tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
    struct timeval tv = {s->tick_ms / 1000, (s->tick_ms % 1000) * 1000};
    event_add(s->tick, &tv);
    s->last_drop_ms = server_now_ms(s);
    return 0;
}

void server_stop(sim_server *s)
{
    if (s->tick) {
        event_free(s->tick);
        s->tick = NULL;
    }
    ws_free_all(s);
    sh_free(s->http);
    s->http = NULL;
}

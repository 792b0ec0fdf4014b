/* The in-process edge of the paper venue: okx_rest's local backend (the same
 * private endpoints, JSON and envelopes okx-sim serves over HTTP, without the
 * HTTP) and the venue's pushes handed to exchange_okx's private-channel code
 * as the private WebSocket would deliver them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

static char *envelope_err(int *http, int status, const char *code, const char *msg, size_t *len)
{
    sim_reply r = {0};
    sim_reply_err(&r, status, code, "%s", msg);
    *http = status;
    return venue_envelope(&r, 0, 0, len);
}

int paper_local_call(void *arg, const char *method, const char *path, const char *query,
                     const char *body, char **resp, size_t *resp_len)
{
    paper_ctx *p = arg;
    int http = 200;
    bool known = false;
    venue_fn fn = venue_route(method, path, &known);
    if (!fn) {
        *resp = envelope_err(&http, known ? 405 : 404, known ? "50115" : "404",
                             known ? "Invalid request method." : "Not Found", resp_len);
        return http;
    }
    sim_call c = {.method = method, .path = path};
    json_t *j = NULL;
    if (strcmp(method, "POST") == 0) {
        json_error_t je;
        if (!*body) {
            *resp = envelope_err(&http, 400, "50000", "Body can not be empty.", resp_len);
            return http;
        }
        if (!(j = json_loads(body, 0, &je))) {
            *resp = envelope_err(&http, 400, "50002", "Json data format error", resp_len);
            return http;
        }
    }
    if (venue_params_parse(query, &c) != 0) {
        json_decref(j);
        *resp = envelope_err(&http, 500, "50026", "System error", resp_len);
        return http;
    }
    c.body = j;
    int64_t in_us = p->okx.h->now_us();
    p->x.now_ms = in_us / 1000;
    sim_reply r = {0};
    paper_venue_enter(p);
    fn(&p->x, p->x.accts, &c, &r);
    /* Reads change nothing; every write may (ids, orders, settings). */
    p->dirty |= strcmp(method, "GET") != 0;
    paper_venue_leave(p);
    *resp = venue_envelope(&r, in_us, p->okx.h->now_us(), resp_len);
    http = r.http ? r.http : 200;
    json_decref(r.data);
    json_decref(j);
    venue_params_free(&c);
    return http;
}

/* {"arg":{"channel":ch,"instType":"SWAP"},"data":data} to the okx code. */
void paper_deliver(paper_ctx *p, const char *channel, json_t *data)
{
    json_t *m = json_pack("{s:{s:s, s:s}, s:O}", "arg", "channel", channel, "instType", "SWAP",
                          "data", data);
    char *txt = m ? okx_json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (!txt) {
        p->okx.h->log(p->okx.inst, AT_LOG_ERROR,
                      "a %s push of the paper venue was lost: out of memory", channel);
        return;
    }
    okx_account_on_private(&p->okx, txt, strlen(txt));
    free(txt);
}

void paper_push_order(void *arg, sim_acct *a, const sim_order *o, json_t *data)
{
    (void)a;
    (void)o;
    json_t *list = json_pack("[O]", data);
    paper_store_push(arg, "orders", list);
    json_decref(list);
}

void paper_push_position(void *arg, sim_acct *a, json_t *data)
{
    (void)a;
    paper_store_push(arg, "positions", data);
}

void paper_push_account(void *arg, sim_acct *a, json_t *data)
{
    (void)a;
    json_t *list = json_pack("[O]", data);
    paper_store_push(arg, "account", list);
    json_decref(list);
}

void paper_push_algo(void *arg, sim_acct *a, json_t *data)
{
    (void)a;
    /* the orders-algo channel: exchange_okx's code publishes ALGO_ORDER */
    json_t *list = json_pack("[O]", data);
    paper_store_push(arg, "orders-algo", list);
    json_decref(list);
}

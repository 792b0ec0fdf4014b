/* The private REST routes of the venue model (signed endpoints), the query
 * and envelope helpers both of its edges use: okx-sim's HTTP server and the
 * paper venue's in-process calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const struct {
    const char *method, *path;
    venue_fn fn;
} ROUTES[] = {
    {"GET", "/api/v5/account/balance", acct_balance},
    {"GET", "/api/v5/account/positions", acct_positions},
    {"GET", "/api/v5/account/config", acct_config},
    {"GET", "/api/v5/account/trade-fee", acct_trade_fee},
    {"GET", "/api/v5/account/leverage-info", acct_leverage_info},
    {"GET", "/api/v5/asset/currencies", acct_currencies},
    {"POST", "/api/v5/account/set-leverage", acct_set_leverage},
    {"POST", "/api/v5/account/set-position-mode", acct_set_position_mode},
    {"POST", "/api/v5/trade/order", order_place},
    {"POST", "/api/v5/trade/batch-orders", order_batch},
    {"POST", "/api/v5/trade/cancel-order", order_cancel},
    {"POST", "/api/v5/trade/cancel-batch-orders", order_cancel_batch},
    {"POST", "/api/v5/trade/amend-order", order_amend},
    {"GET", "/api/v5/trade/order", order_get},
    {"GET", "/api/v5/trade/orders-pending", order_pending},
    {"GET", "/api/v5/trade/orders-history", order_history},
    {"GET", "/api/v5/trade/orders-history-archive", order_history},
    {"GET", "/api/v5/trade/fills", order_fills},
    {"GET", "/api/v5/trade/fills-history", order_fills},
    {"POST", "/api/v5/trade/close-position", order_close_position},
    {"POST", "/api/v5/trade/order-algo", algo_place},
    {"POST", "/api/v5/trade/cancel-algos", algo_cancel},
    {"GET", "/api/v5/trade/order-algo", algo_get},
    {"GET", "/api/v5/trade/orders-algo-pending", algo_pending},
    {"GET", "/api/v5/trade/orders-algo-history", algo_history},
};

venue_fn venue_route(const char *method, const char *path, bool *path_known)
{
    venue_fn fn = NULL;
    for (size_t i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++) {
        if (strcmp(ROUTES[i].path, path) == 0) {
            if (path_known) {
                *path_known = true;
            }
            if (strcmp(ROUTES[i].method, method) == 0) {
                fn = ROUTES[i].fn;
            }
        }
    }
    return fn;
}

static char *vdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

char *venue_envelope(const sim_reply *r, int64_t in_us, int64_t out_us, size_t *len)
{
    json_t *env = json_object();
    json_object_set_new(env, "code", json_string(r->code[0] ? r->code : "0"));
    json_object_set_new(env, "msg", json_string(r->msg));
    /* Authentication failures carry no data (as OKX answers them). */
    if (!(r->http == 401 && !r->data)) {
        json_object_set_new(env, "data", r->data ? json_incref(r->data) : json_array());
    }
    if (r->trade) {
        char b[24];
        snprintf(b, sizeof(b), "%lld", (long long)in_us);
        json_object_set_new(env, "inTime", json_string(b));
        snprintf(b, sizeof(b), "%lld", (long long)out_us);
        json_object_set_new(env, "outTime", json_string(b));
    }
    char *s = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    *len = s ? strlen(s) : 0;
    return s;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode (and '+' as space, as form encoding does) in place. */
static void url_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else if (*p == '+') {
            *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

void venue_params_free(sim_call *c)
{
    for (size_t i = 0; i < c->nparams; i++) {
        free(c->params[i].key);
        free(c->params[i].val);
    }
    free(c->params);
}

int venue_params_parse(const char *query, sim_call *c)
{
    if (!*query) {
        return 0;
    }
    char *dup = vdup(query), *save = NULL;
    if (!dup) {
        return -1;
    }
    for (char *kv = strtok_r(dup, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) {
            *eq = '\0';
        }
        sim_param *p = realloc(c->params, (c->nparams + 1) * sizeof(*p));
        if (!p) {
            free(dup);
            return -1;
        }
        c->params = p;
        p[c->nparams].key = vdup(kv);
        p[c->nparams].val = vdup(eq ? eq + 1 : "");
        url_decode(p[c->nparams].key);
        url_decode(p[c->nparams].val);
        c->nparams++;
    }
    free(dup);
    return 0;
}

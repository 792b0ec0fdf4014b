/* Fuzz target for the dashboard's request handling (plugins/ui_dashboard's
 * dash_lib.h and aitrader/origin.h): what a client controls, fed through
 * what the plugin does with it.
 *
 * The input is a request in lines: method, path, query, Authorization,
 * Origin, Host, then the body (everything after the sixth newline; missing
 * lines are empty). Properties:
 *  - routing answers 0, 400, 404 or 405; a match has a route and its
 *    segments are NUL-terminated within DASH_SEG_MAX, without control bytes;
 *    an error has a code and a message;
 *  - query parameters are found (non-empty, within the buffer, no control
 *    bytes), absent, or refused with 400; integers land in their range;
 *  - the token is accepted only when the header carries it exactly;
 *  - a request without Origin is never refused for its Origin; an allowed
 *    Origin is the listed one or "http://" + a local Host;
 *  - a body is an object or a 400; an order parsed from it has a positive
 *    size, a side, a price exactly when it is a limit, a ttl only on a
 *    limit; once checked against an instrument, its size is on the lot and
 *    at least the minimum and a limit's price on the tick; every refusal
 *    names its code and says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <aitrader/origin.h>

#include "dash_lib.h"
#include "engine.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_dashboard: property violated: %s\n", what);
        abort();
    }
}

static bool clean(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

static void check_err(const dash_err *e, int status)
{
    check(e->status == status, "the error carries the status answered");
    check(e->code[0] != '\0' && e->message[0] != '\0', "an error has a code and a message");
}

static const char TOKEN[] = "0123456789abcdef0123456789abcdef";

static void fuzz_route(const char *method, const char *path)
{
    dash_route r;
    dash_err e;
    memset(&e, 0, sizeof(e));
    int st = dash_route_match(method, path, &r, &e);
    check(st == 0 || st == 400 || st == 404 || st == 405, "route status 0/400/404/405");
    if (st) {
        check_err(&e, st);
        check(st != 405 || r.allow[0], "a 405 says what is allowed");
        return;
    }
    check(r.id != DR_NONE, "a match has a route");
    check(strnlen(r.a, DASH_SEG_MAX) < DASH_SEG_MAX && strnlen(r.b, DASH_SEG_MAX) < DASH_SEG_MAX,
          "segments NUL-terminated");
    check(clean(r.a) && clean(r.b), "segments without control bytes");
    check(r.id != DR_TRADER_ACTION || strcmp(r.action, "run") == 0 ||
              strcmp(r.action, "pause") == 0 || strcmp(r.action, "resume") == 0,
          "a trader action is run, pause or resume");
    check(r.mutating == (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0),
          "only GET and HEAD are read-only");
}

static void fuzz_query(const char *query)
{
    static const char *const keys[] = {"instId", "bar", "limit", "state", "trader", "q", ""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char v[24];
        dash_err e;
        memset(&e, 0, sizeof(e));
        int rc = dash_query_str(query, keys[i], v, sizeof(v), &e);
        check(rc >= -1 && rc <= 1, "query answer -1/0/1");
        check(strlen(v) < sizeof(v), "query value within its buffer");
        if (rc == 1) {
            check(v[0] && clean(v), "a found value is non-empty and clean");
        } else if (rc == 0) {
            check(v[0] == '\0', "an absent value is empty");
        } else {
            check_err(&e, 400);
        }
        int64_t n = -99;
        memset(&e, 0, sizeof(e));
        rc = dash_query_int(query, keys[i], 7, 1, 1000, &n, &e);
        check(rc == 0 || rc == 400, "integer parameter 0 or 400");
        check(rc != 0 || (n >= 1 && n <= 1000), "an integer within its range");
        int64_t ms = 0;
        if (dash_duration_ms(v, &ms) == AT_OK) {
            check(ms > 0 && ms <= 7 * 86400000LL, "a duration within 7 days");
        }
    }
}

static void fuzz_security(const char *auth, const char *origin, const char *host)
{
    if (dash_bearer_ok(auth, TOKEN)) {
        check(strstr(auth, TOKEN) != NULL, "an accepted header carries the token");
    }
    check(!dash_bearer_ok(auth, ""), "an empty token accepts nothing");
    const char *const listed[] = {"http://localhost:5173", NULL};
    check(at_origin_allowed("", host, listed), "no Origin is never refused for it");
    if (at_origin_allowed(origin, host, listed) && *origin) {
        char own[600];
        snprintf(own, sizeof(own), "http://%s", host);
        check(strcasecmp(origin, listed[0]) == 0 ||
                  (at_host_is_local_name(host) && strcasecmp(origin, own) == 0),
              "an allowed Origin is listed or the server's own");
    }
    (void)at_host_allowed(host, listed);
    (void)at_host_allowed(origin, NULL);
    char why[300];
    (void)dash_origin_valid(origin, why, sizeof(why));
    (void)dash_listen_valid(host, why, sizeof(why));
    if (!dash_token_valid(auth, why, sizeof(why)) && !strchr(auth, ' ')) {
        /* (an input with blanks could be a piece of the message itself) */
        check(strlen(auth) < DASH_TOKEN_MIN || !strstr(why, auth), "the reason never quotes it");
    }
}

static void fuzz_body(const char *body, size_t len)
{
    const at_host *h = engine_host();
    dash_err e;
    memset(&e, 0, sizeof(e));
    json_t *b = dash_body_parse(body, len, &e);
    if (!b) {
        check_err(&e, 400);
        return;
    }
    check(json_is_object(b), "a parsed body is an object");
    dash_order_req o;
    memset(&e, 0, sizeof(e));
    int rc = dash_order_parse(h, b, &o, &e);
    check(rc == 0 || rc == 400, "order parse 0 or 400");
    if (rc) {
        check_err(&e, 400);
    } else {
        check(o.sz.m > 0, "a size above 0");
        check(o.side == AT_SIDE_BUY || o.side == AT_SIDE_SELL, "a side");
        check(o.ord_type == AT_ORDT_MARKET || o.ord_type == AT_ORDT_LIMIT, "market or limit");
        check((o.ord_type == AT_ORDT_LIMIT) == (o.px.m > 0), "a price exactly for a limit");
        check(o.ttl_ms >= 0 && (o.ttl_ms == 0 || o.ord_type == AT_ORDT_LIMIT),
              "a ttl only on a limit");
        check(o.account[0] && o.inst_id[0] && clean(o.account) && clean(o.inst_id),
              "account and instrument given");
        dash_inst_spec spec = {{1, 2}, {1, 1}, {1, 1}, {100, 0}}; /* lot 0.01, min 0.1, tick 0.1 */
        for (int hedge = 0; hedge < 2; hedge++) {
            memset(&e, 0, sizeof(e));
            rc = dash_order_check(h, &o, &spec, hedge, (at_dec){600000, 1}, &e);
            check(rc == 0 || rc == 400, "order check 0 or 400");
            if (rc) {
                check_err(&e, 400);
                continue;
            }
            at_dec r;
            check(h->dec_round_step(o.sz, spec.lot_sz, AT_ROUND_DOWN, &r) == AT_OK &&
                      h->dec_cmp(r, o.sz) == 0,
                  "a checked size is on the lot");
            check(h->dec_cmp(o.sz, spec.min_sz) >= 0, "a checked size is at least the minimum");
            check(o.ord_type != AT_ORDT_LIMIT ||
                      (h->dec_round_step(o.px, spec.tick_sz, AT_ROUND_DOWN, &r) == AT_OK &&
                       h->dec_cmp(r, o.px) == 0),
                  "a checked limit price is on the tick");
            check(hedge ? o.pos_side != AT_POS_NET : o.pos_side == AT_POS_NET,
                  "posSide as the position mode wants it");
        }
    }
    memset(&e, 0, sizeof(e));
    rc = dash_close_parse(b, &o, &e);
    check(rc == 0 || rc == 400, "close parse 0 or 400");
    json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    /* six lines, then the body (kept with its length: it may hold NULs) */
    char *line[6];
    char *p = buf;
    for (int i = 0; i < 6; i++) {
        line[i] = p;
        char *nl = memchr(p, '\n', size - (size_t)(p - buf));
        p = nl ? nl + 1 : p + strlen(p);
        if (nl) {
            *nl = '\0';
        }
    }
    const char *body = p;
    size_t body_len = size - (size_t)(p - buf);
    fuzz_route(line[0], line[1]);
    fuzz_query(line[2]);
    fuzz_security(line[3], line[4], line[5]);
    fuzz_body(body, body_len);
    free(buf);
    return 0;
}

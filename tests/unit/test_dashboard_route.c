/* ui_dashboard's pure half (plugins/ui_dashboard/dash_lib.h): routes and
 * their segments, query parameters, manual order bodies and their checks
 * against an instrument, the bearer token, the config checks; and the
 * Origin/Host rule the engine's server shares with it (aitrader/origin.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <aitrader/origin.h>

#include "dash_lib.h"
#include "engine.h"

/* ------------------------------------------------------------ routes */

static int route(const char *method, const char *path, dash_route *r, dash_err *e)
{
    memset(e, 0, sizeof(*e));
    return dash_route_match(method, path, r, e);
}

static void test_routes(void **state)
{
    (void)state;
    dash_route r;
    dash_err e;
    static const struct {
        const char *method, *path;
        dash_route_id id;
        bool mutating;
    } ok[] = {
        {"GET", "/api/health", DR_HEALTH, false},
        {"HEAD", "/api/health", DR_HEALTH, false},
        {"GET", "/api/health/", DR_HEALTH, false},
        {"GET", "/api/instruments", DR_INSTRUMENTS, false},
        {"GET", "/api/market/tickers", DR_TICKERS, false},
        {"GET", "/api/market/candles", DR_CANDLES, false},
        {"GET", "/api/accounts", DR_ACCOUNTS, false},
        {"POST", "/api/accounts", DR_ACCOUNT_ADD, true},
        {"DELETE", "/api/accounts/exchange.okx", DR_ACCOUNT_REMOVE, true},
        {"GET", "/api/accounts/exchange.okx/balance", DR_BALANCE, false},
        {"GET", "/api/accounts/exchange.okx/positions", DR_POSITIONS, false},
        {"GET", "/api/accounts/exchange.okx/orders", DR_ORDERS, false},
        {"GET", "/api/accounts/exchange.okx/fills", DR_FILLS, false},
        {"GET", "/api/accounts/exchange.okx/equity", DR_EQUITY, false},
        {"POST", "/api/orders", DR_ORDER_PLACE, true},
        {"DELETE", "/api/orders/exchange.okx/12345", DR_ORDER_CANCEL, true},
        {"POST", "/api/positions/close", DR_POSITION_CLOSE, true},
        {"GET", "/api/traders", DR_TRADERS, false},
        {"POST", "/api/traders/alpha/run", DR_TRADER_ACTION, true},
        {"POST", "/api/traders/alpha/pause", DR_TRADER_ACTION, true},
        {"POST", "/api/traders/alpha/resume", DR_TRADER_ACTION, true},
        {"GET", "/api/decisions", DR_DECISIONS, false},
        {"GET", "/api/decisions/alpha:long:1", DR_DECISION, false},
        {"GET", "/api/risk", DR_RISK, false},
        {"POST", "/api/kill-switch", DR_KILL_SWITCH, true},
        {"GET", "/api/news", DR_NEWS, false},
        {"GET", "/api/sentiment", DR_SENTIMENT, false},
        {"GET", "/api/pnl", DR_PNL, false},
        {"GET", "/metrics", DR_METRICS, false},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(route(ok[i].method, ok[i].path, &r, &e), 0);
        assert_int_equal(r.id, ok[i].id);
        assert_int_equal(r.mutating, ok[i].mutating);
    }

    /* segments as the server decoded them: not decoded again */
    assert_int_equal(route("DELETE", "/api/orders/exchange.okx_demo/987", &r, &e), 0);
    assert_string_equal(r.a, "exchange.okx_demo");
    assert_string_equal(r.b, "987");
    assert_int_equal(route("GET", "/api/decisions/alpha:long:17", &r, &e), 0);
    assert_string_equal(r.a, "alpha:long:17");
    assert_int_equal(route("GET", "/api/decisions/a%2531", &r, &e), 0);
    assert_string_equal(r.a, "a%2531");
    assert_int_equal(route("POST", "/api/traders/trader.alpha/pause", &r, &e), 0);
    assert_string_equal(r.a, "trader.alpha");
    assert_string_equal(r.action, "pause");

    /* a known path with another method: 405 and what is allowed */
    assert_int_equal(route("PUT", "/api/orders", &r, &e), 405);
    assert_string_equal(e.code, "method_not_allowed");
    assert_string_equal(r.allow, "POST");
    assert_int_equal(route("PATCH", "/api/accounts", &r, &e), 405);
    assert_string_equal(r.allow, "GET, POST");
    assert_int_equal(route("GET", "/api/kill-switch", &r, &e), 405);

    /* unknown: 404 */
    assert_int_equal(route("GET", "/api/nothing", &r, &e), 404);
    assert_string_equal(e.code, "not_found");
    assert_int_equal(route("POST", "/api/traders/alpha/explode", &r, &e), 404);
    assert_int_equal(route("GET", "/api/accounts//balance", &r, &e), 404);
    assert_int_equal(route("GET", "/api/accounts/a/b/balance", &r, &e), 404);
    assert_int_equal(route("GET", "/api/healthz", &r, &e), 404);
    assert_int_equal(route("GET", "/api", &r, &e), 404);

    /* malformed segments: 400, never a crash or a silent cut */
    assert_int_equal(route("GET", "/api/decisions/\xff", &r, &e), 400); /* %FF, decoded */
    assert_string_equal(e.code, "bad_path");
    assert_int_equal(route("GET", "/api/decisions/caf\xc3\xa9", &r, &e), 400);
    assert_int_equal(route("GET", "/api/decisions/a\x01b", &r, &e), 400);
    assert_int_equal(route("GET", "/api/decisions/a\x7f", &r, &e), 400);
    char longp[400];
    snprintf(longp, sizeof(longp), "/api/decisions/%0200d", 7);
    assert_int_equal(route("GET", longp, &r, &e), 400);

    assert_true(dash_path_is_api("/api/x"));
    assert_true(dash_path_is_api("/metrics"));
    assert_false(dash_path_is_api("/trade"));
    assert_false(dash_path_is_api("/apix"));
    assert_false(dash_path_is_api("/"));
}

static void test_query(void **state)
{
    (void)state;
    char v[16];
    dash_err e;
    assert_int_equal(dash_query_str("instId=BTC-USDT-SWAP&bar=1m", "bar", v, sizeof(v), &e), 1);
    assert_string_equal(v, "1m");
    assert_int_equal(dash_query_str("xbar=1&bar=5m", "bar", v, sizeof(v), &e), 1);
    assert_string_equal(v, "5m");
    assert_int_equal(dash_query_str("bar=&x=1", "bar", v, sizeof(v), &e), 0);
    assert_int_equal(dash_query_str("", "bar", v, sizeof(v), &e), 0);
    assert_int_equal(dash_query_str(NULL, "bar", v, sizeof(v), &e), 0);
    assert_int_equal(dash_query_str("q=a+b%21", "q", v, sizeof(v), &e), 1);
    assert_string_equal(v, "a b!");
    assert_int_equal(dash_query_str("q=%G1", "q", v, sizeof(v), &e), -1);
    assert_int_equal(dash_query_str("q=%FF", "q", v, sizeof(v), &e), -1); /* not UTF-8 */
    assert_int_equal(dash_query_str("q=%C3%A9", "q", v, sizeof(v), &e), -1);
    assert_string_equal(e.code, "bad_query");
    /* net_http re-escapes what lws decoded: one decode gives the value */
    assert_int_equal(dash_query_str("trader=a%26limit%3D0", "trader", v, sizeof(v), &e), 1);
    assert_string_equal(v, "a&limit=0");
    assert_int_equal(e.status, 400);
    assert_string_equal(e.field, "q");
    assert_int_equal(dash_query_str("q=0123456789abcdefXYZ", "q", v, sizeof(v), &e), -1);

    int64_t n = 0;
    assert_int_equal(dash_query_int("limit=20", "limit", 5, 1, 100, &n, &e), 0);
    assert_int_equal(n, 20);
    assert_int_equal(dash_query_int("", "limit", 5, 1, 100, &n, &e), 0);
    assert_int_equal(n, 5);
    assert_int_equal(dash_query_int("limit=0", "limit", 5, 1, 100, &n, &e), 400);
    assert_int_equal(dash_query_int("limit=101", "limit", 5, 1, 100, &n, &e), 400);
    assert_int_equal(dash_query_int("limit=1e3", "limit", 5, 1, 100, &n, &e), 400);
    assert_int_equal(dash_query_int("limit=+5", "limit", 5, 1, 100, &n, &e), 400);
    assert_int_equal(dash_query_int("limit=99999999999999999999", "limit", 5, 1, 100, &n, &e), 400);
}

/* ------------------------------------------------------------ orders */

static int parse(const char *json, dash_order_req *o, dash_err *e)
{
    memset(e, 0, sizeof(*e));
    json_t *b = dash_body_parse(json, strlen(json), e);
    if (!b) {
        return e->status;
    }
    int rc = dash_order_parse(engine_host(), b, o, e);
    json_decref(b);
    return rc;
}

#define BASE "\"account\":\"exchange.okx\",\"instId\":\"BTC-USDT-SWAP\",\"side\":\"buy\","

static void test_order_parse(void **state)
{
    (void)state;
    dash_order_req o;
    dash_err e;
    char d[AT_DEC_STRLEN];
    const at_host *h = engine_host();

    assert_int_equal(parse("{" BASE "\"ordType\":\"market\",\"sz\":\"0.5\",\"posSide\":\"long\","
                           "\"tdMode\":\"isolated\",\"tpTriggerPx\":\"70000\",\"lever\":3}",
                           &o, &e),
                     0);
    assert_string_equal(o.account, "exchange.okx");
    assert_string_equal(o.inst_id, "BTC-USDT-SWAP");
    assert_int_equal(o.side, AT_SIDE_BUY);
    assert_int_equal(o.ord_type, AT_ORDT_MARKET);
    assert_int_equal(o.pos_side, AT_POS_LONG);
    assert_true(o.pos_side_given && o.td_given && o.isolated);
    h->dec_format(o.sz, d);
    assert_string_equal(d, "0.5");
    h->dec_format(o.tp, d);
    assert_string_equal(d, "70000");
    h->dec_format(o.lever, d);
    assert_string_equal(d, "3");
    assert_int_equal(o.px.m, 0);

    /* a limit with a ttl, both spellings; "" and null read as absent */
    assert_int_equal(parse("{" BASE "\"ordType\":\"limit\",\"sz\":2,\"px\":\"60000.5\",\"ttl\":"
                           "\"30s\",\"slTriggerPx\":\"\",\"reduceOnly\":null}",
                           &o, &e),
                     0);
    assert_int_equal(o.ttl_ms, 30000);
    assert_int_equal(o.sl.m, 0);
    assert_false(o.reduce_only);
    assert_int_equal(
        parse("{" BASE "\"ordType\":\"limit\",\"sz\":2,\"px\":\"1\",\"ttlMs\":1500}", &o, &e), 0);
    assert_int_equal(o.ttl_ms, 1500);

    static const struct {
        const char *body, *code, *field;
    } bad[] = {
        {"{" BASE "\"ordType\":\"market\"}", "missing", "sz"},
        {"{" BASE "\"ordType\":\"limit\",\"sz\":\"1\"}", "missing", "px"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"px\":\"5\"}", "bad_value", "px"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":0.1}", "bad_value", "sz"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"-1\"}", "bad_value", "sz"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"0\"}", "bad_value", "sz"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1e400\"}", "bad_value", "sz"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"abc\"}", "bad_value", "sz"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":true}", "bad_value", "sz"},
        {"{" BASE "\"ordType\":\"stop\",\"sz\":\"1\"}", "bad_value", "ordType"},
        {"{" BASE "\"sz\":\"1\"}", "missing", "ordType"},
        {"{\"account\":\"a\",\"instId\":\"X\",\"side\":\"hold\",\"ordType\":\"market\",\"sz\":1}",
         "bad_value", "side"},
        {"{\"instId\":\"X\",\"side\":\"buy\",\"ordType\":\"market\",\"sz\":1}", "missing",
         "account"},
        {"{\"account\":\"a b\",\"instId\":\"X\",\"side\":\"buy\",\"ordType\":\"market\",\"sz\":1}",
         "bad_value", "account"},
        {"{\"account\":7,\"instId\":\"X\",\"side\":\"buy\",\"ordType\":\"market\",\"sz\":1}",
         "bad_value", "account"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"posSide\":\"both\"}", "bad_value",
         "posSide"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"tdMode\":\"cash\"}", "bad_value",
         "tdMode"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"reduceOnly\":\"yes\"}", "bad_value",
         "reduceOnly"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"ttl\":\"5m\"}", "bad_value", "ttl"},
        {"{" BASE "\"ordType\":\"limit\",\"px\":\"1\",\"sz\":\"1\",\"ttl\":\"5m\",\"ttlMs\":5}",
         "bad_value", "ttl"},
        {"{" BASE "\"ordType\":\"limit\",\"px\":\"1\",\"sz\":\"1\",\"ttl\":\"5 minutes\"}",
         "bad_value", "ttl"},
        {"{" BASE "\"ordType\":\"limit\",\"px\":\"1\",\"sz\":\"1\",\"ttlMs\":-1}", "bad_value",
         "ttlMs"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"size\":\"1\"}", "unknown_key", ""},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"sz\":\"2\"}", "bad_json", ""},
        {"[1]", "bad_json", ""},
        {"{\"a\":", "bad_json", ""},
        {"", "bad_json", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i].body, &o, &e), 400);
        assert_string_equal(e.code, bad[i].code);
        assert_string_equal(e.field, bad[i].field);
        assert_true(e.message[0] != '\0');
    }
    /* a malformed body says where */
    assert_int_equal(parse("{\"a\": tru}", &o, &e), 400);
    assert_non_null(strstr(e.message, "line 1"));

    int64_t ms;
    assert_int_equal(dash_duration_ms("250ms", &ms), AT_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(dash_duration_ms("2h", &ms), AT_OK);
    assert_int_equal(ms, 7200000);
    assert_int_equal(dash_duration_ms("1500", &ms), AT_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(dash_duration_ms("8d", &ms), AT_EINVAL);
    assert_int_equal(dash_duration_ms("0s", &ms), AT_EINVAL);
    assert_int_equal(dash_duration_ms("-5s", &ms), AT_EINVAL);
    assert_int_equal(dash_duration_ms("5 s", &ms), AT_EINVAL);
}

static at_dec dec(const char *s)
{
    at_dec d;
    assert_int_equal(engine_host()->dec_parse(s, (size_t)-1, &d), AT_OK);
    return d;
}

/* Parse `body` and check it against BTC-USDT-SWAP's spec (lot 0.01, min
 * 0.01, tick 0.1, max leverage 100) at a last price of 60000. */
static int check(const char *body, bool hedge, dash_err *e)
{
    dash_order_req o;
    if (parse(body, &o, e) != 0) {
        return -1;
    }
    dash_inst_spec spec = {dec("0.01"), dec("0.01"), dec("0.1"), dec("100")};
    memset(e, 0, sizeof(*e));
    return dash_order_check(engine_host(), &o, &spec, hedge, dec("60000"), e);
}

static void test_order_check(void **state)
{
    (void)state;
    dash_err e;
    assert_int_equal(
        check("{" BASE "\"ordType\":\"market\",\"sz\":\"0.05\",\"posSide\":\"long\"}", true, &e),
        0);
    assert_int_equal(check("{" BASE "\"ordType\":\"market\",\"sz\":\"1\"}", false, &e), 0);
    assert_int_equal(
        check("{" BASE "\"ordType\":\"limit\",\"sz\":\"1\",\"px\":\"59999.9\"}", false, &e), 0);
    /* TP above and SL below a buy; the other way round for a sell */
    assert_int_equal(check("{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"tpTriggerPx\":\"61000\","
                           "\"slTriggerPx\":\"59000\"}",
                           false, &e),
                     0);
    assert_int_equal(check("{\"account\":\"a\",\"instId\":\"X\",\"side\":\"sell\",\"ordType\":"
                           "\"limit\",\"px\":\"60000\",\"sz\":\"1\",\"tpTriggerPx\":\"59000\","
                           "\"slTriggerPx\":\"60100\"}",
                           false, &e),
                     0);

    static const struct {
        const char *body;
        bool hedge;
        const char *field, *says;
    } bad[] = {
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"0.015\"}", false, "sz", "lot size 0.01"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"0.001\"}", false, "sz", "lot size"},
        {"{" BASE "\"ordType\":\"limit\",\"sz\":\"1\",\"px\":\"60000.05\"}", false, "px",
         "tick 0.1"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\"}", true, "posSide", "long or short"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"posSide\":\"net\"}", true, "posSide",
         "long or short"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"posSide\":\"long\"}", false, "posSide",
         "net mode"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"posSide\":\"long\",\"reduceOnly\":true}",
         true, "reduceOnly", "would open"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"tpTriggerPx\":\"59000\"}", false,
         "tpTriggerPx", "above"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"slTriggerPx\":\"61000\"}", false,
         "slTriggerPx", "below"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"tpTriggerPx\":\"60000\"}", false,
         "tpTriggerPx", "above"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"tpTriggerPx\":\"61000.05\"}", false,
         "tpTriggerPx", "tick"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"reduceOnly\":true,\"slTriggerPx\":"
         "\"59000\"}",
         false, "slTriggerPx", "reduces"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"lever\":\"125\"}", false, "lever",
         "maximum 100"},
        {"{" BASE "\"ordType\":\"market\",\"sz\":\"1\",\"lever\":\"0.5\"}", false, "lever",
         "below 1"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(check(bad[i].body, bad[i].hedge, &e), 400);
        assert_string_equal(e.field, bad[i].field);
        assert_non_null(strstr(e.message, bad[i].says));
    }
    /* a hedge-mode reduction is a sell of the long, reduceOnly or not */
    assert_int_equal(check("{\"account\":\"a\",\"instId\":\"X\",\"side\":\"sell\",\"posSide\":"
                           "\"long\",\"ordType\":\"market\",\"sz\":\"1\",\"reduceOnly\":true}",
                           true, &e),
                     0);
}

static void test_close_parse(void **state)
{
    (void)state;
    dash_order_req o;
    dash_err e;
    json_t *b = json_loads("{\"account\":\"a\",\"instId\":\"X\",\"posSide\":\"short\"}", 0, NULL);
    assert_int_equal(dash_close_parse(b, &o, &e), 0);
    assert_int_equal(o.pos_side, AT_POS_SHORT);
    assert_true(o.pos_side_given);
    json_decref(b);
    b = json_loads("{\"account\":\"a\",\"instId\":\"X\",\"sz\":\"1\"}", 0, NULL);
    assert_int_equal(dash_close_parse(b, &o, &e), 400);
    assert_string_equal(e.code, "unknown_key");
    json_decref(b);
    b = json_loads("{\"account\":\"a\"}", 0, NULL);
    assert_int_equal(dash_close_parse(b, &o, &e), 400);
    assert_string_equal(e.field, "instId");
    json_decref(b);
}

/* ------------------------------------------------------------ security */

static void test_bearer(void **state)
{
    (void)state;
    const char *tok = "0123456789abcdef0123";
    assert_true(dash_bearer_ok("Bearer 0123456789abcdef0123", tok));
    assert_true(dash_bearer_ok("bearer   0123456789abcdef0123  ", tok));
    assert_false(dash_bearer_ok("Bearer 0123456789abcdef012", tok));   /* a prefix */
    assert_false(dash_bearer_ok("Bearer 0123456789abcdef01234", tok)); /* longer */
    assert_false(dash_bearer_ok("Bearer 0123456789abcdef0124", tok));
    assert_false(dash_bearer_ok("Basic 0123456789abcdef0123", tok));
    assert_false(dash_bearer_ok("Bearer0123456789abcdef0123", tok));
    assert_false(dash_bearer_ok("0123456789abcdef0123", tok));
    assert_false(dash_bearer_ok("", tok));
    assert_false(dash_bearer_ok(NULL, tok));
    assert_false(dash_bearer_ok("Bearer ", ""));
}

static void test_config_checks(void **state)
{
    (void)state;
    char why[300];
    assert_true(dash_token_valid("0123456789abcdef", why, sizeof(why)));
    assert_false(dash_token_valid("short", why, sizeof(why)));
    assert_null(strstr(why, "short")); /* never quotes the token */
    assert_false(dash_token_valid("0123456789abcdef 0123", why, sizeof(why)));
    assert_null(strstr(why, "0123456789abcdef"));
    assert_true(dash_origin_valid("http://localhost:5173", why, sizeof(why)));
    assert_true(dash_origin_valid("https://dash.example.com", why, sizeof(why)));
    assert_true(dash_origin_valid("http://[::1]:5621", why, sizeof(why)));
    assert_false(dash_origin_valid("localhost:5173", why, sizeof(why)));
    assert_false(dash_origin_valid("http://localhost:5173/", why, sizeof(why)));
    assert_false(dash_origin_valid("http://*.example.com", why, sizeof(why)));
    assert_false(dash_origin_valid("http://host:99999", why, sizeof(why)));
    assert_false(dash_origin_valid("http://", why, sizeof(why)));
    assert_true(dash_listen_valid("0.0.0.0", why, sizeof(why)));
    assert_true(dash_listen_valid("::1", why, sizeof(why)));
    assert_false(dash_listen_valid("127.0.0.1:5621 x", why, sizeof(why)));
    assert_false(dash_listen_valid("[::1]", why, sizeof(why)));
    assert_false(dash_listen_valid("", why, sizeof(why)));

    char a[65], b[65];
    assert_int_equal(dash_token_generate(a), AT_OK);
    assert_int_equal(dash_token_generate(b), AT_OK);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
    assert_string_not_equal(a, b);
}

static void test_origin_rule(void **state)
{
    (void)state;
    const char *const listed[] = {"http://localhost:5173", "https://dash.example.com", NULL};
    /* no Origin: not a browser page */
    assert_true(at_origin_allowed(NULL, "127.0.0.1:5621", NULL));
    assert_true(at_origin_allowed("", "127.0.0.1:5621", NULL));
    /* the server's own page, by address or localhost */
    assert_true(at_origin_allowed("http://127.0.0.1:5621", "127.0.0.1:5621", NULL));
    assert_true(at_origin_allowed("http://localhost:5621", "localhost:5621", NULL));
    assert_true(at_origin_allowed("http://[::1]:5621", "[::1]:5621", NULL));
    assert_true(at_origin_allowed("HTTP://LocalHost:5621", "localhost:5621", NULL));
    /* listed */
    assert_true(at_origin_allowed("http://localhost:5173", "127.0.0.1:5621", listed));
    assert_true(at_origin_allowed("https://DASH.example.com", "dash.example.com", listed));
    /* refused: other sites, rebinding, "null", another port or scheme */
    assert_false(at_origin_allowed("http://evil.example", "127.0.0.1:5621", listed));
    assert_false(at_origin_allowed("http://evil.example:5621", "evil.example:5621", listed));
    assert_false(at_origin_allowed("null", "127.0.0.1:5621", listed));
    assert_false(at_origin_allowed("http://127.0.0.1:5622", "127.0.0.1:5621", NULL));
    assert_false(at_origin_allowed("https://127.0.0.1:5621", "127.0.0.1:5621", NULL));
    assert_false(at_origin_allowed("http://127.0.0.1:5621", "", NULL));
    assert_false(at_origin_allowed("http://127.0.0.1:5621x", "127.0.0.1:5621", NULL));

    assert_true(at_host_allowed("", NULL));
    assert_true(at_host_allowed("127.0.0.1:5621", NULL));
    assert_true(at_host_allowed("192.168.1.20:5621", NULL));
    assert_true(at_host_allowed("localhost", NULL));
    assert_true(at_host_allowed("[::1]:5621", NULL));
    assert_true(at_host_allowed("dash.example.com", listed));
    assert_false(at_host_allowed("dash.example.com:8443", listed));
    assert_false(at_host_allowed("evil.example:5621", listed));
    assert_false(at_host_allowed("localhost.evil.example", NULL));
    assert_false(at_host_allowed("127.0.0.1.evil.example", NULL));

    assert_false(at_host_is_local_name("1.2.3"));
    assert_false(at_host_is_local_name("1.2.3.4.5"));
    assert_false(at_host_is_local_name("1234.1.1.1"));
    assert_false(at_host_is_local_name("1..2.3"));
    assert_false(at_host_is_local_name("[]:80"));
    assert_false(at_host_is_local_name("[::1"));
    assert_false(at_host_is_local_name("[::1]x"));
    assert_false(at_host_is_local_name("localhost:"));
    assert_true(at_host_is_local_name("LOCALHOST:80"));
    assert_true(at_host_is_local_name("10.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),        cmocka_unit_test(test_query),
        cmocka_unit_test(test_order_parse),   cmocka_unit_test(test_order_check),
        cmocka_unit_test(test_close_parse),   cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_config_checks), cmocka_unit_test(test_origin_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

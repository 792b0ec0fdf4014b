/* okx-sim edge: OKX signatures against the reference vectors, every REST
 * authentication error, the WebSocket login, fault specs, the book checksum
 * and the envelope. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"

#define SECRET "22582BD0CFF14C41EDBF1AB98506286D"

static void test_sign_vectors(void **state)
{
    static const struct {
        const char *prehash, *sign;
    } v[] = {
        {"2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC",
         "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="},
        {"2020-12-08T09:08:57.715ZGET/api/v5/account/balance",
         "AkD5YszBhggtIyjDlmTy/9PpNVntel+1Lff8wh0qpQw="},
        {"2020-12-08T09:08:57.715ZPOST/api/v5/account/"
         "set-leverage{\"instId\":\"BTC-USDT\",\"lever\":\"5\",\"mgnMode\":\"isolated\"}",
         "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="},
        {"2020-12-08T09:08:57.715ZGET/api/v5/account/positions?instType=SWAP&instId=BTC-USDT-SWAP",
         "MZgFPE48KtSHKZdDaHHCB3jfrY+oMUck72bBbqFUDHc="},
        {"1538054050GET/users/self/verify", "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M="},
        {"1704876947GET/users/self/verify", "5/36BgGV6m/6pmdc20zdqk0mzF5ZalmzzPD2fo3wavU="},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char got[AUTH_SIGN_LEN];
        auth_sign(SECRET, v[i].prehash, strlen(v[i].prehash), got);
        assert_string_equal(got, v[i].sign);
    }
}

static void test_iso_timestamps(void **state)
{
    int64_t ms = 0;
    assert_int_equal(auth_parse_iso_ms("2020-12-08T09:08:57.715Z", &ms), 0);
    assert_int_equal(ms, 1607418537715LL);
    assert_int_equal(auth_parse_iso_ms("1970-01-01T00:00:00.000Z", &ms), 0);
    assert_int_equal(ms, 0);
    /* Two millisecond digits: a classic client bug. */
    assert_int_equal(auth_parse_iso_ms("2020-12-08T09:08:57.71Z", &ms), -1);
    assert_int_equal(auth_parse_iso_ms("2020-12-08 09:08:57.715Z", &ms), -1);
    assert_int_equal(auth_parse_iso_ms("1607418537715", &ms), -1);
    assert_int_equal(auth_parse_iso_ms("2020-13-08T09:08:57.715Z", &ms), -1);
    assert_int_equal(auth_parse_iso_ms("", &ms), -1);
}

/* ------------------------------------------------------------ REST auth */

typedef struct fixture {
    sim_exchange x;
    sim_acct live, demo;
    sh_header h[8];
    sh_req q;
    char ts[32], sign[AUTH_SIGN_LEN];
    sim_reply r;
} fixture;

static fixture F;

static void iso_now(char out[32], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[24];
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", b, (int)(ms % 1000));
}

static int64_t NOW = 1764590000123LL;

/* A request signed with `secret` at time ts_ms by key, as a client sends it. */
static void build(const char *method, const char *path, const char *query, const char *body,
                  const char *key, const char *secret, const char *pass, int64_t ts_ms, bool demo)
{
    memset(&F.r, 0, sizeof(F.r));
    iso_now(F.ts, ts_ms);
    char pre[1024];
    int n = snprintf(pre, sizeof(pre), "%s%s%s%s%s%s", F.ts, method, path, *query ? "?" : "", query,
                     body);
    auth_sign(secret, pre, (size_t)n, F.sign);
    size_t k = 0;
    F.h[k++] = (sh_header){"OK-ACCESS-KEY", (char *)key};
    F.h[k++] = (sh_header){"ok-access-sign", F.sign}; /* case-insensitive */
    F.h[k++] = (sh_header){"OK-ACCESS-TIMESTAMP", F.ts};
    F.h[k++] = (sh_header){"OK-ACCESS-PASSPHRASE", (char *)pass};
    if (demo) {
        F.h[k++] = (sh_header){"x-simulated-trading", "1"};
    }
    F.q = (sh_req){method, path, query, F.h, k, body, strlen(body)};
}

static void drop_header(const char *name)
{
    for (size_t i = 0; i < F.q.nheaders; i++) {
        if (strcasecmp(F.h[i].name, name) == 0) {
            F.h[i] = F.h[--F.q.nheaders];
            return;
        }
    }
}

static int setup(void **state)
{
    memset(&F, 0, sizeof(F));
    snprintf(F.live.api_key, sizeof(F.live.api_key), "live-key");
    snprintf(F.live.secret, sizeof(F.live.secret), SECRET);
    snprintf(F.live.passphrase, sizeof(F.live.passphrase), "pass1");
    snprintf(F.demo.api_key, sizeof(F.demo.api_key), "demo-key");
    snprintf(F.demo.secret, sizeof(F.demo.secret), "demo-secret");
    snprintf(F.demo.passphrase, sizeof(F.demo.passphrase), "pass2");
    F.demo.demo = true;
    F.live.next = &F.demo;
    F.x.accts = &F.live;
    return 0;
}

static void expect_fail(const char *code)
{
    assert_null(auth_rest(&F.x, &F.q, NOW, &F.r));
    assert_int_equal(F.r.http, 401);
    assert_string_equal(F.r.code, code);
    assert_true(F.r.msg[0] != '\0');
}

static void test_rest_ok(void **state)
{
    build("GET", "/api/v5/account/positions", "instId=LTC-USDT-SWAP%2CBTC-USDT-SWAP", "",
          "live-key", SECRET, "pass1", NOW - 29000, false);
    assert_ptr_equal(auth_rest(&F.x, &F.q, NOW, &F.r), &F.live);
    build("POST", "/api/v5/trade/order", "", "{\"instId\":\"BTC-USDT-SWAP\"}", "demo-key",
          "demo-secret", "pass2", NOW + 29000, true);
    assert_ptr_equal(auth_rest(&F.x, &F.q, NOW, &F.r), &F.demo);
}

static void test_rest_errors(void **state)
{
    /* The signature covers the query exactly as sent: decoding it breaks it. */
    build("GET", "/api/v5/account/positions", "instId=A%2CB", "", "live-key", SECRET, "pass1", NOW,
          false);
    F.q.query = "instId=A,B";
    expect_fail("50113");
    build("POST", "/api/v5/trade/order", "", "{\"sz\":\"1\"}", "live-key", SECRET, "pass1", NOW,
          false);
    F.q.body = "{\"sz\":\"2\"}"; /* body altered after signing */
    expect_fail("50113");
    build("GET", "/api/v5/account/balance", "", "", "live-key", "wrong", "pass1", NOW, false);
    expect_fail("50113");
    build("GET", "/api/v5/account/balance", "", "", "live-key", SECRET, "pass1", NOW - 31000,
          false);
    expect_fail("50102");
    build("GET", "/api/v5/account/balance", "", "", "live-key", SECRET, "pass1", NOW + 31000,
          false);
    expect_fail("50102");
    build("GET", "/api/v5/account/balance", "", "", "nobody", SECRET, "pass1", NOW, false);
    expect_fail("50111");
    build("GET", "/api/v5/account/balance", "", "", "live-key", SECRET, "bad", NOW, false);
    expect_fail("50105");
    /* Demo key without the demo header, live key with it. */
    build("GET", "/api/v5/account/balance", "", "", "demo-key", "demo-secret", "pass2", NOW, false);
    expect_fail("50101");
    build("GET", "/api/v5/account/balance", "", "", "live-key", SECRET, "pass1", NOW, true);
    expect_fail("50101");
    static const struct {
        const char *hdr, *code;
    } missing[] = {{"OK-ACCESS-KEY", "50103"},
                   {"OK-ACCESS-PASSPHRASE", "50104"},
                   {"OK-ACCESS-SIGN", "50106"},
                   {"OK-ACCESS-TIMESTAMP", "50107"}};
    for (size_t i = 0; i < 4; i++) {
        build("GET", "/api/v5/account/balance", "", "", "live-key", SECRET, "pass1", NOW, false);
        drop_header(missing[i].hdr);
        expect_fail(missing[i].code);
    }
    build("GET", "/api/v5/account/balance", "", "", "live-key", SECRET, "pass1", NOW, false);
    snprintf(F.ts, sizeof(F.ts), "2020-12-08T09:08:57.71Z");
    expect_fail("50112");
}

static void test_ws_login(void **state)
{
    char ts[24], pre[64], sign[AUTH_SIGN_LEN];
    snprintf(ts, sizeof(ts), "%lld", (long long)(NOW / 1000));
    int n = snprintf(pre, sizeof(pre), "%sGET/users/self/verify", ts);
    auth_sign(SECRET, pre, (size_t)n, sign);
    const char *code = NULL, *msg = NULL;
    json_t *arg = json_pack("{s:s, s:s, s:s, s:s}", "apiKey", "live-key", "passphrase", "pass1",
                            "timestamp", ts, "sign", sign);
    assert_ptr_equal(auth_ws_login(&F.x, arg, NOW, &code, &msg), &F.live);
    json_object_set_new(arg, "sign", json_string("AAAA"));
    assert_null(auth_ws_login(&F.x, arg, NOW, &code, &msg));
    assert_string_equal(code, "60007");
    json_object_set_new(arg, "passphrase", json_string("x"));
    assert_null(auth_ws_login(&F.x, arg, NOW, &code, &msg));
    assert_string_equal(code, "60024");
    json_object_set_new(arg, "apiKey", json_string("nobody"));
    assert_null(auth_ws_login(&F.x, arg, NOW, &code, &msg));
    assert_string_equal(code, "60005");
    json_object_set_new(arg, "timestamp", json_string("1538054050"));
    assert_null(auth_ws_login(&F.x, arg, NOW, &code, &msg));
    assert_string_equal(code, "60006");
    json_object_set_new(arg, "timestamp", json_string("12x"));
    assert_null(auth_ws_login(&F.x, arg, NOW, &code, &msg));
    assert_string_equal(code, "60004");
    json_decref(arg);
}

/* ------------------------------------------------------------ faults */

static void test_fault_specs(void **state)
{
    sim_faults f = {0};
    char err[256];
    assert_int_equal(fault_parse(&f, "ws-drop=5", err, sizeof(err)), 0);
    assert_int_equal(f.ws_drop_s, 5);
    assert_int_equal(fault_parse(&f, "rest-429=0.25", err, sizeof(err)), 0);
    assert_true(f.rest_429_rate > 0.249 && f.rest_429_rate < 0.251);
    assert_int_equal(fault_parse(&f, "rest-5xx=1", err, sizeof(err)), 0);
    assert_int_equal(fault_parse(&f, "latency=250", err, sizeof(err)), 0);
    assert_int_equal(f.latency_ms, 250);
    assert_int_equal(fault_parse(&f, "clock-skew=-45000", err, sizeof(err)), 0);
    assert_int_equal(f.clock_skew_ms, -45000);
    assert_int_equal(fault_parse(&f, "reject-next=51008:Insufficient margin", err, sizeof(err)), 0);
    assert_int_equal(f.reject_code, 51008);
    assert_string_equal(f.reject_msg, "Insufficient margin");
    assert_int_equal(fault_parse(&f, "rest-429=2", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "rest-429"));
    assert_int_equal(fault_parse(&f, "explode=1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown fault"));
    assert_int_equal(fault_parse(&f, "latency", err, sizeof(err)), -1);
    assert_int_equal(fault_parse(&f, "reject-next=abc", err, sizeof(err)), -1);
    assert_int_equal(fault_parse(&f, "none", err, sizeof(err)), 0);
    assert_int_equal(f.ws_drop_s, 0);
    assert_int_equal(f.latency_ms, 0);
}

/* ------------------------------------------------------------ checksum */

static void side(sim_level *lv, int *n, const char *const *pairs, int count)
{
    for (int i = 0; i < count; i++) {
        assert_int_equal(at_dec_parse(pairs[2 * i], (size_t)-1, &lv[i].px), AT_OK);
        assert_int_equal(at_dec_parse(pairs[2 * i + 1], (size_t)-1, &lv[i].sz), AT_OK);
    }
    *n = count;
}

static void test_book_checksum(void **state)
{
    static sim_book b;
    memset(&b, 0, sizeof(b));
    const char *bids1[] = {"3366.1", "7", "3366", "6"}, *asks1[] = {"3366.8", "9", "3368", "8"};
    side(b.bids, &b.nbids, bids1, 2);
    side(b.asks, &b.nasks, asks1, 2);
    assert_int_equal(ws_book_checksum(&b), -1881014294);
    const char *bids2[] = {"3366.1", "7"}, *asks2[] = {"3366.8", "9", "3368", "8", "3372", "8"};
    side(b.bids, &b.nbids, bids2, 1);
    side(b.asks, &b.nasks, asks2, 3);
    assert_int_equal(ws_book_checksum(&b), 831078360);
    const char *bids3[] = {"8476.97", "256", "8475.55", "101", "8475.54", "100", "8475.3", "1",
                           "8447.32", "6",   "8447.02", "246", "8446.83", "24",  "8446",   "95"},
               *asks3[] = {"8476.98", "415", "8477",    "7",  "8477.34", "85", "8477.56", "1",
                           "8505.84", "8",   "8506.37", "85", "8506.49", "2",  "8506.96", "100"};
    side(b.bids, &b.nbids, bids3, 8);
    side(b.asks, &b.nasks, asks3, 8);
    assert_int_equal(ws_book_checksum(&b), -2102840145);
}

static void test_envelope(void **state)
{
    sim_reply r = {0};
    size_t len = 0;
    sim_reply_add(&r, json_pack("{s:s}", "ts", "1"));
    r.trade = true;
    char *s = venue_envelope(&r, 1000001, 1000002, &len);
    assert_string_equal(s, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ts\":\"1\"}],"
                           "\"inTime\":\"1000001\",\"outTime\":\"1000002\"}");
    free(s);
    json_decref(r.data);
    sim_reply e = {0};
    sim_reply_err(&e, 401, "50113", "Invalid Sign");
    s = venue_envelope(&e, 0, 0, &len);
    assert_string_equal(s, "{\"code\":\"50113\",\"msg\":\"Invalid Sign\"}");
    free(s);
    sim_reply p = {0};
    sim_reply_add(&p, sim_item_result("0", ""));
    sim_reply_add(&p, sim_item_result("51121", "lot"));
    sim_reply_settle(&p);
    assert_string_equal(p.code, "2");
    json_decref(p.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vectors),
        cmocka_unit_test(test_iso_timestamps),
        cmocka_unit_test_setup(test_rest_ok, setup),
        cmocka_unit_test_setup(test_rest_errors, setup),
        cmocka_unit_test_setup(test_ws_login, setup),
        cmocka_unit_test(test_fault_specs),
        cmocka_unit_test(test_book_checksum),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests_name("okxsim_auth", tests, NULL, NULL);
}

/* Unit tests for plugins/exchange_okx/okx_sign.c: REST and WS login
 * signatures against the computed vectors, the millisecond timestamp format
 * and RFC 3986 query encoding (the signature covers the bytes sent). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <aitrader/types.h>

#include "okx_sign.h"

/* The docs' example secret; vectors copied from
 * shared/reference/fixtures/okx-vectors.json (Python hmac + openssl dgst). */
#define SECRET "22582BD0CFF14C41EDBF1AB98506286D"
#define TS "2020-12-08T09:08:57.715Z"

static void test_rest_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path, *body, *sign;
    } v[] = {
        {"GET", "/api/v5/account/balance?ccy=BTC", "",
         "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="},
        {"GET", "/api/v5/account/balance", "", "AkD5YszBhggtIyjDlmTy/9PpNVntel+1Lff8wh0qpQw="},
        {"POST", "/api/v5/account/set-leverage",
         "{\"instId\":\"BTC-USDT\",\"lever\":\"5\",\"mgnMode\":\"isolated\"}",
         "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="},
        {"POST", "/api/v5/trade/order",
         "{\"instId\":\"BTC-USDT-SWAP\",\"tdMode\":\"cross\",\"side\":\"buy\",\"posSide\":"
         "\"long\",\"ordType\":\"limit\",\"px\":\"30000\",\"sz\":\"1\",\"clOrdId\":\"b15\"}",
         "g+77QP+DX/Jmhrcj8ZaQyHZWOnRM324g6G+9+aLgNsA="},
        {"GET", "/api/v5/account/positions?instType=SWAP&instId=BTC-USDT-SWAP", "",
         "MZgFPE48KtSHKZdDaHHCB3jfrY+oMUck72bBbqFUDHc="},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[OKX_SIGN_LEN];
        okx_sign_rest(SECRET, TS, v[i].method, v[i].path, v[i].body, out);
        assert_string_equal(out, v[i].sign);
        assert_int_equal(strlen(out), 44);
    }
}

static void test_rest_variants(void **state)
{
    (void)state;
    char a[OKX_SIGN_LEN], b[OKX_SIGN_LEN];
    /* NULL body is an empty body; the method is upper-cased for the prehash. */
    okx_sign_rest(SECRET, TS, "get", "/api/v5/account/balance", NULL, a);
    assert_string_equal(a, "AkD5YszBhggtIyjDlmTy/9PpNVntel+1Lff8wh0qpQw=");
    /* One changed byte anywhere changes the signature. */
    okx_sign_rest(SECRET, "2020-12-08T09:08:57.71Z", "GET", "/api/v5/account/balance", "", b);
    assert_string_not_equal(a, b);
    okx_sign_rest(SECRET, TS, "GET", "/api/v5/account/balance?ccy=btc", "", b);
    assert_string_not_equal(b, "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=");
    okx_sign_rest("22582BD0CFF14C41EDBF1AB98506286E", TS, "GET", "/api/v5/account/balance", "", b);
    assert_string_not_equal(a, b);
    /* Missing inputs give an empty signature, never a stale buffer. */
    strcpy(b, "stale");
    okx_sign_rest(SECRET, NULL, "GET", "/x", "", b);
    assert_string_equal(b, "");
    strcpy(b, "stale");
    okx_sign_rest(NULL, TS, "GET", "/x", "", b);
    assert_string_equal(b, "");
}

static void test_ws_login_vectors(void **state)
{
    (void)state;
    char out[OKX_SIGN_LEN];
    okx_sign_ws_login(SECRET, "1538054050", out);
    assert_string_equal(out, "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=");
    okx_sign_ws_login(SECRET, "1704876947", out);
    assert_string_equal(out, "5/36BgGV6m/6pmdc20zdqk0mzF5ZalmzzPD2fo3wavU=");
    /* The docs' illustrative value is not the HMAC of this prehash. */
    okx_sign_ws_login(SECRET, "1538054050", out);
    assert_string_not_equal(out, "7L+zFQ+CEgGu5rzCj4+BdV2/uUHGqddA9pI6ztsRRPs=");
}

static void expect_iso(int64_t ms, const char *want)
{
    char out[OKX_ISO_LEN];
    memset(out, 'x', sizeof out);
    okx_iso_ms(ms, out);
    assert_string_equal(out, want);
}

static void test_iso_ms(void **state)
{
    (void)state;
    expect_iso(1607418537715LL, "2020-12-08T09:08:57.715Z");
    /* Always three millisecond digits (".071Z", not ".71Z"). */
    expect_iso(1607418537000LL, "2020-12-08T09:08:57.000Z");
    expect_iso(1607418537005LL, "2020-12-08T09:08:57.005Z");
    expect_iso(1607418537071LL, "2020-12-08T09:08:57.071Z");
    expect_iso(1607418537710LL, "2020-12-08T09:08:57.710Z");
    expect_iso(1607418537999LL, "2020-12-08T09:08:57.999Z");
    expect_iso(0, "1970-01-01T00:00:00.000Z");
    expect_iso(5, "1970-01-01T00:00:00.005Z");
    expect_iso(999, "1970-01-01T00:00:00.999Z");
    expect_iso(-1, "1969-12-31T23:59:59.999Z");
    /* Leap days: 2024 (divisible by 4), 2000 (by 400); 2100 is not a leap year. */
    expect_iso(1709251199999LL, "2024-02-29T23:59:59.999Z");
    expect_iso(1709251200000LL, "2024-03-01T00:00:00.000Z");
    expect_iso(951825600123LL, "2000-02-29T12:00:00.123Z");
    expect_iso(4107542399000LL + 1000, "2100-03-01T00:00:00.000Z");
    expect_iso(1735689599999LL, "2024-12-31T23:59:59.999Z");
    expect_iso(1735689600000LL, "2025-01-01T00:00:00.000Z");
}

static void test_query_basic(void **state)
{
    (void)state;
    char q[128] = "";
    assert_int_equal(okx_query_append(q, sizeof q, "instType", "SWAP"), AT_OK);
    assert_int_equal(okx_query_append(q, sizeof q, "instId", "BTC-USDT-SWAP"), AT_OK);
    assert_string_equal(q, "?instType=SWAP&instId=BTC-USDT-SWAP");

    /* The query built here signs to the positions vector. */
    char path[160] = "/api/v5/account/positions", out[OKX_SIGN_LEN];
    strcat(path, q);
    okx_sign_rest(SECRET, TS, "GET", path, "", out);
    assert_string_equal(out, "MZgFPE48KtSHKZdDaHHCB3jfrY+oMUck72bBbqFUDHc=");

    /* A NULL value is an omitted optional parameter. */
    assert_int_equal(okx_query_append(q, sizeof q, "after", NULL), AT_OK);
    assert_string_equal(q, "?instType=SWAP&instId=BTC-USDT-SWAP");
    /* An empty value is sent as such. */
    char e[16] = "";
    assert_int_equal(okx_query_append(e, sizeof e, "ccy", ""), AT_OK);
    assert_string_equal(e, "?ccy=");
}

static void test_query_encoding(void **state)
{
    (void)state;
    char q[256] = "";
    assert_int_equal(okx_query_append(q, sizeof q, "instId", "LTC-USDT-SWAP,BTC-USDT-SWAP"), AT_OK);
    assert_string_equal(q, "?instId=LTC-USDT-SWAP%2CBTC-USDT-SWAP");

    q[0] = '\0';
    assert_int_equal(okx_query_append(q, sizeof q, "k", "a b"), AT_OK);
    assert_int_equal(okx_query_append(q, sizeof q, "u", "AZaz09-._~"), AT_OK);
    assert_int_equal(okx_query_append(q, sizeof q, "r", "/:?#[]@!$&'()*+;=%"), AT_OK);
    assert_int_equal(okx_query_append(q, sizeof q, "utf8", "\xc3\xa9"), AT_OK);
    assert_int_equal(okx_query_append(q, sizeof q, "a key", "1"), AT_OK);
    assert_string_equal(q, "?k=a%20b&u=AZaz09-._~"
                           "&r=%2F%3A%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%3B%3D%25"
                           "&utf8=%C3%A9&a%20key=1");
}

static void test_query_capacity(void **state)
{
    (void)state;
    /* "?a=1" needs 5 bytes with the NUL: exactly fits, one less does not. */
    char q[8];
    q[0] = '\0';
    assert_int_equal(okx_query_append(q, 5, "a", "1"), AT_OK);
    assert_string_equal(q, "?a=1");
    q[0] = '\0';
    assert_int_equal(okx_query_append(q, 4, "a", "1"), AT_ERANGE);
    assert_string_equal(q, "");

    /* A failed append leaves the earlier parameters intact, including when
     * it is an escape that no longer fits. */
    char r[12] = "";
    assert_int_equal(okx_query_append(r, sizeof r, "a", "1"), AT_OK);
    assert_int_equal(okx_query_append(r, sizeof r, "b", "xy,"), AT_ERANGE);
    assert_string_equal(r, "?a=1");
    assert_int_equal(okx_query_append(r, sizeof r, "b", "x,y"), AT_ERANGE);
    assert_string_equal(r, "?a=1");
    assert_int_equal(okx_query_append(r, sizeof r, "b", "22"), AT_OK);
    assert_string_equal(r, "?a=1&b=22");

    assert_int_equal(okx_query_append(NULL, 8, "a", "1"), AT_EINVAL);
    assert_int_equal(okx_query_append(q, sizeof q, NULL, "1"), AT_EINVAL);
    assert_int_equal(okx_query_append(q, sizeof q, "", "1"), AT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rest_vectors),     cmocka_unit_test(test_rest_variants),
        cmocka_unit_test(test_ws_login_vectors), cmocka_unit_test(test_iso_ms),
        cmocka_unit_test(test_query_basic),      cmocka_unit_test(test_query_encoding),
        cmocka_unit_test(test_query_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

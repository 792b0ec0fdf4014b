/* Unit tests for plugins/exchange_okx/okx_inst.c: loading OKX
 * /public/instruments responses, rejecting malformed ones, resolving the
 * symbol forms users write, and exact sizing in contracts (the DOGE case:
 * 1,000 DOGE is 1 contract, not 1000) and price rounding to tickSz. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "okx_inst.h"

#define SAMPLE AT_TEST_SOURCE_DIR "/tests/data/okx_instruments_swap_sample.json"

/* Current OKX values (2024+: fractional lots), plus an inverse swap, a USDC
 * swap, one with ctMult 10 and one carrying instIdCode/instFamily. */
static const char MODERN[] =
    "{\"code\":\"0\",\"msg\":\"\",\"data\":["
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
    "\"instFamily\":\"BTC-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"100000000\",\"maxMktSz\":\"12000\",\"lever\":\"100\","
    "\"state\":\"live\",\"instIdCode\":10459},"
    "{\"instType\":\"SWAP\",\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
    "\"instFamily\":\"ETH-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.1\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"ETH\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.01\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"1000000\",\"maxMktSz\":\"5000\",\"lever\":\"100\","
    "\"state\":\"live\",\"instIdCode\":\"10461\"},"
    "{\"instType\":\"SWAP\",\"instId\":\"SOL-USDT-SWAP\",\"uly\":\"SOL-USDT\","
    "\"instFamily\":\"SOL-USDT\",\"ctType\":\"linear\",\"ctVal\":\"1\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"SOL\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.01\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"1000000\",\"maxMktSz\":\"20000\",\"lever\":\"50\","
    "\"state\":\"live\"},"
    "{\"instType\":\"SWAP\",\"instId\":\"DOGE-USDT-SWAP\",\"uly\":\"DOGE-USDT\","
    "\"instFamily\":\"DOGE-USDT\",\"ctType\":\"linear\",\"ctVal\":\"1000\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"DOGE\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.00001\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"1000000\",\"maxMktSz\":\"30000\",\"lever\":\"75\","
    "\"state\":\"live\"},"
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USD-SWAP\",\"uly\":\"BTC-USD\","
    "\"instFamily\":\"BTC-USD\",\"ctType\":\"inverse\",\"ctVal\":\"100\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"USD\",\"settleCcy\":\"BTC\",\"tickSz\":\"0.1\",\"lotSz\":\"1\","
    "\"minSz\":\"1\",\"maxLmtSz\":\"100000\",\"maxMktSz\":\"10000\",\"lever\":\"100\","
    "\"state\":\"live\"},"
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDC-SWAP\",\"uly\":\"BTC-USDC\","
    "\"instFamily\":\"BTC-USDC\",\"ctType\":\"linear\",\"ctVal\":\"0.0001\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDC\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"lever\":\"100\",\"state\":\"live\"},"
    "{\"instType\":\"SWAP\",\"instId\":\"LTC-USDT-SWAP\",\"uly\":\"LTC-USDT\","
    "\"ctType\":\"linear\",\"ctVal\":\"0.1\",\"ctMult\":\"10\",\"ctValCcy\":\"LTC\","
    "\"settleCcy\":\"USDT\",\"tickSz\":\"0.01\",\"lotSz\":\"0.1\",\"minSz\":\"0.1\","
    "\"lever\":\"\",\"state\":\"suspend\"}"
    "]}";

typedef struct fixture {
    const at_host *h;
    okx_insts *sample; /* tests/data: 2022 values, lotSz/minSz 1 */
    okx_insts *modern;
} fixture;

static const at_host *H;

static at_dec D(const char *s)
{
    at_dec d = {0, 0};
    if (H->dec_parse(s, (size_t)-1, &d) != AT_OK) {
        fail_msg("parse(\"%s\")", s);
    }
    return d;
}

static void expect_str(at_dec got, const char *want)
{
    char buf[AT_DEC_STRLEN];
    assert_true(okx_fmt(H, got, buf) > 0);
    assert_string_equal(buf, want);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    H = fx->h = engine_host();
    fx->sample = okx_insts_new(H);
    fx->modern = okx_insts_new(H);
    size_t len = 0;
    char *json = read_file(SAMPLE, &len);
    char err[256];
    if (json == NULL || okx_insts_load_json(fx->sample, json, len, err, sizeof err) != AT_OK ||
        okx_insts_load_json(fx->modern, MODERN, strlen(MODERN), err, sizeof err) != AT_OK) {
        fprintf(stderr, "setup: %s\n", json == NULL ? "cannot read " SAMPLE : err);
        free(json);
        return -1;
    }
    free(json);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    okx_insts_free(fx->sample);
    okx_insts_free(fx->modern);
    free(fx);
    return 0;
}

static const okx_inst *get(const okx_insts *r, const char *id)
{
    const okx_inst *in = okx_insts_find(r, id);
    if (in == NULL) {
        fail_msg("%s not found", id);
    }
    return in;
}

/* ---- loading -------------------------------------------------------- */

static void test_load_sample(void **state)
{
    fixture *fx = *state;
    assert_int_equal(okx_insts_count(fx->sample), 12);
    /* Rows are kept in instId order. */
    assert_string_equal(okx_insts_at(fx->sample, 0)->inst_id, "ADA-USDT-SWAP");
    assert_string_equal(okx_insts_at(fx->sample, 11)->inst_id, "XRP-USDT-SWAP");
    assert_null(okx_insts_at(fx->sample, 12));

    const okx_inst *btc = get(fx->sample, "BTC-USDT-SWAP");
    expect_str(btc->ct_val, "0.01");
    expect_str(btc->ct_mult, "1");
    expect_str(btc->lot_sz, "1");
    expect_str(btc->min_sz, "1");
    expect_str(btc->tick_sz, "0.1");
    expect_str(btc->max_lmt_sz, "100000000");
    expect_str(btc->max_mkt_sz, "1600");
    assert_int_equal(btc->lever, 125);
    assert_int_equal(btc->ct_type, OKX_CT_LINEAR);
    assert_string_equal(btc->uly, "BTC-USDT");
    assert_string_equal(btc->family, "BTC-USDT"); /* no instFamily in 2022: uly */
    assert_string_equal(btc->base, "BTC");
    assert_string_equal(btc->quote, "USDT");
    assert_string_equal(btc->settle_ccy, "USDT");
    assert_string_equal(btc->ct_val_ccy, "BTC");
    assert_string_equal(btc->state, "live");
    assert_false(btc->has_inst_id_code);
    assert_int_equal(btc->id, H->inst_intern("BTC-USDT-SWAP"));
    assert_string_equal(H->inst_name(btc->id), "BTC-USDT-SWAP");

    const okx_inst *doge = get(fx->sample, "DOGE-USDT-SWAP");
    expect_str(doge->ct_val, "1000");
    expect_str(doge->tick_sz, "0.000001");
    expect_str(doge->max_mkt_sz, "4000");
    assert_int_equal(doge->lever, 75);
}

static void test_load_modern_fields(void **state)
{
    fixture *fx = *state;
    assert_int_equal(okx_insts_count(fx->modern), 7);
    const okx_inst *btc = get(fx->modern, "BTC-USDT-SWAP");
    assert_true(btc->has_inst_id_code);
    assert_int_equal(btc->inst_id_code, 10459);
    const okx_inst *eth = get(fx->modern, "ETH-USDT-SWAP");
    assert_true(eth->has_inst_id_code); /* given as a string */
    assert_int_equal(eth->inst_id_code, 10461);
    const okx_inst *inv = get(fx->modern, "BTC-USD-SWAP");
    assert_int_equal(inv->ct_type, OKX_CT_INVERSE);
    assert_string_equal(inv->settle_ccy, "BTC");
    const okx_inst *ltc = get(fx->modern, "LTC-USDT-SWAP");
    expect_str(ltc->ct_mult, "10");
    assert_int_equal(ltc->lever, 0); /* "" */
    assert_string_equal(ltc->state, "suspend");
    const okx_inst *usdc = get(fx->modern, "BTC-USDC-SWAP");
    assert_int_equal(usdc->max_mkt_sz.m, 0); /* absent: unknown */
}

static void test_ct_type_derived(void **state)
{
    (void)state;
    static const char json[] =
        "{\"code\":\"0\",\"data\":["
        "{\"instId\":\"A-USDT-SWAP\",\"uly\":\"A-USDT\",\"settleCcy\":\"USDT\",\"ctVal\":\"1\","
        "\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"1\"},"
        "{\"instId\":\"B-USD-SWAP\",\"uly\":\"B-USD\",\"settleCcy\":\"B\",\"ctVal\":\"1\","
        "\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"1\"},"
        "{\"instId\":\"C-USDT-SWAP\",\"ctVal\":\"1\",\"lotSz\":\"1\",\"minSz\":\"1\","
        "\"tickSz\":\"1\"}]}";
    okx_insts *r = okx_insts_new(H);
    char err[256];
    assert_int_equal(okx_insts_load_json(r, json, strlen(json), err, sizeof err), AT_OK);
    assert_int_equal(okx_insts_find(r, "A-USDT-SWAP")->ct_type, OKX_CT_LINEAR);
    assert_int_equal(okx_insts_find(r, "B-USD-SWAP")->ct_type, OKX_CT_INVERSE);
    /* No uly, no settleCcy: base/quote from the instId, type unknown. */
    const okx_inst *c = okx_insts_find(r, "C-USDT-SWAP");
    assert_string_equal(c->base, "C");
    assert_string_equal(c->quote, "USDT");
    assert_int_equal(c->ct_type, OKX_CT_UNKNOWN);
    at_dec out;
    char why[256];
    assert_int_equal(okx_size_from_base(c, H, D("1"), &out, why, sizeof why), AT_EINVAL);
    assert_string_equal(why,
                        "C-USDT-SWAP has an unknown ctType: cannot size from coins or notional");
    okx_insts_free(r);
}

#define ROW_BTC                                                                                    \
    "{\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\",\"ctType\":\"linear\","                    \
    "\"ctVal\":\"0.01\",\"lotSz\":\"0.01\",\"minSz\":\"0.01\",\"tickSz\":\"0.1\"}"

static void test_load_malformed(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"[]", "instruments: response is not a JSON object"},
        {"{\"msg\":\"\",\"data\":[]}", "instruments: response has no \"code\""},
        {"{\"code\":\"50011\",\"msg\":\"Too Many Requests\",\"data\":[]}",
         "instruments: OKX error 50011: Too Many Requests"},
        {"{\"code\":51001,\"msg\":\"\"}", "instruments: OKX error 51001: (no message)"},
        {"{\"code\":\"0\",\"msg\":\"\"}", "instruments: \"data\" is not an array"},
        {"{\"code\":\"0\",\"data\":{}}", "instruments: \"data\" is not an array"},
        {"{\"code\":\"0\",\"data\":[1]}", "instruments data[0]: not an object"},
        {"{\"code\":\"0\",\"data\":[{\"ctVal\":\"1\"}]}", "instruments data[0]: instId missing"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":7}]}",
         "instruments data[0]: instId is not a string"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
         "\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.1\"}]}",
         "instruments data[0] (BTC-USDT-SWAP): ctVal missing"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"abc\",\"minSz\":\"1\",\"tickSz\":\"0.01\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): lotSz \"abc\" is not a decimal"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"tickSz\":\"0.01\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): minSz missing"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): tickSz missing"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): tickSz \"0\" must be positive"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"-0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.01\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): ctVal \"-0.1\" must be positive"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":0.1,\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.01\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): ctVal is not a decimal string"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.01\","
         "\"maxMktSz\":\"1e\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): maxMktSz \"1e\" is not a decimal"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.01\","
         "\"lever\":\"12x\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): lever \"12x\" is not an integer"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctType\":\"quanto\",\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\","
         "\"tickSz\":\"0.01\"}]}",
         "instruments data[0] (ETH-USDT-SWAP): ctType \"quanto\" is neither linear nor inverse"},
        {"{\"code\":\"0\",\"data\":[{\"instType\":\"FUTURES\",\"instId\":\"BTC-USD-241227\"}]}",
         "instruments data[0] (BTC-USD-241227): instType \"FUTURES\" is not SWAP"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"BTCUSDT\",\"ctVal\":\"1\",\"lotSz\":\"1\","
         "\"minSz\":\"1\",\"tickSz\":\"1\"}]}",
         "instruments data[0] (BTCUSDT): cannot tell base and quote currency (instFamily/uly "
         "\"\")"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.01\","
         "\"lever\":-5}]}",
         "instruments data[0] (ETH-USDT-SWAP): lever -5 is out of range"},
        {"{\"code\":\"0\",\"data\":[{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
         "\"ctVal\":\"0.1\",\"lotSz\":\"1\",\"minSz\":\"1\",\"tickSz\":\"0.01\","
         "\"instIdCode\":true}]}",
         "instruments data[0] (ETH-USDT-SWAP): instIdCode is not an integer"},
        {"{\"code\":\"0\",\"data\":[" ROW_BTC "," ROW_BTC "]}",
         "instruments: duplicate instId BTC-USDT-SWAP"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        int rc =
            okx_insts_load_json(fx->sample, cases[i].json, strlen(cases[i].json), err, sizeof err);
        if (rc != AT_EINVAL || strcmp(err, cases[i].err) != 0) {
            fail_msg("case %zu: rc %d err \"%s\", want \"%s\"", i, rc, err, cases[i].err);
        }
        /* A rejected response leaves the registry as it was. */
        assert_int_equal(okx_insts_count(fx->sample), 12);
        assert_non_null(okx_insts_find(fx->sample, "BTC-USDT-SWAP"));
    }

    char err[256];
    assert_int_equal(okx_insts_load_json(fx->sample, "{\"code\":", 8, err, sizeof err), AT_EINVAL);
    assert_memory_equal(err, "instruments: invalid JSON at line 1", 35);
    /* len is honoured: the NUL-less prefix of a valid body is invalid. */
    assert_int_equal(okx_insts_load_json(fx->sample, MODERN, 20, err, sizeof err), AT_EINVAL);
    assert_int_equal(okx_insts_count(fx->sample), 12);
    /* NULL err is allowed. */
    assert_int_equal(okx_insts_load_json(fx->sample, "[]", 2, NULL, 0), AT_EINVAL);
}

/* One unusable row (a preopen swap with lotSz "" …) is skipped, not fatal:
 * the others load, and the reason comes back for the caller to log. */
static void test_bad_row_skipped(void **state)
{
    (void)state;
    okx_insts *r = okx_insts_new(engine_host());
    assert_non_null(r);
    const char *json =
        "{\"code\":\"0\",\"data\":[" ROW_BTC ",{\"instId\":\"ETH-USDT-SWAP\",\"uly\":\"ETH-USDT\","
        "\"ctVal\":\"0.1\",\"lotSz\":\"\",\"minSz\":\"1\",\"tickSz\":\"0.01\"}]}";
    char err[256] = "";
    assert_int_equal(okx_insts_load_json(r, json, strlen(json), err, sizeof err), AT_OK);
    assert_int_equal(okx_insts_count(r), 1);
    assert_non_null(okx_insts_find(r, "BTC-USDT-SWAP"));
    assert_null(okx_insts_find(r, "ETH-USDT-SWAP"));
    assert_string_equal(err, "1 of 2 rows skipped; first: instruments data[1] (ETH-USDT-SWAP): "
                             "lotSz missing");
    /* A clean load leaves no warning behind. */
    const char *one = "{\"code\":\"0\",\"data\":[" ROW_BTC "]}";
    assert_int_equal(okx_insts_load_json(r, one, strlen(one), err, sizeof err), AT_OK);
    assert_string_equal(err, "");
    okx_insts_free(r);
}

static void test_reload_replaces(void **state)
{
    (void)state;
    okx_insts *r = okx_insts_new(H);
    char err[256];
    assert_int_equal(okx_insts_load_json(r, MODERN, strlen(MODERN), err, sizeof err), AT_OK);
    assert_int_equal(okx_insts_count(r), 7);
    static const char one[] = "{\"code\":\"0\",\"data\":[" ROW_BTC "]}";
    assert_int_equal(okx_insts_load_json(r, one, strlen(one), err, sizeof err), AT_OK);
    assert_int_equal(okx_insts_count(r), 1);
    assert_null(okx_insts_find(r, "ETH"));
    static const char none[] = "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}";
    assert_int_equal(okx_insts_load_json(r, none, strlen(none), err, sizeof err), AT_OK);
    assert_int_equal(okx_insts_count(r), 0);
    assert_null(okx_insts_find(r, "BTC-USDT-SWAP"));
    okx_insts_free(r);
    okx_insts_free(NULL);
    assert_null(okx_insts_new(NULL));
}

/* ---- symbols -------------------------------------------------------- */

static void test_find_forms(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *sym, *want; /* want NULL: not found */
    } cases[] = {
        {"BTC-USDT-SWAP", "BTC-USDT-SWAP"},
        {"btc-usdt-swap", "BTC-USDT-SWAP"},
        {"BTC/USDT:USDT", "BTC-USDT-SWAP"},
        {"btc/usdt:usdt", "BTC-USDT-SWAP"},
        {"BTC/USDT", "BTC-USDT-SWAP"},
        {"BTC", "BTC-USDT-SWAP"},
        {"btc", "BTC-USDT-SWAP"},
        {"  eth ", "ETH-USDT-SWAP"},
        {"ETH-USDT", "ETH-USDT-SWAP"},
        {"DOGE", "DOGE-USDT-SWAP"},
        {"DOGE/USDT:USDT", "DOGE-USDT-SWAP"},
        /* Not settled in USDT. */
        {"BTC/USD:BTC", "BTC-USD-SWAP"},
        {"BTC-USD", "BTC-USD-SWAP"},
        {"BTC-USD-SWAP", "BTC-USD-SWAP"},
        {"BTC/USDC:USDC", "BTC-USDC-SWAP"},
        {"BTC-USDC", "BTC-USDC-SWAP"},
        /* LTC has no instFamily: its uly is the family. */
        {"LTC-USDT", "LTC-USDT-SWAP"},
        {"LTC", "LTC-USDT-SWAP"},
        /* Nothing matches. */
        {"PEPE", NULL},
        {"PEPE-USDT-SWAP", NULL},
        {"PEPE-USDT", NULL},
        {"BTC/USDT:USDC", NULL},
        {"BTC/USD:USDT", NULL},
        {"BTC-USDT-241227", NULL},
        {"BTC/", NULL},
        {"/USDT", NULL},
        {"BTC/USDT:", NULL},
        {"", NULL},
        {"   ", NULL},
        {"-", NULL},
        {"USDT", NULL},
        {"BTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTCBTC", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const okx_inst *in = okx_insts_find(fx->modern, cases[i].sym);
        const char *got = in != NULL ? in->inst_id : NULL;
        if ((got == NULL) != (cases[i].want == NULL) ||
            (got != NULL && strcmp(got, cases[i].want) != 0)) {
            fail_msg("find(\"%s\") = %s, want %s", cases[i].sym, got ? got : "NULL",
                     cases[i].want ? cases[i].want : "NULL");
        }
    }
    assert_null(okx_insts_find(fx->modern, NULL));
    assert_null(okx_insts_find(NULL, "BTC"));
    /* The 2022 sample resolves the same way. */
    assert_string_equal(okx_insts_find(fx->sample, "sol")->inst_id, "SOL-USDT-SWAP");
    assert_string_equal(okx_insts_find(fx->sample, "XRP/USDT:USDT")->inst_id, "XRP-USDT-SWAP");
}

static void test_to_ccxt(void **state)
{
    fixture *fx = *state;
    char buf[OKX_SYMBOL_LEN];
    assert_int_equal(okx_insts_to_ccxt(get(fx->modern, "BTC-USDT-SWAP"), buf, sizeof buf), 13);
    assert_string_equal(buf, "BTC/USDT:USDT");
    okx_insts_to_ccxt(get(fx->modern, "BTC-USD-SWAP"), buf, sizeof buf);
    assert_string_equal(buf, "BTC/USD:BTC");
    okx_insts_to_ccxt(get(fx->modern, "BTC-USDC-SWAP"), buf, sizeof buf);
    assert_string_equal(buf, "BTC/USDC:USDC");
    char small[13];
    assert_int_equal(okx_insts_to_ccxt(get(fx->modern, "BTC-USDT-SWAP"), small, sizeof small),
                     AT_ERANGE);
    assert_string_equal(small, "");
    assert_int_equal(okx_insts_to_ccxt(NULL, buf, sizeof buf), AT_EINVAL);
    /* Every row round-trips through its ccxt symbol. */
    const okx_insts *regs[] = {fx->sample, fx->modern};
    for (size_t r = 0; r < 2; r++) {
        for (size_t i = 0; i < okx_insts_count(regs[r]); i++) {
            const okx_inst *in = okx_insts_at(regs[r], i);
            assert_true(okx_insts_to_ccxt(in, buf, sizeof buf) > 0);
            assert_ptr_equal(okx_insts_find(regs[r], buf), in);
        }
    }
}

/* ---- sizing --------------------------------------------------------- */

/* Expect success with an exact formatted result. */
#define OK_SIZE(call, want)                                                                        \
    do {                                                                                           \
        at_dec out_ = {-1, 0};                                                                     \
        char why_[256] = "";                                                                       \
        int rc_ = (call);                                                                          \
        if (rc_ != AT_OK) {                                                                        \
            fail_msg("%s: rc %d: %s", #call, rc_, why_);                                           \
        }                                                                                          \
        expect_str(out_, want);                                                                    \
    } while (0)

/* Expect failure with rc and the exact message. */
#define BAD_SIZE(call, want_rc, want_why)                                                          \
    do {                                                                                           \
        at_dec out_ = {-1, 0};                                                                     \
        char why_[256] = "";                                                                       \
        int rc_ = (call);                                                                          \
        assert_int_equal(rc_, want_rc);                                                            \
        assert_string_equal(why_, want_why);                                                       \
        assert_int_equal(out_.m, -1); /* untouched */                                              \
    } while (0)

#define CONTRACTS(in, s) okx_size_from_contracts(in, H, D(s), &out_, why_, sizeof why_)
#define BASE(in, s) okx_size_from_base(in, H, D(s), &out_, why_, sizeof why_)
#define QUOTE(in, n, px) okx_size_from_quote(in, H, D(n), D(px), &out_, why_, sizeof why_)

static void test_doge(void **state)
{
    fixture *fx = *state;
    const okx_inst *doge = get(fx->modern, "DOGE");
    /* THE DOGE CASE: 1,000 DOGE is 1 contract (ctVal 1000), not 1000. */
    OK_SIZE(BASE(doge, "1000"), "1");
    OK_SIZE(BASE(doge, "5000"), "5");
    OK_SIZE(BASE(doge, "1234"), "1.23");
    OK_SIZE(BASE(doge, "10"), "0.01");
    /* $500 at 0.15: 500 / (0.15 × 1000) = 3.333… → 3.33 (down to lot 0.01). */
    OK_SIZE(QUOTE(doge, "500", "0.15"), "3.33");
    {
        at_dec out;
        char buf[AT_DEC_STRLEN];
        assert_int_equal(okx_size_from_quote(doge, H, D("500"), D("0.15"), &out, NULL, 0), AT_OK);
        assert_int_equal(okx_fmt(H, out, buf), 4);
        assert_string_equal(buf, "3.33");
        assert_int_equal(out.m, 333);
        assert_int_equal(out.scale, 2);
    }
    BAD_SIZE(BASE(doge, "1"), AT_ERANGE,
             "0.001 contracts is below minSz 0.01 for DOGE-USDT-SWAP (1 DOGE at 1000 DOGE per "
             "contract)");
    BAD_SIZE(QUOTE(doge, "1", "0.15"), AT_ERANGE,
             "0.0066666666 contracts is below minSz 0.01 for DOGE-USDT-SWAP (1 USDT at price 0.15, "
             "1000 DOGE per contract)");

    /* The 2022 sample (lotSz/minSz 1): whole contracts only. */
    const okx_inst *old = get(fx->sample, "DOGE-USDT-SWAP");
    OK_SIZE(BASE(old, "1000"), "1");
    OK_SIZE(BASE(old, "5000"), "5");
    OK_SIZE(BASE(old, "5999"), "5");
    OK_SIZE(QUOTE(old, "500", "0.15"), "3");
    BAD_SIZE(BASE(old, "1"), AT_ERANGE,
             "0.001 contracts is below minSz 1 for DOGE-USDT-SWAP (1 DOGE at 1000 DOGE per "
             "contract)");
    BAD_SIZE(BASE(old, "999"), AT_ERANGE,
             "0.999 contracts is below minSz 1 for DOGE-USDT-SWAP (999 DOGE at 1000 DOGE per "
             "contract)");
}

static void test_btc_eth_sol(void **state)
{
    fixture *fx = *state;
    const okx_inst *btc = get(fx->modern, "BTC");
    OK_SIZE(CONTRACTS(btc, "1"), "1");
    OK_SIZE(CONTRACTS(btc, "0.017"), "0.01");
    OK_SIZE(CONTRACTS(btc, "1.239"), "1.23");
    OK_SIZE(CONTRACTS(btc, "0.01"), "0.01");
    BAD_SIZE(CONTRACTS(btc, "0.004"), AT_ERANGE,
             "0.004 contracts is below minSz 0.01 for BTC-USDT-SWAP");
    OK_SIZE(BASE(btc, "0.05"), "5");
    OK_SIZE(BASE(btc, "0.0123"), "1.23");
    OK_SIZE(BASE(btc, "0.012399"), "1.23");
    BAD_SIZE(BASE(btc, "0.00005"), AT_ERANGE,
             "0.005 contracts is below minSz 0.01 for BTC-USDT-SWAP (0.00005 BTC at 0.01 BTC per "
             "contract)");
    /* $1000 at 50000: one contract is 500 USDT → 2. */
    OK_SIZE(QUOTE(btc, "1000", "50000"), "2");
    /* 1234 / 612.345 = 2.0152… */
    OK_SIZE(QUOTE(btc, "1234", "61234.5"), "2.01");

    const okx_inst *eth = get(fx->modern, "ETH");
    OK_SIZE(BASE(eth, "1"), "10");
    OK_SIZE(BASE(eth, "0.123"), "1.23");
    OK_SIZE(QUOTE(eth, "100", "3000"), "0.33");
    OK_SIZE(CONTRACTS(eth, "2.999"), "2.99");

    const okx_inst *sol = get(fx->modern, "SOL");
    OK_SIZE(BASE(sol, "2.555"), "2.55");
    OK_SIZE(QUOTE(sol, "100", "150"), "0.66");
    OK_SIZE(QUOTE(sol, "0.015", "1"), "0.01");

    /* ctMult multiplies the contract value: 0.1 × 10 = 1 LTC per contract. */
    const okx_inst *ltc = get(fx->modern, "LTC");
    OK_SIZE(BASE(ltc, "12.34"), "12.3");
    OK_SIZE(QUOTE(ltc, "100", "80"), "1.2");

    /* 2022 sample: lotSz 1 floors everything to whole contracts. */
    const okx_inst *obtc = get(fx->sample, "BTC");
    OK_SIZE(BASE(obtc, "0.05"), "5");
    OK_SIZE(BASE(obtc, "0.019"), "1");
    OK_SIZE(CONTRACTS(obtc, "7.99"), "7");
    BAD_SIZE(CONTRACTS(obtc, "0.004"), AT_ERANGE,
             "0.004 contracts is below minSz 1 for BTC-USDT-SWAP");
    OK_SIZE(QUOTE(obtc, "1000", "50000"), "2");
    OK_SIZE(BASE(get(fx->sample, "ETH"), "0.25"), "2");
    OK_SIZE(BASE(get(fx->sample, "SOL"), "7.9"), "7");
    BAD_SIZE(
        QUOTE(get(fx->sample, "SOL"), "100", "150"), AT_ERANGE,
        "0.66666666 contracts is below minSz 1 for SOL-USDT-SWAP (100 USDT at price 150, 1 SOL "
        "per contract)");
}

static void test_sizing_errors(void **state)
{
    fixture *fx = *state;
    const okx_inst *btc = get(fx->modern, "BTC");
    BAD_SIZE(CONTRACTS(btc, "0"), AT_EINVAL, "size must be positive, got 0 for BTC-USDT-SWAP");
    BAD_SIZE(CONTRACTS(btc, "-1"), AT_EINVAL, "size must be positive, got -1 for BTC-USDT-SWAP");
    BAD_SIZE(BASE(btc, "-0.5"), AT_EINVAL, "quantity must be positive, got -0.5 for BTC-USDT-SWAP");
    BAD_SIZE(QUOTE(btc, "100", "0"), AT_EINVAL, "price must be positive, got 0 for BTC-USDT-SWAP");
    BAD_SIZE(QUOTE(btc, "0", "50000"), AT_EINVAL,
             "notional must be positive, got 0 for BTC-USDT-SWAP");

    /* Inverse: contracts are fine, coins and notional are refused. */
    const okx_inst *inv = get(fx->modern, "BTC/USD:BTC");
    OK_SIZE(CONTRACTS(inv, "3.7"), "3");
    BAD_SIZE(BASE(inv, "1"), AT_EINVAL,
             "BTC-USD-SWAP is an inverse swap: inverse swaps are not supported (give contracts)");
    BAD_SIZE(QUOTE(inv, "1000", "50000"), AT_EINVAL,
             "BTC-USD-SWAP is an inverse swap: inverse swaps are not supported (give contracts)");

    /* Overflow is an error, never a wrapped size. */
    {
        at_dec out = {-1, 0};
        char why[256];
        int rc = okx_size_from_quote(btc, H, D("9223372036854775807"), D("0.000000000000000001"),
                                     &out, why, sizeof why);
        assert_int_equal(rc, AT_ERANGE);
        assert_string_equal(why, "9223372036854775807 USDT at price 0.000000000000000001 does not "
                                 "fit as contracts of BTC-USDT-SWAP");
        assert_int_equal(out.m, -1);
    }
    /* Huge but representable quantities work at a coarser intermediate scale. */
    OK_SIZE(BASE(get(fx->modern, "DOGE"), "5000000000000"), "5000000000");

    at_dec out;
    assert_int_equal(okx_size_from_contracts(NULL, H, D("1"), &out, NULL, 0), AT_EINVAL);
    assert_int_equal(okx_size_from_base(btc, H, D("1"), NULL, NULL, 0), AT_EINVAL);
}

/* Rounding never increases a size: result <= input, input - result < lotSz,
 * and the result is a multiple of lotSz; in notional terms the order is never
 * worth more than asked for. */
static void test_never_rounds_up(void **state)
{
    fixture *fx = *state;
    const okx_inst *doge = get(fx->modern, "DOGE");
    const okx_inst *btc = get(fx->modern, "BTC");
    for (int64_t k = 10; k <= 5000; k += 7) {
        at_dec in = {k, 3}, out, diff, r;
        assert_int_equal(okx_size_from_contracts(btc, H, in, &out, NULL, 0), AT_OK);
        assert_true(H->dec_cmp(out, in) <= 0);
        assert_int_equal(H->dec_sub(in, out, &diff), AT_OK);
        assert_true(H->dec_cmp(diff, btc->lot_sz) < 0);
        assert_int_equal(H->dec_round_step(out, btc->lot_sz, AT_ROUND_DOWN, &r), AT_OK);
        assert_int_equal(H->dec_cmp(r, out), 0);

        /* notional k/10 USDT at DOGE 0.1234: contracts × price × ctVal <= notional. */
        at_dec notional = {k, 1}, px = {1234, 4}, worth, per;
        if (okx_size_from_quote(doge, H, notional, px, &out, NULL, 0) == AT_OK) {
            assert_int_equal(H->dec_mul(px, doge->ct_val, &per), AT_OK);
            assert_int_equal(H->dec_mul(out, per, &worth), AT_OK);
            assert_true(H->dec_cmp(worth, notional) <= 0);
            /* …and one more lot would be worth more than asked for. */
            at_dec next, next_worth;
            assert_int_equal(H->dec_add(out, doge->lot_sz, &next), AT_OK);
            assert_int_equal(H->dec_mul(next, per, &next_worth), AT_OK);
            assert_true(H->dec_cmp(next_worth, notional) > 0);
        }
    }
}

static void test_max_size(void **state)
{
    fixture *fx = *state;
    const okx_inst *btc = get(fx->sample, "BTC");
    char why[256];
    assert_int_equal(okx_size_check_max(btc, H, D("1600"), true, why, sizeof why), AT_OK);
    assert_string_equal(why, "");
    assert_int_equal(okx_size_check_max(btc, H, D("1601"), true, why, sizeof why), AT_ERANGE);
    assert_string_equal(why,
                        "1601 contracts exceeds maxMktSz 1600 for BTC-USDT-SWAP (market order)");
    assert_int_equal(okx_size_check_max(btc, H, D("1601"), false, why, sizeof why), AT_OK);
    assert_int_equal(okx_size_check_max(btc, H, D("100000001"), false, why, sizeof why), AT_ERANGE);
    assert_string_equal(why,
                        "100000001 contracts exceeds maxLmtSz 100000000 for BTC-USDT-SWAP (limit "
                        "order)");
    /* Unknown maximum: nothing to check against. */
    const okx_inst *usdc = get(fx->modern, "BTC-USDC-SWAP");
    assert_int_equal(okx_size_check_max(usdc, H, D("99999999999"), true, why, sizeof why), AT_OK);
}

/* ---- prices and formatting ---------------------------------------- */

static void expect_px(const okx_inst *in, const char *px, at_round mode, const char *want)
{
    at_dec out;
    int rc = okx_price_round(in, H, D(px), mode, &out);
    if (rc != AT_OK) {
        fail_msg("round(%s, mode %d) = %d", px, (int)mode, rc);
    }
    expect_str(out, want);
    assert_int_equal(out.scale, in->tick_sz.scale);
}

static void test_price_round(void **state)
{
    fixture *fx = *state;
    const okx_inst *btc = get(fx->modern, "BTC"); /* tick 0.1 */
    expect_px(btc, "50000.07", AT_ROUND_DOWN, "50000");
    expect_px(btc, "50000.07", AT_ROUND_FLOOR, "50000");
    expect_px(btc, "50000.07", AT_ROUND_UP, "50000.1");
    expect_px(btc, "50000.07", AT_ROUND_CEIL, "50000.1");
    expect_px(btc, "50000.07", AT_ROUND_HALF_EVEN, "50000.1");
    expect_px(btc, "50000.03", AT_ROUND_HALF_EVEN, "50000");
    expect_px(btc, "50000.05", AT_ROUND_HALF_EVEN, "50000"); /* tie → even */
    expect_px(btc, "50000.15", AT_ROUND_HALF_EVEN, "50000.2");
    for (int m = 0; m < 5; m++) {
        expect_px(btc, "50000.1", (at_round)m, "50000.1"); /* on tick: unchanged */
    }
    const okx_inst *doge = get(fx->modern, "DOGE"); /* tick 0.00001 */
    expect_px(doge, "0.1234567", AT_ROUND_FLOOR, "0.12345");
    expect_px(doge, "0.1234567", AT_ROUND_CEIL, "0.12346");
    expect_px(doge, "0.123454", AT_ROUND_HALF_EVEN, "0.12345");
    expect_px(doge, "0.15", AT_ROUND_UP, "0.15");
    expect_px(get(fx->sample, "DOGE"), "0.1234567", AT_ROUND_DOWN, "0.123456");
    expect_px(get(fx->modern, "ETH"), "3000.125", AT_ROUND_UP, "3000.13");

    at_dec out;
    assert_int_equal(okx_price_round(btc, H, D("0"), AT_ROUND_UP, &out), AT_EINVAL);
    assert_int_equal(okx_price_round(btc, H, D("-1"), AT_ROUND_UP, &out), AT_EINVAL);
    assert_int_equal(okx_price_round(btc, H, D("0.05"), AT_ROUND_DOWN, &out), AT_ERANGE);
    expect_px(btc, "0.05", AT_ROUND_UP, "0.1");
}

static void test_fmt(void **state)
{
    (void)state;
    static const struct {
        at_dec d;
        const char *want;
    } cases[] = {
        {{1, 5}, "0.00001"},
        {{1, 8}, "0.00000001"},
        {{3330, 3}, "3.33"},
        {{500, 2}, "5"},
        {{1000, 0}, "1000"},
        {{0, 4}, "0"},
        {{-25, 1}, "-2.5"},
        {{500000, 1}, "50000"},
        {{1, 18}, "0.000000000000000001"},
        {{100000000, 0}, "100000000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[AT_DEC_STRLEN];
        int n = okx_fmt(H, cases[i].d, buf);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, (int)strlen(cases[i].want));
        assert_null(strchr(buf, 'e'));
    }
    /* What the parser reads as 1e-05 goes out without an exponent. */
    expect_str(D("1e-05"), "0.00001");
    char buf[AT_DEC_STRLEN];
    assert_true(okx_fmt(H, (at_dec){1, 99}, buf) < 0);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_sample),
        cmocka_unit_test(test_load_modern_fields),
        cmocka_unit_test(test_ct_type_derived),
        cmocka_unit_test(test_load_malformed),
        cmocka_unit_test(test_bad_row_skipped),
        cmocka_unit_test(test_reload_replaces),
        cmocka_unit_test(test_find_forms),
        cmocka_unit_test(test_to_ccxt),
        cmocka_unit_test(test_doge),
        cmocka_unit_test(test_btc_eth_sol),
        cmocka_unit_test(test_sizing_errors),
        cmocka_unit_test(test_never_rounds_up),
        cmocka_unit_test(test_max_size),
        cmocka_unit_test(test_price_round),
        cmocka_unit_test(test_fmt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* check_config of exchange_okx and exchange_paper (ABI 1.3): everything
 * init()/start() would refuse from the config alone is refused here, with
 * the key and the reason, so `aitrader check-config` refuses what `run`
 * would. The plugins are the built .so files; each section is written into
 * the plugin's context by the engine's own config code (conf_apply), as
 * check-config and run do. init refuses the same configs (one path). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

#include "conf.h"
#include "engine.h"

typedef struct plug {
    void *so;
    const at_plugin *p;
} plug;

static plug OKX, PAPER;

static int load(plug *pl, const char *file)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", AT_BUILD_PLUGIN_DIR, file);
    pl->so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!pl->so) {
        fprintf(stderr, "cannot load %s: %s (build the plugins first)\n", path, dlerror());
        return -1;
    }
    at_plugin_entry_fn entry = (at_plugin_entry_fn)(uintptr_t)dlsym(pl->so, AT_PLUGIN_ENTRY_SYMBOL);
    pl->p = entry ? entry() : NULL;
    return pl->p && pl->p->struct_size >= offsetof(at_plugin, check_config) + sizeof(void *) &&
                   pl->p->check_config
               ? 0
               : -1;
}

static int group_setup(void **state)
{
    (void)state;
    setenv("OKX_T_KEY", "key-1", 1);
    setenv("OKX_T_SECRET", "secret-1", 1);
    setenv("OKX_T_PASS", "pass-1", 1);
    return load(&OKX, "exchange_okx.so") || load(&PAPER, "exchange_paper.so") ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    dlclose(OKX.so);
    dlclose(PAPER.so);
    return 0;
}

typedef struct result {
    int rc;
    char key[64];
    char why[512];
    int init_rc; /* init() on the same config */
} result;

static const char *m_name(const at_instance *inst)
{
    (void)inst;
    return "exchange.t";
}

static void m_log(const at_instance *inst, at_log_level level, const char *fmt, ...)
{
    (void)inst;
    (void)level;
    (void)fmt;
}

/* Section `body` of plugin pl through conf_apply, then check_config (and
 * init on a second copy, whose result must agree). */
static result check(const plug *pl, const char *body)
{
    result r = {.rc = 99};
    char text[4096];
    snprintf(text, sizeof(text), "[exchange.t]\n%s\n", body);
    conf_errors errs = {0};
    conf_file *f = conf_load_string("t.ini", text, &errs);
    assert_non_null(f);
    static const char *const ignore[] = {"module", "enabled", NULL};
    void *ctx = calloc(1, pl->p->ctx_size);
    conf_owned *owned = NULL;
    int n = conf_apply("t.ini", "exchange.t", conf_section_get(f, "exchange.t"), pl->p->config,
                       ignore, ctx, &owned, &errs);
    for (size_t i = 0; i < errs.n; i++) {
        printf("# schema: %s\n", errs.msgs[i]);
    }
    assert_int_equal(n, 0); /* the schema accepts it: what follows is check_config's */
    const char *key = NULL;
    r.rc = pl->p->check_config(ctx, &key, r.why, sizeof(r.why));
    snprintf(r.key, sizeof(r.key), "%s", key ? key : "");
    char shown[1024];
    size_t k = 0;
    for (const char *q = body; *q && k + 3 < sizeof(shown); q++) {
        k += (size_t)snprintf(shown + k, sizeof(shown) - k, "%s",
                              *q == '\n' ? "; " : (char[2]){*q, 0});
    }
    shown[k] = '\0';
    printf("# [%s] -> %d %s: %s\n", shown, r.rc, r.key, r.why);

    /* init on the same values: it refuses exactly what check_config does */
    at_host host = *engine_host();
    host.instance_name = m_name;
    host.log = m_log;
    r.init_rc = pl->p->init(NULL, &host, ctx);
    pl->p->destroy(ctx);
    free(ctx);
    conf_owned_free(owned);
    conf_free(f);
    conf_errors_free(&errs);
    assert_int_equal(r.init_rc, r.rc);
    return r;
}

static void ok(const plug *pl, const char *body)
{
    result r = check(pl, body);
    if (r.rc != AT_OK) {
        fail_msg("refused: %s: %s (config: %s)", r.key, r.why, body);
    }
}

static void refused(const plug *pl, const char *body, const char *key, const char *why)
{
    result r = check(pl, body);
    assert_int_equal(r.rc, AT_ECONFIG);
    assert_string_equal(r.key, key);
    if (!strstr(r.why, why)) {
        fail_msg("reason '%s' lacks '%s'", r.why, why);
    }
}

#define KEYS "api_key = env:OKX_T_KEY\nsecret_key = env:OKX_T_SECRET\npassphrase = env:OKX_T_PASS\n"

/* ------------------------------------------------------------ exchange_okx */

static void test_okx_defaults_and_good_configs(void **state)
{
    (void)state;
    ok(&OKX, "");
    ok(&OKX, KEYS);
    ok(&OKX, KEYS "demo = true");
    ok(&OKX, KEYS "rest_url = http://127.0.0.1:8080\nws_private_url = ws://127.0.0.1:8080/ws/v5/"
                  "private\nws_public_url = ws://localhost:9/ws\nws_business_url = "
                  "ws://[::1]:9/ws");
    ok(&OKX, "rest_url = https://www.okx.com/\nws_public_url = wss://ws.okx.com:8443/ws/v5/public");
    ok(&OKX, "demo = true\nws_public_url = wss://wspap.okx.com:8443/ws/v5/public?brokerId=9999");
    ok(&OKX, "instruments = btc, ETH/USDT:USDT, SOL-USDT-SWAP, DOGE-USDT, XRP/USDT, 1000SHIB");
    ok(&OKX, "candles = 1m, 5m, 1H, 4H, 1D, 1Dutc, 1W");
    ok(&OKX, "candles =");
    ok(&OKX, "replay = /nowhere/rec.txt\ninstruments_file = /nowhere/i.json");
    ok(&OKX, "record = /nowhere/rec.txt");
}

static void test_okx_credentials_go_together(void **state)
{
    (void)state;
    refused(&OKX, "api_key = env:OKX_T_KEY", "api_key",
            "api_key, secret_key and passphrase go together: set all three or none "
            "(secret_key, passphrase missing or empty)");
    refused(&OKX, "api_key = env:OKX_T_KEY\nsecret_key = env:OKX_T_SECRET", "api_key",
            "(passphrase missing or empty)");
    refused(&OKX, "passphrase = env:OKX_T_PASS", "passphrase", "(api_key, secret_key missing");
    refused(&OKX, "secret_key = env:OKX_T_SECRET\npassphrase = env:OKX_T_PASS", "secret_key",
            "(api_key missing or empty)");
}

static void test_okx_urls(void **state)
{
    (void)state;
    refused(&OKX, "rest_url = ftp://www.okx.com", "rest_url",
            "'ftp://www.okx.com' is not a https:// or http:// URL");
    refused(&OKX, "rest_url =", "rest_url", "'' is not a https:// or http:// URL");
    refused(&OKX, "rest_url = https://", "rest_url", "no host");
    refused(&OKX, "rest_url = https://www.okx.com:0", "rest_url", "the port must be 1 to 65535");
    refused(&OKX, "rest_url = https://www.okx.com:70000", "rest_url", "the port must be 1 to");
    refused(&OKX, "rest_url = https://user@www.okx.com", "rest_url", "user info");
    refused(&OKX, "rest_url = https://www.okx.com?a=1", "rest_url", "without a query");
    refused(&OKX, "rest_url = https://www.okx.com/a b", "rest_url", "blanks");
    refused(&OKX, KEYS "rest_url = http://www.okx.com", "rest_url",
            "http:// would send the API key and passphrase unencrypted to www.okx.com");
    refused(&OKX, "ws_public_url = https://ws.okx.com:8443/ws/v5/public", "ws_public_url",
            "is not a wss:// or ws:// URL");
    refused(&OKX, "ws_business_url = wss://", "ws_business_url", "no host");
    refused(&OKX, KEYS "ws_private_url = ws://10.1.2.3:8080/ws/v5/private", "ws_private_url",
            "ws:// would send the API key and passphrase unencrypted to 10.1.2.3");
}

/* okx-sim on another machine has no TLS: plain http/ws to a host that is
 * not loopback is allowed for demo keys (okx-sim accounts are demo), still
 * refused for live keys, and the reason says both. */
static void test_okx_plain_urls_for_demo(void **state)
{
    (void)state;
    ok(&OKX,
       KEYS "demo = true\nrest_url = http://10.1.2.3:8080\nws_private_url = "
            "ws://10.1.2.3:8080/ws/v5/private\nws_public_url = ws://sim.lan:8080/ws/v5/public");
    refused(&OKX, KEYS "rest_url = http://10.1.2.3:8080", "rest_url",
            "use https:// (plain http only to a loopback address, or with demo = true, e.g. "
            "okx-sim on another machine)");
    refused(&OKX, KEYS "demo = false\nws_private_url = ws://10.1.2.3:8080/ws/v5/private",
            "ws_private_url",
            "use wss:// (plain ws only to a loopback address, or with demo = true, e.g. okx-sim "
            "on another machine)");
}

/* A URL echoed in a reason never shows its user info (a password): what
 * stands before the '@' is cut, whatever the error is about. */
static void test_okx_url_user_info_not_echoed(void **state)
{
    (void)state;
    static const struct {
        const char *body, *key, *why;
    } cases[] = {
        {"rest_url = https://trader:s3cretpw@www.okx.com", "rest_url", "user info"},
        {"rest_url = ftp://trader:s3cretpw@www.okx.com", "rest_url", "is not a https:// or"},
        {"rest_url = https://trader:s3cretpw@www.okx.com:0", "rest_url", "user info"},
        {"rest_url = https://trader:s3/cretpw@www.okx.com?a=1", "rest_url", "user info"},
        {"rest_url = https://www.okx.com?a=trader:s3cretpw@x", "rest_url", "without a query"},
        {"ws_public_url = wss://trader:s3cretpw@ws.okx.com/ws", "ws_public_url", "user info"},
        {"ws_business_url = https://trader:s3cretpw@ws.okx.com/ws", "ws_business_url",
         "is not a wss:// or ws:// URL"},
        {"rest_url = https://trader:s3cret pw@www.okx.com", "rest_url", "blanks"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result r = check(&OKX, cases[i].body);
        assert_int_equal(r.rc, AT_ECONFIG);
        assert_string_equal(r.key, cases[i].key);
        if (!strstr(r.why, cases[i].why)) {
            fail_msg("reason '%s' lacks '%s'", r.why, cases[i].why);
        }
        if (strstr(r.why, "s3") || strstr(r.why, "cretpw") || strstr(r.why, "trader")) {
            fail_msg("reason echoes the user info: %s", r.why);
        }
    }
}

static void test_okx_demo_against_hosts(void **state)
{
    (void)state;
    refused(&OKX, "ws_public_url = wss://wspap.okx.com:8443/ws/v5/public", "ws_public_url",
            "wspap.okx.com is OKX's demo host but demo = false");
    refused(&OKX, "demo = true\nws_private_url = wss://ws.okx.com:8443/ws/v5/private",
            "ws_private_url", "ws.okx.com is OKX's live host but demo = true");
}

static void test_okx_replay_combinations(void **state)
{
    (void)state;
    refused(&OKX, KEYS "replay = /r.txt", "replay",
            "a replay never reaches OKX: remove the API keys from this instance");
    refused(&OKX, "replay = /r.txt\nrecord = /again.txt", "record",
            "a replay records nothing: remove record from this instance");
    refused(&OKX, "replay_account = true", "replay_account",
            "replay_account plays a recording's account: set replay = FILE");
    refused(&OKX, "replay = /r.txt\nreplay_account = true", "replay_account",
            "replay_account answers at the recorded times: set replay_at = recorded");
    ok(&OKX, "replay = /r.txt\nreplay_at = recorded\nreplay_account = true");
    refused(&OKX, "replay =", "replay", "empty path");
    refused(&OKX, "instruments_file =", "instruments_file", "empty path");
    refused(&OKX, "record = /x.json\ninstruments_file = /x.json", "record",
            "is the instruments_file");
    /* replay_at = recorded: frames at their recorded times, so no speed */
    ok(&OKX, "replay = /r.txt\nreplay_at = recorded");
    ok(&OKX, "replay = /r.txt\nreplay_at = recorded\nreplay_speed = 1");
    ok(&OKX, "replay = /r.txt\nreplay_at = start\nreplay_speed = 0");
    refused(&OKX, "replay = /r.txt\nreplay_at = recorded\nreplay_speed = 0", "replay_speed",
            "replay_at = recorded plays each frame at its recorded time: replay_speed must be 1");
    refused(&OKX, "replay = /r.txt\nreplay_at = recorded\nreplay_speed = 10", "replay_speed",
            "replay_speed must be 1");
    refused(&OKX, "replay_at = recorded", "replay_at",
            "replay_at = recorded times a replay: set replay = FILE or remove replay_at");
}

static void test_okx_lists(void **state)
{
    (void)state;
    refused(&OKX, "instruments = BTC USDT", "instruments",
            "'BTC USDT' is not an instrument: write an instId (BTC-USDT-SWAP), a ccxt symbol "
            "(BTC/USDT:USDT) or a coin (BTC)");
    refused(&OKX, "instruments = BTC, BTC-USDT-250328", "instruments",
            "'BTC-USDT-250328' is not a perpetual swap");
    refused(&OKX, "instruments = BTC/USDT:", "instruments", "is not an instrument");
    refused(&OKX, "instruments = BTC-USDT-SWAP-X", "instruments", "is not an instrument");
    refused(&OKX, "instruments = /USDT", "instruments", "is not an instrument");
    char many[1024] = "instruments = ";
    for (int i = 0; i < 33; i++) {
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sC%d", i ? ", " : "", i);
    }
    refused(&OKX, many, "instruments", "33 instruments: one instance follows at most 32");
    refused(&OKX, "candles = 1m, 1h", "candles", "'1h' is not an OKX bar");
    refused(&OKX, "candles = 7m", "candles", "'7m' is not an OKX bar");
}

/* ------------------------------------------------------------ exchange_paper */

static void test_paper_good(void **state)
{
    (void)state;
    ok(&PAPER, "");
    ok(&PAPER, "market = exchange.okx_data\nbalance = 5000.5\nmaker_fee = -0.0001\ntaker_fee = "
               "0.00055\ninstruments = BTC, ETH");
    ok(&PAPER, "balance = 0");
}

static void test_paper_refused(void **state)
{
    (void)state;
    refused(&PAPER, "balance = abc", "balance",
            "'abc' is not a USDT balance: a decimal from 0 to below 10000000000 with at most 8 "
            "decimals");
    refused(&PAPER, "balance = -1", "balance", "is not a USDT balance");
    refused(&PAPER, "balance = 0.123456789", "balance", "is not a USDT balance");
    refused(&PAPER, "balance = 10000000000", "balance", "is not a USDT balance");
    refused(&PAPER, "maker_fee = 0.0000001", "maker_fee", "a fee rate has at most 6 decimals");
    refused(&PAPER, "taker_fee = 0.00012345", "taker_fee", "a fee rate has at most 6 decimals");
    refused(&PAPER, "market = okx_data", "market",
            "'okx_data' is not an instance name: write it as in its section header, e.g. "
            "exchange.okx_data");
    refused(&PAPER, "market = exchange.", "market", "is not an instance name");
    /* the part shared with exchange_okx */
    refused(&PAPER, "instruments = BTC USDT", "instruments", "is not an instrument");
    refused(&PAPER, "rest_url = www.okx.com", "rest_url", "is not a https:// or http:// URL");
    refused(&PAPER, "instruments_file =", "instruments_file", "empty path");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_okx_defaults_and_good_configs),
        cmocka_unit_test(test_okx_credentials_go_together),
        cmocka_unit_test(test_okx_urls),
        cmocka_unit_test(test_okx_plain_urls_for_demo),
        cmocka_unit_test(test_okx_url_user_info_not_echoed),
        cmocka_unit_test(test_okx_demo_against_hosts),
        cmocka_unit_test(test_okx_replay_combinations),
        cmocka_unit_test(test_okx_lists),
        cmocka_unit_test(test_paper_good),
        cmocka_unit_test(test_paper_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

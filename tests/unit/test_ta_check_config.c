/* indicator_ta's check_config (ABI 1.3), called directly on a context the
 * test fills through the plugin's schema, as the engine does: every value
 * init would refuse is refused there first, with the key and the reason, and
 * init (sharing the parser) refuses exactly the same configs. */
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

#include "harness.h"

static const at_plugin *plugin;
static void *dl;
static harness *hh; /* a host for init */

static int setup(void **state)
{
    (void)state;
    dl = dlopen(AT_TEST_BINARY_DIR "/plugins/indicator_ta.so", RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "%s\n", dlerror());
        return -1;
    }
    union { /* dlsym returns a data pointer: converted through a union, as the loader does */
        void *obj;
        at_plugin_entry_fn fn;
    } entry;
    entry.obj = dlsym(dl, AT_PLUGIN_ENTRY_SYMBOL);
    plugin = entry.obj ? entry.fn() : NULL;
    hh = harness_new("");
    return plugin && plugin->check_config && hh ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    harness_free(hh);
    dlclose(dl);
    return 0;
}

/* ---- a context filled from the schema: defaults, or the given values ---- */

#define MAX_ITEMS 48

typedef struct filled {
    unsigned char *ctx;
    char text[8][2048];              /* list values, split in place */
    const char *items[8][MAX_ITEMS]; /* their items */
} filled;

static const char *value_of(const char *key, const char *const *kv)
{
    for (; kv && kv[0]; kv += 2) {
        if (strcmp(kv[0], key) == 0) {
            return kv[1];
        }
    }
    return NULL;
}

/* kv: {"key", "value", ..., NULL}; values as written in modules.ini. */
static void fill(filled *f, const char *const *kv)
{
    memset(f, 0, sizeof(*f));
    f->ctx = calloc(1, plugin->ctx_size);
    assert_non_null(f->ctx);
    int nlist = 0;
    for (const at_cfg_field *fd = plugin->config; fd->name; fd++) {
        const char *v = value_of(fd->name, kv);
        v = v ? v : fd->def;
        unsigned char *at = f->ctx + fd->offset;
        switch (fd->type) {
        case AT_CFG_INT: {
            int64_t x = v ? strtoll(v, NULL, 10) : 0;
            memcpy(at, &x, sizeof(x));
            break;
        }
        case AT_CFG_STR: {
            memcpy(at, &v, sizeof(v));
            break;
        }
        case AT_CFG_LIST: {
            assert_true(nlist < 8);
            at_cfg_list l = {0, f->items[nlist]};
            char *s = f->text[nlist];
            snprintf(s, sizeof(f->text[0]), "%s", v ? v : "");
            for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
                while (*tok == ' ') {
                    tok++;
                }
                size_t n = strlen(tok);
                while (n && tok[n - 1] == ' ') {
                    tok[--n] = '\0';
                }
                if (n) {
                    assert_true(l.n < MAX_ITEMS);
                    f->items[nlist][l.n++] = tok;
                }
            }
            memcpy(at, &l, sizeof(l));
            nlist++;
            break;
        }
        default:
            fail_msg("field %s: type %d not handled by the test", fd->name, fd->type);
        }
    }
}

/* check_config's verdict; then init on a copy must agree (same parser). */
static int check(const char *const *kv, const char **key, char *why, size_t whylen)
{
    filled f;
    fill(&f, kv);
    unsigned char *before = malloc(plugin->ctx_size);
    assert_non_null(before);
    memcpy(before, f.ctx, plugin->ctx_size);
    *key = "(unset)";
    why[0] = '\0';
    int rc = plugin->check_config(f.ctx, key, why, whylen);
    assert_memory_equal(before, f.ctx, plugin->ctx_size); /* const: the context is left alone */
    int irc = plugin->init(harness_inst(hh), harness_host(hh), f.ctx);
    plugin->destroy(f.ctx);
    if (irc != rc) {
        fail_msg("check_config says %d ('%s'), init says %d", rc, why, irc);
    }
    free(before);
    free(f.ctx);
    return rc;
}

static void accepted(const char *const *kv)
{
    const char *key;
    char why[512];
    if (check(kv, &key, why, sizeof(why)) != AT_OK) {
        fail_msg("refused: %s: %s", key, why);
    }
}

static void refused(const char *const *kv, const char *want_key, const char *want_why)
{
    const char *key;
    char why[512];
    assert_int_equal(check(kv, &key, why, sizeof(why)), AT_ECONFIG);
    assert_non_null(key);
    assert_string_equal(key, want_key);
    if (strncmp(why, want_why, strlen(want_why)) != 0) {
        fail_msg("why '%s', want it to start with '%s'", why, want_why);
    }
}

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_defaults_and_good_values(void **state)
{
    (void)state;
    accepted(NULL);
    accepted(KV("signals", "none"));
    accepted(KV("signals", "rsi14>70/65, rsi14<30/35, |chg_5m|>0.01/0.008, vol_ratio>3/2, "
                           "macd_hist>0/0, obi5<-0.6/-0.4, BTC-USDT-SWAP:rsi14>75/70"));
    accepted(KV("book_depth", "10", "signals", "obi10>0.5/0.4"));
    accepted(KV("instruments", "BTC-USDT-SWAP, ETH-USDT-SWAP", "signals",
                "ETH-USDT-SWAP:|chg_5m|>0.02/0.015"));
    accepted(KV("bars", "1m, 3m, 5m, 15m, 30m, 1h, 4h, 1d"));
}

/* The case from the hostile-input probe: check-config said OK, run failed
 * with exit 1 and no FILE:LINE. */
static void test_signal_syntax(void **state)
{
    (void)state;
    refused(KV("signals", "rsi14>>70/"), "signals",
            "'rsi14>>70/': expected a number after the comparison");
    refused(KV("signals", "rsi14>70"), "signals", "'rsi14>70': missing exit level");
    refused(KV("signals", "rsi14>65/70"), "signals",
            "'rsi14>65/70': exit level 70 must not be above the enter level 65");
    refused(KV("signals", "rsi14>70/65, rsi14>80/75"), "signals",
            "'rsi14>80/75': same indicator and comparison as an earlier rule");
    refused(KV("signals", "none, rsi14>70/65"), "signals",
            "'none': expected '>' or '<' after none");
    char many[2048] = "";
    for (int i = 0; i < 33; i++) {
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sI%d:rsi14>70/65",
                 i ? ", " : "", i);
    }
    refused(KV("signals", many), "signals", "'I32:rsi14>70/65': more than 32 rules");
}

/* Rules on values the plugin does not publish, or for instruments it does not
 * follow, would never fire: refused rather than silently idle. */
static void test_signal_targets(void **state)
{
    (void)state;
    refused(KV("signals", "rsi15>70/65"), "signals",
            "'rsi15>70/65': no indicator rsi15 (there are: close, ema12, ema26, rsi14, macd, "
            "macd_signal, macd_hist, bb_upper, bb_mid, bb_lower, atr14, vol_rv, chg_5m, chg_15m, "
            "chg_1h, chg_4h, chg_24h, vol_ratio, obi5, microprice, funding, funding_chg)");
    refused(KV("book_depth", "10", "signals", "obi5<-0.6/-0.4"), "signals",
            "'obi5<-0.6/-0.4': no indicator obi5 (there are: ");
    refused(KV("instruments", "BTC-USDT-SWAP", "signals", "ETH-USDT-SWAP:rsi14>75/70"), "signals",
            "'ETH-USDT-SWAP:rsi14>75/70': ETH-USDT-SWAP is not in instruments");
}

static void test_bars(void **state)
{
    (void)state;
    refused(KV("bars", "1m, 7m"), "bars",
            "'7m' is not a bar (1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d: whole minutes that divide a "
            "day)");
    refused(KV("bars", "5m, 5M"), "bars", "'5M' given twice");
    refused(KV("bars", "1h, 60m"), "bars", "'60m' given twice");
    refused(KV("bars", "1m, 2m, 3m, 4m, 5m, 6m, 8m, 9m, 10m"), "bars", "at most 8 bar sizes");
    refused(KV("bars", ""), "bars", "no bar size given");
    refused(KV("bars", "0m"), "bars", "'0m' is not a bar");
}

static void test_instruments(void **state)
{
    (void)state;
    refused(KV("instruments", "all, BTC-USDT-SWAP"), "instruments",
            "'all' stands alone: all, or a list of instruments");
    refused(KV("instruments", "BTC-USDT-SWAP, ETH USDT"), "instruments",
            "'ETH USDT' is not an instrument id (1 to 63 printable ASCII characters, no blanks)");
    char longid[80];
    memset(longid, 'X', 64);
    longid[64] = '\0';
    refused(KV("instruments", longid), "instruments", "'XXXX");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_good_values),
        cmocka_unit_test(test_signal_syntax),
        cmocka_unit_test(test_signal_targets),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_instruments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

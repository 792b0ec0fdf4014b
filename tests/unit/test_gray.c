/* Gray release (core/trading/gray.c): the live_weight rules (first match by
 * symbol and UTC hour window, wrapping midnight), refusals naming the rule,
 * the deterministic draw (a SHA-256 vector any language can recompute; a
 * weight of 0.3 sends about 30 % of 1,000 seeded decisions live, the same
 * seed the same ones), and the trader keys checked by the engine's config
 * (errors at FILE:LINE naming the key). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "trading/gray.h"

static int parse(const char *const *items, size_t n, gray_rules *g, char *why)
{
    return gray_parse(items, n, g, why, 256);
}

static void test_rules_first_match(void **state)
{
    const char *items[] = {"*@22-06:0", "BTC-USDT-SWAP:0.3", "1"};
    gray_rules g;
    char why[256] = "";
    assert_int_equal(parse(items, 3, &g, why), 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.r[0].symbol, "");
    assert_int_equal(g.r[0].from_h, 22);
    assert_int_equal(g.r[0].to_h, 6);
    assert_true(g.r[1].weight == 0.3);
    assert_int_equal(g.r[1].from_h, -1);
    /* the night window wraps midnight: 22:00 to 05:59 */
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 22) == 0);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 23) == 0);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 0) == 0);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 5) == 0);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 6) == 0.3);
    assert_true(gray_weight(&g, "btc-usdt-swap", 12) == 0.3);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 21) == 0.3);
    assert_true(gray_weight(&g, "ETH-USDT-SWAP", 12) == 1);
    assert_true(gray_weight(&g, "ETH-USDT-SWAP", 3) == 0);
    assert_int_equal(gray_match(&g, "ETH-USDT-SWAP", 12), 2);
    char text[64];
    gray_rule_text(&g.r[0], text, sizeof(text));
    assert_string_equal(text, "*@22-06:0");
    gray_rule_text(&g.r[1], text, sizeof(text));
    assert_string_equal(text, "BTC-USDT-SWAP:0.3");

    /* no rule, or none matching: live */
    assert_true(gray_weight(NULL, "BTC-USDT-SWAP", 3) == 1);
    const char *day[] = {"BTC-USDT-SWAP@09-17:0.5", "@17-9:0.25", "@12-24:0.75"};
    assert_int_equal(parse(day, 3, &g, why), 0);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 9) == 0.5);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 16) == 0.5);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 17) == 0.25);
    assert_true(gray_weight(&g, "SOL-USDT-SWAP", 8) == 0.25);
    assert_true(gray_weight(&g, "SOL-USDT-SWAP", 9) == 1);
    assert_true(gray_weight(&g, "SOL-USDT-SWAP", 12) == 0.75);
    assert_true(gray_weight(&g, "SOL-USDT-SWAP", 23) == 0.25);
    const char *single[] = {"ETH-USDT-SWAP:0"};
    assert_int_equal(parse(single, 1, &g, why), 0);
    assert_true(gray_weight(&g, "BTC-USDT-SWAP", 8) == 1);
    assert_int_equal(gray_match(&g, "BTC-USDT-SWAP", 8), -1);
    /* nothing before ':' is every symbol; spaces around ':' are allowed */
    const char *loose[] = {":0.5", "BTC-USDT-SWAP : 0.25", "*@01-02 :0"};
    assert_int_equal(parse(loose, 3, &g, why), 0);
    assert_string_equal(g.r[0].symbol, "");
    assert_true(gray_weight(&g, "SOL-USDT-SWAP", 8) == 0.5);
    assert_string_equal(g.r[1].symbol, "BTC-USDT-SWAP");
    assert_true(g.r[1].weight == 0.25);
    assert_int_equal(g.r[2].from_h, 1);
    assert_int_equal(g.r[2].to_h, 2);
    gray_rule_text(&g.r[0], text, sizeof(text));
    assert_string_equal(text, "*:0.5");
    /* written back as parsed, and the text parses to the same rule (%g
     * wrote 1e-05, which the parser refuses) */
    const char *tiny[] = {"BTC-USDT-SWAP@22-06:0.00001"};
    assert_int_equal(parse(tiny, 1, &g, why), 0);
    gray_rule_text(&g.r[0], text, sizeof(text));
    assert_string_equal(text, "BTC-USDT-SWAP@22-06:0.00001");
    gray_rules again;
    const char *back[] = {text};
    assert_int_equal(parse(back, 1, &again, why), 0);
    assert_true(again.r[0].weight == g.r[0].weight);
    assert_int_equal(gray_hour(1767225600000LL + 23 * 3600000LL + 59 * 60000LL), 23);
    assert_int_equal(gray_hour(1767225600000LL + 24 * 3600000LL), 0);
}

static void bad(const char *item, const char *frag)
{
    gray_rules g;
    char why[256] = "";
    const char *items[] = {"1", item};
    assert_int_equal(parse(items, 2, &g, why), -1);
    if (!strstr(why, frag) || strncmp(why, "rule 2 '", 8) != 0) {
        fail_msg("'%s': got \"%s\", want \"rule 2 '...%s\"", item, why, frag);
    }
}

static void test_rules_refused(void **state)
{
    bad("1.5", "the weight must be a number from 0 to 1");
    bad("-0.1", "the weight must be a number from 0 to 1");
    bad("lots", "the weight must be a number from 0 to 1");
    bad("0x1", "the weight must be a number from 0 to 1");
    bad("1e-1", "the weight must be a number from 0 to 1");
    bad("BTC-USDT-SWAP:", "the weight must be a number from 0 to 1");
    bad("0.12345678901234567890", "at most 19 characters");
    bad("BTC USDT:0.5", "a symbol is an instId");
    bad("@25-03:0.5", "the window must be @HH-HH");
    bad("@22:0.5", "the window must be @HH-HH");
    bad("@2x-03:0.5", "the window must be @HH-HH");
    bad("*@123-1:0.5", "the window must be @HH-HH");
    bad("*@22-22:0", "the window is empty or the whole day");
    bad("*@0-0:0", "the window is empty or the whole day");
    const char *many[GRAY_MAX_RULES + 1];
    for (size_t i = 0; i <= GRAY_MAX_RULES; i++) {
        many[i] = "1";
    }
    gray_rules g;
    char why[256];
    assert_int_equal(parse(many, GRAY_MAX_RULES + 1, &g, why), -1);
    assert_non_null(strstr(why, "at most 32"));
}

static void test_draw(void **state)
{
    /* SHA-256("42|alpha|alpha:manual:1|BTC-USDT-SWAP"): first 8 bytes,
     * big-endian, >> 11, x 2^-53 (python's hashlib gives the same) */
    char s[64];
    snprintf(s, sizeof(s), "%.17g", gray_draw(42, "alpha", "alpha:manual:1", "BTC-USDT-SWAP"));
    assert_string_equal(s, "0.56558225359632963");
    snprintf(s, sizeof(s), "%.17g", gray_draw(0, "a", "b", "c"));
    assert_string_equal(s, "0.9667578167162526");

    /* 1,000 decisions at weight 0.3: about 30 % live; the same seed makes
     * the same choices, another seed others */
    bool first[1000];
    size_t live = 0, again = 0, same_other = 0;
    for (int i = 0; i < 1000; i++) {
        char id[64];
        snprintf(id, sizeof(id), "alpha:long:%d", i);
        double u = gray_draw(7, "alpha", id, "BTC-USDT-SWAP");
        assert_true(u >= 0 && u < 1);
        first[i] = u < 0.3;
        live += first[i];
    }
    assert_in_range(live, 250, 350);
    assert_int_equal(live, 293); /* the python recount of the same draw */
    for (int i = 0; i < 1000; i++) {
        char id[64];
        snprintf(id, sizeof(id), "alpha:long:%d", i);
        again += (gray_draw(7, "alpha", id, "BTC-USDT-SWAP") < 0.3) == first[i];
        same_other += (gray_draw(8, "alpha", id, "BTC-USDT-SWAP") < 0.3) == first[i];
    }
    assert_int_equal(again, 1000);
    assert_true(same_other < 1000);
    /* the symbol and the trader are part of the draw */
    assert_true(gray_draw(7, "alpha", "k", "BTC-USDT-SWAP") !=
                gray_draw(7, "alpha", "k", "ETH-USDT-SWAP"));
    assert_true(gray_draw(7, "alpha", "k", "BTC-USDT-SWAP") !=
                gray_draw(7, "beta", "k", "BTC-USDT-SWAP"));
}

/* ---- the trader keys in a config ----------------------------------------------- */

#define BIN AT_TEST_BINARY_DIR

static conf_errors load(const char *trader, char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/at-gray-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f,
            "[core]\n"                                     /* 1 */
            "plugin_dir = %s/plugins, %s/test-plugins\n"   /* 2 */
            "[ai.stub]\n"                                  /* 3 */
            "[exchange.paper]\n"                           /* 4 */
            "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP\n" /* 5 */
            "[exchange.paper_shadow]\n"                    /* 6 */
            "module = paper\n"                             /* 7 */
            "instruments = BTC\n"                          /* 8 */
            "[exchange.paper_both]\n"                      /* 9 */
            "module = paper\n"                             /* 10 */
            "instruments = BTC/USDT:USDT, eth-usdt\n"      /* 11 */
            "[trader.a]\n"                                 /* 12 */
            "ai = ai.stub\n"                               /* 13 */
            "account = exchange.paper\n"                   /* 14 */
            "%s",
            BIN, BIN, trader);
    fclose(f);
    engine_opts o = {.config_path = path};
    engine *e = engine_new(&o);
    conf_errors errs = {0};
    engine_load(e, &errs);
    engine_free(e);
    unlink(path);
    return errs;
}

static void expect(const char *trader, int line, const char *frag)
{
    char path[64];
    conf_errors errs = load(trader, path, sizeof(path));
    char prefix[600];
    snprintf(prefix, sizeof(prefix), "%s:%d: [trader.a] ", path, line);
    bool found = false;
    for (size_t i = 0; i < errs.n && !found; i++) {
        found = strncmp(errs.msgs[i], prefix, strlen(prefix)) == 0 && strstr(errs.msgs[i], frag);
    }
    if (!found || errs.n != 1) {
        for (size_t i = 0; i < errs.n; i++) {
            print_message("  got: %s\n", errs.msgs[i]);
        }
        conf_errors_free(&errs);
        fail_msg("want exactly \"%s...%s\"", prefix, frag);
    }
    conf_errors_free(&errs);
}

static void expect_ok(const char *trader)
{
    char path[64];
    conf_errors errs = load(trader, path, sizeof(path));
    for (size_t i = 0; i < errs.n; i++) {
        print_message("unexpected: %s\n", errs.msgs[i]);
    }
    assert_int_equal(errs.n, 0);
    conf_errors_free(&errs);
}

static void test_config_keys(void **state)
{
    expect_ok("symbols = BTC-USDT-SWAP, ETH-USDT-SWAP\n"
              "shadow_account = exchange.paper_both\n"
              "live_weight = *@22-06:0, BTC-USDT-SWAP:0.3, 1\n"
              "gray_seed = 42\n");
    expect_ok("symbols = BTC-USDT-SWAP\nshadow = true\nshadow_account = exchange.paper_shadow\n");
    /* a shadow account without a weight below 1: closes still reach it */
    expect_ok("symbols = BTC-USDT-SWAP\nshadow_account = exchange.paper_shadow\n");
    expect_ok("symbols = BTC-USDT-SWAP\nlive_weight = 1\n");

    expect("symbols = BTC-USDT-SWAP\nshadow_account = exchange.paper_shadow\n"
           "live_weight = 1, BTC-USDT-SWAP@22-30:0\n",
           17, "live_weight: rule 2 'BTC-USDT-SWAP@22-30:0': the window must be @HH-HH");
    expect("symbols = BTC-USDT-SWAP\nshadow_account = exchange.paper_shadow\n"
           "live_weight = ETH-USDT-SWAP:0.5\n",
           17, "live_weight: rule 1 names ETH-USDT-SWAP, which is not one of the trader's symbols");
    expect("symbols = BTC-USDT-SWAP\nlive_weight = 0.3\n", 16,
           "live_weight: a weight below 1 sends entries to shadow: it needs shadow_account");
    expect("symbols = BTC-USDT-SWAP\nshadow = true\n", 16,
           "shadow: shadow = true needs shadow_account");
    expect("symbols = BTC-USDT-SWAP\nshadow_account = exchange.nope\nshadow = true\n", 16,
           "shadow_account: no enabled [exchange.*] section named 'exchange.nope'");
    expect("symbols = BTC-USDT-SWAP\nshadow_account = ai.stub\nshadow = true\n", 16,
           "shadow_account: no enabled [exchange.*] section named 'ai.stub'");
    expect("symbols = BTC-USDT-SWAP\nshadow_account = exchange.paper\nshadow = true\n", 16,
           "shadow_account: exchange.paper is the trader's account");
    expect("symbols = BTC-USDT-SWAP, ETH-USDT-SWAP\nshadow_account = exchange.paper_shadow\n"
           "shadow = true\n",
           16, "shadow_account: exchange.paper_shadow does not carry ETH-USDT-SWAP");
    expect("symbols = BTC-USDT-SWAP\nshadow_account = exchange.paper_shadow\ngray_seed = -1\n", 17,
           "gray_seed:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_first_match),
        cmocka_unit_test(test_rules_refused),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests_name("gray", tests, NULL, NULL);
}

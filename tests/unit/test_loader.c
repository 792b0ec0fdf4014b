/* The loader refuses broken plugins (purpose-built .so files in
 * build/test-plugins) with a message naming the file and the reason, and the
 * engine's config load reports plugin problems as FILE:LINE errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "loader.h"
#include "util.h"

#define TP AT_TEST_BINARY_DIR "/test-plugins"

static void expect_refusal(const char *file, int want_rc, const char *fragment)
{
    char path[512], err[512];
    snprintf(path, sizeof(path), "%s/%s", TP, file);
    loaded_plugin lp;
    int rc = loader_open(path, &lp, err, sizeof(err));
    if (rc != want_rc || !strstr(err, fragment) || !strstr(err, path)) {
        fail_msg("%s: rc %d (want %d), message \"%s\" lacks \"%s\" or the path", file, rc, want_rc,
                 err, fragment);
    }
    assert_null(lp.dl);
}

static void test_refusals(void **state)
{
    expect_refusal("source_badmajor.so", AT_EPLUGIN, "incompatible with engine ABI");
    expect_refusal("source_newminor.so", AT_EPLUGIN, "upgrade the engine");
    expect_refusal("source_noinit.so", AT_EPLUGIN, "lacks mandatory callback init");
    expect_refusal("source_nodestroy.so", AT_EPLUGIN, "lacks mandatory callback destroy");
    expect_refusal("storage_noops.so", AT_EPLUGIN, "lacks mandatory ops");
    expect_refusal("source_noentry.so", AT_EPLUGIN, "no symbol at_plugin_entry");
    expect_refusal("source_smallstruct.so", AT_EPLUGIN, "struct_size 16");
    expect_refusal("does_not_exist.so", AT_ENOENT, "no such file");
}

static void test_good_plugin(void **state)
{
    loaded_plugin lp;
    char err[512] = "";
    assert_int_equal(loader_open(TP "/source_probe.so", &lp, err, sizeof(err)), AT_OK);
    assert_non_null(lp.plugin);
    assert_string_equal(lp.plugin->name, "probe");
    assert_int_equal(lp.plugin->kind, AT_KIND_SOURCE);
    assert_int_equal(lp.plugin->abi_major, AT_ABI_MAJOR);
    loader_close(&lp);
}

static void test_kinds(void **state)
{
    assert_int_equal(loader_kind_parse("storage"), AT_KIND_STORAGE);
    assert_int_equal(loader_kind_parse("ui"), AT_KIND_UI);
    assert_int_equal(loader_kind_parse("trader"), 0);
    assert_int_equal(loader_kind_parse(NULL), 0);
    assert_string_equal(loader_kind_name(AT_KIND_RISK), "risk");
    assert_true(loader_kind_order(AT_KIND_STORAGE) < loader_kind_order(AT_KIND_EXCHANGE));
    assert_true(loader_kind_order(AT_KIND_AI) < loader_kind_order(AT_KIND_UI));
    const char *dirs[] = {"/nonexistent", TP};
    char *p = loader_find(dirs, 2, "source", "probe");
    assert_non_null(p);
    assert_string_equal(p, TP "/source_probe.so");
    free(p);
    assert_null(loader_find(dirs, 2, "source", "nope"));
}

static conf_errors load(const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/at-loader-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    engine_opts o = {.config_path = path};
    engine *e = engine_new(&o);
    conf_errors errs = {0};
    engine_load(e, &errs);
    engine_free(e);
    unlink(path);
    return errs;
}

static void expect_error(const conf_errors *errs, const char *path, int line, const char *frag)
{
    char prefix[600];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
    for (size_t i = 0; i < errs->n; i++) {
        if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0 && strstr(errs->msgs[i], frag)) {
            return;
        }
    }
    for (size_t i = 0; i < errs->n; i++) {
        print_message("  got: %s\n", errs->msgs[i]);
    }
    fail_msg("no error \"%s...%s\"", prefix, frag);
}

static void test_engine_config_errors(void **state)
{
    char path[64];
    const char *text = "[core]\n"                   /* 1 */
                       "plugin_dir = " TP "\n"      /* 2 */
                       "[source.probe]\n"           /* 3 */
                       "count = 5000\n"             /* 4 */
                       "[source.old]\n"             /* 5 */
                       "module = badmajor\n"        /* 6 */
                       "[exchange.x]\n"             /* 7 */
                       "module = wrongkind\n"       /* 8 */
                       "[source.missing]\n"         /* 9 */
                       "module = nothere\n"         /* 10 */
                       "[gadget.x]\n"               /* 11 */
                       "[source.off]\n"             /* 12 */
                       "enabled = false\n"          /* 13 */
                       "module = nothere\n"         /* 14 */
                       "[trader.t]\n"               /* 15 */
                       "ai = ai.none\n"             /* 16 */
                       "account = exchange.none\n"  /* 17 */
                       "symbols = BTC-USDT-SWAP\n"; /* 18 */
    conf_errors errs = load(text, path, sizeof(path));
    expect_error(&errs, path, 4, "[source.probe] count:");
    expect_error(&errs, path, 5, "incompatible with engine ABI");
    expect_error(&errs, path, 7, "is a source plugin, not exchange");
    expect_error(&errs, path, 10, "plugin source_nothere.so not found");
    expect_error(&errs, path, 11, "unknown kind 'gadget'");
    expect_error(&errs, path, 16, "no enabled [ai.*] section named 'ai.none'");
    expect_error(&errs, path, 17, "no enabled [exchange.*] section named 'exchange.none'");
    /* The disabled section was not loaded, so its missing plugin is no error. */
    for (size_t i = 0; i < errs.n; i++) {
        assert_null(strstr(errs.msgs[i], "[source.off]"));
    }
    assert_int_equal(errs.n, 7);
    conf_errors_free(&errs);
}

static void test_engine_config_ok(void **state)
{
    char path[64];
    conf_errors errs = load("[core]\nplugin_dir = " TP "\n[source.probe]\nitems = x, y, z\n"
                            "[source.second]\nmodule = probe\ncolor = blue\n",
                            path, sizeof(path));
    for (size_t i = 0; i < errs.n; i++) {
        print_message("unexpected: %s\n", errs.msgs[i]);
    }
    assert_int_equal(errs.n, 0);
    conf_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_good_plugin),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_engine_config_errors),
        cmocka_unit_test(test_engine_config_ok),
    };
    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}

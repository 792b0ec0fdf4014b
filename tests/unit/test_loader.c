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
    expect_refusal("source_badoffset.so", AT_EPLUGIN, "config key 'n' is written at offset");
    expect_refusal("source_badoffset.so", AT_EPLUGIN, "outside its ctx_size");
    expect_refusal("source_misaligned.so", AT_EPLUGIN, "config key 'n' has a misaligned offset");
    expect_refusal("source_dupkey.so", AT_EPLUGIN, "declares config key 'n' twice");
    expect_refusal("source_reserved.so", AT_EPLUGIN, "sets reserved[1] (must be NULL)");
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

/* A plugin built against ABI 1.2 (tests/abi/v1.2): loads, its schema is
 * read, and what 1.3 added (check_config) reads as absent. */
static void test_old_minor(void **state)
{
    loaded_plugin lp;
    char err[512] = "";
    assert_int_equal(loader_open(TP "/source_oldminor.so", &lp, err, sizeof(err)), AT_OK);
    assert_int_equal(lp.plugin->abi_minor, 2);
    assert_true(lp.plugin->struct_size < sizeof(at_plugin));
    assert_null(lp.check_config);
    const char *names[] = {"label", "count", "items", "period"};
    const at_cfg_type types[] = {AT_CFG_STR, AT_CFG_INT, AT_CFG_LIST, AT_CFG_DURATION};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(lp.schema[i].name, names[i]);
        assert_int_equal(lp.schema[i].type, types[i]);
    }
    assert_string_equal(lp.schema[1].def, "2");
    assert_true(lp.schema[1].flags & AT_CFG_RANGE);
    assert_true(lp.schema[1].max == 100);
    assert_null(lp.schema[4].name);
    loader_close(&lp);

    /* A current plugin has the 1.3 hook. */
    assert_int_equal(loader_open(TP "/source_probe.so", &lp, err, sizeof(err)), AT_OK);
    assert_non_null(lp.check_config);
    loader_close(&lp);
}

static int nop_init(at_instance *inst, const at_host *host, void *ctx)
{
    (void)inst, (void)host, (void)ctx;
    return AT_OK;
}

static void nop_destroy(void *ctx)
{
    (void)ctx;
}

/* The storage ops struct has the 1.0 operations as its floor: an older
 * minor's smaller struct (once ops grow) is accepted down to it, and anything
 * that stops short of `flush` is refused. */
static int nop_write(void *ctx, const char *sql, const at_db_value *params, size_t n,
                     at_db_done_cb done, void *arg)
{
    (void)ctx, (void)sql, (void)params, (void)n, (void)done, (void)arg;
    return AT_OK;
}

static int nop_query(void *ctx, const char *sql, const at_db_value *params, size_t n,
                     at_db_row_cb row, at_db_done_cb done, void *arg)
{
    (void)ctx, (void)sql, (void)params, (void)n, (void)row, (void)done, (void)arg;
    return AT_OK;
}

static int nop_flush(void *ctx, at_db_done_cb done, void *arg)
{
    (void)ctx, (void)done, (void)arg;
    return AT_OK;
}

static void test_storage_ops_size(void **state)
{
    at_storage_ops ops = {.struct_size = offsetof(at_storage_ops, flush) + sizeof(ops.flush),
                          .dialect = "sqlite",
                          .write = nop_write,
                          .query = nop_query,
                          .flush = nop_flush};
    at_plugin p = {AT_PLUGIN_HEADER, .kind = AT_KIND_STORAGE, .name = "olddb", .ctx_size = 8,
                   .init = nop_init, .destroy = nop_destroy,  .ops = &ops};
    char why[256];
    assert_int_equal(loader_check(&p, why, sizeof(why)), AT_OK);
    ops.struct_size = offsetof(at_storage_ops, flush); /* lacks flush: not a 1.x ops */
    assert_int_equal(loader_check(&p, why, sizeof(why)), AT_EPLUGIN);
    assert_non_null(strstr(why, "lacks mandatory ops"));
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

    /* A plugin's check_config is reported at the key's line; with the key
     * left at its default, at the section's line. */
    conf_errors e2 = load("[core]\nplugin_dir = " TP "\n[source.probe]\ncount = 4\n"
                          "label = refuse-me\n",
                          path, sizeof(path));
    expect_error(&e2, path, 5,
                 "[source.probe] label: label 'refuse-me' is refused by the probe's own check");
    assert_int_equal(e2.n, 1);
    conf_errors_free(&e2);
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
        cmocka_unit_test(test_old_minor),
        cmocka_unit_test(test_storage_ops_size),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_engine_config_errors),
        cmocka_unit_test(test_engine_config_ok),
    };
    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}

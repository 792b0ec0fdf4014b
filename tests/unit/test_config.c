/* modules.ini parsing and schema validation: every error kind with its exact
 * line and message, defaults, typed values at their offsets, secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <aitrader/config.h>
#include <aitrader/types.h>

#include "conf.h"
#include "log.h"

/* ---- fixtures ----------------------------------------------------------- */

typedef struct tctx {
    const char *name;
    int64_t port;
    bool demo;
    double ratio;
    int64_t period_ms;
    int64_t buffer;
    int mode;
    at_cfg_list symbols;
    const char *api_key;
} tctx;

static const char *const modes[] = {"live", "paper", NULL};
static const char *const inst_ignore[] = {AT_CFG_KEY_MODULE, AT_CFG_KEY_ENABLED, NULL};

static const at_cfg_field schema[] = {
    {"name", AT_CFG_STR, "anon", 0, offsetof(tctx, name), 0, 0, NULL, "label"},
    {"port", AT_CFG_INT, "5621", AT_CFG_RANGE, offsetof(tctx, port), 1, 65535, NULL, "port"},
    {"demo", AT_CFG_BOOL, "true", 0, offsetof(tctx, demo), 0, 0, NULL, "demo trading"},
    {"ratio", AT_CFG_DOUBLE, "0.25", AT_CFG_RANGE, offsetof(tctx, ratio), 0, 1, NULL, "ratio"},
    {"period", AT_CFG_DURATION, "20s", AT_CFG_RANGE, offsetof(tctx, period_ms), 1000, 3600000, NULL,
     "poll period"},
    {"buffer", AT_CFG_SIZE, "64K", AT_CFG_RANGE, offsetof(tctx, buffer), 1024, 1073741824, NULL,
     "buffer size"},
    {"mode", AT_CFG_ENUM, "paper", 0, offsetof(tctx, mode), 0, 0, modes, "venue"},
    {"symbols", AT_CFG_LIST, NULL, AT_CFG_REQUIRED, offsetof(tctx, symbols), 0, 0, NULL,
     "instruments to trade"},
    {"api_key", AT_CFG_SECRET, NULL, 0, offsetof(tctx, api_key), 0, 0, NULL, "API key"},
    {0},
};

static conf_file *load(const char *text, conf_errors *e)
{
    conf_file *f = conf_load_string("modules.ini", text, e);
    assert_non_null(f);
    return f;
}

/* Compare all messages at once so a failure shows the whole list. */
static void expect_errors(const conf_errors *e, const char *const *want)
{
    size_t n = 0;
    while (want[n]) {
        n++;
    }
    bool same = e->n == n;
    for (size_t i = 0; same && i < n; i++) {
        same = strcmp(e->msgs[i], want[i]) == 0;
    }
    if (!same) {
        for (size_t i = 0; i < e->n; i++) {
            print_message("got:  %s\n", e->msgs[i]);
        }
        for (size_t i = 0; i < n; i++) {
            print_message("want: %s\n", want[i]);
        }
        fail_msg("%zu errors, expected %zu (or different text)", e->n, n);
    }
}

static void expect_one(const conf_errors *e, const char *want)
{
    const char *w[] = {want, NULL};
    expect_errors(e, w);
}

/* Parse text, apply `schema` to section "test.t", return the error count. */
static int apply_text(const char *text, tctx *ctx, conf_owned **o, conf_errors *e)
{
    conf_file *f = load(text, e);
    memset(ctx, 0, sizeof(*ctx));
    int n = conf_apply(f->path, "test.t", conf_section_get(f, "test.t"), schema, inst_ignore, ctx,
                       o, e);
    conf_free(f);
    return n;
}

/* Make a temp file with content and mode; returns a malloc'd path. */
static char *temp_file(const char *content, mode_t mode)
{
    const char *dir = getenv("TMPDIR");
    char *path = NULL;
    assert_true(asprintf(&path, "%s/at_conf_XXXXXX", dir && *dir ? dir : "/tmp") > 0);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void drop_file(char *path)
{
    unlink(path);
    free(path);
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_sections_and_entries(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("\xEF\xBB\xBF; leading comment\r\n"
                        "[core]\r\n"
                        "log_level = info            ; debug | info\n"
                        "  mode=paper\n"
                        "# a whole-line comment\n"
                        "\n"
                        "[storage.postgres]\n"
                        "conninfo = env:AITRADER_PG   ; postgresql://user@host\n"
                        "url = http://h/p#frag # trailing hash comment\n"
                        "semi = a;b\n"
                        "empty =\n"
                        "[exchange.okx_main]               ; comment after header\n"
                        "[ui.dashboard]\n"
                        "\tport: 5621",
                        &e);
    expect_errors(&e, (const char *[]){NULL});
    assert_int_equal(f->n, 4);

    const conf_section *core = conf_section_get(f, "core");
    assert_non_null(core);
    assert_string_equal(core->kind, "core");
    assert_string_equal(core->instance, "");
    assert_int_equal(core->line, 2);
    assert_int_equal(core->n, 2);
    assert_string_equal(conf_entry_get(core, "log_level")->value, "info");
    assert_int_equal(conf_entry_get(core, "log_level")->line, 3);
    assert_string_equal(conf_entry_get(core, "mode")->value, "paper");
    assert_int_equal(conf_entry_get(core, "mode")->line, 4);

    const conf_section *pg = conf_section_get(f, "storage.postgres");
    assert_non_null(pg);
    assert_string_equal(pg->kind, "storage");
    assert_string_equal(pg->instance, "postgres");
    assert_int_equal(pg->line, 7);
    assert_string_equal(conf_entry_get(pg, "conninfo")->value, "env:AITRADER_PG");
    assert_string_equal(conf_entry_get(pg, "url")->value, "http://h/p#frag");
    assert_string_equal(conf_entry_get(pg, "semi")->value, "a;b");
    assert_string_equal(conf_entry_get(pg, "empty")->value, "");
    assert_int_equal(conf_entry_get(pg, "empty")->line, 11);

    const conf_section *okx = conf_section_get(f, "exchange.okx_main");
    assert_non_null(okx);
    assert_int_equal(okx->n, 0);
    assert_int_equal(okx->line, 12);
    /* File order is kept. */
    assert_ptr_equal(&f->secs[2], okx);
    const conf_section *ui = conf_section_get(f, "ui.dashboard");
    assert_string_equal(conf_entry_get(ui, "port")->value, "5621");
    assert_int_equal(conf_entry_get(ui, "port")->line, 14);

    assert_null(conf_section_get(f, "exchange.okx"));
    assert_null(conf_entry_get(core, "nope"));
    conf_free(f);
}

static void test_indented_line_is_not_a_continuation(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("[core]\n    plugin_dir = a\n    data_dir = b\n", &e);
    expect_errors(&e, (const char *[]){NULL});
    const conf_section *s = conf_section_get(f, "core");
    assert_int_equal(s->n, 2);
    assert_string_equal(conf_entry_get(s, "plugin_dir")->value, "a");
    assert_string_equal(conf_entry_get(s, "data_dir")->value, "b");
    conf_free(f);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("[core]\n"
                        "a = 1\n"
                        "this line has no separator\n"
                        "= orphan value\n"
                        "[exchange.okx\n"
                        "b = 2\n"
                        "[ui.web] junk\n"
                        "c = 3\n",
                        &e);
    expect_errors(&e, (const char *[]){
                          "modules.ini:3: [core] syntax error: expected 'key = value', "
                          "'[section]' or a comment",
                          "modules.ini:4: [core] syntax error: missing key name before '='",
                          "modules.ini:5: section header is missing its closing ']'",
                          "modules.ini:7: [ui.web] unexpected text after ']' (comments start "
                          "with ';' or '#')",
                          NULL,
                      });
    /* Keys after the broken header are dropped, not charged to [core]. */
    assert_int_equal(conf_section_get(f, "core")->n, 1);
    assert_int_equal(f->n, 2);
    assert_string_equal(conf_entry_get(conf_section_get(f, "ui.web"), "c")->value, "3");
    assert_int_equal(conf_entry_get(conf_section_get(f, "ui.web"), "c")->line, 8);
    conf_free(f);
    conf_errors_free(&e);
}

static void test_syntax_error_does_not_echo_line(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("[core]\nsk-live-0123456789abcdef\n", &e);
    assert_int_equal(e.n, 1);
    assert_null(strstr(e.msgs[0], "sk-live"));
    conf_free(f);
    conf_errors_free(&e);
}

/* n copies of c, NUL-terminated (caller frees). */
static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Deep paths: values far past inih's 199-character line buffer parse exactly,
 * at their own line, with what follows them intact. */
static void test_long_values(void **state)
{
    (void)state;
    char *v300 = filled(300, 'p');
    for (size_t i = 0; i < 300; i += 30) {
        v300[i] = '/';
    }
    char *v10k = filled(10 * 1024, 'd');
    char *key250 = filled(250, 'k');
    char *inst250 = filled(250, 'i');
    char *text = NULL;
    assert_true(asprintf(&text,
                         "[core]\n"
                         "plugin_dir = %s, %s\n"
                         "data_dir=%s\t  ; where the data goes %s\n"
                         "after = 1\n"
                         "; %s\n"
                         "[storage.%s]\n"
                         "%s = v\n"
                         "    path : %s # a hash comment\n",
                         v300, v300, v10k, v300, v10k, inst250, key250, v300) > 0);
    conf_errors e = {0};
    conf_file *f = load(text, &e);
    expect_errors(&e, (const char *[]){NULL});
    const conf_section *core = conf_section_get(f, "core");
    char *both = NULL;
    assert_true(asprintf(&both, "%s, %s", v300, v300) > 0);
    assert_string_equal(conf_entry_get(core, "plugin_dir")->value, both);
    assert_int_equal(conf_entry_get(core, "plugin_dir")->line, 2);
    assert_string_equal(conf_entry_get(core, "data_dir")->value, v10k);
    assert_int_equal(conf_entry_get(core, "data_dir")->line, 3);
    assert_string_equal(conf_entry_get(core, "after")->value, "1");
    assert_int_equal(conf_entry_get(core, "after")->line, 4);
    assert_int_equal(core->n, 3);
    char name[300];
    snprintf(name, sizeof(name), "storage.%s", inst250);
    const conf_section *st = conf_section_get(f, name);
    assert_non_null(st);
    assert_int_equal(st->line, 6);
    assert_string_equal(st->instance, inst250);
    assert_string_equal(conf_entry_get(st, key250)->value, "v");
    assert_string_equal(conf_entry_get(st, "path")->value, v300);
    assert_int_equal(conf_entry_get(st, "path")->line, 8);
    assert_int_equal(f->n, 2);
    conf_free(f);
    free(both);
    free(text);
    free(v300);
    free(v10k);
    free(key250);
    free(inst250);
}

/* A long line follows the same rules as a short one (inih's for short lines,
 * the reader's own for long ones): the value of "k = X<tail>" is the same
 * whether X is one character or three hundred. */
static void test_long_lines_parse_like_short_ones(void **state)
{
    (void)state;
    static const char *const tails[] = {
        "",         "   \t", "  ; comment", " # hash comment", ";no-space",
        "#frag",    "a;b c", " x  y ",      "\t;tab comment",  " = second =",
        " : colon", "  ;",   " #",          "\"quoted\" ; c",  NULL,
    };
    static const char *const seps[] = {" = ", "=", " : ", ":", "\t=\t", NULL};
    char *x300 = filled(300, 'x');
    for (size_t t = 0; tails[t]; t++) {
        for (size_t k = 0; seps[k]; k++) {
            char *shorter = NULL, *longer = NULL;
            assert_true(asprintf(&shorter, "[core]\nk%sX%s\n", seps[k], tails[t]) > 0);
            assert_true(asprintf(&longer, "[core]\nk%s%s%s\n", seps[k], x300, tails[t]) > 0);
            conf_errors es = {0}, el = {0};
            conf_file *fs = load(shorter, &es);
            conf_file *fl = load(longer, &el);
            assert_int_equal(es.n, 0);
            assert_int_equal(el.n, 0);
            const char *vs = conf_entry_get(conf_section_get(fs, "core"), "k")->value;
            const char *vl = conf_entry_get(conf_section_get(fl, "core"), "k")->value;
            char *want = NULL;
            assert_true(asprintf(&want, "%s%s", x300, vs + 1) > 0);
            if (strcmp(vl, want) != 0) {
                fail_msg("tail '%s' sep '%s': short gives '%s', long gives '...%s'", tails[t],
                         seps[k], vs, vl + 300);
            }
            free(want);
            conf_free(fs);
            conf_free(fl);
            free(shorter);
            free(longer);
        }
    }
    free(x300);
}

/* Every check of a short line holds for a long one: FILE:LINE syntax errors
 * that never echo the line, keys outside a section, no continuation. */
static void test_long_line_errors(void **state)
{
    (void)state;
    char *junk = filled(300, 'j');
    char *val = filled(300, 'v');
    char *text = NULL;
    assert_true(asprintf(&text,
                         "early = %s\n"
                         "[core]\n"
                         "%s\n"
                         "= %s\n"
                         "[exchange.%s\n"
                         "b = %s\n"
                         "[ui.web] %s\n"
                         "c = 3\n"
                         "      d = %s\n",
                         val, junk, val, junk, val, junk, val) > 0);
    conf_errors e = {0};
    conf_file *f = load(text, &e);
    expect_errors(&e, (const char *[]){
                          "modules.ini:1: early: key outside any section: put it under [core] "
                          "or a [kind.instance] header",
                          "modules.ini:3: [core] syntax error: expected 'key = value', "
                          "'[section]' or a comment",
                          "modules.ini:4: [core] syntax error: missing key name before '='",
                          "modules.ini:5: section header is missing its closing ']'",
                          "modules.ini:7: [ui.web] unexpected text after ']' (comments start "
                          "with ';' or '#')",
                          NULL,
                      });
    for (size_t i = 0; i < e.n; i++) {
        assert_null(strstr(e.msgs[i], "jjjj"));
    }
    assert_int_equal(conf_section_get(f, "core")->n, 0);
    const conf_section *web = conf_section_get(f, "ui.web");
    assert_int_equal(web->n, 2);
    assert_string_equal(conf_entry_get(web, "d")->value, val);
    assert_int_equal(conf_entry_get(web, "d")->line, 9);
    conf_free(f);
    conf_errors_free(&e);
    free(text);
    free(junk);
    free(val);
}

/* Past 64 KiB a line is refused at its FILE:LINE, never cut into a value or
 * a bogus next line; 64 KiB itself is taken. */
static void test_line_too_long(void **state)
{
    (void)state;
    char *huge = filled(70 * 1024, 'x');
    char *fits = filled(64 * 1024 - strlen("fit = "), 'y');
    char *over = filled(64 * 1024 + 1 - strlen("one_over = "), 'z');
    char *text = NULL;
    assert_true(asprintf(&text,
                         "[exchange.okx]\n"
                         "demo = true\n"
                         "api_key = %s\n"
                         "fit = %s\n"
                         "[%s]\n"
                         "lost = 1\n"
                         "[core]\n"
                         "after = 1\n"
                         "one_over = %s\n",
                         huge, fits, huge, over) > 0);
    conf_errors e = {0};
    conf_file *f = load(text, &e);
    char want1[400];
    char want2[400];
    char want3[400];
    snprintf(want1, sizeof(want1),
             "modules.ini:3: [exchange.okx] api_key: line too long (%zu characters, max 65536): "
             "keep long values in the environment (env:NAME) or in a file (file:PATH)",
             strlen("api_key = ") + strlen(huge));
    snprintf(want2, sizeof(want2),
             "modules.ini:5: line too long (%zu characters, max 65536): keep long values in the "
             "environment (env:NAME) or in a file (file:PATH)",
             strlen(huge) + 2);
    snprintf(want3, sizeof(want3),
             "modules.ini:9: [core] one_over: line too long (65537 characters, max 65536): "
             "keep long values in the environment (env:NAME) or in a file (file:PATH)");
    expect_errors(&e, (const char *[]){want1, want2, want3, NULL});
    const conf_section *okx = conf_section_get(f, "exchange.okx");
    /* Not truncated into a value, and its tail did not become a line. */
    assert_null(conf_entry_get(okx, "api_key"));
    assert_string_equal(conf_entry_get(okx, "fit")->value, fits);
    assert_int_equal(conf_entry_get(okx, "fit")->line, 4);
    assert_int_equal(okx->n, 2);
    assert_int_equal(f->n, 2);
    const conf_section *core = conf_section_get(f, "core");
    assert_int_equal(core->line, 7);
    assert_int_equal(conf_entry_get(core, "after")->line, 8);
    assert_null(conf_entry_get(core, "one_over"));
    conf_free(f);
    conf_errors_free(&e);
    free(text);
    free(huge);
    free(fits);
    free(over);
}

/* The same through a file on disk, as the engine reads modules.ini. */
static void test_long_value_from_file(void **state)
{
    (void)state;
    char *v = filled(5000, 'f');
    char *text = NULL;
    assert_true(asprintf(&text, "\xEF\xBB\xBF[core]\r\nsql_dir = %s\r\n", v) > 0);
    char *path = temp_file(text, 0600);
    conf_errors e = {0};
    conf_file *f = conf_load(path, &e);
    assert_non_null(f);
    expect_errors(&e, (const char *[]){NULL});
    assert_string_equal(conf_entry_get(conf_section_get(f, "core"), "sql_dir")->value, v);
    conf_free(f);
    drop_file(path);
    free(text);
    free(v);
}

static void test_duplicate_section_and_key(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("[core]\n"
                        "a = 1\n"
                        "b = 2\n"
                        "a = 3\n"
                        "\n"
                        "[core]\n"
                        "c = 4\n",
                        &e);
    expect_errors(&e, (const char *[]){
                          "modules.ini:4: [core] a: duplicate key (first set at line 2)",
                          "modules.ini:6: [core] duplicate section (first defined at line 1)",
                          NULL,
                      });
    const conf_section *s = conf_section_get(f, "core");
    assert_string_equal(conf_entry_get(s, "a")->value, "1");
    assert_null(conf_entry_get(s, "c"));
    assert_int_equal(f->n, 1);
    conf_free(f);
    conf_errors_free(&e);
}

static void test_invalid_section_names(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("[Exchange.OKX]\n"
                        "a = 1\n"
                        "[exchange]\n"
                        "[a.b.c]\n"
                        "[exchange.okx-main]\n"
                        "[]\n"
                        "[.okx]\n"
                        "[ai.deepseek]\n",
                        &e);
#define BADSEC(line, name)                                                                         \
    "modules.ini:" #line ": [" name "] invalid section name: expected [kind.instance] made of "    \
    "lowercase letters, digits and '_' (e.g. [exchange.okx_main]), or [core]"
    expect_errors(&e, (const char *[]){
                          BADSEC(1, "Exchange.OKX"),
                          BADSEC(3, "exchange"),
                          BADSEC(4, "a.b.c"),
                          BADSEC(5, "exchange.okx-main"),
                          BADSEC(6, ""),
                          BADSEC(7, ".okx"),
                          NULL,
                      });
#undef BADSEC
    assert_int_equal(f->n, 1);
    assert_string_equal(f->secs[0].name, "ai.deepseek");
    assert_string_equal(f->secs[0].kind, "ai");
    assert_string_equal(f->secs[0].instance, "deepseek");
    conf_free(f);
    conf_errors_free(&e);
}

static void test_key_outside_section(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_file *f = load("; header comment\nplugin_dir = x\n[core]\n", &e);
    expect_one(&e, "modules.ini:2: plugin_dir: key outside any section: put it under [core] or a "
                   "[kind.instance] header");
    assert_int_equal(conf_section_get(f, "core")->n, 0);
    conf_free(f);
    conf_errors_free(&e);
}

static void test_load_file_and_missing_file(void **state)
{
    (void)state;
    conf_errors e = {0};
    assert_null(conf_load("/nonexistent/dir/modules.ini", &e));
    expect_one(&e, "/nonexistent/dir/modules.ini: cannot open config file: No such file or "
                   "directory");
    conf_errors_free(&e);

    char *path = temp_file("[core]\nmode = paper\nbad line\n", 0600);
    conf_file *f = conf_load(path, &e);
    assert_non_null(f);
    assert_string_equal(f->path, path);
    char want[512];
    snprintf(want, sizeof(want),
             "%s:3: [core] syntax error: expected 'key = value', '[section]' or a comment", path);
    expect_one(&e, want);
    assert_string_equal(conf_entry_get(conf_section_get(f, "core"), "mode")->value, "paper");
    conf_free(f);
    conf_errors_free(&e);
    drop_file(path);

    conf_file *empty = load("", &e);
    assert_int_equal(empty->n, 0);
    assert_int_equal(e.n, 0);
    conf_free(empty);
}

static void test_conf_err_shapes(void **state)
{
    (void)state;
    conf_errors e = {0};
    conf_err(&e, "m.ini", 12, "exchange.okx", "demo", "bad %s", "thing");
    conf_err(&e, "m.ini", 3, "core", NULL, "reason");
    conf_err(&e, "m.ini", 4, NULL, NULL, "plain");
    conf_err(&e, "m.ini", 0, "x.y", "k", "no line");
    expect_errors(&e, (const char *[]){
                          "m.ini:12: [exchange.okx] demo: bad thing",
                          "m.ini:3: [core] reason",
                          "m.ini:4: plain",
                          "m.ini: [x.y] k: no line",
                          NULL,
                      });
    conf_errors_free(&e);
    assert_int_equal(e.n, 0);
    assert_null(e.msgs);
}

/* ---- schema application ------------------------------------------------- */

static void test_defaults_applied(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    assert_int_equal(apply_text("[test.t]\nsymbols = BTC-USDT-SWAP\n", &c, &o, &e), 0);
    assert_int_equal(e.n, 0);
    assert_string_equal(c.name, "anon");
    assert_int_equal(c.port, 5621);
    assert_true(c.demo);
    assert_true(c.ratio == 0.25);
    assert_int_equal(c.period_ms, 20000);
    assert_int_equal(c.buffer, 65536);
    assert_int_equal(c.mode, 1);
    assert_int_equal(c.symbols.n, 1);
    assert_string_equal(c.symbols.items[0], "BTC-USDT-SWAP");
    assert_null(c.api_key);
    conf_owned_free(o);
}

static void test_values_at_offsets(void **state)
{
    (void)state;
    char *secret = temp_file("file-secret-value\n", 0600);
    char *text = NULL;
    assert_true(asprintf(&text,
                         "[test.t]\n"
                         "module = test\n"
                         "enabled = true\n"
                         "name = alpha beta\n"
                         "port = 8080\n"
                         "demo = OFF\n"
                         "ratio = 0.75\n"
                         "period = 1.5m\n"
                         "buffer = 2M\n"
                         "mode = live\n"
                         "symbols =  BTC-USDT-SWAP ,ETH-USDT-SWAP,\tSOL-USDT-SWAP  \n"
                         "api_key = file:%s\n",
                         secret) > 0);
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    assert_int_equal(apply_text(text, &c, &o, &e), 0);
    expect_errors(&e, (const char *[]){NULL});
    assert_string_equal(c.name, "alpha beta");
    assert_int_equal(c.port, 8080);
    assert_false(c.demo);
    assert_true(c.ratio == 0.75);
    assert_int_equal(c.period_ms, 90000);
    assert_int_equal(c.buffer, 2 * 1024 * 1024);
    assert_int_equal(c.mode, 0);
    assert_int_equal(c.symbols.n, 3);
    assert_string_equal(c.symbols.items[0], "BTC-USDT-SWAP");
    assert_string_equal(c.symbols.items[1], "ETH-USDT-SWAP");
    assert_string_equal(c.symbols.items[2], "SOL-USDT-SWAP");
    assert_null(c.symbols.items[3]);
    /* Trailing newline stripped. */
    assert_string_equal(c.api_key, "file-secret-value");

    /* Registered for redaction in logs. */
    char line[128] = "auth with file-secret-value ok";
    log_redact(line, sizeof(line));
    assert_string_equal(line, "auth with *** ok");

    conf_owned_free(o);
    drop_file(secret);
    free(text);
}

static void test_lists(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    assert_int_equal(apply_text("[test.t]\nsymbols =\n", &c, &o, &e), 0);
    assert_int_equal(c.symbols.n, 0);
    assert_non_null(c.symbols.items);
    assert_int_equal(apply_text("[test.t]\nsymbols = only\n", &c, &o, &e), 0);
    assert_int_equal(c.symbols.n, 1);
    assert_string_equal(c.symbols.items[0], "only");
    assert_int_equal(apply_text("[test.t]\nsymbols = A,,B\n", &c, &o, &e), 1);
    assert_int_equal(apply_text("[test.t]\nsymbols = A, B,\n", &c, &o, &e), 1);
    assert_int_equal(apply_text("[test.t]\nsymbols = , A\n", &c, &o, &e), 1);
    expect_errors(&e, (const char *[]){
                          "modules.ini:2: [test.t] symbols: empty item 2 in list \"A,,B\" (items "
                          "are comma-separated)",
                          "modules.ini:2: [test.t] symbols: empty item 3 in list \"A, B,\" (items "
                          "are comma-separated)",
                          "modules.ini:2: [test.t] symbols: empty item 1 in list \", A\" (items "
                          "are comma-separated)",
                          NULL,
                      });
    conf_errors_free(&e);
    conf_owned_free(o);
}

static void test_wrong_types(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    int n = apply_text("[test.t]\n"
                       "port = 12x\n"
                       "demo = maybe\n"
                       "ratio = abc\n"
                       "period = 10x\n"
                       "buffer = 5Q\n"
                       "mode = demo\n"
                       "symbols = A,,B\n"
                       "api_key = sk-inline-secret-value\n"
                       "name = fine\n",
                       &c, &o, &e);
    assert_int_equal(n, 8);
    expect_errors(
        &e,
        (const char *[]){
            "modules.ini:2: [test.t] port: expected an integer, got \"12x\"",
            "modules.ini:3: [test.t] demo: expected a boolean (true/false), got \"maybe\"",
            "modules.ini:4: [test.t] ratio: expected a finite number, got \"abc\"",
            "modules.ini:5: [test.t] period: expected a duration such as 250ms, 20s, 1.5s, 12m, "
            "1h or 1d (a bare number is seconds), got \"10x\"",
            "modules.ini:6: [test.t] buffer: expected a size such as 512, 64K, 2M or 1G (1K = "
            "1024), got \"5Q\"",
            "modules.ini:7: [test.t] mode: expected one of live, paper, got \"demo\"",
            "modules.ini:8: [test.t] symbols: empty item 2 in list \"A,,B\" (items are "
            "comma-separated)",
            "modules.ini:9: [test.t] api_key: secrets must be env:NAME or file:PATH, never inline",
            NULL,
        });
    for (size_t i = 0; i < e.n; i++) {
        assert_null(strstr(e.msgs[i], "sk-inline"));
    }
    conf_errors_free(&e);

    /* NaN, infinity and int64 overflow are type errors too. */
    assert_int_equal(apply_text("[test.t]\nsymbols=A\nratio = nan\n", &c, &o, &e), 1);
    assert_int_equal(apply_text("[test.t]\nsymbols=A\nratio = inf\n", &c, &o, &e), 1);
    assert_int_equal(apply_text("[test.t]\nsymbols=A\nport = 9223372036854775808\n", &c, &o, &e),
                     1);
    expect_errors(&e, (const char *[]){
                          "modules.ini:3: [test.t] ratio: expected a finite number, got \"nan\"",
                          "modules.ini:3: [test.t] ratio: expected a finite number, got \"inf\"",
                          "modules.ini:3: [test.t] port: integer \"9223372036854775808\" does "
                          "not fit in 64 bits",
                          NULL,
                      });
    conf_errors_free(&e);
    conf_owned_free(o);
}

static void test_out_of_range(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    int n = apply_text("[test.t]\n"
                       "symbols = A\n"
                       "port = 70000\n"
                       "ratio = 1.5\n"
                       "period = 500ms\n"
                       "buffer = 512\n",
                       &c, &o, &e);
    assert_int_equal(n, 4);
    expect_errors(&e, (const char *[]){
                          "modules.ini:3: [test.t] port: 70000 is out of range (allowed 1..65535)",
                          "modules.ini:4: [test.t] ratio: 1.5 is out of range (allowed 0..1)",
                          "modules.ini:5: [test.t] period: 500ms is out of range (allowed 1s..1h)",
                          "modules.ini:6: [test.t] buffer: 512 is out of range (allowed 1K..1G)",
                          NULL,
                      });
    conf_errors_free(&e);
    /* One-sided ranges read naturally. */
    typedef struct {
        int64_t t;
    } octx;
    const at_cfg_field one[] = {
        {"timeout", AT_CFG_DURATION, NULL, AT_CFG_RANGE, offsetof(octx, t), 100, INFINITY, NULL,
         NULL},
        {0},
    };
    octx oc = {0};
    conf_file *f = load("[x.y]\ntimeout = 50ms\n", &e);
    assert_int_equal(conf_apply(f->path, "x.y", &f->secs[0], one, NULL, &oc, &o, &e), 1);
    expect_one(&e, "modules.ini:2: [x.y] timeout: 50ms is out of range (must be at least 100ms)");
    conf_free(f);
    conf_errors_free(&e);

    /* Bounds are inclusive. */
    assert_int_equal(apply_text("[test.t]\nsymbols = A\nport = 65535\nratio = 0\nperiod = 1h\n"
                                "buffer = 1G\n",
                                &c, &o, &e),
                     0);
    assert_int_equal(c.port, 65535);
    assert_int_equal(c.period_ms, 3600000);
    assert_int_equal(c.buffer, 1073741824);
    conf_owned_free(o);
}

static void test_unknown_keys_and_hints(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    int n = apply_text("[test.t]\n"
                       "symbols = A\n"
                       "por = 1\n"
                       "dmeo = true\n"
                       "enabeld = false\n"
                       "completely_unrelated = 1\n"
                       "module = x\n",
                       &c, &o, &e);
    assert_int_equal(n, 4);
    expect_errors(&e, (const char *[]){
                          "modules.ini:3: [test.t] por: unknown key (did you mean 'port'?)",
                          "modules.ini:4: [test.t] dmeo: unknown key (did you mean 'demo'?)",
                          "modules.ini:5: [test.t] enabeld: unknown key (did you mean 'enabled'?)",
                          "modules.ini:6: [test.t] completely_unrelated: unknown key",
                          NULL,
                      });
    conf_errors_free(&e);
    conf_owned_free(o);
}

static void test_required_missing(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    assert_int_equal(apply_text("; comment\n\n[test.t]\nport = 1\n", &c, &o, &e), 1);
    expect_one(&e, "modules.ini:3: [test.t] symbols: required key missing (instruments to trade)");
    conf_errors_free(&e);

    /* No section at all: defaults apply, required keys are reported without
     * a line. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(conf_apply("modules.ini", "test.t", NULL, schema, NULL, &c, &o, &e), 1);
    expect_one(&e, "modules.ini: [test.t] symbols: required key missing (instruments to trade)");
    assert_int_equal(c.port, 5621);
    assert_string_equal(c.name, "anon");
    conf_errors_free(&e);
    conf_owned_free(o);
}

static void test_all_errors_reported_at_once(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    conf_file *f = load("[core]\n"
                        "x = 1\n"
                        "x = 2\n"          /* 1: duplicate key */
                        "[test.t]\n"       /* 5: symbols missing */
                        "port = 0\n"       /* 3: out of range */
                        "demo = perhaps\n" /* 4: not a bool */
                        "[Bad]\n"          /* 2: bad section */
                        "prot = 2\n",      /* dropped with [Bad] */
                        &e);
    int n = conf_apply(f->path, "test.t", conf_section_get(f, "test.t"), schema, inst_ignore, &c,
                       &o, &e);
    assert_int_equal(n, 3);
    assert_int_equal(e.n, 5);
    expect_errors(&e, (const char *[]){
                          "modules.ini:3: [core] x: duplicate key (first set at line 2)",
                          "modules.ini:7: [Bad] invalid section name: expected [kind.instance] "
                          "made of lowercase letters, digits and '_' (e.g. [exchange.okx_main]), "
                          "or [core]",
                          "modules.ini:5: [test.t] port: 0 is out of range (allowed 1..65535)",
                          "modules.ini:6: [test.t] demo: expected a boolean (true/false), got "
                          "\"perhaps\"",
                          "modules.ini:4: [test.t] symbols: required key missing (instruments to "
                          "trade)",
                          NULL,
                      });
    conf_free(f);
    conf_errors_free(&e);
    conf_owned_free(o);
}

static void test_invalid_default_in_schema(void **state)
{
    (void)state;
    typedef struct {
        int64_t n;
        int64_t d;
        int m;
    } bctx;
    static const char *const ab[] = {"a", "b", NULL};
    const at_cfg_field bad[] = {
        {"n", AT_CFG_INT, "abc", 0, offsetof(bctx, n), 0, 0, NULL, NULL},
        {"d", AT_CFG_DURATION, "2h", AT_CFG_RANGE, offsetof(bctx, d), 0, 60000, NULL, NULL},
        {"m", AT_CFG_ENUM, "c", 0, offsetof(bctx, m), 0, 0, ab, NULL},
        {0},
    };
    bctx c = {0};
    conf_owned *o = NULL;
    conf_errors e = {0};
    conf_file *f = load("[x.y]\n", &e);
    assert_int_equal(conf_apply(f->path, "x.y", &f->secs[0], bad, NULL, &c, &o, &e), 3);
    expect_errors(&e, (const char *[]){
                          "modules.ini:1: [x.y] n: invalid default in plugin schema: expected an "
                          "integer, got \"abc\"",
                          "modules.ini:1: [x.y] d: invalid default in plugin schema: 2h is out of "
                          "range (allowed 0s..1m)",
                          "modules.ini:1: [x.y] m: invalid default in plugin schema: expected one "
                          "of a, b, got \"c\"",
                          NULL,
                      });
    conf_free(f);
    conf_errors_free(&e);
    conf_owned_free(o);
}

/* ---- secrets ------------------------------------------------------------ */

static void test_secret_env(void **state)
{
    (void)state;
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    unsetenv("AT_TEST_CONF_UNSET");
    setenv("AT_TEST_CONF_EMPTY", "", 1);
    setenv("AT_TEST_CONF_KEY", "env-secret-1234", 1);

    assert_int_equal(
        apply_text("[test.t]\nsymbols=A\napi_key = env:AT_TEST_CONF_UNSET\n", &c, &o, &e), 1);
    assert_int_equal(
        apply_text("[test.t]\nsymbols=A\napi_key = env:AT_TEST_CONF_EMPTY\n", &c, &o, &e), 1);
    assert_int_equal(apply_text("[test.t]\nsymbols=A\napi_key = env:\n", &c, &o, &e), 1);
    expect_errors(&e, (const char *[]){
                          "modules.ini:3: [test.t] api_key: environment variable "
                          "AT_TEST_CONF_UNSET is not set",
                          "modules.ini:3: [test.t] api_key: environment variable "
                          "AT_TEST_CONF_EMPTY is empty",
                          "modules.ini:3: [test.t] api_key: env: needs a variable name (env:NAME)",
                          NULL,
                      });
    conf_errors_free(&e);

    assert_int_equal(
        apply_text("[test.t]\nsymbols=A\napi_key = env:AT_TEST_CONF_KEY ; c\n", &c, &o, &e), 0);
    assert_string_equal(c.api_key, "env-secret-1234");
    char line[64] = "key=env-secret-1234";
    log_redact(line, sizeof(line));
    assert_string_equal(line, "key=***");

    /* A default that names an unset variable leaves the field NULL. */
    typedef struct {
        const char *tok;
    } sctx;
    const at_cfg_field ds[] = {
        {"token", AT_CFG_SECRET, "env:AT_TEST_CONF_UNSET", 0, offsetof(sctx, tok), 0, 0, NULL,
         NULL},
        {0},
    };
    sctx s = {0};
    assert_int_equal(conf_apply("modules.ini", "ui.d", NULL, ds, NULL, &s, &o, &e), 0);
    assert_null(s.tok);
    conf_owned_free(o);
    unsetenv("AT_TEST_CONF_EMPTY");
    unsetenv("AT_TEST_CONF_KEY");
}

static void test_secret_file_modes(void **state)
{
    (void)state;
    char *open_file = temp_file("world-readable-secret\n", 0644);
    char *group_file = temp_file("group-secret\n", 0640);
    char *empty_file = temp_file("\n", 0600);
    char *ro_file = temp_file("read-only-secret\r\n", 0400);
    char *text = NULL;
    assert_true(asprintf(&text, "[test.t]\nsymbols = A\napi_key = file:%s\n", open_file) > 0);
    tctx c;
    conf_owned *o = NULL;
    conf_errors e = {0};
    assert_int_equal(apply_text(text, &c, &o, &e), 1);
    assert_null(c.api_key);
    char want[1024];
    snprintf(want, sizeof(want),
             "modules.ini:3: [test.t] api_key: secret file %s has mode 0644; it must not be "
             "accessible by group or others (chmod 600 %s)",
             open_file, open_file);
    expect_one(&e, want);
    assert_null(strstr(e.msgs[0], "world-readable-secret"));
    conf_errors_free(&e);

    char err[512];
    char *v = NULL;
    char ref[600];
    snprintf(ref, sizeof(ref), "file:%s", group_file);
    assert_int_equal(conf_secret_resolve(ref, &v, err, sizeof(err)), AT_EINVAL);
    assert_null(v);
    assert_non_null(strstr(err, "mode 0640"));

    snprintf(ref, sizeof(ref), "file:%s", empty_file);
    assert_int_equal(conf_secret_resolve(ref, &v, err, sizeof(err)), AT_EINVAL);
    snprintf(want, sizeof(want), "secret file %s is empty", empty_file);
    assert_string_equal(err, want);

    snprintf(ref, sizeof(ref), "file:%s", ro_file);
    assert_int_equal(conf_secret_resolve(ref, &v, err, sizeof(err)), AT_OK);
    assert_string_equal(v, "read-only-secret");
    free(v);

    assert_int_equal(conf_secret_resolve("file:/nonexistent/at_secret", &v, err, sizeof(err)),
                     AT_ENOENT);
    assert_string_equal(
        err, "cannot read secret file /nonexistent/at_secret: No such file or directory");
    assert_int_equal(conf_secret_resolve("file:", &v, err, sizeof(err)), AT_EINVAL);
    assert_int_equal(conf_secret_resolve("hunter2-inline", &v, err, sizeof(err)), AT_EINVAL);
    assert_string_equal(err, "secrets must be env:NAME or file:PATH, never inline");
    assert_int_equal(conf_secret_resolve("env:not a name", &v, err, sizeof(err)), AT_EINVAL);
    assert_null(strstr(err, "not a name"));

    conf_owned_free(o);
    drop_file(open_file);
    drop_file(group_file);
    drop_file(empty_file);
    drop_file(ro_file);
    free(text);
}

/* A FIFO as secret file: refused at once, not read (opening it used to wait
 * for a writer forever; the alarm turns such a hang into a failure). */
static void test_secret_fifo(void **state)
{
    (void)state;
    char dir[] = "/tmp/at_secret_fifo_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], ref[160], err[512];
    snprintf(path, sizeof(path), "%s/token", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(ref, sizeof(ref), "file:%s", path);
    char *v = NULL;
    alarm(10);
    assert_int_equal(conf_secret_resolve(ref, &v, err, sizeof(err)), AT_EINVAL);
    alarm(0);
    assert_null(v);
    char want[256];
    snprintf(want, sizeof(want), "secret file %s is not a regular file", path);
    assert_string_equal(err, want);
    unlink(path);
    rmdir(dir);
}

/* ---- value parsers ------------------------------------------------------ */

static void test_duration_table(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t ms;
    } t[] = {
        {"250ms", AT_OK, 250},
        {"20s", AT_OK, 20000},
        {"12m", AT_OK, 720000},
        {"1h", AT_OK, 3600000},
        {"1d", AT_OK, 86400000},
        {"1.5s", AT_OK, 1500},
        {"0.25m", AT_OK, 15000},
        {"30", AT_OK, 30000},
        {"0", AT_OK, 0},
        {"2.5", AT_OK, 2500},
        {"0.001s", AT_OK, 1},
        {"-1s", AT_EINVAL, 0},
        {"10x", AT_EINVAL, 0},
        {"", AT_EINVAL, 0},
        {"s", AT_EINVAL, 0},
        {"1.s", AT_EINVAL, 0},
        {"1S", AT_EINVAL, 0},
        {" 1s", AT_EINVAL, 0},
        {"1s ", AT_EINVAL, 0},
        {"0.0005s", AT_EINVAL, 0},
        {"99999999999999999999d", AT_ERANGE, 0},
        {"9223372036854775807ms", AT_OK, INT64_MAX},
        {"9223372036854776s", AT_ERANGE, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t ms = -7;
        int rc = conf_parse_duration(t[i].s, &ms);
        if (rc != t[i].rc || (rc == AT_OK && ms != t[i].ms)) {
            fail_msg("duration \"%s\": rc %d ms %lld, want rc %d ms %lld", t[i].s, rc,
                     (long long)ms, t[i].rc, (long long)t[i].ms);
        }
        if (rc != AT_OK) {
            assert_int_equal(ms, -7);
        }
    }
}

static void test_size_table(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int64_t b;
    } t[] = {
        {"512", AT_OK, 512},
        {"512B", AT_OK, 512},
        {"64K", AT_OK, 65536},
        {"64k", AT_OK, 65536},
        {"64KB", AT_OK, 65536},
        {"2M", AT_OK, 2097152},
        {"1G", AT_OK, 1073741824},
        {"1GiB", AT_OK, 1073741824},
        {"1.5K", AT_OK, 1536},
        {"0", AT_OK, 0},
        {"1.5", AT_EINVAL, 0},
        {"-1K", AT_EINVAL, 0},
        {"10x", AT_EINVAL, 0},
        {"", AT_EINVAL, 0},
        {"K", AT_EINVAL, 0},
        {"9223372036854775807", AT_OK, INT64_MAX},
        {"9223372036854775808", AT_ERANGE, 0},
        {"8388608T", AT_ERANGE, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t b = -7;
        int rc = conf_parse_size(t[i].s, &b);
        if (rc != t[i].rc || (rc == AT_OK && b != t[i].b)) {
            fail_msg("size \"%s\": rc %d bytes %lld, want rc %d bytes %lld", t[i].s, rc,
                     (long long)b, t[i].rc, (long long)t[i].b);
        }
    }
}

static void test_scalar_parsers(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "Yes", "on", "1"};
    static const char *const no[] = {"false", "False", "NO", "off", "0"};
    static const char *const junk[] = {"", "maybe", "2", "tru", " true", "true "};
    bool b;
    for (size_t i = 0; i < 5; i++) {
        b = false;
        assert_int_equal(conf_parse_bool(yes[i], &b), AT_OK);
        assert_true(b);
        b = true;
        assert_int_equal(conf_parse_bool(no[i], &b), AT_OK);
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        assert_int_equal(conf_parse_bool(junk[i], &b), AT_EINVAL);
    }

    int64_t v = 0;
    assert_int_equal(conf_parse_int("-9223372036854775808", &v), AT_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(conf_parse_int("9223372036854775807", &v), AT_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(conf_parse_int("+42", &v), AT_OK);
    assert_int_equal(v, 42);
    assert_int_equal(conf_parse_int("9223372036854775808", &v), AT_ERANGE);
    assert_int_equal(conf_parse_int("-9223372036854775809", &v), AT_ERANGE);
    assert_int_equal(conf_parse_int("12x", &v), AT_EINVAL);
    assert_int_equal(conf_parse_int("0x10", &v), AT_EINVAL);
    assert_int_equal(conf_parse_int("1e3", &v), AT_EINVAL);
    assert_int_equal(conf_parse_int(" 1", &v), AT_EINVAL);
    assert_int_equal(conf_parse_int("", &v), AT_EINVAL);
    assert_int_equal(conf_parse_int("-", &v), AT_EINVAL);

    double d = 0;
    assert_int_equal(conf_parse_double("-0.5", &d), AT_OK);
    assert_true(d == -0.5);
    assert_int_equal(conf_parse_double("1e3", &d), AT_OK);
    assert_true(d == 1000.0);
    assert_int_equal(conf_parse_double("NaN", &d), AT_EINVAL);
    assert_int_equal(conf_parse_double("-inf", &d), AT_EINVAL);
    assert_int_equal(conf_parse_double("infinity", &d), AT_EINVAL);
    assert_int_equal(conf_parse_double("1e999", &d), AT_ERANGE);
    assert_int_equal(conf_parse_double("1.5x", &d), AT_EINVAL);
    assert_int_equal(conf_parse_double("", &d), AT_EINVAL);
}

/* ---- describe ----------------------------------------------------------- */

static void test_describe(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    conf_describe(schema, out);
    fclose(out);
    assert_non_null(strstr(buf, "KEY"));
    assert_non_null(strstr(buf, "DESCRIPTION"));
    /* One header line plus one line per field. */
    size_t lines = 0;
    for (const char *p = buf; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, 1 + sizeof(schema) / sizeof(schema[0]) - 1);
    const char *port = strstr(buf, "\nport ");
    assert_non_null(port);
    const char *eol = strchr(port + 1, '\n');
    char row[256];
    snprintf(row, sizeof(row), "%.*s", (int)(eol - port - 1), port + 1);
    assert_non_null(strstr(row, " int "));
    assert_non_null(strstr(row, " 5621 "));
    assert_non_null(strstr(row, " no "));
    assert_non_null(strstr(row, " 1..65535 "));
    assert_non_null(strstr(row, " port"));
    assert_non_null(strstr(buf, "secret (env:NAME|file:PATH)"));
    assert_non_null(strstr(buf, "live|paper"));
    assert_non_null(strstr(buf, "1s..1h"));
    assert_non_null(strstr(buf, "1K..1G"));
    const char *sym = strstr(buf, "\nsymbols ");
    assert_non_null(sym);
    assert_non_null(strstr(sym, " yes "));
    assert_non_null(strstr(sym, "instruments to trade"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sections_and_entries),
        cmocka_unit_test(test_indented_line_is_not_a_continuation),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_syntax_error_does_not_echo_line),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_long_lines_parse_like_short_ones),
        cmocka_unit_test(test_long_line_errors),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_long_value_from_file),
        cmocka_unit_test(test_duplicate_section_and_key),
        cmocka_unit_test(test_invalid_section_names),
        cmocka_unit_test(test_key_outside_section),
        cmocka_unit_test(test_load_file_and_missing_file),
        cmocka_unit_test(test_conf_err_shapes),
        cmocka_unit_test(test_defaults_applied),
        cmocka_unit_test(test_values_at_offsets),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_unknown_keys_and_hints),
        cmocka_unit_test(test_required_missing),
        cmocka_unit_test(test_all_errors_reported_at_once),
        cmocka_unit_test(test_invalid_default_in_schema),
        cmocka_unit_test(test_secret_env),
        cmocka_unit_test(test_secret_file_modes),
        cmocka_unit_test(test_secret_fifo),
        cmocka_unit_test(test_duration_table),
        cmocka_unit_test(test_size_table),
        cmocka_unit_test(test_scalar_parsers),
        cmocka_unit_test(test_describe),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}

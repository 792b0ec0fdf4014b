/* Fuzz target for the modules.ini reader and schema validator (core/conf.h).
 *
 * The input is INI text. It is parsed with conf_load_string, then every
 * section is applied to a schema that has one field of each type, and every
 * value is run through the scalar parsers. Properties checked: conf_apply
 * returns exactly the number of errors it added, every error names the file,
 * and a section that applied without errors left values that respect the
 * schema (ranges, enum index, trimmed non-empty list items).
 *
 * Secret references of the form "file:PATH" are redirected to a path that does
 * not exist before conf_apply sees them: a fuzzer-chosen path could name a
 * FIFO or a device and block the run. "env:NAME" only reads the environment
 * and is left alone. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <aitrader/types.h>

#include "conf.h"
#include "log.h"

#define FUZZ_FILE "fuzz.ini"
#define SAFE_SECRET "file:/nonexistent/aitrader-fuzz/secret"

typedef struct fuzz_ctx {
    const char *name;
    int64_t count;
    bool flag;
    double ratio;
    int64_t timeout_ms;
    int64_t buffer;
    int color;
    at_cfg_list symbols;
    const char *api_key;
    const char *url;
} fuzz_ctx;

static const char *const colors[] = {"red", "green", "blue", NULL};

static const at_cfg_field schema[] = {
    {"name", AT_CFG_STR, "default", 0, offsetof(fuzz_ctx, name), 0, 0, NULL, "a string"},
    {"count", AT_CFG_INT, "3", AT_CFG_RANGE, offsetof(fuzz_ctx, count), -5, 1000, NULL,
     "an integer in -5..1000"},
    {"flag", AT_CFG_BOOL, "false", 0, offsetof(fuzz_ctx, flag), 0, 0, NULL, "a boolean"},
    {"ratio", AT_CFG_DOUBLE, "0.5", AT_CFG_RANGE, offsetof(fuzz_ctx, ratio), 0, 1, NULL,
     "a double in 0..1"},
    {"timeout", AT_CFG_DURATION, "20s", AT_CFG_RANGE, offsetof(fuzz_ctx, timeout_ms), 1, 86400000,
     NULL, "a duration up to 1d"},
    {"buffer", AT_CFG_SIZE, "64K", 0, offsetof(fuzz_ctx, buffer), 0, 0, NULL, "a size"},
    {"color", AT_CFG_ENUM, "red", 0, offsetof(fuzz_ctx, color), 0, 0, colors, "an enum"},
    {"symbols", AT_CFG_LIST, "BTC-USDT-SWAP,ETH-USDT-SWAP", 0, offsetof(fuzz_ctx, symbols), 0, 0,
     NULL, "a list"},
    {"api_key", AT_CFG_SECRET, NULL, 0, offsetof(fuzz_ctx, api_key), 0, 0, NULL, "a secret"},
    {"url", AT_CFG_STR, NULL, AT_CFG_REQUIRED, offsetof(fuzz_ctx, url), 0, 0, NULL,
     "a required string"},
    {0},
};

static const char *const ignore[] = {AT_CFG_KEY_MODULE, AT_CFG_KEY_ENABLED, NULL};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_config: property violated: %s\n", what);
        abort();
    }
}

static void check_rc(int rc, const char *what)
{
    check(rc == AT_OK || rc == AT_EINVAL || rc == AT_ERANGE, what);
}

static void check_errors(const conf_errors *errs, size_t from)
{
    for (size_t i = from; i < errs->n; i++) {
        check(errs->msgs[i] != NULL, "error message present");
        check(strncmp(errs->msgs[i], FUZZ_FILE, strlen(FUZZ_FILE)) == 0,
              "error message starts with the file name");
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A section that validated cleanly must hold values the schema allows. */
static void check_ctx(const fuzz_ctx *c)
{
    check(c->name != NULL, "name has its default");
    check(c->url != NULL, "required url is set");
    check(c->count >= -5 && c->count <= 1000, "count in range");
    check(c->ratio >= 0 && c->ratio <= 1, "ratio in range");
    check(c->timeout_ms >= 1 && c->timeout_ms <= 86400000, "timeout in range");
    check(c->buffer >= 0, "buffer is not negative");
    check(c->color >= 0 && c->color < 3, "enum index valid");
    check(c->symbols.n == 0 || c->symbols.items != NULL, "list items present");
    for (size_t i = 0; i < c->symbols.n; i++) {
        const char *it = c->symbols.items[i];
        size_t n = it ? strlen(it) : 0;
        check(n > 0, "list item not empty");
        /* conf_schema.c trims blanks (space, tab) around items; other
         * control characters are kept as data. */
        check(!is_blank(it[0]) && !is_blank(it[n - 1]), "list item trimmed");
    }
}

/* Apply the schema to one section; returns the number of errors. */
static int apply_one(const char *name, const conf_section *sec, conf_errors *errs)
{
    fuzz_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    conf_owned *owned = NULL;
    size_t before = errs->n;
    int n = conf_apply(FUZZ_FILE, name, sec, schema, ignore, &ctx, &owned, errs);
    check(n >= 0 && (size_t)n == errs->n - before, "conf_apply returns the errors it added");
    check_errors(errs, before);
    if (n == 0) {
        check_ctx(&ctx);
    }
    conf_owned_free(owned);
    return n;
}

static void parse_values(const char *v)
{
    bool b;
    int64_t i;
    double d;
    check_rc(conf_parse_bool(v, &b), "conf_parse_bool rc");
    check_rc(conf_parse_int(v, &i), "conf_parse_int rc");
    check_rc(conf_parse_double(v, &d), "conf_parse_double rc");
    if (conf_parse_duration(v, &i) == AT_OK) {
        check(i >= 0, "duration not negative");
    }
    check_rc(conf_parse_size(v, &i), "conf_parse_size rc");
}

static void fuzz_section(const conf_file *f, const conf_section *s, conf_errors *errs)
{
    check(s->name != NULL && s->kind != NULL && s->instance != NULL, "section names set");
    check(conf_section_get(f, s->name) != NULL, "section found by name");

    /* Shallow copy whose secret entries cannot reach the file system. */
    conf_entry *entries = calloc(s->n ? s->n : 1, sizeof *entries);
    if (!entries) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        const conf_entry *e = &s->entries[i];
        check(e->key != NULL && e->value != NULL, "entry key and value set");
        check(conf_entry_get(s, e->key) != NULL, "entry found by key");
        parse_values(e->value);
        entries[i] = *e;
        if (strncasecmp(e->value, "file:", 5) == 0) {
            entries[i].value = (char *)SAFE_SECRET;
        }
    }
    conf_section safe = *s;
    safe.entries = entries;

    int n1 = apply_one(s->name, &safe, errs);
    /* Applying is deterministic: a second pass reports the same count. */
    int n2 = apply_one(s->name, &safe, errs);
    check(n1 == n2, "conf_apply is repeatable");
    free(entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';

    conf_errors errs = {0};
    conf_file *f = conf_load_string(FUZZ_FILE, text, &errs);
    check(f != NULL, "conf_load_string returns a file");
    check_errors(&errs, 0);
    for (size_t i = 0; f && i < f->n; i++) {
        fuzz_section(f, &f->secs[i], &errs);
    }
    /* Section absent from the file: only defaults and the required key. */
    check(apply_one("fuzz.missing", NULL, &errs) >= 1, "missing required key is reported");

    conf_errors_free(&errs);
    conf_free(f);
    free(text);
    /* Secrets from env: references are registered for log redaction; drop
     * them so memory stays flat over a long fuzzing session. */
    log_shutdown();
    return 0;
}

#include "harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "util.h"

struct harness {
    engine *e;
    at_instance *inst;
    char tmp[256];
    struct event *tick;
};

static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = s; (p = strstr(p, from)); p += fl) {
        n++;
    }
    char *out = malloc(strlen(s) + n * tl + 1);
    if (!out) {
        return NULL;
    }
    char *o = out;
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    return out;
}

/* Whether the [core] section (core .. core_end) sets key at a line start. */
static bool core_sets(const char *core, const char *core_end, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = core; (p = strstr(p, key)) && (!core_end || p < core_end); p += n) {
        if (p[-1] == '\n') {
            return true;
        }
    }
    return false;
}

/* [core] defaults for tests, one key per line, built to any length (a
 * checkout's path may be as deep as the user likes); keys the text already
 * sets under [core] win. */
static char *with_core(const char *text, const char *tmp)
{
    const char *lvl = getenv("AT_TEST_LOG_LEVEL");
    char *vals[4] = {
        at_asprintf("plugin_dir = %s/plugins, %s/test-plugins\n", AT_TEST_BINARY_DIR,
                    AT_TEST_BINARY_DIR),
        at_asprintf("data_dir = %s/data\n", tmp),
        at_asprintf("sql_dir = %s/sql\n", AT_TEST_SOURCE_DIR),
        at_asprintf("log_level = %s\n", lvl ? lvl : "warn"),
    };
    const char *keys[4] = {"plugin_dir", "data_dir", "sql_dir", "log_level"};
    const char *core = strstr(text, "[core]");
    const char *core_end = core ? strstr(core + 6, "\n[") : NULL;
    char *extra = at_strdup("");
    char *out = NULL;
    for (int i = 0; i < 4 && extra; i++) {
        if (!vals[i]) {
            goto done;
        }
        if (core && core_sets(core, core_end, keys[i])) {
            continue;
        }
        char *more = at_asprintf("%s%s", extra, vals[i]);
        free(extra);
        extra = more;
    }
    if (!extra) {
        goto done;
    }
    if (!core) {
        out = at_asprintf("[core]\n%s\n%s", extra, text);
    } else {
        const char *after = strchr(core, '\n');
        after = after ? after + 1 : core + strlen(core);
        out = at_asprintf("%.*s%s%s", (int)(after - text), text, extra, after);
    }
done:
    for (int i = 0; i < 4; i++) {
        free(vals[i]);
    }
    free(extra);
    return out;
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {}

harness *harness_new(const char *ini_text)
{
    harness *h = calloc(1, sizeof(*h));
    if (!h) {
        return NULL;
    }
    snprintf(h->tmp, sizeof(h->tmp), "/tmp/at-test-XXXXXX");
    if (!mkdtemp(h->tmp)) {
        free(h);
        return NULL;
    }
    char *text = replace_all(ini_text, "@TMP@", h->tmp);
    char *full = text ? with_core(text, h->tmp) : NULL;
    free(text);
    char *path = at_asprintf("%s/modules.ini", h->tmp);
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!full || !f) {
        fprintf(stderr, "harness: cannot write %s\n", path ? path : "config");
        goto fail;
    }
    fputs(full, f);
    fclose(f);
    f = NULL;

    engine_opts o = {.config_path = path};
    h->e = engine_new(&o);
    conf_errors errs = {0};
    if (!h->e || engine_load(h->e, &errs) != AT_OK) {
        for (size_t i = 0; i < errs.n; i++) {
            fprintf(stderr, "harness: %s\n", errs.msgs[i]);
        }
        fprintf(stderr, "harness: config was:\n%s\n", full);
        conf_errors_free(&errs);
        goto fail;
    }
    conf_errors_free(&errs);
    if (engine_start(h->e) != AT_OK) {
        fprintf(stderr, "harness: engine failed to start\n");
        goto fail;
    }
    h->inst = engine_virtual_instance(h->e, "test.harness");
    h->tick = event_new(engine_base(h->e), -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 2000};
    event_add(h->tick, &tv);
    free(full);
    free(path);
    return h;
fail:
    free(full);
    free(path);
    if (h->e) {
        engine_free(h->e);
        h->e = NULL;
    }
    harness_free(h);
    return NULL;
}

const at_host *harness_host(harness *h)
{
    return engine_host();
}

at_instance *harness_inst(harness *h)
{
    return h->inst;
}

const char *harness_tmpdir(harness *h)
{
    return h->tmp;
}

bool harness_flag_set(void *arg)
{
    return *(int *)arg != 0;
}

bool harness_run_until(harness *h, bool (*done)(void *arg), void *arg, int64_t timeout_ms)
{
    int64_t end = at_mono_us() + timeout_ms * 1000;
    while (!done(arg)) {
        if (at_mono_us() > end) {
            return done(arg);
        }
        /* The 2 ms tick bounds each turn so the deadline is checked. */
        event_base_loop(engine_base(h->e), EVLOOP_ONCE);
    }
    return true;
}

static bool never(void *arg)
{
    return false;
}

void harness_run_for(harness *h, int64_t ms)
{
    harness_run_until(h, never, NULL, ms);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

void harness_free(harness *h)
{
    if (!h) {
        return;
    }
    if (h->tick) {
        event_free(h->tick);
    }
    if (h->e) {
        engine_free(h->e);
    }
    if (h->tmp[0] && !getenv("AT_TEST_KEEP_TMP")) {
        nftw(h->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(h);
}

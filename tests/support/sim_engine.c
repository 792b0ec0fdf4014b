#include "sim_engine.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void sim_engine_open(sim_engine *s, const char *tag, const char *dir, int64_t start_us,
                     bool no_gate)
{
    sim_engine_open_ini(s, tag, dir, start_us, no_gate, NULL);
}

void sim_engine_open_ini(sim_engine *s, const char *tag, const char *dir, int64_t start_us,
                         bool no_gate, const char *extra)
{
    char again[sizeof(s->dir)] = ""; /* dir may be s->dir itself */
    if (dir) {
        snprintf(again, sizeof(again), "%s", dir);
    }
    memset(s, 0, sizeof(*s));
    if (dir) {
        snprintf(s->dir, sizeof(s->dir), "%s", again);
    } else {
        snprintf(s->dir, sizeof(s->dir), "/tmp/at-%.20s-XXXXXX", tag);
        assert_non_null(mkdtemp(s->dir));
    }
    char *ini = at_asprintf("%s/modules.ini", s->dir);
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    const char *level = getenv("AT_TEST_LOG_LEVEL");
    fprintf(f,
            "[core]\nplugin_dir = %s/plugins%s%s%s\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = %s\n[storage.sqlite]\npath = %s/t.db\n",
            AT_TEST_BINARY_DIR, extra ? ", " : "", extra ? AT_TEST_BINARY_DIR : "",
            extra ? "/test-plugins" : "", s->dir, AT_TEST_SOURCE_DIR, level ? level : "error",
            s->dir);
    if (extra) {
        fputs(extra, f);
    }
    fclose(f);
    engine_opts o = {
        .config_path = ini, .sim_clock = true, .sim_start_us = start_us, .no_gate = no_gate};
    s->e = engine_new(&o);
    assert_non_null(s->e);
    conf_errors errs = {0};
    assert_int_equal(engine_load(s->e, &errs), AT_OK);
    conf_errors_free(&errs);
    assert_int_equal(engine_start(s->e), AT_OK);
    free(ini);
    s->h = engine_host();
}

void sim_engine_close(sim_engine *s, bool remove)
{
    engine_free(s->e);
    s->e = NULL;
    if (remove && !getenv("AT_TEST_KEEP_TMP")) {
        char *cmd = at_asprintf("rm -rf '%s'", s->dir);
        if (system(cmd) != 0) {
            print_message("cannot remove %s\n", s->dir);
        }
        free(cmd);
    }
}

typedef struct sqwait {
    bool done;
    int err;
    char error[256];
} sqwait;

static void on_done(void *arg, int err, const char *error)
{
    sqwait *w = arg;
    w->done = true;
    w->err = err;
    snprintf(w->error, sizeof(w->error), "%s", error ? error : "");
}

static bool is_done(void *arg)
{
    return ((sqwait *)arg)->done;
}

void sim_engine_sql(sim_engine *s, at_instance *as, const char *sql, const at_db_value *p, size_t n)
{
    sqwait w = {0};
    assert_int_equal(s->h->db_write(as, sql, p, n, on_done, &w), AT_OK);
    assert_true(engine_wait(s->e, is_done, &w, 5000000));
    if (w.err != AT_OK) {
        print_message("%s: %s\n", sql, w.error);
    }
    assert_int_equal(w.err, AT_OK);
}

typedef struct collect {
    sqwait w;
    char *out;
    size_t cap;
    size_t nrows;
} collect;

static int on_row(void *arg, const at_db_row *row)
{
    collect *c = arg;
    c->nrows++;
    size_t n = strlen(c->out);
    for (size_t i = 0; i < row->ncols && n < c->cap; i++) {
        const at_db_value *v = &row->cols[i];
        if (v->type == AT_DB_INT) {
            n += (size_t)snprintf(c->out + n, c->cap - n, "%lld", (long long)v->u.i);
        } else if (v->type == AT_DB_REAL) {
            n += (size_t)snprintf(c->out + n, c->cap - n, "%g", v->u.r);
        } else {
            n += (size_t)snprintf(c->out + n, c->cap - n, "%s",
                                  v->type == AT_DB_TEXT && v->u.s ? v->u.s : "null");
        }
        if (n < c->cap) {
            n += (size_t)snprintf(c->out + n, c->cap - n, "%s", i + 1 < row->ncols ? "|" : ";");
        }
    }
    return 0;
}

static size_t query(sim_engine *s, at_instance *as, const char *sql, const at_db_value *p, size_t n)
{
    collect c = {.out = s->rows, .cap = sizeof(s->rows)};
    s->rows[0] = '\0';
    assert_int_equal(s->h->db_query(as, sql, p, n, on_row, on_done, &c.w), AT_OK);
    assert_true(engine_wait(s->e, is_done, &c.w, 5000000));
    if (c.w.err != AT_OK) {
        print_message("%s: %s\n", sql, c.w.error);
    }
    assert_int_equal(c.w.err, AT_OK);
    return c.nrows;
}

const char *sim_engine_query(sim_engine *s, at_instance *as, const char *sql)
{
    query(s, as, sql, NULL, 0);
    return s->rows;
}

const char *sim_engine_row(sim_engine *s, at_instance *as, const char *sql, const at_db_value *p,
                           size_t n)
{
    size_t nrows = query(s, as, sql, p, n);
    if (nrows > 1) {
        fail_msg("%s: %zu rows where one was expected: %s", sql, nrows, s->rows);
    }
    size_t len = strlen(s->rows);
    if (len > 0 && s->rows[len - 1] == ';') {
        s->rows[len - 1] = '\0';
    }
    return s->rows;
}

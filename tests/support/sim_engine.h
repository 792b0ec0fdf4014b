/* A real engine on the simulated clock with SQLite in a temporary
 * directory, for unit tests of core modules (executor, keeper, ledger,
 * equity, trader) that publish events themselves and read the tables:
 *
 *   sim_engine S;
 *   sim_engine_open(&S, "ledger", NULL, T0_US, false);
 *   at_instance *src = engine_virtual_instance(S.e, "test.venue");
 *   sim_engine_sql(&S, src, "INSERT …", params, n);
 *   assert_string_equal(sim_engine_query(&S, src, "SELECT a, b FROM t"), "1|x;2|y;");
 *   assert_string_equal(sim_engine_row(&S, src, "SELECT b FROM t WHERE a = $1", p, 1), "x");
 *   sim_engine_close(&S, true);
 *
 * Opened again on the same directory (dir = S.dir) it is a restart: the
 * same database. Assertions are cmocka's. */
#ifndef AT_TEST_SIM_ENGINE_H
#define AT_TEST_SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/host.h>

#include "engine.h"

typedef struct sim_engine {
    char dir[64];
    engine *e;
    const at_host *h;
    char rows[8192]; /* sim_engine_query's answer */
} sim_engine;

/* dir NULL: a fresh /tmp/at-<tag>-XXXXXX; else that directory again.
 * no_gate: without the executor (the test plays it). log level from
 * AT_TEST_LOG_LEVEL, default error. */
void sim_engine_open(sim_engine *s, const char *tag, const char *dir, int64_t start_us,
                     bool no_gate);
/* The same with `extra` appended to its modules.ini (more sections:
 * [exchange.*], [ai.*], [trader.*] …; build/test-plugins is searched too).
 * The file is s->dir/modules.ini. */
void sim_engine_open_ini(sim_engine *s, const char *tag, const char *dir, int64_t start_us,
                         bool no_gate, const char *extra);
/* Free the engine; remove its directory when `remove`. */
void sim_engine_close(sim_engine *s, bool remove);
/* A write through `as`, waited for (and asserted) until committed. */
void sim_engine_sql(sim_engine *s, at_instance *as, const char *sql, const at_db_value *p,
                    size_t n);
/* A read through `as`: rows as "col|col;col|col;" (NULL as "null", a real
 * as %g); the answer lives in s->rows until the next query. */
const char *sim_engine_query(sim_engine *s, at_instance *as, const char *sql);
/* A read through `as` with parameters that answers one row at most: its
 * cells as "col|col" ("" when there is none); a second row fails the test. */
const char *sim_engine_row(sim_engine *s, at_instance *as, const char *sql, const at_db_value *p,
                           size_t n);

#endif

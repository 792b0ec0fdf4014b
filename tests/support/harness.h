/* Test harness: runs the real engine in-process (real loader, real plugins
 * from the build tree, real bus and storage) and gives the test a plugin-like
 * handle on it: the host table and an instance named "test.harness".
 *
 *   harness *h = harness_new("[storage.sqlite]\npath = @TMP@/t.db\n");
 *   const at_host *host = harness_host(h);
 *   host->db_write(harness_inst(h), "INSERT …", params, n, done, &flag);
 *   assert_true(harness_run_until(h, flag_set, &flag, 5000));
 *   harness_free(h);
 *
 * "@TMP@" in the ini text is replaced by a fresh temporary directory (removed
 * by harness_free). [core] plugin_dir defaults to the build tree's plugins and
 * data_dir to the temp dir, unless the text sets them. */
#ifndef AT_TEST_HARNESS_H
#define AT_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <aitrader/host.h>

typedef struct harness harness;

/* Load and start the engine; NULL (after printing every config error) on failure. */
harness *harness_new(const char *ini_text);
const at_host *harness_host(harness *h);
at_instance *harness_inst(harness *h);
const char *harness_tmpdir(harness *h);
/* Drive the loop until done(arg) is true (checked after every loop turn) or
 * timeout_ms of wall time passed. Returns done(arg). */
bool harness_run_until(harness *h, bool (*done)(void *arg), void *arg, int64_t timeout_ms);
/* Drive the loop for ms of wall time. */
void harness_run_for(harness *h, int64_t ms);
/* Stop the engine as on SIGTERM (reverse order, storage flushed), free all. */
void harness_free(harness *h);

/* Common predicate: *(int *)arg != 0. */
bool harness_flag_set(void *arg);

#endif

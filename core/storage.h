/* Storage facade behind host->db_write / db_query: writes go to every
 * storage instance in start order; reads and completion callbacks come from
 * the first one (the primary). */
#ifndef AT_CORE_STORAGE_H
#define AT_CORE_STORAGE_H

#include <aitrader/host.h>

/* Register a started-or-starting storage instance (main thread). */
void storage_add(at_instance *inst);
int storage_write(at_instance *caller, const char *sql, const at_db_value *params, size_t n,
                  at_db_done_cb done, void *arg);
int storage_query(at_instance *caller, const char *sql, const at_db_value *params, size_t n,
                  at_db_row_cb row, at_db_done_cb done, void *arg);
/* The primary's flush (done once every write queued before is committed). */
int storage_flush(at_db_done_cb done, void *arg);
/* The primary's at_storage_ops.snapshot: AT_ENOENT (why says so) when it
 * has none, or no storage is enabled. */
int storage_snapshot(const char *path, char *why, size_t whylen);
/* Count the requests with a done callback still waiting for it (off by
 * default: a replay turns it on, and waits for none before it moves the
 * simulated clock). */
void storage_count_answers(bool on);
size_t storage_pending(void);
/* Number of storage instances. */
size_t storage_count(void);
void storage_shutdown(void);

#endif

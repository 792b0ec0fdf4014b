/* A trader's agent id in the ai_agents table (sql/sqlite/010_ai_agents.sql,
 * the same in sql/postgres), so the next start reuses the agent instead of
 * creating another. A row of another server (base_url) is ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_run.h"

typedef struct read_ctx {
    lt_agent *a;
    void (*next)(lt_agent *a);
} read_ctx;

static int on_row(void *arg, const at_db_row *row)
{
    read_ctx *r = arg;
    lt_agent *a = r->a;
    if (row->ncols < 2 || row->cols[0].type != AT_DB_TEXT || row->cols[1].type != AT_DB_TEXT) {
        return 1;
    }
    const char *id = row->cols[0].u.s, *url = row->cols[1].u.s;
    if (strcmp(url, a->L->root) != 0) {
        a->L->h->log(a->L->inst, AT_LOG_INFO,
                     "%s: the stored agent %s is of another server (%s): looked up by name",
                     a->name, id, url);
    } else if (!lt_id_ok(id)) {
        a->L->h->log(a->L->inst, AT_LOG_WARN, "%s: the stored agent id is malformed: ignored",
                     a->name);
    } else {
        snprintf(a->id, sizeof(a->id), "%s", id);
    }
    return 1;
}

static void on_read(void *arg, int err, const char *error)
{
    read_ctx r = *(read_ctx *)arg;
    free(arg);
    r.a->stored = 2;
    if (err != AT_OK) {
        r.a->L->h->log(r.a->L->inst, AT_LOG_WARN, "%s: the stored agent id cannot be read: %s",
                       r.a->name, error ? error : "storage error");
    }
    if (!r.a->L->stopping) {
        r.next(r.a);
    }
}

void lt_store_read(lt_agent *a, void (*next)(lt_agent *a))
{
    lt_ctx *L = a->L;
    read_ctx *r = malloc(sizeof(*r));
    const char *self = L->h->instance_name(L->inst);
    const at_db_value p[] = {AT_DB_S(self), AT_DB_S(a->trader)};
    int rc = AT_ENOMEM;
    if (r) {
        *r = (read_ctx){a, next};
        a->stored = 1;
        rc = L->h->db_query(L->inst,
                            "SELECT agent_id, base_url FROM ai_agents WHERE provider = $1 AND "
                            "trader = $2",
                            p, 2, on_row, on_read, r);
    }
    if (rc != AT_OK) {
        /* no storage: found by name each start */
        free(r);
        a->stored = 2;
        next(a);
    }
}

static void on_written(void *arg, int err, const char *error)
{
    if (err != AT_OK) {
        lt_ctx *L = arg;
        L->h->log(L->inst, AT_LOG_WARN, "an agent id was not stored (%s): found by name next time",
                  error ? error : "storage error");
    }
}

void lt_store_write(lt_agent *a)
{
    lt_ctx *L = a->L;
    int64_t now = L->h->now_us() / 1000;
    const at_db_value p[] = {AT_DB_S(L->h->instance_name(L->inst)),
                             AT_DB_S(a->trader),
                             AT_DB_S(a->id),
                             AT_DB_S(a->name),
                             AT_DB_S(L->root),
                             AT_DB_S(a->server_model ? a->server_model : a->model),
                             AT_DB_I(now)};
    int rc = L->h->db_write(L->inst,
                            "INSERT INTO ai_agents (provider, trader, agent_id, agent_name, "
                            "base_url, model, created_ms, updated_ms) VALUES ($1,$2,$3,$4,$5,$6,"
                            "$7,$7) ON CONFLICT (provider, trader) DO UPDATE SET agent_id = $3, "
                            "agent_name = $4, base_url = $5, model = $6, updated_ms = $7",
                            p, sizeof(p) / sizeof(p[0]), on_written, L);
    if (rc != AT_OK && rc != AT_ESTATE) {
        on_written(L, rc, "the write was refused");
    }
}

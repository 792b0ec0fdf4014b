#include "storage.h"

#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "engine.h"
#include "log.h"

static struct {
    at_instance **v;
    size_t n;
    bool warned;
    size_t pending; /* requests with a done callback not answered yet */
    bool counting;  /* storage_count_answers(true): a replay */
} st;

/* A request's own callback, counted while it is out (storage_pending) in a
 * replay. Every answer is delivered after the events published before it:
 * the storage thread answers on its own schedule, and what a callback does
 * (a paper venue filling at its book once the order's row is committed)
 * must see the market it would see on another machine, or in a replay. */
typedef struct counted {
    at_db_row_cb row;
    at_db_done_cb done;
    void *arg;
    bool counted;
} counted;

static int on_counted_row(void *arg, const at_db_row *row)
{
    counted *c = arg;
    return c->row(c->arg, row);
}

static void on_counted(void *arg, int err, const char *error)
{
    counted c = *(counted *)arg;
    free(arg);
    if (c.counted) {
        st.pending--;
    }
    bus_settle(); /* refused inside a delivery: then it is one already */
    c.done(c.arg, err, error);
}

/* Wrap done (and row: they share arg); NULL (out of memory) leaves them as
 * they are. */
static counted *count(at_db_row_cb *row, at_db_done_cb *done, void **arg)
{
    counted *c = *done ? malloc(sizeof(*c)) : NULL;
    if (c) {
        *c = (counted){row ? *row : NULL, *done, *arg, st.counting};
        if (row && *row) {
            *row = on_counted_row;
        }
        *done = on_counted;
        *arg = c;
        if (c->counted) {
            st.pending++; /* before the call: a backend may answer inside it */
        }
    }
    return c;
}

/* After the call: a refused request is not answered (done does not run). */
static int counted_rc(counted *c, int rc)
{
    if (c && rc != AT_OK) {
        if (c->counted) {
            st.pending--;
        }
        free(c);
    }
    return rc;
}

void storage_count_answers(bool on)
{
    st.counting = on;
}

size_t storage_pending(void)
{
    return st.pending;
}

void storage_add(at_instance *inst)
{
    at_instance **v = realloc(st.v, (st.n + 1) * sizeof(*v));
    if (!v) {
        log_msg("core", AT_LOG_ERROR, "out of memory registering storage %s", inst->name);
        return;
    }
    st.v = v;
    st.v[st.n++] = inst;
}

size_t storage_count(void)
{
    return st.n;
}

static const at_storage_ops *ops_of(const at_instance *in)
{
    return in->lp.plugin->ops;
}

static int no_storage(at_instance *caller)
{
    if (!st.warned) {
        log_msg(caller ? caller->name : "core", AT_LOG_ERROR,
                "no [storage.*] instance is enabled: nothing can be stored");
        st.warned = true;
    }
    return AT_ESTATE;
}

int storage_write(at_instance *caller, const char *sql, const at_db_value *params, size_t n,
                  at_db_done_cb done, void *arg)
{
    if (!sql || (n && !params)) {
        return AT_EINVAL;
    }
    if (st.n == 0) {
        return no_storage(caller);
    }
    counted *c = count(NULL, &done, &arg);
    int rc = counted_rc(c, ops_of(st.v[0])->write(st.v[0]->ctx, sql, params, n, done, arg));
    if (rc != AT_OK) {
        return rc;
    }
    /* Secondaries: same write, their completion is their own business (they
     * queue and journal rather than lose it). */
    for (size_t i = 1; i < st.n; i++) {
        int r2 = ops_of(st.v[i])->write(st.v[i]->ctx, sql, params, n, NULL, NULL);
        if (r2 != AT_OK) {
            log_msg(st.v[i]->name, AT_LOG_ERROR, "write refused: %d", r2);
        }
    }
    return AT_OK;
}

int storage_query(at_instance *caller, const char *sql, const at_db_value *params, size_t n,
                  at_db_row_cb row, at_db_done_cb done, void *arg)
{
    if (!sql || (n && !params)) {
        return AT_EINVAL;
    }
    if (st.n == 0) {
        return no_storage(caller);
    }
    counted *c = count(&row, &done, &arg);
    return counted_rc(c, ops_of(st.v[0])->query(st.v[0]->ctx, sql, params, n, row, done, arg));
}

int storage_flush(at_db_done_cb done, void *arg)
{
    if (st.n == 0) {
        return AT_ESTATE;
    }
    counted *c = count(NULL, &done, &arg);
    return counted_rc(c, ops_of(st.v[0])->flush(st.v[0]->ctx, done, arg));
}

int storage_snapshot(const char *path, char *why, size_t whylen)
{
    const at_storage_ops *o = st.n ? ops_of(st.v[0]) : NULL;
    if (!o || !AT_STRUCT_HAS(o->struct_size, at_storage_ops, snapshot) || !o->snapshot) {
        snprintf(why, whylen, "%s cannot copy its database",
                 st.n ? st.v[0]->name : "no storage instance is enabled: nothing");
        return AT_ENOENT;
    }
    return o->snapshot(st.v[0]->ctx, path, why, whylen);
}

void storage_shutdown(void)
{
    free(st.v);
    st.v = NULL;
    st.n = 0;
    st.warned = false;
    st.pending = 0; /* requests never answered: their wrappers are the backend's loss */
}

/* Storage reads for a request: each query's rows become JSON objects named
 * by the SQL's column aliases (so a route is its SQL), the next step runs
 * when the query is done, and a storage failure is a 503 that names the
 * storage, never the SQL. Reads see every write queued before them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"

#define JSON_SUFFIX "_json"

dash_job *dash_job_new(dash *d, uint64_t req)
{
    dash_job *j = calloc(1, sizeof(*j));
    if (!j) {
        dash_reply_fail(d, req, 500, "internal", "out of memory");
        return NULL;
    }
    j->d = d;
    j->req = req;
    return j;
}

void dash_job_free(dash_job *j)
{
    if (j) {
        json_decref(j->rows);
        json_decref(j->out);
        free(j);
    }
}

void dash_job_reply(dash_job *j, int status, json_t *body)
{
    if (!body) {
        body = j->out;
        j->out = NULL;
    }
    dash_reply(j->d, j->req, status, body);
    dash_job_free(j);
}

static bool is_bool_col(const char *bools, const char *name)
{
    if (!bools) {
        return false;
    }
    size_t n = strlen(name);
    for (const char *p = bools; (p = strstr(p, name)) != NULL; p += n) {
        if (p > bools && p[-1] == ',' && p[n] == ',') {
            return true;
        }
    }
    return false;
}

static json_t *value_json(const at_db_value *v, bool as_bool, bool as_json)
{
    switch (v->type) {
    case AT_DB_INT:
        return as_bool ? json_boolean(v->u.i != 0) : json_integer(v->u.i);
    case AT_DB_REAL:
        return v->u.r == v->u.r && v->u.r - v->u.r == 0 ? json_real(v->u.r) : json_null();
    case AT_DB_TEXT:
        if (as_bool) { /* PostgreSQL booleans come as "t"/"f" */
            return json_boolean(v->u.s[0] == 't' || v->u.s[0] == '1');
        }
        if (as_json) {
            json_t *x = json_loads(v->u.s, JSON_DECODE_ANY, NULL);
            return x ? x : json_string(v->u.s);
        }
        {
            json_t *x = json_string(v->u.s);
            return x ? x : json_null(); /* not UTF-8: nothing a browser could show */
        }
    case AT_DB_BOOL:
        return json_boolean(v->u.b);
    default:
        return json_null();
    }
}

static int on_row(void *arg, const at_db_row *row)
{
    dash_job *j = arg;
    json_t *o = json_object();
    if (!o) {
        return 1;
    }
    for (size_t c = 0; c < row->ncols; c++) {
        const char *name = row->names[c] ? row->names[c] : "";
        size_t n = strlen(name), sn = strlen(JSON_SUFFIX);
        bool as_json = n > sn && strcmp(name + n - sn, JSON_SUFFIX) == 0;
        char key[96];
        snprintf(key, sizeof(key), "%.*s", (int)(as_json ? n - sn : n), name);
        json_object_set_new(o, key,
                            value_json(&row->cols[c], is_bool_col(j->bools, name), as_json));
    }
    json_array_append_new(j->rows, o);
    return 0;
}

static void on_done(void *arg, int err, const char *error)
{
    dash_job *j = arg;
    if (!j->d->started) {
        /* storage answering while the engine stops (it stops last): nobody
         * to answer, and nothing may be published or armed any more */
        dash_job_free(j);
        return;
    }
    if (err != AT_OK) {
        j->d->h->log(j->d->inst, AT_LOG_WARN, "a dashboard read failed: %s",
                     error ? error : "storage error");
        dash_reply_fail(j->d, j->req, 503, "storage_unavailable",
                        "the storage could not answer (see the engine's log)");
        dash_job_free(j);
        return;
    }
    dash_job_fn next = j->next;
    j->next = NULL;
    next(j);
}

void dash_job_query(dash_job *j, const char *sql, const at_db_value *p, size_t n, const char *bools,
                    dash_job_fn next)
{
    json_decref(j->rows);
    j->rows = json_array();
    j->bools = bools;
    j->next = next;
    int rc = j->rows ? j->d->h->db_query(j->d->inst, sql, p, n, on_row, on_done, j) : AT_ENOMEM;
    if (rc != AT_OK) {
        dash_reply_fail(j->d, j->req, 503, "storage_unavailable",
                        rc == AT_ENOMEM ? "out of memory"
                                        : "no storage to read from (enable a [storage.*] section)");
        dash_job_free(j);
    }
}

/* Pipelined units. One unit is in flight at a time and ends with a Sync:
 *
 *   batch  BEGIN, w1 … wn, COMMIT, Sync   consecutive writes, one transaction
 *   solo   w, Sync                        one write (implicit transaction)
 *   query  q, Sync
 *   rollback  ROLLBACK, Sync              after an aborted batch left the
 *                                         session in a failed transaction
 *
 * A batch costs one round trip. When write k fails, the server aborts the
 * rest (PIPELINE_ABORTED) and nothing commits: k alone is reported, the others
 * stay at the head of the queue and go again in the next unit. Writes that
 * were in flight when a connection dropped, or that a failed COMMIT could not
 * attribute, go solo so that each outcome is known. Waiting for the Sync
 * before the next unit keeps the order exact: a later unit never commits
 * before an earlier one is settled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

bool pg_transient(const char *state)
{
    if (!state || !*state) {
        return true; /* no SQLSTATE: the error came from the connection */
    }
    if (strcmp(state, "57014") == 0 || strcmp(state, "08P01") == 0) {
        /* statement timeout: it would time out again; protocol violation:
         * what we sent does not fit the statement (parameter count) */
        return false;
    }
    if (strcmp(state, "25006") == 0 || strcmp(state, "55P03") == 0) {
        return true; /* read-only standby during a failover; lock not available */
    }
    static const char *const classes[] = {"08", "40", "53", "57", "58"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strncmp(state, classes[i], 2) == 0) {
            return true;
        }
    }
    return false;
}

/* Errors that come from the parameter types we announced, not the data. */
static bool type_error(const char *state)
{
    return strcmp(state, "42804") == 0 || strcmp(state, "42883") == 0 ||
           strcmp(state, "42P08") == 0 || strcmp(state, "42725") == 0;
}

static void unit_reset(pg_unit *u)
{
    for (size_t i = 0; i < u->nsteps; i++) {
        free(u->steps[i].msg);
    }
    memset(u, 0, sizeof(*u));
}

static void add_step(pg_unit *u, pg_step_kind kind, pg_item *it)
{
    pg_step *s = &u->steps[u->nsteps++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->it = it;
}

static const char *ctrl_sql(const pg_unit *u, size_t i)
{
    if (u->kind == U_ROLLBACK) {
        return "ROLLBACK";
    }
    return i == 0 ? "BEGIN" : "COMMIT";
}

/* Finish an item at the head segment of the queue (where units come from). */
static void finish_item(pg *p, pg_item *it, int err, const char *msg)
{
    pg_item *prev = NULL;
    for (pg_item *q = p->head; q && q != it; q = q->next) {
        prev = q;
    }
    pg_finish(p, prev, it, err, msg);
}

/* Pick the next unit from the head of the queue. */
static void build_unit(pg *p)
{
    pg_unit *u = &p->unit;
    if (p->need_rollback) {
        u->kind = U_ROLLBACK;
        add_step(u, ST_CTRL, NULL);
        add_step(u, ST_SYNC, NULL);
        return;
    }
    for (;;) {
        pg_item *h = p->head;
        while (h && h->kind == PG_FLUSH) {
            /* everything before it is finished */
            pg_finish(p, NULL, h, AT_OK, NULL);
            h = p->head;
        }
        if (!h) {
            return;
        }
        if (h->kind == PG_QUERY) {
            u->kind = U_QUERY;
            add_step(u, ST_QUERY, h);
            add_step(u, ST_SYNC, NULL);
            return;
        }
        size_t n = 0;
        bool retry = false;
        pg_item *items[PG_BATCH_MAX];
        for (pg_item *it = h; it && it->kind == PG_WRITE && n < PG_BATCH_MAX; it = it->next) {
            bool alone = it->solo || it->inflight;
            if (n > 0 && alone) {
                break;
            }
            if (pg_journal_materialise(p, it) != AT_OK) {
                /* unreadable record: report it and start over */
                finish_item(p, it, AT_EIO, "journal record unreadable");
                pg_journal_done(p, 0);
                retry = true;
                break;
            }
            items[n++] = it;
            if (alone) {
                break;
            }
        }
        if (retry) {
            continue;
        }
        if (n == 1) {
            u->kind = U_SOLO;
            add_step(u, ST_WRITE, items[0]);
        } else {
            u->kind = U_BATCH;
            add_step(u, ST_CTRL, NULL);
            for (size_t i = 0; i < n; i++) {
                add_step(u, ST_WRITE, items[i]);
            }
            add_step(u, ST_CTRL, NULL);
        }
        add_step(u, ST_SYNC, NULL);
        return;
    }
}

/* Send the unit; AT_EIO when the connection was dropped. */
static int send_unit(pg *p)
{
    pg_unit *u = &p->unit;
    Oid *oids = NULL;
    u->sent = true; /* from here on the server may execute any of it */
    u->start_us = pg_mono_us();
    for (size_t i = 0; i + 1 < u->nsteps; i++) {
        pg_step *s = &u->steps[i];
        int ok;
        if (s->kind == ST_CTRL) {
            ok = PQsendQueryParams(p->conn, ctrl_sql(u, i), 0, NULL, NULL, NULL, NULL, 0);
        } else {
            pg_item *it = s->it;
            Oid *grown = realloc(oids, (size_t)(it->n ? it->n : 1) * sizeof(Oid));
            if (!grown) {
                free(oids);
                pg_conn_lost(p, "out of memory sending a batch");
                return AT_EIO;
            }
            oids = grown;
            pg_item_oids(it, oids);
            ok = PQsendQueryParams(p->conn, it->sql, it->n, it->n ? oids : NULL,
                                   (const char *const *)it->vals, NULL, NULL, 0);
        }
        if (!ok) {
            free(oids);
            pg_conn_lost(p, PQerrorMessage(p->conn));
            return AT_EIO;
        }
    }
    free(oids);
    if (!PQpipelineSync(p->conn)) {
        pg_conn_lost(p, PQerrorMessage(p->conn));
        return AT_EIO;
    }
    return pg_flush_out(p);
}

void pg_pump(pg *p)
{
    if (p->in_io) {
        return; /* an outer pump carries on */
    }
    p->in_io = true;
    while (p->head && p->head->kind == PG_FLUSH) {
        pg_finish(p, NULL, p->head, AT_OK, NULL);
    }
    if (p->cstate == PG_READY && p->conn && p->unit.kind == U_NONE) {
        build_unit(p);
        if (p->unit.kind != U_NONE) {
            send_unit(p);
        }
    }
    p->in_io = false;
    if (p->conn && p->cstate == PG_READY) {
        pg_watch(p, AT_FD_READ | (p->want_flush ? AT_FD_WRITE : 0));
    }
    pg_gauges(p);
}

static void deliver_rows(pg *p, pg_step *s, PGresult *res)
{
    pg_item *it = s->it;
    int ncols = PQnfields(res), nrows = PQntuples(res);
    if (!it->row || nrows == 0) {
        return;
    }
    const char **names = calloc((size_t)(ncols ? ncols : 1), sizeof(*names));
    at_db_value *cols = calloc((size_t)(ncols ? ncols : 1), sizeof(*cols));
    Oid *types = calloc((size_t)(ncols ? ncols : 1), sizeof(*types));
    if (!names || !cols || !types) {
        s->status = -1;
        snprintf(s->state, sizeof(s->state), "53200");
        s->msg = strdup("out of memory reading rows");
        goto done;
    }
    for (int c = 0; c < ncols; c++) {
        names[c] = PQfname(res, c);
        types[c] = PQftype(res, c);
    }
    at_db_row row = {.ncols = (size_t)ncols, .names = names, .cols = cols};
    for (int r = 0; r < nrows; r++) {
        for (int c = 0; c < ncols; c++) {
            const char *v = PQgetvalue(res, r, c);
            if (PQgetisnull(res, r, c)) {
                cols[c] = AT_DB_N;
            } else if (types[c] == 20 || types[c] == 21 || types[c] == 23) {
                cols[c] = AT_DB_I(strtoll(v, NULL, 10)); /* int8, int2, int4 */
            } else if (types[c] == 700 || types[c] == 701) {
                cols[c] = AT_DB_R(strtod(v, NULL)); /* float4, float8 */
            } else {
                cols[c] = (at_db_value){.type = AT_DB_TEXT, .u.s = v};
            }
        }
        if (it->row(it->arg, &row) != 0) {
            break;
        }
    }
done:
    free(names);
    free(cols);
    free(types);
}

static void failure_text(const pg_step *s, char *buf, size_t cap)
{
    char line[400];
    pg_oneline(s->msg, line, sizeof(line));
    if (s->state[0]) {
        snprintf(buf, cap, "%s (SQLSTATE %s)", line, s->state);
    } else {
        snprintf(buf, cap, "%s", line);
    }
}

/* A write failed with a statement error. Returns true when the item was
 * finished, false when it stays queued (it is resent). *lost is set for
 * errors that call for a new connection. */
static bool write_failed(pg *p, pg_step *s, bool *lost)
{
    pg_item *it = s->it;
    char text[512];
    failure_text(s, text, sizeof(text));
    if (pg_transient(s->state)) {
        *lost = true;
        return false;
    }
    if (strcmp(s->state, "23505") == 0 && it->inflight) {
        p->host->log(p->inst, AT_LOG_DEBUG,
                     "write was in flight at a connection loss and is already applied (%s)", text);
        finish_item(p, it, AT_OK, NULL);
        return true;
    }
    if (type_error(s->state) && !it->untyped) {
        it->untyped = true; /* again, with every parameter type left to the server */
        return false;
    }
    p->host->log(p->inst, AT_LOG_WARN, "write failed: %s [%.160s]", text, it->sql);
    finish_item(p, it, AT_EDB, text);
    return true;
}

static pg_step *first_error(pg_unit *u)
{
    for (size_t i = 0; i < u->nsteps; i++) {
        if (u->steps[i].status == -1) {
            return &u->steps[i];
        }
    }
    return NULL;
}

/* The unit's Sync arrived: settle its items. Returns 1, or -1 when the
 * connection was dropped. */
static int unit_done(pg *p)
{
    pg_unit *u = &p->unit;
    pg_step *err = first_error(u);
    bool lost = false;
    char text[512] = "";
    uint64_t ack = 0;
    bool prefix = true, journal_touched = false;

    if (u->kind == U_QUERY) {
        pg_item *it = u->steps[0].it;
        if (!err) {
            finish_item(p, it, AT_OK, NULL);
        } else if (pg_transient(err->state)) {
            lost = true;
        } else if (err->kind == ST_QUERY && type_error(err->state) && !it->untyped) {
            it->untyped = true;
        } else {
            failure_text(err, text, sizeof(text));
            finish_item(p, it, AT_EDB, text);
        }
    } else if (u->kind == U_SOLO || u->kind == U_BATCH) {
        if (!err) {
            if (p->m_commit) {
                p->host->metric_observe(p->m_commit, (double)(pg_mono_us() - u->start_us));
            }
        } else if (err->kind == ST_CTRL || err->kind == ST_SYNC) {
            /* BEGIN/COMMIT failed, or the commit at the Sync: no write to blame */
            if (pg_transient(err->state) || (err->kind == ST_CTRL && err == &u->steps[0])) {
                lost = true;
            } else if (u->kind == U_BATCH) {
                for (size_t i = 0; i < u->nsteps; i++) {
                    if (u->steps[i].kind == ST_WRITE) {
                        u->steps[i].it->solo = true;
                    }
                }
            } else {
                pg_step *w = &u->steps[0];
                w->status = -1;
                memcpy(w->state, err->state, sizeof(w->state));
                w->msg = err->msg ? strdup(err->msg) : NULL;
                err = w;
            }
        }
        for (size_t i = 0; i < u->nsteps && !lost; i++) {
            pg_step *s = &u->steps[i];
            if (s->kind != ST_WRITE) {
                continue;
            }
            pg_item *it = s->it;
            bool journaled = it->journaled;
            uint64_t seq = it->jseq;
            bool finished = false;
            if (!err) {
                finish_item(p, it, AT_OK, NULL);
                finished = true;
            } else if (s == err) {
                finished = write_failed(p, s, &lost);
            }
            if (journaled && finished) {
                journal_touched = true;
                if (prefix) {
                    ack = seq;
                }
            }
            if (!finished) {
                prefix = false;
            }
        }
    }
    PGTransactionStatusType ts = PQtransactionStatus(p->conn);
    p->need_rollback = ts == PQTRANS_INERROR || ts == PQTRANS_INTRANS;
    if (err && lost) {
        failure_text(err, text, sizeof(text));
    }
    unit_reset(u);
    if (journal_touched) {
        pg_journal_done(p, ack);
    }
    if (lost) {
        pg_conn_lost(p, text[0] ? text : "connection error");
        return -1;
    }
    return 1;
}

int pg_pipe_result(pg *p, PGresult *res)
{
    pg_unit *u = &p->unit;
    if (u->kind == U_NONE) {
        PQclear(res);
        return 0;
    }
    if (!res) {
        /* end of one statement's results */
        if (u->got && u->cur + 1 < u->nsteps) {
            u->cur++;
        }
        u->got = false;
        return 1;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_PIPELINE_SYNC) {
        PQclear(res);
        return unit_done(p);
    }
    pg_step *s = &u->steps[u->cur];
    if (u->got && s->kind != ST_SYNC) {
        PQclear(res); /* a second result for one statement: nothing we sent makes one */
        return 1;
    }
    switch (st) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        s->status = 1;
        if (s->kind == ST_QUERY && st == PGRES_TUPLES_OK) {
            deliver_rows(p, s, res);
        }
        break;
    case PGRES_PIPELINE_ABORTED:
        s->status = -2;
        u->failed = true;
        break;
    default: {
        /* an error; at the Sync step it is the commit of an implicit transaction */
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        s->status = -1;
        snprintf(s->state, sizeof(s->state), "%s", state ? state : "");
        free(s->msg);
        s->msg = pg_result_text(res);
        u->failed = true;
        break;
    }
    }
    u->got = s->kind != ST_SYNC;
    PQclear(res);
    return 1;
}

void pg_pipe_abandon(pg *p)
{
    pg_unit *u = &p->unit;
    if ((u->kind == U_BATCH || u->kind == U_SOLO) && u->sent && !u->failed) {
        size_t n = 0;
        for (size_t i = 0; i < u->nsteps; i++) {
            if (u->steps[i].kind == ST_WRITE) {
                u->steps[i].it->inflight = true;
                n++;
            }
        }
        p->host->log(p->inst, AT_LOG_DEBUG,
                     "%zu writes were in flight at the loss: they may have committed; a unique "
                     "violation on replay counts as applied",
                     n);
    }
    unit_reset(u);
}

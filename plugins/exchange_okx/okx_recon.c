/* Start-up reconciliation of an OKX account (okx_trade_start): what a
 * previous run left and what OKX has that no intent of ours explains.
 *   - orders rows a previous run left "sent" or "unknown" (a place or a
 *     close-position) are looked up at OKX by clOrdId (okx_trade.c settles
 *     each, okx_trade_reconcile); a cancel, amend or cancel_algo left
 *     without its answer is marked "unknown" (the order it acted on tells);
 *   - open orders at OKX (orders-pending) and algo orders (every pending
 *     one is listed and published by okx_algo.c, which hands each here)
 *     that no stored intent explains are reported (log and ALERT), never
 *     touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_recon.h"

/* An allocation failed where the work cannot go on: said, never silent. */
static void oom(okx_ctx *c, const char *what)
{
    c->h->log(c->inst, AT_LOG_ERROR, "%s: out of memory", what);
}

/* A text column (PostgreSQL gives every column as text). */
static const char *dbcol_s(const at_db_row *row, size_t i)
{
    return i < row->ncols && row->cols[i].type == AT_DB_TEXT && row->cols[i].u.s ? row->cols[i].u.s
                                                                                 : NULL;
}

/* ------------------------------------------------------------ unsettled rows */

typedef struct recon {
    okx_ctx *c;
    size_t n;
} recon;

static int on_unsettled_row(void *arg, const at_db_row *row)
{
    recon *rc = arg;
    okx_ctx *c = rc->c;
    const char *op = dbcol_s(row, 3);
    int64_t created = 0;
    const char *cr = dbcol_s(row, 4);
    if (cr) {
        created = strtoll(cr, NULL, 10);
    } else if (row->ncols > 4 && row->cols[4].type == AT_DB_INT) {
        created = row->cols[4].u.i;
    }
    const char *id = dbcol_s(row, 0), *cl = dbcol_s(row, 1), *inst = dbcol_s(row, 2);
    at_intent_op o =
        op && strcmp(op, "close_position") == 0 ? AT_INTENT_CLOSE_POSITION : AT_INTENT_PLACE;
    if (okx_trade_reconcile(c, id ? id : "", cl ? cl : "", inst ? inst : "", o, created) != AT_OK) {
        oom(c, "reconciliation: the remaining unsettled orders wait for the next start");
        return 1;
    }
    rc->n++;
    return 0;
}

static void on_unsettled_done(void *arg, int err, const char *error)
{
    recon *rc = arg;
    if (err != AT_OK) {
        rc->c->h->log(rc->c->inst, AT_LOG_ERROR, "reconciliation: cannot read orders: %s",
                      error ? error : "?");
    } else if (rc->n) {
        rc->c->h->log(rc->c->inst, AT_LOG_INFO,
                      "reconciliation: %zu order(s) of a previous run without an answer; asking "
                      "OKX by clOrdId",
                      rc->n);
    }
    free(rc);
}

/* Open orders at OKX that none of our intents explains: reported only. */
typedef struct pending_check {
    okx_ctx *c;
    json_t *orders;
    size_t i;
} pending_check;

static void check_next_pending(pending_check *pc);

static int on_known_row(void *arg, const at_db_row *row)
{
    bool *known = arg;
    *known = true;
    return 1;
}

typedef struct known_q {
    pending_check *pc;
    bool known;
} known_q;

static int on_known(void *arg, const at_db_row *row)
{
    known_q *k = arg;
    return on_known_row(&k->known, row);
}

static void on_known_done(void *arg, int err, const char *error)
{
    known_q *k = arg;
    pending_check *pc = k->pc;
    json_t *o = json_array_get(pc->orders, pc->i);
    if (err == AT_OK && !k->known) {
        okx_ctx *c = pc->c;
        char text[256];
        snprintf(text, sizeof(text),
                 "%s: open order %s (%s %s %s, clOrdId '%s') is not ours; left untouched", c->name,
                 okx_jstr(o, "ordId"), okx_jstr(o, "instId"), okx_jstr(o, "side"),
                 okx_jstr(o, "sz"), okx_jstr(o, "clOrdId"));
        okx_alert(c, AT_LOG_WARN, text);
    }
    free(k);
    pc->i++;
    check_next_pending(pc);
}

static void check_next_pending(pending_check *pc)
{
    if (pc->i >= json_array_size(pc->orders)) {
        json_decref(pc->orders);
        free(pc);
        return;
    }
    json_t *o = json_array_get(pc->orders, pc->i);
    known_q *k = calloc(1, sizeof(*k));
    if (!k) {
        oom(pc->c, "reconciliation: open orders at OKX left unchecked");
        json_decref(pc->orders);
        free(pc);
        return;
    }
    k->pc = pc;
    const at_db_value p[] = {AT_DB_S(okx_jstr(o, "clOrdId")), AT_DB_S(okx_jstr(o, "ordId"))};
    pc->c->h->db_query(pc->c->inst,
                       "SELECT intent_id FROM orders WHERE cl_ord_id = $1 OR ord_id = $2", p, 2,
                       on_known, on_known_done, k);
}

static void on_pending(void *arg, const okx_reply *r)
{
    okx_ctx *c = arg;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !r->data) {
        c->h->log(c->inst, AT_LOG_WARN, "reconciliation: orders-pending failed: %s %s", r->code,
                  r->msg);
        return;
    }
    pending_check *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        oom(c, "reconciliation: open orders at OKX left unchecked");
        return;
    }
    pc->c = c;
    pc->orders = json_incref(r->data);
    check_next_pending(pc);
}

/* Algo orders at OKX: ours carry algoClOrdId = clOrdId + "a" of an intent we
 * stored; any other is reported, not touched. */
typedef struct algo_check {
    okx_ctx *c;
    char algo_id[AT_ID_LEN], algo_cl[AT_ID_LEN], inst_id[OKX_INST_ID_LEN];
    bool known;
} algo_check;

static int on_algo_known(void *arg, const at_db_row *row)
{
    ((algo_check *)arg)->known = true;
    return 1;
}

static void on_algo_known_done(void *arg, int err, const char *error)
{
    algo_check *k = arg;
    if (err == AT_OK && !k->known) {
        okx_ctx *c = k->c;
        char text[256];
        snprintf(text, sizeof(text),
                 "%s: algo order %s (%s, algoClOrdId '%s') is not ours; left untouched", c->name,
                 k->algo_id, k->inst_id, k->algo_cl);
        okx_alert(c, AT_LOG_WARN, text);
    }
    free(k);
}

void okx_recon_check_algo(okx_ctx *c, const json_t *o)
{
    algo_check *k = calloc(1, sizeof(*k));
    if (!k) {
        oom(c, "reconciliation: an algo order at OKX left unchecked");
        return;
    }
    k->c = c;
    snprintf(k->algo_id, sizeof(k->algo_id), "%s", okx_jstr(o, "algoId"));
    snprintf(k->algo_cl, sizeof(k->algo_cl), "%s", okx_jstr(o, "algoClOrdId"));
    snprintf(k->inst_id, sizeof(k->inst_id), "%s", okx_jstr(o, "instId"));
    size_t n = strlen(k->algo_cl);
    if (n < 2 || k->algo_cl[n - 1] != 'a') {
        on_algo_known_done(k, AT_OK, NULL); /* not in our form: not ours */
        return;
    }
    char cl[AT_ID_LEN];
    snprintf(cl, sizeof(cl), "%.*s", (int)n - 1, k->algo_cl);
    const at_db_value p[] = {AT_DB_S(cl), AT_DB_S(c->name)};
    if (c->h->db_query(c->inst,
                       "SELECT intent_id FROM orders WHERE cl_ord_id = $1 AND account = $2", p, 2,
                       on_algo_known, on_algo_known_done, k) != AT_OK) {
        free(k); /* no storage: nothing tells ours apart (done is not called) */
    }
}

void okx_recon_start(okx_ctx *c)
{
    recon *rc = calloc(1, sizeof(*rc));
    if (!rc) {
        oom(c, "reconciliation: orders of a previous run wait for the next start");
    } else {
        rc->c = c;
        const at_db_value p[] = {AT_DB_S(c->name)};
        /* A cancel, amend or cancel_algo of a previous run without its
         * answer: what it acted on tells (its own row, the pushes). */
        c->h->db_write(c->inst,
                       "UPDATE orders SET state = 'unknown', msg = 'no answer before the "
                       "restart; the order it acted on tells' WHERE account = $1 AND op IN "
                       "('cancel', 'amend', 'cancel_algo') AND state = 'sent'",
                       p, 1, NULL, NULL);
        int qrc = c->h->db_query(c->inst,
                                 "SELECT intent_id, cl_ord_id, inst_id, op, updated_ms FROM orders "
                                 "WHERE account = $1 AND op IN ('place', 'close_position') AND "
                                 "state IN ('sent', 'unknown')",
                                 p, 1, on_unsettled_row, on_unsettled_done, rc);
        if (qrc != AT_OK) { /* no storage: nothing of a previous run to reconcile */
            c->h->log(c->inst, AT_LOG_WARN,
                      "reconciliation: stored orders cannot be read (error %d); intents of a "
                      "previous run are not looked up",
                      qrc);
            free(rc);
        }
    }
    okx_rest_get(c->rest, "/api/v5/trade/orders-pending", "instType=SWAP", true, on_pending, c);
    /* Every pending algo order is published (the engine learns the TP/SL
     * a previous run left) and checked for foreign ones. */
    okx_algo_list(c, true);
}

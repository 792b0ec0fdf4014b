/* One round of a question about an order (okx_push.h; when and how often is
 * okx_ask.c's): trade/order (the order's state, through the push path of
 * okx_push.c: an answer older than what is known changes nothing), then
 * trade/fills page by page, then the fills rows here. Each fill neither
 * has is recorded; when what both have adds up to less than the order's
 * accFillSz, trade/fills is behind trade/order (or a fill is lost): the
 * question is asked again, and after its retries an ALERT names the order
 * and the size missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_push.h"
#include "okx_sign.h"

#define FILLS_PAGE 100 /* trade/fills' largest page */
#define FILLS_PAGES_MAX 20

/* The fills found add up: trade/fills' rows and the fills rows here, each
 * trade once, recorded where missing, against the order's accFillSz. */
static void reconcile(okx_question *q)
{
    okx_ctx *c = q->c;
    at_dec sum = {0, 0};
    bool sum_ok = true;
    const char *tid;
    json_t *sz;
    json_object_foreach(q->stored, tid, sz)
    {
        at_dec d;
        sum_ok = sum_ok && c->h->dec_parse(okx_jstr(q->stored, tid), (size_t)-1, &d) == AT_OK &&
                 c->h->dec_add(sum, d, &sum) == AT_OK;
        okx_known_trade_add(c, q->inst_id, tid); /* so a later push knows it */
    }
    size_t i;
    json_t *f;
    json_array_foreach(q->fills, i, f)
    {
        json_t *copy = json_deep_copy(f);
        if (!copy) {
            okx_ask_failed(q, "out of memory reading trade/fills");
            return;
        }
        /* trade/fills names the fee "fee"; the push names it "fillFee". */
        json_object_set(copy, "fillFee", json_object_get(f, "fee"));
        json_object_set(copy, "fillFeeCcy", json_object_get(f, "feeCcy"));
        if (!json_object_get(f, "fee")) {
            json_object_del(copy, "fillFee");
        }
        /* trade/fills does not say which algo order placed the order;
         * trade/order did */
        json_object_set_new(copy, "algoClOrdId", json_string(q->algo_cl_ord_id));
        okx_source src;
        snprintf(src.what, sizeof(src.what), "fill at OKX (%.40s %.48s tradeId %.32s)", q->inst_id,
                 okx_jstr(f, "ordId"), okx_jstr(f, "tradeId"));
        src.then = "not recorded";
        okx_fill_vals v;
        if (okx_fill_of(c, &src, copy, true, &v) != 1) {
            q->refused++;
        } else if (!json_object_get(q->stored, okx_jstr(f, "tradeId"))) {
            okx_record_fill(c, copy, &v); /* unless a push or a question recorded it */
            json_object_set_new(q->stored, okx_jstr(f, "tradeId"),
                                json_string(okx_jstr(f, "fillSz")));
            sum_ok = sum_ok && c->h->dec_add(sum, v.sz, &sum) == AT_OK;
        }
        json_decref(copy);
    }
    const char *id = *q->ord_id ? q->ord_id : q->cl_ord_id;
    char text[512];
    if (q->refused) {
        snprintf(text, sizeof(text),
                 "%s: order %s %s: %u value(s) in OKX's answers could not be used (see the "
                 "warnings): its state or fills here may be behind; check the order at OKX",
                 c->name, q->inst_id, id, q->refused);
        okx_alert(c, AT_LOG_ERROR, text);
    } else if (q->acc_known && sum_ok && c->h->dec_cmp(sum, q->acc) < 0) {
        /* trade/fills is behind trade/order, or a fill is lost */
        unsigned asked = q->tries + 1;
        if (okx_ask_retry(q)) {
            return;
        }
        at_dec missing;
        char m[AT_DEC_STRLEN] = "?", acc[AT_DEC_STRLEN] = "?";
        if (c->h->dec_sub(q->acc, sum, &missing) == AT_OK) {
            c->h->dec_format(missing, m);
        }
        c->h->dec_format(q->acc, acc);
        snprintf(text, sizeof(text),
                 "%s: order %s %s: %s of its accFillSz %s not found in trade/fills (asked %u "
                 "times): a fill is missing here; check the order at OKX",
                 c->name, q->inst_id, id, m, acc, asked);
        okx_alert(c, AT_LOG_ERROR, text);
    } else if (q->after_refusal) {
        c->h->log(c->inst, AT_LOG_INFO, "order %s %s asked again after a refused push: %zu fill(s)",
                  q->inst_id, id, json_array_size(q->fills));
    }
    okx_ask_finish(q);
}

static int on_stored_row(void *arg, const at_db_row *row)
{
    okx_question *q = arg;
    if (!q->orphan && row->ncols >= 2 && row->cols[0].type == AT_DB_TEXT &&
        row->cols[1].type == AT_DB_TEXT) {
        json_object_set_new(q->stored, row->cols[0].u.s, json_string(row->cols[1].u.s));
    }
    return 0;
}

static void on_stored_done(void *arg, int err, const char *error)
{
    okx_question *q = arg;
    q->db_reading = false;
    if (q->orphan) {
        okx_ask_free(q);
        return;
    }
    if (err != AT_OK) {
        char why[256];
        snprintf(why, sizeof(why), "fills rows not read: %s", error ? error : "?");
        okx_ask_failed(q, why);
        return;
    }
    reconcile(q);
}

static void read_stored(okx_question *q)
{
    okx_ctx *c = q->c;
    q->stored = json_object();
    if (!q->stored) {
        okx_ask_failed(q, "out of memory");
        return;
    }
    const at_db_value p[] = {AT_DB_S(c->name), AT_DB_S(q->inst_id), AT_DB_S(q->ord_id)};
    q->db_reading = true;
    int rc = c->h->db_query(c->inst,
                            "SELECT trade_id, sz FROM fills WHERE account = $1 AND inst_id = $2 "
                            "AND ord_id = $3",
                            p, 3, on_stored_row, on_stored_done, q);
    if (rc != AT_OK) {
        q->db_reading = false;
        okx_ask_failed(q, "fills rows could not be read");
    }
}

static void ask_fills(okx_question *q, const char *after);

static void on_fills_answer(void *arg, const okx_reply *r)
{
    okx_question *q = arg;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !json_is_array(r->data)) {
        char why[256];
        snprintf(why, sizeof(why), "trade/fills failed: %s %s", r->code, r->msg);
        okx_ask_failed(q, why);
        return;
    }
    if (json_array_extend(q->fills, r->data) != 0) {
        okx_ask_failed(q, "out of memory reading trade/fills");
        return;
    }
    q->pages++;
    /* A full page: the next one holds older fills (after its last billId). */
    json_t *last = json_array_get(r->data, json_array_size(r->data) - 1);
    if (json_array_size(r->data) >= FILLS_PAGE && *okx_jstr(last, "billId")) {
        if (q->pages < FILLS_PAGES_MAX) {
            char after[AT_ID_LEN];
            snprintf(after, sizeof(after), "%s", okx_jstr(last, "billId"));
            ask_fills(q, after);
            return;
        }
        q->c->h->log(q->c->inst, AT_LOG_WARN, "order %s %s: more than %d fills: the rest not read",
                     q->inst_id, q->ord_id, FILLS_PAGE * FILLS_PAGES_MAX);
    }
    read_stored(q);
}

static void ask_fills(okx_question *q, const char *after)
{
    char query[320] = "";
    okx_query_append(query, sizeof(query), "instType", "SWAP");
    okx_query_append(query, sizeof(query), "instId", q->inst_id);
    okx_query_append(query, sizeof(query), "ordId", q->ord_id);
    char limit[8];
    snprintf(limit, sizeof(limit), "%d", FILLS_PAGE);
    okx_query_append(query, sizeof(query), "limit", limit);
    if (after) {
        okx_query_append(query, sizeof(query), "after", after);
    }
    if (okx_rest_get_bg(q->c->rest, "/api/v5/trade/fills", query + 1, true, on_fills_answer, q) !=
        AT_OK) {
        okx_ask_failed(q, "trade/fills could not be sent");
    }
}

static void on_order_answer(void *arg, const okx_reply *r)
{
    okx_question *q = arg;
    okx_ctx *c = q->c;
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    if (r->err == AT_OK && strcmp(r->code, "51603") == 0 && q->maybe_unplaced) {
        /* its place request has no answer yet, or OKX never had it:
         * okx_trade.c settles that row */
        c->h->log(c->inst, AT_LOG_INFO, "resync: order %s %s is not at OKX (yet)", q->inst_id,
                  q->cl_ord_id);
        okx_ask_finish(q);
        return;
    }
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !d) {
        char why[256];
        snprintf(why, sizeof(why), "trade/order failed: %s %s", r->code, r->msg);
        okx_ask_failed(q, why);
        return;
    }
    /* The state through the push path without the last fill the answer
     * repeats: every fill comes from trade/fills below, once. */
    json_t *o = json_deep_copy(d);
    if (!o) {
        okx_ask_failed(q, "out of memory reading trade/order");
        return;
    }
    json_object_del(o, "tradeId");
    okx_source src;
    okx_order_source(&src, "order at OKX", o, "its state here is not updated");
    okx_order_vals v;
    if (okx_apply_order(c, &src, o, &v)) {
        q->acc_known = true;
        q->acc = v.acc_fill_sz;
    } else {
        q->refused++;
    }
    json_decref(o);
    if (!*okx_jstr(d, "ordId")) {
        okx_ask_failed(q, "OKX's answer has no ordId: its fills cannot be asked for");
        return;
    }
    snprintf(q->ord_id, sizeof(q->ord_id), "%s", okx_jstr(d, "ordId"));
    snprintf(q->algo_cl_ord_id, sizeof(q->algo_cl_ord_id), "%s", okx_jstr(d, "algoClOrdId"));
    q->fills = json_array();
    if (!q->fills) {
        okx_ask_failed(q, "out of memory");
        return;
    }
    ask_fills(q, NULL);
}

void okx_ask_send(okx_question *q)
{
    okx_ask_round_reset(q);
    char query[256] = "";
    okx_query_append(query, sizeof(query), "instId", q->inst_id);
    if (*q->ord_id) {
        okx_query_append(query, sizeof(query), "ordId", q->ord_id);
    } else {
        okx_query_append(query, sizeof(query), "clOrdId", q->cl_ord_id);
    }
    if (okx_rest_get_bg(q->c->rest, "/api/v5/trade/order", query + 1, true, on_order_answer, q) !=
        AT_OK) {
        okx_ask_failed(q, "trade/order could not be sent");
    }
}

/* When and how often OKX is asked about an order (okx_push.h); what is
 * asked and what the answers do is okx_answer.c's:
 *   - a push refused for an unusable value has its order asked about a
 *     moment later; refusals while a question waits are the same question,
 *     while it is being asked they make it ask once more when answered, and
 *     each new round for one order waits twice as long (1 s … 64 s);
 *   - when the private feed comes back, or refusals name no order or too
 *     many at once, every order open here (or not answered yet: 'sent',
 *     'unknown') is asked about: one resync at a time, asked for while one
 *     runs it runs again once done;
 *   - a few questions are asked at once per instance, as background reads
 *     (okx_rest_get_bg), so order operations never wait behind them;
 *   - a question that failed, or found fewer fills than the order's
 *     accFillSz (okx_answer.c), is asked again 1, 2, 4 and 8 s later, then
 *     said (an ALERT after a refused push). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_push.h"

/* OKX's REST views may trail the push by a moment: asking at once could
 * find the order without the fill that was refused. */
#define RECHECK_DELAY_MS 1000
/* Orders asked about after refused pushes at one time; past that (a venue
 * sending garbage for many orders), one resync of every open order. */
#define RECHECK_MAX 64
#define IN_FLIGHT_MAX 4 /* questions being asked at once */
#define RETRIES 4       /* after the first asking: 1, 2, 4, 8 s */
#define GAP_SHIFT_MAX 6 /* rounds for one order, or resyncs after refusals: up to 64 s apart */
#define GAP_RESET_US (600 * 1000000LL) /* quiet this long: back to 1 s */

typedef struct ready_q {
    okx_question *head, *tail;
} ready_q;

struct okx_asks {
    okx_question *all;
    size_t n, n_refusal;
    ready_q refusal_ready, resync_ready; /* refusals' first */
    unsigned in_flight;
    bool pumping;
    bool resync_running, resync_reading, resync_again;
    size_t resync_left;
    at_timer *resync_timer;
    unsigned resync_shift;
    int64_t resync_started_us;
};

static struct okx_asks *asks(okx_ctx *c)
{
    if (!c->asks && c->started) {
        c->asks = calloc(1, sizeof(*c->asks));
    }
    return c->asks;
}

static void resync_request(okx_ctx *c, bool after_refusal);
static void resync_done(okx_ctx *c);
static void pump(okx_ctx *c);

/* ------------------------------------------------------------ questions */

static okx_question *q_new(okx_ctx *c, const char *inst_id, const char *ord_id, const char *cl,
                           bool after_refusal)
{
    struct okx_asks *a = asks(c);
    okx_question *q = a ? calloc(1, sizeof(*q)) : NULL;
    if (!q) {
        return NULL;
    }
    q->c = c;
    q->after_refusal = after_refusal;
    snprintf(q->inst_id, sizeof(q->inst_id), "%s", inst_id);
    snprintf(q->ord_id, sizeof(q->ord_id), "%s", ord_id);
    snprintf(q->cl_ord_id, sizeof(q->cl_ord_id), "%s", cl);
    q->next = a->all;
    if (a->all) {
        a->all->prev = q;
    }
    a->all = q;
    a->n++;
    a->n_refusal += after_refusal;
    return q;
}

void okx_ask_round_reset(okx_question *q)
{
    json_decref(q->fills);
    json_decref(q->stored);
    q->fills = q->stored = NULL;
    q->pages = 0;
    q->refused = 0;
    q->acc_known = false;
}

static void unlink_q(okx_question *q)
{
    struct okx_asks *a = q->c->asks;
    if (q->prev) {
        q->prev->next = q->next;
    } else {
        a->all = q->next;
    }
    if (q->next) {
        q->next->prev = q->prev;
    }
    q->prev = q->next = NULL;
    a->n--;
    a->n_refusal -= q->after_refusal;
    if (q->timer) {
        q->c->h->timer_cancel(q->timer);
        q->timer = NULL;
    }
}

void okx_ask_free(okx_question *q)
{
    okx_ctx *c = q->c;
    bool last_of_resync = false;
    if (!q->orphan) {
        unlink_q(q);
        if (q->in_resync && c->asks->resync_left > 0) {
            last_of_resync = --c->asks->resync_left == 0 && !c->asks->resync_reading;
        }
    }
    okx_ask_round_reset(q);
    free(q);
    if (last_of_resync) {
        resync_done(c);
    }
}

static bool same_order(const okx_question *q, const char *inst_id, const char *ord_id,
                       const char *cl)
{
    return strcmp(q->inst_id, inst_id) == 0 &&
           ((*ord_id && strcmp(q->ord_id, ord_id) == 0) || (*cl && strcmp(q->cl_ord_id, cl) == 0));
}

static okx_question *find(struct okx_asks *a, const char *inst_id, const char *ord_id,
                          const char *cl)
{
    for (okx_question *q = a->all; q; q = q->next) {
        if (same_order(q, inst_id, ord_id, cl)) {
            return q;
        }
    }
    return NULL;
}

static void on_due(void *arg)
{
    okx_question *q = arg;
    q->timer = NULL; /* one-shot */
    struct okx_asks *a = q->c->asks;
    ready_q *r = q->after_refusal ? &a->refusal_ready : &a->resync_ready;
    q->st = OKX_Q_READY;
    q->next_ready = NULL;
    if (r->tail) {
        r->tail->next_ready = q;
    } else {
        r->head = q;
    }
    r->tail = q;
    pump(q->c);
}

/* Asked `delay_ms` from now (0: as soon as a slot is free). */
static void arm(okx_question *q, int64_t delay_ms)
{
    q->st = OKX_Q_WAITING;
    if (delay_ms > 0) {
        q->timer = q->c->h->timer_add(q->c->inst, delay_ms, 0, on_due, q);
        if (q->timer) {
            return;
        }
    }
    on_due(q); /* now rather than never */
}

/* The gap before the next round about this order after refusals: 1 s,
 * doubling while refusals keep coming, back to 1 s after a quiet while. */
static int64_t order_gap(okx_ctx *c, const okx_question *q)
{
    okx_order_seen *k = okx_known_order(c, q->inst_id, q->ord_id, true);
    if (!k) {
        return RECHECK_DELAY_MS;
    }
    int64_t now = c->h->now_us();
    if (k->asked_us && now - k->asked_us > GAP_RESET_US) {
        k->ask_shift = 0;
    }
    int64_t gap = (int64_t)RECHECK_DELAY_MS << k->ask_shift;
    k->ask_shift += k->ask_shift < GAP_SHIFT_MAX;
    k->asked_us = now;
    return gap;
}

static void pump(okx_ctx *c)
{
    struct okx_asks *a = c->asks;
    if (a->pumping) {
        return; /* an answer inside ask(): the loop below goes on */
    }
    a->pumping = true;
    while (a->in_flight < IN_FLIGHT_MAX) {
        ready_q *r = a->refusal_ready.head ? &a->refusal_ready : &a->resync_ready;
        okx_question *q = r->head;
        if (!q) {
            break;
        }
        r->head = q->next_ready;
        if (!r->head) {
            r->tail = NULL;
        }
        q->st = OKX_Q_ASKING;
        a->in_flight++;
        okx_ask_send(q);
    }
    a->pumping = false;
}

/* The round is over: the slot goes to the next question. */
static void round_over(okx_question *q)
{
    q->st = OKX_Q_WAITING;
    q->c->asks->in_flight--;
    okx_ask_round_reset(q);
}

void okx_ask_finish(okx_question *q)
{
    okx_ctx *c = q->c;
    round_over(q);
    if (q->again) {
        q->again = false;
        q->tries = 0;
        arm(q, order_gap(c, q));
    } else {
        okx_ask_free(q);
    }
    pump(c);
}

bool okx_ask_retry(okx_question *q)
{
    if (q->tries >= RETRIES) {
        return false;
    }
    okx_ctx *c = q->c;
    round_over(q);
    arm(q, (int64_t)RECHECK_DELAY_MS << q->tries++);
    pump(c);
    return true;
}

void okx_ask_failed(okx_question *q, const char *why)
{
    if (okx_ask_retry(q)) {
        return;
    }
    okx_ctx *c = q->c;
    const char *id = *q->ord_id ? q->ord_id : q->cl_ord_id;
    if (q->after_refusal) {
        char text[384];
        snprintf(text, sizeof(text),
                 "%s: order %s %s: a refused push could not be made good (%s): its state or "
                 "fills here may be behind; check the order at OKX",
                 c->name, q->inst_id, id, why);
        okx_alert(c, AT_LOG_ERROR, text);
    } else {
        c->h->log(c->inst, AT_LOG_WARN, "resync: order %s %s: %s", q->inst_id, id, why);
    }
    okx_ask_finish(q);
}

/* ------------------------------------------------------------ refusals */

void okx_ask_after_refusal(okx_ctx *c, const json_t *o)
{
    const char *inst_id = okx_jstr(o, "instId"), *ord_id = okx_jstr(o, "ordId"),
               *cl = okx_jstr(o, "clOrdId");
    if (!c->started) {
        c->h->log(c->inst, AT_LOG_WARN, "order %s %s: stopping: not asked about again", inst_id,
                  *ord_id ? ord_id : cl);
        return;
    }
    struct okx_asks *a = asks(c);
    if (a && (!*inst_id || (!*ord_id && !*cl))) {
        resync_request(c, true); /* it names no order: every open one */
        return;
    }
    okx_question *q = a ? find(a, inst_id, ord_id, cl) : NULL;
    if (q) {
        q->again |= q->st == OKX_Q_ASKING; /* waiting or queued: it covers this refusal */
        return;
    }
    if (a && a->n_refusal >= RECHECK_MAX) {
        resync_request(c, true);
        return;
    }
    q = q_new(c, inst_id, ord_id, cl, true);
    if (!q) {
        char text[256];
        snprintf(text, sizeof(text),
                 "%s: order %s %s: a refused push cannot be asked about (out of memory); check "
                 "the order at OKX",
                 c->name, inst_id, *ord_id ? ord_id : cl);
        okx_alert(c, AT_LOG_ERROR, text);
        return;
    }
    arm(q, order_gap(c, q));
}

/* ------------------------------------------------------------ resync */

static int on_open_row(void *arg, const at_db_row *row)
{
    okx_ctx *c = arg;
    struct okx_asks *a = c->asks;
    if (!a || row->ncols < 2 || row->cols[0].type != AT_DB_TEXT ||
        row->cols[1].type != AT_DB_TEXT) {
        return 0;
    }
    const char *cl = row->cols[0].u.s, *inst_id = row->cols[1].u.s;
    const char *state = row->ncols > 2 && row->cols[2].type == AT_DB_TEXT ? row->cols[2].u.s : "";
    okx_question *q = find(a, inst_id, "", cl);
    if (q) {
        q->again |= q->st == OKX_Q_ASKING; /* its answer may predate what was missed */
        return 0;
    }
    q = q_new(c, inst_id, "", cl, false);
    if (!q) {
        c->h->log(c->inst, AT_LOG_ERROR, "resync: order %s: out of memory: not asked about", cl);
        return 0;
    }
    q->in_resync = true;
    q->maybe_unplaced = strcmp(state, "sent") == 0 || strcmp(state, "unknown") == 0;
    a->resync_left++;
    arm(q, 0);
    return 0;
}

static void on_open_done(void *arg, int err, const char *error)
{
    okx_ctx *c = arg;
    struct okx_asks *a = c->asks;
    if (err != AT_OK) {
        c->h->log(c->inst, AT_LOG_ERROR, "resync: cannot read orders: %s", error ? error : "?");
    }
    if (!a) {
        return;
    }
    a->resync_reading = false;
    if (a->resync_left == 0) {
        resync_done(c);
    }
}

static void resync_start(okx_ctx *c, const char *why)
{
    struct okx_asks *a = c->asks;
    a->resync_running = a->resync_reading = true;
    a->resync_left = 0;
    a->resync_started_us = c->h->now_us();
    c->h->log(c->inst, AT_LOG_INFO, "%s: asking OKX about open orders", why);
    const at_db_value p[] = {AT_DB_S(c->name)};
    /* 'sent' and 'unknown' too: a market order's fill can be pushed before
     * its place answer, and a refused one would be asked about nowhere */
    int rc = c->h->db_query(c->inst,
                            "SELECT cl_ord_id, inst_id, state FROM orders WHERE account = $1 AND "
                            "op = 'place' AND state IN ('live', 'partially_filled', 'sent', "
                            "'unknown')",
                            p, 1, on_open_row, on_open_done, c);
    if (rc != AT_OK) {
        on_open_done(c, rc, "storage refused the read");
    }
}

static void on_resync_due(void *arg)
{
    okx_ctx *c = arg;
    c->asks->resync_timer = NULL; /* one-shot */
    resync_start(c, "refused pushes");
}

/* Resyncs after refusals wait 1 s, doubling while they keep coming; one
 * when the private feed comes back runs at once. Never two at a time. */
static void resync_request(okx_ctx *c, bool after_refusal)
{
    struct okx_asks *a = asks(c);
    if (!a) {
        c->h->log(c->inst, c->started ? AT_LOG_ERROR : AT_LOG_WARN,
                  "resync: %s: open orders not asked about",
                  c->started ? "out of memory" : "stopping");
        return;
    }
    if (a->resync_running) {
        a->resync_again = true;
        return;
    }
    if (!after_refusal) {
        if (a->resync_timer) {
            c->h->timer_cancel(a->resync_timer);
            a->resync_timer = NULL;
        }
        resync_start(c, "private feed back");
        return;
    }
    if (a->resync_timer) {
        return; /* one is about to start */
    }
    int64_t now = c->h->now_us();
    if (a->resync_started_us && now - a->resync_started_us > GAP_RESET_US) {
        a->resync_shift = 0;
    }
    int64_t gap = (int64_t)RECHECK_DELAY_MS << a->resync_shift;
    a->resync_shift += a->resync_shift < GAP_SHIFT_MAX;
    a->resync_timer = c->h->timer_add(c->inst, gap, 0, on_resync_due, c);
    if (!a->resync_timer) {
        resync_start(c, "refused pushes");
    }
}

static void resync_done(okx_ctx *c)
{
    struct okx_asks *a = c->asks;
    a->resync_running = false;
    if (a->resync_again) {
        a->resync_again = false;
        resync_request(c, true);
    }
}

void okx_trade_resync(okx_ctx *c)
{
    resync_request(c, false);
}

size_t okx_trade_questions(const okx_ctx *c)
{
    return c->asks ? c->asks->n : 0;
}

void okx_trade_rechecks_free(okx_ctx *c)
{
    struct okx_asks *a = c->asks;
    if (a) {
        while (a->all) {
            okx_question *q = a->all;
            if (q->db_reading) {
                unlink_q(q);
                q->orphan = true; /* storage still holds it: freed by on_stored_done */
            } else {
                q->in_resync = false;
                okx_ask_free(q);
            }
        }
        if (a->resync_timer) {
            c->h->timer_cancel(a->resync_timer);
        }
        free(a);
        c->asks = NULL;
    }
    okx_known_free(c);
}

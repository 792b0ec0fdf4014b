/* Orphan TP/SL (keeper.h): live reduce-only algo orders of ours whose
 * position was seen open and then stays flat (or turned the other way, in
 * net mode) for [core] orphan_grace get a CANCEL_ALGO intent. The venue
 * usually cancels the TP/SL attached to a position itself when it closes;
 * the grace keeps the keeper from racing it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeper_internal.h"
#include "util.h"

/* ------------------------------------------------------------ positions */

static kp_pos *pos_find(keeper *k, const char *account, at_inst inst, at_pos_side side)
{
    for (size_t i = 0; i < k->npos; i++) {
        kp_pos *p = &k->pos[i];
        if (p->inst == inst && p->pos_side == side && strcmp(p->account, account) == 0) {
            return p;
        }
    }
    return NULL;
}

static kp_pos *pos_add(keeper *k, const char *account, at_inst inst, at_pos_side side)
{
    if (k->npos == KEEP_POS_MAX) {
        if (!k->said_pos_full) {
            k->said_pos_full = true;
            k->h->log(k->self, AT_LOG_ERROR,
                      "%s: position not followed: %d positions are already; the TP/SL that "
                      "protect it are never taken for orphans",
                      account, KEEP_POS_MAX);
        }
        return NULL;
    }
    kp_pos *p = &k->pos[k->npos++];
    memset(p, 0, sizeof(*p));
    snprintf(p->account, sizeof(p->account), "%s", account);
    p->inst = inst;
    p->pos_side = side;
    return p;
}

/* Whether the position is open the way the algo protects. */
static bool open_its_way(const kp_pos *p, const kp_algo *a)
{
    return p && p->sign == a->dir;
}

static bool protects(const kp_algo *a, const kp_pos *p)
{
    return a->inst == p->inst && a->pos_side == p->pos_side && strcmp(a->account, p->account) == 0;
}

void kp_on_position(void *arg, const at_event *e)
{
    keeper *k = arg;
    const at_ev_position *ev = (const at_ev_position *)e;
    if (k->cfg.orphan_grace_ms <= 0 || !ev->account[0] || !e->inst) {
        return;
    }
    kp_pos *p = pos_find(k, ev->account, e->inst, ev->pos_side);
    if (!p && !(p = pos_add(k, ev->account, e->inst, ev->pos_side))) {
        return;
    }
    int sign = ev->pos.m > 0 ? 1 : ev->pos.m < 0 ? -1 : 0;
    if (ev->pos_side == AT_POS_SHORT) {
        sign = sign != 0 ? -1 : 0; /* long_short_mode: the short side's pos is >= 0 */
    }
    int64_t now = kp_now_ms(k);
    p->sign = sign;
    if (sign > 0) {
        p->not_long_ms = 0;
    } else if (p->not_long_ms == 0) {
        p->not_long_ms = now;
    }
    if (sign < 0) {
        p->not_short_ms = 0;
    } else if (p->not_short_ms == 0) {
        p->not_short_ms = now;
    }
    for (size_t i = 0; i < k->nalgos; i++) {
        kp_algo *a = &k->algos[i];
        if (protects(a, p) && open_its_way(p, a)) {
            a->armed = true;
        }
    }
    kp_want(k, kp_orphan_run(k, now));
}

/* ------------------------------------------------------------ algo orders */

static kp_algo *algo_find(keeper *k, const char *account, const char *algo_id)
{
    for (size_t i = 0; i < k->nalgos; i++) {
        kp_algo *a = &k->algos[i];
        if (strcmp(a->algo_id, algo_id) == 0 && strcmp(a->account, account) == 0) {
            return a;
        }
    }
    return NULL;
}

static void algo_drop(keeper *k, kp_algo *a)
{
    *a = k->algos[--k->nalgos];
}

static const char *pos_word(int dir)
{
    return dir > 0 ? "long" : "short";
}

static void foreign(keeper *k, kp_algo *a, const char *why)
{
    a->owner = KP_FOREIGN;
    k->st.foreign_algos++;
    const char *inst = k->h->inst_name(a->inst);
    k->h->log(k->self, AT_LOG_INFO,
              "%s %s algo %s (%s %s): not ours (%s): never cancelled by the keeper", a->account,
              a->kind, a->algo_id, inst ? inst : "?", pos_word(a->dir), why);
}

typedef struct owner_q {
    keeper *k;
    char account[AT_ID_LEN];
    char algo_id[AT_ID_LEN];
    char entry[AT_ID_LEN];
    kp_cancel c; /* its base; last_n: the highest attempt stored */
    bool found;
} owner_q;

/* The entry's row, or a cancel attempt of a previous run for this algo. */
static int on_owner_row(void *arg, const at_db_row *row)
{
    owner_q *q = arg;
    const at_db_value *v = row->ncols > 0 ? &row->cols[0] : NULL;
    const char *s = v && v->type == AT_DB_TEXT ? v->u.s : NULL;
    if (s && strcmp(s, q->entry) == 0) {
        q->found = true;
    }
    int n = kp_cancel_used(&q->c, s);
    if (n > q->c.last_n) {
        q->c.last_n = n;
    }
    return 0;
}

static void on_owner_done(void *arg, int err, const char *error)
{
    owner_q *q = arg;
    keeper *k = q->k;
    kp_algo *a = k->stopped ? NULL : algo_find(k, q->account, q->algo_id);
    if (a && a->owner == KP_CHECKING) {
        if (err != AT_OK) {
            char why[200];
            snprintf(why, sizeof(why), "its entry could not be looked up: %s",
                     error ? error : at_strerror(err));
            foreign(k, a, why);
        } else if (!q->found) {
            foreign(k, a, "no order of ours has the clOrdId it is attached to");
        } else {
            a->owner = KP_OURS;
            if (q->c.last_n > a->c.last_n) {
                a->c.last_n = q->c.last_n;
            }
            kp_want(k, kp_orphan_run(k, kp_now_ms(k)));
        }
    }
    free(q);
}

/* Ours when it is attached to an entry we placed: algoClOrdId = the entry's
 * clOrdId + "a", and that clOrdId is in our orders for this account. */
static void ask_owner(keeper *k, kp_algo *a)
{
    size_t n = strlen(a->algo_cl_ord_id);
    if (n < 2 || a->algo_cl_ord_id[n - 1] != 'a') {
        foreign(k, a, n ? "its algoClOrdId is not an entry's clOrdId + \"a\"" : "no algoClOrdId");
        return;
    }
    owner_q *q = calloc(1, sizeof(*q));
    if (!q) {
        foreign(k, a, "out of memory asking whose it is");
        return;
    }
    q->k = k;
    snprintf(q->account, sizeof(q->account), "%s", a->account);
    snprintf(q->algo_id, sizeof(q->algo_id), "%s", a->algo_id);
    snprintf(q->entry, sizeof(q->entry), "%.*s", (int)(n - 1), a->algo_cl_ord_id);
    q->c = a->c;
    /* With it, the cancels a previous run made of this algo (each attempt
     * keeps its id): the next goes under a higher number. An entry's
     * clOrdId is letters and digits, never a "keeper/" id. */
    char like[AT_ID_LEN + 2];
    snprintf(like, sizeof(like), "%s/%%", a->c.base);
    const at_db_value p[] = {AT_DB_S(a->account), AT_DB_S(q->entry), AT_DB_S(like)};
    int rc = k->h->db_query(k->self,
                            "SELECT cl_ord_id FROM orders WHERE account = $1 AND cl_ord_id = $2 "
                            "UNION ALL SELECT intent_id FROM orders WHERE intent_id LIKE $3",
                            p, 3, on_owner_row, on_owner_done, q);
    if (rc != AT_OK) {
        free(q);
        foreign(k, a, "its entry cannot be looked up");
    }
}

static void kind_of(const at_ev_algo_order *ev, char *buf, size_t n)
{
    bool tp = ev->tp_trigger_px.m != 0, sl = ev->sl_trigger_px.m != 0;
    snprintf(buf, n, "%s",
             tp && sl ? "take-profit/stop-loss"
             : tp     ? "take-profit"
             : sl     ? "stop-loss"
                      : (ev->ord_type[0] ? ev->ord_type : "algo"));
}

void kp_on_algo(void *arg, const at_event *e)
{
    keeper *k = arg;
    const at_ev_algo_order *ev = (const at_ev_algo_order *)e;
    if (k->cfg.orphan_grace_ms <= 0 || !ev->account[0] || !ev->algo_id[0]) {
        return;
    }
    kp_algo *a = algo_find(k, ev->account, ev->algo_id);
    if (ev->state != AT_ALGO_LIVE) {
        if (a) {
            algo_drop(k, a); /* triggered, cancelled or failed: nothing left to protect */
        }
        return;
    }
    if (a || !(ev->reduce_only || ev->close_position) || !e->inst) {
        return; /* known already, or one that may open a position: not a TP/SL */
    }
    if (k->nalgos == KEEP_ALGOS_MAX) {
        if (!k->said_algos_full) {
            k->said_algos_full = true;
            k->h->log(k->self, AT_LOG_ERROR,
                      "%s algo %s not followed: %d algo orders are already (an orphan among the "
                      "newer ones is not cancelled)",
                      ev->account, ev->algo_id, KEEP_ALGOS_MAX);
        }
        return;
    }
    k->said_algos_full = false;
    a = &k->algos[k->nalgos++];
    memset(a, 0, sizeof(*a));
    snprintf(a->account, sizeof(a->account), "%s", ev->account);
    snprintf(a->algo_id, sizeof(a->algo_id), "%s", ev->algo_id);
    snprintf(a->algo_cl_ord_id, sizeof(a->algo_cl_ord_id), "%s", ev->algo_cl_ord_id);
    kp_cancel_init(&a->c, KEEP_ORPHAN_PREFIX, a->algo_id);
    kind_of(ev, a->kind, sizeof(a->kind));
    a->inst = e->inst;
    a->pos_side = ev->pos_side;
    /* Long/short mode names the side it protects; in net mode a sell
     * protects a long, a buy a short. */
    a->dir = ev->pos_side == AT_POS_LONG    ? 1
             : ev->pos_side == AT_POS_SHORT ? -1
             : ev->side == AT_SIDE_SELL     ? 1
                                            : -1;
    a->armed = open_its_way(pos_find(k, a->account, a->inst, a->pos_side), a);
    ask_owner(k, a);
}

/* ------------------------------------------------------------ cancelling */

/* Publish the algo's next cancel attempt. */
static void orphan_cancel(keeper *k, kp_algo *a, const kp_pos *p, int64_t lost_ms, int64_t now)
{
    if (!kp_cancel_next(&a->c)) {
        char text[256];
        snprintf(text, sizeof(text),
                 "%s algo %s: its orphan cancel has no attempt number left (%d used): no longer "
                 "tried; cancel it by hand",
                 a->account, a->algo_id, a->c.last_n);
        a->c.sent = true; /* never again in this run */
        k->st.cancels_given_up++;
        kp_alert(k, text);
        return;
    }
    at_ev_order_intent *it = kp_intent_new(k, AT_INTENT_CANCEL_ALGO, a->c.id, a->account, a->inst);
    if (!it) {
        a->c.last_n--; /* that id was not used */
        a->c.id[0] = '\0';
        a->c.retry_ms = now + KEEP_RETRY_MS;
        return;
    }
    a->c.sent = true;
    a->c.retry_ms = 0;
    snprintf(it->ord_id, sizeof(it->ord_id), "%s", a->algo_id);
    it->pos_side = a->pos_side;
    k->st.orphan_cancels++;
    const char *inst = k->h->inst_name(a->inst);
    char agos[32];
    kp_fmt_ms(agos, sizeof(agos), now - lost_ms);
    k->h->log(k->self, AT_LOG_INFO,
              "%s %s algo %s orphaned: %s %s closed %s ago%s: cancelling%s (intent %s)", a->account,
              a->kind, a->algo_id, inst ? inst : "?", pos_word(a->dir), agos,
              p->sign == -a->dir ? (a->dir > 0 ? " (short now)" : " (long now)") : "",
              a->c.refused > 0 ? " again" : "", a->c.id);
    k->h->publish(k->self, &it->h, 0);
}

int64_t kp_orphan_run(keeper *k, int64_t now)
{
    int64_t next = INT64_MAX;
    if (k->cfg.orphan_grace_ms <= 0) {
        return next;
    }
    for (size_t i = 0; i < k->nalgos; i++) {
        kp_algo *a = &k->algos[i];
        if (a->owner != KP_OURS || !a->armed || a->c.sent) {
            continue;
        }
        /* Armed means a POSITION event showed it open: never unknown here. */
        const kp_pos *p = pos_find(k, a->account, a->inst, a->pos_side);
        int64_t lost = !p ? 0 : a->dir > 0 ? p->not_long_ms : p->not_short_ms;
        if (lost == 0) {
            continue;
        }
        int64_t due = lost + k->cfg.orphan_grace_ms;
        if (a->c.retry_ms > due) {
            due = a->c.retry_ms; /* refused before: its backoff */
        }
        if (due <= now) {
            orphan_cancel(k, a, p, lost, now);
            due = a->c.retry_ms && !a->c.sent ? a->c.retry_ms : INT64_MAX; /* out of memory */
        }
        if (due < next) {
            next = due;
        }
    }
    return next;
}

void kp_orphan_result(keeper *k, const at_ev_order_result *r)
{
    kp_algo *a = NULL;
    for (size_t i = 0; i < k->nalgos && !a; i++) {
        kp_algo *x = &k->algos[i];
        if (x->c.sent && strcmp(x->c.id, r->intent_id) == 0 &&
            strcmp(x->account, r->account) == 0) {
            a = x;
        }
    }
    if (!a) {
        return; /* an attempt of a previous run, or the algo went meanwhile */
    }
    if (r->ok) {
        algo_drop(k, a);
        return;
    }
    /* Most often the venue cancelled it meanwhile (final: its ALGO_ORDER
     * drops it); a rate limit or an outcome unknown goes again under the
     * next id. Given up, it stays as it is for this run. */
    char what[200];
    snprintf(what, sizeof(what), "%s algo %s: the orphan cancel %s", r->account, a->algo_id,
             r->intent_id);
    if (!kp_cancel_refused(k, &a->c, r, what, kp_now_ms(k))) {
        a->c.sent = true; /* not tried again in this run */
        return;
    }
    kp_want(k, kp_orphan_run(k, kp_now_ms(k)));
}

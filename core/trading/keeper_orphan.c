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
    bool found;
} owner_q;

static int on_owner_row(void *arg, const at_db_row *row)
{
    ((owner_q *)arg)->found = true;
    return 1;
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
    char entry[AT_ID_LEN];
    snprintf(entry, sizeof(entry), "%.*s", (int)(n - 1), a->algo_cl_ord_id);
    const at_db_value p[] = {AT_DB_S(a->account), AT_DB_S(entry)};
    int rc = k->h->db_query(k->self,
                            "SELECT cl_ord_id FROM orders WHERE account = $1 AND cl_ord_id = $2", p,
                            2, on_owner_row, on_owner_done, q);
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

static void orphan_cancel(keeper *k, kp_algo *a, const kp_pos *p, int64_t lost_ms, int64_t now)
{
    char id[AT_ID_LEN + 16];
    snprintf(id, sizeof(id), KEEP_ORPHAN_PREFIX "%s", a->algo_id);
    a->cancel_sent = true;
    at_ev_order_intent *it = kp_intent_new(k, AT_INTENT_CANCEL_ALGO, id, a->account, a->inst);
    if (!it) {
        return;
    }
    snprintf(it->ord_id, sizeof(it->ord_id), "%s", a->algo_id);
    it->pos_side = a->pos_side;
    k->st.orphan_cancels++;
    const char *inst = k->h->inst_name(a->inst);
    char agos[32];
    kp_fmt_ms(agos, sizeof(agos), now - lost_ms);
    k->h->log(k->self, AT_LOG_INFO,
              "%s %s algo %s orphaned: %s %s closed %s ago%s: cancelling (intent %s)", a->account,
              a->kind, a->algo_id, inst ? inst : "?", pos_word(a->dir), agos,
              p->sign == -a->dir ? (a->dir > 0 ? " (short now)" : " (long now)") : "", id);
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
        if (a->owner != KP_OURS || !a->armed || a->cancel_sent) {
            continue;
        }
        /* Armed means a POSITION event showed it open: never unknown here. */
        const kp_pos *p = pos_find(k, a->account, a->inst, a->pos_side);
        int64_t lost = !p ? 0 : a->dir > 0 ? p->not_long_ms : p->not_short_ms;
        if (lost == 0) {
            continue;
        }
        int64_t due = lost + k->cfg.orphan_grace_ms;
        if (due <= now) {
            orphan_cancel(k, a, p, lost, now);
        } else if (due < next) {
            next = due;
        }
    }
    return next;
}

void kp_orphan_result(keeper *k, const at_ev_order_result *r)
{
    const char *algo_id = r->intent_id + strlen(KEEP_ORPHAN_PREFIX);
    kp_algo *a = algo_find(k, r->account, algo_id);
    if (r->ok) {
        if (a) {
            algo_drop(k, a);
        }
        return;
    }
    /* Refused (most often the venue cancelled it meanwhile); the same intent
     * id cannot go again, so the algo stays as it is. */
    k->h->log(k->self, AT_LOG_WARN, "%s algo %s: the orphan cancel was refused: %s%s%s", r->account,
              algo_id, r->code, r->code[0] ? " " : "", r->msg ? r->msg : "");
}

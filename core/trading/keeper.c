/* The order keeper: lifecycle, its one timer, and limit TTL (keeper.h).
 * Orphan TP/SL are keeper_orphan.c's, cancel ids and retries
 * keeper_cancel.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbcol.h"
#include "keeper_internal.h"
#include "util.h"

static const char *const ORD_TYPES[] = {"market", "limit", "post_only", "fok", "ioc"};

int64_t kp_now_ms(const keeper *k)
{
    return k->h->now_us() / 1000;
}

/* ------------------------------------------------------------ timer */

static void on_tick(void *arg);

/* One one-shot timer at the earliest due time; an item that went away
 * before it fires costs one empty pass. */
void kp_want(keeper *k, int64_t due_ms)
{
    if (k->stopped || due_ms == INT64_MAX || (k->timer && due_ms >= k->timer_due_ms)) {
        return;
    }
    k->h->timer_cancel(k->timer);
    int64_t after = due_ms - kp_now_ms(k);
    k->timer = k->h->timer_add(k->self, after > 0 ? after : 0, 0, on_tick, k);
    k->timer_due_ms = due_ms;
    if (!k->timer) {
        k->h->log(k->self, AT_LOG_ERROR,
                  "the keeper's timer could not be armed: limits past their TTL and orphan "
                  "TP/SL wait for the next event");
    }
}

/* ------------------------------------------------------------ limit TTL */

static kp_order *order_find(keeper *k, const char *account, const char *cl_ord_id)
{
    for (size_t i = 0; i < k->norders; i++) {
        kp_order *o = &k->orders[i];
        if (strcmp(o->cl_ord_id, cl_ord_id) == 0 && strcmp(o->account, account) == 0) {
            return o;
        }
    }
    return NULL;
}

static void order_drop(keeper *k, kp_order *o)
{
    *o = k->orders[--k->norders];
}

/* The deadline is in the cancel's id: a place sent again (after it was
 * found unsent) has a new one, and its cancels cannot meet the ids of the
 * first. */
static void order_deadline(kp_order *o, int64_t deadline_ms)
{
    char key[AT_ID_LEN + 24];
    snprintf(key, sizeof(key), "%s/%" PRId64, o->cl_ord_id, deadline_ms);
    o->deadline_ms = deadline_ms;
    kp_cancel_init(&o->c, KEEP_TTL_PREFIX, key);
}

static kp_order *order_add(keeper *k, const char *account, const char *cl_ord_id)
{
    if (k->norders == KEEP_ORDERS_MAX) {
        if (!k->said_orders_full) {
            k->said_orders_full = true;
            k->h->log(k->self, AT_LOG_ERROR,
                      "%s %s: its TTL is not followed: %d limits with a TTL are open already "
                      "(it rests until cancelled by hand)",
                      account, cl_ord_id, KEEP_ORDERS_MAX);
        }
        return NULL;
    }
    k->said_orders_full = false;
    kp_order *o = &k->orders[k->norders++];
    memset(o, 0, sizeof(*o));
    snprintf(o->account, sizeof(o->account), "%s", account);
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", cl_ord_id);
    return o;
}

/* "250ms", "2s", "2.5s" (to the tenth below it) */
void kp_fmt_ms(char *buf, size_t n, int64_t ms)
{
    if (ms < 1000) {
        snprintf(buf, n, "%" PRId64 "ms", ms);
    } else if (ms % 1000 < 100) {
        snprintf(buf, n, "%" PRId64 "s", ms / 1000);
    } else {
        snprintf(buf, n, "%" PRId64 ".%" PRId64 "s", ms / 1000, ms % 1000 / 100);
    }
}

/* "limit BTC-USDT-SWAP 0.5 @ 50000" */
static void describe(const keeper *k, const kp_order *o, char *buf, size_t n)
{
    char sz[AT_DEC_STRLEN], px[AT_DEC_STRLEN];
    k->h->dec_format(o->sz, sz);
    k->h->dec_format(o->px, px);
    const char *inst = o->inst ? k->h->inst_name(o->inst) : NULL;
    snprintf(buf, n, "%s %s %s @ %s",
             (unsigned)o->ord_type <= AT_ORDT_IOC ? ORD_TYPES[o->ord_type] : "order",
             inst ? inst : "?", sz, px);
}

at_ev_order_intent *kp_intent_new(keeper *k, at_intent_op op, const char *id, const char *account,
                                  at_inst inst)
{
    at_ev_order_intent *it = (at_ev_order_intent *)k->h->event_new(k->self, AT_EV_ORDER_INTENT, 0);
    if (!it) {
        k->h->log(k->self, AT_LOG_ERROR, "intent %s: not published: out of memory", id);
        return NULL;
    }
    it->h.inst = inst;
    it->op = op;
    snprintf(it->intent_id, sizeof(it->intent_id), "%s", id);
    snprintf(it->account, sizeof(it->account), "%s", account);
    snprintf(it->origin, sizeof(it->origin), "%s", KEEPER_ORIGIN);
    return it;
}

/* Publish the order's next cancel attempt: false when it has none left
 * (said; the caller stops following it). */
static bool ttl_cancel(keeper *k, kp_order *o, int64_t now)
{
    if (!kp_cancel_next(&o->c)) {
        char text[256];
        snprintf(text, sizeof(text),
                 "%s %s: its TTL cancel has no attempt number left (%d used): no longer tried; "
                 "cancel it by hand",
                 o->account, o->cl_ord_id, o->c.last_n);
        k->st.cancels_given_up++;
        kp_alert(k, text);
        return false;
    }
    at_ev_order_intent *it = kp_intent_new(k, AT_INTENT_CANCEL, o->c.id, o->account, o->inst);
    if (!it) {
        o->c.last_n--; /* that id was not used */
        o->c.id[0] = '\0';
        o->c.retry_ms = now + KEEP_RETRY_MS;
        return true;
    }
    o->c.sent = true;
    o->c.retry_ms = 0;
    /* okx_order.c cancels by ordId when the intent has one, else by the
     * clOrdId: the order's own clOrdId, not one derived from this id. */
    snprintf(it->cl_ord_id, sizeof(it->cl_ord_id), "%s", o->cl_ord_id);
    snprintf(it->ord_id, sizeof(it->ord_id), "%s", o->ord_id);
    it->ord_type = o->ord_type;
    it->sz = o->sz;
    it->px = o->px;
    k->st.ttl_cancels++;
    char what[200];
    describe(k, o, what, sizeof(what));
    if (o->c.refused > 0) {
        k->h->log(k->self, AT_LOG_INFO, "%s %s %s: cancelling again (intent %s)", o->account, what,
                  o->cl_ord_id, o->c.id);
    } else {
        char ttl[32], late[48] = "", filled[AT_DEC_STRLEN + 16] = "";
        kp_fmt_ms(ttl, sizeof(ttl), o->ttl_ms);
        if (now - o->deadline_ms >= 1000) {
            char by[32];
            kp_fmt_ms(by, sizeof(by), now - o->deadline_ms);
            snprintf(late, sizeof(late), " (overdue by %s)", by);
        }
        if (o->filled.m > 0) {
            char f[AT_DEC_STRLEN];
            k->h->dec_format(o->filled, f);
            snprintf(filled, sizeof(filled), " (%s filled)", f);
        }
        k->h->log(k->self, AT_LOG_INFO, "%s %s %s%s unfilled after %s%s: cancelling (intent %s)",
                  o->account, what, o->cl_ord_id, filled, ttl, late, o->c.id);
    }
    k->h->publish(k->self, &it->h, 0);
    return true;
}

static int64_t ttl_run(keeper *k, int64_t now)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < k->norders;) {
        kp_order *o = &k->orders[i];
        int64_t due = o->c.retry_ms ? o->c.retry_ms : o->deadline_ms;
        if (o->c.sent || o->checking) {
            i++;
            continue;
        }
        if (due <= now) {
            if (!ttl_cancel(k, o, now)) {
                order_drop(k, o); /* the last one moved here: look at it next */
                continue;
            }
            due = o->c.retry_ms ? o->c.retry_ms : INT64_MAX; /* out of memory: later */
        }
        if (due < next) {
            next = due;
        }
        i++;
    }
    return next;
}

static void run(keeper *k)
{
    int64_t now = kp_now_ms(k);
    int64_t a = ttl_run(k, now);
    int64_t b = kp_orphan_run(k, now);
    kp_want(k, a < b ? a : b);
}

static void on_tick(void *arg)
{
    keeper *k = arg;
    k->timer = NULL; /* one-shot */
    run(k);
}

void keeper_on_submit(void *arg, const at_ev_order_intent *it)
{
    keeper *k = arg;
    if (k->stopped || it->op != AT_INTENT_PLACE || it->ttl_ms <= 0) {
        return;
    }
    if (it->ord_type == AT_ORDT_MARKET) {
        k->h->log(k->self, AT_LOG_WARN,
                  "intent %s: ttl_ms %" PRId64 " on a market order means nothing: ignored",
                  it->intent_id, it->ttl_ms);
        return;
    }
    if (order_find(k, it->account, it->cl_ord_id)) {
        return;
    }
    kp_order *o = order_add(k, it->account, it->cl_ord_id);
    if (!o) {
        return;
    }
    int64_t now = kp_now_ms(k);
    o->inst = it->h.inst;
    o->ord_type = it->ord_type;
    o->sz = it->sz;
    o->px = it->px;
    o->ttl_ms = it->ttl_ms;
    order_deadline(o, now + it->ttl_ms);
    k->st.ttl_tracked++;
    /* Queued after the venue's own INSERT of this row (submit() has queued
     * it, and writes run in queue order); the first deadline stands, but for
     * a row a previous run left unsent: this place is its sending (the venue
     * takes the row over after this update), its deadline runs from now. A
     * new row's runs from its created_ms: the venue read the clock for it a
     * moment before this, maybe in the millisecond before. */
    const at_db_value p[] = {AT_DB_I(o->deadline_ms), AT_DB_S(o->account), AT_DB_S(o->cl_ord_id),
                             AT_DB_I(o->ttl_ms)};
    int rc = k->h->db_write(k->self,
                            "UPDATE orders SET expire_ms = CASE WHEN state = 'unsent' THEN $1 ELSE "
                            "created_ms + $4 END WHERE account = $2 AND cl_ord_id = $3 AND "
                            "(expire_ms IS NULL OR state = 'unsent')",
                            p, 4, NULL, NULL);
    if (rc != AT_OK) {
        k->h->log(k->self, AT_LOG_ERROR,
                  "%s %s: deadline not stored (%s): a restart would not cancel it", o->account,
                  o->cl_ord_id, at_strerror(rc));
    }
    char what[200], ttl[32];
    describe(k, o, what, sizeof(what));
    kp_fmt_ms(ttl, sizeof(ttl), o->ttl_ms);
    k->h->log(k->self, AT_LOG_INFO, "%s %s %s: cancelled if still open in %s", o->account, what,
              o->cl_ord_id, ttl);
    kp_want(k, o->deadline_ms);
}

static void on_order(void *arg, const at_event *e)
{
    keeper *k = arg;
    const at_ev_order *ev = (const at_ev_order *)e;
    if (!ev->cl_ord_id[0]) {
        return;
    }
    kp_order *o = order_find(k, ev->account, ev->cl_ord_id);
    if (!o) {
        return;
    }
    if (ev->state == AT_ORD_FILLED || ev->state == AT_ORD_CANCELED ||
        ev->state == AT_ORD_MMP_CANCELED) {
        order_drop(k, o);
        return;
    }
    if (ev->ord_id[0]) {
        snprintf(o->ord_id, sizeof(o->ord_id), "%s", ev->ord_id);
    }
    o->filled = ev->acc_fill_sz;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void on_result(void *arg, const at_event *e)
{
    keeper *k = arg;
    const at_ev_order_result *r = (const at_ev_order_result *)e;
    if (r->op == AT_INTENT_CANCEL_ALGO && has_prefix(r->intent_id, KEEP_ORPHAN_PREFIX)) {
        kp_orphan_result(k, r);
        return;
    }
    bool ours = r->op == AT_INTENT_CANCEL && has_prefix(r->intent_id, KEEP_TTL_PREFIX);
    if ((r->op != AT_INTENT_PLACE || r->ok) && !ours) {
        return;
    }
    kp_order *o = order_find(k, r->account, r->cl_ord_id);
    if (!ours) {
        /* A place that failed, or one found "unsent" (a previous run stored
         * it and stopped before sending it): nothing rests. Sent again, it
         * is followed anew from its submit. */
        if (o) {
            order_drop(k, o);
        }
        return;
    }
    if (!o || !o->c.sent || strcmp(o->c.id, r->intent_id) != 0) {
        return; /* an attempt for an earlier deadline, or of a previous run */
    }
    if (r->ok) {
        order_drop(k, o);
        return;
    }
    /* Most often it filled or was cancelled meanwhile (final); a rate limit
     * or an outcome unknown goes again under the next id. */
    char what[200];
    snprintf(what, sizeof(what), "%s %s: the TTL cancel %s", r->account, r->cl_ord_id,
             r->intent_id);
    if (!kp_cancel_refused(k, &o->c, r, what, kp_now_ms(k))) {
        order_drop(k, o);
        return;
    }
    kp_want(k, o->c.retry_ms);
}

/* ------------------------------------------------------------ restart */

static at_ord_type ord_type_of(const char *s)
{
    for (unsigned i = 0; s && i <= AT_ORDT_IOC; i++) {
        if (strcmp(s, ORD_TYPES[i]) == 0) {
            return (at_ord_type)i;
        }
    }
    return AT_ORDT_LIMIT;
}

static at_dec dec_of(const keeper *k, const char *s)
{
    at_dec d = {0, 0};
    if (s && k->h->dec_parse(s, (size_t)-1, &d) != AT_OK) {
        d = (at_dec){0, 0};
    }
    return d;
}

/* At start: the open orders with a deadline, then the cancel attempts
 * earlier runs made for them (each keeps its id). */
typedef struct load {
    keeper *k;
    size_t n, overdue;
    int pending; /* queries not answered yet */
} load;

static int on_open_row(void *arg, const at_db_row *row)
{
    load *l = arg;
    keeper *k = l->k;
    const char *cl = dbcol_text(row, 0), *account = dbcol_text(row, 1);
    const char *inst = dbcol_text(row, 2);
    int64_t expire = 0, created = 0;
    if (!cl || !account || !inst || !dbcol_int(row, 8, &expire) || order_find(k, account, cl)) {
        return 0;
    }
    kp_order *o = order_add(k, account, cl);
    if (!o) {
        return 1;
    }
    snprintf(o->ord_id, sizeof(o->ord_id), "%s", dbcol_text(row, 3) ? dbcol_text(row, 3) : "");
    o->inst = k->h->inst_intern(inst);
    o->ord_type = ord_type_of(dbcol_text(row, 4));
    o->sz = dec_of(k, dbcol_text(row, 5));
    o->px = dec_of(k, dbcol_text(row, 6));
    o->filled = dec_of(k, dbcol_text(row, 7));
    order_deadline(o, expire);
    o->checking = true;
    /* The row is written as the place is sent: created_ms is the send. */
    o->ttl_ms = dbcol_int(row, 9, &created) && created <= expire ? expire - created : 0;
    k->st.ttl_tracked++;
    l->n++;
    l->overdue += expire <= kp_now_ms(k);
    return 0;
}

/* The last answer of the load: follow them. */
static void load_done(load *l)
{
    keeper *k = l->k;
    if (--l->pending > 0) {
        return;
    }
    free(l);
    if (k->stopped) {
        return;
    }
    for (size_t i = 0; i < k->norders; i++) {
        k->orders[i].checking = false;
    }
    run(k);
}

static void on_open_done(void *arg, int err, const char *error)
{
    load *l = arg;
    keeper *k = l->k;
    if (k->stopped) {
        load_done(l);
        return;
    }
    if (err != AT_OK) {
        k->h->log(k->self, AT_LOG_ERROR,
                  "open orders with a TTL could not be read (%s): those of a previous run rest "
                  "until cancelled by hand",
                  error ? error : at_strerror(err));
    } else if (l->n) {
        k->h->log(k->self, AT_LOG_INFO,
                  "%zu open order(s) of a previous run with a TTL followed again (%zu overdue: "
                  "cancelled now)",
                  l->n, l->overdue);
    }
    load_done(l);
}

/* A cancel attempt of a previous run: the next one of its order goes under
 * a higher number. */
static int on_used_row(void *arg, const at_db_row *row)
{
    keeper *k = ((load *)arg)->k;
    const char *id = dbcol_text(row, 0);
    for (size_t i = 0; id && i < k->norders; i++) {
        kp_order *o = &k->orders[i];
        int n = o->checking ? kp_cancel_used(&o->c, id) : 0;
        if (n > o->c.last_n) {
            o->c.last_n = n;
        }
    }
    return 0;
}

static void on_used_done(void *arg, int err, const char *error)
{
    load *l = arg;
    keeper *k = l->k;
    if (err != AT_OK && !k->stopped) {
        k->h->log(k->self, AT_LOG_ERROR,
                  "the cancels of a previous run could not be read (%s): a cancel may find its "
                  "id taken and go again under the next",
                  error ? error : at_strerror(err));
    }
    load_done(l);
}

/* ------------------------------------------------------------ lifecycle */

keeper *keeper_new(const at_host *h, at_instance *self, const keeper_cfg *cfg)
{
    if (!h || !self || !cfg || cfg->orphan_grace_ms < 0) {
        return NULL;
    }
    keeper *k = calloc(1, sizeof(*k));
    if (!k) {
        return NULL;
    }
    k->h = h;
    k->self = self;
    k->cfg = *cfg;
    k->orders = calloc(KEEP_ORDERS_MAX, sizeof(*k->orders));
    k->algos = calloc(KEEP_ALGOS_MAX, sizeof(*k->algos));
    k->pos = calloc(KEEP_POS_MAX, sizeof(*k->pos));
    if (!k->orders || !k->algos || !k->pos) {
        keeper_free(k);
        return NULL;
    }
    return k;
}

int keeper_start(keeper *k)
{
    const at_host *h = k->h;
    static const struct {
        at_event_type type;
        at_event_cb cb;
    } subs[] = {{AT_EV_ORDER, on_order},
                {AT_EV_ORDER_RESULT, on_result},
                {AT_EV_POSITION, kp_on_position},
                {AT_EV_ALGO_ORDER, kp_on_algo}};
    for (size_t i = 0; i < 4; i++) {
        k->sub[i] = h->subscribe(k->self, subs[i].type, subs[i].cb, k);
        if (k->sub[i] <= 0) {
            int rc = k->sub[i];
            keeper_stop(k);
            return rc < 0 ? rc : AT_ENOMEM;
        }
    }
    load *l = calloc(1, sizeof(*l));
    if (!l) {
        keeper_stop(k);
        return AT_ENOMEM;
    }
    l->k = k;
    /* Open as far as we know: a row left sent or unknown may be live too
     * (a cancel of one that is not costs a refused cancel, nothing more). */
    int rc = h->db_query(k->self,
                         "SELECT cl_ord_id, account, inst_id, ord_id, ord_type, sz, px, "
                         "acc_fill_sz, expire_ms, created_ms FROM orders WHERE expire_ms IS NOT "
                         "NULL AND state IN ('sent', 'live', 'partially_filled', 'unknown')",
                         NULL, 0, on_open_row, on_open_done, l);
    if (rc != AT_OK) {
        free(l);
        h->log(k->self, AT_LOG_ERROR,
               "open orders with a TTL cannot be read (%s): those of a previous run rest until "
               "cancelled by hand",
               at_strerror(rc));
    } else {
        l->pending = 1;
        /* The keeper's cancels since the earliest of those deadlines (a
         * cancel is never made before its deadline): answered after the
         * rows above, so each is matched to its order. */
        const at_db_value p[] = {AT_DB_S(KEEPER_ORIGIN)};
        rc = h->db_query(k->self,
                         "SELECT intent_id FROM orders WHERE op = 'cancel' AND origin = $1 AND "
                         "created_ms >= (SELECT MIN(expire_ms) FROM orders WHERE expire_ms IS NOT "
                         "NULL AND state IN ('sent', 'live', 'partially_filled', 'unknown'))",
                         p, 1, on_used_row, on_used_done, l);
        if (rc == AT_OK) {
            l->pending++;
        } else {
            h->log(k->self, AT_LOG_ERROR,
                   "the cancels of a previous run cannot be read (%s): a cancel may find its id "
                   "taken and go again under the next",
                   at_strerror(rc));
        }
    }
    h->log(k->self, AT_LOG_INFO,
           "order keeper on: limits with a TTL are cancelled when it runs out; %s",
           k->cfg.orphan_grace_ms > 0 ? "orphan TP/SL are cancelled after [core] orphan_grace"
                                      : "orphan TP/SL are left alone ([core] orphan_grace = 0)");
    return AT_OK;
}

void keeper_stop(keeper *k)
{
    if (!k) {
        return;
    }
    for (size_t i = 0; i < 4; i++) {
        if (k->sub[i] > 0) {
            k->h->unsubscribe(k->self, k->sub[i]);
        }
        k->sub[i] = 0;
    }
    k->h->timer_cancel(k->timer);
    k->timer = NULL;
    k->stopped = true;
}

void keeper_free(keeper *k)
{
    if (!k) {
        return;
    }
    free(k->orders);
    free(k->algos);
    free(k->pos);
    free(k);
}

void keeper_get_stats(const keeper *k, keeper_stats *out)
{
    *out = k->st;
}

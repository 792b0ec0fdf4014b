/* Algo orders (the TP/SL attached to entries, conditional, oco and trigger
 * orders) as OKX shows them into ALGO_ORDER events, so the engine knows
 * which TP/SL are still live when a position closes:
 *   - pushes of the orders-algo channel, which OKX serves on the business
 *     WebSocket (logged in, okx_account.c), and the paper venue's
 *     in-process ones;
 *   - the rows of orders-algo-pending, listed at start (okx_trade.c) and
 *     each time the algo feed (re)connects, since pushes sent while it was
 *     away are gone and OKX pushes no snapshot on subscribing.
 * An item whose values cannot be used is refused whole with the field and
 * its raw value (a rate-limited warning), never published with a default.
 * A state not newer than the one published (canceled, effective and
 * order_failed are final, then uTime) is not published again, so a listing
 * answered after a push never takes an algo back to live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_sign.h"

#define KNOWN_ALGOS 512 /* OKX allows 100 TP/SL per instrument; the oldest is forgotten */
#define LIST_PAGE 100   /* orders-algo-pending's largest page */
#define LIST_PAGES_MAX 20

enum { RANK_LIVE = 1, RANK_PARTIAL, RANK_DONE };

typedef struct algo_seen {
    char algo_id[AT_ID_LEN];
    int rank;
    int64_t u_time_ms;
    uint64_t used; /* least recently used is forgotten first */
} algo_seen;

struct okx_algos {
    algo_seen t[KNOWN_ALGOS];
    size_t n;
    uint64_t clock;
};

/* ------------------------------------------------------------ values */

typedef struct algo_vals {
    const okx_inst *in;
    at_algo_state state;
    int rank;
    at_side side;
    at_pos_side pos_side;
    at_dec sz, tp, sl, trig;
    bool close_position, reduce_only;
    int64_t c_time_ms, u_time_ms;
} algo_vals;

typedef struct src {
    okx_ctx *c;
    char what[160];
    const char *then;
} src;

static bool refuse(const src *s, const json_t *o, const char *field)
{
    okx_refuse(s->c, OKX_WARN_ORDERS, s->what, field, json_object_get(o, field), s->then);
    return false;
}

/* A text that names something (an id, a type): a string shorter than
 * `size` (cut, it would name something else); `required`: not "". An
 * optional one may be absent or null. */
static bool text_ok(const src *s, const json_t *o, const char *k, bool required, size_t size)
{
    const json_t *v = json_object_get(o, k);
    if (!required && (!v || json_is_null(v))) {
        return true;
    }
    const char *t = json_string_value(v);
    if (!t || (required && !*t) || strlen(t) >= size) {
        return refuse(s, o, k);
    }
    return true;
}

/* A time in ms: a string of digits (OKX's cTime, uTime). */
static bool ms_of(const src *s, const json_t *o, const char *k, int64_t *out)
{
    const char *t = json_string_value(json_object_get(o, k));
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > 18 || strspn(t, "0123456789") != n) {
        return refuse(s, o, k);
    }
    *out = strtoll(t, NULL, 10);
    return true;
}

/* An optional trigger price: "" or absent (none, 0), else above 0. */
static bool trigger_px(const src *s, const json_t *o, const char *k, at_dec *out)
{
    if (!okx_field_dec(s->c, OKX_WARN_ORDERS, s->what, s->then, o, k, false, out)) {
        return false;
    }
    if (out->m < 0 || (out->m == 0 && *okx_jstr(o, k))) {
        *out = (at_dec){0, 0};
        return refuse(s, o, k);
    }
    return true;
}

static bool state_of(const char *st, at_algo_state *state, int *rank)
{
    static const struct {
        const char *name;
        at_algo_state state;
        int rank;
    } t[] = {
        {"live", AT_ALGO_LIVE, RANK_LIVE},
        {"partially_effective", AT_ALGO_PARTIALLY_EFFECTIVE, RANK_PARTIAL},
        {"effective", AT_ALGO_EFFECTIVE, RANK_DONE},
        {"canceled", AT_ALGO_CANCELED, RANK_DONE},
        {"order_failed", AT_ALGO_FAILED, RANK_DONE},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(st, t[i].name) == 0) {
            *state = t[i].state;
            *rank = t[i].rank;
            return true;
        }
    }
    return false;
}

/* Every value the event takes, or false (logged) when one cannot be used. */
static bool algo_of(const src *s, const json_t *o, algo_vals *v)
{
    okx_ctx *c = s->c;
    memset(v, 0, sizeof(*v));
    if (!json_is_object(o)) {
        okx_warn_limited(c, OKX_WARN_ORDERS, "%s refused: not an object; %s", s->what, s->then);
        return false;
    }
    const char *inst_id = okx_jstr(o, "instId");
    v->in = okx_insts_find(c->insts, inst_id);
    if (!*inst_id || !v->in || strcmp(v->in->inst_id, inst_id) != 0) {
        /* only the swaps this instance listed: an event names a known one */
        v->in = NULL;
        okx_refuse(c, OKX_WARN_ORDERS, s->what, "instId (not a swap OKX listed)",
                   json_object_get(o, "instId"), s->then);
        return false;
    }
    if (!text_ok(s, o, "algoId", true, AT_ID_LEN) ||
        !text_ok(s, o, "algoClOrdId", false, AT_ID_LEN) ||
        !text_ok(s, o, "ordType", true, sizeof(((at_ev_algo_order *)0)->ord_type))) {
        return false;
    }
    if (!state_of(okx_jstr(o, "state"), &v->state, &v->rank)) {
        return refuse(s, o, "state");
    }
    const char *side = okx_jstr(o, "side");
    if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0) {
        return refuse(s, o, "side");
    }
    v->side = side[0] == 'b' ? AT_SIDE_BUY : AT_SIDE_SELL;
    const char *ps = okx_jstr(o, "posSide");
    const json_t *psv = json_object_get(o, "posSide");
    if (strcmp(ps, "long") == 0) {
        v->pos_side = AT_POS_LONG;
    } else if (strcmp(ps, "short") == 0) {
        v->pos_side = AT_POS_SHORT;
    } else if (strcmp(ps, "net") == 0 || (json_is_string(psv) && !*ps)) {
        v->pos_side = AT_POS_NET;
    } else {
        return refuse(s, o, "posSide");
    }
    const json_t *ro = json_object_get(o, "reduceOnly");
    const char *ros = json_string_value(ro);
    if (ro && !(ros && (!*ros || strcmp(ros, "true") == 0 || strcmp(ros, "false") == 0))) {
        return refuse(s, o, "reduceOnly");
    }
    v->reduce_only = ros && strcmp(ros, "true") == 0;
    /* closeFraction "1" closes the whole position (OKX allows no other
     * value); sz is then "0" or "" until it fires, and the event says 0. */
    at_dec cf;
    if (!okx_field_dec(c, OKX_WARN_ORDERS, s->what, s->then, o, "closeFraction", false, &cf)) {
        return false;
    }
    if (cf.m != 0 && c->h->dec_cmp(cf, (at_dec){1, 0}) != 0) {
        return refuse(s, o, "closeFraction");
    }
    v->close_position = cf.m != 0;
    if (!okx_field_dec(c, OKX_WARN_ORDERS, s->what, s->then, o, "sz", !v->close_position, &v->sz)) {
        return false;
    }
    if (v->sz.m < 0) {
        v->sz = (at_dec){0, 0};
        return refuse(s, o, "sz");
    }
    if (v->close_position) {
        v->sz = (at_dec){0, 0};
    }
    if (!trigger_px(s, o, "tpTriggerPx", &v->tp) || !trigger_px(s, o, "slTriggerPx", &v->sl) ||
        !trigger_px(s, o, "triggerPx", &v->trig)) {
        return false;
    }
    /* A TP/SL without a leg or a trigger order without its price triggers
     * nothing the engine could follow. */
    const char *ot = okx_jstr(o, "ordType");
    bool tpsl = strcmp(ot, "conditional") == 0 || strcmp(ot, "oco") == 0;
    if (tpsl && v->tp.m == 0 && v->sl.m == 0) {
        return refuse(s, o, "tpTriggerPx");
    }
    if (strcmp(ot, "trigger") == 0 && v->trig.m == 0) {
        return refuse(s, o, "triggerPx");
    }
    return ms_of(s, o, "cTime", &v->c_time_ms) && ms_of(s, o, "uTime", &v->u_time_ms);
}

/* ------------------------------------------------------------ memory */

static struct okx_algos *algos(okx_ctx *c)
{
    if (!c->algos && c->started) {
        c->algos = calloc(1, sizeof(*c->algos));
        if (!c->algos) {
            /* without it a late listing may repeat an older state: said */
            c->h->log(c->inst, AT_LOG_ERROR,
                      "out of memory for the algo order memory: a stale ALGO_ORDER state is "
                      "possible after a reconnect");
        }
    }
    return c->algos;
}

/* Whether (rank, u_time) is newer than what was published of algo_id, and
 * if so remember it. Without the memory everything is new. */
static bool newer(okx_ctx *c, const char *algo_id, int rank, int64_t u_time)
{
    struct okx_algos *k = algos(c);
    if (!k) {
        return true;
    }
    algo_seen *e = NULL, *lru = NULL;
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->t[i].algo_id, algo_id) == 0) {
            e = &k->t[i];
            break;
        }
        if (!lru || k->t[i].used < lru->used) {
            lru = &k->t[i];
        }
    }
    if (e) {
        bool fresh = e->rank == RANK_DONE ? rank == RANK_DONE && u_time > e->u_time_ms
                     : rank != e->rank    ? rank > e->rank
                                          : u_time > e->u_time_ms;
        e->used = ++k->clock;
        if (!fresh) {
            return false;
        }
    } else {
        e = k->n < KNOWN_ALGOS ? &k->t[k->n++] : lru;
        memset(e, 0, sizeof(*e));
        snprintf(e->algo_id, sizeof(e->algo_id), "%s", algo_id);
        e->used = ++k->clock;
    }
    e->rank = rank;
    e->u_time_ms = u_time;
    return true;
}

void okx_algo_stop(okx_ctx *c)
{
    free(c->algos);
    c->algos = NULL;
    /* a listing's REST call went with the REST client (its callback is not
     * called): none runs after a restart of the instance */
    memset(&c->algo_list, 0, sizeof(c->algo_list));
}

/* ------------------------------------------------------------ events */

bool okx_algo_apply(okx_ctx *c, const char *kind, const char *then, const json_t *o)
{
    src s = {.c = c, .then = then};
    const char *inst_id = okx_jstr(o, "instId"), *id = okx_jstr(o, "algoId");
    snprintf(s.what, sizeof(s.what), "%s (%.40s %.48s)", kind, *inst_id ? inst_id : "?",
             *id ? id : "?");
    algo_vals v;
    if (!algo_of(&s, o, &v)) {
        return false;
    }
    if (!newer(c, id, v.rank, v.u_time_ms)) {
        return true; /* nothing new: what was published stays */
    }
    at_ev_algo_order *e = (at_ev_algo_order *)c->h->event_new(c->inst, AT_EV_ALGO_ORDER, 0);
    if (!e) {
        return true;
    }
    e->h.inst = v.in->id;
    snprintf(e->account, sizeof(e->account), "%s", c->name);
    snprintf(e->algo_id, sizeof(e->algo_id), "%s", id);
    snprintf(e->algo_cl_ord_id, sizeof(e->algo_cl_ord_id), "%s", okx_jstr(o, "algoClOrdId"));
    snprintf(e->ord_type, sizeof(e->ord_type), "%s", okx_jstr(o, "ordType"));
    e->state = v.state;
    e->side = v.side;
    e->pos_side = v.pos_side;
    e->sz = v.sz;
    e->close_position = v.close_position;
    e->reduce_only = v.reduce_only;
    e->tp_trigger_px = v.tp;
    e->sl_trigger_px = v.sl;
    e->trigger_px = v.trig;
    e->c_time_ms = v.c_time_ms;
    e->u_time_ms = v.u_time_ms;
    c->h->publish(c->inst, &e->h, 0);
    return true;
}

void okx_algo_on_push(okx_ctx *c, const json_t *item)
{
    okx_algo_apply(c, "algo order push", "the last good state stays", item);
}

/* ------------------------------------------------------------ listing */

static void list_page(okx_ctx *c, const char *after);

static void list_done(okx_ctx *c)
{
    c->algo_list.running = false;
    if (c->algo_list.again) {
        bool check = c->algo_list.again_check;
        c->algo_list.again = c->algo_list.again_check = false;
        okx_algo_list(c, check);
    }
}

static void on_page(void *arg, const okx_reply *r)
{
    okx_ctx *c = arg;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !json_is_array(r->data)) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "orders-algo-pending failed: %s %s; algo orders at OKX not listed%s", r->code,
                  r->msg, c->algo_list.check ? " (nor checked for foreign ones)" : "");
        list_done(c);
        return;
    }
    size_t i, refused = 0;
    json_t *o;
    json_array_foreach(r->data, i, o)
    {
        refused += !okx_algo_apply(c, "algo order at OKX", "not published", o);
        if (c->algo_list.check) {
            okx_recon_check_algo(c, o);
        }
    }
    if (refused) {
        char text[256];
        snprintf(text, sizeof(text),
                 "%s: %zu algo order(s) pending at OKX could not be read (see the warnings): the "
                 "engine does not know them; check them at OKX",
                 c->name, refused);
        okx_alert(c, AT_LOG_ERROR, text);
    }
    c->algo_list.pages++;
    /* A full page: the next one holds older algos (after its last algoId). */
    json_t *last = json_array_get(r->data, json_array_size(r->data) - 1);
    if (json_array_size(r->data) >= LIST_PAGE && *okx_jstr(last, "algoId")) {
        if (c->algo_list.pages < LIST_PAGES_MAX) {
            char after[AT_ID_LEN];
            snprintf(after, sizeof(after), "%s", okx_jstr(last, "algoId"));
            list_page(c, after);
            return;
        }
        c->h->log(c->inst, AT_LOG_WARN,
                  "more than %d algo orders pending at OKX: the rest not read",
                  LIST_PAGE * LIST_PAGES_MAX);
    }
    list_done(c);
}

static void list_page(okx_ctx *c, const char *after)
{
    char query[256] = "";
    okx_query_append(query, sizeof(query), "ordType", "conditional,oco,trigger");
    okx_query_append(query, sizeof(query), "instType", "SWAP");
    if (after) {
        okx_query_append(query, sizeof(query), "after", after);
    }
    if (okx_rest_get(c->rest, "/api/v5/trade/orders-algo-pending", query + 1, true, on_page, c) !=
        AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "orders-algo-pending could not be sent: algo orders at OKX not listed");
        list_done(c);
    }
}

void okx_algo_list(okx_ctx *c, bool check_ours)
{
    if (c->algo_list.running) {
        c->algo_list.again = true;
        c->algo_list.again_check |= check_ours;
        return;
    }
    c->algo_list.running = true;
    c->algo_list.check = check_ours;
    c->algo_list.pages = 0;
    list_page(c, NULL);
}

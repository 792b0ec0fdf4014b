/* The paper account in storage: one paper_state row per instance holding
 * the venue state document (lib/venue/persist.c), rewritten whenever the
 * venue's state changes and read back at start.
 *
 * Why a snapshot row and not a journal of changes: the document is bounded
 * (open orders and positions, plus the newest finished orders and fills),
 * one upsert per change keeps storage in the same order as the events, and
 * restoring is one read with nothing to replay.
 *
 * Order of writes: a venue call (an order, a cancel, a tick that filled or
 * triggered something) first changes the venue, then the document is queued
 * for storage, and only then do the venue's pushes reach exchange_okx's code
 * (orders and fills rows, ORDER/FILL/POSITION/BALANCE events) and its answer
 * the caller. Storage commits in queue order, so whatever storage holds
 * about an order or a fill, it holds the venue state that produced it. A
 * kill -9 can only lose the engine's own rows written after the document;
 * those are caught up at the next start (paper_store_catch_up), as exchange_okx
 * catches up with OKX. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "paper.h"

/* Finished orders and algos, and fills, kept in the document besides
 * everything live: enough for exchange_okx's lookups by clOrdId after a
 * restart (64 fills: one market order can sweep all 25 book levels), small
 * enough to rewrite on every change. */
static const venue_keep KEEP = {32, 64, 16};

/* The ids of a new account start from the clock (a thousand per
 * millisecond since the epoch), so the ordIds and tradeIds of an account
 * started again never repeat those of an earlier one (the fills table keys
 * on tradeId); a restored account goes on from its stored counters. */
#define ID_BASE 2896576259728695296ll

static void log_p(paper_ctx *p, at_log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void log_p(paper_ctx *p, at_log_level lv, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    p->okx.h->log(p->okx.inst, lv, "%s", line);
}

static int64_t now_ms(paper_ctx *p)
{
    return p->okx.h->now_us() / 1000;
}

/* ------------------------------------------------------------ writing */

static void on_saved(void *arg, int err, const char *error)
{
    paper_ctx *p = arg;
    if (err == AT_EAGAIN) {
        err = AT_OK; /* PostgreSQL at stop: journaled, written at the next start */
    }
    if (err != AT_OK && !p->save_failed) {
        log_p(p, AT_LOG_ERROR,
              "paper account not stored: %s (the venue goes on; later changes "
              "are written again)",
              error ? error : "storage error");
    }
    p->save_failed = err != AT_OK;
    if (err != AT_OK) {
        free(p->saved); /* written again whole at the next tick (100 ms) */
        p->saved = NULL;
        p->dirty = true;
    }
}

static void save(paper_ctx *p)
{
    p->dirty = false;
    if (p->no_storage || !p->venue_open) {
        return;
    }
    json_t *st = venue_state_dump(&p->x, p->x.accts, &KEEP);
    char *txt = st ? okx_json_dumps(st, JSON_COMPACT) : NULL;
    json_decref(st);
    if (!txt) {
        log_p(p, AT_LOG_ERROR, "paper account not stored: out of memory serialising it");
        p->dirty = true; /* tried again at the next tick */
        return;
    }
    if (p->saved && strcmp(p->saved, txt) == 0) {
        free(txt);
        return;
    }
    const at_db_value v[] = {AT_DB_S(p->okx.name), AT_DB_I(VENUE_STATE_FORMAT), AT_DB_I(p->seq + 1),
                             AT_DB_S(txt), AT_DB_I(now_ms(p))};
    int rc =
        p->okx.h->db_write(p->okx.inst,
                           "INSERT INTO paper_state (account, format, seq, state_json, "
                           "updated_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account) DO "
                           "UPDATE SET format = $2, seq = $3, state_json = $4, updated_ms = $5",
                           v, 5, on_saved, p);
    if (rc != AT_OK) {
        on_saved(p, rc, "storage refused the write");
        free(txt);
        return;
    }
    p->seq++;
    free(p->saved);
    p->saved = txt;
}

void paper_store_push(paper_ctx *p, const char *channel, json_t *data)
{
    p->dirty = true;
    if (p->depth == 0) {
        paper_deliver(p, channel, data); /* not inside a venue call: nothing to wait for */
        return;
    }
    if (!p->held) {
        p->held = json_array();
    }
    json_t *m = json_pack("{s:s, s:O}", "channel", channel, "data", data);
    if (!m || json_array_append_new(p->held, m) != 0) {
        log_p(p, AT_LOG_ERROR, "out of memory holding a %s push: dropped", channel);
    }
}

void paper_venue_enter(paper_ctx *p)
{
    p->depth++;
}

void paper_venue_leave(paper_ctx *p)
{
    if (--p->depth > 0) {
        return;
    }
    if (p->dirty) {
        save(p);
    }
    json_t *held = p->held;
    p->held = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(held, i, m)
    {
        paper_deliver(p, json_string_value(json_object_get(m, "channel")),
                      json_object_get(m, "data"));
    }
    json_decref(held);
}

void paper_store_close(paper_ctx *p)
{
    if (p->dirty) {
        save(p);
    }
    json_decref(p->held);
    p->held = NULL;
}

void paper_store_free(paper_ctx *p)
{
    json_decref(p->held);
    p->held = NULL;
    free(p->saved);
    p->saved = NULL;
}

/* ------------------------------------------------------------ fresh start */

static int64_t old_int(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* A new account from the config (open_venue made it): ids from the clock,
 * never below the counters of `old` (a state set aside by reset). */
static void fresh(paper_ctx *p, const json_t *old)
{
    sim_acct *a = p->x.accts;
    int64_t t = now_ms(p) * 1000;
    a->next_id = ID_BASE + t;
    if (old_int(old, "nextId") > a->next_id) {
        a->next_id = old_int(old, "nextId");
    }
    for (size_t i = 0; i < market_ninst(p->market); i++) {
        sim_inst *in = market_inst(p->market, i);
        in->next_trade_id = t;
        size_t k;
        const json_t *o;
        json_array_foreach(json_object_get(old, "instruments"), k, o)
        {
            if (strcmp(sim_json_str(o, "instId"), in->inst_id) == 0 &&
                old_int(o, "nextTradeId") > in->next_trade_id) {
                in->next_trade_id = old_int(o, "nextTradeId");
            }
        }
    }
    p->dirty = true;
}

/* reset = true: the old document goes to audit_log (nothing is deleted), and
 * the engine's rows of the old account stop showing open orders and
 * positions that no longer exist. */
static void set_aside(paper_ctx *p, int64_t seq, const char *old_text)
{
    const at_host *h = p->okx.h;
    int64_t now = now_ms(p);
    char id[160], msg[200];
    snprintf(id, sizeof(id), "%s:paper_reset:%lld:%lld", p->okx.name, (long long)seq,
             (long long)now);
    snprintf(msg, sizeof(msg),
             "paper account reset (reset = true): stored state seq %lld set aside, started again "
             "from balance %s",
             (long long)seq, p->balance);
    const at_db_value a[] = {AT_DB_S(id),          AT_DB_I(now),
                             AT_DB_S(p->okx.name), AT_DB_S("paper_reset"),
                             AT_DB_S(msg),         AT_DB_S(old_text)};
    h->db_write(p->okx.inst,
                "INSERT INTO audit_log (id, ts_ms, instance, kind, message, data_json) VALUES ($1, "
                "$2, $3, $4, $5, $6)",
                a, 6, NULL, NULL);
    const at_db_value o[] = {AT_DB_S(p->okx.name), AT_DB_I(now)};
    h->db_write(
        p->okx.inst,
        "UPDATE orders SET state = 'canceled', msg = 'paper account reset', updated_ms = $2 "
        "WHERE account = $1 AND state IN ('live', 'partially_filled')",
        o, 2, NULL, NULL);
    at_dec zero = {0, 0};
    const at_db_value q[] = {AT_DB_S(p->okx.name), AT_DB_D(zero), AT_DB_I(now)};
    h->db_write(p->okx.inst,
                "UPDATE positions SET pos = $2, upl = NULL, margin = NULL, updated_ms = $3 WHERE "
                "account = $1",
                q, 3, NULL, NULL);
    log_p(p, AT_LOG_WARN,
          "reset = true: the stored paper account (seq %lld) is set aside in audit_log and the "
          "account starts again from %s USDT; remove reset from the config, or every start "
          "begins afresh",
          (long long)seq, p->balance);
}

/* ------------------------------------------------------------ reading */

typedef struct loading {
    paper_ctx *p;
    void (*ready)(paper_ctx *p);
    bool found;
    int64_t seq, format, updated_ms;
    char *text;
} loading;

static void refuse(paper_ctx *p, const loading *l, const char *why)
{
    char saved[96] = "";
    if (l && l->found) {
        time_t t = (time_t)(l->updated_ms / 1000);
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r(&t, &tm)) {
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        snprintf(saved, sizeof(saved), " (paper_state seq %lld, written %s)", (long long)l->seq,
                 when);
    }
    log_p(p, AT_LOG_ERROR,
          "paper account %s cannot be restored%s: %s. Nothing was started: fix or remove its "
          "paper_state row, or set reset = true to start again from balance (the stored state "
          "is then kept in audit_log)",
          p->okx.name, saved, why);
    char detail[300];
    snprintf(detail, sizeof(detail), "stored paper account cannot be restored: %s", why);
    p->okx.h->set_state(p->okx.inst, AT_STATE_DOWN, detail);
    p->okx.h->request_stop(p->okx.inst, 1);
}

static size_t count_live(const sim_acct *a, size_t *pos, size_t *algos)
{
    size_t ords = 0;
    *pos = *algos = 0;
    for (const sim_position *q = a->positions; q; q = q->next) {
        *pos += q->pos.m != 0;
    }
    for (const sim_order *o = a->orders; o; o = o->next) {
        ords += o->state == SIM_LIVE || o->state == SIM_PARTIALLY_FILLED;
    }
    for (const sim_algo *g = a->algos; g; g = g->next) {
        *algos += g->state == SIM_ALGO_LIVE;
    }
    return ords;
}

/* The config's settings over a restored account: fees always; the position
 * mode only while nothing is open (OKX refuses the switch otherwise). */
static void apply_config(paper_ctx *p, sim_acct *a, at_dec maker, at_dec taker)
{
    a->maker_fee_rate = maker;
    a->taker_fee_rate = taker;
    sim_pos_mode want = p->pos_mode ? SIM_LONG_SHORT_MODE : SIM_NET_MODE;
    if (want == a->pos_mode) {
        return;
    }
    size_t npos, nalgo, nord = count_live(a, &npos, &nalgo);
    const char *cfg = want == SIM_NET_MODE ? "net_mode" : "long_short_mode";
    const char *had = want == SIM_NET_MODE ? "long_short_mode" : "net_mode";
    if (npos || nord || nalgo) {
        log_p(p, AT_LOG_WARN,
              "pos_mode = %s in the config, but the restored account is in %s with open "
              "positions or orders: it stays in %s until they are closed (or reset = true)",
              cfg, had, had);
        return;
    }
    a->pos_mode = want;
    p->dirty = true;
    log_p(p, AT_LOG_INFO, "position mode %s -> %s (from the config)", had, cfg);
}

static bool restore(paper_ctx *p, loading *l)
{
    char why[512];
    if (l->format != VENUE_STATE_FORMAT) {
        snprintf(why, sizeof(why), "format %lld, this build reads format %d", (long long)l->format,
                 VENUE_STATE_FORMAT);
        refuse(p, l, why);
        return false;
    }
    json_error_t je;
    json_t *st = json_loads(l->text, 0, &je);
    if (!st) {
        snprintf(why, sizeof(why), "state_json is not JSON: %s at line %d column %d", je.text,
                 je.line, je.column);
        refuse(p, l, why);
        return false;
    }
    sim_acct *a = p->x.accts;
    at_dec maker = a->maker_fee_rate, taker = a->taker_fee_rate; /* from the config */
    /* Instruments the document does not carry (added to the config, or
     * re-added after a removal dropped their counter) start their trade ids
     * from the clock, as a new account does: ids below it were handed out
     * at an earlier time, so none repeats (fills are keyed by tradeId). The
     * load overwrites this for the instruments it carries. */
    for (size_t i = 0; i < market_ninst(p->market); i++) {
        market_inst(p->market, i)->next_trade_id = now_ms(p) * 1000;
    }
    int rc = venue_state_load(&p->x, a, st, why, sizeof(why));
    json_decref(st);
    if (rc != AT_OK) {
        refuse(p, l, why);
        return false;
    }
    apply_config(p, a, maker, taker);
    p->seq = l->seq;
    size_t npos, nalgo, nord = count_live(a, &npos, &nalgo);
    char cash[AT_DEC_STRLEN];
    log_p(p, AT_LOG_INFO,
          "paper account restored (seq %lld): cash %s USDT, %zu open position(s), %zu open "
          "order(s), %zu live algo order(s), next id %lld",
          (long long)l->seq, sim_dec_str(a->cash, cash), npos, nord, nalgo, (long long)a->next_id);
    return true;
}

/* An integer column, whichever way the backend hands it over. */
static int64_t col_int(const at_db_value *v)
{
    switch (v->type) {
    case AT_DB_INT:
        return v->u.i;
    case AT_DB_TEXT:
        return strtoll(v->u.s, NULL, 10);
    case AT_DB_REAL:
        return (int64_t)v->u.r;
    default:
        return 0;
    }
}

static int on_row(void *arg, const at_db_row *row)
{
    loading *l = arg;
    l->found = true;
    if (row->ncols < 4 || row->cols[2].type != AT_DB_TEXT) {
        return 1; /* l->text stays NULL: refused as unreadable */
    }
    l->seq = col_int(&row->cols[0]);
    l->format = col_int(&row->cols[1]);
    l->updated_ms = col_int(&row->cols[3]);
    free(l->text);
    l->text = strdup(row->cols[2].u.s);
    return 1;
}

static void on_loaded(void *arg, int err, const char *error)
{
    loading *l = arg;
    paper_ctx *p = l->p;
    bool go = false;
    if (!p->okx.started) {
        /* stopped meanwhile */
    } else if (err != AT_OK) {
        char why[300];
        snprintf(why, sizeof(why), "reading paper_state failed: %s", error ? error : "?");
        refuse(p, NULL, why);
    } else if (l->found && !l->text) {
        refuse(p, l, "state_json is missing or could not be read");
    } else if (!l->found) {
        log_p(p, AT_LOG_INFO, "no stored paper account: a new one with %s USDT", p->balance);
        fresh(p, NULL);
        go = true;
    } else if (p->reset) {
        json_t *old = json_loads(l->text, 0, NULL); /* its counters, when readable */
        set_aside(p, l->seq, l->text);
        fresh(p, old);
        p->seq = l->seq;
        json_decref(old);
        go = true;
    } else {
        go = restore(p, l);
    }
    void (*ready)(paper_ctx *) = l->ready;
    free(l->text);
    free(l);
    if (go) {
        p->venue_open = true;
        save(p);
        ready(p);
    }
}

void paper_store_open(paper_ctx *p, void (*ready)(paper_ctx *p))
{
    loading *l = calloc(1, sizeof(*l));
    if (!l) {
        refuse(p, NULL, "out of memory");
        return;
    }
    l->p = p;
    l->ready = ready;
    const at_db_value v[] = {AT_DB_S(p->okx.name)};
    int rc = p->okx.h->db_query(
        p->okx.inst,
        "SELECT seq, format, state_json, updated_ms FROM paper_state WHERE account = $1", v, 1,
        on_row, on_loaded, l);
    if (rc == AT_ESTATE) {
        free(l);
        p->no_storage = true;
        log_p(p, AT_LOG_WARN,
              "no storage: the paper account lives in memory only and starts "
              "again from balance at every start");
        fresh(p, NULL);
        p->venue_open = true;
        ready(p);
    } else if (rc != AT_OK) {
        free(l);
        refuse(p, NULL, "storage refused the read of paper_state");
    }
}

/* ------------------------------------------------------------ catching up */

typedef struct catch_q {
    paper_ctx *p;
    bool fill; /* a fill (its row missing?), else an order (its row's state?) */
    char ord_id[SIM_ID_LEN];
    int64_t trade_id;
    bool found;
    char state[24];
} catch_q;

static int on_catch_row(void *arg, const at_db_row *row)
{
    catch_q *q = arg;
    q->found = true;
    if (row->ncols > 0 && row->cols[0].type == AT_DB_TEXT) {
        snprintf(q->state, sizeof(q->state), "%s", row->cols[0].u.s);
    }
    return 1;
}

static const sim_order *find_order(const sim_acct *a, const char *ord_id)
{
    for (const sim_order *o = a->orders; o; o = o->next) {
        if (strcmp(o->ord_id, ord_id) == 0) {
            return o;
        }
    }
    return NULL;
}

/* The order push as the venue would send it now, with fill `f` or none. */
static json_t *order_push(const sim_order *o, const sim_fill *f)
{
    json_t *j = order_json(o);
    if (!f) {
        json_object_del(j, "tradeId"); /* the state only */
        return j;
    }
    char tid[24];
    snprintf(tid, sizeof(tid), "%lld", (long long)f->trade_id);
    json_object_set_new(j, "tradeId", json_string(tid));
    json_object_set_new(j, "fillPx", sim_dec_json(f->fill_px));
    json_object_set_new(j, "fillSz", sim_dec_json(f->fill_sz));
    json_object_set_new(j, "fillFee", sim_dec_json(f->fee));
    json_object_set_new(j, "fillFeeCcy", json_string("USDT"));
    json_object_set_new(j, "execType", json_string(f->exec_type));
    json_object_set_new(j, "fillTime", sim_ms_json(f->ts_ms));
    return j;
}

/* Fills are delivered when their row is missing; orders when their row has
 * another state than the venue's now (rows still "sent" or "unknown" are
 * exchange_okx's reconciliation's). The push is built when the answer is in,
 * from the venue as it is then, so it never takes a row back in time. */
static void on_catch_done(void *arg, int err, const char *error)
{
    (void)error;
    catch_q *q = arg;
    paper_ctx *p = q->p;
    sim_acct *a = p->okx.started && err == AT_OK ? p->x.accts : NULL;
    const sim_order *o = a ? find_order(a, q->ord_id) : NULL;
    const sim_fill *f = NULL;
    for (const sim_fill *k = o && q->fill ? a->fills : NULL; k && !f; k = k->next) {
        f = k->trade_id == q->trade_id && strcmp(k->ord_id, q->ord_id) == 0 ? k : NULL;
    }
    json_t *push = o && (!q->fill || f) ? order_push(o, f) : NULL;
    const char *now = push ? sim_json_str(push, "state") : "";
    bool deliver =
        push && (q->fill ? !q->found
                         : q->found && strcmp(q->state, now) != 0 &&
                               strcmp(q->state, "sent") != 0 && strcmp(q->state, "unknown") != 0);
    if (deliver) {
        log_p(p, AT_LOG_INFO, "catching up from the restored venue: %s (clOrdId %s, %s)",
              q->fill ? "a fill not stored before the stop" : "an order state not stored",
              o->cl_ord_id, q->fill ? sim_json_str(push, "tradeId") : now);
        json_t *list = json_pack("[O]", push);
        paper_deliver(p, "orders", list);
        json_decref(list);
    }
    json_decref(push);
    free(q);
}

static void ask(paper_ctx *p, catch_q *q, const char *sql, const at_db_value *v, size_t n)
{
    if (p->okx.h->db_query(p->okx.inst, sql, v, n, on_catch_row, on_catch_done, q) != AT_OK) {
        free(q);
    }
}

void paper_store_catch_up(paper_ctx *p)
{
    if (p->no_storage) {
        return;
    }
    sim_acct *a = p->x.accts;
    for (const sim_fill *f = a->fills; f; f = f->next) {
        catch_q *q = calloc(1, sizeof(*q));
        if (!q) {
            return;
        }
        *q = (catch_q){.p = p, .fill = true, .trade_id = f->trade_id};
        snprintf(q->ord_id, sizeof(q->ord_id), "%s", f->ord_id);
        char tid[24];
        snprintf(tid, sizeof(tid), "%lld", (long long)f->trade_id);
        const at_db_value v[] = {AT_DB_S(p->okx.name), AT_DB_S(f->inst->inst_id), AT_DB_S(tid)};
        ask(p, q,
            "SELECT trade_id FROM fills WHERE account = $1 AND inst_id = $2 AND trade_id = $3", v,
            3);
    }
    for (const sim_order *o = a->orders; o; o = o->next) {
        if (!o->cl_ord_id[0]) {
            continue; /* not placed by the engine (liquidation, algo): no row */
        }
        catch_q *q = calloc(1, sizeof(*q));
        if (!q) {
            return;
        }
        *q = (catch_q){.p = p};
        snprintf(q->ord_id, sizeof(q->ord_id), "%s", o->ord_id);
        const at_db_value v[] = {AT_DB_S(p->okx.name), AT_DB_S(o->cl_ord_id)};
        ask(p, q, "SELECT state FROM orders WHERE account = $1 AND cl_ord_id = $2", v, 2);
    }
}

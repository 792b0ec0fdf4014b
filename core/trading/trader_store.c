/* A trader's storage: one `decisions` row per decision; at start the last
 * decisions and the orders they produced are read back (the history shown
 * in the prompt and the reason each open position was entered for); before
 * each AI call the instruments (ctVal, lotSz, minSz, tickSz) and the
 * account's position mode are read again, as the exchange plugins keep
 * them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/failpoint.h>
#include <jansson.h>

#include "dbcol.h"
#include "engine.h"
#include "trader_internal.h"
#include "util.h"

/* Decisions read back at start: enough to find the entry of positions held
 * for days, more than the history shown. */
#define LOAD_DECISIONS 200
#define LOAD_ORDERS 4000
/* A valid decision stored at most this long ago whose intents have no
 * orders row (killed after the decision row, before the exchange stored
 * them) has those intents published again at start, with the same ids: the
 * executor and the orders table's unique intent_id and cl_ord_id keep it to
 * one order. An older decision's market orders would act on a market that
 * has moved since: it stays "asked". */
#define REPUBLISH_MS 120000
#define AGAIN_POLL_MS 200

/* ------------------------------------------------------------ helpers */

static bool col_dec(const trader *t, const at_db_row *row, size_t i, at_dec *out)
{
    const char *s = dbcol_text(row, i);
    return s && t->h->dec_parse(s, (size_t)-1, out) == AT_OK;
}

static bool jdec(const trader *t, const json_t *o, const char *k, at_dec *out)
{
    const char *s = json_string_value(json_object_get(o, k));
    *out = (at_dec){0, 0};
    return s && t->h->dec_parse(s, (size_t)-1, out) == AT_OK;
}

/* Writes log on the instance, which lives until engine_free: a write that
 * completes while the engine stops still has something to log on. */
static void on_stored(void *arg, int err, const char *error)
{
    if (err != AT_OK) {
        engine_host()->log(arg, AT_LOG_ERROR, "decision not stored: %s",
                           error ? error : at_strerror(err));
        return;
    }
    at_failpoint("trader.decision_stored");
}

/* ------------------------------------------------------------ the row */

int tr_store_decision(trader *t, const tr_call *c, const at_ai_reply *r, bool valid,
                      const char *validation, const char *actions_json, const char *intents_json)
{
    const char *user = c->user_retry ? c->user_retry : c->user;
    const at_db_value p[] = {
        AT_DB_S(c->key),
        AT_DB_S(t->name),
        AT_DB_S(t->ai_name),
        AT_DB_S(r->model),
        AT_DB_S(c->key),
        AT_DB_S(c->trigger_reason),
        AT_DB_B(valid),
        AT_DB_S(valid ? NULL : validation),
        AT_DB_S(actions_json),
        AT_DB_S(user),
        AT_DB_S(r->content),
        AT_DB_I(c->latency_ms),
        AT_DB_I(c->tokens_in),
        AT_DB_I(c->tokens_out),
        AT_DB_R(c->cost_usd),
        AT_DB_I(t->h->now_us() / 1000),
        AT_DB_S(t->tpl.hash),
        AT_DB_S(c->system),
        AT_DB_S(r->reasoning),
        AT_DB_S(validation),
        AT_DB_I(c->prompt_tokens),
        AT_DB_S(r->finish_reason),
        AT_DB_S(r->err != AT_OK ? (r->error ? r->error : at_strerror(r->err)) : NULL),
        AT_DB_I(c->attempt + 1),
        AT_DB_S(c->first_raw),
        AT_DB_S(c->first_error),
        AT_DB_S(intents_json),
        AT_DB_S(r->refusal),
        AT_DB_I(c->deadline_ms),
    };
    int rc = t->h->db_write(
        t->inst,
        "INSERT INTO decisions (id, trader, provider, model, trigger_key, trigger_reason, valid, "
        "invalid_reason, actions_json, prompt, raw_response, latency_ms, tokens_in, tokens_out, "
        "cost, created_ms, prompt_hash, system_prompt, reasoning, validation, prompt_tokens, "
        "finish_reason, provider_error, attempts, first_response, first_error, intents_json, "
        "refusal, deadline_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,"
        "$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29) ON CONFLICT (id) DO NOTHING",
        p, sizeof(p) / sizeof(p[0]), on_stored, t->inst);
    return rc;
}

/* ------------------------------------------------------------ refresh */

typedef struct refresh {
    trader *t;
    char key[AT_ID_LEN];
    void (*next)(tr_call *c);
    int step;
} refresh;

static void query_done(trader *t)
{
    t->queries--;
    if (t->freed && t->queries == 0) {
        tr_free_now(t);
    }
}

static int on_inst_row(void *arg, const at_db_row *row)
{
    refresh *rf = arg;
    trader *t = rf->t;
    const char *ex = dbcol_text(row, 0), *id = dbcol_text(row, 1);
    int k = id ? tr_symbol_index(t, t->h->inst_intern(id)) : -1;
    if (k < 0 || t->freed) {
        return 0;
    }
    tr_symbol *s = &t->sym[k];
    /* The account's own row wins; any venue's row for the instrument else
     * (a paper account trades on another instance's market). */
    bool own = ex && strcmp(ex, t->account) == 0;
    if (s->spec_own && !own) {
        return 0;
    }
    sz_inst in = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    if (!col_dec(t, row, 2, &in.ct_val) || !col_dec(t, row, 3, &in.lot_sz) ||
        !col_dec(t, row, 4, &in.min_sz)) {
        return 0;
    }
    col_dec(t, row, 5, &in.tick_sz);
    s->spec = in;
    s->has_spec = true;
    s->spec_own = own;
    return 0;
}

static int on_account_row(void *arg, const at_db_row *row)
{
    refresh *rf = arg;
    const char *mode = dbcol_text(row, 0), *id = dbcol_text(row, 1);
    int book = id && !rf->t->freed ? tr_book_of(rf->t, id) : -1;
    if (mode && book >= 0) {
        tr_pos_mode *m = &rf->t->pos_mode[book];
        *m = strcmp(mode, "long_short_mode") == 0 ? TR_MODE_LONG_SHORT
             : strcmp(mode, "net_mode") == 0      ? TR_MODE_NET
                                                  : *m;
    }
    return 0;
}

static void refresh_step(refresh *rf);

static void on_refresh_done(void *arg, int err, const char *error)
{
    refresh *rf = arg;
    trader *t = rf->t;
    if (err != AT_OK && !t->freed) {
        t->h->log(t->inst, AT_LOG_WARN, "%s: cannot read %s (%s): using what was read before",
                  rf->key, rf->step == 1 ? "instruments" : "the account's position mode",
                  error ? error : at_strerror(err));
    }
    bool last = t->freed && t->queries == 1;
    query_done(t); /* frees the trader after its last query */
    if (last) {
        free(rf);
        return;
    }
    refresh_step(rf);
}

/* Step 0: instruments; 1: the position mode of the account (and of the
 * shadow account); 2: on to the call. */
static void refresh_step(refresh *rf)
{
    trader *t = rf->t;
    for (;;) {
        int step = rf->step++;
        if (step >= 2 || t->freed) {
            tr_call *c = NULL;
            for (tr_call *x = t->freed ? NULL : t->calls; x; x = x->next) {
                c = strcmp(x->key, rf->key) == 0 ? x : c;
            }
            if (c) {
                rf->next(c);
            }
            free(rf);
            return;
        }
        int rc;
        if (step == 0) {
            /* WHERE inst_id IN ($1, … $n): the trader's symbols only. */
            at_db_value p[TR_MAX_SYMBOLS];
            tbuf sql = {0};
            tb_printf(&sql, "SELECT exchange, inst_id, ct_val, lot_sz, min_sz, tick_sz FROM "
                            "instruments WHERE inst_id IN (");
            for (size_t i = 0; i < t->nsym; i++) {
                p[i] = AT_DB_S(t->sym[i].name);
                t->sym[i].spec_own = false;
                tb_printf(&sql, "%s$%zu", i ? ", " : "", i + 1);
            }
            tb_printf(&sql, ")");
            char *q = tb_take(&sql);
            rc = q ? t->h->db_query(t->inst, q, p, t->nsym, on_inst_row, on_refresh_done, rf)
                   : AT_ENOMEM;
            free(q);
        } else {
            at_db_value p[2] = {AT_DB_S(t->account), AT_DB_S(tr_book_account(t, TR_SHADOW))};
            rc = t->h->db_query(t->inst,
                                "SELECT pos_mode, id FROM accounts WHERE id = $1 OR id = $2", p, 2,
                                on_account_row, on_refresh_done, rf);
        }
        if (rc == AT_OK) {
            t->queries++;
            return;
        }
        if (rc != AT_ESTATE) {
            t->h->log(t->inst, AT_LOG_WARN, "%s: cannot read %s (%s)", rf->key,
                      step == 0 ? "instruments" : "the position mode", at_strerror(rc));
        }
    }
}

void tr_refresh(trader *t, tr_call *c, void (*next)(tr_call *c))
{
    refresh *rf = calloc(1, sizeof(*rf));
    if (!rf) {
        next(c); /* with what was read before */
        return;
    }
    rf->t = t;
    rf->next = next;
    snprintf(rf->key, sizeof(rf->key), "%s", c->key);
    refresh_step(rf);
}

/* ------------------------------------------------------------ history */

typedef struct load_order {
    char intent_id[AT_ID_LEN];
    char outcome[TR_NOTE_LEN];
    bool filled;
    bool unsettled; /* sent or unknown: a previous run got no answer */
    bool unsent;    /* the exchange found it never reached the venue */
} load_order;

typedef struct load_row {
    char id[AT_ID_LEN];
    int64_t ts_ms;
    bool valid;
    char *invalid, *actions, *intents;
} load_row;

typedef struct loader {
    trader *t;
    int step;
    bool orders_failed; /* without them every intent would look unsent */
    load_order *orders;
    size_t norders, ocap;
    load_row *rows;
    size_t nrows, rcap;
} loader;

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) {
        return true;
    }
    size_t c = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, c * size);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = c;
    return true;
}

static int on_order_row(void *arg, const at_db_row *row)
{
    loader *l = arg;
    const char *id = dbcol_text(row, 0), *state = dbcol_text(row, 1);
    if (!id || !state || !grow((void **)&l->orders, &l->ocap, l->norders, sizeof(load_order))) {
        return 0;
    }
    load_order *o = &l->orders[l->norders++];
    snprintf(o->intent_id, sizeof(o->intent_id), "%s", id);
    const char *fill = dbcol_text(row, 2), *avg = dbcol_text(row, 3), *msg = dbcol_text(row, 5);
    at_dec f = {0, 0};
    o->filled = fill && l->t->h->dec_parse(fill, (size_t)-1, &f) == AT_OK && f.m > 0;
    o->unsettled = strcmp(state, "sent") == 0 || strcmp(state, "unknown") == 0;
    o->unsent = strcmp(state, "unsent") == 0;
    if (strcmp(state, "rejected") == 0 || strcmp(state, "shadow") == 0) {
        snprintf(o->outcome, sizeof(o->outcome), "%s: %.120s",
                 state[0] == 's' ? "shadow" : "refused", msg ? msg : "");
    } else if (o->filled) {
        snprintf(o->outcome, sizeof(o->outcome), "%s %s @ %s",
                 strcmp(state, "partially_filled") == 0 ? "partially filled" : state, fill,
                 avg ? avg : "?");
    } else {
        snprintf(o->outcome, sizeof(o->outcome), "%s", state);
    }
    return 0;
}

static int on_decision_row(void *arg, const at_db_row *row)
{
    loader *l = arg;
    const char *id = dbcol_text(row, 0);
    int64_t ts;
    if (!id || !dbcol_int(row, 1, &ts) ||
        !grow((void **)&l->rows, &l->rcap, l->nrows, sizeof(load_row))) {
        return 0;
    }
    load_row *r = &l->rows[l->nrows++];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->ts_ms = ts;
    r->valid = dbcol_bool(row, 2);
    r->invalid = at_strdup(dbcol_text(row, 3));
    r->actions = at_strdup(dbcol_text(row, 4));
    r->intents = at_strdup(dbcol_text(row, 5));
    return 0;
}

static const load_order *find_order(const loader *l, const char *intent_id)
{
    for (size_t i = 0; i < l->norders; i++) {
        if (strcmp(l->orders[i].intent_id, intent_id) == 0) {
            return &l->orders[i];
        }
    }
    return NULL;
}

/* One stored decision into the history, and into the theses of the
 * positions it opened (entries that filled) or closed (whole closes). */
static void replay(loader *l, const load_row *r)
{
    trader *t = l->t;
    tr_hist *hx = tr_hist_push(t);
    snprintf(hx->decision_id, sizeof(hx->decision_id), "%s", r->id);
    hx->ts_ms = r->ts_ms;
    hx->valid = r->valid;
    snprintf(hx->invalid, sizeof(hx->invalid), "%s", r->invalid ? r->invalid : "");
    json_t *acts = r->actions ? json_loads(r->actions, 0, NULL) : NULL;
    json_t *ints = r->intents ? json_loads(r->intents, 0, NULL) : NULL;
    json_t *list = json_object_get(acts, "decisions");
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        const char *sym = json_string_value(json_object_get(a, "symbol"));
        const char *act = json_string_value(json_object_get(a, "action"));
        int k = sym ? tr_symbol_index(t, t->h->inst_intern(sym)) : -1;
        if (k < 0 || !act || hx->n == AT_DECISION_MAX) {
            continue; /* a symbol the trader no longer trades */
        }
        tr_hist_item *h = &hx->items[hx->n++];
        h->sym = (size_t)k;
        for (int x = 0; x <= AT_ACT_CLOSE_SHORT; x++) {
            h->action = strcmp(act, vd_action_name((at_action)x)) == 0 ? (at_action)x : h->action;
        }
        jdec(t, a, "size_pct", &h->size_pct);
        jdec(t, a, "leverage", &h->leverage);
        if (h->action == AT_ACT_HOLD) {
            snprintf(h->outcome, sizeof(h->outcome), "hold");
            continue;
        }
        snprintf(h->outcome, sizeof(h->outcome), "?");
        size_t j, legs = 0;
        json_t *n;
        json_array_foreach(ints, j, n)
        {
            if (json_integer_value(json_object_get(n, "item")) != (json_int_t)i) {
                continue;
            }
            const char *note = json_string_value(json_object_get(n, "note"));
            const char *iid = json_string_value(json_object_get(n, "intent_id"));
            const char *cl = json_string_value(json_object_get(n, "cl_ord_id"));
            const char *acc = json_string_value(json_object_get(n, "account"));
            if (note) {
                snprintf(h->outcome, sizeof(h->outcome), "not sent: %s", note);
                break;
            }
            /* an account the trader no longer trades: its outcome, no thesis */
            int book = acc ? tr_book_of(t, acc) : -1;
            bool known = book >= 0;
            book = known ? book : TR_LIVE;
            if (!iid || legs == TR_ITEM_INTENTS) {
                break;
            }
            /* a close to both books has a second (shadow) intent */
            char *id_out = legs ? h->intent2 : h->intent_id;
            char *cl_out = legs ? h->cl2 : h->cl_ord_id;
            char *outcome = legs ? h->outcome2 : h->outcome;
            legs++;
            snprintf(id_out, AT_ID_LEN, "%s", iid);
            snprintf(cl_out, AT_ID_LEN, "%s", cl ? cl : "");
            const load_order *o = find_order(l, iid);
            snprintf(outcome, TR_NOTE_LEN, "%s%.*s", book == TR_SHADOW ? "shadow: " : "",
                     TR_NOTE_LEN - 9, o ? o->outcome : "asked");
            if (!o || !o->filled || !known) {
                continue;
            }
            bool is_long = h->action == AT_ACT_OPEN_LONG || h->action == AT_ACT_CLOSE_LONG;
            tr_thesis *th = &t->sym[k].thesis[book][is_long ? 0 : 1];
            if (h->action == AT_ACT_OPEN_LONG || h->action == AT_ACT_OPEN_SHORT) {
                memset(th, 0, sizeof(*th));
                th->set = true;
                snprintf(th->decision_id, sizeof(th->decision_id), "%s", r->id);
                th->ts_ms = r->ts_ms;
                jdec(t, n, "tp", &th->tp);
                jdec(t, n, "sl", &th->sl);
                const char *why = json_string_value(json_object_get(a, "reason"));
                const char *inv = json_string_value(json_object_get(a, "invalidation"));
                snprintf(th->reason, sizeof(th->reason), "%s", why ? why : "");
                snprintf(th->invalidation, sizeof(th->invalidation), "%s", inv ? inv : "");
            } else if (json_string_value(json_object_get(n, "op")) &&
                       strcmp(json_string_value(json_object_get(n, "op")), "close_position") == 0) {
                th->set = false;
            }
        }
    }
    json_decref(acts);
    json_decref(ints);
}

/* A live entry the configuration now sends shadow (shadow = true, or the
 * symbol's live_weight 0 at this hour): not sent live again after the
 * restart, said. Closes and entries drawn at a weight in (0, 1) stand. */
static bool now_shadow(trader *t, const at_ev_order_intent *in, const char *decision_id,
                       int64_t now)
{
    int k = tr_symbol_index(t, in->h.inst);
    if (in->reduce_only || in->op != AT_INTENT_PLACE || in->shadow || k < 0 ||
        tr_book_of(t, in->account) != TR_LIVE) {
        return false;
    }
    double w = t->cfg.shadow ? 0 : gray_weight(&t->gray, t->sym[k].name, gray_hour(now));
    if (w > 0) {
        return false;
    }
    t->h->log(t->inst, AT_LOG_WARN,
              "%s: live entry %s (clOrdId %s) never reached %s and is not sent after the "
              "restart: %s now routes %s shadow",
              decision_id, in->intent_id, in->cl_ord_id, in->account,
              t->cfg.shadow ? "shadow = true" : "live_weight 0", t->sym[k].name);
    tr_hist_outcome(t, in->intent_id, NULL, "not sent again: now routed shadow");
    return true;
}

/* The intents of a recent valid decision that no orders row answers, again
 * as they were published (see REPUBLISH_MS). */
static void republish(loader *l, const load_row *r, int64_t now)
{
    trader *t = l->t;
    if (!r->valid || !r->intents || now - r->ts_ms > REPUBLISH_MS) {
        return;
    }
    json_t *ints = json_loads(r->intents, 0, NULL);
    json_t *acts = r->actions ? json_loads(r->actions, 0, NULL) : NULL;
    json_t *list = json_object_get(acts, "decisions");
    size_t j;
    json_t *n;
    json_array_foreach(ints, j, n)
    {
        const char *iid = json_string_value(json_object_get(n, "intent_id"));
        const load_order *o = iid ? find_order(l, iid) : NULL;
        if (!iid || (o && !o->unsettled && !o->unsent)) {
            continue; /* a note, or the exchange has it */
        }
        bool wait_row = o && o->unsettled;
        for (size_t e = 0; wait_row && e < t->nunsent_early; e++) {
            wait_row = strcmp(t->unsent_early[e], iid) != 0;
        }
        at_ev_order_intent in;
        char why[TR_NOTE_LEN];
        if (tr_intent_from_json(t, n, r->id, &in, why, sizeof(why)) != AT_OK) {
            t->h->log(t->inst, AT_LOG_WARN,
                      "%s: stored intent %s has no orders row but is not published again: %s",
                      r->id, iid, why);
            continue;
        }
        if (now_shadow(t, &in, r->id, now)) {
            continue;
        }
        tr_again *ag = realloc(t->again, (t->nagain + 1) * sizeof(*ag));
        if (!ag) {
            t->h->log(t->inst, AT_LOG_ERROR, "%s: out of memory: intent %s not published again",
                      r->id, iid);
            continue;
        }
        /* An entry's fill becomes its position's thesis, as when first sent. */
        const json_t *a =
            json_array_get(list, (size_t)json_integer_value(json_object_get(n, "item")));
        t->again = ag;
        bool is_long = in.side == AT_SIDE_BUY;
        if (!in.reduce_only && in.op == AT_INTENT_PLACE && a) {
            int k = tr_symbol_index(t, in.h.inst);
            tr_pending p = {.sym = (size_t)k,
                            .dir = is_long ? 0 : 1,
                            .book = tr_book_of(t, in.account) == TR_SHADOW ? TR_SHADOW : TR_LIVE};
            snprintf(p.cl_ord_id, sizeof(p.cl_ord_id), "%s", in.cl_ord_id);
            snprintf(p.intent_id, sizeof(p.intent_id), "%s", in.intent_id);
            tr_thesis *th = &p.thesis;
            snprintf(th->decision_id, sizeof(th->decision_id), "%s", r->id);
            th->ts_ms = r->ts_ms;
            th->tp = in.tp_trigger_px;
            th->sl = in.sl_trigger_px;
            const char *rs = json_string_value(json_object_get(a, "reason"));
            const char *inv = json_string_value(json_object_get(a, "invalidation"));
            snprintf(th->reason, sizeof(th->reason), "%s", rs ? rs : "");
            snprintf(th->invalidation, sizeof(th->invalidation), "%s", inv ? inv : "");
            tr_pending_add(t, &p);
        }
        tr_again *x = &t->again[t->nagain++];
        *x = (tr_again){.in = in,
                        .until_ms = r->ts_ms + REPUBLISH_MS,
                        .decided_ms = r->ts_ms,
                        .wait_row = wait_row};
        jdec(t, n, "prompt_px", &x->prompt_px);
    }
    json_decref(acts);
    json_decref(ints);
}

bool tr_again_result(trader *t, const at_ev_order_result *r)
{
    bool unsent = strcmp(r->code, "unsent") == 0;
    for (size_t i = 0; i < t->nagain; i++) {
        tr_again *x = &t->again[i];
        if (!x->wait_row || strcmp(x->in.intent_id, r->intent_id) != 0) {
            continue;
        }
        if (unsent) {
            x->wait_row = false; /* the next poll sends it */
        } else {
            /* found at the venue, or refused: settled, nothing to send */
            memmove(x, x + 1, (t->nagain - i - 1) * sizeof(*x));
            t->nagain--;
        }
        return true;
    }
    if (unsent && !t->loaded && t->nunsent_early < TR_UNSENT_EARLY) {
        snprintf(t->unsent_early[t->nunsent_early++], AT_ID_LEN, "%s", r->intent_id);
        return true;
    }
    return unsent;
}

void tr_again_clear(trader *t)
{
    t->h->timer_cancel(t->again_timer);
    t->again_timer = NULL;
    free(t->again);
    t->again = NULL;
    t->nagain = 0;
}

/* An exchange refuses intents until it has its instruments and account
 * configuration, and it says what the account holds only after those: the
 * intents wait for the balance (polled), and an entry for its symbol's
 * price, at most until their window ends. */
/* An entry published again acts on the market of now: not when the price
 * has moved from the one its decision's prompt showed (as when first
 * planned), or, for a decision stored without it, when the decision is
 * older than price_max_age. AT_OK (send), AT_EAGAIN (no price yet: wait) or
 * AT_ERANGE with the note. */
static int again_price(trader *t, const tr_again *x, int64_t now, char *note, size_t notelen)
{
    const at_ev_order_intent *in = &x->in;
    if (in->op != AT_INTENT_PLACE || !at_place_is_entry(in->side, in->pos_side, in->reduce_only)) {
        return AT_OK;
    }
    int k = tr_symbol_index(t, in->h.inst);
    if (x->prompt_px.m > 0) {
        if (k < 0 || tr_price(t, (size_t)k).m <= 0) {
            return AT_EAGAIN;
        }
        return tr_price_ok(t, (size_t)k, x->prompt_px, note, notelen) ? AT_OK : AT_ERANGE;
    }
    if (now - x->decided_ms > t->price_max_age_ms) {
        snprintf(note, notelen,
                 "stale price: decided %" PRId64 " ms ago, over price_max_age %" PRId64
                 " ms, and the prompt's price was not stored",
                 now - x->decided_ms, t->price_max_age_ms);
        return AT_ERANGE;
    }
    return AT_OK;
}

static void again_poll(void *arg)
{
    trader *t = arg;
    t->again_timer = NULL;
    int64_t now = t->h->now_us() / 1000;
    size_t keep = 0;
    for (size_t i = 0; i < t->nagain; i++) {
        const tr_again *x = &t->again[i];
        const at_ev_order_intent *in = &x->in;
        char note[TR_NOTE_LEN] = "";
        int px = t->has_balance ? again_price(t, x, now, note, sizeof(note)) : AT_EAGAIN;
        if (now > x->until_ms) {
            t->h->log(t->inst, AT_LOG_WARN,
                      "%s: intent %s (clOrdId %s) is not published again: %s said nothing of %s "
                      "within %d s of the decision",
                      in->decision_id, in->intent_id, in->cl_ord_id, in->account,
                      x->wait_row      ? "whether its order reached the venue"
                      : t->has_balance ? "the price"
                                       : "the account",
                      REPUBLISH_MS / 1000);
            continue;
        }
        if (px == AT_EAGAIN || x->wait_row) {
            t->again[keep++] = *x;
            continue;
        }
        if (px != AT_OK) {
            t->h->log(t->inst, AT_LOG_WARN,
                      "%s: intent %s (clOrdId %s) has no orders row and is not published again: "
                      "%s",
                      in->decision_id, in->intent_id, in->cl_ord_id, note);
            char text[TR_NOTE_LEN];
            snprintf(text, sizeof(text), "not sent again: %.*s", (int)sizeof(text) - 17, note);
            tr_hist_outcome(t, in->intent_id, NULL, text);
            tr_thesis_drop(t, in->intent_id);
            t->st.stale_refused++;
            continue;
        }
        if (tr_publish_intent(t, in) != AT_OK) {
            t->h->log(t->inst, AT_LOG_ERROR, "%s: out of memory: intent %s not published again",
                      in->decision_id, in->intent_id);
            continue;
        }
        t->h->log(t->inst, AT_LOG_WARN,
                  "%s: intent %s (clOrdId %s) never reached %s: published again after the "
                  "restart",
                  in->decision_id, in->intent_id, in->cl_ord_id, in->account);
        t->st.republished++;
    }
    t->nagain = keep;
    if (keep == 0) {
        tr_again_clear(t);
        return;
    }
    t->again_timer = t->h->timer_add(t->inst, AGAIN_POLL_MS, 0, again_poll, t);
    if (!t->again_timer) {
        t->h->log(t->inst, AT_LOG_ERROR,
                  "no timer: %zu intents without an orders row not "
                  "published again",
                  keep);
        tr_again_clear(t);
    }
}

static void load_step(loader *l);

static void loader_free(loader *l)
{
    for (size_t i = 0; i < l->nrows; i++) {
        free(l->rows[i].invalid);
        free(l->rows[i].actions);
        free(l->rows[i].intents);
    }
    free(l->rows);
    free(l->orders);
    free(l);
}

static void on_load_done(void *arg, int err, const char *error)
{
    loader *l = arg;
    trader *t = l->t;
    if (err != AT_OK && !t->freed && l->step == 3) {
        t->h->log(t->inst, AT_LOG_WARN,
                  "cannot read the stored news (%s): the prompt shows what comes from now on",
                  error ? error : at_strerror(err));
    } else if (err != AT_OK && !t->freed) {
        t->h->log(t->inst, AT_LOG_WARN,
                  "cannot read past decisions (%s): starting without their history and the "
                  "reasons positions were entered for",
                  error ? error : at_strerror(err));
    }
    l->orders_failed |= err != AT_OK && l->step == 1;
    bool last = t->freed && t->queries == 1;
    query_done(t);
    if (last) {
        loader_free(l);
        return;
    }
    load_step(l);
}

/* A stored news item (step 2): kept as if it came on the bus now. */
static int on_news_row(void *arg, const at_db_row *row)
{
    loader *l = arg;
    trader *t = l->t;
    int64_t pub = 0;
    dbcol_int(row, 4, &pub);
    at_ev_news n = {.id = dbcol_text(row, 0),
                    .feed = dbcol_text(row, 1),
                    .title = dbcol_text(row, 2),
                    .symbols = dbcol_text(row, 3),
                    .published_ms = pub,
                    .score = dbcol_real(row, 5),
                    .impact = dbcol_real(row, 6),
                    .llm_score = dbcol_real(row, 7),
                    .scorer = dbcol_text(row, 8)};
    if (!t->freed) {
        tr_news_keep(t, &n, t->h->now_us() / 1000);
    }
    return 0;
}

/* Step 0: this trader's orders; 1: its decisions; 2: the news of the last
 * news_max_age (a restart's prompt shows what came before it); 3: replay
 * the decisions, oldest first, then publish again what recent ones asked
 * and no order answers. */
static void load_step(loader *l)
{
    trader *t = l->t;
    int step = l->step++;
    int rc = AT_ESTATE;
    if (step == 2 && !t->freed) {
        int64_t age = t->cfg.news_max_age_ms > 0 ? t->cfg.news_max_age_ms : 12 * 3600000LL;
        const at_db_value p[] = {AT_DB_I(t->h->now_us() / 1000 - age)};
        rc = t->cfg.news_tokens < 0
                 ? AT_ESTATE
                 : t->h->db_query(t->inst,
                                  "SELECT id, feed, title, symbols, published_ms, score, impact, "
                                  "llm_score, scorer FROM news WHERE published_ms >= $1 ORDER BY "
                                  "published_ms DESC, id LIMIT 500",
                                  p, 1, on_news_row, on_load_done, l);
        if (rc == AT_OK) {
            t->queries++;
            return;
        }
        step = l->step++; /* none read: on */
    }
    if (step >= 3 || t->freed) {
        for (size_t i = l->nrows; !t->freed && i-- > 0;) {
            replay(l, &l->rows[i]);
        }
        int64_t now = t->h->now_us() / 1000;
        for (size_t i = l->nrows; !t->freed && t->running && i-- > 0;) {
            if (l->orders_failed) {
                t->h->log(t->inst, AT_LOG_WARN,
                          "the orders were not read: intents of the last "
                          "decisions without an order are not sent again");
                break;
            }
            republish(l, &l->rows[i], now);
        }
        if (t->nagain > 0 && !t->freed && t->running) {
            again_poll(t);
        }
        if (!t->freed) {
            t->h->log(t->inst, AT_LOG_INFO, "%zu past decisions read back", l->nrows);
            tr_loaded(t);
        }
        loader_free(l);
        return;
    }
    at_db_value p[2] = {AT_DB_S(t->name), AT_DB_I(step == 0 ? LOAD_ORDERS : LOAD_DECISIONS)};
    if (step == 0) {
        rc = t->h->db_query(t->inst,
                            "SELECT intent_id, state, acc_fill_sz, avg_px, code, msg FROM orders "
                            "WHERE origin = $1 AND decision_id IS NOT NULL ORDER BY created_ms "
                            "DESC LIMIT $2",
                            p, 2, on_order_row, on_load_done, l);
    } else {
        rc = t->h->db_query(t->inst,
                            "SELECT id, created_ms, valid, invalid_reason, actions_json, "
                            "intents_json FROM decisions WHERE trader = $1 ORDER BY created_ms "
                            "DESC, id DESC LIMIT $2",
                            p, 2, on_decision_row, on_load_done, l);
    }
    if (rc == AT_OK) {
        t->queries++;
        return;
    }
    if (rc != AT_ESTATE) {
        t->h->log(t->inst, AT_LOG_WARN, "cannot read past decisions (%s)", at_strerror(rc));
    }
    l->step = 3; /* no storage: nothing to read back */
    load_step(l);
}

void tr_load_history(trader *t)
{
    loader *l = calloc(1, sizeof(*l));
    if (!l) {
        t->h->log(t->inst, AT_LOG_ERROR, "out of memory: past decisions not read back");
        tr_loaded(t);
        return;
    }
    l->t = t;
    load_step(l);
}

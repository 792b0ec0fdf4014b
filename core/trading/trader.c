/* A trader's decision pipeline (behaviour in trader.h): TRIGGER → refresh
 * (trader_store.c) → prompt (prompt.c, context.c) → AI → validation
 * (validate.c, one retry) → decision row + DECISION → ORDER_INTENTs
 * (sizing.c). */
#include "trader.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "decimal.h"
#include "trader_internal.h"
#include "util.h"

#define DEFAULT_DEADLINE_MS 60000
#define DEFAULT_PRICE_MAX_AGE_MS 60000
#define READY_WAIT_MS 15000
#define READY_POLL_MS 200

/* The decision object for providers with structured output; the system
 * prompt says the same in words. */
static const char SCHEMA[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"decisions\"],"
    "\"properties\":{\"decisions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"additionalProperties\":false,\"required\":[\"symbol\",\"action\",\"size_pct\","
    "\"leverage\",\"take_profit\",\"stop_loss\",\"confidence\",\"reason\",\"invalidation\"],"
    "\"properties\":{\"symbol\":{\"type\":\"string\"},\"action\":{\"type\":\"string\","
    "\"enum\":[\"open_long\",\"open_short\",\"close_long\",\"close_short\",\"hold\"]},"
    "\"size_pct\":{\"type\":[\"number\",\"null\"]},\"leverage\":{\"type\":[\"number\","
    "\"null\"]},\"take_profit\":{\"type\":[\"number\",\"null\"]},\"stop_loss\":{\"type\":"
    "[\"number\",\"null\"]},\"confidence\":{\"type\":[\"number\",\"null\"]},\"reason\":{"
    "\"type\":\"string\"},\"invalidation\":{\"type\":[\"string\",\"null\"]}}}}}}";

static int64_t now_ms(const trader *t)
{
    return t->h->now_us() / 1000;
}

static at_dec to_dec(const trader *t, double v)
{
    at_dec d = {0, 0};
    t->h->dec_from_double(v, 6, &d);
    return at_dec_normalize(d);
}

/* ------------------------------------------------------------ lifecycle */

trader *trader_new(const at_host *h, at_instance *inst, const trader_cfg *cfg, char *why,
                   size_t whylen)
{
    trader *t = calloc(1, sizeof(*t));
    if (!t || !(t->hist = calloc(TR_HIST_MAX, sizeof(*t->hist)))) {
        snprintf(why, whylen, "out of memory");
        free(t);
        return NULL;
    }
    t->h = h;
    t->inst = inst;
    t->cfg = *cfg;
    snprintf(t->name, sizeof(t->name), "%s", cfg->trader ? cfg->trader : "");
    snprintf(t->ai_name, sizeof(t->ai_name), "%s", cfg->ai_name ? cfg->ai_name : "");
    snprintf(t->account, sizeof(t->account), "%s", cfg->account ? cfg->account : "");
    snprintf(t->shadow_account, sizeof(t->shadow_account), "%s",
             cfg->shadow_account ? cfg->shadow_account : "");
    if (cfg->gray) {
        t->gray = *cfg->gray;
    }
    t->cfg.trader = t->name;
    t->cfg.ai_name = t->ai_name;
    t->cfg.account = t->account;
    t->cfg.shadow_account = t->shadow_account;
    t->cfg.gray = &t->gray;
    if (prompt_load(cfg->prompts_dir, &t->tpl, why, whylen) != AT_OK) {
        free(t->hist);
        free(t);
        return NULL;
    }
    t->nsym = cfg->nsymbols < TR_MAX_SYMBOLS ? cfg->nsymbols : TR_MAX_SYMBOLS;
    for (size_t i = 0; i < t->nsym; i++) {
        t->sym[i].name = cfg->symbols[i];
    }
    for (size_t i = 0; i < cfg->nindicators; i++) {
        t->all_indicators |= strcmp(cfg->indicators[i], "all") == 0;
    }
    if (t->cfg.history > TR_HIST_MAX) {
        t->cfg.history = TR_HIST_MAX;
    }
    t->max_leverage = to_dec(t, cfg->max_leverage);
    t->max_size_pct = to_dec(t, cfg->max_size_pct);
    t->tp_pct = to_dec(t, cfg->take_profit_pct);
    t->sl_pct = to_dec(t, cfg->stop_loss_pct);
    t->max_move_bps = to_dec(t, cfg->max_price_move_bps);
    t->giveback_pct = to_dec(t, cfg->giveback_pct);
    t->giveback_arm_pct = to_dec(t, cfg->giveback_arm_pct);
    t->price_max_age_ms =
        cfg->price_max_age_ms > 0 ? cfg->price_max_age_ms : DEFAULT_PRICE_MAX_AGE_MS;
    t->lim = (vd_limits){.symbols = cfg->symbols,
                         .nsymbols = t->nsym,
                         .prices = t->prices,
                         .max_size_pct = t->max_size_pct,
                         .max_leverage = t->max_leverage};
    return t;
}

static void on_trigger(void *arg, const at_event *e);
static void start_call(trader *t, const at_ev_trigger *tr);

int trader_start(trader *t)
{
    if (t->running) {
        return AT_OK;
    }
    for (size_t i = 0; i < t->nsym; i++) {
        t->sym[i].id = t->h->inst_intern(t->sym[i].name);
        if (!t->sym[i].id) {
            t->h->log(t->inst, AT_LOG_ERROR, "symbols: bad instrument '%s'", t->sym[i].name);
            return AT_ECONFIG;
        }
    }
    int rc = tr_ctx_subscribe(t);
    int id = rc == AT_OK ? t->h->subscribe(t->inst, AT_EV_TRIGGER, on_trigger, t) : rc;
    if (id <= 0) {
        trader_stop(t);
        return id < 0 ? id : AT_ENOMEM;
    }
    t->subs[t->nsubs++] = id;
    t->running = true;
    tr_load_history(t);
    return AT_OK;
}

/* The stored decisions are in (or there are none): triggers that came
 * meanwhile go now. */
void tr_loaded(trader *t)
{
    t->loaded = t->st.loaded = true;
    for (size_t i = 0; i < t->nwaiting; i++) {
        if (t->running) {
            start_call(t, (const at_ev_trigger *)t->waiting[i]);
        }
        t->h->event_release(t->waiting[i]);
    }
    t->nwaiting = 0;
}

static tr_call *find_call(trader *t, const char *key)
{
    for (tr_call *c = t->calls; c; c = c->next) {
        if (strcmp(c->key, key) == 0) {
            return c;
        }
    }
    return NULL;
}

void trader_stop(trader *t)
{
    for (size_t i = 0; i < t->nsubs; i++) {
        t->h->unsubscribe(t->inst, t->subs[i]);
    }
    t->nsubs = 0;
    for (size_t i = 0; i < t->nwaiting; i++) {
        t->h->event_release(t->waiting[i]);
    }
    t->nwaiting = 0;
    tr_again_clear(t);
    tr_ctx_release(t);
    tr_feedback_stop(t);
    t->running = false;
    /* Calls in flight: their answers are stored, never acted on. Cancelling
     * may answer from inside cancel(), which frees the call: look each up
     * again by key. */
    char keys[64][AT_ID_LEN];
    size_t n = 0;
    for (tr_call *c = t->calls; c; c = c->next) {
        c->abandoned = true;
        if (c->asking && n < 64) {
            snprintf(keys[n++], AT_ID_LEN, "%s", c->key);
        }
    }
    for (size_t i = 0; i < n && t->cfg.ai->cancel; i++) {
        tr_call *c = find_call(t, keys[i]);
        if (c && c->asking) {
            t->cfg.ai->cancel(t->cfg.ai_ctx, keys[i]);
        }
    }
}

static void call_free(tr_call *c)
{
    c->t->h->timer_cancel(c->timer);
    free(c->trigger_reason);
    free(c->system);
    free(c->user);
    free(c->user_retry);
    free(c->first_raw);
    free(c->first_error);
    free(c);
}

void trader_free(trader *t)
{
    if (!t) {
        return;
    }
    trader_stop(t);
    for (tr_call *c = t->calls, *next; c; c = next) {
        next = c->next;
        call_free(c);
    }
    t->calls = NULL;
    if (t->queries > 0) {
        t->freed = true; /* the last query's done callback frees it */
        return;
    }
    tr_free_now(t);
}

void tr_free_now(trader *t)
{
    tr_feedback_free(t);
    prompt_free(&t->tpl);
    free(t->hist);
    free(t);
}

void trader_get_stats(const trader *t, trader_stats *out)
{
    *out = t->st;
}

/* ------------------------------------------------------------ calls */

static void ask(tr_call *c);
static void wait_ready(tr_call *c);

static void on_trigger(void *arg, const at_event *e)
{
    trader *t = arg;
    const at_ev_trigger *tr = (const void *)e;
    if (strcmp(tr->trader, t->name) != 0) {
        return;
    }
    /* Only the trader's own scheduler triggers it: a TRIGGER from anyone else
     * would skip the call and cost budgets. */
    const char *self = t->h->instance_name(t->inst);
    if (!e->source || !self || strcmp(e->source, self) != 0) {
        if (t->st.foreign_triggers++ == 0) {
            t->h->log(t->inst, AT_LOG_WARN,
                      "trigger %s from %s ignored: only the trader's scheduler triggers it "
                      "(logged once)",
                      tr->key, e->source ? e->source : "?");
        }
        return;
    }
    if (!t->loaded) {
        if (t->nwaiting < TR_MAX_WAITING) {
            t->h->event_retain(e);
            t->waiting[t->nwaiting++] = e;
            t->st.held++;
        } else {
            t->h->log(t->inst, AT_LOG_WARN, "trigger %s dropped: %d wait for the history", tr->key,
                      TR_MAX_WAITING);
        }
        return;
    }
    start_call(t, tr);
}

static void start_call(trader *t, const at_ev_trigger *tr)
{
    t->st.triggers++;
    if (find_call(t, tr->key)) {
        t->h->log(t->inst, AT_LOG_WARN, "trigger %s is already being decided: ignored", tr->key);
        return;
    }
    tr_call *c = calloc(1, sizeof(*c));
    if (!c || !(c->trigger_reason = at_strdup(tr->reason ? tr->reason : ""))) {
        free(c);
        t->h->log(t->inst, AT_LOG_ERROR, "out of memory: trigger %s not answered", tr->key);
        return;
    }
    c->t = t;
    snprintf(c->key, sizeof(c->key), "%s", tr->key);
    c->trigger_ms = tr->h.ts_us / 1000;
    c->deadline_ms = c->trigger_ms + (tr->deadline_ms > 0 ? tr->deadline_ms : DEFAULT_DEADLINE_MS);
    c->next = t->calls;
    t->calls = c;
    t->st.in_flight++;
    wait_ready(c);
}

static void unlink_call(trader *t, tr_call *c)
{
    for (tr_call **p = &t->calls; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            t->st.in_flight--;
            return;
        }
    }
}

static void on_reply(void *arg, const at_ai_reply *r);
static void finish(tr_call *c, const at_ai_reply *r, const vd_decision *d, const char *why);

/* The deadline passed with the call unanswered: cancel it (its answer
 * then comes with AT_ESTATE). A provider without cancel answers late. */
static void on_deadline(void *arg)
{
    tr_call *c = arg;
    c->timer = NULL;
    if (c->asking && c->t->cfg.ai->cancel) {
        c->timed_out = true;
        c->t->cfg.ai->cancel(c->t->cfg.ai_ctx, c->key);
    }
}

static void send(tr_call *c, const char *user)
{
    trader *t = c->t;
    at_ai_request req = {.trader = t->name,
                         .request_id = c->key,
                         .system = c->system,
                         .user = user,
                         .json_schema = SCHEMA,
                         .symbols = t->cfg.symbols,
                         .nsymbols = t->nsym,
                         .deadline_ms = c->deadline_ms,
                         .retry = c->attempt};
    c->asking = true;
    c->asked_ms = now_ms(t);
    if (!c->timer) {
        /* A second past the deadline: the provider had its chance to say so. */
        int64_t after = c->deadline_ms - c->asked_ms + 1000;
        c->timer = t->h->timer_add(t->inst, after > 0 ? after : 0, 0, on_deadline, c);
    }
    int rc = t->cfg.ai->request(t->cfg.ai_ctx, &req, on_reply, c);
    if (rc != AT_OK) {
        c->asking = false;
        char err[160];
        snprintf(err, sizeof(err), "%s refused the request: %s", t->ai_name, at_strerror(rc));
        at_ai_reply fake = {.err = rc, .error = err};
        finish(c, &fake, NULL, NULL);
    }
}

/* Render the prompts from the templates and what the bus told, then ask. */
static void on_ask_at(void *arg)
{
    tr_call *c = arg;
    c->timer = NULL;
    ask(c);
}

static void ask(tr_call *c)
{
    trader *t = c->t;
    if (c->abandoned) {
        unlink_call(t, c);
        call_free(c);
        return;
    }
    if (t->cfg.ask_at && !c->ask_timed) {
        c->ask_timed = true;
        int64_t at = t->cfg.ask_at(t->cfg.ask_at_arg, c->key);
        if (at > t->h->now_us() && !c->timer &&
            (c->timer = t->h->timer_at(t->inst, at, on_ask_at, c))) {
            return;
        }
    }
    if (t->cfg.settle && !t->cfg.settle()) {
        if (c->settle_waits++ < 3 && !c->timer &&
            (c->timer = t->h->timer_add(t->inst, 0, 0, on_ask_at, c))) {
            return; /* inside a delivery: settle from a timer of its own */
        }
        /* not reached live (a timer never fires inside a delivery) */
        t->h->log(t->inst, AT_LOG_WARN,
                  "%s: the prompt reads the market without the events still queued (a replay of "
                  "this session may show a different market)",
                  c->key);
    }
    if (c->abandoned) { /* what was delivered may have stopped the trader */
        unlink_call(t, c);
        call_free(c);
        return;
    }
    int64_t now_us = t->h->now_us(), now = now_us / 1000;
    /* what the market section shows: entries are checked against it */
    for (size_t i = 0; i < t->nsym; i++) {
        c->prompt_px[i] = tr_price(t, i);
    }
    char time_s[32], lev[AT_DEC_STRLEN], size[AT_DEC_STRLEN], tp[AT_DEC_STRLEN], sl[AT_DEC_STRLEN];
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(time_s, sizeof(time_s), "%Y-%m-%d %H:%M:%S", &tm);
    at_dec_text(t->max_leverage, lev);
    at_dec_text(t->max_size_pct, size);
    at_dec_text(t->tp_pct, tp);
    at_dec_text(t->sl_pct, sl);
    tbuf syms = {0};
    for (size_t i = 0; i < t->nsym; i++) {
        tb_printf(&syms, "%s%s", i ? ", " : "", t->sym[i].name);
    }
    char *parts[7] = {tb_take(&syms),        tr_render_account(t),      tr_render_positions(t, now),
                      tr_render_orders(t),   tr_render_history(t, now), tr_render_market(t),
                      tr_render_news(t, now)};
    const char *vals[PV__COUNT] = {
        [PV_time] = time_s,        [PV_trigger] = c->trigger_reason, [PV_trader] = t->name,
        [PV_symbols] = parts[0],   [PV_account] = parts[1],          [PV_positions] = parts[2],
        [PV_orders] = parts[3],    [PV_history] = parts[4],          [PV_market] = parts[5],
        [PV_news] = parts[6],      [PV_max_leverage] = lev,          [PV_max_size_pct] = size,
        [PV_take_profit_pct] = tp, [PV_stop_loss_pct] = sl};
    bool ok = true;
    for (size_t i = 0; i < 7; i++) {
        ok &= parts[i] != NULL;
    }
    if (ok) {
        c->system = prompt_render(t->tpl.system, vals);
        c->user = prompt_render(t->tpl.user, vals);
    }
    for (size_t i = 0; i < 7; i++) {
        free(parts[i]);
    }
    if (!c->system || !c->user) {
        at_ai_reply fake = {.err = AT_ENOMEM, .error = "out of memory rendering the prompt"};
        finish(c, &fake, NULL, NULL);
        return;
    }
    c->prompt_tokens = prompt_tokens(c->system) + prompt_tokens(c->user);
    t->st.last_prompt_tokens = c->prompt_tokens;
    if (t->cfg.prompt_read) {
        t->cfg.prompt_read(t->cfg.prompt_read_arg, c->key, now_us);
    }
    t->h->log(t->inst, AT_LOG_INFO,
              "%s: asking %s (prompt ~%" PRId64 " tokens, answer by %" PRId64 " s)", c->key,
              t->ai_name, c->prompt_tokens, (c->deadline_ms - now) / 1000);
    send(c, c->user);
}

/* The account's balance and a price of every symbol arrived. */
static bool ready(const trader *t)
{
    for (size_t i = 0; i < t->nsym; i++) {
        if (tr_price(t, i).m <= 0) {
            return false;
        }
    }
    return t->has_balance;
}

static void on_ready_poll(void *arg)
{
    tr_call *c = arg;
    c->timer = NULL;
    wait_ready(c);
}

/* A trigger right after the start comes before the venue has said what the
 * account holds and what prices are: wait for them (checked every
 * READY_POLL_MS), at most READY_WAIT_MS and half the deadline, then ask
 * with what there is (the prompt then says what is missing). */
static void wait_ready(tr_call *c)
{
    trader *t = c->t;
    int64_t now = now_ms(t), span = (c->deadline_ms - c->trigger_ms) / 2;
    int64_t limit = c->trigger_ms + (span < READY_WAIT_MS ? span : READY_WAIT_MS);
    if (c->abandoned || ready(t) || now >= limit) {
        if (!c->abandoned && !ready(t)) {
            t->h->log(t->inst, AT_LOG_WARN,
                      "%s: asking without %s (not received within %" PRId64 " ms)", c->key,
                      t->has_balance ? "a price of every symbol" : "the account's balance",
                      now - c->trigger_ms);
        }
        /* The venue writes its instruments and position mode before it
         * says what the account holds: read them now. */
        tr_refresh(t, c, ask);
        return;
    }
    c->timer = t->h->timer_add(t->inst, READY_POLL_MS, 0, on_ready_poll, c);
    if (!c->timer) {
        tr_refresh(t, c, ask);
    }
}

/* Only an answer whose text failed the checks is asked again: a provider
 * error, a refusal or a cut-off answer would most likely come back the same. */
static bool retryable(const at_ai_reply *r)
{
    return r->err == AT_OK && !(r->refusal && r->refusal[0]) &&
           (!r->finish_reason || !r->finish_reason[0] || strcmp(r->finish_reason, "stop") == 0);
}

static void on_reply(void *arg, const at_ai_reply *r)
{
    tr_call *c = arg;
    trader *t = c->t;
    int64_t now = now_ms(t);
    c->asking = false;
    c->tokens_in += r->tokens_in > 0 ? r->tokens_in : 0;
    c->tokens_out += r->tokens_out > 0 ? r->tokens_out : 0;
    c->cost_usd += isfinite(r->cost_usd) && r->cost_usd > 0 ? r->cost_usd : 0;
    c->latency_ms += r->latency_ms > 0 ? r->latency_ms : now - c->asked_ms;
    char why[VD_WHY_LEN];
    if (c->abandoned) {
        finish(c, r, NULL, "the trader stopped before the answer was used");
        return;
    }
    if (c->timed_out || now > c->deadline_ms) {
        t->st.late++;
        if (c->timed_out) {
            snprintf(why, sizeof(why),
                     "no answer by the deadline (%" PRId64 " s after the trigger)",
                     (c->deadline_ms - c->trigger_ms) / 1000);
        } else {
            snprintf(why, sizeof(why), "answered %" PRId64 " ms after the deadline: not acted on",
                     now - c->deadline_ms);
        }
        finish(c, r, NULL, why);
        return;
    }
    for (size_t i = 0; i < t->nsym; i++) {
        t->prices[i] = tr_price(t, i);
    }
    vd_decision *d = malloc(sizeof(*d));
    if (!d) {
        finish(c, r, NULL, "out of memory validating the answer");
        return;
    }
    int rc = vd_reply(r, &t->lim, d, why, sizeof(why));
    if (rc != AT_OK && t->cfg.retry && c->attempt == 0 && retryable(r)) {
        t->h->log(t->inst, AT_LOG_WARN, "%s: invalid answer (%s): asking again once", c->key, why);
        free(d);
        c->user_retry = at_asprintf(
            "%s\n\nYour previous answer was invalid: %s.\nAnswer again with only the JSON "
            "object described above.\n",
            c->user, why);
        c->first_raw = at_strdup(r->content ? r->content : "");
        c->first_error = at_strdup(why);
        if (!c->user_retry || !c->first_raw || !c->first_error) {
            finish(c, r, NULL, "out of memory preparing the retry");
            return;
        }
        c->attempt = 1;
        t->st.retries++;
        send(c, c->user_retry);
        return;
    }
    finish(c, r, rc == AT_OK ? d : NULL, why);
    free(d);
}

/* ------------------------------------------------------------ the end */

static void finish(tr_call *c, const at_ai_reply *r, const vd_decision *d, const char *why)
{
    trader *t = c->t;
    char reason[VD_WHY_LEN];
    if (!d && !why) {
        vd_decision *tmp = malloc(sizeof(*tmp));
        if (tmp) {
            vd_reply(r, &t->lim, tmp, reason, sizeof(reason));
            free(tmp);
        } else {
            snprintf(reason, sizeof(reason), "provider error");
        }
        why = reason;
    }
    at_ev_order_intent *intents = NULL;
    size_t nint = 0;
    json_t *notes = json_array();
    tr_hist *hx = NULL;
    if (!c->abandoned) {
        hx = tr_hist_push(t);
        snprintf(hx->decision_id, sizeof(hx->decision_id), "%s", c->key);
        hx->ts_ms = now_ms(t);
        hx->valid = d != NULL;
        snprintf(hx->invalid, sizeof(hx->invalid), "%.*s", (int)sizeof(hx->invalid) - 1,
                 d ? "" : why);
    }
    if (d && !c->abandoned && d->n > 0) {
        intents = calloc(d->n * TR_ITEM_INTENTS, sizeof(*intents));
    }
    for (size_t i = 0; d && hx && i < d->n; i++) {
        const vd_item *it = &d->items[i];
        tr_hist_item *h = &hx->items[hx->n++];
        h->sym = it->sym;
        h->action = it->action;
        h->size_pct = it->size_pct;
        h->leverage = it->leverage;
        if (it->action == AT_ACT_HOLD) {
            snprintf(h->outcome, sizeof(h->outcome), "hold");
            continue;
        }
        char note[TR_NOTE_LEN] = "";
        tr_pending pend = {.sym = SIZE_MAX};
        tr_route route = {0};
        size_t k = 0;
        if (!intents) {
            snprintf(note, sizeof(note), "out of memory");
        } else {
            k = tr_plan_item(t, c, it, i, &intents[nint], &pend, &route, note, sizeof(note));
        }
        for (size_t x = 0; x < k; x++) {
            at_ev_order_intent *o = &intents[nint++];
            o->h.inst = t->sym[it->sym].id;
            tr_note_intent(t, notes, i, it, o, c->prompt_px[it->sym], route.gray ? &route : NULL,
                           NULL);
            const char *asked = o->shadow ? "shadow: asked" : "asked";
            if (x == 0) {
                snprintf(h->intent_id, sizeof(h->intent_id), "%s", o->intent_id);
                snprintf(h->cl_ord_id, sizeof(h->cl_ord_id), "%s", o->cl_ord_id);
                snprintf(h->outcome, sizeof(h->outcome), "%s", asked);
            } else {
                snprintf(h->intent2, sizeof(h->intent2), "%s", o->intent_id);
                snprintf(h->cl2, sizeof(h->cl2), "%s", o->cl_ord_id);
                snprintf(h->outcome2, sizeof(h->outcome2), "%s", asked);
            }
        }
        if (k > 0) {
            if (pend.sym != SIZE_MAX) {
                tr_pending_add(t, &pend);
            }
            continue;
        }
        tr_note_intent(t, notes, i, it, NULL, (at_dec){0, 0}, NULL, note);
        snprintf(h->outcome, sizeof(h->outcome), "not sent: %.*s", (int)sizeof(h->outcome) - 11,
                 note);
        t->h->log(t->inst, AT_LOG_WARN, "%s: %s %s not sent: %s", c->key,
                  vd_action_name(it->action), t->sym[it->sym].name, note);
    }
    char validation[VD_WHY_LEN + 112];
    if (d) {
        snprintf(validation, sizeof(validation), "ok%s%s%s", d->stripped[0] ? " (stripped: " : "",
                 d->stripped, d->stripped[0] ? ")" : "");
    } else {
        snprintf(validation, sizeof(validation), "%s", why);
    }
    char *actions = d ? vd_to_json(d, &t->lim) : NULL;
    char *ints = notes ? json_dumps(notes, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    int stored = tr_store_decision(t, c, r, d != NULL, validation, actions, ints);
    if (stored != AT_OK && stored != AT_ESTATE) {
        /* The intents still go out: the gate stores each one with its
         * decision id, so the orders stay traceable without this row. */
        tbuf ids = {0};
        for (size_t i = 0; i < nint; i++) {
            tb_printf(&ids, "%s%s", i ? ", " : "", intents[i].intent_id);
        }
        char *list = tb_take(&ids);
        if (nint == 0) {
            t->h->log(t->inst, AT_LOG_ERROR, "%s: decision not stored: %s", c->key,
                      at_strerror(stored));
        } else {
            t->h->log(t->inst, AT_LOG_ERROR,
                      "%s: decision not stored: %s; its %zu intent%s published all the same: %s",
                      c->key, at_strerror(stored), nint, nint == 1 ? " is" : "s are",
                      list ? list : "(out of memory listing them)");
        }
        free(list);
    }
    free(actions);
    free(ints);
    json_decref(notes);
    t->st.decisions++;
    t->st.invalid += d == NULL;
    if (!c->abandoned) {
        tr_publish_decision(t, c, r, d, why);
        for (size_t i = 0; i < nint; i++) {
            if (tr_publish_intent(t, &intents[i]) != AT_OK) {
                t->h->log(t->inst, AT_LOG_ERROR, "%s: out of memory: intent %s not published",
                          c->key, intents[i].intent_id);
            }
        }
    }
    if (d) {
        t->h->log(t->inst, AT_LOG_INFO, "%s: decision of %s valid (%zu item%s, %zu intent%s)%s%s",
                  c->key, t->ai_name, d->n, d->n == 1 ? "" : "s", nint, nint == 1 ? "" : "s",
                  c->attempt ? " after a retry" : "", c->abandoned ? ", not acted on" : "");
    } else {
        t->h->log(t->inst, AT_LOG_WARN, "%s: decision of %s invalid: %s", c->key, t->ai_name, why);
    }
    free(intents);
    unlink_call(t, c);
    call_free(c);
}

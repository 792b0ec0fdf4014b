/* ai_rules: a deterministic offline AI provider. It answers a trader's call
 * with the same decision JSON an LLM gives (CONTRACTS §4), made by a fixed
 * trend/momentum rule set (rules_decide.c) over the indicators on the bus:
 * the provider of the shipped config when no LLM key is set, and the
 * baseline of backtests.
 *
 * State, kept from the bus per instrument: the latest INDICATOR values of the
 * configured bar, the latest TICKER last and MARK price, and the positions
 * POSITION events report (of the configured `account`, or of every account).
 * A call carries only the trader's name and symbols, so positions come from
 * the bus, not from the request: a trader on another account than the one
 * configured would be judged on the wrong positions, which is why `account`
 * exists.
 *
 * A call is answered on the next loop turn (a 0 ms timer), never from inside
 * request(): the answer is computed at request() time, on the state the
 * trader's prompt was built from, and delivered later. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai_rules.h"

/* ------------------------------------------------------------- state table */

static inst_state **slot_of(rules_ctx *c, at_inst id)
{
    size_t i = (id * 2654435761u) & (c->nslots - 1);
    while (c->slots[i] && c->slots[i]->id != id) {
        i = (i + 1) & (c->nslots - 1);
    }
    return &c->slots[i];
}

static const inst_state *state_find(const rules_ctx *c, at_inst id)
{
    return id ? *slot_of((rules_ctx *)c, id) : NULL;
}

/* The state of `id`, made when first seen; NULL past max_instruments. */
static inst_state *state_get(rules_ctx *c, at_inst id)
{
    if (!id) {
        return NULL;
    }
    inst_state **slot = slot_of(c, id);
    if (*slot) {
        return *slot;
    }
    if (c->ninst >= (size_t)c->max_instruments) {
        if (!c->full_warned) {
            c->full_warned = true;
            c->h->log(c->inst, AT_LOG_WARN,
                      "max_instruments (%lld) reached: ignoring %s and later ones",
                      (long long)c->max_instruments, c->h->inst_name(id));
        }
        return NULL;
    }
    inst_state *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->id = id;
    for (int k = 0; k < V_N; k++) {
        s->v[k] = (double)NAN;
    }
    *slot = s;
    c->ninst++;
    return s;
}

/* ------------------------------------------------------------------ events */

static void on_indicator(void *arg, const at_event *e)
{
    rules_ctx *c = arg;
    const at_ev_indicator *ev = (const at_ev_indicator *)e;
    if (ev->bar_s * 1000 != c->set.bar_ms) {
        return;
    }
    inst_state *s = state_get(c, e->inst);
    if (!s || (s->have_ind && ev->bar_open_ms < s->bar_open_ms)) {
        return; /* an older bar (a replay overlapping live data) changes nothing */
    }
    s->have_ind = true;
    s->bar_open_ms = ev->bar_open_ms;
    s->ind_ts_us = e->ts_us;
    uint32_t n = ev->n < AT_IND_MAX ? ev->n : AT_IND_MAX;
    for (int k = 0; k < V_N; k++) {
        s->v[k] = (double)NAN; /* a value the event lacks is not kept from an older bar */
        for (uint32_t i = 0; i < n; i++) {
            if (strncmp(ev->v[i].name, rules_value_names[k], sizeof(ev->v[i].name)) == 0) {
                s->v[k] = ev->v[i].value;
                break;
            }
        }
    }
}

static void on_ticker(void *arg, const at_event *e)
{
    rules_ctx *c = arg;
    const at_ev_ticker *t = (const at_ev_ticker *)e;
    inst_state *s = t->last.m > 0 ? state_get(c, e->inst) : NULL;
    if (s) {
        s->have_last = true;
        s->last = t->last;
        s->last_ts_us = e->ts_us;
    }
}

static void on_mark(void *arg, const at_event *e)
{
    rules_ctx *c = arg;
    const at_ev_mark *m = (const at_ev_mark *)e;
    inst_state *s = m->mark_px.m > 0 ? state_get(c, e->inst) : NULL;
    if (s) {
        s->have_mark = true;
        s->mark = m->mark_px;
        s->mark_ts_us = e->ts_us;
    }
}

/* One entry per account and side; a flat position removes its entry. */
static void on_position(void *arg, const at_event *e)
{
    rules_ctx *c = arg;
    const at_ev_position *p = (const at_ev_position *)e;
    if (c->account && strncmp(p->account, c->account, sizeof(p->account)) != 0) {
        return;
    }
    inst_state *s = state_get(c, e->inst);
    if (!s) {
        return;
    }
    int i = 0;
    while (i < s->npos && !(s->pos[i].side == p->pos_side &&
                            strncmp(s->pos[i].account, p->account, sizeof(p->account)) == 0)) {
        i++;
    }
    if (p->pos.m == 0) {
        if (i < s->npos) {
            s->pos[i] = s->pos[--s->npos];
        }
        return;
    }
    if (i == s->npos) {
        if (s->npos == MAX_POS) {
            if (!s->pos_full_warned) {
                s->pos_full_warned = true;
                c->h->log(c->inst, AT_LOG_WARN,
                          "%s: more than %d accounts and sides hold positions: %s ignored (set "
                          "account)",
                          c->h->inst_name(e->inst), MAX_POS, p->account);
            }
            return;
        }
        s->npos++;
        snprintf(s->pos[i].account, sizeof(s->pos[i].account), "%.*s", (int)sizeof(p->account) - 1,
                 p->account);
        s->pos[i].side = p->pos_side;
    }
    s->pos[i].pos = p->pos;
}

/* ------------------------------------------------------------------- calls */

static void call_free(rules_call *k)
{
    free(k->content);
    free(k->request_id);
    free(k);
}

static void call_unlink(rules_ctx *c, rules_call *k)
{
    for (rules_call **p = &c->calls; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            c->ncalls--;
            return;
        }
    }
}

/* The one place a call is answered: unlinked first, so `done` may call
 * request() again. */
static void answer(rules_call *k, int err, const char *error)
{
    rules_ctx *c = k->c;
    call_unlink(c, k);
    at_ai_reply r = {.err = err,
                     .error = error,
                     .content = err == AT_OK ? k->content : NULL,
                     .model = RULES_MODEL,
                     .finish_reason = err == AT_OK ? "stop" : NULL,
                     .latency_ms = (c->h->now_us() - k->t0_us) / 1000,
                     .attempts = err == AT_OK ? 1 : 0};
    k->done(k->arg, &r);
    call_free(k);
}

static void on_turn(void *arg)
{
    rules_call *k = arg;
    if (k->cancelled) {
        answer(k, AT_ESTATE, "cancelled");
    } else {
        answer(k, AT_OK, NULL);
    }
}

/* at_ai_ops.request: the decisions now, delivered on the next loop turn. */
static int request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    rules_ctx *c = ctx;
    if (!c->running) {
        return AT_ESTATE;
    }
    if (!req || !done || (req->nsymbols && !req->symbols)) {
        return AT_EINVAL;
    }
    if (c->ncalls >= MAX_CALLS) {
        return AT_EAGAIN;
    }
    int rc = AT_ENOMEM;
    rules_item *items = req->nsymbols ? calloc(req->nsymbols, sizeof(*items)) : NULL;
    rules_call *k = calloc(1, sizeof(*k));
    if ((req->nsymbols && !items) || !k) {
        goto fail;
    }
    int64_t now_us = c->h->now_us();
    for (size_t i = 0; i < req->nsymbols; i++) {
        at_inst id = req->symbols[i] ? c->h->inst_intern(req->symbols[i]) : 0;
        if (!id) {
            c->h->log(c->inst, AT_LOG_WARN, "call %s: symbol %zu is not an instrument id",
                      req->request_id ? req->request_id : "?", i);
            rc = AT_EINVAL;
            goto fail;
        }
        rules_decide(c, state_find(c, id), req->symbols[i], now_us / 1000, &items[i]);
    }
    k->content = rules_json(items, req->nsymbols);
    k->request_id = strdup(req->request_id ? req->request_id : "");
    if (!k->content || !k->request_id) {
        goto fail;
    }
    k->c = c;
    k->done = done;
    k->arg = arg;
    k->t0_us = now_us;
    k->timer = c->h->timer_add(c->inst, 0, 0, on_turn, k);
    if (!k->timer) {
        goto fail;
    }
    k->next = c->calls;
    c->calls = k;
    c->ncalls++;
    free(items);
    return AT_OK;
fail:
    free(items);
    if (k) {
        call_free(k);
    }
    return rc;
}

/* at_ai_ops.cancel: answered with AT_ESTATE on the turn it was due anyway,
 * so `done` never runs inside the caller's cancel(). */
static void cancel(void *ctx, const char *request_id)
{
    rules_ctx *c = ctx;
    for (rules_call *k = c->calls; k && request_id; k = k->next) {
        if (strcmp(k->request_id, request_id) == 0) {
            k->cancelled = true;
        }
    }
}

/* ----------------------------------------------------------------- plugin */

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    rules_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    const char *key = NULL;
    char why[256];
    if (rules_setup_parse(c, &c->set, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s: %s", key ? key : "config", why);
        return AT_ECONFIG;
    }
    /* Room for max_instruments at a load of at most 1/2, never resized. */
    c->nslots = 16;
    while (c->nslots < 2 * (size_t)c->max_instruments) {
        c->nslots *= 2;
    }
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    return c->slots ? AT_OK : AT_ENOMEM;
}

static int start(void *ctx)
{
    rules_ctx *c = ctx;
    static const at_event_type types[4] = {AT_EV_INDICATOR, AT_EV_TICKER, AT_EV_MARK,
                                           AT_EV_POSITION};
    static const at_event_cb cbs[4] = {on_indicator, on_ticker, on_mark, on_position};
    for (int i = 0; i < 4; i++) {
        c->subs[i] = c->h->subscribe(c->inst, types[i], cbs[i], c);
        if (c->subs[i] < 0) {
            return c->subs[i];
        }
    }
    c->running = true;
    char detail[160];
    snprintf(detail, sizeof(detail), "%s rules on %s indicators, positions of %s", RULES_MODEL,
             c->set.bar_name, c->account ? c->account : "every account");
    c->h->set_state(c->inst, AT_STATE_UP, detail);
    return AT_OK;
}

/* Calls in flight are answered here (AT_ESTATE), as the ABI promises: the
 * engine cancels the instance's timers once stop returns. */
static void stop(void *ctx)
{
    rules_ctx *c = ctx;
    c->running = false; /* a done callback's new request() is refused */
    for (int i = 0; i < 4; i++) {
        if (c->subs[i] > 0) {
            c->h->unsubscribe(c->inst, c->subs[i]);
            c->subs[i] = 0;
        }
    }
    while (c->calls) {
        rules_call *k = c->calls;
        c->h->timer_cancel(k->timer);
        answer(k, AT_ESTATE, "stopped");
    }
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    rules_ctx *c = ctx;
    while (c->calls) { /* destroy without start/stop: nothing to answer to */
        rules_call *k = c->calls;
        c->calls = k->next;
        call_free(k);
    }
    for (size_t i = 0; c->slots && i < c->nslots; i++) {
        free(c->slots[i]);
    }
    free(c->slots);
    c->slots = NULL;
}

static const at_ai_ops ai_ops = {
    .struct_size = sizeof(at_ai_ops), .request = request, .cancel = cancel};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_AI,
    .name = "rules",
    .version = "1.0.0",
    .description = "offline provider: trend/momentum rules over the indicators, answered in the "
                   "decision JSON an LLM gives (model rules-v1)",
    .config = rules_schema,
    .ctx_size = sizeof(rules_ctx),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &ai_ops,
    .check_config = rules_check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

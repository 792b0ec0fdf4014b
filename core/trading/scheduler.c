/* The per-trader AI scheduler (behaviour in scheduler.h). One one-shot timer
 * armed for the next thing that can happen (a grace window's end, the next
 * periodic due, a cooldown's end) keeps it O(1) per event and exact on a
 * simulated clock. Storage and the JSON of the values behind a trigger are in
 * sched_store.c. */
#include "scheduler.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latest.h"
#include "sched_internal.h"

#define HOUR_MS 3600000
#define DAY_MS 86400000

static int64_t now_ms(const sched *s)
{
    return s->h->now_us() / 1000;
}

sched *sched_new(const at_host *h, at_instance *inst, const sched_cfg *cfg)
{
    sched *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->h = h;
    s->inst = inst;
    s->cfg = *cfg;
    snprintf(s->trader, sizeof(s->trader), "%.*s", SCHED_MAX_TRADER,
             cfg->trader ? cfg->trader : "");
    s->trader_too_long = cfg->trader && strlen(cfg->trader) > SCHED_MAX_TRADER;
    s->cfg.trader = s->trader;
    s->nsym = cfg->nsymbols < SCHED_MAX_SYMBOLS ? cfg->nsymbols : SCHED_MAX_SYMBOLS;
    /* Enough history for both rolling budgets (either may be off = 0). */
    int64_t need = cfg->max_day > cfg->max_hour ? cfg->max_day : cfg->max_hour;
    s->cap = (size_t)(need > 0 ? need : 1) + 1;
    s->hist = calloc(s->cap, sizeof(*s->hist));
    if (!s->hist) {
        free(s);
        return NULL;
    }
    if (s->cfg.max_concurrent < 1) {
        s->cfg.max_concurrent = 1;
    } else if (s->cfg.max_concurrent > SCHED_MAX_INFLIGHT) {
        s->cfg.max_concurrent = SCHED_MAX_INFLIGHT;
    }
    s->last_ms = s->done_ms = INT64_MIN;
    return s;
}

void sched_free_now(sched *s)
{
    free(s->costs);
    free(s->hist);
    free(s);
}

void sched_free(sched *s)
{
    if (!s) {
        return;
    }
    sched_stop(s);
    if (s->querying) {
        s->freed = true; /* the query's done callback frees it */
        return;
    }
    sched_free_now(s);
}

static double cost_since(const sched *s, int64_t since_ms);

void sched_get_stats(const sched *s, sched_stats *out)
{
    *out = (sched_stats){
        .decisions = s->ndecisions,
        .late = s->nlate,
        .in_flight = s->ncalls,
        .cost_day = cost_since(s, now_ms(s) - DAY_MS),
        .loaded = s->loaded,
        .short_mode = s->short_mode,
        .calm = s->calm,
        .triggers = s->ntriggers,
        .over_budget = s->nover,
        .merged = s->nmerged,
        .last_ms = s->last_ms,
        .next_ms = s->timer ? s->timer_at : INT64_MAX,
        .paused = s->paused,
        .paused_ms = s->paused_ms,
        .skipped = s->nskipped,
        .manual = s->nmanual,
    };
    snprintf(out->paused_by, sizeof(out->paused_by), "%s", s->paused_by);
    snprintf(out->paused_reason, sizeof(out->paused_reason), "%s", s->paused_reason);
}

/* ------------------------------------------------------------ history ring */

void sched_hist_push(sched *s, int64_t ts_ms, const char *key)
{
    sched_hist *e = &s->hist[(s->hstart + s->hn) % s->cap];
    if (s->hn == s->cap) {
        s->hstart = (s->hstart + 1) % s->cap; /* oldest falls out */
    } else {
        s->hn++;
    }
    e->ts_ms = ts_ms;
    snprintf(e->key, sizeof(e->key), "%s", key);
}

static size_t hist_count_since(const sched *s, int64_t since_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < s->hn; i++) {
        n += s->hist[(s->hstart + i) % s->cap].ts_ms > since_ms;
    }
    return n;
}

/* ------------------------------------------------------------ costs */

static double cost_since(const sched *s, int64_t since_ms)
{
    double c = 0;
    for (size_t i = s->chead; i < s->ncost; i++) {
        c += s->costs[i].ts_ms > since_ms ? s->costs[i].usd : 0;
    }
    return c;
}

void sched_costs_reset(sched *s)
{
    s->chead = s->ncost = 0;
}

void sched_cost_add(sched *s, int64_t ts_ms, double usd)
{
    if (!(usd > 0) || !isfinite(usd)) {
        return;
    }
    /* Drop what left the window (entries come in time order, so the front). */
    int64_t since = now_ms(s) - DAY_MS;
    while (s->chead < s->ncost && s->costs[s->chead].ts_ms <= since) {
        s->chead++;
    }
    if (s->ncost == s->ccap && s->chead > 0) {
        memmove(s->costs, s->costs + s->chead, (s->ncost - s->chead) * sizeof(*s->costs));
        s->ncost -= s->chead;
        s->chead = 0;
    }
    if (s->ncost == s->ccap) {
        size_t cap = s->ccap ? 2 * s->ccap : 64;
        sched_cost *c = realloc(s->costs, cap * sizeof(*c));
        if (!c) {
            if (s->ncost > s->chead) { /* never lose a cost: add it to the newest */
                s->costs[s->ncost - 1].usd += usd;
                s->costs[s->ncost - 1].ts_ms = ts_ms;
            }
            return;
        }
        s->costs = c;
        s->ccap = cap;
    }
    s->costs[s->ncost++] = (sched_cost){ts_ms, usd};
}

static bool hist_has(const sched *s, const char *key)
{
    for (size_t i = 0; i < s->hn; i++) {
        if (strcmp(s->hist[(s->hstart + i) % s->cap].key, key) == 0) {
            return true;
        }
    }
    return false;
}

/* -------------------------------------------------------- calls in flight */

static void call_remove(sched *s, size_t i)
{
    memmove(&s->calls[i], &s->calls[i + 1], (s->ncalls - i - 1) * sizeof(s->calls[0]));
    s->ncalls--;
}

/* Calls past their deadline free their slot (the oldest come first). */
static void calls_expire(sched *s, int64_t now)
{
    while (s->ncalls > 0 && s->calls[0].ts_ms + s->cfg.deadline_ms <= now) {
        s->nlate++;
        s->h->log(s->inst, AT_LOG_WARN,
                  "%s: no decision within the %" PRId64 " s deadline: slot freed", s->calls[0].key,
                  s->cfg.deadline_ms / 1000);
        call_remove(s, 0);
    }
}

/* When a slot is free: now (INT64_MIN) or when the oldest call times out. */
static int64_t slot_free_at(const sched *s)
{
    return s->ncalls < (size_t)s->cfg.max_concurrent ? INT64_MIN
                                                     : s->calls[0].ts_ms + s->cfg.deadline_ms;
}

/* ------------------------------------------------------------------ timer */

static void on_timer(void *arg);

static int64_t period_ms(const sched *s)
{
    return s->short_mode ? s->cfg.short_ms : s->cfg.long_ms;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t cooldown_end(const sched *s)
{
    int64_t last = max64(s->last_ms, s->done_ms);
    return last == INT64_MIN ? INT64_MIN : last + s->cfg.cooldown_ms;
}

/* When the next thing happens: an open grace window masks the periodic due;
 * the cooldown and a full set of calls in flight make it wait. */
static int64_t next_fire(const sched *s)
{
    int64_t t = s->pend ? s->pend_start + s->cfg.grace_ms : s->next_due;
    return max64(max64(t, cooldown_end(s)), slot_free_at(s));
}

void sched_arm(sched *s)
{
    if (!s->running || !s->loaded || s->cfg.replay) {
        return;
    }
    int64_t at = next_fire(s);
    if (s->timer && s->timer_at == at) {
        return;
    }
    if (s->timer) {
        s->h->timer_cancel(s->timer);
        s->timer = NULL;
    }
    int64_t after = at - now_ms(s);
    s->timer = s->h->timer_add(s->inst, after > 0 ? after : 0, 0, on_timer, s);
    s->timer_at = at;
    if (!s->timer) {
        s->h->log(s->inst, AT_LOG_ERROR,
                  "cannot arm the scheduler timer: no trigger until restart");
    }
}

/* ---------------------------------------------------------------- trigger */

/* One more trigger now would exceed a budget: msg says which. */
static bool budget_over(const sched *s, int64_t now, const char *key, char *msg, size_t len)
{
    size_t hour = hist_count_since(s, now - HOUR_MS), day = hist_count_since(s, now - DAY_MS);
    double cost = cost_since(s, now - DAY_MS);
    bool over_hour = s->cfg.max_hour > 0 && hour >= (size_t)s->cfg.max_hour;
    bool over_day = s->cfg.max_day > 0 && day >= (size_t)s->cfg.max_day;
    bool over_cost = s->cfg.max_cost_day > 0 && cost >= s->cfg.max_cost_day;
    if (over_cost) {
        snprintf(msg, len, "%s: AI cost budget reached (%.4f USD in 24 h, max %.4f): %s skipped",
                 s->trader, cost, s->cfg.max_cost_day, key);
    } else if (over_hour || over_day) {
        snprintf(msg, len,
                 "%s: AI call budget reached (%zu in the last hour, max %" PRId64
                 "; %zu in 24 h, max %" PRId64 "): %s skipped",
                 s->trader, hour, s->cfg.max_hour, day, s->cfg.max_day, key);
    }
    return over_hour || over_day || over_cost;
}

/* The budget allows one more trigger now; otherwise say so (once a spell). */
static bool budget_ok(sched *s, int64_t now, const char *key)
{
    char msg[256];
    if (!budget_over(s, now, key, msg, sizeof(msg))) {
        /* A spell ends when a trigger passes again, but at most one ALERT an
         * hour: a trader living at its rolling limit would alert on every
         * other window otherwise. */
        if (s->alerted && now - s->alerted_ms >= HOUR_MS) {
            s->alerted = false;
        }
        return true;
    }
    s->nover++;
    s->h->log(s->inst, s->alerted ? AT_LOG_INFO : AT_LOG_WARN, "%s", msg);
    if (!s->alerted) {
        s->alerted = true;
        s->alerted_ms = now;
        sched_publish_alert(s, msg);
    }
    return false;
}

/* A trigger that passed every check: counted, a call in flight, stored,
 * published. */
static void fire_now(sched *s, int64_t now, const char *key, const char *reason, double salience,
                     bool short_mode, const sched_signal *sig)
{
    sched_hist_push(s, now, key);
    s->last_ms = now;
    s->ntriggers++;
    if (s->ncalls < SCHED_MAX_INFLIGHT) { /* next_fire waits for a free slot */
        sched_call *c = &s->calls[s->ncalls++];
        snprintf(c->key, sizeof(c->key), "%s", key);
        c->ts_ms = now;
    }
    s->h->log(s->inst, AT_LOG_INFO, "trigger %s: %s (salience %.2f, %s mode)", key, reason,
              salience, short_mode ? "short" : "long");
    sched_store_trigger(s, key, now, reason, salience, short_mode, sig);
    sched_publish_trigger(s, key, reason, salience, short_mode);
}

/* Fire (or skip, while paused, for the budget or a key already used) one
 * trigger; the caller moves the schedule on either way. */
static void fire(sched *s, const char *key, const char *reason, double salience, bool short_mode,
                 const sched_signal *sig)
{
    int64_t now = now_ms(s);
    if (hist_has(s, key)) {
        s->h->log(s->inst, AT_LOG_DEBUG, "%s already triggered: skipped", key);
        return;
    }
    if (s->paused) {
        s->nskipped++;
        s->h->log(s->inst, AT_LOG_DEBUG, "%s (%s) skipped: the trader is paused", key, reason);
        return;
    }
    if (!budget_ok(s, now, key)) {
        return;
    }
    fire_now(s, now, key, reason, salience, short_mode, sig);
}

static void fire_signal(sched *s, int64_t now)
{
    char key[AT_ID_LEN], reason[256];
    snprintf(key, sizeof(key), "%s:sig:%" PRId64, s->trader, s->pend_start);
    const sched_signal *b = &s->best;
    int n = snprintf(reason, sizeof(reason), "signal %s %s %.2f %s%s%s%s", b->indicator,
                     b->dir == AT_SIG_UP     ? "up"
                     : b->dir == AT_SIG_DOWN ? "down"
                                             : "spike",
                     b->salience, b->inst_name, b->title[0] ? ": \"" : "", b->title,
                     b->title[0] ? "\"" : "");
    if (s->pend_merged > 0 && n > 0 && (size_t)n < sizeof(reason)) {
        snprintf(reason + n, sizeof(reason) - (size_t)n, " (+%u merged)", s->pend_merged);
    }
    s->nmerged += s->pend_merged;
    s->pend = false;
    fire(s, key, reason, b->salience, true, b);
    if (!s->short_mode) {
        s->h->log(s->inst, AT_LOG_INFO, "salient signal: short mode (every %" PRId64 " s)",
                  s->cfg.short_ms / 1000);
    }
    s->short_mode = true;
    s->calm = 0;
    s->next_due = now + s->cfg.short_ms;
}

static void fire_periodic(sched *s, int64_t now)
{
    char key[AT_ID_LEN], reason[96];
    bool was_short = s->short_mode;
    if (was_short && ++s->calm >= s->cfg.calm_periods) {
        /* The K-th calm period ends: this trigger already belongs to long mode. */
        s->short_mode = false;
        s->calm = 0;
        snprintf(reason, sizeof(reason), "long period (calm for %" PRId64 " short periods)",
                 s->cfg.calm_periods);
        s->h->log(s->inst, AT_LOG_INFO, "calm: back to long mode (every %" PRId64 " s)",
                  s->cfg.long_ms / 1000);
    } else if (was_short) {
        snprintf(reason, sizeof(reason), "short period (calm %" PRId64 "/%" PRId64 ")", s->calm,
                 s->cfg.calm_periods);
    } else {
        snprintf(reason, sizeof(reason), "long period");
    }
    snprintf(key, sizeof(key), "%s:%s:%" PRId64, s->trader, s->short_mode ? "short" : "long",
             s->next_due);
    fire(s, key, reason, 0, s->short_mode, NULL);
    s->next_due = now + period_ms(s);
}

static void on_timer(void *arg)
{
    sched *s = arg;
    s->timer = NULL; /* one-shot: freed by the clock */
    int64_t now = now_ms(s);
    calls_expire(s, now);
    if (now >= next_fire(s)) {
        if (s->pend) {
            fire_signal(s, now);
        } else {
            fire_periodic(s, now);
        }
    }
    sched_arm(s);
}

/* ---------------------------------------------------------------- signals */

static int symbol_index(const sched *s, at_inst id)
{
    for (size_t i = 0; id && i < s->nsym; i++) {
        if (s->sym[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

static void signal_in(sched *s, const sched_signal *sig);

static void on_signal(void *arg, const at_event *e)
{
    sched *s = arg;
    const at_ev_signal *sg = (const void *)e;
    int k = symbol_index(s, e->inst);
    if (k < 0 || !sg->entered || !(sg->salience >= s->cfg.salience)) {
        return;
    }
    sched_signal cur = {
        .dir = sg->dir, .value = sg->value, .threshold = sg->threshold, .salience = sg->salience};
    snprintf(cur.indicator, sizeof(cur.indicator), "%s", sg->indicator);
    snprintf(cur.inst_name, sizeof(cur.inst_name), "%s", s->sym[k].name);
    signal_in(s, &cur);
}

/* s cut back to whole UTF-8 characters (snprintf may cut one). */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
    }
    if (i > 0 && (unsigned char)s[i - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)s[i - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (n - (i - 1) < need) {
            s[i - 1] = '\0';
        }
    }
}

/* Whether the comma-separated currency list names the instrument's base
 * ("BTC" of "BTC-USDT-SWAP") as a whole item. */
static bool names_base(const char *list, const char *inst)
{
    size_t bl = strcspn(inst, "-");
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ",");
        if (l == bl && strncmp(p, inst, bl) == 0) {
            return true;
        }
        p += l + (p[l] == ',');
    }
    return false;
}

/* A fresh headline about one of the trader's symbols, of impact >=
 * news_impact: a salient signal of that symbol (the first it names). */
static void on_news(void *arg, const at_event *e)
{
    sched *s = arg;
    const at_ev_news *n = (const void *)e;
    if (!(s->cfg.news_impact > 0) || !n->symbols || !(n->impact >= s->cfg.news_impact) ||
        now_ms(s) - n->published_ms > s->cfg.news_fresh_ms) {
        return;
    }
    /* a headline signals once: the same item again (scored since, or from
     * another path) is not news to the scheduler */
    const char *id = n->id ? n->id : "";
    for (size_t i = 0; id[0] && i < sizeof(s->news_ids) / sizeof(s->news_ids[0]); i++) {
        if (strncmp(s->news_ids[i], id, sizeof(s->news_ids[i]) - 1) == 0) {
            return;
        }
    }
    for (size_t k = 0; k < s->nsym; k++) {
        if (names_base(n->symbols, s->sym[k].name)) {
            snprintf(s->news_ids[s->news_at], sizeof(s->news_ids[0]), "%s", id);
            s->news_at = (s->news_at + 1) % (sizeof(s->news_ids) / sizeof(s->news_ids[0]));
            double sent = n->scorer && isfinite(n->llm_score) ? n->llm_score : n->score;
            sched_signal cur = {.dir = sent < 0 ? AT_SIG_DOWN : AT_SIG_UP,
                                .value = n->impact,
                                .threshold = s->cfg.news_impact,
                                .salience = n->impact > 1 ? 1 : n->impact};
            snprintf(cur.indicator, sizeof(cur.indicator), "news");
            snprintf(cur.inst_name, sizeof(cur.inst_name), "%s", s->sym[k].name);
            snprintf(cur.news_id, sizeof(cur.news_id), "%s", n->id ? n->id : "");
            snprintf(cur.title, sizeof(cur.title), "%s", n->title ? n->title : "");
            utf8_trim(cur.title);
            signal_in(s, &cur);
            return;
        }
    }
}

/* A salient signal: opens a grace window, or merges into the open one. */
static void signal_in(sched *s, const sched_signal *sig)
{
    s->calm = 0; /* this short period is not calm */
    sched_signal cur = *sig;
    if (!s->pend) {
        s->pend = true;
        s->pend_start = now_ms(s);
        s->pend_merged = 0;
        s->best = cur;
        s->h->log(s->inst, AT_LOG_DEBUG, "grace window opened by %s %s %.2f", cur.indicator,
                  cur.inst_name, cur.salience);
    } else {
        s->pend_merged++;
        if (cur.salience > s->best.salience) {
            s->best = cur;
        }
    }
    sched_arm(s);
}

static void on_indicator(void *arg, const at_event *e)
{
    sched *s = arg;
    int k = symbol_index(s, e->inst);
    if (k >= 0) {
        latest_keep(s->h, s->sym[k].latest, SCHED_MAX_BARS, (const at_ev_indicator *)e);
    }
}

/* A DECISION answering one of this trader's triggers frees its slot, starts
 * the cooldown and adds its cost; the cost of one answering no known trigger
 * (another caller of the same AI for this trader) still counts. */
static void on_decision(void *arg, const at_event *e)
{
    sched *s = arg;
    const at_ev_decision *d = (const void *)e;
    if (strcmp(d->trader, s->trader) != 0) {
        return;
    }
    int64_t now = now_ms(s);
    double cost = isfinite(d->cost_usd) && d->cost_usd > 0 ? d->cost_usd : 0;
    for (size_t i = 0; i < s->ncalls; i++) {
        if (strcmp(s->calls[i].key, d->trigger_key) == 0) {
            call_remove(s, i);
            break;
        }
    }
    sched_cost_add(s, now, cost);
    if (d->trigger_key[0] && hist_has(s, d->trigger_key)) {
        s->ndecisions++;
        s->done_ms = now;
        sched_store_decision(s, d->trigger_key, d->decision_id, now, cost);
    } else {
        s->h->log(s->inst, AT_LOG_INFO,
                  "decision %s answers no trigger of this trader%s%s: its cost (%.4f USD) counts "
                  "against max_cost_day until a restart",
                  d->decision_id, d->trigger_key[0] ? ": " : "", d->trigger_key, cost);
    }
    sched_arm(s);
}

/* --------------------------------------------------------------- control */

/* One line of text: control characters become spaces, cut to fit. */
static void one_line(const char *in, char *out, size_t len)
{
    size_t k = 0;
    for (; in && *in && k + 1 < len; in++) {
        unsigned char c = (unsigned char)*in;
        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[k] = '\0';
}

/* Before its stored state is read a change would be overwritten by it, and
 * a run could repeat a stored window's call. */
static bool ready(const sched *s, char *why, size_t whylen)
{
    if (!s->running) {
        snprintf(why, whylen, "trader %s is not running", s->trader);
    } else if (!s->loaded) {
        snprintf(why, whylen, "trader %s is still reading its stored triggers and state",
                 s->trader);
    }
    return s->running && s->loaded;
}

int sched_set_paused(sched *s, bool paused, const char *by, const char *reason, bool *changed,
                     char *why, size_t whylen)
{
    *changed = false;
    if (!ready(s, why, whylen)) {
        return AT_ESTATE;
    }
    if (s->paused == paused) {
        return AT_OK;
    }
    *changed = true;
    s->paused = paused;
    s->paused_ms = now_ms(s);
    s->state_changes++;
    one_line(by, s->paused_by, sizeof(s->paused_by));
    one_line(reason, s->paused_reason, sizeof(s->paused_reason));
    s->h->log(s->inst, paused ? AT_LOG_WARN : AT_LOG_INFO, "%s by %s%s%s%s",
              paused ? "paused" : "resumed", s->paused_by[0] ? s->paused_by : "?",
              s->paused_reason[0] ? ": " : "", s->paused_reason,
              paused ? " (no trigger until it is resumed; the schedule goes on)" : "");
    sched_store_state(s);
    return AT_OK;
}

int sched_run_now(sched *s, const char *by, char *key, const char **code, char *why, size_t whylen)
{
    *code = "not_ready";
    if (!ready(s, why, whylen)) {
        return AT_ESTATE;
    }
    *code = "paused";
    if (s->paused) {
        snprintf(why, whylen, "trader %s is paused: resume it first", s->trader);
        return AT_ESTATE;
    }
    int64_t now = now_ms(s);
    calls_expire(s, now);
    *code = "call_in_flight";
    if (s->ncalls > 0) {
        snprintf(why, whylen, "trader %s has a call in flight (%s, since %" PRId64 " s)", s->trader,
                 s->calls[0].key, (now - s->calls[0].ts_ms) / 1000);
        return AT_ESTATE;
    }
    /* fits: the trader's name is at most SCHED_MAX_TRADER (sched_start) */
    int n = snprintf(key, AT_ID_LEN, "%s:manual:%" PRId64, s->trader, now);
    /* hist_has: two runs within a millisecond, the first answered already */
    if (n < 0 || n >= AT_ID_LEN || hist_has(s, key)) {
        snprintf(why, whylen, "trader %s ran %s already", s->trader, key);
        return AT_ESTATE;
    }
    *code = "over_budget";
    if (budget_over(s, now, key, why, whylen)) {
        return AT_ESTATE;
    }
    *code = NULL;
    s->nmanual++;
    char who[128];
    one_line(by, who, sizeof(who));
    s->h->log(s->inst, AT_LOG_INFO, "manual run asked by %s", who[0] ? who : "?");
    fire_now(s, now, key, "manual run", 0, s->short_mode, NULL);
    /* The AI just saw the market: the period starts again from here, as it
     * would from this stored trigger after a restart. */
    s->next_due = now + period_ms(s);
    sched_arm(s);
    return AT_OK;
}

int sched_replay_fire(sched *s, const char *key, const char *reason, double salience,
                      bool short_mode)
{
    if (!s->cfg.replay || !s->running || !s->loaded) {
        return AT_ESTATE;
    }
    int64_t now = now_ms(s);
    calls_expire(s, now);
    s->short_mode = short_mode;
    fire_now(s, now, key, reason, salience, short_mode, NULL);
    return AT_OK;
}

/* ------------------------------------------------------------- lifecycle */

/* The stored history is in (or there is none): set the schedule from it. */
void sched_loaded(sched *s, bool have_last, int64_t last_ms, bool last_short)
{
    int64_t now = now_ms(s);
    s->loaded = true;
    if (have_last) {
        s->last_ms = last_ms;
        s->done_ms = s->load_done_ms;
        s->short_mode = last_short;
        s->next_due = last_ms + period_ms(s);
        s->h->log(s->inst, AT_LOG_INFO,
                  "resumed: last trigger %" PRId64 " s ago (%s mode), %zu in 24 h, next in "
                  "%" PRId64 " s",
                  (now - last_ms) / 1000, last_short ? "short" : "long", s->hn,
                  (max64(s->next_due, now) - now) / 1000);
    } else {
        s->next_due = now;
    }
    if (s->paused) {
        s->h->log(s->inst, AT_LOG_WARN,
                  "paused (since %" PRId64 " s, by %s%s%s): no trigger until it is resumed",
                  (now - s->paused_ms) / 1000, s->paused_by[0] ? s->paused_by : "?",
                  s->paused_reason[0] ? ": " : "", s->paused_reason);
    }
    sched_arm(s);
}

int sched_start(sched *s)
{
    if (s->running) {
        return AT_OK;
    }
    if (s->trader_too_long) {
        s->h->log(s->inst, AT_LOG_ERROR, "trader name '%s…' is longer than %d characters",
                  s->trader, SCHED_MAX_TRADER);
        return AT_ECONFIG;
    }
    for (size_t i = 0; i < s->nsym; i++) {
        s->sym[i].id = s->h->inst_intern(s->cfg.symbols[i]);
        snprintf(s->sym[i].name, sizeof(s->sym[i].name), "%s", s->cfg.symbols[i]);
        if (!s->sym[i].id) {
            s->h->log(s->inst, AT_LOG_ERROR, "symbols: bad instrument '%s'", s->cfg.symbols[i]);
            return AT_ECONFIG;
        }
    }
    s->sub_sig = s->h->subscribe(s->inst, AT_EV_SIGNAL, on_signal, s);
    s->sub_ind = s->h->subscribe(s->inst, AT_EV_INDICATOR, on_indicator, s);
    s->sub_dec = s->h->subscribe(s->inst, AT_EV_DECISION, on_decision, s);
    s->sub_news = s->cfg.news_impact > 0 ? s->h->subscribe(s->inst, AT_EV_NEWS, on_news, s) : 0;
    if (s->sub_sig < 0 || s->sub_ind < 0 || s->sub_dec < 0 || s->sub_news < 0) {
        sched_stop(s);
        return AT_ENOMEM;
    }
    s->running = true;
    sched_load_history(s, now_ms(s) - DAY_MS);
    return AT_OK;
}

void sched_stop(sched *s)
{
    if (s->sub_sig > 0) {
        s->h->unsubscribe(s->inst, s->sub_sig);
    }
    if (s->sub_ind > 0) {
        s->h->unsubscribe(s->inst, s->sub_ind);
    }
    if (s->sub_dec > 0) {
        s->h->unsubscribe(s->inst, s->sub_dec);
    }
    if (s->sub_news > 0) {
        s->h->unsubscribe(s->inst, s->sub_news);
    }
    s->sub_sig = s->sub_ind = s->sub_dec = s->sub_news = 0;
    s->ncalls = 0; /* calls in flight die with the run (the AI instance stops too) */
    if (s->timer) {
        s->h->timer_cancel(s->timer);
        s->timer = NULL;
    }
    for (size_t i = 0; i < s->nsym; i++) {
        latest_release(s->h, s->sym[i].latest, SCHED_MAX_BARS);
    }
    s->running = false;
}

/* risk_breaker: the rules that stop new entries when something is wrong, not
 * with one order but with the account, the AI or the operator's judgement:
 *
 *  - daily_loss / drawdown: an account's equity (BALANCE total_eq) fell by
 *    max_daily_loss_pct from the UTC day's start, or by max_drawdown_pct from
 *    its peak; entries on that account are refused until the cool-down or the
 *    next UTC day, optionally after closing every open position (flatten);
 *  - safe_mode: max_ai_failures invalid decisions in a row from a trader;
 *    entries from that trader are refused until it answers validly again;
 *  - kill_switch: data_dir/kill-switch says on; every entry is refused.
 *
 * Closes, reductions, cancels and amends without a size always pass: a rule
 * about entries must never keep anyone from getting out. Trips, resets and
 * the switch are logged, published as ALERTs and stored in audit_log, from
 * which the state is read back at start. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brk.h"

#define F(k, t, d, fl, field, lo, hi, en, desc)                                                    \
    {                                                                                              \
        k, t, d, fl, offsetof(breaker, field), lo, hi, en, desc                                    \
    }

static const char *const UNTIL[] = {"next_day", "cooldown", NULL};

static const at_cfg_field schema[] = {
    F("max_daily_loss_pct", AT_CFG_STR, "5", 0, daily_pct_text, 0, 0, NULL,
      "trip when an account's equity is this many percent below the UTC day's start "
      "(0 = off)"),
    F("max_drawdown_pct", AT_CFG_STR, "10", 0, drawdown_pct_text, 0, 0, NULL,
      "trip when an account's equity is this many percent below its peak (0 = off)"),
    F("until", AT_CFG_ENUM, "next_day", 0, until, 0, 0, UNTIL,
      "a trip lasts until the next UTC day, or for `cooldown`"),
    F("cooldown", AT_CFG_DURATION, "4h", AT_CFG_RANGE, cooldown_ms, 60000, 7 * 86400000.0, NULL,
      "how long a trip lasts with until = cooldown"),
    F("flatten", AT_CFG_BOOL, "false", 0, flatten, 0, 0, NULL,
      "on a trip, also close every open position of the account"),
    F("max_ai_failures", AT_CFG_INT, "3", AT_CFG_RANGE, max_ai_failures, 0, 1000, NULL,
      "invalid AI decisions in a row that put a trader in safe mode (0 = off)"),
    F("safe_mode_recover", AT_CFG_INT, "2", AT_CFG_RANGE, safe_recover, 1, 100, NULL,
      "valid decisions in a row that end safe mode (the last one's orders pass)"),
    F("restore", AT_CFG_BOOL, "true", 0, restore, 0, 0, NULL,
      "read the stored state back at start (false: start afresh once, an operator's reset)"),
    {0},
};

/* ------------------------------------------------------------ config */

/* A percentage "0".."99.999999" as an exact decimal, without a host
 * (check_config has none): init uses the same parser, so both agree. */
static int parse_pct(const char *s, at_dec *out, char *why, size_t whylen)
{
    int64_t m = 0;
    int scale = 0, digits = 0;
    bool dot = false;
    const char *p = s ? s : "";
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if ((dot && scale == 6) || (!dot && digits == 3)) {
                break;
            }
            m = m * 10 + (*p - '0');
            digits++;
            scale += dot;
        } else if (*p == '.' && !dot && digits > 0) {
            dot = true;
        } else {
            break;
        }
    }
    if (*p || digits == 0 || (dot && scale == 0)) {
        snprintf(why, whylen,
                 "'%.40s' is not a percentage: write e.g. 5 or 2.5 (at most 6 decimals; 0 turns "
                 "the rule off)",
                 s ? s : "");
        return AT_ECONFIG;
    }
    int64_t hundred = 100;
    for (int i = 0; i < scale; i++) {
        hundred *= 10;
    }
    if (m >= hundred) {
        snprintf(why, whylen, "%s %% is not below 100 %%: a loss that large never comes", s);
        return AT_ECONFIG;
    }
    /* percent to fraction: two more decimals, exactly */
    out->m = m;
    out->scale = scale + 2;
    return AT_OK;
}

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const breaker *b = ctx;
    at_dec d;
    if (parse_pct(b->daily_pct_text, &d, why, whylen) != AT_OK) {
        *key = "max_daily_loss_pct";
        return AT_ECONFIG;
    }
    if (parse_pct(b->drawdown_pct_text, &d, why, whylen) != AT_OK) {
        *key = "max_drawdown_pct";
        return AT_ECONFIG;
    }
    return AT_OK;
}

/* ------------------------------------------------------------ helpers */

int64_t brk_now_ms(const breaker *b)
{
    return b->h->now_us() / 1000;
}

void brk_alert(breaker *b, at_log_level level, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    b->h->log(b->inst, level, "%s", text);
    at_ev_alert *e = (at_ev_alert *)b->h->event_new(b->inst, AT_EV_ALERT, strlen(text) + 1);
    if (e) {
        e->level = level;
        e->message = b->h->event_strdup(&e->h, text);
        b->h->publish(b->inst, &e->h, 0);
    }
}

void brk_pct_text(const breaker *b, at_dec frac, char out[AT_DEC_STRLEN])
{
    at_dec pct;
    if (b->h->dec_mul_round(frac, (at_dec){100, 0}, 2, AT_ROUND_HALF_EVEN, &pct) != AT_OK) {
        snprintf(out, AT_DEC_STRLEN, "?");
        return;
    }
    b->h->dec_format(pct, out);
}

void brk_report(breaker *b)
{
    char detail[256];
    size_t n = 0, tripped = 0, safe = 0;
    n += (size_t)snprintf(detail, sizeof(detail), "kill switch %s", b->ks.on ? "ON" : "off");
    for (size_t i = 0; i < b->nacct; i++) {
        if (b->acct[i].tripped == BRK_NONE) {
            continue;
        }
        if (n < sizeof(detail)) {
            n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s %s tripped (%s)",
                                  tripped ? "," : ";", b->acct[i].name,
                                  brk_rule_name(b->acct[i].tripped));
        }
        tripped++;
    }
    for (size_t i = 0; i < b->ntrader; i++) {
        if (!b->trader[i].safe) {
            continue;
        }
        if (n < sizeof(detail)) {
            n += (size_t)snprintf(detail + n, sizeof(detail) - n, "%s %s",
                                  safe ? "," : "; safe mode:", b->trader[i].name);
        }
        safe++;
    }
    if (b->load == BRK_LOAD_FAILED && n < sizeof(detail)) {
        snprintf(detail + n, sizeof(detail) - n, "; stored state unreadable: entries refused");
    }
    b->h->set_state(b->inst, b->load == BRK_LOAD_FAILED ? AT_STATE_DEGRADED : AT_STATE_UP, detail);
    if (b->m_tripped) {
        b->h->metric_set(b->m_tripped, (double)tripped);
    }
    if (b->m_kill) {
        b->h->metric_set(b->m_kill, b->ks.on ? 1 : 0);
    }
    if (b->m_safe) {
        b->h->metric_set(b->m_safe, (double)safe);
    }
}

/* ------------------------------------------------------------ events */

static void on_balance(void *arg, const at_event *e)
{
    breaker *b = arg;
    const at_ev_balance *bal = (const at_ev_balance *)e;
    if (!bal->account[0]) {
        return; /* an account total needs an account */
    }
    brk_account *a = brk_account_get(b, bal->account, true);
    if (a) {
        brk_on_equity(b, a, bal->total_eq, brk_now_ms(b));
    }
}

static void on_position(void *arg, const at_event *e)
{
    brk_on_position(arg, (const at_ev_position *)e);
}

static void on_decision(void *arg, const at_event *e)
{
    brk_on_decision(arg, (const at_ev_decision *)e);
}

static void on_result(void *arg, const at_event *e)
{
    brk_on_result(arg, (const at_ev_order_result *)e);
}

/* Every second: the kill switch file, day changes, trips whose time is up,
 * and a changed peak or day start stored at most every minute. */
static void on_tick(void *arg)
{
    breaker *b = arg;
    int64_t now = brk_now_ms(b);
    brk_kill_poll(b, now);
    if (b->load != BRK_LOADED) {
        return;
    }
    for (size_t i = 0; i < b->nacct; i++) {
        brk_roll_day(b, &b->acct[i], now);
        brk_expire(b, &b->acct[i], now);
    }
    if (b->dirty && now - b->stored_ms >= BRK_STORE_EVERY_MS) {
        brk_store(b, "breaker.state", "peak or day start moved");
    }
}

/* ------------------------------------------------------------ the check */

/* An entry adds exposure: a place at_place_is_entry (events.h) calls one, or
 * an amend that sets a size. The breaker follows no orders, so it can never
 * know that a size amend shrinks its order: every size-setting amend is
 * refused while entries are (a price-only amend, a cancel, a close pass). */
static bool is_entry(const at_ev_order_intent *it)
{
    switch (it->op) {
    case AT_INTENT_PLACE:
        return at_place_is_entry(it->side, it->pos_side, it->reduce_only);
    case AT_INTENT_AMEND:
        return it->sz.m > 0;
    default:
        return false; /* close_position, cancel, cancel_algo */
    }
}

static void reject(at_risk_answer *out, const char *rule, const char *fmt, ...) AT_PRINTF(3, 4);
static void reject(at_risk_answer *out, const char *rule, const char *fmt, ...)
{
    out->verdict = AT_VERDICT_REJECT;
    snprintf(out->rule, sizeof(out->rule), "%s", rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

static void check(void *ctx, const at_ev_order_intent *it, at_risk_answer *out)
{
    breaker *b = ctx;
    if (!is_entry(it)) {
        return; /* closes, reductions and cancels always pass */
    }
    int64_t now = brk_now_ms(b);
    if (b->load == BRK_LOADING) {
        reject(out, "starting",
               "the breaker is still reading its stored state (trips, peaks, day starts): "
               "entries wait for it");
        return;
    }
    if (b->load == BRK_LOAD_FAILED) {
        reject(out, "state_unknown", "the breaker's stored state could not be read (%s)",
               b->load_error);
        return;
    }
    if (brk_kill_poll(b, now)) {
        char ks[220];
        brk_kill_text(b, ks, sizeof(ks));
        reject(out, "kill_switch", "%s", ks);
        return;
    }
    brk_account *a = brk_account_get(b, it->account, false);
    if (a) {
        brk_roll_day(b, a, now);
        brk_expire(b, a, now);
        if (a->tripped != BRK_NONE) {
            char until[32];
            ks_time_text(a->until_ms, until);
            reject(out, brk_rule_name(a->tripped), "%s; no entries until %s (closes pass)",
                   a->reason, until);
            return;
        }
    }
    brk_trader *t = it->origin[0] ? brk_trader_get(b, it->origin, false) : NULL;
    if (t && t->safe) {
        reject(out, "safe_mode",
               "trader %s is in safe mode after %lld invalid AI decisions in a row (last: %s); "
               "%lld valid one%s in a row end it",
               t->name, (long long)b->max_ai_failures, t->why, (long long)b->safe_recover,
               b->safe_recover == 1 ? "" : "s");
    }
}

/* ------------------------------------------------------------ lifecycle */

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    breaker *b = ctx;
    b->inst = inst;
    b->h = host;
    b->name = host->instance_name(inst);
    char why[200];
    if (parse_pct(b->daily_pct_text, &b->daily_frac, why, sizeof(why)) != AT_OK ||
        parse_pct(b->drawdown_pct_text, &b->drawdown_frac, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s", why); /* check_config refused it already */
        return AT_ECONFIG;
    }
    for (size_t i = 0; i < 4; i++) {
        b->sub[i] = 0;
    }
    return AT_OK;
}

static int start(void *ctx)
{
    breaker *b = ctx;
    const at_host *h = b->h;
    b->m_tripped = h->metric(b->inst, AT_METRIC_GAUGE, "aitrader_breaker_tripped_accounts",
                             "accounts whose breaker is tripped (entries refused)");
    b->m_kill = h->metric(b->inst, AT_METRIC_GAUGE, "aitrader_breaker_kill_switch",
                          "1 while the kill switch is on (every entry refused)");
    b->m_safe = h->metric(b->inst, AT_METRIC_GAUGE, "aitrader_breaker_safe_mode_traders",
                          "traders in safe mode after invalid AI decisions");
    b->sub[0] = h->subscribe(b->inst, AT_EV_BALANCE, on_balance, b);
    b->sub[1] = h->subscribe(b->inst, AT_EV_POSITION, on_position, b);
    b->sub[2] = h->subscribe(b->inst, AT_EV_DECISION, on_decision, b);
    b->sub[3] = h->subscribe(b->inst, AT_EV_ORDER_RESULT, on_result, b);
    for (size_t i = 0; i < 4; i++) {
        if (b->sub[i] <= 0) {
            h->log(b->inst, AT_LOG_ERROR, "cannot subscribe to the account and decision events");
            return b->sub[i] < 0 ? b->sub[i] : AT_ENOMEM;
        }
    }
    b->tick = h->timer_add(b->inst, BRK_TICK_MS, BRK_TICK_MS, on_tick, b);
    if (!b->tick) {
        return AT_ENOMEM;
    }
    b->started = true;
    char d[AT_DEC_STRLEN], w[AT_DEC_STRLEN];
    brk_pct_text(b, b->daily_frac, d);
    brk_pct_text(b, b->drawdown_frac, w);
    h->log(b->inst, AT_LOG_INFO,
           "daily loss limit %s%s, drawdown limit %s%s, a trip lasts %s%s; safe mode after %lld "
           "invalid AI decisions%s",
           b->daily_frac.m ? d : "off", b->daily_frac.m ? " %" : "", b->drawdown_frac.m ? w : "off",
           b->drawdown_frac.m ? " %" : "",
           b->until == BRK_UNTIL_COOLDOWN ? "for the cool-down" : "until the next UTC day",
           b->flatten ? " and closes every open position" : "", (long long)b->max_ai_failures,
           b->max_ai_failures ? "" : " (off)");
    brk_kill_start(b);
    brk_load_start(b);
    brk_report(b);
    return AT_OK;
}

static void stop(void *ctx)
{
    breaker *b = ctx;
    if (!b->started) {
        return;
    }
    if (b->load == BRK_LOADED && (b->dirty || b->last_dirty)) {
        brk_store(b, "breaker.state", "stopped");
    }
    b->started = false;
    b->h->timer_cancel(b->tick);
    b->tick = NULL;
    for (size_t i = 0; i < 4; i++) {
        if (b->sub[i] > 0) {
            b->h->unsubscribe(b->inst, b->sub[i]);
        }
        b->sub[i] = 0;
    }
}

static void destroy(void *ctx)
{
    brk_accounts_free(ctx);
}

static const at_risk_ops ops = {.struct_size = sizeof(at_risk_ops), .check = check};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_RISK,
    .name = "breaker",
    .version = "1.0.0",
    .description = "stops new entries: daily loss, drawdown from peak, AI failures (safe mode), "
                   "the kill switch",
    .config = schema,
    .ctx_size = sizeof(breaker),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &ops,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

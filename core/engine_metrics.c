/* The engine's own metrics in /metrics (host->metrics_text), beside what
 * plugins and the bus register themselves:
 *  - read when /metrics is asked (a collector): the engine (uptime, version
 *    and mode, every instance's state, exchanges included) and the counts the
 *    core's trading parts already keep (executor, order keeper, ledger,
 *    equity curve, each trader and its scheduler);
 *  - counted from the bus on the virtual instance "core.metrics", labelled
 *    by what the events say: risk verdicts by rule, check and verdict; order
 *    results by account, operation and result (with the venue's latency);
 *    order state pushes by account and state; AI calls per trader, provider
 *    and model (count by validity, latency, tokens, cost), whatever the
 *    provider plugin (ai_openai adds its own HTTP-level ones). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/version.h>

#include "clock.h"
#include "engine_internal.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define NSUBS 4

struct engine_metrics {
    engine *e;
    at_instance *self;
    int subs[NSUBS];
    bool collecting;
};

/* ------------------------------------------------------------ collected */

static void set(const char *inst, at_metric_kind kind, const char *name, const char *help, double v)
{
    metrics_set(metrics_get(inst, kind, name, help), v);
}

#define COUNT(inst, name, help, v) set(inst, AT_METRIC_COUNTER, name, help, (double)(v))
#define GAUGE(inst, name, help, v) set(inst, AT_METRIC_GAUGE, name, help, (double)(v))

static void collect_engine(engine *e)
{
    int64_t up_us = e->started ? clock_now_us() - e->started_us : 0;
    GAUGE("core", "aitrader_engine_uptime_seconds", "Seconds since the engine started",
          up_us > 0 ? up_us / 1000000 : 0);
    char abi[16];
    snprintf(abi, sizeof(abi), "%d.%d", AT_ABI_MAJOR, AT_ABI_MINOR);
    const char *info[] = {"version", AT_VERSION, "abi", abi, "mode", engine_modes[e->core.mode]};
    metrics_set(metrics_get_labelled("core", AT_METRIC_GAUGE, "aitrader_engine_info",
                                     "The engine's version, plugin ABI and mode (always 1)", info,
                                     3),
                1);
    for (const at_instance *in = e->instances; in; in = in->next) {
        const char *kind[] = {"kind", in->kind_name ? in->kind_name : ""};
        metrics_set(metrics_get_labelled(in->name, AT_METRIC_GAUGE, "aitrader_instance_state",
                                         "Each instance's state: 0 init, 1 starting, 2 up, 3 "
                                         "degraded, 4 down, 5 stopped",
                                         kind, 1),
                    in->state);
    }
}

static void collect_core(engine *e)
{
    if (e->executor) {
        exec_stats x;
        exec_get_stats(e->executor, &x);
        COUNT("core.executor", "aitrader_executor_intents_total", "Order intents checked",
              x.intents);
        COUNT("core.executor", "aitrader_executor_submitted_total",
              "Intents handed to an exchange's order operations", x.submitted);
        COUNT("core.executor", "aitrader_executor_rejected_total",
              "Intents refused by the gate or a risk rule", x.rejected);
        COUNT("core.executor", "aitrader_executor_resized_total",
              "Intents made smaller by a risk rule", x.resized);
        COUNT("core.executor", "aitrader_executor_shadow_total",
              "Shadow intents checked and stored, not sent (their account is no paper venue)",
              x.shadow);
        COUNT("core.executor", "aitrader_shadow_intents_total",
              "Shadow intents checked and handed to a paper venue (filled hypothetically)",
              x.shadow_paper);
    }
    if (e->keeper) {
        keeper_stats k;
        keeper_get_stats(e->keeper, &k);
        COUNT("core.keeper", "aitrader_keeper_ttl_tracked_total", "Limit orders followed for a TTL",
              k.ttl_tracked);
        COUNT("core.keeper", "aitrader_keeper_ttl_cancels_total", "Cancels published at a TTL",
              k.ttl_cancels);
        COUNT("core.keeper", "aitrader_keeper_orphan_cancels_total",
              "Cancels of orphan TP/SL algo orders", k.orphan_cancels);
        COUNT("core.keeper", "aitrader_keeper_cancel_retries_total", "Refused cancels tried again",
              k.cancel_retries);
        COUNT("core.keeper", "aitrader_keeper_cancels_given_up_total",
              "Cancels given up after their tries (each an ALERT)", k.cancels_given_up);
    }
    if (e->ledger) {
        ledger_stats l;
        ledger_get_stats(e->ledger, &l);
        COUNT("core.ledger", "aitrader_ledger_fills_total", "Fills booked", l.fills);
        COUNT("core.ledger", "aitrader_ledger_unattributed_total",
              "Fills booked that no order of ours explains", l.unattributed);
        COUNT("core.ledger", "aitrader_ledger_duplicates_total", "Fills seen again, not booked",
              l.duplicates);
        COUNT("core.ledger", "aitrader_ledger_funding_total", "Funding payments booked", l.funding);
        COUNT("core.ledger", "aitrader_ledger_errors_total", "Fills that could not be booked",
              l.errors);
    }
    if (e->equity) {
        equity_stats q;
        equity_get_stats(e->equity, &q);
        COUNT("core.equity", "aitrader_equity_rows_total", "Equity curve rows written", q.rows);
        COUNT("core.equity", "aitrader_equity_skipped_total",
              "Equity rows not written: equity unknown or stale", q.skipped);
    }
}

static void collect_traders(engine *e)
{
    for (size_t i = 0; i < e->ntraders; i++) {
        const char *n = e->trader_names[i];
        sched *s = e->scheds ? e->scheds[i] : NULL;
        trader *t = e->tdrs ? e->tdrs[i] : NULL;
        if (s) {
            sched_stats ss;
            sched_get_stats(s, &ss);
            COUNT(n, "aitrader_trader_triggers_total", "AI calls the scheduler asked for",
                  ss.triggers);
            COUNT(n, "aitrader_trader_manual_runs_total", "Manual runs", ss.manual);
            COUNT(n, "aitrader_trader_over_budget_total", "Calls skipped for the cost budget",
                  ss.over_budget);
            COUNT(n, "aitrader_trader_skipped_paused_total", "Calls due while paused", ss.skipped);
            GAUGE(n, "aitrader_trader_paused", "1 while the trader is paused", ss.paused);
            GAUGE(n, "aitrader_trader_in_flight", "AI calls waiting for their decision",
                  ss.in_flight);
            GAUGE(n, "aitrader_trader_cost_day_usd", "AI cost of the last 24 h, USD", ss.cost_day);
        }
        if (t) {
            trader_stats ts;
            trader_get_stats(t, &ts);
            COUNT(n, "aitrader_trader_decisions_total", "Decisions made", ts.decisions);
            COUNT(n, "aitrader_trader_invalid_total", "Decisions refused by validation",
                  ts.invalid);
            COUNT(n, "aitrader_trader_retries_total", "AI calls asked again", ts.retries);
            COUNT(n, "aitrader_trader_intents_total", "Order intents published", ts.intents);
            COUNT(n, "aitrader_trader_late_total", "Answers after their deadline", ts.late);
            COUNT(n, "aitrader_trader_stale_refused_total",
                  "Entries not sent: the price was stale or had moved", ts.stale_refused);
            COUNT(n, "aitrader_trader_giveback_closes_total",
                  "Closes published by the giveback watchdog", ts.giveback_closes);
            if (e->traders[i].shadow_account) {
                COUNT(n, "aitrader_shadow_entries_total",
                      "Entries sent to the trader's shadow account (drawn shadow)",
                      ts.shadow_entries);
                COUNT(n, "aitrader_shadow_live_entries_total",
                      "Entries of a trader with a shadow account sent live", ts.live_entries);
                COUNT(n, "aitrader_shadow_closes_total",
                      "Closes sent to the trader's shadow account", ts.shadow_closes);
            }
        }
    }
}

static void collect(void *arg)
{
    engine_metrics *m = arg;
    collect_engine(m->e);
    collect_core(m->e);
    collect_traders(m->e);
}

/* ------------------------------------------------------------ counted */

static void add(const char *inst, at_metric_kind kind, const char *name, const char *help,
                const char *const *kv, size_t n, double v)
{
    at_metric *m = metrics_get_labelled(inst, kind, name, help, kv, n);
    if (kind == AT_METRIC_HISTOGRAM) {
        metrics_observe(m, v);
    } else {
        metrics_add(m, v);
    }
}

static const char *src(const at_event *e)
{
    return e->source ? e->source : "unknown";
}

static void on_verdict(void *arg, const at_event *e)
{
    (void)arg;
    static const char *const names[] = {"approve", "resize", "reject"};
    const at_ev_risk_verdict *v = (const void *)e;
    const char *kv[] = {
        "rule",    v->rule,
        "check",   v->name ? v->name : "",
        "verdict", (unsigned)v->verdict <= AT_VERDICT_REJECT ? names[v->verdict] : "?"};
    add(src(e), AT_METRIC_COUNTER, "aitrader_risk_verdicts_total",
        "Risk verdicts by rule, the rule's check and verdict", kv, 3, 1);
}

static const char *op_name(at_intent_op op)
{
    static const char *const ops[] = {"place", "cancel", "amend", "close_position", "cancel_algo"};
    return (unsigned)op <= AT_INTENT_CANCEL_ALGO ? ops[op] : "?";
}

static void on_result(void *arg, const at_event *e)
{
    (void)arg;
    const at_ev_order_result *r = (const void *)e;
    const char *acct = r->account[0] ? r->account : src(e);
    const char *kv[] = {"op", op_name(r->op), "result",
                        r->ok ? "ok" : (r->code[0] ? r->code : "error")};
    add(acct, AT_METRIC_COUNTER, "aitrader_order_results_total",
        "Answers to order intents by account, operation and result (ok, the venue's code, "
        "risk_rejected, shadow)",
        kv, 2, 1);
    if (r->latency_us > 0) { /* a venue's answer, not the gate's own refusal */
        add(acct, AT_METRIC_HISTOGRAM, "aitrader_order_latency_us",
            "Order requests out to the venue's answer in, microseconds", kv, 1,
            (double)r->latency_us);
    }
}

static void on_order(void *arg, const at_event *e)
{
    (void)arg;
    static const char *const names[] = {"unknown", "live",     "partially_filled",
                                        "filled",  "canceled", "mmp_canceled"};
    const at_ev_order *o = (const void *)e;
    const char *kv[] = {"state",
                        (unsigned)o->state <= AT_ORD_MMP_CANCELED ? names[o->state] : "unknown"};
    add(o->account[0] ? o->account : src(e), AT_METRIC_COUNTER, "aitrader_order_updates_total",
        "Order state pushes by account and state", kv, 1, 1);
}

static void on_decision(void *arg, const at_event *e)
{
    (void)arg;
    const at_ev_decision *d = (const void *)e;
    const char *model = d->model ? d->model : "";
    const char *who[] = {"provider", d->provider, "model",
                         model,      "valid",     d->valid ? "true" : "false"};
    const char *in[] = {"provider", d->provider, "model", model, "kind", "prompt"};
    const char *out[] = {"provider", d->provider, "model", model, "kind", "completion"};
    const char *t = src(e);
    add(t, AT_METRIC_COUNTER, "aitrader_ai_calls_total",
        "AI calls answered (decisions), by provider, model and validity", who, 3, 1);
    add(t, AT_METRIC_HISTOGRAM, "aitrader_ai_call_latency_us",
        "AI call latency as the trader saw it, microseconds", who, 2, (double)d->latency_ms * 1000);
    add(t, AT_METRIC_COUNTER, "aitrader_ai_call_tokens_total", "AI call tokens by kind", in, 3,
        d->tokens_in > 0 ? (double)d->tokens_in : 0);
    add(t, AT_METRIC_COUNTER, "aitrader_ai_call_tokens_total", "AI call tokens by kind", out, 3,
        d->tokens_out > 0 ? (double)d->tokens_out : 0);
    add(t, AT_METRIC_COUNTER, "aitrader_ai_call_cost_usd_total", "AI call cost, USD", who, 2,
        d->cost_usd > 0 ? d->cost_usd : 0);
}

/* ------------------------------------------------------------ lifecycle */

void engine_metrics_start(engine *e)
{
    engine_metrics *m = calloc(1, sizeof(*m));
    at_instance *self = m ? engine_virtual_instance(e, "core.metrics") : NULL;
    if (!self) {
        free(m);
        log_msg("core", AT_LOG_WARN, "metrics: out of memory; /metrics lacks the engine's own");
        return;
    }
    m->e = e;
    m->self = self;
    e->metrics = m;
    const at_host *h = engine_host();
    static const at_event_type types[NSUBS] = {AT_EV_RISK_VERDICT, AT_EV_ORDER_RESULT, AT_EV_ORDER,
                                               AT_EV_DECISION};
    static const at_event_cb cbs[NSUBS] = {on_verdict, on_result, on_order, on_decision};
    for (size_t i = 0; i < NSUBS; i++) {
        m->subs[i] = h->subscribe(self, types[i], cbs[i], m);
        if (m->subs[i] <= 0) {
            log_msg("core", AT_LOG_WARN, "metrics: cannot follow the bus: %s",
                    at_strerror(m->subs[i] ? m->subs[i] : AT_ENOMEM));
        }
    }
    m->collecting = metrics_add_collector(collect, m) == AT_OK;
    if (!m->collecting) {
        log_msg("core", AT_LOG_WARN, "metrics: no collector slot; /metrics lacks the engine's own");
    }
}

void engine_metrics_stop(engine *e)
{
    engine_metrics *m = e->metrics;
    if (!m) {
        return;
    }
    if (m->collecting) {
        metrics_remove_collector(collect, m);
    }
    for (size_t i = 0; i < NSUBS; i++) {
        if (m->subs[i] > 0) {
            engine_host()->unsubscribe(m->self, m->subs[i]);
        }
    }
    free(m);
    e->metrics = NULL;
}

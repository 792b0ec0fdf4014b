/* risk_limits: a risk rule for the order gate (at_risk_ops). The executor
 * calls check() for every intent, on the loop; the rule answers from what it
 * keeps of the bus and the instruments table (rl_state.c), by an ordered
 * chain of named rules (rl_rules.c, rl_size.c) configured by its schema
 * (rl_config.c). README "Risk rules (risk_limits)" says what each does. */
#include <stdio.h>
#include <string.h>

#include "risk_limits.h"

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    rl_ctx *c = ctx;
    c->inst = inst;
    c->h = host;
    c->name = host->instance_name(inst);
    rl_vec_init(&c->accounts, sizeof(rl_account));
    rl_vec_init(&c->positions, sizeof(rl_pos));
    rl_vec_init(&c->closes, sizeof(rl_close));
    rl_vec_init(&c->markets, sizeof(rl_market));
    rl_vec_init(&c->instrs, sizeof(rl_instr));
    rl_vec_init(&c->loading, sizeof(rl_instr));
    rl_vec_init(&c->orders, sizeof(rl_order));
    rl_vec_init(&c->opens, sizeof(rl_open));
    /* The engine ran check_config already; this keeps one rule for an
     * engine (or test) that did not. */
    const char *key = NULL;
    char why[320];
    if (rl_setup_parse(c, &c->set, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s%s%s", key ? key : "", key ? ": " : "", why);
        return AT_ECONFIG;
    }
    rl_limit *lists[] = {&c->set.leverage, &c->set.notional, &c->set.slippage_bps,
                         &c->set.deviation_bps};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        for (size_t k = 0; k < lists[i]->n; k++) {
            lists[i]->ids[k] = host->inst_intern(lists[i]->names[k]);
        }
    }
    return AT_OK;
}

static int start(void *ctx)
{
    rl_ctx *c = ctx;
    char off[512] = "";
    size_t k = 0;
    for (int r = 0; r < RL_NRULES; r++) {
        if (!c->set.on[r]) {
            k +=
                (size_t)snprintf(off + k, sizeof(off) - k, "%s%s", k ? ", " : "", rl_rule_names[r]);
        }
    }
    c->h->log(c->inst, AT_LOG_INFO,
              "margin per trade %g-%g %% of equity, leverage <= %s, notional <= %s x equity per "
              "instrument and %g x in all, margin use <= %g %%, %lld entries an hour and %lld a "
              "decision, %lld positions; disabled: %s",
              c->margin_min_pct, c->margin_max_pct,
              c->max_leverage.n ? c->max_leverage.items[0] : "?",
              c->max_notional.n ? c->max_notional.items[0] : "?", c->max_exposure,
              c->max_margin_use_pct, (long long)c->max_opens_per_hour,
              (long long)c->max_opens_per_cycle, (long long)c->max_positions, k ? off : "none");
    int rc = rl_state_start(c);
    if (rc != AT_OK) {
        return rc;
    }
    c->h->set_state(c->inst, AT_STATE_UP, NULL);
    return AT_OK;
}

static void stop(void *ctx)
{
    rl_state_stop(ctx);
}

static void destroy(void *ctx)
{
    rl_state_free(ctx);
}

static const at_risk_ops ops = {.struct_size = sizeof(at_risk_ops), .check = rl_check};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_RISK,
    .name = "limits",
    .version = "1.0.0",
    .description = "entry and position limits: margin per trade, leverage, notional, exposure, "
                   "margin use, lot size, slippage, index deviation, pace, hold, cooldown, flips",
    .config = rl_schema,
    .ctx_size = sizeof(rl_ctx),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &ops,
    .check_config = rl_check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

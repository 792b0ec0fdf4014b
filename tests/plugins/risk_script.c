/* A scripted risk rule for the order-gate tests: rejects places over
 * `reject_over` contracts, resizes places over `resize_to` down to it, and
 * rejects intents for the instruments in `reject_instruments`; closes,
 * reductions and cancels always pass (a rule about entries must not block
 * them). Counts what it judged in one log line per intent. */
#include <stdio.h>
#include <string.h>

#include <aitrader/plugin.h>

struct script {
    at_instance *inst;
    const at_host *host;
    const char *reject_over;
    const char *resize_to;
    at_cfg_list reject_instruments;
    at_dec over, to;
    bool has_over, has_to;
};

static const at_cfg_field schema[] = {
    {"reject_over", AT_CFG_STR, NULL, 0, offsetof(struct script, reject_over), 0, 0, NULL,
     "reject places above this many contracts"},
    {"resize_to", AT_CFG_STR, NULL, 0, offsetof(struct script, resize_to), 0, 0, NULL,
     "resize places above this many contracts down to it"},
    {"reject_instruments", AT_CFG_LIST, NULL, 0, offsetof(struct script, reject_instruments), 0, 0,
     NULL, "reject every intent for these"},
    {0},
};

/* A positive decimal, without a host (check_config has none). */
static bool positive_decimal(const char *s)
{
    bool digit = false, dot = false, nonzero = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            digit = true;
            nonzero |= *s != '0';
        } else if (*s == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    return digit && nonzero;
}

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const struct script *s = ctx;
    if (s->reject_over && !positive_decimal(s->reject_over)) {
        *key = "reject_over";
        snprintf(why, whylen, "'%s' is not a positive decimal", s->reject_over);
        return AT_ECONFIG;
    }
    if (s->resize_to && !positive_decimal(s->resize_to)) {
        *key = "resize_to";
        snprintf(why, whylen, "'%s' is not a positive decimal", s->resize_to);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static void check(void *ctx, const at_ev_order_intent *it, at_risk_answer *out)
{
    struct script *s = ctx;
    const at_host *h = s->host;
    const char *inst = h->inst_name(it->h.inst);
    char sz[AT_DEC_STRLEN];
    h->dec_format(it->sz, sz);
    h->log(s->inst, AT_LOG_INFO, "judging %s %s sz=%s", it->intent_id, inst ? inst : "?", sz);
    for (size_t i = 0; inst && i < s->reject_instruments.n; i++) {
        if (strcmp(inst, s->reject_instruments.items[i]) == 0) {
            out->verdict = AT_VERDICT_REJECT;
            snprintf(out->rule, sizeof(out->rule), "instruments");
            snprintf(out->reason, sizeof(out->reason), "%s is not traded", inst);
            return;
        }
    }
    bool entry = it->op == AT_INTENT_PLACE && !it->reduce_only;
    if (!entry) {
        return; /* approve */
    }
    if (s->has_over && h->dec_cmp(it->sz, s->over) > 0) {
        out->verdict = AT_VERDICT_REJECT;
        snprintf(out->rule, sizeof(out->rule), "max_size");
        snprintf(out->reason, sizeof(out->reason), "%s contracts is over %s", sz, s->reject_over);
        return;
    }
    if (s->has_to && h->dec_cmp(it->sz, s->to) > 0) {
        out->verdict = AT_VERDICT_RESIZE;
        out->sz = s->to;
        snprintf(out->rule, sizeof(out->rule), "resize");
        snprintf(out->reason, sizeof(out->reason), "%s contracts resized to %s", sz, s->resize_to);
    }
}

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    struct script *s = ctx;
    s->inst = inst;
    s->host = host;
    s->has_over = s->reject_over && host->dec_parse(s->reject_over, (size_t)-1, &s->over) == AT_OK;
    s->has_to = s->resize_to && host->dec_parse(s->resize_to, (size_t)-1, &s->to) == AT_OK;
    return AT_OK;
}

static void destroy(void *ctx)
{
    (void)ctx;
}

static const at_risk_ops ops = {.struct_size = sizeof(at_risk_ops), .check = check};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_RISK,
    .name = "script",
    .version = "1.0.0",
    .description = "test risk rule: reject or resize by size, reject by instrument",
    .config = schema,
    .ctx_size = sizeof(struct script),
    .init = init,
    .destroy = destroy,
    .ops = &ops,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

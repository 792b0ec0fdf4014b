/* risk_limits' config: the schema, and the one parser init and check_config
 * share (so check-config refuses exactly what run would). Numbers that
 * decide are exact decimals: the per-instrument lists are parsed as such,
 * and a percentage or multiple given as a number must have at most 6
 * decimals, so it converts to a decimal exactly. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "risk_limits.h"

const char *const rl_rule_names[RL_NRULES] = {
    [RL_INSTRUMENT] = "instrument",
    [RL_EQUITY] = "equity",
    [RL_PRICE] = "price",
    [RL_NO_FLIP] = "no_flip",
    [RL_MAX_POSITIONS] = "max_positions",
    [RL_OPENS_PER_HOUR] = "opens_per_hour",
    [RL_OPENS_PER_CYCLE] = "opens_per_cycle",
    [RL_REENTRY_COOLDOWN] = "reentry_cooldown",
    [RL_MAX_LEVERAGE] = "max_leverage",
    [RL_MARGIN_PER_TRADE] = "margin_per_trade",
    [RL_MAX_NOTIONAL] = "max_notional",
    [RL_MAX_EXPOSURE] = "max_exposure",
    [RL_MARGIN_USE] = "margin_use",
    [RL_LOT_SIZE] = "lot_size",
    [RL_SLIPPAGE] = "slippage",
    [RL_INDEX_DEVIATION] = "index_deviation",
    [RL_MIN_HOLD] = "min_hold",
};

#define F(name, type, def, flags, member, lo, hi, desc)                                            \
    {                                                                                              \
        name, type, def, flags, offsetof(rl_ctx, member), lo, hi, NULL, desc                       \
    }

const at_cfg_field rl_schema[] = {
    F("disable", AT_CFG_LIST, NULL, 0, disable, 0, 0,
      "rules turned off, by the names verdicts give them (e.g. min_hold, no_flip); "
      "instrument, equity and price cannot be"),
    F("margin_min_pct", AT_CFG_DOUBLE, "5", AT_CFG_RANGE, margin_min_pct, 0, 100,
      "margin_per_trade: an entry's margin (notional / leverage) below this % of equity is "
      "rejected"),
    F("margin_max_pct", AT_CFG_DOUBLE, "20", AT_CFG_RANGE, margin_max_pct, 0.000001, 100,
      "margin_per_trade: an entry's margin above this % of equity is resized down to it"),
    F("max_leverage", AT_CFG_LIST, "10", 0, max_leverage, 0, 0,
      "max_leverage: leverage at most, per instrument: 10, BTC-USDT-SWAP:20 (never above the "
      "instrument's maxLever)"),
    F("default_leverage", AT_CFG_INT, "0", AT_CFG_RANGE, default_leverage, 0, 125,
      "leverage assumed for an entry that leaves it as is (0) on an instrument with no open "
      "position showing it; 0 = such entries are rejected"),
    F("max_notional", AT_CFG_LIST, "2", 0, max_notional, 0, 0,
      "max_notional: position + open entry orders + the entry, as a multiple of equity, per "
      "instrument: 2, BTC-USDT-SWAP:3"),
    F("max_exposure", AT_CFG_DOUBLE, "4", AT_CFG_RANGE, max_exposure, 0.000001, 1000,
      "max_exposure: every position and open entry order of the account plus the entry, as a "
      "multiple of equity"),
    F("max_margin_use_pct", AT_CFG_DOUBLE, "60", AT_CFG_RANGE, max_margin_use_pct, 0.000001, 100,
      "margin_use: margin of the positions, open entry orders and the entry at most this % of "
      "equity"),
    F("max_slippage_bps", AT_CFG_LIST, "30", 0, max_slippage_bps, 0, 0,
      "slippage: a market entry's expected fill (walking the book) at most this many bps from "
      "mid and mark, a limit entry's price at most this far through them; per instrument: "
      "30, DOGE-USDT-SWAP:60"),
    F("book_max_age", AT_CFG_DURATION, "10s", AT_CFG_RANGE, book_max_age_ms, 100, 3600000,
      "slippage: an order book older than this is stale (a market entry is then rejected)"),
    F("max_index_deviation_bps", AT_CFG_LIST, "50", 0, max_index_deviation_bps, 0, 0,
      "index_deviation: the last price at most this many bps from the index (the mark when "
      "the source sends no index); per instrument: 50, DOGE-USDT-SWAP:100"),
    F("price_max_age", AT_CFG_DURATION, "60s", AT_CFG_RANGE, price_max_age_ms, 1000, 86400000,
      "a mark or last price older than this is unknown (entries are then rejected)"),
    F("equity_max_age", AT_CFG_DURATION, "12h", AT_CFG_RANGE, equity_max_age_ms, 60000,
      2592000000LL,
      "equity: while the account has an open position, a BALANCE older than this is stale "
      "(entries are then rejected); venues push it on changes only (orders, fills, funding "
      "every 8h), so a quiet account is silent for hours"),
    F("max_opens_per_hour", AT_CFG_INT, "3", AT_CFG_RANGE, max_opens_per_hour, 1, 100000,
      "opens_per_hour: entries per account in any 60 minutes"),
    F("max_opens_per_cycle", AT_CFG_INT, "2", AT_CFG_RANGE, max_opens_per_cycle, 1, 100000,
      "opens_per_cycle: entries sharing one decision_id"),
    F("min_hold", AT_CFG_DURATION, "15m", AT_CFG_RANGE, min_hold_ms, 0, 604800000,
      "min_hold: a position is held this long before an AI decision may close it (manual "
      "and rule closes never wait)"),
    F("reentry_cooldown", AT_CFG_DURATION, "30m", AT_CFG_RANGE, reentry_cooldown_ms, 0, 604800000,
      "reentry_cooldown: no entry on the side of an instrument closed this recently"),
    F("flip_window", AT_CFG_DURATION, "1h", AT_CFG_RANGE, flip_window_ms, 0, 604800000,
      "no_flip: no entry on the opposite side of a position closed this recently"),
    F("max_positions", AT_CFG_INT, "3", AT_CFG_RANGE, max_positions, 1, 1000,
      "max_positions: instruments with a position (or an open entry order) per account"),
    F("instruments_refresh", AT_CFG_DURATION, "5m", AT_CFG_RANGE, instruments_refresh_ms, 1000,
      86400000, "how often the instruments table is read again (also when an exchange comes up)"),
    {0},
};

/* An instrument id as inst_intern takes it: 1-63 printable ASCII
 * characters, no blanks (checked here: check_config has no host). */
static bool inst_id_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
    }
    return n >= 1 && n <= 63;
}

static int fail(const char **key, const char *k, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(const char **key, const char *k, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    *key = k;
    return AT_ECONFIG;
}

/* A positive decimal at most `max` (0 = no maximum). */
static bool positive(const char *s, size_t n, at_dec max, at_dec *out)
{
    if (n == 0 || at_dec_parse(s, n, out) != AT_OK || out->m <= 0) {
        return false;
    }
    return max.m == 0 || at_dec_cmp(*out, max) <= 0;
}

/* "10, BTC-USDT-SWAP:20": one plain value (the default), then overrides. */
static int parse_limit(const at_cfg_list *l, const char *k, at_dec max, rl_limit *out,
                       const char **key, char *why, size_t whylen)
{
    char maxs[AT_DEC_STRLEN] = "";
    if (max.m) {
        at_dec_format(max, maxs);
    }
    bool has_def = false;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->items[i];
        const char *colon = strrchr(s, ':');
        at_dec v;
        if (!colon) {
            if (has_def) {
                return fail(key, k, why, whylen,
                            "'%s': a second default value (write overrides as "
                            "INSTRUMENT:VALUE)",
                            s);
            }
            if (!positive(s, strlen(s), max, &v)) {
                return fail(key, k, why, whylen, "'%s' is not a decimal above 0%s%s", s,
                            max.m ? " and at most " : "", maxs);
            }
            out->def = v;
            has_def = true;
            continue;
        }
        size_t nn = (size_t)(colon - s);
        if (!inst_id_ok(s, nn)) {
            return fail(key, k, why, whylen,
                        "'%s': '%.*s' is not an instrument id (1-63 characters, no blanks)", s,
                        (int)nn, s);
        }
        if (!positive(colon + 1, strlen(colon + 1), max, &v)) {
            return fail(key, k, why, whylen, "'%s': '%s' is not a decimal above 0%s%s", s,
                        colon + 1, max.m ? " and at most " : "", maxs);
        }
        for (size_t j = 0; j < out->n; j++) {
            if (strlen(out->names[j]) == nn && memcmp(out->names[j], s, nn) == 0) {
                return fail(key, k, why, whylen, "'%.*s' is given twice", (int)nn, s);
            }
        }
        if (out->n >= RL_MAX_OVERRIDES) {
            return fail(key, k, why, whylen, "more than %d instrument overrides", RL_MAX_OVERRIDES);
        }
        memcpy(out->names[out->n], s, nn);
        out->names[out->n][nn] = '\0';
        out->vals[out->n++] = v;
    }
    if (!has_def) {
        return fail(key, k, why, whylen,
                    "no default value: start with one for every instrument, e.g. "
                    "'10, BTC-USDT-SWAP:20'");
    }
    return AT_OK;
}

/* A configured number as an exact decimal: at most 6 decimals. */
static int exact(double v, const char *k, at_dec *out, const char **key, char *why, size_t whylen)
{
    if (at_dec_from_double(v, 6, out) != AT_OK || at_dec_to_double(*out) != v) {
        return fail(key, k, why, whylen, "%.17g: at most 6 decimals", v);
    }
    return AT_OK;
}

static int percent(double v, const char *k, at_dec *out, const char **key, char *why, size_t whylen)
{
    at_dec pct, hundred = {100, 0};
    int rc = exact(v, k, &pct, key, why, whylen);
    return rc != AT_OK ? rc : at_dec_div(pct, hundred, 8, AT_ROUND_HALF_EVEN, out);
}

int rl_setup_parse(const rl_ctx *c, rl_setup *out, const char **key, char *why, size_t whylen)
{
    int rc;
    memset(out, 0, sizeof(*out));
    for (int r = 0; r < RL_NRULES; r++) {
        out->on[r] = true;
    }
    for (size_t i = 0; i < c->disable.n; i++) {
        const char *s = c->disable.items[i];
        int r = 0;
        while (r < RL_NRULES && strcmp(rl_rule_names[r], s) != 0) {
            r++;
        }
        if (r == RL_NRULES) {
            char names[512];
            size_t k = 0;
            names[0] = '\0';
            for (int j = RL_NO_FLIP; j < RL_NRULES; j++) {
                k += (size_t)snprintf(names + k, sizeof(names) - k, "%s%s", k ? ", " : "",
                                      rl_rule_names[j]);
            }
            return fail(key, "disable", why, whylen, "'%s' is not a rule (rules: %s)", s, names);
        }
        if (r <= RL_PRICE) {
            return fail(key, "disable", why, whylen,
                        "'%s' cannot be disabled: an entry whose instrument, equity or price is "
                        "unknown cannot be sized",
                        s);
        }
        out->on[r] = false;
    }
    if ((rc = percent(c->margin_min_pct, "margin_min_pct", &out->margin_min, key, why, whylen)) ||
        (rc = percent(c->margin_max_pct, "margin_max_pct", &out->margin_max, key, why, whylen)) ||
        (rc = exact(c->max_exposure, "max_exposure", &out->exposure, key, why, whylen)) ||
        (rc = percent(c->max_margin_use_pct, "max_margin_use_pct", &out->margin_use, key, why,
                      whylen))) {
        return rc;
    }
    if (at_dec_cmp(out->margin_min, out->margin_max) > 0) {
        return fail(key, "margin_min_pct", why, whylen,
                    "%g %% is above margin_max_pct (%g %%): no entry could pass", c->margin_min_pct,
                    c->margin_max_pct);
    }
    at_dec none = {0, 0}, lever_max = {125, 0};
    if ((rc = parse_limit(&c->max_leverage, "max_leverage", lever_max, &out->leverage, key, why,
                          whylen)) ||
        (rc = parse_limit(&c->max_notional, "max_notional", none, &out->notional, key, why,
                          whylen)) ||
        (rc = parse_limit(&c->max_slippage_bps, "max_slippage_bps", none, &out->slippage_bps, key,
                          why, whylen)) ||
        (rc = parse_limit(&c->max_index_deviation_bps, "max_index_deviation_bps", none,
                          &out->deviation_bps, key, why, whylen))) {
        return rc;
    }
    return AT_OK;
}

int rl_check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    rl_setup *set = malloc(sizeof(*set)); /* ~17 KB: not on the caller's stack */
    if (!set) {
        return fail(key, NULL, why, whylen, "out of memory");
    }
    int rc = rl_setup_parse(ctx, set, key, why, whylen);
    free(set);
    return rc;
}

at_dec rl_limit_for(const rl_limit *l, at_inst inst)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->ids[i] == inst) {
            return l->vals[i];
        }
    }
    return l->def;
}

/* indicator_ta's config: the schema, and the parser of what it cannot
 * check, shared by init and check_config (indicator_ta.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "indicator_ta.h"

#define F(name, type, def, flags, member, lo, hi, desc)                                            \
    {                                                                                              \
        name, type, def, flags, offsetof(ind_ctx, member), lo, hi, NULL, desc                      \
    }

const at_cfg_field ind_schema[] = {
    F("instruments", AT_CFG_LIST, "all", 0, instruments, 0, 0,
      "instruments to compute (BTC-USDT-SWAP, ...), or all"),
    F("bars", AT_CFG_LIST, "1m, 5m", 0, bars, 0, 0,
      "bars to publish on, built from 1m data on UTC boundaries: 1m 3m 5m 15m 30m 1h 2h 4h 6h "
      "12h 1d"),
    F("book_depth", AT_CFG_INT, "5", AT_CFG_RANGE, depth, 1, AT_BOOK_DEPTH,
      "levels per side of the order-book imbalance (published as obiN)"),
    F("max_instruments", AT_CFG_INT, "256", AT_CFG_RANGE, max_instruments, 1, 65536,
      "instruments tracked at most (with instruments = all)"),
    F("source", AT_CFG_STR, NULL, 0, source, 0, 0,
      "only use market events of this instance (e.g. exchange.okx_data); default: any"),
    F("signals", AT_CFG_LIST, "rsi14>75/70, rsi14<25/30, |chg_5m|>0.01/0.008", 0, signals, 0, 0,
      "threshold rules with hysteresis, published as SIGNAL: NAME>ENTER/EXIT (up), "
      "NAME<ENTER/EXIT (down), |NAME|>ENTER/EXIT (spike), INSTRUMENT:RULE overrides one "
      "instrument; none = no signals"),
    {0},
};

/* "5m", "1H", "4h", "1d" → ms; 0 when not a whole number of minutes that
 * divides a day (the only bars whose UTC alignment is unambiguous). */
static int64_t parse_bar(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    int64_t unit = 0;
    if (strcasecmp(end, "m") == 0) {
        unit = MIN_MS;
    } else if (strcasecmp(end, "h") == 0) {
        unit = 60 * MIN_MS;
    } else if (strcasecmp(end, "d") == 0) {
        unit = 1440 * MIN_MS;
    }
    if (end == s || n <= 0 || n > 1440 || !unit) {
        return 0;
    }
    int64_t ms = n * unit;
    return 86400000 % ms == 0 ? ms : 0;
}

/* ------------------------------------------------------------------ parser */

const char *const ind_names[IND_N] = {
    "close",     "ema12",      "ema26",   "rsi14",      "macd",    "macd_signal",
    "macd_hist", "bb_upper",   "bb_mid",  "bb_lower",   "atr14",   "vol_rv",
    "chg_5m",    "chg_15m",    "chg_1h",  "chg_4h",     "chg_24h", "vol_ratio",
    NULL,        "microprice", "funding", "funding_chg"};

static int refuse(const char **key, const char *k, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int refuse(const char **key, const char *k, char *why, size_t whylen, const char *fmt, ...)
{
    *key = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return AT_ECONFIG;
}

/* What the engine interns as an instrument id: 1 to 63 printable ASCII
 * characters, no blanks (checked here so that check_config, which has no
 * host, refuses what init's inst_intern would). */
static bool inst_id_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
    }
    return n >= 1 && n <= 63;
}

static bool listed(const at_cfg_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_indicator(const ind_setup *set, const char *name)
{
    for (int i = 0; i < IND_N; i++) {
        if (strcmp(i == IND_OBI ? set->obi_name : ind_names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* "close, ema12, …" into buf. */
static const char *indicator_list(const ind_setup *set, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < IND_N && n < len; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
                         i == IND_OBI ? set->obi_name : ind_names[i]);
        n += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

int ind_setup_parse(const ind_ctx *c, ind_setup *set, const char **key, char *why, size_t whylen)
{
    memset(set, 0, sizeof(*set));
    snprintf(set->obi_name, sizeof(set->obi_name), "obi%lld", (long long)c->depth);
    if (c->bars.n == 0) {
        return refuse(key, "bars", why, whylen, "no bar size given (e.g. 1m, 5m)");
    }
    for (size_t i = 0; i < c->bars.n; i++) {
        int64_t ms = parse_bar(c->bars.items[i]);
        if (!ms) {
            return refuse(key, "bars", why, whylen,
                          "'%s' is not a bar (1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d: whole minutes "
                          "that divide a day)",
                          c->bars.items[i]);
        }
        for (int k = 0; k < set->nbars; k++) {
            if (set->bar_ms[k] == ms) {
                return refuse(key, "bars", why, whylen, "'%s' given twice", c->bars.items[i]);
            }
        }
        if (set->nbars == MAX_BARS) {
            return refuse(key, "bars", why, whylen, "at most %d bar sizes", MAX_BARS);
        }
        set->bar_ms[set->nbars++] = ms;
    }

    set->all = c->instruments.n == 0 ||
               (c->instruments.n == 1 && strcasecmp(c->instruments.items[0], "all") == 0);
    for (size_t i = 0; !set->all && i < c->instruments.n; i++) {
        const char *id = c->instruments.items[i];
        if (strcasecmp(id, "all") == 0) {
            return refuse(key, "instruments", why, whylen,
                          "'all' stands alone: all, or a list of instruments");
        }
        if (!inst_id_ok(id)) {
            return refuse(key, "instruments", why, whylen,
                          "'%s' is not an instrument id (1 to 63 printable ASCII characters, no "
                          "blanks)",
                          id);
        }
    }

    if (c->signals.n == 1 && strcasecmp(c->signals.items[0], "none") == 0) {
        return AT_OK;
    }
    for (size_t i = 0; i < c->signals.n; i++) {
        const char *item = c->signals.items[i];
        if (ta_sig_rules_add(&set->rules, item, why, whylen) != 0) {
            *key = "signals";
            return AT_ECONFIG;
        }
        const ta_sig_rule *r = &set->rules.r[set->rules.n - 1];
        if (!is_indicator(set, r->name)) {
            char names[320];
            return refuse(key, "signals", why, whylen, "'%s': no indicator %s (there are: %s)",
                          item, r->name, indicator_list(set, names, sizeof(names)));
        }
        if (r->inst[0] && !inst_id_ok(r->inst)) {
            return refuse(key, "signals", why, whylen, "'%s': '%s' is not an instrument id", item,
                          r->inst);
        }
        if (r->inst[0] && !set->all && !listed(&c->instruments, r->inst)) {
            return refuse(key, "signals", why, whylen, "'%s': %s is not in instruments", item,
                          r->inst);
        }
    }
    return AT_OK;
}

int ind_check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    ind_setup set;
    return ind_setup_parse(ctx, &set, key, why, whylen);
}

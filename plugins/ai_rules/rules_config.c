/* ai_rules' config: the schema, and the parser of what it cannot check,
 * shared by init and check_config (ai_rules.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ai_rules.h"

#define F(name, type, def, flags, member, lo, hi, desc)                                            \
    {                                                                                              \
        name, type, def, flags, offsetof(rules_ctx, member), lo, hi, NULL, desc                    \
    }

const at_cfg_field rules_schema[] = {
    F("bar", AT_CFG_STR, "5m", 0, bar, 0, 0,
      "bar size whose INDICATOR values the rules read (one of indicator_ta's bars: 1m 3m 5m 15m "
      "30m 1h 2h 4h 6h 12h 1d)"),
    F("account", AT_CFG_STR, NULL, 0, account, 0, 0,
      "positions of this exchange instance only (e.g. exchange.paper); default: every account's"),
    F("size_pct", AT_CFG_DOUBLE, "0.1", AT_CFG_RANGE, size_pct, 0.001, 1,
      "fraction of equity committed as margin per open (notional = equity x size_pct x leverage)"),
    F("leverage", AT_CFG_INT, "3", AT_CFG_RANGE, leverage, 1, 125, "leverage of every open"),
    F("tp_atr", AT_CFG_DOUBLE, "3", AT_CFG_RANGE, tp_atr, 0.1, 50,
      "take profit at this many atr14 from the price"),
    F("sl_atr", AT_CFG_DOUBLE, "1.5", AT_CFG_RANGE, sl_atr, 0.1, 50,
      "stop loss at this many atr14 from the price"),
    F("rsi_overbought", AT_CFG_DOUBLE, "70", AT_CFG_RANGE, rsi_overbought, 50, 100,
      "no long is opened at or above this rsi14 (longs need 50 < rsi14 < it)"),
    F("rsi_oversold", AT_CFG_DOUBLE, "30", AT_CFG_RANGE, rsi_oversold, 0, 50,
      "no short is opened at or below this rsi14 (shorts need it < rsi14 < 50)"),
    F("rsi_exit_high", AT_CFG_DOUBLE, "80", AT_CFG_RANGE, rsi_exit_high, 50, 100,
      "a long is closed at or above this rsi14 (>= rsi_overbought)"),
    F("rsi_exit_low", AT_CFG_DOUBLE, "20", AT_CFG_RANGE, rsi_exit_low, 0, 50,
      "a short is closed at or below this rsi14 (<= rsi_oversold)"),
    F("stale_bars", AT_CFG_INT, "3", AT_CFG_RANGE, stale_bars, 0, 1000,
      "hold when the last bar closed more than this many bars ago (0 = never stale)"),
    F("price_digits", AT_CFG_INT, "6", AT_CFG_RANGE, price_digits, 3, 15,
      "significant digits of take_profit and stop_loss (the venue rounds to its tick)"),
    F("max_instruments", AT_CFG_INT, "1024", AT_CFG_RANGE, max_instruments, 1, 65536,
      "instruments whose state is kept at most"),
    {0},
};

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

/* "5m", "1h", "1d" → ms, as indicator_ta reads its bars; 0 when not a whole
 * number of minutes that divides a day (indicator_ta publishes no other). */
static int64_t parse_bar(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    int64_t unit = 0;
    if (strcasecmp(end, "m") == 0) {
        unit = 60000;
    } else if (strcasecmp(end, "h") == 0) {
        unit = 3600000;
    } else if (strcasecmp(end, "d") == 0) {
        unit = 86400000;
    }
    if (end == s || n <= 0 || n > 1440 || !unit) {
        return 0;
    }
    int64_t ms = n * unit;
    return 86400000 % ms == 0 ? ms : 0;
}

/* An instance name as exchange plugins put it in POSITION events:
 * "exchange.<name>", name printable without blanks, fitting AT_ID_LEN. */
static bool exchange_instance_ok(const char *s)
{
    size_t n = strlen(s);
    if (strncmp(s, "exchange.", 9) != 0 || n <= 9 || n >= AT_ID_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

int rules_setup_parse(const rules_ctx *c, rules_setup *set, const char **key, char *why,
                      size_t whylen)
{
    memset(set, 0, sizeof(*set));
    const char *bar = c->bar ? c->bar : "";
    set->bar_ms = parse_bar(bar);
    if (!set->bar_ms) {
        return refuse(key, "bar", why, whylen,
                      "'%s' is not a bar size indicator_ta publishes (1m 3m 5m 15m 30m 1h 2h 4h "
                      "6h 12h 1d)",
                      bar);
    }
    snprintf(set->bar_name, sizeof(set->bar_name), "%s", bar);
    if (c->account && !exchange_instance_ok(c->account)) {
        return refuse(key, "account", why, whylen,
                      "'%s' is not an exchange instance name (exchange.<name>, e.g. "
                      "exchange.paper, at most %d characters)",
                      c->account, AT_ID_LEN - 1);
    }
    /* The entry bands must be non-empty and exits must lie beyond them, or
     * a position would be closed by the reading that opened it. */
    if (!(c->rsi_overbought > 50)) {
        return refuse(key, "rsi_overbought", why, whylen,
                      "%g leaves no room for longs: it must be above 50", c->rsi_overbought);
    }
    if (!(c->rsi_oversold < 50)) {
        return refuse(key, "rsi_oversold", why, whylen,
                      "%g leaves no room for shorts: it must be below 50", c->rsi_oversold);
    }
    if (!(c->rsi_exit_high >= c->rsi_overbought)) {
        return refuse(key, "rsi_exit_high", why, whylen,
                      "%g is below rsi_overbought (%g): a long could be closed by the rsi14 that "
                      "opened it",
                      c->rsi_exit_high, c->rsi_overbought);
    }
    if (!(c->rsi_exit_low <= c->rsi_oversold)) {
        return refuse(key, "rsi_exit_low", why, whylen,
                      "%g is above rsi_oversold (%g): a short could be closed by the rsi14 that "
                      "opened it",
                      c->rsi_exit_low, c->rsi_oversold);
    }
    return AT_OK;
}

int rules_check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    rules_setup set;
    return rules_setup_parse(ctx, &set, key, why, whylen);
}

/* A manual order's body, checked before anything is published: every key
 * known, every value of its type, the size on the lot, the price on the
 * tick, posSide as the account's mode wants it. The risk chain judges the
 * order afterwards like any other; this only makes sure it says what the
 * user meant (a typo must not become an order). Prices and sizes are exact:
 * strings ("0.1") or whole numbers, never JSON fractions, which a parser
 * turns into binary doubles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash_lib.h"

#define DAY_MS 86400000LL

static const char *const ORDER_KEYS[] = {
    "account",    "instId",      "side",        "posSide", "tdMode", "ordType", "sz", "px",
    "reduceOnly", "tpTriggerPx", "slTriggerPx", "ttlMs",   "ttl",    "lever",   NULL};
static const char *const CLOSE_KEYS[] = {"account", "instId", "posSide", "tdMode", NULL};

json_t *dash_body_parse(const char *body, size_t len, dash_err *e)
{
    if (len == 0) {
        dash_fail(e, 400, "bad_json", NULL, "the request needs a JSON object as its body");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        dash_fail(e, 400, "bad_json", NULL, "malformed JSON at line %d, column %d: %.200s", je.line,
                  je.column, je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        dash_fail(e, 400, "bad_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    return v;
}

static bool known_key(const char *k, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) {
        if (strcmp(k, keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int check_keys(const json_t *body, const char *const *keys, dash_err *e)
{
    if (!json_is_object(body)) {
        return dash_fail(e, 400, "bad_json", NULL, "the body must be a JSON object");
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        if (!known_key(k, keys)) {
            char list[256];
            size_t n = 0;
            list[0] = '\0';
            for (size_t i = 0; keys[i] && n < sizeof(list); i++) {
                int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", keys[i]);
                n += w > 0 ? (size_t)w : 0;
            }
            return dash_fail(e, 400, "unknown_key", NULL, "unknown key '%.40s' (known: %s)", k,
                             list);
        }
    }
    (void)v;
    return 0;
}

/* An optional value: absent, null and "" all say "not given". */
static const json_t *given(const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        return NULL;
    }
    return v;
}

/* A text value with a fixed set of answers; *idx its index. 0, 1 absent,
 * or 400. */
static int get_enum(const json_t *body, const char *key, const char *const *names, int *idx,
                    bool required, dash_err *e)
{
    const json_t *v = given(body, key);
    if (!v) {
        if (required) {
            return dash_fail(e, 400, "missing", key, "%s is required", key);
        }
        return 1;
    }
    const char *s = json_string_value(v);
    for (int i = 0; s && names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *idx = i;
            return 0;
        }
    }
    char list[128] = "";
    size_t n = 0;
    for (size_t i = 0; names[i] && n < sizeof(list); i++) {
        int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? " or " : "", names[i]);
        n += w > 0 ? (size_t)w : 0;
    }
    return dash_fail(e, 400, "bad_value", key, "%s must be %s", key, list);
}

static int get_id(const json_t *body, const char *key, char *out, size_t cap, dash_err *e)
{
    const json_t *v = given(body, key);
    const char *s = v ? json_string_value(v) : NULL;
    if (!v) {
        return dash_fail(e, 400, "missing", key, "%s is required", key);
    }
    if (!s) {
        return dash_fail(e, 400, "bad_value", key, "%s must be a string", key);
    }
    size_t len = json_string_length(v);
    if (len >= cap) {
        return dash_fail(e, 400, "bad_value", key, "%s is longer than %zu characters", key,
                         cap - 1);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f) {
            return dash_fail(e, 400, "bad_value", key, "%s must be printable ASCII without blanks",
                             key);
        }
    }
    memcpy(out, s, len + 1);
    return 0;
}

/* An exact decimal: a string ("0.1") or a whole number. 0 (found), 1
 * absent, or 400. */
static int get_dec(const at_host *h, const json_t *body, const char *key, at_dec *out, dash_err *e)
{
    *out = (at_dec){0, 0};
    const json_t *v = given(body, key);
    if (!v) {
        return 1;
    }
    char buf[64];
    const char *s = NULL;
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        s = buf;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
        if (json_string_length(v) > 60) {
            return dash_fail(e, 400, "bad_value", key, "%s is not a number we can take exactly",
                             key);
        }
    } else if (json_is_real(v)) {
        return dash_fail(e, 400, "bad_value", key,
                         "%s must be a string such as \"0.1\" (a JSON fraction is a binary "
                         "double, not the exact decimal you typed)",
                         key);
    } else {
        return dash_fail(e, 400, "bad_value", key, "%s must be a decimal string such as \"0.1\"",
                         key);
    }
    if (h->dec_parse(s, (size_t)-1, out) != AT_OK) {
        return dash_fail(e, 400, "bad_value", key, "%s '%.40s' is not a decimal number", key, s);
    }
    if (out->m <= 0) {
        return dash_fail(e, 400, "bad_value", key, "%s must be above 0", key);
    }
    return 0;
}

int dash_duration_ms(const char *s, int64_t *out)
{
    char *end = NULL;
    if (!s || *s < '0' || *s > '9') {
        return AT_EINVAL;
    }
    long long v = strtoll(s, &end, 10);
    int64_t mul = 0;
    if (strcmp(end, "") == 0 || strcmp(end, "ms") == 0) {
        mul = 1;
    } else if (strcmp(end, "s") == 0) {
        mul = 1000;
    } else if (strcmp(end, "m") == 0) {
        mul = 60000;
    } else if (strcmp(end, "h") == 0) {
        mul = 3600000;
    } else if (strcmp(end, "d") == 0) {
        mul = DAY_MS;
    }
    if (!mul || v <= 0 || v > 7 * DAY_MS / mul) {
        return AT_EINVAL;
    }
    *out = v * mul;
    return AT_OK;
}

static int get_ttl(const json_t *body, int64_t *ttl, dash_err *e)
{
    const json_t *ms = given(body, "ttlMs"), *t = given(body, "ttl");
    *ttl = 0;
    if (ms && t) {
        return dash_fail(e, 400, "bad_value", "ttl", "give ttlMs or ttl, not both");
    }
    if (ms) {
        if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
            json_integer_value(ms) > 7 * DAY_MS) {
            return dash_fail(e, 400, "bad_value", "ttlMs",
                             "ttlMs must be whole milliseconds from 0 (the order rests) to 7 "
                             "days");
        }
        *ttl = json_integer_value(ms);
    } else if (t) {
        const char *s = json_string_value(t);
        if (json_is_integer(t)) {
            return dash_fail(e, 400, "bad_value", "ttl",
                             "ttl is a duration such as \"30s\" or \"5m\" (whole milliseconds "
                             "go in ttlMs)");
        }
        if (!s || dash_duration_ms(s, ttl) != AT_OK) {
            return dash_fail(e, 400, "bad_value", "ttl",
                             "ttl must be a duration such as \"500ms\", \"30s\", \"5m\", \"2h\" "
                             "(above 0, at most 7 days)");
        }
    }
    return 0;
}

static const char *const SIDES[] = {"buy", "sell", NULL};
static const char *const POS_SIDES[] = {"net", "long", "short", NULL};
static const char *const TD_MODES[] = {"cross", "isolated", NULL};
static const char *const ORD_TYPES[] = {"market", "limit", NULL};

static int get_pos_td(const json_t *body, dash_order_req *o, dash_err *e)
{
    int idx = 0, rc;
    if ((rc = get_enum(body, "posSide", POS_SIDES, &idx, false, e)) > 1) {
        return rc;
    }
    o->pos_side_given = rc == 0;
    o->pos_side = rc == 0 ? (at_pos_side)idx : AT_POS_NET;
    if ((rc = get_enum(body, "tdMode", TD_MODES, &idx, false, e)) > 1) {
        return rc;
    }
    o->td_given = rc == 0;
    o->isolated = rc == 0 && idx == 1;
    return 0;
}

int dash_order_parse(const at_host *h, const json_t *body, dash_order_req *o, dash_err *e)
{
    memset(o, 0, sizeof(*o));
    int rc, idx = 0;
    if ((rc = check_keys(body, ORDER_KEYS, e)) != 0 ||
        (rc = get_id(body, "account", o->account, sizeof(o->account), e)) != 0 ||
        (rc = get_id(body, "instId", o->inst_id, sizeof(o->inst_id), e)) != 0) {
        return rc;
    }
    if ((rc = get_enum(body, "side", SIDES, &idx, true, e)) != 0) {
        return rc;
    }
    o->side = idx == 0 ? AT_SIDE_BUY : AT_SIDE_SELL;
    if ((rc = get_enum(body, "ordType", ORD_TYPES, &idx, true, e)) != 0) {
        return rc;
    }
    o->ord_type = idx == 0 ? AT_ORDT_MARKET : AT_ORDT_LIMIT;
    if ((rc = get_pos_td(body, o, e)) != 0) {
        return rc;
    }
    if ((rc = get_dec(h, body, "sz", &o->sz, e)) > 1) {
        return rc;
    }
    if (rc == 1) {
        return dash_fail(e, 400, "missing", "sz", "sz (contracts) is required");
    }
    if ((rc = get_dec(h, body, "px", &o->px, e)) > 1) {
        return rc;
    }
    if (o->ord_type == AT_ORDT_LIMIT && rc == 1) {
        return dash_fail(e, 400, "missing", "px", "a limit order needs px");
    }
    if (o->ord_type == AT_ORDT_MARKET && rc == 0) {
        return dash_fail(e, 400, "bad_value", "px",
                         "px is for limit orders; a market order takes the book's price");
    }
    if ((rc = get_dec(h, body, "tpTriggerPx", &o->tp, e)) > 1 ||
        (rc = get_dec(h, body, "slTriggerPx", &o->sl, e)) > 1 ||
        (rc = get_dec(h, body, "lever", &o->lever, e)) > 1) {
        return rc;
    }
    const json_t *ro = given(body, "reduceOnly");
    if (ro && !json_is_boolean(ro)) {
        return dash_fail(e, 400, "bad_value", "reduceOnly", "reduceOnly must be true or false");
    }
    o->reduce_only = ro && json_is_true(ro);
    if ((rc = get_ttl(body, &o->ttl_ms, e)) != 0) {
        return rc;
    }
    if (o->ttl_ms && o->ord_type != AT_ORDT_LIMIT) {
        return dash_fail(e, 400, "bad_value", "ttl",
                         "a ttl is for limit orders (a market order does not rest)");
    }
    return 0;
}

int dash_close_parse(const json_t *body, dash_order_req *o, dash_err *e)
{
    memset(o, 0, sizeof(*o));
    int rc;
    if ((rc = check_keys(body, CLOSE_KEYS, e)) != 0 ||
        (rc = get_id(body, "account", o->account, sizeof(o->account), e)) != 0 ||
        (rc = get_id(body, "instId", o->inst_id, sizeof(o->inst_id), e)) != 0) {
        return rc;
    }
    return get_pos_td(body, o, e);
}

/* `v` a whole multiple of `step` (> 0)? */
static bool on_step(const at_host *h, at_dec v, at_dec step)
{
    at_dec r;
    return step.m <= 0 ||
           (h->dec_round_step(v, step, AT_ROUND_DOWN, &r) == AT_OK && h->dec_cmp(r, v) == 0);
}

static const char *txt(const at_host *h, at_dec d, char buf[AT_DEC_STRLEN])
{
    h->dec_format(d, buf);
    return buf;
}

static int check_exits(const at_host *h, const dash_order_req *o, const dash_inst_spec *spec,
                       at_dec ref, dash_err *e)
{
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    if (!o->tp.m && !o->sl.m) {
        return 0;
    }
    if (!at_place_is_entry(o->side, o->pos_side, o->reduce_only)) {
        return dash_fail(e, 400, "bad_value", o->tp.m ? "tpTriggerPx" : "slTriggerPx",
                         "take-profit and stop-loss go with an entry, not with an order that "
                         "reduces a position");
    }
    bool buy = o->side == AT_SIDE_BUY;
    const struct {
        at_dec px;
        const char *key, *what;
        int want; /* sign of px - ref for a buy */
    } x[] = {{o->tp, "tpTriggerPx", "take-profit", 1}, {o->sl, "slTriggerPx", "stop-loss", -1}};
    for (size_t i = 0; i < 2; i++) {
        if (!x[i].px.m) {
            continue;
        }
        if (!on_step(h, x[i].px, spec->tick_sz)) {
            return dash_fail(e, 400, "bad_value", x[i].key,
                             "%s %s is not on the price tick %s of %s", x[i].key,
                             txt(h, x[i].px, a), txt(h, spec->tick_sz, b), o->inst_id);
        }
        if (ref.m <= 0) {
            continue;
        }
        int c = h->dec_cmp(x[i].px, ref);
        int want = buy ? x[i].want : -x[i].want;
        if (c == 0 || (c > 0) != (want > 0)) {
            return dash_fail(e, 400, "bad_value", x[i].key,
                             "the %s of a %s must be %s the price (%s is not %s %s)", x[i].what,
                             buy ? "buy" : "sell", want > 0 ? "above" : "below", txt(h, x[i].px, a),
                             want > 0 ? "above" : "below", txt(h, ref, b));
        }
    }
    return 0;
}

int dash_order_check(const at_host *h, const dash_order_req *o, const dash_inst_spec *spec,
                     bool hedge, at_dec ref_px, dash_err *e)
{
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    if (!on_step(h, o->sz, spec->lot_sz)) {
        return dash_fail(e, 400, "bad_value", "sz",
                         "sz %s is not a multiple of the lot size %s of %s (contracts)",
                         txt(h, o->sz, a), txt(h, spec->lot_sz, b), o->inst_id);
    }
    if (spec->min_sz.m > 0 && h->dec_cmp(o->sz, spec->min_sz) < 0) {
        return dash_fail(e, 400, "bad_value", "sz",
                         "sz %s is below the minimum %s of %s (contracts)", txt(h, o->sz, a),
                         txt(h, spec->min_sz, b), o->inst_id);
    }
    if (o->ord_type == AT_ORDT_LIMIT && !on_step(h, o->px, spec->tick_sz)) {
        return dash_fail(e, 400, "bad_value", "px", "px %s is not on the price tick %s of %s",
                         txt(h, o->px, a), txt(h, spec->tick_sz, b), o->inst_id);
    }
    if (hedge && o->pos_side == AT_POS_NET) {
        return dash_fail(e, 400, o->pos_side_given ? "bad_value" : "missing", "posSide",
                         "%s trades in long/short mode: posSide must be long or short", o->account);
    }
    if (!hedge && o->pos_side != AT_POS_NET) {
        return dash_fail(e, 400, "bad_value", "posSide",
                         "%s trades in net mode: leave posSide out (or net); a reduction is "
                         "reduceOnly",
                         o->account);
    }
    if (hedge && o->reduce_only && at_place_is_entry(o->side, o->pos_side, true)) {
        bool buy = o->side == AT_SIDE_BUY;
        return dash_fail(e, 400, "bad_value", "reduceOnly",
                         "a reduceOnly %s with posSide %s would open a position in long/short "
                         "mode (a reduction of the %s is a %s)",
                         buy ? "buy" : "sell", buy ? "long" : "short", buy ? "long" : "short",
                         buy ? "sell" : "buy");
    }
    if (o->lever.m > 0 && h->dec_cmp(o->lever, (at_dec){1, 0}) < 0) {
        return dash_fail(e, 400, "bad_value", "lever", "lever %s is below 1", txt(h, o->lever, a));
    }
    if (o->lever.m > 0 && spec->max_lever.m > 0 && h->dec_cmp(o->lever, spec->max_lever) > 0) {
        return dash_fail(e, 400, "bad_value", "lever", "lever %s is over the maximum %s of %s",
                         txt(h, o->lever, a), txt(h, spec->max_lever, b), o->inst_id);
    }
    at_dec ref = o->ord_type == AT_ORDT_LIMIT ? o->px : ref_px;
    return check_exits(h, o, spec, ref, e);
}

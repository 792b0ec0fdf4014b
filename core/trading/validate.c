/* Validation of an AI answer (rules in validate.h). The JSON object is found
 * by one pass over the text that pairs braces outside JSON strings: the
 * top-level {…} spans are disjoint, so parsing each costs O(n) in all, and
 * fences, <think> leftovers and prose around them are simply not part of
 * any span that parses. */
#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decimal.h"
#include "sizing.h"

static const char *const ACTIONS[] = {"hold", "open_long", "open_short", "close_long",
                                      "close_short"};

const char *vd_action_name(at_action a)
{
    return (unsigned)a <= AT_ACT_CLOSE_SHORT ? ACTIONS[a] : "?";
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return AT_EINVAL;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* ------------------------------------------------------------ stripping */

static const char *find(const char *s, size_t n, const char *pat)
{
    size_t k = strlen(pat);
    for (size_t i = 0; k <= n && i <= n - k; i++) {
        if (memcmp(s + i, pat, k) == 0) {
            return s + i;
        }
    }
    return NULL;
}

static void note(char *buf, size_t n, const char *what)
{
    if (strstr(buf, what)) {
        return;
    }
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s", len ? ", " : "", what);
}

/* The text with <think>…</think> blocks removed into `out` (capacity >= n + 1).
 * A lone </think> (servers that strip the opening tag) drops what precedes
 * it; an unclosed <think> leaves no answer. */
static int strip_think(const char *s, size_t n, char *out, size_t *outn, char *stripped,
                       size_t slen, char *why, size_t whylen)
{
    const char *end = s + n;
    const char *close = NULL;
    for (const char *p = s; (p = find(p, (size_t)(end - p), "</think>")) != NULL; p += 8) {
        close = p;
    }
    const char *open = find(s, n, "<think>");
    if (close && (!open || open > close)) {
        /* Everything before the last lone </think> is reasoning. */
        note(stripped, slen, "<think> block");
        s = close + 8;
        n = (size_t)(end - s);
    }
    size_t k = 0;
    const char *p = s;
    while (p < end) {
        const char *o = find(p, (size_t)(end - p), "<think>");
        if (!o) {
            memcpy(out + k, p, (size_t)(end - p));
            k += (size_t)(end - p);
            break;
        }
        memcpy(out + k, p, (size_t)(o - p));
        k += (size_t)(o - p);
        const char *c = find(o + 7, (size_t)(end - o - 7), "</think>");
        if (!c) {
            return fail(why, whylen, "unterminated <think> block: no answer after the reasoning");
        }
        note(stripped, slen, "<think> block");
        p = c + 8;
    }
    out[k] = '\0';
    *outn = k;
    return AT_OK;
}

typedef struct span {
    size_t start, end; /* [start, end] inclusive of both braces */
} span;

#define MAX_SPANS 64

/* Top-level {…} spans, braces paired outside JSON strings. Returns how many
 * (at most MAX_SPANS; later ones are ignored); *open_left when a brace never
 * closed (a truncated answer). */
static size_t find_spans(const char *s, size_t n, span *sp, bool *open_left)
{
    size_t ns = 0, depth = 0, start = 0;
    bool str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (depth == 0) {
            if (c == '{') {
                depth = 1;
                start = i;
                str = esc = false;
            }
            continue;
        }
        if (str) {
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = true;
            } else if (c == '"') {
                str = false;
            }
            continue;
        }
        if (c == '"') {
            str = true;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0 && ns < MAX_SPANS) {
            sp[ns++] = (span){start, i};
        }
    }
    *open_left = depth > 0;
    return ns;
}

/* ------------------------------------------------------------ numbers */

/* A JSON number as the decimal its text most likely was: integers exactly,
 * reals as the shortest decimal that reads back as the same double. */
static int number_dec(const json_t *v, at_dec *out)
{
    if (json_is_integer(v)) {
        *out = (at_dec){(int64_t)json_integer_value(v), 0};
        return AT_OK;
    }
    double x = json_real_value(v);
    if (!isfinite(x)) {
        return AT_ERANGE;
    }
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*g", p, x);
        if (strtod(buf, NULL) == x) {
            break;
        }
    }
    return at_dec_parse(buf, strlen(buf), out);
}

/* ------------------------------------------------------------ fields */

typedef struct ctx {
    const vd_limits *lim;
    char *why;
    size_t whylen;
    size_t idx;
} ctx;

/* An optional number field: AT_OK and *has when present, AT_EINVAL with the
 * reason when of the wrong type or out of range. `required` turns absence
 * (or null) into an error. */
static int get_num(ctx *c, const json_t *item, const char *key, bool required, at_dec *out,
                   bool *has)
{
    const json_t *v = json_object_get(item, key);
    *has = false;
    *out = (at_dec){0, 0};
    if (!v || json_is_null(v)) {
        if (required) {
            return v ? fail(c->why, c->whylen, "decisions[%zu].%s must be a number, got null",
                            c->idx, key)
                     : fail(c->why, c->whylen, "decisions[%zu].%s is missing", c->idx, key);
        }
        return AT_OK;
    }
    if (!json_is_number(v)) {
        return fail(c->why, c->whylen, "decisions[%zu].%s must be a number, got %s", c->idx, key,
                    type_name(v));
    }
    if (number_dec(v, out) != AT_OK) {
        return fail(c->why, c->whylen, "decisions[%zu].%s %.17g is out of range", c->idx, key,
                    json_number_value(v));
    }
    *has = true;
    return AT_OK;
}

static int get_text(ctx *c, const json_t *item, const char *key, char *out, size_t cap)
{
    const json_t *v = json_object_get(item, key);
    out[0] = '\0';
    if (!v || json_is_null(v)) {
        return AT_OK;
    }
    if (!json_is_string(v)) {
        return fail(c->why, c->whylen, "decisions[%zu].%s must be a string, got %s", c->idx, key,
                    type_name(v));
    }
    size_t n = json_string_length(v);
    if (n >= cap) {
        return fail(c->why, c->whylen, "decisions[%zu].%s is longer than %d bytes", c->idx, key,
                    VD_TEXT_MAX);
    }
    if (memchr(json_string_value(v), '\0', n)) {
        return fail(c->why, c->whylen, "decisions[%zu].%s holds a NUL character", c->idx, key);
    }
    memcpy(out, json_string_value(v), n + 1);
    return AT_OK;
}

static int get_symbol(ctx *c, const json_t *item, size_t *sym)
{
    const json_t *v = json_object_get(item, "symbol");
    if (!v) {
        return fail(c->why, c->whylen, "decisions[%zu].symbol is missing", c->idx);
    }
    if (!json_is_string(v)) {
        return fail(c->why, c->whylen, "decisions[%zu].symbol must be a string, got %s", c->idx,
                    type_name(v));
    }
    const char *s = json_string_value(v);
    for (size_t i = 0; i < c->lim->nsymbols; i++) {
        if (strcmp(s, c->lim->symbols[i]) == 0) {
            *sym = i;
            return AT_OK;
        }
    }
    char list[160] = "";
    for (size_t i = 0; i < c->lim->nsymbols; i++) {
        size_t k = strlen(list);
        snprintf(list + k, sizeof(list) - k, "%s%s", i ? ", " : "", c->lim->symbols[i]);
    }
    return fail(c->why, c->whylen,
                "decisions[%zu].symbol '%.40s' is not one of this trader's symbols (%s)", c->idx, s,
                list);
}

static int get_action(ctx *c, const json_t *item, at_action *a)
{
    const json_t *v = json_object_get(item, "action");
    if (!v) {
        return fail(c->why, c->whylen, "decisions[%zu].action is missing", c->idx);
    }
    if (!json_is_string(v)) {
        return fail(c->why, c->whylen, "decisions[%zu].action must be a string, got %s", c->idx,
                    type_name(v));
    }
    for (int k = 0; k <= AT_ACT_CLOSE_SHORT; k++) {
        if (strcmp(json_string_value(v), ACTIONS[k]) == 0) {
            *a = (at_action)k;
            return AT_OK;
        }
    }
    return fail(c->why, c->whylen,
                "decisions[%zu].action '%.40s' is not one of open_long, open_short, close_long, "
                "close_short, hold",
                c->idx, json_string_value(v));
}

/* take_profit / stop_loss of an open: positive, on the right side of px. */
static int check_exit(ctx *c, const char *key, at_dec v, at_dec px, bool is_long, bool is_tp)
{
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    at_dec_text(v, a);
    if (v.m <= 0) {
        return fail(c->why, c->whylen, "decisions[%zu].%s %s must be above 0", c->idx, key, a);
    }
    if (px.m <= 0) {
        return AT_OK; /* no price known: sizing refuses the item */
    }
    if (!sz_exit_ok(v, px, is_long, is_tp)) {
        /* long tp and short sl sit above the price */
        return fail(c->why, c->whylen, "decisions[%zu].%s %s is not %s the price %s for a %s",
                    c->idx, key, a, is_long == is_tp ? "above" : "below", at_dec_text(px, b),
                    is_long ? "long" : "short");
    }
    return AT_OK;
}

static int check_open(ctx *c, const json_t *item, vd_item *it)
{
    const vd_limits *lim = c->lim;
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    bool has;
    int rc;
    if ((rc = get_num(c, item, "size_pct", true, &it->size_pct, &has)) != AT_OK) {
        return rc;
    }
    at_dec_text(it->size_pct, a);
    if (it->size_pct.m <= 0 || at_dec_cmp(it->size_pct, (at_dec){1, 0}) > 0) {
        return fail(c->why, c->whylen, "decisions[%zu].size_pct %s is outside (0, 1]", c->idx, a);
    }
    if (at_dec_cmp(it->size_pct, lim->max_size_pct) > 0) {
        at_dec_text(lim->max_size_pct, b);
        return fail(c->why, c->whylen,
                    "decisions[%zu].size_pct %s is over this trader's max_size_pct %s", c->idx, a,
                    b);
    }
    if ((rc = get_num(c, item, "leverage", true, &it->leverage, &has)) != AT_OK) {
        return rc;
    }
    at_dec_text(it->leverage, a);
    at_dec_text(lim->max_leverage, b);
    at_dec whole;
    if (at_dec_round_step(it->leverage, (at_dec){1, 0}, AT_ROUND_DOWN, &whole) != AT_OK ||
        at_dec_cmp(whole, it->leverage) != 0 || it->leverage.m < 1) {
        return fail(c->why, c->whylen,
                    "decisions[%zu].leverage %s must be a whole number from 1 to %s", c->idx, a, b);
    }
    if (at_dec_cmp(it->leverage, lim->max_leverage) > 0) {
        return fail(c->why, c->whylen,
                    "decisions[%zu].leverage %s is over this trader's max_leverage %s", c->idx, a,
                    b);
    }
    it->leverage = at_dec_normalize(whole);
    bool is_long = it->action == AT_ACT_OPEN_LONG;
    at_dec px = lim->prices ? lim->prices[it->sym] : (at_dec){0, 0};
    if ((rc = get_num(c, item, "take_profit", false, &it->take_profit, &has)) != AT_OK ||
        (has && (rc = check_exit(c, "take_profit", it->take_profit, px, is_long, true)) != AT_OK)) {
        return rc;
    }
    if ((rc = get_num(c, item, "stop_loss", false, &it->stop_loss, &has)) != AT_OK ||
        (has && (rc = check_exit(c, "stop_loss", it->stop_loss, px, is_long, false)) != AT_OK)) {
        return rc;
    }
    if (!it->reason[0]) {
        return fail(c->why, c->whylen, "decisions[%zu].reason is missing (an entry needs one)",
                    c->idx);
    }
    return AT_OK;
}

static int check_item(ctx *c, const json_t *item, vd_item *it)
{
    if (!json_is_object(item)) {
        return fail(c->why, c->whylen, "decisions[%zu] must be an object, got %s", c->idx,
                    type_name(item));
    }
    memset(it, 0, sizeof(*it));
    it->confidence = NAN;
    int rc;
    if ((rc = get_symbol(c, item, &it->sym)) != AT_OK ||
        (rc = get_action(c, item, &it->action)) != AT_OK ||
        (rc = get_text(c, item, "reason", it->reason, sizeof(it->reason))) != AT_OK ||
        (rc = get_text(c, item, "invalidation", it->invalidation, sizeof(it->invalidation))) !=
            AT_OK) {
        return rc;
    }
    at_dec conf;
    bool has;
    if ((rc = get_num(c, item, "confidence", false, &conf, &has)) != AT_OK) {
        return rc;
    }
    if (has) {
        char a[AT_DEC_STRLEN];
        at_dec_text(conf, a);
        if (conf.m < 0 || at_dec_cmp(conf, (at_dec){1, 0}) > 0) {
            return fail(c->why, c->whylen, "decisions[%zu].confidence %s is outside [0, 1]", c->idx,
                        a);
        }
        it->confidence = at_dec_to_double(conf);
    }
    switch (it->action) {
    case AT_ACT_OPEN_LONG:
    case AT_ACT_OPEN_SHORT:
        return check_open(c, item, it);
    case AT_ACT_CLOSE_LONG:
    case AT_ACT_CLOSE_SHORT: {
        if ((rc = get_num(c, item, "size_pct", true, &it->size_pct, &has)) != AT_OK) {
            return rc;
        }
        char a[AT_DEC_STRLEN];
        at_dec_text(it->size_pct, a);
        if (it->size_pct.m <= 0 || at_dec_cmp(it->size_pct, (at_dec){1, 0}) > 0) {
            return fail(c->why, c->whylen,
                        "decisions[%zu].size_pct %s is outside (0, 1] (the part of the position "
                        "to close)",
                        c->idx, a);
        }
        return AT_OK;
    }
    default:
        return AT_OK;
    }
}

/* ------------------------------------------------------------ the object */

static int check_object(const json_t *root, const vd_limits *lim, vd_decision *out, char *why,
                        size_t whylen)
{
    const json_t *list = json_object_get(root, "decisions");
    if (!json_is_array(list)) {
        return fail(why, whylen, "\"decisions\" must be an array, got %s", type_name(list));
    }
    size_t n = json_array_size(list);
    if (n > AT_DECISION_MAX) {
        return fail(why, whylen, "%zu decisions: at most %d", n, AT_DECISION_MAX);
    }
    ctx c = {lim, why, whylen, 0};
    for (size_t i = 0; i < n; i++) {
        c.idx = i;
        int rc = check_item(&c, json_array_get(list, i), &out->items[i]);
        if (rc != AT_OK) {
            return rc;
        }
        for (size_t k = 0; k < i; k++) {
            if (out->items[k].sym == out->items[i].sym) {
                return fail(why, whylen, "decisions[%zu] is a second decision for %s", i,
                            lim->symbols[out->items[i].sym]);
            }
        }
    }
    out->n = n;
    return AT_OK;
}

int vd_parse(const char *text, size_t len, const vd_limits *lim, vd_decision *out, char *why,
             size_t whylen)
{
    memset(out, 0, offsetof(vd_decision, items));
    out->stripped[0] = '\0';
    why[0] = '\0';
    if (len > VD_ANSWER_MAX) {
        return fail(why, whylen, "answer over %d bytes", VD_ANSWER_MAX);
    }
    char *buf = malloc(len + 1);
    if (!buf) {
        return fail(why, whylen, "out of memory");
    }
    size_t n = 0;
    int rc = strip_think(text, len, buf, &n, out->stripped, sizeof(out->stripped), why, whylen);
    if (rc != AT_OK) {
        goto done;
    }
    span sp[MAX_SPANS];
    bool open_left = false;
    size_t ns = find_spans(buf, n, sp, &open_left);
    json_t *found = NULL;
    size_t nfound = 0, nobjects = 0, first_bad = SIZE_MAX, at = 0;
    json_error_t first_err;
    for (size_t i = 0; i < ns; i++) {
        json_error_t je;
        json_t *v =
            json_loadb(buf + sp[i].start, sp[i].end - sp[i].start + 1, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
            if (first_bad == SIZE_MAX) {
                first_bad = i;
                first_err = je;
            }
            continue;
        }
        nobjects++;
        if (json_object_get(v, "decisions") && ++nfound == 1) {
            found = v;
            at = i;
            continue;
        }
        json_decref(v);
    }
    if (nfound > 1) {
        rc = fail(why, whylen, "%zu JSON objects with \"decisions\" in the answer: which one?",
                  nfound);
    } else if (nfound == 0 && nobjects > 0) {
        rc = fail(why, whylen, "the JSON object has no \"decisions\" array");
    } else if (nfound == 0 && first_bad != SIZE_MAX) {
        rc = fail(why, whylen, "not valid JSON at byte %zu of the object: %s",
                  (size_t)first_err.position, first_err.text);
    } else if (nfound == 0) {
        rc = fail(why, whylen,
                  open_left ? "the JSON object is not complete (cut off?)"
                            : "no JSON object in the answer");
    } else {
        /* What was around the object: a fence (its backticks and "json"
         * tag), or other text. */
        size_t s = sp[at].start, e = sp[at].end;
        bool fence = find(buf, n, "```") != NULL;
        if (fence) {
            note(out->stripped, sizeof(out->stripped), "code fence");
        }
        for (size_t i = 0; i < n; i++) {
            bool outside = i < s || i > e;
            bool blank = buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t';
            if (outside && !blank && !(fence && buf[i] == '`')) {
                /* A fence's own "json" tag counts as part of the fence. */
                if (fence && i + 4 <= n && memcmp(buf + i, "json", 4) == 0 && i >= 3 &&
                    memcmp(buf + i - 3, "```", 3) == 0) {
                    i += 3;
                    continue;
                }
                note(out->stripped, sizeof(out->stripped), "text around the JSON");
                break;
            }
        }
        rc = check_object(found, lim, out, why, whylen);
    }
    json_decref(found);
done:
    free(buf);
    if (rc != AT_OK) {
        out->n = 0;
    }
    return rc;
}

int vd_reply(const at_ai_reply *r, const vd_limits *lim, vd_decision *out, char *why, size_t whylen)
{
    memset(out, 0, offsetof(vd_decision, items));
    out->stripped[0] = '\0';
    if (r->err != AT_OK) {
        return fail(why, whylen, "provider error: %.200s",
                    r->error && r->error[0] ? r->error : "no answer");
    }
    if (r->refusal && r->refusal[0]) {
        return fail(why, whylen, "the model refused: %.200s", r->refusal);
    }
    if (r->finish_reason && strcmp(r->finish_reason, "length") == 0) {
        return fail(why, whylen, "the answer was cut off (finish_reason length)");
    }
    if (r->finish_reason && r->finish_reason[0] && strcmp(r->finish_reason, "stop") != 0) {
        return fail(why, whylen, "the answer did not finish normally (finish_reason %.40s)",
                    r->finish_reason);
    }
    if (!r->content || !r->content[0]) {
        return fail(why, whylen, "empty answer (no content)");
    }
    return vd_parse(r->content, strlen(r->content), lim, out, why, whylen);
}

/* ------------------------------------------------------------ JSON out */

static bool put_dec(json_t *o, const char *k, at_dec d)
{
    char s[AT_DEC_STRLEN];
    return at_dec_format(d, s) > 0 && json_object_set_new(o, k, json_string(s)) == 0;
}

char *vd_to_json(const vd_decision *d, const vd_limits *lim)
{
    json_t *root = json_object(), *list = json_array();
    bool ok = root && list && json_object_set(root, "decisions", list) == 0;
    for (size_t i = 0; ok && i < d->n; i++) {
        const vd_item *it = &d->items[i];
        json_t *o = json_object();
        ok = o && json_array_append_new(list, o) == 0;
        ok = ok && json_object_set_new(o, "symbol", json_string(lim->symbols[it->sym])) == 0;
        ok = ok && json_object_set_new(o, "action", json_string(vd_action_name(it->action))) == 0;
        if (ok && it->action != AT_ACT_HOLD) {
            ok = put_dec(o, "size_pct", it->size_pct);
        }
        if (ok && it->leverage.m) {
            ok = put_dec(o, "leverage", it->leverage);
        }
        if (ok && it->take_profit.m) {
            ok = put_dec(o, "take_profit", it->take_profit);
        }
        if (ok && it->stop_loss.m) {
            ok = put_dec(o, "stop_loss", it->stop_loss);
        }
        if (ok && !isnan(it->confidence)) {
            ok = json_object_set_new(o, "confidence", json_real(it->confidence)) == 0;
        }
        if (ok && it->reason[0]) {
            ok = json_object_set_new(o, "reason", json_string(it->reason)) == 0;
        }
        if (ok && it->invalidation[0]) {
            ok = json_object_set_new(o, "invalidation", json_string(it->invalidation)) == 0;
        }
    }
    char *s =
        ok ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(list);
    json_decref(root);
    return s;
}

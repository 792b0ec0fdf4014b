/* Threshold signals with hysteresis: rule parsing, per-stream resolution of
 * overrides, the edge-triggered state machine and the salience score (the
 * formula is documented in ta_signal.h). */
#include "ta_signal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *item, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "'%s': ", item);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static const char *skip_ws(const char *p)
{
    while (isspace((unsigned char)*p)) {
        p++;
    }
    return p;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* A finite number at *p; advances *p past it. */
static bool parse_num(const char **p, double *out)
{
    const char *s = skip_ws(*p);
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v)) {
        return false;
    }
    *out = v;
    *p = skip_ws(end);
    return true;
}

/* NAME or |NAME| followed by the comparison; fills name and op. */
static int parse_lhs(const char **pp, const char *item, ta_sig_rule *out, char *err, size_t errlen)
{
    const char *p = skip_ws(*pp);
    bool abs_bar = *p == '|';
    if (abs_bar) {
        p = skip_ws(p + 1);
    }
    size_t n = 0;
    while (name_char(p[n])) {
        n++;
    }
    if (n == 0) {
        return fail(err, errlen, item, "expected an indicator name");
    }
    if (n >= sizeof(out->name)) {
        return fail(err, errlen, item, "indicator name longer than %zu characters",
                    sizeof(out->name) - 1);
    }
    memcpy(out->name, p, n);
    out->name[n] = '\0';
    p = skip_ws(p + n);
    if (abs_bar) {
        if (*p != '|') {
            return fail(err, errlen, item, "missing closing '|' after %s", out->name);
        }
        p = skip_ws(p + 1);
    }
    if (*p == '>') {
        out->op = abs_bar ? TA_SIG_ABS : TA_SIG_GT;
    } else if (*p == '<' && !abs_bar) {
        out->op = TA_SIG_LT;
    } else {
        return fail(err, errlen, item,
                    abs_bar ? "expected '>' after |%s| (|NAME|>ENTER/EXIT)"
                            : "expected '>' or '<' after %s (NAME>ENTER/EXIT)",
                    out->name);
    }
    *pp = p + 1;
    return 0;
}

int ta_sig_parse(const char *item, ta_sig_rule *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!item) {
        return fail(err, errlen, "", "empty rule");
    }
    const char *p = skip_ws(item);
    const char *colon = strchr(p, ':');
    if (colon) {
        const char *end = colon;
        while (end > p && isspace((unsigned char)end[-1])) {
            end--;
        }
        size_t n = (size_t)(end - p);
        if (n == 0) {
            return fail(err, errlen, item, "empty instrument before ':'");
        }
        if (n >= sizeof(out->inst)) {
            return fail(err, errlen, item, "instrument longer than %zu characters",
                        sizeof(out->inst) - 1);
        }
        memcpy(out->inst, p, n);
        out->inst[n] = '\0';
        p = colon + 1;
    }
    if (parse_lhs(&p, item, out, err, errlen) != 0) {
        return -1;
    }
    if (!parse_num(&p, &out->enter)) {
        return fail(err, errlen, item, "expected a number after the comparison");
    }
    if (*p != '/') {
        return fail(err, errlen, item, "missing exit level (ENTER/EXIT, e.g. %s%s%s%g/%g)",
                    out->op == TA_SIG_ABS ? "|" : "", out->name,
                    out->op == TA_SIG_ABS  ? "|>"
                    : out->op == TA_SIG_GT ? ">"
                                           : "<",
                    out->enter, out->enter);
    }
    p++;
    if (!parse_num(&p, &out->exit)) {
        return fail(err, errlen, item, "expected an exit level after '/'");
    }
    if (*p) {
        return fail(err, errlen, item, "unexpected '%s' after the exit level", p);
    }
    if ((out->op == TA_SIG_GT || out->op == TA_SIG_ABS) && out->exit > out->enter) {
        return fail(err, errlen, item, "exit level %g must not be above the enter level %g",
                    out->exit, out->enter);
    }
    if (out->op == TA_SIG_LT && out->exit < out->enter) {
        return fail(err, errlen, item, "exit level %g must not be below the enter level %g",
                    out->exit, out->enter);
    }
    if (out->op == TA_SIG_ABS && out->exit < 0) {
        return fail(err, errlen, item, "levels of |%s| must not be negative", out->name);
    }
    return 0;
}

int ta_sig_rules_add(ta_sig_rules *rs, const char *item, char *err, size_t errlen)
{
    if (rs->n >= TA_SIG_MAX) {
        return fail(err, errlen, item ? item : "", "more than %d rules", TA_SIG_MAX);
    }
    ta_sig_rule r;
    if (ta_sig_parse(item, &r, err, errlen) != 0) {
        return -1;
    }
    for (size_t i = 0; i < rs->n; i++) {
        const ta_sig_rule *o = &rs->r[i];
        if (o->op == r.op && strcmp(o->name, r.name) == 0 && strcmp(o->inst, r.inst) == 0) {
            return fail(err, errlen, item, "same indicator and comparison as an earlier rule");
        }
    }
    rs->r[rs->n++] = r;
    return 0;
}

static bool same_slot(const ta_sig_rule *a, const ta_sig_rule *b)
{
    return a->op == b->op && strcmp(a->name, b->name) == 0;
}

void ta_sig_stream_init(ta_sig_stream *st, const ta_sig_rules *rs, const char *inst)
{
    memset(st, 0, sizeof(*st));
    if (!inst) {
        inst = "";
    }
    for (size_t i = 0; i < rs->n; i++) {
        const ta_sig_rule *r = &rs->r[i];
        if (r->inst[0] && strcmp(r->inst, inst) != 0) {
            continue; /* someone else's override */
        }
        if (!r->inst[0] && inst[0]) {
            /* A generic rule yields to this instrument's override. */
            bool overridden = false;
            for (size_t j = 0; j < rs->n && !overridden; j++) {
                overridden = strcmp(rs->r[j].inst, inst) == 0 && same_slot(&rs->r[j], r);
            }
            if (overridden) {
                continue;
            }
        }
        st->rule[st->n++] = (uint8_t)i;
    }
}

size_t ta_sig_inside(const ta_sig_stream *st)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        k += st->inside[i];
    }
    return k;
}

const char *ta_sig_dir_name(ta_sig_op op)
{
    return op == TA_SIG_GT ? "up" : op == TA_SIG_LT ? "down" : "spike";
}

/* Where the value stands against the rule: +1 past ENTER, -1 past EXIT back
 * (out of the zone), 0 in between (the hysteresis band: keep the state). */
static int classify(const ta_sig_rule *r, double v)
{
    switch (r->op) {
    case TA_SIG_GT:
        return v > r->enter ? 1 : v < r->exit ? -1 : 0;
    case TA_SIG_LT:
        return v < r->enter ? 1 : v > r->exit ? -1 : 0;
    case TA_SIG_ABS:
        return fabs(v) > r->enter ? 1 : fabs(v) < r->exit ? -1 : 0;
    }
    return 0;
}

static double salience(const ta_sig_rule *r, double v, size_t k)
{
    double band = fabs(r->enter - r->exit);
    if (band == 0) {
        band = fmax(fabs(r->enter), 1e-12);
    }
    double past = r->op == TA_SIG_GT   ? v - r->enter
                  : r->op == TA_SIG_LT ? r->enter - v
                                       : fabs(v) - r->enter;
    double e = fmax(past, 0) / band;
    double d = 1 - exp(-e);
    double a = k ? (double)(k - 1) / (double)k : 0;
    return 0.4 + 0.4 * d + 0.2 * a;
}

size_t ta_sig_update(ta_sig_stream *st, const ta_sig_rules *rs, ta_sig_lookup get, void *arg,
                     ta_sig_event *out, size_t max)
{
    /* First settle every state, then emit: the agreement term counts the
     * zones as they are after this bar, whatever the rule order. */
    int8_t change[TA_SIG_MAX] = {0};
    double vals[TA_SIG_MAX];
    for (size_t i = 0; i < st->n; i++) {
        const ta_sig_rule *r = &rs->r[st->rule[i]];
        double v = get(arg, r->name);
        vals[i] = v;
        if (isnan(v)) {
            continue;
        }
        int c = classify(r, v);
        if (c > 0 && !st->inside[i]) {
            st->inside[i] = true;
            change[i] = 1;
        } else if (c < 0 && st->inside[i]) {
            st->inside[i] = false;
            change[i] = -1;
        }
    }
    size_t k = ta_sig_inside(st), n = 0;
    for (int pass = -1; pass <= 1; pass += 2) {
        for (size_t i = 0; i < st->n && n < max; i++) {
            if (change[i] != pass) {
                continue;
            }
            const ta_sig_rule *r = &rs->r[st->rule[i]];
            out[n++] = (ta_sig_event){
                .name = r->name,
                .op = r->op,
                .value = vals[i],
                .threshold = pass > 0 ? r->enter : r->exit,
                .salience = pass > 0 ? salience(r, vals[i], k) : 0,
                .entered = pass > 0,
            };
        }
    }
    return n;
}

/* Loading a venue state document (sim.h, venue_state_load; the tables are
 * in persist.c).
 *
 * All or nothing: records are built into a scratch account and swapped into
 * the real one only when every field of every record parsed and made sense.
 * Every refusal names the field ("orders[2].px: \"1,5\" is not a decimal
 * string"), so whoever keeps the document can say what is wrong with it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"

typedef struct loader {
    sim_exchange *x;
    char *err;
    size_t errlen;
} loader;

static int bad(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(loader *ld, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
    return AT_EINVAL;
}

/* A JSON value as shown in a message, shortened. */
static const char *shown(const json_t *v, char buf[48])
{
    if (json_is_string(v)) {
        snprintf(buf, 48, "\"%.40s\"", json_string_value(v));
    } else {
        snprintf(buf, 48, "%s",
                 !v                   ? "nothing"
                 : json_is_object(v)  ? "an object"
                 : json_is_array(v)   ? "an array"
                 : json_is_number(v)  ? "a number"
                 : json_is_boolean(v) ? "a boolean"
                                      : "null");
    }
    return buf;
}

static int parse_dec(loader *ld, const char *path, const json_t *v, at_dec *out)
{
    char b[48];
    const char *s = json_string_value(v);
    if (!s || at_dec_parse(s, json_string_length(v), out) != AT_OK) {
        return bad(ld, "%s: %s is not a decimal string", path, shown(v, b));
    }
    return AT_OK;
}

static int enum_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int load_enum(loader *ld, const char *path, const json_t *v, const char *const *names,
                     size_t n, const char *what, int *out)
{
    char b[48];
    int k = enum_index(names, n, json_string_value(v));
    if (k < 0) {
        return bad(ld, "%s: %s is not %s", path, shown(v, b), what);
    }
    *out = k;
    return AT_OK;
}

/* One field into the record. AT_ENOENT (err set) for an unknown instrument. */
static int load_field(loader *ld, char *base, const pst_field *f, const json_t *obj,
                      const char *where)
{
    char path[160], b[48];
    snprintf(path, sizeof(path), "%s.%s", where, f->key);
    const json_t *v = json_object_get(obj, f->key);
    if (!v) {
        return bad(ld, "%s: missing", path);
    }
    void *p = base + f->off;
    const char *s = json_string_value(v);
    int k = 0, rc;
    switch (f->kind) {
    case F_STR:
        if (!s) {
            return bad(ld, "%s: %s is not a string", path, shown(v, b));
        }
        if (json_string_length(v) >= f->len || strlen(s) != json_string_length(v)) {
            return bad(ld, "%s: %s is longer than %zu characters", path, shown(v, b), f->len - 1);
        }
        memcpy(p, s, json_string_length(v) + 1);
        return AT_OK;
    case F_DEC:
        return parse_dec(ld, path, v, p);
    case F_I64:
    case F_INT:
        if (!json_is_integer(v)) {
            return bad(ld, "%s: %s is not an integer", path, shown(v, b));
        }
        if (f->kind == F_I64) {
            *(int64_t *)p = (int64_t)json_integer_value(v);
            return AT_OK;
        }
        if (json_integer_value(v) < -1000000 || json_integer_value(v) > 1000000) {
            return bad(ld, "%s: %lld is out of range", path, (long long)json_integer_value(v));
        }
        *(int *)p = (int)json_integer_value(v);
        return AT_OK;
    case F_BOOL:
        if (!json_is_boolean(v)) {
            return bad(ld, "%s: %s is not true or false", path, shown(v, b));
        }
        *(bool *)p = json_is_true(v);
        return AT_OK;
    case F_SIDE:
        rc = load_enum(ld, path, v, (const char *const[]){"sell", "buy"}, 2, "buy or sell", &k);
        *(bool *)p = k == 1;
        return rc;
    case F_INST: {
        if (!s) {
            return bad(ld, "%s: %s is not an instrument id", path, shown(v, b));
        }
        sim_inst *in = market_find(ld->x->market, s);
        if (!in) {
            snprintf(ld->err, ld->errlen, "%s: instrument %.40s is not traded by this venue", path,
                     s);
            return AT_ENOENT;
        }
        *(sim_inst **)p = in;
        return AT_OK;
    }
    case F_JSON:
        if (json_is_null(v)) {
            return AT_OK;
        }
        if (!json_is_array(v)) {
            return bad(ld, "%s: %s is not an array or null", path, shown(v, b));
        }
        *(json_t **)p = json_deep_copy(v);
        return *(json_t **)p ? AT_OK : AT_ENOMEM;
    case F_OSTATE:
        rc = load_enum(ld, path, v, PST_ORD_STATES, 4, "an order state", &k);
        *(sim_ord_state *)p = (sim_ord_state)k;
        return rc;
    case F_ASTATE:
        rc = load_enum(ld, path, v, PST_ALGO_STATES, 3, "an algo state", &k);
        *(sim_algo_state *)p = (sim_algo_state)k;
        return rc;
    }
    return bad(ld, "%s: unknown field kind", path);
}

/* Every field of one record. An unknown instrument is reported after the
 * other fields parsed (AT_ENOENT): a malformed record is always an error,
 * and the caller only decides about well-formed ones. */
static int load_record(loader *ld, const pst_list *l, void *rec, const json_t *obj,
                       const char *where)
{
    if (!json_is_object(obj)) {
        return bad(ld, "%s: not an object", where);
    }
    char unknown[256] = "";
    for (size_t i = 0; i < l->nfields; i++) {
        int rc = load_field(ld, rec, &l->fields[i], obj, where);
        if (rc == AT_ENOENT) {
            snprintf(unknown, sizeof(unknown), "%s", ld->err);
        } else if (rc != AT_OK) {
            return rc;
        }
    }
    const char *why = l->check(rec);
    if (why) {
        return bad(ld, "%s: %s", where, why);
    }
    if (unknown[0]) {
        snprintf(ld->err, ld->errlen, "%s", unknown);
        return AT_ENOENT;
    }
    return AT_OK;
}

/* The highest numeric id in use, for the nextId check. */
static void id_max(const char *id, int64_t *max)
{
    char *end;
    long long v = strtoll(id, &end, 10);
    if (*id && !*end && v > *max) {
        *max = v;
    }
}

/* One list into the scratch account, in the stored order. */
static int load_list(loader *ld, const pst_list *l, const json_t *st, sim_acct *t, int64_t *max_id)
{
    const json_t *arr = json_object_get(st, l->key);
    if (!json_is_array(arr)) {
        return bad(ld, "%s: missing or not an array", l->key);
    }
    void *tail = NULL;
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        char where[64];
        snprintf(where, sizeof(where), "%s[%zu]", l->key, i);
        void *rec = calloc(1, l->size);
        if (!rec) {
            return AT_ENOMEM;
        }
        int rc = load_record(ld, l, rec, o, where);
        bool live = rc == AT_ENOENT && l->live && l->live(rec);
        if (rc != AT_OK) {
            l->release(rec);
            if (rc == AT_ENOENT && !live) {
                continue; /* history of an instrument no longer traded: dropped */
            }
            /* a live record on an instrument no longer traded cannot go */
            return rc == AT_ENOENT ? AT_EINVAL : rc;
        }
        if (l->id_off) {
            id_max((const char *)rec + l->id_off, max_id);
        }
        if (tail) {
            pst_set_next(l, tail, rec);
        } else {
            pst_set_head(l, t, rec);
        }
        tail = rec;
    }
    return AT_OK;
}

typedef struct inst_state {
    sim_inst *in;
    size_t idx;
    int64_t next_trade_id, funding_seen_ms;
    at_dec funding_rate_seen;
} inst_state;

static int load_insts(loader *ld, const json_t *st, inst_state *out, size_t *nout)
{
    const json_t *arr = json_object_get(st, "instruments");
    if (!json_is_array(arr)) {
        return bad(ld, "instruments: missing or not an array");
    }
    size_t i, n = 0;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        char where[64], path[96];
        snprintf(where, sizeof(where), "instruments[%zu]", i);
        const json_t *id = json_object_get(o, "instId"), *nt = json_object_get(o, "nextTradeId");
        const json_t *fs = json_object_get(o, "fundingSeenMs");
        if (!json_is_string(id) || !json_is_integer(nt) || !json_is_integer(fs)) {
            return bad(ld, "%s: needs instId (a string), nextTradeId and fundingSeenMs (integers)",
                       where);
        }
        if (json_integer_value(nt) < 1) {
            return bad(ld, "%s.nextTradeId: must be at least 1", where);
        }
        inst_state s = {0};
        snprintf(path, sizeof(path), "%s.fundingRateSeen", where);
        int rc = parse_dec(ld, path, json_object_get(o, "fundingRateSeen"), &s.funding_rate_seen);
        if (rc != AT_OK) {
            return rc;
        }
        size_t ninst = market_ninst(ld->x->market);
        for (size_t k = 0; k < ninst && k < SIM_MAX_INST; k++) {
            sim_inst *in = market_inst(ld->x->market, k);
            if (strcmp(in->inst_id, json_string_value(id)) == 0) {
                s.in = in;
                s.idx = k;
            }
        }
        if (!s.in || n >= SIM_MAX_INST) {
            continue; /* no longer traded: nothing of it to restore */
        }
        s.next_trade_id = (int64_t)json_integer_value(nt);
        s.funding_seen_ms = (int64_t)json_integer_value(fs);
        out[n++] = s;
    }
    *nout = n;
    return AT_OK;
}

static int load_cash(loader *ld, const json_t *cash, sim_acct *t)
{
    if (!json_is_object(cash)) {
        return bad(ld, "cash: missing or not an object like {\"USDT\": \"10000\"}");
    }
    const char *ccy;
    const json_t *amt;
    bool usdt = false;
    json_object_foreach((json_t *)cash, ccy, amt)
    {
        char path[64];
        at_dec d;
        snprintf(path, sizeof(path), "cash.%.40s", ccy);
        int rc = parse_dec(ld, path, amt, &d);
        if (rc != AT_OK) {
            return rc;
        }
        if (strcmp(ccy, "USDT") == 0) {
            t->cash = d;
            usdt = true;
        } else if (d.m != 0) {
            return bad(ld, "%s: only USDT is a margin currency of this venue", path);
        }
    }
    return usdt ? AT_OK : bad(ld, "cash.USDT: missing");
}

static int load_head(loader *ld, const json_t *st, sim_acct *t)
{
    char b[48];
    const json_t *fmt = json_object_get(st, "format");
    if (!json_is_integer(fmt)) {
        return bad(ld, "format: missing or not an integer (not a venue state document)");
    }
    if (json_integer_value(fmt) != VENUE_STATE_FORMAT) {
        return bad(ld, "format %lld: this build reads format %d%s",
                   (long long)json_integer_value(fmt), VENUE_STATE_FORMAT,
                   json_integer_value(fmt) > VENUE_STATE_FORMAT ? " (written by a newer version)"
                                                                : "");
    }
    int k = 0;
    int rc = load_enum(ld, "posMode", json_object_get(st, "posMode"),
                       (const char *const[]){"net_mode", "long_short_mode"}, 2,
                       "net_mode or long_short_mode", &k);
    t->pos_mode = k == 0 ? SIM_NET_MODE : SIM_LONG_SHORT_MODE;
    if (rc == AT_OK) {
        rc = load_cash(ld, json_object_get(st, "cash"), t);
    }
    if (rc == AT_OK) {
        rc = parse_dec(ld, "makerFeeRate", json_object_get(st, "makerFeeRate"), &t->maker_fee_rate);
    }
    if (rc == AT_OK) {
        rc = parse_dec(ld, "takerFeeRate", json_object_get(st, "takerFeeRate"), &t->taker_fee_rate);
    }
    if (rc != AT_OK) {
        return rc;
    }
    const json_t *nid = json_object_get(st, "nextId");
    if (!json_is_integer(nid) || json_integer_value(nid) < 1) {
        return bad(ld, "nextId: %s is not a positive integer", shown(nid, b));
    }
    t->next_id = (int64_t)json_integer_value(nid);
    return AT_OK;
}

int venue_state_load(sim_exchange *x, sim_acct *a, const json_t *state, char *err, size_t errlen)
{
    loader ld = {x, err, errlen};
    err[0] = '\0';
    if (!json_is_object(state)) {
        return bad(&ld, "the state is not a JSON object");
    }
    sim_acct t;
    memset(&t, 0, sizeof(t));
    inst_state *insts = calloc(SIM_MAX_INST, sizeof(*insts));
    size_t ninst = 0;
    int64_t max_id = 0;
    int rc = insts ? load_head(&ld, state, &t) : AT_ENOMEM;
    for (size_t i = 0; rc == AT_OK && i < PST_NLISTS; i++) {
        rc = load_list(&ld, &PST_LISTS[i], state, &t, &max_id);
    }
    if (rc == AT_OK) {
        rc = load_insts(&ld, state, insts, &ninst);
    }
    if (rc == AT_OK && t.next_id <= max_id) {
        rc = bad(&ld, "nextId %lld is not above the ids in use (up to %lld): ids would repeat",
                 (long long)t.next_id, (long long)max_id);
    }
    if (rc != AT_OK) {
        if (rc == AT_ENOMEM) {
            snprintf(err, errlen, "out of memory");
        }
        acct_clear(&t);
        free(insts);
        return rc;
    }
    /* Everything parsed: swap it in. */
    acct_clear(a);
    a->pos_mode = t.pos_mode;
    a->cash = t.cash;
    a->maker_fee_rate = t.maker_fee_rate;
    a->taker_fee_rate = t.taker_fee_rate;
    a->next_id = t.next_id;
    a->levers = t.levers;
    a->positions = t.positions;
    a->orders = t.orders;
    a->fills = t.fills;
    a->algos = t.algos;
    for (size_t i = 0; i < ninst; i++) {
        insts[i].in->next_trade_id = insts[i].next_trade_id;
        x->funding_seen_ms[insts[i].idx] = insts[i].funding_seen_ms;
        x->funding_rate_seen[insts[i].idx] = insts[i].funding_rate_seen;
    }
    free(insts);
    return AT_OK;
}

/* Accounts: loading, ids, leverage settings, and the account/... endpoints
 * set-leverage and set-position-mode (the views are in acct_view.c). Also the
 * small decimal helpers the accounts layer shares (exch.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"

/* ------------------------------------------------------------- helpers */

bool ex_is_multiple(at_dec v, at_dec step)
{
    at_dec r;
    if (step.m <= 0 || at_dec_round_step(v, step, AT_ROUND_DOWN, &r) != AT_OK) {
        return false;
    }
    return at_dec_cmp(r, v) == 0;
}

at_dec ex_mul3(at_dec a, at_dec b, at_dec c, bool *err)
{
    return sim_mul(sim_mul(a, b, AT_DEC_MAX_SCALE, err), c, EX_MONEY_SCALE, err);
}

at_dec ex_mmr_rate(const sim_exchange *x)
{
    at_dec r;
    double v = x->mmr_rate > 0 ? x->mmr_rate : 0.004;
    if (at_dec_from_double(v, 6, &r) != AT_OK) {
        r = sim_dec_lit("0.004");
    }
    return at_dec_normalize(r);
}

at_dec ex_mark(const sim_inst *in)
{
    return in->mark.m > 0 ? in->mark : in->last;
}

at_dec ex_ref_px(const sim_inst *in, const char *px_type)
{
    if (strcmp(px_type, "mark") == 0) {
        return ex_mark(in);
    }
    if (strcmp(px_type, "index") == 0 && in->index.m > 0) {
        return in->index;
    }
    return in->last;
}

int ex_json_bool(const json_t *obj, const char *key, bool *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
        return AT_ENOENT;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return AT_OK;
    }
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = s[0] == 't';
        return AT_OK;
    }
    return AT_EINVAL;
}

bool ex_in_list(const char *list, const char *val)
{
    if (!list) {
        return true;
    }
    size_t n = strlen(val);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, val, n) == 0) {
            return true;
        }
        if (!end) {
            break;
        }
        p = end + 1;
    }
    return false;
}

/* ------------------------------------------------------------- ids */

void acct_new_id(sim_acct *a, char out[SIM_ID_LEN])
{
    snprintf(out, SIM_ID_LEN, "%lld", (long long)a->next_id++);
}

/* ------------------------------------------------------------- loading */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* Defaults shared by loaded and generated accounts. Ids of account number n
 * count up from 2.9e18 + n x 1e16: 19 digits like OKX's current ones,
 * increasing (after/before pagination compares them), unique across
 * accounts. */
static sim_acct *acct_alloc(int n)
{
    sim_acct *a = calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    a->pos_mode = SIM_LONG_SHORT_MODE;
    a->cash = sim_dec_i(10000);
    a->maker_fee_rate = sim_dec_lit("0.0002");
    a->taker_fee_rate = sim_dec_lit("0.0005");
    a->next_id = 2896576259728695296ll + (int64_t)(n % 600) * 10000000000000000ll;
    return a;
}

static void acct_set_uid(sim_acct *a)
{
    /* A stable 17-18 digit uid derived from the key. */
    snprintf(
        a->uid, sizeof(a->uid), "%llu",
        (unsigned long long)(100000000000000000ull + fnv1a(a->api_key) % 800000000000000000ull));
}

static void acct_append(sim_exchange *x, sim_acct *a)
{
    sim_acct **tail = &x->accts;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = a;
}

static int load_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int load_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return AT_ECONFIG;
}

/* A required non-empty string member that fits in `cap` bytes. */
static const char *cred_field(const json_t *o, const char *key, size_t cap, char *why,
                              size_t whylen)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || !*json_string_value(v)) {
        snprintf(why, whylen, "\"%s\" must be a non-empty string", key);
        return NULL;
    }
    if (json_string_length(v) >= cap) {
        snprintf(why, whylen, "\"%s\" is longer than %zu characters", key, cap - 1);
        return NULL;
    }
    return json_string_value(v);
}

static int parse_balances(const json_t *v, sim_acct *a, char *why, size_t whylen)
{
    if (!json_is_object(v)) {
        snprintf(why, whylen, "\"balances\" must be an object like {\"USDT\": \"10000\"}");
        return AT_EINVAL;
    }
    const char *ccy;
    const json_t *amt;
    json_object_foreach((json_t *)v, ccy, amt)
    {
        if (strcmp(ccy, "USDT") != 0) {
            snprintf(why, whylen, "balance \"%s\": only USDT is supported", ccy);
            return AT_EINVAL;
        }
        at_dec d;
        if (sim_json_dec(v, ccy, &d) != AT_OK || d.m < 0 || d.scale > EX_MONEY_SCALE) {
            snprintf(why, whylen,
                     "balance USDT must be a non-negative decimal with at most %d decimals",
                     EX_MONEY_SCALE);
            return AT_EINVAL;
        }
        a->cash = d;
    }
    return AT_OK;
}

static int parse_acct(const json_t *o, sim_acct *a, char *why, size_t whylen)
{
    static const char *const known[] = {"apiKey",  "secretKey", "passphrase", "demo",
                                        "posMode", "balances",  NULL};
    if (!json_is_object(o)) {
        snprintf(why, whylen, "must be an object");
        return AT_EINVAL;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0) {
            i++;
        }
        if (!known[i]) {
            snprintf(why, whylen, "unknown key \"%s\"", key);
            return AT_EINVAL;
        }
    }
    const char *k = cred_field(o, "apiKey", sizeof(a->api_key), why, whylen);
    const char *s = k ? cred_field(o, "secretKey", sizeof(a->secret), why, whylen) : NULL;
    const char *p = s ? cred_field(o, "passphrase", sizeof(a->passphrase), why, whylen) : NULL;
    if (!p) {
        return AT_EINVAL;
    }
    snprintf(a->api_key, sizeof(a->api_key), "%s", k);
    snprintf(a->secret, sizeof(a->secret), "%s", s);
    snprintf(a->passphrase, sizeof(a->passphrase), "%s", p);
    v = json_object_get(o, "demo");
    if (v && !json_is_boolean(v)) {
        snprintf(why, whylen, "\"demo\" must be true or false");
        return AT_EINVAL;
    }
    a->demo = json_is_true(v);
    v = json_object_get(o, "posMode");
    if (v) {
        const char *m = json_string_value(v);
        if (!m || (strcmp(m, "net_mode") != 0 && strcmp(m, "long_short_mode") != 0)) {
            snprintf(why, whylen, "\"posMode\" must be \"net_mode\" or \"long_short_mode\"");
            return AT_EINVAL;
        }
        a->pos_mode = m[0] == 'n' ? SIM_NET_MODE : SIM_LONG_SHORT_MODE;
    }
    v = json_object_get(o, "balances");
    return v ? parse_balances(v, a, why, whylen) : AT_OK;
}

static int load_file(sim_exchange *x, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        return load_fail(err, errlen, "%s:%d: %s", path, je.line, je.text);
    }
    int rc = AT_OK;
    if (!json_is_array(root) || json_array_size(root) == 0) {
        rc = load_fail(err, errlen, "%s: expected a non-empty JSON array of accounts", path);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(root); i++) {
        char why[160];
        sim_acct *a = acct_alloc((int)i);
        if (!a) {
            rc = load_fail(err, errlen, "%s: out of memory", path);
            goto out;
        }
        if (parse_acct(json_array_get(root, i), a, why, sizeof(why)) != AT_OK) {
            free(a);
            rc = load_fail(err, errlen, "%s: account %zu: %s", path, i + 1, why);
            goto out;
        }
        if (acct_by_key(x, a->api_key)) {
            rc = load_fail(err, errlen, "%s: account %zu: apiKey \"%s\" is used twice", path, i + 1,
                           a->api_key);
            free(a);
            goto out;
        }
        acct_set_uid(a);
        acct_append(x, a);
    }
out:
    json_decref(root);
    if (rc != AT_OK) {
        acct_free_all(x);
    }
    return rc;
}

/* The generated demo account: credentials look random but derive from a
 * fixed seed so runs are reproducible. posMode long_short_mode, OKX's
 * default for new derivatives accounts; 10000 USDT. */
static int make_default(sim_exchange *x, char *err, size_t errlen)
{
    static const char hex[] = "0123456789abcdef";
    sim_acct *a = acct_alloc(0);
    if (!a) {
        return load_fail(err, errlen, "accounts: out of memory");
    }
    uint64_t rng = 0x6f6b782d73696dull; /* "okx-sim" */
    for (int i = 0; i < 36; i++) {
        a->api_key[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[sim_rand(&rng) % 16];
    }
    for (int i = 0; i < 32; i++) {
        a->secret[i] = (char)toupper((unsigned char)hex[sim_rand(&rng) % 16]);
    }
    snprintf(a->passphrase, sizeof(a->passphrase), "Sim-%04X%04X",
             (unsigned)(sim_rand(&rng) & 0xffff), (unsigned)(sim_rand(&rng) & 0xffff));
    a->demo = true;
    acct_set_uid(a);
    acct_append(x, a);
    return AT_OK;
}

int acct_load(sim_exchange *x, const char *path, char *err, size_t errlen)
{
    return path ? load_file(x, path, err, errlen) : make_default(x, err, errlen);
}

void acct_clear(sim_acct *a)
{
    while (a->levers) {
        struct sim_lever *l = a->levers;
        a->levers = l->next;
        free(l);
    }
    while (a->orders) {
        sim_order *o = a->orders;
        a->orders = o->next;
        json_decref(o->attach_algo);
        free(o);
    }
    while (a->fills) {
        sim_fill *f = a->fills;
        a->fills = f->next;
        free(f);
    }
    while (a->positions) {
        sim_position *p = a->positions;
        a->positions = p->next;
        free(p);
    }
    while (a->algos) {
        sim_algo *g = a->algos;
        a->algos = g->next;
        algo_free(g);
    }
}

void acct_prune(sim_acct *a)
{
    size_t n = 0;
    for (sim_order **pp = &a->orders; *pp;) {
        sim_order *o = *pp;
        if (!order_is_live(o) && ++n > SIM_KEEP_ORDERS) {
            *pp = o->next; /* nothing points at an order but this list */
            json_decref(o->attach_algo);
            free(o);
            continue;
        }
        pp = &o->next;
    }
    n = 0;
    for (sim_fill **pp = &a->fills; *pp;) {
        if (++n > SIM_KEEP_FILLS) {
            sim_fill *f = *pp;
            *pp = f->next;
            free(f);
            continue;
        }
        pp = &(*pp)->next;
    }
    n = 0;
    for (sim_algo **pp = &a->algos; *pp;) {
        sim_algo *g = *pp;
        if (g->state != SIM_ALGO_LIVE && ++n > SIM_KEEP_ALGOS) {
            *pp = g->next;
            algo_free(g);
            continue;
        }
        pp = &g->next;
    }
}

void acct_free_all(sim_exchange *x)
{
    while (x->accts) {
        sim_acct *a = x->accts;
        x->accts = a->next;
        acct_clear(a);
        free(a);
    }
}

sim_acct *acct_by_key(sim_exchange *x, const char *api_key)
{
    for (sim_acct *a = x->accts; a; a = a->next) {
        if (strcmp(a->api_key, api_key) == 0) {
            return a;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- leverage */

/* OKX keys leverage by instrument and margin mode, and for isolated margin
 * in long_short_mode also by posSide: the key drops posSide otherwise. */
static const char *lever_side(const sim_acct *a, const char *mgn_mode, const char *pos_side)
{
    bool by_side = a->pos_mode == SIM_LONG_SHORT_MODE && strcmp(mgn_mode, "isolated") == 0;
    return by_side && pos_side ? pos_side : "";
}

static struct sim_lever *lever_find(const sim_acct *a, const sim_inst *in, const char *mgn_mode,
                                    const char *side)
{
    for (struct sim_lever *l = a->levers; l; l = l->next) {
        if (l->inst == in && strcmp(l->mgn_mode, mgn_mode) == 0 && strcmp(l->pos_side, side) == 0) {
            return l;
        }
    }
    return NULL;
}

int acct_lever(const sim_acct *a, const sim_inst *in, const char *mgn_mode, const char *pos_side)
{
    const struct sim_lever *l = lever_find(a, in, mgn_mode, lever_side(a, mgn_mode, pos_side));
    return l ? l->lever : 10;
}

static int lever_store(sim_acct *a, sim_inst *in, const char *mgn_mode, const char *side, int lever)
{
    struct sim_lever *l = lever_find(a, in, mgn_mode, side);
    if (!l) {
        l = calloc(1, sizeof(*l));
        if (!l) {
            return AT_ENOMEM;
        }
        l->inst = in;
        snprintf(l->mgn_mode, sizeof(l->mgn_mode), "%s", mgn_mode);
        snprintf(l->pos_side, sizeof(l->pos_side), "%s", side);
        l->next = a->levers;
        a->levers = l;
    }
    l->lever = lever;
    return AT_OK;
}

/* Open positions take the new leverage; an isolated one has its margin
 * re-based to |pos| x ctVal x avgPx / lever, the difference moving between
 * the margin and cash. */
static void lever_apply(sim_acct *a, sim_inst *in, const char *mgn_mode, const char *side,
                        int lever)
{
    for (sim_position *p = a->positions; p; p = p->next) {
        if (p->inst != in || strcmp(p->mgn_mode, mgn_mode) != 0 ||
            (*side && strcmp(p->pos_side, side) != 0)) {
            continue;
        }
        p->lever = lever;
        if (p->pos.m != 0 && strcmp(mgn_mode, "isolated") == 0) {
            bool err = false;
            at_dec want = sim_div(ex_mul3(ex_abs(p->pos), in->ct_val, p->avg_px, &err),
                                  sim_dec_i(lever), EX_MONEY_SCALE, &err);
            at_dec cash = sim_sub(a->cash, sim_sub(want, p->margin, &err), &err);
            if (!err) {
                a->cash = cash;
                p->margin = want;
            }
        }
    }
}

/* ------------------------------------------------------------- endpoints */

void acct_set_leverage(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    const json_t *b = c->body;
    const char *inst_id = sim_json_str(b, "instId"), *mgn = sim_json_str(b, "mgnMode");
    const char *pos_side = sim_json_str(b, "posSide");
    at_dec lv;
    if (!*mgn) {
        sim_reply_err(r, 400, "50014", "Parameter mgnMode can not be empty.");
        return;
    }
    if (strcmp(mgn, "cross") != 0 && strcmp(mgn, "isolated") != 0) {
        sim_reply_err(r, 400, "51000", "Parameter mgnMode error (cross or isolated, got \"%s\")",
                      mgn);
        return;
    }
    if (!*inst_id) {
        sim_reply_err(r, 400, "50014",
                      "Parameter instId can not be empty. (okx-sim sets leverage per instId; "
                      "ccy-level leverage is not supported)");
        return;
    }
    sim_inst *in = market_find(x->market, inst_id);
    if (!in) {
        sim_reply_err(r, 200, "51001",
                      "Instrument ID, Instrument ID code, or Spread ID doesn't exist. (instId %s)",
                      inst_id);
        return;
    }
    int rc = sim_json_dec(b, "lever", &lv);
    if (rc == AT_ENOENT) {
        sim_reply_err(r, 400, "50014", "Parameter lever can not be empty.");
        return;
    }
    lv = at_dec_normalize(lv);
    if (rc != AT_OK || lv.scale != 0 || lv.m < 1) {
        sim_reply_err(r, 400, "51000", "Parameter lever error (a whole number >= 1)");
        return;
    }
    if (lv.m > in->max_lever) {
        sim_reply_err(r, 200, "59102",
                      "Leverage exceeds the maximum leverage. Adjust the leverage. (%s max %d)",
                      in->inst_id, in->max_lever);
        return;
    }
    bool need_side = a->pos_mode == SIM_LONG_SHORT_MODE && strcmp(mgn, "isolated") == 0;
    if (need_side && strcmp(pos_side, "long") != 0 && strcmp(pos_side, "short") != 0) {
        sim_reply_err(r, 400, "51000",
                      "Parameter posSide error (long or short for isolated margin in "
                      "long_short_mode)");
        return;
    }
    const char *side = need_side ? pos_side : "";
    if (lever_store(a, in, mgn, side, (int)lv.m) != AT_OK) {
        sim_reply_err(r, 500, "50026", "System error (out of memory)");
        return;
    }
    lever_apply(a, in, mgn, side, (int)lv.m);
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", (int)lv.m);
    sim_reply_add(r, json_pack("{s:s, s:s, s:s, s:s}", "lever", buf, "mgnMode", mgn, "instId",
                               in->inst_id, "posSide", need_side ? pos_side : ""));
    ex_push_account(x, a);
}

static bool has_exposure(const sim_acct *a)
{
    for (const sim_position *p = a->positions; p; p = p->next) {
        if (p->pos.m != 0) {
            return true;
        }
    }
    for (const sim_order *o = a->orders; o; o = o->next) {
        if (order_is_live(o)) {
            return true;
        }
    }
    return false;
}

void acct_set_position_mode(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r)
{
    (void)x;
    const char *m = sim_json_str(c->body, "posMode");
    if (!*m) {
        sim_reply_err(r, 400, "50014", "Parameter posMode can not be empty.");
        return;
    }
    if (strcmp(m, "net_mode") != 0 && strcmp(m, "long_short_mode") != 0) {
        sim_reply_err(r, 400, "51000",
                      "Parameter posMode error (net_mode or long_short_mode, got \"%s\")", m);
        return;
    }
    sim_pos_mode want = m[0] == 'n' ? SIM_NET_MODE : SIM_LONG_SHORT_MODE;
    if (want != a->pos_mode && has_exposure(a)) {
        sim_reply_err(r, 200, "59000",
                      "Settings failed. Close any open positions or orders before modifying "
                      "settings.");
        return;
    }
    a->pos_mode = want;
    sim_reply_add(r, json_pack("{s:s}", "posMode", m));
}

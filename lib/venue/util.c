/* Small helpers shared by every okx-sim layer: decimals in JSON, replies,
 * the deterministic PRNG. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int sim_json_dec(const json_t *obj, const char *key, at_dec *out)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v)) {
        return AT_ENOENT;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!*s) {
            return AT_ENOENT;
        }
        return at_dec_parse(s, json_string_length(v), out) == AT_OK ? AT_OK : AT_EINVAL;
    }
    if (json_is_integer(v)) {
        /* ccxt sends "lever": 5 as a number; OKX accepts it. */
        out->m = (int64_t)json_integer_value(v);
        out->scale = 0;
        return AT_OK;
    }
    if (json_is_real(v)) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
        return at_dec_parse(buf, (size_t)-1, out) == AT_OK ? AT_OK : AT_EINVAL;
    }
    return AT_EINVAL;
}

const char *sim_json_str(const json_t *obj, const char *key)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

const char *sim_dec_str(at_dec d, char *buf)
{
    if (at_dec_format(at_dec_normalize(d), buf) < 0) {
        snprintf(buf, AT_DEC_STRLEN, "0");
    }
    return buf;
}

json_t *sim_dec_json(at_dec d)
{
    char buf[AT_DEC_STRLEN];
    return json_string(sim_dec_str(d, buf));
}

at_dec sim_mul(at_dec a, at_dec b, int scale, bool *err)
{
    at_dec out = {0, 0};
    if (at_dec_mul_round(a, b, scale, AT_ROUND_HALF_EVEN, &out) != AT_OK) {
        *err = true;
    }
    return out;
}

at_dec sim_add(at_dec a, at_dec b, bool *err)
{
    at_dec out = {0, 0};
    if (at_dec_add(a, b, &out) != AT_OK) {
        *err = true;
    }
    return out;
}

at_dec sim_sub(at_dec a, at_dec b, bool *err)
{
    at_dec out = {0, 0};
    if (at_dec_sub(a, b, &out) != AT_OK) {
        *err = true;
    }
    return out;
}

at_dec sim_div(at_dec a, at_dec b, int scale, bool *err)
{
    at_dec out = {0, 0};
    if (b.m == 0 || at_dec_div(a, b, scale, AT_ROUND_HALF_EVEN, &out) != AT_OK) {
        *err = true;
    }
    return out;
}

at_dec sim_neg(at_dec a)
{
    a.m = -a.m;
    return a;
}

at_dec sim_dec_i(int64_t v)
{
    at_dec d = {v, 0};
    return d;
}

at_dec sim_dec_lit(const char *s)
{
    at_dec d;
    if (at_dec_parse(s, (size_t)-1, &d) != AT_OK) {
        fprintf(stderr, "okx-sim: bad decimal literal '%s'\n", s);
        abort();
    }
    return d;
}

json_t *sim_ms_json(int64_t ms)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%lld", (long long)ms);
    return json_string(buf);
}

uint64_t sim_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

double sim_rand01(uint64_t *state)
{
    return (double)(sim_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

const char *sim_param_get(const sim_call *c, const char *key)
{
    for (size_t i = 0; i < c->nparams; i++) {
        if (strcmp(c->params[i].key, key) == 0) {
            return *c->params[i].val ? c->params[i].val : NULL;
        }
    }
    return NULL;
}

void sim_reply_err(sim_reply *r, int http, const char *code, const char *fmt, ...)
{
    r->http = http;
    snprintf(r->code, sizeof(r->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
}

void sim_reply_add(sim_reply *r, json_t *item)
{
    if (!item) {
        return;
    }
    if (!r->data) {
        r->data = json_array();
    }
    json_array_append_new(r->data, item);
}

void sim_reply_settle(sim_reply *r)
{
    size_t ok = 0, n = r->data ? json_array_size(r->data) : 0;
    for (size_t i = 0; i < n; i++) {
        ok += strcmp(sim_json_str(json_array_get(r->data, i), "sCode"), "0") == 0;
    }
    if (ok == n) {
        snprintf(r->code, sizeof(r->code), "0");
        r->msg[0] = '\0';
    } else if (ok == 0) {
        snprintf(r->code, sizeof(r->code), "1");
        snprintf(r->msg, sizeof(r->msg), "All operations failed");
    } else {
        snprintf(r->code, sizeof(r->code), "2");
        snprintf(r->msg, sizeof(r->msg), "Bulk operation partially succeeded");
    }
}

json_t *sim_item_result(const char *scode, const char *smsg)
{
    return json_pack("{s:s, s:s}", "sCode", scode, "sMsg", smsg ? smsg : "");
}

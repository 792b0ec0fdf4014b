/* Instrument registry for OKX swaps (see okx_inst.h; sizing in okx_size.c).
 *
 * The registry is a plain array sorted by instId: exact lookups (every market
 * data frame names its instId) are a bsearch, the friendlier symbol forms a
 * scan over a few hundred rows. */
#include "okx_inst.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct okx_insts {
    const at_host *h;
    okx_inst *rows; /* sorted by inst_id */
    size_t n;
};

void okx_say(char *buf, size_t len, const char *fmt, ...)
{
    if (buf == NULL || len == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

/* ------------------------------------------------------------ row parsing */

/* Where a row error happened, for messages that name the row and instrument. */
typedef struct row_ctx {
    const at_host *h;
    size_t index;
    const char *inst_id; /* "" until known */
    char *err;
    size_t errlen;
} row_ctx;

static int row_fail(const row_ctx *c, const char *fmt, ...) AT_PRINTF(2, 3);

static int row_fail(const row_ctx *c, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->inst_id[0] != '\0') {
        okx_say(c->err, c->errlen, "instruments data[%zu] (%s): %s", c->index, c->inst_id, what);
    } else {
        okx_say(c->err, c->errlen, "instruments data[%zu]: %s", c->index, what);
    }
    return AT_EINVAL;
}

/* A string field: NULL when absent, null or "" (OKX sends "" for "not
 * applicable"). A non-string value is an error (*bad set). */
static const char *str_of(const json_t *row, const char *key, bool *bad)
{
    const json_t *v = json_object_get(row, key);
    *bad = false;
    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    const char *s = json_string_value(v);
    return s[0] != '\0' ? s : NULL;
}

static int text_field(const row_ctx *c, const json_t *row, const char *key, bool required,
                      char *dst, size_t cap)
{
    bool bad;
    const char *s = str_of(row, key, &bad);
    dst[0] = '\0';
    if (bad) {
        return row_fail(c, "%s is not a string", key);
    }
    if (s == NULL) {
        return required ? row_fail(c, "%s missing", key) : AT_OK;
    }
    if (!copy_str(dst, cap, s)) {
        return row_fail(c, "%s \"%.40s\" is longer than %zu bytes", key, s, cap - 1);
    }
    return AT_OK;
}

/* A decimal field. OKX sends numbers as strings; a JSON integer is accepted
 * too, a JSON real is not (it may already have lost exactness). Absent
 * optional fields keep *out as given (the caller's default). */
static int dec_field(const row_ctx *c, const json_t *row, const char *key, bool required,
                     bool positive, at_dec *out)
{
    const json_t *v = json_object_get(row, key);
    char ibuf[32];
    const char *s = NULL;
    if (json_is_integer(v)) {
        snprintf(ibuf, sizeof ibuf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = ibuf;
    } else if (json_is_string(v) && json_string_value(v)[0] != '\0') {
        s = json_string_value(v);
    } else if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
        return row_fail(c, "%s is not a decimal string", key);
    }
    if (s == NULL) {
        return required ? row_fail(c, "%s missing", key) : AT_OK;
    }
    at_dec d;
    if (c->h->dec_parse(s, (size_t)-1, &d) != AT_OK) {
        return row_fail(c, "%s \"%.40s\" is not a decimal", key, s);
    }
    if (d.m < 0 || (positive && d.m == 0)) {
        return row_fail(c, "%s \"%.40s\" must be %s", key, s, positive ? "positive" : ">= 0");
    }
    *out = d;
    return AT_OK;
}

/* An integer given as a JSON integer or a digit string; *has false when absent. */
static int int_field(const row_ctx *c, const json_t *row, const char *key, int64_t max,
                     int64_t *out, bool *has)
{
    const json_t *v = json_object_get(row, key);
    *has = false;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_string(v) && json_string_value(v)[0] != '\0') {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0' || !isdigit((unsigned char)s[0])) {
            return row_fail(c, "%s \"%.40s\" is not an integer", key, s);
        }
        *out = (int64_t)x;
    } else if (v == NULL || json_is_null(v) || json_is_string(v)) {
        return AT_OK;
    } else {
        return row_fail(c, "%s is not an integer", key);
    }
    if (*out < 0 || *out > max) {
        return row_fail(c, "%s %lld is out of range", key, (long long)*out);
    }
    *has = true;
    return AT_OK;
}

/* base and quote from the family "BTC-USDT"; a family-less row falls back to
 * its instId minus "-SWAP" (OKX names a swap FAMILY-SWAP). */
static int split_family(const row_ctx *c, okx_inst *in)
{
    if (in->family[0] == '\0') {
        size_t n = strlen(in->inst_id);
        if (n > 5 && strcmp(in->inst_id + n - 5, "-SWAP") == 0) {
            memcpy(in->family, in->inst_id, n - 5);
            in->family[n - 5] = '\0';
        }
    }
    const char *dash = strchr(in->family, '-');
    if (dash == NULL) {
        return row_fail(c, "cannot tell base and quote currency (instFamily/uly \"%s\")",
                        in->family);
    }
    size_t nb = (size_t)(dash - in->family);
    const char *q = dash + 1;
    size_t nq = strcspn(q, "-");
    if (nb == 0 || nq == 0 || nb >= sizeof in->base || nq >= sizeof in->quote) {
        return row_fail(c, "cannot tell base and quote currency (instFamily/uly \"%s\")",
                        in->family);
    }
    memcpy(in->base, in->family, nb);
    in->base[nb] = '\0';
    memcpy(in->quote, q, nq);
    in->quote[nq] = '\0';
    return AT_OK;
}

/* ctType, or (like ccxt) linear when settled in the quote currency and
 * inverse when settled in the base currency. */
static int ct_type_field(const row_ctx *c, const json_t *row, okx_inst *in)
{
    char t[16];
    int rc = text_field(c, row, "ctType", false, t, sizeof t);
    if (rc != AT_OK) {
        return rc;
    }
    if (strcmp(t, "linear") == 0) {
        in->ct_type = OKX_CT_LINEAR;
    } else if (strcmp(t, "inverse") == 0) {
        in->ct_type = OKX_CT_INVERSE;
    } else if (t[0] != '\0') {
        return row_fail(c, "ctType \"%s\" is neither linear nor inverse", t);
    } else if (in->settle_ccy[0] != '\0' && strcmp(in->settle_ccy, in->quote) == 0) {
        in->ct_type = OKX_CT_LINEAR;
    } else if (in->settle_ccy[0] != '\0' && strcmp(in->settle_ccy, in->base) == 0) {
        in->ct_type = OKX_CT_INVERSE;
    } else {
        in->ct_type = OKX_CT_UNKNOWN;
    }
    return AT_OK;
}

static int parse_texts(row_ctx *c, const json_t *row, okx_inst *in)
{
    int rc = text_field(c, row, "instId", true, in->inst_id, sizeof in->inst_id);
    if (rc != AT_OK) {
        return rc;
    }
    c->inst_id = in->inst_id;
    char type[16];
    if ((rc = text_field(c, row, "instType", false, type, sizeof type)) != AT_OK) {
        return rc;
    }
    if (type[0] != '\0' && strcmp(type, "SWAP") != 0) {
        return row_fail(c, "instType \"%s\" is not SWAP", type);
    }
    if ((rc = text_field(c, row, "uly", false, in->uly, sizeof in->uly)) != AT_OK ||
        (rc = text_field(c, row, "instFamily", false, in->family, sizeof in->family)) != AT_OK ||
        (rc = text_field(c, row, "settleCcy", false, in->settle_ccy, sizeof in->settle_ccy)) !=
            AT_OK ||
        (rc = text_field(c, row, "ctValCcy", false, in->ct_val_ccy, sizeof in->ct_val_ccy)) !=
            AT_OK ||
        (rc = text_field(c, row, "state", false, in->state, sizeof in->state)) != AT_OK) {
        return rc;
    }
    if (in->family[0] == '\0') {
        memcpy(in->family, in->uly, sizeof in->family);
    }
    if ((rc = split_family(c, in)) != AT_OK) {
        return rc;
    }
    return ct_type_field(c, row, in);
}

static int parse_numbers(const row_ctx *c, const json_t *row, okx_inst *in)
{
    int rc;
    in->ct_mult = (at_dec){1, 0};
    if ((rc = dec_field(c, row, "ctVal", true, true, &in->ct_val)) != AT_OK ||
        (rc = dec_field(c, row, "ctMult", false, true, &in->ct_mult)) != AT_OK ||
        (rc = dec_field(c, row, "lotSz", true, true, &in->lot_sz)) != AT_OK ||
        (rc = dec_field(c, row, "minSz", true, true, &in->min_sz)) != AT_OK ||
        (rc = dec_field(c, row, "tickSz", true, true, &in->tick_sz)) != AT_OK ||
        (rc = dec_field(c, row, "maxLmtSz", false, false, &in->max_lmt_sz)) != AT_OK ||
        (rc = dec_field(c, row, "maxMktSz", false, false, &in->max_mkt_sz)) != AT_OK) {
        return rc;
    }
    int64_t lever = 0;
    bool has;
    if ((rc = int_field(c, row, "lever", INT_MAX, &lever, &has)) != AT_OK ||
        (rc = int_field(c, row, "instIdCode", INT64_MAX, &in->inst_id_code,
                        &in->has_inst_id_code)) != AT_OK) {
        return rc;
    }
    in->lever = (int)lever;
    return AT_OK;
}

static int parse_row(const at_host *h, const json_t *row, size_t index, okx_inst *in, char *err,
                     size_t errlen)
{
    row_ctx c = {h, index, "", err, errlen};
    if (!json_is_object(row)) {
        return row_fail(&c, "not an object");
    }
    int rc = parse_texts(&c, row, in);
    if (rc == AT_OK) {
        rc = parse_numbers(&c, row, in);
    }
    if (rc == AT_OK) {
        in->id = h->inst_intern(in->inst_id);
    }
    return rc;
}

/* ------------------------------------------------------------- envelope */

static int check_envelope(const json_t *root, char *err, size_t errlen)
{
    if (!json_is_object(root)) {
        okx_say(err, errlen, "instruments: response is not a JSON object");
        return AT_EINVAL;
    }
    const json_t *code = json_object_get(root, "code");
    const char *msg = json_string_value(json_object_get(root, "msg"));
    char cbuf[32];
    if (json_is_integer(code)) {
        snprintf(cbuf, sizeof cbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(code));
    } else if (json_is_string(code)) {
        snprintf(cbuf, sizeof cbuf, "%s", json_string_value(code));
    } else {
        okx_say(err, errlen, "instruments: response has no \"code\"");
        return AT_EINVAL;
    }
    if (strcmp(cbuf, "0") != 0) {
        okx_say(err, errlen, "instruments: OKX error %s: %s", cbuf,
                msg != NULL && msg[0] != '\0' ? msg : "(no message)");
        return AT_EINVAL;
    }
    if (!json_is_array(json_object_get(root, "data"))) {
        okx_say(err, errlen, "instruments: \"data\" is not an array");
        return AT_EINVAL;
    }
    return AT_OK;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const okx_inst *)a)->inst_id, ((const okx_inst *)b)->inst_id);
}

/* Parse every row into a new sorted array; *out is NULL for an empty list. */
static int parse_rows(const at_host *h, const json_t *data, okx_inst **out, size_t *n, char *err,
                      size_t errlen)
{
    size_t count = json_array_size(data);
    okx_inst *rows = NULL;
    *out = NULL;
    *n = 0;
    if (count > 0 && (rows = calloc(count, sizeof *rows)) == NULL) {
        okx_say(err, errlen, "instruments: out of memory for %zu rows", count);
        return AT_ENOMEM;
    }
    /* A row OKX lists that we cannot use (a preopen swap with lotSz "" …) is
     * skipped, not fatal: one bad row must not stop trading the others. The
     * first reason stays in err (callers log it); with no usable row at all
     * it is the error. */
    size_t good = 0, skipped = 0;
    int first_rc = AT_OK;
    char why[256] = "";
    for (size_t i = 0; i < count; i++) {
        int rc = parse_row(h, json_array_get(data, i), i, &rows[good], why, sizeof why);
        if (rc != AT_OK) {
            if (skipped++ == 0) {
                first_rc = rc;
                okx_say(err, errlen, "%s", why);
            }
            continue;
        }
        good++;
    }
    if (count > 0 && good == 0) {
        free(rows);
        return first_rc;
    }
    if (skipped > 0) {
        char first[256];
        snprintf(first, sizeof first, "%s", err);
        okx_say(err, errlen, "%zu of %zu rows skipped; first: %s", skipped, count, first);
    }
    count = good;
    if (count > 1) {
        qsort(rows, count, sizeof *rows, cmp_row);
    }
    for (size_t i = 1; i < count; i++) {
        if (strcmp(rows[i - 1].inst_id, rows[i].inst_id) == 0) {
            okx_say(err, errlen, "instruments: duplicate instId %s", rows[i].inst_id);
            free(rows);
            return AT_EINVAL;
        }
    }
    *out = rows;
    *n = count;
    return AT_OK;
}

/* ------------------------------------------------------------ registry */

okx_insts *okx_insts_new(const at_host *h)
{
    if (h == NULL) {
        return NULL;
    }
    okx_insts *r = calloc(1, sizeof *r);
    if (r != NULL) {
        r->h = h;
    }
    return r;
}

void okx_insts_free(okx_insts *r)
{
    if (r != NULL) {
        free(r->rows);
        free(r);
    }
}

int okx_insts_load_json(okx_insts *r, const char *json, size_t len, char *err, size_t errlen)
{
    okx_say(err, errlen, "%s", "");
    if (r == NULL || json == NULL) {
        okx_say(err, errlen, "instruments: no registry or no response");
        return AT_EINVAL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (root == NULL) {
        okx_say(err, errlen, "instruments: invalid JSON at line %d column %d: %s", jerr.line,
                jerr.column, jerr.text);
        return AT_EINVAL;
    }
    okx_inst *rows = NULL;
    size_t n = 0;
    int rc = check_envelope(root, err, errlen);
    if (rc == AT_OK) {
        rc = parse_rows(r->h, json_object_get(root, "data"), &rows, &n, err, errlen);
    }
    json_decref(root);
    if (rc != AT_OK) {
        return rc;
    }
    free(r->rows);
    r->rows = rows;
    r->n = n;
    return AT_OK;
}

size_t okx_insts_count(const okx_insts *r)
{
    return r != NULL ? r->n : 0;
}

const okx_inst *okx_insts_at(const okx_insts *r, size_t i)
{
    return r != NULL && i < r->n ? &r->rows[i] : NULL;
}

/* ------------------------------------------------------------- symbols */

static const okx_inst *find_id(const okx_insts *r, const char *inst_id)
{
    okx_inst key;
    if (r->n == 0 || !copy_str(key.inst_id, sizeof key.inst_id, inst_id)) {
        return NULL;
    }
    return bsearch(&key, r->rows, r->n, sizeof *r->rows, cmp_row);
}

static bool is_swap_id(const char *inst_id)
{
    size_t n = strlen(inst_id);
    return n > 5 && strcmp(inst_id + n - 5, "-SWAP") == 0;
}

/* The swap whose base/quote (and settle, when given) match. */
static const okx_inst *find_ccys(const okx_insts *r, const char *base, const char *quote,
                                 const char *settle)
{
    for (size_t i = 0; i < r->n; i++) {
        const okx_inst *in = &r->rows[i];
        if (strcmp(in->base, base) == 0 && strcmp(in->quote, quote) == 0 &&
            (settle == NULL || strcmp(in->settle_ccy, settle) == 0) && is_swap_id(in->inst_id)) {
            return in;
        }
    }
    return NULL;
}

/* "BTC/USDT:USDT" or "BTC/USDT"; `s` is an upper-cased writable copy. */
static const okx_inst *find_ccxt(const okx_insts *r, char *s)
{
    char *slash = strchr(s, '/');
    char *colon = strchr(slash + 1, ':');
    *slash = '\0';
    if (colon != NULL) {
        *colon = '\0';
    }
    const char *settle = colon != NULL ? colon + 1 : NULL;
    if (s[0] == '\0' || slash[1] == '\0' || (settle != NULL && settle[0] == '\0')) {
        return NULL;
    }
    return find_ccys(r, s, slash + 1, settle);
}

/* Upper-case copy of `s` without surrounding blanks; false if it does not fit. */
static bool normalise(const char *s, char *out, size_t cap)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    if (n == 0 || n >= cap) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)toupper((unsigned char)s[i]);
    }
    out[n] = '\0';
    return true;
}

const okx_inst *okx_insts_find(const okx_insts *r, const char *symbol)
{
    char s[OKX_SYMBOL_LEN];
    if (r == NULL || symbol == NULL || !normalise(symbol, s, sizeof s)) {
        return NULL;
    }
    if (strchr(s, '/') != NULL) {
        return find_ccxt(r, s);
    }
    const okx_inst *in = find_id(r, s);
    if (in != NULL) {
        return in;
    }
    char *dash = strchr(s, '-');
    if (dash != NULL) {
        /* A family "BTC-USDT": its swap, whatever it settles in. */
        *dash = '\0';
        return strchr(dash + 1, '-') == NULL ? find_ccys(r, s, dash + 1, NULL) : NULL;
    }
    /* A bare coin means its USDT-margined swap. */
    return find_ccys(r, s, "USDT", "USDT");
}

/* One currency of a symbol: letters and digits (upper-cased already). */
static bool ccy_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)p[i])) {
            return false;
        }
    }
    return n > 0;
}

int okx_insts_symbol_check(const char *symbol, char *why, size_t whylen)
{
    char s[OKX_SYMBOL_LEN];
    if (symbol == NULL || !normalise(symbol, s, sizeof s)) {
        okx_say(why, whylen, "'%.64s' is not an instrument (empty or longer than %d characters)",
                symbol ? symbol : "", OKX_SYMBOL_LEN - 1);
        return AT_EINVAL;
    }
    bool ok = true;
    const char *slash = strchr(s, '/');
    if (slash != NULL) {
        /* BASE/QUOTE[:SETTLE] */
        const char *q = slash + 1, *colon = strchr(q, ':');
        ok = ccy_ok(s, (size_t)(slash - s)) &&
             (colon != NULL ? ccy_ok(q, (size_t)(colon - q)) && ccy_ok(colon + 1, strlen(colon + 1))
                            : ccy_ok(q, strlen(q)));
    } else {
        /* COIN, FAMILY-QUOTE or an instId BASE-QUOTE-SWAP */
        int n = 0;
        for (const char *p = s; ok;) {
            const char *dash = strchr(p, '-');
            size_t len = dash != NULL ? (size_t)(dash - p) : strlen(p);
            ok = ++n <= 3 && ccy_ok(p, len);
            if (ok && n == 3 && (len != 4 || memcmp(p, "SWAP", 4) != 0)) {
                okx_say(why, whylen, "'%s' is not a perpetual swap (an instId ends in -SWAP)",
                        symbol);
                return AT_EINVAL;
            }
            if (dash == NULL) {
                break;
            }
            p = dash + 1;
        }
    }
    if (!ok) {
        okx_say(why, whylen,
                "'%.64s' is not an instrument: write an instId (BTC-USDT-SWAP), a ccxt symbol "
                "(BTC/USDT:USDT) or a coin (BTC)",
                symbol);
        return AT_EINVAL;
    }
    return AT_OK;
}

int okx_insts_to_ccxt(const okx_inst *in, char *buf, size_t len)
{
    if (buf != NULL && len > 0) {
        buf[0] = '\0';
    }
    if (in == NULL || buf == NULL || in->base[0] == '\0' || in->quote[0] == '\0' ||
        in->settle_ccy[0] == '\0') {
        return AT_EINVAL;
    }
    int n = snprintf(buf, len, "%s/%s:%s", in->base, in->quote, in->settle_ccy);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return AT_ERANGE;
    }
    return n;
}

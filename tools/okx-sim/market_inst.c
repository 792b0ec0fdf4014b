/* okx-sim instruments: the built-in table of five USDT linear swaps, or the
 * SWAP rows of a real OKX /public/instruments response file.
 *
 * Only linear (USDT-margined) swaps are loaded from a file: the account layer
 * margins in USDT, so inverse rows (BTC-USD-SWAP) are skipped, and so are
 * rows whose names do not fit sim_inst's fixed-size fields. At most
 * SIM_MAX_INST rows are kept, in file order. A loaded
 * instrument that is also in the built-in table starts at the table's
 * realistic price; any other starts at 10,000 ticks (a tick of 0.01% of the
 * price, typical of OKX contracts) scaled by a seeded factor in [0.5, 2),
 * from where the random walk takes it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market_int.h"

#define SECONDS_PER_YEAR 31536000.0
#define DEFAULT_VOL 0.70 /* annualised, for instruments not in the table */

typedef struct builtin {
    const char *inst_id, *ccy;
    const char *ct_val, *tick_sz, *lot_sz, *min_sz;
    int lever;
    int64_t code;
    double px;  /* start price, USDT */
    double vol; /* annualised volatility of the random walk */
} builtin;

/* Modelled on OKX's live rows (BTC and ETH codes are OKX's own). */
static const builtin BUILTIN[] = {
    {"BTC-USDT-SWAP", "BTC", "0.01", "0.1", "0.01", "0.01", 100, 10459, 90000.0, 0.50},
    {"ETH-USDT-SWAP", "ETH", "0.1", "0.01", "0.01", "0.01", 100, 10461, 3000.0, 0.65},
    {"SOL-USDT-SWAP", "SOL", "1", "0.001", "0.01", "0.01", 50, 10462, 140.0, 0.80},
    {"DOGE-USDT-SWAP", "DOGE", "1000", "0.00001", "0.01", "0.01", 50, 10463, 0.15, 0.90},
    {"XRP-USDT-SWAP", "XRP", "100", "0.0001", "0.01", "0.01", 75, 10464, 2.2, 0.80},
};
#define NBUILTIN (sizeof(BUILTIN) / sizeof(BUILTIN[0]))

/* OKX lists BTC/ETH-USDT-SWAP since 2019-11-12; one listTime for all. */
#define BUILTIN_LIST_TIME 1573557408000LL

uint64_t mkt_stream_seed(uint64_t seed, size_t inst, unsigned stream)
{
    /* splitmix64: decorrelates neighbouring (inst, stream) pairs. */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * ((uint64_t)inst * 16 + stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 1;
}

static const builtin *builtin_find(const char *inst_id)
{
    for (size_t i = 0; i < NBUILTIN; i++) {
        if (strcmp(BUILTIN[i].inst_id, inst_id) == 0) {
            return &BUILTIN[i];
        }
    }
    return NULL;
}

/* "BTC-USDT-SWAP" -> "BTC-USDT" (the uly/instFamily of a swap). */
static void uly_of(const char *inst_id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", inst_id);
    char *suffix = strstr(out, "-SWAP");
    if (suffix && suffix[5] == '\0') {
        *suffix = '\0';
    }
}

static void init_state(sim_market *m, size_t i, const builtin *b)
{
    sim_inst *in = &m->inst[i];
    mkt_state *st = &m->st[i];
    double vol = b ? b->vol : DEFAULT_VOL;
    st->sigma = vol / sqrt(SECONDS_PER_YEAR);
    if (b) {
        st->start_px = b->px;
    } else {
        uint64_t r = mkt_stream_seed(m->seed, i, 9);
        double factor = 0.5 + 1.5 * sim_rand01(&r);
        st->start_px = 10000.0 * at_dec_to_double(in->tick_sz) * factor;
    }
    in->px_double = -1;
}

static void load_builtin(sim_market *m)
{
    m->ninst = NBUILTIN;
    for (size_t i = 0; i < NBUILTIN; i++) {
        const builtin *b = &BUILTIN[i];
        sim_inst *in = &m->inst[i];
        snprintf(in->inst_id, sizeof(in->inst_id), "%s", b->inst_id);
        uly_of(b->inst_id, in->uly, sizeof(in->uly));
        snprintf(in->settle_ccy, sizeof(in->settle_ccy), "USDT");
        snprintf(in->ct_val_ccy, sizeof(in->ct_val_ccy), "%s", b->ccy);
        in->ct_val = sim_dec_lit(b->ct_val);
        in->tick_sz = sim_dec_lit(b->tick_sz);
        in->lot_sz = sim_dec_lit(b->lot_sz);
        in->min_sz = sim_dec_lit(b->min_sz);
        in->max_lmt_sz = sim_dec_lit("100000000");
        in->max_mkt_sz = sim_dec_lit("10000");
        in->max_lever = b->lever;
        in->inst_id_code = b->code;
        in->list_time_ms = BUILTIN_LIST_TIME;
        init_state(m, i, b);
    }
}

/* ---- instruments file */

typedef struct row_ctx {
    const char *path;
    size_t idx;
    const char *inst_id;
    char *err;
    size_t errlen;
} row_ctx;

static int row_fail(const row_ctx *x, const char *what)
{
    snprintf(x->err, x->errlen, "%s: data[%zu] (%s): %s", x->path, x->idx,
             *x->inst_id ? x->inst_id : "no instId", what);
    return AT_EINVAL;
}

/* A positive decimal member; `dflt` when absent (NULL = required). */
static int row_dec(const row_ctx *x, const json_t *row, const char *key, const char *dflt,
                   at_dec *out)
{
    char what[96];
    int rc = sim_json_dec(row, key, out);
    if (rc == AT_ENOENT && dflt) {
        *out = sim_dec_lit(dflt);
        return AT_OK;
    }
    if (rc != AT_OK || out->m <= 0) {
        snprintf(what, sizeof(what), "%s missing or not a positive decimal", key);
        return row_fail(x, what);
    }
    return AT_OK;
}

static int row_str(const json_t *row, const char *key, const char *dflt, char *out, size_t outlen)
{
    const char *s = sim_json_str(row, key);
    if (!*s) {
        s = dflt;
    }
    if (strlen(s) >= outlen) {
        return AT_ERANGE; /* does not fit sim_inst: the caller skips the row */
    }
    snprintf(out, outlen, "%s", s);
    return AT_OK;
}

static int64_t row_int(const json_t *row, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(row, key);
    if (json_is_integer(v)) {
        return (int64_t)json_integer_value(v);
    }
    if (json_is_string(v) && *json_string_value(v)) {
        return strtoll(json_string_value(v), NULL, 10);
    }
    return dflt;
}

/* Parse one linear SWAP row into `in`; instIdCode 0 means "assign one". */
static int parse_row(const row_ctx *x, const json_t *row, sim_inst *in)
{
    char uly[24], ccy[8];
    int rc = row_str(row, "instId", "", in->inst_id, sizeof(in->inst_id));
    if (rc != AT_OK) {
        return rc;
    }
    if (!*in->inst_id) {
        return row_fail(x, "instId missing");
    }
    uly_of(in->inst_id, uly, sizeof(uly));
    snprintf(ccy, sizeof(ccy), "%.*s", (int)strcspn(uly, "-"), uly);
    if ((rc = row_str(row, "uly", uly, in->uly, sizeof(in->uly))) != AT_OK ||
        (rc = row_str(row, "settleCcy", "USDT", in->settle_ccy, sizeof(in->settle_ccy))) != AT_OK ||
        (rc = row_str(row, "ctValCcy", ccy, in->ct_val_ccy, sizeof(in->ct_val_ccy))) != AT_OK) {
        return rc;
    }
    if (row_dec(x, row, "ctVal", NULL, &in->ct_val) != AT_OK ||
        row_dec(x, row, "tickSz", NULL, &in->tick_sz) != AT_OK ||
        row_dec(x, row, "lotSz", NULL, &in->lot_sz) != AT_OK ||
        row_dec(x, row, "minSz", NULL, &in->min_sz) != AT_OK ||
        row_dec(x, row, "maxLmtSz", "100000000", &in->max_lmt_sz) != AT_OK ||
        row_dec(x, row, "maxMktSz", "10000", &in->max_mkt_sz) != AT_OK) {
        return AT_EINVAL;
    }
    int64_t lever = row_int(row, "lever", 20);
    if (lever < 1 || lever > 1000) {
        return row_fail(x, "lever out of range 1..1000");
    }
    in->max_lever = (int)lever;
    in->inst_id_code = row_int(row, "instIdCode", 0);
    in->list_time_ms = row_int(row, "listTime", BUILTIN_LIST_TIME);
    return AT_OK;
}

static bool is_linear_swap(const json_t *row)
{
    return strcmp(sim_json_str(row, "instType"), "SWAP") == 0 &&
           strcmp(sim_json_str(row, "ctType"), "inverse") != 0;
}

/* Distinct instIds and instIdCodes; codes missing in the file (older
 * snapshots have none) are numbered after the largest one present. */
static int check_unique(sim_market *m, const char *path, char *err, size_t errlen)
{
    int64_t next = 100000;
    for (size_t i = 0; i < m->ninst; i++) {
        if (m->inst[i].inst_id_code >= next) {
            next = m->inst[i].inst_id_code + 1;
        }
    }
    for (size_t i = 0; i < m->ninst; i++) {
        sim_inst *a = &m->inst[i];
        if (a->inst_id_code <= 0) {
            a->inst_id_code = next++;
        }
        for (size_t j = 0; j < i; j++) {
            const sim_inst *b = &m->inst[j];
            if (strcmp(a->inst_id, b->inst_id) == 0 || a->inst_id_code == b->inst_id_code) {
                snprintf(err, errlen, "%s: %s: duplicate instId or instIdCode %lld", path,
                         a->inst_id, (long long)a->inst_id_code);
                return AT_EINVAL;
            }
        }
    }
    return AT_OK;
}

static int load_file(sim_market *m, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
        return AT_EINVAL;
    }
    const json_t *data = json_is_array(root) ? root : json_object_get(root, "data");
    int rc = AT_OK;
    if (!json_is_array(data)) {
        snprintf(err, errlen, "%s: no \"data\" array (expected an OKX instruments response)", path);
        rc = AT_EINVAL;
        goto done;
    }
    m->ninst = 0;
    for (size_t i = 0; i < json_array_size(data) && m->ninst < SIM_MAX_INST; i++) {
        const json_t *row = json_array_get(data, i);
        if (!json_is_object(row) || !is_linear_swap(row)) {
            continue;
        }
        row_ctx x = {path, i, sim_json_str(row, "instId"), err, errlen};
        rc = parse_row(&x, row, &m->inst[m->ninst]);
        if (rc == AT_ERANGE) {
            /* Names longer than sim_inst holds (BABYDOGE-USDT-SWAP's ctValCcy
             * "BABYDOGE"): skip the row rather than refuse a real file. */
            memset(&m->inst[m->ninst], 0, sizeof(m->inst[0]));
            rc = AT_OK;
            continue;
        }
        if (rc != AT_OK) {
            goto done;
        }
        m->ninst++;
    }
    if (m->ninst == 0) {
        snprintf(err, errlen, "%s: no linear SWAP instruments in \"data\"", path);
        rc = AT_EINVAL;
        goto done;
    }
    if ((rc = check_unique(m, path, err, errlen)) != AT_OK) {
        goto done;
    }
    for (size_t i = 0; i < m->ninst; i++) {
        init_state(m, i, builtin_find(m->inst[i].inst_id));
    }
done:
    json_decref(root);
    return rc;
}

int mkt_load_instruments(sim_market *m, const char *json_path, char *err, size_t errlen)
{
    if (!json_path) {
        load_builtin(m);
        return AT_OK;
    }
    return load_file(m, json_path, err, errlen);
}

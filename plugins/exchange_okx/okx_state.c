/* The instance state shown by /api/health and published as STATUS, from the
 * connections (exchange_okx) or the market data seen (exchange_paper). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_replay.h"

const char *okx_jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

bool okx_private(const okx_ctx *c)
{
    return c->replay_account || (c->api_key && *c->api_key && c->secret_key && *c->secret_key &&
                                 c->passphrase && *c->passphrase);
}

at_venue_class okx_venue_class(okx_ctx *c)
{
    if (c->paper) {
        return AT_VENUE_PAPER;
    }
    if (!okx_private(c) || (c->replay && !c->replay_account)) {
        return AT_VENUE_DATA_ONLY;
    }
    return c->demo ? AT_VENUE_DEMO : AT_VENUE_LIVE;
}

void okx_refresh_state(okx_ctx *c)
{
    if (!c->started) {
        return;
    }
    bool pub = c->paper    ? c->paper_market_seen
               : c->replay ? c->player && !c->replay_done
                           : c->ws_pub && okx_ws_up(c->ws_pub);
    /* The algo feed is part of the private side: without it the engine
     * would not see a TP/SL left behind by a closed position. */
    bool algo_up = c->replay_account ? c->rp_algo_up : c->ws_algo && okx_ws_up(c->ws_algo);
    bool priv = c->paper ? c->have_config
                : c->replay_account
                    ? c->have_config && c->rp_priv_up && algo_up
                    : !okx_private(c) || (c->ws_priv && okx_ws_up(c->ws_priv) && algo_up);
    char detail[160];
    if (c->paper) {
        snprintf(detail, sizeof(detail), "paper venue, %zu instruments; market data %s", c->nwatch,
                 pub ? "flowing" : "awaited");
    } else if (c->replay) {
        snprintf(detail, sizeof(detail), "%zu instruments; %s%s", c->nwatch,
                 pub ? "replaying a recording" : "replay finished: no more market data",
                 c->replay_account ? ", the account's too" : "");
    } else {
        bool keys = okx_private(c);
        snprintf(detail, sizeof(detail), "%zu instruments; public %s%s%s%s", c->nwatch,
                 pub ? "up" : "down", keys ? ", private " : "", keys ? (priv ? "up" : "down") : "",
                 keys && !algo_up && c->ws_priv && okx_ws_up(c->ws_priv) ? " (algo orders feed)"
                                                                         : "");
    }
    at_state st = !c->insts       ? AT_STATE_STARTING
                  : pub && priv   ? AT_STATE_UP
                  : !pub && !priv ? AT_STATE_DOWN
                                  : AT_STATE_DEGRADED;
    c->h->set_state(c->inst, st, detail);
}

/* Resolve what the user wrote (BTC, BTC/USDT:USDT, BTC-USDT-SWAP) against
 * the loaded instruments into c->watch. */
int okx_watch_resolve(okx_ctx *c)
{
    c->watch = calloc(c->instruments.n ? c->instruments.n : 1, sizeof(*c->watch));
    for (size_t i = 0; c->watch && i < c->instruments.n && c->nwatch < OKX_MAX_SUBS; i++) {
        const okx_inst *in = okx_insts_find(c->insts, c->instruments.items[i]);
        if (!in) {
            c->h->log(c->inst, AT_LOG_ERROR, "instrument '%s' is not an OKX swap; ignored",
                      c->instruments.items[i]);
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < c->nwatch; k++) {
            dup |= c->watch[k].inst == in;
        }
        if (!dup) {
            c->watch[c->nwatch].inst = in;
            okx_book_init(&c->watch[c->nwatch].book);
            c->nwatch++;
        }
    }
    c->h->log(c->inst, AT_LOG_INFO, "%zu OKX swaps listed; following %zu",
              okx_insts_count(c->insts), c->nwatch);
    return c->watch ? AT_OK : AT_ENOMEM;
}

int okx_insts_from_reply(okx_ctx *c, const okx_reply *r, char *err, size_t errlen)
{
    err[0] = '\0';
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !r->root) {
        snprintf(err, errlen, "instruments: %s%s%s (HTTP %d)", r->code, *r->code ? " " : "", r->msg,
                 r->http);
        return AT_EIO;
    }
    char *body = okx_json_dumps(r->root, JSON_COMPACT);
    okx_insts *in = okx_insts_new(c->h);
    int rc = body && in ? okx_insts_load_json(in, body, strlen(body), err, errlen) : AT_ENOMEM;
    free(body);
    if (rc != AT_OK) {
        okx_insts_free(in);
        if (!err[0]) {
            snprintf(err, errlen, "instruments: out of memory");
        }
        return rc;
    }
    if (err[0]) {
        c->h->log(c->inst, AT_LOG_WARN, "%s", err); /* rows skipped */
    }
    c->insts = in;
    return AT_OK;
}

char *okx_json_dumps(const json_t *j, size_t flags)
{
    /* json_dumpb writes through a callback that cannot fail: its only
     * failures (memory for the loop check) are returned, never swallowed. */
    size_t n = json_dumpb(j, NULL, 0, flags);
    char *s = n ? malloc(n + 1) : NULL;
    if (!s || json_dumpb(j, s, n, flags) != n) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

void okx_alert(okx_ctx *c, at_log_level level, const char *text)
{
    c->h->log(c->inst, level, "%s", text);
    at_ev_alert *a = (at_ev_alert *)c->h->event_new(c->inst, AT_EV_ALERT, strlen(text) + 1);
    if (a) {
        a->level = level;
        a->message = c->h->event_strdup(&a->h, text);
        c->h->publish(c->inst, &a->h, 0);
    }
}

/* A venue that sends one bad value usually sends it with every push (a few
 * a second): a few lines a minute say it, the count says how often. One
 * budget per kind (okx_warn_kind). */
#define WARN_WINDOW_US 60000000
#define WARN_LINES 5

void okx_warn_limited(okx_ctx *c, okx_warn_kind kind, const char *fmt, ...)
{
    struct okx_warn_budget *b =
        &c->warn[kind == OKX_WARN_ORDERS ? OKX_WARN_ORDERS : OKX_WARN_ACCOUNT];
    int64_t now = c->h->now_us();
    if (b->window_us == 0 || now - b->window_us >= WARN_WINDOW_US) {
        b->window_us = now;
        b->lines = 0;
    }
    if (b->lines >= WARN_LINES) {
        b->quiet++;
        return;
    }
    b->lines++;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (b->quiet) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "%s (%llu similar warnings since the previous one not logged)", text,
                  (unsigned long long)b->quiet);
        b->quiet = 0;
    } else {
        c->h->log(c->inst, AT_LOG_WARN, "%s", text);
    }
}

void okx_refuse(okx_ctx *c, okx_warn_kind kind, const char *what, const char *field,
                const json_t *v, const char *then)
{
    char raw[64] = "missing";
    if (v) {
        /* as JSON: quoted, control characters escaped */
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(raw, sizeof(raw), "%.48s%s", s ? s : "(unprintable)",
                 s && strlen(s) > 48 ? "..." : "");
        free(s);
    }
    okx_warn_limited(c, kind, "%s refused: %s %s %s; %s", what, field, v ? "=" : "is", raw, then);
}

bool okx_field_dec(okx_ctx *c, okx_warn_kind kind, const char *what, const char *then,
                   const json_t *o, const char *k, bool required, at_dec *out)
{
    const json_t *v = json_object_get(o, k);
    const char *s = json_string_value(v);
    *out = (at_dec){0, 0};
    if (!required && (!v || json_is_null(v) || (s && !*s))) {
        return true;
    }
    if (s && *s && c->h->dec_parse(s, (size_t)-1, out) == AT_OK) {
        return true;
    }
    *out = (at_dec){0, 0};
    okx_refuse(c, kind, what, k, v, then);
    return false;
}

at_db_value okx_db_dec(okx_ctx *c, const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    at_dec d;
    if (!s || !*s || c->h->dec_parse(s, (size_t)-1, &d) != AT_OK) {
        return AT_DB_N; /* OKX's "" (none) is SQL NULL, never '' in a NUMERIC */
    }
    return AT_DB_D(d);
}

static void load_instruments(okx_ctx *c);

static void retry_instruments(void *arg)
{
    okx_ctx *c = arg;
    c->retry = NULL; /* one-shot: freed by the host */
    load_instruments(c);
}

/* The list is in c->insts: resolve the configured instruments, record the
 * list when recording, go on. */
static void instruments_in(okx_ctx *c, const okx_reply *r)
{
    if (okx_watch_resolve(c) != AT_OK) {
        c->h->set_state(c->inst, AT_STATE_DOWN, "out of memory resolving instruments");
        return;
    }
    okx_record_instruments(c, r);
    c->insts_ready(c, r);
}

static void on_instruments(void *arg, const okx_reply *r)
{
    okx_ctx *c = arg;
    char err[256];
    if (okx_insts_from_reply(c, r, err, sizeof(err)) != AT_OK) {
        c->h->log(c->inst, AT_LOG_WARN, "%s; retrying in 5 s", err);
        c->h->set_state(c->inst, AT_STATE_DEGRADED, err);
        c->retry = c->h->timer_add(c->inst, 5000, 0, retry_instruments, c);
        return;
    }
    instruments_in(c, r);
}

static void rest_instruments(okx_ctx *c)
{
    if (okx_rest_get(c->insts_rest, "/api/v5/public/instruments", "instType=SWAP", false,
                     on_instruments, c) != AT_OK) {
        c->h->log(c->inst, AT_LOG_ERROR, "instruments: request could not be queued");
    }
}

/* instruments_file: the same answer, saved (e.g. curl
 * 'https://www.okx.com/api/v5/public/instruments?instType=SWAP'), or a
 * recording carrying one (its last instruments: line before the first
 * frame, okx_replay.h); without instruments_file a replay's own recording,
 * when it carries one (else OKX is asked, as live). Read at once; a file
 * that cannot be used stops the start with the reason. */
static void file_instruments(void *arg)
{
    okx_ctx *c = arg;
    c->retry = NULL;
    const char *path = c->instruments_file ? c->instruments_file : c->replay;
    const char *key = c->instruments_file ? "instruments_file" : "replay";
    json_t *root = NULL;
    uint64_t line = 0;
    okx_rec_kind first = OKX_REC_SKIP;
    char err[400], rerr[360];
    /* replay_from: the list of the run played (a recording takes every run's) */
    int rc = okx_rec_instruments(path, c->replay_from, &root, &line, &first, rerr, sizeof(rerr));
    if (rc == AT_ENOENT && !c->instruments_file) {
        c->h->log(c->inst, AT_LOG_INFO,
                  "replay %s has no instruments: line before its first frame: asking OKX for "
                  "the instrument list",
                  path);
        rest_instruments(c);
        return;
    }
    if (rc == AT_ENOENT && (first == OKX_REC_TIMED || first == OKX_REC_PRIVATE)) {
        snprintf(err, sizeof(err),
                 "instruments_file %s: a recording without an instruments: line before its first "
                 "frame (record it again with this version, or give a saved /public/instruments "
                 "answer)",
                 path);
    } else if (rc == AT_ENOENT) { /* not a recording: the answer itself */
        json_error_t je;
        root = json_load_file(path, 0, &je);
        const char *code = root ? json_string_value(json_object_get(root, "code")) : NULL;
        if (!root) {
            snprintf(err, sizeof(err), "instruments_file %s:%d: %s", path, je.line, je.text);
        } else if (!code || strcmp(code, "0") != 0 ||
                   !json_is_array(json_object_get(root, "data"))) {
            snprintf(err, sizeof(err),
                     "instruments_file %s: not an OKX /public/instruments answer "
                     "({\"code\":\"0\",\"data\":[…]}) nor a recording with an instruments: "
                     "line",
                     path);
        } else {
            rc = AT_OK;
        }
    } else if (rc != AT_OK) {
        snprintf(err, sizeof(err), "%s %s", key, rerr); /* rerr names the file (and line) */
    } else {
        c->h->log(c->inst, AT_LOG_INFO, "instrument list from %s:%" PRIu64, path, line);
    }
    if (rc == AT_OK) {
        okx_reply r = {.err = AT_OK,
                       .http = 200,
                       .code = "0",
                       .msg = "",
                       .data = json_object_get(root, "data"),
                       .root = root};
        if (okx_insts_from_reply(c, &r, err, sizeof(err)) == AT_OK) {
            instruments_in(c, &r);
            json_decref(root);
            return;
        }
    }
    json_decref(root);
    okx_alert(c, AT_LOG_ERROR, err);
    c->h->set_state(c->inst, AT_STATE_DOWN, err);
}

static void load_instruments(okx_ctx *c)
{
    if (c->instruments_file || c->replay) {
        /* Not inside start: the ready callback runs from the loop as for REST. */
        c->retry = c->h->timer_add(c->inst, 0, 0, file_instruments, c);
        return;
    }
    rest_instruments(c);
}

void okx_load_instruments(okx_ctx *c, okx_rest *rest, void (*ready)(okx_ctx *c, const okx_reply *r))
{
    c->insts_rest = rest;
    c->insts_ready = ready;
    load_instruments(c);
}

void okx_store_instruments(okx_ctx *c, json_t *data)
{
    int64_t now = c->h->now_us() / 1000;
    size_t i;
    json_t *row;
    json_array_foreach(data, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "instId"));
        if (!id || !okx_watch_find(c, id, strlen(id))) {
            continue; /* keep the table to what this instance follows */
        }
        char *raw = okx_json_dumps(row, JSON_COMPACT);
#define S(k) AT_DB_S(json_string_value(json_object_get(row, k)))
        const at_db_value p[] = {AT_DB_S(c->name),
                                 AT_DB_S(id),
                                 S("instType"),
                                 okx_db_dec(c, row, "ctVal"),
                                 S("ctValCcy"),
                                 okx_db_dec(c, row, "ctMult"),
                                 okx_db_dec(c, row, "lotSz"),
                                 okx_db_dec(c, row, "minSz"),
                                 okx_db_dec(c, row, "tickSz"),
                                 okx_db_dec(c, row, "lever"),
                                 S("settleCcy"),
                                 S("state"),
                                 AT_DB_S(raw),
                                 AT_DB_I(now)};
#undef S
        c->h->db_write(c->inst,
                       "INSERT INTO instruments (exchange, inst_id, inst_type, ct_val, ct_val_ccy, "
                       "ct_mult, lot_sz, min_sz, tick_sz, max_lever, settle_ccy, state, raw_json, "
                       "updated_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) "
                       "ON CONFLICT (exchange, inst_id) DO UPDATE SET inst_type = $3, ct_val = $4, "
                       "ct_val_ccy = $5, ct_mult = $6, lot_sz = $7, min_sz = $8, tick_sz = $9, "
                       "max_lever = $10, settle_ccy = $11, state = $12, raw_json = $13, "
                       "updated_ms = $14",
                       p, sizeof(p) / sizeof(p[0]), NULL, NULL);
        free(raw);
    }
}

/* The fixture of exchange_okx's push and question tests (test_okx_fills,
 * test_okx_asks): an okx_ctx on the mock host (okx_mock.h) whose REST goes to
 * an in-process venue the test programs (trade/order and trade/fills
 * answers, every call logged with its simulated time), and a database of
 * fills and orders rows the test reads and fills. */
#ifndef OKX_PUSH_FIXTURE_H
#define OKX_PUSH_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "okx_mock.h"
#include "okx_plugin.h"

#define FX_UNUSED __attribute__((unused))

static const char INSTS[] =
    "{\"code\":\"0\",\"msg\":\"\",\"data\":["
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
    "\"instFamily\":\"BTC-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"100000000\",\"maxMktSz\":\"12000\",\"lever\":\"100\","
    "\"state\":\"live\"}]}";

/* A partially filled limit buy and the fill its push carries (the shape of
 * OKX's orders channel, SWAP). */
static const char ORDER[] =
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\","
    "\"tag\":\"\",\"px\":\"50000.1\",\"sz\":\"2\",\"ordType\":\"limit\",\"side\":\"buy\","
    "\"posSide\":\"long\",\"tdMode\":\"cross\",\"accFillSz\":\"1.5\",\"fillPx\":\"50000.1\","
    "\"tradeId\":\"t1\",\"fillSz\":\"1.5\",\"fillTime\":\"1700000000123\",\"fillFee\":\"-0.0375\","
    "\"fillFeeCcy\":\"USDT\",\"execType\":\"M\",\"avgPx\":\"50000.1\",\"state\":"
    "\"partially_filled\",\"fee\":\"-0.0375\",\"feeCcy\":\"USDT\",\"reduceOnly\":\"false\","
    "\"cTime\":\"1700000000000\",\"uTime\":\"1700000000123\"}";

/* A market order before any fill, as OKX pushes it. */
static const char MARKET_LIVE[] =
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1002\",\"clOrdId\":\"c2\","
    "\"px\":\"\",\"sz\":\"3\",\"ordType\":\"market\",\"side\":\"sell\",\"posSide\":\"net\","
    "\"accFillSz\":\"0\",\"fillPx\":\"\",\"tradeId\":\"\",\"fillSz\":\"0\",\"fillTime\":\"\","
    "\"fillFee\":\"0\",\"fillFeeCcy\":\"\",\"execType\":\"\",\"avgPx\":\"\",\"state\":\"live\","
    "\"fee\":\"0\",\"feeCcy\":\"USDT\",\"reduceOnly\":\"false\",\"cTime\":\"1700000000000\","
    "\"uTime\":\"1700000000000\"}";

/* A trade/fills row (the fee is "fee" there). */
#define FILL_ROW(trade, px, sz, fee)                                                               \
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"ordId\":\"1001\",\"clOrdId\":\"c1\","   \
    "\"tradeId\":\"" trade "\",\"billId\":\"9\",\"side\":\"buy\",\"posSide\":\"long\","            \
    "\"fillPx\":\"" px "\",\"fillSz\":\"" sz "\",\"fee\":\"" fee "\",\"feeCcy\":\"USDT\","         \
    "\"execType\":\"M\",\"fillTime\":\"1700000000123\",\"ts\":\"1700000000124\"}"

static okx_ctx C;

/* ------------------------------------------------------------ the venue */

/* okx_rest's in-process backend: trade/order and trade/fills answer what the
 * test put there (or what its hooks say); every call is logged. */
static char order_answer[8192], fills_answer[8192];
static int order_gets, fills_gets, posts;
static char order_query[512], fills_query[512];

#define FX_CALLS 8192
static struct fx_call {
    char method[8], path[48], query[160];
    int64_t at_us;
} calls[FX_CALLS];
static int ncalls;

/* Optional: the answer to a trade/order or trade/fills query (malloc'd
 * JSON body), or NULL for the default. */
static char *(*order_hook)(const char *query);
static char *(*fills_hook)(const char *query);
/* The answer to a POST (default: accepted, ordId 42). */
static const char *post_answer;
static int post_status = 200;

static int local_call(void *arg, const char *method, const char *path, const char *query,
                      const char *body, char **resp, size_t *resp_len)
{
    (void)arg;
    (void)body;
    if (ncalls < FX_CALLS) {
        snprintf(calls[ncalls].method, sizeof(calls[0].method), "%s", method);
        snprintf(calls[ncalls].path, sizeof(calls[0].path), "%s", path);
        snprintf(calls[ncalls].query, sizeof(calls[0].query), "%s", query);
        calls[ncalls++].at_us = M.now_us;
    }
    int status = 200;
    const char *answer = "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}";
    char *made = NULL;
    if (strcmp(method, "POST") == 0) {
        posts++;
        answer = post_answer ? post_answer
                             : "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ordId\":\"42\","
                               "\"clOrdId\":\"\",\"sCode\":\"0\",\"sMsg\":\"\"}]}";
        status = post_status;
    } else if (strcmp(path, "/api/v5/trade/order") == 0) {
        order_gets++;
        snprintf(order_query, sizeof(order_query), "%s", query);
        made = order_hook ? order_hook(query) : NULL;
        answer = made ? made : order_answer;
    } else if (strcmp(path, "/api/v5/trade/fills") == 0) {
        fills_gets++;
        snprintf(fills_query, sizeof(fills_query), "%s", query);
        made = fills_hook ? fills_hook(query) : NULL;
        answer = made ? made : fills_answer;
    }
    *resp = strdup(answer);
    *resp_len = strlen(answer);
    free(made);
    return status;
}

static FX_UNUSED void answer_order(const char *item)
{
    snprintf(order_answer, sizeof(order_answer), "{\"code\":\"0\",\"msg\":\"\",\"data\":[%s]}",
             item);
}

static FX_UNUSED void answer_fills(const char *items)
{
    snprintf(fills_answer, sizeof(fills_answer), "{\"code\":\"0\",\"msg\":\"\",\"data\":[%s]}",
             items);
}

/* OKX busy: every question fails. */
static FX_UNUSED void venue_busy(void)
{
    snprintf(order_answer, sizeof(order_answer),
             "{\"code\":\"50013\",\"msg\":\"Systems are busy\",\"data\":[]}");
    snprintf(fills_answer, sizeof(fills_answer), "%s", order_answer);
}

/* Calls logged with this method and path whose query contains `needle`
 * (NULL: any). */
static FX_UNUSED int calls_to(const char *method, const char *path, const char *needle)
{
    int n = 0;
    for (int i = 0; i < ncalls; i++) {
        n += strcmp(calls[i].method, method) == 0 && strcmp(calls[i].path, path) == 0 &&
             (!needle || strstr(calls[i].query, needle));
    }
    return n;
}

/* ------------------------------------------------------------ the database */

/* The fills rows written (trade id, size) and the orders rows the resync
 * reads: what "seen" means for a fill. */
#define FX_FILLS 512
static struct fx_fill {
    char trade[48], ord[48], sz[48];
} stored[FX_FILLS];
static int nstored;
#define stored_fills(i) (stored[i].trade)

#define FX_ROWS 1024
static struct fx_row {
    char cl[48], inst[48], state[24];
} open_rows[FX_ROWS];
static int nopen;
static int order_selects; /* resync reads of the orders table */

/* c1 live here (the order of ORDER) */
static FX_UNUSED void open_order_row(const char *cl, const char *state)
{
    if (nopen < FX_ROWS) {
        snprintf(open_rows[nopen].cl, sizeof(open_rows[0].cl), "%s", cl);
        snprintf(open_rows[nopen].inst, sizeof(open_rows[0].inst), "BTC-USDT-SWAP");
        snprintf(open_rows[nopen].state, sizeof(open_rows[0].state), "%s", state);
        nopen++;
    }
}

static void on_write(const char *sql, const at_db_value *p, size_t n)
{
    if (strncmp(sql, "INSERT INTO fills", 17) == 0 && n > 8 && nstored < FX_FILLS) {
        snprintf(stored[nstored].trade, sizeof(stored[0].trade), "%s", p[2].u.s);
        snprintf(stored[nstored].ord, sizeof(stored[0].ord), "%s", p[3].u.s ? p[3].u.s : "");
        C.h->dec_format(p[8].u.d, stored[nstored].sz);
        nstored++;
    }
}

/* Reads answer at once from the tables above (the answer's completion comes
 * later, after M.db_latency_us). */
static void rows(const char *sql, const at_db_value *p, size_t n, at_db_row_cb row, void *arg)
{
    if (strncmp(sql, "SELECT trade_id FROM fills", 26) == 0 && n > 2) {
        for (int i = 0; i < nstored; i++) {
            if (strcmp(stored[i].trade, p[2].u.s) == 0) {
                at_db_value v = AT_DB_S(stored[i].trade);
                at_db_row r = {1, NULL, &v};
                row(arg, &r);
                return;
            }
        }
    } else if (strncmp(sql, "SELECT trade_id, sz FROM fills", 30) == 0 && n > 2) {
        for (int i = 0; i < nstored; i++) {
            if (strcmp(stored[i].ord, p[2].u.s) == 0) {
                at_db_value v[2] = {AT_DB_S(stored[i].trade), AT_DB_S(stored[i].sz)};
                at_db_row r = {2, NULL, v};
                if (row(arg, &r)) {
                    return;
                }
            }
        }
    } else if (strncmp(sql, "SELECT cl_ord_id, inst_id", 25) == 0) {
        order_selects++;
        /* the rows in the states the query names */
        for (int i = 0; i < nopen; i++) {
            char quoted[32];
            snprintf(quoted, sizeof(quoted), "'%s'", open_rows[i].state);
            if (strstr(sql, quoted)) {
                at_db_value v[3] = {AT_DB_S(open_rows[i].cl), AT_DB_S(open_rows[i].inst),
                                    AT_DB_S(open_rows[i].state)};
                at_db_row r = {3, NULL, v};
                if (row(arg, &r)) {
                    return;
                }
            }
        }
    }
}

/* ------------------------------------------------------------ fixture */

static int fx_setup(void)
{
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    M.on_write = on_write;
    M.rows = rows;
    C.name = "exchange.okx_test";
    C.started = true;
    C.have_config = true;
    C.timeout_ms = 1000;
    C.insts = okx_insts_new(C.h);
    char err[256];
    if (!C.insts || okx_insts_load_json(C.insts, INSTS, strlen(INSTS), err, sizeof(err)) != AT_OK) {
        return -1;
    }
    okx_rest_opts o = {.base_url = "paper://local", .local = local_call};
    C.rest = okx_rest_new(C.h, NULL, &o);
    if (!C.rest) {
        return -1;
    }
    answer_order(ORDER);
    answer_fills(FILL_ROW("t1", "50000.1", "1.5", "-0.0375"));
    order_hook = fills_hook = NULL;
    post_answer = NULL;
    post_status = 200;
    order_gets = fills_gets = posts = 0;
    order_query[0] = fills_query[0] = '\0';
    ncalls = 0;
    nstored = 0;
    nopen = 0;
    order_selects = 0;
    return 0;
}

static void fx_teardown(void)
{
    okx_trade_stop(&C); /* the questions still waiting */
    okx_rest_free(C.rest);
    okx_insts_free(C.insts);
    mock_reset();
}

/* `base` with `key` set to the JSON `value` ("\"NaN\"", "1.5", "null"), or
 * removed when value is NULL; more pairs may follow, up to a NULL key. */
static FX_UNUSED char *order_with(const char *base, ...)
{
    json_t *o = json_loads(base, 0, NULL);
    assert_non_null(o);
    va_list ap;
    va_start(ap, base);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (!v) {
            json_object_del(o, k);
            continue;
        }
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        json_object_set_new(o, k, j);
    }
    va_end(ap);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

static FX_UNUSED void push(const char *item)
{
    char buf[8192];
    snprintf(buf, sizeof(buf),
             "{\"arg\":{\"channel\":\"orders\",\"instType\":\"SWAP\",\"uid\":\"1\"},\"data\":[%s]}",
             item);
    okx_account_on_private(&C, buf, strlen(buf));
}

static FX_UNUSED at_dec dec(const char *s)
{
    at_dec d;
    assert_int_equal(C.h->dec_parse(s, (size_t)-1, &d), AT_OK);
    return d;
}

static FX_UNUSED void assert_dec(at_dec got, const char *want)
{
    if (C.h->dec_cmp(got, dec(want)) != 0) {
        char s[AT_DEC_STRLEN];
        C.h->dec_format(got, s);
        fail_msg("got %s, want %s", s, want);
    }
}

static FX_UNUSED void assert_logged(at_log_level level, const char *needle)
{
    if (mock_logged(level, needle) == 0) {
        mock_print_logs();
        fail_msg("no log line containing: %s", needle);
    }
}

static FX_UNUSED const at_ev_fill *fill_event(size_t nth)
{
    const at_ev_fill *f = (const at_ev_fill *)mock_event(AT_EV_FILL, nth);
    assert_non_null(f);
    return f;
}

/* Nothing of a push was used: no event, no row. */
static FX_UNUSED void assert_nothing_used(void)
{
    assert_int_equal(mock_count(AT_EV_ORDER), 0);
    assert_int_equal(mock_count(AT_EV_FILL), 0);
    assert_int_equal(mock_writes("UPDATE orders"), 0);
    assert_int_equal(mock_writes("INSERT INTO fills"), 0);
}

#endif

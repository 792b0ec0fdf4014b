/* exchange_okx's order requests when memory runs out. Building a request
 * (okx_order_build) allocates with jansson; a failed allocation must be an
 * error (AT_ENOMEM, "out of memory …"), never a request sent without the
 * field it lost, never "success". Every allocation of every kind of request
 * is made to fail in turn (jansson's allocator hook), directly and through
 * the whole intent path (the executor's submit -> ORDER_RESULT, the REST call going
 * to an in-process backend as exchange_paper's does). */
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
#include "okx_order.h"
#include "okx_plugin.h"

static const char INSTS[] =
    "{\"code\":\"0\",\"msg\":\"\",\"data\":["
    "{\"instType\":\"SWAP\",\"instId\":\"BTC-USDT-SWAP\",\"uly\":\"BTC-USDT\","
    "\"instFamily\":\"BTC-USDT\",\"ctType\":\"linear\",\"ctVal\":\"0.01\",\"ctMult\":\"1\","
    "\"ctValCcy\":\"BTC\",\"settleCcy\":\"USDT\",\"tickSz\":\"0.1\",\"lotSz\":\"0.01\","
    "\"minSz\":\"0.01\",\"maxLmtSz\":\"100000000\",\"maxMktSz\":\"12000\",\"lever\":\"100\","
    "\"state\":\"live\"}]}";

/* ------------------------------------------------------------ allocator */

static long alloc_count;
static long alloc_fail_at = -1; /* the index of the allocation that fails */

static void *counting_malloc(size_t n)
{
    if (alloc_count++ == alloc_fail_at) {
        return NULL;
    }
    return malloc(n);
}

static void alloc_hook(long fail_at)
{
    alloc_count = 0;
    alloc_fail_at = fail_at;
    json_set_alloc_funcs(counting_malloc, free);
}

static void alloc_unhook(void)
{
    json_set_alloc_funcs(malloc, free);
}

/* ------------------------------------------------------------ fixture */

static okx_ctx C;
static const okx_inst *BTC;
static char posts[8][2048];
static int nposts;

/* okx_rest's in-process backend: every POST accepted, every GET empty. */
static int local_call(void *arg, const char *method, const char *path, const char *query,
                      const char *body, char **resp, size_t *resp_len)
{
    (void)arg;
    (void)path;
    (void)query;
    const char *answer = "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}";
    if (strcmp(method, "POST") == 0) {
        if (nposts < 8) {
            snprintf(posts[nposts++], sizeof(posts[0]), "%s", body);
        }
        answer = "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ordId\":\"42\",\"clOrdId\":\"t1\","
                 "\"sCode\":\"0\",\"sMsg\":\"\"}]}";
    }
    *resp = strdup(answer);
    *resp_len = strlen(answer);
    return 200;
}

static int setup(void **state)
{
    (void)state;
    memset(&C, 0, sizeof(C));
    C.h = mock_host();
    C.name = "exchange.okx_test";
    C.have_config = true;
    C.timeout_ms = 1000;
    C.insts = okx_insts_new(C.h);
    char err[256];
    if (!C.insts || okx_insts_load_json(C.insts, INSTS, strlen(INSTS), err, sizeof(err)) != AT_OK) {
        return -1;
    }
    BTC = okx_insts_find(C.insts, "BTC-USDT-SWAP");
    okx_rest_opts o = {.base_url = "paper://local", .local = local_call};
    C.rest = okx_rest_new(C.h, NULL, &o);
    if (!BTC || !C.rest || okx_trade_start(&C) != AT_OK) {
        return -1;
    }
    mock_run(); /* the start's reconciliation reads */
    mock_clear();
    nposts = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alloc_unhook();
    okx_trade_stop(&C);
    okx_rest_free(C.rest);
    okx_insts_free(C.insts);
    mock_reset();
    return 0;
}

static at_dec D(const char *s)
{
    at_dec d = {0, 0};
    assert_int_equal(C.h->dec_parse(s, (size_t)-1, &d), AT_OK);
    return d;
}

static at_ev_order_intent intent(at_intent_op op)
{
    at_ev_order_intent ev;
    memset(&ev, 0, sizeof(ev));
    ev.h.type = AT_EV_ORDER_INTENT;
    ev.h.inst = BTC->id;
    snprintf(ev.intent_id, sizeof(ev.intent_id), "t1");
    snprintf(ev.cl_ord_id, sizeof(ev.cl_ord_id), "t1");
    snprintf(ev.account, sizeof(ev.account), "exchange.okx_test");
    ev.op = op;
    ev.side = AT_SIDE_BUY;
    switch (op) {
    case AT_INTENT_PLACE:
        ev.ord_type = AT_ORDT_LIMIT;
        ev.sz = D("1.234");
        ev.px = D("50000.17");
        ev.tp_trigger_px = D("60000");
        ev.sl_trigger_px = D("45000");
        break;
    case AT_INTENT_AMEND:
        ev.sz = D("2");
        ev.px = D("50100.05");
        /* fall through */
    case AT_INTENT_CANCEL:
    case AT_INTENT_CANCEL_ALGO:
        snprintf(ev.ord_id, sizeof(ev.ord_id), "777");
        break;
    default:
        break;
    }
    return ev;
}

static const at_intent_op OPS[] = {AT_INTENT_PLACE, AT_INTENT_CANCEL, AT_INTENT_AMEND,
                                   AT_INTENT_CLOSE_POSITION, AT_INTENT_CANCEL_ALGO};

/* ------------------------------------------------------------ tests */

/* What is built when nothing fails (the bytes OKX gets). */
static void test_place_body(void **state)
{
    (void)state;
    at_ev_order_intent ev = intent(AT_INTENT_PLACE);
    okx_order_req req;
    char why[256];
    assert_int_equal(okx_order_build(&C, &ev, BTC, &req, why, sizeof(why)), AT_OK);
    assert_string_equal(req.path, "/api/v5/trade/order");
    assert_string_equal(
        req.body,
        "{\"instId\":\"BTC-USDT-SWAP\",\"tdMode\":\"cross\",\"side\":\"buy\",\"ordType\":"
        "\"limit\",\"sz\":\"1.23\",\"px\":\"50000.1\",\"clOrdId\":\"t1\",\"attachAlgoOrds\":[{"
        "\"attachAlgoClOrdId\":\"t1a\",\"tpTriggerPx\":\"60000\",\"tpOrdPx\":\"-1\","
        "\"slTriggerPx\":\"45000\",\"slOrdPx\":\"-1\"}]}");
    assert_int_equal(C.h->dec_cmp(req.sent_sz, D("1.23")), 0);
    assert_int_equal(C.h->dec_cmp(req.sent_px, D("50000.1")), 0);
}

/* Refusals are codes with a reason, as before. */
static void test_refusals_are_codes_and_reasons(void **state)
{
    (void)state;
    okx_order_req req;
    char why[256];
    at_ev_order_intent ev = intent(AT_INTENT_PLACE);
    ev.px = (at_dec){0, 0};
    assert_int_equal(okx_order_build(&C, &ev, BTC, &req, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "a limit order needs a positive price");
    assert_null(req.path);
    ev = intent(AT_INTENT_PLACE);
    ev.sz = D("0.001");
    assert_true(okx_order_build(&C, &ev, BTC, &req, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "minSz"));
    ev = intent(AT_INTENT_CANCEL_ALGO);
    ev.ord_id[0] = '\0';
    assert_int_equal(okx_order_build(&C, &ev, BTC, &req, why, sizeof(why)), AT_EINVAL);
    assert_string_equal(why, "cancel_algo needs the algoId (ord_id)");
}

/* A shadow intent never reaches OKX; a paper venue (exchange_paper runs
 * this code) fills it hypothetically, its orders row flagged shadow. */
static void test_shadow_only_on_paper(void **state)
{
    (void)state;
    at_ev_order_intent ev = intent(AT_INTENT_PLACE);
    ev.shadow = true;
    okx_trade_submit(&C, &ev);
    mock_run();
    assert_int_equal(nposts, 0);
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 1);
    const at_ev_order_result *r = (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, 0);
    assert_false(r->ok);
    assert_non_null(strstr(r->msg, "a shadow intent is never sent to OKX"));
    mock_clear();
    C.paper = true;
    okx_trade_submit(&C, &ev);
    mock_run();
    assert_int_equal(nposts, 1);
    assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 1);
    r = (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, 0);
    assert_true(r->ok);
    C.paper = false;
}

/* Each allocation of each kind of request fails in turn: an error every
 * time (or, should jansson ever survive one, the full body). */
static void test_build_out_of_memory_is_an_error(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(OPS) / sizeof(OPS[0]); k++) {
        at_ev_order_intent ev = intent(OPS[k]);
        okx_order_req want, got;
        char why[256];
        alloc_hook(-1);
        assert_int_equal(okx_order_build(&C, &ev, BTC, &want, why, sizeof(why)), AT_OK);
        long n = alloc_count;
        assert_true(n > 2);
        long errors = 0;
        for (long i = 0; i < n; i++) {
            alloc_hook(i);
            int rc = okx_order_build(&C, &ev, BTC, &got, why, sizeof(why));
            alloc_unhook();
            if (rc == AT_OK) {
                assert_string_equal(got.body, want.body);
                assert_string_equal(got.path, want.path);
                continue;
            }
            assert_int_equal(rc, AT_ENOMEM);
            assert_string_equal(why, "out of memory building the request");
            assert_null(got.path);
            errors++;
        }
        printf("# op %d: %ld allocations, %ld failures reported\n", (int)OPS[k], n, errors);
        assert_int_equal(errors, n);
    }
}

/* The same through the intent path: the intent's owner gets an ORDER_RESULT
 * that says so and nothing is sent, or the request as it should be. */
static void test_intent_out_of_memory_is_refused(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(OPS) / sizeof(OPS[0]); k++) {
        at_ev_order_intent ev = intent(OPS[k]);
        /* the body without failures, and the allocations it takes */
        mock_clear();
        nposts = 0;
        alloc_hook(-1);
        okx_trade_submit(&C, &ev); /* the executor's call */
        long n = alloc_count;
        alloc_unhook();
        mock_run();
        assert_int_equal(nposts, 1);
        char want[2048];
        snprintf(want, sizeof(want), "%s", posts[0]);
        assert_true(n > 2);
        long refused = 0;
        for (long i = 0; i < n; i++) {
            mock_clear();
            nposts = 0;
            alloc_hook(i);
            okx_trade_submit(&C, &ev); /* the executor's call */
            alloc_unhook();
            mock_run();
            assert_int_equal(mock_count(AT_EV_ORDER_RESULT), 1);
            const at_ev_order_result *r =
                (const at_ev_order_result *)mock_event(AT_EV_ORDER_RESULT, 0);
            if (nposts == 1) {
                assert_string_equal(posts[0], want); /* never a body missing a field */
                assert_true(r->ok);
                continue;
            }
            assert_int_equal(nposts, 0);
            assert_false(r->ok);
            assert_non_null(r->msg);
            assert_non_null(strstr(r->msg, "out of memory"));
            assert_int_equal(mock_logged(AT_LOG_ERROR, "out of memory"), 1);
            refused++;
        }
        assert_int_equal(refused, n);
    }
}

/* jansson's json_dumps can lose a key when its buffer cannot grow (the key
 * write's failure is ignored): okx_json_dumps, which the paper venue's
 * stored state and pushes go through, gives the whole text or none. */
static void test_json_text_whole_or_none(void **state)
{
    (void)state;
    json_t *j = json_pack("{s:s, s:s, s:[{s:s, s:s}], s:s}", "instId", "BTC-USDT-SWAP", "totalEq",
                          "1234.5", "details", "ccy", "USDT", "availEquityOfTheCcy",
                          "1000.123456789", "a_much_longer_key_to_make_the_buffer_grow_again", "x");
    assert_non_null(j);
    char *want = okx_json_dumps(j, JSON_COMPACT);
    assert_non_null(want);
    alloc_hook(-1);
    free(okx_json_dumps(j, JSON_COMPACT));
    long n = alloc_count;
    long none = 0;
    for (long i = 0; i < n; i++) {
        alloc_hook(i);
        char *got = okx_json_dumps(j, JSON_COMPACT);
        alloc_unhook();
        if (got) {
            assert_string_equal(got, want);
        }
        none += got == NULL;
        free(got);
    }
    assert_int_equal(none, n);
    free(want);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_place_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_are_codes_and_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shadow_only_on_paper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_out_of_memory_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_out_of_memory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_text_whole_or_none, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* okx_rest's rate buckets on a simulated clock (in-process backend, no
 * network): keyed as OKX keys its limits, by method and path (GET
 * trade/order, the lookups, and POST trade/order, placing orders, are
 * counted apart at OKX, 60 per 2 s each), and background reads (the
 * questions that catch up with refused pushes) that queue behind every
 * other call of their bucket and never take its last third, so an order
 * operation and its lookups always find room. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_mock.h"
#include "okx_rest.h"

/* ------------------------------------------------------------ the venue */

#define MAX_CALLS 1024

/* Every call the backend got: what, and when (simulated). */
static struct sent {
    char method[8], path[64], query[64];
    int64_t at_us;
} sent[MAX_CALLS];
static int nsent;

static int local_call(void *arg, const char *method, const char *path, const char *query,
                      const char *body, char **resp, size_t *resp_len)
{
    (void)arg;
    (void)body;
    if (nsent < MAX_CALLS) {
        snprintf(sent[nsent].method, sizeof(sent[0].method), "%s", method);
        snprintf(sent[nsent].path, sizeof(sent[0].path), "%s", path);
        snprintf(sent[nsent].query, sizeof(sent[0].query), "%s", query);
        sent[nsent++].at_us = M.now_us;
    }
    const char *answer = "{\"code\":\"0\",\"msg\":\"\",\"data\":[]}";
    *resp = strdup(answer);
    *resp_len = strlen(answer);
    return 200;
}

static okx_rest *R;
static int answered;

static void on_reply(void *arg, const okx_reply *r)
{
    (void)arg;
    assert_int_equal(r->err, AT_OK);
    answered++;
}

static int setup(void **state)
{
    (void)state;
    const at_host *h = mock_host();
    okx_rest_opts o = {.base_url = "paper://local", .local = local_call};
    R = okx_rest_new(h, NULL, &o);
    nsent = 0;
    answered = 0;
    return R ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    okx_rest_free(R);
    mock_reset();
    return 0;
}

/* The index of the n-th sent call with this method and path (-1: none). */
static int sent_index(const char *method, const char *path, int nth)
{
    for (int i = 0; i < nsent; i++) {
        if (strcmp(sent[i].method, method) == 0 && strcmp(sent[i].path, path) == 0 && nth-- == 0) {
            return i;
        }
    }
    return -1;
}

static int count_sent(const char *method, const char *path)
{
    int n = 0;
    for (int i = 0; i < nsent; i++) {
        n += strcmp(sent[i].method, method) == 0 && strcmp(sent[i].path, path) == 0;
    }
    return n;
}

#define ORDER "/api/v5/trade/order"

/* 70 lookups fill GET trade/order's window (60 per 2 s) and wait; an order
 * placed then goes out at once: POST trade/order is a bucket of its own. */
static void test_place_never_waits_behind_lookups(void **state)
{
    (void)state;
    for (int i = 0; i < 70; i++) {
        assert_int_equal(
            okx_rest_get(R, ORDER, "instId=BTC-USDT-SWAP&ordId=1", true, on_reply, NULL), AT_OK);
    }
    int64_t t0 = M.now_us;
    assert_int_equal(okx_rest_post(R, ORDER, "{\"instId\":\"BTC-USDT-SWAP\"}", on_reply, NULL),
                     AT_OK);
    mock_advance(0);
    assert_int_equal(count_sent("GET", ORDER), 60);
    int post = sent_index("POST", ORDER, 0);
    assert_true(post >= 0);
    assert_int_equal(sent[post].at_us, t0);
    mock_advance(2500);
    assert_int_equal(count_sent("GET", ORDER), 70);
    assert_int_equal(answered, 71);
}

/* Each method and path is its own window: after 60 lookups GET trade/order
 * waits, POST trade/order and GET trade/fills do not. */
static void test_buckets_by_method_and_path(void **state)
{
    (void)state;
    for (int i = 0; i < 60; i++) {
        okx_rest_get(R, ORDER, "ordId=1", true, on_reply, NULL);
    }
    mock_advance(0);
    assert_true(okx_rest_wait_ms(R, "GET", ORDER) > 1000);
    assert_int_equal(okx_rest_wait_ms(R, "POST", ORDER), 0);
    assert_int_equal(okx_rest_wait_ms(R, "GET", "/api/v5/trade/fills"), 0);
    assert_int_equal(okx_rest_wait_ms(R, "POST", "/api/v5/trade/cancel-order"), 0);
    mock_advance(2000);
    assert_int_equal(okx_rest_wait_ms(R, "GET", ORDER), 0);
}

/* Background reads take at most 40 of GET trade/order's 60 per 2 s; a
 * lookup queued behind 100 of them goes out at once, and they all go out
 * later, never more than 40 in any 2 s. */
static void test_background_reads_leave_room(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(okx_rest_get_bg(R, ORDER, "ordId=bg", true, on_reply, NULL), AT_OK);
    }
    mock_advance(0);
    assert_int_equal(count_sent("GET", ORDER), 40);
    mock_advance(500);
    assert_int_equal(count_sent("GET", ORDER), 40);
    int64_t t0 = M.now_us;
    okx_rest_get(R, ORDER, "clOrdId=lookup", true, on_reply, NULL);
    mock_advance(0);
    assert_int_equal(nsent, 41);
    assert_string_equal(sent[40].query, "clOrdId=lookup");
    assert_int_equal(sent[40].at_us, t0);
    /* the foreground has the whole window: 19 more go at once */
    for (int i = 0; i < 25; i++) {
        okx_rest_get(R, ORDER, "clOrdId=more", true, on_reply, NULL);
    }
    mock_advance(0);
    assert_int_equal(nsent, 60);
    mock_advance(20000);
    assert_int_equal(answered, 126);
    assert_int_equal(okx_rest_queued(R), 0);
    /* foreground first whenever both wait */
    int last_fg = -1, first_bg_after = -1;
    for (int i = 0; i < nsent; i++) {
        if (strcmp(sent[i].query, "clOrdId=more") == 0) {
            last_fg = i;
        }
    }
    for (int i = 60; i < nsent; i++) {
        if (strcmp(sent[i].query, "ordId=bg") == 0) {
            first_bg_after = i;
            break;
        }
    }
    assert_true(first_bg_after > last_fg);
    for (int i = 0; i < nsent; i++) {
        int in_window = 0;
        for (int k = i; k < nsent && sent[k].at_us < sent[i].at_us + 2000000; k++) {
            in_window += strcmp(sent[k].query, "ordId=bg") == 0;
        }
        if (in_window > 40) {
            fail_msg("%d background reads in the 2 s from call %d", in_window, i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_place_never_waits_behind_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buckets_by_method_and_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_reads_leave_room, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

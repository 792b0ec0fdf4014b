/* HTTP client against a local evhttp server running on the same event base.
 * Every test drives the loop until a condition holds, bounded by wall clock so
 * a bug fails the test instead of hanging it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http.h"
#include "http_xfer.h"
#include "log.h"
#include "util.h"

#define NRES 64
#define SLOW_REPLY_MS 3000
#define BOUND_MS 4000

typedef struct result {
    int calls;
    int sync_calls; /* callbacks that ran inside http_client_request */
    int status;
    int err;
    int attempts;
    char *body;
    size_t len;
    char *error;
    char *headers; /* all lines joined with '\n' */
    struct fx *f;
    void (*then)(struct result *r); /* runs inside the callback */
} result;

typedef struct delayed {
    struct fx *f;
    struct evhttp_request *req;
    struct event *ev;
    struct delayed *next;
} delayed;

typedef struct fx {
    struct event_base *base;
    struct evhttp *srv;
    int port;
    http_client *cli;
    bool in_request;
    int hits_notfound, hits_flaky, hits_limited, hits_slow, hits_fail;
    uint16_t ok_peer_ports[8];
    int nok;
    delayed *slow;
    result res[NRES];
} fx;

/* ---------------------------------------------------------------- server */

static void reply(struct evhttp_request *req, int code, const char *body, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Status", b);
    evbuffer_free(b);
}

static void h_ok(struct evhttp_request *req, void *arg)
{
    fx *f = arg;
    char *addr = NULL;
    uint16_t port = 0;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
    if (f->nok < 8) {
        f->ok_peer_ports[f->nok++] = port;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Server-Tag", "abc");
    reply(req, 200, "hello world", 11);
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "OTHER";
    }
}

static void h_echo(struct evhttp_request *req, void *arg)
{
    const char *hv = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test");
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s\n%s\n", method_name(evhttp_request_get_command(req)), hv ? hv : "");
    evbuffer_add_buffer(b, in);
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void h_notfound(struct evhttp_request *req, void *arg)
{
    ((fx *)arg)->hits_notfound++;
    reply(req, 404, "nope", 4);
}

static void h_flaky(struct evhttp_request *req, void *arg)
{
    fx *f = arg;
    if (++f->hits_flaky <= 2) {
        reply(req, 500, "boom", 4);
    } else {
        reply(req, 200, "recovered", 9);
    }
}

static void h_limited(struct evhttp_request *req, void *arg)
{
    fx *f = arg;
    if (++f->hits_limited == 1) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "0");
        reply(req, 429, "slow down", 9);
    } else {
        reply(req, 200, "after limit", 11);
    }
}

static void h_fail(struct evhttp_request *req, void *arg)
{
    ((fx *)arg)->hits_fail++;
    reply(req, 503, "down", 4);
}

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
    delayed *d = arg;
    for (delayed **p = &d->f->slow; *p; p = &(*p)->next) {
        if (*p == d) {
            *p = d->next;
            break;
        }
    }
    reply(d->req, 200, "late", 4);
    event_free(d->ev);
    free(d);
}

static void h_slow(struct evhttp_request *req, void *arg)
{
    fx *f = arg;
    f->hits_slow++;
    delayed *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->f = f;
    d->req = req;
    d->ev = evtimer_new(f->base, delayed_fire, d);
    d->next = f->slow;
    f->slow = d;
    struct timeval tv = {SLOW_REPLY_MS / 1000, 0};
    evtimer_add(d->ev, &tv);
}

static char pattern_byte(size_t i)
{
    return (char)('a' + (i * 7 + i / 13) % 26);
}

static size_t query_num(struct evhttp_request *req, const char *key)
{
    struct evkeyvalq q;
    size_t n = 0;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query && evhttp_parse_query_str(query, &q) == 0) {
        const char *v = evhttp_find_header(&q, key);
        n = v ? strtoull(v, NULL, 10) : 0;
        evhttp_clear_headers(&q);
    }
    return n;
}

static void h_big(struct evhttp_request *req, void *arg)
{
    size_t n = query_num(req, "n");
    char *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        buf[i] = pattern_byte(i);
    }
    reply(req, 200, buf, n);
    free(buf);
}

static void h_seq(struct evhttp_request *req, void *arg)
{
    char body[32];
    int n = snprintf(body, sizeof body, "seq-%zu", query_num(req, "i"));
    reply(req, 200, body, (size_t)n);
}

static const unsigned char gz_body[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff,
                                        0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48, 0x2b, 0xca, 0xcf,
                                        0x55, 0x48, 0xaf, 0xca, 0x2c, 0xd0, 0x51, 0xc8, 0x40, 0x15,
                                        0x00, 0x00, 0x79, 0x08, 0x58, 0xb7, 0x20, 0x00, 0x00, 0x00};

static void h_gzip(struct evhttp_request *req, void *arg)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Encoding", "gzip");
    reply(req, 200, (const char *)gz_body, sizeof gz_body);
}

/* --------------------------------------------------------------- fixture */

static int group_setup(void **state)
{
    /* A proxy from the environment would swallow requests to 127.0.0.1. */
    const char *vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        unsetenv(vars[i]);
    }
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    curl_global_cleanup();
    log_shutdown();
    return 0;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    f->srv = evhttp_new(f->base);
    assert_non_null(f->srv);
    evhttp_set_allowed_methods(f->srv, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                           EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
    evhttp_set_cb(f->srv, "/ok", h_ok, f);
    evhttp_set_cb(f->srv, "/echo", h_echo, f);
    evhttp_set_cb(f->srv, "/notfound", h_notfound, f);
    evhttp_set_cb(f->srv, "/flaky", h_flaky, f);
    evhttp_set_cb(f->srv, "/limited", h_limited, f);
    evhttp_set_cb(f->srv, "/fail", h_fail, f);
    evhttp_set_cb(f->srv, "/slow", h_slow, f);
    evhttp_set_cb(f->srv, "/big", h_big, f);
    evhttp_set_cb(f->srv, "/seq", h_seq, f);
    evhttp_set_cb(f->srv, "/gzip", h_gzip, f);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(f->srv, "127.0.0.1", 0);
    assert_non_null(bs);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    f->cli = http_client_new(f->base);
    assert_non_null(f->cli);
    for (int i = 0; i < NRES; i++) {
        f->res[i].f = f;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    http_client_free(f->cli);
    /* Answer what the slow route still holds: evhttp then frees each request
     * with its connection (or at once when the client already left). */
    while (f->slow) {
        delayed *d = f->slow;
        f->slow = d->next;
        event_free(d->ev);
        reply(d->req, 200, "late", 4);
        free(d);
    }
    evhttp_free(f->srv);
    event_base_free(f->base);
    for (int i = 0; i < NRES; i++) {
        free(f->res[i].body);
        free(f->res[i].error);
        free(f->res[i].headers);
    }
    free(f);
    return 0;
}

/* --------------------------------------------------------------- helpers */

static void on_done(void *arg, const at_http_resp *resp)
{
    result *r = arg;
    r->calls++;
    if (r->f->in_request) {
        r->sync_calls++;
    }
    r->status = resp->status;
    r->err = resp->err;
    r->attempts = resp->attempts;
    free(r->body);
    free(r->error);
    free(r->headers);
    r->body = malloc(resp->len + 1);
    memcpy(r->body, resp->body, resp->len + 1); /* includes the NUL */
    r->len = resp->len;
    r->error = resp->error ? at_strdup(resp->error) : NULL;
    size_t total = 1;
    for (size_t i = 0; i < resp->nheaders; i++) {
        total += strlen(resp->headers[i]) + 1;
    }
    r->headers = calloc(1, total);
    for (size_t i = 0; i < resp->nheaders; i++) {
        strcat(r->headers, resp->headers[i]);
        strcat(r->headers, "\n");
    }
    if (r->then) {
        r->then(r);
    }
}

static char *url(const fx *f, const char *path)
{
    static char buf[4][256];
    static int n;
    char *b = buf[n++ % 4];
    snprintf(b, sizeof buf[0], "http://127.0.0.1:%d%s", f->port, path);
    return b;
}

static int64_t submit(fx *f, const at_http_req *req, result *r)
{
    f->in_request = true;
    int64_t id = http_client_request(f->cli, "test.http", req, on_done, r);
    f->in_request = false;
    assert_int_equal(r->calls, 0); /* never called back synchronously */
    return id;
}

static int64_t get(fx *f, const char *path, result *r)
{
    at_http_req req = {.method = "GET", .url = url(f, path)};
    return submit(f, &req, r);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
}

/* Runs the loop until *counter >= target or ms pass; returns the condition. */
static bool run_until(fx *f, const int *counter, int target, int ms)
{
    int64_t deadline = at_mono_us() + (int64_t)ms * 1000;
    struct event *wake = evtimer_new(f->base, wake_cb, NULL);
    while ((!counter || *counter < target) && at_mono_us() < deadline) {
        int64_t left = deadline - at_mono_us();
        struct timeval tv = {(time_t)(left / 1000000), (suseconds_t)(left % 1000000)};
        evtimer_add(wake, &tv);
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    event_free(wake);
    return counter && *counter >= target;
}

static bool has_header(const result *r, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = r->headers; p && (p = strstr(p, line)); p++) {
        if ((p == r->headers || p[-1] == '\n') && p[n] == '\n') {
            return true;
        }
    }
    return false;
}

/* ----------------------------------------------------------------- tests */

static void test_get_ok(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    int64_t id = get(f, "/ok", r);
    assert_true(id > 0);
    assert_int_equal(http_client_pending(f->cli), 1);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->len, 11);
    assert_string_equal(r->body, "hello world");
    assert_null(r->error);
    assert_int_equal(r->attempts, 1);
    assert_true(has_header(r, "X-Server-Tag: abc"));
    assert_true(has_header(r, "Content-Length: 11"));
    assert_int_equal(r->sync_calls, 0);
    assert_int_equal(http_client_pending(f->cli), 0);

    /* A second request reuses the kept-alive connection. */
    result *r2 = &f->res[1];
    get(f, "/ok", r2);
    assert_true(run_until(f, &r2->calls, 1, BOUND_MS));
    assert_int_equal(r2->status, 200);
    assert_int_equal(f->nok, 2);
    assert_int_equal(f->ok_peer_ports[0], f->ok_peer_ports[1]);
    assert_int_equal(r->calls, 1);
}

static void test_echo_methods(void **state)
{
    fx *f = *state;
    const char *hdrs[] = {"X-Test: sig-123", "Content-Type: application/json"};
    at_http_req post = {.method = "POST",
                        .url = url(f, "/echo"),
                        .headers = hdrs,
                        .nheaders = 2,
                        .body = "{\"a\":1}",
                        .body_len = 7};
    submit(f, &post, &f->res[0]);
    /* Binary-safe body: the NUL travels. */
    at_http_req put = {.method = "PUT", .url = url(f, "/echo"), .body = "a\0b", .body_len = 3};
    submit(f, &put, &f->res[1]);
    at_http_req del = {.method = "DELETE", .url = url(f, "/echo")};
    submit(f, &del, &f->res[2]);
    assert_true(run_until(f, &f->res[0].calls, 1, BOUND_MS));
    assert_true(run_until(f, &f->res[1].calls, 1, BOUND_MS));
    assert_true(run_until(f, &f->res[2].calls, 1, BOUND_MS));
    assert_int_equal(f->res[0].status, 200);
    assert_string_equal(f->res[0].body, "POST\nsig-123\n{\"a\":1}");
    assert_int_equal(f->res[1].len, 8);
    assert_memory_equal(f->res[1].body, "PUT\n\na\0b", 8);
    assert_string_equal(f->res[2].body, "DELETE\n\n");
}

static void test_404_not_retried(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    at_http_req req = {
        .method = "GET", .url = url(f, "/notfound"), .max_retries = 3, .backoff_ms = 1};
    submit(f, &req, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK); /* a response arrived: status is the caller's */
    assert_int_equal(r->status, 404);
    assert_string_equal(r->body, "nope");
    assert_int_equal(r->attempts, 1);
    assert_int_equal(f->hits_notfound, 1);
}

static void test_500_then_ok(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    at_http_req req = {.method = "GET", .url = url(f, "/flaky"), .max_retries = 3, .backoff_ms = 2};
    submit(f, &req, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "recovered");
    assert_int_equal(r->attempts, 3);
    assert_int_equal(f->hits_flaky, 3);
}

static void test_5xx_retries_exhausted(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    at_http_req req = {.method = "GET", .url = url(f, "/fail"), .max_retries = 2, .backoff_ms = 1};
    submit(f, &req, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK);
    assert_int_equal(r->status, 503);
    assert_string_equal(r->body, "down");
    assert_int_equal(r->attempts, 3);
    assert_int_equal(f->hits_fail, 3);
}

static void test_429_retry_after(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    /* A 20 s backoff would blow the bound: only Retry-After: 0 finishes in time. */
    at_http_req req = {
        .method = "GET", .url = url(f, "/limited"), .max_retries = 2, .backoff_ms = 20000};
    submit(f, &req, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "after limit");
    assert_int_equal(r->attempts, 2);
    assert_int_equal(f->hits_limited, 2);
}

static void test_429_without_retries(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    get(f, "/limited", r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->status, 429);
    assert_int_equal(r->attempts, 1);
    assert_true(has_header(r, "Retry-After: 0"));
}

static void test_timeout(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    at_http_req req = {.method = "GET",
                       .url = url(f, "/slow"),
                       .timeout_ms = 100,
                       .max_retries = 1,
                       .backoff_ms = 1};
    submit(f, &req, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_ETIMEDOUT);
    assert_int_equal(r->status, 0);
    assert_int_equal(r->attempts, 2); /* timeouts are retried */
    assert_int_equal(f->hits_slow, 2);
    assert_non_null(r->error);
    assert_true(strlen(r->error) > 0);
    assert_int_equal(r->len, 0);
    assert_string_equal(r->body, "");
}

static void test_body_over_cap(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    at_http_req req = {.method = "GET",
                       .url = url(f, "/big?n=1000000"),
                       .max_response = 65536,
                       .max_retries = 2,
                       .backoff_ms = 1};
    submit(f, &req, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_ERANGE);
    assert_int_equal(r->attempts, 1); /* the cap is not a transient failure */
    assert_non_null(strstr(r->error, "65536"));
    assert_int_equal(r->len, 0);
}

static void test_large_body_intact(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    const size_t n = 3u << 20;
    char path[64];
    snprintf(path, sizeof path, "/big?n=%zu", n);
    get(f, path, r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->len, n);
    assert_int_equal(r->body[n], '\0');
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += r->body[i] != pattern_byte(i);
    }
    assert_int_equal(bad, 0);

    /* Exactly at the cap still fits. */
    result *r2 = &f->res[1];
    at_http_req req = {.method = "GET", .url = url(f, "/big?n=4096"), .max_response = 4096};
    submit(f, &req, r2);
    assert_true(run_until(f, &r2->calls, 1, BOUND_MS));
    assert_int_equal(r2->err, AT_OK);
    assert_int_equal(r2->len, 4096);
}

static void test_gzip(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    get(f, "/gzip", r);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_OK);
    assert_string_equal(r->body, "hello from gzip, hello from gzip");
}

static void test_connection_refused(void **state)
{
    fx *f = *state;
    /* Bound but not listening: connect() is refused and the port stays ours. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x", ntohs(sa.sin_port));

    result *r = &f->res[0];
    at_http_req req = {.method = "GET", .url = u, .max_retries = 2, .backoff_ms = 1};
    submit(f, &req, r);
    bool done = run_until(f, &r->calls, 1, BOUND_MS);
    close(s);
    assert_true(done);
    assert_int_equal(r->err, AT_EIO);
    assert_int_equal(r->status, 0);
    assert_int_equal(r->attempts, 3);
    assert_non_null(r->error);
    assert_int_equal(r->sync_calls, 0);
}

static void test_bad_requests(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    const char *crlf[] = {"X-A: 1\r\nX-Injected: 2"};
    at_http_req bad[] = {
        {.method = "GET", .url = NULL},
        {.method = "G T", .url = url(f, "/ok")},
        {.method = "", .url = url(f, "/ok")},
        {.method = "GET", .url = url(f, "/ok"), .headers = crlf, .nheaders = 1},
        {.method = "GET", .url = url(f, "/ok"), .nheaders = 1},
        {.method = "POST", .url = url(f, "/ok"), .body_len = 4},
        {.method = "GET", .url = url(f, "/ok"), .timeout_ms = -1},
        {.method = "GET", .url = url(f, "/ok"), .max_retries = -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(submit(f, &bad[i], r), AT_EINVAL);
    }
    at_http_req ok = {.method = "GET", .url = url(f, "/ok")};
    assert_int_equal(http_client_request(f->cli, "t", &ok, NULL, r), AT_EINVAL);
    assert_int_equal(http_client_pending(f->cli), 0);

    /* Refused by curl only once the transfer runs: reported later, once,
     * and not retried. */
    at_http_req ftp = {.method = "GET", .url = "ftp://127.0.0.1/x", .max_retries = 3};
    assert_true(submit(f, &ftp, r) > 0);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_EIO);
    assert_int_equal(r->attempts, 1);
    assert_int_equal(r->sync_calls, 0);
}

static void test_cancel_in_flight(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    int64_t id = get(f, "/slow", r);
    assert_true(run_until(f, &f->hits_slow, 1, BOUND_MS));
    http_client_cancel(f->cli, id);
    assert_int_equal(r->calls, 0); /* deferred to the loop */
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_ESTATE);
    assert_int_equal(r->attempts, 1);
    /* A second cancel and more loop turns do not call back again. */
    http_client_cancel(f->cli, id);
    result *r2 = &f->res[1];
    get(f, "/ok", r2);
    assert_true(run_until(f, &r2->calls, 1, BOUND_MS));
    assert_int_equal(r->calls, 1);
    assert_int_equal(http_client_pending(f->cli), 0);
}

static void test_cancel_waiting_retry(void **state)
{
    fx *f = *state;
    result *r = &f->res[0];
    at_http_req req = {
        .method = "GET", .url = url(f, "/fail"), .max_retries = 5, .backoff_ms = 20000};
    int64_t id = submit(f, &req, r);
    assert_true(run_until(f, &f->hits_fail, 1, BOUND_MS));
    run_until(f, NULL, 0, 100); /* let the 503 arrive: the retry is now waiting */
    assert_int_equal(r->calls, 0);
    http_client_cancel(f->cli, id);
    assert_true(run_until(f, &r->calls, 1, BOUND_MS));
    assert_int_equal(r->err, AT_ESTATE);
    assert_int_equal(r->status, 0); /* not the 503 of the first attempt */
    assert_string_equal(r->error, "cancelled");
    assert_int_equal(r->attempts, 1);
    assert_int_equal(f->hits_fail, 1);
    assert_int_equal(http_client_pending(f->cli), 0);
}

static void test_free_with_pending(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 3; i++) {
        get(f, "/slow", &f->res[i]);
    }
    at_http_req req = {
        .method = "GET", .url = url(f, "/fail"), .max_retries = 5, .backoff_ms = 20000};
    submit(f, &req, &f->res[3]);
    assert_true(run_until(f, &f->hits_slow, 3, BOUND_MS));
    assert_true(run_until(f, &f->hits_fail, 1, BOUND_MS));
    run_until(f, NULL, 0, 100); /* let the 503 arrive: that retry is now waiting */
    get(f, "/ok", &f->res[4]);  /* not even started by the loop yet */
    assert_int_equal(http_client_pending(f->cli), 5);
    http_client_free(f->cli);
    f->cli = NULL;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->res[i].calls, 1);
        assert_int_equal(f->res[i].err, AT_ESTATE);
    }
    run_until(f, NULL, 0, 20); /* nothing left to fire */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->res[i].calls, 1);
    }
}

static void free_client(result *r)
{
    http_client_free(r->f->cli);
    r->f->cli = NULL;
}

static void test_free_inside_callback(void **state)
{
    fx *f = *state;
    f->res[0].then = free_client;
    get(f, "/ok", &f->res[0]);
    get(f, "/slow", &f->res[1]);
    assert_true(run_until(f, &f->res[0].calls, 1, BOUND_MS));
    assert_null(f->cli);
    assert_int_equal(f->res[0].err, AT_OK);
    assert_int_equal(f->res[1].calls, 1);
    assert_int_equal(f->res[1].err, AT_ESTATE);
    run_until(f, NULL, 0, 20);
    assert_int_equal(f->res[1].calls, 1);
}

static void test_concurrent(void **state)
{
    fx *f = *state;
    enum { N = 50 };
    int done = 0;
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof path, "/seq?i=%d", i);
        assert_true(get(f, path, &f->res[i]) > 0);
    }
    assert_int_equal(http_client_pending(f->cli), N);
    int64_t deadline = at_mono_us() + BOUND_MS * 1000;
    while (done < N && at_mono_us() < deadline) {
        run_until(f, NULL, 0, 10);
        done = 0;
        for (int i = 0; i < N; i++) {
            done += f->res[i].calls;
        }
    }
    assert_int_equal(done, N);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "seq-%d", i);
        assert_int_equal(f->res[i].calls, 1);
        assert_int_equal(f->res[i].status, 200);
        assert_string_equal(f->res[i].body, want);
    }
    assert_int_equal(http_client_pending(f->cli), 0);
}

static void test_log_hides_query(void **state)
{
    fx *f = *state;
    char tmpl[] = "/tmp/test_http_log_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    unlink(tmpl);
    at_log_level old = log_get_level();
    log_set_level(AT_LOG_DEBUG);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);

    result *r = &f->res[0];
    get(f, "/fail?sign=SECRETSIG", r);
    at_http_req req = {
        .method = "GET", .url = url(f, "/fail?sign=SECRETSIG"), .max_retries = 1, .backoff_ms = 1};
    submit(f, &req, &f->res[1]);
    bool ok = run_until(f, &r->calls, 1, BOUND_MS) && run_until(f, &f->res[1].calls, 1, BOUND_MS);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    log_set_level(old);
    char buf[8192] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    assert_true(ok);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "/fail -> 503"));
    assert_non_null(strstr(buf, "retrying"));
    assert_null(strstr(buf, "SECRETSIG"));
}

/* Backoff doubles per attempt from backoff_ms, is capped, carries +/-50 %
 * jitter from the random input, and only 429/5xx/transport errors retry. */
static void test_retry_delay_schedule(void **state)
{
    http_xfer x;
    memset(&x, 0, sizeof(x));
    x.max_retries = 5;
    x.backoff_ms = 100;
    x.status = 503;
    int64_t base[] = {100, 200, 400, 800, 1600};
    for (int a = 1; a <= 5; a++) {
        x.attempts = a;
        /* rnd 0: the low edge (d/2); rnd d: the high edge (d/2 + d). */
        assert_int_equal(http_xfer_retry_delay(&x, AT_OK, CURLE_OK, 0), base[a - 1] / 2);
        assert_int_equal(http_xfer_retry_delay(&x, AT_OK, CURLE_OK, (uint64_t)base[a - 1]),
                         base[a - 1] / 2 + base[a - 1]);
        int64_t mid = http_xfer_retry_delay(&x, AT_OK, CURLE_OK, 12345);
        assert_true(mid >= base[a - 1] / 2 && mid <= base[a - 1] * 3 / 2);
    }
    x.attempts = 6; /* retries exhausted */
    assert_int_equal(http_xfer_retry_delay(&x, AT_OK, CURLE_OK, 0), -1);
    x.attempts = 1;
    x.status = 404; /* a client error is final */
    assert_int_equal(http_xfer_retry_delay(&x, AT_OK, CURLE_OK, 0), -1);
    x.status = 200;
    assert_int_equal(http_xfer_retry_delay(&x, AT_OK, CURLE_OK, 0), -1);
    /* Transport errors retry; a response over the size cap does not. */
    assert_int_equal(http_xfer_retry_delay(&x, AT_EIO, CURLE_COULDNT_CONNECT, 0), 50);
    assert_int_equal(http_xfer_retry_delay(&x, AT_ERANGE, CURLE_WRITE_ERROR, 0), -1);
    /* The cap holds however many attempts there were. */
    x.max_retries = 100;
    x.attempts = 60;
    x.status = 500;
    int64_t capped = http_xfer_retry_delay(&x, AT_OK, CURLE_OK, 0);
    assert_true(capped > 0 && capped <= HTTP_MAX_DELAY_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_500_then_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_5xx_retries_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_without_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_body_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_waiting_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_hides_query, setup, teardown),
        cmocka_unit_test(test_retry_delay_schedule),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* core/net: the server and the client test each other in one process.
 *
 * The main loop is driven with EVLOOP_ONCE until a condition holds; a 10 ms
 * ticker keeps EVLOOP_ONCE from blocking forever and every wait has a
 * wall-clock bound (a failure, never a hang). HTTP requests come from libcurl
 * on a helper thread so the loop keeps running while they are in flight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "bus.h"
#include "net.h"
#include "net_internal.h" /* only to observe a server's pending requests */
#include "util.h"

#define WAIT_MS 5000

static const char index_html[] = "<!doctype html>\n<title>aitrader</title>\n<p>dashboard</p>\n";

typedef struct fixture {
    struct event_base *base;
    struct event *ticker;
    net *n;
    char dir[64];
    char index_path[96];
} fixture;

/* ------------------------------------------------------------ loop helpers */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static bool run_until(fixture *f, bool (*done)(void *), void *arg)
{
    int64_t deadline = at_mono_us() + (int64_t)WAIT_MS * 1000;
    while (!done(arg)) {
        if (at_mono_us() > deadline) {
            return false;
        }
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    return true;
}

/* Runs until *counter >= want. */
static bool wait_count(fixture *f, const int *counter, int want)
{
    int64_t deadline = at_mono_us() + (int64_t)WAIT_MS * 1000;
    while (*counter < want && at_mono_us() < deadline) {
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    return *counter >= want;
}

/* Run the loop for ms (to show that nothing arrives). */
static void run_for(fixture *f, int ms)
{
    int64_t deadline = at_mono_us() + (int64_t)ms * 1000;
    while (at_mono_us() < deadline) {
        struct timeval tv = {0, 20000};
        event_base_loopexit(f->base, &tv);
        event_base_loop(f->base, 0);
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    f->ticker = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(f->ticker, &tv);
    f->n = net_new(f->base);
    assert_non_null(f->n);

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_net.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->index_path, sizeof(f->index_path), "%s/index.html", f->dir);
    FILE *fp = fopen(f->index_path, "w");
    assert_non_null(fp);
    fputs(index_html, fp);
    fclose(fp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    net_free(f->n);
    event_free(f->ticker);
    event_base_free(f->base);
    unlink(f->index_path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ WS client */

#define MAX_MSGS 1100

typedef struct client {
    at_ws *ws;
    int opened;
    int closed;
    int close_code;
    char reason[256];
    int nmsgs;
    char *msgs[MAX_MSGS];
    size_t lens[MAX_MSGS];
} client;

static void c_open(void *arg, at_ws *ws)
{
    client *c = arg;
    assert_ptr_equal(ws, c->ws);
    c->opened++;
}

static void c_message(void *arg, at_ws *ws, const char *data, size_t len, bool binary)
{
    client *c = arg;
    assert_ptr_equal(ws, c->ws);
    assert_false(binary);
    assert_int_equal(data[len], '\0');
    assert_true(c->nmsgs < MAX_MSGS);
    c->msgs[c->nmsgs] = malloc(len + 1);
    memcpy(c->msgs[c->nmsgs], data, len + 1);
    c->lens[c->nmsgs++] = len;
}

static void c_close(void *arg, at_ws *ws, int code, const char *reason)
{
    client *c = arg;
    assert_ptr_equal(ws, c->ws);
    c->closed++;
    c->close_code = code;
    snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "(null)");
    /* closing from inside on_close must be harmless */
    net_ws_close(ws);
}

static const at_ws_cbs client_cbs = {c_open, c_message, c_close};

static void client_reset_msgs(client *c)
{
    for (int i = 0; i < c->nmsgs; i++) {
        free(c->msgs[i]);
    }
    c->nmsgs = 0;
}

static at_ws *client_open(fixture *f, client *c, const char *url)
{
    memset(c, 0, sizeof(*c));
    c->ws = net_ws_open(f->n, "test.client", url, &client_cbs, c);
    return c->ws;
}

/* ------------------------------------------------------------ server */

typedef struct server {
    fixture *f;
    at_httpd *srv;
    at_httpd_conn *conns[NET_SRV_MAX_WS + 8];
    int nconns;
    int opens, closes, msgs;
    bool echo;
    bool check_seq; /* messages are numbered "%08d…": count gaps/reorders */
    int seq_next, seq_wrong;
    int requests;
    uint64_t held; /* a request left unanswered on purpose */
    uint64_t answer_id;
    char *answer_body;
    size_t answer_len;
    char answer_query[128];
    char answer_auth[128];
    struct event *answer_timer;
} server;

static void s_open(void *arg, at_httpd *srv, at_httpd_conn *conn)
{
    server *s = arg;
    assert_ptr_equal(srv, s->srv);
    assert_true(s->nconns < (int)(sizeof(s->conns) / sizeof(s->conns[0])));
    s->conns[s->nconns++] = conn;
    s->opens++;
}

static void s_message(void *arg, at_httpd *srv, at_httpd_conn *conn, const char *data, size_t len)
{
    server *s = arg;
    assert_ptr_equal(srv, s->srv);
    assert_int_equal(data[len], '\0');
    s->msgs++;
    if (s->check_seq) {
        int n = atoi(data);
        s->seq_wrong += n != s->seq_next;
        s->seq_next = n + 1;
    }
    if (s->echo) {
        assert_int_equal(net_httpd_ws_send(conn, data, len), AT_OK);
    }
}

static void s_close(void *arg, at_httpd *srv, at_httpd_conn *conn)
{
    server *s = arg;
    assert_ptr_equal(srv, s->srv);
    for (int i = 0; i < s->nconns; i++) {
        if (s->conns[i] == conn) {
            s->conns[i] = s->conns[--s->nconns];
            s->closes++;
            return;
        }
    }
    fail_msg("on_ws_close for an unknown connection");
}

/* Answers /api/echo from a zero-delay timer: asynchronously, as a plugin
 * waiting for other work would. */
static void s_answer(evutil_socket_t fd, short what, void *arg)
{
    server *s = arg;
    (void)fd;
    (void)what;
    const char *hdrs[] = {"X-Query: ok", "X-Auth: seen"};
    char q[200];
    snprintf(q, sizeof(q), "X-Query: %s", s->answer_query);
    hdrs[0] = q;
    int rc = net_httpd_respond(s->srv, s->answer_id, 201, "application/json", hdrs, 2,
                               s->answer_body, s->answer_len);
    assert_int_equal(rc, AT_OK);
    /* exactly once */
    assert_int_equal(net_httpd_respond(s->srv, s->answer_id, 200, NULL, NULL, 0, "", 0), AT_ENOENT);
    free(s->answer_body);
    s->answer_body = NULL;
}

static void s_request(void *arg, at_httpd *srv, const at_httpd_req *req)
{
    server *s = arg;
    assert_ptr_equal(srv, s->srv);
    s->requests++;
    assert_int_equal(req->body[req->body_len], '\0');
    if (strcmp(req->path, "/api/echo") == 0) {
        s->answer_id = req->id;
        s->answer_body = malloc(req->body_len + 1);
        memcpy(s->answer_body, req->body, req->body_len + 1);
        s->answer_len = req->body_len;
        snprintf(s->answer_query, sizeof(s->answer_query), "%s", req->query);
        snprintf(s->answer_auth, sizeof(s->answer_auth), "%s", req->authorization);
        assert_string_equal(req->method, strcmp(req->query, "get=1") == 0 ? "GET" : "POST");
        struct timeval zero = {0, 0};
        evtimer_add(s->answer_timer, &zero);
        return;
    }
    if (strcmp(req->path, "/api/hold") == 0) {
        s->held = req->id;
        return;
    }
    static const char nf[] = "{\"error\":\"no route\"}";
    assert_int_equal(
        net_httpd_respond(srv, req->id, 404, "application/json", NULL, 0, nf, sizeof(nf) - 1),
        AT_OK);
}

static const at_httpd_cbs server_cbs = {s_request, s_open, s_message, s_close};

static void server_start(fixture *f, server *s, size_t max_body)
{
    memset(s, 0, sizeof(*s));
    s->f = f;
    s->echo = true;
    s->answer_timer = evtimer_new(f->base, s_answer, s);
    at_httpd_opts o = {
        .listen = NULL, .port = 0, .static_dir = f->dir, .ws_path = "/ws", .max_body = max_body};
    s->srv = net_httpd_start(f->n, "test.server", &o, &server_cbs, s);
    assert_non_null(s->srv);
    assert_true(net_httpd_port(s->srv) > 0);
}

static void server_done(server *s)
{
    if (s->srv) {
        net_httpd_stop(s->srv);
        s->srv = NULL;
    }
    event_free(s->answer_timer);
    free(s->answer_body);
}

static char *ws_url(server *s, const char *path)
{
    return at_asprintf("ws://127.0.0.1:%d%s", net_httpd_port(s->srv), path);
}

/* ------------------------------------------------------------ HTTP calls */

typedef struct call {
    const char *method;
    char *url;
    const char *body;
    size_t body_len;
    const char *auth;
    long timeout_ms;
    /* results */
    long status;
    CURLcode res;
    char *resp;
    size_t resp_len;
    char ctype[128];
    char hdrs[2048];
    size_t hdrs_len;
    pthread_t thread;
    atomic_int done;
} call;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    call *c = arg;
    size_t len = sz * n;
    char *r = realloc(c->resp, c->resp_len + len + 1);
    assert_non_null(r);
    memcpy(r + c->resp_len, p, len);
    c->resp = r;
    c->resp_len += len;
    c->resp[c->resp_len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    call *c = arg;
    size_t len = sz * n;
    if (c->hdrs_len + len < sizeof(c->hdrs)) {
        memcpy(c->hdrs + c->hdrs_len, p, len);
        c->hdrs_len += len;
        c->hdrs[c->hdrs_len] = '\0';
    }
    return len;
}

static void *call_thread(void *arg)
{
    call *c = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    char auth[160];
    if (c->auth) {
        snprintf(auth, sizeof(auth), "Authorization: %s", c->auth);
        hl = curl_slist_append(hl, auth);
    }
    if (c->body) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
    }
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms ? c->timeout_ms : (long)WAIT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    c->res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(c->ctype, sizeof(c->ctype), "%s", ct ? ct : "");
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    atomic_store(&c->done, 1);
    return NULL;
}

static bool call_done(void *arg)
{
    return atomic_load(&((call *)arg)->done) != 0;
}

/* Performs the request while the main loop runs. */
static void http(fixture *f, call *c, server *s, const char *method, const char *path)
{
    c->method = method;
    c->url = at_asprintf("http://127.0.0.1:%d%s", net_httpd_port(s->srv), path);
    assert_int_equal(pthread_create(&c->thread, NULL, call_thread, c), 0);
    bool ok = run_until(f, call_done, c);
    pthread_join(c->thread, NULL);
    assert_true(ok);
}

static void call_free(call *c)
{
    free(c->url);
    free(c->resp);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------ tests */

static void test_bad_urls(void **state)
{
    fixture *f = *state;
    const char *bad[] = {
        "http://127.0.0.1/",
        "ws://",
        "ws:///path",
        "ws://:80/",
        "ws://host:0/",
        "ws://host:65536/",
        "ws://host:12ab/",
        "ws://ho st/",
        "ws://user@host/",
        "ws://host/#frag",
        "wss://[::1/",
        "ws:/host",
        "",
    };
    client c;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(client_open(f, &c, bad[i]));
    }
    assert_null(net_ws_open(f->n, "test", NULL, &client_cbs, &c));
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_connect_refused(void **state)
{
    fixture *f = *state;
    client c;
    char *url = at_asprintf("ws://127.0.0.1:%d/ws", free_port());
    assert_non_null(client_open(f, &c, url));
    assert_int_equal(net_ws_send(c.ws, "x", 1), AT_ESTATE); /* not open yet */
    assert_true(wait_count(f, &c.closed, 1));
    assert_int_equal(c.opened, 0);
    assert_int_equal(c.close_code, 0);
    assert_true(c.reason[0] != '\0');
    free(url);
}

static void test_close_while_connecting(void **state)
{
    fixture *f = *state;
    client c;
    /* nothing answers on this port: the close overtakes the connect */
    char *url = at_asprintf("ws://127.0.0.1:%d/ws", free_port());
    assert_non_null(client_open(f, &c, url));
    net_ws_close(c.ws);
    net_ws_close(c.ws); /* twice is harmless */
    /* A close we asked for is not reported back (the handle goes quietly). */
    run_for(f, 300);
    assert_int_equal(c.closed, 0);
    free(url);
}

static void test_tls_handshake_fails(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    client c;
    char *url = at_asprintf("wss://127.0.0.1:%d/ws", net_httpd_port(s.srv));
    assert_non_null(client_open(f, &c, url));
    assert_true(wait_count(f, &c.closed, 1));
    assert_int_equal(c.opened, 0);
    assert_int_equal(c.close_code, 0);
    free(url);
    server_done(&s);
}

static char *pattern(size_t len, unsigned seed)
{
    char *p = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        p[i] = (char)('a' + (i * 7 + seed) % 26);
    }
    p[len] = '\0';
    return p;
}

static void test_echo(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    client c;
    char *url = ws_url(&s, "/ws");
    assert_non_null(client_open(f, &c, url));
    assert_true(wait_count(f, &c.opened, 1));
    assert_true(wait_count(f, &s.opens, 1));

    /* 1 byte, 64 KiB, 4 MiB: intact and in order */
    size_t sizes[] = {1, 64 * 1024, 4 * 1024 * 1024};
    char *sent[3];
    for (int i = 0; i < 3; i++) {
        sent[i] = pattern(sizes[i], (unsigned)i);
        assert_int_equal(net_ws_send(c.ws, sent[i], sizes[i]), AT_OK);
    }
    assert_true(wait_count(f, &c.nmsgs, 3));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c.lens[i], sizes[i]);
        assert_memory_equal(c.msgs[i], sent[i], sizes[i]);
        free(sent[i]);
    }
    client_reset_msgs(&c);

    /* an empty message too */
    assert_int_equal(net_ws_send(c.ws, "", 0), AT_OK);
    assert_true(wait_count(f, &c.nmsgs, 1));
    assert_int_equal(c.lens[0], 0);
    client_reset_msgs(&c);

    /* 1,000 small ones, in order */
    for (int i = 0; i < 1000; i++) {
        char m[32];
        int len = snprintf(m, sizeof(m), "msg-%04d", i);
        assert_int_equal(net_ws_send(c.ws, m, (size_t)len), AT_OK);
    }
    assert_true(wait_count(f, &c.nmsgs, 1000));
    for (int i = 0; i < 1000; i++) {
        char m[32];
        snprintf(m, sizeof(m), "msg-%04d", i);
        assert_string_equal(c.msgs[i], m);
    }
    client_reset_msgs(&c);

    /* the client closes: both sides hear of it */
    net_ws_close(c.ws);
    assert_int_equal(net_ws_send(c.ws, "late", 4), AT_ESTATE);
    assert_true(wait_count(f, &s.closes, 1));
    run_for(f, 300);
    assert_int_equal(c.closed, 0); /* ours: not reported back */
    assert_int_equal(s.nconns, 0);
    free(url);
    server_done(&s);
}

static void test_broadcast_and_stop(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    s.echo = false;
    char *url = ws_url(&s, "/ws");
    client c[3];
    for (int i = 0; i < 3; i++) {
        assert_non_null(client_open(f, &c[i], url));
    }
    assert_true(wait_count(f, &s.opens, 3));
    for (int i = 0; i < 3; i++) {
        assert_true(wait_count(f, &c[i].opened, 1));
    }
    net_httpd_ws_broadcast(s.srv, "tick-1", 6);
    net_httpd_ws_broadcast(s.srv, "tick-2", 6);
    for (int i = 0; i < 3; i++) {
        assert_true(wait_count(f, &c[i].nmsgs, 2));
        assert_string_equal(c[i].msgs[0], "tick-1");
        assert_string_equal(c[i].msgs[1], "tick-2");
        client_reset_msgs(&c[i]);
    }

    /* a message from one client reaches the server as-is */
    assert_int_equal(net_ws_send(c[0].ws, "{\"cmd\":\"hello\"}", 15), AT_OK);
    assert_true(wait_count(f, &s.msgs, 1));

    /* stopping the server closes every client (going away) */
    net_httpd_stop(s.srv);
    s.srv = NULL;
    for (int i = 0; i < 3; i++) {
        assert_true(wait_count(f, &c[i].closed, 1));
        assert_int_equal(c[i].close_code, 1001);
    }
    free(url);
    server_done(&s);
}

/* A plain TCP connection to the server's port (blocking, 5 s timeouts). */
static int raw_connect(server *s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = {WAIT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)net_httpd_port(s->srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Send a WebSocket handshake for /ws on fd; the answer's first `cap` bytes. */
static void raw_upgrade(int fd, char *out, size_t cap)
{
    static const char rq[] =
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(send(fd, rq, sizeof(rq) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(rq) - 1));
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
        out[got] = '\0';
        if (strstr(out, "\r\n\r\n") &&
            (strncmp(out, "HTTP/1.1 101", 12) == 0 || strchr(out, '}'))) {
            break;
        }
    }
    out[got] = '\0';
}

/* Peers that never log in cannot take the net thread's whole connection
 * table (shared with the engine's outgoing WebSockets): a server takes
 * NET_SRV_MAX_WS upgrades (then 503) and NET_SRV_MAX_CONNS connections (then
 * closes new ones), while an outgoing client still connects. */
static void test_server_connection_caps(void **state)
{
    fixture *f = *state;
    server s, other;
    server_start(f, &s, 0);
    /* the engine's peer (OKX) is another process: here another net thread */
    net *ours = f->n;
    f->n = net_new(f->base);
    assert_non_null(f->n);
    server_start(f, &other, 0);
    net *theirs = f->n;
    f->n = ours;
    s.echo = false;
    static int fds[NET_SRV_MAX_CONNS + 1];
    char ans[512];
    for (int i = 0; i < NET_SRV_MAX_WS; i++) {
        fds[i] = raw_connect(&s);
        raw_upgrade(fds[i], ans, sizeof(ans));
        assert_memory_equal(ans, "HTTP/1.1 101", 12);
    }
    /* one upgrade more: a 503 in JSON */
    fds[NET_SRV_MAX_WS] = raw_connect(&s);
    raw_upgrade(fds[NET_SRV_MAX_WS], ans, sizeof(ans));
    assert_memory_equal(ans + 8, " 503", 4); /* lws answers a refused upgrade as HTTP/1.0 */
    assert_non_null(strstr(ans, "application/json"));
    assert_non_null(strstr(ans, "\"busy\""));
    close(fds[NET_SRV_MAX_WS]);
    assert_true(wait_count(f, &s.opens, NET_SRV_MAX_WS));

    /* plain connections up to the cap stay open; the next one is closed */
    for (int i = NET_SRV_MAX_WS; i < NET_SRV_MAX_CONNS; i++) {
        fds[i] = raw_connect(&s);
    }
    int past = raw_connect(&s);
    struct pollfd pf = {past, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, WAIT_MS), 1);
    char b;
    assert_true(recv(past, &b, 1, 0) <= 0);
    close(past);
    pf = (struct pollfd){fds[NET_SRV_MAX_CONNS - 1], POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 0), 0); /* the last one within the cap is still open */

    /* the engine's own client still gets a connection */
    client c;
    char *url = ws_url(&other, "/ws");
    assert_non_null(client_open(f, &c, url));
    assert_true(wait_count(f, &c.opened, 1));
    net_ws_close(c.ws);
    free(url);

    for (int i = 0; i < NET_SRV_MAX_CONNS; i++) {
        close(fds[i]);
    }
    assert_true(wait_count(f, &s.closes, NET_SRV_MAX_WS));
    server_done(&other);
    net_free(theirs);
    server_done(&s);
}

static void test_wrong_ws_path(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    client c;
    char *url = ws_url(&s, "/nope");
    assert_non_null(client_open(f, &c, url));
    assert_true(wait_count(f, &c.closed, 1));
    assert_int_equal(c.opened, 0);
    assert_int_equal(c.close_code, 0);
    assert_int_equal(s.opens, 0);
    free(url);
    server_done(&s);
}

static void test_http(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 1024);
    call c;

    memset(&c, 0, sizeof(c));
    http(f, &c, &s, "GET", "/");
    assert_int_equal(c.res, CURLE_OK);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.resp_len, strlen(index_html));
    assert_memory_equal(c.resp, index_html, c.resp_len);
    assert_true(strncmp(c.ctype, "text/html", 9) == 0);
    call_free(&c);

    http(f, &c, &s, "GET", "/index.html");
    assert_int_equal(c.status, 200);
    assert_string_equal(c.resp, index_html);
    call_free(&c);

    http(f, &c, &s, "GET", "/../etc/passwd");
    assert_int_equal(c.status, 404);
    assert_null(c.resp ? strstr(c.resp, "root:") : NULL);
    call_free(&c);

    /* not a file: the plugin routes it (and says 404 itself) */
    http(f, &c, &s, "GET", "/api/nothing");
    assert_int_equal(c.status, 404);
    assert_string_equal(c.resp, "{\"error\":\"no route\"}");
    assert_non_null(strcasestr(c.hdrs, "Cache-Control: no-store"));
    call_free(&c);

    /* POST answered later from a timer, body back byte for byte */
    static const char body[] = "{\"side\":\"buy\",\"size\":\"0.01\",\"note\":\"caf\xc3\xa9\"}";
    c.body = body;
    c.body_len = sizeof(body) - 1;
    c.auth = "Bearer t0ken";
    http(f, &c, &s, "POST", "/api/echo?a=1&b=two");
    assert_int_equal(c.res, CURLE_OK);
    assert_int_equal(c.status, 201);
    assert_int_equal(c.resp_len, sizeof(body) - 1);
    assert_memory_equal(c.resp, body, c.resp_len);
    assert_string_equal(c.ctype, "application/json");
    assert_non_null(strcasestr(c.hdrs, "X-Query: a=1&b=two"));
    assert_non_null(strcasestr(c.hdrs, "Cache-Control: no-store"));
    assert_string_equal(s.answer_auth, "Bearer t0ken");
    call_free(&c);

    /* lws decodes the query's %-escapes before splitting it: what reaches
     * the plugin is escaped again, so its one decode gives each value as
     * sent (an '&' or '=' inside a value is not a separator, "%2531" stays
     * "%31") */
    c.body = body;
    c.body_len = sizeof(body) - 1;
    http(f, &c, &s, "POST", "/api/echo?trader=a%26limit%3D0&b=%2531&c=p%2Bq+r&d=%3D%3D");
    assert_int_equal(c.status, 201);
    assert_string_equal(s.answer_query, "trader=a%26limit%3D0&b=%2531&c=p%2Bq%20r&d=%3D%3D");
    call_free(&c);

    /* a chunked body without Content-Length: 411 at once, then closed */
    {
        int fd = raw_connect(&s);
        static const char rq[] = "POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_int_equal(send(fd, rq, sizeof(rq) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(rq) - 1));
        char ans[1024];
        size_t got = 0;
        ssize_t n;
        while (got + 1 < sizeof(ans) && (n = recv(fd, ans + got, sizeof(ans) - 1 - got, 0)) > 0) {
            got += (size_t)n; /* until the server closes (or 5 s pass) */
        }
        ans[got] = '\0';
        close(fd);
        assert_memory_equal(ans + 8, " 411", 4);
        assert_non_null(strcasestr(ans, "connection: close"));
        assert_non_null(strstr(ans, "length_required"));
    }

    /* GET to a routed path, on the server's other code path (no body) */
    http(f, &c, &s, "GET", "/api/echo?get=1");
    assert_int_equal(c.status, 201);
    assert_int_equal(c.resp_len, 0);
    call_free(&c);

    /* over max_body (1024 here): the net thread answers 413 itself */
    int before = s.requests;
    char *big = pattern(4096, 3);
    c.body = big;
    c.body_len = 4096;
    http(f, &c, &s, "POST", "/api/echo");
    assert_int_equal(c.status, 413);
    assert_string_equal(c.ctype, "application/json");
    assert_int_equal(s.requests, before);
    call_free(&c);
    free(big);

    /* exactly max_body is fine */
    big = pattern(1024, 4);
    c.body = big;
    c.body_len = 1024;
    http(f, &c, &s, "POST", "/api/echo");
    assert_int_equal(c.status, 201);
    assert_int_equal(c.resp_len, 1024);
    assert_memory_equal(c.resp, big, 1024);
    call_free(&c);
    free(big);

    server_done(&s);
}

/* Requests one after the other on one keep-alive connection, read by hand:
 * a byte too many or too few in an answer shows as a broken next one. */
#define KA_N 5
typedef struct ka_call {
    int port;
    const char *body[KA_N];
    size_t len[KA_N];
    int status[KA_N];
    char *resp[KA_N];
    size_t resp_len[KA_N];
    atomic_int done;
} ka_call;

static void *ka_thread(void *arg)
{
    ka_call *k = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)k->port)};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    struct timeval tv = {WAIT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char *in = malloc(1 << 20);
    size_t have = 0;
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        goto out;
    }
    for (int i = 0; i < KA_N; i++) {
        char head[160];
        int hl = snprintf(
            head, sizeof(head),
            "POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n", k->len[i]);
        if (send(fd, head, (size_t)hl, 0) != hl ||
            send(fd, k->body[i], k->len[i], 0) != (ssize_t)k->len[i]) {
            goto out;
        }
        char *end = NULL;
        size_t need = 0;
        for (;;) {
            in[have] = '\0';
            if (!end && (end = strstr(in, "\r\n\r\n")) != NULL) {
                const char *cl = strcasestr(in, "Content-Length:");
                k->status[i] = atoi(in + 9);
                need = (size_t)(end + 4 - in) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
            }
            if (end && have >= need) {
                break;
            }
            ssize_t got = recv(fd, in + have, (1 << 20) - 1 - have, 0);
            if (got <= 0) {
                goto out;
            }
            have += (size_t)got;
        }
        size_t body_at = (size_t)(end + 4 - in);
        k->resp_len[i] = need - body_at;
        k->resp[i] = malloc(k->resp_len[i] + 1);
        memcpy(k->resp[i], in + body_at, k->resp_len[i]);
        memmove(in, in + need, have - need); /* what is left starts the next answer */
        have -= need;
    }
out:
    free(in);
    close(fd);
    atomic_store(&k->done, 1);
    return NULL;
}

static bool ka_done(void *arg)
{
    return atomic_load(&((ka_call *)arg)->done) != 0;
}

/* Answers around the size that leaves with its head in one write
 * (NET_HTTP_INLINE) and over a write slice (NET_HTTP_SLICE), one after the
 * other on one keep-alive connection: each intact, none spilling over. */
static void test_http_answer_sizes(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 1 << 20);
    static const size_t sizes[KA_N] = {1, NET_HTTP_INLINE, NET_HTTP_INLINE + 1,
                                       NET_HTTP_SLICE + 100, 300000};
    ka_call k;
    memset(&k, 0, sizeof(k));
    k.port = net_httpd_port(s.srv);
    for (int i = 0; i < KA_N; i++) {
        k.body[i] = pattern(sizes[i], (unsigned)i);
        k.len[i] = sizes[i];
    }
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ka_thread, &k), 0);
    bool ok = run_until(f, ka_done, &k);
    pthread_join(t, NULL);
    assert_true(ok);
    for (int i = 0; i < KA_N; i++) {
        assert_int_equal(k.status[i], 201);
        assert_int_equal(k.resp_len[i], sizes[i]);
        assert_memory_equal(k.resp[i], k.body[i], sizes[i]);
        free(k.resp[i]);
        free((char *)k.body[i]);
    }
    assert_int_equal(s.requests, KA_N);
    server_done(&s);
}

static bool nothing_pending(void *arg)
{
    return ((at_httpd *)arg)->pending.len == 0;
}

static void test_http_client_gone(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    call c;
    memset(&c, 0, sizeof(c));
    c.timeout_ms = 300; /* gives up while the request is held */
    http(f, &c, &s, "GET", "/api/hold");
    assert_int_equal(c.res, CURLE_OPERATION_TIMEDOUT);
    assert_true(s.held != 0);
    call_free(&c);

    /* the net thread tells the loop the client left; then respond says so */
    assert_true(run_until(f, nothing_pending, s.srv));
    assert_int_equal(net_httpd_respond(s.srv, s.held, 200, NULL, NULL, 0, "late", 4), AT_ENOENT);

    /* and the server carries on */
    http(f, &c, &s, "GET", "/");
    assert_int_equal(c.status, 200);
    call_free(&c);
    server_done(&s);
}

static void test_bind_failures(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    at_httpd_opts o = {.port = net_httpd_port(s.srv)};
    assert_null(net_httpd_start(f->n, "test.dup", &o, &server_cbs, NULL));

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    o.port = ntohs(sa.sin_port);
    assert_null(net_httpd_start(f->n, "test.busy", &o, &server_cbs, NULL));
    close(fd);

    o.port = -1;
    assert_null(net_httpd_start(f->n, "test.bad", &o, &server_cbs, NULL));

    /* the first server is unharmed */
    call c;
    memset(&c, 0, sizeof(c));
    http(f, &c, &s, "GET", "/");
    assert_int_equal(c.status, 200);
    call_free(&c);

    /* stop and restart on the same port at once */
    int port = net_httpd_port(s.srv);
    net_httpd_stop(s.srv);
    at_httpd_opts again = {.port = port, .static_dir = f->dir};
    s.srv = net_httpd_start(f->n, "test.again", &again, &server_cbs, &s);
    assert_non_null(s.srv);
    assert_int_equal(net_httpd_port(s.srv), port);
    server_done(&s);
}

static void test_free_with_everything_open(void **state)
{
    fixture *f = *state;
    server s;
    server_start(f, &s, 0);
    char *url = ws_url(&s, "/ws");
    client c;
    assert_non_null(client_open(f, &c, url));
    assert_true(wait_count(f, &c.opened, 1));
    assert_true(wait_count(f, &s.opens, 1));
    assert_int_equal(net_ws_send(c.ws, "pending", 7), AT_OK);
    net_httpd_ws_broadcast(s.srv, "pending", 7);
    /* a request held open and a client still connecting */
    call hc;
    memset(&hc, 0, sizeof(hc));
    hc.method = "GET";
    hc.url = at_asprintf("http://127.0.0.1:%d/api/hold", net_httpd_port(s.srv));
    hc.timeout_ms = 2000;
    assert_int_equal(pthread_create(&hc.thread, NULL, call_thread, &hc), 0);
    assert_true(wait_count(f, &s.requests, 1));
    assert_true(s.held != 0);
    client late;
    char *url2 = at_asprintf("ws://127.0.0.1:%d/ws", free_port());
    assert_non_null(client_open(f, &late, url2));

    /* net_free with all of it alive: no callbacks, no leaks */
    int closed = c.closed + late.closed + s.closes;
    net_free(f->n);
    f->n = net_new(f->base); /* for teardown */
    assert_non_null(f->n);
    for (int i = 0; i < 20; i++) {
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    assert_int_equal(c.closed + late.closed + s.closes, closed);
    pthread_join(hc.thread, NULL);
    assert_true(hc.res != CURLE_OK || hc.status != 200);
    call_free(&hc);
    client_reset_msgs(&c);
    s.srv = NULL; /* freed by net_free */
    server_done(&s);
    free(url);
    free(url2);
}

/* --------------------------------------------- receive queue bound */

#define FLOOD_FRAME 2048
#define FLOOD_MAX (256 * 1024)
/* What one message counts in the receive queue. */
#define FLOOD_COST (sizeof(net_dlv) + FLOOD_FRAME)
/* 1.4 times the bound: after the pause ends (at half the bound) the rest
 * fits, so there is exactly one episode. */
#define FLOOD_FRAMES ((int)((FLOOD_MAX * 14 / 10) / FLOOD_FRAME + 1))

typedef struct flood {
    at_ws *ws;
    int opened, closed;
    int next, wrong; /* next number expected; gaps and reorders */
    int orders_at_first;
    int orders_at[8];      /* orders delivered when frame i arrived */
    bool backlogged_at[8]; /* whether the bus was backlogged then */
} flood;

static int orders_seen;

static void fl_open(void *arg, at_ws *ws)
{
    ((flood *)arg)->opened++;
}

static void fl_message(void *arg, at_ws *ws, const char *data, size_t len, bool binary)
{
    flood *fl = arg;
    int n = atoi(data);
    if (fl->next == 0) {
        fl->orders_at_first = orders_seen;
    }
    if (n >= 0 && n < 8) {
        fl->orders_at[n] = orders_seen;
        fl->backlogged_at[n] = bus_backlogged();
    }
    fl->wrong += n != fl->next || len != FLOOD_FRAME;
    fl->next = n + 1;
}

static void fl_close(void *arg, at_ws *ws, int code, const char *reason)
{
    ((flood *)arg)->closed++;
}

static const at_ws_cbs flood_cbs = {fl_open, fl_message, fl_close};

static int net_alerts;

static void count_net_alert(void *arg, const at_event *ev)
{
    const at_ev_alert *a = (const at_ev_alert *)ev;
    if (a->message && strncmp(a->message, "net: ", 5) == 0) {
        net_alerts++;
    }
}

static void count_order(void *arg, const at_event *ev)
{
    orders_seen++;
}

static bool rx_paused(const net_rx_stats *st, size_t arg)
{
    return st->paused;
}

static bool rx_at_least(const net_rx_stats *st, size_t arg)
{
    return st->bytes >= arg;
}

/* Polls the net thread's counters while the main loop does not run (it is
 * "stalled"); *max_bytes gets the largest queue seen. */
static bool stalled_until(fixture *f, bool (*pred)(const net_rx_stats *, size_t), size_t arg,
                          size_t *max_bytes)
{
    int64_t deadline = at_mono_us() + (int64_t)WAIT_MS * 1000;
    for (;;) {
        net_rx_stats st;
        net_get_rx_stats(f->n, &st);
        if (max_bytes && st.bytes > *max_bytes) {
            *max_bytes = st.bytes;
        }
        if (pred(&st, arg)) {
            return true;
        }
        if (at_mono_us() > deadline) {
            return false;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static bool flood_done(void *arg)
{
    return ((flood *)arg)->next >= FLOOD_FRAMES && net_alerts >= 1;
}

static bool flood_open(void *arg)
{
    flood *fl = arg;
    return fl->opened == 1;
}

static void flood_frame(char *frame, int i)
{
    memset(frame, 'x', FLOOD_FRAME);
    frame[snprintf(frame, 16, "%08d", i)] = 'x';
    frame[FLOOD_FRAME] = '\0';
}

/* A server floods a client while the main loop is stalled: the frames
 * waiting for the loop stay within the bound plus one message (the client's
 * socket is not read meanwhile), one ALERT says so, and once the loop runs
 * every frame arrives, once, in order. */
static void test_rx_backpressure_client(void **state)
{
    fixture *f = *state;
    assert_int_equal(bus_init(f->base), AT_OK);
    net_alerts = 0;
    bus_subscribe(NULL, AT_EV_ALERT, count_net_alert, NULL);
    net_set_queue_max(f->n, FLOOD_MAX);
    server s;
    server_start(f, &s, 0);
    s.echo = false;
    char *url = ws_url(&s, "/ws");
    flood fl = {0};
    fl.ws = net_ws_open(f->n, "test.flood", url, &flood_cbs, &fl);
    assert_non_null(fl.ws);
    assert_true(run_until(f, flood_open, &fl));
    assert_true(wait_count(f, &s.opens, 1));

    int nframes = FLOOD_FRAMES;
    char frame[FLOOD_FRAME + 1];
    for (int i = 0; i < nframes; i++) {
        flood_frame(frame, i);
        assert_int_equal(net_httpd_ws_send(s.conns[0], frame, FLOOD_FRAME), AT_OK);
    }
    size_t most = 0;
    assert_true(stalled_until(f, rx_paused, 0, &most));
    /* Paused: the queue holds still while the loop stays stalled. */
    int64_t until = at_mono_us() + 300000;
    while (at_mono_us() < until) {
        net_rx_stats st;
        net_get_rx_stats(f->n, &st);
        most = st.bytes > most ? st.bytes : most;
        assert_true(st.paused);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(most > FLOOD_MAX);
    assert_true(most <= FLOOD_MAX + FLOOD_COST);

    assert_true(run_until(f, flood_done, &fl));
    assert_int_equal(fl.next, nframes);
    assert_int_equal(fl.wrong, 0);
    assert_int_equal(fl.closed, 0);
    bus_drain(SIZE_MAX);
    assert_int_equal(net_alerts, 1);
    net_rx_stats st;
    net_get_rx_stats(f->n, &st);
    assert_int_equal(st.pauses, 1);
    assert_false(st.paused);
    assert_int_equal(st.bytes, 0);

    net_ws_close(fl.ws);
    free(url);
    server_done(&s);
    run_for(f, 50);
    bus_shutdown();
}

static bool server_got(void *arg)
{
    server *s = arg;
    return s->msgs >= FLOOD_FRAMES;
}

/* The same for a server whose WebSocket client floods it. */
static void test_rx_backpressure_server(void **state)
{
    fixture *f = *state;
    net_set_queue_max(f->n, FLOOD_MAX);
    server s;
    server_start(f, &s, 0);
    s.echo = false;
    s.check_seq = true;
    char *url = ws_url(&s, "/ws");
    flood fl = {0};
    fl.ws = net_ws_open(f->n, "test.flood", url, &flood_cbs, &fl);
    assert_true(run_until(f, flood_open, &fl));
    assert_true(wait_count(f, &s.opens, 1));

    int nframes = FLOOD_FRAMES;
    char frame[FLOOD_FRAME + 1];
    for (int i = 0; i < nframes; i++) {
        flood_frame(frame, i);
        assert_int_equal(net_ws_send(fl.ws, frame, FLOOD_FRAME), AT_OK);
    }
    size_t most = 0;
    assert_true(stalled_until(f, rx_paused, 0, &most));
    assert_true(most <= FLOOD_MAX + FLOOD_COST);
    assert_true(run_until(f, server_got, &s));
    assert_int_equal(s.msgs, nframes);
    assert_int_equal(s.seq_wrong, 0);
    net_rx_stats st;
    net_get_rx_stats(f->n, &st);
    assert_int_equal(st.pauses, 1);

    net_ws_close(fl.ws);
    free(url);
    server_done(&s);
}

static bool five_frames(void *arg)
{
    return ((flood *)arg)->next >= 5;
}

/* Events the bus never drops back up to the network: while the bus is
 * backlogged the loop hands on only a trickle of frames a turn (so no
 * connection looks dead to its plugin), the rest wait in the bounded receive
 * queue, and the bus keeps draining between them. */
static void test_rx_waits_for_bus_backlog(void **state)
{
    fixture *f = *state;
    assert_int_equal(bus_init(f->base), AT_OK);
    bus_set_limits(0, 5000);
    orders_seen = 0;
    bus_subscribe(NULL, AT_EV_ORDER, count_order, NULL);
    server s;
    server_start(f, &s, 0);
    s.echo = false;
    char *url = ws_url(&s, "/ws");
    flood fl = {0};
    fl.ws = net_ws_open(f->n, "test.flood", url, &flood_cbs, &fl);
    assert_true(run_until(f, flood_open, &fl));
    assert_true(wait_count(f, &s.opens, 1));

    for (int i = 0; i < 10000; i++) {
        bus_publish(NULL, bus_event_new(NULL, AT_EV_ORDER, 0), 0);
    }
    assert_true(bus_backlogged());
    char frame[FLOOD_FRAME + 1];
    for (int i = 0; i < 5; i++) {
        flood_frame(frame, i);
        assert_int_equal(net_httpd_ws_send(s.conns[0], frame, FLOOD_FRAME), AT_OK);
    }
    assert_true(stalled_until(f, rx_at_least, 5 * FLOOD_COST, NULL));
    assert_true(run_until(f, five_frames, &fl));
    assert_int_equal(fl.wrong, 0);
    /* Frames kept moving during the backlog, at most a trickle a turn: the
     * first came before the backlog ended, and the bus drained a batch
     * before the one past the trickle. */
    assert_true(fl.backlogged_at[0]);
    assert_true(fl.orders_at_first < 10000 - 5000 / 2);
    assert_true(fl.orders_at[NET_DLV_TRICKLE] > fl.orders_at[0]);
    assert_false(bus_backlogged());

    net_ws_close(fl.ws);
    free(url);
    server_done(&s);
    run_for(f, 50);
    bus_shutdown();
}

int main(void)
{
    evthread_use_pthreads();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_connecting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_handshake_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_ws_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_connection_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_answer_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_everything_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_backpressure_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_backpressure_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_waits_for_bus_backlog, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

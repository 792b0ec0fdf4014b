/* The bounded bus and network queue in the real engine (harness), with the
 * bounds set through [core]:
 *
 *  - a slow subscriber (10 us an event) on the main loop, flooded from
 *    another thread with books, tickers and trades among orders, fills and
 *    balances: the process RSS stays flat (/proc/self/status), every
 *    account/order event arrives once and in order, market data is dropped
 *    and counted in metrics_text, and each overflow episode has its ALERT;
 *  - a WebSocket server (a plain socket on a thread of this test, writing
 *    frames as fast as the kernel takes them) floods the engine's client
 *    while the main loop is stalled: the engine stops reading at
 *    net_queue_max, RSS stays flat, and once the loop runs every frame
 *    arrives in order;
 *  - an event published through the host table by a publisher that writes
 *    its own payload version carries the engine's AT_EV_VERSION.
 *
 * RSS is not asserted under ASan (its quarantine keeps freed memory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bus.h"
#include "engine.h"
#include "harness.h"
#include "net.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define WAIT_MS 60000 /* a hang guard, not a timing assertion */

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    assert_true(kb > 0);
    return kb;
}

static void burn_us(int64_t us)
{
    int64_t until = at_mono_us() + us;
    while (at_mono_us() < until) {
    }
}

/* ------------------------------------------------------- bus flood */

#define MARKET_MAX 2048
#define FLOOD_MARKET 150000
#define ACCT_EVERY 50

typedef struct flood {
    harness *h;
    const at_host *host;
    at_instance *inst;
    atomic_int producer_done;
    int acct_sent;  /* by the producer */
    int acct_next;  /* next number the subscriber expects */
    int acct_wrong; /* gaps, repeats, reorders */
    int alerts;
    uint64_t market_seen;
    long rss_base, rss_max;
    size_t market_most;
} flood;

static flood F; /* the test's own state */

/* Memory is sampled from inside delivery too: a loop turn drains the whole
 * queue, so after a turn it is empty whether it was bounded or not. */
static void sample(void)
{
    bus_stats st;
    bus_get_stats(&st);
    F.market_most = st.market > F.market_most ? st.market : F.market_most;
    long rss = rss_kb();
    F.rss_max = rss > F.rss_max ? rss : F.rss_max;
}

static void on_market(void *arg, const at_event *ev)
{
    if (F.market_seen++ % 256 == 0) {
        sample();
    }
    burn_us(10); /* the slow subscriber */
}

static void on_acct(void *arg, const at_event *ev)
{
    int n = -1;
    if (ev->type == AT_EV_ORDER) {
        n = (int)((const at_ev_order *)ev)->c_time_ms;
    } else if (ev->type == AT_EV_FILL) {
        n = (int)((const at_ev_fill *)ev)->exch_ts_ms;
    } else if (ev->type == AT_EV_BALANCE) {
        n = (int)((const at_ev_balance *)ev)->exch_ts_ms;
    }
    F.acct_wrong += n != F.acct_next;
    F.acct_next = n + 1;
}

static void on_alert(void *arg, const at_event *ev)
{
    const at_ev_alert *a = (const at_ev_alert *)ev;
    if (a->message && strstr(a->message, "market data over 2048 queued events")) {
        F.alerts++;
    }
}

static void *producer(void *arg)
{
    static const at_event_type acct[3] = {AT_EV_ORDER, AT_EV_FILL, AT_EV_BALANCE};
    for (int i = 0; i < FLOOD_MARKET; i++) {
        at_event_type t = i % 10 == 0 ? AT_EV_BOOK : i % 2 ? AT_EV_TICKER : AT_EV_TRADE;
        at_event *ev = F.host->event_new(F.inst, t, 0);
        ev->inst = (at_inst)(1 + i % 5);
        F.host->publish(F.inst, ev, t == AT_EV_BOOK ? AT_PUB_COALESCE : 0);
        if (i % ACCT_EVERY == 0) {
            at_event_type a = acct[F.acct_sent % 3];
            at_event *e = F.host->event_new(F.inst, a, 0);
            if (a == AT_EV_ORDER) {
                ((at_ev_order *)e)->c_time_ms = F.acct_sent;
            } else if (a == AT_EV_FILL) {
                ((at_ev_fill *)e)->exch_ts_ms = F.acct_sent;
            } else {
                ((at_ev_balance *)e)->exch_ts_ms = F.acct_sent;
            }
            F.acct_sent++;
            F.host->publish(F.inst, e, 0);
        }
    }
    atomic_store(&F.producer_done, 1);
    return NULL;
}

/* Checked after every loop turn: samples memory, ends when all is in. */
static bool flood_over(void *arg)
{
    sample();
    return atomic_load(&F.producer_done) && F.acct_next == F.acct_sent && bus_pending() == 0;
}

static void test_slow_subscriber_flood(void **state)
{
    memset(&F, 0, sizeof(F));
    F.h = harness_new("[core]\nbus_market_max = 2048\n");
    assert_non_null(F.h);
    F.host = harness_host(F.h);
    F.inst = harness_inst(F.h);
    const at_event_type market[3] = {AT_EV_BOOK, AT_EV_TICKER, AT_EV_TRADE};
    for (int i = 0; i < 3; i++) {
        assert_true(F.host->subscribe(F.inst, market[i], on_market, NULL) > 0);
    }
    assert_true(F.host->subscribe(F.inst, AT_EV_ORDER, on_acct, NULL) > 0);
    assert_true(F.host->subscribe(F.inst, AT_EV_FILL, on_acct, NULL) > 0);
    assert_true(F.host->subscribe(F.inst, AT_EV_BALANCE, on_acct, NULL) > 0);
    assert_true(F.host->subscribe(F.inst, AT_EV_ALERT, on_alert, NULL) > 0);
    bus_stats st;
    bus_get_stats(&st);
    assert_int_equal(st.market_max, MARKET_MAX); /* [core] bus_market_max applied */

    F.rss_base = F.rss_max = rss_kb();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer, NULL), 0);
    bool done = harness_run_until(F.h, flood_over, NULL, WAIT_MS);
    pthread_join(th, NULL);
    assert_true(done);
    printf("# %llu of %d market events delivered, at most %zu queued, %d ALERT(s), RSS %ld -> "
           "%ld kB\n",
           (unsigned long long)F.market_seen, FLOOD_MARKET, F.market_most, F.alerts, F.rss_base,
           F.rss_max);

    /* Each of the queue and the mailbox holds the bound at most. */
    assert_true(F.market_most <= 2 * MARKET_MAX);
    assert_int_equal(F.acct_wrong, 0);
    assert_int_equal(F.acct_next, F.acct_sent);
    assert_int_equal(F.acct_sent, FLOOD_MARKET / ACCT_EVERY);
    bus_get_stats(&st);
    /* One episode: it ends only after BUS_QUIET_US without a drop. */
    assert_int_equal(F.alerts, 1);
    assert_int_equal(st.overflows, 1);
    if (!UNDER_ASAN) {
        /* Unbounded, the queue would hold ~150,000 events (~60 MB). */
        assert_true(F.rss_max - F.rss_base < 16 * 1024);
    }

    char *text = F.host->metrics_text();
    assert_non_null(text);
    assert_non_null(
        strstr(text, "aitrader_bus_dropped_total{type=\"trade\",instance=\"test.harness\"}"));
    assert_null(strstr(text, "aitrader_bus_dropped_total{type=\"order\""));
    assert_null(strstr(text, "aitrader_bus_dropped_total{type=\"fill\""));
    assert_null(strstr(text, "aitrader_bus_dropped_total{type=\"balance\""));
    free(text);
    harness_free(F.h);
}

/* ------------------------------------------ header version (host table) */

static uint16_t seen_version;
static uint32_t seen_size;

static void on_trigger(void *arg, const at_event *ev)
{
    seen_version = ev->version;
    seen_size = ev->size;
    (*(int *)arg)++;
}

static void test_published_version_is_the_engines(void **state)
{
    harness *h = harness_new("[core]\n");
    assert_non_null(h);
    const at_host *host = harness_host(h);
    int got = 0;
    assert_true(host->subscribe(harness_inst(h), AT_EV_TRIGGER, on_trigger, &got) > 0);
    at_ev_trigger *t = (at_ev_trigger *)host->event_new(harness_inst(h), AT_EV_TRIGGER, 0);
    assert_non_null(t);
    assert_int_equal(t->h.version, AT_EV_VERSION);
    /* What a plugin built against payload version 1 would have written. */
    t->h.version = 1;
    t->h.size = (uint32_t)offsetof(at_ev_trigger, deadline_ms);
    assert_int_equal(host->publish(harness_inst(h), &t->h, 0), AT_OK);
    assert_true(harness_run_until(h, harness_flag_set, &got, WAIT_MS));
    assert_int_equal(seen_version, AT_EV_VERSION);
    assert_int_equal(seen_size, sizeof(at_ev_trigger));
    harness_free(h);
}

/* ------------------------------------------------------ network flood */

#define FRAME 4096
#define FRAMES 8192 /* 32 MB */
#define NET_MAX (1024 * 1024)

typedef struct wsflood {
    int listen_fd;
    int port;
    atomic_int sent;
    atomic_int stop;
    /* client side, main loop */
    at_ws *ws;
    int opened, closed, next, wrong, alerts, pauses;
} wsflood;

static wsflood W;

/* Reads the upgrade request and answers it (RFC 6455 accept key). */
static int ws_handshake(int fd)
{
    char req[4096];
    size_t len = 0;
    while (len < sizeof(req) - 1) {
        ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0) {
            return -1;
        }
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n")) {
            break;
        }
    }
    const char *k = strcasestr(req, "Sec-WebSocket-Key:");
    if (!k) {
        return -1;
    }
    k += 18;
    while (*k == ' ') {
        k++;
    }
    char key[128];
    size_t kn = strcspn(k, "\r\n");
    snprintf(key, sizeof(key), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)kn, k);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)key, strlen(key), sha);
    char accept[64];
    EVP_EncodeBlock((unsigned char *)accept, sha, SHA_DIGEST_LENGTH);
    char resp[256];
    int rn = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    return send(fd, resp, (size_t)rn, MSG_NOSIGNAL) == rn ? 0 : -1;
}

/* Writes FRAMES text frames of FRAME bytes, numbered, as fast as the
 * socket takes them; blocks when the engine stops reading. */
static void *ws_server(void *arg)
{
    int fd = accept(W.listen_fd, NULL, NULL);
    if (fd < 0 || ws_handshake(fd) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    unsigned char frame[4 + FRAME];
    frame[0] = 0x81; /* FIN, text */
    frame[1] = 126;  /* 16-bit length follows */
    frame[2] = FRAME >> 8;
    frame[3] = FRAME & 0xff;
    memset(frame + 4, 'x', FRAME);
    for (int i = 0; i < FRAMES && !atomic_load(&W.stop); i++) {
        char num[16];
        memcpy(frame + 4, num, (size_t)snprintf(num, sizeof(num), "%08d", i));
        size_t off = 0;
        while (off < sizeof(frame)) {
            ssize_t n = send(fd, frame + off, sizeof(frame) - off, MSG_NOSIGNAL);
            if (n <= 0) {
                close(fd);
                return NULL;
            }
            off += (size_t)n;
        }
        atomic_fetch_add(&W.sent, 1);
    }
    /* Keep the connection until the engine has read everything. */
    char b;
    while (recv(fd, &b, 1, 0) > 0) {
    }
    close(fd);
    return NULL;
}

static void w_open(void *arg, at_ws *ws)
{
    W.opened++;
}

static void w_message(void *arg, at_ws *ws, const char *data, size_t len, bool binary)
{
    W.wrong += atoi(data) != W.next || len != FRAME;
    W.next++;
}

static void w_close(void *arg, at_ws *ws, int code, const char *reason)
{
    W.closed++;
}

static void w_alert(void *arg, const at_event *ev)
{
    const at_ev_alert *a = (const at_ev_alert *)ev;
    if (a->message && strncmp(a->message, "net: ", 5) == 0) {
        W.alerts++;
    }
}

static bool w_opened(void *arg)
{
    return W.opened == 1 || W.closed;
}

static bool w_alerted(void *arg)
{
    return W.alerts >= W.pauses;
}

static bool w_all(void *arg)
{
    return W.next >= FRAMES || W.closed;
}

static void test_network_flood_stalled_loop(void **state)
{
    memset(&W, 0, sizeof(W));
    harness *h = harness_new("[core]\nnet_queue_max = 1M\n");
    assert_non_null(h);
    const at_host *host = harness_host(h);
    assert_true(host->subscribe(harness_inst(h), AT_EV_ALERT, w_alert, NULL) > 0);
    net_rx_stats st;
    net_get_rx_stats(engine_net(), &st);
    assert_int_equal(st.max, NET_MAX); /* [core] net_queue_max applied */

    long base = rss_kb(), most = base;
    W.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(W.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(W.listen_fd, 1), 0);
    assert_int_equal(getsockname(W.listen_fd, (struct sockaddr *)&sa, &sl), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ws_server, NULL), 0);
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", ntohs(sa.sin_port));
    static const at_ws_cbs cbs = {w_open, w_message, w_close};
    W.ws = host->ws_open(harness_inst(h), url, &cbs, NULL);
    assert_non_null(W.ws);
    assert_true(harness_run_until(h, w_opened, NULL, WAIT_MS));
    assert_int_equal(W.opened, 1);

    /* The loop is stalled from here: only the net thread and the server run. */
    size_t most_bytes = 0;
    int64_t deadline = at_mono_us() + (int64_t)20000 * 1000; /* a hang guard */
    for (;;) {
        net_get_rx_stats(engine_net(), &st);
        most_bytes = st.bytes > most_bytes ? st.bytes : most_bytes;
        if (st.paused || at_mono_us() > deadline) {
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(st.paused);
    /* Paused: for a while nothing more is read, whatever the server sends. */
    int64_t until = at_mono_us() + 500000;
    while (at_mono_us() < until) {
        net_get_rx_stats(engine_net(), &st);
        most_bytes = st.bytes > most_bytes ? st.bytes : most_bytes;
        long rss = rss_kb();
        most = rss > most ? rss : most;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    int sent_while_stalled = atomic_load(&W.sent);
    printf("# stalled: %d of %d frames written by the server, queue at most %zu bytes, RSS "
           "%ld -> %ld kB\n",
           sent_while_stalled, FRAMES, most_bytes, base, most);
    assert_true(most_bytes <= NET_MAX + FRAME + 256);
    assert_true(sent_while_stalled < FRAMES); /* the server is blocked: TCP pushed back */
    if (!UNDER_ASAN) {
        /* Unbounded, the 32 MB the server wrote would all be queued. */
        assert_true(most - base < 12 * 1024);
    }

    /* The loop runs again: everything arrives, once, in order. */
    assert_true(harness_run_until(h, w_all, NULL, WAIT_MS));
    assert_int_equal(W.closed, 0);
    assert_int_equal(W.next, FRAMES);
    assert_int_equal(W.wrong, 0);
    /* One episode (it ends only after NET_RX_QUIET_US without a pause),
     * one ALERT. */
    net_get_rx_stats(engine_net(), &st);
    assert_int_equal(st.pauses, 1);
    W.pauses = (int)st.pauses;
    assert_true(harness_run_until(h, w_alerted, NULL, WAIT_MS));
    assert_int_equal(W.alerts, 1);

    host->ws_close(W.ws);
    atomic_store(&W.stop, 1);
    pthread_join(th, NULL);
    close(W.listen_fd);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_subscriber_flood),
        cmocka_unit_test(test_published_version_is_the_engines),
        cmocka_unit_test(test_network_flood_stalled_loop),
    };
    return cmocka_run_group_tests_name("bus_flood", tests, NULL, NULL);
}

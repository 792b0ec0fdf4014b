/* okx-sim load generator for `make bench`:
 *   rest URL SECONDS CONNS   keep-alive GETs of /api/v5/market/ticker and
 *                            signed GETs of /api/v5/account/balance, CONNS
 *                            connections in parallel; prints "rest_rps N"
 *   books URL SECONDS N      one WebSocket subscribed to `books` of the first
 *                            N instruments; prints "books_msgs_per_s X",
 *                            "books_gaps G" (broken seqId chains) and
 *                            "books_lag_ms_p99 L" (push ts vs arrival)
 * Signed requests use the okx-sim account given by OKXSIM_KEY, OKXSIM_SECRET,
 * OKXSIM_PASSPHRASE (demo). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static char g_host[64];
static int g_port;
static struct event_base *g_base;
static long long g_done;
static double g_deadline;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_url(const char *url)
{
    return sscanf(url, "http://%63[^:]:%d", g_host, &g_port) == 2 ? 0 : -1;
}

static struct bufferevent *connect_to(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    inet_pton(AF_INET, g_host, &sin.sin_addr);
    struct bufferevent *bev = bufferevent_socket_new(g_base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        fprintf(stderr, "okxsim_bench: cannot connect to %s:%d\n", g_host, g_port);
        exit(1);
    }
    return bev;
}

/* ------------------------------------------------------------ REST */

typedef struct rconn {
    struct bufferevent *bev;
    int n;
} rconn;

static void send_req(rconn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const char *key = getenv("OKXSIM_KEY");
    if ((c->n++ & 1) || !key) {
        evbuffer_add_printf(out,
                            "GET /api/v5/market/ticker?instId=BTC-USDT-SWAP HTTP/1.1\r\n"
                            "Host: %s\r\n\r\n",
                            g_host);
        return;
    }
    /* A signed request exercises the HMAC check as ccxt's calls would. */
    char ts[32], pre[128], sig[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    int pl = snprintf(pre, sizeof(pre), "%sGET/api/v5/account/balance", ts);
    unsigned char md[32];
    unsigned int ml = 0;
    const char *secret = getenv("OKXSIM_SECRET");
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)pre, (size_t)pl, md, &ml);
    EVP_EncodeBlock((unsigned char *)sig, md, (int)ml);
    evbuffer_add_printf(out,
                        "GET /api/v5/account/balance HTTP/1.1\r\nHost: %s\r\n"
                        "OK-ACCESS-KEY: %s\r\nOK-ACCESS-SIGN: %s\r\nOK-ACCESS-TIMESTAMP: %s\r\n"
                        "OK-ACCESS-PASSPHRASE: %s\r\nx-simulated-trading: 1\r\n\r\n",
                        g_host, key, sig, ts, getenv("OKXSIM_PASSPHRASE"));
}

static void on_rest_read(struct bufferevent *bev, void *arg)
{
    rconn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (p.pos < 0) {
            return;
        }
        size_t hl = (size_t)p.pos + 4;
        char *head = malloc(hl + 1);
        evbuffer_copyout(in, head, hl);
        head[hl] = '\0';
        const char *cl = strcasestr(head, "Content-Length:");
        size_t blen = cl ? strtoul(cl + 15, NULL, 10) : 0;
        bool ok = strncmp(head, "HTTP/1.1 200", 12) == 0;
        free(head);
        if (evbuffer_get_length(in) < hl + blen) {
            return;
        }
        evbuffer_drain(in, hl + blen);
        if (!ok) {
            fprintf(stderr, "okxsim_bench: a request failed\n");
            exit(1);
        }
        g_done++;
        if (now_s() >= g_deadline) {
            event_base_loopbreak(g_base);
            return;
        }
        send_req(c);
    }
}

static int bench_rest(double secs, int conns)
{
    rconn *cs = calloc((size_t)conns, sizeof(*cs));
    double t0 = now_s();
    g_deadline = t0 + secs;
    for (int i = 0; i < conns; i++) {
        cs[i].bev = connect_to();
        bufferevent_setcb(cs[i].bev, on_rest_read, NULL, NULL, &cs[i]);
        bufferevent_enable(cs[i].bev, EV_READ | EV_WRITE);
        send_req(&cs[i]);
    }
    event_base_dispatch(g_base);
    double el = now_s() - t0;
    printf("rest_rps %.0f\n", (double)g_done / el);
    for (int i = 0; i < conns; i++) {
        bufferevent_free(cs[i].bev);
    }
    free(cs);
    return 0;
}

/* ------------------------------------------------------------ books */

static const char *INSTS[] = {"BTC-USDT-SWAP",  "ETH-USDT-SWAP", "SOL-USDT-SWAP", "DOGE-USDT-SWAP",
                              "XRP-USDT-SWAP",  "ADA-USDT-SWAP", "LTC-USDT-SWAP", "DOT-USDT-SWAP",
                              "AVAX-USDT-SWAP", "LINK-USDT-SWAP"};

typedef struct wstate {
    struct bufferevent *bev;
    bool upgraded;
    long long msgs, gaps;
    long long last_seq[10];
    int nlag;
    long long lag[200000];
} wstate;

static void ws_send_text(struct bufferevent *bev, const char *s)
{
    size_t n = strlen(s);
    unsigned char h[8] = {0x81, 0};
    size_t hl = 2;
    if (n < 126) {
        h[1] = (unsigned char)(0x80 | n);
    } else {
        h[1] = 0x80 | 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    }
    unsigned char mask[4] = {1, 2, 3, 4};
    struct evbuffer *out = bufferevent_get_output(bev);
    evbuffer_add(out, h, hl);
    evbuffer_add(out, mask, 4);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i] ^ mask[i & 3];
        evbuffer_add(out, &b, 1);
    }
}

static void on_frame(wstate *w, char *p)
{
    const char *inst = strstr(p, "\"instId\":\"");
    const char *seq = strstr(p, "\"seqId\":");
    const char *prev = strstr(p, "\"prevSeqId\":");
    const char *ts = strstr(p, "\"ts\":\"");
    if (!inst || !seq || !prev) {
        return;
    }
    int k = -1;
    for (int i = 0; i < 10; i++) {
        if (strncmp(inst + 10, INSTS[i], strlen(INSTS[i])) == 0 &&
            inst[10 + strlen(INSTS[i])] == '"') {
            k = i;
        }
    }
    if (k < 0) {
        return;
    }
    long long s = atoll(seq + 8), pv = atoll(prev + 12);
    if (pv != -1 && pv != w->last_seq[k]) {
        w->gaps++;
    }
    w->last_seq[k] = s;
    w->msgs++;
    if (ts && w->nlag < 200000) {
        w->lag[w->nlag++] = wall_ms() - atoll(ts + 6);
    }
}

static void on_ws_read(struct bufferevent *bev, void *arg)
{
    wstate *w = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (!w->upgraded) {
        struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (p.pos < 0) {
            return;
        }
        evbuffer_drain(in, (size_t)p.pos + 4);
        w->upgraded = true;
        char sub[2048] = "{\"op\":\"subscribe\",\"args\":[";
        for (int i = 0; i < 10; i++) {
            char a[96];
            snprintf(a, sizeof(a), "%s{\"channel\":\"books\",\"instId\":\"%s\"}", i ? "," : "",
                     INSTS[i]);
            strcat(sub, a);
        }
        strcat(sub, "]}");
        ws_send_text(bev, sub);
    }
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        unsigned char h[10];
        if (avail < 2) {
            return;
        }
        evbuffer_copyout(in, h, avail < 10 ? avail : 10);
        size_t len = h[1] & 0x7f, hl = 2;
        if (len == 126) {
            hl = 4;
            len = ((size_t)h[2] << 8) | h[3];
        } else if (len == 127) {
            hl = 10;
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | h[2 + i];
            }
        }
        if (avail < hl + len) {
            return;
        }
        evbuffer_drain(in, hl);
        char *p = malloc(len + 1);
        evbuffer_remove(in, p, len);
        p[len] = '\0';
        on_frame(w, p);
        free(p);
    }
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void on_books_done(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(g_base);
}

static int bench_books(double secs, int n)
{
    static wstate w;
    for (int i = 0; i < 10; i++) {
        w.last_seq[i] = -2;
    }
    w.bev = connect_to();
    bufferevent_setcb(w.bev, on_ws_read, NULL, NULL, &w);
    bufferevent_enable(w.bev, EV_READ | EV_WRITE);
    evbuffer_add_printf(bufferevent_get_output(w.bev),
                        "GET /ws/v5/public HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n",
                        g_host);
    struct timeval tv = {(long)secs, (long)((secs - (long)secs) * 1e6)};
    struct event *done = evtimer_new(g_base, on_books_done, NULL);
    evtimer_add(done, &tv);
    double t0 = now_s();
    event_base_dispatch(g_base);
    double el = now_s() - t0;
    qsort(w.lag, (size_t)w.nlag, sizeof(w.lag[0]), cmp_ll);
    printf("books_msgs_per_s %.1f\n", (double)w.msgs / el);
    printf("books_gaps %lld\n", w.gaps);
    printf("books_lag_ms_p99 %lld\n", w.nlag ? w.lag[(size_t)(w.nlag * 0.99)] : -1);
    event_free(done);
    bufferevent_free(w.bev);
    (void)n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 || parse_url(argv[2]) != 0) {
        fprintf(stderr, "usage: okxsim_bench rest|books URL SECONDS N\n");
        return 2;
    }
    g_base = event_base_new();
    double secs = atof(argv[3]);
    int n = atoi(argv[4]);
    int rc = strcmp(argv[1], "rest") == 0 ? bench_rest(secs, n) : bench_books(secs, n);
    event_base_free(g_base);
    return rc;
}

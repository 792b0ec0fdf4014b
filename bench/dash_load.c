/* Load generator for the dashboard's figures in `make bench` (raw epoll,
 * one thread, so what it measures is the engine, not a client library):
 *
 *   http URL PATH CONNS SECONDS   CONNS keep-alive HTTP/1.1 connections, each
 *                                 sending GET PATH again as soon as the last
 *                                 answer is complete (1 s warm-up first);
 *                                 prints dash_http_rps, _p50_us, _p99_us,
 *                                 _max_us, _requests, _errors, _body_bytes
 *   ws URL PATH CLIENTS SECONDS [PID]
 *                                 CLIENTS WebSocket clients (handshake checked:
 *                                 101 and Sec-WebSocket-Accept), then, after
 *                                 a warm-up second, SECONDS of "ticker"
 *                                 messages: delay from the ticker's "ts"
 *                                 (epoch ms) to its receipt (CLOCK_REALTIME,
 *                                 read as the bytes come); prints
 *                                 dash_ws_clients, _tickers,
 *                                 _delay_ms_p50/_p99/_max, the fewest and
 *                                 most tickers one client got, and with PID
 *                                 that process's VmRSS (kB) while the
 *                                 clients are still connected.
 *
 * URL is http://127.0.0.1:PORT. Exit 1 when the server cannot be reached, a
 * handshake fails, or an answer is not HTTP/1.1 200 (counted as errors and
 * the run fails at the end: a figure over failed requests means nothing). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct conn {
    int fd;
    char *buf; /* what arrived and is not consumed yet */
    size_t len, cap;
    int64_t sent_us; /* http: the request in flight went out then */
    bool open;       /* ws: handshake done */
    char key[32];    /* ws: Sec-WebSocket-Key sent */
    char *msg;       /* ws: a fragmented message being put together */
    size_t mlen;
    uint64_t tickers;
} conn;

typedef struct samples {
    uint32_t *v;
    size_t n, cap;
} samples;

static char g_host[64];
static int g_port;
static int g_ep;
static const char *g_path;
static bool g_measuring;
static samples g_lat;
static uint64_t g_requests, g_errors, g_body_bytes;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "dash_load: %s\n", what);
    exit(1);
}

static void add_sample(samples *s, int64_t v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
        if (!s->v) {
            die("out of memory");
        }
    }
    s->v[s->n++] = v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted samples. */
static uint32_t pct(const samples *s, double p)
{
    if (!s->n) {
        return 0;
    }
    size_t k = (size_t)(p / 100.0 * (double)s->n + 0.999999);
    return s->v[(k ? k : 1) - 1];
}

static void buf_append(conn *c, const char *data, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 16384;
        while (cap < c->len + n + 1) {
            cap *= 2;
        }
        c->buf = realloc(c->buf, cap);
        if (!c->buf) {
            die("out of memory");
        }
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

static void consume(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->buf[c->len] = '\0';
}

static void send_all(conn *c, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            die("send failed (the server closed the connection?)");
        }
        p += k;
        n -= (size_t)k;
    }
}

static conn *connect_one(void)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c) {
        die("out of memory");
    }
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    if (c->fd < 0 || inet_pton(AF_INET, g_host, &sin.sin_addr) != 1) {
        die("bad address or no socket");
    }
    /* a blocking connect: on loopback it is immediate, and it keeps the
     * connection set-up out of the measured loop */
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        die("cannot connect");
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        die("epoll_ctl");
    }
    return c;
}

/* Read what is there; false when the peer closed. */
static bool read_some(conn *c)
{
    char tmp[65536];
    for (;;) {
        ssize_t k = recv(c->fd, tmp, sizeof(tmp), 0);
        if (k > 0) {
            buf_append(c, tmp, (size_t)k);
            if ((size_t)k < sizeof(tmp)) {
                return true;
            }
            continue;
        }
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        return false;
    }
}

/* The end of a response head, or NULL while incomplete. */
static const char *head_end(const conn *c)
{
    return c->len ? strstr(c->buf, "\r\n\r\n") : NULL;
}

/* A header's value in the head (case-insensitive name), or NULL. */
static const char *header(const char *head, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ') {
                v++;
            }
            const char *e = strstr(v, "\r\n");
            *vlen = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ http */

static void http_send(conn *c)
{
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n\r\n", g_path,
                     g_host, g_port);
    c->sent_us = mono_us();
    send_all(c, req, (size_t)n);
}

/* Complete answers in the buffer: account for each and send the next. */
static void http_readable(conn *c)
{
    if (!read_some(c)) {
        die("the server closed a keep-alive connection");
    }
    const char *end;
    while ((end = head_end(c)) != NULL) {
        size_t vlen = 0;
        const char *cl = header(c->buf, end, "Content-Length", &vlen);
        if (!cl) {
            die("an answer without Content-Length");
        }
        size_t body = (size_t)strtoull(cl, NULL, 10);
        size_t total = (size_t)(end + 4 - c->buf) + body;
        if (c->len < total) {
            return;
        }
        bool ok = strncmp(c->buf, "HTTP/1.1 200 ", 13) == 0;
        if (!ok && g_errors < 3) {
            fprintf(stderr, "dash_load: answer %.*s\n", (int)(strstr(c->buf, "\r\n") - c->buf),
                    c->buf);
        }
        if (g_measuring) {
            add_sample(&g_lat, mono_us() - c->sent_us);
            g_requests++;
            g_errors += !ok;
            g_body_bytes = body;
        }
        consume(c, total);
        http_send(c);
    }
}

static int run_http(int nconns, int seconds)
{
    conn **cs = calloc((size_t)nconns, sizeof(*cs));
    if (!cs) {
        die("out of memory");
    }
    for (int i = 0; i < nconns; i++) {
        cs[i] = connect_one();
    }
    for (int i = 0; i < nconns; i++) {
        http_send(cs[i]);
    }
    int64_t t0 = mono_us(), start = t0 + 1000000, stop = start + (int64_t)seconds * 1000000;
    struct epoll_event evs[256];
    for (;;) {
        int64_t now = mono_us();
        if (!g_measuring && now >= start) {
            g_measuring = true; /* the warm-up second is over */
        }
        if (now >= stop) {
            break;
        }
        int n = epoll_wait(g_ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            http_readable(evs[i].data.ptr);
        }
    }
    double secs = (double)(mono_us() - start) / 1e6;
    qsort(g_lat.v, g_lat.n, sizeof(*g_lat.v), cmp_u32);
    printf("dash_http_requests %llu\n", (unsigned long long)g_requests);
    printf("dash_http_rps %.0f\n", (double)g_requests / secs);
    printf("dash_http_p50_us %u\n", pct(&g_lat, 50));
    printf("dash_http_p99_us %u\n", pct(&g_lat, 99));
    printf("dash_http_max_us %u\n", g_lat.n ? g_lat.v[g_lat.n - 1] : 0);
    printf("dash_http_errors %llu\n", (unsigned long long)g_errors);
    printf("dash_http_body_bytes %llu\n", (unsigned long long)g_body_bytes);
    printf("dash_http_conns %d\n", nconns);
    return g_errors || !g_requests ? 1 : 0;
}

/* ------------------------------------------------------------ ws */

static void b64(const unsigned char *in, int n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, n);
}

static void ws_handshake(conn *c)
{
    unsigned char nonce[16];
    for (size_t i = 0; i < sizeof(nonce); i++) {
        nonce[i] = (unsigned char)rand();
    }
    b64(nonce, sizeof(nonce), c->key);
    char req[512];
    /* the dashboard's own page: Origin is its address */
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: "
                     "Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: "
                     "http://%s:%d\r\n\r\n",
                     g_path, g_host, g_port, c->key, g_host, g_port);
    send_all(c, req, (size_t)n);
}

/* The 101 and its Sec-WebSocket-Accept; 0 once open, 1 while incomplete. */
static int ws_check_101(conn *c)
{
    const char *end = head_end(c);
    if (!end) {
        return 1;
    }
    if (strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "dash_load: handshake answered %.*s\n",
                (int)(strstr(c->buf, "\r\n") - c->buf), c->buf);
        die("WebSocket handshake refused");
    }
    char cat[128], want[64];
    unsigned char sha[EVP_MAX_MD_SIZE];
    unsigned int shalen = 0;
    int n = snprintf(cat, sizeof(cat), "%s%s", c->key, WS_GUID);
    EVP_Digest(cat, (size_t)n, sha, &shalen, EVP_sha1(), NULL);
    b64(sha, (int)shalen, want);
    size_t vlen = 0;
    const char *acc = header(c->buf, end, "Sec-WebSocket-Accept", &vlen);
    if (!acc || vlen != strlen(want) || strncmp(acc, want, vlen) != 0) {
        die("a wrong Sec-WebSocket-Accept");
    }
    consume(c, (size_t)(end + 4 - c->buf));
    c->open = true;
    return 0;
}

/* A client's frame: FIN, opcode, masked (clients must mask), payload. */
static void ws_send_frame(conn *c, int opcode, const char *data, size_t n)
{
    unsigned char f[14 + 125];
    if (n > 125) {
        return; /* only pongs and the close go out, both short */
    }
    unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    f[0] = (unsigned char)(0x80 | opcode);
    f[1] = (unsigned char)(0x80 | n);
    memcpy(f + 2, mask, 4);
    for (size_t i = 0; i < n; i++) {
        f[6 + i] = (unsigned char)data[i] ^ mask[i % 4];
    }
    send_all(c, f, 6 + n);
}

static samples g_delay;
static uint64_t g_tickers;

/* One whole text message: a ticker's delay from its "ts". */
static void ws_message(conn *c, const char *m, size_t n, int64_t recv_us)
{
    (void)n;
    const char *t = strstr(m, "\"type\"");
    if (!t || !g_measuring) {
        return;
    }
    t += 6;
    while (*t == ' ' || *t == ':') {
        t++;
    }
    if (strncmp(t, "\"ticker\"", 8) != 0) {
        return;
    }
    const char *ts = strstr(m, "\"ts\"");
    if (!ts) {
        die("a ticker without ts");
    }
    ts += 4;
    while (*ts == ' ' || *ts == ':') {
        ts++;
    }
    long long ms = strtoll(ts, NULL, 10);
    add_sample(&g_delay, recv_us - ms * 1000);
    g_tickers++;
    c->tickers++;
}

static void ws_readable(conn *c)
{
    bool alive = read_some(c);
    int64_t recv_us = wall_us();
    if (!c->open && ws_check_101(c)) {
        if (!alive) {
            die("closed during the handshake");
        }
        return;
    }
    for (;;) {
        const unsigned char *b = (const unsigned char *)c->buf;
        if (c->len < 2) {
            break;
        }
        bool fin = b[0] & 0x80, masked = b[1] & 0x80;
        int op = b[0] & 0x0f;
        uint64_t plen = b[1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (c->len < 4) {
                break;
            }
            plen = (uint64_t)b[2] << 8 | b[3];
            hl = 4;
        } else if (plen == 127) {
            if (c->len < 10) {
                break;
            }
            plen = 0;
            for (int i = 0; i < 8; i++) {
                plen = plen << 8 | b[2 + i];
            }
            hl = 10;
        }
        size_t mk = hl;
        hl += masked ? 4 : 0;
        if (c->len < hl + plen) {
            break;
        }
        char *p = c->buf + hl;
        if (masked) { /* a server must not mask; undo it anyway */
            for (uint64_t i = 0; i < plen; i++) {
                p[i] ^= (char)b[mk + i % 4];
            }
        }
        if (op == 0x9) {
            ws_send_frame(c, 0xA, p, (size_t)plen);
        } else if (op == 0x8) {
            die("the server closed a WebSocket");
        } else if (op == 0x1 || op == 0x2 || op == 0x0) {
            if (fin && !c->mlen) {
                char save = p[plen];
                p[plen] = '\0';
                ws_message(c, p, (size_t)plen, recv_us);
                p[plen] = save;
            } else {
                c->msg = realloc(c->msg, c->mlen + plen + 1);
                if (!c->msg) {
                    die("out of memory");
                }
                memcpy(c->msg + c->mlen, p, plen);
                c->mlen += plen;
                c->msg[c->mlen] = '\0';
                if (fin) {
                    ws_message(c, c->msg, c->mlen, recv_us);
                    c->mlen = 0;
                }
            }
        }
        consume(c, hl + (size_t)plen);
    }
    if (!alive) {
        die("the server dropped a WebSocket client");
    }
}

static long rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static int run_ws(int nclients, int seconds, long pid)
{
    conn **cs = calloc((size_t)nclients, sizeof(*cs));
    if (!cs) {
        die("out of memory");
    }
    for (int i = 0; i < nclients; i++) {
        cs[i] = connect_one();
        ws_handshake(cs[i]);
    }
    struct epoll_event evs[256];
    int64_t limit = mono_us() + 10000000;
    for (int open = 0; open < nclients;) {
        if (mono_us() > limit) {
            die("WebSocket clients not open within 10 s");
        }
        int n = epoll_wait(g_ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            bool was = c->open;
            ws_readable(c);
            open += !was && c->open;
        }
    }
    /* Every client is open: after a warm-up second, what the feed sends is
     * counted (the first pushes to a new client can be tickers the
     * dashboard held while nobody listened, as old as that wait). */
    int64_t start = mono_us() + 1000000, stop = start + (int64_t)seconds * 1000000;
    for (int64_t now; (now = mono_us()) < stop;) {
        g_measuring = now >= start;
        int n = epoll_wait(g_ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            ws_readable(evs[i].data.ptr);
        }
    }
    long kb = pid > 0 ? rss_kb(pid) : -1;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < nclients; i++) {
        lo = cs[i]->tickers < lo ? cs[i]->tickers : lo;
        hi = cs[i]->tickers > hi ? cs[i]->tickers : hi;
        ws_send_frame(cs[i], 0x8, "\x03\xe8", 2);
        close(cs[i]->fd);
    }
    qsort(g_delay.v, g_delay.n, sizeof(*g_delay.v), cmp_u32);
    printf("dash_ws_clients %d\n", nclients);
    printf("dash_ws_tickers %llu\n", (unsigned long long)g_tickers);
    printf("dash_ws_tickers_per_client_min %llu\n", (unsigned long long)lo);
    printf("dash_ws_tickers_per_client_max %llu\n", (unsigned long long)hi);
    printf("dash_ws_delay_ms_p50 %.2f\n", pct(&g_delay, 50) / 1000.0);
    printf("dash_ws_delay_ms_p99 %.2f\n", pct(&g_delay, 99) / 1000.0);
    printf("dash_ws_delay_ms_max %.2f\n", g_delay.n ? g_delay.v[g_delay.n - 1] / 1000.0 : 0);
    if (kb >= 0) {
        printf("dash_ws_engine_rss_kb %ld\n", kb);
    }
    return g_tickers && lo > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 6 || (strcmp(argv[1], "http") != 0 && strcmp(argv[1], "ws") != 0)) {
        fprintf(stderr, "usage: dash_load http URL PATH CONNS SECONDS\n"
                        "       dash_load ws URL PATH CLIENTS SECONDS [PID]\n");
        return 2;
    }
    if (sscanf(argv[2], "http://%63[^:]:%d", g_host, &g_port) != 2) {
        die("URL must be http://ADDR:PORT");
    }
    g_path = argv[3];
    int n = atoi(argv[4]), secs = atoi(argv[5]);
    if (n <= 0 || n > 10000 || secs <= 0) {
        die("bad count or seconds");
    }
    if ((g_ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        die("epoll_create1");
    }
    srand((unsigned)wall_us());
    if (strcmp(argv[1], "http") == 0) {
        return run_http(n, secs);
    }
    return run_ws(n, secs, argc > 6 ? atol(argv[6]) : 0);
}

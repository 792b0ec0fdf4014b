/* One HTTP transfer: request copy and validation, curl easy handle options,
 * response buffering with caps, and the retry policy. The multi/libevent glue
 * and callback dispatch live in http.c. */
#include "http_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <aitrader/version.h>

#include "tls.h"
#include "util.h"

#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_MAX_CONNECT_TIMEOUT_MS 5000
#define HTTP_DEFAULT_BACKOFF_MS 250
#define HTTP_DEFAULT_MAX_RESPONSE ((size_t)8 << 20)
/* curl 7.88 has no cap on the total header size; a hostile server could
 * otherwise make us buffer headers without bound. */
#define HTTP_MAX_HEADER_BYTES ((size_t)256 << 10)

/* ------------------------------------------------------------- helpers */

/* Query strings carry signed parameters and userinfo carries passwords: log
 * only scheme://host[:port]/path. */
static char *url_for_log(const char *url)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', auth_len);
    const char *host = at ? at + 1 : auth;
    size_t rest = strcspn(host, "?#");
    return at_asprintf("%.*s%.*s", (int)(auth - url), url, (int)rest, host);
}

static bool valid_token(const char *s)
{
    if (!s || !*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s)) {
            return false;
        }
    }
    return true;
}

static int validate(const at_http_req *req)
{
    if (!req || !req->url || !valid_token(req->method) || req->timeout_ms < 0 ||
        req->max_retries < 0 || req->backoff_ms < 0 || (req->nheaders && !req->headers) ||
        (req->body_len && !req->body) || strpbrk(req->url, "\r\n") || !at_proxy_valid(req->proxy)) {
        return AT_EINVAL;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        /* CR/LF in a header line would inject headers or a second request. */
        if (!req->headers[i] || strpbrk(req->headers[i], "\r\n")) {
            return AT_EINVAL;
        }
    }
    return AT_OK;
}

void http_xfer_reset_response(http_xfer *x)
{
    for (size_t i = 0; i < x->nheaders; i++) {
        free(x->headers[i]);
    }
    x->nheaders = 0;
    x->header_bytes = 0;
    x->len = 0;
    if (x->body) {
        x->body[0] = '\0';
    }
    x->overflow = false;
    x->oom = false;
    x->errbuf[0] = '\0';
}

void http_xfer_free(http_xfer *x)
{
    if (!x) {
        return;
    }
    http_xfer_reset_response(x);
    free(x->headers);
    free(x->body);
    if (x->easy) {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->req_headers);
    if (x->retry_ev) {
        event_free(x->retry_ev);
    }
    free(x->method);
    free(x->log_url);
    free(x);
}

/* ------------------------------------------------------ curl callbacks */

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    http_xfer *x = ud;
    size_t len = size * n;
    if (len > x->max_response - x->len) {
        x->overflow = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (x->len + len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        while (cap < x->len + len + 1) {
            cap *= 2;
        }
        if (cap > x->max_response + 1) {
            cap = x->max_response + 1;
        }
        char *b = realloc(x->body, cap);
        if (!b) {
            x->oom = true;
            return 0;
        }
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, p, len);
    x->len += len;
    x->body[x->len] = '\0';
    return len;
}

static bool push_header(http_xfer *x, const char *p, size_t l)
{
    if ((p[0] == ' ' || p[0] == '\t') && x->nheaders > 0) {
        /* obsolete line folding: continues the previous header */
        size_t skip = strspn(p, " \t");
        char *prev = x->headers[x->nheaders - 1];
        char *joined = at_asprintf("%s %.*s", prev, (int)(l - skip), p + skip);
        if (!joined) {
            return false;
        }
        free(prev);
        x->headers[x->nheaders - 1] = joined;
        return true;
    }
    if (x->nheaders == x->headers_cap) {
        size_t cap = x->headers_cap ? x->headers_cap * 2 : 16;
        char **h = realloc(x->headers, cap * sizeof *h);
        if (!h) {
            return false;
        }
        x->headers = h;
        x->headers_cap = cap;
    }
    char *line = at_strndup(p, l);
    if (!line) {
        return false;
    }
    x->headers[x->nheaders++] = line;
    return true;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    http_xfer *x = ud;
    size_t len = size * n, l = len;
    while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r')) {
        l--;
    }
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new status line: keep only the final response's headers (drops
         * those of 1xx interim responses). */
        http_xfer_reset_response(x);
        return len;
    }
    if (l == 0) {
        return len;
    }
    x->header_bytes += l;
    if (x->header_bytes > HTTP_MAX_HEADER_BYTES) {
        x->overflow = true;
        return 0;
    }
    if (!push_header(x, p, l)) {
        x->oom = true;
        return 0;
    }
    return len;
}

/* ------------------------------------------------------------ creation */

bool http_proxy_is_direct(const char *proxy)
{
    return !proxy || !*proxy || strcmp(proxy, "none") == 0;
}

/* Through a proxy, everything goes in a CONNECT tunnel, plain http too: one
 * path for REST and WebSockets (lws tunnels ws:// as well), and the proxy
 * never sees a request, its headers or its keys. */
static CURLcode setup_proxy(CURL *e, const char *req_proxy, const char *default_proxy)
{
    const char *proxy = req_proxy ? req_proxy : default_proxy;
    CURLcode rc = CURLE_OK;
    if (http_proxy_is_direct(proxy)) {
        if (req_proxy) {
            /* "" also turns off the http_proxy environment variables. */
            rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
        }
        return rc;
    }
    rc |= curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
    /* A configured proxy takes every host: no_proxy from the environment
     * must not quietly send some of them around it. */
    rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    return rc;
}

static int setup_easy(http_xfer *x, const at_http_req *req, const char *default_proxy)
{
    CURL *e = x->easy;
    int64_t timeout = req->timeout_ms ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
    int64_t connect = timeout < HTTP_MAX_CONNECT_TIMEOUT_MS ? timeout : HTTP_MAX_CONNECT_TIMEOUT_MS;
    bool has_expect = false;
    for (size_t i = 0; i < req->nheaders; i++) {
        has_expect |= strncasecmp(req->headers[i], "Expect:", 7) == 0;
        struct curl_slist *l = curl_slist_append(x->req_headers, req->headers[i]);
        if (!l) {
            return AT_ENOMEM;
        }
        x->req_headers = l;
    }
    if (!has_expect) {
        /* curl would otherwise send "Expect: 100-continue" with larger bodies
         * and wait for the interim reply: a round trip lost per order. */
        struct curl_slist *l = curl_slist_append(x->req_headers, "Expect:");
        if (!l) {
            return AT_ENOMEM;
        }
        x->req_headers = l;
    }

    /* OR-ing the codes only tells "some option failed", which is all we need. */
    CURLcode rc = CURLE_OK;
    rc |= curl_easy_setopt(e, CURLOPT_URL, req->url);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* The net thread's trust anchors (tls.h). A directory instead of curl's
     * default bundle: each https connection would otherwise parse all ~140
     * CAs (and keep them, with curl's CA cache) to use one. */
    if (tls_ca_file() || tls_ca_dir()) {
        rc |= curl_easy_setopt(e, CURLOPT_CAINFO, tls_ca_file());
        rc |= curl_easy_setopt(e, CURLOPT_CAPATH, tls_ca_dir());
    }
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
    rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "aitrader/" AT_VERSION);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    rc |= setup_proxy(e, req->proxy, default_proxy);

    bool post = strcmp(req->method, "POST") == 0;
    if (strcmp(req->method, "GET") == 0 && req->body_len == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "HEAD") == 0 && req->body_len == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (req->body_len > 0 || post) {
            /* Size first: COPYPOSTFIELDS then copies that many bytes. */
            rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            rc |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body_len ? req->body : "");
        }
        if (!post) {
            rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        }
    }
    return rc == CURLE_OK ? AT_OK : AT_EINVAL;
}

int http_xfer_new(http_client *c, struct event_base *base, event_callback_fn retry_cb,
                  const char *who, const at_http_req *req, const char *default_proxy,
                  at_http_done_cb done, void *arg, http_xfer **out)
{
    int err = validate(req);
    if (err != AT_OK) {
        return err;
    }
    http_xfer *x = calloc(1, sizeof *x);
    if (!x) {
        return AT_ENOMEM;
    }
    err = AT_ENOMEM;
    x->c = c;
    x->who = who;
    x->done = done;
    x->arg = arg;
    x->max_retries = req->max_retries;
    x->backoff_ms = req->backoff_ms ? req->backoff_ms : HTTP_DEFAULT_BACKOFF_MS;
    x->max_response = req->max_response ? req->max_response : HTTP_DEFAULT_MAX_RESPONSE;
    x->method = at_strdup(req->method);
    x->log_url = url_for_log(req->url);
    x->easy = curl_easy_init();
    x->retry_ev = evtimer_new(base, retry_cb, x);
    if (!x->method || !x->log_url || !x->easy || !x->retry_ev) {
        goto fail;
    }
    err = setup_easy(x, req, default_proxy);
    if (err != AT_OK) {
        goto fail;
    }
    *out = x;
    return AT_OK;

fail:
    http_xfer_free(x);
    return err;
}

/* ------------------------------------------------------ retry policy */

int http_xfer_classify(const http_xfer *x, CURLcode rc, char *why, size_t cap)
{
    why[0] = '\0';
    if (x->oom) {
        snprintf(why, cap, "out of memory buffering the response");
        return AT_EIO;
    }
    if (x->overflow) {
        snprintf(why, cap, "response exceeds the %zu byte limit", x->max_response);
        return AT_ERANGE;
    }
    if (rc != CURLE_OK) {
        snprintf(why, cap, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
        return rc == CURLE_OPERATION_TIMEDOUT ? AT_ETIMEDOUT : AT_EIO;
    }
    return AT_OK;
}

/* Failures worth another attempt: the network, not the request, was wrong. */
static bool retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

/* Retry-After in delta-seconds (bounded); -1 when absent or an HTTP-date. */
static int64_t retry_after_ms(const http_xfer *x)
{
    static const char name[] = "Retry-After:";
    for (size_t i = 0; i < x->nheaders; i++) {
        const char *h = x->headers[i];
        if (strncasecmp(h, name, sizeof name - 1) != 0) {
            continue;
        }
        h += sizeof name - 1;
        h += strspn(h, " \t");
        char *end;
        long long s = strtoll(h, &end, 10);
        if (end == h || s < 0 || end[strspn(end, " \t")] != '\0') {
            return -1;
        }
        return s > HTTP_MAX_DELAY_MS / 1000 ? HTTP_MAX_DELAY_MS : s * 1000;
    }
    return -1;
}

int64_t http_xfer_retry_delay(const http_xfer *x, int err, CURLcode rc, uint64_t rnd)
{
    if (x->attempts > x->max_retries) {
        return -1;
    }
    if (err == AT_OK) {
        int s = x->status;
        if (s != 429 && (s < 500 || s > 599)) {
            return -1;
        }
        int64_t after = (s == 429 || s == 503) ? retry_after_ms(x) : -1;
        if (after >= 0) {
            return after;
        }
    } else if (err == AT_ERANGE || x->oom || !retryable_curl(rc)) {
        return -1;
    }
    int64_t d = x->backoff_ms;
    for (int i = 1; i < x->attempts && d < HTTP_MAX_DELAY_MS; i++) {
        d *= 2;
    }
    if (d > HTTP_MAX_DELAY_MS) {
        d = HTTP_MAX_DELAY_MS;
    }
    /* +/-50 % jitter spreads out clients that failed at the same moment. */
    d = d / 2 + (int64_t)(rnd % (uint64_t)(d + 1));
    return d > HTTP_MAX_DELAY_MS ? HTTP_MAX_DELAY_MS : d;
}

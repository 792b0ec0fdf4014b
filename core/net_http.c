/* HTTP transactions on a server vhost (net thread): collect a request, serve
 * it from static_dir or hand it to the main loop, write the answer when it
 * comes back. One transaction at a time per connection (HTTP/1.1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "net_internal.h"
#include "util.h"

static const char *method_name(int m)
{
    switch (m) {
    case LWSHUMETH_GET:
        return "GET";
    case LWSHUMETH_POST:
        return "POST";
    case LWSHUMETH_OPTIONS:
        return "OPTIONS";
    case LWSHUMETH_PUT:
        return "PUT";
    case LWSHUMETH_PATCH:
        return "PATCH";
    case LWSHUMETH_DELETE:
        return "DELETE";
    case LWSHUMETH_CONNECT:
        return "CONNECT";
    case LWSHUMETH_HEAD:
        return "HEAD";
    default:
        return "GET";
    }
}

static const char *mime_type(const char *file)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(file, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcasecmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* A ".." path segment (lws normally collapses them, but do not rely on it). */
static bool has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2) {
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) {
            return true;
        }
    }
    return false;
}

static char *copy_hdr(struct lws *wsi, enum lws_token_indexes t)
{
    int len = lws_hdr_total_length(wsi, t);
    char *s = malloc(len > 0 ? (size_t)len + 1 : 1);
    if (s && (len <= 0 || lws_hdr_copy(wsi, s, len + 1, t) < 0)) {
        s[0] = '\0';
    }
    return s;
}

/* lws splits the query at '&' into fragments and has already decoded their
 * %-escapes (and '+' to a space): join them back, escaping each fragment
 * again so that the plugin's one decode gives every name and value as the
 * client sent it. Left as is: letters, digits, "-._~" and each fragment's
 * first '=' (the name/value separator); everything else is %XX, so a
 * decoded '&', '=', '+' or '%' cannot split a value or decode twice. */
static char *copy_query(struct lws *wsi)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    size_t len = 0, got = 0;
    /* each byte as %XX, and an '&' before each fragment but the first */
    char *q = malloc((total > 0 ? (size_t)total : 0) * 4 + 1);
    char *frag = malloc(total > 0 ? (size_t)total + 1 : 1);
    if (!q || !frag) {
        goto fail;
    }
    for (int i = 0; total > 0 && got < (size_t)total && i < 1000; i++) {
        int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (fl <= 0) {
            continue;
        }
        int m = lws_hdr_copy_fragment(wsi, frag, total + 1, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (m < 0) {
            break;
        }
        if (len) {
            q[len++] = '&';
        }
        bool named = false;
        for (int k = 0; k < m; k++) {
            unsigned char c = (unsigned char)frag[k];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || (c == '=' && !named)) {
                named |= c == '=';
                q[len++] = (char)c;
            } else {
                static const char hex[] = "0123456789ABCDEF";
                q[len++] = '%';
                q[len++] = hex[c >> 4];
                q[len++] = hex[c & 15];
            }
        }
        got += (size_t)fl;
    }
    q[len] = '\0';
    free(frag);
    return q;

fail:
    free(q);
    free(frag);
    return NULL;
}

/* 1: being served from static_dir; 0: no such file; -1: close. */
static int try_static(nt_srv *srv, struct lws *wsi, const char *path)
{
    char file[4096];
    const char *tail = path[strlen(path) - 1] == '/' ? "index.html" : "";
    int n = snprintf(file, sizeof(file), "%s%s%s", srv->static_dir, path, tail);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof(file) || stat(file, &st) != 0) {
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        n = snprintf(file, sizeof(file), "%s%s/index.html", srv->static_dir, path);
        if (n < 0 || (size_t)n >= sizeof(file) || stat(file, &st) != 0) {
            return 0;
        }
    }
    if (!S_ISREG(st.st_mode)) {
        return 0;
    }
    n = lws_serve_http_file(wsi, file, mime_type(file), NULL, 0);
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) {
        return -1;
    }
    return 1;
}

static void req_free(net *n, hreq *r)
{
    net_map_del(&n->nt_req, r->id);
    net_req_info_clear(&r->info);
    net_resp_free(r->resp);
    free(r);
}

void net_http_req_drop(hconn *hc)
{
    hreq *r = hc->req;
    if (!r) {
        return;
    }
    hc->req = NULL;
    if (r->dispatched && !r->resp) {
        /* the main loop is waiting for a respond() that can no longer go out */
        net_dlv *d = net_dlv_new(NET_DLV_REQ_GONE, hc->srv->id);
        if (d) {
            d->req_id = r->id;
            net_srv_post(hc->srv, d);
        }
    }
    req_free(hc->srv->n, r);
}

/* An answer made by the net thread itself (404, 413, 500). */
static int local_answer(hreq *r, int status, const char *json)
{
    net_resp *resp = calloc(1, sizeof(*resp));
    if (!resp || !(resp->ctype = at_strdup("application/json")) ||
        !(resp->body = net_buf_new(json, strlen(json)))) {
        net_resp_free(resp);
        return -1;
    }
    resp->status = status;
    resp->no_store = true;
    r->resp = resp;
    lws_callback_on_writable(r->hc->wsi);
    return 0;
}

static int dispatch(hreq *r)
{
    nt_srv *srv = r->hc->srv;
    net_dlv *d = net_dlv_new(NET_DLV_REQUEST, srv->id);
    if (!d) {
        return local_answer(r, 500, "{\"error\":\"out of memory\"}");
    }
    d->req_id = r->id;
    d->req = r->info; /* moved: the body is not copied again */
    memset(&r->info, 0, sizeof(r->info));
    r->dispatched = true;
    r->since_us = at_mono_us();
    net_srv_post(srv, d);
    /* lws would drop the connection after its 5 s timeout: the answer may
     * legitimately take longer (net_http_check_held watches the client). */
    lws_set_timeout(r->hc->wsi, NO_PENDING_TIMEOUT, 0);
    return 0;
}

int net_http_request(nt_srv *srv, hconn *hc, const char *uri)
{
    struct lws *wsi = hc->wsi;
    net_http_req_drop(hc); /* a stale transaction (should not happen) */

    char *uri_ptr = NULL;
    int uri_len = 0;
    int m = lws_http_get_uri_and_method(wsi, &uri_ptr, &uri_len);
    const char *path = uri && *uri ? uri : "/";
    bool dotdot = has_dotdot(path);
    if (m == LWSHUMETH_GET && srv->static_dir && !dotdot) {
        int rc = try_static(srv, wsi, path);
        if (rc) {
            return rc < 0 ? -1 : 0;
        }
    }

    hreq *r = calloc(1, sizeof(*r));
    if (!r) {
        return -1;
    }
    r->hc = hc;
    r->id = ++srv->n->nt_next_id;
    r->head = m == LWSHUMETH_HEAD;
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof(peer));
    r->info.method = at_strdup(method_name(m));
    r->info.path = at_strdup(path);
    r->info.query = copy_query(wsi);
    r->info.auth = copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    r->info.ctype = copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    r->info.peer = at_strdup(peer);
    r->info.origin = copy_hdr(wsi, WSI_TOKEN_ORIGIN);
    r->info.host = copy_hdr(wsi, WSI_TOKEN_HOST);
    char *cl = copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    char *te = copy_hdr(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    bool ok = r->info.method && r->info.path && r->info.query && r->info.auth && r->info.ctype &&
              r->info.peer && r->info.origin && r->info.host && cl && te;
    r->content_length = cl ? (size_t)strtoull(cl, NULL, 10) : 0;
    bool chunked = te && strcasestr(te, "chunked");
    bool body = r->content_length > 0 || chunked;
    bool no_length = chunked && cl && !cl[0];
    free(cl);
    free(te);
    if (!ok || net_map_put(&srv->n->nt_req, r->id, r) < 0) {
        net_req_info_clear(&r->info);
        free(r);
        return -1;
    }
    hc->req = r;
    if (r->content_length > srv->max_body && !dotdot) {
        /* Answered now, from the headers: a client that waits for "100
         * Continue" (curl over 1 MiB) never sends the body, one already
         * sending reads the 413 while the rest is drained (never stored),
         * and the connection is closed after it. */
        r->too_big = r->early = true;
        log_msg(srv->who, AT_LOG_WARN, "httpd: %s %s: body of %zu bytes is over %zu, answered 413",
                r->info.method, r->info.path, r->content_length, srv->max_body);
        return local_answer(r, 413,
                            "{\"error\":{\"code\":\"too_large\",\"message\":"
                            "\"request body too large\"}}");
    }
    if (no_length) {
        /* lws does not hand us a chunked body without Content-Length (the
         * request would wait unanswered): say so at once, and close rather
         * than read the chunks */
        r->early = r->drained = true;
        log_msg(srv->who, AT_LOG_WARN,
                "httpd: %s %s: chunked body without Content-Length, answered 411", r->info.method,
                r->info.path);
        return local_answer(r, 411,
                            "{\"error\":{\"code\":\"length_required\",\"message\":"
                            "\"send the body with a Content-Length\"}}");
    }
    if (dotdot) {
        r->reject = 404;
    }
    if (body) {
        return 0; /* LWS_CALLBACK_HTTP_BODY... then _COMPLETION */
    }
    if (r->reject) {
        return local_answer(r, r->reject, "{\"error\":\"not found\"}");
    }
    return dispatch(r);
}

int net_http_body(hconn *hc, const void *in, size_t len)
{
    hreq *r = hc->req;
    if (!r || r->dispatched || r->resp || r->too_big || r->reject) {
        return 0; /* a body we answer without: drain it */
    }
    net_req_info *ri = &r->info;
    size_t max = hc->srv->max_body;
    if (len > max - ri->body_len) {
        r->too_big = true;
        free(ri->body);
        ri->body = NULL;
        ri->body_len = ri->body_cap = 0;
        return 0;
    }
    if (ri->body_len + len + 1 > ri->body_cap) {
        size_t cap = ri->body_cap ? ri->body_cap * 2 : 4096;
        if (r->content_length >= ri->body_len + len && r->content_length <= max) {
            cap = r->content_length + 1 > cap ? r->content_length + 1 : cap;
        }
        while (cap < ri->body_len + len + 1) {
            cap *= 2;
        }
        char *p = realloc(ri->body, cap);
        if (!p) {
            return -1;
        }
        ri->body = p;
        ri->body_cap = cap;
    }
    memcpy(ri->body + ri->body_len, in, len);
    ri->body_len += len;
    ri->body[ri->body_len] = '\0';
    return 0;
}

int net_http_body_done(hconn *hc)
{
    hreq *r = hc->req;
    if (r && r->early) {
        r->drained = true;
        return r->sent ? -1 : 0; /* closed once the answer is out too */
    }
    if (!r || r->dispatched || r->resp) {
        return 0;
    }
    if (r->reject) {
        return local_answer(r, r->reject, "{\"error\":\"not found\"}");
    }
    if (r->too_big) {
        log_msg(hc->srv->who, AT_LOG_WARN, "httpd: %s %s: body over %zu bytes, answered 413",
                r->info.method, r->info.path, hc->srv->max_body);
        return local_answer(r, 413,
                            "{\"error\":{\"code\":\"too_large\",\"message\":"
                            "\"request body too large\"}}");
    }
    return dispatch(r);
}

void net_http_check_held(net *n)
{
    int64_t now = at_mono_us();
    if (now < n->nt_next_held_check_us) {
        return;
    }
    n->nt_next_held_check_us = now + NET_HELD_CHECK_US;
    /* While a request waits for its answer lws does not read the connection,
     * so it never sees the client leave: peek for the EOF ourselves. */
    for (size_t i = 0; i < n->nt_req.cap; i++) {
        hreq *r = n->nt_req.keys[i] ? n->nt_req.vals[i] : NULL;
        if (!r || !r->dispatched || r->resp || r->abandoned) {
            continue;
        }
        char c;
        ssize_t k = recv(lws_get_socket_fd(r->hc->wsi), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        bool gone = k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
        if (!gone && now - r->since_us < NET_HELD_MAX_US) {
            continue;
        }
        if (!gone) {
            log_msg(r->hc->srv->who, AT_LOG_WARN,
                    "httpd: request %llu unanswered for %d s, dropped", (unsigned long long)r->id,
                    (int)(NET_HELD_MAX_US / 1000000));
        }
        r->abandoned = true;
        lws_set_timeout(r->hc->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

void net_http_respond(net *n, uint64_t req_id, net_resp *resp)
{
    hreq *r = net_map_get(&n->nt_req, req_id);
    if (!r || !r->dispatched || r->resp || r->abandoned) {
        net_resp_free(resp); /* the client went away meanwhile */
        return;
    }
    r->resp = resp;
    lws_callback_on_writable(r->hc->wsi);
}

/* The head, and with it the first `body_len` bytes of the body: a small
 * answer leaves in one send(), not a head and then a body one poll turn
 * later (half the syscalls and wake-ups of a keep-alive GET). */
static int write_headers(struct lws *wsi, hreq *r, size_t body_len)
{
    net_resp *rs = r->resp;
    size_t need = LWS_PRE + 512 + strlen(rs->ctype) + body_len;
    bool own_cache = false;
    for (size_t i = 0; i < rs->nhdrs; i++) {
        need += strlen(rs->hdrs[i]) + 8;
        own_cache |= strncasecmp(rs->hdrs[i], "cache-control:", 14) == 0;
    }
    unsigned char *buf = malloc(need);
    if (!buf) {
        return -1;
    }
    unsigned char *p = buf + LWS_PRE, *end = buf + need - 1;
    int rc = -1;
    if (lws_add_http_header_status(wsi, (unsigned)rs->status, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)rs->ctype, (int)strlen(rs->ctype), &p,
                                     end) ||
        lws_add_http_header_content_length(wsi, rs->body->len, &p, end)) {
        goto out;
    }
    for (size_t i = 0; i < rs->nhdrs; i++) {
        /* lws wants the name with its colon, the value without the space */
        char name[128];
        const char *colon = strchr(rs->hdrs[i], ':');
        const char *val = colon + 1;
        snprintf(name, sizeof(name), "%.*s:", (int)(colon - rs->hdrs[i]), rs->hdrs[i]);
        while (*val == ' ' || *val == '\t') {
            val++;
        }
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)val, (int)strlen(val), &p, end)) {
            goto out;
        }
    }
    if (r->early && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                                 (const unsigned char *)"close", 5, &p, end)) {
        goto out;
    }
    if (rs->no_store && !own_cache &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end)) {
        goto out;
    }
    if (lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < body_len) {
        goto out;
    }
    memcpy(p, NET_BUF_DATA(rs->body), body_len);
    p += body_len;
    int len = (int)(p - (buf + LWS_PRE));
    /* for HTTP/1.1 lws sends head and body bytes alike, as they are */
    rc = lws_write(wsi, buf + LWS_PRE, (size_t)len, LWS_WRITE_HTTP_HEADERS) == len ? 0 : -1;
out:
    free(buf);
    return rc;
}

int net_http_writeable(hconn *hc)
{
    hreq *r = hc->req;
    struct lws *wsi = hc->wsi;
    if (!r || !r->resp) {
        return 0;
    }
    net_buf *body = r->resp->body;
    if (!r->hdrs_sent) {
        size_t with = r->head || body->len > NET_HTTP_INLINE ? 0 : body->len;
        if (write_headers(wsi, r, with) < 0) {
            return -1;
        }
        r->hdrs_sent = true;
        r->off = with;
        if (body->len > with && !r->head) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        /* Slices after the first borrow the already-sent bytes before them as
         * LWS_PRE headroom: lws keeps its own copy of anything unsent. */
        size_t left = body->len - r->off;
        size_t n = left > NET_HTTP_SLICE ? NET_HTTP_SLICE : left;
        bool fin = n == left;
        if (lws_write(wsi, NET_BUF_DATA(body) + r->off, n,
                      fin ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0) {
            return -1;
        }
        r->off += n;
        if (!fin) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    if (r->early) {
        /* the body is still coming (or was): no next transaction on it */
        r->sent = true;
        return r->drained ? -1 : 0;
    }
    hc->req = NULL;
    req_free(hc->srv->n, r);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

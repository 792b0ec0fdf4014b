/* OKX REST client (see okx_rest.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

#include "okx_rest.h"
#include "okx_sign.h"

#define WINDOW_MS 2000 /* OKX counts requests per 2 s */
#define MAX_LIMIT 100

/* OKX's limits per 2 s (okx-v5.md §2.2), keyed as OKX keys them: by method
 * and path, so GET trade/order (lookups) and POST trade/order (placing) are
 * two buckets, as at OKX. A bucket admits a call when fewer than `limit`
 * were sent in the last 2 s: a sliding window, so no 2-second span ever
 * holds more than OKX allows. Limits OKX counts per instrument are applied
 * per endpoint here, which is stricter. */
static const struct {
    const char *method, *path;
    int limit;
} LIMITS[] = {
    {"POST", "/api/v5/trade/order", 60},
    {"GET", "/api/v5/trade/order", 60},
    {"POST", "/api/v5/trade/batch-orders", 60},
    {"POST", "/api/v5/trade/cancel-order", 60},
    {"POST", "/api/v5/trade/amend-order", 60},
    {"GET", "/api/v5/trade/orders-pending", 60},
    {"GET", "/api/v5/trade/orders-history", 40},
    {"GET", "/api/v5/trade/fills", 60},
    {"POST", "/api/v5/trade/order-algo", 20},
    {"POST", "/api/v5/trade/cancel-algos", 20},
    {"GET", "/api/v5/trade/orders-algo-pending", 20},
    {"POST", "/api/v5/trade/close-position", 20},
    {"GET", "/api/v5/account/balance", 10},
    {"GET", "/api/v5/account/positions", 10},
    {"GET", "/api/v5/account/config", 5},
    {"POST", "/api/v5/account/set-leverage", 20},
    {"POST", "/api/v5/account/set-position-mode", 5},
    {"GET", "/api/v5/public/instruments", 20},
    {"GET", "/api/v5/market/ticker", 20},
    {"GET", "/api/v5/market/tickers", 20},
    {"GET", "/api/v5/market/books", 40},
    {"GET", "/api/v5/market/candles", 40},
    {"GET", "/api/v5/market/history-candles", 20},
    {"GET", "/api/v5/market/trades", 100},
    {"GET", "/api/v5/public/funding-rate", 10},
    {"GET", "/api/v5/public/mark-price", 10},
    {"GET", "/api/v5/public/time", 10},
};
#define NBUCKETS (sizeof(LIMITS) / sizeof(LIMITS[0]) + 1) /* + the default */
#define DEFAULT_LIMIT 5

typedef struct call call;

/* Calls waiting for a slot, in order. */
typedef struct queue {
    call *head, *tail;
} queue;

/* Foreground calls go first; background ones (okx_rest_get_bg) only while
 * more than a third of the window is left, which stays for the others. */
typedef struct bucket {
    int limit;
    int64_t sent_ms[MAX_LIMIT]; /* ring of the last `limit` send times */
    int head, n;
    queue fg, bg;
    at_timer *wake;
} bucket;

struct call {
    okx_rest *r;
    call *next_q;      /* bucket queue */
    call *prev, *next; /* every live call */
    bucket *b;
    bool bg; /* background read */
    char *method, *path, *query, *body;
    bool sign;
    int64_t exp_ms; /* expTime header, 0 = none */
    okx_rest_cb cb;
    void *arg;
    int64_t http_id; /* > 0 while in flight */
    at_timer *retry;
    int app_retries;
    at_timer *local_timer; /* local venue: the answer waiting to be delivered */
    char *local_body;
    size_t local_len;
    int local_status;
    int local_err; /* a recorded transport error */
    char local_error[160];
    int64_t local_sent_us; /* when the local venue got it: the latency counts from there */
};

struct okx_rest {
    const at_host *h;
    at_instance *inst;
    char *base, *key, *secret, *pass;
    bool demo;
    int64_t timeout_ms;
    int read_retries;
    const char *proxy;
    int64_t clock_offset_ms;
    int (*local)(void *arg, const char *method, const char *path, const char *query,
                 const char *body, char **resp, size_t *resp_len);
    void *local_arg;
    okx_rest_recorded_fn *recorded;
    void *recorded_arg;
    okx_rest_observe_fn *observe;
    void *observe_arg;
    struct okx_rest_metrics m;
    bucket buckets[NBUCKETS];
    call *calls;
    size_t queued;
};

static int64_t now_ms(const okx_rest *r)
{
    return r->h->now_us() / 1000;
}

static bucket *bucket_of(okx_rest *r, const char *method, const char *path)
{
    for (size_t i = 0; i < NBUCKETS - 1; i++) {
        if (strcmp(LIMITS[i].path, path) == 0 && strcmp(LIMITS[i].method, method) == 0) {
            return &r->buckets[i];
        }
    }
    return &r->buckets[NBUCKETS - 1];
}

/* The share of a window background calls may use: a third stays free. */
static int bg_limit(const bucket *b)
{
    int keep = b->limit / 3;
    return b->limit - keep > 0 ? b->limit - keep : 1;
}

/* Milliseconds until the bucket admits one more call (0 = now) when at most
 * `limit` may be in the window: the limit-th newest send must be 2 s old. */
static int64_t bucket_wait(const bucket *b, int limit, int64_t now)
{
    if (b->n < limit) {
        return 0;
    }
    int64_t kth = b->sent_ms[(b->head + b->n - limit) % b->limit];
    int64_t w = kth + WINDOW_MS - now;
    return w > 0 ? w : 0;
}

static void bucket_take(bucket *b, int64_t now)
{
    if (b->n < b->limit) {
        b->sent_ms[(b->head + b->n) % b->limit] = now;
        b->n++;
    } else {
        b->sent_ms[b->head] = now;
        b->head = (b->head + 1) % b->limit;
    }
}

static void call_free(call *c)
{
    okx_rest *r = c->r;
    if (r) {
        if (c->prev) {
            c->prev->next = c->next;
        } else {
            r->calls = c->next;
        }
        if (c->next) {
            c->next->prev = c->prev;
        }
    }
    free(c->local_body);
    free(c->method);
    free(c->path);
    free(c->query);
    free(c->body);
    free(c);
}

static void send_now(call *c);
static void bucket_pump(bucket *b, okx_rest *r);

static void on_wake(void *arg)
{
    bucket *b = arg;
    call *any = b->fg.head ? b->fg.head : b->bg.head;
    b->wake = NULL; /* one-shot timers free themselves */
    if (any) {
        bucket_pump(b, any->r);
    }
}

static call *dequeue(queue *q)
{
    call *c = q->head;
    q->head = c->next_q;
    if (!q->head) {
        q->tail = NULL;
    }
    return c;
}

/* Send queued calls while the window has room, foreground first; else wake
 * up when it will. */
static void bucket_pump(bucket *b, okx_rest *r)
{
    while (b->fg.head || b->bg.head) {
        int64_t now = now_ms(r);
        int64_t w = b->fg.head ? bucket_wait(b, b->limit, now) : bucket_wait(b, bg_limit(b), now);
        if (w > 0) {
            if (!b->wake) {
                b->wake = r->h->timer_add(r->inst, w, 0, on_wake, b);
            }
            return;
        }
        call *c = dequeue(b->fg.head ? &b->fg : &b->bg);
        r->queued--;
        bucket_take(b, now);
        send_now(c);
    }
}

static void enqueue(call *c)
{
    okx_rest *r = c->r;
    bucket *b = c->b;
    queue *q = c->bg ? &b->bg : &b->fg;
    c->next_q = NULL;
    if (q->tail) {
        q->tail->next_q = c;
    } else {
        q->head = c;
    }
    q->tail = c;
    /* Held: something of its kind is already waiting (foreground goes first,
     * so a background call waits behind any foreground one) or the window is
     * full right now. */
    int limit = c->bg ? bg_limit(b) : b->limit;
    if (r->m.limited &&
        (q->head != c || (c->bg && b->fg.head) || bucket_wait(b, limit, now_ms(r)) > 0)) {
        r->h->metric_add(r->m.limited, 1);
    }
    r->queued++;
    bucket_pump(b, r);
}

static void count(okx_rest *r, const okx_reply *rep)
{
    const at_host *h = r->h;
    if (rep->http > 0 && r->m.latency) {
        h->metric_observe(r->m.latency, (double)rep->latency_us);
    }
    at_metric *m = r->m.ok;
    if (rep->err == AT_ETIMEDOUT) {
        m = r->m.timeout;
    } else if (rep->err != AT_OK || rep->http < 200 || rep->http > 299) {
        m = r->m.http;
    } else if (strcmp(rep->code, "0") != 0) {
        m = r->m.venue;
    }
    if (m) {
        h->metric_add(m, 1);
    }
}

static void deliver(call *c, const okx_reply *rep)
{
    if (c->r) {
        count(c->r, rep);
    }
    if (c->cb) {
        c->cb(c->arg, rep);
    }
    call_free(c);
}

static void on_retry(void *arg)
{
    call *c = arg;
    c->retry = NULL;
    enqueue(c);
}

static void on_done(void *arg, const at_http_resp *resp)
{
    call *c = arg;
    c->http_id = 0;
    if (!c->r) { /* the client was freed while this was in flight */
        call_free(c);
        return;
    }
    okx_rest *r = c->r;
    if (r->observe) {
        r->observe(r->observe_arg, c->method, c->path, c->query ? c->query : "",
                   c->body ? c->body : "", resp);
    }
    okx_reply rep = {.err = resp->err,
                     .http = resp->status,
                     .code = "",
                     .msg = "",
                     .latency_us = resp->elapsed_us,
                     .attempts = resp->attempts};
    json_t *root = NULL;
    if (resp->err != AT_OK) {
        rep.msg = resp->error ? resp->error : "no answer";
    } else {
        json_error_t je;
        root = json_loadb(resp->body, resp->len, 0, &je);
        if (!json_is_object(root)) {
            rep.err = AT_EINVAL;
            rep.msg = "answer is not a JSON object";
        } else {
            json_t *code = json_object_get(root, "code");
            rep.code = json_is_string(code) ? json_string_value(code) : "";
            json_t *msg = json_object_get(root, "msg");
            rep.msg = json_is_string(msg) ? json_string_value(msg) : "";
            json_t *data = json_object_get(root, "data");
            rep.data = json_is_array(data) ? data : NULL;
            rep.root = root;
        }
    }
    /* Rate-limited reads come back later; writes never repeat themselves.
     * A 429 was already retried by the http client: only OKX's 50011 inside
     * a 200 answer is retried here. */
    bool read = strcmp(c->method, "GET") == 0;
    if (read && rep.err == AT_OK && rep.http == 200 && strcmp(rep.code, "50011") == 0 &&
        c->app_retries < r->read_retries) {
        c->app_retries++;
        json_decref(root);
        c->retry = r->h->timer_add(r->inst, 250LL << c->app_retries, 0, on_retry, c);
        if (c->retry) {
            return;
        }
        okx_reply fail = {.err = AT_ENOMEM, .code = "", .msg = "out of memory"};
        deliver(c, &fail);
        return;
    }
    deliver(c, &rep);
    json_decref(root);
}

static void on_local(void *arg)
{
    call *c = arg;
    c->local_timer = NULL; /* one-shot */
    bool err = c->local_err != AT_OK || !c->local_body;
    at_http_resp resp = {.status = c->local_status,
                         .err = err ? (c->local_err != AT_OK ? c->local_err : AT_EIO) : AT_OK,
                         .error = !err                ? NULL
                                  : c->local_error[0] ? c->local_error
                                                      : "the local venue gave no answer",
                         .body = c->local_body ? c->local_body : "",
                         .len = c->local_len,
                         .attempts = 1,
                         .elapsed_us = c->r->h->now_us() - c->local_sent_us};
    on_done(c, &resp);
}

static void send_local(call *c)
{
    okx_rest *r = c->r;
    int64_t at = 0;
    /* a retried read (OKX's 50011) comes here again with the last answer */
    free(c->local_body);
    c->local_body = NULL;
    c->local_len = 0;
    c->local_err = AT_OK;
    c->local_error[0] = '\0';
    /* A paper venue fills at its book now: the answer comes a loop turn
     * later, so "sent" (answer time less latency) must count from here. */
    c->local_sent_us = r->h->now_us();
    if (r->recorded) {
        okx_rec_answer a = {0};
        r->recorded(r->recorded_arg, c->method, c->path, c->query ? c->query : "",
                    c->body ? c->body : "", &a);
        c->local_status = a.status;
        c->local_err = a.err;
        c->local_body = a.body;
        c->local_len = a.len;
        snprintf(c->local_error, sizeof(c->local_error), "%s", a.error);
        at = a.at_us;
    } else {
        c->local_status = r->local(r->local_arg, c->method, c->path, c->query ? c->query : "",
                                   c->body ? c->body : "", &c->local_body, &c->local_len);
    }
    c->local_timer =
        at > r->h->now_us() && AT_STRUCT_HAS(r->h->struct_size, at_host, timer_at) && r->h->timer_at
            ? r->h->timer_at(r->inst, at, on_local, c)
            : r->h->timer_add(r->inst, 0, 0, on_local, c);
    if (!c->local_timer) {
        okx_reply fail = {.err = AT_ENOMEM, .code = "", .msg = "out of memory"};
        deliver(c, &fail);
    }
}

static void send_now(call *c)
{
    okx_rest *r = c->r;
    if (r->local || r->recorded) {
        send_local(c);
        return;
    }
    char url[2048];
    bool q = c->query && *c->query;
    snprintf(url, sizeof(url), "%s%s%s%s", r->base, c->path, q ? "?" : "", q ? c->query : "");
    const char *hdrs[8];
    size_t nh = 0;
    char h_key[160], h_sign[80], h_ts[64], h_pass[160];
    if (c->body) {
        hdrs[nh++] = "Content-Type: application/json";
    }
    if (c->sign) {
        char ts[32], sig[48], target[1600];
        okx_iso_ms(now_ms(r) + r->clock_offset_ms, ts);
        snprintf(target, sizeof(target), "%s%s%s", c->path, q ? "?" : "", q ? c->query : "");
        okx_sign_rest(r->secret, ts, c->method, target, c->body ? c->body : "", sig);
        snprintf(h_key, sizeof(h_key), "OK-ACCESS-KEY: %s", r->key);
        snprintf(h_sign, sizeof(h_sign), "OK-ACCESS-SIGN: %s", sig);
        snprintf(h_ts, sizeof(h_ts), "OK-ACCESS-TIMESTAMP: %s", ts);
        snprintf(h_pass, sizeof(h_pass), "OK-ACCESS-PASSPHRASE: %s", r->pass);
        hdrs[nh++] = h_key;
        hdrs[nh++] = h_sign;
        hdrs[nh++] = h_ts;
        hdrs[nh++] = h_pass;
    }
    if (r->demo) {
        hdrs[nh++] = "x-simulated-trading: 1";
    }
    char h_exp[48];
    if (c->exp_ms > 0) {
        snprintf(h_exp, sizeof(h_exp), "expTime: %lld",
                 (long long)(c->exp_ms + r->clock_offset_ms));
        hdrs[nh++] = h_exp;
    }
    bool read = strcmp(c->method, "GET") == 0;
    at_http_req req = {
        .method = c->method,
        .url = url,
        .headers = hdrs,
        .nheaders = nh,
        .body = c->body,
        .body_len = c->body ? strlen(c->body) : 0,
        .timeout_ms = r->timeout_ms,
        /* A signed request carries its timestamp: the http client's retries
         * resend the same bytes, fine within OKX's 30 s window. */
        .max_retries = read ? r->read_retries : 0,
        .backoff_ms = 250,
        .proxy = r->proxy,
    };
    int64_t id = r->h->http_request(r->inst, &req, on_done, c);
    if (id < 0) {
        okx_reply fail = {.err = (int)id, .code = "", .msg = "request could not be started"};
        deliver(c, &fail);
        return;
    }
    c->http_id = id;
}

static char *dup_or_null(const char *s)
{
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

static int submit(okx_rest *r, const char *method, const char *path, const char *query,
                  const char *body, bool sign, bool bg, okx_rest_cb cb, void *arg, call **out)
{
    if (!r || !path || path[0] != '/' ||
        (sign && !r->local && !r->recorded && (!r->key || !r->secret || !r->pass))) {
        return AT_EINVAL;
    }
    call *c = calloc(1, sizeof(*c));
    if (!c) {
        return AT_ENOMEM;
    }
    c->r = r;
    c->method = dup_or_null(method);
    c->path = dup_or_null(path);
    c->query = dup_or_null(query);
    c->body = dup_or_null(body);
    if (!c->method || !c->path || (query && !c->query) || (body && !c->body)) {
        c->r = NULL;
        call_free(c);
        return AT_ENOMEM;
    }
    c->sign = sign;
    c->bg = bg;
    c->cb = cb;
    c->arg = arg;
    c->b = bucket_of(r, method, path);
    c->next = r->calls;
    if (r->calls) {
        r->calls->prev = c;
    }
    r->calls = c;
    if (out) {
        *out = c; /* the caller finishes it and enqueues */
        return AT_OK;
    }
    /* Always through the queue, so cb never runs inside this call even when
     * the http client fails at once (it calls back later, on the loop). */
    enqueue(c);
    return AT_OK;
}

int okx_rest_get(okx_rest *r, const char *path, const char *query, bool sign, okx_rest_cb cb,
                 void *arg)
{
    return submit(r, "GET", path, query, NULL, sign, false, cb, arg, NULL);
}

int okx_rest_get_bg(okx_rest *r, const char *path, const char *query, bool sign, okx_rest_cb cb,
                    void *arg)
{
    return submit(r, "GET", path, query, NULL, sign, true, cb, arg, NULL);
}

int okx_rest_post(okx_rest *r, const char *path, const char *body, okx_rest_cb cb, void *arg)
{
    return okx_rest_post_exp(r, path, body, 0, cb, arg);
}

int okx_rest_post_exp(okx_rest *r, const char *path, const char *body, int64_t exp_ms,
                      okx_rest_cb cb, void *arg)
{
    call *c = NULL;
    int rc = submit(r, "POST", path, NULL, body ? body : "{}", true, false, cb, arg, &c);
    if (rc == AT_OK) {
        c->exp_ms = exp_ms;
        enqueue(c);
    }
    return rc;
}

okx_rest *okx_rest_new(const at_host *h, at_instance *inst, const okx_rest_opts *o)
{
    okx_rest *r = calloc(1, sizeof(*r));
    if (!r || !o || !o->base_url) {
        free(r);
        return NULL;
    }
    r->h = h;
    r->inst = inst;
    r->base = dup_or_null(o->base_url);
    size_t bl = r->base ? strlen(r->base) : 0;
    while (bl && r->base[bl - 1] == '/') {
        r->base[--bl] = '\0';
    }
    r->key = dup_or_null(o->api_key);
    r->secret = dup_or_null(o->secret);
    r->pass = dup_or_null(o->passphrase);
    r->demo = o->demo;
    r->local = o->local;
    r->local_arg = o->local_arg;
    r->recorded = o->recorded;
    r->recorded_arg = o->recorded_arg;
    r->observe = o->observe;
    r->observe_arg = o->observe_arg;
    r->m = o->m;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    r->read_retries = o->read_retries > 0 ? o->read_retries : 3;
    r->proxy = o->proxy;
    for (size_t i = 0; i < NBUCKETS; i++) {
        r->buckets[i].limit = i < NBUCKETS - 1 ? LIMITS[i].limit : DEFAULT_LIMIT;
    }
    if (!r->base) {
        okx_rest_free(r);
        return NULL;
    }
    return r;
}

void okx_rest_free(okx_rest *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < NBUCKETS; i++) {
        if (r->buckets[i].wake) {
            r->h->timer_cancel(r->buckets[i].wake);
        }
    }
    while (r->calls) {
        call *c = r->calls;
        r->calls = c->next;
        c->prev = c->next = NULL;
        c->r = NULL;
        c->cb = NULL;
        if (c->retry) {
            r->h->timer_cancel(c->retry);
        }
        if (c->local_timer) {
            r->h->timer_cancel(c->local_timer);
            call_free(c);
        } else if (c->http_id > 0) {
            r->h->http_cancel(c->http_id); /* on_done frees it */
        } else {
            call_free(c);
        }
    }
    free(r->base);
    free(r->key);
    if (r->secret) {
        memset(r->secret, 0, strlen(r->secret));
    }
    free(r->secret);
    free(r->pass);
    free(r);
}

size_t okx_rest_queued(const okx_rest *r)
{
    return r->queued;
}

int64_t okx_rest_wait_ms(okx_rest *r, const char *method, const char *path)
{
    bucket *b = bucket_of(r, method, path);
    return bucket_wait(b, b->limit, now_ms(r));
}

void okx_rest_set_clock_offset(okx_rest *r, int64_t offset_ms)
{
    r->clock_offset_ms = offset_ms;
}

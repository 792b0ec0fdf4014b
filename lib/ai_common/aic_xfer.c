/* One HTTP request of an AI provider, retried by the official SDK's
 * schedule (aic_retry.c) within its deadline, on the host's HTTP client
 * (which itself retries nothing here: max_retries 0). And the metrics
 * every provider exports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aic.h"

struct aic_xfer {
    aic_http *c;
    char *label, *method, *url, *body;
    char **headers;
    size_t nheaders;
    int64_t deadline_ms;
    aic_done_cb done;
    void *arg;
    int attempts, retries;
    int64_t http_id; /* the transfer in flight, or 0 */
    at_timer *retry;
    bool idempotent;
    bool cancelled; /* its transfer's callback frees it */
    bool orphan;    /* given up by its caller: its attempt's end is told, no retry */
    char last[512];
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void xfer_free(aic_xfer *x)
{
    for (size_t i = 0; i < x->nheaders; i++) {
        free(x->headers[i]);
    }
    free(x->headers);
    free(x->label);
    free(x->method);
    free(x->url);
    free(x->body);
    free(x);
}

static double rnd01(aic_http *c)
{
    /* xorshift64*: jitter only, per instance (no global state). */
    uint64_t v = c->rng;
    v ^= v >> 12;
    v ^= v << 25;
    v ^= v >> 27;
    c->rng = v;
    return (double)((v * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static int64_t now_ms(const aic_http *c)
{
    return c->h->now_us() / 1000;
}

void aic_http_init(aic_http *c, at_instance *inst, const at_host *h)
{
    c->inst = inst;
    c->h = h;
    c->rng = ((uint64_t)h->now_us() ^ (uint64_t)(uintptr_t)c) | 1;
    const char *p = c->proxy;
    const char *at = p && strncmp(p, "http://", 7) == 0 ? strrchr(p, '@') : NULL;
    const char *pw = at ? memchr(p + 7, ':', (size_t)(at - p - 7)) : NULL;
    if (pw && pw + 1 < at) {
        char secret[256];
        snprintf(secret, sizeof(secret), "%.*s", (int)(at - pw - 1), pw + 1);
        h->secret_add(secret);
    }
}

int aic_bearer(const char *api_key, const char *url, at_instance *inst, const at_host *h,
               char **out)
{
    *out = NULL;
    if (!api_key || !*api_key) {
        return AT_OK;
    }
    size_t n = strlen(api_key) + sizeof("Authorization: Bearer ");
    if (!(*out = malloc(n))) {
        return AT_ENOMEM;
    }
    snprintf(*out, n, "Authorization: Bearer %s", api_key);
    if (strncmp(url, "http://", 7) == 0 && !aic_loopback_url(url)) {
        h->log(inst, AT_LOG_WARN, "the api_key goes in clear text over http:// to %s", url);
    }
    return AT_OK;
}

static void finish(aic_xfer *x, int err, int status, const char *body, size_t len,
                   const char *error)
{
    aic_res r = {.err = err,
                 .status = status,
                 .body = body ? body : "",
                 .len = body ? len : 0,
                 .error = error,
                 .attempts = x->attempts};
    x->done(x->arg, &r);
    xfer_free(x);
}

static void on_http(void *arg, const at_http_resp *resp);

/* Starts an HTTP attempt; AT_OK or an error (then nothing is in flight). */
static int start_attempt(aic_xfer *x)
{
    aic_http *c = x->c;
    int64_t timeout = c->timeout_ms;
    if (x->deadline_ms > 0) {
        int64_t left = x->deadline_ms - now_ms(c);
        if (left <= 0) {
            return AT_ETIMEDOUT;
        }
        /* one that is not idempotent runs on at the server anyway: its
         * caller answers at the deadline and waits for its end (orphan) */
        if (x->idempotent) {
            timeout = left < timeout ? left : timeout;
        }
    }
    at_http_req req = {
        .method = x->method,
        .url = x->url,
        .headers = (const char *const *)x->headers,
        .nheaders = x->nheaders,
        .body = x->body,
        .body_len = x->body ? strlen(x->body) : 0,
        .timeout_ms = timeout,
        .max_retries = 0, /* ours, by the SDK's rules */
        .max_response = c->max_response,
        .proxy = c->proxy,
    };
    x->attempts++;
    int64_t id = c->h->http_request(c->inst, &req, on_http, x);
    if (id < 0) {
        return (int)id;
    }
    x->http_id = id;
    return AT_OK;
}

static void on_retry(void *arg)
{
    aic_xfer *x = arg;
    x->retry = NULL;
    int rc = start_attempt(x);
    if (rc != AT_OK) {
        char text[640];
        snprintf(text, sizeof(text), "%s%s%s",
                 rc == AT_ETIMEDOUT ? "deadline passed before a retry"
                                    : "the HTTP client refused the retry",
                 x->last[0] ? "; last attempt: " : "", x->last);
        finish(x, rc, 0, NULL, 0, text);
    }
}

static void on_http(void *arg, const at_http_resp *resp)
{
    aic_xfer *x = arg;
    aic_http *c = x->c;
    x->http_id = 0;
    if (x->cancelled) {
        xfer_free(x);
        return;
    }
    if (resp->err == AT_OK && resp->status >= 200 && resp->status < 300) {
        finish(x, AT_OK, resp->status, resp->body, resp->len, NULL);
        return;
    }
    if (resp->err == AT_OK) {
        aic_error_text(resp->status, resp->body, resp->len, c->secret, x->last, sizeof(x->last));
    } else {
        snprintf(x->last, sizeof(x->last), "%s", resp->error ? resp->error : "no answer");
    }
    int err = resp->err != AT_OK ? resp->err : aic_status_err(resp->status);
    if (x->orphan) {
        finish(x, err, resp->status, resp->body, resp->len, x->last);
        return;
    }
    aic_attempt at = {.status = resp->status,
                      .err = resp->err,
                      .error = resp->error,
                      .headers = resp->headers,
                      .nheaders = resp->nheaders,
                      .idempotent = x->idempotent};
    char why[200];
    int64_t delay = aic_retry_delay(&at, x->retries, c->max_retries, now_ms(c), x->deadline_ms,
                                    rnd01(c), why, sizeof(why));
    if (delay < 0) {
        char text[768];
        snprintf(text, sizeof(text), "%s%s%s", x->last, why[0] ? "; " : "", why);
        finish(x, err, resp->status, resp->body, resp->len, text);
        return;
    }
    x->retries++;
    c->h->log(c->inst, AT_LOG_WARN, "%s: attempt %d failed (%s), retrying in %lld ms", x->label,
              x->attempts, x->last, (long long)delay);
    x->retry = c->h->timer_add(c->inst, delay, 0, on_retry, x);
    if (!x->retry) {
        finish(x, AT_ENOMEM, 0, NULL, 0, "cannot arm the retry timer");
    }
}

int aic_xfer_start(aic_http *c, const aic_req *rq, aic_done_cb done, void *arg, aic_xfer **out)
{
    if (out) {
        *out = NULL;
    }
    if (!rq || !rq->method || !rq->url || !done) {
        return AT_EINVAL;
    }
    aic_xfer *x = calloc(1, sizeof(*x));
    if (!x) {
        return AT_ENOMEM;
    }
    x->c = c;
    x->done = done;
    x->arg = arg;
    x->deadline_ms = rq->deadline_ms;
    x->idempotent = rq->idempotent;
    x->label = strdup(rq->label ? rq->label : "request");
    x->method = strdup(rq->method);
    x->url = strdup(rq->url);
    x->body = dup_or_null(rq->body);
    x->headers = rq->nheaders ? calloc(rq->nheaders, sizeof(*x->headers)) : NULL;
    bool ok =
        x->label && x->method && x->url && (!rq->body || x->body) && (!rq->nheaders || x->headers);
    for (size_t i = 0; ok && i < rq->nheaders; i++) {
        ok = (x->headers[i] = strdup(rq->headers[i])) != NULL;
        x->nheaders = i + 1;
    }
    if (!ok) {
        xfer_free(x);
        return AT_ENOMEM;
    }
    int rc = start_attempt(x);
    if (rc != AT_OK) {
        xfer_free(x);
        return rc;
    }
    if (out) {
        *out = x;
    }
    return AT_OK;
}

void aic_xfer_cancel(aic_xfer *x)
{
    if (!x || x->cancelled) {
        return;
    }
    x->c->h->timer_cancel(x->retry);
    x->retry = NULL;
    if (x->http_id) {
        x->cancelled = true;
        x->c->h->http_cancel(x->http_id); /* its callback frees it */
    } else {
        xfer_free(x);
    }
}

bool aic_xfer_orphan(aic_xfer *x, aic_done_cb done, void *arg)
{
    if (!x || x->cancelled) {
        return false;
    }
    if (!x->http_id) {
        aic_xfer_cancel(x); /* between attempts: nothing runs at the server */
        return false;
    }
    x->orphan = true;
    x->done = done;
    x->arg = arg;
    return true;
}

int aic_xfer_attempts(const aic_xfer *x)
{
    return x ? x->attempts : 0;
}

const char *aic_xfer_last(const aic_xfer *x)
{
    return x ? x->last : "";
}

/* ----------------------------------------------------------- metrics */

void aic_metrics_init(aic_metrics *m, at_instance *inst, const at_host *h)
{
    m->calls = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_requests_total",
                         "AI provider calls started");
    m->errors = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_errors_total",
                          "AI provider calls that ended without an answer");
    m->attempts = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_http_attempts_total",
                            "HTTP attempts of AI provider calls, retries included");
    m->tokens_in = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_prompt_tokens_total",
                             "prompt tokens the provider counted");
    m->tokens_out = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_completion_tokens_total",
                              "completion tokens (reasoning included) the provider counted");
    m->cost = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_cost_usd_total",
                        "cost of the answers at the configured prices, USD");
    m->latency = h->metric(inst, AT_METRIC_HISTOGRAM, "aitrader_ai_latency_us",
                           "time from request to answer, retries included");
}

void aic_metrics_answer(const aic_metrics *m, const at_host *h, const at_ai_reply *r, int attempts)
{
    h->metric_add(m->attempts, attempts);
    if (r->err == AT_OK) {
        h->metric_add(m->tokens_in, (double)r->tokens_in);
        h->metric_add(m->tokens_out, (double)r->tokens_out);
        h->metric_add(m->cost, r->cost_usd);
        h->metric_observe(m->latency, (double)r->latency_ms * 1000.0);
    } else {
        h->metric_add(m->errors, 1);
    }
}

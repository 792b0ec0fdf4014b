/* ai_openai: an [ai.*] provider for OpenAI-compatible Chat Completions APIs
 * (OpenAI, DeepSeek, Qwen on DashScope, local servers such as llama.cpp,
 * vLLM, Ollama). A call is one request to <base_url>/chat/completions with
 * the trader's prompts, retried by the official SDK's rules within the
 * call's deadline; the answer's text goes back untouched (the trader
 * validates it). Tokens, latency, attempts and cost (configured prices) go
 * with every answer and into the metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

typedef struct oai_ctx oai_ctx;

/* One call, from request() until its HTTP request is called back too (a
 * call answered early waits for the cancelled transfer's callback). */
typedef struct call {
    oai_ctx *o;
    struct call *next;
    char *id;
    char *body;
    at_ai_done_cb done;
    void *arg;
    int64_t start_us;
    int64_t deadline_ms; /* 0 = none */
    int attempts, retries;
    int64_t http_id;         /* the transfer in flight, or 0 */
    at_timer *retry, *limit; /* next attempt, deadline */
    bool answered;
    char last[512]; /* the last failed attempt, for the final error */
} call;

struct oai_ctx {
    oai_cfg cfg; /* first: the schema's offsets */
    at_instance *inst;
    const at_host *h;
    oai_profile prof;
    char *url;
    char *auth; /* "Authorization: Bearer …" or NULL */
    call *calls;
    bool running;
    bool warned_rf;
    uint64_t rng;
    at_metric *m_calls, *m_errors, *m_attempts, *m_tokens_in, *m_tokens_out, *m_cost, *m_latency;
};

static void attempt(call *c);

static double rnd01(oai_ctx *o)
{
    /* xorshift64*: jitter only, per instance (no global state). */
    uint64_t x = o->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    o->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static int64_t now_ms(const oai_ctx *o)
{
    return o->h->now_us() / 1000;
}

static void call_free(call *c)
{
    free(c->id);
    free(c->body);
    free(c);
}

static void unlink_call(call *c)
{
    for (call **p = &c->o->calls; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

/* Answer once; the call lives on only while its transfer is being cancelled. */
static void answer(call *c, at_ai_reply *r)
{
    oai_ctx *o = c->o;
    if (c->answered) {
        return;
    }
    c->answered = true;
    unlink_call(c);
    o->h->timer_cancel(c->retry);
    o->h->timer_cancel(c->limit);
    c->retry = c->limit = NULL;
    r->latency_ms = (o->h->now_us() - c->start_us) / 1000;
    r->attempts = c->attempts;
    if (!r->model) {
        r->model = o->cfg.model;
    }
    o->h->metric_add(o->m_attempts, c->attempts);
    if (r->err == AT_OK) {
        o->h->metric_add(o->m_tokens_in, (double)r->tokens_in);
        o->h->metric_add(o->m_tokens_out, (double)r->tokens_out);
        o->h->metric_add(o->m_cost, r->cost_usd);
        o->h->metric_observe(o->m_latency, (double)r->latency_ms * 1000.0);
        o->h->log(o->inst, AT_LOG_DEBUG,
                  "%s: %s answered in %lld ms (%d attempt%s, %lld+%lld tokens, finish %s)", c->id,
                  r->model, (long long)r->latency_ms, c->attempts, c->attempts == 1 ? "" : "s",
                  (long long)r->tokens_in, (long long)r->tokens_out,
                  r->finish_reason ? r->finish_reason : "-");
    } else {
        o->h->metric_add(o->m_errors, 1);
        if (r->err != AT_ESTATE) {
            o->h->log(o->inst, AT_LOG_WARN, "%s: no answer after %d attempt%s in %lld ms: %s",
                      c->id, c->attempts, c->attempts == 1 ? "" : "s", (long long)r->latency_ms,
                      r->error);
        }
    }
    c->done(c->arg, r);
    if (c->http_id) {
        o->h->http_cancel(c->http_id); /* its callback frees the call */
    } else {
        call_free(c);
    }
}

static void answer_error(call *c, int err, const char *text)
{
    at_ai_reply r = {.err = err, .error = text};
    answer(c, &r);
}

static void on_deadline(void *arg)
{
    call *c = arg;
    c->limit = NULL;
    char text[640];
    if (c->last[0]) {
        snprintf(text, sizeof(text), "deadline passed after %d attempt%s (last: %s)", c->attempts,
                 c->attempts == 1 ? "" : "s", c->last);
    } else {
        snprintf(text, sizeof(text), "deadline passed with attempt %d in flight", c->attempts);
    }
    answer_error(c, AT_ETIMEDOUT, text);
}

static void on_retry(void *arg)
{
    call *c = arg;
    c->retry = NULL;
    attempt(c);
}

static void deliver_answer(call *c, const oai_answer *a)
{
    oai_ctx *o = c->o;
    at_ai_reply r = {
        .err = AT_OK,
        .content = a->content,
        .reasoning = a->reasoning,
        .refusal = a->refusal,
        .model = a->model,
        .finish_reason = a->finish_reason,
        .tokens_in = a->tokens_in,
        .tokens_out = a->tokens_out,
        .cost_usd = oai_cost(&o->cfg, a->tokens_in, a->tokens_out),
    };
    answer(c, &r);
}

static void on_http(void *arg, const at_http_resp *resp)
{
    call *c = arg;
    oai_ctx *o = c->o;
    c->http_id = 0;
    if (c->answered) {
        call_free(c); /* answered (deadline, cancel, stop) while in flight */
        return;
    }
    oai_answer a;
    if (resp->err == AT_OK) {
        oai_parse(resp->status, resp->body, resp->len, o->cfg.api_key, &a);
        if (a.err == AT_OK) {
            deliver_answer(c, &a);
            oai_answer_clear(&a);
            return;
        }
        snprintf(c->last, sizeof(c->last), "%s", a.error);
        oai_answer_clear(&a);
    } else {
        snprintf(c->last, sizeof(c->last), "%s", resp->error ? resp->error : "no answer");
    }
    int err = resp->err != AT_OK ? resp->err : oai_status_err(resp->status);
    if (resp->err == AT_OK && resp->status == 200) {
        /* an unreadable 200 is final: the SDK does not retry it either */
        answer_error(c, AT_EIO, c->last);
        return;
    }
    oai_attempt at = {.status = resp->status,
                      .err = resp->err,
                      .headers = resp->headers,
                      .nheaders = resp->nheaders};
    char why[200];
    int64_t delay = oai_retry_delay(&at, c->retries, (int)o->cfg.max_retries, now_ms(o),
                                    c->deadline_ms, rnd01(o), why, sizeof(why));
    if (delay < 0) {
        char text[768];
        snprintf(text, sizeof(text), "%s%s%s", c->last, why[0] ? "; " : "", why);
        answer_error(c, err, text);
        return;
    }
    c->retries++;
    o->h->log(o->inst, AT_LOG_WARN, "%s: attempt %d failed (%s), retrying in %lld ms", c->id,
              c->attempts, c->last, (long long)delay);
    c->retry = o->h->timer_add(o->inst, delay, 0, on_retry, c);
    if (!c->retry) {
        answer_error(c, AT_ENOMEM, "cannot arm the retry timer");
    }
}

/* Starts an HTTP attempt; AT_OK or an error (then nothing is in flight). */
static int start_attempt(call *c)
{
    oai_ctx *o = c->o;
    int64_t timeout = o->prof.timeout_ms;
    if (c->deadline_ms > 0) {
        int64_t left = c->deadline_ms - now_ms(o);
        if (left <= 0) {
            return AT_ETIMEDOUT;
        }
        timeout = left < timeout ? left : timeout;
    }
    const char *headers[3] = {"Content-Type: application/json", "Accept: application/json",
                              o->auth};
    at_http_req req = {
        .method = "POST",
        .url = o->url,
        .headers = headers,
        .nheaders = o->auth ? 3 : 2,
        .body = c->body,
        .body_len = strlen(c->body),
        .timeout_ms = timeout,
        .max_retries = 0, /* ours, by the SDK's rules */
        .max_response = (size_t)o->cfg.max_response,
        .proxy = o->cfg.proxy,
    };
    c->attempts++;
    int64_t id = o->h->http_request(o->inst, &req, on_http, c);
    if (id < 0) {
        return (int)id;
    }
    c->http_id = id;
    return AT_OK;
}

static void attempt(call *c)
{
    int rc = start_attempt(c);
    if (rc != AT_OK) {
        char text[640];
        snprintf(text, sizeof(text), "%s%s%s",
                 rc == AT_ETIMEDOUT ? "deadline passed before a retry"
                                    : "the HTTP client refused the retry",
                 c->last[0] ? "; last attempt: " : "", c->last);
        answer_error(c, rc, text);
    }
}

/* ---------------------------------------------------------- at_ai_ops */

static int request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    oai_ctx *o = ctx;
    if (!o->running) {
        return AT_ESTATE;
    }
    if (!req || !done || !req->request_id || !req->user) {
        return AT_EINVAL;
    }
    if (req->deadline_ms > 0 && req->deadline_ms <= now_ms(o)) {
        return AT_ETIMEDOUT;
    }
    call *c = calloc(1, sizeof(*c));
    if (!c) {
        return AT_ENOMEM;
    }
    c->o = o;
    c->id = strdup(req->request_id);
    oai_rf sent;
    const char *note;
    char why[160];
    c->body = oai_body_build(&o->cfg, &o->prof, req, &sent, &note, why, sizeof(why));
    if (!c->id || !c->body) {
        int rc = c->body ? AT_ENOMEM : AT_EINVAL;
        o->h->log(o->inst, AT_LOG_ERROR, "%s: %s", req->request_id,
                  c->body ? "out of memory" : why);
        call_free(c);
        return rc;
    }
    if (note && !o->warned_rf) {
        o->warned_rf = true; /* the same prompt says the same each call */
        o->h->log(o->inst, AT_LOG_WARN, "%s (said once)", note);
    }
    c->done = done;
    c->arg = arg;
    c->start_us = o->h->now_us();
    c->deadline_ms = req->deadline_ms;
    if (c->deadline_ms > 0) {
        c->limit = o->h->timer_add(o->inst, c->deadline_ms - now_ms(o), 0, on_deadline, c);
        if (!c->limit) {
            call_free(c);
            return AT_ENOMEM;
        }
    }
    int rc = start_attempt(c);
    if (rc != AT_OK) {
        o->h->timer_cancel(c->limit);
        call_free(c);
        return rc; /* done is not called: request() failed */
    }
    c->next = o->calls;
    o->calls = c;
    o->h->metric_add(o->m_calls, 1);
    return AT_OK;
}

static void cancel(void *ctx, const char *request_id)
{
    oai_ctx *o = ctx;
    for (call *c = o->calls; c && request_id; c = c->next) {
        if (strcmp(c->id, request_id) == 0) {
            answer_error(c, AT_ESTATE, "cancelled");
            return;
        }
    }
}

static const at_ai_ops ai_ops = {
    .struct_size = sizeof(at_ai_ops), .request = request, .cancel = cancel};

/* ----------------------------------------------------------- lifecycle */

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    return oai_check_config(&((const oai_ctx *)ctx)->cfg, key, why, whylen);
}

static bool loopback_url(const char *u)
{
    const char *p = strstr(u, "://");
    p = p ? p + 3 : u;
    return strncmp(p, "127.", 4) == 0 || strncmp(p, "localhost", 9) == 0 ||
           strncmp(p, "[::1]", 5) == 0;
}

static int init(at_instance *inst, const at_host *h, void *ctx)
{
    oai_ctx *o = ctx;
    o->inst = inst;
    o->h = h;
    oai_profile_resolve(&o->cfg, &o->prof);
    size_t n = strlen(o->cfg.base_url);
    while (n > 0 && o->cfg.base_url[n - 1] == '/') {
        n--;
    }
    size_t ulen = n + sizeof("/chat/completions");
    o->url = malloc(ulen);
    if (!o->url) {
        return AT_ENOMEM;
    }
    snprintf(o->url, ulen, "%.*s/chat/completions", (int)n, o->cfg.base_url);
    if (o->cfg.api_key && *o->cfg.api_key) {
        size_t alen = strlen(o->cfg.api_key) + sizeof("Authorization: Bearer ");
        o->auth = malloc(alen);
        if (!o->auth) {
            return AT_ENOMEM;
        }
        snprintf(o->auth, alen, "Authorization: Bearer %s", o->cfg.api_key);
        if (strncmp(o->cfg.base_url, "http://", 7) == 0 && !loopback_url(o->cfg.base_url)) {
            h->log(inst, AT_LOG_WARN, "the api_key goes in clear text over http:// to %s", o->url);
        }
    }
    const char *pw_at = o->cfg.proxy ? strrchr(o->cfg.proxy, '@') : NULL;
    const char *pw =
        pw_at ? memchr(o->cfg.proxy + 7, ':', (size_t)(pw_at - o->cfg.proxy - 7)) : NULL;
    if (pw && pw + 1 < pw_at) {
        char secret[256];
        snprintf(secret, sizeof(secret), "%.*s", (int)(pw_at - pw - 1), pw + 1);
        h->secret_add(secret);
    }
    o->rng = ((uint64_t)h->now_us() ^ (uint64_t)(uintptr_t)o) | 1;
    o->m_calls = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_requests_total",
                           "AI provider calls started");
    o->m_errors = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_errors_total",
                            "AI provider calls that ended without an answer");
    o->m_attempts = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_http_attempts_total",
                              "HTTP attempts of AI provider calls, retries included");
    o->m_tokens_in = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_prompt_tokens_total",
                               "prompt tokens the provider counted");
    o->m_tokens_out = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_completion_tokens_total",
                                "completion tokens (reasoning included) the provider counted");
    o->m_cost = h->metric(inst, AT_METRIC_COUNTER, "aitrader_ai_cost_usd_total",
                          "cost of the answers at the configured prices, USD");
    o->m_latency = h->metric(inst, AT_METRIC_HISTOGRAM, "aitrader_ai_latency_us",
                             "time from request to answer, retries included");
    static const char *const think[] = {"no", "yes"};
    h->log(inst, AT_LOG_INFO,
           "%s at %s (api %s, thinking %s, response_format %s, timeout %lld ms, retries %lld)",
           o->cfg.model, o->url, oai_api_names[o->prof.api], think[o->prof.thinking],
           oai_rf_names[o->prof.rf], (long long)o->prof.timeout_ms, (long long)o->cfg.max_retries);
    return AT_OK;
}

static int start(void *ctx)
{
    ((oai_ctx *)ctx)->running = true;
    return AT_OK;
}

static void stop(void *ctx)
{
    oai_ctx *o = ctx;
    o->running = false;
    /* Every call in flight is answered, as the ABI promises. */
    while (o->calls) {
        answer_error(o->calls, AT_ESTATE, "stopped");
    }
}

static void destroy(void *ctx)
{
    oai_ctx *o = ctx;
    while (o->calls) { /* only if stop never ran */
        call *c = o->calls;
        o->calls = c->next;
        call_free(c);
    }
    free(o->url);
    free(o->auth);
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_AI,
    .name = "openai",
    .version = "1.0.0",
    .description = "OpenAI-compatible Chat Completions (OpenAI, DeepSeek, Qwen/DashScope, "
                   "llama.cpp, vLLM, Ollama)",
    .config = oai_schema,
    .ctx_size = sizeof(oai_ctx),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &ai_ops,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

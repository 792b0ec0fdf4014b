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

#include "aic.h"
#include "oai.h"

typedef struct oai_ctx oai_ctx;

/* One call, from request() until it is answered: one HTTP request retried
 * by the SDK's schedule (lib/ai_common) within the call's deadline. */
typedef struct call {
    oai_ctx *o;
    struct call *next;
    char *id;
    at_ai_done_cb done;
    void *arg;
    int64_t start_us;
    int64_t deadline_ms; /* 0 = none */
    aic_xfer *xfer;      /* the request in flight, or NULL once it ended */
    int attempts;        /* of the ended request */
    at_timer *limit;     /* deadline */
} call;

struct oai_ctx {
    oai_cfg cfg; /* first: the schema's offsets */
    at_instance *inst;
    const at_host *h;
    oai_profile prof;
    aic_http http;
    char *url;
    char *auth; /* "Authorization: Bearer …" or NULL */
    call *calls;
    bool running;
    bool warned_rf;
    aic_metrics m;
};

static int64_t now_ms(const oai_ctx *o)
{
    return o->h->now_us() / 1000;
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

/* Answer once, and free the call (its request, if still on, is dropped). */
static void answer(call *c, at_ai_reply *r)
{
    oai_ctx *o = c->o;
    unlink_call(c);
    o->h->timer_cancel(c->limit);
    int attempts = c->xfer ? aic_xfer_attempts(c->xfer) : c->attempts;
    aic_xfer_cancel(c->xfer);
    r->latency_ms = (o->h->now_us() - c->start_us) / 1000;
    r->attempts = attempts;
    if (!r->model) {
        r->model = o->cfg.model;
    }
    aic_metrics_answer(&o->m, o->h, r, attempts);
    if (r->err == AT_OK) {
        o->h->log(o->inst, AT_LOG_DEBUG,
                  "%s: %s answered in %lld ms (%d attempt%s, %lld+%lld tokens, finish %s)", c->id,
                  r->model, (long long)r->latency_ms, attempts, attempts == 1 ? "" : "s",
                  (long long)r->tokens_in, (long long)r->tokens_out,
                  r->finish_reason ? r->finish_reason : "-");
    } else if (r->err != AT_ESTATE) {
        o->h->log(o->inst, AT_LOG_WARN, "%s: no answer after %d attempt%s in %lld ms: %s", c->id,
                  attempts, attempts == 1 ? "" : "s", (long long)r->latency_ms, r->error);
    }
    c->done(c->arg, r);
    free(c->id);
    free(c);
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
    int n = aic_xfer_attempts(c->xfer);
    const char *last = aic_xfer_last(c->xfer);
    if (last[0]) {
        snprintf(text, sizeof(text), "deadline passed after %d attempt%s (last: %s)", n,
                 n == 1 ? "" : "s", last);
    } else {
        snprintf(text, sizeof(text), "deadline passed with attempt %d in flight", n);
    }
    answer_error(c, AT_ETIMEDOUT, text);
}

static void on_http(void *arg, const aic_res *res)
{
    call *c = arg;
    oai_ctx *o = c->o;
    c->xfer = NULL; /* ended: freed after this callback */
    c->attempts = res->attempts;
    if (res->err != AT_OK) {
        answer_error(c, res->err, res->error);
        return;
    }
    oai_answer a;
    oai_parse(res->status, res->body, res->len, o->cfg.api_key, &a);
    if (a.err != AT_OK) {
        /* an unreadable 2xx is final: the SDK does not retry it either */
        answer_error(c, res->status == 200 ? AT_EIO : a.err, a.error);
        oai_answer_clear(&a);
        return;
    }
    at_ai_reply r = {
        .err = AT_OK,
        .content = a.content,
        .reasoning = a.reasoning,
        .refusal = a.refusal,
        .model = a.model,
        .finish_reason = a.finish_reason,
        .tokens_in = a.tokens_in,
        .tokens_out = a.tokens_out,
        .cost_usd = oai_cost(&o->cfg, a.tokens_in, a.tokens_out),
    };
    answer(c, &r);
    oai_answer_clear(&a);
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
    oai_rf sent;
    const char *note;
    char why[160];
    char *body = oai_body_build(&o->cfg, &o->prof, req, &sent, &note, why, sizeof(why));
    call *c = body ? calloc(1, sizeof(*c)) : NULL;
    if (c) {
        c->id = strdup(req->request_id);
    }
    if (!c || !c->id) {
        o->h->log(o->inst, AT_LOG_ERROR, "%s: %s", req->request_id, body ? "out of memory" : why);
        if (c) {
            free(c);
        }
        free(body);
        return body ? AT_ENOMEM : AT_EINVAL;
    }
    if (note && !o->warned_rf) {
        o->warned_rf = true; /* the same prompt says the same each call */
        o->h->log(o->inst, AT_LOG_WARN, "%s (said once)", note);
    }
    c->o = o;
    c->done = done;
    c->arg = arg;
    c->start_us = o->h->now_us();
    c->deadline_ms = req->deadline_ms;
    int rc = AT_OK;
    if (c->deadline_ms > 0) {
        c->limit = o->h->timer_add(o->inst, c->deadline_ms - now_ms(o), 0, on_deadline, c);
        rc = c->limit ? AT_OK : AT_ENOMEM;
    }
    const char *headers[3] = {"Content-Type: application/json", "Accept: application/json",
                              o->auth};
    aic_req rq = {.label = c->id,
                  .method = "POST",
                  .url = o->url,
                  .headers = headers,
                  .nheaders = o->auth ? 3 : 2,
                  .body = body,
                  .deadline_ms = c->deadline_ms,
                  .idempotent = true}; /* a chat completion is stateless */
    if (rc == AT_OK) {
        rc = aic_xfer_start(&o->http, &rq, on_http, c, &c->xfer);
    }
    free(body);
    if (rc != AT_OK) {
        o->h->timer_cancel(c->limit);
        free(c->id);
        free(c);
        return rc; /* done is not called: request() failed */
    }
    c->next = o->calls;
    o->calls = c;
    o->h->metric_add(o->m.calls, 1);
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
    if (aic_bearer(o->cfg.api_key, o->url, inst, h, &o->auth) != AT_OK) {
        return AT_ENOMEM;
    }
    o->http = (aic_http){.timeout_ms = o->prof.timeout_ms,
                         .max_retries = (int)o->cfg.max_retries,
                         .max_response = (size_t)o->cfg.max_response,
                         .proxy = o->cfg.proxy,
                         .secret = o->cfg.api_key};
    aic_http_init(&o->http, inst, h);
    aic_metrics_init(&o->m, inst, h);
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
        aic_xfer_cancel(c->xfer);
        free(c->id);
        free(c);
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

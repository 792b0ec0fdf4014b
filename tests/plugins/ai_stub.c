/* ai_stub: a canned AI provider for tests of the trading loop. It calls no
 * model: each request (at_ai_ops.request) is answered, after `delay`, with
 * the next record of `answers_file`, in order; once they run out, with
 * `{"decisions": []}` (hold everything). Never installed; lives in
 * build/test-plugins.
 *
 * answers_file: records separated by a line holding only "%%". A record's
 * first lines may be directives, the rest is the answer's text as it comes
 * (the record's last newline is not part of it):
 *   @error TEXT      no answer: err = AT_EIO, error = TEXT
 *   @refusal TEXT    content NULL, refusal = TEXT
 *   @null            content NULL
 *   @finish REASON   finish_reason (default "stop")
 *   @reasoning TEXT  reasoning given apart (reasoning_content)
 *   @delay MS        answer this record after MS instead of `delay`
 *   @model NAME      the model that answered
 * requests_file (optional): every request is appended to it, so tests can
 * read the prompts the trader sent:
 *   === request N trader T id ID retry R deadline_ms D
 *   --- system
 *   …
 *   --- user
 *   …
 * Each request is also logged: "ai stub request N: trader T id ID retry R". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

#define MAX_CALLS 16

typedef struct record {
    char *content; /* NULL with @null / @refusal / @error */
    char *error, *refusal, *finish, *reasoning, *model;
    long delay_ms; /* -1 = the instance's delay */
} record;

typedef struct call {
    struct stub *s;
    bool used;
    char id[AT_ID_LEN];
    at_ai_done_cb done;
    void *arg;
    at_timer *timer;
    const record *rec; /* NULL: hold everything */
} call;

typedef struct stub {
    at_instance *inst;
    const at_host *h;
    /* config */
    const char *answers_file, *requests_file, *model;
    int64_t delay_ms, tokens_in, tokens_out;
    double cost;
    /* state */
    record *recs;
    size_t nrecs, next;
    unsigned requests;
    call calls[MAX_CALLS];
} stub;

static const at_cfg_field schema[] = {
    {"answers_file", AT_CFG_STR, NULL, 0, offsetof(stub, answers_file), 0, 0, NULL,
     "canned answers, one record each (separated by a line %%), used in order"},
    {"requests_file", AT_CFG_STR, NULL, 0, offsetof(stub, requests_file), 0, 0, NULL,
     "append every request (system and user prompts) here"},
    {"model", AT_CFG_STR, "stub", 0, offsetof(stub, model), 0, 0, NULL,
     "the model named in replies"},
    {"delay", AT_CFG_DURATION, "0ms", AT_CFG_RANGE, offsetof(stub, delay_ms), 0, 3600000, NULL,
     "time before each answer"},
    {"tokens_in", AT_CFG_INT, "100", AT_CFG_RANGE, offsetof(stub, tokens_in), 0, 1e9, NULL,
     "prompt tokens reported per answer"},
    {"tokens_out", AT_CFG_INT, "10", AT_CFG_RANGE, offsetof(stub, tokens_out), 0, 1e9, NULL,
     "completion tokens reported per answer"},
    {"cost", AT_CFG_DOUBLE, "0.25", AT_CFG_RANGE, offsetof(stub, cost), 0, 1e6, NULL,
     "USD reported per answer"},
    {0},
};

static char *dup_text(const char *s)
{
    char *d = strdup(s);
    if (d) {
        size_t n = strlen(d);
        while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == '\r')) {
            d[--n] = '\0';
        }
    }
    return d;
}

/* One record: directives first, then the content. */
static int parse_record(record *r, char *text)
{
    memset(r, 0, sizeof(*r));
    r->delay_ms = -1;
    bool has_content = true;
    char *p = text;
    while (*p == '@') {
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
        }
        char *arg = strchr(p, ' ');
        arg = arg ? arg + 1 : p + strlen(p);
        if (strncmp(p, "@error", 6) == 0) {
            r->error = dup_text(arg);
            has_content = false;
        } else if (strncmp(p, "@refusal", 8) == 0) {
            r->refusal = dup_text(arg);
            has_content = false;
        } else if (strncmp(p, "@null", 5) == 0) {
            has_content = false;
        } else if (strncmp(p, "@finish", 7) == 0) {
            r->finish = dup_text(arg);
        } else if (strncmp(p, "@reasoning", 10) == 0) {
            r->reasoning = dup_text(arg);
        } else if (strncmp(p, "@delay", 6) == 0) {
            r->delay_ms = strtol(arg, NULL, 10);
        } else if (strncmp(p, "@model", 6) == 0) {
            r->model = dup_text(arg);
        } else {
            return AT_EINVAL;
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (has_content) {
        /* The record's own last newline is the separator's, not the answer's. */
        size_t n = strlen(p);
        if (n > 0 && p[n - 1] == '\n') {
            p[n - 1] = '\0';
        }
        r->content = strdup(p);
    }
    return AT_OK;
}

static int load_answers(stub *s)
{
    FILE *f = fopen(s->answers_file, "rb");
    if (!f) {
        s->h->log(s->inst, AT_LOG_ERROR, "answers_file %s cannot be read", s->answers_file);
        return AT_EIO;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0, k;
    char chunk[4096];
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (n + k + 1 > cap) {
            cap = (n + k + 1) * 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return AT_ENOMEM;
            }
            buf = b;
        }
        memcpy(buf + n, chunk, k);
        n += k;
    }
    fclose(f);
    if (!buf) {
        return AT_OK; /* empty: hold everything */
    }
    buf[n] = '\0';
    char *p = buf;
    for (;;) {
        char *sep = strstr(p, "\n%%\n");
        bool last = !sep;
        if (sep) {
            sep[1] = '\0';
        }
        record *rs = realloc(s->recs, (s->nrecs + 1) * sizeof(*rs));
        if (!rs) {
            free(buf);
            return AT_ENOMEM;
        }
        s->recs = rs;
        if (parse_record(&s->recs[s->nrecs], p) != AT_OK) {
            s->h->log(s->inst, AT_LOG_ERROR, "answers_file record %zu: unknown directive",
                      s->nrecs + 1);
            free(buf);
            return AT_EINVAL;
        }
        s->nrecs++;
        if (last) {
            break;
        }
        p = sep + 4;
        if (!*p) {
            break;
        }
    }
    free(buf);
    return AT_OK;
}

static void answer(void *arg)
{
    call *c = arg;
    stub *s = c->s;
    const record *r = c->rec;
    at_ai_done_cb done = c->done;
    void *darg = c->arg;
    c->used = false;
    c->timer = NULL;
    at_ai_reply rep = {.err = AT_OK,
                       .content = r ? r->content : "{\"decisions\": []}",
                       .model = r && r->model ? r->model : s->model,
                       .finish_reason = r && r->finish ? r->finish : "stop",
                       .tokens_in = s->tokens_in,
                       .tokens_out = s->tokens_out,
                       .cost_usd = s->cost,
                       .latency_ms = r && r->delay_ms >= 0 ? r->delay_ms : s->delay_ms,
                       .attempts = 1};
    if (r && r->error) {
        rep = (at_ai_reply){.err = AT_EIO, .error = r->error, .model = rep.model, .attempts = 1};
    } else if (r) {
        rep.refusal = r->refusal;
        rep.reasoning = r->reasoning;
    }
    done(darg, &rep);
}

static void log_request(stub *s, const at_ai_request *req)
{
    s->h->log(s->inst, AT_LOG_INFO, "ai stub request %u: trader %s id %s retry %d", s->requests,
              req->trader, req->request_id, req->retry);
    if (!s->requests_file) {
        return;
    }
    FILE *f = fopen(s->requests_file, "a");
    if (!f) {
        s->h->log(s->inst, AT_LOG_ERROR, "requests_file %s cannot be written", s->requests_file);
        return;
    }
    fprintf(
        f,
        "=== request %u trader %s id %s retry %d deadline_ms %lld\n--- system\n%s\n--- user\n%s\n",
        s->requests, req->trader, req->request_id, req->retry, (long long)req->deadline_ms,
        req->system ? req->system : "", req->user ? req->user : "");
    fclose(f);
}

static int request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    stub *s = ctx;
    call *c = NULL;
    for (size_t i = 0; i < MAX_CALLS && !c; i++) {
        c = s->calls[i].used ? NULL : &s->calls[i];
    }
    if (!c) {
        return AT_EAGAIN;
    }
    s->requests++;
    log_request(s, req);
    *c = (call){.s = s, .used = true, .done = done, .arg = arg};
    snprintf(c->id, sizeof(c->id), "%s", req->request_id ? req->request_id : "");
    c->rec = s->next < s->nrecs ? &s->recs[s->next++] : NULL;
    long delay = c->rec && c->rec->delay_ms >= 0 ? c->rec->delay_ms : (long)s->delay_ms;
    c->timer = s->h->timer_add(s->inst, delay, 0, answer, c);
    if (!c->timer) {
        c->used = false;
        return AT_ENOMEM;
    }
    return AT_OK;
}

/* The call's done runs at once, from inside cancel, with AT_ESTATE. */
static void cancel(void *ctx, const char *request_id)
{
    stub *s = ctx;
    for (size_t i = 0; i < MAX_CALLS; i++) {
        call *c = &s->calls[i];
        if (c->used && strcmp(c->id, request_id) == 0) {
            s->h->timer_cancel(c->timer);
            c->used = false;
            at_ai_reply r = {.err = AT_ESTATE, .error = "cancelled", .model = s->model};
            s->h->log(s->inst, AT_LOG_INFO, "ai stub: %s cancelled", request_id);
            c->done(c->arg, &r);
            return;
        }
    }
}

static const at_ai_ops ai_ops = {
    .struct_size = sizeof(at_ai_ops), .request = request, .cancel = cancel};

static int init(at_instance *inst, const at_host *h, void *ctx)
{
    stub *s = ctx;
    s->inst = inst;
    s->h = h;
    return s->answers_file ? load_answers(s) : AT_OK;
}

static void stop(void *ctx)
{
    stub *s = ctx;
    /* Calls in flight are answered, as the ABI promises. */
    for (size_t i = 0; i < MAX_CALLS; i++) {
        call *c = &s->calls[i];
        if (c->used) {
            s->h->timer_cancel(c->timer);
            c->used = false;
            at_ai_reply r = {.err = AT_ESTATE, .error = "stopped", .model = s->model};
            c->done(c->arg, &r);
        }
    }
}

static void destroy(void *ctx)
{
    stub *s = ctx;
    for (size_t i = 0; i < s->nrecs; i++) {
        record *r = &s->recs[i];
        free(r->content);
        free(r->error);
        free(r->refusal);
        free(r->finish);
        free(r->reasoning);
        free(r->model);
    }
    free(s->recs);
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_AI,
    .name = "stub",
    .version = "2.0.0",
    .description = "test AI provider: canned answers from a file, in order",
    .config = schema,
    .ctx_size = sizeof(stub),
    .init = init,
    .stop = stop,
    .destroy = destroy,
    .ops = &ai_ops,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

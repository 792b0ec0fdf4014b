/* ai_letta: an [ai.*] provider backed by a Letta server (reference
 * llm-news-indicators §3). Each trader has its own agent, whose core memory
 * holds the operator's files (memory_dir), the trader's system prompt and a
 * trade journal; a trader's call is one message to its agent, and the last
 * assistant_message's text goes back untouched (the trader validates it).
 * What became of a decision (at_ai_ops.feedback, ABI 1.6) is appended to
 * the agent's trade_journal block without a model step, so its next turn
 * knows how earlier trades ended. Retries, deadline, cost and metrics as
 * ai_openai (lib/ai_common). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lt_run.h"

/* ---------------------------------------------------------- at_ai_ops */

static void on_deadline(void *arg)
{
    lt_job *j = arg;
    j->limit = NULL;
    char text[700];
    int n = j->attempts + aic_xfer_attempts(j->xfer);
    const char *last = aic_xfer_last(j->xfer);
    if (j->a->running != j) {
        snprintf(text, sizeof(text),
                 "deadline passed while waiting for the agent's earlier requests (Letta takes one "
                 "at a time)");
    } else if (last[0]) {
        snprintf(text, sizeof(text), "deadline passed%s%s after %d attempt%s (last: %s)",
                 j->doing ? " " : "", j->doing ? j->doing : "", n, n == 1 ? "" : "s", last);
    } else {
        snprintf(text, sizeof(text), "deadline passed%s%s with attempt %d in flight",
                 j->doing ? " " : "", j->doing ? j->doing : "", n);
    }
    lt_job_fail(j, AT_ETIMEDOUT, text);
}

static int request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    lt_ctx *L = ctx;
    if (!L->running) {
        return AT_ESTATE;
    }
    if (!req || !done || !req->request_id || !req->user || !req->trader || !req->trader[0]) {
        return AT_EINVAL;
    }
    int64_t now = L->h->now_us() / 1000;
    if (req->deadline_ms > 0 && req->deadline_ms <= now) {
        return AT_ETIMEDOUT;
    }
    lt_agent *a = lt_agent_get(L, req->trader);
    lt_job *j = calloc(1, sizeof(*j));
    if (!a || !j) {
        free(j);
        return AT_ENOMEM;
    }
    j->a = a;
    j->kind = LT_JOB_MESSAGE;
    j->id = strdup(req->request_id);
    j->system = strdup(req->system ? req->system : "");
    j->user = strdup(req->user);
    j->done = done;
    j->arg = arg;
    j->start_us = L->h->now_us();
    j->deadline_ms = req->deadline_ms;
    int rc = j->id && j->system && j->user ? AT_OK : AT_ENOMEM;
    if (rc == AT_OK && j->deadline_ms > 0) {
        j->limit = L->h->timer_add(L->inst, j->deadline_ms - now, 0, on_deadline, j);
        rc = j->limit ? AT_OK : AT_ENOMEM;
    }
    if (rc == AT_OK) {
        rc = lt_agent_push(a, j);
        if (rc == AT_EAGAIN) {
            L->h->log(L->inst, AT_LOG_WARN, "%s: refused: the queue of %s is full (queue_max %lld)",
                      req->request_id, a->name, (long long)L->cfg.queue_max);
        }
    }
    if (rc != AT_OK) {
        lt_job_free(j);
        return rc; /* done is not called: request() failed */
    }
    L->h->metric_add(L->m.calls, 1);
    return AT_OK;
}

static void cancel(void *ctx, const char *request_id)
{
    lt_job *j = request_id ? lt_job_find(ctx, request_id) : NULL;
    if (j) {
        lt_job_fail(j, AT_ESTATE, "cancelled");
    }
}

/* "2026-12-07 10:04 UTC decision <id>: <text>", queued behind the agent's
 * messages; written without a model step. */
static void feedback(void *ctx, const at_ai_feedback *fb)
{
    lt_ctx *L = ctx;
    if (!L->running || !fb || !AT_STRUCT_HAS(fb->struct_size, at_ai_feedback, ts_ms) ||
        !fb->trader || !fb->trader[0] || !fb->text) {
        return;
    }
    lt_agent *a = lt_agent_get(L, fb->trader);
    lt_job *j = a ? calloc(1, sizeof(*j)) : NULL;
    if (!j) {
        L->h->log(L->inst, AT_LOG_WARN, "out of memory: an outcome of %s is not journaled",
                  fb->trader);
        return;
    }
    char when[32] = "?";
    time_t secs = (time_t)(fb->ts_ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm)) {
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
    }
    const char *dec = fb->decision_id ? fb->decision_id : "?";
    size_t n = strlen(when) + strlen(dec) + strlen(fb->text) + 32;
    j->a = a;
    j->kind = LT_JOB_FEEDBACK;
    j->id = strdup(dec);
    j->entry = malloc(n);
    if (!j->id || !j->entry) {
        lt_job_free(j);
        return;
    }
    snprintf(j->entry, n, "%s decision %s: %s", when, dec, fb->text);
    j->told = lt_journal_fold(j->entry + strlen(when) + 1);
    if (!j->told) {
        lt_job_free(j);
        return;
    }
    if (lt_agent_push(a, j) != AT_OK) {
        L->h->log(L->inst, AT_LOG_WARN,
                  "%s: outcome of %s dropped: the queue is full (queue_max %lld)", a->name, dec,
                  (long long)L->cfg.queue_max);
        lt_job_free(j);
    }
}

static const at_ai_ops ai_ops = {
    .struct_size = sizeof(at_ai_ops), .request = request, .cancel = cancel, .feedback = feedback};

/* ----------------------------------------------------------- lifecycle */

static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    return lt_check_config(&((const lt_ctx *)ctx)->cfg, key, why, whylen);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* memory_dir as written, else (relative) beside [core] sql_dir, as the
 * trader's prompts/ are found. */
static char *memory_dir(const lt_ctx *L)
{
    const char *d = L->cfg.memory_dir;
    if (d[0] == '/' || is_dir(d)) {
        return strdup(d);
    }
    const char *sql = L->h->core_get("sql_dir");
    size_t n = sql ? strlen(sql) : 0;
    while (n > 1 && sql[n - 1] == '/') {
        n--;
    }
    if (n >= 3 && strncmp(sql + n - 3, "sql", 3) == 0) {
        size_t len = n + strlen(d) + 2;
        char *p = malloc(len);
        if (p) {
            snprintf(p, len, "%.*s%s", (int)(n - 3), sql, d);
        }
        if (is_dir(p)) {
            return p;
        }
        free(p);
    }
    return strdup(d);
}

static int init(at_instance *inst, const at_host *h, void *ctx)
{
    lt_ctx *L = ctx;
    L->inst = inst;
    L->h = h;
    size_t n = strlen(L->cfg.base_url);
    while (n > 0 && L->cfg.base_url[n - 1] == '/') {
        n--;
    }
    L->root = strndup(L->cfg.base_url, n);
    L->memory_dir = memory_dir(L);
    if (!L->root || !L->memory_dir) {
        return AT_ENOMEM;
    }
    if (aic_bearer(L->cfg.api_key, L->root, inst, h, &L->auth) != AT_OK) {
        return AT_ENOMEM;
    }
    L->http = (aic_http){.timeout_ms = L->cfg.timeout_ms > 0 ? L->cfg.timeout_ms : LT_TIMEOUT_MS,
                         .max_retries = (int)L->cfg.max_retries,
                         .max_response = (size_t)L->cfg.max_response,
                         .proxy = L->cfg.proxy,
                         .secret = L->cfg.api_key};
    aic_http_init(&L->http, inst, h);
    aic_metrics_init(&L->m, inst, h);
    lt_file files[LT_MAX_FILES];
    size_t nfiles = 0;
    char why[512];
    lt_files_read(L->memory_dir, files, LT_MAX_FILES, &nfiles, why, sizeof(why));
    lt_files_clear(files, nfiles);
    h->log(inst, AT_LOG_INFO,
           "Letta at %s, model %s%s%s, agents %s<trader>, %zu memory file%s in %s%s (timeout "
           "%lld ms, retries %lld)",
           L->root, L->cfg.model, L->cfg.models.n ? " (routed per trader: " : "",
           L->cfg.models.n ? "models)" : "", L->cfg.agent_prefix, nfiles, nfiles == 1 ? "" : "s",
           L->memory_dir, is_dir(L->memory_dir) ? "" : " (no such directory)",
           (long long)L->http.timeout_ms, (long long)L->cfg.max_retries);
    return AT_OK;
}

static int start(void *ctx)
{
    ((lt_ctx *)ctx)->running = true;
    return AT_OK;
}

static void stop(void *ctx)
{
    lt_ctx *L = ctx;
    L->running = false;
    L->stopping = true;
    /* Every call in flight is answered, as the ABI promises. */
    lt_agents_stop(L);
}

static void destroy(void *ctx)
{
    lt_ctx *L = ctx;
    lt_agents_free(L);
    free(L->root);
    free(L->auth);
    free(L->memory_dir);
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_AI,
    .name = "letta",
    .version = "1.0.0",
    .description = "Letta agents with memory: one agent per trader, core memory from files, "
                   "outcomes of decisions written back",
    .config = lt_schema,
    .ctx_size = sizeof(lt_ctx),
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

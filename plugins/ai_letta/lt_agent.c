/* One Letta agent per trader and its queue of jobs, run one at a time:
 *
 *  - find the agent: the stored id (lt_store.c) checked with
 *    GET /v1/agents/{id}; else GET /v1/agents/?name=<prefix><trader>; else,
 *    for a message, POST /v1/agents/ with the memory files, the trader's
 *    system prompt and an empty trade_journal as read-only blocks (the id
 *    is stored);
 *  - a message: every block whose text changed since the server had it is
 *    PATCHed (…/core-memory/blocks/{label}), a new file's block is created
 *    (POST /v1/blocks/) and attached (…/blocks/attach/{id}); then
 *    POST /v1/agents/{id}/messages with the user prompt, and the last
 *    assistant_message is the answer;
 *  - a journal write (what became of a decision): trade_journal is read
 *    and PATCHed with the outcome appended, no model step.
 *
 * Each HTTP request is retried by the SDK's schedule (lib/ai_common)
 * within the job's deadline; a POST (a message, a new agent or block) only
 * when it cannot have reached the server (a second turn would run beside
 * the first, a second agent or block would be made). A message
 * given up (deadline, cancel, stop) is answered at once, but the agent's
 * next job waits for that request's end: Letta runs the turn anyway. An
 * agent deleted on the server (a 404 on any route under it, checked with
 * GET /v1/agents/{id}) is found or created again once per job. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_run.h"

static int64_t now_ms(const lt_ctx *L)
{
    return L->h->now_us() / 1000;
}

/* ------------------------------------------------------------ agents */

lt_agent *lt_agent_get(lt_ctx *L, const char *trader)
{
    for (lt_agent *a = L->agents; a; a = a->next) {
        if (strcmp(a->trader, trader) == 0) {
            return a;
        }
    }
    lt_agent *a = calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    a->L = L;
    snprintf(a->trader, sizeof(a->trader), "%s", trader);
    snprintf(a->name, sizeof(a->name), "%s%s", L->cfg.agent_prefix ? L->cfg.agent_prefix : "",
             trader);
    a->model = lt_model_for(&L->cfg, trader);
    a->next = L->agents;
    L->agents = a;
    return a;
}

static void known_clear(lt_agent *a)
{
    free(a->known);
    a->known = NULL;
    a->nknown = 0;
}

lt_known *lt_known_of(lt_agent *a, const char *label)
{
    for (size_t i = 0; i < a->nknown; i++) {
        if (strcmp(a->known[i].label, label) == 0) {
            return &a->known[i];
        }
    }
    return NULL;
}

void lt_known_set(lt_agent *a, const char *label, const char *value)
{
    lt_known *k = lt_known_of(a, label);
    if (!k) {
        lt_known *p = realloc(a->known, (a->nknown + 1) * sizeof(*p));
        if (!p) {
            return; /* synced again next time: harmless */
        }
        a->known = p;
        k = &a->known[a->nknown++];
        snprintf(k->label, sizeof(k->label), "%s", label);
    }
    k->hash = lt_hash(value);
}

/* The agent the server answered: its id and blocks, as this run knows them. */
static void adopt(lt_agent *a, lt_agent_info *info)
{
    snprintf(a->id, sizeof(a->id), "%s", info->id);
    free(a->server_model);
    a->server_model = info->model;
    info->model = NULL;
    known_clear(a);
    for (size_t i = 0; i < info->nblocks; i++) {
        if (lt_label_ok(info->blocks[i].label)) {
            lt_known_set(a, info->blocks[i].label, info->blocks[i].value);
        }
    }
    a->verified = true;
    if (a->server_model && strcmp(a->server_model, a->model) != 0) {
        a->L->h->log(a->L->inst, AT_LOG_WARN,
                     "%s (%s) runs %s, not the configured %s: an agent keeps its model (delete "
                     "it on the server to have it created with %s)",
                     a->name, a->id, a->server_model, a->model, a->model);
    }
}

/* An AgentState answer adopted (true), or the step failed with why (false). */
static bool adopt_answer(lt_job *j, const aic_res *res)
{
    lt_agent_info info;
    char why[300] = "";
    if (lt_parse_agent(res->body, res->len, &info, why, sizeof(why)) != AT_OK ||
        !lt_id_ok(info.id)) {
        lt_agent_info_clear(&info);
        lt_step_fail(j, AT_EIO, why[0] ? why : "the agent's id is malformed");
        return false;
    }
    adopt(j->a, &info);
    lt_agent_info_clear(&info);
    return true;
}

void lt_forget(lt_agent *a)
{
    a->id[0] = '\0';
    a->verified = false;
    known_clear(a);
}

/* ------------------------------------------------------------ jobs */

void lt_job_free(lt_job *j)
{
    if (!j) {
        return;
    }
    j->a->L->h->timer_cancel(j->limit);
    aic_xfer_cancel(j->xfer);
    lt_files_clear(j->files, j->nfiles);
    free(j->id);
    free(j->system);
    free(j->user);
    free(j->entry);
    free(j->told);
    free(j->new_label);
    free(j->new_value);
    free(j->error404);
    free(j);
}

static void on_kick(void *arg)
{
    lt_agent *a = arg;
    a->kick = NULL;
    if (a->running || a->orphan || !a->head || a->L->stopping) {
        return;
    }
    lt_job *j = a->head;
    a->head = j->next;
    if (!a->head) {
        a->tail = NULL;
    }
    a->queued--;
    j->next = NULL;
    a->running = j;
    if (j->kind == LT_JOB_FEEDBACK) {
        j->deadline_ms = now_ms(a->L) + LT_FEEDBACK_DEADLINE_MS;
    }
    lt_job_run(j);
}

/* The next job starts from the loop, never from inside lt_request(). */
static void kick(lt_agent *a)
{
    if (!a->kick && a->head && !a->running && !a->orphan) {
        a->kick = a->L->h->timer_add(a->L->inst, 0, 0, on_kick, a);
    }
}

int lt_agent_push(lt_agent *a, lt_job *j)
{
    if (a->queued >= (size_t)a->L->cfg.queue_max) {
        return AT_EAGAIN;
    }
    j->a = a;
    j->next = NULL;
    if (a->tail) {
        a->tail->next = j;
    } else {
        a->head = j;
    }
    a->tail = j;
    a->queued++;
    kick(a);
    return AT_OK;
}

lt_job *lt_job_find(lt_ctx *L, const char *request_id)
{
    /* one whose done is NULL is being answered (a done that cancels itself) */
    for (lt_agent *a = L->agents; a; a = a->next) {
        if (a->running && a->running->kind == LT_JOB_MESSAGE && a->running->done &&
            strcmp(a->running->id, request_id) == 0) {
            return a->running;
        }
        for (lt_job *j = a->head; j; j = j->next) {
            if (j->kind == LT_JOB_MESSAGE && j->done && strcmp(j->id, request_id) == 0) {
                return j;
            }
        }
    }
    return NULL;
}

/* The given-up request ended: the agent takes its next job. */
static void on_orphan_end(void *arg, const aic_res *res)
{
    lt_agent *a = arg;
    a->orphan = NULL;
    a->L->h->log(a->L->inst, AT_LOG_DEBUG, "%s: the request given up ended (%s)", a->name,
                 res->err == AT_OK ? "answered"
                 : res->error      ? res->error
                                   : "failed");
    kick(a);
}

/* Out of the queue (or off the agent), freed, and the queue moves on. */
void lt_job_end(lt_job *j)
{
    lt_agent *a = j->a;
    if (a->running == j) {
        a->running = NULL;
        /* its request still in flight keeps the agent busy until it ends */
        if (j->xfer && aic_xfer_orphan(j->xfer, on_orphan_end, a)) {
            a->orphan = j->xfer;
        }
        j->xfer = NULL;
    } else {
        lt_job *prev = NULL;
        for (lt_job *x = a->head; x; prev = x, x = x->next) {
            if (x == j) {
                if (prev) {
                    prev->next = j->next;
                } else {
                    a->head = j->next;
                }
                if (a->tail == j) {
                    a->tail = prev;
                }
                a->queued--;
                break;
            }
        }
    }
    lt_job_free(j);
    kick(a);
}

static int attempts_of(const lt_job *j)
{
    return j->attempts + aic_xfer_attempts(j->xfer);
}

/* A message answered (r->err says how); the job ends. */
void lt_job_answer(lt_job *j, at_ai_reply *r)
{
    lt_agent *a = j->a;
    lt_ctx *L = a->L;
    int attempts = attempts_of(j);
    r->latency_ms = (L->h->now_us() - j->start_us) / 1000;
    r->attempts = attempts;
    if (!r->model) {
        r->model = a->server_model ? a->server_model : a->model;
    }
    aic_metrics_answer(&L->m, L->h, r, attempts);
    if (r->err == AT_OK) {
        L->h->log(L->inst, AT_LOG_DEBUG,
                  "%s: %s answered in %lld ms (%d attempt%s, %lld+%lld tokens, stop %s)", j->id,
                  a->name, (long long)r->latency_ms, attempts, attempts == 1 ? "" : "s",
                  (long long)r->tokens_in, (long long)r->tokens_out,
                  r->finish_reason ? r->finish_reason : "-");
    } else if (r->err != AT_ESTATE) {
        L->h->log(L->inst, AT_LOG_WARN, "%s: no answer from %s after %d attempt%s in %lld ms: %s",
                  j->id, a->name, attempts, attempts == 1 ? "" : "s", (long long)r->latency_ms,
                  r->error);
    }
    at_ai_done_cb done = j->done;
    void *arg = j->arg;
    j->done = NULL;
    if (done) {
        done(arg, r);
    }
    lt_job_end(j);
}

void lt_job_fail(lt_job *j, int err, const char *text)
{
    if (j->kind == LT_JOB_FEEDBACK) {
        j->a->L->h->log(j->a->L->inst, AT_LOG_WARN, "%s: outcome of %s not written to %s: %s",
                        j->a->name, j->id, LT_LABEL_JOURNAL, text);
        lt_job_end(j);
        return;
    }
    at_ai_reply r = {.err = err, .error = text};
    lt_job_answer(j, &r);
}

/* A step's request failed for good: the job ends saying which step. */
void lt_step_fail(lt_job *j, int err, const char *what)
{
    char text[900];
    snprintf(text, sizeof(text), "%s: %s", j->doing, what);
    lt_job_fail(j, err, text);
}

/* ------------------------------------------------------------ requests */

static void on_res(void *arg, const aic_res *res)
{
    lt_job *j = arg;
    j->xfer = NULL;
    j->attempts += res->attempts;
    j->step(j, res);
}

/* One request of the job: `path` under base_url, `body` (may be NULL). */
void lt_request(lt_job *j, const char *doing, const char *method, const char *path,
                const char *body, lt_step_cb next)
{
    lt_ctx *L = j->a->L;
    j->doing = doing;
    char *url = malloc(strlen(L->root) + strlen(path) + 1);
    if (!url) {
        lt_step_fail(j, AT_ENOMEM, "out of memory");
        return;
    }
    strcpy(url, L->root);
    strcat(url, path);
    j->step = next;
    const char *headers[3] = {"Accept: application/json", "Content-Type: application/json",
                              L->auth};
    /* Every POST makes something: a turn of the agent, an agent, a block.
     * Sent twice, it would be made twice (GET, PATCH: the same once). */
    bool makes = strcmp(method, "POST") == 0;
    aic_req rq = {.label = j->id,
                  .method = method,
                  .url = url,
                  .headers = headers,
                  .nheaders = L->auth ? 3 : 2,
                  .body = body,
                  .deadline_ms = j->deadline_ms,
                  .idempotent = !makes};
    int rc = aic_xfer_start(&L->http, &rq, on_res, j, &j->xfer);
    free(url);
    if (rc != AT_OK) {
        lt_step_fail(j, rc,
                     rc == AT_ETIMEDOUT ? "the deadline passed"
                                        : "the HTTP client refused the request");
    }
}

bool lt_gone(const aic_res *res)
{
    /* 404: deleted; 422: an id the server does not take */
    return res->err != AT_OK && (res->status == 404 || res->status == 422);
}

/* The agent went away mid-job: found (or created) again and the job
 * started over, once. */
static void restart(lt_job *j, const char *error)
{
    lt_agent *a = j->a;
    if (j->restarted) {
        lt_step_fail(j, AT_EIO, error);
        return;
    }
    a->L->h->log(a->L->inst, AT_LOG_WARN, "%s: agent %s is gone (%s): found again", a->name, a->id,
                 error);
    j->restarted = true;
    lt_forget(a);
    j->sync_next = 0;
    free(j->new_label);
    free(j->new_value);
    j->new_label = j->new_value = NULL;
    lt_job_run(j);
}

static void on_verified(lt_job *j, const aic_res *res)
{
    char *error = j->error404;
    lt_there_cb there = j->there;
    j->error404 = NULL;
    j->there = NULL;
    if (lt_gone(res)) {
        j->doing = j->doing404;
        restart(j, error ? error : res->error);
    } else if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
    } else {
        j->doing = j->doing404;
        there(j, error ? error : "HTTP 404");
    }
    free(error);
}

void lt_check_gone(lt_job *j, const aic_res *res, lt_there_cb there)
{
    free(j->error404);
    j->error404 = strdup(res->error ? res->error : "HTTP 404");
    j->doing404 = j->doing;
    j->there = there;
    char path[LT_ID_MAX + 16];
    snprintf(path, sizeof(path), "/v1/agents/%s", j->a->id);
    lt_request(j, "checking the agent", "GET", path, NULL, on_verified);
}

/* ------------------------------------------------------------ finding */

static void on_created(lt_job *j, const aic_res *res);

static void create(lt_job *j);

static void on_listed(lt_job *j, const aic_res *res)
{
    lt_agent *a = j->a;
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    lt_agent_info info;
    char why[300] = "";
    int rc = lt_parse_agent_list(res->body, res->len, a->name, &info, why, sizeof(why));
    if (rc == AT_ENOENT) {
        if (j->kind == LT_JOB_MESSAGE) {
            create(j);
        } else {
            lt_job_fail(j, AT_ENOENT, "the trader has no agent yet");
        }
        return;
    }
    if (rc != AT_OK || !lt_id_ok(info.id)) {
        lt_agent_info_clear(&info);
        lt_step_fail(j, AT_EIO, rc != AT_OK ? why : "the agent's id is malformed");
        return;
    }
    adopt(a, &info);
    lt_agent_info_clear(&info);
    a->L->h->log(a->L->inst, AT_LOG_INFO, "%s: agent %s found by name", a->name, a->id);
    lt_store_write(a);
    lt_job_run(j);
}

static void find_by_name(lt_job *j)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/agents/?name=%s", j->a->name); /* name_ok: no escaping */
    lt_request(j, "finding the agent", "GET", path, NULL, on_listed);
}

static void on_checked(lt_job *j, const aic_res *res)
{
    lt_agent *a = j->a;
    if (lt_gone(res)) {
        a->L->h->log(a->L->inst, AT_LOG_WARN, "%s: agent %s is gone (%s): looked up by name",
                     a->name, a->id, res->error);
        lt_forget(a);
        find_by_name(j);
        return;
    }
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    if (!adopt_answer(j, res)) {
        return;
    }
    lt_job_run(j);
}

static void after_store(lt_agent *a)
{
    if (a->running) {
        lt_job_run(a->running);
    }
}

static void create(lt_job *j)
{
    lt_agent *a = j->a;
    lt_ctx *L = a->L;
    lt_read_files(j);
    lt_block blocks[LT_MAX_FILES + 2];
    size_t n = 0;
    for (size_t i = 0; i < j->nfiles; i++) {
        if (lt_file_usable(j, &j->files[i])) {
            blocks[n++] = (lt_block){j->files[i].label, j->files[i].value, L->cfg.block_limit,
                                     "the operator's file, kept in sync by aitrader"};
        }
    }
    const char *sys = j->system ? j->system : "";
    blocks[n++] = (lt_block){LT_LABEL_SYSTEM, sys, lt_system_limit(L, sys),
                             "the trader's instructions and answer format (aitrader)"};
    blocks[n++] = (lt_block){LT_LABEL_JOURNAL, LT_JOURNAL_EMPTY, L->cfg.journal_limit,
                             "what became of your decisions, newest last (aitrader)"};
    char *body = lt_body_agent(a->name, a->model, L->cfg.embedding, a->trader, blocks, n);
    if (!body) {
        lt_step_fail(j, AT_EINVAL, "cannot build the agent (no memory, or a text not UTF-8)");
        return;
    }
    j->doing = "creating the agent";
    lt_request(j, "creating the agent", "POST", "/v1/agents/", body, on_created);
    free(body);
}

static void on_created(lt_job *j, const aic_res *res)
{
    lt_agent *a = j->a;
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    if (!adopt_answer(j, res)) {
        return;
    }
    /* what was sent is what it has, whatever the answer listed */
    for (size_t i = 0; i < j->nfiles; i++) {
        if (lt_file_usable(j, &j->files[i])) {
            lt_known_set(a, j->files[i].label, j->files[i].value);
        }
    }
    lt_known_set(a, LT_LABEL_SYSTEM, j->system ? j->system : "");
    lt_known_set(a, LT_LABEL_JOURNAL, LT_JOURNAL_EMPTY);
    a->L->h->log(a->L->inst, AT_LOG_INFO, "%s: agent %s created (model %s, %zu memory file%s)",
                 a->name, a->id, a->model, j->nfiles, j->nfiles == 1 ? "" : "s");
    lt_store_write(a);
    lt_job_run(j);
}

/* ------------------------------------------------------------ the steps */

void lt_job_run(lt_job *j)
{
    lt_agent *a = j->a;
    if (a->stored == 0) {
        lt_store_read(a, after_store);
        return;
    }
    if (a->stored == 1) {
        return; /* after_store runs the job */
    }
    if (!a->verified) {
        if (a->id[0]) {
            char path[LT_ID_MAX + 16];
            snprintf(path, sizeof(path), "/v1/agents/%s", a->id);
            lt_request(j, "checking the stored agent", "GET", path, NULL, on_checked);
        } else {
            find_by_name(j);
        }
        return;
    }
    if (j->kind == LT_JOB_FEEDBACK) {
        lt_journal_write(j);
        return;
    }
    lt_read_files(j);
    lt_sync_next(j);
}

/* ------------------------------------------------------------ the end */

void lt_agents_stop(lt_ctx *L)
{
    for (lt_agent *a = L->agents; a; a = a->next) {
        a->L->h->timer_cancel(a->kick);
        a->kick = NULL;
        size_t dropped = 0;
        while (a->running || a->head) {
            lt_job *j = a->running ? a->running : a->head;
            if (j->kind == LT_JOB_MESSAGE) {
                lt_job_fail(j, AT_ESTATE, "stopped");
            } else {
                dropped++;
                lt_job_end(j);
            }
            a->L->h->timer_cancel(a->kick);
            a->kick = NULL;
        }
        if (dropped) {
            L->h->log(L->inst, AT_LOG_WARN, "%s: %zu outcome%s not written to %s: stopping",
                      a->name, dropped, dropped == 1 ? "" : "s", LT_LABEL_JOURNAL);
        }
    }
}

void lt_agents_free(lt_ctx *L)
{
    while (L->agents) {
        lt_agent *a = L->agents;
        L->agents = a->next;
        while (a->head) {
            lt_job *j = a->head;
            a->head = j->next;
            lt_job_free(j);
        }
        lt_job_free(a->running);
        aic_xfer_cancel(a->orphan);
        L->h->timer_cancel(a->kick);
        known_clear(a);
        free(a->server_model);
        free(a);
    }
    free(L->said);
    L->said = NULL;
    L->nsaid = 0;
}

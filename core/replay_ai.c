/* The AI of a replay: every request is answered with the recorded answer of
 * the same prompt, at the time it came; a prompt never recorded stops the
 * run with the first line where it differs from the one recorded for that
 * trigger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "replay_internal.h"
#include "trading/session.h"
#include "util.h"

static void push(replay *r, const rp_pending *p)
{
    if (r->npend == r->cap_pend) {
        size_t cap = r->cap_pend ? r->cap_pend * 2 : 8;
        rp_pending *np = realloc(r->pend, cap * sizeof(*np));
        if (!np) {
            rp_failed(r, "out of memory holding an AI answer");
            return;
        }
        r->pend = np;
        r->cap_pend = cap;
    }
    r->pend[r->npend++] = *p;
}

/* Where two texts part: line number and both lines (cut to 160). */
static void first_diff(const char *a, const char *b, char *out, size_t len)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    snprintf(out, len, "line %zu:\n  recorded: %.*s\n  replay:   %.*s", line, na > 160 ? 160 : na,
             la, nb > 160 ? 160 : nb, lb);
}

static bool same_call(const json_t *l, const char *id, int retry)
{
    return strcmp(rp_str(l, "k"), "ai") == 0 && strcmp(rp_str(l, "id"), id) == 0 &&
           rp_int(l, "retry") == retry;
}

static void explain_miss(replay *r, const at_ai_request *req, const char *id)
{
    for (size_t i = 0; i < r->n; i++) {
        const json_t *l = r->lines[i];
        if (!same_call(l, id, req->retry)) {
            continue;
        }
        static const char *const parts[3] = {"system", "user", "schema"};
        const char *now[3] = {req->system ? req->system : "", req->user ? req->user : "",
                              req->json_schema ? req->json_schema : ""};
        for (int k = 0; k < 3; k++) {
            const char *was = rp_str(l, parts[k]);
            if (strcmp(was, now[k]) != 0) {
                char where[512];
                first_diff(was, now[k], where, sizeof(where));
                rp_missed(r, "trigger %s (attempt %d): the %s prompt differs at %s", id,
                          req->retry + 1, parts[k], where);
                return;
            }
        }
        rp_missed(r,
                  "trigger %s (attempt %d): the prompt is the recorded one but its answer was "
                  "used already",
                  id, req->retry + 1);
        return;
    }
    rp_missed(r, "trigger %s (attempt %d): no AI call was recorded for it", id, req->retry + 1);
}

/* Whether the session holds an AI call or a decision of that trigger. */
static bool recorded_call(const replay *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++) {
        const char *k = rp_str(r->lines[i], "k");
        if ((strcmp(k, "ai") == 0 || strcmp(k, "decision") == 0) &&
            strcmp(rp_str(r->lines[i], "id"), id) == 0) {
            return true;
        }
    }
    return false;
}

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    replay *r = ctx;
    char hash[65];
    session_prompt_hash(req, hash);
    rp_pending p = {.at_us = clock_now_us(), .done = done, .arg = arg};
    snprintf(p.id, sizeof(p.id), "%s", req->request_id ? req->request_id : "");
    for (size_t i = 0; i < r->n; i++) {
        const json_t *l = r->lines[i];
        if (r->used[i] || !same_call(l, p.id, req->retry) || strcmp(rp_str(l, "hash"), hash)) {
            continue;
        }
        r->used[i] = true;
        if (json_is_integer(json_object_get(l, "refused"))) {
            return (int)rp_int(l, "refused"); /* the provider refused it at once, live */
        }
        int64_t t = rp_int(l, "t");
        p.at_us = t > p.at_us ? t : p.at_us;
        p.reply = json_object_get(l, "reply");
        push(r, &p);
        return AT_OK;
    }
    if (!recorded_call(r, p.id)) {
        /* Live, this call was still out when the engine began to stop (its
         * answer came after the session's end, or never): it stays out. */
        push(r, &p);
        return AT_OK;
    }
    explain_miss(r, req, p.id);
    push(r, &p); /* its error answer is never delivered: the run stops */
    return AT_OK;
}

void rp_deliver(const rp_pending *p)
{
    const json_t *j = p->reply;
    at_ai_reply rep = {.err = AT_EIO, .error = "replay: no recorded answer for this prompt"};
    if (j) {
        rep = (at_ai_reply){
            .err = (int)rp_int(j, "err"),
            .error = json_string_value(json_object_get(j, "error")),
            .content = json_string_value(json_object_get(j, "content")),
            .reasoning = json_string_value(json_object_get(j, "reasoning")),
            .refusal = json_string_value(json_object_get(j, "refusal")),
            .model = json_string_value(json_object_get(j, "model")),
            .finish_reason = json_string_value(json_object_get(j, "finish_reason")),
            .tokens_in = rp_int(j, "tokens_in"),
            .tokens_out = rp_int(j, "tokens_out"),
            .cost_usd = json_number_value(json_object_get(j, "cost_usd")),
            .latency_ms = rp_int(j, "latency_ms"),
            .attempts = (int)rp_int(j, "attempts"),
        };
    }
    p->done(p->arg, &rep);
}

/* The trader cancels a call at its deadline: live, the provider answered
 * that (its recorded answer says so); here the answer is delivered now. */
static void ai_cancel(void *ctx, const char *request_id)
{
    replay *r = ctx;
    for (size_t i = 0; i < r->npend; i++) {
        if (strcmp(r->pend[i].id, request_id) == 0) {
            rp_pending p = r->pend[i];
            memmove(&r->pend[i], &r->pend[i + 1], (r->npend - i - 1) * sizeof(p));
            r->npend--;
            if (p.reply && rp_int(p.reply, "err") != AT_ESTATE && !r->ending) {
                rp_diverged(r,
                            "trigger %s: its AI call was cancelled at its deadline; live, the "
                            "answer came first",
                            request_id);
            }
            rp_deliver(&p);
            return;
        }
    }
}

int64_t replay_ask_at(void *arg, const char *key)
{
    const replay *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        if (same_call(r->lines[i], key, 0)) {
            /* when its prompt read the market; older recordings: the send */
            const json_t *at = json_object_get(r->lines[i], "prompt_at");
            return at ? json_integer_value(at) : rp_int(r->lines[i], "asked");
        }
    }
    return 0;
}

int64_t replay_submit_at(void *arg, const char *intent_id)
{
    const replay *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        const json_t *l = r->lines[i];
        if (strcmp(rp_str(l, "k"), "result") == 0 && strcmp(rp_str(l, "intent"), intent_id) == 0) {
            return rp_int(l, "sent");
        }
    }
    return 0;
}

int64_t replay_subscribed_at(void *arg, const char *instance, int type)
{
    const replay *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        const json_t *l = r->lines[i];
        if (strcmp(rp_str(l, "k"), "subscribe") == 0 && rp_int(l, "type") == type &&
            strcmp(rp_str(l, "instance"), instance) == 0) {
            return rp_int(l, "t");
        }
    }
    return 0;
}

static const at_ai_ops AI_OPS = {
    .struct_size = sizeof(at_ai_ops), .request = ai_request, .cancel = ai_cancel};

const at_ai_ops *replay_ai_ops(void)
{
    return &AI_OPS;
}

void *replay_ai_ctx(replay *r)
{
    return r;
}

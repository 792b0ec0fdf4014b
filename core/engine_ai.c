/* host->ai_request / ai_cancel (ABI 1.7): a plugin asks an [ai.*] instance
 * something other than a trader's decision (a news item's score). The
 * engine keeps each call so that a caller that cancelled — or stopped — is
 * never called back: a provider's late answer to it is dropped here. The
 * order gate is not involved: an answer is text for the caller, never an
 * order. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "log.h"

typedef struct ai_call {
    int64_t id;
    at_instance *provider;
    at_ai_done_cb done;
    void *arg;
    bool cancelled;
    char request_id[256];
    struct ai_call *next;
} ai_call;

static ai_call *calls;
static int64_t last_id;

static void unlink_call(ai_call *c)
{
    for (ai_call **p = &calls; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

static void on_reply(void *arg, const at_ai_reply *reply)
{
    ai_call *c = arg;
    unlink_call(c);
    if (!c->cancelled) {
        c->done(c->arg, reply);
    }
    free(c);
}

static at_instance *ai_instance(engine *e, const char *name)
{
    for (at_instance *in = e ? e->instances : NULL; in; in = in->next) {
        if (in->lp.plugin && in->lp.plugin->kind == AT_KIND_AI && strcmp(in->name, name) == 0) {
            return in;
        }
    }
    return NULL;
}

int64_t engine_ai_request(at_instance *caller, const char *ai, const struct at_ai_request *req,
                          void (*done)(void *arg, const struct at_ai_reply *reply), void *arg)
{
    if (!ai || !req || !done || !req->request_id || !req->user) {
        return AT_EINVAL;
    }
    engine *e = engine_current();
    if (engine_offline()) {
        return AT_ESTATE; /* a replay asks no AI: what it answered is in the recording */
    }
    at_instance *p = ai_instance(e, ai);
    if (!p) {
        return AT_ENOENT;
    }
    const at_ai_ops *ops = p->lp.plugin->ops;
    if (!p->started || !ops || !ops->request) {
        return AT_ESTATE;
    }
    ai_call *c = calloc(1, sizeof(*c));
    if (!c) {
        return AT_ENOMEM;
    }
    c->id = ++last_id;
    c->provider = p;
    c->done = done;
    c->arg = arg;
    at_ai_request r = *req;
    if (!r.trader) {
        r.trader = caller ? caller->name : "core";
    }
    /* unique at the provider (its cancel finds a call by it): two callers may
     * use the same id of their own */
    snprintf(c->request_id, sizeof(c->request_id), "%s/%" PRId64 "/%s",
             caller ? caller->name : "core", c->id, req->request_id);
    r.request_id = c->request_id;
    c->next = calls;
    calls = c;
    int rc = ops->request(p->ctx, &r, on_reply, c);
    if (rc != AT_OK) {
        unlink_call(c);
        free(c);
        return rc < 0 ? rc : AT_EIO;
    }
    return c->id;
}

void engine_ai_cancel(int64_t id)
{
    for (ai_call *c = calls; c; c = c->next) {
        if (c->id == id && !c->cancelled) {
            c->cancelled = true;
            const at_ai_ops *ops = c->provider->lp.plugin->ops;
            if (c->provider->started && AT_STRUCT_HAS(ops->struct_size, at_ai_ops, cancel) &&
                ops->cancel) {
                ops->cancel(c->provider->ctx, c->request_id); /* its reply frees c */
            }
            return;
        }
    }
}

void engine_ai_cancel_all(void)
{
    for (ai_call *c = calls; c; c = c->next) {
        c->cancelled = true; /* the providers' stop answers them: dropped here */
    }
}

/* ai_stub: an [ai.*] instance for tests of what stands around the AI (the
 * scheduler of a [trader.*] needs one to exist). It calls no model: it counts
 * and logs the TRIGGER events it sees and answers each at once with a valid
 * "hold everything" DECISION carrying the trigger's key and a cost of
 * 0.25 USD, as a provider would. Never installed; lives in build/test-plugins. */
#include <stdio.h>

#include <aitrader/plugin.h>

typedef struct stub {
    at_instance *inst;
    const at_host *h;
    int sub;
    unsigned triggers;
    /* the one call in flight through the ops (answered on a 0 ms timer) */
    at_ai_done_cb done;
    void *done_arg;
    at_timer *answer;
} stub;

static void on_trigger(void *arg, const at_event *e)
{
    stub *s = arg;
    const at_ev_trigger *t = (const at_ev_trigger *)e;
    s->triggers++;
    s->h->log(s->inst, AT_LOG_INFO, "ai stub saw trigger %u: %s %s", s->triggers, t->trader,
              t->key);
    at_ev_decision *d = (at_ev_decision *)s->h->event_new(s->inst, AT_EV_DECISION, 0);
    if (!d) {
        return;
    }
    snprintf(d->decision_id, sizeof(d->decision_id), "stub-%.42s", t->key);
    snprintf(d->trader, sizeof(d->trader), "%s", t->trader);
    snprintf(d->provider, sizeof(d->provider), "ai.stub");
    snprintf(d->trigger_key, sizeof(d->trigger_key), "%s", t->key);
    d->valid = true;
    d->cost_usd = 0.25;
    s->h->publish(s->inst, &d->h, 0);
}

static void answer_now(void *arg)
{
    stub *s = arg;
    at_ai_done_cb done = s->done;
    s->done = NULL;
    at_ai_reply r = {.err = AT_OK,
                     .content = "{\"decisions\": []}",
                     .model = "stub",
                     .finish_reason = "stop",
                     .tokens_in = 100,
                     .tokens_out = 10,
                     .cost_usd = 0.25,
                     .attempts = 1};
    done(s->done_arg, &r);
}

/* at_ai_ops.request: a valid "hold everything" answer, on the next loop turn. */
static int request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    stub *s = ctx;
    (void)req;
    if (s->done) {
        return AT_EAGAIN; /* one call at a time */
    }
    s->done = done;
    s->done_arg = arg;
    s->answer = s->h->timer_add(s->inst, 0, 0, answer_now, s);
    if (!s->answer) {
        s->done = NULL;
        return AT_ENOMEM;
    }
    return AT_OK;
}

static const at_ai_ops ai_ops = {.struct_size = sizeof(at_ai_ops), .request = request};

static int init(at_instance *inst, const at_host *h, void *ctx)
{
    stub *s = ctx;
    s->inst = inst;
    s->h = h;
    return AT_OK;
}

static int start(void *ctx)
{
    stub *s = ctx;
    s->sub = s->h->subscribe(s->inst, AT_EV_TRIGGER, on_trigger, s);
    return s->sub > 0 ? AT_OK : AT_ENOMEM;
}

static void stop(void *ctx)
{
    stub *s = ctx;
    s->h->unsubscribe(s->inst, s->sub);
    if (s->done) { /* a call in flight is answered, as the ABI promises */
        s->h->timer_cancel(s->answer);
        at_ai_done_cb done = s->done;
        s->done = NULL;
        at_ai_reply r = {.err = AT_ESTATE, .error = "stopped"};
        done(s->done_arg, &r);
    }
}

static void destroy(void *ctx)
{
    (void)ctx;
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_AI,
    .name = "stub",
    .version = "1.0.0",
    .description = "test AI instance: counts and logs TRIGGER events, calls no model",
    .ctx_size = sizeof(stub),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &ai_ops,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

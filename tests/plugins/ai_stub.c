/* ai_stub: an [ai.*] instance for tests of what stands around the AI (the
 * scheduler of a [trader.*] needs one to exist). It calls no model: until the
 * AI providers land it only counts the TRIGGER events it sees, and logs them.
 * Never installed; lives in build/test-plugins. */
#include <stdio.h>

#include <aitrader/plugin.h>

typedef struct stub {
    at_instance *inst;
    const at_host *h;
    int sub;
    unsigned triggers;
} stub;

static void on_trigger(void *arg, const at_event *e)
{
    stub *s = arg;
    const at_ev_trigger *t = (const at_ev_trigger *)e;
    s->triggers++;
    s->h->log(s->inst, AT_LOG_INFO, "ai stub saw trigger %u: %s %s", s->triggers, t->trader,
              t->key);
}

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
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

// A plugin written in C++: the SDK headers compile as C++20 (extern "C",
// designated initialisers in declaration order after AT_PLUGIN_HEADER), and
// the engine loads the result like any other plugin.
#include <cstddef>
#include <cstdint>

#include <aitrader/plugin.h>

namespace {

struct cxx_ctx {
    at_instance *inst;
    const at_host *host;
    const char *word;
};

const at_cfg_field schema[] = {
    {"word", AT_CFG_STR, "hi", 0, offsetof(cxx_ctx, word), 0, 0, nullptr, "logged at start"},
    {},
};

int init(at_instance *inst, const at_host *host, void *ctx)
{
    auto *c = static_cast<cxx_ctx *>(ctx);
    c->inst = inst;
    c->host = host;
    return AT_OK;
}

int start(void *ctx)
{
    auto *c = static_cast<cxx_ctx *>(ctx);
    c->host->log(c->inst, AT_LOG_INFO, "cxx plugin says %s", c->word);
    return AT_OK;
}

void destroy(void *) {}

const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "cxx",
    .version = "1.0.0",
    .description = "test plugin written in C++20",
    .config = schema,
    .ctx_size = sizeof(cxx_ctx),
    .init = init,
    .start = start,
    .destroy = destroy,
};

} // namespace

extern "C" AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

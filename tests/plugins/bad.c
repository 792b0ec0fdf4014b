/* One source, several broken plugins (selected by a define) that the loader
 * must refuse with a clear reason. */
#include <aitrader/plugin.h>

/* Overriding AT_PLUGIN_HEADER fields is the point of these plugins. */
#pragma GCC diagnostic ignored "-Woverride-init"

struct ctx {
    int unused;
};

__attribute__((unused)) static int init(at_instance *inst, const at_host *host, void *ctx)
{
    return AT_OK;
}

__attribute__((unused)) static void destroy(void *ctx) {}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
#if defined(BAD_MAJOR)
    .abi_major = AT_ABI_MAJOR + 98,
#elif defined(BAD_MINOR)
    .abi_minor = AT_ABI_MINOR + 1,
#elif defined(BAD_SMALLSTRUCT)
    .struct_size = 16,
#endif
#if defined(BAD_STORAGE_NOOPS)
    .kind = AT_KIND_STORAGE,
    .name = "noops",
#elif defined(BAD_WRONGKIND)
    /* Installed as exchange_wrongkind.so but declares itself a source. */
    .kind = AT_KIND_SOURCE,
    .name = "wrongkind",
#else
    .kind = AT_KIND_SOURCE,
    .name = "bad",
#endif
    .version = "0.0.1",
    .description = "deliberately broken test plugin",
    .ctx_size = sizeof(struct ctx),
#if !defined(BAD_NOINIT)
    .init = init,
#endif
#if !defined(BAD_NODESTROY)
    .destroy = destroy,
#endif
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

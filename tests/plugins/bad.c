/* One source, several broken plugins (selected by a define) that the loader
 * must refuse with a clear reason. */
#include <aitrader/plugin.h>

/* Overriding AT_PLUGIN_HEADER fields is the point of these plugins. */
#pragma GCC diagnostic ignored "-Woverride-init"

struct ctx {
    int unused;
    int64_t n;
};

#if defined(BAD_OFFSET) || defined(BAD_MISALIGNED) || defined(BAD_DUPKEY)
static const at_cfg_field schema[] = {
#if defined(BAD_OFFSET)
    /* Written past the end of the context the engine allocates. */
    {"n", AT_CFG_INT, "1", 0, sizeof(struct ctx), 0, 0, NULL, "outside ctx"},
#elif defined(BAD_MISALIGNED)
    {"n", AT_CFG_INT, "1", 0, offsetof(struct ctx, n) - 4, 0, 0, NULL, "misaligned"},
#else
    {"n", AT_CFG_INT, "1", 0, offsetof(struct ctx, n), 0, 0, NULL, "first"},
    {"n", AT_CFG_INT, "2", 0, offsetof(struct ctx, n), 0, 0, NULL, "again"},
#endif
    {0},
};
#endif

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
#elif defined(BAD_RESERVED)
    .reserved = {NULL, (void *)1},
#endif
#if defined(BAD_OFFSET) || defined(BAD_MISALIGNED) || defined(BAD_DUPKEY)
    .config = schema,
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

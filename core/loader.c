#include "loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const char *kind_names[] = {
    [AT_KIND_STORAGE] = "storage", [AT_KIND_EXCHANGE] = "exchange",
    [AT_KIND_SOURCE] = "source",   [AT_KIND_INDICATOR] = "indicator",
    [AT_KIND_RISK] = "risk",       [AT_KIND_AI] = "ai",
    [AT_KIND_UI] = "ui",
};
#define NKINDS ((int)(sizeof(kind_names) / sizeof(kind_names[0])))

at_plugin_kind loader_kind_parse(const char *s)
{
    for (int k = 1; k < NKINDS; k++) {
        if (s && strcmp(s, kind_names[k]) == 0) {
            return (at_plugin_kind)k;
        }
    }
    return (at_plugin_kind)0;
}

const char *loader_kind_name(at_plugin_kind k)
{
    return (k >= 1 && (int)k < NKINDS) ? kind_names[k] : NULL;
}

int loader_kind_order(at_plugin_kind k)
{
    /* The enum is declared in start order. */
    return (int)k;
}

int loader_check(const at_plugin *p, char *why, size_t whylen)
{
    if (!p) {
        snprintf(why, whylen, "at_plugin_entry() returned NULL");
        return AT_EPLUGIN;
    }
    if (p->abi_major != AT_ABI_MAJOR) {
        snprintf(why, whylen,
                 "plugin ABI %u.%u is incompatible with engine ABI %d.%d (major must match); "
                 "rebuild the plugin against this engine's SDK",
                 p->abi_major, p->abi_minor, AT_ABI_MAJOR, AT_ABI_MINOR);
        return AT_EPLUGIN;
    }
    if (p->abi_minor > AT_ABI_MINOR) {
        snprintf(why, whylen,
                 "plugin needs ABI %u.%u but this engine provides %d.%d; upgrade the engine",
                 p->abi_major, p->abi_minor, AT_ABI_MAJOR, AT_ABI_MINOR);
        return AT_EPLUGIN;
    }
    /* Version 1.0 of the struct ends at `ops`; a smaller struct cannot be a
     * real at_plugin. */
    size_t min_size = offsetof(at_plugin, ops) + sizeof(p->ops);
    if (p->struct_size < min_size) {
        snprintf(why, whylen, "struct_size %u is smaller than at_plugin 1.0 (%zu bytes)",
                 p->struct_size, min_size);
        return AT_EPLUGIN;
    }
    if (!loader_kind_name(p->kind)) {
        snprintf(why, whylen, "unknown plugin kind %d", (int)p->kind);
        return AT_EPLUGIN;
    }
    if (!p->name || !*p->name) {
        snprintf(why, whylen, "plugin has no name");
        return AT_EPLUGIN;
    }
    if (!p->init || !p->destroy) {
        snprintf(why, whylen, "plugin '%s' lacks mandatory callback%s%s", p->name,
                 !p->init ? " init" : "", !p->destroy ? " destroy" : "");
        return AT_EPLUGIN;
    }
    if (p->ctx_size == 0) {
        snprintf(why, whylen, "plugin '%s' declares ctx_size 0", p->name);
        return AT_EPLUGIN;
    }
    if (p->kind == AT_KIND_STORAGE) {
        const at_storage_ops *ops = p->ops;
        if (!ops || ops->struct_size < sizeof(at_storage_ops) || !ops->write || !ops->query ||
            !ops->flush || !ops->dialect) {
            snprintf(why, whylen,
                     "storage plugin '%s' lacks mandatory ops (dialect, write, query, flush)",
                     p->name);
            return AT_EPLUGIN;
        }
    }
    for (const at_cfg_field *f = p->config; f && f->name; f++) {
        if (f->type < AT_CFG_STR || f->type > AT_CFG_SECRET) {
            snprintf(why, whylen, "plugin '%s' config key '%s' has an unknown type", p->name,
                     f->name);
            return AT_EPLUGIN;
        }
        if (f->type == AT_CFG_ENUM && !f->enum_values) {
            snprintf(why, whylen, "plugin '%s' enum key '%s' has no values", p->name, f->name);
            return AT_EPLUGIN;
        }
    }
    return AT_OK;
}

int loader_open(const char *path, loaded_plugin *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (access(path, F_OK) != 0) {
        snprintf(err, errlen, "%s: no such file", path);
        return AT_ENOENT;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        snprintf(err, errlen, "%s: cannot load: %s", path, dlerror());
        return AT_EPLUGIN;
    }
    /* dlsym returns a data pointer; converting it through a union keeps
     * -Wpedantic quiet about object-to-function pointer casts. */
    union {
        void *obj;
        at_plugin_entry_fn fn;
    } entry;
    entry.obj = dlsym(dl, AT_PLUGIN_ENTRY_SYMBOL);
    if (!entry.obj) {
        snprintf(err, errlen, "%s: not an aitrader plugin: no symbol %s", path,
                 AT_PLUGIN_ENTRY_SYMBOL);
        dlclose(dl);
        return AT_EPLUGIN;
    }
    const at_plugin *p = entry.fn();
    char why[256];
    if (loader_check(p, why, sizeof(why)) != AT_OK) {
        snprintf(err, errlen, "%s: refused: %s", path, why);
        dlclose(dl);
        return AT_EPLUGIN;
    }
    out->dl = dl;
    out->plugin = p;
    out->path = at_strdup(path);
    return AT_OK;
}

void loader_close(loaded_plugin *lp)
{
    /* Under valgrind, keep the code mapped so leak reports name the plugin. */
    if (lp->dl && !getenv("AT_NO_DLCLOSE")) {
        dlclose(lp->dl);
    }
    free(lp->path);
    memset(lp, 0, sizeof(*lp));
}

char *loader_find(const char *const *dirs, size_t ndirs, const char *kind, const char *module)
{
    for (size_t i = 0; i < ndirs; i++) {
        char *p = at_asprintf("%s/%s_%s.so", dirs[i], kind, module);
        if (p && access(p, F_OK) == 0) {
            return p;
        }
        free(p);
    }
    return NULL;
}

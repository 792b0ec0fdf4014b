#include "loader.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
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

/* at_cfg_field is frozen for ABI major 1 (config.h): plugins of every 1.x
 * minor lay their schema out with this stride. */
_Static_assert(sizeof(at_cfg_field) == offsetof(at_cfg_field, desc) + sizeof(const char *),
               "at_cfg_field must not grow within ABI major 1");
/* The smallest at_storage_ops any 1.x plugin has: up to `flush`. */
#define STORAGE_OPS_SIZE_1_0 (offsetof(at_storage_ops, flush) + sizeof(void (*)(void)))

/* Bytes and alignment of the C value a field type is written as (config.h). */
static void cfg_slot(at_cfg_type t, size_t *size, size_t *align)
{
    switch (t) {
    case AT_CFG_STR:
    case AT_CFG_SECRET:
        *size = sizeof(const char *);
        *align = _Alignof(const char *);
        return;
    case AT_CFG_INT:
    case AT_CFG_DURATION:
    case AT_CFG_SIZE:
        *size = sizeof(int64_t);
        *align = _Alignof(int64_t);
        return;
    case AT_CFG_BOOL:
        *size = sizeof(bool);
        *align = _Alignof(bool);
        return;
    case AT_CFG_DOUBLE:
        *size = sizeof(double);
        *align = _Alignof(double);
        return;
    case AT_CFG_ENUM:
        *size = sizeof(int);
        *align = _Alignof(int);
        return;
    case AT_CFG_LIST:
        *size = sizeof(at_cfg_list);
        *align = _Alignof(at_cfg_list);
        return;
    }
    *size = *align = 1;
}

static int check_schema(const at_plugin *p, char *why, size_t whylen)
{
    for (size_t i = 0; p->config && p->config[i].name; i++) {
        const at_cfg_field *f = &p->config[i];
        if (!*f->name) {
            snprintf(why, whylen, "plugin '%s' config field %zu has an empty name", p->name, i);
            return AT_EPLUGIN;
        }
        if (f->type < AT_CFG_STR || f->type > AT_CFG_SECRET) {
            snprintf(why, whylen, "plugin '%s' config key '%s' has an unknown type", p->name,
                     f->name);
            return AT_EPLUGIN;
        }
        if (f->type == AT_CFG_ENUM && !f->enum_values) {
            snprintf(why, whylen, "plugin '%s' enum key '%s' has no values", p->name, f->name);
            return AT_EPLUGIN;
        }
        size_t size, align;
        cfg_slot(f->type, &size, &align);
        if (f->offset > p->ctx_size || size > p->ctx_size - f->offset) {
            snprintf(why, whylen,
                     "plugin '%s' config key '%s' is written at offset %zu (+%zu bytes), outside "
                     "its ctx_size %zu",
                     p->name, f->name, f->offset, size, p->ctx_size);
            return AT_EPLUGIN;
        }
        if (f->offset % align) {
            snprintf(why, whylen, "plugin '%s' config key '%s' has a misaligned offset %zu",
                     p->name, f->name, f->offset);
            return AT_EPLUGIN;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->config[j].name, f->name) == 0) {
                snprintf(why, whylen, "plugin '%s' declares config key '%s' twice", p->name,
                         f->name);
                return AT_EPLUGIN;
            }
        }
    }
    return AT_OK;
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
    /* No at_plugin ends before `ops`; fields after it are read only when
     * struct_size says the plugin has them (AT_STRUCT_HAS). */
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
    for (size_t i = 0; i < sizeof(p->reserved) / sizeof(p->reserved[0]); i++) {
        if (AT_STRUCT_HAS(p->struct_size, at_plugin, reserved[i]) && p->reserved[i]) {
            snprintf(why, whylen, "plugin '%s' sets reserved[%zu] (must be NULL)", p->name, i);
            return AT_EPLUGIN;
        }
    }
    if (p->kind == AT_KIND_STORAGE) {
        /* An older minor's ops struct is accepted: what it lacks is absent. */
        const at_storage_ops *ops = p->ops;
        if (!ops || ops->struct_size < STORAGE_OPS_SIZE_1_0 || !ops->write || !ops->query ||
            !ops->flush || !ops->dialect) {
            snprintf(why, whylen,
                     "storage plugin '%s' lacks mandatory ops (dialect, write, query, flush)",
                     p->name);
            return AT_EPLUGIN;
        }
    }
    if (p->kind == AT_KIND_EXCHANGE && p->ops) {
        const at_exchange_ops *ops = p->ops;
        if (ops->struct_size < offsetof(at_exchange_ops, submit) + sizeof(ops->submit) ||
            !ops->venue_class || !ops->submit) {
            snprintf(why, whylen,
                     "exchange plugin '%s' has order operations without venue_class and submit",
                     p->name);
            return AT_EPLUGIN;
        }
    }
    if (p->kind == AT_KIND_RISK) {
        const at_risk_ops *ops = p->ops;
        if (!ops || ops->struct_size < offsetof(at_risk_ops, check) + sizeof(ops->check) ||
            !ops->check) {
            snprintf(why, whylen, "risk plugin '%s' lacks its mandatory check operation", p->name);
            return AT_EPLUGIN;
        }
    }
    if (p->kind == AT_KIND_AI) {
        const at_ai_ops *ops = p->ops;
        if (!ops || ops->struct_size < offsetof(at_ai_ops, request) + sizeof(ops->request) ||
            !ops->request) {
            snprintf(why, whylen, "ai plugin '%s' lacks its mandatory request operation", p->name);
            return AT_EPLUGIN;
        }
    }
    return check_schema(p, why, whylen);
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
    static const at_cfg_field no_keys[] = {{0}};
    out->schema = p->config ? p->config : no_keys;
    out->path = at_strdup(path);
    if (!out->path) {
        snprintf(err, errlen, "%s: out of memory", path);
        memset(out, 0, sizeof(*out));
        dlclose(dl);
        return AT_ENOMEM;
    }
    out->dl = dl;
    out->plugin = p;
    if (AT_STRUCT_HAS(p->struct_size, at_plugin, check_config)) {
        out->check_config = p->check_config;
    }
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

/* Plugin loader: dlopen(RTLD_NOW|RTLD_LOCAL), one entry symbol, ABI checks.
 * Every refusal names the file and the reason. */
#ifndef AT_CORE_LOADER_H
#define AT_CORE_LOADER_H

#include <stddef.h>

#include <aitrader/plugin.h>

typedef struct loaded_plugin {
    void *dl;
    const at_plugin *plugin;
    char *path;
    /* The plugin's config schema, {0}-terminated; never NULL once loaded. */
    const at_cfg_field *schema;
    /* at_plugin.check_config, or NULL (absent, or a plugin older than 1.3). */
    int (*check_config)(const void *ctx, const char **key, char *why, size_t whylen);
} loaded_plugin;

/* Open path and validate the plugin. On failure returns AT_EPLUGIN (or
 * AT_ENOENT when the file does not exist) and writes "PATH: reason" to err. */
int loader_open(const char *path, loaded_plugin *out, char *err, size_t errlen);
void loader_close(loaded_plugin *lp);
/* Validate a plugin struct (used by loader_open; exposed for tests). */
int loader_check(const at_plugin *p, char *why, size_t whylen);

/* "storage" <-> AT_KIND_STORAGE; 0 / NULL when unknown. */
at_plugin_kind loader_kind_parse(const char *s);
const char *loader_kind_name(at_plugin_kind k);
/* Start order of a kind (storage first). */
int loader_kind_order(at_plugin_kind k);
/* Find "<kind>_<module>.so" in a list of directories; returns a malloc'd
 * path or NULL. */
char *loader_find(const char *const *dirs, size_t ndirs, const char *kind, const char *module);

#endif

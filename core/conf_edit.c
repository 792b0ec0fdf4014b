/* Changing a parsed config before it is applied: the replay command points
 * storage at a scratch database, exchanges at their recordings, and turns
 * off what would reach the network. A changed entry keeps its line (errors
 * still point at the user's file); an added one takes its section's. */
#include <stdlib.h>
#include <string.h>

#include <aitrader/types.h>

#include "conf.h"
#include "util.h"

static conf_section *section_of(conf_file *f, const char *name)
{
    for (size_t i = 0; f && i < f->n; i++) {
        if (strcmp(f->secs[i].name, name) == 0) {
            return &f->secs[i];
        }
    }
    return NULL;
}

int conf_add_section(conf_file *f, const char *name)
{
    if (section_of(f, name)) {
        return AT_OK;
    }
    const char *dot = strchr(name, '.');
    conf_section s = {
        .name = at_strdup(name),
        .kind = dot ? at_strndup(name, (size_t)(dot - name)) : at_strdup(name),
        .instance = at_strdup(dot ? dot + 1 : ""),
    };
    conf_section *secs =
        s.name && s.kind && s.instance ? realloc(f->secs, (f->n + 1) * sizeof(*secs)) : NULL;
    if (!secs) {
        free(s.name);
        free(s.kind);
        free(s.instance);
        return AT_ENOMEM;
    }
    f->secs = secs;
    secs[f->n++] = s;
    return AT_OK;
}

int conf_set(conf_file *f, const char *section, const char *key, const char *value)
{
    conf_section *s = section_of(f, section);
    if (!s) {
        return AT_ENOENT;
    }
    char *v = at_strdup(value);
    if (!v) {
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->entries[i].key, key) == 0) {
            free(s->entries[i].value);
            s->entries[i].value = v;
            return AT_OK;
        }
    }
    conf_entry *en = realloc(s->entries, (s->n + 1) * sizeof(*en));
    char *k = at_strdup(key);
    if (en) {
        s->entries = en;
    }
    if (!en || !k) {
        free(k);
        free(v);
        return AT_ENOMEM;
    }
    s->entries[s->n++] = (conf_entry){.key = k, .value = v, .line = s->line};
    return AT_OK;
}

void conf_unset(conf_file *f, const char *section, const char *key)
{
    conf_section *s = section_of(f, section);
    for (size_t i = 0; s && i < s->n; i++) {
        if (strcmp(s->entries[i].key, key) == 0) {
            free(s->entries[i].key);
            free(s->entries[i].value);
            memmove(&s->entries[i], &s->entries[i + 1], (s->n - i - 1) * sizeof(s->entries[0]));
            s->n--;
            return;
        }
    }
}

/* modules.ini: parsing (inih) into ordered sections with line numbers, and
 * validation of a section against a schema (at_cfg_field) that writes typed
 * values into a context struct. Errors are collected, never printed here:
 * every message is "FILE:LINE: [section] key: reason". */
#ifndef AT_CORE_CONF_H
#define AT_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/config.h>

typedef struct conf_errors {
    char **msgs; /* each "FILE:LINE: [section] key: reason" (or "FILE:LINE: reason") */
    size_t n;
} conf_errors;

/* Append a formatted error. key may be NULL (then "[section] reason"). section
 * may be NULL (then "FILE:LINE: reason"). */
void conf_err(conf_errors *e, const char *file, int line, const char *section, const char *key,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void conf_errors_free(conf_errors *e);

typedef struct conf_entry {
    char *key;
    char *value; /* trimmed; inline ';' comments removed by inih */
    int line;
} conf_entry;

typedef struct conf_section {
    char *name;     /* "exchange.okx_main" or "core" */
    char *kind;     /* "exchange" (or "core") */
    char *instance; /* "okx_main" (or "" for core) */
    int line;       /* line of the [header] */
    conf_entry *entries;
    size_t n;
} conf_section;

typedef struct conf_file {
    char *path;
    conf_section *secs; /* in file order */
    size_t n;
} conf_file;

/* Parse path. Syntax errors, duplicate sections and duplicate keys within a
 * section are added to errs (parsing continues so all are reported). Returns
 * NULL only when the file cannot be read (errs says why); otherwise the parsed
 * file even if errs->n > 0. */
conf_file *conf_load(const char *path, conf_errors *errs);
/* Same, from a string (for tests); `name` stands in for the file name. */
conf_file *conf_load_string(const char *name, const char *text, conf_errors *errs);
void conf_free(conf_file *f);
/* Edits before the file is applied (conf_edit.c): add an empty section
 * (AT_OK when it exists), set a key (AT_ENOENT without the section), remove
 * a key (nothing when absent). */
int conf_add_section(conf_file *f, const char *name);
int conf_set(conf_file *f, const char *section, const char *key, const char *value);
void conf_unset(conf_file *f, const char *section, const char *key);
const conf_section *conf_section_get(const conf_file *f, const char *name);
const conf_entry *conf_entry_get(const conf_section *s, const char *key);
/* The section's module (its `module`, else the instance name: [ai.rules]
 * is module rules) and whether it is enabled (`enabled` absent, true, or
 * not a boolean: the schema refuses that at its line). */
const char *conf_section_module(const conf_section *s);
bool conf_section_enabled(const conf_section *s);

/* Values allocated while applying a schema (strings, lists, secrets); freed
 * after the plugin's destroy. */
typedef struct conf_owned conf_owned;

/* Validate section `sec` of file `file` against `schema` and write values (or
 * defaults) into ctx at the field offsets. Keys named in `ignore` (NULL-
 * terminated, e.g. {"module","enabled",NULL}) are skipped. Every problem is
 * added to errs: unknown key (with a "did you mean" hint when one is close),
 * wrong type, out of range, bad enum value (listing the choices), missing
 * required key (reported at the section's header line), bad secret reference
 * (inline value, unset env var, unreadable file, file mode not 0600). Secret
 * values are registered with log_secret_add(). Returns the number of errors
 * added. *owned receives what was allocated (also on error); free it with
 * conf_owned_free. `sec` may be NULL: then only defaults/required apply, and
 * missing required keys are reported at line 0 under `section_name`. */
int conf_apply(const char *file, const char *section_name, const conf_section *sec,
               const at_cfg_field *schema, const char *const *ignore, void *ctx, conf_owned **owned,
               conf_errors *errs);
void conf_owned_free(conf_owned *o);

/* Value parsers (shared with the CLI). Return 0 or AT_EINVAL/AT_ERANGE. */
int conf_parse_bool(const char *s, bool *out);
int conf_parse_int(const char *s, int64_t *out);
int conf_parse_double(const char *s, double *out);
int conf_parse_duration(const char *s,
                        int64_t *ms); /* "250ms" "20s" "12m" "1h" "1d"; bare number = seconds */
int conf_parse_size(const char *s,
                    int64_t *bytes); /* "512" "64K" "2M" "1G" (1024-based), optional B */
/* Resolve "env:NAME" / "file:PATH" into *out (malloc'd). On failure returns
 * AT_EINVAL/AT_ENOENT and writes a reason (never the secret) into err. */
int conf_secret_resolve(const char *ref, char **out, char *err, size_t errlen);

/* Print a schema as a table (for `aitrader plugins --describe`). */
void conf_describe(const at_cfg_field *schema, void *stream /* FILE* */);

#endif

/**
 * @file config.h
 * @brief Config schema a plugin declares; the engine validates modules.ini
 *        against it and writes typed values into the plugin's context.
 *
 * A plugin declares a `{0}`-terminated array of at_cfg_field. Before any
 * plugin starts, the engine checks every `[kind.instance]` section against its
 * plugin's schema (unknown key, wrong type, out of range, missing required) and
 * reports all errors as `FILE:LINE: [section] key: reason`.
 *
 * Values are written into the context the engine allocates for the instance
 * (plugin->ctx_size bytes, zeroed) at `offset`, with these C types:
 *
 * | type            | C type at offset | notes                                   |
 * |-----------------|------------------|-----------------------------------------|
 * | AT_CFG_STR      | `const char *`   | owned by the engine, valid until destroy|
 * | AT_CFG_INT      | `int64_t`        | min/max apply                           |
 * | AT_CFG_BOOL     | `bool`           | true/false, yes/no, on/off, 1/0         |
 * | AT_CFG_DOUBLE   | `double`         | min/max apply                           |
 * | AT_CFG_DURATION | `int64_t` (ms)   | "250ms", "20s", "12m", "1h", "1d"; min/max in ms |
 * | AT_CFG_SIZE     | `int64_t` (bytes)| "512", "64K", "2M", "1G" (powers of 1024); min/max |
 * | AT_CFG_ENUM     | `int`            | index into enum_values                  |
 * | AT_CFG_LIST     | `at_cfg_list`    | comma-separated, items trimmed, empty items rejected |
 * | AT_CFG_SECRET   | `const char *`   | `env:NAME` or `file:PATH` (mode 0600) only; never inline;
 * redacted in logs |
 *
 * Strings and lists are owned by the engine and stay valid until the plugin's
 * destroy() returns.
 */
#ifndef AITRADER_CONFIG_H
#define AITRADER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Value types a schema field can have. */
typedef enum at_cfg_type {
    AT_CFG_STR = 1,
    AT_CFG_INT,
    AT_CFG_BOOL,
    AT_CFG_DOUBLE,
    AT_CFG_DURATION,
    AT_CFG_SIZE,
    AT_CFG_ENUM,
    AT_CFG_LIST,
    AT_CFG_SECRET,
} at_cfg_type;

/** Field flags. */
#define AT_CFG_REQUIRED 0x1u /**< the key must be present (def is ignored) */
#define AT_CFG_RANGE 0x2u    /**< min/max are enforced (numbers, durations, sizes) */

/** A parsed AT_CFG_LIST value. */
typedef struct at_cfg_list {
    size_t n;                 /**< number of items */
    const char *const *items; /**< items, trimmed, never empty strings */
} at_cfg_list;

/**
 * One schema field. Arrays of fields end with an all-zero entry.
 *
 * Frozen for ABI major 1: unlike the other SDK structs, at_cfg_field never
 * grows within a major (a plugin's schema is an array, read with the engine's
 * stride), so any new per-key property will come as a separate table. The
 * engine checks at load that each value's offset and size fit in the
 * plugin's ctx_size, aligned for its C type.
 */
typedef struct at_cfg_field {
    const char *name;               /**< key in the section */
    at_cfg_type type;               /**< value type */
    const char *def;                /**< default as text (parsed like a config value), or NULL */
    uint32_t flags;                 /**< AT_CFG_REQUIRED, AT_CFG_RANGE */
    size_t offset;                  /**< offsetof(ctx struct, member) */
    double min;                     /**< inclusive minimum when AT_CFG_RANGE */
    double max;                     /**< inclusive maximum when AT_CFG_RANGE */
    const char *const *enum_values; /**< NULL-terminated names for AT_CFG_ENUM */
    const char *desc;               /**< one line shown by `aitrader plugins --describe` */
} at_cfg_field;

/** Keys every instance section accepts besides its plugin's schema. */
#define AT_CFG_KEY_MODULE "module"
#define AT_CFG_KEY_ENABLED "enabled"

#ifdef __cplusplus
}
#endif

#endif

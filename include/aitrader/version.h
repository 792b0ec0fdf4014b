/**
 * @file version.h
 * @brief Engine version and plugin ABI version.
 *
 * ABI rules: a plugin built against ABI major M loads only into an engine of
 * major M. Within a major, fields are only ever appended to the SDK structs, so
 * a plugin built against minor m loads into an engine of minor >= m.
 */
#ifndef AITRADER_VERSION_H
#define AITRADER_VERSION_H

#define AT_VERSION_MAJOR 0
#define AT_VERSION_MINOR 1
#define AT_VERSION_PATCH 0
#define AT_VERSION "0.1.0"

/** Plugin ABI major: any incompatible change bumps it; the loader requires an exact match. */
#define AT_ABI_MAJOR 1
/** Plugin ABI minor: appended fields; the loader accepts plugins with minor <= the engine's. */
#define AT_ABI_MINOR 3

#endif

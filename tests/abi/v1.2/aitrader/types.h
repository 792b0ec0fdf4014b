/**
 * @file types.h
 * @brief Basic types shared by the engine and plugins: error codes, exact
 *        decimals, side/position enums, log levels.
 *
 * Everything here is plain data. The functions that operate on these types are
 * reached through the host table (host.h), so a plugin links nothing from the
 * engine.
 */
#ifndef AITRADER_TYPES_H
#define AITRADER_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Error codes: 0 is success, failures are negative. */
/**@{*/
#define AT_OK 0
#define AT_ENOMEM (-1)    /**< allocation failed */
#define AT_EINVAL (-2)    /**< invalid argument or malformed input */
#define AT_ERANGE (-3)    /**< value out of range / arithmetic overflow */
#define AT_ENOENT (-4)    /**< not found */
#define AT_EAGAIN (-5)    /**< try again later (queue full, not connected) */
#define AT_EIO (-6)       /**< I/O or network failure */
#define AT_ETIMEDOUT (-7) /**< deadline passed */
#define AT_ESTATE (-8)    /**< called in the wrong state (e.g. before start) */
#define AT_EPLUGIN (-9)   /**< plugin refused or misbehaved */
#define AT_ECONFIG (-10)  /**< configuration error */
#define AT_EDB (-11)      /**< storage backend error */
#define AT_EEXIST (-12)   /**< already exists */
/**@}*/

/** Log levels, in increasing severity. */
typedef enum at_log_level {
    AT_LOG_DEBUG = 0,
    AT_LOG_INFO = 1,
    AT_LOG_WARN = 2,
    AT_LOG_ERROR = 3,
} at_log_level;

/**
 * An exact decimal number: value = m / 10^scale.
 *
 * Prices and sizes travel as at_dec from the moment they are parsed from the
 * exchange until they are formatted back into a request; doubles are only used
 * for analytics. scale is 0..AT_DEC_MAX_SCALE. Two decimals may have different
 * scales and still be equal (1.50 == 1.5).
 */
typedef struct at_dec {
    int64_t m;     /**< mantissa (signed) */
    int32_t scale; /**< digits after the decimal point */
} at_dec;

/** Largest supported scale (digits after the point). */
#define AT_DEC_MAX_SCALE 18
/** Buffer size large enough for any formatted at_dec, with sign and NUL. */
#define AT_DEC_STRLEN 48

/** Rounding modes for the decimal helpers. */
typedef enum at_round {
    AT_ROUND_DOWN = 0,     /**< toward zero (truncate) */
    AT_ROUND_UP = 1,       /**< away from zero */
    AT_ROUND_FLOOR = 2,    /**< toward -infinity */
    AT_ROUND_CEIL = 3,     /**< toward +infinity */
    AT_ROUND_HALF_EVEN = 4 /**< to nearest, ties to even */
} at_round;

/**
 * An interned instrument id (e.g. "BTC-USDT-SWAP"). 0 means "none".
 * Interned ids are stable for the life of the process; host->inst_name() maps
 * them back to the string.
 */
typedef uint32_t at_inst;

/** Order side. */
typedef enum at_side { AT_SIDE_NONE = 0, AT_SIDE_BUY = 1, AT_SIDE_SELL = 2 } at_side;

/** Position side: NET in net_mode, LONG/SHORT in long_short_mode. */
typedef enum at_pos_side {
    AT_POS_NET = 0,
    AT_POS_LONG = 1,
    AT_POS_SHORT = 2,
} at_pos_side;

/** Opaque handle of a plugin instance; passed to every host call. */
typedef struct at_instance at_instance;

#ifdef __cplusplus
}
#endif

#endif

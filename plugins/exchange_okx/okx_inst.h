/**
 * @file okx_inst.h
 * @brief Instrument registry of one OKX venue instance, symbol resolution and
 *        exact order sizing / price rounding for USDT-margined perpetual swaps.
 *
 * OKX sizes derivatives in **contracts** (sz, lotSz, minSz, maxLmtSz, maxMktSz
 * are all contracts). One linear contract is ctVal × ctMult units of ctValCcy
 * (the base currency): BTC-USDT-SWAP ctVal 0.01 BTC, DOGE-USDT-SWAP ctVal
 * 1000 DOGE. Sending a coin quantity as sz is the classic bug (a DOGE order
 * 1000× too big), so every conversion from coins or notional goes through the
 * okx_size_from_* functions below, which round DOWN to lotSz (never up: a
 * rounded size is never larger than what was asked for) and refuse sizes below
 * minSz with an error naming the instrument and the numbers.
 *
 * All arithmetic is exact (at_dec through the host's dec_* functions); no
 * doubles are involved.
 *
 * Threads: a registry belongs to one venue instance and is used from the main
 * loop only. The sizing, rounding and formatting functions are pure (they read
 * the instrument and call the host's pure dec_* functions) and may run on any
 * thread as long as nobody reloads the registry at the same time.
 */
#ifndef OKX_INST_H
#define OKX_INST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/events.h>
#include <aitrader/host.h>
#include <aitrader/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Buffer size of an instrument id / family (with NUL). */
#define OKX_INST_ID_LEN 48
/** Buffer size of a ccxt unified symbol such as "BTC/USDT:USDT" (with NUL). */
#define OKX_SYMBOL_LEN 64

/** Contract type (ctType). */
typedef enum okx_ct_type {
    OKX_CT_UNKNOWN = 0, /**< absent and not derivable: sizing from coins/notional refused */
    OKX_CT_LINEAR = 1,  /**< margined and settled in the quote currency (USDT swaps) */
    OKX_CT_INVERSE = 2, /**< margined and settled in the base currency (BTC-USD-SWAP) */
} okx_ct_type;

/**
 * One row of /api/v5/public/instruments, with every number exact.
 * Optional numbers the response left out or sent as "" are zero, which for
 * max_lmt_sz / max_mkt_sz means "no limit known".
 */
typedef struct okx_inst {
    char inst_id[OKX_INST_ID_LEN]; /**< "BTC-USDT-SWAP" */
    char family[OKX_INST_ID_LEN];  /**< instFamily, or uly when instFamily is absent */
    char uly[OKX_INST_ID_LEN];     /**< uly ("BTC-USDT"), may be "" */
    char base[AT_CCY_LEN];         /**< "BTC": first part of the family */
    char quote[AT_CCY_LEN];        /**< "USDT": second part of the family */
    char settle_ccy[AT_CCY_LEN];   /**< settleCcy */
    char ct_val_ccy[AT_CCY_LEN];   /**< ctValCcy: unit of ctVal */
    char state[16];                /**< "live", "suspend", "preopen" … */
    okx_ct_type ct_type;           /**< ctType (derived from the currencies when absent) */
    at_dec ct_val;                 /**< ctVal, > 0 */
    at_dec ct_mult;                /**< ctMult, 1 when absent */
    at_dec lot_sz;                 /**< lotSz in contracts, > 0 */
    at_dec min_sz;                 /**< minSz in contracts, > 0 */
    at_dec tick_sz;                /**< tickSz, > 0 */
    at_dec max_lmt_sz;             /**< maxLmtSz in contracts; 0 = unknown */
    at_dec max_mkt_sz;             /**< maxMktSz in contracts; 0 = unknown */
    int lever;                     /**< maximum leverage; 0 when absent */
    int64_t inst_id_code;          /**< instIdCode (for WS op "order") when has_inst_id_code */
    bool has_inst_id_code;         /**< the response carried instIdCode */
    at_inst id;                    /**< inst_id interned with host->inst_intern */
} okx_inst;

/** Opaque registry: an array of okx_inst sorted by inst_id. */
typedef struct okx_insts okx_insts;

/**
 * Create an empty registry. `h` is borrowed and must outlive the registry.
 * Returns NULL on allocation failure. Free with okx_insts_free().
 */
okx_insts *okx_insts_new(const at_host *h);

/** Free the registry and every row; NULL is a no-op. Pointers from find/at die with it. */
void okx_insts_free(okx_insts *r);

/**
 * Replace the registry's contents with the rows of a
 * GET /api/v5/public/instruments?instType=SWAP response body (`json`, `len`
 * bytes, borrowed; need not be NUL-terminated).
 *
 * Every row is validated: instId, ctVal, lotSz, minSz and tickSz are required,
 * every decimal field must be an exact decimal string, ctVal/lotSz/minSz/tickSz
 * positive, instIds unique. On any error nothing changes, the registry keeps
 * its previous rows and `err` (may be NULL) says what and where, e.g.
 * "instruments data[3] (DOGE-USDT-SWAP): lotSz \"abc\" is not a decimal".
 *
 * On success every okx_inst pointer obtained before is invalidated (the rows
 * are reallocated). Main loop.
 *
 * @return AT_OK, AT_EINVAL (malformed response or a venue error code != "0"),
 *         AT_ENOMEM.
 */
int okx_insts_load_json(okx_insts *r, const char *json, size_t len, char *err, size_t errlen);

/** Number of rows loaded. */
size_t okx_insts_count(const okx_insts *r);

/** Row `i` (0 ≤ i < count, in instId order), borrowed until the next load/free; NULL if out of
 * range. */
const okx_inst *okx_insts_at(const okx_insts *r, size_t i);

/**
 * Resolve what a user (or an AI) writes to a swap, case-insensitively:
 *  - "BTC-USDT-SWAP"  an instId;
 *  - "BTC/USDT:USDT"  ccxt's unified swap symbol BASE/QUOTE:SETTLE
 *                     ("BTC/USD:BTC" is the inverse BTC-USD-SWAP);
 *  - "BTC/USDT"       the swap of family BTC-USDT;
 *  - "BTC-USDT"       the swap of that instFamily/uly;
 *  - "BTC", "btc"     BTC-USDT-SWAP (USDT is the default quote).
 * Returns a row borrowed until the next load/free, or NULL when nothing
 * matches (or symbol is NULL / too long). Pure; main loop (reads the registry).
 */
const okx_inst *okx_insts_find(const okx_insts *r, const char *symbol);

/**
 * Whether `symbol` is written in one of the forms okx_insts_find resolves
 * (nothing is looked up: the list may not be loaded yet). Letters and digits
 * separated as in "BTC-USDT-SWAP", "BTC/USDT:USDT", "BTC/USDT", "BTC-USDT" or
 * "BTC"; a three-part instId must be a swap (…-SWAP).
 * @return AT_OK, or AT_EINVAL with the reason in `why` (may be NULL).
 */
int okx_insts_symbol_check(const char *symbol, char *why, size_t whylen);

/**
 * Write the ccxt unified symbol of `in` ("BTC/USDT:USDT") into buf.
 * @return the length, or AT_ERANGE when it does not fit in `len` bytes, or
 *         AT_EINVAL when the row has no base/quote (buf is then "" if len > 0).
 */
int okx_insts_to_ccxt(const okx_inst *in, char *buf, size_t len);

/**
 * Contracts → a valid order size: round DOWN to lotSz, then require ≥ minSz.
 * `why` (may be NULL) gets the reason on failure, e.g.
 * "0.004 contracts is below minSz 0.01 for BTC-USDT-SWAP".
 * Works for linear and inverse swaps (contracts are contracts).
 * @return AT_OK (*out set, at lotSz's scale), AT_EINVAL (size ≤ 0),
 *         AT_ERANGE (below minSz or arithmetic overflow).
 */
int okx_size_from_contracts(const okx_inst *in, const at_host *h, at_dec contracts, at_dec *out,
                            char *why, size_t whylen);

/**
 * A base-currency quantity (coins, e.g. 5000 DOGE) → contracts =
 * base / (ctVal × ctMult), rounded DOWN to lotSz, ≥ minSz. For DOGE-USDT-SWAP
 * (ctVal 1000) 1000 DOGE is 1 contract, never 1000. Linear swaps only:
 * inverse ones are refused with "inverse swaps are not supported".
 * @return AT_OK, AT_EINVAL (qty ≤ 0, inverse or unknown ctType),
 *         AT_ERANGE (below minSz, overflow).
 */
int okx_size_from_base(const okx_inst *in, const at_host *h, at_dec base_qty, at_dec *out,
                       char *why, size_t whylen);

/**
 * A notional in the quote currency (USDT for USDT swaps) at `price` →
 * contracts = notional / (price × ctVal × ctMult), rounded DOWN to lotSz,
 * ≥ minSz: $500 of DOGE at 0.15 with ctVal 1000 and lotSz 0.01 is 3.33.
 * Linear swaps only, as okx_size_from_base.
 * @return AT_OK, AT_EINVAL (notional or price ≤ 0, inverse or unknown ctType),
 *         AT_ERANGE (below minSz, overflow).
 */
int okx_size_from_quote(const okx_inst *in, const at_host *h, at_dec usdt_notional, at_dec price,
                        at_dec *out, char *why, size_t whylen);

/**
 * Check an order size (contracts) against maxMktSz (market = true) or
 * maxLmtSz (limit orders). An unknown (zero) maximum passes.
 * `why` e.g. "2000 contracts exceeds maxMktSz 1600 for BTC-USDT-SWAP (market order)".
 * @return AT_OK or AT_ERANGE.
 */
int okx_size_check_max(const okx_inst *in, const at_host *h, at_dec contracts, bool market,
                       char *why, size_t whylen);

/**
 * Round a price to a multiple of tickSz with the caller's mode: a buy limit
 * rounds DOWN/FLOOR (never pay more), a sell limit UP/CEIL (never sell for
 * less), TP/SL triggers HALF_EVEN (nearest).
 * @return AT_OK (*out at tickSz's scale), AT_EINVAL (px ≤ 0), AT_ERANGE
 *         (rounds to 0 or overflows).
 */
int okx_price_round(const okx_inst *in, const at_host *h, at_dec px, at_round mode, at_dec *out);

/**
 * Format a decimal the way OKX wants "sz"/"px": exact, no exponent, no
 * trailing zeros ("0.00001", "3.33", "42").
 * @return the length, or a negative error (buf is then "").
 */
int okx_fmt(const at_host *h, at_dec d, char buf[AT_DEC_STRLEN]);

/* Internal to okx_inst.c and okx_size.c: printf into an optional caller
 * buffer (NULL or 0 = nowhere). */
void okx_say(char *buf, size_t len, const char *fmt, ...) AT_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif

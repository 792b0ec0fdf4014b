/**
 * @file ta_signal.h
 * @brief Threshold signals with hysteresis over named indicator values.
 *
 * Pure code (libc + libm), no globals, no allocation: the caller owns a
 * ta_sig_rules (parsed once from config) and one ta_sig_stream per series it
 * watches (an instrument, or an instrument and bar size), both plain structs.
 *
 * Rule syntax (one config item each, spaces allowed around tokens):
 *
 *     [INSTRUMENT:]NAME>ENTER/EXIT      UP:    enter when v > ENTER, leave when v < EXIT
 *     [INSTRUMENT:]NAME<ENTER/EXIT      DOWN:  enter when v < ENTER, leave when v > EXIT
 *     [INSTRUMENT:]|NAME|>ENTER/EXIT    SPIKE: enter when |v| > ENTER, leave when |v| < EXIT
 *
 * e.g. `rsi14>70/65`, `rsi14<30/35`, `|chg_5m|>0.01/0.008`, `vol_ratio>3/2`,
 * `BTC-USDT-SWAP:rsi14>75/70`. The exit level is required and must sit on
 * the inner side of the enter level (EXIT <= ENTER for UP and SPIKE, EXIT >=
 * ENTER for DOWN; SPIKE levels >= 0): the gap between them is what stops a
 * noisy series from flapping. Equal levels are allowed (no hysteresis).
 *
 * Overrides: a rule with an instrument prefix replaces, for that instrument,
 * the generic rule on the same indicator and the same comparison (NAME>,
 * NAME< or |NAME|>); with no such generic rule it is added for that
 * instrument only.
 *
 * State machine per (rule, stream): outside → inside when the value passes
 * ENTER (emits entered = true), inside → outside when it passes EXIT back
 * (emits entered = false). Nothing is emitted while the state stays, so each
 * crossing is reported once however long the value stays in the zone, and a
 * series oscillating between EXIT and ENTER emits nothing. NaN values (warm-up,
 * missing indicator) leave the state unchanged.
 *
 * Salience of an entering signal, in [0.4, 1):
 *
 *     e = (distance past ENTER) / band      band = |ENTER - EXIT|, or
 *                                           max(|ENTER|, 1e-12) when the levels are equal
 *     D = 1 - exp(-e)                       distance term, 0 at the level, → 1 far past it
 *     k = rules of the same stream inside their zone, this one included
 *     A = (k - 1) / k                       agreement term: 0 alone, 1/2 with two, 2/3 with three
 *     salience = 0.4 + 0.4·D + 0.2·A
 *
 * so a lone rule just past its level scores 0.4, one a band-width past it
 * ≈ 0.65, and agreement adds up to 0.2. It grows with the distance and with
 * k, never reaches 1. A leaving signal has salience 0: leaving a zone is news
 * for the state, not a reason to act.
 */
#ifndef AT_TA_SIGNAL_H
#define AT_TA_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Rules a ta_sig_rules holds, and rules one stream evaluates, at most. */
#define TA_SIG_MAX 32
/** Longest indicator name (with the NUL), as in at_ind_value. */
#define TA_SIG_NAME 24
/** Longest instrument prefix (with the NUL). */
#define TA_SIG_INST 32

/** Comparisons; the direction of the signal follows from it. */
typedef enum ta_sig_op {
    TA_SIG_GT = 1,  /**< NAME>ENTER/EXIT: UP */
    TA_SIG_LT = 2,  /**< NAME<ENTER/EXIT: DOWN */
    TA_SIG_ABS = 3, /**< |NAME|>ENTER/EXIT: SPIKE */
} ta_sig_op;

/** One parsed rule. */
typedef struct ta_sig_rule {
    char inst[TA_SIG_INST]; /**< "" = every instrument */
    char name[TA_SIG_NAME]; /**< indicator name, e.g. "rsi14" */
    ta_sig_op op;
    double enter, exit;
} ta_sig_rule;

/** A rule set. Zero it before the first ta_sig_rules_add. */
typedef struct ta_sig_rules {
    size_t n;
    ta_sig_rule r[TA_SIG_MAX];
} ta_sig_rules;

/**
 * Parse one item into *out. Returns 0, or -1 with a message naming the item
 * in err ("'rsi14>70': missing exit level (ENTER/EXIT, e.g. rsi14>70/70)");
 * the caller names the config key.
 */
int ta_sig_parse(const char *item, ta_sig_rule *out, char *err, size_t errlen);
/** Parse and append an item; -1 on a parse error or a full set (message in err). */
int ta_sig_rules_add(ta_sig_rules *rs, const char *item, char *err, size_t errlen);

/** The per-stream state: which rules apply and which are inside their zone. */
typedef struct ta_sig_stream {
    size_t n;                 /**< rules that apply to this stream */
    uint8_t rule[TA_SIG_MAX]; /**< their indexes into ta_sig_rules.r */
    bool inside[TA_SIG_MAX];  /**< per applicable rule */
} ta_sig_stream;

/**
 * Resolve the rules that apply to instrument `inst` (borrowed; NULL or "" =
 * only generic rules) and reset every state to outside.
 */
void ta_sig_stream_init(ta_sig_stream *st, const ta_sig_rules *rs, const char *inst);

/** One emitted crossing. `name` points into the rule set (borrowed). */
typedef struct ta_sig_event {
    const char *name;
    ta_sig_op op;
    double value;     /**< the value that crossed */
    double threshold; /**< ENTER when entering, EXIT when leaving */
    double salience;  /**< see the file comment; 0 when leaving */
    bool entered;
} ta_sig_event;

/** Look a value up by indicator name: the value, or NaN when absent. */
typedef double (*ta_sig_lookup)(void *arg, const char *name);

/**
 * Feed one set of values (one bar of one stream). Writes at most `max`
 * crossings to out and returns how many. Leaving events come first, so the
 * salience of entering ones counts the zones as they are after this update.
 */
size_t ta_sig_update(ta_sig_stream *st, const ta_sig_rules *rs, ta_sig_lookup get, void *arg,
                     ta_sig_event *out, size_t max);

/** Number of rules of the stream inside their zone. */
size_t ta_sig_inside(const ta_sig_stream *st);

/** "up", "down" or "spike" for a rule's comparison. */
const char *ta_sig_dir_name(ta_sig_op op);

#ifdef __cplusplus
}
#endif

#endif

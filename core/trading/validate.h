/* Strict validation of an AI provider's answer (CONTRACTS §4): pure
 * functions, no engine, no allocation that outlives a call; fuzzed by
 * tests/fuzz/fuzz_validate.c.
 *
 * What is tolerated and stripped: <think>…</think> blocks (and everything
 * before a lone </think>), code fences and any text around the one JSON
 * object that holds "decisions". Everything else makes the answer invalid
 * with a reason that names the field (`decisions[0].leverage 50 is over this
 * trader's max_leverage 10`): no field is guessed, clamped or defaulted.
 *
 *  - exactly one JSON object with a "decisions" array (at most
 *    AT_DECISION_MAX items, at most one per symbol; [] = hold everything);
 *  - symbol: one of the trader's; action: open_long, open_short, close_long,
 *    close_short or hold;
 *  - numbers are JSON numbers ("0.1" in quotes is invalid), read exactly as
 *    written (the shortest decimal that reads back as the same double);
 *  - opens: size_pct in (0, max_size_pct], leverage a whole number in
 *    [1, max_leverage], a non-empty reason; closes: size_pct in (0, 1]
 *    (1 = the whole position), leverage, take_profit, stop_loss ignored;
 *  - take_profit / stop_loss (optional, > 0) on the right side of the price
 *    for the direction (long: tp above, sl below; short: the reverse); a
 *    price of 0 (unknown) skips that check (sizing then refuses the item);
 *  - confidence optional in [0, 1]; reason and invalidation strings of at
 *    most VD_TEXT_MAX bytes; null counts as absent for optional fields;
 *  - a provider error, a refusal, no content, or a finish_reason other than
 *    "stop" is invalid too (vd_reply). */
#ifndef AT_CORE_TRADING_VALIDATE_H
#define AT_CORE_TRADING_VALIDATE_H

#include <stddef.h>

#include <aitrader/plugin.h>

#define VD_TEXT_MAX 500     /* bytes of a reason or an invalidation */
#define VD_ANSWER_MAX 65536 /* bytes of an answer read at all */
#define VD_WHY_LEN 320      /* enough for any reason vd_* writes */

typedef struct vd_limits {
    const char *const *symbols; /* the trader's instruments */
    size_t nsymbols;
    const at_dec *prices; /* per symbol (may be NULL): m = 0 when unknown */
    at_dec max_size_pct;  /* opens: size_pct at most this (<= 1) */
    at_dec max_leverage;  /* opens: leverage at most this (>= 1) */
} vd_limits;

typedef struct vd_item {
    size_t sym; /* index into vd_limits.symbols */
    at_action action;
    at_dec size_pct;               /* 0 for hold */
    at_dec leverage;               /* opens; 0 otherwise */
    at_dec take_profit, stop_loss; /* opens; 0 when absent */
    double confidence;             /* NaN when absent */
    char reason[VD_TEXT_MAX + 1];  /* "" when absent */
    char invalidation[VD_TEXT_MAX + 1];
} vd_item;

typedef struct vd_decision {
    size_t n;
    vd_item items[AT_DECISION_MAX];
    char stripped[96]; /* what was removed around the JSON ("" when nothing) */
} vd_decision;

/* The answer text (len bytes, need not be NUL-terminated). AT_OK with `out`
 * filled, or AT_EINVAL with the reason in `why`. */
int vd_parse(const char *text, size_t len, const vd_limits *lim, vd_decision *out, char *why,
             size_t whylen);

/* A provider's reply as a whole: its error, refusal, finish_reason and
 * content, then vd_parse. */
int vd_reply(const at_ai_reply *r, const vd_limits *lim, vd_decision *out, char *why,
             size_t whylen);

/* "open_long" … for an action; "?" for anything else. */
const char *vd_action_name(at_action a);

/* The decision as canonical JSON (the decision log's actions_json):
 * {"decisions":[{"symbol","action","size_pct","leverage","take_profit",
 * "stop_loss","confidence","reason","invalidation"}]}, decimals as exact
 * strings ("0.1"), absent fields left out. Transferred; NULL when out of
 * memory. */
char *vd_to_json(const vd_decision *d, const vd_limits *lim);

#endif

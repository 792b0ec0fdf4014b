/* Gray release of a trader (issue 12): which of its entries go live and
 * which to its shadow account (a paper venue filling them at the same
 * market prices), by symbol and UTC hour.
 *
 * `live_weight = RULE, RULE, …`, each RULE `[SYMBOL|*][@HH-HH]:W` or a bare
 * `W` (= `*:W`; nothing before ':' is `*` too; spaces around ':' allowed):
 * W in [0, 1] is the share of entries sent live, at most 19 characters;
 * HH-HH a window of UTC hours [from, to), wrapping midnight when to < from
 * (22-06: 22:00 to 05:59); the first rule matching the symbol and the hour
 * decides; none matching: 1 (live).
 *
 * The draw is deterministic, so a run and its replay agree and anyone can
 * recompute it: u = the first 8 bytes of SHA-256("SEED|TRADER|DECISION|SYMBOL")
 * as a big-endian integer, shifted right by 11, times 2^-53 (in [0, 1),
 * exact in a double); the entry goes live when u < W.
 *
 * Pure: no host, no allocation. */
#ifndef AT_CORE_TRADING_GRAY_H
#define AT_CORE_TRADING_GRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAY_MAX_RULES 32
#define GRAY_SYMBOL_LEN 48
#define GRAY_WEIGHT_LEN 20

typedef struct gray_rule {
    char symbol[GRAY_SYMBOL_LEN]; /* "" = any symbol ("*") */
    int from_h, to_h;             /* UTC hours [from, to); from -1: every hour */
    double weight;                /* share sent live, [0, 1] */
    char wtext[GRAY_WEIGHT_LEN];  /* the weight as written */
} gray_rule;

typedef struct gray_rules {
    gray_rule r[GRAY_MAX_RULES];
    size_t n;
} gray_rules;

/* The items of a live_weight list into `out`: 0, or -1 with `why` naming
 * the rule (1-based) and what is wrong with it. */
int gray_parse(const char *const *items, size_t n, gray_rules *out, char *why, size_t whylen);

/* The weight of `symbol` at UTC hour `hour` (0-23): the first matching
 * rule's, else 1. `g` may be NULL (1). Symbols compare case-insensitively. */
double gray_weight(const gray_rules *g, const char *symbol, int hour);

/* The index of the rule that decides (or -1: none, weight 1). */
int gray_match(const gray_rules *g, const char *symbol, int hour);

/* The draw u in [0, 1) for one entry (see above). */
double gray_draw(uint64_t seed, const char *trader, const char *decision_id, const char *symbol);

/* A rule as written back: "BTC-USDT-SWAP@22-06:0.3", "*:1", the weight
 * exactly as parsed (so the text parses again to the same rule). */
void gray_rule_text(const gray_rule *r, char *buf, size_t n);

/* The UTC hour (0-23) of a Unix time in ms. */
int gray_hour(int64_t ms);

#endif

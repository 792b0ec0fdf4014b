/* The decision half of a trader: what happens between the scheduler's
 * TRIGGER and the executor's order gate. One per [trader.*], on the same
 * virtual instance as its scheduler ("trader.alpha"), reaching the engine
 * only through the at_host table and its AI instance's at_ai_ops (handed
 * over by the engine, as the executor gets its venues):
 *
 *  1. a TRIGGER for this trader: the instruments (ctVal, lotSz, minSz,
 *     tickSz) and the account's position mode are read again from storage,
 *     the context is rendered from the prompt templates (prompt.h) with
 *     what the bus told (context.c) and the AI is asked, by the trigger's
 *     deadline;
 *  2. the answer is validated (validate.h); an invalid one is asked again
 *     once (retry = true) with the reason appended to the user prompt, when
 *     the deadline allows; a provider error, a refusal, a cut-off answer or
 *     a late one is not retried;
 *  3. every decision, valid or not, is one row of `decisions` (prompt and
 *     its hash, raw answer, reasoning, parsed actions, validation, tokens,
 *     cost, latency, the intents it produced) and one AT_EV_DECISION (the
 *     scheduler frees its slot on it);
 *  4. each valid open/close item becomes an AT_EV_ORDER_INTENT (sizing.h;
 *     intent id "<decision id>/<item>", clOrdId "ai" + 28 hex digits of its
 *     SHA-256, so a re-published intent is the same order), origin = the
 *     trader; items that cannot be sized (too small, no position, no
 *     price) are noted in the row instead; an entry whose price went stale
 *     or moved since the prompt is too (trader_guard.c);
 *  4b. shadow and gray release (gray.h): an entry goes live (the account)
 *     or, as the live_weight of its symbol and UTC hour draws, shadow (to
 *     shadow_account, a paper venue, with shadow = true), sized from the
 *     live account's equity either way; a close goes to each account where
 *     the trader holds the position, for its own contracts there (by
 *     core.ledger: accounts are shared, and a shadow trader must never close
 *     another's live position; a trader without a shadow account closes the
 *     live venue's position as before), the second one as
 *     "<decision id>/<item>/s"; the shadow account's positions,
 *     orders and results are the trader's shadow book, shown as such;
 *  5. apart from the AI, the giveback watchdog closes a position the
 *     trader opened once it has given back part of its peak uPnL
 *     (trader_guard.c).
 *
 * The decision id is the trigger's key (one decision per trigger). */
#ifndef AT_CORE_TRADING_TRADER_H
#define AT_CORE_TRADING_TRADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/plugin.h>

#include "gray.h"

typedef struct trader_cfg {
    const char *trader;  /* short name: "alpha" (copied) */
    const char *ai_name; /* "ai.stub" (copied) */
    const at_ai_ops *ai; /* the AI instance's operations (borrowed) */
    void *ai_ctx;
    /* aitrader replay (core/replay.h), else NULL: when a trigger's prompt is
     * built, in core-clock µs (the recorded call's send time, so the prompt
     * sees the market the recorded one saw; 0 = now) */
    int64_t (*ask_at)(void *arg, const char *key);
    void *ask_at_arg;
    /* The engine's, else NULL: deliver the events already published before
     * a prompt reads what it shows (false from inside a delivery: the prompt
     * then waits a timer turn of its own: on the simulated clock, the next
     * clock step). The prompt so shows every market frame that came before
     * it, and a replay can rebuild exactly that. */
    bool (*settle)(void);
    /* Recording, else NULL: told the moment a trigger's prompt read what it
     * shows, just before its request goes out (the replay builds it then). */
    void (*prompt_read)(void *arg, const char *key, int64_t at_us);
    void *prompt_read_arg;
    const char *account; /* "exchange.okx_demo" (copied) */
    const char *const *symbols;
    size_t nsymbols;
    const char *prompts_dir; /* holds system.txt and user.txt */
    int64_t history;         /* past decisions shown in the context */
    double max_leverage, max_size_pct;
    double take_profit_pct, stop_loss_pct; /* defaults of an entry without them */
    bool retry, shadow;
    const char *const *indicators; /* names shown; "all" = every value */
    size_t nindicators;
    /* The stale-price re-check of entries (trader_guard.c): an open is not
     * sent when the price it would be sized at is older than
     * price_max_age_ms (0 = 60 s) or has moved more than max_price_move_bps
     * (0 = not checked) from the price the prompt showed. */
    int64_t price_max_age_ms;
    double max_price_move_bps;
    /* The profit-giveback watchdog (trader_guard.c): a position this trader
     * opened is closed whole once its uPnL has given back giveback_pct % of
     * its peak (0 = off), the peak having reached giveback_arm_pct % of the
     * position's margin. */
    double giveback_pct, giveback_arm_pct;
    /* The prompt's news section (context_news.c): news_tokens tokens at most
     * (0 = 300; < 0 = no news section), news_per_symbol headlines per coin
     * (0 = 3), none published over news_max_age_ms ago (0 = 12 h). */
    int64_t news_tokens, news_per_symbol, news_max_age_ms;
    /* PnL of past decisions for the history (borrowed; NULL: not shown). */
    const struct ledger *ledger;
    /* Shadow and gray release (4b above): the paper venue of the shadow
     * entries (copied; NULL: none, and `shadow` then marks intents on the
     * account itself, which the executor checks and stores without sending);
     * the live_weight rules (copied; NULL: every entry live) and the seed. */
    const char *shadow_account;
    const gray_rules *gray;
    uint64_t gray_seed;
} trader_cfg;

typedef struct trader_stats {
    bool loaded; /* stored history read (or no storage) */
    uint64_t triggers, decisions, invalid, retries, intents, late;
    uint64_t held;             /* triggers that waited for the stored decisions to be read */
    uint64_t foreign_triggers; /* TRIGGERs for this trader from another publisher, ignored */
    uint64_t republished;      /* stored intents without an orders row published again at start */
    uint64_t stale_refused;   /* entries not sent: the price was stale or had moved (incl. again) */
    uint64_t giveback_closes; /* closes the giveback watchdog published */
    uint64_t live_entries;    /* entries sent live */
    uint64_t shadow_entries;  /* entries sent to the shadow book */
    uint64_t shadow_closes;   /* closes sent to the shadow book */
    size_t in_flight;
    int64_t last_prompt_tokens;
} trader_stats;

typedef struct trader trader;

/* `inst` is borrowed and must outlive the trader; cfg is copied. NULL with
 * `why` filled when the templates cannot be loaded or memory runs out. */
trader *trader_new(const at_host *h, at_instance *inst, const trader_cfg *cfg, char *why,
                   size_t whylen);
/* Subscribe, read the stored decisions back. */
int trader_start(trader *t);
/* Unsubscribe, cancel the AI calls in flight (their answers are stored, not
 * acted on). Idempotent. */
void trader_stop(trader *t);
/* After the AI instances are gone (engine shutdown order). */
void trader_free(trader *t);
void trader_get_stats(const trader *t, trader_stats *out);

#endif

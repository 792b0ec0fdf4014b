/**
 * @file plugin.h
 * @brief The plugin ABI: what a `.so` exports and the engine calls.
 *
 * A plugin exports exactly one symbol, `at_plugin_entry`, returning a pointer
 * to a constant at_plugin (build with -fvisibility=hidden and mark only the
 * entry with AT_PLUGIN_EXPORT). Minimal plugin:
 *
 * @code
 * #include <aitrader/plugin.h>
 * struct hello { at_instance *inst; const at_host *host; const char *greeting; };
 * static const at_cfg_field schema[] = {
 *     {"greeting", AT_CFG_STR, "hello", 0, offsetof(struct hello, greeting), 0, 0, NULL,
 *      "what to log at start"},
 *     {0}};
 * static int init(at_instance *inst, const at_host *host, void *ctx)
 * {
 *     struct hello *h = ctx;
 *     h->inst = inst;
 *     h->host = host;
 *     return AT_OK;
 * }
 * static void destroy(void *ctx) { (void)ctx; }
 * static const at_plugin plugin = {AT_PLUGIN_HEADER, .kind = AT_KIND_SOURCE, .name = "hello",
 *     .version = "1.0.0", .description = "logs a greeting", .config = schema,
 *     .ctx_size = sizeof(struct hello), .init = init, .destroy = destroy};
 * AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void) { return &plugin; }
 * @endcode
 *
 * Lifecycle, all on the main loop, for each `[kind.instance]` section:
 *   1. the engine allocates ctx (ctx_size bytes, zeroed) and writes the
 *      validated config values into it (config.h);
 *   2. init(inst, host, ctx): keep inst and host; allocate; no I/O yet;
 *   3. start(ctx): subscribe, open connections, arm timers; storage plugins
 *      must be ready to accept writes when start returns;
 *   4. stop(ctx) on shutdown, in reverse start order: cancel I/O, flush;
 *   5. destroy(ctx): free everything the plugin allocated. The engine then
 *      frees ctx and the config strings.
 * Instances start in kind order: storage, exchange, source, indicator, risk,
 * ai, ui (storage first, so every later instance can write).
 */
#ifndef AITRADER_PLUGIN_H
#define AITRADER_PLUGIN_H

#include <stddef.h>

#include <aitrader/config.h>
#include <aitrader/events.h>
#include <aitrader/host.h>
#include <aitrader/types.h>
#include <aitrader/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Export marker for the entry symbol. */
#define AT_PLUGIN_EXPORT __attribute__((visibility("default")))

/** Name of the one exported symbol. */
#define AT_PLUGIN_ENTRY_SYMBOL "at_plugin_entry"

/** Plugin kinds; the section prefix in modules.ini names the kind. */
typedef enum at_plugin_kind {
    AT_KIND_STORAGE = 1, /**< [storage.*]: ops = const at_storage_ops * (mandatory) */
    AT_KIND_EXCHANGE,    /**< [exchange.*]: ops = const at_exchange_ops * (NULL = data only) */
    AT_KIND_SOURCE,      /**< [source.*]: news, sentiment, any data */
    AT_KIND_INDICATOR,   /**< [indicator.*] */
    AT_KIND_RISK,        /**< [risk.*]: ops = const at_risk_ops * (mandatory) */
    AT_KIND_AI,          /**< [ai.*]: ops = const at_ai_ops * (mandatory) */
    AT_KIND_UI,          /**< [ui.*] */
} at_plugin_kind;

/**
 * Storage backend operations (ops of an AT_KIND_STORAGE plugin). All run on
 * the main loop; none may block it (use a worker thread or non-blocking I/O).
 * Parameters are written $1..$n in the SQL; backends translate as needed.
 */
typedef struct at_storage_ops {
    uint32_t struct_size; /**< sizeof(at_storage_ops) at the plugin's build */
    /** "sqlite" or "postgres": which sql/<dialect>/ migrations apply. */
    const char *dialect;
    /**
     * Queue a write (sql and params copied). Never drops it: when the backend
     * is unavailable it queues, and spills to a journal when the queue is full.
     * `done` (may be NULL) fires on the loop once committed or failed for good
     * (e.g. a constraint violation). Returns AT_OK or AT_EINVAL for bad SQL
     * arguments.
     */
    int (*write)(void *ctx, const char *sql, const at_db_value *params, size_t n,
                 at_db_done_cb done, void *arg);
    /** Run a read after every write queued before it; row per row, then done once. */
    int (*query)(void *ctx, const char *sql, const at_db_value *params, size_t n, at_db_row_cb row,
                 at_db_done_cb done, void *arg);
    /** `done` fires once every write queued before this call is committed or failed. */
    int (*flush)(void *ctx, at_db_done_cb done, void *arg);

    /* ---- added in ABI 1.6 (read only when struct_size says it is there) ---- */

    /**
     * Optional. Write a consistent copy of what is committed now to the new
     * file `path` (a database of the same backend that the engine can open
     * as its own), on the loop, before returning: a session recording keeps
     * the database its replay starts from. Call it after a flush. Return
     * AT_OK, or an error with `why` filled.
     */
    int (*snapshot)(void *ctx, const char *path, char *why, size_t whylen);
} at_storage_ops;

/** What kind of account an exchange instance trades: `mode = paper` sends only to demo and paper.
 */
typedef enum at_venue_class {
    AT_VENUE_LIVE = 0, /**< real money */
    AT_VENUE_DEMO,     /**< the exchange's own demo trading (OKX x-simulated-trading) */
    AT_VENUE_PAPER,    /**< simulated in this process */
    AT_VENUE_DATA_ONLY /**< this instance does not trade (no API keys, a replay) */
} at_venue_class;

/**
 * Order operations of an exchange plugin (ops of an AT_KIND_EXCHANGE plugin
 * that trades; ABI 1.3). This is the only way an order reaches a venue: the
 * engine's executor calls `submit` after every risk rule approved the intent,
 * and nothing else does. An exchange plugin never acts on AT_EV_ORDER_INTENT
 * events from the bus: they are the record of what was asked. All calls run
 * on the main loop.
 */
typedef struct at_exchange_ops {
    uint32_t struct_size; /**< sizeof(at_exchange_ops) at the plugin's build */
    /** Mandatory. The class of the account this instance trades (fixed after init). */
    at_venue_class (*venue_class)(void *ctx);
    /**
     * Mandatory. Act on an approved intent (place, cancel, amend, close
     * position, cancel algo); `intent` is borrowed (copy what you keep), its
     * `account` names this instance and its `sz` is what the risk chain
     * approved. Exactly one AT_EV_ORDER_RESULT with the intent's id follows,
     * later or from inside the call, whatever happens (refusals included).
     */
    void (*submit)(void *ctx, const at_ev_order_intent *intent);
} at_exchange_ops;

/** A risk rule's verdict on an intent. */
typedef enum at_verdict {
    AT_VERDICT_APPROVE = 0, /**< allowed as asked */
    AT_VERDICT_RESIZE,      /**< allowed with a smaller size (`sz`, contracts) */
    AT_VERDICT_REJECT,      /**< refused: nothing is sent */
} at_verdict;

/** What a rule's check answers (zeroed by the engine before the call). */
typedef struct at_risk_answer {
    at_verdict verdict;
    at_dec sz;        /**< AT_VERDICT_RESIZE: the new size, > 0 and below the asked one */
    char reason[256]; /**< why (for resize and reject; shown to users, stored) */
    char rule[48];    /**< which of the plugin's rules decided, e.g. "max_leverage"; may stay "" */
} at_risk_answer;

/**
 * Risk rule operations (ops of an AT_KIND_RISK plugin; ABI 1.3). The engine's
 * executor runs the risk instances in config order on every intent, each on
 * the intent as resized by the rules before it; the first reject stops the
 * chain. Rules keep whatever state they need (equity, positions, prices)
 * from the bus. Closes and reductions (reduce_only, close position, cancel)
 * must not be blocked by rules about entries.
 */
typedef struct at_risk_ops {
    uint32_t struct_size; /**< sizeof(at_risk_ops) at the plugin's build */
    /** Mandatory. Judge `intent` (borrowed) now, on the loop; fill `out`. */
    void (*check)(void *ctx, const at_ev_order_intent *intent, at_risk_answer *out);
} at_risk_ops;

/**
 * A call to an AI provider, made by a trader of the engine when its scheduler
 * triggers (ABI 1.3). Every pointer is borrowed for the duration of
 * request(): copy what you keep.
 */
typedef struct at_ai_request {
    const char *trader;     /**< the trader's name, "alpha" for [trader.alpha] */
    const char *request_id; /**< unique per call: the decision id */
    const char *system;     /**< the system prompt (rendered from prompts/) */
    const char *user;       /**< the user prompt: the context (rendered from prompts/) */
    /**
     * JSON Schema (draft 2020-12 subset) of the decision object the trader
     * accepts, for providers with structured output (`response_format:
     * json_schema`); the prompt describes the same format in words.
     */
    const char *json_schema;
    const char *const *symbols; /**< the trader's instruments ("BTC-USDT-SWAP" …) */
    size_t nsymbols;
    int64_t deadline_ms; /**< answer by this core-clock time (epoch ms); later answers are late */
    /** 0 for the first attempt; 1 for the retry after an invalid answer (its error is in `user`).
     */
    int retry;
} at_ai_request;

/** A provider's answer, borrowed for the done callback. */
typedef struct at_ai_reply {
    int err;           /**< AT_OK, or AT_ETIMEDOUT, AT_EIO, AT_EINVAL … when no answer came */
    const char *error; /**< why, when err != AT_OK ("HTTP 402: Insufficient Balance") */
    /** The model's text, as it came (fences, think tags, text around the JSON included). */
    const char *content;
    const char *reasoning;     /**< reasoning the model gave apart (reasoning_content), or NULL */
    const char *refusal;       /**< a refusal instead of content, or NULL */
    const char *model;         /**< the model that answered */
    const char *finish_reason; /**< "stop", "length" … or NULL */
    int64_t tokens_in, tokens_out;
    double cost_usd; /**< from the provider's configured prices; 0 = free or unknown */
    int64_t latency_ms;
    int attempts; /**< HTTP attempts made (retries on 408/409/429/5xx) */
} at_ai_reply;

/** Called once per request, on the loop, never from inside request(). */
typedef void (*at_ai_done_cb)(void *arg, const at_ai_reply *reply);

/** What a piece of feedback is about (at_ai_feedback.kind). */
typedef enum at_ai_feedback_kind {
    AT_AI_FB_FILLED = 1, /**< an order of the decision filled (price, size, fee) */
    AT_AI_FB_CANCELED,   /**< an order of the decision ended unfilled or partly filled */
    AT_AI_FB_REJECTED,   /**< an intent was refused (risk rule and reason, the venue's code) */
    AT_AI_FB_SHADOW,     /**< an intent of a shadow trader: checked and stored, not sent */
    AT_AI_FB_CLOSED,     /**< a position the decision opened is closed (its PnL) */
} at_ai_feedback_kind;

/**
 * What became of a decision (ABI 1.6), handed to the provider that made it
 * (at_ai_ops.feedback) so it can remember: an agent with memory learns how
 * its earlier trades ended. Every pointer is borrowed for the call.
 */
typedef struct at_ai_feedback {
    uint32_t struct_size;    /**< sizeof(at_ai_feedback) at the engine's build */
    const char *trader;      /**< the trader's name, as at_ai_request.trader */
    const char *decision_id; /**< the decision (= its at_ai_request.request_id) */
    const char *intent_id;   /**< the intent it is about, or NULL (a position's close) */
    const char *symbol;      /**< "BTC-USDT-SWAP" */
    at_ai_feedback_kind kind;
    /**
     * One line for a reader, e.g. "open_long BTC-USDT-SWAP: filled 0.5 @ 67012.3, fee -0.84
     * USDT" or "long BTC-USDT-SWAP opened by this decision (reason: ...) closed: PnL +12.4
     * USDT (realized +14.1, fees -1.7, funding 0)".
     */
    const char *text;
    int64_t ts_ms; /**< core-clock time it became known */
} at_ai_feedback;

/**
 * AI provider operations (ops of an AT_KIND_AI plugin; ABI 1.3). The engine's
 * traders call them; a provider never trades: it answers with text, which
 * the trader validates (CONTRACTS: the decision JSON) and turns into intents
 * that go through the order gate.
 */
typedef struct at_ai_ops {
    uint32_t struct_size; /**< sizeof(at_ai_ops) at the plugin's build */
    /**
     * Mandatory. Start a call; `done` runs exactly once, later, whatever
     * happens (deadline, cancel, stop). Returns AT_OK, or an error and then
     * `done` is not called.
     */
    int (*request)(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg);
    /** Optional. Cancel a call: its `done` runs with err = AT_ESTATE. */
    void (*cancel)(void *ctx, const char *request_id);

    /* ---- added in ABI 1.6 (the engine calls it only when the plugin's
     * struct_size says its struct has it: AT_STRUCT_HAS) ---- */

    /**
     * Optional. What became of one of this provider's decisions (fills,
     * fees, refusals and their reasons, closed positions and their PnL),
     * on the loop, as the trader learns it; `fb` is borrowed. Nothing is
     * answered: a provider that keeps it does so on its own time and must
     * never block.
     */
    void (*feedback)(void *ctx, const at_ai_feedback *fb);
} at_ai_ops;

/** The struct a plugin's entry returns. Fields are only appended within an ABI major. */
typedef struct at_plugin {
    uint16_t abi_major;   /**< AT_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /**< AT_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /**< sizeof(at_plugin) at the plugin's build */
    at_plugin_kind kind;
    const char *name;           /**< module name, e.g. "okx"; file is <kind>_<name>.so */
    const char *version;        /**< plugin version, e.g. "1.0.0" */
    const char *description;    /**< one line */
    const at_cfg_field *config; /**< {0}-terminated schema, or NULL for none */
    size_t ctx_size;            /**< bytes the engine allocates per instance (>= 1) */

    /** Mandatory. Keep inst and host (both valid until destroy). Return AT_OK or < 0. */
    int (*init)(at_instance *inst, const at_host *host, void *ctx);
    /** Optional. Begin work. Return AT_OK or < 0 (the engine then stops). */
    int (*start)(void *ctx);
    /** Optional. Stop work; may flush synchronously. */
    void (*stop)(void *ctx);
    /** Mandatory. Free what the plugin allocated (not ctx itself). */
    void (*destroy)(void *ctx);
    /**
     * Kind-specific operations: at_storage_ops (storage), at_exchange_ops
     * (an exchange that trades), at_risk_ops (risk), at_ai_ops (ai), or NULL.
     */
    const void *ops;
    void *reserved[4]; /**< must be NULL */

    /* ---- added in ABI 1.3 ---- */

    /**
     * Optional. Check the configured values beyond what the schema can say
     * (keys that only make sense together, values with a syntax of their
     * own). Called by `aitrader check-config` and by `run` before init, with
     * the validated config written into `ctx` (nothing else is set: no host,
     * no instance; keep nothing allocated past the call). Return AT_OK, or
     * AT_ECONFIG with `*key` set to the offending key (NULL for the section as
     * a whole) and `why` filled with the reason; the engine reports it as
     * FILE:LINE of that key.
     */
    int (*check_config)(const void *ctx, const char **key, char *why, size_t whylen);
} at_plugin;

/**
 * Initialiser for the ABI fields: put it first in a designated initialiser
 * (it names the first three members, so the rest follow in declaration order,
 * as C++20 designated initialisers require).
 */
#define AT_PLUGIN_HEADER                                                                           \
    .abi_major = AT_ABI_MAJOR, .abi_minor = AT_ABI_MINOR, .struct_size = sizeof(at_plugin)

/**
 * Whether a versioned struct `p` (one with a leading `struct_size`, or an
 * event's `h.size`) was built with `field`: true when the struct the other
 * side filled reaches past it. This is how the engine reads an older
 * plugin's at_plugin and at_storage_ops: a field the plugin's build lacks
 * counts as absent (NULL, zero).
 */
#define AT_STRUCT_HAS(size, type, field)                                                           \
    ((size_t)(size) >= offsetof(type, field) + sizeof(((type *)0)->field))

/** Signature of the entry symbol. */
typedef const at_plugin *(*at_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif

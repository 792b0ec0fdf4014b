/**
 * @file events.h
 * @brief The typed event bus: event types and their payload structs.
 *
 * Every payload struct starts with an at_event header. Events are allocated by
 * host->event_new() (zeroed, header filled), filled by the publisher, then
 * handed to host->publish(), which transfers the publisher's reference to the
 * bus. After publish the payload is immutable.
 *
 * Delivery: the bus queues events and drains the queue from the main loop, in
 * publish order (FIFO), never re-entrantly: a publish from inside a callback is
 * delivered after the current callback returns and after every event published
 * before it. Subscribers receive a borrowed `const at_event *` valid for the
 * duration of the callback; host->event_retain() keeps it longer and
 * host->event_release() drops that reference.
 *
 * Coalescing: events published with AT_PUB_COALESCE replace a not yet
 * delivered event of the same type, source and instrument (the queue keeps its
 * place; the newer payload wins; the replaced one counts as coalesced). Used
 * for order-book snapshots, tickers and marks.
 *
 * Bounds: the queue holds at most [core] bus_market_max market-data events
 * (default 16384; events published from other threads wait in a mailbox with
 * the same bound). When one more comes, the oldest market-data event still
 * queued is dropped, whatever its type, and counted per type and source in
 * aitrader_bus_dropped_total. Per type:
 *  - AT_EV_BOOK, AT_EV_TICKER, AT_EV_MARK, AT_EV_FUNDING (snapshots): while
 *    market data is being dropped they also coalesce as if published with
 *    AT_PUB_COALESCE, so a late subscriber gets the newest state of each
 *    source and instrument rather than a sample of old ones;
 *  - AT_EV_TRADE, and AT_EV_CANDLE with `confirmed` false (a bar in
 *    progress): the oldest is dropped;
 *  - AT_EV_CANDLE with `confirmed` true (a closed bar, which indicators are
 *    built on): never dropped;
 *  - every other type (NEWS, SENTIMENT, BALANCE, POSITION, ORDER, FILL,
 *    INDICATOR, SIGNAL, TRIGGER, DECISION, ORDER_INTENT, RISK_VERDICT,
 *    ORDER_RESULT, ALERT, STATUS): never dropped and never reordered. When more
 *    than [core] bus_backlog_max of them (default 65536) wait, the engine
 *    hands on only a trickle of received frames (a few a loop turn, so no
 *    connection looks dead) until half are delivered: the receive queue
 *    fills, the sockets are paused (TCP pushes back), nothing is dropped.
 * On the simulated clock (backtest, replay) no market data is dropped.
 * Frames from the network wait in a queue of at most [core] net_queue_max
 * bytes (default 16M, plus one message per connection) before the engine
 * stops reading the socket; nothing is dropped there. Each of these episodes
 * (market data dropped, backlog, network paused) publishes one AT_EV_ALERT
 * and logs one warning when it starts, not one per event.
 *
 * Order of subscribers for one event: those of its type in subscription
 * order, then the catch-all (AT_EV_NONE) subscribers in subscription order.
 *
 * Growth: fields are appended only. event_new() allocates and zeroes the
 * engine's (newest) payload struct, and publish() stamps the header with the
 * engine's payload version (AT_EV_VERSION of the engine's build), whatever the
 * publisher's build: a plugin built against an older version fills the fields
 * it knows and the others read as zero / "". A subscriber compares `version`
 * with the AT_EV_VERSION it was built against: in an engine that loaded it,
 * `version` is at least that (the loader refuses plugins newer than the
 * engine), and fields after those it knows are simply not its concern.
 */
#ifndef AITRADER_EVENTS_H
#define AITRADER_EVENTS_H

#include <aitrader/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Event types, in pipeline order: market data and the outside world come in,
 * the account is followed, indicators and signals feed the scheduler, whose
 * TRIGGER asks an AI provider for a DECISION; an ORDER_INTENT passes the risk
 * rules (RISK_VERDICT) and the executor, and the venue answers
 * (ORDER_RESULT, then ORDER / FILL). Events are records of what happened,
 * never commands: publishing an ORDER_INTENT sends nothing by itself.
 */
typedef enum at_event_type {
    AT_EV_NONE = 0,
    /* market data */
    AT_EV_TICKER,  /**< at_ev_ticker: best bid/ask, last price */
    AT_EV_BOOK,    /**< at_ev_book: top-N snapshot of a maintained book (coalescable) */
    AT_EV_TRADE,   /**< at_ev_trade: one public trade */
    AT_EV_CANDLE,  /**< at_ev_candle: one candle (confirmed or in progress) */
    AT_EV_FUNDING, /**< at_ev_funding: funding rate */
    AT_EV_MARK,    /**< at_ev_mark: mark price */
    /* outside world */
    AT_EV_NEWS,      /**< at_ev_news: one news item */
    AT_EV_SENTIMENT, /**< at_ev_sentiment: a sentiment reading */
    /* account */
    AT_EV_BALANCE,  /**< at_ev_balance: account equity and availability */
    AT_EV_POSITION, /**< at_ev_position: one position's state */
    AT_EV_ORDER,    /**< at_ev_order: one order's state */
    AT_EV_FILL,     /**< at_ev_fill: one execution */
    /* analysis and decisions */
    AT_EV_INDICATOR,    /**< at_ev_indicator: indicator values for an instrument and bar */
    AT_EV_SIGNAL,       /**< at_ev_signal: a threshold crossing with salience */
    AT_EV_TRIGGER,      /**< at_ev_trigger: the scheduler decided to call the AI */
    AT_EV_DECISION,     /**< at_ev_decision: a validated (or rejected) AI decision */
    AT_EV_ORDER_INTENT, /**< at_ev_order_intent: something wants an order placed/cancelled */
    AT_EV_RISK_VERDICT, /**< at_ev_risk_verdict: a risk rule's verdict on an intent */
    AT_EV_ORDER_RESULT, /**< at_ev_order_result: the venue's answer to an intent */
    AT_EV_ALERT,        /**< at_ev_alert: something a human should see */
    AT_EV_STATUS,       /**< at_ev_status: an instance's connection/health state changed */
    /* ABI 1.4 */
    AT_EV_ALGO_ORDER, /**< at_ev_algo_order: one algo order's state (TP/SL, trigger) */
    AT_EV__COUNT      /**< number of types (not a type) */
} at_event_type;

/** Payload version published by this SDK build. */
#define AT_EV_VERSION 5

/** Fixed sizes of identifier fields (including the NUL). */
#define AT_ID_LEN 48       /**< ids: ordId, clOrdId, tradeId, intent ids, instance names */
#define AT_CCY_LEN 16      /**< currency codes */
#define AT_BOOK_DEPTH 25   /**< levels per side carried by at_ev_book */
#define AT_IND_MAX 48      /**< values carried by at_ev_indicator */
#define AT_DECISION_MAX 16 /**< actions carried by at_ev_decision */

/**
 * Common header of every event. Filled by host->event_new() and publish();
 * publishers set only `inst` (and the payload), everything else is the bus's.
 */
typedef struct at_event {
    uint16_t type;    /**< at_event_type */
    uint16_t version; /**< payload version: AT_EV_VERSION of the engine (set by publish) */
    uint32_t size;    /**< size of the payload struct, header included */
    int64_t ts_us;    /**< core-clock time of event_new(), microseconds since the epoch */
    uint64_t seq; /**< bus sequence number, assigned at delivery: strictly increasing, gapless */
    const char *source; /**< publishing instance name ("exchange.okx_main"); engine-owned */
    at_inst inst;       /**< instrument this event is about, or 0 */
    uint32_t flags;     /**< AT_PUB_* flags given to publish */
} at_event;

/** Publish flags. */
#define AT_PUB_COALESCE 0x1u /**< replace an undelivered event of same type+source+inst */

/** A price level. */
typedef struct at_level {
    at_dec px;
    at_dec sz;
} at_level;

/** AT_EV_TICKER */
typedef struct at_ev_ticker {
    at_event h;
    at_dec last, last_sz, bid, bid_sz, ask, ask_sz;
    at_dec open24h, high24h, low24h, vol24h; /**< vol24h in contracts */
    int64_t exch_ts_ms;                      /**< exchange timestamp */
} at_ev_ticker;

/** AT_EV_BOOK: a consistent top-N view of the maintained book. */
typedef struct at_ev_book {
    at_event h;
    uint32_t nbids, nasks;        /**< valid levels in bids/asks */
    at_level bids[AT_BOOK_DEPTH]; /**< best (highest) first */
    at_level asks[AT_BOOK_DEPTH]; /**< best (lowest) first */
    int64_t seq_id;               /**< exchange seqId of the last applied update */
    int64_t exch_ts_ms;           /**< exchange timestamp */
    int64_t recv_us;              /**< when the frame arrived (core clock, us) */
    bool snapshot;                /**< true if produced by a full snapshot */
} at_ev_book;

/** AT_EV_TRADE */
typedef struct at_ev_trade {
    at_event h;
    char trade_id[AT_ID_LEN];
    at_dec px, sz; /**< sz in contracts */
    at_side side;  /**< taker side */
    int64_t exch_ts_ms;
} at_ev_trade;

/** AT_EV_CANDLE */
typedef struct at_ev_candle {
    at_event h;
    int64_t bar_s;   /**< bar length in seconds (60, 300, 3600 …) */
    int64_t open_ms; /**< bar open time */
    at_dec o, hi, lo, c;
    at_dec vol;     /**< volume in contracts */
    at_dec vol_ccy; /**< volume in base currency */
    bool confirmed; /**< the bar is closed */
} at_ev_candle;

/** AT_EV_FUNDING */
typedef struct at_ev_funding {
    at_event h;
    at_dec rate;        /**< current funding rate */
    at_dec next_rate;   /**< forecast, if known (scale 0, m 0 when unknown) */
    int64_t funding_ms; /**< time the current rate settles */
    int64_t next_funding_ms;
} at_ev_funding;

/** AT_EV_MARK */
typedef struct at_ev_mark {
    at_event h;
    at_dec mark_px;
    at_dec index_px; /**< 0 when unknown */
    int64_t exch_ts_ms;
} at_ev_mark;

/** AT_EV_NEWS (strings live in the event's extra space, see host->event_strdup) */
typedef struct at_ev_news {
    at_event h;
    const char *id;   /**< stable id (guid or url hash) */
    const char *feed; /**< feed name */
    const char *title;
    const char *url;
    const char *summary; /**< may be NULL */
    const char *symbols; /**< comma-separated currencies mentioned, may be NULL */
    int64_t published_ms;
    double score; /**< sentiment score -1..1, NaN when not scored */
    /* payload version 5 (ABI 1.7) */
    /**
     * How much the item may move the prices of its symbols, 0..1: an LLM
     * scorer's judgement, else half the lexicon score's strength (a lexicon
     * cannot tell a recap from a hack); 0 from a publisher built before ABI
     * 1.7. The same item may come again (same id) once an LLM scored it. A trader's scheduler takes
     * a fresh headline about its symbols with impact >= its news_impact as a salient signal.
     */
    double impact;
    double llm_score;   /**< an LLM scorer's sentiment -1..1; meaningful only when scorer is set */
    const char *scorer; /**< the [ai.*] instance that scored it, or NULL */
} at_ev_news;

/** AT_EV_SENTIMENT */
typedef struct at_ev_sentiment {
    at_event h;
    const char *feed;  /**< "feargreed", "lexicon" … */
    const char *label; /**< "Extreme Fear" …, may be NULL */
    double value;      /**< feed's scale (F&G 0..100, lexicon -1..1) */
    int64_t as_of_ms;
} at_ev_sentiment;

/** AT_EV_BALANCE */
typedef struct at_ev_balance {
    at_event h;
    char account[AT_ID_LEN]; /**< instance name of the exchange account */
    char ccy[AT_CCY_LEN];    /**< "USDT", or "" for the account total */
    at_dec total_eq;         /**< account equity in USD (totalEq) */
    at_dec eq;               /**< equity of ccy */
    at_dec avail;            /**< available balance of ccy */
    at_dec upl;              /**< unrealized PnL */
    int64_t exch_ts_ms;
} at_ev_balance;

/** AT_EV_POSITION */
typedef struct at_ev_position {
    at_event h;
    char account[AT_ID_LEN];
    char pos_id[AT_ID_LEN];
    at_pos_side pos_side;
    bool isolated; /**< mgnMode isolated (else cross) */
    at_dec pos;    /**< contracts; signed in net mode, >= 0 in long/short mode */
    at_dec avg_px;
    at_dec upl;
    at_dec lever;
    at_dec liq_px; /**< 0 when none */
    at_dec margin;
    at_dec realized_pnl;
    int64_t exch_ts_ms;
} at_ev_position;

/** Order states, as OKX names them. */
typedef enum at_ord_state {
    AT_ORD_UNKNOWN = 0,
    AT_ORD_LIVE,
    AT_ORD_PARTIALLY_FILLED,
    AT_ORD_FILLED,
    AT_ORD_CANCELED,
    AT_ORD_MMP_CANCELED,
} at_ord_state;

/** Order types, as OKX names them. */
typedef enum at_ord_type {
    AT_ORDT_MARKET = 0,
    AT_ORDT_LIMIT,
    AT_ORDT_POST_ONLY,
    AT_ORDT_FOK,
    AT_ORDT_IOC,
} at_ord_type;

/** AT_EV_ORDER */
typedef struct at_ev_order {
    at_event h;
    char account[AT_ID_LEN];
    char ord_id[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    at_side side;
    at_pos_side pos_side;
    at_ord_type ord_type;
    at_ord_state state;
    at_dec px, sz; /**< sz in contracts */
    at_dec acc_fill_sz;
    at_dec avg_px;
    at_dec fee; /**< negative = paid */
    char fee_ccy[AT_CCY_LEN];
    bool reduce_only;
    int64_t c_time_ms, u_time_ms;
    /* payload version 4 (ABI 1.4) */
    char algo_id[AT_ID_LEN]; /**< the algo order (TP/SL, trigger) that placed this one, or "" */
    char algo_cl_ord_id[AT_ID_LEN]; /**< that algo order's algoClOrdId, or "" */
} at_ev_order;

/** AT_EV_FILL */
typedef struct at_ev_fill {
    at_event h;
    char account[AT_ID_LEN];
    char trade_id[AT_ID_LEN];
    char ord_id[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    at_side side;
    at_pos_side pos_side;
    at_dec px, sz; /**< sz in contracts */
    at_dec fee;    /**< negative = paid */
    char fee_ccy[AT_CCY_LEN];
    bool maker;
    int64_t exch_ts_ms;
    /* payload version 4 (ABI 1.4) */
    char algo_cl_ord_id[AT_ID_LEN]; /**< algoClOrdId of the algo order that placed the filled
                                       order (a TP/SL that fired), or "" */
} at_ev_fill;

/** One indicator value. */
typedef struct at_ind_value {
    char name[24]; /**< "rsi14", "ema12", "chg_5m" … */
    double value;  /**< NaN during warm-up */
} at_ind_value;

/** AT_EV_INDICATOR */
typedef struct at_ev_indicator {
    at_event h;
    int64_t bar_s; /**< bar the values were computed on */
    int64_t bar_open_ms;
    uint32_t n;
    at_ind_value v[AT_IND_MAX];
} at_ev_indicator;

/** Signal directions. */
typedef enum at_signal_dir { AT_SIG_UP = 1, AT_SIG_DOWN = 2, AT_SIG_SPIKE = 3 } at_signal_dir;

/** AT_EV_SIGNAL */
typedef struct at_ev_signal {
    at_event h;
    char indicator[24];
    at_signal_dir dir;
    double value;     /**< indicator value at the crossing */
    double threshold; /**< level crossed */
    double salience;  /**< 0..1 */
    bool entered;     /**< true = entered the zone, false = left it */
} at_ev_signal;

/** AT_EV_TRIGGER */
typedef struct at_ev_trigger {
    at_event h;
    char trader[AT_ID_LEN];
    char key[AT_ID_LEN]; /**< idempotency key (trader + window) */
    const char *reason;  /**< "long period", "signal rsi14 up 0.82 BTC-USDT-SWAP" … */
    double salience;
    bool short_mode;
    /* payload version 2 (ABI 1.2) */
    int64_t deadline_ms; /**< the AI call should answer (DECISION) within this, from h.ts_us */
} at_ev_trigger;

/**
 * Decision actions: the `action` of an AI decision item ("open_long",
 * "open_short", "close_long", "close_short", "hold" in the providers' JSON).
 */
typedef enum at_action {
    AT_ACT_HOLD = 0,
    AT_ACT_OPEN_LONG,
    AT_ACT_OPEN_SHORT,
    AT_ACT_CLOSE_LONG,
    AT_ACT_CLOSE_SHORT,
} at_action;

/** One action of a decision. */
typedef struct at_decision_item {
    at_inst symbol;
    at_action action;
    double size_pct; /**< fraction of equity as margin (open) or of the position (close) */
    double leverage;
    at_dec take_profit; /**< 0 when absent */
    at_dec stop_loss;   /**< 0 when absent */
    double confidence;
    const char *reason;
    const char *invalidation;
} at_decision_item;

/** AT_EV_DECISION */
typedef struct at_ev_decision {
    at_event h;
    char decision_id[AT_ID_LEN];
    char trader[AT_ID_LEN];
    char provider[AT_ID_LEN]; /**< AI instance name */
    const char *model;
    bool valid; /**< false: invalid_reason says why; items empty */
    const char *invalid_reason;
    int64_t latency_ms;
    int64_t tokens_in, tokens_out;
    uint32_t n;
    at_decision_item items[AT_DECISION_MAX];
    /* payload version 2 (ABI 1.2) */
    char trigger_key[AT_ID_LEN]; /**< key of the TRIGGER this answers; "" when none */
    double cost_usd; /**< what the call cost (tokens x the provider's prices); 0 = free/unknown */
} at_ev_decision;

/** What an intent asks for. */
typedef enum at_intent_op {
    AT_INTENT_PLACE = 0,
    AT_INTENT_CANCEL,
    AT_INTENT_AMEND,
    AT_INTENT_CLOSE_POSITION,
    AT_INTENT_CANCEL_ALGO, /**< cancel an algo order (TP/SL, trigger): ord_id holds the algoId */
} at_intent_op;

/** AT_EV_ORDER_INTENT: sizes are contracts, prices exact. */
typedef struct at_ev_order_intent {
    at_event h;
    char intent_id[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN]; /**< derived from intent_id: alphanumeric, <= 32 chars */
    char account[AT_ID_LEN];   /**< exchange instance name */
    char origin[AT_ID_LEN];    /**< trader name, "manual" or a rule name */
    char decision_id[AT_ID_LEN];
    char ord_id[AT_ID_LEN]; /**< for cancel/amend; the algoId for cancel_algo */
    at_intent_op op;
    at_side side;
    at_pos_side pos_side; /**< net only in net_mode; with reduce_only never buy+long/sell+short */
    bool isolated;        /**< tdMode isolated (else cross) */
    at_ord_type ord_type;
    at_dec sz; /**< contracts */
    at_dec px; /**< limit price; 0 for market */
    bool reduce_only;
    at_dec tp_trigger_px; /**< 0 when absent */
    at_dec sl_trigger_px; /**< 0 when absent */
    at_dec leverage;      /**< 0 = leave as is */
    bool shadow;          /**< risk-check and store, do not send */
    /* payload version 4 (ABI 1.4) */
    int64_t ttl_ms; /**< a place of a resting order (not market): the engine cancels what is
                       still unfilled this long after it was sent; 0 = it rests */
} at_ev_order_intent;

/**
 * Whether a place adds to a position (an entry) — the one rule the risk
 * rules judge by and exchange_okx sends by. Long/short mode (pos_side long
 * or short): OKX ignores reduceOnly there, so the side decides: a sell of the
 * long or a buy of the short reduces, whatever reduce_only says. Net mode
 * (pos_side net): only reduce_only makes a reduction (the venue refuses a
 * reduce-only order that would grow the position).
 */
static inline bool at_place_is_entry(at_side side, at_pos_side pos_side, bool reduce_only)
{
    if (pos_side == AT_POS_LONG) {
        return side != AT_SIDE_SELL;
    }
    if (pos_side == AT_POS_SHORT) {
        return side != AT_SIDE_BUY;
    }
    return !reduce_only;
}

/** AT_EV_RISK_VERDICT: one rule's verdict on an intent (published by the engine's executor). */
typedef struct at_ev_risk_verdict {
    at_event h;
    char intent_id[AT_ID_LEN];
    char rule[AT_ID_LEN]; /**< the risk instance ("risk.limits"), or "core.gate" for the engine's
                             own checks */
    bool allowed;         /**< approve or resize */
    const char *reason;
    /* payload version 3 (ABI 1.3) */
    int verdict;      /**< at_verdict (plugin.h): approve, resize or reject */
    at_dec sz;        /**< the size after this rule (contracts) */
    const char *name; /**< the plugin's own name for the rule that decided, or "" */
} at_ev_risk_verdict;

/** AT_EV_ORDER_RESULT */
typedef struct at_ev_order_result {
    at_event h;
    char intent_id[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    char ord_id[AT_ID_LEN];
    char account[AT_ID_LEN];
    at_intent_op op;
    bool ok;
    char code[16]; /**< venue code ("0", "51008" …) or "" */
    const char *msg;
    int64_t latency_us; /**< request out to answer in */
} at_ev_order_result;

/** Algo order states, as OKX's orders-algo names them. */
typedef enum at_algo_state {
    AT_ALGO_UNKNOWN = 0,
    AT_ALGO_LIVE,                /**< waiting for its trigger */
    AT_ALGO_EFFECTIVE,           /**< triggered: its order was placed */
    AT_ALGO_PARTIALLY_EFFECTIVE, /**< one leg triggered */
    AT_ALGO_CANCELED,
    AT_ALGO_FAILED, /**< order_failed: triggered, its order refused */
} at_algo_state;

/**
 * AT_EV_ALGO_ORDER (ABI 1.4): an algo order the venue holds — the TP/SL
 * attached to an entry (algoClOrdId = the entry's clOrdId + "a"), a
 * conditional, oco or trigger order. Published by exchanges on each change
 * and for every pending one when they (re)connect.
 */
typedef struct at_ev_algo_order {
    at_event h;
    char account[AT_ID_LEN];
    char algo_id[AT_ID_LEN];
    char algo_cl_ord_id[AT_ID_LEN];
    char ord_type[16]; /**< "conditional", "oco", "trigger" … as OKX names it */
    at_algo_state state;
    at_side side; /**< the side of the order it places */
    at_pos_side pos_side;
    at_dec sz;            /**< contracts; 0 with close_position */
    bool close_position;  /**< closes the whole position (closeFraction 1) */
    bool reduce_only;     /**< only reduces (every TP/SL) */
    at_dec tp_trigger_px; /**< 0 when absent */
    at_dec sl_trigger_px; /**< 0 when absent */
    at_dec trigger_px;    /**< trigger orders; 0 when absent */
    int64_t c_time_ms, u_time_ms;
} at_ev_algo_order;

/** AT_EV_ALERT */
typedef struct at_ev_alert {
    at_event h;
    at_log_level level;
    const char *message;
} at_ev_alert;

/** Instance states reported with AT_EV_STATUS (and in /api/health). */
typedef enum at_state {
    AT_STATE_INIT = 0,
    AT_STATE_STARTING,
    AT_STATE_UP,
    AT_STATE_DEGRADED,
    AT_STATE_DOWN,
    AT_STATE_STOPPED,
} at_state;

/** AT_EV_STATUS */
typedef struct at_ev_status {
    at_event h;
    char instance[AT_ID_LEN];
    at_state state;
    const char *detail;
} at_ev_status;

/** Subscriber callback. `ev` is borrowed for the call; `arg` is what subscribe() got. */
typedef void (*at_event_cb)(void *arg, const at_event *ev);

#ifdef __cplusplus
}
#endif

#endif

/* Internals shared by trader.c (calls, intents), context.c (what the bus
 * told, rendered for the prompt) and trader_store.c (the decisions table,
 * instruments, accounts). Not for other modules. */
#ifndef AT_CORE_TRADING_TRADER_INTERNAL_H
#define AT_CORE_TRADING_TRADER_INTERNAL_H

#include <jansson.h>

#include "prompt.h"
#include "sizing.h"
#include "trader.h"
#include "validate.h"

#define TR_MAX_SYMBOLS 64
#define TR_MAX_BARS 8      /* bar sizes whose latest INDICATOR is kept */
#define TR_MAX_ORDERS 64   /* live orders of the account shown */
#define TR_MAX_MARGINS 128 /* positions of the account counted in margin use */
#define TR_NEWS 64         /* headlines kept for the prompt (the newest) */
#define TR_SENTIMENT 4     /* sentiment feeds shown */
#define TR_HIST_MAX 50     /* past decisions kept (history's upper bound) */
#define TR_PENDING 32      /* entries waiting for their fill to become a thesis */
#define TR_NOTE_LEN 160
#define TR_MAX_WAITING 16 /* triggers held while the history is read */

typedef enum tr_pos_mode { TR_MODE_UNKNOWN = 0, TR_MODE_NET, TR_MODE_LONG_SHORT } tr_pos_mode;

/* The trader's two books: what the live account holds, and what its shadow
 * account (a paper venue) holds for the entries drawn shadow. */
#define TR_LIVE 0
#define TR_SHADOW 1
#define TR_BOOKS 2
/* An item's intents at most: a close goes to each book that holds it. */
#define TR_ITEM_INTENTS 2

/* Why a position was opened: the entry decision's reason and invalidation. */
typedef struct tr_thesis {
    bool set;
    char decision_id[AT_ID_LEN];
    int64_t ts_ms;
    at_dec tp, sl;
    char reason[VD_TEXT_MAX + 1];
    char invalidation[VD_TEXT_MAX + 1];
} tr_thesis;

typedef struct tr_position {
    at_dec pos, avg_px, upl, lever, margin, realized;
    int64_t since_ms; /* first seen open in this run */
    /* the giveback watchdog (trader_guard.c): the highest uPnL seen since
     * the position was first seen open in this run (scaled down with the
     * position when part of it is closed), whether it reached the arming
     * level, whether the watchdog closed it */
    at_dec peak_upl;
    bool armed, gave_back;
    int64_t gb_since_ms;       /* in the watchdog's intent id */
    int gb_tries;              /* closes it published for this position */
    char gb_intent[AT_ID_LEN]; /* the last one's intent id, "" none */
    bool gb_said_none;         /* said that the ledger gives the trader none of it */
} tr_position;

typedef struct tr_symbol {
    at_inst id;
    const char *name; /* the config's string */
    at_dec last, mark;
    int64_t last_ms, mark_ms; /* core-clock time each price came */
    bool has_funding, has_obi;
    double funding, obi;
    const at_ev_indicator *ind[TR_MAX_BARS]; /* retained */
    tr_position pos[TR_BOOKS][3];            /* by book, at_pos_side */
    tr_thesis thesis[TR_BOOKS][2];           /* by book; 0: long, 1: short */
    sz_inst spec;
    bool has_spec, spec_own; /* spec_own: from the account's own venue */
} tr_symbol;

typedef struct tr_order {
    char ord_id[AT_ID_LEN];
    at_inst inst;
    at_side side;
    at_ord_type type;
    at_ord_state state;
    at_dec px, sz, filled;
    bool reduce_only;
    bool shadow; /* on the shadow account */
} tr_order;

typedef struct tr_margin {
    at_inst inst;
    at_pos_side side;
    at_dec margin;
} tr_margin;

typedef struct tr_news {
    char id[48];
    int64_t ts_ms; /* published */
    char feed[24];
    char title[160];
    char symbols[128]; /* "BTC,ETH" as NEWS carries it (NSRC_SYMBOLS); "" = the market at large */
    double score;      /* the LLM scorer's sentiment, else the lexicon's; NaN: none */
    double impact;     /* 0..1; 0: not judged */
} tr_news;

typedef struct tr_sentiment {
    char feed[24];
    char label[32];
    double value;
    int64_t as_of_ms;
} tr_sentiment;

/* One item of a past decision, with what became of it. */
typedef struct tr_hist_item {
    size_t sym;
    at_action action;
    at_dec size_pct, leverage;
    char intent_id[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    char outcome[TR_NOTE_LEN];
    /* a close that went to both books: its second (shadow) intent */
    char intent2[AT_ID_LEN];
    char cl2[AT_ID_LEN];
    char outcome2[TR_NOTE_LEN];
} tr_hist_item;

typedef struct tr_hist {
    char decision_id[AT_ID_LEN]; /* empty for the watchdog's close */
    char watchdog[TR_NOTE_LEN];  /* what the giveback watchdog did, and why */
    int64_t ts_ms;
    bool valid;
    char invalid[TR_NOTE_LEN];
    size_t n;
    tr_hist_item items[AT_DECISION_MAX];
} tr_hist;

/* An entry sent, waiting for its first fill to become its position's thesis. */
typedef struct tr_pending {
    char cl_ord_id[AT_ID_LEN];
    char intent_id[AT_ID_LEN];
    size_t sym;
    int dir;  /* 0 long, 1 short */
    int book; /* TR_LIVE, TR_SHADOW */
    tr_thesis thesis;
} tr_pending;

/* One AI call: a trigger until its decision is stored and published. */
typedef struct tr_call {
    trader *t;
    struct tr_call *next;
    char key[AT_ID_LEN]; /* the trigger's key = the decision id */
    char *trigger_reason;
    int64_t trigger_ms, deadline_ms; /* absolute core-clock ms */
    int attempt;                     /* 0, or 1 for the retry */
    bool asking, abandoned, timed_out;
    bool ask_timed;   /* cfg.ask_at was asked (a replay) */
    int settle_waits; /* loop turns waited for cfg.settle */
    at_timer *timer;  /* one at a time: the ready poll, ask_at, the settle retry, then the
                         deadline (cancel the AI call) */
    char *system, *user, *user_retry;
    int64_t prompt_tokens;
    /* per symbol the price the prompt showed (tr_price at the context's
     * build, 0 when none) */
    at_dec prompt_px[TR_MAX_SYMBOLS];
    /* the first attempt, when retried */
    char *first_raw, *first_error;
    /* sums over attempts */
    int64_t tokens_in, tokens_out, latency_ms;
    double cost_usd;
    int64_t asked_ms;
} tr_call;

/* A stored intent without an orders row, waiting to be published again
 * (trader_store.c). */
typedef struct tr_again {
    at_ev_order_intent in;
    int64_t until_ms;   /* the end of its decision's window */
    int64_t decided_ms; /* its decision's created_ms */
    at_dec prompt_px;   /* the price its decision's prompt showed; 0 = not stored */
    bool wait_row;      /* its row was left sent/unknown: the exchange's reconciliation
                           says first whether it reached the venue ("unsent": send) */
} tr_again;

#define TR_UNSENT_EARLY 64

struct trader {
    const at_host *h;
    at_instance *inst;
    trader_cfg cfg;
    char name[AT_ID_LEN], ai_name[AT_ID_LEN], account[AT_ID_LEN];
    char shadow_account[AT_ID_LEN]; /* "" = none */
    gray_rules gray;
    prompt_tpl tpl;
    vd_limits lim;
    at_dec max_leverage, max_size_pct, tp_pct, sl_pct;
    at_dec max_move_bps, giveback_pct, giveback_arm_pct; /* 0 = off */
    int64_t price_max_age_ms;
    at_dec prices[TR_MAX_SYMBOLS]; /* for the validator: last, else mark */
    bool all_indicators;
    tr_symbol sym[TR_MAX_SYMBOLS];
    size_t nsym;
    /* account (the live one; pos_mode per book) */
    tr_pos_mode pos_mode[TR_BOOKS];
    bool has_balance;
    at_dec shadow_eq; /* the shadow account's equity, once known */
    bool has_shadow_eq, shadow_eq_said;
    at_dec total_eq, avail, upl;
    tr_margin margins[TR_MAX_MARGINS];
    size_t nmargins;
    tr_order orders[TR_MAX_ORDERS];
    size_t norders;
    /* outside world */
    tr_news news[TR_NEWS];
    size_t nnews;
    tr_sentiment sent[TR_SENTIMENT];
    size_t nsent;
    /* memory */
    tr_hist *hist; /* ring of TR_HIST_MAX, oldest first from hstart */
    size_t hstart, hn;
    tr_pending pending[TR_PENDING];
    size_t npending;
    /* calls */
    tr_call *calls;
    int subs[16];
    size_t nsubs;
    bool running, loaded, freed;
    unsigned queries; /* storage reads in flight: free waits for them */
    /* stored intents without an orders row, waiting for the account to be
     * ready before they are published again (trader_store.c) */
    tr_again *again;
    size_t nagain;
    at_timer *again_timer;
    /* "unsent" results that came before the stored decisions were read */
    char unsent_early[TR_UNSENT_EARLY][AT_ID_LEN];
    size_t nunsent_early;
    /* triggers that came before the stored decisions were read (retained) */
    const at_event *waiting[TR_MAX_WAITING];
    size_t nwaiting;
    trader_stats st;
    struct tr_fb *fb; /* what trader_feedback.c told the AI, closes waiting for the ledger */
};

/* The book an account's events are about: TR_LIVE (the account),
 * TR_SHADOW (the shadow account), or -1 (another account). */
int tr_book_of(const trader *t, const char *account);
/* The account of a book. */
const char *tr_book_account(const trader *t, int book);

/* context.c: what the bus told; context_render.c: its rendering. */
const char *tr_state_name(at_ord_state s);
int tr_ctx_subscribe(trader *t);
void tr_ctx_release(trader *t);
int tr_symbol_index(const trader *t, at_inst id);
at_dec tr_price(const trader *t, size_t sym);
char *tr_render_account(const trader *t);
char *tr_render_positions(const trader *t, int64_t now_ms);
char *tr_render_orders(const trader *t);
char *tr_render_history(const trader *t, int64_t now_ms);
char *tr_render_market(const trader *t);
/* context_news.c: a NEWS item kept (about one of the trader's coins or
 * none in particular; the same id replaces its earlier copy; the oldest
 * goes when full), and the prompt's news section: the most relevant recent
 * headlines per coin, then of the market, and the sentiment readings, within
 * the trader's news_tokens. */
void tr_news_keep(trader *t, const at_ev_news *n, int64_t now_ms);
/* "42s", "5m", "3h07m", "2d04h" (context_render.c). */
void tr_age(int64_t ms, char *buf, size_t n);
char *tr_render_news(const trader *t, int64_t now_ms);
tr_hist *tr_hist_push(trader *t);
/* An order's state or a result for one of this trader's intents. */
void tr_hist_outcome(trader *t, const char *intent_id, const char *cl_ord_id, const char *text);
void tr_thesis_promote(trader *t, const char *cl_ord_id);
void tr_thesis_drop(trader *t, const char *intent_id);
void tr_pending_add(trader *t, const tr_pending *p);

/* The time the price tr_price returns came (0: none). */
int64_t tr_price_ms(const trader *t, size_t sym);

/* trader_guard.c */
/* Whether the current price of `sym` may still be acted on for an entry
 * decided on a prompt that showed `prompt_px` (0: it showed none):
 * true, or false with a note saying both prices, the move in bps and the
 * limit broken (price_max_age, max_price_move_bps). */
bool tr_price_ok(const trader *t, size_t sym, at_dec prompt_px, char *note, size_t notelen);
/* After a POSITION of symbol `sym`, side `side` (the position as it was
 * before it in `prev`): follow its peak uPnL and close it once it gave
 * back giveback_pct of it. */
void tr_giveback_on_position(trader *t, int book, size_t sym, at_pos_side side,
                             const tr_position *prev);
/* An ORDER_RESULT for one of this trader's intents: a refused close of the
 * watchdog's lets it close again (under a new id) while the position still
 * gives back, a few times. */
void tr_giveback_on_result(trader *t, const at_ev_order_result *r);

/* trader_intents.c */
/* "ai" + the first 28 hex digits of SHA-256(intent id), or "" (the
 * executor derives one). */
void tr_cl_ord_id(const char *intent_id, char out[AT_ID_LEN]);
/* How an entry was routed (4b in trader.h): its weight, and the draw when
 * one was made (0 < weight < 1). */
typedef struct tr_route {
    bool gray; /* the trader has a shadow route: recorded in intents_json */
    double weight;
    bool drawn;
    double draw;
} tr_route;

/* One item into its intents (1, or 2 for a close held by both books; the
 * count), or 0 with a note saying why not; an entry's thesis goes to `pend`
 * (waiting for its fill), its routing to `route`. */
size_t tr_plan_item(trader *t, const tr_call *c, const vd_item *it, size_t idx,
                    at_ev_order_intent o[TR_ITEM_INTENTS], tr_pending *pend, tr_route *route,
                    char *note, size_t notelen);
/* The item's line of intents_json: what was asked (with the price the
 * prompt showed, when not 0, and the routing of an entry, when `route`),
 * or the note. */
void tr_note_intent(const trader *t, json_t *arr, size_t idx, const vd_item *it,
                    const at_ev_order_intent *o, at_dec prompt_px, const tr_route *route,
                    const char *note);
/* The inverse of tr_note_intent for a line with an intent: the intent as it
 * was published (AT_OK), or AT_EINVAL with why (a line this trader would not
 * have written). */
int tr_intent_from_json(const trader *t, const json_t *x, const char *decision_id,
                        at_ev_order_intent *o, char *why, size_t whylen);
void tr_publish_decision(trader *t, const tr_call *c, const at_ai_reply *r, const vd_decision *d,
                         const char *why);
/* Publishes a copy of `in` as an ORDER_INTENT of its instrument (in->h.inst)
 * and counts it: AT_OK, or AT_ENOMEM with nothing published. */
int tr_publish_intent(trader *t, const at_ev_order_intent *in);

/* trader_feedback.c: what became of a decision, told to its AI provider
 * (at_ai_ops.feedback, ABI 1.6) when it has the op. */
/* An ORDER of one of this trader's intents: its end (filled, cancelled). */
void tr_feedback_order(trader *t, const at_ev_order *o);
/* An ORDER_RESULT of one: a refusal (rule and reason, venue code) or shadow. */
void tr_feedback_result(trader *t, const at_ev_order_result *r);
/* A POSITION of symbol `sym` (was `prev`) with `th` the theses of its book:
 * a position a decision opened is closed, told with its PnL once the
 * ledger has booked it. */
void tr_feedback_closed(trader *t, size_t sym, const at_ev_position *p, const tr_position *prev,
                        const tr_thesis th[2]);
void tr_feedback_stop(trader *t);
void tr_feedback_free(trader *t);

/* trader_store.c */
/* Queues the decision's row: db_write's answer (AT_ESTATE: no storage at
 * all, which the core reports itself); a failure once queued is logged when
 * the storage answers. */
int tr_store_decision(trader *t, const tr_call *c, const at_ai_reply *r, bool valid,
                      const char *validation, const char *actions_json, const char *intents_json);
void tr_load_history(trader *t);
/* Read instruments and the position mode again, then call next(c). */
void tr_refresh(trader *t, tr_call *c, void (*next)(tr_call *c));
void tr_loaded(trader *t);
/* Drop the intents waiting to be published again (stop, free). */
void tr_again_clear(trader *t);
/* An ORDER_RESULT for one of this trader's intents: an exchange's
 * reconciliation saying a row left by a previous run never reached the
 * venue (code "unsent": it may be published again), or settling it
 * otherwise (no longer waited for). True when the result was about an
 * intent waiting to be published again. */
bool tr_again_result(trader *t, const at_ev_order_result *r);
void tr_free_now(trader *t);

#endif

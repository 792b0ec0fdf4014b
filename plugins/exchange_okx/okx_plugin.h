/* exchange_okx internals shared by exchange_okx.c (entry, config,
 * lifecycle), okx_config.c (what the config alone can refuse), okx_feed.c
 * (public and business WebSockets -> market events), okx_backfill.c (the
 * last closed candles over REST at start), okx_account.c (account
 * setup, private WebSocket and the logged-in business one -> account
 * events), okx_algo.c (algo orders -> ALGO_ORDER events), okx_order.c (an
 * intent's request), okx_trade.c (order intents -> REST, results),
 * okx_recon.c (start-up reconciliation), okx_lever.c (leverage) and
 * okx_push.c / okx_ask.c / okx_known.c (order pushes and the questions that
 * catch up with them, okx_push.h). Everything runs on the main loop. */
#ifndef OKX_PLUGIN_H
#define OKX_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <aitrader/plugin.h>

#include "okx_book.h"
#include "okx_inst.h"
#include "okx_md.h"
#include "okx_rest.h"
#include "okx_ws.h"

#define OKX_MAX_SUBS 32    /* instruments traded or watched per account */
#define OKX_MAX_LEVERS 128 /* leverages remembered (instrument, margin mode, side) */

/* The leverage OKX has for one instrument, margin mode and (isolated margin
 * in long/short mode only) position side: from set-leverage answers and
 * position pushes (okx_lever.c). */
typedef struct okx_lever {
    char inst_id[OKX_INST_ID_LEN];
    bool iso;
    at_pos_side side; /* AT_POS_NET unless isolated in long/short mode */
    at_dec lever;
} okx_lever;

/* One instrument this instance follows. */
typedef struct okx_watch {
    const okx_inst *inst;
    okx_book book;
    bool book_resync; /* a gap or checksum miss: resubscribed, waiting for a snapshot */
} okx_watch;

/* Which budget a repeated warning draws on (okx_warn_limited): account and
 * position items (and unreadable pushes), or order and fill items, so a
 * position feed that sends garbage with every push cannot hide an order's
 * refusal. */
typedef enum okx_warn_kind { OKX_WARN_ACCOUNT, OKX_WARN_ORDERS, OKX_WARN_KINDS } okx_warn_kind;

/* replay_at: when a replayed frame is played. */
typedef enum okx_replay_at {
    OKX_REPLAY_AT_START = 0, /* its offset from the first frame, after the replay's start */
    OKX_REPLAY_AT_RECORDED,  /* when the core clock reaches its recorded receive time */
} okx_replay_at;

typedef struct okx_ctx okx_ctx;
typedef struct okx_player okx_player;
struct okx_known;
struct okx_asks;

struct okx_ctx {
    at_instance *inst;
    const at_host *h;
    const char *name; /* "exchange.okx_main" */

    /* config, written by the engine */
    bool demo;
    const char *api_key, *secret_key, *passphrase;
    const char *rest_url, *ws_public_url, *ws_private_url, *ws_business_url;
    at_cfg_list instruments;
    int td_mode; /* 0 cross, 1 isolated */
    int64_t leverage;
    int book_channel; /* 0 books, 1 books5 */
    at_cfg_list candles;
    int64_t backfill; /* closed candles per instrument and bar asked over REST at start */
    int64_t timeout_ms;
    const char *instruments_file; /* a saved /public/instruments answer instead of REST */
    const char *replay;           /* play this recording instead of the public feed */
    const char *record;           /* append the received market frames here */
    double replay_speed;          /* 1 = recorded pace, 0 = as fast as possible */
    int replay_at;       /* okx_replay_at: frames relative to the start, or at their times */
    int64_t replay_from; /* µs: frames recorded before it are skipped (0 = none) */
    bool replay_account; /* replay the recorded account too (private pushes, REST answers) */
    const char *proxy;   /* NULL = [core] proxy, "none" = direct */

    /* state */
    okx_rest *rest;
    okx_ws *ws_pub, *ws_priv, *ws_bus;
    okx_insts *insts;
    okx_watch *watch;
    size_t nwatch;
    okx_md *md;       /* scanner (large: token array) */
    okx_md_msg *msg;  /* its output (large: 400-level books) */
    bool long_short;  /* account posMode long_short_mode */
    bool have_config; /* account/config answered */
    bool started;
    at_timer *retry;      /* instruments retry (one-shot) */
    okx_rest *insts_rest; /* where the instrument list comes from */
    void (*insts_ready)(struct okx_ctx *c, const okx_reply *r);
    at_timer *cfg_retry;     /* account/config retry (one-shot) */
    bool trading;            /* order operations served (instruments in, keys given) */
    void *trade_waits;       /* okx_trade.c: reconciliation lookups waiting for expTime */
    struct okx_known *known; /* orders and fills remembered (okx_known.c) */
    struct okx_asks *asks;   /* questions to OKX about orders (okx_ask.c) */
    okx_ws *ws_algo;         /* business WebSocket, logged in: orders-algo (okx_account.c) */
    struct okx_algos *algos; /* algo order states published (okx_algo.c) */
    struct okx_algo_list {   /* the orders-algo-pending listing under way (okx_algo.c) */
        bool running, check; /* check: also report foreign ones (start) */
        bool again, again_check;
        int pages;
    } algo_list;
    char uid[32];
    okx_lever levers[OKX_MAX_LEVERS]; /* known leverages, oldest first (okx_lever_note) */
    size_t nlevers;
    struct okx_lever_key *lever_keys; /* okx_lever.c: keys held by places or waited for */
    uint64_t md_errors, book_resyncs;
    /* this instance's metrics (exchange_okx.c; NULL under exchange_paper and
     * in unit tests): WebSocket reconnects per kind, book resyncs */
    at_metric *m_ws_public, *m_ws_private, *m_ws_business, *m_book_resyncs;
    int64_t ws_pub_down_since;

    /* warnings that repeat at the venue's pace (okx_warn_limited), a budget
     * per okx_warn_kind */
    struct okx_warn_budget {
        int64_t window_us; /* start of the current minute */
        unsigned lines;    /* lines written in it */
        uint64_t quiet;    /* warnings not written since the last line */
    } warn[OKX_WARN_KINDS];

    struct okx_backfill *backfill_run; /* okx_backfill.c: the start-up backfill under way */

    /* replay and recording (okx_replay.c) */
    okx_player *player;
    bool replay_done;
    FILE *rec;
    at_timer *rec_flush;
    bool rec_failed;
    char *rec_insts; /* the instruments: line's document, until the recording is open */
    struct okx_rec_rest *rec_rest; /* replay_account: the recorded REST answers */
    bool rp_priv_up, rp_algo_up;   /* replay_account: the private feeds as recorded */

    /* exchange_paper runs this same code against an in-process venue: no
     * WebSockets; private pushes come through okx_account_on_private. */
    bool paper;
    bool paper_market_seen; /* a market event for the paper venue arrived */
};

bool okx_private(const okx_ctx *c); /* credentials configured */
/* o[k] as a string, "" when absent or not a string (OKX's text fields). */
const char *okx_jstr(const json_t *o, const char *k);
/* Load c->insts from a /public/instruments answer; AT_OK, or < 0 with why. */
int okx_insts_from_reply(okx_ctx *c, const okx_reply *r, char *err, size_t errlen);
/* A decimal field of an OKX object for storage: exact, or SQL NULL when it is
 * "", absent or not a decimal. */
at_db_value okx_db_dec(okx_ctx *c, const json_t *o, const char *key);
/* json_dumps without its flaw under memory pressure: jansson's dump ignores
 * a key it failed to write, so json_dumps can return a text that lacks a
 * key. This returns the whole text (malloc'd, transferred) or NULL. */
char *okx_json_dumps(const json_t *j, size_t flags);
/* Log `text` and publish it as an ALERT. */
void okx_alert(okx_ctx *c, at_log_level level, const char *text);
/* A WARN line for something the venue may send again and again (unusable
 * values, unreadable pushes): a few lines a minute per instance and kind;
 * the others are counted and the count goes with the next line written. */
void okx_warn_limited(okx_ctx *c, okx_warn_kind kind, const char *fmt, ...) AT_PRINTF(3, 4);
/* A value the venue sent that cannot be used: a rate-limited WARN (as
 * okx_warn_limited) "<what> refused: <field> = <raw value as JSON>; <then>",
 * or "<field> is missing" when v is NULL. */
void okx_refuse(okx_ctx *c, okx_warn_kind kind, const char *what, const char *field,
                const json_t *v, const char *then);
/* A decimal field k of an OKX object into *out. A required one must be an
 * exact decimal string; an optional one may also be "", null or absent
 * (OKX's "none": {0,0}). false, refused through okx_refuse, when the value
 * cannot be used ("NaN", "abc", "1e999", a number, missing where required). */
bool okx_field_dec(okx_ctx *c, okx_warn_kind kind, const char *what, const char *then,
                   const json_t *o, const char *k, bool required, at_dec *out);
/* Everything about this instance's config that can be refused without I/O
 * (credentials given partly, URLs, replay/record combinations, instrument
 * and bar syntax, demo against the URLs' hosts): AT_OK, or AT_ECONFIG with
 * *key the offending key and why the reason. Run by check_config and init
 * (exchange_okx and exchange_paper). Files are checked at start. */
int okx_config_check(const okx_ctx *c, const char **key, char *why, size_t whylen);
/* Load /public/instruments through `rest` (retrying every 5 s, state
 * degraded meanwhile), resolve the configured instruments into c->watch, then
 * call ready(c, answer). */
void okx_load_instruments(okx_ctx *c, okx_rest *rest,
                          void (*ready)(okx_ctx *c, const okx_reply *r));
/* Store the rows of `data` (a /public/instruments answer's) this instance
 * follows in the instruments table under its own name: what the dashboard
 * and the risk rules look an account's instruments up by. */
void okx_store_instruments(okx_ctx *c, json_t *data);
/* Resolve the configured instruments against c->insts into c->watch. */
int okx_watch_resolve(okx_ctx *c);
/* Report the instance's state from the connections' states. */
void okx_refresh_state(okx_ctx *c);

/* okx_feed.c */
int okx_feed_start(okx_ctx *c);
void okx_feed_stop(okx_ctx *c);
okx_watch *okx_watch_find(okx_ctx *c, const char *inst_id, size_t len);
/* One received market frame (WebSocket or replay) into book and bus events. */
void okx_feed_frame(okx_ctx *c, const char *data, size_t len);

/* okx_backfill.c */
/* Ask REST for the last c->backfill closed candles of every followed
 * instrument and `candles` bar and feed them, oldest first, through
 * okx_feed_frame; then done(c), also when requests failed (each a WARN).
 * done runs from inside this call only when nothing could be asked. AT_OK,
 * or AT_ENOMEM (nothing asked, done not called). */
int okx_backfill_start(okx_ctx *c, void (*done)(okx_ctx *c));
/* Forget a backfill under way (stop, right before okx_rest_free). */
void okx_backfill_stop(okx_ctx *c);

/* okx_account.c */
int okx_account_start(okx_ctx *c);
void okx_account_stop(okx_ctx *c);
/* One private push, as the private WebSocket would deliver it:
 * {"arg":{"channel":...},"data":[...]} (borrowed). */
void okx_account_on_private(okx_ctx *c, const char *data, size_t len);

/* okx_lever.c */
/* Set the configured leverage on every followed instrument (start). */
void okx_lever_start(okx_ctx *c);
/* Remember that OKX has `lever` for inst_id in margin mode mgn_mode
 * ("cross"/"isolated") and position side pos_side ("long"/"short"/"net" or
 * ""); a lever of 0 (unknown) forgets it. */
void okx_lever_note(okx_ctx *c, const char *inst_id, const char *mgn_mode, const char *pos_side,
                    at_dec lever);
/* Called once with the outcome of okx_lever_ensure when it answered 1: ok
 * (the leverage is in force, the place may go), or not with the venue's
 * code and message (or "" and why: the exchange stopped, the request could
 * not be sent). Never from inside okx_lever_ensure. */
typedef void (*okx_lever_cb)(void *arg, bool ok, const char *code, const char *msg);
/* A place's hold on its instrument, margin mode and side at the leverage it
 * relies on (okx_lever.c): while held, no set-leverage for another one goes
 * out on that key. */
typedef struct okx_lever_hold okx_lever_hold;
/* Before a place that asks for `want` (> 0), holding its key: 0 when OKX is
 * known to have it and nobody holds the key at another (nothing sent, done
 * not called); 1 when done(arg, …) follows, after its set-leverage was
 * answered or, while other places hold the key at another leverage or wait
 * for it, once they are done (FIFO); < 0 when it could not be asked (why
 * filled, *hold NULL). On 0 and 1 *hold is the caller's: released with
 * okx_lever_release once the place ends, whatever the outcome (done with
 * ok false included). */
int okx_lever_ensure(okx_ctx *c, const char *inst_id, bool iso, const char *pos_side, at_dec want,
                     okx_lever_cb done, void *arg, okx_lever_hold **hold, char *why, size_t whylen);
/* The place holding h ended (answered, refused, failed): the next waiting
 * on its key may go. NULL is a no-op. */
void okx_lever_release(okx_lever_hold *h);
/* Stop: every hold still waiting is told it failed (its owner releases
 * it), then every key and hold is freed, those of places whose requests
 * are still in flight too. Call right before okx_rest_free in the same
 * turn (a set-leverage in flight is freed here and its REST call dropped
 * there, unanswered). */
void okx_lever_stop(okx_ctx *c);

/* okx_algo.c: algo orders (TP/SL, conditional, oco, trigger) into ALGO_ORDER
 * events. */
/* One algo order as OKX shows it (an orders-algo push item, or a row of
 * orders-algo-pending: `kind` names it in warnings, `then` says what a
 * refusal leaves) into an ALGO_ORDER event, unless the state published for
 * it is as new or newer. Only swaps this instance listed. false (a
 * rate-limited warning with the field and its raw value, nothing
 * published) when a value cannot be used. */
bool okx_algo_apply(okx_ctx *c, const char *kind, const char *then, const json_t *o);
/* An item of the orders-algo channel. */
void okx_algo_on_push(okx_ctx *c, const json_t *item);
/* List the algo orders pending at OKX (orders-algo-pending, page after
 * page) and publish each; `check_ours` also reports those no intent of
 * ours explains (start). One listing at a time: asked for while one runs,
 * it runs again when that one is done. */
void okx_algo_list(okx_ctx *c, bool check_ours);
/* Forget the states published and any listing (stop). */
void okx_algo_stop(okx_ctx *c);

/* okx_trade.c */
/* Serve order operations and reconcile with a previous run and OKX
 * (okx_recon.c). */
int okx_trade_start(okx_ctx *c);
/* at_exchange_ops.submit: act on an approved intent; one ORDER_RESULT follows. */
void okx_trade_submit(okx_ctx *c, const at_ev_order_intent *ev);
/* at_exchange_ops.venue_class of this instance. */
at_venue_class okx_venue_class(okx_ctx *c);
void okx_trade_stop(okx_ctx *c);

/* okx_recon.c (start-up reconciliation; the rest is in okx_recon.h) */
/* A pending algo order at OKX: reported (log and ALERT) when it is not ours
 * (algoClOrdId = an intent's clOrdId + "a"), left untouched either way. */
void okx_recon_check_algo(okx_ctx *c, const json_t *o);

/* okx_push.c, okx_ask.c (okx_push.h) */
/* After the private feed came back: ask OKX about every order still open
 * here (or not yet answered), so pushes missed meanwhile are caught up. One
 * resync at a time: asked for while one runs, it runs again once done. */
void okx_trade_resync(okx_ctx *c);
/* A push on the private "orders" channel (order state, fills). One whose
 * values cannot be used is refused whole (logged) and its order asked about
 * again at OKX a moment later. */
void okx_trade_on_order_push(okx_ctx *c, json_t *item);
/* Questions about orders not finished yet (waiting, queued or asked). */
size_t okx_trade_questions(const okx_ctx *c);
/* Forget the questions still waiting and what is remembered of orders and
 * fills (stop, before okx_rest_free in the same turn: a question being
 * asked goes with its REST call; one storage is reading for is freed when
 * storage answers). */
void okx_trade_rechecks_free(okx_ctx *c);

#endif

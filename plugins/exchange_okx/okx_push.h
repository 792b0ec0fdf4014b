/* Internals of the private "orders" channel: the pushes into ORDER and FILL
 * events and rows (okx_push.c), the questions to OKX's REST that catch up
 * with what a push did not bring (when: okx_ask.c; what is asked and what
 * the answers do: okx_answer.c), and what the instance remembers of orders
 * and fills meanwhile (okx_known.c). Main loop only. */
#ifndef OKX_PUSH_H
#define OKX_PUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "okx_plugin.h"

/* ------------------------------------------------------------ okx_known.c */

/* Order ranks: an answer never takes an order back to a lower one from
 * OKX_RANK_DONE (filled, canceled, mmp_canceled are final). */
enum { OKX_RANK_NONE, OKX_RANK_LIVE, OKX_RANK_PARTIAL, OKX_RANK_DONE };

/* What this instance last applied of one order, and when it may be asked
 * about again after refused pushes. */
typedef struct okx_order_seen {
    char inst_id[OKX_INST_ID_LEN];
    char ord_id[AT_ID_LEN];
    int rank; /* OKX_RANK_NONE: no state applied yet */
    at_dec acc_fill_sz;
    int64_t u_time_ms;
    char last_trade[AT_ID_LEN]; /* the fill the last applied push carried */
    unsigned ask_shift;         /* questions after refusals: the gap is 1 s << ask_shift */
    int64_t asked_us;           /* when the last one was scheduled */
    uint64_t used;              /* least recently used is forgotten first */
} okx_order_seen;

/* The order (inst_id, ord_id) as remembered, made when `create` (the least
 * recently used one is forgotten when the table is full); NULL when unknown,
 * without an ordId, or without memory. Valid until the next call. */
okx_order_seen *okx_known_order(okx_ctx *c, const char *inst_id, const char *ord_id, bool create);
/* Whether a fill (inst_id, trade_id) was recorded here, or is being checked
 * against the fills rows, in this run (the last OKX_KNOWN_TRADES of them). */
bool okx_known_trade(okx_ctx *c, const char *inst_id, const char *trade_id);
/* Remember it (the oldest is forgotten when full). */
void okx_known_trade_add(okx_ctx *c, const char *inst_id, const char *trade_id);
/* Forget everything (stop). */
void okx_known_free(okx_ctx *c);

/* ------------------------------------------------------------ okx_push.c */

/* Where a value came from and what follows its refusal, for the warning. */
typedef struct okx_source {
    char what[192];
    const char *then;
} okx_source;

typedef struct okx_fill_vals {
    at_dec px, sz, fee;
} okx_fill_vals;

typedef struct okx_order_vals {
    at_dec px, sz, acc_fill_sz, avg_px, fee;
    int has_fill;
    okx_fill_vals fill;
    int age; /* against what was known: -1 older, 0 the same, 1 newer */
} okx_order_vals;

void okx_order_source(okx_source *src, const char *kind, const json_t *o, const char *then);
/* The execution an item carries: 1 with *f set, 0 none, -1 refused
 * (logged). `row`: a trade/fills row, which is one by definition. */
int okx_fill_of(okx_ctx *c, const okx_source *src, const json_t *o, bool row, okx_fill_vals *f);
/* An order push or answer into the ORDER event and the orders row, unless
 * what is known of the order is as new or newer (v->age <= 0: nothing
 * published or written). Its fill is not recorded here. false (logged,
 * nothing used) when a value cannot be used. */
bool okx_apply_order(okx_ctx *c, const okx_source *src, const json_t *o, okx_order_vals *v);
/* One execution (push-shaped: tradeId, fillFee, fillFeeCcy, …) into the
 * FILL event and the fills row, unless its trade id was recorded (or is
 * being checked) in this run; true when recorded now. */
bool okx_record_fill(okx_ctx *c, const json_t *o, const okx_fill_vals *v);

/* ------------------------------------------------------------ okx_ask.c */

/* A push about this order was refused: ask OKX about it (trade/order, then
 * trade/fills) a moment later. */
void okx_ask_after_refusal(okx_ctx *c, const json_t *o);

/* One order asked about: waiting for its time, queued for one of the few
 * slots, or being asked (one round: okx_answer.c). */
typedef enum okx_q_state { OKX_Q_WAITING, OKX_Q_READY, OKX_Q_ASKING } okx_q_state;

typedef struct okx_question {
    struct okx_question *prev, *next; /* the instance's questions */
    struct okx_question *next_ready;
    okx_ctx *c;
    okx_q_state st;
    at_timer *timer;
    bool after_refusal;  /* else a resync's */
    bool in_resync;      /* counted by the running resync */
    bool maybe_unplaced; /* its row said 'sent' or 'unknown': OKX may not have it */
    bool again;          /* refused again while asked: once more when answered */
    bool db_reading;     /* storage holds it (the fills rows) */
    bool orphan;         /* stopped meanwhile: freed when storage answers */
    char inst_id[OKX_INST_ID_LEN], ord_id[AT_ID_LEN], cl_ord_id[AT_ID_LEN];
    char algo_cl_ord_id[AT_ID_LEN]; /* the algo order that placed it (trade/order's answer) */
    unsigned tries;                 /* retries so far */
    /* this round */
    unsigned refused; /* values in OKX's answers that could not be used */
    bool acc_known;
    at_dec acc;     /* accFillSz of the trade/order answer */
    json_t *fills;  /* trade/fills rows, page after page */
    int pages;      /* pages read */
    json_t *stored; /* the fills rows here: tradeId -> sz */
} okx_question;

/* The round is answered: once more if a refusal came meanwhile, else the
 * question is done (freed). */
void okx_ask_finish(okx_question *q);
/* Ask again 1, 2, 4, 8 s later; false once those retries are spent. */
bool okx_ask_retry(okx_question *q);
/* The round could not be finished (why): retried, then said, never dropped
 * quietly (after a refused push a fill may be missing: an ALERT). */
void okx_ask_failed(okx_question *q, const char *why);
/* Forget this round's answers. */
void okx_ask_round_reset(okx_question *q);
/* Free a question (one orphaned by stop, when storage answers). */
void okx_ask_free(okx_question *q);

/* ------------------------------------------------------------ okx_answer.c */

/* One round of a question: trade/order, trade/fills page by page, the fills
 * rows here, then okx_ask_finish / okx_ask_retry / okx_ask_failed. */
void okx_ask_send(okx_question *q);

#endif

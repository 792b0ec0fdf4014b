/* Internals of the PnL ledger shared by ledger.c (events, the queue,
 * applying) and ledger_store.c (its tables: writes, the journal read at
 * start). Not for other modules. */
#ifndef AT_CORE_TRADING_LEDGER_INTERNAL_H
#define AT_CORE_TRADING_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "ledger_book.h"

#define SEEN_MAX 8192  /* fill ids remembered against duplicates */
#define ATTR_CACHE 256 /* clOrdId → origin/decision, for partial fills */
#define AGG_MAX 4096   /* decisions whose outcome is kept in memory */
#define UNATTRIBUTED "unattributed"

static const char *const POS_SIDES[] = {"net", "long", "short"};

typedef struct book {
    char origin[AT_ID_LEN], account[AT_ID_LEN];
    at_inst inst;
    at_pos_side pos_side;
    lb_book b;
    /* round trips (ledger_trips.c): closed ones, those with a net gain,
     * and what the one under way made so far */
    uint64_t trips, wins;
    at_dec trip_realized, trip_fees, trip_funding;
} book;

typedef struct inst_info {
    at_inst inst;
    bool asked, have, linear;
    at_dec ct_val;
    at_dec mark, last;
    at_dec fund_rate; /* the rate in force for the period ending at fund_ms */
    int64_t fund_ms;  /* settlement time the rate is for; 0 = none seen */
} inst_info;

/* A decision's contracts on one instrument: opened by its entries, of
 * those closed and still open, and what its own fills closed of others'. */
typedef struct agg_sym {
    at_inst inst;
    at_dec opened, closed, open, closing;
} agg_sym;

#define AGG_SYMS AT_DECISION_MAX

typedef struct agg {
    char id[AT_ID_LEN];
    at_dec realized, fees, funding; /* of the positions it opened */
    unsigned fills;
    agg_sym syms[AGG_SYMS];
    size_t nsyms;
} agg;

typedef struct attr {
    char account[AT_ID_LEN], cl[AT_ID_LEN];
    char origin[AT_ID_LEN], decision_id[AT_ID_LEN];
} attr;

/* A fill waiting for its attribution and instrument data, or a funding
 * settlement waiting behind the fills before it. */
typedef struct job {
    struct job *next;
    bool funding, recovered;
    at_ev_fill f;
    char inst_name[64];
    /* funding */
    at_dec rate, mark;
    int64_t fund_ms;
    /* resolved */
    bool attributed;
    attr a;
} job;

struct ledger {
    const at_host *h;
    at_instance *self;
    ledger_cfg cfg;
    int subs[4];
    size_t nsubs;
    at_timer *timer;
    book **books;
    size_t nbooks, capbooks;
    inst_info *insts;
    size_t ninsts, capinsts;
    agg *aggs;
    size_t naggs;
    attr cache[ATTR_CACHE];
    size_t ncache, cache_next;
    job *head, *tail;
    job *held_head, *held_tail; /* live fills that came while the journal was read */
    bool busy;                  /* the head job waits for a storage answer */
    bool no_journal;            /* the journal could not be read: nothing written this run */
    at_timer *retry;            /* a failed lookup asked again */
    bool ready, running, freed;
    unsigned queries;
    int64_t seq;
    char (*seen)[96];
    size_t nseen, seen_next;
    bool said_no_storage, said_inverse;
    ledger_stats st;
};

int64_t lg_now_ms(const ledger *l);
bool lg_seen(ledger *l, const char *id, bool add);
inst_info *lg_inst_of(ledger *l, at_inst id);
agg *lg_agg_of(ledger *l, const char *id);
/* The decision's entry for the instrument (a full table folds into the last). */
agg_sym *lg_agg_sym(agg *a, at_inst inst);
/* One fill into its origin's book; journaled, outcomes and a snapshot
 * written when `journal` (not while the journal is read again). */
int lg_apply_fill(ledger *l, const at_ev_fill *f, const char *inst_name, const attr *a,
                  at_dec ct_val, bool journal);
/* Funding of the period ending at fund_ms on every book of the instrument
 * (only the book whose journal id is only_book_id, when given). */
void lg_apply_funding(ledger *l, at_inst inst, at_dec ct_val, at_dec rate, at_dec mark,
                      int64_t fund_ms, const char *only_book_id, bool journal);
void lg_queue_fill(ledger *l, const at_ev_fill *f, bool recovered);
/* Runs queued jobs in order until one waits for storage. */
void lg_pump(ledger *l);
/* The journal is read: the live fills held meanwhile go after the
 * recovered ones (a fill seen in the journal is dropped), then the queue. */
void lg_ready(ledger *l);

/* ledger_trips.c: a fill (the book's position before it, and what it did)
 * and a funding payment into the round trip under way; a trip ends when
 * the position is flat again or flips. */
void lg_trip_fill(book *b, at_dec before, const lb_result *r);
void lg_trip_funding(book *b, at_dec amount);

/* ledger_store.c */
void lg_db_write(ledger *l, const char *sql, const at_db_value *p, size_t n);
void lg_write_outcome(ledger *l, const agg *a);
void lg_totals(const ledger *l, const char *origin, const char *account, ledger_pnl *out,
               bool *any);
void lg_snapshot(ledger *l, const char *origin, const char *account, int64_t ts);
/* Read the journal, then the stored fills it lacks; sets ready. */
int lg_replay_start(ledger *l);

#endif

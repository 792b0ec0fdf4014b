/* risk_limits' private header: the instance context (config, what the
 * config means once parsed, and the state kept from the bus and storage),
 * shared by the config parser (rl_config.c), the state it follows
 * (rl_state.c), the rules (rl_rules.c) and the entry (risk_limits.c). */
#ifndef AT_RISK_LIMITS_H
#define AT_RISK_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <aitrader/plugin.h>

/* The rules, in the order the chain runs them on an entry. The first three
 * are what every sizing rule needs to know (never disabled: an unknown
 * instrument, equity or price rejects an entry with the reason). */
typedef enum rl_rule {
    RL_INSTRUMENT = 0,
    RL_EQUITY,
    RL_PRICE,
    RL_NO_FLIP,
    RL_MAX_POSITIONS,
    RL_OPENS_PER_HOUR,
    RL_OPENS_PER_CYCLE,
    RL_REENTRY_COOLDOWN,
    RL_MAX_LEVERAGE,
    RL_MARGIN_PER_TRADE,
    RL_MAX_NOTIONAL,
    RL_MAX_EXPOSURE,
    RL_MARGIN_USE,
    RL_LOT_SIZE,
    RL_SLIPPAGE,
    RL_INDEX_DEVIATION,
    RL_MIN_HOLD,
    RL_NRULES
} rl_rule;

extern const char *const rl_rule_names[RL_NRULES];

/* A limit with per-instrument overrides: "10, BTC-USDT-SWAP:20". */
#define RL_MAX_OVERRIDES 64
typedef struct rl_limit {
    at_dec def;
    size_t n;
    char names[RL_MAX_OVERRIDES][64];
    at_dec vals[RL_MAX_OVERRIDES];
    at_inst ids[RL_MAX_OVERRIDES]; /* interned by init (check_config has no host) */
} rl_limit;

/* What the config means: built by rl_setup_parse, the one parser init and
 * check_config share. Percentages are kept as fractions (20 % = 0.2). */
typedef struct rl_setup {
    bool on[RL_NRULES];
    at_dec margin_min, margin_max; /* fractions of equity */
    at_dec exposure;               /* multiple of equity */
    at_dec margin_use;             /* fraction of equity */
    rl_limit leverage, notional, slippage_bps, deviation_bps;
} rl_setup;

/* ---- state followed from the bus ---- */

typedef struct rl_account {
    char name[AT_ID_LEN];
    at_dec equity; /* totalEq of the newest BALANCE */
    int64_t equity_us;
} rl_account;

/* An open position (removed when it goes flat). */
typedef struct rl_pos {
    char account[AT_ID_LEN];
    at_inst inst;
    at_pos_side side;
    at_dec pos; /* signed in net mode */
    at_dec margin, lever, avg_px;
    int64_t opened_us; /* when this engine saw it open; 0 = found open (age unknown) */
} rl_pos;

/* The last close of a position, per account, instrument and direction. */
typedef struct rl_close {
    char account[AT_ID_LEN];
    at_inst inst;
    int dir; /* +1 a long closed, -1 a short */
    int64_t at_us;
} rl_close;

/* Prices of one instrument as one source publishes them. */
typedef struct rl_market {
    char source[AT_ID_LEN];
    at_inst inst;
    at_dec mark, index; /* index 0 when the source sends none */
    int64_t mark_us;
    at_dec last;
    int64_t last_us;
    const at_ev_book *book; /* newest BOOK, retained */
} rl_market;

/* An instrument row of the `instruments` table. */
typedef struct rl_instr {
    char exchange[AT_ID_LEN];
    at_inst inst;
    at_dec ct_val; /* ctVal x ctMult: base currency per contract */
    at_dec lot, min_sz;
    at_dec max_lever; /* 0 when unknown */
    bool live;        /* state "live" (or not given) */
    bool linear;      /* settled in the quote currency: notional = sz x ctVal x px */
} rl_instr;

/* An order that may add exposure: an entry this rule approved (from the
 * check until the venue's answer), or an entry order the venue reports
 * open. Counts (final ? filled : sz) - absorbed contracts, where `absorbed`
 * is what a later POSITION event already shows. */
typedef struct rl_order {
    char account[AT_ID_LEN];
    char cl_ord_id[AT_ID_LEN];
    char ord_id[AT_ID_LEN]; /* the venue's, once an ORDER event gave it */
    at_inst inst;
    int dir;
    at_dec sz, filled, absorbed;
    at_dec lever; /* the leverage it was judged with (margin use) */
    bool final;
    bool seen; /* an ORDER event came for it */
    int64_t touched_us;
} rl_order;

/* An entry that counts against the opening pace. */
typedef struct rl_open {
    char account[AT_ID_LEN];
    char intent_id[AT_ID_LEN];
    char decision_id[AT_ID_LEN];
    at_inst inst;
    int64_t at_us;
} rl_open;

/* A growable array of fixed-size items. */
typedef struct rl_vec {
    void *v;
    size_t n, cap, size;
} rl_vec;

#define RL_AT(vec, type, i) (&((type *)(vec).v)[i])

/* Bounds: past them the oldest is forgotten (opens, closes) or new entries
 * are refused (orders: exposure that is not counted must not be traded). */
#define RL_MAX_ORDERS 4096
#define RL_MAX_OPENS 16384

typedef struct rl_ctx {
    at_instance *inst;
    const at_host *h;
    const char *name;
    /* config, written by the engine */
    at_cfg_list disable;
    double margin_min_pct, margin_max_pct;
    at_cfg_list max_leverage;
    int64_t default_leverage;
    at_cfg_list max_notional;
    double max_exposure, max_margin_use_pct;
    at_cfg_list max_slippage_bps;
    int64_t book_max_age_ms;
    at_cfg_list max_index_deviation_bps;
    int64_t price_max_age_ms;
    int64_t equity_max_age_ms;
    int64_t max_opens_per_hour, max_opens_per_cycle;
    int64_t min_hold_ms, reentry_cooldown_ms, flip_window_ms;
    int64_t max_positions;
    int64_t instruments_refresh_ms;
    /* derived */
    rl_setup set;
    /* state */
    rl_vec accounts, positions, closes, markets, instrs, orders, opens;
    rl_vec loading; /* instrument rows of the query in flight */
    bool loading_busy, reload_wanted, instrs_loaded;
    int64_t load_us; /* when the last read was asked */
    bool stopping;   /* stop() ran: storage answers still come, nothing new is asked */
    at_timer *refresh;
    int subs[16];
    int nsubs;
} rl_ctx;

/* rl_config.c */
extern const at_cfg_field rl_schema[];
int rl_setup_parse(const rl_ctx *c, rl_setup *out, const char **key, char *why, size_t whylen);
int rl_check_config(const void *ctx, const char **key, char *why, size_t whylen);
/* The limit for an instrument: its override, else the default. */
at_dec rl_limit_for(const rl_limit *l, at_inst inst);

static inline void rl_copy_id(char dst[AT_ID_LEN], const char *src)
{
    size_t n = src ? strnlen(src, AT_ID_LEN - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* rl_store.c */
void rl_instruments_load(rl_ctx *c);
void rl_opens_load(rl_ctx *c);
void rl_on_refresh(void *arg);

/* rl_state.c */
void rl_vec_init(rl_vec *v, size_t size);
void *rl_vec_push(rl_vec *v);
void rl_vec_del(rl_vec *v, size_t i);
void rl_vec_free(rl_vec *v);
int rl_state_start(rl_ctx *c);
void rl_state_stop(rl_ctx *c);
void rl_state_free(rl_ctx *c);
bool rl_has_open(const rl_ctx *c, const char *intent_id);
const rl_account *rl_account_find(const rl_ctx *c, const char *account);
const rl_instr *rl_instr_find(const rl_ctx *c, const char *account, at_inst inst);
const rl_market *rl_mark_find(const rl_ctx *c, const char *account, at_inst inst);
const rl_market *rl_last_find(const rl_ctx *c, const char *account, at_inst inst);
const rl_market *rl_book_find(const rl_ctx *c, const char *account, at_inst inst);
rl_pos *rl_pos_find(rl_ctx *c, const char *account, at_inst inst, at_pos_side side);
bool rl_has_position(const rl_ctx *c, const char *account);
/* The tracked entry order an amend names (by ordId, else clOrdId), or NULL. */
const rl_order *rl_order_for_amend(const rl_ctx *c, const at_ev_order_intent *it);
const rl_close *rl_close_find(const rl_ctx *c, const char *account, at_inst inst, int dir);
/* Record an approved entry: it counts against the pace and the exposure
 * until the venue refuses it (ORDER_RESULT not ok). */
int rl_entry_approved(rl_ctx *c, const at_ev_order_intent *it, int dir, at_dec sz, at_dec lever);

/* One check in progress (rl_rules.c, rl_size.c). */
typedef struct rl_judge {
    rl_ctx *c;
    const at_host *h;
    const at_ev_order_intent *it;
    at_risk_answer *out;
    const char *inst; /* the instrument's name */
    char quote[16];   /* its quote currency, for messages */
    int64_t now;
    bool amend;        /* judging what an amend adds to an entry order */
    at_dec base;       /* amend: the order's size before it */
    at_dec base_lever; /* amend: the leverage the order was judged with */
    int dir;           /* +1 long, -1 short */
    const rl_instr *in;
    at_dec equity;
    at_dec px;           /* mark (else last): what notionals are valued at */
    const char *px_name; /* "mark" or "last" */
    at_dec lever;
    const char *lever_from;
    char fmt[8][AT_DEC_STRLEN];
    int nfmt;
} rl_judge;

/* rl_rules.c */
void rl_check(void *ctx, const at_ev_order_intent *it, at_risk_answer *out);
/* Reject with the rule's name and a reason; returns false (so callers can
 * `return rl_reject(...)`). */
bool rl_reject(rl_judge *j, rl_rule rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A decimal formatted into one of the judge's buffers (8 in rotation). */
const char *rl_fmt(rl_judge *j, at_dec d);
bool rl_fresh(const rl_judge *j, int64_t at_us, int64_t max_age_ms);

/* rl_size.c: leverage, then the size (lot, margin, notional, exposure,
 * margin use: the smallest cap wins and is named), then the price checks
 * (slippage, index deviation) on the final size. False after a reject;
 * *sz is the size to send. */
bool rl_leverage(rl_judge *j);
bool rl_size(rl_judge *j, at_dec *sz);
bool rl_slippage(rl_judge *j, at_dec sz);
bool rl_deviation(rl_judge *j);

#endif

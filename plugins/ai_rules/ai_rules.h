/* ai_rules' private header: the instance context, the state it keeps from
 * the bus, and the pieces the plugin is split into (config, rules, JSON). */
#ifndef AT_AI_RULES_H
#define AT_AI_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include <aitrader/plugin.h>

/* The model name every reply carries: bump it when the rules change, so
 * stored decisions say which rule set made them. */
#define RULES_MODEL "rules-v1"

/* Indicator values the rules read, by the names indicator_ta publishes. */
enum { V_CLOSE, V_EMA12, V_EMA26, V_RSI14, V_MACD_HIST, V_ATR14, V_N };
extern const char *const rules_value_names[V_N];

#define MAX_POS 8     /* position entries per instrument: accounts x sides */
#define MAX_CALLS 256 /* calls in flight per instance; more get AT_EAGAIN */

/* One account's position on one side, as its last POSITION event said. */
typedef struct pos_entry {
    char account[AT_ID_LEN];
    at_pos_side side;
    at_dec pos; /* signed in net mode, >= 0 on a long/short side */
} pos_entry;

/* What the bus said last about one instrument. */
typedef struct inst_state {
    at_inst id;
    bool have_ind;       /* an INDICATOR of the configured bar came */
    int64_t bar_open_ms; /* its bar */
    int64_t ind_ts_us;   /* its event time */
    double v[V_N];       /* NaN when warming up or absent from the event */
    bool have_last, have_mark;
    at_dec last, mark; /* TICKER last, MARK mark_px */
    int64_t last_ts_us, mark_ts_us;
    int npos;
    pos_entry pos[MAX_POS];
    bool pos_full_warned;
} inst_state;

/* What the config values mean beyond what the schema checks: built by
 * rules_setup_parse, the one parser init and check_config share. */
typedef struct rules_setup {
    int64_t bar_ms;
    char bar_name[16]; /* as configured, e.g. "5m" */
} rules_setup;

/* An answer on its way: request() computes it, the next loop turn delivers. */
typedef struct rules_call {
    struct rules_call *next;
    struct rules_ctx *c;
    char *content; /* the JSON text, or NULL when cancelled */
    at_ai_done_cb done;
    void *arg;
    char *request_id;
    at_timer *timer;
    int64_t t0_us;
    bool cancelled;
} rules_call;

typedef struct rules_ctx {
    at_instance *inst;
    const at_host *h;
    /* config */
    const char *bar;
    const char *account;
    double size_pct;
    int64_t leverage;
    double tp_atr, sl_atr;
    double rsi_overbought, rsi_oversold, rsi_exit_high, rsi_exit_low;
    int64_t stale_bars;
    int64_t price_digits;
    int64_t max_instruments;
    /* derived */
    rules_setup set;
    /* state */
    inst_state **slots; /* open addressing by instrument id; nslots a power of 2 */
    size_t nslots, ninst;
    bool full_warned;
    int subs[4];
    bool running;
    rules_call *calls; /* in flight, newest first */
    size_t ncalls;
} rules_ctx;

/* The config schema. */
extern const at_cfg_field rules_schema[];

/*
 * The one parser of what the schema cannot check: the bar size, the account
 * name, how the RSI levels relate. init keeps the result; rules_check_config,
 * run by `check-config` and before init, only the verdict. No host, nothing
 * allocated. AT_OK, or AT_ECONFIG with *key and why set.
 */
int rules_setup_parse(const rules_ctx *c, rules_setup *set, const char **key, char *why,
                      size_t whylen);
/* at_plugin.check_config. */
int rules_check_config(const void *ctx, const char **key, char *why, size_t whylen);

/* One decision item, as the rules made it (strings owned by the item). */
typedef struct rules_item {
    const char *symbol; /* borrowed from the request */
    const char *action; /* "open_long" … "hold" */
    char size_pct[AT_DEC_STRLEN];
    int64_t leverage;
    char take_profit[AT_DEC_STRLEN]; /* exact decimal text; "0" when absent */
    char stop_loss[AT_DEC_STRLEN];
    char confidence[AT_DEC_STRLEN];
    char reason[500]; /* below the 500 bytes a trader keeps of a reason */
    char invalidation[480];
} rules_item;

/*
 * The rules for one symbol, on the state `s` (NULL: nothing seen yet) at
 * core time now_ms. Pure: the same state and time give the same item.
 */
void rules_decide(const rules_ctx *c, const inst_state *s, const char *symbol, int64_t now_ms,
                  rules_item *out);

/*
 * Format v exactly with `sig` significant digits (half-even), no exponent, no
 * trailing zeros: 101.25, 0.000123, 71250. Non-finite values give "nan".
 */
void rules_num(const at_host *h, double v, int sig, char out[AT_DEC_STRLEN]);

/*
 * The decision object of CONTRACTS §4 for the items, as compact JSON
 * (malloc'd, the caller frees), or NULL when out of memory.
 */
char *rules_json(const rules_item *items, size_t n);

#endif

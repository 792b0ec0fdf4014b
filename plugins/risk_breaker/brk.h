/* risk_breaker's private header: the instance context and what its files
 * share.
 *
 *   risk_breaker.c  schema, check_config, lifecycle, events, the risk check
 *   brk_equity.c    equity per account: day start, peak, trips, resets, flatten
 *   brk_guard.c     safe mode per trader, the kill switch file watch
 *   brk_store.c     the state as audit_log rows, and reading it back at start
 *   kill_switch.h   the kill switch file's format (shared with the CLI)
 *
 * Everything runs on the main loop. */
#ifndef BRK_H
#define BRK_H

#include <sys/stat.h>

#include <aitrader/plugin.h>

#include "kill_switch.h"

#define BRK_DAY_MS 86400000LL
#define BRK_MAX_ACCOUNTS 64
#define BRK_MAX_TRADERS 64
#define BRK_MAX_POSITIONS 512    /* per account */
#define BRK_STORE_EVERY_MS 60000 /* a rising peak is stored at most this often */
#define BRK_TICK_MS 1000
#define BRK_FLATTEN_PREFIX "brk-"

typedef enum brk_rule { BRK_NONE = 0, BRK_DAILY_LOSS, BRK_DRAWDOWN } brk_rule;
typedef enum brk_until { BRK_UNTIL_NEXT_DAY = 0, BRK_UNTIL_COOLDOWN = 1 } brk_until;
typedef enum brk_load { BRK_LOADING = 0, BRK_LOADED, BRK_LOAD_FAILED } brk_load;

/* An open position of an account (from AT_EV_POSITION). */
typedef struct brk_pos {
    at_inst inst;
    at_pos_side side;
    bool isolated;
    at_dec pos;           /* contracts; signed in net mode */
    int64_t flattened_ms; /* the trip (its time) a close was published for, or 0 */
} brk_pos;

typedef struct brk_account {
    char name[AT_ID_LEN];
    bool have_day;
    int64_t day; /* UTC day number: ms / BRK_DAY_MS */
    at_dec day_start;
    bool have_peak;
    at_dec peak;
    bool have_last;
    at_dec last; /* the last usable equity */
    int64_t last_ms;
    brk_rule tripped;
    int64_t trip_ms, until_ms;
    char reason[384]; /* why it tripped, with the numbers */
    bool bad;         /* an unusable equity was logged; the next usable one says so */
    uint64_t nbad;
    brk_pos *pos;
    size_t npos, cap;
} brk_account;

typedef struct brk_trader {
    char name[AT_ID_LEN];
    int64_t fails; /* consecutive invalid decisions */
    int64_t oks;   /* consecutive valid decisions while in safe mode */
    bool safe;
    int64_t since_ms;
    char why[160]; /* the last failure's reason */
} brk_trader;

typedef struct breaker {
    /* config (written by the engine) */
    const char *daily_pct_text, *drawdown_pct_text;
    int until;
    int64_t cooldown_ms;
    bool flatten;
    int64_t max_ai_failures, safe_recover;
    bool restore;

    at_instance *inst;
    const at_host *h;
    const char *name;                 /* "risk.breaker" */
    at_dec daily_frac, drawdown_frac; /* the limits as fractions (5 % -> 0.05); 0 = off */

    brk_account acct[BRK_MAX_ACCOUNTS];
    size_t nacct;
    bool acct_full_logged;
    brk_trader trader[BRK_MAX_TRADERS];
    size_t ntrader;
    bool trader_full_logged;

    brk_load load;
    char load_error[200];
    bool started;
    bool dirty;      /* a peak or day start changed since the last stored row */
    bool last_dirty; /* the last equity changed since (stored with the next row, or at stop) */
    int64_t stored_ms;
    uint64_t seq; /* audit_log row ids within one run */
    at_timer *tick;
    int sub[4];

    /* the kill switch */
    char ks_file[4096];
    ks_state ks;
    bool ks_seen; /* read at least once */
    bool ks_exists;
    struct stat ks_stat; /* identity of the file last read */
    int ks_errno;

    at_metric *m_tripped, *m_kill, *m_safe;
} breaker;

/* risk_breaker.c */
int64_t brk_now_ms(const breaker *b);
/* Log at `level` and publish an ALERT with the same text. */
void brk_alert(breaker *b, at_log_level level, const char *fmt, ...) AT_PRINTF(3, 4);
/* The instance's state line (and the gauges) after a change. */
void brk_report(breaker *b);
/* "5.12" from a fraction 0.0512 (two decimals, half-even). */
void brk_pct_text(const breaker *b, at_dec frac, char out[AT_DEC_STRLEN]);

/* brk_equity.c */
brk_account *brk_account_get(breaker *b, const char *name, bool create);
/* A BALANCE's equity (after the day roll), usable or not. */
void brk_on_equity(breaker *b, brk_account *a, at_dec eq, int64_t now);
/* Evaluate the limits on the account's last equity (after a load or reset). */
void brk_evaluate(breaker *b, brk_account *a, int64_t now);
/* Start a new UTC day when `now` is past the account's day; the day starts
 * at the last equity known. */
void brk_roll_day(breaker *b, brk_account *a, int64_t now);
/* End a trip whose time is up. */
void brk_expire(breaker *b, brk_account *a, int64_t now);
/* Close every open position of a tripped account (flatten = true). */
void brk_flatten(breaker *b, brk_account *a);
void brk_on_position(breaker *b, const at_ev_position *p);
void brk_on_result(breaker *b, const at_ev_order_result *r);
const char *brk_rule_name(brk_rule r);
void brk_accounts_free(breaker *b);

/* brk_guard.c */
void brk_on_decision(breaker *b, const at_ev_decision *d);
brk_trader *brk_trader_get(breaker *b, const char *name, bool create);
/* Stat the kill switch file (and read it when it changed); true when on. */
bool brk_kill_poll(breaker *b, int64_t now);
void brk_kill_start(breaker *b);
void brk_kill_text(const breaker *b, char *out, size_t len);

/* brk_store.c */
/* Queue the whole state as one audit_log row of `kind` ("breaker.trip" …). */
void brk_store(breaker *b, const char *kind, const char *message);
/* Read the last stored state (asynchronously); b->load says where it is. */
void brk_load_start(breaker *b);

#endif

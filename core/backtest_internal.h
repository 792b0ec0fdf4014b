/* Internals of `aitrader backtest` (backtest.h), shared by its files only:
 *  - backtest_data.c: the candle files read (one per instrument);
 *  - backtest_conf.c: the user's config adapted (feeds, paper venues,
 *    scratch storage, what cannot run refused at its section);
 *  - backtest.c: the command, the scratch directory and the feed loop;
 *  - backtest_report.c: the report from what the run stored. */
#ifndef AT_CORE_BACKTEST_INTERNAL_H
#define AT_CORE_BACKTEST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "backtest.h"
#include "conf.h"
#include "engine.h"

#define BT_MAX_SERIES 64
#define BT_MAX_FEEDS 16

typedef struct bt_bar {
    int64_t open_ms;
    double o, h, l, c, v;
} bt_bar;

/* A funding settlement: the rate in force until fund_ms, settled then. */
typedef struct bt_fund {
    int64_t fund_ms;
    at_dec rate;
} bt_fund;

/* One instrument's candles, in time order, within --from/--to. */
typedef struct bt_series {
    char inst[AT_ID_LEN]; /* "BTC-USDT-SWAP" */
    const char *path;
    bt_bar *bars;
    size_t n;
    int64_t bar_ms; /* the file's bar (the smallest step between rows) */
    at_inst id;     /* interned once the engine runs */
    at_dec tick;    /* its tickSz, from the paper venue's instruments */
    bt_fund *fund;  /* its funding file's settlements, in time order, or NULL */
    size_t nfund, next_fund;
    size_t next;    /* the next bar to play */
    int next_phase; /* of its path: 0..PATH_POINTS-1 prices, then the closed candle */
} bt_series;

/* --set SECTION.KEY=V1,V2,…: a key of the config and the values a sweep
 * tries (text holds them, split in place). */
#define BT_MAX_SETS 8
#define BT_MAX_VALUES 32
typedef struct bt_set {
    char *text;
    const char *section, *key;
    const char *values[BT_MAX_VALUES];
    size_t nvalues;
} bt_set;

typedef struct backtest {
    const backtest_args *a;
    bt_set sets[BT_MAX_SETS];
    size_t nsets;
    size_t choice[BT_MAX_SETS]; /* this run's value of each set */
    bool quiet;                 /* a sweep's run: no progress bar */
    bt_series s[BT_MAX_SERIES];
    size_t ns;
    int64_t from_ms, to_ms;   /* INT64_MIN/MAX when not given */
    int64_t start_ms, end_ms; /* the first bar's open, the last bar's close */
    double spread;            /* fraction of the price: spread_bps / 1e4 */
    char *tmp, *data_dir, *db;
    const char *instruments;     /* file of the instruments' specs */
    char *markets[BT_MAX_FEEDS]; /* the [exchange.*] replaced by feeds */
    size_t nmarkets;
    at_instance *feeds[BT_MAX_FEEDS];
    char *accounts[BT_MAX_FEEDS]; /* the paper venues */
    size_t naccounts;
    engine *e;
    uint64_t bars_played, events;
} backtest;

/* backtest_data.c: read every --data file; 0, or 2 with "FILE:LINE: why"
 * printed. */
int bt_load_data(backtest *b);
/* The --funding files, each joined to its instrument's series: 0, or 2
 * with "FILE:LINE: why" printed. */
int bt_load_funding(backtest *b);
/* The instrument of a file name as OKX exports name it
 * ("okx_BTC-USDT-SWAP_1m_2026….csv"), into out; false when it has none. */
bool bt_inst_of_name(const char *path, char *out, size_t cap);

/* backtest.c: one run of the loaded files (scratch directory, engine,
 * play, report): 0 and the report, or the exit code (said); its scratch
 * directory removed by bt_cleanup_run. */
int bt_run_one(backtest *b, engine_opts *o, json_t **out);
void bt_cleanup_run(backtest *b);

/* backtest_sweep.c: --set parsed (2 and why said when malformed); how
 * many runs the sets make; the sweep: every combination run in its own
 * process, as many at once as there are cores, one row each in the order
 * of the combinations (and --report: their figures as a JSON array). */
int bt_parse_sets(backtest *b);
size_t bt_combinations(const backtest *b);
int bt_sweep(backtest *b, engine_opts *o);

/* backtest_conf.c: engine_opts.edit_conf. */
int bt_edit_conf(void *arg, conf_file *f, conf_errors *errs);

/* backtest_report.c: the report of the run (the engine still running: it
 * queries the scratch database through the storage facade): a new JSON
 * object, or NULL with why printed. */
json_t *bt_report(backtest *b);
/* backtest_eff.c: the decision efficiency ({"moves", "schedules": [{
 * "schedule", "calls", "calls_per_day", "moves_answered", "delay_median_s",
 * "delay_p90_s", "within_60s"}]}: each trader's schedule as it ran and a
 * fixed 15-minute one), or NULL with why printed. */
json_t *bt_efficiency(backtest *b);
/* A report's number k (NaN when null or absent), and a figure for a table
 * ("-" for NaN). */
double bt_num(const json_t *r, const char *k);
const char *bt_fig(char *buf, size_t cap, const char *fmt, double v);
/* The summary table of a report, on f. */
void bt_print_summary(const json_t *r, FILE *f);
/* The report written to path (.json, or .html with the JSON inside and a
 * chart): 0, or 1 with why printed. */
int bt_write_report(const json_t *r, const char *path, const backtest *b);
/* backtest_html.c: the report as one HTML page (no script from elsewhere:
 * it opens offline): the summary, the equity curve and its drawdown, the
 * per-symbol table, each instrument's closes with its fills on them (buys
 * up, sells down) and the fills; the JSON inside it. */
void bt_write_html(FILE *f, const json_t *r, const char *json_text, const backtest *b);

#endif

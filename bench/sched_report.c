/* sched_report: AI calls per day and the delay from each significant move to
 * the next AI trigger, for the adaptive scheduler against fixed schedules of
 * 3, 12 and 15 minutes, on real OKX candles (issue 5, "Report").
 *
 * Each dataset is replayed through the real engine in-process, as
 * tests/unit/test_scheduler.c does: simulated core clock, SQLite storage, the
 * indicator_ta plugin with its default signal rules, and the trader scheduler
 * (core/trading/scheduler.c) with the default trader settings (long 12m,
 * short 5m, salience 0.4, grace 20 s, cooldown 60 s, calm 3, 12/h, 150/day)
 * on a virtual "trader.alpha" instance watching the dataset's instrument.
 * Every candle is published on the bus as a confirmed CANDLE when its bar has
 * closed; the clock is moved to that moment first, firing the scheduler's
 * timers at their exact deadlines on the way. Every TRIGGER is recorded.
 *
 * indicator_ta takes 1-minute candles only (longer bars are built from them
 * on UTC boundaries). A 5-minute bar is therefore handed over as the 1-minute
 * candle of its last minute with the bar's OHLCV, published at the bar's
 * close, and indicator_ta runs with `bars = 5m`: its aggregator rebuilds
 * exactly that 5-minute bar, and chg_5m (from the 1-minute close ring, which
 * carries the last close over the minutes without a bar) is exactly
 * close / close of the previous bar - 1. The 1-minute dataset runs with the
 * plugin's default bars (1m, 5m).
 *
 * Significant moves, from the same candles: a bar whose close is at least 1 %
 * away from the close 5 minutes earlier; such bars within 30 minutes of the
 * previous one belong to the same move, so a new move starts only after 30
 * minutes without one. A move is known at its bar's close (time M); its delay
 * for a schedule is the time from M to the first trigger at or after M. Fixed
 * schedules trigger at the multiples of their period (UTC).
 *
 * usage: sched_report [--data DIR] [--json FILE] [--only NAME] [--label L]
 *                     [--salience X] [--long MIN] [--short MIN]
 *                     [--signals RULES] [--bars-1m BARS] [--bars-5m BARS]
 * prints a table on stdout and writes JSON lines (one per dataset and
 * schedule, plus dataset "all" pooling every dataset) to FILE (default
 * stdout after the table). --salience/--long/--short: trader settings of a
 * variant, --signals/--bars-*: indicator_ta settings (defaults: the trader's
 * and the plugin's own); --label names it in the JSON. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "engine.h"
#include "loopsvc.h"
#include "ta_csv.h"
#include "trading/scheduler.h"
#include "util.h"

#define MIN 60000LL
#define SEC 1000LL

typedef struct dataset {
    const char *name, *inst, *path; /* path relative to the data dir */
    int64_t bar_ms;
} dataset;

static const dataset datasets[] = {
    {"BTC 1m 2026-01", "BTC-USDT-SWAP",
     "okx_freqtrade_huckhuck12/okx_BTC-USDT-SWAP_1m_20260101-20260116.csv", MIN},
    {"BTC 5m 2026-07/08", "BTC-USDT-SWAP",
     "okx_klines_lingyuanxiaoCDA/okx_BTC-USDT-SWAP_5m_20260726-20260822.csv", 5 * MIN},
    {"ETH 5m 2026-07/08", "ETH-USDT-SWAP",
     "okx_klines_lingyuanxiaoCDA/okx_ETH-USDT-SWAP_5m_20260726-20260822.csv", 5 * MIN},
    {"SOL 5m 2026-07/08", "SOL-USDT-SWAP",
     "okx_klines_lingyuanxiaoCDA/okx_SOL-USDT-SWAP_5m_20260726-20260822.csv", 5 * MIN},
    {"BTC 5m 2022-05/12", "BTC-USDT-SWAP",
     "okx_freqtrade_huckhuck12/okx_BTC-USDT-SWAP_5m_20220501-20221231.csv", 5 * MIN},
    {"ETH 5m 2022-05/12", "ETH-USDT-SWAP",
     "okx_freqtrade_huckhuck12/okx_ETH-USDT-SWAP_5m_20220501-20221231.csv", 5 * MIN},
    {"SOL 5m 2022-05/12", "SOL-USDT-SWAP",
     "okx_freqtrade_huckhuck12/okx_SOL-USDT-SWAP_5m_20220501-20221231.csv", 5 * MIN},
};
#define NDATA (sizeof(datasets) / sizeof(datasets[0]))

/* Schedules: 0 = adaptive, then fixed periods. */
#define NSCHED 4
static const char *const sched_names[NSCHED] = {"adaptive", "fixed 3m", "fixed 12m", "fixed 15m"};
static const int64_t fixed_ms[NSCHED] = {0, 3 * MIN, 12 * MIN, 15 * MIN};

typedef struct opts {
    const char *data_dir, *json_path, *only, *label, *signals, *bars_1m, *bars_5m;
    double salience;
    int64_t long_ms, short_ms;
} opts;

/* ---- growable arrays ------------------------------------------------------ */

typedef struct i64v {
    int64_t *v;
    size_t n, cap;
} i64v;

static void i64v_push(i64v *a, int64_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 1024;
        a->v = realloc(a->v, a->cap * sizeof(*a->v));
        if (!a->v) {
            fprintf(stderr, "sched_report: out of memory\n");
            exit(1);
        }
    }
    a->v[a->n++] = x;
}

typedef ta_bar bar;

/* ---- CSV: lib/ta's reader (the CONTRACTS candle format); a malformed row
 * stops the report with FILE:LINE, it is never skipped ---------------------- */

static bar *load_csv(const char *path, size_t *nout)
{
    char err[512];
    ta_csv *r = ta_csv_open(path, NULL, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "sched_report: %s\n", err);
        return NULL;
    }
    size_t n = 0, cap = 8192;
    bar *b = malloc(cap * sizeof(*b));
    int got = 0;
    while (b && (got = ta_csv_next(r, &b[n], err, sizeof(err))) == 1) {
        if (++n == cap) {
            cap *= 2;
            bar *nb = realloc(b, cap * sizeof(*b));
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    ta_csv_close(r);
    if (got < 0) {
        fprintf(stderr, "sched_report: %s\n", err);
        free(b);
        return NULL;
    }
    *nout = n;
    return b;
}

/* ---- the engine rig (as in tests/unit/test_scheduler.c) ------------------- */

static i64v trig_ts;
static size_t nsignals;
static size_t sig_by_ind[4];
static const char *const ind_names[4] = {"rsi14", "chg_5m", "vol_ratio", "other"};

static void on_trigger(void *arg, const at_event *e)
{
    (void)arg;
    const at_ev_trigger *t = (const void *)e;
    i64v_push(&trig_ts, e->ts_us / 1000);
    if (strncmp(t->reason, "signal ", 7) == 0) {
        size_t k = 3;
        for (size_t i = 0; i < 3; i++) {
            size_t l = strlen(ind_names[i]);
            if (strncmp(t->reason + 7, ind_names[i], l) == 0 && t->reason[7 + l] == ' ') {
                k = i;
            }
        }
        sig_by_ind[k]++;
    }
}

static void on_signal(void *arg, const at_event *e)
{
    (void)arg;
    (void)e;
    nsignals++;
}

typedef struct rig {
    engine *e;
    at_instance *drv;
    sched *s;
    at_inst inst;
} rig;

static bool loaded(void *arg)
{
    const rig *r = arg;
    sched_stats st;
    sched_get_stats(r->s, &st);
    return st.loaded;
}

static rig *rig_open(const char *dir, int64_t start_ms, const sched_cfg *cfg, const char *extra)
{
    rig *r = calloc(1, sizeof(*r));
    char *ini = at_asprintf("%s/modules.ini", dir);
    FILE *f = fopen(ini, "w");
    if (!r || !f) {
        fprintf(stderr, "sched_report: cannot write %s\n", ini);
        exit(1);
    }
    fprintf(f,
            "[core]\nplugin_dir = %s\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = error\n[storage.sqlite]\npath = %s/t.db\n%s",
            AT_BUILD_PLUGIN_DIR, dir, AT_SOURCE_DIR, dir, extra);
    fclose(f);
    engine_opts o = {.config_path = ini, .sim_clock = true, .sim_start_us = start_ms * 1000};
    r->e = engine_new(&o);
    conf_errors errs = {0};
    if (!r->e || engine_load(r->e, &errs) != AT_OK || engine_start(r->e) != AT_OK) {
        fprintf(stderr, "sched_report: engine does not start (config %s)\n", ini);
        exit(1);
    }
    conf_errors_free(&errs);
    free(ini);
    r->drv = engine_virtual_instance(r->e, "bench.drv");
    const at_host *h = engine_host();
    h->subscribe(r->drv, AT_EV_TRIGGER, on_trigger, NULL);
    h->subscribe(r->drv, AT_EV_SIGNAL, on_signal, NULL);
    r->s = sched_new(h, engine_virtual_instance(r->e, "trader.alpha"), cfg);
    if (!r->s || sched_start(r->s) != AT_OK) {
        fprintf(stderr, "sched_report: scheduler does not start\n");
        exit(1);
    }
    if (!engine_wait(r->e, loaded, r, 5000000)) {
        fprintf(stderr, "sched_report: scheduler history not loaded\n");
        exit(1);
    }
    return r;
}

static void rig_close(rig *r)
{
    sched_stop(r->s);
    engine_free(r->e);
    sched_free(r->s);
    free(r);
}

static void advance(rig *r, int64_t to_ms)
{
    if (engine_advance(r->e, to_ms * 1000, 0) != AT_OK) {
        fprintf(stderr, "sched_report: clock_advance failed\n");
        exit(1);
    }
}

/* The bar as the confirmed 1-minute candle of its last minute. */
static void publish_candle(rig *r, const bar *b, int64_t bar_ms)
{
    const at_host *h = engine_host();
    at_ev_candle *k = (at_ev_candle *)h->event_new(r->drv, AT_EV_CANDLE, 0);
    k->h.inst = r->inst;
    k->bar_s = 60;
    k->open_ms = b->open_ms + bar_ms - MIN;
    h->dec_from_double(b->o, 4, &k->o);
    h->dec_from_double(b->h, 4, &k->hi);
    h->dec_from_double(b->l, 4, &k->lo);
    h->dec_from_double(b->c, 4, &k->c);
    h->dec_from_double(b->v, 4, &k->vol);
    k->confirmed = true;
    h->publish(r->drv, &k->h, 0);
}

/* ---- moves and delays ----------------------------------------------------- */

/* Close times of the bars that start a move. */
static void find_moves(const bar *b, size_t n, int64_t bar_ms, i64v *moves)
{
    int64_t last_sig = INT64_MIN;
    size_t j = 0; /* index of the bar that closed 5 minutes before bar i */
    for (size_t i = 0; i < n; i++) {
        int64_t want = b[i].open_ms - 5 * MIN;
        while (j < i && b[j].open_ms < want) {
            j++;
        }
        if (j >= i || b[j].open_ms != want || b[j].c == 0.0) {
            continue;
        }
        if (fabs(b[i].c / b[j].c - 1.0) < 0.01) {
            continue;
        }
        int64_t m = b[i].open_ms + bar_ms;
        if (last_sig == INT64_MIN || m - last_sig > 30 * MIN) {
            i64v_push(moves, m);
        }
        last_sig = m;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Delays (ms) of every move to the next trigger of a schedule; moves with no
 * trigger after them (end of data) are left out. */
static void delays(const i64v *moves, const i64v *trig, int64_t period, i64v *out)
{
    size_t t = 0;
    for (size_t i = 0; i < moves->n; i++) {
        int64_t m = moves->v[i];
        if (period) {
            int64_t k = m / period + (m % period != 0);
            i64v_push(out, k * period - m);
            continue;
        }
        while (t < trig->n && trig->v[t] < m) {
            t++;
        }
        if (t < trig->n) {
            i64v_push(out, trig->v[t] - m);
        }
    }
}

/* Nearest-rank percentile of sorted values, in minutes. */
static double pct_min(const i64v *d, double p)
{
    if (!d->n) {
        return NAN;
    }
    size_t k = (size_t)ceil(p * (double)d->n);
    k = k < 1 ? 1 : k > d->n ? d->n : k;
    return (double)d->v[k - 1] / (double)MIN;
}

typedef struct result {
    double days;
    size_t calls[NSCHED];
    size_t moves;
    i64v delay[NSCHED];
    size_t signals, sig_by_ind[4];
    uint64_t over_budget;
} result;

static void json_line(FILE *out, const opts *o, const char *name, const result *r)
{
    for (int s = 0; s < NSCHED; s++) {
        fprintf(out,
                "{\"dataset\": \"%s\", \"schedule\": \"%s\", \"variant\": \"%s\", \"days\": %.3f, "
                "\"calls_per_day\": %.1f, \"moves\": %zu, \"median_delay_min\": %.2f, "
                "\"p90_delay_min\": %.2f",
                name, sched_names[s], o->label, r->days, (double)r->calls[s] / r->days, r->moves,
                pct_min(&r->delay[s], 0.5), pct_min(&r->delay[s], 0.9));
        if (s == 0) {
            fprintf(out,
                    ", \"signals\": %zu, \"signal_triggers\": {\"rsi14\": %zu, \"chg_5m\": %zu, "
                    "\"vol_ratio\": %zu, \"other\": %zu}, \"over_budget_windows\": %" PRIu64,
                    r->signals, r->sig_by_ind[0], r->sig_by_ind[1], r->sig_by_ind[2],
                    r->sig_by_ind[3], r->over_budget);
        }
        fprintf(out, "}\n");
    }
}

static void row(const char *name, const result *r)
{
    printf("%-18s %5zu", name, r->moves);
    for (int s = 0; s < NSCHED; s++) {
        printf(" | %6.1f %5.2f %5.2f", (double)r->calls[s] / r->days, pct_min(&r->delay[s], 0.5),
               pct_min(&r->delay[s], 0.9));
    }
    printf(" | %6zu %5zu %5zu %5zu %6" PRIu64 "\n", r->signals, r->sig_by_ind[0], r->sig_by_ind[1],
           r->sig_by_ind[2], r->over_budget);
}

/* ---- one dataset ---------------------------------------------------------- */

static int run_dataset(const opts *o, const dataset *d, result *res)
{
    char *path = at_asprintf("%s/%s", o->data_dir, d->path);
    size_t n = 0;
    bar *b = load_csv(path, &n);
    if (!b || n < 2) {
        fprintf(stderr, "sched_report: cannot read %s\n", path);
        free(path);
        free(b);
        return -1;
    }
    free(path);

    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/at-schedrep-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    const char *bars = d->bar_ms == MIN ? o->bars_1m : o->bars_5m;
    char *extra = at_asprintf("[indicator.ta]\ninstruments = %s\n%s%s%s%s%s", d->inst,
                              bars ? "bars = " : "", bars ? bars : "", bars ? "\n" : "",
                              o->signals ? "signals = " : "", o->signals ? o->signals : "");
    char *extra2 = at_asprintf("%s%s", extra, o->signals ? "\n" : "");
    free(extra);
    const char *syms[] = {d->inst};
    sched_cfg cfg = {.trader = "alpha",
                     .symbols = syms,
                     .nsymbols = 1,
                     .long_ms = o->long_ms,
                     .short_ms = o->short_ms,
                     .grace_ms = 20 * SEC,
                     .cooldown_ms = 60 * SEC,
                     .deadline_ms = 60 * SEC,
                     .calm_periods = 3,
                     .max_hour = 12,
                     .max_day = 150,
                     .salience = o->salience};
    trig_ts.n = 0;
    nsignals = 0;
    memset(sig_by_ind, 0, sizeof(sig_by_ind));

    /* The trader starts at the close of the first bar (its first trigger is
     * at once); every bar is published at its close. */
    int64_t t0 = b[0].open_ms + d->bar_ms;
    int64_t t1 = b[n - 1].open_ms + d->bar_ms;
    rig *r = rig_open(dir, t0, &cfg, extra2);
    free(extra2);
    r->inst = engine_host()->inst_intern(d->inst);
    for (size_t i = 0; i < n; i++) {
        advance(r, b[i].open_ms + d->bar_ms);
        publish_candle(r, &b[i], d->bar_ms);
        engine_pump(r->e);
    }
    advance(r, t1 + 30 * SEC); /* the last grace window */
    sched_stats st;
    sched_get_stats(r->s, &st);
    rig_close(r);
    char *cmd = at_asprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "sched_report: cannot remove %s\n", dir);
    }
    free(cmd);

    memset(res, 0, sizeof(*res));
    res->days = (double)(t1 - t0) / (double)(1440 * MIN);
    res->signals = nsignals;
    memcpy(res->sig_by_ind, sig_by_ind, sizeof(res->sig_by_ind));
    res->over_budget = st.over_budget;
    /* Triggers in [t0, t1] only, so every schedule is counted on the same span. */
    i64v trig = {0};
    for (size_t i = 0; i < trig_ts.n; i++) {
        if (trig_ts.v[i] <= t1) {
            i64v_push(&trig, trig_ts.v[i]);
        }
    }
    res->calls[0] = trig.n;
    for (int s = 1; s < NSCHED; s++) {
        int64_t first = t0 / fixed_ms[s] + (t0 % fixed_ms[s] != 0);
        res->calls[s] = (size_t)(t1 / fixed_ms[s] - first + 1);
    }
    i64v moves = {0};
    find_moves(b, n, d->bar_ms, &moves);
    /* Moves after the last trigger (end of data) have no delay yet. */
    i64v kept = {0};
    for (size_t i = 0; i < moves.n; i++) {
        if (trig_ts.n && moves.v[i] <= trig_ts.v[trig_ts.n - 1]) {
            i64v_push(&kept, moves.v[i]);
        }
    }
    res->moves = kept.n;
    for (int s = 0; s < NSCHED; s++) {
        delays(&kept, &trig_ts, fixed_ms[s], &res->delay[s]);
        qsort(res->delay[s].v, res->delay[s].n, sizeof(int64_t), cmp_i64);
    }
    free(trig.v);
    free(moves.v);
    free(kept.v);
    free(b);
    return 0;
}

static void merge(result *all, const result *r)
{
    all->days += r->days;
    all->moves += r->moves;
    all->signals += r->signals;
    all->over_budget += r->over_budget;
    for (int k = 0; k < 4; k++) {
        all->sig_by_ind[k] += r->sig_by_ind[k];
    }
    for (int s = 0; s < NSCHED; s++) {
        all->calls[s] += r->calls[s];
        for (size_t i = 0; i < r->delay[s].n; i++) {
            i64v_push(&all->delay[s], r->delay[s].v[i]);
        }
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sched_report [--data DIR] [--json FILE] [--only NAME] [--label L]\n"
            "                    [--salience X] [--long MIN] [--short MIN] [--signals RULES]\n"
            "                    [--bars-1m BARS] [--bars-5m BARS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    opts o = {.data_dir = AT_SOURCE_DIR "/../shared/data",
              .label = "default",
              .bars_5m = "5m",
              .salience = 0.4,
              .long_ms = 12 * MIN,
              .short_ms = 5 * MIN};
    for (int i = 1; i < argc; i += 2) { /* "--option value" pairs */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
        }
        if (strcmp(a, "--data") == 0) {
            o.data_dir = v;
        } else if (strcmp(a, "--json") == 0) {
            o.json_path = v;
        } else if (strcmp(a, "--only") == 0) {
            o.only = v;
        } else if (strcmp(a, "--label") == 0) {
            o.label = v;
        } else if (strcmp(a, "--salience") == 0) {
            o.salience = atof(v);
        } else if (strcmp(a, "--long") == 0) {
            o.long_ms = (int64_t)(atof(v) * (double)MIN);
        } else if (strcmp(a, "--short") == 0) {
            o.short_ms = (int64_t)(atof(v) * (double)MIN);
        } else if (strcmp(a, "--signals") == 0) {
            o.signals = v;
        } else if (strcmp(a, "--bars-1m") == 0) {
            o.bars_1m = v;
        } else if (strcmp(a, "--bars-5m") == 0) {
            o.bars_5m = v;
        } else {
            usage();
        }
    }
    FILE *json = stdout;
    if (o.json_path && !(json = fopen(o.json_path, "w"))) {
        perror(o.json_path);
        return 1;
    }
    printf("variant %s: long %gm, short %gm, salience %.2f, signals %s, bars %s (1m data) / %s "
           "(5m data)\n",
           o.label, (double)o.long_ms / (double)MIN, (double)o.short_ms / (double)MIN, o.salience,
           o.signals ? o.signals : "(default)", o.bars_1m ? o.bars_1m : "(default)", o.bars_5m);
    printf("%-18s %5s", "", "");
    for (int s = 0; s < NSCHED; s++) {
        printf(" | %-18s", sched_names[s]);
    }
    printf(" | %-6s %s\n", "signal", "signal triggers, over-budget");
    printf("%-18s %5s", "dataset", "moves");
    for (int s = 0; s < NSCHED; s++) {
        printf(" | %6s %5s %5s", "/day", "med", "p90");
    }
    printf(" | %6s %5s %5s %5s %6s\n", "events", "rsi", "chg5m", "volr", "skip");
    result all = {0};
    size_t nrun = 0;
    double t_start = (double)at_mono_us();
    for (size_t i = 0; i < NDATA; i++) {
        if (o.only && !strstr(datasets[i].name, o.only)) {
            continue;
        }
        result r;
        if (run_dataset(&o, &datasets[i], &r) != 0) {
            continue;
        }
        row(datasets[i].name, &r);
        json_line(json, &o, datasets[i].name, &r);
        merge(&all, &r);
        nrun++;
        for (int s = 0; s < NSCHED; s++) {
            free(r.delay[s].v);
        }
    }
    if (!nrun) {
        fprintf(stderr, "sched_report: no dataset found under %s\n", o.data_dir);
        return 1;
    }
    for (int s = 0; s < NSCHED; s++) {
        qsort(all.delay[s].v, all.delay[s].n, sizeof(int64_t), cmp_i64);
    }
    row("all", &all);
    json_line(json, &o, "all", &all);
    printf("(/day = AI calls per day, med/p90 = delay from a move to the next call, minutes; "
           "%.1f s)\n",
           ((double)at_mono_us() - t_start) / 1e6);
    if (json != stdout) {
        fclose(json);
    }
    for (int s = 0; s < NSCHED; s++) {
        free(all.delay[s].v);
    }
    free(trig_ts.v);
    return 0;
}

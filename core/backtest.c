/* aitrader backtest: the command and the feed (backtest.h says what it does). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "backtest.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backtest_internal.h"
#include "bus.h"
#include "clock.h"
#include "decimal.h"
#include "engine_internal.h"
#include "intern.h"
#include "log.h"
#include "storage.h"
#include "ta_csv.h"
#include "util.h"

#define DEFAULT_SPREAD_BPS 2.0
#define LEG_STEPS 4                     /* prices a leg of the path is played in */
#define PATH_POINTS (1 + 3 * LEG_STEPS) /* the open and three legs */

/* ------------------------------------------------------------ the feed */

/* The price of a bar at point 0..PATH_POINTS-1 of its path: the open, then
 * the legs to the extreme nearer the open, to the other extreme and to the
 * close, each in LEG_STEPS even steps (a stop inside a leg fills near where
 * the leg crossed it, not at the leg's end). */
static double path_px(const bt_bar *r, int point)
{
    bool high_first = r->h - r->o <= r->o - r->l;
    double knots[4] = {r->o, high_first ? r->h : r->l, high_first ? r->l : r->h, r->c};
    if (point == 0) {
        return r->o;
    }
    int leg = (point - 1) / LEG_STEPS, step = (point - 1) % LEG_STEPS + 1;
    return knots[leg] + (knots[leg + 1] - knots[leg]) * step / LEG_STEPS;
}

static at_dec dec(double v)
{
    at_dec d = {0};
    at_dec_from_double(v, 8, &d);
    return d;
}

/* A price on the instrument's tick, rounded as `mode` says. */
static at_dec on_tick(const bt_series *s, double v, at_round mode)
{
    at_dec d = dec(v), r;
    return s->tick.m > 0 && at_dec_round_step(d, s->tick, mode, &r) == AT_OK ? r : d;
}

static int64_t event_ms(const bt_series *s, int point)
{
    return s->bars[s->next].open_ms + (int64_t)point * s->bar_ms / PATH_POINTS;
}

/* A price of the path: a one-level book and a ticker (last, and a bid and
 * an ask `spread` apart with room for any size: what a market order pays)
 * and a mark. */
static void publish_tick(backtest *b, at_instance *feed, const bt_series *s, double px, int64_t t)
{
    at_ev_ticker *k = (at_ev_ticker *)bus_event_new(&feed->bus, AT_EV_TICKER, 0);
    at_ev_mark *m = (at_ev_mark *)bus_event_new(&feed->bus, AT_EV_MARK, 0);
    at_ev_book *o = (at_ev_book *)bus_event_new(&feed->bus, AT_EV_BOOK, 0);
    if (!k || !m || !o) {
        at_event *made[] = {k ? &k->h : NULL, m ? &m->h : NULL, o ? &o->h : NULL};
        for (size_t i = 0; i < 3; i++) {
            if (made[i]) {
                bus_release(made[i]);
            }
        }
        return;
    }
    k->h.inst = m->h.inst = o->h.inst = s->id;
    k->last = on_tick(s, px, AT_ROUND_HALF_EVEN);
    k->last_sz = dec(1);
    k->bid = on_tick(s, px * (1 - b->spread / 2), AT_ROUND_FLOOR);
    k->ask = on_tick(s, px * (1 + b->spread / 2), AT_ROUND_CEIL);
    k->bid_sz = k->ask_sz = dec(1e9);
    k->exch_ts_ms = m->exch_ts_ms = t;
    m->mark_px = m->index_px = k->last;
    /* the book a risk rule prices a market entry against: that bid and ask */
    o->nbids = o->nasks = 1;
    o->bids[0] = (at_level){k->bid, k->bid_sz};
    o->asks[0] = (at_level){k->ask, k->ask_sz};
    o->seq_id = (int64_t)b->events;
    o->exch_ts_ms = t;
    o->recv_us = t * 1000;
    o->snapshot = true;
    bus_publish(&feed->bus, &o->h, 0);
    bus_publish(&feed->bus, &k->h, 0);
    bus_publish(&feed->bus, &m->h, 0);
    b->events += 3;
}

/* The bar, closed. indicator_ta takes 1-minute candles: a longer bar goes
 * as the minute candle of its last minute carrying the bar's prices (its
 * `bars` then builds that bar again). */
static void publish_candle(backtest *b, at_instance *feed, const bt_series *s)
{
    const bt_bar *r = &s->bars[s->next];
    at_ev_candle *c = (at_ev_candle *)bus_event_new(&feed->bus, AT_EV_CANDLE, 0);
    if (!c) {
        return;
    }
    c->h.inst = s->id;
    c->bar_s = 60;
    c->open_ms = r->open_ms + s->bar_ms - 60000;
    c->o = on_tick(s, r->o, AT_ROUND_HALF_EVEN);
    c->hi = on_tick(s, r->h, AT_ROUND_HALF_EVEN);
    c->lo = on_tick(s, r->l, AT_ROUND_HALF_EVEN);
    c->c = on_tick(s, r->c, AT_ROUND_HALF_EVEN);
    c->vol = c->vol_ccy = dec(r->v);
    c->confirmed = true;
    bus_publish(&feed->bus, &c->h, 0);
    b->events++;
    b->bars_played++;
}

/* The funding rate in force and when it settles (OKX's FUNDING): the venue
 * settles the rate it saw once the time moves on to the next settlement. */
static void publish_funding(backtest *b, at_instance *feed, const bt_series *s)
{
    at_ev_funding *e = (at_ev_funding *)bus_event_new(&feed->bus, AT_EV_FUNDING, 0);
    if (!e) {
        return;
    }
    const bt_fund *k = &s->fund[s->next_fund];
    e->h.inst = s->id;
    e->rate = k->rate;
    e->funding_ms = k->fund_ms;
    if (s->next_fund + 1 < s->nfund) {
        e->next_rate = s->fund[s->next_fund + 1].rate;
        e->next_funding_ms = s->fund[s->next_fund + 1].fund_ms;
    }
    bus_publish(&feed->bus, &e->h, 0);
    b->events++;
}

static bool quiet(void *arg)
{
    (void)arg;
    return storage_pending() == 0;
}

/* Everything asked of storage answered (and what the answers ask in turn)
 * before the clock moves: live those answers come within a millisecond. */
static int settle(backtest *b)
{
    engine_pump(b->e);
    while (storage_pending() > 0) {
        if (!engine_wait(b->e, quiet, NULL, 30 * 1000000LL)) {
            fprintf(stderr, "aitrader: backtest: storage did not answer within 30 s\n");
            return 1;
        }
        engine_pump(b->e);
    }
    return 0;
}

/* Move the clock to until, firing the timers due on the way. */
static int advance(backtest *b, int64_t until_us)
{
    unsigned still = 0;
    int64_t last = INT64_MIN;
    for (;;) {
        if (settle(b) != 0 || b->e->exit_code != INT_MIN) {
            return 1;
        }
        int64_t now = clock_now_us();
        still = now == last ? still + 1 : 0;
        last = now;
        if (still > 10000) {
            fprintf(stderr, "aitrader: backtest: stuck at %" PRId64 " µs\n", now);
            return 1;
        }
        int64_t next = clock_next_deadline();
        if (next > until_us) {
            if (now < until_us && clock_advance(until_us) != AT_OK) {
                return 1;
            }
            return settle(b);
        }
        if (clock_advance(next > now ? next : now) != AT_OK) {
            return 1;
        }
    }
}

/* A progress line on a terminal (stderr), at most every 1 % of the bars. */
static void progress(const backtest *b, uint64_t total, uint64_t *shown)
{
    if (b->quiet || !isatty(2) || total == 0) {
        return;
    }
    uint64_t pct = b->bars_played * 100 / total;
    if (pct != *shown || b->bars_played == total) {
        *shown = pct;
        char bar[41];
        memset(bar, '#', (size_t)(pct * 40 / 100));
        memset(bar + pct * 40 / 100, '.', 40 - (size_t)(pct * 40 / 100));
        bar[40] = '\0';
        fprintf(stderr, "\r[%s] %3" PRIu64 " %%  %" PRIu64 "/%" PRIu64 " bars", bar, pct,
                b->bars_played, total);
        if (b->bars_played == total) {
            fputc('\n', stderr);
        }
    }
}

typedef struct ticks {
    backtest *b;
    bool done;
    int err;
} ticks;

static int on_inst_row(void *arg, const at_db_row *row)
{
    ticks *t = arg;
    const char *id = row->ncols > 1 && row->cols[0].type == AT_DB_TEXT ? row->cols[0].u.s : NULL;
    const char *tick = id && row->cols[1].type == AT_DB_TEXT ? row->cols[1].u.s : NULL;
    for (size_t i = 0; tick && i < t->b->ns; i++) {
        if (strcmp(t->b->s[i].inst, id) == 0) {
            at_dec_parse(tick, strlen(tick), &t->b->s[i].tick);
        }
    }
    return 0;
}

static void on_inst_done(void *arg, int err, const char *error)
{
    ticks *t = arg;
    t->err = err;
    if (err != AT_OK) {
        fprintf(stderr, "aitrader: backtest: the instruments could not be read: %s\n",
                error ? error : at_strerror(err));
    }
    t->done = true;
}

static bool ticks_done(void *arg)
{
    return ((ticks *)arg)->done;
}

/* Each file's instrument among the paper venues' (their instruments file):
 * its tick size, for the prices the feed makes. */
static int load_ticks(backtest *b)
{
    /* what is due now runs (the venues read and store their instruments) */
    if (advance(b, clock_now_us()) != 0) {
        return 1;
    }
    /* on the heap: a query that timed out may still answer into it */
    ticks *t = calloc(1, sizeof(*t));
    at_instance *self = engine_virtual_instance(b->e, "core.backtest");
    int rc = t && self ? engine_host()->db_query(self, "SELECT inst_id, tick_sz FROM instruments",
                                                 NULL, 0, on_inst_row, on_inst_done, t)
                       : AT_ENOMEM;
    if (t) {
        t->b = b;
    }
    if (rc != AT_OK || !engine_wait(b->e, ticks_done, t, 30 * 1000000LL)) {
        fprintf(stderr, "aitrader: backtest: the instruments could not be read (%s)\n",
                rc != AT_OK ? at_strerror(rc) : "storage did not answer within 30 s");
        if (rc != AT_OK) {
            free(t);
        }
        return 1;
    }
    int err = t->err;
    free(t);
    if (err != AT_OK) {
        return 1;
    }
    for (size_t i = 0; i < b->ns; i++) {
        if (b->s[i].tick.m <= 0) {
            fprintf(stderr,
                    "aitrader: backtest: %s (%s) is not among the paper venue's instruments (the "
                    "instruments file lacks it)\n",
                    b->s[i].inst, b->s[i].path);
            return 2;
        }
    }
    return 0;
}

static int play(backtest *b)
{
    uint64_t total = 0, shown = UINT64_MAX;
    for (size_t i = 0; i < b->ns; i++) {
        bt_series *s = &b->s[i];
        s->id = intern_get(s->inst);
        total += s->n;
        /* the settlement in force at the start */
        while (s->fund && s->next_fund < s->nfund && s->fund[s->next_fund].fund_ms <= b->start_ms) {
            s->next_fund++;
        }
        for (size_t f = 0; s->fund && s->next_fund < s->nfund && f < b->nmarkets; f++) {
            publish_funding(b, b->feeds[f], s);
        }
    }
    for (;;) {
        /* a settlement time reached first: the next one is published */
        bt_series *fs = NULL;
        int64_t ft = INT64_MAX;
        for (size_t i = 0; i < b->ns; i++) {
            bt_series *x = &b->s[i];
            if (x->fund && x->next_fund < x->nfund && x->fund[x->next_fund].fund_ms < ft &&
                x->fund[x->next_fund].fund_ms <= b->end_ms) {
                ft = x->fund[x->next_fund].fund_ms;
                fs = x;
            }
        }
        /* the earliest next event over the files (ties: file order) */
        bt_series *s = NULL;
        int phase = 0;
        int64_t t = INT64_MAX;
        for (size_t i = 0; i < b->ns; i++) {
            bt_series *x = &b->s[i];
            if (x->next >= x->n) {
                continue;
            }
            int ph = x->next_phase;
            int64_t tx = ph < PATH_POINTS ? event_ms(x, ph) : x->bars[x->next].open_ms + x->bar_ms;
            if (tx < t) {
                t = tx;
                s = x;
                phase = ph;
            }
        }
        if (fs && ft <= t) {
            if (advance(b, ft * 1000) != 0) {
                return 1;
            }
            fs->next_fund++;
            for (size_t f = 0; fs->next_fund < fs->nfund && f < b->nmarkets; f++) {
                publish_funding(b, b->feeds[f], fs);
            }
            continue;
        }
        if (!s) {
            break;
        }
        if (advance(b, t * 1000) != 0) {
            return 1;
        }
        for (size_t f = 0; f < b->nmarkets; f++) {
            if (phase < PATH_POINTS) {
                publish_tick(b, b->feeds[f], s, path_px(&s->bars[s->next], phase), t);
            } else {
                publish_candle(b, b->feeds[f], s);
            }
        }
        if (phase < PATH_POINTS) {
            s->next_phase++;
        } else {
            s->next_phase = 0;
            s->next++;
            progress(b, total * b->nmarkets, &shown);
        }
    }
    /* a minute more: what the last bar started (orders, their fills, the
     * equity snapshot of the minute) ends */
    return advance(b, (b->end_ms + 60000) * 1000);
}

/* ------------------------------------------------------------ the command */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void bt_cleanup_run(backtest *b)
{
    const char *keep = getenv("AITRADER_BACKTEST_KEEP");
    if (b->tmp && keep && strcmp(keep, "1") == 0) {
        fprintf(stderr, "aitrader: backtest: the scratch directory %s is kept\n", b->tmp);
    } else if (b->tmp && nftw(b->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf(stderr, "aitrader: backtest: cannot remove %s: %s\n", b->tmp, strerror(errno));
    }
    free(b->tmp);
    free(b->data_dir);
    free(b->db);
    b->tmp = b->data_dir = b->db = NULL;
}

static void cleanup(backtest *b)
{
    for (size_t i = 0; i < b->ns; i++) {
        free(b->s[i].bars);
        free(b->s[i].fund);
    }
    for (size_t i = 0; i < b->nmarkets; i++) {
        free(b->markets[i]);
    }
    for (size_t i = 0; i < b->naccounts; i++) {
        free(b->accounts[i]);
    }
    for (size_t i = 0; i < b->nsets; i++) {
        free(b->sets[i].text);
    }
    bt_cleanup_run(b);
}

static int parse_time(const char *opt, const char *s, int64_t *out)
{
    if (!s) {
        return 0;
    }
    if (ta_parse_ts(s, out) != 0) {
        fprintf(stderr,
                "aitrader: backtest: %s %s: expected epoch ms or ISO 8601 (2026-01-09, "
                "2026-01-09T17:20:00Z)\n",
                opt, s);
        return 2;
    }
    return 0;
}

static int scratch(backtest *b)
{
    const char *tmpdir = getenv("TMPDIR");
    char *tmpl = at_asprintf("%s/aitrader-backtest-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!tmpl || !mkdtemp(tmpl)) {
        fprintf(stderr, "aitrader: backtest: cannot make a scratch directory: %s\n",
                strerror(errno));
        free(tmpl);
        return 1;
    }
    b->tmp = tmpl;
    b->data_dir = at_asprintf("%s/data", tmpl);
    b->db = at_asprintf("%s/data/backtest.db", tmpl);
    return b->data_dir && b->db && mkdir(b->data_dir, 0700) == 0 ? 0 : 1;
}

/* One run of the loaded files: 0 and the report in *out, or the exit code. */
int bt_run_one(backtest *b, engine_opts *o, json_t **out)
{
    *out = NULL;
    int code = scratch(b);
    if (code != 0) {
        return code;
    }
    if (!o->log_level) {
        o->log_level = "error"; /* risk refusals by the hundred: --log-level warn shows them */
    }
    o->sim_clock = true;
    /* a millisecond before the first bar: what starts then (the traders'
     * first trigger) sees the first prices as they come */
    o->sim_start_us = (b->start_ms - 1) * 1000;
    o->offline = true;
    o->edit_conf = bt_edit_conf;
    o->edit_arg = b;
    storage_count_answers(true);
    conf_errors errs = {0};
    engine *e = engine_new(o);
    b->e = e;
    if (!e || engine_load(e, &errs) != AT_OK) {
        for (size_t i = 0; i < errs.n; i++) {
            fprintf(stderr, "%s\n", errs.msgs[i]);
        }
        conf_errors_free(&errs);
        engine_free(e);
        storage_count_answers(false);
        return 2;
    }
    conf_errors_free(&errs);
    int rc = engine_start(e);
    for (size_t i = 0; rc == AT_OK && i < b->nmarkets; i++) {
        b->feeds[i] = engine_virtual_instance(e, b->markets[i]);
        rc = b->feeds[i] ? AT_OK : AT_ENOMEM;
    }
    json_t *report = NULL;
    if (rc == AT_OK) {
        code = load_ticks(b);
        code = code == 0 ? play(b) : code;
        report = code == 0 ? bt_report(b) : NULL;
        code = code == 0 && !report ? 1 : code;
        if (code == 0 && b->a->report) { /* --report adds the decision efficiency */
            json_t *eff = bt_efficiency(b);
            code = eff ? 0 : 1;
            json_object_set_new(report, "efficiency", eff);
        }
    } else {
        fprintf(stderr, "aitrader: backtest: the engine failed to start (see the log above)\n");
        code = 1;
    }
    bool interrupted = e->exit_code != INT_MIN;
    engine_shutdown(e);
    engine_free(e);
    storage_count_answers(false);
    if (interrupted) {
        fprintf(stderr, "aitrader: backtest: interrupted\n");
        code = code ? code : 1;
    }
    if (code != 0) {
        json_decref(report);
        report = NULL;
    }
    *out = report;
    return code;
}

int backtest_main(engine_opts *o, const backtest_args *a)
{
    backtest b = {.a = a, .from_ms = INT64_MIN, .to_ms = INT64_MAX};
    int code = parse_time("--from", a->from, &b.from_ms);
    code = code == 0 ? parse_time("--to", a->to, &b.to_ms) : code;
    if (code == 0 && b.from_ms >= b.to_ms) {
        fprintf(stderr, "aitrader: backtest: --from is not before --to\n");
        code = 2;
    }
    double bps = a->spread_bps >= 0 ? a->spread_bps : DEFAULT_SPREAD_BPS;
    if (code == 0 && !(bps >= 0 && bps <= 1000)) {
        fprintf(stderr, "aitrader: backtest: --spread-bps %g: expected 0 to 1000\n", bps);
        code = 2;
    }
    b.spread = bps / 1e4;
    code = code == 0 ? bt_parse_sets(&b) : code;
    code = code == 0 ? bt_load_data(&b) : code;
    code = code == 0 ? bt_load_funding(&b) : code;
    if (code == 0 && bt_combinations(&b) > 1) {
        code = bt_sweep(&b, o);
    } else if (code == 0) {
        json_t *report = NULL;
        code = bt_run_one(&b, o, &report);
        if (code == 0) {
            bt_print_summary(report, stdout);
            if (a->report) {
                code = bt_write_report(report, a->report, &b);
            }
        }
        json_decref(report);
    }
    cleanup(&b);
    log_shutdown();
    return code;
}

/* The decision efficiency part of a backtest report (--report): for each
 * trader's own schedule, as it ran, and for a fixed 15-minute one on the
 * same data, AI calls a day and the delay from each significant move to the
 * next call. A significant move: a bar whose close is at least 1 % away
 * from the close 5 minutes before it, known at the bar's close; such bars
 * within 30 minutes of the last one belong to the same move (as
 * bench/sched_report counts them). A delay is the time from the move to the
 * first call at or after it; moves no call follows (the data's end) are
 * left out. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_internal.h"
#include "engine_internal.h"
#include "storage.h"
#include "util.h"

#define MIN_MS 60000LL
#define FIXED_MS (15 * MIN_MS)

typedef struct vec {
    int64_t *v;
    size_t n, cap;
} vec;

static bool push(vec *x, int64_t v)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        int64_t *nv = realloc(x->v, cap * sizeof(*nv));
        if (!nv) {
            return false;
        }
        x->v = nv;
        x->cap = cap;
    }
    x->v[x->n++] = v;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The moves of one file, pushed as their close times: the change over 5
 * minutes, or over one bar when the file's bars are longer. */
static void moves_of(const bt_series *s, vec *out)
{
    int64_t last = INT64_MIN, back = s->bar_ms > 5 * MIN_MS ? s->bar_ms : 5 * MIN_MS;
    size_t j = 0;
    for (size_t i = 0; i < s->n; i++) {
        int64_t want = s->bars[i].open_ms - back;
        while (j < i && s->bars[j].open_ms < want) {
            j++;
        }
        if (j >= i || s->bars[j].open_ms != want || s->bars[j].c == 0.0 ||
            fabs(s->bars[i].c / s->bars[j].c - 1.0) < 0.01) {
            continue;
        }
        int64_t m = s->bars[i].open_ms + s->bar_ms;
        if (last == INT64_MIN || m - last > 30 * MIN_MS) {
            push(out, m);
        }
        last = m;
    }
}

/* The triggers of the run: traders (in order) and their call times. */
typedef struct trig {
    char names[BT_MAX_FEEDS * 4][AT_ID_LEN];
    vec calls[BT_MAX_FEEDS * 4];
    size_t n;
    bool done;
    int err;
} trig;

static int on_row(void *arg, const at_db_row *r)
{
    trig *t = arg;
    const char *who = r->ncols > 1 && r->cols[0].type == AT_DB_TEXT ? r->cols[0].u.s : NULL;
    int64_t ts = r->ncols > 1 && r->cols[1].type == AT_DB_INT    ? r->cols[1].u.i
                 : r->ncols > 1 && r->cols[1].type == AT_DB_TEXT ? strtoll(r->cols[1].u.s, NULL, 10)
                                                                 : 0;
    if (!who) {
        return 0;
    }
    size_t k = 0;
    while (k < t->n && strcmp(t->names[k], who) != 0) {
        k++;
    }
    if (k == t->n) {
        if (t->n == sizeof(t->names) / sizeof(t->names[0])) {
            return 0;
        }
        snprintf(t->names[t->n++], sizeof(t->names[0]), "%s", who);
    }
    push(&t->calls[k], ts);
    return 0;
}

static void on_done(void *arg, int err, const char *error)
{
    trig *t = arg;
    t->err = err;
    if (err != AT_OK) {
        fprintf(stderr, "aitrader: backtest: the triggers could not be read: %s\n",
                error ? error : at_strerror(err));
    }
    t->done = true;
}

static bool is_done(void *arg)
{
    return ((trig *)arg)->done;
}

/* One schedule's row: its calls a day and its delays (calls: the times of a
 * trader's calls; NULL: the fixed 15-minute schedule). */
static json_t *row(const char *name, const vec *calls, const vec *moves, int64_t from, int64_t to)
{
    double days = (double)(to - from) / 86400000.0;
    size_t ncalls = 0;
    if (calls) {
        ncalls = calls->n;
    } else {
        int64_t first = from / FIXED_MS + (from % FIXED_MS != 0);
        ncalls = to > first * FIXED_MS ? (size_t)((to - 1) / FIXED_MS - first + 1) : 0;
    }
    vec d = {0};
    size_t c = 0;
    for (size_t i = 0; i < moves->n; i++) {
        int64_t m = moves->v[i];
        if (!calls) {
            int64_t k = m / FIXED_MS + (m % FIXED_MS != 0);
            if (k * FIXED_MS < to) {
                push(&d, k * FIXED_MS - m);
            }
            continue;
        }
        while (c < calls->n && calls->v[c] < m) {
            c++;
        }
        if (c < calls->n) {
            push(&d, calls->v[c] - m);
        }
    }
    if (d.n > 1) {
        qsort(d.v, d.n, sizeof(*d.v), cmp_i64);
    }
    size_t within = 0;
    for (size_t i = 0; i < d.n; i++) {
        within += d.v[i] <= 60000;
    }
    /* nearest-rank percentiles, in seconds */
    double med = NAN, p90 = NAN;
    if (d.n) {
        size_t k50 = (d.n + 1) / 2, k90 = (9 * d.n + 9) / 10; /* nearest rank, exactly */
        med = (double)d.v[(k50 < 1 ? 1 : k50) - 1] / 1000.0;
        p90 = (double)d.v[(k90 < 1 ? 1 : k90) - 1] / 1000.0;
    }
    json_t *o =
        json_pack("{s:s, s:I, s:o, s:I, s:o, s:o, s:o}", "schedule", name, "calls",
                  (json_int_t)ncalls, "calls_per_day",
                  days > 0 ? json_real(round((double)ncalls / days * 1e6) / 1e6) : json_null(),
                  "moves_answered", (json_int_t)d.n, "delay_median_s",
                  isnan(med) ? json_null() : json_real(med), "delay_p90_s",
                  isnan(p90) ? json_null() : json_real(p90), "within_60s",
                  d.n ? json_real(round((double)within / (double)d.n * 1e6) / 1e6) : json_null());
    free(d.v);
    return o;
}

json_t *bt_efficiency(backtest *b)
{
    vec moves = {0};
    for (size_t i = 0; i < b->ns; i++) {
        moves_of(&b->s[i], &moves);
    }
    if (moves.n > 1) { /* (none: no array to sort) */
        qsort(moves.v, moves.n, sizeof(*moves.v), cmp_i64);
    }
    /* on the heap: a query that timed out may still answer into it */
    trig *t = calloc(1, sizeof(*t));
    at_instance *self = engine_virtual_instance(b->e, "core.backtest");
    int rc = t && self ? engine_host()->db_query(self,
                                                 "SELECT trader, ts_ms FROM triggers ORDER BY "
                                                 "trader, ts_ms",
                                                 NULL, 0, on_row, on_done, t)
                       : AT_ENOMEM;
    if (rc != AT_OK || !engine_wait(b->e, is_done, t, 60 * 1000000LL) || t->err != AT_OK) {
        if (rc != AT_OK || !t->done) {
            fprintf(stderr, "aitrader: backtest: the triggers could not be read (%s)\n",
                    rc != AT_OK ? at_strerror(rc) : "storage did not answer within 60 s");
        }
        if (rc != AT_OK) {
            free(t);
        }
        free(moves.v);
        return NULL;
    }
    json_t *rows = json_array();
    for (size_t k = 0; k < t->n; k++) {
        char name[AT_ID_LEN + 8];
        snprintf(name, sizeof(name), "trader.%s", t->names[k]);
        json_array_append_new(rows, row(name, &t->calls[k], &moves, b->start_ms, b->end_ms));
        free(t->calls[k].v);
    }
    json_array_append_new(rows, row("fixed 15m", NULL, &moves, b->start_ms, b->end_ms));
    json_t *out = json_pack("{s:I, s:o}", "moves", (json_int_t)moves.n, "schedules", rows);
    free(t);
    free(moves.v);
    return out;
}

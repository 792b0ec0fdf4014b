/* okx-sim price paths: replay of a candle CSV (CONTRACTS §1 format) and a
 * seeded geometric random walk.
 *
 * Replay maps wall time to data time at `speed` data seconds per wall second.
 * Each row covers one data interval (the smallest step between rows; gaps in
 * the file are collapsed, so replay never stalls), and inside it the price
 * runs open -> the extreme nearer the open -> the other extreme -> close over
 * the first 90% of the interval and rests on the close for the last 10%, so
 * a client sampling near the candle end sees the exact close. After the last
 * row it loops to the first. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market_int.h"
#include "ta_csv.h"

#define MIN_WALK_TICKS 10 /* the walk never drives a price below 10 ticks */

/* ------------------------------------------------------------ CSV loading */

/* The file is read with lib/ta's candle reader (the one CONTRACTS format for
 * okx-sim, `aitrader indicators` and backtests); prices become tick counts of
 * the instrument, snapped to the nearest tick. */
static bool to_ticks(const sim_inst *in, double px, int64_t *ticks)
{
    double t = px / at_dec_to_double(in->tick_sz);
    if (!(t >= 1) || t > 9e15) {
        return false;
    }
    *ticks = llround(t);
    return true;
}

static int push_row(mkt_csv *csv, size_t *cap, const mkt_row *row)
{
    if (csv->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        mkt_row *p = realloc(csv->rows, ncap * sizeof(*p));
        if (!p) {
            return AT_ENOMEM;
        }
        csv->rows = p;
        *cap = ncap;
    }
    csv->rows[csv->n++] = *row;
    return AT_OK;
}

static int read_rows(ta_csv *r, const char *path, mkt_csv *csv, const sim_inst *in, char *err,
                     size_t errlen)
{
    size_t cap = 0;
    ta_bar b;
    int got;
    while ((got = ta_csv_next(r, &b, err, errlen)) == 1) {
        mkt_row row = {.ts_ms = b.open_ms};
        if (!to_ticks(in, b.o, &row.o) || !to_ticks(in, b.h, &row.h) ||
            !to_ticks(in, b.l, &row.l) || !to_ticks(in, b.c, &row.c)) {
            snprintf(err, errlen, "%s:%ld: prices must be at least one tick (%s) of %s", path,
                     ta_csv_lineno(r), "tickSz", in->inst_id);
            return AT_EINVAL;
        }
        if (push_row(csv, &cap, &row) != AT_OK) {
            snprintf(err, errlen, "%s:%ld: out of memory", path, ta_csv_lineno(r));
            return AT_ENOMEM;
        }
    }
    return got == 0 ? AT_OK : AT_EINVAL;
}

/* The smallest step between rows: the candle length (1m, 5m ...). */
static int64_t row_interval(const mkt_csv *csv)
{
    int64_t best = 0;
    for (size_t k = 1; k < csv->n; k++) {
        int64_t d = csv->rows[k].ts_ms - csv->rows[k - 1].ts_ms;
        if (best == 0 || d < best) {
            best = d;
        }
    }
    return best > 0 ? best : MKT_MINUTE_MS;
}

int mkt_csv_load(mkt_csv *csv, const char *path, const sim_inst *in, char *err, size_t errlen)
{
    memset(csv, 0, sizeof(*csv));
    ta_csv *r = ta_csv_open(path, NULL, err, errlen);
    if (!r) {
        return AT_EIO;
    }
    int rc = read_rows(r, path, csv, in, err, errlen);
    if (rc == AT_OK && csv->n == 0) {
        snprintf(err, errlen, "%s:%ld: no candle rows", path, ta_csv_lineno(r));
        rc = AT_EINVAL;
    }
    ta_csv_close(r);
    if (rc != AT_OK) {
        mkt_csv_free(csv);
        return rc;
    }
    csv->interval_ms = row_interval(csv);
    return AT_OK;
}

void mkt_csv_free(mkt_csv *csv)
{
    free(csv->rows);
    memset(csv, 0, sizeof(*csv));
}

/* ------------------------------------------------------------ replay */

void mkt_csv_anchor(mkt_csv *csv, int64_t now_ms, double speed)
{
    if (csv->n == 0) {
        return;
    }
    /* Start late enough that the 24 h of history come from the preceding
     * rows; a file shorter than that loops through its start instead. */
    double history = (double)SIM_CANDLE_KEEP * MKT_MINUTE_MS * speed;
    double rows = ceil(history / (double)csv->interval_ms);
    csv->start_row = rows < (double)csv->n ? (size_t)rows : 0;
    csv->w0_ms = now_ms;
}

static int64_t lerp(int64_t a, int64_t b, double u)
{
    return a + llround((double)(b - a) * u);
}

int64_t mkt_csv_ticks_at(const mkt_csv *csv, double speed, int64_t t_ms, sim_inst *in)
{
    int64_t iv = csv->interval_ms;
    int64_t span = (int64_t)csv->n * iv;
    double data = (double)(t_ms - csv->w0_ms) * speed + (double)csv->start_row * (double)iv;
    int64_t d = (int64_t)floor(fmod(data, (double)span));
    d = d < 0 ? d + span : d;
    size_t k = (size_t)(d / iv);
    k = k < csv->n ? k : csv->n - 1;
    int64_t in_row = d % iv;
    const mkt_row *r = &csv->rows[k];
    bool high_first = llabs(r->h - r->o) <= llabs(r->o - r->l);
    int64_t e1 = high_first ? r->h : r->l, e2 = high_first ? r->l : r->h;
    /* Segment boundaries at 30%, 60%, 90% in integer arithmetic. */
    int seg = (int)(in_row * 10 / (iv * 3));
    seg = seg > 3 ? 3 : seg;
    double u = (double)(in_row * 10 - (int64_t)seg * iv * 3) / (double)(iv * 3);
    in->data_row = k;
    in->data_phase = seg;
    switch (seg) {
    case 0:
        return lerp(r->o, e1, u);
    case 1:
        return lerp(e1, e2, u);
    case 2:
        return lerp(e2, r->c, u);
    default:
        return r->c;
    }
}

/* ------------------------------------------------------------ random walk */

double mkt_gauss(uint64_t *rng)
{
    /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
    double u1 = 1.0 - sim_rand01(rng), u2 = sim_rand01(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

int64_t mkt_walk_step(sim_inst *in, mkt_state *st, int64_t dt_ms)
{
    double tick = at_dec_to_double(in->tick_sz);
    if (in->px_double <= 0) {
        in->px_double = st->start_px;
    }
    double dt = (double)dt_ms / 1000.0;
    double z = mkt_gauss(&st->walk_rng);
    in->px_double *= exp(st->sigma * sqrt(dt) * z - 0.5 * st->sigma * st->sigma * dt);
    if (in->px_double < MIN_WALK_TICKS * tick) {
        in->px_double = MIN_WALK_TICKS * tick;
    }
    return llround(in->px_double / tick);
}

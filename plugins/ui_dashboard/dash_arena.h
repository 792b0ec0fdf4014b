/* The arena's leaderboard (GET /api/arena): its pure figures, computed on a
 * trader's equity curve as doubles (analytics; the money figures the route
 * answers stay exact decimals), and the request's window. Pure functions of
 * dashlib, tested apart (tests/unit/test_dashboard_arena.c).
 *
 *   dash_arena_stats.c  window, drawdown, Sharpe, the curve's downsampling
 *   dash_arena.c        the route: traders, storage reads, the answer */
#ifndef DASH_ARENA_H
#define DASH_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dash_lib.h"

#define ARENA_CURVE_MAX 500 /* points of a curve in the answer, at most */
#define ARENA_HOUR_MS 3600000LL
#define ARENA_HOURS_YEAR 8760.0
#define ARENA_SHARPE_MIN 24 /* hourly returns a Sharpe ratio needs */

/* One point of an equity curve. */
typedef struct arena_pt {
    int64_t ts; /* epoch ms */
    double v;   /* equity */
} arena_pt;

/* The window of GET /api/arena?from=&to=&window= (epoch ms): from defaults
 * to 0, to to `now_ms` (the engine's clock); window = 24h | 7d | 30d | all
 * sets from to that span before to (all: 0) and excludes from; from after
 * to is refused. Writes to `key` (when not NULL) the question asked, the
 * same for the same query whatever the clock when to is absent: the cache's
 * key. 0, or 400 with `e`. */
int arena_window(const char *query, int64_t now_ms, int64_t *from, int64_t *to, char *key,
                 size_t keycap, dash_err *e);

/* The largest fall from a running peak, in percent of that peak, 0…100: a
 * fall to 0 or below is 100 (all of it lost); 0 for fewer than two points.
 * Points at or below 0 set no peak. */
double arena_max_drawdown_pct(const arena_pt *p, size_t n);

/* Sharpe ratio of the curve's hourly returns: the curve sampled at the last
 * point of each UTC hour (an hour without a point keeps the last value), the
 * returns between consecutive hours, their mean over their sample standard
 * deviation, times sqrt(8760). *nret: how many returns there were. false
 * (no figure) with fewer than ARENA_SHARPE_MIN returns, a zero (or
 * non-finite) deviation, or a non-positive equity. `p` in time order. */
bool arena_sharpe(const arena_pt *p, size_t n, double *out, size_t *nret);

/* The points to draw when the curve has more than `max` (>= 4): the first
 * and the last, and in each of (max - 2) / 2 equal time buckets between
 * them its lowest and highest point, so peaks and troughs survive. Writes
 * the kept indices, ascending, to idx (room for `max`) and returns how
 * many; all of them (0 … n-1) when n <= max. `p` in time order. */
size_t arena_downsample(const arena_pt *p, size_t n, size_t max, size_t *idx);

#endif

/* The arena's pure figures (dash_arena.h): the request's window, drawdown,
 * Sharpe and the curve's downsampling. Doubles: these are analytics on an
 * exact curve, never money that is booked. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dash_arena.h"

/* The spans of `window=`, against the engine's clock. */
static const struct {
    const char *name;
    int64_t ms; /* 0: all history */
} spans[] = {{"24h", 24 * ARENA_HOUR_MS},
             {"7d", 7 * 24 * ARENA_HOUR_MS},
             {"30d", 30 * 24 * ARENA_HOUR_MS},
             {"all", 0}};

int arena_window(const char *query, int64_t now_ms, int64_t *from, int64_t *to, char *key,
                 size_t keycap, dash_err *e)
{
    char win[8], fs[32];
    int w = dash_query_str(query, "window", win, sizeof(win), e);
    if (w < 0) {
        return e->status;
    }
    bool to_given = dash_query_str(query, "to", fs, sizeof(fs), e) > 0;
    int rc = dash_query_int(query, "to", now_ms, 0, INT64_MAX, to, e);
    if (rc) {
        return rc;
    }
    if (w > 0) {
        size_t i = 0;
        while (i < sizeof(spans) / sizeof(spans[0]) && strcmp(spans[i].name, win) != 0) {
            i++;
        }
        if (i == sizeof(spans) / sizeof(spans[0])) {
            return dash_fail(e, 400, "bad_query", "window", "window must be 24h, 7d, 30d or all");
        }
        if (dash_query_str(query, "from", fs, sizeof(fs), e) != 0) {
            return dash_fail(e, 400, "bad_query", "from", "give window or from, not both");
        }
        *from = spans[i].ms && *to > spans[i].ms ? *to - spans[i].ms : 0;
        if (key) {
            snprintf(key, keycap, "w%s@%lld", win, to_given ? (long long)*to : -1LL);
        }
        return 0;
    }
    rc = dash_query_int(query, "from", 0, 0, INT64_MAX, from, e);
    if (rc) {
        return rc;
    }
    if (*from > *to) {
        return dash_fail(e, 400, "bad_query", "from", "from (%lld) is after to (%lld)",
                         (long long)*from, (long long)*to);
    }
    if (key) { /* a `to` of now is the same question a moment later */
        snprintf(key, keycap, "%lld@%lld", (long long)*from, to_given ? (long long)*to : -1LL);
    }
    return 0;
}

double arena_max_drawdown_pct(const arena_pt *p, size_t n)
{
    double peak = 0, worst = 0;
    for (size_t i = 0; i < n; i++) {
        double v = p[i].v;
        if (!isfinite(v)) {
            continue;
        }
        if (v > peak) {
            peak = v;
        } else if (peak > 0 && (peak - v) / peak > worst) {
            worst = (peak - v) / peak;
        }
    }
    /* an equity at or below 0 has lost everything: 100 %, not more */
    return (worst > 1 ? 1 : worst) * 100;
}

/* The UTC hour a time falls in (floor, also before 1970). */
static int64_t hour_of(int64_t ts)
{
    int64_t h = ts / ARENA_HOUR_MS;
    return ts % ARENA_HOUR_MS < 0 ? h - 1 : h;
}

bool arena_sharpe(const arena_pt *p, size_t n, double *out, size_t *nret)
{
    *nret = 0;
    if (n < 2) {
        return false;
    }
    int64_t h0 = hour_of(p[0].ts), h1 = hour_of(p[n - 1].ts);
    if (h1 - h0 > 100 * 8784) {
        return false; /* a century of hours: not a curve of this engine */
    }
    /* Welford's running mean and variance of the hourly returns */
    double prev = 0, last = 0, mean = 0, m2 = 0;
    size_t i = 0, k = 0;
    for (int64_t h = h0; h <= h1; h++) {
        while (i < n && hour_of(p[i].ts) <= h) {
            last = p[i++].v;
        }
        if (h > h0) {
            if (!(prev > 0) || !isfinite(last)) {
                return false;
            }
            double r = last / prev - 1, dlt = r - mean;
            k++;
            mean += dlt / (double)k;
            m2 += dlt * (r - mean);
        }
        prev = last;
    }
    *nret = k;
    if (k < ARENA_SHARPE_MIN) {
        return false; /* a day of hours at least: fewer say little */
    }
    double sd = sqrt(m2 / (double)(k - 1));
    if (!(sd > 0) || !isfinite(sd)) {
        return false;
    }
    *out = mean / sd * sqrt(ARENA_HOURS_YEAR);
    return isfinite(*out);
}

size_t arena_downsample(const arena_pt *p, size_t n, size_t max, size_t *idx)
{
    if (n <= max) {
        for (size_t i = 0; i < n; i++) {
            idx[i] = i;
        }
        return n;
    }
    size_t k = 0, nb = max >= 4 ? (max - 2) / 2 : 0;
    int64_t t0 = p[0].ts, span = p[n - 1].ts - t0;
    idx[k++] = 0;
    size_t i = 1;
    for (size_t b = 0; b < nb; b++) {
        bool last_bucket = b + 1 == nb;
        /* the bucket's end, t0 + span * (b + 1) / nb without overflow */
        int64_t end = t0 + span / (int64_t)nb * (int64_t)(b + 1) +
                      span % (int64_t)nb * (int64_t)(b + 1) / (int64_t)nb;
        size_t lo = 0, hi = 0;
        bool any = false;
        for (; i < n - 1 && (last_bucket || p[i].ts < end); i++) {
            if (!any || p[i].v < p[lo].v) {
                lo = i;
            }
            if (!any || p[i].v > p[hi].v) {
                hi = i;
            }
            any = true;
        }
        if (any) {
            idx[k++] = lo < hi ? lo : hi;
            if (lo != hi) {
                idx[k++] = lo < hi ? hi : lo;
            }
        }
    }
    idx[k++] = n - 1;
    return k;
}

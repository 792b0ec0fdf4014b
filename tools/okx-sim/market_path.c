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

#define MAX_FIELDS 64
#define MIN_WALK_TICKS 10 /* the walk never drives a price below 10 ticks */

/* ------------------------------------------------------------ CSV parsing */

typedef struct csv_cols {
    int ts, open, high, low, close;
} csv_cols;

/* Split a line in place at commas; trims blanks, CR and double quotes. */
static int split(char *line, char *fields[MAX_FIELDS])
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *end = strchr(p, ',');
        if (end) {
            *end = '\0';
        }
        while (*p == ' ' || *p == '\t' || *p == '"') {
            p++;
        }
        char *q = p + strlen(p);
        while (q > p &&
               (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r' || q[-1] == '\n' || q[-1] == '"')) {
            *--q = '\0';
        }
        if (n < MAX_FIELDS) {
            fields[n++] = p;
        }
        if (!end) {
            return n;
        }
        p = end + 1;
    }
}

static int find_col(char *fields[], int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (strcasecmp(fields[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int mo, int d)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Read exactly `n` digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return false;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* "2026-01-01T00:00:00.000Z", "2026-01-01 00:00:00", "...+08:00". */
static bool parse_iso(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31) {
        return false;
    }
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) {
            return false;
        }
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec)) {
                return false;
            }
        }
        if (*p == '.') {
            int scale = 100;
            for (p++; isdigit((unsigned char)*p); p++, scale /= 10) {
                frac += (*p - '0') * scale;
            }
        }
    }
    int64_t offset_min = 0;
    if (*p == '+' || *p == '-') {
        int oh, om = 0;
        int sign = *p++ == '-' ? -1 : 1;
        if (!digits(&p, 2, &oh)) {
            return false;
        }
        p += *p == ':';
        if (!digits(&p, 2, &om)) {
            return false;
        }
        offset_min = sign * (oh * 60 + om);
    } else if (*p == 'Z') {
        p++;
    }
    if (*p != '\0' || h > 23 || mi > 59 || sec > 60) {
        return false;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    *ms = t * 1000 + frac;
    return true;
}

/* Epoch milliseconds (or seconds, when too small to be ms) or ISO 8601. */
static bool parse_ts(const char *s, int64_t *ms)
{
    const char *p = s;
    while (isdigit((unsigned char)*p)) {
        p++;
    }
    if (p > s && *p == '\0' && p - s <= 15) {
        int64_t v = strtoll(s, NULL, 10);
        *ms = v < 100000000000LL ? v * 1000 : v;
        return true;
    }
    return parse_iso(s, ms);
}

static bool parse_px(const sim_inst *in, const char *s, int64_t *ticks)
{
    at_dec d;
    if (at_dec_parse(s, strlen(s), &d) != AT_OK || d.m <= 0) {
        return false;
    }
    *ticks = mkt_dec_ticks(in, d);
    return true;
}

typedef struct csv_reader {
    const char *path;
    size_t line;
    char *err;
    size_t errlen;
} csv_reader;

static int csv_fail(const csv_reader *r, const char *fmt, const char *arg)
{
    char what[160];
    snprintf(what, sizeof(what), fmt, arg);
    snprintf(r->err, r->errlen, "%s:%zu: %s", r->path, r->line, what);
    return AT_EINVAL;
}

static int read_header(const csv_reader *r, char *line, csv_cols *c)
{
    char *f[MAX_FIELDS];
    int n = split(line, f);
    c->ts = find_col(f, n, "ts");
    c->close = find_col(f, n, "close");
    c->open = find_col(f, n, "open");
    c->high = find_col(f, n, "high");
    c->low = find_col(f, n, "low");
    if (c->ts < 0) {
        return csv_fail(r, "no '%s' column in the header", "ts");
    }
    if (c->close < 0) {
        return csv_fail(r, "no '%s' column in the header", "close");
    }
    return AT_OK;
}

/* One price column; an absent open/high/low column takes the close. */
static int row_px(const csv_reader *r, char *f[], int n, int col, const char *name,
                  const sim_inst *in, int64_t dflt, int64_t *out)
{
    if (col < 0) {
        *out = dflt;
        return AT_OK;
    }
    if (col >= n || !parse_px(in, f[col], out)) {
        char what[96];
        snprintf(what, sizeof(what), "bad %s '%.40s'", name, col < n ? f[col] : "");
        return csv_fail(r, "%s", what);
    }
    return AT_OK;
}

static int read_row(const csv_reader *r, char *line, const csv_cols *c, const sim_inst *in,
                    mkt_row *row)
{
    char *f[MAX_FIELDS];
    int n = split(line, f);
    if (c->ts >= n || !parse_ts(f[c->ts], &row->ts_ms)) {
        return csv_fail(r, "bad ts '%.40s'", c->ts < n ? f[c->ts] : "");
    }
    if (row_px(r, f, n, c->close, "close", in, 0, &row->c) != AT_OK ||
        row_px(r, f, n, c->open, "open", in, row->c, &row->o) != AT_OK ||
        row_px(r, f, n, c->high, "high", in, row->c, &row->h) != AT_OK ||
        row_px(r, f, n, c->low, "low", in, row->c, &row->l) != AT_OK) {
        return AT_EINVAL;
    }
    /* Keep the range consistent with open and close whatever the file says:
     * replay must stay inside [low, high]. */
    int64_t hi = row->o > row->c ? row->o : row->c, lo = row->o < row->c ? row->o : row->c;
    row->h = row->h > hi ? row->h : hi;
    row->l = row->l < lo ? row->l : lo;
    return AT_OK;
}

static bool blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
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

static int read_rows(FILE *f, csv_reader *r, mkt_csv *csv, const sim_inst *in)
{
    char *line = NULL;
    size_t linecap = 0, cap = 0;
    csv_cols cols = {-1, -1, -1, -1, -1};
    bool header = false;
    int rc = AT_OK;
    while (rc == AT_OK && getline(&line, &linecap, f) >= 0) {
        r->line++;
        if (blank(line)) {
            continue;
        }
        if (!header) {
            rc = read_header(r, line, &cols);
            header = true;
            continue;
        }
        mkt_row row;
        if ((rc = read_row(r, line, &cols, in, &row)) != AT_OK) {
            break;
        }
        if (csv->n && row.ts_ms <= csv->rows[csv->n - 1].ts_ms) {
            rc = csv_fail(r, "%s", "ts not after the previous row (rows must be in time order)");
        } else if (push_row(csv, &cap, &row) != AT_OK) {
            rc = csv_fail(r, "%s", "out of memory");
        }
    }
    free(line);
    return rc;
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
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return AT_EIO;
    }
    csv_reader r = {path, 0, err, errlen};
    int rc = read_rows(f, &r, csv, in);
    fclose(f);
    if (rc == AT_OK && csv->n == 0) {
        snprintf(err, errlen, "%s:%zu: no candle rows", path, r.line);
        rc = AT_EINVAL;
    }
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

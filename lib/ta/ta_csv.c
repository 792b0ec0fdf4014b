/* Strict candle CSV reader. Strict because an indicator run over a silently
 * mis-parsed file (a shifted column, a row out of order) gives plausible but
 * wrong numbers: every problem stops the read with FILE:LINE: reason. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ta_csv.h"

#define MAX_COLS 64

enum { C_TS, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOL, C_INST, C__N };

struct ta_csv {
    FILE *f;
    char *path;
    char *inst;
    char *line;
    size_t cap;
    long lineno;
    int ncols;
    int col[C__N]; /* field index of each known column, -1 if absent */
    bool have_prev;
    int64_t prev_ts;
};

static void errf(char *err, size_t len, const char *path, long line, const char *fmt, ...)
{
    if (!err || !len) {
        return;
    }
    int n = snprintf(err, len, "%s:%ld: ", path, line);
    if (n < 0 || (size_t)n >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, len - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Split the line in place at commas; trims blanks, CR and surrounding quotes
 * (quoted commas are not supported: candle files do not need them). */
static int split(char *s, char **fields, int max)
{
    int n = 0;
    for (;;) {
        char *end = strchr(s, ',');
        if (end) {
            *end = '\0';
        }
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        size_t len = strlen(s);
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                       s[len - 1] == '\n')) {
            s[--len] = '\0';
        }
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
            s[len - 1] = '\0';
            s++;
        }
        if (n == max) {
            return -1;
        }
        fields[n++] = s;
        if (!end) {
            return n;
        }
        s = end + 1;
    }
}

static bool blank(const char *s)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* Reads the next non-blank line; 1 ok, 0 EOF. */
static int read_line(ta_csv *r)
{
    for (;;) {
        ssize_t n = getline(&r->line, &r->cap, r->f);
        if (n < 0) {
            return 0;
        }
        r->lineno++;
        if (!blank(r->line)) {
            return 1;
        }
    }
}

static int column_of(const char *name)
{
    static const struct {
        const char *name;
        int col;
    } known[] = {
        {"ts", C_TS},           {"open", C_OPEN},   {"high", C_HIGH},   {"low", C_LOW},
        {"close", C_CLOSE},     {"volume", C_VOL},  {"instid", C_INST}, {"inst", C_INST},
        {"instrument", C_INST}, {"symbol", C_INST},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcasecmp(name, known[i].name) == 0) {
            return known[i].col;
        }
    }
    return -1;
}

ta_csv *ta_csv_open(const char *path, const char *inst, char *err, size_t errlen)
{
    ta_csv *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path)) || (inst && !(r->inst = strdup(inst)))) {
        errf(err, errlen, path, 0, "out of memory");
        goto fail;
    }
    if (!(r->f = fopen(path, "r"))) {
        errf(err, errlen, path, 0, "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (!read_line(r)) {
        errf(err, errlen, path, 1, "empty file: expected a header naming ts,open,high,low,close");
        goto fail;
    }
    char *fields[MAX_COLS];
    int n = split(r->line, fields, MAX_COLS);
    if (n < 0) {
        errf(err, errlen, path, r->lineno, "more than %d columns", MAX_COLS);
        goto fail;
    }
    for (int c = 0; c < C__N; c++) {
        r->col[c] = -1;
    }
    for (int i = 0; i < n; i++) {
        int c = column_of(fields[i]);
        if (c < 0) {
            continue;
        }
        if (r->col[c] >= 0) {
            errf(err, errlen, path, r->lineno, "column '%s' appears twice", fields[i]);
            goto fail;
        }
        r->col[c] = i;
    }
    static const char *const need[] = {"ts", "open", "high", "low", "close"};
    for (int c = C_TS; c <= C_CLOSE; c++) {
        if (r->col[c] < 0) {
            errf(err, errlen, path, r->lineno,
                 "header has no '%s' column (need ts,open,high,low,close)", need[c]);
            goto fail;
        }
    }
    r->ncols = n;
    return r;
fail:
    ta_csv_close(r);
    return NULL;
}

static int number(ta_csv *r, char **fields, int c, const char *name, double *out, char *err,
                  size_t errlen)
{
    const char *s = fields[r->col[c]];
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v)) {
        errf(err, errlen, r->path, r->lineno, "%s: '%s' is not a finite number", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

int ta_csv_next(ta_csv *r, ta_bar *out, char *err, size_t errlen)
{
    char *fields[MAX_COLS];
    for (;;) {
        if (!read_line(r)) {
            return 0;
        }
        int n = split(r->line, fields, MAX_COLS);
        if (n != r->ncols) {
            errf(err, errlen, r->path, r->lineno, "%d fields, the header has %d",
                 n < 0 ? MAX_COLS + 1 : n, r->ncols);
            return -1;
        }
        if (r->inst && r->col[C_INST] >= 0 && strcmp(fields[r->col[C_INST]], r->inst) != 0) {
            continue;
        }
        break;
    }
    ta_bar b = {0};
    const char *ts = fields[r->col[C_TS]];
    if (ta_parse_ts(ts, &b.open_ms) != 0) {
        errf(err, errlen, r->path, r->lineno, "ts: '%s' is neither epoch ms nor ISO 8601", ts);
        return -1;
    }
    if (number(r, fields, C_OPEN, "open", &b.o, err, errlen) ||
        number(r, fields, C_HIGH, "high", &b.h, err, errlen) ||
        number(r, fields, C_LOW, "low", &b.l, err, errlen) ||
        number(r, fields, C_CLOSE, "close", &b.c, err, errlen)) {
        return -1;
    }
    if (r->col[C_VOL] >= 0) {
        if (number(r, fields, C_VOL, "volume", &b.v, err, errlen)) {
            return -1;
        }
        if (b.v < 0) {
            errf(err, errlen, r->path, r->lineno, "volume: negative");
            return -1;
        }
    }
    if (b.l > b.h || b.o > b.h || b.c > b.h || b.o < b.l || b.c < b.l) {
        errf(err, errlen, r->path, r->lineno,
             "inconsistent candle: need low <= open, close <= high");
        return -1;
    }
    if (r->have_prev && b.open_ms <= r->prev_ts) {
        errf(err, errlen, r->path, r->lineno, "ts %s is not after the previous row's", ts);
        return -1;
    }
    r->have_prev = true;
    r->prev_ts = b.open_ms;
    b.n = 1;
    *out = b;
    return 1;
}

long ta_csv_lineno(const ta_csv *r)
{
    return r ? (long)r->lineno : 0;
}

void ta_csv_close(ta_csv *r)
{
    if (!r) {
        return;
    }
    if (r->f) {
        fclose(r->f);
    }
    free(r->line);
    free(r->path);
    free(r->inst);
    free(r);
}

/* ------------------------------------------------------------------- time */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_iso(const char *p, int64_t *out_ms)
{
    int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d)) {
        return -1;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) {
        return -1;
    }
    int64_t off_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mi)) {
            return -1;
        }
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &ss)) {
                return -1;
            }
            if (*p == '.' || *p == ',') {
                p++;
                int scale = 100, any = 0;
                for (; isdigit((unsigned char)*p); p++, any++) {
                    ms += (*p - '0') * scale; /* digits past milliseconds are dropped */
                    scale /= 10;
                }
                if (!any) {
                    return -1;
                }
            }
        }
        if (hh > 23 || mi > 59 || ss > 60) {
            return -1;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh)) {
                return -1;
            }
            if (*p == ':') {
                p++;
            }
            if (*p && digits(&p, 2, &om)) {
                return -1;
            }
            if (oh > 23 || om > 59) {
                return -1;
            }
            off_min = sign * (oh * 60 + om);
        }
    }
    if (*p) {
        return -1;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off_min * 60;
    *out_ms = secs * 1000 + ms;
    return 0;
}

int ta_parse_ts(const char *s, int64_t *out_ms)
{
    if (!*s) {
        return -1;
    }
    const char *p = s;
    while (isdigit((unsigned char)*p)) {
        p++;
    }
    if (!*p) {
        if (p - s > 18) {
            return -1;
        }
        *out_ms = strtoll(s, NULL, 10);
        return 0;
    }
    return parse_iso(s, out_ms);
}

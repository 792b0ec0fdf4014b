/* The candle files of a backtest (backtest_internal.h): CONTRACTS §1's CSV
 * read strictly by lib/ta's reader (a malformed, unsorted or duplicated row
 * is refused at FILE:LINE), one instrument per file — named `INST=FILE`, or
 * by the instId in the file's name as OKX exports name them — kept within
 * --from/--to, bars of 1 minute or coarser. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backtest_internal.h"
#include "decimal.h"
#include "ta_csv.h"

/* An instrument id at s: LETTERS-LETTERS-SWAP (capitals and digits). */
static size_t inst_at(const char *s)
{
    size_t n = 0;
    for (int part = 0; part < 3; part++) {
        size_t k = 0;
        while (isupper((unsigned char)s[n + k]) || isdigit((unsigned char)s[n + k])) {
            k++;
        }
        if (k == 0 || (part < 2 && s[n + k] != '-')) {
            return 0;
        }
        if (part == 2 && !(k == 4 && strncmp(s + n, "SWAP", 4) == 0)) {
            return 0;
        }
        n += k + (part < 2);
    }
    return n;
}

bool bt_inst_of_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (const char *p = base; *p; p++) {
        if (p == base || !isalnum((unsigned char)p[-1])) {
            size_t n = inst_at(p);
            if (n > 0 && n < cap && !isalnum((unsigned char)p[n])) {
                memcpy(out, p, n);
                out[n] = '\0';
                return true;
            }
        }
    }
    return false;
}

static int load_fail(bt_series *s, ta_csv *r, int code)
{
    ta_csv_close(r);
    free(s->bars);
    s->bars = NULL;
    s->n = 0;
    return code;
}

static int load_one(backtest *b, const char *spec)
{
    bt_series *s = &b->s[b->ns];
    memset(s, 0, sizeof(*s));
    const char *eq = strchr(spec, '=');
    if (eq && inst_at(spec) == (size_t)(eq - spec)) {
        snprintf(s->inst, sizeof(s->inst), "%.*s", (int)(eq - spec), spec);
        s->path = eq + 1;
    } else if (bt_inst_of_name(spec, s->inst, sizeof(s->inst))) {
        s->path = spec;
    } else {
        fprintf(stderr,
                "aitrader: backtest: %s: which instrument? Name it (--data "
                "BTC-USDT-SWAP=%s) or keep the instId in the file name "
                "(okx_BTC-USDT-SWAP_1m_….csv)\n",
                spec, spec);
        return 2;
    }
    for (size_t i = 0; i < b->ns; i++) {
        if (strcmp(b->s[i].inst, s->inst) == 0) {
            fprintf(stderr, "aitrader: backtest: %s: %s has a file already (%s)\n", s->path,
                    s->inst, b->s[i].path);
            return 2;
        }
    }
    char err[512];
    ta_csv *r = ta_csv_open(s->path, s->inst, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "aitrader: backtest: %s\n", err);
        return 2;
    }
    size_t cap = 0;
    ta_bar bar;
    int rc;
    int64_t prev = INT64_MIN;
    while ((rc = ta_csv_next(r, &bar, err, sizeof(err))) == 1) {
        if (prev != INT64_MIN) {
            int64_t step = bar.open_ms - prev;
            if (step % 60000 != 0) {
                fprintf(stderr,
                        "aitrader: backtest: %s:%ld: %" PRId64
                        " ms after the row before: bars are whole minutes (1m or coarser)\n",
                        s->path, ta_csv_lineno(r), step);
                return load_fail(s, r, 2);
            }
            if (s->bar_ms == 0 || step < s->bar_ms) {
                s->bar_ms = step;
            }
        }
        prev = bar.open_ms;
        if (bar.open_ms < b->from_ms || bar.open_ms >= b->to_ms) {
            continue;
        }
        if (s->n == cap) {
            cap = cap ? cap * 2 : 4096;
            bt_bar *nb = realloc(s->bars, cap * sizeof(*nb));
            if (!nb) {
                fprintf(stderr, "aitrader: backtest: %s: out of memory\n", s->path);
                return load_fail(s, r, 1);
            }
            s->bars = nb;
        }
        s->bars[s->n++] = (bt_bar){bar.open_ms, bar.o, bar.h, bar.l, bar.c, bar.v};
    }
    if (rc < 0) {
        fprintf(stderr, "aitrader: backtest: %s\n", err);
        return load_fail(s, r, 2);
    }
    ta_csv_close(r);
    if (s->bar_ms == 0) {
        s->bar_ms = 60000; /* one row: a minute */
    }
    if (s->n == 0) {
        fprintf(stderr, "aitrader: backtest: %s: no candle of %s between --from and --to\n",
                s->path, s->inst);
        return load_fail(s, NULL, 2);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->bars[i].open_ms % 60000 != 0) {
            fprintf(stderr,
                    "aitrader: backtest: %s: a bar opening at %" PRId64
                    " ms, not on a minute: bars open on whole minutes\n",
                    s->path, s->bars[i].open_ms);
            return load_fail(s, NULL, 2);
        }
    }
    b->ns++;
    return 0;
}

int bt_load_data(backtest *b)
{
    if (b->a->ndata == 0) {
        fprintf(stderr, "aitrader: backtest needs --data [INST=]FILE (candles, CONTRACTS §1), one "
                        "per instrument\n");
        return 2;
    }
    if (b->a->ndata > BT_MAX_SERIES) {
        fprintf(stderr, "aitrader: backtest: %zu files: at most %d instruments\n", b->a->ndata,
                BT_MAX_SERIES);
        return 2;
    }
    b->start_ms = INT64_MAX;
    b->end_ms = INT64_MIN;
    for (size_t i = 0; i < b->a->ndata; i++) {
        int rc = load_one(b, b->a->data[i]);
        if (rc != 0) {
            return rc;
        }
        const bt_series *s = &b->s[b->ns - 1];
        if (s->bars[0].open_ms < b->start_ms) {
            b->start_ms = s->bars[0].open_ms;
        }
        if (s->bars[s->n - 1].open_ms + s->bar_ms > b->end_ms) {
            b->end_ms = s->bars[s->n - 1].open_ms + s->bar_ms;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ funding */

/* The index of a header column named one of `names` (any case), or -1. */
static int column(char **cols, int n, const char *const *names)
{
    for (int i = 0; i < n; i++) {
        for (const char *const *k = names; *k; k++) {
            if (strcasecmp(cols[i], *k) == 0) {
                return i;
            }
        }
    }
    return -1;
}

/* Split a CSV line in place at commas (no quoting: funding files have none;
 * quotes around a field are dropped). */
static int split(char *line, char **cols, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        char *e = strchr(p, ',');
        if (e) {
            *e = '\0';
        }
        size_t l = strlen(p);
        while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n' || p[l - 1] == ' ')) {
            p[--l] = '\0';
        }
        if (l >= 2 && p[0] == '"' && p[l - 1] == '"') {
            p[l - 1] = '\0';
            p++;
        }
        cols[n++] = p;
        if (!e) {
            break;
        }
        p = e + 1;
    }
    return n;
}

static int fund_one(backtest *b, const char *spec)
{
    char inst[AT_ID_LEN];
    const char *path = spec, *eq = strchr(spec, '=');
    if (eq && inst_at(spec) == (size_t)(eq - spec)) {
        snprintf(inst, sizeof(inst), "%.*s", (int)(eq - spec), spec);
        path = eq + 1;
    } else if (!bt_inst_of_name(spec, inst, sizeof(inst))) {
        fprintf(stderr,
                "aitrader: backtest: --funding %s: which instrument? Name it "
                "(INST=FILE) or keep the instId in the file name\n",
                spec);
        return 2;
    }
    bt_series *s = NULL;
    for (size_t i = 0; i < b->ns; i++) {
        s = strcmp(b->s[i].inst, inst) == 0 ? &b->s[i] : s;
    }
    if (!s) {
        fprintf(stderr, "aitrader: backtest: --funding %s: no --data file of %s\n", path, inst);
        return 2;
    }
    if (s->fund) {
        fprintf(stderr, "aitrader: backtest: --funding %s: %s has a funding file already\n", path,
                inst);
        return 2;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "aitrader: backtest: %s: %s\n", path, strerror(errno));
        return 2;
    }
    static const char *const T[] = {"fundingTime", "ts", "time", NULL};
    static const char *const R[] = {"fundingRate", "realizedRate", "rate", NULL};
    char line[4096], *cols[64];
    long lineno = 0;
    int tc = -1, rcol = -1, code = 0;
    size_t cap = 0;
    int64_t prev = INT64_MIN;
    while (code == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "aitrader: backtest: %s:%ld: a line over %zu bytes\n", path, lineno,
                    sizeof(line) - 1);
            code = 2;
            break;
        }
        if (line[0] == '\n' || line[0] == '\r') {
            continue;
        }
        int n = split(line, cols, 64);
        if (tc < 0) {
            tc = column(cols, n, T);
            rcol = column(cols, n, R);
            if (tc < 0 || rcol < 0) {
                fprintf(stderr,
                        "aitrader: backtest: %s:%ld: the header names no %s column "
                        "(fundingTime, fundingRate)\n",
                        path, lineno, tc < 0 ? "time" : "rate");
                code = 2;
            }
            continue;
        }
        int64_t t;
        at_dec rate;
        if (tc >= n || rcol >= n || ta_parse_ts(cols[tc], &t) != 0 ||
            at_dec_parse(cols[rcol], strlen(cols[rcol]), &rate) != AT_OK) {
            fprintf(stderr, "aitrader: backtest: %s:%ld: expected a time and a rate\n", path,
                    lineno);
            code = 2;
        } else if (t <= prev) {
            fprintf(stderr,
                    "aitrader: backtest: %s:%ld: not after the row before (rows in time "
                    "order, once each)\n",
                    path, lineno);
            code = 2;
        } else {
            prev = t;
            if (s->nfund == cap) {
                cap = cap ? cap * 2 : 256;
                bt_fund *nf = realloc(s->fund, cap * sizeof(*nf));
                if (!nf) {
                    code = 1;
                    break;
                }
                s->fund = nf;
            }
            s->fund[s->nfund++] = (bt_fund){t, rate};
        }
    }
    fclose(f);
    if (code == 0 && s->nfund == 0) {
        fprintf(stderr, "aitrader: backtest: %s: no funding row\n", path);
        code = 2;
    }
    if (code != 0) {
        free(s->fund);
        s->fund = NULL;
        s->nfund = 0;
    }
    return code;
}

int bt_load_funding(backtest *b)
{
    for (size_t i = 0; i < b->a->nfunding; i++) {
        int rc = fund_one(b, b->a->funding[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* The candle files of a backtest (backtest_internal.h): CONTRACTS §1's CSV
 * read strictly by lib/ta's reader (a malformed, unsorted or duplicated row
 * is refused at FILE:LINE), one instrument per file — named `INST=FILE`, or
 * by the instId in the file's name as OKX exports name them — kept within
 * --from/--to, bars of 1 minute or coarser. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_internal.h"
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

/* Fuzz target for lib/ta's candle CSV reader (lib/ta/ta_csv.c), which
 * `aitrader indicators --csv`, okx-sim's --data-csv and the benches read
 * files with.
 *
 * The input is a whole file (any bytes), read through ta_csv_open_stream on
 * a memory stream, once for every row and once keeping BTC-USDT-SWAP's. The
 * reader must: return 1, 0 or -1; give rows with finite prices, low <= open,
 * close <= high, volume >= 0 and strictly increasing times; report every
 * error as "in.csv:LINE: reason" with LINE inside the file; end with an
 * error (never a clean end) when the file holds a NUL byte or a line longer
 * than TA_CSV_LINE_MAX; and keep failing once it failed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ta_csv.h"

#define NAME "in.csv"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ta_csv: property violated: %s\n", what);
        abort();
    }
}

/* "in.csv:LINE: ..." with LINE a line of the file (1 for an empty one), or
 * "in.csv: ..." (the file as a whole). */
static void check_error(const char *err, long lines)
{
    size_t n = strlen(NAME);
    check(strncmp(err, NAME, n) == 0 && err[n] == ':', "error names the file");
    if (err[n + 1] == ' ') {
        return;
    }
    char *end;
    long line = strtol(err + n + 1, &end, 10);
    check(end > err + n + 1 && *end == ':', "error names a line");
    check(line >= 1 && line <= (lines > 0 ? lines : 1), "error line inside the file");
}

static void read_all(const uint8_t *data, size_t size, const char *inst, long lines, int hostile)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) {
        return;
    }
    char err[512] = "";
    ta_csv *r = ta_csv_open_stream(f, NAME, inst, err, sizeof(err));
    if (!r) {
        check_error(err, lines);
        return;
    }
    int rc;
    long rows = 0;
    int64_t prev = INT64_MIN;
    ta_bar b;
    while ((rc = ta_csv_next(r, &b, err, sizeof(err))) == 1) {
        rows++;
        check(isfinite(b.o) && isfinite(b.h) && isfinite(b.l) && isfinite(b.c) && isfinite(b.v),
              "finite values");
        check(b.l <= b.o && b.l <= b.c && b.o <= b.h && b.c <= b.h, "low <= open, close <= high");
        check(b.v >= 0, "volume >= 0");
        check(b.open_ms > prev, "times strictly increase");
        prev = b.open_ms;
        check(ta_csv_lineno(r) >= 2 && ta_csv_lineno(r) <= lines, "row line inside the file");
    }
    check(rc == 0 || rc == -1, "known result");
    check(rows <= lines - 1, "at most one row a line");
    if (rc < 0) {
        check_error(err, lines);
        check(ta_csv_next(r, &b, err, sizeof(err)) == -1, "an error ends the read");
    } else {
        check(!hostile, "a NUL byte or an overlong line is an error");
        check(ta_csv_next(r, &b, err, sizeof(err)) == 0, "the end stays the end");
    }
    ta_csv_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Lines as the reader counts them (a last line without a newline too),
     * and whether one is hostile: a NUL byte or more than the cap. */
    long lines = 0;
    size_t len = 0;
    int hostile = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n') {
            lines++;
            len = 0;
            continue;
        }
        hostile |= data[i] == '\0' || ++len > TA_CSV_LINE_MAX;
    }
    lines += size > 0 && data[size - 1] != '\n';
    read_all(data, size, NULL, lines, hostile);
    read_all(data, size, "BTC-USDT-SWAP", lines, hostile);
    return 0;
}

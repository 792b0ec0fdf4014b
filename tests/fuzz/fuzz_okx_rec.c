/* Fuzz target for okx_rec_line (plugins/exchange_okx/okx_replay.c), the
 * recording line classifier a replay runs over every line of a file.
 *
 * The input is one line (any bytes, newlines included). The classifier must
 * never read outside it; a frame it returns must lie inside the line and be
 * non-empty; a timed frame's time must be finite and non-negative; the time
 * must be left alone for untimed and skipped lines. The input is copied into
 * an exact-size heap buffer so ASan catches any read past its end. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_replay.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_okx_rec: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    if (!line) {
        return 0;
    }
    memcpy(line, data, size);
    double ts = -7;
    const char *frame = NULL;
    size_t flen = 0;
    okx_rec_kind k = okx_rec_line(line, size, &ts, &frame, &flen);
    check(k == OKX_REC_SKIP || k == OKX_REC_TIMED || k == OKX_REC_UNTIMED || k == OKX_REC_PRIVATE,
          "known kind");
    if (k != OKX_REC_SKIP) {
        check(frame >= line && flen > 0 && frame + flen <= line + size, "frame inside the line");
    }
    if (k == OKX_REC_TIMED || k == OKX_REC_PRIVATE) {
        check(isfinite(ts) && ts >= 0, "finite time");
        check(frame[-1] == ' ', "frame after ': '");
    } else {
        check(ts == -7, "time untouched");
    }
    free(line);
    return 0;
}

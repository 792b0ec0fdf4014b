/**
 * @file ta_csv.h
 * @brief Strict reader of candle CSV files (CONTRACTS §1).
 *
 * Format: a header row naming at least `ts`, `open`, `high`, `low`, `close`
 * (any case, optionally double-quoted); `volume` optional; other columns
 * ignored. `ts` is epoch milliseconds or ISO 8601 (`2026-01-01`,
 * `2026-01-01T00:00:00Z`, `2026-01-01 00:00:00.000+08:00`; no zone = UTC).
 * Rows must be in strictly increasing time order and have as many fields as
 * the header; prices finite with low <= open, close <= high; volume >= 0.
 * Empty lines are skipped. An optional instrument column (`instId`, `inst`,
 * `instrument` or `symbol`) lets a caller keep one instrument's rows. A
 * UTF-8 byte order mark before the header is skipped.
 *
 * Input is a regular file or a pipe/FIFO (read as a stream). A named FIFO
 * whose writer has not opened it yet is waited for, up to
 * TA_CSV_FIFO_WAIT_MS, then refused ("no writer on the FIFO"); one whose
 * writer opens and closes it without writing reads as empty. A directory or
 * a device is refused. A line is at most TA_CSV_LINE_MAX bytes and the reader
 * never holds more than one line: a longer line, or a NUL byte anywhere, is
 * an error.
 *
 * Errors are reported as "FILE:LINE: reason" in the caller's buffer
 * ("FILE: reason" for the file as a whole), and end the read: later calls
 * of ta_csv_next fail too.
 */
#ifndef AT_TA_CSV_H
#define AT_TA_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "ta.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ta_csv ta_csv;

/** Longest line accepted, in bytes without the newline. */
#define TA_CSV_LINE_MAX 65536
/** How long ta_csv_open waits for the first byte of a FIFO nobody writes to yet. */
#define TA_CSV_FIFO_WAIT_MS 30000

/**
 * Open `path` and read its header. `inst` (borrowed, may be NULL) keeps only
 * rows whose instrument column equals it (ignored when there is no such
 * column). NULL on error, with the message in err.
 */
ta_csv *ta_csv_open(const char *path, const char *inst, char *err, size_t errlen);
/** The same, waiting at most fifo_wait_ms (not TA_CSV_FIFO_WAIT_MS) for a FIFO's writer. */
ta_csv *ta_csv_open_wait(const char *path, const char *inst, int fifo_wait_ms, char *err,
                         size_t errlen);
/**
 * The same on an open stream `f` (transferred: closed by ta_csv_close, or
 * here on error); `name` (borrowed) names it in messages.
 */
ta_csv *ta_csv_open_stream(FILE *f, const char *name, const char *inst, char *err, size_t errlen);
/** Next candle: 1 = *out filled, 0 = end of file, -1 = error (message in err). */
int ta_csv_next(ta_csv *r, ta_bar *out, char *err, size_t errlen);
/** The line last read (1 = the header), for messages of the caller's own. */
long ta_csv_lineno(const ta_csv *r);
/** Close and free (NULL is fine). */
void ta_csv_close(ta_csv *r);

/** Parse a ts field (epoch ms or ISO 8601) into epoch ms; 0 ok, -1 malformed. */
int ta_parse_ts(const char *s, int64_t *out_ms);

#ifdef __cplusplus
}
#endif

#endif

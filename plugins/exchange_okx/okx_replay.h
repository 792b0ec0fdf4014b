/* okx_replay: OKX public WebSocket sessions recorded to a file and played
 * back through the same frame path (okx_md, books, bus events) as live.
 *
 * Recording format, one frame a line (cryptofeed's, which real recordings of
 * OKX use): `<receive time, unix seconds>: <frame text>`. Lines starting with
 * `{` are frames without a time (JSONL, e.g. Tardis samples): they are played
 * at the time of the line before. Anything else (cryptofeed's outbound
 * `wss://… <- t: …` and connection `wss://… <-> t` lines, blank lines) is
 * not a received frame and is skipped. */
#ifndef OKX_REPLAY_H
#define OKX_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "okx_plugin.h"

typedef enum okx_rec_kind {
    OKX_REC_SKIP = 0, /* not a received frame */
    OKX_REC_TIMED,    /* a frame with its receive time */
    OKX_REC_UNTIMED,  /* a frame without a time */
} okx_rec_kind;

/* Classify one line (without its newline); for frames, *frame and *flen point
 * into the line and *ts is the receive time (OKX_REC_TIMED only). */
okx_rec_kind okx_rec_line(const char *line, size_t len, double *ts, const char **frame,
                          size_t *flen);

/* Play c->replay instead of connecting the public and business WebSockets;
 * frames go to okx_feed_frame at the recorded pace divided by
 * c->replay_speed (0 = as fast as the loop allows). */
int okx_replay_start(okx_ctx *c);
void okx_replay_stop(okx_ctx *c);

/* Append one received frame to c->record (opened at start). */
void okx_record_frame(okx_ctx *c, const char *data, size_t len);
int okx_record_open(okx_ctx *c);
void okx_record_close(okx_ctx *c);

#endif

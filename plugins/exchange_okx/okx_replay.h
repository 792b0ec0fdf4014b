/* okx_replay: OKX public WebSocket sessions recorded to a file and played
 * back through the same frame path (okx_md, books, bus events) as live.
 *
 * Recording format, one frame a line (cryptofeed's, which real recordings of
 * OKX use): `<receive time, unix seconds>: <frame text>`. Lines starting with
 * `{` are frames without a time (JSONL, e.g. Tardis samples): they are played
 * at the time of the line before. Anything else (cryptofeed's outbound
 * `wss://… <- t: …` and connection `wss://… <-> t` lines, blank lines) is
 * not a received frame and is skipped.
 *
 * Our recordings also carry the instrument list they were made with: a line
 * `instruments: <the /public/instruments answer, one line>` ({"code":"0",
 * "data":[…]} with the instruments the instance followed), written when the
 * list was loaded (before the frames, and again at each reload). The player
 * skips it; a replay without instruments_file takes its instruments from the
 * last one before the first frame (okx_rec_instruments).
 *
 * An account's recording (an instance with API keys) also carries what its
 * private side received, so `aitrader replay` can play the account too:
 *   `private <t>: <frame>`  a push of the private or the algo (business,
 *                           logged in) WebSocket, as received, or one of
 *                           them going up or down:
 *                           {"x-aitrader-feed": "private"|"algo", "up": b,
 *                            "reconnects": n};
 *   `rest <t>: <exchange>`  a REST answer as it came, t its arrival:
 *                           {"m": method, "p": path, "q": query, "b": body,
 *                            "sent": µs, "status": HTTP, "err": AT_*,
 *                            "error": text, "body": the answer's text}.
 * Market-data players skip both (they start with a letter). */
#ifndef OKX_REPLAY_H
#define OKX_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "okx_plugin.h"

typedef enum okx_rec_kind {
    OKX_REC_SKIP = 0, /* not a received frame */
    OKX_REC_TIMED,    /* a frame with its receive time */
    OKX_REC_UNTIMED,  /* a frame without a time */
    OKX_REC_PRIVATE,  /* a private WebSocket push with its receive time (an account's) */
} okx_rec_kind;

/* Classify one line (without its newline); for frames, *frame and *flen point
 * into the line and *ts is the receive time (OKX_REC_TIMED only). */
okx_rec_kind okx_rec_line(const char *line, size_t len, double *ts, const char **frame,
                          size_t *flen);
/* The same with the receive time in exact microseconds since the epoch
 * (digits past the sixth decimal rounded to the nearest microsecond, halves
 * up), as the player plays it. */
okx_rec_kind okx_rec_line_us(const char *line, size_t len, int64_t *ts_us, const char **frame,
                             size_t *flen);

/* The key of a recorded feed line (never in an OKX frame). */
#define OKX_REC_FEED "x-aitrader-feed"

/* The line prefix of the instrument list in a recording. */
#define OKX_REC_INSTRUMENTS "instruments: "

/* The instrument list recorded in `path`: the last instruments: line before
 * its first frame. AT_OK: *doc is that answer (a new reference), checked to
 * be {"code":"0","data":[…]}, and *line its line number. AT_ENOENT: there is
 * none before the first frame (*first is that frame's kind, OKX_REC_SKIP
 * when the file has no frame). AT_EINVAL: an instruments: line that is not
 * such an answer, err "PATH:LINE: why". AT_EIO: the file cannot be read
 * (err says why). AT_ENOMEM. With from_us > 0 (replay_from), frames
 * recorded before it do not end the search: the list is the last one
 * before the first frame played. */
int okx_rec_instruments(const char *path, int64_t from_us, json_t **doc, uint64_t *line,
                        okx_rec_kind *first, char *err, size_t errlen);

/* Play c->replay instead of connecting the public and business WebSockets;
 * frames go to okx_feed_frame at the recorded pace divided by
 * c->replay_speed (0 = as fast as the loop allows) from the replay's start,
 * or with replay_at = recorded each when the core clock reaches its
 * recorded time (frames recorded before the current time at once, in file
 * order). Timed with host->timer_at to the microsecond when the host has
 * it, else with millisecond timers. */
int okx_replay_start(okx_ctx *c);
void okx_replay_stop(okx_ctx *c);

/* Append one received frame to c->record (opened at start). */
void okx_record_frame(okx_ctx *c, const char *data, size_t len);
/* The same for a private push (a `private` line). */
void okx_record_private(okx_ctx *c, const char *data, size_t len);
/* okx_rest_opts.observe of an account being recorded (arg: the okx_ctx): a
 * `rest` line per answer. */
void okx_record_rest(void *arg, const char *method, const char *path, const char *query,
                     const char *body, const at_http_resp *resp);
/* The instrument list is loaded (r: the /public/instruments answer or the
 * file's, c->watch resolved): with `record`, its instruments: line (the
 * followed instruments' rows as received) is written now when the
 * recording is open, else when okx_record_open opens it. */
void okx_record_instruments(okx_ctx *c, const okx_reply *r);
int okx_record_open(okx_ctx *c);

/* okx_replay_rest.c: replay_account's REST answers. Load the `rest` lines of
 * c->replay (from replay_from on) into c->rec_rest: AT_OK, AT_EIO, AT_EINVAL
 * (a line that is not one, logged with its number), AT_ENOMEM. */
int okx_replay_rest_load(okx_ctx *c);
void okx_replay_rest_free(okx_ctx *c);
/* Whether the recording has feed lines (private <t>: {"x-aitrader-feed"…});
 * one made before them is taken as both feeds up from the start. */
bool okx_replay_rest_feeds(const okx_ctx *c);
/* okx_rest_opts.recorded (arg: the okx_ctx). */
void okx_replay_rest_answer(void *arg, const char *method, const char *path, const char *query,
                            const char *body, okx_rec_answer *a);
void okx_record_close(okx_ctx *c);

#endif

/* Session recording (issue 12): with `[core] record = DIR` the engine writes
 * one file per run, DIR/session-<UTC start>.jsonl, that `aitrader replay`
 * plays back. One JSON object a line, keys sorted, compact, so a replay's
 * own lines compare byte for byte with the recorded ones:
 *   {"k":"session", …}  first line: format version, the engine's start time
 *                       (engine_start, µs; "t" is the recorder's), config file,
 *                       the market-frame files the exchange instances record
 *   {"k":"snapshot", …} the copy of the database the session starts from
 *                       (its file beside this one), or why there is none
 *   {"k":"traders"}     the traders start (market frames before it reached
 *                       nobody)
 *   {"k":"end"}         the engine begins to stop: the last line
 *   {"k":"trigger", …}  every TRIGGER (the scheduler's calls)
 *   {"k":"ai", …}       every AI request with its answer, by prompt hash:
 *                       SHA-256 of system, user and schema (NUL-separated)
 *   {"k":"decision"|"intent"|"verdict"|"result", …} what the pipeline made
 *                       of them (a result's "sent": when the venue got it)
 *   {"k":"feedback", …} what the trader told its provider became of a
 *                       decision (at_ai_ops.feedback)
 * Every line carries "t", the core-clock time in microseconds. Market
 * frames stay in the files exchange_okx records (`record = FILE`): the
 * header names them. Runs as the virtual instance "core.recorder". */
#ifndef AT_CORE_TRADING_SESSION_H
#define AT_CORE_TRADING_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <aitrader/plugin.h>

#define SESSION_FORMAT 1

typedef struct session_rec session_rec;

/* A market-frame file some instance records (the header lists them). */
typedef struct session_frames {
    const char *instance; /* "exchange.okx_data" */
    const char *path;     /* as configured */
} session_frames;

/* Create DIR (mode 0700) when missing and open a new session file there;
 * NULL with `why` filled when it cannot. `self` is borrowed. */
session_rec *session_rec_new(const at_host *h, at_instance *self, const char *dir,
                             const char *config_path, int64_t engine_start_us,
                             const session_frames *frames, size_t nframes, char *why,
                             size_t whylen);
/* Subscribe to TRIGGER, DECISION, ORDER_INTENT, RISK_VERDICT and ORDER_RESULT. */
int session_rec_start(session_rec *r);
void session_rec_stop(session_rec *r);
void session_rec_free(session_rec *r);
/* The database the session starts from: a "snapshot" line naming `file`
 * (beside the session file), or NULL and why there is none. */
void session_rec_snapshot(session_rec *r, const char *file, const char *why);
/* A moment of the engine: "traders" (they start now) or "end" (the engine
 * begins to stop: nothing is written after it). */
void session_rec_mark(session_rec *r, const char *kind);
/* A change made through the engine's control API (trader.pause,
 * trader.resume, kill_switch.set) by `caller` (an instance name): a
 * "control" line with the method and its params (the replay makes the same
 * call then). A manual run is recorded as its trigger instead. */
void session_rec_control(session_rec *r, const char *caller, const char *method,
                         const json_t *params);
/* The kill switch as the session starts (as risk.breaker reads its file:
 * present, on, since, by, reason): a "kill_switch" line; the replay writes
 * the same switch into its data directory. */
void session_rec_kill_switch(session_rec *r, bool present, bool on, int64_t since_ms,
                             const char *by, const char *reason);
/* An instance's first subscription to an event type (a "subscribe" line):
 * what came before it was not its, live, so not in the replay either (a
 * paper venue subscribes to the market once its account is read back). */
void session_rec_subscribed(session_rec *r, const char *instance, int type);
/* The file being written (for the log and tests). */
const char *session_rec_path(const session_rec *r);
/* Lines written, and writes that failed (then an ALERT was raised once). */
void session_rec_counts(const session_rec *r, uint64_t *lines, uint64_t *failed);

/* The AI operations a trader calls while recording: they forward to the
 * provider's own and write each answered request as an "ai" line and each
 * feedback as a "feedback" line (forwarded when the provider takes it). One tap
 * per trader; `inner`/`inner_ctx` are the provider's (borrowed). */
typedef struct session_tap session_tap;
session_tap *session_tap_new(session_rec *r, const at_ai_ops *inner, void *inner_ctx);
void session_tap_free(session_tap *t);
/* The tap's operations for `inner`: with cancel only when inner has it (the
 * trader marks a call timed out only when it could cancel it). */
const at_ai_ops *session_tap_ops(const at_ai_ops *inner);
/* trader_cfg.prompt_read for a tap: the very next request through the tap,
 * when it is the first attempt of `key`, carries the moment its prompt read
 * the market ("prompt_at"), which the replay builds it at. */
void session_tap_prompt_read(void *tap, const char *key, int64_t at_us);

/* The prompt hash of a request: 64 hex digits and a NUL into out. */
void session_prompt_hash(const at_ai_request *req, char out[65]);

#endif

/* `aitrader replay -c FILE --recording FILE` (issue 12): a session file
 * ([core] record, core/trading/session.h) played through the same pipeline
 * on the simulated clock, with no network:
 *  - the exchange instances that recorded market frames play them at their
 *    recorded times; an instance trading an OKX account (keys, no frames)
 *    cannot be replayed (its private frames are not recorded) and is
 *    refused; paper venues trade as they did;
 *  - the traders' recorded triggers are fired at their recorded times (the
 *    schedulers do not fire on their own: see sched_cfg.replay);
 *  - the AI providers are not loaded: a request is answered with the
 *    recorded answer of the same prompt (by hash) at the time it came; a
 *    prompt never recorded is the first divergence, reported with the
 *    first line where it differs from the one recorded for that trigger;
 *  - storage is a scratch SQLite database, dashboards and sources are off;
 *  - the replay records itself, and its triggers, AI calls, decisions,
 *    intents, verdicts and feedback are compared in order with the
 *    recording's (times aside: a live clock moves while code runs, the
 *    simulated one does not). Exit 0 identical, 1 diverged (the first
 *    difference: which line, which trigger, which field), 2 bad usage or
 *    recording. */
#ifndef AT_CORE_REPLAY_H
#define AT_CORE_REPLAY_H

#include "conf.h"
#include "engine.h"

typedef struct replay replay;

/* The engine's side (engine_load.c, engine.c, engine_rec.c). */
int replay_edit_conf(replay *r, conf_file *f, conf_errors *errs);
/* The AI operations every trader gets instead of its provider's. */
const at_ai_ops *replay_ai_ops(void);
void *replay_ai_ctx(replay *r);
/* When the trader builds the prompt of trigger `key`: the recorded call's
 * send time (trader_cfg.ask_at); 0 when none was recorded. */
int64_t replay_ask_at(void *r, const char *key);
/* When the executor hands intent `id` to its venue: the recorded send time
 * (exec_cfg.submit_at); 0 when none was recorded. */
int64_t replay_submit_at(void *r, const char *intent_id);
/* engine_subscribed in a replay: when `instance` first subscribed to `type`
 * in the recorded session (0 when not recorded: every event). */
int64_t replay_subscribed_at(void *r, const char *instance, int type);
/* The engine is about to start the traders: the replay plays the market up
 * to the time the recorded traders started (engine_rec.c). */
void replay_traders_start(replay *r);
/* The directory the replay's own session file goes to. */
const char *replay_record_dir(const replay *r);

/* The command: returns the exit code. */
int replay_main(engine_opts *o, const char *recording);

#endif

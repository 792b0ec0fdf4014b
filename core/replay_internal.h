/* aitrader replay's parts (replay.h says what it does): the recording read
 * (replay_load.c), the config adapted (replay_conf.c), the AI stand-in
 * (replay_ai.c), the run on the simulated clock (replay_run.c), the
 * comparison (replay_compare.c) and the command (replay.c). */
#ifndef AT_CORE_REPLAY_INTERNAL_H
#define AT_CORE_REPLAY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "replay.h"

/* An AI answer waiting for its recorded time. */
typedef struct rp_pending {
    int64_t at_us;
    at_ai_done_cb done;
    void *arg;
    char id[AT_ID_LEN];
    const json_t *reply; /* borrowed from the recording; NULL = the miss's error */
} rp_pending;

struct replay {
    char *path;     /* the session file */
    json_t *header; /* its first line */
    json_t **lines; /* the lines after it, up to its "end" line */
    size_t n, cap;
    bool *used;   /* ai lines answered */
    size_t *trig; /* indexes of the input lines (rp_is_input), in order */
    size_t ntrig, next_trig;
    size_t ntriggers; /* of them triggers */
    rp_pending *pend; /* AI answers not delivered yet */
    size_t npend, cap_pend;
    int64_t end_us;     /* the "end" line's time, else the last line's */
    int64_t traders_us; /* when the recorded traders started, 0 = unknown */
    char *tmp;          /* the scratch directory */
    char *rec_dir;      /* where the replay records itself */
    engine *e;
    char *divergence; /* the first difference, once found */
    char *ai_miss;    /* a prompt never recorded: stops the run */
    char *failure;    /* the replay could not run to the end (not a divergence) */
    bool ending;      /* the run is over: the engine stops (its cancels are no news) */
};

/* The string member k of o, "" when absent. */
const char *rp_str(const json_t *o, const char *k);
int64_t rp_int(const json_t *o, const char *k);
/* Set r->divergence / ai_miss / failure (the first one stays). */
void rp_diverged(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp_missed(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp_failed(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* replay_load.c: read the session file (0, or 2 with the reason printed);
 * copy the database it started from to `to` (0 or 2); the recorded
 * engine's start. */
int rp_load(replay *r, const char *path);
int rp_start_db(const replay *r, const char *to);
int64_t rp_start_of(const replay *r);

/* replay_inject.c: whether a recorded line is an input the replay makes
 * again at its time (a trigger, a control call, an intent of an instance
 * the replay turns off); make a control call or intent again (lineno: its
 * line in the file, for messages). */
bool rp_is_input(const json_t *l);
void rp_inject_input(replay *r, const json_t *l, size_t lineno);

/* replay_run.c: the run, after engine_start (AT_OK, or the engine's error). */
int rp_run(replay *r);
/* replay_ai.c: hand a held answer to its trader. */
void rp_deliver(const rp_pending *p);

/* replay_compare.c: the replay's own session file against the recording;
 * counts per kind into counts[RP_NKINDS]. */
#define RP_NKINDS 6
void rp_compare(replay *r, const char *mine, size_t *counts);
/* "trigger", "decision", "intent", "verdict", "feedback", "ai" (in that
 * order, for the summary); RP_NKINDS for any other kind. */
size_t rp_kind_index(const char *k);

#endif

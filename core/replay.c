/* aitrader replay: the command (replay.h says what it does). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "replay.h"

#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../plugins/risk_breaker/kill_switch.h"
#include "engine_internal.h"
#include "log.h"
#include "replay_internal.h"
#include "storage.h"
#include "util.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void replay_free(replay *r)
{
    for (size_t i = 0; i < r->n; i++) {
        json_decref(r->lines[i]);
    }
    free(r->lines);
    free(r->used);
    free(r->trig);
    free(r->pend);
    json_decref(r->header);
    const char *keep = getenv("AITRADER_REPLAY_KEEP");
    if (r->tmp && keep && strcmp(keep, "1") == 0) {
        fprintf(stderr, "aitrader: replay: the scratch directory %s is kept\n", r->tmp);
    } else if (r->tmp && nftw(r->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf(stderr, "aitrader: replay: cannot remove %s: %s\n", r->tmp, strerror(errno));
    }
    free(r->tmp);
    free(r->rec_dir);
    free(r->divergence);
    free(r->ai_miss);
    free(r->failure);
    free(r->path);
}

/* The session file the replay wrote of itself. */
static char *own_session(const replay *r)
{
    char *pat = at_asprintf("%s/session-*.jsonl", r->rec_dir);
    glob_t g = {0};
    char *found =
        pat && glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1 ? at_strdup(g.gl_pathv[0]) : NULL;
    globfree(&g);
    free(pat);
    return found;
}

/* The kill switch as the session started, written into the replay's data
 * directory (risk.breaker reads it there): 0, or 1 with the reason. */
static int put_kill_switch(const replay *r, const char *data)
{
    const json_t *l = NULL;
    for (size_t i = 0; i < r->n && !l; i++) {
        if (strcmp(rp_str(r->lines[i], "k"), "kill_switch") == 0) {
            l = r->lines[i];
        }
    }
    if (!l || !json_is_true(json_object_get(l, "present"))) {
        return 0; /* none then (or a session recorded before this line existed) */
    }
    char err[256];
    if (ks_write(data, json_is_true(json_object_get(l, "on")), rp_int(l, "since_ms"),
                 rp_str(l, "by"), rp_str(l, "reason"), err, sizeof(err)) != 0) {
        fprintf(stderr, "aitrader: replay: the kill switch in %s: %s\n", data, err);
        return 1;
    }
    return 0;
}

/* The scratch directory, its data/ and the database the session started
 * from: 0, or the exit code with the reason printed. */
static int scratch(replay *r)
{
    const char *tmpdir = getenv("TMPDIR");
    char *tmpl = at_asprintf("%s/aitrader-replay-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!tmpl || !mkdtemp(tmpl)) {
        fprintf(stderr, "aitrader: replay: cannot make a scratch directory: %s\n", strerror(errno));
        free(tmpl);
        return 1;
    }
    r->tmp = tmpl;
    r->rec_dir = at_asprintf("%s/sessions", tmpl);
    char *data = at_asprintf("%s/data", tmpl), *db = at_asprintf("%s/data/replay.db", tmpl);
    int code = r->rec_dir && data && db && mkdir(data, 0700) == 0 ? rp_start_db(r, db) : 1;
    code = code == 0 ? put_kill_switch(r, data) : code;
    free(data);
    free(db);
    return code;
}

int replay_main(engine_opts *o, const char *recording)
{
    if (!recording) {
        fprintf(stderr, "aitrader: replay needs --recording FILE (a session file of "
                        "[core] record)\n");
        return 2;
    }
    replay r = {.path = at_strdup(recording)};
    int code = r.path ? rp_load(&r, recording) : 1;
    code = code == 0 ? scratch(&r) : code;
    if (code != 0) {
        replay_free(&r);
        return code;
    }
    o->sim_clock = true;
    o->sim_start_us = rp_start_of(&r);
    o->replay = &r;
    storage_count_answers(true);
    conf_errors errs = {0};
    engine *e = engine_new(o);
    r.e = e;
    if (!e || engine_load(e, &errs) != AT_OK) {
        for (size_t i = 0; i < errs.n; i++) {
            fprintf(stderr, "%s\n", errs.msgs[i]);
        }
        conf_errors_free(&errs);
        engine_free(e);
        replay_free(&r);
        return 2;
    }
    conf_errors_free(&errs);
    log_msg("core", AT_LOG_INFO, "replaying %s: %zu lines, %zu triggers, %.1f s of session",
            recording, r.n, r.ntriggers, (double)(r.end_us - o->sim_start_us) / 1e6);
    int rc = engine_start(e);
    if (rc == AT_OK) {
        rc = rp_run(&r);
    }
    r.ending = true;
    bool interrupted = e->exit_code != INT_MIN;
    engine_shutdown(e);
    engine_free(e);
    size_t counts[RP_NKINDS + 1] = {0};
    char *mine = rc == AT_OK ? own_session(&r) : NULL;
    if (rc != AT_OK || r.failure || interrupted) {
        fprintf(stderr, "aitrader: replay: %s\n",
                r.failure     ? r.failure
                : interrupted ? "interrupted before the session's end: nothing compared"
                              : "the engine failed to start (see the log above)");
        code = 1;
    } else if (!mine) {
        fprintf(stderr, "aitrader: replay: the replay wrote no session file of its own\n");
        code = 1;
    } else {
        if (!r.divergence) {
            rp_compare(&r, mine, counts); /* a line before an AI miss that differs comes first */
        }
        const char *d = r.divergence ? r.divergence : r.ai_miss;
        if (d) {
            printf("replay: DIVERGED: %s\n", d);
            code = 1;
        } else {
            printf("replay: identical: %zu triggers, %zu decisions, %zu intents, %zu verdicts, "
                   "%zu feedback lines, %zu AI answers\n",
                   counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]);
        }
    }
    free(mine);
    replay_free(&r);
    storage_count_answers(false);
    log_shutdown();
    return code;
}

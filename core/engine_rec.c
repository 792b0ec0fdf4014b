/* Session recording on the engine's side ([core] record = DIR; the format is
 * in core/trading/session.h): the recorder is started before the traders,
 * whose AI operations then go through a tap that writes each answer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "engine_internal.h"
#include "log.h"
#include "replay.h"
#include "storage.h"
#include "util.h"
#include "trading/session.h"
#include "../plugins/risk_breaker/kill_switch.h"

/* The flush's answer; when the wait gave up first, the answer frees it. */
typedef struct flush_wait {
    bool done, abandoned;
} flush_wait;

static void on_flushed(void *arg, int err, const char *error)
{
    (void)err;
    (void)error;
    flush_wait *w = arg;
    if (w->abandoned) {
        free(w);
    } else {
        w->done = true;
    }
}

static bool flushed(void *arg)
{
    return ((flush_wait *)arg)->done;
}

/* The database as the session starts (before the traders read their
 * history): every queued write committed, then copied beside the session
 * file, so a replay starts from the same history and paper accounts. */
static void snapshot(engine *e)
{
    const char *path = session_rec_path(e->rec);
    size_t n = strlen(path);
    char *db = at_asprintf("%.*s.db", (int)(n > 6 ? n - 6 : n), path); /* ".jsonl" -> ".db" */
    char why[512] = "out of memory";
    flush_wait *w = calloc(1, sizeof(*w));
    int rc = db && w ? storage_flush(on_flushed, w) : AT_ENOMEM;
    if (rc == AT_OK && !engine_wait(e, flushed, w, 60 * 1000000LL)) {
        snprintf(why, sizeof(why), "storage did not flush within 60 s");
        rc = AT_ETIMEDOUT;
        w->abandoned = true; /* its answer frees it */
        w = NULL;
    } else if (rc != AT_OK && db && w) {
        snprintf(why, sizeof(why), "storage cannot flush: %s", at_strerror(rc));
    }
    free(w);
    if (e->exit_code != INT_MIN && e->stop_ev) {
        /* a stop asked during the wait was taken by that loop turn: ask again */
        event_active(e->stop_ev, EV_READ, 0);
    }
    /* trading data, like the session file: private from the first byte (the
     * copy goes into this empty file) */
    int fd = rc == AT_OK ? open(db, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600) : -1;
    bool created = fd >= 0;
    if (rc == AT_OK && !created) {
        snprintf(why, sizeof(why), "cannot create %s: %s", db, strerror(errno));
        rc = AT_EIO;
    }
    if (created) {
        close(fd);
    }
    rc = rc == AT_OK ? storage_snapshot(db, why, sizeof(why)) : rc;
    if (rc == AT_OK && (fd = open(db, O_RDONLY | O_CLOEXEC)) >= 0) {
        rc = fsync(fd) == 0 ? AT_OK : AT_EIO; /* VACUUM INTO does not sync its file */
        if (rc != AT_OK) {
            snprintf(why, sizeof(why), "cannot sync %s: %s", db, strerror(errno));
        }
        close(fd);
    }
    if (rc != AT_OK && created) {
        unlink(db); /* nothing half-written is named */
    }
    const char *base = db ? strrchr(db, '/') : NULL;
    if (rc == AT_OK) {
        session_rec_snapshot(e->rec, base ? base + 1 : db, NULL);
        log_msg("core.recorder", AT_LOG_INFO, "the database as the session starts: %s", db);
    } else {
        session_rec_snapshot(e->rec, NULL, why);
        log_msg("core.recorder", AT_LOG_WARN,
                "no copy of the database for this session (%s): its replay starts from an "
                "empty one",
                why);
    }
    free(db);
}

/* The kill switch as the session starts: a file of data_dir, not of the
 * database copy. Read as risk.breaker reads it (fail-safe: a file that
 * cannot be read, a link, not a regular file is on). */
static void kill_switch(engine *e)
{
    char path[PATH_MAX];
    ks_state st = {.on = true, .present = true};
    snprintf(st.reason, sizeof(st.reason), "its path is too long: taken as on");
    if (ks_path(e->core.data_dir, path, sizeof(path))) {
        ks_read(path, &st);
    }
    session_rec_kill_switch(e->rec, st.present, st.on, st.since_ms, st.by, st.reason);
}

int engine_rec_open(engine *e)
{
    if (!e->core.record || e->rec_opened) {
        return AT_OK;
    }
    e->rec_opened = true;
    /* The market frames: instances that record them themselves (exchange_okx's
     * `record = FILE`), named in the header for the replay. */
    session_frames *fr = calloc(e->ninstances ? e->ninstances : 1, sizeof(*fr));
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd))) {
        cwd[0] = '\0';
    }
    size_t n = 0;
    for (const at_instance *in = e->instances; in && fr; in = in->next) {
        const conf_entry *en = conf_entry_get(conf_section_get(e->conf, in->name), "record");
        if (en && en->value[0]) { /* absolute: a replay may run from elsewhere */
            char *p = en->value[0] == '/' || !cwd[0] ? at_strdup(en->value)
                                                     : at_asprintf("%s/%s", cwd, en->value);
            if (p) {
                fr[n++] = (session_frames){in->name, p};
            }
        }
    }
    at_instance *self = engine_virtual_instance(e, "core.recorder");
    char why[512] = "out of memory";
    if (fr && self) {
        e->rec = session_rec_new(engine_host(), self, e->core.record, e->config_path, e->started_us,
                                 fr, n, why, sizeof(why));
    }
    for (size_t i = 0; i < n; i++) {
        free((char *)fr[i].path);
    }
    free(fr);
    if (!e->rec) {
        log_msg("core", AT_LOG_ERROR, "[core] record: %s", why);
        return AT_EIO;
    }
    if (n == 0 && !e->opts.replay) {
        log_msg("core", AT_LOG_WARN,
                "[core] record: no exchange instance records its market frames (`record = FILE` "
                "in its section): a replay of this session will have no market data");
    }
    /* Nothing but storage runs yet: the copy is the database every other
     * instance starts from, live and in the replay alike (waiting for the
     * flush turns the loop, and no market frame can come in meanwhile). */
    snapshot(e);
    kill_switch(e);
    return AT_OK;
}

int64_t engine_subscribed(at_instance *in, at_event_type type)
{
    engine *e = engine_current();
    if (!e || !in || (unsigned)type >= 64) {
        return 0;
    }
    if (e->opts.replay) {
        return replay_subscribed_at(e->opts.replay, in->name, type);
    }
    uint64_t bit = 1ULL << type;
    if (e->rec && !(in->subs_recorded & bit)) {
        in->subs_recorded |= bit;
        session_rec_subscribed(e->rec, in->name, (int)type);
    }
    return 0;
}

int engine_rec_start(engine *e)
{
    if (e->opts.replay) {
        replay_traders_start(e->opts.replay);
    }
    if (!e->rec) {
        return AT_OK;
    }
    session_rec_mark(e->rec, "traders");
    int rc = session_rec_start(e->rec);
    if (rc != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "[core] record: %s", at_strerror(rc));
        return rc;
    }
    e->taps = calloc(e->ntraders ? e->ntraders : 1, sizeof(*e->taps));
    return e->taps ? AT_OK : AT_ENOMEM;
}

bool engine_rec_wrap(engine *e, size_t idx, const at_ai_ops **ops, void **ctx)
{
    if (!e->rec) {
        return true;
    }
    session_tap *t = session_tap_new(e->rec, *ops, *ctx);
    if (!t) {
        return false;
    }
    session_tap_free(e->taps[idx]);
    e->taps[idx] = t;
    *ops = session_tap_ops(*ops);
    *ctx = t;
    return true;
}

void engine_rec_end(engine *e)
{
    if (e->rec) {
        session_rec_mark(e->rec, "end");
    }
}

void engine_rec_stop(engine *e)
{
    session_rec_stop(e->rec);
}

void engine_rec_free(engine *e)
{
    for (size_t i = 0; e->taps && i < e->ntraders; i++) {
        session_tap_free(e->taps[i]);
    }
    free(e->taps);
    e->taps = NULL;
    session_rec_free(e->rec);
    e->rec = NULL;
    e->rec_opened = false;
}

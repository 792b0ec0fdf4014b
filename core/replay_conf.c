/* The user's config, adapted for a replay: everything that would reach the
 * network or the user's data is turned off or pointed at the recording and
 * a scratch directory; what cannot be replayed is refused at its section. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"
#include "util.h"

/* An exchange instance whose market frames were recorded: it plays them,
 * this session's only, at their recorded microseconds, with no keys. */
static int play_frames(const replay *r, conf_file *f, const char *sec, const char *frames)
{
    static const char *const drop[] = {"record", "backfill", NULL};
    for (size_t k = 0; drop[k]; k++) {
        conf_unset(f, sec, drop[k]);
    }
    char from[32];
    snprintf(from, sizeof(from), "%" PRId64, rp_start_of(r));
    int rc = conf_set(f, sec, "replay", frames);
    rc = rc == AT_OK ? conf_set(f, sec, "replay_at", "recorded") : rc;
    rc = rc == AT_OK ? conf_set(f, sec, "replay_speed", "1") : rc;
    return rc == AT_OK ? conf_set(f, sec, "replay_from", from) : rc;
}

/* Whether `path` holds a private push recorded at or after from_us (an
 * account instance records them with its market frames: okx_replay.h). */
static bool has_private(const char *path, int64_t from_us)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        return false; /* the instance says why when it cannot read it */
    }
    static const char P[] = "private ";
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, fp) >= 0) {
        if (strncmp(line, P, sizeof(P) - 1) != 0) {
            continue;
        }
        const char *q = line + sizeof(P) - 1;
        int64_t us = 0;
        int frac = -1;
        for (; (*q >= '0' && *q <= '9') || (*q == '.' && frac < 0); q++) {
            if (*q == '.') {
                frac = 0;
            } else if (frac < 6) {
                us = us * 10 + (*q - '0');
                frac += frac >= 0;
            }
        }
        for (frac = frac < 0 ? 0 : frac; frac < 6; frac++) {
            us *= 10;
        }
        found = *q == ':' && us >= from_us;
    }
    free(line);
    fclose(fp);
    return found;
}

/* An exchange account whose private side was recorded with its frames: it
 * plays them and answers its own REST calls from them, with no keys. */
static int play_account(const replay *r, conf_file *f, const char *sec, const char *frames)
{
    static const char *const keys[] = {"api_key", "secret_key", "passphrase", NULL};
    for (size_t k = 0; keys[k]; k++) {
        conf_unset(f, sec, keys[k]);
    }
    int rc = play_frames(r, f, sec, frames);
    return rc == AT_OK ? conf_set(f, sec, "replay_account", "true") : rc;
}

int replay_edit_conf(replay *r, conf_file *f, conf_errors *errs)
{
    size_t before = errs->n;
    const json_t *frames = json_object_get(r->header, "frames");
    char *data = at_asprintf("%s/data", r->tmp);
    char *db = at_asprintf("%s/data/replay.db", r->tmp);
    int rc = data && db ? conf_add_section(f, "core") : AT_ENOMEM;
    rc = rc == AT_OK ? conf_set(f, "core", "data_dir", data) : rc;
    rc = rc == AT_OK ? conf_set(f, "core", "record", r->rec_dir) : rc;
    size_t nsec = f->n; /* the sections added below are not looked at */
    for (size_t i = 0; rc == AT_OK && i < nsec; i++) {
        const conf_section *s = &f->secs[i];
        if (!conf_section_enabled(s) || strcmp(s->name, "core") == 0) {
            continue;
        }
        const char *kind = s->kind, *mod = conf_section_module(s);
        const char *fr = json_string_value(json_object_get(frames, s->name));
        bool keys = conf_entry_get(s, "api_key") != NULL;
        if (strcmp(kind, "ai") == 0 || strcmp(kind, "ui") == 0 || strcmp(kind, "source") == 0 ||
            strcmp(kind, "storage") == 0) {
            /* answered from the recording, not watched, a scratch database instead */
            rc = conf_set(f, s->name, AT_CFG_KEY_ENABLED, "false");
        } else if (strcmp(kind, "exchange") != 0) {
            continue;
        } else if (keys && fr && has_private(fr, rp_start_of(r))) {
            rc = play_account(r, f, s->name, fr);
        } else if (keys) {
            conf_err(errs, f->path, s->line, s->name, NULL,
                     "replay: this instance trades an exchange account whose private frames "
                     "(orders, fills, balances) are not in the recording (`record = FILE` in "
                     "this section records them with its market frames), or set enabled = "
                     "false here");
        } else if (fr) {
            rc = play_frames(r, f, s->name, fr);
        } else if (strcmp(mod, "paper") == 0) {
            /* its instruments from its market's recording: no network */
            const conf_entry *m = conf_entry_get(s, "market");
            const char *mfr = m ? json_string_value(json_object_get(frames, m->value)) : NULL;
            if (!mfr) {
                conf_err(errs, f->path, m ? m->line : s->line, s->name, m ? "market" : NULL,
                         "replay: a paper venue follows the market of a recorded instance; %s",
                         m ? "that instance's frames are not in the recording"
                           : "set market = the exchange instance that records its frames");
            } else if (!conf_entry_get(s, "instruments_file")) {
                char from[32];
                snprintf(from, sizeof(from), "%" PRId64, rp_start_of(r));
                rc = conf_set(f, s->name, "instruments_file", mfr);
                rc = rc == AT_OK ? conf_set(f, s->name, "replay_from", from) : rc;
            }
        } else {
            conf_err(errs, f->path, s->line, s->name, NULL,
                     "replay: its market frames are not in the recording (record them with "
                     "`record = FILE` in this section), or set enabled = false here");
        }
    }
    /* The scratch database, its own instance: fsync is not needed there. */
    if (rc == AT_OK && conf_section_get(f, "storage.replay")) {
        conf_err(errs, f->path, conf_section_get(f, "storage.replay")->line, "storage.replay", NULL,
                 "replay: this name is the replay's scratch database: rename the section");
    }
    rc = rc == AT_OK ? conf_add_section(f, "storage.replay") : rc;
    rc = rc == AT_OK ? conf_set(f, "storage.replay", AT_CFG_KEY_MODULE, "sqlite") : rc;
    rc = rc == AT_OK ? conf_set(f, "storage.replay", "path", db) : rc;
    rc = rc == AT_OK ? conf_set(f, "storage.replay", "synchronous", "normal") : rc;
    free(data);
    free(db);
    if (rc != AT_OK) {
        conf_err(errs, f->path, 0, NULL, NULL, "replay: cannot adapt the config: %s",
                 at_strerror(rc));
    }
    return errs->n > before ? AT_ECONFIG : AT_OK;
}

const char *replay_record_dir(const replay *r)
{
    return r->rec_dir;
}

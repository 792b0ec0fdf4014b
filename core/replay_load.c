/* Reading a session file and the database it started from. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"
#include "log.h"
#include "trading/session.h"
#include "util.h"

const char *rp_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

int64_t rp_int(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void say(char **slot, const char *fmt, va_list ap)
{
    if (*slot) {
        return;
    }
    if (vasprintf(slot, fmt, ap) < 0) {
        *slot = NULL;
    }
    if (!*slot) {
        *slot = at_strdup("(out of memory describing it)");
    }
}

void rp_diverged(replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&r->divergence, fmt, ap);
    va_end(ap);
}

void rp_missed(replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&r->ai_miss, fmt, ap);
    va_end(ap);
}

void rp_failed(replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&r->failure, fmt, ap);
    va_end(ap);
}

/* One line of the file, parsed: 0, or 2 with the reason printed. */
static int take(replay *r, const char *path, size_t lineno, const char *buf, size_t len,
                bool *ended)
{
    json_error_t je;
    json_t *o = json_loadb(buf, len, 0, &je);
    const char *k = json_string_value(json_object_get(o, "k"));
    if (!json_is_object(o) || !k || !json_is_integer(json_object_get(o, "t"))) {
        fprintf(stderr, "aitrader: %s:%zu: %s\n", path, lineno,
                !o ? je.text : "not a session line (an object with \"k\" and \"t\")");
        json_decref(o);
        return 2;
    }
    if (!r->header) {
        if (strcmp(k, "session") != 0 || !json_is_integer(json_object_get(o, "format"))) {
            fprintf(stderr,
                    "aitrader: %s:%zu: not a session file (its first line is not the "
                    "session header)\n",
                    path, lineno);
            json_decref(o);
            return 2;
        }
        if (rp_int(o, "format") != SESSION_FORMAT) {
            fprintf(stderr, "aitrader: %s:%zu: session format %" PRId64 ", this engine reads %d\n",
                    path, lineno, rp_int(o, "format"), SESSION_FORMAT);
            json_decref(o);
            return 2;
        }
        r->header = o;
        return 0;
    }
    int64_t t = rp_int(o, "t");
    if (strcmp(k, "end") == 0) { /* the engine began to stop: what follows is not compared */
        r->end_us = t;
        *ended = true;
        json_decref(o);
        return 0;
    }
    if (strcmp(k, "traders") == 0) {
        r->traders_us = t;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        json_t **nl = realloc(r->lines, cap * sizeof(*nl));
        if (!nl) {
            json_decref(o);
            fprintf(stderr, "aitrader: %s:%zu: out of memory\n", path, lineno);
            return 1;
        }
        r->lines = nl;
        r->cap = cap;
    }
    r->lines[r->n++] = o;
    r->end_us = t > r->end_us ? t : r->end_us;
    return 0;
}

int rp_load(replay *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "aitrader: --recording %s: %s\n", path, strerror(errno));
        return 2;
    }
    char *buf = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    bool ended = false;
    while (rc == 0 && !ended && (len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = '\0';
        }
        if (len > 0) {
            rc = take(r, path, lineno, buf, (size_t)len, &ended);
        }
    }
    free(buf);
    fclose(f);
    if (rc == 0 && !r->header) {
        fprintf(stderr, "aitrader: %s: empty: not a session file\n", path);
        rc = 2;
    }
    if (rc != 0) {
        return rc;
    }
    r->used = calloc(r->n ? r->n : 1, sizeof(*r->used));
    r->trig = calloc(r->n ? r->n : 1, sizeof(*r->trig));
    if (!r->used || !r->trig) {
        return 1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (rp_is_input(r->lines[i])) {
            r->trig[r->ntrig++] = i;
            r->ntriggers += strcmp(rp_str(r->lines[i], "k"), "trigger") == 0;
        }
    }
    int64_t start = rp_start_of(r);
    r->end_us = r->end_us > start ? r->end_us : start;
    return 0;
}

int64_t rp_start_of(const replay *r)
{
    int64_t s = rp_int(r->header, "engine_start");
    return s > 0 ? s : rp_int(r->header, "t");
}

int rp_start_db(const replay *r, const char *to)
{
    const json_t *snap = NULL;
    for (size_t i = 0; i < r->n && !snap; i++) {
        if (strcmp(rp_str(r->lines[i], "k"), "snapshot") == 0) {
            snap = r->lines[i];
        }
    }
    const char *db = snap ? json_string_value(json_object_get(snap, "db")) : NULL;
    if (!db) {
        log_msg("core", AT_LOG_WARN,
                "the recording has no copy of its database (%s): the replay starts from an empty "
                "one (the traders' past decisions and paper accounts as they were are missing)",
                snap ? rp_str(snap, "why") : "recorded by an older engine");
        return 0;
    }
    if (!db[0] || strchr(db, '/') || strcmp(db, "..") == 0) {
        fprintf(stderr,
                "aitrader: replay: the session's database copy '%s' is not a file name "
                "beside the session file\n",
                db);
        return 2;
    }
    const char *slash = strrchr(r->path, '/');
    char *from =
        slash ? at_asprintf("%.*s/%s", (int)(slash - r->path), r->path, db) : at_strdup(db);
    FILE *in = from ? fopen(from, "rb") : NULL;
    FILE *out = in ? fopen(to, "wbx") : NULL;
    int rc = in && out ? 0 : 2;
    int err = errno;
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
        rc = fwrite(buf, 1, n, out) == n ? 0 : 2;
        err = errno;
    }
    if (rc == 0 && ferror(in)) {
        rc = 2;
        err = EIO;
    }
    if (out && fclose(out) != 0 && rc == 0) {
        rc = 2;
        err = errno;
    }
    if (rc != 0) {
        fprintf(stderr, "aitrader: replay: the session's database copy %s: %s\n", from ? from : db,
                strerror(err));
    }
    if (in) {
        fclose(in);
    }
    free(from);
    return rc;
}

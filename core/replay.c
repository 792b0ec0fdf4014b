/* aitrader replay: see replay.h. */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "engine_internal.h"
#include "log.h"
#include "storage.h"
#include "trading/session.h"
#include "util.h"

/* An AI answer waiting for its recorded time. */
typedef struct rp_pending {
    int64_t at_us;
    at_ai_done_cb done;
    void *arg;
    char id[AT_ID_LEN];
    const json_t *reply; /* borrowed from the recording; NULL = a divergence's error */
} rp_pending;

struct replay {
    char *path;
    json_t *header;
    json_t **lines; /* after the header, in order */
    char **raw;     /* their text */
    size_t n;
    bool *used; /* ai lines answered */
    size_t *trig;
    size_t ntrig, next_trig;
    rp_pending *pend;
    size_t npend, cap;
    int64_t end_us;
    char *tmp;
    char *rec_dir;
    engine *e;
    char *divergence; /* the first, once found */
    char *ai_miss;    /* a prompt never recorded: stops the run; reported unless a line
                         before it differs already */
};

static const char *jget_s(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
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

static void diverged(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverged(replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&r->divergence, fmt, ap);
    va_end(ap);
}

static void missed(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void missed(replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(&r->ai_miss, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ recording */

static int load(replay *r, const char *path)
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
    while ((len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = '\0';
        }
        if (len == 0) {
            continue;
        }
        json_error_t je;
        json_t *o = json_loadb(buf, (size_t)len, 0, &je);
        const char *k = json_string_value(json_object_get(o, "k"));
        json_t *t = json_object_get(o, "t");
        if (!o || !json_is_object(o) || !k || !json_is_integer(t)) {
            fprintf(stderr, "aitrader: %s:%zu: %s\n", path, lineno,
                    !o ? je.text : "not a session line (an object with \"k\" and \"t\")");
            json_decref(o);
            rc = 2;
            break;
        }
        if (!r->header) {
            json_t *fmt = json_object_get(o, "format");
            if (strcmp(k, "session") != 0 || !json_is_integer(fmt)) {
                fprintf(stderr, "aitrader: %s:%zu: not a session file (its first line is %s)\n",
                        path, lineno, "not the session header");
                json_decref(o);
                rc = 2;
                break;
            }
            if (json_integer_value(fmt) != SESSION_FORMAT) {
                fprintf(stderr,
                        "aitrader: %s:%zu: session format %" JSON_INTEGER_FORMAT
                        ", this engine reads %d\n",
                        path, lineno, json_integer_value(fmt), SESSION_FORMAT);
                json_decref(o);
                rc = 2;
                break;
            }
            r->header = o;
            continue;
        }
        json_t **nl = realloc(r->lines, (r->n + 1) * sizeof(*nl));
        char **nr = realloc(r->raw, (r->n + 1) * sizeof(*nr));
        if (nl) {
            r->lines = nl;
        }
        if (nr) {
            r->raw = nr;
        }
        if (!nl || !nr || !(r->raw[r->n] = at_strdup(buf))) {
            json_decref(o);
            rc = 1;
            break;
        }
        r->lines[r->n++] = o;
        int64_t ts = json_integer_value(t);
        r->end_us = ts > r->end_us ? ts : r->end_us;
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
        if (strcmp(jget_s(r->lines[i], "k"), "trigger") == 0) {
            r->trig[r->ntrig++] = i;
        }
    }
    int64_t start = json_integer_value(json_object_get(r->header, "t"));
    r->end_us = r->end_us > start ? r->end_us : start;
    return 0;
}

/* ------------------------------------------------------------ the config */

static const char *module_of(const conf_section *s)
{
    const conf_entry *m = conf_entry_get(s, AT_CFG_KEY_MODULE);
    return m ? m->value : s->instance;
}

static bool enabled(const conf_section *s)
{
    const conf_entry *en = conf_entry_get(s, AT_CFG_KEY_ENABLED);
    bool on = true;
    return !en || conf_parse_bool(en->value, &on) != AT_OK || on;
}

int replay_edit_conf(replay *r, conf_file *f, conf_errors *errs)
{
    size_t before = errs->n;
    const json_t *frames = json_object_get(r->header, "frames");
    char *data = at_asprintf("%s/data", r->tmp);
    char *db = at_asprintf("%s/data/replay.db", r->tmp);
    bool sqlite = false;
    int rc = data && db ? conf_add_section(f, "core") : AT_ENOMEM;
    rc = rc == AT_OK ? conf_set(f, "core", "data_dir", data) : rc;
    rc = rc == AT_OK ? conf_set(f, "core", "record", r->rec_dir) : rc;
    for (size_t i = 0; rc == AT_OK && i < f->n; i++) {
        const conf_section *s = &f->secs[i];
        if (!enabled(s) || strcmp(s->name, "core") == 0) {
            continue;
        }
        const char *kind = s->kind, *mod = module_of(s);
        const char *fr = json_string_value(json_object_get(frames, s->name));
        if (strcmp(kind, "ai") == 0 || strcmp(kind, "ui") == 0 || strcmp(kind, "source") == 0) {
            rc =
                conf_set(f, s->name, AT_CFG_KEY_ENABLED, "false"); /* answered, watched: not here */
        } else if (strcmp(kind, "storage") == 0) {
            bool mine = strcmp(mod, "sqlite") == 0 && !sqlite;
            sqlite |= mine;
            rc = mine ? conf_set(f, s->name, "path", db)
                      : conf_set(f, s->name, AT_CFG_KEY_ENABLED, "false");
        } else if (strcmp(kind, "exchange") == 0 && fr) {
            static const char *const drop[] = {"record",     "api_key",  "secret_key",
                                               "passphrase", "backfill", NULL};
            for (size_t k = 0; drop[k]; k++) {
                conf_unset(f, s->name, drop[k]);
            }
            rc = conf_set(f, s->name, "replay", fr);
            rc = rc == AT_OK ? conf_set(f, s->name, "replay_at", "recorded") : rc;
            rc = rc == AT_OK ? conf_set(f, s->name, "replay_speed", "1") : rc;
        } else if (strcmp(kind, "exchange") == 0 && strcmp(mod, "paper") == 0) {
            /* Its instruments come from its market's recording (no network). */
            const conf_entry *m = conf_entry_get(s, "market");
            const char *mfr = m ? json_string_value(json_object_get(frames, m->value)) : NULL;
            if (mfr && !conf_entry_get(s, "instruments_file")) {
                rc = conf_set(f, s->name, "instruments_file", mfr);
            }
        } else if (strcmp(kind, "exchange") == 0) {
            bool keys = conf_entry_get(s, "api_key") != NULL;
            conf_err(errs, f->path, s->line, s->name, NULL,
                     keys ? "replay: this instance trades an exchange account whose private "
                            "frames (orders, fills, balances) are not recorded; replay sessions "
                            "that trade paper venues, or set enabled = false here"
                          : "replay: its market frames are not in the recording (record them "
                            "with `record = FILE` in this section), or set enabled = false here");
        }
    }
    if (rc == AT_OK && !sqlite) {
        rc = conf_add_section(f, "storage.sqlite");
        rc = rc == AT_OK ? conf_set(f, "storage.sqlite", "path", db) : rc;
    }
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

/* ------------------------------------------------------------ the AI */

static void push(replay *r, const rp_pending *p)
{
    if (r->npend == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        rp_pending *np = realloc(r->pend, cap * sizeof(*np));
        if (!np) {
            diverged(r, "out of memory holding an AI answer");
            return;
        }
        r->pend = np;
        r->cap = cap;
    }
    r->pend[r->npend++] = *p;
}

/* Where two texts part: line number and both lines (cut to 160). */
static void first_diff(const char *a, const char *b, char *out, size_t len)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    snprintf(out, len, "line %zu:\n  recorded: %.*s\n  replay:   %.*s", line, na > 160 ? 160 : na,
             la, nb > 160 ? 160 : nb, lb);
}

static void explain_miss(replay *r, const at_ai_request *req)
{
    const char *id = req->request_id ? req->request_id : "";
    for (size_t i = 0; i < r->n; i++) {
        const json_t *l = r->lines[i];
        if (strcmp(jget_s(l, "k"), "ai") != 0 || strcmp(jget_s(l, "id"), id) != 0 ||
            json_integer_value(json_object_get(l, "retry")) != req->retry) {
            continue;
        }
        static const char *const parts[3] = {"system", "user", "schema"};
        const char *now[3] = {req->system ? req->system : "", req->user ? req->user : "",
                              req->json_schema ? req->json_schema : ""};
        for (int k = 0; k < 3; k++) {
            const char *was = jget_s(l, parts[k]);
            if (strcmp(was, now[k]) != 0) {
                char where[512];
                first_diff(was, now[k], where, sizeof(where));
                missed(r, "trigger %s (attempt %d): the %s prompt differs at %s", id,
                       req->retry + 1, parts[k], where);
                return;
            }
        }
        missed(r,
               "trigger %s (attempt %d): the prompt is the recorded one but its answer was "
               "used already",
               id, req->retry + 1);
        return;
    }
    missed(r, "trigger %s (attempt %d): no AI call was recorded for it", id, req->retry + 1);
}

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    replay *r = ctx;
    char hash[65];
    session_prompt_hash(req, hash);
    rp_pending p = {.at_us = clock_now_us(), .done = done, .arg = arg};
    snprintf(p.id, sizeof(p.id), "%s", req->request_id ? req->request_id : "");
    for (size_t i = 0; i < r->n; i++) {
        const json_t *l = r->lines[i];
        if (!r->used[i] && strcmp(jget_s(l, "k"), "ai") == 0 &&
            strcmp(jget_s(l, "hash"), hash) == 0 && strcmp(jget_s(l, "id"), p.id) == 0) {
            r->used[i] = true;
            int64_t t = json_integer_value(json_object_get(l, "t"));
            p.at_us = t > p.at_us ? t : p.at_us;
            p.reply = json_object_get(l, "reply");
            push(r, &p);
            return AT_OK;
        }
    }
    explain_miss(r, req);
    push(r, &p); /* answered now with an error: the call ends, the replay stops */
    return AT_OK;
}

static void deliver(const rp_pending *p)
{
    const json_t *j = p->reply;
    at_ai_reply rep = {.err = AT_EIO, .error = "replay: no recorded answer for this prompt"};
    if (j) {
        rep = (at_ai_reply){
            .err = (int)json_integer_value(json_object_get(j, "err")),
            .error = json_string_value(json_object_get(j, "error")),
            .content = json_string_value(json_object_get(j, "content")),
            .reasoning = json_string_value(json_object_get(j, "reasoning")),
            .refusal = json_string_value(json_object_get(j, "refusal")),
            .model = json_string_value(json_object_get(j, "model")),
            .finish_reason = json_string_value(json_object_get(j, "finish_reason")),
            .tokens_in = json_integer_value(json_object_get(j, "tokens_in")),
            .tokens_out = json_integer_value(json_object_get(j, "tokens_out")),
            .cost_usd = json_number_value(json_object_get(j, "cost_usd")),
            .latency_ms = json_integer_value(json_object_get(j, "latency_ms")),
            .attempts = (int)json_integer_value(json_object_get(j, "attempts")),
        };
    }
    p->done(p->arg, &rep);
}

static void ai_cancel(void *ctx, const char *request_id)
{
    replay *r = ctx;
    for (size_t i = 0; i < r->npend; i++) {
        if (strcmp(r->pend[i].id, request_id) == 0) {
            rp_pending p = r->pend[i];
            memmove(&r->pend[i], &r->pend[i + 1], (r->npend - i - 1) * sizeof(p));
            r->npend--;
            at_ai_reply rep = {.err = AT_ESTATE, .error = "cancelled"};
            p.done(p.arg, &rep);
            return;
        }
    }
}

static const at_ai_ops AI_OPS = {
    .struct_size = sizeof(at_ai_ops), .request = ai_request, .cancel = ai_cancel};

const at_ai_ops *replay_ai_ops(void)
{
    return &AI_OPS;
}

void *replay_ai_ctx(replay *r)
{
    return r;
}

/* ------------------------------------------------------------ the run */

typedef struct barrier {
    bool done;
} barrier;

static void on_barrier(void *arg, int err, const char *error)
{
    (void)err;
    (void)error;
    ((barrier *)arg)->done = true;
}

static bool barrier_done(void *arg)
{
    return ((barrier *)arg)->done;
}

static bool quiet(void *arg)
{
    return barrier_done(arg) && storage_pending() == 0;
}

/* Let storage answer everything asked, and what the answers ask in turn,
 * before the clock moves: live, those answers come within a millisecond;
 * on the simulated clock, at the same instant. The barrier query also waits
 * for the writes queued without a callback. */
static void settle(replay *r, at_instance *self)
{
    for (int round = 0; round < 1000; round++) {
        engine_pump(r->e);
        barrier b = {0};
        if (storage_query(self, "SELECT 1", NULL, 0, NULL, on_barrier, &b) != AT_OK ||
            !engine_wait(r->e, quiet, &b, 30 * 1000000LL)) {
            diverged(r, "storage did not answer within 30 s");
            return;
        }
        engine_pump(r->e);
        if (storage_pending() == 0) {
            return;
        }
    }
}

static int64_t next_injection(const replay *r)
{
    int64_t t = INT64_MAX;
    if (r->next_trig < r->ntrig) {
        t = json_integer_value(json_object_get(r->lines[r->trig[r->next_trig]], "t"));
    }
    for (size_t i = 0; i < r->npend; i++) {
        t = r->pend[i].at_us < t ? r->pend[i].at_us : t;
    }
    return t;
}

static sched *sched_of(engine *e, const char *name)
{
    for (size_t i = 0; e->scheds && i < e->ntraders; i++) {
        const char *dot = strchr(e->trader_names[i], '.');
        if (strcmp(dot ? dot + 1 : e->trader_names[i], name) == 0) {
            return e->scheds[i];
        }
    }
    return NULL;
}

static void inject(replay *r, int64_t now)
{
    /* AI answers first: a trigger at the same microsecond came after them
     * live only if it was recorded later, and it waits for its DECISION. */
    for (size_t i = 0; i < r->npend;) {
        if (r->pend[i].at_us <= now) {
            rp_pending p = r->pend[i];
            memmove(&r->pend[i], &r->pend[i + 1], (r->npend - i - 1) * sizeof(p));
            r->npend--;
            deliver(&p);
            engine_pump(r->e);
            i = 0;
        } else {
            i++;
        }
    }
    while (r->next_trig < r->ntrig) {
        const json_t *l = r->lines[r->trig[r->next_trig]];
        if (json_integer_value(json_object_get(l, "t")) > now) {
            break;
        }
        r->next_trig++;
        const char *who = jget_s(l, "trader"), *key = jget_s(l, "key");
        sched *s = sched_of(r->e, who);
        int rc = s ? sched_replay_fire(s, key, jget_s(l, "reason"),
                                       json_number_value(json_object_get(l, "salience")),
                                       json_is_true(json_object_get(l, "short_mode")))
                   : AT_ENOENT;
        if (rc != AT_OK) {
            diverged(r, "trigger %s: %s", key,
                     s ? "its trader was not ready for it (the stored history not read yet)"
                       : "no trader of that name in this config");
        }
        engine_pump(r->e);
    }
}

static int run(replay *r)
{
    at_instance *self = engine_virtual_instance(r->e, "core.replay");
    if (!self) {
        return AT_ENOMEM;
    }
    int64_t last = INT64_MIN;
    unsigned still = 0;
    for (;;) {
        settle(r, self);
        if (r->divergence || r->ai_miss || r->e->exit_code != INT_MIN) {
            break; /* diverged, or a signal / a plugin asked the engine to stop */
        }
        int64_t now = clock_now_us();
        /* Timers due now that keep arming timers due now would hold the
         * clock forever: say where instead of spinning. */
        still = now == last ? still + 1 : 0;
        last = now;
        if (still > 100000) {
            diverged(r,
                     "the replay is stuck at %" PRId64 " µs: timers due now keep arming "
                     "timers due now",
                     now);
            break;
        }
        inject(r, now);
        settle(r, self);
        if (r->divergence || r->ai_miss) {
            break;
        }
        int64_t nt = clock_next_deadline(), ni = next_injection(r);
        int64_t next = nt < ni ? nt : ni;
        if (next > r->end_us) {
            break;
        }
        if (clock_advance(next > now ? next : now) != AT_OK) { /* due now: fire them */
            return AT_ESTATE;
        }
    }
    return AT_OK;
}

/* ------------------------------------------------------------ compare */

/* The kinds compared, in the order the summary counts them. */
static const char *const KINDS[] = {"trigger", "decision", "intent", "verdict", "feedback", "ai"};
#define NKINDS (sizeof(KINDS) / sizeof(KINDS[0]))

static size_t kind_index(const char *k)
{
    size_t i = 0;
    while (i < NKINDS && strcmp(k, KINDS[i]) != 0) {
        i++;
    }
    return i;
}

static bool compared(const char *k)
{
    return kind_index(k) < NKINDS;
}

/* A line as compared: its time aside (and the AI call's send time). */
static json_t *content(const json_t *l)
{
    json_t *c = json_deep_copy(l);
    json_object_del(c, "t");
    json_object_del(c, "asked");
    return c;
}

/* The path of the first field where a and b differ, into out. */
static void field_diff(const json_t *a, const json_t *b, char *out, size_t len, size_t at)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            const json_t *w = json_object_get(b, k);
            if (!w || !json_equal(v, w)) {
                int n = snprintf(out + at, len - at, "%s%s", at ? "." : "", k);
                if (w && n > 0 && at + (size_t)n < len) {
                    field_diff(v, w, out, len, at + (size_t)n);
                }
                return;
            }
        }
        json_object_foreach((json_t *)b, k, v)
        {
            if (!json_object_get(a, k)) {
                snprintf(out + at, len - at, "%s%s", at ? "." : "", k);
                return;
            }
        }
    } else if (json_is_array(a) && json_is_array(b)) {
        size_t na = json_array_size(a), nb = json_array_size(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            if (!json_equal(json_array_get(a, i), json_array_get(b, i))) {
                int n = snprintf(out + at, len - at, "[%zu]", i);
                if (n > 0 && at + (size_t)n < len) {
                    field_diff(json_array_get(a, i), json_array_get(b, i), out, len,
                               at + (size_t)n);
                }
                return;
            }
        }
        snprintf(out + at, len - at, " (%zu items recorded, %zu now)", na, nb);
    }
}

static char *show(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))
             : at_strdup("(absent)");
}

static const json_t *at_path(const json_t *o, const char *path)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    const json_t *v = o;
    for (char *p = buf; v && *p;) {
        if (*p == '[') {
            v = json_array_get(v, strtoul(p + 1, &p, 10));
            p += *p == ']';
        } else {
            size_t n = strcspn(p, ".[ ");
            char c = p[n];
            p[n] = '\0';
            v = json_object_get(v, p);
            p += n + (c == '.');
            if (c == ' ') {
                break;
            }
        }
        if (*p == '.') {
            p++;
        }
    }
    return v;
}

/* What a line is about, for the report. */
static void about(const json_t *l, char *out, size_t len)
{
    const char *k = jget_s(l, "k");
    const char *id = strcmp(k, "trigger") == 0    ? jget_s(l, "key")
                     : strcmp(k, "verdict") == 0  ? jget_s(l, "intent")
                     : strcmp(k, "feedback") == 0 ? jget_s(l, "decision")
                                                  : jget_s(l, "id");
    snprintf(out, len, "%s %s", k, id);
}

static void compare(replay *r, const char *mine, size_t *counts)
{
    FILE *f = fopen(mine, "r");
    if (!f) {
        diverged(r, "the replay's own session file %s cannot be read: %s", mine, strerror(errno));
        return;
    }
    char *buf = NULL;
    size_t cap = 0, i = 0;
    ssize_t len;
    bool header = true;
    while ((len = getline(&buf, &cap, f)) >= 0 && !r->divergence) {
        if (header) {
            header = false;
            continue;
        }
        json_t *now = json_loads(buf, 0, NULL);
        if (!now || !compared(jget_s(now, "k"))) {
            json_decref(now);
            continue;
        }
        while (i < r->n && !compared(jget_s(r->lines[i], "k"))) {
            i++;
        }
        char what[160];
        about(now, what, sizeof(what));
        if (i == r->n) {
            diverged(r, "the replay made a %s the recording does not have", what);
        } else {
            json_t *a = content(r->lines[i]), *b = content(now);
            if (!json_equal(a, b) && r->ai_miss && strcmp(jget_s(now, "k"), "ai") == 0) {
                json_decref(a); /* the call it could not answer: ai_miss says how */
                json_decref(b);
                json_decref(now);
                break;
            }
            if (!json_equal(a, b)) {
                char path[512] = "", was[160];
                about(r->lines[i], was, sizeof(was));
                field_diff(a, b, path, sizeof(path), 0);
                char *sa = show(at_path(a, path)), *sb = show(at_path(b, path));
                diverged(r, "line %zu of the recording (%s): %s: recorded %.300s, replay %.300s",
                         i + 2, was, path[0] ? path : "(the line)", sa ? sa : "?", sb ? sb : "?");
                free(sa);
                free(sb);
            }
            json_decref(a);
            json_decref(b);
            counts[kind_index(jget_s(now, "k"))]++;
            i++;
        }
        json_decref(now);
    }
    free(buf);
    fclose(f);
    /* The replay stopped at an AI call it could not answer: what the
     * recording has after it was never going to be made. */
    while (!r->divergence && !r->ai_miss && i < r->n) {
        if (compared(jget_s(r->lines[i], "k"))) {
            char was[160];
            about(r->lines[i], was, sizeof(was));
            diverged(r, "line %zu of the recording (%s) was not made by the replay", i + 2, was);
        }
        i++;
    }
}

/* ------------------------------------------------------------ the command */

static void replay_free(replay *r)
{
    for (size_t i = 0; i < r->n; i++) {
        json_decref(r->lines[i]);
        free(r->raw[i]);
    }
    free(r->lines);
    free(r->raw);
    free(r->used);
    free(r->trig);
    free(r->pend);
    json_decref(r->header);
    if (r->tmp && getenv("AITRADER_REPLAY_KEEP")) {
        fprintf(stderr, "aitrader: replay: the scratch directory %s is kept\n", r->tmp);
    } else if (r->tmp) {
        char *cmd = at_asprintf("rm -rf '%s'", r->tmp);
        if (cmd && system(cmd) != 0) {
            fprintf(stderr, "aitrader: cannot remove %s\n", r->tmp);
        }
        free(cmd);
    }
    free(r->tmp);
    free(r->rec_dir);
    free(r->divergence);
    free(r->ai_miss);
    free(r->path);
}

static char *own_session(const replay *r)
{
    char *cmd = at_asprintf("ls '%s'/session-*.jsonl 2>/dev/null", r->rec_dir);
    FILE *p = cmd ? popen(cmd, "r") : NULL;
    free(cmd);
    char line[4096] = "";
    if (p) {
        if (!fgets(line, sizeof(line), p)) {
            line[0] = '\0';
        }
        pclose(p);
    }
    line[strcspn(line, "\n")] = '\0';
    return line[0] ? at_strdup(line) : NULL;
}

int replay_main(engine_opts *o, const char *recording)
{
    if (!recording) {
        fprintf(stderr, "aitrader: replay needs --recording FILE (a session file of "
                        "[core] record)\n");
        return 2;
    }
    replay r = {.path = at_strdup(recording)};
    int code = load(&r, recording);
    char tmpl[] = "/tmp/aitrader-replay-XXXXXX";
    if (code == 0 && !mkdtemp(tmpl)) {
        fprintf(stderr, "aitrader: replay: cannot make a scratch directory: %s\n", strerror(errno));
        code = 1;
    }
    if (code != 0) {
        replay_free(&r);
        return code;
    }
    r.tmp = at_strdup(tmpl);
    r.rec_dir = at_asprintf("%s/sessions", tmpl);
    o->sim_clock = true;
    o->sim_start_us = json_integer_value(json_object_get(r.header, "t"));
    o->replay = &r;
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
            recording, r.n, r.ntrig, (double)(r.end_us - o->sim_start_us) / 1e6);
    int rc = engine_start(e);
    if (rc == AT_OK) {
        rc = run(&r);
    }
    engine_shutdown(e);
    engine_free(e);
    size_t counts[NKINDS + 1] = {0};
    char *mine = rc == AT_OK ? own_session(&r) : NULL;
    if (rc != AT_OK) {
        fprintf(stderr, "aitrader: replay: the engine failed: %s\n", at_strerror(rc));
        code = 1;
    } else if (!mine) {
        fprintf(stderr, "aitrader: replay: the replay wrote no session file\n");
        code = 1;
    } else {
        if (!r.divergence) {
            compare(&r, mine, counts); /* a line before an AI miss that differs comes first */
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
    log_shutdown();
    return code;
}

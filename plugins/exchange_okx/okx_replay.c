/* Recording received public/business frames (and the instrument list) and
 * playing recordings back (format in okx_replay.h). Playback reads the file
 * a line at a time on the main loop, paced by one one-shot timer armed for
 * the next frame's due time on the core clock, so a simulated clock plays
 * it exactly too. */
#include "okx_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One frame a loop turn: the bus delivers its events before the next frame
 * comes, so coalescable events (tickers, books, marks) reach every
 * subscriber as they did live instead of being folded by a fast replay. */
#define BATCH 1

/* "<digits>[.<digits>]: <frame>" or "{…}": the kind, the frame, and the
 * time as seconds (ts) and as exact microseconds (us). */
static okx_rec_kind scan(const char *line, size_t len, double *ts, int64_t *us, const char **frame,
                         size_t *flen)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) {
        len--;
    }
    if (len == 0) {
        return OKX_REC_SKIP;
    }
    if (line[0] == '{') {
        *frame = line;
        *flen = len;
        return OKX_REC_UNTIMED;
    }
    static const char priv[] = "private ";
    bool is_priv = len > sizeof(priv) - 1 && memcmp(line, priv, sizeof(priv) - 1) == 0;
    if (is_priv) {
        line += sizeof(priv) - 1;
        len -= sizeof(priv) - 1;
    }
    if (line[0] < '0' || line[0] > '9') {
        return OKX_REC_SKIP;
    }
    size_t i = 0;
    double t = 0;
    int64_t sec = 0, micro = 0; /* at most 12 digits of seconds: no overflow */
    while (i < len && line[i] >= '0' && line[i] <= '9' && i < 12) {
        t = t * 10 + (line[i] - '0');
        sec = sec * 10 + (line[i++] - '0');
    }
    int digits = 0;
    bool up = false;
    if (i < len && line[i] == '.') {
        double scale = 0.1;
        for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++, scale /= 10) {
            t += (line[i] - '0') * scale;
            if (digits < 6) {
                micro = micro * 10 + (line[i] - '0');
            } else if (digits == 6) {
                up = line[i] >= '5';
            }
            digits++;
        }
    }
    if (i + 1 >= len || line[i] != ':' || line[i + 1] != ' ') {
        return OKX_REC_SKIP;
    }
    i += 2;
    while (i < len && line[i] == ' ') {
        i++;
    }
    if (i == len) {
        return OKX_REC_SKIP;
    }
    for (; digits < 6; digits++) {
        micro *= 10;
    }
    *ts = t;
    *us = sec * 1000000 + micro + up;
    *frame = line + i;
    *flen = len - i;
    return is_priv ? OKX_REC_PRIVATE : OKX_REC_TIMED;
}

okx_rec_kind okx_rec_line(const char *line, size_t len, double *ts, const char **frame,
                          size_t *flen)
{
    int64_t us;
    return scan(line, len, ts, &us, frame, flen);
}

okx_rec_kind okx_rec_line_us(const char *line, size_t len, int64_t *ts_us, const char **frame,
                             size_t *flen)
{
    double ts;
    return scan(line, len, &ts, ts_us, frame, flen);
}

/* ------------------------------------------------------------- instruments */

int okx_rec_instruments(const char *path, int64_t from_us, json_t **doc, uint64_t *line,
                        okx_rec_kind *first, char *err, size_t errlen)
{
    *doc = NULL;
    *line = 0;
    *first = OKX_REC_SKIP;
    err[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return AT_EIO;
    }
    const size_t np = strlen(OKX_REC_INSTRUMENTS);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int rc = AT_ENOENT;
    /* Only up to the first frame: a recording's header, whatever its size. */
    while ((len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
            n--;
        }
        if (n >= np && memcmp(buf, OKX_REC_INSTRUMENTS, np) == 0) {
            json_error_t je;
            json_t *root = json_loadb(buf + np, n - np, 0, &je);
            const char *code = json_string_value(json_object_get(root, "code"));
            if (!root) {
                snprintf(err, errlen, "%s:%" PRIu64 ": instruments: %s (column %d)", path, lineno,
                         je.text, je.column + (int)np);
            } else if (!code || strcmp(code, "0") != 0 ||
                       !json_is_array(json_object_get(root, "data"))) {
                snprintf(err, errlen,
                         "%s:%" PRIu64 ": instruments: not an OKX /public/instruments answer "
                         "({\"code\":\"0\",\"data\":[…]})",
                         path, lineno);
            } else {
                json_decref(*doc); /* the last one counts */
                *doc = root;
                *line = lineno;
                rc = AT_OK;
                continue;
            }
            json_decref(root);
            rc = AT_EINVAL;
            break;
        }
        int64_t ts = 0;
        const char *fr;
        size_t fl;
        okx_rec_kind k = okx_rec_line_us(buf, n, &ts, &fr, &fl);
        if (k != OKX_REC_SKIP && !(from_us > 0 && ts < from_us)) {
            *first = k;
            break;
        }
    }
    if (rc != AT_EINVAL && len < 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error after line %" PRIu64 ": %s", path, lineno,
                 strerror(errno));
        rc = AT_EIO;
    }
    if (rc != AT_OK) {
        json_decref(*doc);
        *doc = NULL;
        *line = 0;
    }
    free(buf);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------- playback */

struct okx_player {
    FILE *f;
    char *line;
    size_t cap;
    ssize_t len;
    const char *frame; /* the next frame (into line) */
    size_t flen;
    bool priv;             /* it is a private push (a replayed account's) */
    int64_t ts_us, ts0_us; /* its receive time; the first frame's */
    bool have, timed0;
    int64_t start_us; /* core time the replay started */
    uint64_t lineno, frames, skipped;
    at_timer *timer;
};

/* Read ahead to the next frame; false at the end of the file. */
static bool next_frame(okx_ctx *c, okx_player *p)
{
    while ((p->len = getline(&p->line, &p->cap, p->f)) >= 0) {
        p->lineno++;
        size_t n = (size_t)p->len;
        if (n > 0 && p->line[n - 1] == '\n') {
            n--;
        }
        int64_t ts = p->ts_us;
        okx_rec_kind k = okx_rec_line_us(p->line, n, &ts, &p->frame, &p->flen);
        if (k == OKX_REC_SKIP || (c->replay_from > 0 && ts < c->replay_from) ||
            (k == OKX_REC_PRIVATE && !c->replay_account)) {
            p->skipped++; /* instruments: and rest lines too, and frames of earlier runs */
            continue;
        }
        p->priv = k == OKX_REC_PRIVATE;
        if (k != OKX_REC_UNTIMED) {
            if (!p->timed0) {
                p->timed0 = true;
                p->ts0_us = ts;
            }
            if (ts >= p->ts_us) {
                p->ts_us = ts; /* a time going back plays at once, in file order */
            }
        }
        return p->have = true;
    }
    if (ferror(p->f)) {
        c->h->log(c->inst, AT_LOG_ERROR, "replay %s: read error after line %" PRIu64 ": %s",
                  c->replay, p->lineno, strerror(errno));
    }
    return p->have = false;
}

static int64_t due_us(const okx_ctx *c, const okx_player *p)
{
    if (!p->timed0) {
        return p->start_us; /* frames without a time before the first timed one */
    }
    if (c->replay_at == OKX_REPLAY_AT_RECORDED) {
        return p->ts_us;
    }
    if (!(c->replay_speed > 0)) {
        return p->start_us;
    }
    int64_t d = p->ts_us - p->ts0_us;
    return p->start_us + (c->replay_speed == 1 ? d : (int64_t)((double)d / c->replay_speed + 0.5));
}

static void on_play(void *arg);

/* on_play at `due`: to the microsecond with the host's timer_at (a test's
 * mock host may not fill it), else the next millisecond at or after it. */
static at_timer *play_at(okx_ctx *c, int64_t due)
{
    const at_host *h = c->h;
    if (AT_STRUCT_HAS(h->struct_size, at_host, timer_at) && h->timer_at) {
        return h->timer_at(c->inst, due, on_play, c);
    }
    int64_t now = h->now_us();
    return h->timer_add(c->inst, due > now ? (due - now + 999) / 1000 : 0, 0, on_play, c);
}

static void on_play(void *arg)
{
    okx_ctx *c = arg;
    okx_player *p = c->player;
    p->timer = NULL; /* one-shot: freed by the host */
    int64_t now = c->h->now_us();
    int64_t due = now;
    for (int n = 0; p->have && n < BATCH && (due = due_us(c, p)) <= now; n++) {
        if (p->priv) {
            okx_account_on_private(c, p->frame, p->flen);
        } else {
            okx_feed_frame(c, p->frame, p->flen);
        }
        p->frames++;
        next_frame(c, p);
    }
    if (p->have) {
        /* the next frame at its time, or in the next loop turn (BATCH) */
        p->timer = due > now ? play_at(c, due) : c->h->timer_add(c->inst, 0, 0, on_play, c);
        if (p->timer) {
            return;
        }
        c->h->log(c->inst, AT_LOG_ERROR,
                  "replay of %s stopped at line %" PRIu64 ": no timer (out of memory)", c->replay,
                  p->lineno);
    }
    c->replay_done = true;
    c->h->log(c->inst, AT_LOG_INFO,
              "replay of %s finished: %" PRIu64 " frames played over %.1f s of recording, %" PRIu64
              " other lines skipped",
              c->replay, p->frames, p->timed0 ? (double)(p->ts_us - p->ts0_us) / 1e6 : 0.0,
              p->skipped);
    okx_refresh_state(c);
}

int okx_replay_start(okx_ctx *c)
{
    okx_player *p = calloc(1, sizeof(*p));
    if (!p) {
        return AT_ENOMEM;
    }
    p->f = fopen(c->replay, "r");
    if (!p->f) {
        c->h->log(c->inst, AT_LOG_ERROR, "replay: cannot open %s: %s", c->replay, strerror(errno));
        free(p);
        return AT_EIO;
    }
    c->player = p;
    c->replay_done = false;
    p->start_us = c->h->now_us();
    c->h->log(c->inst, AT_LOG_INFO, "replaying %s at %s", c->replay,
              c->replay_at == OKX_REPLAY_AT_RECORDED ? "the recorded times"
              : c->replay_speed > 0                  ? "the recorded pace"
                                                     : "full speed");
    if (c->replay_at != OKX_REPLAY_AT_RECORDED && c->replay_speed > 0 && c->replay_speed != 1) {
        c->h->log(c->inst, AT_LOG_INFO, "replay speed x%g", c->replay_speed);
    }
    next_frame(c, p);
    if (c->replay_at == OKX_REPLAY_AT_RECORDED && p->have && p->timed0 &&
        p->ts_us < p->start_us - 1000000) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "replay_at = recorded: the recording's first frame is %.1f s before this "
                  "clock's now, so what is past plays at once (aitrader replay runs a clock "
                  "from the recorded start)",
                  (double)(p->start_us - p->ts_us) / 1e6);
    }
    p->timer = c->h->timer_add(c->inst, 0, 0, on_play, c);
    return p->timer ? AT_OK : AT_ENOMEM;
}

void okx_replay_stop(okx_ctx *c)
{
    okx_player *p = c->player;
    if (!p) {
        return;
    }
    if (p->timer) {
        c->h->timer_cancel(p->timer);
    }
    fclose(p->f);
    free(p->line);
    free(p);
    c->player = NULL;
}

/* ------------------------------------------------------------ recording */

static void on_flush(void *arg)
{
    okx_ctx *c = arg;
    if (c->rec && fflush(c->rec) != 0 && !c->rec_failed) {
        c->rec_failed = true;
        okx_alert(c, AT_LOG_ERROR, "recording: write failed; frames are being lost");
    }
}

/* The pending instruments: line into the open recording. */
static void write_instruments(okx_ctx *c)
{
    fprintf(c->rec, OKX_REC_INSTRUMENTS "%s\n", c->rec_insts);
    free(c->rec_insts);
    c->rec_insts = NULL;
    on_flush(c); /* a replay reads it before any frame: never lost in a buffer */
}

void okx_record_instruments(okx_ctx *c, const okx_reply *r)
{
    if (!c->record || !r->data) {
        return;
    }
    /* The rows of the instruments followed, as received: the document
     * instruments_file takes, so a replay needs no network. */
    json_t *doc = json_object();
    json_t *rows = json_array();
    bool ok = doc && rows && json_object_set_new(doc, "code", json_string("0")) == 0 &&
              json_object_set_new(doc, "msg", json_string("")) == 0 &&
              json_object_set(doc, "data", rows) == 0;
    size_t i;
    json_t *row;
    json_array_foreach(r->data, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "instId"));
        if (ok && id && okx_watch_find(c, id, strlen(id))) {
            ok = json_array_append(rows, row) == 0;
        }
    }
    char *text = ok ? okx_json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(rows);
    json_decref(doc);
    if (!text) {
        okx_alert(c, AT_LOG_ERROR,
                  "recording: the instrument list could not be written (out of memory): a "
                  "replay of it will need instruments_file");
        return;
    }
    free(c->rec_insts);
    c->rec_insts = text;
    if (c->rec) {
        write_instruments(c); /* a reload while recording */
    }
}

int okx_record_open(okx_ctx *c)
{
    /* private from its creation: an account's recording holds its orders */
    int fd = open(c->record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd >= 0 && okx_private(c) && fstat(fd, &st) == 0 && (st.st_mode & 077) &&
        fchmod(fd, 0600) == 0) {
        c->h->log(c->inst, AT_LOG_INFO,
                  "record: %s made private (mode 0600): it holds this account's orders", c->record);
    }
    c->rec = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!c->rec && fd >= 0) {
        close(fd);
    }
    if (!c->rec) {
        c->h->log(c->inst, AT_LOG_ERROR, "record: cannot open %s: %s", c->record, strerror(errno));
        return AT_EIO;
    }
    if (c->rec_insts) {
        write_instruments(c);
    }
    c->rec_flush = c->h->timer_add(c->inst, 1000, 1000, on_flush, c);
    c->h->log(c->inst, AT_LOG_INFO, "recording the market frames to %s", c->record);
    return c->rec_flush ? AT_OK : AT_ENOMEM;
}

static void record_line(okx_ctx *c, const char *kind, const char *data, size_t len)
{
    int64_t t = c->h->now_us();
    fprintf(c->rec, "%s%" PRId64 ".%06" PRId64 ": ", kind, t / 1000000, t % 1000000);
    /* One frame a line: a raw newline can only be JSON whitespace (it is not
     * allowed inside strings), so a space stands in for it. */
    for (const char *q = data, *end = data + len; q < end;) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        size_t n = nl ? (size_t)(nl - q) : (size_t)(end - q);
        fwrite(q, 1, n, c->rec);
        if (nl) {
            fputc(' ', c->rec);
        }
        q += n + (nl != NULL);
    }
    fputc('\n', c->rec);
}

void okx_record_frame(okx_ctx *c, const char *data, size_t len)
{
    record_line(c, "", data, len);
}

void okx_record_private(okx_ctx *c, const char *data, size_t len)
{
    record_line(c, "private ", data, len);
}

void okx_record_rest(void *arg, const char *method, const char *path, const char *query,
                     const char *body, const at_http_resp *resp)
{
    okx_ctx *c = arg;
    if (!c->rec) {
        return;
    }
    bool ok = resp->err == AT_OK;
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:s, s:s%}", "m", method, "p", path, "q", query, "b",
        body, "sent", (json_int_t)(c->h->now_us() - resp->elapsed_us), "status", resp->status,
        "err", resp->err, "error", ok || !resp->error ? "" : resp->error, "body",
        ok && resp->body ? resp->body : "", ok && resp->body ? resp->len : (size_t)0);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) { /* not UTF-8, or no memory: the replay will miss this answer */
        okx_warn_limited(c, OKX_WARN_ACCOUNT, "recording: %s %s answer not recorded", method, path);
        return;
    }
    record_line(c, "rest ", text, strlen(text));
    free(text);
}

void okx_record_close(okx_ctx *c)
{
    if (c->rec_flush) {
        c->h->timer_cancel(c->rec_flush);
        c->rec_flush = NULL;
    }
    if (c->rec) {
        on_flush(c);
        fclose(c->rec);
        c->rec = NULL;
    }
}

/* Recording received public/business frames and playing recordings back
 * (format in okx_replay.h). Playback reads the file a line at a time on the
 * main loop, paced by one one-shot timer armed for the next frame's due time
 * on the core clock, so a simulated clock plays it exactly too. */
#include "okx_replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One frame a loop turn: the bus delivers its events before the next frame
 * comes, so coalescable events (tickers, books, marks) reach every
 * subscriber as they did live instead of being folded by a fast replay. */
#define BATCH 1

okx_rec_kind okx_rec_line(const char *line, size_t len, double *ts, const char **frame,
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
    if (line[0] < '0' || line[0] > '9') {
        return OKX_REC_SKIP;
    }
    /* "<digits>[.<digits>]: <frame>" */
    size_t i = 0;
    double t = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9' && i < 12) {
        t = t * 10 + (line[i++] - '0');
    }
    if (i < len && line[i] == '.') {
        double scale = 0.1;
        for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++, scale /= 10) {
            t += (line[i] - '0') * scale;
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
    *ts = t;
    *frame = line + i;
    *flen = len - i;
    return OKX_REC_TIMED;
}

/* ------------------------------------------------------------- playback */

struct okx_player {
    FILE *f;
    char *line;
    size_t cap;
    ssize_t len;
    const char *frame; /* the next frame (into line) */
    size_t flen;
    double ts, ts0; /* its receive time; the first frame's */
    bool have, timed0;
    int64_t start_us; /* core time the first frame was played */
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
        double ts = p->ts;
        okx_rec_kind k = okx_rec_line(p->line, n, &ts, &p->frame, &p->flen);
        if (k == OKX_REC_SKIP) {
            p->skipped++;
            continue;
        }
        if (k == OKX_REC_TIMED) {
            if (!p->timed0) {
                p->timed0 = true;
                p->ts0 = ts;
            }
            if (ts >= p->ts) {
                p->ts = ts; /* a time going back plays at once, in file order */
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
    if (!(c->replay_speed > 0) || !p->timed0) {
        return p->start_us;
    }
    return p->start_us + (int64_t)((p->ts - p->ts0) * 1e6 / c->replay_speed + 0.5);
}

static void on_play(void *arg)
{
    okx_ctx *c = arg;
    okx_player *p = c->player;
    p->timer = NULL; /* one-shot: freed by the host */
    int64_t now = c->h->now_us();
    for (int n = 0; p->have && n < BATCH; n++) {
        int64_t due = due_us(c, p);
        if (due > now) {
            int64_t ms = (due - now + 999) / 1000;
            p->timer = c->h->timer_add(c->inst, ms, 0, on_play, c);
            return;
        }
        okx_feed_frame(c, p->frame, p->flen);
        p->frames++;
        next_frame(c, p);
    }
    if (p->have) {
        p->timer = c->h->timer_add(c->inst, 0, 0, on_play, c);
        return;
    }
    c->replay_done = true;
    c->h->log(c->inst, AT_LOG_INFO,
              "replay of %s finished: %" PRIu64 " frames played over %.1f s of recording, %" PRIu64
              " other lines skipped",
              c->replay, p->frames, p->timed0 ? p->ts - p->ts0 : 0.0, p->skipped);
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
              c->replay_speed > 0 ? "the recorded pace" : "full speed");
    if (c->replay_speed > 0 && c->replay_speed != 1) {
        c->h->log(c->inst, AT_LOG_INFO, "replay speed x%g", c->replay_speed);
    }
    next_frame(c, p);
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

int okx_record_open(okx_ctx *c)
{
    c->rec = fopen(c->record, "a");
    if (!c->rec) {
        c->h->log(c->inst, AT_LOG_ERROR, "record: cannot open %s: %s", c->record, strerror(errno));
        return AT_EIO;
    }
    c->rec_flush = c->h->timer_add(c->inst, 1000, 1000, on_flush, c);
    c->h->log(c->inst, AT_LOG_INFO, "recording the market frames to %s", c->record);
    return c->rec_flush ? AT_OK : AT_ENOMEM;
}

void okx_record_frame(okx_ctx *c, const char *data, size_t len)
{
    int64_t t = c->h->now_us();
    fprintf(c->rec, "%" PRId64 ".%06" PRId64 ": ", t / 1000000, t % 1000000);
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

/* Candle backfill: before the business WebSocket subscribes its candles, the
 * last `backfill` closed candles of every followed instrument and bar are
 * asked over REST (market/candles, newest first) and fed, oldest first,
 * through the WebSocket's own scanner and publisher (okx_feed_frame): OKX's
 * REST candle rows are the rows of a candle push. Indicators are then warm
 * when the first live candle arrives, instead of after their warm-up (MACD:
 * 34 bars, half an hour of 1m bars; three hours of 5m ones).
 *
 * The WebSocket subscribes only once every answer is in, so no older candle
 * ever follows a newer one on the bus. A failed request is a WARN and that
 * instrument and bar warm up from the live candles alone, as without
 * backfill. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_replay.h"

typedef struct bf_job {
    struct okx_backfill *run;
    const char *inst_id, *bar;
} bf_job;

struct okx_backfill {
    okx_ctx *c;
    void (*done)(okx_ctx *c);
    size_t pending; /* requests not answered yet */
    size_t njobs;
    bf_job jobs[];
};

/* All answered (or failed): the run is over, the candles may stream. */
static void finish(struct okx_backfill *run)
{
    okx_ctx *c = run->c;
    void (*done)(okx_ctx *) = run->done;
    c->backfill_run = NULL;
    free(run);
    done(c);
}

/* Publish the confirmed rows of one answer, oldest first, as one-row candle
 * pushes. Returns how many were published; *skipped counts the rows left
 * out (the bar still open, or not an array). */
static size_t feed_rows(okx_ctx *c, const bf_job *j, const json_t *data, size_t *skipped)
{
    size_t n = 0;
    *skipped = 0;
    for (size_t k = json_array_size(data); k-- > 0;) {
        const json_t *row = json_array_get(data, k);
        const char *confirm = json_string_value(json_array_get(row, 8));
        if (!json_is_array(row) || !confirm || strcmp(confirm, "1") != 0) {
            (*skipped)++;
            continue;
        }
        char *text = okx_json_dumps(row, JSON_COMPACT);
        if (!text) {
            (*skipped)++;
            continue;
        }
        char head[160];
        int hn = snprintf(head, sizeof(head),
                          "{\"arg\":{\"channel\":\"candle%s\",\"instId\":\"%s\"},\"data\":[",
                          j->bar, j->inst_id);
        size_t tn = strlen(text), len = (size_t)hn + tn + 2;
        char *frame = malloc(len + 1);
        if (frame) {
            memcpy(frame, head, (size_t)hn);
            memcpy(frame + hn, text, tn);
            memcpy(frame + (size_t)hn + tn, "]}", 3);
            if (c->rec) { /* a replay plays them as they came (it fetches nothing) */
                okx_record_frame(c, frame, len);
            }
            okx_feed_frame(c, frame, len);
            n++;
        } else {
            (*skipped)++;
        }
        free(frame);
        free(text);
    }
    return n;
}

static void on_candles(void *arg, const okx_reply *r)
{
    bf_job *j = arg;
    struct okx_backfill *run = j->run;
    okx_ctx *c = run->c;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !json_is_array(r->data)) {
        c->h->log(c->inst, AT_LOG_WARN,
                  "backfill of %s %s candles failed (%s%s%s): its indicators warm up from the "
                  "live candles",
                  j->inst_id, j->bar, r->code[0] ? r->code : "", r->code[0] ? " " : "",
                  r->msg && r->msg[0] ? r->msg : "no usable answer");
    } else {
        size_t skipped;
        size_t n = feed_rows(c, j, r->data, &skipped);
        c->h->log(c->inst, AT_LOG_INFO, "backfill: %zu closed %s %s candles from REST%s", n,
                  j->inst_id, j->bar, skipped ? " (the open one left to the WebSocket)" : "");
    }
    if (--run->pending == 0) {
        finish(run);
    }
}

int okx_backfill_start(okx_ctx *c, void (*done)(okx_ctx *c))
{
    size_t njobs = c->nwatch * c->candles.n;
    struct okx_backfill *run = calloc(1, sizeof(*run) + njobs * sizeof(bf_job));
    if (!run) {
        return AT_ENOMEM;
    }
    run->c = c;
    run->done = done;
    run->njobs = njobs;
    c->backfill_run = run;
    /* Counted before any request goes out, so an answer cannot finish the
     * run while later ones are still being asked. */
    run->pending = njobs + 1;
    for (size_t i = 0; i < c->nwatch; i++) {
        for (size_t k = 0; k < c->candles.n; k++) {
            bf_job *j = &run->jobs[i * c->candles.n + k];
            j->run = run;
            j->inst_id = c->watch[i].inst->inst_id;
            j->bar = c->candles.items[k];
            char query[160];
            snprintf(query, sizeof(query), "instId=%s&bar=%s&limit=%lld", j->inst_id, j->bar,
                     (long long)c->backfill);
            if (okx_rest_get(c->rest, "/api/v5/market/candles", query, false, on_candles, j) !=
                AT_OK) {
                c->h->log(c->inst, AT_LOG_WARN,
                          "backfill of %s %s candles could not be asked: its indicators warm up "
                          "from the live candles",
                          j->inst_id, j->bar);
                run->pending--;
            }
        }
    }
    if (--run->pending == 0) {
        finish(run);
    }
    return AT_OK;
}

void okx_backfill_stop(okx_ctx *c)
{
    /* Called right before okx_rest_free in the same turn: the requests in
     * flight go with it, their callbacks never run. */
    free(c->backfill_run);
    c->backfill_run = NULL;
}

/* The REST answers of a recorded account (`rest` lines, okx_replay.h),
 * given back by `aitrader replay` instead of asking OKX: each request gets
 * the first unused answer recorded for the same method, path, query and
 * body, delivered at the time it came live. A request the session never
 * made, or made with another body (an order that differs), gets no answer
 * but an error that says so: the replay then diverges visibly instead of
 * inventing what OKX would have said. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_replay.h"

typedef struct rec_answer {
    json_t *x; /* the recorded exchange */
    int64_t at_us;
    bool used;
} rec_answer;

typedef struct okx_rec_rest {
    rec_answer *v;
    size_t n, cap;
    uint64_t misses;
    bool feeds; /* the recording says when the private feeds came up */
} okx_rec_rest;

static const char REST[] = "rest ";

/* "rest <t>: {…}" -> the exchange and its time; false for other lines. */
static bool rest_line(const char *line, size_t n, int64_t *at_us, json_t **x, char *err,
                      size_t errlen)
{
    const size_t np = sizeof(REST) - 1;
    if (n <= np || memcmp(line, REST, np) != 0) {
        return false;
    }
    /* the time as a frame line has it: reuse the frame reader on the rest */
    const char *body;
    size_t blen;
    if (okx_rec_line_us(line + np, n - np, at_us, &body, &blen) != OKX_REC_TIMED) {
        snprintf(err, errlen, "a rest line without its time");
        return true;
    }
    json_error_t je;
    *x = json_loadb(body, blen, 0, &je);
    if (!*x || !json_is_string(json_object_get(*x, "m")) ||
        !json_is_string(json_object_get(*x, "p")) || !json_is_integer(json_object_get(*x, "err"))) {
        snprintf(err, errlen, "a rest line that is not a recorded answer (%s)",
                 *x ? "m, p or err missing" : je.text);
        json_decref(*x);
        *x = NULL;
    }
    return true;
}

int okx_replay_rest_load(okx_ctx *c)
{
    FILE *f = fopen(c->replay, "r");
    if (!f) {
        c->h->log(c->inst, AT_LOG_ERROR, "replay: cannot open %s: %s", c->replay, strerror(errno));
        return AT_EIO;
    }
    okx_rec_rest *rr = calloc(1, sizeof(*rr));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int rc = rr ? AT_OK : AT_ENOMEM;
    while (rc == AT_OK && (len = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
            n--;
        }
        int64_t at = 0;
        json_t *x = NULL;
        char err[256] = "";
        if (!rr->feeds && strstr(buf, "\"" OKX_REC_FEED "\"") && strncmp(buf, "private ", 8) == 0) {
            rr->feeds = true;
        }
        if (!rest_line(buf, n, &at, &x, err, sizeof(err))) {
            continue;
        }
        if (!x) {
            c->h->log(c->inst, AT_LOG_ERROR, "replay %s:%" PRIu64 ": %s", c->replay, lineno, err);
            rc = AT_EINVAL;
            break;
        }
        if (c->replay_from > 0 && at < c->replay_from) {
            json_decref(x); /* an earlier session's */
            continue;
        }
        if (rr->n == rr->cap) {
            size_t nc = rr->cap ? rr->cap * 2 : 64;
            rec_answer *v = realloc(rr->v, nc * sizeof(*v));
            if (!v) {
                json_decref(x);
                rc = AT_ENOMEM;
                break;
            }
            rr->v = v;
            rr->cap = nc;
        }
        rr->v[rr->n++] = (rec_answer){.x = x, .at_us = at};
    }
    free(buf);
    fclose(f);
    c->rec_rest = rr;
    if (rc != AT_OK) {
        okx_replay_rest_free(c);
        return rc;
    }
    c->h->log(c->inst, AT_LOG_INFO, "replaying the account: %zu recorded REST answers from %s",
              rr->n, c->replay);
    return AT_OK;
}

bool okx_replay_rest_feeds(const okx_ctx *c)
{
    const okx_rec_rest *rr = c->rec_rest;
    return rr && rr->feeds;
}

void okx_replay_rest_free(okx_ctx *c)
{
    okx_rec_rest *rr = c->rec_rest;
    if (!rr) {
        return;
    }
    for (size_t i = 0; i < rr->n; i++) {
        json_decref(rr->v[i].x);
    }
    free(rr->v);
    free(rr);
    c->rec_rest = NULL;
}

static bool same(const json_t *x, const char *k, const char *v)
{
    const char *s = json_string_value(json_object_get(x, k));
    return strcmp(s ? s : "", v) == 0;
}

void okx_replay_rest_answer(void *arg, const char *method, const char *path, const char *query,
                            const char *body, okx_rec_answer *a)
{
    okx_ctx *c = arg;
    okx_rec_rest *rr = c->rec_rest;
    rec_answer *hit = NULL, *other_body = NULL;
    for (size_t i = 0; rr && i < rr->n && !hit; i++) {
        rec_answer *e = &rr->v[i];
        if (e->used || !same(e->x, "m", method) || !same(e->x, "p", path) ||
            !same(e->x, "q", query)) {
            continue;
        }
        if (same(e->x, "b", body)) {
            hit = e;
        } else if (!other_body) {
            other_body = e;
        }
    }
    a->at_us = 0;
    if (!hit) {
        a->err = AT_EIO;
        snprintf(a->error, sizeof(a->error), "replay: %s %s%s%s %s", method, path,
                 *query ? "?" : "", query,
                 other_body ? "was sent with another body live" : "was not made live");
        if (rr) {
            rr->misses++;
        }
        okx_warn_limited(c, OKX_WARN_ACCOUNT, "%s%s%s", a->error, other_body ? ": " : "",
                         other_body ? body : "");
        return;
    }
    hit->used = true;
    a->at_us = hit->at_us;
    a->status = (int)json_integer_value(json_object_get(hit->x, "status"));
    a->err = (int)json_integer_value(json_object_get(hit->x, "err"));
    if (a->err != AT_OK) {
        const char *e = json_string_value(json_object_get(hit->x, "error"));
        snprintf(a->error, sizeof(a->error), "%s", e && *e ? e : "no answer (recorded)");
        return;
    }
    const char *b = json_string_value(json_object_get(hit->x, "body"));
    size_t n = json_string_length(json_object_get(hit->x, "body"));
    a->body = malloc(n + 1);
    if (!a->body) {
        a->err = AT_ENOMEM;
        snprintf(a->error, sizeof(a->error), "out of memory");
        return;
    }
    memcpy(a->body, b ? b : "", n);
    a->body[n] = '\0';
    a->len = n;
}

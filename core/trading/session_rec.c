/* Session recording: the file format is in session.h. Lines are written as
 * the events come and flushed each time (a few a minute), so a crash loses
 * none of what the pipeline did before it. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include <aitrader/version.h>

#include "util.h"
#include "validate.h"

struct session_rec {
    const at_host *h;
    at_instance *self;
    FILE *f;
    char *path;
    int subs[7];
    uint64_t lines, failed;
    bool closed; /* the "end" line is written: nothing more */
};

static const char *const SIDES[] = {"none", "buy", "sell"};
static const char *const POS_SIDES[] = {"net", "long", "short"};

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : "?";
}

static json_t *jdec(const session_rec *r, at_dec d)
{
    char s[AT_DEC_STRLEN];
    return r->h->dec_format(d, s) > 0 ? json_string(s) : json_null();
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Write one object (stolen) as a line, keys sorted. Reals with 15 digits:
 * what the models and configs write (0.7, not 0.69999999999999996). */
static void put(session_rec *r, json_t *o)
{
    if (r->closed) {
        json_decref(o);
        return;
    }
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                                    JSON_REAL_PRECISION(15))
                : NULL;
    json_decref(o);
    if (s && fprintf(r->f, "%s\n", s) > 0 && fflush(r->f) == 0) {
        r->lines++;
    } else if (r->failed++ == 0) {
        r->h->log(r->self, AT_LOG_ERROR, "recording %s: write failed (%s); lines are being lost",
                  r->path, s ? strerror(errno) : "out of memory");
        at_ev_alert *ev = (at_ev_alert *)r->h->event_new(r->self, AT_EV_ALERT, 96);
        if (ev) {
            ev->level = AT_LOG_ERROR;
            ev->message = r->h->event_strdup(&ev->h, "session recording: a write failed");
            r->h->publish(r->self, &ev->h, 0);
        }
    }
    free(s);
}

static json_t *line(const char *kind, int64_t t_us)
{
    return json_pack("{s:s, s:I}", "k", kind, "t", (json_int_t)t_us);
}

static void on_trigger(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_trigger *x = (const at_ev_trigger *)e;
    json_t *o = line("trigger", e->ts_us);
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "trader", json_string(x->trader));
    json_object_set_new(o, "key", json_string(x->key));
    json_object_set_new(o, "reason", jstr(x->reason));
    json_object_set_new(o, "salience", json_real(x->salience));
    json_object_set_new(o, "short_mode", json_boolean(x->short_mode));
    json_object_set_new(o, "deadline_ms", json_integer(x->deadline_ms));
    put(r, o);
}

static void on_decision(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_decision *x = (const at_ev_decision *)e;
    json_t *o = line("decision", e->ts_us);
    json_t *items = json_array();
    for (uint32_t i = 0; i < x->n && i < AT_DECISION_MAX; i++) {
        const at_decision_item *it = &x->items[i];
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:f, s:f, s:o, s:o, s:f, s:o, s:o}", "symbol",
                             r->h->inst_name(it->symbol), "action", vd_action_name(it->action),
                             "size_pct", it->size_pct, "leverage", it->leverage, "take_profit",
                             jdec(r, it->take_profit), "stop_loss", jdec(r, it->stop_loss),
                             "confidence", it->confidence, "reason", jstr(it->reason),
                             "invalidation", jstr(it->invalidation)));
    }
    json_object_set_new(o, "id", json_string(x->decision_id));
    json_object_set_new(o, "trader", json_string(x->trader));
    json_object_set_new(o, "provider", json_string(x->provider));
    json_object_set_new(o, "model", jstr(x->model));
    json_object_set_new(o, "valid", json_boolean(x->valid));
    json_object_set_new(o, "invalid_reason", jstr(x->invalid_reason));
    json_object_set_new(o, "trigger", json_string(x->trigger_key));
    json_object_set_new(o, "tokens_in", json_integer(x->tokens_in));
    json_object_set_new(o, "tokens_out", json_integer(x->tokens_out));
    json_object_set_new(o, "items", items);
    put(r, o);
}

static void on_intent(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_order_intent *x = (const at_ev_order_intent *)e;
    json_t *o = line("intent", e->ts_us);
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "id", json_string(x->intent_id));
    json_object_set_new(o, "cl_ord_id", json_string(x->cl_ord_id));
    json_object_set_new(o, "account", json_string(x->account));
    json_object_set_new(o, "origin", json_string(x->origin));
    json_object_set_new(o, "decision", json_string(x->decision_id));
    json_object_set_new(o, "ord_id", json_string(x->ord_id));
    json_object_set_new(o, "op", json_integer(x->op));
    json_object_set_new(o, "inst", json_string(r->h->inst_name(e->inst)));
    json_object_set_new(o, "side", json_string(name_of(SIDES, 3, x->side)));
    json_object_set_new(o, "pos_side", json_string(name_of(POS_SIDES, 3, x->pos_side)));
    json_object_set_new(o, "isolated", json_boolean(x->isolated));
    json_object_set_new(o, "ord_type", json_integer(x->ord_type));
    json_object_set_new(o, "sz", jdec(r, x->sz));
    json_object_set_new(o, "px", jdec(r, x->px));
    json_object_set_new(o, "reduce_only", json_boolean(x->reduce_only));
    json_object_set_new(o, "tp", jdec(r, x->tp_trigger_px));
    json_object_set_new(o, "sl", jdec(r, x->sl_trigger_px));
    json_object_set_new(o, "leverage", jdec(r, x->leverage));
    json_object_set_new(o, "shadow", json_boolean(x->shadow));
    json_object_set_new(o, "ttl_ms", json_integer(x->ttl_ms));
    put(r, o);
}

/* News and sentiment: what the sources published, published again by a
 * replay (which runs no source) at their time, so its prompts read the same. */
static void on_news(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_news *x = (const at_ev_news *)e;
    json_t *o = line("news", e->ts_us);
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "id", jstr(x->id));
    json_object_set_new(o, "feed", jstr(x->feed));
    json_object_set_new(o, "title", jstr(x->title));
    json_object_set_new(o, "url", jstr(x->url));
    json_object_set_new(o, "summary", jstr(x->summary));
    json_object_set_new(o, "symbols", jstr(x->symbols));
    json_object_set_new(o, "published_ms", json_integer(x->published_ms));
    json_object_set_new(o, "score", jnum(x->score));
    json_object_set_new(o, "impact", jnum(x->impact));
    json_object_set_new(o, "llm_score", jnum(x->llm_score));
    json_object_set_new(o, "scorer", jstr(x->scorer));
    put(r, o);
}

static void on_sentiment(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_sentiment *x = (const at_ev_sentiment *)e;
    json_t *o = line("sentiment", e->ts_us);
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "feed", jstr(x->feed));
    json_object_set_new(o, "label", jstr(x->label));
    json_object_set_new(o, "value", jnum(x->value));
    json_object_set_new(o, "as_of_ms", json_integer(x->as_of_ms));
    put(r, o);
}

static void on_result(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_order_result *x = (const at_ev_order_result *)e;
    json_t *o = line("result", e->ts_us);
    json_object_set_new(o, "intent", json_string(x->intent_id));
    json_object_set_new(o, "account", json_string(x->account));
    json_object_set_new(o, "ord_id", json_string(x->ord_id));
    json_object_set_new(o, "op", json_integer(x->op));
    json_object_set_new(o, "ok", json_boolean(x->ok));
    json_object_set_new(o, "code", json_string(x->code));
    json_object_set_new(o, "msg", jstr(x->msg));
    /* when the venue got it: a replay sends it then (paper fills at that book) */
    json_object_set_new(o, "sent",
                        x->latency_us > 0 ? json_integer(e->ts_us - x->latency_us) : json_null());
    put(r, o);
}

static void on_verdict(void *arg, const at_event *e)
{
    session_rec *r = arg;
    const at_ev_risk_verdict *x = (const at_ev_risk_verdict *)e;
    json_t *o = line("verdict", e->ts_us);
    json_object_set_new(o, "intent", json_string(x->intent_id));
    json_object_set_new(o, "rule", json_string(x->rule));
    json_object_set_new(o, "name", jstr(x->name));
    json_object_set_new(o, "allowed", json_boolean(x->allowed));
    json_object_set_new(o, "verdict", json_integer(x->verdict));
    json_object_set_new(o, "sz", jdec(r, x->sz));
    json_object_set_new(o, "reason", jstr(x->reason));
    put(r, o);
}

/* Create dir and a file in it that did not exist: a second run in the same
 * second gets a suffix rather than appending to (or clobbering) the first. */
static FILE *open_new(const char *dir, int64_t now_us, char **path, char *why, size_t whylen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    time_t secs = (time_t)(now_us / 1000000);
    struct tm tm;
    char stamp[32];
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    for (int n = 0; n < 100; n++) {
        char *p = n ? at_asprintf("%s/session-%s-%d.jsonl", dir, stamp, n)
                    : at_asprintf("%s/session-%s.jsonl", dir, stamp);
        if (!p) {
            break;
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "w");
            if (f) {
                *path = p;
                return f;
            }
            close(fd);
        } else if (errno != EEXIST) {
            snprintf(why, whylen, "cannot create %s: %s", p, strerror(errno));
            free(p);
            return NULL;
        }
        free(p);
    }
    snprintf(why, whylen, "cannot create a new session file in %s", dir);
    return NULL;
}

session_rec *session_rec_new(const at_host *h, at_instance *self, const char *dir,
                             const char *config_path, int64_t engine_start_us,
                             const session_frames *frames, size_t nframes, char *why, size_t whylen)
{
    session_rec *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    r->h = h;
    r->self = self;
    int64_t now = h->now_us();
    if (!(r->f = open_new(dir, now, &r->path, why, whylen))) {
        free(r);
        return NULL;
    }
    json_t *fr = json_object();
    for (size_t i = 0; i < nframes; i++) {
        json_object_set_new(fr, frames[i].instance, json_string(frames[i].path));
    }
    json_t *o = line("session", now);
    json_object_set_new(o, "format", json_integer(SESSION_FORMAT));
    json_object_set_new(o, "version", json_string(AT_VERSION));
    json_object_set_new(o, "config", jstr(config_path));
    json_object_set_new(o, "engine_start", json_integer(engine_start_us));
    json_object_set_new(o, "frames", fr);
    put(r, o);
    if (r->lines != 1) {
        snprintf(why, whylen, "cannot write %s", r->path);
        session_rec_free(r);
        return NULL;
    }
    return r;
}

int session_rec_start(session_rec *r)
{
    static const at_event_type types[7] = {
        AT_EV_TRIGGER,      AT_EV_DECISION, AT_EV_ORDER_INTENT, AT_EV_RISK_VERDICT,
        AT_EV_ORDER_RESULT, AT_EV_NEWS,     AT_EV_SENTIMENT};
    static const at_event_cb cbs[7] = {on_trigger, on_decision, on_intent,   on_verdict,
                                       on_result,  on_news,     on_sentiment};
    for (int i = 0; i < 7; i++) {
        r->subs[i] = r->h->subscribe(r->self, types[i], cbs[i], r);
        if (r->subs[i] < 0) {
            return r->subs[i];
        }
    }
    r->h->log(r->self, AT_LOG_INFO, "recording this session to %s", r->path);
    return AT_OK;
}

void session_rec_stop(session_rec *r)
{
    if (!r) {
        return;
    }
    for (int i = 0; i < 7; i++) {
        if (r->subs[i] > 0) {
            r->h->unsubscribe(r->self, r->subs[i]);
        }
        r->subs[i] = 0;
    }
    if (r->f) {
        fflush(r->f);
    }
}

void session_rec_free(session_rec *r)
{
    if (!r) {
        return;
    }
    if (r->f) {
        fclose(r->f);
    }
    free(r->path);
    free(r);
}

void session_rec_snapshot(session_rec *r, const char *file, const char *why)
{
    json_t *o = line("snapshot", r->h->now_us());
    json_object_set_new(o, "db", jstr(file));
    if (!file) {
        json_object_set_new(o, "why", jstr(why));
    }
    put(r, o);
}

void session_rec_mark(session_rec *r, const char *kind)
{
    put(r, line(kind, r->h->now_us()));
    r->closed |= strcmp(kind, "end") == 0;
}

void session_rec_control(session_rec *r, const char *caller, const char *method,
                         const json_t *params)
{
    json_t *o = line("control", r->h->now_us());
    json_object_set_new(o, "caller", jstr(caller));
    json_object_set_new(o, "method", jstr(method));
    json_object_set_new(o, "params", params ? json_deep_copy(params) : json_object());
    put(r, o);
}

void session_rec_kill_switch(session_rec *r, bool present, bool on, int64_t since_ms,
                             const char *by, const char *reason)
{
    json_t *o = line("kill_switch", r->h->now_us());
    json_object_set_new(o, "present", json_boolean(present));
    json_object_set_new(o, "on", json_boolean(on));
    json_object_set_new(o, "since_ms", json_integer(since_ms));
    json_object_set_new(o, "by", jstr(by));
    json_object_set_new(o, "reason", jstr(reason));
    put(r, o);
}

void session_rec_subscribed(session_rec *r, const char *instance, int type)
{
    json_t *o = line("subscribe", r->h->now_us());
    json_object_set_new(o, "instance", jstr(instance));
    json_object_set_new(o, "type", json_integer(type));
    put(r, o);
}

const char *session_rec_path(const session_rec *r)
{
    return r->path;
}

void session_rec_counts(const session_rec *r, uint64_t *lines, uint64_t *failed)
{
    *lines = r->lines;
    *failed = r->failed;
}

/* ------------------------------------------------------------- the tap */

void session_prompt_hash(const at_ai_request *req, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    const char *parts[3] = {req->system ? req->system : "", req->user ? req->user : "",
                            req->json_schema ? req->json_schema : ""};
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
    for (int i = 0; ok && i < 3; i++) {
        ok = EVP_DigestUpdate(c, parts[i], strlen(parts[i]) + 1) == 1; /* NUL separates */
    }
    ok = ok && EVP_DigestFinal_ex(c, md, &n) == 1 && n == 32;
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", ok ? md[i] : 0);
    }
}

struct session_tap {
    session_rec *rec;
    const at_ai_ops *inner;
    void *inner_ctx;
    char read_key[AT_ID_LEN]; /* the prompt read last, and when */
    int64_t read_us;
};

typedef struct tap_call {
    session_tap *tap;
    at_ai_done_cb done;
    void *arg;
    int64_t asked_us;
    json_t *line; /* the request half of the "ai" line */
} tap_call;

static void tap_done(void *arg, const at_ai_reply *rep)
{
    tap_call *c = arg;
    session_rec *r = c->tap->rec;
    json_t *o = c->line;
    json_object_set_new(o, "t", json_integer(r->h->now_us()));
    json_object_set_new(o, "reply",
                        json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:f, s:I, s:i}",
                                  "err", rep->err, "error", jstr(rep->error), "content",
                                  jstr(rep->content), "reasoning", jstr(rep->reasoning), "refusal",
                                  jstr(rep->refusal), "model", jstr(rep->model), "finish_reason",
                                  jstr(rep->finish_reason), "tokens_in", (json_int_t)rep->tokens_in,
                                  "tokens_out", (json_int_t)rep->tokens_out, "cost_usd",
                                  rep->cost_usd, "latency_ms", (json_int_t)rep->latency_ms,
                                  "attempts", rep->attempts));
    put(r, o);
    c->done(c->arg, rep);
    free(c);
}

static int tap_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    session_tap *t = ctx;
    tap_call *c = calloc(1, sizeof(*c));
    if (!c) {
        t->read_key[0] = '\0';
        return AT_ENOMEM;
    }
    char hash[65];
    session_prompt_hash(req, hash);
    c->tap = t;
    c->done = done;
    c->arg = arg;
    c->asked_us = t->rec->h->now_us();
    c->line = json_pack("{s:s, s:I, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:I}", "k", "ai", "asked",
                        (json_int_t)c->asked_us, "trader", req->trader ? req->trader : "", "id",
                        req->request_id ? req->request_id : "", "retry", req->retry, "hash", hash,
                        "system", jstr(req->system), "user", jstr(req->user), "schema",
                        jstr(req->json_schema), "deadline_ms", (json_int_t)req->deadline_ms);
    if (c->line && req->retry == 0 && req->request_id && t->read_key[0] &&
        strcmp(t->read_key, req->request_id) == 0) {
        json_object_set_new(c->line, "prompt_at", json_integer(t->read_us));
    }
    t->read_key[0] = '\0';
    if (!c->line) {
        /* Text jansson refuses (not UTF-8): the call goes on unrecorded,
         * said as a failed write; recording never changes what trades. */
        free(c);
        put(t->rec, NULL);
        return t->inner->request(t->inner_ctx, req, done, arg);
    }
    int rc = t->inner->request(t->inner_ctx, req, tap_done, c);
    if (rc != AT_OK) { /* refused at once: the replay refuses it the same way */
        json_object_set_new(c->line, "t", json_integer(t->rec->h->now_us()));
        json_object_set_new(c->line, "refused", json_integer(rc));
        put(t->rec, c->line);
        free(c);
    }
    return rc;
}

static void tap_cancel(void *ctx, const char *request_id)
{
    session_tap *t = ctx;
    t->inner->cancel(t->inner_ctx, request_id);
}

/* What became of a decision is part of the session too (a "feedback" line);
 * forwarded to a provider whose build has the op. */
static void tap_feedback(void *ctx, const at_ai_feedback *fb)
{
    session_tap *t = ctx;
    json_t *o = line("feedback", t->rec->h->now_us());
    json_object_set_new(o, "trader", jstr(fb->trader));
    json_object_set_new(o, "decision", jstr(fb->decision_id));
    json_object_set_new(o, "intent", jstr(fb->intent_id));
    json_object_set_new(o, "symbol", jstr(fb->symbol));
    json_object_set_new(o, "kind", json_integer(fb->kind));
    json_object_set_new(o, "text", jstr(fb->text));
    put(t->rec, o);
    if (AT_STRUCT_HAS(t->inner->struct_size, at_ai_ops, feedback) && t->inner->feedback) {
        t->inner->feedback(t->inner_ctx, fb);
    }
}

static const at_ai_ops TAP_OPS[2] = {
    {.struct_size = sizeof(at_ai_ops), .request = tap_request, .feedback = tap_feedback},
    {.struct_size = sizeof(at_ai_ops),
     .request = tap_request,
     .cancel = tap_cancel,
     .feedback = tap_feedback},
};

const at_ai_ops *session_tap_ops(const at_ai_ops *inner)
{
    return &TAP_OPS[inner->cancel != NULL];
}

session_tap *session_tap_new(session_rec *r, const at_ai_ops *inner, void *inner_ctx)
{
    session_tap *t = calloc(1, sizeof(*t));
    if (t) {
        t->rec = r;
        t->inner = inner;
        t->inner_ctx = inner_ctx;
    }
    return t;
}

void session_tap_prompt_read(void *tap, const char *key, int64_t at_us)
{
    session_tap *t = tap;
    snprintf(t->read_key, sizeof(t->read_key), "%s", key);
    t->read_us = at_us;
}

void session_tap_free(session_tap *t)
{
    free(t);
}

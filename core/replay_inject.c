/* What people did during a recorded session, made again by the replay at its
 * recorded time: the changes made through the engine's control API
 * ("control" lines: pause, resume, the kill switch) and the orders placed,
 * cancelled and closed from the dashboard or another instance the replay
 * turns off ("intent" lines whose source is a ui.* or source.* instance);
 * and what the sources it turns off published ("news", "sentiment").
 * Each goes the way it went live — the control API, or the bus to the
 * executor and its risk chain — from an instance of the recorded name, so
 * what it leads to (verdicts, orders, fills) is the replay's own, compared
 * like the rest. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "engine_api.h"
#include "engine_internal.h"
#include "replay_internal.h"
#include "util.h"

bool rp_is_input(const json_t *l)
{
    const char *k = rp_str(l, "k");
    if (strcmp(k, "trigger") == 0 || strcmp(k, "control") == 0 || strcmp(k, "news") == 0 ||
        strcmp(k, "sentiment") == 0) {
        return true;
    }
    const char *src = rp_str(l, "source");
    return strcmp(k, "intent") == 0 &&
           (strncmp(src, "ui.", 3) == 0 || strncmp(src, "source.", 7) == 0);
}

/* The instance a recorded input came from: the engine's own when it runs
 * one of that name, else a stand-in of that name (made once). */
static at_instance *caller(replay *r, const char *name)
{
    for (at_instance *in = r->e->instances; in; in = in->next) {
        if (strcmp(in->name, name) == 0) {
            return in;
        }
    }
    return engine_virtual_instance(r->e, name);
}

static int name_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static bool dec_of(const json_t *l, const char *k, at_dec *out)
{
    const char *s = json_string_value(json_object_get(l, k));
    return s && at_dec_parse(s, strlen(s), out) == AT_OK;
}

static void text_of(char *dst, size_t cap, const json_t *l, const char *k)
{
    snprintf(dst, cap, "%s", rp_str(l, k));
}

/* A recorded intent, published again as its source published it. */
static void publish_intent(replay *r, const json_t *l, size_t lineno)
{
    static const char *const SIDES[] = {"none", "buy", "sell"};
    static const char *const POS_SIDES[] = {"net", "long", "short"};
    const at_host *h = engine_host();
    at_instance *from = caller(r, rp_str(l, "source"));
    at_ev_order_intent *x =
        from ? (at_ev_order_intent *)h->event_new(from, AT_EV_ORDER_INTENT, 0) : NULL;
    if (!x) {
        rp_failed(r, "line %zu of the recording: out of memory", lineno);
        return;
    }
    int side = name_index(SIDES, 3, rp_str(l, "side"));
    int pos = name_index(POS_SIDES, 3, rp_str(l, "pos_side"));
    x->h.inst = h->inst_intern(rp_str(l, "inst"));
    bool ok = side >= 0 && pos >= 0 && x->h.inst && dec_of(l, "sz", &x->sz) &&
              dec_of(l, "px", &x->px) && dec_of(l, "tp", &x->tp_trigger_px) &&
              dec_of(l, "sl", &x->sl_trigger_px) && dec_of(l, "leverage", &x->leverage);
    if (!ok) {
        h->event_release(&x->h);
        rp_failed(r, "line %zu of the recording: an intent that cannot be made again", lineno);
        return;
    }
    text_of(x->intent_id, sizeof(x->intent_id), l, "id");
    text_of(x->cl_ord_id, sizeof(x->cl_ord_id), l, "cl_ord_id");
    text_of(x->account, sizeof(x->account), l, "account");
    text_of(x->origin, sizeof(x->origin), l, "origin");
    text_of(x->decision_id, sizeof(x->decision_id), l, "decision");
    text_of(x->ord_id, sizeof(x->ord_id), l, "ord_id");
    x->op = (at_intent_op)rp_int(l, "op");
    x->side = (at_side)side;
    x->pos_side = (at_pos_side)pos;
    x->isolated = json_is_true(json_object_get(l, "isolated"));
    x->ord_type = (at_ord_type)rp_int(l, "ord_type");
    x->reduce_only = json_is_true(json_object_get(l, "reduce_only"));
    x->shadow = json_is_true(json_object_get(l, "shadow"));
    x->ttl_ms = rp_int(l, "ttl_ms");
    h->publish(from, &x->h, 0);
}

/* A recorded control call, made again; its answer is the replay's to tell. */
static void call_control(replay *r, const json_t *l, size_t lineno)
{
    at_instance *from = caller(r, rp_str(l, "caller"));
    char *params = json_dumps(json_object_get(l, "params"), JSON_COMPACT);
    char *answer = NULL;
    int rc =
        from && params ? engine_api_call(from, rp_str(l, "method"), params, &answer) : AT_ENOMEM;
    if (rc != AT_OK) {
        rp_diverged(r,
                    "line %zu of the recording (control %s): live it was done, the replay was "
                    "refused: %s",
                    lineno, rp_str(l, "method"), answer ? answer : at_strerror(rc));
    }
    free(params);
    free(answer);
}

static double num_of(const json_t *l, const char *k)
{
    const json_t *v = json_object_get(l, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A string member copied into the event, or NULL. */
static const char *event_str(at_event *e, const json_t *l, const char *k)
{
    const char *s = json_string_value(json_object_get(l, k));
    return s ? engine_host()->event_strdup(e, s) : NULL;
}

static size_t len_of(const json_t *l, const char *k)
{
    const char *s = json_string_value(json_object_get(l, k));
    return s ? strlen(s) + 1 : 0;
}

/* A recorded news item or sentiment reading, published again as its source
 * published it (a replay runs no source: their prompts read the same). */
static void publish_news(replay *r, const json_t *l, size_t lineno)
{
    const at_host *h = engine_host();
    bool news = strcmp(rp_str(l, "k"), "news") == 0;
    static const char *const NEWS_KEYS[] = {"id",      "feed",    "title", "url",
                                            "summary", "symbols", "scorer"};
    static const char *const SENT_KEYS[] = {"feed", "label"};
    size_t extra = 0;
    for (size_t i = 0; i < (news ? 7 : 2); i++) {
        extra += len_of(l, news ? NEWS_KEYS[i] : SENT_KEYS[i]);
    }
    at_instance *from = caller(r, rp_str(l, "source"));
    at_event *e = from ? h->event_new(from, news ? AT_EV_NEWS : AT_EV_SENTIMENT, extra) : NULL;
    if (!e) {
        rp_failed(r, "line %zu of the recording: out of memory", lineno);
        return;
    }
    if (news) {
        at_ev_news *x = (at_ev_news *)e;
        x->id = event_str(e, l, "id");
        x->feed = event_str(e, l, "feed");
        x->title = event_str(e, l, "title");
        x->url = event_str(e, l, "url");
        x->summary = event_str(e, l, "summary");
        x->symbols = event_str(e, l, "symbols");
        x->scorer = event_str(e, l, "scorer");
        x->published_ms = rp_int(l, "published_ms");
        x->score = num_of(l, "score");
        x->impact = num_of(l, "impact");
        x->llm_score = num_of(l, "llm_score");
    } else {
        at_ev_sentiment *x = (at_ev_sentiment *)e;
        x->feed = event_str(e, l, "feed");
        x->label = event_str(e, l, "label");
        x->value = num_of(l, "value");
        x->as_of_ms = rp_int(l, "as_of_ms");
    }
    h->publish(from, e, 0);
}

void rp_inject_input(replay *r, const json_t *l, size_t lineno)
{
    const char *k = rp_str(l, "k");
    if (strcmp(k, "control") == 0) {
        call_control(r, l, lineno);
    } else if (strcmp(k, "news") == 0 || strcmp(k, "sentiment") == 0) {
        publish_news(r, l, lineno);
    } else {
        publish_intent(r, l, lineno);
    }
}

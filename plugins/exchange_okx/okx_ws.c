/* A WebSocket connection to OKX that stays up (see okx_ws.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "okx_sign.h"
#include "okx_ws.h"

typedef struct sub {
    char *arg; /* JSON object text */
    struct sub *next;
} sub;

struct okx_ws {
    const at_host *h;
    at_instance *inst;
    okx_ws_cbs cbs;
    void *arg;
    char *url, *name, *key, *secret, *pass;
    const char *proxy;
    int64_t ping_ms, idle_ms, backoff_min_ms, backoff_max_ms;
    at_ws *ws;
    bool open, up, started;
    sub *subs;
    at_timer *ping, *reconnect;
    int64_t last_rx_ms, last_tx_ms;
    int64_t backoff_ms;
    int reconnects;
    at_metric *m_reconnects;
    uint64_t rng;
};

static int64_t now_ms(const okx_ws *w)
{
    return w->h->now_us() / 1000;
}

static char *dup(const char *s)
{
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

static int send_text(okx_ws *w, const char *s)
{
    if (!w->ws || !w->open) {
        return AT_ESTATE;
    }
    int rc = w->h->ws_send(w->ws, s, strlen(s));
    if (rc == AT_OK) {
        w->last_tx_ms = now_ms(w);
    }
    return rc;
}

static void connect_now(okx_ws *w);

static void on_reconnect(void *arg)
{
    okx_ws *w = arg;
    w->reconnect = NULL; /* one-shot: freed by the host */
    connect_now(w);
}

/* Exponential backoff with +/-50 % jitter, so many clients that lost OKX at
 * the same moment do not come back at the same moment. */
static void schedule_reconnect(okx_ws *w)
{
    if (w->reconnect || !w->started) {
        return;
    }
    int64_t d = w->backoff_ms;
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    d = d / 2 + (int64_t)(w->rng % (uint64_t)(d + 1));
    w->backoff_ms = w->backoff_ms * 2 > w->backoff_max_ms ? w->backoff_max_ms : w->backoff_ms * 2;
    w->reconnect = w->h->timer_add(w->inst, d, 0, on_reconnect, w);
    w->h->log(w->inst, AT_LOG_INFO, "ws %s: reconnecting in %lld ms", w->name, (long long)d);
}

static void go_down(okx_ws *w, const char *why)
{
    bool was_up = w->up;
    w->up = false;
    w->open = false;
    if (w->ws) {
        at_ws *ws = w->ws;
        w->ws = NULL;
        w->h->ws_close(ws); /* no callback follows for this handle */
    }
    if (was_up && w->cbs.on_state) {
        w->cbs.on_state(w->arg, w, false, why);
    }
    schedule_reconnect(w);
}

/* Subscriptions go out in batches (OKX caps a request at 64 KB of args). */
static void send_subs(okx_ws *w)
{
    char buf[8192];
    size_t at = 0;
    for (sub *s = w->subs; s; s = s->next) {
        size_t n = strlen(s->arg);
        if (at && at + n + 4 > sizeof(buf)) {
            snprintf(buf + at, sizeof(buf) - at, "]}");
            send_text(w, buf);
            at = 0;
        }
        if (!at) {
            at = (size_t)snprintf(buf, sizeof(buf), "{\"op\":\"subscribe\",\"args\":[");
        } else {
            buf[at++] = ',';
        }
        if (at + n + 3 <= sizeof(buf)) {
            memcpy(buf + at, s->arg, n);
            at += n;
        }
    }
    if (at) {
        snprintf(buf + at, sizeof(buf) - at, "]}");
        send_text(w, buf);
    }
}

static void become_up(okx_ws *w)
{
    w->up = true;
    w->backoff_ms = w->backoff_min_ms;
    send_subs(w);
    if (w->cbs.on_state) {
        w->cbs.on_state(w->arg, w, true, w->key ? "logged in" : "connected");
    }
}

static void login(okx_ws *w)
{
    char ts[24], sign[48], msg[512];
    snprintf(ts, sizeof(ts), "%lld", (long long)(now_ms(w) / 1000));
    okx_sign_ws_login(w->secret, ts, sign);
    snprintf(msg, sizeof(msg),
             "{\"op\":\"login\",\"args\":[{\"apiKey\":\"%s\",\"passphrase\":\"%s\","
             "\"timestamp\":\"%s\",\"sign\":\"%s\"}]}",
             w->key, w->pass, ts, sign);
    send_text(w, msg);
}

static void on_open(void *arg, at_ws *ws)
{
    okx_ws *w = arg;
    if (ws != w->ws) {
        return;
    }
    w->open = true;
    w->last_rx_ms = now_ms(w);
    if (w->key) {
        login(w);
    } else {
        become_up(w);
    }
}

/* Event answers are small and rare: jansson is fine for them. Data pushes
 * ("arg" + "data") go to the caller untouched. */
static void on_event(okx_ws *w, const char *data, size_t len)
{
    json_error_t je;
    json_t *m = json_loadb(data, len, 0, &je);
    const char *ev = json_string_value(json_object_get(m, "event"));
    const char *code = json_string_value(json_object_get(m, "code"));
    const char *msg = json_string_value(json_object_get(m, "msg"));
    if (ev && strcmp(ev, "login") == 0 && code && strcmp(code, "0") == 0) {
        become_up(w);
    } else if (ev && strcmp(ev, "error") == 0) {
        w->h->log(w->inst, AT_LOG_WARN, "ws %s: error %s: %s", w->name, code ? code : "?",
                  msg ? msg : "");
        if (w->cbs.on_error) {
            w->cbs.on_error(w->arg, w, code ? code : "", msg ? msg : "");
        }
        if (!w->up && w->key) {
            /* A refused login will not get better by hammering: back off. */
            json_decref(m);
            go_down(w, "login refused");
            return;
        }
    } else if (ev && strcmp(ev, "notice") == 0) {
        w->h->log(w->inst, AT_LOG_WARN, "ws %s: notice %s: %s", w->name, code ? code : "?",
                  msg ? msg : "");
    }
    json_decref(m);
}

static void on_message(void *arg, at_ws *ws, const char *data, size_t len, bool binary)
{
    okx_ws *w = arg;
    if (ws != w->ws) {
        return;
    }
    w->last_rx_ms = now_ms(w);
    if (len == 4 && memcmp(data, "pong", 4) == 0) {
        return;
    }
    /* {"event":...} answers start with the event key in OKX's encoding; a
     * short prefix check keeps jansson off the data path. */
    if (len > 9 && memcmp(data, "{\"event\"", 8) == 0) {
        on_event(w, data, len);
        return;
    }
    if (len > 9 && memcmp(data, "{\"id\"", 5) == 0 && strstr(data, "\"event\"") &&
        !strstr(data, "\"op\"")) {
        on_event(w, data, len);
        return;
    }
    if (w->cbs.on_message) {
        w->cbs.on_message(w->arg, w, data, len);
    }
}

static void on_close(void *arg, at_ws *ws, int code, const char *reason)
{
    okx_ws *w = arg;
    if (ws != w->ws) {
        return; /* a handle we closed ourselves */
    }
    w->ws = NULL;
    char why[160];
    snprintf(why, sizeof(why), "closed (%d %s)", code, reason ? reason : "");
    w->h->log(w->inst, AT_LOG_WARN, "ws %s: %s", w->name, why);
    go_down(w, why);
}

static void connect_now(okx_ws *w)
{
    if (!w->started || w->ws) {
        return;
    }
    static const at_ws_cbs cbs = {on_open, on_message, on_close};
    if (w->last_rx_ms != 0) { /* was connected once: this is a reconnect */
        w->reconnects++;
        if (w->m_reconnects) {
            w->h->metric_add(w->m_reconnects, 1);
        }
    }
    w->ws = w->proxy ? w->h->ws_open_proxy(w->inst, w->url, w->proxy, &cbs, w)
                     : w->h->ws_open(w->inst, w->url, &cbs, w);
    if (!w->ws) {
        w->h->log(w->inst, AT_LOG_ERROR, "ws %s: cannot open %s", w->name, w->url);
        schedule_reconnect(w);
    }
}

/* Every second: ping when we have been quiet, reconnect when OKX has. */
static void on_tick(void *arg)
{
    okx_ws *w = arg;
    if (!w->open) {
        return;
    }
    int64_t now = now_ms(w);
    if (now - w->last_rx_ms > w->idle_ms) {
        w->h->log(w->inst, AT_LOG_WARN, "ws %s: nothing received for %lld ms; reconnecting",
                  w->name, (long long)(now - w->last_rx_ms));
        go_down(w, "idle");
        return;
    }
    if (now - w->last_tx_ms >= w->ping_ms && now - w->last_rx_ms >= w->ping_ms / 2) {
        send_text(w, "ping");
    }
}

okx_ws *okx_ws_new(const at_host *h, at_instance *inst, const okx_ws_opts *o, const okx_ws_cbs *cbs,
                   void *arg)
{
    okx_ws *w = calloc(1, sizeof(*w));
    if (!w || !o || !o->url) {
        free(w);
        return NULL;
    }
    w->h = h;
    w->inst = inst;
    w->cbs = *cbs;
    w->arg = arg;
    w->url = dup(o->url);
    w->proxy = o->proxy;
    w->m_reconnects = o->reconnects;
    w->name = dup(o->name ? o->name : "ws");
    if (o->api_key && o->secret && o->passphrase) {
        w->key = dup(o->api_key);
        w->secret = dup(o->secret);
        w->pass = dup(o->passphrase);
    }
    w->ping_ms = o->ping_ms > 0 ? o->ping_ms : 20000;
    w->idle_ms = o->idle_ms > 0 ? o->idle_ms : 30000;
    w->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : 500;
    w->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 30000;
    w->backoff_ms = w->backoff_min_ms;
    w->rng = (uint64_t)h->now_us() | 1;
    if (!w->url || !w->name) {
        okx_ws_free(w);
        return NULL;
    }
    return w;
}

int okx_ws_start(okx_ws *w)
{
    if (w->started) {
        return AT_OK;
    }
    w->started = true;
    w->ping = w->h->timer_add(w->inst, 1000, 1000, on_tick, w);
    connect_now(w);
    return AT_OK;
}

void okx_ws_free(okx_ws *w)
{
    if (!w) {
        return;
    }
    w->started = false;
    if (w->ping) {
        w->h->timer_cancel(w->ping);
    }
    if (w->reconnect) {
        w->h->timer_cancel(w->reconnect);
    }
    if (w->ws) {
        at_ws *ws = w->ws;
        w->ws = NULL;
        w->h->ws_close(ws);
    }
    while (w->subs) {
        sub *n = w->subs->next;
        free(w->subs->arg);
        free(w->subs);
        w->subs = n;
    }
    free(w->url);
    free(w->name);
    free(w->key);
    if (w->secret) {
        memset(w->secret, 0, strlen(w->secret));
    }
    free(w->secret);
    free(w->pass);
    free(w);
}

int okx_ws_subscribe(okx_ws *w, const char *arg_json)
{
    for (sub *s = w->subs; s; s = s->next) {
        if (strcmp(s->arg, arg_json) == 0) {
            return AT_OK;
        }
    }
    sub *s = calloc(1, sizeof(*s));
    if (!s || !(s->arg = dup(arg_json))) {
        free(s);
        return AT_ENOMEM;
    }
    /* Append: subscriptions go out in the order they were asked for. */
    sub **pp = &w->subs;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = s;
    if (w->up) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "{\"op\":\"subscribe\",\"args\":[%s]}", arg_json);
        send_text(w, buf);
    }
    return AT_OK;
}

int okx_ws_unsubscribe(okx_ws *w, const char *arg_json)
{
    for (sub **pp = &w->subs; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->arg, arg_json) == 0) {
            sub *s = *pp;
            *pp = s->next;
            free(s->arg);
            free(s);
            break;
        }
    }
    if (w->up) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "{\"op\":\"unsubscribe\",\"args\":[%s]}", arg_json);
        send_text(w, buf);
    }
    return AT_OK;
}

int okx_ws_resubscribe(okx_ws *w, const char *arg_json)
{
    int rc = okx_ws_unsubscribe(w, arg_json);
    return rc == AT_OK ? okx_ws_subscribe(w, arg_json) : rc;
}

int okx_ws_send(okx_ws *w, const char *json)
{
    return w->up ? send_text(w, json) : AT_ESTATE;
}

bool okx_ws_up(const okx_ws *w)
{
    return w->up;
}

int okx_ws_reconnects(const okx_ws *w)
{
    return w->reconnects;
}

/* Leverage: the configured one set at start, an intent's set before its
 * place goes out, and what OKX has remembered per instrument, margin mode
 * and side (from set-leverage answers and position pushes) so an intent
 * that asks for the leverage already in force costs no extra call. OKX
 * keeps one leverage per instrument and margin mode, and per position side
 * only for isolated margin in long/short mode: that is a key here.
 *
 * One leverage per key means two places asking for different ones must not
 * interleave (A's set-leverage 5 answered, B's set-leverage 10 sent, A's
 * place executed at 10x). So each key is held: a place holds it at the
 * leverage it relied on from its ensure until its answer
 * (okx_lever_release); an ensure for another leverage waits in the key's
 * queue (FIFO) until no place holds it; one for the same leverage goes at
 * once, unless another already waits (then it waits its turn: a stream of
 * places at one leverage cannot starve a place at another). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_order.h"
#include "okx_plugin.h"

#define LEVER_PATH "/api/v5/account/set-leverage"

/* The side a leverage is kept under: long/short only where OKX keeps one
 * per side. */
static at_pos_side key_side(const okx_ctx *c, bool iso, const char *pos_side)
{
    if (!iso || !c->long_short || !pos_side) {
        return AT_POS_NET;
    }
    return strcmp(pos_side, "long") == 0    ? AT_POS_LONG
           : strcmp(pos_side, "short") == 0 ? AT_POS_SHORT
                                            : AT_POS_NET;
}

static okx_lever *find(okx_ctx *c, const char *inst_id, bool iso, at_pos_side side)
{
    for (size_t i = 0; i < c->nlevers; i++) {
        okx_lever *l = &c->levers[i];
        if (l->iso == iso && l->side == side && strcmp(l->inst_id, inst_id) == 0) {
            return l;
        }
    }
    return NULL;
}

static bool key_busy(const okx_ctx *c, const okx_lever *l);

static void forget(okx_ctx *c, size_t i)
{
    memmove(&c->levers[i], &c->levers[i + 1], (c->nlevers - i - 1) * sizeof(c->levers[0]));
    c->nlevers--;
}

/* c->levers is oldest first: a leverage told again moves to the end and one
 * forgotten leaves the rest in order, so a full table forgets the one told
 * longest ago (a swap from the end, as before, could forget the newest).
 * Forgetting is always safe: an entry only spares a set-leverage call. Who
 * holds a key or waits for it is not kept here but in the key's
 * okx_lever_key (below), so a key forgotten while busy keeps its holders and
 * its queue; only its next place at the held leverage would set it again,
 * which is why a full table forgets one no place holds when it can. */
void okx_lever_note(okx_ctx *c, const char *inst_id, const char *mgn_mode, const char *pos_side,
                    at_dec lever)
{
    bool iso = mgn_mode && strcmp(mgn_mode, "isolated") == 0;
    at_pos_side side = key_side(c, iso, pos_side);
    okx_lever *l = find(c, inst_id, iso, side);
    if (l) {
        forget(c, (size_t)(l - c->levers));
    }
    if (lever.m <= 0) { /* unknown now: the next intent that asks sets it */
        return;
    }
    if (c->nlevers == OKX_MAX_LEVERS) {
        size_t i = 0;
        while (i < c->nlevers && key_busy(c, &c->levers[i])) {
            i++;
        }
        forget(c, i < c->nlevers ? i : 0);
    }
    l = &c->levers[c->nlevers++];
    snprintf(l->inst_id, sizeof(l->inst_id), "%s", inst_id);
    l->iso = iso;
    l->side = side;
    l->lever = lever;
}

/* ------------------------------------------------------------ holding keys */

/* Places waiting on one key, at most: past it an ensure is refused (said,
 * with the count), never queued without bound nor dropped silently. */
#define LEVER_QUEUE_MAX 64

typedef enum hold_state {
    HOLD_QUEUED,  /* waiting for the key */
    HOLD_SETTING, /* its set-leverage is in flight (the key's setting) */
    HOLD_HELD,    /* the leverage is in force: the place may go */
    HOLD_FAILED,  /* told it failed; its owner releases it */
    HOLD_STOPPED, /* stop: to be told it failed */
} hold_state;

typedef struct okx_lever_key lever_key;
typedef struct lever_call lever_call;

struct okx_lever_hold {
    lever_key *k;
    okx_lever_hold *prev, *next; /* the key's holds, in arrival order */
    at_dec want;
    bool force; /* set-leverage even if OKX is known to have it (start) */
    hold_state state;
    okx_lever_cb done; /* NULL: the start's, released once told */
    void *arg;
};

/* A key someone holds or waits for (freed when nobody does). Its busy
 * state lives here, not in c->levers: forgetting a known leverage there
 * never touches a queue. */
struct okx_lever_key {
    okx_ctx *c;
    lever_key *next; /* c->lever_keys */
    char inst_id[OKX_INST_ID_LEN];
    bool iso;
    at_pos_side side;
    at_dec lever;        /* what the HELD holds rely on */
    unsigned held;       /* holds HELD */
    unsigned queued;     /* holds QUEUED */
    lever_call *setting; /* the set-leverage in flight, or NULL */
    okx_lever_hold *first, *last;
    unsigned depth; /* calls on this key under way (enter/leave) */
};

/* One set-leverage call in flight. */
struct lever_call {
    lever_key *k;
    okx_lever_hold *h; /* NULL: released meanwhile (its answer is still noted) */
    at_dec want;
};

static const char *mgn_mode_of(const lever_key *k)
{
    return k->iso ? "isolated" : "cross";
}

static const char *pos_side_of(const lever_key *k)
{
    return k->side == AT_POS_LONG ? "long" : k->side == AT_POS_SHORT ? "short" : "";
}

static lever_key *key_get(okx_ctx *c, const char *inst_id, bool iso, at_pos_side side)
{
    for (lever_key *k = c->lever_keys; k; k = k->next) {
        if (k->iso == iso && k->side == side && strcmp(k->inst_id, inst_id) == 0) {
            return k;
        }
    }
    lever_key *k = calloc(1, sizeof(*k));
    if (!k) {
        return NULL;
    }
    k->c = c;
    snprintf(k->inst_id, sizeof(k->inst_id), "%s", inst_id);
    k->iso = iso;
    k->side = side;
    k->next = c->lever_keys;
    c->lever_keys = k;
    return k;
}

static void hold_unlink(lever_key *k, okx_lever_hold *h)
{
    *(h->prev ? &h->prev->next : &k->first) = h->next;
    *(h->next ? &h->next->prev : &k->last) = h->prev;
    h->prev = h->next = NULL;
}

/* Someone holds l's key or waits for it. */
static bool key_busy(const okx_ctx *c, const okx_lever *l)
{
    for (const lever_key *k = c->lever_keys; k; k = k->next) {
        if (k->iso == l->iso && k->side == l->side && strcmp(k->inst_id, l->inst_id) == 0) {
            return true;
        }
    }
    return false;
}

static okx_lever_hold *first_in(const lever_key *k, hold_state st)
{
    for (okx_lever_hold *h = k->first; h; h = h->next) {
        if (h->state == st) {
            return h;
        }
    }
    return NULL;
}

/* Whether a hold for `want` may go now, the queue aside. */
static bool key_allows(const lever_key *k, at_dec want)
{
    return !k->setting && (k->held == 0 || k->c->h->dec_cmp(k->lever, want) == 0);
}

/* A hold's outcome to its owner, who releases it (the start's releases
 * itself). The owner may call back into this file meanwhile. */
static void tell(okx_lever_hold *h, bool ok, const char *code, const char *msg)
{
    if (h->done) {
        h->done(h->arg, ok, code, msg);
    } else {
        okx_lever_release(h);
    }
}

/* Calls on a key nest: an owner told an outcome may release its hold or
 * ask again on the same key before the call that told it returns. Only the
 * outermost leave lets waiting holds go (seeing every change made under
 * it) and frees the key once nobody holds or waits for it. */
static void enter(lever_key *k)
{
    k->depth++;
}

static int start_hold(lever_key *k, okx_lever_hold *h, char *why, size_t whylen);

static void leave(lever_key *k)
{
    if (k->depth > 1) {
        k->depth--;
        return;
    }
    okx_lever_hold *h;
    while ((h = first_in(k, HOLD_QUEUED)) && key_allows(k, h->want)) {
        k->queued--;
        char why[160] = "";
        int rc = start_hold(k, h, why, sizeof(why));
        if (rc == 0) {
            tell(h, true, "", "");
        } else if (rc < 0) {
            tell(h, false, "", why);
        }
    }
    k->depth--;
    if (!k->setting && !k->first) {
        for (lever_key **p = &k->c->lever_keys; *p; p = &(*p)->next) {
            if (*p == k) {
                *p = k->next;
                break;
            }
        }
        free(k);
    }
}

/* ------------------------------------------------------------ set-leverage */

/* What OKX answered, remembered; false with the venue's code and message. */
static bool note_answer(const lever_key *k, at_dec want, const okx_reply *r)
{
    okx_ctx *c = k->c;
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !d) {
        /* Failed, or no answer: whatever OKX has now is not known. */
        okx_lever_note(c, k->inst_id, mgn_mode_of(k), pos_side_of(k), (at_dec){0, 0});
        return false;
    }
    at_dec lv = want;
    const char *s = okx_jstr(d, "lever");
    at_dec got;
    if (*s && c->h->dec_parse(s, (size_t)-1, &got) == AT_OK && got.m > 0) {
        lv = got;
    }
    okx_lever_note(c, k->inst_id, mgn_mode_of(k), pos_side_of(k), lv);
    return true;
}

static void on_set(void *arg, const okx_reply *r)
{
    lever_call *call = arg;
    lever_key *k = call->k;
    okx_ctx *c = k->c;
    bool ok = note_answer(k, call->want, r);
    const char *code = *r->code ? r->code : "";
    const char *msg = *r->msg ? r->msg : (ok ? "" : "set-leverage: no answer");
    if (!ok) {
        c->h->log(c->inst, AT_LOG_ERROR, "set-leverage %s %s%s%s failed: %s %s", k->inst_id,
                  mgn_mode_of(k), *pos_side_of(k) ? " " : "", pos_side_of(k), code, msg);
    }
    okx_lever_hold *h = call->h;
    free(call);
    enter(k);
    k->setting = NULL;
    if (h) {
        h->state = ok ? HOLD_HELD : HOLD_FAILED;
        if (ok) {
            k->held++;
        }
        /* Its place goes before any waiting one the key now allows. */
        tell(h, ok, code, msg);
    }
    leave(k);
}

/* set-leverage for h on its key; the key's setting until answered. */
static int send_set(lever_key *k, okx_lever_hold *h, char *why, size_t whylen)
{
    okx_ctx *c = k->c;
    char lv[AT_DEC_STRLEN];
    if (h->want.m <= 0 || okx_fmt(c->h, h->want, lv) <= 0) {
        snprintf(why, whylen, "leverage cannot be written");
        return AT_EINVAL;
    }
    lever_call *call = calloc(1, sizeof(*call));
    if (!call) {
        snprintf(why, whylen, "set-leverage: out of memory");
        return AT_ENOMEM;
    }
    call->k = k;
    call->h = h;
    call->want = h->want;
    /* Built by jansson like every request body: whatever the instrument id
     * holds, it is escaped, never spliced into the JSON. posSide only where
     * OKX keeps a leverage per side (isolated, long/short mode). */
    json_t *b = json_object();
    bool ok = okx_put(b, "instId", json_string(k->inst_id));
    ok &= okx_put_dec(c, b, "lever", h->want);
    ok &= okx_put(b, "mgnMode", json_string(mgn_mode_of(k)));
    if (*pos_side_of(k)) {
        ok &= okx_put(b, "posSide", json_string(pos_side_of(k)));
    }
    char *body = ok ? okx_json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    if (!body) {
        snprintf(why, whylen, "set-leverage %s: the request could not be built", k->inst_id);
        free(call);
        return AT_ENOMEM;
    }
    int rc = okx_rest_post(c->rest, LEVER_PATH, body, on_set, call);
    free(body);
    if (rc != AT_OK) {
        snprintf(why, whylen, "set-leverage could not be sent (error %d)", rc);
        free(call);
        return rc < 0 ? rc : AT_EIO;
    }
    k->setting = call;
    return 1;
}

/* The key allows h: 0 when its leverage is in force (h HELD), 1 when its
 * set-leverage went out (h SETTING), < 0 when that could not be sent (h
 * FAILED, why filled). */
static int start_hold(lever_key *k, okx_lever_hold *h, char *why, size_t whylen)
{
    if (k->held == 0) {
        k->lever = h->want;
    }
    const okx_lever *l = find(k->c, k->inst_id, k->iso, k->side);
    if (!h->force && l && k->c->h->dec_cmp(l->lever, h->want) == 0) {
        h->state = HOLD_HELD;
        k->held++;
        return 0;
    }
    int rc = send_set(k, h, why, whylen);
    h->state = rc < 0 ? HOLD_FAILED : HOLD_SETTING;
    return rc;
}

static int acquire(okx_ctx *c, const char *inst_id, bool iso, const char *pos_side, at_dec want,
                   bool force, okx_lever_cb done, void *arg, okx_lever_hold **out, char *why,
                   size_t whylen)
{
    *out = NULL;
    if (want.m <= 0) {
        snprintf(why, whylen, "leverage must be positive");
        return AT_EINVAL;
    }
    lever_key *k = key_get(c, inst_id, iso, key_side(c, iso, pos_side));
    okx_lever_hold *h = k ? calloc(1, sizeof(*h)) : NULL;
    if (!h) {
        snprintf(why, whylen, "set-leverage: out of memory");
        if (k) {
            enter(k);
            leave(k); /* frees it if nobody else holds it */
        }
        return AT_ENOMEM;
    }
    enter(k);
    int rc = 1;
    if (k->queued >= LEVER_QUEUE_MAX) {
        snprintf(why, whylen, "%u orders already wait for a leverage change on %s %s%s%s: not sent",
                 k->queued, k->inst_id, mgn_mode_of(k), *pos_side_of(k) ? " " : "", pos_side_of(k));
        free(h);
        leave(k);
        return AT_EAGAIN;
    }
    h->k = k;
    h->want = want;
    h->force = force;
    h->done = done;
    h->arg = arg;
    h->prev = k->last;
    *(k->last ? &k->last->next : &k->first) = h;
    k->last = h;
    if (k->queued == 0 && key_allows(k, want)) {
        rc = start_hold(k, h, why, whylen);
    } else {
        h->state = HOLD_QUEUED;
        k->queued++;
    }
    if (rc < 0) {
        hold_unlink(k, h);
        free(h);
        h = NULL;
    }
    *out = h;
    leave(k); /* h, if queued, waits behind a hold the key does not allow yet */
    return rc;
}

/* ------------------------------------------------------------ API */

int okx_lever_ensure(okx_ctx *c, const char *inst_id, bool iso, const char *pos_side, at_dec want,
                     okx_lever_cb done, void *arg, okx_lever_hold **hold, char *why, size_t whylen)
{
    return acquire(c, inst_id, iso, pos_side, want, false, done, arg, hold, why, whylen);
}

void okx_lever_release(okx_lever_hold *h)
{
    if (!h) {
        return;
    }
    lever_key *k = h->k;
    enter(k);
    switch (h->state) {
    case HOLD_HELD:
        k->held--;
        break;
    case HOLD_QUEUED:
        k->queued--;
        break;
    case HOLD_SETTING:
        k->setting->h = NULL;
        break;
    case HOLD_FAILED:
    case HOLD_STOPPED:
        break;
    }
    hold_unlink(k, h);
    free(h);
    leave(k);
}

void okx_lever_start(okx_ctx *c)
{
    bool iso = c->td_mode == 1;
    const char *sides[2] = {"long", "short"};
    /* Isolated margin in long/short mode has a leverage per side. */
    int n = iso && c->long_short ? 2 : 1;
    at_dec want = {c->leverage, 0};
    for (size_t i = 0; i < c->nwatch; i++) {
        for (int k = 0; k < n; k++) {
            char why[160];
            okx_lever_hold *h;
            /* Set even where OKX is known to have it (the configured one is
             * set at every start), in turn with places on the same key;
             * released once answered. */
            int rc = acquire(c, c->watch[i].inst->inst_id, iso, n == 2 ? sides[k] : NULL, want,
                             true, NULL, NULL, &h, why, sizeof(why));
            if (rc < 0) {
                c->h->log(c->inst, AT_LOG_ERROR, "%s: %s", c->watch[i].inst->inst_id, why);
            } else if (rc == 0) {
                okx_lever_release(h);
            }
        }
    }
}

void okx_lever_stop(okx_ctx *c)
{
    while (c->lever_keys) {
        lever_key *k = c->lever_keys;
        c->lever_keys = k->next;
        k->depth++; /* freed here, not by a release made while telling */
        if (k->setting) {
            /* its REST call goes with the stop, unanswered */
            if (k->setting->h) {
                k->setting->h->state = HOLD_STOPPED;
            }
            free(k->setting);
            k->setting = NULL;
        }
        for (okx_lever_hold *h = k->first; h; h = h->next) {
            if (h->state == HOLD_QUEUED) {
                h->state = HOLD_STOPPED;
                k->queued--;
            }
        }
        /* Every hold still waiting for an outcome gets one; its owner
         * releases it meanwhile (so: one at a time, the list looked at
         * again after each). */
        okx_lever_hold *h;
        while ((h = first_in(k, HOLD_STOPPED))) {
            h->state = HOLD_FAILED;
            tell(h, false, "", "the exchange stopped before the leverage was set");
        }
        /* Left: holds of places in flight (their REST calls go with the
         * stop, unanswered) and failed ones not released yet. */
        while ((h = k->first)) {
            k->first = h->next;
            free(h);
        }
        free(k);
    }
}

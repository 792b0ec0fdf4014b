/* Leverage: the configured one set at start, an intent's set before its
 * place goes out, and what OKX has remembered per instrument, margin mode
 * and side (from set-leverage answers and position pushes) so an intent
 * that asks for the leverage already in force costs no extra call. OKX
 * keeps one leverage per instrument and margin mode, and per position side
 * only for isolated margin in long/short mode. */
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

void okx_lever_note(okx_ctx *c, const char *inst_id, const char *mgn_mode, const char *pos_side,
                    at_dec lever)
{
    bool iso = mgn_mode && strcmp(mgn_mode, "isolated") == 0;
    at_pos_side side = key_side(c, iso, pos_side);
    okx_lever *l = find(c, inst_id, iso, side);
    if (lever.m <= 0) {
        if (l) { /* unknown now: the next intent that asks sets it */
            *l = c->levers[--c->nlevers];
        }
        return;
    }
    if (!l) {
        if (c->nlevers == OKX_MAX_LEVERS) {
            /* Forgetting one only costs a set-leverage call later. */
            memmove(&c->levers[0], &c->levers[1], (OKX_MAX_LEVERS - 1) * sizeof(c->levers[0]));
            c->nlevers--;
        }
        l = &c->levers[c->nlevers++];
        snprintf(l->inst_id, sizeof(l->inst_id), "%s", inst_id);
        l->iso = iso;
        l->side = side;
    }
    l->lever = lever;
}

/* One set-leverage call in flight. */
typedef struct lever_call {
    okx_ctx *c;
    char inst_id[OKX_INST_ID_LEN];
    char mgn_mode[16], pos_side[8];
    at_dec want;
    okx_lever_cb done; /* NULL: the start's, only logged */
    void *arg;
} lever_call;

/* What OKX answered, remembered; false with the venue's code and message. */
static bool note_answer(lever_call *k, const okx_reply *r)
{
    okx_ctx *c = k->c;
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !d) {
        /* Failed, or no answer: whatever OKX has now is not known. */
        okx_lever_note(c, k->inst_id, k->mgn_mode, k->pos_side, (at_dec){0, 0});
        return false;
    }
    at_dec lv = k->want;
    const char *s = okx_jstr(d, "lever");
    at_dec got;
    if (*s && c->h->dec_parse(s, (size_t)-1, &got) == AT_OK && got.m > 0) {
        lv = got;
    }
    okx_lever_note(c, k->inst_id, k->mgn_mode, k->pos_side, lv);
    return true;
}

static void on_set(void *arg, const okx_reply *r)
{
    lever_call *k = arg;
    okx_ctx *c = k->c;
    bool ok = note_answer(k, r);
    const char *code = *r->code ? r->code : "";
    const char *msg = *r->msg ? r->msg : (ok ? "" : "set-leverage: no answer");
    if (!ok) {
        c->h->log(c->inst, AT_LOG_ERROR, "set-leverage %s %s%s%s failed: %s %s", k->inst_id,
                  k->mgn_mode, *k->pos_side ? " " : "", k->pos_side, code, msg);
    }
    if (k->done) {
        k->done(k->arg, ok, code, msg);
    }
    free(k);
}

static int send_set(okx_ctx *c, const char *inst_id, bool iso, const char *pos_side, at_dec want,
                    okx_lever_cb done, void *arg, char *why, size_t whylen)
{
    char lv[AT_DEC_STRLEN];
    if (want.m <= 0 || okx_fmt(c->h, want, lv) <= 0) {
        snprintf(why, whylen, "leverage cannot be written");
        return AT_EINVAL;
    }
    lever_call *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(why, whylen, "set-leverage: out of memory");
        return AT_ENOMEM;
    }
    k->c = c;
    snprintf(k->inst_id, sizeof(k->inst_id), "%s", inst_id);
    snprintf(k->mgn_mode, sizeof(k->mgn_mode), "%s", iso ? "isolated" : "cross");
    /* posSide only where OKX keeps a leverage per side (isolated, hedge). */
    at_pos_side side = key_side(c, iso, pos_side);
    snprintf(k->pos_side, sizeof(k->pos_side), "%s",
             side == AT_POS_LONG    ? "long"
             : side == AT_POS_SHORT ? "short"
                                    : "");
    k->want = want;
    k->done = done;
    k->arg = arg;
    /* Built by jansson like every request body: whatever the instrument id
     * holds, it is escaped, never spliced into the JSON. */
    json_t *b = json_object();
    bool ok = okx_put(b, "instId", json_string(k->inst_id));
    ok &= okx_put_dec(c, b, "lever", want);
    ok &= okx_put(b, "mgnMode", json_string(k->mgn_mode));
    if (*k->pos_side) {
        ok &= okx_put(b, "posSide", json_string(k->pos_side));
    }
    char *body = ok ? okx_json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    if (!body) {
        snprintf(why, whylen, "set-leverage %s: the request could not be built", k->inst_id);
        free(k);
        return AT_ENOMEM;
    }
    int rc = okx_rest_post(c->rest, LEVER_PATH, body, on_set, k);
    free(body);
    if (rc != AT_OK) {
        snprintf(why, whylen, "set-leverage could not be sent (error %d)", rc);
        free(k);
        return rc < 0 ? rc : AT_EIO;
    }
    return 1;
}

int okx_lever_ensure(okx_ctx *c, const char *inst_id, bool iso, const char *pos_side, at_dec want,
                     okx_lever_cb done, void *arg, char *why, size_t whylen)
{
    const okx_lever *l = find(c, inst_id, iso, key_side(c, iso, pos_side));
    if (l && c->h->dec_cmp(l->lever, want) == 0) {
        return 0;
    }
    return send_set(c, inst_id, iso, pos_side, want, done, arg, why, whylen);
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
            char why[128];
            if (send_set(c, c->watch[i].inst->inst_id, iso, n == 2 ? sides[k] : NULL, want, NULL,
                         NULL, why, sizeof(why)) < 0) {
                c->h->log(c->inst, AT_LOG_ERROR, "%s: %s", c->watch[i].inst->inst_id, why);
            }
        }
    }
}

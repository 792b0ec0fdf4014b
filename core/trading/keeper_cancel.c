/* The keeper's cancels (keeper.h): an id per attempt, and what a refusal
 * means. The venue stores every op under its intent id and refuses a second
 * intent with an id it has, so an attempt that was refused (a rate limit, an
 * outcome unknown), or one a previous run made, must not be repeated under
 * the same id: each is "<base>/<n>", the base naming the order and its
 * deadline (or the algo order), n counting on from the highest stored. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "keeper_internal.h"

void kp_cancel_init(kp_cancel *c, const char *prefix, const char *key)
{
    memset(c, 0, sizeof(*c));
    size_t np = strlen(prefix), room = AT_ID_LEN - 1 - 1 - KEEP_N_DIGITS - np;
    if (strlen(key) <= room) {
        snprintf(c->base, sizeof(c->base), "%s%s", prefix, key);
        return;
    }
    /* Too long (a 30-character clOrdId and a 13-digit deadline): as many hex
     * digits of its SHA-256 as fit, 112 bits at least, never a clash in
     * practice. */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL) != 1) {
        n = 0;
    }
    char *p = c->base + np;
    memcpy(c->base, prefix, np);
    for (size_t i = 0; i < room && i / 2 < n; i++) {
        *p++ = "0123456789abcdef"[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    }
    *p = '\0';
    if (n == 0) {
        /* no digest: the key cut to fit, still this order's */
        snprintf(c->base, sizeof(c->base), "%s%.*s", prefix, (int)room, key);
    }
}

bool kp_cancel_next(kp_cancel *c)
{
    if (c->last_n >= KEEP_N_MAX) {
        return false;
    }
    c->last_n++;
    /* base leaves room for "/" and KEEP_N_DIGITS (kp_cancel_init) */
    char id[AT_ID_LEN + 16];
    int n = snprintf(id, sizeof(id), "%s/%d", c->base, c->last_n);
    memcpy(c->id, id, n > 0 && n < AT_ID_LEN ? (size_t)n + 1 : 1);
    c->id[AT_ID_LEN - 1] = '\0';
    return n > 0 && n < AT_ID_LEN;
}

int kp_cancel_used(const kp_cancel *c, const char *id)
{
    size_t n = strlen(c->base);
    if (!id || strncmp(id, c->base, n) != 0 || id[n] != '/' || !id[n + 1]) {
        return 0;
    }
    for (const char *p = id + n + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || p - (id + n + 1) >= KEEP_N_DIGITS) {
            return 0;
        }
    }
    return atoi(id + n + 1);
}

/* Refusals that say the order (or algo order) is no longer there to cancel:
 * filled, cancelled, or never placed. Anything else may pass. */
static bool final_refusal(const char *code)
{
    static const char *const gone[] = {"51400", "51401", "51402", "51603"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        if (strcmp(code, gone[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool kp_cancel_refused(keeper *k, kp_cancel *c, const at_ev_order_result *r, const char *what,
                       int64_t now)
{
    const char *msg = r->msg ? r->msg : "";
    const char *sp = r->code[0] && msg[0] ? " " : "";
    c->sent = false;
    c->id[0] = '\0';
    if (final_refusal(r->code)) {
        k->h->log(k->self, AT_LOG_WARN, "%s was refused: %s%s%s (nothing left to cancel)", what,
                  r->code, sp, msg);
        return false;
    }
    c->refused++;
    if (c->refused >= KEEP_CANCEL_TRIES) {
        char text[512];
        snprintf(text, sizeof(text),
                 "%s was refused %d times (last: %s%s%s): no longer tried; cancel it by hand", what,
                 c->refused, r->code, sp, msg);
        k->st.cancels_given_up++;
        kp_alert(k, text);
        return false;
    }
    int64_t wait = (int64_t)KEEP_RETRY_MS << (c->refused - 1);
    char after[32];
    kp_fmt_ms(after, sizeof(after), wait);
    c->retry_ms = now + wait;
    k->st.cancel_retries++;
    k->h->log(k->self, AT_LOG_WARN, "%s was refused: %s%s%s; tried again in %s (%d of %d)", what,
              r->code, sp, msg, after, c->refused + 1, KEEP_CANCEL_TRIES);
    return true;
}

void kp_alert(keeper *k, const char *msg)
{
    k->h->log(k->self, AT_LOG_ERROR, "%s", msg);
    at_ev_alert *ev = (at_ev_alert *)k->h->event_new(k->self, AT_EV_ALERT, strlen(msg) + 1);
    if (!ev) {
        return;
    }
    ev->level = AT_LOG_ERROR;
    ev->message = k->h->event_strdup(&ev->h, msg);
    k->h->publish(k->self, &ev->h, 0);
}

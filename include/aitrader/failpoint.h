/**
 * @file failpoint.h
 * @brief Test failpoints: a real `kill -9` of the engine at a named point.
 *
 * A test facility, off unless the environment arms it:
 *
 *     AITRADER_FAILPOINTS=okx.order_stored          the first hit
 *     AITRADER_FAILPOINTS=exec.before_submit@3      the third hit
 *     AITRADER_FAILPOINTS=a@2,b                     whichever comes first
 *
 * When an armed point is hit it writes one line to stderr
 * ("failpoint NAME: hit N: SIGKILL") and raises SIGKILL: nothing is flushed,
 * no handler runs, storage writes still queued are lost, as in a crash or an
 * OOM kill. Tests use it to prove what a restart recovers.
 *
 * Cost when unset: one load and compare of a cached flag per call (the
 * environment is read once, at the first call in each file that has points).
 * Hits are counted per file: a name placed in two files counts in each.
 * Call from the main loop thread only (the state is not locked).
 *
 * The engine refuses to start (exit 2) when the variable names an unknown
 * point or is malformed, and logs a warning naming what is armed, so a typo
 * cannot leave a test waiting for a kill that never comes. A point added in
 * the code is added to AT_FAILPOINT_NAMES too.
 *
 * No ABI: everything here is static inline; a plugin that includes this
 * header carries its own copy.
 */
#ifndef AITRADER_FAILPOINT_H
#define AITRADER_FAILPOINT_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Every failpoint in the code, separated by spaces:
 *  - trader.decision_stored: storage confirmed a trader's decisions row
 *    (core/trading/trader_store.c); its intents were published when the
 *    write was queued, and as storage confirms in queue order none of them
 *    has gone to the venue yet (their orders rows may be stored);
 *  - exec.before_submit: the executor approved an intent, the venue's
 *    submit is next (core/trading/executor.c);
 *  - okx.order_stored: exchange_okx's orders row is stored, the request is
 *    not sent yet;
 *  - okx.order_sent: OKX answered a request (the order exists there), the
 *    answer is not processed yet (plugins/exchange_okx/okx_trade.c). */
#define AT_FAILPOINT_NAMES                                                                         \
    "trader.decision_stored exec.before_submit okx.order_stored okx.order_sent"

/** The environment variable that arms failpoints. */
#define AT_FAILPOINT_ENV "AITRADER_FAILPOINTS"

#define AT_FAILPOINT_MAX 16
#define AT_FAILPOINT_NAME_LEN 48

/** One armed point. */
typedef struct at_failpoint_arm {
    char name[AT_FAILPOINT_NAME_LEN];
    unsigned long nth;  /**< the hit that kills, from 1 */
    unsigned long hits; /**< hits so far (in this file) */
} at_failpoint_arm;

/** The armed points of one file. state: -1 not read yet, 0 nothing armed, 1 armed. */
typedef struct at_failpoints {
    int state;
    size_t n;
    at_failpoint_arm v[AT_FAILPOINT_MAX];
} at_failpoints;

/** True when `name` (len bytes) is one of AT_FAILPOINT_NAMES. */
static inline int at_failpoint_known(const char *name, size_t len)
{
    const char *p = AT_FAILPOINT_NAMES;
    while (*p) {
        size_t k = strcspn(p, " ");
        if (k == len && strncmp(p, name, len) == 0) {
            return 1;
        }
        p += k;
        p += *p == ' ';
    }
    return 0;
}

/**
 * Parse a spec (the variable's value) into `out`. NULL or "" arms nothing.
 * Returns 0, or -1 with the reason in err (borrowed buffers).
 */
static inline int at_failpoints_parse(const char *spec, at_failpoints *out, char *err,
                                      size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *p = spec ? spec : "";
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *at = (const char *)memchr(p, '@', len);
        size_t nlen = at ? (size_t)(at - p) : len;
        unsigned long nth = 1;
        if (at) {
            char num[24];
            size_t dl = len - nlen - 1;
            if (dl == 0 || dl >= sizeof(num) || strspn(at + 1, "0123456789") < dl) {
                snprintf(err, errlen, "%s: '%.*s': the hit after @ must be a number from 1",
                         AT_FAILPOINT_ENV, (int)len, p);
                return -1;
            }
            memcpy(num, at + 1, dl);
            num[dl] = '\0';
            nth = strtoul(num, NULL, 10);
            if (nth == 0) {
                snprintf(err, errlen, "%s: '%.*s': the hit after @ must be a number from 1",
                         AT_FAILPOINT_ENV, (int)len, p);
                return -1;
            }
        }
        if (!at_failpoint_known(p, nlen)) {
            snprintf(err, errlen, "%s: unknown failpoint '%.*s' (known: %s)", AT_FAILPOINT_ENV,
                     (int)nlen, p, AT_FAILPOINT_NAMES);
            return -1;
        }
        if (out->n == AT_FAILPOINT_MAX) {
            snprintf(err, errlen, "%s: more than %d entries", AT_FAILPOINT_ENV, AT_FAILPOINT_MAX);
            return -1;
        }
        at_failpoint_arm *a = &out->v[out->n++];
        memcpy(a->name, p, nlen); /* known names are shorter than the buffer */
        a->name[nlen] = '\0';
        a->nth = nth;
        p += len;
        p += *p == ',';
    }
    out->state = out->n > 0;
    return 0;
}

/**
 * Check the environment at start. Returns -1 with the reason in msg when the
 * variable is malformed; 0 otherwise, with msg empty (nothing armed) or
 * saying what is armed (for a warning in the log).
 */
static inline int at_failpoints_check(char *msg, size_t msglen)
{
    at_failpoints fp;
    const char *spec = getenv(AT_FAILPOINT_ENV);
    msg[0] = '\0';
    if (at_failpoints_parse(spec, &fp, msg, msglen) < 0) {
        return -1;
    }
    if (fp.n > 0) {
        snprintf(msg, msglen,
                 "%s=%s: this process kills itself (SIGKILL) at these points (a test "
                 "facility, never for production)",
                 AT_FAILPOINT_ENV, spec);
    }
    return 0;
}

/** This file's armed points (each file that includes the header has its own). */
static inline at_failpoints *at_failpoints_here(void)
{
    static at_failpoints fp = {-1, 0, {{"", 0, 0}}};
    return &fp;
}

static inline void at_failpoint_hit(at_failpoints *fp, const char *name)
{
    if (fp->state < 0) {
        char err[256];
        if (at_failpoints_parse(getenv(AT_FAILPOINT_ENV), fp, err, sizeof(err)) < 0) {
            /* The engine refused this at start; a plugin loaded elsewhere says it. */
            fprintf(stderr, "failpoint: %s: nothing armed\n", err);
            fp->state = 0;
            return;
        }
    }
    for (size_t i = 0; i < fp->n; i++) {
        at_failpoint_arm *a = &fp->v[i];
        if (strcmp(a->name, name) == 0 && ++a->hits == a->nth) {
            fprintf(stderr, "failpoint %s: hit %lu: SIGKILL\n", name, a->hits);
            raise(SIGKILL);
        }
    }
}

/** A failpoint: kills the process here when AITRADER_FAILPOINTS arms `name`. */
static inline void at_failpoint(const char *name)
{
    at_failpoints *fp = at_failpoints_here();
    if (fp->state != 0) {
        at_failpoint_hit(fp, name);
    }
}

#ifdef __cplusplus
}
#endif

#endif /* AITRADER_FAILPOINT_H */

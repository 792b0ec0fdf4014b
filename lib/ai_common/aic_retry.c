/* The retry schedule of the official OpenAI SDK (openai-python v3.3.1,
 * _base_client.py; reference §1.4), bounded by the call's deadline:
 *  - retry on 408, 409, 429, 5xx and network errors; `x-should-retry:
 *    true|false` overrides; a Retry-After over 120 s means no retry;
 *  - wait what retry-after-ms / retry-after ask when 0 < wait <= 120 s,
 *    else min(0.5 s * 2^retries, 8 s) * (1 - 0.25 * random);
 *  - never start an attempt the deadline leaves no time for;
 *  - a request that is not idempotent (an agent's turn) only when it never
 *    reached the server, or the server asks for it later (429 or 503 with
 *    Retry-After): a timeout, 408, 409 or 5xx may come after it was taken. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aic.h"

/* The value of header `name` ("Name: value" lines), or NULL. */
static const char *header(const char *const *h, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (h[i] && strncasecmp(h[i], name, len) == 0 && h[i][len] == ':') {
            const char *v = h[i] + len + 1;
            return v + strspn(v, " \t");
        }
    }
    return NULL;
}

/* A finite number filling the whole value (trailing blanks allowed). */
static bool number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v)) {
        return false;
    }
    end += strspn(end, " \t");
    *out = v;
    return *end == '\0';
}

/* Longer waits are said as this (a server's number is input: no overflow). */
#define RETRY_AFTER_MAX_MS (7.0 * 86400 * 1000)

int64_t aic_retry_after_ms(const char *const *headers, size_t n, int64_t now_ms)
{
    double v;
    const char *ms = header(headers, n, "retry-after-ms");
    if (ms && number(ms, &v)) {
        return v < 0 ? -1 : (int64_t)(v < RETRY_AFTER_MAX_MS ? v : RETRY_AFTER_MAX_MS);
    }
    const char *ra = header(headers, n, "retry-after");
    if (!ra) {
        return -1;
    }
    if (number(ra, &v)) {
        return v < 0 ? -1
                     : (int64_t)(v * 1000 < RETRY_AFTER_MAX_MS ? v * 1000 : RETRY_AFTER_MAX_MS);
    }
    /* An HTTP-date (RFC 9110 IMF-fixdate): "Wed, 21 Oct 2026 07:28:00 GMT". */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(ra, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || end[strspn(end, " \t")] != '\0') {
        return -1;
    }
    int64_t at_ms = (int64_t)timegm(&tm) * 1000;
    return at_ms > now_ms ? at_ms - now_ms : 0;
}

static bool retryable_status(int s)
{
    return s == 408 || s == 409 || s == 429 || s >= 500;
}

/* Whether `hay` holds `needle`, ignoring case. */
static bool has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

bool aic_not_sent(const char *error)
{
    /* curl's texts for CURLE_COULDNT_RESOLVE_*, CURLE_COULDNT_CONNECT and a
     * connect that timed out ("Connection timed out after", while a transfer
     * that timed out is "Operation timed out after") */
    static const char *const before[] = {"Could not resolve",        "Couldn't resolve",
                                         "Failed to connect",        "Couldn't connect",
                                         "Connection refused",       "Connection timed out after",
                                         "Resolving timed out after"};
    for (size_t i = 0; error && i < sizeof(before) / sizeof(before[0]); i++) {
        if (has(error, before[i])) {
            return true;
        }
    }
    return false;
}

int64_t aic_retry_delay(const aic_attempt *a, int retries, int max_retries, int64_t now_ms,
                        int64_t deadline_ms, double rnd, char *why, size_t cap)
{
    why[0] = '\0';
    if (a->err == AT_OK && a->status >= 200 && a->status < 300) {
        return -1;
    }
    bool retry;
    const char *should = header(a->headers, a->nheaders, "x-should-retry");
    if (should && strcasecmp(should, "true") == 0) {
        retry = true;
    } else if (should && strcasecmp(should, "false") == 0) {
        retry = false;
    } else if (a->err != AT_OK) {
        /* no answer: the network failed (a body over the cap is final) */
        retry = a->err == AT_EIO || a->err == AT_ETIMEDOUT;
    } else {
        retry = retryable_status(a->status);
    }
    if (retry && !should && !a->idempotent) {
        retry = a->err != AT_OK ? aic_not_sent(a->error)
                                : (a->status == 429 || a->status == 503) &&
                                      aic_retry_after_ms(a->headers, a->nheaders, now_ms) >= 0;
        if (!retry) {
            snprintf(why, cap, "not retried: it may have reached the server");
        }
    }
    if (!retry) {
        return -1;
    }
    if (retries >= max_retries) {
        snprintf(why, cap, "%s", max_retries ? "no retries left" : "retries are off");
        return -1;
    }
    int64_t after = aic_retry_after_ms(a->headers, a->nheaders, now_ms);
    if (after > AIC_MAX_RETRY_AFTER_MS) {
        snprintf(why, cap, "the server asks to wait %lld s, over the %d s the SDK waits",
                 (long long)(after / 1000), AIC_MAX_RETRY_AFTER_MS / 1000);
        return -1;
    }
    int64_t delay;
    if (after > 0) {
        delay = after;
    } else {
        double d = AIC_INITIAL_DELAY_MS * pow(2.0, retries);
        if (d > AIC_MAX_DELAY_MS) {
            d = AIC_MAX_DELAY_MS;
        }
        delay = (int64_t)(d * (1.0 - 0.25 * rnd));
    }
    if (deadline_ms > 0 && now_ms + delay + AIC_MIN_ATTEMPT_MS > deadline_ms) {
        snprintf(why, cap, "a retry in %lld ms would not finish before the deadline (%lld ms left)",
                 (long long)delay, (long long)(deadline_ms - now_ms));
        return -1;
    }
    return delay;
}

int64_t aic_backoff_ms(int64_t base_ms, int fails, int64_t max_ms, int64_t retry_after_ms)
{
    int shift = fails < 0 ? 0 : fails < 10 ? fails : 10;
    int64_t wait = base_ms << shift;
    wait = wait > max_ms ? max_ms : wait;
    if (retry_after_ms > wait) {
        wait = retry_after_ms < 24 * max_ms ? retry_after_ms : 24 * max_ms;
    }
    return wait;
}

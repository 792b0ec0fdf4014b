/* live_weight rules and the live/shadow draw (gray.h). */
#include "gray.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

/* "HH": one or two digits, 0..max. */
static bool parse_hour(const char *s, size_t n, int max, int *out)
{
    if (n == 0 || n > 2) {
        return false;
    }
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v <= max;
}

/* "W": a plain decimal number in [0, 1] (no hex, no exponent games),
 * kept as written in `text` (what gray_rule_text writes back). */
static bool parse_weight(const char *s, double *out, char text[GRAY_WEIGHT_LEN])
{
    if (!*s || strlen(s) >= GRAY_WEIGHT_LEN) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) && *p != '.') {
            return false;
        }
    }
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end || !isfinite(v) || v < 0 || v > 1) {
        return false;
    }
    *out = v;
    memcpy(text, s, strlen(s) + 1);
    return true;
}

static int bad(char *why, size_t whylen, size_t k, const char *item, const char *what)
{
    snprintf(why, whylen, "rule %zu '%.60s': %s", k + 1, item, what);
    return -1;
}

int gray_parse(const char *const *items, size_t n, gray_rules *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    if (n > GRAY_MAX_RULES) {
        snprintf(why, whylen, "%zu rules: at most %d", n, GRAY_MAX_RULES);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        const char *item = items[k];
        gray_rule *r = &out->r[k];
        r->from_h = r->to_h = -1;
        const char *colon = strrchr(item, ':');
        const char *w = colon ? colon + 1 : item;
        while (colon && *w == ' ') {
            w++; /* "BTC-USDT-SWAP : 0.3" */
        }
        if (!parse_weight(w, &r->weight, r->wtext)) {
            return bad(why, whylen, k, item,
                       "the weight must be a number from 0 to 1 of at most 19 characters (write "
                       "[SYMBOL|*][@HH-HH]:W or W)");
        }
        if (!colon) {
            continue; /* a bare W: every symbol, every hour */
        }
        size_t head = (size_t)(colon - item);
        while (head > 0 && item[head - 1] == ' ') {
            head--;
        }
        const char *end = item + head;
        const char *at = memchr(item, '@', head);
        size_t slen = at ? (size_t)(at - item) : head;
        /* nothing before ':' (":0.5") is every symbol, as "*" */
        if (slen == 1 && item[0] == '*') {
            r->symbol[0] = '\0';
        } else if (slen > 0) {
            if (slen >= sizeof(r->symbol)) {
                return bad(why, whylen, k, item, "the symbol is too long");
            }
            for (size_t i = 0; i < slen; i++) {
                unsigned char c = (unsigned char)item[i];
                if (!isalnum(c) && c != '-' && c != '_') {
                    return bad(why, whylen, k, item,
                               "a symbol is an instId such as BTC-USDT-SWAP, or *");
                }
            }
            memcpy(r->symbol, item, slen);
            r->symbol[slen] = '\0';
        }
        if (!at) {
            continue;
        }
        const char *win = at + 1, *dash = memchr(win, '-', (size_t)(end - win));
        if (!dash || !parse_hour(win, (size_t)(dash - win), 23, &r->from_h) ||
            !parse_hour(dash + 1, (size_t)(end - dash - 1), 24, &r->to_h)) {
            return bad(why, whylen, k, item,
                       "the window must be @HH-HH in UTC hours (from 0-23, to 0-24; 22-06 wraps "
                       "midnight)");
        }
        if (r->from_h == r->to_h % 24) {
            return bad(why, whylen, k, item,
                       "the window is empty or the whole day (leave @HH-HH out for every hour)");
        }
    }
    out->n = n;
    return 0;
}

static bool in_window(const gray_rule *r, int hour)
{
    if (r->from_h < 0) {
        return true;
    }
    int to = r->to_h % 24;
    return r->from_h < to ? hour >= r->from_h && hour < to : hour >= r->from_h || hour < to;
}

int gray_match(const gray_rules *g, const char *symbol, int hour)
{
    for (size_t i = 0; g && i < g->n; i++) {
        const gray_rule *r = &g->r[i];
        if ((!r->symbol[0] || strcasecmp(r->symbol, symbol) == 0) && in_window(r, hour)) {
            return (int)i;
        }
    }
    return -1;
}

double gray_weight(const gray_rules *g, const char *symbol, int hour)
{
    int k = gray_match(g, symbol, hour);
    return k < 0 ? 1.0 : g->r[k].weight;
}

double gray_draw(uint64_t seed, const char *trader, const char *decision_id, const char *symbol)
{
    char text[512];
    int n = snprintf(text, sizeof(text), "%" PRIu64 "|%s|%s|%s", seed, trader, decision_id, symbol);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (n < 0 || (size_t)n >= sizeof(text) ||
        EVP_Digest(text, (size_t)n, md, &len, EVP_sha256(), NULL) != 1 || len < 8) {
        return 1.0; /* cannot draw: never below a weight, so shadow (the safe side) */
    }
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) {
        x = x << 8 | md[i];
    }
    return (double)(x >> 11) * 0x1p-53;
}

void gray_rule_text(const gray_rule *r, char *buf, size_t n)
{
    char win[16] = "";
    if (r->from_h >= 0) {
        snprintf(win, sizeof(win), "@%02d-%02d", r->from_h, r->to_h);
    }
    /* the weight as written: %g would give 1e-05, which the parser refuses */
    snprintf(buf, n, "%s%s:%s", r->symbol[0] ? r->symbol : "*", win, r->wtext);
}

int gray_hour(int64_t ms)
{
    int64_t h = (ms / 3600000) % 24;
    return (int)(h < 0 ? h + 24 : h);
}

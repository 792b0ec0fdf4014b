/* OKX API-key authentication, exactly as OKX checks it: REST headers and
 * signature (HMAC-SHA256 over timestamp + METHOD + path?query + body), the
 * 30-second window, demo versus live keys, and the WebSocket login. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server.h"

void auth_sign(const char *secret, const char *prehash, size_t len, char out[AUTH_SIGN_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)prehash, len, md,
         &mdlen);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int auth_parse_iso_ms(const char *s, int64_t *ms)
{
    /* Exactly YYYY-MM-DDTHH:MM:SS.sssZ: a two-digit millisecond field is a
     * classic client bug that OKX answers with "Invalid Sign", because the
     * client signed a different string than it meant to; we reject the format
     * itself so the error says what is wrong. */
    int y, mo, d, h, mi, se, milli;
    if (strlen(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d) || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
        digits(s + 17, 2, &se) || digits(s + 20, 3, &milli) || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || se > 60) {
        return -1;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1) {
        return -1;
    }
    *ms = (int64_t)t * 1000 + milli;
    return 0;
}

static bool same_sign(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

static sim_acct *fail(sim_reply *r, const char *code, const char *msg)
{
    sim_reply_err(r, 401, code, "%s", msg);
    return NULL;
}

sim_acct *auth_rest(sim_exchange *x, const sh_req *q, int64_t now_ms, sim_reply *r)
{
    const char *key = sh_req_header(q, "OK-ACCESS-KEY");
    const char *pass = sh_req_header(q, "OK-ACCESS-PASSPHRASE");
    const char *sign = sh_req_header(q, "OK-ACCESS-SIGN");
    const char *ts = sh_req_header(q, "OK-ACCESS-TIMESTAMP");
    const char *sim = sh_req_header(q, "x-simulated-trading");
    if (!key || !*key) {
        return fail(r, "50103", "Request header OK-ACCESS-KEY can not be empty.");
    }
    if (!pass || !*pass) {
        return fail(r, "50104", "Request header OK-ACCESS-PASSPHRASE can not be empty.");
    }
    if (!sign || !*sign) {
        return fail(r, "50106", "Request header OK-ACCESS-SIGN can not be empty.");
    }
    if (!ts || !*ts) {
        return fail(r, "50107", "Request header OK-ACCESS-TIMESTAMP can not be empty.");
    }
    int64_t ts_ms;
    if (auth_parse_iso_ms(ts, &ts_ms) != 0) {
        return fail(r, "50112", "Invalid OK-ACCESS-TIMESTAMP");
    }
    if (ts_ms < now_ms - AUTH_WINDOW_MS || ts_ms > now_ms + AUTH_WINDOW_MS) {
        return fail(r, "50102", "Timestamp request expired");
    }
    sim_acct *a = acct_by_key(x, key);
    if (!a) {
        return fail(r, "50111", "Invalid OK-ACCESS-KEY");
    }
    bool demo_hdr = sim && strcmp(sim, "1") == 0;
    if (demo_hdr != a->demo) {
        return fail(r, "50101", "APIKey does not match current environment.");
    }
    if (strcmp(pass, a->passphrase) != 0) {
        return fail(r, "50105", "OK-ACCESS-PASSPHRASE incorrect");
    }
    /* The prehash covers the request target exactly as sent. */
    size_t pl = strlen(q->path), ql = strlen(q->query), tl = strlen(ts), ml = strlen(q->method);
    size_t n = tl + ml + pl + (ql ? ql + 1 : 0) + q->body_len;
    char *pre = malloc(n + 1);
    if (!pre) {
        sim_reply_err(r, 500, "50026", "System error");
        return NULL;
    }
    size_t at = 0;
    memcpy(pre + at, ts, tl), at += tl;
    memcpy(pre + at, q->method, ml), at += ml;
    memcpy(pre + at, q->path, pl), at += pl;
    if (ql) {
        pre[at++] = '?';
        memcpy(pre + at, q->query, ql), at += ql;
    }
    memcpy(pre + at, q->body, q->body_len), at += q->body_len;
    char want[AUTH_SIGN_LEN];
    auth_sign(a->secret, pre, at, want);
    free(pre);
    if (!same_sign(want, sign)) {
        return fail(r, "50113", "Invalid Sign");
    }
    return a;
}

sim_acct *auth_ws_login(sim_exchange *x, const json_t *arg, int64_t now_ms, const char **code,
                        const char **msg)
{
    const char *key = sim_json_str(arg, "apiKey");
    const char *pass = sim_json_str(arg, "passphrase");
    const char *ts = sim_json_str(arg, "timestamp");
    const char *sign = sim_json_str(arg, "sign");
    char *end = NULL;
    long long secs = strtoll(ts, &end, 10);
    if (!*ts || *end) {
        *code = "60004";
        *msg = "Invalid timestamp";
        return NULL;
    }
    if (secs * 1000 < now_ms - AUTH_WINDOW_MS || secs * 1000 > now_ms + AUTH_WINDOW_MS) {
        *code = "60006";
        *msg = "Timestamp request expired";
        return NULL;
    }
    sim_acct *a = acct_by_key(x, key);
    if (!a) {
        *code = "60005";
        *msg = "Invalid apiKey";
        return NULL;
    }
    if (strcmp(pass, a->passphrase) != 0) {
        *code = "60024";
        *msg = "Wrong passphrase";
        return NULL;
    }
    char pre[64], want[AUTH_SIGN_LEN];
    int n = snprintf(pre, sizeof(pre), "%sGET/users/self/verify", ts);
    auth_sign(a->secret, pre, (size_t)n, want);
    if (!same_sign(want, sign)) {
        *code = "60007";
        *msg = "Invalid sign";
        return NULL;
    }
    return a;
}

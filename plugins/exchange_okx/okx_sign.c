/* OKX request signing (see okx_sign.h). HMAC goes through OpenSSL 3's
 * EVP_MAC so the prehash is streamed in parts: a large batch-order body is
 * never copied into a concatenated buffer. */
#include "okx_sign.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <aitrader/types.h>

#define SHA256_LEN 32

/* HMAC-SHA256(secret, parts[0] + parts[1] + ...) into md; false on failure. */
static bool hmac_parts(const char *secret, const char *const *parts, size_t nparts,
                       unsigned char md[SHA256_LEN])
{
    bool ok = false;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx == NULL || !EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params)) {
        goto done;
    }
    for (size_t i = 0; i < nparts; i++) {
        if (!EVP_MAC_update(ctx, (const unsigned char *)parts[i], strlen(parts[i]))) {
            goto done;
        }
    }
    size_t mdlen = 0;
    ok = EVP_MAC_final(ctx, md, &mdlen, SHA256_LEN) && mdlen == SHA256_LEN;
done:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

static void sign_parts(const char *secret, const char *const *parts, size_t nparts,
                       char out[OKX_SIGN_LEN])
{
    unsigned char md[SHA256_LEN];
    out[0] = '\0';
    if (secret == NULL || !hmac_parts(secret, parts, nparts, md)) {
        return;
    }
    /* 32 bytes encode to 44 characters plus NUL: fits OKX_SIGN_LEN. */
    EVP_EncodeBlock((unsigned char *)out, md, SHA256_LEN);
}

void okx_sign_rest(const char *secret, const char *ts_iso, const char *method,
                   const char *path_and_query, const char *body, char out[OKX_SIGN_LEN])
{
    char m[16];
    size_t i = 0;
    out[0] = '\0';
    if (ts_iso == NULL || method == NULL || path_and_query == NULL) {
        return;
    }
    for (; method[i] != '\0' && i + 1 < sizeof m; i++) {
        char c = method[i];
        m[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    if (method[i] != '\0') {
        return; /* not an HTTP method */
    }
    m[i] = '\0';
    const char *parts[] = {ts_iso, m, path_and_query, body != NULL ? body : ""};
    sign_parts(secret, parts, sizeof parts / sizeof parts[0], out);
}

void okx_sign_ws_login(const char *secret, const char *ts_seconds, char out[OKX_SIGN_LEN])
{
    out[0] = '\0';
    if (ts_seconds == NULL) {
        return;
    }
    const char *parts[] = {ts_seconds, "GET", "/users/self/verify"};
    sign_parts(secret, parts, sizeof parts / sizeof parts[0], out);
}

/* ------------------------------------------------------------ timestamp */

/* Days since 1970-01-01 → civil date (H. Hinnant's days_from_civil inverse),
 * exact for the whole int64 day range we can reach; no libc time zone state. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Floor division and its non-negative remainder. */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        r += b;
        q--;
    }
    *rem = r;
    return q;
}

void okx_iso_ms(int64_t epoch_ms, char out[OKX_ISO_LEN])
{
    int64_t ms, secs_of_day;
    int64_t secs = floor_div(epoch_ms, 1000, &ms);
    int64_t days = floor_div(secs, 86400, &secs_of_day);
    int64_t y;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    snprintf(out, OKX_ISO_LEN, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
             (int)(secs_of_day / 3600), (int)(secs_of_day / 60 % 60), (int)(secs_of_day % 60),
             (int)ms);
}

/* ---------------------------------------------------------------- query */

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encode s at buf[*pos], keeping room for the NUL; false if full. */
static bool put_encoded(char *buf, size_t cap, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        size_t need = unreserved(*p) ? 1 : 3;
        if (*pos + need >= cap) {
            return false;
        }
        if (need == 1) {
            buf[(*pos)++] = (char)*p;
        } else {
            buf[(*pos)++] = '%';
            buf[(*pos)++] = hex[*p >> 4];
            buf[(*pos)++] = hex[*p & 0xF];
        }
    }
    return true;
}

int okx_query_append(char *buf, size_t cap, const char *key, const char *val)
{
    if (buf == NULL || key == NULL || key[0] == '\0' || cap == 0) {
        return AT_EINVAL;
    }
    if (val == NULL) {
        return AT_OK;
    }
    size_t start = strnlen(buf, cap);
    if (start >= cap) {
        return AT_EINVAL; /* not NUL-terminated within cap */
    }
    size_t pos = start;
    bool ok = pos + 1 < cap;
    if (ok) {
        buf[pos++] = start == 0 ? '?' : '&';
        ok = put_encoded(buf, cap, &pos, key) && pos + 1 < cap;
    }
    if (ok) {
        buf[pos++] = '=';
        ok = put_encoded(buf, cap, &pos, val);
    }
    if (!ok) {
        buf[start] = '\0';
        return AT_ERANGE;
    }
    buf[pos] = '\0';
    return AT_OK;
}

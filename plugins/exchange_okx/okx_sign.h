/**
 * @file okx_sign.h
 * @brief OKX v5 request signing: REST OK-ACCESS-SIGN, WebSocket login sign,
 *        the millisecond ISO timestamp and query strings that are signed
 *        byte for byte as sent.
 *
 * sign = Base64(HMAC-SHA256(secret, prehash)), 44 characters. The server
 * recomputes it over the bytes it received, so the timestamp, path, query and
 * body given here must be exactly those put on the wire.
 *
 * Threads: every function is pure (no state, no allocation that outlives the
 * call) and may be called from any thread. Secrets are borrowed and not kept.
 */
#ifndef OKX_SIGN_H
#define OKX_SIGN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a signature buffer: 44 Base64 characters, NUL, slack. */
#define OKX_SIGN_LEN 48
/** Size of an okx_iso_ms() buffer. */
#define OKX_ISO_LEN 32

/**
 * REST signature: prehash = ts_iso + METHOD + path_and_query + body.
 * `method` is upper-cased for the prehash (OKX signs "GET", "POST"); pass the
 * same method the request uses. `path_and_query` is e.g.
 * "/api/v5/account/balance?ccy=BTC" (a GET's parameters belong here);
 * `body` is the exact JSON sent, or NULL / "" for none. `out` gets the
 * NUL-terminated Base64 signature, or "" if OpenSSL failed (the request will
 * then be refused by OKX rather than signed wrongly). All inputs borrowed.
 */
void okx_sign_rest(const char *secret, const char *ts_iso, const char *method,
                   const char *path_and_query, const char *body, char out[OKX_SIGN_LEN]);

/**
 * WebSocket login signature over ts_seconds + "GET" + "/users/self/verify",
 * where ts_seconds is the Unix time in seconds as sent in the login's
 * "timestamp" ("1538054050"). `out` as for okx_sign_rest().
 */
void okx_sign_ws_login(const char *secret, const char *ts_seconds, char out[OKX_SIGN_LEN]);

/**
 * Format milliseconds since the epoch as OK-ACCESS-TIMESTAMP wants it:
 * "2020-12-08T09:08:57.715Z", always three millisecond digits (".071Z", never
 * ".71Z", which OKX rejects as an invalid sign). UTC, proleptic Gregorian;
 * negative times are handled too.
 */
void okx_iso_ms(int64_t epoch_ms, char out[OKX_ISO_LEN]);

/**
 * Append one query parameter to `buf` (a NUL-terminated string of capacity
 * `cap`): "?key=val" when buf is empty, "&key=val" otherwise. Key and value
 * are percent-encoded per RFC 3986 (everything but A-Z a-z 0-9 - . _ ~ becomes
 * %XX upper-case: "," → "%2C", " " → "%20"), so the string can be both sent
 * and signed as is. A NULL `val` appends nothing (optional parameters).
 * @return 0 (AT_OK), AT_EINVAL (NULL buf/key), or AT_ERANGE when it does not
 *         fit (buf is then unchanged).
 */
int okx_query_append(char *buf, size_t cap, const char *key, const char *val);

#ifdef __cplusplus
}
#endif

#endif

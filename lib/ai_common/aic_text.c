/* Error texts of HTTP AI APIs (one bounded line naming the status and the
 * API's own message, never the key), the error code of a status, and the
 * cost of an answer at configured prices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aic.h"

int aic_status_err(int status)
{
    switch (status) {
    case 401: /* bad key */
    case 402: /* DeepSeek: insufficient balance */
    case 403: /* no access to the model, region */
        return AT_ECONFIG;
    case 429:
        return AT_EAGAIN;
    case 408:
    case 409:
        return AT_EIO;
    default:
        return status >= 500 ? AT_EIO : AT_EINVAL;
    }
}

double aic_cost(double price_in, double price_out, int64_t tokens_in, int64_t tokens_out)
{
    return ((double)tokens_in * price_in + (double)tokens_out * price_out) / 1e6;
}

int64_t aic_json_count(const void *obj, const char *key)
{
    const json_t *v = json_object_get((const json_t *)obj, key);
    if (json_is_integer(v)) {
        return json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 0;
    }
    /* a real beyond int64 (1e300) is garbage, not a count to convert */
    double r = json_is_real(v) ? json_real_value(v) : 0;
    return r > 0 && r < 9.0e18 ? (int64_t)r : 0;
}

void aic_clean_text(char *dst, size_t cap, const char *src, size_t len, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    size_t o = 0;
    if (cap == 0) {
        return;
    }
    for (size_t i = 0; i < len && o + 1 < cap && o < AIC_ERR_TEXT_MAX; i++) {
        if (klen >= 4 && i + klen <= len && memcmp(src + i, key, klen) == 0) {
            for (const char *r = "***"; *r && o + 1 < cap; r++) {
                dst[o++] = *r;
            }
            i += klen - 1;
            continue;
        }
        unsigned char ch = (unsigned char)src[i];
        dst[o++] = (ch < ' ' || ch == 0x7f) ? ' ' : (char)ch;
    }
    while (o > 0 && dst[o - 1] == ' ') {
        o--;
    }
    dst[o] = '\0';
}

void aic_error_text(int status, const char *body, size_t len, const char *key, char *out,
                    size_t cap)
{
    char msg[AIC_ERR_TEXT_MAX + 8] = "";
    char code[64] = "";
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    const json_t *err = json_object_get(root, "error");
    const json_t *m = json_is_object(err) ? json_object_get(err, "message") : NULL;
    if (!m) {
        m = json_is_string(err) ? err : json_object_get(root, "message");
    }
    if (!m) {
        m = json_object_get(root, "detail");
    }
    if (json_is_string(m)) {
        aic_clean_text(msg, sizeof(msg), json_string_value(m), json_string_length(m), key);
        const json_t *c = json_object_get(err, "code");
        if (!json_is_string(c)) {
            c = json_object_get(err, "type");
        }
        if (json_is_string(c)) {
            aic_clean_text(code, sizeof(code), json_string_value(c), json_string_length(c), key);
        }
    } else if (json_is_array(m)) {
        /* FastAPI's 422: "detail" is a list of {loc, msg, type} */
        char *text = json_dumps(m, JSON_COMPACT);
        if (text) {
            aic_clean_text(msg, sizeof(msg), text, strlen(text), key);
        }
        free(text);
    } else if (!root && body && len) {
        aic_clean_text(msg, sizeof(msg), body, len, key);
    }
    json_decref(root);
    if (status) {
        snprintf(out, cap, "HTTP %d%s%s%s%s%s", status, msg[0] ? ": " : "", msg,
                 code[0] ? " (" : "", code, code[0] ? ")" : "");
    } else {
        snprintf(out, cap, "%s", msg);
    }
}

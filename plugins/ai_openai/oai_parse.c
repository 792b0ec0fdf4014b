/* The answer of a Chat Completions call (reference §1.2-1.3): the model's
 * text as it came, its reasoning, refusal, finish reason and token counts;
 * or an error naming the HTTP status and the API's own message. The content
 * is passed through untouched: fences, think tags and the text around the
 * JSON are the trader's to judge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oai.h"

/* Error texts are stored with decisions and shown to users: one line, bounded. */
#define OAI_ERR_TEXT_MAX 300

void oai_answer_clear(oai_answer *a)
{
    free(a->content);
    free(a->reasoning);
    free(a->refusal);
    free(a->model);
    free(a->finish_reason);
    memset(a, 0, sizeof(*a));
}

int oai_status_err(int status)
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

double oai_cost(const oai_cfg *c, int64_t tokens_in, int64_t tokens_out)
{
    return ((double)tokens_in * c->price_in + (double)tokens_out * c->price_out) / 1e6;
}

/* One line of printable text, at most OAI_ERR_TEXT_MAX bytes, with every
 * occurrence of the key replaced: a server may echo what it was sent. */
static void clean_text(char *dst, size_t cap, const char *src, size_t len, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    size_t o = 0;
    if (cap == 0) {
        return;
    }
    for (size_t i = 0; i < len && o + 1 < cap && o < OAI_ERR_TEXT_MAX; i++) {
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

static char *dup_str(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int64_t tokens(const json_t *usage, const char *k)
{
    const json_t *v = json_object_get(usage, k);
    if (json_is_integer(v)) {
        return json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 0;
    }
    return json_is_real(v) && json_real_value(v) > 0 ? (int64_t)json_real_value(v) : 0;
}

/* The API's message of an error body: OpenAI's {"error":{"message",…}},
 * else a top-level "message" or "detail" (FastAPI servers), else the text. */
static void error_text(int status, const char *body, size_t len, const char *key, char *out,
                       size_t cap)
{
    char msg[OAI_ERR_TEXT_MAX + 8] = "";
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
        clean_text(msg, sizeof(msg), json_string_value(m), json_string_length(m), key);
        const json_t *c = json_object_get(err, "code");
        if (!json_is_string(c)) {
            c = json_object_get(err, "type");
        }
        if (json_is_string(c)) {
            clean_text(code, sizeof(code), json_string_value(c), json_string_length(c), key);
        }
    } else if (!root && body && len) {
        clean_text(msg, sizeof(msg), body, len, key);
    }
    json_decref(root);
    if (status) {
        snprintf(out, cap, "HTTP %d%s%s%s%s%s", status, msg[0] ? ": " : "", msg,
                 code[0] ? " (" : "", code, code[0] ? ")" : "");
    } else {
        snprintf(out, cap, "%s", msg);
    }
}

static void fail(oai_answer *a, int err, const char *fmt, const char *arg)
{
    a->err = err;
    snprintf(a->error, sizeof(a->error), fmt, arg);
}

void oai_parse(int status, const char *body, size_t len, const char *api_key, oai_answer *out)
{
    memset(out, 0, sizeof(*out));
    if (status != 200) {
        out->err = oai_status_err(status);
        error_text(status, body, len, api_key, out->error, sizeof(out->error));
        return;
    }
    json_error_t je;
    /* DeepSeek keeps a waiting connection alive with blank lines: jansson
     * skips leading whitespace. */
    json_t *root = json_loadb(body ? body : "", len, 0, &je);
    if (!json_is_object(root)) {
        char where[JSON_ERROR_TEXT_LENGTH + 64];
        if (root) {
            snprintf(where, sizeof(where), "not a JSON object");
        } else {
            snprintf(where, sizeof(where), "%s at line %d column %d", je.text, je.line, je.column);
        }
        fail(out, AT_EIO, "the answer is not JSON: %s", where);
        json_decref(root);
        return;
    }
    const json_t *choices = json_object_get(root, "choices");
    const json_t *choice = json_array_get(choices, 0);
    const json_t *msg = json_object_get(choice, "message");
    if (!json_is_object(msg)) {
        const json_t *err = json_object_get(root, "error");
        if (err) { /* some gateways answer 200 with an error object */
            char text[OAI_ERR_TEXT_MAX + 96];
            error_text(0, body, len, api_key, text, sizeof(text));
            fail(out, AT_EIO, "the API answered an error: %s", text);
        } else {
            fail(out, AT_EIO, "%s", "the answer has no choices[0].message");
        }
        json_decref(root);
        return;
    }
    const json_t *content = json_object_get(msg, "content");
    if (content && !json_is_string(content) && !json_is_null(content)) {
        fail(out, AT_EIO, "%s", "choices[0].message.content is neither text nor null");
        json_decref(root);
        return;
    }
    /* A null content comes with a refusal, or (DeepSeek's JSON mode) alone. */
    out->content = json_is_string(content) ? strdup(json_string_value(content)) : strdup("");
    out->refusal = dup_str(json_object_get(msg, "refusal"));
    out->reasoning = dup_str(json_object_get(msg, "reasoning_content"));
    if (!out->reasoning) {
        out->reasoning = dup_str(json_object_get(msg, "reasoning")); /* vLLM, gateways */
    }
    out->finish_reason = dup_str(json_object_get(choice, "finish_reason"));
    out->model = dup_str(json_object_get(root, "model"));
    const json_t *usage = json_object_get(root, "usage");
    out->tokens_in = tokens(usage, "prompt_tokens");
    out->tokens_out = tokens(usage, "completion_tokens");
    json_decref(root);
    if (!out->content) {
        oai_answer_clear(out);
        fail(out, AT_ENOMEM, "%s", "out of memory reading the answer");
        return;
    }
    out->err = AT_OK;
}

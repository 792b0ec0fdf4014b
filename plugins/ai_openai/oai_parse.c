/* The answer of a Chat Completions call (reference §1.2-1.3): the model's
 * text as it came, its reasoning, refusal, finish reason and token counts;
 * or an error naming the HTTP status and the API's own message. The content
 * is passed through untouched: fences, think tags and the text around the
 * JSON are the trader's to judge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aic.h"
#include "oai.h"

void oai_answer_clear(oai_answer *a)
{
    free(a->content);
    free(a->reasoning);
    free(a->refusal);
    free(a->model);
    free(a->finish_reason);
    memset(a, 0, sizeof(*a));
}

double oai_cost(const oai_cfg *c, int64_t tokens_in, int64_t tokens_out)
{
    return aic_cost(c->price_in, c->price_out, tokens_in, tokens_out);
}

static char *dup_str(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
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
        out->err = aic_status_err(status);
        aic_error_text(status, body, len, api_key, out->error, sizeof(out->error));
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
            char text[AIC_ERR_TEXT_MAX + 96];
            aic_error_text(0, body, len, api_key, text, sizeof(text));
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
    out->tokens_in = aic_json_count(usage, "prompt_tokens");
    out->tokens_out = aic_json_count(usage, "completion_tokens");
    json_decref(root);
    if (!out->content) {
        oai_answer_clear(out);
        fail(out, AT_ENOMEM, "%s", "out of memory reading the answer");
        return;
    }
    out->err = AT_OK;
}

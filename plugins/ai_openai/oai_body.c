/* The Chat Completions request body of one call (reference §1.1, §2):
 * messages [system, user], model, and the parameters the profile allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oai.h"

/* The name OpenAI requires of a json_schema: [a-zA-Z0-9_-]{1,64}. */
#define OAI_SCHEMA_NAME "trade_decision"

static bool says_json(const char *s)
{
    return s && strcasestr(s, "json") != NULL;
}

static int set(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *messages(const at_ai_request *req)
{
    json_t *a = json_array();
    if (!a) {
        return NULL;
    }
    if (req->system && *req->system) {
        json_t *m = json_pack("{s:s, s:s}", "role", "system", "content", req->system);
        if (!m || json_array_append_new(a, m) != 0) {
            goto fail;
        }
    }
    json_t *u = json_pack("{s:s, s:s}", "role", "user", "content", req->user);
    if (!u || json_array_append_new(a, u) != 0) {
        goto fail;
    }
    return a;
fail:
    json_decref(a);
    return NULL;
}

/* response_format as the request allows it; *rf says what went out. */
static json_t *response_format(const oai_cfg *c, const at_ai_request *req, oai_rf *rf,
                               const char **note)
{
    json_t *schema = NULL;
    if (*rf == OAI_RF_JSON_SCHEMA) {
        schema = req->json_schema ? json_loads(req->json_schema, 0, NULL) : NULL;
        if (!json_is_object(schema)) {
            json_decref(schema);
            schema = NULL;
            *rf = OAI_RF_JSON_OBJECT;
            *note = req->json_schema ? "the request's json_schema is not a JSON object: sent "
                                       "json_object"
                                     : "the request has no json_schema: sent json_object";
        }
    }
    if (*rf == OAI_RF_JSON_OBJECT && !says_json(req->system) && !says_json(req->user)) {
        /* OpenAI, DeepSeek and Qwen refuse json_object unless a message
         * says "json"; the prompt is the trader's to change, not ours. */
        *rf = OAI_RF_NONE;
        *note = "no message says \"json\", which json_object requires: sent no response_format";
    }
    switch (*rf) {
    case OAI_RF_JSON_SCHEMA:
        return json_pack("{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema", "json_schema", "name",
                         OAI_SCHEMA_NAME, "strict", c->strict_schema, "schema", schema);
    case OAI_RF_JSON_OBJECT:
        return json_pack("{s:s}", "type", "json_object");
    default:
        return NULL;
    }
}

char *oai_body_build(const oai_cfg *c, const oai_profile *p, const at_ai_request *req, oai_rf *sent,
                     const char **note, char *why, size_t cap)
{
    *note = NULL;
    *sent = OAI_RF_NONE;
    if (!req || !req->user) {
        snprintf(why, cap, "the request has no user prompt");
        return NULL;
    }
    char *text = NULL;
    json_t *root = json_object();
    int rc = root ? 0 : -1;
    rc |= set(root, "model", json_string(c->model));
    rc |= set(root, "messages", messages(req));
    rc |= set(root, "stream", json_false());
    if (p->send_temperature) {
        rc |= set(root, "temperature", json_real(c->temperature));
    }
    if (c->max_tokens > 0) {
        rc |= set(root, p->completion_tokens ? "max_completion_tokens" : "max_tokens",
                  json_integer(c->max_tokens));
    }
    oai_rf rf = p->rf == OAI_RF_AUTO ? OAI_RF_JSON_OBJECT : p->rf;
    if (rf != OAI_RF_NONE) {
        json_t *f = response_format(c, req, &rf, note);
        if (rf != OAI_RF_NONE) {
            rc |= set(root, "response_format", f);
        }
    }
    if (p->think_switch >= 0 && p->api == OAI_API_DEEPSEEK) {
        rc |= set(root, "thinking",
                  json_pack("{s:s}", "type", p->think_switch ? "enabled" : "disabled"));
    } else if (p->think_switch >= 0 && p->api == OAI_API_QWEN) {
        rc |= set(root, "enable_thinking", json_boolean(p->think_switch));
    }
    if (c->reasoning_effort && p->thinking &&
        (p->api == OAI_API_OPENAI || p->api == OAI_API_DEEPSEEK)) {
        rc |= set(root, "reasoning_effort", json_string(c->reasoning_effort));
    }
    if (rc == 0) {
        /* 10 digits: 0.2 goes out as 0.2, not 0.20000000000000001 */
        text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
    }
    json_decref(root);
    if (!text) {
        snprintf(why, cap,
                 "cannot build the request (no memory, or a prompt or model name "
                 "that is not valid UTF-8)");
        return NULL;
    }
    *sent = rf;
    return text;
}

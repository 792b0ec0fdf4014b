/* What the Letta server answers (reference §3.2-3.4): an agent (AgentState)
 * or a list of them, a block (BlockResponse), and a message's LettaResponse
 * whose last assistant_message is the decision. The decision's text goes
 * back untouched: the trader validates it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aic.h"
#include "lt.h"

static char *dup_str(const json_t *v)
{
    return json_is_string(v) ? strndup(json_string_value(v), json_string_length(v)) : NULL;
}

static json_t *load(const char *body, size_t len, char *why, size_t cap)
{
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, &je);
    if (!root) {
        char text[JSON_ERROR_TEXT_LENGTH + 96];
        snprintf(text, sizeof(text), "the answer is not JSON: %s at line %d column %d", je.text,
                 je.line, je.column);
        /* one line: jansson quotes the input near a syntax error */
        aic_clean_text(why, cap, text, strlen(text), NULL);
    }
    return root;
}

void lt_block_info_clear(lt_block_info *b)
{
    free(b->id);
    free(b->label);
    free(b->value);
    memset(b, 0, sizeof(*b));
}

void lt_agent_info_clear(lt_agent_info *a)
{
    for (size_t i = 0; i < a->nblocks; i++) {
        lt_block_info_clear(&a->blocks[i]);
    }
    free(a->blocks);
    free(a->id);
    free(a->name);
    free(a->model);
    memset(a, 0, sizeof(*a));
}

static int block_of(const json_t *o, lt_block_info *out)
{
    memset(out, 0, sizeof(*out));
    const json_t *label = json_object_get(o, "label");
    const json_t *value = json_object_get(o, "value");
    if (!json_is_string(label) || !json_is_string(value)) {
        return AT_EINVAL;
    }
    out->id = dup_str(json_object_get(o, "id"));
    out->label = dup_str(label);
    out->value = dup_str(value);
    if (!out->label || !out->value) {
        lt_block_info_clear(out);
        return AT_ENOMEM;
    }
    return AT_OK;
}

/* An AgentState object into out: AT_OK, AT_EIO (no id), AT_ENOMEM. */
static int agent_of(const json_t *o, lt_agent_info *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    const json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || json_string_length(id) == 0) {
        snprintf(why, cap, "the agent has no id");
        return AT_EIO;
    }
    out->id = dup_str(id);
    out->name = dup_str(json_object_get(o, "name"));
    out->model = dup_str(json_object_get(o, "model"));
    /* blocks; the deprecated memory.blocks of older servers */
    const json_t *blocks = json_object_get(o, "blocks");
    if (!json_is_array(blocks)) {
        blocks = json_object_get(json_object_get(o, "memory"), "blocks");
    }
    size_t n = json_array_size(blocks);
    out->blocks = n ? calloc(n, sizeof(*out->blocks)) : NULL;
    if (!out->id || (n && !out->blocks)) {
        lt_agent_info_clear(out);
        snprintf(why, cap, "out of memory");
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = block_of(json_array_get(blocks, i), &out->blocks[out->nblocks]);
        if (rc == AT_ENOMEM) {
            lt_agent_info_clear(out);
            snprintf(why, cap, "out of memory");
            return rc;
        }
        out->nblocks += rc == AT_OK;
    }
    return AT_OK;
}

int lt_parse_agent(const char *body, size_t len, lt_agent_info *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    json_t *root = load(body, len, why, cap);
    if (!root) {
        return AT_EIO;
    }
    int rc = json_is_object(root) ? agent_of(root, out, why, cap) : AT_EIO;
    if (!json_is_object(root)) {
        snprintf(why, cap, "the agent is not a JSON object");
    }
    json_decref(root);
    return rc;
}

int lt_parse_agent_list(const char *body, size_t len, const char *name, lt_agent_info *out,
                        char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    json_t *root = load(body, len, why, cap);
    if (!root) {
        return AT_EIO;
    }
    int rc = AT_ENOENT;
    if (!json_is_array(root)) {
        snprintf(why, cap, "the list of agents is not a JSON array");
        rc = AT_EIO;
    }
    size_t i;
    json_t *a;
    json_array_foreach(root, i, a)
    {
        const json_t *n = json_object_get(a, "name");
        if (json_is_string(n) && name && strcmp(json_string_value(n), name) == 0) {
            rc = agent_of(a, out, why, cap);
            break;
        }
    }
    json_decref(root);
    return rc;
}

int lt_parse_block(const char *body, size_t len, lt_block_info *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    json_t *root = load(body, len, why, cap);
    if (!root) {
        return AT_EIO;
    }
    int rc = block_of(root, out);
    if (rc == AT_EINVAL) {
        snprintf(why, cap, "the block has no label and value");
        rc = AT_EIO;
    }
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------ messages */

void lt_answer_clear(lt_answer *a)
{
    free(a->content);
    free(a->reasoning);
    free(a->stop_reason);
    memset(a, 0, sizeof(*a));
}

const char *lt_finish_reason(const char *stop_reason)
{
    if (!stop_reason || strcmp(stop_reason, "end_turn") == 0) {
        return "stop";
    }
    return strcmp(stop_reason, "max_tokens_exceeded") == 0 ? "length" : stop_reason;
}

/* An assistant_message's content: a string, or parts whose "text" strings
 * are joined. NULL when it is neither (or no memory). */
static char *content_text(const json_t *c)
{
    if (json_is_string(c)) {
        return dup_str(c);
    }
    if (!json_is_array(c)) {
        return NULL;
    }
    size_t n = 0, i;
    const json_t *p;
    json_array_foreach(c, i, p)
    {
        const json_t *t = json_is_string(p) ? p : json_object_get(p, "text");
        n += json_is_string(t) ? json_string_length(t) : 0;
    }
    char *out = malloc(n + 1);
    size_t o = 0;
    json_array_foreach(c, i, p)
    {
        const json_t *t = json_is_string(p) ? p : json_object_get(p, "text");
        if (out && json_is_string(t)) {
            memcpy(out + o, json_string_value(t), json_string_length(t));
            o += json_string_length(t);
        }
    }
    if (out) {
        out[o] = '\0';
    }
    return out;
}

/* reasoning += "\n" + text */
static int add_line(char **acc, const json_t *text)
{
    if (!json_is_string(text) || json_string_length(text) == 0) {
        return AT_OK;
    }
    size_t old = *acc ? strlen(*acc) : 0, add = json_string_length(text);
    char *p = realloc(*acc, old + add + 2);
    if (!p) {
        return AT_ENOMEM;
    }
    if (old) {
        p[old++] = '\n';
    }
    memcpy(p + old, json_string_value(text), add);
    p[old + add] = '\0';
    *acc = p;
    return AT_OK;
}

static void fail(lt_answer *a, const char *fmt, const char *arg)
{
    free(a->content);
    a->content = NULL;
    a->err = AT_EIO;
    char text[sizeof(a->error)];
    snprintf(text, sizeof(text), fmt, arg);
    /* one line: jansson quotes the input near a syntax error */
    aic_clean_text(a->error, sizeof(a->error), text, strlen(text), NULL);
}

void lt_parse_answer(const char *body, size_t len, lt_answer *out)
{
    memset(out, 0, sizeof(*out));
    char why[256];
    json_t *root = load(body, len, why, sizeof(why));
    if (!root || !json_is_object(root)) {
        fail(out, "%s", root ? "the answer is not a JSON object" : why);
        json_decref(root);
        return;
    }
    const json_t *msgs = json_object_get(root, "messages");
    const json_t *stop = json_object_get(root, "stop_reason");
    out->stop_reason = dup_str(json_is_object(stop) ? json_object_get(stop, "stop_reason") : stop);
    const json_t *usage = json_object_get(root, "usage");
    out->tokens_in = aic_json_count(usage, "prompt_tokens");
    out->tokens_out = aic_json_count(usage, "completion_tokens");
    if (!json_is_array(msgs)) {
        fail(out, "%s", "the answer has no messages list");
        json_decref(root);
        return;
    }
    const json_t *last = NULL;
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const json_t *type = json_object_get(m, "message_type");
        const char *t = json_is_string(type) ? json_string_value(type) : "";
        out->messages++;
        if (strcmp(t, "assistant_message") == 0) {
            last = m;
        } else if (strcmp(t, "reasoning_message") == 0) {
            if (add_line(&out->reasoning, json_object_get(m, "reasoning")) != AT_OK) {
                fail(out, "%s", "out of memory reading the answer");
                json_decref(root);
                return;
            }
        } else if (strcmp(t, "tool_call_message") != 0 && strcmp(t, "tool_return_message") != 0 &&
                   strcmp(t, "hidden_reasoning_message") != 0) {
            out->unknown++; /* user, system, approval, summary, event … and future types */
        }
    }
    const char *sr = out->stop_reason ? out->stop_reason : "";
    if (!last) {
        if (sr[0] && strcmp(sr, "end_turn") != 0) {
            fail(out, "the agent stopped without an answer (stop_reason %s)", sr);
        } else {
            fail(out, "%s", "the agent sent no assistant_message");
        }
    } else if (!(out->content = content_text(json_object_get(last, "content")))) {
        fail(out, "%s",
             json_object_get(last, "content") ? "the last assistant_message's content is "
                                                "neither text nor a list of text parts"
                                              : "the last assistant_message has no content");
    } else {
        out->err = AT_OK;
    }
    json_decref(root);
}

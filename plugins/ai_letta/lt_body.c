/* The bodies ai_letta sends (reference §3.2-3.4): an agent with its core
 * memory blocks, a user message, a block's new value, a block. */
#include <stdlib.h>

#include <jansson.h>

#include "lt.h"

static char *dump(json_t *root)
{
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return text;
}

/* A CreateBlock object; read-only: the agent's memory tools must not
 * rewrite the user's files, the trader's prompt or the engine's journal. */
static json_t *block(const lt_block *b)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:b}", "label", b->label, "value", b->value, "limit",
                          (json_int_t)b->limit, "read_only", 1);
    if (o && b->description &&
        json_object_set_new(o, "description", json_string(b->description)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *lt_body_agent(const char *name, const char *model, const char *embedding, const char *trader,
                    const lt_block *blocks, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *b = block(&blocks[i]);
        if (!b || json_array_append_new(list, b) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list) {
        return NULL;
    }
    json_t *root = json_pack("{s:s, s:s, s:o, s:[s, s+], s:{s:s}}", "name", name, "model", model,
                             "memory_blocks", list, "tags", "aitrader", "trader:", trader,
                             "metadata", "aitrader_trader", trader);
    if (root && embedding && json_object_set_new(root, "embedding", json_string(embedding)) != 0) {
        json_decref(root);
        return NULL;
    }
    return dump(root);
}

char *lt_body_message(const char *user, int64_t max_steps)
{
    json_t *root = json_pack("{s:[{s:s, s:s}]}", "messages", "role", "user", "content", user);
    if (root && max_steps > 0 &&
        json_object_set_new(root, "max_steps", json_integer((json_int_t)max_steps)) != 0) {
        json_decref(root);
        return NULL;
    }
    return dump(root);
}

char *lt_body_value(const char *value, int64_t limit)
{
    return dump(json_pack("{s:s, s:I}", "value", value, "limit", (json_int_t)limit));
}

char *lt_body_block(const lt_block *b)
{
    return dump(block(b));
}

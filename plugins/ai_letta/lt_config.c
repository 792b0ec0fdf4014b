/* ai_letta's configuration: the schema, the checks beyond it, and the
 * model handle each trader's agent gets. */
#include <stdio.h>
#include <string.h>

#include "aic.h"
#include "lt.h"

#define F(name, type, def, flags, field, min, max, desc)                                           \
    {                                                                                              \
        name, type, def, flags, offsetof(lt_cfg, field), min, max, NULL, desc                      \
    }

const at_cfg_field lt_schema[] = {
    F("base_url", AT_CFG_STR, "http://localhost:8283", 0, base_url, 0, 0,
      "the Letta server's root; requests go to <base_url>/v1/agents/…"),
    F("api_key", AT_CFG_SECRET, NULL, 0, api_key, 0, 0,
      "the server's password (LETTA_SERVER_PASSWORD) sent as 'Authorization: Bearer'; leave "
      "out for a server without --secure"),
    F("model", AT_CFG_STR, NULL, AT_CFG_REQUIRED, model, 0, 0,
      "model handle of the agents (provider/model, e.g. openai/gpt-4o-mini)"),
    F("embedding", AT_CFG_STR, NULL, 0, embedding, 0, 0,
      "embedding handle of the agents (e.g. openai/text-embedding-3-small); unset = the "
      "server's default"),
    F("models", AT_CFG_LIST, NULL, 0, models, 0, 0,
      "model routing: trader:handle items overriding model for that trader's agent, e.g. "
      "alpha:openai/gpt-4o, beta:deepseek/deepseek-chat"),
    F("agent_prefix", AT_CFG_STR, "aitrader-", 0, agent_prefix, 0, 0,
      "a trader's agent is named <agent_prefix><trader>"),
    F("memory_dir", AT_CFG_STR, "prompts/letta", 0, memory_dir, 0, 0,
      "directory of the core memory files (*.md, *.txt): one block each, label = the file's "
      "name without extension, synced before each message; a relative path that is no "
      "directory is looked up beside [core] sql_dir too"),
    F("block_limit", AT_CFG_INT, "20000", AT_CFG_RANGE, block_limit, 500, 1000000,
      "characters a memory file's block holds (a longer file is not synced, and said so)"),
    F("journal_limit", AT_CFG_INT, "8000", AT_CFG_RANGE, journal_limit, 500, 1000000,
      "characters of the trade_journal block (outcomes of decisions; the oldest go first)"),
    F("timeout", AT_CFG_DURATION, "0", AT_CFG_RANGE, timeout_ms, 0, 1800000,
      "time per HTTP attempt (0 = 120 s: an agent's turn runs several model steps); the "
      "trader's deadline bounds the whole call"),
    F("price_in", AT_CFG_DOUBLE, "0", AT_CFG_RANGE, price_in, 0, 1e6,
      "USD per million prompt tokens (for cost_usd; 0 = free or unknown)"),
    F("price_out", AT_CFG_DOUBLE, "0", AT_CFG_RANGE, price_out, 0, 1e6,
      "USD per million completion tokens, reasoning included"),
    F("max_retries", AT_CFG_INT, "2", AT_CFG_RANGE, max_retries, 0, 10,
      "retries on 408, 409, 429, 5xx and network errors (Retry-After honoured up to 120 s); a "
      "message only when it cannot have reached the agent (a failed connect, 429 or 503 with "
      "Retry-After)"),
    F("proxy", AT_CFG_STR, NULL, 0, proxy, 0, 0,
      "http://host:port for this provider only; none = direct; unset = [core] proxy"),
    F("max_response", AT_CFG_SIZE, "8M", AT_CFG_RANGE, max_response, 4096, 268435456.0,
      "largest answer accepted"),
    F("max_steps", AT_CFG_INT, "8", AT_CFG_RANGE, max_steps, 1, 100,
      "model steps an agent's turn may take (sent with each message; Letta's own default is "
      "50)"),
    F("queue_max", AT_CFG_INT, "16", AT_CFG_RANGE, queue_max, 1, 1000,
      "requests and journal writes waiting per agent (Letta takes one at a time); past it a "
      "request is refused and a journal write dropped, both logged"),
    {0},
};

bool lt_handle_ok(const char *s)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    return slash && slash > s && slash[1] && aic_word(s);
}

static bool name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.')) {
            return false;
        }
    }
    return n > 0;
}

const char *lt_model_for(const lt_cfg *c, const char *trader)
{
    size_t tl = trader ? strlen(trader) : 0;
    for (size_t i = 0; tl && i < c->models.n; i++) {
        const char *it = c->models.items[i];
        if (strncmp(it, trader, tl) == 0 && it[tl] == ':') {
            return it + tl + 1;
        }
    }
    return c->model;
}

static int refuse(const char **key, const char *k, char *why, size_t cap, const char *msg)
{
    *key = k;
    snprintf(why, cap, "%s", msg);
    return AT_ECONFIG;
}

int lt_check_config(const lt_cfg *c, const char **key, char *why, size_t cap)
{
    int rc = aic_check_base_url(c->base_url, "/v1", "http://localhost:8283", key, why, cap);
    if (rc != AT_OK) {
        return rc;
    }
    if (!lt_handle_ok(c->model)) {
        return refuse(key, "model", why, cap,
                      "expected a Letta model handle provider/model without blanks, e.g. "
                      "openai/gpt-4o-mini");
    }
    if (c->embedding && !lt_handle_ok(c->embedding)) {
        return refuse(key, "embedding", why, cap,
                      "expected a Letta embedding handle provider/model, e.g. "
                      "openai/text-embedding-3-small");
    }
    for (size_t i = 0; i < c->models.n; i++) {
        const char *it = c->models.items[i];
        const char *colon = strchr(it, ':');
        if (!colon || !name_ok(it, (size_t)(colon - it)) || !lt_handle_ok(colon + 1)) {
            *key = "models";
            snprintf(why, cap,
                     "'%.80s' is not trader:handle (e.g. alpha:openai/gpt-4o, the trader's name "
                     "as in [trader.alpha])",
                     it);
            return AT_ECONFIG;
        }
        for (size_t k = 0; k < i; k++) {
            const char *o = c->models.items[k];
            size_t tl = (size_t)(colon - it);
            if (strncmp(o, it, tl + 1) == 0) {
                *key = "models";
                snprintf(why, cap, "trader '%.*s' is routed twice", (int)tl, it);
                return AT_ECONFIG;
            }
        }
    }
    if (c->agent_prefix && *c->agent_prefix && !name_ok(c->agent_prefix, strlen(c->agent_prefix))) {
        return refuse(key, "agent_prefix", why, cap,
                      "expected letters, digits, '_', '-' and '.' only (it starts agent names)");
    }
    if (!c->memory_dir || !*c->memory_dir) {
        return refuse(key, "memory_dir", why, cap, "expected a directory");
    }
    if (c->timeout_ms > 0 && c->timeout_ms < 1000) {
        return refuse(key, "timeout", why, cap, "at least 1s (or 0 for 120 s)");
    }
    if (!at_proxy_valid(c->proxy)) {
        return refuse(key, "proxy", why, cap,
                      "expected http://host:port (or http://user:password@host:port, or none)");
    }
    return AT_OK;
}

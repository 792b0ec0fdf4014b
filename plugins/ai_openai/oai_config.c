/* ai_openai's configuration: the schema, its checks beyond the schema, and
 * the profile a model implies (which API dialect, whether it thinks, which
 * parameters it takes). Model rules follow the providers' documentation as
 * summarised in the reference (llm-news-indicators §1-2); README.md has the
 * table. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aic.h"
#include "oai.h"

const char *const oai_api_names[] = {"auto", "openai", "deepseek", "qwen", "generic", NULL};
const char *const oai_think_names[] = {"auto", "on", "off", NULL};
const char *const oai_rf_names[] = {"auto", "json_schema", "json_object", "none", NULL};

#define F(name, type, def, flags, field, min, max, enums, desc)                                    \
    {                                                                                              \
        name, type, def, flags, offsetof(oai_cfg, field), min, max, enums, desc                    \
    }

const at_cfg_field oai_schema[] = {
    F("base_url", AT_CFG_STR, NULL, AT_CFG_REQUIRED, base_url, 0, 0, NULL,
      "API root; requests go to <base_url>/chat/completions (https://api.openai.com/v1, "
      "https://api.deepseek.com, https://dashscope-intl.aliyuncs.com/compatible-mode/v1, "
      "http://127.0.0.1:8080/v1 …)"),
    F("api_key", AT_CFG_SECRET, NULL, 0, api_key, 0, 0, NULL,
      "API key sent as 'Authorization: Bearer'; leave out for local servers without keys"),
    F("model", AT_CFG_STR, NULL, AT_CFG_REQUIRED, model, 0, 0, NULL,
      "model name, e.g. gpt-4o-mini, deepseek-v4-flash, qwen-plus"),
    F("api", AT_CFG_ENUM, "auto", 0, api, 0, 0, oai_api_names,
      "dialect: auto (from base_url's host), openai, deepseek, qwen or generic"),
    F("thinking", AT_CFG_ENUM, "auto", 0, thinking, 0, 0, oai_think_names,
      "reasoning: auto (off where the model can switch it off), on, off"),
    F("reasoning_effort", AT_CFG_STR, NULL, 0, reasoning_effort, 0, 0, NULL,
      "sent to thinking OpenAI and DeepSeek models (low, medium, high; DeepSeek: high, max)"),
    F("temperature", AT_CFG_DOUBLE, "0.2", AT_CFG_RANGE, temperature, 0, 2, NULL,
      "sampling temperature (not sent to thinking models, which refuse or ignore it)"),
    F("max_tokens", AT_CFG_INT, "0", AT_CFG_RANGE, max_tokens, 0, 1000000, NULL,
      "cap on completion tokens, reasoning included (0 = the provider's default)"),
    F("timeout", AT_CFG_DURATION, "0", AT_CFG_RANGE, timeout_ms, 0, 1800000, NULL,
      "time per HTTP attempt (0 = 120 s for thinking models, 30 s otherwise); the trader's "
      "deadline bounds the whole call"),
    F("response_format", AT_CFG_ENUM, "auto", 0, response_format, 0, 0, oai_rf_names,
      "auto (json_schema where the model takes it, json_object otherwise, none while "
      "thinking), json_schema, json_object or none"),
    F("strict_schema", AT_CFG_BOOL, "true", 0, strict_schema, 0, 0, NULL,
      "json_schema with strict: true (the model's answer follows the schema exactly)"),
    F("price_in", AT_CFG_DOUBLE, "0", AT_CFG_RANGE, price_in, 0, 1e6, NULL,
      "USD per million prompt tokens (for cost_usd; 0 = free or unknown)"),
    F("price_out", AT_CFG_DOUBLE, "0", AT_CFG_RANGE, price_out, 0, 1e6, NULL,
      "USD per million completion tokens, reasoning included"),
    F("max_retries", AT_CFG_INT, "2", AT_CFG_RANGE, max_retries, 0, 10, NULL,
      "retries on 408, 409, 429, 5xx and network errors (Retry-After honoured up to 120 s)"),
    F("proxy", AT_CFG_STR, NULL, 0, proxy, 0, 0, NULL,
      "http://host:port for this provider only; none = direct; unset = [core] proxy"),
    F("max_response", AT_CFG_SIZE, "8M", AT_CFG_RANGE, max_response, 4096, 268435456.0, NULL,
      "largest answer accepted"),
    {0},
};

/* ---------------------------------------------------------- profile */

static bool starts(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool has(const char *s, const char *part)
{
    return strcasestr(s, part) != NULL;
}

/* The host part of an http(s) URL (into out, lower case kept as written). */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, ":/?#");
    snprintf(out, cap, "%.*s", (int)n, p);
}

static oai_api api_of(const oai_cfg *c)
{
    if (c->api != OAI_API_AUTO) {
        return (oai_api)c->api;
    }
    char host[256];
    url_host(c->base_url ? c->base_url : "", host, sizeof(host));
    if (has(host, "openai.com")) {
        return OAI_API_OPENAI;
    }
    if (has(host, "deepseek.com")) {
        return OAI_API_DEEPSEEK;
    }
    if (has(host, "dashscope")) {
        return OAI_API_QWEN;
    }
    /* By host only: a local server running "deepseek-r1" speaks no DeepSeek
     * extras, and unknown fields can be refused. */
    return OAI_API_GENERIC;
}

/* OpenAI: o-series and gpt-5 reason (gpt-5-chat does not); they refuse
 * temperature and take max_completion_tokens. */
static void openai_profile(const char *m, oai_think t, oai_profile *p)
{
    bool reasoning = starts(m, "o1") || starts(m, "o3") || starts(m, "o4") ||
                     (starts(m, "gpt-5") && !has(m, "-chat"));
    p->thinking = reasoning || t == OAI_THINK_ON;
    p->think_switch = -1;
    p->send_temperature = !reasoning;
    p->completion_tokens = true;
    /* Structured outputs: gpt-4o (from 2024-08-06), gpt-4.1, gpt-4.5, gpt-5, o1 (not
     * o1-mini/o1-preview), o3, o4. */
    p->schema_ok = (starts(m, "gpt-4o") && !starts(m, "gpt-4o-2024-05-13")) ||
                   starts(m, "gpt-4.1") || starts(m, "gpt-4.5") || starts(m, "gpt-5") ||
                   starts(m, "o3") || starts(m, "o4") ||
                   (starts(m, "o1") && !starts(m, "o1-mini") && !starts(m, "o1-preview"));
}

/* DeepSeek: deepseek-reasoner always thinks; V4 models think unless asked
 * not to ("thinking": {"type": "disabled"}); deepseek-chat never does. */
static void deepseek_profile(const char *m, oai_think t, oai_profile *p)
{
    bool only = strcasecmp(m, "deepseek-reasoner") == 0;
    bool hybrid = !only && strcasecmp(m, "deepseek-chat") != 0;
    p->thinking = only || t == OAI_THINK_ON;
    p->think_switch = -1;
    if (!only && t == OAI_THINK_ON) {
        p->think_switch = 1;
    } else if (!only && (t == OAI_THINK_OFF || hybrid)) {
        p->think_switch = 0;
    }
    p->send_temperature = !p->thinking;
}

/* Qwen (DashScope): *-thinking* and QwQ models always think; hybrid models
 * take "enable_thinking", sent as false for JSON answers unless asked. */
static void qwen_profile(const char *m, oai_think t, oai_profile *p)
{
    bool only = has(m, "thinking") || starts(m, "qwq") || starts(m, "qvq");
    p->thinking = only || t == OAI_THINK_ON;
    p->think_switch = only ? -1 : t == OAI_THINK_ON ? 1 : 0;
    p->send_temperature = !p->thinking;
}

/* Generic servers: no known switch; a name that says it reasons gets the
 * thinking timeout and no forced JSON (which would cut its reasoning). */
static void generic_profile(const char *m, oai_think t, oai_profile *p)
{
    bool named = has(m, "reason") || has(m, "think") || has(m, "qwq") || has(m, "-r1") ||
                 has(m, ":r1") || has(m, "/r1") || starts(m, "r1");
    p->thinking = t == OAI_THINK_ON || (t == OAI_THINK_AUTO && named);
    p->think_switch = -1;
    p->send_temperature = true;
}

void oai_profile_resolve(const oai_cfg *c, oai_profile *p)
{
    memset(p, 0, sizeof(*p));
    const char *m = c->model ? c->model : "";
    oai_think t = (oai_think)c->thinking;
    p->api = api_of(c);
    switch (p->api) {
    case OAI_API_OPENAI:
        openai_profile(m, t, p);
        break;
    case OAI_API_DEEPSEEK:
        deepseek_profile(m, t, p);
        break;
    case OAI_API_QWEN:
        qwen_profile(m, t, p);
        break;
    default:
        generic_profile(m, t, p);
        break;
    }
    if (c->response_format != OAI_RF_AUTO) {
        p->rf = (oai_rf)c->response_format;
    } else if (p->schema_ok) {
        p->rf = OAI_RF_JSON_SCHEMA;
    } else if (p->thinking && p->api != OAI_API_OPENAI) {
        /* DeepSeek's reasoner takes no response_format; forcing JSON from the
         * first token leaves a local model no room to reason. */
        p->rf = OAI_RF_NONE;
    } else {
        p->rf = OAI_RF_JSON_OBJECT;
    }
    p->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms
                    : p->thinking     ? OAI_TIMEOUT_THINKING_MS
                                      : OAI_TIMEOUT_MS;
}

/* ------------------------------------------------------------- checks */

static int refuse(const char **key, const char *k, char *why, size_t cap, const char *msg)
{
    *key = k;
    snprintf(why, cap, "%s", msg);
    return AT_ECONFIG;
}

int oai_check_config(const oai_cfg *c, const char **key, char *why, size_t cap)
{
    int rc = aic_check_base_url(c->base_url, "/chat/completions", "https://api.openai.com/v1", key,
                                why, cap);
    if (rc != AT_OK) {
        return rc;
    }
    if (!c->model || !*c->model || !aic_word(c->model)) {
        return refuse(key, "model", why, cap, "expected a model name without blanks");
    }
    if (c->reasoning_effort) {
        const char *s = c->reasoning_effort;
        bool ok = *s != '\0';
        for (; *s; s++) {
            ok &= *s >= 'a' && *s <= 'z';
        }
        if (!ok) {
            return refuse(key, "reasoning_effort", why, cap,
                          "expected a lower-case word (low, medium, high, max …)");
        }
    }
    if (c->timeout_ms > 0 && c->timeout_ms < 1000) {
        return refuse(key, "timeout", why, cap, "at least 1s (or 0 for the model's default)");
    }
    if (!at_proxy_valid(c->proxy)) {
        return refuse(key, "proxy", why, cap,
                      "expected http://host:port (or http://user:password@host:port, or none)");
    }
    return AT_OK;
}

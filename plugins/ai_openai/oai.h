/* ai_openai internals: the configuration, the model profile it implies
 * (dialect, thinking, parameters), the request body and the answer's
 * parser (the retry schedule and the HTTP exchange are
 * lib/ai_common's, shared with ai_letta). All of it is pure (no host), so
 * tests drive it directly (tests/unit/test_ai_openai.c); ai_openai.c runs
 * the calls on the host. */
#ifndef AI_OPENAI_OAI_H
#define AI_OPENAI_OAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/plugin.h>

/* Which OpenAI-compatible API the base_url speaks: each has its own thinking
 * switch and structured-output support (reference: llm-news-indicators §1-2). */
typedef enum oai_api {
    OAI_API_AUTO = 0, /* from base_url's host; unknown hosts are generic */
    OAI_API_OPENAI,
    OAI_API_DEEPSEEK,
    OAI_API_QWEN,    /* Alibaba Cloud Model Studio (DashScope) compatible mode */
    OAI_API_GENERIC, /* llama.cpp, vLLM, Ollama, gateways: no dialect extras */
} oai_api;

typedef enum oai_think {
    OAI_THINK_AUTO = 0, /* think only where the model cannot answer otherwise */
    OAI_THINK_ON,
    OAI_THINK_OFF,
} oai_think;

typedef enum oai_rf {
    OAI_RF_AUTO = 0,
    OAI_RF_JSON_SCHEMA,
    OAI_RF_JSON_OBJECT,
    OAI_RF_NONE,
} oai_rf;

extern const char *const oai_api_names[];
extern const char *const oai_think_names[];
extern const char *const oai_rf_names[];

/* The instance's configuration; first member of the plugin's context, so
 * the schema's offsets are offsets into both. */
typedef struct oai_cfg {
    const char *base_url;
    const char *api_key; /* NULL for servers without keys */
    const char *model;
    int api;      /* oai_api */
    int thinking; /* oai_think */
    const char *reasoning_effort;
    double temperature;
    int64_t max_tokens;  /* 0 = not sent */
    int64_t timeout_ms;  /* per attempt; 0 = 120 s thinking, 30 s otherwise */
    int response_format; /* oai_rf */
    bool strict_schema;
    double price_in, price_out; /* USD per million prompt / completion tokens */
    int64_t max_retries;
    const char *proxy; /* NULL = [core] proxy, "none" = direct */
    int64_t max_response;
} oai_cfg;

/* The schema ({0}-terminated) over oai_cfg. */
extern const at_cfg_field oai_schema[];

/* What the configuration means for the requests. */
typedef struct oai_profile {
    oai_api api;            /* resolved, never AUTO */
    bool thinking;          /* the model reasons before it answers */
    int think_switch;       /* -1: send nothing; 0: ask for no thinking; 1: ask for thinking */
    bool send_temperature;  /* reasoning models refuse or ignore it */
    bool completion_tokens; /* max_completion_tokens (OpenAI) instead of max_tokens */
    bool schema_ok;         /* the model takes response_format json_schema */
    oai_rf rf;              /* wanted; json_schema needs the request's schema */
    int64_t timeout_ms;     /* per attempt */
} oai_profile;

#define OAI_TIMEOUT_THINKING_MS 120000
#define OAI_TIMEOUT_MS 30000

void oai_profile_resolve(const oai_cfg *c, oai_profile *p);
/* check_config: AT_OK, or AT_ECONFIG with *key and why. */
int oai_check_config(const oai_cfg *c, const char **key, char *why, size_t cap);

/* The Chat Completions body of a call (malloc'd, NUL-terminated), or NULL
 * with `why` (no memory, no user prompt). *sent says which response_format
 * went out: json_schema falls back to json_object when the request has no
 * usable schema, json_object to none when no prompt says "json" (the APIs
 * refuse json_object then); *note (static text or NULL) says why. */
char *oai_body_build(const oai_cfg *c, const oai_profile *p, const at_ai_request *req, oai_rf *sent,
                     const char **note, char *why, size_t cap);

/* One parsed answer. Strings are malloc'd (oai_answer_clear frees them). */
typedef struct oai_answer {
    int err;         /* AT_OK when the model answered */
    char error[512]; /* why not: "HTTP 402: Insufficient Balance" */
    char *content;   /* never NULL when err == AT_OK ("" for a null content) */
    char *reasoning; /* reasoning_content (or reasoning), or NULL */
    char *refusal;   /* or NULL */
    char *model;     /* the model that answered, or NULL */
    char *finish_reason;
    int64_t tokens_in, tokens_out;
} oai_answer;

/* An HTTP answer (status, body of len bytes) as a model's reply or an error
 * naming the status and the API's message. `api_key` (may be NULL) is cut
 * out of any text the server echoed. */
void oai_parse(int status, const char *body, size_t len, const char *api_key, oai_answer *out);
void oai_answer_clear(oai_answer *a);
/* USD for these tokens at the configured prices (0 when unpriced). */
double oai_cost(const oai_cfg *c, int64_t tokens_in, int64_t tokens_out);

#endif

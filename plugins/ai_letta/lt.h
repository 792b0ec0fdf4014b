/* ai_letta internals. The pure parts (lt_config.c, lt_body.c, lt_parse.c,
 * lt_journal.c, lt_files.c) build what goes to the Letta server and read
 * what comes back (reference: llm-news-indicators §3, letta 0.16.8); unit
 * tests and the fuzzer drive them directly. ai_letta.c (the at_ai_ops),
 * lt_agent.c (one queue per agent) and lt_store.c (the stored agent ids)
 * run them on the host. */
#ifndef AI_LETTA_LT_H
#define AI_LETTA_LT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/plugin.h>

/* The instance's configuration; first member of the plugin's context, so
 * the schema's offsets are offsets into both. */
typedef struct lt_cfg {
    const char *base_url;
    const char *api_key; /* NULL for a server without a password */
    const char *model;   /* Letta model handle: openai/gpt-4o-mini */
    const char *embedding;
    at_cfg_list models; /* trader:handle, overriding model per trader */
    const char *agent_prefix;
    const char *memory_dir;
    int64_t block_limit;   /* characters of a memory file's block */
    int64_t journal_limit; /* characters of trade_journal */
    int64_t timeout_ms;    /* per HTTP attempt; 0 = LT_TIMEOUT_MS */
    double price_in, price_out;
    int64_t max_retries;
    const char *proxy;
    int64_t max_response;
    int64_t queue_max; /* jobs waiting per agent */
    int64_t max_steps; /* model steps of a turn */
} lt_cfg;

extern const at_cfg_field lt_schema[];

#define LT_TIMEOUT_MS 120000           /* an agent's turn runs several model steps */
#define LT_FEEDBACK_DEADLINE_MS 120000 /* a journal write, retries included */
#define LT_LABEL_SYSTEM "aitrader_system"
#define LT_LABEL_JOURNAL "trade_journal"
#define LT_JOURNAL_EMPTY "(no outcomes yet)"
#define LT_LABEL_MAX 64
#define LT_ID_MAX 128
#define LT_FILE_MAX (1024 * 1024) /* a memory file's bytes at most */

/* check_config: AT_OK, or AT_ECONFIG with *key and why. */
int lt_check_config(const lt_cfg *c, const char **key, char *why, size_t cap);
/* Whether s is a Letta model handle "provider/model" without blanks. */
bool lt_handle_ok(const char *s);
/* The model handle for `trader`: its `models` entry, else `model`. */
const char *lt_model_for(const lt_cfg *c, const char *trader);

/* ------------------------------------------------------------ bodies */

/* One core memory block to create. */
typedef struct lt_block {
    const char *label;
    const char *value;
    int64_t limit;
    const char *description;
} lt_block;

/* POST /v1/agents/ (CreateAgent): name, model, embedding (may be NULL),
 * the blocks (read-only: the agent's tools must not rewrite them), tags
 * and metadata naming the trader. malloc'd JSON, NULL on no memory or
 * text that is not UTF-8. */
char *lt_body_agent(const char *name, const char *model, const char *embedding, const char *trader,
                    const lt_block *blocks, size_t n);
/* POST /v1/agents/{id}/messages: one user message and max_steps (when > 0). */
char *lt_body_message(const char *user, int64_t max_steps);
/* PATCH …/core-memory/blocks/{label}: {"value": …, "limit": …} (the
 * limit too: a system prompt or block_limit may have grown). */
char *lt_body_value(const char *value, int64_t limit);
/* POST /v1/blocks/ (CreateBlock). */
char *lt_body_block(const lt_block *b);

/* ------------------------------------------------------------ answers */

/* A block as the server has it. */
typedef struct lt_block_info {
    char *id, *label, *value;
} lt_block_info;

/* An agent (AgentState): id, name, model and its blocks. Strings malloc'd. */
typedef struct lt_agent_info {
    char *id, *name, *model;
    lt_block_info *blocks;
    size_t nblocks;
} lt_agent_info;

/* AT_OK with the agent, AT_EIO with why (not JSON, no id). */
int lt_parse_agent(const char *body, size_t len, lt_agent_info *out, char *why, size_t cap);
/* GET /v1/agents/?name=: AT_OK with the first agent named exactly `name`,
 * AT_ENOENT when none is, AT_EIO when the answer is not a list. */
int lt_parse_agent_list(const char *body, size_t len, const char *name, lt_agent_info *out,
                        char *why, size_t cap);
void lt_agent_info_clear(lt_agent_info *a);
/* A BlockResponse: AT_OK with its id and value (malloc'd), else AT_EIO. */
int lt_parse_block(const char *body, size_t len, lt_block_info *out, char *why, size_t cap);
void lt_block_info_clear(lt_block_info *b);

/* The answer of a message (LettaResponse). Strings malloc'd. */
typedef struct lt_answer {
    int err;         /* AT_OK when an assistant_message came */
    char error[512]; /* why not */
    char *content;   /* the last assistant_message's text; never NULL when err == AT_OK */
    char *reasoning; /* every reasoning_message's text, one a line, or NULL */
    char *stop_reason;
    int64_t tokens_in, tokens_out;
    size_t messages, unknown; /* messages read, of which of a type ignored */
} lt_answer;

/* A 200 answer's body as the agent's answer or an error (AT_EIO): the
 * decision is the last assistant_message's content (a string, or a list
 * of parts whose text is joined); reasoning_message texts become the
 * reasoning; unknown message types are ignored; a stop_reason other than
 * end_turn with no assistant_message is the error. */
void lt_parse_answer(const char *body, size_t len, lt_answer *out);
void lt_answer_clear(lt_answer *a);
/* The finish_reason a stop_reason means for the trader: end_turn "stop",
 * max_tokens_exceeded "length", others as they are. */
const char *lt_finish_reason(const char *stop_reason);

/* ------------------------------------------------------------ journal */

/* trade_journal's new value: `old` (LT_JOURNAL_EMPTY counts as empty) with
 * `entry` appended as its last line (blanks and line breaks folded), then
 * whole lines dropped from the oldest until it fits `limit` bytes (an
 * entry alone over it is cut). malloc'd, NULL on no memory. */
char *lt_journal_append(const char *old, const char *entry, size_t limit);
/* An entry as one line: blanks, line breaks and control bytes folded to
 * single spaces, none at the ends. malloc'd. */
char *lt_journal_fold(const char *entry);
/* Whether a line of the journal ends with `tail` (a folded "decision <id>:
 * <text>"): the outcome was written already (the venue's state replayed
 * after a restart tells it again). */
bool lt_journal_has(const char *journal, const char *tail);

/* ------------------------------------------------------------ files */

/* One memory file: label = its name without the extension. */
typedef struct lt_file {
    char label[LT_LABEL_MAX];
    char *value;
} lt_file;

/* The memory files of `dir` (*.md and *.txt whose stem is a valid label:
 * letters, digits, '_' and '-'; of a .md and a .txt of one stem the .md),
 * read whole, sorted by label, at most `max`: AT_OK with `why` naming the
 * first file left out and why (not UTF-8 text as jansson takes it, over
 * 1 MiB, a reserved label …; "" when none was), or AT_EIO when the
 * directory cannot be read (an absent one holds no files). */
int lt_files_read(const char *dir, lt_file *out, size_t max, size_t *n, char *why, size_t cap);
void lt_files_clear(lt_file *f, size_t n);
/* Whether n bytes are text jansson takes (json_stringn): UTF-8 without
 * overlong forms, surrogates, code points over U+10FFFF, or NUL. */
bool lt_utf8_ok(const char *s, size_t n);
/* 64-bit FNV-1a of a block's value: what was synced. */
uint64_t lt_hash(const char *s);
/* Whether s is a label (1 to LT_LABEL_MAX-1 of [A-Za-z0-9_-]), an id the
 * server gave (1 to LT_ID_MAX-1 of them: "agent-<uuid>"), safe in a path. */
bool lt_label_ok(const char *s);
bool lt_id_ok(const char *s);

#endif

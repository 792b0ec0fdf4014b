/* Helper processes of engine tests (the fake LLM and Letta servers, the
 * recording proxy): started as `python3 <source>/tests/<script>
 * --stdin-exit [args]`, each prints its URL on its first line once it
 * listens; closing its stdin (fake_proc_stop) makes it exit. And a plain
 * HTTP exchange with one through the engine's own client, an instance of
 * the harness's engine by name, and an AI provider's answer kept for
 * assertions. */
#ifndef AT_TEST_FAKE_PROC_H
#define AT_TEST_FAKE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <aitrader/plugin.h>

#include "harness.h"

typedef struct fake_proc {
    pid_t pid;
    int in; /* its stdin */
    char url[128];
} fake_proc;

/* script relative to tests/ ("fake_llm/fake_llm.py"); args NULL-terminated
 * (may be NULL). Fails the test when it does not print its URL in 10 s. */
void fake_proc_start(fake_proc *p, const char *script, const char *const *args);
/* Idempotent. */
void fake_proc_stop(fake_proc *p);
/* METHOD url with body (may be NULL), never through a proxy, on the
 * harness's loop; the answer's body (malloc'd), its status in *status when
 * not NULL, else asserted 200. */
char *fake_http(harness *h, const char *method, const char *url, const char *body, int *status);
/* text with every `from` replaced by `to` (malloc'd). */
char *fake_subst(const char *text, const char *from, const char *to);

/* The engine's instance `name` ("ai.letta"); fails the test when none is. */
at_instance *fake_instance(const char *name);

/* An AI provider's answer (at_ai_done_cb's reply, copied). */
typedef struct ai_answer {
    int calls, err, attempts;
    char *error, *content, *reasoning, *refusal, *model, *finish;
    int64_t tin, tout, latency_ms;
    double cost;
} ai_answer;

/* at_ai_done_cb with arg = an ai_answer. */
void ai_answer_done(void *arg, const at_ai_reply *r);
void ai_answer_clear(ai_answer *a);
/* harness_run_until predicate: the answer came. */
bool ai_answer_came(void *arg);

#endif

/* Fuzz target for plugins/ai_letta/lt_parse.c and lt_journal.c (what a
 * Letta server answers, any bytes).
 *
 * The input is a LettaResponse, an AgentState, a list of them or a block.
 * lt_parse_answer either answers (AT_OK with a content, reasoning only when
 * a reasoning_message had text) or fails (AT_EIO with a one-line reason and
 * no content); the agent parsers answer AT_OK with an id, AT_ENOENT or
 * AT_EIO with a reason; every block they keep has a label and a value. The
 * journal built from the input (as an entry, and as an old journal) stays
 * within its limit, one entry a line, and holds the entry's text. A memory
 * file's bytes pass lt_utf8_ok exactly when jansson takes them as a string
 * (json_stringn) and they hold no NUL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_letta: property violated: %s\n", what);
        abort();
    }
}

static void check_agent(int rc, const lt_agent_info *a, const char *why)
{
    check(rc == AT_OK || rc == AT_ENOENT || rc == AT_EIO || rc == AT_ENOMEM, "known agent result");
    if (rc == AT_OK) {
        check(a->id && a->id[0], "an agent has an id");
        for (size_t i = 0; i < a->nblocks; i++) {
            check(a->blocks[i].label && a->blocks[i].value, "a kept block has label and value");
        }
    } else if (rc == AT_EIO) {
        check(why[0] != '\0', "an unreadable agent says why");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    lt_answer a;
    lt_parse_answer(body, size, &a);
    if (a.err == AT_OK) {
        check(a.content != NULL, "an answer has a content");
        check(!a.reasoning || a.reasoning[0], "reasoning is absent or has text");
        check(a.tokens_in >= 0 && a.tokens_out >= 0, "token counts are not negative");
    } else {
        check(a.err == AT_EIO, "a failed answer is AT_EIO");
        check(a.error[0] && !strchr(a.error, '\n') && !a.content, "one-line reason, no content");
    }
    json_t *str = json_stringn(body, size);
    check(lt_utf8_ok(body, size) == (str != NULL && !memchr(body, 0, size)),
          "memory files are checked as jansson checks strings");
    json_decref(str);
    const char *fr = lt_finish_reason(a.stop_reason);
    check(fr && fr[0], "a finish reason");
    lt_answer_clear(&a);

    lt_agent_info ag;
    char why[300] = "";
    check_agent(lt_parse_agent(body, size, &ag, why, sizeof(why)), &ag, why);
    lt_agent_info_clear(&ag);
    why[0] = '\0';
    check_agent(lt_parse_agent_list(body, size, "aitrader-alpha", &ag, why, sizeof(why)), &ag, why);
    lt_agent_info_clear(&ag);
    lt_block_info b;
    int rc = lt_parse_block(body, size, &b, why, sizeof(why));
    check(rc != AT_OK || (b.label && b.value), "a block has label and value");
    lt_block_info_clear(&b);

    /* the input as text: an entry, then the old journal of another */
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    size_t limit = 64 + size % 200;
    char *j = lt_journal_append(text, "decision d1: filled", limit);
    char *k = j ? lt_journal_append(j, text, limit) : NULL;
    if (j) {
        check(strlen(j) <= limit, "journal within its limit");
        check(lt_journal_has(j, "decision d1: filled"), "the appended entry is found");
    }
    if (k) {
        check(strlen(k) <= limit, "journal within its limit");
        char *last = strrchr(k, '\n');
        char *folded = lt_journal_fold(text);
        check(!folded || strncmp(last ? last + 1 : k, folded, strlen(last ? last + 1 : k)) == 0,
              "the newest line is the entry (cut to the limit)");
        free(folded);
    }
    free(j);
    free(k);
    free(text);
    return 0;
}

/* A message's blocks brought in line with the memory files and the
 * trader's system prompt (PATCHed when their text changed, created and
 * attached when new), the message itself, and a journal write (trade_journal
 * read and PATCHed with the outcome appended). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_run.h"

static void put_block(lt_job *j, const char *label, const char *value);
static void on_message(lt_job *j, const aic_res *res);

/* Whether `text` is news about file `label` (not the last thing said of
 * it), remembered: each file's warning once, not at every message. */
static bool news(lt_ctx *L, const char *label, const char *text)
{
    uint64_t h = lt_hash(text);
    for (size_t i = 0; i < L->nsaid; i++) {
        if (strcmp(L->said[i].label, label) == 0) {
            bool fresh = L->said[i].hash != h;
            L->said[i].hash = h;
            return fresh;
        }
    }
    lt_known *p = realloc(L->said, (L->nsaid + 1) * sizeof(*p));
    if (p) {
        L->said = p;
        snprintf(p[L->nsaid].label, sizeof(p[L->nsaid].label), "%s", label);
        p[L->nsaid++].hash = h;
    }
    return true;
}

/* The memory files of this job (read once per job). */
void lt_read_files(lt_job *j)
{
    lt_ctx *L = j->a->L;
    if (j->read_files) {
        return;
    }
    j->read_files = true;
    char why[512];
    int rc = lt_files_read(L->memory_dir, j->files, LT_MAX_FILES, &j->nfiles, why, sizeof(why));
    if ((rc != AT_OK || why[0]) && strcmp(why, L->files_said) != 0) {
        L->h->log(L->inst, AT_LOG_WARN, "memory files: %s", why);
    }
    snprintf(L->files_said, sizeof(L->files_said), "%s", why);
}

static int64_t chars(const char *s)
{
    int64_t n = 0;
    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

static const char FILE_BLOCK_DESC[] = "the operator's file, kept in sync by aitrader";

/* A file's text fits its block and the block can be built (else it is left
 * out, said once per file and reason). */
bool lt_file_usable(lt_job *j, const lt_file *f)
{
    lt_ctx *L = j->a->L;
    char said[512];
    int64_t n = chars(f->value);
    if (n > L->cfg.block_limit) {
        snprintf(said, sizeof(said), "%s/%s.*: %" PRId64 " characters, over block_limit %" PRId64,
                 L->memory_dir, f->label, n, L->cfg.block_limit);
    } else {
        char *body =
            lt_body_block(&(lt_block){f->label, f->value, L->cfg.block_limit, FILE_BLOCK_DESC});
        free(body);
        if (body) {
            return true;
        }
        snprintf(said, sizeof(said), "%s/%s.*: its block cannot be built (out of memory?)",
                 L->memory_dir, f->label);
    }
    if (news(L, f->label, said)) {
        L->h->log(L->inst, AT_LOG_WARN, "memory files: %s: not synced", said);
    }
    return false;
}

int64_t lt_system_limit(const lt_ctx *L, const char *system)
{
    int64_t n = chars(system);
    return n > L->cfg.block_limit ? n : L->cfg.block_limit;
}

static void known_drop(lt_agent *a, const char *label)
{
    lt_known *k = lt_known_of(a, label);
    if (k) {
        *k = a->known[--a->nknown];
    }
}

static int64_t limit_of(const lt_ctx *L, const char *label, const char *value)
{
    if (strcmp(label, LT_LABEL_JOURNAL) == 0) {
        return L->cfg.journal_limit;
    }
    return strcmp(label, LT_LABEL_SYSTEM) == 0 ? lt_system_limit(L, value) : L->cfg.block_limit;
}

/* label's block holds new_value now: a journal write is done, a message
 * goes on with the next block. */
static void block_done(lt_job *j, const char *how)
{
    lt_agent *a = j->a;
    lt_known_set(a, j->new_label, j->new_value);
    a->L->h->log(a->L->inst, j->kind == LT_JOB_FEEDBACK ? AT_LOG_DEBUG : AT_LOG_INFO,
                 "%s: block %s %s", a->name, j->new_label, how);
    free(j->new_label);
    free(j->new_value);
    j->new_label = j->new_value = NULL;
    if (j->kind == LT_JOB_FEEDBACK) {
        lt_job_end(j);
    } else {
        lt_sync_next(j);
    }
}

/* A 404 on a block of an agent that is there: the block is not on it
 * (detached on the server): created and attached. */
static void patched_404(lt_job *j, const char *error)
{
    lt_agent *a = j->a;
    if (!lt_known_of(a, j->new_label)) {
        lt_step_fail(j, AT_EINVAL, error);
        return;
    }
    known_drop(a, j->new_label);
    char *label = j->new_label, *value = j->new_value;
    j->new_label = j->new_value = NULL;
    put_block(j, label, value);
    free(label);
    free(value);
}

static void fail_404(lt_job *j, const char *error)
{
    lt_step_fail(j, AT_EINVAL, error);
}

static void on_patched(lt_job *j, const aic_res *res)
{
    if (res->err != AT_OK && res->status == 404) {
        lt_check_gone(j, res, patched_404);
        return;
    }
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    block_done(j, "updated");
}

static void on_attached(lt_job *j, const aic_res *res)
{
    if (res->err != AT_OK && res->status == 404) {
        lt_check_gone(j, res, fail_404);
        return;
    }
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    block_done(j, "created and attached");
}

static void on_block_created(lt_job *j, const aic_res *res)
{
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    lt_block_info b;
    char why[300] = "";
    if (lt_parse_block(res->body, res->len, &b, why, sizeof(why)) != AT_OK || !b.id ||
        !lt_id_ok(b.id)) {
        lt_block_info_clear(&b);
        lt_step_fail(j, AT_EIO, why[0] ? why : "the block's id is missing or malformed");
        return;
    }
    char path[LT_ID_MAX * 2 + 64];
    snprintf(path, sizeof(path), "/v1/agents/%s/core-memory/blocks/attach/%s", j->a->id, b.id);
    lt_block_info_clear(&b);
    lt_request(j, "attaching a block", "PATCH", path, NULL, on_attached);
}

/* Make label's block hold value: PATCH it, or create and attach it. */
static void put_block(lt_job *j, const char *label, const char *value)
{
    lt_agent *a = j->a;
    free(j->new_label);
    free(j->new_value);
    j->new_label = strdup(label);
    j->new_value = strdup(value);
    if (!j->new_label || !j->new_value) {
        lt_step_fail(j, AT_ENOMEM, "out of memory");
        return;
    }
    char *body;
    if (lt_known_of(a, label)) {
        body = lt_body_value(value, limit_of(a->L, label, value));
        char path[LT_ID_MAX + LT_LABEL_MAX + 64];
        snprintf(path, sizeof(path), "/v1/agents/%s/core-memory/blocks/%s", a->id, label);
        if (body) {
            lt_request(j, "updating a memory block", "PATCH", path, body, on_patched);
        }
    } else {
        body = lt_body_block(&(lt_block){label, value, limit_of(a->L, label, value),
                                         strcmp(label, LT_LABEL_JOURNAL) == 0
                                             ? "what became of your decisions, newest last "
                                               "(aitrader)"
                                             : FILE_BLOCK_DESC});
        if (body) {
            lt_request(j, "creating a memory block", "POST", "/v1/blocks/", body, on_block_created);
        }
    }
    if (!body) {
        lt_step_fail(j, AT_EINVAL, "cannot build the block (no memory, or a text not UTF-8)");
    }
    free(body);
}

/* Blocks one by one: the files, then the system prompt; then the message. */
void lt_sync_next(lt_job *j)
{
    lt_agent *a = j->a;
    while (j->sync_next < j->nfiles) {
        const lt_file *f = &j->files[j->sync_next++];
        const lt_known *k = lt_known_of(a, f->label);
        if ((!k || k->hash != lt_hash(f->value)) && lt_file_usable(j, f)) {
            put_block(j, f->label, f->value);
            return;
        }
    }
    if (j->sync_next == j->nfiles) {
        j->sync_next++;
        const char *sys = j->system ? j->system : "";
        const lt_known *k = lt_known_of(a, LT_LABEL_SYSTEM);
        if (!k || k->hash != lt_hash(sys)) {
            put_block(j, LT_LABEL_SYSTEM, sys);
            return;
        }
    }
    char *body = lt_body_message(j->user, a->L->cfg.max_steps);
    if (!body) {
        lt_step_fail(j, AT_EINVAL, "cannot build the message (no memory, or a prompt not UTF-8)");
        return;
    }
    char path[LT_ID_MAX + 64];
    snprintf(path, sizeof(path), "/v1/agents/%s/messages", a->id);
    lt_request(j, "sending the message", "POST", path, body, on_message);
    free(body);
}

static void on_message(lt_job *j, const aic_res *res)
{
    lt_agent *a = j->a;
    lt_ctx *L = a->L;
    if (res->err != AT_OK && res->status == 404) {
        lt_check_gone(j, res, fail_404);
        return;
    }
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    lt_answer an;
    lt_parse_answer(res->body, res->len, &an);
    if (an.err != AT_OK) {
        lt_step_fail(j, an.err, an.error);
        lt_answer_clear(&an);
        return;
    }
    if (an.unknown > 0) {
        L->h->log(L->inst, AT_LOG_DEBUG, "%s: %zu message%s of unknown types ignored", j->id,
                  an.unknown, an.unknown == 1 ? "" : "s");
    }
    at_ai_reply r = {
        .err = AT_OK,
        .content = an.content,
        .reasoning = an.reasoning,
        .finish_reason = lt_finish_reason(an.stop_reason),
        .tokens_in = an.tokens_in,
        .tokens_out = an.tokens_out,
        .cost_usd = aic_cost(L->cfg.price_in, L->cfg.price_out, an.tokens_in, an.tokens_out),
    };
    lt_job_answer(j, &r);
    lt_answer_clear(&an);
}

/* ------------------------------------------------------------ journal */

static void journal_append(lt_job *j, char *value);

/* The agent is there without a journal: created with this entry. */
static void journal_404(lt_job *j, const char *error)
{
    (void)error;
    known_drop(j->a, LT_LABEL_JOURNAL);
    journal_append(j, NULL);
}

static void on_journal_read(lt_job *j, const aic_res *res)
{
    if (res->err != AT_OK && res->status == 404) {
        lt_check_gone(j, res, journal_404);
        return;
    }
    if (res->err != AT_OK) {
        lt_step_fail(j, res->err, res->error);
        return;
    }
    lt_block_info b;
    char why[300] = "";
    if (lt_parse_block(res->body, res->len, &b, why, sizeof(why)) != AT_OK) {
        lt_block_info_clear(&b);
        lt_step_fail(j, AT_EIO, why);
        return;
    }
    char *value = b.value;
    b.value = NULL;
    lt_block_info_clear(&b);
    journal_append(j, value);
}

/* trade_journal's text `value` (taken; NULL when none) with the entry
 * appended, PATCHed (a line there already is not written twice). */
static void journal_append(lt_job *j, char *value)
{
    lt_agent *a = j->a;
    if (value && lt_journal_has(value, j->told)) {
        a->L->h->log(a->L->inst, AT_LOG_DEBUG, "%s: %s is in %s already", a->name, j->told,
                     LT_LABEL_JOURNAL);
        free(value);
        lt_job_end(j);
        return;
    }
    char *next = lt_journal_append(value, j->entry, (size_t)a->L->cfg.journal_limit);
    free(value);
    if (!next) {
        lt_step_fail(j, AT_ENOMEM, "out of memory");
        return;
    }
    put_block(j, LT_LABEL_JOURNAL, next);
    free(next);
}

void lt_journal_write(lt_job *j)
{
    char path[LT_ID_MAX + 64];
    snprintf(path, sizeof(path), "/v1/agents/%s/core-memory/blocks/%s", j->a->id, LT_LABEL_JOURNAL);
    lt_request(j, "reading the trade journal", "GET", path, NULL, on_journal_read);
}

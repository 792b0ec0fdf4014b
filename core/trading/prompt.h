/* Prompt templates of a trader (prompts/system.txt and prompts/user.txt,
 * editable), their rendering, their hash and a token estimate.
 *
 * Placeholders are written {{name}}; the names are PROMPT_VARS below (the
 * README lists what each holds). A template naming anything else, or a
 * `{{` without its `}}`, is refused when the templates are loaded (by
 * check-config and at start), never at the first trigger. The hash is
 * SHA-256 (hex) of the system template, a NUL byte and the user template:
 * the same templates give the same hash, whatever they render to.
 *
 * Token estimate (prompt_tokens), close to what BPE tokenizers do with this
 * kind of text: a run of ASCII letters counts one token per 4 letters
 * (rounded up), a run of digits one per 3 digits, every other printable
 * ASCII character one, a non-ASCII character (UTF-8 sequence) one;
 * whitespace counts nothing. */
#ifndef AT_CORE_TRADING_PROMPT_H
#define AT_CORE_TRADING_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The placeholders a template may use, in a fixed order (prompt_var.name). */
/* clang-format off */
#define PROMPT_VARS                                                                                \
    X(time) X(trigger) X(trader) X(symbols) X(account) X(positions) X(orders) X(history)          \
    X(market) X(news) X(max_leverage) X(max_size_pct) X(take_profit_pct) X(stop_loss_pct)
/* clang-format on */

typedef enum prompt_var_id {
#define X(n) PV_##n,
    PROMPT_VARS
#undef X
        PV__COUNT
} prompt_var_id;

typedef struct prompt_tpl {
    char *system, *user; /* template texts */
    char hash[65];       /* SHA-256 hex of system "\0" user */
} prompt_tpl;

/* Read DIR/system.txt and DIR/user.txt and check their placeholders.
 * AT_OK, or an error with `why` naming the file and line. */
int prompt_load(const char *dir, prompt_tpl *t, char *why, size_t whylen);
void prompt_free(prompt_tpl *t);

/* The template with every placeholder replaced by vals[its id] (NULL = "").
 * Transferred; NULL when out of memory. */
char *prompt_render(const char *tpl, const char *const vals[PV__COUNT]);

/* The documented estimate of how many tokens `s` is. */
int64_t prompt_tokens(const char *s);

/* A growing string for rendering context sections. */
typedef struct tbuf {
    char *s;
    size_t n, cap;
    bool oom;
} tbuf;

void tb_put(tbuf *b, const char *s, size_t n);
void tb_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (transferred; "" when empty, NULL after an allocation failure);
 * the buffer is empty again. */
char *tb_take(tbuf *b);
void tb_free(tbuf *b);

#endif

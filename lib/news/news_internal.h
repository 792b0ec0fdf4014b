/* lib/news's parts for one another (and its tests): the lexicon. */
#ifndef AT_NEWS_INTERNAL_H
#define AT_NEWS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "news.h"

typedef struct news_word {
    const char *word; /* lower case */
    double valence;   /* -4 … +4 */
} news_word;

/* The length of a non-ASCII blank or punctuation mark at s (UTF-8: U+00A0
 * to U+00BF, U+2000 to U+207F — quotes, dashes, "…" —, U+3000), else 0:
 * "Bitcoin’s" and "“Ether”" part words there as "Bitcoin's" does. */
static inline size_t news_sep_len(const unsigned char *s)
{
    if (s[0] == 0xC2 && s[1] >= 0xA0 && s[1] <= 0xBF) {
        return 2;
    }
    if (s[0] == 0xE2 && (s[1] == 0x80 || s[1] == 0x81) && s[2] >= 0x80 && s[2] <= 0xBF) {
        return 3;
    }
    return s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
}

/* The lexicon's entry of a lower-case word, or NULL. */
const news_word *news_lexicon_find(const char *w);
size_t news_lexicon_size(void);
const news_word *news_lexicon_at(size_t i);
/* 1 a word that strengthens the next ones ("very"), -1 one that weakens
 * them ("slightly"), 0 neither. */
int news_booster(const char *w);
/* A negation ("not", "never", "isn't" written "isnt"). */
bool news_negation(const char *w);

#endif

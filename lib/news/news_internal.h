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

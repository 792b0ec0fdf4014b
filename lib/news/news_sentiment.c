/* A lexicon sentiment score of a headline (news_sentiment), by the method
 * of VADER (Hutto & Gilbert, 2014) with this engine's crypto lexicon
 * (news_lexicon.c):
 *  - each word's valence; a booster up to three words before shifts it by
 *    0.293 away from zero, a dampener ("slightly") by 0.293 towards it (less
 *    the further it stands: 1, 0.95, 0.9; a booster or dampener in
 *    capitals 0.733 more, where VADER adds to a dampener too), a word in
 *    capitals in a text that is not all capitals by 0.733;
 *  - a negation up to three words before flips it, scaled by 0.74;
 *  - after "but" the words count 1.5 times, before it 0.5 times;
 *  - '!' adds 0.292 each (at most 4), and two or three '?' 0.18 each (0.96
 *    past three; one adds nothing), in the direction of the sum;
 *  - compound = sum / sqrt(sum² + 15), in [-1, 1]. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "news_internal.h"

#define B_INCR 0.293
#define C_INCR 0.733
#define N_SCALAR (-0.74)
#define ALPHA 15.0
#define MAX_WORDS 256

typedef struct word {
    char low[32]; /* lower case, apostrophes dropped ("isn't" -> "isnt") */
    bool caps;    /* written in capitals (two letters or more) */
} word;

static size_t split(const char *text, word *w, size_t max, size_t *excl, size_t *quest)
{
    size_t n = 0;
    *excl = *quest = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (*s && n < max) {
        if (*s == '!') {
            (*excl)++;
        } else if (*s == '?') {
            (*quest)++;
        }
        if (!(isalnum(*s) || *s == '-' || *s == '\'')) {
            s++;
            continue;
        }
        size_t k = 0, letters = 0, upper = 0;
        while (*s && (isalnum(*s) || *s == '-' || *s == '\'')) {
            if (*s != '\'' && k + 1 < sizeof(w[n].low)) {
                w[n].low[k++] = (char)tolower(*s);
            }
            letters += isalpha(*s) != 0;
            upper += isupper(*s) != 0;
            s++;
        }
        while (k > 0 && w[n].low[k - 1] == '-') {
            k--;
        }
        w[n].low[k] = '\0';
        w[n].caps = letters >= 2 && upper == letters;
        if (k > 0) {
            n++;
        }
    }
    return n;
}

/* The word's valence: itself, else its stem without -s, -es, -ed, -d,
 * -ing ("surges", "plunged", "crashing"). */
static double valence(const char *w)
{
    const news_word *e = news_lexicon_find(w);
    if (e) {
        return e->valence;
    }
    static const char *const ends[] = {"ing", "es", "ed", "s", "d"};
    size_t n = strlen(w);
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        size_t el = strlen(ends[i]);
        if (n > el + 2 && strcmp(w + n - el, ends[i]) == 0) {
            char stem[32];
            memcpy(stem, w, n - el);
            stem[n - el] = '\0';
            if ((e = news_lexicon_find(stem))) {
                return e->valence;
            }
            if (strcmp(ends[i], "ing") == 0 || strcmp(ends[i], "ed") == 0) {
                stem[n - el] = 'e'; /* "surging" -> "surge" */
                stem[n - el + 1] = '\0';
                if ((e = news_lexicon_find(stem))) {
                    return e->valence;
                }
            }
        }
    }
    return 0;
}

double news_sentiment(const char *text, int *hits)
{
    word w[MAX_WORDS];
    size_t excl, quest;
    size_t n = split(text ? text : "", w, MAX_WORDS, &excl, &quest);
    size_t caps = 0;
    for (size_t i = 0; i < n; i++) {
        caps += w[i].caps;
    }
    bool shouting = n > 0 && caps == n;
    double v[MAX_WORDS] = {0};
    int counted = 0;
    for (size_t i = 0; i < n; i++) {
        double x = valence(w[i].low);
        if (x == 0) {
            continue;
        }
        counted++;
        if (w[i].caps && !shouting) {
            x += x > 0 ? C_INCR : -C_INCR;
        }
        for (size_t back = 1; back <= 3 && back <= i; back++) {
            const word *p = &w[i - back];
            int b = news_booster(p->low);
            if (b) {
                double scale = back == 1 ? 1.0 : back == 2 ? 0.95 : 0.9;
                double d = B_INCR * scale * b;
                if (p->caps && !shouting) {
                    d += d > 0 ? C_INCR : -C_INCR;
                }
                x += x > 0 ? d : -d;
            }
            if (news_negation(p->low)) {
                x *= N_SCALAR;
            }
        }
        v[i] = x;
    }
    /* "but": what follows matters more than what came before */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(w[i].low, "but") == 0) {
            for (size_t k = 0; k < n; k++) {
                v[k] *= k < i ? 0.5 : k > i ? 1.5 : 1;
            }
            break;
        }
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
    }
    if (hits) {
        *hits = counted;
    }
    if (sum != 0) {
        double emph = (excl > 4 ? 4 : (double)excl) * 0.292;
        emph += quest > 3 ? 0.96 : quest > 1 ? (double)quest * 0.18 : 0;
        sum += sum > 0 ? emph : -emph;
    }
    double c = sum / sqrt(sum * sum + ALPHA);
    return c < -1 ? -1 : c > 1 ? 1 : c;
}

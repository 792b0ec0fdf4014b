/* The crypto market lexicon of news_sentiment: words of headlines about
 * coins and markets with a valence on VADER's scale (-4 very negative … +4
 * very positive), set for this engine — a word means here what it means
 * for a price ("surge", "hack", "delist", "approval"), not in general
 * speech. Lower case; the scorer folds case and tries a plural's or verb
 * form's stem ("surges", "surged" -> "surge"). Sorted: bsearch. */
#include <stdlib.h>
#include <string.h>

#include "news_internal.h"

static const news_word WORDS[] = {
    {"accumulate", 1.2}, {"accumulation", 1.2}, {"adopt", 1.5},         {"adoption", 1.8},
    {"all-time", 1.0},   {"approval", 2.2},     {"approve", 2.0},       {"ath", 2.0},
    {"attack", -2.4},    {"ban", -2.6},         {"bankrupt", -3.4},     {"bankruptcy", -3.4},
    {"bear", -1.6},      {"bearish", -2.2},     {"beat", 1.4},          {"bleed", -2.0},
    {"boom", 2.2},       {"boost", 1.8},        {"breach", -2.6},       {"breakout", 1.9},
    {"bull", 1.6},       {"bullish", 2.2},      {"capitulation", -2.6}, {"collapse", -3.2},
    {"concern", -1.2},   {"crackdown", -2.4},   {"crash", -3.0},        {"crisis", -2.8},
    {"decline", -1.6},   {"default", -2.8},     {"delay", -1.2},        {"delist", -2.6},
    {"delisting", -2.6}, {"dip", -1.1},         {"drain", -2.0},        {"drop", -1.6},
    {"dump", -2.4},      {"exploit", -2.8},     {"fail", -2.2},         {"failure", -2.4},
    {"fall", -1.6},      {"fear", -2.0},        {"fine", -1.4},         {"fomo", 0.8},
    {"fraud", -3.0},     {"fud", -1.6},         {"gain", 1.8},          {"green", 1.0},
    {"grow", 1.4},       {"growth", 1.6},       {"hack", -3.0},         {"halt", -2.0},
    {"high", 0.8},       {"inflow", 1.6},       {"insolvent", -3.2},    {"jump", 1.8},
    {"launch", 1.0},     {"lawsuit", -2.2},     {"liquidate", -2.2},    {"liquidation", -2.2},
    {"loss", -2.0},      {"low", -0.8},         {"manipulation", -2.4}, {"moon", 2.4},
    {"optimism", 2.0},   {"optimistic", 2.0},   {"outage", -2.2},       {"outflow", -1.6},
    {"outperform", 1.8}, {"panic", -2.6},       {"partnership", 1.6},   {"plummet", -3.0},
    {"plunge", -2.8},    {"pump", 1.4},         {"rally", 2.4},         {"rebound", 1.8},
    {"record", 1.2},     {"recover", 1.6},      {"recovery", 1.6},      {"red", -1.0},
    {"reject", -1.8},    {"rejection", -1.8},   {"rise", 1.6},          {"risk", -1.0},
    {"rug", -3.0},       {"scam", -3.2},        {"seize", -2.4},        {"sell-off", -2.4},
    {"selloff", -2.4},   {"settlement", -0.6},  {"shutdown", -2.4},     {"sink", -2.0},
    {"slide", -1.8},     {"slump", -2.4},       {"soar", 2.6},          {"stable", 0.8},
    {"stolen", -3.0},    {"strong", 1.6},       {"struggle", -1.6},     {"sue", -2.0},
    {"support", 1.0},    {"surge", 2.4},        {"suspend", -2.2},      {"theft", -3.0},
    {"threat", -2.0},    {"tumble", -2.6},      {"uncertainty", -1.4},  {"upgrade", 1.6},
    {"uptrend", 1.8},    {"volatile", -0.8},    {"warn", -1.6},         {"warning", -1.6},
    {"weak", -1.6},      {"win", 2.0},          {"withdraw", -1.0},     {"worry", -1.8},
};

static const char *const BOOSTERS_UP[] = {
    "absolutely",    "deeply", "enormously", "especially",    "extremely", "greatly",
    "highly",        "hugely", "incredibly", "massively",     "really",    "sharply",
    "significantly", "so",     "strongly",   "substantially", "very",
};
static const char *const BOOSTERS_DOWN[] = {
    "barely", "hardly", "marginally", "modestly", "partly", "slightly", "somewhat",
};
static const char *const NEGATIONS[] = {
    "aint",    "arent",    "cannot",  "cant",   "couldnt", "didnt",  "doesnt",  "dont", "hasnt",
    "havent",  "isnt",     "neither", "never",  "no",      "nobody", "none",    "nor",  "not",
    "nothing", "shouldnt", "wasnt",   "werent", "without", "wont",   "wouldnt",
};

static int cmp_word(const void *k, const void *e)
{
    return strcmp((const char *)k, ((const news_word *)e)->word);
}

const news_word *news_lexicon_find(const char *w)
{
    return bsearch(w, WORDS, sizeof(WORDS) / sizeof(WORDS[0]), sizeof(WORDS[0]), cmp_word);
}

size_t news_lexicon_size(void)
{
    return sizeof(WORDS) / sizeof(WORDS[0]);
}

const news_word *news_lexicon_at(size_t i)
{
    return i < news_lexicon_size() ? &WORDS[i] : NULL;
}

static bool in(const char *const *list, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], w) == 0) {
            return true;
        }
    }
    return false;
}

int news_booster(const char *w)
{
    return in(BOOSTERS_UP, sizeof(BOOSTERS_UP) / sizeof(BOOSTERS_UP[0]), w)         ? 1
           : in(BOOSTERS_DOWN, sizeof(BOOSTERS_DOWN) / sizeof(BOOSTERS_DOWN[0]), w) ? -1
                                                                                    : 0;
}

bool news_negation(const char *w)
{
    return in(NEGATIONS, sizeof(NEGATIONS) / sizeof(NEGATIONS[0]), w);
}

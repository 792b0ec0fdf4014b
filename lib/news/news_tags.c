/* The currencies a headline mentions (news_tags): by name in any case
 * ("Bitcoin", "ether"), by ticker in capitals or after '$' ("SOL", "$sol").
 * A ticker in lower case is a word of some language too often ("sol",
 * "ada", "link", "dot"), so it does not count; in a text written in
 * capitals ("BITCOIN NEAR $100K") only names and '$' tickers count. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "news_internal.h"

typedef struct coin {
    const char *code;
    const char *names[4]; /* whole words, any case; "^Name": capitalised only (a common word) */
} coin;

static const coin COINS[] = {
    {"BTC", {"bitcoin", "bitcoins", "xbt", NULL}},
    {"ETH", {"ethereum", "ether", NULL, NULL}},
    {"SOL", {"solana", NULL, NULL, NULL}},
    {"XRP", {"^ripple", "xrp", NULL, NULL}},
    {"DOGE", {"dogecoin", "doge", NULL, NULL}},
    {"ADA", {"cardano", NULL, NULL, NULL}},
    {"BNB", {"bnb", NULL, NULL, NULL}},
    {"TON", {"toncoin", NULL, NULL, NULL}},
    {"TRX", {"tron", NULL, NULL, NULL}},
    {"AVAX", {"^avalanche", "avax", NULL, NULL}},
    {"LINK", {"chainlink", NULL, NULL, NULL}},
    {"DOT", {"polkadot", NULL, NULL, NULL}},
    {"LTC", {"litecoin", "ltc", NULL, NULL}},
    {"SHIB", {"shiba", "shib", NULL, NULL}},
    {"PEPE", {"pepe", NULL, NULL, NULL}},
    {"SUI", {NULL, NULL, NULL, NULL}},
    {"ARB", {"arbitrum", NULL, NULL, NULL}},
    {"NEAR", {NULL, NULL, NULL, NULL}},
    {"UNI", {"uniswap", NULL, NULL, NULL}},
    {"FIL", {"filecoin", NULL, NULL, NULL}},
};
#define NCOINS (sizeof(COINS) / sizeof(COINS[0]))

/* A letter, a digit or a byte of a non-ASCII letter (not of a blank or a
 * punctuation mark: news_sep_len). */
static bool word_at(const unsigned char *s)
{
    return isalnum(*s) || (*s >= 0x80 && news_sep_len(s) == 0);
}

int news_tags(const char *text, char *out, size_t cap)
{
    bool hit[NCOINS] = {false};
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t upper = 0, lower = 0;
    for (size_t k = 0; s[k]; k++) {
        upper += isupper(s[k]) != 0;
        lower += islower(s[k]) != 0;
    }
    bool shouting = upper > 3 * (lower + 1);
    size_t i = 0;
    while (s[i]) {
        if (!word_at(s + i)) {
            size_t sl = news_sep_len(s + i);
            i += sl ? sl : 1;
            continue;
        }
        size_t b = i;
        while (s[i] && word_at(s + i)) {
            i++;
        }
        size_t n = i - b;
        bool dollar = b > 0 && s[b - 1] == '$';
        bool caps = true;
        for (size_t k = b; k < i; k++) {
            caps &= !islower(s[k]);
        }
        for (size_t c = 0; c < NCOINS; c++) {
            const coin *x = &COINS[c];
            bool m = ((caps && !shouting) || dollar) && strlen(x->code) == n &&
                     strncasecmp((const char *)s + b, x->code, n) == 0;
            for (size_t k = 0; !m && k < 4 && x->names[k]; k++) {
                const char *name = x->names[k];
                bool capital = name[0] == '^';
                name += capital;
                m = strlen(name) == n && strncasecmp((const char *)s + b, name, n) == 0 &&
                    (!capital || isupper(s[b]));
            }
            hit[c] |= m;
        }
    }
    int count = 0;
    size_t used = 0;
    if (cap > 0) {
        out[0] = '\0';
    }
    for (size_t c = 0; c < NCOINS; c++) {
        if (!hit[c]) {
            continue;
        }
        int w = snprintf(out + used, cap > used ? cap - used : 0, "%s%s", count ? "," : "",
                         COINS[c].code);
        if (w < 0 || used + (size_t)w >= cap) {
            if (cap > used) {
                out[used] = '\0'; /* what fits, whole codes only */
            }
            break;
        }
        used += (size_t)w;
        count++;
    }
    return count;
}

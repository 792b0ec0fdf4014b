/* The currencies a headline mentions (news_tags): by name in any case
 * ("Bitcoin", "ether"), by ticker in capitals or after '$' ("SOL", "$sol").
 * A ticker in lower case is a word of some language too often ("sol",
 * "ada", "link", "dot"), so it does not count; in a text written in
 * capitals ("BITCOIN NEAR $100K") only names and '$' tickers count. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "news.h"

typedef struct coin {
    const char *code;
    const char *names[4]; /* whole words, any case */
} coin;

static const coin COINS[] = {
    {"BTC", {"bitcoin", "bitcoins", "xbt", NULL}},
    {"ETH", {"ethereum", "ether", NULL, NULL}},
    {"SOL", {"solana", NULL, NULL, NULL}},
    {"XRP", {"ripple", "xrp", NULL, NULL}},
    {"DOGE", {"dogecoin", "doge", NULL, NULL}},
    {"ADA", {"cardano", NULL, NULL, NULL}},
    {"BNB", {"bnb", NULL, NULL, NULL}},
    {"TON", {"toncoin", NULL, NULL, NULL}},
    {"TRX", {"tron", NULL, NULL, NULL}},
    {"AVAX", {"avalanche", "avax", NULL, NULL}},
    {"LINK", {"chainlink", NULL, NULL, NULL}},
    {"DOT", {"polkadot", NULL, NULL, NULL}},
    {"LTC", {"litecoin", "ltc", NULL, NULL}},
    {"SHIB", {"shiba", "shib", NULL, NULL}},
    {"PEPE", {"pepe", NULL, NULL, NULL}},
    {"SUI", {NULL, NULL, NULL, NULL}},
    {"APT", {"aptos", NULL, NULL, NULL}},
    {"ARB", {"arbitrum", NULL, NULL, NULL}},
    {"OP", {"optimism", NULL, NULL, NULL}},
    {"NEAR", {NULL, NULL, NULL, NULL}},
    {"UNI", {"uniswap", NULL, NULL, NULL}},
    {"FIL", {"filecoin", NULL, NULL, NULL}},
};
#define NCOINS (sizeof(COINS) / sizeof(COINS[0]))

static bool word_char(unsigned char c)
{
    return isalnum(c) || c >= 0x80; /* a byte of a UTF-8 letter is part of a word */
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
        if (!word_char(s[i])) {
            i++;
            continue;
        }
        size_t b = i;
        while (word_char(s[i])) {
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
                m = strlen(x->names[k]) == n &&
                    strncasecmp((const char *)s + b, x->names[k], n) == 0;
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

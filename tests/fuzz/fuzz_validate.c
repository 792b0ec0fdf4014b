/* Fuzz target for core/trading/validate.c (the decision validator).
 *
 * The input is an AI answer, any bytes. vd_parse must return AT_OK or
 * AT_EINVAL; an invalid answer has a reason and no items; a valid one holds
 * only what the trader's limits allow (symbols of the list, each once; opens
 * within max_size_pct and max_leverage, whole leverage, a reason, exits on
 * the right side of the price; closes within (0, 1]; texts within
 * VD_TEXT_MAX) and its canonical JSON is valid JSON. The same input as a
 * provider's reply (finish_reason "stop") gives the same verdict. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decimal.h"
#include "trading/validate.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_validate: property violated: %s\n", what);
        abort();
    }
}

static const char *const SYMS[] = {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP"};

static void check_item(const vd_limits *lim, const vd_item *it)
{
    at_dec one = {1, 0};
    check(it->sym < lim->nsymbols, "symbol index in range");
    check((unsigned)it->action <= AT_ACT_CLOSE_SHORT, "known action");
    check(strlen(it->reason) <= VD_TEXT_MAX && strlen(it->invalidation) <= VD_TEXT_MAX,
          "texts within VD_TEXT_MAX");
    check(isnan(it->confidence) || (it->confidence >= 0 && it->confidence <= 1),
          "confidence in [0, 1]");
    bool open = it->action == AT_ACT_OPEN_LONG || it->action == AT_ACT_OPEN_SHORT;
    bool is_long = it->action == AT_ACT_OPEN_LONG;
    if (open) {
        check(it->size_pct.m > 0 && at_dec_cmp(it->size_pct, lim->max_size_pct) <= 0,
              "open size_pct in (0, max_size_pct]");
        check(it->leverage.scale == 0 && it->leverage.m >= 1 &&
                  at_dec_cmp(it->leverage, lim->max_leverage) <= 0,
              "open leverage whole in [1, max_leverage]");
        check(it->reason[0] != '\0', "an entry has a reason");
        at_dec px = lim->prices[it->sym];
        if (it->take_profit.m) {
            int c = at_dec_cmp(it->take_profit, px);
            check(it->take_profit.m > 0 && (is_long ? c > 0 : c < 0), "take_profit side");
        }
        if (it->stop_loss.m) {
            int c = at_dec_cmp(it->stop_loss, px);
            check(it->stop_loss.m > 0 && (is_long ? c < 0 : c > 0), "stop_loss side");
        }
    } else if (it->action != AT_ACT_HOLD) {
        check(it->size_pct.m > 0 && at_dec_cmp(it->size_pct, one) <= 0, "close size_pct in (0, 1]");
        check(it->take_profit.m == 0 && it->stop_loss.m == 0, "closes carry no exits");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    at_dec prices[3] = {{90000, 0}, {3000, 0}, {15, 2}};
    vd_limits lim = {.symbols = SYMS,
                     .nsymbols = 3,
                     .prices = prices,
                     .max_size_pct = {2, 1},
                     .max_leverage = {10, 0}};
    static vd_decision d, d2;
    char why[VD_WHY_LEN], why2[VD_WHY_LEN];
    int rc = vd_parse((const char *)data, size, &lim, &d, why, sizeof(why));
    check(rc == AT_OK || rc == AT_EINVAL, "rc is AT_OK or AT_EINVAL");
    check(memchr(why, '\0', sizeof(why)) != NULL, "reason terminated");
    if (rc != AT_OK) {
        check(why[0] != '\0', "an invalid answer says why");
        check(d.n == 0, "an invalid answer has no items");
    } else {
        check(d.n <= AT_DECISION_MAX, "at most AT_DECISION_MAX items");
        for (size_t i = 0; i < d.n; i++) {
            check_item(&lim, &d.items[i]);
            for (size_t k = 0; k < i; k++) {
                check(d.items[k].sym != d.items[i].sym, "one item per symbol");
            }
        }
        char *j = vd_to_json(&d, &lim);
        check(j != NULL, "canonical JSON written");
        json_error_t je;
        json_t *v = json_loads(j, 0, &je);
        check(v != NULL && json_array_size(json_object_get(v, "decisions")) == d.n,
              "canonical JSON parses with every item");
        json_decref(v);
        free(j);
    }
    /* As a provider's reply: the same verdict (text without NUL bytes). */
    if (size > 0 && !memchr(data, '\0', size)) {
        char *text = malloc(size + 1);
        check(text != NULL, "malloc");
        memcpy(text, data, size);
        text[size] = '\0';
        at_ai_reply r = {.err = AT_OK, .content = text, .finish_reason = "stop"};
        int rc2 = vd_reply(&r, &lim, &d2, why2, sizeof(why2));
        check(rc2 == rc, "vd_reply agrees with vd_parse");
        check(rc != AT_OK || d2.n == d.n, "same number of items");
        check(rc == AT_OK || strcmp(why, why2) == 0, "same reason");
        free(text);
    }
    return 0;
}

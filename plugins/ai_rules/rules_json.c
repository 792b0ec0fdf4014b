/* The decision object (CONTRACTS §4) as compact JSON, written with jansson
 * so strings are escaped as any JSON reader expects.
 *
 * Numbers: the rules give each one as exact decimal text with at most 15
 * significant digits (prices rounded to price_digits, confidence to 2
 * decimals); such a decimal survives the trip through a double and
 * jansson's "%.15g", so the text is that decimal (jansson writes a real
 * without a point as "105.0", and below 1e-4 with an exponent, "1.2345e-5":
 * both plain JSON numbers). leverage is an integer. */
#include <stdlib.h>

#include <jansson.h>

#include "ai_rules.h"

static int put_real(json_t *o, const char *key, const char *text)
{
    return json_object_set_new(o, key, json_real(strtod(text, NULL)));
}

char *rules_json(const rules_item *items, size_t n)
{
    char *out = NULL;
    json_t *root = json_object();
    json_t *list = json_array();
    if (!root || !list || json_object_set(root, "decisions", list) != 0) {
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const rules_item *it = &items[i];
        json_t *d = json_object();
        if (!d || json_array_append_new(list, d) != 0 ||
            json_object_set_new(d, "symbol", json_string(it->symbol)) != 0 ||
            json_object_set_new(d, "action", json_string(it->action)) != 0 ||
            put_real(d, "size_pct", it->size_pct) != 0 ||
            json_object_set_new(d, "leverage", json_integer(it->leverage)) != 0 ||
            put_real(d, "take_profit", it->take_profit) != 0 ||
            put_real(d, "stop_loss", it->stop_loss) != 0 ||
            put_real(d, "confidence", it->confidence) != 0 ||
            json_object_set_new(d, "reason", json_string(it->reason)) != 0 ||
            json_object_set_new(d, "invalidation", json_string(it->invalidation)) != 0) {
            goto fail;
        }
    }
    out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
fail:
    json_decref(list);
    json_decref(root);
    return out;
}

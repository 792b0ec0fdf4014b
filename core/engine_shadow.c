/* The shadow-vs-live comparison of the engine control API (method
 * "shadow", engine_api.c): for each trader with a shadow account and each
 * of its symbols, what core.ledger books to the trader on its live account
 * and on its shadow account side by side: PnL (realized, unrealized, net),
 * fees, funding, the contracts held, round trips and their hit rate. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "decimal.h"
#include "engine_internal.h"

static json_t *dec_json(at_dec d)
{
    char s[AT_DEC_STRLEN];
    return json_string(at_dec_text(at_dec_normalize(d), s));
}

/* One account's figures; `booked` false when nothing was booked there yet
 * (zeros, not an error: a trader that never went shadow). */
static json_t *side_json(const ledger *l, const char *origin, const char *account, at_inst inst)
{
    ledger_sym s;
    bool booked = l && ledger_sym_of(l, origin, account, inst, &s) == AT_OK;
    if (!booked) {
        memset(&s, 0, sizeof(s));
        s.unrealized_known = true;
    }
    at_dec total = s.realized;
    at_dec_add(total, s.fees, &total);
    at_dec_add(total, s.funding, &total);
    at_dec_add(total, s.unrealized, &total);
    json_t *o = json_object();
    bool ok = o != NULL;
    ok &= json_object_set_new(o, "account", json_string(account)) == 0;
    ok &= json_object_set_new(o, "booked", json_boolean(booked)) == 0;
    ok &= json_object_set_new(o, "realized", dec_json(s.realized)) == 0;
    ok &= json_object_set_new(o, "unrealized",
                              s.unrealized_known ? dec_json(s.unrealized) : json_null()) == 0;
    ok &= json_object_set_new(o, "fees", dec_json(s.fees)) == 0;
    ok &= json_object_set_new(o, "funding", dec_json(s.funding)) == 0;
    ok &= json_object_set_new(o, "net", s.unrealized_known ? dec_json(total) : json_null()) == 0;
    ok &= json_object_set_new(o, "position", dec_json(s.position)) == 0;
    ok &= json_object_set_new(o, "round_trips", json_integer((json_int_t)s.round_trips)) == 0;
    ok &= json_object_set_new(o, "wins", json_integer((json_int_t)s.wins)) == 0;
    ok &= json_object_set_new(o, "hit_rate",
                              s.round_trips ? json_real((double)s.wins / (double)s.round_trips)
                                            : json_null()) == 0;
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *engine_shadow_rows(engine *e, size_t only)
{
    json_t *arr = json_array();
    const at_host *h = engine_host();
    for (size_t i = 0; arr && i < e->ntraders; i++) {
        const trader_settings *t = &e->traders[i];
        if ((only != SIZE_MAX && i != only) || !t->shadow_account) {
            continue;
        }
        const char *dot = strchr(e->trader_names[i], '.');
        const char *name = dot ? dot + 1 : e->trader_names[i];
        for (size_t k = 0; k < t->symbols.n; k++) {
            at_inst inst = h->inst_intern(t->symbols.items[k]);
            /* set_new takes each value, added or not */
            json_t *row = json_object();
            bool ok = row && json_object_set_new(row, "trader", json_string(name)) == 0 &&
                      json_object_set_new(row, "symbol", json_string(t->symbols.items[k])) == 0;
            ok = json_object_set_new(row, "live", side_json(e->ledger, name, t->account, inst)) ==
                     0 &&
                 ok;
            ok = json_object_set_new(row, "shadow",
                                     side_json(e->ledger, name, t->shadow_account, inst)) == 0 &&
                 ok;
            if (!ok) {
                json_decref(row);
            }
            if (!ok || json_array_append_new(arr, row) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
    }
    return arr;
}

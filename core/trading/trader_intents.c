/* A trader's decision into orders: each valid item sized (sizing.c) into one
 * ORDER_INTENT in the account's position mode, with its TP/SL, or a note
 * saying why not; the DECISION event. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "decimal.h"
#include "ledger.h"
#include "trader_internal.h"

static int64_t now_ms(const trader *t)
{
    return t->h->now_us() / 1000;
}

/* ------------------------------------------------------------ intents */

/* "ai" + the first 28 hex digits of SHA-256(intent id): alphanumeric, 30
 * characters (OKX takes 32; the attached TP/SL adds one), the same for the
 * same intent, and no two intents share one in practice. */
void tr_cl_ord_id(const char *intent_id, char out[AT_ID_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(intent_id, strlen(intent_id), md, &n, EVP_sha256(), NULL) != 1 || n < 14) {
        out[0] = '\0'; /* the executor derives one from the intent id */
        return;
    }
    snprintf(out, AT_ID_LEN, "ai");
    for (unsigned i = 0; i < 14; i++) {
        snprintf(out + 2 + 2 * i, 3, "%02x", md[i]);
    }
}

/* The position of `book` an item closes: its contracts (signed in net
 * mode) and side. */
static at_dec position_of(const trader *t, const tr_symbol *s, int book, bool is_long,
                          at_pos_side *side)
{
    const tr_position *hedge = &s->pos[book][is_long ? AT_POS_LONG : AT_POS_SHORT];
    const tr_position *net = &s->pos[book][AT_POS_NET];
    tr_pos_mode mode = t->pos_mode[book];
    if (mode != TR_MODE_NET && hedge->pos.m > 0) {
        *side = is_long ? AT_POS_LONG : AT_POS_SHORT;
        return hedge->pos;
    }
    if (mode != TR_MODE_LONG_SHORT && (is_long ? net->pos.m > 0 : net->pos.m < 0)) {
        *side = AT_POS_NET;
        return net->pos;
    }
    *side = AT_POS_NET;
    return (at_dec){0, 0};
}

/* Live or shadow for an entry of `sym` (trader.h 4b): shadow = true is
 * weight 0; else the live_weight of the symbol at this UTC hour on the core
 * clock, drawn when strictly between 0 and 1. */
static int route_entry(trader *t, const tr_call *c, const tr_symbol *s, tr_route *r)
{
    r->gray = t->shadow_account[0] || t->cfg.shadow;
    r->weight = t->cfg.shadow ? 0 : gray_weight(&t->gray, s->name, gray_hour(now_ms(t)));
    if (r->weight >= 1) {
        return TR_LIVE;
    }
    if (r->weight <= 0) {
        return TR_SHADOW;
    }
    r->drawn = true;
    r->draw = gray_draw(t->cfg.gray_seed, t->name, c->key, s->name);
    return r->draw < r->weight ? TR_LIVE : TR_SHADOW;
}

/* The trader's own contracts of a book's position (core.ledger), at most
 * the venue's, in `out` (0: none of this direction is the trader's; the
 * ledger's figure is signed, a short's < 0, as what_to_close reads it): an
 * account the trader shares (a shadow venue serving several traders, or a
 * live account beside another trader's shadow) is closed only for its part.
 * False with `note` when the ledger cannot tell (none, or still reading the
 * journal or a fill's order): nothing is closed then, since the venue's
 * figure may be another trader's live position. */
static bool own_contracts(trader *t, const tr_symbol *s, int book, at_pos_side side, bool is_long,
                          at_dec venue, at_dec *out, char *note, size_t notelen)
{
    const ledger *lg = t->cfg.ledger;
    const char *account = tr_book_account(t, book);
    at_dec own, abs_venue = venue;
    abs_venue.m = abs_venue.m < 0 ? -abs_venue.m : abs_venue.m;
    if (!lg || !ledger_ready(lg)) {
        snprintf(note, notelen, "not closed: %s, the trader's own %s on %s unknown",
                 lg ? "core.ledger is still booking fills" : "no ledger",
                 is_long ? "long" : "short", account);
        t->h->log(t->inst, AT_LOG_WARN,
                  "%s %s: %s: the venue's position may be another trader's, so %s closes none of "
                  "it (ask again)",
                  s->name, is_long ? "long" : "short", note, t->name);
        return false;
    }
    *out = (at_dec){0, 0};
    if (ledger_position_of(lg, t->name, account, s->id, side, &own) != AT_OK) {
        return true;
    }
    if (!is_long) {
        own.m = -own.m; /* a short's contracts are < 0 */
    }
    if (own.m > 0) {
        *out = t->h->dec_cmp(own, abs_venue) < 0 ? own : abs_venue;
    }
    return true;
}

/* The fields every intent of the item shares. */
static bool intent_base(trader *t, const tr_call *c, size_t idx, const char *suffix, int book,
                        at_ev_order_intent *o, char *note, size_t notelen)
{
    memset(o, 0, sizeof(*o));
    int k = snprintf(o->intent_id, sizeof(o->intent_id), "%s/%zu%s", c->key, idx, suffix);
    if (k < 0 || (size_t)k >= sizeof(o->intent_id)) {
        snprintf(note, notelen, "the intent id %s/%zu%s is too long", c->key, idx, suffix);
        return false;
    }
    tr_cl_ord_id(o->intent_id, o->cl_ord_id);
    snprintf(o->account, sizeof(o->account), "%s", tr_book_account(t, book));
    snprintf(o->origin, sizeof(o->origin), "%s", t->name);
    snprintf(o->decision_id, sizeof(o->decision_id), "%s", c->key);
    o->ord_type = AT_ORDT_MARKET;
    /* without a shadow account, shadow marks the intent on the account
     * itself: checked and stored by the executor, never sent */
    o->shadow = book == TR_SHADOW || (t->cfg.shadow && !t->shadow_account[0]);
    return true;
}

/* A close of `book`'s position: true with the intent, false when the book
 * holds none (nothing said) or it cannot be sized (`note`). */
static bool plan_close(trader *t, const tr_call *c, const vd_item *it, size_t idx, int book,
                       const char *suffix, at_ev_order_intent *o, bool *held, char *note,
                       size_t notelen)
{
    tr_symbol *s = &t->sym[it->sym];
    bool is_long = it->action == AT_ACT_CLOSE_LONG;
    at_pos_side side;
    at_dec venue = position_of(t, s, book, is_long, &side), pos = venue;
    if (venue.m == 0) {
        return false;
    }
    /* a trader with a shadow route closes only its own contracts, live or
     * shadow: a fully shadow trader must never close another's live ones */
    bool routed = t->shadow_account[0] != '\0';
    if (routed && !own_contracts(t, s, book, side, is_long, venue, &pos, note, notelen)) {
        *held = true;
        return false;
    }
    if (pos.m == 0) {
        return false;
    }
    *held = true;
    bool full;
    if (!intent_base(t, c, idx, suffix, book, o, note, notelen) ||
        sz_close(pos, it->size_pct, &s->spec, &o->sz, &full, note, notelen) != AT_OK) {
        return false;
    }
    /* an account shared with other traders: only this one's contracts, and
     * never a close-position on the live one (it would take whatever another
     * trader holds there by the time it runs) */
    at_dec abs_venue = venue;
    abs_venue.m = abs_venue.m < 0 ? -abs_venue.m : abs_venue.m;
    full = full && t->h->dec_cmp(o->sz, abs_venue) == 0 && !(routed && book == TR_LIVE);
    o->op = full ? AT_INTENT_CLOSE_POSITION : AT_INTENT_PLACE;
    o->side = is_long ? AT_SIDE_SELL : AT_SIDE_BUY;
    o->pos_side = side;
    o->reduce_only = true;
    return true;
}

size_t tr_plan_item(trader *t, const tr_call *c, const vd_item *it, size_t idx,
                    at_ev_order_intent out[TR_ITEM_INTENTS], tr_pending *pend, tr_route *route,
                    char *note, size_t notelen)
{
    tr_symbol *s = &t->sym[it->sym];
    bool open = it->action == AT_ACT_OPEN_LONG || it->action == AT_ACT_OPEN_SHORT;
    bool is_long = it->action == AT_ACT_OPEN_LONG || it->action == AT_ACT_CLOSE_LONG;
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN];
    at_ev_order_intent *o = &out[0];
    if (!s->has_spec) {
        snprintf(note, notelen, "no instrument data (ctVal, lotSz, minSz) for %s", s->name);
        return 0;
    }
    /* The answer may come long after the prompt: an entry acts on the
     * market the AI saw or not at all; getting out does not wait. */
    char stale[TR_NOTE_LEN];
    bool fresh = tr_price_ok(t, it->sym, c->prompt_px[it->sym], stale, sizeof(stale));
    if (open && !fresh) {
        t->st.stale_refused++;
        snprintf(note, notelen, "%s", stale);
        return 0;
    }
    if (open) {
        int book = route_entry(t, c, s, route);
        if (!intent_base(t, c, idx, "", book, o, note, notelen)) {
            return 0;
        }
        /* sized from the live account's equity whatever the route: the
         * shadow book is what the live one would have done */
        at_dec px = tr_price(t, it->sym);
        if (sz_open(t->has_balance ? t->total_eq : (at_dec){0, 0}, it->size_pct, it->leverage, px,
                    &s->spec, &o->sz, note, notelen) != AT_OK) {
            return 0;
        }
        at_dec tp = it->take_profit, sl = it->stop_loss;
        if (!tp.m && sz_exit_price(px, t->tp_pct, is_long, s->spec.tick_sz, &tp) != AT_OK) {
            snprintf(note, notelen, "no default take-profit (take_profit_pct)");
            return 0;
        }
        if (!sl.m && sz_exit_price(px, t->sl_pct, !is_long, s->spec.tick_sz, &sl) != AT_OK) {
            snprintf(note, notelen, "no default stop-loss (stop_loss_pct)");
            return 0;
        }
        at_dec_text(px, b);
        if (!sz_exit_ok(tp, px, is_long, true)) {
            at_dec_text(tp, a);
            snprintf(note, notelen, "refused: take_profit %s is not %s the price %s", a,
                     is_long ? "above" : "below", b);
            return 0;
        }
        if (!sz_exit_ok(sl, px, is_long, false)) {
            at_dec_text(sl, a);
            snprintf(note, notelen, "refused: stop_loss %s is not %s the price %s", a,
                     is_long ? "below" : "above", b);
            return 0;
        }
        o->op = AT_INTENT_PLACE;
        o->side = is_long ? AT_SIDE_BUY : AT_SIDE_SELL;
        o->pos_side = t->pos_mode[book] == TR_MODE_LONG_SHORT
                          ? (is_long ? AT_POS_LONG : AT_POS_SHORT)
                          : AT_POS_NET;
        o->tp_trigger_px = tp;
        o->sl_trigger_px = sl;
        o->leverage = it->leverage;
        *pend = (tr_pending){.sym = it->sym, .dir = is_long ? 0 : 1, .book = book};
        snprintf(pend->cl_ord_id, sizeof(pend->cl_ord_id), "%s", o->cl_ord_id);
        snprintf(pend->intent_id, sizeof(pend->intent_id), "%s", o->intent_id);
        tr_thesis *th = &pend->thesis;
        snprintf(th->decision_id, sizeof(th->decision_id), "%s", c->key);
        th->ts_ms = now_ms(t);
        th->tp = tp;
        th->sl = sl;
        snprintf(th->reason, sizeof(th->reason), "%s", it->reason);
        snprintf(th->invalidation, sizeof(th->invalidation), "%s", it->invalidation);
        if (book == TR_SHADOW) {
            t->st.shadow_entries++;
        } else {
            t->st.live_entries++;
        }
        return 1;
    }
    /* A close goes where the trader holds the position: the live account
     * and the shadow account (with a shadow route, its own contracts in
     * each; without, the live venue's position, as always). */
    size_t n = 0;
    bool held = false;
    char why[TR_NOTE_LEN] = "";
    if (plan_close(t, c, it, idx, TR_LIVE, "", &out[n], &held, why, sizeof(why))) {
        n++;
    }
    if (t->shadow_account[0] &&
        plan_close(t, c, it, idx, TR_SHADOW, n ? "/s" : "", &out[n], &held, why, sizeof(why))) {
        t->st.shadow_closes++;
        n++;
    }
    if (n == 0) {
        if (held && why[0]) {
            snprintf(note, notelen, "%s", why);
        } else {
            snprintf(note, notelen, "no %s position to close", is_long ? "long" : "short");
        }
        return 0;
    }
    if (!fresh) {
        t->h->log(t->inst, AT_LOG_WARN, "%s: %s %s sent all the same (a close does not wait): %s",
                  c->key, vd_action_name(it->action), s->name, stale);
    }
    return n;
}

static const char *const OPS[] = {"place", "cancel", "amend", "close_position", "cancel_algo"};
static const char *const POS_SIDES[] = {"net", "long", "short"};

void tr_note_intent(const trader *t, json_t *arr, size_t idx, const vd_item *it,
                    const at_ev_order_intent *o, at_dec prompt_px, const tr_route *route,
                    const char *note)
{
    json_t *x = json_object();
    json_object_set_new(x, "item", json_integer((json_int_t)idx));
    json_object_set_new(x, "symbol", json_string(t->sym[it->sym].name));
    json_object_set_new(x, "action", json_string(vd_action_name(it->action)));
    if (note) {
        json_object_set_new(x, "note", json_string(note));
    } else {
        char a[AT_DEC_STRLEN];
        json_object_set_new(x, "intent_id", json_string(o->intent_id));
        json_object_set_new(x, "cl_ord_id", json_string(o->cl_ord_id));
        json_object_set_new(x, "account", json_string(o->account));
        json_object_set_new(x, "op", json_string(OPS[o->op]));
        json_object_set_new(x, "ord_type", json_string("market"));
        json_object_set_new(x, "side", json_string(o->side == AT_SIDE_BUY ? "buy" : "sell"));
        json_object_set_new(x, "pos_side", json_string(POS_SIDES[o->pos_side]));
        at_dec_text(o->sz, a);
        json_object_set_new(x, "sz", json_string(a));
        if (o->tp_trigger_px.m) {
            at_dec_text(o->tp_trigger_px, a);
            json_object_set_new(x, "tp", json_string(a));
        }
        if (o->sl_trigger_px.m) {
            at_dec_text(o->sl_trigger_px, a);
            json_object_set_new(x, "sl", json_string(a));
        }
        if (o->leverage.m) {
            at_dec_text(o->leverage, a);
            json_object_set_new(x, "leverage", json_string(a));
        }
        json_object_set_new(x, "reduce_only", json_boolean(o->reduce_only));
        json_object_set_new(x, "shadow", json_boolean(o->shadow));
        json_object_set_new(x, "route", json_string(o->shadow ? "shadow" : "live"));
        /* an entry's routing: its weight, and the draw when one was made */
        if (route && !o->reduce_only) {
            json_object_set_new(x, "live_weight", json_real(route->weight));
            if (route->drawn) {
                json_object_set_new(x, "draw", json_real(route->draw));
            }
        }
        /* what an entry published again after a restart is checked against */
        if (prompt_px.m > 0) {
            at_dec_text(prompt_px, a);
            json_object_set_new(x, "prompt_px", json_string(a));
        }
    }
    json_array_append_new(arr, x);
}

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

int tr_intent_from_json(const trader *t, const json_t *x, const char *decision_id,
                        at_ev_order_intent *o, char *why, size_t whylen)
{
    const char *iid = json_string_value(json_object_get(x, "intent_id"));
    const char *cl = json_string_value(json_object_get(x, "cl_ord_id"));
    const char *acc = json_string_value(json_object_get(x, "account"));
    const char *sym = json_string_value(json_object_get(x, "symbol"));
    const char *type = json_string_value(json_object_get(x, "ord_type"));
    int op = name_index(OPS, 5, json_string_value(json_object_get(x, "op")));
    int ps = name_index(POS_SIDES, 3, json_string_value(json_object_get(x, "pos_side")));
    const char *side = json_string_value(json_object_get(x, "side"));
    const char *sz = json_string_value(json_object_get(x, "sz"));
    memset(o, 0, sizeof(*o));
    if (!iid || !cl || !cl[0] || strlen(iid) >= AT_ID_LEN || strlen(cl) >= AT_ID_LEN) {
        snprintf(why, whylen, "no intent id or clOrdId");
        return AT_EINVAL;
    }
    /* Only what this trader writes: a market place or close on its own
     * account (or shadow account); anything else was written by other code
     * and is not guessed. */
    int book = acc ? tr_book_of(t, acc) : -1;
    if (book < 0) {
        snprintf(why, whylen, "account %s is not this trader's %s%s%s", acc ? acc : "(none)",
                 t->account, t->shadow_account[0] ? " or " : "", t->shadow_account);
        return AT_EINVAL;
    }
    if (!type || strcmp(type, "market") != 0 ||
        (op != AT_INTENT_PLACE && op != AT_INTENT_CLOSE_POSITION)) {
        snprintf(why, whylen, "not a market place or close_position");
        return AT_EINVAL;
    }
    int k = sym ? tr_symbol_index(t, t->h->inst_intern(sym)) : -1;
    if (k < 0) {
        snprintf(why, whylen, "symbol %s is not traded by this trader", sym ? sym : "(none)");
        return AT_EINVAL;
    }
    if (ps < 0 || !side || (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0) || !sz ||
        t->h->dec_parse(sz, (size_t)-1, &o->sz) != AT_OK || o->sz.m <= 0) {
        snprintf(why, whylen, "side, pos_side or sz missing or bad");
        return AT_EINVAL;
    }
    const char *const exits[] = {"tp", "sl", "leverage"};
    at_dec *dst[] = {&o->tp_trigger_px, &o->sl_trigger_px, &o->leverage};
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(x, exits[i]);
        if (v && (!json_is_string(v) ||
                  t->h->dec_parse(json_string_value(v), (size_t)-1, dst[i]) != AT_OK)) {
            snprintf(why, whylen, "%s is not a decimal string", exits[i]);
            return AT_EINVAL;
        }
    }
    snprintf(o->intent_id, sizeof(o->intent_id), "%s", iid);
    snprintf(o->cl_ord_id, sizeof(o->cl_ord_id), "%s", cl);
    snprintf(o->account, sizeof(o->account), "%s", tr_book_account(t, book));
    snprintf(o->origin, sizeof(o->origin), "%s", t->name);
    snprintf(o->decision_id, sizeof(o->decision_id), "%s", decision_id);
    o->h.inst = t->sym[k].id;
    o->op = (at_intent_op)op;
    o->side = side[0] == 'b' ? AT_SIDE_BUY : AT_SIDE_SELL;
    o->pos_side = (at_pos_side)ps;
    o->ord_type = AT_ORDT_MARKET;
    o->reduce_only = json_is_true(json_object_get(x, "reduce_only"));
    o->shadow = json_is_true(json_object_get(x, "shadow"));
    if (book == TR_SHADOW && !o->shadow) {
        snprintf(why, whylen, "an intent on the shadow account %s not marked shadow", acc);
        return AT_EINVAL;
    }
    return AT_OK;
}

int tr_publish_intent(trader *t, const at_ev_order_intent *in)
{
    at_ev_order_intent *o = (at_ev_order_intent *)t->h->event_new(t->inst, AT_EV_ORDER_INTENT, 0);
    if (!o) {
        return AT_ENOMEM;
    }
    /* The copy keeps the new event's header (its reference count) with the
     * intent's instrument. */
    at_event hdr = o->h;
    *o = *in;
    hdr.inst = in->h.inst;
    o->h = hdr;
    t->h->publish(t->inst, &o->h, 0);
    t->st.intents++;
    return AT_OK;
}

void tr_publish_decision(trader *t, const tr_call *c, const at_ai_reply *r, const vd_decision *d,
                         const char *why)
{
    const char *model = r->model ? r->model : "";
    size_t extra = strlen(model) + 1 + (why ? strlen(why) + 1 : 0);
    for (size_t i = 0; d && i < d->n; i++) {
        extra += strlen(d->items[i].reason) + strlen(d->items[i].invalidation) + 2;
    }
    at_ev_decision *e = (at_ev_decision *)t->h->event_new(t->inst, AT_EV_DECISION, extra);
    if (!e) {
        t->h->log(t->inst, AT_LOG_ERROR, "%s: out of memory: DECISION not published", c->key);
        return;
    }
    snprintf(e->decision_id, sizeof(e->decision_id), "%s", c->key);
    snprintf(e->trader, sizeof(e->trader), "%s", t->name);
    snprintf(e->provider, sizeof(e->provider), "%s", t->ai_name);
    snprintf(e->trigger_key, sizeof(e->trigger_key), "%s", c->key);
    e->model = t->h->event_strdup(&e->h, model);
    e->valid = d != NULL;
    e->invalid_reason = d ? NULL : t->h->event_strdup(&e->h, why);
    e->latency_ms = c->latency_ms;
    e->tokens_in = c->tokens_in;
    e->tokens_out = c->tokens_out;
    e->cost_usd = c->cost_usd;
    for (size_t i = 0; d && i < d->n; i++) {
        const vd_item *it = &d->items[i];
        at_decision_item *x = &e->items[i];
        x->symbol = t->sym[it->sym].id;
        x->action = it->action;
        x->size_pct = t->h->dec_to_double(it->size_pct);
        x->leverage = t->h->dec_to_double(it->leverage);
        x->take_profit = it->take_profit;
        x->stop_loss = it->stop_loss;
        x->confidence = it->confidence;
        x->reason = t->h->event_strdup(&e->h, it->reason);
        x->invalidation = t->h->event_strdup(&e->h, it->invalidation);
    }
    e->n = d ? (uint32_t)d->n : 0;
    t->h->publish(t->inst, &e->h, 0);
}

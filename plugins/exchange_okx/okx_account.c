/* Account setup and account events: account/config (position mode, uid),
 * leverage per instrument, then the private WebSocket (login; account,
 * positions and orders channels) turned into BALANCE and POSITION events and
 * stored (accounts, positions; the equity curve is core.equity's, from
 * BALANCE), and the business
 * WebSocket logged in for the orders-algo channel (OKX serves it only
 * there; okx_algo.c). Private pushes are few and small, so jansson parses
 * them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okx_plugin.h"
#include "okx_replay.h"

static int64_t jms(const json_t *o, const char *k)
{
    return strtoll(okx_jstr(o, k), NULL, 10);
}

/* ------------------------------------------------------------ values */

/* An account value that cannot be used ("NaN", "", "abc", "1e999", absent
 * where OKX always sends one) refuses the whole item: stored or published as
 * 0 it would read as a flat position or a 100 % drawdown. The last good
 * event and row stay what the engine knows. */
#define KEPT "the last good values stay"

static void refuse(okx_ctx *c, const char *what, const char *field, const json_t *v)
{
    okx_refuse(c, OKX_WARN_ACCOUNT, what, field, v, KEPT);
}

/* A required field must be an exact decimal; an optional one may also be ""
 * or absent. */
static bool field_dec(okx_ctx *c, const char *what, const json_t *o, const char *k, bool required,
                      at_dec *out)
{
    return okx_field_dec(c, OKX_WARN_ACCOUNT, what, KEPT, o, k, required, out);
}

/* ------------------------------------------------------------ events */

static void on_balance(okx_ctx *c, const json_t *b)
{
    at_dec total, avail, upl;
    /* totalEq goes with every BALANCE event and the equity curve: without a
     * usable one nothing of this push is used. The account's availEq and
     * upl are "" in some account modes (stored as NULL). */
    if (!field_dec(c, "account push", b, "totalEq", true, &total) ||
        !field_dec(c, "account push", b, "availEq", false, &avail) ||
        !field_dec(c, "account push", b, "upl", false, &upl)) {
        return;
    }
    int64_t ts = jms(b, "uTime");
    json_t *details = json_object_get(b, "details");
    size_t i;
    json_t *d;
    json_array_foreach(details, i, d)
    {
        const char *ccy = okx_jstr(d, "ccy");
        char what[64];
        snprintf(what, sizeof(what), "account push (%s)", *ccy ? ccy : "details");
        if (!*ccy) {
            /* "" would read as the account total (events.h) */
            refuse(c, what, "ccy", json_object_get(d, "ccy"));
            continue;
        }
        at_dec eq, av, dupl;
        /* availEq where the account mode has it, else availBal */
        const char *ak = *okx_jstr(d, "availEq") ? "availEq" : "availBal";
        if (!field_dec(c, what, d, "eq", true, &eq) || !field_dec(c, what, d, ak, true, &av) ||
            !field_dec(c, what, d, "upl", true, &dupl)) {
            continue;
        }
        at_ev_balance *e = (at_ev_balance *)c->h->event_new(c->inst, AT_EV_BALANCE, 0);
        if (!e) {
            break;
        }
        snprintf(e->account, sizeof(e->account), "%s", c->name);
        snprintf(e->ccy, sizeof(e->ccy), "%s", ccy);
        e->total_eq = total;
        e->eq = eq;
        e->avail = av;
        e->upl = dupl;
        e->exch_ts_ms = ts;
        c->h->publish(c->inst, &e->h, 0);
    }
    /* No equity_snapshots row here: the equity curve is core.equity's, each
     * minute and after fills, from the totalEq every BALANCE carries (a
     * second writer on each push made the curve's pace the venue's). */
}

static at_pos_side pos_side_of(const char *s)
{
    return strcmp(s, "long") == 0    ? AT_POS_LONG
           : strcmp(s, "short") == 0 ? AT_POS_SHORT
                                     : AT_POS_NET;
}

static void on_position(okx_ctx *c, const json_t *p)
{
    const char *inst_id = okx_jstr(p, "instId");
    const char *side = okx_jstr(p, "posSide");
    const char *mm = okx_jstr(p, "mgnMode");
    char what[96];
    snprintf(what, sizeof(what), "positions push (%s %s)", *inst_id ? inst_id : "?",
             *side ? side : "net");
    if (!*inst_id) {
        refuse(c, what, "instId", json_object_get(p, "instId"));
        return;
    }
    at_dec pos, avg, upl, lever, liq, margin, rpnl;
    if (!field_dec(c, what, p, "pos", true, &pos)) {
        return;
    }
    /* A closed position (pos "0", pushed once) may leave the rest "". */
    bool open = pos.m != 0;
    bool iso = strcmp(mm, "isolated") == 0;
    if (open && !iso && strcmp(mm, "cross") != 0) {
        refuse(c, what, "mgnMode", json_object_get(p, "mgnMode"));
        return;
    }
    /* A cross position's margin is its imr ("margin" is isolated only);
     * liqPx "" means none. lever "" is OKX's for a cross position under
     * portfolio margin ("not applicable"): published as 0 = unknown, stored
     * as NULL; absent or not a decimal it is refused like the rest. */
    const json_t *lv = json_object_get(p, "lever");
    bool lever_none = json_is_string(lv) && !*json_string_value(lv);
    if (!field_dec(c, what, p, "avgPx", open, &avg) || !field_dec(c, what, p, "upl", open, &upl) ||
        !field_dec(c, what, p, "lever", open && !lever_none, &lever) ||
        !field_dec(c, what, p, "liqPx", false, &liq) ||
        !field_dec(c, what, p, iso ? "margin" : "imr", open, &margin) ||
        !field_dec(c, what, p, "realizedPnl", open, &rpnl)) {
        return;
    }
    okx_watch *w = okx_watch_find(c, inst_id, strlen(inst_id));
    const okx_inst *in = w ? w->inst : okx_insts_find(c->insts, inst_id);
    at_ev_position *e = (at_ev_position *)c->h->event_new(c->inst, AT_EV_POSITION, 0);
    if (!e) {
        return;
    }
    e->h.inst = in ? in->id : c->h->inst_intern(inst_id);
    snprintf(e->account, sizeof(e->account), "%s", c->name);
    snprintf(e->pos_id, sizeof(e->pos_id), "%s", okx_jstr(p, "posId"));
    e->pos_side = pos_side_of(side);
    e->isolated = iso;
    e->pos = pos;
    e->avg_px = avg;
    e->upl = upl;
    e->lever = lever;
    if (lever.m > 0) { /* what a place asking for a leverage compares with */
        okx_lever_note(c, inst_id, mm, side, lever);
    }
    e->liq_px = liq;
    e->margin = margin;
    e->realized_pnl = rpnl;
    e->exch_ts_ms = jms(p, "uTime");
    const at_db_value row[] = {AT_DB_S(c->name),
                               AT_DB_S(inst_id),
                               AT_DB_S(side),
                               AT_DB_S(mm),
                               okx_db_dec(c, p, "pos"),
                               okx_db_dec(c, p, "avgPx"),
                               okx_db_dec(c, p, "upl"),
                               okx_db_dec(c, p, "lever"),
                               okx_db_dec(c, p, "liqPx"),
                               okx_db_dec(c, p, "margin"),
                               okx_db_dec(c, p, "realizedPnl"),
                               AT_DB_I(c->h->now_us() / 1000)};
    c->h->db_write(c->inst,
                   "INSERT INTO positions (account, inst_id, pos_side, mgn_mode, pos, avg_px, upl, "
                   "lever, liq_px, margin, realized_pnl, updated_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,"
                   "$8,$9,$10,$11,$12) ON CONFLICT (account, inst_id, pos_side) DO UPDATE SET "
                   "mgn_mode = $4, pos = $5, avg_px = $6, upl = $7, lever = $8, liq_px = $9, "
                   "margin = $10, realized_pnl = $11, updated_ms = $12",
                   row, 12, NULL, NULL);
    c->h->publish(c->inst, &e->h, 0);
}

static bool replayed_feed(okx_ctx *c, const json_t *m);

static void on_private(void *arg, okx_ws *ws, const char *data, size_t len)
{
    okx_ctx *c = arg;
    if (c->rec) {
        okx_record_private(c, data, len);
    }
    okx_account_on_private(c, data, len);
}

void okx_account_on_private(okx_ctx *c, const char *data, size_t len)
{
    json_error_t je;
    json_t *m = json_loadb(data, len, 0, &je);
    if (!m) {
        /* not JSON, or no memory to parse it: either way this push is lost */
        okx_warn_limited(c, OKX_WARN_ACCOUNT, "private push not read (%s): %.*s", je.text,
                         len > 120 ? 120 : (int)len, data);
        return;
    }
    if (replayed_feed(c, m)) {
        json_decref(m);
        return;
    }
    const char *ch = okx_jstr(json_object_get(m, "arg"), "channel");
    json_t *items = json_object_get(m, "data");
    if (!json_is_array(items)) {
        if (json_object_get(m, "op")) {
            okx_trade_on_order_push(c, m); /* a WS op answer (not used yet) */
        }
        json_decref(m);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (strcmp(ch, "account") == 0) {
            on_balance(c, it);
        } else if (strcmp(ch, "positions") == 0) {
            on_position(c, it);
        } else if (strcmp(ch, "orders") == 0) {
            okx_trade_on_order_push(c, it);
        } else if (strcmp(ch, "orders-algo") == 0) {
            okx_algo_on_push(c, it);
        }
    }
    json_decref(m);
}

/* A private feed went up or down: what follows is the same live and in a
 * replay of the account, where the recording's feed line says it (recorded
 * here as a `private` line of its own). */
static void feed_state(okx_ctx *c, bool algo, bool up, int reconnects)
{
    if (c->rec) {
        char line[128];
        int n = snprintf(line, sizeof(line),
                         "{\"" OKX_REC_FEED "\":\"%s\",\"up\":%s,\"reconnects\":%d}",
                         algo ? "algo" : "private", up ? "true" : "false", reconnects);
        okx_record_private(c, line, (size_t)n);
    }
    if (algo && up) {
        /* OKX pushes no snapshot on subscribing, and pushes sent while the
         * feed was away are gone: what is pending now is listed. */
        okx_algo_list(c, false);
    } else if (!algo && up && reconnects > 0) {
        okx_trade_resync(c); /* pushes sent while we were away are gone */
    }
    okx_refresh_state(c);
}

/* A recorded feed line (replay_account): true when `m` is one. */
static bool replayed_feed(okx_ctx *c, const json_t *m)
{
    const char *feed = json_string_value(json_object_get(m, OKX_REC_FEED));
    if (!feed) {
        return false;
    }
    if (c->replay_account) {
        bool algo = strcmp(feed, "algo") == 0, up = json_is_true(json_object_get(m, "up"));
        *(algo ? &c->rp_algo_up : &c->rp_priv_up) = up;
        feed_state(c, algo, up, (int)json_integer_value(json_object_get(m, "reconnects")));
    }
    return true;
}

static void on_priv_state(void *arg, okx_ws *ws, bool up, const char *detail)
{
    feed_state(arg, false, up, okx_ws_reconnects(ws));
}

static void on_priv_error(void *arg, okx_ws *ws, const char *code, const char *msg)
{
    okx_ctx *c = arg;
    c->h->log(c->inst, AT_LOG_ERROR, "private WebSocket: OKX error %s: %s", code, msg);
}

static void on_algo_state(void *arg, okx_ws *ws, bool up, const char *detail)
{
    feed_state(arg, true, up, okx_ws_reconnects(ws));
}

static void on_algo_error(void *arg, okx_ws *ws, const char *code, const char *msg)
{
    okx_ctx *c = arg;
    c->h->log(c->inst, AT_LOG_ERROR, "algo orders WebSocket (business): OKX error %s: %s", code,
              msg);
}

static void open_algo(okx_ctx *c)
{
    okx_ws_cbs cbs = {on_private, on_algo_state, on_algo_error};
    okx_ws_opts o = {.url = c->ws_business_url,
                     .name = "algo",
                     .api_key = c->api_key,
                     .secret = c->secret_key,
                     .passphrase = c->passphrase,
                     .proxy = c->proxy,
                     .reconnects = c->m_ws_business};
    c->ws_algo = okx_ws_new(c->h, c->inst, &o, &cbs, c);
    if (!c->ws_algo) {
        return;
    }
    okx_ws_subscribe(c->ws_algo, "{\"channel\":\"orders-algo\",\"instType\":\"SWAP\"}");
    okx_ws_start(c->ws_algo);
}

static void open_private(okx_ctx *c)
{
    if (c->paper) {
        okx_refresh_state(c); /* pushes arrive in-process */
        return;
    }
    if (c->replay_account) {
        /* the recording's pushes and feed lines come from the player; one
         * without feed lines: both up now, as its feeds were then */
        if (!okx_replay_rest_feeds(c)) {
            c->rp_priv_up = c->rp_algo_up = true;
            okx_algo_list(c, false);
        }
        okx_refresh_state(c);
        return;
    }
    open_algo(c);
    okx_ws_cbs cbs = {on_private, on_priv_state, on_priv_error};
    okx_ws_opts o = {.url = c->ws_private_url,
                     .name = "private",
                     .api_key = c->api_key,
                     .secret = c->secret_key,
                     .passphrase = c->passphrase,
                     .proxy = c->proxy,
                     .reconnects = c->m_ws_private};
    c->ws_priv = okx_ws_new(c->h, c->inst, &o, &cbs, c);
    if (!c->ws_priv) {
        return;
    }
    okx_ws_subscribe(c->ws_priv, "{\"channel\":\"account\"}");
    okx_ws_subscribe(c->ws_priv, "{\"channel\":\"positions\",\"instType\":\"SWAP\"}");
    okx_ws_subscribe(c->ws_priv, "{\"channel\":\"orders\",\"instType\":\"SWAP\"}");
    okx_ws_start(c->ws_priv);
}

/* ------------------------------------------------------------ setup */

static void on_config(void *arg, const okx_reply *r);

static void retry_config(void *arg)
{
    okx_ctx *c = arg;
    c->cfg_retry = NULL; /* one-shot */
    okx_rest_get(c->rest, "/api/v5/account/config", NULL, true, on_config, c);
}

static void on_config(void *arg, const okx_reply *r)
{
    okx_ctx *c = arg;
    json_t *d = r->data ? json_array_get(r->data, 0) : NULL;
    if (r->err != AT_OK || strcmp(r->code, "0") != 0 || !d) {
        char why[256];
        snprintf(why, sizeof(why), "account/config failed: %s %s (HTTP %d)", r->code, r->msg,
                 r->http);
        c->h->log(c->inst, AT_LOG_ERROR, "%s; orders are refused until it succeeds (retry in 10 s)",
                  why);
        c->h->set_state(c->inst, AT_STATE_DEGRADED, why);
        if (c->started) {
            c->cfg_retry = c->h->timer_add(c->inst, 10000, 0, retry_config, c);
        }
        return;
    }
    const char *mode = okx_jstr(d, "posMode");
    c->long_short = strcmp(mode, "long_short_mode") == 0;
    c->have_config = true;
    snprintf(c->uid, sizeof(c->uid), "%s", okx_jstr(d, "uid"));
    c->h->log(c->inst, AT_LOG_INFO, "account %s: %s, orders in %s margin", c->uid, mode,
              c->td_mode ? "isolated" : "cross");
    int64_t now = c->h->now_us() / 1000;
    const at_db_value p[] = {AT_DB_S(c->name), AT_DB_B(c->demo), AT_DB_S(mode),
                             AT_DB_S(c->td_mode ? "isolated" : "cross"), AT_DB_I(now)};
    c->h->db_write(c->inst,
                   "INSERT INTO accounts (id, exchange, demo, pos_mode, td_mode, created_ms, "
                   "updated_ms) VALUES ($1, 'okx', $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE "
                   "SET demo = $2, pos_mode = $3, td_mode = $4, updated_ms = $5",
                   p, 5, NULL, NULL);
    if (c->leverage > 0) {
        okx_lever_start(c);
    }
    open_private(c);
}

int okx_account_start(okx_ctx *c)
{
    return okx_rest_get(c->rest, "/api/v5/account/config", NULL, true, on_config, c);
}

void okx_account_stop(okx_ctx *c)
{
    if (c->cfg_retry) {
        c->h->timer_cancel(c->cfg_retry);
        c->cfg_retry = NULL;
    }
    okx_ws_free(c->ws_priv);
    okx_ws_free(c->ws_algo);
    c->ws_priv = c->ws_algo = NULL;
}

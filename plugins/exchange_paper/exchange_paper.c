/* exchange_paper: paper trading on real market data (see paper.h). Start:
 * OKX's instrument list (public REST, as exchange_okx loads it), the venue
 * model with one account, the account's stored state restored into it
 * (paper_store.c), market events from the bus, then exchange_okx's account
 * and order code against the venue. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

static const char *const TD_MODES[] = {"cross", "isolated", NULL};
static const char *const POS_MODES[] = {"net_mode", "long_short_mode", NULL};

#define F(name, type, def, flags, member, lo, hi, enums, desc)                                     \
    {                                                                                              \
        name, type, def, flags, offsetof(paper_ctx, member), lo, hi, enums, desc                   \
    }

static const at_cfg_field schema[] = {
    F("market", AT_CFG_STR, NULL, 0, market_source, 0, 0, NULL,
      "instance whose market events price the venue (e.g. exchange.okx_data); default: any"),
    F("rest_url", AT_CFG_STR, "https://www.okx.com", 0, okx.rest_url, 0, 0, NULL,
      "where OKX's instrument list (ctVal, lotSz, tickSz …) is read, public"),
    F("instruments", AT_CFG_LIST, "BTC-USDT-SWAP, ETH-USDT-SWAP", 0, okx.instruments, 0, 0, NULL,
      "instruments to trade: BTC-USDT-SWAP, BTC/USDT:USDT or BTC"),
    F("balance", AT_CFG_STR, "10000", 0, balance, 0, 0, NULL, "starting USDT balance"),
    F("pos_mode", AT_CFG_ENUM, "net_mode", 0, pos_mode, 0, 0, POS_MODES, "position mode"),
    F("td_mode", AT_CFG_ENUM, "cross", 0, okx.td_mode, 0, 0, TD_MODES, "margin mode of orders"),
    F("leverage", AT_CFG_INT, "0", AT_CFG_RANGE, okx.leverage, 0, 125, NULL,
      "set this leverage on every instrument at start (0 = the venue's default, 10)"),
    F("maker_fee", AT_CFG_DOUBLE, "0.0002", AT_CFG_RANGE, maker_fee, -0.01, 0.01, NULL,
      "maker fee rate (OKX regular tier: 0.0002)"),
    F("taker_fee", AT_CFG_DOUBLE, "0.0005", AT_CFG_RANGE, taker_fee, -0.01, 0.01, NULL,
      "taker fee rate (OKX regular tier: 0.0005)"),
    F("timeout", AT_CFG_DURATION, "10s", AT_CFG_RANGE, okx.timeout_ms, 500, 120000, NULL,
      "timeout of the instrument list request"),
    F("instruments_file", AT_CFG_STR, NULL, 0, okx.instruments_file, 0, 0, NULL,
      "a saved /api/v5/public/instruments?instType=SWAP answer, or a recording of exchange_okx "
      "carrying one (its instruments: line: the replayed one, fully offline), to use instead of "
      "asking OKX"),
    F("replay_from", AT_CFG_INT, "0", AT_CFG_RANGE, okx.replay_from, 0, 4102444800000000.0, NULL,
      "with a recording as instruments_file: take the instruments: line of the run that recorded "
      "the frames from this time on (microseconds since the epoch; aitrader replay sets it)"),
    F("reset", AT_CFG_BOOL, "false", 0, reset, 0, 0, NULL,
      "start the account again from balance: the stored state is set aside in audit_log (remove "
      "it again afterwards, or every start begins afresh)"),
    {0},
};

/* ------------------------------------------------------------ market */

static bool priced(const paper_ctx *p);
static void announce(paper_ctx *p);

static void on_market(void *arg, const at_event *e)
{
    paper_ctx *p = arg;
    if (e->source && strcmp(e->source, p->okx.name) == 0) {
        return;
    }
    if (p->market_source && (!e->source || strcmp(e->source, p->market_source) != 0)) {
        return;
    }
    if (paper_market_on_event(p->market, p->okx.h, e) && !p->okx.paper_market_seen) {
        p->okx.paper_market_seen = true;
        okx_refresh_state(&p->okx);
    }
    if (!p->announced && p->okx.have_config && priced(p)) {
        /* at the event that prices the account, not at the next tick: the
         * tick's phase is the start's, which a replay cannot know */
        p->x.now_ms = p->okx.h->now_us() / 1000;
        paper_venue_enter(p);
        announce(p);
        paper_venue_leave(p);
    }
}

/* Every open position's instrument has a price from the market source. */
static bool priced(const paper_ctx *p)
{
    for (const sim_position *q = p->x.accts->positions; q; q = q->next) {
        if (q->pos.m != 0 && q->inst->mark.m <= 0 && q->inst->last.m <= 0) {
            return false;
        }
    }
    return true;
}

/* Once after start, as soon as its positions are priced: the account's
 * balance and positions (a restored account has them from before). */
static void announce(paper_ctx *p)
{
    if (p->announced || !p->okx.have_config || !priced(p)) {
        return;
    }
    p->announced = true;
    json_t *pos = acct_positions_json(&p->x, p->x.accts, NULL);
    json_t *bal = acct_balance_json(&p->x, p->x.accts);
    json_t *bals = bal ? json_pack("[o]", bal) : NULL;
    if (pos) {
        paper_store_push(p, "positions", pos);
    }
    if (bals) {
        paper_store_push(p, "account", bals);
    }
    json_decref(pos);
    json_decref(bals);
}

/* Time passes for the venue: resting fills, TP/SL, funding, liquidation. */
static void on_tick(void *arg)
{
    paper_ctx *p = arg;
    p->x.now_ms = p->okx.h->now_us() / 1000;
    int64_t seen[SIM_MAX_INST];
    memcpy(seen, p->x.funding_seen_ms, sizeof(seen));
    paper_venue_enter(p);
    exchange_tick(&p->x);
    /* a funding schedule first seen or moved on is state too (it decides
     * whether a settlement is still to be booked after a restart) */
    p->dirty |= memcmp(seen, p->x.funding_seen_ms, sizeof(seen)) != 0;
    announce(p);
    paper_venue_leave(p);
}

/* ------------------------------------------------------------ config */

/* Money is exact at 8 decimals in an int64 mantissa (9.2e10 at most): a
 * larger balance could not take a fee. */
static int parse_balance(const char *text, at_dec *out, char *why, size_t whylen)
{
    at_dec max = {10000000000ll, 0};
    if (!text || at_dec_parse(text, (size_t)-1, out) != AT_OK || out->m < 0 ||
        at_dec_normalize(*out).scale > 8 || at_dec_cmp(*out, max) >= 0) {
        snprintf(
            why, whylen,
            "'%.40s' is not a USDT balance: a decimal from 0 to below 10000000000 with at most "
            "8 decimals",
            text ? text : "");
        return AT_ECONFIG;
    }
    return AT_OK;
}

/* A fee rate as the venue keeps it: exact at 6 decimals (0.0002, -0.0001). */
static int fee_dec(double v, at_dec *out)
{
    if (at_dec_from_double(v, 6, out) != AT_OK || fabs(at_dec_to_double(*out) - v) > 1e-12) {
        return AT_ECONFIG;
    }
    return AT_OK;
}

/* exchange_okx's checks on the shared part (rest_url, instruments,
 * instruments_file), then the venue's own keys. */
static int check_config(const void *ctx, const char **key, char *why, size_t whylen)
{
    const paper_ctx *p = ctx;
    int rc = okx_config_check(&p->okx, key, why, whylen);
    if (rc != AT_OK) {
        return rc;
    }
    at_dec d;
    if (parse_balance(p->balance, &d, why, whylen) != AT_OK) {
        *key = "balance";
        return AT_ECONFIG;
    }
    const struct {
        const char *name;
        double v;
    } fees[2] = {{"maker_fee", p->maker_fee}, {"taker_fee", p->taker_fee}};
    for (int i = 0; i < 2; i++) {
        if (fee_dec(fees[i].v, &d) != AT_OK) {
            *key = fees[i].name;
            snprintf(why, whylen, "%g: a fee rate has at most 6 decimals (0.0002 is 0.02 %%)",
                     fees[i].v);
            return AT_ECONFIG;
        }
    }
    /* Events carry their publisher's full name: "okx_data" alone would
     * match nothing, and the venue would wait for prices for ever. */
    const char *m = p->market_source;
    const char *dot = m ? strchr(m, '.') : NULL;
    if (m && (!dot || dot == m || !dot[1] || strpbrk(m, " \t"))) {
        *key = "market";
        snprintf(why, whylen,
                 "'%.60s' is not an instance name: write it as in its section header, e.g. "
                 "exchange.okx_data",
                 m);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static int open_venue(paper_ctx *p)
{
    okx_ctx *c = &p->okx;
    char err[256];
    p->market = paper_market_new(c->insts, c->watch, c->nwatch);
    if (!p->market) {
        return AT_ENOMEM;
    }
    p->x.market = p->market;
    p->x.mmr_rate = 0.004;
    p->x.now_ms = c->h->now_us() / 1000;
    if (acct_load(&p->x, NULL, err, sizeof(err)) != 0 || !p->x.accts) {
        c->h->log(c->inst, AT_LOG_ERROR, "paper account: %s", err);
        return AT_ENOMEM;
    }
    sim_acct *a = p->x.accts;
    at_dec bal;
    if (parse_balance(p->balance, &bal, err, sizeof(err)) != AT_OK) {
        c->h->log(c->inst, AT_LOG_ERROR, "balance: %s", err); /* init refused it already */
        return AT_ECONFIG;
    }
    a->cash = bal;
    a->pos_mode = p->pos_mode ? SIM_LONG_SHORT_MODE : SIM_NET_MODE;
    a->demo = false;
    if (fee_dec(p->maker_fee, &a->maker_fee_rate) != AT_OK ||
        fee_dec(p->taker_fee, &a->taker_fee_rate) != AT_OK) {
        return AT_ECONFIG;
    }
    p->x.push =
        (sim_push){paper_push_order, paper_push_position, paper_push_account, paper_push_algo, p};
    c->h->log(c->inst, AT_LOG_INFO, "paper account: %s USDT, %s, fees maker %g taker %g",
              p->balance, p->pos_mode ? "long_short_mode" : "net_mode", p->maker_fee, p->taker_fee);
    return AT_OK;
}

/* The account is restored (or new): market data in, time passing, then
 * exchange_okx's account and order code, whose reconciliation now sees the
 * venue's open orders. */
static void on_restored(paper_ctx *p)
{
    okx_ctx *c = &p->okx;
    static const at_event_type types[4] = {AT_EV_BOOK, AT_EV_TICKER, AT_EV_MARK, AT_EV_FUNDING};
    for (int i = 0; i < 4; i++) {
        p->subs[i] = c->h->subscribe(c->inst, types[i], on_market, p);
    }
    p->tick = c->h->timer_add(c->inst, 100, 100, on_tick, p);
    okx_account_start(c);
    okx_trade_start(c);
    paper_store_catch_up(p);
    okx_refresh_state(c);
}

/* ------------------------------------------------------------ instruments */

/* The list is in: the venue, then exchange_okx's account and order code. */
static void on_instruments(okx_ctx *c, const okx_reply *r)
{
    paper_ctx *p = (paper_ctx *)c; /* okx is paper_ctx's first member */
    if (r->data) {
        okx_store_instruments(c, r->data); /* the dashboard trades them by account */
    }
    if (open_venue(p) != AT_OK) {
        c->h->set_state(c->inst, AT_STATE_DOWN, "paper venue could not start");
        return;
    }
    c->h->set_state(c->inst, AT_STATE_STARTING, "restoring the paper account");
    paper_store_open(p, on_restored);
}

/* ------------------------------------------------------------ lifecycle */

static int init(at_instance *inst, const at_host *host, void *ctx)
{
    paper_ctx *p = ctx;
    p->okx.inst = inst;
    p->okx.h = host;
    p->okx.name = host->instance_name(inst);
    p->okx.paper = true;
    /* The engine ran check_config already; this keeps one rule for an
     * engine (or test) that did not. */
    const char *key = NULL;
    char why[320];
    if (check_config(p, &key, why, sizeof(why)) != AT_OK) {
        host->log(inst, AT_LOG_ERROR, "%s%s%s", key ? key : "", key ? ": " : "", why);
        return AT_ECONFIG;
    }
    return AT_OK;
}

static int start(void *ctx)
{
    paper_ctx *p = ctx;
    okx_ctx *c = &p->okx;
    okx_rest_opts mo = {.base_url = c->rest_url, .timeout_ms = c->timeout_ms};
    okx_rest_opts lo = {.base_url = "paper://local", .local = paper_local_call, .local_arg = p};
    p->meta = okx_rest_new(c->h, c->inst, &mo);
    c->rest = okx_rest_new(c->h, c->inst, &lo);
    if (!p->meta || !c->rest) {
        return AT_ENOMEM;
    }
    c->started = true;
    c->h->set_state(c->inst, AT_STATE_STARTING, "loading instruments");
    okx_load_instruments(c, p->meta, on_instruments);
    return AT_OK;
}

static void stop(void *ctx)
{
    paper_ctx *p = ctx;
    okx_ctx *c = &p->okx;
    c->started = false;
    if (c->retry) {
        c->h->timer_cancel(c->retry);
        c->retry = NULL;
    }
    okx_trade_stop(c);
    paper_store_close(p); /* anything not written yet (storage stops after us) */
    for (int i = 0; i < 4; i++) {
        if (p->subs[i] > 0) {
            c->h->unsubscribe(c->inst, p->subs[i]);
        }
    }
    if (p->tick) {
        c->h->timer_cancel(p->tick);
        p->tick = NULL;
    }
    okx_rest_free(c->rest);
    okx_rest_free(p->meta);
    c->rest = p->meta = NULL;
    c->h->set_state(c->inst, AT_STATE_STOPPED, NULL);
}

static void destroy(void *ctx)
{
    paper_ctx *p = ctx;
    paper_store_free(p);
    acct_free_all(&p->x);
    paper_market_free(p->market);
    okx_insts_free(p->okx.insts);
    free(p->okx.watch);
}

/* The order operations: called by the engine's executor only, after the risk
 * chain approved (the one gate for orders). */
static at_venue_class venue_class(void *ctx)
{
    return okx_venue_class(ctx);
}

static void submit(void *ctx, const at_ev_order_intent *intent)
{
    okx_trade_submit(ctx, intent);
}

static const at_exchange_ops exchange_ops = {
    .struct_size = sizeof(at_exchange_ops),
    .venue_class = venue_class,
    .submit = submit,
};

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_EXCHANGE,
    .name = "paper",
    .version = "0.1.0",
    .description = "paper venue: okx-sim's venue model priced by real market data from the bus",
    .config = schema,
    .ctx_size = sizeof(paper_ctx),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
    .ops = &exchange_ops,
    .check_config = check_config,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}

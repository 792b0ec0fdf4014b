/* Issue 10's context figures: a trader with 10 symbols in a real engine
 * (bus, SQLite, the simulated clock, as tests/unit/test_trader.c) is given a
 * balance, prices, 6 indicators per symbol, 3 open positions and 5 past
 * decisions; then
 *   - context_build_us: the median of N renders of the whole prompt (every
 *     context section of core/trading/context_render.c plus both templates
 *     of prompts/), exactly what trader.c does before it asks the AI;
 *   - prompt_tokens: prompt_tokens() of the system and user prompts the
 *     trader really sent (captured by a fake AI provider), and of the seed's
 *     prompt (open-alpha-trade-in-okx, ai_decision_service.py) rendered for
 *     the same state from a reconstruction of its layout
 *     (../shared/reference/peers.md §1.5), news left out of both.
 * Prints "name value" lines; bench/run.sh puts them in results.json. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "trading/prompt.h"
#include "trading/trader.h"
#include "trading/trader_internal.h"
#include "util.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, ms */
#define ACCOUNT "exchange.acc"
#define NSYM 10

static const char *const SYMS[NSYM] = {
    "BTC-USDT-SWAP",  "ETH-USDT-SWAP", "SOL-USDT-SWAP", "BNB-USDT-SWAP", "XRP-USDT-SWAP",
    "DOGE-USDT-SWAP", "ADA-USDT-SWAP", "LTC-USDT-SWAP", "DOT-USDT-SWAP", "AVAX-USDT-SWAP"};
static const char *const PX[NSYM] = {"90012.3", "3120.45", "187.23", "612.8", "2.1843",
                                     "0.15321", "0.7123",  "98.41",  "4.512", "27.83"};
static const char *const INDS[] = {"rsi14", "ema12", "sma7", "sma25", "sma99", "atr14"};
#define NIND 6

static const at_host *H;
static engine *E;
static at_instance *DRV, *SELF;
static trader *TR;
static char *sys_p, *user_p;
static bool asked;

static int ai_request(void *ctx, const at_ai_request *req, at_ai_done_cb done, void *arg)
{
    (void)ctx, (void)done, (void)arg;
    free(sys_p);
    free(user_p);
    sys_p = strdup(req->system);
    user_p = strdup(req->user);
    asked = true;
    return AT_OK;
}

static const at_ai_ops ai_ops = {.struct_size = sizeof(at_ai_ops), .request = ai_request};

static at_dec D(const char *s)
{
    at_dec x = {0, 0};
    if (H->dec_parse(s, (size_t)-1, &x) != AT_OK) {
        fprintf(stderr, "trading_context: bad decimal %s\n", s);
        exit(1);
    }
    return x;
}

static bool is_true(void *arg)
{
    return *(bool *)arg;
}

static bool is_loaded(void *arg)
{
    (void)arg;
    trader_stats st;
    trader_get_stats(TR, &st);
    return st.loaded;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The state, as numbers shared by both renderings. */
typedef struct sym_state {
    double px, ind[NIND], chg[5], vol, hi, lo, vratio, last3[3];
} sym_state;
static sym_state S[NSYM];
static const int POS_SYM[3] = {0, 2, 5}; /* BTC long, SOL short, DOGE long */
static const char *const POS_SZ[3] = {"0.05", "12", "20000"};
static const char *const POS_AVG[3] = {"88500.1", "192.5", "0.1488"};

static void state_init(void)
{
    uint64_t x = 42;
    for (size_t i = 0; i < NSYM; i++) {
        double u[16];
        for (size_t k = 0; k < 16; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            u[k] = (double)(x >> 11) / 9007199254740992.0;
        }
        sym_state *s = &S[i];
        s->px = atof(PX[i]);
        s->ind[0] = 25 + 50 * u[0];
        s->ind[1] = s->px * (1 + (u[1] - 0.5) * 0.01);
        s->ind[2] = s->px * (1 + (u[2] - 0.5) * 0.01);
        s->ind[3] = s->px * (1 + (u[3] - 0.5) * 0.03);
        s->ind[4] = s->px * (1 + (u[4] - 0.5) * 0.08);
        s->ind[5] = s->px * 0.004 * (1 + u[5]);
        for (size_t k = 0; k < 5; k++) {
            s->chg[k] = (u[6 + k] - 0.5) * 2 * (k + 1);
        }
        s->vol = 0.5 + 2 * u[11];
        s->hi = s->px * (1 + 0.02 * u[12]);
        s->lo = s->px * (1 - 0.02 * u[13]);
        s->vratio = 0.5 + u[14];
        for (size_t k = 0; k < 3; k++) {
            s->last3[k] = (u[(15 + k) % 16] - 0.5) * 0.8;
        }
    }
}

static void publish_state(void)
{
    at_ev_balance *b = (at_ev_balance *)H->event_new(DRV, AT_EV_BALANCE, 0);
    snprintf(b->account, sizeof(b->account), ACCOUNT);
    snprintf(b->ccy, sizeof(b->ccy), "USDT");
    b->total_eq = D("10234.56");
    b->eq = b->total_eq;
    b->avail = D("8123.4");
    H->publish(DRV, &b->h, 0);
    for (size_t i = 0; i < NSYM; i++) {
        at_ev_ticker *t = (at_ev_ticker *)H->event_new(DRV, AT_EV_TICKER, 0);
        t->h.inst = H->inst_intern(SYMS[i]);
        t->last = D(PX[i]);
        H->publish(DRV, &t->h, 0);
        at_ev_indicator *ev = (at_ev_indicator *)H->event_new(DRV, AT_EV_INDICATOR, 0);
        ev->h.inst = H->inst_intern(SYMS[i]);
        ev->bar_s = 3600;
        ev->n = NIND;
        for (size_t k = 0; k < NIND; k++) {
            snprintf(ev->v[k].name, sizeof(ev->v[k].name), "%s", INDS[k]);
            ev->v[k].value = S[i].ind[k];
        }
        H->publish(DRV, &ev->h, 0);
    }
    for (size_t k = 0; k < 3; k++) {
        at_ev_position *p = (at_ev_position *)H->event_new(DRV, AT_EV_POSITION, 0);
        p->h.inst = H->inst_intern(SYMS[POS_SYM[k]]);
        snprintf(p->account, sizeof(p->account), ACCOUNT);
        p->pos_side = k == 1 ? AT_POS_SHORT : AT_POS_LONG;
        p->pos = D(POS_SZ[k]);
        p->avg_px = D(POS_AVG[k]);
        p->lever = D("3");
        p->upl = D(k == 1 ? "-63.3" : "75.1");
        p->realized_pnl = D("-0.9");
        p->margin = D("150");
        H->publish(DRV, &p->h, 0);
    }
    engine_pump(E);
    /* 5 past decisions, as the trader keeps them after its calls */
    static const at_action acts[5] = {AT_ACT_OPEN_LONG, AT_ACT_OPEN_SHORT, AT_ACT_HOLD,
                                      AT_ACT_OPEN_LONG, AT_ACT_CLOSE_LONG};
    static const size_t hsym[5] = {0, 2, 1, 5, 3};
    for (size_t k = 0; k < 5; k++) {
        tr_hist *h = tr_hist_push(TR);
        snprintf(h->decision_id, sizeof(h->decision_id), "alpha:long:%zu", k);
        h->ts_ms = T0 - (int64_t)(5 - k) * 900000;
        h->valid = true;
        h->n = 1;
        h->items[0].sym = hsym[k];
        h->items[0].action = acts[k];
        h->items[0].size_pct = D("0.1");
        h->items[0].leverage = D("3");
        snprintf(h->items[0].outcome, sizeof(h->items[0].outcome), "%s",
                 acts[k] == AT_ACT_HOLD ? "" : "filled 0.05 @ 88500.1, fee 0.22");
    }
}

/* ---- the seed's prompt for the same state ------------------------------ */
/* A reconstruction of ai_decision_service.py::call_ai_for_decision's layout
 * (peers.md §1.5): one user message; its fixed blocks paraphrased at the
 * length they have there; the data parts as it formats them (JSON via
 * json.dumps with indent=2 for portfolio and prices, one labelled block per
 * coin for the technical analysis). */
static char *seed_prompt(void)
{
    tbuf b = {0};
    tb_printf(&b, "You are a professional cryptocurrency FUTURES trading AI with a SHORT-TERM "
                  "TRADING focus. You trade perpetual swaps on OKX and can use leverage "
                  "(1x-50x). Analyze the data below and make ONE trading decision.\n\n"
                  "CURRENT TIME: 2026-01-01 00:00:00 UTC\n\n"
                  "=== YOUR RECENT TRADING HISTORY (Last 5 decisions) ===\n");
    static const char *const ops[5] = {"buy", "sell", "hold", "buy", "close"};
    static const size_t hsym[5] = {0, 2, 1, 5, 3};
    for (size_t k = 0; k < 5; k++) {
        char coin[8];
        sscanf(SYMS[hsym[k]], "%7[^-]", coin);
        tb_printf(&b,
                  "%zu. [2025-12-31 %02zu:%02zu:00 UTC] (%zu minutes ago) Operation: %s | "
                  "Symbol: %s | Target Portion: 10.0%% | Leverage: 3x | Executed: %s\n"
                  "   Reason: %s momentum with RSI and SMA alignment supports the move; volume "
                  "ratio confirms interest, risk controlled with moderate leverage.\n",
                  k + 1, 22 + (k + 1) / 4, (k + 1) * 15 % 60, (5 - k) * 15, ops[k], coin,
                  k == 2 ? "false" : "true", k % 2 ? "Bearish" : "Bullish");
    }
    tb_printf(&b, "\nIMPORTANT: Review your recent decisions. Avoid overtrading: do not open and "
                  "close the same position repeatedly within a short time, respect your previous "
                  "reasoning unless the market changed materially, and prefer HOLD when signals "
                  "are mixed.\n\n=== Portfolio Data ===\nCash Available: $8123.40\nFrozen "
                  "Cash: $0.00\nTotal Assets: $10234.56\nPositions: {\n");
    for (size_t k = 0; k < 3; k++) {
        char coin[8];
        sscanf(SYMS[POS_SYM[k]], "%7[^-]", coin);
        double q = atof(POS_SZ[k]), avg = atof(POS_AVG[k]);
        tb_printf(&b,
                  "  \"%s\": {\n    \"quantity\": %.8g,\n    \"avg_cost\": %.8g,\n    "
                  "\"current_value\": %.2f,\n    \"leverage\": 3,\n    \"margin_mode\": "
                  "\"cross\",\n    \"side\": \"%s\"\n  }%s\n",
                  coin, q, avg, q * S[POS_SYM[k]].px, k == 1 ? "short" : "long", k < 2 ? "," : "");
    }
    tb_printf(&b, "}\n\n=== Current Market Prices ===\n{\n");
    for (size_t i = 0; i < NSYM; i++) {
        char coin[8];
        sscanf(SYMS[i], "%7[^-]", coin);
        tb_printf(&b, "  \"%s\": %s%s\n", coin, PX[i], i + 1 < NSYM ? "," : "");
    }
    tb_printf(&b, "}\n\n=== TECHNICAL ANALYSIS ===\n");
    for (size_t i = 0; i < NSYM; i++) {
        const sym_state *s = &S[i];
        char coin[8];
        sscanf(SYMS[i], "%7[^-]", coin);
        const char *rsi_tag = s->ind[0] > 70   ? "OVERBOUGHT"
                              : s->ind[0] < 30 ? "OVERSOLD"
                                               : "NEUTRAL";
        const char *trend = s->ind[2] > s->ind[3] * 1.02   ? "UPTREND"
                            : s->ind[2] < s->ind[3] * 0.98 ? "DOWNTREND"
                                                           : "SIDEWAYS";
        tb_printf(&b,
                  "\n%s:\n  Current Price: $%.4f\n  Price Changes: 15m: %+.2f%%, 1h: %+.2f%%, "
                  "4h: %+.2f%%, 24h: %+.2f%%, 7d: %+.2f%%\n  Moving Averages: SMA7: $%.4f, "
                  "SMA25: $%.4f, SMA99: $%.4f\n  RSI(14): %.2f (%s)\n  Trend: %s\n  "
                  "Volatility (24h): %.2f%%\n  Support (24h Low): $%.4f\n  Resistance (24h "
                  "High): $%.4f\n  Volume Ratio: %.2fx\n  Last 3 Candles: %+.2f%%, %+.2f%%, "
                  "%+.2f%%\n",
                  coin, s->px, s->chg[0], s->chg[1], s->chg[2], s->chg[3], s->chg[4], s->ind[2],
                  s->ind[3], s->ind[4], s->ind[0], rsi_tag, trend, s->vol, s->lo, s->hi, s->vratio,
                  s->last3[0], s->last3[1], s->last3[2]);
    }
    tb_printf(&b,
              "\n=== YOUR MISSION ===\nYou are trading PERPETUAL FUTURES contracts. You can go "
              "LONG (buy) to profit from rising prices or SHORT (sell) to profit from falling "
              "prices. Leverage multiplies both gains and losses.\n\nSHORT-TERM STRATEGY:\n- "
              "Focus on 15m to 4h price movements\n- Take quick profits on momentum moves\n- Cut "
              "losses early when the trend reverses\n- Use technical indicators to time entries "
              "and exits\n\nDIVERSIFICATION:\n- Do not put all capital into one coin\n- Consider "
              "correlation between BTC and altcoins\n- Balance long and short exposure when the "
              "market is uncertain\n\nAVAILABLE TOOLS:\n- buy: open or add to a LONG position\n- "
              "sell: open or add to a SHORT position\n- close: close an existing position\n- hold: "
              "do nothing this round\n\nDECISION FRAMEWORK:\n1. Check the overall market "
              "direction from BTC\n2. Look for coins with a clear trend and RSI confirmation\n3. "
              "Check volume ratio for confirmation\n4. Review your current positions and recent "
              "decisions\n5. Decide the operation, the portion of balance and the leverage\n\n"
              "LEVERAGE GUIDELINES:\n- 1-3x: low confidence or high volatility\n- 4-10x: "
              "moderate confidence, clear trend\n- 11-25x: high confidence, strong confirmation\n"
              "- 26-50x: very high confidence only, extreme caution\n\nPOSITION MANAGEMENT:\n- "
              "When a position is up 15-20%% consider taking profit\n- When a position is down "
              "8-10%% consider cutting the loss\n- Do not add to losing positions\n\nDO NOT "
              "OVERTRADE:\n- Holding is a valid decision\n- Only trade on clear signals\n- "
              "Fees and slippage reduce returns on every trade\n\nRespond with ONLY a JSON object "
              "in this exact format:\n{\n  \"operation\": \"buy\" | \"sell\" | \"hold\" | "
              "\"close\",\n  \"symbol\": \"BTC\" | \"ETH\" | \"SOL\" | \"BNB\" | \"XRP\" | "
              "\"DOGE\",\n  \"target_portion_of_balance\": 0.0-1.0,\n  \"leverage\": 1-50,\n  "
              "\"reason\": \"brief explanation of your decision\"\n}\n\nRULES:\n- operation must "
              "be one of buy, sell, hold, close\n- symbol must be one of the listed coins\n- "
              "target_portion_of_balance is the fraction of available cash for buy/sell, the "
              "fraction of the position for close\n- leverage must be an integer between 1 and "
              "50\n- reason must be concise\n- return valid JSON only, no markdown, no extra "
              "text\n\nADDITIONAL RULES:\n- You can trade up to 100%% of cash if conviction is "
              "very high\n- Prefer smaller portions when uncertain\n- Never close a position "
              "you do not hold\n");
    return tb_take(&b);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: trading_context SOURCE_DIR BUILD_DIR [N]\n");
        return 2;
    }
    int n = argc > 3 ? atoi(argv[3]) : 2000;
    if (n < 1) {
        n = 1;
    }
    char tmpdir[] = "/tmp/at-bench-ctx-XXXXXX";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char *ini = at_asprintf("%s/modules.ini", tmpdir);
    FILE *f = fopen(ini, "w");
    if (!f) {
        perror(ini);
        return 1;
    }
    fprintf(f,
            "[core]\nplugin_dir = %s/plugins\ndata_dir = %s/data\nsql_dir = %s/sql\n"
            "log_level = error\n[storage.sqlite]\npath = %s/t.db\n",
            argv[2], tmpdir, argv[1], tmpdir);
    fclose(f);
    state_init();
    engine_opts o = {
        .config_path = ini, .sim_clock = true, .sim_start_us = T0 * 1000, .no_gate = true};
    E = engine_new(&o);
    conf_errors errs = {0};
    int rc = E ? engine_load(E, &errs) : AT_ENOMEM;
    conf_errors_free(&errs);
    if (rc != AT_OK || engine_start(E) != AT_OK) {
        fprintf(stderr, "trading_context: the engine did not start\n");
        return 1;
    }
    H = engine_host();
    DRV = engine_virtual_instance(E, "bench.drv");
    SELF = engine_virtual_instance(E, "trader.alpha");
    char prompts[1024];
    snprintf(prompts, sizeof(prompts), "%s/prompts", argv[1]);
    trader_cfg cfg = {.trader = "alpha",
                      .ai_name = "ai.fake",
                      .ai = &ai_ops,
                      .ai_ctx = NULL,
                      .account = ACCOUNT,
                      .symbols = SYMS,
                      .nsymbols = NSYM,
                      .prompts_dir = prompts,
                      .history = 5,
                      .max_leverage = 10,
                      .max_size_pct = 0.2,
                      .take_profit_pct = 0.04,
                      .stop_loss_pct = 0.02,
                      .indicators = INDS,
                      .nindicators = NIND};
    char why[256] = "";
    TR = trader_new(H, SELF, &cfg, why, sizeof(why));
    if (!TR || trader_start(TR) != AT_OK || !engine_wait(E, is_loaded, NULL, 5000000)) {
        fprintf(stderr, "trading_context: trader: %s\n", why);
        return 1;
    }
    publish_state();
    at_ev_trigger *t = (at_ev_trigger *)H->event_new(SELF, AT_EV_TRIGGER, 16);
    snprintf(t->trader, sizeof(t->trader), "alpha");
    snprintf(t->key, sizeof(t->key), "alpha:long:%" PRId64, clock_now_us() / 1000);
    t->reason = H->event_strdup(&t->h, "long period");
    t->deadline_ms = 60000;
    H->publish(SELF, &t->h, 0);
    if (!engine_wait(E, is_true, &asked, 5000000)) {
        fprintf(stderr, "trading_context: the trader never asked the AI\n");
        return 1;
    }
    int64_t ours = prompt_tokens(sys_p) + prompt_tokens(user_p);
    char *seed = seed_prompt();
    int64_t theirs = prompt_tokens(seed);

    /* The render trader.c's ask() does, N times. */
    double *us = malloc(sizeof(double) * (size_t)n);
    int64_t now = T0;
    size_t sink = 0;
    for (int i = 0; i < n; i++) {
        double t0 = mono_us();
        char *parts[7] = {strdup("BTC-USDT-SWAP, ..."), tr_render_account(TR),
                          tr_render_positions(TR, now), tr_render_orders(TR),
                          tr_render_history(TR, now),   tr_render_market(TR),
                          tr_render_news(TR, now)};
        const char *vals[PV__COUNT] = {[PV_time] = "2026-01-01 00:00:00",
                                       [PV_trigger] = "long period",
                                       [PV_trader] = "alpha",
                                       [PV_symbols] = parts[0],
                                       [PV_account] = parts[1],
                                       [PV_positions] = parts[2],
                                       [PV_orders] = parts[3],
                                       [PV_history] = parts[4],
                                       [PV_market] = parts[5],
                                       [PV_news] = parts[6],
                                       [PV_max_leverage] = "10",
                                       [PV_max_size_pct] = "0.2",
                                       [PV_take_profit_pct] = "0.04",
                                       [PV_stop_loss_pct] = "0.02"};
        char *s = prompt_render(TR->tpl.system, vals);
        char *u = prompt_render(TR->tpl.user, vals);
        us[i] = mono_us() - t0;
        sink += (s ? strlen(s) : 0) + (u ? strlen(u) : 0);
        free(s);
        free(u);
        for (size_t k = 0; k < 7; k++) {
            free(parts[k]);
        }
    }
    qsort(us, (size_t)n, sizeof(double), cmp_d);
    printf("context_symbols %d\n", NSYM);
    printf("context_build_us_p50 %.1f\n", us[n / 2]);
    printf("context_build_us_p99 %.1f\n", us[(size_t)((n - 1) * 0.99)]);
    printf("context_render_bytes %zu\n", sink / (size_t)n);
    printf("prompt_tokens_ours %" PRId64 "\n", ours);
    printf("prompt_tokens_seed %" PRId64 "\n", theirs);
    if (getenv("TRADING_CONTEXT_DUMP")) {
        fprintf(stderr, "---- ours (system)\n%s\n---- ours (user)\n%s\n---- seed\n%s\n", sys_p,
                user_p, seed);
    }
    free(us);
    free(seed);
    trader_stop(TR);
    engine_free(E);
    trader_free(TR);
    free(sys_p);
    free(user_p);
    char *cmd = at_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "trading_context: cannot remove %s\n", tmpdir);
    }
    free(cmd);
    free(ini);
    return 0;
}

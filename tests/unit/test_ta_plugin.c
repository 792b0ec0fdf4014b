/* plugins/indicator_ta in the real engine (tests/support/harness): confirmed
 * and unconfirmed 1m candles, trades, book and funding in; INDICATOR out, on
 * every 1m and 5m bar, with the values lib/ta computes on the same bars. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ta.h"

#define T0 1767225600000LL /* 2026-01-01T00:00Z */
#define NMIN 40
#define MAXEV 128

typedef struct seen {
    const at_host *h;
    int n;
    at_ev_indicator ev[MAXEV];
} seen;

static void on_ind(void *arg, const at_event *e)
{
    seen *s = arg;
    if (s->n < MAXEV) {
        memcpy(&s->ev[s->n++], e, sizeof(at_ev_indicator));
    }
}

static double val(const at_ev_indicator *e, const char *name)
{
    for (uint32_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].name, name) == 0) {
            return e->v[i].value;
        }
    }
    fail_msg("indicator event without '%s'", name);
    return NAN;
}

static at_dec D(const at_host *h, double v)
{
    at_dec d;
    assert_int_equal(h->dec_from_double(v, 8, &d), AT_OK);
    return d;
}

static double px(int m)
{
    return 100.0 + 3.0 * sin(m * 0.7) + m * 0.1;
}

static void candle(harness *hh, at_inst id, int m, bool confirmed)
{
    const at_host *h = harness_host(hh);
    at_ev_candle *c = (at_ev_candle *)h->event_new(harness_inst(hh), AT_EV_CANDLE, 0);
    c->h.inst = id;
    c->bar_s = 60;
    c->open_ms = T0 + m * 60000LL;
    c->o = D(h, px(m) - 0.2);
    c->hi = D(h, px(m) + 0.5);
    c->lo = D(h, px(m) - 0.6);
    c->c = D(h, px(m));
    c->vol = D(h, 10 + m % 7);
    c->confirmed = confirmed;
    h->publish(harness_inst(hh), &c->h, 0);
}

static int count_bar(const seen *s, at_inst id, int64_t bar_s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        n += s->ev[i].h.inst == id && s->ev[i].bar_s == bar_s;
    }
    return n;
}

static bool got(void *arg)
{
    seen *s = arg;
    return s->n >= NMIN + NMIN / 5;
}

static void test_plugin_bars(void **state)
{
    (void)state;
    harness *hh = harness_new("[indicator.ta]\nbars = 1m, 5m\nbook_depth = 2\n");
    assert_non_null(hh);
    const at_host *h = harness_host(hh);
    static seen s;
    s.h = h;
    assert_true(h->subscribe(harness_inst(hh), AT_EV_INDICATOR, on_ind, &s) > 0);
    at_inst btc = h->inst_intern("BTC-USDT-SWAP");

    /* Book (100,2),(99,1) / (101,1),(102,1) → obi2 0.2; funding for two periods. */
    at_ev_book *b = (at_ev_book *)h->event_new(harness_inst(hh), AT_EV_BOOK, 0);
    b->h.inst = btc;
    b->nbids = b->nasks = 2;
    b->bids[0] = (at_level){D(h, 100), D(h, 2)};
    b->bids[1] = (at_level){D(h, 99), D(h, 1)};
    b->asks[0] = (at_level){D(h, 101), D(h, 1)};
    b->asks[1] = (at_level){D(h, 102), D(h, 1)};
    h->publish(harness_inst(hh), &b->h, 0);
    for (int k = 0; k < 2; k++) {
        at_ev_funding *f = (at_ev_funding *)h->event_new(harness_inst(hh), AT_EV_FUNDING, 0);
        f->h.inst = btc;
        f->rate = D(h, k ? 0.0003 : 0.0001);
        f->funding_ms = T0 + k * 8 * 3600000LL;
        h->publish(harness_inst(hh), &f->h, 0);
    }
    /* Even minutes confirmed; odd ones only as in-progress updates, final
     * once the next minute appears. The last minute is confirmed. */
    for (int m = 0; m < NMIN; m++) {
        candle(hh, btc, m, m % 2 == 0 || m == NMIN - 1);
        if (m % 2 == 0) {
            candle(hh, btc, m, true); /* a repeated push changes nothing */
        }
    }
    assert_true(harness_run_until(hh, got, &s, 5000));
    harness_run_for(hh, 100);
    assert_int_equal(count_bar(&s, btc, 60), NMIN);
    assert_int_equal(count_bar(&s, btc, 300), NMIN / 5);

    /* Same bars through lib/ta directly. */
    ta_set one, five;
    ta_set_init(&one);
    ta_set_init(&five);
    ta_agg agg;
    ta_agg_init(&agg, 300000);
    int i1 = 0;
    for (int m = 0; m < NMIN; m++) {
        ta_bar bar = {.open_ms = T0 + m * 60000LL,
                      .o = px(m) - 0.2,
                      .h = px(m) + 0.5,
                      .l = px(m) - 0.6,
                      .c = px(m),
                      .v = 10 + m % 7};
        /* candles travel as 8-decimal at_dec */
        bar.o = round(bar.o * 1e8) / 1e8;
        bar.h = round(bar.h * 1e8) / 1e8;
        bar.l = round(bar.l * 1e8) / 1e8;
        bar.c = round(bar.c * 1e8) / 1e8;
        ta_set_out o;
        ta_set_update(&one, &bar, &o);
        const at_ev_indicator *e = NULL;
        for (; i1 < s.n; i1++) {
            if (s.ev[i1].bar_s == 60) {
                e = &s.ev[i1++];
                break;
            }
        }
        assert_non_null(e);
        assert_true(e->bar_open_ms == bar.open_ms);
        assert_true(isnan(val(e, "rsi14")) == (m < 14));
        if (m >= 14) {
            assert_true(fabs(val(e, "rsi14") - o.rsi14) <= 1e-9 * o.rsi14);
            assert_true(fabs(val(e, "atr14") - o.atr14) <= 1e-9 * o.atr14);
        }
        assert_true(isnan(val(e, "macd")) == (m < 33));
        assert_true(isnan(val(e, "chg_5m")) == (m < 5));
        assert_true(isnan(val(e, "chg_15m")) == (m < 15));
        assert_true(isnan(val(e, "chg_1h")));
        if (m >= 5) {
            double want = bar.c / (round(px(m - 5) * 1e8) / 1e8) - 1.0;
            assert_true(fabs(val(e, "chg_5m") - want) < 1e-12);
        }
        assert_true(fabs(val(e, "obi2") - 0.2) < 1e-12);
        assert_true(fabs(val(e, "microprice") - (100.0 * 1 + 101.0 * 2) / 3.0) < 1e-12);
        assert_true(fabs(val(e, "funding") - 0.0003) < 1e-15);
        assert_true(fabs(val(e, "funding_chg") - 0.0002) < 1e-15);
        ta_bar out[2];
        if (ta_agg_add_bar(&agg, &bar, 60000, out) == 1) {
            ta_set_update(&five, &out[0], &o);
        }
    }
    /* The last 5m event is the 00:35 bar with the 5m set's values. */
    const at_ev_indicator *last5 = NULL;
    for (int i = 0; i < s.n; i++) {
        if (s.ev[i].bar_s == 300) {
            last5 = &s.ev[i];
        }
    }
    assert_non_null(last5);
    assert_true(last5->bar_open_ms == T0 + 35 * 60000LL);
    assert_true(fabs(val(last5, "close") - round(px(39) * 1e8) / 1e8) < 1e-12);
    assert_true(isnan(val(last5, "ema12")));  /* 8 five-minute bars: EMA12 still warming up */
    assert_true(isnan(val(last5, "vol_rv"))); /* RV14 needs 15 bars */
    harness_free(hh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* lib/ta signals: rule parsing and its errors, per-instrument overrides, the
 * hysteresis state machine (edge-triggered, no flapping on a noisy series
 * around the level, NaN ignored), salience bounds and ordering, and a run of
 * real OKX BTC 1m closes through lib/ta + signals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ta.h"
#include "ta_csv.h"
#include "ta_signal.h"

/* ---- a one-value lookup ------------------------------------------------ */

typedef struct vals {
    const char *names[4];
    double v[4];
} vals;

static double lookup(void *arg, const char *name)
{
    const vals *x = arg;
    for (int i = 0; i < 4 && x->names[i]; i++) {
        if (strcmp(x->names[i], name) == 0) {
            return x->v[i];
        }
    }
    return NAN;
}

static size_t feed1(ta_sig_stream *st, const ta_sig_rules *rs, const char *name, double v,
                    ta_sig_event *out)
{
    vals x = {{name}, {v}};
    return ta_sig_update(st, rs, lookup, &x, out, TA_SIG_MAX);
}

static ta_sig_rules rules_of(const char *const *items, size_t n)
{
    ta_sig_rules rs;
    memset(&rs, 0, sizeof(rs));
    char err[256];
    for (size_t i = 0; i < n; i++) {
        if (ta_sig_rules_add(&rs, items[i], err, sizeof(err)) != 0) {
            fail_msg("%s", err);
        }
    }
    return rs;
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse(void **state)
{
    ta_sig_rule r;
    char err[256];
    assert_int_equal(ta_sig_parse("rsi14>70/65", &r, err, sizeof(err)), 0);
    assert_string_equal(r.name, "rsi14");
    assert_string_equal(r.inst, "");
    assert_int_equal(r.op, TA_SIG_GT);
    assert_true(r.enter == 70 && r.exit == 65);

    assert_int_equal(ta_sig_parse(" rsi14 < 30 / 35 ", &r, err, sizeof(err)), 0);
    assert_int_equal(r.op, TA_SIG_LT);
    assert_true(r.enter == 30 && r.exit == 35);

    assert_int_equal(ta_sig_parse("|chg_5m|>0.01/0.008", &r, err, sizeof(err)), 0);
    assert_string_equal(r.name, "chg_5m");
    assert_int_equal(r.op, TA_SIG_ABS);
    assert_true(r.enter == 0.01 && r.exit == 0.008);

    assert_int_equal(ta_sig_parse("BTC-USDT-SWAP:rsi14>75/70", &r, err, sizeof(err)), 0);
    assert_string_equal(r.inst, "BTC-USDT-SWAP");
    assert_true(r.enter == 75 && r.exit == 70);

    assert_int_equal(ta_sig_parse("obi5<-0.6/-0.4", &r, err, sizeof(err)), 0);
    assert_true(r.enter == -0.6 && r.exit == -0.4);
    assert_int_equal(ta_sig_parse("vol_ratio>3/3", &r, err, sizeof(err)), 0);
}

static void parse_err(const char *item, const char *frag)
{
    ta_sig_rule r;
    char err[256] = "";
    if (ta_sig_parse(item, &r, err, sizeof(err)) == 0) {
        fail_msg("'%s' parsed, want an error with \"%s\"", item, frag);
    }
    char quoted[128];
    snprintf(quoted, sizeof(quoted), "'%s'", item);
    if (!strstr(err, quoted) || !strstr(err, frag)) {
        fail_msg("'%s': error \"%s\" lacks the item or \"%s\"", item, err, frag);
    }
}

static void test_parse_errors(void **state)
{
    parse_err("rsi14>70", "missing exit level");
    parse_err("rsi14=70/65", "expected '>' or '<'");
    parse_err(">70/65", "expected an indicator name");
    parse_err("|chg_5m>0.01/0.008", "missing closing '|'");
    parse_err("|chg_5m|<0.01/0.008", "expected '>' after |chg_5m|");
    parse_err("rsi14>abc/65", "expected a number");
    parse_err("rsi14>70/", "expected an exit level");
    parse_err("rsi14>70/65x", "unexpected 'x'");
    parse_err("rsi14>65/70", "must not be above");
    parse_err("rsi14<35/30", "must not be below");
    parse_err("|chg_5m|>-0.001/-0.002", "must not be negative");
    parse_err(":rsi14>70/65", "empty instrument");

    ta_sig_rules rs;
    memset(&rs, 0, sizeof(rs));
    char err[256];
    assert_int_equal(ta_sig_rules_add(&rs, "rsi14>70/65", err, sizeof(err)), 0);
    assert_int_equal(ta_sig_rules_add(&rs, "rsi14>80/75", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "same indicator"));
    assert_int_equal(ta_sig_rules_add(&rs, "rsi14<30/35", err, sizeof(err)), 0);
    assert_int_equal(rs.n, 2);
}

/* ---- overrides ---------------------------------------------------------- */

static void test_override(void **state)
{
    const char *items[] = {"rsi14>70/65", "rsi14<30/35", "BTC-USDT-SWAP:rsi14>75/70",
                           "ETH-USDT-SWAP:obi5>0.6/0.4"};
    ta_sig_rules rs = rules_of(items, 4);
    ta_sig_stream btc, eth, sol;
    ta_sig_stream_init(&btc, &rs, "BTC-USDT-SWAP");
    ta_sig_stream_init(&eth, &rs, "ETH-USDT-SWAP");
    ta_sig_stream_init(&sol, &rs, "SOL-USDT-SWAP");
    assert_int_equal(btc.n, 2); /* rsi14<, own rsi14> */
    assert_int_equal(eth.n, 3); /* both generic, own obi5 */
    assert_int_equal(sol.n, 2);

    ta_sig_event ev[TA_SIG_MAX];
    /* 72 is past the generic level, not past BTC's own 75. */
    assert_int_equal(feed1(&sol, &rs, "rsi14", 72, ev), 1);
    assert_int_equal(feed1(&btc, &rs, "rsi14", 72, ev), 0);
    assert_int_equal(feed1(&btc, &rs, "rsi14", 76, ev), 1);
    assert_true(ev[0].threshold == 75 && ev[0].entered);
    /* BTC leaves below its own exit 70, not the generic 65. */
    assert_int_equal(feed1(&btc, &rs, "rsi14", 69, ev), 1);
    assert_false(ev[0].entered);
    assert_true(ev[0].threshold == 70);
    assert_int_equal(feed1(&eth, &rs, "obi5", 0.7, ev), 1);
    assert_int_equal(feed1(&sol, &rs, "obi5", 0.7, ev), 0);
}

/* ---- hysteresis --------------------------------------------------------- */

static void test_edges(void **state)
{
    const char *items[] = {"rsi14>70/65"};
    ta_sig_rules rs = rules_of(items, 1);
    ta_sig_stream st;
    ta_sig_stream_init(&st, &rs, "X");
    ta_sig_event ev[TA_SIG_MAX];
    assert_int_equal(feed1(&st, &rs, "rsi14", 60, ev), 0);
    assert_int_equal(feed1(&st, &rs, "rsi14", 70, ev), 0); /* at the level: not past it */
    assert_int_equal(feed1(&st, &rs, "rsi14", 71, ev), 1);
    assert_true(ev[0].entered && ev[0].value == 71 && ev[0].threshold == 70);
    assert_int_equal(ev[0].op, TA_SIG_GT);
    assert_string_equal(ta_sig_dir_name(ev[0].op), "up");
    for (int i = 0; i < 10; i++) { /* staying in the zone: nothing */
        assert_int_equal(feed1(&st, &rs, "rsi14", 80 + i, ev), 0);
    }
    assert_int_equal(feed1(&st, &rs, "rsi14", NAN, ev), 0); /* NaN: state kept */
    assert_int_equal(ta_sig_inside(&st), 1);
    assert_int_equal(feed1(&st, &rs, "rsi14", 66, ev), 0); /* in the band */
    assert_int_equal(feed1(&st, &rs, "rsi14", 64, ev), 1);
    assert_false(ev[0].entered);
    assert_true(ev[0].salience == 0 && ev[0].threshold == 65);
    assert_int_equal(feed1(&st, &rs, "rsi14", 60, ev), 0);
    /* An indicator the event does not carry is NaN: ignored. */
    assert_int_equal(feed1(&st, &rs, "ema12", 90, ev), 0);

    const char *spike[] = {"|chg_5m|>0.01/0.008"};
    ta_sig_rules rs2 = rules_of(spike, 1);
    ta_sig_stream_init(&st, &rs2, "X");
    assert_int_equal(feed1(&st, &rs2, "chg_5m", -0.012, ev), 1);
    assert_int_equal(ev[0].op, TA_SIG_ABS);
    assert_string_equal(ta_sig_dir_name(ev[0].op), "spike");
    assert_int_equal(feed1(&st, &rs2, "chg_5m", 0.009, ev), 0); /* still |x| >= exit */
    assert_int_equal(feed1(&st, &rs2, "chg_5m", 0.002, ev), 1);
    assert_false(ev[0].entered);
}

/* A noisy series around the level: the raw level test flips dozens of
 * times, the hysteresis machine only when the series really moves. */
static void test_no_flapping(void **state)
{
    const char *items[] = {"rsi14>70/65"};
    ta_sig_rules rs = rules_of(items, 1);
    ta_sig_stream st;
    ta_sig_stream_init(&st, &rs, "X");
    ta_sig_event ev[TA_SIG_MAX];
    unsigned seed = 12345;
    int raw_flips = 0, emitted = 0, enters = 0;
    bool raw_above = false;
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        double noise = ((seed >> 8) % 10000) / 10000.0 * 8 - 4; /* ±4 */
        /* Around 70 for 1000 bars, then well below, then around 70 again. */
        double base = i < 1000 ? 70 : i < 1200 ? 50 : 70;
        double v = base + noise;
        bool above = v > 70;
        raw_flips += above != raw_above;
        raw_above = above;
        size_t n = feed1(&st, &rs, "rsi14", v, ev);
        emitted += (int)n;
        enters += n && ev[0].entered;
    }
    assert_true(raw_flips > 200);
    /* Noise of ±4 never reaches 65 from 70: one entry in the first stretch,
     * one exit on the drop to 50, one entry back. */
    assert_int_equal(enters, 2);
    assert_int_equal(emitted, 3);
}

/* ---- salience ----------------------------------------------------------- */

static void test_salience(void **state)
{
    const char *items[] = {"rsi14>70/65", "|chg_5m|>0.01/0.008", "vol_ratio>3/2"};
    ta_sig_rules rs = rules_of(items, 3);
    ta_sig_event ev[TA_SIG_MAX];
    ta_sig_stream st;

    /* Bounds and monotonic in the distance past the level (alone). */
    double prev = 0;
    for (double v = 70.001; v < 200; v += 3) {
        ta_sig_stream_init(&st, &rs, "X");
        assert_int_equal(feed1(&st, &rs, "rsi14", v, ev), 1);
        assert_true(ev[0].salience >= 0.4 && ev[0].salience < 0.8);
        assert_true(ev[0].salience > prev);
        prev = ev[0].salience;
    }
    /* One band (5 points) past: 0.4 + 0.4·(1 - 1/e). */
    ta_sig_stream_init(&st, &rs, "X");
    feed1(&st, &rs, "rsi14", 75, ev);
    assert_true(fabs(ev[0].salience - (0.4 + 0.4 * (1 - exp(-1)))) < 1e-12);

    /* Agreement: the same distance scores higher with more zones in. */
    ta_sig_stream_init(&st, &rs, "X");
    vals one = {{"rsi14"}, {75}};
    assert_int_equal(ta_sig_update(&st, &rs, lookup, &one, ev, TA_SIG_MAX), 1);
    double alone = ev[0].salience;
    ta_sig_stream_init(&st, &rs, "X");
    vals two = {{"rsi14", "chg_5m"}, {75, 0.012}};
    assert_int_equal(ta_sig_update(&st, &rs, lookup, &two, ev, TA_SIG_MAX), 2);
    assert_true(fabs(ev[0].salience - (alone + 0.1)) < 1e-12); /* A = 1/2 */
    ta_sig_stream_init(&st, &rs, "X");
    vals three = {{"rsi14", "chg_5m", "vol_ratio"}, {75, 0.012, 1e9}};
    assert_int_equal(ta_sig_update(&st, &rs, lookup, &three, ev, TA_SIG_MAX), 3);
    assert_true(ev[0].salience > alone + 0.1);
    assert_true(ev[2].salience < 1.0 && ev[2].salience > 0.93); /* far past, all agree */
    /* A rule entering later counts the ones already in. */
    ta_sig_stream_init(&st, &rs, "X");
    feed1(&st, &rs, "chg_5m", 0.02, ev);
    assert_int_equal(feed1(&st, &rs, "rsi14", 75, ev), 1);
    assert_true(fabs(ev[0].salience - (alone + 0.1)) < 1e-12);
}

/* ---- real data ---------------------------------------------------------- */

typedef struct bar_vals {
    ta_set_out o;
    double chg5, close;
} bar_vals;

static double bar_lookup(void *arg, const char *name)
{
    const bar_vals *b = arg;
    if (strcmp(name, "rsi14") == 0) {
        return b->o.rsi14;
    }
    if (strcmp(name, "vol_ratio") == 0) {
        return b->o.vol_ratio;
    }
    if (strcmp(name, "chg_5m") == 0) {
        return b->chg5;
    }
    return NAN;
}

/* Two weeks of BTC 1m candles through lib/ta and the default rules: every
 * rule enters and leaves alternately, salience stays in bounds, and entries
 * are a small fraction of the bars (edge-triggered, not level-triggered). */
static void test_okx_btc_1m(void **state)
{
    const char *path = AT_TEST_SOURCE_DIR
        "/../shared/data/okx_freqtrade_huckhuck12/okx_BTC-USDT-SWAP_1m_20260101-20260116.csv";
    if (access(path, R_OK) != 0) {
        skip();
    }
    char err[256];
    ta_csv *r = ta_csv_open(path, NULL, err, sizeof(err));
    assert_non_null(r);
    const char *items[] = {"rsi14>70/65", "rsi14<30/35", "|chg_5m|>0.01/0.008", "vol_ratio>3/2"};
    ta_sig_rules rs = rules_of(items, 4);
    ta_sig_stream st;
    ta_sig_stream_init(&st, &rs, "BTC-USDT-SWAP");
    ta_set set;
    ta_set_init(&set);
    ta_chg chg;
    ta_chg_init(&chg);
    bool inside[TA_SIG_MAX] = {0};
    size_t bars = 0, enters = 0, spikes = 0, salient = 0;
    ta_bar b;
    while (ta_csv_next(r, &b, err, sizeof(err)) == 1) {
        bar_vals v;
        ta_set_update(&set, &b, &v.o);
        ta_chg_push(&chg, b.open_ms, b.c);
        v.chg5 = ta_chg_get(&chg, 5);
        ta_sig_event ev[TA_SIG_MAX];
        size_t n = ta_sig_update(&st, &rs, bar_lookup, &v, ev, TA_SIG_MAX);
        for (size_t i = 0; i < n; i++) {
            size_t k = 0;
            while (strcmp(rs.r[k].name, ev[i].name) != 0 || rs.r[k].op != ev[i].op) {
                k++;
            }
            assert_true(inside[k] != ev[i].entered); /* strictly alternating */
            inside[k] = ev[i].entered;
            if (ev[i].entered) {
                enters++;
                spikes += ev[i].op == TA_SIG_ABS;
                salient += ev[i].salience >= 0.6;
                assert_true(ev[i].salience >= 0.4 && ev[i].salience < 1);
            }
        }
        bars++;
    }
    ta_csv_close(r);
    assert_true(bars > 20000);
    assert_true(enters > 50 && enters < bars / 10);
    assert_true(spikes > 0);
    assert_true(salient > 0 && salient < enters);
    print_message("BTC 1m: %zu bars, %zu entries (%zu spikes, %zu with salience >= 0.6)\n", bars,
                  enters, spikes, salient);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_override),    cmocka_unit_test(test_edges),
        cmocka_unit_test(test_no_flapping), cmocka_unit_test(test_salience),
        cmocka_unit_test(test_okx_btc_1m),
    };
    return cmocka_run_group_tests_name("ta_signal", tests, NULL, NULL);
}

/* exchange_okx's recordings carry their instrument list, and a replay plays
 * each frame at its recorded time (replay_at = recorded), to the
 * microsecond, on the simulated clock: the real plugins (exchange_okx,
 * exchange_paper) in an engine driven from deadline to deadline
 * (tests/support/sim_engine), no network (every URL is a closed port).
 *  - recording: one instruments: line per instrument load, with the rows of
 *    the instruments followed, as received;
 *  - replay: instruments from the recording's last instruments: line before
 *    the first frame, frames delivered at their recorded µs, a timer_at set
 *    between two of them fires between them, frames recorded before the
 *    clock's time play at once in order; replay_at = start keeps the
 *    offsets exactly too (timer_at); a malformed instruments: line stops the
 *    instance naming the file and line; exchange_paper takes its
 *    instruments from the recording. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sim_engine.h"
#include "util.h"

#define T0 1700000000000000LL /* the engine's start, epoch µs */
#define SAMPLE AT_TEST_SOURCE_DIR "/tests/data/okx_instruments_swap_sample.json"
#define NOWHERE "http://127.0.0.1:9" /* discard port: nothing listens */

static sim_engine S;

/* ---------------------------------------------------------------- helpers */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int ch;
    while ((ch = fgetc(f)) != EOF) {
        fputc(ch, m);
    }
    fclose(m);
    fclose(f);
    return buf;
}

/* The first n rows of the sample answer, as one compact line. */
static char *sample_answer(size_t n)
{
    json_error_t je;
    json_t *root = json_load_file(SAMPLE, 0, &je);
    assert_non_null(root);
    json_t *data = json_object_get(root, "data");
    while (json_array_size(data) > n) {
        json_array_remove(data, json_array_size(data) - 1);
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static char *trade(const char *inst, int id)
{
    return at_asprintf("{\"arg\":{\"channel\":\"trades\",\"instId\":\"%s\"},\"data\":[{\"instId\":"
                       "\"%s\",\"tradeId\":\"%d\",\"px\":\"100.%d\",\"sz\":\"1\",\"side\":\"buy\","
                       "\"ts\":\"1700000000000\"}]}",
                       inst, inst, id, id);
}

static at_instance *instance(const char *name)
{
    for (at_instance *in = engine_instances(S.e); in; in = in->next) {
        if (strcmp(in->name, name) == 0) {
            return in;
        }
    }
    fail_msg("no instance %s", name);
    return NULL;
}

/* The discrete-event loop a replay runs: to each deadline in turn, the bus
 * and the storage answers delivered after each. */
static void run_until(int64_t end_us)
{
    int64_t d;
    while ((d = clock_next_deadline()) <= end_us) {
        assert_int_equal(clock_advance(d), AT_OK);
        engine_pump(S.e);
    }
    assert_int_equal(clock_advance(end_us), AT_OK);
    engine_pump(S.e);
}

static bool venue_open(void *arg)
{
    const at_instance *in = arg;
    return in->detail && strncmp(in->detail, "paper venue", 11) == 0;
}

/* What the probe saw, in delivery order: trades and its own markers. */
typedef struct seen {
    char what[AT_ID_LEN]; /* trade id, or "marker" */
    int64_t ts_us;
    char inst[24];
} seen;

static seen SEEN[64];
static size_t NSEEN;

static void on_event(void *arg, const at_event *ev)
{
    (void)arg;
    seen *s = &SEEN[NSEEN < 63 ? NSEEN++ : 63];
    s->ts_us = ev->ts_us;
    if (ev->type == AT_EV_TRADE) {
        snprintf(s->what, sizeof(s->what), "%s", ((const at_ev_trade *)ev)->trade_id);
        snprintf(s->inst, sizeof(s->inst), "%s", S.h->inst_name(ev->inst));
    } else {
        snprintf(s->what, sizeof(s->what), "marker");
    }
}

static at_instance *PROBE;

static void marker(void *arg)
{
    (void)arg;
    at_ev_alert *a = (at_ev_alert *)S.h->event_new(PROBE, AT_EV_ALERT, 8);
    a->level = AT_LOG_INFO;
    a->message = S.h->event_strdup(&a->h, "marker");
    S.h->publish(PROBE, &a->h, 0);
}

static void on_alert(void *arg, const at_event *ev)
{
    if (ev->source && strcmp(ev->source, "test.probe") == 0) {
        on_event(arg, ev);
    }
}

static void probe(void)
{
    NSEEN = 0;
    PROBE = engine_virtual_instance(S.e, "test.probe");
    assert_true(S.h->subscribe(PROBE, AT_EV_TRADE, on_event, NULL) > 0);
    assert_true(S.h->subscribe(PROBE, AT_EV_ALERT, on_alert, NULL) > 0);
}

static void expect(size_t i, const char *what, int64_t ts_us)
{
    assert_true(i < NSEEN);
    if (strcmp(SEEN[i].what, what) != 0 || SEEN[i].ts_us != ts_us) {
        fail_msg("event %zu: %s at T0%+lld µs, expected %s at T0%+lld µs", i, SEEN[i].what,
                 (long long)(SEEN[i].ts_us - T0), what, (long long)(ts_us - T0));
    }
}

/* A recording as this version writes it, plus what a replay must cope
 * with: two frames recorded before the replay's clock, three a microsecond
 * or two apart (the last written with seven decimals, rounded to the
 * nearest µs), a malformed instruments: line after the first frame (not
 * read: only the lines before it count), a later frame. */
static char *recording(const char *dir, const char *insts_line)
{
    char *path = at_asprintf("%s/rec.txt", dir);
    char *f[6] = {trade("BTC-USDT-SWAP", 1), trade("ETH-USDT-SWAP", 2), trade("BTC-USDT-SWAP", 3),
                  trade("ETH-USDT-SWAP", 4), trade("BTC-USDT-SWAP", 5), trade("ETH-USDT-SWAP", 6)};
    char *text = at_asprintf("%s\n"
                             "1699999999.000000: %s\n"
                             "1699999999.500000: %s\n"
                             "instruments: {\"code\":\n"
                             "1700000001.000001: %s\n"
                             "1700000001.000003: %s\n"
                             "1700000001.0000039: %s\n"
                             "1700000002.500000: %s\n",
                             insts_line, f[0], f[1], f[2], f[3], f[4], f[5]);
    write_file(path, text);
    for (int i = 0; i < 6; i++) {
        free(f[i]);
    }
    free(text);
    return path;
}

static void open_replay(const char *tag, const char *at, const char *insts_line, char **rec)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/at-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(dir));
    *rec = recording(dir, insts_line);
    char *ini = at_asprintf("[exchange.okx_rep]\nmodule = okx\nrest_url = %s\n"
                            "instruments = BTC, ETH\ncandles =\nreplay = %s\nreplay_at = %s\n"
                            "[exchange.paper]\nmodule = paper\nrest_url = %s\n"
                            "market = exchange.okx_rep\ninstruments = BTC, ETH\n"
                            "instruments_file = %s\n",
                            NOWHERE, *rec, at, NOWHERE, *rec);
    sim_engine_open_ini(&S, tag, dir, T0, false, ini);
    free(ini);
    probe();
}

/* ------------------------------------------------------------------ tests */

/* replay_at = recorded: each frame when the clock reaches its recorded µs;
 * a timer_at a µs between two frames fires between them; the instruments
 * came from the recording (no network), for the paper venue too. */
static void test_recorded_times(void **state)
{
    (void)state;
    char *insts = sample_answer(2), *rec;
    char *line = at_asprintf("instruments: %s", insts);
    open_replay("replay-at", "recorded", line, &rec);
    assert_non_null(S.h->timer_at(PROBE, T0 + 1000002, marker, NULL));
    run_until(T0 + 3000000);

    assert_int_equal(NSEEN, 7);
    /* Recorded before the clock's start: at once, in file order. */
    expect(0, "1", T0);
    expect(1, "2", T0);
    expect(2, "3", T0 + 1000001);
    expect(3, "marker", T0 + 1000002);
    expect(4, "4", T0 + 1000003);
    expect(5, "5", T0 + 1000004); /* .0000039 rounded */
    expect(6, "6", T0 + 2500000);
    assert_string_equal(SEEN[0].inst, "BTC-USDT-SWAP");
    assert_string_equal(SEEN[1].inst, "ETH-USDT-SWAP");

    at_instance *rep = instance("exchange.okx_rep");
    assert_non_null(strstr(rep->detail, "2 instruments; replay finished"));
    /* The paper venue, its instruments from the recording too, once storage
     * answered for its account. */
    at_instance *paper = instance("exchange.paper");
    assert_true(engine_wait(S.e, venue_open, paper, 5000000));
    if (!strstr(paper->detail, "paper venue, 2 instruments")) {
        fail_msg("paper: %s", paper->detail);
    }
    sim_engine_close(&S, true);
    free(rec);
    free(line);
    free(insts);
}

/* replay_at = start (the default): the same offsets from the first frame,
 * after the replay's start, to the microsecond as well. */
static void test_start_offsets(void **state)
{
    (void)state;
    char *insts = sample_answer(2), *rec;
    char *line = at_asprintf("instruments: %s", insts);
    open_replay("replay-start", "start", line, &rec);
    run_until(T0 + 5000000);
    assert_int_equal(NSEEN, 6);
    expect(0, "1", T0);
    expect(1, "2", T0 + 500000);
    expect(2, "3", T0 + 2000001);
    expect(3, "4", T0 + 2000003);
    expect(4, "5", T0 + 2000004);
    expect(5, "6", T0 + 3500000);
    sim_engine_close(&S, true);
    free(rec);
    free(line);
    free(insts);
}

/* A malformed instruments: line stops the replay with the file and line;
 * so does an instruments_file that is a recording without one. */
static void test_malformed_instruments(void **state)
{
    (void)state;
    char dir[] = "/tmp/at-replay-bad-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *rec = recording(dir, "instruments: {\"code\":\"0\",\"data\":[");
    char *plain = at_asprintf("%s/plain.txt", dir);
    write_file(plain, "1700000001.000001: {\"event\":\"subscribe\"}\n");
    char *ini = at_asprintf("[exchange.okx_rep]\nmodule = okx\nrest_url = %s\ninstruments = BTC\n"
                            "candles =\nreplay = %s\nreplay_at = recorded\n"
                            "[exchange.okx_two]\nmodule = okx\nrest_url = %s\ninstruments = BTC\n"
                            "candles =\nreplay = %s\ninstruments_file = %s\n",
                            NOWHERE, rec, NOWHERE, rec, plain);
    sim_engine_open_ini(&S, "replay-bad", dir, T0, false, ini);
    probe();
    run_until(T0 + 3000000);
    assert_int_equal(NSEEN, 0); /* nothing played */
    at_instance *rep = instance("exchange.okx_rep");
    assert_int_equal(rep->state, AT_STATE_DOWN);
    char *want = at_asprintf("replay %s:1: instruments: ", rec);
    if (!strstr(rep->detail, want)) {
        fail_msg("detail '%s' lacks '%s'", rep->detail, want);
    }
    at_instance *two = instance("exchange.okx_two");
    assert_int_equal(two->state, AT_STATE_DOWN);
    assert_non_null(strstr(two->detail, "a recording without an instruments: line"));
    sim_engine_close(&S, true);
    free(want);
    free(ini);
    free(plain);
    free(rec);
}

/* Recording: one instruments: line per load, before any frame, with the
 * followed instruments' rows as received; a restart (a new load) appends
 * another. */
static void test_record_instruments(void **state)
{
    (void)state;
    char dir[] = "/tmp/at-okx-rec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *rec = at_asprintf("%s/rec.txt", dir);
    char *ini = at_asprintf("[exchange.okx_rec]\nmodule = okx\nrest_url = %s\n"
                            "ws_public_url = ws://127.0.0.1:9/ws\nws_business_url = "
                            "ws://127.0.0.1:9/ws\ninstruments = BTC\ncandles =\n"
                            "instruments_file = %s\nrecord = %s\n",
                            NOWHERE, SAMPLE, rec);
    json_error_t je;
    json_t *sample = json_load_file(SAMPLE, 0, &je);
    assert_non_null(sample);
    json_t *btc = json_array_get(json_object_get(sample, "data"), 0);
    assert_string_equal(json_string_value(json_object_get(btc, "instId")), "BTC-USDT-SWAP");
    for (int run = 1; run <= 2; run++) {
        sim_engine_open_ini(&S, "okx-rec", dir, T0 + run * 60000000, false, ini);
        run_until(T0 + run * 60000000 + 1000000);
        sim_engine_close(&S, false);
        char *text = read_file(rec);
        assert_non_null(text);
        int lines = 0;
        for (char *l = text, *nl; *l; l = nl + 1) {
            nl = strchr(l, '\n');
            assert_non_null(nl);
            *nl = '\0';
            lines++;
            assert_true(strncmp(l, "instruments: ", 13) == 0);
            json_t *doc = json_loads(l + 13, 0, &je);
            assert_non_null(doc);
            assert_string_equal(json_string_value(json_object_get(doc, "code")), "0");
            json_t *data = json_object_get(doc, "data");
            assert_int_equal(json_array_size(data), 1); /* BTC only, not the 12 */
            assert_true(json_equal(json_array_get(data, 0), btc));
            json_decref(doc);
        }
        assert_int_equal(lines, run);
        free(text);
    }
    json_decref(sample);
    char *cmd = at_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(ini);
    free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_times),
        cmocka_unit_test(test_start_offsets),
        cmocka_unit_test(test_malformed_instruments),
        cmocka_unit_test(test_record_instruments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

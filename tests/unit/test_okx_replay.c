/* okx_replay: the recording line format, and real recordings of OKX's
 * public WebSocket read through it into okx_md: every received frame is
 * found, none is unreadable. The whole cryptofeed recording (2022-05-13,
 * ../shared/data/okx_ws_cryptofeed) when present, and always its 52-frame
 * slice in tests/data; the Tardis JSONL samples (frames without times); the
 * receive time in exact microseconds; the instrument list a recording
 * carries (okx_rec_instruments). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "okx_replay.h"

static okx_rec_kind rec(const char *line, double *ts, char *frame, size_t cap)
{
    const char *f = NULL;
    size_t n = 0;
    okx_rec_kind k = okx_rec_line(line, strlen(line), ts, &f, &n);
    if (k != OKX_REC_SKIP) {
        snprintf(frame, cap, "%.*s", (int)n, f);
    }
    return k;
}

static void test_lines(void **state)
{
    double ts = -1;
    char f[256];
    assert_int_equal(rec("1652459225.5037491: {\"event\":\"subscribe\"}", &ts, f, sizeof(f)),
                     OKX_REC_TIMED);
    assert_true(ts > 1652459225.503749 && ts < 1652459225.50375);
    assert_string_equal(f, "{\"event\":\"subscribe\"}");
    /* Our recorder's form: integer seconds, six decimals; CR/LF endings. */
    assert_int_equal(rec("1700000000.000001: pong\r", &ts, f, sizeof(f)), OKX_REC_TIMED);
    assert_string_equal(f, "pong");
    assert_true(ts > 1699999999.9 && ts < 1700000000.1);
    assert_int_equal(rec("1700000001: {}", &ts, f, sizeof(f)), OKX_REC_TIMED);
    assert_true(ts == 1700000001.0);
    /* JSONL without a time. */
    ts = 5;
    assert_int_equal(rec("{\"arg\":{}}", &ts, f, sizeof(f)), OKX_REC_UNTIMED);
    assert_true(ts == 5); /* left alone */
    /* Not received frames: outbound, connection lines, junk, empty. */
    const char *skip[] = {
        "wss://ws.okx.com:8443/ws/v5/public <- 1652459225.2987883: {\"op\":\"subscribe\"}",
        "wss://ws.okx.com:8443/ws/v5/public <-> 1652459224.5300605",
        "",
        "   ",
        "1652459225.5",
        "1652459225.5:",
        "1652459225.5: ",
        "1652459225.5:{}",
        "12x: {}",
        "9999999999999999999999: {}",
        "# comment",
    };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
        if (rec(skip[i], &ts, f, sizeof(f)) != OKX_REC_SKIP) {
            fail_msg("line %zu should be skipped: '%s'", i, skip[i]);
        }
    }
}

static okx_rec_kind rec_us(const char *line, int64_t *us)
{
    const char *f = NULL;
    size_t n = 0;
    return okx_rec_line_us(line, strlen(line), us, &f, &n);
}

/* The receive time in exact microseconds (replay_at = recorded plays by it):
 * no double in between, digits past the sixth rounded to the nearest. */
static void test_lines_us(void **state)
{
    int64_t us = -1;
    assert_int_equal(rec_us("1700000000.000001: pong", &us), OKX_REC_TIMED);
    assert_int_equal(us, 1700000000000001LL);
    assert_int_equal(rec_us("1799999999.999999: pong", &us), OKX_REC_TIMED);
    assert_int_equal(us, 1799999999999999LL);
    assert_int_equal(rec_us("1700000001: {}", &us), OKX_REC_TIMED);
    assert_int_equal(us, 1700000001000000LL);
    assert_int_equal(rec_us("1700000000.5: {}", &us), OKX_REC_TIMED);
    assert_int_equal(us, 1700000000500000LL);
    assert_int_equal(rec_us("1652459225.5037491: {}", &us), OKX_REC_TIMED); /* cryptofeed's 7 */
    assert_int_equal(us, 1652459225503749LL);
    assert_int_equal(rec_us("1652459225.5037495: {}", &us), OKX_REC_TIMED);
    assert_int_equal(us, 1652459225503750LL);
    assert_int_equal(rec_us("1699999999.99999951: {}", &us), OKX_REC_TIMED); /* carries */
    assert_int_equal(us, 1700000000000000LL);
    us = 7;
    assert_int_equal(rec_us("{\"arg\":{}}", &us), OKX_REC_UNTIMED);
    assert_int_equal(us, 7); /* left alone */
    /* The recording's instrument list is not a frame: the player skips it. */
    double ts;
    char f[64];
    assert_int_equal(rec_us("instruments: {\"code\":\"0\",\"data\":[]}", &us), OKX_REC_SKIP);
    assert_int_equal(rec("instruments: {\"code\":\"0\",\"data\":[]}", &ts, f, sizeof(f)),
                     OKX_REC_SKIP);
}

static char *tmp_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/at-okx-rec-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

typedef struct insts_read {
    int rc;
    json_t *doc;
    uint64_t line;
    okx_rec_kind first;
    char err[400];
} insts_read;

static insts_read read_insts(const char *text)
{
    insts_read r;
    char *path = tmp_file(text);
    r.rc = okx_rec_instruments(path, 0, &r.doc, &r.line, &r.first, r.err, sizeof(r.err));
    unlink(path);
    return r;
}

/* The instrument list of a recording: the last instruments: line before
 * the first frame; one that is not an answer is refused with file:line. */
static void test_rec_instruments(void **state)
{
    insts_read r = read_insts("instruments: {\"code\":\"0\",\"data\":[{\"instId\":\"A\"}]}\n"
                              "\n"
                              "instruments: {\"code\":\"0\",\"data\":[{\"instId\":\"B\"}]}\r\n"
                              "1700000000.000001: {\"event\":\"subscribe\"}\n"
                              "instruments: {\"code\":\"0\",\"data\":[{\"instId\":\"C\"}]}\n"
                              "instruments: not read: after the first frame\n");
    assert_int_equal(r.rc, AT_OK);
    assert_int_equal(r.line, 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.doc, "data"), 0), "instId")),
                        "B");
    json_decref(r.doc);

    /* replay_from: the list of the session played, after earlier runs' frames */
    char *two = tmp_file("instruments: {\"code\":\"0\",\"data\":[{\"instId\":\"A\"}]}\n"
                         "1700000000.000001: {\"event\":\"subscribe\"}\n"
                         "instruments: {\"code\":\"0\",\"data\":[{\"instId\":\"D\"}]}\n"
                         "1700000005.000000: {\"event\":\"subscribe\"}\n");
    r.rc =
        okx_rec_instruments(two, 1700000005000000, &r.doc, &r.line, &r.first, r.err, sizeof(r.err));
    assert_int_equal(r.rc, AT_OK);
    assert_int_equal(r.line, 3);
    json_decref(r.doc);
    r.rc =
        okx_rec_instruments(two, 1700000000000001, &r.doc, &r.line, &r.first, r.err, sizeof(r.err));
    assert_int_equal(r.line, 1); /* the first frame is played: the first list */
    json_decref(r.doc);
    unlink(two);

    /* none: what came first says what the file is */
    r = read_insts("wss://x <-> 1\n1700000000.000001: {}\n");
    assert_int_equal(r.rc, AT_ENOENT);
    assert_null(r.doc);
    assert_int_equal(r.first, OKX_REC_TIMED);
    r = read_insts("{\n \"code\": \"0\",\n \"data\": []\n}\n"); /* a saved answer */
    assert_int_equal(r.rc, AT_ENOENT);
    assert_int_equal(r.first, OKX_REC_UNTIMED);
    r = read_insts("");
    assert_int_equal(r.rc, AT_ENOENT);
    assert_int_equal(r.first, OKX_REC_SKIP);

    /* malformed: refused with the file and the line, even before a good one */
    const char *bad[][2] = {
        {"\ninstruments: {\"code\":\"0\",\"data\":[\ninstruments: {\"code\":\"0\",\"data\":[]}\n",
         ":2: instruments: "},
        {"instruments: {\"code\":\"51000\",\"data\":[]}\n",
         ":1: instruments: not an OKX /public/instruments answer"},
        {"instruments: {\"code\":\"0\",\"data\":{}}\n",
         ":1: instruments: not an OKX /public/instruments answer"},
        {"instruments: \n", ":1: instruments: "},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *path = tmp_file(bad[i][0]);
        char want[128];
        snprintf(want, sizeof(want), "%s%s", path, bad[i][1]);
        r.rc = okx_rec_instruments(path, 0, &r.doc, &r.line, &r.first, r.err, sizeof(r.err));
        unlink(path);
        assert_int_equal(r.rc, AT_EINVAL);
        assert_null(r.doc);
        if (strncmp(r.err, want, strlen(want)) != 0) {
            fail_msg("case %zu: '%s' does not start with '%s'", i, r.err, want);
        }
    }
    assert_int_equal(
        okx_rec_instruments("/nowhere/rec.txt", 0, &r.doc, &r.line, &r.first, r.err, sizeof(r.err)),
        AT_EIO);
    assert_string_equal(r.err, "/nowhere/rec.txt: No such file or directory");
}

#define RECORDING "/work/shared/data/okx_ws_cryptofeed/OKX.ws.1.0.txt"
#define TARDIS "/work/shared/data/okx_ws_tardis_samples/tardis_okx_v5_messages.jsonl"

typedef struct counts {
    unsigned timed, untimed, skipped, bad, tickers, trades, books, events, other;
} counts;

static counts read_recording(FILE *f)
{
    counts c = {0};
    okx_md *md = malloc(sizeof(*md));
    okx_md_msg *m = malloc(sizeof(*m));
    okx_md_init(md, engine_host());
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    double last = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        double ts = last;
        const char *fr;
        size_t n;
        okx_rec_kind k = okx_rec_line(line, (size_t)len, &ts, &fr, &n);
        if (k == OKX_REC_SKIP) {
            c.skipped++;
            continue;
        }
        c.timed += k == OKX_REC_TIMED;
        c.untimed += k == OKX_REC_UNTIMED;
        assert_true(ts >= last); /* the recordings are in time order */
        last = ts;
        if (okx_md_parse(md, fr, n, m) != AT_OK) {
            c.bad++;
            continue;
        }
        bool data = m->kind == OKX_MD_DATA;
        c.events += m->kind == OKX_MD_EVENT;
        c.tickers += data && m->channel == OKX_CH_TICKERS;
        c.trades += data && m->channel == OKX_CH_TRADES;
        c.books += data && m->channel == OKX_CH_BOOKS;
        c.other += data && m->channel != OKX_CH_TICKERS && m->channel != OKX_CH_TRADES &&
                   m->channel != OKX_CH_BOOKS;
    }
    free(line);
    free(md);
    free(m);
    print_message("%u timed, %u untimed, %u skipped; %u events, %u tickers, %u trades, %u books, "
                  "%u other, %u unreadable\n",
                  c.timed, c.untimed, c.skipped, c.events, c.tickers, c.trades, c.books, c.other,
                  c.bad);
    return c;
}

static void test_real_recording(void **state)
{
    FILE *f = fopen(RECORDING, "r");
    if (!f) {
        print_message("%s absent: only the slice is read\n", RECORDING);
        skip();
    }
    counts c = read_recording(f);
    fclose(f);
    /* 414 lines: 4 client lines (3 outbound, 1 connection) and 410 frames. */
    assert_int_equal(c.skipped, 4);
    assert_int_equal(c.timed, 410);
    assert_int_equal(c.untimed, 0);
    assert_int_equal(c.bad, 0);
    assert_true(c.tickers > 0 && c.trades > 0 && c.books > 0 && c.events > 0);
    assert_int_equal(c.events + c.tickers + c.trades + c.books, 410);
}

static void test_slice(void **state)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/data/okx_ws_books_slice.txt", AT_TEST_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    counts c = read_recording(f);
    fclose(f);
    assert_int_equal(c.timed, 52);
    assert_int_equal(c.books, 52);
    assert_int_equal(c.bad + c.untimed + c.skipped, 0);
}

static void test_tardis_jsonl(void **state)
{
    FILE *f = fopen(TARDIS, "r");
    if (!f) {
        skip();
    }
    counts c = read_recording(f);
    fclose(f);
    assert_int_equal(c.untimed, 31);
    assert_int_equal(c.timed + c.skipped, 0);
    assert_int_equal(c.bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),           cmocka_unit_test(test_lines_us),
        cmocka_unit_test(test_rec_instruments), cmocka_unit_test(test_real_recording),
        cmocka_unit_test(test_slice),           cmocka_unit_test(test_tardis_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* okx_replay: the recording line format, and real recordings of OKX's
 * public WebSocket read through it into okx_md: every received frame is
 * found, none is unreadable. The whole cryptofeed recording (2022-05-13,
 * ../shared/data/okx_ws_cryptofeed) when present, and always its 52-frame
 * slice in tests/data; the Tardis JSONL samples (frames without times). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_real_recording),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_tardis_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

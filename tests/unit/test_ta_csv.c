/* lib/ta's candle CSV reader on hostile input: NUL bytes, lines longer than
 * TA_CSV_LINE_MAX, a UTF-8 byte order mark, directories, devices, FIFOs and
 * pipes. (The format itself is tested in test_ta_market.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ta_csv.h"

#define HDR "ts,open,high,low,close\n"
#define ROW1 "1767225600000,1,2,0.5,1.5\n"
#define ROW2 "1767225660000,1.5,2,1,2\n"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_ta_csv_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes len bytes (NULs included) to dir/name; returns the path. */
static const char *put(const char *name, const char *data, size_t len)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

typedef struct result {
    int open_ok; /* 0: ta_csv_open failed */
    int rows;
    int rc; /* last ta_csv_next result (or -1 when the open failed) */
    char err[512];
} result;

/* ta_csv_open, or ta_csv_open_wait when fifo_wait_ms >= 0. */
static result read_wait(const char *path, int fifo_wait_ms)
{
    result res = {.rc = -1};
    ta_csv *r = fifo_wait_ms >= 0
                    ? ta_csv_open_wait(path, NULL, fifo_wait_ms, res.err, sizeof(res.err))
                    : ta_csv_open(path, NULL, res.err, sizeof(res.err));
    if (!r) {
        return res;
    }
    res.open_ok = 1;
    ta_bar b;
    while ((res.rc = ta_csv_next(r, &b, res.err, sizeof(res.err))) == 1) {
        res.rows++;
    }
    ta_csv_close(r);
    return res;
}

static result read_all(const char *path)
{
    return read_wait(path, -1);
}

static void expect_error(const result *res, const char *path, const char *want)
{
    assert_int_equal(res->rc, -1);
    char head[160];
    snprintf(head, sizeof(head), "%s%s", path, want);
    if (strncmp(res->err, head, strlen(head)) != 0) {
        fail_msg("error '%s', want it to start with '%s'", res->err, head);
    }
}

/* A NUL byte used to end the row silently (C strings): the row was dropped
 * or cut and the read went on with exit 0. */
static void test_nul_byte(void **state)
{
    (void)state;
    static const char data[] = HDR ROW1 "1767225660000,1.5,2\0,1,2\n" ROW2;
    const char *p = put("nul.csv", data, sizeof(data) - 1);
    result res = read_all(p);
    assert_int_equal(res.rows, 1);
    expect_error(&res, p, ":3: NUL byte at column 20");

    static const char lead[] = HDR "\0" ROW1;
    p = put("nul_lead.csv", lead, sizeof(lead) - 1);
    res = read_all(p);
    assert_int_equal(res.rows, 0);
    expect_error(&res, p, ":2: NUL byte at column 1");

    static const char hdr[] = "ts,open,high\0,low,close\n" ROW1;
    p = put("nul_hdr.csv", hdr, sizeof(hdr) - 1);
    res = read_all(p);
    assert_int_equal(res.open_ok, 0);
    expect_error(&res, p, ":1: NUL byte at column 13");
}

/* A line of TA_CSV_LINE_MAX bytes is read; one byte more is refused at its
 * line, before the rest of it is read. */
static void test_line_cap(void **state)
{
    (void)state;
    size_t row = strlen(ROW1) - 1; /* without the newline */
    size_t len = strlen(HDR) + TA_CSV_LINE_MAX + 1 + strlen(ROW2);
    char *data = malloc(len + 1);
    assert_non_null(data);
    /* ROW1 padded with blanks (trimmed by the parser) to exactly the cap. */
    memcpy(data, HDR, strlen(HDR));
    char *line = data + strlen(HDR);
    memcpy(line, ROW1, row);
    memset(line + row, ' ', TA_CSV_LINE_MAX - row);
    line[TA_CSV_LINE_MAX] = '\n';
    memcpy(line + TA_CSV_LINE_MAX + 1, ROW2, strlen(ROW2));
    const char *p = put("cap.csv", data, len);
    result res = read_all(p);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.rows, 2);

    line[TA_CSV_LINE_MAX] = ' '; /* now line 2 runs into line 3: 65536 + 1 + 24 bytes */
    p = put("long.csv", data, len);
    res = read_all(p);
    assert_int_equal(res.rows, 0);
    expect_error(&res, p, ":2: line too long (over 65536 bytes)");
    free(data);

    /* The header too. */
    data = malloc(TA_CSV_LINE_MAX + 2);
    assert_non_null(data);
    memset(data, 'a', TA_CSV_LINE_MAX + 1);
    data[TA_CSV_LINE_MAX + 1] = '\n';
    p = put("long_hdr.csv", data, TA_CSV_LINE_MAX + 2);
    res = read_all(p);
    assert_int_equal(res.open_ok, 0);
    expect_error(&res, p, ":1: line too long");
    free(data);
}

/* A writer that would send far more than the cap on one line: the reader
 * stops at the cap and the writer sees the pipe close (EPIPE), long before
 * it is done, so nothing near its size was ever held. */
typedef struct writer {
    int fd;
    size_t sent;
} writer;

static void *write_endless_line(void *arg)
{
    writer *w = arg;
    static char buf[65536];
    memset(buf, '7', sizeof(buf));
    ssize_t n = write(w->fd, HDR, strlen(HDR));
    while (n > 0 && w->sent < ((size_t)1 << 30)) {
        n = write(w->fd, buf, sizeof(buf));
        w->sent += n > 0 ? (size_t)n : 0;
    }
    close(w->fd);
    return NULL;
}

static void test_endless_line_in_pipe(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    writer w = {.fd = fds[1]};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_endless_line, &w), 0);
    char path[64];
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    result res = read_all(path);
    close(fds[0]); /* the writer's next write fails: it stops */
    assert_int_equal(pthread_join(t, NULL), 0);
    expect_error(&res, path, ":2: line too long");
    assert_true(w.sent < ((size_t)1 << 30));
}

/* modules.ini accepts a UTF-8 BOM (inih); a CSV saved by the same editor
 * used to be refused ("header has no 'ts' column"). */
static void test_bom(void **state)
{
    (void)state;
    static const char data[] = "\xEF\xBB\xBF" HDR ROW1 ROW2;
    const char *p = put("bom.csv", data, sizeof(data) - 1);
    result res = read_all(p);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.rows, 2);
    /* Only at the start of the file: elsewhere it is a bad ts. */
    static const char later[] = HDR "\xEF\xBB\xBF" ROW1;
    p = put("bom_later.csv", later, sizeof(later) - 1);
    res = read_all(p);
    expect_error(&res, p, ":2: ts:");
}

/* A directory used to be reported as "empty file"; devices are not CSV files. */
static void test_not_a_file(void **state)
{
    (void)state;
    result res = read_all(dir);
    assert_int_equal(res.open_ok, 0);
    char want[128];
    snprintf(want, sizeof(want), "%s: is a directory", dir);
    assert_string_equal(res.err, want);

    res = read_all("/dev/null");
    assert_int_equal(res.open_ok, 0);
    assert_string_equal(res.err, "/dev/null: is a character device, not a CSV file");

    res = read_all("/nonexistent/c.csv");
    assert_int_equal(res.open_ok, 0);
    assert_string_equal(res.err, "/nonexistent/c.csv: cannot open: No such file or directory");
}

/* The writer side of a FIFO: opening it blocks until the reader has it
 * open, so the writer comes after the reader's open (the case that used to
 * read as "empty file" and kill the writer with SIGPIPE). */
typedef struct fifo_writer {
    const char *path;
    const char *data; /* NULL: open and close without writing */
    ssize_t wrote;
} fifo_writer;

static void *fifo_write(void *arg)
{
    fifo_writer *w = arg;
    int fd = open(w->path, O_WRONLY);
    if (fd < 0) {
        w->wrote = -1;
        return NULL;
    }
    w->wrote = w->data ? write(fd, w->data, strlen(w->data)) : 0;
    close(fd);
    return NULL;
}

static result read_fifo_with_writer(const char *path, const char *data, fifo_writer *w)
{
    pthread_t t;
    *w = (fifo_writer){.path = path, .data = data};
    assert_int_equal(pthread_create(&t, NULL, fifo_write, w), 0);
    result res = read_all(path);
    /* A reader that gave up before the writer opened would leave it blocked
     * in open for good: give it a reader (it is harmless otherwise). */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    assert_int_equal(pthread_join(t, NULL), 0);
    close(fd);
    return res;
}

/* A FIFO: read once its writer comes; empty when the writer writes nothing;
 * refused, not waited on for good nor read as empty, when no writer comes
 * (the first reader blocked in fopen, the second read EOF at once). A pipe
 * with data is read. */
static void test_fifo_and_pipe(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/fifo.csv", dir);
    assert_int_equal(mkfifo(path, 0600), 0);

    static const char data[] = HDR ROW1 ROW2;
    fifo_writer w;
    result res = read_fifo_with_writer(path, data, &w);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.rows, 2);
    assert_int_equal(w.wrote, (ssize_t)(sizeof(data) - 1));

    res = read_fifo_with_writer(path, NULL, &w);
    assert_int_equal(w.wrote, 0);
    assert_int_equal(res.open_ok, 0);
    expect_error(&res, path, ":1: empty file");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    res = read_wait(path, 300);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(res.open_ok, 0);
    expect_error(&res, path, ": no writer on the FIFO: nothing was written to it within 1 s");
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 0.29 && waited < 10);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], data, sizeof(data) - 1), (ssize_t)(sizeof(data) - 1));
    close(fds[1]);
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    res = read_all(path);
    close(fds[0]);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.rows, 2);
}

/* An error ends the read: later calls fail too instead of going on with the
 * next row. A last row without a newline is still a row. */
static void test_error_ends_read(void **state)
{
    (void)state;
    static const char data[] = HDR ROW1 "1767225660000,1,1,1,x\n" ROW2 "1767225720000,2,2,2,2";
    const char *p = put("sticky.csv", data, sizeof(data) - 1);
    char err[256];
    ta_csv *r = ta_csv_open(p, NULL, err, sizeof(err));
    assert_non_null(r);
    ta_bar b;
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 1);
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":3: close: 'x'"));
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "stopped at an earlier error"));
    ta_csv_close(r);

    static const char tail[] = HDR ROW1 "1767225660000,2,2,2,2";
    FILE *f = fmemopen((void *)tail, sizeof(tail) - 1, "r");
    assert_non_null(f);
    r = ta_csv_open_stream(f, "mem", NULL, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 1);
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 1);
    assert_true(b.c == 2);
    assert_int_equal(ta_csv_next(r, &b, err, sizeof(err)), 0);
    assert_int_equal(ta_csv_lineno(r), 3);
    ta_csv_close(r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the endless writer learns of the closed pipe by EPIPE */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_line_cap),
        cmocka_unit_test(test_endless_line_in_pipe),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_not_a_file),
        cmocka_unit_test(test_fifo_and_pipe),
        cmocka_unit_test(test_error_ends_read),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}

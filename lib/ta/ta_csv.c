/* Strict candle CSV reader. Strict because an indicator run over a silently
 * mis-parsed file (a shifted column, a row out of order) gives plausible but
 * wrong numbers: every problem stops the read with FILE:LINE: reason. It
 * never holds more than one line of TA_CSV_LINE_MAX bytes, whatever the
 * input (a 1 GB line, /dev/zero through a pipe). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ta_csv.h"

#define MAX_COLS 64

enum { C_TS, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOL, C_INST, C__N };

struct ta_csv {
    FILE *f;
    char *path;
    char *inst;
    char line[TA_CSV_LINE_MAX + 1];
    long lineno;
    bool failed; /* an error stopped the read: later calls fail too */
    int ncols;
    int col[C__N]; /* field index of each known column, -1 if absent */
    bool have_prev;
    int64_t prev_ts;
};

/* "FILE:LINE: reason", or "FILE: reason" for the file as a whole (line 0). */
static void errf(char *err, size_t len, const char *path, long line, const char *fmt, ...)
{
    if (!err || !len) {
        return;
    }
    int n =
        line > 0 ? snprintf(err, len, "%s:%ld: ", path, line) : snprintf(err, len, "%s: ", path);
    if (n < 0 || (size_t)n >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, len - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Split the line in place at commas; trims blanks, CR and surrounding quotes
 * (quoted commas are not supported: candle files do not need them). */
static int split(char *s, char **fields, int max)
{
    int n = 0;
    for (;;) {
        char *end = strchr(s, ',');
        if (end) {
            *end = '\0';
        }
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        size_t len = strlen(s);
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                       s[len - 1] == '\n')) {
            s[--len] = '\0';
        }
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
            s[len - 1] = '\0';
            s++;
        }
        if (n == max) {
            return -1;
        }
        fields[n++] = s;
        if (!end) {
            return n;
        }
        s = end + 1;
    }
}

static bool blank(const char *s)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* Reads the next non-blank line into r->line, without its newline: 1 ok,
 * 0 end of file, -1 error (message in err). A NUL byte is an error, not the
 * end of the row (C strings would silently cut the row there), and so is a
 * line longer than TA_CSV_LINE_MAX: the read stops at the limit. A UTF-8
 * byte order mark before the header is skipped, as in modules.ini. */
static int read_line(ta_csv *r, char *err, size_t errlen)
{
    for (;;) {
        size_t n = 0;
        int c;
        while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
            if (c == '\0') {
                errf(err, errlen, r->path, r->lineno + 1, "NUL byte at column %zu: not a text file",
                     n + 1);
                return -1;
            }
            if (n == TA_CSV_LINE_MAX) {
                errf(err, errlen, r->path, r->lineno + 1, "line too long (over %d bytes)",
                     TA_CSV_LINE_MAX);
                return -1;
            }
            r->line[n++] = (char)c;
        }
        if (c == EOF) {
            if (ferror(r->f)) {
                errf(err, errlen, r->path, r->lineno + 1, "read error: %s", strerror(errno));
                return -1;
            }
            if (n == 0) {
                return 0; /* the last line ended with its newline, or the file is empty */
            }
        }
        r->lineno++;
        r->line[n] = '\0';
        if (r->lineno == 1 && n >= 3 && memcmp(r->line, "\xEF\xBB\xBF", 3) == 0) {
            memmove(r->line, r->line + 3, n - 2);
        }
        if (!blank(r->line)) {
            return 1;
        }
    }
}

static int column_of(const char *name)
{
    static const struct {
        const char *name;
        int col;
    } known[] = {
        {"ts", C_TS},           {"open", C_OPEN},   {"high", C_HIGH},   {"low", C_LOW},
        {"close", C_CLOSE},     {"volume", C_VOL},  {"instid", C_INST}, {"inst", C_INST},
        {"instrument", C_INST}, {"symbol", C_INST},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcasecmp(name, known[i].name) == 0) {
            return known[i].col;
        }
    }
    return -1;
}

/* What a path that is not a file or a stream is, for the message. */
static const char *not_a_file(mode_t m)
{
    return S_ISDIR(m)    ? "is a directory"
           : S_ISBLK(m)  ? "is a block device, not a CSV file"
           : S_ISCHR(m)  ? "is a character device, not a CSV file"
           : S_ISSOCK(m) ? "is a socket, not a CSV file"
                         : "is not a regular file";
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A FIFO opened without blocking reads as EOF (0) as long as no writer has
 * opened it: read at once, a named FIFO whose writer comes a moment later
 * would be "empty" and its writer killed by SIGPIPE. So wait, at most
 * wait_ms, for a writer's first byte (poll blocks until a writer writes, or
 * opens and closes it). A byte read here goes to *first (-1: none); a writer
 * that is there but has not written yet reads as EAGAIN: the blocking reads
 * that follow wait for it. 0, or -1 with the message in err. */
static int fifo_wait(int fd, const char *path, int wait_ms, int *first, char *err, size_t errlen)
{
    int64_t deadline = mono_ms() + wait_ms;
    bool hup = false;
    *first = -1;
    for (;;) {
        unsigned char c;
        ssize_t n = read(fd, &c, 1);
        if (n == 1) {
            *first = c;
            return 0;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0; /* a writer, no data yet */
        }
        if (n < 0 && errno != EINTR) {
            errf(err, errlen, path, 0, "cannot read: %s", strerror(errno));
            return -1;
        }
        if (n == 0 && hup) {
            return 0; /* a writer came and left without writing: empty */
        }
        int64_t left = deadline - mono_ms();
        if (n == 0 && left <= 0) {
            errf(err, errlen, path, 0,
                 "no writer on the FIFO: nothing was written to it within %d s (start the writer "
                 "first or within that time)",
                 (wait_ms + 999) / 1000);
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left > 0 ? (int)left : 0);
        if (r < 0 && errno != EINTR) {
            errf(err, errlen, path, 0, "cannot wait for a writer: %s", strerror(errno));
            return -1;
        }
        if (r > 0 && (p.revents & POLLHUP)) {
            hup = true; /* the next read tells data (POLLIN too) from none */
        }
    }
}

/* Opens a regular file or a pipe/FIFO (a stream: `--csv <(zcat f.csv.gz)`).
 * O_NONBLOCK keeps a FIFO nobody writes to from blocking the open; a FIFO
 * then waits for its writer (fifo_wait), and reads block again. */
static FILE *open_input(const char *path, int fifo_wait_ms, char *err, size_t errlen)
{
    int first = -1;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        errf(err, errlen, path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        errf(err, errlen, path, 0, "cannot stat: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        errf(err, errlen, path, 0, "%s", not_a_file(st.st_mode));
        goto fail;
    }
    if (S_ISFIFO(st.st_mode) && fifo_wait(fd, path, fifo_wait_ms, &first, err, errlen) != 0) {
        goto fail;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        errf(err, errlen, path, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        errf(err, errlen, path, 0, "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (first >= 0 && ungetc(first, f) == EOF) { /* one byte back: always possible */
        errf(err, errlen, path, 0, "cannot read: %s", strerror(errno));
        fclose(f);
        return NULL;
    }
    return f;
fail:
    close(fd);
    return NULL;
}

static ta_csv *start(FILE *f, const char *name, const char *inst, char *err, size_t errlen)
{
    ta_csv *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(name)) || (inst && !(r->inst = strdup(inst)))) {
        errf(err, errlen, name, 0, "out of memory");
        if (f) {
            fclose(f);
        }
        goto fail;
    }
    r->f = f;
    int got = read_line(r, err, errlen);
    if (got < 0) {
        goto fail;
    }
    if (got == 0) {
        errf(err, errlen, name, 1, "empty file: expected a header naming ts,open,high,low,close");
        goto fail;
    }
    char *fields[MAX_COLS];
    int n = split(r->line, fields, MAX_COLS);
    if (n < 0) {
        errf(err, errlen, name, r->lineno, "more than %d columns", MAX_COLS);
        goto fail;
    }
    for (int c = 0; c < C__N; c++) {
        r->col[c] = -1;
    }
    for (int i = 0; i < n; i++) {
        int c = column_of(fields[i]);
        if (c < 0) {
            continue;
        }
        if (r->col[c] >= 0) {
            errf(err, errlen, name, r->lineno, "column '%s' appears twice", fields[i]);
            goto fail;
        }
        r->col[c] = i;
    }
    static const char *const need[] = {"ts", "open", "high", "low", "close"};
    for (int c = C_TS; c <= C_CLOSE; c++) {
        if (r->col[c] < 0) {
            errf(err, errlen, name, r->lineno,
                 "header has no '%s' column (need ts,open,high,low,close)", need[c]);
            goto fail;
        }
    }
    r->ncols = n;
    return r;
fail:
    ta_csv_close(r);
    return NULL;
}

ta_csv *ta_csv_open_wait(const char *path, const char *inst, int fifo_wait_ms, char *err,
                         size_t errlen)
{
    FILE *f = open_input(path, fifo_wait_ms < 0 ? 0 : fifo_wait_ms, err, errlen);
    return f ? start(f, path, inst, err, errlen) : NULL;
}

ta_csv *ta_csv_open(const char *path, const char *inst, char *err, size_t errlen)
{
    return ta_csv_open_wait(path, inst, TA_CSV_FIFO_WAIT_MS, err, errlen);
}

ta_csv *ta_csv_open_stream(FILE *f, const char *name, const char *inst, char *err, size_t errlen)
{
    return start(f, name, inst, err, errlen);
}

static int number(ta_csv *r, char **fields, int c, const char *name, double *out, char *err,
                  size_t errlen)
{
    const char *s = fields[r->col[c]];
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v)) {
        errf(err, errlen, r->path, r->lineno, "%s: '%s' is not a finite number", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int next_row(ta_csv *r, ta_bar *out, char *err, size_t errlen)
{
    char *fields[MAX_COLS];
    for (;;) {
        int got = read_line(r, err, errlen);
        if (got <= 0) {
            return got;
        }
        int n = split(r->line, fields, MAX_COLS);
        if (n != r->ncols) {
            errf(err, errlen, r->path, r->lineno, "%d fields, the header has %d",
                 n < 0 ? MAX_COLS + 1 : n, r->ncols);
            return -1;
        }
        if (r->inst && r->col[C_INST] >= 0 && strcmp(fields[r->col[C_INST]], r->inst) != 0) {
            continue;
        }
        break;
    }
    ta_bar b = {0};
    const char *ts = fields[r->col[C_TS]];
    if (ta_parse_ts(ts, &b.open_ms) != 0) {
        errf(err, errlen, r->path, r->lineno, "ts: '%s' is neither epoch ms nor ISO 8601", ts);
        return -1;
    }
    if (number(r, fields, C_OPEN, "open", &b.o, err, errlen) ||
        number(r, fields, C_HIGH, "high", &b.h, err, errlen) ||
        number(r, fields, C_LOW, "low", &b.l, err, errlen) ||
        number(r, fields, C_CLOSE, "close", &b.c, err, errlen)) {
        return -1;
    }
    if (r->col[C_VOL] >= 0) {
        if (number(r, fields, C_VOL, "volume", &b.v, err, errlen)) {
            return -1;
        }
        if (b.v < 0) {
            errf(err, errlen, r->path, r->lineno, "volume: negative");
            return -1;
        }
    }
    if (b.l > b.h || b.o > b.h || b.c > b.h || b.o < b.l || b.c < b.l) {
        errf(err, errlen, r->path, r->lineno,
             "inconsistent candle: need low <= open, close <= high");
        return -1;
    }
    if (r->have_prev && b.open_ms <= r->prev_ts) {
        errf(err, errlen, r->path, r->lineno, "ts %s is not after the previous row's", ts);
        return -1;
    }
    r->have_prev = true;
    r->prev_ts = b.open_ms;
    b.n = 1;
    *out = b;
    return 1;
}

int ta_csv_next(ta_csv *r, ta_bar *out, char *err, size_t errlen)
{
    if (r->failed) {
        errf(err, errlen, r->path, r->lineno, "reading stopped at an earlier error");
        return -1;
    }
    int rc = next_row(r, out, err, errlen);
    r->failed = rc < 0;
    return rc;
}

long ta_csv_lineno(const ta_csv *r)
{
    return r ? (long)r->lineno : 0;
}

void ta_csv_close(ta_csv *r)
{
    if (!r) {
        return;
    }
    if (r->f) {
        fclose(r->f);
    }
    free(r->path);
    free(r->inst);
    free(r);
}

/* ------------------------------------------------------------------- time */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_iso(const char *p, int64_t *out_ms)
{
    int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d)) {
        return -1;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) {
        return -1;
    }
    int64_t off_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mi)) {
            return -1;
        }
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &ss)) {
                return -1;
            }
            if (*p == '.' || *p == ',') {
                p++;
                int scale = 100, any = 0;
                for (; isdigit((unsigned char)*p); p++, any++) {
                    ms += (*p - '0') * scale; /* digits past milliseconds are dropped */
                    scale /= 10;
                }
                if (!any) {
                    return -1;
                }
            }
        }
        if (hh > 23 || mi > 59 || ss > 60) {
            return -1;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh)) {
                return -1;
            }
            if (*p == ':') {
                p++;
            }
            if (*p && digits(&p, 2, &om)) {
                return -1;
            }
            if (oh > 23 || om > 59) {
                return -1;
            }
            off_min = sign * (oh * 60 + om);
        }
    }
    if (*p) {
        return -1;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off_min * 60;
    *out_ms = secs * 1000 + ms;
    return 0;
}

int ta_parse_ts(const char *s, int64_t *out_ms)
{
    if (!*s) {
        return -1;
    }
    const char *p = s;
    while (isdigit((unsigned char)*p)) {
        p++;
    }
    if (!*p) {
        if (p - s > 18) {
            return -1;
        }
        *out_ms = strtoll(s, NULL, 10);
        return 0;
    }
    return parse_iso(s, out_ms);
}

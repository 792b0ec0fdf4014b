/* The kill switch's file, data_dir/kill-switch: one definition of its format
 * for everything that reads or writes it (the risk_breaker plugin reads it,
 * `aitrader kill-switch` writes it, the dashboard will write it too). Plain
 * libc, no host, header-only: the CLI links nothing of a plugin.
 *
 * Format (text, written atomically: a temporary file, fsync, rename):
 *
 *     on                       <- "on" or "off", the first line
 *     since_ms=1718000000000   <- when it was switched
 *     since=2024-06-10T06:13:20Z
 *     by=alice (aitrader kill-switch, pid 4242)
 *     reason=funding spike, looking into it
 *
 * Fail-safe reading: no file is off; a file whose first line is not exactly
 * "off" (an empty file from `touch`, garbage, a partial write) is ON, and so
 * is a file that exists but cannot be read or a data_dir that cannot be
 * looked into. Writing "off" rather than removing the file keeps who turned it
 * off, and when. */
#ifndef AT_KILL_SWITCH_H
#define AT_KILL_SWITCH_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KS_FILE_NAME "kill-switch"
#define KS_MAX_FILE 4096 /* more than a written file ever holds; read no further */

typedef struct ks_state {
    bool on;
    bool present;     /* the file exists */
    int64_t since_ms; /* 0 when the file does not say */
    char by[128];
    char reason[256];
} ks_state;

/* data_dir + "/kill-switch"; false when it does not fit. */
static inline bool ks_path(const char *data_dir, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", data_dir && *data_dir ? data_dir : ".", KS_FILE_NAME);
    return n > 0 && (size_t)n < len;
}

/* "2024-06-10T06:13:20Z" (seconds are enough for a human). */
static inline void ks_time_text(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !gmtime_r(&s, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "unknown time");
    }
}

/* One line of printable text: control characters become spaces, cut to fit. */
static inline void ks_clean(const char *in, char *out, size_t len)
{
    size_t k = 0;
    for (; in && *in && k + 1 < len; in++) {
        unsigned char c = (unsigned char)*in;
        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[k] = '\0';
}

/* Parse a file's text (NUL-terminated) into *st. */
static inline void ks_parse(const char *text, ks_state *st)
{
    size_t first = strcspn(text, "\r\n");
    st->on = !(first == 3 && strncmp(text, "off", 3) == 0);
    st->since_ms = 0;
    st->by[0] = st->reason[0] = '\0';
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
        if (strncmp(line, "since_ms=", 9) == 0) {
            long long v = 0;
            if (sscanf(line + 9, "%lld", &v) == 1 && v > 0) {
                st->since_ms = v;
            }
        } else if (strncmp(line, "by=", 3) == 0) {
            ks_clean(line + 3, st->by, sizeof(st->by));
        } else if (strncmp(line, "reason=", 7) == 0) {
            ks_clean(line + 7, st->reason, sizeof(st->reason));
        }
        p += n + (p[n] == '\n');
    }
    if (st->on && !(first == 2 && strncmp(text, "on", 2) == 0)) {
        /* not written by us: say why it counts as on */
        snprintf(st->reason, sizeof(st->reason), "the file does not say on or off: taken as on");
    }
}

/* Read the switch at `path`. Returns 0 with *st filled (absent = off), or
 * -errno when the file or its directory cannot be read: then *st is ON with
 * the reason (fail-safe). */
static inline int ks_read(const char *path, ks_state *st)
{
    memset(st, 0, sizeof(*st));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) {
            return 0;
        }
        st->on = st->present = true;
        snprintf(st->reason, sizeof(st->reason), "the file cannot be read (%s): taken as on",
                 strerror(err));
        return -err;
    }
    st->present = true;
    char buf[KS_MAX_FILE + 1];
    size_t n = 0;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        close(fd);
        st->on = true;
        snprintf(st->reason, sizeof(st->reason), "it is not a regular file: taken as on");
        return -EINVAL;
    }
    while (n < KS_MAX_FILE) {
        ssize_t r = read(fd, buf + n, KS_MAX_FILE - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int err = errno;
            close(fd);
            st->on = true;
            snprintf(st->reason, sizeof(st->reason), "the file cannot be read (%s): taken as on",
                     strerror(err));
            return -err;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    ks_parse(buf, st);
    return 0;
}

/* Write the switch atomically (a temporary file in the same directory,
 * fsync, rename, fsync of the directory), creating data_dir (mode 0700) when
 * it is missing. Returns 0, or -errno with `err` saying what failed (the
 * caller names the file). */
static inline int ks_write(const char *data_dir, bool on, int64_t now_ms, const char *by,
                           const char *reason, char *err, size_t errlen)
{
    char path[4096], tmp[4160], text[1024], when[32], b[128], r[256];
    if (!ks_path(data_dir, path, sizeof(path))) {
        snprintf(err, errlen, "data_dir path too long");
        return -ENAMETOOLONG;
    }
    const char *dir = data_dir && *data_dir ? data_dir : ".";
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create data_dir: %s", strerror(e));
        return -e;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    ks_time_text(now_ms, when);
    ks_clean(by, b, sizeof(b));
    ks_clean(reason, r, sizeof(r));
    int n = snprintf(text, sizeof(text), "%s\nsince_ms=%lld\nsince=%s\nby=%s\nreason=%s\n",
                     on ? "on" : "off", (long long)now_ms, when, b, r);
    unlink(tmp); /* a leftover of a writer that died */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create a temporary file next to it: %s", strerror(e));
        return -e;
    }
    size_t done = 0;
    while (done < (size_t)n) {
        ssize_t w = write(fd, text + done, (size_t)n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            snprintf(err, errlen, "cannot write the temporary file: %s", strerror(e));
            return -e;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        snprintf(err, errlen, "cannot sync the temporary file: %s", strerror(e));
        return -e;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        snprintf(err, errlen, "cannot rename the temporary file over it: %s", strerror(e));
        return -e;
    }
    /* the rename itself durable: sync the directory */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

#endif

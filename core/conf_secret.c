/* Secret references: "env:NAME" or "file:PATH", never the value inline.
 * Error texts name the variable or the path and never contain the secret. */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <aitrader/types.h>

#include "util.h"

/* A secret file is a key or a token, not a document. */
#define SECRET_MAX_FILE (64 * 1024)

static int fail_with(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_with(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static bool valid_env_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) {
        return false;
    }
    for (s++; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_')) {
            return false;
        }
    }
    return true;
}

static int resolve_env(const char *name, char **out, char *err, size_t errlen)
{
    if (!*name) {
        return fail_with(err, errlen, AT_EINVAL, "env: needs a variable name (env:NAME)");
    }
    if (!valid_env_name(name)) {
        /* Do not echo it: a value pasted after "env:" would leak here. */
        return fail_with(err, errlen, AT_EINVAL,
                         "env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    const char *v = getenv(name);
    if (!v) {
        return fail_with(err, errlen, AT_ENOENT, "environment variable %s is not set", name);
    }
    if (!*v) {
        return fail_with(err, errlen, AT_ENOENT, "environment variable %s is empty", name);
    }
    *out = at_strdup(v);
    return *out ? AT_OK : fail_with(err, errlen, AT_ENOMEM, "out of memory");
}

static int resolve_file(const char *path, char **out, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t cap = 0;
    int rc = AT_OK;
    if (!*path) {
        return fail_with(err, errlen, AT_EINVAL, "file: needs a path (file:PATH)");
    }
    /* O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer;
     * the type check below refuses it. Regular files ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return fail_with(err, errlen, e == ENOENT ? AT_ENOENT : AT_EINVAL,
                         "cannot read secret file %s: %s", path, strerror(e));
    }
    /* fstat on the open descriptor: the mode we check is the file we read. */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fail_with(err, errlen, AT_EINVAL, "cannot stat secret file %s: %s", path,
                       strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fail_with(err, errlen, AT_EINVAL, "secret file %s is not a regular file", path);
        goto fail;
    }
    if (st.st_mode & 077) {
        rc = fail_with(err, errlen, AT_EINVAL,
                       "secret file %s has mode %04o; it must not be accessible by group or "
                       "others (chmod 600 %s)",
                       path, (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    if (st.st_size > SECRET_MAX_FILE) {
        rc = fail_with(err, errlen, AT_EINVAL, "secret file %s is larger than %d bytes", path,
                       SECRET_MAX_FILE);
        goto fail;
    }
    cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        rc = fail_with(err, errlen, AT_ENOMEM, "out of memory");
        goto fail;
    }
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            rc = fail_with(err, errlen, AT_EINVAL, "cannot read secret file %s: %s", path,
                           strerror(errno));
            goto fail;
        }
        if (got == 0) {
            break;
        }
        len += (size_t)got;
    }
    /* `echo token > file` leaves a newline that is not part of the token. */
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--;
    }
    buf[len] = '\0';
    if (len == 0) {
        rc = fail_with(err, errlen, AT_EINVAL, "secret file %s is empty", path);
        goto fail;
    }
    if (memchr(buf, '\0', len)) {
        rc = fail_with(err, errlen, AT_EINVAL, "secret file %s contains a NUL byte", path);
        goto fail;
    }
    close(fd);
    *out = buf;
    return AT_OK;

fail:
    if (buf) {
        explicit_bzero(buf, cap);
        free(buf);
    }
    close(fd);
    return rc;
}

int conf_secret_resolve(const char *ref, char **out, char *err, size_t errlen)
{
    if (err && errlen > 0) {
        err[0] = '\0';
    }
    if (!out) {
        return fail_with(err, errlen, AT_EINVAL, "no output");
    }
    *out = NULL;
    if (ref && strncmp(ref, "env:", 4) == 0) {
        return resolve_env(ref + 4, out, err, errlen);
    }
    if (ref && strncmp(ref, "file:", 5) == 0) {
        return resolve_file(ref + 5, out, err, errlen);
    }
    return fail_with(err, errlen, AT_EINVAL, "secrets must be env:NAME or file:PATH, never inline");
}

/* The bearer token: the configured one (env:/file:), else the one in
 * data_dir/dashboard.token, generated there at the first start (32 random
 * bytes as hex, mode 0600) and read back ever after, so a bookmark keeps
 * working across restarts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dash.h"

#define TOKEN_FILE "dashboard.token"

/* Read an existing token file: a regular file only we can read. AT_OK,
 * AT_ENOENT when there is none, or an error with why. */
static int read_token(dash *d, const char *path, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            return AT_ENOENT;
        }
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
        return AT_EIO;
    }
    struct stat st;
    int rc = AT_EINVAL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        snprintf(why, whylen,
                 "%s has mode %04o: others could read the token (chmod 600 %s, or delete it to "
                 "have a new one made)",
                 path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    char buf[DASH_TOKEN_MAX + 4];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
        rc = AT_EIO;
        goto out;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    buf[n] = '\0';
    char bad[200];
    if (!dash_token_valid(buf, bad, sizeof(bad))) {
        snprintf(why, whylen, "%s: %s (delete the file to have a new one made)", path, bad);
        explicit_bzero(buf, sizeof(buf));
        goto out;
    }
    memcpy(d->token, buf, (size_t)n + 1); /* valid: at most DASH_TOKEN_MAX */
    explicit_bzero(buf, sizeof(buf));
    rc = AT_OK;
out:
    close(fd);
    return rc;
}

/* Write a new token: a private temporary file, then link() to the name,
 * which never replaces an existing file (another engine sharing data_dir
 * may have made one first: then that one is used). */
static int make_token(dash *d, const char *dir, const char *path, char *why, size_t whylen)
{
    char tok[65], tmp[4200];
    if (dash_token_generate(tok) != AT_OK) {
        snprintf(why, whylen, "no random bytes from the kernel for a token");
        return AT_EIO;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, whylen, "cannot create data_dir %s: %s", dir, strerror(errno));
        return AT_EIO;
    }
    snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", dir, TOKEN_FILE, (long)getpid());
    unlink(tmp); /* a leftover of a crashed start with our pid */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
        return AT_EIO;
    }
    char line[66];
    snprintf(line, sizeof(line), "%s\n", tok);
    bool ok = fchmod(fd, 0600) == 0 && write(fd, line, 65) == 65 && fsync(fd) == 0;
    int err = errno;
    close(fd);
    explicit_bzero(line, sizeof(line));
    if (!ok) {
        unlink(tmp);
        snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(err));
        return AT_EIO;
    }
    int rc = link(tmp, path);
    err = errno;
    unlink(tmp);
    if (rc != 0 && err == EEXIST) {
        explicit_bzero(tok, sizeof(tok));
        return read_token(d, path, why, whylen);
    }
    if (rc != 0) {
        snprintf(why, whylen, "cannot create %s: %s", path, strerror(err));
        return AT_EIO;
    }
    snprintf(d->token, sizeof(d->token), "%s", tok);
    explicit_bzero(tok, sizeof(tok));
    d->h->log(d->inst, AT_LOG_INFO, "generated a new dashboard token into %s (mode 0600)", path);
    return AT_OK;
}

int dash_token_load(dash *d, char *why, size_t whylen)
{
    d->token_file[0] = '\0';
    if (d->token_cfg) {
        if (!dash_token_valid(d->token_cfg, why, whylen)) {
            return AT_ECONFIG; /* check_config said so already */
        }
        snprintf(d->token, sizeof(d->token), "%s", d->token_cfg);
        return AT_OK;
    }
    const char *dir = d->h->core_get("data_dir");
    if (!dir || !*dir) {
        dir = ".";
    }
    int n = snprintf(d->token_file, sizeof(d->token_file), "%s/%s", dir, TOKEN_FILE);
    if (n < 0 || (size_t)n >= sizeof(d->token_file) - 32) {
        snprintf(why, whylen, "data_dir is too long for the token file's path");
        return AT_ECONFIG;
    }
    int rc = read_token(d, d->token_file, why, whylen);
    if (rc == AT_ENOENT) {
        rc = make_token(d, dir, d->token_file, why, whylen);
    }
    if (rc == AT_OK) {
        d->h->secret_add(d->token); /* the log redacts it wherever it appears */
    }
    return rc;
}

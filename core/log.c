/* Logging to stderr: one line per call, text or JSON, secrets redacted.
 * A mutex keeps lines whole when the net or storage threads log too. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static at_log_level log_level = AT_LOG_INFO;
static bool log_json;
/* Secret values to redact: a small list guarded by log_lock. Process-wide by
 * nature (a secret is a secret whoever logs it). */
static char **secrets;
static size_t nsecrets;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(at_log_level level)
{
    log_level = level;
}

at_log_level log_get_level(void)
{
    return log_level;
}

void log_set_json(bool json)
{
    log_json = json;
}

bool log_enabled(at_log_level level)
{
    return level >= log_level;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            return i;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        return AT_LOG_WARN;
    }
    return -1;
}

void log_secret_add(const char *value)
{
    if (!value || strlen(value) < 4) {
        return;
    }
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < nsecrets; i++) {
        if (strcmp(secrets[i], value) == 0) {
            pthread_mutex_unlock(&log_lock);
            return;
        }
    }
    char **grown = realloc(secrets, (nsecrets + 1) * sizeof(*secrets));
    char *copy = at_strdup(value);
    if (grown) {
        secrets = grown;
    }
    if (grown && copy) {
        secrets[nsecrets++] = copy;
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&log_lock);
}

/* Caller holds log_lock. */
static void redact_locked(char *buf, size_t cap)
{
    for (size_t i = 0; i < nsecrets; i++) {
        size_t slen = strlen(secrets[i]);
        char *p = buf;
        while ((p = strstr(p, secrets[i])) != NULL) {
            /* "***" is never longer than a registered secret (>= 4 bytes). */
            size_t tail = strlen(p + slen);
            memcpy(p, "***", 3);
            memmove(p + 3, p + slen, tail + 1);
            p += 3;
        }
    }
    (void)cap;
}

void log_redact(char *buf, size_t cap)
{
    pthread_mutex_lock(&log_lock);
    redact_locked(buf, cap);
    pthread_mutex_unlock(&log_lock);
}

void log_shutdown(void)
{
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < nsecrets; i++) {
        memset(secrets[i], 0, strlen(secrets[i]));
        free(secrets[i]);
    }
    free(secrets);
    secrets = NULL;
    nsecrets = 0;
    pthread_mutex_unlock(&log_lock);
}

static void json_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c < 0x20) {
            fprintf(out, "\\u%04x", c);
        } else {
            fputc(c, out);
        }
    }
}

void log_vmsg(const char *who, at_log_level level, const char *fmt, va_list ap)
{
    if (level < log_level) {
        return;
    }
    if (level > AT_LOG_ERROR) {
        level = AT_LOG_ERROR;
    }
    char msg[4096];
    vsnprintf(msg, sizeof(msg), fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    redact_locked(msg, sizeof(msg));
    if (log_json) {
        fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"who\":\"", when,
                ts.tv_nsec / 1000000, level_names[level]);
        json_escape(stderr, who ? who : "core");
        fputs("\",\"msg\":\"", stderr);
        json_escape(stderr, msg);
        fputs("\"}\n", stderr);
    } else {
        fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", when, ts.tv_nsec / 1000000, level_names[level],
                who ? who : "core", msg);
    }
    pthread_mutex_unlock(&log_lock);
}

void log_msg(const char *who, at_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(who, level, fmt, ap);
    va_end(ap);
}

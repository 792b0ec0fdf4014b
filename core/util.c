#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <aitrader/types.h>

const char *at_strerror(int err)
{
    switch (err) {
    case AT_OK:
        return "ok";
    case AT_ENOMEM:
        return "out of memory";
    case AT_EINVAL:
        return "invalid argument";
    case AT_ERANGE:
        return "out of range";
    case AT_ENOENT:
        return "not found";
    case AT_EAGAIN:
        return "try again";
    case AT_EIO:
        return "I/O error";
    case AT_ETIMEDOUT:
        return "timed out";
    case AT_ESTATE:
        return "wrong state";
    case AT_EPLUGIN:
        return "plugin error";
    case AT_ECONFIG:
        return "configuration error";
    case AT_EDB:
        return "storage error";
    case AT_EEXIST:
        return "already exists";
    default:
        return "unknown error";
    }
}

char *at_strdup(const char *s)
{
    return s ? at_strndup(s, strlen(s)) : NULL;
}

char *at_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *at_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *p = malloc((size_t)n + 1);
    if (!p) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int64_t at_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t at_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

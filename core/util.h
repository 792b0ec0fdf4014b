/* Small helpers shared by core modules. */
#ifndef AT_CORE_UTIL_H
#define AT_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Message for an AT_E* code ("invalid argument" …). */
const char *at_strerror(int err);
/* Abort-free allocation helpers: return NULL on failure like malloc. */
char *at_strdup(const char *s);
char *at_strndup(const char *s, size_t n);
/* snprintf into a fresh buffer; NULL on failure. */
char *at_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Monotonic clock in microseconds (for latencies, never for timestamps). */
int64_t at_mono_us(void);
/* Wall clock in microseconds since the epoch. */
int64_t at_wall_us(void);

#endif

/* Logging: text or JSON lines on stderr, instance prefix, level filter, secret
 * redaction. Thread-safe. */
#ifndef AT_CORE_LOG_H
#define AT_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <aitrader/types.h>

void log_set_level(at_log_level level);
at_log_level log_get_level(void);
void log_set_json(bool json);
bool log_enabled(at_log_level level);
/* Parse "debug|info|warn|error"; -1 when unknown. */
int log_level_parse(const char *s);
/* who: "core", "exchange.okx_main" … (may be NULL). */
void log_msg(const char *who, at_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const char *who, at_log_level level, const char *fmt, va_list ap);
/* Register a secret value (copied): every later log line has it replaced by
 * "***". Values shorter than 4 bytes are ignored (they would redact noise). */
void log_secret_add(const char *value);
/* Replace every registered secret in buf (in place, NUL-terminated, cap bytes). */
void log_redact(char *buf, size_t cap);
/* Free the secret registry (at exit; for leak checkers). */
void log_shutdown(void);

#define LOG_DEBUG(...) log_msg("core", AT_LOG_DEBUG, __VA_ARGS__)
#define LOG_INFO(...) log_msg("core", AT_LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...) log_msg("core", AT_LOG_WARN, __VA_ARGS__)
#define LOG_ERROR(...) log_msg("core", AT_LOG_ERROR, __VA_ARGS__)

#endif

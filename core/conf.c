/* Config error list and the scalar value parsers (bool, int, double, duration,
 * size) shared by the schema validator and the CLI. The INI reader lives in
 * conf_parse.c, schema application in conf_schema.c, secrets in conf_secret.c. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <aitrader/types.h>

#include "util.h"

void conf_err(conf_errors *e, const char *file, int line, const char *section, const char *key,
              const char *fmt, ...)
{
    if (!e) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int rn = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (rn < 0) {
        return;
    }
    char *reason = malloc((size_t)rn + 1);
    if (!reason) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(reason, (size_t)rn + 1, fmt, ap);
    va_end(ap);

    /* Line 0 means "not tied to a line" (e.g. a section absent from the file):
     * print "FILE: …" rather than a misleading "FILE:0: …". */
    char where[64] = "";
    if (line > 0) {
        snprintf(where, sizeof(where), ":%d", line);
    }
    char *msg = at_asprintf("%s%s%s%s%s%s%s%s%s", file ? file : "", file ? where : "",
                            file ? ": " : "", section ? "[" : "", section ? section : "",
                            section ? "] " : "", key ? key : "", key ? ": " : "", reason);
    free(reason);
    if (!msg) {
        return;
    }
    char **grown = realloc(e->msgs, (e->n + 1) * sizeof(*grown));
    if (!grown) {
        free(msg);
        return;
    }
    e->msgs = grown;
    e->msgs[e->n++] = msg;
}

void conf_errors_free(conf_errors *e)
{
    if (!e) {
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        free(e->msgs[i]);
    }
    free(e->msgs);
    e->msgs = NULL;
    e->n = 0;
}

/* ---- scalar parsers --------------------------------------------------------
 * All of them take the whole string: no surrounding blanks, no trailing junk.
 * Values from the INI file are already trimmed. */

int conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (!s) {
        return AT_EINVAL;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return AT_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return AT_OK;
        }
    }
    return AT_EINVAL;
}

int conf_parse_int(const char *s, int64_t *out)
{
    /* strtoll would skip leading blanks and accept them silently. */
    if (!s || !*s || isspace((unsigned char)s[0])) {
        return AT_EINVAL;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0') {
        return AT_EINVAL;
    }
    if (errno == ERANGE) {
        return AT_ERANGE;
    }
    *out = (int64_t)v;
    return AT_OK;
}

int conf_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)s[0])) {
        return AT_EINVAL;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || isnan(v)) {
        return AT_EINVAL;
    }
    if (isinf(v)) {
        /* Written "inf" is a type error; "1e999" overflowed. */
        return errno == ERANGE ? AT_ERANGE : AT_EINVAL;
    }
    *out = v;
    return AT_OK;
}

typedef struct unit {
    const char *name;
    int64_t mult;
} unit;

/* Parse "D[.F]UNIT" exactly: integer part and up to 18 fraction digits are
 * scaled by the unit's multiplier in 128-bit integers, so "1.5s" is exactly
 * 1500 ms. A result that is not a whole number of base units (ms, bytes) is
 * rejected rather than rounded. No sign is accepted: negatives make no sense
 * for durations or sizes. */
static int parse_scaled(const char *s, const unit *units, size_t nunits, bool nocase, int64_t *out)
{
    if (!s) {
        return AT_EINVAL;
    }
    __extension__ typedef unsigned __int128 u128;
    const u128 limit = (u128)INT64_MAX;
    u128 ip = 0;
    u128 fp = 0;
    u128 fscale = 1;
    size_t ndigits = 0;
    bool overflow = false;
    const char *p = s;
    for (; isdigit((unsigned char)*p); p++, ndigits++) {
        ip = ip * 10 + (u128)(*p - '0');
        if (ip > limit) {
            overflow = true;
            ip = limit + 1; /* saturate; keep scanning for junk */
        }
    }
    if (*p == '.') {
        p++;
        size_t nf = 0;
        for (; isdigit((unsigned char)*p); p++, nf++) {
            if (nf >= 18) {
                return AT_EINVAL;
            }
            fp = fp * 10 + (u128)(*p - '0');
            fscale *= 10;
        }
        if (nf == 0) {
            return AT_EINVAL;
        }
        ndigits += nf;
    }
    if (ndigits == 0) {
        return AT_EINVAL;
    }
    const unit *u = NULL;
    for (size_t i = 0; i < nunits; i++) {
        int c = nocase ? strcasecmp(p, units[i].name) : strcmp(p, units[i].name);
        if (c == 0) {
            u = &units[i];
            break;
        }
    }
    if (!u) {
        return AT_EINVAL;
    }
    if (overflow) {
        return AT_ERANGE;
    }
    u128 mult = (u128)u->mult;
    u128 whole = ip * mult; /* ip <= INT64_MAX, mult < 2^41: no 128-bit overflow */
    u128 frac = fp * mult;  /* fp < 10^18 < 2^60: no overflow either */
    if (frac % fscale != 0) {
        return AT_EINVAL;
    }
    whole += frac / fscale;
    if (whole > limit) {
        return AT_ERANGE;
    }
    *out = (int64_t)whole;
    return AT_OK;
}

int conf_parse_duration(const char *s, int64_t *ms)
{
    static const unit units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), false, ms);
}

int conf_parse_size(const char *s, int64_t *bytes)
{
    static const unit units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1024},
        {"kb", 1024},
        {"kib", 1024},
        {"m", 1024 * 1024},
        {"mb", 1024 * 1024},
        {"mib", 1024 * 1024},
        {"g", 1024 * 1024 * 1024},
        {"gb", 1024 * 1024 * 1024},
        {"gib", 1024 * 1024 * 1024},
        {"t", (int64_t)1024 * 1024 * 1024 * 1024},
        {"tb", (int64_t)1024 * 1024 * 1024 * 1024},
        {"tib", (int64_t)1024 * 1024 * 1024 * 1024},
    };
    return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), true, bytes);
}

/* Who may change anything: the bearer token (compared without leaking where
 * it differs through timing) and the checks of the config values the
 * security rests on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "dash_lib.h"

bool dash_bearer_ok(const char *authorization, const char *token)
{
    if (!authorization || !token || !*token) {
        return false;
    }
    const char *p = authorization;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t')) {
        return false;
    }
    p += 6;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    size_t got = strlen(p);
    while (got > 0 && (p[got - 1] == ' ' || p[got - 1] == '\t')) {
        got--;
    }
    size_t want = strlen(token);
    /* Every byte of the token is looked at whatever the input: the time
     * depends on the token's length only, never on where they differ. */
    unsigned diff = got != want;
    for (size_t i = 0; i < want; i++) {
        unsigned char c = i < got ? (unsigned char)p[i] : 0;
        diff |= c ^ (unsigned char)token[i];
    }
    return diff == 0;
}

bool dash_token_valid(const char *token, char *why, size_t whylen)
{
    size_t len = token ? strlen(token) : 0;
    if (len < DASH_TOKEN_MIN || len > DASH_TOKEN_MAX) {
        snprintf(why, whylen,
                 "the token has %zu characters; it needs %d to %d (leave `token` out to have one "
                 "generated into data_dir/dashboard.token)",
                 len, DASH_TOKEN_MIN, DASH_TOKEN_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(why, whylen,
                     "the token must be printable ASCII without blanks (character %zu is not)",
                     i + 1);
            return false;
        }
    }
    return true;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/* "host", "host:port" or "[v6]:port" after the scheme. */
static bool authority_ok(const char *p)
{
    const char *port = NULL;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close == p + 1) {
            return false;
        }
        for (const char *q = p + 1; q < close; q++) {
            if (!strchr("0123456789abcdefABCDEF:.", *q)) {
                return false;
            }
        }
        if (close[1] && close[1] != ':') {
            return false;
        }
        port = close[1] ? close + 2 : NULL;
    } else {
        const char *q = p;
        while (*q && host_char(*q)) {
            q++;
        }
        if (q == p || (*q && *q != ':')) {
            return false;
        }
        port = *q ? q + 1 : NULL;
    }
    if (port) {
        long v = 0;
        if (!*port) {
            return false;
        }
        for (const char *q = port; *q; q++) {
            if (*q < '0' || *q > '9' || v > 65535) {
                return false;
            }
            v = v * 10 + (*q - '0');
        }
        return v >= 1 && v <= 65535;
    }
    return true;
}

bool dash_origin_valid(const char *origin, char *why, size_t whylen)
{
    const char *p = NULL;
    if (origin && strncasecmp(origin, "http://", 7) == 0) {
        p = origin + 7;
    } else if (origin && strncasecmp(origin, "https://", 8) == 0) {
        p = origin + 8;
    }
    if (!p || !authority_ok(p)) {
        snprintf(why, whylen,
                 "'%.80s' is not an origin: write it as a browser sends it, "
                 "scheme://host[:port] (http://localhost:5173), without a path or a trailing /",
                 origin ? origin : "");
        return false;
    }
    return true;
}

bool dash_listen_valid(const char *listen, char *why, size_t whylen)
{
    size_t len = listen ? strlen(listen) : 0;
    bool ok = len > 0 && len < 254;
    for (size_t i = 0; ok && i < len; i++) {
        ok = host_char(listen[i]) || listen[i] == ':';
    }
    if (!ok) {
        snprintf(why, whylen,
                 "'%.80s' is not an address to listen on: an IP address (127.0.0.1, ::1, "
                 "0.0.0.0) or a host name, without brackets or a port (that is `port`)",
                 listen ? listen : "");
    }
    return ok;
}

int dash_token_generate(char out[65])
{
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return AT_EIO;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[64] = '\0';
    explicit_bzero(raw, sizeof(raw));
    return AT_OK;
}

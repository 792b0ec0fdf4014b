/**
 * @file origin.h
 * @brief Which browser pages may talk to a local HTTP server: the Origin and
 *        Host rules of the engine's HTTP server (at_httpd_opts.ws_origins)
 *        and of the dashboard, in one place.
 *
 * A browser sends `Origin` with every WebSocket handshake and every POST or
 * DELETE, and `Host` with every request. Two attacks are kept out:
 *  - cross-site requests (a page of another site driving the local server):
 *    its Origin is another site's, refused;
 *  - DNS rebinding (another site's name made to resolve to 127.0.0.1, so the
 *    browser believes the local server is that site): Origin and Host then
 *    both name the attacker's host, so "Origin equals Host" alone would
 *    pass. Only a Host that no one but the user can point here is trusted
 *    by itself: an IP address or `localhost`; any other name must be listed.
 *
 * Pure functions of their arguments; any thread.
 */
#ifndef AITRADER_ORIGIN_H
#define AITRADER_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ASCII case-insensitive equality of `a` (`alen` bytes) and the string `b`. */
static inline bool at_origin_ieq(const char *a, size_t alen, const char *b)
{
    size_t i = 0;
    for (; i < alen && b[i]; i++) {
        char x = a[i], y = b[i];
        x = (char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
        y = (char)(y >= 'A' && y <= 'Z' ? y + 32 : y);
        if (x != y) {
            return false;
        }
    }
    return i == alen && !b[i];
}

/**
 * Whether the host part of `host` ("127.0.0.1:5621", "[::1]:5621",
 * "localhost:5621", a port optional) is an IP address or localhost: names
 * only the user controls for a server on this machine.
 */
static inline bool at_host_is_local_name(const char *host)
{
    if (!host || !*host) {
        return false;
    }
    size_t n = 0;
    if (host[0] == '[') {
        /* an IPv6 literal: hex digits, ':' and '.' up to the bracket */
        for (n = 1; host[n] && host[n] != ']'; n++) {
            char c = host[n];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.')) {
                return false;
            }
        }
        return host[n] == ']' && n > 1 && (!host[n + 1] || host[n + 1] == ':');
    }
    while (host[n] && host[n] != ':') {
        n++;
    }
    if (host[n] && host[n + 1] == '\0') {
        return false; /* "name:" */
    }
    if (at_origin_ieq(host, n, "localhost")) {
        return true;
    }
    /* a dotted IPv4 address: four groups of 1 to 3 digits */
    int groups = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (host[i] >= '0' && host[i] <= '9') {
            if (++digits > 3) {
                return false;
            }
        } else if (host[i] == '.' && digits > 0) {
            groups++;
            digits = 0;
        } else {
            return false;
        }
    }
    return digits > 0 && groups == 3;
}

/**
 * Whether a request whose headers say `origin` (NULL or "" when absent) and
 * `host` (the Host header, NULL or "" when absent) may act:
 *  - no Origin: not a browser page (curl, scripts; browsers send Origin on
 *    every WebSocket handshake, POST and DELETE), allowed;
 *  - one of `allowed` (a NULL-terminated list of "scheme://host[:port]", may
 *    be NULL), compared without regard to case;
 *  - "http://" + Host, when Host is an IP address or localhost
 *    (at_host_is_local_name): the server's own page.
 * Anything else ("null", another site, the server under a DNS name not
 * listed) is refused.
 */
static inline bool at_origin_allowed(const char *origin, const char *host,
                                     const char *const *allowed)
{
    if (!origin || !*origin) {
        return true;
    }
    size_t olen = 0;
    while (origin[olen]) {
        olen++;
    }
    for (size_t i = 0; allowed && allowed[i]; i++) {
        if (at_origin_ieq(origin, olen, allowed[i])) {
            return true;
        }
    }
    if (!at_host_is_local_name(host) || olen < 8 || !at_origin_ieq(origin, 7, "http://")) {
        return false;
    }
    return at_origin_ieq(origin + 7, olen - 7, host);
}

/**
 * Whether a request with this Host header may be answered with data: absent
 * (HTTP/1.0 clients, no browser), an IP address or localhost, or the host
 * (with its port) of one of `allowed` (as for at_origin_allowed). A DNS name
 * not listed is what a rebinding attack looks like, and is refused.
 */
static inline bool at_host_allowed(const char *host, const char *const *allowed)
{
    if (!host || !*host || at_host_is_local_name(host)) {
        return true;
    }
    size_t hlen = 0;
    while (host[hlen]) {
        hlen++;
    }
    for (size_t i = 0; allowed && allowed[i]; i++) {
        const char *a = allowed[i];
        const char *sep = a;
        while (*sep && !(sep[0] == ':' && sep[1] == '/' && sep[2] == '/')) {
            sep++;
        }
        if (*sep && at_origin_ieq(host, hlen, sep + 3)) {
            return true;
        }
    }
    return false;
}

#ifdef __cplusplus
}
#endif

#endif

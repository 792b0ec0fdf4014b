/* Checks of the keys every HTTP AI provider has (base_url), and where a
 * URL points. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aic.h"

bool aic_word(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) {
            return false;
        }
    }
    return true;
}

static int refuse(const char **key, char *why, size_t cap, const char *fmt, const char *arg)
{
    *key = "base_url";
    snprintf(why, cap, fmt, arg);
    return AT_ECONFIG;
}

int aic_check_base_url(const char *u, const char *tail, const char *example, const char **key,
                       char *why, size_t cap)
{
    u = u ? u : "";
    const char *rest = strncasecmp(u, "https://", 8) == 0  ? u + 8
                       : strncasecmp(u, "http://", 7) == 0 ? u + 7
                                                           : NULL;
    if (!rest) {
        return refuse(key, why, cap, "expected an http:// or https:// URL, e.g. %s", example);
    }
    size_t auth = strcspn(rest, "/?#");
    if (auth == 0 || !aic_word(u)) {
        return refuse(key, why, cap, "%s", "expected http(s)://host[:port][/path]");
    }
    if (memchr(rest, '@', auth)) {
        /* not echoed: it would be a password */
        return refuse(key, why, cap, "%s",
                      "credentials do not go in the URL: use api_key = env:NAME");
    }
    if (strpbrk(rest, "?#")) {
        return refuse(key, why, cap, "%s", "no query or fragment: only the API root");
    }
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/') {
        n--;
    }
    size_t tl = tail ? strlen(tail) : 0;
    if (tl > 0 && n >= tl && strncasecmp(u + n - tl, tail, tl) == 0) {
        return refuse(key, why, cap, "give the API root without %s (the plugin appends it)", tail);
    }
    return AT_OK;
}

bool aic_loopback_url(const char *u)
{
    const char *p = strstr(u, "://");
    p = p ? p + 3 : u;
    /* the whole host: localhost.example.com is another machine */
    size_t n = p[0] == '[' ? strcspn(p, "]") + (strchr(p, ']') ? 1 : 0) : strcspn(p, ":/");
    if (p[n] != '\0' && p[n] != ':' && p[n] != '/') {
        return false;
    }
    if (n == 5 && strncmp(p, "[::1]", 5) == 0) {
        return true;
    }
    if (n == 9 && strncasecmp(p, "localhost", 9) == 0) {
        return true;
    }
    if (n < 5 || n > 15 || strncmp(p, "127.", 4) != 0) {
        return false;
    }
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            dots++;
        } else if (p[i] < '0' || p[i] > '9') {
            return false; /* 127.evil.com */
        }
    }
    return dots == 3;
}

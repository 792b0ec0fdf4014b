/* Links of news items: resolved against their feed (news_resolve), made
 * canonical (news_canonical_url) and turned into keys (news_key), so one
 * story reached through two feeds, or with tracking parameters, is stored
 * once. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "news_internal.h"

static bool http_scheme(const char *u, size_t *len)
{
    if (strncasecmp(u, "http://", 7) == 0) {
        *len = 4;
        return true;
    }
    if (strncasecmp(u, "https://", 8) == 0) {
        *len = 5;
        return true;
    }
    return false;
}

bool news_resolve(const char *base, const char *link, char *out, size_t cap)
{
    while (*link == ' ' || *link == '\t' || *link == '\n' || *link == '\r') {
        link++;
    }
    size_t sl;
    int n;
    if (http_scheme(link, &sl)) {
        n = snprintf(out, cap, "%s", link);
    } else if (!base || !http_scheme(base, &sl)) {
        return false;
    } else if (link[0] == '/' && link[1] == '/') {
        n = snprintf(out, cap, "%.*s:%s", (int)sl, base, link);
    } else {
        const char *host = base + sl + 3;
        const char *path = host + strcspn(host, "/?#");
        if (link[0] == '/') {
            n = snprintf(out, cap, "%.*s%s", (int)(path - base), base, link);
        } else {
            /* relative to the base's directory */
            const char *q = path + strcspn(path, "?#");
            const char *dir = q;
            while (dir > path && dir[-1] != '/') {
                dir--;
            }
            n = dir > path ? snprintf(out, cap, "%.*s%s", (int)(dir - base), base, link)
                           : snprintf(out, cap, "%.*s/%s", (int)(path - base), base, link);
        }
    }
    /* trailing blanks of the link (a feed's whitespace) are not part of it */
    if (n > 0 && (size_t)n < cap) {
        while (n > 0 && isspace((unsigned char)out[n - 1])) {
            out[--n] = '\0';
        }
    }
    return n > 0 && (size_t)n < cap;
}

static bool tracking(const char *p, size_t n)
{
    static const char *const names[] = {"fbclid", "gclid",   "mc_cid", "mc_eid",
                                        "ref",    "ref_src", "cmpid"};
    if (n >= 4 && strncasecmp(p, "utm_", 4) == 0) {
        return true;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) == n && strncasecmp(p, names[i], n) == 0) {
            return true;
        }
    }
    return false;
}

bool news_canonical_url(const char *url, char *out, size_t cap)
{
    size_t sl;
    if (!url || !http_scheme(url, &sl) || cap < 16) {
        return false;
    }
    size_t o = 0;
    bool tls = sl == 5;
    /* scheme: both http and https name the same story */
    const char *p = url + sl + 3;
    size_t hl = strcspn(p, "/?#");
    const char *colon = memchr(p, ':', hl);
    size_t name = colon ? (size_t)(colon - p) : hl;
    if (name == 0) {
        return false;
    }
    /* "www." dropped too: the same site */
    const char *h = p;
    if (name > 4 && strncasecmp(h, "www.", 4) == 0) {
        h += 4;
        name -= 4;
    }
    for (size_t i = 0; i < name && o + 1 < cap; i++) {
        out[o++] = (char)tolower((unsigned char)h[i]);
    }
    if (colon) {
        const char *port = colon + 1;
        size_t pl = hl - (size_t)(port - p);
        bool dflt = (pl == 2 && strncmp(port, "80", 2) == 0 && !tls) ||
                    (pl == 3 && strncmp(port, "443", 3) == 0 && tls);
        if (!dflt) {
            int w = snprintf(out + o, cap - o, ":%.*s", (int)pl, port);
            if (w < 0 || (size_t)w >= cap - o) {
                return false;
            }
            o += (size_t)w;
        }
    }
    p += hl;
    size_t path = strcspn(p, "?#");
    while (path > 1 && p[path - 1] == '/') {
        path--;
    }
    if (path == 1 && p[0] == '/') {
        path = 0;
    }
    if (o + path + 1 >= cap) {
        return false;
    }
    memcpy(out + o, p, path);
    o += path;
    p += strcspn(p, "?#");
    if (*p == '?') {
        p++;
        bool first = true;
        while (*p && *p != '#') {
            size_t n = strcspn(p, "&#");
            size_t key = strcspn(p, "=&#");
            if (n > 0 && !tracking(p, key < n ? key : n)) {
                if (o + n + 2 >= cap) {
                    return false;
                }
                out[o++] = first ? '?' : '&';
                memcpy(out + o, p, n);
                o += n;
                first = false;
            }
            p += n;
            if (*p == '&') {
                p++;
            }
        }
    }
    out[o] = '\0';
    return true;
}

void news_key(const char *prefix, const char *text, bool is_url, char out[64])
{
    char buf[2048];
    size_t n = 0;
    if (is_url && news_canonical_url(text, buf, sizeof(buf))) {
        n = strlen(buf);
    } else {
        /* a title: its words in lower case, one space apart */
        bool gap = false;
        for (const unsigned char *s = (const unsigned char *)(text ? text : "");
             *s && n + 2 < sizeof(buf); s++) {
            size_t sl = news_sep_len(s);
            if (sl) {
                s += sl - 1;
                gap = true;
            } else if (isalnum(*s) || *s >= 0x80) {
                if (gap && n > 0) {
                    buf[n++] = ' ';
                }
                buf[n++] = (char)tolower(*s);
                gap = false;
            } else {
                gap = true;
            }
        }
        buf[n] = '\0';
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdl = 0;
    if (EVP_Digest(buf, n, md, &mdl, EVP_sha256(), NULL) != 1) {
        mdl = 0;
    }
    int w = snprintf(out, 64, "%s", prefix ? prefix : "");
    size_t o = w > 0 ? (size_t)w : 0;
    for (unsigned i = 0; i < 16 && o + 2 < 64; i++) {
        snprintf(out + o, 3, "%02x", i < mdl ? md[i] : 0);
        o += 2;
    }
}

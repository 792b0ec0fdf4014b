/* What an instance's config says that can be refused before anything runs
 * (okx_config_check in okx_plugin.h): `aitrader check-config` and `run`
 * (through at_plugin.check_config) and init all refuse through this one
 * function, so a config check-config passes is never refused by run for a
 * reason the config alone shows. No I/O: whether files can be read is for
 * start. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "okx_plugin.h"

static int bad(const char **key, const char *k, char *why, size_t whylen, const char *fmt, ...)
    AT_PRINTF(5, 6);

static int bad(const char **key, const char *k, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    *key = k;
    return AT_ECONFIG;
}

/* ------------------------------------------------------------ URLs */

typedef struct url {
    bool tls;
    bool has_query;
    bool loopback;
    char host[256];
} url;

static bool loopback_host(const char *h)
{
    if (strcasecmp(h, "localhost") == 0 || strcmp(h, "::1") == 0) {
        return true;
    }
    /* 127.0.0.0/8, written as a dotted IPv4 literal */
    if (strncmp(h, "127.", 4) != 0) {
        return false;
    }
    for (const char *p = h + 4; *p; p++) {
        if (!isdigit((unsigned char)*p) && *p != '.') {
            return false;
        }
    }
    return true;
}

/* A URL as a reason may echo it: user info (a password) is never printed.
 * Everything before the last '@' goes (a password may hold '/', ':' or '@'
 * itself); the scheme stays, and "***@" says something was cut. */
static const char *shown(const char *s, char *buf, size_t n)
{
    const char *at = strrchr(s, '@');
    if (!at) {
        return s;
    }
    const char *sch = strstr(s, "://");
    int keep = sch && sch < at ? (int)(sch + 3 - s) : 0;
    snprintf(buf, n, "%.*s***@%s", keep, s, at + 1);
    return buf;
}

/* scheme://host[:port][/path][?query] with scheme `plain` or `tls` (the
 * forms the host's HTTP and WebSocket clients take). Refused: another
 * scheme, an empty host, user info (any '@' before the query: a base URL
 * has no other use for one), a fragment, blanks and control characters, a
 * port outside 1..65535. */
static int parse_url(const char *s, const char *plain, const char *tls, url *u, char *why,
                     size_t whylen)
{
    memset(u, 0, sizeof(*u));
    char sb[160];
    const char *e = shown(s, sb, sizeof(sb));
    size_t lp = strlen(plain), lt = strlen(tls);
    const char *p;
    if (strncasecmp(s, tls, lt) == 0) {
        u->tls = true;
        p = s + lt;
    } else if (strncasecmp(s, plain, lp) == 0) {
        p = s + lp;
    } else {
        snprintf(why, whylen, "'%.120s' is not a %s or %s URL", e, tls, plain);
        return AT_EINVAL;
    }
    for (const char *q = s; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '#') {
            snprintf(why, whylen, "'%.120s': blanks, control characters and '#' are not allowed",
                     e);
            return AT_EINVAL;
        }
    }
    const char *at = strchr(p, '@');
    if (at && at < p + strcspn(p, "?")) {
        snprintf(why, whylen, "'%.120s': user info (name:password@) is not allowed", e);
        return AT_EINVAL;
    }
    const char *host = p, *host_end;
    if (*p == '[') { /* IPv6 literal */
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) {
            snprintf(why, whylen, "'%.120s': unclosed '[' in the host", s);
            return AT_EINVAL;
        }
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?");
        p = host_end;
    }
    size_t hn = (size_t)(host_end - host);
    if (hn == 0 || hn >= sizeof(u->host)) {
        snprintf(why, whylen, "'%.120s': %s", e, hn == 0 ? "no host" : "host too long");
        return AT_EINVAL;
    }
    memcpy(u->host, host, hn);
    u->host[hn] = '\0';
    if (*p == ':') {
        long port = 0;
        const char *digits = ++p;
        while (isdigit((unsigned char)*p) && port <= 65535) {
            port = port * 10 + (*p++ - '0');
        }
        if (p == digits || port < 1 || port > 65535 || (*p && *p != '/' && *p != '?')) {
            snprintf(why, whylen, "'%.120s': the port must be 1 to 65535", e);
            return AT_EINVAL;
        }
    }
    if (*p && *p != '/' && *p != '?') {
        snprintf(why, whylen, "'%.120s' is not a URL", e);
        return AT_EINVAL;
    }
    u->has_query = strchr(p, '?') != NULL;
    u->loopback = loopback_host(u->host);
    return AT_OK;
}

/* OKX's WebSocket hosts: the demo one takes demo keys only, the live ones
 * live keys only (OKX refuses the login otherwise, 50101). */
static bool live_ws_host(const char *h)
{
    return strcasecmp(h, "ws.okx.com") == 0 || strcasecmp(h, "wsaws.okx.com") == 0;
}

static bool demo_ws_host(const char *h)
{
    return strcasecmp(h, "wspap.okx.com") == 0;
}

/* Plain http/ws to a host that is not loopback would send the key and
 * passphrase in clear. Allowed for demo keys (okx-sim on another machine
 * has no TLS, and its accounts are demo; OKX's own demo is https), never
 * for live ones. */
static int check_urls(const okx_ctx *c, bool keys, const char **key, char *why, size_t whylen)
{
    char r[320], sb[160];
    url u;
    if (!c->rest_url || parse_url(c->rest_url, "http://", "https://", &u, r, sizeof(r)) != AT_OK) {
        return bad(key, "rest_url", why, whylen, "%s", c->rest_url ? r : "no URL");
    }
    if (u.has_query) {
        return bad(key, "rest_url", why, whylen,
                   "'%.120s': a base URL (the /api/v5/… paths are appended), without a query",
                   shown(c->rest_url, sb, sizeof(sb)));
    }
    if (keys && !c->demo && !u.tls && !u.loopback) {
        return bad(key, "rest_url", why, whylen,
                   "'%.120s': http:// would send the API key and passphrase unencrypted to %s; "
                   "use https:// (plain http only to a loopback address, or with demo = true, "
                   "e.g. okx-sim on another machine)",
                   shown(c->rest_url, sb, sizeof(sb)), u.host);
    }
    const struct {
        const char *name, *value;
        bool private_;
    } ws[3] = {{"ws_public_url", c->ws_public_url, false},
               {"ws_private_url", c->ws_private_url, true},
               /* with keys it logs in there too (orders-algo) */
               {"ws_business_url", c->ws_business_url, true}};
    for (int i = 0; i < 3; i++) {
        if (!ws[i].value) {
            continue; /* OKX's live or demo host, by `demo` */
        }
        if (parse_url(ws[i].value, "ws://", "wss://", &u, r, sizeof(r)) != AT_OK) {
            return bad(key, ws[i].name, why, whylen, "%s", r);
        }
        if (c->demo && live_ws_host(u.host)) {
            return bad(key, ws[i].name, why, whylen,
                       "%s is OKX's live host but demo = true: demo trading is on wspap.okx.com "
                       "(leave %s unset for the default)",
                       u.host, ws[i].name);
        }
        if (!c->demo && demo_ws_host(u.host)) {
            return bad(key, ws[i].name, why, whylen,
                       "%s is OKX's demo host but demo = false: set demo = true, or use "
                       "ws.okx.com (leave %s unset for the default)",
                       u.host, ws[i].name);
        }
        if (keys && !c->demo && ws[i].private_ && !u.tls && !u.loopback) {
            return bad(key, ws[i].name, why, whylen,
                       "'%.120s': ws:// would send the API key and passphrase unencrypted to %s; "
                       "use wss:// (plain ws only to a loopback address, or with demo = true, "
                       "e.g. okx-sim on another machine)",
                       shown(ws[i].value, sb, sizeof(sb)), u.host);
        }
    }
    return AT_OK;
}

/* ------------------------------------------------------------ lists */

/* The candle bars OKX's business WebSocket has (candle<bar>). */
static bool okx_bar(const char *b)
{
    static const char *const bars[] = {
        "1s",    "1m",    "3m",    "5m",    "15m",   "30m",   "1H",    "2H", "4H",    "6H",
        "12H",   "1D",    "2D",    "3D",    "5D",    "1W",    "1M",    "3M", "6Hutc", "12Hutc",
        "1Dutc", "2Dutc", "3Dutc", "5Dutc", "1Wutc", "1Mutc", "3Mutc", NULL};
    for (size_t i = 0; bars[i]; i++) {
        if (strcmp(b, bars[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int check_lists(const okx_ctx *c, const char **key, char *why, size_t whylen)
{
    char r[200];
    for (size_t i = 0; i < c->instruments.n; i++) {
        if (okx_insts_symbol_check(c->instruments.items[i], r, sizeof(r)) != AT_OK) {
            return bad(key, "instruments", why, whylen, "%s", r);
        }
    }
    if (c->instruments.n > OKX_MAX_SUBS) {
        return bad(key, "instruments", why, whylen,
                   "%zu instruments: one instance follows at most %d (use a second instance)",
                   c->instruments.n, OKX_MAX_SUBS);
    }
    for (size_t i = 0; i < c->candles.n; i++) {
        if (!okx_bar(c->candles.items[i])) {
            return bad(key, "candles", why, whylen,
                       "'%.40s' is not an OKX bar: 1s, 1m, 3m, 5m, 15m, 30m, 1H, 2H, 4H, 6H, 12H, "
                       "1D, 2D, 3D, 5D, 1W, 1M, 3M, or 6H…3M with 'utc' (case matters: 1m is a "
                       "minute, 1M a month)",
                       c->candles.items[i]);
        }
    }
    return AT_OK;
}

/* ------------------------------------------------------------ the check */

int okx_config_check(const okx_ctx *c, const char **key, char *why, size_t whylen)
{
    *key = NULL;
    why[0] = '\0';
    /* Keys: all three or none. Pointed at the first one given (it has a line). */
    const struct {
        const char *name, *value;
    } cred[3] = {
        {"api_key", c->api_key}, {"secret_key", c->secret_key}, {"passphrase", c->passphrase}};
    const char *given = NULL;
    char missing[64] = "";
    for (int i = 0; i < 3; i++) {
        if (cred[i].value && *cred[i].value) {
            given = given ? given : cred[i].name;
        } else {
            size_t n = strlen(missing);
            snprintf(missing + n, sizeof(missing) - n, "%s%s", n ? ", " : "", cred[i].name);
        }
    }
    bool keys = given && !missing[0];
    if (given && !keys) {
        return bad(key, given, why, whylen,
                   "api_key, secret_key and passphrase go together: set all three or none "
                   "(%s missing or empty)",
                   missing);
    }
    const struct {
        const char *name, *value;
    } files[3] = {
        {"instruments_file", c->instruments_file}, {"replay", c->replay}, {"record", c->record}};
    for (int i = 0; i < 3; i++) {
        if (files[i].value && !*files[i].value) {
            return bad(key, files[i].name, why, whylen, "empty path");
        }
    }
    if (c->replay && keys) {
        return bad(key, "replay", why, whylen,
                   "a replay never reaches OKX: remove the API keys from this instance (with "
                   "replay_account it plays the recorded account)");
    }
    if (c->replay_account && !c->replay) {
        return bad(key, "replay_account", why, whylen,
                   "replay_account plays a recording's account: set replay = FILE");
    }
    if (c->replay_account && c->replay_at != OKX_REPLAY_AT_RECORDED) {
        return bad(key, "replay_account", why, whylen,
                   "replay_account answers at the recorded times: set replay_at = recorded");
    }
    if (c->backfill > 0 && (c->replay || c->candles.n == 0)) {
        return bad(key, "backfill", why, whylen, "%s",
                   c->replay ? "a replay has no candles to ask OKX for: remove backfill"
                             : "no candles are subscribed (candles is empty): remove backfill or "
                               "name the bars");
    }
    if (c->replay && c->record) {
        return bad(key, "record", why, whylen,
                   "a replay records nothing: remove record from this instance");
    }
    if (c->replay_at == OKX_REPLAY_AT_RECORDED && !c->replay) {
        return bad(key, "replay_at", why, whylen,
                   "replay_at = recorded times a replay: set replay = FILE or remove replay_at");
    }
    if (c->replay_at == OKX_REPLAY_AT_RECORDED && c->replay_speed != 1) {
        return bad(key, "replay_speed", why, whylen,
                   "replay_at = recorded plays each frame at its recorded time: replay_speed "
                   "must be 1 (remove it)");
    }
    if (!at_proxy_valid(c->proxy)) { /* not echoed: it may carry a password */
        return bad(key, "proxy", why, whylen,
                   "expected http://host:port (or http://user:password@host:port, or none)");
    }
    if (c->record && c->instruments_file && strcmp(c->record, c->instruments_file) == 0) {
        return bad(key, "record", why, whylen,
                   "'%.120s' is the instruments_file: recording would append frames to it",
                   c->record);
    }
    int rc = check_urls(c, keys, key, why, whylen);
    if (rc == AT_OK) {
        rc = check_lists(c, key, why, whylen);
    }
    return rc;
}

/* The API's routes (CONTRACTS §3), path segments and query parameters. A
 * table of patterns, "{}" standing for one segment: adding a route is one
 * line, and a path that exists with another method is a 405, not a 404. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash_lib.h"

int dash_fail(dash_err *e, int status, const char *code, const char *field, const char *fmt, ...)
{
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return status;
}

typedef struct route_def {
    const char *method;
    const char *pattern; /* "{}" = one segment; "{action}" = run|pause|resume */
    dash_route_id id;
} route_def;

static const route_def ROUTES[] = {
    {"GET", "/api/health", DR_HEALTH},
    {"GET", "/api/instruments", DR_INSTRUMENTS},
    {"GET", "/api/market/tickers", DR_TICKERS},
    {"GET", "/api/market/candles", DR_CANDLES},
    {"GET", "/api/accounts", DR_ACCOUNTS},
    {"POST", "/api/accounts", DR_ACCOUNT_ADD},
    {"DELETE", "/api/accounts/{}", DR_ACCOUNT_REMOVE},
    {"GET", "/api/accounts/{}/balance", DR_BALANCE},
    {"GET", "/api/accounts/{}/positions", DR_POSITIONS},
    {"GET", "/api/accounts/{}/orders", DR_ORDERS},
    {"GET", "/api/accounts/{}/fills", DR_FILLS},
    {"GET", "/api/accounts/{}/equity", DR_EQUITY},
    {"POST", "/api/orders", DR_ORDER_PLACE},
    {"DELETE", "/api/orders/{}/{}", DR_ORDER_CANCEL},
    {"POST", "/api/positions/close", DR_POSITION_CLOSE},
    {"GET", "/api/traders", DR_TRADERS},
    {"GET", "/api/shadow", DR_SHADOW},
    {"POST", "/api/traders/{}/{action}", DR_TRADER_ACTION},
    {"GET", "/api/decisions", DR_DECISIONS},
    {"GET", "/api/decisions/{}", DR_DECISION},
    {"GET", "/api/risk", DR_RISK},
    {"POST", "/api/kill-switch", DR_KILL_SWITCH},
    {"GET", "/api/news", DR_NEWS},
    {"GET", "/api/sentiment", DR_SENTIMENT},
    {"GET", "/api/pnl", DR_PNL},
    {"GET", "/api/arena", DR_ARENA},
    {"GET", "/metrics", DR_METRICS},
};
#define NROUTES (sizeof(ROUTES) / sizeof(ROUTES[0]))

static const char *const ACTIONS[] = {"run", "pause", "resume"};

bool dash_path_is_api(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
           strcmp(path, "/metrics") == 0 || strcmp(path, "/metrics/") == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int dash_pct_decode(const char *in, size_t len, char *out, size_t cap, bool plus_space)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            if (i + 2 >= len) {
                return -1;
            }
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return -1;
            }
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c < 0x20 || c >= 0x7f || k + 1 >= cap) {
            /* NUL and control bytes mean nothing in an id; ids, names and
             * cursors are ASCII, and a byte past it may not be UTF-8 */
            return -1;
        }
        out[k++] = (char)c;
    }
    if (cap == 0) {
        return -1;
    }
    out[k] = '\0';
    return 0;
}

/* Copy a path segment: the server has decoded its %-escapes already
 * (at_httpd_req.path), so a second decode would turn "%2531" into "1".
 * -1 on a control or non-ASCII byte, or when it does not fit. */
static int seg_copy(const char *in, size_t len, char *out, size_t cap)
{
    if (len >= cap) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c >= 0x7f) {
            return -1;
        }
        out[i] = (char)c;
    }
    out[len] = '\0';
    return 0;
}

/* Match one pattern; segments go to r->a, r->b, r->action. 1 matched, 0
 * not, -1 a segment of it is malformed (e filled). */
static int match_pattern(const char *pat, const char *path, size_t plen, dash_route *r, dash_err *e)
{
    const char *p = pat, *s = path, *end = path + plen;
    int nseg = 0;
    while (*p && s < end) {
        if (p[0] == '{') {
            const char *close = strchr(p, '}');
            bool action = strncmp(p, "{action}", 8) == 0;
            const char *seg_end = memchr(s, '/', (size_t)(end - s));
            if (!seg_end) {
                seg_end = end;
            }
            if (seg_end == s) {
                return 0; /* an empty segment matches nothing */
            }
            char buf[DASH_SEG_MAX];
            if (seg_copy(s, (size_t)(seg_end - s), buf, sizeof(buf)) < 0) {
                dash_fail(e, 400, "bad_path", NULL,
                          "a path segment holds a control or non-ASCII character or is longer "
                          "than %d characters",
                          DASH_SEG_MAX - 1);
                return -1;
            }
            if (action) {
                bool known = false;
                for (size_t i = 0; i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++) {
                    known |= strcmp(buf, ACTIONS[i]) == 0;
                }
                if (!known) {
                    return 0;
                }
                memcpy(r->action, buf, strlen(buf) + 1); /* one of ACTIONS: it fits */
            } else {
                snprintf(nseg == 0 ? r->a : r->b, DASH_SEG_MAX, "%s", buf);
                nseg++;
            }
            p = close + 1;
            s = seg_end;
            continue;
        }
        if (*p != *s) {
            return 0;
        }
        p++;
        s++;
    }
    return !*p && s == end;
}

int dash_route_match(const char *method, const char *path, dash_route *r, dash_err *e)
{
    memset(r, 0, sizeof(*r));
    size_t plen = strlen(path);
    if (plen > 1 && path[plen - 1] == '/') {
        plen--;
    }
    size_t allow_len = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        dash_route tmp;
        memset(&tmp, 0, sizeof(tmp));
        int m = match_pattern(ROUTES[i].pattern, path, plen, &tmp, e);
        if (m < 0) {
            return e->status;
        }
        if (!m) {
            continue;
        }
        if (strcmp(method, ROUTES[i].method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(ROUTES[i].method, "GET") == 0)) {
            *r = tmp;
            r->id = ROUTES[i].id;
            r->mutating = strcmp(ROUTES[i].method, "GET") != 0;
            return 0;
        }
        /* the path exists with another method: collect them for Allow */
        if (!strstr(r->allow, ROUTES[i].method)) {
            int n = snprintf(r->allow + allow_len, sizeof(r->allow) - allow_len, "%s%s",
                             allow_len ? ", " : "", ROUTES[i].method);
            if (n > 0 && (size_t)n < sizeof(r->allow) - allow_len) {
                allow_len += (size_t)n;
            }
        }
    }
    if (allow_len) {
        return dash_fail(e, 405, "method_not_allowed", NULL, "%.16s is not allowed here; use %s",
                         method, r->allow);
    }
    return dash_fail(e, 404, "not_found", NULL, "no route %.16s %.200s", method, path);
}

int dash_query_str(const char *query, const char *key, char *out, size_t cap, dash_err *e)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *p = query ? query : ""; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            if (dash_pct_decode(p + klen + 1, len - klen - 1, out, cap, true) < 0) {
                out[0] = '\0';
                dash_fail(e, 400, "bad_query", key,
                          "query parameter %s is malformed (a bad %%-escape or a control "
                          "character) or longer than %zu characters",
                          key, cap - 1);
                return -1;
            }
            return out[0] ? 1 : 0;
        }
        p += len + (amp ? 1 : 0);
    }
    return 0;
}

int dash_query_int(const char *query, const char *key, int64_t def, int64_t min, int64_t max,
                   int64_t *out, dash_err *e)
{
    char buf[32];
    int rc = dash_query_str(query, key, buf, sizeof(buf), e);
    if (rc < 0) {
        return e->status;
    }
    if (rc == 0) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    errno = 0; /* strtoll clamps an out-of-range value and says so only here */
    long long v = strtoll(buf, &end, 10);
    if (errno == ERANGE || *end || end == buf || buf[0] == ' ' || buf[0] == '+' || v < min ||
        v > max) {
        return dash_fail(e, 400, "bad_query", key, "%s must be a whole number from %lld to %lld",
                         key, (long long)min, (long long)max);
    }
    *out = v;
    return 0;
}

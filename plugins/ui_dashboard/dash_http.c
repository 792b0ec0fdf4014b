/* Every request the server hands over (the net thread serves the web app's
 * files itself): Host first (a DNS-rebinding page must not read anything),
 * then the route, then for a change the Origin and the token, then the
 * handler. Every refusal is JSON {"error":{"code","message"}} and changes
 * nothing. A body is read as JSON whatever its Content-Type says (curl -d
 * sends form-urlencoded): a browser cannot add the token to a cross-site
 * form, so the type protects nothing the token does not. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <aitrader/origin.h>

#include "dash.h"

#define JSON_TYPE "application/json"

/* ------------------------------------------------------------ answers */

void dash_reply_text(dash *d, uint64_t req, int status, const char *ctype, const char *text,
                     size_t len)
{
    if (d->srv) { /* after stop the server is gone: nobody to answer */
        d->h->httpd_respond(d->srv, req, status, ctype, NULL, 0, text, len);
    }
}

void dash_reply(dash *d, uint64_t req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!s) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        dash_reply_text(d, req, 500, JSON_TYPE, oom, sizeof(oom) - 1);
        return;
    }
    dash_reply_text(d, req, status, JSON_TYPE, s, strlen(s));
    free(s);
}

static json_t *err_body(const dash_err *e)
{
    json_t *in = json_pack("{s:s, s:s}", "code", e->code, "message", e->message);
    if (in && e->field[0]) {
        json_object_set_new(in, "field", json_string(e->field));
    }
    return in ? json_pack("{s:o}", "error", in) : NULL;
}

void dash_reply_err(dash *d, uint64_t req, const dash_err *e)
{
    if (e->status == 401 || e->status == 403 || e->status == 413) {
        d->h->metric_add(d->m_refused, 1);
    }
    dash_reply(d, req, e->status, err_body(e));
}

void dash_reply_fail(dash *d, uint64_t req, int status, const char *code, const char *fmt, ...)
{
    dash_err e = {.status = status};
    snprintf(e.code, sizeof(e.code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    dash_reply_err(d, req, &e);
}

/* An answer with extra headers (401's WWW-Authenticate, 405's Allow). */
static void reply_err_hdr(dash *d, uint64_t req, const dash_err *e, const char *hdr)
{
    if (e->status == 401 || e->status == 403) {
        d->h->metric_add(d->m_refused, 1);
    }
    json_t *b = err_body(e);
    char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (s && d->srv) {
        const char *hs[] = {hdr};
        d->h->httpd_respond(d->srv, req, e->status, JSON_TYPE, hs, 1, s, strlen(s));
    }
    free(s);
}

/* ------------------------------------------------------------ the web app */

/* `dir` when it holds a built web app (an index.html and no package.json:
 * a source web/ is not built), as an absolute path; else NULL. */
static char *built_app(const char *dir)
{
    char p[4200];
    struct stat st;
    int n = snprintf(p, sizeof(p), "%s/package.json", dir);
    if (n < 0 || (size_t)n >= sizeof(p) || stat(p, &st) == 0) {
        return NULL;
    }
    n = snprintf(p, sizeof(p), "%s/index.html", dir);
    if (n < 0 || (size_t)n >= sizeof(p) || stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
        return NULL;
    }
    return realpath(dir, NULL);
}

char *dash_find_static(const dash *d)
{
    if (d->static_dir_cfg) {
        return strdup(d->static_dir_cfg); /* check_config saw it is a directory */
    }
    /* As the engine finds its schema: next to the sql_dir it uses (an
     * install's share/aitrader/web, a source tree's web/dist), then the
     * install prefix's, then this build's source tree. */
    const char *sql = d->h->core_get("sql_dir");
    char *found = NULL;
    if (sql && *sql && strlen(sql) < 4000) {
        char p[4100];
        snprintf(p, sizeof(p), "%s/../web/dist", sql);
        if (!(found = built_app(p))) {
            snprintf(p, sizeof(p), "%s/../web", sql);
            found = built_app(p);
        }
    }
    if (!found) {
        found = built_app(DASH_INSTALL_WEB_DIR);
    }
    if (!found) {
        found = built_app(DASH_SOURCE_WEB_DIR);
    }
    return found;
}

static const char NOT_BUILT[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>aitrader</title></head>"
    "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
    "<h1>aitrader dashboard</h1>"
    "<p>The engine runs and its API answers (<a href=\"/api/health\">/api/health</a>), but the "
    "web pages are not built.</p>"
    "<p>Build them with <code>make</code> in the repository (or <code>npm ci &amp;&amp; npm run "
    "build</code> in <code>web/</code>), then reload this page. An engine installed elsewhere "
    "finds them through <code>static_dir</code> in <code>[ui.dashboard]</code>.</p>"
    "</body></html>";

/* A GET outside the API: the web app's page for its own routes (it routes
 * in the browser), the not-built page, or 404 for a missing file. */
static void serve_page(dash *d, uint64_t req, const char *path)
{
    if (!d->static_dir) {
        dash_reply_text(d, req, 200, "text/html; charset=utf-8", NOT_BUILT, sizeof(NOT_BUILT) - 1);
        return;
    }
    const char *last = strrchr(path, '/');
    if (last && strchr(last, '.')) {
        dash_reply_fail(d, req, 404, "not_found", "no file %.200s in the web app", path);
        return;
    }
    char p[4200];
    snprintf(p, sizeof(p), "%s/index.html", d->static_dir);
    FILE *f = fopen(p, "rb");
    char *buf = NULL;
    size_t len = 0;
    if (f) {
        buf = malloc(1 << 20);
        len = buf ? fread(buf, 1, 1 << 20, f) : 0;
        fclose(f);
    }
    if (!buf || !len) {
        free(buf);
        dash_reply_text(d, req, 200, "text/html; charset=utf-8", NOT_BUILT, sizeof(NOT_BUILT) - 1);
        return;
    }
    dash_reply_text(d, req, 200, "text/html; charset=utf-8", buf, len);
    free(buf);
}

/* ------------------------------------------------------------ requests */

static void not_yet_accounts(dash *d, uint64_t req)
{
    dash_reply_fail(d, req, 501, "not_implemented",
                    "adding and removing accounts at runtime is not there yet: add an "
                    "[exchange.*] section to modules.ini and reload (aitrader reload)");
}

static void dispatch(dash *d, const at_httpd_req *req, const dash_route *r)
{
    uint64_t id = req->id;
    switch (r->id) {
    case DR_HEALTH:
        dash_route_health(d, id);
        return;
    case DR_INSTRUMENTS:
        dash_route_instruments(d, id);
        return;
    case DR_TICKERS:
        dash_route_tickers(d, id, req->query);
        return;
    case DR_CANDLES:
        dash_route_candles(d, id, req->query);
        return;
    case DR_ACCOUNTS:
        dash_route_accounts(d, id);
        return;
    case DR_ACCOUNT_ADD:
    case DR_ACCOUNT_REMOVE:
        not_yet_accounts(d, id);
        return;
    case DR_BALANCE:
    case DR_POSITIONS:
    case DR_ORDERS:
    case DR_FILLS:
    case DR_EQUITY:
        dash_route_account(d, id, r, req->query);
        return;
    case DR_ORDER_PLACE:
        dash_route_order_place(d, id, req);
        return;
    case DR_ORDER_CANCEL:
        dash_route_order_cancel(d, id, r);
        return;
    case DR_POSITION_CLOSE:
        dash_route_position_close(d, id, req);
        return;
    case DR_TRADERS:
        dash_route_traders(d, id);
        return;
    case DR_TRADER_ACTION:
        dash_route_trader_action(d, id, r);
        return;
    case DR_SHADOW:
        dash_route_shadow(d, id, req->query);
        return;
    case DR_DECISIONS:
        dash_route_decisions(d, id, req->query);
        return;
    case DR_DECISION:
        dash_route_decision(d, id, r->a);
        return;
    case DR_RISK:
        dash_route_risk(d, id);
        return;
    case DR_KILL_SWITCH:
        dash_route_kill_switch(d, id, req);
        return;
    case DR_NEWS:
        dash_route_news(d, id, req->query);
        return;
    case DR_SENTIMENT:
        dash_route_sentiment(d, id, req->query);
        return;
    case DR_PNL:
        dash_route_pnl(d, id, req->query);
        return;
    case DR_ARENA:
        dash_route_arena(d, id, req->query);
        return;
    case DR_METRICS:
        dash_route_metrics(d, id);
        return;
    default:
        dash_reply_fail(d, id, 404, "not_found", "no such route");
        return;
    }
}

void dash_on_request(void *arg, at_httpd *srv, const at_httpd_req *req)
{
    dash *d = arg;
    (void)srv;
    d->h->metric_add(d->m_requests, 1);
    const char *const *allowed = (const char *const *)d->allowed;
    const char *host = req->host ? req->host : "";
    const char *origin = req->origin ? req->origin : "";
    dash_err e;
    memset(&e, 0, sizeof(e));
    if (!at_host_allowed(host, allowed)) {
        dash_fail(&e, 403, "bad_host", NULL,
                  "Host '%.100s' is not this server's name: open the dashboard by its IP "
                  "address or localhost, or list that origin in [ui.dashboard] origins",
                  host);
        dash_reply_err(d, req->id, &e);
        return;
    }
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (!dash_path_is_api(req->path)) {
        if (get) {
            serve_page(d, req->id, req->path);
        } else {
            dash_fail(&e, 404, "not_found", NULL, "no route %.16s %.200s", req->method, req->path);
            dash_reply_err(d, req->id, &e);
        }
        return;
    }
    dash_route r;
    int st = dash_route_match(req->method, req->path, &r, &e);
    if (st == 405) {
        char allow[64];
        snprintf(allow, sizeof(allow), "Allow: %s", r.allow);
        reply_err_hdr(d, req->id, &e, allow);
        return;
    }
    if (st) {
        dash_reply_err(d, req->id, &e);
        return;
    }
    if (r.mutating) {
        if (!at_origin_allowed(origin, host, allowed)) {
            dash_fail(&e, 403, "forbidden_origin", NULL,
                      "a page from %.100s may not change anything here (allowed: the "
                      "dashboard's own address and [ui.dashboard] origins)",
                      origin);
            dash_reply_err(d, req->id, &e);
            return;
        }
        if (!dash_bearer_ok(req->authorization, d->token)) {
            dash_fail(&e, 401, "unauthorized", NULL,
                      "%s: send Authorization: Bearer <token> (the token is in the URL printed "
                      "at start, or in data_dir/dashboard.token)",
                      req->authorization && *req->authorization ? "wrong token"
                                                                : "this change needs the token");
            reply_err_hdr(d, req->id, &e, "WWW-Authenticate: Bearer");
            return;
        }
    }
    dispatch(d, req, &r);
}

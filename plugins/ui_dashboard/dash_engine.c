/* The routes the engine answers itself, through its control API
 * (host->engine_call, ABI 1.5): health, traders and their run/pause/resume,
 * the kill switch; and the Prometheus text. The engine's answer is passed
 * on as it is (its keys are the engine's contract), its errors become
 * statuses: unknown 404, bad params 400, not now 409. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dash.h"

static int status_of(int rc)
{
    switch (rc) {
    case AT_ENOENT:
        return 404;
    case AT_EINVAL:
        return 400;
    case AT_ESTATE:
        return 409;
    default:
        return 500;
    }
}

static const char *err_text(int rc)
{
    switch (rc) {
    case AT_ENOMEM:
        return "out of memory";
    case AT_ENOENT:
        return "not found";
    case AT_EINVAL:
        return "invalid parameters";
    case AT_ESTATE:
        return "not possible now";
    default:
        return "the engine could not answer";
    }
}

/* Call the engine; AT_OK and the parsed answer in *out, or the request is
 * answered with the error and a negative code returned. */
static int call(dash *d, uint64_t req, const char *method, json_t *params, json_t **out)
{
    *out = NULL;
    if (!d->h->engine_call) {
        json_decref(params);
        dash_reply_fail(d, req, 501, "not_available",
                        "this engine has no control API (host->engine_call): %s needs a newer "
                        "engine",
                        method);
        return AT_ESTATE;
    }
    char *ptext = params ? json_dumps(params, JSON_COMPACT) : NULL;
    json_decref(params);
    char *res = NULL;
    int rc = d->h->engine_call(d->inst, method, ptext, &res);
    free(ptext);
    json_t *v = res ? json_loads(res, JSON_DECODE_ANY, NULL) : NULL;
    free(res);
    if (rc == AT_OK && v) {
        *out = v;
        return AT_OK;
    }
    if (rc == AT_OK) {
        rc = AT_EPLUGIN; /* an answer that is not JSON */
    }
    json_t *code = json_object_get(v, "code"), *msg = json_object_get(v, "message");
    dash_err e = {.status = status_of(rc)};
    snprintf(e.code, sizeof(e.code), "%s",
             json_is_string(code) ? json_string_value(code) : "engine_error");
    snprintf(e.message, sizeof(e.message), "%s: %s", method,
             json_is_string(msg) ? json_string_value(msg) : err_text(rc));
    json_decref(v);
    dash_reply_err(d, req, &e);
    return rc;
}

int dash_engine_get(dash *d, uint64_t req, const char *method, json_t **out)
{
    return call(d, req, method, NULL, out);
}

static void pass(dash *d, uint64_t req, const char *method, json_t *params)
{
    json_t *v;
    if (call(d, req, method, params, &v) == AT_OK) {
        dash_reply(d, req, 200, v);
    }
}

void dash_route_health(dash *d, uint64_t req)
{
    pass(d, req, "health", NULL);
}

void dash_route_traders(dash *d, uint64_t req)
{
    pass(d, req, "traders", NULL);
}

void dash_route_trader_action(dash *d, uint64_t req, const dash_route *r)
{
    char method[32];
    snprintf(method, sizeof(method), "trader.%s", r->action);
    /* "alpha" and "trader.alpha" name the same trader */
    const char *id = strncmp(r->a, "trader.", 7) == 0 ? r->a + 7 : r->a;
    d->h->log(d->inst, AT_LOG_INFO, "%s %s asked from the dashboard", method, id);
    pass(d, req, method, json_pack("{s:s, s:s}", "trader", id, "by", "dashboard"));
}

void dash_route_kill_switch(dash *d, uint64_t req, const at_httpd_req *hr)
{
    dash_err e;
    json_t *body = dash_body_parse(hr->body, hr->body_len, &e);
    if (!body) {
        dash_reply_err(d, req, &e);
        return;
    }
    json_t *on = json_object_get(body, "on"), *reason = json_object_get(body, "reason");
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "on") != 0 && strcmp(k, "reason") != 0) {
            dash_fail(&e, 400, "unknown_key", NULL, "unknown key '%.40s' (known: on, reason)", k);
            goto bad;
        }
    }
    if (!json_is_boolean(on)) {
        dash_fail(&e, 400, on ? "bad_value" : "missing", "on",
                  "on must be true (stop every new entry) or false");
        goto bad;
    }
    if (reason && !json_is_string(reason) && !json_is_null(reason)) {
        dash_fail(&e, 400, "bad_value", "reason", "reason must be a string");
        goto bad;
    }
    const char *why = json_is_string(reason) ? json_string_value(reason) : "";
    d->h->log(d->inst, AT_LOG_WARN, "kill switch %s asked from the dashboard%s%.200s",
              json_is_true(on) ? "ON" : "off", *why ? ": " : "", why);
    pass(d, req, "kill_switch.set",
         json_pack("{s:b, s:s, s:s}", "on", json_is_true(on), "by", "dashboard", "reason",
                   *why ? why : "from the dashboard"));
    json_decref(body);
    return;
bad:
    json_decref(body);
    dash_reply_err(d, req, &e);
}

/* GET /api/risk: the kill switch, the risk instances with their state (the
 * breaker's trips are in its detail), and the last rejections. */
static void risk_rejections(dash_job *j)
{
    json_object_set_new(j->out, "rejections", j->rows);
    j->rows = NULL;
    dash_job_reply(j, 200, NULL);
}

void dash_route_risk(dash *d, uint64_t req)
{
    json_t *ks = NULL, *health = NULL;
    if (call(d, req, "kill_switch.get", NULL, &ks) != AT_OK) {
        return;
    }
    if (call(d, req, "health", NULL, &health) != AT_OK) {
        json_decref(ks);
        return;
    }
    json_t *rules = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(health, "plugins"), i, p)
    {
        const char *kind = json_string_value(json_object_get(p, "kind"));
        if (kind && strcmp(kind, "risk") == 0) {
            json_array_append(rules, p);
        }
    }
    json_decref(health);
    dash_job *j = dash_job_new(d, req);
    if (!j) {
        json_decref(ks);
        json_decref(rules);
        return;
    }
    j->out = json_pack("{s:o, s:o}", "killSwitch", ks, "rules", rules);
    dash_job_query(j,
                   "SELECT v.intent_id AS \"intentId\", v.rule, v.rule_name AS \"ruleName\", "
                   "v.reason, v.created_ms AS \"createdMs\", o.account, o.origin, o.inst_id AS "
                   "\"instId\", o.side, o.sz FROM risk_verdicts v LEFT JOIN orders o ON "
                   "o.intent_id = v.intent_id WHERE v.verdict = 'reject' ORDER BY v.created_ms "
                   "DESC LIMIT 20",
                   NULL, 0, NULL, risk_rejections);
}

void dash_route_metrics(dash *d, uint64_t req)
{
    char *t = d->h->metrics_text();
    if (!t) {
        dash_reply_fail(d, req, 500, "internal", "out of memory");
        return;
    }
    dash_reply_text(d, req, 200, "text/plain; version=0.0.4; charset=utf-8", t, strlen(t));
    free(t);
}

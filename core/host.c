/* The at_host table: thin adapters from the SDK's services to core modules. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "clock.h"
#include "decimal.h"
#include "engine.h"
#include "engine_api.h"
#include "http.h"
#include "intern.h"
#include "log.h"
#include "loopsvc.h"
#include "metrics.h"
#include "net.h"
#include "storage.h"

static const char *h_instance_name(const at_instance *in)
{
    return in ? in->name : "core";
}

static void h_log(const at_instance *in, at_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(in ? in->name : "core", level, fmt, ap);
    va_end(ap);
}

static void h_set_state(at_instance *in, at_state st, const char *detail)
{
    if (in) {
        in->state_reported = true;
        engine_set_state(in, st, detail);
    }
}

static void h_request_stop(at_instance *in, int code)
{
    log_msg(in ? in->name : "core", AT_LOG_INFO, "requested engine stop (exit code %d)", code);
    engine_request_stop(code);
}

static at_event *h_event_new(at_instance *in, at_event_type type, size_t extra)
{
    return bus_event_new(in ? &in->bus : NULL, type, extra);
}

static int h_publish(at_instance *in, at_event *ev, uint32_t flags)
{
    return bus_publish(in ? &in->bus : NULL, ev, flags);
}

static int h_subscribe(at_instance *in, at_event_type type, at_event_cb cb, void *arg)
{
    /* recorded, or (a replay) begun when the recorded one began */
    int64_t from = engine_subscribed(in, type);
    return bus_subscribe_from(in ? &in->bus : NULL, type, cb, arg, from);
}

static void h_unsubscribe(at_instance *in, int id)
{
    bus_unsubscribe(id);
}

static at_timer *h_timer_add(at_instance *in, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                             void *arg)
{
    return timer_add(in, after_ms, repeat_ms, cb, arg);
}

static at_timer *h_timer_at(at_instance *in, int64_t at_us, at_timer_cb cb, void *arg)
{
    return timer_at(in, at_us, cb, arg);
}

static at_fdwatch *h_fd_watch(at_instance *in, int fd, unsigned what, at_fd_cb cb, void *arg)
{
    return fdwatch_new(in, fd, what, cb, arg);
}

static int h_run_on_loop(at_instance *in, at_loop_fn fn, void *arg)
{
    return loopsvc_run(in, fn, arg);
}

/* aitrader replay runs with no network: a plugin that tries is refused and
 * named (once), so a recording that lacks something is seen, not fetched. */
static bool offline(const at_instance *in, const char *url)
{
    if (!engine_offline()) {
        return false;
    }
    static const at_instance *said;
    if (said != in) {
        said = in;
        log_msg(in ? in->name : "core", AT_LOG_WARN,
                "replay: no network: %s refused (the recording lacks what it asked for)",
                url ? url : "a connection");
    }
    return true;
}

static int64_t h_http_request(at_instance *in, const at_http_req *req, at_http_done_cb done,
                              void *arg)
{
    http_client *c = engine_http();
    if (!c || offline(in, req ? req->url : NULL)) {
        return AT_ESTATE;
    }
    /* at_http_req has no size field: a plugin built before ABI 1.3 hands a
     * struct that ends before `proxy`, so read only what it has. */
    const at_plugin *p = in ? in->lp.plugin : NULL;
    if (req && p && p->abi_major == 1 && p->abi_minor < 3) {
        at_http_req r = {0};
        memcpy(&r, req, offsetof(at_http_req, proxy));
        return http_client_request(c, in->name, &r, done, arg);
    }
    return http_client_request(c, in ? in->name : "core", req, done, arg);
}

static void h_http_cancel(int64_t id)
{
    http_client *c = engine_http();
    if (c) {
        http_client_cancel(c, id);
    }
}

static at_ws *h_ws_open(at_instance *in, const char *url, const at_ws_cbs *cbs, void *arg)
{
    net *n = offline(in, url) ? NULL : engine_net();
    return n ? net_ws_open(n, in ? in->name : "core", url, cbs, arg) : NULL;
}

static at_ws *h_ws_open_proxy(at_instance *in, const char *url, const char *proxy,
                              const at_ws_cbs *cbs, void *arg)
{
    net *n = offline(in, url) ? NULL : engine_net();
    return n ? net_ws_open_proxy(n, in ? in->name : "core", url, proxy, cbs, arg) : NULL;
}

static at_httpd *h_httpd_start(at_instance *in, const at_httpd_opts *o, const at_httpd_cbs *cbs,
                               void *arg)
{
    net *n = engine_net();
    /* at_httpd_opts has no size field: a plugin built before ABI 1.5 hands a
     * struct that ends before `ws_origins`, so read only what it has. */
    const at_plugin *p = in ? in->lp.plugin : NULL;
    if (o && p && p->abi_major == 1 && p->abi_minor < 5) {
        at_httpd_opts old = {0};
        memcpy(&old, o, offsetof(at_httpd_opts, ws_origins));
        return n ? net_httpd_start(n, in->name, &old, cbs, arg) : NULL;
    }
    return n ? net_httpd_start(n, in ? in->name : "core", o, cbs, arg) : NULL;
}

static char *h_metrics_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        return NULL;
    }
    metrics_render(f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static at_metric *h_metric(at_instance *in, at_metric_kind kind, const char *name, const char *help)
{
    return metrics_get(in ? in->name : "core", kind, name, help);
}

static const at_host host = {
    .struct_size = sizeof(at_host),
    .abi_major = AT_ABI_MAJOR,
    .abi_minor = AT_ABI_MINOR,
    .instance_name = h_instance_name,
    .log = h_log,
    .log_enabled = log_enabled,
    .set_state = h_set_state,
    .core_get = engine_core_get,
    .request_stop = h_request_stop,
    .event_new = h_event_new,
    .event_strdup = bus_event_strdup,
    .publish = h_publish,
    .subscribe = h_subscribe,
    .unsubscribe = h_unsubscribe,
    .event_retain = bus_retain,
    .event_release = bus_release,
    .now_us = clock_now_us,
    .timer_add = h_timer_add,
    .timer_cancel = timer_cancel,
    .fd_watch = h_fd_watch,
    .fd_modify = fdwatch_modify,
    .fd_unwatch = fdwatch_free,
    .run_on_loop = h_run_on_loop,
    .http_request = h_http_request,
    .http_cancel = h_http_cancel,
    .ws_open = h_ws_open,
    .ws_send = net_ws_send,
    .ws_close = net_ws_close,
    .httpd_start = h_httpd_start,
    .httpd_port = net_httpd_port,
    .httpd_respond = net_httpd_respond,
    .httpd_ws_send = net_httpd_ws_send,
    .httpd_ws_broadcast = net_httpd_ws_broadcast,
    .httpd_stop = net_httpd_stop,
    .db_write = storage_write,
    .db_query = storage_query,
    .metric = h_metric,
    .metric_add = metrics_add,
    .metric_set = metrics_set,
    .metric_observe = metrics_observe,
    .inst_intern = intern_get,
    .inst_name = intern_name,
    .dec_parse = at_dec_parse,
    .dec_format = at_dec_format,
    .dec_cmp = at_dec_cmp,
    .dec_add = at_dec_add,
    .dec_sub = at_dec_sub,
    .dec_mul = at_dec_mul,
    .dec_div = at_dec_div,
    .dec_round_step = at_dec_round_step,
    .dec_from_double = at_dec_from_double,
    .dec_to_double = at_dec_to_double,
    .secret_add = log_secret_add,
    .dec_mul_round = at_dec_mul_round,
    .metrics_text = h_metrics_text,
    .ws_open_proxy = h_ws_open_proxy,
    .engine_call = engine_api_call,
    .timer_at = h_timer_at,
    .ai_request = engine_ai_request,
    .ai_cancel = engine_ai_cancel,
};

const at_host *engine_host(void)
{
    return &host;
}

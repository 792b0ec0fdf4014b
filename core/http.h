/* HTTP client: one curl multi handle driven by the libevent loop (hiperfifo
 * pattern). Retries with exponential backoff and jitter on transport errors,
 * 429 and 5xx; response size cap; per-attempt timeout. All on the loop thread. */
#ifndef AT_CORE_HTTP_H
#define AT_CORE_HTTP_H

#include <event2/event.h>

#include <aitrader/host.h>

typedef struct http_client http_client;

/* The engine must call curl_global_init(CURL_GLOBAL_DEFAULT) once, before the
 * first http_client_new (and curl_global_cleanup after the last free): it is
 * not thread-safe, so this module never calls it itself. Returns NULL on
 * failure. */
http_client *http_client_new(struct event_base *base);
/* Cancels everything still pending (their done callbacks run with AT_ESTATE,
 * synchronously, before this returns) and frees the client. */
void http_client_free(http_client *c);
/* `who` names the caller in logs (borrowed; must outlive the request). The
 * request is copied. Returns an id > 0, or < 0 (done not called). done runs
 * later on the loop, never inside this call. */
int64_t http_client_request(http_client *c, const char *who, const at_http_req *req,
                            at_http_done_cb done, void *arg);
void http_client_cancel(http_client *c, int64_t id);
/* The proxy of requests whose at_http_req.proxy is NULL ([core] proxy):
 * "http://[user:password@]host:port", or NULL/""/"none" for none (then
 * libcurl's defaults apply, the http_proxy environment variables included).
 * Copied. AT_EINVAL when at_proxy_valid refuses it. */
int http_client_set_proxy(http_client *c, const char *proxy);
/* Number of requests in flight or waiting for a retry. */
size_t http_client_pending(const http_client *c);

#endif

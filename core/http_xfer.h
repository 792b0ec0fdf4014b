/* Internal to the HTTP client (http.c only): one transfer — the copied
 * request, its configured curl easy handle, the response buffers and the
 * retry policy. Everything runs on the loop thread. */
#ifndef AT_CORE_HTTP_XFER_H
#define AT_CORE_HTTP_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "http.h"

#define HTTP_MSG_SIZE (CURL_ERROR_SIZE + 64)

typedef enum http_xfer_state {
    XFER_RUNNING,  /* easy handle is in the multi */
    XFER_WAITING,  /* between attempts, retry timer armed */
    XFER_FINISHED, /* result fixed, queued for the done callback */
} http_xfer_state;

/* Longest wait between two attempts, whatever the backoff or Retry-After. */
#define HTTP_MAX_DELAY_MS 30000

typedef struct http_xfer http_xfer;

struct http_xfer {
    http_client *c;
    http_xfer *prev, *next; /* client's list of transfers not yet called back */
    http_xfer *next_done;   /* client's dispatch FIFO */
    int64_t id;
    const char *who; /* borrowed from the caller */
    at_http_done_cb done;
    void *arg;
    http_xfer_state state;

    CURL *easy;
    struct curl_slist *req_headers;
    struct event *retry_ev;
    char *method;
    char *log_url; /* URL without userinfo, query or fragment */
    int max_retries;
    int64_t backoff_ms;
    size_t max_response;

    int attempts;
    int64_t attempt_start_us;
    int64_t elapsed_us;

    char *body; /* NUL-terminated when non-NULL */
    size_t len, cap;
    char **headers; /* "Name: value" lines of the current response */
    size_t nheaders, headers_cap, header_bytes;
    bool overflow; /* body or headers over their cap */
    bool oom;

    int status;
    int err;
    char errbuf[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER */
    char msg[HTTP_MSG_SIZE];      /* final error text */
};

/* Validate req and copy it into a new transfer with a configured easy handle
 * (not yet added to any multi); default_proxy serves a req->proxy of NULL
 * (see http_client_set_proxy). retry_cb fires x->retry_ev with x as its
 * argument. Returns AT_OK, AT_EINVAL (bad request) or AT_ENOMEM. */
int http_xfer_new(http_client *c, struct event_base *base, event_callback_fn retry_cb,
                  const char *who, const at_http_req *req, const char *default_proxy,
                  at_http_done_cb done, void *arg, http_xfer **out);
/* Whether a proxy setting means "no proxy" (NULL, "" or "none"). */
bool http_proxy_is_direct(const char *proxy);
/* Frees everything; the easy handle must not be in a multi any more. */
void http_xfer_free(http_xfer *x);
/* Drops the response of the previous attempt. */
void http_xfer_reset_response(http_xfer *x);
/* Classifies a finished attempt (status must be set): returns the AT_* err
 * and writes the error text to why (empty for AT_OK). */
int http_xfer_classify(const http_xfer *x, CURLcode rc, char *why, size_t cap);
/* Delay in ms before the next attempt, or -1 when this attempt's result is
 * final. rnd is a fresh random value for the jitter. */
int64_t http_xfer_retry_delay(const http_xfer *x, int err, CURLcode rc, uint64_t rnd);

#endif

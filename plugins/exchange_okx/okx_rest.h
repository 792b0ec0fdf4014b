/* OKX v5 REST client on the host's HTTP service: signatures, the demo header,
 * per-endpoint (method and path) windows at OKX's published limits with
 * background reads kept out of the way of everything else, retries for
 * reads only, and the {code,msg,data} envelope parsed with jansson.
 *
 * Orders are never retried here: a POST that timed out may have been
 * executed, so the caller asks trade/order?clOrdId= before sending again.
 * Main loop only. */
#ifndef OKX_REST_H
#define OKX_REST_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <aitrader/host.h>

typedef struct okx_rest okx_rest;

/* An answer a recorded session gives (okx_rest_opts.recorded). */
typedef struct okx_rec_answer {
    int status; /* HTTP status (0 when err) */
    int err;    /* AT_OK, or the transport error recorded (AT_ETIMEDOUT …) */
    char *body; /* malloc'd (transferred); NULL with err */
    size_t len;
    char error[160]; /* with err: why */
    int64_t at_us;   /* deliver at this core-clock time (now or earlier: the next loop turn) */
} okx_rec_answer;

/* okx_rest_opts.recorded and .observe (below). */
typedef void okx_rest_recorded_fn(void *arg, const char *method, const char *path,
                                  const char *query, const char *body, okx_rec_answer *a);
typedef void okx_rest_observe_fn(void *arg, const char *method, const char *path, const char *query,
                                 const char *body, const at_http_resp *resp);

typedef struct okx_rest_opts {
    const char *base_url;                      /* "https://www.okx.com" (no trailing slash) */
    const char *api_key, *secret, *passphrase; /* NULL: public calls only */
    bool demo;                                 /* send x-simulated-trading: 1 */
    int64_t timeout_ms;                        /* per attempt; 0 = 10 s */
    int read_retries;                          /* for GETs (transport, 429, 5xx, 50011); 0 = 3 */
    const char *proxy; /* at_http_req.proxy (borrowed: outlives the okx_rest) */
    /* An in-process venue answering instead of HTTP (exchange_paper): it gets
     * the request and returns the HTTP status and a malloc'd JSON body
     * (transferred). The answer still reaches the callback later, on the
     * loop, as an HTTP one would. NULL: HTTP to base_url. */
    int (*local)(void *arg, const char *method, const char *path, const char *query,
                 const char *body, char **resp, size_t *resp_len);
    void *local_arg;
    /* A recorded session answering instead of HTTP (aitrader replay of an
     * account, okx_replay_rest.c): each attempt gets the answer recorded for
     * it, delivered at the time it came. Fills *a; NULL: not used. */
    okx_rest_recorded_fn *recorded;
    void *recorded_arg;
    /* Told every answer as it comes, before the caller (the recording of an
     * account, okx_replay.c); NULL: none. */
    okx_rest_observe_fn *observe;
    void *observe_arg;
    /* Counted per finished call (after the read retries), each NULL = not
     * counted: ok is code "0"; venue, an answer with another code; http, a
     * transport error, a non-2xx status or an unreadable body; timeout, no
     * answer in time. latency (microseconds, last attempt) for every call
     * that got an HTTP answer; limited, calls the windows below held back. */
    struct okx_rest_metrics {
        at_metric *ok, *venue, *http, *timeout, *latency, *limited;
    } m;
} okx_rest_opts;

/* The answer of one call, borrowed for the callback. */
typedef struct okx_reply {
    int err;            /* AT_OK, or AT_EIO/AT_ETIMEDOUT (no answer), AT_EINVAL (not JSON) */
    int http;           /* HTTP status, 0 when none */
    const char *code;   /* OKX "code" ("0" ok, "1"/"2" per-item, "50113" …), "" when none */
    const char *msg;    /* OKX "msg" or the transport error */
    json_t *data;       /* the "data" array (borrowed), or NULL */
    json_t *root;       /* the whole body (borrowed), or NULL */
    int64_t latency_us; /* request out to answer in (last attempt) */
    int attempts;
} okx_reply;

typedef void (*okx_rest_cb)(void *arg, const okx_reply *r);

okx_rest *okx_rest_new(const at_host *h, at_instance *inst, const okx_rest_opts *o);
/* Cancels every call in flight or queued; their callbacks are not called. */
void okx_rest_free(okx_rest *r);

/* GET path?query (query already encoded, without '?', may be NULL or "").
 * `sign` for private endpoints. Returns AT_OK (cb follows, never inside this
 * call) or an error (cb is not called). */
int okx_rest_get(okx_rest *r, const char *path, const char *query, bool sign, okx_rest_cb cb,
                 void *arg);
/* The same for a background read (catching up with what pushes missed): it
 * waits behind every other call of its bucket and never takes the last
 * third of the bucket's window, so order operations and their lookups
 * always find room. */
int okx_rest_get_bg(okx_rest *r, const char *path, const char *query, bool sign, okx_rest_cb cb,
                    void *arg);
/* POST with a JSON body (signed, never retried). */
int okx_rest_post(okx_rest *r, const char *path, const char *body, okx_rest_cb cb, void *arg);
/* The same with OKX's expTime header (epoch ms; 0 = none): OKX refuses the
 * request if it is still unprocessed at that time (place and amend). */
int okx_rest_post_exp(okx_rest *r, const char *path, const char *body, int64_t exp_ms,
                      okx_rest_cb cb, void *arg);

/* Calls waiting for a token (for status lines and tests). */
size_t okx_rest_queued(const okx_rest *r);
/* Milliseconds a foreground call (method, path) would wait right now for its
 * bucket (tests). */
int64_t okx_rest_wait_ms(okx_rest *r, const char *method, const char *path);
/* Clock offset learnt from /public/time (server - local, ms); 0 until known. */
void okx_rest_set_clock_offset(okx_rest *r, int64_t offset_ms);

#endif

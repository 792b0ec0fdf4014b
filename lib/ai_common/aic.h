/* What the HTTP AI providers (plugins/ai_openai, plugins/ai_letta) share:
 * the official OpenAI SDK's retry schedule bounded by a call's deadline,
 * an HTTP exchange retried by it (aic_xfer), error texts that name the
 * status and the API's own message without ever the key, the cost at
 * configured prices, the checks of base_url and proxy keys, and the
 * metrics every provider exports. Everything but aic_xfer and the metrics
 * is pure (no host): tests drive it directly. */
#ifndef AT_LIB_AI_COMMON_AIC_H
#define AT_LIB_AI_COMMON_AIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/plugin.h>

/* ------------------------------------------------------ retry schedule */

/* The official SDK's rules (openai-python _base_client.py, reference §1.4). */
#define AIC_INITIAL_DELAY_MS 500
#define AIC_MAX_DELAY_MS 8000
#define AIC_MAX_RETRY_AFTER_MS 120000
/* An attempt needs at least this much of the deadline to be worth making. */
#define AIC_MIN_ATTEMPT_MS 1000

/* The server's wait in ms from retry-after-ms, retry-after (seconds, or an
 * HTTP-date against now_ms, epoch ms), at most 7 days; -1 when absent or
 * unreadable. Used by the news sources too. */
int64_t aic_retry_after_ms(const char *const *headers, size_t n, int64_t now_ms);

/* The wait before asking a failing source again, `fails` failures in a row
 * before this one: base_ms x 2^fails (the exponent at most 10), at most
 * max_ms; the server's own wait (retry_after_ms; <= 0: none) when longer,
 * at most 24 x max_ms. The news sources' schedule. */
int64_t aic_backoff_ms(int64_t base_ms, int fails, int64_t max_ms, int64_t retry_after_ms);

/* One finished attempt, as the retry schedule sees it. */
typedef struct aic_attempt {
    int status;        /* HTTP status, 0 when none came */
    int err;           /* the transfer's AT_* (AT_OK when an answer came) */
    const char *error; /* the transfer's error text when err != AT_OK, or NULL */
    const char *const *headers;
    size_t nheaders;
    bool idempotent; /* sending the request twice does it once (see aic_req) */
} aic_attempt;

/* The wait in ms before the next attempt, or -1 when `a` is final (then
 * `why` says why when it is not just a non-retryable answer). `retries` have
 * been made of `max_retries`; deadline_ms (epoch ms, 0 = none) bounds
 * everything; rnd in [0, 1) draws the jitter. A request that is not
 * idempotent is retried only when it never reached the server
 * (aic_not_sent) or the server asks to be asked again later (429 or 503
 * with Retry-After); else why = "not retried: …". */
int64_t aic_retry_delay(const aic_attempt *a, int retries, int max_retries, int64_t now_ms,
                        int64_t deadline_ms, double rnd, char *why, size_t cap);

/* Whether a transfer's error text says the request never left this machine
 * (the name did not resolve, the connection was refused or timed out before
 * it opened). The host's HTTP client tells transport failures apart only by
 * curl's texts. */
bool aic_not_sent(const char *error);

/* ------------------------------------------------------------- texts */

/* Error texts are stored with decisions and shown to users: one line, bounded. */
#define AIC_ERR_TEXT_MAX 300

/* `len` bytes of `src` as one line of printable text in dst (at most
 * AIC_ERR_TEXT_MAX bytes), every occurrence of `key` (when 4 bytes or
 * more) replaced by "***": a server may echo what it was sent. */
void aic_clean_text(char *dst, size_t cap, const char *src, size_t len, const char *key);

/* "HTTP 402: Insufficient Balance (invalid_request_error)" from an error
 * body: OpenAI's {"error":{"message", "code"|"type"}}, else a top-level
 * "message" or "detail" (FastAPI servers such as Letta), else the text;
 * status 0 leaves out the "HTTP n" part. */
void aic_error_text(int status, const char *body, size_t len, const char *key, char *out,
                    size_t cap);

/* The error of an HTTP status: AT_ECONFIG (401, 402, 403: key, balance,
 * access), AT_EAGAIN (429), AT_EIO (408, 409, 5xx), else AT_EINVAL. */
int aic_status_err(int status);

/* A token count of a usage object (`obj` a json_t *): the integer (or
 * real) at `key` when positive, else 0. */
int64_t aic_json_count(const void *obj, const char *key);

/* USD for these tokens at prices in USD per million tokens. */
double aic_cost(double price_in, double price_out, int64_t tokens_in, int64_t tokens_out);

/* ------------------------------------------------------------ checks */

/* check_config of a base_url: http(s)://host[:port][/path], no
 * credentials, query or fragment, and not ending in `tail` (a route the
 * plugin appends itself; NULL = any path). AT_OK, or AT_ECONFIG with *key
 * = "base_url" and why (which names `example` as the expected form). */
int aic_check_base_url(const char *u, const char *tail, const char *example, const char **key,
                       char *why, size_t cap);

/* Whether s is printable ASCII without blanks (a model name, a handle). */
bool aic_word(const char *s);

/* Whether a URL points at this machine (127.x, localhost, [::1]). */
bool aic_loopback_url(const char *u);

/* ------------------------------------------------ HTTP with retries */

/* The settings a provider instance sends its requests with. */
typedef struct aic_http {
    at_instance *inst;
    const at_host *h;
    int64_t timeout_ms; /* per attempt, cut to what the deadline leaves */
    int max_retries;
    size_t max_response;
    const char *proxy;  /* as at_http_req.proxy */
    const char *secret; /* cut out of every error text (the api key), or NULL */
    uint64_t rng;       /* jitter (aic_http_init seeds it) */
} aic_http;

/* "Authorization: Bearer <api_key>" (malloc'd) into *out, NULL when there
 * is no key; warns (in the instance's log) when the key would go over
 * plain http:// to another machine than this one. AT_OK or AT_ENOMEM. */
int aic_bearer(const char *api_key, const char *url, at_instance *inst, const at_host *h,
               char **out);

/* Seeds the jitter and registers the password of a proxy URL
 * (http://user:password@host:port) as a secret, so no log shows it. */
void aic_http_init(aic_http *c, at_instance *inst, const at_host *h);

/* One request (every pointer borrowed: aic_xfer_start copies them). */
typedef struct aic_req {
    const char *label; /* for log lines: the call's id */
    const char *method;
    const char *url;
    const char *const *headers;
    size_t nheaders;
    const char *body;    /* NUL-terminated, or NULL */
    int64_t deadline_ms; /* epoch ms, 0 = none */
    /* Whether sending it twice does it once (a GET, a PATCH of a value, a
     * stateless completion). When false (an agent's turn: a second one would
     * run concurrently or repeat the message) it is retried only as
     * aic_retry_delay says, and an attempt is not cut short by the deadline:
     * dropping our side would not stop the server, so the caller answers at
     * its deadline itself and lets the attempt end (aic_xfer_orphan). */
    bool idempotent;
} aic_req;

/* Its end: a 2xx answer (err AT_OK, status, body), or why none came. */
typedef struct aic_res {
    int err;    /* AT_OK, or the error of the last attempt (aic_status_err, the transfer's) */
    int status; /* of the last attempt, 0 when no answer came */
    const char *body;
    size_t len;
    const char *error; /* when err != AT_OK: "HTTP 500: …; no retries left" */
    int attempts;      /* of this request */
} aic_res;

typedef struct aic_xfer aic_xfer;
typedef void (*aic_done_cb)(void *arg, const aic_res *res);

/* Sends `rq` and retries it by the SDK's schedule (408, 409, 429, 5xx,
 * network errors; Retry-After honoured; less when not idempotent) within
 * its deadline; `done` runs
 * once, later, on the loop. AT_OK with *out set (may be NULL), or an
 * error, and then `done` is never called. */
int aic_xfer_start(aic_http *c, const aic_req *rq, aic_done_cb done, void *arg, aic_xfer **out);
/* Stop it: `done` is not called any more. Safe on NULL. */
void aic_xfer_cancel(aic_xfer *x);
/* Its caller gave up, but the server may still be working on it: no more
 * retries; true when an attempt is in flight, and then `done(arg, res)`
 * runs (instead of the first done) once that attempt ended (an answer, or
 * its own timeout); false when none is (x is freed, done never runs). */
bool aic_xfer_orphan(aic_xfer *x, aic_done_cb done, void *arg);
/* Attempts made so far, and the last failed attempt's error ("" none). */
int aic_xfer_attempts(const aic_xfer *x);
const char *aic_xfer_last(const aic_xfer *x);

/* ----------------------------------------------------------- metrics */

/* The metrics every AI provider instance exports (README "AI providers"). */
typedef struct aic_metrics {
    at_metric *calls, *errors, *attempts, *tokens_in, *tokens_out, *cost, *latency;
} aic_metrics;

void aic_metrics_init(aic_metrics *m, at_instance *inst, const at_host *h);
/* One call answered with `r` after `attempts` HTTP attempts. */
void aic_metrics_answer(const aic_metrics *m, const at_host *h, const at_ai_reply *r, int attempts);

#endif

/**
 * @file host.h
 * @brief The services table the engine hands to every plugin at init.
 *
 * A plugin reaches the engine only through this table (no linked symbols).
 *
 * Threads: every function here must be called from the main loop thread (the
 * thread plugin callbacks run on), except where a comment says "any thread".
 * Every callback the host makes into a plugin runs on the main loop thread, so
 * plugins need no locks.
 *
 * Ownership words used below:
 *  - borrowed: the callee only reads the pointer during the call (or the
 *    caller only during the callback); nobody frees it.
 *  - transferred: ownership moves to the callee, which frees/releases it.
 *  - retained: the engine keeps it until the matching close/cancel/destroy.
 */
#ifndef AITRADER_HOST_H
#define AITRADER_HOST_H

#include <stdarg.h>

#include <aitrader/config.h>
#include <aitrader/events.h>
#include <aitrader/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AT_PRINTF(a, b)
#endif

/* ---------------------------------------------------------------- timers */

/* The AI provider's request and answer (plugin.h), for host->ai_request. */
struct at_ai_request;
struct at_ai_reply;

/** Opaque timer handle. */
typedef struct at_timer at_timer;
/** Timer callback; runs on the main loop. */
typedef void (*at_timer_cb)(void *arg);

/* ------------------------------------------------------- loop services */

/** Opaque file-descriptor watch. */
typedef struct at_fdwatch at_fdwatch;
/** Readiness bits for fd watches. */
#define AT_FD_READ 0x1u
#define AT_FD_WRITE 0x2u
/** Called on the loop when the fd is ready; `what` has AT_FD_READ/AT_FD_WRITE bits. */
typedef void (*at_fd_cb)(void *arg, int fd, unsigned what);
/** A function to run on the main loop (see run_on_loop). */
typedef void (*at_loop_fn)(void *arg);

/* ------------------------------------------------------------ HTTP client */

/** An outgoing HTTP request. All pointers are borrowed: copied by http_request(). */
typedef struct at_http_req {
    const char *method;         /**< "GET", "POST", "DELETE" … */
    const char *url;            /**< absolute http(s) URL */
    const char *const *headers; /**< "Name: value" lines, may be NULL */
    size_t nheaders;
    const char *body; /**< may be NULL */
    size_t body_len;
    int64_t timeout_ms;  /**< whole-transfer deadline per attempt; 0 = 10 s */
    int max_retries;     /**< extra attempts on transport errors, 429 and 5xx; 0 = none.
                              Keep 0 for anything not idempotent (placing orders):
                              a timed-out request may have been executed. */
    int64_t backoff_ms;  /**< first retry delay (doubles, +/-50% jitter, cap 30 s); 0 = 250 ms */
    size_t max_response; /**< response body cap in bytes; 0 = 8 MiB */

    /* ---- added in ABI 1.3 (the engine reads it only from plugins built with
     * ABI 1.3 or later: at_http_req has no size field, and an older plugin's
     * struct ends before it) ---- */

    /**
     * Outbound proxy of this request (see at_proxy_valid): NULL = the
     * engine's ([core] proxy, or none), "" or "none" = connect directly,
     * "http://[user:password@]host:port" = through that HTTP proxy. Through
     * a proxy every request, http:// and https:// alike, goes in a CONNECT
     * tunnel (the proxy sees the host and port, never the request).
     */
    const char *proxy;
} at_http_req;

/**
 * Whether `p` is a proxy setting the engine accepts (at_http_req.proxy,
 * ws_open_proxy, [core] proxy): NULL (the engine's), "" or "none" (direct),
 * or "http://[user:password@]host:port" with an optional trailing "/", a
 * port of 1 to 65535 and an IPv6 host in brackets. Plugins check their own
 * `proxy` keys with it in check_config. Pure; any thread.
 */
static inline bool at_proxy_valid(const char *p)
{
    if (!p || !*p) {
        return true;
    }
    if (p[0] == 'n' && p[1] == 'o' && p[2] == 'n' && p[3] == 'e' && !p[4]) {
        return true;
    }
    const char *scheme = "http://";
    for (int i = 0; i < 7; i++, p++) {
        if (*p != scheme[i]) {
            return false;
        }
    }
    const char *end = p;
    while (*end && *end != '/') {
        if ((unsigned char)*end <= ' ' || (unsigned char)*end >= 0x7f) {
            return false;
        }
        end++;
    }
    if (*end == '/' && end[1]) {
        return false; /* a path means nothing to a proxy: surely a typo */
    }
    const char *host = p;
    for (const char *q = p; q < end; q++) {
        if (*q == '@') {
            host = q + 1; /* user:password@ */
        }
    }
    if (host > p && host - 1 == p) {
        return false; /* "@host" */
    }
    const char *colon = NULL;
    if (*host == '[') {
        const char *close = host;
        while (close < end && *close != ']') {
            close++;
        }
        if (close == end || close == host + 1) {
            return false;
        }
        colon = close + 1;
        if (colon >= end || *colon != ':') {
            return false;
        }
    } else {
        for (const char *q = host; q < end; q++) {
            if (*q == ':') {
                colon = q; /* the last one */
            } else if (*q == '[' || *q == ']') {
                return false;
            }
        }
        if (!colon || colon == host) {
            return false;
        }
        for (const char *q = host; q < colon; q++) {
            if (*q == ':') {
                return false;
            }
        }
    }
    long port = 0;
    const char *d = colon + 1;
    if (d >= end) {
        return false;
    }
    for (; d < end; d++) {
        if (*d < '0' || *d > '9' || port > 65535) {
            return false;
        }
        port = port * 10 + (*d - '0');
    }
    return port >= 1 && port <= 65535;
}

/** A finished request, borrowed for the duration of the done callback. */
typedef struct at_http_resp {
    int status; /**< HTTP status, or 0 when no response arrived */
    int err;    /**< AT_OK, or AT_EIO / AT_ETIMEDOUT / AT_ERANGE (body over the cap) / AT_ESTATE
                   (cancelled) */
    const char *error; /**< human-readable transport error, or NULL */
    const char *body;  /**< NUL-terminated response body (len bytes) */
    size_t len;
    int attempts;               /**< 1 + retries made */
    int64_t elapsed_us;         /**< last attempt's duration */
    const char *const *headers; /**< response header lines "Name: value" */
    size_t nheaders;
} at_http_resp;

/** Called once per request on the main loop, whatever the outcome. */
typedef void (*at_http_done_cb)(void *arg, const at_http_resp *resp);

/* -------------------------------------------------------- WebSocket client */

/** Opaque WebSocket connection. */
typedef struct at_ws at_ws;

/** Callbacks of a client WebSocket; all run on the main loop. */
typedef struct at_ws_cbs {
    /** The connection is open and can send. */
    void (*on_open)(void *arg, at_ws *ws);
    /** A complete message arrived; `data` is borrowed (NUL-terminated, len bytes). */
    void (*on_message)(void *arg, at_ws *ws, const char *data, size_t len, bool binary);
    /**
     * The connection failed or closed (code 0 when it never opened). After this
     * returns the handle is freed; do not use it again.
     */
    void (*on_close)(void *arg, at_ws *ws, int code, const char *reason);
} at_ws_cbs;

/* ---------------------------------------------------- HTTP + WS server */

/** Opaque server, client connection and pending-request handles. */
typedef struct at_httpd at_httpd;
typedef struct at_httpd_conn at_httpd_conn;

/** An incoming HTTP request, borrowed for the on_request call. */
typedef struct at_httpd_req {
    uint64_t id;               /**< pass to httpd_respond() */
    const char *method;        /**< "GET", "POST" … */
    const char *path;          /**< URL path, %-escapes already decoded (do not decode again) */
    const char *query;         /**< after '?', or "": decode each name and value once */
    const char *authorization; /**< Authorization header, or "" */
    const char *content_type;  /**< or "" */
    const char *body;          /**< NUL-terminated; "" when none */
    size_t body_len;
    const char *peer; /**< client address */

    /* ---- added in ABI 1.5 (filled by the engine; a plugin built before
     * reads only the fields above) ---- */

    const char *origin; /**< Origin header, or "" (see aitrader/origin.h) */
    const char *host;   /**< Host header, or "" */
} at_httpd_req;

/** Server options; pointers are borrowed. */
typedef struct at_httpd_opts {
    const char *listen;     /**< address to bind; NULL = "127.0.0.1" */
    int port;               /**< 0 = pick a free port (see httpd_port) */
    const char *static_dir; /**< files served for GET paths no handler took, or NULL */
    const char *ws_path;    /**< path that upgrades to WebSocket, e.g. "/ws"; NULL = none */
    size_t max_body;        /**< request body cap; 0 = 1 MiB. A request whose Content-Length
                                 is over it is answered 413 from its headers (the body
                                 drained, never kept, then the connection closed) */

    /* ---- added in ABI 1.5 (the engine reads it only from plugins built with
     * ABI 1.5 or later: at_httpd_opts has no size field) ---- */

    /**
     * Origins allowed to open ws_path (a NULL-terminated list, copied; NULL =
     * no check): a handshake whose Origin at_origin_allowed()
     * (aitrader/origin.h) refuses with this list is answered 403 and never
     * reaches on_ws_open. An empty list still allows the server's own page.
     */
    const char *const *ws_origins;
} at_httpd_opts;

/** Server callbacks; all run on the main loop. */
typedef struct at_httpd_cbs {
    /**
     * A request for a path not served from static_dir (or any non-GET). The
     * handler must eventually call httpd_respond() with req->id exactly once
     * (it may do so later, after async work).
     */
    void (*on_request)(void *arg, at_httpd *srv, const at_httpd_req *req);
    /** A WebSocket client connected at ws_path. */
    void (*on_ws_open)(void *arg, at_httpd *srv, at_httpd_conn *conn);
    /** A WebSocket message arrived (borrowed). */
    void (*on_ws_message)(void *arg, at_httpd *srv, at_httpd_conn *conn, const char *data,
                          size_t len);
    /** A WebSocket client left; conn is invalid after this returns. */
    void (*on_ws_close)(void *arg, at_httpd *srv, at_httpd_conn *conn);
} at_httpd_cbs;

/* ----------------------------------------------------------------- storage */

/** Types of storage parameters and column values. */
typedef enum at_db_type {
    AT_DB_NULL = 0,
    AT_DB_INT,  /**< i */
    AT_DB_REAL, /**< r */
    AT_DB_TEXT, /**< s (NUL-terminated) */
    AT_DB_DEC,  /**< d: stored exactly (TEXT in SQLite, NUMERIC in PostgreSQL) */
    AT_DB_BOOL, /**< b: stored as 0/1 in SQLite, boolean in PostgreSQL */
} at_db_type;

/** A parameter or column value. Strings are borrowed. */
typedef struct at_db_value {
    at_db_type type;
    union {
        int64_t i;
        double r;
        const char *s;
        at_dec d;
        bool b;
    } u;
} at_db_value;

/** Convenience initialisers for parameter arrays (C compound literals; a C++
 * plugin sets the fields of an at_db_value instead, or uses at_db_text). */
#define AT_DB_I(v) ((at_db_value){.type = AT_DB_INT, .u.i = (v)})
#define AT_DB_R(v) ((at_db_value){.type = AT_DB_REAL, .u.r = (v)})
/** Text, or NULL as SQL NULL (a function, so char arrays work without -Waddress noise). */
static inline at_db_value at_db_text(const char *s)
{
    at_db_value v;
    v.type = s ? AT_DB_TEXT : AT_DB_NULL; /* assignments: valid C and C++ alike */
    v.u.s = s;
    return v;
}
#define AT_DB_S(v) at_db_text(v)
#define AT_DB_D(v) ((at_db_value){.type = AT_DB_DEC, .u.d = (v)})
#define AT_DB_B(v) ((at_db_value){.type = AT_DB_BOOL, .u.b = (v)})
#define AT_DB_N ((at_db_value){.type = AT_DB_NULL})

/**
 * One result row, borrowed for the row callback. Column values come back as
 * AT_DB_NULL, AT_DB_INT, AT_DB_REAL or AT_DB_TEXT (decimals as text).
 */
typedef struct at_db_row {
    size_t ncols;
    const char *const *names;
    const at_db_value *cols;
} at_db_row;

/** Row callback: return 0 to continue, non-zero to stop reading rows. */
typedef int (*at_db_row_cb)(void *arg, const at_db_row *row);
/**
 * Completion callback: err is AT_OK or a negative code; `error` (borrowed) is
 * the backend's message. For writes it fires when the write is durable in the
 * primary storage (committed), or failed for good.
 */
typedef void (*at_db_done_cb)(void *arg, int err, const char *error);

/* ----------------------------------------------------------------- metrics */

/** Opaque metric handle; lives until the engine exits. */
typedef struct at_metric at_metric;

/** Metric kinds. */
typedef enum at_metric_kind {
    AT_METRIC_COUNTER = 0,
    AT_METRIC_GAUGE,
    AT_METRIC_HISTOGRAM,
} at_metric_kind;

/* -------------------------------------------------------------- the table */

/**
 * The services table. Every field declared here is present: the engine
 * refuses a plugin built against a newer ABI minor than its own, so a plugin
 * never needs to check `struct_size` or `abi_minor` before calling a function
 * of the headers it was built with (version.h states the rule). They are
 * there for diagnostics (logging which engine runs the plugin).
 *
 * Handles (at_timer, at_fdwatch) are opaque values checked by generation,
 * not pointers to engine memory: using one after its object is gone is a
 * harmless no-op, never a use after free.
 */
typedef struct at_host {
    uint32_t struct_size; /**< sizeof(at_host) in the engine */
    uint16_t abi_major;   /**< AT_ABI_MAJOR of the engine */
    uint16_t abi_minor;   /**< AT_ABI_MINOR of the engine */

    /* ---- identity and logging ---- */

    /** The instance's full name, "kind.instance" (engine-owned). */
    const char *(*instance_name)(const at_instance *inst);
    /**
     * Log a line prefixed with the instance name. Known secret values are
     * replaced with "***" before the line is written. Any thread.
     */
    void (*log)(const at_instance *inst, at_log_level level, const char *fmt, ...) AT_PRINTF(3, 4);
    /** Whether a line at `level` would be written (to skip costly formatting). Any thread. */
    bool (*log_enabled)(at_log_level level);
    /**
     * Report the instance's state (shown by /api/health, published as
     * AT_EV_STATUS). `detail` is borrowed (copied), may be NULL.
     */
    void (*set_state)(at_instance *inst, at_state state, const char *detail);
    /**
     * A core setting from [core]: "data_dir", "sql_dir", "mode", "plugin_dir",
     * "log_level". Engine-owned string, or NULL when unknown.
     */
    const char *(*core_get)(const char *key);
    /**
     * Ask the engine to stop (as on SIGTERM) and exit with `exit_code`: a plugin
     * that cannot go on (lost storage for good, a fatal venue error) says so here
     * after logging why. Returns at once; the stop happens on the loop.
     */
    void (*request_stop)(at_instance *inst, int exit_code);

    /* ---- bus ---- */

    /**
     * Allocate a zeroed event of `type` with `extra` bytes of string space after
     * the payload (see event_strdup). The header is filled (type, version, size,
     * ts_us, source). The caller owns one reference until publish().
     * Returns NULL on an unknown type or allocation failure. Any thread.
     */
    at_event *(*event_new)(at_instance *inst, at_event_type type, size_t extra);
    /**
     * Copy `s` into the event's extra space and return the copy (to store in a
     * `const char *` payload field), or NULL if the space is exhausted or s is NULL.
     * Only before publish. Any thread.
     */
    const char *(*event_strdup)(at_event *ev, const char *s);
    /**
     * Publish: the reference is transferred to the bus. Delivery is deferred
     * (FIFO, never re-entrant). Any thread: from another thread the event goes
     * through a mailbox and is delivered on the main loop. Returns AT_OK.
     */
    int (*publish)(at_instance *inst, at_event *ev, uint32_t flags);
    /**
     * Subscribe to a type (AT_EV_NONE = every type). Returns a subscription id
     * (> 0) or a negative error. Callbacks run on the main loop in
     * subscription order for each event.
     */
    int (*subscribe)(at_instance *inst, at_event_type type, at_event_cb cb, void *arg);
    /** Remove a subscription; safe from inside a callback. */
    void (*unsubscribe)(at_instance *inst, int sub_id);
    /** Take a reference on a delivered event (to keep it past the callback). */
    void (*event_retain)(const at_event *ev);
    /** Drop a reference taken with event_retain or event_new. */
    void (*event_release)(const at_event *ev);

    /* ---- time ---- */

    /** Core clock, microseconds since the epoch (simulated in backtest/replay). Any thread. */
    int64_t (*now_us)(void);
    /**
     * Run cb after `after_ms` of core-clock time, then every `repeat_ms` if
     * repeat_ms > 0. Returns a handle, or NULL on bad arguments or no memory.
     * Lifetime: a timer lives until timer_cancel(), until it has fired (a
     * one-shot), or until its instance's stop() returns (the engine cancels
     * every timer of an instance then). The handle is checked by generation,
     * so it may outlive the timer: see timer_cancel.
     */
    at_timer *(*timer_add)(at_instance *inst, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                           void *arg);
    /**
     * Cancel a timer. Idempotent: a handle whose timer already fired, was
     * cancelled, or went with its instance's stop is ignored (so cancelling
     * in destroy(), or twice, is safe; NULL is ignored too). From inside the
     * timer's own callback it stops further repeats.
     */
    void (*timer_cancel)(at_timer *t);

    /* ---- loop services (for plugins with their own sockets or threads) ---- */

    /**
     * Watch `fd` (borrowed; the plugin closes it) for the readiness in `what`
     * (AT_FD_READ | AT_FD_WRITE); cb runs on the loop each time it is ready
     * until fd_unwatch, or until the instance is destroyed (a watch left open
     * then is closed with a warning). Returns a generation-checked handle, or
     * NULL on failure.
     */
    at_fdwatch *(*fd_watch)(at_instance *inst, int fd, unsigned what, at_fd_cb cb, void *arg);
    /** Change the readiness a watch waits for (0 = pause). AT_ENOENT for a gone watch. */
    int (*fd_modify)(at_fdwatch *w, unsigned what);
    /** Stop watching and free the watch. Idempotent, like timer_cancel. */
    void (*fd_unwatch)(at_fdwatch *w);
    /**
     * Run fn(arg) on the main loop soon, in call order. Any thread: this is how
     * a plugin's worker thread hands results back. Returns AT_OK, or AT_ESTATE
     * once the engine has stopped its loop (fn is then not called).
     */
    int (*run_on_loop)(at_instance *inst, at_loop_fn fn, void *arg);

    /* ---- HTTP client (curl multi on the loop) ---- */

    /**
     * Start a request; `done` is always called exactly once, later, on the loop
     * (never from inside this call). Returns a request id (> 0) for
     * http_cancel, or a negative error (and then done is not called).
     */
    int64_t (*http_request)(at_instance *inst, const at_http_req *req, at_http_done_cb done,
                            void *arg);
    /** Cancel a pending request: done is called with err = AT_ESTATE. */
    void (*http_cancel)(int64_t req_id);

    /* ---- WebSocket client (net thread) ---- */

    /**
     * Open a client WebSocket to a ws:// or wss:// URL. Callbacks run on the
     * loop. Returns NULL on a malformed URL. `cbs` is copied.
     */
    at_ws *(*ws_open)(at_instance *inst, const char *url, const at_ws_cbs *cbs, void *arg);
    /** Queue a text message (copied). AT_ESTATE when not open. */
    int (*ws_send)(at_ws *ws, const char *data, size_t len);
    /**
     * Close. No callback is made for this handle once ws_close returns (not
     * even on_close), so the plugin may free what `arg` points at right away.
     * Safe from inside on_close (then a no-op).
     */
    void (*ws_close)(at_ws *ws);

    /* ---- HTTP + WebSocket server (net thread) ---- */

    /** Start a server; NULL on failure (port in use …, logged). `opts`, `cbs` copied. */
    at_httpd *(*httpd_start)(at_instance *inst, const at_httpd_opts *opts, const at_httpd_cbs *cbs,
                             void *arg);
    /** The bound port (useful with port 0). */
    int (*httpd_port)(const at_httpd *srv);
    /**
     * Answer request `req_id` (body copied). `headers` are extra "Name: value"
     * lines (borrowed). Returns AT_ENOENT if the client went away.
     */
    int (*httpd_respond)(at_httpd *srv, uint64_t req_id, int status, const char *content_type,
                         const char *const *headers, size_t nheaders, const char *body, size_t len);
    /** Send a text message to one WebSocket client (copied). */
    int (*httpd_ws_send)(at_httpd_conn *conn, const char *data, size_t len);
    /** Send a text message to every WebSocket client of srv (copied). */
    void (*httpd_ws_broadcast)(at_httpd *srv, const char *data, size_t len);
    /** Stop the server and free it. */
    void (*httpd_stop)(at_httpd *srv);

    /* ---- storage facade ---- */

    /**
     * Queue a write (INSERT/UPDATE/upsert SQL valid in both SQLite and
     * PostgreSQL, parameters as $1..$n). Writes go to every enabled storage
     * instance in order; `done` (may be NULL) fires once the primary storage
     * committed it. Writes are never dropped: a backend that is down queues and
     * journals them. `sql` and params are copied.
     */
    int (*db_write)(at_instance *inst, const char *sql, const at_db_value *params, size_t n,
                    at_db_done_cb done, void *arg);
    /**
     * Run a read on the primary storage. `row` is called per row, then `done`
     * exactly once. Sees every write queued before it.
     */
    int (*db_query)(at_instance *inst, const char *sql, const at_db_value *params, size_t n,
                    at_db_row_cb row, at_db_done_cb done, void *arg);

    /* ---- metrics ---- */

    /**
     * Get or create a metric labelled with the instance name. `name` is a
     * Prometheus name ("aitrader_okx_ws_messages_total"); `help` one line.
     * Histograms use the default latency buckets (microseconds). Retained for
     * the engine's life; NULL on a kind clash with an existing name.
     */
    at_metric *(*metric)(at_instance *inst, at_metric_kind kind, const char *name,
                         const char *help);
    /** Counter += v, gauge = v, histogram observe v. */
    void (*metric_add)(at_metric *m, double v);
    void (*metric_set)(at_metric *m, double v);
    void (*metric_observe)(at_metric *m, double v);

    /* ---- instruments ---- */

    /**
     * Intern an instrument id ("BTC-USDT-SWAP"); same string, same id. A valid
     * id is 1 to 63 printable ASCII characters without blanks (0x21..0x7e);
     * anything else (or no memory) gives 0. Any thread.
     */
    at_inst (*inst_intern)(const char *name);
    /** The string of an interned id, or NULL. Any thread. */
    const char *(*inst_name)(at_inst id);

    /* ---- exact decimals (pure functions, any thread) ---- */

    /**
     * Parse a decimal ("123", "-0.001", "1e-8", "1.5E3"). Rejects empty input,
     * junk, more than AT_DEC_MAX_SCALE fractional digits after normalisation or
     * a value that does not fit (AT_EINVAL / AT_ERANGE). `len` bytes or, with
     * len = (size_t)-1, up to the NUL.
     */
    int (*dec_parse)(const char *s, size_t len, at_dec *out);
    /** Format exactly, without exponent and without trailing zeros ("0.1", "42"). Returns length.
     */
    int (*dec_format)(at_dec d, char out[AT_DEC_STRLEN]);
    /** Compare: <0, 0, >0. */
    int (*dec_cmp)(at_dec a, at_dec b);
    /** Exact a + b, a - b, a * b (AT_ERANGE on overflow). */
    int (*dec_add)(at_dec a, at_dec b, at_dec *out);
    int (*dec_sub)(at_dec a, at_dec b, at_dec *out);
    int (*dec_mul)(at_dec a, at_dec b, at_dec *out);
    /** a / b rounded to `scale` digits with mode (AT_EINVAL when b is 0). */
    int (*dec_div)(at_dec a, at_dec b, int scale, at_round mode, at_dec *out);
    /**
     * Round `a` to a multiple of `step` (> 0) with mode: lot sizes use
     * AT_ROUND_DOWN, tick prices the mode the caller needs. The result has
     * step's scale.
     */
    int (*dec_round_step)(at_dec a, at_dec step, at_round mode, at_dec *out);
    /** Nearest decimal with at most `scale` digits (half-even); AT_ERANGE for NaN/inf/huge. */
    int (*dec_from_double)(double v, int scale, at_dec *out);
    /** Closest double (analytics only). */
    double (*dec_to_double)(at_dec d);

    /* ---- secrets ---- */

    /**
     * Register a runtime secret (a token received or generated) so that logs
     * redact it. The string is copied. Any thread.
     */
    void (*secret_add)(const char *value);

    /* ---- added in ABI 1.1 ---- */

    /** a * b rounded to at most `scale` digits with mode (fees, notionals); exact when it fits. */
    int (*dec_mul_round)(at_dec a, at_dec b, int scale, at_round mode, at_dec *out);
    /**
     * Every metric and the bus counters (published, delivered, coalesced per
     * type and per instance) in Prometheus text format. Transferred: the
     * caller frees it. NULL on allocation failure. Main loop.
     */
    char *(*metrics_text)(void);

    /* ---- added in ABI 1.3 ---- */

    /**
     * ws_open through a given proxy: `proxy` as at_http_req.proxy (NULL = the
     * engine's, "" or "none" = direct, "http://[user:password@]host:port" =
     * a CONNECT tunnel through that proxy, for ws:// and wss:// alike).
     * NULL on a malformed URL or proxy (logged). `cbs` is copied; the
     * handle is used and closed like ws_open's.
     */
    at_ws *(*ws_open_proxy)(at_instance *inst, const char *url, const char *proxy,
                            const at_ws_cbs *cbs, void *arg);

    /* ---- added in ABI 1.5 ---- */

    /**
     * The engine's own control API (what the dashboard shows and changes
     * about the engine rather than the market): `method` with `params` (a
     * JSON object as text, or NULL) answers AT_OK and a JSON text in
     * *result, or a negative code and {"code": "...", "message": "..."} in
     * *result (AT_ENOENT: unknown method or target; AT_EINVAL: bad params;
     * AT_ESTATE: not now; AT_EIO: a file it writes could not be written).
     * *result is transferred (free it); NULL only on
     * AT_ENOMEM. Main loop. Methods are listed in README ("Engine control
     * API"): health, traders, trader.run, trader.pause, trader.resume,
     * kill_switch.get, kill_switch.set …; a method's answer only gains keys.
     */
    int (*engine_call)(at_instance *inst, const char *method, const char *params, char **result);

    /* ---- added in ABI 1.6 ---- */

    /**
     * Run cb once when the core clock reaches `at_us` (microseconds since
     * the epoch, as now_us), to the microsecond where timer_add counts
     * milliseconds. Timers fire in deadline order, ties in creation order,
     * timer_add's and timer_at's alike; an `at_us` already past (or now)
     * fires as soon as possible, after the timers due now (never ahead of
     * them). On the simulated clock (backtest, replay) the callback sees
     * now_us() == at_us exactly; on the real clock it runs when the loop
     * gets there (at or after at_us). Returns a handle, or NULL on a NULL
     * cb, a negative at_us or no memory. Lifetime as a one-shot timer_add:
     * until it has fired, timer_cancel() (idempotent, the same handle rules),
     * or its instance's stop() returns. Main loop.
     */
    at_timer *(*timer_at)(at_instance *inst, int64_t at_us, at_timer_cb cb, void *arg);

    /* ---- added in ABI 1.7 ---- */

    /**
     * Ask the AI provider instance `ai` ("ai.qwen": an [ai.*] section)
     * something other than a trader's decision — a news item's score, a
     * summary. `req` as a trader's (struct at_ai_request, plugin.h; its
     * `trader` names the asker, the caller's instance name when NULL; its
     * json_schema the answer's format), borrowed for the call. `done` runs
     * exactly once, later, on the loop, with the provider's answer (struct
     * at_ai_reply, borrowed) — unless ai_cancel() was called first. Returns
     * a call id (> 0) for ai_cancel, or a negative error and then done never
     * runs: AT_ENOENT (no [ai.*] instance of that name), AT_ESTATE (it is
     * not running, or the engine replays a recording: no AI is asked),
     * AT_EINVAL, AT_ENOMEM, or the provider's refusal. Main loop.
     */
    int64_t (*ai_request)(at_instance *inst, const char *ai, const struct at_ai_request *req,
                          void (*done)(void *arg, const struct at_ai_reply *reply), void *arg);
    /**
     * Cancel a call of ai_request: its done is never called after this
     * returns (the provider is told when it can be). Idempotent; an id
     * already answered is ignored. A plugin cancels its calls in stop().
     */
    void (*ai_cancel)(int64_t call_id);
} at_host;

#ifdef __cplusplus
}
#endif

#endif

/* Faults on demand: later reliability tests of the engine rely on these. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

const char fault_help[] =
    "  ws-drop=N          drop every WebSocket connection every N seconds\n"
    "  rest-429=RATE      answer a fraction RATE (0..1) of REST requests 429 / 50011\n"
    "  rest-5xx=RATE      answer a fraction RATE of REST requests 503 / 50001\n"
    "  latency=MS         hold every REST answer MS milliseconds (the request is acted on at "
    "once)\n"
    "  reject-next=CODE[:MSG]  reject the next order with sCode CODE (e.g. 51008)\n"
    "  clock-skew=MS      run the server clock MS ms ahead (negative: behind)\n"
    "  ws-mute=1          private WebSocket channels push nothing (0 to resume)\n"
    "  keep-algos=1       a position that closes leaves its attached TP/SL and\n"
    "                     cxlOnClosePos algos live, as users report OKX doing (0 to resume)\n"
    "  none               clear every fault\n";

static int num(const char *v, double lo, double hi, double *out, char *err, size_t errlen,
               const char *key)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end || d < lo || d > hi) {
        snprintf(err, errlen, "fault %s: '%s' is not a number in [%g, %g]", key, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

int fault_parse(sim_faults *f, const char *spec, char *err, size_t errlen)
{
    if (strcmp(spec, "none") == 0) {
        memset(f, 0, sizeof(*f));
        return 0;
    }
    const char *eq = strchr(spec, '=');
    if (!eq) {
        snprintf(err, errlen, "fault '%s': expected NAME=VALUE (see --help)", spec);
        return -1;
    }
    char key[32];
    size_t kl = (size_t)(eq - spec);
    if (kl >= sizeof(key)) {
        snprintf(err, errlen, "fault '%s': unknown fault", spec);
        return -1;
    }
    memcpy(key, spec, kl);
    key[kl] = '\0';
    const char *v = eq + 1;
    double d;
    if (strcmp(key, "ws-drop") == 0) {
        if (num(v, 0, 86400, &d, err, errlen, key)) {
            return -1;
        }
        f->ws_drop_s = (int)d;
    } else if (strcmp(key, "rest-429") == 0) {
        if (num(v, 0, 1, &d, err, errlen, key)) {
            return -1;
        }
        f->rest_429_rate = d;
    } else if (strcmp(key, "rest-5xx") == 0) {
        if (num(v, 0, 1, &d, err, errlen, key)) {
            return -1;
        }
        f->rest_5xx_rate = d;
    } else if (strcmp(key, "latency") == 0) {
        if (num(v, 0, 60000, &d, err, errlen, key)) {
            return -1;
        }
        f->latency_ms = (int)d;
    } else if (strcmp(key, "clock-skew") == 0) {
        if (num(v, -86400000.0, 86400000.0, &d, err, errlen, key)) {
            return -1;
        }
        f->clock_skew_ms = (int64_t)d;
    } else if (strcmp(key, "ws-mute") == 0) {
        if (num(v, 0, 1, &d, err, errlen, key)) {
            return -1;
        }
        f->ws_mute = d != 0;
    } else if (strcmp(key, "keep-algos") == 0) {
        if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
            snprintf(err, errlen, "fault keep-algos: '%s' is not 1 (on) or 0 (off)", v);
            return -1;
        }
        f->keep_algos = v[0] == '1';
    } else if (strcmp(key, "reject-next") == 0) {
        char *end = NULL;
        long code = strtol(v, &end, 10);
        if (end == v || (*end && *end != ':') || code < 1 || code > 99999) {
            snprintf(err, errlen, "fault reject-next: '%s' is not CODE[:MSG]", v);
            return -1;
        }
        f->reject_code = (int)code;
        snprintf(f->reject_msg, sizeof(f->reject_msg), "%s",
                 *end == ':' ? end + 1 : "Order rejected by okx-sim fault injection");
    } else {
        snprintf(err, errlen, "fault '%s': unknown fault (see --help)", key);
        return -1;
    }
    return 0;
}

/* Driving an engine on the simulated clock from the outside (tests,
 * benchmarks, and later the backtest command): nothing waits on wall time
 * but the storage thread's answers. */
#include <event2/event.h>

#include "bus.h"
#include "clock.h"
#include "engine.h"
#include "loopsvc.h"
#include "util.h"

void engine_pump(engine *e)
{
    /* A few rounds: a delivery may queue work (timers due, storage answers)
     * whose callbacks publish again. */
    for (int i = 0; i < 4; i++) {
        bus_drain(SIZE_MAX);
        loopsvc_run_pending();
        event_base_loop(engine_base(e), EVLOOP_NONBLOCK);
    }
    bus_drain(SIZE_MAX);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

bool engine_wait(engine *e, bool (*done)(void *arg), void *arg, int64_t timeout_us)
{
    /* A 2 ms wall-clock tick bounds each blocking turn: a worker thread's
     * answer wakes the loop, but the condition may depend on several. */
    struct event *tick = event_new(engine_base(e), -1, EV_PERSIST, on_wake, NULL);
    struct timeval tv = {0, 2000};
    if (!tick || event_add(tick, &tv) != 0) {
        if (tick) {
            event_free(tick);
        }
        return false;
    }
    int64_t end = at_mono_us() + timeout_us;
    bool ok;
    while (!(ok = done(arg)) && at_mono_us() < end) {
        event_base_loop(engine_base(e), EVLOOP_ONCE);
        engine_pump(e);
    }
    event_free(tick);
    return ok;
}

int engine_advance(engine *e, int64_t to_us, int64_t step_us)
{
    if (step_us <= 0) {
        step_us = to_us - clock_now_us();
    }
    while (clock_now_us() < to_us) {
        int64_t t = clock_now_us() + step_us < to_us ? clock_now_us() + step_us : to_us;
        int rc = clock_advance(t);
        if (rc != AT_OK) {
            return rc;
        }
        engine_pump(e);
    }
    engine_pump(e);
    return AT_OK;
}

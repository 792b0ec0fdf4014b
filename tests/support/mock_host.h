/* A fake host table for unit tests that drive one plugin (.so) on its own:
 * engine_host()'s pure functions (decimals, instrument ids, db values) with
 * the rest replaced by fakes the test drives and reads:
 *
 *   - a manual clock: MH.now_us, set by the test or moved by mock_advance;
 *   - log lines captured (mock_logged; AT_TEST_VERBOSE=1 prints them);
 *   - subscriptions, handed an event by mock_deliver;
 *   - events the plugin publishes, kept in order (mock_count, mock_event,
 *     mock_alerts) until mock_clear;
 *   - timers fired only by the test: mock_advance (each at its time) or
 *     mock_turn (one loop turn);
 *   - events (the plugin's and those the test makes with event_new) with a
 *     reference count, so a plugin may retain what it is handed.
 *
 * Storage is the test's: db_write and db_query refuse (AT_ESTATE) until it
 * sets its own in MH.host; metrics go nowhere unless it does the same.
 *
 *   mock_host_init("risk.limits", T0_US);
 *   MH.host.db_query = my_query;
 *   const at_plugin *p = mock_plugin_open("risk_limits", &dl);
 *   p->init(inst, &MH.host, ctx);
 *
 * One mock host per program: the host table has no user pointer. */
#ifndef AT_TEST_MOCK_HOST_H
#define AT_TEST_MOCK_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aitrader/plugin.h>

#define MH_MAX 4096

typedef struct mh_timer {
    int64_t due_us, repeat_ms;
    at_timer_cb cb;
    void *arg;
    bool live; /* not yet fired (one-shot) and not cancelled */
} mh_timer;

typedef struct mock_host {
    at_host host;
    int64_t now_us;
    char name[64];      /* instance_name's answer, the source of its events */
    char data_dir[256]; /* core_get("data_dir"); other keys are NULL */
    char state[256];    /* the last set_state: "<state> <detail>" */
    char logs[MH_MAX][512];
    at_log_level log_level[MH_MAX];
    size_t nlogs;
    at_event *events[MH_MAX]; /* published, in order; each holds a reference */
    size_t nevents;
    mh_timer timers[MH_MAX]; /* never reused before mock_host_init: handles stay valid */
    size_t ntimers;
    struct {
        at_event_type type;
        at_event_cb cb;
        void *arg;
    } subs[64];
    int nsubs;
} mock_host;

extern mock_host MH;

/* A fresh mock (events released, timers, subscriptions and logs gone) named
 * `name`, its clock at now_us. */
void mock_host_init(const char *name, int64_t now_us);

/* Move the clock by ms, firing every timer due on the way at its time (those
 * they add too; a repeating one again at each period); the clock ends ms
 * later. */
void mock_advance(int64_t ms);
/* One loop turn: the timers armed before it and due now, in the order armed. */
void mock_turn(void);

/* Hand an event to the subscriptions of its type. */
void mock_deliver(const at_event *e);

/* Forget the published events (released) and log lines; timers and
 * subscriptions stay. */
void mock_clear(void);
/* Published events of a type; the nth of them (or NULL). */
size_t mock_count(at_event_type type);
const at_event *mock_event(at_event_type type, size_t nth);
/* Published ALERTs whose message holds `needle`. */
size_t mock_alerts(const char *needle);
/* Log lines (any level) that hold `needle`. */
size_t mock_logged(const char *needle);

/* The build tree's plugins/<name>.so, opened: its table (NULL when it cannot
 * be loaded, said on stderr); *dl for dlclose. */
const at_plugin *mock_plugin_open(const char *name, void **dl);

#endif

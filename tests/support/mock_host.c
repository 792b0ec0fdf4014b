#include "mock_host.h"

#include <dlfcn.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define MH_PAYLOAD 4096 /* larger than any event struct */

mock_host MH;

/* An event: its references, then the struct, then `extra` bytes. */
typedef struct mh_ev {
    int refs;
    size_t extra, used;
    alignas(max_align_t) unsigned char payload[];
} mh_ev;

static mh_ev *ev_box(const at_event *e)
{
    return (mh_ev *)((unsigned char *)e - offsetof(mh_ev, payload));
}

static const char *m_instance_name(const at_instance *inst)
{
    (void)inst;
    return MH.name;
}

static void m_log(const at_instance *inst, at_log_level level, const char *fmt, ...)
{
    (void)inst;
    if (MH.nlogs >= MH_MAX) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(MH.logs[MH.nlogs], sizeof(MH.logs[0]), fmt, ap);
    va_end(ap);
    if (getenv("AT_TEST_VERBOSE")) {
        fprintf(stderr, "# log %d: %s\n", (int)level, MH.logs[MH.nlogs]);
    }
    MH.log_level[MH.nlogs++] = level;
}

static void m_set_state(at_instance *inst, at_state st, const char *detail)
{
    (void)inst;
    snprintf(MH.state, sizeof(MH.state), "%d %s", (int)st, detail ? detail : "");
}

static const char *m_core_get(const char *key)
{
    return strcmp(key, "data_dir") == 0 ? MH.data_dir : NULL;
}

static at_event *m_event_new(at_instance *inst, at_event_type type, size_t extra)
{
    (void)inst;
    mh_ev *w = calloc(1, sizeof(*w) + MH_PAYLOAD + extra);
    if (!w) {
        return NULL;
    }
    w->refs = 1;
    w->extra = extra;
    at_event *e = (at_event *)w->payload;
    e->type = (uint16_t)type;
    e->ts_us = MH.now_us;
    e->source = MH.name;
    return e;
}

static const char *m_event_strdup(at_event *ev, const char *s)
{
    mh_ev *w = ev_box(ev);
    size_t n = s ? strlen(s) + 1 : 0;
    if (!s || w->used + n > w->extra) {
        return NULL;
    }
    char *d = (char *)w->payload + MH_PAYLOAD + w->used;
    memcpy(d, s, n);
    w->used += n;
    return d;
}

static void m_retain(const at_event *e)
{
    ev_box(e)->refs++;
}

static void m_release(const at_event *e)
{
    if (e && --ev_box(e)->refs == 0) {
        free(ev_box(e));
    }
}

static int m_publish(at_instance *inst, at_event *ev, uint32_t flags)
{
    (void)inst;
    (void)flags;
    if (MH.nevents < MH_MAX) {
        MH.events[MH.nevents++] = ev;
    } else {
        m_release(ev);
    }
    return AT_OK;
}

static int m_subscribe(at_instance *inst, at_event_type type, at_event_cb cb, void *arg)
{
    (void)inst;
    int max = (int)(sizeof(MH.subs) / sizeof(MH.subs[0]));
    if (MH.nsubs >= max) {
        return AT_ENOMEM;
    }
    MH.subs[MH.nsubs].type = type;
    MH.subs[MH.nsubs].cb = cb;
    MH.subs[MH.nsubs].arg = arg;
    return ++MH.nsubs;
}

static void m_unsubscribe(at_instance *inst, int id)
{
    (void)inst;
    if (id > 0 && id <= MH.nsubs) {
        MH.subs[id - 1].cb = NULL;
    }
}

static int64_t m_now_us(void)
{
    return MH.now_us;
}

static at_timer *m_timer_add(at_instance *inst, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                             void *arg)
{
    (void)inst;
    if (MH.ntimers >= MH_MAX) {
        return NULL;
    }
    mh_timer *t = &MH.timers[MH.ntimers++];
    *t = (mh_timer){MH.now_us + after_ms * 1000, repeat_ms, cb, arg, true};
    return (at_timer *)t;
}

static void m_timer_cancel(at_timer *t)
{
    if (t) {
        ((mh_timer *)t)->live = false;
    }
}

static int m_db_write(at_instance *inst, const char *sql, const at_db_value *p, size_t n,
                      at_db_done_cb done, void *arg)
{
    (void)inst;
    (void)sql;
    (void)p;
    (void)n;
    (void)done;
    (void)arg;
    return AT_ESTATE;
}

static int m_db_query(at_instance *inst, const char *sql, const at_db_value *p, size_t n,
                      at_db_row_cb row, at_db_done_cb done, void *arg)
{
    (void)row;
    return m_db_write(inst, sql, p, n, done, arg);
}

static double metric_sink;

static at_metric *m_metric(at_instance *inst, at_metric_kind kind, const char *name,
                           const char *help)
{
    (void)inst;
    (void)kind;
    (void)name;
    (void)help;
    return (at_metric *)&metric_sink;
}

static void m_metric_set(at_metric *m, double v)
{
    *(double *)m = v;
}

static void m_metric_add(at_metric *m, double v)
{
    *(double *)m += v;
}

void mock_host_init(const char *name, int64_t now_us)
{
    mock_clear();
    memset(&MH, 0, sizeof(MH));
    MH.host = *engine_host(); /* decimals, instrument ids */
    MH.host.instance_name = m_instance_name;
    MH.host.log = m_log;
    MH.host.set_state = m_set_state;
    MH.host.core_get = m_core_get;
    MH.host.event_new = m_event_new;
    MH.host.event_strdup = m_event_strdup;
    MH.host.event_retain = m_retain;
    MH.host.event_release = m_release;
    MH.host.publish = m_publish;
    MH.host.subscribe = m_subscribe;
    MH.host.unsubscribe = m_unsubscribe;
    MH.host.now_us = m_now_us;
    MH.host.timer_add = m_timer_add;
    MH.host.timer_cancel = m_timer_cancel;
    MH.host.timer_at = NULL; /* the engine's would bypass the mock's timers */
    MH.host.db_write = m_db_write;
    MH.host.db_query = m_db_query;
    MH.host.metric = m_metric;
    MH.host.metric_add = m_metric_add;
    MH.host.metric_set = m_metric_set;
    MH.host.metric_observe = m_metric_set;
    snprintf(MH.name, sizeof(MH.name), "%s", name);
    MH.now_us = now_us;
}

static void fire(mh_timer *t)
{
    if (t->repeat_ms > 0) {
        t->due_us += t->repeat_ms * 1000;
    } else {
        t->live = false;
    }
    t->cb(t->arg);
}

void mock_advance(int64_t ms)
{
    int64_t end = MH.now_us + ms * 1000;
    for (;;) {
        mh_timer *next = NULL;
        for (size_t i = 0; i < MH.ntimers; i++) {
            mh_timer *t = &MH.timers[i];
            if (t->live && t->due_us <= end && (!next || t->due_us < next->due_us)) {
                next = t;
            }
        }
        if (!next) {
            break;
        }
        if (next->due_us > MH.now_us) {
            MH.now_us = next->due_us;
        }
        fire(next);
    }
    MH.now_us = end;
}

void mock_turn(void)
{
    size_t n = MH.ntimers;
    for (size_t i = 0; i < n; i++) {
        if (MH.timers[i].live && MH.timers[i].due_us <= MH.now_us) {
            fire(&MH.timers[i]);
        }
    }
}

void mock_deliver(const at_event *e)
{
    for (int i = 0; i < MH.nsubs; i++) {
        if (MH.subs[i].cb && MH.subs[i].type == e->type) {
            MH.subs[i].cb(MH.subs[i].arg, e);
        }
    }
}

void mock_clear(void)
{
    for (size_t i = 0; i < MH.nevents; i++) {
        m_release(MH.events[i]);
    }
    MH.nevents = 0;
    MH.nlogs = 0;
}

size_t mock_count(at_event_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < MH.nevents; i++) {
        n += MH.events[i]->type == type;
    }
    return n;
}

const at_event *mock_event(at_event_type type, size_t nth)
{
    for (size_t i = 0; i < MH.nevents; i++) {
        if (MH.events[i]->type == type && nth-- == 0) {
            return MH.events[i];
        }
    }
    return NULL;
}

size_t mock_alerts(const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < MH.nevents; i++) {
        const at_ev_alert *a = (const at_ev_alert *)MH.events[i];
        n += a->h.type == AT_EV_ALERT && a->message && strstr(a->message, needle);
    }
    return n;
}

size_t mock_logged(const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < MH.nlogs; i++) {
        n += strstr(MH.logs[i], needle) != NULL;
    }
    return n;
}

const at_plugin *mock_plugin_open(const char *name, void **dl)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/plugins/%s.so", AT_TEST_BINARY_DIR, name);
    *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!*dl) {
        fprintf(stderr, "%s\n", dlerror());
        return NULL;
    }
    union { /* dlsym returns a data pointer: converted through a union, as the loader does */
        void *obj;
        at_plugin_entry_fn fn;
    } entry;
    entry.obj = dlsym(*dl, AT_PLUGIN_ENTRY_SYMBOL);
    return entry.obj ? entry.fn() : NULL;
}

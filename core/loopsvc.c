#include "loopsvc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "handle.h"
#include "log.h"

typedef struct call {
    struct call *next;
    const void *owner;
    at_loop_fn fn;
    void *arg;
} call;

/* Plugins hold a generation-checked handle (handle.h), never this memory. */
typedef struct fdw {
    struct event *ev;
    int fd;
    unsigned what;
    at_fd_cb cb;
    void *arg;
    const void *owner;
    struct fdw *prev, *next;
    void *handle;
} fdw;

static struct {
    struct event_base *base;
    struct event *ev;
    pthread_mutex_t lock;
    call *head, *tail;
    bool closed;
    fdw *watches;
    handle_table handles;
} ls = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void fdw_free(fdw *w);

static void on_calls(evutil_socket_t fd, short what, void *arg)
{
    loopsvc_run_pending();
}

int loopsvc_init(struct event_base *base)
{
    ls.base = base;
    ls.closed = false;
    ls.ev = event_new(base, -1, 0, on_calls, NULL);
    return ls.ev ? AT_OK : AT_ENOMEM;
}

int loopsvc_run(const void *owner, at_loop_fn fn, void *arg)
{
    if (!fn) {
        return AT_EINVAL;
    }
    call *c = malloc(sizeof(*c));
    if (!c) {
        return AT_ENOMEM;
    }
    *c = (call){.owner = owner, .fn = fn, .arg = arg};
    pthread_mutex_lock(&ls.lock);
    if (ls.closed || !ls.ev) {
        pthread_mutex_unlock(&ls.lock);
        free(c);
        return AT_ESTATE;
    }
    if (ls.tail) {
        ls.tail->next = c;
    } else {
        ls.head = c;
    }
    ls.tail = c;
    event_active(ls.ev, EV_READ, 0);
    pthread_mutex_unlock(&ls.lock);
    return AT_OK;
}

void loopsvc_run_pending(void)
{
    for (;;) {
        pthread_mutex_lock(&ls.lock);
        call *c = ls.head;
        if (c) {
            ls.head = c->next;
            if (!ls.head) {
                ls.tail = NULL;
            }
        }
        pthread_mutex_unlock(&ls.lock);
        if (!c) {
            return;
        }
        c->fn(c->arg);
        free(c);
    }
}

void loopsvc_close(void)
{
    pthread_mutex_lock(&ls.lock);
    ls.closed = true;
    pthread_mutex_unlock(&ls.lock);
    loopsvc_run_pending();
}

void loopsvc_drop_owner(const void *owner)
{
    pthread_mutex_lock(&ls.lock);
    call **p = &ls.head;
    ls.tail = NULL;
    while (*p) {
        if ((*p)->owner == owner) {
            call *dead = *p;
            *p = dead->next;
            free(dead);
        } else {
            ls.tail = *p;
            p = &(*p)->next;
        }
    }
    pthread_mutex_unlock(&ls.lock);
    for (fdw *w = ls.watches, *n; w; w = n) {
        n = w->next;
        if (w->owner == owner) {
            log_msg("core", AT_LOG_WARN, "fd watch %d left open by its plugin; closed", w->fd);
            fdw_free(w);
        }
    }
}

void loopsvc_shutdown(void)
{
    pthread_mutex_lock(&ls.lock);
    for (call *c = ls.head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    ls.head = ls.tail = NULL;
    ls.closed = true;
    pthread_mutex_unlock(&ls.lock);
    while (ls.watches) {
        fdw_free(ls.watches);
    }
    handle_table_free(&ls.handles);
    if (ls.ev) {
        event_free(ls.ev);
        ls.ev = NULL;
    }
    ls.base = NULL;
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
    fdw *w = arg;
    unsigned bits = ((what & EV_READ) ? AT_FD_READ : 0) | ((what & EV_WRITE) ? AT_FD_WRITE : 0);
    w->cb(w->arg, (int)fd, bits);
}

static int arm(fdw *w)
{
    short flags = EV_PERSIST | ((w->what & AT_FD_READ) ? EV_READ : 0) |
                  ((w->what & AT_FD_WRITE) ? EV_WRITE : 0);
    /* Reassign in place (hiperfifo style): safe from inside the watch's own
     * callback, where freeing the event would not be. */
    if (!w->ev) {
        w->ev = event_new(ls.base, w->fd, flags, on_fd, w);
        if (!w->ev) {
            return AT_ENOMEM;
        }
    } else {
        event_del(w->ev);
        event_assign(w->ev, ls.base, w->fd, flags, on_fd, w);
    }
    if (!(w->what & (AT_FD_READ | AT_FD_WRITE))) {
        return AT_OK;
    }
    return event_add(w->ev, NULL) == 0 ? AT_OK : AT_EIO;
}

static void fdw_free(fdw *w)
{
    if (w->ev) {
        event_del(w->ev);
        event_free(w->ev);
    }
    if (w->prev) {
        w->prev->next = w->next;
    } else if (ls.watches == w) {
        ls.watches = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    }
    handle_del(&ls.handles, w->handle);
    free(w);
}

at_fdwatch *fdwatch_new(const void *owner, int fd, unsigned what, at_fd_cb cb, void *arg)
{
    if (fd < 0 || !cb || !ls.base) {
        return NULL;
    }
    fdw *w = calloc(1, sizeof(*w));
    if (!w) {
        return NULL;
    }
    *w = (fdw){.fd = fd, .what = what, .cb = cb, .arg = arg, .owner = owner};
    if (arm(w) != AT_OK || !(w->handle = handle_put(&ls.handles, w))) {
        fdw_free(w);
        return NULL;
    }
    w->next = ls.watches;
    if (ls.watches) {
        ls.watches->prev = w;
    }
    ls.watches = w;
    return w->handle;
}

int fdwatch_modify(at_fdwatch *h, unsigned what)
{
    fdw *w = handle_get(&ls.handles, h);
    if (!w) {
        return AT_ENOENT;
    }
    w->what = what;
    return arm(w);
}

void fdwatch_free(at_fdwatch *h)
{
    fdw *w = handle_get(&ls.handles, h);
    if (w) {
        fdw_free(w);
    }
}

/* Loop services for plugins: run_on_loop (any thread -> main loop, in call
 * order) and fd watches. Both remember their owner so leftovers of a plugin
 * can be dropped when it is destroyed. */
#ifndef AT_CORE_LOOPSVC_H
#define AT_CORE_LOOPSVC_H

#include <event2/event.h>

#include <aitrader/host.h>

int loopsvc_init(struct event_base *base);
/* Any thread. AT_ESTATE after loopsvc_close(). */
int loopsvc_run(const void *owner, at_loop_fn fn, void *arg);
/* Main thread: run everything queued now (used during shutdown). */
void loopsvc_run_pending(void);
/* Refuse further run_on_loop calls, then run what is queued. */
void loopsvc_close(void);
/* Drop queued calls and fd watches of an owner (it is being destroyed). */
void loopsvc_drop_owner(const void *owner);
void loopsvc_shutdown(void);

at_fdwatch *fdwatch_new(const void *owner, int fd, unsigned what, at_fd_cb cb, void *arg);
int fdwatch_modify(at_fdwatch *w, unsigned what);
void fdwatch_free(at_fdwatch *w);

#endif

/* The core clock and timers. Real mode reads the wall clock and fires timers
 * from one libevent timer armed for the earliest deadline; simulated mode
 * (backtest, replay, tests) only moves when clock_advance() is called, firing
 * due timers in deadline order with the clock set to each deadline. The same
 * timer heap serves both, so code behaves identically live and on history. */
#ifndef AT_CORE_CLOCK_H
#define AT_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include <aitrader/host.h>

/* Real clock on `base`. */
int clock_init_real(struct event_base *base);
/* Simulated clock starting at start_us (epoch microseconds). */
int clock_init_sim(int64_t start_us);
/* Cancel all timers and release the clock. */
void clock_shutdown(void);
bool clock_is_sim(void);
/* Microseconds since the epoch. Any thread. */
int64_t clock_now_us(void);
/* Simulated mode: move time forward to to_us, firing due timers in order.
 * Returns AT_ESTATE in real mode, AT_EINVAL when to_us is in the past. */
int clock_advance(int64_t to_us);
/* Deadline of the next timer, or INT64_MAX when none. */
int64_t clock_next_deadline(void);

/* Timers (host->timer_add / timer_cancel). `owner` tags the timer so every
 * timer of an instance can be cancelled when it stops. */
at_timer *timer_add(const void *owner, int64_t after_ms, int64_t repeat_ms, at_timer_cb cb,
                    void *arg);
/* One-shot at an absolute core-clock time (host->timer_at): at_us already
 * past fires as soon as possible, after the timers due now. NULL on a NULL
 * cb, a negative at_us or no memory. */
at_timer *timer_at(const void *owner, int64_t at_us, at_timer_cb cb, void *arg);
void timer_cancel(at_timer *t);
/* Cancel every timer of owner. */
void timer_cancel_owner(const void *owner);
/* Number of armed timers (tests). */
size_t timer_count(void);

#endif

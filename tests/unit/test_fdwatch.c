/* fd watches (host->fd_watch): readiness reaches the callback, modify pauses
 * and resumes, and the handle is checked by generation: unwatch twice, after
 * the owner was dropped, or modify of a gone watch is harmless (AT_ENOENT),
 * never a use after free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include <event2/event.h>

#include "loopsvc.h"

static struct event_base *base;
static int reads;

static void on_read(void *arg, int fd, unsigned what)
{
    (void)arg;
    char c;
    if ((what & AT_FD_READ) && read(fd, &c, 1) == 1) {
        reads++;
    }
}

static int setup(void **state)
{
    (void)state;
    base = event_base_new();
    reads = 0;
    return loopsvc_init(base) == AT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    loopsvc_shutdown();
    event_base_free(base);
    return 0;
}

static void test_watch_modify_unwatch(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    at_fdwatch *w = fdwatch_new(NULL, p[0], AT_FD_READ, on_read, NULL);
    assert_non_null(w);
    assert_int_equal(write(p[1], "ab", 2), 2);
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(reads, 2);

    assert_int_equal(fdwatch_modify(w, 0), AT_OK); /* paused */
    assert_int_equal(write(p[1], "c", 1), 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(reads, 2);
    assert_int_equal(fdwatch_modify(w, AT_FD_READ), AT_OK);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(reads, 3);

    fdwatch_free(w);
    fdwatch_free(w); /* twice: a no-op */
    assert_int_equal(fdwatch_modify(w, AT_FD_READ), AT_ENOENT);
    assert_int_equal(write(p[1], "d", 1), 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(reads, 3);
    close(p[0]);
    close(p[1]);
}

static void test_dropped_with_owner(void **state)
{
    (void)state;
    int owner = 0;
    int p[2];
    assert_int_equal(pipe(p), 0);
    at_fdwatch *w = fdwatch_new(&owner, p[0], AT_FD_READ, on_read, NULL);
    assert_non_null(w);
    loopsvc_drop_owner(&owner); /* the instance was destroyed with it open */
    at_fdwatch *other = fdwatch_new(NULL, p[0], AT_FD_READ, on_read, NULL); /* reuses the slot */
    assert_non_null(other);
    assert_ptr_not_equal(other, w);
    fdwatch_free(w); /* stale: must not free `other` */
    assert_int_equal(fdwatch_modify(w, 0), AT_ENOENT);
    assert_int_equal(write(p[1], "x", 1), 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(reads, 1);
    fdwatch_free(other);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_watch_modify_unwatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_with_owner, setup, teardown),
    };
    return cmocka_run_group_tests_name("fdwatch", tests, NULL, NULL);
}

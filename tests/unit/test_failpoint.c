/* Unit tests for include/aitrader/failpoint.h: the AITRADER_FAILPOINTS
 * spec (names, @N, refusals with their reason) and the point itself, in a
 * forked child: an armed point kills with SIGKILL at the hit asked for,
 * after saying so on stderr; an unarmed one, or another name, does nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <aitrader/failpoint.h>

static void parse_ok(const char *spec, size_t n)
{
    at_failpoints fp;
    char err[256] = "";
    if (at_failpoints_parse(spec, &fp, err, sizeof(err)) != 0) {
        fail_msg("'%s' refused: %s", spec ? spec : "(null)", err);
    }
    assert_int_equal(fp.n, n);
    assert_int_equal(fp.state, n > 0);
}

static void parse_bad(const char *spec, const char *why)
{
    at_failpoints fp;
    char err[256] = "";
    assert_int_equal(at_failpoints_parse(spec, &fp, err, sizeof(err)), -1);
    if (!strstr(err, why)) {
        fail_msg("'%s': reason '%s' does not say '%s'", spec, err, why);
    }
}

static void test_spec(void **state)
{
    (void)state;
    parse_ok(NULL, 0);
    parse_ok("", 0);
    parse_ok("okx.order_stored", 1);
    parse_ok("exec.before_submit@3,trader.decision_stored", 2);
    parse_ok("okx.order_sent,", 1); /* a trailing comma ends the list */

    at_failpoints fp;
    char err[256];
    assert_int_equal(at_failpoints_parse("okx.order_sent@12,exec.before_submit", &fp, err, 256), 0);
    assert_string_equal(fp.v[0].name, "okx.order_sent");
    assert_int_equal(fp.v[0].nth, 12);
    assert_string_equal(fp.v[1].name, "exec.before_submit");
    assert_int_equal(fp.v[1].nth, 1); /* no @N: the first hit */

    parse_bad("okx.order_stord",
              "unknown failpoint 'okx.order_stord' (known: trader.decision_stored");
    parse_bad("okx", "unknown failpoint 'okx'");
    parse_bad("okx.order_sent@0", "'okx.order_sent@0': the hit after @ must be a number from 1");
    parse_bad("okx.order_sent@", "the hit after @ must be a number from 1");
    parse_bad("okx.order_sent@2x", "the hit after @ must be a number from 1");
    parse_bad("okx.order_sent@-1", "the hit after @ must be a number from 1");
    parse_bad("okx.order_sent,,exec.before_submit", "unknown failpoint ''");
    parse_bad(" okx.order_sent", "unknown failpoint ' okx.order_sent'");
}

static void test_check_says_what_is_armed(void **state)
{
    (void)state;
    char msg[512];
    unsetenv(AT_FAILPOINT_ENV);
    assert_int_equal(at_failpoints_check(msg, sizeof(msg)), 0);
    assert_string_equal(msg, "");
    setenv(AT_FAILPOINT_ENV, "okx.order_sent@2", 1);
    assert_int_equal(at_failpoints_check(msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "AITRADER_FAILPOINTS=okx.order_sent@2: this process kills itself"));
    setenv(AT_FAILPOINT_ENV, "nope", 1);
    assert_int_equal(at_failpoints_check(msg, sizeof(msg)), -1);
    assert_non_null(strstr(msg, "unknown failpoint 'nope'"));
    unsetenv(AT_FAILPOINT_ENV);
}

/* Runs `hits` hits of exec.before_submit (and one of okx.order_sent first)
 * in a child with the spec; returns its wait status and how many hits it
 * got through (written to a pipe before each). */
static int run_child(const char *spec, int hits, int *passed)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (spec) {
            setenv(AT_FAILPOINT_ENV, spec, 1);
        } else {
            unsetenv(AT_FAILPOINT_ENV);
        }
        at_failpoint("okx.order_sent");
        for (int i = 0; i < hits; i++) {
            char c = 'x';
            if (write(fds[1], &c, 1) != 1) {
                _exit(3);
            }
            at_failpoint("exec.before_submit");
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[64];
    ssize_t n, total = 0;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
        total += n;
    }
    close(fds[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    *passed = (int)total;
    return st;
}

static void test_kills_at_the_hit_asked(void **state)
{
    (void)state;
    int passed = 0;
    int st = run_child("exec.before_submit@3", 5, &passed);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    assert_int_equal(passed, 3); /* killed at the third hit, before a fourth */

    st = run_child("exec.before_submit", 5, &passed);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(passed, 1);

    st = run_child("okx.order_sent", 5, &passed);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(passed, 0); /* before the loop */
}

static void test_unarmed_points_do_nothing(void **state)
{
    (void)state;
    int passed = 0;
    int st = run_child(NULL, 5, &passed);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(passed, 5);
    st = run_child("trader.decision_stored", 5, &passed); /* another name */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(passed, 5);
    st = run_child("exec.before_submit@6", 5, &passed); /* never that many hits */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    st = run_child("bogus", 5, &passed); /* refused: nothing armed */
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_check_says_what_is_armed),
        cmocka_unit_test(test_kills_at_the_hit_asked),
        cmocka_unit_test(test_unarmed_points_do_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

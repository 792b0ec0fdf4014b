/* When the replay builds a trigger's prompt and sends an order: the recorded
 * "ai" line's prompt_at (the moment the live prompt read the market), the
 * request's send time ("asked") for recordings without it, never a retry's;
 * and an order at its "result" line's sent time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "replay_internal.h"

static json_t *lines[4];

static void test_ask_at(void **state)
{
    (void)state;
    lines[0] = json_pack("{s:s, s:s, s:i, s:I, s:I}", "k", "ai", "id", "a:1", "retry", 1, "asked",
                         (json_int_t)900, "prompt_at", (json_int_t)800);
    lines[1] = json_pack("{s:s, s:s, s:i, s:I, s:I}", "k", "ai", "id", "a:1", "retry", 0, "asked",
                         (json_int_t)200, "prompt_at", (json_int_t)150);
    lines[2] = json_pack("{s:s, s:s, s:i, s:I}", "k", "ai", "id", "b:2", "retry", 0, "asked",
                         (json_int_t)500);
    lines[3] =
        json_pack("{s:s, s:s, s:I}", "k", "result", "intent", "a:1/0", "sent", (json_int_t)260);
    replay r;
    memset(&r, 0, sizeof(r));
    r.lines = lines;
    r.n = 4;
    assert_int_equal(replay_ask_at(&r, "a:1"), 150); /* its first attempt's prompt_at */
    assert_int_equal(replay_ask_at(&r, "b:2"), 500); /* an older recording: the send */
    assert_int_equal(replay_ask_at(&r, "c:3"), 0);   /* not recorded: now */
    assert_int_equal(replay_submit_at(&r, "a:1/0"), 260);
    assert_int_equal(replay_submit_at(&r, "a:1/1"), 0);
    for (size_t i = 0; i < 4; i++) {
        json_decref(lines[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ask_at)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

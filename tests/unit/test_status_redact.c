/* An instance's status detail reaches the log, the bus (STATUS), the
 * engine's health (and so /api/health and the dashboard's feed): a secret
 * in it is redacted once, where the engine takes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "sim_engine.h"

static char seen[256];

static void on_status(void *arg, const at_event *e)
{
    const at_ev_status *s = (const at_ev_status *)e;
    if (strcmp(s->instance, "test.src") == 0) {
        snprintf(seen, sizeof(seen), "%s", s->detail ? s->detail : "");
    }
}

static void test_detail_redacted(void **state)
{
    sim_engine S;
    sim_engine_open(&S, "redact", NULL, 1700000000000000LL, true);
    at_instance *src = engine_virtual_instance(S.e, "test.src");
    assert_true(S.h->subscribe(src, AT_EV_STATUS, on_status, NULL) > 0);
    S.h->secret_add("s3cr3t-passphrase");
    S.h->set_state(src, AT_STATE_DEGRADED, "login refused for key s3cr3t-passphrase (50105)");
    engine_pump(S.e);
    assert_string_equal(seen, "login refused for key *** (50105)");
    char *out = NULL;
    assert_int_equal(S.h->engine_call(src, "health", NULL, &out), AT_OK);
    assert_non_null(out);
    assert_null(strstr(out, "s3cr3t-passphrase"));
    assert_non_null(strstr(out, "login refused for key *** (50105)"));
    free(out);
    sim_engine_close(&S, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_detail_redacted)};
    return cmocka_run_group_tests_name("status_redact", tests, NULL, NULL);
}

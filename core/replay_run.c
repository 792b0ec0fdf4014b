/* The run of a replay on the simulated clock: move it to the next timer,
 * recorded trigger or recorded AI answer, fire what is due, let storage
 * answer, again, until the recorded session's end. */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "clock.h"
#include "engine_internal.h"
#include "replay_internal.h"
#include "storage.h"

static bool quiet(void *arg)
{
    (void)arg;
    return storage_pending() == 0;
}

/* Let storage answer everything asked, and what the answers ask in turn,
 * before the clock moves: live, those answers come within a millisecond
 * while the clock runs on; here the clock waits for them. */
static void settle(replay *r)
{
    engine_pump(r->e);
    while (storage_pending() > 0 && !r->failure) {
        if (!engine_wait(r->e, quiet, NULL, 30 * 1000000LL)) {
            rp_failed(r, "storage did not answer within 30 s");
        }
        engine_pump(r->e);
    }
}

static int64_t next_injection(const replay *r)
{
    int64_t t = INT64_MAX;
    if (r->next_trig < r->ntrig) {
        t = rp_int(r->lines[r->trig[r->next_trig]], "t");
    }
    for (size_t i = 0; i < r->npend; i++) {
        if (r->pend[i].reply && r->pend[i].at_us < t) { /* held ones never come */
            t = r->pend[i].at_us;
        }
    }
    return t;
}

static sched *sched_of(engine *e, const char *name)
{
    for (size_t i = 0; e->scheds && i < e->ntraders; i++) {
        const char *dot = strchr(e->trader_names[i], '.');
        if (strcmp(dot ? dot + 1 : e->trader_names[i], name) == 0) {
            return e->scheds[i];
        }
    }
    return NULL;
}

/* The recorded AI answers and inputs (triggers, control calls, intents of
 * instances turned off) due now. Answers first: a trigger at the same
 * microsecond waits for its DECISION anyway. */
static void inject(replay *r, int64_t now)
{
    for (size_t i = 0; i < r->npend;) {
        if (r->pend[i].at_us <= now && r->pend[i].reply) {
            rp_pending p = r->pend[i];
            memmove(&r->pend[i], &r->pend[i + 1], (r->npend - i - 1) * sizeof(p));
            r->npend--;
            rp_deliver(&p);
            engine_pump(r->e);
            i = 0;
        } else {
            i++;
        }
    }
    while (r->next_trig < r->ntrig) {
        size_t at = r->trig[r->next_trig];
        const json_t *l = r->lines[at];
        if (rp_int(l, "t") > now) {
            break;
        }
        r->next_trig++;
        if (strcmp(rp_str(l, "k"), "trigger") != 0) {
            rp_inject_input(r, l, at + 2);
            engine_pump(r->e);
            continue;
        }
        const char *who = rp_str(l, "trader"), *key = rp_str(l, "key");
        sched *s = sched_of(r->e, who);
        int rc = s ? sched_replay_fire(s, key, rp_str(l, "reason"),
                                       json_number_value(json_object_get(l, "salience")),
                                       json_is_true(json_object_get(l, "short_mode")))
                   : AT_ENOENT;
        if (rc != AT_OK) {
            rp_diverged(r, "trigger %s: %s", key,
                        s ? "its trader was not ready for it (the stored history not read yet)"
                          : "no trader of that name in this config");
        }
        engine_pump(r->e);
    }
}

static bool stop(const replay *r)
{
    return r->divergence || r->ai_miss || r->failure || r->e->exit_code != INT_MIN;
}

/* Move the clock on to `until` (or the session's end), firing what falls
 * due on the way; with `inject`, the recorded triggers and answers too. */
static void advance(replay *r, int64_t until, bool with_injections)
{
    int64_t last = INT64_MIN;
    unsigned still = 0;
    while (!stop(r)) {
        settle(r);
        int64_t now = clock_now_us();
        /* timers due now that keep arming timers due now would hold the
         * clock: say so instead of spinning */
        still = now == last ? still + 1 : 0;
        last = now;
        if (still > 10000) {
            rp_failed(r, "stuck at %" PRId64 " µs: timers due now keep arming timers due now", now);
            return;
        }
        if (with_injections) {
            inject(r, now);
            settle(r);
            if (stop(r)) {
                return;
            }
        }
        int64_t nt = clock_next_deadline(), ni = with_injections ? next_injection(r) : INT64_MAX;
        int64_t next = nt < ni ? nt : ni;
        if (next > until) {
            if (now < until && clock_advance(until) != AT_OK) {
                rp_failed(r, "the simulated clock refused to move to %" PRId64, until);
            }
            settle(r);
            return;
        }
        if (clock_advance(next > now ? next : now) != AT_OK) { /* due now: fire them */
            rp_failed(r, "the simulated clock refused to move to %" PRId64, next);
            return;
        }
    }
}

void replay_traders_start(replay *r)
{
    /* Live, the engine's start takes a few milliseconds during which market
     * frames may already come in: the traders see only what comes after
     * they start, so the replay plays up to that moment first. */
    if (r->traders_us > clock_now_us()) {
        advance(r, r->traders_us, false);
    }
}

int rp_run(replay *r)
{
    advance(r, r->end_us, true);
    return AT_OK;
}

#include "equity.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Accounts followed; an engine has a handful of exchange instances. */
#define ACCOUNTS_MAX 64

typedef struct account {
    char name[AT_ID_LEN];
    bool known;       /* a BALANCE was seen */
    at_dec total_eq;  /* its latest account total, exact */
    int64_t seen_ms;  /* core clock when it arrived */
    bool after_fill;  /* a fill came: the next BALANCE writes a row */
    bool said_no_row; /* "no row" logged since the last fresh BALANCE */
} account;

struct equity {
    const at_host *h;
    at_instance *self;
    equity_cfg cfg;
    int sub_bal, sub_fill;
    at_timer *timer;
    account acct[ACCOUNTS_MAX];
    size_t nacct;
    bool said_full, said_none;
    equity_stats st;
};

static int64_t now_ms(const equity *q)
{
    return q->h->now_us() / 1000;
}

static account *find(equity *q, const char *name, bool add)
{
    for (size_t i = 0; i < q->nacct; i++) {
        if (strcmp(q->acct[i].name, name) == 0) {
            return &q->acct[i];
        }
    }
    if (!add || !name[0]) {
        return NULL;
    }
    if (q->nacct == ACCOUNTS_MAX) {
        if (!q->said_full) {
            q->said_full = true;
            q->h->log(q->self, AT_LOG_ERROR,
                      "%s: not followed: %d accounts already are (its equity curve is not kept)",
                      name, ACCOUNTS_MAX);
        }
        return NULL;
    }
    account *a = &q->acct[q->nacct++];
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", name);
    return a;
}

/* The venue's own figure, never a sum of trades. avail and upl stay NULL:
 * BALANCE carries them per currency, not for the account in USD. */
static void write_row(equity *q, const account *a, int64_t ts_ms, const char *why)
{
    const at_host *h = q->h;
    const at_db_value p[] = {AT_DB_S(a->name), AT_DB_I(ts_ms), AT_DB_D(a->total_eq)};
    int rc = h->db_write(q->self,
                         "INSERT INTO equity_snapshots (account, ts_ms, total_eq) "
                         "VALUES ($1, $2, $3) ON CONFLICT (account, ts_ms) DO NOTHING",
                         p, sizeof(p) / sizeof(p[0]), NULL, NULL);
    if (rc != AT_OK) {
        h->log(q->self, AT_LOG_ERROR, "%s: equity snapshot (%s) at %" PRId64 " not stored: %s",
               a->name, why, ts_ms, at_strerror(rc));
        return;
    }
    q->st.rows++;
}

static void on_balance(void *arg, const at_event *e)
{
    equity *q = arg;
    const at_ev_balance *b = (const at_ev_balance *)e;
    account *a = find(q, b->account, true);
    if (!a) {
        return;
    }
    /* Every per-currency event carries the account total (events.h). */
    a->total_eq = b->total_eq;
    a->seen_ms = now_ms(q);
    if (!a->known || a->said_no_row) {
        q->h->log(q->self, AT_LOG_INFO, "%s: equity known again: snapshots each minute", a->name);
    }
    a->known = true;
    a->said_no_row = false;
    if (a->after_fill) {
        a->after_fill = false;
        write_row(q, a, a->seen_ms, "after a fill");
    }
}

static void on_fill(void *arg, const at_event *e)
{
    equity *q = arg;
    account *a = find(q, ((const at_ev_fill *)e)->account, true);
    if (a) {
        a->after_fill = true;
    }
}

static void arm(equity *q);

static void on_tick(void *arg)
{
    equity *q = arg;
    q->timer = NULL;
    int64_t now = now_ms(q);
    /* The row is stamped at the minute even when the loop fires late. */
    int64_t ts = now - now % q->cfg.period_ms;
    if (q->nacct == 0 && !q->said_none) {
        q->said_none = true;
        q->h->log(q->self, AT_LOG_INFO,
                  "no account has reported its equity yet: no equity snapshots until one does");
    }
    for (size_t i = 0; i < q->nacct; i++) {
        account *a = &q->acct[i];
        bool stale = a->known && now - a->seen_ms > q->cfg.max_age_ms;
        if (a->known && !stale) {
            write_row(q, a, ts, "each minute");
            continue;
        }
        q->st.skipped++;
        if (!a->said_no_row) {
            a->said_no_row = true;
            if (!a->known) {
                q->h->log(q->self, AT_LOG_WARN,
                          "%s: equity unknown (no BALANCE yet): no equity snapshots until one "
                          "arrives",
                          a->name);
            } else {
                q->h->log(q->self, AT_LOG_WARN,
                          "%s: equity stale (newest BALANCE %" PRId64 " s old, bound %" PRId64
                          " s): no equity snapshots until a fresh one",
                          a->name, (now - a->seen_ms) / 1000, q->cfg.max_age_ms / 1000);
            }
        }
    }
    arm(q);
}

/* One-shot to the next period boundary, re-armed each time, so the rows stay
 * on the minute whatever the loop's delays. */
static void arm(equity *q)
{
    int64_t now = now_ms(q);
    int64_t after = q->cfg.period_ms - now % q->cfg.period_ms;
    q->timer = q->h->timer_add(q->self, after, 0, on_tick, q);
    if (!q->timer) {
        q->h->log(q->self, AT_LOG_ERROR, "the equity timer could not be armed: no snapshots");
    }
}

equity *equity_new(const at_host *h, at_instance *self, const equity_cfg *cfg)
{
    if (!h || !self || !cfg || cfg->period_ms <= 0 || cfg->max_age_ms <= 0) {
        return NULL;
    }
    equity *q = calloc(1, sizeof(*q));
    if (!q) {
        return NULL;
    }
    q->h = h;
    q->self = self;
    q->cfg = *cfg;
    return q;
}

int equity_start(equity *q)
{
    const at_host *h = q->h;
    q->sub_bal = h->subscribe(q->self, AT_EV_BALANCE, on_balance, q);
    q->sub_fill = q->sub_bal > 0 ? h->subscribe(q->self, AT_EV_FILL, on_fill, q) : 0;
    if (q->sub_bal <= 0 || q->sub_fill <= 0) {
        int rc = q->sub_bal <= 0 ? q->sub_bal : q->sub_fill;
        equity_stop(q);
        return rc < 0 ? rc : AT_ENOMEM;
    }
    arm(q);
    if (!q->timer) {
        equity_stop(q);
        return AT_ENOMEM;
    }
    return AT_OK;
}

void equity_stop(equity *q)
{
    if (!q) {
        return;
    }
    if (q->sub_bal > 0) {
        q->h->unsubscribe(q->self, q->sub_bal);
    }
    if (q->sub_fill > 0) {
        q->h->unsubscribe(q->self, q->sub_fill);
    }
    q->sub_bal = q->sub_fill = 0;
    q->h->timer_cancel(q->timer);
    q->timer = NULL;
}

void equity_free(equity *q)
{
    free(q);
}

void equity_get_stats(const equity *q, equity_stats *out)
{
    *out = q->st;
}

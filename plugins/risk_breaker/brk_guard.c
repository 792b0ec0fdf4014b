/* Safe mode per trader (invalid AI decisions in a row) and the kill switch
 * (a file under data_dir, see kill_switch.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "brk.h"

/* ------------------------------------------------------------ safe mode */

brk_trader *brk_trader_get(breaker *b, const char *name, bool create)
{
    for (size_t i = 0; i < b->ntrader; i++) {
        if (strcmp(b->trader[i].name, name) == 0) {
            return &b->trader[i];
        }
    }
    if (!create) {
        return NULL;
    }
    if (b->ntrader == BRK_MAX_TRADERS) {
        if (!b->trader_full_logged) {
            b->trader_full_logged = true;
            b->h->log(b->inst, AT_LOG_ERROR,
                      "more than %d traders: %s and later ones get no safe mode", BRK_MAX_TRADERS,
                      name);
        }
        return NULL;
    }
    brk_trader *t = &b->trader[b->ntrader++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    return t;
}

/* A valid decision right after failures is on probation: with
 * safe_mode_recover = 2 its orders are still refused and the next valid one's
 * pass. With 1, safe mode would refuse nothing in practice: the DECISION that
 * ends it comes before its own intents, and invalid decisions send nothing. */
void brk_on_decision(breaker *b, const at_ev_decision *d)
{
    if (b->max_ai_failures <= 0 || !d->trader[0]) {
        return;
    }
    brk_trader *t = brk_trader_get(b, d->trader, true);
    if (!t) {
        return;
    }
    char msg[400];
    if (!d->valid) {
        t->fails++;
        t->oks = 0;
        ks_clean(d->invalid_reason && *d->invalid_reason ? d->invalid_reason : "no reason given",
                 t->why, sizeof(t->why));
        if (t->safe || t->fails < b->max_ai_failures) {
            return;
        }
        t->safe = true;
        t->since_ms = brk_now_ms(b);
        snprintf(msg, sizeof(msg),
                 "safe mode: trader %s made %lld invalid AI decisions in a row (last: %s): its "
                 "entries are refused until %lld valid one%s in a row (closes pass)",
                 t->name, (long long)t->fails, t->why, (long long)b->safe_recover,
                 b->safe_recover == 1 ? "" : "s");
        brk_alert(b, AT_LOG_WARN, "%s", msg);
        brk_store(b, "breaker.safe_mode", msg);
        brk_report(b);
        return;
    }
    if (!t->safe) {
        t->fails = 0;
        return;
    }
    if (++t->oks < b->safe_recover) {
        b->h->log(b->inst, AT_LOG_INFO,
                  "safe mode: trader %s made a valid decision (%lld of %lld in a row); its "
                  "entries stay refused",
                  t->name, (long long)t->oks, (long long)b->safe_recover);
        return;
    }
    snprintf(msg, sizeof(msg),
             "safe mode over: trader %s made %lld valid decision%s in a row: its entries pass "
             "again",
             t->name, (long long)t->oks, t->oks == 1 ? "" : "s");
    t->safe = false;
    t->fails = t->oks = 0;
    brk_alert(b, AT_LOG_INFO, "%s", msg);
    brk_store(b, "breaker.safe_mode", msg);
    brk_report(b);
}

/* ------------------------------------------------------------ kill switch */

void brk_kill_text(const breaker *b, char *out, size_t len)
{
    char since[32];
    ks_time_text(b->ks.since_ms, since);
    if (!b->ks.on) {
        snprintf(out, len, "kill switch off%s%s%s%s", b->ks.present ? " since " : "",
                 b->ks.present ? since : "", b->ks.by[0] ? " by " : "", b->ks.by);
        return;
    }
    snprintf(out, len, "kill switch on%s%s%s%s: %s", b->ks.since_ms ? " since " : "",
             b->ks.since_ms ? since : "", b->ks.by[0] ? " by " : "", b->ks.by,
             b->ks.reason[0] ? b->ks.reason : "no reason given");
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A stat (about a microsecond) on every call; the file is read only when
 * it changed. */
bool brk_kill_poll(breaker *b, int64_t now)
{
    (void)now;
    struct stat st;
    int err = 0;
    bool exists = b->ks_file[0] && stat(b->ks_file, &st) == 0;
    if (!b->ks_file[0]) {
        err = ENAMETOOLONG; /* cannot be watched: on, as any unreadable switch is */
    } else if (!exists && errno != ENOENT) {
        err = errno;
    }
    if (b->ks_seen && exists == b->ks_exists && err == b->ks_errno &&
        (!exists || same_file(&st, &b->ks_stat))) {
        return b->ks.on;
    }
    ks_state ns;
    if (err) {
        memset(&ns, 0, sizeof(ns));
        ns.on = ns.present = true;
        snprintf(ns.reason, sizeof(ns.reason), "the file cannot be looked at (%s): taken as on",
                 strerror(err));
    } else {
        ks_read(b->ks_file, &ns);
    }
    bool first = !b->ks_seen, was_on = b->ks.on;
    b->ks = ns;
    b->ks_seen = true;
    b->ks_exists = exists;
    b->ks_errno = err;
    if (exists) {
        b->ks_stat = st;
    }
    if (first) {
        return ns.on; /* brk_kill_start says it */
    }
    char text[400], msg[480];
    brk_kill_text(b, text, sizeof(text));
    if (ns.on != was_on) {
        snprintf(msg, sizeof(msg), "%s: %s", text,
                 ns.on ? "every new entry is refused (closes pass)" : "entries pass again");
        brk_alert(b, ns.on ? AT_LOG_WARN : AT_LOG_INFO, "%s", msg);
        if (b->load == BRK_LOADED) {
            brk_store(b, "breaker.kill_switch", msg);
        }
        brk_report(b);
    } else {
        b->h->log(b->inst, AT_LOG_INFO, "%s rewritten: %s", b->ks_file, text);
    }
    return ns.on;
}

void brk_kill_start(breaker *b)
{
    const char *dir = b->h->core_get("data_dir");
    if (!ks_path(dir ? dir : "data", b->ks_file, sizeof(b->ks_file))) {
        b->ks_file[0] = '\0'; /* brk_kill_poll takes it as on */
    }
    b->ks_seen = false;
    char text[400];
    bool on = brk_kill_poll(b, brk_now_ms(b));
    brk_kill_text(b, text, sizeof(text));
    if (on) {
        brk_alert(b, AT_LOG_WARN,
                  "%s (%s): every new entry is refused, closes pass, until `aitrader kill-switch "
                  "off`",
                  text, b->ks_file);
    } else {
        b->h->log(b->inst, AT_LOG_INFO, "%s (%s%s)", text, b->ks_file,
                  b->ks.present ? "" : " absent");
    }
}

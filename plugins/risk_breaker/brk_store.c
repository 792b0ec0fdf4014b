/* The breaker's state in audit_log, and back at start.
 *
 * Every row is the whole state (accounts: day, day start, peak, last equity,
 * trip; traders: failures, safe mode) as data_json, with a kind saying what
 * happened (breaker.trip, breaker.reset, breaker.day, breaker.safe_mode,
 * breaker.kill_switch, breaker.state) and a message for people. audit_log is
 * append-only, so the rows are also the history; the newest row of this
 * instance is the state a restart continues from. A row is written at once
 * for a trip, a reset, a new day, safe mode and the kill switch; a rising
 * peak at most every BRK_STORE_EVERY_MS; the last equity at stop. Row ids
 * are instance/time/sequence, the sequence going on across restarts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brk.h"

#define STATE_VERSION 1

/* ------------------------------------------------------------ writing */

static json_t *dec_json(const breaker *b, at_dec d)
{
    char s[AT_DEC_STRLEN];
    b->h->dec_format(d, s);
    return json_string(s);
}

static json_t *state_json(const breaker *b)
{
    json_t *root = json_object(), *accts = json_array(), *traders = json_array();
    bool ok = root && accts && traders;
    for (size_t i = 0; ok && i < b->nacct; i++) {
        const brk_account *a = &b->acct[i];
        if (!a->have_day) {
            continue; /* positions only: nothing to keep */
        }
        json_t *o = json_object();
        ok &= o && json_array_append_new(accts, o) == 0;
        if (!ok) {
            break;
        }
        ok &= json_object_set_new(o, "account", json_string(a->name)) == 0;
        ok &= json_object_set_new(o, "day", json_integer(a->day)) == 0;
        ok &= json_object_set_new(o, "day_start", dec_json(b, a->day_start)) == 0;
        ok &= json_object_set_new(o, "peak", dec_json(b, a->peak)) == 0;
        if (a->have_last) {
            ok &= json_object_set_new(o, "last", dec_json(b, a->last)) == 0;
            ok &= json_object_set_new(o, "last_ms", json_integer(a->last_ms)) == 0;
        }
        if (a->tripped != BRK_NONE) {
            ok &= json_object_set_new(o, "tripped", json_string(brk_rule_name(a->tripped))) == 0;
            ok &= json_object_set_new(o, "trip_ms", json_integer(a->trip_ms)) == 0;
            ok &= json_object_set_new(o, "until_ms", json_integer(a->until_ms)) == 0;
            ok &= json_object_set_new(o, "reason", json_string(a->reason)) == 0;
        }
    }
    for (size_t i = 0; ok && i < b->ntrader; i++) {
        const brk_trader *t = &b->trader[i];
        if (!t->safe && t->fails == 0) {
            continue;
        }
        json_t *o = json_object();
        ok &= o && json_array_append_new(traders, o) == 0;
        if (!ok) {
            break;
        }
        ok &= json_object_set_new(o, "trader", json_string(t->name)) == 0;
        ok &= json_object_set_new(o, "fails", json_integer(t->fails)) == 0;
        ok &= json_object_set_new(o, "oks", json_integer(t->oks)) == 0;
        ok &= json_object_set_new(o, "safe", json_boolean(t->safe)) == 0;
        ok &= json_object_set_new(o, "since_ms", json_integer(t->since_ms)) == 0;
        ok &= json_object_set_new(o, "why", json_string(t->why)) == 0;
    }
    if (ok) {
        ok &= json_object_set_new(root, "v", json_integer(STATE_VERSION)) == 0;
        ok &= json_object_set(root, "accounts", accts) == 0;
        ok &= json_object_set(root, "traders", traders) == 0;
        ok &= json_object_set_new(root, "kill_switch", json_boolean(b->ks.on)) == 0;
        ok &= json_object_set_new(root, "seq", json_integer((json_int_t)b->seq)) == 0;
    }
    json_decref(accts);
    json_decref(traders);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static void on_written(void *arg, int err, const char *error)
{
    breaker *b = arg;
    if (err != AT_OK) {
        brk_alert(b, AT_LOG_ERROR, "the breaker's state was not stored: %s",
                  error ? error : "storage error");
    }
}

void brk_store(breaker *b, const char *kind, const char *message)
{
    if (b->load != BRK_LOADED) {
        return; /* a partial state must never become the newest row */
    }
    const at_host *h = b->h;
    int64_t now = brk_now_ms(b);
    b->seq++;
    json_t *st = state_json(b);
    char *text = st ? json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(st);
    if (!text) {
        brk_alert(b, AT_LOG_ERROR, "the breaker's state was not stored (%s): out of memory", kind);
        return;
    }
    char id[AT_ID_LEN + 48];
    snprintf(id, sizeof(id), "%s/%013lld/%012llu", b->name, (long long)now,
             (unsigned long long)b->seq);
    const at_db_value p[] = {AT_DB_S(id),   AT_DB_I(now),     AT_DB_S(b->name),
                             AT_DB_S(kind), AT_DB_S(message), AT_DB_S(text)};
    int rc = h->db_write(b->inst,
                         "INSERT INTO audit_log (id, ts_ms, instance, kind, message, data_json) "
                         "VALUES ($1, $2, $3, $4, $5, $6)",
                         p, 6, on_written, b);
    free(text);
    if (rc == AT_ESTATE) {
        /* no storage: said once at start */
    } else if (rc != AT_OK) {
        brk_alert(b, AT_LOG_ERROR, "the breaker's state was not stored (%s): storage refused it",
                  kind);
        return;
    }
    b->dirty = b->last_dirty = false;
    b->stored_ms = now;
}

/* ------------------------------------------------------------ reading */

typedef struct stored_acct {
    const char *name;
    int64_t day;
    at_dec day_start, peak, last;
    bool have_last;
    int64_t last_ms;
    brk_rule tripped;
    int64_t trip_ms, until_ms;
    const char *reason;
} stored_acct;

typedef struct loading {
    breaker *b;
    bool found;
    char *text;
} loading;

static bool get_int(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static bool get_dec(const breaker *b, const json_t *o, const char *k, at_dec *out)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && b->h->dec_parse(s, (size_t)-1, out) == AT_OK && out->m > 0;
}

static bool read_account(const breaker *b, const json_t *o, stored_acct *s, char *why, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->name = json_string_value(json_object_get(o, "account"));
    if (!s->name || !*s->name || strlen(s->name) >= AT_ID_LEN) {
        snprintf(why, len, "an account without a usable name");
        return false;
    }
    if (!get_int(o, "day", &s->day) || !get_dec(b, o, "day_start", &s->day_start) ||
        !get_dec(b, o, "peak", &s->peak)) {
        snprintf(why, len, "%s: day, day_start or peak missing or not positive", s->name);
        return false;
    }
    if (json_object_get(o, "last")) {
        if (!get_dec(b, o, "last", &s->last) || !get_int(o, "last_ms", &s->last_ms)) {
            snprintf(why, len, "%s: last equity unreadable", s->name);
            return false;
        }
        s->have_last = true;
    }
    const char *rule = json_string_value(json_object_get(o, "tripped"));
    if (rule) {
        s->tripped = strcmp(rule, "daily_loss") == 0 ? BRK_DAILY_LOSS
                     : strcmp(rule, "drawdown") == 0 ? BRK_DRAWDOWN
                                                     : BRK_NONE;
        s->reason = json_string_value(json_object_get(o, "reason"));
        if (s->tripped == BRK_NONE || !get_int(o, "trip_ms", &s->trip_ms) ||
            !get_int(o, "until_ms", &s->until_ms) || !s->reason) {
            snprintf(why, len, "%s: trip '%s' unreadable", s->name, rule);
            return false;
        }
    }
    return true;
}

static void apply_account(breaker *b, const stored_acct *s, int64_t now)
{
    brk_account *a = brk_account_get(b, s->name, true);
    if (!a) {
        return;
    }
    /* An equity that came while the state was read is newer than the stored
     * one, but the day roll must start the day at the equity known before
     * midnight: the stored one. */
    bool live = a->have_last;
    at_dec live_eq = a->last;
    int64_t live_ms = a->last_ms;
    a->have_day = a->have_peak = true;
    a->day = s->day;
    a->day_start = s->day_start;
    a->peak = s->peak;
    a->have_last = s->have_last;
    a->last = s->last;
    a->last_ms = s->last_ms;
    a->tripped = s->tripped;
    a->trip_ms = s->trip_ms;
    a->until_ms = s->until_ms;
    snprintf(a->reason, sizeof(a->reason), "%s", s->reason ? s->reason : "");
    char ds[AT_DEC_STRLEN], pk[AT_DEC_STRLEN], until[32];
    b->h->dec_format(a->day_start, ds);
    b->h->dec_format(a->peak, pk);
    ks_time_text(a->until_ms, until);
    b->h->log(b->inst, AT_LOG_INFO, "restored %s: the day's start %s, the peak %s", a->name, ds,
              pk);
    if (a->tripped != BRK_NONE && now < a->until_ms) {
        brk_alert(b, AT_LOG_WARN,
                  "restored: breaker still tripped (%s): %s; no new entries until %s",
                  brk_rule_name(a->tripped), a->reason, until);
    }
    brk_roll_day(b, a, now);
    if (live) {
        a->have_last = true;
        a->last = live_eq;
        a->last_ms = live_ms;
    }
    brk_expire(b, a, now);
    brk_evaluate(b, a, now);
    brk_flatten(b, a);
}

static void apply_trader(breaker *b, const json_t *o)
{
    const char *name = json_string_value(json_object_get(o, "trader"));
    int64_t fails = 0, oks = 0, since = 0;
    if (!name || !*name || strlen(name) >= AT_ID_LEN || !get_int(o, "fails", &fails)) {
        return;
    }
    get_int(o, "oks", &oks);
    get_int(o, "since_ms", &since);
    brk_trader *t = brk_trader_get(b, name, true);
    if (!t || t->fails > 0 || t->safe) {
        return; /* decisions seen while the state was read are newer */
    }
    t->fails = fails;
    t->oks = oks;
    t->safe = json_is_true(json_object_get(o, "safe"));
    t->since_ms = since;
    ks_clean(json_string_value(json_object_get(o, "why")), t->why, sizeof(t->why));
    if (t->safe) {
        char since_text[32];
        ks_time_text(t->since_ms, since_text);
        brk_alert(b, AT_LOG_WARN,
                  "restored: trader %s in safe mode since %s (last failure: %s): its entries are "
                  "refused",
                  t->name, since_text, t->why);
    }
}

static void fail_load(breaker *b, const char *why)
{
    b->load = BRK_LOAD_FAILED;
    snprintf(b->load_error, sizeof(b->load_error), "%s", why);
    brk_alert(b, AT_LOG_ERROR,
              "the breaker's stored state could not be read (%s): every entry is refused, closes "
              "pass; set restore = false for one start to begin afresh",
              why);
    brk_report(b);
}

/* Validate everything first: a state applied halfway would be worse than
 * none. */
static void restore_from(breaker *b, const char *text)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    json_t *accts = root ? json_object_get(root, "accounts") : NULL;
    json_t *traders = root ? json_object_get(root, "traders") : NULL;
    char why[200];
    if (!root || !json_is_array(accts) || !json_is_array(traders)) {
        snprintf(why, sizeof(why), "data_json is not the breaker's state%s%s", root ? "" : ": ",
                 root ? "" : je.text);
        fail_load(b, why);
        json_decref(root);
        return;
    }
    size_t n = json_array_size(accts);
    stored_acct *s = calloc(n ? n : 1, sizeof(*s));
    if (!s) {
        fail_load(b, "out of memory");
        json_decref(root);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!read_account(b, json_array_get(accts, i), &s[i], why, sizeof(why))) {
            fail_load(b, why);
            free(s);
            json_decref(root);
            return;
        }
    }
    /* Row ids go on from the stored one: rows written within the same
     * millisecond as the stored one still sort after it. */
    int64_t seq = 0;
    if (get_int(root, "seq", &seq) && seq > 0) {
        b->seq = (uint64_t)seq;
    }
    b->load = BRK_LOADED;
    int64_t now = brk_now_ms(b);
    for (size_t i = 0; i < n; i++) {
        apply_account(b, &s[i], now);
    }
    for (size_t i = 0; i < json_array_size(traders); i++) {
        apply_trader(b, json_array_get(traders, i));
    }
    free(s);
    json_decref(root);
}

static int on_row(void *arg, const at_db_row *row)
{
    loading *l = arg;
    l->found = true;
    if (row->ncols >= 1 && row->cols[0].type == AT_DB_TEXT) {
        free(l->text);
        l->text = strdup(row->cols[0].u.s);
    }
    return 1;
}

/* Accounts whose equity came while the state was read (none stored). */
static void evaluate_all(breaker *b)
{
    int64_t now = brk_now_ms(b);
    for (size_t i = 0; i < b->nacct; i++) {
        brk_evaluate(b, &b->acct[i], now);
    }
}

static void on_loaded(void *arg, int err, const char *error)
{
    loading *l = arg;
    breaker *b = l->b;
    if (!b->started) {
        /* stopped meanwhile */
    } else if (err != AT_OK) {
        char why[200];
        snprintf(why, sizeof(why), "reading audit_log failed: %s", error ? error : "?");
        fail_load(b, why);
    } else if (!l->found) {
        b->load = BRK_LOADED;
        b->h->log(b->inst, AT_LOG_INFO,
                  "no stored state: days and peaks start at the first "
                  "equity seen");
        evaluate_all(b);
        brk_report(b);
    } else if (!l->text) {
        fail_load(b, "data_json is missing");
    } else {
        restore_from(b, l->text);
        evaluate_all(b);
        brk_report(b);
    }
    free(l->text);
    free(l);
}

void brk_load_start(breaker *b)
{
    const at_host *h = b->h;
    if (!b->restore) {
        b->load = BRK_LOADED;
        brk_alert(b, AT_LOG_WARN,
                  "restore = false: the stored state (trips, peaks, day starts, safe mode) is "
                  "set aside; everything starts afresh (set restore = true again)");
        brk_store(b, "breaker.state", "started afresh: restore = false");
        return;
    }
    loading *l = calloc(1, sizeof(*l));
    if (!l) {
        fail_load(b, "out of memory");
        return;
    }
    l->b = b;
    const at_db_value v[] = {AT_DB_S(b->name)};
    int rc = h->db_query(b->inst,
                         "SELECT data_json, ts_ms FROM audit_log WHERE instance = $1 AND kind LIKE "
                         "'breaker.%' ORDER BY ts_ms DESC, id DESC LIMIT 1",
                         v, 1, on_row, on_loaded, l);
    if (rc == AT_ESTATE) {
        free(l);
        b->load = BRK_LOADED;
        h->log(b->inst, AT_LOG_WARN,
               "no storage: trips, peaks and day starts live in memory only and start afresh at "
               "every start");
    } else if (rc != AT_OK) {
        free(l);
        fail_load(b, "storage refused the read");
    }
}

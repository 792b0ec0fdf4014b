#include "executor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/failpoint.h>

/* The engine's own checks appear in verdicts under this rule name. */
#define GATE_RULE "core.gate"
/* Intent ids remembered to refuse a second intent with the same id (a
 * re-published close or cancel would otherwise act twice; places are also
 * kept unique by the orders table across restarts). */
#define SEEN_MAX 2048
/* Hash buckets over that ring (a power of two, twice SEEN_MAX): an id is
 * found or not in a chain of about one, where a scan of the ring took
 * ~10 us per intent once it had filled. */
#define SEEN_BUCKETS 4096

struct executor {
    const at_host *h;
    at_instance *self;
    bool paper_mode;
    exec_venue *venues;
    size_t nvenues;
    exec_rule *rules;
    size_t nrules;
    char **data_only;
    size_t ndata_only;
    int sub;
    void (*on_submit)(void *arg, const at_ev_order_intent *it);
    void *on_submit_arg;
    int64_t (*submit_at)(void *arg, const char *intent_id);
    void *submit_at_arg;
    struct held *held; /* intents waiting for their submit_at time */
    exec_stats st;
    char (*seen)[AT_ID_LEN]; /* ring of the last SEEN_MAX intent ids */
    uint32_t *seen_hash;     /* per ring slot: its id's hash */
    uint32_t *seen_link;     /* per ring slot: next slot + 1 in its bucket, 0 = end */
    uint32_t *seen_bucket;   /* SEEN_BUCKETS chains: first slot + 1, 0 = empty */
    size_t nseen, seen_next;
};

static const char *const OPS[] = {"place", "cancel", "amend", "close_position", "cancel_algo"};
static const char *const VERDICTS[] = {"approve", "resize", "reject"};
static const char *const CLASSES[] = {"live", "demo", "paper", "data only"};

static const char *op_name(at_intent_op op)
{
    return (unsigned)op <= AT_INTENT_CANCEL_ALGO ? OPS[op] : "?";
}

static const exec_venue *find_venue(const executor *x, const char *account)
{
    for (size_t i = 0; i < x->nvenues; i++) {
        if (strcmp(x->venues[i].name, account) == 0) {
            return &x->venues[i];
        }
    }
    return NULL;
}

static bool is_data_only(const executor *x, const char *account)
{
    for (size_t i = 0; i < x->ndata_only; i++) {
        if (strcmp(x->data_only[i], account) == 0) {
            return true;
        }
    }
    return false;
}

/* Record one verdict: on the bus, then in risk_verdicts (before the next
 * step acts, in storage queue order). */
static void record_verdict(executor *x, const at_ev_order_intent *it, const char *rule,
                           at_verdict v, at_dec sz, const char *name, const char *reason)
{
    const at_host *h = x->h;
    at_ev_risk_verdict *e = (at_ev_risk_verdict *)h->event_new(x->self, AT_EV_RISK_VERDICT,
                                                               strlen(reason) + strlen(name) + 2);
    if (e) {
        e->h.inst = it->h.inst;
        snprintf(e->intent_id, sizeof(e->intent_id), "%s", it->intent_id);
        snprintf(e->rule, sizeof(e->rule), "%s", rule);
        e->allowed = v != AT_VERDICT_REJECT;
        e->verdict = (int)v;
        e->sz = sz;
        e->reason = h->event_strdup(&e->h, reason);
        e->name = h->event_strdup(&e->h, name);
        h->publish(x->self, &e->h, 0);
    } else {
        h->log(x->self, AT_LOG_ERROR, "intent %s: verdict of %s not published: out of memory",
               it->intent_id, rule);
    }
    char id[2 * AT_ID_LEN + 2];
    snprintf(id, sizeof(id), "%s/%s", it->intent_id, rule);
    const at_db_value p[] = {AT_DB_S(id),
                             AT_DB_S(it->intent_id),
                             AT_DB_S(rule),
                             AT_DB_B(v != AT_VERDICT_REJECT),
                             AT_DB_S(reason[0] ? reason : NULL),
                             AT_DB_I(h->now_us() / 1000),
                             AT_DB_S(VERDICTS[v]),
                             AT_DB_D(sz),
                             AT_DB_S(name[0] ? name : NULL)};
    int rc = h->db_write(x->self,
                         "INSERT INTO risk_verdicts (id, intent_id, rule, allowed, reason, "
                         "created_ms, verdict, sz, rule_name) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
                         "ON CONFLICT (id) DO NOTHING",
                         p, sizeof(p) / sizeof(p[0]), NULL, NULL);
    if (rc != AT_OK) {
        h->log(x->self, AT_LOG_ERROR, "intent %s: verdict of %s not stored (error %d)",
               it->intent_id, rule, rc);
    }
}

/* The answer to an intent that goes no further: one ORDER_RESULT, and for a
 * place its orders row in state rejected (a shadow intent's as shadow). */
static void refuse(executor *x, const at_ev_order_intent *it, const char *code, const char *msg)
{
    const at_host *h = x->h;
    at_ev_order_result *r =
        (at_ev_order_result *)h->event_new(x->self, AT_EV_ORDER_RESULT, strlen(msg) + 1);
    if (r) {
        r->h.inst = it->h.inst;
        snprintf(r->intent_id, sizeof(r->intent_id), "%s", it->intent_id);
        snprintf(r->cl_ord_id, sizeof(r->cl_ord_id), "%s", it->cl_ord_id);
        snprintf(r->account, sizeof(r->account), "%s", it->account);
        snprintf(r->code, sizeof(r->code), "%s", code);
        r->op = it->op;
        r->ok = false;
        r->msg = h->event_strdup(&r->h, msg);
        h->publish(x->self, &r->h, 0);
    }
    if (it->op != AT_INTENT_PLACE || !it->intent_id[0]) {
        return;
    }
    const char *inst = h->inst_name(it->h.inst);
    int64_t now = h->now_us() / 1000;
    /* A place without clOrdId still gets a unique placeholder: the column is
     * unique, and nothing was sent under any id. */
    char cl[AT_ID_LEN + 2];
    snprintf(cl, sizeof(cl), "%s", it->cl_ord_id[0] ? it->cl_ord_id : it->intent_id);
    const at_db_value p[] = {
        AT_DB_S(it->intent_id),
        AT_DB_S(cl),
        AT_DB_S(it->account),
        AT_DB_S(it->origin[0] ? it->origin : "manual"),
        AT_DB_S(it->decision_id[0] ? it->decision_id : NULL),
        AT_DB_S(inst ? inst : "?"),
        AT_DB_S(op_name(it->op)),
        AT_DB_S(it->side == AT_SIDE_SELL ? "sell" : "buy"),
        AT_DB_D(it->sz),
        it->px.m ? AT_DB_D(it->px) : AT_DB_N,
        AT_DB_B(it->reduce_only),
        AT_DB_B(it->shadow),
        AT_DB_S(it->shadow && strcmp(code, "shadow") == 0 ? "shadow" : "rejected"),
        AT_DB_S(code),
        AT_DB_S(msg),
        AT_DB_I(now)};
    int rc = h->db_write(x->self,
                         "INSERT INTO orders (intent_id, cl_ord_id, account, origin, decision_id, "
                         "inst_id, op, side, sz, px, reduce_only, shadow, state, code, msg, "
                         "created_ms, updated_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,"
                         "$13,$14,$15,$16,$16) ON CONFLICT (intent_id) DO NOTHING",
                         p, sizeof(p) / sizeof(p[0]), NULL, NULL);
    if (rc != AT_OK) {
        h->log(x->self, AT_LOG_ERROR, "intent %s: refusal not stored (error %d)", it->intent_id,
               rc);
    }
}

static void gate_reject(executor *x, const at_ev_order_intent *it, const char *why)
{
    x->st.rejected++;
    x->h->log(x->self, AT_LOG_WARN, "intent %s (%s %s): refused: %s", it->intent_id,
              op_name(it->op), it->account, why);
    record_verdict(x, it, GATE_RULE, AT_VERDICT_REJECT, it->sz, "", why);
    char msg[400];
    snprintf(msg, sizeof(msg), "%s: %s", GATE_RULE, why);
    refuse(x, it, "risk_rejected", msg);
}

static uint32_t id_hash(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h;
}

/* The engine's own checks, before any rule. Returns the venue, or NULL after
 * refusing. */
static bool seen_before(executor *x, const char *id)
{
    uint32_t h = id_hash(id);
    uint32_t *bucket = &x->seen_bucket[h & (SEEN_BUCKETS - 1)];
    for (uint32_t k = *bucket; k; k = x->seen_link[k - 1]) {
        if (x->seen_hash[k - 1] == h && strcmp(x->seen[k - 1], id) == 0) {
            return true;
        }
    }
    uint32_t slot = (uint32_t)x->seen_next;
    if (x->nseen == SEEN_MAX) {
        /* the oldest id leaves the ring: out of its chain first */
        uint32_t *p = &x->seen_bucket[x->seen_hash[slot] & (SEEN_BUCKETS - 1)];
        while (*p != slot + 1) {
            p = &x->seen_link[*p - 1];
        }
        *p = x->seen_link[slot];
    } else {
        x->nseen++;
    }
    snprintf(x->seen[slot], AT_ID_LEN, "%s", id);
    x->seen_hash[slot] = h;
    x->seen_link[slot] = *bucket;
    *bucket = slot + 1;
    x->seen_next = (x->seen_next + 1) % SEEN_MAX;
    return false;
}

static const exec_venue *gate(executor *x, const at_ev_order_intent *it)
{
    char why[256];
    if (!it->intent_id[0]) {
        gate_reject(x, it, "the intent has no intent_id");
        return NULL;
    }
    if (seen_before(x, it->intent_id)) {
        /* Not stored again: the first one's rows stand. */
        x->st.rejected++;
        x->h->log(x->self, AT_LOG_WARN, "intent %s: refused: its id was handled already",
                  it->intent_id);
        refuse(x, it, "duplicate", "core.gate: an intent with this id was handled already");
        return NULL;
    }
    if ((unsigned)it->op > AT_INTENT_CANCEL_ALGO) {
        gate_reject(x, it, "unknown intent op");
        return NULL;
    }
    const exec_venue *v = find_venue(x, it->account);
    if (!v) {
        snprintf(why, sizeof(why),
                 is_data_only(x, it->account)
                     ? "%s follows market data only: it has no order operations"
                     : "no enabled exchange instance named '%s'",
                 it->account);
        gate_reject(x, it, why);
        return NULL;
    }
    at_venue_class vc = v->ops->venue_class(v->ctx);
    if (vc == AT_VENUE_DATA_ONLY) {
        snprintf(why, sizeof(why),
                 "%s follows market data only (no API keys, or a replay): it does not trade",
                 it->account);
        gate_reject(x, it, why);
        return NULL;
    }
    if (x->paper_mode && vc == AT_VENUE_LIVE) {
        snprintf(why, sizeof(why),
                 "mode = paper: %s is a live account, followed and never traded (orders go "
                 "only to paper venues and demo accounts; set [core] mode = live to trade it)",
                 it->account);
        gate_reject(x, it, why);
        return NULL;
    }
    if (it->op == AT_INTENT_PLACE && it->sz.m <= 0) {
        gate_reject(x, it, "a place needs a size above 0 (contracts)");
        return NULL;
    }
    if (it->op == AT_INTENT_PLACE && it->ttl_ms < 0) {
        gate_reject(x, it,
                    "ttl_ms must be 0 (the order rests) or above (cancelled that long after)");
        return NULL;
    }
    return v;
}

/* Run the chain on `cur` (resized in place). False when a rule rejected. */
static bool run_rules(executor *x, at_ev_order_intent *cur)
{
    const at_host *h = x->h;
    for (size_t i = 0; i < x->nrules; i++) {
        const exec_rule *r = &x->rules[i];
        at_risk_answer a;
        memset(&a, 0, sizeof(a));
        r->ops->check(r->ctx, cur, &a);
        a.reason[sizeof(a.reason) - 1] = '\0';
        a.rule[sizeof(a.rule) - 1] = '\0';
        at_verdict v = a.verdict;
        if ((unsigned)v > AT_VERDICT_REJECT) {
            snprintf(a.reason, sizeof(a.reason), "the rule answered an unknown verdict %d", (int)v);
            v = AT_VERDICT_REJECT;
        } else if (v == AT_VERDICT_RESIZE &&
                   (a.sz.m <= 0 || h->dec_cmp(a.sz, cur->sz) >= 0 || cur->op != AT_INTENT_PLACE)) {
            char s[AT_DEC_STRLEN], was[AT_DEC_STRLEN];
            h->dec_format(a.sz, s);
            h->dec_format(cur->sz, was);
            snprintf(a.reason, sizeof(a.reason),
                     "the rule resized to %s (from %s): a resize must shrink a place to above 0", s,
                     was);
            v = AT_VERDICT_REJECT;
        }
        if (v == AT_VERDICT_RESIZE) {
            char s[AT_DEC_STRLEN], was[AT_DEC_STRLEN];
            h->dec_format(a.sz, s);
            h->dec_format(cur->sz, was);
            h->log(x->self, AT_LOG_INFO, "intent %s: %s%s%s resized %s -> %s contracts: %s",
                   cur->intent_id, r->name, a.rule[0] ? "/" : "", a.rule, was, s, a.reason);
            cur->sz = a.sz;
            x->st.resized++;
        }
        record_verdict(x, cur, r->name, v, cur->sz, a.rule, a.reason);
        if (v == AT_VERDICT_REJECT) {
            x->st.rejected++;
            h->log(x->self, AT_LOG_WARN, "intent %s (%s %s): rejected by %s%s%s: %s",
                   cur->intent_id, op_name(cur->op), cur->account, r->name, a.rule[0] ? "/" : "",
                   a.rule, a.reason[0] ? a.reason : "no reason given");
            char msg[400];
            snprintf(msg, sizeof(msg), "%s%s%s: %s", r->name, a.rule[0] ? "/" : "", a.rule,
                     a.reason[0] ? a.reason : "no reason given");
            refuse(x, cur, "risk_rejected", msg);
            return false;
        }
    }
    return true;
}

/* clOrdId from the intent id when the publisher gave none: its letters and
 * digits, at most 31 (an attached TP/SL takes the id + one letter). */
static void derive_cl_ord_id(at_ev_order_intent *it)
{
    if (it->cl_ord_id[0]) {
        return;
    }
    size_t k = 0;
    for (const char *p = it->intent_id; *p && k < 31; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
            it->cl_ord_id[k++] = *p;
        }
    }
    it->cl_ord_id[k] = '\0';
}

/* An intent held until its recorded send time (a replay). */
typedef struct held {
    struct held *next;
    executor *x;
    const exec_venue *v;
    at_timer *timer;
    at_ev_order_intent it;
} held;

static void submit(executor *x, const exec_venue *v, at_ev_order_intent *it)
{
    at_failpoint("exec.before_submit");
    v->ops->submit(v->ctx, it);
    if (x->on_submit) {
        x->on_submit(x->on_submit_arg, it);
    }
}

static void on_held_due(void *arg)
{
    held *hd = arg;
    executor *x = hd->x;
    for (held **p = &x->held; *p; p = &(*p)->next) {
        if (*p == hd) {
            *p = hd->next;
            break;
        }
    }
    submit(x, hd->v, &hd->it);
    free(hd);
}

/* Hold `it` until submit_at says (true), or false: submit now. */
static bool hold(executor *x, const exec_venue *v, const at_ev_order_intent *it)
{
    int64_t at = x->submit_at ? x->submit_at(x->submit_at_arg, it->intent_id) : 0;
    if (at <= x->h->now_us()) {
        return false;
    }
    held *hd = calloc(1, sizeof(*hd));
    if (!hd) {
        return false;
    }
    *hd = (held){.next = x->held, .x = x, .v = v, .it = *it};
    if (!(hd->timer = x->h->timer_at(x->self, at, on_held_due, hd))) {
        free(hd);
        return false;
    }
    x->held = hd;
    return true;
}

static void on_intent(void *arg, const at_event *e)
{
    executor *x = arg;
    at_ev_order_intent cur = *(const at_ev_order_intent *)e;
    x->st.intents++;
    derive_cl_ord_id(&cur);
    const exec_venue *v = gate(x, &cur);
    if (!v || !run_rules(x, &cur)) {
        return;
    }
    /* A shadow intent is filled hypothetically by a paper venue (the
     * trader's shadow account) and never reaches any other. */
    at_venue_class vc = v->ops->venue_class(v->ctx);
    if (cur.shadow && vc != AT_VENUE_PAPER) {
        x->st.shadow++;
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "shadow: risk-checked and stored, not sent (%s is %s: shadow intents are filled "
                 "only by a paper venue)",
                 cur.account, vc == AT_VENUE_DEMO ? "a demo account" : "a live account");
        refuse(x, &cur, "shadow", msg);
        return;
    }
    if (cur.shadow) {
        x->st.shadow_paper++;
    }
    x->st.submitted++;
    if (!hold(x, v, &cur)) {
        submit(x, v, &cur);
    }
}

executor *exec_new(const at_host *h, at_instance *self, const exec_cfg *cfg)
{
    executor *x = calloc(1, sizeof(*x));
    if (!x) {
        return NULL;
    }
    x->h = h;
    x->self = self;
    x->paper_mode = cfg->paper_mode;
    x->on_submit = cfg->on_submit;
    x->on_submit_arg = cfg->on_submit_arg;
    x->submit_at = cfg->submit_at;
    x->submit_at_arg = cfg->submit_at_arg;
    x->venues = calloc(cfg->nvenues ? cfg->nvenues : 1, sizeof(*x->venues));
    x->rules = calloc(cfg->nrules ? cfg->nrules : 1, sizeof(*x->rules));
    x->data_only = calloc(cfg->ndata_only ? cfg->ndata_only : 1, sizeof(*x->data_only));
    x->seen = calloc(SEEN_MAX, sizeof(*x->seen));
    x->seen_hash = calloc(SEEN_MAX, sizeof(*x->seen_hash));
    x->seen_link = calloc(SEEN_MAX, sizeof(*x->seen_link));
    x->seen_bucket = calloc(SEEN_BUCKETS, sizeof(*x->seen_bucket));
    if (!x->venues || !x->rules || !x->data_only || !x->seen || !x->seen_hash || !x->seen_link ||
        !x->seen_bucket) {
        exec_free(x);
        return NULL;
    }
    memcpy(x->venues, cfg->venues, cfg->nvenues * sizeof(*x->venues));
    x->nvenues = cfg->nvenues;
    memcpy(x->rules, cfg->rules, cfg->nrules * sizeof(*x->rules));
    x->nrules = cfg->nrules;
    for (size_t i = 0; i < cfg->ndata_only; i++) {
        x->data_only[i] = strdup(cfg->data_only[i]);
        if (!x->data_only[i]) {
            exec_free(x);
            return NULL;
        }
        x->ndata_only++;
    }
    return x;
}

int exec_start(executor *x)
{
    const at_host *h = x->h;
    x->sub = h->subscribe(x->self, AT_EV_ORDER_INTENT, on_intent, x);
    if (x->sub <= 0) {
        return x->sub < 0 ? x->sub : AT_ENOMEM;
    }
    for (size_t i = 0; i < x->nvenues; i++) {
        at_venue_class vc = x->venues[i].ops->venue_class(x->venues[i].ctx);
        if (vc == AT_VENUE_DATA_ONLY) {
            h->log(x->self, AT_LOG_INFO, "%s: market data only (no API keys, or a replay)",
                   x->venues[i].name);
            continue;
        }
        bool traded = !x->paper_mode || vc != AT_VENUE_LIVE;
        h->log(x->self, traded ? AT_LOG_INFO : AT_LOG_WARN, "%s (%s account): %s",
               x->venues[i].name, (unsigned)vc <= AT_VENUE_DATA_ONLY ? CLASSES[vc] : "?",
               traded ? "traded" : "mode = paper: followed, never traded");
    }
    for (size_t i = 0; i < x->ndata_only; i++) {
        h->log(x->self, AT_LOG_INFO, "%s: market data only (no order operations)", x->data_only[i]);
    }
    if (x->nrules == 0) {
        h->log(x->self, AT_LOG_WARN,
               "no [risk.*] rules are enabled: intents are checked by the gate only "
               "(account, mode, size)");
    } else {
        for (size_t i = 0; i < x->nrules; i++) {
            h->log(x->self, AT_LOG_INFO, "risk rule %zu: %s", i + 1, x->rules[i].name);
        }
    }
    return AT_OK;
}

void exec_stop(executor *x)
{
    if (x && x->sub > 0) {
        x->h->unsubscribe(x->self, x->sub);
        x->sub = 0;
    }
    while (x && x->held) { /* a replay that ends before their time: never sent */
        held *hd = x->held;
        x->held = hd->next;
        x->h->timer_cancel(hd->timer);
        free(hd);
    }
}

void exec_free(executor *x)
{
    if (!x) {
        return;
    }
    for (size_t i = 0; i < x->ndata_only; i++) {
        free(x->data_only[i]);
    }
    free(x->data_only);
    free(x->seen);
    free(x->seen_hash);
    free(x->seen_link);
    free(x->seen_bucket);
    free(x->venues);
    free(x->rules);
    free(x);
}

void exec_get_stats(const executor *x, exec_stats *out)
{
    *out = x->st;
}

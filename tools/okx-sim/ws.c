/* WebSocket sessions: /ws/v5/public, /ws/v5/private, /ws/v5/business.
 * Subscriptions with OKX's acks and errors, text ping/pong, the 30-second
 * idle close, login, trading ops, and the pushes of every channel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"

typedef enum { WS_PUBLIC, WS_PRIVATE, WS_BUSINESS } ws_kind;

typedef enum { CH_INST, CH_CANDLE, CH_PRIVATE } ch_class;

/* A subscription is told apart by the fields OKX keys it on (okx-v5.md
 * §3.3): a public or business channel by channel + instId, a private one by
 * channel + instType + instFamily + instId (+ ccy for account). */
typedef struct ws_sub {
    ch_class cls;
    char channel[32];
    char inst_type[12];
    char inst_family[40];
    char inst_id[40];
    char ccy[16];
    sim_inst *inst; /* market channels */
    json_t *arg;    /* the fields OKX knows, as the client gave them; echoed in pushes */
    int64_t last_seq;
    sim_book *sent; /* books: the state the client holds */
    int64_t last_trade_id;
    int64_t last_push_ms;
    char last_val[64]; /* mark price, candle row: push on change */
    struct ws_sub *next;
} ws_sub;

struct ws_sess {
    sim_server *s;
    sh_conn *c;
    ws_kind kind;
    sim_acct *acct; /* after login */
    char conn_id[12];
    ws_sub *subs;
    int nsubs;
    int64_t last_rx_ms, last_tx_ms;
    ws_sess *prev, *next;
};

/* ------------------------------------------------------------ sending */

static void send_json(ws_sess *w, json_t *msg)
{
    char *txt = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!txt) {
        return;
    }
    if (sh_ws_send(w->c, txt, strlen(txt)) == 0) {
        w->last_tx_ms = server_now_ms(w->s);
        w->s->ws_messages_out++;
    }
    free(txt);
}

static void send_event(ws_sess *w, const char *id, const char *event, const char *code,
                       const char *msg, json_t *arg)
{
    json_t *m = json_object();
    if (id && *id) {
        json_object_set_new(m, "id", json_string(id));
    }
    json_object_set_new(m, "event", json_string(event));
    if (arg) {
        json_object_set(m, "arg", arg);
    }
    if (code) {
        json_object_set_new(m, "code", json_string(code));
        json_object_set_new(m, "msg", json_string(msg ? msg : ""));
    }
    json_object_set_new(m, "connId", json_string(w->conn_id));
    send_json(w, m);
}

/* {"arg": arg (+uid), "data": [data]} plus extra members. */
static json_t *push_msg(ws_sess *w, const ws_sub *sub, json_t *data)
{
    json_t *arg = json_deep_copy(sub->arg);
    if (w->acct) {
        json_object_set_new(arg, "uid", json_string(w->acct->uid));
    }
    return json_pack("{s:o, s:o}", "arg", arg, "data", data);
}

/* ------------------------------------------------------------ books */

/* CRC-32 (zlib's polynomial), bitwise: 50 short strings per push. */
static uint32_t crc32_update(uint32_t crc, const char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= (unsigned char)*p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

/* OKX's order-book checksum: the top 25 levels interleaved bid:ask as
 * "px:sz", joined by ':'; a signed 32-bit CRC-32 of that text. */
int32_t ws_book_checksum(const sim_book *b)
{
    uint32_t crc = 0;
    bool first = true;
    char px[AT_DEC_STRLEN], sz[AT_DEC_STRLEN], part[2 * AT_DEC_STRLEN + 4];
    for (int i = 0; i < 25; i++) {
        const sim_level *side[2] = {i < b->nbids ? &b->bids[i] : NULL,
                                    i < b->nasks ? &b->asks[i] : NULL};
        for (int k = 0; k < 2; k++) {
            if (!side[k]) {
                continue;
            }
            int n = snprintf(part, sizeof(part), "%s%s:%s", first ? "" : ":",
                             sim_dec_str(side[k]->px, px), sim_dec_str(side[k]->sz, sz));
            crc = crc32_update(crc, part, (size_t)n);
            first = false;
        }
    }
    return (int32_t)crc;
}

static json_t *level_json(const sim_level *l)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", l->orders);
    return json_pack("[o, o, s, s]", sim_dec_json(l->px), sim_dec_json(l->sz), "0", buf);
}

static json_t *levels_json(const sim_level *lv, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(a, level_json(&lv[i]));
    }
    return a;
}

/* Levels of `now` that differ from `was` (new or resized), plus removed ones
 * with size "0". Both sides are sorted best first; desc says bids. */
static json_t *levels_diff(const sim_level *was, int nw, const sim_level *now, int nn, bool desc)
{
    json_t *a = json_array();
    int i = 0, j = 0;
    while (i < nw || j < nn) {
        int c;
        if (i == nw) {
            c = 1;
        } else if (j == nn) {
            c = -1;
        } else {
            c = at_dec_cmp(was[i].px, now[j].px);
            if (desc) {
                c = -c;
            }
        }
        if (c < 0) { /* only in was: removed */
            json_array_append_new(
                a, json_pack("[o, s, s, s]", sim_dec_json(was[i].px), "0", "0", "0"));
            i++;
        } else if (c > 0) { /* only in now: added */
            json_array_append_new(a, level_json(&now[j]));
            j++;
        } else {
            if (at_dec_cmp(was[i].sz, now[j].sz) != 0 || was[i].orders != now[j].orders) {
                json_array_append_new(a, level_json(&now[j]));
            }
            i++;
            j++;
        }
    }
    return a;
}

static void push_books(ws_sess *w, ws_sub *sub, bool snapshot)
{
    const sim_book *b = &sub->inst->book;
    json_t *d = json_object();
    if (snapshot || !sub->sent) {
        json_object_set_new(d, "asks", levels_json(b->asks, b->nasks));
        json_object_set_new(d, "bids", levels_json(b->bids, b->nbids));
    } else {
        json_object_set_new(
            d, "asks", levels_diff(sub->sent->asks, sub->sent->nasks, b->asks, b->nasks, false));
        json_object_set_new(
            d, "bids", levels_diff(sub->sent->bids, sub->sent->nbids, b->bids, b->nbids, true));
    }
    json_object_set_new(d, "ts", sim_ms_json(b->ts_ms));
    json_object_set_new(d, "checksum", json_integer(ws_book_checksum(b)));
    json_object_set_new(d, "prevSeqId", json_integer(snapshot ? -1 : sub->last_seq));
    json_object_set_new(d, "seqId", json_integer(b->seq_id));
    json_t *m = push_msg(w, sub, json_pack("[o]", d));
    json_object_set_new(m, "action", json_string(snapshot ? "snapshot" : "update"));
    send_json(w, m);
    if (!sub->sent) {
        sub->sent = malloc(sizeof(*sub->sent));
    }
    if (sub->sent) {
        memcpy(sub->sent, b, sizeof(*b));
    }
    sub->last_seq = b->seq_id;
}

/* ------------------------------------------------------------ channels */

static const struct channel {
    const char *name;
    ws_kind where;
    ch_class cls;
} CHANNELS[] = {
    {"tickers", WS_PUBLIC, CH_INST},
    {"books", WS_PUBLIC, CH_INST},
    {"books5", WS_PUBLIC, CH_INST},
    {"bbo-tbt", WS_PUBLIC, CH_INST},
    {"trades", WS_PUBLIC, CH_INST},
    {"funding-rate", WS_PUBLIC, CH_INST},
    {"mark-price", WS_PUBLIC, CH_INST},
    {"account", WS_PRIVATE, CH_PRIVATE},
    {"positions", WS_PRIVATE, CH_PRIVATE},
    {"orders", WS_PRIVATE, CH_PRIVATE},
    {"balance_and_position", WS_PRIVATE, CH_PRIVATE},
    /* OKX moved it to /business (2023-06-20); it needs a login there. */
    {"orders-algo", WS_BUSINESS, CH_PRIVATE},
};

static const struct channel *channel_find(const char *name)
{
    static const struct channel candle = {"candle", WS_BUSINESS, CH_CANDLE};
    for (size_t i = 0; i < sizeof(CHANNELS) / sizeof(CHANNELS[0]); i++) {
        if (strcmp(CHANNELS[i].name, name) == 0) {
            return &CHANNELS[i];
        }
    }
    if (strncmp(name, "candle", 6) == 0 && market_bar_ms(name + 6) > 0) {
        return &candle;
    }
    return NULL;
}

static bool type_matches(const ws_sub *sub, const char *inst_id)
{
    bool type_ok = !sub->inst_type[0] || strcmp(sub->inst_type, "ANY") == 0 ||
                   strcmp(sub->inst_type, "SWAP") == 0;
    return type_ok && (!sub->inst_id[0] || !inst_id || strcmp(sub->inst_id, inst_id) == 0);
}

/* First push after a subscription. */
static void push_initial(ws_sess *w, ws_sub *sub)
{
    sim_exchange *x = &w->s->x;
    const char *ch = sub->channel;
    if (strcmp(ch, "books") == 0) {
        push_books(w, sub, true);
    } else if (strcmp(ch, "account") == 0 || strcmp(ch, "positions") == 0) {
        json_t *data = strcmp(ch, "account") == 0 ? json_pack("[o]", acct_balance_json(x, w->acct))
                                                  : acct_positions_json(x, w->acct, NULL);
        json_t *m = push_msg(w, sub, data);
        json_object_set_new(m, "eventType", json_string("snapshot"));
        json_object_set_new(m, "curPage", json_integer(1));
        json_object_set_new(m, "lastPage", json_true());
        send_json(w, m);
    } else if (strcmp(ch, "funding-rate") == 0) {
        send_json(w, push_msg(w, sub, json_pack("[o]", market_funding_json(sub->inst))));
        sub->last_push_ms = server_now_ms(w->s);
    } else if (strcmp(ch, "trades") == 0) {
        /* Only trades after the subscription. */
        const sim_inst *in = sub->inst;
        sub->last_trade_id = in->ntrades ? in->trades[in->trade_head].id : 0;
    } else {
        sub->last_seq = -1; /* the next tick pushes */
    }
}

/* The arg fields OKX reads. Any other field is ignored, as OKX ignores it: it
 * neither makes a second subscription (an arg with an extra field is the
 * same subscription, acknowledged again) nor is echoed in pushes. */
static const char *const ARG_FIELDS[] = {"channel", "instType", "instFamily",
                                         "instId",  "ccy",      "extraParams"};

static json_t *arg_known(json_t *arg)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(arg, k, v)
    {
        for (size_t i = 0; i < sizeof(ARG_FIELDS) / sizeof(ARG_FIELDS[0]); i++) {
            if (strcmp(k, ARG_FIELDS[i]) == 0) {
                json_object_set(out, k, v);
            }
        }
    }
    return out;
}

/* The key fields of an arg. */
typedef struct sub_key {
    const char *channel, *inst_type, *inst_family, *inst_id, *ccy;
} sub_key;

static sub_key key_of(json_t *arg)
{
    return (sub_key){sim_json_str(arg, "channel"), sim_json_str(arg, "instType"),
                     sim_json_str(arg, "instFamily"), sim_json_str(arg, "instId"),
                     sim_json_str(arg, "ccy")};
}

#define SUB_FIELD_SIZE(m) sizeof(((ws_sub *)0)->m)

/* Longer values name nothing OKX has; refused rather than cut (a cut value
 * could match another subscription's). */
static bool key_fits(const sub_key *k)
{
    return strlen(k->channel) < SUB_FIELD_SIZE(channel) &&
           strlen(k->inst_type) < SUB_FIELD_SIZE(inst_type) &&
           strlen(k->inst_family) < SUB_FIELD_SIZE(inst_family) &&
           strlen(k->inst_id) < SUB_FIELD_SIZE(inst_id) && strlen(k->ccy) < SUB_FIELD_SIZE(ccy);
}

static bool key_matches(const ws_sub *s, const sub_key *k)
{
    if (strcmp(s->channel, k->channel) != 0 || strcmp(s->inst_id, k->inst_id) != 0) {
        return false;
    }
    return s->cls != CH_PRIVATE ||
           (strcmp(s->inst_type, k->inst_type) == 0 &&
            strcmp(s->inst_family, k->inst_family) == 0 && strcmp(s->ccy, k->ccy) == 0);
}

static void subscribe(ws_sess *w, const char *id, json_t *arg, const char *raw)
{
    sub_key k = key_of(arg);
    const char *name = k.channel, *inst_id = k.inst_id, *inst_type = k.inst_type;
    const struct channel *ch = channel_find(name);
    char msg[256];
    if (!*name) {
        snprintf(msg, sizeof(msg), "Invalid request: %s", raw);
        send_event(w, id, "error", "60012", msg, NULL);
        return;
    }
    if (!ch || ch->where != w->kind || !key_fits(&k)) {
        snprintf(msg, sizeof(msg), "Wrong URL or channel:%s,instId:%s doesn't exist.", name,
                 inst_id);
        send_event(w, id, "error", "60018", msg, NULL);
        return;
    }
    sim_inst *in = NULL;
    if (ch->cls != CH_PRIVATE) {
        if (!(in = market_find(w->s->market, inst_id))) {
            snprintf(msg, sizeof(msg), "Wrong URL or channel:%s,instId:%s doesn't exist.", name,
                     inst_id);
            send_event(w, id, "error", "60018", msg, NULL);
            return;
        }
    } else {
        if (!w->acct) {
            send_event(w, id, "error", "60011", "Please log in", NULL);
            return;
        }
        bool needs_type = strcmp(name, "orders") == 0 || strcmp(name, "positions") == 0 ||
                          strcmp(name, "orders-algo") == 0;
        if (needs_type && !*inst_type) {
            snprintf(msg, sizeof(msg), "Invalid request: %s", raw);
            send_event(w, id, "error", "60012", msg, NULL);
            return;
        }
    }
    for (ws_sub *s = w->subs; s; s = s->next) {
        if (key_matches(s, &k)) {
            send_event(w, id, "subscribe", NULL, NULL, arg); /* already: ack again */
            return;
        }
    }
    if (w->nsubs >= w->s->max_subs) {
        /* OKX documents no count per connection (only 480 subscribe requests
         * an hour); okx-sim caps it so one connection cannot make every tick
         * cost without bound, and answers with OKX's code for a client that
         * asks too much. */
        snprintf(msg, sizeof(msg),
                 "Requests too frequent: at most %d subscriptions per connection "
                 "(channel:%s,instId:%s not subscribed)",
                 w->s->max_subs, name, inst_id);
        send_event(w, id, "error", "60014", msg, NULL);
        return;
    }
    ws_sub *sub = calloc(1, sizeof(*sub));
    json_t *known = sub ? arg_known(arg) : NULL;
    if (!known) {
        free(sub);
        send_event(w, id, "error", "60012", "Invalid request: out of memory", NULL);
        return;
    }
    sub->cls = ch->cls;
    snprintf(sub->channel, sizeof(sub->channel), "%s", name);
    snprintf(sub->inst_type, sizeof(sub->inst_type), "%s", inst_type);
    snprintf(sub->inst_family, sizeof(sub->inst_family), "%s", k.inst_family);
    snprintf(sub->inst_id, sizeof(sub->inst_id), "%s", inst_id);
    snprintf(sub->ccy, sizeof(sub->ccy), "%s", k.ccy);
    sub->inst = in;
    sub->arg = known;
    sub->last_seq = -1;
    sub->next = w->subs;
    w->subs = sub;
    w->nsubs++;
    send_event(w, id, "subscribe", NULL, NULL, arg);
    push_initial(w, sub);
}

static void sub_free(ws_sub *s)
{
    json_decref(s->arg);
    free(s->sent);
    free(s);
}

static void unsubscribe(ws_sess *w, const char *id, json_t *arg)
{
    sub_key k = key_of(arg);
    for (ws_sub **pp = &w->subs; *pp; pp = &(*pp)->next) {
        if (key_matches(*pp, &k)) {
            ws_sub *s = *pp;
            *pp = s->next;
            sub_free(s);
            w->nsubs--;
            break;
        }
    }
    send_event(w, id, "unsubscribe", NULL, NULL, arg);
}

/* ------------------------------------------------------------ ops */

typedef void (*op_fn)(sim_exchange *x, sim_acct *a, const sim_call *c, sim_reply *r);

static const struct {
    const char *op;
    op_fn fn;
    bool batch;
} OPS[] = {
    {"order", order_place, false},         {"batch-orders", order_batch, true},
    {"cancel-order", order_cancel, false}, {"batch-cancel-orders", order_cancel_batch, true},
    {"amend-order", order_amend, false},
};

/* instIdCode (newer clients) stands for instId. */
static void resolve_code(sim_market *m, json_t *arg)
{
    json_t *code = json_object_get(arg, "instIdCode");
    if (json_is_integer(code)) {
        sim_inst *in = market_find_code(m, json_integer_value(code));
        json_object_set_new(arg, "instId", json_string(in ? in->inst_id : ""));
    }
}

static void trade_op(ws_sess *w, const char *id, const char *op, json_t *args)
{
    int64_t in_us = at_wall_us();
    op_fn fn = NULL;
    bool batch = false;
    for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++) {
        if (strcmp(OPS[i].op, op) == 0) {
            fn = OPS[i].fn;
            batch = OPS[i].batch;
        }
    }
    json_t *m = json_object();
    json_object_set_new(m, "id", json_string(id));
    json_object_set_new(m, "op", json_string(op));
    sim_reply r = {0};
    if (!w->acct) {
        sim_reply_err(&r, 0, "60011", "Please log in");
    } else if (!*id) {
        sim_reply_err(&r, 0, "60013", "Invalid args");
    } else if (!json_is_array(args) || json_array_size(args) == 0 ||
               (!batch && json_array_size(args) != 1)) {
        sim_reply_err(&r, 0, "60013", "Invalid args");
    } else {
        size_t i;
        json_t *a;
        json_array_foreach(args, i, a)
        {
            resolve_code(w->s->market, a);
        }
        sim_call c = {.method = "POST", .body = batch ? args : json_array_get(args, 0), .ws = true};
        w->s->x.now_ms = server_now_ms(w->s);
        fn(&w->s->x, w->acct, &c, &r);
    }
    json_object_set_new(m, "data", r.data ? r.data : json_array());
    json_object_set_new(m, "code", json_string(r.code[0] ? r.code : "0"));
    json_object_set_new(m, "msg", json_string(r.msg));
    char b[24];
    snprintf(b, sizeof(b), "%lld", (long long)in_us);
    json_object_set_new(m, "inTime", json_string(b));
    snprintf(b, sizeof(b), "%lld", (long long)at_wall_us());
    json_object_set_new(m, "outTime", json_string(b));
    send_json(w, m);
}

static void login(ws_sess *w, const char *id, json_t *args)
{
    const char *code = "60009", *msg = "Login failed.";
    sim_acct *a = NULL;
    if (w->kind == WS_PUBLIC) {
        code = "60018";
        msg = "Wrong URL or channel:login doesn't exist.";
    } else if (json_is_array(args) && json_array_size(args) == 1) {
        a = auth_ws_login(&w->s->x, json_array_get(args, 0), server_now_ms(w->s), &code, &msg);
    }
    if (!a) {
        send_event(w, id, "error", code, msg, NULL);
        return;
    }
    w->acct = a;
    send_event(w, id, "login", "0", "", NULL);
}

/* ------------------------------------------------------------ sessions */

static ws_sess *sess_of(sh_conn *c)
{
    return sh_conn_user(c);
}

bool ws_upgrade(sim_server *s, sh_conn *c, const sh_req *r)
{
    ws_kind kind;
    if (strcmp(r->path, "/ws/v5/public") == 0) {
        kind = WS_PUBLIC;
    } else if (strcmp(r->path, "/ws/v5/private") == 0) {
        kind = WS_PRIVATE;
    } else if (strcmp(r->path, "/ws/v5/business") == 0) {
        kind = WS_BUSINESS;
    } else {
        return false;
    }
    ws_sess *w = calloc(1, sizeof(*w));
    if (!w) {
        return false;
    }
    w->s = s;
    w->c = c;
    w->kind = kind;
    snprintf(w->conn_id, sizeof(w->conn_id), "%08llx",
             (unsigned long long)(sim_rand(&s->rng) & 0xffffffffu));
    w->last_rx_ms = w->last_tx_ms = server_now_ms(s);
    w->next = s->sessions;
    if (s->sessions) {
        s->sessions->prev = w;
    }
    s->sessions = w;
    sh_conn_set_user(c, w);
    return true;
}

void ws_message(sim_server *s, sh_conn *c, const char *data, size_t len)
{
    ws_sess *w = sess_of(c);
    if (!w) {
        return;
    }
    w->last_rx_ms = server_now_ms(s);
    if (len == 4 && memcmp(data, "ping", 4) == 0) {
        sh_ws_send(c, "pong", 4);
        return;
    }
    json_error_t je;
    json_t *m = json_loadb(data, len, 0, &je);
    const char *op = sim_json_str(m, "op");
    const char *id = sim_json_str(m, "id");
    json_t *args = json_object_get(m, "args");
    char raw[160];
    snprintf(raw, sizeof(raw), "%.*s", (int)(len < 150 ? len : 150), data);
    if (!json_is_object(m) || !*op) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Invalid request: %s", raw);
        send_event(w, NULL, "error", "60012", msg, NULL);
    } else if (strcmp(op, "subscribe") == 0 || strcmp(op, "unsubscribe") == 0) {
        if (!json_is_array(args) || json_array_size(args) == 0) {
            char msg[200];
            snprintf(msg, sizeof(msg), "Invalid request: %s", raw);
            send_event(w, id, "error", "60012", msg, NULL);
        } else {
            size_t i;
            json_t *a;
            json_array_foreach(args, i, a)
            {
                if (op[0] == 's') {
                    subscribe(w, id, a, raw);
                } else {
                    unsubscribe(w, id, a);
                }
            }
        }
    } else if (strcmp(op, "login") == 0) {
        login(w, id, args);
    } else if (w->kind != WS_PUBLIC &&
               (strcmp(op, "order") == 0 || strcmp(op, "batch-orders") == 0 ||
                strcmp(op, "cancel-order") == 0 || strcmp(op, "batch-cancel-orders") == 0 ||
                strcmp(op, "amend-order") == 0)) {
        trade_op(w, id, op, args);
    } else {
        char msg[200];
        snprintf(msg, sizeof(msg), "Invalid op: op :%s", op);
        send_event(w, id, "error", "60019", msg, NULL);
    }
    json_decref(m);
}

static void sess_free(sim_server *s, ws_sess *w)
{
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        s->sessions = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    }
    while (w->subs) {
        ws_sub *n = w->subs->next;
        sub_free(w->subs);
        w->subs = n;
    }
    free(w);
}

void ws_closed(sim_server *s, sh_conn *c)
{
    ws_sess *w = sess_of(c);
    if (w) {
        sh_conn_set_user(c, NULL);
        sess_free(s, w);
    }
}

void ws_drop_all(sim_server *s)
{
    while (s->sessions) {
        sh_drop(s->sessions->c); /* calls ws_closed */
    }
}

void ws_free_all(sim_server *s)
{
    ws_drop_all(s);
}

/* ------------------------------------------------------------ ticking */

static void tick_sub(ws_sess *w, ws_sub *sub, int64_t now)
{
    sim_inst *in = sub->inst;
    const char *ch = sub->channel;
    if (!in) {
        return;
    }
    if (strcmp(ch, "books") == 0) {
        if (in->book.seq_id != sub->last_seq) {
            push_books(w, sub, false);
        }
    } else if (strcmp(ch, "books5") == 0 || strcmp(ch, "bbo-tbt") == 0 ||
               strcmp(ch, "tickers") == 0) {
        if (in->book.seq_id == sub->last_seq) {
            return;
        }
        sub->last_seq = in->book.seq_id;
        json_t *d = ch[0] == 't'   ? market_ticker_json(in)
                    : ch[1] == 'o' ? market_book_json(in, 5, true)
                                   : market_book_json(in, 1, false);
        send_json(w, push_msg(w, sub, json_pack("[o]", d)));
    } else if (strcmp(ch, "trades") == 0) {
        json_t *data = json_array();
        for (int k = in->ntrades - 1; k >= 0; k--) { /* oldest first */
            const sim_trade *t =
                &in->trades[(in->trade_head - k + SIM_TRADES_KEEP) % SIM_TRADES_KEEP];
            if (t->id > sub->last_trade_id) {
                json_array_append_new(data, market_trade_json(in, t));
                sub->last_trade_id = t->id;
            }
        }
        if (json_array_size(data)) {
            send_json(w, push_msg(w, sub, data));
        } else {
            json_decref(data);
        }
    } else if (strcmp(ch, "mark-price") == 0) {
        /* OKX: every 200 ms on change, every 10 s otherwise. */
        char v[AT_DEC_STRLEN];
        sim_dec_str(in->mark, v);
        bool changed = strcmp(v, sub->last_val) != 0;
        if ((changed && now - sub->last_push_ms >= 200) || now - sub->last_push_ms >= 10000) {
            snprintf(sub->last_val, sizeof(sub->last_val), "%s", v);
            sub->last_push_ms = now;
            send_json(w, push_msg(w, sub, json_pack("[o]", market_mark_json(in))));
        }
    } else if (strcmp(ch, "funding-rate") == 0) {
        if (now - sub->last_push_ms >= 30000) {
            sub->last_push_ms = now;
            send_json(w, push_msg(w, sub, json_pack("[o]", market_funding_json(in))));
        }
    } else if (strncmp(ch, "candle", 6) == 0) {
        /* The current candle, at most every 500 ms, on change. */
        if (now - sub->last_push_ms < 500) {
            return;
        }
        json_t *row = market_candle_row(in, ch + 6, 0);
        char *txt = row ? json_dumps(row, JSON_COMPACT) : NULL;
        if (txt && strncmp(txt, sub->last_val, sizeof(sub->last_val) - 1) != 0) {
            snprintf(sub->last_val, sizeof(sub->last_val), "%s", txt);
            sub->last_push_ms = now;
            send_json(w, push_msg(w, sub, json_pack("[O]", row)));
        }
        free(txt);
        json_decref(row);
    }
}

void ws_tick(sim_server *s, int64_t now)
{
    for (ws_sess *w = s->sessions, *next; w; w = next) {
        next = w->next;
        for (ws_sub *sub = w->subs; sub; sub = sub->next) {
            tick_sub(w, sub, now);
        }
        int64_t last = w->last_rx_ms > w->last_tx_ms ? w->last_rx_ms : w->last_tx_ms;
        if (now - last > s->ws_idle_ms) {
            sh_ws_close(w->c, 4004, "No data received in 30s.");
        }
    }
}

/* ------------------------------------------------------------ private pushes */

static void push_private(sim_server *s, sim_acct *a, const char *channel, const char *inst_id,
                         json_t *data, const char *event_type)
{
    if (s->faults.ws_mute) {
        return;
    }
    for (ws_sess *w = s->sessions; w; w = w->next) {
        if (w->acct != a) {
            continue;
        }
        for (ws_sub *sub = w->subs; sub; sub = sub->next) {
            if (strcmp(sub->channel, channel) != 0 || !type_matches(sub, inst_id)) {
                continue;
            }
            json_t *m = push_msg(w, sub, json_deep_copy(data));
            if (event_type) {
                json_object_set_new(m, "eventType", json_string(event_type));
                json_object_set_new(m, "curPage", json_integer(1));
                json_object_set_new(m, "lastPage", json_true());
            }
            send_json(w, m);
        }
    }
}

void ws_push_order(void *arg, sim_acct *a, const sim_order *o, json_t *data)
{
    json_t *list = json_pack("[O]", data);
    push_private(arg, a, "orders", o && o->inst ? o->inst->inst_id : NULL, list, NULL);
    json_decref(list);
}

void ws_push_position(void *arg, sim_acct *a, json_t *data)
{
    sim_server *s = arg;
    push_private(s, a, "positions", NULL, data, "event_update");
    /* balance_and_position: cash and positions in one push. */
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)s->x.now_ms);
    /* cashBal exactly as GET account/balance shows it (cash + isolated margin). */
    json_t *b = acct_balance_json(&s->x, a);
    json_t *cash = json_object_get(json_array_get(json_object_get(b, "details"), 0), "cashBal");
    json_t *bal = json_pack("[{s:s, s:o, s:s}]", "ccy", "USDT", "cashBal",
                            cash ? json_incref(cash) : json_string("0"), "uTime", ms);
    json_decref(b);
    json_t *bp = json_pack("[{s:s, s:s, s:o, s:O, s:[]}]", "pTime", ms, "eventType", "filled",
                           "balData", bal, "posData", data, "trades");
    push_private(s, a, "balance_and_position", NULL, bp, NULL);
    json_decref(bp);
}

void ws_push_account(void *arg, sim_acct *a, json_t *data)
{
    json_t *list = json_pack("[O]", data);
    push_private(arg, a, "account", NULL, list, "event_update");
    json_decref(list);
}

void ws_push_algo(void *arg, sim_acct *a, json_t *data)
{
    json_t *list = json_pack("[O]", data);
    const char *inst_id = json_string_value(json_object_get(data, "instId"));
    push_private(arg, a, "orders-algo", inst_id, list, NULL);
    json_decref(list);
}
